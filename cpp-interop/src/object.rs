//! Objects handed out as [`Obj`]s. Every device, context, queue, event,
//! bundle and kernel is a heap C++ object of the bridge, handed out as the
//! raw pointer of its `UniquePtr` and given back through the matching
//! `*_release`. Also the checks of object arguments and out-parameters that
//! the table functions share.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use cxx::memory::UniquePtrTarget;
use cxx::UniquePtr;
use dpcore_backend_abi::Obj;

use crate::error::{non_null, Failure};

/// Hand an object (device, context, queue, event) out as an [`Obj`]
/// (released by the matching `*_release`, see [`release`]).
pub(crate) fn into_obj<T: UniquePtrTarget>(obj: UniquePtr<T>) -> Obj {
    obj.into_raw().cast()
}

/// Borrow the object of type `T` behind an [`Obj`].
///
/// # Safety
/// `obj` must be NULL or an object of type `T` from this plugin not yet
/// released.
pub(crate) unsafe fn obj_ref<'a, T>(obj: Obj, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: by the caller's promise, a non-NULL `obj` came from `into_obj`
    // with a `UniquePtr<T>`.
    unsafe { obj.cast::<T>().as_ref() }.ok_or_else(|| Failure::invalid(format!("{what} is NULL")))
}

/// Give back an object handed out by [`into_obj`]; NULL is ignored.
///
/// # Safety
/// `obj` must be NULL or an object of type `T` from this plugin, given back
/// once.
pub(crate) unsafe fn release<T: UniquePtrTarget>(obj: Obj) {
    if obj.is_null() {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: the caller's promise.
        drop(unsafe { UniquePtr::from_raw(obj.cast::<T>()) });
    });
}

/// The address a `*_native` function returns, or NULL for a NULL object.
///
/// # Safety
/// As for [`obj_ref`].
pub(crate) unsafe fn native_of<T>(obj: Obj, native: impl Fn(&T) -> usize) -> *mut c_void {
    if obj.is_null() {
        return ptr::null_mut();
    }
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's promise.
        let obj = unsafe { &*obj.cast::<T>() };
        native(obj) as *mut c_void
    }))
    .unwrap_or(ptr::null_mut())
}

/// Whether two objects of type `T` are equal by `eq`; false if either is NULL.
///
/// # Safety
/// As for [`obj_ref`], for both.
pub(crate) unsafe fn equal_by<T>(a: Obj, b: Obj, eq: impl Fn(&T, &T) -> bool) -> bool {
    if a.is_null() || b.is_null() {
        return false;
    }
    if a == b {
        return true;
    }
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's promise.
        let (a, b) = unsafe { (&*a.cast::<T>(), &*b.cast::<T>()) };
        eq(a, b)
    }))
    .unwrap_or(false)
}

/// Check an object out-parameter and set it to NULL, so that a failed call
/// leaves NULL behind.
///
/// # Safety
/// `out` must be NULL or valid for a write.
pub(crate) unsafe fn clear_out(out: *mut Obj, what: &str) -> Result<(), Failure> {
    non_null(out, what)?;
    // SAFETY: checked non-NULL; the caller's promise.
    unsafe { out.write(ptr::null_mut()) };
    Ok(())
}

/// The `n` objects at `objs` (checked: `objs` and every element non-NULL).
///
/// # Safety
/// `objs` must be NULL or valid for `n` reads.
pub(crate) unsafe fn obj_slice<'a>(
    objs: *const Obj,
    n: usize,
    what: &str,
) -> Result<&'a [Obj], Failure> {
    if n == 0 {
        return Ok(&[]);
    }
    non_null(objs, what)?;
    // SAFETY: non-NULL and, by the caller's promise, valid for `n` reads.
    let objs = unsafe { std::slice::from_raw_parts(objs, n) };
    if let Some(i) = objs.iter().position(|o| o.is_null()) {
        return Err(Failure::invalid(format!("{what}[{i}] is NULL")));
    }
    Ok(objs)
}
