//! Behaviour of `Thread` and `Timer`, ported from CPython's
//! `Lib/test/test_threading.py` (`ThreadTests`, `ThreadingExceptionTests`,
//! `TimerTests`) and adapted to the Rust API, where `join` hands back the
//! function's value or its panic.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use common::{Probe, poll_until};
use corun_threading::threading::{BoundedSemaphore, Event, Lock, Thread, Timer};

/// The number in a default `Thread-N` name.
fn default_number(name: &str) -> usize {
    name.strip_prefix("Thread-")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name:?} is not a default thread name"))
}

// ---------------------------------------------------------------------------
// ThreadTests
// ---------------------------------------------------------------------------

// Ports Lib/test/test_threading.py ThreadTests.test_name: a custom name is
// the thread's name, seen from outside and by the thread itself.
#[test]
fn test_name_custom() {
    let t = Thread::builder()
        .name("myname1")
        .spawn(|| std::thread::current().name().map(str::to_owned))
        .unwrap();
    assert_eq!(t.name(), "myname1");
    assert_eq!(t.join().unwrap().as_deref(), Some("myname1"));
    // Python converts name=123 to "123"; any Into<String> works here.
    let t = Thread::builder()
        .name(123.to_string())
        .spawn(|| ())
        .unwrap();
    assert_eq!(t.name(), "123");
    t.join().unwrap();
}

// Ports Lib/test/test_threading.py ThreadTests.test_name: the default name
// is `Thread-N`, N counting up, and the OS thread carries it too.
#[test]
fn test_name_default() {
    let a = Thread::spawn(|| std::thread::current().name().map(str::to_owned)).unwrap();
    let b = Thread::spawn(|| std::thread::current().name().map(str::to_owned)).unwrap();
    let (na, nb) = (a.name().to_owned(), b.name().to_owned());
    // Other tests create threads concurrently, so only the order is known.
    assert!(default_number(&na) < default_number(&nb), "{na} then {nb}");
    assert_eq!(a.join().unwrap(), Some(na));
    assert_eq!(b.join().unwrap(), Some(nb));
}

// Ports Lib/test/test_threading.py ThreadTests.test_various_ops: ten named
// threads, at most three at once inside a BoundedSemaphore(3), all joined,
// none alive afterwards, each with its own identity.
#[test]
fn test_various_ops() {
    const NUMTASKS: usize = 10;
    let sema = Arc::new(BoundedSemaphore::new(3));
    let numrunning = Arc::new(Lock::new(0_usize));
    let max_running = Arc::new(AtomicUsize::new(0));
    let threads: Vec<Thread<ThreadId>> = (0..NUMTASKS)
        .map(|i| {
            let (sema, numrunning, max_running) = (
                Arc::clone(&sema),
                Arc::clone(&numrunning),
                Arc::clone(&max_running),
            );
            Thread::builder()
                .name(format!("<thread {i}>"))
                .spawn(move || {
                    let _permit = sema.acquire();
                    {
                        let mut n = numrunning.acquire();
                        *n += 1;
                        assert!(*n <= 3);
                        max_running.fetch_max(*n, SeqCst);
                    }
                    std::thread::yield_now();
                    *numrunning.acquire() -= 1;
                    std::thread::current().id()
                })
                .unwrap()
        })
        .collect();
    let mut idents = Vec::new();
    for (i, t) in threads.into_iter().enumerate() {
        assert_eq!(t.name(), format!("<thread {i}>"));
        let ident = t.ident();
        assert_eq!(t.join().unwrap(), ident);
        idents.push(ident);
    }
    let distinct: HashSet<ThreadId> = idents.into_iter().collect();
    assert_eq!(distinct.len(), NUMTASKS);
    assert_eq!(*numrunning.acquire(), 0);
    assert!(max_running.load(SeqCst) <= 3);
    assert_eq!(sema.value(), 3);
}

// Ports Lib/test/test_threading.py ThreadTests.test_ident_of_no_threading_threads:
// ident is the thread's own identity, as std::thread::current() sees it.
#[test]
fn test_ident() {
    let t = Thread::spawn(|| std::thread::current().id()).unwrap();
    let ident = t.ident();
    assert_ne!(ident, std::thread::current().id());
    assert_eq!(t.join().unwrap(), ident);
}

// Checks the Rust addition to Thread.join (no CPython test; Python's join
// returns None): join hands back the function's value.
#[test]
fn join_returns_value() {
    let t = Thread::spawn(|| vec![1, 2, 3]).unwrap();
    assert_eq!(t.join().unwrap(), [1, 2, 3]);
    let t = Thread::builder()
        .stack_size(256 * 1024)
        .spawn(|| "small stack")
        .unwrap();
    assert_eq!(t.join().unwrap(), "small stack");
}

// Ports Lib/test/test_threading.py ExceptHookTests.test_excepthook, as the
// Rust API reports it: a panic in the thread comes back from join as an
// error carrying the message (Python hands the exception to excepthook).
#[test]
fn join_returns_panic() {
    let t = Thread::spawn(|| -> u8 { panic!("run failed") }).unwrap();
    let err = t.join().unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("run failed"));
    assert!(err.to_string().contains("run failed"));
    assert!(!err.is_timeout());
    // A formatted (String) payload too.
    let t = Thread::spawn(|| -> u8 { panic!("value {}", 42) }).unwrap();
    assert_eq!(t.join().unwrap_err().panic_message(), Some("value 42"));
}

// Ports Lib/test/test_threading.py ThreadTests.test_tstate_lock: a thread
// is alive until its function returns, and not afterwards; a timed join on
// a running thread times out and leaves it running and joinable (Python:
// join(timeout) returns and is_alive() stays true).
#[test]
fn join_timeout_and_is_alive() {
    let finish = Arc::new(Event::new());
    let mut t = {
        let finish = Arc::clone(&finish);
        Thread::spawn(move || {
            finish.wait();
            7
        })
        .unwrap()
    };
    assert!(t.is_alive());
    let t1 = Instant::now();
    let err = t.join_timeout(Duration::from_millis(20)).unwrap_err();
    assert!(err.is_timeout());
    assert!(t1.elapsed() >= Duration::from_millis(20));
    assert!(t.is_alive());
    // Joinable again, still running.
    assert!(t.join_timeout(Duration::ZERO).unwrap_err().is_timeout());
    finish.set();
    poll_until("the thread ends", || !t.is_alive());
    assert_eq!(t.join_timeout(Duration::from_secs(10)).unwrap(), 7);
    assert!(!t.is_alive());
}

// Checks that a successful join_timeout takes the result (no CPython test:
// Python's join has no result): a later join reports it was already joined.
#[test]
fn join_after_join_timeout_reports_already_joined() {
    let mut t = Thread::spawn(|| 1).unwrap();
    assert_eq!(t.join_timeout(Duration::from_secs(10)).unwrap(), 1);
    let err = t.join().unwrap_err();
    assert!(!err.is_panic() && !err.is_timeout());
    assert!(err.to_string().contains("already joined"), "{err}");
}

// Checks (no direct CPython test) that join waits for a thread that is
// really blocked, and returns once it is released.
#[test]
fn join_waits_for_blocked_thread() {
    let go = Arc::new(Event::new());
    let (tx, rx) = mpsc::channel();
    let t = {
        let go = Arc::clone(&go);
        Thread::spawn(move || {
            tx.send(Probe::current()).unwrap();
            go.wait();
            "released"
        })
        .unwrap()
    };
    rx.recv().unwrap().wait_until_blocked();
    assert!(t.is_alive());
    go.set();
    assert_eq!(t.join().unwrap(), "released");
}

// Ports Lib/test/test_threading.py ThreadingExceptionTests.test_joining_current_thread:
// a thread that joins itself gets an error (Python: RuntimeError("cannot
// join current thread")) instead of waiting for itself forever, and its
// handle stays joinable by another thread.
#[test]
fn test_joining_current_thread() {
    type Slot = Arc<Mutex<Option<Thread<String>>>>;
    let slot: Slot = Arc::default();
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let t = {
        let slot = Arc::clone(&slot);
        Thread::spawn(move || {
            ready_rx.recv().unwrap();
            let mut guard = slot.lock().unwrap();
            let me = guard.as_mut().expect("the handle is in the slot");
            let err = me.join_timeout(Duration::MAX).unwrap_err();
            assert!(err.is_deadlock() && !err.is_timeout(), "{err}");
            tx.send(err.to_string()).unwrap();
            "after".to_owned()
        })
        .unwrap()
    };
    *slot.lock().unwrap() = Some(t);
    ready_tx.send(()).unwrap();
    let message = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("join_timeout from the thread itself returned");
    assert!(message.contains("cannot join current thread"), "{message}");
    poll_until("the thread ends", || {
        slot.lock().unwrap().as_ref().is_some_and(|t| !t.is_alive())
    });
    let t = slot.lock().unwrap().take().unwrap();
    assert_eq!(t.join().unwrap(), "after");

    // `join` (which consumes the handle) fails the same way.
    let slot: Slot = Arc::default();
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let t = {
        let slot = Arc::clone(&slot);
        Thread::spawn(move || {
            ready_rx.recv().unwrap();
            let me = slot
                .lock()
                .unwrap()
                .take()
                .expect("the handle is in the slot");
            tx.send(me.join().unwrap_err().to_string()).unwrap();
            String::new()
        })
        .unwrap()
    };
    *slot.lock().unwrap() = Some(t);
    ready_tx.send(()).unwrap();
    let message = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("join from the thread itself returned");
    assert!(message.contains("cannot join current thread"), "{message}");
}

// Python's Thread.__init__ names a thread `str(name) if name else
// _newname()`: an empty name gets the default `Thread-N`, as in
// test_name's default case.
#[test]
fn empty_name_is_the_default() {
    let t = Thread::builder()
        .name("")
        .spawn(|| std::thread::current().name().map(str::to_owned))
        .unwrap();
    let name = t.name().to_owned();
    default_number(&name);
    assert_eq!(t.join().unwrap(), Some(name));
}

// ---------------------------------------------------------------------------
// TimerTests
// ---------------------------------------------------------------------------

// Ports Lib/test/test_threading.py TimerTests.test_init_immutable_default_args:
// two timers each run their own callback once.
#[test]
fn timer_test_init_immutable_default_args() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let callback_event = Arc::new(Event::new());
    let timer = |tag: &'static str| {
        let (calls, callback_event) = (Arc::clone(&calls), Arc::clone(&callback_event));
        Timer::new(Duration::from_millis(10), move || {
            calls.lock().unwrap().push(tag);
            callback_event.set();
        })
    };
    let mut timer1 = timer("timer1");
    timer1.start().unwrap();
    callback_event.wait();
    callback_event.clear();
    let mut timer2 = timer("timer2");
    timer2.start().unwrap();
    callback_event.wait();
    assert_eq!(*calls.lock().unwrap(), ["timer1", "timer2"]);
    assert!(timer1.join().unwrap());
    assert!(timer2.join().unwrap());
}

// Checks Python's documented Timer semantics (no CPython test): the function
// runs once the interval has passed, not before, and join says it ran.
#[test]
fn timer_runs_after_interval() {
    let interval = Duration::from_millis(30);
    let fired_at = Arc::new(Mutex::new(None));
    let started = Instant::now();
    let mut timer = {
        let fired_at = Arc::clone(&fired_at);
        Timer::new(interval, move || {
            *fired_at.lock().unwrap() = Some(Instant::now())
        })
    };
    timer.start().unwrap();
    assert!(timer.join().unwrap());
    let fired_at = fired_at.lock().unwrap().expect("the timer ran");
    assert!(fired_at - started >= interval);
    assert!(!timer.is_alive());
}

// Checks Python's documented Timer.cancel (no CPython test): cancelling
// before the interval prevents the call, and join returns at once instead of
// sleeping out the interval.
#[test]
fn timer_cancel_before_fire() {
    let interval = Duration::from_secs(60);
    let ran = Arc::new(AtomicUsize::new(0));
    let mut timer = {
        let ran = Arc::clone(&ran);
        Timer::new(interval, move || {
            ran.fetch_add(1, SeqCst);
        })
    };
    timer.start().unwrap();
    assert!(timer.is_alive());
    let t1 = Instant::now();
    timer.cancel();
    assert!(!timer.join().unwrap());
    assert!(
        t1.elapsed() < Duration::from_secs(5),
        "join took {:?}",
        t1.elapsed()
    );
    assert_eq!(ran.load(SeqCst), 0);
    assert!(!timer.is_alive());
}

// Checks Timer.cancel before start (no CPython test): the timer never runs.
#[test]
fn timer_cancel_before_start() {
    let ran = Arc::new(AtomicUsize::new(0));
    let mut timer = {
        let ran = Arc::clone(&ran);
        Timer::new(Duration::ZERO, move || {
            ran.fetch_add(1, SeqCst);
        })
    };
    timer.cancel();
    timer.start().unwrap();
    assert!(!timer.join().unwrap());
    assert_eq!(ran.load(SeqCst), 0);
}

// Ports Lib/test/test_threading.py ThreadingExceptionTests.test_start_thread_again
// for Timer (a Thread subclass in Python): a second start is an error.
#[test]
fn timer_start_twice() {
    let mut timer = Timer::new(Duration::ZERO, || ());
    timer.start().unwrap();
    let err = timer.start().unwrap_err();
    assert!(err.to_string().contains("only be started once"), "{err}");
    assert!(timer.join().unwrap());
    // Still an error after the first run finished.
    assert!(timer.start().is_err());
}

// Ports Lib/test/test_threading.py ExceptHookTests.test_excepthook for a
// Timer: a panicking timer function comes back from join as a panic error.
#[test]
fn timer_panic_surfaces_from_join() {
    let mut timer = Timer::new(Duration::from_millis(1), || panic!("timer failed"));
    timer.start().unwrap();
    let err = timer.join().unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("timer failed"));
}

// Ports Lib/test/test_threading.py ThreadingExceptionTests.test_joining_inactive_thread
// for a Timer, as the Rust API defines it: joining an unstarted timer does
// not block and reports that the function did not run (Python raises).
#[test]
fn timer_join_unstarted() {
    let mut timer = Timer::new(Duration::ZERO, || ());
    assert!(!timer.is_alive());
    assert!(!timer.join().unwrap());
    assert!(!timer.join_timeout(Duration::ZERO).unwrap());
}

// Checks Timer.join_timeout (no CPython test): it times out while the timer
// waits, leaves the timer joinable, and reports the run once it is over.
#[test]
fn timer_join_timeout() {
    let mut timer = Timer::new(Duration::from_secs(60), || ());
    timer.start().unwrap();
    let t1 = Instant::now();
    assert!(
        timer
            .join_timeout(Duration::from_millis(20))
            .unwrap_err()
            .is_timeout()
    );
    assert!(t1.elapsed() >= Duration::from_millis(20));
    assert!(timer.is_alive());
    timer.cancel();
    assert!(!timer.join_timeout(Duration::from_secs(10)).unwrap());
    assert!(!timer.is_alive());
}

// Ports Lib/test/test_threading.py ThreadingExceptionTests.test_joining_current_thread
// for a Timer (a Thread subclass in Python): its function joining the timer
// gets an error instead of waiting for itself, and the timer can still be
// joined from outside afterwards.
#[test]
fn timer_joining_itself() {
    let timer = Arc::new(Mutex::new(None::<Timer>));
    let (tx, rx) = mpsc::channel();
    let function = {
        let timer = Arc::clone(&timer);
        move || {
            let mut guard = timer.lock().unwrap();
            let me = guard.as_mut().expect("the timer is in the slot");
            let joined = me.join().map_err(|e| (e.is_deadlock(), e.to_string()));
            let joined_timeout = me
                .join_timeout(Duration::MAX)
                .map_err(|e| (e.is_deadlock(), e.to_string()));
            tx.send((joined, joined_timeout)).unwrap();
        }
    };
    let mut guard = timer.lock().unwrap();
    guard
        .insert(Timer::new(Duration::ZERO, function))
        .start()
        .unwrap();
    drop(guard);
    let (joined, joined_timeout) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the timer's join of itself returned");
    for (is_join_current_thread, message) in [joined.unwrap_err(), joined_timeout.unwrap_err()] {
        assert!(is_join_current_thread, "{message}");
        assert!(message.contains("cannot join current thread"), "{message}");
    }
    let mut timer = timer.lock().unwrap().take().unwrap();
    assert!(
        timer.join().unwrap(),
        "the function ran, and join waited for it"
    );
    assert!(!timer.is_alive());
}
