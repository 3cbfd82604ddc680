//! The built-in kernels — element-wise vector add and SAXPY, and exact
//! integer sums — on a device ([`Builtins`]), and the same calls on host
//! slices that run on the device or, where there is none, on corun's
//! thread pool ([`Compute`]).
//!
//! The sums are exact: each work-item adds its chunk into a 64-bit
//! integer, with chunks small enough that no partial sum overflows, and
//! the host adds the partials in `u128`. No atomics, so the result does
//! not depend on the order the work-items ran in. The float kernels are
//! compiled with contraction off (`a * x + y` is not fused into one
//! rounding), so a device's result equals the CPU fallback's bit for bit.

use std::sync::Arc;
use std::time::Duration;

use corun_concurrent::{Promise, Task, ThreadPoolExecutor};
use corun_core::Error;
use parking_lot::Mutex;

use crate::error::invalid;
use crate::{Buffer, Device, GpuExecutor, Program, default_device};

/// The built-ins' OpenCL C source.
const SOURCE: &str = r"
#pragma OPENCL FP_CONTRACT OFF

__kernel void vector_add(__global const float *a, __global const float *b,
                         __global float *out, const ulong n) {
    size_t i = get_global_id(0);
    if (i < n) out[i] = a[i] + b[i];
}

__kernel void saxpy(const float a, __global const float *x, __global const float *y,
                    __global float *out, const ulong n) {
    size_t i = get_global_id(0);
    if (i < n) out[i] = a * x[i] + y[i];
}

__kernel void sum_of_squares(const ulong n, const ulong chunk, __global ulong *partials) {
    size_t g = get_global_id(0);
    ulong start = g * chunk;
    ulong end = min(start + chunk, n);
    ulong s = 0;
    for (ulong i = start; i < end; i++) s += i * i;
    partials[g] = s;
}

__kernel void sum_u64(__global const ulong *xs, const ulong n, const ulong chunk,
                      __global ulong *partials) {
    size_t g = get_global_id(0);
    ulong start = g * chunk;
    ulong end = min(start + chunk, n);
    ulong lo = 0, hi = 0;
    for (ulong i = start; i < end; i++) {
        ulong x = xs[i];
        lo += x & 0xffffffffUL;
        hi += x >> 32;
    }
    partials[2 * g] = lo;
    partials[2 * g + 1] = hi;
}

__kernel void empty(void) {}
";

/// Work-items a sum spreads over, at most: enough for a large GPU, few
/// enough that the host's final sum is negligible.
const SUM_ITEMS: u64 = 1 << 16;

/// Elements one work-item of [`Builtins::sum_u64`] adds: each half-word
/// sum stays below `2^32 · 2^32 = 2^64`.
const SUM_U64_CHUNK: u64 = 4096;

/// The built-in kernels, compiled once for one executor, on device
/// buffers: what a benchmark times (the float kernels report their
/// kernel-only time) and what [`Compute`] runs.
///
/// ```
/// use corun::gpu::{Builtins, GpuExecutor};
///
/// let Some(device) = corun::gpu::default_device() else { return };
/// let builtins = Builtins::new(GpuExecutor::on(&device).unwrap()).unwrap();
/// // Σ i² for i in 0..5 000 000 exceeds u64: exact in u128.
/// let sum = builtins.sum_of_squares(5_000_000).unwrap().result().unwrap();
/// assert_eq!(sum, 41_666_654_166_667_500_000);
/// ```
pub struct Builtins {
    gpu: GpuExecutor,
    program: Program,
}

impl Builtins {
    /// Compiles the built-ins for `gpu`, which they then run on.
    pub fn new(gpu: GpuExecutor) -> Result<Self, Error> {
        let program = gpu.program(SOURCE)?;
        Ok(Self { gpu, program })
    }

    /// The executor the built-ins run on.
    pub fn executor(&self) -> &GpuExecutor {
        &self.gpu
    }

    /// `out[i] = a[i] + b[i]`; the task's value is the kernel-only time.
    pub fn vector_add(
        &self,
        a: &Buffer<f32>,
        b: &Buffer<f32>,
        out: &Buffer<f32>,
    ) -> Result<Task<Duration>, Error> {
        let n = same_len(&[a.len(), b.len(), out.len()])?;
        let mut kernel = self.program.kernel("vector_add")?;
        kernel
            .set_arg(0, a)?
            .set_arg(1, b)?
            .set_arg(2, out)?
            .set_arg(3, n as u64)?;
        self.gpu.launch_profiled(&kernel, n.max(1))
    }

    /// `out[i] = a · x[i] + y[i]` (single-precision a-x-plus-y); the
    /// task's value is the kernel-only time.
    pub fn saxpy(
        &self,
        a: f32,
        x: &Buffer<f32>,
        y: &Buffer<f32>,
        out: &Buffer<f32>,
    ) -> Result<Task<Duration>, Error> {
        let n = same_len(&[x.len(), y.len(), out.len()])?;
        let mut kernel = self.program.kernel("saxpy")?;
        kernel
            .set_arg(0, a)?
            .set_arg(1, x)?
            .set_arg(2, y)?
            .set_arg(3, out)?
            .set_arg(4, n as u64)?;
        self.gpu.launch_profiled(&kernel, n.max(1))
    }

    /// The exact sum of `xs`' elements.
    pub fn sum_u64(&self, xs: &Buffer<u64>) -> Result<Task<u128>, Error> {
        let n = xs.len() as u64;
        if n == 0 {
            return Ok(ready(Ok(0)));
        }
        let items = n.div_ceil(SUM_U64_CHUNK);
        let partials = self.gpu.buffer::<u64>(2 * items as usize)?;
        let mut kernel = self.program.kernel("sum_u64")?;
        kernel
            .set_arg(0, xs)?
            .set_arg(1, n)?
            .set_arg(2, SUM_U64_CHUNK)?
            .set_arg(3, &partials)?;
        let launched = self.gpu.launch(&kernel, items as usize)?;
        let read = partials.read()?;
        Ok(after(launched, read, |halves| {
            let (lo, hi) = halves
                .chunks_exact(2)
                .fold((0_u128, 0_u128), |(lo, hi), p| {
                    (lo + u128::from(p[0]), hi + u128::from(p[1]))
                });
            lo + (hi << 32)
        }))
    }

    /// The exact Σ i² for i in `0..n`; `n` must be below 2³² (a larger
    /// `i²` does not fit a 64-bit partial).
    pub fn sum_of_squares(&self, n: u64) -> Result<Task<u128>, Error> {
        let Some((chunk, items)) = square_chunks(n)? else {
            return Ok(ready(Ok(0)));
        };
        let partials = self.gpu.buffer::<u64>(items as usize)?;
        let mut kernel = self.program.kernel("sum_of_squares")?;
        kernel
            .set_arg(0, n)?
            .set_arg(1, chunk)?
            .set_arg(2, &partials)?;
        let launched = self.gpu.launch(&kernel, items as usize)?;
        let read = partials.read()?;
        Ok(after(launched, read, |partials| {
            partials.iter().map(|&p| u128::from(p)).sum()
        }))
    }

    /// An empty kernel over `global` work-items: what a launch costs.
    pub fn empty(&self, global: usize) -> Result<Task<()>, Error> {
        let kernel = self.program.kernel("empty")?;
        self.gpu.launch(&kernel, global)
    }
}

impl std::fmt::Debug for Builtins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builtins")
            .field("device", self.gpu.device())
            .finish()
    }
}

/// The common length of buffers or slices that must match.
fn same_len(lens: &[usize]) -> Result<usize, Error> {
    let n = lens[0];
    if lens.iter().any(|&len| len != n) {
        return Err(invalid(format!(
            "the inputs and the output must have one length, not {lens:?}"
        )));
    }
    Ok(n)
}

/// How [`Builtins::sum_of_squares`] splits `0..n`: terms per work-item and
/// work-items, or `None` for an empty range. Each chunk's sum stays below
/// 2⁶⁴: at most `⌊(2⁶⁴ − 1) / (n − 1)²⌋` terms, each at most `(n − 1)²`.
fn square_chunks(n: u64) -> Result<Option<(u64, u64)>, Error> {
    if n == 0 {
        return Ok(None);
    }
    if n > 1 << 32 {
        return Err(invalid(format!(
            "sum_of_squares: n = {n} is above 2^32, where one square overflows 64 bits"
        )));
    }
    let largest = (n - 1).saturating_mul(n - 1).max(1);
    let chunk = (u64::MAX / largest).min(n.div_ceil(SUM_ITEMS)).max(1);
    Ok(Some((chunk, n.div_ceil(chunk))))
}

/// A task already completed with `outcome`.
fn ready<T>(outcome: Result<T, Error>) -> Task<T> {
    let (task, promise) = Task::pending();
    promise.start();
    promise.complete(outcome);
    task
}

/// A task completed with `finish` of `read`'s value once both `launched`
/// and `read` are done, or with the first failure of the two (a failed
/// launch leaves the read's data meaningless).
fn after<L: Send + 'static, R: Send + 'static, U: Send + 'static>(
    launched: Task<L>,
    read: Task<Vec<R>>,
    finish: impl FnOnce(&[R]) -> U + Send + 'static,
) -> Task<U> {
    let (task, promise) = Task::pending();
    promise.start();
    let join = Arc::new(Join {
        state: Mutex::new(JoinState {
            promise: Some(promise),
            left: 2,
            launch_error: None,
            value: None,
        }),
    });
    let j = Arc::clone(&join);
    launched.add_done_callback(move |outcome| {
        j.arrive(|state| state.launch_error = outcome.err().cloned());
    });
    read.add_done_callback(move |outcome| {
        let value = outcome.map(|values| finish(values)).map_err(Error::clone);
        join.arrive(|state| state.value = Some(value));
    });
    task
}

struct Join<U> {
    state: Mutex<JoinState<U>>,
}

struct JoinState<U> {
    promise: Option<Promise<U>>,
    left: usize,
    launch_error: Option<Error>,
    value: Option<Result<U, Error>>,
}

impl<U> Join<U> {
    /// Records one task's outcome; the second completes the promise
    /// (outside the lock: its callbacks may do anything).
    fn arrive(&self, record: impl FnOnce(&mut JoinState<U>)) {
        let done = {
            let mut state = self.state.lock();
            record(&mut state);
            state.left -= 1;
            if state.left == 0 {
                let outcome = match state.launch_error.take() {
                    Some(error) => Err(error),
                    None => state.value.take().expect("the read arrived"),
                };
                state.promise.take().map(|promise| (promise, outcome))
            } else {
                None
            }
        };
        if let Some((promise, outcome)) = done {
            promise.complete(outcome);
        }
    }
}

/// Where [`Compute`] runs.
enum Backend {
    Device(Builtins),
    Cpu(ThreadPoolExecutor, usize),
}

/// The built-ins on host slices, on a device or on corun's CPU fallback:
/// the same calls work on a machine with a GPU, with only an OpenCL CPU
/// driver (PoCL), and with no OpenCL at all. A device call uploads the
/// inputs, runs the kernel and downloads the result (end-to-end); the
/// fallback splits the work over a [`ThreadPoolExecutor`], one chunk per
/// worker, in plain Rust.
///
/// ```
/// use corun::gpu::Compute;
///
/// let compute = Compute::new().unwrap(); // the default device, or the CPU
/// println!("running on {}", compute.name());
/// let y = compute.saxpy(2.0, &[1.0, 2.0], &[10.0, 20.0]).unwrap().result().unwrap();
/// assert_eq!(y, [12.0, 24.0]);
/// assert_eq!(compute.sum_of_squares(4).unwrap().result().unwrap(), 14);
/// ```
pub struct Compute {
    backend: Backend,
}

impl Compute {
    /// On [`default_device()`], or on the CPU fallback when there is
    /// none: never fails for want of OpenCL (it fails when a device is
    /// there but cannot be used).
    pub fn new() -> Result<Self, Error> {
        match default_device() {
            Some(device) => Self::on(&device),
            None => Ok(Self::cpu()),
        }
    }

    /// On `device`.
    pub fn on(device: &Device) -> Result<Self, Error> {
        Ok(Self {
            backend: Backend::Device(Builtins::new(GpuExecutor::on(device)?)?),
        })
    }

    /// On the CPU fallback: a thread pool of one worker per CPU.
    pub fn cpu() -> Self {
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        Self::cpu_with(workers).expect("one or more workers")
    }

    /// On the CPU fallback with `workers` threads.
    pub fn cpu_with(workers: usize) -> Result<Self, Error> {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(workers)
            .thread_name_prefix("corun-gpu-cpu")
            .build()?;
        Ok(Self {
            backend: Backend::Cpu(pool, workers),
        })
    }

    /// The device, or `None` on the CPU fallback.
    pub fn device(&self) -> Option<&Device> {
        match &self.backend {
            Backend::Device(builtins) => Some(builtins.executor().device()),
            Backend::Cpu(..) => None,
        }
    }

    /// Where the calls run, for people: the device, or the fallback.
    pub fn name(&self) -> String {
        match &self.backend {
            Backend::Device(builtins) => builtins.executor().device().to_string(),
            Backend::Cpu(_, workers) => format!("CPU fallback ({workers} threads)"),
        }
    }

    /// `a[i] + b[i]`.
    pub fn vector_add(&self, a: &[f32], b: &[f32]) -> Result<Task<Vec<f32>>, Error> {
        same_len(&[a.len(), b.len()])?;
        match &self.backend {
            Backend::Device(builtins) => floats_on(builtins, a.len(), |out| {
                let (a, b) = (builtins.gpu.buffer_from(a)?, builtins.gpu.buffer_from(b)?);
                builtins.vector_add(&a, &b, out)
            }),
            Backend::Cpu(pool, workers) => {
                let (a, b) = (Arc::<[f32]>::from(a), Arc::<[f32]>::from(b));
                in_chunks(pool, *workers, a.len(), move |range| {
                    let (a, b) = (&a[range.clone()], &b[range]);
                    a.iter().zip(b).map(|(a, b)| a + b).collect::<Vec<_>>()
                })
                .map(concat)
            }
        }
    }

    /// `a · x[i] + y[i]`.
    pub fn saxpy(&self, a: f32, x: &[f32], y: &[f32]) -> Result<Task<Vec<f32>>, Error> {
        same_len(&[x.len(), y.len()])?;
        match &self.backend {
            Backend::Device(builtins) => floats_on(builtins, x.len(), |out| {
                let (x, y) = (builtins.gpu.buffer_from(x)?, builtins.gpu.buffer_from(y)?);
                builtins.saxpy(a, &x, &y, out)
            }),
            Backend::Cpu(pool, workers) => {
                let (x, y) = (Arc::<[f32]>::from(x), Arc::<[f32]>::from(y));
                in_chunks(pool, *workers, x.len(), move |range| {
                    let (x, y) = (&x[range.clone()], &y[range]);
                    x.iter().zip(y).map(|(x, y)| a * x + y).collect::<Vec<_>>()
                })
                .map(concat)
            }
        }
    }

    /// The exact sum of `xs`.
    pub fn sum_u64(&self, xs: &[u64]) -> Result<Task<u128>, Error> {
        match &self.backend {
            Backend::Device(builtins) => {
                if xs.is_empty() {
                    return Ok(ready(Ok(0)));
                }
                builtins.sum_u64(&builtins.gpu.buffer_from(xs)?)
            }
            Backend::Cpu(pool, workers) => {
                let xs = Arc::<[u64]>::from(xs);
                in_chunks(pool, *workers, xs.len(), move |range| {
                    xs[range].iter().map(|&x| u128::from(x)).sum::<u128>()
                })
                .map(sum)
            }
        }
    }

    /// The exact Σ i² for i in `0..n` (`n` at most 2³², as on a device).
    pub fn sum_of_squares(&self, n: u64) -> Result<Task<u128>, Error> {
        match &self.backend {
            Backend::Device(builtins) => builtins.sum_of_squares(n),
            Backend::Cpu(pool, workers) => {
                square_chunks(n)?;
                let len = usize::try_from(n).map_err(|_| invalid("n does not fit usize"))?;
                in_chunks(pool, *workers, len, move |range| {
                    // Each `i` hidden from the optimiser, which would
                    // otherwise replace the loop by its closed formula and
                    // time nothing (as the bench's own workload does).
                    (range.start as u64..range.end as u64)
                        .map(|i| {
                            let i = u128::from(std::hint::black_box(i));
                            i * i
                        })
                        .sum::<u128>()
                })
                .map(sum)
            }
        }
    }
}

impl std::fmt::Debug for Compute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compute").field("on", &self.name()).finish()
    }
}

/// A float kernel end to end on the device: `launch` uploads and launches
/// into an output of `len` elements, which is then read back.
fn floats_on(
    builtins: &Builtins,
    len: usize,
    launch: impl FnOnce(&Buffer<f32>) -> Result<Task<Duration>, Error>,
) -> Result<Task<Vec<f32>>, Error> {
    if len == 0 {
        return Ok(ready(Ok(Vec::new())));
    }
    let out = builtins.gpu.buffer::<f32>(len)?;
    let launched = launch(&out)?;
    let read = out.read()?;
    // A done-callback sees the read's vector by reference: one copy on
    // the host, small beside the transfers.
    Ok(after(launched, read, <[f32]>::to_vec))
}

/// `work` over `0..len` cut into one chunk per worker (none when `len`
/// is 0), on `pool`; the chunks' results in order.
fn in_chunks<R: Send + 'static>(
    pool: &ThreadPoolExecutor,
    workers: usize,
    len: usize,
    work: impl Fn(std::ops::Range<usize>) -> R + Send + Sync + 'static,
) -> Result<Task<Vec<R>>, Error> {
    let parts = workers.clamp(1, len.max(1));
    let size = len.div_ceil(parts).max(1);
    let work = Arc::new(work);
    let slots: Arc<Mutex<Vec<Option<R>>>> =
        Arc::new(Mutex::new((0..parts).map(|_| None).collect()));
    let (task, promise) = Task::pending();
    promise.start();
    let gather = Arc::new(Gather {
        state: Mutex::new(GatherState {
            promise: Some(promise),
            left: parts,
            failure: None,
        }),
        slots: Arc::clone(&slots),
    });
    for part in 0..parts {
        let range = (part * size).min(len)..((part + 1) * size).min(len);
        let (work, slots) = (Arc::clone(&work), Arc::clone(&slots));
        let chunk = pool.spawn(move || {
            let value = work(range);
            slots.lock()[part] = Some(value);
        })?;
        let gather = Arc::clone(&gather);
        chunk.add_done_callback(move |outcome| gather.arrive(outcome.err().cloned()));
    }
    Ok(task)
}

/// The chunks of [`in_chunks`] arriving.
struct Gather<R> {
    state: Mutex<GatherState<R>>,
    slots: Arc<Mutex<Vec<Option<R>>>>,
}

struct GatherState<R> {
    promise: Option<Promise<Vec<R>>>,
    /// Chunks still running.
    left: usize,
    /// The first failure.
    failure: Option<Error>,
}

impl<R> Gather<R> {
    fn arrive(&self, failure: Option<Error>) {
        let done = {
            let mut state = self.state.lock();
            if state.failure.is_none() {
                state.failure = failure;
            }
            state.left -= 1;
            if state.left == 0 {
                let failure = state.failure.take();
                state.promise.take().map(|promise| (promise, failure))
            } else {
                None
            }
        };
        if let Some((promise, failure)) = done {
            let outcome = match failure {
                Some(error) => Err(error),
                None => Ok(std::mem::take(&mut *self.slots.lock())
                    .into_iter()
                    .map(|slot| slot.expect("every chunk finished"))
                    .collect()),
            };
            promise.complete(outcome);
        }
    }
}

/// The chunks' vectors, one after the other.
fn concat(task: Task<Vec<Vec<f32>>>) -> Task<Vec<f32>> {
    map(task, |chunks| chunks.concat())
}

/// The chunks' sums, added.
fn sum(task: Task<Vec<u128>>) -> Task<u128> {
    map(task, |parts| parts.iter().sum())
}

/// A task with `f` of `task`'s value.
fn map<T: Send + 'static, U: Send + 'static>(
    task: Task<T>,
    f: impl FnOnce(&T) -> U + Send + 'static,
) -> Task<U> {
    let (mapped, promise) = Task::pending();
    promise.start();
    task.add_done_callback(move |outcome| promise.complete(outcome.map(f).map_err(Error::clone)));
    mapped
}
