//! Fork safety: the fork gate.
//!
//! A process that forks while another of its threads is inside dpcore (or
//! inside the runtime through dpcore) would hand the child locks that no
//! thread of the child will ever release: the handle table, the USM map,
//! the bundle cache, a `OnceLock` being initialised, the runtime's own
//! mutexes. The child would hang on its first call.
//!
//! So every dpcore call passes a gate. A thread entering dpcore counts
//! itself in (`ACTIVE`); nested entries on the same thread (a DLPack
//! deleter run inside an export, a deferred drop that calls back into
//! dpcore) only bump a thread-local depth. A `pthread_atfork` prepare
//! handler, registered once when the library is loaded, closes the gate
//! (`FORKING`) and waits until no other thread is inside; the parent and
//! child handlers open it again. The child handler also forgets dpcore's
//! deferred-release thread (it does not exist in the child) and the jobs
//! it held (they are the parent's memory and events: the child must not
//! give them back). In the child, deferred releases are made at once,
//! after a wait for their events: the runtime's worker threads are gone
//! too, and the OpenCL CPU runtime then runs work only while it is waited
//! for (see `in_forked_child`).
//!
//! The wait is bounded (`DPCORE_FORK_TIMEOUT_MS`, 10 s by default): a call
//! that cannot finish while the forking thread waits (a DLPack deleter
//! waiting for a lock the forking thread holds, e.g. Python's GIL, or a
//! very long wait for device work) does not hang the fork. The fork then
//! proceeds, and in that child every dpcore call fails with
//! `DPC_ERROR_UNSUPPORTED` and a message saying why, instead of hanging.
//!
//! Threads that block for an unbounded time on something other than
//! device work leave the gate while they block: the deferred-release
//! thread while it sleeps or waits for jobs, and `wait_deferred` while it
//! waits for that thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::time::{Duration, Instant};

use crate::error::{dpc_status::*, Error, Result};

/// Threads inside dpcore (each counted once, however deep).
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// Set by the prepare handler for the duration of a fork.
static FORKING: AtomicBool = AtomicBool::new(false);
/// Set in a child forked while some dpcore call could not finish.
static UNUSABLE: AtomicBool = AtomicBool::new(false);
/// Set by the prepare handler when its wait timed out (read by the child
/// handler).
static TIMED_OUT: AtomicBool = AtomicBool::new(false);
/// How long the prepare handler waits, in milliseconds.
static TIMEOUT_MS: AtomicU64 = AtomicU64::new(10_000);
/// How long, at most, the prepare handler waits for the runtime's threads
/// to settle, in microseconds.
static SETTLE_US: AtomicU64 = AtomicU64::new(20_000);
/// Forks seen by this process (parent side), for tests and diagnostics.
static FORKS: AtomicU64 = AtomicU64::new(0);
/// Set in a forked child (of a process where dpcore was loaded).
static FORKED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// How deep this thread is inside dpcore (0: outside).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Proof that this thread is inside the gate; leaving drops it.
pub struct Pass(());

impl Drop for Pass {
    #[inline]
    fn drop(&mut self) {
        let d = DEPTH.with(|d| {
            let n = d.get() - 1;
            d.set(n);
            n
        });
        if d == 0 {
            ACTIVE.fetch_sub(1, Release);
        }
    }
}

fn unusable() -> Error {
    Error::new(
        DPC_ERROR_UNSUPPORTED,
        format!(
            "{}: dpcore cannot be used in this process: it was forked while another thread \
             was inside a dpcore call that did not finish within {} ms \
             (DPCORE_FORK_TIMEOUT_MS), so the child may have inherited locks that nothing \
             will release; fork when no dpcore call is in flight, or use the spawn start method",
            crate::error::current_export(),
            TIMEOUT_MS.load(Relaxed)
        ),
    )
}

/// Enter dpcore on this thread: waits while a fork is under way; fails in
/// a child that must not use dpcore (see the module's documentation).
#[inline]
pub fn enter() -> Result<Pass> {
    let nested = DEPTH.with(|d| {
        let n = d.get();
        d.set(n + 1);
        n > 0
    });
    if nested {
        return Ok(Pass(()));
    }
    // `Pass` now owns the depth just taken: dropping it on failure undoes
    // it (and the count, which `acquire` leaves taken on success only).
    let pass = Pass(());
    ACTIVE.fetch_add(1, SeqCst);
    if FORKING.load(SeqCst) || UNUSABLE.load(Relaxed) {
        acquire_slow()?;
    }
    Ok(pass)
}

/// The gate is closed (or the process is an unusable child): step out,
/// wait for the fork to end, step back in. Returns with this thread counted
/// in `ACTIVE`, or with an error and counted in (the caller's `Pass` takes
/// it out).
#[cold]
fn acquire_slow() -> Result<()> {
    loop {
        if UNUSABLE.load(Relaxed) {
            return Err(unusable());
        }
        // Out of the way of the forking thread, which waits for `ACTIVE`
        // to drain. The prepare handler stores `FORKING` before reading
        // `ACTIVE` and we add to `ACTIVE` before reading `FORKING` (both
        // SeqCst), so one of us sees the other.
        ACTIVE.fetch_sub(1, SeqCst);
        let mut spins = 0u32;
        while FORKING.load(SeqCst) {
            backoff(&mut spins);
        }
        ACTIVE.fetch_add(1, SeqCst);
        if !FORKING.load(SeqCst) {
            return Ok(());
        }
    }
}

fn backoff(spins: &mut u32) {
    *spins += 1;
    if *spins < 64 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// Run `f`, which blocks for a time that does not depend on device work
/// (waiting for another dpcore thread), outside the gate, so that a fork
/// can proceed meanwhile. `f` must not hold any dpcore lock.
pub fn outside<R>(f: impl FnOnce() -> R) -> R {
    let depth = DEPTH.with(|d| d.replace(0));
    if depth > 0 {
        ACTIVE.fetch_sub(1, SeqCst);
    }
    let r = f();
    if depth > 0 {
        ACTIVE.fetch_add(1, SeqCst);
        if FORKING.load(SeqCst) {
            // An unusable child cannot get here (the thread would not
            // exist in it), so this only waits for the fork to end.
            let _ = acquire_slow();
        }
    }
    DEPTH.with(|d| d.set(depth));
    r
}

/// The number of forks this process made since dpcore was loaded.
pub fn forks() -> u64 {
    FORKS.load(Relaxed)
}

/// Whether this process is a forked child of one that had dpcore loaded.
/// There the runtime's worker threads are gone: the OpenCL CPU runtime runs
/// submitted work only while a thread waits for it, so an event polled
/// without a wait never completes. Deferred releases are then made
/// synchronously (`usm::defer`).
pub fn in_forked_child() -> bool {
    FORKED.load(Relaxed)
}

extern "C" fn prepare() {
    FORKING.store(true, SeqCst);
    // The forking thread may itself be inside dpcore (a callback that
    // forks); it does not wait for itself.
    let mine = usize::from(DEPTH.with(|d| d.get()) > 0);
    let limit = Duration::from_millis(TIMEOUT_MS.load(Relaxed));
    let start = Instant::now();
    let mut spins = 0u32;
    let mut timed_out = false;
    while ACTIVE.load(SeqCst) > mine {
        if start.elapsed() >= limit {
            timed_out = true;
            break;
        }
        backoff(&mut spins);
    }
    TIMED_OUT.store(timed_out || mine > 0, SeqCst);
    // No dpcore call submits work now, so the runtime's worker threads run
    // out of it and go to sleep, each taking its pool's lock to do so (TBB:
    // the worker list of `private_server`). A fork at that moment leaves
    // the lock held in the child for ever, hanging its first enqueue. So
    // the fork waits until no other thread of the process is busy (see
    // `quiesce`), for at most DPCORE_FORK_SETTLE_US (0 turns it off). This
    // narrows the window; it cannot close it: the runtime's threads are not
    // dpcore's to stop.
    let settle = SETTLE_US.load(Relaxed);
    if settle > 0 && !timed_out && crate::backend::was_loaded() {
        quiesce(Duration::from_micros(settle));
    }
}

/// The threads of this process other than the caller that the kernel
/// shows running or runnable (`R` in /proc/self/task/*/stat).
fn running_threads() -> Vec<u32> {
    // SAFETY: gettid takes no arguments and cannot fail.
    let me = unsafe { libc::gettid() } as u32;
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&tid| tid != me)
        .filter(|tid| {
            // The state follows the command name, which is in parentheses
            // and may itself hold any character: take what follows the
            // last ')'.
            std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"))
                .ok()
                .and_then(|st| {
                    let rest = &st[st.rfind(')')? + 1..];
                    rest.split_whitespace().next().map(|s| s == "R")
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Wait, for at most `limit`, until no other thread stays busy: none seen
/// running in two samples 200 µs apart. Threads parked at the gate nap
/// between looks at it and are rarely seen running twice; a runtime worker
/// finishing its work or spinning before it sleeps is. An application
/// thread busy outside dpcore costs the fork the whole `limit`, no more.
fn quiesce(limit: Duration) {
    let start = Instant::now();
    let mut before = running_threads();
    loop {
        std::thread::sleep(Duration::from_micros(200));
        let now = running_threads();
        if !now.iter().any(|t| before.contains(t)) || start.elapsed() >= limit {
            return;
        }
        before = now;
    }
}

extern "C" fn parent() {
    FORKS.fetch_add(1, Relaxed);
    FORKING.store(false, SeqCst);
}

extern "C" fn child() {
    // Only the forking thread exists here: nothing else is inside.
    let mine = usize::from(DEPTH.with(|d| d.get()) > 0);
    ACTIVE.store(mine, SeqCst);
    if TIMED_OUT.load(SeqCst) {
        UNUSABLE.store(true, SeqCst);
    }
    FORKED.store(true, SeqCst);
    crate::usm::forget_reaper_in_child();
    FORKING.store(false, SeqCst);
}

extern "C" fn register() {
    if let Some(ms) = std::env::var("DPCORE_FORK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        TIMEOUT_MS.store(ms, Relaxed);
    }
    if let Some(us) = std::env::var("DPCORE_FORK_SETTLE_US")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        SETTLE_US.store(us, Relaxed);
    }
    // SAFETY: the three handlers are plain `extern "C" fn()` without
    // captured state, as `pthread_atfork` requires; they only touch this
    // module's atomics and thread-local, and (the child handler) swap
    // `usm`'s reaper pointer; none can unwind (a panic in an `extern "C"`
    // fn aborts, and they have none). A failure to register (ENOMEM)
    // leaves fork unguarded, as before this module existed.
    unsafe {
        libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
    }
}

/// Registered when the library is loaded (before any dpcore call can be
/// in flight), once per process.
#[used]
#[link_section = ".init_array"]
static REGISTER: extern "C" fn() = register;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_entries_count_once() {
        {
            let _a = enter().unwrap();
            let _b = enter().unwrap();
            assert_eq!(DEPTH.with(|d| d.get()), 2);
            outside(|| assert_eq!(DEPTH.with(|d| d.get()), 0));
            assert_eq!(DEPTH.with(|d| d.get()), 2);
        }
        assert_eq!(DEPTH.with(|d| d.get()), 0);
    }
}
