#!/usr/bin/env bash
# The venv logic of scripts/setup.sh (defect 8), without touching this
# machine's .venv or its Debian packages: the script's functions are sourced
# and run on venvs in a temporary directory, with a fake python3 on PATH and
# a fake apt_install.
#   - a python3 without ensurepip (a stock Debian/Ubuntu python3 without
#     python3.X-venv) is detected, and the versioned venv package installed;
#     when installing does not help, setup fails saying so;
#   - the venv records the interpreter that made it (.venv/.dpcore-python);
#     run again with the same python3 nothing is made again; with another
#     interpreter on PATH setup says so and makes the venv again; a venv made
#     before the stamp existed is judged by its pyvenv.cfg; a venv whose
#     interpreter is gone is made again.
# Needs a second Python interpreter (this image has /usr/bin/python3 and the
# pyenv versions; see /work/shared/ENVIRONMENT.md) for the "another python3"
# cases; without one that part fails.
#
#   bash tests/setup_venv.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; if [[ -n ${2:-} && -s $2 ]]; then sed 's/^/    | /' "$2" | tail -20; fi; }

# The functions only (sourcing runs nothing else).
# shellcheck source=/dev/null
. "$root/scripts/setup.sh"
for f in python_id can_make_venv venv_package ensure_venv_support venv_builder venv_stale_reason setup_venv; do
  declare -F "$f" >/dev/null || { bad "scripts/setup.sh defines $f"; echo "setup venv: $passed passed, $failed failed"; exit 1; }
done

# The real interpreter behind python3 (outside any venv on PATH).
real_py=$(PATH=$(tr ':' '\n' <<<"$PATH" | grep -v '/\.venv/bin$' | paste -sd: -) command -v python3)
real_id=$(python_id "$real_py")
real_exe=${real_id% *}
echo "python3: $real_py -> $real_id"

# A fake python3: the real interpreter, but without ensurepip while
# $tmp/state/no-ensurepip exists (a module of that name that fails to import
# shadows the standard one, as on a Debian python3 without python3.X-venv).
mkdir -p "$tmp/bin" "$tmp/state" "$tmp/shadow/ensurepip"
echo 'raise ImportError("No module named ensurepip (test: python3.X-venv is not installed)")' \
  >"$tmp/shadow/ensurepip/__init__.py"
cat >"$tmp/bin/python3" <<EOF
#!/usr/bin/env bash
if [ -e "$tmp/state/no-ensurepip" ]; then export PYTHONPATH="$tmp/shadow\${PYTHONPATH:+:\$PYTHONPATH}"; fi
exec "$real_exe" "\$@"
EOF
chmod +x "$tmp/bin/python3"
fake="$tmp/bin/python3"

# A fake apt_install: records the packages; "installs" the venv package by
# giving the fake python3 its ensurepip back unless told not to help.
apt_install() {
  echo "$*" >>"$tmp/apt.log"
  if [ ! -e "$tmp/state/apt-does-not-help" ]; then rm -f "$tmp/state/no-ensurepip"; fi
}

# 1. Detection.
if can_make_venv "$real_py"; then ok "python3 ($real_id) can make a venv"; else bad "python3 ($real_id) can make a venv"; fi
touch "$tmp/state/no-ensurepip"
if ! can_make_venv "$fake"; then ok "a python3 without ensurepip is detected"; else bad "a python3 without ensurepip is detected"; fi
xy=$("$real_py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
pkg=$(venv_package "$fake")
if [[ $pkg == "python$xy-venv" || $pkg == python3-venv ]]; then ok "the package to install is $pkg"
else bad "the package to install is python$xy-venv or python3-venv (got $pkg)"; fi

# 2. ensure_venv_support installs it; fails clearly when that does not help.
: >"$tmp/apt.log"
if ensure_venv_support "$fake" >"$tmp/out" 2>&1 && grep -qx "$pkg" "$tmp/apt.log" && can_make_venv "$fake"; then
  ok "without ensurepip, $pkg is installed and then a venv can be made ($(head -1 "$tmp/out"))"
else bad "without ensurepip, $pkg is installed and then a venv can be made" "$tmp/out"; fi
touch "$tmp/state/no-ensurepip" "$tmp/state/apt-does-not-help"
if ! ensure_venv_support "$fake" >"$tmp/out" 2>&1 && grep -q "still cannot make a venv" "$tmp/out"; then
  ok "when installing $pkg does not help, setup fails and says so"
else bad "when installing $pkg does not help, setup fails and says so" "$tmp/out"; fi
rm -f "$tmp/state/apt-does-not-help"

# 3. setup_venv end to end on a temporary venv (requirements: pip, which the
#    new venv already has: no download).
echo pip >"$tmp/requirements.txt"
v="$tmp/venv"
: >"$tmp/apt.log"
if PATH="$tmp/bin:$PATH" setup_venv "$v" "$tmp/requirements.txt" python3 >"$tmp/out" 2>&1 &&
   [[ $(cat "$v/.dpcore-python") == "$real_id" ]] && "$v/bin/python" -m pip --version >/dev/null &&
   grep -qx "$pkg" "$tmp/apt.log" && cmp -s "$tmp/requirements.txt" "$v/.dpcore-requirements"; then
  ok "a stock python3 without ensurepip gets $pkg and makes the venv; .dpcore-python records $real_id"
else bad "a stock python3 without ensurepip gets $pkg and makes the venv, recording the interpreter" "$tmp/out"; fi

touch "$v/marker"
: >"$tmp/apt.log"
if PATH="$tmp/bin:$PATH" setup_venv "$v" "$tmp/requirements.txt" python3 >"$tmp/out" 2>&1 &&
   [[ -e $v/marker && ! -s $tmp/apt.log && ! -s $tmp/out ]]; then
  ok "run again with the same python3: nothing is made again, nothing installed"
else bad "run again with the same python3: nothing is made again, nothing installed" "$tmp/out"; fi

# Another interpreter: one whose identity differs from python3's.
other=""
for c in /usr/bin/python3 "$(pyenv root 2>/dev/null)"/versions/*/bin/python3; do
  [[ -x $c ]] || continue
  id=$(python_id "$c" 2>/dev/null) || continue
  if [[ ${id% *} != "$real_exe" ]] && can_make_venv "$c"; then other=$c other_id=$id; break; fi
done
if [[ -z $other ]]; then
  bad "a second Python interpreter to test with (none found besides $real_id)"
else
  mkdir -p "$tmp/other-bin"
  ln -s "$other" "$tmp/other-bin/python3"
  if PATH="$tmp/other-bin:$PATH" setup_venv "$v" "$tmp/requirements.txt" python3 >"$tmp/out" 2>&1 &&
     grep -q "was made by $real_id, but python3 is now $other_id: making it again" "$tmp/out" &&
     [[ ! -e $v/marker && $(cat "$v/.dpcore-python") == "$other_id" ]] &&
     "$v/bin/python" -c 'import sys; print(sys.version)' >/dev/null; then
    ok "python3 changed to $other_id: setup says so and makes the venv again"
  else bad "python3 changed to $other_id: setup says so and makes the venv again" "$tmp/out"; fi

  # A venv made before the stamp existed: pyvenv.cfg says who made it.
  rm -f "$v/.dpcore-python"
  touch "$v/marker"
  if PATH="$tmp/other-bin:$PATH" setup_venv "$v" "$tmp/requirements.txt" python3 >"$tmp/out" 2>&1 &&
     [[ -e $v/marker && $(cat "$v/.dpcore-python") == "$other_id" ]]; then
    ok "a venv without the stamp, made by the same python3 (pyvenv.cfg): kept, stamp written"
  else bad "a venv without the stamp, made by the same python3: kept, stamp written" "$tmp/out"; fi
  rm -f "$v/.dpcore-python"
  if PATH="$tmp/bin:$PATH" setup_venv "$v" "$tmp/requirements.txt" python3 >"$tmp/out" 2>&1 &&
     grep -q "but python3 is now $real_id" "$tmp/out" && [[ ! -e $v/marker ]] &&
     [[ $(cat "$v/.dpcore-python") == "$real_id" ]]; then
    ok "a venv without the stamp, made by another python3 (pyvenv.cfg): made again"
  else bad "a venv without the stamp, made by another python3: made again" "$tmp/out"; fi
fi

# A venv whose interpreter is gone.
touch "$v/marker"
ln -sf "$tmp/no-such-python" "$v/bin/python"
if PATH="$tmp/bin:$PATH" setup_venv "$v" "$tmp/requirements.txt" python3 >"$tmp/out" 2>&1 &&
   grep -q "does not run" "$tmp/out" && [[ ! -e $v/marker ]] && "$v/bin/python" -c '' ; then
  ok "a venv whose python does not run is made again"
else bad "a venv whose python does not run is made again" "$tmp/out"; fi

# Changed requirements are installed again, without making the venv again.
touch "$v/marker"
printf '# changed\npip\n' >"$tmp/requirements.txt"
if PATH="$tmp/bin:$PATH" setup_venv "$v" "$tmp/requirements.txt" python3 >"$tmp/out" 2>&1 &&
   grep -q "installing requirements.txt" "$tmp/out" && [[ -e $v/marker ]] &&
   cmp -s "$tmp/requirements.txt" "$v/.dpcore-requirements"; then
  ok "changed requirements are installed into the same venv"
else bad "changed requirements are installed into the same venv" "$tmp/out"; fi

# This machine's .venv, as setup would judge it now (read only).
if why=$(venv_stale_reason "$root/.venv" "$real_py"); then
  echo "note: scripts/setup.sh would make $root/.venv again: $why"
else
  echo "note: $root/.venv is current for $real_id (made by $(venv_builder "$root/.venv"))"
fi

echo "setup venv: $passed passed, $failed failed"
[ "$failed" = 0 ]
