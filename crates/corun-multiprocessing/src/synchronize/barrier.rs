//! [`Barrier`]: Python's `multiprocessing.Barrier`, reusable and breakable,
//! with a default time-out.
//!
//! The barrier is one 32-bit word — the generation (16 bits, wrapping),
//! whether the barrier is broken, and how many parties wait in the current
//! generation (15 bits) — which is also the futex word waiters sleep on.
//! It changes only under a robust mutex, and always with a single store,
//! so it is whole at every instant a process could die:
//!
//! | event                               | the word afterwards                         | generation `g` ended |
//! |-------------------------------------|---------------------------------------------|----------------------|
//! | a party arrives, not the last       | count + 1                                   |                      |
//! | the last party arrives              | generation `g + 1`, count 0                 | released             |
//! | a time-out, or `abort`, with waiters | generation `g + 1`, count 0, broken        | broken               |
//! | `abort` with no waiters             | broken                                      |                      |
//! | `reset` with waiters                | generation `g + 1`, count 0, not broken     | broken               |
//! | `reset` with no waiters             | not broken                                  |                      |
//! | a party arrives at a broken barrier | unchanged (the party gets the error)        |                      |
//!
//! Whoever ends generation `g` first writes how it ended into bit `g % 64`
//! of `outcomes`, then stores the word, then wakes every sleeper, all with
//! the mutex held. A waiter needs no lock: it sleeps while the word is
//! unchanged, and once the generation moved on it reads its own
//! generation's bit. (It could misread only after sleeping through 64
//! further generations, which takes more processes than parties using the
//! barrier: it then reports itself released.)
//!
//! A process that dies holding the mutex leaves a whole word; the next
//! holder wakes every sleeper anyway, in case the dead one ended a
//! generation but had not yet woken its waiters. A party that died while
//! waiting still counts as arrived, as in Python; the others' time-outs
//! break the barrier, so nobody with a time-out waits forever.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::shm::shared_object::{Layout, SharedObject};
use crate::synchronize::futex;
use crate::synchronize::robust_mutex::{Locked, RobustGuard, RobustMutex};
use corun_core::Error;
use corun_core::ErrorKind;
use corun_core::deadline::deadline;

/// Where the count sits in the word (the low 15 bits).
const COUNT_MASK: u32 = 0x7fff;
/// The bit that says the barrier is broken.
const BROKEN: u32 = 1 << 15;
/// Where the generation starts (the high 16 bits).
const GENERATION_SHIFT: u32 = 16;
/// How many past generations' outcomes are kept.
const HISTORY: u16 = 64;

/// A barrier for a fixed number of parties — threads of any of the
/// processes that share it: Python's `multiprocessing.Barrier`.
///
/// Each of `parties` callers of [`wait`](Self::wait) blocks until the last
/// arrives; all are then released together, each with a distinct index in
/// `0..parties` (arrival order), and the barrier is ready for the next
/// generation. A time-out in any waiter, or [`abort`](Self::abort),
/// *breaks* the barrier: every current and later waiter gets
/// a broken-barrier error until [`reset`](Self::reset). The barrier lives in
/// shared memory; clone it or pass it to a worker and every copy is the
/// same barrier, its default time-out included.
///
/// Python's `action` argument (a function the last party runs before the
/// others are released) is not offered: `wait() == Ok(0)` picks one party
/// to act after the release.
///
/// # Examples
///
/// ```standalone_crate
/// use corun::multiprocessing::{Barrier, Process};
///
/// fn meet(barrier: Barrier) -> usize {
///     barrier.wait().expect("not broken")
/// }
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let barrier = Barrier::new(3)?;
///     let workers: Vec<_> = (0..2)
///         .map(|_| Process::start(meet, barrier.clone()).unwrap())
///         .collect();
///     let mut indices = vec![barrier.wait().expect("not broken")];
///     indices.extend(workers.into_iter().map(|p| p.join().unwrap()));
///     indices.sort();
///     assert_eq!(indices, [0, 1, 2]);
///     Ok(())
/// }
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Barrier {
    object: SharedObject<BarrierState>,
}

/// Configures a [`Barrier`]: its default time-out.
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Debug, Clone)]
pub struct BarrierBuilder {
    parties: usize,
    timeout: Option<Duration>,
}

#[repr(C)]
struct BarrierState {
    mutex: RobustMutex,
    /// The [`Word`]; waiters sleep on it.
    word: AtomicU32,
    /// The number of parties; set before the barrier is shared.
    parties: AtomicU32,
    /// Bit `g % 64`: whether generation `g` ended broken.
    outcomes: AtomicU64,
    /// The default time-out in nanoseconds, if `has_timeout` is 1; both
    /// set before the barrier is shared.
    timeout_ns: AtomicU64,
    has_timeout: AtomicU32,
}

// SAFETY: `#[repr(C)]`, a robust mutex and atomics only, valid all zero
// until `init`.
#[allow(unsafe_code)]
unsafe impl Layout for BarrierState {
    const KIND: [u8; 8] = *b"barrier\0";

    fn init(&self, _tail: *mut u8, _tail_len: usize) -> std::io::Result<()> {
        self.mutex.init()
    }
}

/// The barrier's word, unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Word {
    generation: u16,
    broken: bool,
    count: u32,
}

impl Word {
    fn from_bits(bits: u32) -> Self {
        Self {
            generation: (bits >> GENERATION_SHIFT) as u16,
            broken: bits & BROKEN != 0,
            count: bits & COUNT_MASK,
        }
    }

    fn bits(self) -> u32 {
        (u32::from(self.generation) << GENERATION_SHIFT)
            | if self.broken { BROKEN } else { 0 }
            | (self.count & COUNT_MASK)
    }

    fn load(word: &AtomicU32) -> Self {
        Self::from_bits(word.load(Ordering::Acquire))
    }

    /// Publishes the word: one store (made with the mutex held).
    fn store(self, word: &AtomicU32) {
        word.store(self.bits(), Ordering::Release);
    }
}

impl Barrier {
    /// A barrier for `parties` parties, with no default time-out, in a
    /// shared-memory segment of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert_eq!(Barrier::new(3)?.parties(), 3);
    ///     assert!(Barrier::new(0).is_err());
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `parties` is 0 (Python's `ValueError`) or above
    /// 32767; as [`SharedMemory::create`](crate::SharedMemory::create) when
    /// the segment cannot be created.
    pub fn new(parties: usize) -> Result<Self, Error> {
        Self::builder(parties).build()
    }

    /// A builder for a barrier of `parties` parties.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let barrier = Barrier::builder(2).timeout(Duration::from_millis(1)).build()?;
    ///     assert!(barrier.wait().unwrap_err().is_timeout());
    ///     assert!(barrier.broken());
    ///     Ok(())
    /// }
    /// ```
    pub fn builder(parties: usize) -> BarrierBuilder {
        BarrierBuilder {
            parties,
            timeout: None,
        }
    }

    /// Waits for all parties, at most the barrier's default time-out if it
    /// has one; returns this party's index in `0..parties`.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let barrier = Barrier::new(2)?;
    ///     let mut indices = std::thread::scope(|s| {
    ///         let other = s.spawn(|| barrier.wait().expect("not broken"));
    ///         [barrier.wait().expect("not broken"), other.join().unwrap()]
    ///     });
    ///     indices.sort();
    ///     assert_eq!(indices, [0, 1]);
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// An error whose [`is_broken_barrier`](Error::is_broken_barrier) is
    /// true when the barrier is broken, or breaks while this party waits;
    /// its [`is_timeout`](Error::is_timeout) says whether this party's own
    /// time-out broke it.
    pub fn wait(&self) -> Result<usize, Error> {
        self.wait_until(deadline(self.default_timeout()))
    }

    /// Waits for all parties for at most `timeout` (instead of the
    /// default). Running out of time breaks the barrier for everyone, as
    /// in Python.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let barrier = Barrier::new(2)?;
    ///     let err = barrier.wait_timeout(Duration::from_millis(1)).unwrap_err();
    ///     assert!(err.is_timeout() && barrier.broken());
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, Error> {
        self.wait_until(deadline(Some(timeout)))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<usize, Error> {
        let state = self.state();
        let guard = self.lock();
        let now = Word::load(&state.word);
        if now.broken {
            return Err(Error::broken_barrier(None, None));
        }
        let index = now.count;
        if index + 1 >= self.parties() as u32 {
            self.end_generation(&guard, now, false, false);
            return Ok(index as usize);
        }
        let generation = now.generation;
        Word {
            count: index + 1,
            ..now
        }
        .store(&state.word);
        drop(guard);
        loop {
            let bits = state.word.load(Ordering::Acquire);
            if Word::from_bits(bits).generation != generation {
                return self.outcome(generation, index);
            }
            if futex::wait(&state.word, bits, deadline) {
                let guard = self.lock();
                let now = Word::load(&state.word);
                if now.generation != generation {
                    return self.outcome(generation, index);
                }
                self.end_generation(&guard, now, true, true);
                return Err(Error::broken_barrier(Some(ErrorKind::Timeout), None));
            }
        }
    }

    /// Ends the generation `now` is in: records how, publishes the next
    /// generation (the barrier `broken` or not), wakes everyone.
    fn end_generation(&self, _held: &RobustGuard<'_>, now: Word, ended_broken: bool, broken: bool) {
        let state = self.state();
        let bit = 1_u64 << (now.generation % HISTORY);
        if ended_broken {
            state.outcomes.fetch_or(bit, Ordering::Relaxed);
        } else {
            state.outcomes.fetch_and(!bit, Ordering::Relaxed);
        }
        Word {
            generation: now.generation.wrapping_add(1),
            broken,
            count: 0,
        }
        .store(&state.word);
        if now.count > 0 {
            futex::wake_all(&state.word);
        }
    }

    /// How generation `generation`, which has ended, ended for the party
    /// that arrived `index`th.
    fn outcome(&self, generation: u16, index: u32) -> Result<usize, Error> {
        let state = self.state();
        let outcomes = state.outcomes.load(Ordering::Acquire);
        let since = Word::load(&state.word).generation.wrapping_sub(generation);
        if since <= HISTORY && outcomes & (1 << (generation % HISTORY)) != 0 {
            Err(Error::broken_barrier(None, None))
        } else {
            Ok(index as usize)
        }
    }

    /// Locks the state, waking every sleeper if the last holder died (it
    /// may have ended a generation without waking its waiters).
    fn lock(&self) -> RobustGuard<'_> {
        let state = self.state();
        let (guard, locked) = state.mutex.lock();
        if let Locked::OwnerDied(_) = locked {
            futex::wake_all(&state.word);
        }
        guard
    }

    /// Returns the barrier to its initial state: parties waiting in it get
    /// a broken-barrier error, and a broken barrier can be used again.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let barrier = Barrier::new(1)?;
    ///     barrier.abort();
    ///     assert!(barrier.broken());
    ///     barrier.reset();
    ///     assert_eq!(barrier.wait()?, 0);
    ///     Ok(())
    /// }
    /// ```
    pub fn reset(&self) {
        let guard = self.lock();
        let now = Word::load(&self.state().word);
        if now.count > 0 {
            self.end_generation(&guard, now, true, false);
        } else {
            Word {
                broken: false,
                ..now
            }
            .store(&self.state().word);
        }
    }

    /// Breaks the barrier: current and later waiters get a broken-barrier error
    /// until [`reset`](Self::reset). Use it to stop a group of processes
    /// when one of them fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let barrier = Barrier::new(1)?;
    ///     barrier.abort();
    ///     assert!(barrier.wait().is_err());
    ///     Ok(())
    /// }
    /// ```
    pub fn abort(&self) {
        let guard = self.lock();
        let now = Word::load(&self.state().word);
        if now.count > 0 {
            self.end_generation(&guard, now, true, true);
        } else {
            Word {
                broken: true,
                ..now
            }
            .store(&self.state().word);
        }
    }

    /// The number of parties needed to pass the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert_eq!(Barrier::new(4)?.parties(), 4);
    ///     Ok(())
    /// }
    /// ```
    pub fn parties(&self) -> usize {
        self.state().parties.load(Ordering::Relaxed) as usize
    }

    /// The number of parties waiting in the current generation (a
    /// snapshot; a party that died waiting still counts).
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert_eq!(Barrier::new(4)?.n_waiting(), 0);
    ///     Ok(())
    /// }
    /// ```
    pub fn n_waiting(&self) -> usize {
        Word::load(&self.state().word).count as usize
    }

    /// Whether the barrier is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert!(!Barrier::new(4)?.broken());
    ///     Ok(())
    /// }
    /// ```
    pub fn broken(&self) -> bool {
        Word::load(&self.state().word).broken
    }

    /// The name of the shared-memory segment the barrier lives in.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert!(Barrier::new(1)?.name().starts_with("corun-"));
    ///     Ok(())
    /// }
    /// ```
    pub fn name(&self) -> &str {
        self.object.name()
    }

    fn default_timeout(&self) -> Option<Duration> {
        let state = self.state();
        (state.has_timeout.load(Ordering::Relaxed) != 0)
            .then(|| Duration::from_nanos(state.timeout_ns.load(Ordering::Relaxed)))
    }

    fn state(&self) -> &BarrierState {
        self.object.state()
    }
}

impl BarrierBuilder {
    /// The time-out [`Barrier::wait`] uses (none by default: wait
    /// forever). One too long to count in nanoseconds (585 years) is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let barrier = Barrier::builder(2).timeout(Duration::from_millis(1)).build()?;
    ///     assert!(barrier.wait().unwrap_err().is_timeout());
    ///     Ok(())
    /// }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Builds the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert!(Barrier::builder(1).build().is_ok());
    ///     assert!(Barrier::builder(0).build().is_err());
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Barrier::new`].
    pub fn build(self) -> Result<Barrier, Error> {
        let parties = u32::try_from(self.parties)
            .ok()
            .filter(|p| (1..=COUNT_MASK).contains(p))
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "a barrier needs 1 to {COUNT_MASK} parties, not {}",
                    self.parties
                ))
            })?;
        let object = SharedObject::<BarrierState>::create(0)?;
        // No other process knows the segment's name yet.
        let state = object.state();
        state.parties.store(parties, Ordering::Relaxed);
        if let Some(nanos) = self.timeout.and_then(|t| u64::try_from(t.as_nanos()).ok()) {
            state.timeout_ns.store(nanos, Ordering::Relaxed);
            state.has_timeout.store(1, Ordering::Relaxed);
        }
        Ok(Barrier { object })
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("name", &self.name())
            .field("parties", &self.parties())
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.broken())
            .field("timeout", &self.default_timeout())
            .finish()
    }
}
