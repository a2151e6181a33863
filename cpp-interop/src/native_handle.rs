//! Native handles (`native_handle`): the OpenCL or Level Zero handle of a
//! device, context or queue (the C++ half is
//! `src/bridge/native_handle.{h,cpp}`).

use std::ffi::c_void;
use std::ptr;

use dpcore_backend_abi::{backend, native_kind, status, Obj};

use crate::device::device_ref;
use crate::error::{guarded, non_null, Failure};
use crate::object::obj_ref;

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
    /// A backend's own handle of a device, context or queue.
    struct NativeHandle {
        backend: Backend,
        /// False for a backend without native handles (then `handle` is 0).
        supported: bool,
        handle: usize,
    }

    unsafe extern "C++" {
        include!("dpcore-sycl/src/platform.rs.h");
        include!("dpcore-sycl/src/bridge/native_handle.h");

        type Backend = crate::platform::ffi::Backend;
        type Device = crate::device::ffi::Device;
        type Context = crate::context::ffi::Context;
        type Queue = crate::queue::ffi::Queue;

        fn native_handle_device(dev: &Device) -> Result<NativeHandle>;
        fn native_handle_context(ctx: &Context) -> Result<NativeHandle>;
        fn native_handle_queue(q: &Queue) -> Result<NativeHandle>;
    }
}

/// Name of a [`backend`] value, for messages.
fn backend_name(b: i32) -> &'static str {
    match b {
        backend::OPENCL => "OpenCL",
        backend::LEVEL_ZERO => "Level Zero",
        backend::CUDA => "CUDA",
        backend::HIP => "HIP",
        backend::NATIVE_CPU => "native CPU",
        _ => "unknown",
    }
}

pub(crate) unsafe extern "C" fn native_handle(
    kind: i32,
    obj: Obj,
    backend_out: *mut i32,
    out: *mut *mut c_void,
) -> i32 {
    guarded("native_handle", || {
        non_null(out, "out")?;
        non_null(backend_out, "backend_out")?;
        // SAFETY: both checked non-NULL; a failed call leaves NULL and
        // UNKNOWN behind (or the backend, when only the handle is missing).
        unsafe {
            out.write(ptr::null_mut());
            backend_out.write(backend::UNKNOWN);
        }
        // SAFETY (all three): the caller passes a live object of the kind
        // named by `kind`, or NULL.
        let (h, what) = match kind {
            native_kind::DEVICE => (
                ffi::native_handle_device(unsafe { device_ref(obj, "obj") }?)?,
                "device",
            ),
            native_kind::CONTEXT => (
                ffi::native_handle_context(unsafe { obj_ref(obj, "obj") }?)?,
                "context",
            ),
            native_kind::QUEUE => (
                ffi::native_handle_queue(unsafe { obj_ref(obj, "obj") }?)?,
                "queue",
            ),
            other => return Err(Failure::invalid(format!("unknown native kind {other}"))),
        };
        // SAFETY: checked non-NULL.
        unsafe { backend_out.write(h.backend.repr) };
        if !h.supported {
            return Err(Failure::new(
                status::UNSUPPORTED,
                format!(
                    "native handles are available for the OpenCL and Level Zero backends only; \
                     this {what} is on the {} backend",
                    backend_name(h.backend.repr)
                ),
            ));
        }
        // SAFETY: checked non-NULL.
        unsafe { out.write(h.handle as *mut c_void) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{alloc, ok, read_back, setup, table, Ev};
    use dpcore_backend_abi::usm_kind;

    // The OpenCL entry points the tests use to check and give back the
    // references native_handle retains (from the libOpenCL the SYCL runtime
    // has loaded; the test binary does not link it either).
    #[link(name = "dl")]
    extern "C" {
        fn dlopen(filename: *const std::ffi::c_char, flags: std::ffi::c_int) -> *mut c_void;
        fn dlsym(handle: *mut c_void, symbol: *const std::ffi::c_char) -> *mut c_void;
    }
    const RTLD_NOW: std::ffi::c_int = 2;
    const RTLD_NOLOAD: std::ffi::c_int = 4;
    type ClInfoFn = unsafe extern "C" fn(*mut c_void, u32, usize, *mut c_void, *mut usize) -> i32;
    type ClReleaseFn = unsafe extern "C" fn(*mut c_void) -> i32;

    fn opencl_symbol(name: &std::ffi::CStr) -> *mut c_void {
        // SAFETY: plain dlopen/dlsym calls with NUL-terminated names.
        unsafe {
            let lib = dlopen(c"libOpenCL.so.1".as_ptr(), RTLD_NOW | RTLD_NOLOAD);
            assert!(!lib.is_null(), "libOpenCL.so.1 is not loaded");
            let sym = dlsym(lib, name.as_ptr());
            assert!(!sym.is_null(), "no {name:?} in libOpenCL");
            sym
        }
    }

    /// The reference count of an OpenCL object through its clGet*Info.
    fn cl_reference_count(info: ClInfoFn, obj: *mut c_void, param: u32) -> u32 {
        let mut count = 0u32;
        // SAFETY: a live OpenCL object of the kind `info` takes; 4-byte result.
        let rc = unsafe {
            info(
                obj,
                param,
                4,
                ptr::addr_of_mut!(count).cast(),
                ptr::null_mut(),
            )
        };
        assert_eq!(rc, 0, "clGet*Info failed");
        count
    }

    #[test]
    fn opencl_native_handles_are_retained_for_the_caller() {
        const CL_DEVICE_REFERENCE_COUNT: u32 = 0x1047;
        const CL_CONTEXT_REFERENCE_COUNT: u32 = 0x1080;
        const CL_QUEUE_REFERENCE_COUNT: u32 = 0x1092;
        let (dev, ctx, q) = setup(0);
        let t = table();
        let objects = [
            (
                native_kind::DEVICE,
                dev.0,
                c"clGetDeviceInfo",
                c"clReleaseDevice",
                CL_DEVICE_REFERENCE_COUNT,
            ),
            (
                native_kind::CONTEXT,
                ctx.0,
                c"clGetContextInfo",
                c"clReleaseContext",
                CL_CONTEXT_REFERENCE_COUNT,
            ),
            (
                native_kind::QUEUE,
                q.0,
                c"clGetCommandQueueInfo",
                c"clReleaseCommandQueue",
                CL_QUEUE_REFERENCE_COUNT,
            ),
        ];
        for (kind, obj, info_name, release_name, param) in objects {
            // SAFETY: the symbols have these C signatures (OpenCL 1.2).
            let (info, release) = unsafe {
                (
                    std::mem::transmute::<*mut c_void, ClInfoFn>(opencl_symbol(info_name)),
                    std::mem::transmute::<*mut c_void, ClReleaseFn>(opencl_symbol(release_name)),
                )
            };
            let mut backend_out = -1;
            let mut h: *mut c_void = ptr::null_mut();
            // SAFETY: live object of `kind`, writable outs.
            ok(unsafe { (t.native_handle)(kind, obj, &mut backend_out, &mut h) });
            assert_eq!(backend_out, backend::OPENCL);
            assert!(!h.is_null(), "kind {kind}");
            let before = cl_reference_count(info, h, param);
            let mut h2: *mut c_void = ptr::null_mut();
            // SAFETY: as above.
            ok(unsafe { (t.native_handle)(kind, obj, &mut backend_out, &mut h2) });
            assert_eq!(h2, h);
            let after = cl_reference_count(info, h, param);
            // Root devices are not reference counted in OpenCL (always 1).
            if kind != native_kind::DEVICE {
                assert_eq!(after, before + 1, "kind {kind}: one reference per call");
            }
            // Give both references back.
            // SAFETY: references retained for us.
            unsafe {
                assert_eq!(release(h2), 0);
                assert_eq!(release(h), 0);
            }
            if kind != native_kind::DEVICE {
                assert_eq!(
                    cl_reference_count(info, h, param),
                    before - 1,
                    "kind {kind}"
                );
            }
        }
        // The objects still work after the references were given back.
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, 64, 0);
        let mut back = [1u8; 64];
        let mut set: Obj = ptr::null_mut();
        // SAFETY: live queue, `mem` holds 64 bytes.
        ok(unsafe { (t.enqueue_memset)(q.0, mem.p, 0, 64, ptr::null(), 0, &mut set) });
        let set = Ev(set);
        read_back(&q, mem.p, &mut back, &[&set]);
        assert_eq!(back, [0u8; 64]);
    }
}
