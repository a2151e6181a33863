#!/usr/bin/env bash
# Run the benchmarks: each compares dpcore with the peer (dpctl's C API;
# the C++ ones also with raw SYCL; the Python ones dpnp.tensor) in one run
# and prints the ratio.
# Needs `make build` first (make bench). C benchmarks (benches/*.c) are built
# with gcc, then C++ ones (benches/*.cpp) with g++ against the SYCL headers
# and libsycl of .venv (host-only SYCL: no device code is compiled).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/env.sh
dpctl_dir=$("$DPCORE_VENV/bin/python" -c 'import dpctl, os; print(os.path.dirname(dpctl.__file__))')
out=target/bench
mkdir -p "$out"
shopt -s nullglob
for src in benches/*.c; do
  name=$(basename "$src" .c)
  gcc -std=c11 -O2 -Iinclude -I"$dpctl_dir/include" "$src" -o "$out/$name" \
      -Ltarget/release -ldpcore -Wl,-rpath,"$root/target/release" \
      "$dpctl_dir/libDPCTLSyclInterface.so" -Wl,-rpath,"$dpctl_dir" -Wl,-rpath,"$DPCORE_VENV/lib"
  echo "## $name"
  "$out/$name"
  echo
done
for src in benches/*.cpp; do
  name=$(basename "$src" .cpp)
  g++ -std=c++17 -O2 -DSYCL_DISABLE_FSYCL_SYCLHPP_WARNING \
      -Iinclude -I"$dpctl_dir/include" -I"$DPCORE_VENV/include" "$src" -o "$out/$name" \
      -Ltarget/release -ldpcore -Wl,-rpath,"$root/target/release" \
      "$dpctl_dir/libDPCTLSyclInterface.so" -Wl,-rpath,"$dpctl_dir" \
      -L"$DPCORE_VENV/lib" -lsycl -Wl,-rpath,"$DPCORE_VENV/lib"
  echo "## $name"
  "$out/$name"
  echo
done
for src in benches/*.py; do
  echo "## $(basename "$src" .py)"
  "$DPCORE_VENV/bin/python" "$src"
  echo
done
