//! `corun advise -- CMD ARGS`: runs the user's own program, measures where
//! its time went, and says which corun tool fits it — the classic
//! "choosing a solution" (CPU-bound → processes or threads on every core;
//! I/O-bound → asyncio or many threads; in between → both).
//!
//! The command inherits stdin, stdout and stderr; the report goes to stderr
//! after it ends, so the program's own output can still be piped. The
//! figures come from `wait4`'s resource usage of the child, which covers
//! the child and every descendant it waited for (a shell's commands too):
//! user and system CPU time, voluntary context switches (it blocked: I/O,
//! sleep, a lock), involuntary ones (the kernel took the core away) and
//! the peak resident set size of the largest of them. On Linux, the time
//! the command's main thread spent ready but waiting for a core (other
//! programs held them; `/proc/PID/schedstat`, read while it is a zombie) is
//! taken off the wall time, so a busy machine does not make a CPU-bound
//! program look as if it waited.
//!
//! While the command runs, corun ignores SIGINT and SIGQUIT, as `time`
//! does: Ctrl-C reaches the command (same process group) and corun still
//! reports, then exits as the command did (its code, or 128 + signal).

use std::fmt::Write as _;
use std::io::ErrorKind as IoErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::human;

/// Width the report is wrapped to.
const WIDTH: usize = 100;
/// Cores busy (CPU time / wall time) from which a program counts as CPU-bound.
const CPU_BOUND: f64 = 0.8;
/// Cores busy below which a program counts as I/O-bound.
const IO_BOUND: f64 = 0.3;
/// Cores busy from which a program already runs in parallel.
const PARALLEL: f64 = 1.5;
/// Shorter runs are mostly process start-up: too short to tell.
const MIN_WALL: Duration = Duration::from_millis(10);
/// The range of the suggested worker count for I/O-bound programs.
const MIN_WORKERS: usize = 2;
const MAX_WORKERS: usize = 512;
/// Above this many concurrent waits, asyncio tasks beat threads.
const ASYNCIO_ABOVE: usize = 200;

/// What one run of the command cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Measurements {
    /// From start to exit.
    pub(crate) wall: Duration,
    /// Of that, how long its main thread was ready to run but waited for a
    /// core that other programs held (zero where unknown).
    pub(crate) run_delay: Duration,
    /// CPU time in user mode.
    pub(crate) user: Duration,
    /// CPU time in the kernel on its behalf.
    pub(crate) system: Duration,
    /// Times it gave up the core: blocked on I/O, a sleep, a lock.
    pub(crate) voluntary_switches: u64,
    /// Times the kernel took the core away (time slice over, busy machine).
    pub(crate) involuntary_switches: u64,
    /// Peak resident set size, in bytes.
    pub(crate) peak_rss: u64,
}

impl Measurements {
    /// User plus system CPU time.
    pub(crate) fn cpu(&self) -> Duration {
        self.user + self.system
    }

    /// The wall time less the time it waited for a core: what the program
    /// itself spent, computing or waiting on its own account.
    pub(crate) fn own_wall(&self) -> Duration {
        self.wall.saturating_sub(self.run_delay)
    }

    /// Was the wait for a core worth mentioning: at least 2% of the wall
    /// time and 1 ms? (It is taken off the wall time either way.)
    fn notable_run_delay(&self) -> bool {
        self.run_delay >= Duration::from_millis(1) && self.run_delay * 50 >= self.wall
    }

    /// CPU time over [`own_wall`](Self::own_wall): how many cores it kept
    /// busy on average (0 for a zero wall time).
    pub(crate) fn busy(&self) -> f64 {
        let wall = self.own_wall().as_secs_f64();
        if wall > 0.0 {
            self.cpu().as_secs_f64() / wall
        } else {
            0.0
        }
    }
}

/// What kind of program it is, and the numbers the advice rests on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// It ran under [`MIN_WALL`]: start-up dominates, no advice.
    TooShort,
    /// It computes on about one core.
    CpuBound {
        /// Cores busy on average.
        busy: f64,
    },
    /// It computes on more than one core already.
    Parallel {
        /// Cores busy on average.
        busy: f64,
    },
    /// It computes part of the time and waits the rest.
    Mixed {
        /// Cores busy on average.
        busy: f64,
    },
    /// It mostly waits.
    IoBound {
        /// Cores busy on average.
        busy: f64,
        /// Concurrent waits that would keep every core busy (Little's law),
        /// clamped to `MIN_WORKERS..=MAX_WORKERS`.
        workers: usize,
    },
}

impl Verdict {
    /// The headline: one word or two.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Verdict::TooShort => "too short to tell",
            Verdict::CpuBound { .. } => "CPU-bound",
            Verdict::Parallel { .. } => "CPU-bound, already parallel",
            Verdict::Mixed { .. } => "mixed",
            Verdict::IoBound { .. } => "I/O-bound",
        }
    }
}

/// Classifies a run on a machine with `cpus` cores by its cores busy (CPU
/// time over wall time less the wait for a core): at least [`CPU_BOUND`]
/// is CPU-bound (from [`PARALLEL`] on, already parallel), under
/// [`IO_BOUND`] I/O-bound, in between mixed. Under [`MIN_WALL`], start-up
/// dominates: too short to tell.
pub(crate) fn classify(m: &Measurements, cpus: usize) -> Verdict {
    if m.own_wall() < MIN_WALL {
        return Verdict::TooShort;
    }
    let busy = m.busy();
    if busy >= PARALLEL {
        Verdict::Parallel { busy }
    } else if busy >= CPU_BOUND {
        Verdict::CpuBound { busy }
    } else if busy < IO_BOUND {
        Verdict::IoBound {
            busy,
            workers: workers(m, cpus),
        }
    } else {
        Verdict::Mixed { busy }
    }
}

/// Little's law: a task that computes `cpu` out of every `wall` keeps
/// `cpu / wall` of a core busy, so `cpus × wall / cpu` of them at once keep
/// every core busy. No CPU time at all: the most.
fn workers(m: &Measurements, cpus: usize) -> usize {
    let cpu = m.cpu().as_secs_f64();
    let wanted = if cpu > 0.0 {
        (cpus.max(1) as f64 * m.own_wall().as_secs_f64() / cpu).ceil()
    } else {
        f64::INFINITY
    };
    if wanted >= MAX_WORKERS as f64 {
        MAX_WORKERS
    } else {
        (wanted as usize).clamp(MIN_WORKERS, MAX_WORKERS)
    }
}

/// `corun advise`: runs `command`, prints the report and the advice, then
/// exits as the command did.
pub(crate) fn run(command: &[String]) -> anyhow::Result<()> {
    let (program, args) = command
        .split_first()
        .context("no command to run (usage: corun advise -- CMD ARGS)")?;
    let start = Instant::now();
    let child = match std::process::Command::new(program).args(args).spawn() {
        Ok(child) => child,
        Err(err) => {
            let (why, code) = match err.kind() {
                IoErrorKind::NotFound => ("no such program (is it on the PATH?)".to_owned(), 127),
                IoErrorKind::PermissionDenied => ("permission denied".to_owned(), 126),
                _ => (err.to_string(), 126),
            };
            eprintln!("corun: cannot run `{program}`: {why}");
            std::process::exit(code);
        }
    };
    crate::sys::ignore_interrupts();
    let (status, mut m) = crate::sys::wait_with_usage(child.id())
        .with_context(|| format!("waiting for `{program}`"))?;
    m.wall = start.elapsed();
    let own_peak = crate::sys::own_peak_rss();
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    eprint!("{}", report(command, status, &m, cpus, own_peak));
    let code = exit_code(status);
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

/// The command's exit code, or 128 + the signal that killed it.
fn exit_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    }
}

/// The whole report: the figures, then the verdict and the advice.
///
/// `own_peak`: corun's own peak RSS, read after the command ended. The child
/// begins as a copy of corun, whose peak the kernel counts as the child's;
/// a figure no higher says only that the command used no more.
fn report(
    command: &[String],
    status: ExitStatus,
    m: &Measurements,
    cpus: usize,
    own_peak: Option<u64>,
) -> String {
    let mut out = String::new();
    let shown = human::fit(&shown_command(command), WIDTH - "corun advise: ".len());
    let outcome = match (status.code(), status.signal()) {
        (Some(0), _) => "exited with 0".to_owned(),
        (Some(code), _) => format!("exited with {code} (failed)"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => format!("{status}"),
    };
    let _ = writeln!(out, "\ncorun advise: {shown}");
    let _ = writeln!(out, "  status        {outcome}");
    let _ = writeln!(out, "  wall time     {}", seconds(m.wall));
    if m.notable_run_delay() {
        let _ = writeln!(
            out,
            "  CPU wait      {} ready to run but no core free (a busy machine)",
            seconds(m.run_delay)
        );
    }
    let _ = writeln!(
        out,
        "  CPU time      {} (user {}, system {})",
        seconds(m.cpu()),
        seconds(m.user),
        seconds(m.system)
    );
    let _ = writeln!(
        out,
        "  cores busy    {:.2} of {cpus} (CPU time / wall time less CPU wait)",
        m.busy()
    );
    let _ = writeln!(
        out,
        "  switches      {} voluntary (it waited), {} involuntary (preempted)",
        m.voluntary_switches, m.involuntary_switches
    );
    match own_peak {
        Some(own) if m.peak_rss <= own => {
            let _ = writeln!(
                out,
                "  peak RSS      at most {} (the child starts as a copy of corun and is charged its peak)",
                human::bytes(own)
            );
        }
        _ => {
            let _ = writeln!(out, "  peak RSS      {}", human::bytes(m.peak_rss));
        }
    }
    let verdict = classify(m, cpus);
    let _ = writeln!(out, "verdict: {}", verdict.label());
    for paragraph in advice(&verdict, m, cpus) {
        out.push_str(&wrap(&paragraph, WIDTH, "  "));
    }
    out
}

/// The advice for a verdict, as paragraphs, each citing the figures.
fn advice(verdict: &Verdict, m: &Measurements, cpus: usize) -> Vec<String> {
    let wall = if !m.notable_run_delay() {
        format!("{} wall", seconds(m.wall))
    } else {
        format!(
            "{} wall (less {} CPU wait)",
            seconds(m.wall),
            seconds(m.run_delay)
        )
    };
    let ratio = format!(
        "CPU {} over {wall} = {:.2} cores busy",
        seconds(m.cpu()),
        m.busy()
    );
    let switches = match m.voluntary_switches {
        1 => "1 voluntary switch".to_owned(),
        n => format!("{n} voluntary switches"),
    };
    let threads = format!(
        "corun::concurrent::ThreadPoolExecutor with max_workers = {cpus} (this machine's cores; \
         Rust threads have no GIL and run in parallel)"
    );
    match *verdict {
        Verdict::TooShort => vec![format!(
            "It ran for {} only: process start-up dominates, so the figures say nothing about \
             its work. Give it more work and ask again.",
            seconds(m.wall)
        )],
        Verdict::CpuBound { .. } if cpus == 1 => vec![
            format!("{ratio}, {switches}: it computes and seldom waits."),
            "This machine has one core, so more threads or processes will not make it faster \
             here; on a machine with more cores, split the work over a \
             corun::concurrent::ThreadPoolExecutor (Rust threads have no GIL) or a \
             corun::multiprocessing::ProcessPoolExecutor with one worker per core."
                .to_owned(),
        ],
        Verdict::CpuBound { .. } => vec![
            format!("{ratio}, {switches}: it computes and seldom waits."),
            format!(
                "Split the work and run the parts on every core: {threads}, or \
                 corun::multiprocessing::ProcessPoolExecutor (or Pool) with {cpus} workers when \
                 the parts must be isolated (a crash or abort fails one task, not the program). \
                 asyncio will not help: it interleaves waits, not computation."
            ),
        ],
        Verdict::Parallel { busy } => {
            let used = busy.round().max(2.0) as usize;
            let room = if used >= cpus {
                format!("it already keeps all {cpus} cores busy")
            } else {
                format!(
                    "{} of the {cpus} cores are left: a pool of max_workers = {cpus} could use them",
                    cpus - used
                )
            };
            vec![
                format!("{ratio}: it already runs in parallel on ~{used} cores."),
                format!(
                    "{room}; more workers than cores will not help a CPU-bound program (they only \
                     take turns). For more speed, do less work per item or use a faster algorithm."
                ),
            ]
        }
        Verdict::Mixed { busy } => vec![
            format!(
                "{ratio}, {switches}: it computes {:.0}% of the time and waits the rest.",
                busy.min(1.0) * 100.0
            ),
            format!(
                "Split the two: let threads (a ThreadPoolExecutor with a few workers per core) or \
                 corun::asyncio tasks do the waiting, and hand the computing to {threads} or a \
                 corun::multiprocessing::ProcessPoolExecutor sized to the cores \
                 (asyncio::run_in_executor bridges the two)."
            ),
        ],
        Verdict::IoBound { busy, workers } => {
            let mut paragraphs = vec![
                format!(
                    "{ratio}, {switches}: it waits {:.0}% of the time (I/O, sleeps, locks).",
                    (1.0 - busy).clamp(0.0, 1.0) * 100.0
                ),
                format!(
                    "Overlap the waits: corun::asyncio (many tasks on one event loop) or a \
                     corun::concurrent::ThreadPoolExecutor with many workers. By Little's law, \
                     {cpus} cores × {} wall / {} CPU ≈ {workers}{} concurrent waits would keep \
                     every core busy.",
                    seconds(m.own_wall()),
                    seconds(m.cpu()),
                    if workers == MAX_WORKERS { "+" } else { "" }
                ),
            ];
            paragraphs.push(if workers > ASYNCIO_ABOVE {
                "At a few hundred concurrent waits asyncio is the better fit: a task costs far \
                 less than a thread."
                    .to_owned()
            } else {
                format!(
                    "Threads: ThreadPoolExecutor with max_workers = {workers}; asyncio fits as \
                     well, and better if the waits grow into the hundreds."
                )
            });
            paragraphs
        }
    }
}

/// A duration as people read it.
fn seconds(d: Duration) -> String {
    human::seconds(d.as_secs_f64())
}

/// `text` wrapped at word boundaries to lines of at most `width`
/// characters, each after `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    human::wrap(text, width.saturating_sub(indent.chars().count()))
        .iter()
        .map(|line| format!("{indent}{line}\n"))
        .collect()
}

/// `command` on one line, as a shell would read it back: words with spaces
/// or special characters in single quotes; line breaks and tabs shown as
/// spaces.
fn shown_command(command: &[String]) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./=:,+-@%".contains(c);
    let words: Vec<String> = command
        .iter()
        .map(|word| {
            if !word.is_empty() && word.chars().all(plain) {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', r"'\''"))
            }
        })
        .collect();
    words
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn run(wall: u64, user: u64, system: u64, voluntary: u64, involuntary: u64) -> Measurements {
        Measurements {
            wall: ms(wall),
            run_delay: Duration::ZERO,
            user: ms(user),
            system: ms(system),
            voluntary_switches: voluntary,
            involuntary_switches: involuntary,
            peak_rss: 8 << 20,
        }
    }

    #[test]
    fn computing_all_the_time_is_cpu_bound() {
        let m = run(2010, 1950, 30, 3, 12);
        let Verdict::CpuBound { busy } = classify(&m, 4) else {
            panic!("{:?}", classify(&m, 4));
        };
        assert!((busy - 1980.0 / 2010.0).abs() < 1e-9);
        let text = report(&["x".into()], ExitStatus::from_raw(0), &m, 4, None);
        assert!(text.contains("verdict: CPU-bound\n"), "{text}");
        assert!(
            text.contains("CPU 1.98 s over 2.01 s wall = 0.99 cores busy"),
            "{text}"
        );
        assert!(text.contains("max_workers = 4"), "{text}");
    }

    #[test]
    fn more_than_one_core_busy_is_already_parallel() {
        let m = run(1000, 3900, 50, 40, 100);
        assert!(matches!(classify(&m, 4), Verdict::Parallel { .. }));
        let text = report(&["x".into()], ExitStatus::from_raw(0), &m, 4, None);
        assert!(text.contains("parallel on ~4 cores"), "{text}");
        assert!(text.contains("all 4 cores busy"), "{text}");
        assert!(
            text.contains("more workers than cores will not help"),
            "{text}"
        );
        let text = report(&["x".into()], ExitStatus::from_raw(0), &m, 16, None);
        assert!(text.contains("12 of the 16 cores are left"), "{text}");
    }

    #[test]
    fn waiting_most_of_the_time_is_io_bound() {
        // 10 ms of CPU in 1 s on 2 cores: 2 × 100 = 200 waits.
        let m = run(1000, 8, 2, 150, 1);
        assert_eq!(
            classify(&m, 2),
            Verdict::IoBound {
                busy: 0.01,
                workers: 200
            }
        );
        let text = report(&["x".into()], ExitStatus::from_raw(0), &m, 2, None);
        assert!(text.contains("verdict: I/O-bound\n"), "{text}");
        assert!(text.contains("≈ 200 concurrent waits"), "{text}");
        assert!(text.contains("max_workers = 200"), "{text}");
    }

    #[test]
    fn worker_estimate_is_clamped() {
        // Nearly no waiting below 0.3 is impossible, so clamp the low end
        // directly; the high end through a long sleep.
        assert_eq!(workers(&run(1000, 999, 0, 0, 0), 1), MIN_WORKERS);
        let sleep = run(500, 1, 0, 2, 0);
        assert_eq!(
            classify(&sleep, 8),
            Verdict::IoBound {
                busy: 0.002,
                workers: MAX_WORKERS
            }
        );
        let text = report(&["sleep".into()], ExitStatus::from_raw(0), &sleep, 8, None);
        assert!(text.contains("512+ concurrent waits"), "{text}");
        assert!(text.contains("asyncio is the better fit"), "{text}");
    }

    #[test]
    fn half_computing_is_mixed() {
        let m = run(1000, 450, 50, 500, 5);
        assert_eq!(classify(&m, 2), Verdict::Mixed { busy: 0.5 });
        let text = report(&["x".into()], ExitStatus::from_raw(0), &m, 2, None);
        assert!(text.contains("verdict: mixed\n"), "{text}");
        assert!(text.contains("computes 50% of the time"), "{text}");
    }

    #[test]
    fn waiting_for_a_core_is_not_waiting() {
        // A third of the wall in CPU, but two thirds waiting for a core
        // other programs held: it computed whenever it could.
        let mut m = run(1500, 500, 0, 3, 400);
        assert!(matches!(classify(&m, 2), Verdict::Mixed { .. }));
        m.run_delay = ms(1000);
        assert_eq!(classify(&m, 2), Verdict::CpuBound { busy: 1.0 });
        let text = report(&["x".into()], ExitStatus::from_raw(0), &m, 2, None);
        assert!(text.contains("CPU wait      1.00 s"), "{text}");
        assert!(
            text.contains("CPU 500 ms over 1.50 s wall (less 1.00 s CPU wait) = 1.00 cores busy"),
            "{text}"
        );
        // All of it waiting for a core: nothing to tell.
        m.run_delay = ms(1500);
        assert_eq!(classify(&m, 2), Verdict::TooShort);
    }

    #[test]
    fn peak_rss_no_higher_than_corun_is_a_bound() {
        let m = run(1000, 8, 2, 150, 1);
        let text = report(&["x".into()], ExitStatus::from_raw(0), &m, 2, Some(9 << 20));
        assert!(text.contains("peak RSS      at most 9.0 MiB"), "{text}");
        let text = report(&["x".into()], ExitStatus::from_raw(0), &m, 2, Some(4 << 20));
        assert!(text.contains("peak RSS      8.0 MiB\n"), "{text}");
    }

    #[test]
    fn zero_wall_time_is_too_short() {
        let m = run(0, 0, 0, 0, 0);
        assert_eq!(m.busy(), 0.0);
        assert_eq!(classify(&m, 2), Verdict::TooShort);
        assert_eq!(classify(&run(3, 3, 0, 0, 0), 2), Verdict::TooShort);
        let text = report(&["true".into()], ExitStatus::from_raw(0), &m, 2, None);
        assert!(text.contains("verdict: too short to tell"), "{text}");
    }

    #[test]
    fn zero_cpu_time_is_io_bound_with_the_most_workers() {
        let m = run(200, 0, 0, 1, 0);
        assert_eq!(
            classify(&m, 1),
            Verdict::IoBound {
                busy: 0.0,
                workers: MAX_WORKERS
            }
        );
    }

    #[test]
    fn zero_cores_counts_as_one() {
        assert_eq!(workers(&run(1000, 10, 0, 0, 0), 0), 100);
    }

    #[test]
    fn exit_codes_pass_through() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGKILL)), 128 + 9);
    }

    #[test]
    fn report_fits_the_width() {
        let long: Vec<String> = (0..60).map(|i| format!("arg{i}")).collect();
        let runs = [
            run(2010, 1950, 30, 3, 12),
            run(1000, 3900, 50, 40, 100),
            run(1000, 8, 2, 150, 1),
            run(1000, 450, 50, 500, 5),
            Measurements {
                run_delay: ms(1000),
                ..run(1500, 500, 0, 3, 400)
            },
            run(500, 1, 0, 2, 0),
            run(0, 0, 0, 0, 0),
        ];
        for m in runs {
            for cpus in [1, 2, 128] {
                let text = report(
                    &long,
                    ExitStatus::from_raw(libc::SIGKILL),
                    &m,
                    cpus,
                    Some(9 << 20),
                );
                for line in text.lines() {
                    assert!(line.chars().count() <= WIDTH, "{line:?}");
                }
            }
        }
    }

    #[test]
    fn the_command_is_shown_on_one_line_quoted() {
        let command = ["python3", "-c", "import time\nx = 'a'", ""].map(String::from);
        assert_eq!(
            shown_command(&command),
            r"python3 -c 'import time x = '\''a'\''' ''"
        );
    }

    #[test]
    fn wrap_keeps_words_whole() {
        let text = "aaaa bbbb cccc dddd";
        assert_eq!(wrap(text, 11, "  "), "  aaaa bbbb\n  cccc dddd\n");
        assert_eq!(wrap("x", 1, ""), "x\n");
    }
}
