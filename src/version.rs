//! Library version (`dpc_version`, `DPC_VERSION_*`).

use std::ffi::c_char;

/// Major version: the N of the SONAME `libdpcore.so.N`. Within one major
/// version functions and enum values are only added.
pub const DPC_VERSION_MAJOR: u32 = 0;
/// Minor version.
pub const DPC_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const DPC_VERSION_PATCH: u32 = 0;

/// The version of the loaded library as `major << 16 | minor << 8 | patch`;
/// compare it with the `DPC_VERSION_*` macros of the header compiled in.
///
/// Errors: none. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_version() -> u32 {
    (DPC_VERSION_MAJOR << 16) | (DPC_VERSION_MINOR << 8) | DPC_VERSION_PATCH
}

/// The version as a static string, e.g. `"0.1.0"`.
///
/// Ownership: static; never free it. Errors: none. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_version_string() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_cargo_version() {
        assert_eq!(
            DPC_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            DPC_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            DPC_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        let v = dpc_version();
        assert_eq!(v >> 16, DPC_VERSION_MAJOR);
        assert_eq!((v >> 8) & 0xff, DPC_VERSION_MINOR);
        assert_eq!(v & 0xff, DPC_VERSION_PATCH);
        // SAFETY: dpc_version_string returns a static NUL-terminated string.
        let s = unsafe { std::ffi::CStr::from_ptr(dpc_version_string()) };
        assert_eq!(s.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
