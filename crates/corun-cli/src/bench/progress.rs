//! A spinner on stderr while an experiment runs, saying which contender is
//! being timed; stdout, where the table goes, is left alone.
//!
//! indicatif draws nothing when stderr is not a terminal (CI, a pipe); a
//! plain line per experiment is printed there instead.

use std::borrow::Cow;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// The spinner of the experiment now running, for [`step`].
static CURRENT: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Shows the spinner of one experiment until it is dropped.
#[must_use = "the spinner disappears when dropped"]
pub(crate) struct Spinner {
    bar: ProgressBar,
    experiment: &'static str,
    start: Instant,
}

/// Starts the spinner of `experiment`.
pub(crate) fn start(experiment: &'static str, runs: usize) -> Spinner {
    let style = ProgressStyle::with_template("{spinner} corun bench: {prefix} [{elapsed}] {msg}")
        .expect("the template is valid");
    let bar = ProgressBar::new_spinner()
        .with_style(style)
        .with_prefix(experiment);
    if bar.is_hidden() {
        eprintln!("corun bench: running {experiment} ({runs} run(s) each) …");
    } else {
        bar.enable_steady_tick(Duration::from_millis(100));
    }
    *current() = Some(bar.clone());
    Spinner {
        bar,
        experiment,
        start: Instant::now(),
    }
}

/// Says what the running experiment is doing now.
pub(crate) fn step(message: impl Into<Cow<'static, str>>) {
    if let Some(bar) = &*current() {
        bar.set_message(message);
    }
}

fn current() -> std::sync::MutexGuard<'static, Option<ProgressBar>> {
    CURRENT.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for Spinner {
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
