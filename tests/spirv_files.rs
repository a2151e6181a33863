//! The SPIR-V reader on the project's real kernels (kernels/*.spv, made by
//! clang-15 + llvm-spirv-15 from kernels/*.cl).

use dpcore::spirv::{kernels, Param};

fn read(name: &str) -> Vec<u8> {
    let p = format!("{}/kernels/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e} (run scripts/build-kernels.sh)"))
}

fn sig(file: &str, kernel: &str) -> Vec<Param> {
    let ks = kernels(&read(file)).unwrap();
    ks.iter()
        .find(|k| k.name == kernel)
        .unwrap_or_else(|| {
            panic!(
                "{kernel} not in {file}: {:?}",
                ks.iter().map(|k| &k.name).collect::<Vec<_>>()
            )
        })
        .params
        .clone()
}

#[test]
fn vadd_kernels_and_their_parameters() {
    use Param::*;
    let names: Vec<String> = kernels(&read("vadd.spv"))
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    for n in [
        "vadd_i32", "vadd_i64", "vadd_f32", "vadd_f64", "noop", "noop_ptr",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    assert_eq!(
        sig("vadd.spv", "vadd_i32"),
        vec![Pointer, Pointer, Pointer, Scalar(4)]
    );
    assert_eq!(
        sig("vadd.spv", "vadd_f64"),
        vec![Pointer, Pointer, Pointer, Scalar(8)]
    );
    assert_eq!(sig("vadd.spv", "noop"), vec![]);
}

#[test]
fn local_memory_vectors_and_many_arguments() {
    use Param::*;
    assert_eq!(
        sig("reduce.spv", "reduce_sum_f32"),
        vec![Pointer, Pointer, Local, Scalar(4)]
    );
    assert_eq!(
        sig("scalars.spv", "scalars"),
        vec![
            Pointer,
            Scalar(1),
            Scalar(2),
            Scalar(4),
            Scalar(8),
            Scalar(4),
            Scalar(8),
            Scalar(16)
        ]
    );
    let many = sig("many_args.spv", "sum64");
    assert_eq!(many.len(), 65);
    assert!(many[1..].iter().all(|p| *p == Scalar(8)));
}
