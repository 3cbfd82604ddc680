//! What the GPU tests share: the device to run on, or a reason to skip.
#![allow(dead_code, unreachable_pub)]

use corun::gpu::{Completion, Device, GpuExecutor, default_device};

/// The environment variable that makes a missing OpenCL runtime fail the
/// tests instead of skipping them (CI sets it).
pub const REQUIRE_ENV: &str = "CORUN_REQUIRE_OPENCL";

/// The default device; `None` (with the reason printed) where there is no
/// OpenCL device — a failure instead when `CORUN_REQUIRE_OPENCL=1`.
#[track_caller]
pub fn device() -> Option<Device> {
    if let Some(device) = default_device() {
        return Some(device);
    }
    let why = GpuExecutor::new().expect_err("no default device, yet an executor");
    if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
        panic!("{REQUIRE_ENV}=1, but there is no OpenCL device: {why}");
    }
    eprintln!("skipped: no OpenCL device ({why}); set {REQUIRE_ENV}=1 to fail instead");
    None
}

/// An executor on the default device, in `completion` mode.
#[track_caller]
pub fn gpu_with(completion: Completion) -> Option<GpuExecutor> {
    let device = device()?;
    Some(
        GpuExecutor::builder()
            .device(device)
            .completion(completion)
            .build()
            .unwrap(),
    )
}

/// An executor on the default device.
#[track_caller]
pub fn gpu() -> Option<GpuExecutor> {
    gpu_with(Completion::Callback)
}

/// A kernel that keeps a work-item busy for `spins` steps and writes
/// where it got, so a launch takes a while.
pub const SPIN: &str = "
__kernel void spin(__global float *out, uint spins) {
    size_t i = get_global_id(0);
    float acc = (float)i;
    for (uint k = 0; k < spins; k++) {
        acc = acc * 0.999f + 1.0f;
    }
    out[i] = acc;
}
";

/// Vector addition, as in PyOpenCL's first example.
pub const ADD: &str = "
__kernel void add(__global const float *a, __global const float *b, __global float *sum) {
    size_t i = get_global_id(0);
    sum[i] = a[i] + b[i];
}
";

/// Deterministic pseudo-random floats (no dependency for it).
pub fn floats(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32 * 200.0 - 100.0
        })
        .collect()
}
