//! Time on the virtual-time `TestScheduler`: `interval` and `timer` ported
//! from RxPY `tests/test_observable/test_interval.py` and
//! `test_timer.py`, and the marble helpers (cold / hot observables,
//! subscription logs) from `tests/test_observable/test_take.py`.

use std::time::Duration;

use corun::Error;
use corun::reactive::{
    Recorded, SubscriptionLog, TestScheduler, interval, on_completed, on_error, on_next, timer,
    timer_periodic,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn interval_timespan_basic() {
    // RxPY: test_interval_timespan_basic.
    let ts = TestScheduler::new();
    let s = ts.clone();
    let results = ts.start(move || interval(ms(100), s));
    let expected: Vec<Recorded<u64>> = (0..7).map(|n| on_next(300 + 100 * n, n)).collect();
    assert_eq!(results, expected);
}

#[test]
fn interval_timespan_disposed_early() {
    // RxPY: test_interval_timespan_disposed (disposed at 200, when subscribed).
    let ts = TestScheduler::new();
    let s = ts.clone();
    let results = ts.start_at(move || interval(ms(1000), s), 100, 200, 200);
    assert!(results.is_empty());
    assert_eq!(ts.clock(), 200, "nothing left queued after disposal");
}

#[test]
fn interval_on_advance_by() {
    let ts = TestScheduler::new();
    let seen = ts.create_observer();
    let subscription = interval(ms(10), ts.clone()).subscribe_observer(seen.clone());
    ts.advance_by(35);
    assert_eq!(seen.messages(), [on_next(10, 0), on_next(20, 1), on_next(30, 2)]);
    subscription.dispose();
    ts.advance_by(100);
    assert_eq!(seen.messages().len(), 3);
}

#[test]
fn oneshot_timer_timespan_basic() {
    // RxPY: test_oneshot_timer_timespan_basic.
    let ts = TestScheduler::new();
    let s = ts.clone();
    let results = ts.start(move || timer(ms(300), s));
    assert_eq!(results, [on_next(500, 0), on_completed(500)]);
}

#[test]
fn oneshot_timer_timespan_zero() {
    // RxPY: test_oneshot_timer_timespan_zero expects tick 201: RxPY's
    // trampoline adds a tick; a zero delay here runs at the subscription.
    let ts = TestScheduler::new();
    let s = ts.clone();
    let results = ts.start(move || timer(Duration::ZERO, s));
    assert_eq!(results, [on_next(200, 0), on_completed(200)]);
}

#[test]
fn oneshot_timer_timespan_disposed() {
    // RxPY: test_oneshot_timer_timespan_disposed (due after disposal).
    let ts = TestScheduler::new();
    let s = ts.clone();
    let results = ts.start(move || timer(ms(1000), s));
    assert!(results.is_empty());
}

#[test]
fn periodic_timer() {
    // RxPY: test_periodic_timer_basic (timer(duetime=300, period=400)).
    let ts = TestScheduler::new();
    let s = ts.clone();
    let results = ts.start(move || timer_periodic(ms(300), ms(400), s));
    assert_eq!(results, [on_next(500, 0), on_next(900, 1)]);
}

#[test]
fn take_complete_after_take_on_cold_observable() {
    // RxPY test_take.py: test_take_complete_after: the subscription log
    // shows the source unsubscribed at its end.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(70, 6),
        on_next(150, 4),
        on_next(210, 9),
        on_next(230, 13),
        on_next(270, 7),
        on_completed(320),
    ]);
    let source = xs.observable();
    let results = ts.start(move || source.take(20));
    assert_eq!(
        results,
        [on_next(210, 9), on_next(230, 13), on_next(270, 7), on_completed(320)]
    );
    assert_eq!(xs.subscriptions(), [SubscriptionLog::new(200, 320)]);
}

#[test]
fn take_stops_the_source_when_enough() {
    // RxPY test_take.py: test_take_complete_before.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(210, 9),
        on_next(230, 13),
        on_next(270, 7),
        on_next(280, 1),
        on_completed(320),
    ]);
    let source = xs.observable();
    let results = ts.start(move || source.take(2));
    assert_eq!(results, [on_next(210, 9), on_next(230, 13), on_completed(230)]);
    assert_eq!(xs.subscriptions(), [SubscriptionLog::new(200, 230)]);
}

#[test]
fn cold_observable_is_relative_to_each_subscription() {
    let ts = TestScheduler::new();
    let xs = ts.create_cold_observable(vec![
        on_next(10, 'a'),
        on_next(20, 'b'),
        on_error(30, Error::timeout()),
    ]);
    let source = xs.observable();
    let results = ts.start(move || source);
    assert_eq!(
        results,
        [on_next(210, 'a'), on_next(220, 'b'), on_error(230, Error::timeout())]
    );
    assert_eq!(xs.subscriptions(), [SubscriptionLog::new(200, 230)]);
}

#[test]
fn disposal_is_logged_at_the_disposal_tick() {
    let ts = TestScheduler::new();
    let xs = ts.create_cold_observable(vec![on_next(100, 1), on_next(900, 2)]);
    let source = xs.observable();
    let results = ts.start_at(move || source, 0, 100, 500);
    assert_eq!(results, [on_next(200, 1)]);
    assert_eq!(xs.subscriptions(), [SubscriptionLog::new(100, 500)]);
}
