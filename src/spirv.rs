//! A small reader of SPIR-V modules: the kernels they define (OpEntryPoint
//! with the Kernel execution model) and the kind of each kernel parameter,
//! so that launches are checked before they reach the runtime.

use std::collections::HashMap;

/// What a kernel parameter accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// A pointer to global, constant or generic memory: a USM pointer.
    Pointer,
    /// A pointer to work-group local memory: local memory of N bytes.
    Local,
    /// A value of this many bytes.
    Scalar(usize),
    /// A value of a size this reader does not work out (structs, arrays).
    ScalarAnySize,
}

/// A kernel of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSig {
    pub name: String,
    pub params: Vec<Param>,
}

const MAGIC: u32 = 0x0723_0203;

const OP_ENTRY_POINT: u32 = 15;
const OP_TYPE_BOOL: u32 = 20;
const OP_TYPE_INT: u32 = 21;
const OP_TYPE_FLOAT: u32 = 22;
const OP_TYPE_VECTOR: u32 = 23;
const OP_TYPE_POINTER: u32 = 32;
const OP_FUNCTION: u32 = 54;
const OP_FUNCTION_PARAMETER: u32 = 55;
const OP_DECORATE: u32 = 71;

const EXEC_KERNEL: u32 = 6;
const STORAGE_WORKGROUP: u32 = 4;
const DECORATION_FUNC_PARAM_ATTR: u32 = 38;
const FUNC_PARAM_ATTR_BYVAL: u32 = 2;

#[derive(Clone, Copy)]
enum Ty {
    Scalar(usize),
    Pointer(u32),
}

fn words(bytes: &[u8]) -> Result<Vec<u32>, String> {
    if bytes.len() < 20 || bytes.len() % 4 != 0 {
        return Err(format!(
            "{} bytes is not a SPIR-V module (a module is a whole number of 4-byte words, at least 5)",
            bytes.len()
        ));
    }
    let le: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if le[0] == MAGIC {
        return Ok(le);
    }
    if le[0].swap_bytes() == MAGIC {
        return Ok(le.into_iter().map(u32::swap_bytes).collect());
    }
    Err(format!(
        "not a SPIR-V module: the first word is {:#010x}, not the SPIR-V magic number 0x07230203",
        le[0]
    ))
}

fn string(ws: &[u32]) -> (String, usize) {
    let mut bytes = Vec::new();
    for (i, w) in ws.iter().enumerate() {
        for b in w.to_le_bytes() {
            if b == 0 {
                return (String::from_utf8_lossy(&bytes).into_owned(), i + 1);
            }
            bytes.push(b);
        }
    }
    (String::from_utf8_lossy(&bytes).into_owned(), ws.len())
}

/// The operands of an instruction, one letter each: `R` its result id,
/// `T` its result type (a type), `t` a type, `V` a value (an id with a
/// type: constants, variables, results, parameters), `P` a value of pointer
/// type, `B` a label, `F` a function, `X` an extended instruction set
/// (the reader crashed on any other id there), `I` any defined id, `L` a literal
/// word, `S` a literal string; a `*` makes the letter after it repeat to
/// the end (`*A`: words not checked, `*Q`: value and label pairs). None: an
/// instruction dpcore does not accept (it is not in the OpenCL kernel
/// environment, or not one dpcore knows).
fn grammar(op: u32) -> Option<&'static str> {
    Some(match op {
        0 | 56 | 252 | 253 | 255 | 317 => "",
        1 | 41 | 42 | 46 | 48 | 49 | 55 => "TR",
        2 | 4 | 10 | 330 => "S",
        3 => "LL*A",
        5 => "IS",
        6 => "ILS",
        7 | 11 | 31 => "RS",
        8 => "ILL",
        12 => "TRXL*V",
        14 => "LL",
        15 => "LFS*I",
        16 => "IL*L",
        17 => "L",
        19 | 20 | 26 | 34 | 35 | 36 | 37 | 73 | 248 => "R",
        21 => "RLL",
        22 => "RL*L",
        23 | 24 => "RtL",
        25 => "RtLLLLL*L",
        27 | 29 => "Rt",
        28 => "RtV",
        30 => "R*t",
        32 => "RLt",
        33 => "Rt*t",
        38 => "RL",
        39 => "tL",
        43 | 50 => "TRL*L",
        44 | 51 | 80 => "TR*V",
        45 => "TRLLL",
        52 => "TRL*V",
        54 => "TRLt",
        57 => "TRF*V",
        59 => "TRL*V",
        60 => "TRPVV",
        61 => "TRP*L",
        62 => "PV*L",
        63 => "PP*L",
        64 => "PPV*L",
        65 | 66 => "TRP*V",
        67 | 70 => "TRPV*V",
        68 => "TRPL",
        69 => "TRP",
        71 => "IL*L",
        72 => "tLL*L",
        74 => "I*I",
        75 => "I*A",
        77 | 86 | 103 | 105 => "TRVV",
        78 | 169 | 202 | 203 => "TRVVV",
        79 | 82 => "TRVV*L",
        81 => "TRV*L",
        83
        | 84
        | 100..=102
        | 104
        | 106
        | 107
        | 109..=122
        | 124
        | 126
        | 127
        | 154..=160
        | 168
        | 200
        | 204
        | 205 => "TRV",
        87..=98 => "TRVV*A",
        99 => "VVV*A",
        123 => "TRVL",
        128..=152 | 161..=167 | 170..=191 | 194..=199 => "TRVV",
        201 => "TRVVVV",
        224 => "VVV",
        225 => "VV",
        227 | 232 | 233 => "TRPVV",
        228 => "PVVV",
        229 | 234..=242 => "TRPVVV",
        230 | 231 => "TRPVVVVV",
        245 => "TR*Q",
        246 => "BBL*L",
        247 => "BL",
        249 => "B",
        250 => "VBB*L",
        251 => "VB*A",
        254 => "V",
        256 | 257 => "PL",
        259 => "TRVPPVVV",
        260 => "VVP",
        261 | 262 => "TRVV",
        263 => "TRVVV",
        264..=270 => "TRVLV",
        331 | 332 => "IL*V",
        5630 => "V",
        5631 => "TRVV",
        5632 => "IL*A",
        5633 => "ILL*A",
        _ => return None,
    })
}

/// Check the literal operands the runtime's reader takes as enumerants or
/// sizes (it exits the process on values out of range, e.g.
/// "InvalidAddressingModel: Expects 0-2").
fn check_literals(op: u32, ops: &[u32]) -> Result<(), String> {
    let bad = |what: &str, v: u32| {
        Err(format!(
            "{what} {v} is not one SPIR-V defines for OpenCL kernels"
        ))
    };
    match op {
        // Source language: the runtime's kernel-argument pass crashes on
        // any but Unknown, OpenCL_C, OpenCL_CPP and CPP_for_OpenCL (SYCL,
        // 7, included: measured on the OpenCL CPU runtime).
        3 if !matches!(ops[0], 0 | 3 | 4 | 6) => Err(format!(
            "source language {} is not one the OpenCL runtime reads (Unknown 0, OpenCL_C 3, OpenCL_CPP 4, CPP_for_OpenCL 6)",
            ops[0]
        )),
        14 if ops[0] > 2 => bad("addressing model", ops[0]),
        14 if ops[1] > 3 => bad("memory model", ops[1]),
        15 if ops[0] > 6 => bad("execution model", ops[0]),
        21 if !matches!(ops[1], 8 | 16 | 32 | 64) || ops[2] > 1 => bad("integer width", ops[1]),
        22 if !matches!(ops[1], 16 | 32 | 64) => bad("float width", ops[1]),
        23 if !matches!(ops[2], 2 | 3 | 4 | 8 | 16) => bad("vector size", ops[2]),
        32 if ops[1] > 12 => bad("storage class", ops[1]),
        59 if ops[2] > 12 => bad("storage class", ops[2]),
        // Inline .. Const, and OptNoneEXT (DPC++ marks functions with it).
        54 if ops[2] & !0x1_000F != 0 => bad("function control", ops[2]),
        61 | 64 => check_memory_access(&ops[3..]),
        62 | 63 => check_memory_access(&ops[2..]),
        71 => check_decoration(ops[1], &ops[2..]),
        72 => check_decoration(ops[2], &ops[3..]),
        16 => {
            let (mode, extra) = (ops[1], ops.len() - 2);
            let want = match mode {
                17 | 18 => 3,      // LocalSize, LocalSizeHint
                30 | 35 | 36 => 1, // VecTypeHint, SubgroupSize, SubgroupsPerWorkgroup
                0..=39 => 0,
                _ => return bad("execution mode", mode),
            };
            if extra != want {
                return Err(format!(
                    "execution mode {mode} takes {want} literals, not {extra}"
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Check the optional memory-access operands of a load, store or copy: a
/// mask of Volatile, Aligned (then a power-of-two alignment) and
/// Nontemporal. (The reader takes the operands other mask bits announce
/// as ids, and stops on "references an id that is not defined".)
fn check_memory_access(rest: &[u32]) -> Result<(), String> {
    let Some(&mask) = rest.first() else {
        return Ok(());
    };
    let aligned = mask & 2 != 0;
    if mask & !0x7 != 0
        || rest.len() != 1 + aligned as usize
        || (aligned && !rest[1].is_power_of_two())
    {
        return Err(format!("memory access operands {rest:?}"));
    }
    Ok(())
}

/// Check a decoration and its literals (the reader's LLVM verifier crashes
/// on a function parameter attribute it does not know, for one).
fn check_decoration(d: u32, extra: &[u32]) -> Result<(), String> {
    let one = |ok: bool| {
        if extra.len() == 1 && ok {
            Ok(())
        } else {
            Err(format!("decoration {d} with literals {extra:?}"))
        }
    };
    match d {
        // FuncParamAttr: Zext .. NoReadWrite.
        38 => one(extra.first().is_some_and(|&v| v <= 7)),
        // FPRoundingMode: RTE .. RTN.
        39 => one(extra.first().is_some_and(|&v| v <= 4)),
        // FPFastMathMode: NotNaN .. Fast (and the AllowContract group).
        40 => one(extra.first().is_some_and(|&v| v & !0x7_001F == 0)),
        // BuiltIn.
        11 => one(extra
            .first()
            .is_some_and(|&v| v <= 43 || (4416..=6000).contains(&v))),
        // Alignment.
        44 => one(extra.first().is_some_and(|&v| v.is_power_of_two())),
        // One literal: SpecId, ArrayStride, MatrixStride, Stream .. XfbStride,
        // InputAttachmentIndex, MaxByteOffset.
        1 | 6 | 7 | 29..=37 | 43 | 45 => one(true),
        // LinkageAttributes: a name, then Export (0), Import (1) or
        // LinkOnceODR (2).
        41 => {
            let n = extra.iter().position(|w| w.to_le_bytes().contains(&0));
            match n {
                Some(n) if extra.len() == n + 2 && extra[n + 1] <= 2 => Ok(()),
                _ => Err(format!("linkage attributes with literals {extra:?}")),
            }
        }
        // No literal.
        0 | 2..=5 | 8..=10 | 13..=26 | 28 | 42 | 4469 | 4470 => {
            if extra.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "decoration {d} takes no literal, has {}",
                    extra.len()
                ))
            }
        }
        _ => Err(format!("decoration {d} is not one dpcore accepts")),
    }
}

/// The extended instruction sets the OpenCL reader takes (it exits the
/// process on any other name: "InvalidBuiltinSetName").
const EXT_SETS: [&str; 5] = [
    "OpenCL.std",
    "OpenCL.DebugInfo.100",
    "SPIRV.debug",
    "NonSemantic.Shader.DebugInfo.100",
    "NonSemantic.Kernel.DebugInfo.100",
];

/// What an id names, for the checks of its uses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Def {
    Type(u32),
    /// A value of this type.
    Value(u32),
    Label,
    Function(u32),
    /// An extended instruction set (OpExtInstImport).
    ExtSet,
    Other,
}

/// Instructions allowed only outside functions.
fn global_only(op: u32) -> bool {
    matches!(op, 2..=7 | 10 | 11 | 14..=17 | 19..=39 | 41..=52 | 71..=75 | 330..=332 | 5632 | 5633)
}

/// Instructions allowed anywhere.
fn anywhere(op: u32) -> bool {
    matches!(op, 0 | 1 | 8 | 12 | 317)
}

fn terminator(op: u32) -> bool {
    matches!(op, 249..=255)
}

/// Check the module against the SPIR-V grammar before any runtime sees it:
/// every instruction is one dpcore knows, with the operand count its
/// grammar allows; every id is below the bound, defined once and defined
/// where it is used, of the kind its operand needs (a type, a value, a
/// pointer, a label, a function); functions hold blocks that start with a
/// label and end with a terminator, and declare the parameters their type
/// says; there is one memory model. (The OpenCL runtime's SPIR-V reader
/// aborts the process on modules that break these rules.)
/// The instructions after the module's 5-word header, in order, each as
/// (its word index, its opcode, its words); a length that is 0 or runs
/// past the module ends the walk with an error.
fn instructions(ws: &[u32]) -> impl Iterator<Item = Result<(usize, u32, &[u32]), String>> + '_ {
    let mut i = 5;
    std::iter::from_fn(move || {
        if i >= ws.len() {
            return None;
        }
        let (at, wc) = (i, (ws[i] >> 16) as usize);
        if wc == 0 || at + wc > ws.len() {
            i = ws.len();
            return Some(Err(format!(
                "malformed SPIR-V: instruction at word {at} has length {wc}"
            )));
        }
        i += wc;
        Some(Ok((at, ws[at] & 0xffff, &ws[at..at + wc])))
    })
}

fn validate(ws: &[u32]) -> Result<(), String> {
    let version = ws[1];
    if version & 0xFF00_00FF != 0 || (version >> 16) & 0xFF != 1 || (version >> 8) & 0xFF > 6 {
        return Err(format!(
            "malformed SPIR-V: version word {version:#010x} is not 1.0 to 1.6"
        ));
    }
    let bound = ws[3];
    if bound == 0 || bound > 1 << 22 {
        return Err(format!(
            "malformed SPIR-V: id bound {bound} is not 1 to 4194304"
        ));
    }
    if ws[4] != 0 {
        return Err(format!("malformed SPIR-V: schema word {} is not 0", ws[4]));
    }
    let mut defs: HashMap<u32, Def> = HashMap::new();
    // (word of the instruction, operand letter, id): checked once all
    // definitions are known (forward references are allowed).
    let mut uses: Vec<(usize, u8, u32)> = Vec::new();
    // The function (by number) each function-local id is defined in, and
    // the function each use is in: ids of a function are visible only in
    // it (the reader crashed on a parameter of one function used in
    // another).
    let mut local_of: HashMap<u32, usize> = HashMap::new();
    let mut use_fn: Vec<Option<usize>> = Vec::new();
    let mut fn_no = 0usize;
    let mut fn_params: Vec<(usize, u32, usize)> = Vec::new(); // (word, fn type, params)
    let (mut in_fn, mut in_block, mut in_body, mut memory_models) = (false, false, false, 0);
    let mut ext_sets: HashMap<u32, String> = HashMap::new();
    for ins in instructions(ws) {
        let (i, op, ins) = ins?;
        let at = |m: &str| format!("malformed SPIR-V: Op{op} at word {i}: {m}");
        let g = grammar(op)
            .ok_or_else(|| at("not an instruction dpcore accepts in an OpenCL kernel module"))?;
        // Layout.
        if global_only(op) {
            if in_fn {
                return Err(at("only allowed outside functions"));
            }
        } else if op == 54 {
            if in_fn {
                return Err(at("a function inside a function"));
            }
            in_fn = true;
            fn_no += 1;
            in_body = false;
        } else if op == 55 {
            if !in_fn || in_body {
                return Err(at("a parameter outside a function's head"));
            }
        } else if op == 248 {
            if !in_fn || in_block {
                return Err(at("a label outside a function or inside a block"));
            }
            in_block = true;
            in_body = true;
        } else if op == 56 {
            if !in_fn || in_block {
                return Err(at("a function end inside a block or outside a function"));
            }
            in_fn = false;
        } else if op == 59 {
            if in_fn && !in_block {
                return Err(at("a variable between blocks"));
            }
        } else if !anywhere(op) && !in_block {
            return Err(at("an instruction outside a block"));
        }
        if terminator(op) {
            in_block = false;
        }
        if op == 14 {
            memory_models += 1;
        }
        // Operands.
        let ops = &ins[1..];
        let uses_before = uses.len();
        let mut k = 0usize;
        let mut result_type = None;
        let mut pat = g.bytes().peekable();
        while let Some(c) = pat.next() {
            if c == b'*' {
                let r = pat.next().unwrap_or(b'A');
                match r {
                    b'A' | b'L' => k = ops.len(),
                    b'Q' => {
                        if (ops.len() - k) % 2 != 0 {
                            return Err(at("value and label operands do not pair up"));
                        }
                        while k < ops.len() {
                            uses.push((i, b'V', ops[k]));
                            uses.push((i, b'B', ops[k + 1]));
                            k += 2;
                        }
                    }
                    _ => {
                        while k < ops.len() {
                            uses.push((i, r, ops[k]));
                            k += 1;
                        }
                    }
                }
                continue;
            }
            if k >= ops.len() {
                return Err(at(&format!(
                    "{} operand words, fewer than its grammar needs",
                    ops.len()
                )));
            }
            match c {
                b'L' => k += 1,
                b'S' => {
                    let n = ops[k..]
                        .iter()
                        .position(|w| w.to_le_bytes().contains(&0))
                        .ok_or_else(|| at("a string without its terminating NUL"))?;
                    // The rest of the last word is zero padding (SPIR-V
                    // 2.2.1; the runtime's reader exits the process on other
                    // bytes there: "InvalidWordCount").
                    let last = ops[k + n].to_le_bytes();
                    let nul = last.iter().position(|&b| b == 0).unwrap_or(3);
                    if last[nul..].iter().any(|&b| b != 0) {
                        return Err(at(
                            "a string whose last word is not padded with zeros after its NUL",
                        ));
                    }
                    k += n + 1;
                }
                b'R' => {
                    let id = ops[k];
                    if id == 0 || id >= bound {
                        return Err(at(&format!("result id {id} is not 1 to {}", bound - 1)));
                    }
                    let def = match op {
                        19..=38 => Def::Type(op),
                        54 => Def::Function(ops[3]),
                        248 => Def::Label,
                        11 => Def::ExtSet,
                        7 | 73 => Def::Other,
                        _ => match result_type {
                            Some(t) => Def::Value(t),
                            None => Def::Other,
                        },
                    };
                    if in_fn && op != 54 {
                        local_of.insert(id, fn_no);
                    }
                    if defs.insert(id, def).is_some() {
                        return Err(at(&format!("id {id} is defined twice")));
                    }
                    k += 1;
                }
                _ => {
                    if c == b'T' {
                        result_type = Some(ops[k]);
                    }
                    uses.push((i, c, ops[k]));
                    k += 1;
                }
            }
        }
        if k != ops.len() {
            return Err(at(&format!(
                "{} operand words, more than its grammar allows",
                ops.len()
            )));
        }
        check_literals(op, ops).map_err(|m| at(&m))?;
        let here = (in_fn || op == 56).then_some(fn_no);
        use_fn.resize(uses.len(), None);
        for u in &mut use_fn[uses_before..] {
            *u = here;
        }
        match op {
            11 => {
                let (name, _) = string(&ops[1..]);
                if !EXT_SETS.contains(&name.as_str()) {
                    return Err(at(&format!(
                        "extended instruction set {name:?} is not one of {EXT_SETS:?}"
                    )));
                }
                ext_sets.insert(ops[0], name);
            }
            12 => {
                let opencl = ext_sets.get(&ops[2]).is_some_and(|n| n == "OpenCL.std");
                if opencl && ops[3] > 185 {
                    return Err(at(&format!("OpenCL.std has no instruction {}", ops[3])));
                }
            }
            _ => {}
        }
        match op {
            54 => fn_params.push((i, ops[3], 0)),
            55 => {
                if let Some(f) = fn_params.last_mut() {
                    f.2 += 1;
                }
            }
            _ => {}
        }
    }
    if in_fn {
        return Err("malformed SPIR-V: the last function has no OpFunctionEnd".into());
    }
    if memory_models != 1 {
        return Err(format!(
            "malformed SPIR-V: {memory_models} OpMemoryModel instructions, not 1"
        ));
    }
    for (n, &(at, c, id)) in uses.iter().enumerate() {
        let bad = |m: &str| {
            Err(format!(
                "malformed SPIR-V: the instruction at word {at} uses id {id}, {m}"
            ))
        };
        if id == 0 || id >= bound {
            return bad(&format!("outside 1 to {}", bound - 1));
        }
        let Some(&d) = defs.get(&id) else {
            return bad("which is not defined");
        };
        if let (Some(&f), Some(g)) = (local_of.get(&id), use_fn[n]) {
            if f != g {
                return bad(&format!("defined in function {f}, used in function {g}"));
            }
        }
        let ok = match c {
            b'T' | b't' => matches!(d, Def::Type(_)),
            b'V' => matches!(d, Def::Value(_)),
            b'P' => match d {
                Def::Value(t) => defs.get(&t) == Some(&Def::Type(32)),
                _ => false,
            },
            b'B' => d == Def::Label,
            b'F' => matches!(d, Def::Function(_)),
            b'X' => d == Def::ExtSet,
            _ => true,
        };
        if !ok {
            let want = match c {
                b'T' | b't' => "a type",
                b'V' => "a value",
                b'P' => "a pointer",
                b'B' => "a label",
                b'X' => "an extended instruction set",
                _ => "a function",
            };
            return bad(&format!("which is not {want}"));
        }
    }
    check_dominance(ws, &uses)?;
    check_functions(ws, &defs)?;
    // A function declares the parameters its type lists.
    let mut fn_types: HashMap<u32, usize> = HashMap::new();
    // The framing was checked by the walk above.
    for (_, op, ins) in instructions(ws).flatten() {
        if op == 33 {
            fn_types.insert(ins[1], ins.len() - 3);
        }
    }
    for (at, ty, n) in fn_params {
        match fn_types.get(&ty) {
            Some(&want) if want == n => {}
            Some(&want) => {
                return Err(format!(
                "malformed SPIR-V: the function at word {at} has {n} parameters, its type {want}"
            ))
            }
            None => {
                return Err(format!(
                    "malformed SPIR-V: the function at word {at} has type {ty}, not a function type"
                ))
            }
        }
    }
    Ok(())
}

/// Check that functions, their parameters, returns and calls agree with
/// their function types (the runtime's compiler crashed in LLVM's
/// called-value propagation on a kernel whose function type was made to
/// return a long while its body returned nothing): an OpFunction's result
/// type is its type's return type; parameters have the types it lists, in
/// order; OpReturn only in functions returning void, OpReturnValue with a
/// value of the return type otherwise; a call's result type and arguments
/// are the callee's; a kernel returns void. Ids and their kinds are
/// already checked.
fn check_functions(ws: &[u32], defs: &HashMap<u32, Def>) -> Result<(), String> {
    // Function types: id -> (return type, parameter types).
    let mut fn_types: HashMap<u32, (u32, Vec<u32>)> = HashMap::new();
    // Functions: id -> their function type.
    let mut fn_of: HashMap<u32, u32> = HashMap::new();
    let mut kernels: Vec<(usize, u32)> = Vec::new();
    for (i, op, ins) in instructions(ws).flatten() {
        match op {
            33 => {
                fn_types.insert(ins[1], (ins[2], ins[3..].to_vec()));
            }
            54 => {
                fn_of.insert(ins[2], ins[4]);
            }
            15 if ins[1] == EXEC_KERNEL => kernels.push((i, ins[2])),
            _ => {}
        }
    }
    let value_type = |id: u32| match defs.get(&id) {
        Some(Def::Value(t)) => Some(*t),
        _ => None,
    };
    let is_void = |t: u32| defs.get(&t) == Some(&Def::Type(19));
    let sig = |f: u32| fn_of.get(&f).and_then(|t| fn_types.get(t));
    for (at, f) in kernels {
        if let Some((ret, _)) = sig(f) {
            if !is_void(*ret) {
                return Err(format!(
                    "malformed SPIR-V: the kernel entry point at word {at} returns type {ret}, not void"
                ));
            }
        }
    }
    let mut current: Option<(u32, &[u32], usize)> = None; // (return type, parameter types, next parameter)
    for (i, op, ins) in instructions(ws).flatten() {
        let bad = |m: String| Err(format!("malformed SPIR-V: Op{op} at word {i}: {m}"));
        match op {
            54 => {
                let Some((ret, params)) = fn_types.get(&ins[4]) else {
                    return bad(format!("type {} is not a function type", ins[4]));
                };
                if *ret != ins[1] {
                    return bad(format!(
                        "result type {} is not its function type's return type {ret}",
                        ins[1]
                    ));
                }
                current = Some((*ret, params.as_slice(), 0));
            }
            55 => {
                if let Some((_, params, next)) = current.as_mut() {
                    if params.get(*next) != Some(&ins[1]) {
                        return bad(format!(
                            "parameter {next} has type {}, its function type says {:?}",
                            ins[1],
                            params.get(*next)
                        ));
                    }
                    *next += 1;
                }
            }
            253 => {
                if let Some((ret, ..)) = current {
                    if !is_void(ret) {
                        return bad(format!("OpReturn in a function returning type {ret}"));
                    }
                }
            }
            254 => {
                if let Some((ret, ..)) = current {
                    if is_void(ret) || value_type(ins[1]) != Some(ret) {
                        return bad(format!(
                            "returns a value of type {:?} from a function returning type {ret}",
                            value_type(ins[1])
                        ));
                    }
                }
            }
            57 => {
                let Some((ret, params)) = sig(ins[3]) else {
                    return bad(format!("{} is not a function", ins[3]));
                };
                let args = &ins[4..];
                if *ret != ins[1] || args.len() != params.len() {
                    return bad(format!(
                        "a call with result type {} and {} arguments of a function returning {ret} with {} parameters",
                        ins[1],
                        args.len(),
                        params.len()
                    ));
                }
                for (k, (a, p)) in args.iter().zip(params).enumerate() {
                    if value_type(*a) != Some(*p) {
                        return bad(format!(
                            "argument {k} has type {:?}, the parameter {p}",
                            value_type(*a)
                        ));
                    }
                }
            }
            56 => current = None,
            _ => {}
        }
    }
    Ok(())
}

/// The dominator tree of a function's blocks (block 0 the entry), for
/// "is a defined on every path to b" in one comparison: each block the
/// entry reaches has its interval in a walk of the tree.
struct Dominators {
    reach: Vec<bool>,
    pre: Vec<usize>,
    post: Vec<usize>,
}

impl Dominators {
    /// The tree of the graph `succs` (Cooper, Harvey and Kennedy's
    /// iteration over the reverse post-order; no recursion, so a long
    /// chain of blocks cannot overflow the stack).
    fn new(succs: &[Vec<usize>]) -> Self {
        let n = succs.len();
        let mut reach = vec![false; n];
        let mut order = Vec::with_capacity(n);
        if n > 0 {
            reach[0] = true;
            let mut stack = vec![(0usize, 0usize)];
            while let Some(top) = stack.last_mut() {
                let (b, k) = *top;
                if k < succs[b].len() {
                    top.1 += 1;
                    let s = succs[b][k];
                    if !reach[s] {
                        reach[s] = true;
                        stack.push((s, 0));
                    }
                } else {
                    order.push(b);
                    stack.pop();
                }
            }
            order.reverse();
        }
        let mut rpo = vec![usize::MAX; n];
        for (i, &b) in order.iter().enumerate() {
            rpo[b] = i;
        }
        let mut preds = vec![Vec::new(); n];
        for (b, ss) in succs.iter().enumerate() {
            if reach[b] {
                for &s in ss {
                    preds[s].push(b);
                }
            }
        }
        const NONE: usize = usize::MAX;
        let mut idom = vec![NONE; n];
        if n > 0 {
            idom[0] = 0;
        }
        let intersect = |idom: &[usize], mut a: usize, mut b: usize| {
            while a != b {
                while rpo[a] > rpo[b] {
                    a = idom[a];
                }
                while rpo[b] > rpo[a] {
                    b = idom[b];
                }
            }
            a
        };
        let mut changed = true;
        while changed {
            changed = false;
            for &b in order.iter().skip(1) {
                let mut new = NONE;
                for &p in &preds[b] {
                    if idom[p] != NONE {
                        new = if new == NONE {
                            p
                        } else {
                            intersect(&idom, p, new)
                        };
                    }
                }
                if idom[b] != new {
                    idom[b] = new;
                    changed = true;
                }
            }
        }
        let mut children = vec![Vec::new(); n];
        for &b in order.iter().skip(1) {
            children[idom[b]].push(b);
        }
        let (mut pre, mut post) = (vec![0; n], vec![0; n]);
        let mut clock = 0;
        if n > 0 {
            let mut stack = vec![(0usize, 0usize)];
            pre[0] = clock;
            while let Some(top) = stack.last_mut() {
                let (b, k) = *top;
                if k < children[b].len() {
                    top.1 += 1;
                    let c = children[b][k];
                    clock += 1;
                    pre[c] = clock;
                    stack.push((c, 0));
                } else {
                    clock += 1;
                    post[b] = clock;
                    stack.pop();
                }
            }
        }
        Dominators { reach, pre, post }
    }

    /// Whether every path from the entry to `b` passes through `a` (both
    /// reached from the entry).
    fn dominates(&self, a: usize, b: usize) -> bool {
        self.reach[a] && self.reach[b] && self.pre[a] <= self.pre[b] && self.post[b] <= self.post[a]
    }
}

/// A block of a function: the words of its label and its terminator, and
/// the labels its terminator branches to.
struct Block {
    start: usize,
    end: usize,
    targets: Vec<u32>,
}

/// A function being checked by `check_dominance`.
#[derive(Default)]
struct Func {
    blocks: Vec<Block>,
    label_ix: HashMap<u32, usize>,
    /// Where each value the function's instructions define is defined:
    /// (block, word).
    defs: HashMap<u32, (usize, usize)>,
    /// The OpPhi instructions: (word, block).
    phis: Vec<(usize, usize)>,
    /// Whether the current block has had an instruction other than OpPhi
    /// and debug lines.
    past_phis: bool,
}

/// Check SPIR-V's rules on the flow of values inside functions, which the
/// runtime's compiler relies on without checking (its optimiser recursed
/// without end on an add that used a later result of its own block):
/// each value a function computes is defined on every path to each of its
/// uses (in blocks the entry does not reach: defined earlier in the
/// function); the values an OpPhi takes come from definitions on every
/// path to their parent blocks, which are exactly the predecessors of the
/// phi's block; OpPhi instructions start their block; no branch targets a
/// function's entry block. `uses` are `validate`'s id uses, in the order
/// of the instructions that make them; the module's framing, layout and
/// id kinds are already checked.
fn check_dominance(ws: &[u32], uses: &[(usize, u8, u32)]) -> Result<(), String> {
    let mut int_width: HashMap<u32, u32> = HashMap::new();
    let mut value_ty: HashMap<u32, u32> = HashMap::new();
    let mut func: Option<Func> = None;
    let mut next_use = 0usize;
    let mut fn_start = 0usize;
    for ins in instructions(ws) {
        let (i, op, ins) = ins?;
        let at = |m: &str| format!("malformed SPIR-V: Op{op} at word {i}: {m}");
        let g = grammar(op).unwrap_or("");
        if op == OP_TYPE_INT {
            int_width.insert(ins[1], ins[2]);
        }
        if g.starts_with("TR") {
            value_ty.insert(ins[2], ins[1]);
        }
        if op == OP_FUNCTION {
            func = Some(Func::default());
            fn_start = i;
            continue;
        }
        let Some(f) = func.as_mut() else {
            continue;
        };
        if op == 56 {
            next_use = check_function(ws, f, fn_start, i, uses, next_use)?;
            func = None;
            continue;
        }
        if op == 248 {
            f.label_ix.insert(ins[1], f.blocks.len());
            f.blocks.push(Block {
                start: i,
                end: i,
                targets: Vec::new(),
            });
            f.past_phis = false;
            continue;
        }
        let Some(b) = f.blocks.len().checked_sub(1) else {
            continue; // parameters and debug lines before the first block
        };
        if f.blocks[b].end != f.blocks[b].start {
            continue; // between blocks: the layout check allows only debug lines here
        }
        if op == 245 {
            if f.past_phis {
                return Err(at("an OpPhi after other instructions of its block"));
            }
            f.phis.push((i, b));
        } else if !matches!(op, 8 | 317) {
            f.past_phis = true;
        }
        let result = if g.starts_with("TR") {
            Some(ins[2])
        } else if g.starts_with('R') {
            Some(ins[1])
        } else {
            None
        };
        if let Some(r) = result {
            f.defs.insert(r, (b, i));
        }
        if terminator(op) {
            let block = &mut f.blocks[b];
            block.end = i;
            block.targets = match op {
                249 => vec![ins[1]],
                250 => vec![ins[2], ins[3]],
                251 => {
                    let width = value_ty.get(&ins[1]).and_then(|t| int_width.get(t));
                    let Some(&width) = width else {
                        return Err(at("the selector is not an integer"));
                    };
                    let step = width.div_ceil(32) as usize + 1;
                    let cases = &ins[3..];
                    if cases.len() % step != 0 {
                        return Err(at("case literals and labels do not pair up"));
                    }
                    let mut t = vec![ins[2]];
                    t.extend(cases.chunks(step).map(|c| c[step - 1]));
                    t
                }
                _ => Vec::new(),
            };
        }
    }
    Ok(())
}

/// The checks of `check_dominance` for one function (words `start` to
/// `end`); returns the index of the first use after it.
fn check_function(
    ws: &[u32],
    f: &Func,
    start: usize,
    end: usize,
    uses: &[(usize, u8, u32)],
    mut next_use: usize,
) -> Result<usize, String> {
    let n = f.blocks.len();
    let mut succs = vec![Vec::new(); n];
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (b, block) in f.blocks.iter().enumerate() {
        for t in &block.targets {
            let Some(&s) = f.label_ix.get(t) else {
                return Err(format!(
                    "malformed SPIR-V: the branch at word {} targets {t}, not a block of its function",
                    block.end
                ));
            };
            if s == 0 {
                return Err(format!(
                    "malformed SPIR-V: the branch at word {} targets its function's entry block",
                    block.end
                ));
            }
            if !succs[b].contains(&s) {
                succs[b].push(s);
                preds[s].push(b);
            }
        }
    }
    let dom = Dominators::new(&succs);
    // The block holding word `w`, if any.
    let block_of = |w: usize| {
        let b = f.blocks.partition_point(|k| k.start <= w);
        (b > 0 && w <= f.blocks[b - 1].end).then(|| b - 1)
    };
    let bad = |w: usize, id: u32, dw: usize| {
        Err(format!(
            "malformed SPIR-V: the instruction at word {w} uses id {id} on a path that does not pass its definition (at word {dw})"
        ))
    };
    while next_use < uses.len() && uses[next_use].0 < start {
        next_use += 1;
    }
    while next_use < uses.len() && uses[next_use].0 <= end {
        let (w, c, id) = uses[next_use];
        next_use += 1;
        if !matches!(c, b'V' | b'P' | b'I') || ws[w] & 0xffff == 245 {
            continue;
        }
        let (Some(&(db, dw)), Some(ub)) = (f.defs.get(&id), block_of(w)) else {
            continue;
        };
        // In its own block, or in a block the entry does not reach, a
        // value is defined before its use; elsewhere on every path to it.
        let ok = if db == ub || !dom.reach[ub] {
            dw < w
        } else {
            dom.dominates(db, ub)
        };
        if !ok {
            return bad(w, id, dw);
        }
    }
    for &(w, b) in &f.phis {
        let ins = &ws[w..w + (ws[w] >> 16) as usize];
        let mut parents = Vec::new();
        for pair in ins[3..].chunks(2) {
            let (v, label) = (pair[0], pair[1]);
            let Some(&p) = f.label_ix.get(&label) else {
                return Err(format!(
                    "malformed SPIR-V: the OpPhi at word {w} names {label}, not a block of its function"
                ));
            };
            if parents.contains(&p) || !preds[b].contains(&p) {
                return Err(format!(
                    "malformed SPIR-V: the OpPhi at word {w} names block {label} twice or one that does not branch to it"
                ));
            }
            parents.push(p);
            if let Some(&(db, dw)) = f.defs.get(&v) {
                if dom.reach[p] && !dom.dominates(db, p) {
                    return bad(w, v, dw);
                }
            }
        }
        if parents.len() != preds[b].len() {
            return Err(format!(
                "malformed SPIR-V: the OpPhi at word {w} has {} parents, its block {} predecessors",
                parents.len(),
                preds[b].len()
            ));
        }
    }
    Ok(next_use)
}

/// Read the kernels of a SPIR-V module. Fails when the bytes are not a
/// well-formed SPIR-V module of the instructions dpcore knows
/// (see `validate`).
pub fn kernels(bytes: &[u8]) -> Result<Vec<KernelSig>, String> {
    let ws = words(bytes)?;
    validate(&ws)?;
    let mut types: HashMap<u32, Ty> = HashMap::new();
    let mut entry: Vec<(u32, String)> = Vec::new();
    let mut params: HashMap<u32, Vec<(u32, u32)>> = HashMap::new(); // function -> (param id, type)
    let mut byval: std::collections::HashSet<u32> = Default::default();
    let mut current_fn: Option<u32> = None;
    for ins in instructions(&ws) {
        let (_, op, ins) = ins?;
        let wc = ins.len();
        match op {
            OP_ENTRY_POINT if wc >= 4 && ins[1] == EXEC_KERNEL => {
                let (name, _) = string(&ins[3..]);
                entry.push((ins[2], name));
            }
            OP_TYPE_BOOL if wc >= 2 => {
                types.insert(ins[1], Ty::Scalar(1));
            }
            OP_TYPE_INT | OP_TYPE_FLOAT if wc >= 3 => {
                types.insert(ins[1], Ty::Scalar((ins[2] as usize).div_ceil(8)));
            }
            OP_TYPE_VECTOR if wc >= 4 => {
                if let Some(Ty::Scalar(e)) = types.get(&ins[2]).copied() {
                    // OpenCL's 3-element vectors take the room of 4.
                    let n = if ins[3] == 3 { 4 } else { ins[3] as usize };
                    types.insert(ins[1], Ty::Scalar(e * n));
                }
            }
            OP_TYPE_POINTER if wc >= 4 => {
                types.insert(ins[1], Ty::Pointer(ins[2]));
            }
            OP_FUNCTION if wc >= 5 => {
                current_fn = Some(ins[2]);
                params.entry(ins[2]).or_default();
            }
            OP_FUNCTION_PARAMETER if wc >= 3 => {
                if let Some(f) = current_fn {
                    params.entry(f).or_default().push((ins[2], ins[1]));
                }
            }
            OP_DECORATE
                if wc >= 4
                    && ins[2] == DECORATION_FUNC_PARAM_ATTR
                    && ins[3] == FUNC_PARAM_ATTR_BYVAL =>
            {
                byval.insert(ins[1]);
            }
            _ => {}
        }
    }
    Ok(entry
        .into_iter()
        .map(|(id, name)| {
            let ps = params.get(&id).cloned().unwrap_or_default();
            let params = ps
                .iter()
                .map(|(pid, ty)| {
                    if byval.contains(pid) {
                        return Param::ScalarAnySize;
                    }
                    match types.get(ty) {
                        Some(Ty::Pointer(STORAGE_WORKGROUP)) => Param::Local,
                        Some(Ty::Pointer(_)) => Param::Pointer,
                        Some(Ty::Scalar(n)) => Param::Scalar(*n),
                        None => Param::ScalarAnySize,
                    }
                })
                .collect();
            KernelSig { name, params }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(op: u32, operands: &[u32]) -> Vec<u32> {
        let mut v = vec![((operands.len() as u32 + 1) << 16) | op];
        v.extend_from_slice(operands);
        v
    }

    fn name_words(s: &str) -> Vec<u32> {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b.chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    /// A module of `body` after `OpMemoryModel Physical64 OpenCL`.
    fn module(body: &[Vec<u32>]) -> Vec<u8> {
        let mut w = vec![MAGIC, 0x0001_0000, 0, 100, 0];
        w.extend(ins(14, &[2, 2]));
        for i in body {
            w.extend(i);
        }
        w.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn reads_kernels_and_parameter_kinds() {
        // %1 = int32, %2 = ptr CrossWorkgroup int, %3 = ptr Workgroup int,
        // %4 = float64, %5 = void fn(ptr, ptr, int, double), %6 = kernel.
        let mut ep = vec![EXEC_KERNEL, 6];
        ep.extend(name_words("vadd"));
        let m = module(&vadd_body(&ep));
        let k = kernels(&m).unwrap();
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].name, "vadd");
        assert_eq!(
            k[0].params,
            vec![
                Param::Pointer,
                Param::Local,
                Param::Scalar(4),
                Param::Scalar(8),
                Param::Scalar(16)
            ]
        );
    }

    /// %7 = void, %5 = void fn(ptr, local ptr, int, double, int3), %6 = the
    /// kernel, with its body.
    fn vadd_body(ep: &[u32]) -> Vec<Vec<u32>> {
        vec![
            ins(OP_ENTRY_POINT, ep),
            ins(19, &[7]), // OpTypeVoid
            ins(OP_TYPE_INT, &[1, 32, 0]),
            ins(OP_TYPE_POINTER, &[2, 5, 1]),
            ins(OP_TYPE_POINTER, &[3, STORAGE_WORKGROUP, 1]),
            ins(OP_TYPE_FLOAT, &[4, 64]),
            ins(OP_TYPE_VECTOR, &[9, 1, 3]),
            ins(33, &[5, 7, 2, 3, 1, 4, 9]), // OpTypeFunction
            ins(OP_FUNCTION, &[7, 6, 0, 5]),
            ins(OP_FUNCTION_PARAMETER, &[2, 10]),
            ins(OP_FUNCTION_PARAMETER, &[3, 11]),
            ins(OP_FUNCTION_PARAMETER, &[1, 12]),
            ins(OP_FUNCTION_PARAMETER, &[4, 13]),
            ins(OP_FUNCTION_PARAMETER, &[9, 14]),
            ins(248, &[15]), // OpLabel
            ins(253, &[]),   // OpReturn
            ins(56, &[]),    // OpFunctionEnd
        ]
    }

    /// Modules the OpenCL runtime's SPIR-V reader aborts the process on
    /// (found by the fuzzer) are refused by the grammar check.
    #[test]
    fn grammar_check_refuses_broken_modules() {
        let mut ep = vec![EXEC_KERNEL, 6];
        ep.extend(name_words("vadd"));
        let good = vadd_body(&ep);
        assert!(kernels(&module(&good)).is_ok());
        let with = |at: usize, i: Vec<u32>| {
            let mut b = good.clone();
            b[at] = i;
            kernels(&module(&b)).unwrap_err()
        };
        // A use of id 0 and of an id never defined.
        assert!(with(13, ins(OP_FUNCTION_PARAMETER, &[0, 14])).contains("id 0"));
        assert!(with(13, ins(OP_FUNCTION_PARAMETER, &[77, 14])).contains("not defined"));
        // A result type that is not a type; a pointer type of a non-type.
        assert!(with(13, ins(OP_FUNCTION_PARAMETER, &[12, 14])).contains("not a type"));
        assert!(with(3, ins(OP_TYPE_POINTER, &[2, 5, 6])).contains("not a type"));
        // Operand counts.
        assert!(with(2, ins(OP_TYPE_INT, &[1, 32])).contains("fewer"));
        assert!(with(15, ins(253, &[1])).contains("more"));
        // An unknown instruction, an id past the bound, defined twice.
        assert!(with(15, ins(4000, &[])).contains("not an instruction"));
        assert!(with(1, ins(19, &[100])).contains("result id 100"));
        assert!(with(1, ins(19, &[1])).contains("defined twice"));
        // Layout: a label outside a function, a missing function end, a
        // parameter count that is not the type's.
        let mut b = good.clone();
        b.insert(1, ins(248, &[16]));
        assert!(kernels(&module(&b)).unwrap_err().contains("outside"));
        let mut b = good.clone();
        b.pop();
        assert!(kernels(&module(&b))
            .unwrap_err()
            .contains("no OpFunctionEnd"));
        let mut b = good.clone();
        b.remove(13);
        assert!(kernels(&module(&b)).unwrap_err().contains("parameters"));
        // An id of one function used in another.
        let mut b = good.clone();
        b.extend([
            ins(OP_FUNCTION, &[7, 20, 0, 5]),
            ins(OP_FUNCTION_PARAMETER, &[2, 21]),
            ins(OP_FUNCTION_PARAMETER, &[3, 22]),
            ins(OP_FUNCTION_PARAMETER, &[1, 23]),
            ins(OP_FUNCTION_PARAMETER, &[4, 24]),
            ins(OP_FUNCTION_PARAMETER, &[9, 25]),
            ins(248, &[26]),
            ins(61, &[1, 27, 10]), // OpLoad %1 %27 from the first function's %10
            ins(253, &[]),
            ins(56, &[]),
        ]);
        assert!(kernels(&module(&b))
            .unwrap_err()
            .contains("used in function 2"));
        b[24] = ins(61, &[1, 27, 21]); // its own parameter
        assert!(kernels(&module(&b)).is_ok());
        // Memory-access masks that announce operands.
        let mut b = good.clone();
        b.insert(15, ins(61, &[1, 30, 10, 0x6b72_6f77]));
        assert!(kernels(&module(&b)).unwrap_err().contains("memory access"));
        b[15] = ins(61, &[1, 30, 10, 2, 4]); // Aligned 4
        assert!(kernels(&module(&b)).is_ok());
        // Enumerants and sizes out of range.
        let mut m = module(&good);
        m[24..28].copy_from_slice(&0xFFFF_0004u32.to_le_bytes()); // addressing model
        assert!(kernels(&m).unwrap_err().contains("addressing model"));
        assert!(with(2, ins(OP_TYPE_INT, &[1, 33, 0])).contains("integer width"));
        assert!(with(3, ins(OP_TYPE_POINTER, &[2, 99, 1])).contains("storage class"));
        // A parameter attribute the reader's LLVM verifier crashes on.
        let mut b = good.clone();
        b.insert(
            1,
            ins(OP_DECORATE, &[10, DECORATION_FUNC_PARAM_ATTR, 0x2a2a]),
        );
        assert!(kernels(&module(&b)).unwrap_err().contains("decoration 38"));
        b[1] = ins(OP_DECORATE, &[10, DECORATION_FUNC_PARAM_ATTR, 5]); // NoCapture
        assert!(kernels(&module(&b)).is_ok());
        // Bad header words.
        let mut m = module(&good);
        m[12..16].copy_from_slice(&0u32.to_le_bytes()); // bound 0
        assert!(kernels(&m).unwrap_err().contains("bound"));
        let mut m = module(&good);
        m[4..8].copy_from_slice(&0x0009_0000u32.to_le_bytes());
        assert!(kernels(&m).unwrap_err().contains("version"));
    }

    /// A function `void f(int x)` whose entry block branches on `x == 0`
    /// to block A (`%15 = x + x`) or straight to block B, which joins them
    /// with `%16 = phi [%15, A], [x, entry]` and returns.
    fn branchy() -> Vec<Vec<u32>> {
        vec![
            ins(19, &[7]), // %7 void
            ins(OP_TYPE_INT, &[1, 32, 0]),
            ins(OP_TYPE_BOOL, &[2]),
            ins(33, &[5, 7, 1]), // void(int)
            ins(43, &[1, 3, 0]), // %3 = 0
            ins(OP_FUNCTION, &[7, 6, 0, 5]),
            ins(OP_FUNCTION_PARAMETER, &[1, 10]),
            ins(248, &[11]),           // entry
            ins(170, &[2, 12, 10, 3]), // %12 = x == 0
            ins(250, &[12, 13, 14]),
            ins(248, &[13]),            // A
            ins(128, &[1, 15, 10, 10]), // %15 = x + x
            ins(249, &[14]),
            ins(248, &[14]), // B
            ins(245, &[1, 16, 15, 13, 10, 11]),
            ins(128, &[1, 17, 16, 16]),
            ins(253, &[]),
            ins(56, &[]),
        ]
    }

    /// Values used on a path that does not pass their definition, and
    /// broken OpPhi and branch rules, are refused (the runtime's optimiser
    /// recursed without end on `%96 = %95 + %107` with %107 defined later
    /// in the block); the rules hold for real compilers' output.
    #[test]
    fn dominance_and_phi_rules() {
        let good = branchy();
        assert!(kernels(&module(&good)).is_ok());
        let with = |at: usize, i: Vec<u32>| {
            let mut b = good.clone();
            b[at] = i;
            kernels(&module(&b))
        };
        let refused = |r: Result<Vec<KernelSig>, String>, what: &str| {
            let e = r.unwrap_err();
            assert!(e.contains(what), "{e}");
        };
        let path = "does not pass its definition";
        // %15 is defined in A only: not on the entry -> B path.
        refused(with(15, ins(128, &[1, 17, 15, 16])), path);
        // An instruction that uses its own result, or a later one.
        refused(with(11, ins(128, &[1, 15, 10, 15])), path);
        refused(with(8, ins(170, &[2, 12, 10, 15])), path);
        // The phi's value from the entry is %15, defined in A.
        refused(with(14, ins(245, &[1, 16, 15, 13, 15, 11])), path);
        // Parents that are not the predecessors, or not all of them.
        refused(
            with(14, ins(245, &[1, 16, 15, 13, 10, 14])),
            "does not branch to it",
        );
        refused(with(14, ins(245, &[1, 16, 15, 13, 10, 13])), "twice");
        refused(
            with(14, ins(245, &[1, 16, 15, 13])),
            "1 parents, its block 2",
        );
        // A branch back to the entry block.
        refused(with(12, ins(249, &[11])), "entry block");
        // A string whose last word has bytes after its NUL.
        let mut b = good.clone();
        b.insert(0, ins(5, &[15, u32::from_le_bytes(*b"ab\0c")]));
        refused(kernels(&module(&b)), "padded with zeros");
        b[0] = ins(5, &[15, u32::from_le_bytes(*b"ab\0\0")]);
        assert!(kernels(&module(&b)).is_ok());
        // A phi after another instruction of its block.
        let mut b = good.clone();
        b.insert(14, ins(128, &[1, 18, 10, 10]));
        refused(kernels(&module(&b)), "OpPhi after");
        // A switch on x: to A on 1, to B on 2 and by default (A and B
        // then have the entry as a predecessor: the phi still matches).
        assert!(with(9, ins(251, &[10, 14, 1, 13, 2, 14])).is_ok());
        refused(with(9, ins(251, &[12, 14, 1, 13])), "not an integer");
        refused(with(9, ins(251, &[10, 14, 1, 13, 2])), "pair up");
        // A block the entry does not reach may use what comes before it,
        // not what comes after it.
        let mut b = good.clone();
        let end = b.len() - 1;
        b.splice(
            end..end,
            [ins(248, &[20]), ins(128, &[1, 21, 17, 10]), ins(253, &[])],
        );
        assert!(kernels(&module(&b)).is_ok());
        b[end + 1] = ins(128, &[1, 21, 21, 10]);
        refused(kernels(&module(&b)), path);
        // Source languages the runtime's kernel-argument pass crashes on.
        let mut b = good.clone();
        b.insert(0, ins(3, &[3, 200_000]));
        assert!(kernels(&module(&b)).is_ok());
        b[0] = ins(3, &[7, 202_012]); // SYCL
        refused(kernels(&module(&b)), "source language 7");
    }

    /// Functions that disagree with their types are refused (the runtime's
    /// compiler crashed on a kernel whose type was made to return a long).
    #[test]
    fn functions_agree_with_their_types() {
        let mut ep = vec![EXEC_KERNEL, 6];
        ep.extend(name_words("vadd"));
        let good = vadd_body(&ep);
        let with = |at: usize, i: Vec<u32>| {
            let mut b = good.clone();
            b[at] = i;
            kernels(&module(&b)).unwrap_err()
        };
        // The kernel's type returns an int; then the same without the entry point.
        assert!(with(7, ins(33, &[5, 1, 2, 3, 1, 4, 9])).contains("not void"));
        let mut b = good.clone();
        b[7] = ins(33, &[5, 1, 2, 3, 1, 4, 9]);
        b.remove(0);
        assert!(kernels(&module(&b)).unwrap_err().contains("return type"));
        // A parameter of another type than the function type lists.
        assert!(with(9, ins(OP_FUNCTION_PARAMETER, &[1, 10])).contains("parameter 0"));
        // OpReturnValue from the void function of branchy().
        let mut b = branchy();
        b[16] = ins(254, &[16]);
        assert!(kernels(&module(&b))
            .unwrap_err()
            .contains("returns a value"));
        // A call with the wrong argument count, then a right one.
        let mut b = branchy();
        b.insert(16, ins(57, &[7, 30, 6]));
        assert!(kernels(&module(&b)).unwrap_err().contains("0 arguments"));
        b[16] = ins(57, &[7, 30, 6, 16]);
        assert!(kernels(&module(&b)).is_ok());
    }

    #[test]
    fn byte_swapped_modules_and_errors() {
        let m = module(&[]);
        let swapped: Vec<u8> = m.chunks(4).flat_map(|c| [c[3], c[2], c[1], c[0]]).collect();
        assert_eq!(kernels(&swapped).unwrap(), vec![]);
        assert!(kernels(&[1, 2, 3])
            .unwrap_err()
            .contains("not a SPIR-V module"));
        assert!(kernels(&[0u8; 20]).unwrap_err().contains("magic"));
        let mut bad = module(&[]);
        bad.extend_from_slice(&(5u32 << 16 | 21).to_le_bytes());
        assert!(kernels(&bad).unwrap_err().contains("malformed"));
    }
}
