//! The figures of a bench run: a table for people, JSON for later runs.

use std::io::Write;

use serde::Serialize;

use super::Plan;

/// One comparison: a corun figure beside a peer's, and their ratio.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub(crate) experiment: &'static str,
    pub(crate) corun: String,
    pub(crate) peer: String,
    /// What the figures measure, e.g. "ns/item".
    pub(crate) unit: &'static str,
    pub(crate) corun_value: f64,
    /// `None` when the peer could not run (e.g. no python3); `note` says why.
    pub(crate) peer_value: Option<f64>,
    /// corun / peer: below 1 means corun took less time.
    pub(crate) ratio: Option<f64>,
    /// The highest ratio BENCHMARKS.md allows, where it sets one.
    pub(crate) bar: Option<f64>,
    pub(crate) meets_bar: Option<bool>,
    pub(crate) note: Option<String>,
}

impl Row {
    /// A row comparing two times per operation (lower is better).
    pub(crate) fn compare(
        experiment: &'static str,
        corun: impl Into<String>,
        peer: impl Into<String>,
        corun_value: f64,
        peer_value: f64,
        bar: Option<f64>,
    ) -> Self {
        let ratio = corun_value / peer_value;
        Self {
            experiment,
            corun: corun.into(),
            peer: peer.into(),
            unit: "ns/op",
            corun_value,
            peer_value: Some(peer_value),
            ratio: Some(ratio),
            bar,
            meets_bar: bar.map(|b| ratio <= b),
            note: None,
        }
    }

    /// A row whose peer could not run.
    pub(crate) fn peer_missing(
        experiment: &'static str,
        corun: impl Into<String>,
        peer: impl Into<String>,
        corun_value: f64,
        why: String,
    ) -> Self {
        Self {
            experiment,
            corun: corun.into(),
            peer: peer.into(),
            unit: "ns/op",
            corun_value,
            peer_value: None,
            ratio: None,
            bar: None,
            meets_bar: None,
            note: Some(why),
        }
    }

    /// A row whose peer's figure cannot be set beside corun's (it ran
    /// other sizes, or never finished): `outcome` says what the peer did.
    pub(crate) fn peer_note(
        experiment: &'static str,
        corun: impl Into<String>,
        peer: impl Into<String>,
        corun_value: f64,
        outcome: String,
    ) -> Self {
        Self::peer_missing(experiment, corun, peer, corun_value, outcome)
    }

    pub(crate) fn unit(mut self, unit: &'static str) -> Self {
        self.unit = unit;
        self
    }

    /// A remark shown beside the figures (a speedup, how a peer was run).
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
    pub(crate) rows: Vec<Row>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Machine {
    pub(crate) cpus: usize,
    pub(crate) cpu_model: String,
    pub(crate) os: &'static str,
    pub(crate) commit: String,
}

impl Report {
    pub(crate) fn new(plan: Plan) -> Self {
        Self {
            machine: Machine::detect(),
            runs: plan.runs,
            quick: plan.quick,
            rows: Vec::new(),
        }
    }

    pub(crate) fn write_table(&self, out: &mut impl Write) -> std::io::Result<()> {
        let m = &self.machine;
        writeln!(
            out,
            "corun bench — {} cpu(s), {}, commit {}, median of {} run(s){}",
            m.cpus,
            m.cpu_model,
            m.commit,
            self.runs,
            if self.quick { ", quick" } else { "" }
        )?;
        writeln!(
            out,
            "ratio = corun / peer (time per op; below 1.00 = corun faster)\n"
        )?;
        let header = [
            "experiment",
            "corun",
            "peer",
            "unit",
            "corun time",
            "peer time",
            "ratio",
            "bar",
            "note",
        ];
        let cells: Vec<[String; 9]> = self.rows.iter().map(Row::cells).collect();
        let mut widths = header.map(str::len);
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |out: &mut dyn Write, row: &[String]| -> std::io::Result<()> {
            let mut text = String::new();
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                if (4..8).contains(&i) {
                    text += &format!("{cell:>w$}  ");
                } else {
                    text += &format!("{cell:<w$}  ");
                }
            }
            writeln!(out, "{}", text.trim_end())
        };
        line(out, &header.map(String::from))?;
        line(out, &widths.map(|w| "-".repeat(w)))?;
        for row in &cells {
            line(out, row)?;
        }
        let failed: Vec<_> = self
            .rows
            .iter()
            .filter(|r| r.meets_bar == Some(false))
            .collect();
        if !failed.is_empty() {
            writeln!(out, "\n{} comparison(s) above their bar:", failed.len())?;
            for r in failed {
                writeln!(out, "  {} {} vs {}", r.experiment, r.corun, r.peer)?;
            }
        }
        Ok(())
    }
}

impl Row {
    fn cells(&self) -> [String; 9] {
        let bar = match (self.bar, self.meets_bar) {
            (Some(b), Some(true)) => format!("≤{} ok", format_bar(b)),
            (Some(b), _) => format!("≤{} MISSED", format_bar(b)),
            _ => String::new(),
        };
        // A row without a ratio shows its note in the ratio column.
        let (ratio, note) = match self.ratio {
            Some(r) => (format_ratio(r), self.note.clone().unwrap_or_default()),
            None => (self.note.clone().unwrap_or_default(), String::new()),
        };
        [
            self.experiment.to_owned(),
            self.corun.clone(),
            self.peer.clone(),
            self.unit.to_owned(),
            format_value(self.corun_value),
            self.peer_value.map_or_else(|| "-".to_owned(), format_value),
            ratio,
            bar,
            note,
        ]
    }
}

/// One decimal, or three significant digits for a figure below 10 (0.053
/// µs/item would show as 0.1).
fn format_value(value: f64) -> String {
    if value != 0.0 && value.abs() < 10.0 {
        let decimals = (2 - value.abs().log10().floor() as i32).clamp(1, 6) as usize;
        format!("{value:.decimals$}")
    } else {
        format!("{value:.1}")
    }
}

/// Two decimals, or four for a small ratio (against Python, say), which two
/// would show as 0.00.
fn format_ratio(ratio: f64) -> String {
    if ratio < 0.1 {
        format!("{ratio:.4}")
    } else {
        format!("{ratio:.2}")
    }
}

/// A bar as precise as it was set: 1.2 as "1.20", 1/1.9 as "0.526".
fn format_bar(bar: f64) -> String {
    let two = format!("{bar:.2}");
    if (two.parse::<f64>().unwrap_or(bar) - bar).abs() < 1e-9 {
        two
    } else {
        format!("{bar:.3}")
    }
}

impl Machine {
    fn detect() -> Self {
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
        let commit = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        Self {
            cpus,
            cpu_model,
            os: std::env::consts::OS,
            commit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_figures_keep_three_significant_digits() {
        assert_eq!(format_value(0.0531), "0.0531");
        assert_eq!(format_value(2.54), "2.54");
        assert_eq!(format_value(22.94), "22.9");
        assert_eq!(format_value(1234.56), "1234.6");
        assert_eq!(format_value(0.0), "0.0");
    }

    #[test]
    fn ratio_and_bar() {
        let ok = Row::compare("queue", "a", "b", 12.0, 10.0, Some(1.5));
        assert_eq!(ok.ratio, Some(1.2));
        assert_eq!(ok.meets_bar, Some(true));
        let missed = Row::compare("queue", "a", "b", 20.0, 10.0, Some(1.5));
        assert_eq!(missed.meets_bar, Some(false));
        assert!(missed.cells()[7].contains("MISSED"));
        let far = Row::compare("queue", "a", "python", 60.0, 20_000.0, None);
        assert_eq!(far.cells()[6], "0.0030");
    }

    #[test]
    fn bars_keep_their_precision() {
        assert_eq!(format_bar(1.2), "1.20");
        assert_eq!(format_bar(1.05), "1.05");
        assert_eq!(format_bar(1.0 / 1.9), "0.526");
    }

    #[test]
    fn notes_go_beside_a_ratio_or_in_its_place() {
        let row = Row::compare("cpu", "a", "b", 1.0, 2.0, None).note("2.00× faster");
        assert_eq!(row.cells()[6], "0.50");
        assert_eq!(row.cells()[8], "2.00× faster");
        let missing = Row::peer_missing("cpu", "a", "python", 1.0, "no python3".into());
        assert_eq!(missing.cells()[6], "no python3");
        assert_eq!(missing.cells()[8], "");
    }

    #[test]
    fn table_lists_rows_and_missing_peers() {
        let mut report = Report::new(Plan {
            runs: 1,
            quick: true,
            python: false,
        });
        report.rows.push(Row::compare(
            "sync",
            "Lock",
            "parking_lot",
            1.0,
            1.0,
            Some(1.1),
        ));
        report.rows.push(Row::peer_missing(
            "queue",
            "Queue",
            "python",
            5.0,
            "no python3".into(),
        ));
        let mut out = Vec::new();
        report.write_table(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("parking_lot"));
        assert!(text.contains("no python3"));
        assert!(text.contains("1.00"));
    }
}
