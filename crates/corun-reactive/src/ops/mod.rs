//! Operators, as functions for [`Observable::pipe`](crate::Observable::pipe) and [`pipe!`](crate::pipe)
//! (RxPY: `reactivex.operators`, imported `as ops`). Each is also a
//! method of [`Observable`](crate::Observable): `obs.pipe(op::map(f))` is `obs.map(f)`.
//!
//! An operator is a function from an observable to what it makes (usually
//! another observable), so any `FnOnce(Observable<T>) -> R` is one, and
//! users write their own the same way.
//!
//! # How an operator is built
//!
//! Each lives in a file of its own, `src/ops/<name>.rs`, with:
//!
//! 1. the method, in an `impl<T: Send + 'static> Observable<T>` block of
//!    its own (Rust allows one per file). A simple operator is an
//!    [`Observer`](crate::Observer) of the source that holds the
//!    downstream [`Subscriber`](crate::Subscriber), given to
//!    [`Observable::lift`](crate::Observable::lift), which subscribes it on the same subscription;
//!    per-subscription state (a count, an accumulator) lives in that
//!    observer, shared configuration (the user's closure) in an `Arc`;
//! 2. the `pipe` function of the same name, `move |source| source.name(..)`;
//! 3. one line in this file: `mod name; pub use name::name;`.
//!
//! Operators that subscribe to other sources (`merge`, `flat_map`) or to
//! the source several times (`retry`) subscribe with
//! [`Observable::subscribe_observer`](crate::Observable::subscribe_observer) / [`Subscriber::new`](crate::Subscriber::new)
//! (a subscription of their own per source, added to the downstream's with
//! [`Subscription::add_subscription`](crate::Subscription::add_subscription)
//! and removed when it ends), and share the downstream across them as a
//! [`SharedSubscriber`](crate::SharedSubscriber), which serialises.
//! Operators in time take a [`Scheduler`](crate::Scheduler) by value.
//!
//! The contract needs nothing from the operator: its downstream
//! `Subscriber` drops anything after the end or after disposal, and a
//! panic in its callback becomes that subscription's error.

mod buffer_with_count;
mod buffer_with_time;
mod catch;
pub(crate) mod combine_latest;
pub(crate) mod concat;
mod concat_map;
mod debounce;
mod delay;
mod distinct_until_changed;
mod filter;
mod finally_action;
mod first;
mod flat_map;
mod gate;
mod last;
mod map;
pub(crate) mod merge;
mod observe_on;
mod reduce;
mod retry;
mod sample;
mod scan;
mod share;
mod share_replay;
mod skip;
mod start_with;
mod subscribe_on;
mod switch_map;
mod take;
mod take_until;
mod take_while;
mod tap;
mod throttle_first;
mod timeout;
mod window;
mod window_with_count;
mod window_with_time;

pub use buffer_with_count::{buffer_with_count, buffer_with_count_skip};
pub use buffer_with_time::{buffer_with_time, buffer_with_time_shift};
pub use debounce::debounce;
pub use delay::delay;
pub use distinct_until_changed::{
    distinct_until_changed, distinct_until_changed_by, distinct_until_changed_by_key,
};
mod with_latest_from;
pub(crate) mod zip;

pub use catch::{catch, catch_with};
pub use combine_latest::combine_latest;
pub use concat::concat;
pub use concat_map::{concat_all, concat_map};
pub use filter::filter;
pub use finally_action::finally_action;
pub use first::first;
pub use flat_map::{flat_map, merge_all};
pub use last::last;
pub use map::map;
pub use merge::merge;
pub use observe_on::observe_on;
pub use reduce::reduce;
pub use retry::{retry, retry_forever};
pub use sample::{sample, sample_with};
pub use scan::scan;
pub use share::share;
pub use share_replay::share_replay;
pub use skip::skip;
pub use start_with::start_with;
pub use subscribe_on::subscribe_on;
pub use switch_map::{switch_latest, switch_map};
pub use take::take;
pub use take_until::take_until;
pub use take_while::{take_while, take_while_inclusive};
pub use tap::tap;
pub use throttle_first::throttle_first;
pub use timeout::{timeout, timeout_with};
pub use window::window;
pub use window_with_count::{window_with_count, window_with_count_skip};
pub use window_with_time::{window_with_time, window_with_time_shift};
pub use with_latest_from::with_latest_from;
pub use zip::zip;
