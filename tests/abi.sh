#!/usr/bin/env bash
# ABI discipline: libdpcore.so exports exactly the header's functions, and
# the header's ABI matches the committed baseline abi/libdpcore.abi
# (scripts/abi.py). Also checks that the check itself catches an
# incompatible change and an unrecorded addition, on altered copies of the
# header.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }

if python3 scripts/abi.py symbols target/release/libdpcore.so; then ok "exported symbols = header functions"
else bad "exported symbols differ from the header's functions"; fi
if python3 scripts/abi.py check; then ok "abidiff against abi/libdpcore.abi"
else bad "abidiff against abi/libdpcore.abi"; fi

# An incompatible change: a parameter's type.
sed 's/dpc_status dpc_array_copy(dpc_array src, dpc_array dst);/dpc_status dpc_array_copy(dpc_array src, int64_t dst);/' \
  include/dpcore.h > "$tmp/dpcore.h"
if grep -q "int64_t dst" "$tmp/dpcore.h" && ! out=$(DPCORE_ABI_HEADER="$tmp/dpcore.h" python3 scripts/abi.py check 2>&1) &&
   grep -q "INCOMPATIBLE" <<<"$out"; then ok "a changed parameter type is an incompatible change"
else bad "a changed parameter type was not caught: $out"; fi
# A struct layout change.
sed '0,/  uint8_t bits;/s//  uint16_t bits;/' include/dpcore.h > "$tmp/dpcore.h"
if ! out=$(DPCORE_ABI_HEADER="$tmp/dpcore.h" python3 scripts/abi.py check 2>&1) && grep -q "INCOMPATIBLE" <<<"$out"; then
  ok "a changed struct field is an incompatible change"
else bad "a changed struct field was not caught: $out"; fi
# A compatible addition not recorded in the baseline.
{ cat include/dpcore.h; echo 'dpc_status dpc_new_function_for_test(int32_t x);'; } > "$tmp/dpcore.h"
if ! out=$(DPCORE_ABI_HEADER="$tmp/dpcore.h" python3 scripts/abi.py check 2>&1) && grep -q "was not updated" <<<"$out" &&
   ! grep -q "INCOMPATIBLE" <<<"$out"; then ok "an unrecorded addition asks for the baseline update"
else bad "an unrecorded addition was not reported as such: $out"; fi
# A new enumerator: compatible, but the baseline must record it.
sed 's/  DPC_ERROR_INTERNAL = 999,/  DPC_ERROR_INTERNAL = 999,\n  DPC_ERROR_NEW_FOR_TEST = 1000,/' include/dpcore.h > "$tmp/dpcore.h"
if grep -q NEW_FOR_TEST "$tmp/dpcore.h" && ! out=$(DPCORE_ABI_HEADER="$tmp/dpcore.h" python3 scripts/abi.py check 2>&1) &&
   grep -q "was not updated" <<<"$out"; then ok "a new enumerator asks for the baseline update"
else bad "a new enumerator was not reported: $out"; fi
# A changed enumerator value: incompatible.
sed 's/  DPC_ERROR_INTERNAL = 999,/  DPC_ERROR_INTERNAL = 998,/' include/dpcore.h > "$tmp/dpcore.h"
if ! out=$(DPCORE_ABI_HEADER="$tmp/dpcore.h" python3 scripts/abi.py check 2>&1) && grep -q "INCOMPATIBLE" <<<"$out"; then
  ok "a renumbered enumerator is an incompatible change"
else bad "a renumbered enumerator was not caught: $out"; fi
echo "abi tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
