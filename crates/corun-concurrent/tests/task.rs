//! Behaviour of [`Task`] and [`Promise`], ported from CPython's
//! `Lib/test/test_concurrent_futures/test_future.py` (`FutureTests`),
//! adapted to the Rust API: Python's module-level futures in fixed states
//! (`PENDING_FUTURE`, `RUNNING_FUTURE`, `CANCELLED_AND_NOTIFIED_FUTURE`,
//! `EXCEPTION_FUTURE`, `SUCCESSFUL_FUTURE`) are made here from
//! [`Task::pending`] and driven through the [`Promise`]; `set_result` /
//! `set_exception` are [`Promise::complete`]; `exception()` is the `Err` of
//! [`Task::result`]; a callback receives the outcome, not the future.
//!
//! Not ported: `test_multiple_set_result` / `test_multiple_set_exception`
//! (completing twice is a compile error here, `complete` takes the promise
//! by value) and `test_get_snapshot` (no such API).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use common::{DEADLINE, Gate, Probe, assert_timeout, describe};
use corun_concurrent::{Error, Promise, Task};

/// The time-out used where a wait must really run out.
const SHORT: Duration = Duration::from_millis(20);

fn pending() -> (Task<i32>, Promise<i32>) {
    Task::pending()
}

fn running() -> (Task<i32>, Promise<i32>) {
    let (task, promise) = Task::pending();
    assert!(promise.start());
    (task, promise)
}

fn successful(value: i32) -> Task<i32> {
    let (task, promise) = running();
    promise.complete(Ok(value));
    task
}

fn failed(message: &str) -> Task<i32> {
    let (task, promise) = running();
    promise.complete(Err(Error::remote(message)));
    task
}

fn cancelled() -> Task<i32> {
    let (task, promise) = pending();
    assert!(task.cancel());
    assert!(!promise.start());
    task
}

/// `(cancelled(), done(), running())` of a task.
fn predicates<T>(task: &Task<T>) -> (bool, bool, bool) {
    (task.cancelled(), task.done(), task.running())
}

/// A log of `(what, thread)` that callbacks append to.
type Log = Arc<Mutex<Vec<(String, ThreadId)>>>;

/// A callback that appends `name` and its outcome, with the thread it ran in.
fn logging(log: &Log, name: &str) -> impl FnOnce(Result<&i32, &Error>) + Send + 'static {
    let log = Arc::clone(log);
    let name = name.to_owned();
    move |outcome| {
        let what = match outcome {
            Ok(v) => format!("{name}:ok:{v}"),
            Err(e) => format!("{name}:{}", describe::<()>(Err(e.clone()))),
        };
        log.lock().unwrap().push((what, thread::current().id()));
    }
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().iter().map(|(w, _)| w.clone()).collect()
}

// ---------------------------------------------------------------------------
// States and predicates
// ---------------------------------------------------------------------------

// Ports test_future.py FutureTests.test_cancel: a pending task cancels
// (true), a running or finished one does not (false), a cancelled one
// reports true again; a cancelled task is never started.
#[test]
fn test_cancel() {
    let (task, promise) = pending();
    assert!(task.cancel());
    assert!(task.cancelled());
    assert!(task.cancel(), "cancelling twice is still true");
    assert!(!promise.start(), "the executor must skip a cancelled task");

    let (task, promise) = running();
    assert!(!task.cancel());
    assert!(task.running() && !task.cancelled());
    promise.complete(Ok(1));

    let task = successful(42);
    assert!(!task.cancel());
    assert!(!task.cancelled());
    assert_eq!(
        task.result().unwrap(),
        42,
        "a failed cancel changes nothing"
    );

    let task = failed("boom");
    assert!(!task.cancel());
    assert!(task.failed());

    let task = cancelled();
    assert!(task.cancel());
    assert!(task.result().unwrap_err().is_cancelled());
}

// Checks a handed-off task (a call sent ahead to a worker process): it
// stays pending, and `cancel` asks the executor's revoker. Taken back, the
// task is cancelled and the executor skips it; already started there, the
// cancel fails, the task is running and the executor completes it.
#[test]
fn cancel_asks_the_revoker_of_a_handed_off_task() {
    let asked = Arc::new(AtomicUsize::new(0));
    let revoker = |answer: bool| {
        let asked = Arc::clone(&asked);
        move || {
            asked.fetch_add(1, SeqCst);
            answer
        }
    };

    let (task, promise) = pending();
    assert!(promise.hand_off(revoker(true)));
    assert_eq!(predicates(&task), (false, false, false));
    assert!(task.cancel());
    assert!(task.cancelled());
    assert!(task.cancel(), "the revoker is asked once");
    assert_eq!(asked.load(SeqCst), 1);
    assert!(!promise.start());
    assert!(!promise.hand_off(revoker(true)));
    assert!(task.result().unwrap_err().is_cancelled());

    let (task, promise) = pending();
    assert!(promise.hand_off(revoker(false)));
    assert!(!task.cancel());
    assert_eq!(asked.load(SeqCst), 2);
    assert_eq!(predicates(&task), (false, false, true));
    assert!(promise.hand_off(revoker(true)), "running: nothing to keep");
    assert!(promise.start(), "it runs: the executor goes on");
    assert!(!task.cancel());
    promise.complete(Ok(7));
    assert_eq!(task.result().unwrap(), 7);
    assert_eq!(asked.load(SeqCst), 2);

    // A second hand-off replaces the first revoker; start drops it.
    let (task, promise) = pending();
    assert!(promise.hand_off(revoker(false)));
    assert!(promise.hand_off(revoker(true)));
    assert!(task.cancel());
    assert_eq!(asked.load(SeqCst), 3);
    let (task, promise) = pending();
    assert!(promise.hand_off(revoker(true)));
    assert!(promise.start());
    assert!(!task.cancel());
    assert_eq!(asked.load(SeqCst), 3);
    promise.complete(Ok(1));
}

// Checks a task started cancellable (an asyncio task seen from another
// thread): `cancel` of the running task succeeds and makes it cancelled at
// once — a blocked waiter wakes, callbacks run in the cancelling thread —
// the stopper runs once, in that thread, and the executor's late
// completion is dropped. A task that completes first keeps its value and
// never calls its stopper; a cancelled task cannot be started cancellable.
#[test]
fn a_task_started_cancellable_cancels_while_running() {
    let stops = Arc::new(Mutex::new(Vec::new()));
    let stopper = || {
        let stops = Arc::clone(&stops);
        move || stops.lock().unwrap().push(thread::current().id())
    };
    let log: Log = Arc::default();

    let (task, promise) = pending();
    task.add_done_callback(logging(&log, "cb"));
    assert!(promise.start_cancellable(stopper()));
    assert_eq!(predicates(&task), (false, false, true));
    let task = Arc::new(task);
    let waiter = {
        let task = Arc::clone(&task);
        thread::spawn(move || {
            task.wait();
            task.cancelled()
        })
    };
    let canceller = {
        let task = Arc::clone(&task);
        thread::spawn(move || {
            assert!(task.cancel(), "a cancellable running task cancels");
            assert!(task.cancel(), "and stays cancelled");
            thread::current().id()
        })
    };
    let canceller = canceller.join().unwrap();
    assert!(
        waiter.join().unwrap(),
        "the waiter woke to a cancelled task"
    );
    assert_eq!(predicates(&task), (true, true, false));
    assert_eq!(*stops.lock().unwrap(), [canceller], "stopped once, there");
    assert_eq!(
        log.lock().unwrap().clone(),
        [("cb:cancelled".to_owned(), canceller)]
    );
    assert!(!promise.start_cancellable(stopper()));
    promise.complete(Ok(5)); // the work ended after all: dropped
    let task = Arc::into_inner(task).unwrap();
    assert!(task.result().unwrap_err().is_cancelled());
    assert_eq!(stops.lock().unwrap().len(), 1);

    let (task, promise) = pending();
    assert!(promise.start_cancellable(stopper()));
    promise.complete(Ok(9));
    assert!(!task.cancel(), "finished first: nothing to cancel");
    assert_eq!(task.result().unwrap(), 9);
    assert_eq!(
        stops.lock().unwrap().len(),
        1,
        "a finished task is not stopped"
    );

    let (task, promise) = pending();
    assert!(task.cancel());
    assert!(
        !promise.start_cancellable(stopper()),
        "cancelled: must not run"
    );
    assert_eq!(stops.lock().unwrap().len(), 1);

    // The executor's own `Promise::cancel` (shutdown) cancels it too.
    let (task, promise) = pending();
    assert!(promise.start_cancellable(stopper()));
    assert!(promise.cancel());
    assert!(task.cancelled());
    assert_eq!(stops.lock().unwrap().len(), 2);
}

// Checks that dropping the promise of a handed-off task that started where
// it was handed (the revoker says so) fails the task rather than leaves it
// running with nobody to complete it; one taken back is cancelled.
#[test]
fn dropping_a_handed_off_promise() {
    let (task, promise) = pending();
    assert!(promise.hand_off(|| false));
    drop(promise);
    assert!(task.result().unwrap_err().is_broken());

    let (task, promise) = pending();
    assert!(promise.hand_off(|| true));
    drop(promise);
    assert!(task.result().unwrap_err().is_cancelled());
}

// Ports test_future.py FutureTests.test_cancelled, test_done and
// test_running: the three predicates (and `failed`) in every state.
#[test]
fn test_predicates_in_each_state() {
    let (task, _p) = pending();
    assert_eq!(predicates(&task), (false, false, false));
    assert!(!task.failed());

    let (task, _p) = running();
    assert_eq!(predicates(&task), (false, false, true));
    assert!(!task.failed());

    let task = successful(1);
    assert_eq!(predicates(&task), (false, true, false));
    assert!(!task.failed());

    let task = failed("boom");
    assert_eq!(predicates(&task), (false, true, false));
    assert!(task.failed(), "an error is a failure");

    let task = cancelled();
    assert_eq!(predicates(&task), (true, true, false));
    assert!(!task.failed(), "a cancellation is not a failure");

    // After the value is taken the task is still done.
    let mut task = successful(2);
    assert_eq!(task.result_timeout(DEADLINE).unwrap(), 2);
    assert_eq!(predicates(&task), (false, true, false));
}

// Ports test_future.py FutureTests.test_repr: Debug names the state.
#[test]
fn test_repr() {
    let (task, _p) = pending();
    assert!(format!("{task:?}").contains("pending"), "{task:?}");
    let (task, _p) = running();
    assert!(format!("{task:?}").contains("running"), "{task:?}");
    let task = successful(1);
    assert!(format!("{task:?}").contains("finished"), "{task:?}");
    let task = failed("boom");
    assert!(format!("{task:?}").contains("failed"), "{task:?}");
    let task = cancelled();
    assert!(format!("{task:?}").contains("cancelled"), "{task:?}");
    let mut task = successful(1);
    task.result_timeout(DEADLINE).unwrap();
    assert!(format!("{task:?}").contains("taken"), "{task:?}");
    let (_t, promise) = pending();
    assert!(format!("{promise:?}").contains("Promise"), "{promise:?}");
}

// ---------------------------------------------------------------------------
// result
// ---------------------------------------------------------------------------

// Ports test_future.py FutureTests.test_result_with_timeout (and
// test_exception_with_timeout): waiting on a pending or running task with a
// time-out fails with a time-out error after about that long, and leaves the
// task as it was: it can still be completed, and waited on again.
#[test]
fn test_result_with_timeout() {
    let (mut task, promise) = pending();
    let t = Instant::now();
    assert!(task.result_timeout(SHORT).unwrap_err().is_timeout());
    assert_timeout(t.elapsed(), SHORT);
    assert!(
        task.result_timeout(Duration::ZERO)
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(predicates(&task), (false, false, false), "still pending");
    assert!(promise.start());
    assert!(task.result_timeout(SHORT).unwrap_err().is_timeout());
    assert!(task.running(), "a time-out does not stop the work");
    promise.complete(Ok(7));
    assert_eq!(task.result_timeout(DEADLINE).unwrap(), 7);

    // wait_timeout is the same wait without taking the value.
    let (task, promise) = pending();
    let t = Instant::now();
    assert!(!task.wait_timeout(SHORT));
    assert_timeout(t.elapsed(), SHORT);
    promise.complete(Ok(1));
    assert!(task.wait_timeout(Duration::ZERO));
    task.wait();
    assert_eq!(task.result().unwrap(), 1);

    // A timed-out wait still leaves the task cancellable.
    let (mut task, _promise) = pending();
    assert!(task.result_timeout(SHORT).unwrap_err().is_timeout());
    assert!(task.cancel());
    assert!(task.result_timeout(DEADLINE).unwrap_err().is_cancelled());
}

// Ports test_future.py FutureTests.test_result_with_success: a thread
// blocked in result() gets the value completed from another thread.
#[test]
fn test_result_with_success() {
    let (task, promise) = running();
    let me = Probe::current();
    let completer = thread::spawn(move || {
        me.wait_until_blocked();
        promise.complete(Ok(42));
    });
    assert_eq!(task.result().unwrap(), 42);
    completer.join().unwrap();
}

// Ports test_future.py FutureTests.test_exception_with_success: a thread
// blocked in result() gets the error completed from another thread.
#[test]
fn test_exception_with_success() {
    let (task, promise) = running();
    let me = Probe::current();
    let completer = thread::spawn(move || {
        me.wait_until_blocked();
        promise.complete(Err(Error::remote("boom")));
    });
    let err = task.result().unwrap_err();
    assert!(err.is_remote());
    assert!(err.to_string().contains("boom"), "{err}");
    completer.join().unwrap();
}

// Ports test_future.py FutureTests.test_result_with_cancel: a thread blocked
// in result() is woken by a cancellation with a cancelled error.
#[test]
fn test_result_with_cancel() {
    let (task, _promise) = pending();
    let task = Arc::new(task);
    let me = Probe::current();
    let canceller = {
        let task = Arc::clone(&task);
        thread::spawn(move || {
            me.wait_until_blocked();
            assert!(task.cancel());
        })
    };
    task.wait();
    assert!(task.cancelled());
    canceller.join().unwrap();
    let task = Arc::try_unwrap(task).unwrap();
    assert!(task.result().unwrap_err().is_cancelled());
}

// Checks the already-taken rule (no Python equivalent: Python's result()
// can be called again; here the value moves out once): a second take is an
// already-taken error; a cancelled task reports cancelled every time.
#[test]
fn result_moves_out_once() {
    let mut task = successful(5);
    assert_eq!(task.result_timeout(DEADLINE).unwrap(), 5);
    assert!(
        task.result_timeout(DEADLINE)
            .unwrap_err()
            .is_already_taken()
    );
    assert!(task.done() && !task.cancelled());

    let mut task = cancelled();
    assert!(task.result_timeout(DEADLINE).unwrap_err().is_cancelled());
    assert!(task.result_timeout(DEADLINE).unwrap_err().is_cancelled());
    assert!(task.cancelled());
}

// Checks that completing a cancelled task is ignored (Python raises
// InvalidStateError from set_result on a cancelled future; executors never
// get there because set_running_or_notify_cancel returned False): the task
// stays cancelled and its callbacks do not run again.
#[test]
fn completing_a_cancelled_task_does_nothing() {
    let log = Log::default();
    let (task, promise) = pending();
    task.add_done_callback(logging(&log, "cb"));
    assert!(task.cancel());
    promise.complete(Ok(9));
    assert!(task.cancelled());
    assert_eq!(entries(&log), ["cb:cancelled"]);
    assert!(task.result().unwrap_err().is_cancelled());
}

// ---------------------------------------------------------------------------
// Done-callbacks
// ---------------------------------------------------------------------------

// Ports test_future.py FutureTests.test_done_callback_with_result: the
// callback gets the value, once, in the completing thread.
#[test]
fn test_done_callback_with_result() {
    let log = Log::default();
    let (task, promise) = running();
    task.add_done_callback(logging(&log, "cb"));
    assert!(entries(&log).is_empty(), "not before completion");
    let completer = thread::spawn(move || {
        promise.complete(Ok(5));
        thread::current().id()
    });
    let completer_id = completer.join().unwrap();
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 1, "exactly once");
    assert_eq!(log[0].0, "cb:ok:5");
    assert_eq!(log[0].1, completer_id, "runs in the completing thread");
    assert_eq!(task.result().unwrap(), 5);
}

// Ports test_future.py FutureTests.test_done_callback_with_exception.
#[test]
fn test_done_callback_with_exception() {
    let log = Log::default();
    let (task, promise) = running();
    task.add_done_callback(logging(&log, "cb"));
    promise.complete(Err(Error::broken("gone")));
    assert_eq!(entries(&log), ["cb:broken"]);
    assert!(task.result().unwrap_err().is_broken());
}

// Ports test_future.py FutureTests.test_done_callback_with_cancel: the
// callback sees the cancellation, and runs in the cancelling thread.
#[test]
fn test_done_callback_with_cancel() {
    let log = Log::default();
    let (task, _promise) = pending();
    task.add_done_callback(logging(&log, "cb"));
    let task = Arc::new(task);
    let canceller = {
        let task = Arc::clone(&task);
        thread::spawn(move || {
            assert!(task.cancel());
            thread::current().id()
        })
    };
    let canceller_id = canceller.join().unwrap();
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].0, "cb:cancelled");
    assert_eq!(log[0].1, canceller_id, "runs in the cancelling thread");
    assert!(task.cancel() && task.cancelled());
}

// Ports test_future.py FutureTests.test_done_callback_raises: a callback
// that panics is caught, the ones after it still run, and the task keeps
// its value.
#[test]
fn test_done_callback_raises() {
    let log = Log::default();
    let (task, promise) = running();
    task.add_done_callback(|_| panic!("doh!"));
    task.add_done_callback(logging(&log, "after"));
    promise.complete(Ok(5));
    assert_eq!(entries(&log), ["after:ok:5"]);
    assert_eq!(task.result().unwrap(), 5);
}

// Ports test_future.py FutureTests.test_done_callback_already_successful:
// added to a finished task, the callback runs at once, in the caller.
#[test]
fn test_done_callback_already_successful() {
    let log = Log::default();
    let task = successful(5);
    task.add_done_callback(logging(&log, "cb"));
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 1, "ran before add_done_callback returned");
    assert_eq!(log[0].0, "cb:ok:5");
    assert_eq!(log[0].1, thread::current().id());
    assert_eq!(task.result().unwrap(), 5, "the value is still there");
}

// Ports test_future.py FutureTests.test_done_callback_already_failed.
#[test]
fn test_done_callback_already_failed() {
    let log = Log::default();
    let task = failed("boom");
    task.add_done_callback(logging(&log, "cb"));
    assert_eq!(entries(&log), ["cb:error:task failed in worker: boom"]);
    assert_eq!(log.lock().unwrap()[0].1, thread::current().id());
}

// Ports test_future.py FutureTests.test_done_callback_already_cancelled.
#[test]
fn test_done_callback_already_cancelled() {
    let log = Log::default();
    let task = cancelled();
    task.add_done_callback(logging(&log, "cb"));
    assert_eq!(entries(&log), ["cb:cancelled"]);
    assert_eq!(log.lock().unwrap()[0].1, thread::current().id());
}

// Ports test_future.py FutureTests.test_done_callback_raises_already_succeeded:
// a panicking callback on a finished task is caught in the caller, and the
// task is unharmed.
#[test]
fn test_done_callback_raises_already_succeeded() {
    let log = Log::default();
    let task = successful(5);
    task.add_done_callback(|_| panic!("doh!"));
    task.add_done_callback(logging(&log, "after"));
    assert_eq!(entries(&log), ["after:ok:5"]);
    assert!(!task.cancel());
    assert_eq!(task.result().unwrap(), 5);
}

// Checks that callbacks run in registration order, each exactly once, and
// that one added after completion runs at once without re-running the
// earlier ones (Python: "called in the order that they were added").
#[test]
fn callbacks_run_in_registration_order_exactly_once() {
    let log = Log::default();
    let (task, promise) = running();
    for i in 0..5 {
        task.add_done_callback(logging(&log, &i.to_string()));
    }
    promise.complete(Ok(1));
    assert_eq!(
        entries(&log),
        ["0:ok:1", "1:ok:1", "2:ok:1", "3:ok:1", "4:ok:1"]
    );
    task.add_done_callback(logging(&log, "late"));
    assert_eq!(entries(&log).len(), 6);
    assert_eq!(entries(&log)[5], "late:ok:1");

    // Cancellation, too, runs them in order, once.
    let log = Log::default();
    let (task, _promise) = pending();
    for i in 0..3 {
        task.add_done_callback(logging(&log, &i.to_string()));
    }
    assert!(task.cancel());
    assert!(task.cancel());
    assert_eq!(entries(&log), ["0:cancelled", "1:cancelled", "2:cancelled"]);
}

// Checks that a callback runs before blocked waiters are released, as the
// state table says: by the time result() returns, every callback added
// before completion has run.
#[test]
fn callbacks_have_run_when_the_result_is_seen() {
    let ran = Arc::new(AtomicUsize::new(0));
    let (task, promise) = running();
    for _ in 0..3 {
        let ran = Arc::clone(&ran);
        task.add_done_callback(move |_| {
            ran.fetch_add(1, SeqCst);
        });
    }
    let (tx, rx) = mpsc::channel();
    let completer = thread::spawn(move || {
        let probe: Probe = rx.recv().unwrap();
        probe.wait_until_blocked();
        promise.complete(Ok(3));
    });
    tx.send(Probe::current()).unwrap();
    assert_eq!(task.result().unwrap(), 3);
    assert_eq!(ran.load(SeqCst), 3);
    completer.join().unwrap();
}

// Checks that a callback added to a task whose value was taken still runs
// once, with an already-taken error (Python's futures keep their result;
// here it moved out).
#[test]
fn callback_after_the_value_was_taken() {
    let log = Log::default();
    let mut task = successful(5);
    assert_eq!(task.result_timeout(DEADLINE).unwrap(), 5);
    task.add_done_callback(logging(&log, "cb"));
    assert_eq!(entries(&log), ["cb:taken"]);
}

/// What a callback saw when it looked at its own task: `done`, `cancelled`,
/// `running`, `failed`, `wait_timeout(0)` and the `Debug` form.
type Look = (bool, bool, bool, bool, bool, String);

/// A callback that looks at `task` (through a weak handle: a task must not
/// own itself) and sends what it saw.
fn looking(
    task: &Arc<Task<i32>>,
    tx: mpsc::Sender<Look>,
) -> impl FnOnce(Result<&i32, &Error>) + Send + 'static {
    let task = Arc::downgrade(task);
    move |_| {
        let task = task.upgrade().expect("the test holds the task");
        let look = (
            task.done(),
            task.cancelled(),
            task.running(),
            task.failed(),
            task.wait_timeout(Duration::ZERO),
            format!("{task:?}"),
        );
        tx.send(look).unwrap();
    }
}

/// What a finished task looks like from a callback.
fn finished_look(failed: bool) -> Look {
    let state = if failed { "failed" } else { "finished" };
    (
        true,
        false,
        false,
        failed,
        true,
        format!("Task {{ state: {state:?} }}"),
    )
}

// Python marks a future finished before it runs the callbacks, so a
// callback may inspect its own future (test_future.py's callbacks only
// look at what they are given). Checks that a callback added before
// completion sees its task done, not running, with the right outcome —
// in the completing thread, without deadlocking on the task.
#[test]
fn a_callback_added_before_completion_can_inspect_its_task() {
    for failed in [false, true] {
        let (task, promise) = running();
        let task = Arc::new(task);
        let (tx, rx) = mpsc::channel();
        task.add_done_callback(looking(&task, tx));
        let completer = thread::spawn(move || {
            let outcome = if failed {
                Err(Error::remote("boom"))
            } else {
                Ok(5)
            };
            promise.complete(outcome);
        });
        let seen = rx
            .recv_timeout(DEADLINE)
            .expect("the callback ran and did not deadlock");
        assert_eq!(seen, finished_look(failed));
        completer.join().unwrap();
        assert_eq!(predicates(&*task), (false, true, false));
    }
}

// Ports the late half of the above (Python runs a callback added to a done
// future at once, in the adding thread, and it may inspect the future):
// a callback added to a finished task sees it done, and does not deadlock.
#[test]
fn a_callback_added_after_completion_can_inspect_its_task() {
    for failed in [false, true] {
        let task = Arc::new(if failed {
            self::failed("boom")
        } else {
            successful(5)
        });
        let (tx, rx) = mpsc::channel();
        let adder = {
            let task = Arc::clone(&task);
            thread::spawn(move || task.add_done_callback(looking(&task, tx)))
        };
        let seen = rx
            .recv_timeout(DEADLINE)
            .expect("the callback ran and did not deadlock");
        assert_eq!(seen, finished_look(failed));
        adder.join().unwrap();
    }
}

// Python's callback may call result() on its own future. Here result()
// moves the value out while the callback holds a reference to it, so it
// cannot succeed: it fails at once (it must not wait for the callback that
// calls it), and the value stays for later. (Only a callback run at
// completion can reach its task's handle mutably: one added later runs
// while `add_done_callback` borrows the handle.)
#[test]
fn taking_the_result_inside_its_own_callback_fails_instead_of_waiting() {
    let (task, promise) = running();
    let slot = Arc::new(Mutex::new(None::<Task<i32>>));
    let (tx, rx) = mpsc::channel();
    {
        let slot = Arc::clone(&slot);
        task.add_done_callback(move |r| {
            let mut task = slot
                .lock()
                .unwrap()
                .take()
                .expect("the task is in the slot");
            let taken = task.result_timeout(DEADLINE);
            *slot.lock().unwrap() = Some(task);
            let taken =
                taken.map_err(|e| (e.kind() == corun::ErrorKind::InvalidState, e.to_string()));
            tx.send((*r.unwrap(), taken)).unwrap();
        });
    }
    *slot.lock().unwrap() = Some(task);
    let completer = thread::spawn(move || promise.complete(Ok(5)));
    let (value, taken) = rx
        .recv_timeout(DEADLINE)
        .expect("the callback ran and did not deadlock");
    assert_eq!(value, 5);
    let (in_callback, message) = taken.expect_err("the value is lent to the callback");
    assert!(in_callback, "{message}");
    assert!(message.contains("done-callback"), "{message}");
    completer.join().unwrap();
    let task = slot.lock().unwrap().take().unwrap();
    assert_eq!(task.result().unwrap(), 5, "the value is still there");
}

// Checks who runs a callback added while another thread runs the callbacks
// of a finished task: that thread holds the outcome, so the new callback
// joins its queue and runs there, after the one running (registration
// order); meanwhile the task is done to everyone.
#[test]
fn a_callback_added_while_another_thread_runs_callbacks_runs_there_after_them() {
    let log = Log::default();
    let task = Arc::new(successful(5));
    let gate = Gate::new();
    let (entered_tx, entered_rx) = mpsc::channel();
    let first = {
        let (task, gate, log) = (Arc::clone(&task), Arc::clone(&gate), Arc::clone(&log));
        thread::spawn(move || {
            let callback = logging(&log, "first");
            task.add_done_callback(move |r| {
                entered_tx.send(()).unwrap();
                gate.wait();
                callback(r);
            });
            thread::current().id()
        })
    };
    entered_rx.recv_timeout(DEADLINE).unwrap();
    task.add_done_callback(logging(&log, "second"));
    assert!(
        entries(&log).is_empty(),
        "queued behind the running callback"
    );
    assert!(task.done() && !task.running());
    assert!(task.wait_timeout(Duration::ZERO));
    gate.open();
    let first_id = first.join().unwrap();
    let log = log.lock().unwrap().clone();
    let names: Vec<_> = log.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(names, ["first:ok:5", "second:ok:5"]);
    assert!(log.iter().all(|(_, id)| *id == first_id));
    let task = Arc::try_unwrap(task).unwrap();
    assert_eq!(task.result().unwrap(), 5);
}
