//! The combining operators on the virtual-time `TestScheduler`, ported
//! from RxPY `tests/test_observable/` (each test names its source: the
//! same marbles, the same expected records and subscription logs), and
//! their behaviour across threads: inner observables on the thread pool,
//! serialised delivery, disposal from another thread, panicking callbacks.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
use std::time::Duration;

use corun::concurrent::{Executor, ThreadPoolExecutor};
use corun::reactive::{
    Observable, Observer, Recorded, Scheduler, Subject, SubscriptionLog, TestObservable,
    TestScheduler, ThreadPoolScheduler, combine_latest, concat, empty, from_iter, interval, merge,
    never, of, on_completed, on_error, on_next, op, pipe, range, throw, zip,
};
use corun::{Error, ErrorKind};
use corun_test_support::poll_until;
use parking_lot::Mutex;

fn ex() -> Error {
    Error::panic("ex")
}

fn err<T>(time: u64) -> Recorded<T> {
    on_error(time, ex())
}

fn sub(subscribe: u64, unsubscribe: u64) -> SubscriptionLog {
    SubscriptionLog::new(subscribe, unsubscribe)
}

fn nexts<T: Clone>(pairs: &[(u64, T)]) -> Vec<Recorded<T>> {
    pairs.iter().map(|(t, v)| on_next(*t, v.clone())).collect()
}

/// `source`, counting its live subscriptions in `live` (and the most at
/// once in `most`).
fn counted<T: Send + 'static>(
    source: Observable<T>,
    live: &Arc<AtomicIsize>,
    most: &Arc<AtomicIsize>,
) -> Observable<T> {
    let (live, most) = (live.clone(), most.clone());
    Observable::new(move |s| {
        let now = live.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        let l = live.clone();
        s.add(move || {
            l.fetch_sub(1, Ordering::SeqCst);
        });
        source.subscribe_subscriber(s);
    })
}

fn then<T>(mut m: Vec<Recorded<T>>, last: Recorded<T>) -> Vec<Recorded<T>> {
    m.push(last);
    m
}

// ---------------------------------------------------------------- flat_map

/// The hot observable of cold observables shared by RxPY's
/// `test_flat_map_complete` family; `inner_end` ends the one at 300,
/// `outer_end` the outer one.
struct Nested {
    xs: TestObservable<Observable<i32>>,
    inners: Vec<TestObservable<i32>>,
}

fn nested(
    ts: &TestScheduler,
    inner_end: Recorded<i32>,
    outer_end: Recorded<Observable<i32>>,
) -> Nested {
    nested_with(
        ts,
        inner_end,
        vec![on_next(180, 202), on_next(190, 203), on_completed(205)],
        outer_end,
    )
}

fn nested_with(
    ts: &TestScheduler,
    inner_end: Recorded<i32>,
    at_400: Vec<Recorded<i32>>,
    outer_end: Recorded<Observable<i32>>,
) -> Nested {
    let inners = vec![
        ts.create_cold_observable(vec![err(1)]),
        ts.create_cold_observable(vec![err(1)]),
        ts.create_cold_observable(then(
            nexts(&[(10, 102), (90, 103), (110, 104), (190, 105), (440, 106)]),
            inner_end,
        )),
        ts.create_cold_observable(at_400),
        ts.create_cold_observable(then(
            nexts(&[(10, 301), (50, 302), (70, 303), (260, 304), (310, 305)]),
            on_completed(410),
        )),
        ts.create_cold_observable(vec![on_completed(40)]),
        ts.create_cold_observable(vec![on_next(80, 401), on_next(90, 402), on_completed(100)]),
    ];
    let times = [5, 105, 300, 400, 550, 750, 850];
    let mut marbles: Vec<Recorded<Observable<i32>>> = times
        .iter()
        .zip(&inners)
        .map(|(t, inner)| on_next(*t, inner.observable()))
        .collect();
    marbles.push(outer_end);
    Nested {
        xs: ts.create_hot_observable(marbles),
        inners,
    }
}

fn nested_results_to(last: u64) -> Vec<Recorded<i32>> {
    nexts(&[
        (310, 102),
        (390, 103),
        (410, 104),
        (490, 105),
        (560, 301),
        (580, 202),
        (590, 203),
        (600, 302),
        (620, 303),
        (740, 106),
        (810, 304),
        (860, 305),
        (930, 401),
        (940, 402),
    ])
    .into_iter()
    .filter(|r| r.time < last)
    .collect()
}

#[test]
fn flat_map_then_complete_complete() {
    // RxPY: test_flatmap.py, test_flat_map_then_complete_complete.
    let ts = TestScheduler::new();
    let xs = ts.create_cold_observable(then(
        nexts(&[(100, 4), (200, 2), (300, 3), (400, 1)]),
        on_completed(500),
    ));
    let ys = ts.create_cold_observable(then(
        nexts(&[(50, "foo"), (100, "bar"), (150, "baz"), (200, "qux")]),
        on_completed(250),
    ));
    let (x, y) = (xs.observable(), ys.observable());
    let results = ts.start(move || x.flat_map(move |_| y.clone()));
    let expected = then(
        nexts(&[
            (350, "foo"),
            (400, "bar"),
            (450, "baz"),
            (450, "foo"),
            (500, "qux"),
            (500, "bar"),
            (550, "baz"),
            (550, "foo"),
            (600, "qux"),
            (600, "bar"),
            (650, "baz"),
            (650, "foo"),
            (700, "qux"),
            (700, "bar"),
            (750, "baz"),
            (800, "qux"),
        ]),
        on_completed(850),
    );
    assert_eq!(results, expected);
    assert_eq!(xs.subscriptions(), [sub(200, 700)]);
    assert_eq!(
        ys.subscriptions(),
        [sub(300, 550), sub(400, 650), sub(500, 750), sub(600, 850)]
    );
}

#[test]
fn flat_map_complete() {
    // RxPY: test_flatmap.py, test_flat_map_complete.
    let ts = TestScheduler::new();
    let n = nested(&ts, on_completed(460), on_completed(900));
    let xs = n.xs.observable();
    let results = ts.start(move || xs.pipe(op::flat_map(|x: Observable<i32>| x)));
    assert_eq!(
        results,
        then(nested_results_to(u64::MAX), on_completed(960))
    );
    assert_eq!(n.xs.subscriptions(), [sub(200, 900)]);
    let logs: Vec<_> = n.inners[2..].iter().map(|i| i.subscriptions()).collect();
    assert_eq!(
        logs,
        [
            vec![sub(300, 760)],
            vec![sub(400, 605)],
            vec![sub(550, 960)],
            vec![sub(750, 790)],
            vec![sub(850, 950)],
        ]
    );
}

#[test]
fn flat_map_complete_inner_not_complete() {
    // RxPY: test_flatmap.py, test_flat_map_complete_inner_not_complete:
    // the output does not complete while an inner observable runs.
    let ts = TestScheduler::new();
    let n = nested_with(
        &ts,
        on_completed(460),
        vec![on_next(180, 202), on_next(190, 203)],
        on_completed(900),
    );
    let xs = n.xs.observable();
    let results = ts.start(move || xs.flat_map(|x| x));
    assert_eq!(results, nested_results_to(u64::MAX));
    assert_eq!(n.xs.subscriptions(), [sub(200, 900)]);
    assert_eq!(n.inners[3].subscriptions(), [sub(400, 1000)]);
}

#[test]
fn flat_map_complete_outer_not_complete() {
    // RxPY: test_flatmap.py, test_flat_map_complete_outer_not_complete.
    let ts = TestScheduler::new();
    let n = nested(&ts, on_completed(460), on_next(2000, never()));
    let xs = n.xs.observable();
    let results = ts.start(move || xs.flat_map(|x| x));
    assert_eq!(results, nested_results_to(u64::MAX));
    assert_eq!(n.xs.subscriptions(), [sub(200, 1000)]);
}

#[test]
fn flat_map_error_outer() {
    // RxPY: test_flatmap.py, test_flat_map_error_outer.
    let ts = TestScheduler::new();
    let n = nested(&ts, on_completed(460), err(900));
    let xs = n.xs.observable();
    let results = ts.start(move || xs.merge_all());
    assert_eq!(results, then(nested_results_to(900), err(900)));
    assert_eq!(n.xs.subscriptions(), [sub(200, 900)]);
    let logs: Vec<_> = n.inners[2..].iter().map(|i| i.subscriptions()).collect();
    assert_eq!(
        logs,
        [
            vec![sub(300, 760)],
            vec![sub(400, 605)],
            vec![sub(550, 900)],
            vec![sub(750, 790)],
            vec![sub(850, 900)],
        ]
    );
}

#[test]
fn flat_map_error_inner() {
    // RxPY: test_flatmap.py, test_flat_map_error_inner: an inner error
    // ends everything, the outer subscription included.
    let ts = TestScheduler::new();
    let n = nested(&ts, err(460), on_completed(900));
    let xs = n.xs.observable();
    let results = ts.start(move || xs.flat_map(|x| x));
    assert_eq!(results, then(nested_results_to(760), err(760)));
    assert_eq!(n.xs.subscriptions(), [sub(200, 760)]);
    let logs: Vec<_> = n.inners[2..].iter().map(|i| i.subscriptions()).collect();
    assert_eq!(
        logs,
        [
            vec![sub(300, 760)],
            vec![sub(400, 605)],
            vec![sub(550, 760)],
            vec![sub(750, 760)],
            vec![],
        ]
    );
}

#[test]
fn flat_map_dispose() {
    // RxPY: test_flatmap.py, test_flat_map_dispose: disposing the output
    // disposes the outer subscription and every inner one.
    let ts = TestScheduler::new();
    let n = nested(&ts, on_completed(460), on_completed(900));
    let xs = n.xs.observable();
    let results = ts.start_at(move || xs.flat_map(|x| x), 100, 200, 700);
    assert_eq!(results, nested_results_to(700));
    assert_eq!(n.xs.subscriptions(), [sub(200, 700)]);
    let logs: Vec<_> = n.inners[2..].iter().map(|i| i.subscriptions()).collect();
    assert_eq!(
        logs,
        [
            vec![sub(300, 700)],
            vec![sub(400, 605)],
            vec![sub(550, 700)],
            vec![],
            vec![]
        ]
    );
}

#[test]
fn flat_map_selector_panics() {
    // RxPY: test_flatmap.py, test_flat_map_on_error (the mapper raises at
    // its third call): the output fails, every subscription is disposed.
    let ts = TestScheduler::new();
    let n = nested(&ts, on_completed(460), on_completed(900));
    let xs = n.xs.observable();
    let results = ts.start(move || {
        let calls = AtomicUsize::new(0);
        xs.flat_map(move |x| {
            if calls.fetch_add(1, Ordering::SeqCst) == 2 {
                panic!("ex");
            }
            x
        })
    });
    let (last, rest) = results.split_last().unwrap();
    assert_eq!(rest, nested_results_to(550).as_slice());
    assert_eq!(last.time, 550);
    let corun::reactive::Notification::Error(error) = &last.value else {
        panic!("expected the selector's panic, got {last:?}");
    };
    assert_eq!(error.kind(), ErrorKind::Panicked);
    assert_eq!(error.panic_message(), Some("ex"));
    assert_eq!(n.xs.subscriptions(), [sub(200, 550)]);
    let logs: Vec<_> = n.inners[2..].iter().map(|i| i.subscriptions()).collect();
    assert_eq!(
        logs,
        [
            vec![sub(300, 550)],
            vec![sub(400, 550)],
            vec![],
            vec![],
            vec![]
        ]
    );
}

// -------------------------------------------------------------- concat_map

#[test]
fn concat_map_and_flatten_each_item() {
    // RxPY: test_concatmap.py, test_concat_map_and_flatten_each_item.
    let ts = TestScheduler::new();
    let e1 = ts.create_hot_observable(then(
        nexts(&[(220, 1), (300, 3), (330, 5)]),
        on_completed(500),
    ));
    let e2 = ts.create_cold_observable(then(
        nexts(&[(0, 10), (10, 10), (20, 10)]),
        on_completed(30),
    ));
    let (a, b) = (e1.observable(), e2.observable());
    let results = ts.start(move || a.concat_map(move |x| b.map(move |i| i * x)));
    let expected = then(
        nexts(&[
            (220, 10),
            (230, 10),
            (240, 10),
            (300, 30),
            (310, 30),
            (320, 30),
            (330, 50),
            (340, 50),
            (350, 50),
        ]),
        on_completed(500),
    );
    assert_eq!(results, expected);
    assert_eq!(e1.subscriptions(), [sub(200, 500)]);
    assert_eq!(
        e2.subscriptions(),
        [sub(220, 250), sub(300, 330), sub(330, 360)]
    );
}

#[test]
fn concat_map_finalize_before_next() {
    // RxPY: test_concatmap.py, test_concat_map_finalize_before_next: the
    // inner for 4 waits until the one for 2 has completed.
    let ts = TestScheduler::new();
    let e1 = ts.create_hot_observable(nexts(&[(210, 2), (220, 4), (600, 6)]));
    let e2 = ts.create_cold_observable(vec![on_next(50, 5), on_next(100, 55), on_completed(100)]);
    let (a, b) = (e1.observable(), e2.observable());
    let results = ts.start(move || a.pipe(op::concat_map(move |x| b.map(move |i| i * x))));
    assert_eq!(
        results,
        nexts(&[
            (260, 10),
            (310, 110),
            (360, 20),
            (410, 220),
            (650, 30),
            (700, 330)
        ])
    );
    assert_eq!(e1.subscriptions(), [sub(200, 1000)]);
    assert_eq!(
        e2.subscriptions(),
        [sub(210, 310), sub(310, 410), sub(600, 700)]
    );
}

#[test]
fn concat_map_inner_errors() {
    // RxPY: test_concatmap.py, test_concat_map_inner_errors.
    let ts = TestScheduler::new();
    let e1 = ts.create_cold_observable(nexts(&[(0, 0), (50, 1), (100, 2)]));
    let inners = [
        ts.create_cold_observable(vec![on_next(10, 1), on_next(100, 2), on_completed(100)]),
        ts.create_cold_observable(vec![on_next(10, 50), err(80)]),
        ts.create_cold_observable(vec![on_next(10, 1), on_next(100, 2), on_completed(100)]),
    ];
    let observables: Vec<_> = inners.iter().map(TestObservable::observable).collect();
    let a = e1.observable();
    let results = ts.start(move || a.concat_map(move |x| observables[x as usize].clone()));
    assert_eq!(
        results,
        then(nexts(&[(210, 1), (300, 2), (310, 50)]), err(380))
    );
    assert_eq!(e1.subscriptions(), [sub(200, 380)]);
    assert_eq!(inners[0].subscriptions(), [sub(200, 300)]);
    assert_eq!(inners[1].subscriptions(), [sub(300, 380)]);
    assert_eq!(inners[2].subscriptions(), []);
}

// -------------------------------------------------------------- switch_map

/// The marbles of RxPY's `test_switch_data` family; `second_end` ends the
/// inner observable at 400.
fn switch_marbles(
    ts: &TestScheduler,
    second_end: Recorded<i32>,
) -> TestObservable<Observable<i32>> {
    let first = ts.create_cold_observable(then(
        nexts(&[
            (10, 101),
            (20, 102),
            (110, 103),
            (120, 104),
            (210, 105),
            (220, 106),
        ]),
        on_completed(230),
    ));
    let second = ts.create_cold_observable(then(
        nexts(&[(10, 201), (20, 202), (30, 203), (40, 204)]),
        second_end,
    ));
    let third = ts.create_cold_observable(then(
        nexts(&[(10, 301), (20, 302), (30, 303), (40, 304)]),
        on_completed(150),
    ));
    ts.create_hot_observable(vec![
        on_next(300, first.observable()),
        on_next(400, second.observable()),
        on_next(500, third.observable()),
        on_completed(600),
    ])
}

fn switch_results() -> Vec<Recorded<i32>> {
    nexts(&[
        (310, 101),
        (320, 102),
        (410, 201),
        (420, 202),
        (430, 203),
        (440, 204),
        (510, 301),
        (520, 302),
        (530, 303),
        (540, 304),
    ])
}

#[test]
fn switch_latest_data() {
    // RxPY: test_switchlatest.py, test_switch_data: 103.. of the first
    // inner never show, it was switched away at 400.
    let ts = TestScheduler::new();
    let xs = switch_marbles(&ts, on_completed(50)).observable();
    let results = ts.start(move || xs.switch_latest());
    assert_eq!(results, then(switch_results(), on_completed(650)));
}

#[test]
fn switch_latest_inner_throws() {
    // RxPY: test_switchlatest.py, test_switch_inner_throws.
    let ts = TestScheduler::new();
    let xs = switch_marbles(&ts, err(50)).observable();
    let results = ts.start(move || xs.pipe(op::switch_latest()));
    let expected: Vec<_> = switch_results()
        .into_iter()
        .filter(|r| r.time < 450)
        .collect();
    assert_eq!(results, then(expected, err(450)));
}

#[test]
fn switch_latest_outer_throws() {
    // RxPY: test_switchlatest.py, test_switch_outer_throws.
    let ts = TestScheduler::new();
    let first = ts.create_cold_observable(then(
        nexts(&[
            (10, 101),
            (20, 102),
            (110, 103),
            (120, 104),
            (210, 105),
            (220, 106),
        ]),
        on_completed(230),
    ));
    let second = ts.create_cold_observable(then(
        nexts(&[(10, 201), (20, 202), (30, 203), (40, 204)]),
        on_completed(50),
    ));
    let xs = ts
        .create_hot_observable(vec![
            on_next(300, first.observable()),
            on_next(400, second.observable()),
            err(500),
        ])
        .observable();
    let results = ts.start(move || xs.switch_latest());
    let expected: Vec<_> = switch_results()
        .into_iter()
        .filter(|r| r.time < 500)
        .collect();
    assert_eq!(results, then(expected, err(500)));
}

#[test]
fn switch_latest_inner_completes() {
    // RxPY: test_switchlatest.py, test_switch_inner_completes: the outer
    // end waits for the latest inner one, and vice versa.
    let ts = TestScheduler::new();
    let first = ts.create_cold_observable(then(
        nexts(&[
            (10, 101),
            (20, 102),
            (110, 103),
            (120, 104),
            (210, 105),
            (220, 106),
        ]),
        on_completed(230),
    ));
    let xs = ts
        .create_hot_observable(vec![on_next(300, first.observable()), on_completed(540)])
        .observable();
    let results = ts.start(move || xs.switch_latest());
    let expected = then(
        nexts(&[
            (310, 101),
            (320, 102),
            (410, 103),
            (420, 104),
            (510, 105),
            (520, 106),
        ]),
        on_completed(540),
    );
    assert_eq!(results, expected);
}

#[test]
fn switch_map_disposes_the_previous_inner() {
    // RxPY: test_switchmap.py, test_switch_map; and a count of the live
    // inner subscriptions: one at a time, none after the disposal.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(nexts(&[(300, "a"), (400, "b"), (500, "c")]));
    let live = Arc::new(AtomicIsize::new(0));
    let most = Arc::new(AtomicIsize::new(0));
    let (x, s, l, m) = (xs.observable(), ts.clone(), live.clone(), most.clone());
    let results = ts.start_at(
        move || {
            x.switch_map(move |name| {
                counted(interval(Duration::from_millis(20), s.clone()), &l, &m)
                    .map(move |j| (j, name))
            })
        },
        100,
        200,
        580,
    );
    let expected = nexts(&[
        (320, (0, "a")),
        (340, (1, "a")),
        (360, (2, "a")),
        (380, (3, "a")),
        (420, (0, "b")),
        (440, (1, "b")),
        (460, (2, "b")),
        (480, (3, "b")),
        (520, (0, "c")),
        (540, (1, "c")),
        (560, (2, "c")),
    ]);
    assert_eq!(results, expected);
    assert_eq!(xs.subscriptions(), [sub(200, 580)]);
    assert_eq!(most.load(Ordering::SeqCst), 1);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn switch_map_selector_panics() {
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(nexts(&[(300, 1), (400, 2)]));
    let ys = ts.create_cold_observable(nexts(&[(10, 0)]));
    let (x, y) = (xs.observable(), ys.observable());
    let results = ts.start(move || {
        x.switch_map(move |n| {
            assert!(n < 2, "no two");
            y.clone()
        })
    });
    assert_eq!(results.len(), 2);
    assert_eq!(results[0], on_next(310, 0));
    assert_eq!(results[1].time, 400);
    assert!(
        matches!(&results[1].value, corun::reactive::Notification::Error(e) if e.kind() == ErrorKind::Panicked)
    );
    assert_eq!(xs.subscriptions(), [sub(200, 400)]);
    assert_eq!(ys.subscriptions(), [sub(300, 400)]);
}

// ------------------------------------------------------------------ merge

#[test]
fn merge_never_and_empty() {
    // RxPY: test_merge.py, test_merge_never2, test_merge_empty2,
    // test_merge_empty_never, test_merge_empty_delayed2_right_last.
    let ts = TestScheduler::new();
    assert_eq!(ts.start(|| merge([never::<i32>(), never()])), []);
    let ts = TestScheduler::new();
    assert_eq!(
        ts.start(|| merge([empty::<i32>(), empty()])),
        [on_completed(200)]
    );
    let ts = TestScheduler::new();
    assert_eq!(ts.start(|| merge([empty::<i32>(), never()])), []);
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), on_completed(240)])
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), on_completed(250)])
        .observable();
    assert_eq!(ts.start(move || merge([e1, e2])), [on_completed(250)]);
}

#[test]
fn merge_lots3() {
    // RxPY: test_merge.py, test_merge_lots3.
    let ts = TestScheduler::new();
    let o1 = ts.create_hot_observable(then(
        nexts(&[(150, 1), (210, 2), (225, 5), (240, 8)]),
        on_completed(245),
    ));
    let o2 = ts.create_hot_observable(then(
        nexts(&[(150, 1), (215, 3), (230, 6), (245, 9)]),
        on_completed(250),
    ));
    let o3 = ts.create_hot_observable(then(
        nexts(&[(150, 1), (220, 4), (235, 7)]),
        on_completed(240),
    ));
    let sources = [o1.observable(), o2.observable(), o3.observable()];
    let results = ts.start(move || merge(sources));
    let expected: Vec<_> = (0..8).map(|i| on_next(210 + i * 5, i as i32 + 2)).collect();
    assert_eq!(results, then(expected, on_completed(250)));
}

#[test]
fn merge_error_causes_disposal() {
    // RxPY: test_merge.py, test_merge_error_left and
    // test_merge_error_causes_disposal.
    let ts = TestScheduler::new();
    let o1 = ts.create_hot_observable(vec![on_next(150, 1), on_next(210, 2), err(245)]);
    let o2 = ts.create_hot_observable(vec![on_next(150, 1), on_next(215, 3), on_completed(250)]);
    let (a, b) = (o1.observable(), o2.observable());
    let results = ts.start(move || a.merge(&b));
    assert_eq!(results, [on_next(210, 2), on_next(215, 3), err(245)]);
    assert_eq!(o2.subscriptions(), [sub(200, 245)]);

    let ts = TestScheduler::new();
    let o1 = ts.create_hot_observable(vec![on_next(150, 1), err(210)]);
    let o2 = ts.create_hot_observable(vec![on_next(150, 1), on_next(220, 1), on_completed(250)]);
    let seen_after = Arc::new(AtomicBool::new(false));
    let s = seen_after.clone();
    let (a, b) = (o1.observable(), o2.observable());
    let results =
        ts.start(move || a.pipe(op::merge(b.tap(move |_| s.store(true, Ordering::SeqCst)))));
    assert_eq!(results, [err(210)]);
    assert!(!seen_after.load(Ordering::SeqCst));
}

#[test]
fn merge_all_observable_of_observable_data() {
    // RxPY: test_merge.py, test_merge_observable_of_observable_data.
    let ts = TestScheduler::new();
    let c1 = ts.create_cold_observable(then(
        nexts(&[
            (10, 101),
            (20, 102),
            (110, 103),
            (120, 104),
            (210, 105),
            (220, 106),
        ]),
        on_completed(230),
    ));
    let c2 = ts.create_cold_observable(then(
        nexts(&[(10, 201), (20, 202), (30, 203), (40, 200)]),
        on_completed(50),
    ));
    let c3 = ts.create_cold_observable(then(
        nexts(&[(10, 301), (20, 302), (30, 303), (40, 304), (120, 305)]),
        on_completed(150),
    ));
    let xs = ts
        .create_hot_observable(vec![
            on_next(300, c1.observable()),
            on_next(400, c2.observable()),
            on_next(500, c3.observable()),
            on_completed(600),
        ])
        .observable();
    let results = ts.start(move || xs.pipe(op::merge_all()));
    let expected = then(
        nexts(&[
            (310, 101),
            (320, 102),
            (410, 103),
            (410, 201),
            (420, 104),
            (420, 202),
            (430, 203),
            (440, 200),
            (510, 105),
            (510, 301),
            (520, 106),
            (520, 302),
            (530, 303),
            (540, 304),
            (620, 305),
        ]),
        on_completed(650),
    );
    assert_eq!(results, expected);
}

// ----------------------------------------------------------------- concat

#[test]
fn concat_some_data_some_data() {
    // RxPY: test_concat.py, test_concat_some_data_some_data.
    let ts = TestScheduler::new();
    let e1 = ts.create_hot_observable(then(
        nexts(&[(150, 1), (210, 2), (220, 3)]),
        on_completed(225),
    ));
    let e2 = ts.create_hot_observable(then(
        nexts(&[(150, 1), (230, 4), (240, 5)]),
        on_completed(250),
    ));
    let (a, b) = (e1.observable(), e2.observable());
    let results = ts.start(move || a.concat(&b));
    let expected = then(
        nexts(&[(210, 2), (220, 3), (230, 4), (240, 5)]),
        on_completed(250),
    );
    assert_eq!(results, expected);
    assert_eq!(e2.subscriptions(), [sub(225, 250)]);
}

#[test]
fn concat_throw_and_never() {
    // RxPY: test_concat.py, test_concat_throw_return, test_concat_never_return,
    // test_concat_return_never.
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), err(230)])
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(240, 2), on_completed(250)])
        .observable();
    assert_eq!(ts.start(move || concat([e1, e2])), [err(230)]);
    let ts = TestScheduler::new();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(240, 2), on_completed(250)])
        .observable();
    assert_eq!(ts.start(move || never().pipe(op::concat(e2))), []);
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(210, 2), on_completed(230)])
        .observable();
    assert_eq!(ts.start(move || e1.concat(&never())), [on_next(210, 2)]);
}

#[test]
fn concat_many_immediate_sources_does_not_nest() {
    // Each source completes as it is subscribed: the next one is
    // subscribed by a loop, not from inside the completion before.
    let sources: Vec<_> = (0..100_000).map(|i| of([i])).collect();
    let all = concat(sources).to_vec().unwrap();
    assert_eq!(all.len(), 100_000);
    assert!(all.iter().enumerate().all(|(i, x)| i == *x));
}

// -------------------------------------------------------------------- zip

#[test]
fn zip_never_and_empty() {
    // RxPY: test_zip.py, test_zip_never_empty, test_zip_empty_empty,
    // test_zip_empty_non_empty, test_zip_non_empty_non_empty.
    let ts = TestScheduler::new();
    let e = ts
        .create_hot_observable(vec![on_next(150, 1), on_completed(210)])
        .observable();
    assert_eq!(
        ts.start(move || never::<i32>().zip(&e)),
        [on_completed(210)]
    );
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), on_completed(210)])
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), on_completed(210)])
        .observable();
    assert_eq!(ts.start(move || e1.zip(&e2)), [on_completed(210)]);
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), on_completed(210)])
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(215, 2), on_completed(220)])
        .observable();
    assert_eq!(ts.start(move || e1.zip(&e2)), [on_completed(210)]);
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(215, 2), on_completed(230)])
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(220, 3), on_completed(240)])
        .observable();
    assert_eq!(
        ts.start(move || e1.zip(&e2).map(|(a, b)| a + b)),
        [on_next(220, 5), on_completed(230)]
    );
}

#[test]
fn zip_some_data_asymmetric() {
    // RxPY: test_zip.py, test_zip_some_data_asymmetric1.
    let ts = TestScheduler::new();
    let msgs1: Vec<_> = (0..5).map(|i| on_next(205 + i * 5, i as i32)).collect();
    let msgs2: Vec<_> = (0..10).map(|i| on_next(205 + i * 8, i as i32)).collect();
    let e1 = ts.create_hot_observable(msgs1.clone()).observable();
    let e2 = ts.create_hot_observable(msgs2.clone()).observable();
    let results = ts.start(move || e1.pipe(op::zip(e2)).map(|(a, b)| a + b));
    let expected: Vec<_> = (0..5)
        .map(|i| on_next(msgs1[i].time.max(msgs2[i].time), 2 * i as i32))
        .collect();
    assert_eq!(results, expected);
}

#[test]
fn zip_error_and_many() {
    // RxPY: test_zip.py, test_zip_error_some; and zip of three sources.
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), err(220)])
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(215, 2), on_completed(230)])
        .observable();
    assert_eq!(ts.start(move || e1.zip(&e2)), [err(220)]);
    let rows = zip([range(0, 3), range(10, 20), range(20, 23)])
        .to_vec()
        .unwrap();
    assert_eq!(rows, [vec![0, 10, 20], vec![1, 11, 21], vec![2, 12, 22]]);
    assert_eq!(
        zip(Vec::<Observable<i32>>::new()).to_vec().unwrap(),
        Vec::<Vec<i32>>::new()
    );
}

// --------------------------------------------------------- combine_latest

#[test]
fn combine_latest_empty_and_never() {
    // RxPY: test_combinelatest.py, test_combine_latest_never_empty,
    // test_combine_latest_empty_empty, test_combine_latest_return_empty.
    let ts = TestScheduler::new();
    let e = ts
        .create_hot_observable(vec![on_next(150, 1), on_completed(210)])
        .observable();
    assert_eq!(ts.start(move || never::<i32>().combine_latest(&e)), []);
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), on_completed(210)])
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), on_completed(210)])
        .observable();
    assert_eq!(
        ts.start(move || e1.combine_latest(&e2)),
        [on_completed(210)]
    );
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), on_completed(210)])
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(215, 2), on_completed(220)])
        .observable();
    assert_eq!(
        ts.start(move || e1.combine_latest(&e2)),
        [on_completed(215)]
    );
}

#[test]
fn combine_latest_interleaved_with_tail() {
    // RxPY: test_combinelatest.py, test_combine_latest_interleaved_with_tail.
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(then(
            nexts(&[(150, 1), (215, 2), (225, 4)]),
            on_completed(230),
        ))
        .observable();
    let e2 = ts
        .create_hot_observable(then(
            nexts(&[(150, 1), (220, 3), (230, 5), (235, 6), (240, 7)]),
            on_completed(250),
        ))
        .observable();
    let results = ts.start(move || e1.pipe(op::combine_latest(e2)).map(|(a, b)| a + b));
    let expected = then(
        nexts(&[
            (220, 2 + 3),
            (225, 3 + 4),
            (230, 4 + 5),
            (235, 4 + 6),
            (240, 4 + 7),
        ]),
        on_completed(250),
    );
    assert_eq!(results, expected);
}

#[test]
fn combine_latest_error_and_many() {
    // RxPY: test_combinelatest.py, test_combine_latest_throw_some; and
    // combine_latest of three sources.
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(215, 2), on_completed(230)])
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), err(220)])
        .observable();
    assert_eq!(ts.start(move || e1.combine_latest(&e2)), [err(220)]);
    let rows = combine_latest([of([1]), of([2]), range(3, 5)])
        .to_vec()
        .unwrap();
    assert_eq!(rows, [vec![1, 2, 3], vec![1, 2, 4]]);
}

// ------------------------------------------------------- with_latest_from

#[test]
fn with_latest_from_interleaved_with_tail() {
    // RxPY: test_withlatestfrom.py, test_with_latest_from_interleaved_with_tail.
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(then(
            nexts(&[(150, 1), (215, 2), (225, 4)]),
            on_completed(230),
        ))
        .observable();
    let e2 = ts
        .create_hot_observable(then(
            nexts(&[(150, 1), (220, 3), (230, 5), (235, 6), (240, 7)]),
            on_completed(250),
        ))
        .observable();
    let results = ts.start(move || e1.with_latest_from(&e2).map(|(a, b)| a + b));
    assert_eq!(results, [on_next(225, 3 + 4), on_completed(230)]);
}

#[test]
fn with_latest_from_repeat_last_left_value() {
    // RxPY: test_withlatestfrom.py, test_with_latest_from_repeat_last_left_value.
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(then(
            nexts(&[(150, 1), (215, 2), (225, 4), (230, 5)]),
            on_completed(235),
        ))
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(220, 3), on_completed(250)])
        .observable();
    let results = ts.start(move || e1.pipe(op::with_latest_from(e2)).map(|(a, b)| a + b));
    assert_eq!(
        results,
        [on_next(225, 3 + 4), on_next(230, 3 + 5), on_completed(235)]
    );
}

#[test]
fn with_latest_from_errors() {
    // RxPY: test_withlatestfrom.py, test_with_latest_from_throw_some and
    // test_with_latest_from_no_throw_after_complete_left.
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(215, 2), on_completed(230)])
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), err(220)])
        .observable();
    assert_eq!(ts.start(move || e1.with_latest_from(&e2)), [err(220)]);
    let ts = TestScheduler::new();
    let e1 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(215, 2), on_completed(220)])
        .observable();
    let e2 = ts
        .create_hot_observable(vec![on_next(150, 1), err(230)])
        .observable();
    assert_eq!(
        ts.start(move || e1.with_latest_from(&e2)),
        [on_completed(220)]
    );
}

// ------------------------------------------------------------------ catch

#[test]
fn catch_error() {
    // RxPY: test_catch.py, test_catch_error, test_catch_error_never,
    // test_catch_error_error.
    let ts = TestScheduler::new();
    let o1 = ts.create_hot_observable(vec![
        on_next(150, 1),
        on_next(210, 2),
        on_next(220, 3),
        err(230),
    ]);
    let o2 = ts.create_hot_observable(vec![on_next(240, 5), on_completed(250)]);
    let (a, b) = (o1.observable(), o2.observable());
    let results = ts.start(move || a.catch(b));
    assert_eq!(
        results,
        [
            on_next(210, 2),
            on_next(220, 3),
            on_next(240, 5),
            on_completed(250)
        ]
    );
    assert_eq!(o1.subscriptions(), [sub(200, 230)]);
    assert_eq!(o2.subscriptions(), [sub(230, 250)]);

    let ts = TestScheduler::new();
    let o1 = ts
        .create_hot_observable(vec![
            on_next(150, 1),
            on_next(210, 2),
            on_next(220, 3),
            err(230),
        ])
        .observable();
    assert_eq!(
        ts.start(move || o1.pipe(op::catch(never()))),
        [on_next(210, 2), on_next(220, 3)]
    );

    let ts = TestScheduler::new();
    let o1 = ts
        .create_hot_observable(vec![
            on_next(150, 1),
            on_next(210, 2),
            on_next(220, 3),
            on_error(230, Error::panic("ex1")),
        ])
        .observable();
    let o2 = ts
        .create_hot_observable(vec![on_next(240, 4), err(250)])
        .observable();
    let results = ts.start(move || o1.catch(o2));
    assert_eq!(
        results,
        [on_next(210, 2), on_next(220, 3), on_next(240, 4), err(250)]
    );
}

#[test]
fn catch_multiple() {
    // RxPY: test_catch.py, test_catch_multiple (as nested catches).
    let ts = TestScheduler::new();
    let o1 = ts
        .create_hot_observable(vec![on_next(150, 1), on_next(210, 2), err(215)])
        .observable();
    let o2 = ts
        .create_hot_observable(vec![on_next(220, 3), err(225)])
        .observable();
    let o3 = ts
        .create_hot_observable(vec![on_next(230, 4), on_completed(235)])
        .observable();
    let results = ts.start(move || o1.catch(o2).catch(o3));
    assert_eq!(
        results,
        [
            on_next(210, 2),
            on_next(220, 3),
            on_next(230, 4),
            on_completed(235)
        ]
    );
}

#[test]
fn catch_with_handler() {
    // RxPY: test_catch.py, test_catch_error_specific_caught and
    // test_catch_handler_throws.
    let ts = TestScheduler::new();
    let o1 = ts
        .create_hot_observable(vec![
            on_next(150, 1),
            on_next(210, 2),
            on_next(220, 3),
            err(230),
        ])
        .observable();
    let o2 = ts
        .create_hot_observable(vec![on_next(240, 4), on_completed(250)])
        .observable();
    let called = Arc::new(AtomicBool::new(false));
    let c = called.clone();
    let results = ts.start(move || {
        o1.catch_with(move |error, _source| {
            c.store(error.kind() == ErrorKind::Panicked, Ordering::SeqCst);
            o2.clone()
        })
    });
    assert_eq!(
        results,
        [
            on_next(210, 2),
            on_next(220, 3),
            on_next(240, 4),
            on_completed(250)
        ]
    );
    assert!(called.load(Ordering::SeqCst));

    let ts = TestScheduler::new();
    let o1 = ts
        .create_hot_observable(vec![
            on_next(150, 1),
            on_next(210, 2),
            on_next(220, 3),
            err(230),
        ])
        .observable();
    let results = ts.start(move || o1.pipe(op::catch_with(|_, _| panic!("ex2"))));
    assert_eq!(&results[..2], [on_next(210, 2), on_next(220, 3)]);
    let corun::reactive::Notification::Error(error) = &results[2].value else {
        panic!("expected the handler's panic, got {:?}", results[2]);
    };
    assert_eq!((results[2].time, error.panic_message()), (230, Some("ex2")));
}

// ------------------------------------------------------------------ retry

#[test]
fn retry_observable_basic_and_infinite() {
    // RxPY: test_retry.py, test_retry_observable_basic and
    // test_retry_observable_infinite.
    let ts = TestScheduler::new();
    let xs = ts.create_cold_observable(then(
        nexts(&[(100, 1), (150, 2), (200, 3)]),
        on_completed(250),
    ));
    let x = xs.observable();
    let results = ts.start(move || x.retry_forever());
    assert_eq!(
        results,
        then(nexts(&[(300, 1), (350, 2), (400, 3)]), on_completed(450))
    );
    assert_eq!(xs.subscriptions(), [sub(200, 450)]);

    let ts = TestScheduler::new();
    let xs = ts.create_cold_observable(nexts(&[(100, 1), (150, 2), (200, 3)]));
    let x = xs.observable();
    let results = ts.start(move || x.pipe(op::retry_forever()));
    assert_eq!(results, nexts(&[(300, 1), (350, 2), (400, 3)]));
    assert_eq!(xs.subscriptions(), [sub(200, 1000)]);
}

#[test]
fn retry_observable_error() {
    // RxPY: test_retry.py, test_retry_observable_error (disposed at 1100).
    let ts = TestScheduler::new();
    let xs = ts.create_cold_observable(then(nexts(&[(100, 1), (150, 2), (200, 3)]), err(250)));
    let x = xs.observable();
    let results = ts.start_at(move || x.retry_forever(), 100, 200, 1100);
    let expected = nexts(&[
        (300, 1),
        (350, 2),
        (400, 3),
        (550, 1),
        (600, 2),
        (650, 3),
        (800, 1),
        (850, 2),
        (900, 3),
        (1050, 1),
    ]);
    assert_eq!(results, expected);
    assert_eq!(
        xs.subscriptions(),
        [sub(200, 450), sub(450, 700), sub(700, 950), sub(950, 1100)]
    );
}

#[test]
fn retry_observable_retry_count() {
    // RxPY: test_retry.py, test_retry_observable_retry_count_basic and
    // test_retry_observable_retry_count_dispose.
    let ts = TestScheduler::new();
    let xs = ts.create_cold_observable(then(nexts(&[(5, 1), (10, 2), (15, 3)]), err(20)));
    let x = xs.observable();
    let results = ts.start(move || x.retry(3));
    let expected = then(
        nexts(&[
            (205, 1),
            (210, 2),
            (215, 3),
            (225, 1),
            (230, 2),
            (235, 3),
            (245, 1),
            (250, 2),
            (255, 3),
        ]),
        err(260),
    );
    assert_eq!(results, expected);
    assert_eq!(
        xs.subscriptions(),
        [sub(200, 220), sub(220, 240), sub(240, 260)]
    );

    let ts = TestScheduler::new();
    let xs = ts.create_cold_observable(then(nexts(&[(5, 1), (10, 2), (15, 3)]), err(20)));
    let x = xs.observable();
    let results = ts.start_at(move || x.pipe(op::retry(3)), 100, 200, 231);
    assert_eq!(
        results,
        nexts(&[(205, 1), (210, 2), (215, 3), (225, 1), (230, 2)])
    );
    assert_eq!(xs.subscriptions(), [sub(200, 220), sub(220, 231)]);
}

#[test]
fn retry_resubscribes_a_cold_source_without_nesting() {
    // A source that fails as it is subscribed, retried 100 000 times: a
    // loop, not 100 000 nested subscriptions.
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let flaky = Observable::new(move |mut s| {
        if c.fetch_add(1, Ordering::SeqCst) < 99_999 {
            s.on_error(Error::timeout());
        } else {
            s.on_next(7);
            s.on_completed();
        }
    });
    assert_eq!(flaky.retry(100_000).to_vec().unwrap(), [7]);
    assert_eq!(calls.load(Ordering::SeqCst), 100_000);
    assert!(
        throw::<i32>(Error::timeout())
            .retry(5)
            .to_vec()
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(
        throw::<i32>(Error::timeout()).retry(0).to_vec().unwrap(),
        [0_i32; 0]
    );
}

// ------------------------------------------------------------------ share

#[test]
fn share_ref_count_connects_and_disconnects() {
    // RxPY: test_publish.py, test_ref_count_notconnected: the source is
    // subscribed by the first subscriber, disposed with the last, and
    // subscribed afresh by the next.
    let created = Arc::new(AtomicUsize::new(0));
    let disconnected = Arc::new(AtomicBool::new(false));
    let (c, d) = (created.clone(), disconnected.clone());
    let xs = Observable::<i32>::new(move |s| {
        c.fetch_add(1, Ordering::SeqCst);
        let d = d.clone();
        s.add(move || d.store(true, Ordering::SeqCst));
    });
    let refd = xs.share();
    let dis1 = refd.subscribe(|_| {});
    assert_eq!(created.load(Ordering::SeqCst), 1);
    let dis2 = refd.subscribe(|_| {});
    assert_eq!(created.load(Ordering::SeqCst), 1);
    dis1.dispose();
    assert!(!disconnected.load(Ordering::SeqCst));
    dis2.dispose();
    assert!(disconnected.swap(false, Ordering::SeqCst));
    let dis3 = refd.subscribe(|_| {});
    assert_eq!(created.load(Ordering::SeqCst), 2);
    assert!(!disconnected.load(Ordering::SeqCst));
    dis3.dispose();
    assert!(disconnected.load(Ordering::SeqCst));
}

#[test]
fn share_on_virtual_time() {
    // RxPY: test_publish.py, test_ref_count_connects_on_first, with a
    // second subscriber that joins late and sees only what follows.
    let ts = TestScheduler::new();
    let xs = ts.create_cold_observable(then(
        nexts(&[(10, 1), (20, 2), (30, 3), (40, 4)]),
        on_completed(50),
    ));
    let shared = xs.observable().share();
    let late = ts.create_observer();
    let (s, l) = (shared.clone(), late.clone());
    ts.schedule_at(225, move || {
        s.subscribe_observer(l);
    });
    let results = ts.start(move || shared);
    assert_eq!(
        results,
        then(
            nexts(&[(210, 1), (220, 2), (230, 3), (240, 4)]),
            on_completed(250)
        )
    );
    assert_eq!(
        late.messages(),
        then(nexts(&[(230, 3), (240, 4)]), on_completed(250))
    );
    assert_eq!(xs.subscriptions(), [sub(200, 250)]);
}

#[test]
fn share_restarts_after_the_end() {
    // RxPY: test_multicasting_fluent.py, test_share_equivalence: a shared
    // `of` subscribed twice in turn gives both everything (RxPY's single
    // subject would give the second only the end; see `share`'s docs).
    let shared = of([1, 2, 3]).share();
    assert_eq!(shared.to_vec().unwrap(), [1, 2, 3]);
    assert_eq!(
        shared.map(|x| x * 2).filter(|x| *x > 2).to_vec().unwrap(),
        [4, 6]
    );
}

#[test]
fn share_replay_replays_and_caches() {
    // As RxPY test_replay.py test_replay_count_basic, through ref_count:
    // a late subscriber gets the last `buffer_size` elements first.
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(then(
        nexts(&[
            (110, 7),
            (220, 3),
            (280, 4),
            (290, 1),
            (340, 8),
            (360, 5),
            (370, 6),
            (390, 7),
        ]),
        on_completed(600),
    ));
    let shared = xs.observable().share_replay(3);
    let late = ts.create_observer();
    let (s, l) = (shared.clone(), late.clone());
    ts.schedule_at(365, move || {
        s.subscribe_observer(l);
    });
    let after = ts.create_observer();
    let (s, a) = (shared.clone(), after.clone());
    ts.schedule_at(700, move || {
        s.subscribe_observer(a);
    });
    let results = ts.start(move || shared);
    let all = then(
        nexts(&[
            (220, 3),
            (280, 4),
            (290, 1),
            (340, 8),
            (360, 5),
            (370, 6),
            (390, 7),
        ]),
        on_completed(600),
    );
    assert_eq!(results, all);
    assert_eq!(
        late.messages(),
        then(
            nexts(&[(365, 1), (365, 8), (365, 5), (370, 6), (390, 7)]),
            on_completed(600)
        )
    );
    // After the end: the replay and the end, without a new subscription.
    assert_eq!(
        after.messages(),
        then(nexts(&[(700, 5), (700, 6), (700, 7)]), on_completed(700))
    );
    assert_eq!(xs.subscriptions(), [sub(200, 600)]);
}

#[test]
fn share_replay_disconnects_when_everyone_leaves() {
    let ts = TestScheduler::new();
    let xs = ts.create_cold_observable(nexts(&[(10, 1), (20, 2), (30, 3)]));
    let shared = xs.observable().share_replay(1);
    let first = ts.create_observer();
    let f = first.clone();
    let s = shared.clone();
    let handle = Arc::new(Mutex::new(None));
    let h = handle.clone();
    ts.schedule_at(100, move || *h.lock() = Some(s.subscribe_observer(f)));
    let h = handle.clone();
    ts.schedule_at(125, move || h.lock().take().unwrap().dispose());
    let second = ts.create_observer();
    let (s, o) = (shared.clone(), second.clone());
    ts.schedule_at(200, move || {
        s.subscribe_observer(o);
    });
    ts.run();
    assert_eq!(first.messages(), nexts(&[(110, 1), (120, 2)]));
    // A fresh connection: no stale replay.
    assert_eq!(second.messages(), nexts(&[(210, 1), (220, 2), (230, 3)]));
    assert_eq!(xs.subscriptions(), [sub(100, 125), sub(200, u64::MAX)]);
}

// ----------------------------------------------------------------- threads

/// `count` numbers from `base * count`, emitted from a task on `scheduler`
/// until the end or until the subscription is disposed (`count == None`:
/// without end).
fn pooled(scheduler: ThreadPoolScheduler, base: u64, count: Option<u64>) -> Observable<u64> {
    Observable::new(move |mut s| {
        let subscription = s.subscription().clone();
        let n = count.unwrap_or(u64::MAX);
        let action = scheduler.schedule(Box::new(move || {
            for i in 0..n {
                if s.is_closed() {
                    return;
                }
                s.on_next(base * 1_000_000 + i);
            }
            s.on_completed();
        }));
        subscription.add_subscription(action);
    })
}

/// Records what it sees, and counts calls that overlap another.
#[derive(Clone, Default)]
struct Checker {
    busy: Arc<AtomicBool>,
    overlaps: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<u64>>>,
    ends: Arc<AtomicUsize>,
    error: Arc<Mutex<Option<Error>>>,
}

impl Checker {
    fn enter(&self) {
        if self.busy.swap(true, Ordering::SeqCst) {
            self.overlaps.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn leave(&self) {
        self.busy.store(false, Ordering::SeqCst);
    }
}

impl Observer<u64> for Checker {
    fn on_next(&mut self, value: u64) {
        self.enter();
        self.seen.lock().push(value);
        // Widen the window in which an overlapping call would be seen.
        for _ in 0..50 {
            std::hint::spin_loop();
        }
        self.leave();
    }
    fn on_error(&mut self, error: Error) {
        self.enter();
        *self.error.lock() = Some(error);
        self.ends.fetch_add(1, Ordering::SeqCst);
        self.leave();
    }
    fn on_completed(&mut self) {
        self.enter();
        self.ends.fetch_add(1, Ordering::SeqCst);
        self.leave();
    }
}

fn pool(workers: usize) -> (Arc<ThreadPoolExecutor>, ThreadPoolScheduler) {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(workers)
            .build()
            .unwrap(),
    );
    let scheduler = ThreadPoolScheduler::with_pool(pool.clone());
    (pool, scheduler)
}

/// Shuts `pool` down in another thread and waits for every worker to be
/// joined, failing the test if that takes too long (a task left running).
fn join_pool(pool: Arc<ThreadPoolExecutor>) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        pool.shutdown(true, false);
        tx.send(()).unwrap();
    });
    rx.recv_timeout(corun_test_support::DEADLINE)
        .expect("every pool task ended: none left running");
}

#[test]
fn flat_map_on_the_thread_pool_delivers_each_item_once_serialised() {
    let (pool, scheduler) = pool(4);
    let (live, most) = (Arc::new(AtomicIsize::new(0)), Arc::new(AtomicIsize::new(0)));
    let (l, m) = (live.clone(), most.clone());
    let merged = range(0u64, 16)
        .flat_map(move |i| counted(pooled(scheduler.clone(), i, Some(2_000)), &l, &m));
    let checker = Checker::default();
    merged.subscribe_observer(checker.clone());
    poll_until("the merge completes", || {
        checker.ends.load(Ordering::SeqCst) > 0
    });
    poll_until("every inner subscription is torn down", || {
        live.load(Ordering::SeqCst) == 0
    });
    assert_eq!(checker.ends.load(Ordering::SeqCst), 1);
    assert!(checker.error.lock().is_none());
    assert_eq!(
        checker.overlaps.load(Ordering::SeqCst),
        0,
        "on_next calls overlapped"
    );
    let mut seen = checker.seen.lock().clone();
    seen.sort_unstable();
    let expected: Vec<u64> = (0..16)
        .flat_map(|b| (0..2_000).map(move |i| b * 1_000_000 + i))
        .collect();
    assert_eq!(seen, expected, "each item exactly once");
    assert!(
        most.load(Ordering::SeqCst) > 1,
        "inner observables ran at once"
    );
    join_pool(pool);
}

#[test]
fn dispose_from_another_thread_while_items_flow() {
    let (pool, scheduler) = pool(4);
    let (live, most) = (Arc::new(AtomicIsize::new(0)), Arc::new(AtomicIsize::new(0)));
    let (l, m) = (live.clone(), most.clone());
    let merged =
        range(0u64, 4).flat_map(move |i| counted(pooled(scheduler.clone(), i, None), &l, &m));
    let checker = Checker::default();
    let subscription = merged.subscribe_observer(checker.clone());
    poll_until("items flow", || checker.seen.lock().len() > 10_000);
    let disposer = std::thread::spawn(move || subscription.dispose());
    disposer.join().unwrap();
    assert_eq!(
        live.load(Ordering::SeqCst),
        0,
        "dispose tore every inner subscription down"
    );
    join_pool(pool);
    let seen = checker.seen.lock().clone();
    assert_eq!(
        checker.ends.load(Ordering::SeqCst),
        0,
        "a disposal is not an end"
    );
    assert_eq!(checker.overlaps.load(Ordering::SeqCst), 0);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        seen.len(),
        "no item twice"
    );
    // Per inner observable, the items delivered are a prefix: nothing lost
    // in between.
    for base in 0..4u64 {
        let mine: Vec<u64> = seen
            .iter()
            .copied()
            .filter(|v| v / 1_000_000 == base)
            .collect();
        let prefix: Vec<u64> = (0..mine.len() as u64)
            .map(|i| base * 1_000_000 + i)
            .collect();
        assert_eq!(mine, prefix);
    }
}

#[test]
fn an_inner_error_on_the_thread_pool_ends_all() {
    let (pool, scheduler) = pool(4);
    let (live, most) = (Arc::new(AtomicIsize::new(0)), Arc::new(AtomicIsize::new(0)));
    let (l, m) = (live.clone(), most.clone());
    let s = scheduler.clone();
    let merged = range(0u64, 4).flat_map(move |i| {
        let inner = if i == 3 {
            pooled(s.clone(), i, Some(100)).concat(&throw(Error::timeout()))
        } else {
            pooled(s.clone(), i, None)
        };
        counted(inner, &l, &m)
    });
    let checker = Checker::default();
    merged.subscribe_observer(checker.clone());
    poll_until("the error arrives", || {
        checker.ends.load(Ordering::SeqCst) > 0
    });
    poll_until("every inner subscription is torn down", || {
        live.load(Ordering::SeqCst) == 0
    });
    assert!(checker.error.lock().as_ref().unwrap().is_timeout());
    join_pool(pool);
    assert_eq!(checker.ends.load(Ordering::SeqCst), 1);
    assert_eq!(checker.overlaps.load(Ordering::SeqCst), 0);
}

#[test]
fn switch_map_on_the_thread_pool_drops_the_old_inner() {
    // The outer subject switches while the inner observables emit on the
    // pool: after a switch, nothing of an older inner one arrives.
    let (pool, scheduler) = pool(4);
    let (live, most) = (Arc::new(AtomicIsize::new(0)), Arc::new(AtomicIsize::new(0)));
    let (l, m) = (live.clone(), most.clone());
    let outer = Subject::new();
    let switched = outer
        .observable()
        .switch_map(move |i| counted(pooled(scheduler.clone(), i, None), &l, &m));
    let checker = Checker::default();
    let subscription = switched.subscribe_observer(checker.clone());
    for i in 0..5u64 {
        outer.on_next(i);
        let c = checker.clone();
        poll_until("the new inner observable emits", || {
            c.seen.lock().last().is_some_and(|v| v / 1_000_000 == i)
        });
    }
    subscription.dispose();
    assert_eq!(live.load(Ordering::SeqCst), 0);
    join_pool(pool);
    let seen = checker.seen.lock().clone();
    let bases: Vec<u64> = seen.iter().map(|v| v / 1_000_000).collect();
    assert!(
        bases.windows(2).all(|w| w[0] <= w[1]),
        "an older inner observable emitted after a newer one"
    );
    assert_eq!(checker.overlaps.load(Ordering::SeqCst), 0);
}

#[test]
fn a_panicking_selector_fails_only_its_subscription() {
    let source = range(0, 5);
    let exploding = source.flat_map(|x| {
        assert!(x != 3, "three");
        of([x])
    });
    let error = exploding.to_vec().unwrap_err();
    assert_eq!(
        (error.kind(), error.panic_message()),
        (ErrorKind::Panicked, Some("three"))
    );
    // The same source, another subscription: unaffected.
    assert_eq!(
        source.concat_map(|x| of([x])).to_vec().unwrap(),
        [0, 1, 2, 3, 4]
    );
    let error = source
        .switch_map(|x: i32| if x == 2 { panic!("two") } else { of([x]) })
        .to_vec()
        .unwrap_err();
    assert_eq!(error.panic_message(), Some("two"));
    let error = throw::<i32>(Error::timeout())
        .catch_with(|_, _| panic!("handler"))
        .to_vec()
        .unwrap_err();
    assert_eq!(error.panic_message(), Some("handler"));
    // A panicking inner producer, too.
    let error = source
        .flat_map(|x| Observable::<i32>::new(move |_| panic!("inner {x}")))
        .to_vec()
        .unwrap_err();
    assert_eq!(error.panic_message(), Some("inner 0"));
}

#[test]
fn pipe_forms() {
    let doubled = pipe!(
        range(0, 3),
        op::flat_map(|x: i32| of([x, x])),
        op::concat_map(|x: i32| of([x * 10])),
        op::switch_map(|x: i32| of([x + 1])),
        op::merge(of([100])),
        op::concat(of([200])),
        op::retry(2),
        op::catch(of([-1])),
        op::share(),
        op::share_replay(1),
    );
    assert_eq!(doubled.to_vec().unwrap(), [1, 1, 11, 11, 21, 21, 100, 200]);
    let pairs = pipe!(
        range(0, 3),
        op::zip(range(10, 13)),
        op::with_latest_from(of([7])),
        op::combine_latest(of(['z'])),
    );
    assert_eq!(pairs.to_vec().unwrap().last(), Some(&(((2, 12), 7), 'z')));
    let nested = of([from_iter(0..2), from_iter(2..4)]);
    assert_eq!(
        nested.pipe(op::concat_all()).to_vec().unwrap(),
        [0, 1, 2, 3]
    );
    assert_eq!(nested.pipe(op::merge_all()).to_vec().unwrap(), [0, 1, 2, 3]);
    assert_eq!(
        nested.pipe(op::switch_latest()).to_vec().unwrap(),
        [0, 1, 2, 3]
    );
}
