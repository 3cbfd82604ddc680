//! The bridges between the loop and corun's executors: `to_thread`,
//! `run_in_executor` on thread and process pools (a worker that aborts
//! fails only its await), cancelling the await, `wrap_future`,
//! `run_coroutine_threadsafe` and the concurrent view of an asyncio task
//! (cancelled from another thread while it runs; the loop closed), and
//! `corun::concurrent::wait` / `as_completed` over asyncio tasks. Ports
//! from CPython's `test_asyncio/test_tasks.py` (`RunCoroutineThreadsafeTests`)
//! and `test_asyncio/test_futures.py` (`test_wrap_future*`) name their
//! source.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::Duration;

use corun::ErrorKind;
use corun::asyncio::{
    EventLoop, LoopHandle, create_task, current_task, run, run_coroutine_threadsafe,
    run_in_executor, sleep, to_thread, wrap_future,
};
use corun::concurrent::{
    Executor, ReturnWhen, Submit, Task as ConcurrentTask, ThreadPoolExecutor, as_completed, wait,
};
use corun::multiprocessing::ProcessPoolExecutor;
use corun_test_support::{DEADLINE, poll_until};

corun::multiprocessing::enable_test_workers!();

/// Sends the thread it is dropped in: stands for a task's cleanup, seen
/// from another thread.
struct DropSignal(Sender<ThreadId>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(thread::current().id());
    }
}

/// Sets a flag when dropped, for cleanup seen on the loop's thread.
struct Guard(Rc<Cell<bool>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// A loop running forever on a thread of its own, reached through its
/// handle; `stop` ends it and closes the loop.
struct LoopThread {
    handle: LoopHandle,
    thread: JoinHandle<()>,
}

impl LoopThread {
    fn start() -> Self {
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            let event_loop = EventLoop::new().unwrap();
            tx.send(event_loop.handle()).unwrap();
            event_loop.run_forever().unwrap();
            event_loop.close().unwrap();
        });
        let handle = rx.recv_timeout(DEADLINE).unwrap();
        Self { handle, thread }
    }

    fn stop(self) {
        self.handle.stop();
        self.thread.join().unwrap();
    }
}

/// The thread's kernel id, from `/proc/thread-self` (`<pid>/task/<tid>`).
fn tid() -> String {
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    link.file_name().unwrap().to_string_lossy().into_owned()
}

fn square(x: u64) -> u64 {
    x * x
}

fn abort(_: ()) -> u64 {
    std::process::abort()
}

// ---------------------------------------------------------------------------
// to_thread
// ---------------------------------------------------------------------------

// Checks that `to_thread` runs its function on another thread, named like
// Python's default executor's, while the loop goes on: the function waits
// for a message that a task on the loop sends only after it started.
#[test]
fn to_thread_runs_beside_the_loop() {
    let loop_thread = thread::current().id();
    let (name, other) = run(async move {
        let (tx, rx) = mpsc::channel::<()>();
        let blocked = to_thread(move || {
            rx.recv_timeout(DEADLINE).unwrap();
            (
                thread::current().name().map(str::to_owned),
                thread::current().id(),
            )
        });
        let sender = create_task(async move {
            sleep(Duration::ZERO).await;
            tx.send(()).unwrap();
        });
        let out = blocked.await.unwrap();
        sender.await.unwrap();
        out
    })
    .unwrap();
    assert_ne!(other, loop_thread);
    assert!(name.unwrap().starts_with("asyncio"));
}

// Checks that a panic in `to_thread`'s function fails only its await, and
// that outside a running loop the await says there is no loop.
#[test]
fn to_thread_panics_and_outside_a_loop() {
    let (err, after) = run(async {
        let err = to_thread(|| -> u8 { panic!("in the pool") })
            .await
            .unwrap_err();
        (err, to_thread(|| 5).await.unwrap())
    })
    .unwrap();
    assert_eq!(err.panic_message(), Some("in the pool"));
    assert_eq!(after, 5);

    let event_loop = EventLoop::new().unwrap();
    let outside = to_thread(|| 1); // made before the loop runs
    let err = event_loop.run_until_complete(outside).unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
}

// Checks that closing the loop (here at the end of `run`) waits for a
// `to_thread` call still running and leaves none of the default
// executor's threads behind (Python's `asyncio.run` shuts the default
// executor down the same way).
#[cfg(target_os = "linux")]
#[test]
fn run_joins_the_default_executor() {
    let finished = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&finished);
    let (tx, rx) = mpsc::channel();
    run(async move {
        // Not awaited to the end: main returns while it runs.
        let running = to_thread(move || {
            tx.send(tid()).unwrap();
            thread::sleep(Duration::from_millis(50)); // work, not a wait for the test
            f.store(true, SeqCst);
        });
        let started = to_thread(move || rx.recv_timeout(DEADLINE).unwrap());
        let tid = started.await.unwrap();
        drop(running); // cancels it only if it has not started: it has
        tid
    })
    .map(|tid| {
        assert!(finished.load(SeqCst), "run returned before the call ended");
        // A joined thread can stay listed for a moment while the kernel
        // reaps it; one that is left would stay there.
        let path = format!("/proc/self/task/{tid}");
        poll_until("the pool thread is gone", || {
            !std::path::Path::new(&path).exists()
        });
    })
    .unwrap();
}

// ---------------------------------------------------------------------------
// run_in_executor
// ---------------------------------------------------------------------------

// Checks `run_in_executor` on a `ThreadPoolExecutor`, the free function and
// the loop's method, with several calls in flight at once; a shut-down
// executor's refusal is the await's error.
#[test]
fn run_in_executor_on_a_thread_pool() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap(),
    );
    let p = Arc::clone(&pool);
    let event_loop = EventLoop::new().unwrap();
    let sum = event_loop
        .run_until_complete(async move {
            let calls: Vec<_> = (1..=10_u64)
                .map(|x| run_in_executor(&*p, |x: u64| x * x, x))
                .collect();
            let mut sum = 0;
            for call in calls {
                sum += call.await.unwrap();
            }
            sum
        })
        .unwrap();
    assert_eq!(sum, 385);
    let method = event_loop.run_in_executor(&*pool, |s: String| s.len(), "four".to_owned());
    assert_eq!(event_loop.run_until_complete(method).unwrap().unwrap(), 4);

    pool.shutdown(true, false);
    let refused = event_loop.run_in_executor(&*pool, |x: u8| x, 1);
    let err = event_loop.run_until_complete(refused).unwrap().unwrap_err();
    assert!(err.is_shutdown(), "{err}");
}

// Checks that cancelling an asyncio task that awaits `run_in_executor`
// cancels the call if it has not started (Python: `wrap_future` chains the
// cancel): with one worker busy, the queued call never runs, and the
// awaiting task's cleanup runs. A call already running cannot be stopped
// (it is a thread): its awaiting task is cancelled and the call finishes.
#[test]
fn cancelling_the_await_cancels_the_queued_call() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .build()
        .unwrap();
    let (release, held) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel::<()>();
    let first_done = Arc::new(AtomicBool::new(false));
    let second_ran = Arc::new(AtomicBool::new(false));
    let busy = {
        let done = Arc::clone(&first_done);
        run_in_executor(
            &pool,
            move |()| {
                started_tx.send(()).unwrap();
                held.recv_timeout(DEADLINE).unwrap();
                done.store(true, SeqCst);
            },
            (),
        )
    };
    started.recv_timeout(DEADLINE).unwrap();
    let cleaned = Rc::new(Cell::new(false));
    let event_loop = EventLoop::new().unwrap();
    let first = event_loop.create_task(busy);
    let second = {
        let ran = Arc::clone(&second_ran);
        let queued = run_in_executor(&pool, move |()| ran.store(true, SeqCst), ());
        let guard = Guard(cleaned.clone());
        event_loop.create_task(async move {
            let _guard = guard;
            queued.await
        })
    };
    let (a, b) = (first.clone(), second.clone());
    let outcome = event_loop
        .run_until_complete(async move {
            sleep(Duration::ZERO).await; // both are awaiting now
            assert!(b.cancel());
            assert!(a.cancel());
            let b = b.await.unwrap_err();
            let a = a.await.unwrap_err();
            release.send(()).unwrap();
            (a, b)
        })
        .unwrap();
    assert!(outcome.0.is_cancelled() && outcome.1.is_cancelled());
    assert!(cleaned.get(), "the awaiting task's Drop ran");
    pool.shutdown(true, false);
    assert!(first_done.load(SeqCst), "the running call finished");
    assert!(!second_ran.load(SeqCst), "the queued call was cancelled");
}

// Checks `run_in_executor` into a `ProcessPoolExecutor` whose worker aborts
// (`std::process::abort` in the task): only that await fails, with the
// worker's death; the other calls in flight, a task ticking on the loop,
// and later calls (on a replacement worker) all go on.
#[test]
fn a_process_worker_that_aborts_fails_only_its_await() {
    let pool = Arc::new(
        ProcessPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap(),
    );
    let p = Arc::clone(&pool);
    let ticks = Rc::new(Cell::new(0));
    let t = ticks.clone();
    let (doomed, fine, later) = run(async move {
        let ticker = create_task(async move {
            for _ in 0..3 {
                t.set(t.get() + 1);
                sleep(Duration::ZERO).await;
            }
        });
        let doomed = run_in_executor(&*p, abort as fn(()) -> u64, ());
        let fine: Vec<_> = (1..=4_u64)
            .map(|x| run_in_executor(&*p, square as fn(u64) -> u64, x))
            .collect();
        let doomed = doomed.await;
        let mut results = Vec::new();
        for call in fine {
            results.push(call.await.unwrap());
        }
        ticker.await.unwrap();
        let later = run_in_executor(&*p, square as fn(u64) -> u64, 9).await;
        (doomed, results, later)
    })
    .unwrap();
    let err = doomed.unwrap_err();
    assert!(err.is_worker_died(), "{err}");
    assert!(err.to_string().contains("SIGABRT"), "{err}");
    assert_eq!(fine, [1, 4, 9, 16]);
    assert_eq!(later.unwrap(), 81);
    assert_eq!(ticks.get(), 3);
    pool.shutdown(true, false);
}

// ---------------------------------------------------------------------------
// wrap_future
// ---------------------------------------------------------------------------

// Port of test_futures.py `test_wrap_future`: a thread pool's task awaited
// on the loop gives its value, computed on another thread.
#[test]
fn test_wrap_future() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .build()
        .unwrap();
    let f1 = pool
        .submit(|arg: &str| (arg, thread::current().id()), "oi")
        .unwrap();
    let event_loop = EventLoop::new().unwrap();
    let (res, ident) = event_loop
        .run_until_complete(wrap_future(f1))
        .unwrap()
        .unwrap();
    assert_eq!(res, "oi");
    assert_ne!(ident, thread::current().id());
    pool.shutdown(true, false);
}

// Port of test_futures.py `test_wrap_future_cancel`: cancelling the wrapper
// (here: dropping it, as cancelling its awaiting task does) cancels the
// concurrent task, which then never starts.
#[test]
fn test_wrap_future_cancel() {
    let (f1, promise) = ConcurrentTask::<i32>::pending();
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    f1.add_done_callback(move |r| {
        *s.lock().unwrap() = Some(r.copied().map_err(|e| e.is_cancelled()))
    });
    let event_loop = EventLoop::new().unwrap();
    let task = event_loop.create_task(wrap_future(f1));
    event_loop
        .run_until_complete(sleep(Duration::ZERO))
        .unwrap();
    assert!(task.cancel());
    let err = event_loop.run_until_complete(task).unwrap().unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(*seen.lock().unwrap(), Some(Err(true)));
    assert!(!promise.start(), "the executor must skip it");
}

// Port of test_futures.py `test_wrap_future_cancel2`: a concurrent task
// that finished is not cancelled by cancelling its wrapper.
#[test]
fn test_wrap_future_cancel2() {
    let (f1, promise) = ConcurrentTask::<i32>::pending();
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    f1.add_done_callback(move |r| *s.lock().unwrap() = Some(r.copied().map_err(|e| e.to_string())));
    let f2 = wrap_future(f1);
    promise.complete(Ok(42));
    drop(f2);
    assert_eq!(*seen.lock().unwrap(), Some(Ok(42)));
}

// Checks that a wrapped task completed by another thread wakes a loop that
// waits with nothing else to do: the wake-up goes through the loop's
// thread-safe inbox.
#[test]
fn wrap_future_wakes_a_waiting_loop() {
    let (task, promise) = ConcurrentTask::pending();
    let (tx, rx) = mpsc::channel::<()>();
    let completer = thread::spawn(move || {
        rx.recv_timeout(DEADLINE).unwrap();
        promise.complete(Ok("from a thread"));
    });
    let got = run(async move {
        let wrapped = wrap_future(task);
        tx.send(()).unwrap(); // completed while (or before) the loop waits
        wrapped.await.unwrap()
    })
    .unwrap();
    completer.join().unwrap();
    assert_eq!(got, "from a thread");
}

// ---------------------------------------------------------------------------
// run_coroutine_threadsafe (test_tasks.py RunCoroutineThreadsafeTests)
// ---------------------------------------------------------------------------

/// test_tasks.py `RunCoroutineThreadsafeTests.add`: waits a moment, then
/// returns `a + b`, or fails, or cancels itself.
async fn add(a: u64, b: u64, fail: bool, cancel: bool) -> u64 {
    sleep(Duration::from_millis(5)).await;
    if fail {
        panic!("Fail!");
    }
    if cancel {
        current_task().unwrap().cancel();
        sleep(Duration::ZERO).await;
    }
    a + b
}

/// test_tasks.py `RunCoroutineThreadsafeTests.target`: from a thread of the
/// loop's default executor, runs `add` on the loop and blocks on its
/// result; cancels it if still not done.
fn target(
    handle: LoopHandle,
    fail: bool,
    cancel: bool,
    timeout: Option<Duration>,
) -> Result<u64, corun::Error> {
    let mut future = handle.spawn_threadsafe(move || add(1, 2, fail, cancel));
    let result = match timeout {
        Some(timeout) => future.result_timeout(timeout),
        None => future.result_timeout(DEADLINE),
    };
    if !future.done() {
        future.cancel();
    }
    result
}

// Port of `test_run_coroutine_threadsafe`.
#[test]
fn test_run_coroutine_threadsafe() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let future = event_loop.to_thread(move || target(handle, false, false, None));
    let result = event_loop.run_until_complete(future).unwrap().unwrap();
    assert_eq!(result.unwrap(), 3);
}

// Port of `test_run_coroutine_threadsafe_with_exception`.
#[test]
fn test_run_coroutine_threadsafe_with_exception() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let future = event_loop.to_thread(move || target(handle, true, false, None));
    let err = event_loop
        .run_until_complete(future)
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(err.panic_message(), Some("Fail!"));
}

// Port of `test_run_coroutine_threadsafe_with_timeout`: the blocking wait
// times out, the target cancels the concurrent task, and the asyncio task
// `add` ends cancelled: no task is left pending.
#[test]
fn test_run_coroutine_threadsafe_with_timeout() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let future = event_loop.to_thread(move || target(handle, false, false, Some(Duration::ZERO)));
    let err = event_loop
        .run_until_complete(future)
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // Python's `run_briefly`: here until the cancel has been delivered.
    event_loop
        .run_until_complete(async {
            while !corun::asyncio::all_tasks()
                .iter()
                .all(|t| t == &current_task().unwrap())
            {
                sleep(Duration::ZERO).await;
            }
        })
        .unwrap();
    assert!(event_loop.all_tasks().is_empty());
}

// Port of `test_run_coroutine_threadsafe_task_cancelled`: the asyncio task
// cancels itself, and the concurrent task is cancelled.
#[test]
fn test_run_coroutine_threadsafe_task_cancelled() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let future = event_loop.to_thread(move || target(handle, false, true, None));
    let err = event_loop
        .run_until_complete(future)
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(err.is_cancelled(), "{err}");
}

// Checks `run_coroutine_threadsafe` with a `Send` future, from another
// thread, to a loop running on its own thread.
#[test]
fn run_coroutine_threadsafe_from_another_thread() {
    let lt = LoopThread::start();
    let task = run_coroutine_threadsafe(async { thread::current().id() }, &lt.handle);
    let ran_on = task.result().unwrap();
    assert_ne!(ran_on, thread::current().id());
    assert_eq!(ran_on, lt.thread.thread().id());
    lt.stop();
}

// Checks cancel-while-running from another thread: the asyncio task is
// suspended in a long sleep; cancelling its concurrent task from the other
// thread succeeds at once (Python: the future from
// `run_coroutine_threadsafe` is cancelled and chains the cancel to the
// task), and the asyncio task stops at its await: its cleanup runs on the
// loop's thread, and the loop has no task left.
#[test]
fn cancelling_from_another_thread_cancels_the_running_task() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let loop_thread = thread::current().id();
    let (dropped_tx, dropped) = mpsc::channel();
    let canceller = thread::spawn(move || {
        let (started_tx, started) = mpsc::channel();
        let task = handle.spawn_threadsafe(move || async move {
            let _cleanup = DropSignal(dropped_tx);
            started_tx.send(()).unwrap();
            sleep(Duration::from_secs(3600)).await;
            1
        });
        started.recv_timeout(DEADLINE).unwrap();
        assert!(task.running());
        assert!(task.cancel(), "an asyncio task cancels while it runs");
        assert!(task.cancelled() && task.done());
        let cleaned_on = dropped.recv_timeout(DEADLINE).unwrap();
        handle.stop();
        (task.result().unwrap_err(), cleaned_on)
    });
    event_loop.run_forever().unwrap();
    let (err, cleaned_on) = canceller.join().unwrap();
    assert!(err.is_cancelled());
    assert_eq!(cleaned_on, loop_thread);
    assert!(event_loop.all_tasks().is_empty());
}

// Checks a concurrent task cancelled before the loop got to it: its future
// is made but never polled (as in Python, where the chained task is
// cancelled before its first step).
#[test]
fn cancelled_before_the_loop_runs_it() {
    let event_loop = EventLoop::new().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    let task = event_loop
        .handle()
        .spawn_threadsafe(move || async move { r.store(true, SeqCst) });
    assert!(task.cancel());
    event_loop
        .run_until_complete(sleep(Duration::ZERO))
        .unwrap();
    event_loop
        .run_until_complete(sleep(Duration::ZERO))
        .unwrap();
    assert!(!ran.load(SeqCst));
    assert!(event_loop.all_tasks().is_empty());
    assert!(task.result().unwrap_err().is_cancelled());
}

// Checks the closed loop: scheduling onto it fails the concurrent task
// with a shut-down error at once (Python raises "Event loop is closed");
// a task still pending when the loop closes fails its concurrent task the
// same way (Python's future would wait forever), after its cleanup ran;
// and `run`, which cancels what is left before closing, makes it
// cancelled.
#[test]
fn the_loop_closed() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    event_loop.close().unwrap();
    let err = run_coroutine_threadsafe(async { 1 }, &handle)
        .result()
        .unwrap_err();
    assert!(err.is_shutdown(), "{err}");
    assert!(err.to_string().contains("event loop closed"), "{err}");

    let event_loop = EventLoop::new().unwrap();
    let cleaned = Rc::new(Cell::new(false));
    let guard = Guard(cleaned.clone());
    let pending = event_loop
        .create_task(async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await;
        })
        .into_concurrent();
    event_loop
        .run_until_complete(sleep(Duration::ZERO))
        .unwrap();
    assert!(pending.running());
    event_loop.close().unwrap();
    assert!(cleaned.get());
    let err = pending.result().unwrap_err();
    assert!(err.is_shutdown(), "{err}");

    let (tx, rx) = mpsc::channel();
    run(async move {
        let view = create_task(sleep(Duration::from_secs(3600))).into_concurrent();
        tx.send(view).unwrap();
    })
    .unwrap();
    let view = rx.recv().unwrap();
    assert!(view.cancelled());
}

// Checks the concurrent view of a task that is done already, and that its
// value moved to the view.
#[test]
fn into_concurrent_of_a_done_task() {
    let event_loop = EventLoop::new().unwrap();
    let task = event_loop.create_task(async { "v".to_owned() });
    let again = task.clone();
    event_loop
        .run_until_complete(sleep(Duration::ZERO))
        .unwrap();
    assert!(task.done());
    let view = task.into_concurrent();
    assert_eq!(view.result().unwrap(), "v");
    let err = event_loop.run_until_complete(again).unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyTaken);
}

// ---------------------------------------------------------------------------
// concurrent::wait and as_completed over asyncio tasks
// ---------------------------------------------------------------------------

/// Schedules, from this thread, a task on the loop that sleeps `ms` and
/// returns `value`.
fn sleeper(handle: &LoopHandle, ms: u64, value: u64) -> ConcurrentTask<u64> {
    handle.spawn_threadsafe(move || async move {
        sleep(Duration::from_millis(ms)).await;
        value
    })
}

// Checks `corun::concurrent::as_completed` from another thread over asyncio
// tasks and a thread pool's task together: they come in completion order
// (the loop runs its timers by deadline).
#[test]
fn as_completed_over_asyncio_tasks() {
    let lt = LoopThread::start();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .build()
        .unwrap();
    let (go, gate) = mpsc::channel::<()>();
    let from_pool = pool
        .spawn(move || {
            gate.recv_timeout(DEADLINE).unwrap();
            0
        })
        .unwrap();
    let tasks = vec![
        sleeper(&lt.handle, 30, 3),
        sleeper(&lt.handle, 10, 1),
        from_pool,
        sleeper(&lt.handle, 20, 2),
    ];
    let mut order = Vec::new();
    for (i, task) in as_completed(tasks, Some(DEADLINE)).enumerate() {
        let value = task.unwrap().result().unwrap();
        order.push(value);
        if i == 2 {
            go.send(()).unwrap();
        }
    }
    assert_eq!(order, [1, 2, 3, 0]);
    lt.stop();
}

// Checks `corun::concurrent::wait` from another thread over asyncio tasks:
// `FirstCompleted` returns with the quick one done and the endless one
// not; cancelling the endless one from this thread cancels it on the loop
// (its cleanup runs there) and `AllCompleted` then returns.
#[test]
fn wait_over_asyncio_tasks() {
    let lt = LoopThread::start();
    let (dropped_tx, dropped) = mpsc::channel();
    let endless = lt.handle.spawn_threadsafe(move || async move {
        let _cleanup = DropSignal(dropped_tx);
        sleep(Duration::from_secs(3600)).await;
        0_u64
    });
    let quick = sleeper(&lt.handle, 1, 1);
    let w = wait([endless, quick], Some(DEADLINE), ReturnWhen::FirstCompleted);
    assert_eq!((w.done.len(), w.not_done.len()), (1, 1));
    assert!(w.not_done[0].running());
    assert!(w.not_done[0].cancel());
    let cleaned_on = dropped.recv_timeout(DEADLINE).unwrap();
    assert_eq!(cleaned_on, lt.thread.thread().id());
    let all: Vec<_> = w.done.into_iter().chain(w.not_done).collect();
    let w = wait(all, Some(DEADLINE), ReturnWhen::AllCompleted);
    assert!(w.not_done.is_empty());
    let outcomes: Vec<_> = w.done.into_iter().map(|t| t.result()).collect();
    assert_eq!(*outcomes[0].as_ref().unwrap(), 1);
    assert!(outcomes[1].as_ref().unwrap_err().is_cancelled());
    lt.stop();
}

// Checks that the awaitable of a thread's or a process's work may cross
// threads with its task (it holds no loop state), and is `Debug`.
#[test]
fn wrapped_task_is_send_and_debug() {
    fn assert_send_debug<T: Send + std::fmt::Debug>() {}
    assert_send_debug::<corun::asyncio::WrappedTask<u8>>();
}
