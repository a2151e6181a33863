#!/usr/bin/env bash
# Install dpcore under a prefix (make install PREFIX=...; needs make build):
#
#   PREFIX/lib/libdpcore.so.X.Y.Z, libdpcore.so.X (SONAME), libdpcore.so
#   PREFIX/lib/libdpcore_sycl.so               the SYCL plugin, found next to libdpcore.so
#   PREFIX/include/dpcore.h                    the C header
#   PREFIX/include/dpcore/*.hpp                the C++ headers
#   PREFIX/include/dpcore/dpcore_c.pxd         Cython declarations (cimport dpcore.dpcore_c)
#   PREFIX/include/dpcore/dpcore.f90           the Fortran module's source
#   PREFIX/bin/dpcore-info, dpcore-config
#   PREFIX/lib/pkgconfig/dpcore.pc
#   PREFIX/lib/cmake/dpcore/dpcoreConfig.cmake, dpcoreConfigVersion.cmake
#   PREFIX/lib/pythonX.Y/site-packages/dpcore  the Python package
#
# Usage: scripts/install.sh PREFIX   (DESTDIR is honoured for staging)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ $# -eq 1 ] || { echo "usage: scripts/install.sh PREFIX" >&2; exit 2; }
prefix=$(realpath -m "$1")
dest="${DESTDIR:-}$prefix"
rel=target/release
for f in "$rel/libdpcore.so" "$rel/libdpcore_sycl.so" "$rel/dpcore-info"; do
  [ -e "$f" ] || { echo "install.sh: $f is missing; run make build first" >&2; exit 1; }
done
version=$(scripts/dpcore-config --version)
major=${version%%.*}
say() { printf '[install] %s\n' "$*"; }

install -d "$dest/lib" "$dest/include/dpcore" "$dest/bin" "$dest/lib/pkgconfig" "$dest/lib/cmake/dpcore"
install -m 755 "$rel/libdpcore.so" "$dest/lib/libdpcore.so.$version"
ln -sfn "libdpcore.so.$version" "$dest/lib/libdpcore.so.$major"
ln -sfn "libdpcore.so.$major" "$dest/lib/libdpcore.so"
install -m 755 "$rel/libdpcore_sycl.so" "$dest/lib/libdpcore_sycl.so"
# The build gives the plugin a RUNPATH into the build's venv; the installed
# one carries none: libdpcore finds the SYCL runtime where its users have it
# (src/runtime.rs) and dpcore-info --diagnose says where.
python3 scripts/set-runpath.py "$dest/lib/libdpcore_sycl.so" '$ORIGIN' >/dev/null
install -m 644 include/dpcore.h "$dest/include/dpcore.h"
install -m 644 cpp-interop/include/dpcore/*.hpp "$dest/include/dpcore/"
install -m 644 python/dpcore/dpcore_c.pxd "$dest/include/dpcore/dpcore_c.pxd"
if [ -e fortran/dpcore.f90 ]; then install -m 644 fortran/dpcore.f90 "$dest/include/dpcore/dpcore.f90"; fi
install -m 755 "$rel/dpcore-info" "$dest/bin/dpcore-info"
install -m 755 scripts/dpcore-config "$dest/bin/dpcore-config"

cat > "$dest/lib/pkgconfig/dpcore.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include
plugin=\${libdir}/libdpcore_sycl.so

Name: dpcore
Description: Native extension interface for data-parallel devices: devices, queues, USM, n-d arrays, kernels, DLPack
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -ldpcore -Wl,-rpath,\${libdir}
EOF

cat > "$dest/lib/cmake/dpcore/dpcoreConfig.cmake" <<'EOF'
# dpcore's CMake package: find_package(dpcore) gives the imported target
# dpcore::dpcore (libdpcore.so with its include directory) and
#   dpcore_VERSION, dpcore_INCLUDE_DIRS, dpcore_LIBRARIES,
#   dpcore_SYCL_PLUGIN (the plugin libdpcore.so loads from its own directory;
#   also the target's DPCORE_SYCL_PLUGIN property), dpcore_FORTRAN_MODULE_SOURCE.
get_filename_component(_dpcore_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET dpcore::dpcore)
  add_library(dpcore::dpcore SHARED IMPORTED)
  set_target_properties(dpcore::dpcore PROPERTIES
    IMPORTED_LOCATION "${_dpcore_prefix}/lib/libdpcore.so.@MAJOR@"
    IMPORTED_SONAME "libdpcore.so.@MAJOR@"
    INTERFACE_INCLUDE_DIRECTORIES "${_dpcore_prefix}/include"
    DPCORE_SYCL_PLUGIN "${_dpcore_prefix}/lib/libdpcore_sycl.so")
endif()
set(dpcore_VERSION "@VERSION@")
set(dpcore_INCLUDE_DIRS "${_dpcore_prefix}/include")
set(dpcore_LIBRARIES dpcore::dpcore)
set(dpcore_SYCL_PLUGIN "${_dpcore_prefix}/lib/libdpcore_sycl.so")
set(dpcore_FORTRAN_MODULE_SOURCE "${_dpcore_prefix}/include/dpcore/dpcore.f90")
if(NOT EXISTS "${dpcore_SYCL_PLUGIN}")
  message(WARNING "dpcore: the SYCL plugin ${dpcore_SYCL_PLUGIN} is missing; dpcore will report 0 devices")
endif()
unset(_dpcore_prefix)
EOF
sed -i "s/@MAJOR@/$major/g; s/@VERSION@/$version/g" "$dest/lib/cmake/dpcore/dpcoreConfig.cmake"

cat > "$dest/lib/cmake/dpcore/dpcoreConfigVersion.cmake" <<EOF
# Compatible when the major version matches (the SONAME) and the installed
# minor.patch is at least the one asked for.
set(PACKAGE_VERSION "$version")
if(PACKAGE_FIND_VERSION_MAJOR STREQUAL "$major" AND NOT PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
elseif(NOT PACKAGE_FIND_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
else()
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
endif()
EOF

# The Python package, with its extension's rpath reaching PREFIX/lib.
py="${DPCORE_VENV:-$root/.venv}/bin/python"
if [ -x "$py" ] && ls python/dpcore/_dpcore*.so >/dev/null 2>&1; then
  site=$("$py" -c 'import sys; print(f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages")')
  install -d "$dest/$site/dpcore"
  install -m 644 python/dpcore/__init__.py python/dpcore/dpcore_c.pxd "$dest/$site/dpcore/"
  install -m 755 python/dpcore/_dpcore*.so "$dest/$site/dpcore/"
  # Its RUNPATH reaches PREFIX/lib from site-packages/dpcore only.
  for so in "$dest/$site"/dpcore/_dpcore*.so; do
    python3 scripts/set-runpath.py "$so" '$ORIGIN/../../..' >/dev/null
  done
  say "Python package in $prefix/$site (add it to PYTHONPATH)"
fi
say "dpcore $version installed in $prefix"
