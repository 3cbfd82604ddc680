//! [`EventEmitter`]: the emitter any thread may use.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use corun_asyncio::{Handle, LoopHandle, get_running_loop};
use corun_core::Error;
use parking_lot::Mutex;

use crate::hazard::Published;
use crate::table::{
    BoxFuture, Core, Emits, Entry, EventName, Kind, ListenerId, ListenerOutput,
    MaxListenersWarning, NEW_LISTENER, REMOVE_LISTENER, Snapshot, Table, Tracker, View,
    WaitForComplete, no_loop,
};

/// What an emit hands the loop: the payload's clone and the listener,
/// which make the future there.
type Job = Box<dyn FnOnce() -> BoxFuture + Send>;
type AsyncFn<P> = Arc<dyn Fn(&P) -> Job + Send + Sync>;
type WarningFn = Arc<dyn Fn(&MaxListenersWarning) + Send + Sync>;
type List<P> = Arc<[Entry<EventEmitter<P>>]>;

struct Inner<P> {
    /// What writers change, under the lock.
    table: Mutex<Table<List<P>>>,
    /// What emits read, without the lock: a copy of `table`'s lists,
    /// retired by every change, published again by the second emit after
    /// it (an emitter changed between every two emits, as by `once`
    /// listeners, would build it for one emit each time).
    view: Published<View<List<P>>>,
    /// Whether an emit ran since the last change; read and written under
    /// the lock of `table`.
    warm: AtomicBool,
    warning: Mutex<Option<WarningFn>>,
    tracker: Tracker,
}

/// Node's `EventEmitter` (pyee's `EventEmitter`), usable from any thread:
/// named events, each emit running its listeners synchronously, in the
/// order they were added, on the emitting thread.
///
/// Payloads are ordinary Rust values of one type per emitter, `P`
/// (use an enum or a tuple for several kinds); listeners take `&P`. Clones
/// of an emitter are handles to the same one, as Python passes objects
/// around. `EventEmitter` is `Send + Sync`; on one event loop's thread a
/// [`LocalEmitter`](crate::LocalEmitter) does the same without atomics.
///
/// # The rules of an emit
///
/// - [`emit`](Self::emit) runs the listeners of a **snapshot** taken as it
///   starts: one added meanwhile waits for the next emit, and one removed
///   meanwhile still runs this time (Node's rule). No lock is held while a
///   listener runs: a listener may add or remove listeners, or emit, on
///   this emitter.
/// - An emit takes no lock either: it reads a published copy of the
///   lists, protected by a hazard pointer, so emits from many threads do
///   not contend. A removed listener is dropped as soon as no emit runs
///   it: at once, or when the last emit that started before the removal
///   ends (very rarely, when a removal on one thread races the end of
///   such an emit on another, at the emitter's next emit or change).
/// - A [`once`](Self::once) listener runs exactly once, even when several
///   threads emit at the same time: the emit that claims it first (an
///   atomic swap) removes and runs it; the others skip it.
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
/// use corun::events::EventEmitter;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// let emitter = EventEmitter::new();
/// let total = Arc::new(AtomicU32::new(0));
/// let t = total.clone();
/// emitter.on("data", move |x: &u32| {
///     t.fetch_add(*x, Ordering::Relaxed);
/// });
/// assert!(emitter.emit("data", 5).unwrap());
/// assert!(!emitter.emit("other", 1).unwrap()); // nobody listens
/// let e2 = emitter.clone();
/// std::thread::spawn(move || e2.emit("data", 2).unwrap()).join().unwrap();
/// assert_eq!(total.load(Ordering::Relaxed), 7);
/// ```
pub struct EventEmitter<P> {
    inner: Arc<Inner<P>>,
}

impl<P> Clone for EventEmitter<P> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<P> Default for EventEmitter<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P> EventEmitter<P> {
    /// An emitter with no listeners and a limit of
    /// [`DEFAULT_MAX_LISTENERS`](crate::DEFAULT_MAX_LISTENERS) per event.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                table: Mutex::new(Table::new()),
                view: Published::new(),
                warm: AtomicBool::new(false),
                warning: Mutex::new(None),
                tracker: Tracker::default(),
            }),
        }
    }

    /// Adds `listener` for `name`, after the others (Node:
    /// `emitter.on(name, listener)`; pyee: `ee.on(name, f)`).
    ///
    /// ```
    /// use corun::events::EventEmitter;
    ///
    /// let emitter = EventEmitter::<String>::new();
    /// let id = emitter.on("greet", |name| println!("hello, {name}"));
    /// assert_eq!(emitter.listeners("greet"), [id]);
    /// ```
    pub fn on(
        &self,
        name: impl Into<EventName>,
        listener: impl Fn(&P) + Send + Sync + 'static,
    ) -> ListenerId {
        self.add_payload(name, Arc::new(listener), false, false)
    }

    /// The same as [`on`](Self::on) (Node: `addListener`).
    pub fn add_listener(
        &self,
        name: impl Into<EventName>,
        listener: impl Fn(&P) + Send + Sync + 'static,
    ) -> ListenerId {
        self.on(name, listener)
    }

    /// Adds `listener` for `name` before the others (Node:
    /// `prependListener`).
    pub fn prepend_listener(
        &self,
        name: impl Into<EventName>,
        listener: impl Fn(&P) + Send + Sync + 'static,
    ) -> ListenerId {
        self.add_payload(name, Arc::new(listener), false, true)
    }

    /// Adds `listener` for the next emit of `name` only: it is removed
    /// (emitting `remove_listener`) just before it runs (Node and pyee:
    /// `once`).
    ///
    /// ```
    /// use corun::events::EventEmitter;
    ///
    /// let emitter = EventEmitter::<()>::new();
    /// emitter.once("ready", |_| println!("ready!"));
    /// assert!(emitter.emit("ready", ()).unwrap());
    /// assert!(!emitter.emit("ready", ()).unwrap()); // it ran once
    /// ```
    pub fn once(
        &self,
        name: impl Into<EventName>,
        listener: impl Fn(&P) + Send + Sync + 'static,
    ) -> ListenerId {
        self.add_payload(name, Arc::new(listener), true, false)
    }

    /// [`once`](Self::once), before the others (Node:
    /// `prependOnceListener`).
    pub fn prepend_once_listener(
        &self,
        name: impl Into<EventName>,
        listener: impl Fn(&P) + Send + Sync + 'static,
    ) -> ListenerId {
        self.add_payload(name, Arc::new(listener), true, true)
    }

    /// Adds a listener to the [`ERROR`](crate::ERROR) event: it takes the
    /// failures of listeners and whatever [`emit_error`](Self::emit_error)
    /// emits (Node: `emitter.on('error', …)`).
    pub fn on_error(&self, listener: impl Fn(&Error) + Send + Sync + 'static) -> ListenerId {
        self.add_error(Arc::new(listener), false)
    }

    /// [`on_error`](Self::on_error) for the next error only.
    pub fn once_error(&self, listener: impl Fn(&Error) + Send + Sync + 'static) -> ListenerId {
        self.add_error(Arc::new(listener), true)
    }

    /// Adds a listener to [`NEW_LISTENER`](crate::NEW_LISTENER): it is
    /// told the event's name and the id of each listener about to be added
    /// (Node: `on('newListener', …)`).
    pub fn on_new_listener(
        &self,
        listener: impl Fn(&str, ListenerId) + Send + Sync + 'static,
    ) -> ListenerId {
        self.add_meta(NEW_LISTENER, Arc::new(listener), false)
    }

    /// Adds a listener to [`REMOVE_LISTENER`](crate::REMOVE_LISTENER): it
    /// is told the event's name and the id of each listener just removed
    /// (Node: `on('removeListener', …)`).
    pub fn on_remove_listener(
        &self,
        listener: impl Fn(&str, ListenerId) + Send + Sync + 'static,
    ) -> ListenerId {
        self.add_meta(REMOVE_LISTENER, Arc::new(listener), false)
    }

    /// [`on_new_listener`](Self::on_new_listener) for the next added
    /// listener only.
    pub fn once_new_listener(
        &self,
        listener: impl Fn(&str, ListenerId) + Send + Sync + 'static,
    ) -> ListenerId {
        self.add_meta(NEW_LISTENER, Arc::new(listener), true)
    }

    /// [`on_remove_listener`](Self::on_remove_listener) for the next
    /// removed listener only.
    pub fn once_remove_listener(
        &self,
        listener: impl Fn(&str, ListenerId) + Send + Sync + 'static,
    ) -> ListenerId {
        self.add_meta(REMOVE_LISTENER, Arc::new(listener), true)
    }

    /// Removes listener `id`, whatever its event (Node: `off`). Returns
    /// whether it was there. An emit already under way still runs it.
    pub fn off(&self, id: ListenerId) -> bool {
        Core::off(self, id)
    }

    /// Removes listener `id` from `name` (Node:
    /// `removeListener(name, listener)`), then emits `remove_listener`.
    /// Returns whether it was there.
    pub fn remove_listener(&self, name: &str, id: ListenerId) -> bool {
        Core::remove_listener(self, name, id)
    }

    /// Removes every listener of `name`, or of every event with `None`
    /// (Node: `removeAllListeners([name])`). With `remove_listener`
    /// listeners, each removal is told to them, the most recent listener
    /// first, and with `None` the `remove_listener` listeners go last.
    pub fn remove_all_listeners(&self, name: Option<&str>) {
        Core::remove_all_listeners(self, name);
    }

    /// How many listeners `name` has, of every kind (Node:
    /// `listenerCount`).
    pub fn listener_count(&self, name: &str) -> usize {
        self.table(|table| table.count(name))
    }

    /// The ids of `name`'s listeners, in the order an emit runs them
    /// (Node: `listeners(name)`, a copy).
    pub fn listeners(&self, name: &str) -> Vec<ListenerId> {
        self.table(|table| table.ids(name))
    }

    /// The events that have listeners, in the order they were first added
    /// (Node: `eventNames()`).
    pub fn event_names(&self) -> Vec<EventName> {
        self.table(|table| table.names())
    }

    /// Sets how many listeners one event may have before a warning (Node:
    /// `setMaxListeners`): [`DEFAULT_MAX_LISTENERS`](crate::DEFAULT_MAX_LISTENERS)
    /// by default, 0 for no limit. Passing it is never an error: the
    /// warning handler is called once per event name.
    pub fn set_max_listeners(&self, max: usize) {
        self.table(|table| table.max = max);
    }

    /// The limit of [`set_max_listeners`](Self::set_max_listeners) (Node:
    /// `getMaxListeners`).
    pub fn get_max_listeners(&self) -> usize {
        self.table(|table| table.max)
    }

    /// Replaces what is done with a [`MaxListenersWarning`]: by default it
    /// is printed on stderr (Node: `process.on('warning', …)`).
    pub fn set_warning_handler(
        &self,
        handler: impl Fn(&MaxListenersWarning) + Send + Sync + 'static,
    ) {
        *self.inner.warning.lock() = Some(Arc::new(handler));
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
        Core::emit_error(self, error)
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
}

impl<P: 'static> EventEmitter<P> {
    /// Emits `name` with `payload` (Node: `emit(name, ...args)`): runs the
    /// listeners of a snapshot of `name`'s list, in order, on this thread.
    /// Returns `Ok(true)` if `name` had listeners, `Ok(false)` if not.
    ///
    /// ```
    /// use corun::events::EventEmitter;
    ///
    /// let emitter = EventEmitter::<u32>::new();
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
        // The snapshot: the published view, which no change alters; a
        // change retires it, and the second emit after the change
        // publishes a new one.
        if let Some(view) = self.inner.view.load() {
            return match view.get(name) {
                // One plain listener, the commonest case: no loop.
                Some(Snapshot::One(Entry {
                    kind: Kind::Payload(f),
                    once: None,
                    ..
                })) => match catch_unwind(AssertUnwindSafe(|| f(&payload))) {
                    Ok(()) => Ok(true),
                    Err(panic) => self.report_one(name, Error::from_panic(&*panic)),
                },
                Some(list) => self.run(name, list, &payload),
                None => self.nobody(name),
            };
        }
        self.emit_locked(name, &payload)
    }

    /// [`emit`](Self::emit) with no view published (the first two emits
    /// after a change; the second publishes one) or none readable (emits
    /// nested too deep): the snapshot is taken under the lock.
    #[inline(never)]
    fn emit_locked(&self, name: &str, payload: &P) -> Result<bool, Error> {
        let list = {
            let table = self.inner.table.lock();
            if self.inner.view.is_empty() && self.inner.warm.swap(true, Ordering::Relaxed) {
                // Under the lock, so that no change comes in between.
                self.inner.view.replace(Some(Box::new(View::new(&table))));
            }
            table.get(name).cloned()
        };
        let result = match list {
            Some(list) => self.run(name, &list, payload),
            None => self.nobody(name),
        };
        self.inner.view.reclaim();
        result
    }

    /// Adds an async listener for `name`: each emit starts
    /// `listener(payload.clone())` as a task on the corun event loop
    /// (pyee's `AsyncIOEventEmitter`). A panic or an `Err` it returns
    /// reaches `error` (Node's `captureRejections`); with nobody listening
    /// there, the loop's exception handler.
    ///
    /// The task runs on the loop running on the emitting thread; an emit
    /// from another thread sends the payload's clone to the loop that was
    /// running where `on_async` was called, and `listener` is called
    /// there (so its future need not be `Send`). With neither, the emit's failure is
    /// [`InvalidState`](corun_core::ErrorKind::InvalidState), reported as
    /// a panicking listener's would be.
    ///
    /// ```
    /// use corun::asyncio::{run, sleep};
    /// use corun::events::EventEmitter;
    /// use std::time::Duration;
    ///
    /// run(async {
    ///     let emitter = EventEmitter::<u64>::new();
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
        P: Clone + Send,
        F: Fn(P) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: ListenerOutput,
    {
        let kind = Self::async_kind(listener);
        self.add(name.into(), kind, false, false)
    }

    /// [`on_async`](Self::on_async) for the next emit only.
    pub fn once_async<F, Fut>(&self, name: impl Into<EventName>, listener: F) -> ListenerId
    where
        P: Clone + Send,
        F: Fn(P) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: ListenerOutput,
    {
        let kind = Self::async_kind(listener);
        self.add(name.into(), kind, true, false)
    }

    fn async_kind<F, Fut>(listener: F) -> Kind<Self>
    where
        P: Clone + Send,
        F: Fn(P) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: ListenerOutput,
    {
        let listener = Arc::new(listener);
        let f: AsyncFn<P> = Arc::new(move |payload: &P| {
            let (payload, listener) = (payload.clone(), Arc::clone(&listener));
            Box::new(move || {
                let future = listener(payload);
                Box::pin(async move { future.await.into_result() }) as BoxFuture
            }) as Job
        });
        let handle = get_running_loop().ok().map(|l| l.handle());
        Kind::Async((f, handle))
    }

    /// Schedules `emit(name, payload)` on the running loop, with
    /// `call_soon`: it runs in the loop's next iteration, after what is
    /// already scheduled. Its error, if any, goes to the loop's exception
    /// handler. Cancel it through the returned [`Handle`].
    ///
    /// # Errors
    ///
    /// [`InvalidState`](corun_core::ErrorKind::InvalidState) when no loop
    /// runs on this thread (from another thread use
    /// [`emit_soon_threadsafe`](Self::emit_soon_threadsafe)).
    pub fn emit_soon(&self, name: impl Into<EventName>, payload: P) -> Result<Handle, Error> {
        let event_loop = get_running_loop()?;
        Ok(event_loop.call_soon(self.emit_later(name.into(), payload)))
    }

    /// Schedules `emit(name, payload)` on the loop of `handle`, from any
    /// thread, with `call_soon_threadsafe`.
    ///
    /// # Errors
    ///
    /// [`ShutDown`](corun_core::ErrorKind::ShutDown) when that loop is
    /// closed.
    pub fn emit_soon_threadsafe(
        &self,
        handle: &LoopHandle,
        name: impl Into<EventName>,
        payload: P,
    ) -> Result<(), Error>
    where
        P: Send,
    {
        handle.call_soon_threadsafe(self.emit_later(name.into(), payload))
    }
}

impl<P> Core for EventEmitter<P> {
    type Payload = P;
    type PayloadFn = Arc<dyn Fn(&P) + Send + Sync>;
    /// The listener, and the loop seen when it was added, for emits from
    /// other threads.
    type AsyncFn = (AsyncFn<P>, Option<LoopHandle>);
    type ErrorFn = Arc<dyn Fn(&Error) + Send + Sync>;
    type MetaFn = Arc<dyn Fn(&str, ListenerId) + Send + Sync>;
    type WarningFn = WarningFn;
    type Fired = Arc<AtomicBool>;
    type List = List<P>;

    fn unfired() -> Self::Fired {
        Arc::new(AtomicBool::new(false))
    }

    fn fire(fired: &Self::Fired) -> bool {
        fired.swap(true, Ordering::AcqRel)
    }

    fn table<R>(&self, read: impl FnOnce(&mut Table<List<P>>) -> R) -> R {
        read(&mut self.inner.table.lock())
    }

    /// Changes the table, retiring the view that emits read.
    fn change<R>(&self, change: impl FnOnce(&mut Table<List<P>>) -> (R, bool)) -> R {
        let (result, changed) = {
            let mut table = self.inner.table.lock();
            let (result, changed) = change(&mut table);
            if changed {
                self.inner.warm.store(false, Ordering::Relaxed);
                self.inner.view.replace(None);
            }
            (result, changed)
        };
        if changed {
            // Outside the lock: dropping a listener may use the emitter.
            self.inner.view.reclaim();
        }
        result
    }

    fn warning_handler(&self) -> Option<WarningFn> {
        self.inner.warning.lock().clone()
    }
}

impl<P: 'static> Emits for EventEmitter<P> {
    #[inline]
    fn emit(&self, name: &str, payload: P) -> Result<bool, Error> {
        EventEmitter::emit(self, name, payload)
    }

    /// Starts an async listener's task: on this thread's running loop, else
    /// on the loop seen when the listener was added.
    fn spawn(&self, name: &str, (f, handle): &Self::AsyncFn, payload: &P) -> Result<(), Error> {
        let job = catch_unwind(AssertUnwindSafe(|| f(payload)))
            .map_err(|panic| Error::from_panic(&*panic))?;
        if let Ok(event_loop) = get_running_loop() {
            let future =
                catch_unwind(AssertUnwindSafe(job)).map_err(|panic| Error::from_panic(&*panic))?;
            let guard = self.inner.tracker.start();
            // The loop holds the task; its failure goes to `error` from inside.
            drop(event_loop.create_task(self.task(name.to_owned(), future, guard)));
            return Ok(());
        }
        let handle = handle.as_ref().ok_or_else(|| no_loop(name))?;
        let guard = self.inner.tracker.start();
        let emitter = self.clone();
        let name = name.to_owned();
        handle.call_soon_threadsafe(move || {
            let Ok(event_loop) = get_running_loop() else {
                return;
            };
            match catch_unwind(AssertUnwindSafe(job)) {
                Ok(future) => drop(event_loop.create_task(emitter.task(name, future, guard))),
                Err(panic) => {
                    emitter.fail(&name, Error::from_panic(&*panic));
                    drop(guard);
                }
            }
        })
    }
}

impl<P> fmt::Debug for EventEmitter<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventEmitter")
            .field("event_names", &self.event_names())
            .field("max_listeners", &self.get_max_listeners())
            .finish()
    }
}

/// The hooks `once` and `on` (the functions) use.
impl<P: Clone + Send + 'static> crate::stream::private::Attach<P> for EventEmitter<P> {
    fn attach(
        &self,
        name: EventName,
        sink: Arc<crate::stream::private::Sink<P>>,
        once: bool,
    ) -> [ListenerId; 2] {
        let s = Arc::clone(&sink);
        let payload = self.add_payload(name, Arc::new(move |p: &P| s.push(p.clone())), once, false);
        let error = self.add_error(Arc::new(move |e: &Error| sink.fail(e.clone())), once);
        [payload, error]
    }

    fn detach(&self, id: ListenerId) {
        self.off(id);
    }
}

impl<P: Clone + Send + 'static> crate::stream::Source<P> for EventEmitter<P> {}
