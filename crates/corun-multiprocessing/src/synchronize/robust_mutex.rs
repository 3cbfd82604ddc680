//! A mutex that lives in shared memory, works across processes, and
//! survives a holder that dies: glibc's robust, process-shared pthread
//! mutex.
//!
//! When a thread dies holding it (its process killed, even by SIGKILL),
//! the kernel walks the thread's robust list, marks the mutex "owner died"
//! and wakes one waiter, whose lock then returns `EOWNERDEAD`: it holds the
//! mutex and learns that the data it guards may be half-updated. We mark
//! the mutex consistent again at once and report [`Locked::OwnerDied`], so
//! the caller decides whether to repair or discard the data. Nobody waits
//! forever for a dead holder. (No well-kept crate offers this: raw_sync's
//! robust variant was never merged, and rustix-futex-sync is not robust.)
//!
//! A robust mutex must be unlocked by the thread that locked it, so its
//! guard is not `Send`.

use std::cell::UnsafeCell;
use std::io;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A robust process-shared mutex, to be placed in shared memory (all
/// zero) and set up once with [`init`](Self::init) before any process
/// uses it.
#[repr(C)]
pub(crate) struct RobustMutex {
    raw: UnsafeCell<libc::pthread_mutex_t>,
    /// The holder's pid (0 when free): what [`Locked::OwnerDied`] reports,
    /// and what [`is_locked`](Self::is_locked) reads. Written only by the
    /// holder, after locking and before unlocking; a holder that dies
    /// leaves its pid here.
    holder: AtomicU32,
    /// 0: all zero; 1: being set up; 2: ready.
    ready: AtomicU32,
}

// SAFETY: the pthread mutex is made for use from many threads (and
// processes) at once; `holder` is atomic.
unsafe impl Sync for RobustMutex {}

/// How a lock was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locked {
    /// The mutex was free, or released normally.
    Clean,
    /// Its previous holder died holding it; that process's pid (0 if
    /// unknown). The mutex is consistent again and held by the caller.
    OwnerDied(u32),
}

/// Holds a [`RobustMutex`]; unlocks on drop. Not `Send`: the thread that
/// locked must unlock.
pub(crate) struct RobustGuard<'a> {
    mutex: &'a RobustMutex,
    _not_send: PhantomData<*const ()>,
}

impl RobustMutex {
    /// Sets up the mutex: process-shared and robust. Only the first call
    /// does anything; later ones (which would re-initialise a mutex in
    /// use) fail.
    pub(crate) fn init(&self) -> io::Result<()> {
        self.init_as(None)
    }

    /// Sets up the mutex as [`init`](Self::init) does, but recursive: the
    /// thread that holds it may lock it again, and it is free once every
    /// guard is dropped (glibc counts the levels, and a dead holder's
    /// count is reset for the next one).
    pub(crate) fn init_recursive(&self) -> io::Result<()> {
        self.init_as(Some(libc::PTHREAD_MUTEX_RECURSIVE))
    }

    fn init_as(&self, kind: Option<libc::c_int>) -> io::Result<()> {
        if self
            .ready
            .compare_exchange(0, 1, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return Err(io::Error::other("robust mutex set up twice"));
        }
        // SAFETY: `attr` is initialised by `pthread_mutexattr_init` before
        // any other use and destroyed after; the mutex is not in use (no
        // lock call proceeds before `ready` is 2, and only this call got
        // past the exchange above).
        unsafe {
            let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
            check(libc::pthread_mutexattr_init(attr.as_mut_ptr()))?;
            let attr_ptr = attr.as_mut_ptr();
            let made = check(libc::pthread_mutexattr_setpshared(
                attr_ptr,
                libc::PTHREAD_PROCESS_SHARED,
            ))
            .and_then(|()| {
                check(libc::pthread_mutexattr_setrobust(
                    attr_ptr,
                    libc::PTHREAD_MUTEX_ROBUST,
                ))
            })
            .and_then(|()| match kind {
                Some(kind) => check(libc::pthread_mutexattr_settype(attr_ptr, kind)),
                None => Ok(()),
            })
            .and_then(|()| check(libc::pthread_mutex_init(self.raw.get(), attr_ptr)));
            libc::pthread_mutexattr_destroy(attr_ptr);
            made?;
        }
        self.ready.store(2, Ordering::Release);
        Ok(())
    }

    /// The raw mutex, once set up.
    fn raw(&self) -> *mut libc::pthread_mutex_t {
        assert_eq!(
            self.ready.load(Ordering::Acquire),
            2,
            "robust mutex used before it was set up"
        );
        self.raw.get()
    }

    /// Locks, waiting as long as it takes.
    pub(crate) fn lock(&self) -> (RobustGuard<'_>, Locked) {
        loop {
            // SAFETY: the mutex was set up (`raw` checks) and lives as long
            // as `self`.
            let code = unsafe { libc::pthread_mutex_lock(self.raw()) };
            if let Some(locked) = self.taken(code) {
                return (self.guard(), locked);
            }
        }
    }

    /// Locks if free now.
    pub(crate) fn try_lock(&self) -> Option<(RobustGuard<'_>, Locked)> {
        // SAFETY: as in `lock`.
        let code = unsafe { libc::pthread_mutex_trylock(self.raw()) };
        self.taken(code).map(|locked| (self.guard(), locked))
    }

    /// Locks, waiting until `deadline` at most (`None`: forever).
    pub(crate) fn lock_until(
        &self,
        deadline: Option<Instant>,
    ) -> Option<(RobustGuard<'_>, Locked)> {
        let Some(deadline) = deadline else {
            return Some(self.lock());
        };
        loop {
            if let Some(taken) = self.try_lock() {
                return Some(taken);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            // pthread_mutex_timedlock wants an absolute wall-clock time;
            // the monotonic deadline stays the judge (the loop re-checks).
            let wall = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                + left;
            let abs = libc::timespec {
                tv_sec: wall.as_secs() as libc::time_t,
                tv_nsec: wall.subsec_nanos() as libc::c_long,
            };
            // SAFETY: as in `lock`; `abs` is a valid timespec.
            let code = unsafe { libc::pthread_mutex_timedlock(self.raw(), &abs) };
            if code == libc::ETIMEDOUT {
                continue;
            }
            if let Some(locked) = self.taken(code) {
                return Some((self.guard(), locked));
            }
        }
    }

    /// Interprets a lock call's result: `Some` when the mutex is now held.
    fn taken(&self, code: libc::c_int) -> Option<Locked> {
        let locked = match code {
            0 => Locked::Clean,
            libc::EOWNERDEAD => {
                // SAFETY: we hold the mutex (EOWNERDEAD means it was
                // acquired); marking it consistent is what the holder does.
                unsafe { libc::pthread_mutex_consistent(self.raw()) };
                Locked::OwnerDied(self.holder.load(Ordering::Relaxed))
            }
            libc::EBUSY | libc::ETIMEDOUT | libc::EINTR | libc::EAGAIN => return None,
            other => panic!(
                "process-shared mutex failed: {}",
                io::Error::from_raw_os_error(other)
            ),
        };
        self.holder.store(this_pid(), Ordering::Relaxed);
        Some(locked)
    }

    fn guard(&self) -> RobustGuard<'_> {
        RobustGuard {
            mutex: self,
            _not_send: PhantomData,
        }
    }

    /// Whether some thread holds the mutex now (a snapshot), counting one
    /// that died holding it until the next lock reports it.
    ///
    /// This reads the holder's pid rather than trying the lock: a try
    /// would take and drop a mutex whose holder died, marking it
    /// consistent and so hiding [`Locked::OwnerDied`] from the next
    /// locker, and would make a concurrent `try_lock` fail while the mutex
    /// is free. (A holder that died between locking and recording its pid
    /// counts as unlocked; the next lock still reports the death.)
    pub(crate) fn is_locked(&self) -> bool {
        self.holder.load(Ordering::Relaxed) != 0
    }
}

impl RobustGuard<'_> {
    /// The mutex this guard holds.
    #[allow(dead_code, reason = "for the condition variables to come")]
    pub(crate) fn mutex(&self) -> &RobustMutex {
        self.mutex
    }
}

impl Drop for RobustGuard<'_> {
    fn drop(&mut self) {
        self.mutex.holder.store(0, Ordering::Relaxed);
        // SAFETY: this thread holds the mutex (the guard exists only while
        // it does, and is not `Send`).
        unsafe { libc::pthread_mutex_unlock(self.mutex.raw()) };
    }
}

/// This process's id, read once: `std::process::id()` is a system call
/// every time, too slow for every lock. (No corun process forks without
/// executing a new program, so the id never changes under us.)
pub(crate) fn this_pid() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(std::process::id)
}

fn check(code: libc::c_int) -> io::Result<()> {
    match code {
        0 => Ok(()),
        e => Err(io::Error::from_raw_os_error(e)),
    }
}
