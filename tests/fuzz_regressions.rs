//! Regressions found by the API-sequence fuzzer (fuzz/, issue 12): each
//! test replays, through the C exports, a call the fuzzer made that
//! crashed, leaked or corrupted memory, and checks that dpcore now refuses
//! it (or answers it correctly) before the runtime sees it. The device
//! tests run on every device found; none found is a failure, not a skip.

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;

use dpcore::array::*;
use dpcore::census::*;
use dpcore::dlpack::*;
use dpcore::error::dpc_status::{self, *};
use dpcore::queue::*;
use dpcore::usm::*;

/// The tests of this file count live handles and allocations: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

const F32: dpc_dlpack_dtype = dpc_dlpack_dtype {
    code: DPC_DL_FLOAT,
    bits: 32,
    lanes: 1,
};
const F64: dpc_dlpack_dtype = dpc_dlpack_dtype {
    code: DPC_DL_FLOAT,
    bits: 64,
    lanes: 1,
};

fn msg() -> String {
    dpcore::error::last_error().message
}

/// Each device's canonical queue.
fn queues() -> Vec<dpc_queue> {
    common::all_devices()
        .into_iter()
        .map(|(d, _)| {
            let mut q: dpc_queue = std::ptr::null_mut();
            assert_eq!(unsafe { dpc_queue_default(d, &mut q) }, DPC_SUCCESS);
            q
        })
        .collect()
}

fn alloc(q: dpc_queue, kind: i32, n: usize) -> *mut c_void {
    let mut p: *mut c_void = std::ptr::null_mut();
    assert_eq!(
        unsafe { dpc_usm_alloc(q, kind, n, 0, &mut p) },
        DPC_SUCCESS,
        "{}",
        msg()
    );
    p
}

fn zeros(q: dpc_queue, dtype: dpc_dlpack_dtype, shape: &[i64]) -> dpc_array {
    let mut a: dpc_array = std::ptr::null_mut();
    assert_eq!(
        unsafe { dpc_array_zeros(q, dtype, shape.len() as i32, shape.as_ptr(), 0, &mut a) },
        DPC_SUCCESS,
        "{}",
        msg()
    );
    a
}

/// Live handles and USM allocations, to check that nothing leaked.
fn census() -> (u64, u64) {
    let (mut h, mut n, mut b) = (0u64, 0u64, 0u64);
    assert_eq!(unsafe { dpc_census_live_handles(0, &mut h) }, DPC_SUCCESS);
    assert_eq!(unsafe { dpc_census_live_usm(&mut n, &mut b) }, DPC_SUCCESS);
    assert_eq!(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
    (h, n)
}

fn refused(st: dpc_status, want: dpc_status, what: &str) {
    assert_eq!(st, want, "{what}: {}", msg());
    assert!(!msg().is_empty(), "{what}: no message");
}

/// Bug 1: a shape whose element count overflows i64 made
/// `dpc_array_empty` (and zeros, full, from_host, reshape) panic
/// ("attempt to multiply with overflow") in debug builds and allocate a
/// wrapped-around size in release builds.
#[test]
fn shape_element_count_overflow_is_refused() {
    let _s = serial();
    for q in queues() {
        let before = census();
        for shape in [
            vec![1i64 << 32, 1 << 32],
            vec![i64::MAX, 2],
            vec![1 << 62, 1 << 62, 0],
            vec![1 << 60, 1],
        ] {
            let mut a: dpc_array = std::ptr::null_mut();
            let st =
                unsafe { dpc_array_empty(q, F64, shape.len() as i32, shape.as_ptr(), 0, &mut a) };
            refused(st, DPC_ERROR_INVALID_ARGUMENT, &format!("empty {shape:?}"));
            assert!(msg().contains("more elements than fit"), "{}", msg());
            assert!(a.is_null());
        }
        let a = zeros(q, F32, &[4, 4]);
        let big = [1i64 << 32, 1 << 32];
        let mut v: dpc_array = std::ptr::null_mut();
        let st = unsafe { dpc_array_reshape(a, 2, big.as_ptr(), &mut v) };
        refused(
            st,
            DPC_ERROR_INVALID_ARGUMENT,
            "reshape to an overflowing shape",
        );
        assert_eq!(dpc_array_release(a), DPC_SUCCESS);
        assert_eq!(census(), before);
    }
}

/// Bug 2: `dpc_usm_free` accepted the data pointer of an array dpcore
/// allocated, freeing memory the array still viewed (a use after free on
/// the next copy, and a double free when the array was released).
#[test]
fn freeing_the_memory_of_an_array_is_refused() {
    let _s = serial();
    for q in queues() {
        let before = census();
        let a = zeros(q, F32, &[16]);
        let mut data: *mut c_void = std::ptr::null_mut();
        assert_eq!(unsafe { dpc_array_get_data(a, &mut data) }, DPC_SUCCESS);
        refused(
            dpc_usm_free(data),
            DPC_ERROR_INVALID_POINTER,
            "dpc_usm_free",
        );
        assert!(msg().contains("memory of a dpcore array"), "{}", msg());
        let st = unsafe { dpc_usm_free_after(data, std::ptr::null(), 0) };
        refused(st, DPC_ERROR_INVALID_POINTER, "dpc_usm_free_after");
        // The array is intact: its memory still reads back as zeros.
        let mut host = [1.0f32; 16];
        let mut n = 0usize;
        let st = unsafe {
            dpc_array_copy_to_host(a, host.as_mut_ptr() as _, 64, std::ptr::null(), &mut n)
        };
        assert_eq!(st, DPC_SUCCESS, "{}", msg());
        assert_eq!(host, [0.0; 16]);
        assert_eq!(dpc_array_release(a), DPC_SUCCESS);
        assert_eq!(census(), before);
    }
}

/// Bug 3: `dpc_array_slice` with a step near i64::MAX or i64::MIN
/// overflowed computing the slice length (a panic), and a step that did
/// not overflow the stride left one that overflowed in bytes (a panic in
/// `dpc_array_copy_to_host`).
#[test]
fn slices_with_huge_steps() {
    let _s = serial();
    for q in queues() {
        let before = census();
        let vals: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let shape = [10i64];
        let mut a: dpc_array = std::ptr::null_mut();
        let st = unsafe {
            dpc_array_from_host(
                q,
                F32,
                1,
                shape.as_ptr(),
                vals.as_ptr() as _,
                std::ptr::null(),
                0,
                &mut a,
            )
        };
        assert_eq!(st, DPC_SUCCESS, "{}", msg());
        for (start, step, first) in [
            (0i64, i64::MAX, 0.0f32),
            (DPC_SLICE_NONE, i64::MIN, 9.0),
            (3, i64::MIN + 1, 3.0),
            (DPC_SLICE_NONE, i64::MAX / 2 + 7, 0.0),
        ] {
            let starts = [start];
            let stops = [DPC_SLICE_NONE];
            let steps = [step];
            let mut v: dpc_array = std::ptr::null_mut();
            let st = unsafe {
                dpc_array_slice(a, starts.as_ptr(), stops.as_ptr(), steps.as_ptr(), &mut v)
            };
            assert_eq!(st, DPC_SUCCESS, "step {step}: {}", msg());
            let mut got = [0i64; 1];
            let mut nd = 0usize;
            assert_eq!(
                unsafe { dpc_array_copy_shape(v, got.as_mut_ptr(), 1, &mut nd) },
                DPC_SUCCESS
            );
            assert_eq!(got, [1], "step {step}");
            let mut host = [-1.0f32; 1];
            let mut n = 0usize;
            let st = unsafe {
                dpc_array_copy_to_host(v, host.as_mut_ptr() as _, 4, std::ptr::null(), &mut n)
            };
            assert_eq!(st, DPC_SUCCESS, "step {step}: {}", msg());
            assert_eq!(host, [first], "step {step}");
            assert_eq!(dpc_array_release(v), DPC_SUCCESS);
        }
        assert_eq!(dpc_array_release(a), DPC_SUCCESS);
        assert_eq!(census(), before);
    }
}

/// Found by the hour run: an empty array lent with strides as large as an
/// i64 holds (an empty layout reaches no memory, so they are not checked)
/// overflowed `dpc_array_slice`'s offset and stride arithmetic (a panic in
/// the fuzzer's build, a wrapped stride in release). An empty view now
/// keeps the array's address and strides.
#[test]
fn slices_of_empty_arrays_with_huge_strides() {
    let _s = serial();
    for q in queues() {
        let before = census();
        let p = alloc(q, 1, 1024);
        let shape = [0i64, 4];
        let strides = [1i64, i64::MAX / 2];
        let mut a: dpc_array = std::ptr::null_mut();
        let st = unsafe {
            dpc_array_from_usm(
                q,
                F32,
                2,
                shape.as_ptr(),
                strides.as_ptr(),
                p,
                DPC_ARRAY_WRITABLE,
                None,
                std::ptr::null_mut(),
                &mut a,
            )
        };
        assert_eq!(st, DPC_SUCCESS, "{}", msg());
        let starts = [DPC_SLICE_NONE, 1];
        let stops = [DPC_SLICE_NONE, DPC_SLICE_NONE];
        let steps = [1i64, 2];
        let mut v: dpc_array = std::ptr::null_mut();
        let st =
            unsafe { dpc_array_slice(a, starts.as_ptr(), stops.as_ptr(), steps.as_ptr(), &mut v) };
        assert_eq!(st, DPC_SUCCESS, "{}", msg());
        let (mut got_shape, mut got_strides) = ([0i64; 2], [0i64; 2]);
        let mut nd = 0usize;
        assert_eq!(
            unsafe { dpc_array_copy_shape(v, got_shape.as_mut_ptr(), 2, &mut nd) },
            DPC_SUCCESS
        );
        assert_eq!(
            unsafe { dpc_array_copy_strides(v, got_strides.as_mut_ptr(), 2, &mut nd) },
            DPC_SUCCESS
        );
        assert_eq!(got_shape, [0, 2]);
        assert_eq!(got_strides, strides, "an empty view keeps the strides");
        assert_eq!(dpc_array_release(v), DPC_SUCCESS);
        assert_eq!(dpc_array_release(a), DPC_SUCCESS);
        assert_eq!(dpc_usm_free(p), DPC_SUCCESS);
        assert_eq!(census(), before);
    }
}

/// Bug 4: USM commands took any length: a copy, set, fill, prefetch or
/// advice running past the end of a dpcore allocation (or wrapping around
/// the address space) reached the runtime, which wrote out of bounds.
#[test]
fn usm_commands_past_their_allocation_are_refused() {
    let _s = serial();
    for q in queues() {
        let before = census();
        let a = alloc(q, 2, 256) as usize;
        let b = alloc(q, 2, 128) as usize;
        let null = std::ptr::null_mut();
        let ev = std::ptr::null();
        let cases: Vec<(&str, dpc_status)> = unsafe {
            vec![
                (
                    "memcpy dst",
                    dpc_usm_memcpy(q, b as _, a as _, 200, ev, 0, null),
                ),
                (
                    "memcpy src",
                    dpc_usm_memcpy(q, a as _, b as _, 200, ev, 0, null),
                ),
                (
                    "memcpy interior",
                    dpc_usm_memcpy(q, (a + 200) as _, b as _, 57, ev, 0, null),
                ),
                (
                    "memcpy wrap",
                    dpc_usm_memcpy(q, a as _, b as _, usize::MAX, ev, 0, null),
                ),
                (
                    "memset",
                    dpc_usm_memset(q, (b + 1) as _, 7, 128, ev, 0, null),
                ),
                (
                    "memset huge",
                    dpc_usm_memset(q, b as _, 7, 1 << 40, ev, 0, null),
                ),
                (
                    "fill",
                    dpc_usm_fill(q, b as _, [1u8; 4].as_ptr() as _, 4, 33, ev, 0, null),
                ),
                (
                    "prefetch",
                    dpc_usm_prefetch(q, (a + 255) as _, 2, ev, 0, null),
                ),
                (
                    "mem_advise",
                    dpc_usm_mem_advise(q, a as _, 257, 0, ev, 0, null),
                ),
            ]
        };
        for (what, st) in cases {
            refused(st, DPC_ERROR_INVALID_ARGUMENT, what);
        }
        // In bounds still works, to the last byte.
        let st = unsafe { dpc_usm_memcpy(q, (a + 128) as _, b as _, 128, ev, 0, null) };
        assert_eq!(st, DPC_SUCCESS, "{}", msg());
        let st = unsafe { dpc_usm_fill(q, b as _, [1u8; 4].as_ptr() as _, 4, 32, ev, 0, null) };
        assert_eq!(st, DPC_SUCCESS, "{}", msg());
        assert_eq!(dpc_queue_wait(q), DPC_SUCCESS);
        assert_eq!(dpc_usm_free(a as _), DPC_SUCCESS);
        assert_eq!(dpc_usm_free(b as _), DPC_SUCCESS);
        assert_eq!(census(), before);
    }
}

/// What, shape, strides, byte offset into the allocation, trust flag.
type LentCase = (&'static str, Vec<i64>, Option<Vec<i64>>, usize, u32);

/// What, and how a DLPack tensor is corrupted.
type Corruption<'a> = (&'static str, &'a dyn Fn(&mut dpc_dlpack_tensor));

static RELEASED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn count_release(_ctx: *mut c_void) {
    RELEASED.fetch_add(1, Ordering::SeqCst);
}

/// Bug 5: `dpc_array_from_usm` took any shape and strides over the memory
/// it was lent: an array reaching past the allocation (copies then read and
/// wrote out of bounds), or strides whose byte offsets overflow (a panic).
#[test]
fn lent_layouts_outside_their_allocation_are_refused() {
    let _s = serial();
    for q in queues() {
        let before = census();
        let p = alloc(q, 1, 1024);
        let cases: [LentCase; 6] = [
            ("past the end", vec![300], None, 0, 0),
            (
                "negative stride before the start",
                vec![4, 8],
                Some(vec![-8, 1]),
                0,
                0,
            ),
            ("offset past the end", vec![8, 8], None, 800, 0),
            ("stride overflow", vec![2], Some(vec![1 << 62]), 0, 0),
            (
                "length-1 stride overflow",
                vec![1, 2],
                Some(vec![i64::MAX, 1]),
                0,
                0,
            ),
            (
                "vouched, past the end",
                vec![257],
                None,
                0,
                DPC_ARRAY_TRUST_DEVICE,
            ),
        ];
        for (what, shape, strides, off, trust) in cases {
            RELEASED.store(0, Ordering::SeqCst);
            let mut a: dpc_array = std::ptr::null_mut();
            let st = unsafe {
                dpc_array_from_usm(
                    q,
                    F32,
                    shape.len() as i32,
                    shape.as_ptr(),
                    strides.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                    (p as usize + off) as *mut c_void,
                    DPC_ARRAY_WRITABLE | trust,
                    Some(count_release),
                    std::ptr::null_mut(),
                    &mut a,
                )
            };
            refused(st, DPC_ERROR_INVALID_ARGUMENT, what);
            assert_eq!(
                RELEASED.load(Ordering::SeqCst),
                1,
                "{what}: release runs once"
            );
        }
        // The whole allocation, backwards, is fine.
        let shape = [256i64];
        let strides = [-1i64];
        let mut a: dpc_array = std::ptr::null_mut();
        let st = unsafe {
            dpc_array_from_usm(
                q,
                F32,
                1,
                shape.as_ptr(),
                strides.as_ptr(),
                (p as usize + 1020) as *mut c_void,
                DPC_ARRAY_WRITABLE,
                None,
                std::ptr::null_mut(),
                &mut a,
            )
        };
        assert_eq!(st, DPC_SUCCESS, "{}", msg());
        assert_eq!(dpc_array_release(a), DPC_SUCCESS);
        assert_eq!(dpc_usm_free(p), DPC_SUCCESS);
        assert_eq!(census(), before);
    }
}

/// Bug 6: `dpc_array_from_dlpack_versioned` took a kDLOneAPI tensor whose
/// shape, strides or byte_offset reach outside the USM allocation its data
/// points into (a corrupted or lying producer), and wrapped `data +
/// byte_offset` around the address space.
#[test]
fn dlpack_tensors_outside_their_allocation_are_refused() {
    let _s = serial();
    for q in queues() {
        let before = census();
        let a = zeros(q, F32, &[4, 4]);
        let big_shape = [100i64, 4];
        let wide_strides = [1000i64, 1];
        let corruptions: [Corruption; 4] = [
            ("shape", &|t| t.shape = big_shape.as_ptr() as *mut i64),
            ("strides", &|t| {
                t.strides = wide_strides.as_ptr() as *mut i64
            }),
            ("byte_offset", &|t| t.byte_offset = 64),
            ("byte_offset wrap", &|t| t.byte_offset = u64::MAX - 3),
        ];
        for (what, corrupt) in corruptions {
            let mut t: *mut dpc_dlpack_managed_tensor_versioned = std::ptr::null_mut();
            assert_eq!(
                unsafe { dpc_array_to_dlpack_versioned(a, 1, 0, &mut t) },
                DPC_SUCCESS
            );
            let saved = unsafe { std::ptr::read(&(*t).dl_tensor) };
            unsafe { corrupt(&mut (*t).dl_tensor) };
            // The producer's deleter sees its own struct: put the fields
            // back in a wrapper that then calls it (as a producer would).
            WRAPPED_T.with(|w| w.set(Some((t as usize, saved))));
            let orig = unsafe { (*t).deleter };
            ORIG.with(|o| o.set(orig));
            unsafe { (*t).deleter = Some(restore_then_delete) };
            let mut b: dpc_array = std::ptr::null_mut();
            let st = unsafe { dpc_array_from_dlpack_versioned(t, &mut b) };
            refused(st, DPC_ERROR_INVALID_ARGUMENT, what);
            assert!(
                WRAPPED_T.with(|w| w.take()).is_none(),
                "{what}: the deleter ran"
            );
        }
        assert_eq!(dpc_array_release(a), DPC_SUCCESS);
        assert_eq!(census(), before);
    }
}

/// Bug 19: an import of a tensor whose deleter is NULL read the tensor's
/// struct again when the import went, to find the deleter; the fuzzer's
/// producer had freed the struct by then (use after free under ASan). The
/// deleter is read once, at the import: here the producer reuses the
/// struct's deleter field after the import, and the release of the import
/// must not call it.
#[test]
fn imports_without_a_deleter_never_read_the_tensor_again() {
    static CALLED: AtomicUsize = AtomicUsize::new(0);
    unsafe extern "C" fn must_not_run(_: *mut dpc_dlpack_managed_tensor_versioned) {
        CALLED.fetch_add(1, Ordering::SeqCst);
    }
    let _s = serial();
    for q in queues() {
        let before = census();
        let a = zeros(q, F32, &[4, 4]);
        let mut t: *mut dpc_dlpack_managed_tensor_versioned = std::ptr::null_mut();
        assert_eq!(
            unsafe { dpc_array_to_dlpack_versioned(a, 1, 0, &mut t) },
            DPC_SUCCESS
        );
        // SAFETY: `t` is the export just made; the harness is its producer
        // from here on and frees it with the saved deleter at the end.
        let orig = unsafe { (*t).deleter };
        unsafe { (*t).deleter = None };
        let mut b: dpc_array = std::ptr::null_mut();
        assert_eq!(
            unsafe { dpc_array_from_dlpack_versioned(t, &mut b) },
            DPC_SUCCESS,
            "{}",
            msg()
        );
        unsafe { (*t).deleter = Some(must_not_run) };
        assert_eq!(dpc_array_release(b), DPC_SUCCESS);
        assert_eq!(
            CALLED.load(Ordering::SeqCst),
            0,
            "the import read the struct again"
        );
        unsafe {
            (*t).deleter = orig;
            (orig.unwrap())(t)
        };
        assert_eq!(dpc_array_release(a), DPC_SUCCESS);
        assert_eq!(census(), before);
    }
}

type Tensor = (usize, dpc_dlpack_tensor);
type Deleter = Option<unsafe extern "C" fn(*mut dpc_dlpack_managed_tensor_versioned)>;

thread_local! {
    static WRAPPED_T: std::cell::Cell<Option<Tensor>> = const { std::cell::Cell::new(None) };
    static ORIG: std::cell::Cell<Deleter> = const { std::cell::Cell::new(None) };
}

unsafe extern "C" fn restore_then_delete(t: *mut dpc_dlpack_managed_tensor_versioned) {
    let (addr, saved) = WRAPPED_T.with(|w| w.take()).expect("deleter called once");
    assert_eq!(addr, t as usize);
    // SAFETY: `t` is the export dpcore made, given back to its deleter.
    unsafe {
        (*t).dl_tensor = saved;
        (*t).deleter = ORIG.with(|o| o.get());
        ((*t).deleter.unwrap())(t)
    }
}

/// Bugs 7 and 10 to 15: SPIR-V that dpcore's reader passed and the OpenCL
/// runtime's SPIR-V reader then ended the process on ("InvalidModule: input
/// SPIR-V module references an id that is not defined: 0";
/// "InvalidAddressingModel: Expects 0-2"; "InvalidBuiltinSetName"; a SEGV
/// in LLVM's verifier; a SEGV on an id of another function): mutated copies of
/// kernels/vadd.spv. The grammar check of src/spirv.rs refuses
/// them before the runtime sees them.
#[test]
fn spirv_the_runtime_reader_aborts_on_is_refused() {
    let _s = serial();
    let spv = std::fs::read(format!("{}/kernels/vadd.spv", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let words: Vec<u32> = spv
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    // The first OpFunctionParameter (opcode 55): its type word.
    let mut i = 5;
    while words[i] & 0xffff != 55 {
        i += (words[i] >> 16) as usize;
    }
    let mutate = |word: usize, v: u32| {
        let mut m = spv.clone();
        m[word * 4..word * 4 + 4].copy_from_slice(&v.to_le_bytes());
        m
    };
    let bound = words[3];
    // OpMemoryModel (opcode 14): its addressing model word.
    let mut mm = 5;
    while words[mm] & 0xffff != 14 {
        mm += (words[mm] >> 16) as usize;
    }
    // An OpDecorate FuncParamAttr (decoration 38): its attribute word.
    let mut fpa = 5;
    while !(words[fpa] & 0xffff == 71 && words[fpa + 2] == 38) {
        fpa += (words[fpa] >> 16) as usize;
    }
    // OpExtInstImport (opcode 11): the first word of its name.
    let mut ext = 5;
    while words[ext] & 0xffff != 11 {
        ext += (words[ext] >> 16) as usize;
    }
    // A parameter of the last function, used in the first one's body (the
    // fuzzer's case: word 669 of vadd.spv, an access chain's index, made
    // the id of another kernel's parameter; SEGV in the reader's
    // transFunctionAttrs).
    let (mut first_use, mut last_param) = (None, None);
    let mut j = 5;
    while j < words.len() {
        let op = words[j] & 0xffff;
        if op == 70 && first_use.is_none() {
            first_use = Some(j + 4); // OpInBoundsPtrAccessChain's index
        }
        if op == 55 {
            last_param = Some(words[j + 2]);
        }
        j += (words[j] >> 16) as usize;
    }
    // An OpStore with memory-access operands (Aligned): its mask word.
    let mut st = 5;
    while !(words[st] & 0xffff == 62 && words[st] >> 16 == 5) {
        st += (words[st] >> 16) as usize;
    }
    // An OpExtInst (opcode 12): its set operand.
    let mut ei = 5;
    while words[ei] & 0xffff != 12 {
        ei += (words[ei] >> 16) as usize;
    }
    let cases = [
        // A set operand that is not an OpExtInstImport (SEGV in the
        // reader's getBuiltinSet).
        (
            "extended instruction set operand",
            mutate(ei + 3, words[ei + 2]),
        ),
        // Mask bits that announce id operands ("references an id that is
        // not defined: 0", then exit).
        ("memory access mask", mutate(st + 3, 0x6b72_6f77)),
        (
            "an id of another function",
            mutate(first_use.unwrap(), last_param.unwrap()),
        ),
        // "InvalidBuiltinSetName: Expects OpenCL.std. Actual is YCLCL.std".
        (
            "extended instruction set",
            mutate(ext + 2, u32::from_le_bytes(*b"YCLC")),
        ),
        // A parameter attribute LLVM's verifier crashes on (SEGV in
        // Attribute::canUseAsParamAttr, under the reader).
        ("parameter attribute", mutate(fpa + 3, 0x2a2a)),
        // "InvalidAddressingModel: Expects 0-2", then exit.
        ("addressing model", mutate(mm + 1, 0xFFFF_0004)),
        ("parameter type 0", mutate(i + 1, 0)),
        ("parameter type undefined", mutate(i + 1, bound - 1)),
        ("instruction length cut", mutate(i, (2 << 16) | 55)),
        ("unknown opcode", mutate(i, (3 << 16) | 4000)),
    ];
    spirv_refused_and_built(&cases, &[spv]);
}

/// On every device: each of `refused` (what, module) is refused as
/// malformed SPIR-V before the runtime sees it, each of `built` builds, and
/// nothing is left behind.
fn spirv_refused_and_built(refused_cases: &[(&str, Vec<u8>)], built: &[Vec<u8>]) {
    use dpcore::context::*;
    use dpcore::kernel::*;
    let create = |ctx: dpc_context, d, m: &[u8], b: &mut dpc_bundle| unsafe {
        dpc_bundle_create_from_spirv(ctx, d, m.as_ptr() as _, m.len(), std::ptr::null(), b)
    };
    for (d, _) in common::all_devices() {
        let before = census();
        let mut ctx: dpc_context = std::ptr::null_mut();
        assert_eq!(unsafe { dpc_context_default(d, &mut ctx) }, DPC_SUCCESS);
        for (what, m) in refused_cases {
            let mut b: dpc_bundle = std::ptr::null_mut();
            refused(create(ctx, d, m, &mut b), DPC_ERROR_INVALID_ARGUMENT, what);
            assert!(msg().contains("malformed SPIR-V"), "{what}: {}", msg());
        }
        for m in built {
            let mut b: dpc_bundle = std::ptr::null_mut();
            assert_eq!(create(ctx, d, m, &mut b), DPC_SUCCESS, "{}", msg());
            assert_eq!(dpc_bundle_release(b), DPC_SUCCESS);
        }
        assert_eq!(census(), before);
    }
}

/// Bugs 17 and 18 (found by CI's fuzz smoke): SPIR-V that passed the
/// grammar check and then crashed the OpenCL runtime's compiler, not its
/// reader. An OpSource language the runtime does not read (kernels/saxpy.spv
/// with language 0x230029: SEGV in the kernel-argument pass,
/// `parseKernelArguments`); an add that uses its own result or a later one
/// of its block (kernels/many_args.spv's `%96 = %95 + %32` made
/// `%95 + %107`: stack overflow in LLVM's GVN, `createExpr` recursing
/// without end). src/spirv.rs now checks the source language and SPIR-V's
/// dominance rules.
#[test]
fn spirv_the_runtime_compiler_crashes_on_is_refused() {
    let _s = serial();
    let read = |name: &str| {
        let spv = std::fs::read(format!("{}/kernels/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let words: Vec<u32> = spv
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        (spv, words)
    };
    // The word index of the first instruction of opcode `op`.
    let find = |words: &[u32], op: u32| {
        let mut i = 5;
        while words[i] & 0xffff != op {
            i += (words[i] >> 16) as usize;
        }
        i
    };
    let mutate = |spv: &[u8], word: usize, v: u32| {
        let mut m = spv.to_vec();
        m[word * 4..word * 4 + 4].copy_from_slice(&v.to_le_bytes());
        m
    };
    let (saxpy, sw) = read("saxpy.spv");
    let src = find(&sw, 3); // OpSource: language, version
    let (many, mw) = read("many_args.spv");
    // The first OpIAdd (128: type, result, a, b) and the next one after it.
    let add = find(&mw, 128);
    let mut next = add + (mw[add] >> 16) as usize;
    while mw[next] & 0xffff != 128 {
        next += (mw[next] >> 16) as usize;
    }
    // vadd.spv with its first function type made to return the first
    // integer type (CI's smoke: a SEGV in LLVM's called-value propagation).
    let (vadd, vw) = read("vadd.spv");
    let fty = find(&vw, 33);
    let int = vw[find(&vw, 21) + 1];
    let cases = [
        (
            "a kernel type returning an integer",
            mutate(&vadd, fty + 2, int),
        ),
        // The last word of OpName's string with a byte after its NUL
        // ("InvalidWordCount", then exit: found by a run of this session).
        (
            "a string not padded with zeros",
            mutate(
                &vadd,
                find(&vw, 5) + (vw[find(&vw, 5)] >> 16) as usize - 1,
                0x000b_0020,
            ),
        ),
        (
            "source language 0x230029",
            mutate(&saxpy, src + 1, 0x23_0029),
        ),
        ("source language SYCL", mutate(&saxpy, src + 1, 7)),
        (
            "an add of its own result",
            mutate(&many, add + 4, mw[add + 2]),
        ),
        (
            "an add of a later result",
            mutate(&many, add + 4, mw[next + 2]),
        ),
    ];
    // The modules themselves, and with the languages the runtime reads.
    let fine = [
        vadd.clone(),
        saxpy.clone(),
        many.clone(),
        mutate(&saxpy, src + 1, 0),
        mutate(&saxpy, src + 1, 4),
        mutate(&saxpy, src + 1, 6),
    ];
    spirv_refused_and_built(&cases, &fine);
}

/// Bug 8: `dpc_usm_memset` (and fill, prefetch, advice) took a pointer
/// that is not USM: one past the end of an allocation (the range check
/// found no allocation holding it), and the runtime wrote 8190 bytes past
/// the end of a neighbouring heap block (AddressSanitizer,
/// heap-buffer-overflow in the OpenCL runtime's worker thread).
#[test]
fn usm_only_commands_refuse_memory_that_is_not_usm() {
    let _s = serial();
    for q in queues() {
        let before = census();
        let a = alloc(q, 2, 1024) as usize;
        let mut host = vec![0u8; 4096];
        let h = host.as_mut_ptr() as usize;
        let null = std::ptr::null_mut();
        let ev = std::ptr::null();
        for (what, p) in [("one past the end", a + 1024), ("host memory", h)] {
            let cases = unsafe {
                [
                    ("memset", dpc_usm_memset(q, p as _, 1, 64, ev, 0, null)),
                    (
                        "fill",
                        dpc_usm_fill(q, p as _, [1u8; 4].as_ptr() as _, 4, 16, ev, 0, null),
                    ),
                    ("prefetch", dpc_usm_prefetch(q, p as _, 64, ev, 0, null)),
                    (
                        "mem_advise",
                        dpc_usm_mem_advise(q, p as _, 64, 0, ev, 0, null),
                    ),
                ]
            };
            for (call, st) in cases {
                refused(st, DPC_ERROR_INVALID_POINTER, &format!("{call} on {what}"));
            }
        }
        // A freed allocation is not USM any more either.
        let b = alloc(q, 2, 64) as usize;
        assert_eq!(dpc_usm_free(b as _), DPC_SUCCESS);
        let st = unsafe { dpc_usm_memset(q, b as _, 1, 64, ev, 0, null) };
        refused(st, DPC_ERROR_INVALID_POINTER, "memset on freed memory");
        // USM itself, and host memory as a copy's side, still work.
        let st = unsafe { dpc_usm_memset(q, a as _, 1, 1024, ev, 0, null) };
        assert_eq!(st, DPC_SUCCESS, "{}", msg());
        let st = unsafe { dpc_usm_memcpy(q, h as _, a as _, 1024, ev, 0, null) };
        assert_eq!(st, DPC_SUCCESS, "{}", msg());
        assert_eq!(dpc_queue_wait(q), DPC_SUCCESS);
        assert!(host[..1024].iter().all(|&x| x == 1));
        assert_eq!(dpc_usm_free(a as _), DPC_SUCCESS);
        assert_eq!(census(), before);
    }
}

/// Bug 9: `dpc_context_create` with a device listed twice (sub-devices
/// from `dpc_device_partition_equally`) crashed the OpenCL runtime in
/// clCreateContext (SEGV in Program::SetContextDevicesToProgramMapping).
#[test]
fn contexts_listing_a_device_twice_are_refused() {
    use dpcore::context::*;
    use dpcore::device::*;
    let _s = serial();
    for (root, _) in common::all_devices() {
        let before = census();
        let mut subs = [std::ptr::null_mut(); 64];
        let mut n = 0usize;
        let st = unsafe { dpc_device_partition_equally(root, 1, subs.as_mut_ptr(), 64, &mut n) };
        let lists: Vec<Vec<dpc_device>> = if st == DPC_SUCCESS && n >= 2 {
            vec![
                vec![subs[1], subs[1], subs[0]],
                vec![subs[0], subs[1], subs[0]],
                vec![root, root],
            ]
        } else {
            eprintln!(
                "NOT RUN with sub-devices: the device cannot be partitioned equally ({st:?})"
            );
            vec![vec![root, root]]
        };
        for l in &lists {
            let mut c: dpc_context = std::ptr::null_mut();
            let st = unsafe { dpc_context_create(l.as_ptr(), l.len(), &mut c) };
            refused(
                st,
                DPC_ERROR_INVALID_ARGUMENT,
                "a context listing a device twice",
            );
            assert!(
                msg().contains("list each device of a context once"),
                "{}",
                msg()
            );
        }
        if st == DPC_SUCCESS && n >= 2 {
            // Distinct sub-devices make a context.
            let mut c: dpc_context = std::ptr::null_mut();
            let st = unsafe { dpc_context_create(subs.as_ptr(), 2, &mut c) };
            assert_eq!(st, DPC_SUCCESS, "{}", msg());
            assert_eq!(dpc_context_release(c), DPC_SUCCESS);
            for &d in &subs[..n.min(64)] {
                assert_eq!(dpc_device_release(d), DPC_SUCCESS);
            }
        }
        assert_eq!(census(), before);
    }
}
