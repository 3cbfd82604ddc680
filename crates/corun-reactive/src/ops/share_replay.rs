//! `share_replay` (RxPY: `ops.replay(buffer_size)` then `ref_count()`;
//! RxJS `shareReplay`).

use crate::{Observable, ReplaySubject};

use super::share::ref_counted;

/// One shared subscription to the source, replaying the last `buffer_size`
/// elements to each new subscriber (RxJS: `shareReplay(buffer_size)`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::share_replay`].
pub fn share_replay<T: Clone + Send + 'static>(
    buffer_size: usize,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.share_replay(buffer_size)
}

impl<T: Clone + Send + 'static> Observable<T> {
    /// One subscription to this observable, shared as by
    /// [`share`](Self::share), through a [`ReplaySubject`] that gives each
    /// new subscriber the last `buffer_size` elements first (RxPY:
    /// `ops.replay(buffer_size=n)` then `ops.ref_count()`; RxJS
    /// `shareReplay`).
    ///
    /// - Once this observable has ended, the replay stays: later
    ///   subscribers get the last elements and the end, without a new
    ///   subscription (a cached result).
    /// - When every subscriber leaves before the end, the subscription to
    ///   this observable is disposed (RxJS's `shareReplay` keeps it by
    ///   default, a well-known leak), and the next subscriber starts
    ///   afresh, with an empty replay.
    ///
    /// ```
    /// use corun::reactive::Observable;
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// let fetches = Arc::new(AtomicU32::new(0));
    /// let f = fetches.clone();
    /// let config = Observable::new(move |mut s| {
    ///     f.fetch_add(1, Ordering::SeqCst);
    ///     s.on_next("debug=1");
    ///     s.on_next("port=80");
    ///     s.on_completed();
    /// })
    /// .share_replay(1);
    /// assert_eq!(config.to_vec().unwrap(), ["debug=1", "port=80"]);
    /// assert_eq!(config.to_vec().unwrap(), ["port=80"]);
    /// assert_eq!(fetches.load(Ordering::SeqCst), 1);
    /// ```
    pub fn share_replay(&self, buffer_size: usize) -> Observable<T> {
        ref_counted(self, true, move || {
            let subject = ReplaySubject::with_buffer_size(buffer_size);
            (subject.observable(), Box::new(subject))
        })
    }
}
