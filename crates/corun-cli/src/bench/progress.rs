//! A progress bar on stderr while an experiment runs, saying which
//! contender is being timed; stdout, where the table goes, is left alone.
//! Its length grows as the experiment announces the steps of each
//! measurement ([`add_steps`]).
//!
//! indicatif draws nothing when stderr is not a terminal (CI, a pipe); a
//! plain line per experiment is printed there instead.

use std::borrow::Cow;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// The bar of the experiment now running, for [`step`].
static CURRENT: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Shows the progress of one experiment until it is dropped.
#[must_use = "the bar disappears when dropped"]
pub(crate) struct Progress {
    bar: ProgressBar,
    experiment: &'static str,
    start: Instant,
}

/// Starts the bar of `experiment`.
pub(crate) fn start(experiment: &'static str, runs: usize) -> Progress {
    let style = ProgressStyle::with_template(
        "{spinner} {prefix:>16} [{bar:24}] {pos}/{len} {elapsed:>4} {wide_msg}",
    )
    .expect("the template is valid")
    .progress_chars("█▌ ");
    let bar = ProgressBar::new(0)
        .with_style(style)
        .with_prefix(experiment);
    if bar.is_hidden() {
        eprintln!("corun bench: running {experiment} ({runs} run(s) each) …");
    } else {
        bar.enable_steady_tick(Duration::from_millis(100));
    }
    *current() = Some(bar.clone());
    Progress {
        bar,
        experiment,
        start: Instant::now(),
    }
}

/// Announces `count` more steps of the running experiment.
pub(crate) fn add_steps(count: usize) {
    if let Some(bar) = &*current() {
        bar.inc_length(count as u64);
    }
}

/// Says what the running experiment is doing now: one step further.
pub(crate) fn step(message: impl Into<Cow<'static, str>>) {
    if let Some(bar) = &*current() {
        if bar.position() >= bar.length().unwrap_or(0) {
            // A step nobody announced: the bar grows with it.
            bar.inc_length(1);
        }
        bar.inc(1);
        bar.set_message(message);
    }
}

fn current() -> std::sync::MutexGuard<'static, Option<ProgressBar>> {
    CURRENT.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        *current() = None;
        eprintln!(
            "corun bench: {} done in {:.1} s",
            self.experiment,
            self.start.elapsed().as_secs_f64()
        );
    }
}
