//! `finally_action` (RxPY: `ops.finally_action`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use corun_core::Error;

use crate::Observable;
use crate::observer::report_unhandled;

/// The source, with `action` run when each subscription ends (RxPY:
/// `ops.finally_action(action)`), for [`pipe`](Observable::pipe); the
/// method is [`Observable::finally_action`].
pub fn finally_action<T, F>(action: F) -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Send + 'static,
    F: Fn() + Send + Sync + 'static,
{
    move |source| source.finally_action(action)
}

impl<T: Send + 'static> Observable<T> {
    /// The source, with `action` run once per subscription when it ends:
    /// after the observer got `on_completed` or `on_error`, or when the
    /// subscription is disposed, or when subscribing to the source panics
    /// (RxPY: `ops.finally_action`). A panic in `action` is reported on
    /// standard error (the subscription has ended; nobody is left to get
    /// it as an error).
    ///
    /// ```
    /// use corun::reactive::range;
    /// use std::sync::{Arc, Mutex};
    ///
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let (l1, l2) = (log.clone(), log.clone());
    /// range(1, 3)
    ///     .finally_action(move || l1.lock().unwrap().push("finally".to_string()))
    ///     .subscribe_all(move |x| l2.lock().unwrap().push(x.to_string()), |_| {}, || {});
    /// assert_eq!(*log.lock().unwrap(), ["1", "2", "finally"]);
    /// ```
    pub fn finally_action(&self, action: impl Fn() + Send + Sync + 'static) -> Observable<T> {
        let action = Arc::new(action);
        let source = self.clone();
        Observable::new(move |down| {
            let action = Arc::clone(&action);
            down.add(move || {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| action())) {
                    report_unhandled(Error::from_panic(&*payload));
                }
            });
            source.subscribe_subscriber(down);
        })
    }
}
