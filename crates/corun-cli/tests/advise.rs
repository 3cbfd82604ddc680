//! `corun advise -- CMD ARGS`: real commands, classified by what they do.
//! The assertions are on the verdict and the exit status, never on timings.

use std::process::{Command, Output};

fn advise(command: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corun"))
        .arg("advise")
        .arg("--")
        .args(command)
        .output()
        .expect("corun runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The report with its lines joined, so a phrase wrapped across two lines
/// still matches.
fn flat(output: &Output) -> String {
    stderr(output)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn verdict(output: &Output) -> String {
    let text = stderr(output);
    text.lines()
        .find_map(|line| line.strip_prefix("verdict: "))
        .unwrap_or_else(|| panic!("no verdict in:\n{text}"))
        .to_owned()
}

/// A busy loop in the shell itself (builtins only, no child processes).
#[test]
fn a_busy_loop_is_cpu_bound() {
    let output = advise(&[
        "sh",
        "-c",
        "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(verdict(&output), "CPU-bound", "{}", stderr(&output));
    let text = flat(&output);
    assert!(text.contains("cores busy"), "{text}");
    assert!(
        text.contains("ThreadPoolExecutor with max_workers = "),
        "{text}"
    );
}

/// The classic example, `sum(i * i for i in range(n))` in Python. Run as
/// the interpreter's own path: a version manager's shim would run helper
/// processes first, whose waits for a core on a busy machine corun cannot
/// see.
#[test]
fn the_python_sum_of_squares_is_cpu_bound() {
    let Ok(found) = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
    else {
        eprintln!("skipped: no python3");
        return;
    };
    let python = String::from_utf8(found.stdout).expect("a UTF-8 path");
    let output = advise(&[python.trim(), "-c", "sum(i * i for i in range(3_000_000))"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(verdict(&output), "CPU-bound", "{}", stderr(&output));
}

#[test]
fn sleeping_is_io_bound() {
    let output = advise(&["sleep", "0.5"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(verdict(&output), "I/O-bound", "{}", stderr(&output));
    let text = flat(&output);
    assert!(text.contains("corun::asyncio"), "{text}");
    assert!(
        text.contains("concurrent waits would keep every core busy"),
        "{text}"
    );
}

/// The command keeps its stdout: the report goes to stderr.
#[test]
fn the_command_output_is_its_own() {
    let output = advise(&["echo", "hello from the command"]);
    assert_eq!(output.stdout, b"hello from the command\n");
    assert!(stderr(&output).contains("verdict: "));
}

#[test]
fn a_failing_command_exit_code_passes_through() {
    let output = advise(&["sh", "-c", "exit 3"]);
    assert_eq!(output.status.code(), Some(3));
    let text = stderr(&output);
    assert!(text.contains("exited with 3 (failed)"), "{text}");
    assert!(text.contains("wall time"), "{text}");
    verdict(&output);
}

#[test]
fn a_killed_command_exits_with_128_plus_the_signal() {
    let output = advise(&["sh", "-c", "kill -9 $$"]);
    assert_eq!(output.status.code(), Some(128 + 9));
    let text = stderr(&output);
    assert!(text.contains("killed by signal 9"), "{text}");
    assert!(text.contains("CPU time"), "{text}");
}

#[test]
fn a_missing_program_is_a_clear_error() {
    let output = advise(&["corun-no-such-program-here", "x"]);
    assert_eq!(output.status.code(), Some(127));
    let text = stderr(&output);
    assert!(
        text.contains("cannot run `corun-no-such-program-here`: no such program"),
        "{text}"
    );
    assert!(!text.contains("verdict"), "{text}");
}

#[test]
fn no_command_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_corun"))
        .arg("advise")
        .output()
        .expect("corun runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("<CMD>"), "{}", stderr(&output));
}
