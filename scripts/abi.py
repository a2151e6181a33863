#!/usr/bin/env python3
"""dpcore's ABI baseline, checked with libabigail (Debian's abigail-tools).

libdpcore.so is Rust; its debug information does not describe the C types
of the exported functions in a way libabigail reads, so the ABI is taken
from what defines it for every user, the public header (cbindgen generates
it from the Rust signatures, and `make check-header` keeps the two equal):
this script compiles a stand-in library from include/dpcore.h -- one
definition per declared function, same signature, same SONAME -- with
debug information, and lets `abidw` describe it (functions, parameter and
return types, structs, enums, typedefs).

    scripts/abi.py dump FILE   write the ABI description of the current header
    scripts/abi.py check       compare with the committed baseline, abi/libdpcore.abi:
                               exit 1 on an incompatible change within the SONAME
                               (removed or changed functions, struct layouts, enum
                               values), and on a compatible change not yet recorded
                               (the baseline is updated in the same commit)
    scripts/abi.py update      rewrite the baseline (after a compatible addition,
                               or with a new SONAME major)
    scripts/abi.py symbols LIB check that LIB exports exactly the header's functions
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# DPCORE_ABI_HEADER: another header to describe (for testing the check itself).
HEADER = os.environ.get("DPCORE_ABI_HEADER") or os.path.join(ROOT, "include", "dpcore.h")
BASELINE = os.path.join(ROOT, "abi", "libdpcore.abi")

# abidiff's exit status bits (libabigail's abidiff_status).
ABIDIFF_ERROR = 1
ABIDIFF_USAGE_ERROR = 2
ABIDIFF_ABI_CHANGE = 4
ABIDIFF_ABI_INCOMPATIBLE_CHANGE = 8


def prototypes(text):
    """(return type, name, parameters) of every function the header declares."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)
    text = text.replace('extern "C" {', " ")
    # Drop struct/enum bodies so that only top-level declarations remain.
    while True:
        new = re.sub(r"\{[^{}]*\}", " ", text)
        if new == text:
            break
        text = new
    text = text.replace("}", " ")  # the close of extern "C"
    out = []
    for stmt in text.split(";"):
        stmt = " ".join(stmt.split())
        if stmt.startswith("typedef") or stmt.startswith('extern "C"'):
            continue
        m = re.fullmatch(r"(.*?\S)\s*\b(dpc_\w+)\s*\((.*)\)", stmt)
        if m and "(" not in m.group(1):
            out.append((m.group(1), m.group(2), m.group(3)))
    return out


def soname_major():
    with open(HEADER) as f:
        m = re.search(r"#define DPC_VERSION_MAJOR (\d+)", f.read())
    if not m:
        sys.exit("abi.py: no DPC_VERSION_MAJOR in include/dpcore.h")
    return m.group(1)


def build_stand_in(workdir):
    with open(HEADER) as f:
        protos = prototypes(f.read())
    if len(protos) < 10:
        sys.exit(f"abi.py: found only {len(protos)} functions in include/dpcore.h; the parser needs a look")
    lines = ['#include "dpcore.h"', '#pragma GCC diagnostic ignored "-Wunused-parameter"']
    # In C the enums are int32_t typedefs, so no function's type reaches
    # them: one variable per enum makes their enumerators part of the
    # description (a renumbered value is then a changed variable).
    with open(HEADER) as f:
        enums = sorted(set(re.findall(r"^enum (dpc_\w+)", f.read(), flags=re.M)))
    for e in enums:
        lines.append(f"enum {e} dpc_abi_enum_{e};")
    for ret, name, params in protos:
        body = "" if ret == "void" else f" return ({ret})0;"
        lines.append(f"{ret} {name}({params}) {{{body} }}")
    src = os.path.join(workdir, "stand_in.c")
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    lib = os.path.join(workdir, f"libdpcore.so.{soname_major()}")
    # Paths in the debug information are mapped so that the description does
    # not depend on where the checkout or the temporary directory is.
    subprocess.run(["gcc", "-std=c11", "-shared", "-fPIC", "-g", "-O0", f"-I{os.path.dirname(HEADER)}",
                    f"-fdebug-prefix-map={workdir}=abi", f"-fdebug-prefix-map={os.path.dirname(HEADER)}=include",
                    f"-Wl,-soname,libdpcore.so.{soname_major()}", "stand_in.c", "-o", lib], check=True, cwd=workdir)
    return lib, [p[1] for p in protos]


def dump(out):
    with tempfile.TemporaryDirectory() as d:
        lib, _ = build_stand_in(d)
        xml = subprocess.run(["abidw", "--no-corpus-path", "--no-show-locs", lib], check=True,
                             capture_output=True, text=True).stdout
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        f.write(xml)


def summary_counts(report):
    """(removed, changed, added) functions and variables in an abidiff report."""
    removed = changed = added = 0
    for m in re.finditer(r"(?:Functions|Variables) changes summary: (\d+) Removed, (\d+) Changed"
                         r"(?: \(\d+ filtered out\))?, (\d+) Added", report):
        removed += int(m.group(1))
        changed += int(m.group(2))
        added += int(m.group(3))
    return removed, changed, added


def check():
    if not os.path.exists(BASELINE):
        sys.exit("abi.py: no baseline abi/libdpcore.abi; create it with scripts/abi.py update")
    with tempfile.TemporaryDirectory() as d:
        cur = os.path.join(d, "current.abi")
        dump(cur)
        r = subprocess.run(["abidiff", "--no-show-locs", BASELINE, cur], capture_output=True, text=True)
        with open(cur) as f, open(BASELINE) as g:
            same_text = f.read() == g.read()
    if r.returncode & (ABIDIFF_ERROR | ABIDIFF_USAGE_ERROR):
        sys.exit(f"abi.py: abidiff failed:\n{r.stdout}{r.stderr}")
    removed, changed, added = summary_counts(r.stdout)
    # Within a SONAME only additions are allowed: any removed function or
    # variable, and any change to one (a parameter, a return type, a struct
    # it reaches, an enumerator's value), breaks compiled users.
    if r.returncode & ABIDIFF_ABI_INCOMPATIBLE_CHANGE or removed or changed:
        print(r.stdout)
        sys.exit(f"abi.py: INCOMPATIBLE ABI change within SONAME libdpcore.so.{soname_major()} (above: "
                 f"{removed} removed, {changed} changed); undo it, or bump the major version "
                 "(Cargo.toml, DPC_VERSION_MAJOR) and run scripts/abi.py update")
    if r.returncode & ABIDIFF_ABI_CHANGE or added or not same_text:
        print(r.stdout)
        sys.exit("abi.py: the ABI changed compatibly (added functions, or harmless changes such as new "
                 "enumerators) but abi/libdpcore.abi was not updated; run scripts/abi.py update and commit it "
                 "with the change")
    print(f"abi.py: the ABI matches abi/libdpcore.abi (libdpcore.so.{soname_major()})")


def symbols(lib):
    with open(HEADER) as f:
        want = sorted(p[1] for p in prototypes(f.read()))
    nm = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True, text=True).stdout
    have = sorted(line.split()[-1] for line in nm.splitlines() if line.strip())
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    if missing or extra:
        sys.exit(f"abi.py: {lib} does not export exactly the header's functions:\n"
                 f"  declared but not exported: {missing}\n  exported but not declared: {extra}")
    print(f"abi.py: {lib} exports exactly the {len(want)} functions of include/dpcore.h")


def main(argv):
    if len(argv) == 2 and argv[0] == "dump":
        dump(argv[1])
    elif argv == ["check"]:
        check()
    elif argv == ["update"]:
        dump(BASELINE)
        print(f"abi.py: wrote {os.path.relpath(BASELINE, ROOT)}")
    elif len(argv) == 2 and argv[0] == "symbols":
        symbols(argv[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
