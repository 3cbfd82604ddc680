//! A worker's memory limit (see "Memory limit" in the `workers` module's
//! docs): `RLIMIT_DATA` set to what the worker has mapped when
//! it gets its setup plus the limit, and a `SIGABRT` handler that tells
//! the parent when a failed allocation is what aborted the worker.
//!
//! Why `RLIMIT_DATA`, relative to the worker's usage: `RLIMIT_AS` counts
//! address space, reservations included, and is checked only when a
//! mapping is made. glibc's malloc reserves 64 MiB for each thread's arena
//! (`PROT_NONE`) and makes it writable piece by piece with `mprotect`,
//! which `RLIMIT_AS` never sees: under a 1 MiB `RLIMIT_AS`, a worker whose
//! arena was reserved before the limit allocated 32 MiB. Since Linux 4.7,
//! `RLIMIT_DATA` counts private writable mappings (`VmData`) and is
//! checked by `mmap`, `mremap`, `brk` and `mprotect` alike, so every way
//! the allocator grows is held to it; reservations do not count until
//! made writable. Both limits are absolute, and a worker already has some
//! megabytes mapped before its first call (its thread's stack, the
//! runtime's and the allocator's first pieces), so the limit is set at
//! `VmData` plus the bytes asked for: a 1 MiB limit means 1 MiB more.
//! `mallopt` tweaks (`M_ARENA_MAX`, `M_MMAP_THRESHOLD`) are not needed:
//! every path is counted.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

use crate::crossing::wire::Kind;

/// The socket to the parent, for the handler; -1 until a limit is set.
static SOCKET: AtomicI32 = AtomicI32::new(-1);

/// Whether the worker is writing a frame to the parent: the handler must
/// not put its frame in the middle of one.
static WRITING: AtomicBool = AtomicBool::new(false);

/// Caps what the worker may map beyond what it has mapped now at `limit`
/// bytes (never raising a lower `RLIMIT_DATA` it inherited), and installs
/// the handler that reports an allocation failure to the parent on
/// `socket`.
pub(crate) fn apply(limit: u64, socket: BorrowedFd<'_>) -> Result<(), String> {
    let cannot = |why: String| format!("cannot set the memory limit to {limit} bytes: {why}");
    check_kernel().map_err(cannot)?;
    let mapped = data_mapped().map_err(cannot)?;
    let old = getrlimit(Resource::Data);
    let ceiling = [Some(mapped.saturating_add(limit)), old.current, old.maximum]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(u64::MAX);
    setrlimit(
        Resource::Data,
        Rlimit {
            current: Some(ceiling),
            maximum: old.maximum,
        },
    )
    .map_err(|e| cannot(e.to_string()))?;
    SOCKET.store(socket.as_raw_fd(), Ordering::Relaxed);
    install_handler().map_err(|e| cannot(format!("cannot handle SIGABRT: {e}")))
}

/// What a worker that reported an allocation failure under `limit` did,
/// for an error: "worker process N {this} and aborted".
pub(crate) fn out_of_memory(limit: u64) -> String {
    format!("ran out of memory (an allocation failed past its memory limit of {limit} bytes)")
}

/// Marks the start (`true`) and end of a write to the parent.
pub(crate) fn writing(now: bool) {
    WRITING.store(now, Ordering::Relaxed);
}

/// Clears `errno` before a call, so that an abort after it tells an
/// allocation failure in this call from an older one.
pub(crate) fn before_call() {
    if SOCKET.load(Ordering::Relaxed) >= 0 {
        set_errno(0);
    }
}

/// `RLIMIT_DATA` counts every private writable mapping only since Linux
/// 4.7; before, it limited the `brk` heap alone.
fn check_kernel() -> Result<(), String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_err(|e| format!("cannot read the kernel's version: {e}"))?;
    let release = release.trim();
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let version = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    if version < (4, 7) {
        return Err(format!("it needs Linux 4.7 or later, this is {release}"));
    }
    Ok(())
}

/// `VmData` of `/proc/self/status`, in bytes: what `RLIMIT_DATA` is
/// checked against.
fn data_mapped() -> Result<u64, String> {
    let status = std::fs::read("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    vm_data(&status).ok_or_else(|| "no VmData in /proc/self/status".to_owned())
}

/// The `VmData:` line of a `/proc/<pid>/status` text, in bytes; without
/// allocating, for the signal handler.
fn vm_data(status: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"VmData:";
    let at = status.windows(KEY.len()).position(|w| w == KEY)?;
    let mut kib: Option<u64> = None;
    for &b in &status[at + KEY.len()..] {
        match b {
            b'0'..=b'9' => kib = Some(kib.unwrap_or(0) * 10 + u64::from(b - b'0')),
            b' ' | b'\t' if kib.is_none() => {}
            _ => break,
        }
    }
    kib.and_then(|k| k.checked_mul(1024))
}

fn install_handler() -> std::io::Result<()> {
    // SAFETY: a zeroed `sigaction` is a valid value (no flags, empty
    // mask), filled in below; `on_abort` is an `extern "C"` function of
    // the signature a plain handler has.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_abort as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESETHAND;
        libc::sigemptyset(&raw mut action.sa_mask);
        if libc::sigaction(libc::SIGABRT, &raw const action, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn errno() -> libc::c_int {
    // SAFETY: `__errno_location` returns this thread's errno, always valid.
    unsafe { *libc::__errno_location() }
}

fn set_errno(value: libc::c_int) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = value }
}

/// The `SIGABRT` handler: when `errno` says that the last thing to fail
/// on this thread was an allocation (`ENOMEM`), sends the parent an
/// `OutOfMemory` frame — unless a frame is being written, which it would
/// cut. Then the abort goes on: the handler was reset to the default
/// action.
extern "C" fn on_abort(_: libc::c_int) {
    let saved = errno();
    let fd = SOCKET.load(Ordering::Relaxed);
    if saved == libc::ENOMEM && fd >= 0 && !WRITING.load(Ordering::Relaxed) {
        let frame = [0, 0, 0, 0, Kind::OutOfMemory as u8];
        // SAFETY: `send` is async-signal-safe, and reads `frame.len()`
        // bytes of a local array; it never blocks (`MSG_DONTWAIT`): a full
        // socket loses the frame, and the error says less.
        unsafe {
            libc::send(
                fd,
                frame.as_ptr().cast(),
                frame.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            );
        }
    }
    set_errno(saved);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_data_reads_the_line_in_bytes() {
        let status = b"Name:\tx\nVmPeak:\t  9 kB\nVmData:\t    2436 kB\nVmStk:\t 132 kB\n";
        assert_eq!(vm_data(status), Some(2436 * 1024));
        assert_eq!(vm_data(b"VmData:\t0 kB"), Some(0));
        assert_eq!(vm_data(b"VmData:\t kB"), None);
        assert_eq!(vm_data(b"Name:\tx\n"), None);
    }

    #[test]
    fn this_process_has_data_mapped() {
        assert!(data_mapped().unwrap() > 0);
    }
}
