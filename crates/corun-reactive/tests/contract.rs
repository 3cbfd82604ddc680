//! The Rx contract under threads, and faults: no `on_next` after the end
//! and no overlapping calls even when producers race on several threads;
//! disposal from another thread while items flow loses nothing and leaves
//! no thread behind; a panicking callback fails only its own subscription.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use corun::Error;
use corun::reactive::{
    NewThreadScheduler, Observable, Observer, Scheduler, Subject, ThreadPoolScheduler, from_iter,
    interval, range,
};
use corun_test_support::poll_until;
use parking_lot::Mutex;

/// An observer that counts contract violations: a call that overlaps
/// another, anything after the end, a second end.
#[derive(Clone, Default)]
struct Checker {
    busy: Arc<AtomicBool>,
    ended: Arc<AtomicBool>,
    nexts: Arc<AtomicU64>,
    ends: Arc<AtomicU64>,
    violations: Arc<AtomicU64>,
}

impl Checker {
    fn enter(&self) {
        if self.busy.swap(true, Ordering::SeqCst) {
            self.violations.fetch_add(1, Ordering::SeqCst);
        }
        if self.ended.load(Ordering::SeqCst) {
            self.violations.fetch_add(1, Ordering::SeqCst);
        }
        std::hint::spin_loop();
    }
    fn leave(&self) {
        self.busy.store(false, Ordering::SeqCst);
    }
}

impl Observer<u64> for Checker {
    fn on_next(&mut self, _: u64) {
        self.enter();
        self.nexts.fetch_add(1, Ordering::SeqCst);
        self.leave();
    }
    fn on_error(&mut self, _: Error) {
        self.on_completed();
    }
    fn on_completed(&mut self) {
        self.enter();
        self.ends.fetch_add(1, Ordering::SeqCst);
        self.ended.store(true, Ordering::SeqCst);
        self.leave();
    }
}

#[test]
fn racing_producers_never_overlap_nor_emit_after_the_end() {
    for round in 0..20 {
        let racing = Observable::new(move |subscriber| {
            let shared = subscriber.into_shared();
            let threads: Vec<_> = (0..4)
                .map(|t| {
                    let s = shared.clone();
                    std::thread::spawn(move || {
                        for i in 0..2_000_u64 {
                            s.on_next(i);
                            // One thread ends the sequence midway, the
                            // others keep emitting.
                            if t == round % 4 && i == 1_000 {
                                if t % 2 == 0 {
                                    s.on_completed();
                                } else {
                                    s.on_error(Error::timeout());
                                }
                            }
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
        });
        let checker = Checker::default();
        racing.subscribe_observer(checker.clone());
        assert_eq!(
            checker.violations.load(Ordering::SeqCst),
            0,
            "round {round}"
        );
        assert_eq!(checker.ends.load(Ordering::SeqCst), 1);
        assert!(
            checker.nexts.load(Ordering::SeqCst) < 8_000,
            "items were dropped after the end"
        );
    }
}

#[test]
fn subject_on_next_racing_on_threads_is_serialised_per_observer() {
    let subject = Subject::new();
    let checkers: Vec<Checker> = (0..3).map(|_| Checker::default()).collect();
    for c in &checkers {
        subject.observable().subscribe_observer(c.clone());
    }
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let s = subject.clone();
            std::thread::spawn(move || (0..5_000).for_each(|i| s.on_next(i)))
        })
        .collect();
    let closer = {
        let s = subject.clone();
        std::thread::spawn(move || {
            std::thread::yield_now();
            s.on_completed();
        })
    };
    threads.into_iter().for_each(|t| t.join().unwrap());
    closer.join().unwrap();
    for c in &checkers {
        assert_eq!(c.violations.load(Ordering::SeqCst), 0);
        assert_eq!(c.ends.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn dispose_from_another_thread_while_items_flow_loses_nothing() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let source = from_iter(0_u64..).map(|x| x * 2);
    let handle = Arc::new(Mutex::new(None));
    let h = handle.clone();
    // The producer runs in the subscribing thread and `subscribe` returns
    // only at the end: the handle is published from inside, first.
    let wrapped = Observable::new(move |subscriber| {
        *h.lock() = Some(subscriber.subscription().clone());
        source.subscribe_subscriber(subscriber);
    });
    let finished = Arc::new(AtomicBool::new(false));
    let f = finished.clone();
    let producer = std::thread::spawn(move || {
        wrapped.subscribe(move |x| s.lock().push(x));
        f.store(true, Ordering::SeqCst);
    });
    poll_until("items flow", || seen.lock().len() > 10_000);
    handle.lock().as_ref().unwrap().dispose();
    poll_until("the producer returns", || finished.load(Ordering::SeqCst));
    producer.join().unwrap();
    let seen = seen.lock();
    let expected: Vec<u64> = (0..seen.len() as u64).map(|x| x * 2).collect();
    assert_eq!(*seen, expected, "a gap or a reordering");
}

#[test]
fn disposing_a_delayed_action_releases_its_thread_at_once() {
    let held = Arc::new(());
    let h = held.clone();
    let subscription = NewThreadScheduler::new()
        .schedule_relative(Duration::from_secs(3600), Box::new(move || drop(h)));
    assert_eq!(Arc::strong_count(&held), 2);
    subscription.dispose();
    // The thread wakes, drops the action (and what it holds), and ends.
    poll_until("the waiting thread let go", || {
        Arc::strong_count(&held) == 1
    });
}

#[test]
fn disposing_an_interval_on_the_pool_stops_its_ticks() {
    let ticks = Arc::new(AtomicU64::new(0));
    let t = ticks.clone();
    let subscription =
        interval(Duration::from_millis(1), ThreadPoolScheduler::new()).subscribe(move |_| {
            t.fetch_add(1, Ordering::SeqCst);
        });
    poll_until("a few ticks", || ticks.load(Ordering::SeqCst) >= 3);
    subscription.dispose();
    let at_disposal = ticks.load(Ordering::SeqCst);
    // Timers on the same scheduler, due after several more periods: by
    // the time each fires, the interval would have ticked again. A tick
    // already handed to a worker may still land; then none.
    let pool = ThreadPoolScheduler::new();
    corun::reactive::timer(Duration::from_millis(10), pool.clone())
        .run()
        .unwrap();
    let after_one = ticks.load(Ordering::SeqCst);
    assert!(after_one <= at_disposal + 1);
    corun::reactive::timer(Duration::from_millis(10), pool)
        .run()
        .unwrap();
    assert_eq!(ticks.load(Ordering::SeqCst), after_one);
}

#[test]
fn a_panicking_map_fails_only_its_own_subscription() {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (e, s) = (errors.clone(), seen.clone());
    range(0, 10)
        .map(|x| if x == 3 { panic!("no threes") } else { x })
        .subscribe_all(
            move |x| s.lock().push(x),
            move |err| e.lock().push(err),
            || {},
        );
    assert_eq!(*seen.lock(), [0, 1, 2]);
    let errors = errors.lock();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].is_panic());
    assert_eq!(errors[0].panic_message(), Some("no threes"));
    // The same observable, another subscription: fails the same way, alone.
    assert!(range(0, 3).map(|x| x + 1).to_vec().is_ok());
}

#[test]
fn a_panicking_filter_on_a_subject_leaves_other_observers_alone() {
    let subject = Subject::new();
    let failed = Arc::new(Mutex::new(None));
    let f = failed.clone();
    subject
        .observable()
        .filter(|x: &i32| {
            if *x == 2 {
                panic!("bad predicate")
            } else {
                true
            }
        })
        .subscribe_all(|_| {}, move |e| *f.lock() = Some(e), || {});
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    subject.observable().subscribe(move |x| s.lock().push(x));
    for x in 0..5 {
        subject.on_next(x);
    }
    assert_eq!(*seen.lock(), [0, 1, 2, 3, 4]);
    assert_eq!(
        failed.lock().as_ref().unwrap().panic_message(),
        Some("bad predicate")
    );
    assert_eq!(subject.observer_count(), 1, "the failed subscription left");
}

#[test]
fn nothing_after_completion_from_a_misbehaving_producer() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    Observable::new(|mut subscriber| {
        subscriber.on_next(1);
        subscriber.on_completed();
        subscriber.on_next(2);
        subscriber.on_error(Error::timeout());
        subscriber.on_completed();
    })
    .subscribe_all(
        {
            let s = s.clone();
            move |x| s.lock().push(format!("next {x}"))
        },
        {
            let s = s.clone();
            move |e| s.lock().push(format!("error {e}"))
        },
        move || s.lock().push("completed".into()),
    );
    assert_eq!(*seen.lock(), ["next 1", "completed"]);
}
