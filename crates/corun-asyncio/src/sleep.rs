//! [`sleep`]: a timer in the loop's own heap (Python: `asyncio.sleep`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::handle::TimerHandle;
use crate::task::expect_loop;

/// Waits `delay` on the running loop (Python: `asyncio.sleep(delay)`).
///
/// `sleep(Duration::ZERO)` yields: the task goes to the back of the ready
/// queue and resumes in the next iteration, after what is ready now (as
/// Python's `sleep(0)`). A longer sleep is a timer in the loop's heap,
/// cancelled if the sleep is dropped first.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{run, sleep};
/// use std::time::Duration;
///
/// run(async { sleep(Duration::from_millis(2)).await }).unwrap();
/// ```
///
/// # Panics
///
/// When polled outside a running `corun::asyncio` loop.
pub fn sleep(delay: Duration) -> Sleep {
    Sleep {
        delay,
        state: SleepState::Start,
    }
}

/// The future of [`sleep`].
#[must_use = "a sleep does nothing unless awaited"]
pub struct Sleep {
    delay: Duration,
    state: SleepState,
}

enum SleepState {
    Start,
    Yielded,
    Waiting {
        shared: Rc<Shared>,
        timer: TimerHandle,
    },
    Done,
}

/// What the timer's callback and the future share.
struct Shared {
    fired: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &self.state {
            SleepState::Start if self.delay.is_zero() => {
                self.state = SleepState::Yielded;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            SleepState::Start => {
                let shared = Rc::new(Shared {
                    fired: Cell::new(false),
                    waker: RefCell::new(Some(cx.waker().clone())),
                });
                let fire = Rc::clone(&shared);
                let timer = expect_loop("sleep").call_later(self.delay, move || {
                    fire.fired.set(true);
                    let waker = fire.waker.borrow_mut().take();
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                });
                self.state = SleepState::Waiting { shared, timer };
                Poll::Pending
            }
            SleepState::Waiting { shared, .. } if !shared.fired.get() => {
                let mut waker = shared.waker.borrow_mut();
                if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            SleepState::Yielded | SleepState::Waiting { .. } | SleepState::Done => {
                self.state = SleepState::Done;
                Poll::Ready(())
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let SleepState::Waiting { timer, .. } = &self.state {
            timer.cancel();
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            SleepState::Start => "start",
            SleepState::Yielded => "yielded",
            SleepState::Waiting { .. } => "waiting",
            SleepState::Done => "done",
        };
        f.debug_struct("Sleep")
            .field("delay", &self.delay)
            .field("state", &state)
            .finish()
    }
}
