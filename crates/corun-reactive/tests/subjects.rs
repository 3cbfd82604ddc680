//! Subject semantics on virtual time, ported from RxPY
//! `tests/test_subject/test_subject.py`, `test_behaviorsubject.py`,
//! `test_replaysubject.py` and `test_asyncsubject.py` (`test_infinite`,
//! `test_finite`, `test_error`): the same marbles, the same schedule of
//! subscriptions and disposals, the same expected records.

use std::sync::Arc;
use std::time::Duration;

use corun::Error;
use corun::reactive::{
    AsyncSubject, BehaviorSubject, Observable, Observer, Recorded, ReplaySubject, Subject,
    Subscription, TestObserver, TestScheduler, on_completed, on_error, on_next,
};
use parking_lot::Mutex;

/// The hot marbles of RxPY's `test_infinite`.
fn infinite() -> Vec<Recorded<i32>> {
    [
        (70, 1),
        (110, 2),
        (220, 3),
        (270, 4),
        (340, 5),
        (410, 6),
        (520, 7),
        (630, 8),
        (710, 9),
        (870, 10),
        (940, 11),
        (1020, 12),
    ]
    .into_iter()
    .map(|(t, v)| on_next(t, v))
    .collect()
}

/// The hot marbles of RxPY's `test_finite`: ends at 630, then misbehaves.
fn finite() -> Vec<Recorded<i32>> {
    let mut m: Vec<_> = infinite().into_iter().take(7).collect();
    m.push(on_completed(630));
    m.push(on_next(640, 9));
    m.push(on_completed(650));
    m.push(on_error(660, Error::panic("ex")));
    m
}

/// The hot marbles of RxPY's `test_error`: fails at 630.
fn failing() -> Vec<Recorded<i32>> {
    let mut m: Vec<_> = infinite().into_iter().take(7).collect();
    m.push(on_error(630, Error::panic("ex")));
    m.push(on_next(640, 9));
    m.push(on_completed(650));
    m
}

/// A subject of any kind, as the RxPY tests drive one.
trait Kind: Clone + Send + Sync + 'static {
    fn make(ts: &TestScheduler) -> Self;
    fn observable(&self) -> Observable<i32>;
    fn observer(&self) -> Box<dyn Observer<i32>>;
}

impl Kind for Subject<i32> {
    fn make(_: &TestScheduler) -> Self {
        Subject::new()
    }
    fn observable(&self) -> Observable<i32> {
        Subject::observable(self)
    }
    fn observer(&self) -> Box<dyn Observer<i32>> {
        Box::new(self.clone())
    }
}

impl Kind for BehaviorSubject<i32> {
    fn make(_: &TestScheduler) -> Self {
        BehaviorSubject::new(100)
    }
    fn observable(&self) -> Observable<i32> {
        BehaviorSubject::observable(self)
    }
    fn observer(&self) -> Box<dyn Observer<i32>> {
        Box::new(self.clone())
    }
}

impl Kind for ReplaySubject<i32> {
    fn make(ts: &TestScheduler) -> Self {
        ReplaySubject::with_limits(Some(3), Some(Duration::from_millis(100)), ts.clone())
    }
    fn observable(&self) -> Observable<i32> {
        ReplaySubject::observable(self)
    }
    fn observer(&self) -> Box<dyn Observer<i32>> {
        Box::new(self.clone())
    }
}

impl Kind for AsyncSubject<i32> {
    fn make(_: &TestScheduler) -> Self {
        AsyncSubject::new()
    }
    fn observable(&self) -> Observable<i32> {
        AsyncSubject::observable(self)
    }
    fn observer(&self) -> Box<dyn Observer<i32>> {
        Box::new(self.clone())
    }
}

type Slot<T> = Arc<Mutex<Option<T>>>;

/// RxPY's schedule: the subject made at 100, subscribed to the marbles at
/// 200 (disposed at 1000); observers 1, 2, 3 subscribe at 300, 400, 900
/// and are disposed at 600, 700 (and 1 again at 800), 950.
fn drive<S: Kind>(marbles: Vec<Recorded<i32>>) -> [Vec<Recorded<i32>>; 3] {
    let ts = TestScheduler::new();
    let xs = ts.create_hot_observable(marbles);
    let subject: Slot<S> = Arc::default();
    let results: [TestObserver<i32>; 3] = std::array::from_fn(|_| ts.create_observer());
    let subs: [Slot<Subscription>; 4] = std::array::from_fn(|_| Arc::default());

    let (s, t) = (subject.clone(), ts.clone());
    ts.schedule_at(100, move || *s.lock() = Some(S::make(&t)));
    let (s, sub) = (subject.clone(), subs[0].clone());
    ts.schedule_at(200, move || {
        let observer = s.lock().as_ref().unwrap().observer();
        *sub.lock() = Some(xs.observable().subscribe_observer(observer));
    });
    let sub = subs[0].clone();
    ts.schedule_at(1000, move || sub.lock().as_ref().unwrap().dispose());
    for (i, at) in [(0, 300), (1, 400), (2, 900)] {
        let (s, sub, r) = (subject.clone(), subs[i + 1].clone(), results[i].clone());
        ts.schedule_at(at, move || {
            let observable = s.lock().as_ref().unwrap().observable();
            *sub.lock() = Some(observable.subscribe_observer(r));
        });
    }
    for (i, at) in [(1, 600), (2, 700), (1, 800), (3, 950)] {
        let sub = subs[i].clone();
        ts.schedule_at(at, move || sub.lock().as_ref().unwrap().dispose());
    }
    ts.run();
    results.map(|r| r.messages())
}

fn nexts(pairs: &[(u64, i32)]) -> Vec<Recorded<i32>> {
    pairs.iter().map(|&(t, v)| on_next(t, v)).collect()
}

fn with(mut m: Vec<Recorded<i32>>, last: Recorded<i32>) -> Vec<Recorded<i32>> {
    m.push(last);
    m
}

fn ex(t: u64) -> Recorded<i32> {
    on_error(t, Error::panic("ex"))
}

#[test]
fn subject_infinite() {
    let [r1, r2, r3] = drive::<Subject<i32>>(infinite());
    assert_eq!(r1, nexts(&[(340, 5), (410, 6), (520, 7)]));
    assert_eq!(r2, nexts(&[(410, 6), (520, 7), (630, 8)]));
    assert_eq!(r3, nexts(&[(940, 11)]));
}

#[test]
fn subject_finite() {
    let [r1, r2, r3] = drive::<Subject<i32>>(finite());
    assert_eq!(r1, nexts(&[(340, 5), (410, 6), (520, 7)]));
    assert_eq!(r2, with(nexts(&[(410, 6), (520, 7)]), on_completed(630)));
    assert_eq!(r3, [on_completed(900)]);
}

#[test]
fn subject_error() {
    let [r1, r2, r3] = drive::<Subject<i32>>(failing());
    assert_eq!(r1, nexts(&[(340, 5), (410, 6), (520, 7)]));
    assert_eq!(r2, with(nexts(&[(410, 6), (520, 7)]), ex(630)));
    assert_eq!(r3, [ex(900)]);
}

#[test]
fn behavior_subject_infinite() {
    let [r1, r2, r3] = drive::<BehaviorSubject<i32>>(infinite());
    assert_eq!(r1, nexts(&[(300, 4), (340, 5), (410, 6), (520, 7)]));
    assert_eq!(r2, nexts(&[(400, 5), (410, 6), (520, 7), (630, 8)]));
    assert_eq!(r3, nexts(&[(900, 10), (940, 11)]));
}

#[test]
fn behavior_subject_finite_and_error() {
    let [r1, r2, r3] = drive::<BehaviorSubject<i32>>(finite());
    assert_eq!(r1, nexts(&[(300, 4), (340, 5), (410, 6), (520, 7)]));
    assert_eq!(r2, with(nexts(&[(400, 5), (410, 6), (520, 7)]), on_completed(630)));
    assert_eq!(r3, [on_completed(900)]);
    let [_, r2, r3] = drive::<BehaviorSubject<i32>>(failing());
    assert_eq!(r2, with(nexts(&[(400, 5), (410, 6), (520, 7)]), ex(630)));
    assert_eq!(r3, [ex(900)]);
}

#[test]
fn behavior_subject_value_before_subscription() {
    // RxPY: test_behavior_subject_value (the current value is readable).
    let subject = BehaviorSubject::new(0);
    assert_eq!(subject.value(), 0);
    subject.on_next(1);
    assert_eq!(subject.value(), 1);
}

/// RxPY's replay results are one tick later (RxPY replays through the
/// scheduler); corun replays within the subscription, at its tick.
#[test]
fn replay_subject_infinite() {
    let [r1, r2, r3] = drive::<ReplaySubject<i32>>(infinite());
    assert_eq!(r1, nexts(&[(300, 3), (300, 4), (340, 5), (410, 6), (520, 7)]));
    assert_eq!(r2, nexts(&[(400, 5), (410, 6), (520, 7), (630, 8)]));
    assert_eq!(r3, nexts(&[(900, 10), (940, 11)]));
}

#[test]
fn replay_subject_finite_and_error() {
    let [r1, r2, r3] = drive::<ReplaySubject<i32>>(finite());
    assert_eq!(r1, nexts(&[(300, 3), (300, 4), (340, 5), (410, 6), (520, 7)]));
    assert_eq!(r2, with(nexts(&[(400, 5), (410, 6), (520, 7)]), on_completed(630)));
    assert_eq!(r3, [on_completed(900)]);
    let [_, r2, r3] = drive::<ReplaySubject<i32>>(failing());
    assert_eq!(r2, with(nexts(&[(400, 5), (410, 6), (520, 7)]), ex(630)));
    assert_eq!(r3, [ex(900)]);
}

#[test]
fn replay_subject_buffer_size_only() {
    let subject = ReplaySubject::with_buffer_size(2);
    (1..=5).for_each(|x| subject.on_next(x));
    assert_eq!(subject.observable().take(2).to_vec().unwrap(), [4, 5]);
    let everything = ReplaySubject::new();
    (1..=5).for_each(|x| everything.on_next(x));
    everything.on_completed();
    assert_eq!(everything.observable().to_vec().unwrap(), [1, 2, 3, 4, 5]);
}

#[test]
fn async_subject_infinite_finite_error() {
    let [r1, r2, r3] = drive::<AsyncSubject<i32>>(infinite());
    assert!(r1.is_empty() && r2.is_empty() && r3.is_empty());
    let [r1, r2, r3] = drive::<AsyncSubject<i32>>(finite());
    assert!(r1.is_empty());
    assert_eq!(r2, [on_next(630, 7), on_completed(630)]);
    assert_eq!(r3, [on_next(900, 7), on_completed(900)]);
    let [r1, r2, r3] = drive::<AsyncSubject<i32>>(failing());
    assert!(r1.is_empty());
    assert_eq!(r2, [ex(630)]);
    assert_eq!(r3, [ex(900)]);
}

#[test]
fn subject_counts_observers_and_forgets_disposed_ones() {
    // RxPY: test_subject_create / has_observers.
    let subject = Subject::<i32>::new();
    assert!(!subject.has_observers());
    let a = subject.observable().subscribe(|_| {});
    let b = subject.observable().subscribe(|_| {});
    assert_eq!(subject.observer_count(), 2);
    a.dispose();
    assert_eq!(subject.observer_count(), 1);
    b.dispose();
    assert!(!subject.has_observers());
}

#[test]
fn subject_reentrant_on_next_is_queued_not_nested() {
    // An observer that feeds the subject back: each call is delivered
    // after the one in progress, never inside it.
    let subject = Subject::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (s, l) = (subject.clone(), log.clone());
    subject.observable().subscribe(move |x: i32| {
        l.lock().push(format!("start {x}"));
        if x < 3 {
            s.on_next(x + 1);
        }
        l.lock().push(format!("end {x}"));
    });
    subject.on_next(1);
    assert_eq!(
        *log.lock(),
        ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]
    );
}
