#!/usr/bin/env bash
# Build the onemkl_gemv extension in place (onemkl_gemv<EXT_SUFFIX> next to
# this script) with g++: host-only SYCL (no -fsycl), oneMKL's SYCL BLAS,
# dpcore's C++ headers and libdpcore.so. Skips the build when the module is
# newer than its sources, the headers it uses and this script.
#
# Needs target/release/libdpcore.so (make build) and .venv (scripts/setup.sh;
# DPCORE_VENV overrides its place). Rpaths to libdpcore.so and to the venv's
# lib/ (libsycl, oneMKL) let it load with nothing more than scripts/env.sh
# (which the OpenCL CPU device needs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${DPCORE_VENV:-$root/.venv}
py="$venv/bin/python"
suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
out="$here/onemkl_gemv$suffix"
src="$here/onemkl_gemv.cpp"
deps=("$src" "$here/build.sh" "$root/include/dpcore.h" "$root"/cpp-interop/include/dpcore/*.hpp)
if [ -e "$out" ] && [ -z "$(find "${deps[@]}" -newer "$out" 2>/dev/null)" ]; then
  echo "[onemkl_gemv] $out is up to date"
  exit 0
fi

# dpcore's flags: scripts/dpcore-config when it is there, else the tree's paths.
if [ -x "$root/scripts/dpcore-config" ] &&
   dpcore_flags=$("$root/scripts/dpcore-config" --includes --libs 2>/dev/null) && [ -n "$dpcore_flags" ]; then
  :
else
  dpcore_flags="-I$root/include -I$root/cpp-interop/include -L$root/target/release -ldpcore"
  dpcore_flags+=" -Wl,-rpath,$root/target/release"
fi

# oneMKL's SYCL BLAS: the wheel ships versioned names only, so its CPU
# dependencies are named explicitly.
mkl_libs=("$venv/lib/libmkl_sycl_blas.so.6" -l:libmkl_intel_ilp64.so.3 -l:libmkl_sequential.so.3
          -l:libmkl_core.so.3 -lsycl)

echo "[onemkl_gemv] building $out"
# shellcheck disable=SC2046,SC2086
g++ -std=c++17 -O2 -shared -fPIC -fvisibility=hidden -Wall -Wextra \
    -DSYCL_DISABLE_FSYCL_SYCLHPP_WARNING \
    $("$py" -m pybind11 --includes) -isystem "$venv/include" \
    "$src" -o "$out.tmp.$$" \
    $dpcore_flags \
    -L"$venv/lib" "${mkl_libs[@]}" -Wl,-rpath,"$venv/lib"
mv "$out.tmp.$$" "$out"
