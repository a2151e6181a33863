#!/usr/bin/env bash
# dpcore-info and the plugin loader as a user meets them:
#   - the listing, --verbose, --json (valid JSON), --help, a bad option;
#   - ONEAPI_DEVICE_SELECTOR restricts what dpcore sees;
#   - with the plugin missing: 0 devices, and --diagnose says what is missing;
#   - a file that is not a library, and a plugin of another interface
#     version, are refused with the reason.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
info="$root/target/release/dpcore-info"
py="${DPCORE_VENV:-$root/.venv}/bin/python"
n=0
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { n=$((n + 1)); echo "ok: $*"; }

# Every device dpcore finds is listed with its DLPack id (its index); none is
# a failure. The OpenCL CPU device is on every machine (scripts/setup.sh
# installs Intel's OpenCL CPU runtime), so it must be among them.
"$info" --json > "$tmp/devices.json"
mapfile -t devs < <("$py" -c 'import json, sys
for d in json.load(open(sys.argv[1]))["devices"]: print(d["index"], d["filter_string"])' "$tmp/devices.json")
((${#devs[@]})) || fail "dpcore-info finds no device: $("$info" --diagnose)"
out=$("$info")
for d in "${devs[@]}"; do
  i=${d%% *} f=${d#* }
  grep -q "^\[$i\] $f .*kDLOneAPI:$i" <<<"$out" || fail "listing lacks [$i] $f: $out"
done
grep -q '^\[[0-9]*\] opencl:cpu:0 .*kDLOneAPI:[0-9]' <<<"$out" || fail "listing lacks opencl:cpu:0: $out"
pass "dpcore-info lists every device (${#devs[@]}: ${devs[*]}) with its DLPack id"

out=$("$info" --verbose)
for f in backend device_type vendor driver_version max_compute_units global_mem_size local_mem_size \
         max_mem_alloc_size max_work_group_size max_work_item_sizes sub_group_sizes aspects uuid partition; do
  grep -q "^    $f " <<<"$out" || fail "--verbose lacks $f: $out"
done
pass "dpcore-info --verbose prints every info field"

"$info" --json > "$tmp/devices.json"
"$py" - "$tmp/devices.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["backend"]["loaded"] is True, d
assert d["devices"], "no devices"
assert "opencl:cpu:0" in [dev["filter_string"] for dev in d["devices"]], d["devices"]
for i, dev in enumerate(d["devices"]):
    assert dev["index"] == i, dev
    assert dev["dlpack_device"] == [14, i], dev
    assert dev["max_compute_units"] > 0 and dev["sub_group_sizes"], dev
    plat = d["platforms"][dev["platform_index"]]
    assert plat["name"] == dev["platform"] and plat["devices"] >= 1, (plat, dev)
PY
pass "dpcore-info --json is valid JSON with every device"

grep -q -- --diagnose <<<"$("$info" --help)" || fail "--help"
if "$info" --bogus 2>/dev/null; then fail "an unknown option must fail"; fi
pass "dpcore-info --help, and an unknown option exits non-zero"

out=$(ONEAPI_DEVICE_SELECTOR='level_zero:*' "$info")
grep -q "no devices" <<<"$out" || fail "ONEAPI_DEVICE_SELECTOR=level_zero:* still shows: $out"
out=$(ONEAPI_DEVICE_SELECTOR='opencl:cpu' "$info")
grep -q "opencl:cpu:0" <<<"$out" || fail "ONEAPI_DEVICE_SELECTOR=opencl:cpu hides the CPU: $out"
pass "ONEAPI_DEVICE_SELECTOR restricts the devices"

# A copy of the program without the plugin beside it.
cp "$info" "$tmp/"
out=$(env -u DPCORE_SYCL_PLUGIN "$tmp/dpcore-info" --diagnose)
echo "$out" | sed 's/^/    /'
grep -q "$tmp/libdpcore_sycl.so: no such file" <<<"$out" || fail "diagnose does not name the path tried"
grep -q "devices: 0" <<<"$out" || fail "diagnose does not report 0 devices"
grep -q "plugin libdpcore_sycl.so is missing" <<<"$out" || fail "diagnose does not explain the missing plugin"
list=$(env -u DPCORE_SYCL_PLUGIN "$tmp/dpcore-info")
grep -q "no devices" <<<"$list" || fail "dpcore-info without plugin: $list"
pass "without its plugin dpcore reports 0 devices and --diagnose says why"

echo "not a library" > "$tmp/bogus.so"
out=$(DPCORE_SYCL_PLUGIN="$tmp/bogus.so" "$tmp/dpcore-info" --diagnose)
# Refused before dlopen by the core's ELF reader (src/runtime.rs), or by
# dlopen with dlerror's text.
grep -Eq "bogus.so: (dlopen failed: .*bogus.so|not a 64-bit little-endian ELF shared object)" <<<"$out" ||
  fail "bad plugin not reported: $out"
pass "a file that is not a library is refused with the reason"

cat > "$tmp/future.c" <<'C'
#include <stdint.h>
uint32_t dpcore_backend_abi_version(void) { return 999; }
int32_t dpcore_backend_init(const void *host, const void **out) { (void)host; *out = 0; return 999; }
C
gcc -shared -fPIC -o "$tmp/libfuture.so" "$tmp/future.c"
out=$(DPCORE_SYCL_PLUGIN="$tmp/libfuture.so" "$tmp/dpcore-info" --diagnose)
echo "$out" | grep -Eq "incompatible plugin: it implements backend interface version 999, this libdpcore needs version [0-9]+" \
  || fail "plugin of another interface version not refused clearly: $out"
grep -q "DPC_ERROR_PLUGIN_INCOMPATIBLE" <<<"$out" || fail "status not shown: $out"
pass "a plugin of another interface version is refused before init is called"

echo "cli tests: $n passed, 0 failed"
