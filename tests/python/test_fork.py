"""Fork safety of the dpcore package: make an array, fork with
multiprocessing's fork context, make an array in the child, hundreds of
times (DPCORE_TEST_FORKS, 300 by default) while worker threads keep dpcore
busy. Every child must finish, with its data right, within a deadline: a
child still running then is a hang, killed and reported."""
import multiprocessing
import os
import threading
import time

import numpy as np
import pytest

import dpcore

FORKS = int(os.environ.get("DPCORE_TEST_FORKS", "300"))
CHILD_DEADLINE_S = 30.0
TOTAL_DEADLINE_S = 240.0


def _child(i):
    expect = np.arange(256, dtype="i4") * 3 + i
    a = dpcore.asarray(expect)
    b = dpcore.zeros((16, 16), dtype="f4")
    if not (a.asnumpy() == expect).all() or b.asnumpy().sum() != 0:
        raise SystemExit(3)
    del a, b


def _worker(stop, errors, seed):
    rng = np.random.default_rng(seed)
    q = dpcore.Queue()
    while not stop.is_set():
        try:
            x = rng.standard_normal(1024).astype("f4")
            a = dpcore.asarray(x, queue=q)
            y = a.asnumpy()
            if not (y == x).all():
                errors.append("worker read back other data")
            z = dpcore.zeros((32, 32), dtype="i8")
            q.barrier().wait()
            del a, z
        except Exception as e:  # noqa: BLE001 -- reported by the test
            errors.append(repr(e))
            return


@pytest.mark.filterwarnings("ignore:.*multi-threaded.*fork.*:DeprecationWarning")
def test_fork_while_threads_work():
    ctx = multiprocessing.get_context("fork")
    stop = threading.Event()
    errors = []
    workers = [threading.Thread(target=_worker, args=(stop, errors, s), daemon=True) for s in range(4)]
    for t in workers:
        t.start()
    failed = []
    start = time.monotonic()
    slowest = 0.0
    done = 0
    try:
        for i in range(FORKS):
            parent_array = dpcore.asarray(np.full(8, i, dtype="i8"))
            t0 = time.monotonic()
            p = ctx.Process(target=_child, args=(i,))
            p.start()
            p.join(CHILD_DEADLINE_S)
            if p.is_alive():
                p.kill()
                p.join()
                failed.append(f"fork {i}: the child hung ({CHILD_DEADLINE_S} s) and was killed")
            elif p.exitcode != 0:
                failed.append(f"fork {i}: the child exited with {p.exitcode}")
            slowest = max(slowest, time.monotonic() - t0)
            assert (parent_array.asnumpy() == i).all()
            done += 1
            if time.monotonic() - start > TOTAL_DEADLINE_S:
                failed.append(f"only {done} forks in {TOTAL_DEADLINE_S} s")
                break
    finally:
        stop.set()
        for t in workers:
            t.join(CHILD_DEADLINE_S)
    print(f"{done} forks in {time.monotonic() - start:.1f} s, slowest {slowest:.3f} s")
    assert not errors, errors[:5]
    assert not failed, failed[:10]
    assert all(not t.is_alive() for t in workers)
