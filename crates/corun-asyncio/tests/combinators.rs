//! gather, wait, as_completed and shield: results in order, failures that
//! do not cancel siblings, cancels that reach the children, time-outs that
//! cancel nothing.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use corun::ErrorKind;
use corun::asyncio::{
    AnyTask, Event, EventLoop, ExceptionContext, ReturnWhen, Task, as_completed, create_task,
    gather, gather_tasks, run, shield, sleep, wait,
};
use futures_core::Stream;

const FOREVER: Duration = Duration::from_secs(3600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sets a flag when dropped: stands for a task's cleanup (Python's
/// `except CancelledError` / `finally`).
struct Guard(Rc<Cell<bool>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

fn flag() -> Rc<Cell<bool>> {
    Rc::new(Cell::new(false))
}

/// A task that sleeps `delay` and then returns `value`.
fn after(delay: Duration, value: u64) -> Task<u64> {
    create_task(async move {
        sleep(delay).await;
        value
    })
}

/// A task that sleeps for good, setting `dropped` when it is cancelled.
fn sleeper(dropped: &Rc<Cell<bool>>) -> Task<()> {
    let guard = Guard(dropped.clone());
    create_task(async move {
        let _guard = guard;
        sleep(FOREVER).await;
    })
}

/// The next item of a stream.
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// Runs `future` on a loop whose exception handler records each report.
fn run_recording<T: 'static>(
    future: impl std::future::Future<Output = T> + 'static,
) -> (T, Vec<String>) {
    let event_loop = EventLoop::new().unwrap();
    let reports = Rc::new(RefCell::new(Vec::new()));
    let r = reports.clone();
    event_loop.set_exception_handler(move |ctx: &ExceptionContext| {
        r.borrow_mut().push(ctx.to_string());
    });
    let out = event_loop.run_until_complete(future).unwrap();
    event_loop.close().unwrap();
    let reports = reports.borrow().clone();
    (out, reports)
}

// test_tasks.py: FutureGatherTests.test_result — the children finish in the
// reverse order of the input; the values come back in input order.
#[test]
fn gather_returns_results_in_input_order() {
    let values = run(async {
        gather([3u64, 2, 1].map(|n| async move {
            sleep(ms(n)).await;
            n
        }))
        .await
    })
    .unwrap()
    .unwrap();
    assert_eq!(values, [3, 2, 1]);
}

// test_tasks.py: FutureGatherTests.test_constructor_empty_sequence —
// gather of nothing is an empty list, at once.
#[test]
fn gather_of_nothing_is_empty() {
    let values = run(async { gather(Vec::<std::future::Ready<u8>>::new()).await }).unwrap();
    assert!(values.unwrap().is_empty());
}

// test_tasks.py: FutureGatherTests.test_one_exception and
// CoroutineGatherTests.test_exception_marking — the first failure comes
// back at once, the siblings are not cancelled and finish, and their later
// failures are marked retrieved (the loop reports nothing at close).
#[test]
fn gather_failure_does_not_cancel_siblings() {
    let ((err, sibling, late), reports) = run_recording(async {
        // The siblings wait on a gate opened only after the gather
        // returned, so no timing decides which child ends first.
        let gate = Rc::new(Event::new());
        let g = gate.clone();
        let sibling = create_task(async move {
            g.wait().await;
            7
        });
        let g = gate.clone();
        let late = create_task(async move {
            g.wait().await;
            sleep(Duration::ZERO).await;
            panic!("late");
        });
        let failing: Task<u64> = create_task(async {
            sleep(ms(1)).await;
            panic!("first");
        });
        let err = gather_tasks([sibling.clone(), failing, late.clone()])
            .await
            .unwrap_err();
        assert!(!sibling.done(), "the gather returned at the first failure");
        gate.set();
        poll_until(|| late.done()).await;
        (err, sibling.await, late)
    });
    assert_eq!(err.panic_message(), Some("first"));
    assert_eq!(sibling.unwrap(), 7);
    assert!(!late.cancelled());
    assert!(reports.is_empty(), "{reports:?}");
}

// test_tasks.py: FutureGatherTests.test_return_exceptions — every outcome
// in its place: values, a panic (which fails only its own child), a
// cancelled child.
#[test]
fn gather_return_exceptions_gives_every_outcome_in_place() {
    let results = run(async {
        let ok = after(ms(2), 1);
        let panics: Task<u64> = create_task(async { panic!("bad") });
        let cancelled = after(FOREVER, 3);
        let results = gather_tasks([ok, panics, cancelled.clone()]).return_exceptions();
        sleep(Duration::ZERO).await;
        cancelled.cancel();
        results.await
    })
    .unwrap();
    assert_eq!(*results[0].as_ref().unwrap(), 1);
    assert_eq!(
        results[1].as_ref().unwrap_err().panic_message(),
        Some("bad")
    );
    assert!(results[2].as_ref().unwrap_err().is_cancelled());
}

// test_tasks.py: FutureGatherTests.test_one_cancellation — a child
// cancelled from elsewhere fails the gather with Cancelled; the task
// awaiting the gather is not cancelled, and the other child goes on.
#[test]
fn gather_child_cancelled_fails_the_gather_only() {
    let (err, other) = run(async {
        let victim = after(FOREVER, 1);
        let other = after(ms(2), 2);
        let g = gather_tasks([victim.clone(), other.clone()]);
        victim.cancel();
        let err = g.await.unwrap_err();
        (err, other.await)
    })
    .unwrap();
    assert!(err.is_cancelled());
    assert_eq!(other.unwrap(), 2);
}

// test_tasks.py: CoroutineGatherTests.test_cancellation_broadcast —
// cancelling the task that awaits the gather cancels every child (their
// cleanup runs) and the task ends cancelled.
#[test]
fn cancelling_the_gather_cancels_its_children() {
    let (a, b) = (flag(), flag());
    let (a2, b2) = (a.clone(), b.clone());
    let (outcome, children) = run(async move {
        let children = Rc::new(RefCell::new(Vec::<AnyTask>::new()));
        let c = children.clone();
        let parent = create_task(async move {
            let g = gather_tasks([sleeper(&a2), sleeper(&b2)]);
            c.borrow_mut().extend(g.tasks().iter().map(Task::as_any));
            g.await
        });
        sleep(Duration::ZERO).await;
        sleep(Duration::ZERO).await;
        assert!(parent.cancel());
        let outcome = parent.await;
        let children = children.borrow().clone();
        for child in &children {
            poll_until(|| child.done()).await;
        }
        (outcome, children)
    })
    .unwrap();
    assert!(outcome.unwrap_err().is_cancelled());
    assert!(children.iter().all(AnyTask::cancelled));
    assert!(a.get() && b.get());
}

// test_tasks.py: FutureGatherTests.test_cancel_gather_1 (the gather
// dropped before it is done is the gather cancelled) — its children are
// cancelled; a gather that is done cancels nothing when dropped.
#[test]
fn dropping_a_gather_cancels_only_while_pending() {
    run(async {
        let dropped = flag();
        let child = sleeper(&dropped);
        drop(gather_tasks([child.clone()]));
        let err = child.await.unwrap_err();
        assert!(err.is_cancelled() && dropped.get());

        let slow = after(ms(5), 1);
        let failing: Task<u64> = create_task(async { panic!("x") });
        let mut g = gather_tasks([slow.clone(), failing]);
        assert!((&mut g).await.is_err());
        drop(g);
        assert_eq!(slow.await.unwrap(), 1);
    })
    .unwrap();
}

// test_tasks.py: test_wait — ALL_COMPLETED waits for every task and gives
// them back done, in input order.
#[test]
fn wait_all_completed() {
    let (done, pending) = run(async {
        let (done, pending) = wait(
            [after(ms(2), 1), after(ms(1), 2)],
            ReturnWhen::AllCompleted,
            None,
        )
        .await
        .unwrap();
        let mut values = Vec::new();
        for t in done {
            values.push(t.await.unwrap());
        }
        (values, pending.len())
    })
    .unwrap();
    assert_eq!(done, [1, 2]);
    assert_eq!(pending, 0);
}

// test_tasks.py: test_wait_first_completed — returns once one is done; the
// other is left pending and not cancelled.
#[test]
fn wait_first_completed() {
    run(async {
        let quick = after(ms(1), 1);
        let slow = after(FOREVER, 2);
        let (done, pending) = wait(
            [slow.clone(), quick.clone()],
            ReturnWhen::FirstCompleted,
            None,
        )
        .await
        .unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].as_any(), quick.as_any());
        assert_eq!(pending[0].as_any(), slow.as_any());
        assert!(!slow.done() && slow.cancelling() == 0);
        slow.cancel();
    })
    .unwrap();
}

// test_tasks.py: test_wait_first_exception — returns at the first failure
// (a panic), leaving the others pending; a cancelled task is no failure
// (test_wait_first_exception_in_wait for the waiting part).
#[test]
fn wait_first_exception() {
    run(async {
        let slow = after(FOREVER, 1);
        let cancelled = after(FOREVER, 2);
        let failing: Task<u64> = create_task(async {
            sleep(ms(2)).await;
            panic!("boom");
        });
        let waiting = create_task(wait(
            [slow.clone(), cancelled.clone(), failing.clone()],
            ReturnWhen::FirstException,
            None,
        ));
        sleep(Duration::ZERO).await;
        cancelled.cancel();
        let (done, pending) = waiting.await.unwrap().unwrap();
        assert_eq!(done.len(), 2);
        assert!(done.iter().any(|t| t.as_any() == failing.as_any()));
        assert!(done.iter().any(|t| t.as_any() == cancelled.as_any()));
        assert_eq!(pending.len(), 1);
        assert_eq!(failing.await.unwrap_err().panic_message(), Some("boom"));
        slow.cancel();
    })
    .unwrap();
}

// test_tasks.py: test_wait_with_timeout — the time-out returns what is done
// and what is pending; nothing is cancelled and no error is raised.
#[test]
fn wait_timeout_leaves_tasks_pending() {
    run(async {
        let quick = after(ms(1), 1);
        let slow = after(FOREVER, 2);
        let (done, pending) = wait(
            [quick.as_any(), slow.as_any()],
            ReturnWhen::AllCompleted,
            Some(ms(10)),
        )
        .await
        .unwrap();
        assert_eq!(done, [quick.as_any()]);
        assert_eq!(pending, [slow.as_any()]);
        assert!(!slow.done() && slow.cancelling() == 0);
        slow.cancel();
    })
    .unwrap();
}

// test_tasks.py: test_wait_errors — an empty set is an error (ValueError);
// test_wait_duplicate_coroutines — a task given twice counts once.
#[test]
fn wait_refuses_nothing_and_counts_repeats_once() {
    run(async {
        let err = wait(Vec::<AnyTask>::new(), ReturnWhen::AllCompleted, None)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        let t = after(ms(1), 1);
        let (done, pending) = wait([t.clone(), t.clone()], ReturnWhen::AllCompleted, None)
            .await
            .unwrap();
        assert_eq!((done.len(), pending.len()), (1, 0));
    })
    .unwrap();
}

// test_tasks.py: test_as_completed — tasks come in the order they finish,
// those done already first.
#[test]
fn as_completed_yields_in_completion_order() {
    let order = run(async {
        let done_already = after(Duration::ZERO, 0);
        sleep(Duration::ZERO).await;
        sleep(Duration::ZERO).await;
        assert!(done_already.done());
        let tasks = vec![
            after(ms(3), 3),
            after(ms(1), 1),
            done_already,
            after(ms(2), 2),
        ];
        let mut stream = as_completed(tasks, None);
        assert_eq!(stream.remaining(), 4);
        let mut order = Vec::new();
        while let Some(task) = next(&mut stream).await {
            order.push(task.unwrap().await.unwrap());
        }
        order
    })
    .unwrap();
    assert_eq!(order, [0, 1, 2, 3]);
}

// test_tasks.py: test_as_completed_with_timeout — after the time-out the
// stream gives one Timeout error and ends; the tasks left go on.
#[test]
fn as_completed_timeout_then_ends() {
    run(async {
        let quick = after(ms(1), 1);
        let slow = after(FOREVER, 2);
        let mut stream = as_completed([quick, slow.clone()], Some(ms(10)));
        assert_eq!(next(&mut stream).await.unwrap().unwrap().await.unwrap(), 1);
        let err = next(&mut stream).await.unwrap().unwrap_err();
        assert!(err.is_timeout());
        assert!(next(&mut stream).await.is_none());
        assert!(!slow.done() && slow.cancelling() == 0);
        slow.cancel();
    })
    .unwrap();
}

// test_tasks.py: test_as_completed_duplicate_coroutines — a task given
// twice comes once.
#[test]
fn as_completed_counts_repeats_once() {
    run(async {
        let t = after(ms(1), 1);
        let mut stream = as_completed([t.clone(), t], None);
        assert!(next(&mut stream).await.unwrap().is_ok());
        assert!(next(&mut stream).await.is_none());
    })
    .unwrap();
}

// test_tasks.py: test_shield_cancel_outer — cancelling the task that
// awaits a shield leaves the inner task running to its result.
#[test]
fn shield_outer_cancel_leaves_inner_running() {
    let value = run(async {
        let shielded = shield(async {
            sleep(ms(2)).await;
            42
        });
        let inner = shielded.task().clone();
        let outer = create_task(shielded);
        sleep(Duration::ZERO).await;
        assert!(outer.cancel());
        assert!(outer.await.unwrap_err().is_cancelled());
        assert!(!inner.done() && inner.cancelling() == 0);
        inner.await
    })
    .unwrap();
    assert_eq!(value.unwrap(), 42);
}

// test_tasks.py: test_shield_cancel_inner — cancelling the inner task
// shows through the shield as Cancelled; test_shield_result and
// test_shield_exception — a value or a failure passes through.
#[test]
fn shield_passes_inner_outcomes_through() {
    run(async {
        let s = shield(sleep(FOREVER));
        sleep(Duration::ZERO).await;
        s.task().cancel();
        assert!(s.await.unwrap_err().is_cancelled());
        assert_eq!(shield(async { 5 }).await.unwrap(), 5);
        let err = shield(async { panic!("inner") }).await.unwrap_err();
        assert_eq!(err.panic_message(), Some("inner"));
    })
    .unwrap();
}

// Not in CPython: a panicking child of a gather fails only itself; its
// siblings finish, and the gather with return_exceptions has them all.
#[test]
fn a_panicking_child_fails_only_itself() {
    let results = run(async {
        gather([1u64, 2, 3].map(|n| async move {
            sleep(ms(n)).await;
            assert!(n != 2, "child {n} panics");
            n
        }))
        .return_exceptions()
        .await
    })
    .unwrap();
    assert_eq!(*results[0].as_ref().unwrap(), 1);
    assert_eq!(
        results[1].as_ref().unwrap_err().panic_message(),
        Some("child 2 panics")
    );
    assert_eq!(*results[2].as_ref().unwrap(), 3);
}

/// Yields until `done()` holds (each turn lets every ready task run once).
async fn poll_until(done: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        sleep(ms(1)).await;
    }
    panic!("condition not met in time");
}

// Every public type of the combinators is Debug.
#[test]
fn combinator_types_are_debug() {
    fn assert_debug<T: std::fmt::Debug>() {}
    assert_debug::<corun::asyncio::Gather<i32>>();
    assert_debug::<corun::asyncio::GatherResults<i32>>();
    assert_debug::<corun::asyncio::AsCompleted<Task<i32>>>();
    assert_debug::<corun::asyncio::AsCompleted<AnyTask>>();
    assert_debug::<ReturnWhen>();
    assert_debug::<corun::asyncio::Timeout>();
    assert_debug::<corun::asyncio::Shield<i32>>();
    assert_debug::<corun::asyncio::TaskGroup>();
}
