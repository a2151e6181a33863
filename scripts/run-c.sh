#!/usr/bin/env bash
# Build (and with --run, run) the C programs against include/dpcore.h and
# target/release/libdpcore.so:
#   - the header alone compiled as C99, C11, C17 and C++17 with
#     -Wall -Wextra -pedantic -Werror;
#   - examples-c/*.c (what users read) and tests/c/*.c (the C test layer);
#   - with --asan, every program again under AddressSanitizer + UBSan.
# Prints one line per check and closes with "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

run=0 asan=0 examples_only=0
for a in "$@"; do
  case "$a" in
    --run) run=1 ;;
    --asan) asan=1 ;;
    --examples-only) examples_only=1 ;;
    *) echo "usage: run-c.sh [--run] [--asan] [--examples-only]" >&2; exit 2 ;;
  esac
done

rel="$root/target/release"
out="$root/target/c"
mkdir -p "$out"
CC=${CC:-gcc}
CXX=${CXX:-g++}
warn=(-Wall -Wextra -pedantic -Werror)
link=(-L"$rel" -ldpcore -Wl,-rpath,"$rel")
passed=0 failed=0 failures=()

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1"; }

# run_program NAME VARIANT EXE SHOW: run a built test or example with the
# sanitizer settings (LeakSanitizer on; tests/c/lsan.supp names only the
# SYCL/OpenCL runtime libraries, whose process-lifetime allocations it would
# report) and dpcore's leak census (DPCORE_LEAK_CHECK=1: the program must
# end holding no handle, no USM and no pending release); SHOW=1 prints its
# output.
census_zero="dpcore leak census: 0 live handles, 0 bytes of USM in 0 allocations, 0 deferred releases pending"
run_program() {
  local name=$1 v=$2 exe=$3 show=$4 log="$out/$1.$2.log" asan_env=() rc
  if [ "$v" = asan ]; then asan_env=(DPCORE_TEST_ASAN=1); fi
  if env "${asan_env[@]}" ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
     LSAN_OPTIONS=suppressions="$root/tests/c/lsan.supp":print_suppressions=0 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 DPCORE_LEAK_CHECK=1 \
     timeout 300 "$exe" >"$log" 2>&1; then
    local census
    census=$(grep "^dpcore leak census:" "$log" | tail -n 1)
    if [ "$census" != "$census_zero" ]; then
      bad "$name [$v]: ends holding dpcore objects (${census:-no census printed})"
      sed -n '/^dpcore leak census:/,$p' "$log" | tail -n 12 | sed 's/^/    | /'
      return
    fi
    ok "$name [$v]"
    if [ "$show" = 1 ]; then grep -v "^dpcore leak census:" "$log" | sed 's/^/    /'; fi
  else
    rc=$?
    bad "$name [$v] (exit $rc)"
    sed 's/^/    | /' "$log" | tail -n 60
  fi
}

# The header alone, in every language mode, with gcc and clang.
if [ "$examples_only" = 0 ]; then
  printf '#include "dpcore.h"\nint main(void) { return dpc_version() == 0xffffffffu; }\n' > "$out/header_alone.c"
  cp "$out/header_alone.c" "$out/header_alone.cpp"
  compilers=("$CC:$CXX")
  if command -v clang-15 >/dev/null; then compilers+=("clang-15:clang++-15")
  elif command -v clang >/dev/null; then compilers+=("clang:clang++"); fi
  for pair in "${compilers[@]}"; do
    cc=${pair%%:*} cxx=${pair##*:}
    for std in c99 c11 c17; do
      if $cc -std=$std "${warn[@]}" -Iinclude -c "$out/header_alone.c" -o "$out/header_$std.o"; then
        ok "header compiles alone as $std ($cc)"
      else bad "header compiles alone as $std ($cc)"; fi
    done
    if $cxx -std=c++17 "${warn[@]}" -Iinclude -c "$out/header_alone.cpp" -o "$out/header_cxx17.o"; then
      ok "header compiles alone as c++17 ($cxx)"
    else bad "header compiles alone as c++17 ($cxx)"; fi
  done
  if ((${#compilers[@]} < 2)); then bad "no clang to compile the header with (scripts/setup.sh installs clang-15)"; fi
fi

# The C++ headers alone, as C++17 with warnings as errors: dpcore.hpp needs
# nothing else; sycl.hpp the SYCL headers; dpcore4pybind11.hpp pybind11.
sycl_inc="${SYCL_ROOT:-$root/.venv}/include"
py="${DPCORE_VENV:-$root/.venv}/bin/python"
if [ "$examples_only" = 0 ]; then
  for h in dpcore sycl dpcore4pybind11; do
    extra=()
    case $h in
      sycl) extra=(-DSYCL_DISABLE_FSYCL_SYCLHPP_WARNING -isystem "$sycl_inc") ;;
      dpcore4pybind11) read -r -a extra <<<"$("$py" -m pybind11 --includes | sed 's/-I/-isystem /g')" ;;
    esac
    printf '#include "dpcore/%s.hpp"\nint main() { return 0; }\n' "$h" > "$out/cxx_$h.cpp"
    if $CXX -std=c++17 "${warn[@]}" -Iinclude -Icpp-interop/include "${extra[@]}" -c "$out/cxx_$h.cpp" \
         -o "$out/cxx_$h.o"; then
      ok "dpcore/$h.hpp compiles alone as c++17"
    else bad "dpcore/$h.hpp compiles alone as c++17"; fi
  done
fi

# Every function of the header is exercised by the NULL/invalid-handle test.
if [ "$examples_only" = 0 ]; then
  missing=()
  for f in $(grep -oE '\bdpc_[a-z0-9_]+\(' include/dpcore.h | tr -d '(' | sort -u); do
    grep -q "\b$f(" tests/c/test_null_handles.c || missing+=("$f")
  done
  if ((${#missing[@]})); then bad "test_null_handles.c names every export (missing: ${missing[*]})"
  else ok "test_null_handles.c names every export"; fi
fi

programs=(examples-c/*.c)
if [ "$examples_only" = 0 ]; then programs+=(tests/c/*.c); fi

variants=(plain)
if [ "$asan" = 1 ]; then variants+=(asan); fi

for src in "${programs[@]}"; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .c)
  for v in "${variants[@]}"; do
    exe="$out/$name.$v"
    flags=(-std=c11 -g -O1 "${warn[@]}" -Iinclude)
    if [ "$v" = asan ]; then flags+=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined); fi
    if ! $CC "${flags[@]}" "$src" -o "$exe" "${link[@]}" -lpthread; then
      bad "$name [$v]: build"; continue
    fi
    if [ "$v" = asan ] && ! nm "$exe" | grep __asan_init >/dev/null; then
      bad "$name [$v]: AddressSanitizer is not linked in"; continue
    fi
    [ "$run" = 1 ] || { ok "$name [$v]: build"; continue; }
    show=0
    if [ "$examples_only" = 1 ] || [[ "$src" == examples-c/* ]]; then show=1; fi
    run_program "$name" "$v" "$exe" "$show"
  done
done

# C++ programs against the SYCL runtime (dpcore/sycl.hpp), host code only.
if [ "$examples_only" = 0 ]; then
  for src in tests/cpp/*.cpp; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .cpp)
    for v in "${variants[@]}"; do
      exe="$out/$name.$v"
      flags=(-std=c++17 -g -O1 "${warn[@]}" -DSYCL_DISABLE_FSYCL_SYCLHPP_WARNING -Iinclude -Icpp-interop/include
             -isystem "$sycl_inc")
      if [ "$v" = asan ]; then flags+=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined); fi
      if ! $CXX "${flags[@]}" "$src" -o "$exe" "${link[@]}" -L"${SYCL_ROOT:-$root/.venv}/lib" -lsycl \
           -Wl,-rpath,"${SYCL_ROOT:-$root/.venv}/lib"; then
        bad "$name [$v]: build"; continue
      fi
      [ "$run" = 1 ] || { ok "$name [$v]: build"; continue; }
      run_program "$name" "$v" "$exe" 0
    done
  done
fi

echo
if ((failed)); then printf 'failed: %s\n' "${failures[@]}"; fi
echo "c tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
