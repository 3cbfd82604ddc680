//! Model checks of the hazard pointers behind `corun::events::EventEmitter`'s emits
//! (`src/hazard.rs`) under loom: readers racing writers that replace and
//! reclaim, two writers at once, a reader's guard drop racing a reclaim,
//! and a thread's record given back at its end and taken by the next.
//!
//! Every value keeps its number in a loom `UnsafeCell` that its drop
//! writes: a drop that does not happen after a reader's read of it is a
//! data race loom reports — a value freed while in use. Each value also
//! marks itself dead and counts its drops; the models assert that readers
//! never see a dead value, that every value is dropped exactly once, and
//! that none retired is left alive after a final `reclaim` (a guard's drop
//! looks at the pending flag with a relaxed load, so it may leave a value
//! retired for the next reclaim: that is allowed, a value left for ever is
//! not).
//!
//! ```text
//! RUSTFLAGS="--cfg corun_loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p corun-events --release --test loom_hazard
//! ```
#![cfg(corun_loom)]
#![allow(unsafe_code)]

use corun_events::hazard_model::Published;
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;

/// The most values a model makes.
const VALUES: usize = 4;

/// What the models know of their values: which are dead, how often each
/// was dropped, how many are alive.
struct Book {
    dead: [AtomicBool; VALUES],
    drops: [AtomicUsize; VALUES],
    alive: AtomicUsize,
}

impl Book {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            dead: Default::default(),
            drops: Default::default(),
            alive: AtomicUsize::new(0),
        })
    }

    fn alive(&self) -> usize {
        self.alive.load(SeqCst)
    }

    /// Asserts that value `n` was dropped exactly once.
    fn dropped_once(&self, n: usize) {
        assert_eq!(self.drops[n].load(SeqCst), 1, "value {n} dropped once");
    }
}

/// A published value: its number, and the book it reports to.
struct Value {
    n: UnsafeCell<usize>,
    book: Arc<Book>,
}

impl Value {
    fn new(book: &Arc<Book>, n: usize) -> Box<Self> {
        book.alive.fetch_add(1, SeqCst);
        Box::new(Self {
            n: UnsafeCell::new(n),
            book: Arc::clone(book),
        })
    }

    /// Reads the value as a reader does: its number, checked alive.
    fn read(&self) -> usize {
        // SAFETY: only `Drop` writes the cell; loom reports a write that
        // races this read.
        let n = self.n.with(|n| unsafe { *n });
        assert!(
            !self.book.dead[n].load(SeqCst),
            "value {n} read after its drop"
        );
        n
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        let n = self.n.with_mut(|n| {
            // SAFETY: `&mut self`; loom checks that every read happened
            // before this write.
            let m = unsafe { *n };
            // SAFETY: as above.
            unsafe { *n = usize::MAX };
            m
        });
        self.book.dead[n].store(true, SeqCst);
        self.book.drops[n].fetch_add(1, SeqCst);
        self.book.alive.fetch_sub(1, SeqCst);
    }
}

/// Reads what is published, if anything; the number read.
fn read(published: &Published<Value>) -> Option<usize> {
    published.load().map(|value| value.read())
}

/// (a) One reader loads and reads, twice, while a writer replaces and
/// reclaims twice: the reader never sees a freed value, nor an older one
/// after a newer, and after a final reclaim only the current value is
/// alive.
#[test]
fn reader_against_replace_and_reclaim() {
    loom::model(|| {
        let book = Book::new();
        let published = Arc::new(Published::new());
        published.replace(Some(Value::new(&book, 0)));
        let reader = {
            let published = Arc::clone(&published);
            thread::spawn(move || {
                let first = read(&published).expect("published");
                let second = read(&published).expect("published");
                assert!(first <= second, "read {first}, then {second}");
            })
        };
        for n in [1, 2] {
            published.replace(Some(Value::new(&book, n)));
            published.reclaim();
        }
        reader.join().unwrap();
        published.reclaim();
        assert_eq!(book.alive(), 1, "the replaced values are freed");
        book.dropped_once(0);
        book.dropped_once(1);
        assert_eq!(read(&published), Some(2));
        drop(published);
        assert_eq!(book.alive(), 0);
        book.dropped_once(2);
    });
}

/// (b) Two writers replace at once while a reader reads: every value but
/// the one published last is freed, once, and never under the reader.
#[test]
fn two_writers_and_a_reader() {
    loom::model(|| {
        let book = Book::new();
        let published = Arc::new(Published::new());
        published.replace(Some(Value::new(&book, 0)));
        let writers: Vec<_> = [1, 2]
            .into_iter()
            .map(|n| {
                let published = Arc::clone(&published);
                let book = Arc::clone(&book);
                thread::spawn(move || {
                    published.replace(Some(Value::new(&book, n)));
                    published.reclaim();
                })
            })
            .collect();
        let seen = read(&published);
        assert!(seen.is_some(), "something is always published");
        for writer in writers {
            writer.join().unwrap();
        }
        published.reclaim();
        assert_eq!(book.alive(), 1, "only the last published is alive");
        book.dropped_once(0);
        let last = read(&published).expect("published");
        book.dropped_once(3 - last);
        drop(published);
        assert_eq!(book.alive(), 0);
        book.dropped_once(last);
    });
}

/// (c) A reader's guard drop races the writer's reclaim (either may free
/// the old value, or neither, leaving it to the next reclaim): it is freed
/// exactly once, only after the reader is done, and dropping the
/// `Published` frees what is left.
#[test]
fn guard_drop_against_reclaim() {
    loom::model(|| {
        let book = Book::new();
        let published = Arc::new(Published::new());
        published.replace(Some(Value::new(&book, 0)));
        let reader = {
            let published = Arc::clone(&published);
            thread::spawn(move || {
                let outer = published.load()?;
                let n = outer.read();
                // A nested read while the outer guard lives.
                let inner = read(&published);
                assert_eq!(outer.read(), n);
                drop(outer);
                Some((n, inner))
            })
        };
        published.replace(Some(Value::new(&book, 1)));
        published.reclaim();
        published.replace(None);
        published.reclaim();
        if let Some((n, inner)) = reader.join().unwrap() {
            assert!(
                n <= 1 && inner.is_none_or(|m| m >= n),
                "read {n}, then {inner:?}"
            );
        }
        assert!(published.is_empty());
        drop(published);
        assert_eq!(book.alive(), 0);
        book.dropped_once(0);
        book.dropped_once(1);
    });
}

/// A reader's record is given back when its thread ends and taken by the
/// next thread while a writer replaces and reclaims: the second reader's
/// slot is seen by the writer's scan whichever record it has.
#[test]
fn records_given_back_and_taken_again() {
    loom::model(|| {
        let book = Book::new();
        let published = Arc::new(Published::new());
        published.replace(Some(Value::new(&book, 0)));
        let first = {
            let published = Arc::clone(&published);
            thread::spawn(move || read(&published))
        };
        let writer = {
            let published = Arc::clone(&published);
            let book = Arc::clone(&book);
            thread::spawn(move || {
                published.replace(Some(Value::new(&book, 1)));
                published.reclaim();
            })
        };
        first.join().unwrap();
        let second = {
            let published = Arc::clone(&published);
            thread::spawn(move || read(&published))
        };
        second.join().unwrap();
        writer.join().unwrap();
        published.reclaim();
        assert_eq!(book.alive(), 1);
        book.dropped_once(0);
        drop(published);
        assert_eq!(book.alive(), 0);
        book.dropped_once(1);
    });
}
