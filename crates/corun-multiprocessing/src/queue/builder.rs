//! [`QueueBuilder`]: `maxsize` and the ring's first size for a new
//! [`Queue`](super::Queue) or [`JoinableQueue`](super::JoinableQueue).

use std::fmt;
use std::marker::PhantomData;

use super::DEFAULT_RING_SIZE;

/// Options for a new queue of type `Q`, from
/// [`Queue::builder`](super::Queue::builder) or
/// [`JoinableQueue::builder`](super::JoinableQueue::builder).
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::Queue;
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     // At most 100 items, in a ring of 4 KiB that grows when they need more.
///     let q: Queue<String> = Queue::builder().maxsize(100).ring_size(4096).build()?;
///     assert_eq!(q.maxsize(), 100);
///     q.put("x".repeat(5000)).unwrap();
///     assert_eq!(q.get().unwrap().len(), 5000);
///     Ok(())
/// }
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct QueueBuilder<Q> {
    pub(super) maxsize: usize,
    pub(super) ring_size: usize,
    _queue: PhantomData<fn() -> Q>,
}

impl<Q> QueueBuilder<Q> {
    pub(super) fn new() -> Self {
        Self {
            maxsize: 0,
            ring_size: DEFAULT_RING_SIZE,
            _queue: PhantomData,
        }
    }

    /// The most items the queue holds, whatever their size: a put waits
    /// while it holds that many. 0 (the default) means no limit, as in
    /// Python.
    pub fn maxsize(mut self, maxsize: usize) -> Self {
        self.maxsize = maxsize;
        self
    }

    /// The size in bytes the ring that holds the serialised items starts
    /// at (rounded up to a multiple of 8; at least 16), by default
    /// [`DEFAULT_RING_SIZE`]. The memory is reserved, not touched: pages
    /// are only used once written.
    ///
    /// The ring is not a limit. A put that finds no room grows it, inside
    /// the queue's own segment, to twice its size or more — enough for an
    /// item of any size — and the memory it grew into goes back to the
    /// system as soon as the queue is empty. Only a full `/dev/shm` stops
    /// a put, with [`PutError::Failed`](super::PutError::Failed). A
    /// larger first ring saves the growing of a queue that often holds
    /// many bytes.
    pub fn ring_size(mut self, bytes: usize) -> Self {
        self.ring_size = bytes;
        self
    }
}

impl<Q> fmt::Debug for QueueBuilder<Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueBuilder")
            .field("maxsize", &self.maxsize)
            .field("ring_size", &self.ring_size)
            .finish()
    }
}
