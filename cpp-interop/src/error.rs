//! Failed table calls: [`Failure`], the status a table function returns and
//! what it reports to the host; [`guarded`], the body every table function
//! runs in (neither a panic nor a C++ exception leaves the plugin); and the
//! `dpc_status` codes the C++ side raises, decoded from its exception
//! messages (the C++ half is `src/bridge/common.{h,cpp}`).

use std::panic::{catch_unwind, AssertUnwindSafe};

use dpcore_backend_abi::status;

use crate::host::host;

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
    /// `dpc_status` codes the C++ side raises (checked against
    /// `dpcore_backend_abi::status` below).
    #[repr(i32)]
    enum Status {
        InvalidArgument = 1,
        NotFound = 8,
        Backend = 201,
        Unsupported = 202,
        BuildFailed = 204,
        DeviceLost = 205,
        OutOfHostMemory = 300,
        OutOfDeviceMemory = 301,
        Internal = 999,
    }
}

// The bridge's enums restate numbers of the ABI crate; keep them in step.
const _: () = {
    assert!(ffi::Status::InvalidArgument.repr == status::INVALID_ARGUMENT);
    assert!(ffi::Status::NotFound.repr == status::NOT_FOUND);
    assert!(ffi::Status::BuildFailed.repr == status::BUILD_FAILED);
    assert!(ffi::Status::DeviceLost.repr == status::DEVICE_LOST);
    assert!(ffi::Status::Backend.repr == status::BACKEND);
    assert!(ffi::Status::Unsupported.repr == status::UNSUPPORTED);
    assert!(ffi::Status::OutOfHostMemory.repr == status::OUT_OF_HOST_MEMORY);
    assert!(ffi::Status::OutOfDeviceMemory.repr == status::OUT_OF_DEVICE_MEMORY);
    assert!(ffi::Status::Internal.repr == status::INTERNAL);
};

/// A failed table call: the status to return and what to tell
/// `HostV1::set_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: i32,
    pub(crate) backend_code: i64,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: i32, message: impl Into<String>) -> Self {
        Failure {
            status,
            backend_code: 0,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Failure::new(status::INVALID_ARGUMENT, message)
    }

    /// Decode the `[dpcore:<status>:<code>] message` form the C++ side
    /// gives every exception; anything else is a plain BACKEND error.
    fn from_exception(e: &cxx::Exception) -> Self {
        Self::from_message(e.what())
    }

    fn from_message(what: &str) -> Self {
        let parsed = what.strip_prefix("[dpcore:").and_then(|rest| {
            let (header, message) = rest.split_once("] ")?;
            let (st, code) = header.split_once(':')?;
            Some(Failure {
                status: st.parse().ok()?,
                backend_code: code.parse().ok()?,
                message: message.to_string(),
            })
        });
        match parsed {
            Some(f) if f.status != status::SUCCESS => f,
            _ => Failure::new(status::BACKEND, what),
        }
    }

    /// Hand the failure to the host; returns the status.
    fn report(&self) -> i32 {
        if let Some(h) = host() {
            let msg = format!("dpcore-sycl: {}", self.message);
            // SAFETY: the host promised a valid callback that copies `len`
            // bytes from `msg`.
            unsafe { (h.set_error)(self.status, self.backend_code, msg.as_ptr(), msg.len()) }
        }
        self.status
    }
}

impl From<cxx::Exception> for Failure {
    fn from(e: cxx::Exception) -> Self {
        Failure::from_exception(&e)
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Run `f` as the body of a table function: a panic becomes INTERNAL, a
/// [`Failure`] is reported to the host. Returns the status.
pub(crate) fn guarded(name: &str, f: impl FnOnce() -> Result<(), Failure>) -> i32 {
    let failure = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return status::SUCCESS,
        Ok(Err(failure)) => failure,
        Err(payload) => {
            let msg = panic_message(&*payload);
            // Dropping the payload runs foreign code of its own; keep a
            // panic there from escaping too.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            Failure::new(status::INTERNAL, format!("panic in {name}: {msg}"))
        }
    };
    // Formatting the message may itself panic (e.g. out of memory).
    catch_unwind(AssertUnwindSafe(|| failure.report())).unwrap_or(status::INTERNAL)
}

pub(crate) fn non_null<T>(p: *const T, what: &str) -> Result<(), Failure> {
    if p.is_null() {
        Err(Failure::invalid(format!("{what} is NULL")))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{table, take_error};

    #[test]
    fn error_messages_are_decoded() {
        let f = Failure::from_message("[dpcore:202:12] no affinity (SYCL error code 12: sycl)");
        assert_eq!(
            f,
            Failure {
                status: status::UNSUPPORTED,
                backend_code: 12,
                message: "no affinity (SYCL error code 12: sycl)".to_string(),
            }
        );
        let f = Failure::from_message("[dpcore:1:-5] bad");
        assert_eq!(
            (f.status, f.backend_code, f.message.as_str()),
            (1, -5, "bad")
        );
        for raw in [
            "plain message",
            "[dpcore:x:1] m",
            "[dpcore:0:0] success?",
            "[dpcore:1] m",
        ] {
            let f = Failure::from_message(raw);
            assert_eq!(
                (f.status, f.backend_code, f.message.as_str()),
                (status::BACKEND, 0, raw)
            );
        }
    }

    #[test]
    fn panics_become_internal_errors() {
        let _ = table();
        let rc = guarded("test", || panic!("boom"));
        assert_eq!(rc, status::INTERNAL);
        let (st, _, msg) = take_error().unwrap();
        assert_eq!(st, status::INTERNAL);
        assert!(msg.contains("boom"), "{msg}");
    }
}
