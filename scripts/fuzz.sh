#!/usr/bin/env bash
# The API-sequence fuzzer (fuzz/, cargo-fuzz + libFuzzer, pinned nightly).
#   scripts/fuzz.sh build           build fuzz/target/.../api_sequence
#   scripts/fuzz.sh run [SECONDS]   fuzz for SECONDS (FUZZ_SECONDS, default 600)
#   scripts/fuzz.sh smoke           replay the corpus, then fuzz ~60 s (CI)
# Run from the repository root with scripts/env.sh sourced; needs the SYCL
# plugin (make build). The committed corpus (fuzz/corpus/api_sequence) is
# only read: new inputs go to fuzz/corpus-run/ (FUZZ_CORPUS_OUT), crashes,
# leaks and timeouts to fuzz/artifacts/ (FUZZ_ARTIFACTS).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DPCORE_NIGHTLY:?source scripts/env.sh first}"
export DPCORE_SYCL_PLUGIN=${DPCORE_SYCL_PLUGIN:-$root/target/release/libdpcore_sycl.so}
[ -f "$DPCORE_SYCL_PLUGIN" ] || { echo "fuzz.sh: no SYCL plugin at $DPCORE_SYCL_PLUGIN: run make build" >&2; exit 1; }
corpus=$root/fuzz/corpus/api_sequence
out=${FUZZ_CORPUS_OUT:-$root/fuzz/corpus-run}
artifacts=${FUZZ_ARTIFACTS:-$root/fuzz/artifacts}
bin=$root/fuzz/target/x86_64-unknown-linux-gnu/release/api_sequence
# The SYCL and OpenCL runtimes are not built with ASan: their own leaks and
# allocator pairs are not dpcore's findings (dpcore's leak check is the
# census the harness asserts after each input).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:detect_odr_violation=0:alloc_dealloc_mismatch=0:abort_on_error=1}
# One worker, one job: CI and this machine have 2 cores.
flags=(-timeout=60 -rss_limit_mb=4096 -malloc_limit_mb=1024 -max_len=4096 -print_final_stats=1
       -artifact_prefix="$artifacts/" -dict="$root/fuzz/api_sequence.dict")

build() {
  CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo +"$DPCORE_NIGHTLY" fuzz build -a api_sequence
}

mkdir -p "$out" "$artifacts"
case "${1:-run}" in
  build) build ;;
  run)
    build
    secs=${2:-${FUZZ_SECONDS:-600}}
    echo "[fuzz] fuzzing for ${secs}s: new inputs in $out, findings in $artifacts"
    # One forked worker that keeps going after a finding (FUZZ_STOP=1: stop
    # at the first one instead); its last "#N: cov: ... ft: ... corp: ..."
    # line is the run's total.
    keep=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    [ "${FUZZ_STOP:-0}" = 1 ] && keep=()
    # The run uses a copy of the binary (forked workers start it again), so
    # that a rebuild while it runs does not change what it fuzzes.
    runbin=$(mktemp -d)/api_sequence
    cp "$bin" "$runbin"
    echo "[fuzz] $(date -u +%FT%TZ): $runbin ${flags[*]} ${keep[*]} -max_total_time=$secs $out $corpus"
    rc=0
    "$runbin" "${flags[@]}" "${keep[@]}" -max_total_time="$secs" "$out" "$corpus" || rc=$?
    echo "[fuzz] done (exit $rc) at $(date -u +%FT%TZ); findings in $artifacts:"
    ls -l "$artifacts"
    exit $rc
    ;;
  smoke)
    build
    echo "[fuzz] replaying $(ls "$corpus" | wc -l) corpus inputs"
    "$bin" "${flags[@]}" -runs=0 "$corpus"
    # A fixed seed (FUZZ_SMOKE_SEED, default 1): the smoke in make test
    # explores the same way each run, so a gate does not pass or fail by
    # chance; open-ended search is make fuzz's.
    echo "[fuzz] fuzzing for ${FUZZ_SMOKE_SECONDS:-60}s, seed ${FUZZ_SMOKE_SEED:-1}"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$bin" "${flags[@]}" -seed="${FUZZ_SMOKE_SEED:-1}" -max_total_time="${FUZZ_SMOKE_SECONDS:-60}" "$tmp" "$corpus"
    ;;
  *) echo "usage: scripts/fuzz.sh build|run [SECONDS]|smoke" >&2; exit 2 ;;
esac
