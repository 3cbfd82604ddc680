//! `window_with_time` (RxPY: `ops.window_with_time`), and the timing that
//! `buffer_with_time` shares with it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corun_core::Error;

use super::gate::{Gate, gate};
use crate::scheduler::{Scheduler, SchedulerRef};
use crate::{
    Observable, Observer, SerialSubscription, SharedSubscriber, Subject, Subscriber, Subscription,
};

/// Windows of `timespan` (RxPY: `ops.window_with_time(timespan,
/// scheduler=scheduler)`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::window_with_time`].
pub fn window_with_time<T>(
    timespan: Duration,
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<Observable<T>>
where
    T: Clone + Send + 'static,
{
    move |source| source.window_with_time(timespan, scheduler)
}

/// Windows of `timespan`, one opening every `timeshift` (RxPY:
/// `ops.window_with_time(timespan, timeshift, scheduler)`), for
/// [`pipe`](Observable::pipe); the method is
/// [`Observable::window_with_time_shift`].
pub fn window_with_time_shift<T>(
    timespan: Duration,
    timeshift: Duration,
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<Observable<T>>
where
    T: Clone + Send + 'static,
{
    move |source| source.window_with_time_shift(timespan, timeshift, scheduler)
}

impl<T: Send + 'static> Observable<T> {
    /// Consecutive windows (hot observables, see [`window`](Self::window))
    /// of `timespan` each, on `scheduler` (RxPY:
    /// `ops.window_with_time(timespan)`): the first opens at the
    /// subscription, and each closes when the next opens. The source's end
    /// or error ends the open window and the windows. (See
    /// [`debounce`](Self::debounce) for the choice of scheduler.)
    ///
    /// # Panics
    ///
    /// If `timespan` is zero.
    ///
    /// ```
    /// use corun::reactive::{Observable, TestScheduler, on_next};
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// let ts = TestScheduler::new();
    /// let xs = ts.create_hot_observable(vec![on_next(210, 1), on_next(240, 2), on_next(320, 3)]);
    /// let windows = Arc::new(Mutex::new(Vec::<Vec<(u64, i32)>>::new()));
    /// let (w, t) = (windows.clone(), ts.clone());
    /// let _ = xs
    ///     .observable()
    ///     .window_with_time(Duration::from_millis(100), ts.clone())
    ///     .subscribe(move |window: Observable<i32>| {
    ///         let (w, t) = (w.clone(), t.clone());
    ///         let index = {
    ///             let mut w = w.lock().unwrap();
    ///             w.push(Vec::new());
    ///             w.len() - 1
    ///         };
    ///         window.subscribe(move |x| w.lock().unwrap()[index].push((t.clock(), x)));
    ///     });
    /// ts.advance_to(350);
    /// let windows = windows.lock().unwrap();
    /// assert_eq!(*windows, [vec![], vec![], vec![(210, 1), (240, 2)], vec![(320, 3)]]);
    /// ```
    ///
    /// (Subscribed at 0, the windows are [0, 100), [100, 200), [200, 300)
    /// and [300, 400).)
    pub fn window_with_time(
        &self,
        timespan: Duration,
        scheduler: impl Scheduler,
    ) -> Observable<Observable<T>>
    where
        T: Clone,
    {
        self.window_with_time_shift(timespan, timespan, scheduler)
    }

    /// Windows of `timespan` each, one opening every `timeshift`, on
    /// `scheduler` (RxPY: `ops.window_with_time(timespan, timeshift)`):
    /// they overlap when `timeshift < timespan` (each element is cloned
    /// into every window open) and leave gaps when it is longer. Windows
    /// open and close at times counted from the subscription, so they do
    /// not drift on a real clock.
    ///
    /// # Panics
    ///
    /// If `timespan` or `timeshift` is zero.
    pub fn window_with_time_shift(
        &self,
        timespan: Duration,
        timeshift: Duration,
        scheduler: impl Scheduler,
    ) -> Observable<Observable<T>>
    where
        T: Clone,
    {
        sliced_by_time(
            self.clone(),
            timespan,
            timeshift,
            Arc::new(scheduler),
            || Windows,
        )
    }
}

/// What is cut by time: windows (subjects, emitted when they open) or
/// buffers (lists, emitted when they close).
pub(super) trait Slicer<T>: Send + 'static {
    /// An open slice.
    type Slice: Send + 'static;
    /// What goes downstream.
    type Out: Send + 'static;
    /// A new slice, and what to emit as it opens.
    fn open(&mut self) -> (Self::Slice, Option<Self::Out>);
    /// Adds `value` to `slice`.
    fn push(slice: &mut Self::Slice, value: T);
    /// Closes `slice`; what to emit.
    fn close(slice: Self::Slice) -> Option<Self::Out>;
    /// Fails `slice` with `error`.
    fn fail(slice: Self::Slice, error: &Error);
}

/// Windows: subjects.
struct Windows;

impl<T: Clone + Send + 'static> Slicer<T> for Windows {
    type Slice = Subject<T>;
    type Out = Observable<T>;
    fn open(&mut self) -> (Subject<T>, Option<Observable<T>>) {
        let subject = Subject::new();
        let observable = subject.observable();
        (subject, Some(observable))
    }
    fn push(slice: &mut Subject<T>, value: T) {
        slice.on_next(value);
    }
    fn close(slice: Subject<T>) -> Option<Observable<T>> {
        slice.on_completed();
        None
    }
    fn fail(slice: Subject<T>, error: &Error) {
        slice.on_error(error.clone());
    }
}

/// The slices open and the timing (RxPY's `create_timer`, with absolute
/// times counted from `start`).
struct Timing<S: Slicer<T>, T> {
    slicer: S,
    open: VecDeque<S::Slice>,
    start: Instant,
    next_span: Duration,
    next_shift: Duration,
}

/// The operator behind `window_with_time` and `buffer_with_time` (RxPY
/// builds the buffers from the windows with `flat_map(to_list())`; here
/// they are filled directly).
pub(super) fn sliced_by_time<T, S>(
    source: Observable<T>,
    timespan: Duration,
    timeshift: Duration,
    scheduler: SchedulerRef,
    slicer: impl Fn() -> S + Send + Sync + 'static,
) -> Observable<S::Out>
where
    T: Clone + Send + 'static,
    S: Slicer<T>,
{
    assert!(!timespan.is_zero(), "the timespan must not be zero");
    assert!(!timeshift.is_zero(), "the timeshift must not be zero");
    Observable::new(move |down: Subscriber<S::Out>| {
        let down = down.into_shared();
        let timer = SerialSubscription::new();
        down.subscription().add_subscription(timer.subscription());
        let mut slicer = slicer();
        let (first, out) = slicer.open();
        let state = gate(Timing {
            slicer,
            open: VecDeque::from([first]),
            start: scheduler.now(),
            next_span: timespan,
            next_shift: timeshift,
        });
        if let Some(out) = out {
            down.on_next(out);
        }
        let cut = Cut {
            state: state.clone(),
            timeshift,
            scheduler: Arc::clone(&scheduler),
            timer,
            down: down.clone(),
        };
        Arc::new(cut).schedule_next();
        if down.is_closed() {
            return;
        }
        let upstream = Subscription::new();
        down.subscription().add_subscription(upstream.clone());
        source.subscribe_subscriber(Subscriber::with_subscription(
            Slices { state, down },
            upstream,
        ));
    })
}

/// The timer's side: opens and closes slices.
struct Cut<S: Slicer<T>, T> {
    state: Gate<Timing<S, T>>,
    timeshift: Duration,
    scheduler: SchedulerRef,
    timer: SerialSubscription,
    down: SharedSubscriber<S::Out>,
}

impl<T: Clone + Send + 'static, S: Slicer<T>> Cut<S, T> {
    /// Schedules the next opening or closing (both, when they coincide).
    fn schedule_next(self: Arc<Self>) {
        let (due, is_span, is_shift) = {
            let guard = self.state.lock();
            let mut timing = guard.borrow_mut();
            let is_span = timing.next_span <= timing.next_shift;
            let is_shift = timing.next_shift <= timing.next_span;
            let at = if is_span {
                timing.next_span
            } else {
                timing.next_shift
            };
            if is_span {
                timing.next_span += self.timeshift;
            }
            if is_shift {
                timing.next_shift += self.timeshift;
            }
            (timing.start + at, is_span, is_shift)
        };
        let this = Arc::clone(&self);
        let action = self.scheduler.schedule_absolute(
            due,
            Box::new(move || {
                this.fire(is_span, is_shift);
                if !this.down.is_closed() {
                    Arc::clone(&this).schedule_next();
                }
            }),
        );
        self.timer.set(action);
    }

    fn fire(&self, is_span: bool, is_shift: bool) {
        let guard = self.state.lock();
        if is_shift {
            let out = {
                let mut timing = guard.borrow_mut();
                let (slice, out) = timing.slicer.open();
                timing.open.push_back(slice);
                out
            };
            if let Some(out) = out {
                self.down.on_next(out);
            }
        }
        if is_span {
            let closed = guard.borrow_mut().open.pop_front();
            if let Some(out) = closed.and_then(S::close) {
                self.down.on_next(out);
            }
        }
    }
}

/// The source's side: fills the open slices.
struct Slices<S: Slicer<T>, T> {
    state: Gate<Timing<S, T>>,
    down: SharedSubscriber<S::Out>,
}

impl<T: Clone + Send + 'static, S: Slicer<T>> Observer<T> for Slices<S, T> {
    fn on_next(&mut self, value: T) {
        let guard = self.state.lock();
        let mut timing = guard.borrow_mut();
        if let Some((last, rest)) = timing.open.make_contiguous().split_last_mut() {
            for slice in rest {
                S::push(slice, value.clone());
            }
            S::push(last, value);
        }
    }
    fn on_error(&mut self, error: Error) {
        let guard = self.state.lock();
        let open = std::mem::take(&mut guard.borrow_mut().open);
        for slice in open {
            S::fail(slice, &error);
        }
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        let guard = self.state.lock();
        let open = std::mem::take(&mut guard.borrow_mut().open);
        for slice in open {
            if let Some(out) = S::close(slice) {
                self.down.on_next(out);
            }
        }
        self.down.on_completed();
    }
}
