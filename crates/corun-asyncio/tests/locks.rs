//! The synchronisation primitives: Lock, Event, Condition, Semaphore,
//! BoundedSemaphore and Barrier, with behaviours ported from CPython's
//! Lib/test/test_asyncio/test_locks.py (each test names its source), above
//! all the cancel and FIFO rules.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use corun::asyncio::{
    Barrier, BoundedSemaphore, Condition, Event, Lock, Semaphore, Sleep, Task, create_task, run,
    sleep,
};

type Log = Rc<RefCell<Vec<i32>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

/// Python's `await asyncio.sleep(0)`: one turn of the loop.
fn sleep0() -> Sleep {
    sleep(Duration::ZERO)
}

/// Awaits every task, keeping their outcomes.
async fn gather<T: 'static>(tasks: Vec<Task<T>>) -> Vec<Result<T, corun::Error>> {
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await);
    }
    out
}

// ---------------------------------------------------------------- Lock

// Ports LockTests.test_acquire: waiters get the lock in arrival order, one
// release each; a task that comes later queues behind them. (Python's
// `release()` by the main task becomes the holder's guard dropped on a
// signal.)
#[test]
fn lock_waiters_acquire_in_fifo_order() {
    run(async {
        let lock = Rc::new(Lock::new(()));
        let result = log();
        let held = lock.acquire().await;
        let releases: Vec<_> = (0..3).map(|_| Rc::new(Event::new())).collect();
        let spawn = |i: i32| {
            let (lock, result, release) = (
                lock.clone(),
                result.clone(),
                releases[i as usize - 1].clone(),
            );
            create_task(async move {
                let _guard = lock.acquire().await;
                result.borrow_mut().push(i);
                release.wait().await;
            })
        };
        let t1 = spawn(1);
        let t2 = spawn(2);
        sleep0().await;
        assert!(result.borrow().is_empty());

        drop(held);
        sleep0().await;
        assert_eq!(*result.borrow(), [1]);
        sleep0().await;
        assert_eq!(*result.borrow(), [1]);

        let t3 = spawn(3);
        releases[0].set();
        sleep0().await;
        sleep0().await;
        assert_eq!(*result.borrow(), [1, 2]);

        releases[1].set();
        sleep0().await;
        sleep0().await;
        assert_eq!(*result.borrow(), [1, 2, 3]);
        releases[2].set();
        for r in gather(vec![t1, t2, t3]).await {
            r.unwrap();
        }
        assert!(!lock.locked());
    })
    .unwrap();
}

// Ports LockTests.test_acquire_cancel: a cancelled waiter leaves the line,
// so the lock is free for a newcomer once released.
#[test]
fn lock_cancelled_waiter_leaves_the_line() {
    run(async {
        let lock = Rc::new(Lock::new(()));
        let held = lock.acquire().await;
        let l = lock.clone();
        let task = create_task(async move {
            let _g = l.acquire().await;
        });
        sleep0().await;
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
        drop(held);
        assert!(lock.try_acquire().is_some(), "{lock:?}");
    })
    .unwrap();
}

// Ports LockTests.test_cancel_race: A holds the lock, B and C wait; B is
// cancelled while A releases. The lock must reach C.
#[test]
fn lock_release_racing_a_cancel_reaches_the_next_waiter() {
    run(async {
        let lock = Rc::new(Lock::new(()));
        let fa = Rc::new(Event::new());
        let lockit = |blocker: Option<Rc<Event>>| {
            let lock = lock.clone();
            create_task(async move {
                let _g = lock.acquire().await;
                if let Some(blocker) = blocker {
                    blocker.wait().await;
                }
            })
        };
        let ta = lockit(Some(fa.clone()));
        sleep0().await;
        assert!(lock.locked());
        let tb = lockit(None);
        sleep0().await;
        let tc = lockit(None);
        sleep0().await;

        fa.set();
        tb.cancel();
        sleep0().await;
        sleep0().await;
        assert!(ta.done());
        assert!(tb.cancelled());
        tc.await.unwrap();
        assert!(!lock.locked());
    })
    .unwrap();
}

// Ports LockTests.test_cancel_release_race (bpo-32734): three waiters, the
// first cancelled just as the lock is released: exactly one of the others
// gets the lock.
#[test]
fn lock_cancel_and_release_hand_out_one_lock() {
    run(async {
        let lock = Rc::new(Lock::new(()));
        let lock_count = Rc::new(Cell::new(0));
        let held = lock.try_acquire().unwrap();
        let lockit = || {
            let (lock, count) = (lock.clone(), lock_count.clone());
            create_task(async move {
                let guard = lock.acquire().await;
                count.set(count.get() + 1);
                std::mem::forget(guard); // keeps it, as the Python test does
            })
        };
        let t1 = lockit();
        let t2 = lockit();
        let t3 = lockit();
        sleep0().await;

        // Python's `trigger`, in one step: cancel the first waiter, release.
        t1.cancel();
        drop(held);
        assert!(t1.await.unwrap_err().is_cancelled());
        t2.clone().await.unwrap();
        assert_eq!(lock_count.get(), 1);
        assert!(t2.done() && !t3.done());
        t3.cancel();
        sleep0().await;
        assert!(t3.cancelled());
    })
    .unwrap();
}

// Ports LockTests.test_finished_waiter_cancelled: a waiter handed the lock
// and cancelled before it runs passes the lock to the next waiter. (Python
// cancels the waiter's future at once, so its release skips B and C takes
// the lock one turn earlier; here B's drop hands it on, and C has it after
// one more turn.)
#[test]
fn lock_woken_waiter_cancelled_passes_the_lock_on() {
    run(async {
        let lock = Rc::new(Lock::new(()));
        let held = lock.acquire().await;
        let acquire_and_keep = || {
            let lock = lock.clone();
            create_task(async move { std::mem::forget(lock.acquire().await) })
        };
        let tb = acquire_and_keep();
        sleep0().await;
        let tc = acquire_and_keep();
        tb.cancel();
        drop(held);
        sleep0().await;
        sleep0().await;
        assert!(tb.cancelled());
        assert!(lock.locked());
        tc.await.unwrap();
    })
    .unwrap();
}

// Python 3.12's Lock.acquire fairness: after a release hands the lock to
// the oldest waiter, `locked()` reads false until it runs, yet a newcomer
// may not take the lock first.
#[test]
fn lock_newcomer_does_not_barge_ahead_of_a_woken_waiter() {
    run(async {
        let lock = Rc::new(Lock::new(Vec::new()));
        let held = lock.acquire().await;
        let spawn = |name: &'static str| {
            let lock = lock.clone();
            create_task(async move { lock.acquire().await.push(name) })
        };
        let waiter = spawn("waiter");
        sleep0().await;
        drop(held);
        assert!(!lock.locked());
        assert!(lock.try_acquire().is_none());
        let newcomer = spawn("newcomer");
        waiter.await.unwrap();
        newcomer.await.unwrap();
        assert_eq!(*lock.acquire().await, ["waiter", "newcomer"]);
    })
    .unwrap();
}

// Ports LockTests.test_context_manager / test_release_no_waiters.
#[test]
fn lock_guard_releases_on_drop() {
    run(async {
        let lock = Lock::new(5);
        {
            let mut guard = lock.acquire().await;
            assert!(lock.locked());
            *guard += 1;
        }
        assert!(!lock.locked());
        assert_eq!(lock.into_inner(), 6);
    })
    .unwrap();
}

// ---------------------------------------------------------------- Event

// Ports EventTests.test_wait: a set wakes the waiters in order; a task not
// yet started when the flag is set returns first, without waiting.
#[test]
fn event_set_wakes_waiters_in_order() {
    run(async {
        let ev = Rc::new(Event::new());
        let result = log();
        let spawn = |i| {
            let (ev, result) = (ev.clone(), result.clone());
            create_task(async move {
                ev.wait().await;
                result.borrow_mut().push(i);
            })
        };
        let t1 = spawn(1);
        let t2 = spawn(2);
        sleep0().await;
        assert!(result.borrow().is_empty());
        let t3 = spawn(3);
        ev.set();
        sleep0().await;
        assert_eq!(*result.borrow(), [3, 1, 2]);
        assert!(t1.done() && t2.done() && t3.done());
    })
    .unwrap();
}

// Ports EventTests.test_wait_on_set and test_clear.
#[test]
fn event_wait_on_a_set_event_returns_at_once() {
    run(async {
        let ev = Event::new();
        ev.set();
        ev.wait().await;
        ev.clear();
        assert!(!ev.is_set());
    })
    .unwrap();
}

// Ports EventTests.test_wait_cancel: a cancelled waiter leaves the event.
#[test]
fn event_cancelled_waiter_leaves() {
    run(async {
        let ev = Rc::new(Event::new());
        let e = ev.clone();
        let wait = create_task(async move { e.wait().await });
        sleep0().await;
        assert!(format!("{ev:?}").contains("waiters: 1"));
        wait.cancel();
        assert!(wait.await.unwrap_err().is_cancelled());
        assert!(format!("{ev:?}").contains("waiters: 0"), "{ev:?}");
    })
    .unwrap();
}

// Ports EventTests.test_clear_with_waiters: set then clear before the
// waiter runs still lets it through, once.
#[test]
fn event_set_then_clear_still_releases_the_waiter() {
    run(async {
        let ev = Rc::new(Event::new());
        let result = log();
        let (e, r) = (ev.clone(), result.clone());
        let t = create_task(async move {
            e.wait().await;
            r.borrow_mut().push(1);
        });
        sleep0().await;
        ev.set();
        ev.clear();
        assert!(!ev.is_set());
        ev.set();
        ev.set();
        sleep0().await;
        assert_eq!(*result.borrow(), [1]);
        t.await.unwrap();
    })
    .unwrap();
}

// ------------------------------------------------------------ Condition

/// A task that waits on `cond` once and logs `i` (CPython's c1, c2, c3).
fn cond_waiter(cond: &Rc<Condition<()>>, result: &Log, i: i32) -> Task<()> {
    let (cond, result) = (cond.clone(), result.clone());
    create_task(async move {
        let guard = cond.acquire().await;
        let _guard = guard.wait().await;
        result.borrow_mut().push(i);
    })
}

// Ports ConditionTests.test_notify: notify(1) wakes one waiter; notify(1)
// then notify(2048) the rest, in order; they run once the lock is free.
#[test]
fn condition_notify_wakes_in_order() {
    run(async {
        let cond = Rc::new(Condition::new(()));
        let result = log();
        let tasks: Vec<_> = (1..=3).map(|i| cond_waiter(&cond, &result, i)).collect();
        sleep0().await;
        assert!(result.borrow().is_empty());
        assert!(!cond.locked());

        let guard = cond.acquire().await;
        guard.notify(1);
        sleep0().await;
        assert!(result.borrow().is_empty(), "the lock is still held");
        drop(guard);
        sleep0().await;
        sleep0().await;
        assert_eq!(*result.borrow(), [1]);

        let guard = cond.acquire().await;
        guard.notify(1);
        guard.notify(2048);
        drop(guard);
        for r in gather(tasks).await {
            r.unwrap();
        }
        assert_eq!(*result.borrow(), [1, 2, 3]);
    })
    .unwrap();
}

// Ports ConditionTests.test_notify_all.
#[test]
fn condition_notify_all_wakes_everyone() {
    run(async {
        let cond = Rc::new(Condition::new(()));
        let result = log();
        let tasks: Vec<_> = (1..=2).map(|i| cond_waiter(&cond, &result, i)).collect();
        sleep0().await;
        cond.acquire().await.notify_all();
        for r in gather(tasks).await {
            r.unwrap();
        }
        assert_eq!(*result.borrow(), [1, 2]);
    })
    .unwrap();
}

// Ports ConditionTests.test_wait_cancel: a cancelled wait leaves the line
// and holds no lock.
#[test]
fn condition_cancelled_wait_leaves_no_waiter_and_no_lock() {
    run(async {
        let cond = Rc::new(Condition::new(()));
        let c = cond.clone();
        let wait = create_task(async move {
            let guard = c.acquire().await;
            let _guard = guard.wait().await;
        });
        sleep0().await;
        wait.cancel();
        assert!(wait.await.unwrap_err().is_cancelled());
        assert!(!cond.locked());
        assert!(format!("{cond:?}").contains("waiters: 0"), "{cond:?}");
    })
    .unwrap();
}

// Ports ConditionTests.test_wait_for: the predicate is checked after each
// notification; a true one returns without waiting.
#[test]
fn condition_wait_for_rechecks_the_predicate() {
    run(async {
        let cond = Rc::new(Condition::new(false));
        let result = log();
        let (c, r) = (cond.clone(), result.clone());
        let t = create_task(async move {
            let _guard = c.acquire().await.wait_for(|ready| *ready).await;
            r.borrow_mut().push(1);
        });
        sleep0().await;
        cond.acquire().await.notify(1);
        sleep0().await;
        sleep0().await;
        assert!(result.borrow().is_empty());

        let mut guard = cond.acquire().await;
        *guard = true;
        guard.notify(1);
        drop(guard);
        t.await.unwrap();
        assert_eq!(*result.borrow(), [1]);
        let guard = cond.acquire().await.wait_for(|ready| *ready).await; // no wait
        assert!(*guard);
    })
    .unwrap();
}

/// CPython's consumer of test_cancelled_wakeup: takes one item per
/// notification until `state` goes negative.
fn consumer(cond: &Rc<Condition<i32>>) -> Task<()> {
    let cond = cond.clone();
    create_task(async move {
        let mut guard = cond.acquire().await;
        loop {
            guard = guard.wait_for(|state| *state != 0).await;
            if *guard < 0 {
                return;
            }
            *guard -= 1;
        }
    })
}

/// Whether the item is consumed (`state` back at 0) within `turns` turns
/// of the loop: the Python test's `wait_for` under a 10 ms time-out, as a
/// deadline counted in turns.
async fn consumed_within_turns(cond: &Condition<i32>, turns: usize) -> bool {
    for _ in 0..turns {
        if *cond.acquire().await == 0 {
            return true;
        }
        sleep0().await;
    }
    false
}

// Ports ConditionTests.test_cancelled_wakeup (gh-112202): a waiter
// cancelled right after it was notified passes the notification on, so the
// item is still consumed.
#[test]
fn condition_waiter_cancelled_after_notify_passes_it_on() {
    run(async {
        let cond = Rc::new(Condition::new(0));
        let c = [consumer(&cond), consumer(&cond)];
        sleep0().await;
        let mut guard = cond.acquire().await;
        *guard += 1;
        guard.notify(1);
        c[0].cancel();
        drop(guard);
        assert!(consumed_within_turns(&cond, 100).await);
        let mut guard = cond.acquire().await;
        *guard = -1;
        guard.notify_all();
        drop(guard);
        c[1].clone().await.unwrap();
        assert!(c[0].cancelled());
    })
    .unwrap();
}

// Ports ConditionTests.test_cancelled_wakeup_relock (gh-112202): the same,
// with the cancel arriving while the notified waiter waits for the lock.
#[test]
fn condition_waiter_cancelled_while_relocking_passes_it_on() {
    run(async {
        let cond = Rc::new(Condition::new(0));
        let c = [consumer(&cond), consumer(&cond)];
        sleep0().await;
        let mut guard = cond.acquire().await;
        *guard += 1;
        guard.notify(1);
        sleep0().await; // the notified consumer now waits for the lock
        c[0].cancel();
        drop(guard);
        assert!(consumed_within_turns(&cond, 100).await);
        let mut guard = cond.acquire().await;
        *guard = -1;
        guard.notify_all();
        drop(guard);
        c[1].clone().await.unwrap();
        assert!(c[0].cancelled());
    })
    .unwrap();
}

// ------------------------------------------------------------ Semaphore

// Ports SemaphoreTests.test_initial_value_zero and test_release_no_waiters.
#[test]
fn semaphore_locked_reflects_free_permits() {
    run(async {
        assert!(Semaphore::new(0).locked());
        let sem = Semaphore::new(1);
        let permit = sem.acquire().await;
        assert!(sem.locked());
        drop(permit);
        assert!(!sem.locked());
    })
    .unwrap();
}

// Ports SemaphoreTests.test_acquire: three permits, two taken; of three
// more acquirers one gets in, and two releases let exactly two more in.
#[test]
fn semaphore_acquire_counts_permits() {
    run(async {
        let sem = Rc::new(Semaphore::new(3));
        let result = log();
        sem.acquire().await.forget();
        sem.acquire().await.forget();
        assert!(!sem.locked());
        let spawn = |i| {
            let (sem, result) = (sem.clone(), result.clone());
            create_task(async move {
                sem.acquire().await.forget();
                result.borrow_mut().push(i);
            })
        };
        let t1 = spawn(1);
        let t2 = spawn(2);
        let t3 = spawn(3);
        sleep0().await;
        assert_eq!(*result.borrow(), [1]);
        assert!(sem.locked());
        assert_eq!(sem.value(), 0);

        let t4 = spawn(4);
        sem.release(1).unwrap();
        sem.release(1).unwrap();
        assert_eq!(sem.value(), 0);
        sleep0().await;
        assert_eq!(sem.value(), 0);
        assert_eq!(result.borrow().len(), 3);
        assert!(sem.locked());
        assert!(t1.done());
        assert_eq!([&t2, &t3, &t4].iter().filter(|t| t.done()).count(), 2);
        sem.release(1).unwrap();
        for r in gather(vec![t2, t3, t4]).await {
            r.unwrap();
        }
    })
    .unwrap();
}

// Ports SemaphoreTests.test_acquire_cancel: a cancelled acquire leaves the
// line and takes no permit.
#[test]
fn semaphore_cancelled_acquire_takes_nothing() {
    run(async {
        let sem = Rc::new(Semaphore::new(1));
        let permit = sem.acquire().await;
        let s = sem.clone();
        let acquire = create_task(async move { s.acquire().await.forget() });
        sleep0().await;
        acquire.cancel();
        assert!(acquire.await.unwrap_err().is_cancelled());
        drop(permit);
        assert_eq!(sem.value(), 1);
        assert!(!sem.locked());
    })
    .unwrap();
}

/// A task that takes a permit of `sem` and keeps it.
fn take_one(sem: &Rc<Semaphore>) -> Task<()> {
    let sem = sem.clone();
    create_task(async move { sem.acquire().await.forget() })
}

// Ports SemaphoreTests.test_acquire_cancel_before_awoken: two waiters
// cancelled just before a release; the permit reaches the third, not the
// fourth.
#[test]
fn semaphore_permit_skips_cancelled_waiters() {
    run(async {
        let sem = Rc::new(Semaphore::new(0));
        let t: Vec<_> = (0..4).map(|_| take_one(&sem)).collect();
        sleep0().await;
        t[0].cancel();
        t[1].cancel();
        sem.release(1).unwrap();
        sleep0().await;
        sleep0().await;
        assert!(t[2].done());
        assert!(!t[3].done());
        assert!(t[0].cancelled() && t[1].cancelled());
        t[3].cancel();
        sleep0().await;
        assert_eq!(sem.value(), 0);
    })
    .unwrap();
}

// Ports SemaphoreTests.test_acquire_hang: a permit handed to a waiter that
// is cancelled reaches the next one.
#[test]
fn semaphore_cancelled_waiter_does_not_hang_the_next() {
    run(async {
        let sem = Rc::new(Semaphore::new(0));
        let t1 = take_one(&sem);
        let t2 = take_one(&sem);
        sleep0().await;
        t1.cancel();
        sem.release(1).unwrap();
        sleep0().await;
        sleep0().await;
        assert!(sem.locked());
        assert!(t2.done());
    })
    .unwrap();
}

// Ports SemaphoreTests.test_acquire_no_hang: a holder cancels a waiter
// while holding; the permit comes back and can be taken again.
#[test]
fn semaphore_no_hang_after_cancelling_a_waiter() {
    run(async {
        let sem = Rc::new(Semaphore::new(1));
        let t2_slot: Rc<RefCell<Option<Task<()>>>> = Rc::new(RefCell::new(None));
        let (s, slot) = (sem.clone(), t2_slot.clone());
        let t1 = create_task(async move {
            let _permit = s.acquire().await;
            sleep0().await;
            slot.borrow().as_ref().unwrap().cancel();
        });
        let s = sem.clone();
        let t2 = create_task(async move {
            let _permit = s.acquire().await;
            panic!("never gets the permit");
        });
        *t2_slot.borrow_mut() = Some(t2.clone());
        t1.await.unwrap();
        assert!(t2.await.unwrap_err().is_cancelled());
        sem.acquire().await.forget();
        assert_eq!(sem.value(), 0);
    })
    .unwrap();
}

// Ports SemaphoreTests.test_acquire_fifo_order: three tasks each acquire,
// yield, release, twice; the semaphore serves them round-robin.
#[test]
fn semaphore_acquire_fifo_order() {
    run(async {
        let sem = Rc::new(Semaphore::new(1));
        let result = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = ["c1", "c2", "c3"]
            .into_iter()
            .map(|tag| {
                let (sem, result) = (sem.clone(), result.clone());
                create_task(async move {
                    for round in 1..=2 {
                        let _permit = sem.acquire().await;
                        result.borrow_mut().push(format!("{tag}_{round}"));
                        sleep(Duration::from_millis(1)).await;
                    }
                })
            })
            .collect();
        for r in gather(tasks).await {
            r.unwrap();
        }
        assert_eq!(
            *result.borrow(),
            ["c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"]
        );
    })
    .unwrap();
}

// Ports SemaphoreTests.test_acquire_fifo_order_2: a task that releases and
// acquires again goes behind the task already waiting.
#[test]
fn semaphore_acquire_fifo_order_2() {
    run(async {
        let sem = Rc::new(Semaphore::new(1));
        let result = log();
        let (s, r) = (sem.clone(), result.clone());
        let t1 = create_task(async move {
            s.acquire().await.forget();
            r.borrow_mut().push(1);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t2 = create_task(async move {
            s.acquire().await.forget();
            r.borrow_mut().push(2);
            s.release(1).unwrap();
            s.acquire().await.forget();
            r.borrow_mut().push(4);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t3 = create_task(async move {
            s.acquire().await.forget();
            r.borrow_mut().push(3);
        });
        sleep0().await;
        sem.release(1).unwrap();
        sem.release(1).unwrap();
        for r in gather(vec![t1, t2, t3]).await {
            r.unwrap();
        }
        assert_eq!(*result.borrow(), [1, 2, 3, 4]);
    })
    .unwrap();
}

// Ports SemaphoreTests.test_acquire_fifo_order_3: a waiter cancelled
// before any release; the two releases reach the other two.
#[test]
fn semaphore_acquire_fifo_order_3() {
    run(async {
        let sem = Rc::new(Semaphore::new(0));
        let result = log();
        let tasks: Vec<_> = (1..=3)
            .map(|i| {
                let (sem, result) = (sem.clone(), result.clone());
                create_task(async move {
                    sem.acquire().await.forget();
                    result.borrow_mut().push(i);
                })
            })
            .collect();
        sleep0().await;
        tasks[0].cancel();
        sleep0().await;
        sem.release(1).unwrap();
        sem.release(1).unwrap();
        let outcomes = gather(tasks).await;
        assert!(outcomes[0].as_ref().unwrap_err().is_cancelled());
        assert_eq!(*result.borrow(), [2, 3]);
    })
    .unwrap();
}

// Ports SemaphoreTests.test_acquire_fifo_order_4: permits released while a
// woken waiter is on its way keep the semaphore locked for newcomers; when
// that waiter runs it wakes the others in line, in order.
#[test]
fn semaphore_acquire_fifo_order_4() {
    run(async {
        let sem = Rc::new(Semaphore::new(0));
        let result = log();
        let t4: Rc<RefCell<Option<Task<()>>>> = Rc::new(RefCell::new(None));
        let (s, r, t4s) = (sem.clone(), result.clone(), t4.clone());
        let t1 = create_task(async move {
            assert_eq!(s.value(), 0);
            s.acquire().await.forget();
            assert_eq!(s.value(), 0);
            let r4 = r.clone();
            *t4s.borrow_mut() = Some(create_task(async move { r4.borrow_mut().push(4) }));
            r.borrow_mut().push(1);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t2 = create_task(async move {
            for _ in 0..3 {
                s.release(1).unwrap();
            }
            assert_eq!(s.value(), 2);
            assert!(s.locked(), "t1 has not woken up yet");
            s.acquire().await.forget();
            r.borrow_mut().push(2);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t3 = create_task(async move {
            s.acquire().await.forget();
            assert!(s.locked());
            r.borrow_mut().push(3);
        });
        sleep0().await;
        assert_eq!(sem.value(), 2);
        sleep0().await;
        for r in gather(vec![t1, t2, t3]).await {
            r.unwrap();
        }
        let t4 = t4.borrow_mut().take().unwrap();
        t4.await.unwrap();
        assert_eq!(*result.borrow(), [1, 2, 3, 4]);
    })
    .unwrap();
}

// Ports SemaphoreTests.test_release_not_acquired: a bounded semaphore
// refuses a release past its initial value (Python: ValueError), also
// while a guard is out.
#[test]
fn bounded_semaphore_refuses_over_release() {
    run(async {
        let sem = BoundedSemaphore::new(1);
        assert!(sem.release(1).unwrap_err().is_over_release());
        let permit = sem.acquire().await;
        assert!(sem.release(1).unwrap_err().is_over_release());
        drop(permit);
        assert_eq!(sem.value(), 1);
        sem.acquire().await.forget();
        sem.release(1).unwrap();
        assert!(sem.release(1).unwrap_err().is_over_release());
        assert_eq!(sem.value(), 1);
    })
    .unwrap();
}

// A permit handed to a waiter on its way counts as held: releasing it
// again by hand is an over-release too.
#[test]
fn bounded_semaphore_counts_permits_on_their_way() {
    run(async {
        let sem = Rc::new(BoundedSemaphore::new(1));
        sem.acquire().await.forget();
        let s = sem.clone();
        let waiter = create_task(async move { s.acquire().await.forget() });
        sleep0().await;
        sem.release(1).unwrap(); // handed to the waiter
        assert!(sem.release(1).unwrap_err().is_over_release());
        waiter.cancel(); // gives it back
        assert!(waiter.await.unwrap_err().is_cancelled());
        assert_eq!(sem.value(), 1);
        assert!(sem.release(1).unwrap_err().is_over_release());
    })
    .unwrap();
}

// -------------------------------------------------------------- Barrier

/// Starts `n` tasks that each wait on `barrier` once.
fn barrier_waiters(barrier: &Rc<Barrier>, n: usize) -> Vec<Task<Result<usize, corun::Error>>> {
    (0..n)
        .map(|_| {
            let barrier = barrier.clone();
            create_task(async move { barrier.wait().await })
        })
        .collect()
}

// Ports BarrierTests.test_barrier_parties.
#[test]
fn barrier_needs_a_party() {
    assert!(Barrier::new(0).unwrap_err().is_invalid_argument());
    assert_eq!(Barrier::new(5).unwrap().parties(), 5);
}

// Ports BarrierTests.test_filling_one_task and test_filling_one_task_twice.
#[test]
fn barrier_of_one_passes_at_once() {
    run(async {
        let barrier = Barrier::new(1).unwrap();
        assert_eq!(barrier.wait().await.unwrap(), 0);
        assert_eq!(barrier.wait().await.unwrap(), 0);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    })
    .unwrap();
}

// Ports BarrierTests.test_filling_task_by_task and
// test_filling_tasks_check_return_value: n_waiting counts arrivals; all
// pass with distinct indices in arrival order, twice.
#[test]
fn barrier_fills_and_passes_with_distinct_indices() {
    run(async {
        let barrier = Rc::new(Barrier::new(3).unwrap());
        let b = barrier.clone();
        let t1 = create_task(async move { b.wait().await });
        sleep0().await;
        assert_eq!(barrier.n_waiting(), 1);
        let b = barrier.clone();
        let t2 = create_task(async move { b.wait().await });
        sleep0().await;
        assert_eq!(barrier.n_waiting(), 2);
        let b = barrier.clone();
        let t3 = create_task(async move { b.wait().await });
        let indices: Vec<usize> = gather(vec![t1, t2, t3])
            .await
            .into_iter()
            .map(|r| r.unwrap().unwrap())
            .collect();
        assert_eq!(indices, [0, 1, 2]);
        assert_eq!(barrier.n_waiting(), 0);

        let mut again: Vec<usize> = gather(barrier_waiters(&barrier, 3))
            .await
            .into_iter()
            .map(|r| r.unwrap().unwrap())
            .collect();
        again.sort();
        assert_eq!(again, [0, 1, 2]);
        assert!(!barrier.broken());
    })
    .unwrap();
}

// Ports BarrierTests.test_filling_tasks_cancel_one: a waiter cancelled
// leaves the round without breaking it.
#[test]
fn barrier_cancelled_waiter_leaves_the_round() {
    run(async {
        let barrier = Rc::new(Barrier::new(3).unwrap());
        let mut t = barrier_waiters(&barrier, 2);
        sleep0().await;
        assert_eq!(barrier.n_waiting(), 2);
        t[0].cancel();
        sleep0().await;
        assert_eq!(barrier.n_waiting(), 1);
        assert!(t.remove(0).await.unwrap_err().is_cancelled());
        t.extend(barrier_waiters(&barrier, 2));
        let mut indices: Vec<usize> = gather(t)
            .await
            .into_iter()
            .map(|r| r.unwrap().unwrap())
            .collect();
        indices.sort();
        assert_eq!(indices, [0, 1, 2], "indices stay distinct");
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    })
    .unwrap();
}

// Ports BarrierTests.test_reset_barrier and
// test_reset_barrier_while_tasks_waiting: reset breaks the waiters out and
// leaves the barrier unbroken, ready for a full round.
#[test]
fn barrier_reset_breaks_waiters_out() {
    run(async {
        let barrier = Rc::new(Barrier::new(3).unwrap());
        barrier.reset();
        assert!(!barrier.broken());
        let waiting = barrier_waiters(&barrier, 2);
        sleep0().await;
        barrier.reset();
        for r in gather(waiting).await {
            assert!(r.unwrap().unwrap_err().is_broken_barrier());
        }
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
        for r in gather(barrier_waiters(&barrier, 3)).await {
            r.unwrap().unwrap();
        }
    })
    .unwrap();
}

// Ports BarrierTests.test_abort_barrier and test_abort_barrier_when_exception:
// abort breaks the waiters and every later wait.
#[test]
fn barrier_abort_breaks_current_and_later_waits() {
    run(async {
        let barrier = Rc::new(Barrier::new(3).unwrap());
        let waiting = barrier_waiters(&barrier, 2);
        sleep0().await;
        barrier.abort();
        assert!(barrier.broken());
        for r in gather(waiting).await {
            assert!(r.unwrap().unwrap_err().is_broken_barrier());
        }
        assert!(barrier.wait().await.unwrap_err().is_broken_barrier());
        assert_eq!(barrier.n_waiting(), 0);
    })
    .unwrap();
}

// Ports BarrierTests.test_abort_barrier_when_tasks_half_draining_half_blocking,
// where corun differs on purpose: a task released by the barrier stays
// released even if an abort comes before it runs (Python breaks it after
// the fact). The tasks waiting again are broken out.
#[test]
fn barrier_abort_leaves_released_tasks_released() {
    run(async {
        let n = 5;
        let barrier = Rc::new(Barrier::new(n).unwrap());
        let count = Rc::new(Cell::new(0));
        let (broken_first, broken_second) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (b, count, bf, bs) = (
                    barrier.clone(),
                    count.clone(),
                    broken_first.clone(),
                    broken_second.clone(),
                );
                create_task(async move {
                    if b.wait().await.is_err() {
                        bf.set(bf.get() + 1);
                        return;
                    }
                    count.set(count.get() + 1);
                    if count.get() > 2 {
                        b.abort();
                    } else if b.wait().await.is_err() {
                        bs.set(bs.get() + 1);
                    }
                })
            })
            .collect();
        for r in gather(tasks).await {
            r.unwrap();
        }
        assert!(barrier.broken());
        assert_eq!(broken_first.get(), 0);
        assert_eq!(broken_second.get(), 2);
        assert_eq!(barrier.n_waiting(), 0);
    })
    .unwrap();
}

// Ports BarrierTests.test_abort_barrier_when_exception_then_resetting: one
// task fails between two rounds and aborts; after a second barrier
// synchronises everyone, a reset makes the first usable again.
#[test]
fn barrier_abort_then_reset_makes_it_usable_again() {
    run(async {
        let n = 5;
        let barrier1 = Rc::new(Barrier::new(n).unwrap());
        let barrier2 = Rc::new(Barrier::new(n).unwrap());
        let (passed, broken, after_reset) = (
            Rc::new(Cell::new(0)),
            Rc::new(Cell::new(0)),
            Rc::new(Cell::new(0)),
        );
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (b1, b2) = (barrier1.clone(), barrier2.clone());
                let (passed, broken, after_reset) =
                    (passed.clone(), broken.clone(), after_reset.clone());
                create_task(async move {
                    match b1.wait().await {
                        Ok(i) if i == n / 2 => b1.abort(), // "raise RuntimeError"
                        Ok(_) => match b1.wait().await {
                            Ok(_) => passed.set(passed.get() + 1),
                            Err(e) => {
                                assert!(e.is_broken_barrier());
                                broken.set(broken.get() + 1);
                            }
                        },
                        Err(_) => unreachable!("the first round passes"),
                    }
                    if b2.wait().await.unwrap() == n / 2 {
                        b1.reset();
                    }
                    b2.wait().await.unwrap();
                    b1.wait().await.unwrap();
                    after_reset.set(after_reset.get() + 1);
                })
            })
            .collect();
        for r in gather(tasks).await {
            r.unwrap();
        }
        assert!(!barrier1.broken());
        assert_eq!(passed.get(), 0);
        assert_eq!(broken.get(), n - 1);
        assert_eq!(after_reset.get(), n);
        assert_eq!(barrier1.n_waiting(), 0);
    })
    .unwrap();
}
