//! Operators in time, on the virtual-time `TestScheduler` with RxPY's
//! marbles (RxPY's tests count time in ticks; a tick here is one
//! millisecond): debounce, throttle_first, sample, buffer_with_time,
//! window_with_time, delay, timeout, observe_on, subscribe_on. Each test
//! names the RxPY test it ports (from
//! `tests/test_observable/test_<operator>.py`). Disposal tests check, on a
//! scheduler that keeps every action's handle, that no timer is left.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Tracked, ex, merge_windows, ms};
use corun::Error;
use corun::reactive::{
    Observable, Recorded, SubscriptionLog, TestObservable, TestScheduler, ThreadPoolScheduler,
    empty, never, on_completed, on_error, on_next, op, throw,
};

fn sub(start: u64, end: u64) -> SubscriptionLog {
    SubscriptionLog::new(start, end)
}

fn strings(marbles: &[(u64, &str)]) -> Vec<Recorded<String>> {
    marbles
        .iter()
        .map(|(t, s)| on_next(*t, s.to_string()))
        .collect()
}

/// Subscribes to `make(scheduler)` at 200, disposes at `at`, and checks
/// that no action the operator scheduled is left waiting; returns what
/// was seen.
fn disposed_at<T: Clone + Send + 'static>(
    ts: &TestScheduler,
    at: u64,
    make: impl FnOnce(Tracked) -> Observable<T>,
) -> Vec<Recorded<T>> {
    let tracked = Tracked::new(ts);
    let observable = make(tracked.clone());
    let observer = ts.create_observer();
    let subscription = Arc::new(parking_lot::Mutex::new(None));
    let (o, s) = (observer.clone(), subscription.clone());
    // Both queued first, as RxPY's `start` does: at `at`, the disposal runs
    // before the operator's own actions due then.
    ts.schedule_at(200, move || {
        *s.lock() = Some(observable.subscribe_observer(o))
    });
    let s = subscription.clone();
    ts.schedule_at(at, move || s.lock().take().expect("subscribed").dispose());
    ts.advance_to(at);
    assert!(tracked.scheduled() > 0, "the operator scheduled nothing");
    assert_eq!(tracked.pending(), 0, "disposal left a timer");
    ts.run();
    observer.messages()
}

// ---- debounce (test_debounce.py) ----

fn debounce_marbles(end: Recorded<i32>) -> Vec<Recorded<i32>> {
    vec![
        on_next(150, 1),
        on_next(200, 2),
        on_next(250, 3),
        on_next(300, 4),
        on_next(350, 5),
        on_next(400, 6),
        on_next(450, 7),
        on_next(500, 8),
        end,
    ]
}

#[test]
fn debounce_timespan_allpass() {
    // RxPY: test_debounce_timespan_allpass, _allpass_error_end.
    for end in [on_completed(550), on_error(550, ex())] {
        let ts = TestScheduler::new();
        let xs = ts.create_hot_observable(debounce_marbles(end.clone()));
        let (source, s) = (xs.observable(), ts.clone());
        let results = ts.start(move || source.debounce(ms(40), s));
        let mut expected: Vec<_> = (3..=8).map(|x| on_next(140 + 50 * x as u64, x)).collect();
        expected.push(end);
        assert_eq!(results, expected);
    }
}

#[test]
fn debounce_timespan_alldrop() {
    // RxPY: test_debounce_timespan_alldrop, _alldrop_error_end.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(debounce_marbles(on_completed(550)));
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.pipe(op::debounce(ms(60), s)));
    assert_eq!(results, [on_next(550, 8), on_completed(550)]);

    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(debounce_marbles(on_error(550, ex())));
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.debounce(ms(60), s));
    assert_eq!(results, [on_error(550, ex())]);
}

#[test]
fn debounce_timespan_some_drop() {
    // RxPY: test_debounce_timespan_some_drop.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(150, 1),
        on_next(250, 2),
        on_next(350, 3),
        on_next(370, 4),
        on_next(421, 5),
        on_next(480, 6),
        on_next(490, 7),
        on_next(500, 8),
        on_completed(600),
    ]);
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.debounce(ms(50), s));
    assert_eq!(
        results,
        [
            on_next(300, 2),
            on_next(420, 4),
            on_next(471, 5),
            on_next(550, 8),
            on_completed(600)
        ]
    );
    assert_eq!(xs.subscriptions(), [sub(200, 600)]);
}

#[test]
fn debounce_empty_error_never() {
    // RxPY: test_debounce_empty, test_debounce_error, test_debounce_never.
    let ts = TestScheduler::new();
    let s = ts.clone();
    assert_eq!(
        ts.start(move || empty::<i32>().debounce(ms(10), s)),
        [on_completed(200)]
    );
    let ts = TestScheduler::new();
    let s = ts.clone();
    assert_eq!(
        ts.start(move || throw::<i32>(ex()).debounce(ms(10), s)),
        [on_error(200, ex())]
    );
    let ts = TestScheduler::new();
    let s = ts.clone();
    assert!(
        ts.start(move || never::<i32>().debounce(ms(10), s))
            .is_empty()
    );
}

#[test]
fn debounce_disposal_cancels_the_pending_timer() {
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(debounce_marbles(on_completed(550)));
    let source = xs.observable();
    let seen = disposed_at(&ts, 320, move |s| source.debounce(ms(40), s));
    assert_eq!(seen, [on_next(290, 3)]);
    assert_eq!(xs.subscriptions(), [sub(200, 320)]);
}

// ---- throttle_first (test_throttlefirst.py) ----

fn throttle_marbles(tail: Vec<Recorded<i32>>) -> Vec<Recorded<i32>> {
    let mut marbles = vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(250, 3),
        on_next(310, 4),
        on_next(350, 5),
    ];
    marbles.extend(tail);
    marbles
}

#[test]
fn throttle_first_completed() {
    // RxPY: test_throttle_first_completed.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(throttle_marbles(vec![
        on_next(410, 6),
        on_next(450, 7),
        on_completed(500),
    ]));
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.throttle_first(ms(200), s));
    assert_eq!(
        results,
        [on_next(210, 2), on_next(410, 6), on_completed(500)]
    );
    assert_eq!(xs.subscriptions(), [sub(200, 500)]);
}

#[test]
fn throttle_first_never_empty_error_no_end() {
    // RxPY: test_throttle_first_never, _empty, _error, _no_end.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(150, 1)]);
    let (source, s) = (xs.observable(), ts.clone());
    assert!(
        ts.start(move || source.throttle_first(ms(200), s))
            .is_empty()
    );
    assert_eq!(xs.subscriptions(), [sub(200, 1000)]);

    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(150, 1), on_completed(500)]);
    let (source, s) = (xs.observable(), ts.clone());
    assert_eq!(
        ts.start(move || source.throttle_first(ms(200), s)),
        [on_completed(500)]
    );

    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(throttle_marbles(vec![
        on_error(410, ex()),
        on_next(450, 7),
        on_completed(500),
    ]));
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.pipe(op::throttle_first(ms(200), s)));
    assert_eq!(results, [on_next(210, 2), on_error(410, ex())]);
    assert_eq!(xs.subscriptions(), [sub(200, 410)]);

    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(throttle_marbles(vec![on_next(410, 6), on_next(450, 7)]));
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.throttle_first(ms(200), s));
    assert_eq!(results, [on_next(210, 2), on_next(410, 6)]);
    assert_eq!(xs.subscriptions(), [sub(200, 1000)]);
}

// ---- sample (test_sample.py) ----

#[test]
fn sample_regular() {
    // RxPY: test_sample_regular.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(230, 3),
        on_next(260, 4),
        on_next(300, 5),
        on_next(350, 6),
        on_next(380, 7),
        on_completed(390),
    ]);
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.sample(ms(50), s));
    assert_eq!(
        results,
        [
            on_next(250, 3),
            on_next(300, 5),
            on_next(350, 6),
            on_next(400, 7),
            on_completed(400)
        ]
    );
}

#[test]
fn sample_error_in_flight() {
    // RxPY: test_sample_error_in_flight.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(230, 3),
        on_next(260, 4),
        on_next(300, 5),
        on_next(310, 6),
        on_error(330, ex()),
    ]);
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.pipe(op::sample(ms(50), s)));
    assert_eq!(
        results,
        [on_next(250, 3), on_next(300, 5), on_error(330, ex())]
    );
}

#[test]
fn sample_empty_error_never() {
    // RxPY: test_sample_empty, test_sample_error, test_sample_never.
    let ts = TestScheduler::new();
    let s = ts.clone();
    assert_eq!(
        ts.start(move || empty::<i32>().sample(Duration::ZERO, s)),
        [on_completed(200)]
    );
    let ts = TestScheduler::new();
    let s = ts.clone();
    assert_eq!(
        ts.start(move || throw::<i32>(ex()).sample(Duration::ZERO, s)),
        [on_error(200, ex())]
    );
    let ts = TestScheduler::new();
    let s = ts.clone();
    assert!(ts.start(move || never::<i32>().sample(ms(1), s)).is_empty());
}

#[test]
fn sample_with_an_observable_sampler() {
    // RxPY: sample(sampler) (sample_observable); the sampler's end samples
    // once more.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(210, 1), on_next(220, 2), on_next(260, 3)]);
    let ys = ts.create_hot_observable(vec![on_next(230, ()), on_next(240, ()), on_completed(280)]);
    let (source, sampler) = (xs.observable(), ys.observable());
    let results = ts.start(move || source.pipe(op::sample_with(sampler)));
    assert_eq!(results, [on_next(230, 2), on_next(280, 3)]);
}

#[test]
fn sample_disposal_stops_the_interval() {
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(210, 1), on_next(260, 2)]);
    let source = xs.observable();
    let seen = disposed_at(&ts, 275, move |s| source.sample(ms(50), s));
    assert_eq!(seen, [on_next(250, 1)]);
    assert_eq!(ts.clock(), 275, "nothing left to run after the disposal");
}

// ---- buffer_with_time (test_bufferwithtime.py) ----

fn time_marbles(end: Recorded<i32>) -> Vec<Recorded<i32>> {
    vec![
        on_next(100, 1),
        on_next(210, 2),
        on_next(240, 3),
        on_next(281, 4),
        on_next(321, 5),
        on_next(351, 6),
        on_next(381, 7),
        on_next(421, 8),
        on_next(471, 9),
        end,
    ]
}

#[test]
fn buffer_with_time_basic() {
    // RxPY: test_buffer_with_time_basic.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(time_marbles(on_completed(600)));
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.buffer_with_time_shift(ms(100), ms(70), s));
    assert_eq!(
        results,
        [
            on_next(300, vec![2, 3, 4]),
            on_next(370, vec![4, 5, 6]),
            on_next(440, vec![6, 7, 8]),
            on_next(510, vec![8, 9]),
            on_next(580, vec![]),
            on_next(600, vec![]),
            on_completed(600),
        ]
    );
    assert_eq!(xs.subscriptions(), [sub(200, 600)]);
}

#[test]
fn buffer_with_time_error() {
    // RxPY: test_buffer_with_time_error.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(time_marbles(on_error(600, ex())));
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.pipe(op::buffer_with_time_shift(ms(100), ms(70), s)));
    assert_eq!(results.len(), 6);
    assert_eq!(results[4..], [on_next(580, vec![]), on_error(600, ex())]);
}

#[test]
fn buffer_with_time_disposed() {
    // RxPY: test_buffer_with_time_disposed; and no timer is left.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(time_marbles(on_completed(600)));
    let source = xs.observable();
    let seen = disposed_at(&ts, 370, move |s| {
        source.buffer_with_time_shift(ms(100), ms(70), s)
    });
    assert_eq!(seen, [on_next(300, vec![2, 3, 4])]);
    assert_eq!(xs.subscriptions(), [sub(200, 370)]);
}

#[test]
fn buffer_with_time_basic_same() {
    // RxPY: test_buffer_with_time_basic_same.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
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
    ]);
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.pipe(op::buffer_with_time(ms(100), s)));
    assert_eq!(
        results,
        [
            on_next(300, vec![2, 3, 4]),
            on_next(400, vec![5, 6, 7]),
            on_next(500, vec![8, 9]),
            on_next(600, vec![]),
            on_completed(600),
        ]
    );
}

// ---- window_with_time (test_windowwithtime.py) ----

fn window_marbles() -> Vec<Recorded<i32>> {
    vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(240, 3),
        on_next(270, 4),
        on_next(320, 5),
        on_next(360, 6),
        on_next(390, 7),
        on_next(410, 8),
        on_next(460, 9),
        on_next(470, 10),
        on_completed(490),
    ]
}

#[test]
fn window_time_basic() {
    // RxPY: test_window_time_basic (windows of 100, each followed by "i end").
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(window_marbles());
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || merge_windows(source.window_with_time(ms(100), s), true));
    let mut expected = strings(&[
        (210, "0 2"),
        (240, "0 3"),
        (270, "0 4"),
        (300, "0 end"),
        (320, "1 5"),
        (360, "1 6"),
        (390, "1 7"),
        (400, "1 end"),
        (410, "2 8"),
        (460, "2 9"),
        (470, "2 10"),
        (490, "2 end"),
    ]);
    expected.push(on_completed(490));
    assert_eq!(results, expected);
    assert_eq!(xs.subscriptions(), [sub(200, 490)]);
}

#[test]
fn window_time_basic_both() {
    // RxPY: test_window_time_basic_both (timespan 100, timeshift 50).
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(window_marbles());
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || {
        merge_windows(
            source.pipe(op::window_with_time_shift(ms(100), ms(50), s)),
            true,
        )
    });
    let mut expected = strings(&[
        (210, "0 2"),
        (240, "0 3"),
        (270, "0 4"),
        (270, "1 4"),
        (300, "0 end"),
        (320, "1 5"),
        (320, "2 5"),
        (350, "1 end"),
        (360, "2 6"),
        (360, "3 6"),
        (390, "2 7"),
        (390, "3 7"),
        (400, "2 end"),
        (410, "3 8"),
        (410, "4 8"),
        (450, "3 end"),
        (460, "4 9"),
        (460, "5 9"),
        (470, "4 10"),
        (470, "5 10"),
        (490, "4 end"),
        (490, "5 end"),
    ]);
    expected.push(on_completed(490));
    assert_eq!(results, expected);
    assert_eq!(xs.subscriptions(), [sub(200, 490)]);
}

fn overlapping_expected() -> Vec<Recorded<String>> {
    strings(&[
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
    ])
}

fn overlapping_marbles(end: Recorded<i32>) -> Vec<Recorded<i32>> {
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
        end,
    ]
}

#[test]
fn window_with_time_basic_error_disposed() {
    // RxPY: test_window_with_time_basic, _error, test_Window_with_time_disposed.
    for end in [on_completed(600), on_error(600, ex())] {
        let ts = TestScheduler::new();
        let xs = ts.create_hot_observable(overlapping_marbles(end.clone()));
        let (source, s) = (xs.observable(), ts.clone());
        let results = ts
            .start(move || merge_windows(source.window_with_time_shift(ms(100), ms(70), s), false));
        let mut expected = overlapping_expected();
        expected.push(match end.value {
            corun::reactive::Notification::Completed => on_completed(600),
            _ => on_error(600, ex()),
        });
        assert_eq!(results, expected);
        assert_eq!(xs.subscriptions(), [sub(200, 600)]);
    }

    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(overlapping_marbles(on_completed(600)));
    let source = xs.observable();
    let seen = disposed_at(&ts, 370, move |s| {
        merge_windows(source.window_with_time_shift(ms(100), ms(70), s), false)
    });
    assert_eq!(seen, overlapping_expected()[..7]);
    assert_eq!(xs.subscriptions(), [sub(200, 370)]);
}

#[test]
fn window_with_time_basic_same() {
    // RxPY: test_window_with_time_basic_same.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(overlapping_marbles(on_completed(600)));
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || merge_windows(source.window_with_time(ms(100), s), false));
    let mut expected = strings(&[
        (210, "0 2"),
        (240, "0 3"),
        (280, "0 4"),
        (320, "1 5"),
        (350, "1 6"),
        (380, "1 7"),
        (420, "2 8"),
        (470, "2 9"),
    ]);
    expected.push(on_completed(600));
    assert_eq!(results, expected);
}

// ---- delay (test_delay.py) ----

fn delay_marbles(end: Recorded<i32>) -> Vec<Recorded<i32>> {
    vec![
        on_next(150, 1),
        on_next(250, 2),
        on_next(350, 3),
        on_next(450, 4),
        end,
    ]
}

fn delayed(ts: &TestScheduler, xs: &TestObservable<i32>, by: u64) -> Vec<Recorded<i32>> {
    let (source, s) = (xs.observable(), ts.clone());
    ts.start(move || source.delay(ms(by), s))
}

#[test]
fn delay_timespan_simple() {
    // RxPY: test_delay_timespan_simple1, _simple2_impl, _simple3_impl.
    for by in [100, 50, 150] {
        let ts = TestScheduler::new();
        let xs = ts.create_hot_observable(delay_marbles(on_completed(550)));
        assert_eq!(
            delayed(&ts, &xs, by),
            [
                on_next(250 + by, 2),
                on_next(350 + by, 3),
                on_next(450 + by, 4),
                on_completed(550 + by)
            ]
        );
        assert_eq!(xs.subscriptions(), [sub(200, 550)]);
    }
}

#[test]
fn delay_timespan_error() {
    // RxPY: test_delay_timespan_error1_impl, _error2_impl: the error is not
    // delayed, and drops what waits.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(delay_marbles(on_error(550, ex())));
    assert_eq!(
        delayed(&ts, &xs, 50),
        [
            on_next(300, 2),
            on_next(400, 3),
            on_next(500, 4),
            on_error(550, ex())
        ]
    );
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(delay_marbles(on_error(550, ex())));
    assert_eq!(
        delayed(&ts, &xs, 150),
        [on_next(400, 2), on_next(500, 3), on_error(550, ex())]
    );
    assert_eq!(xs.subscriptions(), [sub(200, 550)]);
}

#[test]
fn delay_empty_error_never() {
    // RxPY: test_delay_empty, test_delay_error, test_delay_never.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(150, 1), on_completed(550)]);
    assert_eq!(delayed(&ts, &xs, 10), [on_completed(560)]);
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(150, 1), on_error(550, ex())]);
    assert_eq!(delayed(&ts, &xs, 10), [on_error(550, ex())]);
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(150, 1)]);
    assert!(delayed(&ts, &xs, 10).is_empty());
    assert_eq!(xs.subscriptions(), [sub(200, 1000)]);
}

#[test]
fn delay_disposal_cancels_the_timer_and_drops_what_waits() {
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(delay_marbles(on_completed(550)));
    let source = xs.observable();
    let seen = disposed_at(&ts, 380, move |s| source.pipe(op::delay(ms(100), s)));
    assert_eq!(seen, [on_next(350, 2)]);
}

// ---- timeout (test_timeout.py) ----

#[test]
fn timeout_in_time_and_out_of_time() {
    // RxPY: test_timeout_in_time, test_timeout_out_of_time.
    for due in [500, 205] {
        let ts = TestScheduler::new();
        let xs = ts.create_hot_observable(vec![
            on_next(150, 1),
            on_next(210, 2),
            on_next(230, 3),
            on_next(260, 4),
            on_next(300, 5),
            on_next(350, 6),
            on_completed(400),
        ]);
        let (source, s) = (xs.observable(), ts.clone());
        let results = ts.start(move || source.timeout(ms(due), s));
        assert_eq!(results.len(), 6);
        assert_eq!(results[5], on_completed(400));
    }
}

fn switch_to() -> Vec<Recorded<i32>> {
    vec![
        on_next(50, -1),
        on_next(200, -2),
        on_next(310, -3),
        on_completed(320),
    ]
}

#[test]
fn timeout_timeout_occurs_1() {
    // RxPY: test_timeout_timeout_occurs_1.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(70, 1),
        on_next(130, 2),
        on_next(310, 3),
        on_next(400, 4),
        on_completed(500),
    ]);
    let ys = ts.create_cold_observable(switch_to());
    let (source, other, s) = (xs.observable(), ys.observable(), ts.clone());
    let results = ts.start(move || source.timeout_with(ms(100), other, s));
    assert_eq!(
        results,
        [
            on_next(350, -1),
            on_next(500, -2),
            on_next(610, -3),
            on_completed(620)
        ]
    );
    assert_eq!(xs.subscriptions(), [sub(200, 300)]);
    assert_eq!(ys.subscriptions(), [sub(300, 620)]);
}

#[test]
fn timeout_timeout_occurs_2() {
    // RxPY: test_timeout_timeout_occurs_2.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(70, 1),
        on_next(130, 2),
        on_next(240, 3),
        on_next(310, 4),
        on_next(430, 5),
        on_completed(500),
    ]);
    let ys = ts.create_cold_observable(switch_to());
    let (source, other, s) = (xs.observable(), ys.observable(), ts.clone());
    let results = ts.start(move || source.pipe(op::timeout_with(ms(100), other, s)));
    assert_eq!(
        results,
        [
            on_next(240, 3),
            on_next(310, 4),
            on_next(460, -1),
            on_next(610, -2),
            on_next(720, -3),
            on_completed(730)
        ]
    );
    assert_eq!(xs.subscriptions(), [sub(200, 410)]);
    assert_eq!(ys.subscriptions(), [sub(410, 730)]);
}

#[test]
fn timeout_timeout_occurs_never_completed_error() {
    // RxPY: test_timeout_timeout_occurs_never, _occurs_completed,
    // _occurs_error.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(70, 1),
        on_next(130, 2),
        on_next(240, 3),
        on_next(310, 4),
        on_next(430, 5),
        on_completed(500),
    ]);
    let ys = ts.create_cold_observable(vec![]);
    let (source, other, s) = (xs.observable(), ys.observable(), ts.clone());
    let results = ts.start(move || source.timeout_with(ms(100), other, s));
    assert_eq!(results, [on_next(240, 3), on_next(310, 4)]);
    assert_eq!(xs.subscriptions(), [sub(200, 410)]);
    assert_eq!(ys.subscriptions(), [sub(410, 1000)]);

    for end in [on_completed(500), on_error(500, ex())] {
        let ts = TestScheduler::new();
        let xs = ts.create_hot_observable(vec![end]);
        let ys = ts.create_cold_observable(vec![on_next(100, -1)]);
        let (source, other, s) = (xs.observable(), ys.observable(), ts.clone());
        let results = ts.start(move || source.timeout_with(ms(100), other, s));
        assert_eq!(results, [on_next(400, -1)]);
        assert_eq!(xs.subscriptions(), [sub(200, 300)]);
        assert_eq!(ys.subscriptions(), [sub(300, 1000)]);
    }
}

#[test]
fn timeout_timeout_not_occurs() {
    // RxPY: test_timeout_timeout_not_occurs_completed, _not_occurs_error,
    // test_timeout_timeout_does_not_occur.
    for end in [on_completed(250), on_error(250, ex())] {
        let ts = TestScheduler::new();
        let xs = ts.create_hot_observable(vec![end.clone()]);
        let ys = ts.create_cold_observable(vec![on_next(100, -1)]);
        let (source, other, s) = (xs.observable(), ys.observable(), ts.clone());
        assert_eq!(
            ts.start(move || source.timeout_with(ms(100), other, s)),
            [end]
        );
        assert_eq!(xs.subscriptions(), [sub(200, 250)]);
        assert!(ys.subscriptions().is_empty());
    }

    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![
        on_next(70, 1),
        on_next(130, 2),
        on_next(240, 3),
        on_next(320, 4),
        on_next(410, 5),
        on_completed(500),
    ]);
    let ys = ts.create_cold_observable(switch_to());
    let (source, other, s) = (xs.observable(), ys.observable(), ts.clone());
    let results = ts.start(move || source.timeout_with(ms(100), other, s));
    assert_eq!(
        results,
        [
            on_next(240, 3),
            on_next(320, 4),
            on_next(410, 5),
            on_completed(500)
        ]
    );
    assert!(ys.subscriptions().is_empty());
}

#[test]
fn timeout_without_other_fails_with_a_timeout_error() {
    // RxPY: ops.timeout(duetime) with no `other` raises Exception("Timeout");
    // here the error is corun's Timeout kind.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(250, 1), on_next(400, 2)]);
    let (source, s) = (xs.observable(), ts.clone());
    let results = ts.start(move || source.timeout(ms(100), s));
    assert_eq!(results, [on_next(250, 1), on_error(350, Error::timeout())]);
    assert_eq!(xs.subscriptions(), [sub(200, 350)]);
}

#[test]
fn timeout_disposal_cancels_the_timer() {
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(250, 1), on_next(300, 2)]);
    let source = xs.observable();
    let seen = disposed_at(&ts, 320, move |s| source.timeout(ms(100), s));
    assert_eq!(seen, [on_next(250, 1), on_next(300, 2)]);
}

/// A marble case: the source's messages, the expected messages, and the
/// tick of the source's one subscription end.
type Case = (Vec<Recorded<i32>>, Vec<Recorded<i32>>, u64);

// ---- observe_on (test_observeon.py), subscribe_on (test_subscribeon.py) ----

#[test]
fn observe_on_normal_error_empty_never() {
    // RxPY: test_observe_on_normal, _error, _empty, _never.
    let cases: Vec<Case> = vec![
        (
            vec![on_next(150, 1), on_next(210, 2), on_completed(250)],
            vec![on_next(210, 2), on_completed(250)],
            250,
        ),
        (
            vec![on_next(150, 1), on_error(210, ex())],
            vec![on_error(210, ex())],
            210,
        ),
        (
            vec![on_next(150, 1), on_completed(250)],
            vec![on_completed(250)],
            250,
        ),
        (vec![on_next(150, 1)], vec![], 1000),
    ];
    for (marbles, expected, end) in cases {
        let ts = TestScheduler::new();
        let xs = ts.create_hot_observable(marbles);
        let (source, s) = (xs.observable(), ts.clone());
        assert_eq!(ts.start(move || source.observe_on(s)), expected);
        assert_eq!(xs.subscriptions(), [sub(200, end)]);
    }
}

#[test]
fn subscribe_on_normal_error_empty_never() {
    // RxPY: test_subscribe_on_normal, _error, _empty, _never.
    let cases: Vec<Case> = vec![
        (
            vec![on_next(150, 1), on_next(210, 2), on_completed(250)],
            vec![on_next(210, 2), on_completed(250)],
            250,
        ),
        (
            vec![on_next(150, 1), on_error(210, ex())],
            vec![on_error(210, ex())],
            210,
        ),
        (
            vec![on_next(150, 1), on_completed(250)],
            vec![on_completed(250)],
            250,
        ),
        (vec![on_next(150, 1)], vec![], 1000),
    ];
    for (marbles, expected, end) in cases {
        let ts = TestScheduler::new();
        let xs = ts.create_hot_observable(marbles);
        let (source, s) = (xs.observable(), ts.clone());
        assert_eq!(ts.start(move || source.pipe(op::subscribe_on(s))), expected);
        assert_eq!(xs.subscriptions(), [sub(200, end)]);
    }
}

#[test]
fn subscribe_on_disposed_before_the_action_never_subscribes() {
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(vec![on_next(210, 2)]);
    let later = TestScheduler::new(); // a scheduler whose time never comes
    let subscription = xs
        .observable()
        .subscribe_on(later.clone())
        .subscribe(|_| {});
    subscription.dispose();
    later.run();
    ts.run();
    assert!(xs.subscriptions().is_empty());
}

#[test]
fn observe_on_a_thread_pool_keeps_the_order_and_stops_at_disposal() {
    let pool = ThreadPoolScheduler::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    corun::reactive::range(0, 1000)
        .observe_on(pool)
        .subscribe_all(
            move |x| tx.send(x).unwrap(),
            |_| {},
            move || d.store(true, Ordering::SeqCst),
        );
    let seen: Vec<i32> = rx.iter().take(1000).collect();
    assert_eq!(seen, (0..1000).collect::<Vec<_>>());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done.load(Ordering::SeqCst) {
        assert!(std::time::Instant::now() < deadline, "no end delivered");
        std::thread::yield_now();
    }
}
