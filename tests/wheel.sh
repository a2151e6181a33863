#!/usr/bin/env bash
# dpcore as an extension author gets it (make test-wheel). For each Python
# in DPCORE_WHEEL_PYTHONS (default "3.11 3.12"):
#   1. `pip wheel .` builds dpcore's wheel (PEP 517, scikit-build-core, with
#      build isolation: pip installs the build requirements itself);
#   2. a fresh venv, holding nothing of this repository, gets the wheel with
#      its OpenCL CPU extra, plus the peers used as producers (dpnp, dpctl),
#      oneMKL and pytest from PyPI;
#   3. there, with a clean environment (no OCL_ICD_FILENAMES, LD_LIBRARY_PATH,
#      PYTHONPATH, SYCL_ROOT), the standalone examples-pybind11/onemkl_gemv
#      project is built with pip against the installed wheel, and
#      tests/wheel/test_wheel.py runs: devices found, python -m dpcore and
#      dpcore-info, DLPack with dpnp/dpctl, the example extension, C builds
#      with pkg-config and find_package(dpcore).
# The Rust part is not compiled again: the wheels use make build's cargo
# target directory (DPCORE_WHEEL_CARGO_TARGET, default target/) and SYCL
# root (DPCORE_WHEEL_SYCL_ROOT, default the project's venv, whose
# intel-sycl-rt is the pinned one), so each wheel only compiles its Python
# extension. DPCORE_WHEEL_ISOLATED_SYCL=1 builds against the build
# environment's own intel-sycl-rt instead (what a plain `pip install .`
# does; slower).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pythons=${DPCORE_WHEEL_PYTHONS:-3.11 3.12}
venv_main=${DPCORE_VENV:-$root/.venv}

find_python() { # find_python 3.12: an interpreter of that version
  local v=$1 c
  # (an interpreter of its own, not the project's venv that PATH may lead to)
  for c in "$(pyenv root 2>/dev/null)/versions/$v"*/bin/"python$v" /usr/bin/"python$v" /usr/local/bin/"python$v"; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import ensurepip, venv' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

clean=(env -i PATH=/usr/bin:/bin HOME="${HOME:-/tmp}")
define=()
if [ "${DPCORE_WHEEL_ISOLATED_SYCL:-0}" != 1 ]; then
  define+=("-Ccmake.define.DPCORE_SYCL_ROOT=${DPCORE_WHEEL_SYCL_ROOT:-$venv_main}")
fi
define+=("-Ccmake.define.DPCORE_CARGO_TARGET_DIR=${DPCORE_WHEEL_CARGO_TARGET:-$root/target}")

for v in $pythons; do
  py=$(find_python "$v") || { echo "wheel.sh: no Python $v with venv support (pyenv versions, python$v)" >&2; exit 1; }
  echo "[wheel] Python $v: $py"
  bv="$tmp/build-$v"; tv="$tmp/venv-$v"; dist="$tmp/dist-$v"
  "$py" -m venv "$bv"
  "$bv/bin/pip" install -q --upgrade pip
  t0=$(date +%s)
  "${clean[@]}" "$bv/bin/pip" wheel -q --no-deps -w "$dist" "${define[@]}" "$root"
  whl=$(ls "$dist"/dpcore-*.whl)
  echo "[wheel] built $(basename "$whl") ($(du -h "$whl" | cut -f1)) in $(( $(date +%s) - t0 )) s"
  "$py" -m venv "$tv"
  t0=$(date +%s)
  "${clean[@]}" "$tv/bin/pip" install -q "$whl[opencl]" dpnp dpctl pytest \
      onemkl-sycl-blas onemkl-sycl-include scikit-build-core pybind11
  echo "[wheel] fresh venv ready in $(( $(date +%s) - t0 )) s"
  # The example extension, built by pip against the installed wheel (its
  # build requirements are in the venv: no isolation, no download of dpcore).
  "${clean[@]}" "$tv/bin/pip" install -q --no-build-isolation "$root/examples-pybind11/onemkl_gemv"
  # Nothing of the checkout on any path: run from a directory outside it.
  (cd "$tmp" && "${clean[@]}" DPCORE_TEST_EXAMPLES_C="$root/examples-c" \
     "$tv/bin/python" -m pytest -q -p no:cacheprovider "$root/tests/wheel/test_wheel.py")
done
echo "[wheel] all Pythons passed: $pythons"
