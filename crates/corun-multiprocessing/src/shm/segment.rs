//! A segment as a file under `/dev/shm`: its name's path, opening it
//! without following links, and telling whether a name still means the
//! same file. The handles ([`SharedMemory`](crate::SharedMemory)) and the
//! cleanup tracker both build on these.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{FileType, Mode, OFlags};

/// The prefix of the names corun makes up; the tracker sweeps orphans with
/// this prefix.
pub(crate) const PREFIX: &str = "corun-";
/// Where Linux keeps POSIX shared-memory objects.
pub(crate) const DIR: &str = "/dev/shm";
/// Which file a segment is: names can be removed and taken again, so a
/// name alone does not say whether it still means the same segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentId {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

impl SegmentId {
    /// The identity of the open segment `fd`.
    pub(crate) fn of(fd: impl AsFd) -> io::Result<Self> {
        let stat = rustix::fs::fstat(fd)?;
        Ok(Self {
            dev: stat.st_dev,
            ino: stat.st_ino,
        })
    }

    /// Whether `/dev/shm/<name>` is still this segment.
    pub(crate) fn is_named(self, name: &str) -> bool {
        rustix::fs::lstat(path(name))
            .is_ok_and(|stat| stat.st_dev == self.dev && stat.st_ino == self.ino)
    }
}

/// The path of segment `name`.
pub(crate) fn path(name: &str) -> String {
    format!("{DIR}/{name}")
}

/// Opens segment `name` (`flags`: read-only or read-write), refusing
/// anything but a regular file: a symbolic link is not followed, and a
/// pipe or device is not opened for long (and never waited on).
pub(crate) fn open_segment(name: &str, flags: OFlags) -> io::Result<OwnedFd> {
    let not_segment = || io::Error::new(io::ErrorKind::InvalidInput, "not a shared memory segment");
    let fd = rustix::fs::open(
        path(name),
        flags | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        rustix::io::Errno::LOOP | rustix::io::Errno::ISDIR => not_segment(),
        e => e.into(),
    })?;
    let stat = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(not_segment());
    }
    Ok(fd)
}

/// Whether a segment is still being made by an earlier build of this
/// library, which created segments with mode 0 and set 0600 once they were
/// complete (and locked). Segments made now are complete before they have
/// a name; a tracker still leaves these alone.
pub(crate) fn being_made(fd: impl AsFd) -> bool {
    rustix::fs::fstat(fd).is_ok_and(|stat| stat.st_mode & 0o777 == 0)
}
