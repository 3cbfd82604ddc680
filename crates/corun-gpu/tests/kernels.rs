//! Programs, kernels, buffers and launches on the default OpenCL device,
//! and the errors of each: PyOpenCL's first example (vector addition)
//! against the CPU, a kernel that does not compile, out-of-range work
//! sizes, a wrong-length write, and work after shutdown.

mod common;

use std::time::Duration;

use corun::ErrorKind;
use corun::concurrent::Executor;
use corun::gpu::{Buffer, GpuExecutor, Kernel, Local, NdRange, Program, Scalar};

use common::{ADD, SPIN, floats, gpu};

/// `add` over `a` and `b`, with its three buffers.
fn add_kernel(
    gpu: &GpuExecutor,
    a: &[f32],
    b: &[f32],
) -> (Kernel, Buffer<f32>, Buffer<f32>, Buffer<f32>) {
    let program = Program::build(gpu, ADD).unwrap();
    let a = gpu.buffer_from(a).unwrap();
    let b = gpu.buffer_from(b).unwrap();
    let sum = gpu.buffer::<f32>(a.len()).unwrap();
    let mut add = program.kernel("add").unwrap();
    add.set_arg(0, &a).unwrap();
    add.set_arg(1, &b).unwrap();
    add.set_arg(2, &sum).unwrap();
    (add, a, b, sum)
}

#[test]
fn vector_add_equals_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let n = 1 << 16;
    let (a, b) = (floats(n, 1), floats(n, 2));
    let (add, _a, _b, sum) = add_kernel(&gpu, &a, &b);
    gpu.launch(&add, NdRange::new(n).local(64))
        .unwrap()
        .result()
        .unwrap();
    let got = sum.read().unwrap().result().unwrap();
    let want: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    assert_eq!(got, want); // one IEEE addition each: bit for bit
}

#[test]
fn writes_launches_and_reads_run_in_order() {
    let Some(gpu) = gpu() else { return };
    let n = 4096;
    let (add, a, b, sum) = add_kernel(&gpu, &vec![0.0; n], &vec![0.0; n]);
    let mut reads = Vec::new();
    for round in 0..8 {
        // The tasks of the write and the launch may be dropped: the
        // commands run all the same, in order.
        drop(a.write(&vec![round as f32; n]).unwrap());
        drop(b.write(&vec![1.0; n]).unwrap());
        drop(gpu.launch(&add, n).unwrap());
        reads.push(sum.read().unwrap());
    }
    for (round, read) in reads.into_iter().enumerate() {
        let got = read.result().unwrap();
        assert!(
            got.iter().all(|&v| v == round as f32 + 1.0),
            "round {round}"
        );
    }
}

#[test]
fn a_zeroed_buffer_reads_zeros_and_fill_sets_every_element() {
    let Some(gpu) = gpu() else { return };
    let buffer = gpu.buffer::<u64>(1000).unwrap();
    assert_eq!(buffer.len(), 1000);
    assert_eq!(buffer.bytes(), 8000);
    assert!(
        buffer
            .read()
            .unwrap()
            .result()
            .unwrap()
            .iter()
            .all(|&v| v == 0)
    );
    buffer.fill(u64::MAX - 1).unwrap().result().unwrap();
    assert!(
        buffer
            .read()
            .unwrap()
            .result()
            .unwrap()
            .iter()
            .all(|&v| v == u64::MAX - 1)
    );
    let err = gpu
        .buffer::<[u8; 3]>(4)
        .unwrap()
        .fill([1, 2, 3])
        .unwrap_err();
    assert!(err.is_invalid_argument(), "{err}");
}

#[test]
fn scalars_structs_local_memory_and_two_dimensions() {
    let Some(gpu) = gpu() else { return };
    let program = gpu
        .program(
            "typedef struct { int scale; int shift; } affine;
             __kernel void grid(__global int *out, affine f, __local int *scratch) {
                 size_t x = get_global_id(0), y = get_global_id(1);
                 scratch[get_local_id(1) * get_local_size(0) + get_local_id(0)] = (int)(x + 10 * y);
                 barrier(CLK_LOCAL_MEM_FENCE);
                 out[y * get_global_size(0) + x] =
                     f.scale * scratch[get_local_id(1) * get_local_size(0) + get_local_id(0)] + f.shift;
             }",
        )
        .unwrap();
    let out = gpu.buffer::<i32>(8 * 4).unwrap();
    let mut grid = program.kernel("grid").unwrap();
    assert_eq!(grid.num_args(), 3);
    grid.set_arg(0, &out).unwrap();
    grid.set_arg(1, Scalar([3_i32, -1])).unwrap();
    grid.set_arg(2, Local::of::<i32>(4 * 2)).unwrap();
    gpu.launch(&grid, NdRange::new([8, 4]).local([4, 2]))
        .unwrap()
        .result()
        .unwrap();
    let got = out.read().unwrap().result().unwrap();
    for y in 0..4 {
        for x in 0..8 {
            assert_eq!(got[y * 8 + x], 3 * (x as i32 + 10 * y as i32) - 1);
        }
    }
}

#[test]
fn a_profiled_launch_gives_the_kernel_time() {
    let Some(gpu) = gpu() else { return };
    let program = gpu.program(SPIN).unwrap();
    let out = gpu.buffer::<f32>(1024).unwrap();
    let mut spin = program.kernel("spin").unwrap();
    spin.set_arg(0, &out)
        .unwrap()
        .set_arg(1, 10_000_u32)
        .unwrap();
    let took: Duration = gpu.launch_profiled(&spin, 1024).unwrap().result().unwrap();
    assert!(took > Duration::ZERO);
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[test]
fn a_kernel_that_does_not_compile_gives_the_build_log() {
    let Some(gpu) = gpu() else { return };
    let err = Program::build(
        &gpu,
        "__kernel void broken(__global float *x) { x[0] = undeclared_name; }",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Build);
    let message = err.to_string();
    assert!(message.contains("CL_BUILD_PROGRAM_FAILURE"), "{message}");
    assert!(message.contains("build log:"), "{message}");
    assert!(message.contains("undeclared_name"), "{message}");

    let err = Program::build_with_options(&gpu, ADD, "-no-such-option").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Build, "{err}");
}

#[test]
fn an_unknown_kernel_is_not_found() {
    let Some(gpu) = gpu() else { return };
    let program = Program::build(&gpu, ADD).unwrap();
    assert_eq!(program.kernel_names(), ["add"]);
    let err = program.kernel("sub").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "the program has no kernel `sub` (it has: add)"
    );
}

#[test]
fn out_of_range_work_sizes_are_invalid_arguments() {
    let Some(gpu) = gpu() else { return };
    let n = 256;
    let (add, ..) = add_kernel(&gpu, &vec![1.0; n], &vec![2.0; n]);
    let device = gpu.device().clone();
    let check = |range: NdRange, says: &str| {
        let err = gpu.launch(&add, range).unwrap_err();
        assert!(err.is_invalid_argument(), "{err}");
        assert!(err.to_string().contains(says), "{err}");
    };
    check(
        NdRange::new(0),
        "the global work size is zero in dimension 0",
    );
    check(
        NdRange::new([4, 0]),
        "the global work size is zero in dimension 1",
    );
    check(NdRange::new(n).local(0), "the work-group size is zero");
    check(
        NdRange::new(n).local(48),
        "is not a multiple of the work-group size 48",
    );
    check(
        NdRange::new(n).local([16, 16]),
        "the work-group size has 2 dimensions",
    );
    let too_big = device
        .max_work_group_size()
        .max(device.max_work_item_sizes()[0])
        * 2;
    check(NdRange::new(too_big).local(too_big), "is more than");
    // Nothing went wrong with the kernel itself.
    gpu.launch(&add, n).unwrap().result().unwrap();
}

#[test]
fn arguments_are_checked() {
    let Some(gpu) = gpu() else { return };
    let program = Program::build(&gpu, ADD).unwrap();
    let mut add = program.kernel("add").unwrap();
    let a = gpu.buffer::<f32>(4).unwrap();
    add.set_arg(0, &a).unwrap().set_arg(1, &a).unwrap();
    let err = gpu.launch(&add, 4).unwrap_err();
    assert!(err.is_invalid_argument());
    assert_eq!(err.to_string(), "argument 2 of kernel `add` is not set");

    let err = add.set_arg(3, &a).unwrap_err();
    assert_eq!(
        err.to_string(),
        "kernel `add` takes 3 arguments; there is no argument 3"
    );
    let err = add.set_arg(2, 1_u8).unwrap_err();
    assert!(err.is_invalid_argument(), "{err}"); // one byte where a buffer goes
    let err = add.set_arg(2, Local::of::<f32>(4)).unwrap_err();
    assert!(err.is_invalid_argument(), "{err}"); // a __global argument given __local memory

    let other = common::gpu().unwrap();
    let theirs = other.buffer::<f32>(4).unwrap();
    let err = add.set_arg(2, &theirs).unwrap_err();
    assert!(err.is_invalid_argument());
    assert!(
        err.to_string()
            .contains("the buffer belongs to another GpuExecutor"),
        "{err}"
    );
    let mut their_add = Program::build(&other, ADD).unwrap().kernel("add").unwrap();
    for i in 0..3 {
        their_add.set_arg(i, &theirs).unwrap();
    }
    let err = gpu.launch(&their_add, 4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "kernel `add` belongs to another GpuExecutor"
    );
}

#[test]
fn a_write_of_the_wrong_length_is_refused() {
    let Some(gpu) = gpu() else { return };
    let buffer = gpu.buffer::<i32>(3).unwrap();
    for wrong in [&[][..], &[1, 2], &[1, 2, 3, 4]] {
        let err = buffer.write(wrong).unwrap_err();
        assert!(err.is_invalid_argument());
        assert_eq!(
            err.to_string(),
            format!("a write of {} elements into a buffer of 3", wrong.len())
        );
    }
    assert_eq!(buffer.read().unwrap().result().unwrap(), [0, 0, 0]); // untouched
}

#[test]
fn empty_and_oversized_buffers_are_refused() {
    let Some(gpu) = gpu() else { return };
    let err = gpu.buffer::<f32>(0).unwrap_err();
    assert_eq!(err.to_string(), "a buffer needs at least one element");
    let err = gpu.buffer_from::<f32>(&[]).unwrap_err();
    assert!(err.is_invalid_argument());
    let err = gpu.buffer::<f32>(usize::MAX / 2).unwrap_err();
    assert!(err.is_invalid_argument(), "{err}");
    assert!(err.to_string().contains("can allocate at once"), "{err}");
}

#[test]
fn work_after_shutdown_is_refused() {
    let Some(gpu) = gpu() else { return };
    let (add, a, ..) = add_kernel(&gpu, &[1.0; 8], &[2.0; 8]);
    let running = gpu.launch(&add, 8).unwrap();
    gpu.shutdown(true, false);
    running.result().unwrap(); // work enqueued before still ran
    assert_eq!(gpu.launch(&add, 8).unwrap_err().kind(), ErrorKind::ShutDown);
    assert_eq!(
        gpu.launch_profiled(&add, 8).unwrap_err().kind(),
        ErrorKind::ShutDown
    );
    assert!(a.write(&[0.0; 8]).unwrap_err().is_shutdown());
    assert!(a.read().unwrap_err().is_shutdown());
    assert!(a.fill(0.0).unwrap_err().is_shutdown());
    assert!(gpu.buffer::<f32>(8).unwrap_err().is_shutdown());
    assert!(Program::build(&gpu, ADD).unwrap_err().is_shutdown());
    gpu.shutdown(true, true); // again: harmless
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<GpuExecutor>();
    send_sync::<Buffer<f32>>();
    send_sync::<Program>();
    send_sync::<Kernel>();
    send_sync::<corun::gpu::Device>();
    send_sync::<NdRange>();
}
