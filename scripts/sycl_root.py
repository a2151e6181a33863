"""Print the SYCL runtime root (the directory holding include/sycl/sycl.hpp
and lib/libsycl.so) of the intel-sycl-rt distribution installed for this
interpreter, and its version, one per line; the CMake build runs it to
compile the plugin against the runtime pip gave it (in an isolated build
environment, that environment's). Exits 1 with a message when there is
none, or when its version is not the one pyproject.toml pins.

    python scripts/sycl_root.py [PYPROJECT]
"""
import importlib.metadata as md
import pathlib
import re
import sys


def pinned_range(pyproject):
    """The (lowest, below) versions of intel-sycl-rt that pyproject.toml's
    dependencies allow, as tuples of ints."""
    text = pathlib.Path(pyproject).read_text()
    deps = text.split("[project]", 1)[1]
    m = re.search(r'"intel-sycl-rt>=([0-9.]+),<([0-9.]+)"', deps)
    if not m:
        sys.exit(f"sycl_root.py: no intel-sycl-rt>=X,<Y dependency in {pyproject}")
    return tuple(int(x) for x in m.group(1).split(".")), tuple(int(x) for x in m.group(2).split("."))


def main():
    try:
        dist = md.distribution("intel-sycl-rt")
    except md.PackageNotFoundError:
        sys.exit("sycl_root.py: intel-sycl-rt is not installed for "
                 f"{sys.executable}: pip install 'intel-sycl-rt' (or set SYCL_ROOT)")
    libs = [f for f in dist.files or [] if f.name == "libsycl.so"]
    if not libs:
        sys.exit("sycl_root.py: intel-sycl-rt lists no libsycl.so")
    root = pathlib.Path(dist.locate_file(libs[0])).resolve().parent.parent
    if not (root / "include" / "sycl" / "sycl.hpp").exists():
        sys.exit(f"sycl_root.py: {root} has no include/sycl/sycl.hpp")
    if len(sys.argv) > 1:
        low, below = pinned_range(sys.argv[1])
        have = tuple(int(x) for x in re.findall(r"\d+", dist.version)[:3])
        if not (low <= have < below):
            sys.exit(f"sycl_root.py: intel-sycl-rt {dist.version} is installed, but dpcore's "
                     f"wheel depends on >={'.'.join(map(str, low))},<{'.'.join(map(str, below))}: "
                     "build against the runtime the wheel will load")
    print(root)
    print(dist.version)


if __name__ == "__main__":
    main()
