//! One process-shared object (a lock, a queue, a value) in a segment of
//! its own: a header that says what the segment holds, the object's state
//! (atomics and robust mutexes only), and an optional tail of bytes (a
//! queue's ring, an array's items).
//!
//! A handle travels between processes as the segment's name; attaching
//! checks the header, so a lock's name cannot be attached as a queue.

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::shm::shared_memory::SharedMemory;
use corun_core::Error;

/// The state of a kind of shared object.
///
/// # Safety
///
/// The type must be `#[repr(C)]`, hold nothing but atomics, robust
/// mutexes and other such types (no pointers: each process maps the
/// segment at its own address; nothing mutable except through interior
/// mutability), and be valid when all zero.
pub(crate) unsafe trait Layout: Sync + Sized {
    /// Which kind of object this is, checked when attaching.
    const KIND: [u8; 8];

    /// Sets up a fresh, all-zero state (and its tail, `tail_len` bytes at
    /// `tail`), before any other process can reach it.
    fn init(&self, tail: *mut u8, tail_len: usize) -> std::io::Result<()>;
}

const MAGIC: [u8; 8] = *b"corun\0o1";
/// Where the state starts: after the header, on a cache line of its own.
const STATE_OFFSET: usize = 128;

#[repr(C)]
struct Header {
    magic: [u8; 8],
    kind: [u8; 8],
    state_size: u64,
    tail_size: u64,
    /// 1 once the creator has set everything up.
    ready: AtomicU32,
}

/// A handle to a shared object whose state is `S`.
pub(crate) struct SharedObject<S> {
    shm: SharedMemory,
    _state: PhantomData<S>,
}

impl<S: Layout> SharedObject<S> {
    /// Where the tail starts in the segment.
    pub(crate) fn tail_offset() -> usize {
        (STATE_OFFSET + size_of::<S>()).next_multiple_of(64)
    }

    /// Creates the object with a tail of `tail` bytes, set up by
    /// [`Layout::init`].
    pub(crate) fn create(tail: usize) -> Result<Self, Error> {
        const { assert!(align_of::<S>() <= 64, "state alignment beyond a cache line") };
        let size = Self::tail_offset()
            .checked_add(tail)
            .ok_or_else(|| Error::invalid_argument("object too large"))?;
        let shm = SharedMemory::create(size)?;
        let base = shm.as_ptr();
        // SAFETY: the segment is fresh (zeroed, and nobody else knows its
        // name yet), page-aligned and large enough for the header, the
        // state at STATE_OFFSET and the tail after it.
        // The zeroed state is valid (the `Layout` contract).
        unsafe {
            let state = &*base.add(STATE_OFFSET).cast::<S>();
            state.init(base.add(Self::tail_offset()), tail)?;
            base.cast::<Header>().write(Header {
                magic: MAGIC,
                kind: S::KIND,
                state_size: size_of::<S>() as u64,
                tail_size: tail as u64,
                ready: AtomicU32::new(0),
            });
        }
        let object = Self {
            shm,
            _state: PhantomData,
        };
        object.header().ready.store(1, Ordering::Release);
        Ok(object)
    }

    /// Attaches to the object in segment `name`.
    ///
    /// # Errors
    ///
    /// `NotFound` when there is no such segment; `InvalidData` when it
    /// holds something else.
    pub(crate) fn attach(name: &str) -> Result<Self, Error> {
        let shm = SharedMemory::attach(name)?;
        let object = Self {
            shm,
            _state: PhantomData,
        };
        let wrong = |what: &str| {
            Error::invalid_argument(format!("shared memory {name:?} does not hold a {what}"))
        };
        let kind = String::from_utf8_lossy(&S::KIND)
            .trim_end_matches('\0')
            .to_owned();
        if object.shm.size() < Self::tail_offset() {
            return Err(wrong(&kind));
        }
        let header = object.header();
        if header.ready.load(Ordering::Acquire) != 1
            || header.magic != MAGIC
            || header.kind != S::KIND
            || header.state_size != size_of::<S>() as u64
            || (Self::tail_offset() as u64).saturating_add(header.tail_size)
                > object.shm.size() as u64
        {
            return Err(wrong(&format!("{kind} of this corun version")));
        }
        Ok(object)
    }

    fn header(&self) -> &Header {
        // SAFETY: the segment starts with a header (written before `ready`
        // is set, checked on attach); its fields other than `ready` are
        // never written again.
        unsafe { &*self.shm.as_ptr().cast::<Header>() }
    }

    /// The object's state.
    pub(crate) fn state(&self) -> &S {
        // SAFETY: the state was set up by `create` at STATE_OFFSET (the
        // header check on attach confirms its kind and size) and is made of
        // types shared by reference only (the `Layout` contract).
        unsafe { &*self.shm.as_ptr().add(STATE_OFFSET).cast::<S>() }
    }

    /// The start of the tail; valid for [`tail_len`](Self::tail_len) bytes.
    pub(crate) fn tail(&self) -> *mut u8 {
        // SAFETY: the tail starts inside the segment (checked on attach).
        unsafe { self.shm.as_ptr().add(Self::tail_offset()) }
    }

    /// The tail's length in bytes.
    pub(crate) fn tail_len(&self) -> usize {
        self.header().tail_size as usize
    }

    /// Keeps the segment alive with the call being encoded, if one is
    /// (see `shared_memory::keeping`).
    pub(crate) fn keep_alive(&self) {
        self.shm.keep_alive();
    }

    /// The segment's name.
    pub(crate) fn name(&self) -> &str {
        self.shm.name()
    }

    /// The segment the object lives in.
    pub(crate) fn segment(&self) -> &SharedMemory {
        &self.shm
    }
}

impl<S> Clone for SharedObject<S> {
    fn clone(&self) -> Self {
        Self {
            shm: self.shm.clone(),
            _state: PhantomData,
        }
    }
}

impl<S> fmt::Debug for SharedObject<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedObject")
            .field(&self.shm.name())
            .finish()
    }
}

impl<S: Layout> Serialize for SharedObject<S> {
    fn serialize<Se: Serializer>(&self, serializer: Se) -> Result<Se::Ok, Se::Error> {
        self.shm.serialize(serializer)
    }
}

impl<'de, S: Layout> Deserialize<'de> for SharedObject<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::attach(&name).map_err(serde::de::Error::custom)
    }
}
