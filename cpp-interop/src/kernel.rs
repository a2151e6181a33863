//! Kernel bundles and kernels (`bundle_create`, `bundle_release`,
//! `bundle_kernel_names`, `bundle_has_kernel`, `bundle_get_kernel`,
//! `bundle_native`, `kernel_release`, `kernel_info`, `kernel_native`,
//! `enqueue_kernel`): device code built at run time from SPIR-V, OpenCL C or
//! SYCL source, and launched with checked arguments (the C++ half is
//! `src/bridge/kernel.{h,cpp}`).

use std::ffi::{c_char, c_void, CStr};
use std::ptr;

use cxx::let_cxx_string;
use dpcore_backend_abi::{
    arg_kind, source_kind, status, write_str, KernelArgV1, KernelInfoV1, Obj, MAX_SCALAR_ARG,
};

use crate::device::device_ref;
use crate::enqueue::enqueue;
use crate::error::{guarded, non_null, Failure};
use crate::host::set_build_log;
use crate::object::{clear_out, into_obj, native_of, obj_ref, release};

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
    /// `dpcore_backend_abi::source_kind` values.
    #[repr(i32)]
    enum SourceKind {
        Spirv = 1,
        OpenClC = 2,
        Sycl = 3,
    }

    /// `dpcore_backend_abi::arg_kind` values.
    #[repr(i32)]
    enum ArgKind {
        Pointer = 1,
        Scalar = 2,
        Local = 3,
    }

    /// One kernel argument; the same layout as `KernelArgV1` (checked
    /// below), so the core's array is handed to C++ as it is.
    struct KernelArg {
        kind: ArgKind,
        size: usize,
        /// The pointer (POINTER) or the address of the value (SCALAR).
        value: usize,
    }

    /// What `kernel_facts` learns about a kernel on a device (zero where a
    /// query failed).
    struct KernelFacts {
        name: String,
        num_args: u32,
        has_num_args: bool,
        max_work_group_size: u64,
        preferred_work_group_size_multiple: u64,
        private_mem_size: u64,
        local_mem_size: u64,
        compile_work_group_size: [u64; 3],
        max_sub_group_size: u32,
        max_num_sub_groups: u32,
        compile_sub_group_size: u32,
        compile_num_sub_groups: u32,
    }

    unsafe extern "C++" {
        include!("dpcore-sycl/src/bridge/kernel.h");

        type Device = crate::device::ffi::Device;
        type Context = crate::context::ffi::Context;
        type Queue = crate::queue::ffi::Queue;
        type Event = crate::event::ffi::Event;
        type EventList = crate::event::ffi::EventList;

        /// An executable kernel bundle (a `sycl::kernel_bundle`).
        type Bundle;
        /// A kernel object (holds a `sycl::kernel`).
        type Kernel;

        /// On a failed build (BUILD_FAILED), `log` receives the full log.
        fn bundle_create(
            ctx: &Context,
            dev: &Device,
            kind: SourceKind,
            src: &[u8],
            options: &[u8],
            log: Pin<&mut CxxString>,
        ) -> Result<UniquePtr<Bundle>>;
        fn bundle_kernel_names(b: &Bundle) -> Result<String>;
        fn bundle_has_kernel(b: &Bundle, name: &[u8]) -> Result<bool>;
        fn bundle_get_kernel(b: &Bundle, name: &[u8]) -> Result<UniquePtr<Kernel>>;
        fn bundle_native(b: &Bundle) -> usize;
        fn kernel_facts(k: &Kernel, dev: &Device) -> Result<KernelFacts>;
        fn kernel_native(k: &Kernel) -> usize;
        /// `global` has 1 to 3 sizes; `local` is empty or as long.
        fn enqueue_kernel(
            q: &Queue,
            k: &Kernel,
            global: &[usize],
            local: &[usize],
            args: &[KernelArg],
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
    }
}

// The bridge's enums restate numbers of the ABI crate; keep them in step.
const _: () = {
    assert!(ffi::SourceKind::Spirv.repr == source_kind::SPIRV);
    assert!(ffi::SourceKind::OpenClC.repr == source_kind::OPENCL_C);
    assert!(ffi::SourceKind::Sycl.repr == source_kind::SYCL);

    assert!(ffi::ArgKind::Pointer.repr == arg_kind::POINTER);
    assert!(ffi::ArgKind::Scalar.repr == arg_kind::SCALAR);
    assert!(ffi::ArgKind::Local.repr == arg_kind::LOCAL);

    // The C++ side's table of scalar setters has 256 entries.
    assert!(MAX_SCALAR_ARG == 256);

    // `KernelArgV1` and the bridge's `KernelArg` have one layout, so that a
    // `KernelArgV1` array is read as `KernelArg`s without a copy (the
    // `kind` of a cxx enum is a transparent i32: any value is valid).
    use std::mem::{align_of, offset_of, size_of};
    assert!(size_of::<KernelArgV1>() == size_of::<ffi::KernelArg>());
    assert!(align_of::<KernelArgV1>() == align_of::<ffi::KernelArg>());
    assert!(offset_of!(KernelArgV1, kind) == offset_of!(ffi::KernelArg, kind));
    assert!(offset_of!(KernelArgV1, size) == offset_of!(ffi::KernelArg, size));
    assert!(offset_of!(KernelArgV1, value) == offset_of!(ffi::KernelArg, value));
    assert!(size_of::<ffi::ArgKind>() == size_of::<i32>());
};

// SAFETY: `sycl::kernel_bundle` and `sycl::kernel` are thread-safe
// reference-counted handles too; a `Bundle`'s other members (build log,
// kernel names, its cl_program reference) are never mutated after
// construction.
unsafe impl Send for ffi::Bundle {}
unsafe impl Sync for ffi::Bundle {}
unsafe impl Send for ffi::Kernel {}
unsafe impl Sync for ffi::Kernel {}

/// The bytes of a NUL-terminated string argument (checked non-NULL).
///
/// # Safety
/// `s` must be NULL or a NUL-terminated string.
unsafe fn c_str_arg<'a>(s: *const c_char, what: &str) -> Result<&'a [u8], Failure> {
    non_null(s, what)?;
    // SAFETY: non-NULL and NUL-terminated by the caller's promise.
    Ok(unsafe { CStr::from_ptr(s) }.to_bytes())
}

pub(crate) unsafe extern "C" fn bundle_create(
    ctx: Obj,
    dev: Obj,
    kind: i32,
    src: *const u8,
    len: usize,
    options: *const c_char,
    out: *mut Obj,
) -> i32 {
    guarded("bundle_create", || {
        // SAFETY: the caller passes a writable `out` or NULL.
        unsafe { clear_out(out, "out") }?;
        // SAFETY: the caller passes live objects or NULL.
        let ctx = unsafe { obj_ref::<ffi::Context>(ctx, "ctx") }?;
        // SAFETY: as above.
        let dev = unsafe { device_ref(dev, "dev") }?;
        let kind = match kind {
            source_kind::SPIRV => ffi::SourceKind::Spirv,
            source_kind::OPENCL_C => ffi::SourceKind::OpenClC,
            source_kind::SYCL => ffi::SourceKind::Sycl,
            other => return Err(Failure::invalid(format!("unknown source kind {other}"))),
        };
        non_null(src, "src")?;
        if len == 0 {
            return Err(Failure::invalid("len is 0: the source is empty"));
        }
        // SAFETY: non-NULL; the caller promises `len` readable bytes.
        let src = unsafe { std::slice::from_raw_parts(src, len) };
        let options: &[u8] = if options.is_null() {
            &[]
        } else {
            // SAFETY: a NUL-terminated string by the caller's promise.
            unsafe { c_str_arg(options, "options") }?
        };
        let_cxx_string!(log = "");
        match ffi::bundle_create(ctx, dev, kind, src, options, log.as_mut()) {
            Ok(bundle) => {
                // SAFETY: checked non-NULL by `clear_out`.
                unsafe { out.write(into_obj(bundle)) };
                Ok(())
            }
            Err(e) => {
                let failure = Failure::from(e);
                if failure.status == status::BUILD_FAILED {
                    set_build_log(log.as_bytes());
                }
                Err(failure)
            }
        }
    })
}

pub(crate) unsafe extern "C" fn bundle_release(b: Obj) {
    // SAFETY: a bundle object given back once, or NULL.
    unsafe { release::<ffi::Bundle>(b) }
}

pub(crate) unsafe extern "C" fn bundle_kernel_names(
    b: Obj,
    buf: *mut c_char,
    cap: usize,
    size_out: *mut usize,
) -> i32 {
    guarded("bundle_kernel_names", || {
        non_null(size_out, "size_out")?;
        // SAFETY: checked non-NULL; a failed call leaves 0 behind (or the
        // size needed, for OUT_OF_RANGE).
        unsafe { size_out.write(0) };
        // SAFETY: the caller passes a live object or NULL.
        let b = unsafe { obj_ref::<ffi::Bundle>(b, "b") }?;
        let names = ffi::bundle_kernel_names(b)?;
        let size = names.len() + 1;
        // SAFETY: checked non-NULL.
        unsafe { size_out.write(size) };
        if buf.is_null() {
            return Ok(());
        }
        if cap < size {
            return Err(Failure::new(
                status::OUT_OF_RANGE,
                format!("the kernel names need {size} bytes (NUL included); buf holds {cap}"),
            ));
        }
        // SAFETY: `buf` holds `cap >= size` bytes by the caller's promise.
        unsafe {
            ptr::copy_nonoverlapping(names.as_ptr(), buf.cast::<u8>(), names.len());
            buf.add(names.len()).write(0);
        }
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn bundle_has_kernel(
    b: Obj,
    name: *const c_char,
    out: *mut bool,
) -> i32 {
    guarded("bundle_has_kernel", || {
        non_null(out, "out")?;
        // SAFETY: checked non-NULL; a failed call leaves false behind.
        unsafe { out.write(false) };
        // SAFETY: the caller passes a live object or NULL.
        let b = unsafe { obj_ref::<ffi::Bundle>(b, "b") }?;
        // SAFETY: a NUL-terminated string or NULL.
        let name = unsafe { c_str_arg(name, "name") }?;
        let has = ffi::bundle_has_kernel(b, name)?;
        // SAFETY: checked non-NULL.
        unsafe { out.write(has) };
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn bundle_get_kernel(
    b: Obj,
    name: *const c_char,
    out: *mut Obj,
) -> i32 {
    guarded("bundle_get_kernel", || {
        // SAFETY: the caller passes a writable `out` or NULL.
        unsafe { clear_out(out, "out") }?;
        // SAFETY: the caller passes a live object or NULL.
        let b = unsafe { obj_ref::<ffi::Bundle>(b, "b") }?;
        // SAFETY: a NUL-terminated string or NULL.
        let name = unsafe { c_str_arg(name, "name") }?;
        let k = ffi::bundle_get_kernel(b, name)?;
        // SAFETY: checked non-NULL by `clear_out`.
        unsafe { out.write(into_obj(k)) };
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn bundle_native(b: Obj) -> *mut c_void {
    // SAFETY: a live bundle object or NULL.
    unsafe { native_of(b, ffi::bundle_native) }
}

pub(crate) unsafe extern "C" fn kernel_release(k: Obj) {
    // SAFETY: a kernel object given back once, or NULL.
    unsafe { release::<ffi::Kernel>(k) }
}

pub(crate) unsafe extern "C" fn kernel_info(k: Obj, dev: Obj, out: *mut KernelInfoV1) -> i32 {
    guarded("kernel_info", || {
        // SAFETY: the caller passes live objects or NULL.
        let k = unsafe { obj_ref::<ffi::Kernel>(k, "k") }?;
        // SAFETY: as above.
        let dev = unsafe { device_ref(dev, "dev") }?;
        non_null(out, "out")?;
        let f = ffi::kernel_facts(k, dev)?;
        let mut info = KernelInfoV1::zeroed();
        write_str(&mut info.name, &f.name);
        info.num_args = f.num_args;
        info.has_num_args = u32::from(f.has_num_args);
        info.max_work_group_size = f.max_work_group_size;
        info.preferred_work_group_size_multiple = f.preferred_work_group_size_multiple;
        info.private_mem_size = f.private_mem_size;
        info.local_mem_size = f.local_mem_size;
        info.compile_work_group_size = f.compile_work_group_size;
        info.max_sub_group_size = f.max_sub_group_size;
        info.max_num_sub_groups = f.max_num_sub_groups;
        info.compile_sub_group_size = f.compile_sub_group_size;
        info.compile_num_sub_groups = f.compile_num_sub_groups;
        // SAFETY: checked non-NULL; the core passes a writable record.
        unsafe { out.write(info) };
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn kernel_native(k: Obj) -> *mut c_void {
    // SAFETY: a live kernel object or NULL.
    unsafe { native_of(k, ffi::kernel_native) }
}

/// Check the kernel arguments: known kinds, scalars of 1 to
/// [`MAX_SCALAR_ARG`] bytes with a value, local memory of at least a byte.
fn check_kernel_args(args: &[KernelArgV1]) -> Result<(), Failure> {
    for (i, a) in args.iter().enumerate() {
        match a.kind {
            arg_kind::POINTER => {}
            arg_kind::SCALAR => {
                if a.size == 0 || a.size > MAX_SCALAR_ARG {
                    return Err(Failure::invalid(format!(
                        "args[{i}]: a scalar of {} bytes (1 to {MAX_SCALAR_ARG} are allowed)",
                        a.size
                    )));
                }
                if a.value.is_null() {
                    return Err(Failure::invalid(format!("args[{i}].value is NULL")));
                }
            }
            arg_kind::LOCAL => {
                if a.size == 0 {
                    return Err(Failure::invalid(format!(
                        "args[{i}]: 0 bytes of local memory"
                    )));
                }
            }
            other => {
                return Err(Failure::invalid(format!(
                    "args[{i}]: unknown argument kind {other}"
                )))
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "C" fn enqueue_kernel(
    q: Obj,
    k: Obj,
    dims: u32,
    global: *const usize,
    local: *const usize,
    args: *const KernelArgV1,
    n_args: usize,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_kernel", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                let k = obj_ref::<ffi::Kernel>(k, "k")?;
                if !(1..=3).contains(&dims) {
                    return Err(Failure::invalid(format!(
                        "dims is {dims}: a kernel is launched over 1 to 3 dimensions"
                    )));
                }
                let dims = dims as usize;
                non_null(global, "global")?;
                // SAFETY: non-NULL; the caller promises `dims` sizes.
                let global = std::slice::from_raw_parts(global, dims);
                let local: &[usize] = if local.is_null() {
                    &[]
                } else {
                    // SAFETY: as above.
                    std::slice::from_raw_parts(local, dims)
                };
                let args: &[KernelArgV1] = if n_args == 0 {
                    &[]
                } else {
                    non_null(args, "args")?;
                    // SAFETY: non-NULL; the caller promises `n_args` records.
                    std::slice::from_raw_parts(args, n_args)
                };
                check_kernel_args(args)?;
                // SAFETY: the same layout (checked at compile time above).
                let args =
                    std::slice::from_raw_parts(args.as_ptr().cast::<ffi::KernelArg>(), args.len());
                Ok(ffi::enqueue_kernel(q, k, global, local, args, deps, want)?)
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{
        alloc, fails, info, name, ok, owned, partition, queue_wait, setup, status_of, table,
        take_build_log, take_error, wait_all, Ctx, Dev, Ev, Queue, Usm,
    };
    use crate::test_support;
    use dpcore_backend_abi::{event_status, partition_kind, queue_flags, usm_kind};

    owned!(
        /// An owned kernel bundle object.
        Bundle,
        bundle_release
    );
    owned!(
        /// An owned kernel object.
        Kern,
        kernel_release
    );

    /// The test kernels of `tests-data/kernels.cl`, compiled to SPIR-V.
    const KERNELS_SPV: &[u8] = include_bytes!("../tests-data/kernels.spv");

    /// OpenCL C twin of the SPIR-V `vadd`.
    const VADD_CL: &str = "__kernel void vadd(__global const int *a, __global const int *b, \
                           __global int *c, int k) {\n\
                             size_t i = get_global_id(0);\n\
                             c[i] = a[i] + k * b[i];\n\
                           }\n";

    /// OpenCL C twin of the SPIR-V `ids`, plus `sizes`, which writes the
    /// local and group counts seen by work-item (0, 0, 0).
    const IDS_CL: &str = "__kernel void ids(__global uint *out) {\n\
          size_t i0 = get_global_id(0), i1 = get_global_id(1), i2 = get_global_id(2);\n\
          size_t n0 = get_global_size(0), n1 = get_global_size(1);\n\
          size_t linear = i0 + n0 * (i1 + n1 * i2);\n\
          out[3 * linear + 0] = (uint)i0;\n\
          out[3 * linear + 1] = (uint)i1;\n\
          out[3 * linear + 2] = (uint)i2;\n\
        }\n\
        __kernel void sizes(__global uint *out) {\n\
          if (get_global_id(0) == 0 && get_global_id(1) == 0 && get_global_id(2) == 0) {\n\
            for (uint d = 0; d < 3; ++d) {\n\
              out[d] = (uint)get_global_size(d);\n\
              out[3 + d] = (uint)get_local_size(d);\n\
              out[6 + d] = (uint)get_num_groups(d);\n\
            }\n\
          }\n\
        }\n";

    /// A failed build: the recorded error and build log.
    type BuildError = ((i32, i64, String), Option<String>);

    /// Build a bundle; the error (and the recorded build log) on failure.
    fn try_build(
        ctx: &Ctx,
        dev: &Dev,
        kind: i32,
        src: &[u8],
        options: Option<&std::ffi::CStr>,
    ) -> Result<Bundle, BuildError> {
        let mut out: Obj = 1 as Obj;
        let opts = options.map_or(ptr::null(), |o| o.as_ptr());
        // SAFETY: live objects; `src` holds `len` bytes; writable out.
        let rc = unsafe {
            (table().bundle_create)(ctx.0, dev.0, kind, src.as_ptr(), src.len(), opts, &mut out)
        };
        if rc == status::SUCCESS {
            assert!(!out.is_null());
            assert!(
                take_build_log().is_none(),
                "a successful build records no log"
            );
            return Ok(Bundle(out));
        }
        assert!(out.is_null(), "a failed call leaves NULL in out");
        let e = take_error().expect("a failed call sets the error");
        assert_eq!(e.0, rc);
        Err((e, take_build_log()))
    }

    #[track_caller]
    fn build(
        ctx: &Ctx,
        dev: &Dev,
        kind: i32,
        src: &[u8],
        options: Option<&std::ffi::CStr>,
    ) -> Bundle {
        match try_build(ctx, dev, kind, src, options) {
            Ok(b) => b,
            Err((e, log)) => panic!("build failed: {e:?}\nlog: {}", log.unwrap_or_default()),
        }
    }

    fn try_get_kernel(b: &Bundle, name: &str) -> Result<Kern, (i32, i64, String)> {
        let name = std::ffi::CString::new(name).unwrap();
        let mut out: Obj = 1 as Obj;
        // SAFETY: live bundle, NUL-terminated name, writable out.
        let rc = unsafe { (table().bundle_get_kernel)(b.0, name.as_ptr(), &mut out) };
        if rc == status::SUCCESS {
            assert!(!out.is_null());
            return Ok(Kern(out));
        }
        assert!(out.is_null());
        Err(fails(rc, rc))
    }

    #[track_caller]
    fn get_kernel(b: &Bundle, name: &str) -> Kern {
        try_get_kernel(b, name).unwrap_or_else(|e| panic!("no kernel {name}: {e:?}"))
    }

    fn has_kernel(b: &Bundle, name: &str) -> bool {
        let name = std::ffi::CString::new(name).unwrap();
        let mut out = true;
        // SAFETY: live bundle, NUL-terminated name, writable out.
        ok(unsafe { (table().bundle_has_kernel)(b.0, name.as_ptr(), &mut out) });
        out
    }

    fn kernel_names(b: &Bundle) -> Result<Vec<String>, (i32, i64, String)> {
        let mut size = 0usize;
        // SAFETY: live bundle, size query.
        let rc = unsafe { (table().bundle_kernel_names)(b.0, ptr::null_mut(), 0, &mut size) };
        if rc != status::SUCCESS {
            return Err(fails(rc, rc));
        }
        let mut buf = vec![1 as c_char; size];
        let mut size2 = 0usize;
        // SAFETY: `buf` holds `size` bytes.
        ok(unsafe { (table().bundle_kernel_names)(b.0, buf.as_mut_ptr(), size, &mut size2) });
        assert_eq!(size, size2);
        assert_eq!(buf[size - 1], 0, "NUL-terminated");
        let text = String::from_utf8_lossy(dpcore_backend_abi::read_str(&buf)).into_owned();
        assert_eq!(text.len() + 1, size);
        Ok(text.split('\n').map(str::to_string).collect())
    }

    fn kernel_info_of(k: &Kern, dev: &Dev) -> KernelInfoV1 {
        let mut info = KernelInfoV1::zeroed();
        // SAFETY: live objects, writable record.
        ok(unsafe { (table().kernel_info)(k.0, dev.0, &mut info) });
        info
    }

    fn pointer_arg<T>(p: *const T) -> KernelArgV1 {
        KernelArgV1 {
            kind: arg_kind::POINTER,
            size: std::mem::size_of::<*const T>(),
            value: p.cast(),
        }
    }

    /// A scalar argument (borrows `value`, which must outlive the launch call).
    fn scalar_arg<T>(value: &T) -> KernelArgV1 {
        KernelArgV1 {
            kind: arg_kind::SCALAR,
            size: std::mem::size_of::<T>(),
            value: (value as *const T).cast(),
        }
    }

    fn local_arg(size: usize) -> KernelArgV1 {
        KernelArgV1 {
            kind: arg_kind::LOCAL,
            size,
            value: ptr::null(),
        }
    }

    /// Launch `k` on `q`; returns the status.
    fn launch_rc(
        q: &Queue,
        k: &Kern,
        global: &[usize],
        local: Option<&[usize]>,
        args: &[KernelArgV1],
        deps: &[&Ev],
        ev_out: *mut Obj,
    ) -> i32 {
        let deps: Vec<Obj> = deps.iter().map(|e| e.0).collect();
        // SAFETY: live objects; the slices hold what their lengths say.
        unsafe {
            (table().enqueue_kernel)(
                q.0,
                k.0,
                global.len() as u32,
                global.as_ptr(),
                local.map_or(ptr::null(), |l| l.as_ptr()),
                args.as_ptr(),
                args.len(),
                deps.as_ptr(),
                deps.len(),
                ev_out,
            )
        }
    }

    /// Launch `k` on `q` without an event and wait for the queue.
    #[track_caller]
    fn run(q: &Queue, k: &Kern, global: &[usize], local: Option<&[usize]>, args: &[KernelArgV1]) {
        ok(launch_rc(q, k, global, local, args, &[], ptr::null_mut()));
        queue_wait(q);
    }

    /// Shared USM of `n` elements of `T`, as a slice (valid while `mem` is).
    fn shared<T: Copy>(ctx: &Ctx, q: &Queue, n: usize) -> (Usm, *mut T) {
        let mem = alloc(ctx, q, usm_kind::SHARED, n * std::mem::size_of::<T>(), 0);
        let p = mem.p.cast::<T>();
        (mem, p)
    }

    /// Run the vadd kernel `k` over `n` elements and check the result.
    fn check_vadd(ctx: &Ctx, q: &Queue, k: &Kern) {
        let n = 1000;
        let (_a, a) = shared::<i32>(ctx, q, n);
        let (_b, b) = shared::<i32>(ctx, q, n);
        let (_c, c) = shared::<i32>(ctx, q, n);
        // SAFETY: shared USM of `n` elements, not in use by the device.
        let (av, bv, cv) = unsafe {
            (
                std::slice::from_raw_parts_mut(a, n),
                std::slice::from_raw_parts_mut(b, n),
                std::slice::from_raw_parts_mut(c, n),
            )
        };
        for i in 0..n {
            av[i] = i as i32;
            bv[i] = 1000 - i as i32;
            cv[i] = -1;
        }
        let k3 = 3i32;
        let args = [
            pointer_arg(a),
            pointer_arg(b),
            pointer_arg(c),
            scalar_arg(&k3),
        ];
        // With an event this time.
        let mut ev: Obj = ptr::null_mut();
        ok(launch_rc(q, k, &[n], None, &args, &[], &mut ev));
        let ev = Ev(ev);
        wait_all(&[&ev]);
        assert_eq!(status_of(&ev), event_status::COMPLETE);
        for (i, &v) in cv.iter().enumerate() {
            assert_eq!(v, i as i32 + 3 * (1000 - i as i32), "c[{i}]");
        }
    }

    #[test]
    fn spirv_vadd_builds_and_runs() {
        let (dev, ctx, q) = setup(0);
        let b = build(&ctx, &dev, source_kind::SPIRV, KERNELS_SPV, None);
        // SAFETY: live object.
        assert!(!unsafe { (table().bundle_native)(b.0) }.is_null());
        let k = get_kernel(&b, "vadd");
        // SAFETY: live object.
        assert!(!unsafe { (table().kernel_native)(k.0) }.is_null());
        check_vadd(&ctx, &q, &k);
        // Build options are accepted (split on spaces).
        let b2 = build(
            &ctx,
            &dev,
            source_kind::SPIRV,
            KERNELS_SPV,
            Some(c"-cl-fast-relaxed-math  -cl-mad-enable"),
        );
        check_vadd(&ctx, &q, &get_kernel(&b2, "vadd"));
    }

    #[test]
    fn opencl_c_builds_and_runs_with_options_and_dependencies() {
        let (dev, ctx, q) = setup(0);
        let b = build(&ctx, &dev, source_kind::OPENCL_C, VADD_CL.as_bytes(), None);
        let k = get_kernel(&b, "vadd");
        check_vadd(&ctx, &q, &k);

        // Options reach the compiler; a chain of launches with events on an
        // out-of-order queue.
        let src = "__kernel void scale(__global int *x) { x[get_global_id(0)] *= FACTOR; }\n\
                   __kernel void iota(__global int *x) { x[get_global_id(0)] = (int)get_global_id(0); }\n";
        let b = build(
            &ctx,
            &dev,
            source_kind::OPENCL_C,
            src.as_bytes(),
            Some(c"-DFACTOR=7 -Werror"),
        );
        let (scale, iota) = (get_kernel(&b, "scale"), get_kernel(&b, "iota"));
        let n = 4096;
        let (_m, x) = shared::<i32>(&ctx, &q, n);
        let args = [pointer_arg(x)];
        let mut e1: Obj = ptr::null_mut();
        ok(launch_rc(&q, &iota, &[n], None, &args, &[], &mut e1));
        let e1 = Ev(e1);
        let mut e2: Obj = ptr::null_mut();
        ok(launch_rc(
            &q,
            &scale,
            &[n],
            Some(&[64]),
            &args,
            &[&e1],
            &mut e2,
        ));
        let e2 = Ev(e2);
        // Without an event, after e2.
        ok(launch_rc(
            &q,
            &scale,
            &[n],
            None,
            &args,
            &[&e2],
            ptr::null_mut(),
        ));
        queue_wait(&q);
        // SAFETY: shared USM of `n` elements, the device is done with it.
        let xv = unsafe { std::slice::from_raw_parts(x, n) };
        for (i, &v) in xv.iter().enumerate() {
            assert_eq!(v, 49 * i as i32, "x[{i}]");
        }
    }

    #[test]
    fn failed_opencl_c_build_records_the_log() {
        let (dev, ctx, _q) = setup(0);
        let dev_name = name(&info(&dev));
        let src = "__kernel void broken(__global int *x) {\n  x[0] = undeclared_thing + 1;\n}\n";
        let ((st, code, msg), log) =
            try_build(&ctx, &dev, source_kind::OPENCL_C, src.as_bytes(), None)
                .err()
                .expect("the build must fail");
        assert_eq!(st, status::BUILD_FAILED, "{msg}");
        assert_eq!(code, -11, "CL_BUILD_PROGRAM_FAILURE: {msg}");
        assert!(msg.contains("building OpenCL C for device"), "{msg}");
        assert!(msg.contains(&dev_name), "{msg}");
        assert!(
            msg.contains("undeclared_thing"),
            "the first error line: {msg}"
        );
        assert!(msg.contains("dpc_last_error_build_log"), "{msg}");
        let log = log.expect("the build log is recorded");
        assert!(log.contains("undeclared_thing"), "{log}");
        assert!(log.contains("error"), "{log}");

        // Unknown options: also a failed build, with a log.
        let ((st, _, msg), log) = try_build(
            &ctx,
            &dev,
            source_kind::OPENCL_C,
            VADD_CL.as_bytes(),
            Some(c"-no-such-option-anywhere"),
        )
        .err()
        .expect("the build must fail");
        assert_eq!(st, status::BUILD_FAILED, "{msg}");
        assert!(!log.expect("a log").is_empty());
    }

    #[test]
    fn garbage_spirv_fails_to_build() {
        let (dev, ctx, _q) = setup(0);
        // A header and one instruction of an opcode that does not exist:
        // well-formed, so the runtime is asked to build it.
        let unknown_op: Vec<u8> = [0x0723_0203u32, 0x0001_0000, 0, 1, 0, (1 << 16) | 0xFFFF]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let half = KERNELS_SPV.len() / 2 / 4 * 4;
        for (bytes, in_log) in [
            (vec![0x42u8; 64], "magic number"),
            (
                KERNELS_SPV[..KERNELS_SPV.len() - 2].to_vec(),
                "multiple of 4",
            ),
            (KERNELS_SPV[..16].to_vec(), "shorter than a SPIR-V header"),
            (KERNELS_SPV[..KERNELS_SPV.len() - 4].to_vec(), "truncated"),
            // (The OpenCL CPU runtime crashes on a module cut after a whole
            // instruction inside a function: the plugin checks first.)
            (KERNELS_SPV[..half].to_vec(), "truncated"),
            (unknown_op, ""),
        ] {
            let ((st, _, msg), log) = try_build(&ctx, &dev, source_kind::SPIRV, &bytes, None)
                .err()
                .expect("garbage must not build");
            assert_eq!(st, status::BUILD_FAILED, "{msg}");
            assert!(msg.contains("building SPIR-V for device"), "{msg}");
            assert!(msg.contains("dpc_last_error_build_log"), "{msg}");
            let log = log.expect("the build log is recorded");
            assert!(!log.is_empty());
            assert!(log.contains(in_log), "{in_log:?} in {log}");
        }
        // Every cut of the module at an instruction boundary is refused
        // without reaching the runtime, or fails in the runtime.
        let words: Vec<u32> = KERNELS_SPV
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let mut at = 5;
        while at < words.len() {
            at += (words[at] >> 16) as usize;
            if at < words.len() {
                let cut = &KERNELS_SPV[..4 * at];
                if let Err(((st, _, msg), _)) = try_build(&ctx, &dev, source_kind::SPIRV, cut, None)
                {
                    assert_eq!(st, status::BUILD_FAILED, "cut at word {at}: {msg}");
                }
            }
        }
    }

    #[test]
    fn kernel_names_lookup_and_not_found() {
        let (dev, ctx, _q) = setup(0);
        let b = build(&ctx, &dev, source_kind::OPENCL_C, IDS_CL.as_bytes(), None);
        let mut names = kernel_names(&b).expect("OpenCL C bundles list their kernels");
        names.sort();
        assert_eq!(names, ["ids", "sizes"]);
        // Two-call pattern: a buffer too small gives OUT_OF_RANGE and the size.
        let mut small = [0 as c_char; 4];
        let mut size = 0;
        // SAFETY: `small` holds 4 bytes.
        let rc = unsafe { (table().bundle_kernel_names)(b.0, small.as_mut_ptr(), 4, &mut size) };
        let (_, _, msg) = fails(rc, status::OUT_OF_RANGE);
        assert_eq!(size, "ids\nsizes".len() + 1, "{msg}");
        assert!(has_kernel(&b, "ids"));
        assert!(has_kernel(&b, "sizes"));
        assert!(!has_kernel(&b, "vadd"));
        assert!(!has_kernel(&b, ""));
        let (st, _, msg) = try_get_kernel(&b, "vadd").err().expect("no vadd here");
        assert_eq!(st, status::NOT_FOUND, "{msg}");
        assert!(msg.contains("'vadd'"), "{msg}");
        assert!(
            msg.contains("ids") && msg.contains("sizes"),
            "the names are listed: {msg}"
        );

        // SPIR-V bundles: no listing, but lookups work.
        let s = build(&ctx, &dev, source_kind::SPIRV, KERNELS_SPV, None);
        let (st, _, msg) = kernel_names(&s).expect_err("SPIR-V names are not listed");
        assert_eq!(st, status::UNSUPPORTED, "{msg}");
        assert!(msg.contains("SPIR-V"), "{msg}");
        assert!(has_kernel(&s, "vadd"));
        assert!(has_kernel(&s, "ids"));
        assert!(!has_kernel(&s, "sizes"));
        let (st, _, msg) = try_get_kernel(&s, "sizes")
            .err()
            .expect("no sizes in SPIR-V");
        assert_eq!(st, status::NOT_FOUND, "{msg}");
        assert!(msg.contains("'sizes'"), "{msg}");
        // Each get makes a new kernel object.
        let (k1, k2) = (get_kernel(&s, "vadd"), get_kernel(&s, "vadd"));
        assert_ne!(k1.0, k2.0);
    }

    #[test]
    fn kernel_info_reports_arguments_and_sizes() {
        let (dev, ctx, _q) = setup(0);
        for (kind, src) in [
            (source_kind::OPENCL_C, VADD_CL.as_bytes()),
            (source_kind::SPIRV, KERNELS_SPV),
        ] {
            let b = build(&ctx, &dev, kind, src, None);
            let k = get_kernel(&b, "vadd");
            let info = kernel_info_of(&k, &dev);
            assert_eq!(
                dpcore_backend_abi::read_str(&info.name),
                b"vadd",
                "kind {kind}"
            );
            assert_eq!(info.has_num_args, 1, "kind {kind}");
            assert_eq!(info.num_args, 4, "kind {kind}");
            assert!(info.max_work_group_size > 0, "kind {kind}");
            assert!(info.preferred_work_group_size_multiple > 0, "kind {kind}");
            assert!(info.max_sub_group_size > 0, "kind {kind}");
            assert_eq!(info.compile_work_group_size, [0; 3], "kind {kind}");
        }
        // Compile-time sizes, in the C API's order (x = dimension 0).
        let src = "__kernel __attribute__((reqd_work_group_size(2, 3, 4)))\n\
                   __attribute__((intel_reqd_sub_group_size(8)))\n\
                   void fixed(__global int *o, __local int *l) { l[0] = 1; o[0] = l[0]; }\n";
        let b = build(&ctx, &dev, source_kind::OPENCL_C, src.as_bytes(), None);
        let k = get_kernel(&b, "fixed");
        let info = kernel_info_of(&k, &dev);
        assert_eq!(info.num_args, 2);
        assert_eq!(info.compile_work_group_size, [2, 3, 4]);
        assert_eq!(info.compile_sub_group_size, 8);
        // ... which is also the order the launch takes.
        let (_m, o) = shared::<i32>(&ctx, &_q, 1);
        let args = [pointer_arg(o), local_arg(4)];
        run(&_q, &k, &[2, 3, 4], Some(&[2, 3, 4]), &args);
    }

    #[test]
    fn nd_range_with_local_memory_reduces_per_group() {
        let (dev, ctx, q) = setup(queue_flags::IN_ORDER);
        let src = "__kernel void group_sum(__global const int *in, __global int *out, \
                   __local int *scratch) {\n\
              size_t lid = get_local_id(0), n = get_local_size(0);\n\
              scratch[lid] = in[get_global_id(0)];\n\
              barrier(CLK_LOCAL_MEM_FENCE);\n\
              for (size_t s = n / 2; s > 0; s /= 2) {\n\
                if (lid < s) scratch[lid] += scratch[lid + s];\n\
                barrier(CLK_LOCAL_MEM_FENCE);\n\
              }\n\
              if (lid == 0) out[get_group_id(0)] = scratch[0];\n\
            }\n";
        let b = build(&ctx, &dev, source_kind::OPENCL_C, src.as_bytes(), None);
        let k = get_kernel(&b, "group_sum");
        let (wg, groups) = (64usize, 16usize);
        let n = wg * groups;
        let (_i, input) = shared::<i32>(&ctx, &q, n);
        let (_o, out) = shared::<i32>(&ctx, &q, groups);
        // SAFETY: shared USM, not in use by the device.
        let iv = unsafe { std::slice::from_raw_parts_mut(input, n) };
        for (i, v) in iv.iter_mut().enumerate() {
            *v = (i % 7) as i32 + 1;
        }
        let args = [
            pointer_arg(input),
            pointer_arg(out),
            local_arg(wg * std::mem::size_of::<i32>()),
        ];
        run(&q, &k, &[n], Some(&[wg]), &args);
        // SAFETY: as above; the queue was waited for.
        let ov = unsafe { std::slice::from_raw_parts(out, groups) };
        for g in 0..groups {
            let want: i32 = iv[g * wg..(g + 1) * wg].iter().sum();
            assert_eq!(ov[g], want, "group {g}");
        }
    }

    /// Check what `ids` wrote over `global`: element
    /// `i0 + g0 * (i1 + g1 * i2)` holds `(i0, i1, i2)`.
    fn check_ids(what: &str, out: &[u32], global: &[usize]) {
        let g = [
            global[0],
            *global.get(1).unwrap_or(&1),
            *global.get(2).unwrap_or(&1),
        ];
        for i2 in 0..g[2] {
            for i1 in 0..g[1] {
                for i0 in 0..g[0] {
                    let l = i0 + g[0] * (i1 + g[1] * i2);
                    assert_eq!(
                        &out[3 * l..3 * l + 3],
                        &[i0 as u32, i1 as u32, i2 as u32],
                        "{what}: global {global:?}, element {l}"
                    );
                }
            }
        }
    }

    #[test]
    fn global_dimension_0_is_get_global_id_0() {
        let (dev, ctx, q) = setup(queue_flags::IN_ORDER);
        let cl = build(&ctx, &dev, source_kind::OPENCL_C, IDS_CL.as_bytes(), None);
        let spv = build(&ctx, &dev, source_kind::SPIRV, KERNELS_SPV, None);
        for (what, b) in [("OpenCL C", &cl), ("SPIR-V", &spv)] {
            let k = get_kernel(b, "ids");
            for (global, local) in [
                (&[7usize][..], None),
                (&[5, 3][..], None),
                (&[4, 3, 2][..], None),
                (&[6, 4][..], Some(&[3usize, 2][..])),
                (&[4, 6, 2][..], Some(&[2usize, 3, 1][..])),
            ] {
                let n: usize = global.iter().product();
                let (_m, out) = shared::<u32>(&ctx, &q, 3 * n);
                // SAFETY: shared USM, not in use by the device.
                unsafe { ptr::write_bytes(out, 0xFF, 3 * n) };
                run(&q, &k, global, local, &[pointer_arg(out)]);
                // SAFETY: as above; the queue was waited for.
                let ov = unsafe { std::slice::from_raw_parts(out, 3 * n) };
                check_ids(what, ov, global);
            }
        }
        // Work-group sizes follow the same order.
        let k = get_kernel(&cl, "sizes");
        let (_m, out) = shared::<u32>(&ctx, &q, 9);
        run(&q, &k, &[8, 6, 4], Some(&[4, 3, 1]), &[pointer_arg(out)]);
        // SAFETY: as above.
        let ov = unsafe { std::slice::from_raw_parts(out, 9) };
        assert_eq!(ov, [8, 6, 4, 4, 3, 1, 2, 2, 4]);
    }

    #[test]
    fn sixty_four_int_arguments() {
        let (dev, ctx, q) = setup(0);
        let params: Vec<String> = (0..64).map(|i| format!("int a{i}")).collect();
        let sum: Vec<String> = (0..64).map(|i| format!("a{i}")).collect();
        let src = format!(
            "__kernel void many(__global int *out, {}) {{ out[0] = {}; }}\n",
            params.join(", "),
            sum.join(" + ")
        );
        let b = build(&ctx, &dev, source_kind::OPENCL_C, src.as_bytes(), None);
        let k = get_kernel(&b, "many");
        assert_eq!(kernel_info_of(&k, &dev).num_args, 65);
        let values: Vec<i32> = (0..64).map(|i| i * i + 1).collect();
        let (_m, out) = shared::<i32>(&ctx, &q, 1);
        let mut args = vec![pointer_arg(out)];
        args.extend(values.iter().map(scalar_arg));
        run(&q, &k, &[1], None, &args);
        // SAFETY: shared USM; the queue was waited for.
        assert_eq!(unsafe { *out }, values.iter().sum::<i32>());
    }

    #[test]
    fn scalars_of_every_size() {
        let (dev, ctx, q) = setup(0);
        let src = "typedef struct { int x, y, z; } three;\n\
                   typedef struct { int v[64]; } big;\n\
                   __kernel void scalars(__global long *o, char a, short b, long c, int4 d,\n\
                                         three e, big f, uchar g) {\n\
                     o[0] = a; o[1] = b; o[2] = c; o[3] = d.x; o[4] = d.w;\n\
                     o[5] = e.x; o[6] = e.z; long s = 0;\n\
                     for (int i = 0; i < 64; ++i) s += f.v[i];\n\
                     o[7] = s; o[8] = f.v[63]; o[9] = g;\n\
                   }\n";
        let b = build(&ctx, &dev, source_kind::OPENCL_C, src.as_bytes(), None);
        let k = get_kernel(&b, "scalars");
        let a: i8 = -5;
        let bb: i16 = -300;
        let c: i64 = (1 << 40) + 7;
        let d: [i32; 4] = [11, 12, 13, 14];
        let e: [i32; 3] = [21, 22, 23];
        let f: [i32; 64] = std::array::from_fn(|i| i as i32 * 3);
        let g: u8 = 250;
        assert_eq!(std::mem::size_of_val(&f), MAX_SCALAR_ARG);
        let (_m, out) = shared::<i64>(&ctx, &q, 10);
        let args = [
            pointer_arg(out),
            scalar_arg(&a),
            scalar_arg(&bb),
            scalar_arg(&c),
            scalar_arg(&d),
            scalar_arg(&e),
            scalar_arg(&f),
            scalar_arg(&g),
        ];
        run(&q, &k, &[1], None, &args);
        // SAFETY: shared USM; the queue was waited for.
        let ov = unsafe { std::slice::from_raw_parts(out, 10) };
        let fsum: i64 = f.iter().map(|&x| i64::from(x)).sum();
        assert_eq!(
            ov,
            [-5, -300, (1 << 40) + 7, 11, 14, 21, 23, fsum, 189, 250]
        );

        // Sizes the table does not take.
        for size in [0usize, MAX_SCALAR_ARG + 1] {
            let big = [0u8; MAX_SCALAR_ARG + 1];
            let mut bad = args;
            bad[1] = KernelArgV1 {
                kind: arg_kind::SCALAR,
                size,
                value: big.as_ptr().cast(),
            };
            let rc = launch_rc(&q, &k, &[1], None, &bad, &[], ptr::null_mut());
            let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
            assert!(msg.contains("args[1]"), "{msg}");
        }
    }

    #[test]
    fn launch_errors_are_reported() {
        let (dev, ctx, q) = setup(0);
        let b = build(&ctx, &dev, source_kind::OPENCL_C, VADD_CL.as_bytes(), None);
        let k = get_kernel(&b, "vadd");
        let (_m, x) = shared::<i32>(&ctx, &q, 16);
        let k3 = 3i32;
        let args = [
            pointer_arg(x),
            pointer_arg(x),
            pointer_arg(x),
            scalar_arg(&k3),
        ];
        // A work-group size that does not divide the global size.
        let mut ev: Obj = 1 as Obj;
        let rc = launch_rc(&q, &k, &[10], Some(&[4]), &args, &[], &mut ev);
        let (_, code, msg) = fails(rc, status::INVALID_ARGUMENT);
        assert_ne!(code, 0, "{msg}");
        assert!(msg.contains("divisible"), "{msg}");
        assert!(ev.is_null());
        // Too few or too many arguments for the kernel (OpenCL keeps the
        // arguments of earlier launches: the runtime would not notice).
        for n in [2, 3, 5] {
            let mut more = args.to_vec();
            more.push(scalar_arg(&k3));
            let rc = launch_rc(&q, &k, &[16], None, &more[..n], &[], ptr::null_mut());
            let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
            assert!(
                msg.contains(&format!("takes 4 arguments, {n} given")),
                "{msg}"
            );
        }
        queue_wait(&q);
        // The kernel still works afterwards.
        run(&q, &k, &[16], None, &args);
    }

    #[test]
    fn sycl_source_builds_and_runs_where_the_device_can_compile_it() {
        let (dev, ctx, q) = setup(0);
        let src = "#include <sycl/sycl.hpp>\n\
            namespace syclext = sycl::ext::oneapi;\n\
            namespace syclexp = sycl::ext::oneapi::experimental;\n\
            extern \"C\" SYCL_EXT_ONEAPI_FUNCTION_PROPERTY((syclexp::nd_range_kernel<1>))\n\
            void vadd(const int *a, const int *b, int *c, int k) {\n\
              size_t i = syclext::this_work_item::get_nd_item<1>().get_global_id(0);\n\
              c[i] = a[i] + k * b[i] + OFFSET;\n\
            }\n";
        let b = match try_build(
            &ctx,
            &dev,
            source_kind::SYCL,
            src.as_bytes(),
            Some(c"-DOFFSET=0"),
        ) {
            Ok(b) => b,
            Err(((st, _, msg), _)) => {
                assert_eq!(st, status::UNSUPPORTED, "{msg}");
                assert!(msg.contains("SYCL source"), "{msg}");
                assert!(msg.contains(&name(&info(&dev))), "{msg}");
                eprintln!("SYCL source is not supported here: {msg}");
                return;
            }
        };
        assert!(has_kernel(&b, "vadd"));
        assert!(!has_kernel(&b, "nope"));
        let (st, _, msg) = kernel_names(&b).expect_err("not listed");
        assert_eq!(st, status::UNSUPPORTED, "{msg}");
        let k = get_kernel(&b, "vadd");
        assert_eq!(kernel_info_of(&k, &dev).num_args, 4);
        let n = 256;
        let (_a, a) = shared::<i32>(&ctx, &q, n);
        let (_c, c) = shared::<i32>(&ctx, &q, n);
        // SAFETY: shared USM, not in use by the device.
        let av = unsafe { std::slice::from_raw_parts_mut(a, n) };
        for (i, v) in av.iter_mut().enumerate() {
            *v = i as i32;
        }
        let k2 = 2i32;
        let args = [
            pointer_arg(a),
            pointer_arg(a),
            pointer_arg(c),
            scalar_arg(&k2),
        ];
        run(&q, &k, &[n], Some(&[32]), &args);
        // SAFETY: as above; the queue was waited for.
        let cv = unsafe { std::slice::from_raw_parts(c, n) };
        for (i, &v) in cv.iter().enumerate() {
            assert_eq!(v, 3 * i as i32, "c[{i}]");
        }

        // A failed SYCL build: BUILD_FAILED with the compiler's diagnostics.
        let bad = "#include <sycl/sycl.hpp>\nint broken = not_declared_anywhere;\n";
        let ((st, _, msg), log) = try_build(&ctx, &dev, source_kind::SYCL, bad.as_bytes(), None)
            .err()
            .expect("must not build");
        assert_eq!(st, status::BUILD_FAILED, "{msg}");
        assert!(msg.contains("not_declared_anywhere"), "{msg}");
        let log = log.expect("a build log");
        assert!(log.contains("not_declared_anywhere"), "{log}");
    }

    #[test]
    fn kernels_launch_from_many_threads() {
        let (dev, ctx, q) = setup(0);
        let b = build(&ctx, &dev, source_kind::OPENCL_C, VADD_CL.as_bytes(), None);
        let k = get_kernel(&b, "vadd");
        let n = 512;
        let (k_addr, q_addr, ctx_addr) = (k.0 as usize, q.0 as usize, ctx.0 as usize);
        std::thread::scope(|s| {
            for t in 0..4i32 {
                s.spawn(move || {
                    let k = std::mem::ManuallyDrop::new(Kern(k_addr as Obj));
                    let q = std::mem::ManuallyDrop::new(Queue(q_addr as Obj));
                    let ctx = std::mem::ManuallyDrop::new(Ctx(ctx_addr as Obj));
                    let (_a, a) = shared::<i32>(&ctx, &q, n);
                    let (_c, c) = shared::<i32>(&ctx, &q, n);
                    for round in 0..20 {
                        // SAFETY: shared USM, not in use by the device.
                        let av = unsafe { std::slice::from_raw_parts_mut(a, n) };
                        for (i, v) in av.iter_mut().enumerate() {
                            *v = i as i32 + t;
                        }
                        let kk = round;
                        let args = [
                            pointer_arg(a),
                            pointer_arg(a),
                            pointer_arg(c),
                            scalar_arg(&kk),
                        ];
                        let mut ev: Obj = ptr::null_mut();
                        ok(launch_rc(&q, &k, &[n], None, &args, &[], &mut ev));
                        let ev = Ev(ev);
                        wait_all(&[&ev]);
                        // SAFETY: as above; the launch was waited for.
                        let cv = unsafe { std::slice::from_raw_parts(c, n) };
                        for (i, &v) in cv.iter().enumerate() {
                            assert_eq!(v, (i as i32 + t) * (1 + round), "thread {t} round {round}");
                        }
                    }
                });
            }
        });
        queue_wait(&q);
    }

    #[test]
    fn null_and_invalid_arguments_of_the_v3_functions() {
        let (dev, ctx, q) = setup(0);
        let b = build(&ctx, &dev, source_kind::OPENCL_C, VADD_CL.as_bytes(), None);
        let k = get_kernel(&b, "vadd");
        let t = table();
        let n = ptr::null_mut::<c_void>();
        let expect = |rc: i32, what: &str| {
            let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
            assert!(msg.contains(what), "expected {what:?} in {msg:?}");
        };
        let src = VADD_CL.as_bytes();
        let mut out: Obj = ptr::null_mut();
        let mut size = 0usize;
        let mut yes = false;
        let mut kinfo = KernelInfoV1::zeroed();
        let global = [16usize];
        let (_m, x) = shared::<i32>(&ctx, &q, 16);
        let k3 = 3i32;
        let args = [
            pointer_arg(x),
            pointer_arg(x),
            pointer_arg(x),
            scalar_arg(&k3),
        ];
        let null_dep = [n];
        // SAFETY (all): every pointer is NULL or valid.
        unsafe {
            let create =
                |ctx: Obj, dev: Obj, kind: i32, src: *const u8, len: usize, out: *mut Obj| {
                    (t.bundle_create)(ctx, dev, kind, src, len, ptr::null(), out)
                };
            expect(
                create(
                    ctx.0,
                    dev.0,
                    source_kind::OPENCL_C,
                    src.as_ptr(),
                    src.len(),
                    ptr::null_mut(),
                ),
                "out is NULL",
            );
            expect(
                create(
                    n,
                    dev.0,
                    source_kind::OPENCL_C,
                    src.as_ptr(),
                    src.len(),
                    &mut out,
                ),
                "ctx is NULL",
            );
            expect(
                create(
                    ctx.0,
                    n,
                    source_kind::OPENCL_C,
                    src.as_ptr(),
                    src.len(),
                    &mut out,
                ),
                "dev is NULL",
            );
            expect(
                create(
                    ctx.0,
                    dev.0,
                    source_kind::OPENCL_C,
                    ptr::null(),
                    5,
                    &mut out,
                ),
                "src is NULL",
            );
            expect(
                create(
                    ctx.0,
                    dev.0,
                    source_kind::OPENCL_C,
                    src.as_ptr(),
                    0,
                    &mut out,
                ),
                "empty",
            );
            expect(
                create(ctx.0, dev.0, 0, src.as_ptr(), src.len(), &mut out),
                "unknown source kind 0",
            );
            assert!(out.is_null());
            assert!(take_build_log().is_none());
            // A device outside the context.
            let subs = partition(&dev, partition_kind::EQUALLY, &[1]).expect("partition");
            expect(
                create(
                    ctx.0,
                    subs[0].0,
                    source_kind::OPENCL_C,
                    src.as_ptr(),
                    src.len(),
                    &mut out,
                ),
                "not a device of the context",
            );

            expect(
                (t.bundle_kernel_names)(n, ptr::null_mut(), 0, &mut size),
                "b is NULL",
            );
            expect(
                (t.bundle_kernel_names)(b.0, ptr::null_mut(), 0, ptr::null_mut()),
                "size_out is NULL",
            );
            expect(
                (t.bundle_has_kernel)(n, c"vadd".as_ptr(), &mut yes),
                "b is NULL",
            );
            expect(
                (t.bundle_has_kernel)(b.0, ptr::null(), &mut yes),
                "name is NULL",
            );
            expect(
                (t.bundle_has_kernel)(b.0, c"vadd".as_ptr(), ptr::null_mut()),
                "out is NULL",
            );
            expect(
                (t.bundle_get_kernel)(n, c"vadd".as_ptr(), &mut out),
                "b is NULL",
            );
            expect(
                (t.bundle_get_kernel)(b.0, ptr::null(), &mut out),
                "name is NULL",
            );
            expect(
                (t.bundle_get_kernel)(b.0, c"vadd".as_ptr(), ptr::null_mut()),
                "out is NULL",
            );
            assert!((t.bundle_native)(n).is_null());
            (t.bundle_release)(n);

            expect((t.kernel_info)(n, dev.0, &mut kinfo), "k is NULL");
            expect((t.kernel_info)(k.0, n, &mut kinfo), "dev is NULL");
            expect((t.kernel_info)(k.0, dev.0, ptr::null_mut()), "out is NULL");
            assert!((t.kernel_native)(n).is_null());
            (t.kernel_release)(n);

            let mut ev: Obj = 1 as Obj;
            let launch = |q: Obj,
                          k: Obj,
                          dims: u32,
                          global: *const usize,
                          args: *const KernelArgV1,
                          n_args: usize,
                          deps: *const Obj,
                          n_deps: usize,
                          ev: *mut Obj| {
                (t.enqueue_kernel)(
                    q,
                    k,
                    dims,
                    global,
                    ptr::null(),
                    args,
                    n_args,
                    deps,
                    n_deps,
                    ev,
                )
            };
            expect(
                launch(
                    n,
                    k.0,
                    1,
                    global.as_ptr(),
                    args.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "q is NULL",
            );
            assert!(ev.is_null(), "a failed call leaves NULL in ev_out");
            expect(
                launch(
                    q.0,
                    n,
                    1,
                    global.as_ptr(),
                    args.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "k is NULL",
            );
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    ptr::null(),
                    args.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "global is NULL",
            );
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    ptr::null(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "args is NULL",
            );
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    args.as_ptr(),
                    4,
                    ptr::null(),
                    1,
                    &mut ev,
                ),
                "deps is NULL",
            );
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    args.as_ptr(),
                    4,
                    null_dep.as_ptr(),
                    1,
                    &mut ev,
                ),
                "deps[0] is NULL",
            );
            for dims in [0, 4] {
                expect(
                    launch(
                        q.0,
                        k.0,
                        dims,
                        global.as_ptr(),
                        args.as_ptr(),
                        4,
                        ptr::null(),
                        0,
                        &mut ev,
                    ),
                    "1 to 3 dimensions",
                );
            }
            let mut bad = args;
            bad[3].value = ptr::null();
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    bad.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "args[3].value is NULL",
            );
            bad = args;
            bad[2].kind = 99;
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    bad.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "args[2]: unknown argument kind 99",
            );
            bad = args;
            bad[2] = local_arg(0);
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    bad.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "args[2]: 0 bytes of local memory",
            );
            assert!(ev.is_null());
        }
        queue_wait(&q);
    }

    /// Launch overhead of a no-op kernel, submit + wait, through the table
    /// and in plain SYCL. Run with `--ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn launch_overhead() {
        let (dev, ctx, q) = setup(0);
        let b = build(
            &ctx,
            &dev,
            source_kind::OPENCL_C,
            b"__kernel void noop() {}\n",
            None,
        );
        let k = get_kernel(&b, "noop");
        let rounds = 5000;
        // SAFETY: live objects of this plugin.
        let (qref, kref) = unsafe { (&*q.0.cast::<ffi::Queue>(), &*k.0.cast::<ffi::Kernel>()) };
        for _ in 0..2 {
            for with_event in [true, false] {
                let start = std::time::Instant::now();
                for _ in 0..rounds {
                    if with_event {
                        let mut ev: Obj = ptr::null_mut();
                        ok(launch_rc(&q, &k, &[1], None, &[], &[], &mut ev));
                        let ev = Ev(ev);
                        wait_all(&[&ev]);
                    } else {
                        ok(launch_rc(&q, &k, &[1], None, &[], &[], ptr::null_mut()));
                        queue_wait(&q);
                    }
                }
                let table_us = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
                let raw_us =
                    test_support::ffi::test_raw_launch_micros(qref, kref, rounds, with_event)
                        .expect("raw launches");
                eprintln!(
                    "no-op kernel, submit + wait ({}): table {table_us:.2} us, raw SYCL {raw_us:.2} us",
                    if with_event { "event, event wait" } else { "no event, queue wait" }
                );
            }
        }
        // Submission alone (no wait per launch).
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            ok(launch_rc(&q, &k, &[1], None, &[], &[], ptr::null_mut()));
        }
        queue_wait(&q);
        eprintln!(
            "no-op kernel, {rounds} event-less submits then one wait: {:.2} us per launch",
            start.elapsed().as_secs_f64() * 1e6 / rounds as f64
        );
    }
}
