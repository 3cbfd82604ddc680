//! [`once`] as a future and [`on`] as a `Stream`: an emitter's events,
//! awaited (Node: `events.once(emitter, name)`, `events.on(emitter, name)`).

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use corun_core::Error;
use futures_core::Stream;

use crate::table::{EventName, ListenerId};

/// How many payloads an [`on`] stream buffers by default.
pub const DEFAULT_STREAM_CAPACITY: usize = 1024;

pub(crate) mod private {
    use super::*;
    use parking_lot::Mutex;
    use std::task::Waker;

    /// Where the listeners of a [`Once`] or an [`EventStream`] put what
    /// they are given.
    pub struct Sink<P> {
        state: Mutex<SinkState<P>>,
    }

    pub(crate) struct SinkState<P> {
        pub(crate) items: VecDeque<P>,
        pub(crate) capacity: usize,
        pub(crate) dropped: u64,
        pub(crate) error: Option<Error>,
        pub(crate) waker: Option<Waker>,
    }

    impl<P> fmt::Debug for Sink<P> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Sink").finish_non_exhaustive()
        }
    }

    impl<P> Sink<P> {
        pub(crate) fn new(capacity: usize) -> Self {
            Self {
                state: Mutex::new(SinkState {
                    items: VecDeque::new(),
                    capacity: capacity.max(1),
                    dropped: 0,
                    error: None,
                    waker: None,
                }),
            }
        }

        /// Keeps `item`; a full buffer drops its oldest item first.
        pub(crate) fn push(&self, item: P) {
            let waker = {
                let mut state = self.state.lock();
                if state.error.is_some() {
                    return;
                }
                if state.items.len() == state.capacity {
                    state.items.pop_front();
                    state.dropped += 1;
                }
                state.items.push_back(item);
                state.waker.take()
            };
            waker.into_iter().for_each(Waker::wake);
        }

        /// Keeps the first error: what is buffered comes out before it.
        pub(crate) fn fail(&self, error: Error) {
            let waker = {
                let mut state = self.state.lock();
                state.error.get_or_insert(error);
                state.waker.take()
            };
            waker.into_iter().for_each(Waker::wake);
        }

        pub(crate) fn lock(&self) -> parking_lot::MutexGuard<'_, SinkState<P>> {
            self.state.lock()
        }
    }

    /// Adds and removes the listeners behind [`once`] and [`on`].
    pub trait Attach<P> {
        /// Adds a payload listener for `name` and an error listener, both
        /// feeding `sink`.
        fn attach(&self, name: EventName, sink: Arc<Sink<P>>, once: bool) -> [ListenerId; 2];
        /// Removes one of them.
        fn detach(&self, id: ListenerId);
    }
}

use private::{Attach, Sink};

/// An emitter [`once`] and [`on`] take: [`EventEmitter`](crate::EventEmitter)
/// (payloads `Clone + Send`) and [`LocalEmitter`](crate::LocalEmitter)
/// (payloads `Clone`).
pub trait Source<P>: Attach<P> + Clone {}

/// A future of the next emit of `name` on `emitter`: its payload, cloned
/// (Node: `await events.once(emitter, name)`).
///
/// It listens from the moment it is made, not from its first poll; it
/// resolves to `Err` if `error` is emitted first (its error listener counts
/// as one: such an error is not returned by that emit). Dropping it removes
/// its listeners.
///
/// ```
/// use corun::asyncio::run;
/// use corun::events::{LocalEmitter, once};
///
/// run(async {
///     let emitter = LocalEmitter::<String>::new();
///     let next = once(&emitter, "message");
///     emitter.emit_soon("message", "hi".to_owned()).unwrap();
///     assert_eq!(next.await.unwrap(), "hi");
///     assert_eq!(emitter.listener_count("message"), 0);
/// })
/// .unwrap();
/// ```
pub fn once<E: Source<P>, P>(emitter: &E, name: impl Into<EventName>) -> Once<E, P> {
    let sink = Arc::new(Sink::new(1));
    let ids = emitter.attach(name.into(), Arc::clone(&sink), true);
    Once {
        emitter: emitter.clone(),
        sink,
        ids,
        done: false,
    }
}

/// The emits of `name` on `emitter` as a [`Stream`] of payloads, cloned
/// (Node: `for await (const x of events.on(emitter, name))`), buffering
/// up to [`DEFAULT_STREAM_CAPACITY`] of them.
///
/// An emit never waits for the stream: when the buffer is full, the
/// **oldest** payload is dropped to make room, and
/// [`EventStream::dropped`] counts those. An `error` emitted meanwhile
/// comes out after what is buffered, as `Err`, and ends the stream (its
/// error listener counts as one: that emit does not return the error).
/// Otherwise the stream never ends by itself; dropping it removes its
/// listeners.
///
/// ```
/// use corun::asyncio::run;
/// use corun::events::{EventEmitter, on};
/// use std::future::poll_fn;
/// use std::pin::pin;
///
/// use futures_core::Stream;
///
/// run(async {
///     let emitter = EventEmitter::<u32>::new();
///     let mut numbers = pin!(on(&emitter, "n"));
///     for n in 1..=3 {
///         emitter.emit("n", n).unwrap();
///     }
///     let mut got = Vec::new();
///     while got.len() < 3 {
///         let next = poll_fn(|cx| numbers.as_mut().poll_next(cx)).await;
///         got.push(next.unwrap().unwrap());
///     }
///     assert_eq!(got, [1, 2, 3]);
/// })
/// .unwrap();
/// ```
pub fn on<E: Source<P>, P>(emitter: &E, name: impl Into<EventName>) -> EventStream<E, P> {
    on_with_capacity(emitter, name, DEFAULT_STREAM_CAPACITY)
}

/// [`on`] with a buffer of `capacity` payloads (at least 1).
pub fn on_with_capacity<E: Source<P>, P>(
    emitter: &E,
    name: impl Into<EventName>,
    capacity: usize,
) -> EventStream<E, P> {
    let sink = Arc::new(Sink::new(capacity));
    let ids = emitter.attach(name.into(), Arc::clone(&sink), false);
    EventStream {
        emitter: emitter.clone(),
        sink,
        ids,
        ended: false,
    }
}

/// The future of [`once`].
#[must_use = "futures do nothing unless awaited"]
pub struct Once<E: Source<P>, P> {
    emitter: E,
    sink: Arc<Sink<P>>,
    ids: [ListenerId; 2],
    done: bool,
}

impl<E: Source<P>, P> Once<E, P> {
    fn detach(&mut self) {
        if !std::mem::replace(&mut self.done, true) {
            for id in self.ids {
                self.emitter.detach(id);
            }
        }
    }
}

impl<E: Source<P>, P> Unpin for Once<E, P> {}

impl<E: Source<P>, P> Future for Once<E, P> {
    type Output = Result<P, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let ready = {
            let mut state = self.sink.lock();
            if let Some(item) = state.items.pop_front() {
                Some(Ok(item))
            } else if let Some(error) = state.error.take() {
                Some(Err(error))
            } else {
                state.waker = Some(cx.waker().clone());
                None
            }
        };
        match ready {
            Some(out) => {
                self.detach();
                Poll::Ready(out)
            }
            None => Poll::Pending,
        }
    }
}

impl<E: Source<P>, P> Drop for Once<E, P> {
    fn drop(&mut self) {
        self.detach();
    }
}

impl<E: Source<P>, P> fmt::Debug for Once<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once").field("done", &self.done).finish()
    }
}

/// The stream of [`on`].
#[must_use = "streams do nothing unless polled"]
pub struct EventStream<E: Source<P>, P> {
    emitter: E,
    sink: Arc<Sink<P>>,
    ids: [ListenerId; 2],
    ended: bool,
}

impl<E: Source<P>, P> EventStream<E, P> {
    /// How many payloads were dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.sink.lock().dropped
    }

    /// Stops listening: what is buffered still comes out, then the stream
    /// ends.
    pub fn close(&mut self) {
        if !std::mem::replace(&mut self.ended, true) {
            for id in self.ids {
                self.emitter.detach(id);
            }
        }
    }
}

impl<E: Source<P>, P> Unpin for EventStream<E, P> {}

impl<E: Source<P>, P> Stream for EventStream<E, P> {
    type Item = Result<P, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = {
            let mut state = self.sink.lock();
            if let Some(item) = state.items.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if let Some(error) = state.error.take() {
                Some(Some(Err(error)))
            } else if self.ended {
                Some(None)
            } else {
                state.waker = Some(cx.waker().clone());
                None
            }
        };
        match next {
            Some(Some(error)) => {
                self.close();
                Poll::Ready(Some(error))
            }
            Some(None) => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}

impl<E: Source<P>, P> Drop for EventStream<E, P> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<E: Source<P>, P> fmt::Debug for EventStream<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("ended", &self.ended)
            .field("dropped", &self.dropped())
            .finish()
    }
}
