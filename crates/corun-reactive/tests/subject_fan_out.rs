//! How a subject hands an element to its observers: one delivery at a
//! time per subject, in the order of the calls, to the observers
//! subscribed at the call; re-entrant and racing calls; observers that
//! subscribe or dispose during a delivery.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use corun::reactive::{BehaviorSubject, ReplaySubject, Subject, Subscription};
use parking_lot::Mutex;

type Log = Arc<Mutex<Vec<String>>>;

fn log_into(log: &Log, name: &'static str) -> impl FnMut(i32) + Send + 'static {
    let log = Arc::clone(log);
    move |x| log.lock().push(format!("{name}{x}"))
}

#[test]
fn reentrant_on_next_reaches_every_observer_after_the_one_in_progress() {
    // The first observer feeds the subject back: the second still gets
    // each element in the order given, after the one in progress.
    let subject = Subject::new();
    let log: Log = Arc::default();
    let (s, l) = (subject.clone(), log.clone());
    subject.observable().subscribe(move |x: i32| {
        l.lock().push(format!("a{x}"));
        if x < 3 {
            s.on_next(x + 1);
        }
    });
    subject.observable().subscribe(log_into(&log, "b"));
    subject.on_next(1);
    assert_eq!(*log.lock(), ["a1", "b1", "a2", "b2", "a3", "b3"]);
}

#[test]
fn an_observer_subscribed_during_a_delivery_starts_with_the_next_element() {
    let subject = Subject::new();
    let log: Log = Arc::default();
    let (s, l) = (subject.clone(), log.clone());
    let once = AtomicBool::new(false);
    subject.observable().subscribe(move |x: i32| {
        l.lock().push(format!("a{x}"));
        if !once.swap(true, Ordering::SeqCst) {
            s.observable().subscribe(log_into(&l, "late"));
        }
    });
    subject.on_next(1);
    subject.on_next(2);
    assert_eq!(*log.lock(), ["a1", "a2", "late2"]);
    assert_eq!(subject.observer_count(), 2);
}

#[test]
fn an_observer_disposed_during_a_delivery_gets_nothing_more_and_is_let_go() {
    let subject = Subject::new();
    let log: Log = Arc::default();
    let victim: Arc<Mutex<Option<Subscription>>> = Arc::default();
    let v = victim.clone();
    let l = log.clone();
    subject.observable().subscribe(move |x: i32| {
        l.lock().push(format!("a{x}"));
        if let Some(b) = v.lock().take() {
            b.dispose();
        }
    });
    // The second observer's closure holds `token`: once it is let go, the
    // count drops back.
    let token = Arc::new(());
    let t = token.clone();
    let l = log.clone();
    let b = subject.observable().subscribe(move |x: i32| {
        let _ = &t;
        l.lock().push(format!("b{x}"));
    });
    assert_eq!(Arc::strong_count(&token), 2);
    *victim.lock() = Some(b);
    subject.on_next(1);
    subject.on_next(2);
    assert_eq!(*log.lock(), ["a1", "a2"]);
    assert_eq!(subject.observer_count(), 1);
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "the disposed observer is kept"
    );
}

#[test]
fn disposing_without_further_elements_lets_the_observer_go() {
    let subject = Subject::<i32>::new();
    let token = Arc::new(());
    let t = token.clone();
    let subscription = subject.observable().subscribe(move |_| {
        let _ = &t;
    });
    subscription.dispose();
    assert_eq!(Arc::strong_count(&token), 1);
    assert!(!subject.has_observers());
}

#[test]
fn racing_on_next_never_overlaps_and_every_observer_sees_the_same_order() {
    const THREADS: i32 = 4;
    const EACH: i32 = 5_000;
    let subject = Subject::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let in_call = Arc::new(AtomicBool::new(false));
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        subject.observable().subscribe(move |x: i32| {
            assert!(!in_call.swap(true, Ordering::SeqCst), "calls overlap");
            g.lock().push(x);
            in_call.store(false, Ordering::SeqCst);
        });
        seen.push(got);
    }
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let subject = subject.clone();
            thread::spawn(move || {
                for i in 0..EACH {
                    subject.on_next(t * EACH + i);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    // Every call returned, so every element was delivered.
    let first = seen[0].lock().clone();
    assert_eq!(first.len(), (THREADS * EACH) as usize);
    for got in &seen[1..] {
        assert_eq!(*got.lock(), first, "observers saw different orders");
    }
    // Each thread's elements in the order it gave them.
    for t in 0..THREADS {
        let mine: Vec<i32> = first.iter().copied().filter(|x| x / EACH == t).collect();
        assert_eq!(mine, (t * EACH..(t + 1) * EACH).collect::<Vec<_>>());
    }
}

#[test]
fn replay_and_current_value_come_before_what_follows_from_another_thread() {
    // The replay is taken under the subject's lock and given before any
    // element that a later call hands on, whichever thread makes it.
    for _ in 0..200 {
        let replay = ReplaySubject::new();
        let behavior = BehaviorSubject::new(0);
        replay.on_next(0);
        let (r, b) = (replay.clone(), behavior.clone());
        let feeder = thread::spawn(move || {
            for i in 1..=50 {
                r.on_next(i);
                b.on_next(i);
            }
        });
        let from_replay = Arc::new(Mutex::new(Vec::new()));
        let from_behavior = Arc::new(Mutex::new(Vec::new()));
        let (fr, fb) = (from_replay.clone(), from_behavior.clone());
        replay.observable().subscribe(move |x| fr.lock().push(x));
        behavior.observable().subscribe(move |x| fb.lock().push(x));
        feeder.join().unwrap();
        assert_eq!(*from_replay.lock(), (0..=50).collect::<Vec<_>>());
        let got = from_behavior.lock().clone();
        let start = got[0];
        assert_eq!(got, (start..=50).collect::<Vec<_>>());
    }
}
