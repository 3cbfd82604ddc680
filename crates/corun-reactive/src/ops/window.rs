//! `window` (RxPY: `ops.window(boundaries)`).

use corun_core::Error;

use super::gate::{Gate, gate};
use crate::{Observable, Observer, SharedSubscriber, Subject, Subscriber, Subscription};

/// The source cut into windows at each element of `boundaries` (RxPY:
/// `ops.window(boundaries)`), for [`pipe`](Observable::pipe); the method
/// is [`Observable::window`].
pub fn window<T, U>(
    boundaries: Observable<U>,
) -> impl FnOnce(Observable<T>) -> Observable<Observable<T>>
where
    T: Clone + Send + 'static,
    U: Send + 'static,
{
    move |source| source.window(boundaries)
}

impl<T: Send + 'static> Observable<T> {
    /// The source cut into consecutive windows, observables of its
    /// elements (RxPY: `ops.window(boundaries)`): the first window opens
    /// at the subscription; each element of `boundaries` completes the
    /// window open and opens the next. The end of either sequence, or an
    /// error of either, ends the open window and the sequence of windows
    /// alike.
    ///
    /// A window is hot (a [`Subject`]): subscribe to it when it arrives,
    /// or miss what it had before. Disposing the subscription to the
    /// windows stops the source, and with it the windows (RxPY keeps the
    /// source running while a window is subscribed to).
    ///
    /// ```
    /// use corun::reactive::Subject;
    /// use std::sync::{Arc, Mutex};
    ///
    /// let (source, ticks) = (Subject::new(), Subject::<()>::new());
    /// let windows = Arc::new(Mutex::new(Vec::new()));
    /// let w = windows.clone();
    /// source.observable().window(ticks.observable()).subscribe(move |window: corun::reactive::Observable<i32>| {
    ///     let w = w.clone();
    ///     let index = { let mut w = w.lock().unwrap(); w.push(Vec::new()); w.len() - 1 };
    ///     window.subscribe(move |x| w.lock().unwrap()[index].push(x));
    /// });
    /// source.on_next(1);
    /// source.on_next(2);
    /// ticks.on_next(());
    /// source.on_next(3);
    /// assert_eq!(*windows.lock().unwrap(), [vec![1, 2], vec![3]]);
    /// ```
    pub fn window<U: Send + 'static>(&self, boundaries: Observable<U>) -> Observable<Observable<T>>
    where
        T: Clone,
    {
        let source = self.clone();
        Observable::new(move |down: Subscriber<Observable<T>>| {
            let down = down.into_shared();
            let first = Subject::new();
            down.on_next(first.observable());
            let state = gate(first);
            let upstream = Subscription::new();
            down.subscription().add_subscription(upstream.clone());
            source.subscribe_subscriber(Subscriber::with_subscription(
                Elements {
                    state: state.clone(),
                    down: down.clone(),
                },
                upstream,
            ));
            if down.is_closed() {
                return;
            }
            let signal = Subscription::new();
            down.subscription().add_subscription(signal.clone());
            boundaries.subscribe_subscriber(Subscriber::with_subscription(
                Boundaries { state, down },
                signal,
            ));
        })
    }
}

/// The open window.
type State<T> = Gate<Subject<T>>;

fn end<T: Clone + Send + 'static>(
    state: &State<T>,
    down: &SharedSubscriber<Observable<T>>,
    error: Option<Error>,
) {
    let guard = state.lock();
    let window = guard.borrow().clone();
    match error {
        Some(error) => {
            window.on_error(error.clone());
            down.on_error(error);
        }
        None => {
            window.on_completed();
            down.on_completed();
        }
    }
}

/// The source's observer: elements go to the open window.
struct Elements<T> {
    state: State<T>,
    down: SharedSubscriber<Observable<T>>,
}

impl<T: Clone + Send + 'static> Observer<T> for Elements<T> {
    fn on_next(&mut self, value: T) {
        let guard = self.state.lock();
        let window = guard.borrow().clone();
        window.on_next(value);
    }
    fn on_error(&mut self, error: Error) {
        end(&self.state, &self.down, Some(error));
    }
    fn on_completed(&mut self) {
        end(&self.state, &self.down, None);
    }
}

/// The boundaries' observer: each element starts a new window.
struct Boundaries<T> {
    state: State<T>,
    down: SharedSubscriber<Observable<T>>,
}

impl<T: Clone + Send + 'static, U> Observer<U> for Boundaries<T> {
    fn on_next(&mut self, _: U) {
        let guard = self.state.lock();
        let next = Subject::new();
        let closed = guard.replace(next.clone());
        closed.on_completed();
        self.down.on_next(next.observable());
    }
    fn on_error(&mut self, error: Error) {
        end(&self.state, &self.down, Some(error));
    }
    fn on_completed(&mut self) {
        end(&self.state, &self.down, None);
    }
}
