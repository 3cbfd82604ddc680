//! The figures of a bench run: comparisons (rows), the seeds' workloads
//! mode by mode, and the machine they ran on. The table (`table.rs`), the
//! JSON and the HTML page (`html.rs`) are views of one [`Report`].

use serde::Serialize;

use super::Plan;
use super::measure::Figure;
use super::story::Choice;
use super::workloads::Workload;
use crate::human;

/// How a row's figure is judged, where BENCHMARKS.md sets a bar.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Bar {
    /// corun's time over the peer's time is at most `max` (below 1: a
    /// speedup of at least `1 / max`).
    Ratio { max: f64 },
    /// corun's figure is at most `max`, in the row's unit; `what` says
    /// where the target comes from ("1.3 × one 50 ms latency").
    Target { max: f64, what: String },
}

impl Bar {
    /// The bar as it was set: a ratio bar as [`human::ratio_bar`], a
    /// target as a ceiling in the row's `unit` ("≤65.0 ms").
    pub(crate) fn text(&self, unit: &str) -> String {
        match self {
            Bar::Ratio { max } => human::ratio_bar(*max),
            Bar::Target { max, .. } => format!("≤{}", human::value(*max, unit)),
        }
    }
}

/// The outcome of a bar, spreads taken into account.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// Even the least favourable repetition is within the bar.
    Met,
    /// The bar lies inside the spread: the run cannot tell.
    WithinNoise,
    /// Even the most favourable repetition is outside the bar.
    Missed,
}

impl Verdict {
    /// The verdict of `figure` against an upper limit.
    pub(crate) fn of(figure: &Figure, max: f64) -> Self {
        if figure.high <= max {
            Verdict::Met
        } else if figure.low > max {
            Verdict::Missed
        } else {
            Verdict::WithinNoise
        }
    }

    pub(crate) fn word(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::WithinNoise => "within noise",
            Verdict::Missed => "MISSED",
        }
    }
}

/// One comparison: a corun figure beside a peer's and their ratio, or
/// beside a fixed target, or alone.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub(crate) experiment: &'static str,
    pub(crate) corun: String,
    /// The peer's name; `None` for a figure shown alone or against a
    /// target.
    pub(crate) peer: Option<String>,
    /// What the figures measure, e.g. "ns/item".
    pub(crate) unit: &'static str,
    pub(crate) corun_value: Figure,
    /// `None` when there is no peer, or it could not run (then `note`
    /// says why).
    pub(crate) peer_value: Option<Figure>,
    /// corun / peer: below 1 means corun took less time.
    pub(crate) ratio: Option<Figure>,
    pub(crate) bar: Option<Bar>,
    pub(crate) verdict: Option<Verdict>,
    pub(crate) note: Option<String>,
}

impl Row {
    /// A row comparing two times (lower is better), judged against a bar
    /// on their ratio where BENCHMARKS.md sets one.
    pub(crate) fn compare(
        experiment: &'static str,
        corun: impl Into<String>,
        peer: impl Into<String>,
        corun_value: impl Into<Figure>,
        peer_value: impl Into<Figure>,
        bar: Option<f64>,
    ) -> Self {
        let corun_value = corun_value.into();
        let peer_value = peer_value.into();
        let ratio = corun_value.ratio(&peer_value);
        Self {
            experiment,
            corun: corun.into(),
            peer: Some(peer.into()),
            unit: "ns/op",
            verdict: bar.map(|max| Verdict::of(&ratio, max)),
            bar: bar.map(|max| Bar::Ratio { max }),
            corun_value,
            peer_value: Some(peer_value),
            ratio: Some(ratio),
            note: None,
        }
    }

    /// A figure judged against a fixed target of BENCHMARKS.md (at most
    /// `max` in the row's unit); `what` says what the target is.
    pub(crate) fn target(
        experiment: &'static str,
        corun: impl Into<String>,
        value: impl Into<Figure>,
        max: f64,
        what: impl Into<String>,
    ) -> Self {
        let corun_value = value.into();
        Self {
            experiment,
            corun: corun.into(),
            peer: None,
            unit: "ns/op",
            verdict: Some(Verdict::of(&corun_value, max)),
            bar: Some(Bar::Target {
                max,
                what: what.into(),
            }),
            corun_value,
            peer_value: None,
            ratio: None,
            note: None,
        }
    }

    /// A figure shown alone (what it means goes in a note).
    pub(crate) fn figure(
        experiment: &'static str,
        corun: impl Into<String>,
        value: impl Into<Figure>,
    ) -> Self {
        Self {
            experiment,
            corun: corun.into(),
            peer: None,
            unit: "ns/op",
            corun_value: value.into(),
            peer_value: None,
            ratio: None,
            bar: None,
            verdict: None,
            note: None,
        }
    }

    /// A row whose peer could not run.
    pub(crate) fn peer_missing(
        experiment: &'static str,
        corun: impl Into<String>,
        peer: impl Into<String>,
        corun_value: impl Into<Figure>,
        why: String,
    ) -> Self {
        Self {
            peer: Some(peer.into()),
            note: Some(why),
            ..Self::figure(experiment, corun, corun_value)
        }
    }

    /// A row whose peer's figure cannot be set beside corun's (it ran
    /// other sizes, or never finished): `outcome` says what the peer did.
    pub(crate) fn peer_note(
        experiment: &'static str,
        corun: impl Into<String>,
        peer: impl Into<String>,
        corun_value: impl Into<Figure>,
        outcome: String,
    ) -> Self {
        Self::peer_missing(experiment, corun, peer, corun_value, outcome)
    }

    pub(crate) fn unit(mut self, unit: &'static str) -> Self {
        self.unit = unit;
        self
    }

    /// What is compared: "corun vs peer", or corun's name alone.
    pub(crate) fn comparison(&self) -> String {
        match &self.peer {
            Some(peer) => format!("{} vs {peer}", self.corun),
            None => self.corun.clone(),
        }
    }

    /// A remark shown under the figures (how a peer was run, a caveat).
    pub(crate) fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// Everything a run measured, with the machine and commit it ran on.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) machine: Machine,
    pub(crate) runs: usize,
    pub(crate) quick: bool,
    /// The experiments run, in order, each with its one-line description.
    pub(crate) experiments: Vec<Section>,
    pub(crate) rows: Vec<Row>,
    /// The seeds' workloads (cpu, io) mode by mode, for the timing
    /// diagrams and the closing verdicts.
    pub(crate) workloads: Vec<Workload>,
    /// Which model to choose for each workload, and why.
    pub(crate) choices: Vec<Choice>,
}

/// One experiment of the run: its name and what it measures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Section {
    pub(crate) name: &'static str,
    pub(crate) about: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Machine {
    pub(crate) cpus: usize,
    pub(crate) cpu_model: String,
    pub(crate) os: &'static str,
    pub(crate) commit: String,
    /// The python3 the peers ran on, if any.
    pub(crate) python: Option<String>,
}

impl Report {
    pub(crate) fn new(plan: Plan) -> Self {
        Self {
            machine: Machine::detect(plan.python),
            runs: plan.runs,
            quick: plan.quick,
            experiments: Vec::new(),
            rows: Vec::new(),
            workloads: Vec::new(),
            choices: Vec::new(),
        }
    }

    /// The rows of one experiment, in order.
    pub(crate) fn rows_of<'a>(&'a self, experiment: &'a str) -> impl Iterator<Item = &'a Row> {
        self.rows.iter().filter(move |r| r.experiment == experiment)
    }

    /// How many bars were met, within noise and missed.
    pub(crate) fn tally(&self) -> (usize, usize, usize) {
        let count = |v| self.rows.iter().filter(|r| r.verdict == Some(v)).count();
        (
            count(Verdict::Met),
            count(Verdict::WithinNoise),
            count(Verdict::Missed),
        )
    }

    /// The rows whose bar was missed outside the noise.
    pub(crate) fn missed(&self) -> impl Iterator<Item = &Row> {
        self.rows
            .iter()
            .filter(|r| r.verdict == Some(Verdict::Missed))
    }
}

impl Machine {
    fn detect(python: bool) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|m| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown cpu".to_owned());
        let output = |program: &str, args: &[&str]| {
            std::process::Command::new(program)
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| {
                    // `python3 --version` answers on stdout (3.4+).
                    String::from_utf8_lossy(&o.stdout).trim().to_owned()
                })
                .filter(|s| !s.is_empty())
        };
        Self {
            cpus,
            cpu_model,
            os: std::env::consts::OS,
            commit: output("git", &["rev-parse", "--short", "HEAD"])
                .unwrap_or_else(|| "unknown".to_owned()),
            python: if python {
                output("python3", &["--version"])
            } else {
                None
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(low: f64, median: f64, high: f64) -> Figure {
        Figure::from_samples(vec![low, median, high])
    }

    #[test]
    fn verdicts_count_the_spread() {
        assert_eq!(Verdict::of(&spread(0.9, 1.0, 1.05), 1.1), Verdict::Met);
        assert_eq!(
            Verdict::of(&spread(0.9, 1.0, 1.2), 1.1),
            Verdict::WithinNoise
        );
        assert_eq!(
            Verdict::of(&spread(1.0, 1.15, 1.2), 1.1),
            Verdict::WithinNoise
        );
        assert_eq!(Verdict::of(&spread(1.12, 1.15, 1.2), 1.1), Verdict::Missed);
        assert_eq!(Verdict::of(&Figure::once(1.1), 1.1), Verdict::Met);
    }

    #[test]
    fn a_ratio_bar_judges_the_ratio() {
        let ok = Row::compare("queue", "a", "b", 12.0, 10.0, Some(1.5));
        assert!((ok.ratio.as_ref().unwrap().median - 1.2).abs() < 1e-12);
        assert_eq!(ok.verdict, Some(Verdict::Met));
        let missed = Row::compare("queue", "a", "b", 20.0, 10.0, Some(1.5));
        assert_eq!(missed.verdict, Some(Verdict::Missed));
        let none = Row::compare("queue", "a", "b", 20.0, 10.0, None);
        assert_eq!(none.verdict, None);
    }

    #[test]
    fn a_target_is_a_bar_not_a_peer() {
        let row = Row::target(
            "io",
            "asyncio",
            spread(55.0, 56.0, 70.0),
            65.0,
            "1.3 × 50 ms",
        );
        assert_eq!(row.peer, None);
        assert_eq!(row.ratio.as_ref().map(|r| r.median), None);
        assert_eq!(row.verdict, Some(Verdict::WithinNoise));
        let json = serde_json::to_value(&row).unwrap();
        assert_eq!(json["bar"]["kind"], "target");
        assert_eq!(json["bar"]["max"], 65.0);
        assert_eq!(json["verdict"], "within_noise");
    }

    #[test]
    fn missing_peers_keep_the_reason() {
        let row = Row::peer_missing("cpu", "a", "python", 1.0, "no python3".into());
        assert_eq!(row.peer.as_deref(), Some("python"));
        assert_eq!(row.note.as_deref(), Some("no python3"));
        assert!(row.ratio.is_none() && row.verdict.is_none());
    }
}
