//! `take_until` (RxPY: `ops.take_until`).

use corun_core::Error;

use crate::{Observable, Observer, SharedSubscriber, Subscriber, Subscription};

/// The source's elements until `other` emits (RxPY:
/// `ops.take_until(other)`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::take_until`].
pub fn take_until<T, U>(other: Observable<U>) -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Send + 'static,
    U: Send + 'static,
{
    move |source| source.take_until(other)
}

impl<T: Send + 'static> Observable<T> {
    /// The source's elements until `other` emits its first element, which
    /// ends this sequence (RxPY: `ops.take_until`); an error of `other`
    /// ends it with that error, and `other` ending without an element
    /// changes nothing. The end disposes both subscriptions.
    ///
    /// `other` is subscribed to first, then the source (RxPY subscribes in
    /// the other order): a signal that fires at once ends the sequence
    /// before an endless synchronous source starts.
    ///
    /// ```
    /// use corun::reactive::{Subject, from_iter, of};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let (numbers, stop) = (Subject::new(), Subject::<()>::new());
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let s = seen.clone();
    /// numbers.observable().take_until(stop.observable()).subscribe(move |x| s.lock().unwrap().push(x));
    /// numbers.on_next(1);
    /// numbers.on_next(2);
    /// stop.on_next(());
    /// numbers.on_next(3); // after the stop: not seen
    /// assert_eq!(*seen.lock().unwrap(), [1, 2]);
    ///
    /// // An endless source stopped by a signal that fires at once.
    /// assert!(from_iter(0..).take_until(of([()])).to_vec().unwrap().is_empty());
    /// ```
    pub fn take_until<U: Send + 'static>(&self, other: Observable<U>) -> Observable<T> {
        let source = self.clone();
        Observable::new(move |down: Subscriber<T>| {
            let down = down.into_shared();
            let signal = Subscription::new();
            down.subscription().add_subscription(signal.clone());
            other.subscribe_subscriber(Subscriber::with_subscription(
                Signal { down: down.clone() },
                signal,
            ));
            if down.is_closed() {
                return;
            }
            let upstream = Subscription::new();
            down.subscription().add_subscription(upstream.clone());
            source.subscribe_subscriber(Subscriber::with_subscription(down, upstream));
        })
    }
}

/// The observer of `other`: its first element ends the sequence.
struct Signal<T> {
    down: SharedSubscriber<T>,
}

impl<T: Send + 'static, U> Observer<U> for Signal<T> {
    fn on_next(&mut self, _: U) {
        self.down.on_completed();
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {}
}
