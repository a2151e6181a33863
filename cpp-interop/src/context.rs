//! Contexts (`context_default`, `context_create`, `context_release`,
//! `context_equal`, `context_native`): the platform default context and new
//! ones over a set of devices (the C++ half is `src/bridge/context.{h,cpp}`).

use std::ffi::c_void;

use dpcore_backend_abi::Obj;

use crate::device::{self, device_ref};
use crate::error::{guarded, Failure};
use crate::object::{clear_out, equal_by, into_obj, native_of, obj_slice, release};

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
    unsafe extern "C++" {
        include!("dpcore-sycl/src/bridge/context.h");

        type Device = crate::device::ffi::Device;
        type DeviceList = crate::device::ffi::DeviceList;

        /// A context object (holds a `sycl::context`).
        type Context;

        fn context_default(dev: &Device) -> Result<UniquePtr<Context>>;
        fn context_create(devs: &DeviceList) -> Result<UniquePtr<Context>>;
        fn context_equal(a: &Context, b: &Context) -> bool;
        fn context_native(ctx: &Context) -> usize;
    }
}

// SAFETY: a `sycl::context` is a thread-safe reference-counted handle
// (SYCL 2020, 4.3.2); the wrapper is never mutated after construction.
unsafe impl Send for ffi::Context {}
unsafe impl Sync for ffi::Context {}

pub(crate) unsafe extern "C" fn context_default(dev: Obj, out: *mut Obj) -> i32 {
    guarded("context_default", || {
        // SAFETY: the caller passes a writable `out` or NULL.
        unsafe { clear_out(out, "out") }?;
        // SAFETY: the caller passes a live object or NULL.
        let dev = unsafe { device_ref(dev, "dev") }?;
        let ctx = ffi::context_default(dev)?;
        // SAFETY: checked non-NULL by `clear_out`.
        unsafe { out.write(into_obj(ctx)) };
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn context_create(devs: *const Obj, n: usize, out: *mut Obj) -> i32 {
    guarded("context_create", || {
        // SAFETY: the caller passes a writable `out` or NULL.
        unsafe { clear_out(out, "out") }?;
        if n == 0 {
            return Err(Failure::invalid(
                "n is 0: a context needs at least one device",
            ));
        }
        // SAFETY: the caller promises `n` readable objects at `devs`.
        let objs = unsafe { obj_slice(devs, n, "devs") }?;
        let mut list = device::ffi::device_list_new()?;
        for &obj in objs {
            // SAFETY: non-NULL live device objects, by the caller's promise.
            let dev = unsafe { device_ref(obj, "devs") }?;
            device::ffi::device_list_push(list.pin_mut(), dev)?;
        }
        let ctx = ffi::context_create(&list)?;
        // SAFETY: checked non-NULL by `clear_out`.
        unsafe { out.write(into_obj(ctx)) };
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn context_release(ctx: Obj) {
    // SAFETY: a context object given back once, or NULL.
    unsafe { release::<ffi::Context>(ctx) }
}

pub(crate) unsafe extern "C" fn context_equal(a: Obj, b: Obj) -> bool {
    // SAFETY: live context objects or NULL.
    unsafe { equal_by(a, b, ffi::context_equal) }
}

pub(crate) unsafe extern "C" fn context_native(ctx: Obj) -> *mut c_void {
    // SAFETY: a live context object or NULL.
    unsafe { native_of(ctx, ffi::context_native) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{
        cpu_device, default_context, new_queue, ok, queue_wait, table, Ctx,
    };
    use std::ptr;

    #[test]
    fn default_context_is_stable_and_created_contexts_are_new() {
        let dev = cpu_device();
        let a = default_context(&dev);
        let b = default_context(&dev);
        assert_ne!(a.0, b.0, "each call hands out a new object");
        // SAFETY: live objects.
        unsafe {
            assert!((table().context_equal)(a.0, b.0));
            assert!((table().context_equal)(a.0, a.0));
            assert!(!(table().context_native)(a.0).is_null());
        }

        let devs = [dev.0];
        let mut out: Obj = ptr::null_mut();
        // SAFETY: one live device, writable out.
        ok(unsafe { (table().context_create)(devs.as_ptr(), 1, &mut out) });
        let created = Ctx(out);
        // SAFETY: live objects.
        unsafe {
            assert!(!(table().context_equal)(created.0, a.0));
            assert!((table().context_equal)(created.0, created.0));
        }
        // A queue in the new context works.
        let q = new_queue(&created, &dev, 0);
        queue_wait(&q);

        // The same device twice is accepted by SYCL.
        let twice = [dev.0, dev.0];
        // SAFETY: two live devices, writable out.
        ok(unsafe { (table().context_create)(twice.as_ptr(), 2, &mut out) });
        drop(Ctx(out));
    }
}
