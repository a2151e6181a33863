"""dpcore's wheel installed into a fresh venv, run with a clean environment
(tests/wheel.sh sets it up; nothing of the checkout is importable or on a
library path). Each test is a promise of the wheel to an extension author.
"""
import ctypes
import os
import pathlib
import shutil
import subprocess
import sys

import dpcore
import dpctl
import dpnp
import numpy as np

VENV = pathlib.Path(sys.prefix)
EXAMPLES_C = pathlib.Path(os.environ["DPCORE_TEST_EXAMPLES_C"])


def run(*cmd, env=None, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r.stdout


def test_the_package_is_the_installed_wheel():
    here = pathlib.Path(dpcore.__file__).resolve()
    assert here.is_relative_to(VENV.resolve()), here
    for var in ("LD_LIBRARY_PATH", "PYTHONPATH", "SYCL_ROOT"):
        assert var not in os.environ, var
    # tests/wheel.sh starts pytest without OCL_ICD_FILENAMES; `import dpcore`
    # set it to this environment's OpenCL CPU runtime.
    assert os.environ["OCL_ICD_FILENAMES"].split(":")[0] == str(VENV / "lib" / "libintelocl.so")


def test_devices_are_found_with_no_environment_variables():
    # dpcore points the OpenCL loader at the venv's libintelocl.so itself:
    # the wheel's ICD file names a placeholder path.
    devs = dpcore.devices()
    assert any("opencl:cpu" in repr(d) for d in devs), devs
    libc = ctypes.CDLL(None)
    libc.getenv.restype = ctypes.c_char_p
    icd = libc.getenv(b"OCL_ICD_FILENAMES").decode()
    assert icd.split(":")[0] == str(VENV / "lib" / "libintelocl.so") or \
        pathlib.Path(icd.split(":")[0]).resolve() == (VENV / "lib" / "libintelocl.so").resolve(), icd


def test_python_m_dpcore_gives_paths_that_exist():
    out = run(sys.executable, "-m", "dpcore", "--includes", "--cmakedir", "--libdir",
              "--pkgconfigdir", "--version").splitlines()
    includes, cmakedir, libdir, pcdir, version = out
    inc = [pathlib.Path(f[2:]) for f in includes.split()]
    assert (inc[0] / "dpcore.h").exists() and (inc[0] / "dpcore" / "dpcore4pybind11.hpp").exists()
    assert inc == [pathlib.Path(p) for p in dpcore.get_include()]
    assert (pathlib.Path(cmakedir) / "dpcoreConfig.cmake").exists()
    assert (pathlib.Path(libdir) / "libdpcore.so.0").exists()
    assert (pathlib.Path(libdir) / "libdpcore_sycl.so").exists()
    assert (pathlib.Path(pcdir) / "dpcore.pc").exists()
    assert version == dpcore.__version__
    for p in [cmakedir, libdir, pcdir, *map(str, inc)]:
        assert pathlib.Path(p).resolve().is_relative_to(VENV.resolve()), p


def test_dpcore_info_console_script_and_diagnose():
    info = shutil.which("dpcore-info", path=str(VENV / "bin"))
    assert info, "no dpcore-info console script"
    assert "opencl:cpu:0" in run(info, env=_clean_env())
    # The program itself (a C caller of libdpcore), started with nothing set:
    # the C library points the OpenCL loader at the environment's runtime.
    prog = pathlib.Path(dpcore.__file__).parent / "bin" / "dpcore-info"
    diag = run(prog, "--diagnose", env=_clean_env())
    assert "OCL_ICD_FILENAMES set by dpcore" in diag, diag
    assert "found through the Python environment libdpcore.so is installed in" in diag, diag
    assert "opencl:cpu:0" in run(prog, env=_clean_env())


def test_the_plugin_finds_the_runtime_through_a_relative_runpath():
    out = run("readelf", "-d", pathlib.Path(dpcore.get_library_dir()) / "libdpcore_sycl.so")
    runpath = [l for l in out.splitlines() if "RUNPATH" in l]
    assert runpath and "$ORIGIN" in runpath[0] and "/work" not in runpath[0], runpath


def test_dlpack_with_dpnp_and_dpctl():
    x = dpnp.arange(12, dtype="f4").reshape(3, 4)
    a = dpcore.from_dlpack(x)
    assert a.shape == (3, 4)
    back = dpnp.from_dlpack(a)
    assert dpnp.asnumpy(back).tolist() == dpnp.asnumpy(x).tolist()
    t = dpnp.tensor.from_dlpack(dpcore.full((5,), 2.5, dtype="f8"))
    assert dpnp.tensor.asnumpy(t).tolist() == [2.5] * 5
    # dpctl, imported after dpcore in this process, sees the device too.
    assert dpctl.get_devices(), "dpctl sees no device"


def test_the_standalone_example_extension_built_against_the_wheel():
    import onemkl_gemv
    A = dpnp.asarray(np.arange(12, dtype="f4").reshape(4, 3))
    x = dpnp.asarray(np.array([1.0, 2.0, 3.0], dtype="f4"))
    y = dpnp.from_dlpack(onemkl_gemv.matmul(A, x))
    np.testing.assert_allclose(dpnp.asnumpy(y), np.arange(12, dtype="f4").reshape(4, 3) @ [1, 2, 3])


def _clean_env():
    return {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}


def test_a_c_program_with_pkg_config(tmp_path):
    env = {**_clean_env(), "PKG_CONFIG_PATH": dpcore.get_pkgconfig_dir()}
    flags = run("pkg-config", "--cflags", "--libs", "dpcore", env=env).split()
    exe = tmp_path / "usm_copy"
    run("gcc", "-std=c11", "-Wall", "-Werror", EXAMPLES_C / "usm_copy.c", "-o", exe, *flags)
    assert run(exe, env=_clean_env()).rstrip().endswith(": ok")


def test_a_c_program_with_find_package(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(EXAMPLES_C / "usm_copy.c", src)
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.21)\nproject(c LANGUAGES C CXX)\n"
        "find_package(dpcore 0.1 REQUIRED COMPONENTS sycl onemkl_blas)\n"
        "add_executable(usm_copy usm_copy.c)\n"
        "target_link_libraries(usm_copy PRIVATE dpcore::dpcore)\n")
    env = {**_clean_env(), "CMAKE_PREFIX_PATH": str(pathlib.Path(dpcore.get_cmake_dir()).parents[2])}
    run("cmake", "-S", src, "-B", tmp_path / "b", env=env)
    run("cmake", "--build", tmp_path / "b", env=env)
    assert run(tmp_path / "b" / "usm_copy", env=_clean_env()).rstrip().endswith(": ok")


def test_the_readmes_compiler_lines_build_against_the_wheel(tmp_path):
    """The README's "Without CMake" lines, as written, with app.c, app.cpp
    and app.f90 standing for a C example, a C++ program using
    dpcore/sycl.hpp and the Fortran example."""
    import re
    root = EXAMPLES_C.parent
    text = (root / "README.md").read_text()
    block = re.search(r"\*\*Without CMake\*\*.*?```sh\n(.*?)```", text, flags=re.S).group(1)
    lines = [re.sub(r"\s+#.*$", "", ln) for ln in block.replace("\\\n", " ").splitlines()]
    lines = [ln.strip() for ln in lines if ln.strip()]
    assert len(lines) == 5, lines
    for src, name in [(EXAMPLES_C / "usm_copy.c", "app.c"), (root / "tests" / "cpp" / "test_sycl_interop.cpp", "app.cpp"),
                      (root / "examples-fortran" / "saxpy.f90", "app.f90")]:
        shutil.copy(src, tmp_path / name)
    bindir = pathlib.Path(dpcore.__file__).parent / "bin"
    env = {**_clean_env(), "PATH": f"{VENV / 'bin'}:{bindir}:/usr/bin:/bin", "VENV": str(VENV),
           "PKG_CONFIG_PATH": dpcore.get_pkgconfig_dir()}
    for i, line in enumerate(lines):
        out = f"prog{i}"
        cmd = line if line.startswith("gfortran -c") else f"{line} -o {out}"
        run("bash", "-c", cmd, env=env, cwd=tmp_path)
    # The C programs run with nothing set.
    for i in (0, 1):
        assert run(tmp_path / f"prog{i}", env=_clean_env()).rstrip().endswith(": ok")
