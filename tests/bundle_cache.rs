//! The build cache finds every bundle the program still holds, keeps only a
//! few released ones alive, and so stays bounded.

use std::sync::Arc;

use dpcore::context::default_context;
use dpcore::device::registry;
use dpcore::kernel::build;

mod common;

/// The module with its header's ID bound raised by `n`: the same program,
/// different bytes (so a different cache key).
fn variant(base: &[u8], n: u32) -> Vec<u8> {
    let mut v = base.to_vec();
    let bound = u32::from_le_bytes([v[12], v[13], v[14], v[15]]) + n;
    v[12..16].copy_from_slice(&bound.to_le_bytes());
    v
}

#[test]
fn held_bundles_are_found_and_released_ones_are_evicted() {
    // On every device dpcore finds (none is a failure).
    let n = common::all_devices().len();
    assert_eq!(registry().devices.len(), n);
    for dev in registry().devices.iter() {
        eprintln!("device {}", dev.filter.as_deref().unwrap_or("?"));
        cache_on(dev);
    }
}

fn cache_on(dev: &Arc<dpcore::device::Device>) {
    let ctx = default_context(dev).unwrap();
    let spv = std::fs::read(format!("{}/kernels/vadd.spv", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let kind = dpcore_backend_abi::source_kind::SPIRV;

    let held = build(&ctx, dev, kind, &variant(&spv, 1000), "").unwrap();
    let released = Arc::downgrade(&build(&ctx, dev, kind, &variant(&spv, 2000), "").unwrap());
    // More distinct builds than the cache keeps warm (8 by default).
    for i in 0..20 {
        drop(build(&ctx, dev, kind, &variant(&spv, 3000 + i), "").unwrap());
    }
    assert!(
        released.upgrade().is_none(),
        "a released bundle outlived 20 newer builds"
    );
    let again = build(&ctx, dev, kind, &variant(&spv, 1000), "").unwrap();
    assert!(
        Arc::ptr_eq(&held, &again),
        "a bundle the program holds was built again"
    );
    // A released, evicted input builds again and works.
    let rebuilt = build(&ctx, dev, kind, &variant(&spv, 2000), "").unwrap();
    assert!(rebuilt.names().unwrap().iter().any(|n| n == "vadd_f32"));
}
