//! Data-parallel work on the GPU through OpenCL, returning corun's one
//! [`Task`](corun_concurrent::Task) — the seeds' chapter "Using the GPU"
//! (PyOpenCL, PyCUDA) in Rust.
//!
//! | PyOpenCL                                      | corun                                        |
//! |-----------------------------------------------|----------------------------------------------|
//! | `cl.get_platforms()`, `p.get_devices()`       | [`devices()`], [`Device`]                    |
//! | `cl.create_some_context()`                    | [`default_device()`], [`GpuExecutor::new`]   |
//! | `cl.Context` + `cl.CommandQueue(ctx, properties=PROFILING_ENABLE)` | [`GpuExecutor`]         |
//! | `cl.Buffer(ctx, COPY_HOST_PTR, hostbuf=a)`    | [`GpuExecutor::buffer_from`]                 |
//! | `cl.Buffer(ctx, flags, size)`                 | [`GpuExecutor::buffer`] (zeroed)             |
//! | `cl.enqueue_copy(queue, buf, a)` / `(queue, a, buf)` | [`Buffer::write`] / [`Buffer::read`]  |
//! | `cl.Program(ctx, src).build(options)`         | [`Program::build`], [`Program::build_with_options`] |
//! | `prg.name` / `cl.Kernel(prg, name)`, `set_arg` | [`Program::kernel`], [`Kernel::set_arg`]    |
//! | `cl.LocalMemory(n)`                           | [`Local`]                                    |
//! | `knl(queue, global_size, local_size, *args)`  | [`GpuExecutor::launch`] with an [`NdRange`]  |
//! | `event.profile.end - event.profile.start`     | [`GpuExecutor::launch_profiled`]             |
//! | `queue.finish()`                              | [`GpuExecutor::finish`]                      |
//! | `event.wait()`, the returned `cl.Event`       | the returned `Task`: `wait`, `result`, `.await`, `as_completed` |
//!
//! PyCUDA's `SourceModule(src).get_function(name)` and
//! `func(args, block=, grid=)` are the same steps for CUDA's kernels.
//!
//! Everything the device does hands back a `corun::concurrent::Task`, so
//! `wait`, `as_completed`, `.await`, done-callbacks and code written for
//! the thread and process pools treat GPU work like any other, and
//! [`GpuExecutor`] implements [`Executor`](corun_concurrent::Executor).
//!
//! ```
//! use corun::concurrent::{ReturnWhen, wait};
//! use corun::gpu::{GpuExecutor, NdRange};
//!
//! let Some(device) = corun::gpu::default_device() else {
//!     return; // no OpenCL here: a program falls back to the CPU
//! };
//! let gpu = GpuExecutor::on(&device).unwrap();
//! let program = gpu.program("
//!     __kernel void saxpy(float a, __global const float *x, __global float *y) {
//!         size_t i = get_global_id(0);
//!         y[i] = a * x[i] + y[i];
//!     }").unwrap();
//! let n = 1024;
//! let x = gpu.buffer_from(&vec![1.0_f32; n]).unwrap();
//! let y = gpu.buffer_from(&vec![2.0_f32; n]).unwrap();
//! let mut saxpy = program.kernel("saxpy").unwrap();
//! saxpy.set_arg(0, 3.0_f32).unwrap().set_arg(1, &x).unwrap().set_arg(2, &y).unwrap();
//! let launches: Vec<_> = (0..4)
//!     .map(|_| gpu.launch(&saxpy, NdRange::new(n).local(64)).unwrap())
//!     .collect();
//! let done = wait(launches, None, ReturnWhen::AllCompleted);
//! assert_eq!(done.done.len(), 4);
//! assert!(y.read().unwrap().result().unwrap().iter().all(|&v| v == 14.0));
//! ```
//!
//! # Devices and the missing GPU
//!
//! OpenCL is loaded at run time (`libOpenCL.so.1`, through the ICD loader
//! that finds each installed driver): corun builds everywhere with no
//! OpenCL SDK, and a machine without OpenCL gets an empty [`devices()`], a
//! `None` [`default_device()`] and a [`NoDevice`](corun_core::ErrorKind::NoDevice)
//! error from [`GpuExecutor::new`] — never a panic or a link failure. The
//! same kernels run on a GPU and on an OpenCL CPU driver such as PoCL
//! (`pocl-opencl-icd`), which is how CI tests them. `CORUN_GPU_DEVICE`
//! picks the default device (an index in `devices()` or part of a name;
//! `none` for no device). Code with a CPU fallback asks
//! `default_device()` and runs its own CPU path on `None`.
//!
//! # Built-in kernels and the CPU fallback
//!
//! [`Builtins`] compiles vector add, SAXPY, an exact sum of `u64`s and the
//! exact Σ i² of `0..n` (the seeds' CPU experiment: 64-bit partials per
//! work-item, added in `u128` on the host) for one executor, on device
//! buffers. [`Compute`] runs the same calls on host slices — on
//! [`default_device()`], or, where there is none, on a
//! [`ThreadPoolExecutor`](corun_concurrent::ThreadPoolExecutor) in plain
//! Rust — so a program written against it runs on a GPU, on PoCL and with
//! no OpenCL at all, with the same results bit for bit (the float kernels
//! are compiled without contraction). The fallback copies its inputs,
//! since its task outlives the call: it is a fallback, not a rival to
//! rayon.
//!
//! # Why opencl3
//!
//! `opencl3` loads the OpenCL library at run time by default and wraps the
//! whole OpenCL 3.0 API, so the same host code runs on NVIDIA's, AMD's
//! and Intel's drivers and on PoCL in CI; `ocl` links `-lOpenCL` at build
//! time, CUDA-only crates cannot be tested without an NVIDIA GPU, and
//! WGSL (wgpu) lacks the 64-bit integers of exact reductions.
//!
//! # Completion: one thread, callbacks that only send
//!
//! No thread blocks per command. Each command's event gets a `CL_COMPLETE`
//! callback that does one thing: send `(token, status)` on a channel. The
//! executor's single completion thread receives it, completes the task
//! (a negative status — abnormal termination — fails it with a
//! [`Device`](corun_core::ErrorKind::Device) error), then releases the
//! event and whatever the command used (buffers, a read's host vector).
//! The callback does no more because drivers get callbacks wrong: they
//! run them on driver threads, sometimes inline in `clSetEventCallback`
//! when the command is already done (PoCL 3.1 then lets the callback
//! outlive its event), ROCm frees the event under a callback set on a
//! completed event, and chipStar deadlocks when a callback calls back
//! into OpenCL. A callback that only sends touches neither the event nor
//! the task, and never blocks.
//!
//! For drivers whose callbacks misbehave anyway, [`Completion::Wait`]
//! (or `CORUN_GPU_COMPLETION=wait`) registers none: the completion thread
//! waits on each event in turn with `clWaitForEvents`. A shutting-down
//! executor whose callbacks stop coming switches to that wait by itself.
//!
//! Commands are flushed as they are enqueued. A command's task is running
//! once it is returned: an enqueued command cannot be taken back, so
//! `cancel()` returns `false`, as Python's `Future.cancel()` does on a
//! running future. Dropping the executor waits for the commands in flight
//! and joins the completion thread, leaving no thread behind.

#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod buffer;
mod builtins;
mod device;
mod error;
mod executor;
mod program;
mod range;
mod shared;

pub use buffer::Buffer;
pub use builtins::{Builtins, Compute};
pub use device::{DEVICE_ENV, Device, DeviceKind, default_device, devices};
pub use executor::{COMPLETION_ENV, Completion, GpuExecutor, GpuExecutorBuilder};
pub use program::{Kernel, KernelArg, Local, Program, Scalar};
pub use range::{Dims, NdRange};
