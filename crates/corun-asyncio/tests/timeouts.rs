//! timeout, timeout_at and wait_for: deadlines that drop the body, nest,
//! move, and never swallow a cancel from outside.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use corun::ErrorKind;
use corun::asyncio::{
    create_task, current_task, get_running_loop, run, sleep, timeout, timeout_at, wait_for,
};

const FOREVER: Duration = Duration::from_secs(3600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sets a flag when dropped: stands for the body's cleanup.
struct Guard(Rc<Cell<bool>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

fn flag() -> Rc<Cell<bool>> {
    Rc::new(Cell::new(false))
}

// test_timeouts.py: test_timeout_basic and test_waiter_cancelled — the body
// is dropped at its await point (its cleanup runs), the timeout gives a
// Timeout error and reads expired; the task itself was never cancelled.
#[test]
fn timeout_expires_and_drops_the_body() {
    let cleaned = flag();
    let c = cleaned.clone();
    let (err, expired, cancelling) = run(async move {
        let cm = timeout(Some(ms(5)));
        let err = cm
            .run(async move {
                let _guard = Guard(c);
                sleep(FOREVER).await;
            })
            .await
            .unwrap_err();
        (err, cm.expired(), current_task().unwrap().cancelling())
    })
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(expired && cleaned.get());
    assert_eq!(cancelling, 0);
}

// test_timeouts.py: test_timeout_at_basic — the deadline given is `when()`.
#[test]
fn timeout_at_expires_at_its_deadline() {
    run(async {
        let deadline = get_running_loop().unwrap().time() + 0.005;
        let cm = timeout_at(Some(deadline));
        assert!(cm.run(sleep(FOREVER)).await.unwrap_err().is_timeout());
        assert!(cm.expired());
        assert_eq!(cm.when(), Some(deadline));
        assert!(get_running_loop().unwrap().time() >= deadline);
    })
    .unwrap();
}

// test_timeouts.py: test_timeout_not_called, test_timeout_disabled and
// test_timeout_at_disabled — a body done in time gives its value; no
// deadline never expires.
#[test]
fn timeout_not_reached_or_disabled() {
    run(async {
        let cm = timeout(Some(Duration::from_secs(10)));
        assert_eq!(
            cm.run(async {
                sleep(ms(1)).await;
                1
            })
            .await
            .unwrap(),
            1
        );
        let now = get_running_loop().unwrap().time();
        assert!(!cm.expired());
        assert!(cm.when().unwrap() > now);
        for cm in [timeout(None), timeout_at(None)] {
            assert_eq!(
                cm.run(async {
                    sleep(ms(1)).await;
                    2
                })
                .await
                .unwrap(),
                2
            );
            assert!(!cm.expired());
            assert_eq!(cm.when(), None);
        }
    })
    .unwrap();
}

// test_timeouts.py: test_timeout_zero and test_timeout_zero_sleep_zero — a
// zero timeout lets the body run to its first await, then expires; its
// deadline is when the body began.
#[test]
fn timeout_zero_expires_at_the_first_await() {
    run(async {
        let started = Rc::new(Cell::new(false));
        let t0 = get_running_loop().unwrap().time();
        let cm = timeout(Some(Duration::ZERO));
        let s = started.clone();
        let err = cm
            .run(async move {
                s.set(true);
                sleep(Duration::ZERO).await;
                sleep(FOREVER).await;
            })
            .await
            .unwrap_err();
        let t1 = get_running_loop().unwrap().time();
        assert!(err.is_timeout() && cm.expired() && started.get());
        let when = cm.when().unwrap();
        assert!(t0 <= when && when <= t1);
    })
    .unwrap();
}

// test_timeouts.py: test_nested_timeouts — both expire at the same
// deadline; only the outer one gives the error (the inner is dropped with
// the body), and both read expired.
#[test]
fn nested_timeouts_at_the_same_deadline() {
    run(async {
        let deadline = get_running_loop().unwrap().time() + 0.005;
        let cm1 = timeout_at(Some(deadline));
        let cm2 = timeout_at(Some(deadline));
        let inner_returned = Rc::new(Cell::new(false));
        let (c2, r) = (cm2.clone(), inner_returned.clone());
        let err = cm1
            .run(async move {
                let inner = c2.run(sleep(FOREVER)).await;
                r.set(true);
                inner
            })
            .await
            .unwrap_err();
        assert!(err.is_timeout());
        assert!(
            !inner_returned.get(),
            "the outer timeout dropped the inner one"
        );
        assert!(cm1.expired() && cm2.expired());
    })
    .unwrap();
}

// test_timeouts.py: test_nested_timeouts_concurrent — the outer deadline
// comes first: the outer timeout stops the body, the inner does not
// expire.
#[test]
fn nested_timeouts_outer_first() {
    run(async {
        let outer = timeout(Some(ms(2)));
        let inner = timeout(Some(Duration::from_secs(10)));
        let i = inner.clone();
        let err = outer
            .run(async move { i.run(sleep(FOREVER)).await })
            .await
            .unwrap_err();
        assert!(err.is_timeout() && outer.expired() && !inner.expired());
    })
    .unwrap();
}

// test_timeouts.py: test_nested_timeouts_loop_busy (its inner part) — the
// inner deadline comes first: the inner timeout's error reaches the body,
// which goes on under the outer one.
#[test]
fn nested_timeouts_inner_first() {
    run(async {
        let outer = timeout(Some(Duration::from_secs(10)));
        let inner = timeout(Some(ms(2)));
        let i = inner.clone();
        let v = outer
            .run(async move {
                let err = i.run(sleep(FOREVER)).await.unwrap_err();
                assert!(err.is_timeout());
                sleep(ms(1)).await;
                "went on"
            })
            .await
            .unwrap();
        assert_eq!(v, "went on");
        assert!(inner.expired() && !outer.expired());
    })
    .unwrap();
}

// test_timeouts.py: test_foreign_cancel_doesnt_timeout_if_not_expired and
// test_cancel_in_timeout_after_cancellation — a cancel of the task inside
// a timeout cancels the task; it is not turned into a time-out.
#[test]
fn a_cancel_from_outside_is_not_a_timeout() {
    run(async {
        let cm = timeout(Some(Duration::from_secs(10)));
        let c = cm.clone();
        let task = create_task(async move {
            c.run(async {
                current_task().unwrap().cancel();
                sleep(FOREVER).await;
            })
            .await
        });
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(!cm.expired());
    })
    .unwrap();
}

// Python's reason for counting with cancelling()/uncancel() (test_timeouts.py:
// test_nested_timeouts, gh-86296): a cancel from outside that arrives in
// the same iteration as the deadline is not swallowed — the task ends
// cancelled, with its cancel still counted.
#[test]
fn an_outer_cancel_at_the_deadline_is_not_swallowed() {
    run(async {
        let cm = timeout(Some(ms(5)));
        let c = cm.clone();
        let task = create_task(async move { c.run(sleep(FOREVER)).await });
        sleep(Duration::ZERO).await;
        let when = cm.when().unwrap();
        let t = task.clone();
        // Runs in the same iteration as the deadline's own timer, after it.
        get_running_loop().unwrap().call_at(when, move || {
            t.cancel();
        });
        let err = task.clone().await.unwrap_err();
        assert!(err.is_cancelled());
        assert!(task.cancelled());
        assert_eq!(task.cancelling(), 1);
    })
    .unwrap();
}

// test_timeouts.py: test_outer_task_is_not_cancelled — a task whose timeout
// expired finishes normally, with the error as its value.
#[test]
fn the_task_under_an_expired_timeout_is_not_cancelled() {
    run(async {
        let task = create_task(async { timeout(Some(ms(1))).run(sleep(FOREVER)).await });
        assert!(task.clone().await.unwrap().unwrap_err().is_timeout());
        assert!(task.done() && !task.cancelled());
    })
    .unwrap();
}

// test_timeouts.py: test_reschedule — the deadline moves, and goes away;
// test_timeout_finished — a finished timeout cannot be rescheduled.
#[test]
fn reschedule_moves_and_removes_the_deadline() {
    run(async {
        let lp = get_running_loop().unwrap();
        let deadline1 = lp.time() + 10.0;
        let deadline2 = deadline1 + 20.0;
        let cm = timeout_at(Some(deadline1));
        let c = cm.clone();
        let task = create_task(async move { c.run(sleep(FOREVER)).await });
        sleep(Duration::ZERO).await;
        assert_eq!(cm.when(), Some(deadline1));
        cm.reschedule(Some(deadline2)).unwrap();
        assert_eq!(cm.when(), Some(deadline2));
        cm.reschedule(None).unwrap();
        assert_eq!(cm.when(), None);
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(!cm.expired());

        // Brought forward, the deadline stops the body.
        let cm = timeout(Some(Duration::from_secs(10)));
        let c = cm.clone();
        let err = cm
            .run(async move {
                let now = get_running_loop().unwrap().time();
                c.reschedule(Some(now + 0.002)).unwrap();
                sleep(FOREVER).await;
            })
            .await
            .unwrap_err();
        assert!(err.is_timeout() && cm.expired());
        assert_eq!(
            cm.reschedule(None).unwrap_err().kind(),
            ErrorKind::InvalidState
        );

        let done = timeout(Some(ms(10)));
        done.run(async {}).await.unwrap();
        assert_eq!(
            done.reschedule(Some(lp.time() + 1.0)).unwrap_err().kind(),
            ErrorKind::InvalidState
        );
    })
    .unwrap();
}

// test_timeouts.py: test_timeout_double_enter and
// test_timeout_already_entered — a timeout runs one body.
#[test]
fn a_timeout_runs_once() {
    run(async {
        let cm = timeout(Some(ms(10)));
        cm.run(async {}).await.unwrap();
        let err = cm.run(async {}).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidState);
        assert!(err.to_string().contains("already been entered"));

        let cm = timeout(Some(ms(10)));
        let c = cm.clone();
        let inner = cm.run(async move { c.run(async {}).await }).await.unwrap();
        assert_eq!(inner.unwrap_err().kind(), ErrorKind::InvalidState);
    })
    .unwrap();
}

// test_timeouts.py: test_foreign_exception_on_timeout — cleanup that
// panics while the timeout drops the body fails the task with that panic,
// not with a time-out.
#[test]
fn a_panic_in_cleanup_wins_over_the_timeout() {
    struct Crash;
    impl Drop for Crash {
        fn drop(&mut self) {
            panic!("cleanup failed");
        }
    }
    run(async {
        let task = create_task(async {
            timeout(Some(ms(1)))
                .run(async {
                    let _crash = Crash;
                    sleep(FOREVER).await;
                })
                .await
        });
        let err = task.await.unwrap_err();
        assert_eq!(err.panic_message(), Some("cleanup failed"));
    })
    .unwrap();
}

// test_waitfor.py: test_wait_for and test_asyncio_wait_for_timeout — a
// slow future times out, a quick one gives its value.
#[test]
fn wait_for_gives_the_value_or_times_out() {
    run(async {
        assert_eq!(wait_for(async { 3 }, Some(ms(100))).await.unwrap(), 3);
        assert_eq!(wait_for(async { 4 }, None).await.unwrap(), 4);
        let err = wait_for(sleep(FOREVER), Some(ms(2))).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
    })
    .unwrap();
}

// test_waitfor.py: test_wait_for_waits_for_task_cancellation — on a
// time-out the inner task is cancelled, and wait_for returns only once it
// is done (its cleanup ran).
#[test]
fn wait_for_waits_for_the_inner_task_to_finish() {
    run(async {
        let cleaned = flag();
        let c = cleaned.clone();
        let err = wait_for(
            async move {
                let _guard = Guard(c);
                sleep(FOREVER).await;
            },
            Some(ms(2)),
        )
        .await
        .unwrap_err();
        assert!(err.is_timeout());
        assert!(
            cleaned.get(),
            "the inner task was done before wait_for returned"
        );
    })
    .unwrap();
}

// test_waitfor.py: test_wait_for_timeout_less_then_0_or_0 and
// test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started — with a
// zero time-out the inner task runs to its first await, then times out.
#[test]
fn wait_for_zero_runs_to_the_first_await() {
    run(async {
        let started = flag();
        let s = started.clone();
        let err = wait_for(
            async move {
                s.set(true);
                sleep(FOREVER).await;
            },
            Some(Duration::ZERO),
        )
        .await
        .unwrap_err();
        assert!(err.is_timeout() && started.get());
    })
    .unwrap();
}

// test_waitfor.py: test_wait_for_race_condition and
// test_wait_for_cancellation_race_condition — the inner task finishes in
// the same iteration as the deadline passes: its value wins.
#[test]
fn wait_for_inner_finished_meanwhile_wins() {
    run(async {
        // A task done before wait_for hears the clock.
        assert_eq!(
            wait_for(async { 9 }, Some(Duration::ZERO)).await.unwrap(),
            9
        );

        // The inner sleep (1 ms) and the time-out (5 ms) both come due
        // while another task holds the loop; the inner task, due first,
        // finishes in the iteration where the time-out is heard.
        let waiting = create_task(wait_for(
            async {
                sleep(ms(1)).await;
                "inner"
            },
            Some(ms(5)),
        ));
        let busy = create_task(async {
            sleep(Duration::ZERO).await;
            std::thread::sleep(ms(20));
        });
        assert_eq!(waiting.await.unwrap().unwrap(), "inner");
        busy.await.unwrap();
    })
    .unwrap();
}

// test_waitfor.py: test_cancel_wait_for and test_cancel_blocking_wait_for —
// cancelling the task in wait_for cancels the inner task too.
#[test]
fn cancelling_wait_for_cancels_the_inner_task() {
    run(async {
        let cleaned = flag();
        let c = cleaned.clone();
        let outer = create_task(async move {
            wait_for(
                async move {
                    let _guard = Guard(c);
                    sleep(FOREVER).await;
                },
                Some(Duration::from_secs(10)),
            )
            .await
        });
        sleep(Duration::ZERO).await;
        sleep(Duration::ZERO).await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        for _ in 0..1000 {
            if cleaned.get() {
                break;
            }
            sleep(ms(1)).await;
        }
        assert!(cleaned.get());
    })
    .unwrap();
}

// test_waitfor.py: test_wait_for_reraises_exception_during_cancellation —
// a panic of the inner task is its error, not a time-out.
#[test]
fn wait_for_gives_the_inner_failure() {
    run(async {
        let err = wait_for(async { panic!("inner") }, Some(Duration::from_secs(10)))
            .await
            .unwrap_err();
        assert_eq!(err.panic_message(), Some("inner"));
    })
    .unwrap();
}
