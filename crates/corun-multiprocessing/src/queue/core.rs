//! The engine of the three queue types: put, get, `task_done`, `join` and
//! `shutdown` over one shared object whose tail is the byte ring.
//!
//! A put serialises in the caller, before taking the lock, and returns
//! once the record is in shared memory; a get copies the record out under
//! the lock and deserialises after releasing it. A caller that must wait
//! first watches the queue for a few tens of microseconds, then sleeps on
//! a futex (see `state.rs`).

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::{GetError, PutError, TaskDoneError};
use super::fault::{self, Fault};
use super::ring::{self, Bytes, Ring};
use super::state::{Held, QueueState, Variant, Waiters, Wake};
use crate::shm::shared_object::{Layout, SharedObject};

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
    _item: PhantomData<fn(T) -> T>,
}

/// The ring's bytes: the tail of the queue's segment.
struct Tail<'a, S>(&'a SharedObject<S>);

impl<T, V: Variant> Core<T, V> {
    /// A new, empty queue of at most `maxsize` items (0: no limit) whose
    /// ring holds `ring_size` bytes (rounded up).
    pub(super) fn create(maxsize: usize, ring_size: usize) -> io::Result<Self> {
        let object = SharedObject::<QueueState<V>>::create(ring::size_for(ring_size)?)?;
        // Nobody else knows the segment's name yet.
        object.state().set_up(item_type::<T>(), maxsize as u64);
        Ok(Self {
            object,
            _item: PhantomData,
        })
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
        Ok(Self {
            object,
            _item: PhantomData,
        })
    }

    fn state(&self) -> &QueueState<V> {
        self.object.state()
    }

    fn tail(&self) -> Tail<'_, QueueState<V>> {
        Tail(&self.object)
    }

    /// Puts the serialised `item`, waiting for room as `wait` says.
    pub(super) fn put(&self, item: T, wait: Wait) -> Result<(), PutError<T>>
    where
        T: Serialize,
    {
        let payload = match postcard::to_allocvec(&item) {
            Ok(payload) => payload,
            Err(e) => {
                return Err(PutError::Serialization {
                    item,
                    reason: e.to_string(),
                });
            }
        };
        let tail = self.tail();
        let limit = ring::max_payload(tail.size());
        if payload.len() > limit {
            return Err(PutError::TooLarge {
                item,
                size: payload.len(),
                limit,
            });
        }
        let mut held = self.state().lock();
        let mut spun = false;
        loop {
            if held.snap.shutdown {
                return Err(PutError::ShutDown(item));
            }
            let maxsize = held.maxsize();
            if maxsize == 0 || held.snap.ring.count < maxsize {
                let halfway = || fault::reached(Fault::PutHalfWritten);
                match held.snap.ring.push(&tail, &payload, halfway) {
                    Ok(true) => {
                        held.snap.unfinished += 1;
                        held.commit();
                        held.notify(Waiters::NotEmpty, Wake::One);
                        return Ok(());
                    }
                    Ok(false) => {}
                    Err(_malformed) => {
                        discard_all(&mut held);
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
                let (count, head) = (held.snap.ring.count, held.snap.ring.head);
                held.spin(deadline, move |c, h, shutdown| {
                    shutdown || c < count || h != head
                })
            };
        }
    }

    /// Takes the oldest item, waiting for one as `wait` says.
    pub(super) fn get(&self, wait: Wait) -> Result<T, GetError>
    where
        T: DeserializeOwned,
    {
        let tail = self.tail();
        let mut held = self.state().lock();
        let mut spun = false;
        loop {
            if held.snap.ring.count > 0 {
                let maxsize = held.maxsize();
                let was_full = maxsize != 0 && held.snap.ring.count >= maxsize;
                let payload = match held.snap.ring.pop(&tail) {
                    Ok(payload) => payload,
                    Err(malformed) => {
                        let dropped = discard_all(&mut held);
                        return Err(GetError::Serialization(format!(
                            "{malformed}; the {dropped} items in it were dropped"
                        )));
                    }
                };
                fault::reached(Fault::GetCopied);
                held.commit();
                // From a queue full by count, one slot is free: one putter
                // can use it. Otherwise putters may wait for bytes, and
                // which of them fits now depends on their items' sizes.
                let how = if was_full && held.snap.ring.count > 0 {
                    Wake::One
                } else {
                    Wake::All
                };
                held.notify(Waiters::NotFull, how);
                drop(held);
                return postcard::from_bytes(&payload).map_err(|e| {
                    self.forget_one();
                    GetError::Serialization(e.to_string())
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
                held.spin(deadline, |count, _, shutdown| shutdown || count > 0)
            };
        }
    }

    /// Counts an item taken but not handed out (it did not deserialise) as
    /// done.
    fn forget_one(&self) {
        let mut held = self.state().lock();
        held.snap.unfinished = held.snap.unfinished.saturating_sub(1);
        held.commit();
        if held.snap.unfinished == 0 {
            held.notify(Waiters::AllDone, Wake::All);
        }
    }

    pub(super) fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut held = self.state().lock();
        if held.snap.unfinished == 0 {
            return Err(TaskDoneError);
        }
        held.snap.unfinished -= 1;
        held.commit();
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
        held.commit();
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

/// Empties a ring whose bytes are malformed, counting its items as done;
/// returns how many there were.
fn discard_all<V>(held: &mut Held<'_, V>) -> u64 {
    let dropped = held.snap.ring.count;
    held.snap.ring = Ring::default();
    held.snap.unfinished = held.snap.unfinished.saturating_sub(dropped);
    held.commit();
    held.notify(Waiters::NotFull, Wake::All);
    held.notify(Waiters::AllDone, Wake::All);
    dropped
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

impl<S: Layout> Bytes for Tail<'_, S> {
    fn size(&self) -> u64 {
        self.0.tail_len() as u64
    }

    fn read(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
        self.0.read_tail(offset(at)?, buf)
    }

    fn write(&self, at: u64, data: &[u8]) -> io::Result<()> {
        self.0.write_tail(offset(at)?, data)
    }
}

fn offset(at: u64) -> io::Result<usize> {
    usize::try_from(at).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

impl<T, V> Clone for Core<T, V> {
    fn clone(&self) -> Self {
        Self {
            object: self.object.clone(),
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
