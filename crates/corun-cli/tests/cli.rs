//! Runs the built `corun` binary, as a user would.

use std::process::{Command, Output};

fn corun(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corun"))
        .args(args)
        .output()
        .expect("the corun binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `corun --help` lists the subcommands.
#[test]
fn help_lists_subcommands() {
    let out = corun(&["--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("bench") && text.contains("demo"), "{text}");
}

/// The lock demo prints a final balance of 100, every time.
#[test]
fn demo_lock_keeps_the_balance() {
    for _ in 0..3 {
        let out = corun(&["demo", "lock"]);
        assert!(out.status.success(), "{out:?}");
        assert!(stdout(&out).contains("final balance: 100\n"));
    }
}

/// The barrier demo: both threads run twice, wait, pass, and finish; in
/// each round both wait before either passes.
#[test]
fn demo_barrier_trace() {
    let out = corun(&["demo", "barrier"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for p in ["P1", "P2"] {
        assert!(text.contains(&format!("{p} is running for 0-th time")));
        assert!(text.contains(&format!("{p} is running for 1-th time")));
        assert!(text.contains(&format!("{p} is finished")));
        assert_eq!(text.matches(&format!("{p} passed the barrier")).count(), 2);
    }
    let lines: Vec<&str> = text.lines().collect();
    let pos = |needle: &str, nth: usize| {
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains(needle))
            .nth(nth)
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no {needle} #{nth} in {text}"))
    };
    for round in 0..2 {
        let last_wait = pos("P1 is waiting", round).max(pos("P2 is waiting", round));
        let first_pass = pos("P1 passed", round).min(pos("P2 passed", round));
        assert!(last_wait < first_pass, "{text}");
    }
}

/// The event, condition and queue demos run to completion and check
/// their own results.
#[test]
fn other_demos_succeed() {
    for (demo, expect) in [
        ("event", "event set after"),
        ("condition", "sum 55"),
        ("queue", "all 12 jobs done"),
    ] {
        let out = corun(&["demo", demo]);
        assert!(out.status.success(), "{demo}: {out:?}");
        assert!(stdout(&out).contains(expect), "{demo}: {}", stdout(&out));
    }
}

/// The pool demo sums squares serially and on a ThreadPoolExecutor, checks
/// the results match, and prints the speedup.
#[test]
fn demo_pool_prints_a_speedup() {
    let out = corun(&["demo", "pool"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("serial:"), "{text}");
    assert!(text.contains("ThreadPoolExecutor("), "{text}");
    assert!(
        text.contains("Pool(") && text.contains("(processes)"),
        "{text}"
    );
    let speedups = text
        .lines()
        .find_map(|l| l.strip_prefix("speedup: "))
        .unwrap_or_else(|| panic!("no speedup in {text}"));
    for mode in ["threads ", "processes "] {
        let speedup = speedups
            .split(mode)
            .nth(1)
            .and_then(|rest| rest.split('x').next())
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {mode}speedup in {text}"));
        assert!(speedup > 0.0, "{text}");
    }
    assert!(text.contains("all 20 results match"), "{text}");
    assert!(text.contains("range(10000)) = 333283335000"), "{text}");
}

#[test]
fn demo_process_joins_every_process() {
    let out = corun(&["demo", "process"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for n in 1..=5 {
        assert!(text.contains(&format!("process square-{n}")), "{text}");
    }
    assert!(text.contains("all processes joined"), "{text}");
}

#[test]
fn demo_crash_fails_only_the_aborting_tasks() {
    let out = corun(&["demo", "crash"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("failed: worker died"))
        .collect();
    assert_eq!(failed.len(), 4, "{text}");
    for (line, task) in failed.iter().zip(["9", "19", "29", "39"]) {
        assert!(
            line.starts_with(&format!("task {task:>2} failed")),
            "{text}"
        );
        assert!(line.contains("SIGABRT"), "{text}");
    }
    assert!(text.contains("36 tasks succeeded, 4 failed"), "{text}");
    assert!(text.contains("no worker left"), "{text}");
}

/// A bad demo name is a clear error, not a panic.
#[test]
fn unknown_demo_fails_cleanly() {
    let out = corun(&["demo", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value"));
}

/// `bench --quick` prints the table with a ratio per peer and writes JSON
/// with the same rows.
#[test]
fn bench_quick_writes_table_and_json() {
    let dir = std::env::temp_dir().join(format!("corun-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json_path = dir.join("bench.json");
    let out = corun(&[
        "bench",
        "--quick",
        "--no-python",
        "-e",
        "sync",
        "--json",
        json_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let table = stdout(&out);
    assert!(table.contains("parking_lot::Mutex"), "{table}");
    assert!(table.contains("std::sync::Barrier"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert!(rows.len() >= 4);
    for row in rows {
        assert_eq!(row["experiment"], "sync");
        assert!(row["ratio"]["median"].as_f64().unwrap() > 0.0);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The thread-pool experiments run in a smoke run and report a positive
/// ratio for every comparison, in the table and in the JSON.
#[test]
fn bench_quick_thread_pool_experiments() {
    let dir = std::env::temp_dir().join(format!("corun-cli-pool-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json_path = dir.join("bench.json");
    let out = corun(&[
        "bench",
        "--quick",
        "--no-python",
        "-e",
        "cpu,overhead-threads,latency-threads",
        "--json",
        json_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let table = stdout(&out);
    assert!(table.contains("rayon par_iter"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let rows = json["rows"].as_array().unwrap();
    for peer in [
        "rayon par_iter",
        "tokio spawn_blocking",
        "std mpsc ping-pong",
    ] {
        assert!(
            rows.iter()
                .any(|r| r["peer"].as_str().is_some_and(|p| p.starts_with(peer))),
            "no {peer} in {json}"
        );
    }
    for experiment in ["cpu", "overhead-threads", "latency-threads"] {
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| r["experiment"] == experiment)
            .collect();
        assert!(!mine.is_empty(), "no {experiment} rows in {json}");
        for row in mine {
            assert!(
                row["corun_value"]["median"].as_f64().unwrap() > 0.0,
                "{row}"
            );
            if !row["peer_value"].is_null() {
                assert!(row["ratio"]["median"].as_f64().unwrap() > 0.0, "{row}");
            }
        }
    }
    assert!(
        rows.iter()
            .all(|r| !r["peer"].as_str().is_some_and(|p| p.contains("Python"))),
        "--no-python still ran Python"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--runs 0` is refused with a message.
#[test]
fn bench_rejects_zero_runs() {
    let out = corun(&["bench", "--runs", "0", "--no-python"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--runs must be at least 1"));
}

/// `bench -e cpu --timeline DIR` writes an SVG timing diagram and a Chrome
/// trace for each Rust mode, with one bar / one event per task.
#[test]
fn bench_timeline_writes_svg_and_chrome_json_per_mode() {
    let dir = std::env::temp_dir().join(format!("corun-cli-timeline-{}", std::process::id()));
    let out = corun(&[
        "bench",
        "--quick",
        "--no-python",
        "-e",
        "cpu",
        "--timeline",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    for mode in ["sequential", "threads", "processes", "asyncio", "rayon"] {
        // One bar per sum; the loop also records the steps of the task
        // that gathers them.
        let bars_ok = |n: usize| if mode == "asyncio" { n >= 20 } else { n == 20 };
        let svg = std::fs::read_to_string(dir.join(format!("cpu-{mode}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{mode}");
        let bars = svg.matches("<rect").count();
        assert!(bars_ok(bars), "{mode}: {bars} bars for 20 sums");
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("cpu-{mode}.json"))).unwrap(),
        )
        .unwrap();
        let events = json["traceEvents"].as_array().expect("a Chrome trace");
        let spans = events.iter().filter(|e| e["ph"] == "X").count();
        assert!(bars_ok(spans), "{mode}: {spans} spans");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--timeline` with an experiment that has no timeline is an error that
/// names it, before anything runs; nothing is written.
#[test]
fn bench_timeline_refuses_experiments_without_one() {
    let dir = std::env::temp_dir().join(format!("corun-cli-no-timeline-{}", std::process::id()));
    let out = corun(&[
        "bench",
        "--quick",
        "--no-python",
        "-e",
        "cpu,queue",
        "--timeline",
        dir.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--timeline: queue has no timeline; only cpu and io do"),
        "{err}"
    );
    assert!(!dir.exists(), "nothing written");
    assert!(stdout(&out).is_empty(), "nothing ran");
}

/// The default run is the seeds' story: the cpu and io experiments, their
/// timing diagrams and the closing verdicts, every line within 100
/// columns.
#[test]
fn bench_default_run_tells_the_story_at_100_columns() {
    let out = corun(&["bench", "--quick", "--no-python"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "wider than 100: {line:?}");
    }
    for expect in [
        "━━ cpu ━━",
        "━━ io ━━",
        "timing diagrams, one recorded run of each mode:",
        "━━ choosing a solution ━━",
        "▶ CPU-bound: ",
        "▶ I/O-bound: asyncio won",
        "bar ≥1.9×: ",
        "bar ≤65.0 ms: ",
    ] {
        assert!(text.contains(expect), "{expect:?} missing:\n{text}");
    }
    assert!(
        !text.contains("━━ queue"),
        "micro-benchmarks only with --all"
    );
}

/// The hidden self-check times one workload against itself: its ratio
/// comes out at 1.00 within its spread, "within noise" of its bar of 1.
/// With `--json -`, stdout holds the JSON alone and the table goes to
/// stderr.
#[test]
fn bench_self_check_is_one_within_its_spread() {
    // Twenty pairs: a spread (the extreme pair at each end left out) that
    // misses a true ratio of 1 once in some 25 000 runs.
    let out = corun(&[
        "bench",
        "--quick",
        "--runs",
        "5",
        "-e",
        "self-check",
        "--json",
        "-",
        "--check",
    ]);
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&out)).expect("stdout is the JSON alone");
    let row = &json["rows"][0];
    assert_eq!(row["experiment"], "self-check");
    let ratio = &row["ratio"];
    let (low, high) = (
        ratio["low"].as_f64().unwrap(),
        ratio["high"].as_f64().unwrap(),
    );
    assert!(low <= 1.0 && 1.0 <= high, "{ratio}");
    assert_eq!(ratio["samples"].as_array().unwrap().len(), 20, "{ratio}");
    assert_eq!(row["verdict"], "within_noise", "{row}");
    let table = String::from_utf8_lossy(&out.stderr);
    assert!(table.contains("━━ self-check ━━"), "{table}");
    assert!(table.contains("bar ≤1×: within noise"), "{table}");
}

#[test]
fn demo_pipe_talks_both_ways_and_sees_the_closed_end() {
    let out = corun(&["demo", "pipe"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains(r#"received (42, None, "hello")"#), "{text}");
    assert!(text.contains("5² = 25"), "{text}");
    assert!(text.contains("child answered 5 requests"), "{text}");
    assert!(text.contains("the other end is closed"), "{text}");
}

#[test]
fn demo_shared_memory_is_shared_and_removed_with_its_last_handle() {
    let out = corun(&["demo", "shared-memory"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains(r#"read "hello" and wrote "HELLO""#), "{text}");
    assert!(text.contains("the block is still there: true"), "{text}");
    assert!(text.contains("exists: false"), "{text}");
}

#[test]
fn demo_value_lock_keeps_500_under_the_lock() {
    let out = corun(&["demo", "value-lock"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for run in 1..=3 {
        assert!(
            text.contains(&format!("with the lock, run {run}: 500\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("without a lock, run {run}: ")),
            "{text}"
        );
    }
}

#[test]
fn demo_process_queue_prints_all_ten_values() {
    let out = corun(&["demo", "process-queue"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("10 values in the queue"), "{text}");
    for line in ["0² = 0", "4² = 16", "3³ = 27", "4³ = 64"] {
        assert!(text.contains(line), "{text}");
    }
    assert!(text.contains("all ten values arrived"), "{text}");
}

/// The event-loop demo prints Python's order: the sleeper starts, A, B and
/// C take turns step by step, the sleeper wakes last; and the loop's own
/// record of its steps says the same.
#[test]
fn demo_event_loop_takes_turns_in_order() {
    let out = corun(&["demo", "event-loop"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let printed: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("sleeper:") || l.contains(": step "))
        .map(|l| l.split(" —").next().unwrap_or(l))
        .collect();
    let mut expected = vec!["sleeper: going to sleep for 20ms".to_owned()];
    for step in 1..=3 {
        for name in ["A", "B", "C"] {
            expected.push(format!("{name}: step {step} of 3"));
        }
    }
    assert_eq!(printed[..expected.len()], expected, "{text}");
    assert_eq!(printed.len(), expected.len() + 1, "{text}");
    assert!(
        printed[expected.len()].starts_with("sleeper: woke after "),
        "{text}"
    );
    assert!(
        text.contains("main → sleeper → A → B → C → A → B → C → A → B → C → sleeper → main\n"),
        "{text}"
    );
}

/// The download demo fetches its pages one by one, on threads and as
/// asyncio tasks, and prints each time and the speedups.
#[test]
fn demo_download_prints_the_three_ways_and_their_times() {
    let out = corun(&["demo", "download"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for expect in [
        "sequential:",
        "ThreadPoolExecutor(5):",
        "asyncio (one thread):",
        "pages arrived: page ",
        "speedups over sequential: threads ",
    ] {
        assert!(text.contains(expect), "{expect:?} missing in {text}");
    }
}

/// The io experiment runs in a smoke run: every Rust mode fetched every
/// page (the bench checks the bytes) and has a positive time and ratio.
#[test]
fn bench_quick_io() {
    let out = corun(&["bench", "--quick", "--no-python", "-e", "io", "--json", "-"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = json["rows"].as_array().unwrap();
    for corun in [
        "corun::asyncio",
        "ThreadPoolExecutor(32)",
        "ProcessPoolExecutor(2)",
        "sequential (ureq)",
    ] {
        assert!(
            rows.iter().any(|r| r["corun"] == corun),
            "no {corun} row: {json}"
        );
    }
    assert!(rows.iter().any(|r| r["peer"] == "tokio + hyper"));
    for row in rows {
        assert_eq!(row["experiment"], "io");
        assert!(
            row["corun_value"]["median"].as_f64().unwrap() > 0.0,
            "{row}"
        );
        if !row["peer_value"].is_null() {
            assert!(row["ratio"]["median"].as_f64().unwrap() > 0.0, "{row}");
        }
    }
    // The latency targets are bars, never peers.
    let targets: Vec<_> = rows
        .iter()
        .filter(|r| r["bar"]["kind"] == "target")
        .collect();
    assert_eq!(targets.len(), 2, "{json}");
    assert!(targets.iter().all(|r| r["peer"].is_null()), "{json}");
    // Every mode of the workload, each corun one with a recorded run.
    let io = &json["workloads"][0];
    assert_eq!(io["experiment"], "io");
    for model in ["sequential", "threads", "processes", "asyncio"] {
        let mode = io["modes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["model"] == model && m["origin"] == "corun")
            .unwrap_or_else(|| panic!("no {model} mode: {io}"));
        assert!(mode["recorded"]["tasks"].as_u64().unwrap() >= 20, "{mode}");
    }
    assert_eq!(json["choices"][0]["winners"][0], "asyncio", "{json}");
}

/// The emitter demo: the applicants apply first; the committee's decisions
/// come later, on the loop, in the order of its timers, each followed by
/// the applicant's inbox and, for a hire, HR's task; main's `once` and
/// `wait_for_complete` end it, with the `once` handlers gone.
#[test]
fn demo_emitter_calls_back_in_order() {
    let out = corun(&["demo", "emitter"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let printed: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            [
                "Alice",
                "Bob",
                "Carol",
                "[after",
                "committee:",
                "HR",
                "main:",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .collect();
    let expected = [
        "Alice applies, leaves an email address, and goes back to work",
        "Bob applies, leaves an email address, and goes back to work",
        "Carol applies, leaves an email address, and goes back to work",
        "main: 3 applications in, 5 handlers waiting; the loop waits for the committee",
        "[after 10 ms] the committee meets about Alice",
        "committee: decided on Alice — hired",
        "Alice's inbox: \"Congratulations, you're hired!\"",
        "HR (a task on the loop): offer letter sent to Alice",
        "[after 20 ms] the committee meets about Bob",
        "committee: decided on Bob — not this time",
        "Bob's inbox: \"Thank you for applying; we went another way.\"",
        "[after 30 ms] the committee meets about Carol",
        "committee: decided on Carol — hired",
        "Carol's inbox: \"Congratulations, you're hired!\"",
        "HR (a task on the loop): offer letter sent to Carol",
        "main: awaited the last decision (Carol) with once(), and HR's tasks with wait_for_complete()",
        "main: handlers left: [\"decided\"] (the applicants' were `once`)",
    ];
    assert_eq!(printed, expected, "{text}");
}

/// The reactive demo: every reading reaches the moving average at once,
/// the buffer groups them in threes, and the debounce lets through the
/// last reading of each burst, after the burst and before the next one.
#[test]
fn demo_reactive_debounces_buffers_and_averages() {
    let out = corun(&["demo", "reactive"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let events: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.starts_with("burst") || l.starts_with("debounce:") || l.starts_with("buffer:")
        })
        .collect();
    let expected = [
        "burst 1:",
        "buffer:   [20.1, 20.4, 20.9]",
        "debounce: settled at 20.9",
        "burst 2:",
        "debounce: settled at 22.0",
        "burst 3:",
        "buffer:   [21.7, 22.0, 22.3]",
        "buffer:   [22.1, 21.8, 21.5]",
        "debounce: settled at 21.5",
    ];
    assert_eq!(events, expected, "{text}");
    let averages = text.matches("scan:     moving average").count();
    assert_eq!(averages, 9, "one average per reading: {text}");
    assert!(text.contains("moving average 21.80"), "{text}");
}

/// The reactive experiment runs in a smoke run: the pipeline and the
/// fan-out, each against its bar, the floor and rxRust, with a positive
/// figure per row.
#[test]
fn bench_quick_reactive() {
    let out = corun(&[
        "bench",
        "--quick",
        "--no-python",
        "-e",
        "reactive",
        "--json",
        "-",
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 8, "{json}");
    for unit in ["ns/item/operator", "ns/item/observer"] {
        let mine: Vec<_> = rows.iter().filter(|r| r["unit"] == unit).collect();
        assert_eq!(mine.len(), 4, "{json}");
        // The fixed bar is a bar, not a peer.
        let target: Vec<_> = mine
            .iter()
            .filter(|r| r["bar"]["kind"] == "target")
            .collect();
        assert_eq!(target.len(), 1, "{json}");
        assert!(target[0]["peer"].is_null(), "{json}");
        assert!(
            mine.iter()
                .any(|r| r["peer"].as_str().is_some_and(|p| p.contains("rxRust")))
        );
        for row in mine {
            assert_eq!(row["experiment"], "reactive");
            assert!(
                row["corun_value"]["median"].as_f64().unwrap() > 0.0,
                "{row}"
            );
            if !row["peer"].is_null() {
                assert!(row["peer_value"]["median"].as_f64().unwrap() > 0.0, "{row}");
            }
        }
    }
}

/// The GPU demo runs on whatever there is (PoCL in CI, the CPU fallback
/// without OpenCL), names it, and checks its results against the CPU.
#[test]
fn demo_gpu_names_its_device_and_gets_the_exact_sums() {
    let out = corun(&["demo", "gpu"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for expect in [
        "running on: ",
        "SAXPY y = 2·x + y over 1048576 floats",
        "(equal to the CPU's)",
        "the first: 41666654166667500000; all twenty: 833337833344750010830",
    ] {
        assert!(text.contains(expect), "{expect:?} missing in {text}");
    }
}

/// The gpu-throughput experiment in a smoke run: with an OpenCL device
/// (PoCL in CI), kernel-only, end-to-end and CPU-fallback rows for both
/// kernels against rayon, each checked against the plain loop by the
/// bench; without one, a single row saying so.
#[test]
fn bench_quick_gpu_throughput() {
    let out = corun(&["bench", "--quick", "-e", "gpu-throughput", "--json", "-"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = json["rows"].as_array().unwrap();
    if corun::gpu::default_device().is_none() {
        assert_eq!(rows.len(), 1, "{json}");
        assert!(
            rows[0]["note"]
                .as_str()
                .unwrap()
                .contains("no OpenCL device")
        );
        return;
    }
    assert!(rows.len() >= 6, "{json}");
    for kernel in ["vector add", "saxpy"] {
        for how in ["kernel-only", "end to end", "CPU fallback"] {
            let name = format!("{kernel} {how}");
            let row = rows
                .iter()
                .find(|r| r["corun"] == name.as_str())
                .unwrap_or_else(|| panic!("no {name} row: {json}"));
            assert_eq!(row["peer"], "rayon par_iter");
            assert!(
                row["corun_value"]["median"].as_f64().unwrap() > 0.0,
                "{row}"
            );
            assert!(row["peer_value"]["median"].as_f64().unwrap() > 0.0, "{row}");
        }
    }
}
/// `corun gpu` lists every OpenCL device with its figures and names the
/// default; with none it says the CPU fallback is used and succeeds.
#[test]
fn gpu_lists_devices() {
    let out = corun(&["gpu"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    if text.contains("no OpenCL device") {
        assert!(text.contains("CPU fallback"), "{text}");
        return;
    }
    for field in [
        "[0] ",
        "kind:",
        "platform:",
        "compute units:",
        "global memory:",
        "max work-group size:",
        "fp64:",
        "int64 atomics:",
        "default device: [",
    ] {
        assert!(text.contains(field), "{field:?} missing from:\n{text}");
    }
    assert!(text.contains("iB\n"), "global memory is humanised:\n{text}");
}

/// `CORUN_GPU_DEVICE=none` asks for no device: `corun gpu` still lists
/// what is there, says none is picked, and succeeds.
#[test]
fn gpu_with_no_device_picked() {
    let out = Command::new(env!("CARGO_BIN_EXE_corun"))
        .arg("gpu")
        .env("CORUN_GPU_DEVICE", "none")
        .output()
        .expect("the corun binary runs");
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("CPU fallback"), "{text}");
    assert!(!text.contains("default device: ["), "{text}");
}

/// Runs `corun bench --quick -e gpu-launch --json -` with `device` as
/// `CORUN_GPU_DEVICE` (unset when `None`) and returns its rows.
fn gpu_launch_rows(device: Option<&str>) -> Vec<serde_json::Value> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_corun"));
    command.args(["bench", "--quick", "-e", "gpu-launch", "--json", "-"]);
    match device {
        Some(device) => command.env("CORUN_GPU_DEVICE", device),
        None => command.env_remove("CORUN_GPU_DEVICE"),
    };
    let out = command.output().expect("the corun binary runs");
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = json["rows"].as_array().unwrap().clone();
    for row in &rows {
        assert_eq!(row["experiment"], "gpu-launch", "{row}");
        assert_eq!(row["unit"], "µs/launch", "{row}");
        assert!(
            row["corun_value"]["median"].as_f64().unwrap() > 0.0,
            "{row}"
        );
    }
    rows
}

/// `gpu-launch`: an empty kernel's round trip in both completion modes
/// beside a thread pool's, naming the device; with no OpenCL device, one
/// row that says so.
#[test]
fn bench_quick_gpu_launch() {
    let rows = gpu_launch_rows(None);
    if rows.len() == 1
        && rows[0]["note"]
            .as_str()
            .unwrap()
            .contains("no OpenCL device")
    {
        return;
    }
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (row, mode) in rows.iter().zip(["Callback", "Wait"]) {
        assert!(row["corun"].as_str().unwrap().contains(mode), "{row}");
        assert!(
            row["peer"].as_str().unwrap().contains("ThreadPoolExecutor"),
            "{row}"
        );
        assert!(row["peer_value"]["median"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["note"].as_str().unwrap().starts_with("on "), "{row}");
    }
}

/// `gpu-launch` with no device (`CORUN_GPU_DEVICE=none`): one row, the
/// pool's figure, and a note saying there was no device; no failure.
#[test]
fn bench_quick_gpu_launch_without_a_device() {
    let rows = gpu_launch_rows(Some("none"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0]["peer_value"].is_null(), "{}", rows[0]);
    assert!(
        rows[0]["note"]
            .as_str()
            .unwrap()
            .contains("no OpenCL device"),
        "{}",
        rows[0]
    );
}
