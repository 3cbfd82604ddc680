//! Export as an SVG timing diagram: one lane per worker, one bar per task.
//!
//! The drawing, top to bottom: the title and a one-line summary; the lanes
//! (label on the left, alternating stripes, vertical grid lines at the
//! ticks, a bar per task from start to finish coloured by outcome, its
//! label inside when it fits, a `<title>` tooltip with the details); the
//! time axis, measured from the first submission; a legend of the outcomes
//! drawn. Bars are the only `<rect>` elements; everything else is a path,
//! line or text. Tasks still running are dashed outlines up to the
//! timeline's end; tasks never started are not drawn (the summary line
//! counts them).

use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::outcome::{self, Outcome};
use crate::task::TaskRecord;
use crate::timeline::Timeline;
use crate::units::{Axis, Human, nanos};

/// The drawing's width.
const WIDTH: f64 = 960.0;
/// Space around the drawing.
const MARGIN: f64 = 16.0;
/// The height of a lane, and of a bar within it.
const LANE_H: f64 = 28.0;
const BAR_H: f64 = 20.0;
/// Where the first lane starts (below the title and summary line).
const LANES_TOP: f64 = 64.0;
/// The approximate advance of a character at the lane-label font size
/// (12 px) and at the bar-label font size (11 px).
const LANE_CHAR_W: f64 = 7.0;
const BAR_CHAR_W: f64 = 6.3;
/// The widest a lane label may be, in characters.
const MAX_LANE_CHARS: usize = 32;
/// The fill and outline of a running task.
const RUNNING: &str = "#4e79a7";
const FONT: &str = "Helvetica, Arial, sans-serif";

/// Text escaped for XML content and attribute values.
struct Xml<'a>(&'a str);

/// The drawing, written as it is displayed.
struct Drawing<'a> {
    timeline: &'a Timeline,
    title: &'a str,
}

/// Where times fall on the drawing.
#[derive(Clone, Copy, Debug)]
struct Scale {
    /// Time zero of the axis (the first submission), in ns.
    t0: u64,
    /// Nanoseconds from `t0` to the axis's end.
    span: u64,
    /// The x of `t0` and of `t0 + span`.
    left: f64,
    right: f64,
}

/// The fill of a finished task's bar and the colour of its label.
fn colours(outcome: &Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Ok => ("#4e79a7", "#ffffff"),
        Outcome::Failed => ("#f28e2b", "#1a1a1a"),
        Outcome::Panicked => ("#e15759", "#ffffff"),
        Outcome::Cancelled => ("#bab0ac", "#1a1a1a"),
        Outcome::TimedOut => ("#b07aa1", "#ffffff"),
        Outcome::WorkerDied => ("#7f5b45", "#ffffff"),
    }
}

/// `text` cut to at most `max` characters, ending in `…` if cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

impl Timeline {
    /// The timeline as a standalone SVG timing diagram titled `title`: one
    /// horizontal lane per worker (labelled), one bar per task from start
    /// to finish (coloured by outcome, its label inside when it fits, a
    /// tooltip with label, id and times), a time axis from the first
    /// submission with ticks in µs, ms or s as the span suits, and the
    /// title and a summary line on top. Tasks still running are dashed
    /// outlines; tasks never started are not drawn.
    ///
    /// ```
    /// use corun::trace::{Outcome, Recorder};
    ///
    /// let rec = Recorder::new();
    /// let id = rec.submitted("a < b");
    /// rec.started(id);
    /// rec.finished(id, Outcome::Ok);
    /// let svg = rec.timeline().to_svg("one task");
    /// assert!(svg.starts_with("<svg"));
    /// assert!(svg.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
    /// assert_eq!(svg.matches("<rect").count(), 1);
    /// assert!(svg.contains("a &lt; b"));
    /// ```
    #[must_use]
    pub fn to_svg(&self, title: &str) -> String {
        Drawing {
            timeline: self,
            title,
        }
        .to_string()
    }
}

impl fmt::Display for Xml<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&apos;")?,
                // Not allowed in XML 1.0 at all.
                c if u32::from(c) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                    f.write_char('\u{fffd}')?;
                }
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

impl Scale {
    /// The x of time `t` (a duration since the recorder's origin).
    fn x(self, t: Duration) -> f64 {
        let offset = nanos(t).saturating_sub(self.t0);
        #[allow(clippy::cast_precision_loss)] // drawing only
        let fraction = offset as f64 / self.span as f64;
        self.left + fraction.min(1.0) * (self.right - self.left)
    }
}

impl Drawing<'_> {
    /// The time scale: from the first submission to the last thing drawn.
    fn scale(&self, left: f64, right: f64) -> Scale {
        let tasks = self.timeline.tasks();
        let t0 = tasks.iter().map(|t| nanos(t.submitted)).min().unwrap_or(0);
        let last = (tasks.iter())
            .filter_map(|t| match (t.started, t.finished) {
                (Some(_), Some(finished)) => Some(finished),
                (Some(started), None) => Some(self.timeline.end().max(started)),
                (None, _) => None,
            })
            .map(nanos)
            .max()
            .unwrap_or(t0);
        Scale {
            t0,
            span: last.saturating_sub(t0).max(1_000),
            left,
            right,
        }
    }

    /// One task's bar (or dashed outline, if it is still running).
    fn bar(
        &self,
        f: &mut fmt::Formatter<'_>,
        task: &TaskRecord,
        scale: Scale,
        top: f64,
    ) -> fmt::Result {
        let Some(started) = task.started else {
            return Ok(());
        };
        let end = task.finished.unwrap_or(self.timeline.end().max(started));
        let x = scale.x(started);
        let w = scale.x(end) - x;
        // A pixel of air between back-to-back bars, where there is room.
        let w = if w > 3.0 { w - 1.0 } else { w.max(1.0) };
        let y = top + (LANE_H - BAR_H) / 2.0;

        let outcome = task.outcome.as_ref().map_or("running", Outcome::as_str);
        let ran = end.saturating_sub(started);
        f.write_str("<g>")?;
        write!(
            f,
            "<title>{} ({})\n{}: queued {}, ran {}\nsubmitted {}, started {}",
            Xml(&task.label),
            task.id,
            outcome,
            Human(started.saturating_sub(task.submitted)),
            Human(ran),
            Human(task.submitted),
            Human(started),
        )?;
        if let Some(finished) = task.finished {
            write!(f, ", finished {}", Human(finished))?;
        }
        f.write_str(" (since the recorder's origin)</title>")?;

        let text_colour = match &task.outcome {
            Some(outcome) => {
                let (fill, text) = colours(outcome);
                write!(
                    f,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{BAR_H:.1}" rx="2" fill="{fill}"/>"#
                )?;
                text
            }
            None => {
                write!(
                    f,
                    r##"<path d="M{x:.1} {y:.1}h{w:.1}v{BAR_H:.1}h{:.1}z" fill="#4e79a722" stroke="{RUNNING}" stroke-dasharray="4 3"/>"##,
                    -w
                )?;
                "#1a1a1a"
            }
        };

        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // >= 0, small
        let fits = ((w - 6.0) / BAR_CHAR_W).floor().max(0.0) as usize;
        let chars = task.label.chars().count();
        if chars <= fits || fits >= 4 {
            write!(
                f,
                r#"<text x="{:.1}" y="{:.1}" dy="0.35em" text-anchor="middle" font-size="11" fill="{text_colour}">{}</text>"#,
                x + w / 2.0,
                y + BAR_H / 2.0,
                Xml(&truncate(&task.label, fits)),
            )?;
        }
        f.write_str("</g>\n")
    }

    /// The outcomes drawn, in the order of [`outcome::ALL`], and whether
    /// any task is still running.
    fn legend_entries(&self) -> (Vec<Outcome>, bool) {
        let drawn = || (self.timeline.tasks().iter()).filter(|t| t.started.is_some());
        let outcomes = (outcome::ALL.iter())
            .filter(|o| drawn().any(|t| t.outcome.as_ref() == Some(*o)))
            .cloned()
            .collect();
        (outcomes, drawn().any(|t| t.outcome.is_none()))
    }
}

impl fmt::Display for Drawing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let timeline = self.timeline;
        let lanes = timeline.workers();
        let label_chars = (lanes.iter())
            .map(|l| l.chars().count().min(MAX_LANE_CHARS))
            .max()
            .unwrap_or(0);
        #[allow(clippy::cast_precision_loss)] // small
        let label_w = (label_chars as f64 * LANE_CHAR_W + 12.0).max(48.0);
        let scale = self.scale(MARGIN + label_w, WIDTH - MARGIN - 16.0);

        #[allow(clippy::cast_precision_loss)] // small
        let lanes_h = LANE_H * lanes.len().max(1) as f64;
        let axis_y = LANES_TOP + lanes_h;
        let (legend, running) = self.legend_entries();
        let legend_y = axis_y + 42.0;
        let height = if legend.is_empty() && !running {
            axis_y + 34.0
        } else {
            legend_y + 18.0
        };

        write!(
            f,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT}">"#
        )?;
        writeln!(f)?;
        writeln!(f, "<title>{}</title>", Xml(self.title))?;
        writeln!(
            f,
            r##"<path d="M0 0H{WIDTH}V{height}H0z" fill="#ffffff"/>"##
        )?;

        // Title and summary line.
        writeln!(
            f,
            r##"<text x="{MARGIN}" y="28" font-size="18" font-weight="bold" fill="#1a1a1a">{}</text>"##,
            Xml(self.title)
        )?;
        let summary = timeline.summary();
        let unstarted = (timeline.tasks().iter())
            .filter(|t| t.started.is_none())
            .count();
        let mut line = format!(
            "{} task{} on {} worker{} · wall {} · queue wait p50 {}, p99 {}",
            summary.tasks,
            if summary.tasks == 1 { "" } else { "s" },
            lanes.len(),
            if lanes.len() == 1 { "" } else { "s" },
            Human(summary.wall),
            Human(summary.queue_wait_p50),
            Human(summary.queue_wait_p99),
        );
        if unstarted > 0 {
            let _ = write!(line, " · {unstarted} never started");
        }
        writeln!(
            f,
            r##"<text x="{MARGIN}" y="48" font-size="12" fill="#555555">{}</text>"##,
            Xml(&line)
        )?;

        // Lane stripes and labels.
        for (i, lane) in lanes.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)] // small
            let top = LANES_TOP + LANE_H * i as f64;
            let fill = if i % 2 == 0 { "#f3f5f8" } else { "#ffffff" };
            writeln!(
                f,
                r#"<path d="M{:.1} {top:.1}H{:.1}v{LANE_H:.1}H{:.1}z" fill="{fill}"/>"#,
                scale.left, scale.right, scale.left
            )?;
            writeln!(
                f,
                r##"<text x="{:.1}" y="{:.1}" dy="0.35em" text-anchor="end" font-size="12" fill="#1a1a1a">{}</text>"##,
                scale.left - 8.0,
                top + LANE_H / 2.0,
                Xml(&truncate(lane, MAX_LANE_CHARS))
            )?;
        }
        if lanes.is_empty() {
            writeln!(
                f,
                r##"<text x="{:.1}" y="{:.1}" dy="0.35em" text-anchor="middle" font-size="12" fill="#777777">no task started</text>"##,
                (scale.left + scale.right) / 2.0,
                LANES_TOP + LANE_H / 2.0,
            )?;
        }

        // Grid, axis and ticks.
        // No ticks when nothing was drawn: the span means nothing.
        let axis = Axis::for_span(scale.span);
        let span = if lanes.is_empty() {
            None
        } else {
            Some(scale.span)
        };
        for tick in span.into_iter().flat_map(|span| axis.ticks(span)) {
            let x = scale.x(Duration::from_nanos(scale.t0.saturating_add(tick)));
            writeln!(
                f,
                r##"<line x1="{x:.1}" y1="{LANES_TOP:.1}" x2="{x:.1}" y2="{:.1}" stroke="#d0d4da" stroke-width="1"/>"##,
                axis_y + 5.0
            )?;
            writeln!(
                f,
                r##"<text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#333333">{}</text>"##,
                axis_y + 18.0,
                Xml(&axis.label(tick))
            )?;
        }
        writeln!(
            f,
            r##"<line x1="{:.1}" y1="{axis_y:.1}" x2="{:.1}" y2="{axis_y:.1}" stroke="#333333" stroke-width="1"/>"##,
            scale.left, scale.right
        )?;

        // Bars, above the grid.
        let lane_of = timeline.lane_indices();
        for task in timeline.tasks() {
            let lane = task.worker.as_deref().and_then(|w| lane_of.get(w));
            if let (Some(&lane), Some(_)) = (lane, task.started) {
                #[allow(clippy::cast_precision_loss)] // small
                let top = LANES_TOP + LANE_H * lane as f64;
                self.bar(f, task, scale, top)?;
            }
        }

        // Legend.
        let mut x = scale.left;
        let entries = (legend.iter())
            .map(|o| (colours(o).0, o.as_str(), false))
            .chain(running.then_some((RUNNING, "running", true)));
        for (colour, name, dashed) in entries {
            let style = if dashed {
                format!(r#"fill="{colour}22" stroke="{colour}" stroke-dasharray="3 2""#)
            } else {
                format!(r#"fill="{colour}""#)
            };
            writeln!(
                f,
                r#"<path d="M{x:.1} {:.1}h10v10h-10z" {style}/>"#,
                legend_y - 9.0
            )?;
            writeln!(
                f,
                r##"<text x="{:.1}" y="{legend_y:.1}" font-size="11" fill="#333333">{name}</text>"##,
                x + 14.0
            )?;
            #[allow(clippy::cast_precision_loss)] // small
            let advance = 14.0 + name.len() as f64 * BAR_CHAR_W + 16.0;
            x += advance;
        }
        f.write_str("</svg>\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_control_characters() {
        assert_eq!(
            Xml("<a & 'b'> \"c\"\u{7}").to_string(),
            "&lt;a &amp; &apos;b&apos;&gt; &quot;c&quot;\u{fffd}"
        );
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("worker", 10), "worker");
        assert_eq!(truncate("worker-long", 5), "work…");
    }

    #[test]
    fn scale_maps_ends_to_edges() {
        let scale = Scale {
            t0: 1_000,
            span: 2_000,
            left: 100.0,
            right: 300.0,
        };
        assert!((scale.x(Duration::from_nanos(1_000)) - 100.0).abs() < 1e-9);
        assert!((scale.x(Duration::from_nanos(2_000)) - 200.0).abs() < 1e-9);
        assert!((scale.x(Duration::from_nanos(9_000)) - 300.0).abs() < 1e-9);
        assert!((scale.x(Duration::ZERO) - 100.0).abs() < 1e-9);
    }
}
