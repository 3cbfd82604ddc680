//! Task steps on a timeline: what a loop with a recorder reports.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corun::asyncio::{EventLoop, Task, create_task_named, sleep};
use corun::concurrent::{Observer, Outcome, TaskId};
use corun::trace::Recorder;

/// Logs every event as "submit A", "start A", "finish A ok".
#[derive(Default)]
struct Log {
    events: Mutex<Vec<String>>,
    labels: Mutex<HashMap<TaskId, String>>,
}

impl Observer for Log {
    fn submitted(&self, label: Cow<'static, str>) -> TaskId {
        let mut labels = self.labels.lock().unwrap();
        let id = TaskId::from_u64(labels.len() as u64);
        self.events.lock().unwrap().push(format!("submit {label}"));
        labels.insert(id, label.into_owned());
        id
    }

    fn started(&self, task: TaskId, worker: Option<Cow<'static, str>>) {
        assert!(worker.is_none(), "steps run on the loop's own thread");
        let label = self.labels.lock().unwrap()[&task].clone();
        self.events.lock().unwrap().push(format!("start {label}"));
    }

    fn finished(&self, task: TaskId, outcome: Outcome) {
        let label = self.labels.lock().unwrap()[&task].clone();
        (self.events.lock().unwrap()).push(format!("finish {label} {outcome}"));
    }
}

/// The seeds' three tasks taking turns, `rounds` sleeps each, under a
/// task named "main" that waits for them; runs on `event_loop`.
fn take_turns(event_loop: &EventLoop, rounds: usize) {
    let main = event_loop.create_task_named("main", async move {
        let tasks: Vec<Task<()>> = ["A", "B", "C"]
            .into_iter()
            .map(|name| {
                create_task_named(name, async move {
                    for _ in 0..rounds {
                        sleep(Duration::ZERO).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let lp = event_loop.clone();
    main.add_done_callback(move |_| lp.stop());
    event_loop.run_forever().unwrap();
    main.result().unwrap();
}

// Each step is submitted when the task is made or suspended, started and
// finished around the step, in the loop's FIFO order: main, then A B C
// taking turns, then main once A, B and C are done.
#[test]
fn three_tasks_taking_turns_record_their_steps_in_order() {
    let log = Arc::new(Log::default());
    let event_loop = EventLoop::new().unwrap();
    event_loop.set_recorder(Arc::clone(&log));
    take_turns(&event_loop, 2);

    let mut expected: Vec<String> = ["submit main", "start main"]
        .into_iter()
        .chain(["submit A", "submit B", "submit C"])
        .chain(["finish main ok", "submit main"])
        .map(String::from)
        .collect();
    for round in 0..3 {
        for name in ["A", "B", "C"] {
            expected.push(format!("start {name}"));
            expected.push(format!("finish {name} ok"));
            if round < 2 {
                expected.push(format!("submit {name}"));
            }
        }
    }
    expected.extend(["start main", "finish main ok"].map(String::from));
    assert_eq!(*log.events.lock().unwrap(), expected);
}

// With corun::trace's recorder: one lane (the loop's thread), a bar per
// step labelled with the task's name, each later step having waited from
// its suspend to its resume.
#[test]
fn recorder_draws_one_lane_and_a_bar_per_step() {
    let rec = Recorder::new();
    let event_loop = EventLoop::new().unwrap();
    event_loop.set_recorder(rec.clone());
    take_turns(&event_loop, 2);
    let timeline = rec.timeline();
    assert_eq!(timeline.workers().len(), 1);
    let mut steps: Vec<_> = timeline.tasks().to_vec();
    assert!(steps.iter().all(|s| s.outcome == Some(Outcome::Ok)));
    steps.sort_by_key(|s| s.started);
    let labels: Vec<&str> = steps.iter().map(|s| s.label.as_ref()).collect();
    assert_eq!(
        labels,
        ["main", "A", "B", "C", "A", "B", "C", "A", "B", "C", "main"]
    );
    for pair in steps.windows(2) {
        assert!(pair[0].finished <= pair[1].started, "steps never overlap");
    }
    let svg = timeline.to_svg("three tasks taking turns");
    assert_eq!(svg.matches("<rect").count(), 11);
}

// A task cancelled by the loop's close before its next step: that step is
// recorded as cancelled and never started; a loop whose recorder was
// cleared records nothing more.
#[test]
fn close_and_clear_recorder() {
    let rec = Recorder::new();
    let event_loop = EventLoop::new().unwrap();
    event_loop.set_recorder(rec.clone());
    let _pending = event_loop.create_task_named("never", async {});
    event_loop.clear_recorder();
    let _unrecorded = event_loop.create_task_named("unseen", async {});
    event_loop.close().unwrap();
    let timeline = rec.timeline();
    assert_eq!(timeline.tasks().len(), 1);
    let step = &timeline.tasks()[0];
    assert_eq!(step.label, "never");
    assert_eq!(
        (step.started, step.outcome.clone()),
        (None, Some(Outcome::Cancelled))
    );
}

// A step that panics ends its task as panicked on the timeline.
#[test]
fn a_panicking_step_is_recorded_as_panicked() {
    let log = Arc::new(Log::default());
    let event_loop = EventLoop::new().unwrap();
    event_loop.set_recorder(Arc::clone(&log));
    let task = event_loop.create_task_named("boom", async { panic!("boom") });
    assert!(event_loop.run_until_complete(task).unwrap().is_err());
    let events = log.events.lock().unwrap();
    assert!(
        events.contains(&"finish boom panicked".to_owned()),
        "{events:?}"
    );
}
