//! The handshake refuses a worker that is not this executable, with a
//! clear error rather than a hang, and leaves nothing behind.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{isolated, temp_path};
use corun_multiprocessing::test_hooks::{Worker, WorkerOptions};

corun_multiprocessing::enable_test_workers!();

fn spawn_program(program: PathBuf, handshake_timeout: Duration) -> corun_multiprocessing::Error {
    Worker::spawn(&WorkerOptions {
        program: Some(program),
        handshake_timeout,
        ..WorkerOptions::default()
    })
    .unwrap_err()
}

// Checks that a program that exits without a word (not a corun program)
// is reported with how it ended and the rule it breaks.
#[test]
fn a_program_that_exits_is_refused() {
    isolated(|| {
        let err = spawn_program("/bin/true".into(), Duration::from_secs(30));
        assert_eq!(err.kind(), corun::ErrorKind::ProcessStart, "{err}");
        let message = err.to_string();
        assert!(
            message.contains("exited with code 0 before the handshake"),
            "{message}"
        );
        assert!(message.contains("init()"), "{message}");
        assert!(message.contains("enable_test_workers!()"), "{message}");
    });
}

// Checks that a program that never answers is refused after the handshake
// time-out, and killed.
#[test]
fn a_program_that_never_answers_times_out() {
    isolated(|| {
        let script = temp_path("silent.sh");
        std::fs::write(&script, "#!/bin/sh\nexec sleep 60\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let t = Instant::now();
        let err = spawn_program(script.clone(), Duration::from_millis(200));
        corun_test_support::assert_timeout(t.elapsed(), Duration::from_millis(200));
        std::fs::remove_file(&script).unwrap();
        assert_eq!(err.kind(), corun::ErrorKind::ProcessStart, "{err}");
        assert!(
            err.to_string().contains("no handshake within 200ms"),
            "{err}"
        );
    });
}

// Checks that a copy of this very binary — it speaks the protocol, but is
// another file, so code addresses cannot be trusted to match — is refused.
#[test]
fn a_copy_of_this_binary_is_refused() {
    isolated(|| {
        let copy = temp_path("copy");
        std::fs::copy("/proc/self/exe", &copy).unwrap();
        let err = spawn_program(copy.clone(), Duration::from_secs(30));
        std::fs::remove_file(&copy).unwrap();
        assert_eq!(err.kind(), corun::ErrorKind::ProcessStart, "{err}");
        assert!(
            err.to_string().contains("runs a different executable"),
            "{err}"
        );
    });
}

// Checks that a worker of this binary passes the same handshake.
#[test]
fn this_binary_is_accepted() {
    isolated(|| {
        let worker = Worker::spawn(&WorkerOptions {
            program: Some("/proc/self/exe".into()),
            ..WorkerOptions::default()
        })
        .unwrap();
        assert!(worker.is_alive());
    });
}
