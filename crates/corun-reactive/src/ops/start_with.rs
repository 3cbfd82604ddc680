//! `start_with` (RxPY: `ops.start_with`).

use std::sync::Arc;

use crate::{Observable, Subscriber};

/// `values`, then the source's elements (RxPY: `ops.start_with(*values)`),
/// for [`pipe`](Observable::pipe); the method is [`Observable::start_with`].
pub fn start_with<T>(values: impl Into<Vec<T>>) -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Clone + Send + Sync + 'static,
{
    let values = values.into();
    move |source| source.start_with(values)
}

impl<T: Send + 'static> Observable<T> {
    /// `values`, then the source's elements (RxPY: `ops.start_with`): each
    /// subscription gets clones of `values`, emitted when it subscribes,
    /// before it subscribes to the source (which it does not, if disposed
    /// meanwhile).
    ///
    /// ```
    /// use corun::reactive::range;
    ///
    /// assert_eq!(range(3, 5).start_with([1, 2]).to_vec().unwrap(), [1, 2, 3, 4]);
    /// ```
    pub fn start_with(&self, values: impl Into<Vec<T>>) -> Observable<T>
    where
        T: Clone + Sync,
    {
        let values: Arc<[T]> = values.into().into();
        let source = self.clone();
        Observable::new(move |mut down: Subscriber<T>| {
            for value in values.iter() {
                if down.is_closed() {
                    return;
                }
                down.on_next(value.clone());
            }
            if !down.is_closed() {
                source.subscribe_subscriber(down);
            }
        })
    }
}
