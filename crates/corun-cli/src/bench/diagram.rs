//! A timing diagram in text, for the terminal: a lane per worker, a bar
//! per task, like the seeds' figures (the HTML report draws the same
//! timelines as SVG).
//!
//! ```text
//! worker-0 ███▓▓▓███▓▓▓███▓▓▓███▓▓▓███▓▓▓          512 ms
//! worker-1 ▓▓▓███▓▓▓███▓▓▓███▓▓▓███▓▓▓███
//! ```
//!
//! Tasks alternate between two shades so neighbours stay apart; a cell
//! shows a bar when a task ran during most of it, `░` when tasks ran in
//! less than half of it (an event loop's short steps), `·` when idle.

use std::time::Duration;

use corun::trace::Timeline;

use crate::human;

/// At most this many lanes are drawn; the rest are counted.
const MAX_LANES: usize = 4;
const SHADES: [char; 2] = ['█', '▓'];
/// A cell a task ran in for less than half of it.
const PARTLY: char = '░';
const IDLE: char = '·';

/// The diagram in lines of at most `width` characters, `indent` included.
pub(crate) fn draw(timeline: &Timeline, width: usize, indent: usize) -> Vec<String> {
    let mut lanes: Vec<&str> = timeline.workers().iter().map(AsRef::as_ref).collect();
    // worker_2 before worker_10, whatever order they first ran in.
    lanes.sort_by_key(|lane| natural(lane));
    let tasks = timeline.tasks();
    let Some(t0) = tasks.iter().map(|t| t.submitted).min() else {
        return vec![format!("{:indent$}(no tasks recorded)", "")];
    };
    let end = timeline.end().max(t0 + Duration::from_nanos(1));
    let span = (end - t0).as_secs_f64();
    let label_w = lanes
        .iter()
        .take(MAX_LANES)
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .min(14);
    let wall = human::seconds(span);
    let cells = width.saturating_sub(indent + label_w + 2 + wall.chars().count() + 1);
    let cells = cells.max(10);
    let mut out = Vec::new();
    for (lane_index, lane) in lanes.iter().enumerate().take(MAX_LANES) {
        // How much of each cell tasks cover, and which task covers most.
        let mut cover = vec![(0.0f64, 0.0f64, usize::MAX); cells];
        let on_lane = tasks.iter().filter(|t| t.worker.as_deref() == Some(*lane));
        for (k, task) in on_lane.enumerate() {
            let (Some(start), finish) = (task.started, task.finished.unwrap_or(end)) else {
                continue;
            };
            let a = (start - t0).as_secs_f64() / span * cells as f64;
            let b = (finish.max(start) - t0).as_secs_f64() / span * cells as f64;
            let first = a.floor() as usize;
            let last = (b.ceil() as usize).min(cells);
            for (c, cell) in cover.iter_mut().enumerate().take(last).skip(first) {
                let overlap = (b.min(c as f64 + 1.0) - a.max(c as f64)).max(0.0);
                cell.0 += overlap;
                if overlap > cell.1 {
                    (cell.1, cell.2) = (overlap, k);
                }
            }
        }
        let bars: String = cover
            .iter()
            .map(|&(covered, _, k)| {
                if covered >= 0.5 {
                    SHADES[k % 2]
                } else if covered > 0.0 {
                    PARTLY
                } else {
                    IDLE
                }
            })
            .collect();
        let suffix = if lane_index == 0 { wall.as_str() } else { "" };
        out.push(format!(
            "{:indent$}{:<label_w$}  {bars} {suffix}",
            "",
            human::fit(lane, label_w)
        ));
    }
    if lanes.len() > MAX_LANES {
        out.push(format!(
            "{:indent$}… and {} more lanes like these",
            "",
            lanes.len() - MAX_LANES
        ));
    }
    out.iter().map(|l| l.trim_end().to_owned()).collect()
}

/// A lane's name as text and trailing number, for a natural order.
fn natural(lane: &str) -> (&str, u64) {
    let digits = lane.len() - lane.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (text, number) = lane.split_at(lane.len() - digits);
    (text, number.parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use corun::trace::{Outcome, Recorder};

    #[test]
    fn a_lane_per_worker_and_a_bar_per_task() {
        let rec = Recorder::new();
        for lane in ["w0", "w1"] {
            for _ in 0..2 {
                let id = rec.submitted("t");
                rec.started_on(id, lane);
                std::thread::sleep(Duration::from_millis(5));
                rec.finished(id, Outcome::Ok);
            }
        }
        let lines = draw(&rec.timeline(), 60, 2);
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(lines.iter().all(|l| l.chars().count() <= 60), "{lines:#?}");
        assert!(lines[0].starts_with("  w0  ") && lines[1].starts_with("  w1  "));
        // w0 ran first, w1 after: w0's bars are on the left.
        let first_bar = |l: &str| l.chars().skip(6).position(|c| SHADES.contains(&c));
        assert!(first_bar(&lines[0]) < first_bar(&lines[1]), "{lines:#?}");
        assert!(
            lines[0].contains('█') && lines[0].contains('▓'),
            "two tasks, two shades"
        );
        assert!(
            lines[0].ends_with(" ms"),
            "the wall time is at the end: {lines:#?}"
        );
    }

    #[test]
    fn lanes_are_in_natural_order_and_short_tasks_add_up() {
        assert!(natural("worker_2") < natural("worker_10"));
        let rec = Recorder::new();
        for lane in ["w10", "w2"] {
            // Many tasks far shorter than a cell, back to back: busy.
            for _ in 0..200 {
                let id = rec.submitted("t");
                rec.started_on(id, lane);
                std::thread::sleep(Duration::from_micros(50));
                rec.finished(id, Outcome::Ok);
            }
        }
        let lines = draw(&rec.timeline(), 40, 0);
        assert!(
            lines[0].starts_with("w2 ") && lines[1].starts_with("w10"),
            "{lines:#?}"
        );
        let busy = lines[0].chars().filter(|c| SHADES.contains(c)).count();
        assert!(
            busy >= 10,
            "back-to-back short tasks read as busy: {lines:#?}"
        );
    }

    #[test]
    fn many_lanes_are_counted_not_drawn() {
        let rec = Recorder::new();
        for k in 0..10 {
            let id = rec.submitted("t");
            rec.started_on(id, format!("w{k}"));
            rec.finished(id, Outcome::Ok);
        }
        let lines = draw(&rec.timeline(), 80, 0);
        assert_eq!(lines.len(), MAX_LANES + 1);
        assert!(lines[MAX_LANES].contains("6 more lanes"));
        assert_eq!(draw(&Recorder::new().timeline(), 80, 0).len(), 1);
    }
}
