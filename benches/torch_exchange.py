"""dpcore's array_view caster on real torch tensors, through torch's DLPack
C exchange API (`type(t).__dlpack_c_exchange_api__`), on the GPU machine
(torch is not installed on the build machine; the tests there use a
stand-in producer, tests/python/ext/exchange_producer.hpp).

Builds benches/pybind11/torch_exchange_bench.cpp with this machine's g++
and pybind11 against target/release/libdpcore.so (built on the build
machine and carried), then:
  - checks what the view reads from CPU tensors (a strided slice: shape,
    strides, dtype, the data pointer, the values through it);
  - shows what a CUDA tensor gives (dpcore has no CUDA backend yet);
  - times, in one run, a bare pybind11 call, the array_view caster on a CPU
    tensor, and torch's own Python `__dlpack__()` (the path a caster without
    the exchange API takes), best and median of 15 rounds, ns per call.

    python3 benches/torch_exchange.py
"""
import os
import pathlib
import statistics
import subprocess
import sys
import timeit

ROOT = pathlib.Path(__file__).resolve().parents[1]
REL = ROOT / "target" / "release"
OUT = ROOT / "target" / "bench"


def build():
    OUT.mkdir(parents=True, exist_ok=True)
    so0 = REL / "libdpcore.so.0"
    if not so0.exists():
        so0.symlink_to("libdpcore.so")
    suffix = subprocess.check_output([sys.executable, "-c",
                                      "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
                                     text=True).strip()
    inc = subprocess.check_output([sys.executable, "-m", "pybind11", "--includes"], text=True).split()
    mod = OUT / f"torch_exchange_bench{suffix}"
    cmd = ["g++", "-std=c++17", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra", *inc,
           f"-I{ROOT / 'include'}", f"-I{ROOT / 'cpp-interop' / 'include'}",
           str(ROOT / "benches" / "pybind11" / "torch_exchange_bench.cpp"), "-o", str(mod),
           f"-L{REL}", "-ldpcore", f"-Wl,-rpath,{REL}"]
    subprocess.run(cmd, check=True)
    sys.path.insert(0, str(OUT))
    import torch_exchange_bench
    return torch_exchange_bench


def timed(f, arg, rounds=15):
    f(arg)
    n = 1
    while timeit.timeit(lambda: f(arg), number=n) < 0.05:
        n *= 2
    ts = [timeit.timeit(lambda: f(arg), number=n) / n * 1e9 for _ in range(rounds)]
    return min(ts), statistics.median(ts)


def main():
    import torch
    b = build()
    print(f"torch {torch.__version__}; exchange API on the type: "
          f"{type(torch.zeros(1)).__dict__.get('__dlpack_c_exchange_api__', None) is not None or hasattr(torch.Tensor, '__dlpack_c_exchange_api__')}")
    t = torch.arange(24, dtype=torch.float32).reshape(4, 6)[:, 1:5]
    info = b.view_info(t)
    print("CPU slice:", info)
    assert info["source"] == "exchange_api", info
    assert info["shape"] == tuple(t.shape) and info["strides"] == tuple(t.stride()), info
    assert info["data"] == t.data_ptr() and info["dtype"] == "float32", info
    assert abs(b.view_sum_f32(t) - float(t.sum())) < 1e-6
    print("CPU slice: shape, strides, pointer and values as torch has them")
    ro = torch.zeros(3, 3)
    print("view of a plain CPU tensor:", b.view_info(ro))
    if torch.cuda.is_available():
        g = torch.ones(5, device="cuda")
        try:
            print("CUDA tensor:", b.view_info(g))
        except Exception as e:  # what a caster without a CUDA backend says
            print(f"CUDA tensor: {type(e).__name__}: {e}")
    x = torch.zeros(16, 16)
    rows = [("pybind11 py::object (bare call)", b.bare),
            ("dpcore array_view, torch CPU tensor (exchange API)", b.view_ndim),
            ("torch's Python __dlpack__() (no caster)", lambda o: o.__dlpack__())]
    res = []
    for _ in range(3):
        res.append([timed(f, x) for _, f in rows])
    best = [min(r[i][0] for r in res) for i in range(len(rows))]
    med = [statistics.median(r[i][1] for r in res) for i in range(len(rows))]
    print("\n| path | ns/call (best) | median | over bare call |")
    print("|---|---:|---:|---:|")
    for (name, _), bst, md in zip(rows, best, med):
        print(f"| {name} | {bst:.0f} | {md:.0f} | {bst - best[0]:.0f} |")


if __name__ == "__main__":
    main()
