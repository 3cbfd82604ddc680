//! [`SimpleQueue`]: Python's `multiprocessing.SimpleQueue`, an unbounded
//! first-in, first-out queue across processes, without `maxsize`,
//! `task_done` or shutdown.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::DEFAULT_RING_SIZE;
use super::core::{Core, Wait};
use super::state::Variant;
use super::{GetError, PutError};
use corun_core::Error;

/// A first-in, first-out queue shared by processes, with no limit on items
/// (Python's `multiprocessing.SimpleQueue`).
///
/// The same shared ring as [`Queue`](super::Queue), with fewer methods: a
/// put never waits (the ring grows to take any number of items, of any
/// size), and fails only for an item that cannot be serialised or when the
/// system's shared memory is full; a get fails only for an item that does
/// not deserialise. As in Python, a put serialises in the caller and
/// reports its error there.
///
/// # Examples
///
/// ```standalone_crate
/// use corun::multiprocessing::{Process, SimpleQueue};
///
/// fn echo((inbox, outbox): (SimpleQueue<String>, SimpleQueue<String>)) {
///     let word = inbox.get().unwrap();
///     outbox.put(word.to_uppercase()).unwrap();
/// }
///
/// corun::multiprocessing::init();
/// let (inbox, outbox) = (SimpleQueue::new().unwrap(), SimpleQueue::new().unwrap());
/// let p = Process::start(echo, (inbox.clone(), outbox.clone())).unwrap();
/// inbox.put("hello".to_owned()).unwrap();
/// assert_eq!(outbox.get().unwrap(), "HELLO");
/// p.join().unwrap();
/// assert!(inbox.is_empty() && outbox.is_empty());
/// ```
#[derive(Serialize, Deserialize)]
#[serde(transparent, bound = "")]
pub struct SimpleQueue<T> {
    core: Core<T, Simple>,
}

/// The kind of a [`SimpleQueue`]'s segment.
pub(super) enum Simple {}

impl Variant for Simple {
    const KIND: [u8; 8] = *b"squeue\0\0";
}

impl<T: Serialize + DeserializeOwned> SimpleQueue<T> {
    /// A new, empty queue whose ring starts at
    /// [`DEFAULT_RING_SIZE`](super::DEFAULT_RING_SIZE) bytes.
    ///
    /// # Errors
    ///
    /// When the shared-memory segment cannot be created (see
    /// [`SharedMemory::create`](crate::SharedMemory::create)).
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::SimpleQueue::<u8>::new()?;
    ///     assert!(q.is_empty());
    ///     Ok(())
    /// }
    /// ```
    pub fn new() -> Result<Self, Error> {
        Self::with_ring_size(DEFAULT_RING_SIZE)
    }

    /// A new, empty queue whose ring starts at `bytes` bytes (see
    /// [`QueueBuilder::ring_size`](super::QueueBuilder::ring_size)).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::SimpleQueue::with_ring_size(64)?;
    ///     assert_eq!(q.ring_size(), 64);
    ///     q.put(vec![7_u8; 100]).unwrap(); // larger than the ring: it grows
    ///     assert_eq!(q.get().unwrap(), [7; 100]);
    ///     Ok(())
    /// }
    /// ```
    pub fn with_ring_size(bytes: usize) -> Result<Self, Error> {
        Ok(Self {
            core: Core::create(0, bytes)?,
        })
    }

    /// Puts an item, never waiting but for the lock; it returns once the
    /// item is in shared memory.
    ///
    /// # Errors
    ///
    /// With the item: [`PutError::Failed`] (a serialisation error) when it cannot be
    /// serialised (as Python's raises, synchronously);
    /// [`PutError::Failed`] (an `Io` error) when the ring must grow for it and the
    /// system's shared memory has no room.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::SimpleQueue::new()?;
    ///     q.put((1, "one".to_owned())).unwrap();
    ///     assert_eq!(q.get().unwrap(), (1, "one".to_owned()));
    ///     Ok(())
    /// }
    /// ```
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        self.core.put(item, Wait::forever())
    }

    /// Takes the oldest item, waiting while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`GetError::Failed`] (a serialisation error) when the item taken does not deserialise
    /// as `T` (it is gone; the next `get` takes the next).
    pub fn get(&self) -> Result<T, GetError> {
        self.core.get(Wait::forever())
    }

    /// Takes the oldest item if there is one now.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`], or as [`get`](Self::get).
    ///
    /// ```
    /// use corun::multiprocessing::queue::GetError;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::SimpleQueue::<u8>::new()?;
    ///     assert_eq!(q.try_get(), Err(GetError::Empty));
    ///     Ok(())
    /// }
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.core.get(Wait::No)
    }

    /// Takes the oldest item, waiting at most `timeout`; `Duration::MAX`
    /// waits forever.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when nothing came in time, or as
    /// [`get`](Self::get).
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.core.get(Wait::timeout(timeout))
    }

    /// Whether the queue is empty now (Python's `empty()`).
    pub fn is_empty(&self) -> bool {
        self.core.qsize() == 0
    }

    /// The number of items in the queue now (exact, as of the call).
    pub fn qsize(&self) -> usize {
        self.core.qsize()
    }

    /// The size the ring that holds the serialised items starts at, in
    /// bytes; it grows while more are waiting, and comes back to this size
    /// when the queue empties.
    pub fn ring_size(&self) -> usize {
        self.core.ring_size()
    }

    /// The name of the shared-memory segment the queue lives in.
    pub fn name(&self) -> &str {
        self.core.name()
    }
}

impl<T> Clone for SimpleQueue<T> {
    fn clone(&self) -> Self {
        Self {
            core: self.core.clone(),
        }
    }
}

impl<T> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("SimpleQueue");
        self.core.debug_fields(&mut f);
        f.finish()
    }
}
