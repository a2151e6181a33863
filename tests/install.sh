#!/usr/bin/env bash
# Install into a temporary prefix and build C examples out of tree against
# it: one with pkg-config, one with CMake (find_package(dpcore)); run both
# with nothing of the checkout on the library path, and check the installed
# tools and Python package. Needs make build first (make test-install).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }

cmake --install "${BUILD_DIR:-$root/build}" --prefix "$prefix" >/dev/null
# Only the SYCL runtime (and the OpenCL ICD setting) from the environment:
# dpcore itself must come from the prefix.
venv_lib="${DPCORE_VENV:-$root/.venv}/lib"
run_env=(env -u DPCORE_SYCL_PLUGIN LD_LIBRARY_PATH="$venv_lib")

# pkg-config
src="$root/examples-c/usm_copy.c"
if flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs dpcore) &&
   gcc -std=c11 -Wall -Wextra -Werror "$src" -o "$tmp/usm_copy_pc" $flags &&
   out=$("${run_env[@]}" "$tmp/usm_copy_pc") && grep -q ": ok$" <<<"$out"; then
  ok "pkg-config build of examples-c/usm_copy.c runs against the prefix ($out)"
else bad "pkg-config build of examples-c/usm_copy.c"; fi
# (dpcore.pc is relocatable: its prefix is ${pcfiledir}/../.., so the path
# the loader shows may hold "..": compare real paths)
loaded=$("${run_env[@]}" ldd "$tmp/usm_copy_pc" 2>/dev/null | awk '/libdpcore.so.0/ {print $3}')
if [ -n "$loaded" ] && [ "$(realpath "$loaded")" = "$(realpath "$prefix/lib/libdpcore.so.0")" ]; then
  ok "the pkg-config build loads $prefix/lib/libdpcore.so.0"
else bad "the pkg-config build does not load the installed library: $("${run_env[@]}" ldd "$tmp/usm_copy_pc" | grep dpcore)"; fi
[ "$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --modversion dpcore)" = "$(scripts/dpcore-config --version)" ] &&
  ok "pkg-config --modversion" || bad "pkg-config --modversion"

# CMake
mkdir -p "$tmp/cmake-src" "$tmp/cmake-build"
cp "$src" "$tmp/cmake-src/"
cat > "$tmp/cmake-src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(dpcore_consumer C)
find_package(dpcore 0.1 REQUIRED)
add_executable(usm_copy usm_copy.c)
target_link_libraries(usm_copy PRIVATE dpcore::dpcore)
get_target_property(plugin dpcore::dpcore DPCORE_SYCL_PLUGIN)
message(STATUS "dpcore ${dpcore_VERSION}, plugin ${plugin}")
if(NOT plugin STREQUAL dpcore_SYCL_PLUGIN OR NOT EXISTS "${plugin}")
  message(FATAL_ERROR "dpcore: plugin location not carried: ${plugin}")
endif()
EOF
if cmake -S "$tmp/cmake-src" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cmake.log" 2>&1 &&
   cmake --build "$tmp/cmake-build" >>"$tmp/cmake.log" 2>&1 &&
   out=$("${run_env[@]}" "$tmp/cmake-build/usm_copy") && grep -q ": ok$" <<<"$out"; then
  ok "CMake find_package(dpcore) build of examples-c/usm_copy.c runs ($out)"
else bad "CMake build"; sed 's/^/    | /' "$tmp/cmake.log" | tail -20; fi
# A version the package does not satisfy is refused.
sed -i 's/find_package(dpcore 0.1 REQUIRED)/find_package(dpcore 99 REQUIRED)/' "$tmp/cmake-src/CMakeLists.txt"
if ! cmake -S "$tmp/cmake-src" -B "$tmp/cmake-build2" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
  ok "find_package(dpcore 99) is refused"
else bad "find_package(dpcore 99) was accepted"; fi

# Installed tools and package
if out=$("${run_env[@]}" "$prefix/bin/dpcore-info") && grep -q "opencl:cpu:0" <<<"$out"; then
  ok "installed dpcore-info finds its plugin in $prefix/lib"
else bad "installed dpcore-info: $out"; fi
[ "$("$prefix/bin/dpcore-config" --libdir)" = "$prefix/lib" ] && ok "installed dpcore-config --libdir" ||
  bad "installed dpcore-config --libdir"
site=$(ls -d "$prefix"/lib/python3*/site-packages)
if out=$("${run_env[@]}" PYTHONPATH="$site" OCL_ICD_FILENAMES="${OCL_ICD_FILENAMES:-}" \
         "${DPCORE_VENV:-$root/.venv}/bin/python" -c \
         'import dpcore; a = dpcore.asarray([1.0, 2.0]); print(a.asnumpy().sum(), dpcore.get_include())') &&
   grep -q "^3.0 \['$prefix/include'\]$" <<<"$out"; then
  ok "installed Python package works from $site"
else bad "installed Python package: $out"; fi

# Relocatable: the installed tree names nothing of the checkout, and finds
# the SYCL runtime the way its users have it, with no LD_LIBRARY_PATH.
venv="${DPCORE_VENV:-$root/.venv}"
if readelf -d "$prefix/lib/libdpcore_sycl.so" "$prefix/lib/libdpcore.so.0" "$site"/dpcore/_dpcore*.so |
   grep -E "RUNPATH|RPATH" | grep -q "$root"; then
  bad "an installed library's RUNPATH names the checkout: $(readelf -d "$prefix/lib/libdpcore_sycl.so" | grep RUNPATH)"
else ok "no installed library's RUNPATH names the checkout"; fi
clean=(env -i PATH=/usr/bin:/bin HOME="${HOME:-/tmp}" OCL_ICD_FILENAMES="${OCL_ICD_FILENAMES:-}")
found_through() { # found_through WHAT ENV...: dpcore-info finds a device, --diagnose says WHAT
  local what=$1; shift
  local diag
  diag=$("${clean[@]}" "$@" "$prefix/bin/dpcore-info" --diagnose 2>&1)
  if "${clean[@]}" "$@" "$prefix/bin/dpcore-info" | grep -q "opencl:cpu:0" &&
     grep -q "libsycl.so.[0-9]* found through $what" <<<"$diag"; then
    ok "installed dpcore-info finds the SYCL runtime through $what"
  else bad "installed dpcore-info with $*: $(grep -E 'found through|SYCL runtime' <<<"$diag")"; fi
}
found_through '\$VIRTUAL_ENV/lib' VIRTUAL_ENV="$venv"
found_through 'LD_LIBRARY_PATH' LD_LIBRARY_PATH="$venv/lib"
found_through 'DPCORE_SYCL_RUNTIME' DPCORE_SYCL_RUNTIME="$venv/lib"
found_through '\$CONDA_PREFIX/lib' CONDA_PREFIX="$venv"
diag=$("${clean[@]}" "$prefix/bin/dpcore-info" --diagnose 2>&1 || true)
if grep -q "libsycl.so.[0-9]* (the SYCL runtime) was not found; looked in: LD_LIBRARY_PATH" <<<"$diag" &&
   grep -q "DPCORE_SYCL_RUNTIME" <<<"$diag"; then
  ok "with no SYCL runtime in reach, --diagnose names the places tried and what to set"
else bad "no runtime in reach: $diag"; fi
if out=$("${clean[@]}" VIRTUAL_ENV="$venv" "$tmp/usm_copy_pc") && grep -q ": ok$" <<<"$out"; then
  ok "the pkg-config example runs with no LD_LIBRARY_PATH ($out)"
else bad "the pkg-config example with no LD_LIBRARY_PATH: $out"; fi
if out=$("${clean[@]}" PYTHONPATH="$site" "$venv/bin/python" -c \
         'import dpcore; print(dpcore.asarray([1.0, 2.0]).asnumpy().sum())') && [ "$out" = "3.0" ]; then
  ok "the installed Python package finds the runtime of its interpreter's environment (not activated)"
else bad "installed Python package, venv not activated: $out"; fi
mv "$prefix" "$tmp/moved"
if "${clean[@]}" VIRTUAL_ENV="$venv" "$tmp/moved/bin/dpcore-info" | grep -q "opencl:cpu:0"; then
  ok "a moved prefix still finds its plugin and the runtime"
else bad "a moved prefix: $("${clean[@]}" VIRTUAL_ENV="$venv" "$tmp/moved/bin/dpcore-info" 2>&1 | head -3)"; fi
mv "$tmp/moved" "$prefix"

echo "install tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
