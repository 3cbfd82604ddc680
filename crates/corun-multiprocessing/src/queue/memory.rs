//! A queue's ring as this process reaches it, and the memory it grows into.
//!
//! The ring starts as the tail of the queue's segment, inside the mapping
//! every handle has. When it grows, the segment's file grows under it (the
//! new bytes reserved with `fallocate`, so a full `/dev/shm` is an error,
//! not a `SIGBUS`), and each process maps the whole segment again, once, when
//! it first meets the larger ring. When the queue empties, the ring goes
//! back to its first size and the file is cut back to its first length,
//! which gives the memory back to the system. Everything here runs with the
//! queue's lock held, which is what makes replacing a mapping safe: nobody
//! else in this process is reading the ring meanwhile.
//!
//! A process that cannot map the grown ring (its address space is used up)
//! reads and writes it through the file instead (`pread`, `pwrite`).

use std::io;
use std::marker::PhantomData;
use std::os::fd::BorrowedFd;
use std::ptr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicPtr, AtomicUsize};

use rustix::fs::FallocateFlags;
use rustix::mm::{MapFlags, ProtFlags};

use super::ring::Bytes;
use crate::shm::shared_memory::SharedMemory;

/// This process's access to one queue's ring (shared by its handles here).
pub(super) struct RingMemory {
    segment: SharedMemory,
    /// Where the ring starts in the segment.
    offset: usize,
    /// The ring's first size, which the segment's own mapping covers.
    first: u64,
    /// This process's mapping of the whole segment for a ring larger than
    /// its first size; null until one is needed. Changed only with the
    /// queue's lock held.
    grown: AtomicPtr<u8>,
    /// The length of `grown`.
    grown_len: AtomicUsize,
}

/// A ring of `size` bytes, reached with the queue's lock held.
pub(super) enum RingBytes<'a> {
    /// Mapped in this process at `base`.
    Mapped {
        base: *mut u8,
        size: u64,
        _memory: PhantomData<&'a RingMemory>,
    },
    /// Through the segment's file, from `offset`.
    File {
        fd: BorrowedFd<'a>,
        offset: u64,
        size: u64,
    },
}

impl RingMemory {
    /// The ring of `first` bytes at `offset` in `segment`.
    pub(super) fn new(segment: SharedMemory, offset: usize, first: usize) -> Self {
        Self {
            segment,
            offset,
            first: first as u64,
            grown: AtomicPtr::new(ptr::null_mut()),
            grown_len: AtomicUsize::new(0),
        }
    }

    /// The ring's first size.
    pub(super) fn first(&self) -> u64 {
        self.first
    }

    /// The ring, as it is now `size` bytes long. The caller holds the
    /// queue's lock for as long as it uses the result.
    ///
    /// # Errors
    ///
    /// `InvalidData` when `size` is not a size the ring can have (smaller
    /// than its first, not a multiple of 8, or past the end of the file).
    pub(super) fn bytes(&self, size: u64) -> io::Result<RingBytes<'_>> {
        if size == self.first {
            // SAFETY: the segment's own mapping holds the state and then
            // the ring's first `first` bytes, from `offset`.
            let base = unsafe { self.segment.as_ptr().add(self.offset) };
            return Ok(self.mapped(base, size));
        }
        let len = self.len_for(size)?;
        let grown = self.grown.load(Relaxed);
        if !grown.is_null() && self.grown_len.load(Relaxed) >= len {
            // SAFETY: `grown` maps `grown_len` bytes of the segment from
            // its start, and the ring starts at `offset` in it.
            return Ok(self.mapped(unsafe { grown.add(self.offset) }, size));
        }
        let fd = self.segment.fd();
        let file_len = rustix::fs::fstat(fd)?.st_size;
        if u64::try_from(file_len).map_or(true, |file_len| file_len < len as u64) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the queue's ring of {size} bytes passes the end of its segment"),
            ));
        }
        // SAFETY: a fresh shared mapping of the segment's first `len`
        // bytes (all inside the file, checked above), where the kernel
        // chooses; nothing else refers to that range.
        let mapped = unsafe {
            rustix::mm::mmap(
                ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                fd,
                0,
            )
        };
        let Ok(mapped) = mapped else {
            return Ok(RingBytes::File {
                fd,
                offset: self.offset as u64,
                size,
            });
        };
        let mapped = mapped.cast::<u8>();
        self.unmap_grown();
        self.grown.store(mapped, Relaxed);
        self.grown_len.store(len, Relaxed);
        // SAFETY: as above, for the mapping just made.
        Ok(self.mapped(unsafe { mapped.add(self.offset) }, size))
    }

    /// Makes the segment's file hold a ring of `size` bytes, its bytes
    /// from `from` on reserved. The caller holds the queue's lock.
    ///
    /// # Errors
    ///
    /// The system's: `ENOSPC` when `/dev/shm` has no room, `EFBIG`.
    pub(super) fn reserve(&self, from: u64, size: u64) -> io::Result<()> {
        let too_large = || io::Error::new(io::ErrorKind::InvalidInput, "ring too large");
        let start = (self.offset as u64)
            .checked_add(from)
            .ok_or_else(too_large)?;
        let end = (self.offset as u64)
            .checked_add(size)
            .ok_or_else(too_large)?;
        if end <= start {
            return Ok(());
        }
        let fd = self.segment.fd();
        match rustix::fs::fallocate(fd, FallocateFlags::empty(), start, end - start) {
            // A file system without fallocate: grow the file only.
            Err(rustix::io::Errno::OPNOTSUPP) => {
                if rustix::fs::fstat(fd)?.st_size < end as i64 {
                    rustix::fs::ftruncate(fd, end)?;
                }
                Ok(())
            }
            other => other.map_err(io::Error::from),
        }
    }

    /// Cuts the segment's file back to its first length, giving the memory
    /// a grown ring took back to the system. The caller holds the queue's
    /// lock and has published the ring's first size: no process reaches
    /// past it any more. A failure leaves the memory to the next try.
    pub(super) fn release(&self) {
        let page = rustix::param::page_size() as u64;
        let first_len = (self.offset as u64 + self.first).next_multiple_of(page);
        let _ = rustix::fs::ftruncate(self.segment.fd(), first_len);
    }

    /// The bytes to map for a ring of `size`: the segment from its start.
    fn len_for(&self, size: u64) -> io::Result<usize> {
        if size < self.first || size % 8 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a queue's ring cannot be {size} bytes"),
            ));
        }
        usize::try_from(size)
            .ok()
            .and_then(|size| size.checked_add(self.offset))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "ring too large to map"))
    }

    fn mapped(&self, base: *mut u8, size: u64) -> RingBytes<'_> {
        RingBytes::Mapped {
            base,
            size,
            _memory: PhantomData,
        }
    }

    fn unmap_grown(&self) {
        let grown = self.grown.swap(ptr::null_mut(), Relaxed);
        if !grown.is_null() {
            // SAFETY: `grown` was mapped by `bytes` with this length, and
            // nothing uses it: every use is with the queue's lock held, as
            // now (or, from `drop`, by a handle that no longer exists).
            let _ = unsafe { rustix::mm::munmap(grown.cast(), self.grown_len.load(Relaxed)) };
        }
    }
}

impl Drop for RingMemory {
    fn drop(&mut self) {
        self.unmap_grown();
    }
}

impl RingBytes<'_> {
    fn check(&self, at: u64, len: usize) -> io::Result<()> {
        match at.checked_add(len as u64) {
            Some(end) if end <= self.size() => Ok(()),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "bytes {at}..{at}+{len} pass the end of a ring of {}",
                    self.size()
                ),
            )),
        }
    }
}

impl Bytes for RingBytes<'_> {
    fn size(&self) -> u64 {
        match self {
            Self::Mapped { size, .. } | Self::File { size, .. } => *size,
        }
    }

    fn read(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
        self.check(at, buf.len())?;
        match self {
            // SAFETY: the range is inside the ring (checked above), mapped
            // while the caller holds the queue's lock; `buf` is ours. No
            // other process writes the bytes of a published record.
            Self::Mapped { base, .. } => unsafe {
                ptr::copy_nonoverlapping(base.add(at as usize), buf.as_mut_ptr(), buf.len());
            },
            Self::File { fd, offset, .. } => {
                let mut done = 0;
                while done < buf.len() {
                    let n = rustix::io::pread(fd, &mut buf[done..], offset + at + done as u64)?;
                    if n == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    done += n;
                }
            }
        }
        Ok(())
    }

    fn write(&self, at: u64, data: &[u8]) -> io::Result<()> {
        self.check(at, data.len())?;
        match self {
            // SAFETY: the range is inside the ring (checked above), mapped
            // while the caller holds the queue's lock, which also keeps
            // every other writer out.
            Self::Mapped { base, .. } => unsafe {
                ptr::copy_nonoverlapping(data.as_ptr(), base.add(at as usize), data.len());
            },
            Self::File { fd, offset, .. } => {
                let mut done = 0;
                while done < data.len() {
                    done += rustix::io::pwrite(fd, &data[done..], offset + at + done as u64)?;
                }
            }
        }
        Ok(())
    }

    fn copy(&self, from: u64, to: u64, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        self.check(from, len)?;
        self.check(to, len)?;
        match self {
            // SAFETY: both ranges are inside the ring (checked above),
            // mapped while the caller holds the queue's lock; `ptr::copy`
            // allows them to overlap.
            Self::Mapped { base, .. } => unsafe {
                ptr::copy(base.add(from as usize), base.add(to as usize), len);
            },
            Self::File { .. } => {
                let mut chunk = vec![0; len.min(1 << 20)];
                let mut done = 0;
                while done < len {
                    let n = chunk.len().min(len - done);
                    // From the end, so that an overlap is never overwritten
                    // before it is read when moving up.
                    let at = len - done - n;
                    self.read(from + at as u64, &mut chunk[..n])?;
                    self.write(to + at as u64, &chunk[..n])?;
                    done += n;
                }
            }
        }
        Ok(())
    }
}
