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

/// Read the kernels of a SPIR-V module. Fails only when the bytes are not a
/// well-formed SPIR-V instruction stream.
pub fn kernels(bytes: &[u8]) -> Result<Vec<KernelSig>, String> {
    let ws = words(bytes)?;
    let mut types: HashMap<u32, Ty> = HashMap::new();
    let mut entry: Vec<(u32, String)> = Vec::new();
    let mut params: HashMap<u32, Vec<(u32, u32)>> = HashMap::new(); // function -> (param id, type)
    let mut byval: std::collections::HashSet<u32> = Default::default();
    let mut current_fn: Option<u32> = None;
    let mut i = 5;
    while i < ws.len() {
        let wc = (ws[i] >> 16) as usize;
        let op = ws[i] & 0xffff;
        if wc == 0 || i + wc > ws.len() {
            return Err(format!(
                "malformed SPIR-V: instruction at word {i} has length {wc}"
            ));
        }
        let ins = &ws[i..i + wc];
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
        i += wc;
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

    fn module(body: &[Vec<u32>]) -> Vec<u8> {
        let mut w = vec![MAGIC, 0x0001_0000, 0, 100, 0];
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
        let m = module(&[
            ins(OP_ENTRY_POINT, &ep),
            ins(OP_TYPE_INT, &[1, 32, 0]),
            ins(OP_TYPE_POINTER, &[2, 5, 1]),
            ins(OP_TYPE_POINTER, &[3, STORAGE_WORKGROUP, 1]),
            ins(OP_TYPE_FLOAT, &[4, 64]),
            ins(OP_TYPE_VECTOR, &[9, 1, 3]),
            ins(33, &[5, 0, 2, 3, 1, 4, 9]), // OpTypeFunction (not needed by the reader)
            ins(OP_FUNCTION, &[0, 6, 0, 5]),
            ins(OP_FUNCTION_PARAMETER, &[2, 10]),
            ins(OP_FUNCTION_PARAMETER, &[3, 11]),
            ins(OP_FUNCTION_PARAMETER, &[1, 12]),
            ins(OP_FUNCTION_PARAMETER, &[4, 13]),
            ins(OP_FUNCTION_PARAMETER, &[9, 14]),
        ]);
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
