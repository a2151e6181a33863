#!/usr/bin/env bash
# Run the benchmarks: each compares dpcore with the peer (dpctl's C API)
# in one run and prints the ratio. Needs `make build` first (make bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/env.sh
dpctl_dir=$("$DPCORE_VENV/bin/python" -c 'import dpctl, os; print(os.path.dirname(dpctl.__file__))')
out=target/bench
mkdir -p "$out"
for src in benches/*.c; do
  name=$(basename "$src" .c)
  gcc -std=c11 -O2 -Iinclude -I"$dpctl_dir/include" "$src" -o "$out/$name" \
      -Ltarget/release -ldpcore -Wl,-rpath,"$root/target/release" \
      "$dpctl_dir/libDPCTLSyclInterface.so" -Wl,-rpath,"$dpctl_dir" -Wl,-rpath,"$DPCORE_VENV/lib"
  echo "## $name"
  "$out/$name"
  echo
done
