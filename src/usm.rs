//! USM memory (`dpc_usm_*`): allocation on a queue's device and context,
//! free and deferred free, pointer queries, and the copy, set, fill,
//! prefetch and advise commands.
//!
//! dpcore records every allocation it makes (base, size, kind, context,
//! device). That gives exact answers to pointer queries for its own
//! memory, catches double frees and frees of foreign memory, feeds the
//! per-context statistics, and lets a copy between contexts be staged
//! through the host.

use crate::export;
use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, Ordering::*};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::Duration;

use dpcore_backend_abi as abi;

use crate::backend;
use crate::context::{self, dpc_context, Context};
use crate::device::{self, dpc_device, Device};
use crate::error::{dpc_status, dpc_status::*, Error, Result};
use crate::event::{self, dpc_event, Deps, Event};

use crate::queue::{self, dpc_queue, Queue};
use crate::strings::{check_ptr, write_out};

/// The kind of a USM allocation.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum dpc_usm_kind {
    /// Not USM of the context asked about (stack, malloc, other contexts).
    DPC_USM_UNKNOWN = 0,
    /// Device memory: accessible from the device only.
    DPC_USM_DEVICE = 1,
    /// Shared memory: migrates between host and device.
    DPC_USM_SHARED = 2,
    /// Host memory: on the host, accessible from the device.
    DPC_USM_HOST = 3,
}

fn kind_from_abi(k: i32) -> dpc_usm_kind {
    match k {
        abi::usm_kind::DEVICE => dpc_usm_kind::DPC_USM_DEVICE,
        abi::usm_kind::SHARED => dpc_usm_kind::DPC_USM_SHARED,
        abi::usm_kind::HOST => dpc_usm_kind::DPC_USM_HOST,
        _ => dpc_usm_kind::DPC_USM_UNKNOWN,
    }
}

fn kind_name(k: i32) -> &'static str {
    match k {
        abi::usm_kind::DEVICE => "device",
        abi::usm_kind::SHARED => "shared",
        abi::usm_kind::HOST => "host",
        _ => "unknown",
    }
}

/// One allocation made by dpcore.
#[derive(Clone)]
pub struct Alloc {
    pub base: usize,
    pub size: usize,
    pub kind: i32,
    pub context: Arc<Context>,
    pub device: Arc<Device>,
    /// dpcore's own scratch memory: not in the map, not in the statistics.
    pub internal: bool,
    /// The memory of an array dpcore made (`dpc_array_empty`, ...): only
    /// the array frees it, when its last view goes; `dpc_usm_free` refuses.
    pub array: bool,
}

static ALLOCS: RwLock<BTreeMap<usize, Alloc>> = RwLock::new(BTreeMap::new());

/// Live user allocations in all contexts: when it equals the count of one
/// context, no pointer can be dpcore memory of another (the fast path of
/// `foreign_context`). A pointer the caller passes was allocated before the
/// call, so its count is visible here.
static LIVE_TOTAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The dpcore allocation containing `p`, if any.
pub fn find(p: usize) -> Option<Alloc> {
    let map = ALLOCS.read().unwrap_or_else(|e| e.into_inner());
    map.range(..=p)
        .next_back()
        .filter(|(base, a)| p < **base + a.size)
        .map(|(_, a)| a.clone())
}

/// Fail when the `n` bytes from `arg` = `p` wrap around the address space,
/// or start inside a dpcore allocation and run past its end. Every command
/// that takes a USM pointer and a length checks it before the runtime sees
/// the range; memory dpcore did not allocate is the caller's to vouch for.
pub(crate) fn check_range(arg: &str, p: usize, n: usize) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let function = crate::error::current_export();
    let Some(end) = p.checked_add(n) else {
        return Err(Error::invalid_arg(format!(
            "{function}: {n} bytes from {arg} {p:#x} wrap around the address space"
        )));
    };
    if let Some(a) = find(p) {
        let a_end = a.base + a.size;
        if end > a_end {
            return Err(Error::invalid_arg(format!(
                "{function}: {n} bytes from {arg} {p:#x} run {} bytes past the end of its allocation \
                 ({} bytes at {:#x})",
                end - a_end,
                a.size,
                a.base
            )));
        }
    }
    Ok(())
}

/// Fail unless `arg` = `p` is USM of `q`'s context: a dpcore allocation
/// of that context, or memory the runtime says is USM there. Commands that
/// only take USM (set, fill, prefetch, advice) check it before the runtime
/// writes through a pointer that is not its memory (one past the end of an
/// allocation, freed memory, host memory).
pub(crate) fn check_usm(q: &Queue, arg: &str, p: usize) -> Result<()> {
    let known = match find(p) {
        Some(a) => a.context.same_as(&q.context),
        None => pointer_kind(&q.context, p)? != abi::usm_kind::UNKNOWN,
    };
    if !known {
        return Err(Error::new(
            DPC_ERROR_INVALID_POINTER,
            format!(
                "{}: {arg} {p:#x} is not USM of the context of {}",
                crate::error::current_export(),
                q.describe()
            ),
        ));
    }
    Ok(())
}

/// Fail unless the bytes `data + lo .. data + hi` (an array's extent, `lo`
/// <= 0 < `hi`) lie inside the USM allocation that contains `anchor`: a
/// dpcore allocation, or (with `ask_runtime`) one the runtime reports the
/// range of in `ctx`. When neither tells a range, the lender's promise
/// stands.
pub(crate) fn check_span(
    ctx: &Arc<Context>,
    anchor: usize,
    data: usize,
    (lo, hi): (i64, i64),
    ask_runtime: bool,
) -> Result<()> {
    let range = match find(anchor) {
        Some(a) => Some((a.base, a.size)),
        None if ask_runtime => pointer_info(ctx, anchor)?.range,
        None => None,
    };
    let Some((base, size)) = range else {
        return Ok(());
    };
    let start = data.checked_add_signed(lo as isize);
    let end = data.checked_add(hi as usize);
    match (start, end) {
        (Some(s), Some(e)) if s >= base && e <= base + size => Ok(()),
        _ => Err(Error::invalid_arg(format!(
            "{}: the array's elements span bytes {lo}..{hi} from {data:#x}, outside the allocation \
             of {size} bytes at {base:#x} that holds them",
            crate::error::current_export()
        ))),
    }
}

/// Take the record of the allocation that starts at `p` out of the map,
/// for freeing it: by the caller (`by_array` false: array memory is
/// refused) or by the array that owns it.
fn take_exact(p: usize, by_array: bool) -> Result<Alloc> {
    let function = crate::error::current_export();
    let mut map = ALLOCS.write().unwrap_or_else(|e| e.into_inner());
    if let Some(a) = map.get(&p) {
        if a.array && !by_array {
            return Err(Error::new(
                DPC_ERROR_INVALID_POINTER,
                format!(
                    "{function}: {p:#x} is the memory of a dpcore array ({} bytes); \
                     it is freed when the array's last view is released, not with dpc_usm_free",
                    a.size
                ),
            ));
        }
        return Ok(map.remove(&p).expect("present under the lock"));
    }
    let inside = map
        .range(..=p)
        .next_back()
        .filter(|(base, a)| p < **base + a.size)
        .map(|(base, a)| (*base, a.size));
    Err(Error::new(
        DPC_ERROR_INVALID_POINTER,
        match inside {
            Some((base, size)) => format!(
                "{function}: {p:#x} is inside the allocation of {size} bytes at {base:#x}; pass the pointer dpc_usm_alloc returned"
            ),
            None => format!(
                "{function}: {p:#x} was not allocated by dpcore or was already freed \
                 (memory from other libraries is freed by its owner)"
            ),
        },
    ))
}

/// Give the allocation `a` records back to the runtime, and take it out of
/// the statistics (user allocations).
///
/// # Safety
/// `a` records a live allocation that `usm_alloc` made in `a.context`
/// (by `alloc`, or `fill`'s seed), that no command still uses and that
/// nothing else gives back: its record was taken out of `ALLOCS` by the
/// caller (or, for a seed, never put there), and it is given back here
/// once.
unsafe fn release_now(a: &Alloc) -> Result<()> {
    let b = a.device.backend();
    let r = backend::check(
        // SAFETY: `a.context` is a live context object of `b` (the `Arc`
        // in `a` holds it; it was made over `a.device`, so of its backend)
        // and `a.base` an allocation of it that is given back once and no
        // longer used (this function's contract).
        unsafe {
            crate::faults::table_call!(b.table, usm_free(a.context.obj(), a.base as *mut c_void))
        },
        "usm_free",
    );
    // A failed free gave nothing back: the allocation stays counted (its
    // caller puts the record back).
    if r.is_ok() && !a.internal {
        a.context.stats.remove(a.size as u64);
        LIVE_TOTAL.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
    r
}

/// Put the record of an allocation whose free failed back into `ALLOCS`:
/// the memory is still allocated and still the caller's.
fn restore(a: Alloc) {
    if a.internal {
        // dpcore's own scratch memory is never in the map.
        crate::log::error(&format!(
            "dpcore's scratch memory at {:#x} ({} bytes) could not be freed",
            a.base, a.size
        ));
        return;
    }
    ALLOCS
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(a.base, a);
}

/// The least the runtime is asked to allocate. Allocations under about 96
/// bytes from Intel's OpenCL CPU runtime make glibc's heap grow without
/// bound when they are made and freed in turn (measured with plain SYCL:
/// `sycl::malloc_device` + `sycl::free` of 64 bytes, 40,000 times, grows
/// RSS by 9.4 MB; of 96 bytes or more, by nothing; the heap itself stays
/// flat under valgrind and with tbbmalloc, so it is fragmentation, not a
/// leak). Rounding small requests up costs at most 128 bytes each, as other
/// allocators do (CUDA's and torch's round to 512).
const MIN_RUNTIME_ALLOC: usize = 128;

/// `n` zeroed bytes of host memory `for_what` needs, or
/// `DPC_ERROR_OUT_OF_HOST_MEMORY` saying so (never an abort).
pub(crate) fn host_buffer(n: usize, for_what: &str) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::new(
            DPC_ERROR_OUT_OF_HOST_MEMORY,
            format!("cannot allocate {n} bytes of host memory {for_what}"),
        )
    })?;
    v.resize(n, 0u8);
    Ok(v)
}

// ---------------------------------------------------------------- deferred free

/// What a deferred job gives back once its events are complete.
enum Deferred {
    /// A USM allocation to free.
    Free(Alloc),
    /// An object to drop (e.g. an array keeping foreign memory alive).
    Drop(Box<dyn Send>),
}

struct Job {
    what: Deferred,
    events: Vec<Arc<Event>>,
    /// Failed attempts to give `what` back.
    failures: u32,
}

/// How many times the deferred-free thread tries to free an allocation
/// whose free fails before it gives up and keeps the record (the memory
/// then shows in the leak census and the context's statistics).
const FREE_ATTEMPTS: u32 = 3;

/// Whether every event of `job` is complete. An event whose status cannot
/// be read is waited for instead (the runtime's wait returns once the
/// command has ended, failed or not), so memory is never given back while
/// a command may still use it because a status query failed.
fn job_ready(job: &Job) -> bool {
    job.events.iter().all(|e| match e.status() {
        Ok(s) => s == abi::event_status::COMPLETE,
        Err(status_err) => {
            if let Err(wait_err) = e.wait() {
                crate::log::error(&format!(
                    "deferred free: the event's status failed ({}) and so did its wait ({}); \
                     taking the command as ended",
                    status_err.message, wait_err.message
                ));
            }
            true
        }
    })
}

struct Reaper {
    jobs: Mutex<Vec<Job>>,
    wake: Condvar,
    pending: Mutex<usize>,
    done: Condvar,
}

/// The deferred-release thread's state, made (and leaked) by the first
/// deferred release. A pointer rather than a `OnceLock` so that a forked
/// child, where the thread does not exist, can forget it and start afresh
/// (`forget_reaper_in_child`).
static REAPER: AtomicPtr<Reaper> = AtomicPtr::new(std::ptr::null_mut());

/// The current reaper, if one was started (in this process).
fn current_reaper() -> Option<&'static Reaper> {
    let p = REAPER.load(Acquire);
    // SAFETY: a non-NULL `REAPER` is a `Box::into_raw` that is never freed
    // (see `reaper`), so it is valid for the rest of the process.
    (!p.is_null()).then(|| unsafe { &*p })
}

fn reaper() -> Result<&'static Reaper> {
    if let Some(r) = current_reaper() {
        return Ok(r);
    }
    let fresh = Box::into_raw(Box::new(Reaper {
        jobs: Mutex::new(Vec::new()),
        wake: Condvar::new(),
        pending: Mutex::new(0),
        done: Condvar::new(),
    }));
    if let Err(other) = REAPER.compare_exchange(std::ptr::null_mut(), fresh, AcqRel, Acquire) {
        // Another thread installed one first: use it.
        // SAFETY: `fresh` is our own `Box::into_raw`, published nowhere.
        drop(unsafe { Box::from_raw(fresh) });
        // SAFETY: a non-NULL `REAPER` is never freed (below).
        return Ok(unsafe { &*other });
    }
    // SAFETY: `fresh` is now `REAPER`, which is never freed: leaked for the
    // life of the process (a forked child forgets it without freeing it).
    let r: &'static Reaper = unsafe { &*fresh };
    std::thread::Builder::new()
        .name("dpcore-free".into())
        .spawn(move || reaper_loop(r))
        .map_err(|e| {
            // Nothing was queued on it yet (we just made it): take it out
            // so that a later call tries again.
            let _ = REAPER.compare_exchange(fresh, std::ptr::null_mut(), AcqRel, Acquire);
            Error::new(
                DPC_ERROR_OUT_OF_HOST_MEMORY,
                format!("cannot start dpcore's deferred-free thread: {e}"),
            )
        })?;
    Ok(r)
}

/// In a forked child (the `pthread_atfork` child handler): the
/// deferred-release thread is the parent's and does not exist here; its
/// jobs are the parent's memory and events, which the child must not give
/// back. Forget both (without freeing anything: the reaper's locks may have
/// been held at the fork); the child's first deferred release starts a new
/// thread.
pub(crate) fn forget_reaper_in_child() {
    REAPER.store(std::ptr::null_mut(), Release);
}

/// Frees each job's memory once all its events are complete. Polls event
/// status (no host task, no callback into the caller), sleeping with a
/// growing back-off while work is pending and blocking when there is none.
/// Each pass over the jobs is one dpcore call as far as fork is concerned
/// (inside the fork gate); waiting for jobs and sleeping are outside it.
fn reaper_loop(r: &'static Reaper) {
    let mut backoff = Duration::from_micros(20);
    loop {
        let mut batch = {
            let mut jobs = r.jobs.lock().unwrap_or_else(|e| e.into_inner());
            while jobs.is_empty() {
                jobs = r.wake.wait(jobs).unwrap_or_else(|e| e.into_inner());
                backoff = Duration::from_micros(20);
            }
            std::mem::take(&mut *jobs)
        };
        let before = batch.len();
        {
            // Outside any export: the pass makes its own entry. It fails
            // only in a child that may not use dpcore, where this thread
            // cannot exist.
            let _pass = crate::fork::enter();
            let (ready, waiting): (Vec<Job>, Vec<Job>) =
                std::mem::take(&mut batch).into_iter().partition(job_ready);
            batch = waiting;
            for job in ready {
                match job.what.finish() {
                    Ok(()) => {}
                    Err((e, Some(what))) if job.failures + 1 < FREE_ATTEMPTS => {
                        crate::log::error(&format!(
                            "deferred free failed, will retry: {}",
                            e.message
                        ));
                        // Its events are complete: retried in the next round.
                        batch.push(Job {
                            what,
                            events: Vec::new(),
                            failures: job.failures + 1,
                        });
                    }
                    Err((e, what)) => {
                        crate::log::error(&format!(
                            "deferred free failed {} time(s), giving up: {}",
                            job.failures + 1,
                            e.message
                        ));
                        if let Some(Deferred::Free(a)) = what {
                            // Still allocated: keep its record, so the leak
                            // census and the statistics show it.
                            restore(a);
                        }
                    }
                }
            }
        }
        let freed = before - batch.len();
        if freed > 0 {
            let mut p = r.pending.lock().unwrap_or_else(|e| e.into_inner());
            *p -= freed;
            if *p == 0 {
                r.done.notify_all();
            }
        }
        if !batch.is_empty() {
            r.jobs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(batch);
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_millis(2));
        }
    }
}

impl Deferred {
    /// Give it back now: free the allocation, or drop the object. When the
    /// free fails the allocation comes back with the error, still
    /// allocated.
    fn finish(self) -> std::result::Result<(), (Error, Option<Deferred>)> {
        match self {
            // SAFETY: a `Deferred::Free` is only made from a record taken
            // out of `ALLOCS` (`free_after`) or from `fill`'s seed,
            // which was never in it, and `finish` consumes it, so it is given
            // back once. It runs once the job's events are complete (waited
            // for, in `defer`; in `reaper_loop`, reported complete, or waited
            // for when their status cannot be read: `job_ready`), so no
            // command of theirs still uses it.
            Deferred::Free(a) => match unsafe { release_now(&a) } {
                Ok(()) => Ok(()),
                Err(mut e) => {
                    e.message = format!("{:#x}: {}", a.base, e.message);
                    Err((e, Some(Deferred::Free(a))))
                }
            },
            Deferred::Drop(obj) => {
                drop(obj);
                Ok(())
            }
        }
    }
}

/// Queue a job on the deferred-free thread.
fn push_job(r: &Reaper, what: Deferred, events: Vec<Arc<Event>>) {
    *r.pending.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    r.jobs.lock().unwrap_or_else(|e| e.into_inner()).push(Job {
        what,
        events,
        failures: 0,
    });
    r.wake.notify_one();
}

/// Hand `what` to the deferred-free thread, to be given back once `events`
/// are complete. When the thread cannot start, wait for the events and give
/// it back now.
fn defer(what: Deferred, events: Vec<Arc<Event>>) -> Result<()> {
    if crate::fork::in_forked_child() {
        return finish_after_wait(what, &events);
    }
    match reaper() {
        Ok(r) => {
            push_job(r, what, events);
            Ok(())
        }
        Err(e) => {
            crate::log::error(&format!("{}; giving back synchronously", e.message));
            for ev in &events {
                ev.wait()?;
            }
            what.finish().map_err(|(e, what)| {
                if let Some(Deferred::Free(a)) = what {
                    restore(a);
                }
                e
            })
        }
    }
}

/// In a forked child (see `fork::in_forked_child`): wait for `events`,
/// then give `what` back. As on the deferred-release thread, a failed
/// command no longer uses the memory: its error is logged, not returned.
fn finish_after_wait(what: Deferred, events: &[Arc<Event>]) -> Result<()> {
    if let Err(e) = event::wait_all(events) {
        crate::log::error(&format!("deferred release: {}", e.message));
    }
    what.finish().map_err(|(e, what)| {
        // Still allocated: keep its record (the census shows it).
        if let Some(Deferred::Free(a)) = what {
            restore(a);
        }
        e
    })
}

/// Drop `obj` on the deferred-free thread once `events` are complete (for
/// an array keeping foreign memory alive, `dpc_array_release_after`).
pub(crate) fn defer_drop(obj: Box<dyn Send>, events: Vec<Arc<Event>>) -> Result<()> {
    defer(Deferred::Drop(obj), events)
}

// ---------------------------------------------------------------- commands

/// A queue in `a`'s context on `a`'s device, for staging.
fn queue_for(a: &Alloc) -> Result<Arc<Queue>> {
    let default = context::default_context(&a.device)?;
    if default.same_as(&a.context) {
        return queue::default_queue(&a.device);
    }
    queue::create(&a.context, &a.device, queue::DPC_QUEUE_IN_ORDER)
}

fn foreign_context(q: &Queue, p: usize) -> Option<Alloc> {
    use std::sync::atomic::Ordering::Relaxed;
    if LIVE_TOTAL.load(Relaxed) == q.context.stats.live_count.load(Relaxed) {
        return None;
    }
    find(p).filter(|a| !a.context.same_as(&q.context))
}

/// Copy between contexts through host memory. Synchronous.
///
/// # Safety
/// `src` is valid for reads and `dst` for writes of `n` bytes until the
/// call returns, each USM of `q`'s context or of the context of the dpcore
/// allocation that contains it (or memory the runtime copies from or to
/// the host).
unsafe fn staged_copy(q: &Arc<Queue>, dst: usize, src: usize, n: usize, deps: &Deps) -> Result<()> {
    deps.check_backend(q.backend())?;
    if !deps.is_empty() {
        backend::check(
            // SAFETY: `deps.ptr()` points to `deps.len()` event objects kept
            // alive by `deps`, all of them `q`'s plugin's (checked on
            // entry by `Deps::check_backend`).
            unsafe {
                crate::faults::table_call!(q.backend().table, event_wait(deps.ptr(), deps.len()))
            },
            "event_wait",
        )?;
    }
    let mut host = host_buffer(n, "to stage a copy between contexts")?;
    let copy = |qq: &Queue, to: usize, from: usize| -> Result<()> {
        let t = qq.backend().table;
        backend::check(
            // SAFETY: `qq` is a live queue (borrowed); one side is `host`,
            // `n` bytes of ours, and the other `src` or `dst`, valid for `n`
            // bytes (this function's contract) and USM of `qq`'s context
            // (`qq` is chosen by `foreign_context` below). No dependencies;
            // no event. `qq.wait()` returns after the copy, while `host` is
            // still alive.
            unsafe {
                crate::faults::table_call!(
                    t,
                    enqueue_memcpy(
                        qq.obj(),
                        to as *mut c_void,
                        from as *const c_void,
                        n,
                        std::ptr::null(),
                        0,
                        std::ptr::null_mut(),
                    )
                )
            },
            "enqueue_memcpy",
        )?;
        qq.wait()
    };
    // Out of the source's context (or q's, for foreign memory).
    let src_q = match foreign_context(q, src) {
        Some(a) => queue_for(&a)?,
        None => q.clone(),
    };
    copy(&src_q, host.as_mut_ptr() as usize, src)?;
    let dst_q = match foreign_context(q, dst) {
        Some(a) => queue_for(&a)?,
        None => q.clone(),
    };
    copy(&dst_q, dst, host.as_ptr() as usize)
}

/// Bytes of pattern written on the host and copied in before doubling.
const FILL_SEED: usize = 16 * 1024;

/// Fill `count` elements of `pattern` at `p`.
///
/// # Safety
/// `pattern` is not empty; `p` is valid for writes of `pattern.len() *
/// count` bytes (which does not overflow) until the fill completes and is
/// USM `q`'s device reaches.
///
/// The runtime's fill of 2- to 16-byte patterns is slow on some devices
/// (1.5–2 GB/s on the OpenCL CPU device, against 16 GB/s for a copy) and
/// needs a device kernel on others (Level Zero), which a host-only build of
/// the plugin does not have. So: a pattern of equal bytes is a memset;
/// otherwise dpcore writes up to 16 KiB of the pattern into host USM on the
/// host, copies it to the start of the destination, and doubles the filled
/// part with device-to-device copies (`log2(size / 16 KiB)` commands at copy
/// bandwidth). The host seed is freed by dpcore's deferred free once its
/// copy is done. Devices without host USM use the runtime's fill.
unsafe fn fill(
    q: &Arc<Queue>,
    p: usize,
    pattern: &[u8],
    count: usize,
    deps: &Deps,
    want: bool,
) -> Result<Option<Arc<Event>>> {
    let b = q.backend();
    deps.check_backend(b)?;
    let t = b.table;
    let total = pattern.len() * count;
    if pattern.iter().all(|x| *x == pattern[0]) {
        // SAFETY: `q` is a live queue (borrowed) and `deps` keeps its events
        // alive, all `b`'s (checked on entry by
        // `Deps::check_backend`); the closure calls a `b` enqueue with the
        // slot and returns its status, as `submit` needs; `p` is valid for
        // `total` bytes until the command completes (this function's
        // contract).
        return unsafe {
            event::submit(b, "enqueue_memset", want, |ev| {
                crate::faults::table_call!(
                    t,
                    enqueue_memset(
                        q.obj(),
                        p as *mut c_void,
                        pattern[0],
                        total,
                        deps.ptr(),
                        deps.len(),
                        ev,
                    )
                )
            })
        };
    }
    if !q.device.has_aspect(abi::aspect::USM_HOST_ALLOCATIONS) {
        // SAFETY: as for the memset above; `pattern` is alive for the call,
        // during which the runtime copies it.
        return unsafe {
            event::submit(b, "enqueue_fill", want, |ev| {
                crate::faults::table_call!(
                    t,
                    enqueue_fill(
                        q.obj(),
                        p as *mut c_void,
                        pattern.as_ptr() as *const c_void,
                        pattern.len(),
                        count,
                        deps.ptr(),
                        deps.len(),
                        ev,
                    )
                )
            })
        };
    }
    // The seed: whole patterns, at most FILL_SEED bytes.
    let seed_len = total.min(FILL_SEED - FILL_SEED % pattern.len());
    let mut seed: *mut c_void = std::ptr::null_mut();
    backend::check(
        // SAFETY: `q` is a live queue of `b` (borrowed); `seed` is a local
        // the plugin writes.
        unsafe {
            crate::faults::table_call!(
                t,
                usm_alloc(
                    q.obj(),
                    abi::usm_kind::HOST,
                    seed_len.max(MIN_RUNTIME_ALLOC),
                    0,
                    &mut seed,
                )
            )
        },
        "usm_alloc",
    )?;
    // SAFETY: `seed` is host USM of `seed_len` (> 0) bytes that the
    // successful `usm_alloc` just made: readable and writable from the host,
    // used by no command yet and by nothing else while `bytes` lives.
    let bytes = unsafe { std::slice::from_raw_parts_mut(seed as *mut u8, seed_len) };
    for chunk in bytes.chunks_mut(pattern.len()) {
        chunk.copy_from_slice(&pattern[..chunk.len()]);
    }
    let seed_alloc = Alloc {
        base: seed as usize,
        size: seed_len,
        kind: abi::usm_kind::HOST,
        context: q.context.clone(),
        device: q.device.clone(),
        internal: true,
        array: false,
    };
    let in_order = q.in_order();
    // Every step but the last needs an event on an out-of-order queue (to
    // order the next step) and the seed copy always does (to free the seed).
    let submit = |dst: usize,
                  src: usize,
                  n: usize,
                  after: Option<&Arc<Event>>,
                  want: bool|
     -> Result<Option<Arc<Event>>> {
        let mut ev: abi::Obj = std::ptr::null_mut();
        let slot = if want {
            &mut ev as *mut abi::Obj
        } else {
            std::ptr::null_mut()
        };
        let after_obj = after.map(|e| e.obj());
        let (dp, dn) = match &after_obj {
            Some(o) => (o as *const abi::Obj, 1),
            None => (deps.ptr(), deps.len()),
        };
        // SAFETY: `q` is a live queue of `b`. Every copy is inside the
        // `total` bytes at `p` (valid until the fill completes, this
        // function's contract) or reads the seed (alive until its copy's
        // event completes: its deferred free waits for it), and source and
        // destination do not overlap (`n <= done`). `dp` points to `dn`
        // live event objects: `after_obj`, of `b` (its `Event` is borrowed
        // for the call and was made here), or `deps` (all `b`'s, checked on entry
        // by `Deps::check_backend`). `slot` is
        // NULL or the local `ev`.
        let st = unsafe {
            crate::faults::table_call!(
                t,
                enqueue_memcpy(
                    q.obj(),
                    dst as *mut c_void,
                    src as *const c_void,
                    n,
                    dp,
                    dn,
                    slot,
                )
            )
        };
        backend::check(st, "enqueue_memcpy")?;
        // SAFETY: with `want`, the successful enqueue wrote a new event
        // object of `b` to `ev`, ours alone.
        Ok(want.then(|| unsafe { Event::from_obj(b, ev) }))
    };
    let seed_event = match submit(p, seed as usize, seed_len, None, true) {
        Ok(e) => e.ok_or_else(|| Error::new(DPC_ERROR_INTERNAL, "seed copy made no event"))?,
        Err(e) => {
            // SAFETY: the seed was made above by `usm_alloc` in `q`'s
            // context, never put in `ALLOCS`, and its copy was not
            // submitted, so nothing uses it; given back once, here.
            let _ = unsafe { release_now(&seed_alloc) };
            return Err(e);
        }
    };
    defer(Deferred::Free(seed_alloc), vec![seed_event.clone()])?;
    let mut prev = seed_event;
    let mut done = seed_len;
    while done < total {
        let n = done.min(total - done);
        let step_want = if done + n >= total { want } else { !in_order };
        // An in-order queue orders the steps itself (the dependencies were
        // satisfied before the seed copy, which precedes them).
        let after = (!in_order).then_some(&prev);
        if let Some(e) = submit(p + done, p, n, after, step_want)? {
            prev = e;
        }
        done += n;
    }
    // The last step's event (the seed copy's when it did everything).
    Ok(want.then_some(prev))
}

/// For a command of 0 bytes: an event that completes after `deps` (a
/// barrier) when one is wanted, else nothing.
pub(crate) fn barrier(q: &Queue, deps: &Deps, want: bool) -> Result<Option<Arc<Event>>> {
    if !want {
        // Nothing is enqueued, but a list of another plugin is still wrong.
        deps.check_backend(q.backend())?;
        return Ok(None);
    }
    q.barrier(deps, true) // checks the list
}

/// Copy `n` bytes from `src` to `dst` on `q` after `deps` (the body of
/// `dpc_usm_memcpy`): staged through the host, and complete on return,
/// when either side is dpcore memory of another context.
///
/// # Safety
/// `src` is valid for reads and `dst` for writes of `n` bytes until the
/// copy completes, each memory `q`'s runtime can copy (USM of `q`'s
/// context, dpcore memory of another context, or host memory).
pub(crate) unsafe fn memcpy(
    q: &Arc<Queue>,
    dst: usize,
    src: usize,
    n: usize,
    deps: &Deps,
    want: bool,
) -> Result<Option<Arc<Event>>> {
    deps.check_backend(q.backend())?;
    if n == 0 {
        return barrier(q, deps, want);
    }
    check_range("dst", dst, n)?;
    check_range("src", src, n)?;
    if foreign_context(q, dst).is_some() || foreign_context(q, src).is_some() {
        // SAFETY: this function's contract, for a copy that is complete
        // when `staged_copy` returns.
        unsafe { staged_copy(q, dst, src, n, deps) }?;
        return barrier(q, &Deps::none(), want);
    }
    // SAFETY: `q` is a live queue (borrowed) and `deps` keeps its events
    // alive, all `q`'s plugin's (checked on entry by
    // `Deps::check_backend`); `dst` and `src` are valid for `n` bytes
    // until the copy
    // completes (this function's contract). The closure calls a
    // `q.backend()` enqueue with the slot and returns its status, as
    // `submit` needs.
    unsafe {
        event::submit(q.backend(), "enqueue_memcpy", want, |ev| {
            crate::faults::table_call!(
                q.backend().table,
                enqueue_memcpy(
                    q.obj(),
                    dst as *mut c_void,
                    src as *const c_void,
                    n,
                    deps.ptr(),
                    deps.len(),
                    ev,
                )
            )
        })
    }
}

/// Fill `count` elements of the `ps`-byte `pattern` at `p` on `q` after
/// `deps`, checked (the body of `dpc_usm_fill`; `pattern` may be empty when
/// `count` is 0 or `ps` is invalid, and is read only otherwise).
///
/// # Safety
/// When `ps` is valid and `count` > 0, `pattern` holds `ps` bytes and `p`
/// is NULL or valid for writes of `ps * count` bytes until the fill
/// completes, USM `q`'s device reaches.
#[allow(clippy::too_many_arguments)] // the C signature's arguments, resolved
pub(crate) unsafe fn fill_checked(
    q: &Arc<Queue>,
    p: usize,
    ps: usize,
    pattern: &[u8],
    count: usize,
    deps: &Deps,
    want: bool,
) -> Result<Option<Arc<Event>>> {
    let function = crate::error::current_export();
    if !matches!(ps, 1 | 2 | 4 | 8 | 16) {
        return Err(Error::invalid_arg(format!(
            "{function}: pattern_size {ps} is not 1, 2, 4, 8 or 16"
        )));
    }
    if count == 0 {
        return barrier(q, deps, want);
    }
    if p == 0 {
        return Err(Error::null("ptr"));
    }
    if p % ps != 0 {
        return Err(Error::invalid_arg(format!(
            "{function}: ptr {p:#x} is not aligned to the {ps}-byte pattern"
        )));
    }
    let bytes = ps.checked_mul(count).ok_or_else(|| {
        Error::invalid_arg(format!(
            "{function}: {count} elements of {ps} bytes overflow"
        ))
    })?;
    check_range("ptr", p, bytes)?;
    check_usm(q, "ptr", p)?;
    // SAFETY: `ps` is 1–16 and `count` > 0, so `pattern` holds `ps` (> 0)
    // bytes; `p` is non-NULL (checked above) and valid for the `ps * count`
    // bytes, which do not overflow (checked above), until the fill completes
    // (this function's contract).
    unsafe { fill(q, p, pattern, count, deps, want) }
}

/// A command of `n` bytes on `q` after `deps` (memset, prefetch, advice):
/// the dependency list is checked to be `q`'s plugin's, 0 bytes is only an
/// event after `deps` when `want`, otherwise `call` enqueues it.
///
/// # Safety
/// `call` must call one `q.backend()` enqueue on `q` with `deps` and the
/// event slot it is given, and return its status; the memory it names is
/// the caller's to vouch for.
unsafe fn sized_command(
    q: &Queue,
    what: &str,
    n: usize,
    deps: &Deps,
    want: bool,
    call: impl FnOnce(*mut abi::Obj) -> i32,
) -> Result<Option<Arc<Event>>> {
    deps.check_backend(q.backend())?;
    if n == 0 {
        return barrier(q, deps, want);
    }
    // SAFETY: `call` is a `q.backend()` enqueue given its slot (this
    // function's contract); `deps` keeps its events alive and they are
    // `q`'s plugin's (checked above).
    unsafe { event::submit(q.backend(), what, want, call) }
}

/// Set `n` bytes at `p` to `value` on `q` after `deps` (the body of
/// `dpc_usm_memset`); with `n` 0, only an event after `deps` when `want`.
///
/// # Safety
/// When `n` > 0, `p` is non-NULL and valid for writes of `n` bytes until
/// the command completes, USM `q`'s device reaches.
pub(crate) unsafe fn memset(
    q: &Queue,
    p: usize,
    value: u8,
    n: usize,
    deps: &Deps,
    want: bool,
) -> Result<Option<Arc<Event>>> {
    check_range("ptr", p, n)?;
    if n > 0 {
        check_usm(q, "ptr", p)?;
    }
    // SAFETY: `q` is a live queue (borrowed); `p` is non-NULL and writable
    // for `n` bytes until the command completes when `n` > 0 (this
    // function's contract). The closure is one `enqueue_memset` of `q` with
    // `deps` and the slot, as `sized_command` needs.
    unsafe {
        sized_command(q, "enqueue_memset", n, deps, want, |ev| {
            crate::faults::table_call!(
                q.backend().table,
                enqueue_memset(
                    q.obj(),
                    p as *mut c_void,
                    value,
                    n,
                    deps.ptr(),
                    deps.len(),
                    ev,
                )
            )
        })
    }
}

/// Hint that `n` bytes at `p` (shared USM) will be used on `q`'s device
/// soon, after `deps` (the body of `dpc_usm_prefetch`); with `n` 0, only an
/// event after `deps` when `want`.
///
/// # Safety
/// When `n` > 0, `p` is non-NULL and `n` bytes of shared USM of `q`'s
/// context (a prefetch only moves them).
pub(crate) unsafe fn prefetch(
    q: &Queue,
    p: usize,
    n: usize,
    deps: &Deps,
    want: bool,
) -> Result<Option<Arc<Event>>> {
    check_range("ptr", p, n)?;
    if n > 0 {
        check_usm(q, "ptr", p)?;
    }
    // SAFETY: `q` is a live queue (borrowed); `p` is non-NULL and `n`
    // bytes of shared USM of the queue's context when `n` > 0 (this
    // function's contract). The closure is one `enqueue_prefetch` of `q`
    // with `deps` and the slot, as `sized_command` needs.
    unsafe {
        sized_command(q, "enqueue_prefetch", n, deps, want, |ev| {
            crate::faults::table_call!(
                q.backend().table,
                enqueue_prefetch(q.obj(), p as *const c_void, n, deps.ptr(), deps.len(), ev,)
            )
        })
    }
}

/// Give the device advice `advice` (device-specific, passed on unchanged)
/// about `n` bytes at `p` on `q` after `deps` (the body of
/// `dpc_usm_mem_advise`); with `n` 0, only an event after `deps` when
/// `want`.
///
/// # Safety
/// When `n` > 0, `p` is non-NULL and `n` bytes of USM of `q`'s context
/// (advice does not change the contents).
pub(crate) unsafe fn mem_advise(
    q: &Queue,
    p: usize,
    n: usize,
    advice: i32,
    deps: &Deps,
    want: bool,
) -> Result<Option<Arc<Event>>> {
    check_range("ptr", p, n)?;
    if n > 0 {
        check_usm(q, "ptr", p)?;
    }
    // SAFETY: `q` is a live queue (borrowed); `p` is non-NULL and `n`
    // bytes of USM of the queue's context when `n` > 0 (this function's
    // contract; advice does not change the contents). The closure is one
    // `enqueue_mem_advise` of `q` with `deps` and the slot, as
    // `sized_command` needs.
    unsafe {
        sized_command(q, "enqueue_mem_advise", n, deps, want, |ev| {
            crate::faults::table_call!(
                q.backend().table,
                enqueue_mem_advise(
                    q.obj(),
                    p as *const c_void,
                    n,
                    advice,
                    deps.ptr(),
                    deps.len(),
                    ev,
                )
            )
        })
    }
}

// ---------------------------------------------------------------- operations

/// Allocate `size` bytes of USM of `kind` on `q` and record it (the body
/// of `dpc_usm_alloc`; errors as documented there).
pub(crate) fn alloc(q: &Arc<Queue>, kind: i32, size: usize, alignment: usize) -> Result<usize> {
    alloc_as(q, kind, size, alignment, false)
}

/// Allocate the memory of a new array (as [`alloc`]); only
/// [`free_array_memory`] frees it.
pub(crate) fn alloc_for_array(q: &Arc<Queue>, kind: i32, size: usize) -> Result<usize> {
    alloc_as(q, kind, size, 0, true)
}

fn alloc_as(
    q: &Arc<Queue>,
    kind: i32,
    size: usize,
    alignment: usize,
    array: bool,
) -> Result<usize> {
    if !(1..=3).contains(&kind) {
        return Err(Error::invalid_arg(format!(
            "dpc_usm_alloc: kind {kind} is not DPC_USM_DEVICE (1), DPC_USM_SHARED (2) or DPC_USM_HOST (3)"
        )));
    }
    if size == 0 {
        return Err(Error::invalid_arg(
            "dpc_usm_alloc: size is 0; allocations need at least 1 byte",
        ));
    }
    if alignment != 0 && !alignment.is_power_of_two() {
        return Err(Error::invalid_arg(format!(
            "dpc_usm_alloc: alignment {alignment} is not a power of two (or 0 for the default)"
        )));
    }
    let d = &q.device;
    let aspect = match kind {
        abi::usm_kind::DEVICE => abi::aspect::USM_DEVICE_ALLOCATIONS,
        abi::usm_kind::SHARED => abi::aspect::USM_SHARED_ALLOCATIONS,
        _ => abi::aspect::USM_HOST_ALLOCATIONS,
    };
    if !d.has_aspect(aspect) {
        return Err(Error::new(
            DPC_ERROR_UNSUPPORTED,
            format!("{} cannot allocate {} USM", d.describe(), kind_name(kind)),
        ));
    }
    let limits = || {
        format!(
            "{} bytes of {} USM requested on {}; its largest single allocation is {} bytes and its global memory {} bytes",
            size,
            kind_name(kind),
            d.describe(),
            d.info.max_mem_alloc_size,
            d.info.global_mem_size
        )
    };
    if kind != abi::usm_kind::HOST && size as u64 > d.info.global_mem_size {
        return Err(Error::new(
            DPC_ERROR_OUT_OF_DEVICE_MEMORY,
            format!("cannot allocate: {}", limits()),
        ));
    }
    let t = q.backend().table;
    let mut p: *mut c_void = std::ptr::null_mut();
    // The runtime is asked for at least MIN_RUNTIME_ALLOC bytes (the caller
    // still sees `size`).
    let runtime_size = size.max(MIN_RUNTIME_ALLOC);
    // SAFETY: `q` is a live queue of its backend (borrowed); `p` is a local
    // the plugin writes.
    let st = unsafe {
        crate::faults::table_call!(t, usm_alloc(q.obj(), kind, runtime_size, alignment, &mut p))
    };
    backend::check(st, "usm_alloc").map_err(|e| {
        if e.status == DPC_ERROR_OUT_OF_DEVICE_MEMORY {
            Error::new(
                DPC_ERROR_OUT_OF_DEVICE_MEMORY,
                format!(
                    "allocation failed: {}; the backend said: {}",
                    limits(),
                    e.message
                ),
            )
            .with_backend_code(e.backend_code)
        } else {
            e
        }
    })?;
    let a = Alloc {
        base: p as usize,
        size,
        kind,
        context: q.context.clone(),
        device: q.device.clone(),
        internal: false,
        array,
    };
    q.context.stats.add(size as u64);
    LIVE_TOTAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ALLOCS
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(a.base, a);
    Ok(p as usize)
}

/// Free dpcore's allocation at `p` now (the body of `dpc_usm_free`).
pub(crate) fn free(p: usize) -> Result<()> {
    if p == 0 {
        return Ok(());
    }
    let a = take_exact(p, false)?;
    // SAFETY: `take_exact` removed `a` from `ALLOCS` under its lock, so this
    // call alone gives it back. That no command still uses it, and that no
    // array still views it, is `dpc_usm_free`'s contract with its caller
    // (`Base::drop` frees only once the last view is gone); it cannot be
    // checked here.
    let r = unsafe { release_now(&a) };
    if r.is_err() {
        // Nothing was freed: the caller still owns the memory and may free
        // it again.
        restore(a);
    }
    r
}

/// Free the memory of an array at `p` (made by [`alloc_for_array`]) now:
/// its base's last view is gone.
pub(crate) fn free_array_memory(p: usize) -> Result<()> {
    let a = take_exact(p, true)?;
    // SAFETY: `take_exact` removed `a` from `ALLOCS` under its lock, so this
    // call alone gives it back; the array that owned it has no view left
    // (the caller is `Base::drop`), and that no command still uses it is
    // the contract of releasing an array (`dpc_array_release_after` defers
    // the last release past the commands).
    unsafe { release_now(&a) }
}

/// Free dpcore's allocation at `p` once `events` are complete, on the
/// deferred-free thread (the body of `dpc_usm_free_after`); with no events,
/// now. When it fails nothing is freed: the caller still owns the memory.
pub(crate) fn free_after(p: usize, events: Vec<Arc<Event>>) -> Result<()> {
    let a = take_exact(p, false)?;
    if events.is_empty() {
        // SAFETY: `take_exact` removed `a` from `ALLOCS`, so it is given
        // back once, here; with no events, that no command uses it is
        // the caller's contract (as for `free`).
        let r = unsafe { release_now(&a) };
        if r.is_err() {
            restore(a);
        }
        return r;
    }
    if crate::fork::in_forked_child() {
        return finish_after_wait(Deferred::Free(a), &events);
    }
    let r = match reaper() {
        Ok(r) => r,
        Err(e) => {
            // Put it back: the caller still owns it.
            restore(a);
            return Err(e);
        }
    };
    push_job(r, Deferred::Free(a), events);
    Ok(())
}

/// Block until every job handed to the deferred-free thread so far (by any
/// thread) is done.
pub(crate) fn wait_deferred() {
    if let Some(r) = current_reaper() {
        // Outside the fork gate: the thread waited for enters it for each
        // pass, so a fork must not wait for this wait.
        crate::fork::outside(|| {
            let mut p = r.pending.lock().unwrap_or_else(|e| e.into_inner());
            while *p > 0 {
                p = r.done.wait(p).unwrap_or_else(|e| e.into_inner());
            }
        });
    }
}

// ---------------------------------------------------------------- exports

/// Allocate `size` bytes of USM of `kind` (`DPC_USM_DEVICE`, `_SHARED` or
/// `_HOST`) on `queue`'s device and context. `alignment` is 0 (the
/// runtime's default) or a power of two.
///
/// Ownership: the memory is the caller's until `dpc_usm_free` or
/// `dpc_usm_free_after`; it keeps its context alive.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_ARGUMENT` (size 0, alignment not a power of two,
/// unknown kind), `DPC_ERROR_UNSUPPORTED` (the device cannot allocate that
/// kind), `DPC_ERROR_OUT_OF_DEVICE_MEMORY` (the message states the request,
/// the device's largest single allocation and its global memory).
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_usm_alloc(
    queue: dpc_queue,
    kind: i32,
    size: usize,
    alignment: usize,
    ptr_out: *mut *mut c_void,
) -> dpc_status {
    export!(|| {
        check_ptr("ptr_out", ptr_out)?;
        let q = queue::get("queue", queue)?;
        let p = alloc(&q, kind, size, alignment)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `void*` (the export's contract).
        unsafe { ptr_out.write(p as *mut c_void) };
        Ok(())
    })
}

/// Free memory from `dpc_usm_alloc` now. The caller makes sure no command
/// still uses it (or uses `dpc_usm_free_after`). `ptr` NULL is a no-op.
///
/// Errors: `DPC_ERROR_INVALID_POINTER` (not from `dpc_usm_alloc`, already
/// freed, or not the start of the allocation — nothing is freed then),
/// `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_usm_free(ptr: *mut c_void) -> dpc_status {
    export!(|| free(ptr as usize))
}

/// Free memory from `dpc_usm_alloc` once the `n_events` events have
/// completed, without blocking the caller. dpcore's own thread watches the
/// events (no host task, no callback); the memory counts in the context's
/// statistics until it is freed. With no events the memory is freed now.
/// `ptr` NULL is a no-op. `dpc_usm_wait_deferred_frees` waits for all
/// pending ones.
///
/// Ownership: the memory is dpcore's from this call; the events are
/// retained until then. Errors: `DPC_ERROR_INVALID_POINTER` (as
/// `dpc_usm_free`), `DPC_ERROR_NULL_POINTER` (`events` NULL with
/// `n_events` > 0), `DPC_ERROR_INVALID_HANDLE` (any event; nothing is freed
/// then). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_usm_free_after(
    ptr: *mut c_void,
    events: *const dpc_event,
    n_events: usize,
) -> dpc_status {
    export!(|| {
        if ptr.is_null() {
            return Ok(());
        }
        // SAFETY: the caller provides `events` NULL or readable for
        // `n_events` handles (the export's contract), `deps`'s contract.
        let d = unsafe { event::deps(events, n_events) }?;
        free_after(ptr as usize, d.events)
    })
}

/// Block until every deferred free (`dpc_usm_free_after`) made so far by
/// any thread is done.
///
/// Errors: none besides `DPC_ERROR_INTERNAL`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_usm_wait_deferred_frees() -> dpc_status {
    export!(|| {
        wait_deferred();
        Ok(())
    })
}

struct PtrInfo {
    kind: i32,
    device: Option<Arc<Device>>,
    range: Option<(usize, usize)>,
}

fn pointer_info(ctx: &Arc<Context>, p: usize) -> Result<PtrInfo> {
    if let Some(a) = find(p).filter(|a| a.context.same_as(ctx)) {
        return Ok(PtrInfo {
            kind: a.kind,
            device: (a.kind != abi::usm_kind::HOST).then(|| a.device.clone()),
            range: Some((a.base, a.size)),
        });
    }
    let Some(first) = ctx.devices.first() else {
        return Ok(PtrInfo {
            kind: 0,
            device: None,
            range: None,
        });
    };
    let b = first.backend();
    let mut info = abi::PointerInfoV1::empty();
    backend::check(
        // SAFETY: `ctx` is a live context (borrowed) of `b`, its devices'
        // backend; the plugin only looks `p` up (any value is allowed: it
        // answers UNKNOWN for non-USM memory); `info` is a local it fills.
        unsafe {
            crate::faults::table_call!(
                b.table,
                usm_pointer_info(ctx.obj(), p as *const c_void, &mut info)
            )
        },
        "usm_pointer_info",
    )?;
    let device = if info.device.is_null() {
        None
    } else {
        // SAFETY: `info.device` is a new device object of `b` that the call
        // above gave us (the interface's `PointerInfoV1::device`), owned
        // here and handed on to `from_obj`, as its contract needs.
        Some(unsafe { device::from_obj(b, info.device) }?)
    };
    Ok(PtrInfo {
        kind: info.kind,
        device,
        range: (info.has_range != 0).then_some((info.base, info.size)),
    })
}

/// The USM kind of `p` in `ctx`, asking the runtime for nothing else
/// (dpcore's own allocations are answered from its record).
pub fn pointer_kind(ctx: &Arc<Context>, p: usize) -> Result<i32> {
    if let Some(a) = find(p).filter(|a| a.context.same_as(ctx)) {
        return Ok(a.kind);
    }
    let Some(first) = ctx.devices.first() else {
        return Ok(abi::usm_kind::UNKNOWN);
    };
    let mut kind = abi::usm_kind::UNKNOWN;
    backend::check(
        // SAFETY: `ctx` is a live context (borrowed) of its devices'
        // backend; the plugin only looks `p` up (any value is allowed: it
        // answers UNKNOWN for non-USM memory); `kind` is a local it writes.
        unsafe {
            crate::faults::table_call!(
                first.backend().table,
                usm_pointer_kind(ctx.obj(), p as *const c_void, &mut kind)
            )
        },
        "usm_pointer_kind",
    )?;
    Ok(kind)
}

/// The C API's kind of USM `p` is in `ctx` (the body of
/// `dpc_usm_get_pointer_kind`): `DPC_USM_UNKNOWN` for 0 and for memory that
/// is not USM of `ctx`. Unlike [`pointer_kind`] it asks the runtime for the
/// pointer's full record.
pub(crate) fn pointer_usm_kind(ctx: &Arc<Context>, p: usize) -> Result<dpc_usm_kind> {
    let k = if p == 0 {
        0
    } else {
        pointer_info(ctx, p)?.kind
    };
    Ok(kind_from_abi(k))
}

/// The context `p` is USM of (the body of `dpc_usm_get_pointer_context`):
/// for dpcore's own allocations the context it was made in; for other
/// memory the first platform default context, in device order, that knows
/// the pointer; `DPC_ERROR_INVALID_POINTER` for 0 and for memory none of
/// them knows.
pub(crate) fn pointer_context(p: usize) -> Result<Arc<Context>> {
    if p != 0 {
        if let Some(a) = find(p) {
            return Ok(a.context);
        }
        let mut seen: Vec<Arc<Context>> = Vec::new();
        for d in &device::registry().devices {
            let c = context::default_context(d)?;
            if seen.iter().any(|x| Arc::ptr_eq(x, &c)) {
                continue;
            }
            if pointer_info(&c, p)?.kind != abi::usm_kind::UNKNOWN {
                return Ok(c);
            }
            seen.push(c);
        }
    }
    let ptr = p as *const c_void;
    Err(Error::new(
        DPC_ERROR_INVALID_POINTER,
        format!("{ptr:p} is not USM of any platform default context nor dpcore memory"),
    ))
}

/// The device the device or shared USM at `p` belongs to in `ctx` (the
/// body of `dpc_usm_get_pointer_device`); `DPC_ERROR_INVALID_POINTER` for
/// 0, for memory that is not USM of `ctx`, and for host USM.
pub(crate) fn pointer_device(ctx: &Arc<Context>, p: usize) -> Result<Arc<Device>> {
    let ptr = p as *const c_void;
    let info = if p == 0 {
        None
    } else {
        Some(pointer_info(ctx, p)?)
    };
    match info.as_ref().and_then(|i| i.device.as_ref()) {
        Some(d) => Ok(d.clone()),
        None => Err(Error::new(
            DPC_ERROR_INVALID_POINTER,
            format!(
                "{ptr:p} is {} in {}, so it belongs to no device",
                match info.map(|i| i.kind) {
                    Some(abi::usm_kind::HOST) => "host USM",
                    _ => "not USM",
                },
                ctx.describe()
            ),
        )),
    }
}

/// The start and size of the USM allocation containing `p` in `ctx` (the
/// body of `dpc_usm_get_pointer_range`): `DPC_ERROR_INVALID_POINTER` for 0
/// and for memory that is not USM of `ctx`, `DPC_ERROR_UNSUPPORTED` when
/// the runtime does not tell the range.
pub(crate) fn pointer_range(ctx: &Arc<Context>, p: usize) -> Result<(usize, usize)> {
    let ptr = p as *const c_void;
    let info = if p == 0 {
        PtrInfo {
            kind: 0,
            device: None,
            range: None,
        }
    } else {
        pointer_info(ctx, p)?
    };
    match (info.kind, info.range) {
        (0, _) => Err(Error::new(
            DPC_ERROR_INVALID_POINTER,
            format!("{ptr:p} is not USM in {}", ctx.describe()),
        )),
        (_, None) => Err(Error::new(
            DPC_ERROR_UNSUPPORTED,
            format!(
                "{ptr:p} is {} USM but the runtime does not tell its allocation's range",
                kind_name(info.kind)
            ),
        )),
        (_, Some(range)) => Ok(range),
    }
}

/// What kind of USM `ptr` is in `context`: `DPC_USM_UNKNOWN` for memory
/// that is not USM of that context (stack, malloc, NULL, other contexts) —
/// never a crash.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER` (`kind_out`),
/// `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_usm_get_pointer_kind(
    context: dpc_context,
    ptr: *const c_void,
    kind_out: *mut dpc_usm_kind,
) -> dpc_status {
    export!(|| {
        check_ptr("kind_out", kind_out)?;
        let c = context::get("context", context)?;
        let k = pointer_usm_kind(&c, ptr as usize)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_usm_kind (the export's contract).
        unsafe { write_out("kind_out", kind_out, k) }
    })
}

/// The context `ptr` is USM of: for dpcore's own allocations the context it
/// was made in; for other memory (dpnp, dpctl, torch) the first platform
/// default context, in device order, that knows the pointer.
///
/// Ownership: a platform default context's handle is valid for the life of
/// the process; another context's is a new reference the caller releases.
/// Errors: `DPC_ERROR_NULL_POINTER` (`context_out`), `DPC_ERROR_INVALID_POINTER`
/// (NULL, or USM of none of those contexts: stack, malloc, memory of a
/// context dpcore did not make), `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_usm_get_pointer_context(
    ptr: *const c_void,
    context_out: *mut dpc_context,
) -> dpc_status {
    export!(|| {
        check_ptr("context_out", context_out)?;
        let c = pointer_context(ptr as usize)?;
        let h = context::handle_for(&c)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_context (the export's contract).
        unsafe { write_out("context_out", context_out, h) }
    })
}

/// The device `ptr`'s device or shared USM belongs to, in `context`.
///
/// Ownership: a root device's handle is valid for the life of the process;
/// a sub-device's is a new reference the caller releases.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_POINTER` (not USM of the context, or host USM, which
/// belongs to no device). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_usm_get_pointer_device(
    context: dpc_context,
    ptr: *const c_void,
    device_out: *mut dpc_device,
) -> dpc_status {
    export!(|| {
        check_ptr("device_out", device_out)?;
        let c = context::get("context", context)?;
        let d = pointer_device(&c, ptr as usize)?;
        let h = device::handle_for(&d)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_device (the export's contract).
        unsafe { write_out("device_out", device_out, h) }
    })
}

/// The start and size of the USM allocation containing `ptr` in `context`:
/// exact for dpcore's own allocations, and for others where the runtime
/// tells it (OpenCL does).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_POINTER` (not USM of the context),
/// `DPC_ERROR_UNSUPPORTED` (USM, but the runtime does not tell the range).
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_usm_get_pointer_range(
    context: dpc_context,
    ptr: *const c_void,
    base_out: *mut *mut c_void,
    size_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("base_out", base_out)?;
        check_ptr("size_out", size_out)?;
        let c = context::get("context", context)?;
        let (base, size) = pointer_range(&c, ptr as usize)?;
        // SAFETY: both checked non-NULL above; the caller provides a
        // writable `void*` and size_t (the export's contract).
        unsafe {
            base_out.write(base as *mut c_void);
            size_out.write(size);
        }
        Ok(())
    })
}

/// Copy `n` bytes from `src` to `dst` on `queue`, after the `n_events`
/// events: host to device, device to host, device to device, host to host.
/// When `dst` or `src` is dpcore memory of another context than `queue`'s
/// the copy is staged through host memory and is complete when the call
/// returns. A copy of 0 bytes does nothing (the pointers are not looked at)
/// and its event completes after the dependencies.
///
/// Ownership: `*event_out`, when `event_out` is non-NULL, is a new event
/// the caller releases; with `event_out` NULL no event is made.
/// Errors: `DPC_ERROR_INVALID_HANDLE` (queue, any event),
/// `DPC_ERROR_NULL_POINTER` (`dst` or `src` with `n` > 0, `events` with
/// `n_events` > 0), `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_usm_memcpy(
    queue: dpc_queue,
    dst: *mut c_void,
    src: *const c_void,
    n: usize,
    events: *const dpc_event,
    n_events: usize,
    event_out: *mut dpc_event,
) -> dpc_status {
    export!(|| {
        let q = queue::get("queue", queue)?;
        // SAFETY: the caller provides `events` NULL or readable for
        // `n_events` handles (the export's contract), `deps`'s contract.
        let d = unsafe { event::deps(events, n_events) }?;
        if n > 0 {
            check_ptr("dst", dst)?;
            check_ptr("src", src)?;
        }
        // SAFETY: the caller provides `src` readable and `dst` writable for
        // `n` bytes until the copy completes (the export's contract), which
        // is `memcpy`'s contract; with `n` 0 they are not looked at.
        let ev = unsafe { memcpy(&q, dst as usize, src as usize, n, &d, !event_out.is_null()) }?;
        // SAFETY: `event_out` is NULL or writable (the export's contract).
        unsafe { event::write_event(event_out, ev) }
    })
}

/// Set `n` bytes at `ptr` to `value` on `queue`, after the events. 0 bytes
/// does nothing (as `dpc_usm_memcpy`).
///
/// Ownership and errors as `dpc_usm_memcpy`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_usm_memset(
    queue: dpc_queue,
    ptr: *mut c_void,
    value: u8,
    n: usize,
    events: *const dpc_event,
    n_events: usize,
    event_out: *mut dpc_event,
) -> dpc_status {
    export!(|| {
        let q = queue::get("queue", queue)?;
        // SAFETY: the caller provides `events` NULL or readable for
        // `n_events` handles (the export's contract), `deps`'s contract.
        let d = unsafe { event::deps(events, n_events) }?;
        if n > 0 {
            check_ptr("ptr", ptr)?;
        }
        // SAFETY: with `n` > 0, `ptr` is non-NULL (checked above) and, by
        // the export's contract, writable for `n` bytes until the command
        // completes, which is `memset`'s contract.
        let ev = unsafe { memset(&q, ptr as usize, value, n, &d, !event_out.is_null()) }?;
        // SAFETY: `event_out` is NULL or writable (the export's contract).
        unsafe { event::write_event(event_out, ev) }
    })
}

/// Fill `count` elements at `ptr` with the `pattern_size`-byte `pattern`
/// (1, 2, 4, 8 or 16 bytes) on `queue`, after the events. `ptr` must be
/// aligned to `pattern_size`. Fast on every device: a pattern of equal
/// bytes is a memset, and large fills are seeded and doubled by device
/// copies. A count of 0 does nothing.
///
/// Ownership: `pattern` is read during the call only; events as
/// `dpc_usm_memcpy`. Errors: those of `dpc_usm_memcpy`, plus
/// `DPC_ERROR_INVALID_ARGUMENT` (pattern size, misaligned `ptr`).
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_usm_fill(
    queue: dpc_queue,
    ptr: *mut c_void,
    pattern: *const c_void,
    pattern_size: usize,
    count: usize,
    events: *const dpc_event,
    n_events: usize,
    event_out: *mut dpc_event,
) -> dpc_status {
    export!(|| {
        let q = queue::get("queue", queue)?;
        // SAFETY: the caller provides `events` NULL or readable for
        // `n_events` handles (the export's contract), `deps`'s contract.
        let d = unsafe { event::deps(events, n_events) }?;
        if count > 0 {
            check_ptr("pattern", pattern)?;
        }
        let pat: &[u8] = if count == 0 || !matches!(pattern_size, 1 | 2 | 4 | 8 | 16) {
            &[] // not read
        } else {
            // SAFETY: checked non-NULL above (`count` > 0); the caller
            // provides `pattern_size` readable bytes, read during the call
            // only (the export's contract).
            unsafe { std::slice::from_raw_parts(pattern as *const u8, pattern_size) }
        };
        let want = !event_out.is_null();
        // SAFETY: `pat` holds `pattern_size` bytes when that is valid and
        // `count` > 0; the caller provides `ptr` writable for `pattern_size *
        // count` bytes until the fill completes (the export's contract),
        // which is `fill_checked`'s contract.
        let ev = unsafe { fill_checked(&q, ptr as usize, pattern_size, pat, count, &d, want) }?;
        // SAFETY: `event_out` is NULL or writable (the export's contract).
        unsafe { event::write_event(event_out, ev) }
    })
}

/// Hint that `n` bytes at `ptr` (shared USM) will be used on `queue`'s
/// device soon. 0 bytes does nothing.
///
/// Ownership and errors as `dpc_usm_memcpy`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_usm_prefetch(
    queue: dpc_queue,
    ptr: *const c_void,
    n: usize,
    events: *const dpc_event,
    n_events: usize,
    event_out: *mut dpc_event,
) -> dpc_status {
    export!(|| {
        let q = queue::get("queue", queue)?;
        // SAFETY: the caller provides `events` NULL or readable for
        // `n_events` handles (the export's contract), `deps`'s contract.
        let d = unsafe { event::deps(events, n_events) }?;
        if n > 0 {
            check_ptr("ptr", ptr)?;
        }
        // SAFETY: with `n` > 0, `ptr` is non-NULL (checked above) and, by
        // the export's contract, `n` bytes of shared USM of the queue's
        // context, which is `prefetch`'s contract.
        let ev = unsafe { prefetch(&q, ptr as usize, n, &d, !event_out.is_null()) }?;
        // SAFETY: `event_out` is NULL or writable (the export's contract).
        unsafe { event::write_event(event_out, ev) }
    })
}

/// Give the device advice `advice` (a device-specific value, passed to
/// the runtime unchanged; 0 is "no advice") about `n` bytes at `ptr`.
/// 0 bytes does nothing.
///
/// Ownership and errors as `dpc_usm_memcpy`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_usm_mem_advise(
    queue: dpc_queue,
    ptr: *const c_void,
    n: usize,
    advice: i32,
    events: *const dpc_event,
    n_events: usize,
    event_out: *mut dpc_event,
) -> dpc_status {
    export!(|| {
        let q = queue::get("queue", queue)?;
        // SAFETY: the caller provides `events` NULL or readable for
        // `n_events` handles (the export's contract), `deps`'s contract.
        let d = unsafe { event::deps(events, n_events) }?;
        if n > 0 {
            check_ptr("ptr", ptr)?;
        }
        let want = !event_out.is_null();
        // SAFETY: with `n` > 0, `ptr` is non-NULL (checked above) and, by
        // the export's contract, `n` bytes of USM of the queue's context,
        // which is `mem_advise`'s contract.
        let ev = unsafe { mem_advise(&q, ptr as usize, n, advice, &d, want) }?;
        // SAFETY: `event_out` is NULL or writable (the export's contract).
        unsafe { event::write_event(event_out, ev) }
    })
}

// ---------------------------------------------------------------- census

/// Live user allocations, per context: (context description, allocations,
/// bytes), in context order. Memory waiting in a deferred free counts.
pub(crate) fn live_by_context() -> Vec<(String, u64, u64)> {
    let map = ALLOCS.read().unwrap_or_else(|e| e.into_inner());
    let mut out: BTreeMap<u64, (String, u64, u64)> = BTreeMap::new();
    for a in map.values() {
        let e = out
            .entry(a.context.id)
            .or_insert_with(|| (a.context.describe(), 0, 0));
        e.1 += 1;
        e.2 += a.size as u64;
    }
    drop(map);
    // Deferred frees have left the map but not the memory.
    if let Some(r) = current_reaper() {
        for job in r.jobs.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            if let Deferred::Free(a) = &job.what {
                if !a.internal {
                    let e = out
                        .entry(a.context.id)
                        .or_insert_with(|| (a.context.describe(), 0, 0));
                    e.1 += 1;
                    e.2 += a.size as u64;
                }
            }
        }
    }
    out.into_values().collect()
}

/// Jobs (frees and drops) still waiting on dpcore's deferred-release thread.
/// Wait up to `limit` for the deferred-release thread to finish its jobs
/// (those whose events end in that time); true when none is left.
pub(crate) fn settle_deferred(limit: Duration) -> bool {
    let Some(r) = current_reaper() else {
        return true;
    };
    crate::fork::outside(|| {
        let deadline = std::time::Instant::now() + limit;
        let mut p = r.pending.lock().unwrap_or_else(|e| e.into_inner());
        while *p > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            p = r
                .done
                .wait_timeout(p, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    })
}

pub(crate) fn pending_deferred() -> u64 {
    current_reaper()
        .map(|r| *r.pending.lock().unwrap_or_else(|e| e.into_inner()) as u64)
        .unwrap_or(0)
}
