#!/usr/bin/env bash
# ThreadSanitizer run of the core (make test-tsan):
#   1. the core and the mock plugin, and the Rust standard library with them
#      (-Zbuild-std), built with -Zsanitizer=thread by the pinned nightly
#      into target/tsan;
#   2. tests/c/stress_threads.c built with gcc -fsanitize=thread and linked
#      against that libdpcore;
#   3. two runs of the whole program (kernels, copies, waits, deferred
#      frees), each with the leak census, halt_on_error and a distinct
#      exit code (any report fails):
#      - against the mock plugin (instrumented, no runtime threads);
#      - against the SYCL plugin and the OpenCL CPU runtime.
#
# The instrumented core must be the one loaded: scripts/env.sh puts
# target/release (the plain build) first on LD_LIBRARY_PATH, which wins
# over the test's RUNPATH, so each run puts target/tsan first and the
# script checks with ldd which libdpcore the program gets. (An earlier
# version of this script ran the plain core under a TSan program: the
# core's locks were invisible to TSan, which reported races on data that
# only the core's locks guard.)
#
# No suppressions. TSAN_OPTIONS has ignore_noninstrumented_modules=1: the
# accesses made by code that is not instrumented are not recorded. That
# code is the device runtimes' (libsycl, libintelocl and the kernels it
# JIT-compiles, oneTBB, the OpenCL loader), whose synchronisation (TBB
# task queues, the OpenCL runtime's event completion) TSan cannot see, so
# it would report every copy a runtime worker makes into memory the
# program reads after a wait. dpcore's own code is all instrumented and
# checked: the core, the mock plugin, and the SYCL plugin (its Rust with
# -Zsanitizer=thread, its C++ with g++ -fsanitize=thread; DPCORE_TSAN_PLUGIN=0
# runs the plain plugin instead, to save its build). The program is linked
# with -rdynamic so that the TSan runtime in it serves the plugin's
# g++-emitted entry points too (__tsan_vptr_update).
# DPCORE_STRESS_ROUNDS sets the rounds per thread (default: the program's).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck disable=SC1091
. scripts/env.sh

target=x86_64-unknown-linux-gnu
tdir="$root/target/tsan"
lib="$tdir/$target/release"
out="$root/target/c"
mkdir -p "$out"

t0=$(date +%s)
RUSTFLAGS="-Zsanitizer=thread" cargo +"$DPCORE_NIGHTLY" build -q -Zbuild-std --target "$target" \
  -p dpcore -p dpcore-mock-plugin --release --target-dir "$tdir"
ln -sf libdpcore.so "$lib/libdpcore.so.0"
echo "tsan: core built in $(( $(date +%s) - t0 )) s"

# gcc instruments the test; the TSan runtime linked in is the one the Rust
# nightly ships (the same LLVM as the instrumented core: gcc 12's older
# runtime lacks entry points that LLVM now emits).
rt=$(rustc +"$DPCORE_NIGHTLY" --print sysroot)/lib/rustlib/$target/lib/librustc-nightly_rt.tsan.a
exe="$out/stress_threads.tsan"
gcc -std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=thread -Iinclude -c tests/c/stress_threads.c \
  -o "$out/stress_threads.tsan.o"
gcc -rdynamic -o "$exe" "$out/stress_threads.tsan.o" -Wl,--whole-archive "$rt" -Wl,--no-whole-archive \
  -L"$lib" -ldpcore -Wl,-rpath,"$lib" -lpthread -ldl -lm -lstdc++ -lgcc_s
nm "$exe" | grep __tsan_init >/dev/null || { echo "tsan: the TSan runtime is not linked in" >&2; exit 1; }

# The program must get the instrumented core, not target/release's.
got=$(LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}" ldd "$exe" | awk '/libdpcore.so/ {print $3}')
[ "$got" = "$lib/libdpcore.so.0" ] || { echo "tsan: the program would load $got, not $lib/libdpcore.so.0" >&2; exit 1; }

sycl_plugin="$root/target/release/libdpcore_sycl.so"
if [ "${DPCORE_TSAN_PLUGIN:-1}" = 1 ]; then
  CXXFLAGS="-fsanitize=thread" RUSTFLAGS="-Zsanitizer=thread" cargo +"$DPCORE_NIGHTLY" build -q -Zbuild-std \
    --target "$target" -p dpcore-sycl --release --target-dir "$tdir"
  sycl_plugin="$lib/libdpcore_sycl.so"
fi

census_zero="dpcore leak census: 0 live handles, 0 bytes of USM in 0 allocations, 0 deferred releases pending"
fail=0
run() {
  local what=$1 log="$out/stress_threads.tsan.$1.log" t1 rc=0
  shift
  t1=$(date +%s)
  env LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}" \
      TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0 ignore_noninstrumented_modules=1" \
      "$@" DPCORE_LEAK_CHECK=1 timeout 600 "$exe" >"$log" 2>&1 || rc=$?
  local census
  census=$(grep "^dpcore leak census:" "$log" | tail -n 1 || true)
  if [ "$rc" = 0 ] && ! grep -q "WARNING: ThreadSanitizer" "$log" && [ "$census" = "$census_zero" ]; then
    echo "PASS stress_threads [tsan, $what] in $(( $(date +%s) - t1 )) s: $(grep '^stress_threads:' "$log")"
  else
    fail=1
    echo "FAIL stress_threads [tsan, $what] (exit $rc${census:+; $census})"
    sed 's/^/    | /' "$log" | head -n 120
  fi
}
run mock DPCORE_SYCL_PLUGIN=/nonexistent DPCORE_PLUGINS="$lib/libdpcore_mock.so"
run sycl DPCORE_SYCL_PLUGIN="$sycl_plugin"
exit $fail
