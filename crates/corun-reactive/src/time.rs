//! Creation in time: [`interval`], [`timer`], [`timer_periodic`] (RxPY:
//! `reactivex.interval`, `reactivex.timer`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::scheduler::{Scheduler, SchedulerRef};
use parking_lot::Mutex;

use crate::{Observable, SharedSubscriber, Subscription};

/// 0, 1, 2, … one every `period` on `scheduler`, the first after one
/// period (RxPY: `reactivex.interval(period, scheduler)`). Each tick is
/// scheduled at an absolute time counted from the subscription, so a late
/// tick does not delay the next.
///
/// ```
/// use corun::reactive::{TestScheduler, interval, on_next};
/// use std::time::Duration;
///
/// let ts = TestScheduler::new();
/// let s = ts.clone();
/// let seen = ts.start_at(move || interval(Duration::from_millis(100), s).take(2), 0, 0, 1000);
/// assert_eq!(seen[..2], [on_next(100, 0), on_next(200, 1)]);
/// ```
pub fn interval(period: Duration, scheduler: impl Scheduler) -> Observable<u64> {
    timer_periodic(period, period, scheduler)
}

/// 0 after `due` on `scheduler`, then the end (RxPY:
/// `reactivex.timer(duetime)`).
pub fn timer(due: Duration, scheduler: impl Scheduler) -> Observable<u64> {
    let scheduler: SchedulerRef = Arc::new(scheduler);
    Observable::new(move |subscriber| {
        let target = subscriber.into_shared();
        let t = target.clone();
        let action = scheduler.schedule_relative(
            due,
            Box::new(move || {
                t.on_next(0);
                t.on_completed();
            }),
        );
        target.subscription().add_subscription(action);
    })
}

/// 0 after `due`, then 1, 2, … every `period` (RxPY:
/// `reactivex.timer(duetime, period)`).
pub fn timer_periodic(
    due: Duration,
    period: Duration,
    scheduler: impl Scheduler,
) -> Observable<u64> {
    let scheduler: SchedulerRef = Arc::new(scheduler);
    Observable::new(move |subscriber| {
        let target = subscriber.into_shared();
        let slot = Latest::new(target.subscription());
        let first = scheduler.now() + due;
        tick(Arc::clone(&scheduler), slot, target, first, period, 0);
    })
}

/// Schedules tick `n` at `due`, which emits it and schedules the next.
fn tick(
    scheduler: SchedulerRef,
    slot: Arc<Latest>,
    target: SharedSubscriber<u64>,
    due: Instant,
    period: Duration,
    n: u64,
) {
    let (s, sl) = (Arc::clone(&scheduler), Arc::clone(&slot));
    let action = scheduler.schedule_absolute(
        due,
        Box::new(move || {
            target.on_next(n);
            if !target.is_closed() {
                tick(s, sl, target, due + period, period, n + 1);
            }
        }),
    );
    slot.set(n, action);
}

/// The pending tick's action, disposed with the subscription. Ticks are
/// numbered: on a thread pool, tick `n` may run (and schedule `n + 1`)
/// before the thread that scheduled it stores its handle, so a handle is
/// stored only over an older one.
struct Latest {
    current: Mutex<(u64, Option<Subscription>)>,
    closed: Subscription,
}

impl Latest {
    fn new(subscription: &Subscription) -> Arc<Self> {
        let latest = Arc::new(Self {
            current: Mutex::new((0, None)),
            closed: subscription.clone(),
        });
        let l = Arc::clone(&latest);
        subscription.add(move || {
            let pending = l.current.lock().1.take();
            if let Some(pending) = pending {
                pending.dispose();
            }
        });
        latest
    }

    fn set(&self, n: u64, action: Subscription) {
        let mut current = self.current.lock();
        if self.closed.is_disposed() {
            drop(current);
            action.dispose();
        } else if current.1.is_none() || current.0 <= n {
            *current = (n, Some(action));
        }
    }
}
