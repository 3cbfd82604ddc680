//! `GenericQueue`: the one public type behind the cross-process `Queue`
//! and `JoinableQueue`, generic over its [`kind`](super::kind), as
//! Python's `multiprocessing.JoinableQueue` subclasses its `Queue`.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::builder::QueueBuilder;
use super::core::{Core, Wait};
use super::kind::Kind;
use super::{GetError, PutError};
use corun_core::Error;

/// A first-in, first-out queue shared by processes, of kind `K`: the type
/// behind [`Queue`](super::Queue) ([`Plain`](super::kind::Plain)) and
/// [`JoinableQueue`](super::JoinableQueue)
/// ([`Joinable`](super::kind::Joinable), which adds
/// [`task_done`](Self::task_done) and [`join`](Self::join)).
///
/// Name a queue by one of those aliases; write `GenericQueue` with a
/// [`Kind`] bound for code that works with both. Their shared methods,
/// documented here once, are the same for both; the alias pages tell how
/// the queue behaves beyond Python's.
///
/// Clone it, or pass it to a worker as (part of) an argument, and every
/// copy is the same queue. Every waiting method has a `try_` (never waits)
/// and a `_timeout` variant; a put that fails hands the item back.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::queue::kind::Kind;
/// use corun::multiprocessing::queue::{GenericQueue, JoinableQueue, Queue};
///
/// /// Takes the items there are now, oldest first.
/// fn drain<K: Kind>(q: &GenericQueue<u32, K>) -> Vec<u32> {
///     std::iter::from_fn(|| q.try_get().ok()).collect()
/// }
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let (plain, joinable) = (Queue::new()?, JoinableQueue::new()?);
///     for i in [2, 3, 1] {
///         plain.put(i).unwrap();
///         joinable.put(i).unwrap();
///     }
///     assert_eq!(drain(&plain), [2, 3, 1]);
///     assert_eq!(drain(&joinable), [2, 3, 1]);
///     assert_eq!(joinable.unfinished_tasks(), 3); // taken, not yet done
///     Ok(())
/// }
/// ```
#[derive(Serialize, Deserialize)]
#[serde(transparent, bound = "K: Kind")]
pub struct GenericQueue<T, K> {
    pub(super) core: Core<T, K>,
}

impl<T: Serialize + DeserializeOwned, K: Kind> GenericQueue<T, K> {
    /// A new, unbounded queue (Python's `maxsize=0`): a put never waits,
    /// and takes an item of any size. Its ring starts at
    /// [`DEFAULT_RING_SIZE`](super::DEFAULT_RING_SIZE) bytes and grows as
    /// needed (see [`QueueBuilder::ring_size`]).
    ///
    /// # Errors
    ///
    /// When the shared-memory segment cannot be created (see
    /// [`SharedMemory::create`](crate::SharedMemory::create)).
    ///
    /// ```
    /// use corun::multiprocessing::{JoinableQueue, Queue};
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert_eq!(Queue::<u8>::new()?.maxsize(), 0);
    ///     assert_eq!(JoinableQueue::<u8>::new()?.maxsize(), 0);
    ///     Ok(())
    /// }
    /// ```
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// A new queue holding at most `maxsize` items, whatever their size;
    /// 0 means no limit (Python's `Queue(maxsize)`,
    /// `JoinableQueue(maxsize)`).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// ```
    /// use corun::multiprocessing::{JoinableQueue, Queue};
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert_eq!(Queue::<u8>::with_maxsize(3)?.maxsize(), 3);
    ///     assert_eq!(JoinableQueue::<u8>::with_maxsize(3)?.maxsize(), 3);
    ///     Ok(())
    /// }
    /// ```
    pub fn with_maxsize(maxsize: usize) -> Result<Self, Error> {
        Self::builder().maxsize(maxsize).build()
    }

    /// A builder, to choose the ring's first size as well as `maxsize`.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::<Vec<u8>>::builder()
    ///         .maxsize(8)
    ///         .ring_size(64 * 1024)
    ///         .build()?;
    ///     assert_eq!((q.maxsize(), q.ring_size()), (8, 64 * 1024));
    ///     Ok(())
    /// }
    /// ```
    pub fn builder() -> QueueBuilder<Self> {
        QueueBuilder::new()
    }

    /// Puts an item, waiting while the queue holds `maxsize` items
    /// (Python's `put`); an unbounded queue never waits. It returns once
    /// the item is in shared memory, where it outlives this process.
    ///
    /// # Errors
    ///
    /// With the item: [`PutError::ShutDown`] once the queue is shut down
    /// (a waiting caller wakes up with it); [`PutError::Failed`] (a
    /// serialisation error) when the item cannot be serialised;
    /// [`PutError::Failed`] (an `Io` error) when the ring must grow for it
    /// and the system's shared memory has no room.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::new()?;
    ///     q.put("hello".to_owned()).unwrap();
    ///     assert_eq!(q.get().unwrap(), "hello");
    ///     Ok(())
    /// }
    /// ```
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        self.core.put(item, Wait::forever())
    }

    /// Puts an item if the queue holds fewer than `maxsize` items now
    /// (Python's `put_nowait`).
    ///
    /// # Errors
    ///
    /// [`PutError::Full`], or as [`put`](Self::put); all hand the item
    /// back.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::with_maxsize(1)?;
    ///     q.try_put(1).unwrap();
    ///     assert_eq!(q.try_put(2).unwrap_err().into_inner(), 2);
    ///     Ok(())
    /// }
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.core.put(item, Wait::No)
    }

    /// Puts an item, waiting at most `timeout` for room (Python's
    /// `put(item, timeout=…)`). `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] when no room came in time, or as
    /// [`put`](Self::put); all hand the item back.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::with_maxsize(1)?;
    ///     q.put_timeout(1, Duration::from_millis(1)).unwrap();
    ///     let err = q.put_timeout(2, Duration::from_millis(1)).unwrap_err();
    ///     assert!(err.is_full());
    ///     assert_eq!(err.into_inner(), 2);
    ///     Ok(())
    /// }
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.core.put(item, Wait::timeout(timeout))
    }

    /// Takes the oldest item, waiting while the queue is empty (Python's
    /// `get`).
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once the queue is shut down and empty;
    /// [`GetError::Failed`] (a serialisation error) when the item taken
    /// does not deserialise as `T` (it is gone; the next `get` takes the
    /// next).
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::new()?;
    ///     q.put(1).unwrap();
    ///     q.put(2).unwrap();
    ///     assert_eq!((q.get(), q.get()), (Ok(1), Ok(2)));
    ///     Ok(())
    /// }
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.core.get(Wait::forever())
    }

    /// Takes the oldest item if there is one now (Python's
    /// `get_nowait`).
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
    ///     let q = corun::multiprocessing::Queue::<u8>::new()?;
    ///     assert_eq!(q.try_get(), Err(GetError::Empty));
    ///     Ok(())
    /// }
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.core.get(Wait::No)
    }

    /// Takes the oldest item, waiting at most `timeout` (Python's
    /// `get(timeout=…)`). `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when nothing came in time, or as
    /// [`get`](Self::get).
    ///
    /// ```
    /// use corun::multiprocessing::queue::GetError;
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::<u8>::new()?;
    ///     assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetError::Empty));
    ///     Ok(())
    /// }
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.core.get(Wait::timeout(timeout))
    }

    /// Shuts the queue down, for every process (Python 3.13's
    /// `queue.Queue.shutdown`; `multiprocessing` has none). Afterwards
    /// puts fail, handing their item back, and gets drain what is left,
    /// then fail. With `immediate` the items left are dropped at once
    /// (and counted as done) and gets fail at once. Every waiting caller
    /// wakes up.
    ///
    /// ```
    /// use corun::multiprocessing::queue::GetError;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::new()?;
    ///     q.put(1).unwrap();
    ///     q.shutdown(false);
    ///     assert!(q.put(2).unwrap_err().is_shutdown());
    ///     assert_eq!(q.get(), Ok(1));
    ///     assert_eq!(q.get(), Err(GetError::ShutDown));
    ///     Ok(())
    /// }
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        self.core.shutdown(immediate);
    }

    /// Whether the queue was shut down, by any process.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::<u8>::new()?;
    ///     assert!(!q.is_shutdown());
    ///     q.clone().shutdown(true);
    ///     assert!(q.is_shutdown());
    ///     Ok(())
    /// }
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.core.is_shutdown()
    }

    /// The number of items in the queue now: exact (Python's is
    /// approximate, and raises on macOS), though it may change at once.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::new()?;
    ///     q.put('a').unwrap();
    ///     assert_eq!(q.qsize(), 1);
    ///     Ok(())
    /// }
    /// ```
    pub fn qsize(&self) -> usize {
        self.core.qsize()
    }

    /// Whether the queue is empty now (Python's `empty()`).
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::new()?;
    ///     assert!(q.is_empty());
    ///     q.put('a').unwrap();
    ///     assert!(!q.is_empty());
    ///     Ok(())
    /// }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.core.qsize() == 0
    }

    /// Whether the queue holds `maxsize` items now (Python's `full()`),
    /// when a put would wait; never for an unbounded queue.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::with_maxsize(1)?;
    ///     assert!(!q.is_full());
    ///     q.put('a').unwrap();
    ///     assert!(q.is_full());
    ///     Ok(())
    /// }
    /// ```
    pub fn is_full(&self) -> bool {
        self.core.is_full()
    }

    /// The limit on items given at creation; 0 means none.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::<u8>::with_maxsize(8)?;
    ///     assert_eq!(q.maxsize(), 8);
    ///     Ok(())
    /// }
    /// ```
    pub fn maxsize(&self) -> usize {
        self.core.maxsize()
    }

    /// The size the ring that holds the serialised items starts at, in
    /// bytes; it grows while more are waiting, and comes back to this
    /// size when the queue empties.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::builder().ring_size(4096).build()?;
    ///     q.put(vec![0_u8; 10_000]).unwrap(); // the ring grows for it
    ///     assert_eq!(q.get().unwrap().len(), 10_000);
    ///     assert_eq!(q.ring_size(), 4096);
    ///     Ok(())
    /// }
    /// ```
    pub fn ring_size(&self) -> usize {
        self.core.ring_size()
    }

    /// The name of the shared-memory segment the queue lives in.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::Queue::<u8>::new()?;
    ///     assert!(std::path::Path::new("/dev/shm").join(q.name()).exists());
    ///     Ok(())
    /// }
    /// ```
    pub fn name(&self) -> &str {
        self.core.name()
    }
}

impl<T, K> Clone for GenericQueue<T, K> {
    fn clone(&self) -> Self {
        Self {
            core: self.core.clone(),
        }
    }
}

impl<T, K: Kind> fmt::Debug for GenericQueue<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct(K::NAME);
        self.core.debug_fields(&mut f);
        if K::JOINABLE {
            f.field("unfinished_tasks", &self.core.unfinished_tasks());
        }
        f.finish()
    }
}

impl<T: Serialize + DeserializeOwned, K: Kind> QueueBuilder<GenericQueue<T, K>> {
    /// Creates the queue.
    ///
    /// # Errors
    ///
    /// When the shared-memory segment cannot be created (see
    /// [`SharedMemory::create`](crate::SharedMemory::create)).
    ///
    /// ```
    /// use corun::multiprocessing::{JoinableQueue, Queue};
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q: Queue<u8> = Queue::builder().maxsize(2).build()?;
    ///     let jq: JoinableQueue<u8> = JoinableQueue::builder().maxsize(3).build()?;
    ///     assert_eq!((q.maxsize(), jq.maxsize()), (2, 3));
    ///     Ok(())
    /// }
    /// ```
    pub fn build(self) -> Result<GenericQueue<T, K>, Error> {
        Ok(GenericQueue {
            core: Core::create(self.maxsize, self.ring_size)?,
        })
    }
}
