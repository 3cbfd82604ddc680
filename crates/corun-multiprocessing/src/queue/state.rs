//! A queue's state in shared memory, and the protocol around it: the lock
//! and its repair after a holder died, the redo log that makes every change
//! all-or-nothing, and the bookkeeping of sleepers so that a wake-up call
//! is made only when someone sleeps. The queue module's docs tell the story.

use std::io;
use std::marker::PhantomData;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::{Duration, Instant};

use super::fault::{self, Fault};
use super::ring::Ring;
use crate::shm::shared_object::Layout;
use crate::synchronize::futex;
use crate::synchronize::robust_mutex::{Locked, RobustGuard, RobustMutex};

/// Sleepers with a slot of their own, whom a wake-up call reaches. More
/// sleep in short naps and look again.
const SLOTS: usize = 64;
/// How long a sleeper without a slot naps.
const NAP: Duration = Duration::from_millis(5);
/// How long a caller about to sleep first watches the queue instead.
const SPIN: Duration = Duration::from_micros(30);
/// Attempts to take a busy lock before sleeping on it.
const LOCK_TRIES: u32 = 16;
/// Every this many wake-up calls that found nobody asleep while a sleeper
/// was registered, the registrations of dead processes are removed.
const HEAL_EVERY: u32 = 16;

/// Which queue type a segment holds: each has its own kind, checked when
/// attaching. Public only as part of the sealed [`Kind`](super::kind::Kind)
/// (this module is private).
pub trait Variant: Send + Sync + 'static {
    const KIND: [u8; 8];
}

/// What a sleeper waits for; the index of its futex word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Waiters {
    /// An item to get (or a shutdown).
    NotEmpty = 0,
    /// Room to put (or a shutdown).
    NotFull = 1,
    /// Every item done (`join`).
    AllDone = 2,
}

/// How many sleepers a change wakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Wake {
    None,
    One,
    All,
}

/// What the lock protects, copied out: [`Held::commit`] publishes it back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Snapshot {
    pub(super) ring: Ring,
    /// The ring's size in bytes: its first size unless it grew.
    pub(super) size: u64,
    /// The ring's bytes the segment's file may hold, at least `size`: more
    /// when a put grew the file and died before publishing the larger
    /// ring. The memory goes back to the system when the queue empties.
    pub(super) reserved: u64,
    /// Items put and not yet marked done (`JoinableQueue`).
    pub(super) unfinished: u64,
    pub(super) shutdown: bool,
}

/// A [`Snapshot`] in shared memory.
#[repr(C)]
struct Fields {
    head: AtomicU64,
    tail: AtomicU64,
    used: AtomicU64,
    count: AtomicU64,
    size: AtomicU64,
    reserved: AtomicU64,
    unfinished: AtomicU64,
    shutdown: AtomicU64,
}

/// The state of one queue: the lock, the published position and counts,
/// the redo log, the futex words and the sleepers' registrations.
#[repr(C)]
pub(super) struct QueueState<V> {
    mutex: RobustMutex,
    /// A hash of the item type's name, never 0 once set up.
    item_type: AtomicU64,
    /// 0: no limit.
    maxsize: AtomicU64,
    /// The state, as of the last complete change.
    live: Fields,
    /// The change being made, valid while `logged` is 1.
    log: Fields,
    logged: AtomicU32,
    /// Wake-up calls that found nobody asleep though a sleeper was
    /// registered.
    missed: AtomicU32,
    /// One futex word per [`Waiters`], bumped (under the lock) before a
    /// wake-up call.
    seq: [AtomicU32; 3],
    /// Per [`Waiters`], bit `i` set while slot `i`'s sleeper sleeps there.
    sleeping: [AtomicU64; 3],
    /// The process of each slot's sleeper.
    sleeper: [AtomicU32; SLOTS],
    _variant: PhantomData<V>,
}

// SAFETY: `#[repr(C)]`; atomics, a robust mutex and a zero-sized marker
// only; all zero is an empty, open queue whose mutex `init` sets up.
#[allow(unsafe_code)]
unsafe impl<V: Variant> Layout for QueueState<V> {
    const KIND: [u8; 8] = V::KIND;

    fn init(&self, _tail: *mut u8, _tail_len: usize) -> io::Result<()> {
        self.mutex.init()
    }
}

/// The queue's lock, held: the state copied out in `snap`, and the wake-up
/// calls to make once it is released (on drop).
pub(super) struct Held<'a, V> {
    state: &'a QueueState<V>,
    guard: Option<RobustGuard<'a>>,
    pub(super) snap: Snapshot,
    wakes: [Wake; 3],
}

impl<V> QueueState<V> {
    /// Records what the creator chose; called once, before the queue's name
    /// is handed to anyone.
    pub(super) fn set_up(&self, item_type: u64, maxsize: u64, ring_size: u64) {
        self.item_type.store(item_type, Release);
        self.maxsize.store(maxsize, Release);
        self.live.size.store(ring_size, Release);
        self.live.reserved.store(ring_size, Release);
    }

    pub(super) fn item_type(&self) -> u64 {
        self.item_type.load(Acquire)
    }

    pub(super) fn maxsize(&self) -> u64 {
        self.maxsize.load(Relaxed)
    }

    /// Takes the lock. If its holder died, finishes the change it had
    /// logged, if any: its half-written record, if any, lies beyond the
    /// published tail, where nobody reads.
    pub(super) fn lock(&self) -> Held<'_, V> {
        let (guard, locked) = self.acquire();
        if let Locked::OwnerDied(_) = locked {
            if self.logged.load(Acquire) == 1 {
                self.live.store(&self.log.load());
            }
            self.logged.store(0, Release);
        }
        Held {
            state: self,
            guard: Some(guard),
            snap: self.live.load(),
            wakes: [Wake::None; 3],
        }
    }

    /// The mutex, spinning briefly while it is busy: it is only ever held
    /// for a few copies, and sleeping on it costs two system calls.
    fn acquire(&self) -> (RobustGuard<'_>, Locked) {
        for attempt in 0..LOCK_TRIES {
            if let Some(taken) = self.mutex.try_lock() {
                return taken;
            }
            for _ in 0..1_u32 << attempt.min(5) {
                std::hint::spin_loop();
            }
        }
        self.mutex.lock()
    }

    /// The number of items and the shutdown flag as last published, read
    /// without the lock: a hint for callers that spin.
    fn peek(&self) -> (u64, bool) {
        (
            self.live.count.load(Relaxed),
            self.live.shutdown.load(Relaxed) != 0,
        )
    }

    /// Registers the calling thread as a sleeper on `waiters`; the lock is
    /// held. `None` when every slot is taken.
    fn claim(&self, waiters: Waiters) -> Option<usize> {
        let taken = self.sleeping.iter().fold(0, |m, s| m | s.load(Relaxed));
        if taken == u64::MAX {
            return None;
        }
        let slot = (!taken).trailing_zeros() as usize;
        self.sleeper[slot].store(crate::synchronize::robust_mutex::this_pid(), Relaxed);
        // The pid first: a slot whose bit is not set is free.
        let mask = &self.sleeping[waiters as usize];
        mask.store(mask.load(Relaxed) | 1 << slot, Release);
        Some(slot)
    }

    /// Ends the registration `claim` made; the lock is held.
    fn unclaim(&self, waiters: Waiters, slot: usize) {
        let mask = &self.sleeping[waiters as usize];
        mask.store(mask.load(Relaxed) & !(1 << slot), Release);
    }

    /// Makes the wake-up calls a released lock owes.
    fn wake(&self, wakes: [Wake; 3]) {
        for (i, wake) in wakes.into_iter().enumerate() {
            match wake {
                Wake::None => {}
                Wake::All => futex::wake_all(&self.seq[i]),
                Wake::One => {
                    if futex::wake_counted(&self.seq[i], 1) == 0
                        && self.missed.fetch_add(1, Relaxed) % HEAL_EVERY == HEAL_EVERY - 1
                    {
                        self.heal();
                    }
                }
            }
        }
    }

    /// Removes the registrations of sleepers whose process is gone (killed
    /// while asleep), which would otherwise cost every change a wake-up
    /// call that reaches nobody.
    fn heal(&self) {
        let _held = self.lock();
        for mask in &self.sleeping {
            let mut bits = mask.load(Relaxed);
            let mut live = bits;
            while bits != 0 {
                let slot = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if is_dead(self.sleeper[slot].load(Relaxed)) {
                    live &= !(1 << slot);
                }
            }
            mask.store(live, Release);
        }
    }
}

impl<V> Held<'_, V> {
    /// The queue's limit on items; 0 for none.
    pub(super) fn maxsize(&self) -> u64 {
        self.state.maxsize()
    }

    /// Publishes `snap`: logs it, marks the log valid, applies it, clears
    /// the mark. A process that dies before the mark leaves the state as it
    /// was; after it, the next locker applies the log again.
    pub(super) fn commit(&mut self) {
        let (state, snap) = (self.state, &self.snap);
        state.log.store(snap);
        state.logged.store(1, Release);
        // Release stores from here on: none may be moved before the mark.
        state.live.head.store(snap.ring.head, Release);
        state.live.tail.store(snap.ring.tail, Release);
        fault::reached(Fault::CommitHalfApplied);
        state.live.used.store(snap.ring.used, Release);
        state.live.count.store(snap.ring.count, Release);
        state.live.size.store(snap.size, Release);
        state.live.reserved.store(snap.reserved, Release);
        state.live.unfinished.store(snap.unfinished, Release);
        state.live.shutdown.store(u64::from(snap.shutdown), Release);
        state.logged.store(0, Release);
    }

    /// Wakes `how` many sleepers on `waiters` once the lock is released;
    /// nothing when none is registered.
    pub(super) fn notify(&mut self, waiters: Waiters, how: Wake) {
        let i = waiters as usize;
        if how == Wake::None || self.state.sleeping[i].load(Relaxed) == 0 {
            return;
        }
        if self.wakes[i] == Wake::None {
            self.state.seq[i].fetch_add(1, Release);
        }
        self.wakes[i] = self.wakes[i].max(how);
    }

    /// Releases the lock, sleeps on `waiters` until woken, `deadline`, or a
    /// spurious return, and takes the lock again.
    pub(super) fn sleep(self, waiters: Waiters, deadline: Option<Instant>) -> Self {
        let state = self.state;
        let word = &state.seq[waiters as usize];
        // Bumped only under the lock: a change after this one wakes us, or
        // makes the futex call return at once.
        let seen = word.load(Relaxed);
        let slot = state.claim(waiters);
        let until = match slot {
            Some(_) => deadline,
            None => {
                let nap = Instant::now() + NAP;
                Some(deadline.map_or(nap, |d| d.min(nap)))
            }
        };
        drop(self);
        futex::wait(word, seen, until);
        let held = state.lock();
        if let Some(slot) = slot {
            state.unclaim(waiters, slot);
        }
        held
    }

    /// Releases the lock and watches the queue, without sleeping, for a
    /// short while (or until `deadline`), until `ready(count, shutdown)`
    /// holds; then takes the lock again. A producer and consumer that keep
    /// pace then hand items over without sleeping.
    pub(super) fn spin(self, deadline: Option<Instant>, ready: impl Fn(u64, bool) -> bool) -> Self {
        let state = self.state;
        drop(self);
        let start = Instant::now();
        let end = deadline.map_or(start + SPIN, |d| d.min(start + SPIN));
        let mut rounds = 0_u32;
        loop {
            let (count, shutdown) = state.peek();
            if ready(count, shutdown) {
                break;
            }
            rounds += 1;
            if rounds < 64 {
                for _ in 0..32 {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
            if Instant::now() >= end {
                break;
            }
        }
        state.lock()
    }
}

impl<V> Drop for Held<'_, V> {
    fn drop(&mut self) {
        drop(self.guard.take());
        if self.wakes != [Wake::None; 3] {
            self.state.wake(self.wakes);
        }
    }
}

impl Fields {
    fn load(&self) -> Snapshot {
        Snapshot {
            ring: Ring {
                head: self.head.load(Relaxed),
                tail: self.tail.load(Relaxed),
                used: self.used.load(Relaxed),
                count: self.count.load(Relaxed),
            },
            size: self.size.load(Relaxed),
            reserved: self.reserved.load(Relaxed),
            unfinished: self.unfinished.load(Relaxed),
            shutdown: self.shutdown.load(Relaxed) != 0,
        }
    }

    fn store(&self, snap: &Snapshot) {
        self.head.store(snap.ring.head, Release);
        self.tail.store(snap.ring.tail, Release);
        self.used.store(snap.ring.used, Release);
        self.count.store(snap.ring.count, Release);
        self.size.store(snap.size, Release);
        self.reserved.store(snap.reserved, Release);
        self.unfinished.store(snap.unfinished, Release);
        self.shutdown.store(u64::from(snap.shutdown), Release);
    }
}

/// Whether process `pid` no longer exists.
fn is_dead(pid: u32) -> bool {
    match i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        None => true,
        Some(pid) => rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH),
    }
}
