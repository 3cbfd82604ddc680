//! A value published for readers on any thread, read without a lock or a
//! reference count: how an emit of [`EventEmitter`](crate::EventEmitter)
//! reaches its listeners.
//!
//! This is Michael's hazard pointers (IEEE TPDS 2004) reduced to what an
//! emitter needs. Each thread owns a few *hazard slots*. A reader stores
//! the pointer it is about to use in a free slot of its own, then checks
//! that the pointer is still the published one: from then on the value
//! stays alive until the reader clears the slot. A writer swaps in a new
//! value and *retires* the old one; retired values are freed by whoever
//! next scans the slots of every thread and finds nobody using them — the
//! writer itself, or the reader that clears the last slot naming one.
//!
//! A read costs one sequentially consistent store and one load, where a
//! lock costs two read-modify-writes and an `Arc` clone two more; the
//! value may be used for as long as the reader likes (while listeners
//! run) without holding up writers.
//!
//! Loom checks it: built with `RUSTFLAGS="--cfg corun_loom"`, the atomics,
//! the mutex, the thread locals and the record list are loom's (see
//! `crate::loom`), and `tests/loom_hazard.rs` explores readers racing
//! writers, guard drops racing reclaims and records changing hands.

#![allow(unsafe_code)]

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use crate::loom::{AtomicBool, AtomicPtr, Mutex, Ordering, seq_cst_order};

/// Hazard slots per thread: one for each emit nested in a listener of
/// another; a reader finding none free is told so and takes a lock.
#[cfg(not(corun_loom))]
const SLOTS: usize = 4;
/// Two slots in the model: enough for a nested read, and each slot a scan
/// reads multiplies the interleavings loom explores.
#[cfg(corun_loom)]
const SLOTS: usize = 2;

/// One thread's hazard slots. Records are never freed: a thread that ends
/// gives its record back, and the next new thread takes it.
struct Record {
    slots: [AtomicPtr<()>; SLOTS],
    taken: AtomicBool,
    /// The record pushed before this one; written once, before this one
    /// is published.
    next: AtomicPtr<Record>,
}

/// Every record ever made, newest first.
#[cfg(not(corun_loom))]
static RECORDS: AtomicPtr<Record> = AtomicPtr::new(ptr::null_mut());

#[cfg(corun_loom)]
loom::lazy_static! {
    /// Every record made in this model execution, newest first: loom's
    /// atomics live for one execution, so the list starts empty in each
    /// (the records of earlier ones are leaked, never reached again).
    static ref RECORDS: AtomicPtr<Record> = AtomicPtr::new(ptr::null_mut());
}

/// Every record ever made.
///
/// The head is read sequentially consistent, and records are pushed so:
/// a scan that follows a writer's swap then finds the record of every
/// reader whose check of the published pointer came before the swap (that
/// reader pushed its record, or took one pushed earlier, before its
/// sequentially consistent slot store and check). With an acquire load
/// and a release push, nothing ordered the scan's read of the head after
/// the push: the scan could miss a new reader's record, and free the value
/// it protects.
fn records() -> impl Iterator<Item = &'static Record> {
    let mut at = RECORDS.load(Ordering::SeqCst);
    std::iter::from_fn(move || {
        // SAFETY: `at` is null or a record leaked by `Local::take`, which
        // is never freed, and was written before being published with
        // the (releasing) compare-exchange this load (or the acquire load
        // of the record before it) reads.
        let record = unsafe { at.as_ref() }?;
        at = record.next.load(Ordering::Acquire);
        Some(record)
    })
}

/// This thread's record, given back when the thread ends.
struct Local(&'static Record);

impl Local {
    fn take() -> Self {
        for record in records() {
            if !record.taken.load(Ordering::Relaxed)
                && record
                    .taken
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return Self(record);
            }
        }
        let record: &'static Record = Box::leak(Box::new(Record {
            slots: Default::default(),
            taken: AtomicBool::new(true),
            next: AtomicPtr::new(ptr::null_mut()),
        }));
        let mut head = RECORDS.load(Ordering::Relaxed);
        // Sequentially consistent, as `records` says why.
        loop {
            record.next.store(head, Ordering::Relaxed);
            match RECORDS.compare_exchange_weak(
                head,
                ptr::from_ref(record).cast_mut(),
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Self(record),
                Err(now) => head = now,
            }
        }
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        // A model that failed is being torn down outside loom's
        // execution, where loom's atomics cannot be used.
        #[cfg(corun_loom)]
        if std::thread::panicking() {
            return;
        }
        // No later read of this thread may use the record (it falls back
        // to the lock), and every slot is clear: a `Protected` lives
        // inside one call on this thread, and this runs once no code of
        // the thread does.
        // `try_with`: std's `RECORD` has no destructor and is always
        // there; loom's may be gone already.
        let _ = RECORD.try_with(|record| record.set(None));
        self.0.taken.store(false, Ordering::Release);
    }
}

#[cfg(not(corun_loom))]
thread_local! {
    /// This thread's record, once taken: read by every emit, so without
    /// a destructor (whose state check each access would pay).
    static RECORD: Cell<Option<&'static Record>> = const { Cell::new(None) };
    /// Takes the record on first use, gives it back when the thread ends.
    static LOCAL: Local = Local::take();
}

#[cfg(corun_loom)]
loom::thread_local! {
    /// This thread's record, once taken.
    static RECORD: Cell<Option<&'static Record>> = Cell::new(None);
    /// Takes the record on first use, gives it back when the thread ends.
    static LOCAL: Local = Local::take();
}

/// This thread's record: taken on first use; none once the thread ends.
#[inline]
fn record() -> Option<&'static Record> {
    RECORD.with(Cell::get).or_else(take_record)
}

#[cold]
#[inline(never)]
fn take_record() -> Option<&'static Record> {
    let record = LOCAL.try_with(|local| local.0).ok()?;
    RECORD.with(|r| r.set(Some(record)));
    Some(record)
}

/// A free hazard slot of this thread, if any (none while the thread ends).
#[inline]
fn free_slot() -> Option<&'static AtomicPtr<()>> {
    record()?
        .slots
        .iter()
        .find(|slot| slot.load(Ordering::Relaxed).is_null())
}

/// A retired value, owned by the `retired` list.
struct Retired<T>(NonNull<T>);

// SAFETY: a retired value is owned by the list, which hands it to the one
// thread that frees it: sending it is sending a `Box<T>`.
unsafe impl<T: Send> Send for Retired<T> {}

/// A value of `T` (or none) that threads read with [`load`](Self::load)
/// while others [`replace`](Self::replace) it.
pub(crate) struct Published<T> {
    /// A `Box<T>` turned into a pointer, or null.
    current: AtomicPtr<T>,
    /// Values replaced that readers may still use.
    retired: Mutex<Vec<Retired<T>>>,
    /// Whether `retired` is not empty: a reader clearing its slot then
    /// frees what it can.
    pending: AtomicBool,
    /// Owns `T`s, drops them on any thread, and lets threads share them.
    _owns: PhantomData<Box<T>>,
}

impl<T> Published<T> {
    /// Nothing published.
    pub(crate) fn new() -> Self {
        Self {
            current: AtomicPtr::new(ptr::null_mut()),
            retired: Mutex::new(Vec::new()),
            pending: AtomicBool::new(false),
            _owns: PhantomData,
        }
    }

    /// Whether nothing is published.
    pub(crate) fn is_empty(&self) -> bool {
        self.current.load(Ordering::Acquire).is_null()
    }

    /// The published value, kept alive until the guard is dropped; `None`
    /// when nothing is published, or when this thread has no free slot
    /// (too deeply nested, or ending).
    #[inline]
    pub(crate) fn load(&self) -> Option<Protected<'_, T>> {
        let mut current = self.current.load(Ordering::Acquire);
        if current.is_null() {
            return None;
        }
        let slot = free_slot()?;
        loop {
            slot.store(current.cast(), Ordering::SeqCst);
            // Nothing outside the model (see `seq_cst_order`).
            seq_cst_order();
            let now = self.current.load(Ordering::SeqCst);
            if now == current {
                break;
            }
            if now.is_null() {
                slot.store(ptr::null_mut(), Ordering::Release);
                return None;
            }
            current = now;
        }
        // SAFETY: `current` is a published `Box<T>`, and it was still
        // published after this thread's slot named it (both sequentially
        // consistent): a writer that replaces it scans the slots after its
        // swap, in that order too, so it sees the slot and keeps the value
        // until the guard clears the slot.
        let value = unsafe { &*current };
        Some(Protected {
            value,
            slot,
            owner: self,
            _not_send: PhantomData,
        })
    }

    /// Publishes `value` (or nothing) in place of the current one, which
    /// is freed once no reader uses it: by [`reclaim`](Self::reclaim), or
    /// by the last reader. Writers that must publish values in a given
    /// order call this under a lock of their own.
    pub(crate) fn replace(&self, value: Option<Box<T>>) {
        let new = value.map_or(ptr::null_mut(), Box::into_raw);
        let old = self.current.swap(new, Ordering::SeqCst);
        if let Some(old) = NonNull::new(old) {
            let mut retired = self.retired.lock();
            retired.push(Retired(old));
            // Under the lock, as in `reclaim`: `pending` is whether
            // `retired` was empty at the last unlock.
            self.pending.store(true, Ordering::SeqCst);
        }
    }

    /// Frees the retired values no reader uses (at once when none is
    /// retired). Call it holding no lock that dropping a `T` may take.
    #[inline]
    pub(crate) fn reclaim(&self) {
        if self.pending.load(Ordering::SeqCst) {
            self.reclaim_retired();
        }
    }

    #[cold]
    #[inline(never)]
    fn reclaim_retired(&self) {
        let mut free = Vec::new();
        {
            let mut retired = self.retired.lock();
            // After the swaps that retired these (taken before this lock),
            // before the scan; nothing outside the model.
            seq_cst_order();
            let mut at = 0;
            while at < retired.len() {
                if in_use(retired[at].0.as_ptr().cast()) {
                    at += 1;
                } else {
                    free.push(retired.swap_remove(at));
                }
            }
            self.pending.store(!retired.is_empty(), Ordering::SeqCst);
        }
        for value in free {
            // SAFETY: the value came from `Box::into_raw` in `replace`, and
            // its swap took it out of `current`, so no reader finds it
            // anymore; a reader that found it before had named it in its
            // slot before that swap, and the scan above, after the swap,
            // found no slot naming it. The list owned it alone.
            drop(unsafe { Box::from_raw(value.0.as_ptr()) });
        }
    }
}

/// Whether a hazard slot of some thread names `value`.
fn in_use(value: *mut ()) -> bool {
    records().any(|record| {
        record
            .slots
            .iter()
            .any(|slot| slot.load(Ordering::SeqCst) == value)
    })
}

impl<T> Drop for Published<T> {
    fn drop(&mut self) {
        // `&mut self`: no guard is alive.
        self.replace(None);
        for value in self.retired.get_mut().drain(..) {
            // SAFETY: from `Box::into_raw` in `replace`, owned by the list
            // alone now that no reader is left.
            drop(unsafe { Box::from_raw(value.0.as_ptr()) });
        }
    }
}

/// A published value in use: it is not freed while this lives.
pub(crate) struct Protected<'a, T> {
    value: &'a T,
    slot: &'static AtomicPtr<()>,
    owner: &'a Published<T>,
    /// The slot is this thread's.
    _not_send: PhantomData<*const ()>,
}

impl<T> std::ops::Deref for Protected<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        self.value
    }
}

impl<T> Drop for Protected<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.slot.store(ptr::null_mut(), Ordering::Release);
        if self.owner.pending.load(Ordering::Relaxed) {
            self.owner.reclaim_retired();
        }
    }
}

/// [`Published`] and [`Protected`] as the model checks in
/// `tests/loom_hazard.rs` reach them; built only under `--cfg corun_loom`.
#[cfg(corun_loom)]
pub mod model {
    use std::fmt;

    /// A value of `T` (or none) that threads read while others replace it.
    pub struct Published<T>(super::Published<T>);

    impl<T> Published<T> {
        /// Nothing published.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            Self(super::Published::new())
        }

        /// Whether nothing is published.
        pub fn is_empty(&self) -> bool {
            self.0.is_empty()
        }

        /// The published value, kept alive until the guard is dropped.
        pub fn load(&self) -> Option<Protected<'_, T>> {
            self.0.load().map(Protected)
        }

        /// Publishes `value` (or nothing), retiring the current one.
        pub fn replace(&self, value: Option<Box<T>>) {
            self.0.replace(value);
        }

        /// Frees the retired values no reader uses.
        pub fn reclaim(&self) {
            self.0.reclaim();
        }
    }

    impl<T> fmt::Debug for Published<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.pad("Published { .. }")
        }
    }

    /// A published value in use: it is not freed while this lives.
    pub struct Protected<'a, T>(super::Protected<'a, T>);

    impl<T> std::ops::Deref for Protected<'_, T> {
        type Target = T;

        fn deref(&self) -> &T {
            &self.0
        }
    }

    impl<T> fmt::Debug for Protected<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.pad("Protected { .. }")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    /// Counts the values alive, and marks itself dropped.
    struct Counted(Arc<AtomicUsize>, usize, AtomicBool);

    impl Counted {
        fn new(alive: &Arc<AtomicUsize>, n: usize) -> Box<Self> {
            alive.fetch_add(1, Ordering::SeqCst);
            Box::new(Self(Arc::clone(alive), n, AtomicBool::new(false)))
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.2.store(true, Ordering::SeqCst);
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_value_in_use_outlives_its_replacement_and_is_freed_after() {
        let alive = Arc::new(AtomicUsize::new(0));
        let published = Published::new();
        assert!(published.load().is_none());
        published.replace(Some(Counted::new(&alive, 1)));
        let guard = published.load().expect("published");
        published.replace(Some(Counted::new(&alive, 2)));
        published.reclaim();
        assert_eq!(guard.1, 1, "still readable");
        assert_eq!(alive.load(Ordering::SeqCst), 2);
        drop(guard); // the last reader frees it
        assert_eq!(alive.load(Ordering::SeqCst), 1);
        assert_eq!(published.load().expect("published").1, 2);
        published.replace(None);
        published.reclaim();
        assert_eq!(alive.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn nested_reads_take_slots_until_none_is_left() {
        let alive = Arc::new(AtomicUsize::new(0));
        let published = Published::new();
        published.replace(Some(Counted::new(&alive, 1)));
        let guards: Vec<_> = (0..SLOTS).map_while(|_| published.load()).collect();
        assert_eq!(guards.len(), SLOTS);
        assert!(published.load().is_none(), "no slot left");
        drop(guards);
        assert!(published.load().is_some());
        drop(published);
        assert_eq!(alive.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn threads_that_end_give_their_slots_to_the_next() {
        let alive = Arc::new(AtomicUsize::new(0));
        let published = Arc::new(Published::new());
        published.replace(Some(Counted::new(&alive, 1)));
        let before = records().count();
        for _ in 0..32 {
            let published = Arc::clone(&published);
            std::thread::spawn(move || assert!(published.load().is_some()))
                .join()
                .expect("reader");
        }
        // One record serves them all, one after the other (other tests'
        // threads may take a few meanwhile).
        assert!(records().count() - before <= 8, "records are reused");
        // Their slots were cleared: nobody holds the value any more.
        assert!(!in_use(published.current.load(Ordering::SeqCst).cast()));
    }

    #[test]
    fn readers_on_many_threads_never_see_a_freed_value() {
        let alive = Arc::new(AtomicUsize::new(0));
        let published = Arc::new(Published::new());
        published.replace(Some(Counted::new(&alive, 0)));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let published = Arc::clone(&published);
                std::thread::spawn(move || {
                    let mut last = 0;
                    for _ in 0..20_000 {
                        if let Some(value) = published.load() {
                            // A value freed under the reader would most
                            // likely read as dropped, or go backwards.
                            assert!(!value.2.load(Ordering::SeqCst));
                            assert!(value.1 >= last);
                            last = value.1;
                        }
                    }
                })
            })
            .collect();
        for n in 1..=20_000 {
            published.replace(Some(Counted::new(&alive, n)));
            published.reclaim();
        }
        for reader in readers {
            reader.join().expect("reader");
        }
        published.reclaim();
        assert_eq!(alive.load(Ordering::SeqCst), 1, "all but the current freed");
        drop(published);
        assert_eq!(alive.load(Ordering::SeqCst), 0);
    }
}
