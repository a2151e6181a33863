"""The per-call cost of taking one array argument into a pybind11 extension:
dpcore's caster (a `dpcore::usm_ndarray` parameter, dpcore/dpcore4pybind11.hpp)
against dpnp's own (`dpnp::tensor::usm_ndarray`, dpnp4pybind11.hpp), in one
process.

One extension (benches/pybind11/caster_bench.cpp, built here with g++ into
target/bench/) holds a function per caster; each takes one array and
returns its ndim. The rows:

- baseline: the same call with an untyped `py::object` parameter (pybind11's
  own cost, included in every other row);
- dpnp caster: a `dpnp.tensor.usm_ndarray` (dpnp's caster is a type check;
  a dpnp.ndarray must be unwrapped with .get_array() first, so that row is
  also shown), and the same plus reading shape, strides, data, type, flags
  and the sycl::queue (what dpcore's caster snapshots on every call);
- dpcore caster: a dpnp.ndarray and a dpnp.tensor.usm_ndarray (both through
  __sycl_usm_array_interface__), an object handing out a ready-made
  interface dict (dpcore's own share of the interface path), a dpcore.Array,
  and a numpy array (DLPack);
- for reference, no extension call: reading a dpnp array's
  __sycl_usm_array_interface__ in Python (dpnp builds the dict and waits for
  the array's queue every time).

Each row is timed with timeit: warmed up, then 7 interleaved rounds of a
batch sized to ~0.1 s; the table gives the median ns per call and the ratio
to the dpnp caster on a usm_ndarray (below 1 = faster than dpnp's).

    . scripts/env.sh && python benches/casters.py
"""
import os
import pathlib
import shlex
import statistics
import subprocess
import sys
import sysconfig
import timeit

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

import dpctl  # noqa: E402
import dpnp  # noqa: E402
import numpy as np  # noqa: E402
import pybind11  # noqa: E402

import dpcore  # noqa: E402

SRC = ROOT / "benches" / "pybind11" / "caster_bench.cpp"
OUT_DIR = ROOT / "target" / "bench"
OUT = OUT_DIR / ("caster_bench" + sysconfig.get_config_var("EXT_SUFFIX"))


def build():
    """Compile the extension unless it is newer than its sources."""
    venv = pathlib.Path(os.environ.get("DPCORE_VENV", ROOT / ".venv"))
    dpnp_dir = pathlib.Path(dpnp.__file__).parent
    dpctl_dir = pathlib.Path(dpctl.__file__).parent
    headers = list((ROOT / "cpp-interop" / "include" / "dpcore").glob("*.hpp")) + [
        ROOT / "include" / "dpcore.h",
        dpnp_dir / "backend" / "include" / "dpnp4pybind11.hpp",
    ]
    if OUT.exists() and all(p.stat().st_mtime < OUT.stat().st_mtime for p in [SRC, *headers]):
        return
    config = ROOT / "scripts" / "dpcore-config"
    if config.exists():
        dpcore_flags = shlex.split(subprocess.check_output([str(config), "--includes", "--libs"], text=True))
    else:
        lib = ROOT / "target" / "release"
        dpcore_flags = [f"-I{ROOT / 'include'}", f"-I{ROOT / 'cpp-interop' / 'include'}", f"-L{lib}", "-ldpcore",
                        f"-Wl,-rpath,{lib}"]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(f".tmp{os.getpid()}")
    cmd = [
        "g++", "-std=c++17", "-O2", "-shared", "-fPIC", "-fvisibility=hidden",
        "-DSYCL_DISABLE_FSYCL_SYCLHPP_WARNING",
        f"-I{pybind11.get_include()}", f"-I{sysconfig.get_paths()['include']}",
        f"-I{dpnp_dir / 'backend' / 'include'}",  # dpnp4pybind11.hpp
        f"-I{dpnp_dir / 'include'}",  # dpnp/tensor/_usmarray.h (Cython-generated)
        f"-I{dpctl_dir / 'include'}",  # dpctl4pybind11.hpp, dpctl_capi.h
        "-isystem", str(venv / "include"),  # sycl/sycl.hpp
        str(SRC), "-o", str(tmp),
        *dpcore_flags,
        f"-L{venv / 'lib'}", "-lsycl", f"-Wl,-rpath,{venv / 'lib'}",
    ]
    print(f"[casters] building {OUT.relative_to(ROOT)}", file=sys.stderr)
    subprocess.run(cmd, check=True)
    tmp.replace(OUT)


class FixedSuai:
    """An object whose __sycl_usm_array_interface__ is a ready-made dict (a
    dpnp array's, taken once): what dpcore's caster itself costs on the
    interface path, without the producer's cost of making the dict."""

    def __init__(self, a):
        self.d = a.__sycl_usm_array_interface__
        self.keep = a

    @property
    def __sycl_usm_array_interface__(self):
        return self.d


def median_ns(fn, arg, rounds=7, target=0.1):
    t = timeit.Timer("fn(a)", globals={"fn": fn, "a": arg})
    n, _ = t.autorange()  # warms up, and sizes the batch to >= 0.2 s
    n = max(1, int(n * target / 0.2))
    return [t.timeit(n) / n * 1e9 for _ in range(rounds)]


def main():
    build()
    sys.path.insert(0, str(OUT_DIR))
    import caster_bench as cb

    x = dpnp.ones((4, 5), dtype=dpnp.float32)
    u = x.get_array()
    dc = dpcore.asarray(x)
    h = np.ones((4, 5), dtype=np.float32)
    fixed = FixedSuai(x)
    assert cb.dpcore_ndim(fixed) == 2
    assert cb.dpcore_ndim(x) == cb.dpnp_ndim(u) == cb.dpnp_layout(u) == cb.dpcore_ndim(dc) == cb.dpcore_ndim(h) == 2

    rows = [
        ("`py::object` (baseline)", "dpnp.ndarray", cb.baseline, x),
        ("dpnp `usm_ndarray`", "dpnp.tensor.usm_ndarray", cb.dpnp_ndim, u),
        ("dpnp `usm_ndarray`", "dpnp.ndarray, `.get_array()` in Python", lambda a: cb.dpnp_ndim(a.get_array()), x),
        ("dpnp `usm_ndarray` + layout and queue", "dpnp.tensor.usm_ndarray", cb.dpnp_layout, u),
        ("dpcore `usm_ndarray`", "dpnp.ndarray (its usm_ndarray's attributes)", cb.dpcore_ndim, x),
        ("dpcore `usm_ndarray`", "dpnp.tensor.usm_ndarray (attributes)", cb.dpcore_ndim, u),
        ("dpcore `usm_ndarray`", "object with a ready-made SUAI dict", cb.dpcore_ndim, fixed),
        ("dpcore `usm_ndarray`", "dpcore.Array", cb.dpcore_ndim, dc),
        ("(no call: dpnp making its SUAI dict)", "dpnp.ndarray", lambda a: a.__sycl_usm_array_interface__, x),
        ("dpcore `usm_ndarray`", "numpy.ndarray (DLPack)", cb.dpcore_ndim, h),
    ]
    samples = {i: [] for i in range(len(rows))}
    for _ in range(2):  # interleave: each row's rounds spread over the run
        for i, (_, _, fn, arg) in enumerate(rows):
            samples[i] += median_ns(fn, arg, rounds=4 if not samples[i] else 3)
    med = {i: statistics.median(s) for i, s in samples.items()}
    ref = med[1]

    dev = dpctl.SyclDevice()
    print(f"Per-call cost of one array argument (median of {len(samples[0])} rounds, ns/call; "
          f"ratio = time / dpnp caster on a usm_ndarray, below 1 = faster). "
          f"{dev.filter_string}, dpnp {dpnp.__version__}, pybind11 {pybind11.__version__}, "
          f"dpcore {dpcore.__version__}\n")
    print("| caster | argument | ns/call | vs dpnp caster |")
    print("|---|---|---:|---:|")
    for i, (caster, what, _, _) in enumerate(rows):
        print(f"| {caster} | {what} | {med[i]:.0f} | {med[i] / ref:.2f} |")
    print("\nRatios dpcore/dpnp (below 1 = dpcore faster):")
    print(f"- a dpnp.ndarray through dpcore's caster vs its usm_ndarray through dpnp's: {med[4] / med[1]:.2f}")
    print(f"- the same, both called with a dpnp.ndarray from Python (dpnp's needs .get_array()): {med[4] / med[2]:.2f}")
    print(f"- a usm_ndarray, dpnp's caster also reading layout and queue: {med[5] / med[3]:.2f}")
    print(f"- dpcore's own share on the interface path (ready-made dict) vs dpnp's caster: {med[6] / med[1]:.2f}")
    print(f"For comparison, dpnp spends {med[8]:.0f} ns just making its __sycl_usm_array_interface__ dict (it waits "
          "for the array's queue each time); dpcore's caster reads dpnp arrays through their usm_ndarray's attributes "
          "instead.")

if __name__ == "__main__":
    main()
