//! `combine_latest` (RxPY: `reactivex.combine_latest`,
//! `ops.combine_latest`).

use std::sync::Arc;

use corun_core::Error;
use parking_lot::Mutex;

use super::zip::{Either, subscribe_part};
use crate::{Notification, Observable, Observer, SharedSubscriber, Subscriber, empty};

/// The latest of this observable's elements and `other`'s, each time
/// either emits (RxPY: `ops.combine_latest(other)`), for
/// [`pipe`](Observable::pipe); the method is
/// [`Observable::combine_latest`].
pub fn combine_latest<T, U>(
    other: Observable<U>,
) -> impl FnOnce(Observable<T>) -> Observable<(T, U)>
where
    T: Clone + Send + 'static,
    U: Clone + Send + 'static,
{
    move |source| source.combine_latest(&other)
}

/// The latest element of every source, each time any of them emits once
/// all have (RxPY: `reactivex.combine_latest(*sources)`). The output
/// completes when every source has completed, or at once when a source
/// emits while every other one has completed without an element (no row
/// can ever be made); it ends at the first error. No sources: the output
/// completes at once.
///
/// ```
/// use corun::reactive::{combine_latest, of, range};
///
/// // `of([10])` ran to its end first: its latest is paired with each.
/// let rows = combine_latest([of([10]), range(0, 3)]);
/// assert_eq!(rows.to_vec().unwrap(), [vec![10, 0], vec![10, 1], vec![10, 2]]);
/// ```
pub fn combine_latest_sources<T: Clone + Send + 'static>(
    sources: impl IntoIterator<Item = Observable<T>>,
) -> Observable<Vec<T>> {
    let sources: Arc<[Observable<T>]> = sources.into_iter().collect();
    if sources.is_empty() {
        return empty();
    }
    Observable::new(move |down: Subscriber<Vec<T>>| {
        let down = down.into_shared();
        let combine = Arc::new(Combine {
            down: down.clone(),
            state: Mutex::new(State {
                values: sources.iter().map(|_| None).collect(),
                has_all: false,
                done: vec![false; sources.len()],
            }),
        });
        for (index, source) in sources.iter().enumerate() {
            if down.is_closed() {
                return;
            }
            let observer = CombineObserver {
                combine: Arc::clone(&combine),
                index,
            };
            subscribe_part(&down, source, observer);
        }
    })
}

impl<T: Clone + Send + 'static> Observable<T> {
    /// The latest of this observable's elements and of `other`'s, as a
    /// pair, each time either emits once both have (RxPY:
    /// `ops.combine_latest(other)`); the rules of
    /// [`combine_latest`](crate::combine_latest) for many sources.
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, on_completed, on_next};
    ///
    /// let ts = TestScheduler::new();
    /// let celsius = ts.create_hot_observable(vec![on_next(210, 20), on_next(240, 22), on_completed(300)]);
    /// let unit = ts.create_hot_observable(vec![on_next(220, "C"), on_next(230, "K"), on_completed(250)]);
    /// let seen = ts.start(move || celsius.observable().combine_latest(&unit.observable()));
    /// assert_eq!(seen, [
    ///     on_next(220, (20, "C")),
    ///     on_next(230, (20, "K")),
    ///     on_next(240, (22, "K")),
    ///     on_completed(300),
    /// ]);
    /// ```
    pub fn combine_latest<U: Clone + Send + 'static>(
        &self,
        other: &Observable<U>,
    ) -> Observable<(T, U)> {
        combine_latest_sources([self.map(Either::Left), other.map(Either::Right)]).map(Either::pair)
    }
}

struct Combine<T> {
    down: SharedSubscriber<Vec<T>>,
    state: Mutex<State<T>>,
}

struct State<T> {
    values: Vec<Option<T>>,
    has_all: bool,
    done: Vec<bool>,
}

struct CombineObserver<T> {
    combine: Arc<Combine<T>>,
    index: usize,
}

impl<T: Clone + Send + 'static> Observer<T> for CombineObserver<T> {
    fn on_next(&mut self, value: T) {
        {
            let mut state = self.combine.state.lock();
            state.values[self.index] = Some(value);
            if !state.has_all {
                state.has_all = state.values.iter().all(Option::is_some);
            }
            if state.has_all {
                let row = state.values.iter().flatten().cloned().collect();
                // Queued under the lock: rows leave in the order made.
                self.combine.down.enqueue(Notification::Next(row));
            } else if state
                .done
                .iter()
                .enumerate()
                .all(|(i, done)| i == self.index || *done)
            {
                self.combine.down.enqueue(Notification::Completed);
            }
        }
        self.combine.down.flush();
    }
    fn on_error(&mut self, error: Error) {
        self.combine.down.on_error(error);
    }
    fn on_completed(&mut self) {
        {
            let mut state = self.combine.state.lock();
            state.done[self.index] = true;
            if !state.done.iter().all(|done| *done) {
                return;
            }
            self.combine.down.enqueue(Notification::Completed);
        }
        self.combine.down.flush();
    }
}
