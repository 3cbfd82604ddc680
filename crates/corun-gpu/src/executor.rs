//! [`GpuExecutor`]: an OpenCL device's command queue whose commands hand
//! back corun [`Task`]s.

use std::fmt;
use std::sync::Arc;
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use bytemuck::Pod;
use opencl3::command_queue::{CL_QUEUE_PROFILING_ENABLE, CommandQueue};
use opencl3::context::Context;
use opencl3::device::Device as ClDevice;
use parking_lot::Mutex;

use corun_concurrent::{Executor, Observer, Task};
use corun_core::{Error, ErrorKind};

use crate::buffer::Buffer;
use crate::device::{DEVICE_ENV, Device, default_device, devices};
use crate::error::cl_error;
use crate::program::{Kernel, Program};
use crate::range::NdRange;
use crate::shared::{Core, Finish, run_completion};

/// The environment variable that picks the [`Completion`] mode of
/// executors whose builder does not: `callback` or `wait`.
pub const COMPLETION_ENV: &str = "CORUN_GPU_COMPLETION";

/// How an executor learns that a command is done.
///
/// Both modes use one completion thread per executor, never a thread per
/// command; they differ in what wakes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Completion {
    /// The driver calls back when each command completes
    /// (`clSetEventCallback` with `CL_COMPLETE`); the callback only sends
    /// the command's token to the completion thread. The default.
    #[default]
    Callback,
    /// The completion thread waits on each command's event in turn
    /// (`clWaitForEvents`), for drivers whose callbacks misbehave.
    Wait,
}

/// Runs data-parallel work on an OpenCL device (PyOpenCL's
/// `Context` + `CommandQueue`), handing back the [`Task`] every corun
/// executor returns: kernel launches ([`launch`](Self::launch)), buffer
/// reads and writes ([`Buffer`]) are tasks that `wait`, `as_completed` and
/// `.await` treat like any other.
///
/// Commands go to one in-order queue: each starts after the one before it
/// has finished, so a write, the launch that reads it and the read of the
/// result need no further synchronisation. Each command is flushed to the
/// device as it is enqueued.
///
/// A command's task is running from the moment the call returns it: an
/// enqueued OpenCL command cannot be taken back, so
/// [`cancel`](Task::cancel) returns `false` on it (Python's
/// `Future.cancel` on a running future), and `shutdown(cancel_pending)`
/// has nothing pending to cancel. Its done-callbacks run on the
/// executor's completion thread: they should be quick and must not wait on
/// another command of the same executor.
///
/// Dropping the executor (or [`shutdown`](Executor::shutdown) with `wait`)
/// waits for every command in flight, then joins the completion thread.
/// [`Buffer`]s, [`Program`]s and [`Kernel`]s made by an executor keep its
/// device memory alive, and fail with a shut-down error once it is shut
/// down.
///
/// ```
/// use corun::gpu::{GpuExecutor, Program};
///
/// if let Ok(gpu) = GpuExecutor::new() {
///     let program = Program::build(&gpu, "
///         __kernel void add(__global const float *a, __global const float *b,
///                           __global float *sum) {
///             size_t i = get_global_id(0);
///             sum[i] = a[i] + b[i];
///         }").unwrap();
///     let a = gpu.buffer_from(&[1.0_f32, 2.0, 3.0]).unwrap();
///     let b = gpu.buffer_from(&[10.0_f32, 20.0, 30.0]).unwrap();
///     let sum = gpu.buffer::<f32>(3).unwrap();
///     let mut add = program.kernel("add").unwrap();
///     add.set_arg(0, &a).unwrap().set_arg(1, &b).unwrap().set_arg(2, &sum).unwrap();
///     gpu.launch(&add, 3).unwrap().result().unwrap();
///     assert_eq!(sum.read().unwrap().result().unwrap(), [11.0, 22.0, 33.0]);
/// }
/// ```
pub struct GpuExecutor {
    core: Arc<Core>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: ThreadId,
}

/// Configures a [`GpuExecutor`]: which device, which completion mode.
#[derive(Clone, Default)]
#[must_use = "a builder does nothing until `build`"]
pub struct GpuExecutorBuilder {
    device: Option<Device>,
    completion: Option<Completion>,
    recorder: Option<Arc<dyn Observer>>,
}

impl GpuExecutor {
    /// An executor on [`default_device`].
    ///
    /// # Errors
    ///
    /// [`NoDevice`](ErrorKind::NoDevice), saying why, when there is no
    /// OpenCL runtime, no device, or `CORUN_GPU_DEVICE` names none; a
    /// [`Device`](ErrorKind::Device) error when the device refuses a
    /// context or a queue.
    ///
    /// ```
    /// match corun::gpu::GpuExecutor::new() {
    ///     Ok(gpu) => println!("running on {}", gpu.device()),
    ///     Err(e) => assert_eq!(e.kind(), corun::ErrorKind::NoDevice),
    /// }
    /// ```
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// An executor on `device`.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), less the device choice.
    pub fn on(device: &Device) -> Result<Self, Error> {
        Self::builder().device(device.clone()).build()
    }

    /// A builder, to choose the device and the completion mode.
    ///
    /// ```
    /// use corun::gpu::{Completion, GpuExecutor, default_device};
    ///
    /// if let Some(device) = default_device() {
    ///     let gpu = GpuExecutor::builder()
    ///         .device(device)
    ///         .completion(Completion::Wait)
    ///         .build()
    ///         .unwrap();
    ///     assert_eq!(gpu.completion(), Completion::Wait);
    /// }
    /// ```
    pub fn builder() -> GpuExecutorBuilder {
        GpuExecutorBuilder::default()
    }

    /// The device this executor runs on.
    pub fn device(&self) -> &Device {
        &self.core.device
    }

    /// How this executor learns that commands are done.
    pub fn completion(&self) -> Completion {
        self.core.completion
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// How many commands are enqueued and not yet completed.
    pub fn in_flight(&self) -> usize {
        self.core.in_flight()
    }

    /// A device buffer of `len` zeroed elements (PyOpenCL:
    /// `cl.Buffer(ctx, flags, size)` then a fill).
    ///
    /// # Errors
    ///
    /// [`InvalidArgument`](ErrorKind::InvalidArgument) for no elements, a
    /// zero-sized `T`, or more bytes than the device's largest buffer;
    /// [`ShutDown`](ErrorKind::ShutDown) after shutdown; a
    /// [`Device`](ErrorKind::Device) error when the device has no room.
    pub fn buffer<T: Pod + Send>(&self, len: usize) -> Result<Buffer<T>, Error> {
        Buffer::zeroed(&self.core, len)
    }

    /// A device buffer holding a copy of `data` (PyOpenCL:
    /// `cl.Buffer(ctx, COPY_HOST_PTR, hostbuf=data)`); the copy is made
    /// before this returns.
    ///
    /// # Errors
    ///
    /// As [`buffer`](Self::buffer).
    pub fn buffer_from<T: Pod + Send>(&self, data: &[T]) -> Result<Buffer<T>, Error> {
        Buffer::from_slice(&self.core, data)
    }

    /// Builds a program from OpenCL C source: as [`Program::build`].
    ///
    /// # Errors
    ///
    /// As [`Program::build`].
    pub fn program(&self, source: &str) -> Result<Program, Error> {
        Program::build(self, source)
    }

    /// Launches `kernel` over `range` (a global size — `n`, `[x, y]` or
    /// `[x, y, z]` — or an [`NdRange`] with a work-group size) with the
    /// arguments set on it now; the task completes when the kernel has run
    /// (PyOpenCL: `kernel(queue, global_size, local_size, *args)`).
    ///
    /// # Errors
    ///
    /// [`InvalidArgument`](ErrorKind::InvalidArgument), saying which, for
    /// a work size of zero, a work-group larger than the device or the
    /// kernel allows, a global size that is not a multiple of the
    /// work-group size, more dimensions than the device has, an argument
    /// not set, or a kernel of another executor;
    /// [`ShutDown`](ErrorKind::ShutDown) after shutdown; a
    /// [`Device`](ErrorKind::Device) error if the driver refuses the
    /// command. A kernel that the device fails while it runs fails the
    /// task with a [`Device`](ErrorKind::Device) error.
    pub fn launch(&self, kernel: &Kernel, range: impl Into<NdRange>) -> Result<Task<()>, Error> {
        let (task, promise) = Task::pending();
        let started = promise.start();
        debug_assert!(started, "nobody else has the task yet");
        let finish: Finish = Box::new(move |outcome, _event| promise.complete(outcome));
        self.enqueue_kernel(kernel, range.into(), finish)?;
        Ok(task)
    }

    /// [`launch`](Self::launch), whose task gives the kernel's own run
    /// time on the device (from the event's profiling start to end:
    /// neither the time queued nor the transfers).
    ///
    /// # Errors
    ///
    /// As [`launch`](Self::launch); the task fails with a
    /// [`Device`](ErrorKind::Device) error if the driver gives no
    /// profiling times.
    pub fn launch_profiled(
        &self,
        kernel: &Kernel,
        range: impl Into<NdRange>,
    ) -> Result<Task<Duration>, Error> {
        let (task, promise) = Task::pending();
        let started = promise.start();
        debug_assert!(started, "nobody else has the task yet");
        let finish: Finish = Box::new(move |outcome, event| {
            promise.complete(outcome.and_then(|()| {
                let start = event.profiling_command_start();
                let end = event.profiling_command_end();
                match (start, end) {
                    (Ok(start), Ok(end)) => Ok(Duration::from_nanos(end.saturating_sub(start))),
                    (Err(e), _) | (_, Err(e)) => Err(cl_error("reading profiling times", e.0)),
                }
            }));
        });
        self.enqueue_kernel(kernel, range.into(), finish)?;
        Ok(task)
    }

    /// Waits until every command enqueued so far has run and its task is
    /// completed (PyOpenCL: `queue.finish()`).
    ///
    /// # Errors
    ///
    /// A [`Device`](ErrorKind::Device) error if the driver fails the wait.
    /// Called in one of this executor's done-callbacks, it waits for the
    /// device only: the tasks are completed by that very thread.
    pub fn finish(&self) -> Result<(), Error> {
        self.core
            .queue
            .finish()
            .map_err(|e| cl_error("finishing the queue", e.0))?;
        if std::thread::current().id() != self.thread_id {
            self.core.wait_idle();
        }
        Ok(())
    }

    fn enqueue_kernel(&self, kernel: &Kernel, range: NdRange, finish: Finish) -> Result<(), Error> {
        if !Arc::ptr_eq(kernel.core(), &self.core) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("kernel `{}` belongs to another GpuExecutor", kernel.name()),
            ));
        }
        kernel.enqueue(&self.core, &range, finish)
    }
}

impl GpuExecutorBuilder {
    /// Runs on `device` (default: [`default_device`]).
    pub fn device(mut self, device: Device) -> Self {
        self.device = Some(device);
        self
    }

    /// Learns of finished commands this way (default: the
    /// `CORUN_GPU_COMPLETION` environment variable, `callback` or `wait`,
    /// else [`Completion::Callback`]).
    pub fn completion(mut self, completion: Completion) -> Self {
        self.completion = Some(completion);
        self
    }

    /// Reports every command to `recorder` (a `corun::trace::Recorder`
    /// draws the timeline): submitted and started when it is enqueued, on
    /// a lane named after the device, finished when its task completes.
    ///
    /// ```
    /// use corun::concurrent::Executor;
    /// use corun::gpu::GpuExecutor;
    /// use corun::trace::Recorder;
    ///
    /// let recorder = Recorder::new();
    /// if let Ok(gpu) = GpuExecutor::builder().recorder(recorder.clone()).build() {
    ///     let buffer = gpu.buffer::<u8>(16).unwrap();
    ///     buffer.read().unwrap().result().unwrap();
    ///     gpu.shutdown(true, false);
    ///     assert_eq!(recorder.timeline().tasks().len(), 1);
    /// }
    /// ```
    pub fn recorder(mut self, recorder: impl Observer) -> Self {
        self.recorder = Some(Arc::new(recorder));
        self
    }

    /// Makes the context and the queue, and starts the completion thread.
    ///
    /// # Errors
    ///
    /// As [`GpuExecutor::new`]; [`InvalidArgument`](ErrorKind::InvalidArgument)
    /// when `CORUN_GPU_COMPLETION` is neither `callback` nor `wait`.
    pub fn build(self) -> Result<GpuExecutor, Error> {
        let completion = match self.completion {
            Some(c) => c,
            None => completion_from_env()?,
        };
        let device = match self.device {
            Some(device) => device,
            None => default_device().ok_or_else(no_device)?,
        };
        let id = device.id().0;
        let context = Context::from_device(&ClDevice::new(id))
            .map_err(|e| cl_error(format!("making a context on {device}"), e.0))?;
        let queue = make_queue(&context, &device)?;
        let (core, receiver) = Core::new(device, context, queue, completion, self.recorder);
        let thread = std::thread::Builder::new()
            .name("corun-gpu-done".to_owned())
            .spawn({
                let core = Arc::clone(&core);
                move || run_completion(core, receiver)
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot start the GPU completion thread: {e}"),
                )
            })?;
        Ok(GpuExecutor {
            core,
            thread_id: thread.thread().id(),
            thread: Mutex::new(Some(thread)),
        })
    }
}

/// The in-order, profiling queue of `device`.
fn make_queue(context: &Context, device: &Device) -> Result<CommandQueue, Error> {
    let id = device.id().0;
    // SAFETY: `id` is a device of `context` (the context was made from
    // it), and the properties are a valid bit-field; no queue size.
    #[allow(unsafe_code)]
    let made =
        unsafe { CommandQueue::create_with_properties(context, id, CL_QUEUE_PROFILING_ENABLE, 0) };
    match made {
        Ok(queue) => Ok(queue),
        Err(_) => {
            // An OpenCL 1.2 platform has no clCreateCommandQueueWithProperties.
            // SAFETY: as above.
            #[allow(unsafe_code, deprecated)]
            let made = unsafe { CommandQueue::create(context, id, CL_QUEUE_PROFILING_ENABLE) };
            made.map_err(|e| cl_error(format!("making a command queue on {device}"), e.0))
        }
    }
}

/// The completion mode `CORUN_GPU_COMPLETION` asks for.
fn completion_from_env() -> Result<Completion, Error> {
    match std::env::var(COMPLETION_ENV) {
        Err(_) => Ok(Completion::default()),
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "callback" => Ok(Completion::Callback),
            "wait" => Ok(Completion::Wait),
            other => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{COMPLETION_ENV}={other:?}: expected `callback` or `wait`"),
            )),
        },
    }
}

/// Why there is no device to run on.
fn no_device() -> Error {
    let why = if !cl3::is_opencl_runtime_available() {
        "no OpenCL runtime: libOpenCL.so.1 could not be loaded (install an OpenCL driver, \
         such as the pocl-opencl-icd package, or set OPENCL_DYLIB_PATH)"
            .to_owned()
    } else {
        let all = devices();
        match std::env::var(DEVICE_ENV) {
            Ok(wanted) if !wanted.trim().is_empty() && !all.is_empty() => {
                let names: Vec<String> = all
                    .iter()
                    .map(|d| format!("{}: {}", d.index(), d.name()))
                    .collect();
                format!(
                    "{DEVICE_ENV}={wanted:?} names no OpenCL device (there are {})",
                    names.join(", ")
                )
            }
            _ => "the OpenCL runtime lists no device".to_owned(),
        }
    };
    Error::new(ErrorKind::NoDevice, why)
}

impl Executor for GpuExecutor {
    /// 1: the queue runs one command at a time, each across the whole
    /// device.
    fn max_workers(&self) -> usize {
        1
    }

    /// Stops taking commands: later launches, reads and writes fail with
    /// [`ShutDown`](ErrorKind::ShutDown). Commands already enqueued run to
    /// the end (`cancel_pending` has nothing to cancel: an enqueued
    /// command cannot be taken back). With `wait`, returns once they have
    /// and the completion thread has exited — except in one of this
    /// executor's done-callbacks, which runs on that thread and returns at
    /// once.
    fn shutdown(&self, wait: bool, _cancel_pending: bool) {
        self.core.close();
        if wait && std::thread::current().id() != self.thread_id {
            self.core.wait_exited();
            if let Some(thread) = self.thread.lock().take() {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for GpuExecutor {
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl fmt::Debug for GpuExecutorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuExecutorBuilder")
            .field("device", &self.device.as_ref().map(Device::name))
            .field("completion", &self.completion)
            .field("recorder", &self.recorder.is_some())
            .finish()
    }
}

impl fmt::Debug for GpuExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuExecutor")
            .field("device", &self.core.device.name())
            .field("completion", &self.core.completion)
            .field("open", &self.core.is_open())
            .field("in_flight", &self.core.in_flight())
            .finish()
    }
}
