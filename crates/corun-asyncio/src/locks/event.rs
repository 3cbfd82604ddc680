//! [`Event`]: Python's `asyncio.Event`, a flag tasks can wait for.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::waiters::{WaitList, Waiter};

/// A flag that tasks of one event loop wait to be set (Python's
/// `asyncio.Event`).
///
/// [`set`](Self::set) wakes every waiting task, in the order they began to
/// wait; a task woken so returns even if the flag is cleared again before
/// it runs, as in Python.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{Event, create_task, run};
/// use std::rc::Rc;
///
/// run(async {
///     let ready = Rc::new(Event::new());
///     let waiter = {
///         let ready = Rc::clone(&ready);
///         create_task(async move {
///             ready.wait().await;
///             "went on"
///         })
///     };
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "went on");
/// })
/// .unwrap();
/// ```
pub struct Event {
    state: RefCell<State>,
}

/// The future of [`Event::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait<'a> {
    event: &'a Event,
    waiter: Option<Rc<Waiter>>,
}

#[derive(Debug, Default)]
struct State {
    set: bool,
    waiters: WaitList,
}

impl Event {
    /// A new event, not set.
    ///
    /// ```
    /// assert!(!corun::asyncio::Event::new().is_set());
    /// ```
    pub fn new() -> Self {
        Self {
            state: RefCell::new(State::default()),
        }
    }

    /// Sets the flag and wakes every waiting task (Python's `set()`).
    ///
    /// ```
    /// let event = corun::asyncio::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        let mut state = self.state.borrow_mut();
        if !state.set {
            state.set = true;
            state.waiters.notify_all();
        }
    }

    /// Clears the flag (Python's `clear()`); later waits wait again.
    ///
    /// ```
    /// let event = corun::asyncio::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.state.borrow_mut().set = false;
    }

    /// Whether the flag is set (Python's `is_set()`).
    ///
    /// ```
    /// assert!(!corun::asyncio::Event::new().is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.state.borrow().set
    }

    /// Waits until the flag is set; at once if it is (Python's
    /// `await event.wait()`, which always returns `True`).
    ///
    /// ```
    /// use corun::asyncio::{Event, run};
    ///
    /// run(async {
    ///     let event = Event::new();
    ///     event.set();
    ///     event.wait().await;
    /// })
    /// .unwrap();
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            waiter: None,
        }
    }
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &self.waiter {
            Some(waiter) if waiter.notified() => Poll::Ready(()),
            Some(waiter) => {
                waiter.register(cx.waker());
                Poll::Pending
            }
            None => {
                let mut state = self.event.state.borrow_mut();
                if state.set {
                    return Poll::Ready(());
                }
                let waiter = state.waiters.push(cx.waker());
                drop(state);
                self.waiter = Some(waiter);
                Poll::Pending
            }
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(waiter) = &self.waiter {
            if !waiter.notified() {
                self.event.state.borrow_mut().waiters.remove(waiter);
            }
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Event")
            .field("set", &state.set)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("waiting", &self.waiter.is_some())
            .finish()
    }
}
