//! Fault injection at `enqueue_fill`, which the core uses only for devices
//! without host USM: the mock plugin's device, told to report none
//! (`DPCORE_MOCK_NO_HOST_USM=1`). The fill fails with the injected status
//! and a message naming the op, leaves the USM census where it was, and
//! the next identical fill works.
//!
//! This file is its own process, so the plugins and plan it sets are its own.

use std::ffi::{c_void, CString};

mod common;

use dpcore::census::dpc_census_live_usm;
use dpcore::device::*;
use dpcore::error::{dpc_status::*, last_error};
use dpcore::faults::dpc_faults_set;
use dpcore::queue::*;
use dpcore::usm::*;

#[test]
fn a_fill_on_a_device_without_host_usm_reaches_enqueue_fill() {
    common::use_mock_plugin();
    std::env::set_var("DPCORE_MOCK_NO_HOST_USM", "1");
    assert_eq!(dpcore::backend::dpc_backend_load(), DPC_SUCCESS);
    let mock = common::all_devices()
        .into_iter()
        .map(|(d, _)| d)
        .find(|d| common::info_string(*d, dpc_device_info::DPC_DEVICE_INFO_PLUGIN) == "mock")
        .expect("the mock device");
    let mut q = std::ptr::null_mut();
    // SAFETY: `mock` is a live device handle; `q` a live local.
    assert_eq!(
        unsafe { dpc_queue_create_for_device(mock, DPC_QUEUE_IN_ORDER, &mut q) },
        DPC_SUCCESS
    );
    let mut mem: *mut c_void = std::ptr::null_mut();
    // SAFETY: `q` is a live queue; `mem` a live local.
    assert_eq!(
        unsafe { dpc_usm_alloc(q, dpc_usm_kind::DPC_USM_SHARED as i32, 64, 0, &mut mem) },
        DPC_SUCCESS
    );
    let live = || {
        let mut n = 0u64;
        // SAFETY: `n` is a live local; the bytes pointer may be NULL.
        assert_eq!(
            unsafe { dpc_census_live_usm(&mut n, std::ptr::null_mut()) },
            DPC_SUCCESS
        );
        n
    };
    let before = live();
    let spec = CString::new("enqueue_fill:1").unwrap();
    // SAFETY: a NUL-terminated string alive for the call.
    assert_eq!(unsafe { dpc_faults_set(spec.as_ptr()) }, DPC_SUCCESS);
    let pattern = 0x0102_0304u32;
    let fill = || {
        // SAFETY: `mem` holds 64 bytes of shared USM of `q`'s context (16
        // patterns of 4 bytes); `pattern` is alive for the call.
        unsafe {
            dpc_usm_fill(
                q,
                mem,
                (&pattern as *const u32).cast(),
                4,
                16,
                std::ptr::null(),
                0,
                std::ptr::null_mut(),
            )
        }
    };
    assert_eq!(fill(), DPC_ERROR_BACKEND);
    let e = last_error();
    assert!(
        e.message
            .contains("enqueue_fill: fault injected by dpc_faults_set (call 1"),
        "{}",
        e.message
    );
    assert_eq!(live(), before);
    assert_eq!(fill(), DPC_SUCCESS);
    // SAFETY: the second fill completed (the mock runs commands at once)
    // and wrote the 64 bytes at `mem`, shared USM readable from the host.
    let words = unsafe { std::slice::from_raw_parts(mem as *const u32, 16) };
    assert!(words.iter().all(|w| *w == pattern), "{words:x?}");
    // SAFETY: NULL clears the plan.
    assert_eq!(unsafe { dpc_faults_set(std::ptr::null()) }, DPC_SUCCESS);
    assert_eq!(dpc_usm_free(mem), DPC_SUCCESS);
    assert_eq!(live(), before - 1);
    assert_eq!(dpc_queue_release(q), DPC_SUCCESS);
}
