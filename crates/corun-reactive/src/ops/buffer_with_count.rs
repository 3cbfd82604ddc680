//! `buffer_with_count` (RxPY: `ops.buffer_with_count`).

use std::collections::VecDeque;

use corun_core::Error;

use crate::{Observable, Observer, Subscriber};

/// Lists of `count` consecutive elements (RxPY:
/// `ops.buffer_with_count(count)`), for [`pipe`](Observable::pipe); the
/// method is [`Observable::buffer_with_count`].
pub fn buffer_with_count<T>(count: usize) -> impl FnOnce(Observable<T>) -> Observable<Vec<T>>
where
    T: Clone + Send + 'static,
{
    move |source| source.buffer_with_count(count)
}

/// Lists of `count` elements, one starting every `skip` elements (RxPY:
/// `ops.buffer_with_count(count, skip)`), for [`pipe`](Observable::pipe);
/// the method is [`Observable::buffer_with_count_skip`].
pub fn buffer_with_count_skip<T>(
    count: usize,
    skip: usize,
) -> impl FnOnce(Observable<T>) -> Observable<Vec<T>>
where
    T: Clone + Send + 'static,
{
    move |source| source.buffer_with_count_skip(count, skip)
}

impl<T: Send + 'static> Observable<T> {
    /// Lists of `count` consecutive elements, each emitted when full; at
    /// the end, the last one if it is not empty (RxPY:
    /// `ops.buffer_with_count(count)`).
    ///
    /// # Panics
    ///
    /// If `count` is 0 (RxPY raises `ArgumentOutOfRangeException`).
    ///
    /// ```
    /// use corun::reactive::range;
    ///
    /// assert_eq!(range(1, 8).buffer_with_count(3).to_vec().unwrap(), [vec![1, 2, 3], vec![4, 5, 6], vec![7]]);
    /// ```
    pub fn buffer_with_count(&self, count: usize) -> Observable<Vec<T>>
    where
        T: Clone,
    {
        self.buffer_with_count_skip(count, count)
    }

    /// Lists of `count` elements, a new one starting every `skip`
    /// elements (RxPY: `ops.buffer_with_count(count, skip)`): they overlap
    /// when `skip < count` (each element is cloned into every list it
    /// belongs to) and leave elements out when `skip > count`. Each list
    /// is emitted when full; at the end, those not empty, oldest first.
    ///
    /// # Panics
    ///
    /// If `count` or `skip` is 0.
    ///
    /// ```
    /// use corun::reactive::range;
    ///
    /// let pairs = range(1, 6).buffer_with_count_skip(2, 1);
    /// assert_eq!(pairs.to_vec().unwrap(), [vec![1, 2], vec![2, 3], vec![3, 4], vec![4, 5], vec![5]]);
    /// ```
    pub fn buffer_with_count_skip(&self, count: usize, skip: usize) -> Observable<Vec<T>>
    where
        T: Clone,
    {
        assert!(count > 0, "buffer_with_count: count must be at least 1");
        assert!(skip > 0, "buffer_with_count: skip must be at least 1");
        self.lift(move |down| BufferWithCount {
            count,
            skip,
            seen: 0,
            buffers: VecDeque::from([Vec::new()]),
            down,
        })
    }
}

struct BufferWithCount<T> {
    count: usize,
    skip: usize,
    /// Elements seen so far.
    seen: usize,
    /// The open buffers, oldest first.
    buffers: VecDeque<Vec<T>>,
    down: Subscriber<Vec<T>>,
}

impl<T: Clone + Send + 'static> Observer<T> for BufferWithCount<T> {
    fn on_next(&mut self, value: T) {
        // Cloned into all open buffers but the newest, which takes it.
        let n = self.buffers.len();
        for (i, buffer) in self.buffers.iter_mut().enumerate() {
            if i + 1 == n {
                break;
            }
            buffer.push(value.clone());
        }
        if let Some(last) = self.buffers.back_mut() {
            last.push(value);
        }
        // RxPY's window_with_count: the oldest closes when the element that
        // fills it arrives.
        if self.seen + 1 >= self.count && (self.seen + 1 - self.count) % self.skip == 0 {
            if let Some(full) = self.buffers.pop_front() {
                self.down.on_next(full);
            }
        }
        self.seen += 1;
        if self.seen % self.skip == 0 {
            self.buffers.push_back(Vec::new());
        }
    }
    fn on_error(&mut self, error: Error) {
        self.buffers.clear();
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        while let Some(buffer) = self.buffers.pop_front() {
            if !buffer.is_empty() {
                self.down.on_next(buffer);
            }
        }
        self.down.on_completed();
    }
}
