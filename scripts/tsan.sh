#!/usr/bin/env bash
# ThreadSanitizer run of the core (make test-tsan):
#   1. the core and the mock plugin, and the Rust standard library with them
#      (-Zbuild-std), built with -Zsanitizer=thread by the pinned nightly
#      into target/tsan;
#   2. tests/c/stress_threads.c built with gcc -fsanitize=thread and linked
#      against that libdpcore;
#   3. two runs, each with the leak census, halt_on_error and a distinct
#      exit code (any report fails):
#      - against the mock plugin (instrumented, no runtime threads): the
#        whole program, copies in place of kernel launches;
#      - against the real SYCL plugin and OpenCL CPU runtime (not
#        instrumented) with DPCORE_STRESS_NO_WAITS=1: handles, errors,
#        bundle builds from the same SPIR-V (the cache), alloc/free.
#      The full program against the real runtime is not run under TSan: as
#      soon as a thread waits in the OpenCL CPU runtime (one
#      dpc_queue_wait), TSan reports races on data that dpcore only touches
#      under a lock (e.g. its USM map), from that thread. The runtime runs
#      its TBB tasks on the waiting thread, in code TSan cannot see, and
#      TSan's view of that thread's synchronisation is then wrong. Eight
#      threads doing dpc_usm_alloc/free report nothing; the same with a
#      dpc_queue_wait added report nine such races.
# tests/c/tsan.supp names only the device runtimes' own libraries.
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
gcc -o "$exe" "$out/stress_threads.tsan.o" -Wl,--whole-archive "$rt" -Wl,--no-whole-archive \
  -L"$lib" -ldpcore -Wl,-rpath,"$lib" -lpthread -ldl -lm -lstdc++ -lgcc_s
nm "$exe" | grep __tsan_init >/dev/null || { echo "tsan: the TSan runtime is not linked in" >&2; exit 1; }

census_zero="dpcore leak census: 0 live handles, 0 bytes of USM in 0 allocations, 0 deferred releases pending"
fail=0
run() {
  local what=$1 log="$out/stress_threads.tsan.$1.log" t1 rc=0
  shift
  t1=$(date +%s)
  env TSAN_OPTIONS="suppressions=$root/tests/c/tsan.supp halt_on_error=1 exitcode=66 report_signal_unsafe=0" \
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
run sycl-no-waits DPCORE_SYCL_PLUGIN="$root/target/release/libdpcore_sycl.so" DPCORE_STRESS_NO_WAITS=1
exit $fail
