//! Lifetimes the C API cannot show: a sub-device, its default context and
//! its canonical queue are all freed after their last user (they refer to
//! each other, so a strong cache would keep them forever), and concurrent
//! first calls of `dpc_queue_default` make one queue. Run over every
//! device found.

use std::sync::{Arc, Barrier};

mod common;

use dpcore::array::*;
use dpcore::context::*;
use dpcore::device::*;
use dpcore::dlpack::{dpc_dlpack_dtype, DPC_DL_FLOAT};
use dpcore::error::dpc_status::*;
use dpcore::queue::*;

/// The tests of this file count live handles: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn devices() -> Vec<dpc_device> {
    common::all_devices().into_iter().map(|(d, _)| d).collect()
}

fn queue_id(q: dpc_queue) -> u64 {
    let mut id = 0u64;
    assert_eq!(unsafe { dpc_queue_get_id(q, &mut id) }, DPC_SUCCESS);
    id
}

#[test]
fn sub_device_defaults_are_freed_after_their_last_user() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut partitioned = 0;
    for root in devices() {
        let mut n = 0usize;
        let mut subs = [std::ptr::null_mut(); 64];
        let st = unsafe { dpc_device_partition_equally(root, 1, subs.as_mut_ptr(), 64, &mut n) };
        if st == DPC_ERROR_UNSUPPORTED {
            eprintln!("NOT RUN on a device that cannot be partitioned equally");
            continue;
        }
        assert_eq!(st, DPC_SUCCESS, "{}", dpcore::error::last_error().message);
        partitioned += 1;
        let sub = subs[0];
        let dev = dpcore::handle::get::<Device>("sub", sub as usize).unwrap();
        let weak_dev = Arc::downgrade(&dev);
        drop(dev);

        let mut ctx: dpc_context = std::ptr::null_mut();
        assert_eq!(unsafe { dpc_context_default(sub, &mut ctx) }, DPC_SUCCESS);
        let weak_ctx =
            Arc::downgrade(&dpcore::handle::get::<Context>("ctx", ctx as usize).unwrap());
        let (mut q1, mut q2): (dpc_queue, dpc_queue) = (std::ptr::null_mut(), std::ptr::null_mut());
        assert_eq!(unsafe { dpc_queue_default(sub, &mut q1) }, DPC_SUCCESS);
        assert_eq!(unsafe { dpc_queue_default(sub, &mut q2) }, DPC_SUCCESS);
        // One canonical queue while it is in use, in the default context.
        assert_eq!(queue_id(q1), queue_id(q2));
        let mut qctx: dpc_context = std::ptr::null_mut();
        assert_eq!(unsafe { dpc_queue_get_context(q1, &mut qctx) }, DPC_SUCCESS);
        let mut same = false;
        assert_eq!(
            unsafe { dpc_context_equal(ctx, qctx, &mut same) },
            DPC_SUCCESS
        );
        assert!(same);
        let weak_q = Arc::downgrade(&dpcore::handle::get::<Queue>("q", q1 as usize).unwrap());

        // An array on the sub-device's queue keeps it all alive.
        let f4 = dpc_dlpack_dtype {
            code: DPC_DL_FLOAT,
            bits: 32,
            lanes: 1,
        };
        let shape = [8i64];
        let mut a: dpc_array = std::ptr::null_mut();
        assert_eq!(
            unsafe { dpc_array_zeros(q1, f4, 1, shape.as_ptr(), 0, &mut a) },
            DPC_SUCCESS
        );
        for h in [qctx as usize, ctx as usize] {
            assert_eq!(
                dpc_context_release(h as dpc_context),
                DPC_SUCCESS,
                "release"
            );
        }
        assert_eq!(dpc_queue_release(q1), DPC_SUCCESS);
        assert_eq!(dpc_queue_release(q2), DPC_SUCCESS);
        for s in &subs[..n] {
            assert_eq!(dpc_device_release(*s), DPC_SUCCESS);
        }
        assert!(
            weak_dev.upgrade().is_some(),
            "the array holds the sub-device"
        );
        assert!(weak_q.upgrade().is_some(), "the array holds its queue");
        assert_eq!(dpc_array_release(a), DPC_SUCCESS);
        assert!(
            weak_q.upgrade().is_none(),
            "the canonical queue outlived its users"
        );
        assert!(
            weak_ctx.upgrade().is_none(),
            "the default context outlived its users"
        );
        assert!(
            weak_dev.upgrade().is_none(),
            "the sub-device outlived its users"
        );
    }
    eprintln!("sub-device lifetimes checked on {partitioned} device(s)");
}

#[test]
fn concurrent_first_calls_of_queue_default_agree() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let live_queues = || {
        let mut n = 0u64;
        let k = dpcore::census::dpc_handle_kind::DPC_HANDLE_QUEUE as i32;
        assert_eq!(
            unsafe { dpcore::census::dpc_census_live_handles(k, &mut n) },
            DPC_SUCCESS
        );
        n
    };
    for d in devices() {
        let before = live_queues();
        let threads = 16;
        let barrier = Arc::new(Barrier::new(threads));
        let hs: Vec<usize> = (0..threads)
            .map(|_| {
                let b = barrier.clone();
                let d = d as usize;
                std::thread::spawn(move || {
                    b.wait();
                    let mut q: dpc_queue = std::ptr::null_mut();
                    assert_eq!(
                        unsafe { dpc_queue_default(d as dpc_device, &mut q) },
                        DPC_SUCCESS
                    );
                    q as usize
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        assert!(hs.iter().all(|h| *h == hs[0]), "{hs:?}");
        // A root device's canonical queue handle is immortal: nothing for
        // the callers to release, so the census does not move.
        assert_eq!(live_queues(), before);
    }
}
