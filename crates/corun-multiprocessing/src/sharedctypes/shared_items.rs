//! Items of a plain-old-data type `T` in a shared object's tail: what
//! [`Value`](crate::Value), [`RawValue`](crate::RawValue),
//! [`Array`](crate::Array) and [`RawArray`](crate::RawArray) are made of,
//! and all of their unsafe code.
//!
//! The state records the item type (size, alignment, a hash of its name),
//! the number of items and, for the locked kinds, the name of the [`Lock`]
//! that guards them. Attaching checks the kind (locked or raw, value or
//! array) and the item type, so a process cannot reach the items as
//! anything but what their creator made.
//!
//! There are two ways to the items, one per kind:
//!
//! - **locked** (`Value`, `Array`): an [`ItemsGuard`] lends `&[T]` and
//!   `&mut [T]` while it holds the lock. This is sound because every
//!   access to a locked kind's items takes that same lock (the kind is
//!   checked on attach, so nobody reaches them as a raw kind), and the
//!   lock is not re-entrant: a second acquire in the same thread waits
//!   forever instead of lending a second `&mut`.
//! - **raw** (`RawValue`, `RawArray`): [`Items::load`] and
//!   [`Items::store`] copy one item with atomic loads (acquire) or stores
//!   (release) of the widest word its alignment allows. Every process
//!   uses the same `T` (checked on attach), hence the same words, so
//!   concurrent copies never mix atomic and plain accesses: an item of
//!   one word is never torn, a larger one may be seen half-written.

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use bytemuck::Pod;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::shm::shared_object::{Layout, SharedObject};
use crate::synchronize::{AcquireError, Lock, LockGuard, OwnerDied};
use corun_core::Error;

/// The kind of a [`Value`](crate::Value)'s segment.
pub(crate) const VALUE: u64 = u64::from_le_bytes(*b"value\0\0\0");
/// The kind of a [`RawValue`](crate::RawValue)'s segment.
pub(crate) const RAW_VALUE: u64 = u64::from_le_bytes(*b"rawvalue");
/// The kind of an [`Array`](crate::Array)'s segment.
pub(crate) const ARRAY: u64 = u64::from_le_bytes(*b"array\0\0\0");
/// The kind of a [`RawArray`](crate::RawArray)'s segment.
pub(crate) const RAW_ARRAY: u64 = u64::from_le_bytes(*b"rawarray");

/// The longest lock name the state can hold (a `Lock`'s is 30 bytes).
const LOCK_NAME_MAX: usize = 64;

/// The state of a segment of items: what they are and how many.
#[repr(C)]
pub(crate) struct ItemsState<T, const K: u64> {
    item_size: AtomicU64,
    item_align: AtomicU64,
    type_hash: AtomicU64,
    len: AtomicU64,
    lock_name_len: AtomicU64,
    lock_name: [AtomicU64; LOCK_NAME_MAX / 8],
    _items: PhantomData<fn() -> T>,
}

// SAFETY: `#[repr(C)]`, atomics only (the marker has no size), valid all
// zero until `init`.
unsafe impl<T: Pod, const K: u64> Layout for ItemsState<T, K> {
    const KIND: [u8; 8] = K.to_le_bytes();

    fn init(&self, _tail: *mut u8, _tail_len: usize) -> std::io::Result<()> {
        self.item_size
            .store(size_of::<T>() as u64, Ordering::Relaxed);
        self.item_align
            .store(align_of::<T>() as u64, Ordering::Relaxed);
        self.type_hash.store(type_hash::<T>(), Ordering::Relaxed);
        Ok(())
    }
}

/// The items a new segment starts with.
pub(crate) enum Init<'a, T> {
    /// `len` items, all zero.
    Zeroed(usize),
    /// A copy of these.
    Copy(&'a [T]),
}

/// A handle to the items of kind `K` in one segment.
pub(crate) struct Items<T, const K: u64> {
    object: SharedObject<ItemsState<T, K>>,
    len: usize,
}

/// The items of kind `K` with the lock that guards every access to them.
pub(crate) struct Guarded<T, const K: u64> {
    items: Items<T, K>,
    lock: Lock,
}

/// Holds a [`Guarded`]'s lock, and lends its items meanwhile.
pub(crate) struct ItemsGuard<'a, T> {
    _held: LockGuard<'a>,
    ptr: *mut T,
    len: usize,
    _items: PhantomData<&'a mut [T]>,
}

impl<T: Pod, const K: u64> Items<T, K> {
    /// Creates a segment holding `init`'s items, with no lock: for the raw
    /// kinds only.
    pub(crate) fn create(init: Init<'_, T>) -> Result<Self, Error> {
        const {
            assert!(
                K == RAW_VALUE || K == RAW_ARRAY,
                "locked items need their lock"
            )
        };
        Self::make(init, None)
    }

    /// Creates a segment holding `init`'s items; a locked kind records
    /// `lock`'s name.
    fn make(init: Init<'_, T>, lock: Option<&Lock>) -> Result<Self, Error> {
        const { assert!(align_of::<T>() <= 64, "items aligned beyond a cache line") };
        let len = match init {
            Init::Zeroed(len) => len,
            Init::Copy(items) => items.len(),
        };
        let bytes = len.checked_mul(size_of::<T>()).ok_or_else(|| {
            Error::invalid_argument(format!(
                "{len} items of {} bytes are too many",
                size_of::<T>()
            ))
        })?;
        let object = SharedObject::<ItemsState<T, K>>::create(bytes)?;
        // Nobody else knows the segment's name yet: these stores are part
        // of making it, and reach an attacher with the name.
        let state = object.state();
        state.len.store(len as u64, Ordering::Relaxed);
        if let Some(lock) = lock {
            let name = lock.name().as_bytes();
            if name.len() > LOCK_NAME_MAX {
                return Err(Error::invalid_argument("lock name too long to record"));
            }
            let mut padded = [0u8; LOCK_NAME_MAX];
            padded[..name.len()].copy_from_slice(name);
            for (word, chunk) in state.lock_name.iter().zip(padded.chunks_exact(8)) {
                let chunk = chunk.try_into().expect("chunks of 8");
                word.store(u64::from_le_bytes(chunk), Ordering::Relaxed);
            }
            state
                .lock_name_len
                .store(name.len() as u64, Ordering::Relaxed);
        }
        let items = Self { object, len };
        if let Init::Copy(from) = init {
            // SAFETY: the segment is fresh and its name unknown to anybody
            // else: this is the only access.
            unsafe { items.as_mut_slice() }.copy_from_slice(from);
        }
        Ok(items)
    }

    /// Attaches to the items in segment `name`.
    ///
    /// # Errors
    ///
    /// `NotFound` when there is no such segment; `InvalidData` when it
    /// holds another kind of object or items of another type.
    pub(crate) fn attach(name: &str) -> Result<Self, Error> {
        let object = SharedObject::<ItemsState<T, K>>::attach(name)?;
        let state = object.state();
        let load = |word: &AtomicU64| word.load(Ordering::Relaxed);
        let (size, align) = (load(&state.item_size), load(&state.item_align));
        if size != size_of::<T>() as u64
            || align != align_of::<T>() as u64
            || load(&state.type_hash) != type_hash::<T>()
        {
            return Err(Error::invalid_argument(format!(
                "shared memory {name:?} holds items of another type \
                     ({size} bytes, aligned to {align}) than {} ({} bytes, aligned to {})",
                std::any::type_name::<T>(),
                size_of::<T>(),
                align_of::<T>()
            )));
        }
        let len = usize::try_from(load(&state.len))
            .ok()
            .filter(|&len| {
                len.checked_mul(size_of::<T>())
                    .is_some_and(|bytes| bytes <= object.tail_len())
            })
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "shared memory {name:?} records more items than it holds"
                ))
            })?;
        Ok(Self { object, len })
    }

    /// The name of the lock recorded by [`create`](Self::create), if any.
    fn lock_name(&self) -> Option<String> {
        let state = self.object.state();
        let len = state.lock_name_len.load(Ordering::Relaxed) as usize;
        if len == 0 || len > LOCK_NAME_MAX {
            return None;
        }
        let mut bytes = Vec::with_capacity(LOCK_NAME_MAX);
        for word in &state.lock_name {
            bytes.extend_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
        }
        bytes.truncate(len);
        String::from_utf8(bytes).ok()
    }

    /// The number of items.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The segment's name.
    pub(crate) fn name(&self) -> &str {
        self.object.name()
    }

    fn ptr(&self) -> *mut T {
        // The tail is 64-byte aligned (see `shared_object.rs`), enough for
        // `T` (asserted in `create`).
        self.object.tail().cast::<T>()
    }

    /// Copies item `index` out, with atomic loads: for the raw kinds only.
    pub(crate) fn load(&self, index: usize) -> Option<T> {
        const {
            assert!(
                K == RAW_VALUE || K == RAW_ARRAY,
                "locked items are read under the lock"
            )
        };
        (index < self.len).then(|| {
            // SAFETY: the item is inside the tail (index < len, checked on
            // attach), aligned, and a raw kind's items are accessed by
            // `load_words` and `store_words` only (or under the caller's
            // promise of `as_slice`/`as_mut_slice`).
            unsafe { load_words(self.ptr().add(index)) }
        })
    }

    /// Copies `item` into item `index`, with atomic stores: for the raw
    /// kinds only.
    pub(crate) fn store(&self, index: usize, item: T) -> Result<(), Error> {
        const {
            assert!(
                K == RAW_VALUE || K == RAW_ARRAY,
                "locked items are written under the lock"
            )
        };
        if index >= self.len {
            return Err(index_error(index, self.len));
        }
        // SAFETY: as in `load`.
        unsafe { store_words(self.ptr().add(index), item) };
        Ok(())
    }

    /// All the items, as a slice.
    ///
    /// # Safety
    ///
    /// No process or thread may write the items while the slice lives.
    pub(crate) unsafe fn as_slice(&self) -> &[T] {
        // SAFETY: `len` items inside the tail (checked on create and
        // attach), aligned, initialised (any bytes are a valid `T`); the
        // caller promises nobody writes meanwhile.
        unsafe { std::slice::from_raw_parts(self.ptr(), self.len) }
    }

    /// All the items, as a mutable slice.
    ///
    /// # Safety
    ///
    /// No process or thread may read or write the items while the slice
    /// lives, and no other slice of them may exist.
    #[allow(clippy::mut_from_ref, reason = "the caller vouches for exclusivity")]
    pub(crate) unsafe fn as_mut_slice(&self) -> &mut [T] {
        // SAFETY: as in `as_slice`; the caller promises exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr(), self.len) }
    }
}

impl<T: Pod, const K: u64> Guarded<T, K> {
    /// Creates a new lock, and a segment holding `init`'s items guarded by
    /// it.
    pub(crate) fn create(init: Init<'_, T>) -> Result<Self, Error> {
        const {
            assert!(
                K == VALUE || K == ARRAY,
                "only the locked kinds have a lock"
            )
        };
        let lock = Lock::new()?;
        let items = Items::make(init, Some(&lock))?;
        Ok(Self { items, lock })
    }

    /// Attaches to the items in segment `name`, and to their lock.
    ///
    /// # Errors
    ///
    /// As [`Items::attach`]; `NotFound` when the lock is gone (its last
    /// user dropped it, which takes every handle to the items too).
    pub(crate) fn attach(name: &str) -> Result<Self, Error> {
        let items = Items::<T, K>::attach(name)?;
        let lock_name = items.lock_name().ok_or_else(|| {
            Error::invalid_argument(format!("shared memory {name:?} records no lock"))
        })?;
        let lock = Lock::attach(&lock_name)?;
        Ok(Self { items, lock })
    }

    /// Takes the lock, waiting as long as it takes.
    pub(crate) fn lock(&self) -> Result<ItemsGuard<'_, T>, OwnerDied<ItemsGuard<'_, T>>> {
        self.lock
            .acquire()
            .map(|held| self.guard(held))
            .map_err(|died| died.map(|held| self.guard(held)))
    }

    /// Takes the lock if it is free now.
    pub(crate) fn try_lock(&self) -> Result<ItemsGuard<'_, T>, AcquireError<ItemsGuard<'_, T>>> {
        self.lock
            .try_acquire()
            .map(|held| self.guard(held))
            .map_err(|e| e.map(|held| self.guard(held)))
    }

    /// Takes the lock, waiting at most `timeout`.
    pub(crate) fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> Result<ItemsGuard<'_, T>, AcquireError<ItemsGuard<'_, T>>> {
        self.lock
            .acquire_timeout(timeout)
            .map(|held| self.guard(held))
            .map_err(|e| e.map(|held| self.guard(held)))
    }

    fn guard<'a>(&'a self, held: LockGuard<'a>) -> ItemsGuard<'a, T> {
        ItemsGuard {
            _held: held,
            ptr: self.items.ptr(),
            len: self.items.len,
            _items: PhantomData,
        }
    }

    /// The lock that guards the items.
    pub(crate) fn get_lock(&self) -> &Lock {
        &self.lock
    }

    /// The number of items.
    pub(crate) fn len(&self) -> usize {
        self.items.len
    }

    /// The items' segment's name.
    pub(crate) fn name(&self) -> &str {
        self.items.name()
    }
}

impl<T> ItemsGuard<'_, T> {
    /// The items, while the lock is held.
    pub(crate) fn items(&self) -> &[T] {
        // SAFETY: `len` items inside the tail, aligned, initialised; the
        // lock is held, and every access to a locked kind's items holds it
        // (see the module's docs), so nobody writes meanwhile.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The items, mutably, while the lock is held.
    pub(crate) fn items_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `items`; `&mut self` makes this the only slice
        // lent by this guard, and no other guard exists while the lock is
        // held (it is not re-entrant).
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

/// Copies the item at `src` out with atomic loads (acquire) of the widest
/// word its alignment allows.
///
/// # Safety
///
/// `src` is valid for reads of a `T` and aligned, and every concurrent
/// access to that item goes through `load_words` or `store_words` with
/// the same `T`.
unsafe fn load_words<T: Pod>(src: *const T) -> T {
    let mut item = T::zeroed();
    let out = bytemuck::bytes_of_mut(&mut item);
    macro_rules! copy {
        ($atomic:ty, $width:literal) => {
            for (k, chunk) in out.chunks_exact_mut($width).enumerate() {
                // SAFETY: word k lies inside the item (its size is a
                // multiple of its alignment, hence of the width), is
                // aligned to the width (as the item is), and is accessed
                // only atomically with this width (the caller's promise).
                let word = unsafe {
                    <$atomic>::from_ptr(src.cast::<u8>().add(k * $width).cast_mut().cast())
                };
                chunk.copy_from_slice(&word.load(Ordering::Acquire).to_ne_bytes());
            }
        };
    }
    match align_of::<T>() {
        1 => copy!(AtomicU8, 1),
        2 => copy!(AtomicU16, 2),
        4 => copy!(AtomicU32, 4),
        _ => copy!(AtomicU64, 8),
    }
    item
}

/// Copies `item` to `dst` with atomic stores (release) of the widest word
/// its alignment allows.
///
/// # Safety
///
/// As for [`load_words`], for writes.
unsafe fn store_words<T: Pod>(dst: *mut T, item: T) {
    let bytes = bytemuck::bytes_of(&item);
    macro_rules! copy {
        ($atomic:ty, $int:ty, $width:literal) => {
            for (k, chunk) in bytes.chunks_exact($width).enumerate() {
                // SAFETY: as in `load_words`.
                let word = unsafe { <$atomic>::from_ptr(dst.cast::<u8>().add(k * $width).cast()) };
                let chunk = chunk.try_into().expect("chunks of the width");
                word.store(<$int>::from_ne_bytes(chunk), Ordering::Release);
            }
        };
    }
    match align_of::<T>() {
        1 => copy!(AtomicU8, u8, 1),
        2 => copy!(AtomicU16, u16, 2),
        4 => copy!(AtomicU32, u32, 4),
        _ => copy!(AtomicU64, u64, 8),
    }
}

/// A hash of `T`'s name (FNV-1a), the same in every build: a check that
/// two processes mean the same type, beyond its size and alignment.
fn type_hash<T>() -> u64 {
    std::any::type_name::<T>()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

impl<T, const K: u64> Clone for Items<T, K> {
    fn clone(&self) -> Self {
        Self {
            object: self.object.clone(),
            len: self.len,
        }
    }
}

impl<T, const K: u64> Clone for Guarded<T, K> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
            lock: self.lock.clone(),
        }
    }
}

impl<T: Pod, const K: u64> fmt::Debug for Items<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items")
            .field("name", &self.name())
            .field("type", &std::any::type_name::<T>())
            .field("len", &self.len)
            .finish()
    }
}

impl<T: Pod, const K: u64> fmt::Debug for Guarded<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guarded")
            .field("items", &self.items)
            .field("lock", &self.lock)
            .finish()
    }
}

/// Serialised as the segment's name: the receiving process attaches.
impl<T: Pod, const K: u64> Serialize for Items<T, K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.object.serialize(serializer)
    }
}

impl<'de, T: Pod, const K: u64> Deserialize<'de> for Items<T, K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::attach(&name).map_err(serde::de::Error::custom)
    }
}

/// Serialised as the items' segment's name, which records the lock's.
impl<T: Pod, const K: u64> Serialize for Guarded<T, K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The lock's segment travels by the name the items record; keep it
        // alive with the call too.
        self.lock.keep_alive();
        self.items.serialize(serializer)
    }
}

impl<'de, T: Pod, const K: u64> Deserialize<'de> for Guarded<T, K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::attach(&name).map_err(serde::de::Error::custom)
    }
}

/// An index past the end of an array of `len` items (Python's `IndexError`).
pub(crate) fn index_error(index: usize, len: usize) -> Error {
    Error::new(
        corun_core::ErrorKind::IndexOutOfRange,
        format!("index {index} out of range for an array of {len} items"),
    )
}
