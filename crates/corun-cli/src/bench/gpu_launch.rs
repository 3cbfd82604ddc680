//! The `gpu-launch` experiment: the round trip of one GPU command, an
//! empty kernel on one work-item launched and waited for through its
//! `Task`, in both completion modes of `corun::gpu::GpuExecutor`
//! (driver callbacks, and a completion thread in `clWaitForEvents`),
//! against the same round trip of an empty closure through a
//! `ThreadPoolExecutor`. It is the fixed cost a kernel must outweigh to be
//! worth sending to the device. Runs on `default_device()`
//! (`CORUN_GPU_DEVICE` picks another); with no OpenCL device it reports the
//! pool alone and says so. Not in the default set: `-e gpu-launch`.

use anyhow::Context;
use corun::concurrent::ThreadPoolExecutor;
use corun::gpu::{Completion, Device, GpuExecutor, Program, default_device};

use super::Plan;
use super::measure::{Contender, Figure, per_op};
use super::report::Row;

const EXPERIMENT: &str = "gpu-launch";
const UNIT: &str = "µs/launch";
const EMPTY_KERNEL: &str = "__kernel void empty() {}";

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(2_000, 200);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let pool = ThreadPoolExecutor::builder()
        .max_workers(cpus)
        .build()
        .context("building the pool")?;
    let pool_name = format!("ThreadPoolExecutor({cpus}) submit → result, empty closure");
    let pool_round_trip = |n: usize| {
        for _ in 0..n {
            let task = pool.spawn(|| ()).expect("the pool is open");
            task.result().expect("an empty closure succeeds");
        }
    };
    let Some(device) = default_device() else {
        let mut contenders = [Contender::timed("ThreadPoolExecutor", pool_round_trip)];
        let t = per_op(n, plan.runs, &mut contenders);
        return Ok(vec![
            Row::peer_missing(
                EXPERIMENT,
                pool_name,
                "GpuExecutor launch → result",
                &t[0] / 1e3,
                format!(
                    "no OpenCL device (corun's CPU fallback is used): no GPU launch to \
                     measure; {n} round trips"
                ),
            )
            .unit(UNIT),
        ]);
    };
    let callback = Launcher::new(&device, Completion::Callback)?;
    let wait = Launcher::new(&device, Completion::Wait)?;
    let mut contenders = [
        Contender::timed("GpuExecutor launch → result (callback)", |n| {
            callback.round_trips(n)
        }),
        Contender::timed("GpuExecutor launch → result (wait)", |n| {
            wait.round_trips(n)
        }),
        Contender::timed("ThreadPoolExecutor submit → result", pool_round_trip),
    ];
    let t: Vec<Figure> = per_op(n, plan.runs, &mut contenders)
        .into_iter()
        .map(|ns| ns / 1e3)
        .collect();
    let note = format!("on {device}; empty kernel, 1 work-item; {n} launches");
    Ok([("Callback", &t[0]), ("Wait", &t[1])]
        .into_iter()
        .map(|(mode, us)| {
            Row::compare(
                EXPERIMENT,
                format!("GpuExecutor launch → result, Completion::{mode}"),
                pool_name.clone(),
                us,
                &t[2],
                None,
            )
            .unit(UNIT)
            .note(note.clone())
        })
        .collect())
}

/// An executor in one completion mode and its empty kernel.
struct Launcher {
    gpu: GpuExecutor,
    kernel: corun::gpu::Kernel,
}

impl Launcher {
    fn new(device: &Device, completion: Completion) -> anyhow::Result<Self> {
        let gpu = GpuExecutor::builder()
            .device(device.clone())
            .completion(completion)
            .build()
            .with_context(|| format!("an executor on {device} ({completion:?})"))?;
        let program = Program::build(&gpu, EMPTY_KERNEL).context("building the empty kernel")?;
        let kernel = program.kernel("empty").context("the empty kernel")?;
        Ok(Self { gpu, kernel })
    }

    /// `n` launches, each waited for before the next.
    fn round_trips(&self, n: usize) {
        for _ in 0..n {
            let task = self
                .gpu
                .launch(&self.kernel, 1)
                .expect("the empty kernel launches");
            task.result().expect("the empty kernel completes");
        }
    }
}
