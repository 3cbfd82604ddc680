//! The loop's thread-safe inbox, and [`LoopHandle`], the `Send` side of a
//! loop that other threads schedule through.
//!
//! Task wakers may fire on any thread (a tokio timer, a channel sent to from
//! a thread pool), so a woken task's runnable lands here first; the loop
//! moves the inbox onto its own ready queue before every local push and at
//! the start of every iteration, so the ready queue stays in the order
//! things were scheduled.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_task::Runnable;
use parking_lot::Mutex;
use tokio::sync::Notify;

use corun_core::{Error, ErrorKind};

/// What other threads (and task wakers) hand the loop.
pub(crate) enum RemoteItem {
    /// A task to poll once more.
    Step(Runnable),
    /// A callback from [`LoopHandle::call_soon_threadsafe`].
    Call(Box<dyn FnOnce() + Send>),
    /// [`LoopHandle::stop`].
    Stop,
}

/// The inbox: a FIFO behind a lock, and the notification that wakes a loop
/// waiting for work.
pub(crate) struct Remote {
    queue: Mutex<Inbox>,
    /// Whether the inbox may hold items: set under the lock by a push,
    /// cleared under it by a drain, so the loop checks for items without
    /// taking the lock (it does before every local push).
    filled: AtomicBool,
    notify: Notify,
}

struct Inbox {
    items: VecDeque<RemoteItem>,
    closed: bool,
}

/// A `Send + Sync` handle to an [`EventLoop`](crate::EventLoop), for other
/// threads: Python's `loop.call_soon_threadsafe` (and `loop.stop` through
/// it).
///
/// # Examples
///
/// ```
/// use corun::asyncio::EventLoop;
///
/// let event_loop = EventLoop::new().unwrap();
/// let handle = event_loop.handle();
/// let (tx, rx) = std::sync::mpsc::channel();
/// std::thread::spawn(move || {
///     handle.call_soon_threadsafe(move || tx.send("on the loop").unwrap()).unwrap();
///     handle.stop();
/// });
/// event_loop.run_forever().unwrap(); // waits until the thread's stop
/// assert_eq!(rx.recv().unwrap(), "on the loop");
/// ```
#[derive(Clone)]
pub struct LoopHandle {
    pub(crate) remote: Arc<Remote>,
}

impl Remote {
    pub(crate) fn new() -> Self {
        Self {
            queue: Mutex::new(Inbox {
                items: VecDeque::new(),
                closed: false,
            }),
            filled: AtomicBool::new(false),
            notify: Notify::new(),
        }
    }

    /// Queues `item` and wakes the loop. Task steps are queued even after
    /// close (a closed loop has closed its tasks, so none comes then).
    pub(crate) fn push(&self, item: RemoteItem) -> Result<(), Error> {
        {
            let mut inbox = self.queue.lock();
            if inbox.closed && !matches!(item, RemoteItem::Step(_)) {
                return Err(closed());
            }
            inbox.items.push_back(item);
            self.filled.store(true, Ordering::Release);
        }
        self.notify.notify_one();
        Ok(())
    }

    /// Takes everything queued so far, oldest first.
    pub(crate) fn drain(&self, into: &mut impl FnMut(RemoteItem)) {
        let items = {
            let mut inbox = self.queue.lock();
            self.filled.store(false, Ordering::Relaxed);
            std::mem::take(&mut inbox.items)
        };
        items.into_iter().for_each(into);
    }

    /// Whether nothing is queued. An item another thread is pushing
    /// right now may not be seen; one pushed earlier by this thread is.
    pub(crate) fn is_empty(&self) -> bool {
        !self.filled.load(Ordering::Acquire)
    }

    /// Refuses further callbacks.
    pub(crate) fn close(&self) {
        self.queue.lock().closed = true;
    }

    /// Whether the loop was closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.queue.lock().closed
    }

    /// Completes when something is pushed (or was since the last wait).
    pub(crate) async fn notified(&self) {
        self.notify.notified().await;
    }
}

/// The error for scheduling onto a closed loop.
pub(crate) fn closed() -> Error {
    Error::new(
        ErrorKind::ShutDown,
        "cannot schedule new work: the event loop is closed",
    )
}

impl LoopHandle {
    /// Schedules `callback` to run on the loop's thread, in a later
    /// iteration, after what is already scheduled; wakes the loop if it
    /// waits (Python: `loop.call_soon_threadsafe(callback)`).
    ///
    /// A callback that panics is reported to the loop's exception handler,
    /// and the loop goes on.
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let handle = event_loop.handle();
    /// let seen = std::rc::Rc::new(std::cell::Cell::new(0));
    /// let (tx, rx) = std::sync::mpsc::channel::<i32>();
    /// let worker = std::thread::spawn(move || {
    ///     let n = rx.recv().unwrap(); // after the loop is running
    ///     handle.call_soon_threadsafe(move || println!("from the thread: {n}")).unwrap();
    ///     handle.stop();
    /// });
    /// let s = seen.clone();
    /// event_loop.call_soon(move || {
    ///     s.set(1);
    ///     tx.send(42).unwrap();
    /// });
    /// event_loop.run_forever().unwrap(); // waits for the thread's callback and stop
    /// worker.join().unwrap();
    /// assert_eq!(seen.get(), 1);
    /// ```
    ///
    /// # Errors
    ///
    /// [`ShutDown`](corun_core::ErrorKind::ShutDown) when the loop is
    /// closed; the callback is dropped.
    pub fn call_soon_threadsafe(
        &self,
        callback: impl FnOnce() + Send + 'static,
    ) -> Result<(), Error> {
        self.remote.push(RemoteItem::Call(Box::new(callback)))
    }

    /// Stops the loop after the iteration that sees this request (Python:
    /// `loop.call_soon_threadsafe(loop.stop)`). Does nothing to a closed
    /// loop.
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// event_loop.handle().stop();
    /// event_loop.run_forever().unwrap(); // one iteration, then stops
    /// assert!(!event_loop.is_running());
    /// ```
    pub fn stop(&self) {
        let _ = self.remote.push(RemoteItem::Stop);
    }

    /// Whether the loop is closed.
    pub fn is_closed(&self) -> bool {
        self.remote.is_closed()
    }

    /// Whether this loop is the one running on the calling thread: then
    /// its `EventLoop` is [`get_running_loop`](crate::get_running_loop)'s,
    /// and code here may call `call_soon` on it rather than
    /// [`call_soon_threadsafe`](Self::call_soon_threadsafe).
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let handle = event_loop.handle();
    /// assert!(!handle.is_running_here());
    /// let h = handle.clone();
    /// assert!(event_loop.run_until_complete(async move { h.is_running_here() }).unwrap());
    /// ```
    pub fn is_running_here(&self) -> bool {
        crate::event_loop::running_loop()
            .is_some_and(|event_loop| Arc::ptr_eq(&event_loop.core.remote, &self.remote))
    }
}

impl fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopHandle")
            .field("closed", &self.is_closed())
            .finish()
    }
}
