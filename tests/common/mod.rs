//! Shared set-up of the Rust integration tests.

use std::sync::Once;

/// Point dpcore at the plugin built in this workspace unless
/// DPCORE_SYCL_PLUGIN already says where it is (`make test` sets it).
pub fn use_workspace_plugin() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("DPCORE_SYCL_PLUGIN").is_none() {
            let profile = if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            };
            let p = format!(
                "{}/target/{profile}/libdpcore_sycl.so",
                env!("CARGO_MANIFEST_DIR")
            );
            std::env::set_var("DPCORE_SYCL_PLUGIN", p);
        }
    });
}
