//! The handshake that proves a worker runs the same executable as its
//! parent before any code address crosses (see the folder's docs).
//!
//! The parent puts a [`Token`] (its pid and a fresh nonce) in the worker's
//! environment. The worker's first frame is a [`Hello`] with the nonce, its
//! pid, the identity of the file it runs and its code layout fingerprint;
//! the parent compares them with its own in [`check_hello`] and kills a
//! worker that differs.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::launch::command::SELF_EXE;

/// The protocol version; both sides must speak the same.
pub(crate) const PROTOCOL: u32 = 2;

/// What the parent tells a worker through the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    /// The parent's pid; a worker whose parent is not this exits at once.
    pub(crate) parent_pid: u32,
    /// Echoed in the `Hello`, so a parent knows the answer is to this spawn.
    pub(crate) nonce: u64,
}

/// Which file a process runs: what `stat` says of `/proc/self/exe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ExeIdentity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

/// The worker's first frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Hello {
    pub(crate) protocol: u32,
    pub(crate) nonce: u64,
    pub(crate) pid: u32,
    pub(crate) exe: ExeIdentity,
    pub(crate) layout: u64,
}

/// The parent's answer to an accepted `Hello`: who the worker is and how
/// to set it up before it serves calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Setup {
    /// The worker's name (its `current_process().name()`).
    pub(crate) name: String,
    /// The parent's name (the worker's `parent_process().name()`).
    pub(crate) parent_name: String,
    /// The worker's memory limit, in bytes: how much more it may map
    /// (`RLIMIT_DATA` over its `VmData` at setup).
    pub(crate) memory_limit: Option<u64>,
    /// A call's payload to run before serving; its failure is reported
    /// as `InitFailed`.
    pub(crate) initializer: Option<Vec<u8>>,
    /// Exit after the first call: 0 if it returned, 1 if it failed (a
    /// `Process`).
    pub(crate) one_shot: bool,
    /// Calls may be taken back until the worker begins them: the setup
    /// comes with a ring of claims (`claims.rs`), and the worker claims
    /// each call there before running it.
    pub(crate) revocable: bool,
}

/// What the parent expects of a worker's `Hello`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected {
    pub(crate) nonce: u64,
    pub(crate) pid: u32,
    pub(crate) exe: ExeIdentity,
    pub(crate) layout: u64,
}

impl Token {
    /// A token for a worker of this process, with a fresh nonce.
    pub(crate) fn new() -> Self {
        Self {
            parent_pid: std::process::id(),
            nonce: nonce(),
        }
    }

    /// The environment variable's value: `1:<parent pid>:<nonce in hex>`.
    pub(crate) fn encode(&self) -> String {
        format!("{PROTOCOL}:{}:{:016x}", self.parent_pid, self.nonce)
    }

    /// Parses [`encode`](Self::encode)'s output; `None` if it is not one.
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split(':');
        let protocol: u32 = parts.next()?.parse().ok()?;
        let parent_pid = parts.next()?.parse().ok()?;
        let nonce = u64::from_str_radix(parts.next()?, 16).ok()?;
        if protocol != PROTOCOL || parts.next().is_some() {
            return None;
        }
        Some(Self { parent_pid, nonce })
    }
}

impl ExeIdentity {
    /// The identity of the executable this process runs (computed once:
    /// it cannot change while the process lives).
    pub(crate) fn current() -> io::Result<Self> {
        static CURRENT: OnceLock<ExeIdentity> = OnceLock::new();
        if let Some(id) = CURRENT.get() {
            return Ok(*id);
        }
        let m = std::fs::metadata(SELF_EXE)?;
        let id = Self {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        };
        Ok(*CURRENT.get_or_init(|| id))
    }
}

impl Hello {
    /// This worker's `Hello` in answer to `token`.
    pub(crate) fn new(token: &Token) -> io::Result<Self> {
        Ok(Self {
            protocol: PROTOCOL,
            nonce: token.nonce,
            pid: std::process::id(),
            exe: ExeIdentity::current()?,
            layout: crate::crossing::code_address::layout_fingerprint(),
        })
    }
}

impl Expected {
    /// What a worker started with `token` as process `pid` must answer.
    pub(crate) fn new(token: &Token, pid: u32) -> io::Result<Self> {
        Ok(Self {
            nonce: token.nonce,
            pid,
            exe: ExeIdentity::current()?,
            layout: crate::crossing::code_address::layout_fingerprint(),
        })
    }
}

/// Compares a worker's `Hello` with what its parent expects.
///
/// # Errors
///
/// Why the worker is refused, for the error message.
pub(crate) fn check_hello(expected: &Expected, hello: &Hello) -> Result<(), String> {
    if hello.protocol != PROTOCOL {
        return Err(format!(
            "it speaks protocol {} (this process speaks {PROTOCOL})",
            hello.protocol
        ));
    }
    if hello.nonce != expected.nonce || hello.pid != expected.pid {
        return Err("its hello does not answer this spawn (nonce or pid differ)".to_owned());
    }
    if hello.exe != expected.exe {
        return Err(format!(
            "it runs a different executable ({:?}, expected {:?})",
            hello.exe, expected.exe
        ));
    }
    if hello.layout != expected.layout {
        return Err(format!(
            "its code layout differs (fingerprint {:#x}, expected {:#x})",
            hello.layout, expected.layout
        ));
    }
    Ok(())
}

/// 64 bits that differ between calls and between processes: std's
/// randomly keyed hasher over a counter and the time.
fn nonce() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected_and_hello() -> (Expected, Hello) {
        let token = Token::new();
        let hello = Hello::new(&token).unwrap();
        (Expected::new(&token, std::process::id()).unwrap(), hello)
    }

    // Checks that the token survives the environment and that malformed or
    // foreign values are not taken for one.
    #[test]
    fn token_round_trip() {
        let t = Token::new();
        assert_eq!(Token::parse(&t.encode()), Some(t));
        assert_eq!(Token::parse(""), None);
        assert_eq!(Token::parse("2:12:zz"), None);
        assert_eq!(Token::parse("1:12:00ff"), None);
        assert_eq!(Token::parse("3:12:00ff"), None);
        assert_eq!(Token::parse("2:12:00ff:extra"), None);
        assert_ne!(Token::new().nonce, Token::new().nonce);
    }

    // Checks that a worker of the same executable is accepted.
    #[test]
    fn same_executable_is_accepted() {
        let (expected, hello) = expected_and_hello();
        assert_eq!(check_hello(&expected, &hello), Ok(()));
    }

    // Checks each reason a worker is refused: another protocol, an answer
    // to another spawn, another file, another code layout.
    #[test]
    fn mismatches_are_refused() {
        let (expected, hello) = expected_and_hello();
        let refuse = |h: Hello| check_hello(&expected, &h).unwrap_err();
        assert!(
            refuse(Hello {
                protocol: 9,
                ..hello
            })
            .contains("protocol 9")
        );
        assert!(
            refuse(Hello {
                nonce: hello.nonce ^ 1,
                ..hello
            })
            .contains("does not answer")
        );
        assert!(
            refuse(Hello {
                pid: hello.pid + 1,
                ..hello
            })
            .contains("does not answer")
        );
        let other_file = ExeIdentity {
            ino: hello.exe.ino + 1,
            ..hello.exe
        };
        assert!(
            refuse(Hello {
                exe: other_file,
                ..hello
            })
            .contains("different executable")
        );
        let rebuilt = ExeIdentity {
            mtime: hello.exe.mtime + 1,
            ..hello.exe
        };
        assert!(
            refuse(Hello {
                exe: rebuilt,
                ..hello
            })
            .contains("different executable")
        );
        assert!(
            refuse(Hello {
                layout: hello.layout ^ 8,
                ..hello
            })
            .contains("code layout")
        );
    }
}
