//! Operators, as functions for [`Observable::pipe`] and [`pipe!`](crate::pipe)
//! (RxPY: `reactivex.operators`, imported `as ops`). Each is also a
//! method of [`Observable`]: `obs.pipe(op::map(f))` is `obs.map(f)`.
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
//!    [`Observable::lift`], which subscribes it on the same subscription;
//!    per-subscription state (a count, an accumulator) lives in that
//!    observer, shared configuration (the user's closure) in an `Arc`;
//! 2. the `pipe` function of the same name, `move |source| source.name(..)`;
//! 3. one line in this file: `mod name; pub use name::name;`.
//!
//! Operators that subscribe to other sources (`merge`, `flat_map`) or to
//! the source several times (`retry`) subscribe with
//! [`Observable::subscribe_observer`] / [`Subscriber::new`](crate::Subscriber::new)
//! (a subscription of their own per source, added to the downstream's with
//! [`Subscription::add_subscription`](crate::Subscription::add_subscription)
//! and removed when it ends), and share the downstream across them as a
//! [`SharedSubscriber`](crate::SharedSubscriber), which serialises.
//! Operators in time take a [`Scheduler`](crate::Scheduler) by value.
//!
//! The contract needs nothing from the operator: its downstream
//! `Subscriber` drops anything after the end or after disposal, and a
//! panic in its callback becomes that subscription's error.

mod catch;
pub(crate) mod combine_latest;
pub(crate) mod concat;
mod concat_map;
mod filter;
mod first;
mod flat_map;
mod last;
mod map;
pub(crate) mod merge;
mod reduce;
mod retry;
mod scan;
mod share;
mod share_replay;
mod skip;
mod switch_map;
mod take;
mod tap;
mod with_latest_from;
pub(crate) mod zip;

pub use catch::{catch, catch_with};
pub use combine_latest::combine_latest;
pub use concat::concat;
pub use concat_map::{concat_all, concat_map};
pub use filter::filter;
pub use first::first;
pub use flat_map::{flat_map, merge_all};
pub use last::last;
pub use map::map;
pub use merge::merge;
pub use reduce::reduce;
pub use retry::{retry, retry_forever};
pub use scan::scan;
pub use share::share;
pub use share_replay::share_replay;
pub use skip::skip;
pub use switch_map::{switch_latest, switch_map};
pub use take::take;
pub use tap::tap;
pub use with_latest_from::with_latest_from;
pub use zip::zip;
