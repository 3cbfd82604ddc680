//! `buffer_with_time` (RxPY: `ops.buffer_with_time`).

use std::sync::Arc;
use std::time::Duration;

use corun_core::Error;

use super::window_with_time::{Slicer, sliced_by_time};
use crate::Observable;
use crate::scheduler::Scheduler;

/// Lists of the elements of each `timespan` (RxPY:
/// `ops.buffer_with_time(timespan, scheduler=scheduler)`), for
/// [`pipe`](Observable::pipe); the method is
/// [`Observable::buffer_with_time`].
pub fn buffer_with_time<T>(
    timespan: Duration,
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<Vec<T>>
where
    T: Clone + Send + 'static,
{
    move |source| source.buffer_with_time(timespan, scheduler)
}

/// Lists of the elements of `timespan`, one starting every `timeshift`
/// (RxPY: `ops.buffer_with_time(timespan, timeshift, scheduler)`), for
/// [`pipe`](Observable::pipe); the method is
/// [`Observable::buffer_with_time_shift`].
pub fn buffer_with_time_shift<T>(
    timespan: Duration,
    timeshift: Duration,
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<Vec<T>>
where
    T: Clone + Send + 'static,
{
    move |source| source.buffer_with_time_shift(timespan, timeshift, scheduler)
}

impl<T: Send + 'static> Observable<T> {
    /// A list of the elements of each consecutive `timespan`, on
    /// `scheduler`, emitted when the span ends, empty or not (RxPY:
    /// `ops.buffer_with_time(timespan)`); at the source's end, the list
    /// open, then the end; an error drops it. (See
    /// [`debounce`](Self::debounce) for the choice of scheduler.)
    ///
    /// # Panics
    ///
    /// If `timespan` is zero.
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, on_completed, on_next};
    /// use std::time::Duration;
    ///
    /// let ts = TestScheduler::new();
    /// let xs = ts.create_hot_observable(vec![
    ///     on_next(210, 1), on_next(240, 2), on_next(320, 3), on_completed(450),
    /// ]);
    /// let (source, s) = (xs.observable(), ts.clone());
    /// let buffers = ts.start(move || source.buffer_with_time(Duration::from_millis(100), s));
    /// assert_eq!(
    ///     buffers,
    ///     [on_next(300, vec![1, 2]), on_next(400, vec![3]), on_next(450, vec![]), on_completed(450)]
    /// );
    /// ```
    pub fn buffer_with_time(
        &self,
        timespan: Duration,
        scheduler: impl Scheduler,
    ) -> Observable<Vec<T>>
    where
        T: Clone,
    {
        self.buffer_with_time_shift(timespan, timespan, scheduler)
    }

    /// Lists of the elements of `timespan`, a new one starting every
    /// `timeshift`, on `scheduler` (RxPY: `ops.buffer_with_time(timespan,
    /// timeshift)`): they overlap when `timeshift < timespan` (each
    /// element is cloned into every list open) and leave gaps when it is
    /// longer. Each is emitted when its span ends; at the source's end,
    /// those open, oldest first.
    ///
    /// # Panics
    ///
    /// If `timespan` or `timeshift` is zero.
    pub fn buffer_with_time_shift(
        &self,
        timespan: Duration,
        timeshift: Duration,
        scheduler: impl Scheduler,
    ) -> Observable<Vec<T>>
    where
        T: Clone,
    {
        sliced_by_time(
            self.clone(),
            timespan,
            timeshift,
            Arc::new(scheduler),
            || Buffers,
        )
    }
}

/// Buffers: lists.
struct Buffers;

impl<T: Send + 'static> Slicer<T> for Buffers {
    type Slice = Vec<T>;
    type Out = Vec<T>;
    fn open(&mut self) -> (Vec<T>, Option<Vec<T>>) {
        (Vec::new(), None)
    }
    fn push(slice: &mut Vec<T>, value: T) {
        slice.push(value);
    }
    fn close(slice: Vec<T>) -> Option<Vec<T>> {
        Some(slice)
    }
    fn fail(_: Vec<T>, _: &Error) {}
}
