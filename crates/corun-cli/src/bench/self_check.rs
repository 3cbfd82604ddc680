//! The hidden `self-check` experiment: one workload timed against itself,
//! interleaved, as every comparison is. The ratio must come out at 1.00
//! within its spread — a check of the measuring, not of corun; the tests
//! run it, and its spread says how much noise the machine adds.

use super::Plan;
use super::measure::{Contender, per_run_ms};
use super::report::Row;
use crate::workload::sum_of_squares;

const EXPERIMENT: &str = "self-check";

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(2_000_000, 200_000) as u64;
    // More repetitions than elsewhere: the spread is the figure sought.
    let runs = (plan.runs * 4).max(8);
    let work = || {
        std::hint::black_box(sum_of_squares(n));
    };
    let mut contenders = [
        Contender::timed("A", |_| work()),
        Contender::timed("A again", |_| work()),
    ];
    let t = per_run_ms(runs, &mut contenders);
    let ratio = t[0].ratio(&t[1]);
    Ok(vec![
        Row::compare(
            EXPERIMENT,
            "sum of squares",
            "the same, interleaved",
            &t[0],
            &t[1],
            Some(1.0),
        )
        .unit("ms/run")
        .note(format!(
            "ratio {:.3} (spread {:.3}–{:.3}) over {runs} pairs: 1.00 must lie within it",
            ratio.median, ratio.low, ratio.high
        )),
    ])
}
