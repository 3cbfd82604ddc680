//! Recording from many threads and exporting what was recorded: merging,
//! outcomes, tasks that never started or are still running, the Chrome
//! trace JSON, the SVG diagram and the summary, on recorded and on
//! constructed timelines with known times.

use std::collections::{BTreeSet, HashMap};
use std::thread;
use std::time::Duration;

use corun_trace::{Outcome, Recorder, TaskId, TaskRecord, Timeline};
use serde_json::Value;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A record with the given times (in ms); `run` is `(worker, start, end)`.
fn record(id: u64, submitted: u64, run: Option<(&'static str, u64, Option<u64>)>) -> TaskRecord {
    TaskRecord {
        id: TaskId::from_u64(id),
        label: format!("task {id}").into(),
        worker: run.map(|(w, _, _)| w.into()),
        submitted: ms(submitted),
        started: run.map(|(_, s, _)| ms(s)),
        finished: run.and_then(|(_, _, e)| e).map(ms),
        outcome: run.and_then(|(_, _, e)| e).map(|_| Outcome::Ok),
    }
}

/// Two workers over 10 ms: `a` runs 0 → 5 and 5 → 10, `b` runs 2 → 7;
/// task 3 (submitted at 1) never starts.
fn two_workers() -> Timeline {
    Timeline::from_records([
        record(0, 0, Some(("a", 0, Some(5)))),
        record(1, 0, Some(("b", 2, Some(7)))),
        record(2, 0, Some(("a", 5, Some(10)))),
        record(3, 1, None),
    ])
}

fn parse_json(timeline: &Timeline) -> Vec<Value> {
    let json: Value = serde_json::from_str(&timeline.to_chrome_json()).expect("valid JSON");
    json["traceEvents"].as_array().expect("traceEvents").clone()
}

fn events<'a>(all: &'a [Value], ph: &str) -> Vec<&'a Value> {
    all.iter().filter(|e| e["ph"] == ph).collect()
}

/// Checks `svg` is well-formed enough for any XML parser: tags nest and
/// close, `<` only opens tags, `&` only starts the five entities, and no
/// `>` appears in text.
fn assert_well_formed(svg: &str) {
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        assert!(!text.contains('>'), "raw > in text {text:?}");
        let mut entities = text.split('&').skip(1);
        assert!(
            entities.all(|e| ["amp;", "lt;", "gt;", "quot;", "apos;"]
                .iter()
                .any(|p| e.starts_with(p))),
            "bad entity in {text:?}"
        );
        let close = rest[open..].find('>').expect("tag closes") + open;
        let tag = &rest[open + 1..close];
        assert_eq!(tag.matches('"').count() % 2, 0, "quotes balance in <{tag}>");
        assert!(!tag.contains('<'), "< inside <{tag}>");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "closing </{name}>");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().expect("tag name");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "<{name}");
            stack.push(name);
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert!(rest.trim().is_empty());
}

// Checks that ids are handed out in increasing order, from 0.
#[test]
fn ids_increase() {
    let rec = Recorder::new();
    let ids: Vec<_> = (0..100).map(|i| rec.submitted(format!("{i}"))).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(ids[0].as_u64(), 0);
    let listed: Vec<_> = rec.timeline().tasks().iter().map(|t| t.id).collect();
    assert_eq!(listed, ids);
}

// Checks that ids stay unique when many threads submit at once.
#[test]
fn concurrent_submissions_get_unique_ids() {
    let rec = Recorder::new();
    let ids: BTreeSet<_> = thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| (0..500).map(|_| rec.submitted("x")).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(ids.len(), 2000);
    assert_eq!(rec.timeline().tasks().len(), 2000);
}

// Checks that events recorded on 4 threads merge into complete records,
// one lane per thread, whether submitted on the main thread or the worker.
#[test]
fn records_merge_across_threads() {
    let rec = Recorder::new();
    let queued: Vec<Vec<TaskId>> = (0..4)
        .map(|w| {
            (0..500)
                .map(|i| rec.submitted(format!("w{w} t{i}")))
                .collect()
        })
        .collect();
    thread::scope(|s| {
        for (w, ids) in queued.iter().enumerate() {
            let rec = rec.clone();
            thread::Builder::new()
                .name(format!("worker-{w}"))
                .spawn_scoped(s, move || {
                    for &id in ids {
                        rec.started(id);
                        rec.finished(id, Outcome::Ok);
                    }
                    // And 500 more submitted from the worker itself.
                    for i in 0..500 {
                        let id = rec.submitted(format!("w{w} own {i}"));
                        rec.started(id);
                        rec.finished(id, Outcome::Ok);
                    }
                })
                .unwrap();
        }
    });

    let timeline = rec.timeline();
    let tasks = timeline.tasks();
    assert_eq!(tasks.len(), 4000);
    assert!(tasks.windows(2).all(|w| w[0].id < w[1].id));
    for task in tasks {
        let (Some(started), Some(finished)) = (task.started, task.finished) else {
            panic!("incomplete: {task:?}");
        };
        assert!(task.submitted <= started && started <= finished, "{task:?}");
        assert_eq!(task.outcome, Some(Outcome::Ok));
        let worker = task.worker.as_deref().unwrap();
        assert!(
            task.label.starts_with(&worker.replace("worker-", "w")),
            "{task:?}"
        );
    }
    let mut workers = timeline.workers().to_vec();
    workers.sort();
    assert_eq!(workers, ["worker-0", "worker-1", "worker-2", "worker-3"]);
    let summary = timeline.summary();
    assert!(summary.workers.iter().all(|w| w.tasks == 1000));
    assert!(summary.workers.iter().all(|w| w.utilisation <= 1.0));
}

// Checks that a snapshot taken while threads record holds only consistent
// records, and that a final snapshot has everything.
#[test]
fn snapshots_during_recording_are_consistent() {
    let rec = Recorder::new();
    thread::scope(|s| {
        for w in 0..2 {
            let rec = rec.clone();
            s.spawn(move || {
                for i in 0..2000 {
                    let id = rec.submitted(format!("{w}/{i}"));
                    rec.started(id);
                    rec.finished(id, Outcome::Ok);
                }
            });
        }
        for _ in 0..20 {
            for task in rec.timeline().tasks() {
                assert!(task.started.is_none_or(|s| s >= task.submitted));
                assert_eq!(task.finished.is_some(), task.outcome.is_some());
            }
        }
    });
    let timeline = rec.timeline();
    assert_eq!(timeline.tasks().len(), 4000);
    assert!(timeline.tasks().iter().all(|t| t.outcome.is_some()));
}

// Checks that every outcome is recorded as given.
#[test]
fn outcome_recorded() {
    let outcomes = [
        Outcome::Ok,
        Outcome::Failed,
        Outcome::Panicked,
        Outcome::Cancelled,
        Outcome::TimedOut,
        Outcome::WorkerDied,
    ];
    let rec = Recorder::new();
    for outcome in &outcomes {
        let id = rec.submitted(outcome.as_str());
        rec.started(id);
        rec.finished(id, outcome.clone());
    }
    let recorded: Vec<_> = (rec.timeline().tasks().iter())
        .map(|t| t.outcome.clone().unwrap())
        .collect();
    assert_eq!(recorded, outcomes);
}

// Checks that a task submitted but never started has no start, is counted
// in the summary, and is left out of the SVG bars and the JSON X events.
#[test]
fn never_started_task_is_listed_but_not_drawn() {
    let rec = Recorder::new();
    let ran = rec.submitted("ran");
    let _queued = rec.submitted("queued");
    rec.started(ran);
    rec.finished(ran, Outcome::Ok);

    let timeline = rec.timeline();
    assert_eq!(timeline.tasks().len(), 2);
    let queued = &timeline.tasks()[1];
    assert_eq!((queued.started, queued.worker.clone()), (None, None));
    assert_eq!((queued.finished, queued.outcome.clone()), (None, None));

    assert_eq!(timeline.summary().tasks, 2);
    let all = parse_json(&timeline);
    let x = events(&all, "X");
    assert_eq!(x.len(), 1);
    assert_eq!(x[0]["name"], "ran");
    let svg = timeline.to_svg("one ran");
    assert_eq!(svg.matches("<rect").count(), 1);
    assert!(!svg.contains(">queued<"));
    assert!(svg.contains("1 never started"));
}

// Checks the Chrome trace JSON of a timeline with known times: X events
// with ts/dur in µs on the right tid, M events naming each lane.
#[test]
fn chrome_json_has_complete_and_metadata_events() {
    let timeline = two_workers();
    let all = parse_json(&timeline);

    let names: HashMap<u64, &str> = (events(&all, "M").into_iter())
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, HashMap::from([(0, "a"), (1, "b")]));

    let x = events(&all, "X");
    assert_eq!(x.len(), 3);
    let b = x.iter().find(|e| e["args"]["id"] == 1).unwrap();
    assert_eq!(b["name"], "task 1");
    assert_eq!(b["pid"], 1);
    assert_eq!(b["tid"], 1);
    assert_eq!(b["ts"].as_f64(), Some(2000.0));
    assert_eq!(b["dur"].as_f64(), Some(5000.0));
    assert_eq!(b["args"]["outcome"], "ok");
    assert_eq!(b["args"]["queue_wait_us"].as_f64(), Some(2000.0));
    let last = x.iter().find(|e| e["args"]["id"] == 2).unwrap();
    assert_eq!(
        (last["tid"].as_u64(), last["ts"].as_f64()),
        (Some(0), Some(5000.0))
    );
}

// Checks sub-microsecond times survive the export exactly.
#[test]
fn chrome_json_keeps_nanoseconds() {
    let mut task = record(0, 0, Some(("w", 0, Some(0))));
    task.started = Some(Duration::from_nanos(1_500));
    task.finished = Some(Duration::from_nanos(2_001));
    let all = parse_json(&Timeline::from_records([task]));
    let x = events(&all, "X");
    assert_eq!(x[0]["ts"].as_f64(), Some(1.5));
    assert_eq!(x[0]["dur"].as_f64(), Some(0.501));
}

// Checks that a task still running is exported up to the timeline's end:
// an X event marked running, a dashed outline rather than a bar.
#[test]
fn running_task_extends_to_the_end() {
    let timeline = Timeline::from_records([
        record(0, 0, Some(("w", 1, None))),
        record(1, 0, Some(("w", 2, Some(8)))),
    ]);
    assert_eq!(timeline.end(), ms(8));
    let all = parse_json(&timeline);
    let running = events(&all, "X")
        .into_iter()
        .find(|e| e["args"]["id"] == 0)
        .unwrap();
    assert_eq!(running["args"]["outcome"], "running");
    assert_eq!(running["dur"].as_f64(), Some(7000.0));
    let svg = timeline.to_svg("running");
    assert_well_formed(&svg);
    assert_eq!(svg.matches("<rect").count(), 1);
    assert!(svg.contains("stroke-dasharray"));
    assert!(svg.contains(">running</text>"));
}

// Checks that the SVG is well-formed, escapes text, and has one bar per
// finished task and one label per lane.
#[test]
fn svg_is_well_formed_and_escaped() {
    let rec = Recorder::new();
    let nasty = r#"<script>&"quoted"'</script>"#;
    for worker in ["w <1>", "w &2"] {
        let id = rec.submitted(nasty);
        rec.started_on(id, worker);
        rec.finished(id, Outcome::Failed);
    }
    let id = rec.submitted("short");
    rec.started_on(id, "w <1>");
    rec.finished(id, Outcome::Ok);

    let svg = rec.timeline().to_svg(r#"title <&> "x""#);
    assert_well_formed(&svg);
    assert!(!svg.contains("<script"));
    assert!(svg.contains("&lt;script&gt;&amp;&quot;quoted&quot;&apos;&lt;/script&gt;"));
    assert!(svg.contains("title &lt;&amp;&gt; &quot;x&quot;"));
    assert_eq!(svg.matches("<rect").count(), 3);
    assert_eq!(svg.matches(">w &lt;1&gt;</text>").count(), 1);
    assert_eq!(svg.matches(">w &amp;2</text>").count(), 1);
    assert!(svg.contains(">failed</text>") && svg.contains(">ok</text>"));
}

// Checks the SVG's axis picks units by span, and labels that fit are drawn
// inside their bars.
#[test]
fn svg_axis_units_follow_the_span() {
    let svg = two_workers().to_svg("ms");
    assert_well_formed(&svg);
    assert!(
        svg.contains(">0 ms</text>") && svg.contains(">10 ms</text>"),
        "{svg}"
    );
    assert!(svg.contains(">task 0</text>"));
    assert_eq!(svg.matches("<rect").count(), 3);

    let micro = Timeline::from_records([TaskRecord {
        started: Some(Duration::from_micros(10)),
        finished: Some(Duration::from_micros(300)),
        submitted: Duration::ZERO,
        ..record(0, 0, Some(("w", 0, Some(0))))
    }]);
    assert!(micro.to_svg("µs").contains(">300 µs</text>"));

    let seconds = Timeline::from_records([record(0, 0, Some(("w", 0, Some(4_000))))]);
    assert!(
        seconds.to_svg("s").contains(">4.0 s</text>")
            || seconds.to_svg("s").contains(">4 s</text>")
    );
}

// Checks utilisation on a constructed timeline with known busy times.
#[test]
fn summary_utilisation_on_known_times() {
    let summary = two_workers().summary();
    assert_eq!(summary.wall, ms(10));
    assert_eq!(summary.tasks, 4);
    let by_name: HashMap<_, _> = summary
        .workers
        .iter()
        .map(|w| (w.name.as_ref(), w))
        .collect();
    assert_eq!(summary.workers[0].name, "a", "a started first");
    assert_eq!((by_name["a"].tasks, by_name["a"].busy), (2, ms(10)));
    assert_eq!((by_name["b"].tasks, by_name["b"].busy), (1, ms(5)));
    assert!((by_name["a"].utilisation - 1.0).abs() < 1e-9);
    assert!((by_name["b"].utilisation - 0.5).abs() < 1e-9);
    let text = summary.to_string();
    assert!(
        text.starts_with("4 tasks on 2 workers in 10.0 ms"),
        "{text}"
    );
    assert!(text.contains("100.0%") && text.contains("50.0%"), "{text}");
}

// Checks nearest-rank p50/p99 of queue waits 1..=100 ms.
#[test]
fn queue_wait_percentiles_on_known_data() {
    let records = (1..=100).map(|i| record(i, 0, Some(("w", i, Some(i + 1)))));
    let summary = Timeline::from_records(records).summary();
    assert_eq!(summary.queue_wait_p50, ms(50));
    assert_eq!(summary.queue_wait_p99, ms(99));

    let few = Timeline::from_records([
        record(0, 0, Some(("w", 3, Some(4)))),
        record(1, 0, Some(("w", 1, Some(2)))),
        record(2, 5, None),
    ]);
    let summary = few.summary();
    assert_eq!(
        (summary.queue_wait_p50, summary.queue_wait_p99),
        (ms(1), ms(3))
    );
}

// Checks an empty timeline exports without panicking.
#[test]
fn empty_timeline_exports() {
    for timeline in [Recorder::new().timeline(), Timeline::from_records([])] {
        let all = parse_json(&timeline);
        assert!(events(&all, "X").is_empty());
        let svg = timeline.to_svg("");
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<rect").count(), 0);
        assert!(svg.contains("no task started"));
        let summary = timeline.summary();
        assert_eq!((summary.tasks, summary.wall), (0, Duration::ZERO));
        assert!(summary.to_string().contains("0 tasks"));
    }
}

// Checks that timelines in which nothing finished, or everything happened
// at one instant, still draw.
#[test]
fn degenerate_timelines_export() {
    let only_queued = Timeline::from_records([record(0, 3, None)]);
    assert_well_formed(&only_queued.to_svg("queued"));
    assert_eq!(only_queued.summary().wall, Duration::ZERO);
    let instant = Timeline::from_records([record(0, 2, Some(("w", 2, Some(2))))]);
    let svg = instant.to_svg("instant");
    assert_well_formed(&svg);
    assert_eq!(svg.matches("<rect").count(), 1);
    assert!(instant.summary().workers[0].utilisation == 0.0);
}

// Checks the files written are the exports.
#[test]
fn writes_files() {
    let dir = std::env::temp_dir().join(format!("corun-trace-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let timeline = two_workers();
    timeline.write_chrome_json(dir.join("t.json")).unwrap();
    timeline.write_svg(dir.join("t.svg"), "file").unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("t.json")).unwrap(),
        timeline.to_chrome_json()
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("t.svg")).unwrap(),
        timeline.to_svg("file")
    );
    assert!(timeline.write_svg(dir.join("missing/t.svg"), "x").is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
