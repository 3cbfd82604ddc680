//! `throttle_first` (RxPY: `ops.throttle_first`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use corun_core::Error;

use crate::scheduler::{Scheduler, SchedulerRef};
use crate::{Observable, Observer, Subscriber};

/// The first element of each `window` of time (RxPY:
/// `ops.throttle_first(window_duration, scheduler)`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::throttle_first`].
pub fn throttle_first<T: Send + 'static>(
    window: Duration,
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.throttle_first(window, scheduler)
}

impl<T: Send + 'static> Observable<T> {
    /// An element, then nothing until `window` has passed on
    /// `scheduler`'s clock, then the next element, and so on (RxPY:
    /// `ops.throttle_first(window_duration, scheduler)`). Elements are
    /// emitted at once, in the source's thread; the scheduler only tells
    /// the time, so no timer is left behind. (See
    /// [`debounce`](Self::debounce) for the choice of scheduler.)
    ///
    /// # Panics
    ///
    /// If `window` is zero (RxPY raises `ValueError`).
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, on_completed, on_next};
    /// use std::time::Duration;
    ///
    /// let ts = TestScheduler::new();
    /// let clicks = ts.create_hot_observable(vec![
    ///     on_next(210, 1), on_next(250, 2), on_next(410, 3), on_next(420, 4), on_completed(500),
    /// ]);
    /// let (source, s) = (clicks.observable(), ts.clone());
    /// let taken = ts.start(move || source.throttle_first(Duration::from_millis(200), s));
    /// assert_eq!(taken, [on_next(210, 1), on_next(410, 3), on_completed(500)]);
    /// ```
    pub fn throttle_first(&self, window: Duration, scheduler: impl Scheduler) -> Observable<T> {
        assert!(
            !window.is_zero(),
            "throttle_first: the window must not be zero"
        );
        let scheduler: SchedulerRef = Arc::new(scheduler);
        self.lift(move |down| ThrottleFirst {
            window,
            scheduler: Arc::clone(&scheduler),
            last: None,
            down,
        })
    }
}

struct ThrottleFirst<T> {
    window: Duration,
    scheduler: SchedulerRef,
    /// When the last element went out.
    last: Option<Instant>,
    down: Subscriber<T>,
}

impl<T: Send + 'static> Observer<T> for ThrottleFirst<T> {
    fn on_next(&mut self, value: T) {
        let now = self.scheduler.now();
        let open = self
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= self.window);
        if open {
            self.last = Some(now);
            self.down.on_next(value);
        }
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.down.on_completed();
    }
}
