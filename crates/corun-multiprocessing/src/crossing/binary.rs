//! A fingerprint of the executable this process runs, for calls that
//! leave the machine: a call names its code by offsets (see
//! `code_address.rs`), so only an identical binary may run it. Workers on
//! this machine prove that in the handshake instead (`handshake.rs`).

use std::fs::File;
use std::hash::Hasher;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::OnceLock;

use crate::crossing::code_address::Fnv1a;
use crate::launch::command::SELF_EXE;

/// A 64-bit fingerprint of the executable this process runs: FNV-1a over
/// the bytes of its file.
///
/// Two processes of the same binary — on this machine or another, started
/// from any path — get the same value; a rebuilt or different binary gets
/// another (barring a 64-bit hash collision). An executor that carries a
/// process pool's calls to other machines puts it where calls are routed
/// (a cluster's subjects), so that a call reaches only workers that can
/// run it; [`Call::from_bytes`](crate::remote::Call::from_bytes) checks it
/// again.
///
/// The file is read once, on the first use (the value is then kept for
/// the life of the process), through `/proc/self/exe`, which stays the
/// running file even if its path has since been replaced or removed. If it
/// cannot be read, the fingerprint falls back to a hash of the
/// executable's path, size and modification time: the same for processes
/// of the same file on this machine, but different on another machine,
/// so calls then do not cross machines. Never zero.
///
/// ```standalone_crate
/// use corun::multiprocessing::remote::binary_fingerprint;
///
/// corun::multiprocessing::init();
/// assert_ne!(binary_fingerprint(), 0);
/// assert_eq!(binary_fingerprint(), binary_fingerprint());
/// ```
pub fn binary_fingerprint() -> u64 {
    static FINGERPRINT: OnceLock<u64> = OnceLock::new();
    *FINGERPRINT.get_or_init(|| {
        hash_file(Path::new(SELF_EXE))
            .unwrap_or_else(|_| fallback())
            .max(1)
    })
}

/// FNV-1a over the bytes of the file at `path`.
fn hash_file(path: &Path) -> io::Result<u64> {
    let mut file = File::open(path)?;
    let mut hash = Fnv1a::default();
    let mut buf = vec![0; 1 << 16];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(hash.finish()),
            Ok(n) => hash.write(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// FNV-1a over the executable's path, size and modification time (what
/// can be learnt of it without reading it).
fn fallback() -> u64 {
    let mut hash = Fnv1a::default();
    hash.write(b"corun: an unreadable executable");
    if let Ok(path) = std::env::current_exe() {
        hash.write(path.as_os_str().as_bytes());
        if let Ok(meta) = std::fs::metadata(&path) {
            hash.write_u64(meta.size());
            hash.write_i64(meta.mtime());
            hash.write_i64(meta.mtime_nsec());
        }
    }
    hash.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Checks that the fingerprint is that of the file's bytes, stable, and
    // tells files apart by their contents only.
    #[test]
    fn fingerprint_is_the_files_hash() {
        assert_eq!(binary_fingerprint(), binary_fingerprint());
        assert_eq!(
            binary_fingerprint(),
            hash_file(Path::new(SELF_EXE)).unwrap()
        );
        let dir = std::env::temp_dir();
        let pid = std::process::id();
        let (a, b, c) = (
            dir.join(format!("corun-fp-{pid}-a")),
            dir.join(format!("corun-fp-{pid}-b")),
            dir.join(format!("corun-fp-{pid}-c")),
        );
        std::fs::write(&a, b"one binary").unwrap();
        std::fs::write(&b, b"one binary").unwrap();
        std::fs::write(&c, b"one binarz").unwrap();
        let hashes = [&a, &b, &c].map(|p| hash_file(p).unwrap());
        for p in [a, b, c] {
            std::fs::remove_file(p).unwrap();
        }
        assert_eq!(hashes[0], hashes[1]);
        assert_ne!(hashes[0], hashes[2]);
        assert!(hash_file(Path::new("/nonexistent/corun")).is_err());
        assert_ne!(fallback(), hashes[0]);
    }
}
