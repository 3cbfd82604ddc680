//! Per-thread event logs: where the hot path writes.
//!
//! Every thread that records into a recorder gets its own [`Buffer`] for
//! it, found through a thread-local list keyed by the recorder's id and
//! registered with the recorder's [`Buffers`]. Recording an event is then a
//! thread-local lookup, an uncontended lock and a push; only
//! [`Buffers::drain`] (called by `Recorder::timeline`) touches other
//! threads' buffers, by swapping their logs out.
//!
//! Logs grow by fixed-size [`Chunks`], so a push never copies what the
//! log already holds. Events are small: a start or a finish is a 16-byte [`Stamp`] (task id,
//! and the time with its kind packed into the top bits); a submission also
//! carries its label, and a start on a named lane its worker name. The
//! thread's own lane name is kept once per buffer, not per event.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use parking_lot::Mutex;

use crate::chunks::Chunks;
use crate::outcome::Outcome;

/// How many low bits of a stamp's word hold the time (nanoseconds since
/// the origin: about nine years).
const TIME_BITS: u32 = 58;
/// The mask of a stamp's time.
const TIME_MASK: u64 = (1 << TIME_BITS) - 1;
/// The kind code of a start; a finish is `FINISHED + outcome code`.
const STARTED: u64 = 0;
/// The kind code of a finish with outcome code 0.
const FINISHED: u64 = 1;

/// Hands out recorder ids, so that thread-local entries are never confused
/// between recorders (an id is never reused).
static NEXT_RECORDER: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's buffer for each recorder it has recorded into.
    static LOCAL: RefCell<Vec<Local>> = const { RefCell::new(Vec::new()) };
}

/// The buffers of one recorder, one per thread that recorded into it.
#[derive(Debug)]
pub(crate) struct Buffers {
    /// The recorder's process-unique id.
    recorder: u64,
    /// Every live buffer (and those of exited threads until drained).
    all: Mutex<Vec<Arc<Buffer>>>,
}

/// One thread's log for one recorder.
///
/// Aligned so that two threads' buffers never share a cache line.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct Buffer {
    /// The lane of the thread that owns the buffer.
    lane: Cow<'static, str>,
    log: Mutex<Log>,
}

/// Events recorded on one thread, not yet merged.
#[derive(Debug, Default)]
pub(crate) struct Log {
    /// Submissions, with their labels.
    pub(crate) submissions: Chunks<Submission>,
    /// Starts on the owning thread's lane, and finishes.
    pub(crate) stamps: Chunks<Stamp>,
    /// Starts on an explicitly named lane.
    pub(crate) placements: Chunks<Placement>,
}

/// A task was submitted.
#[derive(Debug)]
pub(crate) struct Submission {
    pub(crate) task: u64,
    pub(crate) at: u64,
    pub(crate) label: Cow<'static, str>,
}

/// A task started on a named lane.
#[derive(Debug)]
pub(crate) struct Placement {
    pub(crate) task: u64,
    pub(crate) at: u64,
    pub(crate) worker: Cow<'static, str>,
}

/// A task started on the buffer's lane, or finished: 16 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stamp {
    pub(crate) task: u64,
    /// The time in the low [`TIME_BITS`], the kind code above.
    word: u64,
}

/// What a [`Stamp`] says happened.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StampKind {
    Started,
    Finished(Outcome),
}

/// One entry of the thread-local list.
#[derive(Debug)]
struct Local {
    recorder: u64,
    buffer: Arc<Buffer>,
}

/// The lane name of the calling thread: its name, or `thread <id>`.
pub(crate) fn current_lane() -> Cow<'static, str> {
    let current = thread::current();
    if let Some(name) = current.name() {
        return Cow::Owned(name.to_owned());
    }
    // `ThreadId::as_u64` is unstable; its Debug form is `ThreadId(N)`.
    let debug = format!("{:?}", current.id());
    let number = debug
        .strip_prefix("ThreadId(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(&debug);
    Cow::Owned(format!("thread {number}"))
}

impl Buffers {
    /// Buffers for a new recorder, with a fresh id.
    pub(crate) fn new() -> Self {
        Self {
            recorder: NEXT_RECORDER.fetch_add(1, Ordering::Relaxed),
            all: Mutex::new(Vec::new()),
        }
    }

    /// The recorder's process-unique id.
    pub(crate) fn recorder(&self) -> u64 {
        self.recorder
    }

    /// Runs `f` on the calling thread's log for this recorder, creating and
    /// registering the log on the thread's first event.
    pub(crate) fn with_log(&self, f: impl FnOnce(&mut Log)) {
        let mut f = Some(f);
        // `try_with` fails only while the thread's locals are being torn
        // down (a recorder used from another thread-local's destructor).
        let _ = LOCAL.try_with(|local| {
            let mut local = local.borrow_mut();
            let index = match local.iter().position(|l| l.recorder == self.recorder) {
                Some(index) => index,
                None => {
                    // Drop the buffers of recorders that are gone.
                    local.retain(|l| Arc::strong_count(&l.buffer) > 1);
                    let buffer = Arc::new(Buffer::new(current_lane()));
                    self.all.lock().push(Arc::clone(&buffer));
                    local.push(Local {
                        recorder: self.recorder,
                        buffer,
                    });
                    local.len() - 1
                }
            };
            if let Some(f) = f.take() {
                f(&mut local[index].buffer.log.lock());
            }
        });
        if let Some(f) = f {
            // A one-off buffer, drained (and dropped) by the next merge.
            let buffer = Buffer::new(current_lane());
            f(&mut buffer.log.lock());
            self.all.lock().push(Arc::new(buffer));
        }
    }

    /// Swaps out every buffer's log and returns each with its thread's
    /// lane; forgets the buffers of threads that have exited.
    pub(crate) fn drain(&self) -> Vec<(Log, Cow<'static, str>)> {
        let mut all = self.all.lock();
        let mut logs = Vec::with_capacity(all.len());
        all.retain(|buffer| {
            // Checked before the swap: a buffer only this list holds can
            // receive no more events, so none are lost by dropping it.
            let exited = Arc::strong_count(buffer) == 1;
            let log = std::mem::take(&mut *buffer.log.lock());
            logs.push((log, buffer.lane.clone()));
            !exited
        });
        logs
    }
}

impl Drop for Buffers {
    /// Frees the events the recorder never merged: a thread keeps its
    /// (now empty) buffer until it next records into a new recorder or
    /// exits.
    fn drop(&mut self) {
        for buffer in self.all.get_mut().iter() {
            *buffer.log.lock() = Log::default();
        }
    }
}

impl Buffer {
    fn new(lane: Cow<'static, str>) -> Self {
        Self {
            lane,
            log: Mutex::new(Log::default()),
        }
    }
}

impl Stamp {
    /// The task started at `at` (nanoseconds since the origin).
    pub(crate) fn started(task: u64, at: u64) -> Self {
        Self::new(task, at, STARTED)
    }

    /// The task finished at `at` with `outcome`.
    pub(crate) fn finished(task: u64, at: u64, outcome: &Outcome) -> Self {
        Self::new(task, at, FINISHED + crate::outcome::code(outcome))
    }

    fn new(task: u64, at: u64, kind: u64) -> Self {
        Self {
            task,
            word: at.min(TIME_MASK) | (kind << TIME_BITS),
        }
    }

    /// When it happened, in nanoseconds since the origin.
    pub(crate) fn at(self) -> u64 {
        self.word & TIME_MASK
    }

    /// What happened (`None` for a corrupt code, which cannot be made).
    pub(crate) fn kind(self) -> Option<StampKind> {
        match self.word >> TIME_BITS {
            STARTED => Some(StampKind::Started),
            code => crate::outcome::from_code(code - FINISHED).map(StampKind::Finished),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_small_and_round_trip() {
        assert_eq!(std::mem::size_of::<Stamp>(), 16);
        let s = Stamp::started(3, 12_345);
        assert_eq!(
            (s.task, s.at(), s.kind()),
            (3, 12_345, Some(StampKind::Started))
        );
        let f = Stamp::finished(4, 99, &Outcome::WorkerDied);
        assert_eq!(f.at(), 99);
        assert_eq!(f.kind(), Some(StampKind::Finished(Outcome::WorkerDied)));
    }

    #[test]
    fn stamp_time_saturates() {
        assert_eq!(Stamp::started(0, u64::MAX).at(), TIME_MASK);
        assert_eq!(Stamp::started(0, u64::MAX).kind(), Some(StampKind::Started));
    }

    #[test]
    fn unnamed_threads_get_a_numbered_lane() {
        let lane = thread::spawn(current_lane).join().unwrap();
        assert!(lane.starts_with("thread "), "{lane}");
        assert!(lane["thread ".len()..].parse::<u64>().is_ok(), "{lane}");
        let named = thread::Builder::new()
            .name("w7".into())
            .spawn(current_lane)
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(named, "w7");
    }

    #[test]
    fn dropped_recorders_free_their_events_and_are_pruned() {
        let old = Buffers::new();
        old.with_log(|log| log.stamps.push(Stamp::started(0, 1)));
        let buffer = Arc::downgrade(&old.all.lock()[0]);
        drop(old);
        let kept = buffer.upgrade().expect("the thread still holds it");
        assert_eq!(kept.log.lock().stamps.len(), 0, "its events are freed");
        drop(kept);
        Buffers::new().with_log(|_| {});
        assert!(buffer.upgrade().is_none(), "the thread let go");
    }

    #[test]
    fn drain_forgets_exited_threads_but_keeps_their_events() {
        let buffers = Arc::new(Buffers::new());
        let b = Arc::clone(&buffers);
        thread::spawn(move || b.with_log(|log| log.stamps.push(Stamp::started(0, 1))))
            .join()
            .unwrap();
        buffers.with_log(|log| log.stamps.push(Stamp::started(1, 2)));
        let mut seen: Vec<u64> = (buffers.drain().into_iter())
            .flat_map(|(log, _)| log.stamps)
            .map(|s| s.task)
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, [0, 1]);
        assert_eq!(
            buffers.all.lock().len(),
            1,
            "the exited thread's buffer is gone"
        );
    }
}
