"""The per-call cost of taking one array argument into a compiled extension:
dpcore's casters (dpcore/dpcore4pybind11.hpp) against dpnp's own
(dpnp4pybind11.hpp) and, for numpy arrays, nanobind's ndarray caster, in one
process.

Two extensions are built here into target/bench/: caster_bench
(benches/pybind11/caster_bench.cpp, pybind11, g++) with a function per
caster, each taking one array and returning its ndim, and nb_caster_bench
(benches/pybind11/nb_caster_bench.cpp, nanobind, built with nanobind's
sources). The rows:

- baseline: the same pybind11 call with an untyped `py::object` parameter
  (pybind11's own cost, included in every pybind11 row);
- dpnp caster: a `dpnp.tensor.usm_ndarray` (a type check; a dpnp.ndarray must
  be unwrapped with .get_array() first, so that row is also shown), and the
  same plus reading shape, strides, data, type, flags and the sycl::queue;
- dpcore `array_view` (the borrowed view): dpcore.Array, dpnp.ndarray,
  dpnp.tensor.usm_ndarray (also with layout and queue read), numpy, and a
  producer of the DLPack C exchange API (tests/python/ext/exchange_producer.hpp,
  with and without dltensor_from_py_object_no_sync);
- dpcore `usm_ndarray` (the owning, reference-counted array, the caster of
  earlier runs) for dpcore.Array, dpnp.ndarray and numpy;
- nanobind `ndarray<>` for numpy, and nanobind's bare call.

Each row is timed with timeit: warmed up, then 15 rounds of a batch sized to
~0.05 s, interleaved with the other rows' (three passes over the table); the
table gives the best round's ns per call (the machine is shared: other jobs
only ever add time, so the minimum is the figure that compares), the cost
over the bare call of its binding library, and the ratio to the reference
row named in the last column. The median is printed beside it, for the
spread.

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
NB_SRC = ROOT / "benches" / "pybind11" / "nb_caster_bench.cpp"
EXCHANGE = ROOT / "tests" / "python" / "ext" / "exchange_producer.hpp"
OUT_DIR = ROOT / "target" / "bench"
OUT = OUT_DIR / ("caster_bench" + sysconfig.get_config_var("EXT_SUFFIX"))
NB_OUT = OUT_DIR / ("nb_caster_bench" + sysconfig.get_config_var("EXT_SUFFIX"))


def build_nanobind():
    """Compile the nanobind module (with nanobind's own sources) unless it is
    newer than its source."""
    import nanobind
    if NB_OUT.exists() and NB_SRC.stat().st_mtime < NB_OUT.stat().st_mtime:
        return
    src = pathlib.Path(nanobind.source_dir())
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tmp = NB_OUT.with_suffix(f".tmp{os.getpid()}")
    cmd = [
        "g++", "-std=c++17", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-DNDEBUG",
        f"-I{nanobind.include_dir()}", f"-I{src.parent / 'ext' / 'robin_map' / 'include'}",
        f"-I{sysconfig.get_paths()['include']}",
        str(NB_SRC), str(src / "nb_combined.cpp"), "-o", str(tmp),
    ]
    print(f"[casters] building {NB_OUT.relative_to(ROOT)} (nanobind {nanobind.__version__})", file=sys.stderr)
    subprocess.run(cmd, check=True)
    tmp.replace(NB_OUT)


def build():
    """Compile the extension unless it is newer than its sources."""
    venv = pathlib.Path(os.environ.get("DPCORE_VENV", ROOT / ".venv"))
    dpnp_dir = pathlib.Path(dpnp.__file__).parent
    dpctl_dir = pathlib.Path(dpctl.__file__).parent
    headers = list((ROOT / "cpp-interop" / "include" / "dpcore").glob("*.hpp")) + [
        ROOT / "include" / "dpcore.h",
        dpnp_dir / "backend" / "include" / "dpnp4pybind11.hpp",
        EXCHANGE,
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
        f"-I{EXCHANGE.parent}",  # exchange_producer.hpp
        "-isystem", str(venv / "include"),  # sycl/sycl.hpp
        str(SRC), "-o", str(tmp),
        *dpcore_flags,
        f"-L{venv / 'lib'}", "-lsycl", f"-Wl,-rpath,{venv / 'lib'}",
    ]
    print(f"[casters] building {OUT.relative_to(ROOT)}", file=sys.stderr)
    subprocess.run(cmd, check=True)
    tmp.replace(OUT)


def loop_best(fn, arg, n=20000, rounds=15):
    """The caster alone, looped in C++: best of `rounds` runs, ns per load."""
    fn(arg, 1000)  # warm up
    return min(fn(arg, n) for _ in range(rounds))


def round_ns(fn, arg, rounds=5, target=0.05):
    t = timeit.Timer("fn(a)", globals={"fn": fn, "a": arg})
    n, _ = t.autorange()  # warms up, and sizes the batch to >= 0.2 s
    n = max(1, int(n * target / 0.2))
    return [t.timeit(n) / n * 1e9 for _ in range(rounds)]


def main():
    build()
    build_nanobind()
    sys.path.insert(0, str(OUT_DIR))
    import caster_bench as cb
    import nanobind
    import nb_caster_bench as nbb

    x = dpnp.ones((4, 5), dtype=dpnp.float32)
    u = x.get_array()
    dc = dpcore.asarray(x)
    h = np.ones((4, 5), dtype=np.float32)
    ex = cb.ExchangeArray(dc)
    exm = cb.ExchangeArrayManaged(dc)
    for a in (x, u, dc, h, ex, exm):
        assert cb.view_ndim(a) == cb.view_layout(a) == 2
    assert cb.dpnp_ndim(u) == cb.dpnp_layout(u) == cb.dpcore_ndim(x) == cb.dpcore_ndim(dc) == 2
    assert cb.dpcore_ndim(h) == nbb.nb_ndim(h) == 2

    # (key, caster, argument, function, object, reference key)
    rows = [
        ("base", "pybind11 `py::object` (baseline)", "dpnp.ndarray", cb.baseline, x, None),
        ("dpnp", "dpnp `usm_ndarray`", "dpnp.tensor.usm_ndarray", cb.dpnp_ndim, u, None),
        ("dpnp_ga", "dpnp `usm_ndarray`", "dpnp.ndarray, `.get_array()` in Python", lambda a: cb.dpnp_ndim(a.get_array()),
         x, None),
        ("dpnp_lq", "dpnp `usm_ndarray` + layout and queue", "dpnp.tensor.usm_ndarray", cb.dpnp_layout, u, None),
        ("v_dc", "dpcore `array_view`", "dpcore.Array", cb.view_ndim, dc, "dpnp"),
        ("v_dpnp", "dpcore `array_view`", "dpnp.ndarray", cb.view_ndim, x, "dpnp_ga"),
        ("v_usm", "dpcore `array_view`", "dpnp.tensor.usm_ndarray", cb.view_ndim, u, "dpnp"),
        ("v_usm_lq", "dpcore `array_view` + layout and queue", "dpnp.tensor.usm_ndarray", cb.view_layout, u,
         "dpnp_lq"),
        ("v_dpnp_lq", "dpcore `array_view` + layout and queue", "dpnp.ndarray", cb.view_layout, x, "dpnp_lq"),
        ("v_ex", "dpcore `array_view`", "exchange-API producer (dltensor_from_py_object)", cb.view_ndim, ex, "dpnp"),
        ("v_exm", "dpcore `array_view`", "exchange-API producer (managed tensor only)", cb.view_ndim, exm, "dpnp"),
        ("v_np", "dpcore `array_view`", "numpy.ndarray (numpy's struct)", cb.view_ndim, h, "nb_np"),
        ("nb_base", "nanobind `nb::handle` (baseline)", "numpy.ndarray", nbb.nb_baseline, h, None),
        ("nb_np", "nanobind `ndarray<>`", "numpy.ndarray", nbb.nb_ndim, h, None),
        ("u_dc", "dpcore `usm_ndarray` (owning)", "dpcore.Array", cb.dpcore_ndim, dc, "dpnp"),
        ("u_dpnp", "dpcore `usm_ndarray` (owning)", "dpnp.ndarray (attributes)", cb.dpcore_ndim, x, "dpnp_ga"),
        ("u_np", "dpcore `usm_ndarray` (owning)", "numpy.ndarray (DLPack)", cb.dpcore_ndim, h, "nb_np"),
    ]
    samples = {r[0]: [] for r in rows}
    for _ in range(3):  # interleave: each row's rounds spread over the run
        for key, _, _, fn, arg, _ in rows:
            samples[key] += round_ns(fn, arg)
    med = {k: min(s) for k, s in samples.items()}
    mid = {k: statistics.median(s) for k, s in samples.items()}

    dev = dpctl.SyclDevice()
    print(f"Per-call cost of one array argument (best of {len(samples['base'])} rounds, ns/call; "
          f"'over bare call' = minus the baseline of the same binding library; ratio = time / the reference row, "
          f"below 1 = dpcore faster). {dev.filter_string}, dpnp {dpnp.__version__}, dpctl {dpctl.__version__}, "
          f"numpy {np.__version__}, pybind11 {pybind11.__version__}, nanobind {nanobind.__version__}, "
          f"dpcore {dpcore.__version__}\n")
    print("| caster | argument | ns/call | over bare call | ratio | vs | median |")
    print("|---|---|---:|---:|---:|---|---:|")
    names = {r[0]: r[1] + " / " + r[2] for r in rows}
    for key, caster, what, _, _, ref in rows:
        base = med["nb_base"] if key.startswith("nb") else med["base"]
        ratio = f"{med[key] / med[ref]:.2f}" if ref else ""
        print(f"| {caster} | {what} | {med[key]:.0f} | {med[key] - base:.0f} | {ratio} | {names[ref] if ref else ''} "
              f"| {mid[key]:.0f} |")

    def verdict(ok):
        return "met" if ok else "NOT met"

    loops = [
        ("dpcore `array_view`", "dpcore.Array", cb.loop_view, dc),
        ("dpcore `array_view`", "dpnp.ndarray", cb.loop_view, x),
        ("dpcore `array_view`", "dpnp.tensor.usm_ndarray", cb.loop_view, u),
        ("dpnp `usm_ndarray`", "dpnp.tensor.usm_ndarray", cb.loop_dpnp, u),
        ("dpcore `array_view`", "exchange-API producer (dltensor_from_py_object)", cb.loop_view, ex),
        ("dpcore `array_view`", "numpy.ndarray", cb.loop_view, h),
        ("nanobind `ndarray<>`", "numpy.ndarray", nbb.loop_nb, h),
        ("dpcore `usm_ndarray` (owning)", "dpcore.Array", cb.loop_usm, dc),
        ("dpcore `usm_ndarray` (owning)", "dpnp.ndarray", cb.loop_usm, x),
    ]
    alone = {}
    print("\nThe caster alone, per argument (a loop in C++ making a caster, loading the object, reading ndim and "
          "destroying the caster; no Python call; best of 15 runs of 20000 loads):\n")
    print("| caster | argument | ns/argument |")
    print("|---|---|---:|")
    for caster, what, fn, arg in loops:
        alone[(caster, what)] = loop_best(fn, arg)
        print(f"| {caster} | {what} | {alone[(caster, what)]:.1f} |")
    v_dc = alone[("dpcore `array_view`", "dpcore.Array")]
    v_dpnp = alone[("dpcore `array_view`", "dpnp.ndarray")]
    v_usm = alone[("dpcore `array_view`", "dpnp.tensor.usm_ndarray")]
    d_usm = alone[("dpnp `usm_ndarray`", "dpnp.tensor.usm_ndarray")]
    v_ex = alone[("dpcore `array_view`", "exchange-API producer (dltensor_from_py_object)")]
    v_np, n_np = alone[("dpcore `array_view`", "numpy.ndarray")], alone[("nanobind `ndarray<>`", "numpy.ndarray")]

    print("\nTargets (issue 13), on the totals above (each includes the bare call of its binding library, "
          f"{med['base']:.0f} ns for pybind11 in this run):")
    print(f"- a dpcore array <= 60 ns per argument: {med['v_dc']:.0f} ns: {verdict(med['v_dc'] <= 60)}; "
          f"dpcore's own cost {med['v_dc'] - med['base']:.0f} ns over the bare call")
    r1, r2 = med["v_dpnp"] / med["dpnp_ga"], med["v_usm"] / med["dpnp"]
    r3 = med["v_dpnp"] / med["dpnp"]
    print(f"- a dpnp array <= 1.0x dpnp4pybind11: dpnp.ndarray {r1:.2f}x (dpnp's caster needs .get_array()), "
          f"{r3:.2f}x against dpnp's caster on the bare usm_ndarray; usm_ndarray {r2:.2f}x; "
          f"with layout and queue read {med['v_usm_lq'] / med['dpnp_lq']:.2f}x: "
          f"{verdict(r1 <= 1.0 and r2 <= 1.0 and r3 <= 1.0)}")
    print(f"- a numpy array <= nanobind's: {med['v_np']:.0f} vs {med['nb_np']:.0f} ns "
          f"({med['v_np'] / med['nb_np']:.2f}x; over the bare call {med['v_np'] - med['base']:.0f} vs "
          f"{med['nb_np'] - med['nb_base']:.0f} ns): {verdict(med['v_np'] <= med['nb_np'])}")
    print(f"- an exchange-API producer <= 100 ns: {med['v_ex']:.0f} ns: {verdict(med['v_ex'] <= 100)}; "
          f"{med['v_ex'] - med['base']:.0f} ns over the bare call (a producer with only the managed-tensor "
          f"function: {med['v_exm']:.0f} ns)")
    print("\nThe same targets on the caster alone (per argument, no call around it):")
    print(f"- a dpcore array: {v_dc:.1f} ns: {verdict(v_dc <= 60)}")
    print(f"- a dpnp array: dpnp.ndarray {v_dpnp:.1f} ns, usm_ndarray {v_usm:.1f} ns, dpnp's caster on a "
          f"usm_ndarray {d_usm:.1f} ns ({v_dpnp / d_usm:.2f}x, {v_usm / d_usm:.2f}x): "
          f"{verdict(v_dpnp <= d_usm and v_usm <= d_usm)}")
    print(f"- a numpy array: {v_np:.1f} vs nanobind {n_np:.1f} ns ({v_np / n_np:.2f}x): {verdict(v_np <= n_np)}")
    print(f"- an exchange-API producer: {v_ex:.1f} ns: {verdict(v_ex <= 100)}")

if __name__ == "__main__":
    main()
