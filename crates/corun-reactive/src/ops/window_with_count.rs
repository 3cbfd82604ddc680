//! `window_with_count` (RxPY: `ops.window_with_count`).

use std::collections::VecDeque;

use corun_core::Error;

use crate::{Observable, Observer, Subject, Subscriber};

/// Windows of `count` consecutive elements (RxPY:
/// `ops.window_with_count(count)`), for [`pipe`](Observable::pipe); the
/// method is [`Observable::window_with_count`].
pub fn window_with_count<T>(count: usize) -> impl FnOnce(Observable<T>) -> Observable<Observable<T>>
where
    T: Clone + Send + 'static,
{
    move |source| source.window_with_count(count)
}

/// Windows of `count` elements, one opening every `skip` elements (RxPY:
/// `ops.window_with_count(count, skip)`), for [`pipe`](Observable::pipe);
/// the method is [`Observable::window_with_count_skip`].
pub fn window_with_count_skip<T>(
    count: usize,
    skip: usize,
) -> impl FnOnce(Observable<T>) -> Observable<Observable<T>>
where
    T: Clone + Send + 'static,
{
    move |source| source.window_with_count_skip(count, skip)
}

impl<T: Send + 'static> Observable<T> {
    /// Windows (hot observables, see [`window`](Self::window)) of `count`
    /// consecutive elements (RxPY: `ops.window_with_count(count)`): the
    /// first opens at the subscription, each completes with its last
    /// element and the next opens then; the source's end completes the
    /// open one (empty, if the count was just reached).
    ///
    /// # Panics
    ///
    /// If `count` is 0 (RxPY raises `ArgumentOutOfRangeException`).
    ///
    /// ```
    /// use corun::reactive::{Observable, range};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let windows = Arc::new(Mutex::new(Vec::<Vec<i32>>::new()));
    /// let w = windows.clone();
    /// range(1, 6).window_with_count(2).subscribe(move |window: Observable<i32>| {
    ///     let w = w.clone();
    ///     let index = {
    ///         let mut w = w.lock().unwrap();
    ///         w.push(Vec::new());
    ///         w.len() - 1
    ///     };
    ///     window.subscribe(move |x| w.lock().unwrap()[index].push(x));
    /// });
    /// assert_eq!(*windows.lock().unwrap(), [vec![1, 2], vec![3, 4], vec![5]]);
    /// ```
    pub fn window_with_count(&self, count: usize) -> Observable<Observable<T>>
    where
        T: Clone,
    {
        self.window_with_count_skip(count, count)
    }

    /// Windows of `count` elements, a new one opening every `skip`
    /// elements (RxPY: `ops.window_with_count(count, skip)`): they overlap
    /// when `skip < count` (each element is cloned into every window it
    /// belongs to) and leave elements out when `skip > count`.
    ///
    /// # Panics
    ///
    /// If `count` or `skip` is 0.
    pub fn window_with_count_skip(&self, count: usize, skip: usize) -> Observable<Observable<T>>
    where
        T: Clone,
    {
        assert!(count > 0, "window_with_count: count must be at least 1");
        assert!(skip > 0, "window_with_count: skip must be at least 1");
        let source = self.clone();
        Observable::new(move |mut down: Subscriber<Observable<T>>| {
            let first = Subject::new();
            down.on_next(first.observable());
            if down.is_closed() {
                return;
            }
            let observer = |down| WindowWithCount {
                count,
                skip,
                seen: 0,
                windows: VecDeque::from([first]),
                down,
            };
            source.subscribe_subscriber(down.chain(observer));
        })
    }
}

struct WindowWithCount<T> {
    count: usize,
    skip: usize,
    seen: usize,
    /// The open windows, oldest first.
    windows: VecDeque<Subject<T>>,
    down: Subscriber<Observable<T>>,
}

impl<T: Clone + Send + 'static> Observer<T> for WindowWithCount<T> {
    fn on_next(&mut self, value: T) {
        for window in &self.windows {
            window.on_next(value.clone());
        }
        if self.seen + 1 >= self.count && (self.seen + 1 - self.count) % self.skip == 0 {
            if let Some(full) = self.windows.pop_front() {
                full.on_completed();
            }
        }
        self.seen += 1;
        if self.seen % self.skip == 0 {
            let next = Subject::new();
            self.windows.push_back(next.clone());
            self.down.on_next(next.observable());
        }
    }
    fn on_error(&mut self, error: Error) {
        for window in self.windows.drain(..) {
            window.on_error(error.clone());
        }
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        for window in self.windows.drain(..) {
            window.on_completed();
        }
        self.down.on_completed();
    }
}
