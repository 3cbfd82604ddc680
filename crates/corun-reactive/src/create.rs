//! Creation: observables from values, iterators and functions (RxPY:
//! `reactivex.of`, `from_iterable`, `range`, `create`, `defer`, `empty`,
//! `never`, `throw`).

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use corun_core::Error;

use crate::{Observable, Subscriber};

/// The observable whose subscriptions run `producer` (RxPY:
/// `reactivex.create`); the same as [`Observable::new`].
///
/// ```
/// use corun::reactive::create;
///
/// let greetings = create(|mut s| {
///     for name in ["Ann", "Bob"] {
///         s.on_next(format!("hello {name}"));
///     }
///     s.on_completed();
/// });
/// assert_eq!(greetings.to_vec().unwrap(), ["hello Ann", "hello Bob"]);
/// ```
pub fn create<T: Send + 'static>(
    producer: impl Fn(Subscriber<T>) + Send + Sync + 'static,
) -> Observable<T> {
    Observable::new(producer)
}

/// The elements of `items`, then the end (RxPY: `reactivex.of(*items)`).
/// Each subscription gets clones, emitted before `subscribe` returns.
///
/// ```
/// use corun::reactive::of;
///
/// assert_eq!(of(["a", "b"]).to_vec().unwrap(), ["a", "b"]);
/// ```
pub fn of<T: Clone + Send + Sync + 'static>(items: impl Into<Vec<T>>) -> Observable<T> {
    let items: Arc<[T]> = items.into().into();
    Observable::new(move |mut s| {
        for item in items.iter() {
            if s.is_closed() {
                return;
            }
            s.on_next(item.clone());
        }
        s.on_completed();
    })
}

/// The items of `iterable`, then the end (RxPY:
/// `reactivex.from_iterable`). Each subscription iterates a clone of
/// `iterable`, in the subscribing thread, before `subscribe` returns; it
/// stops as soon as the subscription is disposed (an endless iterator
/// under `take` ends).
///
/// ```
/// use corun::reactive::from_iter;
///
/// assert_eq!(from_iter(1..).take(3).to_vec().unwrap(), [1, 2, 3]);
/// ```
pub fn from_iter<I>(iterable: I) -> Observable<I::Item>
where
    I: IntoIterator + Clone + Send + Sync + 'static,
    I::Item: Send + 'static,
{
    Observable::new(move |mut s| {
        for item in iterable.clone() {
            if s.is_closed() {
                return;
            }
            s.on_next(item);
        }
        s.on_completed();
    })
}

/// The numbers from `start` up to `stop`, not including it (RxPY:
/// `reactivex.range(start, stop)`).
///
/// ```
/// use corun::reactive::range;
///
/// assert_eq!(range(1, 4).to_vec().unwrap(), [1, 2, 3]);
/// ```
pub fn range<N>(start: N, stop: N) -> Observable<N>
where
    N: Send + Sync + 'static,
    Range<N>: Iterator<Item = N> + Clone,
{
    from_iter(start..stop)
}

/// The end, at once (RxPY: `reactivex.empty`).
pub fn empty<T: Send + 'static>() -> Observable<T> {
    Observable::new(|mut s| s.on_completed())
}

/// Nothing, ever (RxPY: `reactivex.never`).
pub fn never<T: Send + 'static>() -> Observable<T> {
    Observable::new(|_| {})
}

/// The end with `error`, at once (RxPY: `reactivex.throw`).
pub fn throw<T: Send + 'static>(error: Error) -> Observable<T> {
    Observable::new(move |mut s| s.on_error(error.clone()))
}

/// The observable that `factory` makes anew for each subscription (RxPY:
/// `reactivex.defer`). A panic in `factory` is that subscription's error.
///
/// ```
/// use corun::reactive::{defer, of};
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// let calls = std::sync::Arc::new(AtomicU32::new(0));
/// let c = calls.clone();
/// let fresh = defer(move || of([c.fetch_add(1, Ordering::SeqCst)]));
/// assert_eq!(fresh.to_vec().unwrap(), [0]);
/// assert_eq!(fresh.to_vec().unwrap(), [1]);
/// ```
pub fn defer<T: Send + 'static>(
    factory: impl Fn() -> Observable<T> + Send + Sync + 'static,
) -> Observable<T> {
    Observable::new(
        move |mut s| match catch_unwind(AssertUnwindSafe(&factory)) {
            Ok(observable) => observable.subscribe_subscriber(s),
            Err(payload) => s.on_error(Error::from_panic(&*payload)),
        },
    )
}
