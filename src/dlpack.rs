//! DLPack 1.x in the C ABI: the structures (defined here with the layout
//! of `dlpack.h`; checked against numpy's and dpnp's capsules by the
//! Python tests) and the export/import of dpcore arrays.

use std::ffi::c_void;

/// DLPack major version dpcore implements.
pub const DPC_DLPACK_MAJOR_VERSION: u32 = 1;
/// DLPack minor version dpcore implements.
pub const DPC_DLPACK_MINOR_VERSION: u32 = 0;

/// `DLDeviceType` value for host memory.
pub const DPC_DL_CPU: i32 = 1;
/// `DLDeviceType` value for oneAPI (SYCL) devices; the device id is the
/// `kDLOneAPI` id of `dpc_device_get_dlpack_id`.
pub const DPC_DL_ONEAPI: i32 = 14;
/// `DLDeviceType` value for CUDA devices (`kDLCUDA`): devices of a CUDA
/// plugin, numbered like the driver's ordinals.
pub const DPC_DL_CUDA: i32 = 2;
/// `DLDeviceType` value for devices of a plugin DLPack has no type for
/// (`kDLExtDev`), numbered in device-list order.
pub const DPC_DL_EXT_DEV: i32 = 12;

/// `DLDataTypeCode` values.
pub const DPC_DL_INT: u8 = 0;
pub const DPC_DL_UINT: u8 = 1;
pub const DPC_DL_FLOAT: u8 = 2;
pub const DPC_DL_COMPLEX: u8 = 5;
pub const DPC_DL_BOOL: u8 = 6;

/// `dpc_dlpack_managed_tensor_versioned::flags` bit: the data must not be written.
pub const DPC_DLPACK_FLAG_READ_ONLY: u64 = 1 << 0;
/// `dpc_dlpack_managed_tensor_versioned::flags` bit: the data is a copy.
pub const DPC_DLPACK_FLAG_IS_COPIED: u64 = 1 << 1;

/// `DLPackVersion` of dlpack.h (same layout).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct dpc_dlpack_version {
    pub major: u32,
    pub minor: u32,
}

/// `DLDevice` of dlpack.h (same layout).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct dpc_dlpack_device {
    pub device_type: i32,
    pub device_id: i32,
}

/// `DLDataType` of dlpack.h (same layout): `code` is a `DPC_DL_*` type code, `bits` the element width,
/// `lanes` 1 for scalars.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct dpc_dlpack_dtype {
    pub code: u8,
    pub bits: u8,
    pub lanes: u16,
}

/// `DLTensor` of dlpack.h (same layout). `strides` are in elements; NULL means C-contiguous.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dpc_dlpack_tensor {
    pub data: *mut c_void,
    pub device: dpc_dlpack_device,
    pub ndim: i32,
    pub dtype: dpc_dlpack_dtype,
    pub shape: *mut i64,
    pub strides: *mut i64,
    pub byte_offset: u64,
}

/// `DLManagedTensor` of dlpack.h (legacy, unversioned). Its `deleter` is called exactly
/// once by whoever consumes it, with the tensor itself.
#[repr(C)]
pub struct dpc_dlpack_managed_tensor {
    pub dl_tensor: dpc_dlpack_tensor,
    pub manager_ctx: *mut c_void,
    pub deleter: Option<unsafe extern "C" fn(*mut dpc_dlpack_managed_tensor)>,
}

/// `DLManagedTensorVersioned` of dlpack.h (DLPack 1.x). Its `deleter` is called exactly
/// once by whoever consumes it, with the tensor itself.
#[repr(C)]
pub struct dpc_dlpack_managed_tensor_versioned {
    pub version: dpc_dlpack_version,
    pub manager_ctx: *mut c_void,
    pub deleter: Option<unsafe extern "C" fn(*mut dpc_dlpack_managed_tensor_versioned)>,
    pub flags: u64,
    pub dl_tensor: dpc_dlpack_tensor,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    // The layout of dlpack.h on LP64 (the Python tests read real numpy and
    // dpnp capsules through these definitions as well).
    #[test]
    fn layout_matches_dlpack_h() {
        assert_eq!(size_of::<dpc_dlpack_device>(), 8);
        assert_eq!(size_of::<dpc_dlpack_dtype>(), 4);
        assert_eq!(offset_of!(dpc_dlpack_tensor, data), 0);
        assert_eq!(offset_of!(dpc_dlpack_tensor, device), 8);
        assert_eq!(offset_of!(dpc_dlpack_tensor, ndim), 16);
        assert_eq!(offset_of!(dpc_dlpack_tensor, dtype), 20);
        assert_eq!(offset_of!(dpc_dlpack_tensor, shape), 24);
        assert_eq!(offset_of!(dpc_dlpack_tensor, strides), 32);
        assert_eq!(offset_of!(dpc_dlpack_tensor, byte_offset), 40);
        assert_eq!(size_of::<dpc_dlpack_tensor>(), 48);
        assert_eq!(offset_of!(dpc_dlpack_managed_tensor, manager_ctx), 48);
        assert_eq!(offset_of!(dpc_dlpack_managed_tensor, deleter), 56);
        assert_eq!(size_of::<dpc_dlpack_managed_tensor>(), 64);
        assert_eq!(offset_of!(dpc_dlpack_managed_tensor_versioned, version), 0);
        assert_eq!(
            offset_of!(dpc_dlpack_managed_tensor_versioned, manager_ctx),
            8
        );
        assert_eq!(offset_of!(dpc_dlpack_managed_tensor_versioned, deleter), 16);
        assert_eq!(offset_of!(dpc_dlpack_managed_tensor_versioned, flags), 24);
        assert_eq!(
            offset_of!(dpc_dlpack_managed_tensor_versioned, dl_tensor),
            32
        );
        assert_eq!(size_of::<dpc_dlpack_managed_tensor_versioned>(), 80);
    }
}
