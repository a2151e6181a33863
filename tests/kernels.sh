#!/usr/bin/env bash
# The committed device code is what its sources compile to, byte for byte:
#   - kernels/*.spv from kernels/*.cl (clang-15 + llvm-spirv-15);
#   - kernels/many_args.cl from its generator in scripts/build-kernels.sh;
#   - kernels/lib/copy_cast.pack (embedded in libdpcore by src/copy.rs)
#     from kernels/lib/copy_cast.cl.
# scripts/build-kernels.sh --out rebuilds everything into a temporary
# directory; any difference, a missing or an extra file is a failure (so is a
# missing compiler: scripts/setup.sh installs clang-15 and llvm-spirv-15).
# The rebuild is reproducible as it is (no timestamps or paths in the
# output, fixed flags, the pack sorted by name), so the comparison is exact.
#
#   bash tests/kernels.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

missing=()
command -v clang-15 >/dev/null 2>&1 || missing+=(clang-15)
command -v llvm-spirv-15 >/dev/null 2>&1 || missing+=(llvm-spirv-15)
if ((${#missing[@]})); then
  bad "the kernel tools are installed (missing: ${missing[*]}; scripts/setup.sh installs them: apt-get install ${missing[*]})"
  echo "kernel drift: $passed passed, $failed failed"
  exit 1
fi

if ! bash scripts/build-kernels.sh --out "$tmp/out" >"$tmp/build.log" 2>&1; then
  bad "scripts/build-kernels.sh --out rebuilds the kernels"
  sed 's/^/    | /' "$tmp/build.log" | tail -40
  echo "kernel drift: $passed passed, $failed failed"
  exit 1
fi
ok "scripts/build-kernels.sh --out rebuilds the kernels ($(clang-15 --version | head -1); $(llvm-spirv-15 --version | sed -n 's/^ *\(.*LLVM version.*\)/\1/p' | head -1))"

hint="differs from its source: run scripts/build-kernels.sh and commit the result"

# Every rebuilt module equals the committed one, and nothing is left over.
shopt -s nullglob
for f in "$tmp"/out/*.spv; do
  name=$(basename "$f")
  if [[ ! -e kernels/$name ]]; then bad "kernels/$name is committed (built from kernels/${name%.spv}.cl)"
  elif cmp -s "$f" "kernels/$name"; then ok "kernels/$name is kernels/${name%.spv}.cl compiled"
  else bad "kernels/$name $hint"; fi
done
for f in kernels/*.spv; do
  [[ -e "$tmp/out/$(basename "$f")" ]] || bad "$f has no source in kernels/ (nothing builds it)"
done
if cmp -s "$tmp/out/many_args.cl" kernels/many_args.cl; then
  ok "kernels/many_args.cl is what scripts/build-kernels.sh generates"
else
  bad "kernels/many_args.cl $hint"
  diff -u kernels/many_args.cl "$tmp/out/many_args.cl" | head -20 | sed 's/^/    | /'
fi

# The pack, and on a difference the modules that differ.
if cmp -s "$tmp/out/lib/copy_cast.pack" kernels/lib/copy_cast.pack; then
  ok "kernels/lib/copy_cast.pack is kernels/lib/copy_cast.cl compiled ($(wc -c <kernels/lib/copy_cast.pack) bytes)"
else
  bad "kernels/lib/copy_cast.pack $hint"
  python3 - kernels/lib/copy_cast.pack "$tmp/out/lib/copy_cast.pack" <<'PY' | sed 's/^/    | /'
import struct, sys

def read(path):
    b = open(path, "rb").read()
    if b[:8] != b"DPCKPACK":
        return None, f"{path}: not a pack"
    version, count = struct.unpack_from("<II", b, 8)
    off, mods = 16, {}
    for _ in range(count):
        (n,) = struct.unpack_from("<I", b, off); off += 4
        name = b[off:off + n].decode(); off += n
        (m,) = struct.unpack_from("<I", b, off); off += 4
        mods[name] = b[off:off + m]; off += m
    return (version, mods), None

(old, e1), (new, e2) = read(sys.argv[1]), read(sys.argv[2])
if e1 or e2:
    print(e1 or e2); sys.exit()
if old[0] != new[0]:
    print(f"format version {old[0]} committed, {new[0]} built")
names = sorted(set(old[1]) | set(new[1]))
diff = [n for n in names if old[1].get(n) != new[1].get(n)]
print(f"{len(diff)} of {len(names)} modules differ: {' '.join(diff[:20])}{' ...' if len(diff) > 20 else ''}")
PY
fi

echo "kernel drift: $passed passed, $failed failed"
[ "$failed" = 0 ]
