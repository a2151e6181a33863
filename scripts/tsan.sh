#!/usr/bin/env bash
# ThreadSanitizer run of the core (make test-tsan):
#   1. the core, and the Rust standard library with it (-Zbuild-std), built
#      with -Zsanitizer=thread by the pinned nightly into target/tsan;
#   2. tests/c/stress_threads.c built with gcc -fsanitize=thread and linked
#      against that libdpcore;
#   3. run against the real SYCL plugin (target/release/libdpcore_sycl.so
#      and the OpenCL CPU runtime, not instrumented: TSan sees their locks
#      and threads through its interceptors) with the leak census,
#      halt_on_error and a distinct exit code: any report fails the run.
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
  -p dpcore --release --target-dir "$tdir"
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
nm "$exe" | grep -q __tsan_init || { echo "tsan: the TSan runtime is not linked in" >&2; exit 1; }

census_zero="dpcore leak census: 0 live handles, 0 bytes of USM in 0 allocations, 0 deferred releases pending"
fail=0
run() {
  local what=$1 plugin=$2 log="$out/stress_threads.tsan.$1.log" t1 rc=0
  t1=$(date +%s)
  env TSAN_OPTIONS="suppressions=$root/tests/c/tsan.supp halt_on_error=1 exitcode=66 report_signal_unsafe=0 history_size=4" \
      DPCORE_SYCL_PLUGIN="$plugin" DPCORE_LEAK_CHECK=1 timeout 600 "$exe" >"$log" 2>&1 || rc=$?
  local census
  census=$(grep "^dpcore leak census:" "$log" | tail -n 1)
  if [ "$rc" = 0 ] && ! grep -q "WARNING: ThreadSanitizer" "$log" && [ "$census" = "$census_zero" ]; then
    echo "PASS stress_threads [tsan, $what] in $(( $(date +%s) - t1 )) s: $(grep '^stress_threads:' "$log")"
  else
    fail=1
    echo "FAIL stress_threads [tsan, $what] (exit $rc${census:+; $census})"
    sed 's/^/    | /' "$log" | head -n 120
  fi
}
run sycl "$root/target/release/libdpcore_sycl.so"
exit $fail
