//! Tasks: turn-taking order, cancellation while running, cancel counts,
//! failures, done-callbacks, and what the loop reports at close.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use corun::ErrorKind;
use corun::asyncio::{
    EventLoop, ExceptionContext, Task, all_tasks, create_task, create_task_named, current_task,
    run, sleep,
};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

/// Sets a flag when dropped: stands for a task's cleanup.
struct Guard(Rc<Cell<bool>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

// The seed chapter's "tasks take turns" example (and CPython test_tasks.py
// `test_sleep` with delay 0): three tasks each record (name, i) and
// `sleep(0)`; they interleave exactly as in Python, A0 B0 C0 A1 B1 C1 ….
#[test]
fn tasks_take_turns_in_fifo_order() {
    let order = log();
    let o = order.clone();
    run(async move {
        let tasks: Vec<Task<()>> = ["A", "B", "C"]
            .into_iter()
            .map(|name| {
                let o = o.clone();
                create_task_named(name, async move {
                    for i in 0..3 {
                        o.borrow_mut().push(format!("{name}{i}"));
                        sleep(Duration::ZERO).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    })
    .unwrap();
    assert_eq!(
        *order.borrow(),
        ["A0", "B0", "C0", "A1", "B1", "C1", "A2", "B2", "C2"]
    );
}

// Ports CPython test_tasks.py `test_cancel` and `test_cancel_yield`: a task
// suspended in `sleep` is cancelled; it is dropped at its await point (its
// cleanup runs), awaiting it gives Cancelled, and it cannot be cancelled
// again.
#[test]
fn cancel_a_running_task_drops_it_at_its_await_point() {
    let cleaned = Rc::new(Cell::new(false));
    let reached_end = Rc::new(Cell::new(false));
    let (c, r) = (cleaned.clone(), reached_end.clone());
    let (err, task) = run(async move {
        let task = create_task(async move {
            let _guard = Guard(c);
            sleep(Duration::from_secs(3600)).await;
            r.set(true);
            12
        });
        sleep(Duration::ZERO).await; // the task starts and suspends
        assert!(!task.done());
        assert!(task.cancel());
        assert!(!task.cancelled(), "cancelled only once its step ran");
        let err = task.clone().await.unwrap_err();
        (err, task)
    })
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(cleaned.get(), "the task's Drop guard ran");
    assert!(!reached_end.get());
    assert!(task.done() && task.cancelled());
    assert!(!task.cancel(), "a done task cannot be cancelled");
    assert_eq!(task.result().unwrap_err().kind(), ErrorKind::Cancelled);
    assert_eq!(task.exception().unwrap_err().kind(), ErrorKind::Cancelled);
}

// A task cancelled before its first step never runs (Task.__step throws
// CancelledError into the coroutine before it starts).
#[test]
fn cancel_before_start_never_runs() {
    let event_loop = EventLoop::new().unwrap();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let task = event_loop.create_task(async move { r.set(true) });
    assert!(task.cancel());
    let err = event_loop
        .run_until_complete(task.clone())
        .unwrap()
        .unwrap_err();
    assert!(err.is_cancelled());
    assert!(!ran.get());
    assert!(task.cancelled());
}

// Ports CPython test_tasks.py `test_uncancel_basic` and the cancelling()
// counter: requests are counted; uncancel takes one back; with none left
// before the cancel is delivered, the task goes on undisturbed.
#[test]
fn cancelling_counts_and_uncancel_withdraws() {
    let event_loop = EventLoop::new().unwrap();
    let counts = event_loop
        .run_until_complete(async {
            let sleeper = create_task(sleep(Duration::from_secs(3600)));
            sleep(Duration::ZERO).await;
            sleeper.cancel();
            sleeper.cancel();
            let two = sleeper.cancelling();
            let one = sleeper.uncancel();
            let err = sleeper.clone().await.unwrap_err();

            let worker = create_task(async {
                sleep(Duration::ZERO).await;
                5
            });
            sleep(Duration::ZERO).await;
            worker.cancel();
            let zero = worker.uncancel();
            let value = worker.clone().await.unwrap();
            (two, one, err.kind(), zero, value, worker.cancelled())
        })
        .unwrap();
    assert_eq!(counts, (2, 1, ErrorKind::Cancelled, 0, 5, false));
}

// A task that cancels itself stops at its next await (CPython test_tasks.py
// `test_cancel_current_task`).
#[test]
fn a_task_can_cancel_itself() {
    let event_loop = EventLoop::new().unwrap();
    let after = Rc::new(Cell::new(false));
    let a = after.clone();
    let task = event_loop.create_task(async move {
        let me = current_task().unwrap();
        assert!(me.cancel());
        sleep(Duration::ZERO).await;
        a.set(true);
    });
    let err = event_loop.run_until_complete(task).unwrap().unwrap_err();
    assert!(err.is_cancelled());
    assert!(!after.get());
}

// A panicking task fails only itself: its sibling finishes, the loop goes
// on, and awaiting the failed task gives the panic as an error.
#[test]
fn a_panicking_task_fails_only_itself() {
    let (bad, good) = run(async {
        let bad = create_task(async {
            sleep(Duration::ZERO).await;
            panic!("task blew up");
        });
        let good = create_task(async {
            sleep(Duration::ZERO).await;
            sleep(Duration::ZERO).await;
            "fine"
        });
        (bad.await, good.await)
    })
    .unwrap();
    let bad: Result<(), _> = bad;
    let err = bad.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panicked);
    assert_eq!(err.panic_message(), Some("task blew up"));
    assert_eq!(good.unwrap(), "fine");
}

// Beyond Python (which logs "Task exception was never retrieved" only when
// the task is garbage-collected, python/asyncio#397): at close, exactly the
// failures nobody retrieved are reported to the exception handler.
#[test]
fn unretrieved_failures_are_reported_at_close() {
    let event_loop = EventLoop::new().unwrap();
    let seen = log();
    let s = seen.clone();
    event_loop.set_exception_handler(move |ctx: &ExceptionContext| {
        s.borrow_mut().push(format!(
            "{}|{}|{}",
            ctx.message(),
            ctx.task().unwrap().get_name(),
            ctx.error().unwrap().panic_message().unwrap()
        ));
    });
    event_loop
        .run_until_complete(async {
            let _lost: Task<()> = create_task_named("lost", async { panic!("nobody looked") });
            let seen: Task<()> = create_task_named("seen", async { panic!("looked at") });
            let awaited: Task<()> = create_task_named("awaited", async { panic!("awaited") });
            sleep(Duration::ZERO).await;
            assert!(seen.exception().unwrap().is_some());
            assert!(awaited.await.is_err());
        })
        .unwrap();
    assert!(seen.borrow().is_empty(), "nothing is reported before close");
    event_loop.close().unwrap();
    assert_eq!(
        *seen.borrow(),
        ["Task exception was never retrieved|lost|nobody looked"]
    );
}

// Ports CPython test_futures.py `test_callbacks_invoked_on_set_result`
// (['after set_result', 'cb1', 'cb2']): done-callbacks are scheduled with
// call_soon in registration order, never called inline; one added to a
// done task is scheduled at once.
#[test]
fn done_callbacks_run_soon_in_registration_order() {
    let event_loop = EventLoop::new().unwrap();
    let order = log();
    let task = event_loop.create_task(async { 1 });
    for name in ["cb1", "cb2"] {
        let o = order.clone();
        task.add_done_callback(move |t| {
            o.borrow_mut()
                .push(format!("{name}:{}", t.result().unwrap()))
        });
    }
    let o = order.clone();
    event_loop.call_soon(move || o.borrow_mut().push("after completion".into()));
    let lp = event_loop.clone();
    task.as_any().add_done_callback(move |_| lp.stop());
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["after completion", "cb1:1", "cb2:1"]);
    let o = order.clone();
    task.add_done_callback(move |_| o.borrow_mut().push("late".into()));
    assert_eq!(order.borrow().len(), 3, "not called inline");
    event_loop.stop();
    event_loop.run_forever().unwrap();
    assert_eq!(order.borrow().last().unwrap(), "late");
}

// Ports CPython test_tasks.py `test_current_task` and the all_tasks tests:
// the running task is current; all_tasks lists those not done.
#[test]
fn current_task_and_all_tasks() {
    assert!(current_task().is_none());
    let event_loop = EventLoop::new().unwrap();
    let main = event_loop.create_task_named("main", async {
        let me = current_task().unwrap();
        let other = create_task_named("other", sleep(Duration::from_millis(1)));
        let names: Vec<_> = all_tasks().iter().map(|t| t.get_name()).collect();
        other.await.unwrap();
        let after: Vec<_> = all_tasks().iter().map(|t| t.get_name()).collect();
        (me.get_name(), names, after)
    });
    let lp = event_loop.clone();
    main.as_any().add_done_callback(move |_| lp.stop());
    event_loop.run_forever().unwrap();
    let (me, names, after) = main.result().unwrap();
    assert_eq!(me, "main");
    assert_eq!(names, ["main", "other"]);
    assert!(after.contains(&"main".to_owned()) && !after.contains(&"other".to_owned()));
    assert!(event_loop.all_tasks().is_empty());
    main.set_name("renamed");
    assert_eq!(main.get_name(), "renamed");
}

// all_tasks stays in creation order when a finished task's place in the
// loop's table is reused by a newer task, and a cancel of the finished task
// does not reach the one now in its place.
#[test]
fn all_tasks_in_creation_order_after_reuse() {
    let (names, d_cancelled) = run(async {
        let hour = Duration::from_secs(3600);
        let a = create_task_named("a", sleep(hour));
        let b = create_task_named("b", async {});
        let c = create_task_named("c", sleep(hour));
        b.clone().await.unwrap();
        let d = create_task_named("d", sleep(hour));
        let names: Vec<_> = all_tasks().iter().map(|t| t.get_name()).collect();
        assert!(!b.cancel(), "b is done");
        sleep(Duration::ZERO).await;
        let d_cancelled = d.cancelling() > 0 || d.done();
        for t in [&a, &c, &d] {
            t.cancel();
        }
        (names, d_cancelled)
    })
    .unwrap();
    assert_eq!(names[1..], ["a", "c", "d"]);
    assert!(
        names[0].starts_with("Task-"),
        "the main task first: {names:?}"
    );
    assert!(!d_cancelled);
}

// result() before the task is done is InvalidState (Python's
// InvalidStateError); after an await moved the value out, AlreadyTaken.
#[test]
fn result_states() {
    let event_loop = EventLoop::new().unwrap();
    let task = event_loop.create_task(async { String::from("v") });
    assert_eq!(task.result().unwrap_err().kind(), ErrorKind::InvalidState);
    assert_eq!(
        task.exception().unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    let moved = event_loop
        .run_until_complete(task.clone())
        .unwrap()
        .unwrap();
    assert_eq!(moved, "v");
    assert!(task.exception().unwrap().is_none());
    assert_eq!(task.result().unwrap_err().kind(), ErrorKind::AlreadyTaken);
}

// A task awaiting itself gets an error at once instead of hanging (Python:
// RuntimeError "Task cannot await on itself").
#[test]
fn a_task_awaiting_itself_is_an_error() {
    let event_loop = EventLoop::new().unwrap();
    let slot: Rc<RefCell<Option<Task<i32>>>> = Rc::default();
    let s = slot.clone();
    let task = event_loop.create_task(async move {
        let me = s.borrow_mut().take().unwrap();
        match me.await {
            Err(e) if e.kind() == ErrorKind::Deadlock => 1,
            _ => 0,
        }
    });
    *slot.borrow_mut() = Some(task.clone());
    assert_eq!(event_loop.run_until_complete(task).unwrap().unwrap(), 1);
}

// The loop holds every task until it is done: a task whose handle was
// dropped at once still runs to the end.
#[test]
fn a_task_whose_handle_is_dropped_still_runs() {
    let done = Rc::new(Cell::new(false));
    let d = done.clone();
    run(async move {
        drop(create_task(async move {
            std::future::pending::<()>().await; // no waker kept anywhere
        }));
        let d2 = d.clone();
        drop(create_task(async move {
            sleep(Duration::from_millis(1)).await;
            d2.set(true);
        }));
        sleep(Duration::from_millis(5)).await;
        assert_eq!(all_tasks().len(), 2, "this task and the pending one");
    })
    .unwrap();
    assert!(done.get());
}

// close() drops the tasks still pending at their await point (their
// cleanup runs), resolves them as cancelled, and in debug mode reports
// each ("Task was destroyed but it is pending!").
#[test]
fn close_drops_pending_tasks_and_reports_them_in_debug_mode() {
    let event_loop = EventLoop::new().unwrap();
    event_loop.set_debug(true);
    let seen = log();
    let s = seen.clone();
    event_loop.set_exception_handler(move |ctx: &ExceptionContext| {
        s.borrow_mut().push(format!(
            "{}|{}",
            ctx.message(),
            ctx.task().unwrap().get_name()
        ));
    });
    let cleaned = Rc::new(Cell::new(false));
    let c = cleaned.clone();
    let stuck = event_loop.create_task_named("stuck", async move {
        let _guard = Guard(c);
        std::future::pending::<()>().await;
    });
    event_loop.stop();
    event_loop.run_forever().unwrap();
    assert!(!stuck.done());
    event_loop.close().unwrap();
    assert!(cleaned.get());
    assert!(stuck.cancelled());
    assert_eq!(
        *seen.borrow(),
        ["Task was destroyed but it is pending!|stuck"]
    );
}

// Ports CPython test_futures.py `test_callbacks_remove_first_callback`,
// `test_callbacks_remove_third_callback` and `test_remove_done_callback`:
// a removed callback never runs, the others run in order; removing counts
// what it removed (Python removes every instance of a function; a corun
// callback has one id, so 1, then 0); nothing is removed once the task is
// done and its callbacks are scheduled.
#[test]
fn remove_done_callback_removes_and_counts() {
    let event_loop = EventLoop::new().unwrap();
    let bag: Rc<RefCell<Vec<u32>>> = Rc::new(RefCell::new(Vec::new()));
    let task = event_loop.create_task(async { "foo" });
    let ids: Vec<_> = [42, 17, 100, 7]
        .into_iter()
        .map(|n| {
            let b = bag.clone();
            task.add_done_callback(move |_| b.borrow_mut().push(n))
        })
        .collect();
    assert_eq!(task.remove_done_callback(ids[0]), 1);
    assert_eq!(task.remove_done_callback(ids[0]), 0);
    assert_eq!(task.as_any().remove_done_callback(ids[2]), 1);
    let other = event_loop.create_task(async {});
    assert_eq!(other.remove_done_callback(ids[1]), 0, "another task's id");
    assert!(bag.borrow().is_empty());
    assert_eq!(
        event_loop
            .run_until_complete(task.clone())
            .unwrap()
            .unwrap(),
        "foo"
    );
    event_loop.run_until_complete(other).unwrap().unwrap();
    assert_eq!(*bag.borrow(), [17, 7]);
    assert_eq!(task.remove_done_callback(ids[3]), 0, "ran already");
    let b = bag.clone();
    let late = task.add_done_callback(move |_| b.borrow_mut().push(1));
    assert_eq!(task.remove_done_callback(late), 0, "scheduled at once");
}
