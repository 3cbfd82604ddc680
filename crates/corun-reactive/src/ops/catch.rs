//! `catch` (RxPY: `ops.catch`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use corun_core::Error;

use crate::{Observable, Observer, SerialSubscription, SharedSubscriber, Subscriber, Subscription};

/// On an error, `fallback` instead (RxPY: `ops.catch(second)`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::catch`].
pub fn catch<T: Send + 'static>(
    fallback: Observable<T>,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.catch(fallback)
}

/// On an error, the observable `handler` makes of it (RxPY:
/// `ops.catch(handler)`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::catch_with`].
pub fn catch_with<T, F>(handler: F) -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Send + 'static,
    F: Fn(Error, Observable<T>) -> Observable<T> + Send + Sync + 'static,
{
    move |source| source.catch_with(handler)
}

/// What makes the observable to go on with after an error.
type Handler<T> = Arc<dyn Fn(Error, Observable<T>) -> Observable<T> + Send + Sync>;

impl<T: Send + 'static> Observable<T> {
    /// This observable's elements, and if it fails, `fallback`'s (RxPY:
    /// `ops.catch(second)`): the error is not delivered; `fallback` is
    /// subscribed in its place, and its end is the output's.
    ///
    /// ```
    /// use corun::reactive::{of, throw};
    /// use corun::Error;
    ///
    /// let flaky = of([1, 2]).concat(&throw(Error::timeout()));
    /// assert_eq!(flaky.catch(of([0])).to_vec().unwrap(), [1, 2, 0]);
    /// ```
    pub fn catch(&self, fallback: Observable<T>) -> Observable<T> {
        self.catch_with(move |_, _| fallback.clone())
    }

    /// This observable's elements, and if it fails, those of the
    /// observable that `handler` makes of the error and this observable
    /// (RxPY: `ops.catch(handler)`, the handler called as
    /// `handler(error, source)`). A panic in `handler` ends the output
    /// with a [`Panicked`](corun_core::ErrorKind::Panicked) error.
    ///
    /// ```
    /// use corun::reactive::{empty, of, throw};
    /// use corun::{Error, ErrorKind};
    ///
    /// let failing = of([1]).concat(&throw(Error::new(ErrorKind::NotFound, "no cache")));
    /// let read = failing.catch_with(|error, _source| {
    ///     if error.kind() == ErrorKind::NotFound { of([42]) } else { empty() }
    /// });
    /// assert_eq!(read.to_vec().unwrap(), [1, 42]);
    /// ```
    pub fn catch_with(
        &self,
        handler: impl Fn(Error, Observable<T>) -> Observable<T> + Send + Sync + 'static,
    ) -> Observable<T> {
        let handler: Handler<T> = Arc::new(handler);
        let source = self.clone();
        Observable::new(move |down: Subscriber<T>| {
            let down = down.into_shared();
            let current = SerialSubscription::new();
            down.subscription().add_subscription(current.subscription());
            let first = Subscription::new();
            current.set(first.clone());
            let observer = Catch {
                handler: Arc::clone(&handler),
                source: source.clone(),
                down,
                current,
            };
            source.subscribe_subscriber(Subscriber::with_subscription(observer, first));
        })
    }
}

struct Catch<T> {
    handler: Handler<T>,
    source: Observable<T>,
    down: SharedSubscriber<T>,
    /// The subscription to the source, then to what replaced it.
    current: SerialSubscription,
}

impl<T: Send + 'static> Observer<T> for Catch<T> {
    fn on_next(&mut self, value: T) {
        self.down.on_next(value);
    }
    fn on_error(&mut self, error: Error) {
        let made = catch_unwind(AssertUnwindSafe(|| {
            (self.handler)(error, self.source.clone())
        }));
        let next = match made {
            Ok(next) => next,
            Err(payload) => return self.down.on_error(Error::from_panic(&*payload)),
        };
        let subscription = Subscription::new();
        self.current.set(subscription.clone());
        let subscriber = Subscriber::with_subscription(self.down.clone(), subscription);
        if let Err(payload) =
            catch_unwind(AssertUnwindSafe(|| next.subscribe_subscriber(subscriber)))
        {
            self.down.on_error(Error::from_panic(&*payload));
        }
    }
    fn on_completed(&mut self) {
        self.down.on_completed();
    }
}
