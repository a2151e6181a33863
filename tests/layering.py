#!/usr/bin/env python3
"""The core's layering (DESIGN.md, "Layers"): internal code never calls an
export, and exports never call each other. Every `dpc_*` function of the C
ABI is looked for in the core's sources; a call anywhere but in a `#[cfg(test)]`
module (tests may drive the C API) fails the check. A plugin never calls the
C ABI either: the plugin crates must not name one.

Usage: python3 tests/layering.py   (exit status 1 on a violation)
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
exports = set(re.findall(r"\b(dpc_[a-z0-9_]+)\s*\(", (ROOT / "include" / "dpcore.h").read_text()))


def code_lines(path):
    """(line number, code) outside comments, strings and #[cfg(test)] modules."""
    depth_test = None  # brace depth at which a test module started
    depth = 0
    for n, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("//"):
            continue
        code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line.split("//")[0])
        if depth_test is None and stripped.startswith("#[cfg(test)]"):
            depth_test = depth
        opened = code.count("{") - code.count("}")
        if depth_test is None:
            yield n, code
        depth += opened
        if depth_test is not None and depth <= depth_test and "}" in code:
            depth_test = None


bad = []
for src in sorted((ROOT / "src").rglob("*.rs")):
    for n, code in code_lines(src):
        for name in re.findall(r"\b(dpc_[a-z0-9_]+)\s*\(", code):
            if name in exports and not re.search(r"\bfn\s+" + name + r"\b", code):
                bad.append(f"{src.relative_to(ROOT)}:{n}: calls the export {name}")
for crate in ("cpp-interop/src", "backend-abi/src", "tests/mock-plugin/src"):
    for src in sorted((ROOT / crate).rglob("*")):
        if src.suffix in (".rs", ".cpp", ".h"):
            for n, code in code_lines(src):
                for name in re.findall(r"\b(dpc_[a-z0-9_]+)\s*\(", code):
                    if name in exports:
                        bad.append(f"{src.relative_to(ROOT)}:{n}: a plugin calls the C ABI ({name})")
if bad:
    print("layering: internal code calls exports:\n  " + "\n  ".join(bad), file=sys.stderr)
    sys.exit(1)
print(f"layering: no internal call of any of the {len(exports)} exports")
