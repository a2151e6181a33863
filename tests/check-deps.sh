#!/usr/bin/env bash
# The core library records no NEEDED entry for a SYCL, OpenCL, Level Zero
# or C++ runtime, and carries the SONAME libdpcore.so.<major>.
set -euo pipefail
lib=${1:?usage: check-deps.sh path/to/libdpcore.so}
dyn=$(readelf -d "$lib")
echo "$dyn" | grep -E 'NEEDED|SONAME'
if echo "$dyn" | grep NEEDED | grep -E 'libsycl|libstdc\+\+|libOpenCL|libze_loader|libc\+\+'; then
  echo "FAIL: $lib depends on a runtime it must load lazily" >&2
  exit 1
fi
grep -q 'SONAME.*\[libdpcore\.so\.0\]' <<<"$dyn" || { echo "FAIL: SONAME is not libdpcore.so.0" >&2; exit 1; }
echo "ok: $lib has no SYCL/OpenCL/Level Zero/C++ runtime dependency and SONAME libdpcore.so.0"
