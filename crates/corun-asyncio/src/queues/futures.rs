//! The futures of a queue's waiting methods: [`QueuePut`], [`QueueGet`],
//! [`QueueJoin`], and what each does when dropped before it completes.
//!
//! | future dropped while…            | Python (`except: … raise`)             | here                          |
//! |----------------------------------|----------------------------------------|-------------------------------|
//! | waiting, not woken               | `_putters.remove(putter)`              | leaves the line               |
//! | woken by a get, not yet run      | wakes the next putter if there is room | the same                      |
//! | waiting in `get`, woken by a put | wakes the next getter if an item is there | the same                   |

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use corun_threading::queue::{GetError, PutError};

use super::generic_queue::GenericQueue;
use super::storage::Storage;
use crate::waiters::Waiter;

/// The future of [`GenericQueue::put`].
#[must_use = "futures do nothing unless awaited"]
pub struct QueuePut<'a, T, S: Storage<T>> {
    queue: &'a GenericQueue<T, S>,
    item: Option<T>,
    waiter: Option<Rc<Waiter>>,
}

/// The future of [`GenericQueue::get`].
#[must_use = "futures do nothing unless awaited"]
pub struct QueueGet<'a, T, S: Storage<T>> {
    queue: &'a GenericQueue<T, S>,
    waiter: Option<Rc<Waiter>>,
}

/// The future of [`GenericQueue::join`].
#[must_use = "futures do nothing unless awaited"]
pub struct QueueJoin<'a, T, S: Storage<T>> {
    queue: &'a GenericQueue<T, S>,
    waiter: Option<Rc<Waiter>>,
}

/// Whether a future that waited was woken: `None` if it never waited,
/// `Some(true)` if woken, or `Pending` (with the waker renewed) if it
/// still waits.
fn woken(waiter: &mut Option<Rc<Waiter>>, cx: &Context<'_>) -> Poll<Option<bool>> {
    match waiter.take() {
        None => Poll::Ready(None),
        Some(w) if w.notified() => Poll::Ready(Some(true)),
        Some(w) => {
            w.register(cx.waker());
            *waiter = Some(w);
            Poll::Pending
        }
    }
}

impl<'a, T, S: Storage<T>> QueuePut<'a, T, S> {
    pub(super) fn new(queue: &'a GenericQueue<T, S>, item: T) -> Self {
        Self {
            queue,
            item: Some(item),
            waiter: None,
        }
    }
}

impl<'a, T, S: Storage<T>> QueueGet<'a, T, S> {
    pub(super) fn new(queue: &'a GenericQueue<T, S>) -> Self {
        Self {
            queue,
            waiter: None,
        }
    }
}

impl<'a, T, S: Storage<T>> QueueJoin<'a, T, S> {
    pub(super) fn new(queue: &'a GenericQueue<T, S>) -> Self {
        Self {
            queue,
            waiter: None,
        }
    }
}

// The item is moved in and out, never pinned.
impl<T, S: Storage<T>> Unpin for QueuePut<'_, T, S> {}

impl<T, S: Storage<T>> Future for QueuePut<'_, T, S> {
    type Output = Result<(), PutError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Poll::Ready(woken) = woken(&mut this.waiter, cx) else {
            return Poll::Pending;
        };
        let item = this
            .item
            .take()
            .expect("QueuePut polled after it completed");
        let mut state = this.queue.state.borrow_mut();
        match state.put(this.queue.maxsize(), item) {
            Err(PutError::Full(item)) => {
                this.item = Some(item);
                this.waiter = Some(if woken.is_some() {
                    state.putters.push_front(cx.waker())
                } else {
                    state.putters.push(cx.waker())
                });
                Poll::Pending
            }
            done => Poll::Ready(done),
        }
    }
}

impl<T, S: Storage<T>> Future for QueueGet<'_, T, S> {
    type Output = Result<T, GetError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Poll::Ready(woken) = woken(&mut this.waiter, cx) else {
            return Poll::Pending;
        };
        let mut state = this.queue.state.borrow_mut();
        match state.get() {
            Err(GetError::Empty) => {
                this.waiter = Some(if woken.is_some() {
                    state.getters.push_front(cx.waker())
                } else {
                    state.getters.push(cx.waker())
                });
                Poll::Pending
            }
            done => Poll::Ready(done),
        }
    }
}

impl<T, S: Storage<T>> Future for QueueJoin<'_, T, S> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let Poll::Ready(woken) = woken(&mut this.waiter, cx) else {
            return Poll::Pending;
        };
        let mut state = this.queue.state.borrow_mut();
        if woken.is_some() || state.unfinished == 0 {
            return Poll::Ready(());
        }
        this.waiter = Some(state.joiners.push(cx.waker()));
        Poll::Pending
    }
}

impl<T, S: Storage<T>> Drop for QueuePut<'_, T, S> {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            let mut state = self.queue.state.borrow_mut();
            if !waiter.notified() {
                state.putters.remove(&waiter);
            } else if !state.shutdown && !state.is_full(self.queue.maxsize()) {
                // Woken for room it will not use: the next putter's turn.
                state.putters.notify_one();
            }
        }
    }
}

impl<T, S: Storage<T>> Drop for QueueGet<'_, T, S> {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            let mut state = self.queue.state.borrow_mut();
            if !waiter.notified() {
                state.getters.remove(&waiter);
            } else if state.items.len() > 0 {
                // Woken for an item it will not take: the next getter's turn.
                state.getters.notify_one();
            }
        }
    }
}

impl<T, S: Storage<T>> Drop for QueueJoin<'_, T, S> {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            if !waiter.notified() {
                self.queue.state.borrow_mut().joiners.remove(&waiter);
            }
        }
    }
}

impl<T, S: Storage<T>> fmt::Debug for QueuePut<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueuePut")
            .field("waiting", &self.waiter.is_some())
            .finish_non_exhaustive()
    }
}

impl<T, S: Storage<T>> fmt::Debug for QueueGet<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueGet")
            .field("waiting", &self.waiter.is_some())
            .finish_non_exhaustive()
    }
}

impl<T, S: Storage<T>> fmt::Debug for QueueJoin<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueJoin")
            .field("waiting", &self.waiter.is_some())
            .finish_non_exhaustive()
    }
}
