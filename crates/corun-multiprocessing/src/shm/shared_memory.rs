//! [`SharedMemory`]: Python's `multiprocessing.shared_memory.SharedMemory`,
//! a named block of memory that several processes map at once.
//!
//! A segment is a POSIX shared-memory object (`/dev/shm/<name>`), created
//! with mode 0600 under an unpredictable name unless one is given.
//!
//! A segment is made whole before it has a name: an unnamed file
//! (`O_TMPFILE`) is sized and locked (see below), registered with the
//! tracker, and only then linked under its name, which fails if the name
//! is taken. So no process ever finds a half-made segment, and a creator
//! that dies while making one leaves nothing behind.
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
//!
//! Names are opened without following symbolic links, and only regular
//! files are taken for segments: `/dev/shm` is writable by everyone, and
//! tests (and trackers) run as root here, where file modes stop nothing.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::Arc;

use corun_core::Error;
use rustix::fs::{AtFlags, FlockOperation, Mode, OFlags};
use rustix::mm::{MapFlags, ProtFlags};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::segment::{DIR, PREFIX, SegmentId, open_segment, path};

/// The longest name accepted (`NAME_MAX` is 255; keep room to spare).
const MAX_NAME: usize = 200;

/// A block of memory shared between processes, by name.
///
/// Cloning a handle is cheap and shares one mapping. A handle can be
/// passed to a worker as (part of) an argument: it travels as its name
/// and the worker attaches to the same memory. The segment lives while
/// some handle, in any process, is open: pass a clone and keep the
/// original until the worker has attached (for instance until it is
/// joined), or the segment may be gone before the worker gets there.
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
/// use corun::multiprocessing::SharedMemory;
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init(); // the cleanup tracker is a re-run of this program
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
    id: SegmentId,
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
    /// `InvalidArgument` when `size` is 0; the system's error when the segment
    /// cannot be made, or the cleanup tracker cannot be started (the
    /// program's `main` must call [`init`](crate::init) first).
    pub fn create(size: usize) -> Result<Self, Error> {
        loop {
            match Self::create_named(&random_name()?, size) {
                Err(e)
                    if e.io_error().map(io::Error::kind) == Some(io::ErrorKind::AlreadyExists) =>
                {
                    continue;
                }
                other => return other,
            }
        }
    }

    /// Creates a segment named `name` (1 to 200 bytes, no `/`, NUL or
    /// newline), of at least `size` bytes, zeroed.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` when the name is taken; `InvalidArgument` for a bad
    /// name or a `size` of 0; as [`create`](Self::create) otherwise.
    pub fn create_named(name: &str, size: usize) -> Result<Self, Error> {
        check_name(name)?;
        if size == 0 {
            return Err(Error::invalid_argument(
                "a shared memory segment needs a size above 0",
            ));
        }
        let len = page_round(size)?;
        Self::make(name, len).map_err(|e| named_error(e, "create", name))
    }

    /// Makes the segment unnamed, sized, locked and registered, then names
    /// it in one step (see the module's docs).
    fn make(name: &str, len: usize) -> io::Result<Self> {
        let owner_only = Mode::RUSR | Mode::WUSR;
        let fd = rustix::fs::open(
            DIR,
            OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
            owner_only,
        )?;
        rustix::fs::fchmod(&fd, owner_only)?; // whatever the umask
        rustix::fs::flock(&fd, FlockOperation::LockShared)?;
        rustix::fs::ftruncate(&fd, len as u64)?;
        let id = SegmentId::of(&fd)?;
        crate::shm::tracker::register(name, id)?;
        let unnamed = format!("/proc/self/fd/{}", fd.as_raw_fd());
        let named = rustix::fs::linkat(
            rustix::fs::CWD,
            unnamed.as_str(),
            rustix::fs::CWD,
            path(name).as_str(),
            AtFlags::SYMLINK_FOLLOW,
        );
        let made = named
            .map_err(io::Error::from)
            .and_then(|()| Self::map(name, fd, len, id));
        if made.is_err() {
            if id.is_named(name) {
                let _ = rustix::fs::unlink(path(name));
            }
            crate::shm::tracker::unregister(name, id);
        }
        made
    }

    /// Attaches to the existing segment `name`, as
    /// `SharedMemory(name)` does in Python.
    ///
    /// # Errors
    ///
    /// `NotFound` when no segment has that name (or it was unlinked while
    /// attaching); `InvalidArgument` for a bad name, or when the name is not
    /// a segment (a symbolic link, a directory, an empty file).
    pub fn attach(name: &str) -> Result<Self, Error> {
        check_name(name)?;
        let attached = (|| {
            let fd = open_segment(name, OFlags::RDWR)?;
            rustix::fs::flock(&fd, FlockOperation::LockShared)?;
            // The name may have been removed between our open and lock (by
            // its last user, who held the lock exclusively meanwhile).
            let id = SegmentId::of(&fd)?;
            if !id.is_named(name) {
                return Err(io::Error::from(io::ErrorKind::NotFound));
            }
            let size = rustix::fs::fstat(&fd)?.st_size;
            let len = usize::try_from(size).map_err(|_| invalid("size out of range"))?;
            if len == 0 {
                return Err(invalid("the segment has size 0"));
            }
            Self::map(name, fd, len, id)
        })();
        attached.map_err(|e| named_error(e, "attach to", name))
    }

    fn map(name: &str, fd: OwnedFd, len: usize, id: SegmentId) -> io::Result<Self> {
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
                id,
            }),
        })
    }

    /// The segment's name, without a leading `/`: what
    /// [`attach`](Self::attach) takes.
    pub fn name(&self) -> &str {
        &self.map.name
    }

    /// The segment's open file, for the users that change its size.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.map.fd.as_fd()
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
    /// `InvalidArgument` when the range passes the end of the segment.
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> Result<(), Error> {
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
    /// `InvalidArgument` when the range passes the end of the segment.
    pub fn write_at(&self, offset: usize, data: &[u8]) -> Result<(), Error> {
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
    pub fn unlink(&self) -> Result<(), Error> {
        let removed = if self.map.id.is_named(self.name()) {
            rustix::fs::unlink(path(self.name())).map_err(io::Error::from)
        } else {
            Err(io::Error::from(io::ErrorKind::NotFound))
        };
        crate::shm::tracker::unregister(self.name(), self.map.id);
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
        if rustix::fs::flock(&self.fd, FlockOperation::NonBlockingLockExclusive).is_ok() {
            if self.id.is_named(&self.name) {
                let _ = rustix::fs::unlink(path(&self.name));
            }
            // Gone either way: nothing left for a tracker to remove.
            crate::shm::tracker::unregister(&self.name, self.id);
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

/// Serialised as its name. While a worker's argument is encoded (see
/// `keeping`), the call also keeps a handle, so the segment outlives the
/// caller's handles until the worker has attached.
impl Serialize for SharedMemory {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.keep_alive();
        serializer.serialize_str(self.name())
    }
}

thread_local! {
    /// The segments named in the call being encoded on this thread, while
    /// one is (see [`keeping`]).
    static KEPT: RefCell<Option<Vec<SharedMemory>>> = const { RefCell::new(None) };
}

impl SharedMemory {
    /// Adds a handle to the segments kept by the call being encoded on
    /// this thread, if one is.
    pub(crate) fn keep_alive(&self) {
        KEPT.with(|kept| {
            if let Some(kept) = kept.borrow_mut().as_mut() {
                kept.push(self.clone());
            }
        });
    }
}

/// Runs `serialise` (the encoding of a worker's argument) and returns, with
/// its result, a handle to every segment it named.
///
/// A segment lives while a handle is open, and an argument names its
/// segments but holds no handle: `Process::start(f, SharedMemory::create(n)?)`
/// drops the only handle as soon as the call is sent, before the worker
/// attaches. So the call keeps these handles until its reply is in (a
/// [`Process`](crate::Process) until it is dropped).
pub(crate) fn keeping<T>(serialise: impl FnOnce() -> T) -> (T, Vec<SharedMemory>) {
    crate::collect::collecting(&KEPT, serialise)
}

impl<'de> Deserialize<'de> for SharedMemory {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::attach(&name).map_err(serde::de::Error::custom)
    }
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
    if name.is_empty()
        || name.len() > MAX_NAME
        || name.contains(['/', '\0', '\n'])
        || name == "."
        || name == ".."
    {
        return Err(invalid(format!(
            "{name:?} is not a valid shared memory name \
             (1 to {MAX_NAME} bytes, no '/', NUL or newline)"
        )));
    }
    Ok(())
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message.into())
}

/// `e`, saying what was done to which segment; `e` is the source.
fn named_error(e: io::Error, what: &str, name: &str) -> Error {
    let why = match e.kind() {
        io::ErrorKind::NotFound => "no such segment".to_owned(),
        io::ErrorKind::AlreadyExists => "the name is taken".to_owned(),
        _ => e.to_string(),
    };
    let kind = e.kind().into();
    Error::new(kind, format!("cannot {what} shared memory {name:?}: {why}")).with_source(e)
}
