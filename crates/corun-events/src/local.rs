//! [`LocalEmitter`]: the emitter of one thread (one event loop), without
//! atomics or locks.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use corun_asyncio::{Handle, get_running_loop};
use corun_core::Error;

use crate::table::{
    BoxFuture, Core, Emits, Entry, EventName, Kind, ListenerId, ListenerOutput,
    MaxListenersWarning, NEW_LISTENER, REMOVE_LISTENER, Table, Tracker, WaitForComplete, no_loop,
};

type AsyncFn<P> = Rc<dyn Fn(&P) -> BoxFuture>;
type WarningFn = Rc<dyn Fn(&MaxListenersWarning)>;
type List<P> = Rc<[Entry<LocalEmitter<P>>]>;

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
        self.add_payload(name, Rc::new(listener), false, false)
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
        self.add_payload(name, Rc::new(listener), false, true)
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
        self.add_payload(name, Rc::new(listener), true, false)
    }

    /// [`once`](Self::once), before the others (Node:
    /// `prependOnceListener`).
    pub fn prepend_once_listener(
        &self,
        name: impl Into<EventName>,
        listener: impl Fn(&P) + 'static,
    ) -> ListenerId {
        self.add_payload(name, Rc::new(listener), true, true)
    }

    /// Adds a listener to the [`ERROR`](crate::ERROR) event: it takes the
    /// failures of listeners and whatever [`emit_error`](Self::emit_error)
    /// emits (Node: `emitter.on('error', …)`).
    pub fn on_error(&self, listener: impl Fn(&Error) + 'static) -> ListenerId {
        self.add_error(Rc::new(listener), false)
    }

    /// [`on_error`](Self::on_error) for the next error only.
    pub fn once_error(&self, listener: impl Fn(&Error) + 'static) -> ListenerId {
        self.add_error(Rc::new(listener), true)
    }

    /// Adds a listener to [`NEW_LISTENER`](crate::NEW_LISTENER): it is
    /// told the event's name and the id of each listener about to be added
    /// (Node: `on('newListener', …)`).
    pub fn on_new_listener(&self, listener: impl Fn(&str, ListenerId) + 'static) -> ListenerId {
        self.add_meta(NEW_LISTENER, Rc::new(listener), false)
    }

    /// Adds a listener to [`REMOVE_LISTENER`](crate::REMOVE_LISTENER): it
    /// is told the event's name and the id of each listener just removed
    /// (Node: `on('removeListener', …)`).
    pub fn on_remove_listener(&self, listener: impl Fn(&str, ListenerId) + 'static) -> ListenerId {
        self.add_meta(REMOVE_LISTENER, Rc::new(listener), false)
    }

    /// [`on_new_listener`](Self::on_new_listener) for the next added
    /// listener only.
    pub fn once_new_listener(&self, listener: impl Fn(&str, ListenerId) + 'static) -> ListenerId {
        self.add_meta(NEW_LISTENER, Rc::new(listener), true)
    }

    /// [`on_remove_listener`](Self::on_remove_listener) for the next
    /// removed listener only.
    pub fn once_remove_listener(
        &self,
        listener: impl Fn(&str, ListenerId) + 'static,
    ) -> ListenerId {
        self.add_meta(REMOVE_LISTENER, Rc::new(listener), true)
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

    fn async_kind<F, Fut>(listener: F) -> Kind<Self>
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
        Ok(event_loop.call_soon(self.emit_later(name.into(), payload)))
    }
}

impl<P> Core for LocalEmitter<P> {
    type Payload = P;
    type PayloadFn = Rc<dyn Fn(&P)>;
    type AsyncFn = AsyncFn<P>;
    type ErrorFn = Rc<dyn Fn(&Error)>;
    type MetaFn = Rc<dyn Fn(&str, ListenerId)>;
    type WarningFn = WarningFn;
    type Fired = Rc<Cell<bool>>;
    type List = List<P>;

    fn unfired() -> Self::Fired {
        Rc::new(Cell::new(false))
    }

    fn fire(fired: &Self::Fired) -> bool {
        fired.replace(true)
    }

    fn table<R>(&self, read: impl FnOnce(&mut Table<List<P>>) -> R) -> R {
        read(&mut self.inner.table.borrow_mut())
    }

    fn change<R>(&self, change: impl FnOnce(&mut Table<List<P>>) -> (R, bool)) -> R {
        change(&mut self.inner.table.borrow_mut()).0
    }

    fn warning_handler(&self) -> Option<Self::WarningFn> {
        self.inner.warning.borrow().clone()
    }
}

impl<P: 'static> Emits for LocalEmitter<P> {
    #[inline]
    fn emit(&self, name: &str, payload: P) -> Result<bool, Error> {
        LocalEmitter::emit(self, name, payload)
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
        let payload = self.add_payload(name, Rc::new(move |p: &P| s.push(p.clone())), once, false);
        let error = self.add_error(Rc::new(move |e: &Error| sink.fail(e.clone())), once);
        [payload, error]
    }

    fn detach(&self, id: ListenerId) {
        self.off(id);
    }
}

impl<P: Clone + 'static> crate::stream::Source<P> for LocalEmitter<P> {}
