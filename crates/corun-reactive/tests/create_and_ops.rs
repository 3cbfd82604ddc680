//! Creation, the first operators, the schedulers and the bridges, after
//! RxPY `tests/test_observable/test_{of,fromiterable,range,returnvalue,
//! throw,never,empty,defer,map,filter,scan,reduce,take,skip,first,last}.py`
//! where their behaviour carries over.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use corun::Error;
use corun::asyncio::{EventLoop, create_task, run, sleep};
use corun::concurrent::ThreadPoolExecutor;
use corun::reactive::{
    CurrentThreadScheduler, ErrorKind, EventLoopScheduler, ImmediateScheduler, NewThreadScheduler,
    Observable, Overflow, Scheduler, ThreadPoolScheduler, defer, empty, from_future, from_iter,
    from_stream, from_task, interval, never, of, op, pipe, range, throw, timer,
};
use futures_core::Stream;
use parking_lot::Mutex;

#[test]
fn of_from_iter_and_range() {
    assert_eq!(of([1, 2, 3]).to_vec().unwrap(), [1, 2, 3]);
    assert_eq!(from_iter(vec!["a", "b"]).to_vec().unwrap(), ["a", "b"]);
    assert_eq!(range(5, 8).to_vec().unwrap(), [5, 6, 7]);
    assert!(range(3, 3).to_vec().unwrap().is_empty());
    // Cold: every subscription runs anew.
    let r = range(0, 3);
    assert_eq!(r.to_vec().unwrap(), r.to_vec().unwrap());
}

#[test]
fn empty_never_throw() {
    assert!(empty::<i32>().to_vec().unwrap().is_empty());
    assert!(
        throw::<i32>(Error::timeout())
            .to_vec()
            .unwrap_err()
            .is_timeout()
    );
    let got = Arc::new(AtomicU32::new(0));
    let g = got.clone();
    let subscription = never::<i32>().subscribe_all(
        move |_| {
            g.fetch_add(1, Ordering::SeqCst);
        },
        |_| panic!("never ends"),
        || panic!("never ends"),
    );
    assert!(!subscription.is_disposed());
    subscription.dispose();
    assert_eq!(got.load(Ordering::SeqCst), 0);
}

#[test]
fn defer_makes_a_fresh_observable_and_reports_a_panicking_factory() {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let d = defer(move || of([c.fetch_add(1, Ordering::SeqCst)]));
    assert_eq!(d.to_vec().unwrap(), [0]);
    assert_eq!(d.to_vec().unwrap(), [1]);
    let broken = defer::<i32>(|| panic!("factory failed"));
    let error = broken.to_vec().unwrap_err();
    assert_eq!(error.panic_message(), Some("factory failed"));
}

#[test]
fn first_operators_chained_and_piped() {
    let chained = range(0, 20)
        .skip(2)
        .map(|x| x * 3)
        .filter(|x| x % 2 == 0)
        .tap(|_| {})
        .scan(0, |acc, x| acc + x)
        .take(4);
    let piped = pipe!(
        range(0, 20),
        op::skip(2),
        op::map(|x: i32| x * 3),
        op::filter(|x: &i32| x % 2 == 0),
        op::tap(|_: &i32| {}),
        op::scan(0, |acc: i32, x: i32| acc + x),
        op::take(4),
    );
    assert_eq!(chained.to_vec().unwrap(), [6, 18, 36, 60]);
    assert_eq!(piped.to_vec().unwrap(), [6, 18, 36, 60]);
    assert_eq!(
        range(0, 5)
            .pipe(op::reduce(0, |a, x| a + x))
            .to_vec()
            .unwrap(),
        [10]
    );
    assert_eq!(range(0, 5).pipe(op::first()).to_vec().unwrap(), [0]);
    assert_eq!(range(0, 5).pipe(op::last()).to_vec().unwrap(), [4]);
}

#[test]
fn first_last_of_empty_fail_and_reduce_of_empty_is_the_seed() {
    assert_eq!(
        empty::<i32>().first().run().unwrap_err().kind(),
        ErrorKind::Empty
    );
    assert_eq!(
        empty::<i32>().last().run().unwrap_err().kind(),
        ErrorKind::Empty
    );
    assert_eq!(empty::<i32>().reduce(7, |a, x| a + x).run().unwrap(), 7);
    assert_eq!(empty::<i32>().run().unwrap_err().kind(), ErrorKind::Empty);
}

#[test]
fn take_stops_an_endless_source_and_take_zero_never_subscribes() {
    assert_eq!(from_iter(0..).take(3).to_vec().unwrap(), [0, 1, 2]);
    let subscribed = Arc::new(AtomicU32::new(0));
    let s = subscribed.clone();
    let source = Observable::new(move |mut sub: corun::reactive::Subscriber<i32>| {
        s.fetch_add(1, Ordering::SeqCst);
        sub.on_completed();
    });
    assert!(source.take(0).to_vec().unwrap().is_empty());
    assert_eq!(subscribed.load(Ordering::SeqCst), 0);
}

#[test]
fn errors_pass_through_operators() {
    let failing = of([1, 2]).pipe(|s| {
        Observable::new(move |sub| {
            let s2 = s.clone();
            s2.subscribe_subscriber(sub);
        })
    });
    assert_eq!(failing.map(|x| x + 1).to_vec().unwrap(), [2, 3]);
    let e = throw::<i32>(Error::cancelled())
        .map(|x| x)
        .filter(|_| true)
        .scan(0, |a, x| a + x);
    assert!(e.to_vec().unwrap_err().is_cancelled());
}

/// Every scheduler runs what it is given, and a disposed action never.
#[test]
fn every_scheduler_runs_actions() {
    fn check(scheduler: impl Scheduler, asynchronous: bool) {
        let (tx, rx) = std::sync::mpsc::channel();
        let t = tx.clone();
        scheduler.schedule(Box::new(move || t.send("now").unwrap()));
        scheduler.schedule_relative(
            Duration::from_millis(2),
            Box::new(move || tx.send("later").unwrap()),
        );
        let mut got = vec![rx.recv().unwrap(), rx.recv().unwrap()];
        got.sort_unstable();
        assert_eq!(got, ["later", "now"]);
        if !asynchronous {
            return; // it ran each action before returning its handle
        }
        let cancelled =
            scheduler.schedule_relative(Duration::from_millis(50), Box::new(|| panic!("disposed")));
        cancelled.dispose();
    }
    check(ImmediateScheduler::new(), false);
    check(CurrentThreadScheduler::new(), false);
    check(NewThreadScheduler::new(), true);
    check(ThreadPoolScheduler::new(), true);
}

#[test]
fn current_thread_scheduler_trampolines_instead_of_nesting() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    CurrentThreadScheduler::new().schedule(Box::new(move || {
        let l2 = l.clone();
        l.lock().push("outer start");
        CurrentThreadScheduler::new().schedule(Box::new(move || l2.lock().push("inner")));
        l.lock().push("outer end");
    }));
    assert_eq!(*log.lock(), ["outer start", "outer end", "inner"]);
}

#[test]
fn interval_on_the_thread_pool() {
    let pool = ThreadPoolScheduler::with_pool(Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap(),
    ));
    assert_eq!(
        interval(Duration::from_millis(1), pool)
            .take(5)
            .to_vec()
            .unwrap(),
        [0, 1, 2, 3, 4]
    );
}

#[test]
fn interval_on_the_event_loop() {
    let event_loop = EventLoop::new().unwrap();
    let scheduler = EventLoopScheduler::new(&event_loop);
    let on_loop_thread = std::thread::current().id();
    let threads = Arc::new(Mutex::new(Vec::new()));
    let t = threads.clone();
    let ticks = interval(Duration::from_millis(1), scheduler)
        .tap(move |_| t.lock().push(std::thread::current().id()))
        .take(3)
        .scan(Vec::new(), |mut v, x| {
            v.push(x);
            v
        })
        .to_future();
    let got = event_loop.run_until_complete(ticks).unwrap().unwrap();
    assert_eq!(got, [0, 1, 2]);
    assert!(threads.lock().iter().all(|id| *id == on_loop_thread));
}

#[test]
fn event_loop_scheduler_from_another_thread() {
    let event_loop = EventLoop::new().unwrap();
    let scheduler = EventLoopScheduler::new(&event_loop);
    let handle = event_loop.handle();
    let worker = std::thread::spawn(move || {
        let h = handle.clone();
        scheduler.schedule_relative(Duration::from_millis(1), Box::new(move || h.stop()));
    });
    worker.join().unwrap();
    event_loop.run_forever().unwrap(); // stopped by the action, on the loop
}

#[test]
fn from_task_and_from_future() {
    let pool = ThreadPoolExecutor::new();
    let shared = from_task(pool.spawn(|| 42).unwrap());
    assert_eq!(shared.to_vec().unwrap(), [42]);
    assert_eq!(shared.run().unwrap(), 42);
    let failed = from_task(pool.spawn(|| -> i32 { panic!("task failed") }).unwrap());
    assert_eq!(
        failed.run().unwrap_err().panic_message(),
        Some("task failed")
    );
    let future = from_future(pool.spawn(|| "via a future").unwrap());
    assert_eq!(future.run().unwrap(), "via a future");
    // An asyncio task, through its concurrent view.
    let got = run(async {
        let task = create_task(async {
            sleep(Duration::from_millis(1)).await;
            7
        });
        from_task(task.into_concurrent()).to_future().await
    })
    .unwrap();
    assert_eq!(got.unwrap(), 7);
}

/// A stream that yields `0..n`, pending once between items (woken at once).
struct Ticks {
    next: u32,
    n: u32,
    pending: bool,
}

impl Stream for Ticks {
    type Item = u32;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
        if self.pending {
            self.pending = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pending = true;
        if self.next == self.n {
            return Poll::Ready(None);
        }
        self.next += 1;
        Poll::Ready(Some(self.next - 1))
    }
}

#[test]
fn from_stream_reads_once() {
    let obs = from_stream(Ticks {
        next: 0,
        n: 5,
        pending: true,
    });
    assert_eq!(obs.to_vec().unwrap(), [0, 1, 2, 3, 4]);
    assert_eq!(obs.to_vec().unwrap_err().kind(), ErrorKind::InvalidState);
}

async fn drain<T: Send + 'static>(
    mut stream: corun::reactive::ObservableStream<T>,
) -> Vec<Result<T, Error>> {
    let mut items = Vec::new();
    while let Some(item) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        items.push(item);
    }
    items
}

#[test]
fn to_stream_overflow_policies() {
    let oldest = run(drain(range(0, 10).to_stream(3, Overflow::DropOldest))).unwrap();
    assert_eq!(
        oldest.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        [7, 8, 9]
    );
    let newest = run(drain(range(0, 10).to_stream(3, Overflow::DropNewest))).unwrap();
    assert_eq!(
        newest.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let failing = run(drain(range(0, 10).to_stream(3, Overflow::Error))).unwrap();
    assert_eq!(failing.len(), 4);
    assert!(failing[..3].iter().all(Result::is_ok));
    assert_eq!(failing[3].as_ref().unwrap_err().kind(), ErrorKind::Full);
    let error = run(drain(
        throw::<i32>(Error::timeout()).to_stream(3, Overflow::Error),
    ))
    .unwrap();
    assert!(error[0].as_ref().unwrap_err().is_timeout());
}

#[test]
fn to_stream_keeps_up_with_a_timed_source_and_dropping_it_disposes() {
    let event_loop = EventLoop::new().unwrap();
    let scheduler = EventLoopScheduler::new(&event_loop);
    let items = event_loop
        .run_until_complete(drain(
            interval(Duration::from_millis(1), scheduler)
                .take(4)
                .to_stream(1, Overflow::Error),
        ))
        .unwrap();
    assert_eq!(
        items.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
}

#[test]
fn to_future_gives_the_last_value_or_the_error() {
    assert_eq!(run(range(0, 4).to_future()).unwrap().unwrap(), 3);
    assert_eq!(
        run(empty::<i32>().to_future()).unwrap().unwrap_err().kind(),
        ErrorKind::Empty
    );
    assert!(
        run(throw::<i32>(Error::timeout()).to_future())
            .unwrap()
            .unwrap_err()
            .is_timeout()
    );
    let ts = timer(Duration::from_millis(1), NewThreadScheduler::new());
    assert_eq!(run(ts.to_future()).unwrap().unwrap(), 0);
}
