//! Ports of Node's `test/parallel/test-event-emitter-*.js`, each test
//! naming its file. Node's listener functions are ids here; its
//! `common.mustCall(f, n)` is a counter checked at the end.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use corun::events::{EventEmitter, ListenerId, MaxListenersWarning, REMOVE_LISTENER};

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn log() -> Arc<Mutex<Vec<String>>> {
    Arc::new(Mutex::new(Vec::new()))
}

/// test-event-emitter-once.js: a once listener runs once over four emits;
/// one removed before the emit never runs; a once listener that emits the
/// same event re-entrantly lets the second once listener run once.
#[test]
fn once() {
    let e = EventEmitter::<()>::new();
    let calls = counter();
    let c = calls.clone();
    e.once("hello", move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    for _ in 0..4 {
        e.emit("hello", ()).unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let remove = e.once("foo", |_| panic!("once->foo should not be emitted"));
    assert!(e.remove_listener("foo", remove));
    assert!(!e.emit("foo", ()).unwrap());

    let (first, second) = (counter(), counter());
    let (f, e2) = (first.clone(), e.clone());
    e.once("e", move |_| {
        f.fetch_add(1, Ordering::SeqCst);
        e2.emit("e", ()).unwrap();
    });
    let s = second.clone();
    e.once("e", move |_| {
        s.fetch_add(1, Ordering::SeqCst);
    });
    e.emit("e", ()).unwrap();
    assert_eq!(first.load(Ordering::SeqCst), 1);
    assert_eq!(second.load(Ordering::SeqCst), 1);
}

/// test-event-emitter-prepend.js: prepend_once_listener runs first,
/// prepend_listener second, on last.
#[test]
fn prepend() {
    let e = EventEmitter::<()>::new();
    let m = counter();
    let ran = counter();
    let (m1, r1) = (m.clone(), ran.clone());
    e.on("foo", move |_| {
        assert_eq!(m1.load(Ordering::SeqCst), 2);
        r1.fetch_add(1, Ordering::SeqCst);
    });
    let (m2, r2) = (m.clone(), ran.clone());
    e.prepend_listener("foo", move |_| {
        assert_eq!(m2.fetch_add(1, Ordering::SeqCst), 1);
        r2.fetch_add(1, Ordering::SeqCst);
    });
    let (m3, r3) = (m.clone(), ran.clone());
    e.prepend_once_listener("foo", move |_| {
        assert_eq!(m3.fetch_add(1, Ordering::SeqCst), 0);
        r3.fetch_add(1, Ordering::SeqCst);
    });
    e.emit("foo", ()).unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 3);
}

/// test-event-emitter-add-listeners.js: new_listener fires before the
/// listener is added, with its name and id, for on and once alike.
#[test]
fn new_listener_fires_before_the_listener_is_added() {
    let e = EventEmitter::<(&'static str, &'static str)>::new();
    let seen = Arc::new(Mutex::new(Vec::<(String, ListenerId)>::new()));
    let s = seen.clone();
    e.on_new_listener(move |name, id| {
        if name != "new_listener" {
            s.lock().unwrap().push((name.to_owned(), id));
        }
    });
    let (e2, checked) = (e.clone(), counter());
    let c = checked.clone();
    e.once_new_listener(move |name, _| {
        assert_eq!(name, "hello");
        assert!(e2.listeners("hello").is_empty(), "not added yet");
        c.fetch_add(1, Ordering::SeqCst);
    });
    let called = counter();
    let c = called.clone();
    let hello = e.on("hello", move |(a, b)| {
        assert_eq!((*a, *b), ("a", "b"));
        c.fetch_add(1, Ordering::SeqCst);
    });
    let foo = e.once("foo", |_| panic!("never emitted"));
    let names: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(names, ["hello", "foo"]);
    let ids: Vec<_> = seen.lock().unwrap().iter().map(|(_, id)| *id).collect();
    assert_eq!(ids, [hello, foo]);
    e.emit("hello", ("a", "b")).unwrap();
    assert_eq!(called.load(Ordering::SeqCst), 1);
    assert_eq!(checked.load(Ordering::SeqCst), 1);

    // set_max_listeners(0) is fine.
    e.set_max_listeners(0);
}

/// test-event-emitter-add-listeners.js: a listener added from a
/// new_listener listener lands before the one being added.
#[test]
fn listener_added_during_new_listener_comes_first() {
    let e = EventEmitter::<()>::new();
    let e2 = e.clone();
    let listen2 = Arc::new(Mutex::new(None));
    let l2 = listen2.clone();
    e.once_new_listener(move |_, _| {
        assert!(e2.listeners("hello").is_empty());
        let e3 = e2.clone();
        e2.once_new_listener(move |_, _| assert!(e3.listeners("hello").is_empty()));
        *l2.lock().unwrap() = Some(e2.on("hello", |_| {}));
    });
    let listen1 = e.on("hello", |_| {});
    let listen2 = listen2.lock().unwrap().unwrap();
    assert_eq!(e.listeners("hello"), [listen2, listen1]);
}

/// test-event-emitter-remove-listeners.js.
#[test]
fn remove_listeners() {
    // remove_listener is told the name and the id, after the removal.
    let ee = EventEmitter::<()>::new();
    let listener1 = ee.on("hello", |_| {});
    let told = counter();
    let t = told.clone();
    ee.on_remove_listener(move |name, id| {
        assert_eq!((name, id), ("hello", listener1));
        t.fetch_add(1, Ordering::SeqCst);
    });
    assert!(ee.remove_listener("hello", listener1));
    assert!(ee.listeners("hello").is_empty());
    assert_eq!(told.load(Ordering::SeqCst), 1);

    // Removing a listener that is not there tells nobody.
    let ee = EventEmitter::<()>::new();
    let listener1 = ee.on("hello", |_| {});
    let other = EventEmitter::<()>::new().on("hello", |_| {});
    ee.on_remove_listener(|_, _| panic!("nothing was removed"));
    assert!(!ee.remove_listener("hello", other));
    assert_eq!(ee.listeners("hello"), [listener1]);

    // Nested removals see the list as it is after each one.
    let ee = EventEmitter::<()>::new();
    let listener1 = ee.on("hello", |_| {});
    let listener2 = ee.on("hello", |_| {});
    let (e2, told) = (ee.clone(), counter());
    let t = told.clone();
    ee.once_remove_listener(move |name, id| {
        assert_eq!((name, id), ("hello", listener1));
        assert_eq!(e2.listeners("hello"), [listener2]);
        let (e3, t2) = (e2.clone(), t.clone());
        e2.once_remove_listener(move |name, id| {
            assert_eq!((name, id), ("hello", listener2));
            assert!(e3.listeners("hello").is_empty());
            t2.fetch_add(1, Ordering::SeqCst);
        });
        e2.remove_listener("hello", listener2);
        assert!(e2.listeners("hello").is_empty());
        t.fetch_add(1, Ordering::SeqCst);
    });
    ee.remove_listener("hello", listener1);
    assert!(ee.listeners("hello").is_empty());
    assert_eq!(told.load(Ordering::SeqCst), 2);

    // A remove_listener listener that removes and emits: twice called.
    let ee = EventEmitter::<()>::new();
    let calls = counter();
    let remove1 = Arc::new(Mutex::new(None::<ListenerId>));
    let remove2 = Arc::new(Mutex::new(None::<ListenerId>));
    let (e2, c, r1, r2) = (ee.clone(), calls.clone(), remove1.clone(), remove2.clone());
    ee.on_remove_listener(move |_, id| {
        c.fetch_add(1, Ordering::SeqCst);
        if Some(id) != *r1.lock().unwrap() {
            return;
        }
        let id = r2.lock().unwrap().unwrap();
        e2.remove_listener("quux", id);
        e2.emit("quux", ()).unwrap();
    });
    *remove1.lock().unwrap() = Some(ee.on("quux", |_| panic!("remove1 should not be called")));
    *remove2.lock().unwrap() = Some(ee.on("quux", |_| panic!("remove2 should not be called")));
    let id = remove1.lock().unwrap().unwrap();
    ee.remove_listener("quux", id);
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // listener4 still runs although listener3 removed it: the snapshot.
    let ee = EventEmitter::<()>::new();
    let (calls3, calls4) = (counter(), counter());
    let listener4 = Arc::new(Mutex::new(None::<ListenerId>));
    let (e2, c3, l4) = (ee.clone(), calls3.clone(), listener4.clone());
    ee.on("hello", move |_| {
        c3.fetch_add(1, Ordering::SeqCst);
        if let Some(id) = *l4.lock().unwrap() {
            e2.remove_listener("hello", id);
        }
    });
    let c4 = calls4.clone();
    *listener4.lock().unwrap() = Some(ee.on("hello", move |_| {
        c4.fetch_add(1, Ordering::SeqCst);
    }));
    ee.emit("hello", ()).unwrap();
    ee.emit("hello", ()).unwrap();
    assert_eq!(calls3.load(Ordering::SeqCst), 2);
    assert_eq!(calls4.load(Ordering::SeqCst), 1);

    // A once listener's removal is told, before it runs.
    let ee = EventEmitter::<()>::new();
    let order = log();
    let o = order.clone();
    let listener1 = ee.once("hello", move |_| o.lock().unwrap().push("listener".into()));
    let o = order.clone();
    ee.on_remove_listener(move |name, id| {
        assert_eq!((name, id), ("hello", listener1));
        o.lock().unwrap().push("removed".into());
    });
    ee.emit("hello", ()).unwrap();
    assert_eq!(*order.lock().unwrap(), ["removed", "listener"]);
}

/// test-event-emitter-remove-all-listeners.js.
#[test]
fn remove_all_listeners() {
    let ee = EventEmitter::<()>::new();
    let foo = ee.on("foo", |_| {});
    ee.on("bar", |_| {});
    ee.on("baz", |_| {});
    ee.on("baz", |_| {});
    let removed = log();
    let r = removed.clone();
    ee.on_remove_listener(move |name, _| r.lock().unwrap().push(name.to_owned()));
    ee.remove_all_listeners(Some("bar"));
    ee.remove_all_listeners(Some("baz"));
    assert_eq!(ee.listeners("foo"), [foo]);
    assert!(ee.listeners("bar").is_empty());
    assert!(ee.listeners("baz").is_empty());
    assert_eq!(*removed.lock().unwrap(), ["bar", "baz", "baz"]);

    // Everything: the remove_listener listeners last, most recent first.
    let ee = EventEmitter::<()>::new();
    ee.on("foo", |_| {});
    ee.on("bar", |_| {});
    let (first, second) = (log(), log());
    let f = first.clone();
    ee.on_remove_listener(move |name, _| f.lock().unwrap().push(name.to_owned()));
    let s = second.clone();
    ee.on_remove_listener(move |name, _| s.lock().unwrap().push(name.to_owned()));
    ee.remove_all_listeners(None);
    assert_eq!(*first.lock().unwrap(), ["foo", "bar", REMOVE_LISTENER]);
    assert_eq!(*second.lock().unwrap(), ["foo", "bar"]);
    assert!(ee.event_names().is_empty());

    // A remove_listener listener and no listeners of the name: no error.
    let ee = EventEmitter::<()>::new();
    ee.on_remove_listener(|_, _| {});
    ee.remove_all_listeners(Some("foo"));

    // Each removal is told with the list as it is after it.
    let ee = EventEmitter::<()>::new();
    let expect = Arc::new(AtomicUsize::new(2));
    let (e2, x) = (ee.clone(), expect.clone());
    ee.on_remove_listener(move |_, _| {
        assert_eq!(x.load(Ordering::SeqCst), e2.listeners("baz").len());
        x.fetch_sub(1, Ordering::SeqCst);
    });
    for _ in 0..3 {
        ee.on("baz", |_| {});
    }
    assert_eq!(ee.listener_count("baz"), 3);
    ee.remove_all_listeners(Some("baz"));
    assert_eq!(ee.listener_count("baz"), 0);
}

/// test-event-emitter-max-listeners-warning.js: past the limit, one
/// warning with the count and the name; the next listener gives none.
#[test]
fn max_listeners_warning_once() {
    let e = EventEmitter::<()>::new();
    e.set_max_listeners(1);
    let warnings = Arc::new(Mutex::new(Vec::<MaxListenersWarning>::new()));
    let w = warnings.clone();
    e.set_warning_handler(move |warning| w.lock().unwrap().push(warning.clone()));
    e.on("event-type", |_| {});
    e.on("event-type", |_| {}); // Trigger warning.
    e.on("event-type", |_| {}); // Verify that warning is emitted only once.
    let warnings = warnings.lock().unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].count, 2);
    assert_eq!(warnings[0].event, "event-type");
    assert!(
        warnings[0]
            .to_string()
            .contains("2 event-type listeners added.")
    );
}

/// test-event-emitter-max-listeners.js and
/// test-event-emitter-check-listener-leaks.js: the default is 10; 0 means
/// no limit; each event name warns on its own.
#[test]
fn max_listeners_default_unlimited_and_per_name() {
    let e = EventEmitter::<()>::new();
    assert_eq!(e.get_max_listeners(), 10);
    let warned = log();
    let w = warned.clone();
    e.set_warning_handler(move |warning| w.lock().unwrap().push(warning.event.to_string()));
    for _ in 0..10 {
        e.on("default", |_| {});
    }
    assert!(warned.lock().unwrap().is_empty(), "10 is allowed");
    e.on("default", |_| {});
    assert_eq!(*warned.lock().unwrap(), ["default"]);
    for _ in 0..11 {
        e.on("b", |_| {});
    }
    assert_eq!(*warned.lock().unwrap(), ["default", "b"]);
    e.set_max_listeners(0);
    for _ in 0..1000 {
        e.on("unlimited", |_| {});
    }
    assert_eq!(warned.lock().unwrap().len(), 2);
}

/// test-event-emitter-errors.js / test-event-emitter-no-error-provided-to-error-event.js:
/// emitting `error` with no listener fails; with one, it is handled.
#[test]
fn error_with_no_listener() {
    let e = EventEmitter::<String>::new();
    let err = e.emit("error", "boom".into()).unwrap_err();
    assert!(err.to_string().contains("unhandled 'error' event"), "{err}");
    let err = e
        .emit_error(corun::Error::new(corun::ErrorKind::InvalidArgument, "bad"))
        .unwrap_err();
    assert_eq!(err.to_string(), "bad", "the error itself comes back");
    e.on_error(|_| {});
    assert!(
        e.emit_error(corun::Error::new(corun::ErrorKind::InvalidArgument, "bad"))
            .unwrap()
    );
}

/// test-event-emitter-listeners.js and test-event-emitter-get-max-listeners.js:
/// listeners() is a copy in emit order; event_names keeps insertion order.
#[test]
fn listeners_and_event_names() {
    let e = EventEmitter::<()>::new();
    assert!(e.listeners("foo").is_empty());
    let a = e.on("foo", |_| {});
    let b = e.once("bar", |_| {});
    let c = e.prepend_listener("foo", |_| {});
    assert_eq!(e.listeners("foo"), [c, a]);
    assert_eq!(e.listeners("bar"), [b]);
    assert_eq!(e.event_names(), ["foo", "bar"]);
    let mut copy = e.listeners("foo");
    copy.clear();
    assert_eq!(e.listener_count("foo"), 2);
    e.emit("bar", ()).unwrap();
    assert_eq!(e.event_names(), ["foo"]);
    assert!(e.off(a));
    assert!(!e.off(a));
    assert_eq!(e.listeners("foo"), [c]);
}

/// test-event-emitter-num-args.js / test-event-emitter-method-names.js: a
/// String name and a literal name are the same event.
#[test]
fn names_built_at_run_time() {
    let e = EventEmitter::<u8>::new();
    let calls = counter();
    let c = calls.clone();
    e.on(format!("{}-{}", "user", 7), move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    assert!(e.emit("user-7", 1).unwrap());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
