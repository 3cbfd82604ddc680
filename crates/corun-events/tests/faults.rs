//! Faults and races: panicking listeners, once under concurrent emits
//! from several threads, listeners changing the list during an emit,
//! re-entrant emits, async listeners from other threads.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use corun::ErrorKind;
use corun::asyncio::{EventLoop, run};
use corun::events::{EventEmitter, LocalEmitter};

/// A panicking listener: the rest still run, the panic reaches `error`
/// with its message, and the emit succeeds.
#[test]
fn panicking_listener_rest_run_error_event_gets_it() {
    let ee = EventEmitter::<u32>::new();
    let ran = Arc::new(Mutex::new(Vec::new()));
    let r = ran.clone();
    ee.on("x", move |n| r.lock().unwrap().push(format!("first {n}")));
    ee.on("x", |_| panic!("listener two failed"));
    let r = ran.clone();
    ee.on("x", move |n| r.lock().unwrap().push(format!("third {n}")));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let e = errors.clone();
    ee.on_error(move |err| {
        assert_eq!(err.kind(), ErrorKind::Panicked);
        e.lock()
            .unwrap()
            .push(err.panic_message().unwrap().to_owned());
    });
    assert!(ee.emit("x", 7).unwrap());
    assert_eq!(*ran.lock().unwrap(), ["first 7", "third 7"]);
    assert_eq!(*errors.lock().unwrap(), ["listener two failed"]);
}

/// With nobody listening to `error`, the emit returns the panic; two
/// panics come back as a group, and every listener still ran.
#[test]
fn panics_without_error_listener_are_the_emits_error() {
    let ee = LocalEmitter::<()>::new();
    let ran = Rc::new(RefCell::new(0));
    ee.on("x", |_| panic!("one"));
    let r = ran.clone();
    ee.on("x", move |_| *r.borrow_mut() += 1);
    let err = ee.emit("x", ()).unwrap_err();
    assert_eq!(err.panic_message(), Some("one"));
    assert_eq!(*ran.borrow(), 1);

    ee.on("x", |_| panic!("two"));
    let err = ee.emit("x", ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Group);
    let messages: Vec<_> = err.errors().iter().map(|e| e.panic_message()).collect();
    assert_eq!(messages, [Some("one"), Some("two")]);
    assert_eq!(*ran.borrow(), 2);
}

/// An error listener that panics: its panic is the emit's error.
#[test]
fn panicking_error_listener_is_returned() {
    let ee = EventEmitter::<()>::new();
    ee.on("x", |_| panic!("listener"));
    ee.on_error(|_| panic!("error listener"));
    let err = ee.emit("x", ()).unwrap_err();
    assert_eq!(err.panic_message(), Some("error listener"));
}

/// Eight threads emit at once, 200 times each, over 50 once listeners:
/// each runs exactly once, and all are gone.
#[test]
fn once_runs_exactly_once_under_concurrent_emits() {
    const THREADS: usize = 8;
    const ONCE: usize = 50;
    for _round in 0..20 {
        let ee = EventEmitter::<()>::new();
        ee.set_max_listeners(0);
        let runs: Arc<Vec<AtomicUsize>> =
            Arc::new((0..ONCE).map(|_| AtomicUsize::new(0)).collect());
        for i in 0..ONCE {
            let runs = runs.clone();
            ee.once("go", move |_| {
                runs[i].fetch_add(1, Ordering::SeqCst);
            });
        }
        let start = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (ee, start) = (ee.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    for _ in 0..200 {
                        ee.emit("go", ()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for (i, n) in runs.iter().enumerate() {
            assert_eq!(n.load(Ordering::SeqCst), 1, "once listener {i}");
        }
        assert_eq!(ee.listener_count("go"), 0);
    }
}

/// Threads emitting while others add and remove listeners: no deadlock,
/// and a listener present throughout sees every emit.
#[test]
fn concurrent_emit_add_remove() {
    let ee = EventEmitter::<u64>::new();
    ee.set_max_listeners(0);
    let total = Arc::new(AtomicUsize::new(0));
    let t = total.clone();
    ee.on("n", move |_| {
        t.fetch_add(1, Ordering::Relaxed);
    });
    let emitters: Vec<_> = (0..3)
        .map(|_| {
            let ee = ee.clone();
            std::thread::spawn(move || {
                for i in 0..2000 {
                    ee.emit("n", i).unwrap();
                }
            })
        })
        .collect();
    let churn = {
        let ee = ee.clone();
        std::thread::spawn(move || {
            for _ in 0..2000 {
                let id = ee.on("n", |_| {});
                assert!(ee.off(id));
            }
        })
    };
    for t in emitters {
        t.join().unwrap();
    }
    churn.join().unwrap();
    assert_eq!(total.load(Ordering::Relaxed), 6000);
    assert_eq!(ee.listener_count("n"), 1);
}

/// A listener that removes itself and the next one, adds another and
/// emits re-entrantly: this emit runs the snapshot (the removed one
/// too, the added one not); the nested emit sees the new list.
#[test]
fn listener_changes_the_list_during_emit() {
    let ee = LocalEmitter::<u32>::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let next = Rc::new(RefCell::new(None));
    let (e2, l, n) = (ee.clone(), log.clone(), next.clone());
    let me = Rc::new(RefCell::new(None));
    let m = me.clone();
    *me.borrow_mut() = Some(ee.on("x", move |depth| {
        l.borrow_mut().push(format!("A{depth}"));
        if *depth == 0 {
            e2.off(m.borrow().unwrap());
            e2.off(n.borrow().unwrap());
            let l2 = l.clone();
            e2.on("x", move |d| l2.borrow_mut().push(format!("C{d}")));
            e2.emit("x", 1).unwrap();
        }
    }));
    let l = log.clone();
    *next.borrow_mut() = Some(ee.on("x", move |d| l.borrow_mut().push(format!("B{d}"))));
    ee.emit("x", 0).unwrap();
    assert_eq!(*log.borrow(), ["A0", "C1", "B0"]);
    log.borrow_mut().clear();
    ee.emit("x", 2).unwrap();
    assert_eq!(*log.borrow(), ["C2"]);
}

/// The same on the thread-safe emitter, with a listener adding listeners
/// from inside (a lock held while it ran would deadlock here).
#[test]
fn sync_listener_adds_and_emits_without_deadlock() {
    let ee = EventEmitter::<u32>::new();
    let count = Arc::new(AtomicUsize::new(0));
    let (e2, c) = (ee.clone(), count.clone());
    ee.on("x", move |depth| {
        c.fetch_add(1, Ordering::SeqCst);
        if *depth < 3 {
            let c2 = c.clone();
            e2.on("y", move |_| {
                c2.fetch_add(100, Ordering::SeqCst);
            });
            e2.emit("x", depth + 1).unwrap();
            e2.emit("y", 0).unwrap();
        }
    });
    ee.emit("x", 0).unwrap();
    // 4 emits of x; the nested ones add all three y listeners before the
    // first emit of y, which then runs three times with three.
    assert_eq!(count.load(Ordering::SeqCst), 4 + 100 * 3 * 3);
}

/// Counts the values alive: a listener holding one shows when it is
/// dropped.
struct Alive(Arc<AtomicUsize>);

impl Alive {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count.clone())
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Emits read the listeners without a lock: a removed listener must
/// still be dropped as soon as no emit runs it — at once when none does,
/// after its emit when one does (on this thread or another). Each case
/// runs after 0, 1 and 2 earlier emits, as the first emits after a change
/// take the lock and later ones read the published copy.
#[test]
fn removed_listener_is_dropped_once_no_emit_runs_it() {
    for earlier in 0..3 {
        let ee = EventEmitter::<u32>::new();
        let alive = Arc::new(AtomicUsize::new(0));

        // No emit under way.
        let guard = Alive::new(&alive);
        let id = ee.on("x", move |_| {
            let _ = &guard;
        });
        for _ in 0..earlier {
            ee.emit("x", 0).unwrap();
        }
        assert!(ee.off(id));
        assert_eq!(alive.load(Ordering::SeqCst), 0, "dropped on removal");

        // Removed by an earlier listener of the same emit: it still runs
        // (the snapshot), then goes.
        let ran = Arc::new(AtomicUsize::new(0));
        let victim = Arc::new(Mutex::new(None));
        let (e2, v) = (ee.clone(), victim.clone());
        let remover = ee.on("y", move |n| {
            if *n == 1 {
                let id = v.lock().unwrap().take().unwrap();
                assert!(e2.off(id));
            }
        });
        let (guard, r) = (Alive::new(&alive), ran.clone());
        *victim.lock().unwrap() = Some(ee.on("y", move |_| {
            let _ = &guard;
            r.fetch_add(1, Ordering::SeqCst);
        }));
        for _ in 0..earlier {
            ee.emit("y", 0).unwrap();
        }
        ee.emit("y", 1).unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), earlier + 1, "ran every time");
        assert_eq!(alive.load(Ordering::SeqCst), 0, "dropped after the emit");
        ee.off(remover);

        // Removed from another thread while an emit runs it here.
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let go_rx = Mutex::new(go_rx);
        let guard = Alive::new(&alive);
        let id = ee.on("z", move |n| {
            let _ = &guard;
            if *n == 1 {
                entered_tx.send(()).unwrap();
                go_rx.lock().unwrap().recv().unwrap();
            }
        });
        let emitter = {
            let ee = ee.clone();
            std::thread::spawn(move || {
                for _ in 0..earlier {
                    ee.emit("z", 0).unwrap();
                }
                ee.emit("z", 1).unwrap()
            })
        };
        entered_rx.recv().unwrap();
        assert!(ee.off(id));
        assert_eq!(alive.load(Ordering::SeqCst), 1, "its emit still runs it");
        go_tx.send(()).unwrap();
        assert!(emitter.join().unwrap());
        assert_eq!(
            alive.load(Ordering::SeqCst),
            0,
            "dropped when its emit ended"
        );
    }
}

/// Emits read a copy of the lists that every change retires and a later
/// emit publishes again: whichever emit it is after a change (the first,
/// the second that publishes, the ones reading the copy), on whichever
/// thread, it sees every change made before it started.
#[test]
fn every_emit_sees_the_changes_made_before_it() {
    let ee = EventEmitter::<u32>::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let listener = |calls: &Arc<AtomicUsize>| {
        let c = calls.clone();
        move |_: &u32| {
            c.fetch_add(1, Ordering::SeqCst);
        }
    };
    let mut ids = Vec::new();
    for listeners in 1..=6_usize {
        ids.push(ee.on("x", listener(&calls)));
        ee.on("other", |_| {});
        for _ in 0..3 {
            calls.store(0, Ordering::SeqCst);
            assert!(ee.emit("x", 0).unwrap());
            assert_eq!(calls.load(Ordering::SeqCst), listeners);
            let ee2 = ee.clone();
            calls.store(0, Ordering::SeqCst);
            std::thread::spawn(move || ee2.emit("x", 0).unwrap())
                .join()
                .unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), listeners, "other thread");
        }
    }
    while let Some(id) = ids.pop() {
        assert!(ee.off(id));
        for _ in 0..3 {
            calls.store(0, Ordering::SeqCst);
            assert_eq!(ee.emit("x", 0).unwrap(), !ids.is_empty());
            assert_eq!(calls.load(Ordering::SeqCst), ids.len());
        }
    }
    ee.remove_all_listeners(None);
    assert!(!ee.emit("other", 0).unwrap());
}

/// Emits nested deeper than the per-thread read slots (they then take
/// the lock), each changing the list: every level sees the list as it
/// was when it started.
#[test]
fn deeply_nested_emits_changing_the_list() {
    let ee = EventEmitter::<u32>::new();
    ee.set_max_listeners(0);
    let log = Arc::new(Mutex::new(Vec::new()));
    let (e2, l) = (ee.clone(), log.clone());
    ee.on("x", move |depth| {
        let added = Arc::new(AtomicUsize::new(0));
        let a = added.clone();
        e2.on("x", move |_| {
            a.fetch_add(1, Ordering::SeqCst);
        });
        if *depth < 10 {
            e2.emit("x", depth + 1).unwrap();
        }
        // This level's listener was added after its emit started, so only
        // the deeper emits ran it.
        l.lock()
            .unwrap()
            .push((*depth, added.load(Ordering::SeqCst)));
    });
    ee.emit("x", 0).unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 11);
    for &(depth, runs) in log.iter() {
        assert_eq!(runs, 10 - depth as usize, "level {depth}");
    }
    assert_eq!(ee.listener_count("x"), 12);
}

/// An async listener of an EventEmitter emitted from another thread runs
/// on the loop where it was added; its failure reaches `error` there.
#[test]
fn async_listener_emitted_from_another_thread() {
    let event_loop = EventLoop::new().unwrap();
    let ee = EventEmitter::<u32>::new();
    let errors = Arc::new(Mutex::new(Vec::new()));
    let e = errors.clone();
    ee.on_error(move |err| e.lock().unwrap().push(err.to_string()));
    let loop_thread = std::thread::current().id();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let ee2 = ee.clone();
    let s = seen.clone();
    event_loop
        .run_until_complete(async move {
            ee2.on_async("job", move |n| {
                let s = s.clone();
                async move {
                    assert_eq!(std::thread::current().id(), loop_thread);
                    s.lock().unwrap().push(n);
                    if n == 2 {
                        return Err(corun::Error::new(
                            ErrorKind::InvalidArgument,
                            "job 2 failed",
                        ));
                    }
                    Ok(())
                }
            });
            let ee3 = ee2.clone();
            std::thread::spawn(move || {
                ee3.emit("job", 1).unwrap();
                ee3.emit("job", 2).unwrap();
            })
            .join()
            .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            // The tasks reach the loop through its inbox: wait for them.
            while ee2.listener_count("job") == 1 && seen.lock().unwrap().len() < 2 {
                assert!(Instant::now() < deadline, "the tasks never ran");
                corun::asyncio::sleep(Duration::from_millis(1)).await;
            }
            ee2.wait_for_complete().await;
            assert_eq!(*seen.lock().unwrap(), [1, 2]);
        })
        .unwrap();
    assert_eq!(*errors.lock().unwrap(), ["job 2 failed"]);
}

/// Without a running loop (and none where it was added), an async
/// listener's emit reports InvalidState like a failing listener.
#[test]
fn async_listener_without_loop_fails_its_emit() {
    let ee = LocalEmitter::<()>::new();
    ee.on_async("x", |_| async {});
    let err = ee.emit("x", ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
}

/// An async failure with nobody on `error` goes to the loop's exception
/// handler.
#[test]
fn unhandled_async_failure_reaches_the_exception_handler() {
    let event_loop = EventLoop::new().unwrap();
    let reported = Rc::new(RefCell::new(Vec::new()));
    let r = reported.clone();
    event_loop.set_exception_handler(move |ctx| {
        r.borrow_mut().push(ctx.error().map(|e| e.to_string()));
    });
    event_loop
        .run_until_complete(async {
            let ee = LocalEmitter::<()>::new();
            ee.on_async("x", |_| async { boom("nobody catches me") });
            ee.emit("x", ()).unwrap();
            ee.wait_for_complete().await;
        })
        .unwrap();
    assert_eq!(reported.borrow().len(), 1);
    assert!(
        reported.borrow()[0]
            .as_deref()
            .unwrap()
            .contains("nobody catches me")
    );
}

/// `run` returns once the listener tasks are done; emit_soon runs after
/// what was already scheduled, in order.
#[test]
fn emit_soon_runs_on_the_loop_in_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    run(async move {
        let ee = LocalEmitter::<&'static str>::new();
        let l2 = l.clone();
        ee.on("say", move |s| l2.borrow_mut().push(*s));
        let next = corun::events::once(&ee, "say");
        ee.emit_soon("say", "first").unwrap();
        l.borrow_mut().push("scheduled");
        ee.emit_soon("say", "second").unwrap();
        assert_eq!(next.await.unwrap(), "first");
        corun::asyncio::sleep(Duration::ZERO).await;
    })
    .unwrap();
    assert_eq!(*log.borrow(), ["scheduled", "first", "second"]);
}

/// emit_soon_threadsafe from another thread reaches the loop.
#[test]
fn emit_soon_threadsafe_from_a_thread() {
    let event_loop = EventLoop::new().unwrap();
    let ee = EventEmitter::<u32>::new();
    let handle = event_loop.handle();
    let got = event_loop
        .run_until_complete({
            let ee = ee.clone();
            async move {
                let next = corun::events::once(&ee, "n");
                let ee2 = ee.clone();
                std::thread::spawn(move || ee2.emit_soon_threadsafe(&handle, "n", 42).unwrap())
                    .join()
                    .unwrap();
                next.await
            }
        })
        .unwrap();
    assert_eq!(got.unwrap(), 42);
}

/// Panics with `message`: an async block's body that returns `()`.
fn boom(message: &str) {
    panic!("{message}")
}
