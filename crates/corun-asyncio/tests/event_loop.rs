//! The loop: callback order, timers, stop, the exception handler, misuse,
//! and wake-ups from other threads.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use corun::ErrorKind;
use corun::asyncio::{EventLoop, ExceptionContext, get_running_loop, sleep};

/// A shared log the callbacks write to.
type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(log: &Log, what: impl Into<String>) -> impl FnOnce() + 'static {
    let (log, what) = (log.clone(), what.into());
    move || log.borrow_mut().push(what)
}

/// Collects what reaches the exception handler, as "message: error".
fn capture_handler(event_loop: &EventLoop) -> Log {
    let seen = log();
    let s = seen.clone();
    event_loop.set_exception_handler(move |ctx: &ExceptionContext| {
        let error = ctx.error().map(|e| e.to_string()).unwrap_or_default();
        let task = ctx.task().map(|t| t.get_name()).unwrap_or_default();
        s.borrow_mut()
            .push(format!("{}|{}|{}", ctx.message(), task, error));
    });
    seen
}

// Ports CPython test_events.py `test_call_soon` and test_base_events.py
// `test_run_once` (the idiom `loop.call_soon(loop.stop); loop.run_forever()`):
// callbacks run once each, in FIFO order, task steps in the same queue.
#[test]
fn call_soon_is_fifo_with_task_steps() {
    let event_loop = EventLoop::new().unwrap();
    let order = log();
    event_loop.call_soon(push(&order, "cb1"));
    let o = order.clone();
    let _task = event_loop.create_task(async move { o.borrow_mut().push("task".into()) });
    event_loop.call_soon(push(&order, "cb2"));
    let lp = event_loop.clone();
    event_loop.call_soon(move || lp.stop());
    event_loop.call_soon(push(&order, "cb3"));
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["cb1", "task", "cb2", "cb3"]);
}

// Ports CPython test_base_events.py `test_run_forever_pre_stopped`: stop()
// before run_forever() runs one iteration, without waiting, then returns.
#[test]
fn stop_before_run_forever_runs_one_iteration() {
    let event_loop = EventLoop::new().unwrap();
    let order = log();
    let o = order.clone();
    let lp = event_loop.clone();
    event_loop.call_soon(move || {
        o.borrow_mut().push("first".into());
        lp.call_soon(push(&o, "second"));
    });
    event_loop.call_later(Duration::from_secs(3600), push(&order, "timer"));
    event_loop.stop();
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["first"]);
    event_loop.stop();
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["first", "second"]);
}

// The documented rule of `loop.stop()` (asyncio-eventloop.rst): the batch
// in which stop is called finishes; callbacks it schedules run the next
// time the loop runs.
#[test]
fn stop_finishes_the_batch_and_defers_what_it_scheduled() {
    let event_loop = EventLoop::new().unwrap();
    let order = log();
    let (o, lp) = (order.clone(), event_loop.clone());
    event_loop.call_soon(move || {
        o.borrow_mut().push("A".into());
        lp.stop();
        lp.call_soon(push(&o, "B"));
    });
    event_loop.call_soon(push(&order, "C"));
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["A", "C"]);
    assert!(!event_loop.is_running());
    event_loop.stop();
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["A", "C", "B"]);
}

// Ports CPython test_events.py `test_call_later` / test_base_events.py
// `test__run_once`: timers run by deadline; equal deadlines (Python:
// undefined order) run in the order they were scheduled.
#[test]
fn timers_run_by_deadline_then_scheduling_order() {
    let event_loop = EventLoop::new().unwrap();
    let order = log();
    let when = event_loop.time() + 0.020;
    event_loop.call_at(when, push(&order, "x"));
    event_loop.call_later(Duration::from_millis(40), push(&order, "c"));
    event_loop.call_later(Duration::from_millis(1), push(&order, "a"));
    event_loop.call_at(when, push(&order, "y"));
    let lp = event_loop.clone();
    let stop = event_loop.call_later(Duration::from_millis(50), move || lp.stop());
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["a", "x", "y", "c"]);
    assert!(event_loop.time() >= stop.when());
}

// Ports CPython test_events.py `test_call_soon` with Handle.cancel and
// test_base_events.py `test__run_once_cancelled_event_cleanup`: a cancelled
// handle never runs, its callback is dropped at cancel.
#[test]
fn cancelled_handles_never_run() {
    let event_loop = EventLoop::new().unwrap();
    let order = log();
    event_loop.call_soon(push(&order, "1"));
    let two = event_loop.call_soon(push(&order, "2"));
    event_loop.call_soon(push(&order, "3"));
    let later = event_loop.call_later(Duration::from_millis(1), push(&order, "timer"));
    let dropped = Rc::new(());
    let d = dropped.clone();
    let far = event_loop.call_later(Duration::from_secs(3600), move || drop(d));
    two.cancel();
    later.cancel();
    far.cancel();
    assert!(two.cancelled() && later.cancelled());
    assert_eq!(Rc::strong_count(&dropped), 1, "cancel drops the callback");
    let lp = event_loop.clone();
    event_loop.call_later(Duration::from_millis(5), move || lp.stop());
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["1", "3"]);
}

// Many cancelled timers are swept out of the heap and the live ones still
// run in order (CPython's _MIN_CANCELLED_TIMER_HANDLES_FRACTION cleanup).
#[test]
fn many_cancelled_timers_leave_the_live_ones() {
    let event_loop = EventLoop::new().unwrap();
    let order = log();
    let handles: Vec<_> = (0..500)
        .map(|i| event_loop.call_later(Duration::from_secs(3600 + i), push(&order, "dead")))
        .collect();
    event_loop.call_later(Duration::from_millis(2), push(&order, "live"));
    handles.iter().for_each(|h| h.cancel());
    let lp = event_loop.clone();
    event_loop.call_later(Duration::from_millis(3), move || lp.stop());
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["live"]);
}

// Ports CPython test_base_events.py `test_default_exc_handler_callback` and
// `test_set_exc_handler_custom`: a callback that panics reaches the
// handler; the loop goes on with the next callback.
#[test]
fn panicking_callback_reaches_the_handler_and_the_loop_goes_on() {
    let event_loop = EventLoop::new().unwrap();
    let seen = capture_handler(&event_loop);
    let order = log();
    event_loop.call_soon(|| panic!("bad callback"));
    event_loop.call_soon(push(&order, "after"));
    event_loop.stop();
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["after"]);
    assert_eq!(
        *seen.borrow(),
        ["Exception in callback||panicked: bad callback"]
    );
}

// Ports CPython test_base_events.py `test_set_exc_handler_broken`: a
// handler that panics is caught (the default handler reports both) and
// the loop goes on.
#[test]
fn panicking_handler_is_caught() {
    let event_loop = EventLoop::new().unwrap();
    event_loop.set_exception_handler(|_| panic!("bad handler"));
    let order = log();
    event_loop.call_soon(|| panic!("bad callback"));
    event_loop.call_soon(push(&order, "after"));
    event_loop.stop();
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["after"]);
}

// Ports CPython test_events.py `test_run_until_complete_nesting` and
// `test_close_running_event_loop`: running a running loop, running another
// loop on the same thread, and closing a running loop are errors
// (RuntimeError in Python), not panics or deadlocks.
#[test]
fn nested_runs_and_closing_a_running_loop_are_errors() {
    let event_loop = EventLoop::new().unwrap();
    let kinds = event_loop
        .run_until_complete(async {
            let me = get_running_loop().unwrap();
            let again = me.run_until_complete(async {}).unwrap_err();
            let forever = me.run_forever().unwrap_err();
            let other = EventLoop::new().unwrap();
            let other_err = other.run_until_complete(async {}).unwrap_err();
            let close = me.close().unwrap_err();
            [again, forever, other_err, close].map(|e| e.kind())
        })
        .unwrap();
    assert_eq!(kinds, [ErrorKind::InvalidState; 4]);
    // The loop is intact afterwards.
    assert_eq!(event_loop.run_until_complete(async { 1 }).unwrap(), 1);
}

// Inside a tokio runtime, tokio would panic ("Cannot start a runtime from
// within a runtime"); corun says so with an error.
#[test]
fn running_inside_a_tokio_runtime_is_an_error() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = rt.block_on(async {
        let event_loop = EventLoop::new().unwrap();
        event_loop.run_until_complete(async {}).unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::InvalidState);
}

// Ports CPython test_base_events.py `test_close`: a closed loop refuses to
// run; closing twice is fine; callbacks scheduled on it are dropped.
#[test]
fn closed_loop_refuses_to_run() {
    let event_loop = EventLoop::new().unwrap();
    event_loop.close().unwrap();
    event_loop.close().unwrap();
    assert!(event_loop.is_closed());
    assert_eq!(
        event_loop.run_forever().unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert!(event_loop.call_soon(|| ()).cancelled());
    let task = event_loop.create_task(async { 1 });
    assert_eq!(task.result().unwrap_err().kind(), ErrorKind::ShutDown);
    assert_eq!(
        event_loop
            .handle()
            .call_soon_threadsafe(|| ())
            .unwrap_err()
            .kind(),
        ErrorKind::ShutDown
    );
}

// Ports CPython test_events.py `test_call_soon_threadsafe`: another thread
// wakes a loop that waits with nothing to do. A timer far ahead stands
// guard: if the wake-up were lost, it stops the loop and the test fails
// instead of hanging.
#[test]
fn call_soon_threadsafe_wakes_a_waiting_loop() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let (running_tx, running_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<&'static str>();
    let thread = std::thread::spawn(move || {
        running_rx.recv().unwrap();
        handle
            .call_soon_threadsafe(move || done_tx.send("from the thread").unwrap())
            .unwrap();
        handle.stop();
    });
    event_loop.call_soon(move || running_tx.send(()).unwrap());
    let guard_hit = log();
    let (g, lp) = (guard_hit.clone(), event_loop.clone());
    event_loop.call_later(Duration::from_secs(30), move || {
        g.borrow_mut().push("lost wake-up".into());
        lp.stop();
    });
    event_loop.run_forever().unwrap();
    thread.join().unwrap();
    assert!(guard_hit.borrow().is_empty());
    assert_eq!(done_rx.try_recv().unwrap(), "from the thread");
}

// Tokio's own types work inside tasks: a oneshot sent from another thread
// wakes the task through the loop, and tokio's sleep fires.
#[test]
fn tokio_channels_and_timers_work_inside_tasks() {
    let event_loop = EventLoop::new().unwrap();
    let got = event_loop
        .run_until_complete(async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let (tx, rx) = tokio::sync::oneshot::channel();
            let thread = std::thread::spawn(move || tx.send(7).unwrap());
            let n = rx.await.unwrap();
            thread.join().unwrap();
            n
        })
        .unwrap();
    assert_eq!(got, 7);
}

// `time()` is monotonic and `call_at` takes its values.
#[test]
fn time_is_monotonic_and_call_at_uses_it() {
    let event_loop = EventLoop::new().unwrap();
    let t0 = event_loop.time();
    let timer = event_loop.call_at(t0 + 0.002, || ());
    assert!((timer.when() - (t0 + 0.002)).abs() < 1e-6);
    let lp = event_loop.clone();
    let fired = event_loop.call_at(t0 + 0.003, move || lp.stop());
    event_loop.run_forever().unwrap();
    assert!(event_loop.time() >= fired.when());
    assert!(event_loop.time() >= t0);
}

// `sleep` outside a running loop is a panic that says what is missing;
// get_running_loop is an error.
#[test]
fn outside_a_loop() {
    assert_eq!(
        get_running_loop().unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    let payload = std::panic::catch_unwind(|| {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut s = std::pin::pin!(sleep(Duration::from_millis(1)));
        let _ = s.as_mut().poll(&mut cx);
    })
    .unwrap_err();
    let message = corun_core_message(&*payload);
    assert!(message.contains("needs a running event loop"), "{message}");
}

fn corun_core_message(payload: &(dyn std::any::Any + Send)) -> String {
    corun::Error::from_panic(payload)
        .panic_message()
        .unwrap()
        .to_owned()
}

// Debug mode: a step slower than slow_callback_duration is reported on
// stderr (not captured here); the setting round-trips and the loop runs.
#[test]
fn debug_mode_settings() {
    let event_loop = EventLoop::new().unwrap();
    assert!(!event_loop.get_debug());
    assert_eq!(
        event_loop.slow_callback_duration(),
        Duration::from_millis(100)
    );
    event_loop.set_debug(true);
    event_loop.set_slow_callback_duration(Duration::ZERO);
    assert_eq!(event_loop.run_until_complete(async { 3 }).unwrap(), 3);
}
