//! `retry` (RxPY: `ops.retry`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use corun_core::Error;
use parking_lot::Mutex;

use crate::{
    Observable, Observer, SerialSubscription, SharedSubscriber, Subscriber, Subscription, empty,
};

/// This observable, subscribed again after an error, `count` subscriptions
/// in all (RxPY: `ops.retry(retry_count)`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::retry`].
pub fn retry<T: Send + 'static>(count: usize) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.retry(count)
}

/// This observable, subscribed again after every error (RxPY:
/// `ops.retry()`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::retry_forever`].
pub fn retry_forever<T: Send + 'static>() -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.retry_forever()
}

impl<T: Send + 'static> Observable<T> {
    /// This observable, subscribed again when it fails, up to `count`
    /// subscriptions in all (RxPY: `ops.retry(retry_count)`, which counts
    /// the same way: `retry(3)` tries three times); the last error is the
    /// output's. Elements of failed attempts are delivered (a cold source
    /// repeats them). `retry(0)` completes at once, as RxPY's does.
    ///
    /// Each retry disposes the failed subscription first. Sources that
    /// fail as they are subscribed are retried in a loop, not nested, so
    /// any count is safe for the stack.
    ///
    /// ```
    /// use corun::reactive::Observable;
    /// use corun::Error;
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// // Fails twice, then answers.
    /// let calls = Arc::new(AtomicU32::new(0));
    /// let c = calls.clone();
    /// let flaky = Observable::new(move |mut s| match c.fetch_add(1, Ordering::SeqCst) {
    ///     0 | 1 => s.on_error(Error::timeout()),
    ///     n => { s.on_next(n); s.on_completed() }
    /// });
    /// assert_eq!(flaky.retry(3).to_vec().unwrap(), [2]);
    /// assert!(flaky.retry(1).to_vec().is_ok(), "the fourth call answers at once");
    /// ```
    pub fn retry(&self, count: usize) -> Observable<T> {
        if count == 0 {
            return empty();
        }
        self.retry_up_to(Some(count - 1))
    }

    /// This observable, subscribed again each time it fails, until it
    /// completes or the output is disposed (RxPY: `ops.retry()`).
    ///
    /// ```
    /// use corun::reactive::Observable;
    /// use corun::Error;
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// let calls = Arc::new(AtomicU32::new(0));
    /// let c = calls.clone();
    /// let flaky = Observable::new(move |mut s| {
    ///     let n = c.fetch_add(1, Ordering::SeqCst);
    ///     s.on_next(n);
    ///     if n < 100 { s.on_error(Error::timeout()) } else { s.on_completed() }
    /// });
    /// assert_eq!(flaky.retry_forever().to_vec().unwrap().len(), 101);
    /// ```
    pub fn retry_forever(&self) -> Observable<T> {
        self.retry_up_to(None)
    }

    /// Retries up to `retries` times after the first subscription; `None`
    /// for no limit.
    fn retry_up_to(&self, retries: Option<usize>) -> Observable<T> {
        let source = self.clone();
        Observable::new(move |down: Subscriber<T>| {
            let down = down.into_shared();
            let current = SerialSubscription::new();
            down.subscription().add_subscription(current.subscription());
            let retry = Arc::new(Retry {
                source: source.clone(),
                down,
                current,
                state: Mutex::new(State {
                    retries_left: retries,
                    subscribing: false,
                    again: false,
                }),
            });
            retry.subscribe_loop();
        })
    }
}

struct Retry<T> {
    source: Observable<T>,
    down: SharedSubscriber<T>,
    /// The subscription of the attempt in progress.
    current: SerialSubscription,
    state: Mutex<State>,
}

struct State {
    /// `None`: no limit.
    retries_left: Option<usize>,
    /// Whether a thread is in `subscribe_loop`.
    subscribing: bool,
    /// Whether an attempt failed while that thread was subscribing it.
    again: bool,
}

impl<T: Send + 'static> Retry<T> {
    /// Subscribes to the source, and again while attempts fail before
    /// their subscribing returns.
    fn subscribe_loop(self: &Arc<Self>) {
        loop {
            {
                let mut state = self.state.lock();
                state.subscribing = true;
                state.again = false;
            }
            if self.down.is_closed() {
                self.state.lock().subscribing = false;
                return;
            }
            let subscription = Subscription::new();
            self.current.set(subscription.clone());
            let observer = Attempt {
                retry: Arc::clone(self),
            };
            let subscriber = Subscriber::with_subscription(observer, subscription);
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| {
                self.source.subscribe_subscriber(subscriber)
            })) {
                self.down.on_error(Error::from_panic(&*payload));
            }
            let mut state = self.state.lock();
            state.subscribing = false;
            if !state.again {
                return;
            }
        }
    }

    fn failed(self: &Arc<Self>, error: Error) {
        let mut state = self.state.lock();
        match &mut state.retries_left {
            Some(0) => {
                drop(state);
                self.down.on_error(error);
                return;
            }
            Some(left) => *left -= 1,
            None => {}
        }
        if state.subscribing {
            // The subscribing thread loops.
            state.again = true;
            return;
        }
        drop(state);
        self.subscribe_loop();
    }
}

/// The observer of one attempt.
struct Attempt<T> {
    retry: Arc<Retry<T>>,
}

impl<T: Send + 'static> Observer<T> for Attempt<T> {
    fn on_next(&mut self, value: T) {
        self.retry.down.on_next(value);
    }
    fn on_error(&mut self, error: Error) {
        self.retry.failed(error);
    }
    fn on_completed(&mut self) {
        self.retry.down.on_completed();
    }
}
