//! dpcore: a native extension interface for data-parallel devices.
//!
//! A stable C ABI (see `include/dpcore.h`) over devices, device selection
//! and, in later versions, queues, USM memory, arrays and DLPack. The core
//! is pure Rust with no link-time dependency on a SYCL runtime: the SYCL
//! backend is a plugin (`libdpcore_sycl.so`) loaded at first use.
//!
//! Conventions for every export: a `dpc_status` return, outputs written
//! only on success, every pointer checked, every handle validated, no
//! panic across the boundary, a per-thread last-error message.

#![allow(clippy::missing_safety_doc)]
#![allow(non_camel_case_types)]
// Every `unsafe` operation, in an `unsafe fn` too, sits in its own
// `unsafe` block with a `// SAFETY:` comment saying why it is sound.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(not(target_pointer_width = "64"))]
compile_error!("dpcore handles are 64-bit values; only 64-bit targets are supported");

pub mod array;
pub mod backend;
pub mod census;
pub mod context;
pub mod copy;
pub mod device;
pub mod diagnostics;
pub mod dlpack;
pub mod error;
pub mod event;
pub mod faults;
pub mod fork;
pub mod handle;
pub mod kernel;
pub mod log;
pub mod platform;
pub mod queue;
pub mod runtime;
pub mod selector;
pub mod spirv;
pub mod strings;
pub mod usm;
pub mod version;

pub use error::{dpc_status, Error, Result};
