//! [`LocalEmitter`]: the emitter of one thread (one event loop), without
//! atomics or locks.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::rc::Rc;

use corun_asyncio::{Handle, get_running_loop};
use corun_core::Error;

use crate::table::{
    CatchUnwind, ERROR, EventName, Listed, ListenerId, ListenerOutput, MaxListenersWarning,
    NEW_LISTENER, REMOVE_LISTENER, Table, TrackGuard, Tracker, WaitForComplete, default_warning,
    failed, no_loop, one_error, unhandled_error_event,
};

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), Error>>>>;
type PayloadFn<P> = Rc<dyn Fn(&P)>;
type AsyncFn<P> = Rc<dyn Fn(&P) -> BoxFuture>;
type ErrorFn = Rc<dyn Fn(&Error)>;
type MetaFn = Rc<dyn Fn(&str, ListenerId)>;
type WarningFn = Rc<dyn Fn(&MaxListenersWarning)>;

/// What a listener takes: the payload, the payload for a task, an error,
/// or a meta-event.
enum Kind<P> {
    Payload(PayloadFn<P>),
    Async(AsyncFn<P>),
    Error(ErrorFn),
    Meta(MetaFn),
}

impl<P> Clone for Kind<P> {
    fn clone(&self) -> Self {
        match self {
            Self::Payload(f) => Self::Payload(Rc::clone(f)),
            Self::Async(f) => Self::Async(Rc::clone(f)),
            Self::Error(f) => Self::Error(Rc::clone(f)),
            Self::Meta(f) => Self::Meta(Rc::clone(f)),
        }
    }
}

struct Entry<P> {
    id: ListenerId,
    /// For `once` listeners: set by the one emit that runs it.
    once: Option<Rc<Cell<bool>>>,
    kind: Kind<P>,
}

impl<P> Clone for Entry<P> {
    fn clone(&self) -> Self {
        Self {
            id: self.id,
            once: self.once.clone(),
            kind: self.kind.clone(),
        }
    }
}

impl<P> Listed for Entry<P> {
    fn id(&self) -> ListenerId {
        self.id
    }
}

type List<P> = Rc<[Entry<P>]>;

struct Inner<P> {
    table: RefCell<Table<List<P>>>,
    warning: RefCell<Option<WarningFn>>,
    tracker: Tracker,
}

/// [`EventEmitter`](crate::EventEmitter) for one thread: the same API and
/// rules, with `Rc` and `RefCell` instead of `Arc`, atomics and a lock, so
/// each emit is cheaper; neither `Send` nor `Sync`. Listeners need not be
/// `Send`, nor async listeners' futures: they run on the thread's event
/// loop. Clones are handles to the same emitter.
///
/// # The rules of an emit
///
/// - [`emit`](Self::emit) runs the listeners of a **snapshot** taken as it
///   starts: one added meanwhile waits for the next emit, and one removed
///   meanwhile still runs this time (Node's rule). No lock is held while a
///   listener runs: a listener may add or remove listeners, or emit, on
///   this emitter.
/// - A [`once`](Self::once) listener runs exactly once, even when an emit
///   from one of the listeners reaches it first: the emit that claims it
///   removes and runs it; the others skip it.
/// - A listener that panics is caught; the listeners after it still run,
///   and the panic, as an [`Error`] of kind
///   [`Panicked`](corun_core::ErrorKind::Panicked), reaches the
///   [`ERROR`](crate::ERROR) event. With nobody listening to `error`,
///   `emit` returns it.
///
/// # The `error` event and the meta-events
///
/// `error` carries a [`corun::Error`](corun_core::Error), whatever `P` is:
/// its listeners are added with [`on_error`](Self::on_error) and it is
/// emitted with [`emit_error`](Self::emit_error) (and by failing
/// listeners). They are listed under the name `"error"` like any others
/// (`listener_count("error")`, `listeners`, `event_names`, `off`,
/// `remove_all_listeners`). Listeners added with `on("error", …)` take
/// `&P`, and `emit("error", payload)` reaches only them; either kind of
/// `error` emit with no listener of its kind returns an error, as Node
/// throws.
///
/// The meta-events [`NEW_LISTENER`](crate::NEW_LISTENER) and
/// [`REMOVE_LISTENER`](crate::REMOVE_LISTENER) carry the event's name and
/// the listener's [`ListenerId`]: listeners for them are added with
/// [`on_new_listener`](Self::on_new_listener) and
/// [`on_remove_listener`](Self::on_remove_listener), and are listed under
/// those names. `new_listener` is emitted before the listener is added,
/// `remove_listener` after it is removed, as Node does.
///
/// # Examples
///
/// ```
/// use corun::events::LocalEmitter;
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let emitter = LocalEmitter::new();
/// let total = Rc::new(Cell::new(0));
/// let t = total.clone();
/// emitter.on("data", move |x: &u32| t.set(t.get() + x));
/// assert!(emitter.emit("data", 5).unwrap());
/// assert!(!emitter.emit("other", 1).unwrap()); // nobody listens
/// assert!(emitter.emit("data", 2).unwrap());
/// assert_eq!(total.get(), 7);
/// ```
pub struct LocalEmitter<P> {
    inner: Rc<Inner<P>>,
}

impl<P> Clone for LocalEmitter<P> {
    fn clone(&self) -> Self {
        Self {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<P> Default for LocalEmitter<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P> LocalEmitter<P> {
    /// An emitter with no listeners and a limit of
    /// [`DEFAULT_MAX_LISTENERS`](crate::DEFAULT_MAX_LISTENERS) per event.
    pub fn new() -> Self {
        Self {
            inner: Rc::new(Inner {
                table: RefCell::new(Table::new()),
                warning: RefCell::new(None),
                tracker: Tracker::default(),
            }),
        }
    }

    /// Adds `listener` for `name`, after the others (Node:
    /// `emitter.on(name, listener)`; pyee: `ee.on(name, f)`).
    ///
    /// ```
    /// use corun::events::LocalEmitter;
    ///
    /// let emitter = LocalEmitter::<String>::new();
    /// let id = emitter.on("greet", |name| println!("hello, {name}"));
    /// assert_eq!(emitter.listeners("greet"), [id]);
    /// ```
    pub fn on(&self, name: impl Into<EventName>, listener: impl Fn(&P) + 'static) -> ListenerId {
        self.add(name.into(), Kind::Payload(Rc::new(listener)), false, false)
    }

    /// The same as [`on`](Self::on) (Node: `addListener`).
    pub fn add_listener(
        &self,
        name: impl Into<EventName>,
        listener: impl Fn(&P) + 'static,
    ) -> ListenerId {
        self.on(name, listener)
    }

    /// Adds `listener` for `name` before the others (Node:
    /// `prependListener`).
    pub fn prepend_listener(
        &self,
        name: impl Into<EventName>,
        listener: impl Fn(&P) + 'static,
    ) -> ListenerId {
        self.add(name.into(), Kind::Payload(Rc::new(listener)), false, true)
    }

    /// Adds `listener` for the next emit of `name` only: it is removed
    /// (emitting `remove_listener`) just before it runs (Node and pyee:
    /// `once`).
    ///
    /// ```
    /// use corun::events::LocalEmitter;
    ///
    /// let emitter = LocalEmitter::<()>::new();
    /// emitter.once("ready", |_| println!("ready!"));
    /// assert!(emitter.emit("ready", ()).unwrap());
    /// assert!(!emitter.emit("ready", ()).unwrap()); // it ran once
    /// ```
    pub fn once(&self, name: impl Into<EventName>, listener: impl Fn(&P) + 'static) -> ListenerId {
        self.add(name.into(), Kind::Payload(Rc::new(listener)), true, false)
    }

    /// [`once`](Self::once), before the others (Node:
    /// `prependOnceListener`).
    pub fn prepend_once_listener(
        &self,
        name: impl Into<EventName>,
        listener: impl Fn(&P) + 'static,
    ) -> ListenerId {
        self.add(name.into(), Kind::Payload(Rc::new(listener)), true, true)
    }

    /// Adds a listener to the [`ERROR`](crate::ERROR) event: it takes the
    /// failures of listeners and whatever [`emit_error`](Self::emit_error)
    /// emits (Node: `emitter.on('error', …)`).
    pub fn on_error(&self, listener: impl Fn(&Error) + 'static) -> ListenerId {
        self.add(ERROR.into(), Kind::Error(Rc::new(listener)), false, false)
    }

    /// [`on_error`](Self::on_error) for the next error only.
    pub fn once_error(&self, listener: impl Fn(&Error) + 'static) -> ListenerId {
        self.add(ERROR.into(), Kind::Error(Rc::new(listener)), true, false)
    }

    /// Adds a listener to [`NEW_LISTENER`](crate::NEW_LISTENER): it is
    /// told the event's name and the id of each listener about to be added
    /// (Node: `on('newListener', …)`).
    pub fn on_new_listener(&self, listener: impl Fn(&str, ListenerId) + 'static) -> ListenerId {
        self.add(
            NEW_LISTENER.into(),
            Kind::Meta(Rc::new(listener)),
            false,
            false,
        )
    }

    /// Adds a listener to [`REMOVE_LISTENER`](crate::REMOVE_LISTENER): it
    /// is told the event's name and the id of each listener just removed
    /// (Node: `on('removeListener', …)`).
    pub fn on_remove_listener(&self, listener: impl Fn(&str, ListenerId) + 'static) -> ListenerId {
        self.add(
            REMOVE_LISTENER.into(),
            Kind::Meta(Rc::new(listener)),
            false,
            false,
        )
    }

    /// [`on_new_listener`](Self::on_new_listener) for the next added
    /// listener only.
    pub fn once_new_listener(&self, listener: impl Fn(&str, ListenerId) + 'static) -> ListenerId {
        self.add(
            NEW_LISTENER.into(),
            Kind::Meta(Rc::new(listener)),
            true,
            false,
        )
    }

    /// [`on_remove_listener`](Self::on_remove_listener) for the next
    /// removed listener only.
    pub fn once_remove_listener(
        &self,
        listener: impl Fn(&str, ListenerId) + 'static,
    ) -> ListenerId {
        self.add(
            REMOVE_LISTENER.into(),
            Kind::Meta(Rc::new(listener)),
            true,
            false,
        )
    }

    /// Removes listener `id`, whatever its event (Node: `off`). Returns
    /// whether it was there. An emit already under way still runs it.
    pub fn off(&self, id: ListenerId) -> bool {
        let name = self.inner.table.borrow_mut().find(id);
        name.is_some_and(|name| self.remove_listener(&name, id))
    }

    /// Removes listener `id` from `name` (Node:
    /// `removeListener(name, listener)`), then emits `remove_listener`.
    /// Returns whether it was there.
    pub fn remove_listener(&self, name: &str, id: ListenerId) -> bool {
        let (removed, meta) = {
            let mut table = self.inner.table.borrow_mut();
            let removed = table.remove(name, id);
            (removed, table.get(REMOVE_LISTENER).cloned())
        };
        if removed {
            if let Some(meta) = meta {
                self.emit_meta(REMOVE_LISTENER, &meta, name, id);
            }
        }
        removed
    }

    /// Removes every listener of `name`, or of every event with `None`
    /// (Node: `removeAllListeners([name])`). With `remove_listener`
    /// listeners, each removal is told to them, the most recent listener
    /// first, and with `None` the `remove_listener` listeners go last.
    pub fn remove_all_listeners(&self, name: Option<&str>) {
        let has_meta = self.inner.table.borrow_mut().get(REMOVE_LISTENER).is_some();
        match name {
            Some(name) if has_meta => {
                for id in self.listeners(name).into_iter().rev() {
                    self.remove_listener(name, id);
                }
            }
            Some(name) => self.inner.table.borrow_mut().clear(name),
            None if has_meta => {
                for name in self.event_names() {
                    if name != REMOVE_LISTENER {
                        self.remove_all_listeners(Some(&name));
                    }
                }
                self.remove_all_listeners(Some(REMOVE_LISTENER));
            }
            None => self.inner.table.borrow_mut().clear_all(),
        }
    }

    /// How many listeners `name` has, of every kind (Node:
    /// `listenerCount`).
    pub fn listener_count(&self, name: &str) -> usize {
        self.inner.table.borrow_mut().count(name)
    }

    /// The ids of `name`'s listeners, in the order an emit runs them
    /// (Node: `listeners(name)`, a copy).
    pub fn listeners(&self, name: &str) -> Vec<ListenerId> {
        self.inner.table.borrow_mut().ids(name)
    }

    /// The events that have listeners, in the order they were first added
    /// (Node: `eventNames()`).
    pub fn event_names(&self) -> Vec<EventName> {
        self.inner.table.borrow_mut().names()
    }

    /// Sets how many listeners one event may have before a warning (Node:
    /// `setMaxListeners`): [`DEFAULT_MAX_LISTENERS`](crate::DEFAULT_MAX_LISTENERS)
    /// by default, 0 for no limit. Passing it is never an error: the
    /// warning handler is called once per event name.
    pub fn set_max_listeners(&self, max: usize) {
        self.inner.table.borrow_mut().max = max;
    }

    /// The limit of [`set_max_listeners`](Self::set_max_listeners) (Node:
    /// `getMaxListeners`).
    pub fn get_max_listeners(&self) -> usize {
        self.inner.table.borrow_mut().max
    }

    /// Replaces what is done with a [`MaxListenersWarning`]: by default it
    /// is printed on stderr (Node: `process.on('warning', …)`).
    pub fn set_warning_handler(&self, handler: impl Fn(&MaxListenersWarning) + 'static) {
        *self.inner.warning.borrow_mut() = Some(Rc::new(handler));
    }

    /// Emits `error` with `error` (Node: `emit('error', err)`): its
    /// listeners (added with [`on_error`](Self::on_error)) run in order.
    /// Returns `Ok(true)` when some did.
    ///
    /// # Errors
    ///
    /// `error` itself when nothing listens (Node throws it), or the panic
    /// of an error listener.
    pub fn emit_error(&self, error: Error) -> Result<bool, Error> {
        let list = self.inner.table.borrow_mut().get(ERROR).cloned();
        let mut any = false;
        for entry in list.iter().flat_map(|l| l.iter()) {
            let Kind::Error(f) = &entry.kind else {
                continue;
            };
            any = true;
            if !self.claim(ERROR, entry) {
                continue;
            }
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(&error))) {
                return Err(Error::from_panic(&*panic));
            }
        }
        if any { Ok(true) } else { Err(error) }
    }

    /// Whether every async listener task has finished (pyee: `complete`).
    pub fn complete(&self) -> bool {
        self.inner.tracker.complete()
    }

    /// A future ready once every async listener task started so far is
    /// done, and its failure has reached `error` (pyee:
    /// `await ee.wait_for_complete()`).
    pub fn wait_for_complete(&self) -> WaitForComplete {
        self.inner.tracker.wait()
    }

    fn add(&self, name: EventName, kind: Kind<P>, once: bool, prepend: bool) -> ListenerId {
        let id = ListenerId::next();
        let meta = self.inner.table.borrow_mut().get(NEW_LISTENER).cloned();
        if let Some(meta) = meta {
            self.emit_meta(NEW_LISTENER, &meta, &name, id);
        }
        let entry = Entry {
            id,
            once: once.then(|| Rc::new(Cell::new(false))),
            kind,
        };
        let warning = self.inner.table.borrow_mut().insert(name, entry, prepend);
        if let Some(warning) = warning {
            let handler = self.inner.warning.borrow_mut().clone();
            match handler {
                Some(handler) => handler(&warning),
                None => default_warning(&warning),
            }
        }
        id
    }

    /// Whether this emit runs `entry`: always for plain listeners; for a
    /// `once` listener, only the emit that claims it, which removes it.
    #[inline]
    fn claim(&self, name: &str, entry: &Entry<P>) -> bool {
        match &entry.once {
            None => true,
            Some(fired) => {
                if fired.replace(true) {
                    return false;
                }
                self.remove_listener(name, entry.id);
                true
            }
        }
    }

    /// Tells the meta listeners of `list`; their panics reach `error`, and
    /// are the caller's panics when nobody listens there.
    fn emit_meta(&self, meta: &str, list: &List<P>, name: &str, id: ListenerId) {
        for entry in list.iter() {
            let Kind::Meta(f) = &entry.kind else {
                continue;
            };
            if !self.claim(meta, entry) {
                continue;
            }
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(name, id))) {
                if self.emit_error(Error::from_panic(&*panic)).is_err() {
                    resume_unwind(panic);
                }
            }
        }
    }

    /// Sends the failures of an emit of `name` to `error`; with nobody
    /// there, they are the emit's error.
    #[cold]
    fn report(&self, name: &str, failures: Vec<Error>) -> Result<(), Error> {
        let mut unhandled = Vec::new();
        for failure in failures {
            if let Err(e) = self.emit_error(failure) {
                unhandled.push(e);
            }
        }
        if unhandled.is_empty() {
            Ok(())
        } else {
            Err(one_error(name, unhandled))
        }
    }
}

impl<P: 'static> LocalEmitter<P> {
    /// Emits `name` with `payload` (Node: `emit(name, ...args)`): runs the
    /// listeners of a snapshot of `name`'s list, in order, on this thread.
    /// Returns `Ok(true)` if `name` had listeners, `Ok(false)` if not.
    ///
    /// ```
    /// use corun::events::LocalEmitter;
    ///
    /// let emitter = LocalEmitter::<u32>::new();
    /// emitter.on("n", |_| panic!("this listener fails"));
    /// emitter.on("n", |n| println!("{n}: the next one still runs"));
    /// let err = emitter.emit("n", 1).unwrap_err(); // nobody listens to `error`
    /// assert_eq!(err.panic_message(), Some("this listener fails"));
    /// ```
    ///
    /// # Errors
    ///
    /// With nobody listening to `error`: the panic of a listener (a
    /// [`Group`](corun_core::ErrorKind::Group) if several panicked), or,
    /// for `emit("error", …)` with no listener for it,
    /// [`InvalidState`](corun_core::ErrorKind::InvalidState) (Node's
    /// `ERR_UNHANDLED_ERROR`). An error listener's own panic is returned.
    #[inline]
    pub fn emit(&self, name: &str, payload: P) -> Result<bool, Error> {
        let snapshot = self.inner.table.borrow_mut().snapshot(name);
        match snapshot.as_deref() {
            // One plain listener, the commonest case: no loop.
            Some(
                [
                    Entry {
                        kind: Kind::Payload(f),
                        once: None,
                        ..
                    },
                ],
            ) => match catch_unwind(AssertUnwindSafe(|| f(&payload))) {
                Ok(()) => Ok(true),
                Err(panic) => self.report_one(name, Error::from_panic(&*panic)),
            },
            Some(list) => self.run(name, list, &payload),
            None => self.nobody(name),
        }
    }

    /// The emit's result when its one listener failed.
    #[cold]
    #[inline(never)]
    fn report_one(&self, name: &str, failure: Error) -> Result<bool, Error> {
        self.report(name, vec![failure]).map(|()| true)
    }

    /// Runs the listeners of `list`, a snapshot of `name`'s (out of
    /// line: `emit` stays small enough to inline).
    #[inline(never)]
    fn run(&self, name: &str, list: &[Entry<P>], payload: &P) -> Result<bool, Error> {
        let mut any = false;
        let mut failures = Vec::new();
        for entry in list {
            // The common listener inline; the others, and failures, out of
            // the way.
            if let (Kind::Payload(f), None) = (&entry.kind, &entry.once) {
                any = true;
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(payload))) {
                    failed(&mut failures, Error::from_panic(&*panic));
                }
            } else {
                any |= self.run_other(name, entry, payload, &mut failures);
            }
        }
        if !any {
            return self.nobody(name);
        }
        if !failures.is_empty() {
            self.report(name, failures)?;
        }
        Ok(true)
    }

    /// Runs a `once` or async listener of an emit; says whether it is one
    /// the emit counts (not an `error` or meta listener).
    #[inline(never)]
    fn run_other(
        &self,
        name: &str,
        entry: &Entry<P>,
        payload: &P,
        failures: &mut Vec<Error>,
    ) -> bool {
        match &entry.kind {
            Kind::Payload(f) => {
                if self.claim(name, entry) {
                    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(payload))) {
                        failed(failures, Error::from_panic(&*panic));
                    }
                }
                true
            }
            Kind::Async(f) => {
                if self.claim(name, entry) {
                    if let Err(e) = self.spawn(name, f, payload) {
                        failed(failures, e);
                    }
                }
                true
            }
            Kind::Error(_) | Kind::Meta(_) => false,
        }
    }

    /// What emitting an event with no listener gives.
    fn nobody(&self, name: &str) -> Result<bool, Error> {
        if name == ERROR {
            Err(unhandled_error_event())
        } else {
            Ok(false)
        }
    }

    /// Starts an async listener's task on this thread's running loop.
    fn spawn(&self, name: &str, f: &AsyncFn<P>, payload: &P) -> Result<(), Error> {
        let event_loop = get_running_loop().map_err(|_| no_loop(name))?;
        let future = catch_unwind(AssertUnwindSafe(|| f(payload)))
            .map_err(|panic| Error::from_panic(&*panic))?;
        let guard = self.inner.tracker.start();
        // The loop holds the task; its failure goes to `error` from inside.
        drop(event_loop.create_task(self.task(name.to_owned(), future, guard)));
        Ok(())
    }

    /// An async listener's task: its failure goes to `error`, or to the
    /// loop's exception handler when nobody listens there.
    fn task(
        &self,
        name: String,
        future: BoxFuture,
        guard: TrackGuard,
    ) -> impl Future<Output = ()> + 'static {
        let emitter = self.clone();
        async move {
            if let Err(error) = CatchUnwind(future).await {
                if let Err(error) = emitter.emit_error(error) {
                    crate::sync::report_to_loop(&name, error);
                }
            }
            drop(guard);
        }
    }

    /// Adds an async listener for `name`: each emit starts
    /// `listener(payload.clone())` as a task on the corun event loop
    /// (pyee's `AsyncIOLocalEmitter`). A panic or an `Err` it returns
    /// reaches `error` (Node's `captureRejections`); with nobody listening
    /// there, the loop's exception handler.
    ///
    /// The task runs on the loop running on this thread; with none, the
    /// emit's failure is
    /// [`InvalidState`](corun_core::ErrorKind::InvalidState), reported as
    /// a panicking listener's would be.
    ///
    /// ```
    /// use corun::asyncio::{run, sleep};
    /// use corun::events::LocalEmitter;
    /// use std::time::Duration;
    ///
    /// run(async {
    ///     let emitter = LocalEmitter::<u64>::new();
    ///     emitter.on_async("job", |ms| async move {
    ///         sleep(Duration::from_millis(ms)).await;
    ///         println!("job of {ms} ms done");
    ///     });
    ///     emitter.emit("job", 2).unwrap(); // returns at once
    ///     assert!(!emitter.complete());
    ///     emitter.wait_for_complete().await;
    ///     assert!(emitter.complete());
    /// })
    /// .unwrap();
    /// ```
    pub fn on_async<F, Fut>(&self, name: impl Into<EventName>, listener: F) -> ListenerId
    where
        P: Clone,
        F: Fn(P) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: ListenerOutput,
    {
        let kind = Self::async_kind(listener);
        self.add(name.into(), kind, false, false)
    }

    /// [`on_async`](Self::on_async) for the next emit only.
    pub fn once_async<F, Fut>(&self, name: impl Into<EventName>, listener: F) -> ListenerId
    where
        P: Clone,
        F: Fn(P) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: ListenerOutput,
    {
        let kind = Self::async_kind(listener);
        self.add(name.into(), kind, true, false)
    }

    fn async_kind<F, Fut>(listener: F) -> Kind<P>
    where
        P: Clone,
        F: Fn(P) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: ListenerOutput,
    {
        let f: AsyncFn<P> = Rc::new(move |payload: &P| {
            let future = listener(payload.clone());
            Box::pin(async move { future.await.into_result() }) as BoxFuture
        });
        Kind::Async(f)
    }

    /// Schedules `emit(name, payload)` on the running loop, with
    /// `call_soon`: it runs in the loop's next iteration, after what is
    /// already scheduled. Its error, if any, goes to the loop's exception
    /// handler. Cancel it through the returned [`Handle`].
    ///
    /// # Errors
    ///
    /// [`InvalidState`](corun_core::ErrorKind::InvalidState) when no loop
    /// runs on this thread.
    pub fn emit_soon(&self, name: impl Into<EventName>, payload: P) -> Result<Handle, Error> {
        let event_loop = get_running_loop()?;
        let emitter = self.clone();
        let name = name.into();
        Ok(event_loop.call_soon(move || {
            if let Err(error) = emitter.emit(&name, payload) {
                crate::sync::report_to_loop(&name, error);
            }
        }))
    }
}

impl<P> fmt::Debug for LocalEmitter<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEmitter")
            .field("event_names", &self.event_names())
            .field("max_listeners", &self.get_max_listeners())
            .finish()
    }
}

/// The hooks `once` and `on` (the functions) use.
impl<P: Clone + 'static> crate::stream::private::Attach<P> for LocalEmitter<P> {
    fn attach(
        &self,
        name: EventName,
        sink: std::sync::Arc<crate::stream::private::Sink<P>>,
        once: bool,
    ) -> [ListenerId; 2] {
        let s = std::sync::Arc::clone(&sink);
        let payload = self.add(
            name,
            Kind::Payload(Rc::new(move |p: &P| s.push(p.clone()))),
            once,
            false,
        );
        let error = self.add(
            ERROR.into(),
            Kind::Error(Rc::new(move |e: &Error| sink.fail(e.clone()))),
            once,
            false,
        );
        [payload, error]
    }

    fn detach(&self, id: ListenerId) {
        self.off(id);
    }
}

impl<P: Clone + 'static> crate::stream::Source<P> for LocalEmitter<P> {}
