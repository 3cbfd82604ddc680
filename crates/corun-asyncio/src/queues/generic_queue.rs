//! [`GenericQueue`]: the one public type behind `Queue`, `LifoQueue` and
//! `PriorityQueue`, generic over the order its storage keeps items in, as
//! Python's `asyncio.LifoQueue` and `PriorityQueue` subclass `Queue` and
//! override only its storage hooks.
//!
//! State, all in one `RefCell` (one loop, one thread):
//!
//! | field        | meaning                                                   |
//! |--------------|-----------------------------------------------------------|
//! | `items`      | the storage                                               |
//! | `getters`    | tasks waiting in `get` for an item, in arrival order      |
//! | `putters`    | tasks waiting in `put` for room, in arrival order         |
//! | `joiners`    | tasks waiting in `join`                                   |
//! | `unfinished` | items put − `task_done` calls − items an immediate shutdown dropped |
//! | `shutdown`   | set by `shutdown`, never cleared                          |
//!
//! A put wakes the oldest getter and a get the oldest putter (Python's
//! `_wakeup_next`). As in Python a woken task takes its turn when it runs,
//! and a task that comes first meanwhile may take the item or the room; a
//! woken task that finds it gone waits again at the *front* of the line
//! (Python sends it to the back).

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use corun_core::{Error, ErrorKind};
use corun_threading::queue::{GetError, PutError};

use super::futures::{QueueGet, QueueJoin, QueuePut};
use super::storage::{Storage, Store};
use crate::waiters::WaitList;

/// A queue for passing items between the tasks of one event loop, whose
/// storage `S` decides the order items come out in: the type behind
/// [`Queue`](super::Queue) (first in, first out),
/// [`LifoQueue`](super::LifoQueue) (last in, first out) and
/// [`PriorityQueue`](super::PriorityQueue) (smallest first). Optionally
/// bounded, with `task_done` / `join` accounting and Python 3.13's
/// `shutdown` (Python's `asyncio.Queue` and its subclasses).
///
/// Name a queue by one of those aliases; write `GenericQueue` with a
/// [`Storage`] bound for code that works with every order. Its methods,
/// documented here once, are the same for all three, and have the shapes
/// of `corun::queue`'s thread queues: `put` / `get` wait (here: are
/// awaited), `try_put` / `try_get` never wait (Python's `put_nowait` /
/// `get_nowait`), and a put that fails hands the item back in its
/// [`PutError`].
///
/// Not thread-safe (as in Python): share it between the loop's tasks with
/// an `Rc`.
///
/// # Examples
///
/// ```
/// use corun::asyncio::storage::Storage;
/// use corun::asyncio::{GenericQueue, LifoQueue, PriorityQueue, Queue};
///
/// /// Takes the items there are now, in the order the queue hands them out.
/// fn drain<T, S: Storage<T>>(q: &GenericQueue<T, S>) -> Vec<T> {
///     std::iter::from_fn(|| q.try_get().ok()).collect()
/// }
///
/// let (fifo, lifo, priority) = (Queue::new(), LifoQueue::new(), PriorityQueue::new());
/// for i in [2, 3, 1] {
///     fifo.try_put(i).unwrap();
///     lifo.try_put(i).unwrap();
///     priority.try_put(i).unwrap();
/// }
/// assert_eq!(drain(&fifo), [2, 3, 1]);
/// assert_eq!(drain(&lifo), [1, 3, 2]);
/// assert_eq!(drain(&priority), [1, 2, 3]);
/// ```
pub struct GenericQueue<T, S> {
    maxsize: usize,
    pub(super) state: RefCell<State<S>>,
    _item: PhantomData<fn(T) -> T>,
}

pub(super) struct State<S> {
    pub(super) items: S,
    pub(super) getters: WaitList,
    pub(super) putters: WaitList,
    pub(super) joiners: WaitList,
    pub(super) unfinished: usize,
    pub(super) shutdown: bool,
}

impl<T, S: Storage<T>> GenericQueue<T, S> {
    /// A queue holding at most `maxsize` items; 0 means unbounded (Python's
    /// `Queue(maxsize)`, `LifoQueue(maxsize)`, `PriorityQueue(maxsize)`).
    ///
    /// ```
    /// use corun::asyncio::{LifoQueue, PriorityQueue, Queue};
    ///
    /// assert_eq!(Queue::<u8>::with_maxsize(3).maxsize(), 3);
    /// assert_eq!(LifoQueue::<u8>::with_maxsize(3).maxsize(), 3);
    /// assert_eq!(PriorityQueue::<u8>::with_maxsize(3).maxsize(), 3);
    /// ```
    pub fn with_maxsize(maxsize: usize) -> Self {
        Self {
            maxsize,
            state: RefCell::new(State {
                items: S::new(),
                getters: WaitList::default(),
                putters: WaitList::default(),
                joiners: WaitList::default(),
                unfinished: 0,
                shutdown: false,
            }),
            _item: PhantomData,
        }
    }

    /// A new unbounded queue (Python's `maxsize=0`).
    ///
    /// ```
    /// assert_eq!(corun::asyncio::Queue::<u8>::new().maxsize(), 0);
    /// ```
    pub fn new() -> Self {
        Self::with_maxsize(0)
    }

    /// Puts an item, waiting while the queue is full (Python's
    /// `await queue.put(item)`).
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] with the item once the queue is shut down;
    /// a waiting put wakes up with it. Dropping the future (its task
    /// cancelled) drops the item, and room it was woken for goes to the
    /// next waiting put.
    ///
    /// ```
    /// use corun::asyncio::{Queue, run};
    ///
    /// run(async {
    ///     let q = Queue::new();
    ///     q.put(1).await.unwrap();
    ///     assert_eq!(q.qsize(), 1);
    /// })
    /// .unwrap();
    /// ```
    pub fn put(&self, item: T) -> QueuePut<'_, T, S> {
        QueuePut::new(self, item)
    }

    /// Puts an item if there is room now (Python's `put_nowait`).
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] (Python: `QueueFull`) or [`PutError::ShutDown`]
    /// (Python: `QueueShutDown`), with the item.
    ///
    /// ```
    /// let q = corun::asyncio::Queue::with_maxsize(1);
    /// q.try_put(1).unwrap();
    /// assert!(q.try_put(2).unwrap_err().is_full());
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.state.borrow_mut().put(self.maxsize, item)
    }

    /// Takes an item, waiting while the queue is empty (Python's
    /// `await queue.get()`).
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once the queue is shut down and has no items
    /// left (at once after an immediate shutdown). Dropping the future
    /// (its task cancelled) passes an item it was woken for to the next
    /// waiting get, so no item is lost.
    ///
    /// ```
    /// use corun::asyncio::{Queue, run};
    ///
    /// run(async {
    ///     let q = Queue::new();
    ///     q.try_put(5).unwrap();
    ///     assert_eq!(q.get().await, Ok(5));
    /// })
    /// .unwrap();
    /// ```
    pub fn get(&self) -> QueueGet<'_, T, S> {
        QueueGet::new(self)
    }

    /// Takes an item if one is there now (Python's `get_nowait`).
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] (Python: `QueueEmpty`) or [`GetError::ShutDown`]
    /// (Python: `QueueShutDown`).
    ///
    /// ```
    /// use corun::asyncio::{GetError, Queue};
    ///
    /// assert_eq!(Queue::<u8>::new().try_get(), Err(GetError::Empty));
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.state.borrow_mut().get()
    }

    /// Marks one item taken with `get` as processed (Python's
    /// `task_done`); [`join`](Self::join) returns when every put item is.
    ///
    /// # Errors
    ///
    /// [`Error::is_task_done_too_many`] when called more times than items
    /// were put (Python: `ValueError`); the count is left unchanged.
    ///
    /// ```
    /// let q = corun::asyncio::Queue::new();
    /// q.try_put(1).unwrap();
    /// q.try_get().unwrap();
    /// q.task_done().unwrap();
    /// assert!(q.task_done().unwrap_err().is_task_done_too_many());
    /// ```
    pub fn task_done(&self) -> Result<(), Error> {
        let mut state = self.state.borrow_mut();
        if state.unfinished == 0 {
            return Err(Error::from(ErrorKind::TaskDoneTooMany));
        }
        state.unfinished -= 1;
        if state.unfinished == 0 {
            state.joiners.notify_all();
        }
        Ok(())
    }

    /// Waits until every item put has been marked done with
    /// [`task_done`](Self::task_done) (Python's `await queue.join()`). An
    /// immediate shutdown counts the items it drops as done.
    ///
    /// ```
    /// use corun::asyncio::{Queue, create_task, run};
    /// use std::rc::Rc;
    ///
    /// run(async {
    ///     let q = Rc::new(Queue::new());
    ///     for i in 0..3 {
    ///         q.try_put(i).unwrap();
    ///     }
    ///     let worker = {
    ///         let q = Rc::clone(&q);
    ///         create_task(async move {
    ///             while let Ok(_) = q.get().await {
    ///                 q.task_done().unwrap();
    ///             }
    ///         })
    ///     };
    ///     q.join().await;
    ///     assert_eq!(q.unfinished_tasks(), 0);
    ///     q.shutdown(false);
    ///     worker.await.unwrap();
    /// })
    /// .unwrap();
    /// ```
    pub fn join(&self) -> QueueJoin<'_, T, S> {
        QueueJoin::new(self)
    }

    /// Shuts the queue down (Python 3.13's `shutdown`). Afterwards `put`
    /// fails, handing its item back, and `get` drains what is left and
    /// then fails. With `immediate`, the remaining items are dropped at
    /// once, counted as done (which releases `join`), and `get` fails
    /// right away. Every waiting `put` and `get` wakes up.
    ///
    /// ```
    /// use corun::asyncio::{GetError, Queue};
    ///
    /// let q = Queue::new();
    /// q.try_put(1).unwrap();
    /// q.shutdown(false);
    /// assert!(q.try_put(2).unwrap_err().is_shutdown());
    /// assert_eq!(q.try_get(), Ok(1));
    /// assert_eq!(q.try_get(), Err(GetError::ShutDown));
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        let dropped = {
            let mut state = self.state.borrow_mut();
            state.shutdown = true;
            let dropped = if immediate {
                let dropped = state.items.take_all();
                state.unfinished = state.unfinished.saturating_sub(dropped.len());
                if state.unfinished == 0 {
                    state.joiners.notify_all();
                }
                dropped
            } else {
                Vec::new()
            };
            state.getters.notify_all();
            state.putters.notify_all();
            dropped
        };
        // Items' destructors run with the queue's state released.
        drop(dropped);
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    ///
    /// ```
    /// let q = corun::asyncio::Queue::<u8>::new();
    /// q.shutdown(true);
    /// assert!(q.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.state.borrow().shutdown
    }

    /// The number of items in the queue (Python's `qsize()`).
    ///
    /// ```
    /// let q = corun::asyncio::Queue::new();
    /// q.try_put(1).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.state.borrow().items.len()
    }

    /// Whether the queue is empty (Python's `empty()`).
    ///
    /// ```
    /// assert!(corun::asyncio::Queue::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether the queue is full (Python's `full()`); never for an
    /// unbounded queue.
    ///
    /// ```
    /// let q = corun::asyncio::Queue::with_maxsize(1);
    /// q.try_put(1).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.state.borrow().is_full(self.maxsize)
    }

    /// The bound given at construction; 0 means unbounded (Python's
    /// `maxsize`).
    ///
    /// ```
    /// assert_eq!(corun::asyncio::Queue::<u8>::with_maxsize(8).maxsize(), 8);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// Items put and not yet marked done (Python's `_unfinished_tasks`).
    ///
    /// ```
    /// let q = corun::asyncio::Queue::new();
    /// q.try_put('a').unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.state.borrow().unfinished
    }
}

impl<S> State<S> {
    #[inline]
    pub(super) fn is_full<T>(&self, maxsize: usize) -> bool
    where
        S: Store<T>,
    {
        maxsize != 0 && self.items.len() >= maxsize
    }

    /// Python's `put_nowait`.
    #[inline]
    pub(super) fn put<T>(&mut self, maxsize: usize, item: T) -> Result<(), PutError<T>>
    where
        S: Store<T>,
    {
        if self.shutdown {
            return Err(PutError::ShutDown(item));
        }
        if self.is_full(maxsize) {
            return Err(PutError::Full(item));
        }
        self.items.push(item);
        self.unfinished += 1;
        self.getters.notify_one();
        Ok(())
    }

    /// Python's `get_nowait`.
    #[inline]
    pub(super) fn get<T>(&mut self) -> Result<T, GetError>
    where
        S: Store<T>,
    {
        match self.items.pop() {
            Some(item) => {
                self.putters.notify_one();
                Ok(item)
            }
            None if self.shutdown => Err(GetError::ShutDown),
            None => Err(GetError::Empty),
        }
    }
}

impl<T, S: Storage<T>> Default for GenericQueue<T, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, S: Storage<T>> fmt::Debug for GenericQueue<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize)
            .field("qsize", &state.items.len())
            .field("getters", &state.getters.len())
            .field("putters", &state.putters.len())
            .field("unfinished", &state.unfinished)
            .field("shutdown", &state.shutdown)
            .finish()
    }
}
