//! The report for the terminal, at most [`WIDTH`] columns: per experiment
//! a header, one short row per comparison ("512 ms ±2%  1.98× faster than
//! sequential (1.01 s)  bar ≥1.9×: met"), notes under their row, the
//! timing diagrams of the seeds' workloads; then the closing "choosing a
//! solution" and the bars that were missed.

use std::io::{self, Write};

use super::diagram;
use super::report::{Bar, Report, Row};
use crate::human;

/// How to read the figures, for the table and the page.
pub(crate) const LEGEND: &str = "Each figure is the median of its runs ± its spread (smallest \
     to largest, from 10 runs on leaving out the extreme run at each end); corun and its Rust \
     peers run interleaved, A B A B …, and are compared run by run; a bar inside the spread is \
     \"within noise\".";

/// The widest line written.
pub(crate) const WIDTH: usize = 100;
/// The widest a corun label may be beside its figures; a group with a
/// longer one puts each label on a line of its own.
const LABEL: usize = 26;

pub(crate) fn write(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let m = &report.machine;
    let head = format!(
        "corun bench — {} cpu(s), {}, commit {}{}{}",
        m.cpus,
        m.cpu_model,
        m.commit,
        m.python
            .as_deref()
            .map(|p| format!(", {p}"))
            .unwrap_or_default(),
        if report.quick { ", quick" } else { "" }
    );
    writeln!(out, "{}", human::fit(&head, WIDTH))?;
    for line in human::wrap(LEGEND, WIDTH) {
        writeln!(out, "{line}")?;
    }
    for section in &report.experiments {
        let rows: Vec<&Row> = report.rows_of(section.name).collect();
        writeln!(out)?;
        let title = format!("━━ {} ━━ {}", section.name, section.about);
        for line in human::wrap(&title, WIDTH) {
            writeln!(out, "{line}")?;
        }
        if let Some(line) = units_line(&rows) {
            writeln!(out, "   {line}")?;
        }
        for line in rows_text(&rows) {
            writeln!(out, "{line}")?;
        }
        for workload in report
            .workloads
            .iter()
            .filter(|w| w.experiment == section.name)
        {
            writeln!(out, "\n   timing diagrams, one recorded run of each mode:")?;
            for mode in &workload.modes {
                let Some(rec) = &mode.recorded else { continue };
                let cores = rec
                    .cores_busy()
                    .map(|c| format!(", {c:.1} cores busy"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "   {} — {}: {} tasks{cores}",
                    mode.model.word(),
                    mode.name,
                    rec.tasks
                )?;
                for line in diagram::draw(&rec.timeline, WIDTH, 5) {
                    writeln!(out, "{line}")?;
                }
            }
        }
    }
    if !report.choices.is_empty() {
        writeln!(out, "\n━━ choosing a solution ━━")?;
        for choice in &report.choices {
            writeln!(out)?;
            for (i, line) in human::wrap(&choice.headline, WIDTH - 2).iter().enumerate() {
                writeln!(out, "{}{line}", if i == 0 { "▶ " } else { "  " })?;
            }
            for reason in &choice.reasons {
                for (i, line) in human::wrap(reason, WIDTH - 4).iter().enumerate() {
                    writeln!(out, "{}{line}", if i == 0 { "  • " } else { "    " })?;
                }
            }
            for (i, line) in human::wrap(&choice.advice, WIDTH - 4).iter().enumerate() {
                writeln!(out, "{}{line}", if i == 0 { "  → " } else { "    " })?;
            }
        }
    }
    summary(report, out)
}

/// What the figures of a group are, when they share a unit.
fn units_line(rows: &[&Row]) -> Option<String> {
    let first = rows.first()?;
    if rows.iter().any(|r| r.unit != first.unit) {
        return None;
    }
    let runs = first.corun_value.samples.len();
    let per = human::per(first.unit);
    Some(match (per.is_empty(), runs) {
        (true, 1) => "one run".to_owned(),
        (true, n) => format!("median of {n} runs"),
        (false, 1) => format!("per {per}, one run"),
        (false, n) => format!("per {per}, median of {n} runs"),
    })
}

/// The rows of one group, aligned, each at most [`WIDTH`] columns, with
/// their notes under them. Labels too long to stand beside the figures
/// get a line of their own, the figures indented under them.
fn rows_text(rows: &[&Row]) -> Vec<String> {
    let longest = rows
        .iter()
        .map(|r| r.corun.chars().count())
        .max()
        .unwrap_or(0);
    let stacked = longest > LABEL;
    let label_w = if stacked { 2 } else { longest };
    let values: Vec<String> = rows.iter().map(|r| value_cell(r)).collect();
    let value_w = values.iter().map(|v| v.chars().count()).max().unwrap_or(0);
    let mut lines = Vec::new();
    for (row, value) in rows.iter().zip(&values) {
        let (middle, note_shown) = middle(row);
        let bar = bar_cell(row);
        let left = if stacked {
            lines.push(format!("  {}", human::fit(&row.corun, WIDTH - 2)));
            format!("    {value:>value_w$}  ")
        } else {
            format!("  {:<label_w$} {value:>value_w$}  ", row.corun)
        };
        let room = WIDTH.saturating_sub(left.chars().count() + bar.chars().count() + 2);
        let middle = if middle.chars().count() > room {
            shorten(row, room)
        } else {
            middle
        };
        let pad = if bar.is_empty() {
            0
        } else {
            room.min(38).max(middle.chars().count())
        };
        let line = format!("{left}{middle:<pad$}  {bar}");
        lines.push(line.trim_end().to_owned());
        if let Some(note) = row.note.as_ref().filter(|_| !note_shown) {
            for line in human::wrap(note, WIDTH - 6) {
                lines.push(format!("      {line}"));
            }
        }
    }
    lines
}

/// The corun figure and its spread: "512 ms ±2%".
fn value_cell(row: &Row) -> String {
    let v = &row.corun_value;
    let value = human::value(v.median, row.unit);
    match human::spread(v.relative_spread()).as_str() {
        "" => value,
        s => format!("{value} {s}"),
    }
}

/// The comparison in words, and whether the note was used for it.
fn middle(row: &Row) -> (String, bool) {
    match (&row.peer, &row.ratio, &row.bar) {
        (Some(peer), Some(ratio), _) => {
            let peer_value = row
                .peer_value
                .as_ref()
                .map(|p| format!(" ({})", human::value(p.median, row.unit)))
                .unwrap_or_default();
            (format!("{} {peer}{peer_value}", than(ratio.median)), false)
        }
        (Some(peer), None, _) => (
            format!("{peer}: {}", row.note.as_deref().unwrap_or("no figure")),
            true,
        ),
        (None, _, Some(Bar::Target { what, .. })) => (format!("target: {what}"), false),
        (None, _, _) => match &row.note {
            Some(note) if note.chars().count() <= 44 => (note.clone(), true),
            _ => (String::new(), false),
        },
    }
}

/// The comparison cut to `room` columns: the peer's figure goes first,
/// then the peer's name is cut.
fn shorten(row: &Row, room: usize) -> String {
    match (&row.peer, &row.ratio) {
        (Some(peer), Some(ratio)) => {
            let speed = format!("{} ", than(ratio.median));
            let left = room.saturating_sub(speed.chars().count());
            format!("{speed}{}", human::fit(peer, left))
        }
        _ => human::fit(&middle(row).0, room),
    }
}

/// "1.98× faster than", "as fast as".
pub(crate) fn than(ratio: f64) -> String {
    match human::speed(ratio).as_str() {
        "as fast" => "as fast as".to_owned(),
        speed => format!("{speed} than"),
    }
}

/// "bar ≥1.9×: met", "bar ≤65.0 ms: within noise", or "".
fn bar_cell(row: &Row) -> String {
    let (Some(bar), Some(verdict)) = (&row.bar, row.verdict) else {
        return String::new();
    };
    format!("bar {}: {}", bar.text(row.unit), verdict.word())
}

/// How the bars went, and which were missed.
fn summary(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let (met, noise, missed) = report.tally();
    if met + noise + missed == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "\nbars: {met} met, {noise} within noise, {missed} missed"
    )?;
    for row in report.missed() {
        let line = format!("  missed: {} — {}", row.experiment, row.comparison());
        writeln!(out, "{}", human::fit(&line, WIDTH))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::Plan;
    use crate::bench::measure::Figure;
    use crate::bench::report::Section;

    fn report(rows: Vec<Row>) -> String {
        let mut report = Report::new(Plan {
            runs: 3,
            quick: true,
            python: false,
        });
        for row in &rows {
            if !report.experiments.iter().any(|s| s.name == row.experiment) {
                report.experiments.push(Section {
                    name: row.experiment,
                    about: "what it measures, in a line that may well be long enough to be \
                            wrapped at a hundred columns"
                        .into(),
                });
            }
        }
        report.rows = rows;
        let mut out = Vec::new();
        write(&report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn spread(low: f64, median: f64, high: f64) -> Figure {
        Figure::from_samples(vec![low, median, high])
    }

    #[test]
    fn every_line_fits_and_rows_read_as_sentences() {
        let text = report(vec![
            Row::compare(
                "cpu",
                "ThreadPoolExecutor(2)",
                "sequential",
                spread(505.0, 512.0, 530.0),
                spread(1000.0, 1010.0, 1020.0),
                Some(1.0 / 1.9),
            )
            .unit("ms/run"),
            Row::compare(
                "cpu",
                "a very long corun label that goes on and on",
                "a very long peer name that also goes on and on and on and on",
                1.0,
                2.0,
                Some(1.05),
            )
            .unit("ms/run"),
            Row::target("io", "corun::asyncio", spread(55.0, 56.0, 60.0), 65.0, "1.3 × one 50 ms latency")
                .unit("ms/run"),
            Row::peer_missing("io", "corun::asyncio", "Python asyncio", 56.0, "python3 not found".into())
                .unit("ms/run"),
            Row::compare("sync", "Lock", "parking_lot::Mutex", spread(9.0, 10.0, 12.0), 10.0, Some(1.1))
                .note("a note long enough that it cannot stand in the middle column, so it goes under the row"),
        ]);
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "too wide: {line:?}\n{text}");
        }
        assert!(text.contains("━━ cpu ━━"), "{text}");
        assert!(text.contains("per run, median of 3 runs"), "{text}");
        assert!(
            text.contains("512 ms ±4%  1.97× faster than sequential"),
            "{text}"
        );
        assert!(text.contains("bar ≥1.9×: within noise"), "{text}");
        assert!(
            text.contains("as fast as parking_lot::Mutex (10.0 ns)"),
            "{text}"
        );
        assert!(text.contains("target: 1.3 × one 50 ms latency"), "{text}");
        assert!(text.contains("bar ≤65.0 ms: met"), "{text}");
        assert!(text.contains("Python asyncio: python3 not found"), "{text}");
        assert!(text.contains("bar ≤1.1×: within noise"), "{text}");
        assert!(text.contains("      a note long enough"), "{text}");
        assert!(
            text.contains("bars: 2 met, 2 within noise, 0 missed"),
            "{text}"
        );
        assert!(!text.contains("5 ms\n"), "no target shown as a peer");
    }

    #[test]
    fn missed_bars_are_listed() {
        let text = report(vec![Row::compare(
            "queue",
            "Queue",
            "crossbeam",
            30.0,
            10.0,
            Some(1.5),
        )]);
        assert!(text.contains("3.00× slower than crossbeam"), "{text}");
        assert!(text.contains("bar ≤1.5×: MISSED"), "{text}");
        assert!(
            text.contains("missed: queue — Queue vs crossbeam"),
            "{text}"
        );
    }
}
