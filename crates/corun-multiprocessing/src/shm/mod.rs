//! Shared memory and its cleanup: [`SharedMemory`](crate::SharedMemory)
//! segments under `/dev/shm` (`shared_memory`), the file primitives they
//! rest on (`segment`), the typed header every shared object puts at the
//! start of its segment (`shared_object`), and the cleanup tracker that
//! removes the segments whose users all crashed (`tracker`).
//!
//! # Who removes a segment
//!
//! Every handle holds a shared `flock` on its own open file description,
//! which the kernel drops however the process ends. The last handle to
//! close takes the lock exclusively and removes the name, so a segment is
//! never removed while another process has it open (Python's gh-82300). A
//! segment is made unnamed (`O_TMPFILE`), sized, locked and registered
//! with the tracker, and only then linked under its name: nobody sees a
//! half-made segment, and nothing is left if its creator dies meanwhile.
//!
//! The tracker is this program run again in a session of its own (out of
//! reach of Ctrl-C), started with the first segment. When its creator's
//! socket closes, it removes each registered segment once nobody holds it,
//! checking that the name still means the same file; a new tracker also
//! sweeps the orphans of one that was itself killed.

pub(crate) mod segment;
#[allow(unsafe_code)]
pub(crate) mod shared_memory;
#[allow(unsafe_code)]
pub(crate) mod shared_object;
pub(crate) mod tracker;
