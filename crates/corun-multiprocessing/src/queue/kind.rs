//! The kinds of [`GenericQueue`]: [`Plain`] for [`Queue`], [`Joinable`]
//! for [`JoinableQueue`], which adds `task_done` and `join` — Python's
//! `JoinableQueue` subclassing its `Queue`, as a type parameter.
//!
//! These types only name a kind in a queue's type; each is also the kind
//! of segment its queues live in, so a handle attaches only to a queue of
//! its own kind.
//!
//! [`GenericQueue`]: super::GenericQueue
//! [`Queue`]: super::Queue
//! [`JoinableQueue`]: super::JoinableQueue

use super::state::Variant;

/// What a [`GenericQueue`](super::GenericQueue) is: [`Plain`] or
/// [`Joinable`].
///
/// The trait is sealed: it can be named in bounds, to write code for both
/// kinds at once, but not implemented outside this crate.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::queue::kind::Kind;
/// use corun::multiprocessing::queue::{GenericQueue, JoinableQueue, Queue};
///
/// fn put_all<K: Kind>(q: &GenericQueue<u32, K>, items: &[u32]) {
///     for &item in items {
///         q.put(item).unwrap();
///     }
/// }
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let (plain, joinable) = (Queue::new()?, JoinableQueue::new()?);
///     put_all(&plain, &[1, 2]);
///     put_all(&joinable, &[1, 2]);
///     assert_eq!((plain.qsize(), joinable.unfinished_tasks()), (2, 2));
///     Ok(())
/// }
/// ```
///
/// Another crate's type cannot be a queue's kind:
///
/// ```compile_fail,E0277
/// enum Mine {}
/// impl corun::multiprocessing::queue::kind::Kind for Mine {}
/// ```
pub trait Kind: sealed::Sealed {}

/// The kind of [`Queue`](super::Queue): put and get, no task accounting
/// (Python's `multiprocessing.Queue`).
///
/// ```
/// use corun::multiprocessing::queue::GenericQueue;
/// use corun::multiprocessing::queue::kind::Plain;
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let q: GenericQueue<u8, Plain> = corun::multiprocessing::Queue::new()?;
///     assert!(q.is_empty());
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub enum Plain {}

/// The kind of [`JoinableQueue`](super::JoinableQueue): a plain queue's
/// methods plus `task_done`, `join` and `join_timeout` (Python's
/// `multiprocessing.JoinableQueue`).
///
/// ```
/// use corun::multiprocessing::queue::GenericQueue;
/// use corun::multiprocessing::queue::kind::Joinable;
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let q: GenericQueue<u8, Joinable> = corun::multiprocessing::JoinableQueue::new()?;
///     assert_eq!(q.unfinished_tasks(), 0);
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub enum Joinable {}

/// What a kind decides, out of reach of other crates.
mod sealed {
    use super::Variant;

    /// A queue kind: its segment's kind (from [`Variant`]) and its name.
    pub trait Sealed: Variant {
        /// The name of its queues' type, for `Debug`.
        const NAME: &'static str;
        /// Whether its `Debug` shows the unfinished tasks (`JoinableQueue`).
        const JOINABLE: bool;
    }
}

impl Kind for Plain {}

impl Kind for Joinable {}

impl Variant for Plain {
    const KIND: [u8; 8] = *b"queue\0\0\0";
}

impl Variant for Joinable {
    const KIND: [u8; 8] = *b"jqueue\0\0";
}

impl sealed::Sealed for Plain {
    const NAME: &'static str = "Queue";
    const JOINABLE: bool = false;
}

impl sealed::Sealed for Joinable {
    const NAME: &'static str = "JoinableQueue";
    const JOINABLE: bool = true;
}
