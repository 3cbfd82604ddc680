//! The built-in kernels: on the default OpenCL device they equal the CPU
//! fallback on random inputs, bit for bit (the float kernels are compiled
//! without contraction); the exact sums equal the closed formula, past
//! 64 bits; mismatched lengths and out-of-range sizes are errors; the CPU
//! fallback works with no device at all.

mod common;

use corun::ErrorKind;
use corun::gpu::{Builtins, Compute, GpuExecutor};

use common::{device, floats};

/// Σ i² for i in 0..n, from the closed formula (n − 1) n (2n − 1) / 6.
fn squares(n: u64) -> u128 {
    let n = u128::from(n);
    if n == 0 {
        return 0;
    }
    (n - 1) * n * (2 * n - 1) / 6
}

/// The sizes the sums are checked at: empty, tiny, the seeds' range (whose
/// sums exceed u64), and 10⁸.
const SIZES: [u64; 7] = [0, 1, 2, 5, 5_000_000, 5_000_019, 100_000_000];

/// Pseudo-random u64s, many near the top of the range (their sum
/// overflows u64 many times over).
fn big_u64s(n: usize) -> Vec<u64> {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 3 == 0 {
                u64::MAX - (x & 0xffff)
            } else {
                x
            }
        })
        .collect()
}

fn every_compute() -> Vec<Compute> {
    let mut all = vec![Compute::cpu(), Compute::cpu_with(3).unwrap()];
    if let Some(device) = device() {
        all.push(Compute::on(&device).unwrap());
    }
    all
}

#[test]
fn exact_sums_of_squares_equal_the_closed_formula() {
    for compute in every_compute() {
        for n in SIZES {
            let sum = compute.sum_of_squares(n).unwrap().result().unwrap();
            assert_eq!(sum, squares(n), "n = {n} on {}", compute.name());
        }
        assert!(squares(5_000_000) > u128::from(u64::MAX));
    }
}

/// The seeds' CPU experiment: the 20 sums for n = 5 000 000 + k.
#[test]
fn the_twenty_sums_total_what_python_gets() {
    for compute in every_compute() {
        let tasks: Vec<_> = (0..20)
            .map(|k| compute.sum_of_squares(5_000_000 + k).unwrap())
            .collect();
        let total: u128 = tasks.into_iter().map(|t| t.result().unwrap()).sum();
        assert_eq!(total, 833_337_833_344_750_010_830, "on {}", compute.name());
    }
}

#[test]
fn sum_u64_is_exact_past_64_bits() {
    for compute in every_compute() {
        for n in [0, 1, 7, 4096, 4097, 100_003] {
            let xs = big_u64s(n);
            let expected: u128 = xs.iter().map(|&x| u128::from(x)).sum();
            let sum = compute.sum_u64(&xs).unwrap().result().unwrap();
            assert_eq!(sum, expected, "n = {n} on {}", compute.name());
        }
    }
}

#[test]
fn float_kernels_on_the_device_equal_the_cpu_bit_for_bit() {
    let Some(device) = device() else { return };
    let gpu = Compute::on(&device).unwrap();
    let cpu = Compute::cpu();
    for n in [1, 3, 1000, 1 << 16, (1 << 20) + 7] {
        let (x, y) = (floats(n, 1), floats(n, 2));
        let on_gpu = gpu.vector_add(&x, &y).unwrap().result().unwrap();
        let on_cpu = cpu.vector_add(&x, &y).unwrap().result().unwrap();
        assert_eq!(on_gpu, on_cpu, "vector_add, n = {n}");
        assert!(on_cpu.iter().zip(&x).zip(&y).all(|((s, a), b)| *s == a + b));
        let on_gpu = gpu.saxpy(1.7, &x, &y).unwrap().result().unwrap();
        let on_cpu = cpu.saxpy(1.7, &x, &y).unwrap().result().unwrap();
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&on_gpu), bits(&on_cpu), "saxpy, n = {n}");
    }
}

#[test]
fn empty_inputs_give_empty_results() {
    for compute in every_compute() {
        assert!(
            compute
                .vector_add(&[], &[])
                .unwrap()
                .result()
                .unwrap()
                .is_empty()
        );
        assert!(
            compute
                .saxpy(2.0, &[], &[])
                .unwrap()
                .result()
                .unwrap()
                .is_empty()
        );
    }
}

#[test]
fn bad_inputs_are_errors() {
    for compute in every_compute() {
        let err = compute.vector_add(&[1.0, 2.0], &[1.0]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.to_string().contains("one length"), "{err}");
        let err = compute.saxpy(1.0, &[1.0], &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        let err = compute.sum_of_squares((1 << 32) + 1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.to_string().contains("2^32"), "{err}");
    }
    assert_eq!(
        Compute::cpu_with(0).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn the_cpu_fallback_needs_no_device() {
    let compute = Compute::cpu_with(2).unwrap();
    assert!(compute.device().is_none());
    assert_eq!(compute.name(), "CPU fallback (2 threads)");
    let y = compute
        .saxpy(2.0, &[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0])
        .unwrap()
        .result()
        .unwrap();
    assert_eq!(y, [12.0, 24.0, 36.0]);
}

#[test]
fn builtins_on_device_buffers_report_kernel_time() {
    let Some(device) = device() else { return };
    let builtins = Builtins::new(GpuExecutor::on(&device).unwrap()).unwrap();
    let gpu = builtins.executor();
    let n = 1 << 16;
    let (x, y) = (floats(n, 3), floats(n, 4));
    let (bx, by) = (gpu.buffer_from(&x).unwrap(), gpu.buffer_from(&y).unwrap());
    let out = gpu.buffer::<f32>(n).unwrap();
    let kernel = builtins
        .saxpy(0.5, &bx, &by, &out)
        .unwrap()
        .result()
        .unwrap();
    assert!(kernel.as_nanos() > 0);
    let got = out.read().unwrap().result().unwrap();
    assert!(
        got.iter()
            .zip(&x)
            .zip(&y)
            .all(|((s, a), b)| *s == 0.5 * a + b)
    );
    builtins
        .vector_add(&bx, &by, &out)
        .unwrap()
        .result()
        .unwrap();
    let short = gpu.buffer::<f32>(n - 1).unwrap();
    let err = builtins.vector_add(&bx, &by, &short).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    builtins.empty(1).unwrap().result().unwrap();
    assert_eq!(
        builtins.empty(0).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}
