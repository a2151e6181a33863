//! Shared set-up of the Rust integration tests.

use std::sync::Once;

/// The path of library `file` as this workspace's build makes it.
pub fn workspace_lib(file: &str) -> String {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    format!("{}/target/{profile}/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// Point dpcore at the plugin built in this workspace unless
/// DPCORE_SYCL_PLUGIN already says where it is (`make test` sets it).
pub fn use_workspace_plugin() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("DPCORE_SYCL_PLUGIN").is_none() {
            std::env::set_var("DPCORE_SYCL_PLUGIN", workspace_lib("libdpcore_sycl.so"));
        }
    });
}

/// Load the mock plugin built in this workspace after the SYCL one
/// (`DPCORE_PLUGINS`); call before the first dpcore call, after setting
/// any variable the mock reads (`DPCORE_MOCK_*`).
#[allow(dead_code)] // not every test crate that includes this module uses it
pub fn use_mock_plugin() {
    use_workspace_plugin();
    let p = workspace_lib("libdpcore_mock.so");
    assert!(
        std::path::Path::new(&p).exists(),
        "{p} is missing: `cargo build --release --workspace` builds it"
    );
    std::env::set_var("DPCORE_PLUGINS", p);
}

/// A string property of a device (`dpc_device_get_info_string`).
#[allow(dead_code)] // not every test crate that includes this module uses it
pub fn info_string(d: dpcore::device::dpc_device, key: dpcore::device::dpc_device_info) -> String {
    use std::ffi::{c_char, CStr};
    let mut buf = [0 as c_char; 512];
    let mut n = 0usize;
    assert_eq!(
        unsafe {
            dpcore::device::dpc_device_get_info_string(
                d,
                key as i32,
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
            )
        },
        dpcore::error::dpc_status::DPC_SUCCESS
    );
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// Every root device dpcore finds, in `dpc_device_get` order, with its
/// filter string. Device tests run on each; finding none fails the test
/// (loudly, with dpcore's diagnostics), it is never a skip.
#[allow(dead_code)] // not every test crate that includes this module uses it
pub fn all_devices() -> Vec<(dpcore::device::dpc_device, String)> {
    use dpcore::device::*;
    use dpcore::error::dpc_status::DPC_SUCCESS;
    use std::ffi::{c_char, CStr};
    use_workspace_plugin();
    let mut n = 0usize;
    assert_eq!(
        unsafe { dpc_device_count(&mut n) },
        DPC_SUCCESS,
        "{}",
        dpcore::error::last_error().message
    );
    if n == 0 {
        let mut buf = vec![0 as c_char; 1 << 16];
        let mut need = 0usize;
        unsafe { dpcore::diagnostics::dpc_diagnostics(buf.as_mut_ptr(), buf.len(), &mut need) };
        let diag = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy();
        panic!(
            "dpcore finds no device, so the device tests cannot run (a failure, not a skip): \
             source scripts/env.sh (OCL_ICD_FILENAMES), check ONEAPI_DEVICE_SELECTOR and \
             DPCORE_SYCL_PLUGIN. dpc_diagnostics says:\n{diag}"
        );
    }
    (0..n)
        .map(|i| {
            let mut d: dpc_device = std::ptr::null_mut();
            assert_eq!(unsafe { dpc_device_get(i, &mut d) }, DPC_SUCCESS);
            (
                d,
                info_string(d, dpc_device_info::DPC_DEVICE_INFO_FILTER_STRING),
            )
        })
        .collect()
}
