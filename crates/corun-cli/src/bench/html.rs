//! `--html FILE`: the report as one self-contained HTML page — the machine
//! and commit, a table per experiment, a speedup chart and the timing
//! diagrams of each of the seeds' workloads, and the closing "choosing a
//! solution". Inline CSS and inline SVG only: no script, no external
//! resource, so the file can be mailed, archived or opened offline.

use std::fmt::{self, Write as _};

use super::report::{Bar, Report, Row, Verdict};
use super::table;
use super::workloads::{Mode, Model, Origin, Workload};
use crate::human;

/// The page's style sheet.
const STYLE: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif;
       color: #1a1a1a; background: #fafafa; margin: 0; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 28px 48px; background: #ffffff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 4px; border-bottom: 2px solid #e3e6eb; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 24px 0 8px; }
p.about { color: #555555; margin: 0 0 12px; }
dl.machine { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
dl.machine dt { color: #555555; }
dl.machine dd { margin: 0; }
nav { font-size: 14px; color: #555555; }
nav a { color: #2f5f8f; margin-right: 10px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 8px 0; }
th { text-align: left; font-weight: 600; color: #555555; border-bottom: 1px solid #c8ccd2; padding: 4px 8px; }
td { padding: 4px 8px; border-bottom: 1px solid #eceef1; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.note td { color: #555555; font-size: 13px; border-bottom: 1px solid #e3e6eb; padding-top: 0; }
.spread { color: #777777; }
.verdict { font-weight: 600; white-space: nowrap; padding: 1px 6px; border-radius: 3px; }
.met { color: #1e6b2e; background: #e3f4e6; }
.within-noise { color: #7a5400; background: #fdf1d6; }
.missed { color: #9c1c1c; background: #fbe2e2; }
figure { margin: 12px 0 20px; }
figcaption { font-size: 14px; color: #333333; margin-bottom: 4px; }
svg { max-width: 100%; height: auto; }
section.choice { border-left: 4px solid #4e79a7; padding: 2px 0 2px 14px; margin: 18px 0; }
section.choice h3 { margin: 0 0 6px; }
section.choice p.advice { font-weight: 600; }
p.summary { margin-top: 32px; color: #333333; }
";

/// The fill of a mode's bar in the speedup charts, by who implemented it.
fn colour(origin: Origin) -> &'static str {
    match origin {
        Origin::Corun => "#4e79a7",
        Origin::Rust => "#f28e2b",
        Origin::Python => "#59a14f",
    }
}

/// The report as one HTML page.
pub(crate) fn page(report: &Report) -> String {
    let mut out = String::new();
    write_page(report, &mut out).expect("writing to a String cannot fail");
    out
}

/// `text` escaped for HTML (and inline SVG) content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn write_page(report: &Report, out: &mut String) -> fmt::Result {
    let m = &report.machine;
    let title = format!("corun bench — commit {}", m.commit);
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(out, "<title>{}</title>", escape(&title))?;
    writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>\n<main>")?;
    writeln!(out, "<h1>{}</h1>", escape(&title))?;
    writeln!(out, "<p class=\"about\">{}</p>", escape(table::LEGEND))?;
    writeln!(out, "<dl class=\"machine\">")?;
    let python = m.python.as_deref().unwrap_or("not run");
    let runs = format!(
        "{}{}",
        report.runs,
        if report.quick {
            " (quick smoke run)"
        } else {
            ""
        }
    );
    for (term, value) in [
        ("cpus", m.cpus.to_string().as_str()),
        ("cpu model", &m.cpu_model),
        ("os", m.os),
        ("commit", &m.commit),
        ("python", python),
        ("runs", &runs),
    ] {
        writeln!(out, "<dt>{term}</dt><dd>{}</dd>", escape(value))?;
    }
    writeln!(out, "</dl>")?;
    nav(report, out)?;
    for section in &report.experiments {
        writeln!(
            out,
            "<section id=\"experiment-{}\">\n<h2>{}</h2>",
            escape(section.name),
            escape(section.name)
        )?;
        writeln!(out, "<p class=\"about\">{}</p>", escape(&section.about))?;
        let rows: Vec<&Row> = report.rows_of(section.name).collect();
        if !rows.is_empty() {
            rows_table(&rows, out)?;
        }
        for workload in report
            .workloads
            .iter()
            .filter(|w| w.experiment == section.name)
        {
            speedup(workload, out)?;
            timelines(workload, out)?;
        }
        writeln!(out, "</section>")?;
    }
    if !report.choices.is_empty() {
        writeln!(
            out,
            "<section id=\"choosing\">\n<h2>Choosing a solution</h2>"
        )?;
        for choice in &report.choices {
            writeln!(out, "<section class=\"choice\">")?;
            writeln!(out, "<h3>{}</h3>", escape(&choice.headline))?;
            if !choice.reasons.is_empty() {
                writeln!(out, "<ul>")?;
                for reason in &choice.reasons {
                    writeln!(out, "<li>{}</li>", escape(reason))?;
                }
                writeln!(out, "</ul>")?;
            }
            writeln!(out, "<p class=\"advice\">→ {}</p>", escape(&choice.advice))?;
            writeln!(out, "</section>")?;
        }
        writeln!(out, "</section>")?;
    }
    summary(report, out)?;
    writeln!(out, "</main>\n</body>\n</html>")
}

/// Links to the sections.
fn nav(report: &Report, out: &mut String) -> fmt::Result {
    write!(out, "<nav>")?;
    for section in &report.experiments {
        write!(
            out,
            "<a href=\"#experiment-{0}\">{0}</a>",
            escape(section.name)
        )?;
    }
    if !report.choices.is_empty() {
        write!(out, "<a href=\"#choosing\">choosing a solution</a>")?;
    }
    writeln!(out, "</nav>")
}

/// One experiment's rows: corun, its figure, the peer and its figure, the
/// ratio in words, the bar and its verdict; a row's note under it.
fn rows_table(rows: &[&Row], out: &mut String) -> fmt::Result {
    writeln!(
        out,
        "<table>\n<tr><th>corun</th><th>figure</th><th>peer</th><th>peer figure</th>\
         <th>ratio</th><th>bar</th><th>verdict</th></tr>"
    )?;
    for row in rows {
        let v = &row.corun_value;
        let peer = match (&row.peer, &row.bar) {
            (Some(peer), _) => escape(peer),
            (None, Some(Bar::Target { what, .. })) => format!("target: {}", escape(what)),
            (None, _) => String::new(),
        };
        let peer_value = row
            .peer_value
            .as_ref()
            .map(|p| figure(p.median, p.relative_spread(), row.unit))
            .unwrap_or_default();
        let ratio = match (&row.peer, &row.ratio) {
            (Some(peer), Some(ratio)) => escape(&format!("{} {peer}", table::than(ratio.median))),
            _ => String::new(),
        };
        let bar = row
            .bar
            .as_ref()
            .map(|b| escape(&b.text(row.unit)))
            .unwrap_or_default();
        let verdict = row.verdict.map(verdict).unwrap_or_default();
        writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{peer}</td><td class=\"num\">{peer_value}</td>\
             <td>{ratio}</td><td class=\"num\">{bar}</td><td>{verdict}</td></tr>",
            escape(&row.corun),
            figure(v.median, v.relative_spread(), row.unit),
        )?;
        if let Some(note) = &row.note {
            writeln!(
                out,
                "<tr class=\"note\"><td colspan=\"7\">{}</td></tr>",
                escape(note)
            )?;
        }
    }
    writeln!(out, "</table>")
}

/// "512 ms <span>±2%</span>".
fn figure(median: f64, relative_spread: f64, unit: &str) -> String {
    let value = escape(&human::value(median, unit));
    match human::spread(relative_spread).as_str() {
        "" => value,
        s => format!("{value} <span class=\"spread\">{}</span>", escape(s)),
    }
}

/// A verdict, coloured: met green, within noise amber, missed red.
fn verdict(verdict: Verdict) -> String {
    let class = match verdict {
        Verdict::Met => "met",
        Verdict::WithinNoise => "within-noise",
        Verdict::Missed => "missed",
    };
    format!(
        "<span class=\"verdict {class}\">{}</span>",
        escape(verdict.word())
    )
}

/// The speedup chart of a workload: one horizontal bar per mode (corun's,
/// the Rust peer's, Python's), its speedup over corun's sequential mode,
/// with whiskers for its spread and the value written beside it.
fn speedup(workload: &Workload, out: &mut String) -> fmt::Result {
    let Some(sequential) = workload
        .modes
        .iter()
        .find(|m| m.origin == Origin::Corun && m.model == Model::Sequential)
    else {
        return Ok(());
    };
    // sequential / mode: above 1 the mode is faster.
    let bars: Vec<(&Mode, super::measure::Figure)> = workload
        .modes
        .iter()
        .map(|m| (m, sequential.ms.ratio(&m.ms)))
        .collect();
    const WIDTH: f64 = 960.0;
    const LEFT: f64 = 250.0;
    const RIGHT: f64 = WIDTH - 90.0;
    const TOP: f64 = 44.0;
    const ROW: f64 = 30.0;
    const BAR: f64 = 18.0;
    let largest = bars
        .iter()
        .map(|(_, s)| s.high.max(s.median))
        .filter(|v| v.is_finite())
        .fold(1.0, f64::max);
    let step = tick_step(largest);
    let axis_max = (largest / step).ceil() * step;
    let x = |v: f64| LEFT + (v.max(0.0) / axis_max).min(1.0) * (RIGHT - LEFT);
    let axis_y = TOP + ROW * bars.len() as f64 + 6.0;
    let height = axis_y + 56.0;

    writeln!(
        out,
        "<section id=\"speedup-{}\">\n<h3>Speedup over sequential</h3>",
        escape(workload.experiment)
    )?;
    writeln!(out, "<p class=\"about\">{}</p>", escape(&workload.about))?;
    writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"Helvetica, Arial, sans-serif\" \
         role=\"img\">"
    )?;
    let caption = format!(
        "{}: speedup over sequential ({}), higher is better",
        workload.experiment,
        human::ms(sequential.ms.median)
    );
    writeln!(out, "<title>{}</title>", escape(&caption))?;
    writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>"
    )?;
    writeln!(
        out,
        "<text x=\"16\" y=\"24\" font-size=\"15\" font-weight=\"bold\" fill=\"#1a1a1a\">{}</text>",
        escape(&caption)
    )?;
    // Grid lines and tick labels.
    let mut tick = 0.0;
    while tick <= axis_max + step / 2.0 {
        let tx = x(tick);
        writeln!(
            out,
            "<line x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{axis_y:.1}\" stroke=\"#e3e6eb\"/>\
             <text x=\"{tx:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555555\">{}×</text>",
            TOP - 4.0,
            axis_y + 16.0,
            human::trim(tick)
        )?;
        tick += step;
    }
    for (i, (mode, s)) in bars.iter().enumerate() {
        let top = TOP + ROW * i as f64;
        let mid = top + ROW / 2.0;
        let fill = colour(mode.origin);
        let tip = format!(
            "{}: {} per run, {} ({}–{}) the speed of sequential",
            mode.name,
            human::ms(mode.ms.median),
            human::times(s.median),
            human::times(s.low),
            human::times(s.high)
        );
        writeln!(out, "<g><title>{}</title>", escape(&tip))?;
        writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{mid:.1}\" dy=\"0.35em\" font-size=\"12\" text-anchor=\"end\" \
             fill=\"#1a1a1a\">{}</text>",
            LEFT - 8.0,
            escape(&human::fit(&mode.name, 34))
        )?;
        writeln!(
            out,
            "<rect x=\"{LEFT:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR:.1}\" rx=\"2\" fill=\"{fill}\"/>",
            mid - BAR / 2.0,
            (x(s.median) - LEFT).max(1.0)
        )?;
        let mut label_x = x(s.median);
        if s.high > s.low {
            let (lo, hi) = (x(s.low), x(s.high));
            writeln!(
                out,
                "<path d=\"M{lo:.1} {mid:.1}H{hi:.1}M{lo:.1} {:.1}V{:.1}M{hi:.1} {:.1}V{:.1}\" \
                 stroke=\"#1a1a1a\" stroke-width=\"1.2\" fill=\"none\"/>",
                mid - 5.0,
                mid + 5.0,
                mid - 5.0,
                mid + 5.0
            )?;
            label_x = label_x.max(hi);
        }
        writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{mid:.1}\" dy=\"0.35em\" font-size=\"12\" font-weight=\"bold\" \
             fill=\"#1a1a1a\">{}</text></g>",
            label_x + 6.0,
            escape(&human::times(s.median))
        )?;
    }
    // The sequential mark and the axis.
    let one = x(1.0);
    writeln!(
        out,
        "<line x1=\"{one:.1}\" y1=\"{:.1}\" x2=\"{one:.1}\" y2=\"{axis_y:.1}\" stroke=\"#1a1a1a\" \
         stroke-dasharray=\"3 3\"/>\
         <line x1=\"{LEFT}\" y1=\"{axis_y:.1}\" x2=\"{RIGHT}\" y2=\"{axis_y:.1}\" stroke=\"#888888\"/>",
        TOP - 4.0
    )?;
    // The legend: who implemented each mode.
    let legend_y = axis_y + 40.0;
    let mut lx = LEFT;
    for (origin, word) in [
        (Origin::Corun, "corun"),
        (Origin::Rust, "Rust peer"),
        (Origin::Python, "Python"),
    ] {
        if !workload.modes.iter().any(|m| m.origin == origin) {
            continue;
        }
        writeln!(
            out,
            "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{legend_y:.1}\" dy=\"0.35em\" font-size=\"12\" fill=\"#333333\">{word}</text>",
            legend_y - 6.0,
            colour(origin),
            lx + 18.0
        )?;
        lx += 110.0;
    }
    writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{legend_y:.1}\" dy=\"0.35em\" font-size=\"12\" fill=\"#555555\">\
         whiskers: the spread of the runs</text>",
        lx + 10.0
    )?;
    writeln!(out, "</svg>\n</section>")
}

/// A step of 1, 2 or 5 × 10ⁿ that cuts `0..=max` into at most six ticks.
fn tick_step(max: f64) -> f64 {
    let raw = max / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&step| step >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// The timing diagram of each recorded mode of a workload.
fn timelines(workload: &Workload, out: &mut String) -> fmt::Result {
    let recorded: Vec<&Mode> = workload
        .modes
        .iter()
        .filter(|m| m.recorded.is_some())
        .collect();
    if recorded.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<section id=\"timelines-{}\">\n<h3>Timing diagrams, one recorded run of each mode</h3>",
        escape(workload.experiment)
    )?;
    for mode in recorded {
        let Some(rec) = &mode.recorded else { continue };
        let cores = rec
            .cores_busy()
            .map(|c| format!(", {c:.1} cores busy"))
            .unwrap_or_default();
        let caption = format!(
            "{} — {}: {} tasks, {} wall{cores}",
            mode.model.word(),
            mode.name,
            rec.tasks,
            human::ms(rec.wall_ms)
        );
        let svg = rec.timeline.to_svg(&rec.title);
        // Inline SVG takes no XML prolog.
        let svg = svg.find("<svg").map_or(svg.as_str(), |at| &svg[at..]);
        writeln!(
            out,
            "<figure>\n<figcaption>{}</figcaption>\n{}\n</figure>",
            escape(&caption),
            svg.trim_end()
        )?;
    }
    writeln!(out, "</section>")
}

/// How the bars went.
fn summary(report: &Report, out: &mut String) -> fmt::Result {
    let (met, noise, missed) = report.tally();
    if met + noise + missed == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "<p class=\"summary\">bars: {met} met, {noise} within noise, {missed} missed</p>"
    )?;
    let missed: Vec<&Row> = report.missed().collect();
    if !missed.is_empty() {
        writeln!(out, "<ul>")?;
        for row in missed {
            writeln!(
                out,
                "<li>{} {}</li>",
                verdict(Verdict::Missed),
                escape(&format!("{} — {}", row.experiment, row.comparison()))
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use corun::trace::Outcome;

    use super::*;
    use crate::bench::Plan;
    use crate::bench::measure::Figure;
    use crate::bench::report::Section;
    use crate::bench::story::Choice;
    use crate::bench::workloads::{Bound, Recorded};

    fn spread(low: f64, median: f64, high: f64) -> Figure {
        Figure::from_samples(vec![low, median, high])
    }

    /// A recorded run of two tiny tasks on two lanes.
    fn recorded(stem: &str) -> Recorded {
        Recorded::run(stem, format!("{stem} <diagram>"), |rec| {
            for lane in ["worker 0", "worker 1"] {
                let id = rec.submitted(format!("task on {lane}"));
                rec.started_on(id, lane);
                std::thread::sleep(Duration::from_millis(2));
                rec.finished(id, Outcome::Ok);
            }
            Ok::<_, ()>(())
        })
        .unwrap()
        .0
    }

    fn report() -> Report {
        let mut report = Report::new(Plan {
            runs: 3,
            quick: true,
            python: false,
        });
        for (name, about) in [("cpu", "sums <&> of squares"), ("sync", "locks")] {
            report.experiments.push(Section {
                name,
                about: about.into(),
            });
        }
        report.rows = vec![
            Row::compare(
                "cpu",
                "ThreadPoolExecutor(2)",
                "sequential",
                spread(505.0, 512.0, 530.0),
                spread(1000.0, 1010.0, 1020.0),
                Some(1.0 / 1.9),
            )
            .unit("ms/run")
            .note("a note with <b>markup</b> & an ampersand"),
            Row::target(
                "cpu",
                "corun::asyncio",
                spread(55.0, 56.0, 60.0),
                65.0,
                "1.3 × one 50 ms latency",
            )
            .unit("ms/run"),
            Row::compare("sync", "Lock", "parking_lot::Mutex", 30.0, 10.0, Some(1.5)),
        ];
        report.workloads.push(Workload {
            experiment: "cpu",
            bound: Bound::Cpu,
            about: "sums of squares".into(),
            modes: vec![
                Mode::new("sequential", Model::Sequential, Origin::Corun, 1, 1010.0)
                    .recorded(Some(recorded("cpu-sequential"))),
                Mode::new(
                    "ThreadPoolExecutor(2)",
                    Model::Threads,
                    Origin::Corun,
                    2,
                    spread(505.0, 512.0, 530.0),
                )
                .recorded(Some(recorded("cpu-threads"))),
                Mode::new("rayon par_iter", Model::Threads, Origin::Rust, 2, 500.0),
                Mode::new(
                    "Python Pool(2).map",
                    Model::Processes,
                    Origin::Python,
                    2,
                    spread(900.0, 1200.0, 1300.0),
                ),
            ],
        });
        report.choices.push(Choice {
            experiment: "cpu",
            winners: vec!["threads"],
            headline: "CPU-bound: threads won <fast> & well".into(),
            reasons: vec!["because <reasons>".into()],
            advice: "use threads & be happy".into(),
        });
        report
    }

    #[test]
    fn the_page_has_every_section() {
        let html = page(&report());
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        for id in [
            "experiment-cpu",
            "experiment-sync",
            "speedup-cpu",
            "timelines-cpu",
            "choosing",
        ] {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        }
        assert!(html.contains("1.97× faster than sequential"), "{html}");
        assert!(html.contains("≥1.9×"), "{html}");
        assert!(html.contains("target: 1.3 × one 50 ms latency"), "{html}");
        assert!(html.contains("≤65.0 ms"), "{html}");
        assert!(
            html.contains("<span class=\"verdict within-noise\">within noise</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"verdict met\">met</span>"),
            "{html}"
        );
        assert!(html.contains("verdict missed"), "{html}");
        assert!(html.contains("3.00× slower than parking_lot::Mutex"));
        assert!(html.contains("bars: 1 met, 1 within noise, 1 missed"));
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn text_is_escaped() {
        let html = page(&report());
        assert!(html.contains("sums &lt;&amp;&gt; of squares"), "{html}");
        assert!(html.contains("a note with &lt;b&gt;markup&lt;/b&gt; &amp; an ampersand"));
        assert!(html.contains("threads won &lt;fast&gt; &amp; well"));
        assert!(html.contains("because &lt;reasons&gt;"));
        assert!(
            html.contains("cpu-threads &lt;diagram&gt;"),
            "diagram titles"
        );
        assert!(!html.contains("<b>") && !html.contains("<fast>") && !html.contains("<diagram>"));
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn one_svg_per_diagram_and_per_chart() {
        let html = page(&report());
        // Two timing diagrams and one speedup chart.
        assert_eq!(html.matches("<svg").count(), 3, "{html}");
        assert_eq!(html.matches("</svg>").count(), 3);
        assert!(!html.contains("<?xml"));
        // The chart: a bar per mode, labelled with its speedup.
        let chart = &html[html.find("<section id=\"speedup-cpu\">").unwrap()..];
        let chart = &chart[..chart.find("</section>").unwrap()];
        assert_eq!(chart.matches("<rect").count(), 1 + 4 + 3, "{chart}");
        for label in [">1.00×<", ">1.97×<", ">2.02×<", ">0.842×<"] {
            assert!(chart.contains(label), "{label}\n{chart}");
        }
        assert!(chart.contains("Python Pool(2).map"));
    }

    #[test]
    fn nothing_is_fetched_from_elsewhere() {
        let html = page(&report());
        let without_xmlns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(!without_xmlns.contains("http://"), "{without_xmlns}");
        assert!(!without_xmlns.contains("https://"));
        assert!(!html.contains("<script") && !html.contains("<link"));
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(1.0), 0.2);
        assert_eq!(tick_step(2.1), 0.5);
        assert_eq!(tick_step(7.9), 2.0);
        assert_eq!(tick_step(180.0), 50.0);
    }
}
