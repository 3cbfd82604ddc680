//! TaskGroup: children that live and fail together; the first failure
//! cancels the rest, every failure comes back in one Group error, and a
//! cancelled or dropped group cancels what is left.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use corun::asyncio::{TaskGroup, TaskGroupHandle, create_task, run, sleep};
use corun::{Error, ErrorKind};

const FOREVER: Duration = Duration::from_secs(3600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Counts drops: stands for a child's cleanup on cancel.
struct Guard(Rc<Cell<u32>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

fn counter() -> Rc<Cell<u32>> {
    Rc::new(Cell::new(0))
}

fn bad(what: &'static str) -> Error {
    Error::new(ErrorKind::InvalidArgument, what)
}

/// A child that sleeps for good, counting its cleanup in `dropped`.
async fn forever(dropped: Rc<Cell<u32>>) -> Result<(), Error> {
    let _guard = Guard(dropped);
    sleep(FOREVER).await;
    Ok(())
}

// test_taskgroups.py: test_taskgroup_01 and test_taskgroup_02 — leaving the
// group waits for every child, including one created after a sleep.
#[test]
fn the_group_waits_for_every_child() {
    let (a, b) = run(async {
        let tg = TaskGroup::new();
        let (t1, t2) = tg
            .run(async {
                let t1 = tg.create_task(async {
                    sleep(ms(2)).await;
                    Ok(42)
                })?;
                sleep(ms(1)).await;
                let t2 = tg.create_task(async {
                    sleep(ms(2)).await;
                    Ok(11)
                })?;
                Ok((t1, t2))
            })
            .await
            .unwrap();
        (t1.result().unwrap().unwrap(), t2.result().unwrap().unwrap())
    })
    .unwrap();
    assert_eq!((a, b), (42, 11));
}

// test_taskgroups.py: test_taskgroup_03 — a child cancelled from elsewhere
// is no failure: the others go on and the group succeeds.
#[test]
fn a_child_cancelled_from_elsewhere_is_no_failure() {
    run(async {
        let tg = TaskGroup::new();
        let t1 = tg.create_task(forever(counter())).unwrap();
        let t2 = tg
            .create_task(async {
                sleep(ms(2)).await;
                Ok(11)
            })
            .unwrap();
        sleep(Duration::ZERO).await;
        t1.cancel();
        tg.wait().await.unwrap();
        assert!(t1.cancelled());
        assert_eq!(t2.result().unwrap().unwrap(), 11);
    })
    .unwrap();
}

// test_taskgroups.py: test_taskgroup_04 and
// test_cancel_children_on_child_error — the first failure cancels the
// siblings (their cleanup runs) and the body; the failures come back
// together in one Group error.
#[test]
fn the_first_failure_cancels_siblings_and_the_body() {
    let dropped = counter();
    let d = dropped.clone();
    let (err, body_dropped) = run(async move {
        let tg = TaskGroup::new();
        let body_dropped = counter();
        let b = body_dropped.clone();
        let err = tg
            .run(async {
                for _ in 0..3 {
                    let _child = tg.create_task(async {
                        sleep(ms(1)).await;
                        Err::<(), _>(bad("zero division"))
                    })?;
                }
                let _child = tg.create_task(forever(d.clone()))?;
                let _guard = Guard(b);
                sleep(FOREVER).await;
                Ok(())
            })
            .await
            .unwrap_err();
        (err, body_dropped.get())
    })
    .unwrap();
    assert!(err.is_group());
    assert!(!err.errors().is_empty());
    assert!(
        err.errors()
            .iter()
            .all(|e| e.to_string() == "zero division")
    );
    assert_eq!(dropped.get(), 1, "the sibling was cancelled");
    assert_eq!(body_dropped, 1, "the body was cancelled");
}

// test_taskgroups.py: test_taskgroup_09 and test_taskgroup_10 — a failing
// body cancels the children, and its error is in the group.
#[test]
fn a_failing_body_cancels_the_children() {
    run(async {
        let tg = TaskGroup::new();
        let mut children = Vec::new();
        let err = tg
            .run(async {
                children.push(tg.create_task(forever(counter()))?);
                children.push(tg.create_task(forever(counter()))?);
                sleep(ms(1)).await;
                Err::<(), _>(bad("body failed"))
            })
            .await
            .unwrap_err();
        assert_eq!(err.errors().len(), 1);
        assert_eq!(err.errors()[0].to_string(), "body failed");
        assert!(children.iter().all(|t| t.cancelled()));
    })
    .unwrap();
}

// test_taskgroups.py: test_cancellation and test_taskgroup_07 — cancelling
// the task that runs the group cancels every child (their cleanup runs)
// and the task ends cancelled.
#[test]
fn cancelling_the_parent_cancels_the_children() {
    run(async {
        let dropped = counter();
        let d = dropped.clone();
        let parent = create_task(async move {
            let tg = TaskGroup::new();
            tg.run(async {
                for _ in 0..5 {
                    let _child = tg.create_task(forever(d.clone()))?;
                }
                sleep(FOREVER).await;
                Ok(())
            })
            .await
        });
        sleep(ms(1)).await;
        assert!(!parent.done());
        parent.cancel();
        assert!(parent.await.unwrap_err().is_cancelled());
        for _ in 0..1000 {
            if dropped.get() == 5 {
                break;
            }
            sleep(ms(1)).await;
        }
        assert_eq!(dropped.get(), 5);
    })
    .unwrap();
}

// Not in CPython (a Python TaskGroup cannot be dropped): a group dropped
// without being waited for cancels what is left.
#[test]
fn dropping_the_group_cancels_what_is_left() {
    run(async {
        let dropped = counter();
        let tg = TaskGroup::new();
        let done = tg.create_task(async { Ok(1) }).unwrap();
        let left = tg.create_task(forever(dropped.clone())).unwrap();
        sleep(Duration::ZERO).await;
        sleep(Duration::ZERO).await;
        assert!(done.done());
        drop(tg);
        assert!(left.await.unwrap_err().is_cancelled());
        assert_eq!(dropped.get(), 1);
        assert_eq!(done.await.unwrap().unwrap(), 1);
    })
    .unwrap();
}

// test_taskgroups.py: test_taskgroup_19 (two kinds of failure in one
// group) — a panicking child fails only itself: the group cancels its
// siblings and reports the panic with the other failures. Both children
// yield once, then fail in the same turn of the loop: a timer each could
// come due in different turns on a busy machine, and the first failure
// would cancel the second child before it fails.
#[test]
fn a_panicking_child_is_a_failure_of_the_group() {
    run(async {
        let tg = TaskGroup::new();
        let _child = tg
            .create_task(async {
                sleep(ms(0)).await;
                panic!("child panicked");
                #[allow(unreachable_code)]
                Ok(())
            })
            .unwrap();
        let _child = tg
            .create_task(async {
                sleep(ms(0)).await;
                Err::<(), _>(bad("child failed"))
            })
            .unwrap();
        let sibling = tg.create_task(forever(counter())).unwrap();
        let err = tg.wait().await.unwrap_err();
        assert_eq!(err.errors().len(), 2);
        assert!(
            err.errors()
                .iter()
                .any(|e| e.panic_message() == Some("child panicked"))
        );
        assert!(err.errors().iter().any(|e| e.to_string() == "child failed"));
        assert!(sibling.cancelled());
    })
    .unwrap();
}

// test_taskgroups.py: test_taskgroup_14 — nested groups: the inner group's
// error is one error of the outer group.
#[test]
fn nested_groups_nest_their_errors() {
    run(async {
        let outer = TaskGroup::new();
        let err = outer
            .run(async {
                let _child = outer.create_task(forever(counter()))?;
                let inner = TaskGroup::new();
                let _child = inner.create_task(async {
                    sleep(ms(1)).await;
                    Err::<(), _>(bad("deep"))
                })?;
                inner.wait().await
            })
            .await
            .unwrap_err();
        assert_eq!(err.errors().len(), 1);
        let inner = &err.errors()[0];
        assert!(inner.is_group());
        assert_eq!(inner.errors()[0].to_string(), "deep");
    })
    .unwrap();
}

// The group's own rules (Python's RuntimeError "TaskGroup is finished" and
// "has already been entered"): no child after the group finished, and a
// group runs once.
#[test]
fn no_children_after_the_group_finished() {
    run(async {
        let tg = TaskGroup::new();
        tg.wait().await.unwrap();
        let err = tg.create_task(async { Ok(()) }).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidState);
        assert!(err.to_string().contains("finished"));
        let err = tg.wait().await.unwrap_err();
        assert!(err.to_string().contains("already been entered"));
    })
    .unwrap();
}

// test_taskgroups.py: test_taskgroup_24 — a child adds siblings to its own
// group while the group runs (through a handle), and the group waits for
// them too.
#[test]
fn a_child_adds_siblings_through_a_handle() {
    run(async {
        let tg = TaskGroup::new();
        let g = tg.handle();
        let done = counter();
        let d = done.clone();
        let _root = tg.create_task(async move {
            sleep(Duration::ZERO).await;
            for n in 1..=2 {
                let d = d.clone();
                let _sibling = g.create_task_named(format!("coro{n}"), async move {
                    sleep(ms(n)).await;
                    d.set(d.get() + 1);
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        tg.wait().await?;
        assert_eq!(done.get(), 2, "the group waited for the siblings");
        Ok::<_, Error>(())
    })
    .unwrap()
    .unwrap();
}

// test_taskgroups.py: test_taskgroup_25 — hydras spawn two siblings each
// until hercules fails: the failure cancels every hydra, and the group's
// error holds hercules' error alone.
#[test]
fn hydras_spawning_siblings_stop_at_the_first_failure() {
    async fn hydra(g: TaskGroupHandle, heads: Rc<Cell<u32>>) -> Result<(), Error> {
        heads.set(heads.get() + 1);
        sleep(Duration::ZERO).await;
        let _a = g.create_task(hydra(g.clone(), heads.clone()))?;
        let _b = g.create_task(hydra(g.clone(), heads))?;
        Ok(())
    }
    run(async {
        let heads = counter();
        let tg = TaskGroup::new();
        let _first = tg.create_task(hydra(tg.handle(), heads.clone()))?;
        let h = heads.clone();
        let _hercules = tg.create_task(async move {
            while h.get() < 10 {
                sleep(Duration::ZERO).await;
            }
            Err::<(), _>(bad("hercules"))
        })?;
        let err = tg.wait().await.unwrap_err();
        assert_eq!(err.errors().len(), 1, "{err}");
        assert_eq!(err.errors()[0].to_string(), "hercules");
        assert!(tg.tasks().is_empty());
        Ok::<_, Error>(())
    })
    .unwrap()
    .unwrap();
}

// test_taskgroups.py: test_taskgroup_23 — a long-lived group forgets the
// children that are done: its list does not grow forever.
#[test]
fn a_group_forgets_finished_children() {
    run(async {
        let tg = TaskGroup::new();
        let blocker = tg.create_task(forever(counter()))?;
        for _ in 0..10 {
            let child = tg.create_task(async { Ok(()) })?;
            child.await??;
            assert_eq!(tg.tasks().len(), 1, "only the blocker is left");
        }
        assert_eq!(tg.tasks(), [blocker.as_any()]);
        blocker.cancel();
        tg.wait().await?;
        assert!(tg.tasks().is_empty());
        Ok::<_, Error>(())
    })
    .unwrap()
    .unwrap();
}

// A handle outlives nothing: after the group finished, or once it is
// dropped, it refuses new children with a clear InvalidState error.
#[test]
fn a_handle_refuses_children_once_the_group_is_done_or_gone() {
    run(async {
        let tg = TaskGroup::new();
        let g = tg.handle();
        tg.wait().await.unwrap();
        let err = g.create_task(async { Ok(()) }).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidState);
        assert!(err.to_string().contains("finished"), "{err}");

        let tg = TaskGroup::new();
        let g = tg.handle();
        drop(tg);
        let err = g.create_task(async { Ok(()) }).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidState);
        assert!(err.to_string().contains("dropped"), "{err}");
    })
    .unwrap();
}
