#!/usr/bin/env bash
# With the plugin missing, dpcore still works: 0 devices, and
# `dpcore-info --diagnose` explains what is missing and what to do.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A copy of the program without the plugin beside it.
cp "$root/target/release/dpcore-info" "$tmp/"
out=$(env -u DPCORE_SYCL_PLUGIN "$tmp/dpcore-info" --diagnose)
echo "$out" | sed 's/^/    /'
fail() { echo "FAIL: $*" >&2; exit 1; }
echo "$out" | grep -q "$tmp/libdpcore_sycl.so: no such file" || fail "diagnose does not name the path tried"
echo "$out" | grep -q "devices: 0" || fail "diagnose does not report 0 devices"
echo "$out" | grep -q "plugin libdpcore_sycl.so is missing" || fail "diagnose does not explain the missing plugin"
list=$(env -u DPCORE_SYCL_PLUGIN "$tmp/dpcore-info")
echo "$list" | grep -q "no devices" || fail "dpcore-info without plugin: $list"
# An explicit plugin path that cannot be loaded is reported with dlerror's text.
echo "not a library" > "$tmp/bogus.so"
out=$(DPCORE_SYCL_PLUGIN="$tmp/bogus.so" "$tmp/dpcore-info" --diagnose)
echo "$out" | grep -q "bogus.so: dlopen failed:" || fail "bad plugin not reported: $out"
echo "ok: without its plugin dpcore reports 0 devices and says why"
