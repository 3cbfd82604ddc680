//! `Claims`: which calls a pool's worker has begun, in memory it shares
//! with its parent, so that the parent can take back a call it wrote ahead
//! (behind the one the worker runs) until the moment the worker begins it.
//!
//! One word per call, in a ring of [`SLOTS`] words indexed by the call's
//! id: `id << 2 | state`, the state one of
//!
//! - *offered*: written by the parent before the call's frame;
//! - *claimed*: the worker's compare-and-swap from *offered*, before it runs
//!   the call;
//! - *revoked*: the parent's compare-and-swap from *offered* (a cancelled
//!   task, or a call an idle worker takes over). The worker skips the call
//!   without a reply.
//!
//! Both swaps expect *offered* with the same id, so exactly one wins. The
//! parent keeps fewer than `SLOTS / 2` calls in a worker at once and its
//! ids are consecutive, so a word is offered again only after the worker
//! has read the call that held it before.
//!
//! The ring lives in a `memfd` the parent creates and sends to the worker
//! with its setup; nothing is left in `/dev/shm`.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::MemfdFlags;
use rustix::mm::{MapFlags, ProtFlags};

/// Words in the ring: more than twice the calls a pool keeps in a worker.
pub(crate) const SLOTS: usize = 64;

/// The ring's size in bytes.
const LEN: usize = SLOTS * std::mem::size_of::<AtomicU64>();

const OFFERED: u64 = 1;
const CLAIMED: u64 = 2;
const REVOKED: u64 = 3;

/// One worker's ring of claims, mapped in this process.
pub(crate) struct Claims {
    ring: NonNull<AtomicU64>,
}

// SAFETY: the mapping is only ever read and written through atomics, from
// any thread; it stays mapped until the `Claims` is dropped.
unsafe impl Send for Claims {}
// SAFETY: as for `Send`: every access is atomic.
unsafe impl Sync for Claims {}

/// What the worker may do with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Run it: it is claimed.
    Run,
    /// Skip it: the parent took it back.
    Skip,
}

impl Claims {
    /// A new ring (every word zero: nothing offered), and the descriptor
    /// to send to the worker.
    pub(crate) fn create() -> io::Result<(Self, OwnedFd)> {
        let fd = rustix::fs::memfd_create("corun-claims", MemfdFlags::CLOEXEC)?;
        rustix::fs::ftruncate(&fd, LEN as u64)?;
        let claims = Self::map(&fd)?;
        Ok((claims, fd))
    }

    /// Maps the ring the parent sent.
    pub(crate) fn attach(fd: &OwnedFd) -> io::Result<Self> {
        let size = rustix::fs::fstat(fd)?.st_size;
        if usize::try_from(size).ok() != Some(LEN) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a ring of claims of {size} bytes, not {LEN}"),
            ));
        }
        Self::map(fd)
    }

    fn map(fd: impl AsFd) -> io::Result<Self> {
        // SAFETY: a fresh shared mapping of the `LEN` bytes of `fd`, placed
        // where the kernel chooses; nothing else refers to that range.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                LEN,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                fd,
                0,
            )?
        };
        let ring = NonNull::new(ptr.cast::<AtomicU64>())
            .ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(Self { ring })
    }

    fn word(&self, id: u64) -> &AtomicU64 {
        let index = (id % SLOTS as u64) as usize;
        // SAFETY: `index < SLOTS`, the mapping holds `SLOTS` words, page
        // aligned, and lives as long as `self`; `AtomicU64` has the layout
        // of a `u64`, and every process touches the words atomically only.
        unsafe { &*self.ring.as_ptr().add(index) }
    }

    /// Parent: marks call `id` offered, before its frame is written.
    pub(crate) fn offer(&self, id: u64) {
        self.word(id).store(tag(id, OFFERED), Ordering::Release);
    }

    /// Parent: takes call `id` back unless the worker has claimed it;
    /// whether it is (now or already) revoked.
    pub(crate) fn revoke(&self, id: u64) -> bool {
        match self.word(id).compare_exchange(
            tag(id, OFFERED),
            tag(id, REVOKED),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => true,
            Err(now) => now == tag(id, REVOKED),
        }
    }

    /// Worker: claims call `id` before running it.
    ///
    /// # Errors
    ///
    /// When the call was never offered (a protocol error).
    pub(crate) fn claim(&self, id: u64) -> Result<Claim, String> {
        match self.word(id).compare_exchange(
            tag(id, OFFERED),
            tag(id, CLAIMED),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => Ok(Claim::Run),
            Err(now) if now == tag(id, REVOKED) => Ok(Claim::Skip),
            Err(now) => Err(format!(
                "call {id} was not offered (its word holds {now:#x})"
            )),
        }
    }
}

fn tag(id: u64, state: u64) -> u64 {
    id << 2 | state
}

impl Drop for Claims {
    fn drop(&mut self) {
        // SAFETY: the range mapped in `map`, which nothing uses any more:
        // every reference to a word borrows `self`.
        let _ = unsafe { rustix::mm::munmap(self.ring.as_ptr().cast(), LEN) };
    }
}

impl std::fmt::Debug for Claims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Checks the one-winner rule: a claimed call cannot be revoked, a
    // revoked one cannot be claimed (and revoking again says so), a call
    // never offered is a protocol error; both mappings see the same words.
    #[test]
    fn claim_and_revoke_exclude_each_other() {
        let (parent, fd) = Claims::create().unwrap();
        let worker = Claims::attach(&fd).unwrap();
        parent.offer(1);
        parent.offer(2);
        assert_eq!(worker.claim(1), Ok(Claim::Run));
        assert!(!parent.revoke(1));
        assert!(parent.revoke(2));
        assert!(parent.revoke(2));
        assert_eq!(worker.claim(2), Ok(Claim::Skip));
        assert!(worker.claim(3).is_err());
        // The word of 1 again, for 1 + SLOTS.
        parent.offer(1 + SLOTS as u64);
        assert!(worker.claim(1).is_err());
        assert_eq!(worker.claim(1 + SLOTS as u64), Ok(Claim::Run));
    }
}
