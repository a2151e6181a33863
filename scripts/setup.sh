#!/usr/bin/env bash
# Set up everything dpcore needs on a fresh Debian 12 machine, idempotently:
#   - Debian packages for the build and the C tests;
#   - the pinned cbindgen (the header is generated with exactly this one);
#   - a venv at .venv with the SYCL stack from requirements.txt, made by the
#     python3 on PATH (recorded in .venv/.dpcore-python; another python3
#     later means the venv is made again);
#   - scripts/env.sh, which a shell sources to run the built programs.
# Sourced (`. scripts/setup.sh`) it only defines its functions and does
# nothing else (tests/setup_venv.sh tests them).

say() { printf '[setup] %s\n' "$*"; }

# apt_install PKG...: install Debian packages (with sudo when not root).
apt_install() {
  local sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "$@"
}

# python_id PY: "<interpreter path, symlinks resolved> <version>" of the
# Python that PY runs (a pyenv shim resolves to the real interpreter).
python_id() {
  "$1" -c 'import os, sys; print(os.path.realpath(sys.executable), "%d.%d.%d" % sys.version_info[:3])'
}

# can_make_venv PY: PY can make a venv with pip in it: the venv module and
# ensurepip with its bundled pip (Debian and Ubuntu ship ensurepip apart,
# in python3.X-venv, so a stock python3 may have venv but no ensurepip).
can_make_venv() {
  "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if ensurepip.version() else 1)' >/dev/null 2>&1
}

# venv_package PY: the Debian/Ubuntu package that gives PY ensurepip:
# python3.X-venv for PY's version when the package index knows it, else
# python3-venv.
venv_package() {
  local versioned
  versioned=$("$1" -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])')
  if apt-cache show "$versioned" >/dev/null 2>&1; then echo "$versioned"; else echo python3-venv; fi
}

# ensure_venv_support PY: make sure PY can make a venv, installing the venv
# package when it cannot; fails with what to do when that does not help.
ensure_venv_support() {
  local py=$1 pkg
  can_make_venv "$py" && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "[setup] $py cannot make a venv (no venv module or no ensurepip) and apt-get is not here:" \
         "install your distribution's venv package for $(python_id "$py")" >&2
    return 1
  fi
  pkg=$(venv_package "$py")
  say "$py ($(python_id "$py")) cannot make a venv (no ensurepip): installing $pkg"
  apt_install "$pkg"
  if ! can_make_venv "$py"; then
    echo "[setup] $py ($(python_id "$py")) still cannot make a venv after installing $pkg;" \
         "it is probably not the distribution's python3: put one that has venv and ensurepip first on PATH" >&2
    return 1
  fi
}

# venv_builder VENV: the python_id of the interpreter that made VENV: from
# its stamp, or (a venv made before the stamp existed) from its pyvenv.cfg;
# empty when neither says.
venv_builder() {
  local venv=$1 exe="" home="" version=""
  if [ -s "$venv/.dpcore-python" ]; then
    cat "$venv/.dpcore-python"
    return 0
  fi
  [ -f "$venv/pyvenv.cfg" ] || return 0
  exe=$(sed -n 's/^executable *= *//p' "$venv/pyvenv.cfg")
  home=$(sed -n 's/^home *= *//p' "$venv/pyvenv.cfg")
  version=$(sed -n 's/^version\(_info\)\? *= *//p' "$venv/pyvenv.cfg" | head -1)
  if [ -z "$exe" ] && [ -n "$home" ]; then exe="$home/python3"; fi
  [ -n "$exe" ] && [ -n "$version" ] || return 0
  echo "$(realpath -m "$exe") $version"
}

# venv_stale_reason VENV PY: prints why VENV must be made (again) for PY and
# succeeds, or fails when VENV is fine as it is.
venv_stale_reason() {
  local venv=$1 py=$2 want have
  if [ ! -e "$venv" ]; then echo "$venv does not exist"; return 0; fi
  if ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
    echo "$venv/bin/python does not run (its interpreter is gone?)"; return 0
  fi
  want=$(python_id "$py")
  have=$(venv_builder "$venv")
  if [ -z "$have" ]; then echo "nothing records which Python made $venv"; return 0; fi
  # The same interpreter: the same path and the same X.Y (a patch update in
  # place keeps the ABI, and the venv's packages, valid).
  if [ "${have% *}" != "${want% *}" ] || [ "$(xy "${have##* }")" != "$(xy "${want##* }")" ]; then
    echo "$venv was made by $have, but python3 is now $want"; return 0
  fi
  return 1
}

xy() { cut -d. -f1,2 <<<"$1"; }

# setup_venv VENV REQUIREMENTS [PY]: VENV made by PY (default python3) with
# REQUIREMENTS installed; made again when PY is another interpreter than
# the one that made it; requirements installed again when they changed.
setup_venv() {
  local venv=$1 reqs=$2 py=${3:-python3} why
  local req_stamp="$venv/.dpcore-requirements"
  if why=$(venv_stale_reason "$venv" "$py"); then
    ensure_venv_support "$py" || return 1
    if [ -e "$venv" ]; then
      say "$why: making it again"
      rm -rf "$venv"
    fi
    say "creating $venv with $py ($(python_id "$py"))"
    "$py" -m venv "$venv" || return 1
    "$venv/bin/python" -m pip --version >/dev/null ||
      { echo "[setup] $venv has no working pip" >&2; return 1; }
    python_id "$py" > "$venv/.dpcore-python" || return 1
  elif [ "$(cat "$venv/.dpcore-python" 2>/dev/null)" != "$(python_id "$py")" ]; then
    # Made before the stamp existed by this interpreter (its pyvenv.cfg
    # says), or by it before a patch update: record it as it is now.
    python_id "$py" > "$venv/.dpcore-python"
  fi
  if ! cmp -s "$reqs" "$req_stamp"; then
    say "installing $(basename "$reqs") into $venv (SYCL runtime, OpenCL CPU runtime, oneMKL, dpctl, dpnp)"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$reqs" || return 1
    cp "$reqs" "$req_stamp"
  fi
}

# Sourced: the functions only.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then return 0; fi

set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

CBINDGEN_VERSION=0.29.4
CARGO_FUZZ_VERSION=0.13.2
# The nightly toolchain for Miri, ThreadSanitizer and cargo-fuzz (see below).
NIGHTLY=nightly-2026-10-30
venv="$root/.venv"

# --- Debian packages ------------------------------------------------------
need_pkgs=()
command -v gcc >/dev/null || need_pkgs+=(gcc)
command -v g++ >/dev/null || need_pkgs+=(g++)
command -v make >/dev/null || need_pkgs+=(make)
command -v readelf >/dev/null || need_pkgs+=(binutils)
command -v python3 >/dev/null || need_pkgs+=(python3 python3-venv)  # venv support: see setup_venv
command -v pkg-config >/dev/null || need_pkgs+=(pkg-config)
command -v cmake >/dev/null || need_pkgs+=(cmake)                 # the out-of-tree CMake build test
command -v abidiff >/dev/null || need_pkgs+=(abigail-tools)       # the ABI baseline check
command -v clang-15 >/dev/null || need_pkgs+=(clang-15)           # the header compile matrix, kernels/
command -v llvm-spirv-15 >/dev/null || need_pkgs+=(llvm-spirv-15) # kernels/*.spv (tests/kernels.sh rebuilds them)
command -v gfortran >/dev/null || need_pkgs+=(gfortran)           # the Fortran module and example
# AddressSanitizer runtime for the C tests.
if ! printf 'int main(void){return 0;}' | gcc -x c -fsanitize=address -o /dev/null - 2>/dev/null; then
  need_pkgs+=(libasan8)
fi
if ((${#need_pkgs[@]})); then
  say "installing Debian packages: ${need_pkgs[*]}"
  apt_install "${need_pkgs[@]}"
fi

# --- Rust tools ------------------------------------------------------------
if ! command -v cargo >/dev/null; then
  echo "[setup] cargo is not on PATH: install Rust (https://rustup.rs) first" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# A pinned nightly, for the tools that stable Rust cannot run: Miri (its
# component exists only on nightly), the ThreadSanitizer build of the core
# (-Zsanitizer=thread with -Zbuild-std, so that std is instrumented too) and
# cargo-fuzz (libFuzzer with sanitizer coverage). Stable builds everything
# else; this toolchain is never the default.
if ! rustup run "$NIGHTLY" cargo miri --version >/dev/null 2>&1 ||
   ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src'; then
  say "installing Rust $NIGHTLY with miri and rust-src"
  rustup toolchain install "$NIGHTLY" --profile minimal --component miri,rust-src
fi
if [ "$(cbindgen --version 2>/dev/null)" != "cbindgen $CBINDGEN_VERSION" ]; then
  say "installing cbindgen $CBINDGEN_VERSION"
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --quiet
fi
# cargo-fuzz (make fuzz, make test-fuzz-smoke), pinned like cbindgen.
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --quiet
fi

# --- Python venv with the SYCL stack ----------------------------------------
# The python3 on PATH, not counting the venv's own (scripts/env.sh puts
# .venv/bin first).
py3=$(PATH=$(tr ':' '\n' <<<"$PATH" | grep -vxF "$venv/bin" | paste -sd: -) command -v python3) ||
  { echo "[setup] no python3 on PATH" >&2; exit 1; }
setup_venv "$venv" "$root/requirements.txt" "$py3"

# --- scripts/env.sh ------------------------------------------------------------
cat > scripts/env.sh <<ENV
# Generated by scripts/setup.sh. Source it: . scripts/env.sh
# The environment the built programs need: the SYCL runtime and Intel's
# OpenCL CPU runtime from .venv, and dpcore's own binaries on PATH.
export DPCORE_ROOT="$root"
export DPCORE_VENV="$venv"
# The pinned nightly (Miri, the ThreadSanitizer build, cargo-fuzz): cargo +\$DPCORE_NIGHTLY.
export DPCORE_NIGHTLY="$NIGHTLY"
export SYCL_ROOT="$venv"
# The wheel's ICD file points at a path that does not exist; name the
# library directly so the OpenCL loader finds the CPU device.
export OCL_ICD_FILENAMES="$venv/lib/libintelocl.so"
export LD_LIBRARY_PATH="$root/target/release:$venv/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PATH="$root/target/release:$venv/bin\${PATH:+:\$PATH}"
# The dpcore Python package (python/dpcore, built by make build (CMakeLists.txt)).
export PYTHONPATH="$root/python\${PYTHONPATH:+:\$PYTHONPATH}"
ENV
say "wrote scripts/env.sh"
