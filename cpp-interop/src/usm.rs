//! USM (`usm_alloc`, `usm_free`, `usm_pointer_kind`, `usm_pointer_info`):
//! allocation on a queue's device and context, free, and what a pointer is
//! (the C++ half is `src/bridge/usm.{h,cpp}`; the USM memory commands are
//! in [`crate::enqueue`]).

use std::ffi::c_void;
use std::ptr;

use dpcore_backend_abi::{usm_kind, Obj, PointerInfoV1};

use crate::error::{guarded, non_null, Failure};
use crate::object::{into_obj, obj_ref};

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
    /// `dpcore_backend_abi::usm_kind` values.
    #[repr(i32)]
    enum UsmKind {
        Unknown = 0,
        Device = 1,
        Shared = 2,
        Host = 3,
    }

    /// What `usm_pointer_facts` learns about a pointer.
    struct PointerFacts {
        kind: UsmKind,
        /// Whether `base` and `size` (the containing allocation) are known.
        has_range: bool,
        base: usize,
        size: usize,
    }

    unsafe extern "C++" {
        include!("dpcore-sycl/src/bridge/usm.h");

        type Device = crate::device::ffi::Device;
        type Context = crate::context::ffi::Context;
        type Queue = crate::queue::ffi::Queue;

        fn usm_alloc(q: &Queue, kind: UsmKind, size: usize, align: usize) -> Result<usize>;
        fn usm_free(ctx: &Context, p: usize) -> Result<()>;
        fn usm_pointer_facts(ctx: &Context, p: usize) -> Result<PointerFacts>;
        fn usm_pointer_kind(ctx: &Context, p: usize) -> Result<UsmKind>;
        fn usm_pointer_device(ctx: &Context, p: usize) -> Result<UniquePtr<Device>>;
    }
}

// The bridge's enums restate numbers of the ABI crate; keep them in step.
const _: () = {
    assert!(ffi::UsmKind::Unknown.repr == usm_kind::UNKNOWN);
    assert!(ffi::UsmKind::Device.repr == usm_kind::DEVICE);
    assert!(ffi::UsmKind::Shared.repr == usm_kind::SHARED);
    assert!(ffi::UsmKind::Host.repr == usm_kind::HOST);
};

pub(crate) unsafe extern "C" fn usm_alloc(
    q: Obj,
    kind: i32,
    size: usize,
    align: usize,
    out: *mut *mut c_void,
) -> i32 {
    guarded("usm_alloc", || {
        non_null(out, "out")?;
        // SAFETY: checked non-NULL; a failed call leaves NULL behind.
        unsafe { out.write(ptr::null_mut()) };
        // SAFETY: the caller passes a live object or NULL.
        let q = unsafe { obj_ref::<ffi::Queue>(q, "q") }?;
        let kind = match kind {
            usm_kind::DEVICE => ffi::UsmKind::Device,
            usm_kind::SHARED => ffi::UsmKind::Shared,
            usm_kind::HOST => ffi::UsmKind::Host,
            usm_kind::UNKNOWN => {
                return Err(Failure::invalid(
                    "USM kind UNKNOWN cannot be allocated (use DEVICE, SHARED or HOST)",
                ))
            }
            other => return Err(Failure::invalid(format!("unknown USM kind {other}"))),
        };
        if align != 0 && !align.is_power_of_two() {
            return Err(Failure::invalid(format!(
                "alignment {align} is not a power of two"
            )));
        }
        if size == 0 {
            return Err(Failure::invalid("size is 0"));
        }
        let p = ffi::usm_alloc(q, kind, size, align)?;
        // SAFETY: checked non-NULL.
        unsafe { out.write(p as *mut c_void) };
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn usm_free(ctx: Obj, p: *mut c_void) -> i32 {
    guarded("usm_free", || {
        // SAFETY: the caller passes a live object or NULL.
        let ctx = unsafe { obj_ref::<ffi::Context>(ctx, "ctx") }?;
        // Like free(NULL): nothing to do.
        if !p.is_null() {
            ffi::usm_free(ctx, p as usize)?;
        }
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn usm_pointer_kind(
    ctx: Obj,
    p: *const c_void,
    kind_out: *mut i32,
) -> i32 {
    guarded("usm_pointer_kind", || {
        // SAFETY: the caller passes a live object or NULL.
        let ctx = unsafe { obj_ref::<ffi::Context>(ctx, "ctx") }?;
        non_null(kind_out, "kind_out")?;
        // NULL is not USM: kind UNKNOWN.
        let kind = if p.is_null() {
            ffi::UsmKind::Unknown
        } else {
            ffi::usm_pointer_kind(ctx, p as usize)?
        };
        // SAFETY: checked non-NULL.
        unsafe { kind_out.write(kind.repr) };
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn usm_pointer_info(
    ctx: Obj,
    p: *const c_void,
    out: *mut PointerInfoV1,
) -> i32 {
    guarded("usm_pointer_info", || {
        // SAFETY: the caller passes a live object or NULL.
        let ctx = unsafe { obj_ref::<ffi::Context>(ctx, "ctx") }?;
        non_null(out, "out")?;
        let mut info = PointerInfoV1::empty();
        // NULL is not USM: kind UNKNOWN.
        if !p.is_null() {
            let facts = ffi::usm_pointer_facts(ctx, p as usize)?;
            info.kind = facts.kind.repr;
            if facts.has_range {
                info.has_range = 1;
                info.base = facts.base;
                info.size = facts.size;
            }
            // Host USM belongs to the context, not to a device.
            if facts.kind == ffi::UsmKind::Device || facts.kind == ffi::UsmKind::Shared {
                let dev = ffi::usm_pointer_device(ctx, p as usize)?;
                if !dev.is_null() {
                    info.device = into_obj(dev);
                }
            }
        }
        // SAFETY: checked non-NULL; the core passes a writable record.
        unsafe { out.write(info) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{alloc, fails, ok, pointer_info, setup, table, Ctx, Dev};
    use dpcore_backend_abi::status;

    #[test]
    fn usm_alloc_each_kind_and_pointer_info() {
        const MIB: usize = 1 << 20;
        let (dev, ctx, q) = setup(0);
        for kind in [usm_kind::DEVICE, usm_kind::SHARED, usm_kind::HOST] {
            for align in [0, 4096] {
                let mem = alloc(&ctx, &q, kind, MIB, align);
                if align != 0 {
                    assert_eq!(mem.p as usize % align, 0, "kind {kind}");
                }
                for offset in [0, 100, MIB - 1] {
                    // SAFETY: inside the allocation.
                    let p = unsafe { mem.p.cast::<u8>().add(offset) };
                    let info = pointer_info(&ctx, p.cast());
                    let d = Dev(info.device);
                    assert_eq!(info.kind, kind, "offset {offset}");
                    assert_ne!(info.has_range, 0, "the OpenCL backend tells the range");
                    assert_eq!(info.base, mem.p as usize, "kind {kind} offset {offset}");
                    assert!(info.size >= MIB, "size {}", info.size);
                    if kind == usm_kind::HOST {
                        assert!(d.0.is_null(), "host USM has no device");
                    } else {
                        assert!(!d.0.is_null());
                        // SAFETY: live objects.
                        assert!(unsafe { (table().device_equal)(d.0, dev.0) });
                    }
                }
            }
        }
        // Memory that is not USM.
        let on_stack = 0u64;
        let heap = Box::new([0u8; 64]);
        for p in [
            ptr::addr_of!(on_stack).cast::<c_void>(),
            heap.as_ptr().cast(),
            ptr::null(),
        ] {
            let info = pointer_info(&ctx, p);
            assert_eq!(info.kind, usm_kind::UNKNOWN);
            assert_eq!(info.has_range, 0);
            assert!(info.device.is_null());
        }
        // Another context's memory is not USM of this one.
        let devs = [dev.0];
        let mut other: Obj = ptr::null_mut();
        // SAFETY: one live device, writable out.
        ok(unsafe { (table().context_create)(devs.as_ptr(), 1, &mut other) });
        let other = Ctx(other);
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, 64, 0);
        assert_eq!(pointer_info(&other, mem.p).kind, usm_kind::UNKNOWN);
    }

    #[test]
    fn usm_alloc_failures() {
        let (_dev, _ctx, q) = setup(0);
        let mut p: *mut c_void = 1 as *mut c_void;
        // SAFETY (all calls): live queue, writable out.
        let rc = unsafe { (table().usm_alloc)(q.0, usm_kind::DEVICE, 1 << 60, 0, &mut p) };
        let (_, _, msg) = fails(rc, status::OUT_OF_DEVICE_MEMORY);
        assert!(p.is_null());
        assert!(msg.contains(&(1usize << 60).to_string()), "{msg}");
        assert!(msg.contains("device USM"), "{msg}");
        for kind in [usm_kind::SHARED, usm_kind::HOST] {
            let rc = unsafe { (table().usm_alloc)(q.0, kind, 1 << 60, 64, &mut p) };
            let (_, _, msg) = fails(rc, status::OUT_OF_DEVICE_MEMORY);
            assert!(msg.contains("aligned to 64"), "{msg}");
        }
        for (kind, size, align, what) in [
            (usm_kind::DEVICE, 64, 3, "not a power of two"),
            (usm_kind::DEVICE, 64, 4097, "not a power of two"),
            (usm_kind::UNKNOWN, 64, 0, "UNKNOWN"),
            (7, 64, 0, "unknown USM kind 7"),
            (usm_kind::HOST, 0, 0, "size is 0"),
        ] {
            let rc = unsafe { (table().usm_alloc)(q.0, kind, size, align, &mut p) };
            let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
            assert!(msg.contains(what), "{msg}");
            assert!(p.is_null());
        }
    }
}
