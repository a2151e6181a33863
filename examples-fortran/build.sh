#!/usr/bin/env bash
# Build the dpcore Fortran module (fortran/dpcore.f90) and the example
# examples-fortran/saxpy.f90 with gfortran into target/fortran/, linked
# against target/release/libdpcore.so with an rpath; with --run, run it.
#
#   examples-fortran/build.sh [--run [FILTER [SPIRV]]]
#
# The module is compiled as Fortran 2008 with -Wall -Wextra -Werror, the
# example with -Wall -Werror -fcheck=all. Running needs the environment of
# scripts/env.sh (the OpenCL CPU runtime, DPCORE_ROOT); it is sourced here
# when DPCORE_ROOT is not set. Needs gfortran (Debian package: gfortran) and
# a built libdpcore.so (make build). FC overrides the compiler.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rel="$root/target/release"
out="$root/target/fortran"
FC=${FC:-gfortran}

run=0
if [[ ${1:-} == --run ]]; then
  run=1
  shift
elif (($#)); then
  echo "usage: examples-fortran/build.sh [--run [FILTER [SPIRV]]]" >&2
  exit 2
fi

if ! command -v "$FC" >/dev/null 2>&1; then
  echo "build.sh: $FC not found: install it (Debian package: gfortran)" >&2
  exit 1
fi
if [[ ! -e $rel/libdpcore.so ]]; then
  echo "build.sh: $rel/libdpcore.so not found: run 'make build' first" >&2
  exit 1
fi

mkdir -p "$out"
# The module: dpcore.mod (for `use dpcore`) and dpcore.o, both in $out.
"$FC" -std=f2008 -Wall -Wextra -Werror -J "$out" -c "$root/fortran/dpcore.f90" -o "$out/dpcore.o"
# The example.
"$FC" -std=f2008 -Wall -Werror -fcheck=all -g -I "$out" -J "$out" \
  "$root/examples-fortran/saxpy.f90" "$out/dpcore.o" \
  -L"$rel" -ldpcore -Wl,-rpath,"$rel" -o "$out/saxpy"
echo "built $out/saxpy"

if ((run)); then
  if [[ -z ${DPCORE_ROOT:-} && -f $root/scripts/env.sh ]]; then
    # shellcheck source=/dev/null
    . "$root/scripts/env.sh"
  fi
  "$out/saxpy" "$@"
fi
