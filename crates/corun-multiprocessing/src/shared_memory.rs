//! [`SharedMemory`]: Python's `multiprocessing.shared_memory.SharedMemory`,
//! a named block of memory that several processes map at once.
//!
//! A segment is a POSIX shared-memory object (`/dev/shm/<name>`), created
//! with mode 0600 under an unpredictable name unless one is given.
//!
//! # Who removes a segment
//!
//! Python leaves this to a resource tracker that unlinks a segment when
//! *any* process that registered it exits, even while others still use it
//! (gh-82300), and leaves segments behind when the tracker is killed. corun
//! counts users instead, with the kernel's help:
//!
//! - every handle holds a shared `flock` on its own open file description
//!   for as long as it lives; the kernel drops it when the handle is
//!   dropped *or the process dies*, however it dies;
//! - when a handle is dropped it asks for the lock exclusively, without
//!   waiting: that succeeds only if no other handle, in any process, is
//!   open, and then it unlinks the name — so a segment goes away with its
//!   last user and never before;
//! - when every user crashed, the creator's tracker process (see
//!   `tracker.rs`) waits for that same exclusive lock and unlinks the name:
//!   nothing is left in `/dev/shm`.
//!
//! So a segment lives as long as some handle to it is open. A process that
//! wants to attach by name later must keep a handle open meanwhile, or the
//! segment is gone; [`unlink`](SharedMemory::unlink) removes the name at
//! once (mappings stay valid), as in Python.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, Mode};
use rustix::mm::{MapFlags, ProtFlags};
use rustix::shm;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The prefix of the names corun makes up; the tracker sweeps orphans with
/// this prefix.
pub(crate) const PREFIX: &str = "corun-";
/// Where Linux keeps POSIX shared-memory objects.
pub(crate) const DIR: &str = "/dev/shm";
/// The longest name accepted (`NAME_MAX` is 255; keep room to spare).
const MAX_NAME: usize = 200;

/// A block of memory shared between processes, by name.
///
/// Cloning a handle is cheap and shares one mapping. A handle can be
/// passed to a worker as (part of) an argument: it travels as its name
/// and the worker attaches to the same memory.
///
/// Access is through raw pointers or the checked copies
/// [`read_at`](Self::read_at) / [`write_at`](Self::write_at): other
/// processes may write at any moment, which Rust references cannot
/// express. [`as_slice`](Self::as_slice) lends a slice to code that knows
/// no process writes meanwhile.
///
/// # Examples
///
/// ```
/// use corun_multiprocessing::SharedMemory;
///
/// fn main() -> std::io::Result<()> {
///     corun_multiprocessing::init(); // the cleanup tracker is a re-run of this program
///
///     let block = SharedMemory::create(4096)?;
///     block.write_at(0, b"hello")?;
///
///     let same = SharedMemory::attach(block.name())?; // as another process would
///     let mut read = [0; 5];
///     same.read_at(0, &mut read)?;
///     assert_eq!(&read, b"hello");
///     assert!(block.size() >= 4096);
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct SharedMemory {
    map: Arc<Mapping>,
}

/// One mapping of a segment, with the open file description whose shared
/// lock counts this handle as a user.
struct Mapping {
    name: String,
    fd: OwnedFd,
    ptr: NonNull<u8>,
    len: usize,
    ino: u64,
    dev: u64,
}

// SAFETY: the mapping is plain shared memory owned by this value until it
// is dropped; every access goes through raw pointers or atomics, which any
// thread may use.
unsafe impl Send for Mapping {}
// SAFETY: as for `Send`: `&Mapping` hands out nothing but the pointer.
unsafe impl Sync for Mapping {}

impl SharedMemory {
    /// Creates a segment of at least `size` bytes, zeroed, under a new
    /// unpredictable name (`corun-` and 24 random hex digits).
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `size` is 0; the system's error when the segment
    /// cannot be made, or the cleanup tracker cannot be started (the
    /// program's `main` must call [`init`](crate::init) first).
    pub fn create(size: usize) -> io::Result<Self> {
        loop {
            match Self::create_named(&random_name()?, size) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                other => return other,
            }
        }
    }

    /// Creates a segment named `name` (no `/`), of at least `size` bytes,
    /// zeroed.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` when the name is taken; `InvalidInput` for a bad
    /// name or a `size` of 0; as [`create`](Self::create) otherwise.
    pub fn create_named(name: &str, size: usize) -> io::Result<Self> {
        check_name(name)?;
        if size == 0 {
            return Err(invalid("a shared memory segment needs a size above 0"));
        }
        let len = page_round(size)?;
        // Mode 0 until it is fully made: a tracker sweeping orphans skips
        // segments that are still being created.
        let fd = shm::open(
            name,
            shm::OFlags::CREATE | shm::OFlags::EXCL | shm::OFlags::RDWR,
            Mode::empty(),
        )
        .map_err(|e| named_error(e.into(), "create", name))?;
        let made = (|| {
            rustix::fs::flock(&fd, FlockOperation::LockShared)?;
            rustix::fs::ftruncate(&fd, len as u64)?;
            crate::tracker::register(name)?;
            rustix::fs::fchmod(&fd, Mode::RUSR | Mode::WUSR)?;
            Self::map(name, fd, len)
        })();
        if made.is_err() {
            let _ = shm::unlink(name);
            crate::tracker::unregister(name);
        }
        made.map_err(|e| named_error(e, "create", name))
    }

    /// Attaches to the existing segment `name`, as
    /// `SharedMemory(name)` does in Python.
    ///
    /// # Errors
    ///
    /// `NotFound` when no segment has that name (or it was unlinked while
    /// attaching); `InvalidInput` for a bad name.
    pub fn attach(name: &str) -> io::Result<Self> {
        check_name(name)?;
        let fd = shm::open(name, shm::OFlags::RDWR, Mode::empty())
            .map_err(|e| named_error(e.into(), "attach to", name))?;
        let attached = (|| {
            wait_made(&fd)?;
            rustix::fs::flock(&fd, FlockOperation::LockShared)?;
            // The name may have been unlinked between our open and lock.
            let stat = rustix::fs::fstat(&fd)?;
            if !still_named(name, stat.st_dev, stat.st_ino) {
                return Err(io::Error::from(io::ErrorKind::NotFound));
            }
            let len = usize::try_from(stat.st_size).map_err(|_| invalid("size out of range"))?;
            if len == 0 {
                return Err(invalid("the segment has size 0"));
            }
            Self::map(name, fd, len)
        })();
        attached.map_err(|e| named_error(e, "attach to", name))
    }

    fn map(name: &str, fd: OwnedFd, len: usize) -> io::Result<Self> {
        let stat = rustix::fs::fstat(&fd)?;
        // SAFETY: a fresh shared mapping of `len` bytes of `fd`, placed
        // where the kernel chooses; nothing else refers to that range.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                &fd,
                0,
            )?
        };
        let ptr =
            NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(Self {
            map: Arc::new(Mapping {
                name: name.to_owned(),
                fd,
                ptr,
                len,
                ino: stat.st_ino,
                dev: stat.st_dev,
            }),
        })
    }

    /// The segment's name, without a leading `/`: what
    /// [`attach`](Self::attach) takes.
    pub fn name(&self) -> &str {
        &self.map.name
    }

    /// The size in bytes: the size asked for, rounded up to whole pages.
    pub fn size(&self) -> usize {
        self.map.len
    }

    /// The start of the mapping in this process. Valid for
    /// [`size`](Self::size) bytes while this handle (or a clone) lives.
    pub fn as_ptr(&self) -> *mut u8 {
        self.map.ptr.as_ptr()
    }

    /// The whole segment as a byte slice.
    ///
    /// # Safety
    ///
    /// No process may write to the segment while the slice lives (for
    /// example: the data was written before the segment was handed over,
    /// and the writer waits for an answer).
    pub unsafe fn as_slice(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes while `self` lives;
        // the caller promises nobody writes meanwhile.
        unsafe { std::slice::from_raw_parts(self.as_ptr(), self.size()) }
    }

    /// The whole segment as a mutable byte slice.
    ///
    /// # Safety
    ///
    /// No other process or thread may read or write the segment while the
    /// slice lives, and no other slice of it may exist.
    #[allow(clippy::mut_from_ref, reason = "the caller vouches for exclusivity")]
    pub unsafe fn as_mut_slice(&self) -> &mut [u8] {
        // SAFETY: the mapping is `len` writable bytes while `self` lives;
        // the caller promises exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.as_ptr(), self.size()) }
    }

    /// Copies `buf.len()` bytes from `offset` into `buf`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the range passes the end of the segment.
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> io::Result<()> {
        self.check_range(offset, buf.len())?;
        // SAFETY: the range is inside the mapping (checked above), and
        // `buf` is ours; a concurrent writer can only make the bytes stale.
        unsafe {
            std::ptr::copy_nonoverlapping(self.as_ptr().add(offset), buf.as_mut_ptr(), buf.len());
        }
        Ok(())
    }

    /// Copies `data` into the segment at `offset`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the range passes the end of the segment.
    pub fn write_at(&self, offset: usize, data: &[u8]) -> io::Result<()> {
        self.check_range(offset, data.len())?;
        // SAFETY: the range is inside the mapping (checked above), which
        // is writable shared memory that no Rust reference covers.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.as_ptr().add(offset), data.len());
        }
        Ok(())
    }

    fn check_range(&self, offset: usize, len: usize) -> io::Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size() => Ok(()),
            _ => Err(invalid(format!(
                "bytes {offset}..{offset}+{len} pass the end of segment {} ({} bytes)",
                self.name(),
                self.size()
            ))),
        }
    }

    /// Removes the name now, as Python's `unlink()`: no process can attach
    /// any more, while every existing mapping stays valid until dropped.
    ///
    /// # Errors
    ///
    /// `NotFound` when the name was already removed.
    pub fn unlink(&self) -> io::Result<()> {
        let removed = if still_named(self.name(), self.map.dev, self.map.ino) {
            shm::unlink(self.name()).map_err(io::Error::from)
        } else {
            Err(io::Error::from(io::ErrorKind::NotFound))
        };
        crate::tracker::unregister(self.name());
        removed.map_err(|e| named_error(e, "unlink", self.name()))
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the range was mapped by `SharedMemory::map` and every
        // handle that could reach it is gone (this is the last `Arc`).
        let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), self.len) };
        // The last user anywhere gets the lock exclusively, and removes the
        // name; any other user still holds its shared lock, and so refuses.
        if rustix::fs::flock(&self.fd, FlockOperation::NonBlockingLockExclusive).is_ok()
            && still_named(&self.name, self.dev, self.ino)
        {
            let _ = shm::unlink(self.name.as_str());
            crate::tracker::unregister(&self.name);
        }
    }
}

impl fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedMemory")
            .field("name", &self.name())
            .field("size", &self.size())
            .finish()
    }
}

/// Serialised as its name: the receiving process attaches.
impl Serialize for SharedMemory {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for SharedMemory {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::attach(&name).map_err(serde::de::Error::custom)
    }
}

/// Whether `/dev/shm/<name>` is still the object `(dev, ino)`.
pub(crate) fn still_named(name: &str, dev: u64, ino: u64) -> bool {
    rustix::fs::stat(format!("{DIR}/{name}"))
        .is_ok_and(|stat| stat.st_dev == dev && stat.st_ino == ino)
}

/// Whether a segment is still being made: its creator gives it mode 0600
/// only once it is complete.
pub(crate) fn being_made(fd: impl AsFd) -> bool {
    rustix::fs::fstat(fd).is_ok_and(|stat| stat.st_mode & 0o777 == 0)
}

/// Waits (at most a second) for a segment opened by name to be complete.
fn wait_made(fd: &OwnedFd) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1);
    while being_made(fd) {
        if Instant::now() > deadline {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "its creator has not finished making it",
            ));
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    Ok(())
}

fn page_round(size: usize) -> io::Result<usize> {
    let page = rustix::param::page_size();
    size.checked_next_multiple_of(page)
        .ok_or_else(|| invalid(format!("a segment of {size} bytes is too large")))
}

fn random_name() -> io::Result<String> {
    let mut bytes = [0u8; 12];
    let mut filled = 0;
    while filled < bytes.len() {
        filled +=
            rustix::rand::getrandom(&mut bytes[filled..], rustix::rand::GetRandomFlags::empty())?;
    }
    let mut name = String::from(PREFIX);
    for b in bytes {
        name.push_str(&format!("{b:02x}"));
    }
    Ok(name)
}

fn check_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name.len() > MAX_NAME || name.contains('/') || name == "." || name == ".."
    {
        return Err(invalid(format!(
            "{name:?} is not a valid shared memory name (1 to {MAX_NAME} bytes, no '/')"
        )));
    }
    Ok(())
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message.into())
}

/// `e`, saying what was done to which segment.
fn named_error(e: io::Error, what: &str, name: &str) -> io::Error {
    let why = match e.kind() {
        io::ErrorKind::NotFound => "no such segment".to_owned(),
        io::ErrorKind::AlreadyExists => "the name is taken".to_owned(),
        _ => e.to_string(),
    };
    io::Error::new(
        e.kind(),
        format!("cannot {what} shared memory {name:?}: {why}"),
    )
}
