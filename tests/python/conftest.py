"""Session-wide checks of the Python tests.

Required packages: everything scripts/setup.sh installs from
requirements.txt (numpy, dpnp, dpctl, Cython, pybind11) and the dpcore
package that `make build` builds are imported plainly here, so a missing one
fails the whole run at once (it is never a skip). Nothing the tests use is
optional today; a genuinely optional package would use
pytest.importorskip(name, reason="why it is optional").
"""
import importlib

REQUIRED = ["numpy", "dpctl", "dpctl.memory", "dpnp", "Cython", "pybind11", "dpcore"]

for _name in REQUIRED:
    try:
        importlib.import_module(_name)
    except ImportError as e:
        raise ImportError(
            f"required package {_name!r} cannot be imported ({e}); scripts/setup.sh installs it "
            "(requirements.txt into .venv; dpcore by `make build`): run `make build` and "
            "`. scripts/env.sh`") from e


# ---------------------------------------------------------------- devices
# The devices dpcore finds (through the C API, like any binding). Device
# tests take the `device_filter` fixture and run once per device; a session
# that finds no device fails at once (it does not skip the device tests).

import ctypes  # noqa: E402

import pytest  # noqa: E402

from dpcore_ctypes import SZ, check, load  # noqa: E402

DPC_DEVICE_INFO_FILTER_STRING = 7


def _device_filters():
    lib = load()
    lib.dpc_diagnostics.argtypes = [ctypes.c_char_p, SZ, ctypes.POINTER(SZ)]
    n = SZ()
    check(lib, lib.dpc_device_count(ctypes.byref(n)))
    filters = []
    for i in range(n.value):
        d = ctypes.c_void_p()
        check(lib, lib.dpc_device_get(i, ctypes.byref(d)))
        buf = ctypes.create_string_buffer(256)
        size = SZ()
        check(lib, lib.dpc_device_get_info_string(d, DPC_DEVICE_INFO_FILTER_STRING, buf, 256, ctypes.byref(size)))
        filters.append(buf.value.decode())
    diag = ctypes.create_string_buffer(1 << 16)
    lib.dpc_diagnostics(diag, 1 << 16, ctypes.byref(SZ()))
    return filters, diag.value.decode(errors="replace")


DEVICES, _DIAGNOSTICS = _device_filters()


def pytest_report_header(config):
    return f"dpcore devices: {', '.join(DEVICES) or 'NONE'}"


def pytest_sessionstart(session):
    if not DEVICES:
        pytest.exit(
            "dpcore finds no SYCL device, so no device test can run: this is a failure, not a skip.\n"
            "Source scripts/env.sh (it sets OCL_ICD_FILENAMES for the OpenCL CPU runtime in .venv) and "
            "check ONEAPI_DEVICE_SELECTOR and DPCORE_SYCL_PLUGIN. dpc_diagnostics says:\n" + _DIAGNOSTICS,
            returncode=1)


@pytest.fixture(scope="session", params=DEVICES)
def device_filter(request):
    """The filter string of each device dpcore finds (e.g. opencl:cpu:0), one run per device."""
    return request.param


# ---------------------------------------------------------------- the caster probe
# tests/python/ext/caster_probe.cpp (with exchange_producer.hpp), built once
# per session with g++ against dpcore4pybind11.hpp: its functions report what
# the casters made of their arguments.

import pathlib  # noqa: E402
import subprocess  # noqa: E402
import sysconfig  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def probe(tmp_path_factory):
    out = tmp_path_factory.mktemp("probe")
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    includes = subprocess.run(["python", "-m", "pybind11", "--includes"], capture_output=True, text=True,
                              check=True).stdout.split()
    so = out / f"caster_probe{suffix}"
    cmd = ["g++", "-std=c++17", "-O1", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", *includes,
           f"-I{ROOT / 'include'}", f"-I{ROOT / 'cpp-interop' / 'include'}",
           str(ROOT / "tests" / "python" / "ext" / "caster_probe.cpp"), "-o", str(so),
           f"-L{ROOT / 'target' / 'release'}", "-ldpcore", f"-Wl,-rpath,{ROOT / 'target' / 'release'}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import importlib.util
    spec = importlib.util.spec_from_file_location("caster_probe", so)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
