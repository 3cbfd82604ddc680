//! A cancel reaches the task being awaited, as Python's `Task.cancel()`
//! cancels the future the task is suspended on (`_fut_waiter`): through a
//! cancelled task, a time-out, a failing TaskGroup and `wait_for`, never
//! through `shield` or a handle dropped in ordinary code.

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use corun::asyncio::{
    Task, TaskGroup, create_task, gather_tasks, run, shield, sleep, timeout, wait_for,
};
use corun::{Error, ErrorKind};

const FOREVER: Duration = Duration::from_secs(3600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sets a flag when dropped: stands for a task's cleanup (Python's
/// `finally`).
struct Guard(Rc<Cell<bool>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

fn flag() -> Rc<Cell<bool>> {
    Rc::new(Cell::new(false))
}

/// A task that sleeps for good, setting `cleaned` when it is dropped.
fn sleeper(cleaned: &Rc<Cell<bool>>) -> Task<()> {
    let c = cleaned.clone();
    create_task(async move {
        let _guard = Guard(c);
        sleep(FOREVER).await;
    })
}

/// Lets the tasks ready now take a step.
async fn run_briefly() {
    sleep(Duration::ZERO).await;
    sleep(Duration::ZERO).await;
}

// test_tasks.py: test_task_cancel_waiter_future — cancelling a task that
// awaits another task cancels that task too, and the outer task is done
// only once the inner one is (its cleanup ran first).
#[test]
fn cancelling_a_task_cancels_the_task_it_awaits() {
    run(async {
        let cleaned = flag();
        let inner = sleeper(&cleaned);
        let waiting = inner.clone();
        let outer = create_task(waiting);
        run_briefly().await;
        assert!(outer.cancel());
        let seen = cleaned.clone();
        let inner_seen = inner.clone();
        outer.add_done_callback(move |_| {
            assert!(seen.get() && inner_seen.done(), "inner done first");
        });
        assert!(outer.await.unwrap_err().is_cancelled());
        assert!(inner.cancelled());
        assert!(cleaned.get());
    })
    .unwrap();
}

// test_tasks.py: test_cancel_inner_future — cancelling the awaited task
// shows through the await as Cancelled (corun: the awaiting task gets the
// error as a value; it is not cancelled itself).
#[test]
fn cancelling_the_inner_task_shows_through_the_await() {
    run(async {
        let cleaned = flag();
        let inner = sleeper(&cleaned);
        let waiting = inner.clone();
        let outer = create_task(async move { waiting.await.map(|()| 12) });
        run_briefly().await;
        inner.cancel();
        let got = outer.await.unwrap();
        assert!(got.unwrap_err().is_cancelled());
        assert!(inner.cancelled() && cleaned.get());
    })
    .unwrap();
}

// test_tasks.py: test_cancel_both_task_and_inner_future — both cancelled
// in the same iteration: both end cancelled.
#[test]
fn cancelling_both_task_and_inner_task() {
    run(async {
        let cleaned = flag();
        let inner = sleeper(&cleaned);
        let waiting = inner.clone();
        let outer = create_task(async move { waiting.await.map(|()| 12) });
        run_briefly().await;
        inner.cancel();
        outer.cancel();
        assert!(outer.clone().await.unwrap_err().is_cancelled());
        assert!(outer.cancelled() && inner.cancelled() && cleaned.get());
    })
    .unwrap();
}

// test_tasks.py: test_cancel_task_catching-like chains — a cancel goes
// down a chain of awaits (outer → middle → inner) and every task ends
// cancelled, innermost first.
#[test]
fn a_cancel_goes_down_a_chain_of_awaits() {
    run(async {
        let cleaned = flag();
        let inner = sleeper(&cleaned);
        let i = inner.clone();
        let middle = create_task(i);
        let m = middle.clone();
        let outer = create_task(m);
        run_briefly().await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        assert!(middle.done() && inner.done(), "done before the outer task");
        assert!(middle.cancelled() && inner.cancelled() && cleaned.get());
    })
    .unwrap();
}

// test_waitfor.py: test_wait_for_timeout_less_then_0_or_0 (with a task,
// as there: `fut = asyncio.create_task(foo())`) — when wait_for on a task
// times out, the task is cancelled and done (its cleanup ran) before
// wait_for returns.
#[test]
fn wait_for_a_task_cancels_it_on_timeout() {
    run(async {
        for limit in [Duration::ZERO, ms(2)] {
            let cleaned = flag();
            let task = sleeper(&cleaned);
            run_briefly().await; // started
            let err = wait_for(task.clone(), Some(limit)).await.unwrap_err();
            assert!(err.is_timeout());
            assert!(task.done() && task.cancelled(), "{limit:?}");
            assert!(cleaned.get());
        }
    })
    .unwrap();
}

// test_timeouts.py: test_timeout_basic with a task awaited in the body —
// Python's timeout cancels the current task, which cancels the task it
// awaits; corun drops the body, and the awaited task is cancelled and done
// when the time-out is given.
#[test]
fn a_timeout_cancels_the_task_its_body_awaits() {
    run(async {
        let cleaned = flag();
        let inner = sleeper(&cleaned);
        let i = inner.clone();
        let err = timeout(Some(ms(2))).run(i).await.unwrap_err();
        assert!(err.is_timeout());
        assert!(inner.cancelled() && cleaned.get());
    })
    .unwrap();
}

// test_taskgroups.py: test_taskgroup_04-like — the body awaits a task from
// outside the group when a child fails: the body is cancelled, and so is
// the task it awaits.
#[test]
fn a_failing_task_group_cancels_the_task_its_body_awaits() {
    run(async {
        let cleaned = flag();
        let outside = sleeper(&cleaned);
        let o = outside.clone();
        let tg = TaskGroup::new();
        let err = tg
            .run(async {
                let _failing = tg.create_task(async {
                    sleep(ms(1)).await;
                    Err::<(), _>(Error::new(ErrorKind::InvalidArgument, "bad"))
                })?;
                o.await?;
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Group);
        assert!(outside.cancelled() && cleaned.get());
    })
    .unwrap();
}

// test_tasks.py: test_shield_cancel_outer, with a task given to shield —
// cancelling the task that awaits the shield leaves the shielded task
// running to its result.
#[test]
fn shield_still_shields_an_awaited_task() {
    run(async {
        let cleaned = flag();
        let inner = create_task(async {
            sleep(ms(2)).await;
            "saved"
        });
        let shielded = shield(inner.clone());
        let wrapper = shielded.task().clone();
        let outer = create_task(shielded);
        run_briefly().await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        assert_eq!(wrapper.await.unwrap().unwrap(), "saved");
        assert!(!inner.cancelled());

        // The same through a shield's own task.
        let shielded = shield(sleeper(&cleaned));
        let behind = shielded.task().clone();
        let outer = create_task(shielded);
        run_briefly().await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        assert!(!behind.done() && !cleaned.get(), "still running");
        behind.cancel();
    })
    .unwrap();
}

// The documented rule (not in CPython, whose futures have no owner): a
// handle dropped in ordinary code never stops its task — neither a plain
// drop nor a select-like future that polled the handle and lets it go.
#[test]
fn a_handle_dropped_in_ordinary_code_does_not_cancel() {
    run(async {
        let cleaned = flag();
        drop(sleeper(&cleaned));
        let task = sleeper(&cleaned);
        let watched = task.clone();
        let mut handle = Some(task);
        // Polls the handle once (it registers its waker), then drops it.
        let polled = poll_fn(|cx| {
            let mut h = handle.take().unwrap();
            assert!(Pin::new(&mut h).poll(cx).is_pending());
            drop(h);
            Poll::Ready(())
        });
        polled.await;
        run_briefly().await;
        assert!(!watched.done() && !cleaned.get());
        watched.cancel();
    })
    .unwrap();
}

// A task cancelled while it awaits a gather of tasks: gather cancels its
// children as before (test_tasks.py: test_gather_cancel-like), and the
// children handles it holds were never awaited through `poll`.
#[test]
fn gather_keeps_its_cancel_rules() {
    run(async {
        let cleaned = flag();
        let child = sleeper(&cleaned);
        let outer = create_task(gather_tasks([child.clone()]));
        run_briefly().await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        run_briefly().await;
        assert!(child.cancelled() && cleaned.get());
    })
    .unwrap();
}

// Two tasks awaiting each other cannot hold each other up: a cancel of one
// ends both.
#[test]
fn tasks_awaiting_each_other_both_end_on_cancel() {
    run(async {
        let slot: Rc<Cell<Option<Task<()>>>> = Rc::new(Cell::new(None));
        let s = slot.clone();
        let a = create_task(async move {
            sleep(Duration::ZERO).await;
            let b = s.take().unwrap();
            let _ = b.await;
        });
        let a2 = a.clone();
        let b = create_task(async move {
            let _ = a2.await;
        });
        slot.set(Some(b.clone()));
        run_briefly().await;
        a.cancel();
        assert!(a.clone().await.unwrap_err().is_cancelled());
        let _ = b.clone().await;
        assert!(a.done() && b.done());
    })
    .unwrap();
}

/// A child that awaits a sleeping grandchild: cancelling the child takes
/// one more step (its cancel reaches the grandchild, and the child ends
/// after it), which is what the owner of the child must wait for.
fn parent_of_sleeper(cleaned: &Rc<Cell<bool>>) -> (Task<()>, Task<()>) {
    let grandchild = sleeper(cleaned);
    let g = grandchild.clone();
    let child = create_task(async move {
        g.await.unwrap();
    });
    (child, grandchild)
}

// test_tasks.py: test_cancel_gather_2 — cancelling the task that awaits a
// gather cancels the gather's children, and that task ends only after
// they (and what they awaited) have ended.
#[test]
fn a_cancelled_gather_ends_after_its_children() {
    run(async {
        let cleaned = flag();
        let (child, grandchild) = parent_of_sleeper(&cleaned);
        let outer = create_task(gather_tasks([child.clone()]));
        run_briefly().await;
        assert!(outer.cancel());
        let (c, g, seen) = (child.clone(), grandchild.clone(), cleaned.clone());
        outer.add_done_callback(move |_| {
            assert!(
                c.cancelled() && g.cancelled() && seen.get(),
                "children first"
            );
        });
        assert!(outer.await.unwrap_err().is_cancelled());
        assert!(child.cancelled() && grandchild.cancelled() && cleaned.get());
    })
    .unwrap();
}

// test_waitfor.py: test_cancel_wait_for — cancelling the task that awaits
// `wait_for` cancels the inner task and ends after it.
#[test]
fn a_cancelled_wait_for_ends_after_its_inner_task() {
    run(async {
        let cleaned = flag();
        let (child, grandchild) = parent_of_sleeper(&cleaned);
        let c = child.clone();
        let outer = create_task(async move { wait_for(c, Some(FOREVER)).await });
        run_briefly().await;
        assert!(outer.cancel());
        let (g, seen) = (grandchild.clone(), cleaned.clone());
        outer.add_done_callback(move |_| {
            assert!(g.cancelled() && seen.get(), "the inner task first");
        });
        assert!(outer.await.unwrap_err().is_cancelled());
        assert!(child.cancelled() && grandchild.cancelled());
    })
    .unwrap();
}

// A gather dropped in ordinary code (not by a cancel) still cancels its
// children, without waiting for them.
#[test]
fn a_gather_dropped_in_ordinary_code_cancels_its_children() {
    run(async {
        let cleaned = flag();
        let child = sleeper(&cleaned);
        let gather = gather_tasks([child.clone()]);
        run_briefly().await; // the child is suspended in its sleep
        drop(gather);
        run_briefly().await;
        assert!(child.cancelled() && cleaned.get());
    })
    .unwrap();
}
