//! Several backend plugins at once: the SYCL plugin and, through
//! `DPCORE_PLUGINS`, the mock plugin of `tests/mock-plugin` (one host-memory
//! device). The device list is their union in load order, each device
//! tagged with its plugin; filter strings, DLPack ids, platforms, contexts,
//! queues, USM and arrays work on the second plugin's device as on the
//! first's, and neither takes anything from the other.
//!
//! This file is its own process, so the plugins it names are loaded here.

use std::ffi::CString;
use std::sync::Once;

mod common;

use dpcore::array::*;
use dpcore::context::*;
use dpcore::device::*;
use dpcore::dlpack::{dpc_dlpack_dtype, DPC_DL_EXT_DEV, DPC_DL_FLOAT, DPC_DL_ONEAPI};
use dpcore::error::dpc_status::*;
use dpcore::platform::*;
use dpcore::queue::*;
use dpcore::selector::*;
use dpcore::usm::*;

fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        common::use_mock_plugin();
        assert_eq!(dpcore::backend::dpc_backend_load(), DPC_SUCCESS);
    });
}

use common::info_string;

fn devices() -> Vec<dpc_device> {
    common::all_devices().into_iter().map(|(d, _)| d).collect()
}

#[test]
fn the_device_list_is_the_union_in_load_order() {
    setup();
    let devs = devices();
    let plugins: Vec<String> = devs
        .iter()
        .map(|d| info_string(*d, dpc_device_info::DPC_DEVICE_INFO_PLUGIN))
        .collect();
    assert!(
        plugins.iter().filter(|p| *p == "sycl").count() >= 1,
        "no SYCL device: {plugins:?}"
    );
    // The SYCL plugin's devices first, then the mock's one device.
    assert_eq!(
        plugins.last().map(String::as_str),
        Some("mock"),
        "{plugins:?}"
    );
    let first_mock = plugins.iter().position(|p| p == "mock").unwrap();
    assert!(plugins[..first_mock].iter().all(|p| p == "sycl"));
    assert_eq!(plugins[first_mock..].len(), 1);
    let mock = devs[first_mock];
    assert_eq!(
        info_string(mock, dpc_device_info::DPC_DEVICE_INFO_NAME),
        "dpcore mock device"
    );
    assert_eq!(
        info_string(mock, dpc_device_info::DPC_DEVICE_INFO_FILTER_STRING),
        "native_cpu:cpu:0"
    );
    // Its filter string selects it; the SYCL devices keep theirs.
    let f = CString::new("native_cpu:cpu:0").unwrap();
    let mut sel = std::ptr::null_mut();
    assert_eq!(
        unsafe { dpc_device_select(f.as_ptr(), &mut sel) },
        DPC_SUCCESS
    );
    assert_eq!(sel, mock);
    // The default device prefers the SYCL device (listed first, both CPUs).
    let mut def = std::ptr::null_mut();
    assert_eq!(unsafe { dpc_device_default(&mut def) }, DPC_SUCCESS);
    assert_eq!(
        info_string(def, dpc_device_info::DPC_DEVICE_INFO_PLUGIN),
        "sycl"
    );
}

#[test]
fn dlpack_ids_count_per_device_type() {
    setup();
    let devs = devices();
    let mut oneapi = 0;
    for d in &devs {
        let arc = dpcore::handle::get::<Device>("d", *d as usize).unwrap();
        let mut id = -1;
        assert_eq!(
            unsafe { dpc_device_get_dlpack_id(*d, &mut id) },
            DPC_SUCCESS
        );
        if arc.plugin() == "sycl" {
            // kDLOneAPI ids are the SYCL order, untouched by other plugins.
            assert_eq!(arc.dlpack_type(), Some(DPC_DL_ONEAPI));
            assert_eq!(id, oneapi);
            let mut back = std::ptr::null_mut();
            assert_eq!(
                unsafe { dpc_device_from_dlpack_id(id, &mut back) },
                DPC_SUCCESS
            );
            assert_eq!(back, *d);
            oneapi += 1;
        } else {
            assert_eq!(arc.dlpack_type(), Some(DPC_DL_EXT_DEV));
            assert_eq!(id, 0);
        }
    }
    // No kDLOneAPI id reaches the mock device.
    let mut d = std::ptr::null_mut();
    assert_eq!(
        unsafe { dpc_device_from_dlpack_id(oneapi, &mut d) },
        DPC_ERROR_DEVICE_NOT_FOUND
    );
}

#[test]
fn platforms_contexts_queues_usm_and_arrays_on_the_second_plugin() {
    setup();
    let devs = devices();
    let mock = *devs.last().unwrap();
    let sycl = devs[0];
    // Platforms: the union too, and each device finds its own.
    let mut n = 0usize;
    assert_eq!(unsafe { dpc_platform_count(&mut n) }, DPC_SUCCESS);
    assert!(n >= 2);
    let (mut pm, mut ps) = (std::ptr::null_mut(), std::ptr::null_mut());
    assert_eq!(
        unsafe { dpc_device_get_platform(mock, &mut pm) },
        DPC_SUCCESS
    );
    assert_eq!(
        unsafe { dpc_device_get_platform(sycl, &mut ps) },
        DPC_SUCCESS
    );
    assert_ne!(pm, ps);
    // Default contexts are per plugin: never shared across plugins.
    let (mut cm, mut cs) = (std::ptr::null_mut(), std::ptr::null_mut());
    assert_eq!(unsafe { dpc_context_default(mock, &mut cm) }, DPC_SUCCESS);
    assert_eq!(unsafe { dpc_context_default(sycl, &mut cs) }, DPC_SUCCESS);
    let mut eq = true;
    assert_eq!(unsafe { dpc_context_equal(cm, cs, &mut eq) }, DPC_SUCCESS);
    assert!(!eq);
    // A queue, USM and an array round trip on the mock device.
    let mut q = std::ptr::null_mut();
    assert_eq!(unsafe { dpc_queue_default(mock, &mut q) }, DPC_SUCCESS);
    let mut p = std::ptr::null_mut();
    assert_eq!(unsafe { dpc_usm_alloc(q, 1, 64, 0, &mut p) }, DPC_SUCCESS);
    let mut kind = dpc_usm_kind::DPC_USM_UNKNOWN;
    assert_eq!(
        unsafe { dpc_usm_get_pointer_kind(cm, p, &mut kind) },
        DPC_SUCCESS
    );
    assert_eq!(kind, dpc_usm_kind::DPC_USM_DEVICE);
    // The SYCL context does not know the mock's memory.
    assert_eq!(
        unsafe { dpc_usm_get_pointer_kind(cs, p, &mut kind) },
        DPC_SUCCESS
    );
    assert_eq!(kind, dpc_usm_kind::DPC_USM_UNKNOWN);
    assert_eq!(dpc_usm_free(p), DPC_SUCCESS);

    let f4 = dpc_dlpack_dtype {
        code: DPC_DL_FLOAT,
        bits: 32,
        lanes: 1,
    };
    let shape = [5i64];
    let host = [1.0f32, 2.0, 3.0, 4.0, 5.0];
    let mut a = std::ptr::null_mut();
    assert_eq!(
        unsafe {
            dpc_array_from_host(
                q,
                f4,
                1,
                shape.as_ptr(),
                host.as_ptr().cast(),
                std::ptr::null(),
                0,
                &mut a,
            )
        },
        DPC_SUCCESS
    );
    let mut back = [0f32; 5];
    let mut need = 0usize;
    assert_eq!(
        unsafe {
            dpc_array_copy_to_host(a, back.as_mut_ptr().cast(), 20, std::ptr::null(), &mut need)
        },
        DPC_SUCCESS
    );
    assert_eq!(back, host);
    let mut full = std::ptr::null_mut();
    let seven = 7.0f32;
    assert_eq!(
        unsafe {
            dpc_array_full(
                q,
                f4,
                1,
                shape.as_ptr(),
                0,
                (&seven as *const f32).cast(),
                &mut full,
            )
        },
        DPC_SUCCESS
    );
    assert_eq!(
        unsafe {
            dpc_array_copy_to_host(
                full,
                back.as_mut_ptr().cast(),
                20,
                std::ptr::null(),
                &mut need,
            )
        },
        DPC_SUCCESS
    );
    assert_eq!(back, [7.0; 5]);
    // A copy between the two plugins' devices is staged through the host.
    let mut qs = std::ptr::null_mut();
    assert_eq!(unsafe { dpc_queue_default(sycl, &mut qs) }, DPC_SUCCESS);
    let mut on_sycl = std::ptr::null_mut();
    assert_eq!(
        unsafe { dpc_array_to_device(a, qs, 0, &mut on_sycl) },
        DPC_SUCCESS,
        "{}",
        dpcore::error::last_error().message
    );
    back = [0.0; 5];
    assert_eq!(
        unsafe {
            dpc_array_copy_to_host(
                on_sycl,
                back.as_mut_ptr().cast(),
                20,
                std::ptr::null(),
                &mut need,
            )
        },
        DPC_SUCCESS
    );
    assert_eq!(back, host);
    for x in [a, full, on_sycl] {
        assert_eq!(dpc_array_release(x), DPC_SUCCESS);
    }
    // Kernels are the mock's to refuse, with its own words.
    let mut b = std::ptr::null_mut();
    let src = CString::new("__kernel void k(__global int *x) { x[0] = 1; }").unwrap();
    let st = unsafe {
        dpcore::kernel::dpc_bundle_create_from_opencl_c(
            cm,
            mock,
            src.as_ptr(),
            std::ptr::null(),
            &mut b,
        )
    };
    assert_eq!(st, DPC_ERROR_UNSUPPORTED);
    assert!(
        dpcore::error::last_error()
            .message
            .contains("mock device runs no kernels"),
        "{}",
        dpcore::error::last_error().message
    );
}

#[test]
fn a_plugin_is_given_only_its_own_events() {
    setup();
    let devs = devices();
    let (mock, sycl) = (*devs.last().unwrap(), devs[0]);
    let (mut qm, mut qs) = (std::ptr::null_mut(), std::ptr::null_mut());
    assert_eq!(unsafe { dpc_queue_default(mock, &mut qm) }, DPC_SUCCESS);
    assert_eq!(unsafe { dpc_queue_default(sycl, &mut qs) }, DPC_SUCCESS);
    let (mut em, mut es) = (std::ptr::null_mut(), std::ptr::null_mut());
    assert_eq!(
        unsafe { dpc_queue_barrier(qm, std::ptr::null(), 0, &mut em) },
        DPC_SUCCESS
    );
    assert_eq!(
        unsafe { dpc_queue_barrier(qs, std::ptr::null(), 0, &mut es) },
        DPC_SUCCESS
    );
    // A mock event as a dependency of SYCL work is refused, by name.
    let mut src = [1u8; 16];
    let mut dst = [0u8; 16];
    let st = unsafe {
        dpc_usm_memcpy(
            qs,
            dst.as_mut_ptr().cast(),
            src.as_mut_ptr().cast(),
            16,
            &em,
            1,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(st, DPC_ERROR_INVALID_ARGUMENT);
    let msg = dpcore::error::last_error().message;
    assert!(
        msg.contains("events[0] is an event of plugin `mock` but the queue is of plugin `sycl`"),
        "{msg}"
    );
    let mut e2 = std::ptr::null_mut();
    assert_eq!(
        unsafe { dpc_queue_barrier(qm, &es, 1, &mut e2) },
        DPC_ERROR_INVALID_ARGUMENT
    );
    // Its own events it takes; waiting for events of both plugins at once
    // waits for each through its own plugin.
    assert_eq!(
        unsafe { dpc_queue_barrier(qm, &em, 1, &mut e2) },
        DPC_SUCCESS
    );
    let all = [em, es, e2];
    assert_eq!(
        unsafe { dpcore::event::dpc_event_wait_all(all.as_ptr(), 3) },
        DPC_SUCCESS
    );
    for e in all {
        assert_eq!(dpcore::event::dpc_event_release(e), DPC_SUCCESS);
    }
}
