//! Integration tests of the device layer against the real SYCL plugin.
//! `make test` points DPCORE_SYCL_PLUGIN at the built plugin; run alone,
//! the test finds it in this workspace's target directory.

use std::ffi::CString;
use std::sync::Once;

mod common;

use dpcore::device::*;
use dpcore::error::dpc_status::{self, *};
use dpcore::selector::*;

fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        common::use_workspace_plugin();
        assert_eq!(
            dpcore::backend::dpc_backend_load(),
            DPC_SUCCESS,
            "backend did not load: {}",
            dpcore::error::last_error().message
        );
        let mut n = 0usize;
        assert_eq!(unsafe { dpc_device_count(&mut n) }, DPC_SUCCESS);
        assert!(
            n > 0,
            "no devices: set OCL_ICD_FILENAMES=<venv>/lib/libintelocl.so (source scripts/env.sh)"
        );
    });
}

fn select(s: &str) -> (dpc_status, dpc_device) {
    let c = CString::new(s).unwrap();
    let mut d: dpc_device = std::ptr::null_mut();
    let st = unsafe { dpc_device_select(c.as_ptr(), &mut d) };
    (st, d)
}

use common::info_string;

#[test]
fn canonical_filter_strings_select_their_device() {
    setup();
    let mut n = 0usize;
    unsafe { dpc_device_count(&mut n) };
    for i in 0..n {
        let mut d: dpc_device = std::ptr::null_mut();
        assert_eq!(unsafe { dpc_device_get(i, &mut d) }, DPC_SUCCESS);
        let f = info_string(d, dpc_device_info::DPC_DEVICE_INFO_FILTER_STRING);
        let parts: Vec<&str> = f.split(':').collect();
        assert_eq!(parts.len(), 3, "{f}");
        let (st, s) = select(&f);
        assert_eq!(st, DPC_SUCCESS);
        assert_eq!(s, d, "{f} selects another device");
    }
}

/// The filter grammar against the one device its strings name: the OpenCL
/// CPU device, which every machine has (scripts/setup.sh installs Intel's
/// OpenCL CPU runtime). Every device's own filter string is checked in
/// `canonical_filter_strings_select_their_device`.
#[test]
fn selector_grammar_against_real_devices() {
    setup();
    let all = common::all_devices();
    let (st, cpu) = select("opencl:cpu:0");
    assert_eq!(st, DPC_SUCCESS);
    for s in [
        "cpu",
        "opencl",
        "opencl:cpu",
        "opencl:0",
        "cpu:0",
        "*",
        "cpu,gpu",
        "gpu,cpu",
        " OpenCL : CPU ",
    ] {
        let (st, d) = select(s);
        assert_eq!(
            st,
            DPC_SUCCESS,
            "{s}: {}",
            dpcore::error::last_error().message
        );
        assert_eq!(d, cpu, "{s}");
    }
    for s in ["level_zero", "cuda:gpu", "opencl:cpu:1", "accelerator"] {
        let (st, _) = select(s);
        assert_eq!(st, DPC_ERROR_DEVICE_NOT_FOUND, "{s}");
        let msg = dpcore::error::last_error().message;
        assert!(msg.contains(&format!("\"{s}\"")), "{msg}");
        assert!(msg.contains("opencl:cpu:0"), "lists devices: {msg}");
        for (_, f) in &all {
            assert!(msg.contains(f.as_str()), "lists every device ({f}): {msg}");
        }
    }
    for s in ["", "cpu:opencl", "opencl:cpu:0:0", "bogus"] {
        assert_eq!(select(s).0, DPC_ERROR_INVALID_SELECTOR, "{s:?}");
    }
}

#[test]
fn one_selector_many_uses_many_threads() {
    setup();
    let c = CString::new("cpu").unwrap();
    let mut sel: dpc_selector = std::ptr::null_mut();
    assert_eq!(
        unsafe { dpc_selector_create(c.as_ptr(), &mut sel) },
        DPC_SUCCESS
    );
    let sel_addr = sel as usize;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut first = None;
                for _ in 0..2000 {
                    let mut d: dpc_device = std::ptr::null_mut();
                    assert_eq!(
                        unsafe { dpc_selector_select(sel_addr as dpc_selector, &mut d) },
                        DPC_SUCCESS
                    );
                    assert_eq!(*first.get_or_insert(d as usize), d as usize);
                }
                first.unwrap()
            })
        })
        .collect();
    let results: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(results.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(dpc_selector_release(sel), DPC_SUCCESS);
}

#[test]
fn default_device_prefers_gpu_then_accelerator_then_cpu() {
    setup();
    let mut d: dpc_device = std::ptr::null_mut();
    assert_eq!(unsafe { dpc_device_default(&mut d) }, DPC_SUCCESS);
    let reg = registry();
    let best = reg.devices.iter().map(|x| score(x)).max().unwrap();
    let chosen = get("d", d).unwrap();
    assert_eq!(score(&chosen), best);
}

#[test]
fn cached_queries_are_cheap() {
    setup();
    for (d, _) in common::all_devices() {
        cached_queries_are_cheap_on(d);
    }
}

fn cached_queries_are_cheap_on(d: dpc_device) {
    let mut v = 0u64;
    // Warm, then time many calls: a cached query is a table lookup.
    for _ in 0..1000 {
        unsafe {
            dpc_device_get_info_u64(
                d,
                dpc_device_info::DPC_DEVICE_INFO_GLOBAL_MEM_SIZE as i32,
                &mut v,
            )
        };
    }
    assert!(v > 0);
    // Not a timing assertion (benchmarks measure speed); this checks the
    // cache gives the same answer every time.
    let mut w = 0u64;
    unsafe {
        dpc_device_get_info_u64(
            d,
            dpc_device_info::DPC_DEVICE_INFO_GLOBAL_MEM_SIZE as i32,
            &mut w,
        )
    };
    assert_eq!(v, w);
}

#[test]
fn sub_devices_hold_their_parent() {
    setup();
    for (d, filter) in common::all_devices() {
        sub_devices_hold_their_parent_on(d, &filter);
    }
}

fn sub_devices_hold_their_parent_on(cpu: dpc_device, filter: &str) {
    let mut n = 0usize;
    let st = unsafe { dpc_device_partition_equally(cpu, 1, std::ptr::null_mut(), 0, &mut n) };
    let msg = dpcore::error::last_error().message;
    // Whether the device partitions equally is what it reports itself (the
    // partition kinds dpcore-info lists): then it must work; otherwise it
    // must be a clear DPC_ERROR_UNSUPPORTED.
    let equally = get("c", cpu).unwrap().info.partition_properties
        & dpcore_backend_abi::partition::EQUALLY
        != 0;
    if !equally {
        assert_eq!(st, DPC_ERROR_UNSUPPORTED, "{filter}: {msg}");
        eprintln!("{filter} does not partition equally (it says so): {msg}");
        return;
    }
    assert_eq!(st, DPC_SUCCESS, "{filter}: {msg}");
    let mut subs = vec![std::ptr::null_mut(); n];
    let mut m = 0usize;
    assert_eq!(
        unsafe { dpc_device_partition_equally(cpu, 1, subs.as_mut_ptr(), n, &mut m) },
        DPC_SUCCESS
    );
    assert_eq!(m, n);
    // Sub-devices of sub-devices are allowed where the runtime allows them;
    // either way the answer is a status.
    let mut k = 0usize;
    let st = unsafe { dpc_device_partition_equally(subs[0], 1, std::ptr::null_mut(), 0, &mut k) };
    let msg = dpcore::error::last_error().message;
    assert!(
        matches!(
            st,
            DPC_SUCCESS | DPC_ERROR_UNSUPPORTED | DPC_ERROR_INVALID_ARGUMENT | DPC_ERROR_BACKEND
        ),
        "{st:?}: {msg}"
    );
    if st != DPC_SUCCESS {
        eprintln!("partitioning a 1-CU sub-device: {st:?}: {msg}");
        assert!(
            msg.contains("AMD") || msg.contains("device") || msg.contains("partition"),
            "{msg}"
        );
    }
    for s in subs {
        let dev = get("s", s).unwrap();
        assert!(dev.parent.is_some());
        assert_eq!(dev.dlpack_id(), get("c", cpu).unwrap().dlpack_id());
        assert_eq!(dpc_device_release(s), DPC_SUCCESS);
    }
}
