//! Ports of pyee's tests (tests/test_sync.py, tests/test_asyncio.py),
//! each naming its test; pyee's `Mock` is a counter, its asyncio futures
//! are `once` futures or shared cells.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corun::ErrorKind;
use corun::asyncio::{EventLoop, run, sleep};
use corun::events::{EventEmitter, LocalEmitter};

/// test_sync.py::test_emit_sync and test_emit_return.
#[test]
fn emit_sync_and_return() {
    let ee = EventEmitter::<String>::new();
    assert!(ee.event_names().is_empty());
    assert!(
        !ee.emit("data", String::new()).unwrap(),
        "no listener: false"
    );
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    ee.on("event", move |data| {
        assert_eq!(data, "emitter is emitted!");
        c.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(ee.event_names(), ["event"]);
    assert!(ee.emit("event", "emitter is emitted!".into()).unwrap());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// test_sync.py::test_emit_error: raises with no handler, else handled.
#[test]
fn emit_error() {
    let ee = EventEmitter::<()>::new();
    let err = ee
        .emit_error(corun::Error::new(ErrorKind::InvalidArgument, "lololol"))
        .unwrap_err();
    assert_eq!(err.to_string(), "lololol");
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    ee.on_error(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(ee.event_names(), ["error"]);
    assert!(
        ee.emit_error(corun::Error::new(ErrorKind::InvalidArgument, "lololol"))
            .unwrap()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// test_sync.py::test_new_listener_event.
#[test]
fn new_listener_event() {
    let ee = EventEmitter::<()>::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    ee.on_new_listener(move |name, id| s.lock().unwrap().push((name.to_owned(), id)));
    let handler = ee.on("event", |_| {});
    assert_eq!(ee.event_names(), ["new_listener", "event"]);
    assert_eq!(*seen.lock().unwrap(), [("event".to_owned(), handler)]);
}

/// test_sync.py::test_listener_removal.
#[test]
fn listener_removal() {
    let ee = EventEmitter::<()>::new();
    let first = ee.on("event", |_| {});
    let second = ee.on("event", |_| {});
    let third = ee.on("event", |_| {});
    let fourth = ee.on("event", |_| {});
    assert_eq!(ee.listeners("event"), [first, second, third, fourth]);
    ee.remove_listener("event", second);
    assert_eq!(ee.listeners("event"), [first, third, fourth]);
    ee.remove_listener("event", first);
    assert_eq!(ee.listeners("event"), [third, fourth]);
    ee.remove_all_listeners(Some("event"));
    assert!(ee.listeners("event").is_empty());
    assert!(ee.event_names().is_empty());
}

/// test_sync.py::test_listener_removal_on_emit: a listener removed during
/// an emit is still called in that emit, in either order.
#[test]
fn listener_removal_on_emit() {
    for remover_first in [true, false] {
        let ee = LocalEmitter::<()>::new();
        let calls = Rc::new(Cell::new(0));
        let call_me = Rc::new(Cell::new(None));
        let (e2, cm) = (ee.clone(), call_me.clone());
        let should_remove = move |_: &()| {
            e2.remove_listener("remove", cm.get().unwrap());
        };
        let c = calls.clone();
        let counter = move |_: &()| c.set(c.get() + 1);
        if remover_first {
            ee.on("remove", should_remove);
            call_me.set(Some(ee.on("remove", counter)));
        } else {
            call_me.set(Some(ee.on("remove", counter)));
            ee.on("remove", should_remove);
        }
        ee.emit("remove", ()).unwrap();
        assert_eq!(calls.get(), 1);
        ee.emit("remove", ()).unwrap();
        assert_eq!(calls.get(), 1, "removed for the next emit");
    }
}

/// test_sync.py::test_once and test_once_removal.
#[test]
fn once_and_once_removal() {
    let ee = LocalEmitter::<&'static str>::new();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    ee.once("event", move |data| {
        assert_eq!(*data, "emitter is emitted!");
        c.set(c.get() + 1);
    });
    assert_eq!(ee.event_names(), ["event"]);
    ee.emit("event", "emitter is emitted!").unwrap();
    assert_eq!(calls.get(), 1);
    assert!(ee.event_names().is_empty());

    let handle = ee.once("event", |_| {});
    assert_eq!(ee.event_names(), ["event"]);
    assert!(ee.remove_listener("event", handle));
    assert!(ee.event_names().is_empty());
}

/// test_sync.py::test_listeners: a copy, in order, once listeners too.
#[test]
fn listeners_copy() {
    let ee = LocalEmitter::<()>::new();
    let handler = ee.on("event", |_| {});
    let once_handler = ee.once("event", |_| {});
    let mut listeners = ee.listeners("event");
    assert_eq!(listeners, [handler, once_handler]);
    listeners[0] = once_handler;
    assert_eq!(ee.listeners("event"), [handler, once_handler]);
    assert!(ee.listeners("unknown").is_empty());
}

/// test_asyncio.py::test_emit and test_once_emit: async listeners run as
/// tasks; `complete` afterwards.
#[test]
fn async_emit_and_once_emit() {
    run(async {
        let ee = LocalEmitter::<()>::new();
        let called = Rc::new(Cell::new(0));
        let c = called.clone();
        ee.on_async("event", move |_| {
            let c = c.clone();
            async move { c.set(c.get() + 1) }
        });
        let c = called.clone();
        ee.once_async("event", move |_| {
            let c = c.clone();
            async move { c.set(c.get() + 10) }
        });
        ee.emit("event", ()).unwrap();
        assert_eq!(called.get(), 0, "tasks, not calls");
        ee.wait_for_complete().await;
        assert_eq!(called.get(), 11);
        ee.emit("event", ()).unwrap();
        ee.wait_for_complete().await;
        assert_eq!(called.get(), 12, "the once listener ran once");
        assert!(ee.complete());
    })
    .unwrap();
}

/// test_asyncio.py::test_error and test_sync_error: an async listener's
/// failure (Err or panic) and a sync listener's panic reach `error`.
#[test]
fn async_and_sync_errors_reach_error() {
    run(async {
        let ee = LocalEmitter::<()>::new();
        let errors = Rc::new(RefCell::new(Vec::new()));
        let e = errors.clone();
        ee.on_error(move |err| e.borrow_mut().push(err.to_string()));
        ee.on_async("returns", |_| async {
            Err(corun::Error::new(
                ErrorKind::InvalidArgument,
                "PyeeTestError",
            ))
        });
        ee.on_async("panics", |_| async { boom("async boom") });
        ee.on("sync", |_| panic!("sync boom"));
        ee.emit("returns", ()).unwrap();
        ee.emit("panics", ()).unwrap();
        ee.emit("sync", ()).unwrap();
        ee.wait_for_complete().await;
        let errors = errors.borrow();
        assert!(errors.contains(&"PyeeTestError".to_owned()), "{errors:?}");
        assert!(
            errors.iter().any(|e| e.contains("async boom")),
            "{errors:?}"
        );
        assert!(errors.iter().any(|e| e.contains("sync boom")), "{errors:?}");
        assert_eq!(errors.len(), 3);
    })
    .unwrap();
}

/// test_asyncio.py::test_wait_for_complete: a sleeping listener keeps it
/// incomplete until awaited.
#[test]
fn wait_for_complete() {
    run(async {
        let ee = EventEmitter::<u64>::new();
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        ee.on_async("event", move |ms| {
            let d = d.clone();
            async move {
                sleep(Duration::from_millis(ms)).await;
                d.fetch_add(1, Ordering::SeqCst);
            }
        });
        ee.emit("event", 20).unwrap();
        sleep(Duration::ZERO).await;
        assert!(!ee.complete(), "still running");
        ee.wait_for_complete().await;
        assert!(ee.complete());
        assert_eq!(done.load(Ordering::SeqCst), 1);
    })
    .unwrap();
}

/// test_asyncio.py::test_event_emitter_canceled (the loop's side): a loop
/// closed under a running listener task leaves the emitter complete, and
/// nothing reaches `error`.
#[test]
fn closing_the_loop_completes_the_emitter() {
    let event_loop = EventLoop::new().unwrap();
    let ee = EventEmitter::<()>::new();
    ee.on_error(|e| panic!("a cancelled task is no failure: {e}"));
    let e2 = ee.clone();
    event_loop
        .run_until_complete(async move {
            e2.on_async("event", |_| async {
                sleep(Duration::from_secs(3600)).await
            });
            e2.emit("event", ()).unwrap();
            sleep(Duration::ZERO).await;
            assert!(!e2.complete());
        })
        .unwrap();
    event_loop.close().unwrap();
    assert!(ee.complete());
}

/// Panics with `message`: an async block's body that returns `()`.
fn boom(message: &str) {
    panic!("{message}")
}
