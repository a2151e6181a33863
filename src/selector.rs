//! Device selection by filter string (`dpc_selector_*`, `dpc_device_select`,
//! `dpc_device_default`).
//!
//! Grammar (the terms of dpctl filter strings and `ONEAPI_DEVICE_SELECTOR`):
//!
//! ```text
//! selector := term ( "," term )*
//! term     := part ( ":" part ){0,2}      parts in the order backend, type, N
//! backend  := opencl | level_zero | cuda | hip | native_cpu | *
//! type     := cpu | gpu | accelerator | *
//! N        := decimal number
//! ```
//!
//! Every part is optional, but the parts that are present keep that
//! order. `N` counts the root devices that match the term's backend and
//! type, in enumeration order: `opencl:cpu:0` is the first OpenCL CPU,
//! `gpu:1` the second GPU of any backend, `2` the third device. A term
//! matches a set of devices; a selector matches the union of its terms, and
//! selecting picks the best of that set (GPU, then accelerator, then CPU;
//! Level Zero before other backends; then enumeration order).

use crate::export;
use std::ffi::c_char;
use std::sync::{Arc, OnceLock};

use crate::device::{self, dpc_backend, dpc_device, dpc_device_type, Device};
use crate::error::{dpc_status, dpc_status::*, Error, Result};
use crate::handle::{self, HandleType, Kind};
use crate::strings::{check_ptr, in_str, write_out, write_out_str};

/// Opaque selector type of the C API.
pub struct dpc_selector_s {
    _private: (),
}

/// A parsed filter string. Reference counted; can be used any number of
/// times, from any thread.
pub type dpc_selector = *mut dpc_selector_s;

pub const GRAMMAR: &str = "a filter string is one or more terms separated by ','; \
each term is backend:type:N with every part optional but in that order; \
backend is one of opencl, level_zero, cuda, hip, native_cpu; type is one of cpu, gpu, accelerator; \
N is a device number counted among the devices matching the term's backend and type; \
'*' matches anything. Examples: \"gpu\", \"opencl:cpu\", \"level_zero:0\", \"opencl:cpu:0\", \"cpu,gpu\"";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub backend: Option<dpc_backend>,
    pub device_type: Option<dpc_device_type>,
    pub number: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub text: String,
    pub terms: Vec<Term>,
    /// The device `select` picks, worked out at its first call: the root
    /// device list is fixed for the life of the process.
    chosen: OnceLock<Option<usize>>,
}

impl HandleType for Selector {
    const KIND: Kind = Kind::Selector;
}

fn parse_backend(w: &str) -> Option<dpc_backend> {
    Some(match w {
        "opencl" => dpc_backend::DPC_BACKEND_OPENCL,
        "level_zero" | "ext_oneapi_level_zero" => dpc_backend::DPC_BACKEND_LEVEL_ZERO,
        "cuda" | "ext_oneapi_cuda" => dpc_backend::DPC_BACKEND_CUDA,
        "hip" | "ext_oneapi_hip" => dpc_backend::DPC_BACKEND_HIP,
        "native_cpu" => dpc_backend::DPC_BACKEND_NATIVE_CPU,
        _ => return None,
    })
}

fn parse_type(w: &str) -> Option<dpc_device_type> {
    Some(match w {
        "cpu" => dpc_device_type::DPC_DEVICE_TYPE_CPU,
        "gpu" => dpc_device_type::DPC_DEVICE_TYPE_GPU,
        "accelerator" | "acc" | "fpga" => dpc_device_type::DPC_DEVICE_TYPE_ACCELERATOR,
        _ => return None,
    })
}

fn malformed(text: &str, why: String) -> Error {
    Error::new(
        DPC_ERROR_INVALID_SELECTOR,
        format!("invalid device filter string \"{text}\": {why}. Grammar: {GRAMMAR}"),
    )
}

/// Parse a filter string.
pub fn parse(text: &str) -> Result<Selector> {
    let lowered = text.trim().to_ascii_lowercase();
    if lowered.is_empty() {
        return Err(malformed(text, "it is empty".into()));
    }
    let mut terms = Vec::new();
    for (ti, raw) in lowered.split(',').enumerate() {
        let term_text = raw.trim();
        if term_text.is_empty() {
            return Err(malformed(text, format!("term {} is empty", ti + 1)));
        }
        let parts: Vec<&str> = term_text.split(':').map(str::trim).collect();
        if parts.len() > 3 {
            return Err(malformed(
                text,
                format!(
                    "term {} (\"{term_text}\") has {} parts; at most 3 (backend:type:N)",
                    ti + 1,
                    parts.len()
                ),
            ));
        }
        // Position: 0 = expecting backend, 1 = type, 2 = number, 3 = done.
        let mut pos = 0;
        let mut term = Term {
            backend: None,
            device_type: None,
            number: None,
        };
        for p in parts {
            let (slot, what) = if p == "*" {
                (pos, "wildcard")
            } else if let Some(b) = parse_backend(p) {
                term.backend = Some(b);
                (0, "backend")
            } else if let Some(t) = parse_type(p) {
                term.device_type = Some(t);
                (1, "device type")
            } else if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) {
                let n = p.parse::<usize>().map_err(|_| {
                    malformed(
                        text,
                        format!("device number \"{p}\" in term {} is too large", ti + 1),
                    )
                })?;
                term.number = Some(n);
                (2, "device number")
            } else if p.is_empty() {
                return Err(malformed(
                    text,
                    format!("term {} (\"{term_text}\") has an empty part", ti + 1),
                ));
            } else {
                return Err(malformed(
                    text,
                    format!(
                        "\"{p}\" in term {} is not a backend, a device type or a number",
                        ti + 1
                    ),
                ));
            };
            if slot < pos || slot > 2 {
                return Err(malformed(
                    text,
                    format!(
                        "the {what} \"{p}\" in term {} (\"{term_text}\") is out of order; parts go backend:type:N",
                        ti + 1
                    ),
                ));
            }
            pos = slot + 1;
        }
        terms.push(term);
    }
    Ok(Selector {
        text: text.to_string(),
        terms,
        chosen: OnceLock::new(),
    })
}

impl Term {
    fn kind_matches(&self, d: &Device) -> bool {
        self.backend.is_none_or(|b| b == d.backend_kind())
            && self.device_type.is_none_or(|t| t == d.device_type())
    }
}

/// Preference score for default selection: higher is better.
pub fn score(d: &Device) -> i32 {
    let t = match d.device_type() {
        dpc_device_type::DPC_DEVICE_TYPE_GPU => 500,
        dpc_device_type::DPC_DEVICE_TYPE_ACCELERATOR => 400,
        dpc_device_type::DPC_DEVICE_TYPE_CPU => 300,
        _ => 100,
    };
    let b = if d.backend_kind() == dpc_backend::DPC_BACKEND_LEVEL_ZERO {
        50
    } else {
        0
    };
    t + b
}

impl Selector {
    /// The root devices (indices) matching any term, in enumeration order.
    pub fn matches(&self, devices: &[Arc<Device>]) -> Vec<usize> {
        let mut hit = vec![false; devices.len()];
        for t in &self.terms {
            let mut n = 0;
            for (i, d) in devices.iter().enumerate() {
                if t.kind_matches(d) {
                    if t.number.is_none_or(|want| want == n) {
                        hit[i] = true;
                    }
                    n += 1;
                }
            }
        }
        hit.iter()
            .enumerate()
            .filter(|(_, h)| **h)
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether `d` (a root device, or a sub-device through its root) matches.
    pub fn matches_device(&self, d: &Arc<Device>) -> bool {
        let root = d.root();
        match root.root_index {
            Some(i) => self.matches(&device::registry().devices).contains(&i),
            None => false,
        }
    }

    /// The best matching device.
    pub fn select(&self) -> Result<Arc<Device>> {
        // Not the empty list of a failed enumeration: the choice is kept.
        let devs = &device::try_registry()?.devices;
        let chosen = self
            .chosen
            .get_or_init(|| best(devs, &self.matches(devs)).and_then(|d| d.root_index));
        chosen.map(|i| devs[i].clone()).ok_or_else(|| {
            Error::new(
                DPC_ERROR_DEVICE_NOT_FOUND,
                format!(
                    "no device matches \"{}\"; {}",
                    self.text,
                    device::list_for_message()
                ),
            )
        })
    }
}

fn best(devs: &[Arc<Device>], idx: &[usize]) -> Option<Arc<Device>> {
    let mut best: Option<usize> = None;
    for &i in idx {
        if best.is_none_or(|b| score(&devs[i]) > score(&devs[b])) {
            best = Some(i);
        }
    }
    best.map(|i| devs[i].clone())
}

/// The best device matching the filter string `text` (parsed for this
/// call: `DPC_ERROR_INVALID_SELECTOR` when malformed,
/// `DPC_ERROR_DEVICE_NOT_FOUND` when it matches nothing).
pub(crate) fn select_by_filter(text: &str) -> Result<Arc<Device>> {
    parse(text)?.select()
}

/// The default device: the best of all root devices.
pub fn default_device() -> Result<Arc<Device>> {
    let devs = &device::try_registry()?.devices;
    let all: Vec<usize> = (0..devs.len()).collect();
    best(devs, &all).ok_or_else(|| {
        Error::new(
            DPC_ERROR_DEVICE_NOT_FOUND,
            format!("no default device: {}", device::list_for_message()),
        )
    })
}

// ---------------------------------------------------------------- exports

/// Parse `filter` (see the grammar in the README: `backend:type:N` terms
/// separated by commas, every part optional) into a reusable selector.
///
/// Ownership: `*selector_out` is a new reference the caller releases with
/// `dpc_selector_release`; `filter` is borrowed for the call.
/// Errors: `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_INVALID_UTF8`,
/// `DPC_ERROR_INVALID_SELECTOR` (the message quotes the string and gives
/// the grammar). Parsing does not need the backend. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_selector_create(
    filter: *const c_char,
    selector_out: *mut dpc_selector,
) -> dpc_status {
    export!(|| {
        check_ptr("selector_out", selector_out)?;
        // SAFETY: the export's contract is `filter` NULL or a NUL-terminated
        // string, borrowed and unchanged for the call, which `text` does
        // not outlive (`parse` copies it).
        let text = unsafe { in_str("filter", filter) }?;
        let sel = parse(text)?;
        let h = handle::insert(Arc::new(sel), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_selector` (the export's contract).
        unsafe { write_out("selector_out", selector_out, h as dpc_selector) }
    })
}

/// Add a reference to `selector`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_selector_retain(selector: dpc_selector) -> dpc_status {
    export!(|| { handle::retain(Kind::Selector, "selector", selector as usize) })
}

/// Drop a reference to `selector`; NULL is a no-op.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_selector_release(selector: dpc_selector) -> dpc_status {
    export!(|| { handle::release(Kind::Selector, "selector", selector as usize) })
}

/// The best device matching `selector` (GPU, then accelerator, then CPU,
/// then enumeration order). May be called any number of times.
///
/// Ownership: a root device handle, valid for the life of the process.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_DEVICE_NOT_FOUND` (the message lists the devices that exist,
/// or why there are none). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_selector_select(
    selector: dpc_selector,
    device_out: *mut dpc_device,
) -> dpc_status {
    export!(|| {
        check_ptr("device_out", device_out)?;
        let d = handle::with::<Selector, _>("selector", selector as usize, |s| s.select())??;
        let h = device::handle_for(&d)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_device` (the export's contract).
        unsafe { write_out("device_out", device_out, h) }
    })
}

/// Whether `device` (a sub-device counts as its root) matches `selector`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_selector_matches(
    selector: dpc_selector,
    device: dpc_device,
    matches_out: *mut bool,
) -> dpc_status {
    export!(|| {
        check_ptr("matches_out", matches_out)?;
        let d = device::get("device", device)?;
        let m =
            handle::with::<Selector, _>("selector", selector as usize, |s| s.matches_device(&d))?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `bool` (the export's contract).
        unsafe { write_out("matches_out", matches_out, m) }
    })
}

/// The filter string `selector` was made from.
///
/// Two-call pattern (`*size_out` gets the size needed, NUL included).
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_BUFFER_TOO_SMALL`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_selector_get_string(
    selector: dpc_selector,
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("size_out", size_out)?;
        handle::with::<Selector, _>("selector", selector as usize, |s| {
            // SAFETY: the export's contract is `buf` NULL or the caller's
            // memory, writable for `capacity` bytes, and `size_out` writable
            // (checked non-NULL above), `write_out_str`'s contract; the
            // selector's text is dpcore's own copy, which it never hands
            // out, so the caller's buffer cannot overlap it.
            unsafe { write_out_str(&s.text, buf, capacity, size_out) }
        })?
    })
}

/// Select the best device matching the filter string `filter`
/// (`dpc_selector_create` + `dpc_selector_select` in one call).
///
/// Ownership: a root device handle, valid for the life of the process.
/// Errors: `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_INVALID_UTF8`,
/// `DPC_ERROR_INVALID_SELECTOR` (malformed, with the grammar),
/// `DPC_ERROR_DEVICE_NOT_FOUND` (well-formed, matches nothing; lists the
/// devices). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_select(
    filter: *const c_char,
    device_out: *mut dpc_device,
) -> dpc_status {
    export!(|| {
        check_ptr("device_out", device_out)?;
        // SAFETY: the export's contract is `filter` NULL or a NUL-terminated
        // string, borrowed and unchanged for the call, which `text` does
        // not outlive.
        let text = unsafe { in_str("filter", filter) }?;
        let d = select_by_filter(text)?;
        let h = device::handle_for(&d)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_device` (the export's contract).
        unsafe { write_out("device_out", device_out, h) }
    })
}

/// The default device: GPU over accelerator over CPU (Level Zero first,
/// then enumeration order) among the devices the runtime reports, which
/// honour `ONEAPI_DEVICE_SELECTOR`.
///
/// Ownership: a root device handle, valid for the life of the process.
/// Errors: `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_DEVICE_NOT_FOUND` (no
/// devices; the message says why). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_default(device_out: *mut dpc_device) -> dpc_status {
    export!(|| {
        check_ptr("device_out", device_out)?;
        let d = default_device()?;
        let h = device::handle_for(&d)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_device` (the export's contract).
        unsafe { write_out("device_out", device_out, h) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dpc_backend::*;
    use dpc_device_type::*;

    fn t(b: Option<dpc_backend>, ty: Option<dpc_device_type>, n: Option<usize>) -> Term {
        Term {
            backend: b,
            device_type: ty,
            number: n,
        }
    }

    #[test]
    fn valid_strings() {
        assert_eq!(
            parse("gpu").unwrap().terms,
            vec![t(None, Some(DPC_DEVICE_TYPE_GPU), None)]
        );
        assert_eq!(
            parse("opencl:cpu").unwrap().terms,
            vec![t(Some(DPC_BACKEND_OPENCL), Some(DPC_DEVICE_TYPE_CPU), None)]
        );
        assert_eq!(
            parse("level_zero:0").unwrap().terms,
            vec![t(Some(DPC_BACKEND_LEVEL_ZERO), None, Some(0))]
        );
        assert_eq!(
            parse("opencl:cpu:0").unwrap().terms,
            vec![t(
                Some(DPC_BACKEND_OPENCL),
                Some(DPC_DEVICE_TYPE_CPU),
                Some(0)
            )]
        );
        assert_eq!(
            parse("cpu,gpu").unwrap().terms,
            vec![
                t(None, Some(DPC_DEVICE_TYPE_CPU), None),
                t(None, Some(DPC_DEVICE_TYPE_GPU), None)
            ]
        );
        assert_eq!(parse(" 3 ").unwrap().terms, vec![t(None, None, Some(3))]);
        assert_eq!(
            parse("gpu:1").unwrap().terms,
            vec![t(None, Some(DPC_DEVICE_TYPE_GPU), Some(1))]
        );
        assert_eq!(parse("*").unwrap().terms, vec![t(None, None, None)]);
        assert_eq!(
            parse("OpenCL:*:1").unwrap().terms,
            vec![t(Some(DPC_BACKEND_OPENCL), None, Some(1))]
        );
        assert_eq!(
            parse("ext_oneapi_level_zero:gpu").unwrap().terms,
            vec![t(
                Some(DPC_BACKEND_LEVEL_ZERO),
                Some(DPC_DEVICE_TYPE_GPU),
                None
            )]
        );
    }

    #[test]
    fn malformed_strings_quote_input_and_grammar() {
        for bad in [
            "",
            " ",
            "cpu,",
            "foo",
            "cpu:opencl",
            "0:gpu",
            "opencl:cpu:0:1",
            "opencl::0",
            "gpu:-1",
            "99999999999999999999999",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.status, DPC_ERROR_INVALID_SELECTOR, "{bad:?}");
            assert!(
                e.message.contains(&format!("\"{bad}\"")),
                "{bad:?}: {}",
                e.message
            );
            assert!(e.message.contains("backend:type:N"), "{}", e.message);
            assert!(e.message.contains("Examples"), "{}", e.message);
        }
    }

    #[test]
    fn selector_reusable_and_parse_is_pure() {
        let s = parse("opencl:cpu:0").unwrap();
        for _ in 0..1000 {
            assert_eq!(parse("opencl:cpu:0").unwrap(), s);
        }
    }
}
