//! The methods [`Queue`](super::Queue) and
//! [`JoinableQueue`](super::JoinableQueue) share, written once.

/// Writes the methods `Queue` and `JoinableQueue` share, with docs and
/// examples naming the type, forwarding to the `core` field.
macro_rules! queue_methods {
    ($ty:ident) => {
        #[doc = concat!("A new, unbounded `", stringify!($ty), "` (Python's `maxsize=0`): a put never waits,")]
        /// and takes an item of any size. Its ring starts at
        /// [`DEFAULT_RING_SIZE`](crate::queue::DEFAULT_RING_SIZE) bytes and
        /// grows as needed (see
        /// [`QueueBuilder::ring_size`](crate::queue::QueueBuilder::ring_size)).
        ///
        /// # Errors
        ///
        /// When the shared-memory segment cannot be created (see
        /// [`SharedMemory::create`](crate::SharedMemory::create)).
        ///
        /// ```
        /// fn main() -> Result<(), corun::Error> {
        ///     corun::multiprocessing::init();
        #[doc = concat!("    let q = corun::multiprocessing::", stringify!($ty), "::<u8>::new()?;")]
        ///     assert_eq!(q.maxsize(), 0);
        ///     Ok(())
        /// }
        /// ```
        pub fn new() -> Result<Self, corun_core::Error> {
            Self::builder().build()
        }

        /// A new queue holding at most `maxsize` items, whatever their size;
        /// 0 means no limit (Python's `Queue(maxsize)`).
        ///
        /// # Errors
        ///
        /// As [`new`](Self::new).
        ///
        /// ```
        /// fn main() -> Result<(), corun::Error> {
        ///     corun::multiprocessing::init();
        #[doc = concat!("    let q = corun::multiprocessing::", stringify!($ty), "::<u8>::with_maxsize(3)?;")]
        ///     assert_eq!(q.maxsize(), 3);
        ///     Ok(())
        /// }
        /// ```
        pub fn with_maxsize(maxsize: usize) -> Result<Self, corun_core::Error> {
            Self::builder().maxsize(maxsize).build()
        }

        /// A builder, to choose the ring's first size as well as `maxsize`.
        ///
        /// ```
        /// fn main() -> Result<(), corun::Error> {
        ///     corun::multiprocessing::init();
        #[doc = concat!("    let q = corun::multiprocessing::", stringify!($ty), "::<Vec<u8>>::builder()")]
        ///         .maxsize(8)
        ///         .ring_size(64 * 1024)
        ///         .build()?;
        ///     assert_eq!((q.maxsize(), q.ring_size()), (8, 64 * 1024));
        ///     Ok(())
        /// }
        /// ```
        pub fn builder() -> crate::queue::QueueBuilder<Self> {
            crate::queue::QueueBuilder::new()
        }

        /// Puts an item, waiting while the queue holds `maxsize` items
        /// (Python's `put`); an unbounded queue never waits. It returns once
        /// the item is in shared memory, where it outlives this process.
        ///
        /// # Errors
        ///
        /// With the item: [`PutError::ShutDown`] once the queue is shut down
        /// (a waiting caller wakes up with it); [`PutError::Failed`] (a serialisation error)
        /// when the item cannot be serialised; [`PutError::Failed`] (an `Io` error) when
        /// the ring must grow for it and the system's shared memory has no
        /// room.
        ///
        /// ```
        /// fn main() -> Result<(), corun::Error> {
        ///     corun::multiprocessing::init();
        #[doc = concat!("    let q = corun::multiprocessing::", stringify!($ty), "::new()?;")]
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
        #[doc = concat!("    let q = corun::multiprocessing::", stringify!($ty), "::with_maxsize(1)?;")]
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
        pub fn put_timeout(&self, item: T, timeout: std::time::Duration) -> Result<(), PutError<T>> {
            self.core.put(item, Wait::timeout(timeout))
        }

        /// Takes the oldest item, waiting while the queue is empty (Python's
        /// `get`).
        ///
        /// # Errors
        ///
        /// [`GetError::ShutDown`] once the queue is shut down and empty;
        /// [`GetError::Failed`] (a serialisation error) when the item taken does not
        /// deserialise as `T` (it is gone; the next `get` takes the next).
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
        #[doc = concat!("    let q = corun::multiprocessing::", stringify!($ty), "::<u8>::new()?;")]
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
        #[doc = concat!("    let q = corun::multiprocessing::", stringify!($ty), "::<u8>::new()?;")]
        ///     assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetError::Empty));
        ///     Ok(())
        /// }
        /// ```
        pub fn get_timeout(&self, timeout: std::time::Duration) -> Result<T, GetError> {
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
        #[doc = concat!("    let q = corun::multiprocessing::", stringify!($ty), "::new()?;")]
        ///     q.put(1).unwrap();
        ///     q.shutdown(false);
        ///     assert!(q.is_shutdown());
        ///     assert!(q.put(2).unwrap_err().is_shutdown());
        ///     assert_eq!(q.get(), Ok(1));
        ///     assert_eq!(q.get(), Err(GetError::ShutDown));
        ///     Ok(())
        /// }
        /// ```
        pub fn shutdown(&self, immediate: bool) {
            self.core.shutdown(immediate);
        }

        /// Whether the queue was shut down.
        pub fn is_shutdown(&self) -> bool {
            self.core.is_shutdown()
        }

        /// The number of items in the queue now: exact (Python's is
        /// approximate, and raises on macOS), though it may change at once.
        ///
        /// ```
        /// fn main() -> Result<(), corun::Error> {
        ///     corun::multiprocessing::init();
        #[doc = concat!("    let q = corun::multiprocessing::", stringify!($ty), "::new()?;")]
        ///     q.put('a').unwrap();
        ///     assert_eq!(q.qsize(), 1);
        ///     assert!(!q.is_empty());
        ///     Ok(())
        /// }
        /// ```
        pub fn qsize(&self) -> usize {
            self.core.qsize()
        }

        /// Whether the queue is empty now (Python's `empty()`).
        pub fn is_empty(&self) -> bool {
            self.core.qsize() == 0
        }

        /// Whether the queue holds `maxsize` items now (Python's `full()`),
        /// when a put would wait; never for an unbounded queue.
        pub fn is_full(&self) -> bool {
            self.core.is_full()
        }

        /// The limit on items given at creation; 0 means none.
        pub fn maxsize(&self) -> usize {
            self.core.maxsize()
        }

        /// The size the ring that holds the serialised items starts at, in
        /// bytes; it grows while more are waiting, and comes back to this
        /// size when the queue empties.
        pub fn ring_size(&self) -> usize {
            self.core.ring_size()
        }

        /// The name of the shared-memory segment the queue lives in.
        pub fn name(&self) -> &str {
            self.core.name()
        }
    };
}

pub(super) use queue_methods;
