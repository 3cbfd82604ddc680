//! The engine of the three queue types: put, get, `task_done`, `join` and
//! `shutdown` over one shared object whose tail is the byte ring.
//!
//! A put serialises in the caller, before taking the lock, and returns
//! once the record is in shared memory, growing the ring first when it has
//! no room (`memory.rs`): a put waits only for a bounded queue's count. A
//! get copies the record out under the lock and deserialises after
//! releasing it. A caller that must wait first watches the queue for a few
//! tens of microseconds, then sleeps on a futex (see `state.rs`).

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corun_core::{Error, ErrorKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fault::{self, Fault};
use super::memory::RingMemory;
use super::ring::{self, Malformed, Ring};
use super::state::{Held, QueueState, Variant, Waiters, Wake};
use super::{GetError, PutError};
use crate::shm::shared_object::SharedObject;

/// How long a put or get may wait.
#[derive(Clone, Copy, Debug)]
pub(super) enum Wait {
    /// Not at all (`try_*`).
    No,
    /// Until the deadline; `None` is forever.
    Until(Option<Instant>),
}

impl Wait {
    pub(super) fn forever() -> Self {
        Self::Until(None)
    }

    pub(super) fn timeout(timeout: Duration) -> Self {
        Self::Until(corun_core::deadline::deadline(Some(timeout)))
    }
}

/// A handle to a queue of `T` whose segment holds a `QueueState<V>`.
pub(super) struct Core<T, V> {
    object: SharedObject<QueueState<V>>,
    /// The ring as this process reaches it, shared by the handle's clones.
    memory: Arc<RingMemory>,
    _item: PhantomData<fn(T) -> T>,
}

/// Why a record could not go into the ring.
enum Refused {
    /// The ring could not grow: the system's reason.
    NoRoom(String),
    /// The ring's memory holds something else than records.
    Malformed(Malformed),
}

impl<T, V: Variant> Core<T, V> {
    /// A new, empty queue of at most `maxsize` items (0: no limit) whose
    /// ring holds `ring_size` bytes (rounded up).
    pub(super) fn create(maxsize: usize, ring_size: usize) -> io::Result<Self> {
        let object = SharedObject::<QueueState<V>>::create(ring::size_for(ring_size)?)?;
        // Nobody else knows the segment's name yet.
        let ring_size = object.tail_len() as u64;
        object
            .state()
            .set_up(item_type::<T>(), maxsize as u64, ring_size);
        Ok(Self::from_object(object))
    }

    /// A handle to the queue in `object`, with this process's access to its ring.
    fn from_object(object: SharedObject<QueueState<V>>) -> Self {
        let memory = RingMemory::new(
            object.segment().clone(),
            SharedObject::<QueueState<V>>::tail_offset(),
            object.tail_len(),
        );
        Self {
            object,
            memory: Arc::new(memory),
            _item: PhantomData,
        }
    }

    /// Attaches to the queue in segment `name`.
    ///
    /// # Errors
    ///
    /// `NotFound` when there is no such segment; `InvalidData` when it
    /// holds something else, or a queue of another item type.
    pub(super) fn attach(name: &str) -> io::Result<Self> {
        let object = SharedObject::<QueueState<V>>::attach(name)?;
        let size = object.tail_len();
        if size < ring::MIN_SIZE || size % 8 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("shared memory {name:?} holds a ring of {size} bytes"),
            ));
        }
        if object.state().item_type() != item_type::<T>() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "shared memory {name:?} holds a queue of another item type than `{}`",
                    std::any::type_name::<T>()
                ),
            ));
        }
        Ok(Self::from_object(object))
    }

    fn state(&self) -> &QueueState<V> {
        self.object.state()
    }

    /// Puts the serialised `item`, waiting for room as `wait` says: only a
    /// queue of `maxsize` items has none.
    pub(super) fn put(&self, item: T, wait: Wait) -> Result<(), PutError<T>>
    where
        T: Serialize,
    {
        let payload = match postcard::to_allocvec(&item) {
            Ok(payload) => payload,
            Err(e) => {
                return Err(PutError::Failed(
                    item,
                    Error::serialization(format!("the item could not be serialised: {e}")),
                ));
            }
        };
        let mut held = self.state().lock();
        let mut spun = false;
        loop {
            if held.snap.shutdown {
                return Err(PutError::ShutDown(item));
            }
            let maxsize = held.maxsize();
            if maxsize == 0 || held.snap.ring.count < maxsize {
                match self.push(&mut held, &payload) {
                    Ok(()) => {
                        held.snap.unfinished += 1;
                        self.commit(&mut held);
                        held.notify(Waiters::NotEmpty, Wake::One);
                        return Ok(());
                    }
                    Err(Refused::NoRoom(reason)) => {
                        let size = payload.len();
                        let why = format!(
                            "no room for the item ({size} bytes serialised) in the queue: {reason}"
                        );
                        return Err(PutError::Failed(item, Error::new(ErrorKind::Io, why)));
                    }
                    Err(Refused::Malformed(_)) => {
                        self.discard_all(&mut held);
                        continue;
                    }
                }
            }
            let Wait::Until(deadline) = wait else {
                return Err(PutError::Full(item));
            };
            if passed(deadline) {
                return Err(PutError::Full(item));
            }
            held = if spun {
                held.sleep(Waiters::NotFull, deadline)
            } else {
                spun = true;
                let count = held.snap.ring.count;
                held.spin(deadline, move |c, shutdown| shutdown || c < count)
            };
        }
    }

    /// Appends `payload` to the ring in `held.snap`, growing the ring first
    /// if it has no room; nothing is published yet.
    fn push(&self, held: &mut Held<'_, V>, payload: &[u8]) -> Result<(), Refused> {
        let halfway = || fault::reached(Fault::PutHalfWritten);
        {
            let bytes = self.memory.bytes(held.snap.size).map_err(malformed)?;
            if held.snap.ring.push(&bytes, payload, halfway)? {
                return Ok(());
            }
        }
        self.grow(held, payload.len())?;
        let bytes = self.memory.bytes(held.snap.size).map_err(malformed)?;
        if held.snap.ring.push(&bytes, payload, halfway)? {
            Ok(())
        } else {
            Err(Refused::Malformed(Malformed(
                "no room for a record in a ring grown for it".to_owned(),
            )))
        }
    }

    /// Grows the ring so that a record of `payload` bytes fits, in three
    /// steps a process may die between: it publishes the larger
    /// `reserved` (so that the next to empty the queue gives the memory
    /// back), grows the file and copies the records that move (beyond the
    /// old ring's end), then publishes the larger ring. Only then does the
    /// record go in: written into the old ring's free bytes, it could cover
    /// records the old ring still holds, which only the grown ring has
    /// moved.
    fn grow(&self, held: &mut Held<'_, V>, payload: usize) -> Result<(), Refused> {
        let old = held.snap.size;
        let size = ring::grown_size(old, payload).ok_or_else(|| {
            Refused::NoRoom(format!(
                "a ring for {payload} more bytes is past what a u64 counts"
            ))
        })?;
        if size > held.snap.reserved {
            held.snap.reserved = size;
            held.commit();
        }
        self.memory.reserve(old, size).map_err(|e| {
            Refused::NoRoom(format!(
                "the queue's shared memory cannot grow to {size} bytes: {e}"
            ))
        })?;
        let bytes = self.memory.bytes(size).map_err(malformed)?;
        held.snap.ring.grow(&bytes, old)?;
        held.snap.size = size;
        held.commit();
        Ok(())
    }

    /// Publishes `held.snap`. An empty queue goes back to its first ring,
    /// and the memory the ring grew into goes back to the system: first
    /// the ring's size is published, then the file is cut back, then
    /// `reserved`, so that a process that dies in between leaves the memory
    /// to the next that empties the queue.
    fn commit(&self, held: &mut Held<'_, V>) {
        let first = self.memory.first();
        let grown = held.snap.size != first || held.snap.reserved != first;
        if held.snap.ring.count > 0 || !grown {
            held.commit();
            return;
        }
        held.snap.ring = Ring::default();
        held.snap.size = first;
        held.commit();
        self.memory.release();
        held.snap.reserved = first;
        held.commit();
    }

    /// Takes the oldest item, waiting for one as `wait` says.
    pub(super) fn get(&self, wait: Wait) -> Result<T, GetError>
    where
        T: DeserializeOwned,
    {
        let mut held = self.state().lock();
        let mut spun = false;
        loop {
            if held.snap.ring.count > 0 {
                let maxsize = held.maxsize();
                let was_full = maxsize != 0 && held.snap.ring.count >= maxsize;
                let popped = self
                    .memory
                    .bytes(held.snap.size)
                    .map_err(malformed)
                    .and_then(|bytes| held.snap.ring.pop(&bytes).map_err(Refused::Malformed));
                let payload = match popped {
                    Ok(payload) => payload,
                    Err(refused) => {
                        let dropped = self.discard_all(&mut held);
                        return Err(GetError::Failed(Error::serialization(format!(
                            "{refused}; the {dropped} items in it were dropped"
                        ))));
                    }
                };
                fault::reached(Fault::GetCopied);
                self.commit(&mut held);
                // From a queue full by count, one slot is free: one putter
                // can use it. Otherwise wake every putter there may be: one
                // that timed out may have been the one woken before.
                let how = if was_full && held.snap.ring.count > 0 {
                    Wake::One
                } else {
                    Wake::All
                };
                held.notify(Waiters::NotFull, how);
                drop(held);
                return postcard::from_bytes(&payload).map_err(|e| {
                    self.forget_one();
                    GetError::Failed(Error::serialization(format!(
                        "the item taken could not be deserialised: {e}"
                    )))
                });
            }
            if held.snap.shutdown {
                return Err(GetError::ShutDown);
            }
            let Wait::Until(deadline) = wait else {
                return Err(GetError::Empty);
            };
            if passed(deadline) {
                return Err(GetError::Empty);
            }
            held = if spun {
                held.sleep(Waiters::NotEmpty, deadline)
            } else {
                spun = true;
                held.spin(deadline, |count, shutdown| shutdown || count > 0)
            };
        }
    }

    /// Counts an item taken but not handed out (it did not deserialise) as
    /// done.
    fn forget_one(&self) {
        let mut held = self.state().lock();
        held.snap.unfinished = held.snap.unfinished.saturating_sub(1);
        self.commit(&mut held);
        if held.snap.unfinished == 0 {
            held.notify(Waiters::AllDone, Wake::All);
        }
    }

    pub(super) fn task_done(&self) -> Result<(), Error> {
        let mut held = self.state().lock();
        if held.snap.unfinished == 0 {
            return Err(ErrorKind::TaskDoneTooMany.into());
        }
        held.snap.unfinished -= 1;
        self.commit(&mut held);
        if held.snap.unfinished == 0 {
            held.notify(Waiters::AllDone, Wake::All);
        }
        Ok(())
    }

    /// Waits until every item put is done; `false` if `deadline` passed
    /// first.
    pub(super) fn join_until(&self, deadline: Option<Instant>) -> bool {
        let mut held = self.state().lock();
        loop {
            if held.snap.unfinished == 0 {
                return true;
            }
            if passed(deadline) {
                return false;
            }
            held = held.sleep(Waiters::AllDone, deadline);
        }
    }

    pub(super) fn shutdown(&self, immediate: bool) {
        let mut held = self.state().lock();
        held.snap.shutdown = true;
        if immediate {
            let dropped = held.snap.ring.count;
            held.snap.ring = Ring::default();
            held.snap.unfinished = held.snap.unfinished.saturating_sub(dropped);
            held.notify(Waiters::AllDone, Wake::All);
        }
        self.commit(&mut held);
        held.notify(Waiters::NotEmpty, Wake::All);
        held.notify(Waiters::NotFull, Wake::All);
    }

    pub(super) fn is_shutdown(&self) -> bool {
        self.state().lock().snap.shutdown
    }

    pub(super) fn qsize(&self) -> usize {
        self.state().lock().snap.ring.count as usize
    }

    pub(super) fn unfinished_tasks(&self) -> usize {
        self.state().lock().snap.unfinished as usize
    }

    pub(super) fn maxsize(&self) -> usize {
        self.state().maxsize() as usize
    }

    pub(super) fn is_full(&self) -> bool {
        let maxsize = self.maxsize();
        maxsize != 0 && self.qsize() >= maxsize
    }

    pub(super) fn ring_size(&self) -> usize {
        self.object.tail_len()
    }

    /// Empties a ring whose bytes are malformed, counting its items as
    /// done; returns how many there were.
    fn discard_all(&self, held: &mut Held<'_, V>) -> u64 {
        let dropped = held.snap.ring.count;
        held.snap.ring = Ring::default();
        held.snap.unfinished = held.snap.unfinished.saturating_sub(dropped);
        self.commit(held);
        held.notify(Waiters::NotFull, Wake::All);
        held.notify(Waiters::AllDone, Wake::All);
        dropped
    }

    pub(super) fn name(&self) -> &str {
        self.object.name()
    }

    /// Writes the queue's fields for a `Debug` impl.
    pub(super) fn debug_fields(&self, f: &mut fmt::DebugStruct<'_, '_>) {
        let snap = self.state().lock().snap;
        f.field("name", &self.name())
            .field("qsize", &snap.ring.count)
            .field("maxsize", &self.maxsize());
    }
}

fn passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

/// A fingerprint of `T`, stored by the creator and checked on attach: a
/// 64-bit FNV-1a hash of its type name, never 0.
fn item_type<T>() -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for byte in std::any::type_name::<T>().bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash | 1
}

/// The ring's memory could not be reached as the state says: only memory
/// written by something other than a queue can do this.
fn malformed(e: io::Error) -> Refused {
    Refused::Malformed(Malformed(e.to_string()))
}

impl From<Malformed> for Refused {
    fn from(malformed: Malformed) -> Self {
        Self::Malformed(malformed)
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRoom(reason) => f.write_str(reason),
            Self::Malformed(malformed) => malformed.fmt(f),
        }
    }
}

impl<T, V> Clone for Core<T, V> {
    fn clone(&self) -> Self {
        Self {
            object: self.object.clone(),
            memory: Arc::clone(&self.memory),
            _item: PhantomData,
        }
    }
}

/// Serialised as the segment's name: the receiving process attaches.
impl<T, V: Variant> Serialize for Core<T, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.object.serialize(serializer)
    }
}

impl<'de, T, V: Variant> Deserialize<'de> for Core<T, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::attach(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::item_type;

    #[test]
    fn item_types_differ_and_are_never_zero() {
        assert_ne!(item_type::<u32>(), item_type::<u64>());
        assert_ne!(item_type::<Vec<u8>>(), item_type::<String>());
        assert_eq!(item_type::<u32>(), item_type::<u32>());
        assert_ne!(item_type::<()>(), 0);
    }
}
