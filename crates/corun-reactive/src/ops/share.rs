//! `share` (RxPY: `ops.share`, `publish` then `ref_count`), and the
//! reference-counted connection that `share_replay` uses too.

use std::sync::Arc;

use corun_core::Error;
use parking_lot::Mutex;

use crate::{Observable, Observer, Subject, Subscriber, Subscription};

/// One subscription to the source, shared by all subscribers while there
/// are any (RxPY: `ops.share()`), for [`pipe`](Observable::pipe); the
/// method is [`Observable::share`].
pub fn share<T: Clone + Send + 'static>() -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.share()
}

impl<T: Clone + Send + 'static> Observable<T> {
    /// One subscription to this observable, shared (RxPY: `ops.share()`,
    /// which is `publish()` then `ref_count()`): the first subscriber
    /// subscribes to it, through a [`Subject`]; later ones join that
    /// subject and see what comes after; when the last one is disposed,
    /// the subscription to this observable is too.
    ///
    /// After the end (or once every subscriber has left), the next
    /// subscriber starts a new subscription to this observable, on a new
    /// subject. (RxPY keeps one subject for good, so a subscriber that comes
    /// after the end gets only that end; RxJS's `share` starts anew, as
    /// here.)
    ///
    /// ```
    /// use corun::reactive::Observable;
    /// use std::sync::{Arc, Mutex};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// let runs = Arc::new(AtomicU32::new(0));
    /// let r = runs.clone();
    /// let source = corun::reactive::Subject::new();
    /// let s = source.clone();
    /// let shared = Observable::new(move |sub| {
    ///     r.fetch_add(1, Ordering::SeqCst);
    ///     s.observable().subscribe_subscriber(sub);
    /// })
    /// .share();
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let (a, b) = (seen.clone(), seen.clone());
    /// let first = shared.subscribe(move |x| a.lock().unwrap().push(("first", x)));
    /// let second = shared.subscribe(move |x| b.lock().unwrap().push(("second", x)));
    /// source.on_next(1);
    /// first.dispose();
    /// second.dispose(); // the last one: the source's subscription ends
    /// assert_eq!(runs.load(Ordering::SeqCst), 1);
    /// assert!(!source.has_observers());
    /// assert_eq!(*seen.lock().unwrap(), [("first", 1), ("second", 1)]);
    /// ```
    pub fn share(&self) -> Observable<T> {
        ref_counted(self, false, || {
            let subject = Subject::new();
            (subject.observable(), Box::new(subject))
        })
    }
}

/// The two sides of a fresh subject, for [`ref_counted`].
pub(crate) type Hub<T> = (Observable<T>, Box<dyn Observer<T>>);

/// The reference-counted connection of `share` and `share_replay`:
/// subscribers subscribe to a subject that `make` makes for each
/// connection; the first subscriber connects the subject to `source`, the
/// last one to leave disconnects it. With `keep_after_end`, a connection
/// whose source has ended stays (its subject replays to later
/// subscribers) instead of a new one being made.
pub(crate) fn ref_counted<T: Send + 'static>(
    source: &Observable<T>,
    keep_after_end: bool,
    make: impl Fn() -> Hub<T> + Send + Sync + 'static,
) -> Observable<T> {
    let source = source.clone();
    let shared: Arc<Mutex<Shared<T>>> = Arc::new(Mutex::new(Shared {
        connection: None,
        next_id: 0,
    }));
    Observable::new(move |down: Subscriber<T>| {
        let (hub, id, connect) = {
            let mut state = shared.lock();
            match &mut state.connection {
                Some(connection) => {
                    connection.count += 1;
                    (connection.hub.clone(), connection.id, None)
                }
                None => {
                    let (hub, input) = make();
                    let id = state.next_id;
                    state.next_id += 1;
                    let subscription = Subscription::new();
                    state.connection = Some(Connection {
                        id,
                        hub: hub.clone(),
                        count: 1,
                        ended: false,
                        subscription: subscription.clone(),
                    });
                    (hub, id, Some((input, subscription)))
                }
            }
        };
        let s = Arc::clone(&shared);
        down.add(move || release(&s, id, keep_after_end));
        hub.subscribe_subscriber(down);
        // Connected with the lock let go: the source may emit at once, to
        // subscribers that may subscribe again.
        if let Some((input, subscription)) = connect {
            let observer = Connect {
                input,
                shared: Arc::clone(&shared),
                id,
                keep_after_end,
            };
            source.subscribe_subscriber(Subscriber::with_subscription(observer, subscription));
        }
    })
}

struct Shared<T> {
    connection: Option<Connection<T>>,
    next_id: u64,
}

struct Connection<T> {
    id: u64,
    /// The subject's observable side.
    hub: Observable<T>,
    /// Subscribers of this connection not yet gone.
    count: usize,
    /// Whether the source ended.
    ended: bool,
    /// The subscription to the source.
    subscription: Subscription,
}

/// A subscriber of connection `id` left.
fn release<T>(shared: &Mutex<Shared<T>>, id: u64, keep_after_end: bool) {
    let mut state = shared.lock();
    let Some(connection) = state.connection.as_mut().filter(|c| c.id == id) else {
        return;
    };
    connection.count -= 1;
    if connection.count > 0 || (keep_after_end && connection.ended) {
        return;
    }
    let connection = state.connection.take().expect("checked");
    drop(state);
    connection.subscription.dispose();
}

/// Feeds the source's events to the subject of connection `id`.
struct Connect<T> {
    input: Box<dyn Observer<T>>,
    shared: Arc<Mutex<Shared<T>>>,
    id: u64,
    keep_after_end: bool,
}

impl<T: Send + 'static> Connect<T> {
    /// The source ended: a new subscriber gets a new connection, unless
    /// this one is kept to replay.
    fn ended(&self) {
        let mut state = self.shared.lock();
        if let Some(connection) = state.connection.as_mut().filter(|c| c.id == self.id) {
            connection.ended = true;
            if !self.keep_after_end {
                state.connection = None;
            }
        }
    }
}

impl<T: Send + 'static> Observer<T> for Connect<T> {
    fn on_next(&mut self, value: T) {
        self.input.on_next(value);
    }
    fn on_error(&mut self, error: Error) {
        self.ended();
        self.input.on_error(error);
    }
    fn on_completed(&mut self) {
        self.ended();
        self.input.on_completed();
    }
}
