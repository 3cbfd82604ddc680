//! `gather!`: gather of futures with different outputs, into a tuple, with
//! `gather`'s rules (Python's `gather(*aws)` over any awaitables).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use corun::asyncio::{ReturnWhen, create_task, run, sleep, wait};
use corun::{Error, ErrorKind};

const FOREVER: Duration = Duration::from_secs(3600);
const DEADLINE: Duration = Duration::from_secs(10);

/// Sets a flag when dropped: stands for a child's cleanup.
struct Guard(Rc<Cell<bool>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

fn flag() -> Rc<Cell<bool>> {
    Rc::new(Cell::new(false))
}

// test_tasks.py: FutureGatherTests.test_result and
// CoroutineGatherTests.test_constructor_heterogenous_futures-like — the
// children finish in any order, and their values come back in input
// order, each of its own type; a task handle is one child like any other.
#[test]
fn gather_macro_gives_a_tuple_in_input_order() {
    let values = run(async {
        let task = create_task(async { vec![4] });
        corun::asyncio::gather!(
            async {
                sleep(Duration::from_millis(2)).await;
                1u8
            },
            async { "two" },
            task,
        )
        .await
    })
    .unwrap()
    .unwrap();
    let (one, two, task_outcome) = values;
    assert_eq!((one, two), (1, "two"));
    assert_eq!(
        task_outcome.unwrap(),
        [4],
        "a task's own Result, as an await gives"
    );
    let one = run(async { corun::asyncio::gather!(async { 'x' }).await }).unwrap();
    assert_eq!(one.unwrap(), ('x',));
}

// test_tasks.py: FutureGatherTests.test_one_exception — the first failure
// comes back at once; the siblings keep running to their end.
#[test]
fn gather_macro_first_failure_leaves_siblings_running() {
    run(async {
        let finished = flag();
        let f = finished.clone();
        let sibling = create_task(async move {
            sleep(Duration::from_millis(2)).await;
            f.set(true);
        });
        let err = corun::asyncio::gather!(sibling.clone(), async {
            panic!("boom");
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Panicked);
        assert!(!finished.get());
        let (_, pending) = wait([sibling.as_any()], ReturnWhen::AllCompleted, Some(DEADLINE))
            .await
            .unwrap();
        assert!(pending.is_empty() && finished.get() && !sibling.cancelled());
    })
    .unwrap();
}

// test_tasks.py: CoroutineGatherTests.test_cancellation_broadcast — the
// children are tasks at once (they run even if the gather is never
// awaited), and cancelling the task that awaits the gather cancels them.
#[test]
fn gather_macro_children_start_at_once_and_a_cancel_reaches_them() {
    run(async {
        let started = flag();
        let s = started.clone();
        let unawaited = corun::asyncio::gather!(async move { s.set(true) });
        sleep(Duration::ZERO).await;
        assert!(started.get(), "started without being awaited");
        drop(unawaited);

        let (a, b) = (flag(), flag());
        let (ga, gb) = (Guard(a.clone()), Guard(b.clone()));
        let outer = create_task(corun::asyncio::gather!(
            async move {
                let _g = ga;
                sleep(FOREVER).await;
                Ok::<_, Error>(())
            },
            async move {
                let _g = gb;
                sleep(FOREVER).await;
                1
            },
        ));
        sleep(Duration::ZERO).await;
        sleep(Duration::ZERO).await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        // The children were woken by their cancel before this task was
        // woken by the outer one's end: they have run (FIFO order).
        assert!(a.get() && b.get(), "both children cancelled");
    })
    .unwrap();
}
