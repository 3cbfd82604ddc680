//! What std does not offer, in one place: waiting for a child with its
//! resource usage, this process's CPU time, ignoring the terminal's
//! interrupt keys (libc calls: the crate's only unsafe code); and the
//! kernel's run-queue and memory figures.

#![allow(unsafe_code)]

use std::io;
use std::process::ExitStatus;
use std::time::Duration;

use std::os::unix::process::ExitStatusExt;

use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};

use crate::advise::Measurements;

/// Reaps child `pid` (which std's `Child` must then never wait for)
/// and returns its exit status and resource usage; `wall` is left zero.
pub(crate) fn wait_with_usage(pid: u32) -> io::Result<(ExitStatus, Measurements)> {
    let raw = i32::try_from(pid).map_err(io::Error::other)?;
    let child = Pid::from_raw(raw).ok_or_else(|| io::Error::other("pid 0"))?;
    // Wait for the exit but leave the zombie, to read its run-queue time.
    loop {
        match waitid(
            WaitId::Pid(child),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {
            Ok(_) => break,
            Err(rustix::io::Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    let run_delay = run_delay(pid).unwrap_or_default();
    let pid = libc::pid_t::from(raw);
    let mut status: libc::c_int = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    loop {
        // SAFETY: `status` and `usage` are valid, writable and live
        // across the call; `pid` is our own unreaped child, so this
        // reaps no process another part of the program waits for.
        let reaped = unsafe { libc::wait4(pid, &raw mut status, 0, usage.as_mut_ptr()) };
        if reaped == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    // SAFETY: zero is a valid rusage, and wait4 filled it in on success.
    let usage = unsafe { usage.assume_init() };
    let count = |n: libc::c_long| u64::try_from(n).unwrap_or(0);
    // Linux reports ru_maxrss in KiB, macOS in bytes.
    let rss_unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
    let m = Measurements {
        wall: Duration::ZERO,
        run_delay,
        user: timeval(usage.ru_utime),
        system: timeval(usage.ru_stime),
        voluntary_switches: count(usage.ru_nvcsw),
        involuntary_switches: count(usage.ru_nivcsw),
        peak_rss: count(usage.ru_maxrss).saturating_mul(rss_unit),
    };
    Ok((ExitStatus::from_raw(status), m))
}

/// How long the main thread of process `pid` was ready to run but had
/// no core: the second field of `/proc/PID/schedstat`, in nanoseconds
/// (Linux only; a zombie still has it).
fn run_delay(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    let nanos = stat.split_whitespace().nth(1)?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// This process's peak resident set size so far (`VmHWM`; Linux only).
pub(crate) fn own_peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Ignores SIGINT and SIGQUIT in this process from now on, as `time`
/// does while its command runs: Ctrl-C then ends the command (it is in
/// the same process group) and the report still comes. Called after
/// the child is spawned, so the child keeps the default handlers.
pub(crate) fn ignore_interrupts() {
    for signal in [libc::SIGINT, libc::SIGQUIT] {
        // SAFETY: SIG_IGN installs no handler code; signal() has no
        // memory-safety preconditions for a valid signal number.
        unsafe {
            libc::signal(signal, libc::SIG_IGN);
        }
    }
}
/// The CPU time (user + system) of this process's threads, and of the
/// children it has waited for, at microsecond precision (`getrusage`).
pub(crate) fn cpu_time() -> io::Result<(Duration, Duration)> {
    let usage = |who| {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: `usage` is valid and writable for the call.
        if unsafe { libc::getrusage(who, usage.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: zero is a valid rusage, and getrusage filled it in.
        let usage = unsafe { usage.assume_init() };
        Ok(timeval(usage.ru_utime) + timeval(usage.ru_stime))
    };
    Ok((usage(libc::RUSAGE_SELF)?, usage(libc::RUSAGE_CHILDREN)?))
}

/// A `timeval` as a duration (negative fields as zero).
fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}
