//! Waiting for the loop's next timer precisely.
//!
//! Tokio's timer wheel counts whole milliseconds and rounds a deadline up
//! to the next one, so a loop that waited on it would wake a `sleep(1 ms)`
//! about 1 ms late (Python's loop wakes it about 0.1 ms late). On Linux the
//! loop waits on a `timerfd` instead, registered with tokio's own reactor
//! (no second one): the kernel's high-resolution timer wakes the loop
//! within tens of microseconds of the deadline, and sockets and other
//! threads still wake it as before. Elsewhere it falls back to tokio's
//! timer.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Instant;

/// The loop's precise timer: a `timerfd` on tokio's reactor (Linux).
pub(crate) struct Deadline {
    #[cfg(target_os = "linux")]
    fd: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
}

impl Deadline {
    /// A timer on the current tokio runtime, or `None` where there is no
    /// such timer (another system, or the kernel refused one).
    pub(crate) fn new() -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            use rustix::time::{TimerfdClockId, TimerfdFlags, timerfd_create};
            let flags = TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC;
            let fd = timerfd_create(TimerfdClockId::Monotonic, flags).ok()?;
            // Deprecated because a registered descriptor must stay open
            // while registered, which tokio cannot check for any `AsRawFd`;
            // an `OwnedFd` moved into the `AsyncFd` is closed only when
            // the `AsyncFd` (having deregistered it) drops it.
            #[allow(deprecated)]
            let fd = tokio::io::unix::AsyncFd::with_interest(fd, tokio::io::Interest::READABLE);
            fd.ok().map(|fd| Self { fd })
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// Waits until `when`, or until `woken` completes if that is sooner.
    pub(crate) async fn wait(&self, when: Instant, woken: impl Future<Output = ()>) {
        let now = Instant::now();
        let Some(left) = when.checked_duration_since(now).filter(|d| !d.is_zero()) else {
            return;
        };
        if !self.arm(Some(left)) {
            let deadline = tokio::time::Instant::from_std(when);
            let _ = tokio::time::timeout_at(deadline, woken).await;
            return;
        }
        let mut woken = pin!(woken);
        let mut fired = pin!(self.fired());
        poll_fn(|cx| {
            if woken.as_mut().poll(cx).is_ready() || fired.as_mut().poll(cx).is_ready() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        self.arm(None);
    }

    /// Arms the timer to fire `left` from now, or disarms it (and drops an
    /// expiry nobody waited for); `false` if the kernel refused.
    fn arm(&self, left: Option<std::time::Duration>) -> bool {
        #[cfg(target_os = "linux")]
        {
            use rustix::time::{Itimerspec, TimerfdTimerFlags, Timespec, timerfd_settime};
            let zero = Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            let value = match left {
                Some(left) => match Timespec::try_from(left) {
                    Ok(value) => value,
                    Err(_) => return false,
                },
                None => zero,
            };
            let spec = Itimerspec {
                it_interval: zero,
                it_value: value,
            };
            let armed = timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec).is_ok();
            if left.is_none() {
                let mut count = [0u8; 8];
                let _ = rustix::io::read(&self.fd, &mut count);
            }
            armed
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = left;
            false
        }
    }

    /// Completes when the armed timer fires.
    async fn fired(&self) {
        #[cfg(target_os = "linux")]
        loop {
            let Ok(mut ready) = self.fd.readable().await else {
                // The reactor is gone: the loop is closing.
                return std::future::pending().await;
            };
            let mut count = [0u8; 8];
            // A read that would block clears a stale readiness; wait again.
            if let Ok(Ok(_)) = ready.try_io(|fd| Ok(rustix::io::read(fd, &mut count)?)) {
                return;
            }
        }
    }
}
