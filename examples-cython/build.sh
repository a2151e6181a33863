#!/usr/bin/env bash
# Build the Cython example in place: dpcore_cython_example.<ext> next to its
# .pyx, in DIR (default: this directory). Needs Cython and a C compiler;
# flags come from scripts/dpcore-config (override with DPCORE_CONFIG, the
# interpreter with PYTHON, the compiler with CC).
#
#   bash examples-cython/build.sh [DIR]
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
config=${DPCORE_CONFIG:-$here/../scripts/dpcore-config}
python=${PYTHON:-python3}
cc=${CC:-cc}
dir=$(cd -- "${1:-$here}" && pwd)
name=dpcore_cython_example

pyinc=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
ext=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')

cd -- "$dir"
# shellcheck disable=SC2046  # the flags are meant to split
"$python" -m cython -3 $("$config" --cython-includes) "$name.pyx" -o "$name.c"
# shellcheck disable=SC2046
"$cc" -shared -fPIC -O2 -Wall -Wno-unused-function -Werror=incompatible-pointer-types \
    -I"$pyinc" $("$config" --cflags) "$name.c" -o "$name$ext" $("$config" --libs)
echo "built $dir/$name$ext"
