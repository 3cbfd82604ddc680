//! The command line, defined once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// corun: Python's concurrency toolkit in Rust. Runs the classic
/// experiments (`bench`) and small programs that show each primitive (`demo`).
#[derive(Debug, Parser)]
#[command(name = "corun", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the seeds' experiments (CPU-bound and I/O-bound work in every
    /// mode) against their peers: tables, timing diagrams and a verdict.
    Bench(BenchArgs),
    /// Run a small program that shows one primitive at work.
    Demo {
        #[arg(value_enum)]
        demo: Demo,
    },
    /// List the OpenCL devices, what each can do, and the one corun picks.
    Gpu,
    /// Run your own program and say which tool fits it: measures its wall and
    /// CPU time, context switches and peak memory, then calls it CPU-bound
    /// (threads or processes on every core), I/O-bound (asyncio or many
    /// threads) or mixed. The report goes to stderr; corun exits as the
    /// program did.
    Advise {
        /// The program and its arguments: `corun advise -- CMD ARGS`.
        #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Serve a NATS JetStream cluster as a worker, or show its queues.
    Cluster {
        #[command(subcommand)]
        action: ClusterAction,
    },
}

/// `corun cluster …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ClusterAction {
    /// Run this binary as a worker of the cluster at URL: it serves the
    /// tasks that executors of this same binary submit, each in a local
    /// process pool.
    Worker {
        /// The NATS server, e.g. nats://127.0.0.1:4222.
        url: String,
        /// How many tasks run at once (default: the CPUs).
        #[arg(long)]
        processes: Option<usize>,
        /// The JetStream stream of the tasks.
        #[arg(long, default_value = "CORUN")]
        stream: String,
        /// The queue within it.
        #[arg(long, default_value = "default")]
        queue: String,
    },
    /// Show the queues of the cluster at URL: per queue and binary, the
    /// live workers and their processes, the tasks queued, running and
    /// delivered again.
    Status {
        /// The NATS server, e.g. nats://127.0.0.1:4222.
        url: String,
        /// The JetStream stream of the tasks.
        #[arg(long, default_value = "CORUN")]
        stream: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Experiments to run (default: cpu and io, the seeds' story; see --all).
    #[arg(short, long, value_enum, value_delimiter = ',')]
    pub(crate) experiment: Vec<Experiment>,
    /// Run the micro-benchmarks too: queue, sync, overhead, latency, spawn,
    /// crash, bulk, IPC, async, emit, reactive, schedule, gpu.
    #[arg(long, conflicts_with = "experiment")]
    pub(crate) all: bool,
    /// Small sizes and few repetitions: a smoke run for CI.
    #[arg(long)]
    pub(crate) quick: bool,
    /// Repetitions per measurement; the median and its spread are reported
    /// (default 5, quick 1).
    #[arg(long)]
    pub(crate) runs: Option<usize>,
    /// Also write every figure as JSON to this file ("-": to stdout, and
    /// the table to stderr).
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// Skip the Python peers even when python3 is present.
    #[arg(long)]
    pub(crate) no_python: bool,
    /// Write each recorded mode of the cpu and io experiments as an SVG
    /// timing diagram and a Chrome trace (JSON) into this directory; an
    /// error for experiments that have no timeline.
    #[arg(long, value_name = "DIR")]
    pub(crate) timeline: Option<PathBuf>,
    /// Write the report as one self-contained HTML page: the tables, the
    /// timing diagrams, a speedup chart per workload, the machine and commit.
    #[arg(long, value_name = "FILE")]
    pub(crate) html: Option<PathBuf>,
    /// Fail (exit status 1) when a bar is missed outside the noise.
    #[arg(long)]
    pub(crate) check: bool,
    /// Run the cpu experiment's sums on the NATS JetStream cluster at URL
    /// too (e.g. nats://127.0.0.1:4222): a "ClusterExecutor (URL)" mode,
    /// timed with the others and compared with sequential and the process
    /// pool. Its workers are whatever serves URL: start them, on any
    /// machine, with `corun cluster worker URL` from this same binary.
    /// A URL that cannot be reached, or no worker answering the first task
    /// within 30 s, is an error before anything is measured; only the cpu
    /// experiment uses it.
    #[arg(long, value_name = "URL")]
    pub(crate) cluster: Option<String>,
}

/// An experiment of `corun bench` (see BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Experiment {
    /// Items through queue::Queue, producer to consumer.
    Queue,
    /// Contended Lock / Semaphore / Event / Barrier round trips.
    Sync,
    /// CPU-bound: the sum of squares of 0..n for 20 numbers near 5 million,
    /// sequentially, on threads, on processes, as asyncio tasks and on the
    /// GPU (when an OpenCL device exists), against rayon and Python.
    Cpu,
    /// Submit many no-op tasks, then collect them: the cost per task.
    OverheadThreads,
    /// One task at a time, submit → result, against a thread ping-pong.
    LatencyThreads,
    /// No-op tasks through a 2-worker process pool, one at a time and pipelined.
    OverheadProcesses,
    /// Pool.map of 2 000 000 trivial items over 2 worker processes, chunked.
    MapProcesses,
    /// A pool of 2 worker processes ready and one task done.
    Spawn,
    /// 1 000 tasks of which 100 abort their worker process.
    Crash,
    /// A 64 MiB buffer to a worker process: through a pipe, through SharedMemory, Python.
    Bulk,
    /// Small items from a producer process to a consumer through a cross-process Queue.
    QueueProcesses,
    /// A process-shared Lock: acquire + release alone, and contended by two processes.
    LockProcesses,
    /// Awkward work on 2 workers against rayon: heavy-tailed task sizes, a
    /// million tiny tasks, tasks waiting on tasks in their own pool (which can
    /// deadlock), short tasks behind long ones.
    Schedule,
    /// 100 000 no-op asyncio tasks created and awaited, against tokio spawn_local and Python asyncio.
    AsyncSpawn,
    /// Overshoot of sleep(1 ms) on the event loop, against tokio::time::sleep and Python asyncio.sleep.
    SleepPrecision,
    /// 1 000 000 items through asyncio::Queue(1024) between two tasks, against
    /// tokio's mpsc channel and Python's asyncio.Queue.
    AsyncQueue,
    /// I/O-bound: 200 pages from a local HTTP server that answers each after
    /// 50 ms, sequentially, on 32 threads, on 2 processes and as asyncio
    /// tasks, against tokio + hyper and Python.
    Io,
    /// One emit to 1 and to 10 listeners: EventEmitter and LocalEmitter against a Vec<Box<dyn Fn>> loop and Python.
    Emit,
    /// 1 000 000 items through range → map → filter → scan, and a Subject fanning out to
    /// 10 observers, against a plain iterator, rxRust and RxPY.
    Reactive,
    /// Vector add and SAXPY on the default OpenCL device, kernel-only and end
    /// to end, against corun::gpu's CPU fallback and rayon.
    GpuThroughput,
    /// An empty kernel on 1 work-item, launched and waited for, in both
    /// completion modes, against a thread pool's submit → result.
    GpuLaunch,
    /// A local nats-server and three workers: the cost per task through the
    /// cluster, and the cpu sums on it against a process pool.
    Cluster,
    /// The same workload timed against itself: its ratio must come out at
    /// 1.00 within its spread. A check of the measuring, for tests.
    #[value(hide = true)]
    SelfCheck,
}

impl Experiment {
    /// What `corun bench` runs when no experiment is named: the seeds'
    /// story, CPU-bound then I/O-bound work in every mode.
    pub(crate) const DEFAULT: &[Experiment] = &[Experiment::Cpu, Experiment::Io];

    /// What `corun bench --all` adds to the default set: the
    /// micro-benchmarks.
    pub(crate) const EXTRA: &[Experiment] = &[
        Experiment::Queue,
        Experiment::Sync,
        Experiment::OverheadThreads,
        Experiment::LatencyThreads,
        Experiment::OverheadProcesses,
        Experiment::MapProcesses,
        Experiment::Spawn,
        Experiment::Crash,
        Experiment::Bulk,
        Experiment::QueueProcesses,
        Experiment::LockProcesses,
        Experiment::AsyncSpawn,
        Experiment::SleepPrecision,
        Experiment::AsyncQueue,
        Experiment::Emit,
        Experiment::Reactive,
        Experiment::Schedule,
        Experiment::GpuThroughput,
        Experiment::GpuLaunch,
        Experiment::Cluster,
    ];

    /// What `corun bench --all` runs: the default set, then the extras.
    pub(crate) fn all() -> impl Iterator<Item = Experiment> {
        Self::DEFAULT.iter().chain(Self::EXTRA).copied()
    }

    /// Whether `--timeline` can draw this experiment.
    pub(crate) fn has_timeline(self) -> bool {
        matches!(self, Experiment::Cpu | Experiment::Io)
    }

    /// What it measures, in a line: its help text.
    pub(crate) fn about(self) -> String {
        self.to_possible_value()
            .and_then(|v| v.get_help().map(ToString::to_string))
            .unwrap_or_default()
    }

    /// The name on the command line and in BENCHMARKS.md.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Experiment::Queue => "queue",
            Experiment::Sync => "sync",
            Experiment::Cpu => "cpu",
            Experiment::OverheadThreads => "overhead-threads",
            Experiment::LatencyThreads => "latency-threads",
            Experiment::OverheadProcesses => "overhead-processes",
            Experiment::MapProcesses => "map-processes",
            Experiment::Spawn => "spawn",
            Experiment::Crash => "crash",
            Experiment::Bulk => "bulk",
            Experiment::QueueProcesses => "queue-processes",
            Experiment::LockProcesses => "lock-processes",
            Experiment::Schedule => "schedule",
            Experiment::AsyncSpawn => "async-spawn",
            Experiment::SleepPrecision => "sleep-precision",
            Experiment::AsyncQueue => "async-queue",
            Experiment::Io => "io",
            Experiment::Emit => "emit",
            Experiment::Reactive => "reactive",
            Experiment::GpuThroughput => "gpu-throughput",
            Experiment::GpuLaunch => "gpu-launch",
            Experiment::SelfCheck => "self-check",
            Experiment::Cluster => "cluster",
        }
    }
}

/// A demo of `corun demo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Demo {
    /// Two threads deposit and pay bills: without a lock updates are lost and the
    /// balance drifts from 100; under a Lock it stays 100.
    Lock,
    /// Two threads working for different times meet at a Barrier twice.
    Barrier,
    /// A worker waits for an Event the main thread sets.
    Event,
    /// A producer and a consumer share a bounded buffer under a Condition.
    Condition,
    /// Workers drain a Queue, with task_done and join.
    Queue,
    /// Sums of squares serially, on a ThreadPoolExecutor and on a process Pool, with the speedups.
    Pool,
    /// One Process per number, each printing its pid and name.
    Process,
    /// A process Pool that survives workers aborting, printing which tasks failed and why.
    Crash,
    /// Two processes put squares and cubes into one Queue; the parent prints all ten values.
    ProcessQueue,
    /// A child process and its parent talk both ways through a Pipe; the closed end is an error, not a hang.
    Pipe,
    /// A child process attaches to the parent's SharedMemory block by name and writes into it.
    SharedMemory,
    /// Two processes add and subtract 5 on a shared Value: 500 with the lock, lost updates without.
    ValueLock,
    /// Cooperative tasks take turns on an event loop, giving up control with sleep(0), while one sleeps on a timer.
    EventLoop,
    /// Twenty pages from a slow local web server: one by one, on threads, and as asyncio tasks, with the times.
    Download,
    /// Applicants and a hiring committee: emitters, the event loop and handlers; "we'll email you when we decide".
    Emitter,
    /// Sensor readings through debounce, buffer_with_count and a moving average (scan), on the event loop.
    Reactive,
    /// SAXPY and the twenty exact sums on the GPU, an OpenCL CPU driver, or corun's CPU fallback, checked and timed.
    Gpu,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn experiments_parse_as_a_list() {
        let cli = Cli::try_parse_from(["corun", "bench", "-e", "queue,sync", "--quick"]).unwrap();
        let Command::Bench(args) = cli.command else {
            panic!("expected bench");
        };
        assert_eq!(args.experiment, [Experiment::Queue, Experiment::Sync]);
        assert!(args.quick);
    }

    #[test]
    fn cluster_takes_a_url() {
        let cli = Cli::try_parse_from([
            "corun",
            "bench",
            "-e",
            "cpu",
            "--cluster",
            "nats://10.0.0.1:4222",
        ])
        .unwrap();
        let Command::Bench(args) = cli.command else {
            panic!("expected bench");
        };
        assert_eq!(args.cluster.as_deref(), Some("nats://10.0.0.1:4222"));
        assert!(Cli::try_parse_from(["corun", "bench", "--cluster"]).is_err());
    }

    #[test]
    fn experiment_names_match_the_command_line() {
        for experiment in Experiment::value_variants() {
            let value = experiment.to_possible_value().expect("not skipped");
            assert_eq!(value.get_name(), experiment.name());
        }
        let cli = Cli::try_parse_from([
            "corun",
            "bench",
            "-e",
            "cpu,overhead-threads,latency-threads",
        ])
        .unwrap();
        let Command::Bench(args) = cli.command else {
            panic!("expected bench");
        };
        assert_eq!(
            args.experiment,
            [
                Experiment::Cpu,
                Experiment::OverheadThreads,
                Experiment::LatencyThreads
            ]
        );
    }

    #[test]
    fn all_is_the_default_set_and_the_extras() {
        assert_eq!(Experiment::DEFAULT, [Experiment::Cpu, Experiment::Io]);
        for extra in Experiment::EXTRA {
            assert!(!Experiment::DEFAULT.contains(extra));
        }
        let all: Vec<Experiment> = Experiment::all().collect();
        assert_eq!(all[..Experiment::DEFAULT.len()], *Experiment::DEFAULT);
        assert_eq!(all[Experiment::DEFAULT.len()..], *Experiment::EXTRA);
        // Every experiment but the hidden self-check is in --all, once.
        for value in Experiment::value_variants() {
            let count = all.iter().filter(|e| *e == value).count();
            let expected = usize::from(*value != Experiment::SelfCheck);
            assert_eq!(count, expected, "{value:?}");
        }
        let all = |args: &[&str]| {
            let cli = Cli::try_parse_from(args).unwrap();
            let Command::Bench(args) = cli.command else {
                panic!("expected bench");
            };
            (args.all, args.experiment)
        };
        assert_eq!(all(&["corun", "bench", "--all"]), (true, vec![]));
        assert_eq!(
            all(&["corun", "bench", "-e", "schedule"]),
            (false, vec![Experiment::Schedule])
        );
        assert_eq!(
            all(&["corun", "bench", "-e", "self-check"]),
            (false, vec![Experiment::SelfCheck])
        );
        assert!(Cli::try_parse_from(["corun", "bench", "--all", "-e", "cpu"]).is_err());
    }

    #[test]
    fn every_experiment_says_what_it_measures() {
        for experiment in Experiment::value_variants() {
            assert!(!experiment.about().is_empty(), "{experiment:?}");
        }
        assert!(Experiment::Cpu.has_timeline() && !Experiment::Queue.has_timeline());
    }

    #[test]
    fn advise_takes_the_rest_of_the_line() {
        let command = |args: &[&str]| {
            let cli = Cli::try_parse_from(args).unwrap();
            let Command::Advise { command } = cli.command else {
                panic!("expected advise");
            };
            command
        };
        let expected = ["python3", "-c", "print(1)", "--help"];
        assert_eq!(
            command(&[
                "corun", "advise", "--", "python3", "-c", "print(1)", "--help"
            ]),
            expected
        );
        assert_eq!(
            command(&["corun", "advise", "python3", "-c", "print(1)", "--help"]),
            expected
        );
        assert!(Cli::try_parse_from(["corun", "advise"]).is_err());
        assert!(Cli::try_parse_from(["corun", "advise", "--"]).is_err());
    }

    #[test]
    fn unknown_demo_is_an_error() {
        assert!(Cli::try_parse_from(["corun", "demo", "nope"]).is_err());
    }
}
