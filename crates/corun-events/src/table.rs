//! What both emitters share: listener ids, the table of event names to
//! listener lists (copy-on-write, so an emit's snapshot is one pointer
//! clone) and its immutable [`View`] for emits that take no lock, the
//! max-listeners warning, the tracker of async listener tasks behind
//! `wait_for_complete`, and the logic of adding, removing and running
//! listeners ([`Core`], [`Emits`]), written once for both.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use corun_asyncio::{ExceptionContext, get_running_loop};
use corun_core::Error;
use parking_lot::Mutex;

/// An event's name: `&'static str` literals cost nothing, `String`s are
/// kept as they are.
pub type EventName = Cow<'static, str>;

/// The event that failures reach: panicking listeners, failed async
/// listeners, [`emit_error`](crate::EventEmitter::emit_error).
pub const ERROR: &str = "error";
/// The meta-event emitted *before* a listener is added, with the event's
/// name and the new listener's id (Node: `'newListener'`).
pub const NEW_LISTENER: &str = "new_listener";
/// The meta-event emitted *after* a listener is removed (also a `once`
/// listener, just before it runs), with the event's name and the id
/// (Node: `'removeListener'`).
pub const REMOVE_LISTENER: &str = "remove_listener";

/// The default [`set_max_listeners`](crate::EventEmitter::set_max_listeners)
/// limit, Node's `EventEmitter.defaultMaxListeners`.
pub const DEFAULT_MAX_LISTENERS: usize = 10;

/// Names one added listener, to remove it later with `off` (Node and pyee
/// name the function itself; a Rust closure has no identity to compare).
///
/// Ids are unique in the process, so an id from one emitter never removes
/// a listener of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(u64);

impl ListenerId {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl fmt::Display for ListenerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "listener#{}", self.0)
    }
}

/// The warning given once per event name when more listeners than the
/// limit are added (Node's `MaxListenersExceededWarning`): a likely leak,
/// never an error. Its `Display` is Node's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxListenersWarning {
    /// The event that has too many listeners.
    pub event: EventName,
    /// How many it has now.
    pub count: usize,
    /// The limit it passed.
    pub max: usize,
}

impl fmt::Display for MaxListenersWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MaxListenersExceededWarning: Possible EventEmitter memory leak detected. \
             {} {} listeners added. MaxListeners is {}. \
             Use set_max_listeners() to increase limit",
            self.count, self.event, self.max
        )
    }
}

/// Prints the warning on stderr, as Node's `process.emitWarning` does.
pub(crate) fn default_warning(warning: &MaxListenersWarning) {
    eprintln!("(corun::events) {warning}");
}

/// An entry of a listener list: all the table needs to know of it.
pub(crate) trait Listed: Clone {
    fn id(&self) -> ListenerId;
}

/// FxHash (rustc's hasher): event names come from the program, not from an
/// attacker, and a short name hashes in a few instructions.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0_u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Whether two event names are the same, looking first at where they
/// are: an emitter mostly sees the same literal, at the same address.
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

/// A copy-on-write list of listeners: `Arc<[E]>` or `Rc<[E]>`.
pub(crate) trait List:
    Deref<Target = [Self::Entry]> + From<Vec<Self::Entry>> + Clone
{
    type Entry: Listed;
}

impl<E: Listed> List for std::sync::Arc<[E]> {
    type Entry = E;
}

impl<E: Listed> List for std::rc::Rc<[E]> {
    type Entry = E;
}

/// The listeners an emit runs through a [`View`]: a list's only listener
/// held inline (one pointer less to follow on the way to it), or the
/// list.
pub(crate) enum Snapshot<L: List> {
    One(L::Entry),
    Many(L),
}

impl<L: List> Snapshot<L> {
    fn of(list: &L) -> Self {
        match &**list {
            [one] => Self::One(one.clone()),
            _ => Self::Many(list.clone()),
        }
    }
}

impl<L: List> Deref for Snapshot<L> {
    type Target = [L::Entry];

    #[inline]
    fn deref(&self) -> &[L::Entry] {
        match self {
            Self::One(one) => std::slice::from_ref(one),
            Self::Many(list) => list,
        }
    }
}

/// An immutable copy of a table's lists, for readers that take no lock:
/// up to [`FEW_NAMES`] names searched in order, in the view itself (one
/// pointer less to follow than a `Vec`), a map for more.
pub(crate) enum View<L: List> {
    Few([Option<(EventName, Snapshot<L>)>; FEW_NAMES]),
    Many(HashMap<EventName, Snapshot<L>, BuildHasherDefault<FxHasher>>),
}

/// Up to this many names, a [`View`] is searched in order.
const FEW_NAMES: usize = 4;

impl<L: List> View<L> {
    pub(crate) fn new(table: &Table<L>) -> Self {
        let mut lists = table
            .lists()
            .map(|(name, list)| (name.clone(), Snapshot::of(list)));
        if table.slots.len() <= FEW_NAMES {
            Self::Few(std::array::from_fn(|_| lists.next()))
        } else {
            Self::Many(lists.collect())
        }
    }

    /// The listeners of `name`.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<&Snapshot<L>> {
        match self {
            Self::Few(lists) => lists
                .iter()
                .map_while(Option::as_ref)
                .find(|(n, _)| same_name(n, name))
                .map(|(_, list)| list),
            Self::Many(lists) => lists.get(name),
        }
    }
}

/// One event's listeners, and whether its warning was given.
pub(crate) struct Slot<L> {
    pub(crate) list: L,
    /// When the name was first added: `event_names` keeps that order.
    seq: u64,
    warned: bool,
}

/// Event names to listener lists. A list is never changed in place: adding
/// or removing builds a new one, so a snapshot taken by an emit stays as
/// it was (Node's rule, nodejs/node#1182).
pub(crate) struct Table<L: List> {
    slots: HashMap<EventName, Slot<L>, BuildHasherDefault<FxHasher>>,
    /// The last event emitted and its list: an emitter mostly emits the
    /// same few events, and comparing a short name costs less than
    /// hashing it. Cleared by every change to the table.
    last: Option<(EventName, L)>,
    seq: u64,
    pub(crate) max: usize,
}

impl<L: List> Table<L> {
    pub(crate) fn new() -> Self {
        Self {
            slots: HashMap::default(),
            last: None,
            seq: 0,
            max: DEFAULT_MAX_LISTENERS,
        }
    }

    /// The listeners of `name` (a pointer clone).
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<&L> {
        self.slots.get(name).map(|slot| &slot.list)
    }

    /// The listeners of `name`, for an emit: a pointer clone, through the
    /// one-entry cache of the last event emitted.
    #[inline]
    pub(crate) fn snapshot(&mut self, name: &str) -> Option<L> {
        if let Some((last, list)) = &self.last {
            if same_name(last, name) {
                return Some(list.clone());
            }
        }
        let (key, slot) = self.slots.get_key_value(name)?;
        self.last = Some((key.clone(), slot.list.clone()));
        Some(slot.list.clone())
    }

    /// Adds `entry` last (or first), and says whether this passes the
    /// limit for the first time.
    pub(crate) fn insert(
        &mut self,
        name: EventName,
        entry: L::Entry,
        prepend: bool,
    ) -> Option<MaxListenersWarning> {
        self.last = None;
        let max = self.max;
        let seq = self.seq;
        let slot = self.slots.entry(name.clone()).or_insert_with(|| Slot {
            list: L::from(Vec::new()),
            seq,
            warned: false,
        });
        self.seq += 1;
        let mut list: Vec<L::Entry> = Vec::with_capacity(slot.list.len() + 1);
        if prepend {
            list.push(entry);
            list.extend(slot.list.iter().cloned());
        } else {
            list.extend(slot.list.iter().cloned());
            list.push(entry);
        }
        let count = list.len();
        slot.list = L::from(list);
        if max > 0 && count > max && !slot.warned {
            slot.warned = true;
            return Some(MaxListenersWarning {
                event: name,
                count,
                max,
            });
        }
        None
    }

    /// Removes listener `id` from `name`; drops the name with its last
    /// listener.
    pub(crate) fn remove(&mut self, name: &str, id: ListenerId) -> bool {
        self.last = None;
        let Some(slot) = self.slots.get_mut(name) else {
            return false;
        };
        let Some(at) = slot.list.iter().position(|e| e.id() == id) else {
            return false;
        };
        if slot.list.len() == 1 {
            self.slots.remove(name);
        } else {
            let mut list: Vec<L::Entry> = slot.list.to_vec();
            list.remove(at);
            slot.list = L::from(list);
        }
        true
    }

    /// The name listener `id` listens to.
    pub(crate) fn find(&self, id: ListenerId) -> Option<EventName> {
        self.slots
            .iter()
            .find(|(_, slot)| slot.list.iter().any(|e| e.id() == id))
            .map(|(name, _)| name.clone())
    }

    /// Drops every listener of `name`.
    pub(crate) fn clear(&mut self, name: &str) {
        self.last = None;
        self.slots.remove(name);
    }

    /// Drops everything.
    pub(crate) fn clear_all(&mut self) {
        self.last = None;
        self.slots.clear();
    }

    pub(crate) fn count(&self, name: &str) -> usize {
        self.get(name).map_or(0, |l| l.len())
    }

    pub(crate) fn ids(&self, name: &str) -> Vec<ListenerId> {
        self.get(name)
            .map_or_else(Vec::new, |l| l.iter().map(Listed::id).collect())
    }

    /// Every event's name and list, in no order.
    pub(crate) fn lists(&self) -> impl Iterator<Item = (&EventName, &L)> {
        self.slots.iter().map(|(name, slot)| (name, &slot.list))
    }

    /// The names with listeners, in the order they were first added.
    pub(crate) fn names(&self) -> Vec<EventName> {
        let mut names: Vec<(u64, &EventName)> =
            self.slots.iter().map(|(n, s)| (s.seq, n)).collect();
        names.sort_unstable_by_key(|(seq, _)| *seq);
        names.into_iter().map(|(_, n)| n.clone()).collect()
    }
}

/// What an async listener's future may return: `()`, or a `Result` whose
/// error reaches the `error` event.
pub trait ListenerOutput {
    /// The outcome as a `Result`.
    fn into_result(self) -> Result<(), Error>;
}

impl ListenerOutput for () {
    fn into_result(self) -> Result<(), Error> {
        Ok(())
    }
}

impl ListenerOutput for Result<(), Error> {
    fn into_result(self) -> Result<(), Error> {
        self
    }
}

/// Polls a boxed future, turning its panic into an error.
pub(crate) struct CatchUnwind<F: ?Sized>(pub(crate) Pin<Box<F>>);

impl<F: Future<Output = Result<(), Error>> + ?Sized> Future for CatchUnwind<F> {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => Poll::Ready(Err(Error::from_panic(&*panic))),
        }
    }
}

/// The async listener tasks started and not yet done.
#[derive(Clone, Default)]
pub(crate) struct Tracker(Arc<Mutex<TrackState>>);

#[derive(Default)]
struct TrackState {
    next: u64,
    running: BTreeSet<u64>,
    waiters: Vec<Waker>,
}

/// One running task; done when dropped (finished, failed or dropped by a
/// closing loop).
pub(crate) struct TrackGuard {
    tracker: Tracker,
    id: u64,
}

impl Tracker {
    pub(crate) fn start(&self) -> TrackGuard {
        let mut state = self.0.lock();
        let id = state.next;
        state.next += 1;
        state.running.insert(id);
        TrackGuard {
            tracker: self.clone(),
            id,
        }
    }

    pub(crate) fn complete(&self) -> bool {
        self.0.lock().running.is_empty()
    }

    pub(crate) fn wait(&self) -> WaitForComplete {
        let upto = self.0.lock().next;
        WaitForComplete {
            tracker: self.clone(),
            upto,
        }
    }
}

impl Drop for TrackGuard {
    fn drop(&mut self) {
        let waiters = {
            let mut state = self.tracker.0.lock();
            state.running.remove(&self.id);
            std::mem::take(&mut state.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

/// The future of `wait_for_complete`: ready once every async listener task
/// started before it was made is done (pyee's `wait_for_complete`).
#[must_use = "futures do nothing unless awaited"]
pub struct WaitForComplete {
    tracker: Tracker,
    upto: u64,
}

impl Future for WaitForComplete {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.tracker.0.lock();
        if state.running.range(..self.upto).next().is_none() {
            return Poll::Ready(());
        }
        if !state.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            state.waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl fmt::Debug for WaitForComplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForComplete")
            .field("upto", &self.upto)
            .finish()
    }
}

/// The error of emitting `error` by name with no listener for it (Node's
/// `ERR_UNHANDLED_ERROR`).
pub(crate) fn unhandled_error_event() -> Error {
    Error::new(
        corun_core::ErrorKind::InvalidState,
        "unhandled 'error' event: nothing listens to it",
    )
}

/// The error of an async listener with no loop to run on.
pub(crate) fn no_loop(name: &str) -> Error {
    Error::new(
        corun_core::ErrorKind::InvalidState,
        format!("no running event loop for an async listener of '{name}'"),
    )
}

/// Notes a listener's failure during an emit.
#[cold]
#[inline(never)]
pub(crate) fn failed(failures: &mut Vec<Error>, error: Error) {
    failures.push(error);
}

/// Several failures of one emit as one error (or the one failure).
pub(crate) fn one_error(name: &str, mut errors: Vec<Error>) -> Error {
    if errors.len() == 1 {
        errors.pop().expect("one error")
    } else {
        Error::group(
            format!("{} listeners of '{name}' failed", errors.len()),
            errors,
        )
    }
}

/// An async listener's future: made on the loop's thread, so it need not
/// be `Send` (corun's `sleep` is not).
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = Result<(), Error>>>>;

/// What a listener takes: the payload, the payload for a task, an error,
/// or a meta-event.
pub(crate) enum Kind<E: Core> {
    Payload(E::PayloadFn),
    Async(E::AsyncFn),
    Error(E::ErrorFn),
    Meta(E::MetaFn),
}

impl<E: Core> Clone for Kind<E> {
    fn clone(&self) -> Self {
        match self {
            Self::Payload(f) => Self::Payload(f.clone()),
            Self::Async(f) => Self::Async(f.clone()),
            Self::Error(f) => Self::Error(f.clone()),
            Self::Meta(f) => Self::Meta(f.clone()),
        }
    }
}

/// One listener of emitter `E`.
pub(crate) struct Entry<E: Core> {
    pub(crate) id: ListenerId,
    /// For `once` listeners: set by the one emit that runs it.
    pub(crate) once: Option<E::Fired>,
    pub(crate) kind: Kind<E>,
}

impl<E: Core> Clone for Entry<E> {
    fn clone(&self) -> Self {
        Self {
            id: self.id,
            once: self.once.clone(),
            kind: self.kind.clone(),
        }
    }
}

impl<E: Core> Listed for Entry<E> {
    fn id(&self) -> ListenerId {
        self.id
    }
}

/// What both emitters do with their listeners, written once: adding,
/// removing, claiming `once` listeners, the meta-events, `error`. An
/// emitter says only what differs: how its listeners are shared (`Rc`, or
/// `Arc` with `Send + Sync` closures), how a `once` listener is claimed
/// (a `Cell` or an atomic swap), and how its table is held (a `RefCell`,
/// or a lock with the view its emits read).
pub(crate) trait Core: Sized {
    /// The payload of an emit.
    type Payload;
    /// A listener of the payload.
    type PayloadFn: Clone + Deref<Target: Fn(&Self::Payload)>;
    /// An async listener, with what its emitter needs to start its task.
    type AsyncFn: Clone;
    /// A listener of `error`.
    type ErrorFn: Clone + Deref<Target: Fn(&Error)>;
    /// A listener of a meta-event.
    type MetaFn: Clone + Deref<Target: Fn(&str, ListenerId)>;
    /// What is done with a [`MaxListenersWarning`].
    type WarningFn: Clone + Deref<Target: Fn(&MaxListenersWarning)>;
    /// Whether a `once` listener was claimed.
    type Fired: Clone;
    /// A copy-on-write list of listeners.
    type List: List<Entry = Entry<Self>>;

    /// A `once` listener's flag, not claimed yet.
    fn unfired() -> Self::Fired;

    /// Claims a `once` listener: whether it was claimed already.
    fn fire(fired: &Self::Fired) -> bool;

    /// Reads (or changes what emits do not read of) the table.
    fn table<R>(&self, read: impl FnOnce(&mut Table<Self::List>) -> R) -> R;

    /// Changes the table's lists: `change` says whether it did.
    fn change<R>(&self, change: impl FnOnce(&mut Table<Self::List>) -> (R, bool)) -> R;

    /// The handler set by `set_warning_handler`.
    fn warning_handler(&self) -> Option<Self::WarningFn>;

    fn add(&self, name: EventName, kind: Kind<Self>, once: bool, prepend: bool) -> ListenerId {
        let id = ListenerId::next();
        let meta = self.table(|table| table.get(NEW_LISTENER).cloned());
        if let Some(meta) = meta {
            self.emit_meta(NEW_LISTENER, &meta, &name, id);
        }
        let entry = Entry {
            id,
            once: once.then(Self::unfired),
            kind,
        };
        let warning = self.change(|table| (table.insert(name, entry, prepend), true));
        if let Some(warning) = warning {
            match self.warning_handler() {
                Some(handler) => handler(&warning),
                None => default_warning(&warning),
            }
        }
        id
    }

    /// Adds a listener of the payload.
    fn add_payload(
        &self,
        name: impl Into<EventName>,
        listener: Self::PayloadFn,
        once: bool,
        prepend: bool,
    ) -> ListenerId {
        self.add(name.into(), Kind::Payload(listener), once, prepend)
    }

    /// Adds a listener to [`ERROR`].
    fn add_error(&self, listener: Self::ErrorFn, once: bool) -> ListenerId {
        self.add(ERROR.into(), Kind::Error(listener), once, false)
    }

    /// Adds a listener to meta-event `event`.
    fn add_meta(&self, event: &'static str, listener: Self::MetaFn, once: bool) -> ListenerId {
        self.add(event.into(), Kind::Meta(listener), once, false)
    }

    fn off(&self, id: ListenerId) -> bool {
        let name = self.table(|table| table.find(id));
        name.is_some_and(|name| self.remove_listener(&name, id))
    }

    fn remove_listener(&self, name: &str, id: ListenerId) -> bool {
        let (removed, meta) = self.change(|table| {
            let removed = table.remove(name, id);
            ((removed, table.get(REMOVE_LISTENER).cloned()), removed)
        });
        if removed {
            if let Some(meta) = meta {
                self.emit_meta(REMOVE_LISTENER, &meta, name, id);
            }
        }
        removed
    }

    fn remove_all_listeners(&self, name: Option<&str>) {
        let has_meta = self.table(|table| table.get(REMOVE_LISTENER).is_some());
        match name {
            Some(name) if has_meta => {
                for id in self.table(|table| table.ids(name)).into_iter().rev() {
                    self.remove_listener(name, id);
                }
            }
            Some(name) => self.change(|table| (table.clear(name), true)),
            None if has_meta => {
                for name in self.table(|table| table.names()) {
                    if name != REMOVE_LISTENER {
                        self.remove_all_listeners(Some(&name));
                    }
                }
                self.remove_all_listeners(Some(REMOVE_LISTENER));
            }
            None => self.change(|table| (table.clear_all(), true)),
        }
    }

    fn emit_error(&self, error: Error) -> Result<bool, Error> {
        let list = self.table(|table| table.get(ERROR).cloned());
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

    /// Whether this emit runs `entry`: always for plain listeners; for a
    /// `once` listener, only the emit that claims it, which removes it.
    #[inline]
    fn claim(&self, name: &str, entry: &Entry<Self>) -> bool {
        match &entry.once {
            None => true,
            Some(fired) => {
                if Self::fire(fired) {
                    return false;
                }
                self.remove_listener(name, entry.id);
                true
            }
        }
    }

    /// Tells the meta listeners of `list`; their panics reach `error`, and
    /// are the caller's panics when nobody listens there.
    fn emit_meta(&self, meta: &str, list: &Self::List, name: &str, id: ListenerId) {
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

    /// The emit's result when its one listener failed.
    #[cold]
    #[inline(never)]
    fn report_one(&self, name: &str, failure: Error) -> Result<bool, Error> {
        self.report(name, vec![failure]).map(|()| true)
    }

    /// What emitting an event with no listener gives.
    fn nobody(&self, name: &str) -> Result<bool, Error> {
        if name == ERROR {
            Err(unhandled_error_event())
        } else {
            Ok(false)
        }
    }
}

/// What both emitters do to run an emit's listeners and their tasks; an
/// emitter says how it emits and starts an async listener's task.
pub(crate) trait Emits: Core + Clone + 'static {
    /// The emitter's `emit`.
    fn emit(&self, name: &str, payload: Self::Payload) -> Result<bool, Error>;

    /// Starts async listener `f`'s task for an emit of `name`.
    fn spawn(&self, name: &str, f: &Self::AsyncFn, payload: &Self::Payload) -> Result<(), Error>;

    /// Runs the listeners of `list`, a snapshot of `name`'s (out of
    /// line: `emit` stays small enough to inline).
    #[inline(never)]
    fn run(
        &self,
        name: &str,
        list: &[Entry<Self>],
        payload: &Self::Payload,
    ) -> Result<bool, Error> {
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
        entry: &Entry<Self>,
        payload: &Self::Payload,
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
                emitter.fail(&name, error);
            }
            drop(guard);
        }
    }

    /// Sends an async listener's failure to `error`, else to the loop.
    fn fail(&self, name: &str, error: Error) {
        if let Err(error) = self.emit_error(error) {
            report_to_loop(name, error);
        }
    }

    /// `emit(name, payload)` for a loop to call later; its error goes to
    /// the loop's exception handler.
    fn emit_later(&self, name: EventName, payload: Self::Payload) -> impl FnOnce() + 'static
    where
        Self::Payload: 'static,
    {
        let emitter = self.clone();
        move || {
            if let Err(error) = emitter.emit(&name, payload) {
                report_to_loop(&name, error);
            }
        }
    }
}

/// Hands a failure nobody took to the running loop's exception handler
/// (stderr when no loop runs).
pub(crate) fn report_to_loop(name: &str, error: Error) {
    let context =
        ExceptionContext::new(format!("unhandled error of an emit of '{name}'")).with_error(error);
    match get_running_loop() {
        Ok(event_loop) => event_loop.call_exception_handler(&context),
        Err(_) => corun_asyncio::EventLoop::default_exception_handler(&context),
    }
}
