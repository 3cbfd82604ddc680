//! [`Event`]: Python's `multiprocessing.Event`, a flag processes can wait
//! on.
//!
//! The state is three atomics, no lock: the flag; `sets`, a count of `set`
//! calls, which is the futex word waiters sleep on; and `sleepers`. A
//! waiter reads `sets`, counts itself in `sleepers`, checks the flag and
//! `sets` again, and sleeps while `sets` is unchanged; `set` raises the
//! flag, bumps `sets`, then wakes everyone if `sleepers` says someone
//! sleeps or is about to. The middle steps are sequentially consistent, so
//! either the waiter sees the `set` or the setter sees the waiter. A waiter
//! returns `true` when `sets` moved even if a `clear` followed (as Python,
//! CPython issue #13502).

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::shm::shared_object::{Layout, SharedObject};
use crate::synchronize::futex;
use corun_core::Error;
use corun_core::deadline::deadline;

/// A flag shared by processes that they can wait for: Python's
/// `multiprocessing.Event`.
///
/// It lives in shared memory: clone it or pass it to a worker and every
/// copy is the same flag. There is no lock to die holding: a process
/// killed at any point leaves the event usable by the others.
///
/// # Examples
///
/// ```standalone_crate
/// use corun::multiprocessing::{Event, Process};
/// use std::time::Duration;
///
/// fn wait_for_it(ready: Event) -> bool {
///     ready.wait_timeout(Duration::from_secs(10))
/// }
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let ready = Event::new()?;
///     let waiter = Process::start(wait_for_it, ready.clone()).unwrap();
///     ready.set();
///     assert!(waiter.join().unwrap());
///     assert!(ready.is_set());
///     Ok(())
/// }
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Event {
    object: SharedObject<EventState>,
}

#[repr(C)]
struct EventState {
    /// 1 while set.
    flag: AtomicU32,
    /// How many times `set` was called (wrapping); waiters sleep on it.
    sets: AtomicU32,
    /// Waiters asleep or about to sleep (one that died asleep stays
    /// counted, which only costs `set` a futex call).
    sleepers: AtomicU32,
}

// SAFETY: `#[repr(C)]`, atomics only, valid all zero (not set).
#[allow(unsafe_code)]
unsafe impl Layout for EventState {
    const KIND: [u8; 8] = *b"event\0\0\0";

    fn init(&self, _tail: *mut u8, _tail_len: usize) -> std::io::Result<()> {
        Ok(())
    }
}

impl Event {
    /// A new event, not set, in a shared-memory segment of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Event;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert!(!Event::new()?.is_set());
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// When the segment cannot be created (see
    /// [`SharedMemory::create`](crate::SharedMemory::create)).
    pub fn new() -> Result<Self, Error> {
        Ok(Self {
            object: SharedObject::create(0)?,
        })
    }

    /// Sets the flag and wakes every waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Event;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let event = Event::new()?;
    ///     event.set();
    ///     assert!(event.is_set());
    ///     Ok(())
    /// }
    /// ```
    pub fn set(&self) {
        let state = self.state();
        state.flag.store(1, Ordering::SeqCst);
        state.sets.fetch_add(1, Ordering::SeqCst);
        if state.sleepers.load(Ordering::SeqCst) > 0 {
            futex::wake_all(&state.sets);
        }
    }

    /// Clears the flag; later waits block until the next `set`.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Event;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let event = Event::new()?;
    ///     event.set();
    ///     event.clear();
    ///     assert!(!event.is_set());
    ///     Ok(())
    /// }
    /// ```
    pub fn clear(&self) {
        self.state().flag.store(0, Ordering::SeqCst);
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Event;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let event = Event::new()?;
    ///     assert!(!event.is_set());
    ///     Ok(())
    /// }
    /// ```
    pub fn is_set(&self) -> bool {
        self.state().flag.load(Ordering::SeqCst) != 0
    }

    /// Waits until the flag is set (at once if it is).
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Event;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let event = Event::new()?;
    ///     std::thread::scope(|s| {
    ///         s.spawn(|| event.set());
    ///         event.wait();
    ///     });
    ///     assert!(event.is_set());
    ///     Ok(())
    /// }
    /// ```
    pub fn wait(&self) {
        self.wait_until(None);
    }

    /// Waits until the flag is set or `timeout` passes; returns whether it
    /// was set (Python's `wait(timeout)`: `false` only on time-out, and
    /// `true` when a `set` woke the waiter even if a `clear` followed).
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Event;
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let event = Event::new()?;
    ///     assert!(!event.wait_timeout(Duration::from_millis(1)));
    ///     event.set();
    ///     assert!(event.wait_timeout(Duration::ZERO));
    ///     Ok(())
    /// }
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(deadline(Some(timeout)))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        if self.is_set() {
            return true;
        }
        let state = self.state();
        let began = state.sets.load(Ordering::SeqCst);
        state.sleepers.fetch_add(1, Ordering::SeqCst);
        let signalled =
            || state.flag.load(Ordering::SeqCst) != 0 || state.sets.load(Ordering::SeqCst) != began;
        let set = loop {
            if signalled() {
                break true;
            }
            if futex::wait(&state.sets, began, deadline) {
                break signalled();
            }
        };
        state.sleepers.fetch_sub(1, Ordering::SeqCst);
        set
    }

    /// The name of the shared-memory segment the event lives in.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Event;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert!(Event::new()?.name().starts_with("corun-"));
    ///     Ok(())
    /// }
    /// ```
    pub fn name(&self) -> &str {
        self.object.name()
    }

    fn state(&self) -> &EventState {
        self.object.state()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.name())
            .field("is_set", &self.is_set())
            .finish()
    }
}
