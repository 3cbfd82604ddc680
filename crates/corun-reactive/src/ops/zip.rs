//! `zip` (RxPY: `reactivex.zip`, `ops.zip`).

use std::collections::VecDeque;
use std::sync::Arc;

use corun_core::Error;
use parking_lot::Mutex;

use crate::{
    Notification, Observable, Observer, SharedSubscriber, Subscriber, Subscription, empty,
};

/// This observable's elements paired with `other`'s, in order (RxPY:
/// `ops.zip(other)`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::zip`].
pub fn zip<T, U>(other: Observable<U>) -> impl FnOnce(Observable<T>) -> Observable<(T, U)>
where
    T: Send + 'static,
    U: Send + 'static,
{
    move |source| source.zip(&other)
}

/// The `n`-th elements of all `sources` together, for each `n` (RxPY:
/// `reactivex.zip(*sources)`): an element waits, queued, until every
/// source has one at its place. The output completes as soon as a source
/// that has completed has nothing queued (no more tuples can be made), and
/// ends at the first error. No sources: the output completes at once.
///
/// ```
/// use corun::reactive::{of, range, zip};
///
/// let rows = zip([range(0, 3), of([10, 20, 30, 40])]);
/// assert_eq!(rows.to_vec().unwrap(), [vec![0, 10], vec![1, 20], vec![2, 30]]);
/// ```
pub fn zip_sources<T: Send + 'static>(
    sources: impl IntoIterator<Item = Observable<T>>,
) -> Observable<Vec<T>> {
    let sources: Arc<[Observable<T>]> = sources.into_iter().collect();
    if sources.is_empty() {
        return empty();
    }
    Observable::new(move |down: Subscriber<Vec<T>>| {
        let down = down.into_shared();
        let zip = Arc::new(Zip {
            down: down.clone(),
            state: Mutex::new(ZipState {
                queues: sources.iter().map(|_| VecDeque::new()).collect(),
                completed: vec![false; sources.len()],
            }),
        });
        for (index, source) in sources.iter().enumerate() {
            if down.is_closed() {
                return;
            }
            let observer = ZipObserver {
                zip: Arc::clone(&zip),
                index,
            };
            subscribe_part(&down, source, observer);
        }
    })
}

/// Subscribes `observer` to `source` on a subscription of its own, a part
/// of `down`'s (disposed with it).
pub(crate) fn subscribe_part<T, U, O>(
    down: &SharedSubscriber<U>,
    source: &Observable<T>,
    observer: O,
) where
    T: Send + 'static,
    U: Send + 'static,
    O: Observer<T>,
{
    let part = Subscription::new();
    down.subscription().add_subscription(part.clone());
    source.subscribe_subscriber(Subscriber::with_subscription(observer, part));
}

/// One of two element types, to run two differently typed sources through
/// an engine for many of one type.
#[derive(Clone)]
pub(crate) enum Either<A, B> {
    Left(A),
    Right(B),
}

impl<A, B> Either<A, B> {
    /// The pair made of a two-element row of `Left` then `Right`.
    pub(crate) fn pair(row: Vec<Self>) -> (A, B) {
        let mut row = row.into_iter();
        match (row.next(), row.next()) {
            (Some(Either::Left(a)), Some(Either::Right(b))) => (a, b),
            _ => unreachable!("a row of two sources is Left then Right"),
        }
    }
}

impl<T: Send + 'static> Observable<T> {
    /// This observable's elements paired with `other`'s, first with first,
    /// second with second (RxPY: `ops.zip(other)`); the rules of
    /// [`zip`](crate::zip) for many sources.
    ///
    /// ```
    /// use corun::reactive::{of, range};
    ///
    /// let pairs = range(1, 10).zip(&of(["a", "b"]));
    /// assert_eq!(pairs.to_vec().unwrap(), [(1, "a"), (2, "b")]);
    /// ```
    pub fn zip<U: Send + 'static>(&self, other: &Observable<U>) -> Observable<(T, U)> {
        zip_sources([self.map(Either::Left), other.map(Either::Right)]).map(Either::pair)
    }
}

struct Zip<T> {
    down: SharedSubscriber<Vec<T>>,
    state: Mutex<ZipState<T>>,
}

struct ZipState<T> {
    queues: Vec<VecDeque<T>>,
    completed: Vec<bool>,
}

impl<T> ZipState<T> {
    /// Whether a source has completed with nothing queued: no more rows.
    fn exhausted(&self) -> bool {
        self.queues
            .iter()
            .zip(&self.completed)
            .any(|(queue, done)| *done && queue.is_empty())
    }
}

struct ZipObserver<T> {
    zip: Arc<Zip<T>>,
    index: usize,
}

impl<T: Send + 'static> Observer<T> for ZipObserver<T> {
    fn on_next(&mut self, value: T) {
        {
            let mut state = self.zip.state.lock();
            state.queues[self.index].push_back(value);
            if state.queues.iter().all(|queue| !queue.is_empty()) {
                let row: Vec<T> = state
                    .queues
                    .iter_mut()
                    .map(|queue| queue.pop_front().expect("not empty"))
                    .collect();
                // Queued under the lock: rows leave in the order made.
                self.zip.down.enqueue(Notification::Next(row));
                if state.exhausted() {
                    self.zip.down.enqueue(Notification::Completed);
                }
            }
        }
        self.zip.down.flush();
    }
    fn on_error(&mut self, error: Error) {
        self.zip.down.on_error(error);
    }
    fn on_completed(&mut self) {
        {
            let mut state = self.zip.state.lock();
            state.completed[self.index] = true;
            if !state.queues[self.index].is_empty() {
                return;
            }
            self.zip.down.enqueue(Notification::Completed);
        }
        self.zip.down.flush();
    }
}
