//! RxPY's reactive streams in Rust: observables, operators, subjects and
//! schedulers, on corun's thread pool and event loop.
//!
//! | RxPY (`reactivex`)                                  | corun                                      |
//! |-----------------------------------------------------|--------------------------------------------|
//! | `Observable`, `subscribe(on_next, on_error, on_completed)` | [`Observable`], [`subscribe`](Observable::subscribe), [`subscribe_all`](Observable::subscribe_all), [`subscribe_observer`](Observable::subscribe_observer) |
//! | `Observer`                                          | [`Observer`] (trait), [`FnObserver`]       |
//! | `Disposable`, `CompositeDisposable`, `SerialDisposable` | [`Subscription`] (explicit `dispose`; [`guard`](Subscription::guard) for on-drop), [`SerialSubscription`] |
//! | (`AutoDetachObserver`, `synchronize`)               | [`Subscriber`], [`SharedSubscriber`]       |
//! | `OnNext`, `OnError`, `OnCompleted`                  | [`Notification`]                           |
//! | `reactivex.create`, `of`, `from_iterable`, `range`  | [`create`], [`of`], [`from_iter`], [`range`] |
//! | `empty`, `never`, `throw`, `defer`                  | [`empty`], [`never()`], [`throw`], [`defer`] |
//! | `interval(period)`, `timer(duetime, period)`        | [`interval`], [`timer`], [`timer_periodic`] (with a scheduler) |
//! | `from_future(future)`                               | [`from_future`] (any `Future`), [`from_task`] (a running task) |
//! | (async iteration)                                   | [`from_stream`], [`Observable::to_stream`] with [`Overflow`] |
//! | `await observable`, `run()`, `to_list()`            | [`Observable::to_future`], [`Observable::run`], [`Observable::to_vec`] |
//! | `source.pipe(ops.map(f), ops.filter(p))`            | [`Observable::pipe`], [`pipe!`], [`op`]; or `source.map(f).filter(p)` |
//! | `ops.map`, `filter`, `do_action`, `scan`, `reduce`, `take`, `skip`, `first`, `last` | the methods of those names (`tap` for `do_action`) |
//! | `ops.take_until`, `take_while(p, inclusive)`, `distinct_until_changed(key, comparer)`, `start_with`, `finally_action` | the methods of those names; `take_while_inclusive`, `distinct_until_changed_by_key`, `distinct_until_changed_by` |
//! | `ops.buffer_with_count(count, skip)`, `window_with_count`, `window(boundaries)` | [`buffer_with_count`](Observable::buffer_with_count) / `_skip`, [`window_with_count`](Observable::window_with_count) / `_skip`, [`window`](Observable::window) |
//! | `ops.debounce`, `throttle_first`, `sample`, `delay`, `timeout(duetime, other)` (scheduler defaults to `TimeoutScheduler`) | the methods of those names, with a scheduler always given; [`sample_with`](Observable::sample_with), [`timeout_with`](Observable::timeout_with) |
//! | `ops.buffer_with_time(timespan, timeshift)`, `window_with_time` | [`buffer_with_time`](Observable::buffer_with_time) / `_shift`, [`window_with_time`](Observable::window_with_time) / `_shift` |
//! | `ops.observe_on(scheduler)`, `subscribe_on(scheduler)` | [`observe_on`](Observable::observe_on), [`subscribe_on`](Observable::subscribe_on) |
//! | `ops.flat_map`, `merge_all`, `concat_map`, `concat_all`, `switch_map`, `switch_latest` | the methods of those names (and [`op`] functions) |
//! | `reactivex.merge`, `concat`, `zip`, `combine_latest` (`*sources`); `ops.merge(other)` … | [`merge`], [`concat()`], [`zip`], [`combine_latest`] (rows as `Vec`); the methods with one other source (pairs) |
//! | `ops.with_latest_from`, `ops.catch(second)` / `ops.catch(handler)`, `ops.retry(n)` / `retry()` | [`with_latest_from`](Observable::with_latest_from), [`catch`](Observable::catch) / [`catch_with`](Observable::catch_with), [`retry`](Observable::retry) / [`retry_forever`](Observable::retry_forever) |
//! | `ops.share()` (`publish` + `ref_count`), `replay(n)` + `ref_count()` (RxJS `shareReplay`) | [`share`](Observable::share), [`share_replay`](Observable::share_replay) |
//! | `Subject`, `BehaviorSubject`, `ReplaySubject`, `AsyncSubject` | [`Subject`], [`BehaviorSubject`], [`ReplaySubject`], [`AsyncSubject`] |
//! | `ImmediateScheduler`, `CurrentThreadScheduler`, `NewThreadScheduler` | [`ImmediateScheduler`], [`CurrentThreadScheduler`], [`NewThreadScheduler`] |
//! | `ThreadPoolScheduler`                               | [`ThreadPoolScheduler`] (a `corun::concurrent::ThreadPoolExecutor`) |
//! | `AsyncIOScheduler`, `AsyncIOThreadSafeScheduler`    | [`EventLoopScheduler`] (a `corun::asyncio` loop) |
//! | `reactivex.testing.TestScheduler`, `ReactiveTest`   | [`TestScheduler`], [`on_next()`], [`on_error()`], [`on_completed()`], [`SubscriptionLog`] |
//! | `SequenceContainsNoElementsError`                   | [`ErrorKind::Empty`]                       |
//!
//! # The contract, by construction
//!
//! A producer emits into a [`Subscriber`], which delivers `on_next*` then
//! at most one of `on_error` / `on_completed`, drops anything after the
//! end or after the subscription is disposed, and disposes the
//! subscription at the end (running its teardown). Its methods take
//! `&mut self` and it is not `Clone`, so calls cannot overlap; producers
//! on several threads share it as a [`SharedSubscriber`], which
//! serialises (a queue drained by whichever caller holds it: no call
//! blocks on another's observer, re-entrant calls are queued, not
//! nested). The same-thread path takes no lock and allocates nothing per
//! element.
//!
//! A panic in an operator's callback (a `map` function, a `filter`
//! predicate) fails that subscription only, with a
//! [`Panicked`](ErrorKind::Panicked) error delivered as `on_error`; the
//! source stops, and other subscriptions go on.
//!
//! # Threads
//!
//! [`Observable<T>`] is `Send + Sync` and elements are `T: Send +
//! 'static`: any subscription may be moved to the thread pool or the
//! event loop by a scheduler. Subjects are `Send + Sync`.
//!
//! ```
//! use corun::reactive::{Subject, range};
//! use std::sync::{Arc, Mutex};
//!
//! // A cold pipeline: each subscription runs it anew.
//! let averages = range(1, 7)
//!     .map(|x| x as f64)
//!     .scan((0.0, 0), |(sum, n), x| (sum + x, n + 1))
//!     .map(|(sum, n)| sum / n as f64);
//! assert_eq!(averages.last().run().unwrap(), 3.5);
//!
//! // A hot one: a subject multicasts what it is given.
//! let readings = Subject::new();
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let s = seen.clone();
//! readings.observable().filter(|t: &i32| *t > 20).subscribe(move |t| s.lock().unwrap().push(t));
//! for t in [18, 21, 25, 19] {
//!     readings.on_next(t);
//! }
//! assert_eq!(*seen.lock().unwrap(), [21, 25]);
//! ```

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod bridge;
mod create;
mod notification;
mod observable;
mod observer;
#[path = "ops/mod.rs"]
pub mod op;
mod scheduler;
mod subject;
mod subscriber;
mod subscription;
mod time;

pub use bridge::{LastValue, ObservableStream, Overflow, from_future, from_stream, from_task};
pub use corun_core::{Error, ErrorKind};
pub use create::{create, defer, empty, from_iter, never, of, range, throw};
pub use notification::Notification;
pub use observable::Observable;
pub use observer::{FnObserver, Observer};
pub use op::combine_latest::combine_latest_sources as combine_latest;
pub use op::concat::concat_sources as concat;
pub use op::merge::merge_sources as merge;
pub use op::zip::zip_sources as zip;
pub use scheduler::{
    Action, CurrentThreadScheduler, EventLoopScheduler, ImmediateScheduler, NewThreadScheduler,
    Recorded, Scheduler, SchedulerRef, SubscriptionLog, TestObservable, TestObserver,
    TestScheduler, ThreadPoolScheduler, on_completed, on_error, on_next,
};
pub use subject::{AsyncSubject, BehaviorSubject, ReplaySubject, Subject};
pub use subscriber::{SharedSubscriber, Subscriber};
pub use subscription::{DisposeGuard, SerialSubscription, Subscription, TeardownKey};
pub use time::{interval, timer, timer_periodic};
