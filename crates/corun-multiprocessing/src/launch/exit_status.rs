//! How a process ended, in words and in Python's `exitcode` convention.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// Python's `Process.exitcode` for a finished process: the exit code, or
/// minus the number of the signal that killed it.
///
/// ```
/// use corun::multiprocessing::test_hooks::exitcode;
/// use std::os::unix::process::ExitStatusExt;
/// use std::process::ExitStatus;
///
/// assert_eq!(exitcode(ExitStatus::from_raw(3 << 8)), 3); // exit(3)
/// assert_eq!(exitcode(ExitStatus::from_raw(9)), -9); // SIGKILL
/// ```
pub fn exitcode(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => -signal,
        // Stopped or continued: not an end; report it as the raw status.
        (None, None) => status.into_raw(),
    }
}

/// How a process ended, for error messages: "exited with code 3",
/// "killed by signal 9 (SIGKILL)", "aborted (SIGABRT)", "segmentation fault
/// (SIGSEGV)"; a core dump is mentioned.
///
/// ```
/// use corun::multiprocessing::test_hooks::describe_exit;
/// use std::os::unix::process::ExitStatusExt;
/// use std::process::ExitStatus;
///
/// assert_eq!(describe_exit(ExitStatus::from_raw(3 << 8)), "exited with code 3");
/// assert_eq!(describe_exit(ExitStatus::from_raw(9)), "killed by signal 9 (SIGKILL)");
/// assert_eq!(describe_exit(ExitStatus::from_raw(6)), "aborted (SIGABRT)");
/// ```
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    let Some(signal) = status.signal() else {
        return format!("stopped or continued (status {:#x})", status.into_raw());
    };
    let core = if status.core_dumped() {
        ", core dumped"
    } else {
        ""
    };
    match (signal, signal_name(signal)) {
        (6, _) => format!("aborted (SIGABRT{core})"),
        (11, _) => format!("segmentation fault (SIGSEGV{core})"),
        (7, _) => format!("bus error (SIGBUS{core})"),
        (n, Some(name)) => format!("killed by signal {n} ({name}{core})"),
        (n, None) => format!("killed by signal {n}{core}"),
    }
}

/// The name of a Linux signal number, for the common ones.
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exited(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    fn signalled(signal: i32) -> ExitStatus {
        ExitStatus::from_raw(signal)
    }

    // Checks the words for each way a worker can end that the pool reports.
    #[test]
    fn descriptions() {
        assert_eq!(describe_exit(exited(0)), "exited with code 0");
        assert_eq!(describe_exit(exited(101)), "exited with code 101");
        assert_eq!(describe_exit(signalled(9)), "killed by signal 9 (SIGKILL)");
        assert_eq!(
            describe_exit(signalled(15)),
            "killed by signal 15 (SIGTERM)"
        );
        assert_eq!(describe_exit(signalled(6)), "aborted (SIGABRT)");
        assert_eq!(describe_exit(signalled(11)), "segmentation fault (SIGSEGV)");
        assert_eq!(
            describe_exit(ExitStatus::from_raw(11 | 0x80)),
            "segmentation fault (SIGSEGV, core dumped)"
        );
        assert_eq!(describe_exit(signalled(40)), "killed by signal 40");
    }

    // Checks Python's convention: the code, or minus the signal.
    #[test]
    fn exitcodes() {
        assert_eq!(exitcode(exited(0)), 0);
        assert_eq!(exitcode(exited(3)), 3);
        assert_eq!(exitcode(signalled(6)), -6);
        assert_eq!(exitcode(signalled(9)), -9);
        assert_eq!(exitcode(signalled(15)), -15);
    }
}
