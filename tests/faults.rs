//! Fault injection with two plugins (the SYCL plugin and, through
//! `DPCORE_PLUGINS`, the mock plugin): one plugin's failed enumeration is
//! reported in the log and takes nothing from the other's devices and
//! platforms. (The single-plugin walk of every injection point is
//! `tests/c/test_faults.c`.)
//!
//! This file is its own process, so the plugins and plan it sets are its own.

use std::ffi::CString;

mod common;

use dpcore::device::*;
use dpcore::error::dpc_status::*;
use dpcore::faults::dpc_faults_set;
use dpcore::platform::*;

#[test]
fn a_plugin_whose_listing_fails_takes_nothing_from_the_others() {
    common::use_mock_plugin();
    assert_eq!(dpcore::backend::dpc_backend_load(), DPC_SUCCESS);
    // The SYCL plugin lists first, with two calls (count, then objects):
    // call 3 of each listing is the mock plugin's first.
    let spec = CString::new("device_list:3:device_lost,platform_list:3").unwrap();
    // SAFETY: a NUL-terminated string alive for the call.
    assert_eq!(unsafe { dpc_faults_set(spec.as_ptr()) }, DPC_SUCCESS);
    let mut n = 0usize;
    // SAFETY: `n` is a live local.
    assert_eq!(unsafe { dpc_device_count(&mut n) }, DPC_SUCCESS);
    assert!(n >= 1, "the SYCL devices are kept");
    let devs = common::all_devices();
    assert_eq!(devs.len(), n);
    for (d, _) in &devs {
        assert_eq!(
            common::info_string(*d, dpc_device_info::DPC_DEVICE_INFO_PLUGIN),
            "sycl"
        );
    }
    let mut np = 0usize;
    // SAFETY: `np` is a live local.
    assert_eq!(unsafe { dpc_platform_count(&mut np) }, DPC_SUCCESS);
    assert!(np >= 1, "the SYCL platforms are kept");
    // SAFETY: NULL clears the plan.
    assert_eq!(unsafe { dpc_faults_set(std::ptr::null()) }, DPC_SUCCESS);
    // The list is fixed now: the mock device does not come back later.
    // SAFETY: `n` is a live local.
    assert_eq!(unsafe { dpc_device_count(&mut n) }, DPC_SUCCESS);
    assert_eq!(n, devs.len());
}
