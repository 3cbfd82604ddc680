//! `subscribe_on` (RxPY: `ops.subscribe_on`).

use std::sync::Arc;

use corun_core::Error;

use crate::scheduler::{Scheduler, SchedulerRef};
use crate::{Observable, Observer, Subscriber, Subscription};

/// The source, subscribed to and disposed on `scheduler` (RxPY:
/// `ops.subscribe_on(scheduler)`), for [`pipe`](Observable::pipe); the
/// method is [`Observable::subscribe_on`].
pub fn subscribe_on<T: Send + 'static>(
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.subscribe_on(scheduler)
}

impl<T: Send + 'static> Observable<T> {
    /// The source, whose subscription runs as an action on `scheduler`, and
    /// whose disposal does too (RxPY: `ops.subscribe_on(scheduler)`): a
    /// source that produces while it is subscribed to (an iterator, a
    /// blocking read) produces there. Disposed before the action ran, the
    /// source is never subscribed to. Nothing reaches the observer after
    /// its disposal, even while the source's own disposal waits for the
    /// scheduler. The observer's calls are not moved (see
    /// [`observe_on`](Self::observe_on)).
    ///
    /// ```
    /// use corun::reactive::{NewThreadScheduler, range};
    ///
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let here = std::thread::current().id();
    /// range(0, 3)
    ///     .tap(move |_| assert_ne!(std::thread::current().id(), here))
    ///     .subscribe_on(NewThreadScheduler::new())
    ///     .subscribe(move |x| tx.send(x).unwrap());
    /// assert_eq!(rx.iter().take(3).collect::<Vec<_>>(), [0, 1, 2]);
    /// ```
    pub fn subscribe_on(&self, scheduler: impl Scheduler) -> Observable<T> {
        let scheduler: SchedulerRef = Arc::new(scheduler);
        let source = self.clone();
        Observable::new(move |down: Subscriber<T>| {
            let outer = down.subscription().clone();
            let upstream = Subscription::new();
            let (s, up) = (Arc::clone(&scheduler), upstream.clone());
            outer.add(move || {
                if !up.is_disposed() {
                    s.schedule(Box::new(move || up.dispose()));
                }
            });
            let source = source.clone();
            let action = scheduler.schedule(Box::new(move || {
                let forward = SubscribeOn { down };
                source.subscribe_subscriber(Subscriber::with_subscription(forward, upstream));
            }));
            outer.add_subscription(action);
        })
    }
}

struct SubscribeOn<T> {
    down: Subscriber<T>,
}

impl<T: Send + 'static> Observer<T> for SubscribeOn<T> {
    fn on_next(&mut self, value: T) {
        self.down.on_next(value);
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.down.on_completed();
    }
}
