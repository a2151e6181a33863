//! The SYCL runtime and its platforms (`runtime_info`, `platform_list`), and
//! the bridge's `Backend`, which devices and native handles report too (the
//! C++ half is `src/bridge/platform.{h,cpp}`).

use std::ptr;
use std::sync::OnceLock;

use dpcore_backend_abi::{backend, write_str, PlatformInfoV1, RuntimeInfoV1};

use crate::error::{guarded, non_null, Failure};

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
    /// `dpcore_backend_abi::backend` values.
    #[repr(i32)]
    enum Backend {
        Unknown = 0,
        OpenCl = 1,
        LevelZero = 2,
        Cuda = 3,
        Hip = 4,
        NativeCpu = 5,
    }

    /// What `platform_facts` learns about one platform.
    struct PlatformFacts {
        backend: Backend,
        n_devices: u32,
        name: String,
        vendor: String,
        version: String,
    }

    /// What `runtime_facts` learns about the SYCL runtime.
    struct RuntimeFacts {
        runtime: String,
        runtime_path: String,
        abi_major: u32,
        n_platforms: u32,
    }

    unsafe extern "C++" {
        include!("dpcore-sycl/src/bridge/platform.h");

        fn runtime_facts() -> Result<RuntimeFacts>;
        fn platform_facts() -> Result<Vec<PlatformFacts>>;
    }
}

// The bridge's enums restate numbers of the ABI crate; keep them in step.
const _: () = {
    assert!(ffi::Backend::Unknown.repr == backend::UNKNOWN);
    assert!(ffi::Backend::OpenCl.repr == backend::OPENCL);
    assert!(ffi::Backend::LevelZero.repr == backend::LEVEL_ZERO);
    assert!(ffi::Backend::Cuda.repr == backend::CUDA);
    assert!(ffi::Backend::Hip.repr == backend::HIP);
    assert!(ffi::Backend::NativeCpu.repr == backend::NATIVE_CPU);
};

pub(crate) unsafe extern "C" fn runtime_info(out: *mut RuntimeInfoV1) -> i32 {
    guarded("runtime_info", || {
        non_null(out, "out")?;
        let facts = ffi::runtime_facts()?;
        let mut info = RuntimeInfoV1::zeroed();
        write_str(&mut info.name, "sycl");
        write_str(&mut info.runtime, &facts.runtime);
        write_str(&mut info.runtime_path, &facts.runtime_path);
        info.runtime_abi_major = facts.abi_major;
        info.n_platforms = facts.n_platforms;
        // SAFETY: checked non-NULL; the core passes a writable record.
        unsafe { out.write(info) };
        Ok(())
    })
}

/// The platforms, listed once.
static PLATFORMS: OnceLock<Vec<PlatformInfoV1>> = OnceLock::new();

fn platforms() -> Result<&'static [PlatformInfoV1], Failure> {
    if let Some(p) = PLATFORMS.get() {
        return Ok(p);
    }
    let list: Vec<PlatformInfoV1> = ffi::platform_facts()?
        .iter()
        .map(|f| {
            let mut p = PlatformInfoV1::zeroed();
            p.backend = f.backend.repr;
            p.n_devices = f.n_devices;
            write_str(&mut p.name, &f.name);
            write_str(&mut p.vendor, &f.vendor);
            write_str(&mut p.version, &f.version);
            p
        })
        .collect();
    Ok(PLATFORMS.get_or_init(|| list))
}

pub(crate) unsafe extern "C" fn platform_list(
    buf: *mut PlatformInfoV1,
    cap: usize,
    count_out: *mut usize,
) -> i32 {
    guarded("platform_list", || {
        non_null(count_out, "count_out")?;
        let list = platforms()?;
        if !buf.is_null() {
            let n = cap.min(list.len());
            // SAFETY: the caller promises `buf` holds `cap` records.
            unsafe { ptr::copy_nonoverlapping(list.as_ptr(), buf, n) };
        }
        // SAFETY: checked non-NULL.
        unsafe { count_out.write(list.len()) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{info, list_devices, table, take_error};
    use crate::SYCL_ABI_MAJOR;
    use dpcore_backend_abi::status;

    #[test]
    fn platforms_are_listed_and_own_the_devices() {
        let t = table();
        let mut n = 0usize;
        // SAFETY: NULL buffer with a valid count pointer.
        let rc = unsafe { (t.platform_list)(ptr::null_mut(), 0, &mut n) };
        assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
        let mut list = vec![PlatformInfoV1::zeroed(); n];
        let mut m = 0usize;
        // SAFETY: `list` holds `n` records.
        let rc = unsafe { (t.platform_list)(list.as_mut_ptr(), n, &mut m) };
        assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
        assert_eq!(m, n);
        let devices = list_devices();
        let total: u32 = list.iter().map(|p| p.n_devices).sum();
        assert_eq!(total as usize, devices.len());
        for d in &devices {
            let i = info(d).platform_index as usize;
            assert!(i < n, "platform index {i} of {n}");
            assert_eq!(list[i].backend, info(d).backend);
            assert_eq!(
                dpcore_backend_abi::read_str(&list[i].name),
                dpcore_backend_abi::read_str(&info(d).platform_name)
            );
        }
        // SAFETY: NULL count pointer is rejected before anything is written.
        let rc = unsafe { (t.platform_list)(list.as_mut_ptr(), n, ptr::null_mut()) };
        assert_eq!(rc, status::INVALID_ARGUMENT);
    }

    #[test]
    fn runtime_info_describes_libsycl() {
        let mut info = RuntimeInfoV1::zeroed();
        // SAFETY: writable record.
        let rc = unsafe { (table().runtime_info)(&mut info) };
        assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
        assert_eq!(dpcore_backend_abi::read_str(&info.name), b"sycl");
        let runtime =
            String::from_utf8_lossy(dpcore_backend_abi::read_str(&info.runtime)).into_owned();
        assert!(
            runtime.contains(&format!("libsycl.so.{SYCL_ABI_MAJOR}")),
            "{runtime}"
        );
        let path =
            String::from_utf8_lossy(dpcore_backend_abi::read_str(&info.runtime_path)).into_owned();
        assert!(path.contains("libsycl.so"), "runtime_path = {path:?}");
        assert_eq!(
            info.runtime_abi_major,
            SYCL_ABI_MAJOR.parse::<u32>().unwrap()
        );
        let n = list_devices().len();
        assert!(
            n == 0 || info.n_platforms > 0,
            "{n} devices but no platform"
        );
    }
}
