//! "Choosing a solution": for each of the seeds' workloads, which model
//! won, by how much, and why, in measured terms: CPU time over wall time
//! (how many cores computed), how many workers were busy, what the peers
//! did.
//!
//! Modes whose spreads overlap the winner's tie with it: the verdict names
//! them all rather than pick one by noise, so a second run says the same.

use serde::Serialize;

use super::workloads::{Bound, Mode, Model, Origin, Workload};
use crate::human;

/// The verdict on one workload.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Choice {
    pub(crate) experiment: &'static str,
    /// The winning model(s), e.g. ["threads", "processes"].
    pub(crate) winners: Vec<&'static str>,
    /// One line: who won and by how much.
    pub(crate) headline: String,
    /// Why, each a sentence with the measured figures.
    pub(crate) reasons: Vec<String>,
    /// What to use for work like this.
    pub(crate) advice: String,
}

/// The verdict on `workload`; `None` when it has no corun mode.
pub(crate) fn choose(workload: &Workload, cpus: usize) -> Option<Choice> {
    let ours: Vec<&Mode> = workload
        .modes
        .iter()
        .filter(|m| m.origin == Origin::Corun)
        .collect();
    let best = *ours
        .iter()
        .min_by(|a, b| a.ms.median.total_cmp(&b.ms.median))?;
    let tied: Vec<&Mode> = ours
        .iter()
        .copied()
        .filter(|m| !std::ptr::eq(*m, best) && m.ms.low <= best.ms.high)
        .collect();
    let mut winners = vec![best.model.word()];
    for m in &tied {
        if !winners.contains(&m.model.word()) {
            winners.push(m.model.word());
        }
    }
    let sequential = ours.iter().find(|m| m.model == Model::Sequential);

    let mut headline = format!(
        "{}: {} won — {}, {}",
        match workload.bound {
            Bound::Cpu => "CPU-bound",
            Bound::Io => "I/O-bound",
        },
        best.model.word(),
        best.name,
        human::ms(best.ms.median)
    );
    if let Some(seq) = sequential.filter(|s| !std::ptr::eq(**s, best)) {
        headline += &format!(
            ", {} than sequential",
            human::speed(best.ms.median / seq.ms.median)
        );
    }
    if !tied.is_empty() {
        let names: Vec<String> = tied
            .iter()
            .map(|m| format!("{} ({})", m.model.word(), human::ms(m.ms.median)))
            .collect();
        headline += &format!("; tied within noise with {}", names.join(", "));
    } else if let Some(next) = ours
        .iter()
        .filter(|m| !std::ptr::eq(**m, best))
        .min_by(|a, b| a.ms.median.total_cmp(&b.ms.median))
    {
        headline += &format!(
            "; next, {} ({}), took {} as long",
            next.model.word(),
            next.name,
            human::times(next.ms.median / best.ms.median)
        );
    }

    let mut reasons = Vec::new();
    for mode in &ours {
        if let Some(why) = why(mode, workload.bound, cpus) {
            reasons.push(why);
        }
    }
    reasons.extend(peers(workload, best));
    reasons.extend(python_gil(workload));
    Some(Choice {
        experiment: workload.experiment,
        winners,
        headline,
        reasons,
        advice: advice(workload.bound, best.model, cpus),
    })
}

/// What a mode's recorded run says about it.
fn why(mode: &Mode, bound: Bound, cpus: usize) -> Option<String> {
    let rec = mode.recorded.as_ref()?;
    let cores = rec
        .cores_busy()
        .map(|c| {
            format!(
                "CPU {} over {} wall = {:.1} of {cpus} cores busy",
                human::ms(rec.cpu_ms.unwrap_or(0.0)),
                human::ms(rec.wall_ms),
                c
            )
        })
        .unwrap_or_else(|| format!("{} wall", human::ms(rec.wall_ms)));
    let busy = match (mode.model, mode.workers) {
        // A loop's lane shows the steps of its tasks.
        (Model::Asyncio, _) => format!(
            "the loop thread ran {} task steps, busy {:.0}% of the time",
            rec.tasks,
            100.0 * rec.busy_workers.min(1.0)
        ),
        (_, 1) => format!(
            "its worker busy {:.0}% of the time",
            100.0 * rec.busy_workers.min(1.0)
        ),
        (_, workers) => format!(
            "{:.1} of {workers} workers busy on average",
            rec.busy_workers.min(workers as f64)
        ),
    };
    let lesson = match (bound, mode.model) {
        (Bound::Cpu, Model::Sequential) => "one core computes, the others idle",
        (Bound::Cpu, Model::Threads) => {
            "Rust threads share no interpreter lock: each computes on its own core"
        }
        (Bound::Cpu, Model::Processes) => {
            "each process computes on its own core; arguments and results cross a pipe"
        }
        (Bound::Cpu, Model::Asyncio) => {
            "one thread runs one task at a time: an event loop adds no cores to computing"
        }
        (Bound::Cpu, Model::Gpu) => {
            "the kernel runs the sums at once across the device's compute units"
        }
        (Bound::Io, Model::Sequential) => "the time is waiting: one request in flight at a time",
        (Bound::Io, Model::Threads) => {
            "each thread waits on one request: as many in flight as threads"
        }
        (Bound::Io, Model::Processes) => "each process waits on one request: two in flight",
        (Bound::Io, Model::Asyncio) => {
            "every request in flight at once on one thread; the loop wakes a task when its reply comes"
        }
        (Bound::Io, Model::Gpu) => "a GPU does not wait on sockets",
        (Bound::Cpu, Model::Cluster) => {
            "each worker process computes on its own core, on whichever machine serves the \
             queue; arguments and results cross the NATS server"
        }
        (Bound::Io, Model::Cluster) => {
            "each worker process waits on one request; every request crosses the NATS server too"
        }
    };
    // Workers busier than the cores: they took turns on fewer cores than
    // there are workers (the machine had other work, or fewer cores).
    let shared = match rec.cores_busy() {
        Some(cores)
            if bound == Bound::Cpu
                && mode.workers > 1
                && rec.busy_workers > 1.25 * cores.max(0.1) =>
        {
            format!(
                " (the workers ran {:.1}× longer than the CPU they got: they shared the cores \
                 with other work)",
                rec.busy_workers / cores.max(0.1)
            )
        }
        _ => String::new(),
    };
    let name = if mode.name == mode.model.word() {
        mode.name.clone()
    } else {
        format!("{} ({})", mode.model.word(), mode.name)
    };
    Some(format!("{name}: {cores}; {busy}{shared} — {lesson}."))
}

/// How the best Rust peer and Python's modes did against the winner.
fn peers(workload: &Workload, best: &Mode) -> Vec<String> {
    let mut lines = Vec::new();
    let fastest = |origin| {
        workload
            .modes
            .iter()
            .filter(move |m| m.origin == origin)
            .min_by(|a, b| a.ms.median.total_cmp(&b.ms.median))
    };
    if let Some(rust) = fastest(Origin::Rust) {
        let ratio = best.ms.ratio(&rust.ms);
        let noise = ratio.low <= 1.0 && 1.0 <= ratio.high;
        lines.push(format!(
            "Best Rust peer, {}: {}; corun's {} is {}{}.",
            rust.name,
            human::ms(rust.ms.median),
            best.model.word(),
            human::speed(ratio.median),
            if noise { " (within noise)" } else { "" }
        ));
    }
    let python: Vec<&Mode> = workload
        .modes
        .iter()
        .filter(|m| m.origin == Origin::Python)
        .collect();
    if let Some(py) = fastest(Origin::Python) {
        let all: Vec<String> = python
            .iter()
            .map(|m| format!("{} {}", m.name, human::ms(m.ms.median)))
            .collect();
        lines.push(format!(
            "Python: {}; corun's {} is {} than Python's best.",
            all.join(", "),
            best.model.word(),
            human::speed(best.ms.median / py.ms.median)
        ));
    }
    lines
}

/// For CPU-bound work, what Python's own threads and processes show: its
/// interpreter lock lets one thread compute at a time.
fn python_gil(workload: &Workload) -> Option<String> {
    if workload.bound != Bound::Cpu {
        return None;
    }
    let python = |model| {
        workload
            .modes
            .iter()
            .find(|m| m.origin == Origin::Python && m.model == model)
    };
    let (threads, processes) = (python(Model::Threads)?, python(Model::Processes)?);
    let ratio = threads.ms.median / processes.ms.median;
    Some(if ratio > 1.2 {
        format!(
            "In Python, threads took {} as long as processes ({} vs {}): the GIL lets one \
             thread compute at a time; corun's threads have no such lock.",
            human::times(ratio),
            human::ms(threads.ms.median),
            human::ms(processes.ms.median)
        )
    } else {
        format!(
            "In Python, threads ({}) and processes ({}) took about as long this run: \
             the processes did not get more cores than the GIL-bound threads.",
            human::ms(threads.ms.median),
            human::ms(processes.ms.median)
        )
    })
}

/// What to use for work like this, given the winner.
fn advice(bound: Bound, winner: Model, cpus: usize) -> String {
    match (bound, winner) {
        (Bound::Cpu, Model::Gpu) => format!(
            "For data-parallel number crunching, offload to the GPU (corun::gpu); \
             otherwise a ThreadPoolExecutor({cpus}) or ProcessPoolExecutor({cpus}): \
             one worker per core, never more."
        ),
        (Bound::Cpu, Model::Cluster) => format!(
            "For CPU-bound work bigger than one machine, spread it over a cluster \
             (corun::cluster::ClusterExecutor, `corun cluster worker URL` on each machine); \
             on this one, ThreadPoolExecutor({cpus}) or ProcessPoolExecutor({cpus}): one \
             worker per core, never more."
        ),
        (Bound::Cpu, _) => format!(
            "For CPU-bound work use one worker per core: ThreadPoolExecutor({cpus}) — in \
             Rust threads compute in parallel — or ProcessPoolExecutor({cpus}) when a task \
             may crash; asyncio does not help."
        ),
        (Bound::Io, Model::Asyncio) => "For I/O-bound work use asyncio: thousands of \
             waits in flight on one thread; threads cap the waits in flight at their number."
            .to_owned(),
        (Bound::Io, _) => "For I/O-bound work keep many waits in flight: asyncio, or a \
             ThreadPoolExecutor with many more workers than cores."
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::measure::Figure;

    fn mode(model: Model, origin: Origin, samples: &[f64]) -> Mode {
        Mode::new(
            format!("{model:?}"),
            model,
            origin,
            2,
            Figure::from_samples(samples.to_vec()),
        )
    }

    fn cpu(modes: Vec<Mode>) -> Workload {
        Workload {
            experiment: "cpu",
            bound: Bound::Cpu,
            about: String::new(),
            modes,
        }
    }

    #[test]
    fn the_fastest_wins_and_says_by_how_much() {
        let w = cpu(vec![
            mode(Model::Sequential, Origin::Corun, &[100.0, 101.0, 102.0]),
            mode(Model::Threads, Origin::Corun, &[50.0, 51.0, 52.0]),
            mode(Model::Asyncio, Origin::Corun, &[99.0, 100.0, 103.0]),
        ]);
        let choice = choose(&w, 2).unwrap();
        assert_eq!(choice.winners, ["threads"]);
        assert!(
            choice.headline.contains("threads won")
                && choice.headline.contains("1.98× faster than sequential"),
            "{}",
            choice.headline
        );
        assert!(
            choice.headline.contains("next, asyncio"),
            "{}",
            choice.headline
        );
        assert!(choice.advice.contains("ThreadPoolExecutor(2)"));
    }

    #[test]
    fn overlapping_spreads_tie() {
        let w = cpu(vec![
            mode(Model::Sequential, Origin::Corun, &[100.0]),
            mode(Model::Threads, Origin::Corun, &[50.0, 51.0, 56.0]),
            mode(Model::Processes, Origin::Corun, &[53.0, 54.0, 60.0]),
            mode(Model::Threads, Origin::Rust, &[49.0, 50.0, 51.0]),
            mode(Model::Threads, Origin::Python, &[900.0]),
        ]);
        let choice = choose(&w, 2).unwrap();
        assert_eq!(choice.winners, ["threads", "processes"]);
        assert!(choice.headline.contains("tied within noise with processes"));
        assert!(
            choice
                .reasons
                .iter()
                .any(|r| r.starts_with("Best Rust peer") && r.contains("within noise")),
            "{:?}",
            choice.reasons
        );
        assert!(
            choice
                .reasons
                .iter()
                .any(|r| r.starts_with("Python") && r.contains("17.6× faster")),
            "{:?}",
            choice.reasons
        );
    }

    #[test]
    fn a_cluster_that_wins_is_advised() {
        let w = cpu(vec![
            mode(Model::Sequential, Origin::Corun, &[100.0]),
            mode(Model::Threads, Origin::Corun, &[50.0, 51.0, 52.0]),
            mode(Model::Cluster, Origin::Corun, &[20.0, 21.0, 22.0]),
        ]);
        let choice = choose(&w, 2).unwrap();
        assert_eq!(choice.winners, ["cluster"]);
        assert!(
            choice.headline.contains("cluster won") && choice.headline.contains("next, threads"),
            "{}",
            choice.headline
        );
        assert!(
            choice.advice.contains("corun::cluster::ClusterExecutor")
                && choice.advice.contains("ThreadPoolExecutor(2)"),
            "{}",
            choice.advice
        );
    }

    #[test]
    fn no_corun_mode_no_choice() {
        let w = cpu(vec![mode(Model::Threads, Origin::Rust, &[1.0])]);
        assert!(choose(&w, 2).is_none());
    }
}
