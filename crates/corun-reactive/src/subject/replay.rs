//! [`ReplaySubject`].

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corun_core::Error;

use super::{Shared, attach, new_hub, replay_and_end};
use crate::scheduler::{CurrentThreadScheduler, Scheduler};
use crate::{Notification, Observable, Observer};

/// A subject that replays what it was given to each new subscriber (RxPY:
/// `ReplaySubject(buffer_size, window, scheduler)`): the last
/// `buffer_size` elements, of those no older than `window` by its
/// scheduler's clock, then the end if it came.
///
/// Ported behaviour: RxPY `tests/test_subject/test_replaysubject.py`.
///
/// ```
/// use corun::reactive::ReplaySubject;
///
/// let subject = ReplaySubject::with_buffer_size(2);
/// for x in 1..=3 {
///     subject.on_next(x);
/// }
/// subject.on_completed();
/// assert_eq!(subject.observable().to_vec().unwrap(), [2, 3]);
/// ```
pub struct ReplaySubject<T> {
    hub: Shared<T, Buffer<T>>,
}

pub(crate) struct Buffer<T> {
    items: VecDeque<(Instant, T)>,
    size: usize,
    window: Option<Duration>,
    clock: Arc<dyn Scheduler>,
}

impl<T> Buffer<T> {
    fn trim(&mut self) {
        while self.items.len() > self.size {
            self.items.pop_front();
        }
        if let Some(window) = self.window {
            let now = self.clock.now();
            while self
                .items
                .front()
                .is_some_and(|(at, _)| now.saturating_duration_since(*at) > window)
            {
                self.items.pop_front();
            }
        }
    }
}

impl<T> Clone for ReplaySubject<T> {
    fn clone(&self) -> Self {
        Self {
            hub: self.hub.clone(),
        }
    }
}

impl<T: Clone + Send + 'static> ReplaySubject<T> {
    /// A subject that replays everything.
    pub fn new() -> Self {
        Self::with_limits(None, None, CurrentThreadScheduler::new())
    }

    /// A subject that replays the last `size` elements.
    pub fn with_buffer_size(size: usize) -> Self {
        Self::with_limits(Some(size), None, CurrentThreadScheduler::new())
    }

    /// A subject that replays the elements no older than `window` by
    /// `scheduler`'s clock.
    pub fn with_window(window: Duration, scheduler: impl Scheduler) -> Self {
        Self::with_limits(None, Some(window), scheduler)
    }

    /// A subject that replays at most `size` elements, none older than
    /// `window` by `scheduler`'s clock; `None` for no limit.
    pub fn with_limits(
        size: Option<usize>,
        window: Option<Duration>,
        scheduler: impl Scheduler,
    ) -> Self {
        Self {
            hub: new_hub(Buffer {
                items: VecDeque::new(),
                size: size.unwrap_or(usize::MAX),
                window,
                clock: Arc::new(scheduler),
            }),
        }
    }

    /// Keeps `value` for replay and hands it to every observer.
    pub fn on_next(&self, value: T) {
        let mut state = self.hub.lock();
        if state.ended() {
            return;
        }
        let now = state.extra.clock.now();
        state.extra.items.push_back((now, value.clone()));
        state.extra.trim();
        self.hub.next(state, value);
    }

    /// Ends every observer with `error`; later subscribers get the replay,
    /// then the error.
    pub fn on_error(&self, error: Error) {
        self.hub.fail(error);
    }

    /// Ends every observer; later subscribers get the replay, then the end.
    pub fn on_completed(&self) {
        self.hub.complete();
    }

    /// The observable side: each subscription gets the replay, then what
    /// follows.
    pub fn observable(&self) -> Observable<T> {
        let hub = self.hub.clone();
        Observable::new(move |subscriber| {
            let mut state = hub.lock();
            state.extra.trim();
            // Taken under the lock, so what follows comes after.
            let replay: Vec<_> = state
                .extra
                .items
                .iter()
                .map(|(_, value)| Notification::Next(value.clone()))
                .collect();
            if let Some(end) = state.end() {
                drop(state);
                replay_and_end(subscriber, replay, end);
                return;
            }
            attach(&hub, state, subscriber, replay);
        })
    }

    /// Whether any observer is subscribed.
    pub fn has_observers(&self) -> bool {
        self.hub.lock().observer_count() != 0
    }
}

impl<T: Clone + Send + 'static> Default for ReplaySubject<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Send + 'static> Observer<T> for ReplaySubject<T> {
    fn on_next(&mut self, value: T) {
        ReplaySubject::on_next(self, value);
    }
    fn on_error(&mut self, error: Error) {
        ReplaySubject::on_error(self, error);
    }
    fn on_completed(&mut self) {
        ReplaySubject::on_completed(self);
    }
}

impl<T> fmt::Debug for ReplaySubject<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplaySubject").finish_non_exhaustive()
    }
}
