//! Operators not in time, on the virtual-time `TestScheduler` with RxPY's
//! marbles: take_until, take_while, distinct_until_changed,
//! buffer_with_count, start_with, finally_action, window(boundaries),
//! window_with_count. Each test names the RxPY test it ports (from
//! `tests/test_observable/test_<operator>.py`).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{ex, merge_windows};
use corun::reactive::{
    Notification, Recorded, SubscriptionLog, TestScheduler, empty, from_iter, never, of,
    on_completed, on_error, on_next, op, pipe,
};

fn sub(start: u64, end: u64) -> SubscriptionLog {
    SubscriptionLog::new(start, end)
}

/// The record ends with a `Panicked` error at `time` carrying `message`.
fn assert_panicked<T>(record: &Recorded<T>, time: u64, message: &str) {
    assert_eq!(record.time, time);
    match &record.value {
        Notification::Error(error) => {
            assert!(error.is_panic(), "{error}");
            assert_eq!(error.panic_message(), Some(message));
        }
        _ => panic!("expected a panic error at {time}"),
    }
}

fn is_prime(x: i32) -> bool {
    x >= 2 && (2..x).take_while(|d| d * d <= x).all(|d| x % d != 0)
}

// ---- take_until (test_takeuntil.py) ----

fn left() -> Vec<Recorded<i32>> {
    vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(220, 3),
        on_next(230, 4),
        on_next(240, 5),
        on_completed(250),
    ]
}

#[test]
fn take_until_preempt_somedata_next() {
    // RxPY: test_take_until_preempt_somedata_next.
    let ts = TestScheduler::new();
    let l = ts.create_hot_observable(left());
    let r = ts.create_hot_observable(vec![on_next(150, 1), on_next(225, 99), on_completed(230)]);
    let (lo, ro) = (l.observable(), r.observable());
    let results = ts.start(move || lo.take_until(ro));
    assert_eq!(
        results,
        [on_next(210, 2), on_next(220, 3), on_completed(225)]
    );
    assert_eq!(l.subscriptions(), [sub(200, 225)]);
    assert_eq!(r.subscriptions(), [sub(200, 225)]);
}

#[test]
fn take_until_preempt_somedata_error() {
    // RxPY: test_take_until_preempt_somedata_error.
    let ts = TestScheduler::new();
    let l = ts.create_hot_observable(left());
    let r = ts.create_hot_observable(vec![on_next(150, 1), on_error(225, ex())]);
    let (lo, ro) = (l.observable(), r.observable());
    let results = ts.start(move || lo.take_until(ro));
    assert_eq!(
        results,
        [on_next(210, 2), on_next(220, 3), on_error(225, ex())]
    );
}

#[test]
fn take_until_nopreempt_somedata_empty() {
    // RxPY: test_take_until_nopreempt_somedata_empty.
    let ts = TestScheduler::new();
    let l = ts.create_hot_observable(left());
    let r = ts.create_hot_observable(vec![on_next(150, 1), on_completed(225)]);
    let (lo, ro) = (l.observable(), r.observable());
    let results = ts.start(move || lo.take_until(ro));
    assert_eq!(
        results,
        [
            on_next(210, 2),
            on_next(220, 3),
            on_next(230, 4),
            on_next(240, 5),
            on_completed(250)
        ]
    );
}

#[test]
fn take_until_nopreempt_somedata_never() {
    // RxPY: test_take_until_nopreempt_somedata_never.
    let ts = TestScheduler::new();
    let l = ts.create_hot_observable(left());
    let lo = l.observable();
    let results = ts.start(move || lo.take_until(never::<()>()));
    assert_eq!(results.len(), 5);
    assert_eq!(results[4], on_completed(250));
}

#[test]
fn take_until_preempt_never_next() {
    // RxPY: test_take_until_preempt_never_next, _never_error,
    // test_take_until_nopreempt_never_empty, _never_never.
    let ts = TestScheduler::new();
    let r = ts.create_hot_observable(vec![on_next(150, 1), on_next(225, 2), on_completed(250)]);
    let ro = r.observable();
    assert_eq!(
        ts.start(move || never::<i32>().take_until(ro)),
        [on_completed(225)]
    );

    let ts = TestScheduler::new();
    let r = ts.create_hot_observable(vec![on_next(150, 1), on_error::<i32>(225, ex())]);
    let ro = r.observable();
    assert_eq!(
        ts.start(move || never::<i32>().take_until(ro)),
        [on_error(225, ex())]
    );

    let ts = TestScheduler::new();
    let r = ts.create_hot_observable(vec![on_next(150, 1), on_completed(225)]);
    let ro = r.observable();
    assert!(ts.start(move || never::<i32>().take_until(ro)).is_empty());

    let ts = TestScheduler::new();
    assert!(
        ts.start(|| never::<i32>().take_until(never::<()>()))
            .is_empty()
    );
}

#[test]
fn take_until_preempt_beforefirstproduced_remain_silent_and_proper_disposed() {
    // RxPY: test_take_until_preempt_beforefirstproduced and
    // _remain_silent_and_proper_disposed: the source is disposed at the
    // signal, so its later error is never seen.
    let ts = TestScheduler::new();
    let l = ts.create_hot_observable(vec![
        on_next(150, 1),
        on_error(215, ex()),
        on_completed(240),
    ]);
    let r = ts.create_hot_observable(vec![on_next(150, 1), on_next(210, 2), on_completed(220)]);
    let seen = Arc::new(AtomicBool::new(false));
    let s = seen.clone();
    let lo = l.observable().tap(move |_| s.store(true, Ordering::SeqCst));
    let ro = r.observable();
    let results = ts.start(move || lo.take_until(ro));
    assert_eq!(results, [on_completed(210)]);
    assert!(!seen.load(Ordering::SeqCst));
    assert_eq!(l.subscriptions(), [sub(200, 210)]);
}

#[test]
fn take_until_nopreempt_afterlastproduced_proper_disposed_signal() {
    // RxPY: test_take_until_nopreempt_afterlastproduced_proper_disposed_signal.
    let ts = TestScheduler::new();
    let l = ts.create_hot_observable(vec![on_next(150, 1), on_next(230, 2), on_completed(240)]);
    let r = ts.create_hot_observable(vec![on_next(150, 1), on_next(250, 2), on_completed(260)]);
    let signalled = Arc::new(AtomicBool::new(false));
    let s = signalled.clone();
    let (lo, ro) = (
        l.observable(),
        r.observable().tap(move |_| s.store(true, Ordering::SeqCst)),
    );
    let results = ts.start(move || lo.take_until(ro));
    assert_eq!(results, [on_next(230, 2), on_completed(240)]);
    assert!(!signalled.load(Ordering::SeqCst));
    assert_eq!(r.subscriptions(), [sub(200, 240)]);
}

#[test]
fn take_until_a_signal_at_once_stops_an_endless_synchronous_source() {
    // Beyond RxPY, which subscribes to the source first and so never
    // returns here.
    assert!(
        from_iter(0..)
            .take_until(of([()]))
            .to_vec()
            .unwrap()
            .is_empty()
    );
}

// ---- take_while (test_takewhile.py) ----

fn primes_marbles() -> Vec<Recorded<i32>> {
    vec![
        on_next(90, -1),
        on_next(110, -1),
        on_next(210, 2),
        on_next(260, 5),
        on_next(290, 13),
        on_next(320, 3),
        on_next(350, 7),
        on_next(390, 4),
        on_next(410, 17),
        on_next(450, 8),
        on_next(500, 23),
        on_completed(600),
    ]
}

#[test]
fn take_while_complete_after() {
    // RxPY: test_take_while_complete_after.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(primes_marbles());
    let invoked = Arc::new(AtomicUsize::new(0));
    let (source, i) = (xs.observable(), invoked.clone());
    let results = ts.start(move || {
        source.take_while(move |x| {
            i.fetch_add(1, Ordering::SeqCst);
            is_prime(*x)
        })
    });
    assert_eq!(
        results,
        [
            on_next(210, 2),
            on_next(260, 5),
            on_next(290, 13),
            on_next(320, 3),
            on_next(350, 7),
            on_completed(390)
        ]
    );
    assert_eq!(xs.subscriptions(), [sub(200, 390)]);
    assert_eq!(invoked.load(Ordering::SeqCst), 6);
}

#[test]
fn take_while_complete_after_inclusive_true() {
    // RxPY: test_take_while_complete_after_inclusive_true.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(primes_marbles());
    let source = xs.observable();
    let results = ts.start(move || source.pipe(op::take_while_inclusive(|x: &i32| is_prime(*x))));
    assert_eq!(
        results[results.len() - 2..],
        [on_next(390, 4), on_completed(390)]
    );
    assert_eq!(xs.subscriptions(), [sub(200, 390)]);
}

#[test]
fn take_while_zero() {
    // RxPY: test_take_while_zero.
    let ts = TestScheduler::new();
    let mut marbles = primes_marbles();
    marbles.insert(2, on_next(205, 100));
    let xs = ts.create_hot_observable(marbles);
    let source = xs.observable();
    let results = ts.start_at(move || source.take_while(|x| is_prime(*x)), 100, 200, 300);
    assert_eq!(results, [on_completed(205)]);
    assert_eq!(xs.subscriptions(), [sub(200, 205)]);
}

#[test]
fn take_while_error_before() {
    // RxPY: test_take_while_error_before.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(210, 2),
        on_next(260, 5),
        on_error(270, ex()),
        on_next(290, 13),
    ]);
    let source = xs.observable();
    let results = ts.start(move || source.take_while(|x| is_prime(*x)));
    assert_eq!(
        results,
        [on_next(210, 2), on_next(260, 5), on_error(270, ex())]
    );
}

#[test]
fn take_while_panicking_predicate_fails_only_its_subscription() {
    // RxPY: test_take_while_on_error (the predicate raises on its third
    // call); here it panics, and a second subscription goes on.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(primes_marbles());
    let invoked = Arc::new(AtomicUsize::new(0));
    let (source, i) = (xs.observable(), invoked.clone());
    let failing = source.take_while(move |x| {
        assert!(i.fetch_add(1, Ordering::SeqCst) != 2, "ex");
        is_prime(*x)
    });
    let healthy = ts.create_observer();
    let h = healthy.clone();
    let other = xs.observable().take_while(|x| is_prime(*x));
    ts.schedule_at(200, move || {
        other.subscribe_observer(h);
    });
    let results = ts.start(move || failing);
    assert_eq!(results[..2], [on_next(210, 2), on_next(260, 5)]);
    assert_panicked(&results[2], 290, "ex");
    assert_eq!(results.len(), 3);
    // The healthy one subscribed first, and ran to its own end.
    assert_eq!(xs.subscriptions(), [sub(200, 390), sub(200, 290)]);
    assert_eq!(invoked.load(Ordering::SeqCst), 3);
    assert_eq!(healthy.messages().last(), Some(&on_completed(390)));
}

// ---- distinct_until_changed (test_distinctuntilchanged.py) ----

#[test]
fn distinct_until_changed_some_changes() {
    // RxPY: test_distinct_until_changed_some_changes.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(215, 3),
        on_next(220, 3),
        on_next(225, 2),
        on_next(230, 2),
        on_next(230, 1),
        on_next(240, 2),
        on_completed(250),
    ]);
    let source = xs.observable();
    let results = ts.start(move || source.pipe(op::distinct_until_changed()));
    assert_eq!(
        results,
        [
            on_next(210, 2),
            on_next(215, 3),
            on_next(225, 2),
            on_next(230, 1),
            on_next(240, 2),
            on_completed(250)
        ]
    );
}

#[test]
fn distinct_until_changed_comparer_all_equal_and_all_different() {
    // RxPY: test_distinct_until_changed_comparer_all_equal, _all_different.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(220, 3),
        on_next(230, 4),
        on_next(240, 5),
        on_completed(250),
    ]);
    let source = xs.observable();
    let results = ts.start(move || source.distinct_until_changed_by(|x: &i32| *x, |_, _| true));
    assert_eq!(results, [on_next(210, 2), on_completed(250)]);

    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(220, 2),
        on_next(230, 2),
        on_next(240, 2),
        on_completed(250),
    ]);
    let source = xs.observable();
    let results = ts.start(move || source.distinct_until_changed_by(|x: &i32| *x, |_, _| false));
    assert_eq!(results.len(), 5);
    assert_eq!(results[3], on_next(240, 2));
}

#[test]
fn distinct_until_changed_key_mapper_div2() {
    // RxPY: test_distinct_until_changed_key_mapper_div2.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(220, 4),
        on_next(230, 3),
        on_next(240, 5),
        on_completed(250),
    ]);
    let source = xs.observable();
    let results = ts.start(move || source.distinct_until_changed_by_key(|x| x % 2));
    assert_eq!(
        results,
        [on_next(210, 2), on_next(230, 3), on_completed(250)]
    );
}

#[test]
fn distinct_until_changed_key_mapper_and_comparer_panic() {
    // RxPY: test_distinct_until_changed_key_mapper_throws, _comparer_throws.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(150, 1), on_next(210, 2), on_completed(250)]);
    let source = xs.observable();
    let results =
        ts.start(move || source.distinct_until_changed_by_key(|_| -> i32 { panic!("ex") }));
    assert_eq!(results.len(), 1);
    assert_panicked(&results[0], 210, "ex");
    assert_eq!(xs.subscriptions(), [sub(200, 210)]);

    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(220, 3),
        on_completed(250),
    ]);
    let source = xs.observable();
    let results = ts.start(move || {
        source.distinct_until_changed_by(|x: &i32| *x, |_, _| -> bool { panic!("ex") })
    });
    assert_eq!(results[0], on_next(210, 2));
    assert_panicked(&results[1], 220, "ex");
}

#[test]
fn distinct_until_changed_empty_and_error() {
    // RxPY: test_distinct_until_changed_empty, _on_error.
    let ts = TestScheduler::new();
    assert_eq!(
        ts.start(|| empty::<i32>().distinct_until_changed()),
        [on_completed(200)]
    );
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(150, 1), on_error::<i32>(250, ex())]);
    let source = xs.observable();
    assert_eq!(
        ts.start(move || source.distinct_until_changed()),
        [on_error(250, ex())]
    );
}

// ---- buffer_with_count (test_bufferwithcount.py) ----

fn count_marbles() -> Vec<Recorded<i32>> {
    vec![
        on_next(100, 1),
        on_next(210, 2),
        on_next(240, 3),
        on_next(280, 4),
        on_next(320, 5),
        on_next(350, 6),
        on_next(380, 7),
        on_next(420, 8),
        on_next(470, 9),
        on_completed(600),
    ]
}

#[test]
fn buffer_with_count_basic() {
    // RxPY: test_buffer_with_count_basic.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(count_marbles());
    let source = xs.observable();
    let results = ts.start(move || source.buffer_with_count_skip(3, 2));
    assert_eq!(
        results,
        [
            on_next(280, vec![2, 3, 4]),
            on_next(350, vec![4, 5, 6]),
            on_next(420, vec![6, 7, 8]),
            on_next(600, vec![8, 9]),
            on_completed(600)
        ]
    );
    assert_eq!(xs.subscriptions(), [sub(200, 600)]);
}

#[test]
fn buffer_with_count_disposed() {
    // RxPY: test_buffer_with_count_disposed.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(count_marbles());
    let source = xs.observable();
    let results = ts.start_at(
        move || source.pipe(op::buffer_with_count_skip(3, 2)),
        100,
        200,
        370,
    );
    assert_eq!(
        results,
        [on_next(280, vec![2, 3, 4]), on_next(350, vec![4, 5, 6])]
    );
    assert_eq!(xs.subscriptions(), [sub(200, 370)]);
}

#[test]
fn buffer_count_partial_full_and_both() {
    // RxPY: test_buffer_count_partial_window, _full_windows,
    // _full_and_partial_windows.
    let marbles = vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(220, 3),
        on_next(230, 4),
        on_next(240, 5),
        on_completed(250),
    ];
    let run = |count| {
        let ts = TestScheduler::new();
        let source = ts.create_hot_observable(marbles.clone()).observable();
        ts.start(move || source.buffer_with_count(count))
    };
    assert_eq!(run(5), [on_next(250, vec![2, 3, 4, 5]), on_completed(250)]);
    assert_eq!(
        run(2),
        [
            on_next(220, vec![2, 3]),
            on_next(240, vec![4, 5]),
            on_completed(250)
        ]
    );
    assert_eq!(
        run(3),
        [
            on_next(230, vec![2, 3, 4]),
            on_next(250, vec![5]),
            on_completed(250)
        ]
    );
}

#[test]
fn buffer_with_count_skip_larger_than_count_leaves_elements_out() {
    assert_eq!(
        from_iter(1..=8)
            .buffer_with_count_skip(2, 3)
            .to_vec()
            .unwrap(),
        [vec![1, 2], vec![4, 5], vec![7, 8]]
    );
}

// ---- start_with (test_startwith.py) ----

#[test]
fn start_with() {
    // RxPY: test_start_with, test_start_with_scheduler_and_arg.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(150, 1), on_next(220, 2), on_completed(250)]);
    let source = xs.observable();
    let results = ts.start(move || pipe!(source, op::start_with([42, 43])));
    assert_eq!(
        results,
        [
            on_next(200, 42),
            on_next(200, 43),
            on_next(220, 2),
            on_completed(250)
        ]
    );
}

#[test]
fn start_with_then_take_does_not_subscribe_to_the_source() {
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(220, 2)]);
    let source = xs.observable();
    let results = ts.start(move || source.start_with([1]).take(1));
    assert_eq!(results, [on_next(200, 1), on_completed(200)]);
    assert!(xs.subscriptions().is_empty());
}

// ---- finally_action (test_finally.py) ----

#[test]
fn finally_only_called_once_empty() {
    // RxPY: test_finally_only_called_once_empty.
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let observable = empty::<i32>().finally_action(move || {
        c.fetch_add(1, Ordering::SeqCst);
    });
    let subscription = observable.subscribe(|_| {});
    subscription.dispose();
    subscription.dispose();
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn finally_return_and_on_error() {
    // RxPY: test_finally_empty, test_finally_return, test_finally_on_error:
    // the action runs after the observer saw the end.
    for end in [on_completed(250), on_error(250, ex())] {
        let ts = TestScheduler::new();
        let xs = ts.create_hot_observable(vec![on_next(150, 1), on_next(210, 2), end.clone()]);
        let ran_at = Arc::new(parking_lot::Mutex::new(None));
        let (source, r, t) = (xs.observable(), ran_at.clone(), ts.clone());
        let results =
            ts.start(move || source.pipe(op::finally_action(move || *r.lock() = Some(t.clock()))));
        assert_eq!(results, [on_next(210, 2), end]);
        assert_eq!(*ran_at.lock(), Some(250));
    }
}

#[test]
fn finally_runs_at_disposal_and_survives_its_own_panic() {
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(210, 2), on_next(500, 3)]);
    let source = xs.observable();
    let results = ts.start_at(
        move || source.finally_action(|| panic!("in finally")),
        100,
        200,
        300,
    );
    assert_eq!(results, [on_next(210, 2)]);
    assert_eq!(xs.subscriptions(), [sub(200, 300)]);
}

// ---- window(boundaries) (test_window.py) ----

fn window_source() -> Vec<Recorded<i32>> {
    vec![
        on_next(90, 1),
        on_next(180, 2),
        on_next(250, 3),
        on_next(260, 4),
        on_next(310, 5),
        on_next(340, 6),
        on_next(410, 7),
        on_next(420, 8),
        on_next(470, 9),
        on_next(550, 10),
        on_completed(590),
    ]
}

#[test]
fn window_simple() {
    // RxPY: test_window_simple.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(window_source());
    let ys = ts.create_hot_observable(vec![
        on_next(255, true),
        on_next(330, true),
        on_next(350, true),
        on_next(400, true),
        on_next(500, true),
        on_completed(900),
    ]);
    let (source, boundaries) = (xs.observable(), ys.observable());
    let results = ts.start(move || merge_windows(source.window(boundaries), false));
    let expected: Vec<Recorded<String>> = [
        (250, "0 3"),
        (260, "1 4"),
        (310, "1 5"),
        (340, "2 6"),
        (410, "4 7"),
        (420, "4 8"),
        (470, "4 9"),
        (550, "5 10"),
    ]
    .into_iter()
    .map(|(t, s)| on_next(t, s.to_string()))
    .chain([on_completed(590)])
    .collect();
    assert_eq!(results, expected);
    assert_eq!(xs.subscriptions(), [sub(200, 590)]);
    assert_eq!(ys.subscriptions(), [sub(200, 590)]);
}

#[test]
fn window_close_boundaries() {
    // RxPY: test_window_close_boundaries.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(window_source());
    let ys = ts.create_hot_observable(vec![
        on_next(255, true),
        on_next(330, true),
        on_next(350, true),
        on_completed(400),
    ]);
    let (source, boundaries) = (xs.observable(), ys.observable());
    let results = ts.start(move || merge_windows(source.pipe(op::window(boundaries)), false));
    assert_eq!(results.len(), 5);
    assert_eq!(results[3], on_next(340, "2 6".to_string()));
    assert_eq!(results[4], on_completed(400));
    assert_eq!(xs.subscriptions(), [sub(200, 400)]);
    assert_eq!(ys.subscriptions(), [sub(200, 400)]);
}

#[test]
fn window_throw_source_and_boundaries() {
    // RxPY: test_window_throwSource, test_window_throw_boundaries.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(250, 3),
        on_next(260, 4),
        on_next(340, 6),
        on_next(380, 7),
        on_error(400, ex()),
    ]);
    let ys = ts.create_hot_observable(vec![
        on_next(255, true),
        on_next(330, true),
        on_completed(500),
    ]);
    let (source, boundaries) = (xs.observable(), ys.observable());
    let results = ts.start(move || merge_windows(source.window(boundaries), false));
    assert_eq!(
        results[results.len() - 2..],
        [on_next(380, "2 7".to_string()), on_error(400, ex())]
    );
    assert_eq!(ys.subscriptions(), [sub(200, 400)]);

    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(window_source());
    let ys = ts.create_hot_observable(vec![on_next(255, true), on_error(400, ex())]);
    let (source, boundaries) = (xs.observable(), ys.observable());
    let results = ts.start(move || merge_windows(source.window(boundaries), false));
    assert_eq!(results.last(), Some(&on_error(400, ex())));
    assert_eq!(xs.subscriptions(), [sub(200, 400)]);
}

// ---- window_with_count (test_windowwithcount.py) ----

#[test]
fn window_with_count_basic_and_disposed() {
    // RxPY: test_window_with_count_basic, test_window_with_count_disposed.
    let expected: Vec<Recorded<String>> = [
        (210, "0 2"),
        (240, "0 3"),
        (280, "0 4"),
        (280, "1 4"),
        (320, "1 5"),
        (350, "1 6"),
        (350, "2 6"),
        (380, "2 7"),
        (420, "2 8"),
        (420, "3 8"),
        (470, "3 9"),
    ]
    .into_iter()
    .map(|(t, s)| on_next(t, s.to_string()))
    .collect();

    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(count_marbles());
    let source = xs.observable();
    let results = ts.start(move || merge_windows(source.window_with_count_skip(3, 2), false));
    let mut all = expected.clone();
    all.push(on_completed(600));
    assert_eq!(results, all);
    assert_eq!(xs.subscriptions(), [sub(200, 600)]);

    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(count_marbles());
    let source = xs.observable();
    let results = ts.start_at(
        move || merge_windows(source.pipe(op::window_with_count_skip(3, 2)), false),
        100,
        200,
        370,
    );
    assert_eq!(results, expected[..7]);
    assert_eq!(xs.subscriptions(), [sub(200, 370)]);
}
