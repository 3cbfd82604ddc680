//! Bridges to futures, tasks and streams: [`from_future`], [`from_task`],
//! [`from_stream`], and [`Observable::to_future`],
//! [`Observable::to_stream`], [`Observable::to_vec`], [`Observable::run`].

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Once, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use corun_concurrent::Task;
use corun_core::{Error, ErrorKind};
use futures_core::Stream;
use parking_lot::{Condvar, Mutex};

use crate::{AsyncSubject, Observable, Observer, Subscriber, Subscription};

/// A future that drives itself: polled first by the thread that starts
/// it, then, each time it is woken, by the process's driver thread. Never
/// inside `wake` itself: a waker is often called under its waker's lock
/// (a task's, say), which a poll may need. Polls never overlap: a wake
/// during a poll makes the poller poll again.
struct Driver {
    future: Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
    woken: AtomicBool,
}

impl Driver {
    fn start(future: impl Future<Output = ()> + Send + 'static) -> Arc<Self> {
        let driver = Arc::new(Self {
            future: Mutex::new(Some(Box::pin(future))),
            woken: AtomicBool::new(true),
        });
        driver.poll_now();
        driver
    }

    /// Polls until not woken meanwhile, unless another thread polls.
    fn poll_now(self: &Arc<Self>) {
        let waker = Waker::from(Arc::clone(self));
        loop {
            let Some(mut slot) = self.future.try_lock() else {
                return; // the poller sees `woken` and polls again
            };
            self.woken.store(false, SeqCst);
            if let Some(future) = slot.as_mut() {
                if future
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_ready()
                {
                    *slot = None;
                }
            }
            drop(slot);
            if !self.woken.load(SeqCst) {
                return;
            }
        }
    }
}

impl Wake for Driver {
    fn wake(self: Arc<Self>) {
        if !self.woken.swap(true, SeqCst) {
            driver_queue().push(self);
        }
    }
}

/// The driver thread's queue of woken drivers.
struct DriverQueue {
    woken: Mutex<VecDeque<Arc<Driver>>>,
    ready: Condvar,
}

impl DriverQueue {
    fn push(&self, driver: Arc<Driver>) {
        self.woken.lock().push_back(driver);
        self.ready.notify_one();
    }
}

fn driver_queue() -> &'static DriverQueue {
    static QUEUE: OnceLock<&'static DriverQueue> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let queue: &'static DriverQueue = Box::leak(Box::new(DriverQueue {
            woken: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("corun-reactive-driver".into())
            .spawn(move || {
                loop {
                    let driver = {
                        let mut woken = queue.woken.lock();
                        loop {
                            if let Some(driver) = woken.pop_front() {
                                break driver;
                            }
                            queue.ready.wait(&mut woken);
                        }
                    };
                    // A panicking future fails its own observable only.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        driver.poll_now()
                    }));
                }
            })
            .expect("cannot start the reactive driver thread");
        queue
    })
}

/// The outcome of `future`, as an observable (RxPY:
/// `reactivex.from_future`): its value then the end, or its error.
///
/// The future starts with the first subscription and runs to its end even
/// if every subscription is disposed; its outcome is shared: every
/// subscriber, present or late, gets the same (so `T: Clone`). It is
/// driven by whichever thread wakes it (no executor needed): a future that
/// needs an event loop (one that sleeps on the loop's timers, say) is run
/// as a task instead, and given to [`from_task`].
///
/// ```
/// use corun::concurrent::ThreadPoolExecutor;
/// use corun::reactive::from_future;
///
/// let pool = ThreadPoolExecutor::new();
/// let answer = pool.spawn(|| 6 * 7).unwrap(); // a Future of Result<i32, Error>
/// assert_eq!(from_future(answer).run().unwrap(), 42);
/// ```
pub fn from_future<T, F>(future: F) -> Observable<T>
where
    T: Clone + Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let subject = AsyncSubject::new();
    let start = Arc::new(Once::new());
    let pending = Arc::new(Mutex::new(Some(future)));
    let s = subject.clone();
    let observable = subject.observable();
    Observable::new(move |subscriber| {
        observable.subscribe_subscriber(subscriber);
        start.call_once(|| {
            let future = pending.lock().take().expect("started once");
            let s = s.clone();
            Driver::start(async move {
                match future.await {
                    Ok(value) => {
                        s.on_next(value);
                        s.on_completed();
                    }
                    Err(error) => s.on_error(error),
                }
            });
        });
    })
}

/// The outcome of a running task, as an observable (RxPY: `from_future`
/// on a `concurrent.futures.Future`): its value then the end, or its
/// error, to every subscriber. An asyncio task is given as
/// `task.into_concurrent()`.
///
/// ```
/// use corun::concurrent::ThreadPoolExecutor;
/// use corun::reactive::from_task;
///
/// let pool = ThreadPoolExecutor::new();
/// let outcome = from_task(pool.spawn(|| "done").unwrap());
/// assert_eq!(outcome.to_vec().unwrap(), ["done"]);
/// assert_eq!(outcome.to_vec().unwrap(), ["done"]); // shared
/// ```
pub fn from_task<T: Clone + Send + 'static>(task: Task<T>) -> Observable<T> {
    let subject = AsyncSubject::new();
    let s = subject.clone();
    task.add_done_callback(move |outcome| match outcome {
        Ok(value) => {
            s.on_next(value.clone());
            s.on_completed();
        }
        Err(error) => s.on_error(error.clone()),
    });
    subject.observable()
}

/// The items of `stream`, then the end, as an observable (the reverse of
/// [`Observable::to_stream`]).
///
/// A stream is read once: the first subscription reads it, driven by
/// whichever thread wakes it; a later one fails with
/// [`InvalidState`](ErrorKind::InvalidState). Disposing the subscription
/// drops the stream at once.
pub fn from_stream<T, S>(stream: S) -> Observable<T>
where
    T: Send + 'static,
    S: Stream<Item = T> + Send + 'static,
{
    let stream = Arc::new(Mutex::new(Some(Box::pin(stream))));
    Observable::new(move |mut subscriber: Subscriber<T>| {
        let Some(stream) = stream.lock().take() else {
            subscriber.on_error(Error::new(
                ErrorKind::InvalidState,
                "from_stream: the stream was read by an earlier subscription",
            ));
            return;
        };
        let subscription = subscriber.subscription().clone();
        let driver = Driver::start(Pump { stream, subscriber });
        // Disposal wakes the pump, which then sees it and drops the stream.
        subscription.add(move || Wake::wake(driver));
    })
}

/// Reads a stream into a subscriber.
struct Pump<S, T> {
    stream: Pin<Box<S>>,
    subscriber: Subscriber<T>,
}

impl<S: Stream<Item = T>, T: Send + 'static> Future for Pump<S, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if this.subscriber.is_closed() {
                return Poll::Ready(());
            }
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => this.subscriber.on_next(item),
                Poll::Ready(None) => {
                    this.subscriber.on_completed();
                    return Poll::Ready(());
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// What [`Observable::to_stream`] does when its buffer is full and another
/// element comes: an observable cannot be slowed down, so one of them goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Drop the oldest buffered element: the reader sees the latest ones.
    DropOldest,
    /// Drop the new element: the reader sees the first ones.
    DropNewest,
    /// End the stream with a [`Full`](ErrorKind::Full) error (after the
    /// buffered elements) and dispose the subscription.
    Error,
}

/// An observable read as a `Stream` ([`Observable::to_stream`]).
pub struct ObservableStream<T> {
    source: Option<Observable<T>>,
    shared: Arc<Mutex<Buffer<T>>>,
}

struct Buffer<T> {
    items: VecDeque<T>,
    capacity: usize,
    overflow: Overflow,
    /// `Some` once ended; taken when the stream reports it.
    end: Option<Result<(), Error>>,
    finished: bool,
    waker: Option<Waker>,
    subscription: Option<Subscription>,
    dropped: u64,
}

struct BufferObserver<T>(Arc<Mutex<Buffer<T>>>);

impl<T: Send + 'static> Observer<T> for BufferObserver<T> {
    fn on_next(&mut self, value: T) {
        let mut buffer = self.0.lock();
        if buffer.end.is_some() || buffer.finished {
            return;
        }
        if buffer.items.len() >= buffer.capacity {
            buffer.dropped += 1;
            match buffer.overflow {
                Overflow::DropOldest => {
                    buffer.items.pop_front();
                }
                Overflow::DropNewest => return,
                Overflow::Error => {
                    let message = format!(
                        "to_stream: the reader fell behind; its buffer of {} is full",
                        buffer.capacity
                    );
                    buffer.end = Some(Err(Error::new(ErrorKind::Full, message)));
                    let subscription = buffer.subscription.clone();
                    let waker = buffer.waker.take();
                    drop(buffer);
                    if let Some(subscription) = subscription {
                        subscription.dispose();
                    }
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                    return;
                }
            }
        }
        buffer.items.push_back(value);
        let waker = buffer.waker.take();
        drop(buffer);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn on_error(&mut self, error: Error) {
        self.end(Err(error));
    }

    fn on_completed(&mut self) {
        self.end(Ok(()));
    }
}

impl<T> BufferObserver<T> {
    fn end(&self, end: Result<(), Error>) {
        let mut buffer = self.0.lock();
        if buffer.end.is_none() && !buffer.finished {
            buffer.end = Some(end);
        }
        let waker = buffer.waker.take();
        drop(buffer);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> ObservableStream<T> {
    /// How many elements the overflow policy dropped so far.
    pub fn dropped(&self) -> u64 {
        self.shared.lock().dropped
    }
}

impl<T: Send + 'static> Stream for ObservableStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(source) = this.source.take() {
            let subscription = Subscription::new();
            this.shared.lock().subscription = Some(subscription.clone());
            let observer = BufferObserver(Arc::clone(&this.shared));
            source.subscribe_subscriber(Subscriber::with_subscription(observer, subscription));
        }
        let mut buffer = this.shared.lock();
        if let Some(item) = buffer.items.pop_front() {
            return Poll::Ready(Some(Ok(item)));
        }
        if buffer.finished {
            return Poll::Ready(None);
        }
        match buffer.end.take() {
            Some(end) => {
                buffer.finished = true;
                Poll::Ready(end.err().map(Err))
            }
            None => {
                buffer.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for ObservableStream<T> {
    fn drop(&mut self) {
        let subscription = self.shared.lock().subscription.take();
        if let Some(subscription) = subscription {
            subscription.dispose();
        }
    }
}

impl<T> fmt::Debug for ObservableStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObservableStream").finish_non_exhaustive()
    }
}

/// The last element of an observable, as a future
/// ([`Observable::to_future`]).
pub struct LastValue<T> {
    source: Option<Observable<T>>,
    shared: Arc<Mutex<Last<T>>>,
}

struct Last<T> {
    value: Option<T>,
    end: Option<Result<(), Error>>,
    waker: Option<Waker>,
    subscription: Option<Subscription>,
}

struct LastObserver<T>(Arc<Mutex<Last<T>>>);

impl<T: Send + 'static> Observer<T> for LastObserver<T> {
    fn on_next(&mut self, value: T) {
        self.0.lock().value = Some(value);
    }
    fn on_error(&mut self, error: Error) {
        self.end(Err(error));
    }
    fn on_completed(&mut self) {
        self.end(Ok(()));
    }
}

impl<T> LastObserver<T> {
    fn end(&self, end: Result<(), Error>) {
        let mut last = self.0.lock();
        last.end = Some(end);
        let waker = last.waker.take();
        drop(last);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T: Send + 'static> Future for LastValue<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(source) = this.source.take() {
            let subscription = Subscription::new();
            this.shared.lock().subscription = Some(subscription.clone());
            let observer = LastObserver(Arc::clone(&this.shared));
            source.subscribe_subscriber(Subscriber::with_subscription(observer, subscription));
        }
        let mut last = this.shared.lock();
        match last.end.take() {
            Some(Ok(())) => Poll::Ready(last.value.take().ok_or_else(no_elements)),
            Some(Err(error)) => Poll::Ready(Err(error)),
            None => {
                last.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for LastValue<T> {
    fn drop(&mut self) {
        let subscription = self.shared.lock().subscription.take();
        if let Some(subscription) = subscription {
            subscription.dispose();
        }
    }
}

impl<T> fmt::Debug for LastValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LastValue").finish_non_exhaustive()
    }
}

/// The end of a blocking wait, and its signal.
type Ended = (Mutex<Option<Result<(), Error>>>, Condvar);

/// The error of a sequence that had to hold an element and held none.
pub(crate) fn no_elements() -> Error {
    Error::new(ErrorKind::Empty, "sequence contains no elements")
}

impl<T: Send + 'static> Observable<T> {
    /// This observable read as a `Stream` of `Result`s, through a buffer of
    /// `capacity` elements and the `overflow` policy for a reader that
    /// falls behind. The subscription starts with the first poll and is
    /// disposed when the stream is dropped; an error is the stream's last
    /// item. A source that emits while it is subscribed (`range`, say)
    /// fills the buffer within that first poll: size it for the burst.
    ///
    /// ```
    /// use corun::asyncio::run;
    /// use corun::reactive::{Overflow, range};
    /// use std::future::poll_fn;
    /// use std::pin::Pin;
    /// use futures_core::Stream;
    ///
    /// let mut stream = range(0, 10).to_stream(3, Overflow::DropOldest);
    /// let items = run(async move {
    ///     let mut items = Vec::new();
    ///     while let Some(item) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
    ///         items.push(item.unwrap());
    ///     }
    ///     items
    /// })
    /// .unwrap();
    /// assert_eq!(items, [7, 8, 9]);
    /// ```
    ///
    /// # Panics
    ///
    /// If `capacity` is 0.
    pub fn to_stream(&self, capacity: usize, overflow: Overflow) -> ObservableStream<T> {
        assert!(
            capacity > 0,
            "to_stream: the buffer needs room for one element"
        );
        ObservableStream {
            source: Some(self.clone()),
            shared: Arc::new(Mutex::new(Buffer {
                items: VecDeque::new(),
                capacity,
                overflow,
                end: None,
                finished: false,
                waker: None,
                subscription: None,
                dropped: 0,
            })),
        }
    }

    /// The last element, as a future (RxPY: `await observable`,
    /// `to_future`): an error ends it with that error, an empty sequence
    /// with [`Empty`](ErrorKind::Empty). The subscription starts with the
    /// first poll and is disposed if the future is dropped first.
    ///
    /// ```
    /// use corun::asyncio::run;
    /// use corun::reactive::range;
    ///
    /// assert_eq!(run(range(0, 5).to_future()).unwrap().unwrap(), 4);
    /// ```
    pub fn to_future(&self) -> LastValue<T> {
        LastValue {
            source: Some(self.clone()),
            shared: Arc::new(Mutex::new(Last {
                value: None,
                end: None,
                waker: None,
                subscription: None,
            })),
        }
    }

    /// Subscribes and blocks this thread until the end; returns every
    /// element (RxPY: `to_list()` then `run()`). Do not call it on an event
    /// loop's thread for an observable that needs that loop: it would wait
    /// forever.
    ///
    /// # Errors
    ///
    /// The observable's error.
    pub fn to_vec(&self) -> Result<Vec<T>, Error> {
        let items = Arc::new(Mutex::new(Vec::new()));
        let i = Arc::clone(&items);
        self.wait(move |value| i.lock().push(value))?;
        Ok(std::mem::take(&mut *items.lock()))
    }

    /// Subscribes and blocks this thread until the end; returns the last
    /// element (RxPY: `Observable.run()`).
    ///
    /// # Errors
    ///
    /// The observable's error; [`Empty`](ErrorKind::Empty) if there was no
    /// element.
    pub fn run(&self) -> Result<T, Error> {
        let last = Arc::new(Mutex::new(None));
        let l = Arc::clone(&last);
        self.wait(move |value| *l.lock() = Some(value))?;
        let value = last.lock().take();
        value.ok_or_else(no_elements)
    }

    /// Subscribes `on_next` and blocks until the end.
    fn wait(&self, on_next: impl FnMut(T) + Send + 'static) -> Result<(), Error> {
        let done: Arc<Ended> = Arc::new((Mutex::new(None), Condvar::new()));
        let (d1, d2) = (Arc::clone(&done), Arc::clone(&done));
        self.subscribe_all(
            on_next,
            move |error| {
                *d1.0.lock() = Some(Err(error));
                d1.1.notify_all();
            },
            move || {
                *d2.0.lock() = Some(Ok(()));
                d2.1.notify_all();
            },
        );
        let mut end = done.0.lock();
        while end.is_none() {
            done.1.wait(&mut end);
        }
        end.take().expect("ended")
    }
}
