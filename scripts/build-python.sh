#!/usr/bin/env bash
# Build the compiled part of the dpcore Python package in place:
#   python/dpcore/_dpcore<EXT_SUFFIX>  from python/dpcore/_dpcore.cpp and
#   python/dpcore/_dpcore_kernels.cpp
# with g++ and pybind11 from .venv, linked to target/release/libdpcore.so
# (found through an rpath relative to the package: target/release in the
# checkout, PREFIX/lib once installed). No SYCL headers needed.
# Tests put python/ on PYTHONPATH (scripts/env.sh does).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py="${DPCORE_VENV:-$root/.venv}/bin/python"
suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
out="python/dpcore/_dpcore$suffix"
srcs=(python/dpcore/_dpcore.cpp python/dpcore/_dpcore_kernels.cpp)
deps=("${srcs[@]}" scripts/build-python.sh cpp-interop/include/dpcore/dpcore.hpp cpp-interop/include/dpcore/dpcore4pybind11.hpp include/dpcore.h)
if [ -e "$out" ] && [ -z "$(find "${deps[@]}" -newer "$out")" ]; then
  echo "[build-python] $out is up to date"
  exit 0
fi
echo "[build-python] building $out"
# shellcheck disable=SC2046
g++ -std=c++17 -O2 -shared -fPIC -fvisibility=hidden -Wall -Wextra -Werror \
    $("$py" -m pybind11 --includes) -Iinclude -Icpp-interop/include \
    "${srcs[@]}" -o "$out.tmp" \
    -Ltarget/release -ldpcore -Wl,-rpath,'$ORIGIN/../../target/release:$ORIGIN/../../..'
mv "$out.tmp" "$out"
