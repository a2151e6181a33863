"""``python -m dpcore``: where dpcore's headers, libraries and CMake package
are, for build scripts (as ``python -m pybind11`` and ``python -m dpctl``
do), and the ``dpcore-info`` console script.

    python -m dpcore --includes     -I flags for dpcore.h and the C++ headers
    python -m dpcore --include-dir  the include directories, one per line
    python -m dpcore --cmakedir     the directory of dpcoreConfig.cmake
                                    (CMAKE_PREFIX_PATH or dpcore_DIR)
    python -m dpcore --libdir       the directory of libdpcore.so
    python -m dpcore --pkgconfigdir the directory of dpcore.pc
    python -m dpcore --version      dpcore's version
    python -m dpcore --info [ARGS]  dpcore-info ARGS (devices, --diagnose)
"""
import argparse
import os
import sys

from . import (__version__, get_cmake_dir, get_include, get_library_dir,
               get_pkgconfig_dir, _info_program)


def info_main(argv=None):
    """The ``dpcore-info`` console script: runs the dpcore-info program
    that comes with this installation."""
    prog = _info_program()
    args = sys.argv[1:] if argv is None else list(argv)
    if prog is None:
        sys.exit("dpcore-info: the dpcore-info program is not in this installation")
    os.execv(prog, [prog] + args)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m dpcore", description=__doc__.split("\n\n")[0])
    p.add_argument("--includes", action="store_true", help="-I flags for dpcore.h and the C++ headers")
    p.add_argument("--include-dir", action="store_true", help="the include directories, one per line")
    p.add_argument("--cmakedir", action="store_true", help="the directory of dpcoreConfig.cmake")
    p.add_argument("--libdir", action="store_true", help="the directory of libdpcore.so")
    p.add_argument("--pkgconfigdir", action="store_true", help="the directory of dpcore.pc")
    p.add_argument("--version", action="store_true", help="dpcore's version")
    p.add_argument("--info", nargs=argparse.REMAINDER, help="run dpcore-info with the arguments that follow")
    a = p.parse_args(argv)
    if a.info is not None:
        info_main(a.info)
    out = []
    try:
        if a.includes:
            out.append(" ".join("-I" + d for d in get_include()))
        if a.include_dir:
            out.extend(get_include())
        if a.cmakedir:
            out.append(get_cmake_dir())
        if a.libdir:
            out.append(get_library_dir())
        if a.pkgconfigdir:
            out.append(get_pkgconfig_dir())
    except FileNotFoundError as e:
        sys.exit(f"python -m dpcore: {e}")
    if a.version:
        out.append(__version__)
    if not out:
        p.print_help()
        return 1
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
