//! The commands enqueued on a queue (`enqueue_barrier`, `enqueue_memcpy`,
//! `enqueue_memset`, `enqueue_fill`, `enqueue_prefetch`,
//! `enqueue_mem_advise`), and [`enqueue`], the part every enqueue function
//! shares, kernel launches included (the C++ half is
//! `src/bridge/enqueue.{h,cpp}`).

use std::ffi::c_void;

use cxx::UniquePtr;
use dpcore_backend_abi::Obj;

use crate::error::{guarded, non_null, Failure};
use crate::event::{event_list, EventOut};
use crate::object::obj_ref;

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
    unsafe extern "C++" {
        include!("dpcore-sycl/src/bridge/enqueue.h");

        type Queue = crate::queue::ffi::Queue;
        type Event = crate::event::ffi::Event;
        type EventList = crate::event::ffi::EventList;

        fn enqueue_barrier(
            q: &Queue,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
        fn enqueue_memcpy(
            q: &Queue,
            dst: usize,
            src: usize,
            n: usize,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
        fn enqueue_memset(
            q: &Queue,
            p: usize,
            value: u8,
            n: usize,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
        fn enqueue_fill(
            q: &Queue,
            p: usize,
            pattern: &[u8],
            count: usize,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
        fn enqueue_prefetch(
            q: &Queue,
            p: usize,
            n: usize,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
        fn enqueue_mem_advise(
            q: &Queue,
            p: usize,
            n: usize,
            advice: i32,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
    }
}

/// The common part of the enqueue functions: check `q`, set up `ev_out`,
/// build the dependency list, run `op` and hand its event out.
///
/// # Safety
/// `q` must be NULL or a live queue object; `deps` NULL or `n_deps` event
/// objects; `ev_out` NULL or valid for a write.
pub(crate) unsafe fn enqueue(
    q: Obj,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
    op: impl FnOnce(&ffi::Queue, &ffi::EventList, bool) -> Result<UniquePtr<ffi::Event>, Failure>,
) -> Result<(), Failure> {
    // SAFETY: the caller's promise on `ev_out`.
    let ev_out = unsafe { EventOut::new(ev_out) };
    // SAFETY: the caller's promise on `q`.
    let q = unsafe { obj_ref::<ffi::Queue>(q, "q") }?;
    // SAFETY: the caller's promise on `deps`.
    let deps = unsafe { event_list(deps, n_deps, "deps") }?;
    let ev = op(q, &deps, ev_out.wanted())?;
    ev_out.set(ev)
}

pub(crate) unsafe extern "C" fn enqueue_barrier(
    q: Obj,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_barrier", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                Ok(ffi::enqueue_barrier(q, deps, want)?)
            })
        }
    })
}

pub(crate) unsafe extern "C" fn enqueue_memcpy(
    q: Obj,
    dst: *mut c_void,
    src: *const c_void,
    n: usize,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_memcpy", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                if n != 0 {
                    non_null(dst, "dst")?;
                    non_null(src, "src")?;
                }
                Ok(ffi::enqueue_memcpy(
                    q,
                    dst as usize,
                    src as usize,
                    n,
                    deps,
                    want,
                )?)
            })
        }
    })
}

pub(crate) unsafe extern "C" fn enqueue_memset(
    q: Obj,
    p: *mut c_void,
    value: u8,
    n: usize,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_memset", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                if n != 0 {
                    non_null(p, "p")?;
                }
                Ok(ffi::enqueue_memset(q, p as usize, value, n, deps, want)?)
            })
        }
    })
}

/// Fill pattern sizes the runtime's fill takes.
const FILL_PATTERN_SIZES: [usize; 5] = [1, 2, 4, 8, 16];

#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "C" fn enqueue_fill(
    q: Obj,
    p: *mut c_void,
    pattern: *const c_void,
    pattern_size: usize,
    count: usize,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_fill", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                if !FILL_PATTERN_SIZES.contains(&pattern_size) {
                    return Err(Failure::invalid(format!(
                        "fill pattern size must be 1, 2, 4, 8 or 16 bytes, not {pattern_size}"
                    )));
                }
                if count.checked_mul(pattern_size).is_none() {
                    return Err(Failure::invalid(format!(
                        "fill of {count} elements of {pattern_size} bytes overflows"
                    )));
                }
                let zero = [0u8; 16];
                let pattern: &[u8] = if count == 0 && pattern.is_null() {
                    &zero[..pattern_size]
                } else {
                    non_null(p, "p")?;
                    non_null(pattern, "pattern")?;
                    // SAFETY: non-NULL; the caller promises `pattern_size`
                    // readable bytes.
                    std::slice::from_raw_parts(pattern.cast::<u8>(), pattern_size)
                };
                Ok(ffi::enqueue_fill(
                    q, p as usize, pattern, count, deps, want,
                )?)
            })
        }
    })
}

pub(crate) unsafe extern "C" fn enqueue_prefetch(
    q: Obj,
    p: *const c_void,
    n: usize,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_prefetch", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                if n != 0 {
                    non_null(p, "p")?;
                }
                Ok(ffi::enqueue_prefetch(q, p as usize, n, deps, want)?)
            })
        }
    })
}

pub(crate) unsafe extern "C" fn enqueue_mem_advise(
    q: Obj,
    p: *const c_void,
    n: usize,
    advice: i32,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_mem_advise", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                if n != 0 {
                    non_null(p, "p")?;
                }
                Ok(ffi::enqueue_mem_advise(
                    q, p as usize, n, advice, deps, want,
                )?)
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{
        alloc, fails, ok, queue_wait, read_back, setup, status_of, table, take_error, wait_all, Ev,
    };
    use dpcore_backend_abi::{event_status, queue_flags, status, usm_kind};
    use std::ptr;

    #[test]
    fn memcpy_roundtrip_through_device_memory() {
        let (_dev, ctx, q) = setup(0);
        let n = 4096;
        let src: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, n, 0);
        let mut e1: Obj = ptr::null_mut();
        // SAFETY: live queue, `mem` holds n bytes.
        ok(unsafe {
            (table().enqueue_memcpy)(q.0, mem.p, src.as_ptr().cast(), n, ptr::null(), 0, &mut e1)
        });
        let e1 = Ev(e1);
        let mut back = vec![0u8; n];
        let mut e2: Obj = ptr::null_mut();
        let deps = [e1.0];
        // SAFETY: as above; one dependency.
        ok(unsafe {
            (table().enqueue_memcpy)(
                q.0,
                back.as_mut_ptr().cast(),
                mem.p,
                n,
                deps.as_ptr(),
                1,
                &mut e2,
            )
        });
        let e2 = Ev(e2);
        wait_all(&[&e2]);
        assert_eq!(status_of(&e1), event_status::COMPLETE);
        assert_eq!(back, src);

        // The same without events: dependencies on an event-less submission.
        let mut back2 = vec![0u8; n];
        let mut e3: Obj = ptr::null_mut();
        // SAFETY: as above.
        ok(unsafe { (table().enqueue_memset)(q.0, mem.p, 0x5A, n, ptr::null(), 0, &mut e3) });
        let e3 = Ev(e3);
        let deps = [e3.0];
        // SAFETY: as above; no event out.
        ok(unsafe {
            (table().enqueue_memcpy)(
                q.0,
                back2.as_mut_ptr().cast(),
                mem.p,
                n,
                deps.as_ptr(),
                1,
                ptr::null_mut(),
            )
        });
        queue_wait(&q);
        assert!(back2.iter().all(|&b| b == 0x5A));
        // SAFETY: live event.
        assert!(!unsafe { (table().event_native)(e3.0) }.is_null());
    }

    #[test]
    fn memset_and_fill_every_pattern_size() {
        let (_dev, ctx, q) = setup(queue_flags::IN_ORDER);
        let count = 37;
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, 16 * (count + 1), 0);
        let total = 16 * (count + 1);
        for size in [1usize, 2, 4, 8, 16] {
            // Clear everything, then fill `count` elements without an event.
            // SAFETY (both): live queue; `mem` holds `total` bytes.
            ok(unsafe {
                (table().enqueue_memset)(q.0, mem.p, 0xEE, total, ptr::null(), 0, ptr::null_mut())
            });
            let pattern: Vec<u8> = (1..=size as u8).collect();
            ok(unsafe {
                (table().enqueue_fill)(
                    q.0,
                    mem.p,
                    pattern.as_ptr().cast(),
                    size,
                    count,
                    ptr::null(),
                    0,
                    ptr::null_mut(),
                )
            });
            let mut back = vec![0u8; total];
            // In order: after the fill.
            read_back(&q, mem.p, &mut back, &[]);
            let filled = size * count;
            for (i, &b) in back[..filled].iter().enumerate() {
                assert_eq!(b, pattern[i % size], "size {size} byte {i}");
            }
            assert!(
                back[filled..].iter().all(|&b| b == 0xEE),
                "size {size}: fill wrote past its end"
            );
        }
        // Fill with an event and a dependency.
        let mut e1: Obj = ptr::null_mut();
        // SAFETY: as above.
        ok(unsafe { (table().enqueue_memset)(q.0, mem.p, 0, total, ptr::null(), 0, &mut e1) });
        let e1 = Ev(e1);
        let pattern = 0xDEAD_BEEF_u32.to_le_bytes();
        let mut e2: Obj = ptr::null_mut();
        let deps = [e1.0];
        // SAFETY: as above.
        ok(unsafe {
            (table().enqueue_fill)(
                q.0,
                mem.p,
                pattern.as_ptr().cast(),
                4,
                3,
                deps.as_ptr(),
                1,
                &mut e2,
            )
        });
        let e2 = Ev(e2);
        wait_all(&[&e2]);
        let mut back = vec![0u8; 16];
        read_back(&q, mem.p, &mut back, &[]);
        assert_eq!(&back[..12], &pattern.repeat(3)[..]);
        assert_eq!(&back[12..], &[0; 4]);

        // Unsupported pattern sizes.
        for size in [0usize, 3, 5, 32] {
            let pattern = [0u8; 32];
            // SAFETY: as above.
            let rc = unsafe {
                (table().enqueue_fill)(
                    q.0,
                    mem.p,
                    pattern.as_ptr().cast(),
                    size,
                    1,
                    ptr::null(),
                    0,
                    ptr::null_mut(),
                )
            };
            let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
            assert!(msg.contains("1, 2, 4, 8 or 16"), "{msg}");
        }
    }

    #[test]
    fn prefetch_and_mem_advise() {
        let (_dev, ctx, q) = setup(0);
        let mem = alloc(&ctx, &q, usm_kind::SHARED, 1 << 16, 0);
        let mut e1: Obj = ptr::null_mut();
        // SAFETY (all): live queue, `mem` holds 64 KiB.
        ok(unsafe { (table().enqueue_prefetch)(q.0, mem.p, 1 << 16, ptr::null(), 0, &mut e1) });
        let e1 = Ev(e1);
        let deps = [e1.0];
        ok(unsafe {
            (table().enqueue_prefetch)(q.0, mem.p, 1 << 16, deps.as_ptr(), 1, ptr::null_mut())
        });
        ok(unsafe {
            (table().enqueue_prefetch)(q.0, mem.p, 1 << 16, ptr::null(), 0, ptr::null_mut())
        });
        let mut e2: Obj = ptr::null_mut();
        ok(unsafe {
            (table().enqueue_mem_advise)(q.0, mem.p, 1 << 16, 0, ptr::null(), 0, &mut e2)
        });
        let e2 = Ev(e2);
        let deps = [e2.0];
        ok(unsafe {
            (table().enqueue_mem_advise)(q.0, mem.p, 1 << 16, 0, deps.as_ptr(), 1, ptr::null_mut())
        });
        ok(unsafe {
            (table().enqueue_mem_advise)(q.0, mem.p, 1 << 16, 0, ptr::null(), 0, ptr::null_mut())
        });
        queue_wait(&q);
        wait_all(&[&e1, &e2]);
    }

    #[test]
    fn empty_operations_submit_nothing() {
        let (_dev, ctx, q) = setup(queue_flags::PROFILING);
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, 64, 0);
        let pattern = [1u8; 4];
        let t = table();
        type Op<'a> = Box<dyn Fn(*const Obj, usize, *mut Obj) -> i32 + 'a>;
        // Every operation with size 0, NULL pointers allowed.
        // SAFETY (all): live queue; sizes are 0.
        let ops: Vec<(&str, Op)> = vec![
            (
                "memcpy",
                Box::new(|d, n, e| unsafe {
                    (t.enqueue_memcpy)(q.0, ptr::null_mut(), ptr::null(), 0, d, n, e)
                }),
            ),
            (
                "memset",
                Box::new(|d, n, e| unsafe {
                    (t.enqueue_memset)(q.0, ptr::null_mut(), 1, 0, d, n, e)
                }),
            ),
            (
                "fill",
                Box::new(|d, n, e| unsafe {
                    (t.enqueue_fill)(q.0, mem.p, pattern.as_ptr().cast(), 4, 0, d, n, e)
                }),
            ),
            (
                "fill NULL",
                Box::new(|d, n, e| unsafe {
                    (t.enqueue_fill)(q.0, ptr::null_mut(), ptr::null(), 8, 0, d, n, e)
                }),
            ),
            (
                "prefetch",
                Box::new(|d, n, e| unsafe { (t.enqueue_prefetch)(q.0, ptr::null(), 0, d, n, e) }),
            ),
            (
                "mem_advise",
                Box::new(|d, n, e| unsafe {
                    (t.enqueue_mem_advise)(q.0, ptr::null(), 0, 0, d, n, e)
                }),
            ),
        ];
        for (name, op) in &ops {
            // No event wanted.
            assert_eq!(
                op(ptr::null(), 0, ptr::null_mut()),
                status::SUCCESS,
                "{name}: {:?}",
                take_error()
            );
            // An event without dependencies: already complete.
            let mut ev: Obj = ptr::null_mut();
            assert_eq!(
                op(ptr::null(), 0, &mut ev),
                status::SUCCESS,
                "{name}: {:?}",
                take_error()
            );
            let ev = Ev(ev);
            assert!(!ev.0.is_null(), "{name}");
            assert_eq!(status_of(&ev), event_status::COMPLETE, "{name}");
            wait_all(&[&ev]);
            let mut times = [0u64; 3];
            // SAFETY: live event, room for 3 values.
            let rc = unsafe { (t.event_profiling)(ev.0, times.as_mut_ptr()) };
            let (_, _, msg) = fails(rc, status::UNSUPPORTED);
            assert!(msg.contains("nothing to do"), "{msg}");
            // With a dependency: an event that implies it.
            let mut dep: Obj = ptr::null_mut();
            // SAFETY: live queue, `mem` holds 64 bytes.
            ok(unsafe { (t.enqueue_memset)(q.0, mem.p, 0, 64, ptr::null(), 0, &mut dep) });
            let dep = Ev(dep);
            let deps = [dep.0];
            let mut ev: Obj = ptr::null_mut();
            assert_eq!(
                op(deps.as_ptr(), 1, &mut ev),
                status::SUCCESS,
                "{name}: {:?}",
                take_error()
            );
            let ev = Ev(ev);
            wait_all(&[&ev]);
            assert_eq!(status_of(&dep), event_status::COMPLETE, "{name}");
            assert_eq!(status_of(&ev), event_status::COMPLETE, "{name}");
        }
        queue_wait(&q);
    }

    #[test]
    fn barriers_and_event_chains() {
        let (_dev, ctx, q) = setup(0);
        let n = 1 << 16;
        let a = alloc(&ctx, &q, usm_kind::DEVICE, n, 0);
        let b = alloc(&ctx, &q, usm_kind::DEVICE, n, 0);
        let t = table();
        // e1: a = 0x11; e2: b = 0x22; barrier(e1, e2) -> e3; a <- b after e3.
        let (mut e1, mut e2, mut e3, mut e4) = (
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
        );
        // SAFETY (all): live queue and events; `a`, `b` hold n bytes.
        ok(unsafe { (t.enqueue_memset)(q.0, a.p, 0x11, n, ptr::null(), 0, &mut e1) });
        ok(unsafe { (t.enqueue_memset)(q.0, b.p, 0x22, n, ptr::null(), 0, &mut e2) });
        let (e1, e2) = (Ev(e1), Ev(e2));
        let deps = [e1.0, e2.0];
        ok(unsafe { (t.enqueue_barrier)(q.0, deps.as_ptr(), 2, &mut e3) });
        let e3 = Ev(e3);
        let deps = [e3.0];
        ok(unsafe { (t.enqueue_memcpy)(q.0, a.p, b.p, n / 2, deps.as_ptr(), 1, &mut e4) });
        let e4 = Ev(e4);
        wait_all(&[&e4, &e3]);
        for e in [&e1, &e2, &e3, &e4] {
            assert_eq!(status_of(e), event_status::COMPLETE);
        }
        let mut back = vec![0u8; n];
        read_back(&q, a.p, &mut back, &[]);
        assert!(back[..n / 2].iter().all(|&x| x == 0x22));
        assert!(back[n / 2..].iter().all(|&x| x == 0x11));

        // A barrier on everything before, with and without an event, and a
        // barrier on dependencies without an event.
        ok(unsafe { (t.enqueue_memset)(q.0, a.p, 0x33, n, ptr::null(), 0, ptr::null_mut()) });
        let mut e5: Obj = ptr::null_mut();
        ok(unsafe { (t.enqueue_barrier)(q.0, ptr::null(), 0, &mut e5) });
        let e5 = Ev(e5);
        ok(unsafe { (t.enqueue_barrier)(q.0, ptr::null(), 0, ptr::null_mut()) });
        let deps = [e5.0];
        ok(unsafe { (t.enqueue_barrier)(q.0, deps.as_ptr(), 1, ptr::null_mut()) });
        wait_all(&[&e5]);
        read_back(&q, a.p, &mut back, &[]);
        assert!(back.iter().all(|&x| x == 0x33));
        queue_wait(&q);
        // Waiting for no event at all.
        // SAFETY: nothing to read.
        ok(unsafe { (t.event_wait)(ptr::null(), 0) });
    }

    #[test]
    fn runtime_rejections_of_an_enqueue_are_reported_synchronously() {
        let (_dev, ctx, q) = setup(0);
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, 4096, 0);
        let mut host = [0u8; 64];
        // 64 bytes from 10 bytes before the end: the OpenCL runtime checks
        // the size against the allocation and refuses at submission.
        // SAFETY: the pointer stays inside the allocation; the runtime
        // refuses the oversized copy before touching memory.
        let src = unsafe { mem.p.cast::<u8>().add(4096 - 10) };
        for want_event in [true, false] {
            let mut ev: Obj = 1 as Obj;
            let ev_out = if want_event {
                &mut ev as *mut Obj
            } else {
                ptr::null_mut()
            };
            // SAFETY: live queue; see above.
            let rc = unsafe {
                (table().enqueue_memcpy)(
                    q.0,
                    host.as_mut_ptr().cast(),
                    src.cast(),
                    64,
                    ptr::null(),
                    0,
                    ev_out,
                )
            };
            let (_, code, msg) = fails(rc, status::BACKEND);
            assert_ne!(code, 0, "{msg}");
            assert!(msg.contains("SYCL error code"), "{msg}");
            if want_event {
                assert!(ev.is_null(), "a failed call leaves NULL in ev_out");
            }
        }
        queue_wait(&q);
    }
}
