#!/usr/bin/env bash
# Run a command with dpcore's leak census on (DPCORE_LEAK_CHECK=1) and fail
# when the census it prints at exit is not zero: live handles the program
# still holds, USM not freed, or deferred releases not done.
#   scripts/with-census.sh python -m pytest -q tests/python
# The command's own status comes first; its standard error is shown as it runs.
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
DPCORE_LEAK_CHECK=1 "$@" 2> >(tee "$log" >&2)
rc=$?
wait  # for tee
[ "$rc" = 0 ] || exit "$rc"
line=$(grep "^dpcore leak census:" "$log" | tail -n 1)
if [ -z "$line" ]; then
  echo "with-census: '$*' printed no leak census (was libdpcore loaded?)" >&2
  exit 1
fi
if [ "$line" != "dpcore leak census: 0 live handles, 0 bytes of USM in 0 allocations, 0 deferred releases pending" ]; then
  echo "with-census: '$*' ended holding dpcore objects:" >&2
  sed -n '/^dpcore leak census:/,$p' "$log" | tail -n 20 >&2
  exit 1
fi
echo "with-census: $line"
