//! API-sequence fuzzer (issue 12): the input is a stream of C API calls,
//! made through the exported `extern "C"` functions exactly as a C caller
//! makes them, against the real device of the machine.
//!
//! Decoding (README "Fuzzing" and fuzz/seeds.py, which writes inputs in
//! this format): the input is read byte by byte; each op starts with one
//! byte, `op % OPS`, followed by its operands (handles, sizes, offsets,
//! strings, byte blobs). Reading past the end gives zeros, so every input
//! decodes. A handle operand is one selector byte: below 200 it picks an
//! entry of the table of that kind (live, retained or already released:
//! the table keeps stale handles for double releases), otherwise a made-up
//! value (NULL, a handle-shaped value, another kind's handle, random bits).
//!
//! The harness only passes memory a correct C caller could pass: host
//! buffers it owns with their real sizes, USM pointers of live allocations
//! (with offsets and lengths in and out of the allocation, which dpcore can
//! check against its own records), and kernel launches of the real kernels
//! with buffers big enough for their index range. Everything else is the
//! fuzzer's to choose. After each input every handle is released, every
//! DLPack export deleted and every allocation freed, and the leak census
//! must be zero; a panic caught at the boundary (`DPC_ERROR_INTERNAL`),
//! a deleter or release callback not called exactly once, or a leak
//! aborts (a finding).
#![no_main]

use std::collections::HashMap;
use std::ffi::{c_char, c_void, CString};
use std::sync::Mutex;

use dpcore::array::*;
use dpcore::census::*;
use dpcore::context::*;
use dpcore::copy::*;
use dpcore::device::dpc_device_type::*;
use dpcore::device::*;
use dpcore::diagnostics::*;
use dpcore::dlpack::*;
use dpcore::error::dpc_status::{self, *};
use dpcore::error::*;
use dpcore::event::dpc_event_status::*;
use dpcore::event::*;
use dpcore::kernel::dpc_arg_kind::*;
use dpcore::kernel::*;
use dpcore::platform::*;
use dpcore::queue::*;
use dpcore::selector::*;
use dpcore::usm::dpc_usm_kind::*;
use dpcore::usm::*;
use libfuzzer_sys::fuzz_target;

// ---------------------------------------------------------------- input

struct In<'a> {
    d: &'a [u8],
    i: usize,
}

impl<'a> In<'a> {
    fn done(&self) -> bool {
        self.i >= self.d.len()
    }
    fn u8(&mut self) -> u8 {
        let b = self.d.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        (self.u32() as u64) | ((self.u32() as u64) << 32)
    }
    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    /// `n` bytes (fewer at the end of the input).
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.i.min(self.d.len());
        let end = (start + n).min(self.d.len());
        self.i = start + n;
        &self.d[start..end]
    }
    /// A length-prefixed (u16) blob.
    fn blob(&mut self) -> &'a [u8] {
        let n = self.u16() as usize;
        self.bytes(n)
    }
    /// A size: mostly small, sometimes an extreme.
    fn size(&mut self) -> usize {
        match self.u8() % 8 {
            0 => 0,
            1 => 1,
            2..=4 => self.u8() as usize,
            5 => self.u16() as usize,
            6 => {
                const X: [usize; 8] = [
                    usize::MAX,
                    usize::MAX - 7,
                    1 << 63,
                    (1 << 63) - 1,
                    1 << 32,
                    1 << 40,
                    (1 << 31) + 1,
                    usize::MAX / 2 + 3,
                ];
                X[self.u8() as usize % X.len()]
            }
            _ => self.u64() as usize,
        }
    }
    /// A signed extent, stride or index: mostly small, sometimes extreme.
    fn i64v(&mut self) -> i64 {
        match self.u8() % 8 {
            0 => 0,
            1 => 1,
            2 | 3 => (self.u8() % 16) as i64,
            4 => -((self.u8() % 16) as i64),
            5 => self.u16() as i16 as i64,
            6 => {
                const X: [i64; 9] = [
                    i64::MIN,
                    i64::MAX,
                    i64::MIN + 1,
                    i64::MAX - 1,
                    1 << 32,
                    1 << 62,
                    -(1 << 62),
                    (1 << 31) + 1,
                    DPC_SLICE_NONE,
                ];
                X[self.u8() as usize % X.len()]
            }
            _ => self.u64() as i64,
        }
    }
    /// A NUL-free string of up to 255 bytes (a CString).
    fn cstring(&mut self) -> CString {
        let n = self.u8() as usize;
        let b: Vec<u8> = self.bytes(n).iter().map(|&c| c.max(1)).collect();
        CString::new(b).unwrap()
    }
    fn dtype(&mut self) -> dpc_dlpack_dtype {
        const GOOD: [(u8, u8); 13] = [
            (DPC_DL_FLOAT, 32),
            (DPC_DL_FLOAT, 64),
            (DPC_DL_FLOAT, 16),
            (DPC_DL_INT, 8),
            (DPC_DL_INT, 16),
            (DPC_DL_INT, 32),
            (DPC_DL_INT, 64),
            (DPC_DL_UINT, 8),
            (DPC_DL_UINT, 32),
            (DPC_DL_UINT, 64),
            (DPC_DL_BOOL, 8),
            (DPC_DL_COMPLEX, 64),
            (DPC_DL_COMPLEX, 128),
        ];
        let s = self.u8();
        if s < 224 {
            let (code, bits) = GOOD[s as usize % GOOD.len()];
            dpc_dlpack_dtype {
                code,
                bits,
                lanes: 1,
            }
        } else {
            dpc_dlpack_dtype {
                code: self.u8(),
                bits: self.u8(),
                lanes: self.u16(),
            }
        }
    }
}

// ---------------------------------------------------------------- tables

const K_DEVICE: usize = 1;
const K_SELECTOR: usize = 2;
const K_PLATFORM: usize = 3;
const K_CONTEXT: usize = 4;
const K_QUEUE: usize = 5;
const K_EVENT: usize = 6;
const K_BUNDLE: usize = 7;
const K_KERNEL: usize = 8;
const K_ARRAY: usize = 9;

/// Handles of one kind the input has seen: value and references owned.
#[derive(Default)]
struct Tab {
    v: Vec<(usize, u32)>,
}

impl Tab {
    fn add(&mut self, h: usize) {
        if let Some(e) = self.v.iter_mut().find(|e| e.0 == h) {
            e.1 += 1;
        } else {
            self.v.push((h, 1));
        }
    }
    fn owned(&mut self, h: usize) -> Option<&mut u32> {
        self.v.iter_mut().find(|e| e.0 == h).map(|e| &mut e.1)
    }
}

struct Usm {
    p: usize,
    size: usize,
    kind: i32,
    live: bool,
    /// Lent to `dpc_array_from_usm` with these release slots: not freed
    /// until each is released.
    lent: Vec<usize>,
    /// Viewed by an array without a release callback (or a launch
    /// buffer): freed only at the end of the input.
    pinned: bool,
}

/// A DLPack export the harness holds: its address, its original contents
/// (restored before the producer's deleter runs) and whether it is versioned.
enum Orig {
    V(dpc_dlpack_managed_tensor_versioned),
    L(dpc_dlpack_managed_tensor),
}
// SAFETY: plain data; the pointers in it are only passed back to dpcore.
unsafe impl Send for Orig {}

impl Clone for Orig {
    fn clone(&self) -> Orig {
        // SAFETY: both structs are plain C data (pointers and integers).
        unsafe { std::ptr::read(self) }
    }
}

struct Wrapped {
    orig: Orig,
    calls: u32,
}

/// Exports handed to an import with the counting deleter, by address.
static WRAPPED: Mutex<Option<HashMap<usize, Wrapped>>> = Mutex::new(None);
/// Calls of `lent_release` per slot.
static LENT: Mutex<Vec<u32>> = Mutex::new(Vec::new());

unsafe extern "C" fn lent_release(ctx: *mut c_void) {
    let mut l = LENT.lock().unwrap_or_else(|e| e.into_inner());
    l[ctx as usize] += 1;
}

fn restore_and_delete(addr: usize) {
    let orig = {
        let mut w = WRAPPED.lock().unwrap_or_else(|e| e.into_inner());
        let e = w.as_mut().unwrap().get_mut(&addr).expect("unknown tensor");
        e.calls += 1;
        if e.calls != 1 {
            panic!("DLPack deleter called {} times for {addr:#x}", e.calls);
        }
        e.orig.clone()
    };
    // SAFETY: `addr` is the export dpcore made; its original contents are
    // put back before its own deleter (called once, checked above) frees it.
    unsafe {
        match orig {
            Orig::V(t) => {
                let p = addr as *mut dpc_dlpack_managed_tensor_versioned;
                let d = t.deleter;
                *p = t;
                if let Some(d) = d {
                    d(p)
                }
            }
            Orig::L(t) => {
                let p = addr as *mut dpc_dlpack_managed_tensor;
                let d = t.deleter;
                *p = t;
                if let Some(d) = d {
                    d(p)
                }
            }
        }
    }
}

unsafe extern "C" fn counting_deleter_v(t: *mut dpc_dlpack_managed_tensor_versioned) {
    restore_and_delete(t as usize)
}

unsafe extern "C" fn counting_deleter_l(t: *mut dpc_dlpack_managed_tensor) {
    restore_and_delete(t as usize)
}

const HOST_LEN: usize = 1 << 16;
const LAUNCH_BYTES: usize = 1 << 16;
/// The most bytes an array or allocation the harness asks for may take
/// (larger ones are legitimate requests, only slow; overflowing ones are
/// still passed: dpcore must reject them).
const ALLOC_CAP: u128 = 4 << 20;

struct State {
    tabs: Vec<Tab>,
    /// Arrays whose data may not be what their layout says (an import of a
    /// kDLCPU tensor with corrupted fields: dpcore cannot check host
    /// memory); only metadata calls and release use them.
    tainted: Vec<usize>,
    usm: Vec<Usm>,
    exports: Vec<(usize, Orig)>,
    /// Exports imported with a NULL deleter: the harness deletes them at the end.
    orphans: Vec<(usize, Orig)>,
    wrapped: Vec<usize>,
    /// Kernels of bundles built from the repository's own kernels.
    trusted_kernels: Vec<usize>,
    launch_bufs: Vec<usize>,
    launch_arrays: Vec<usize>,
    host: Vec<u8>,
    /// Shape/stride buffers handed to DLPack imports; freed at the end.
    keep: Vec<Box<[i64; 64]>>,
    spv: Vec<Vec<u8>>,
    internal: Option<String>,
}

/// FUZZ_TRACE=1 prints every call's status (to check what a seed does).
fn trace() -> bool {
    static T: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *T.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

fn check(st: dpc_status, what: &str) -> bool {
    if trace() {
        eprintln!("[trace] {what}: {st:?}");
    }
    if st == DPC_ERROR_INTERNAL {
        let mut buf = vec![0 as c_char; 4096];
        let mut n = 0usize;
        // SAFETY: buf holds 4096 bytes.
        unsafe { dpc_last_error_message(buf.as_mut_ptr(), buf.len(), &mut n) };
        // SAFETY: NUL-terminated by dpc_last_error_message.
        let msg = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }.to_string_lossy();
        panic!("{what}: DPC_ERROR_INTERNAL (a panic inside dpcore): {msg}");
    }
    st == DPC_SUCCESS
}

fn h<T>(v: usize) -> *mut T {
    v as *mut T
}

impl State {
    fn new() -> State {
        let mut spv = Vec::new();
        for f in [
            "vadd", "saxpy", "scalars", "ndim", "reduce", "many_args",
        ] {
            let p = format!("{}/../kernels/{f}.spv", env!("CARGO_MANIFEST_DIR"));
            spv.push(std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}")));
        }
        State {
            tabs: (0..10).map(|_| Tab::default()).collect(),
            tainted: Vec::new(),
            usm: Vec::new(),
            exports: Vec::new(),
            orphans: Vec::new(),
            wrapped: Vec::new(),
            trusted_kernels: Vec::new(),
            launch_bufs: Vec::new(),
            launch_arrays: Vec::new(),
            host: vec![0u8; HOST_LEN],
            keep: Vec::new(),
            spv,
            internal: None,
        }
    }

    /// A handle of `kind`: from the table (live or stale) or made up.
    fn pick(&mut self, inp: &mut In, kind: usize) -> usize {
        let s = inp.u8();
        let t = &self.tabs[kind].v;
        if s < 200 && !t.is_empty() {
            return t[s as usize % t.len()].0;
        }
        match s % 6 {
            0 => 0,
            1 => inp.u64() as usize,
            2 => ((kind as u64) << 56 | (inp.u8() as u64) << 32 | inp.u16() as u64) as usize,
            3 => {
                let other = &self.tabs[1 + (inp.u8() as usize % 9)].v;
                if other.is_empty() {
                    1
                } else {
                    other[inp.u8() as usize % other.len()].0
                }
            }
            4 => 1,
            _ => usize::MAX,
        }
    }

    /// An array whose data is what its layout says (or a stale/made-up one).
    fn pick_data_array(&mut self, inp: &mut In) -> usize {
        let a = self.pick(inp, K_ARRAY);
        if self.tainted.contains(&a) {
            0
        } else {
            a
        }
    }

    fn add(&mut self, kind: usize, v: usize) {
        self.tabs[kind].add(v);
    }

    /// A list of `n` handles of `kind` (n from the input, at most 8).
    fn pick_list(&mut self, inp: &mut In, kind: usize) -> Vec<usize> {
        let n = (inp.u8() % 9) as usize;
        (0..n).map(|_| self.pick(inp, kind)).collect()
    }

    fn events(&mut self, inp: &mut In) -> Vec<usize> {
        if inp.u8() % 3 == 0 {
            self.pick_list(inp, K_EVENT)
        } else {
            Vec::new()
        }
    }

    /// A USM pointer and how many bytes from it are inside its allocation:
    /// an offset in or out of a live allocation, or 0 when there is none.
    fn usm_ptr(&mut self, inp: &mut In) -> Option<(usize, usize)> {
        self.usm_ptr_end(inp, true)
    }

    /// As `usm_ptr`, and with `end` the offset may be the allocation's
    /// size: a pointer one past its end (not USM: only for commands that
    /// must refuse it, never as host memory).
    fn usm_ptr_end(&mut self, inp: &mut In, end: bool) -> Option<(usize, usize)> {
        let live: Vec<usize> = (0..self.usm.len()).filter(|&i| self.usm[i].live).collect();
        if live.is_empty() {
            return None;
        }
        let u = &self.usm[live[inp.u8() as usize % live.len()]];
        let off = match inp.u8() % 4 {
            0 => 0,
            1 => inp.u8() as usize % (u.size + end as usize),
            2 => u.size.saturating_sub(1),
            _ => u.size.saturating_sub(inp.u8() as usize % 8 + !end as usize),
        };
        Some((u.p + off, u.size - off))
    }

    /// A pointer for a copy: USM (with a length that may run past its
    /// allocation) or the harness's host buffer (always in bounds: dpcore
    /// cannot check host memory).
    fn copy_ptr(&mut self, inp: &mut In, n: usize) -> usize {
        if inp.u8() % 3 != 0 {
            if let Some((p, _)) = self.usm_ptr_end(inp, false) {
                return p;
            }
        }
        let n = n.min(HOST_LEN);
        let off = inp.u16() as usize % (HOST_LEN - n + 1);
        self.host.as_mut_ptr() as usize + off
    }

    /// A length for a command on USM at `p`: inside, just past, or anything.
    fn usm_len(&mut self, inp: &mut In, room: usize) -> usize {
        match inp.u8() % 4 {
            0 => room,
            1 => room + 1 + inp.u8() as usize,
            2 => inp.size(),
            _ => inp.u8() as usize % (room + 1),
        }
    }

    fn release_one(&mut self, kind: usize, v: usize) -> dpc_status {
        // Handles are values; dpcore validates them.
        match kind {
            K_DEVICE => dpc_device_release(h(v)),
            K_SELECTOR => dpc_selector_release(h(v)),
            K_PLATFORM => dpc_platform_release(h(v)),
            K_CONTEXT => dpc_context_release(h(v)),
            K_QUEUE => dpc_queue_release(h(v)),
            K_EVENT => dpc_event_release(h(v)),
            K_BUNDLE => dpc_bundle_release(h(v)),
            K_KERNEL => dpc_kernel_release(h(v)),
            _ => dpc_array_release(h(v)),
        }
    }

    fn retain_one(&mut self, kind: usize, v: usize) -> dpc_status {
        // Handles are values; dpcore validates them.
        match kind {
            K_DEVICE => dpc_device_retain(h(v)),
            K_SELECTOR => dpc_selector_retain(h(v)),
            K_PLATFORM => dpc_platform_retain(h(v)),
            K_CONTEXT => dpc_context_retain(h(v)),
            K_QUEUE => dpc_queue_retain(h(v)),
            K_EVENT => dpc_event_retain(h(v)),
            K_BUNDLE => dpc_bundle_retain(h(v)),
            K_KERNEL => dpc_kernel_retain(h(v)),
            _ => dpc_array_retain(h(v)),
        }
    }

    /// Wait for every command submitted so far: a caller frees memory only
    /// once no command uses it (the harness cannot tell which queue a
    /// command went to, so it waits for all of them).
    fn quiesce(&mut self) {
        for &(q, _) in &self.tabs[K_QUEUE].v {
            // Stale handles fail, and that is fine here.
            let _ = dpc_queue_wait(h(q));
        }
    }

    /// Give everything back; then the census must be zero.
    fn finish(&mut self) {
        self.quiesce();
        // SAFETY (whole function): every call passes handles and pointers
        // this input obtained, each given back exactly once.
        unsafe {
            for kind in [K_KERNEL, K_BUNDLE, K_ARRAY, K_EVENT, K_QUEUE, K_CONTEXT, K_SELECTOR, K_PLATFORM, K_DEVICE] {
                let v = std::mem::take(&mut self.tabs[kind].v);
                for (hv, refs) in v {
                    for _ in 0..refs {
                        let st = self.release_one(kind, hv);
                        assert!(check(st, "release at the end"), "releasing an owned handle {hv:#x} of kind {kind} failed: {st:?}");
                    }
                }
            }
            check(dpc_usm_wait_deferred_frees(), "dpc_usm_wait_deferred_frees");
            for (addr, orig) in std::mem::take(&mut self.exports) {
                match orig {
                    Orig::V(t) => t.deleter.unwrap()(addr as *mut _),
                    Orig::L(t) => t.deleter.unwrap()(addr as *mut _),
                }
            }
            // Newest first: a later orphan may be an export of an import of
            // an earlier one, and holds that import (whose data the earlier
            // one's producer owns) until it goes.
            for (addr, orig) in std::mem::take(&mut self.orphans).into_iter().rev() {
                match orig {
                    Orig::V(t) => {
                        let d = t.deleter.unwrap();
                        *(addr as *mut dpc_dlpack_managed_tensor_versioned) = t;
                        d(addr as *mut _)
                    }
                    Orig::L(t) => {
                        let d = t.deleter.unwrap();
                        *(addr as *mut dpc_dlpack_managed_tensor) = t;
                        d(addr as *mut _)
                    }
                }
            }
            check(dpc_usm_wait_deferred_frees(), "dpc_usm_wait_deferred_frees");
            {
                let mut w = WRAPPED.lock().unwrap_or_else(|e| e.into_inner());
                let w = w.get_or_insert_with(HashMap::new);
                for addr in std::mem::take(&mut self.wrapped) {
                    let e = w.remove(&addr).unwrap();
                    assert_eq!(e.calls, 1, "an imported DLPack tensor's deleter ran {} times", e.calls);
                }
            }
            {
                let mut l = LENT.lock().unwrap_or_else(|e| e.into_inner());
                for (slot, n) in l.iter().enumerate() {
                    assert_eq!(*n, 1, "dpc_array_from_usm release slot {slot} called {n} times");
                }
                l.clear();
            }
            for u in std::mem::take(&mut self.usm) {
                if u.live {
                    let st = dpc_usm_free(u.p as *mut c_void);
                    assert!(check(st, "dpc_usm_free at the end"), "freeing a live allocation failed: {st:?}");
                }
            }
            check(dpc_usm_wait_deferred_frees(), "dpc_usm_wait_deferred_frees");
            let mut handles = 0u64;
            assert_eq!(dpc_census_live_handles(0, &mut handles), DPC_SUCCESS);
            let (mut allocs, mut bytes) = (0u64, 0u64);
            assert_eq!(dpc_census_live_usm(&mut allocs, &mut bytes), DPC_SUCCESS);
            if handles != 0 || allocs != 0 {
                let mut buf = vec![0 as c_char; 1 << 16];
                let mut n = 0usize;
                dpc_census_report(buf.as_mut_ptr(), buf.len(), &mut n);
                let msg = std::ffi::CStr::from_ptr(buf.as_ptr()).to_string_lossy();
                panic!("leak after an input: {handles} handles, {allocs} allocations ({bytes} bytes) live:\n{msg}");
            }
        }
        self.tainted.clear();
        self.trusted_kernels.clear();
        self.launch_bufs.clear();
        self.launch_arrays.clear();
        self.keep.clear();
    }
}

fn queue_or_null(s: &mut State, inp: &mut In) -> usize {
    if inp.u8() % 5 == 0 {
        0
    } else {
        s.pick(inp, K_QUEUE)
    }
}

fn ptrs(v: &[usize]) -> *const usize {
    if v.is_empty() {
        std::ptr::null()
    } else {
        v.as_ptr()
    }
}

/// Bytes an array of `shape` and `bits` takes, None when the product does
/// not fit in 2^63 (dpcore must reject it) or has a negative extent.
fn nbytes(shape: &[i64], bits: u8) -> Option<u128> {
    let mut n: u128 = (bits as u128).div_ceil(8).max(1);
    for &e in shape {
        if e < 0 {
            return None;
        }
        n = n.saturating_mul(e as u128);
    }
    Some(n)
}

/// Whether to make a call that would allocate `shape` of `bits`: small
/// requests, and those dpcore must refuse (negative or overflowing).
fn affordable(shape: &[i64], bits: u8) -> bool {
    match nbytes(shape, bits) {
        None => true,
        Some(n) => n <= ALLOC_CAP || n >= 1 << 63,
    }
}

const OPS: u8 = 45;

#[allow(clippy::cognitive_complexity)]
fn step(s: &mut State, inp: &mut In) {
    let op = inp.u8() % OPS;
    let mut out: usize = 0;
    let o = &mut out as *mut usize;
    // SAFETY (whole match): every call passes handles as values (dpcore
    // validates them), out-parameters that are live locals, and buffers of
    // the sizes given with them; USM pointers are the harness's live
    // allocations, host pointers its own buffer.
    unsafe {
        match op {
            0 => {
                let idx = if inp.bool() { inp.u8() as usize % 3 } else { inp.size() };
                if check(dpc_device_get(idx, o as _), "dpc_device_get") {
                    s.add(K_DEVICE, out);
                }
            }
            1 => {
                let f = filter(inp);
                if check(dpc_device_select(f.as_ptr(), o as _), "dpc_device_select") {
                    s.add(K_DEVICE, out);
                }
                if inp.bool() && check(dpc_device_default(o as _), "dpc_device_default") {
                    s.add(K_DEVICE, out);
                }
            }
            2 => {
                let f = filter(inp);
                if check(dpc_selector_create(f.as_ptr(), o as _), "dpc_selector_create") {
                    s.add(K_SELECTOR, out);
                }
                let sel = s.pick(inp, K_SELECTOR);
                if check(dpc_selector_select(h(sel), o as _), "dpc_selector_select") {
                    s.add(K_DEVICE, out);
                }
                let d = s.pick(inp, K_DEVICE);
                let mut m = false;
                check(dpc_selector_matches(h(sel), h(d), &mut m), "dpc_selector_matches");
                let mut buf = [0 as c_char; 64];
                let cap = inp.u8() as usize % 65;
                let mut n = 0usize;
                check(dpc_selector_get_string(h(sel), buf.as_mut_ptr(), cap, &mut n), "dpc_selector_get_string");
            }
            3 => {
                let d = s.pick(inp, K_DEVICE);
                let key = inp.u8() as i32 - 8 + if inp.bool() { 100 } else { 0 };
                let mut buf = [0 as c_char; 256];
                let cap = inp.u16() as usize % 257;
                let mut n = 0usize;
                let mut v = 0u64;
                let mut b = false;
                match inp.u8() % 10 {
                    0 => {
                        check(dpc_device_get_info_string(h(d), key, buf.as_mut_ptr(), cap, &mut n), "info_string");
                    }
                    1 => {
                        check(dpc_device_get_info_u64(h(d), key, &mut v), "info_u64");
                    }
                    2 => {
                        check(dpc_device_has_aspect(h(d), key - 90, &mut b), "has_aspect");
                    }
                    3 => {
                        let mut sizes = [0u64; 3];
                        check(dpc_device_get_max_work_item_sizes(h(d), sizes.as_mut_ptr()), "wi sizes");
                        let mut sg = [0u64; 32];
                        let cap = inp.u8() as usize % 33;
                        check(dpc_device_get_sub_group_sizes(h(d), sg.as_mut_ptr(), cap, &mut n), "sg sizes");
                    }
                    4 => {
                        let mut uuid = [0u8; 16];
                        check(dpc_device_get_uuid(h(d), uuid.as_mut_ptr()), "uuid");
                        let mut t = DPC_DEVICE_TYPE_UNKNOWN;
                        check(dpc_device_get_type(h(d), &mut t), "type");
                    }
                    5 => {
                        let mut id = 0i32;
                        check(dpc_device_get_dlpack_id(h(d), &mut id), "dlpack id");
                        let want = if inp.bool() { id } else { inp.u32() as i32 };
                        if check(dpc_device_from_dlpack_id(want, o as _), "from_dlpack_id") {
                            s.add(K_DEVICE, out);
                        }
                    }
                    6 => {
                        if check(dpc_device_get_parent(h(d), o as _), "parent") {
                            s.add(K_DEVICE, out);
                        }
                    }
                    7 => {
                        let e = s.pick(inp, K_DEVICE);
                        check(dpc_device_equal(h(d), h(e), &mut b), "equal");
                    }
                    8 => {
                        if check(dpc_device_get_platform(h(d), o as _), "get_platform") {
                            s.add(K_PLATFORM, out);
                        }
                        let p = s.pick(inp, K_PLATFORM);
                        check(dpc_platform_get_info_string(h(p), key, buf.as_mut_ptr(), cap, &mut n), "platform info");
                        check(dpc_platform_get_device_count(h(p), &mut n), "platform device count");
                        let mut be = dpcore::device::dpc_backend::DPC_BACKEND_UNKNOWN;
                        check(dpc_platform_get_backend(h(p), &mut be), "platform backend");
                    }
                    _ => {
                        let idx = inp.size() % 4;
                        if check(dpc_platform_get(idx, o as _), "platform_get") {
                            s.add(K_PLATFORM, out);
                        }
                        check(dpc_platform_count(&mut n), "platform_count");
                    }
                }
            }
            4 => {
                let d = s.pick(inp, K_DEVICE);
                let mut subs = [0usize; 64];
                let cap = inp.u8() as usize % 65;
                let mut n = 0usize;
                let st = match inp.u8() % 3 {
                    0 => {
                        let cu = inp.size();
                        dpc_device_partition_equally(h(d), cu, subs.as_mut_ptr() as _, cap, &mut n)
                    }
                    1 => {
                        let k = inp.u8() as usize % 9;
                        let counts: Vec<usize> = (0..k).map(|_| inp.size()).collect();
                        dpc_device_partition_by_counts(h(d), ptrs(&counts), counts.len(), subs.as_mut_ptr() as _, cap, &mut n)
                    }
                    _ => {
                        let dom = inp.u8() as i32 - 2;
                        dpc_device_partition_by_affinity(h(d), dom, subs.as_mut_ptr() as _, cap, &mut n)
                    }
                };
                if check(st, "partition") {
                    if trace() {
                        eprintln!("[trace] partition of {d:x} gave {:x?}", &subs[..n.min(cap)]);
                    }
                    for &sd in subs.iter().take(n.min(cap)) {
                        s.add(K_DEVICE, sd);
                    }
                }
            }
            5 => {
                let devs = s.pick_list(inp, K_DEVICE);
                if trace() {
                    eprintln!("[trace] context_create of {devs:x?}");
                }
                if check(dpc_context_create(ptrs(&devs) as _, devs.len(), o as _), "context_create") {
                    s.add(K_CONTEXT, out);
                }
            }
            6 => {
                let d = s.pick(inp, K_DEVICE);
                if check(dpc_context_default(h(d), o as _), "context_default") {
                    s.add(K_CONTEXT, out);
                }
            }
            7 => {
                let c = s.pick(inp, K_CONTEXT);
                let mut n = 0usize;
                let (mut a, mut b, mut p) = (0u64, 0u64, 0u64);
                let mut eq = false;
                match inp.u8() % 4 {
                    0 => {
                        check(dpc_context_get_device_count(h(c), &mut n), "ctx count");
                    }
                    1 => {
                        if check(dpc_context_get_device(h(c), inp.size() % 4, o as _), "ctx device") {
                            s.add(K_DEVICE, out);
                        }
                    }
                    2 => {
                        let d = s.pick(inp, K_CONTEXT);
                        check(dpc_context_equal(h(c), h(d), &mut eq), "ctx equal");
                    }
                    _ => {
                        check(dpc_context_get_usm_stats(h(c), &mut a, &mut b, &mut p), "ctx stats");
                    }
                }
            }
            8 => {
                let c = s.pick(inp, K_CONTEXT);
                let d = s.pick(inp, K_DEVICE);
                let flags = if inp.bool() { inp.u8() as u32 % 4 } else { inp.u32() };
                if check(dpc_queue_create(h(c), h(d), flags, o as _), "queue_create") {
                    s.add(K_QUEUE, out);
                }
            }
            9 => {
                let d = s.pick(inp, K_DEVICE);
                let flags = if inp.bool() { inp.u8() as u32 % 4 } else { inp.u32() };
                let st = match inp.u8() % 3 {
                    0 => dpc_queue_create_for_device(h(d), flags, o as _),
                    1 => {
                        let f = filter(inp);
                        dpc_queue_create_from_filter(f.as_ptr(), flags, o as _)
                    }
                    _ => dpc_queue_default(h(d), o as _),
                };
                if check(st, "queue create 2") {
                    s.add(K_QUEUE, out);
                }
            }
            10 => {
                let q = s.pick(inp, K_QUEUE);
                let mut b = false;
                let mut f = 0u32;
                let mut id = 0u64;
                match inp.u8() % 6 {
                    0 => {
                        check(dpc_queue_wait(h(q)), "queue_wait");
                    }
                    1 => {
                        let ev = s.events(inp);
                        let want = inp.bool();
                        let eo = if want { o as *mut dpc_event } else { std::ptr::null_mut() };
                        if check(dpc_queue_barrier(h(q), ptrs(&ev) as _, ev.len(), eo), "barrier") && want {
                            s.add(K_EVENT, out);
                        }
                    }
                    2 => {
                        if check(dpc_queue_get_device(h(q), o as _), "q device") {
                            s.add(K_DEVICE, out);
                        }
                    }
                    3 => {
                        if check(dpc_queue_get_context(h(q), o as _), "q ctx") {
                            s.add(K_CONTEXT, out);
                        }
                    }
                    4 => {
                        check(dpc_queue_get_flags(h(q), &mut f), "q flags");
                        check(dpc_queue_get_id(h(q), &mut id), "q id");
                    }
                    _ => {
                        let r = s.pick(inp, K_QUEUE);
                        check(dpc_queue_equivalent(h(q), h(r), &mut b), "q equiv");
                    }
                }
            }
            11 | 12 => {
                let kind = 1 + inp.u8() as usize % 9;
                let v = s.pick(inp, kind);
                if op == 11 {
                    if check(s.retain_one(kind, v), "retain") {
                        if let Some(r) = s.tabs[kind].owned(v) {
                            *r += 1;
                        }
                    }
                } else if check(s.release_one(kind, v), "release") {
                    if let Some(r) = s.tabs[kind].owned(v) {
                        *r = r.saturating_sub(1);
                    }
                }
            }
            13 => {
                let q = queue_or_null(s, inp);
                let kind = if inp.bool() { inp.u8() as i32 % 4 } else { inp.u32() as i32 };
                let size = match inp.u8() % 4 {
                    0 => inp.size(),
                    _ => inp.u16() as usize % 8192,
                };
                let align = match inp.u8() % 4 {
                    0 => 0,
                    1 => 1 << (inp.u8() % 16),
                    2 => inp.size(),
                    _ => 64,
                };
                if size as u128 > ALLOC_CAP && size < 1 << 62 {
                    return;
                }
                let mut p: *mut c_void = std::ptr::null_mut();
                if check(dpc_usm_alloc(h(q), kind, size, align, &mut p), "usm_alloc") {
                    assert!(!p.is_null() || size == 0);
                    if !p.is_null() {
                        s.usm.push(Usm { p: p as usize, size, kind, live: true, lent: Vec::new(), pinned: false });
                    }
                }
            }
            14 | 15 => {
                // Free: a live allocation (not while lent), a freed one again,
                // an interior pointer, or a made-up one.
                let p = if s.usm.is_empty() || inp.u8() % 6 == 0 {
                    match inp.u8() % 3 {
                        0 => 0,
                        1 => s.host.as_ptr() as usize,
                        _ => inp.u64() as usize,
                    }
                } else {
                    let i = inp.u8() as usize % s.usm.len();
                    s.usm[i].p + if inp.u8() % 5 == 0 { 1 + inp.u8() as usize } else { 0 }
                };
                // Memory of arrays: the data pointer of an array dpcore allocated.
                let p = if inp.u8() % 7 == 0 {
                    let a = s.pick(inp, K_ARRAY);
                    let mut d: *mut c_void = std::ptr::null_mut();
                    if check(dpc_array_get_data(h(a), &mut d), "get_data") { d as usize } else { p }
                } else {
                    p
                };
                s.quiesce();
                // Memory an array of this input still views is not the
                // caller's to free.
                if let Some(u) = s.usm.iter().find(|u| u.live && u.p == p) {
                    let l = LENT.lock().unwrap();
                    if u.pinned || u.lent.iter().any(|&slot| l[slot] == 0) {
                        return;
                    }
                }
                let st = if op == 14 {
                    dpc_usm_free(p as *mut c_void)
                } else {
                    let ev = s.events(inp);
                    dpc_usm_free_after(p as *mut c_void, ptrs(&ev) as _, ev.len())
                };
                if check(st, "usm free") && p != 0 {
                    let u = s.usm.iter_mut().find(|u| u.p == p && u.live);
                    match u {
                        Some(u) => u.live = false,
                        None => panic!("dpc_usm_free accepted {p:#x}, which is not a live allocation of this input"),
                    }
                }
            }
            16 => {
                let q = s.pick(inp, K_QUEUE);
                let n = inp.size();
                let n = if inp.bool() { n % 4096 } else { n };
                let dst = s.copy_ptr(inp, n);
                let src = s.copy_ptr(inp, n);
                let ev = s.events(inp);
                let want = inp.bool();
                let eo = if want { o as *mut dpc_event } else { std::ptr::null_mut() };
                // A host side must hold n bytes: when it cannot, skip (the
                // caller's contract, not dpcore's).
                let host = s.host.as_ptr() as usize..s.host.as_ptr() as usize + HOST_LEN;
                for p in [dst, src] {
                    if host.contains(&p) && p.checked_add(n).map_or(true, |e| e > host.end) {
                        return;
                    }
                }
                if check(dpc_usm_memcpy(h(q), dst as _, src as _, n, ptrs(&ev) as _, ev.len(), eo), "memcpy") && want {
                    s.add(K_EVENT, out);
                }
            }
            17..=19 => {
                let q = s.pick(inp, K_QUEUE);
                let Some((p, room)) = s.usm_ptr(inp) else { return };
                let n = s.usm_len(inp, room);
                let ev = s.events(inp);
                let want = inp.bool();
                let eo = if want { o as *mut dpc_event } else { std::ptr::null_mut() };
                let st = match op {
                    17 => dpc_usm_memset(h(q), p as _, inp.u8(), n, ptrs(&ev) as _, ev.len(), eo),
                    18 => {
                        let ps = if inp.bool() { 1 << (inp.u8() % 5) } else { inp.size() };
                        let pat = [0xA5u8; 16];
                        let count = if inp.bool() && ps > 0 && ps <= 16 { n / ps } else { inp.size() };
                        dpc_usm_fill(h(q), p as _, pat.as_ptr() as _, ps, count, ptrs(&ev) as _, ev.len(), eo)
                    }
                    _ => {
                        if inp.bool() {
                            dpc_usm_prefetch(h(q), p as _, n, ptrs(&ev) as _, ev.len(), eo)
                        } else {
                            dpc_usm_mem_advise(h(q), p as _, n, inp.u32() as i32 % 8, ptrs(&ev) as _, ev.len(), eo)
                        }
                    }
                };
                if check(st, "memset/fill/prefetch") && want {
                    s.add(K_EVENT, out);
                }
            }
            20 => {
                let c = s.pick(inp, K_CONTEXT);
                let p = match s.usm_ptr(inp) {
                    Some((p, _)) if inp.bool() => p,
                    _ => match inp.u8() % 3 {
                        0 => 0,
                        1 => s.host.as_ptr() as usize,
                        _ => inp.u64() as usize,
                    },
                };
                let mut k = DPC_USM_UNKNOWN;
                let mut base: *mut c_void = std::ptr::null_mut();
                let mut size = 0usize;
                match inp.u8() % 4 {
                    0 => {
                        check(dpc_usm_get_pointer_kind(h(c), p as _, &mut k), "ptr kind");
                    }
                    1 => {
                        if check(dpc_usm_get_pointer_context(p as _, o as _), "ptr ctx") {
                            s.add(K_CONTEXT, out);
                        }
                    }
                    2 => {
                        if check(dpc_usm_get_pointer_device(h(c), p as _, o as _), "ptr dev") {
                            s.add(K_DEVICE, out);
                        }
                    }
                    _ => {
                        check(dpc_usm_get_pointer_range(h(c), p as _, &mut base, &mut size), "ptr range");
                    }
                }
            }
            21 => {
                let e = s.pick(inp, K_EVENT);
                let mut est = DPC_EVENT_SUBMITTED;
                let (mut a, mut b, mut c) = (0u64, 0u64, 0u64);
                match inp.u8() % 4 {
                    0 => {
                        check(dpc_event_wait(h(e)), "event_wait");
                    }
                    1 => {
                        let ev = s.pick_list(inp, K_EVENT);
                        check(dpc_event_wait_all(ptrs(&ev) as _, ev.len()), "event_wait_all");
                    }
                    2 => {
                        check(dpc_event_get_status(h(e), &mut est), "event status");
                    }
                    _ => {
                        check(dpc_event_get_profiling(h(e), &mut a, &mut b, &mut c), "event profiling");
                    }
                }
            }
            22 => {
                let q = queue_or_null(s, inp);
                let dt = inp.dtype();
                let ndim = ndim(inp);
                let mut shape = [0i64; 64];
                for e in shape.iter_mut().take(ndim.clamp(0, 64) as usize) {
                    *e = inp.i64v();
                }
                let kind = if inp.bool() { inp.u8() as i32 % 4 } else { inp.u32() as i32 };
                let used = &shape[..ndim.clamp(0, 64) as usize];
                if !affordable(used, dt.bits) {
                    return;
                }
                let st = match inp.u8() % 4 {
                    0 => dpc_array_empty(h(q), dt, ndim, shape.as_ptr(), kind, o as _),
                    1 => dpc_array_zeros(h(q), dt, ndim, shape.as_ptr(), kind, o as _),
                    2 => {
                        let v = [0x3Fu8; 64];
                        dpc_array_full(h(q), dt, ndim, shape.as_ptr(), kind, v.as_ptr() as _, o as _)
                    }
                    _ => {
                        if nbytes(used, dt.bits).is_some_and(|n| n > HOST_LEN as u128 && n < 1 << 63) {
                            return;
                        }
                        dpc_array_from_host(h(q), dt, ndim, shape.as_ptr(), s.host.as_ptr() as _, std::ptr::null(), kind, o as _)
                    }
                };
                if check(st, "array create") {
                    s.add(K_ARRAY, out);
                }
            }
            23 => {
                let q = s.pick(inp, K_QUEUE);
                let dt = inp.dtype();
                let ndim = ndim(inp);
                let mut shape = [0i64; 64];
                let mut strides = [0i64; 64];
                for i in 0..ndim.clamp(0, 64) as usize {
                    shape[i] = inp.i64v();
                    strides[i] = inp.i64v();
                }
                let st_ptr = if inp.bool() { std::ptr::null() } else { strides.as_ptr() };
                let (data, ukind) = match s.usm_ptr(inp) {
                    Some((p, _)) if inp.u8() % 8 != 0 => (p, s.usm.iter().find(|u| u.p <= p && p < u.p + u.size).map(|u| u.kind).unwrap_or(0)),
                    _ => (inp.u64() as usize, -1),
                };
                let mut flags = inp.u8() as u32 & 1;
                if ukind >= 1 && inp.bool() {
                    flags |= (ukind as u32) << 8; // vouch truthfully
                } else if inp.u8() % 16 == 0 {
                    flags |= (inp.u8() as u32) << 9 | 1 << 12; // unknown flag bits
                }
                let lend = inp.bool();
                let slot = if lend {
                    let mut l = LENT.lock().unwrap();
                    l.push(0);
                    l.len() - 1
                } else {
                    0
                };
                let (rel, ctx): (dpc_release_fn, *mut c_void) = if lend {
                    (Some(lent_release), slot as *mut c_void)
                } else {
                    (None, std::ptr::null_mut())
                };
                if lend {
                    if let Some(u) = s.usm.iter_mut().find(|u| u.live && u.p <= data && data < u.p + u.size) {
                        u.lent.push(slot);
                    }
                }
                let st = dpc_array_from_usm(h(q), dt, ndim, shape.as_ptr(), st_ptr, data as _, flags, rel, ctx, o as _);
                if check(st, "from_usm") {
                    s.add(K_ARRAY, out);
                    if !lend {
                        // The memory must outlive the array: keep it allocated until the end.
                        if let Some(u) = s.usm.iter_mut().find(|u| u.live && u.p <= data && data < u.p + u.size) {
                            u.pinned = true;
                        }
                    }
                }
            }
            24..=27 => {
                let a = s.pick(inp, K_ARRAY);
                let taint = s.tainted.contains(&a);
                let st = match op {
                    24 => {
                        let mut st3 = [[0i64; 64]; 3];
                        let n = inp.u8() as usize % 65;
                        for v in st3.iter_mut() {
                            for x in v.iter_mut().take(n) {
                                *x = if inp.u8() % 4 == 0 { DPC_SLICE_NONE } else { inp.i64v() };
                            }
                        }
                        let steps = if inp.u8() % 4 == 0 { std::ptr::null() } else { st3[2].as_ptr() };
                        dpc_array_slice(h(a), st3[0].as_ptr(), st3[1].as_ptr(), steps, o as _)
                    }
                    25 => {
                        let mut axes = [0i32; 64];
                        let n = inp.u8() as usize % 65;
                        for (i, x) in axes.iter_mut().enumerate().take(n) {
                            *x = if inp.bool() { (n - 1 - i) as i32 } else { inp.u8() as i32 - 4 };
                        }
                        dpc_array_permute(h(a), axes.as_ptr(), o as _)
                    }
                    26 => {
                        let nd = ndim(inp);
                        let mut shape = [0i64; 64];
                        for x in shape.iter_mut().take(nd.clamp(0, 64) as usize) {
                            *x = inp.i64v();
                        }
                        dpc_array_reshape(h(a), nd, shape.as_ptr(), o as _)
                    }
                    _ => {
                        if inp.bool() {
                            dpc_array_as_read_only(h(a), o as _)
                        } else {
                            if taint {
                                return;
                            }
                            let q = queue_or_null(s, inp);
                            let kind = inp.u8() as i32 % 5 - 1;
                            dpc_array_to_device(h(a), h(q), kind, o as _)
                        }
                    }
                };
                if check(st, "view") {
                    s.add(K_ARRAY, out);
                    if taint {
                        s.tainted.push(out);
                    }
                }
            }
            28 => {
                let a = s.pick_data_array(inp);
                let b = s.pick_data_array(inp);
                check(dpc_array_copy(h(a), h(b)), "array_copy");
            }
            29 => {
                let a = s.pick_data_array(inp);
                let dt = inp.dtype();
                if check(dpc_array_astype(h(a), dt, o as _), "astype") {
                    s.add(K_ARRAY, out);
                }
            }
            30 => {
                let a = s.pick(inp, K_ARRAY);
                let mut nd = 0i32;
                let mut buf = [0i64; 64];
                let mut n = 0usize;
                let mut dt = dpc_dlpack_dtype { code: 0, bits: 0, lanes: 0 };
                let mut data: *mut c_void = std::ptr::null_mut();
                let mut lay: dpc_array_layout = std::mem::zeroed();
                let mut f = 0u32;
                let mut k = 0i32;
                match inp.u8() % 7 {
                    0 => {
                        check(dpc_array_get_ndim(h(a), &mut nd), "ndim");
                        if (0..=64).contains(&nd) {
                            check(dpc_array_get_shape(h(a), buf.as_mut_ptr()), "shape");
                            check(dpc_array_get_strides(h(a), buf.as_mut_ptr()), "strides");
                        }
                    }
                    1 => {
                        let cap = inp.u8() as usize % 65;
                        check(dpc_array_copy_shape(h(a), buf.as_mut_ptr(), cap, &mut n), "copy_shape");
                        check(dpc_array_copy_strides(h(a), buf.as_mut_ptr(), cap, &mut n), "copy_strides");
                    }
                    2 => {
                        check(dpc_array_get_dtype(h(a), &mut dt), "dtype");
                        check(dpc_array_get_data(h(a), &mut data), "data");
                    }
                    3 => {
                        check(dpc_array_get_layout(h(a), &mut lay), "layout");
                        check(dpc_array_get_flags(h(a), &mut f), "flags");
                        check(dpc_array_get_usm_kind(h(a), &mut k), "usm kind");
                    }
                    4 => {
                        if check(dpc_array_get_queue(h(a), o as _), "array queue") {
                            s.add(K_QUEUE, out);
                        }
                    }
                    5 => {
                        let l = s.pick_list(inp, K_ARRAY);
                        if check(dpc_array_common_queue(ptrs(&l) as _, l.len(), o as _), "common queue") {
                            s.add(K_QUEUE, out);
                        }
                    }
                    _ => {
                        let ev = s.events(inp);
                        if check(dpc_array_release_after(h(a), ptrs(&ev) as _, ev.len()), "release_after") {
                            if let Some(r) = s.tabs[K_ARRAY].owned(a) {
                                *r = r.saturating_sub(1);
                            }
                        }
                    }
                }
            }
            31 => {
                let a = s.pick_data_array(inp);
                let cap = inp.u16() as usize;
                let mut n = 0usize;
                let hp = s.host.as_mut_ptr();
                check(dpc_array_copy_to_host(h(a), hp as _, cap, std::ptr::null(), &mut n), "copy_to_host");
            }
            32 => {
                let a = s.pick(inp, K_ARRAY);
                let taint = s.tainted.contains(&a);
                let mut t: *mut c_void = std::ptr::null_mut();
                if inp.bool() {
                    let (ma, mi) = (inp.u8() as u32 % 3, inp.u8() as u32 % 3);
                    if check(dpc_array_to_dlpack_versioned(h(a), ma, mi, &mut t as *mut _ as _), "to_dlpack_v") {
                        let tv = std::ptr::read(t as *const dpc_dlpack_managed_tensor_versioned);
                        s.exports.push((t as usize, Orig::V(tv)));
                    }
                } else if check(dpc_array_to_dlpack(h(a), &mut t as *mut _ as _), "to_dlpack") {
                    let tl = std::ptr::read(t as *const dpc_dlpack_managed_tensor);
                    if trace() {
                        eprintln!("[trace] legacy export {t:p} of {a:#x}: ndim {} shape {:p}", tl.dl_tensor.ndim, tl.dl_tensor.shape);
                    }
                    s.exports.push((t as usize, Orig::L(tl)));
                }
                if taint && !t.is_null() {
                    s.tainted.push(t as usize | 1 << 63);
                }
            }
            33 => import(s, inp),
            34 => {
                // Arbitrary bytes as SPIR-V.
                let c = s.pick(inp, K_CONTEXT);
                let d = s.pick(inp, K_DEVICE);
                let b = inp.blob();
                let mut aligned: Vec<u32> = vec![0; b.len().div_ceil(4)];
                std::ptr::copy_nonoverlapping(b.as_ptr(), aligned.as_mut_ptr() as *mut u8, b.len());
                if inp.bool() && b.len() >= 4 {
                    aligned[0] = 0x0723_0203;
                }
                let opts = options(inp);
                if check(dpc_bundle_create_from_spirv(h(c), h(d), aligned.as_ptr() as _, b.len(), opts.as_ptr(), o as _), "spirv") {
                    s.add(K_BUNDLE, out);
                }
            }
            35 => {
                // A mutated copy of one of the repository's kernels.
                let c = s.pick(inp, K_CONTEXT);
                let d = s.pick(inp, K_DEVICE);
                let mut m = s.spv[inp.u8() as usize % s.spv.len()].clone();
                let k = 1 + inp.u8() % 8;
                for _ in 0..k {
                    let words = m.len() / 4;
                    match inp.u8() % 6 {
                        0 => {
                            let i = inp.u16() as usize % words;
                            m[i * 4..i * 4 + 4].copy_from_slice(&inp.u32().to_le_bytes());
                        }
                        1 => {
                            let i = inp.u16() as usize % m.len();
                            m[i] ^= 1 << (inp.u8() % 8);
                        }
                        2 => {
                            let i = inp.u16() as usize % words;
                            // Change an opcode's word count.
                            m[i * 4 + 2] = inp.u8();
                            m[i * 4 + 3] = inp.u8() % 4;
                        }
                        3 => {
                            let n = 4 * (inp.u8() as usize % 8);
                            let at = 4 * (inp.u16() as usize % words);
                            m.truncate(m.len().saturating_sub(n).max(at));
                        }
                        4 => {
                            let i = 4 * (inp.u16() as usize % words);
                            let w = inp.u16() as u32;
                            m[i..i + 4].copy_from_slice(&((w % 40 + 1) << 16 | (inp.u8() as u32 % 80)).to_le_bytes());
                        }
                        _ => {
                            let i = inp.u16() as usize % words;
                            let v = inp.u8() as u32;
                            m[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
                        }
                    }
                    if m.len() < 24 {
                        break;
                    }
                }
                let opts = options(inp);
                if let Some(dir) = std::env::var_os("FUZZ_DUMP_SPIRV") {
                    let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
                    let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{n}.spv")), &m);
                }
                if check(dpc_bundle_create_from_spirv(h(c), h(d), m.as_ptr() as _, m.len(), opts.as_ptr(), o as _), "spirv mutated") {
                    s.add(K_BUNDLE, out);
                }
            }
            36 => {
                // Arbitrary text as OpenCL C.
                let c = s.pick(inp, K_CONTEXT);
                let d = s.pick(inp, K_DEVICE);
                let b = inp.blob();
                let src = CString::new(b.iter().map(|&c| c.max(1)).collect::<Vec<u8>>()).unwrap();
                let opts = options(inp);
                if check(dpc_bundle_create_from_opencl_c(h(c), h(d), src.as_ptr(), opts.as_ptr(), o as _), "opencl c") {
                    s.add(K_BUNDLE, out);
                }
            }
            37 => {
                // One of the repository's kernels, as it is: its kernels may be launched.
                let c = s.pick(inp, K_CONTEXT);
                let d = s.pick(inp, K_DEVICE);
                let i = inp.u8() as usize % s.spv.len();
                let st = dpc_bundle_create_from_spirv(h(c), h(d), s.spv[i].as_ptr() as _, s.spv[i].len(), std::ptr::null(), o as _);
                if check(st, "trusted bundle") {
                    s.add(K_BUNDLE, out);
                    let b = out;
                    let mut n = 0usize;
                    if check(dpc_bundle_get_kernel_count(h(b), &mut n), "kernel count") {
                        for k in 0..n {
                            let mut name = [0 as c_char; 128];
                            let mut len = 0usize;
                            if check(dpc_bundle_get_kernel_name(h(b), k, name.as_mut_ptr(), 128, &mut len), "kernel name")
                                && check(dpc_bundle_get_kernel(h(b), name.as_ptr(), o as _), "get_kernel")
                            {
                                s.add(K_KERNEL, out);
                                s.trusted_kernels.push(out);
                            }
                        }
                    }
                }
            }
            38 => {
                let b = s.pick(inp, K_BUNDLE);
                let mut n = 0usize;
                let mut has = false;
                let mut name = [0 as c_char; 128];
                let cap = inp.u8() as usize % 129;
                match inp.u8() % 3 {
                    0 => {
                        check(dpc_bundle_get_kernel_count(h(b), &mut n), "kernel count");
                        check(dpc_bundle_get_kernel_name(h(b), inp.size() % 8, name.as_mut_ptr(), cap, &mut n), "kernel name");
                    }
                    1 => {
                        let nm = kernel_name(inp);
                        check(dpc_bundle_has_kernel(h(b), nm.as_ptr(), &mut has), "has_kernel");
                    }
                    _ => {
                        let nm = kernel_name(inp);
                        if check(dpc_bundle_get_kernel(h(b), nm.as_ptr(), o as _), "get_kernel") {
                            s.add(K_KERNEL, out);
                        }
                    }
                }
            }
            39 => {
                let k = s.pick(inp, K_KERNEL);
                let mut name = [0 as c_char; 128];
                let cap = inp.u8() as usize % 129;
                let mut n = 0usize;
                let mut v = 0u64;
                check(dpc_kernel_get_name(h(k), name.as_mut_ptr(), cap, &mut n), "kernel name");
                check(dpc_kernel_get_info_u64(h(k), inp.u8() as i32 - 2, &mut v), "kernel info");
            }
            40 => launch(s, inp),
            41 => {
                check(dpc_usm_wait_deferred_frees(), "wait deferred");
            }
            42 => {
                let mut buf = vec![0 as c_char; 1 << 14];
                let cap = inp.u16() as usize % (1 << 14);
                let mut n = 0usize;
                match inp.u8() % 4 {
                    0 => {
                        dpc_last_error_message(buf.as_mut_ptr(), cap, &mut n);
                    }
                    1 => {
                        dpc_last_error_build_log(buf.as_mut_ptr(), cap, &mut n);
                    }
                    2 => {
                        check(dpc_diagnostics(buf.as_mut_ptr(), cap, &mut n), "diagnostics");
                    }
                    _ => {
                        check(dpc_census_report(buf.as_mut_ptr(), cap, &mut n), "census report");
                    }
                }
            }
            43 => {
                // Launch buffers: big enough for the real kernels' index range.
                let q = s.pick(inp, K_QUEUE);
                let kind = 1 + inp.u8() as i32 % 3;
                let mut p: *mut c_void = std::ptr::null_mut();
                if check(dpc_usm_alloc(h(q), kind, LAUNCH_BYTES, 64, &mut p), "launch buffer") {
                    s.usm.push(Usm { p: p as usize, size: LAUNCH_BYTES, kind, live: true, lent: Vec::new(), pinned: true });
                    s.launch_bufs.push(p as usize);
                    // And an array over it, for array arguments.
                    let dt = inp.dtype();
                    let bits = (dt.bits as i64).max(8);
                    let shape = [(LAUNCH_BYTES as i64 * 8 / bits / dt.lanes.max(1) as i64).min(1 << 13)];
                    if check(dpc_array_from_usm(h(q), dt, 1, shape.as_ptr(), std::ptr::null(), p, 1, None, std::ptr::null_mut(), o as _), "launch array") {
                        s.add(K_ARRAY, out);
                        s.launch_arrays.push(out);
                    }
                }
            }
            _ => {
                let mut d: *mut c_void = std::ptr::null_mut();
                let what = inp.u8() % 5;
                match what {
                    0 => {
                        check(dpc_device_get_native(h(s.pick(inp, K_DEVICE)), &mut d), "native");
                    }
                    1 => {
                        check(dpc_context_get_native(h(s.pick(inp, K_CONTEXT)), &mut d), "native");
                    }
                    2 => {
                        check(dpc_queue_get_native(h(s.pick(inp, K_QUEUE)), &mut d), "native");
                    }
                    3 => {
                        check(dpc_event_get_native(h(s.pick(inp, K_EVENT)), &mut d), "native");
                    }
                    _ => {
                        check(dpc_kernel_get_native(h(s.pick(inp, K_KERNEL)), &mut d), "native");
                    }
                }
            }
        }
    }
}

fn ndim(inp: &mut In) -> i32 {
    match inp.u8() % 8 {
        0 => 0,
        1..=5 => 1 + inp.u8() as i32 % 4,
        6 => inp.u8() as i32 % 70,
        _ => inp.u32() as i32,
    }
}

fn filter(inp: &mut In) -> CString {
    const F: [&str; 16] = [
        "", "opencl:cpu:0", "opencl", "cpu", "gpu", "level_zero:gpu:0", "opencl:cpu", ":", "::", "opencl:cpu:1",
        "*", "opencl:*:0", "opencl:cpu:-1", "opencl:cpu:99999999999999999999", "cuda:gpu:0", "ext_oneapi_level_zero",
    ];
    let s = inp.u8();
    if s < 160 {
        let mut b = F[s as usize % F.len()].as_bytes().to_vec();
        if inp.u8() % 4 == 0 {
            let extra = inp.cstring();
            b.extend_from_slice(extra.as_bytes());
        }
        CString::new(b).unwrap()
    } else {
        inp.cstring()
    }
}

fn options(inp: &mut In) -> CString {
    const O: [&str; 6] = ["", "-cl-fast-relaxed-math", "-O0", "-cl-opt-disable", "-cl-std=CL2.0", "-g"];
    let s = inp.u8();
    if s < 240 {
        CString::new(O[s as usize % O.len()]).unwrap()
    } else {
        inp.cstring()
    }
}

fn kernel_name(inp: &mut In) -> CString {
    const N: [&str; 8] = ["vadd_f32", "saxpy", "scalars", "ids_2d", "reduce_sum_f32", "sum64", "noop", "nope"];
    let s = inp.u8();
    if s < 200 {
        CString::new(N[s as usize % N.len()]).unwrap()
    } else {
        inp.cstring()
    }
}

/// Import an export with corrupted fields.
unsafe fn import(s: &mut State, inp: &mut In) {
    if s.exports.is_empty() {
        return;
    }
    let i = inp.u8() as usize % s.exports.len();
    let (addr, orig) = s.exports.swap_remove(i);
    let tainted_src = s.tainted.contains(&(addr | 1 << 63));
    let mut t = match orig.clone() {
        Orig::V(t) => t.dl_tensor,
        Orig::L(t) => t.dl_tensor,
    };
    let mut layout_changed = false;
    let n = inp.u8() % 6;
    for _ in 0..n {
        match inp.u8() % 10 {
            0 => {
                t.ndim = ndim(inp);
                let mut b = Box::new([0i64; 64]);
                for x in b.iter_mut() {
                    *x = inp.i64v();
                }
                t.shape = b.as_mut_ptr();
                s.keep.push(b);
                // The producer's strides hold the old ndim values: a
                // struct that says more is the producer's lie, which
                // dpcore cannot see. Give strides of the new ndim.
                if !t.strides.is_null() {
                    let mut st = Box::new([1i64; 64]);
                    for x in st.iter_mut() {
                        *x = inp.i64v();
                    }
                    t.strides = st.as_mut_ptr();
                    s.keep.push(st);
                }
                layout_changed = true;
            }
            1 => {
                let mut b = Box::new([0i64; 64]);
                let nd = t.ndim.clamp(0, 64) as usize;
                if !t.shape.is_null() && t.ndim >= 0 && t.ndim <= 64 {
                    for j in 0..nd {
                        b[j] = *t.shape.add(j);
                    }
                }
                for x in b.iter_mut().take(nd) {
                    if inp.bool() {
                        *x = inp.i64v();
                    }
                }
                t.shape = if inp.u8() % 8 == 0 { std::ptr::null_mut() } else { b.as_mut_ptr() };
                s.keep.push(b);
                layout_changed = true;
            }
            2 => {
                if inp.bool() {
                    t.strides = std::ptr::null_mut();
                } else {
                    let mut b = Box::new([0i64; 64]);
                    for x in b.iter_mut() {
                        *x = inp.i64v();
                    }
                    t.strides = b.as_mut_ptr();
                    s.keep.push(b);
                }
                layout_changed = true;
            }
            3 => {
                t.dtype = inp.dtype();
                layout_changed = true;
            }
            4 => {
                t.device.device_type = match inp.u8() % 4 {
                    0 => DPC_DL_CPU as i32,
                    1 => DPC_DL_ONEAPI as i32,
                    2 => DPC_DL_CUDA as i32,
                    _ => inp.u32() as i32,
                };
            }
            5 => {
                t.device.device_id = if inp.bool() { inp.u8() as i32 % 3 } else { inp.u32() as i32 };
            }
            6 => {
                t.byte_offset = if inp.bool() { inp.u8() as u64 } else { inp.size() as u64 };
                layout_changed = true;
            }
            7 => {
                t.data = match s.usm_ptr(inp) {
                    Some((p, _)) if inp.bool() => p as _,
                    _ => inp.u64() as _,
                };
                layout_changed = true;
            }
            _ => {
                t.data = std::ptr::null_mut();
            }
        }
    }
    if trace() {
        eprintln!(
            "[trace] import {addr:#x}: ndim {} shape {:p} strides {:p} dtype {}/{}/{} device {}/{} offset {} data {:p}",
            t.ndim, t.shape, t.strides, t.dtype.code, t.dtype.bits, t.dtype.lanes,
            t.device.device_type, t.device.device_id, t.byte_offset, t.data
        );
    }
    let null_deleter = inp.u8() % 8 == 0;
    let st;
    let mut out: usize = 0;
    {
        let mut w = WRAPPED.lock().unwrap();
        w.get_or_insert_with(HashMap::new);
        if !null_deleter {
            w.as_mut().unwrap().insert(addr, Wrapped { orig: orig.clone(), calls: 0 });
        }
    }
    match orig.clone() {
        Orig::V(o) => {
            let p = addr as *mut dpc_dlpack_managed_tensor_versioned;
            (*p).dl_tensor = t;
            if inp.u8() % 4 == 0 {
                (*p).version.major = inp.u8() as u32 % 4;
                (*p).version.minor = inp.u8() as u32;
            }
            if inp.u8() % 4 == 0 {
                (*p).flags = inp.u64();
            }
            (*p).deleter = if null_deleter { None } else { Some(counting_deleter_v) };
            let _ = o;
            st = dpc_array_from_dlpack_versioned(p, &mut out as *mut usize as _);
        }
        Orig::L(_) => {
            let p = addr as *mut dpc_dlpack_managed_tensor;
            (*p).dl_tensor = t;
            (*p).deleter = if null_deleter { None } else { Some(counting_deleter_l) };
            st = dpc_array_from_dlpack(p, &mut out as *mut usize as _);
        }
    }
    if null_deleter {
        s.orphans.push((addr, orig));
    } else {
        s.wrapped.push(addr);
    }
    if check(st, "from_dlpack") {
        s.add(K_ARRAY, out);
        let host = t.device.device_type == DPC_DL_CPU as i32;
        if tainted_src || (host && layout_changed) {
            s.tainted.push(out);
        }
    }
}

/// Launch a kernel with an arbitrary argument list. Only the repository's
/// own kernels run with pointer arguments (their index range stays within
/// the launch buffers: at most 4096 work items, scalars below 16).
unsafe fn launch(s: &mut State, inp: &mut In) {
    let trusted = !s.trusted_kernels.is_empty() && inp.u8() % 8 != 0;
    let k = if trusted {
        s.trusted_kernels[inp.u8() as usize % s.trusted_kernels.len()]
    } else {
        s.pick(inp, K_KERNEL)
    };
    let q = queue_or_null(s, inp);
    let dims = match inp.u8() % 8 {
        0 => 0,
        7 => inp.u32(),
        d => 1 + d as u32 % 3,
    };
    let mut global = [0usize; 4];
    let mut local = [0usize; 4];
    let mut items = 1usize;
    for i in 0..4 {
        global[i] = 1 + inp.u8() as usize % 16;
        if i < dims as usize {
            items *= global[i];
        }
        local[i] = match inp.u8() % 4 {
            0 => 1,
            1 => global[i],
            2 => inp.size(),
            _ => 1 + inp.u8() as usize % 16,
        };
    }
    if items > 4096 {
        return;
    }
    let local_ptr = if inp.bool() { std::ptr::null() } else { local.as_ptr() };
    let mut scalars = [[0u8; 256]; 8];
    let n_args = match inp.u8() % 8 {
        0 => inp.u8() as usize % 80,
        _ => inp.u8() as usize % 9,
    };
    let mut args = Vec::with_capacity(n_args);
    for i in 0..n_args {
        let kind = match inp.u8() % 8 {
            0..=2 => DPC_ARG_POINTER as i32,
            3 | 4 => DPC_ARG_SCALAR as i32,
            5 => DPC_ARG_LOCAL as i32,
            6 => DPC_ARG_ARRAY as i32,
            _ => inp.u8() as i32 - 8,
        };
        let size = match inp.u8() % 4 {
            0 => 4,
            1 => 8,
            2 => inp.u16() as usize % 300,
            _ => inp.size(),
        };
        let value: *const c_void = if kind == DPC_ARG_POINTER as i32 {
            if !trusted || s.launch_bufs.is_empty() {
                // Only kernels of unknown code get here, and no buffer is
                // safe for them: NULL (not dereferenced by a refusal).
                if trusted {
                    return;
                }
                std::ptr::null()
            } else {
                s.launch_bufs[inp.u8() as usize % s.launch_bufs.len()] as _
            }
        } else if kind == DPC_ARG_ARRAY as i32 {
            let a = if !s.launch_arrays.is_empty() && inp.u8() % 4 != 0 {
                s.launch_arrays[inp.u8() as usize % s.launch_arrays.len()]
            } else {
                // A stale or made-up handle: dpcore must refuse it; a live
                // array of another size must not reach a kernel.
                let a = s.pick(inp, K_ARRAY);
                if s.tabs[K_ARRAY].v.iter().any(|e| e.0 == a && e.1 > 0) {
                    return;
                }
                a
            };
            a as _
        } else if kind == DPC_ARG_SCALAR as i32 {
            let sc = &mut scalars[i % 8];
            sc[0] = inp.u8() % 16;
            if inp.u8() % 16 == 0 {
                std::ptr::null()
            } else {
                sc.as_ptr() as _
            }
        } else {
            std::ptr::null()
        };
        args.push(dpc_kernel_arg { kind, size, value });
    }
    if !trusted && args.iter().any(|a| a.kind == DPC_ARG_POINTER as i32 || a.kind == DPC_ARG_ARRAY as i32) {
        // Kernels built from fuzz input may do anything with memory.
        return;
    }
    let ev = s.events(inp);
    let want = inp.bool();
    let mut out = 0usize;
    let eo = if want { &mut out as *mut usize as *mut dpc_event } else { std::ptr::null_mut() };
    let st = dpc_kernel_launch(
        h(q),
        h(k),
        dims,
        global.as_ptr(),
        local_ptr,
        if args.is_empty() { std::ptr::null() } else { args.as_ptr() },
        args.len(),
        ptrs(&ev) as _,
        ev.len(),
        eo,
    );
    if check(st, "kernel_launch") && want {
        s.add(K_EVENT, out);
    }
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let s = g.get_or_insert_with(|| {
        if std::env::var_os("DPCORE_SYCL_PLUGIN").is_none() {
            panic!("DPCORE_SYCL_PLUGIN is not set: run the fuzzer through scripts/fuzz.sh");
        }
        let mut n = 0usize;
        // SAFETY: n is a live local.
        assert_eq!(unsafe { dpc_device_count(&mut n) }, DPC_SUCCESS);
        assert!(n > 0, "no device: the fuzzer runs against the real device");
        State::new()
    });
    let mut inp = In { d: data, i: 0 };
    let mut steps = 0;
    while !inp.done() && steps < 64 {
        step(s, &mut inp);
        steps += 1;
    }
    s.finish();
    let _ = &s.internal;
});
