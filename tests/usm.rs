//! The fill strategy (memset / host seed + doubling copies) and the
//! deferred-free thread, through the C ABI, against the real device.

use std::ffi::{c_void, CString};
use std::ptr::null_mut;

mod common;

use dpcore::context::*;
use dpcore::device::*;
use dpcore::error::dpc_status::*;
use dpcore::event::*;
use dpcore::queue::*;
use dpcore::selector::dpc_device_select;
use dpcore::usm::*;

/// Every device dpcore finds (each test runs on all of them), selected
/// through its filter string as a user would; none is a failure.
fn devices() -> Vec<dpc_device> {
    common::all_devices()
        .into_iter()
        .map(|(d, filter)| {
            let f = CString::new(filter.as_str()).unwrap();
            let mut s: dpc_device = null_mut();
            let st = unsafe { dpc_device_select(f.as_ptr(), &mut s) };
            assert_eq!(st, DPC_SUCCESS, "{}", dpcore::error::last_error().message);
            assert_eq!(s, d, "{filter} selects another device");
            eprintln!("device {filter}");
            s
        })
        .collect()
}

fn queue(dev: dpc_device, flags: u32) -> dpc_queue {
    let mut q: dpc_queue = null_mut();
    assert_eq!(
        unsafe { dpc_queue_create_for_device(dev, flags, &mut q) },
        DPC_SUCCESS
    );
    q
}

#[test]
fn fill_is_exact_for_every_pattern_size_and_awkward_lengths() {
    for dev in devices() {
        fill_is_exact_for_every_pattern_size_and_awkward_lengths_on(dev);
    }
}

fn fill_is_exact_for_every_pattern_size_and_awkward_lengths_on(dev: dpc_device) {
    for flags in [DPC_QUEUE_IN_ORDER, 0] {
        let q = queue(dev, flags);
        let cap = 3 * 1024 * 1024 + 64;
        let mut p: *mut c_void = null_mut();
        assert_eq!(unsafe { dpc_usm_alloc(q, 1, cap, 64, &mut p) }, DPC_SUCCESS);
        let mut host = vec![0u8; cap];
        for psize in [1usize, 2, 4, 8, 16] {
            let pattern: Vec<u8> = (0..psize as u8).map(|i| 0x31 + i * 7).collect();
            // Around the 16 KiB seed, one element, and a long odd length.
            for bytes in [
                psize,
                1000 * psize,
                16 * 1024,
                16 * 1024 + psize,
                48 * 1024 - psize,
                cap - cap % psize - 64,
            ] {
                let count = bytes / psize;
                unsafe {
                    assert_eq!(
                        dpc_usm_memset(q, p, 0xee, cap, null_mut(), 0, null_mut()),
                        DPC_SUCCESS
                    );
                    let mut after_set: dpc_event = null_mut();
                    assert_eq!(
                        dpc_queue_barrier(q, null_mut(), 0, &mut after_set),
                        DPC_SUCCESS
                    );
                    let mut filled: dpc_event = null_mut();
                    let st = dpc_usm_fill(
                        q,
                        p,
                        pattern.as_ptr() as *const c_void,
                        psize,
                        count,
                        &after_set,
                        1,
                        &mut filled,
                    );
                    assert_eq!(st, DPC_SUCCESS, "{}", dpcore::error::last_error().message);
                    assert_eq!(
                        dpc_usm_memcpy(
                            q,
                            host.as_mut_ptr() as *mut c_void,
                            p,
                            cap,
                            &filled,
                            1,
                            null_mut()
                        ),
                        DPC_SUCCESS
                    );
                    assert_eq!(dpc_queue_wait(q), DPC_SUCCESS);
                    dpc_event_release(after_set);
                    dpc_event_release(filled);
                }
                let n = count * psize;
                let wrong = host[..n]
                    .iter()
                    .enumerate()
                    .filter(|(i, b)| **b != pattern[i % psize])
                    .count();
                assert_eq!(wrong, 0, "pattern {psize} B, {bytes} B, flags {flags}");
                assert!(
                    host[n..].iter().all(|b| *b == 0xee),
                    "fill ran past its end ({psize} B, {bytes} B)"
                );
            }
        }
        assert_eq!(dpc_usm_free(p), DPC_SUCCESS);
        assert_eq!(dpc_queue_release(q), DPC_SUCCESS);
    }
    // The host seeds are dpcore's scratch memory: freed, never counted.
    assert_eq!(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
}

#[test]
fn deferred_frees_all_happen_and_stats_return() {
    for dev in devices() {
        deferred_frees_all_happen_and_stats_return_on(dev);
    }
}

fn deferred_frees_all_happen_and_stats_return_on(dev: dpc_device) {
    // A context of its own, so the statistics are this test's alone.
    let mut ctx: dpc_context = null_mut();
    assert_eq!(
        unsafe { dpc_context_create(&dev, 1, &mut ctx) },
        DPC_SUCCESS
    );
    let mut q: dpc_queue = null_mut();
    assert_eq!(
        unsafe { dpc_queue_create(ctx, dev, 0, &mut q) },
        DPC_SUCCESS
    );
    let (mut b0, mut n0, mut peak) = (0u64, 0u64, 0u64);
    assert_eq!(
        unsafe { dpc_context_get_usm_stats(ctx, &mut b0, &mut n0, &mut peak) },
        DPC_SUCCESS
    );
    for i in 0..200usize {
        let mut p: *mut c_void = null_mut();
        let size = 4096 + i * 64;
        unsafe {
            assert_eq!(
                dpc_usm_alloc(q, 1 + (i % 3) as i32, size, 0, &mut p),
                DPC_SUCCESS
            );
            let mut e: dpc_event = null_mut();
            assert_eq!(
                dpc_usm_memset(q, p, i as u8, size, null_mut(), 0, &mut e),
                DPC_SUCCESS
            );
            assert_eq!(dpc_usm_free_after(p, &e, 1), DPC_SUCCESS);
            assert_eq!(dpc_event_release(e), DPC_SUCCESS);
        }
    }
    assert_eq!(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
    let (mut b1, mut n1) = (0u64, 0u64);
    assert_eq!(
        unsafe { dpc_context_get_usm_stats(ctx, &mut b1, &mut n1, &mut peak) },
        DPC_SUCCESS
    );
    assert_eq!((b0, n0), (0, 0));
    assert_eq!((b1, n1), (0, 0), "deferred frees left memory behind");
    assert!(peak >= 4096);
    assert_eq!(dpc_queue_release(q), DPC_SUCCESS);
    assert_eq!(dpc_context_release(ctx), DPC_SUCCESS);
}
