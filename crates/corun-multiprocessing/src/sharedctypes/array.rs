//! [`Array`] and [`RawArray`]: Python's `multiprocessing.Array` and
//! `RawArray`, a fixed number of items of plain old data in shared memory.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use bytemuck::Pod;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::sharedctypes::shared_items::index_error;
use crate::sharedctypes::shared_items::{ARRAY, Guarded, Init, Items, ItemsGuard, RAW_ARRAY};
use crate::synchronize::{AcquireError, Lock, OwnerDied};
use corun_core::Error;

/// A fixed number of items of type `T` in shared memory, guarded by a
/// process-shared [`Lock`]: Python's `multiprocessing.Array`.
///
/// `T` is plain old data ([`bytemuck::Pod`]), as for [`Value`](crate::Value).
/// Clone the handle, or pass it to a worker as (part of) an argument, and
/// every copy is the same array: it travels as the name of its segment,
/// and attaching checks that the segment holds an `Array` of the same `T`.
///
/// | Python                                      | corun                                     |
/// |---------------------------------------------|-------------------------------------------|
/// | `Array('i', 10)`, `Array('i', [1, 2, 3])`   | [`Array::<i32>::new(10)`](Array::new) (zeroed), [`Array::from_slice(&[1, 2, 3])`](Array::from_slice) |
/// | `len(a)`, `a[i]`, `a[i] = x`                | [`len`](Array::len), [`get`](Array::get), [`set`](Array::set) (each takes the lock) |
/// | `a[:]`, `a[:] = xs`                         | [`to_vec`](Array::to_vec), [`copy_from_slice`](Array::copy_from_slice) |
/// | `with a.get_lock(): …` on many items        | [`a.lock()`](Array::lock): a guard that derefs to `[T]`, no copy |
/// | `a.get_lock()`                              | [`get_lock`](Array::get_lock)             |
/// | `Array('i', 10, lock=False)`, `RawArray('i', 10)` | [`RawArray`]                        |
///
/// The guard lends the items in place as `&[T]` and `&mut [T]` while it
/// holds the lock: sort them, sum them, copy a slice in, without a copy
/// out of shared memory. As for [`Value`](crate::Value), the lock is not
/// re-entrant (every other method of this array waits forever in a thread
/// that holds it), and a holder that dies hands the next
/// [`lock`](Self::lock) an [`OwnerDied`] carrying the guard, while
/// [`get`](Self::get), [`set`](Self::set), [`to_vec`](Self::to_vec) and
/// [`copy_from_slice`](Self::copy_from_slice) go on without a word.
///
/// # Examples
///
/// ```standalone_crate
/// use corun::multiprocessing::{Array, Process};
///
/// // Python's running sum, from CPython's test of shared arrays.
/// fn prefix_sums(array: Array<i32>) {
///     let mut items = array.lock().expect("no holder died");
///     for i in 1..items.len() {
///         items[i] += items[i - 1];
///     }
/// }
///
/// corun::multiprocessing::init(); // workers stop here: see `init`
/// let array = Array::from_slice(&[1, 2, 3, 4]).unwrap();
/// Process::start(prefix_sums, array.clone()).unwrap().join().unwrap();
/// assert_eq!(array.to_vec(), [1, 3, 6, 10]);
/// ```
pub struct Array<T> {
    items: Guarded<T, ARRAY>,
}

/// Holds an [`Array`]'s lock and lends its items as a slice; dropping it
/// releases the lock. Not `Send`: the thread that locked releases.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::Array;
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init(); // the cleanup tracker is a re-run of this program
///     let array = Array::from_slice(&[3u16, 1, 2])?;
///     {
///         let mut items = array.lock().expect("no holder died");
///         items.sort();
///         assert_eq!(items.iter().sum::<u16>(), 6);
///     }
///     assert_eq!(array.to_vec(), [1, 2, 3]);
///     Ok(())
/// }
/// ```
#[must_use = "the lock is released when the guard is dropped"]
pub struct ArrayGuard<'a, T> {
    guard: ItemsGuard<'a, T>,
}

/// A fixed number of items of type `T` in shared memory, with no lock:
/// Python's `RawArray`, or `Array(…, lock=False)`.
///
/// Each item is copied in and out with atomic stores and loads of the
/// widest machine word `T`'s alignment allows, as a
/// [`RawValue`](crate::RawValue) is: an item of one word is never seen
/// half-written, a larger one may be. Copies of several items
/// ([`to_vec`](Self::to_vec), [`copy_from_slice`](Self::copy_from_slice))
/// go item by item, so another process may see some items old and some
/// new. [`as_slice`](Self::as_slice) and
/// [`as_mut_slice`](Self::as_mut_slice) lend the items in place to code
/// that knows nobody else touches them meanwhile.
///
/// There is no lock to get:
///
/// ```compile_fail,E0599
/// # fn main() -> Result<(), corun::Error> {
/// let raw = corun::multiprocessing::RawArray::<u32>::new(4)?;
/// raw.lock();
/// # Ok(())
/// # }
/// ```
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::RawArray;
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init(); // the cleanup tracker is a re-run of this program
///     let array = RawArray::<f64>::new(3)?;
///     array.set(1, 0.5).unwrap();
///     assert_eq!(array.get(1), Some(0.5));
///     assert_eq!(array.get(3), None);
///     assert_eq!(array.to_vec(), [0.0, 0.5, 0.0]);
///     Ok(())
/// }
/// ```
pub struct RawArray<T> {
    items: Items<T, RAW_ARRAY>,
}

impl<T: Pod> Array<T> {
    /// A new array of `len` items, all zero, in a shared-memory segment of
    /// its own, with a new lock (in another).
    ///
    /// # Errors
    ///
    /// `InvalidArgument` when `len` items do not fit in memory; otherwise
    /// when a segment cannot be created (see
    /// [`SharedMemory::create`](crate::SharedMemory::create)).
    pub fn new(len: usize) -> Result<Self, Error> {
        Ok(Self {
            items: Guarded::create(Init::Zeroed(len))?,
        })
    }

    /// A new array holding a copy of `items`, as [`new`](Self::new) makes
    /// one.
    ///
    /// # Errors
    ///
    /// As for [`new`](Self::new).
    pub fn from_slice(items: &[T]) -> Result<Self, Error> {
        Ok(Self {
            items: Guarded::create(Init::Copy(items))?,
        })
    }

    /// Attaches to the array in segment `name` (what passing an `Array` to
    /// a worker does), and to its lock.
    ///
    /// # Errors
    ///
    /// `NotFound` when there is no such segment; `InvalidArgument` when it
    /// holds something other than an `Array<T>`: another kind of object,
    /// a [`RawArray`], or items of another type.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::{Array, RawArray};
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let array = Array::from_slice(&[1u64, 2])?;
    ///     assert_eq!(Array::<u64>::attach(array.name())?.to_vec(), [1, 2]);
    ///     let wrong = Array::<i64>::attach(array.name()).unwrap_err();
    ///     assert_eq!(wrong.kind(), corun::ErrorKind::InvalidArgument);
    ///     let unlocked = RawArray::<u64>::attach(array.name()).unwrap_err();
    ///     assert_eq!(unlocked.kind(), corun::ErrorKind::InvalidArgument);
    ///     Ok(())
    /// }
    /// ```
    pub fn attach(name: &str) -> Result<Self, Error> {
        Ok(Self {
            items: Guarded::attach(name)?,
        })
    }

    /// The number of items (fixed when the array was made).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the array has no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of item `index` (Python's `a[i]`), taken under the lock;
    /// `None` past the end.
    pub fn get(&self, index: usize) -> Option<T> {
        self.lock_anyway().get(index).copied()
    }

    /// Replaces item `index` (Python's `a[i] = x`), under the lock.
    ///
    /// # Errors
    ///
    /// An [`IndexOutOfRange`](corun_core::ErrorKind::IndexOutOfRange) error
    /// (Python's `IndexError`) when `index` is past the end.
    pub fn set(&self, index: usize, item: T) -> Result<(), Error> {
        let len = self.len();
        let mut items = self.lock_anyway();
        let slot = items
            .get_mut(index)
            .ok_or_else(|| index_error(index, len))?;
        *slot = item;
        Ok(())
    }

    /// A copy of all the items (Python's `a[:]`), taken under the lock.
    pub fn to_vec(&self) -> Vec<T> {
        self.lock_anyway().to_vec()
    }

    /// Replaces all the items with `items` (Python's `a[:] = xs`), under
    /// the lock.
    ///
    /// # Panics
    ///
    /// When `items` is not as long as the array, as
    /// [`slice::copy_from_slice`] does.
    pub fn copy_from_slice(&self, items: &[T]) {
        check_len(items.len(), self.len());
        self.lock_anyway().copy_from_slice(items);
    }

    /// Takes the lock, waiting as long as it takes, and lends the items.
    ///
    /// # Errors
    ///
    /// [`OwnerDied`], carrying the guard, when the previous holder died
    /// holding the lock: the items are as it left them.
    pub fn lock(&self) -> Result<ArrayGuard<'_, T>, OwnerDied<ArrayGuard<'_, T>>> {
        self.items
            .lock()
            .map(ArrayGuard::new)
            .map_err(|died| died.map(ArrayGuard::new))
    }

    /// Takes the lock if it is free now.
    ///
    /// # Errors
    ///
    /// [`AcquireError::Timeout`] when it is held;
    /// [`AcquireError::OwnerDied`] as for [`lock`](Self::lock).
    pub fn try_lock(&self) -> Result<ArrayGuard<'_, T>, AcquireError<ArrayGuard<'_, T>>> {
        self.items
            .try_lock()
            .map(ArrayGuard::new)
            .map_err(|e| e.map(ArrayGuard::new))
    }

    /// Takes the lock, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As [`try_lock`](Self::try_lock), once `timeout` has passed.
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> Result<ArrayGuard<'_, T>, AcquireError<ArrayGuard<'_, T>>> {
        self.items
            .lock_timeout(timeout)
            .map(ArrayGuard::new)
            .map_err(|e| e.map(ArrayGuard::new))
    }

    /// The lock that guards the items (Python's `get_lock()`).
    ///
    /// Holding it does not lend the items; [`lock`](Self::lock) does both.
    pub fn get_lock(&self) -> &Lock {
        self.items.get_lock()
    }

    /// The name of the shared-memory segment the items live in: what
    /// [`attach`](Self::attach) takes.
    pub fn name(&self) -> &str {
        self.items.name()
    }

    /// The guard, whether or not a holder died.
    fn lock_anyway(&self) -> ArrayGuard<'_, T> {
        self.lock().unwrap_or_else(OwnerDied::into_guard)
    }
}

impl<T: Pod> RawArray<T> {
    /// A new array of `len` items, all zero, in a shared-memory segment of
    /// its own.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` when `len` items do not fit in memory; otherwise
    /// when the segment cannot be created (see
    /// [`SharedMemory::create`](crate::SharedMemory::create)).
    pub fn new(len: usize) -> Result<Self, Error> {
        Ok(Self {
            items: Items::create(Init::Zeroed(len))?,
        })
    }

    /// A new array holding a copy of `items`.
    ///
    /// # Errors
    ///
    /// As for [`new`](Self::new).
    pub fn from_slice(items: &[T]) -> Result<Self, Error> {
        Ok(Self {
            items: Items::create(Init::Copy(items))?,
        })
    }

    /// Attaches to the array in segment `name` (what passing a `RawArray`
    /// to a worker does).
    ///
    /// # Errors
    ///
    /// `NotFound` when there is no such segment; `InvalidArgument` when it
    /// holds something other than a `RawArray<T>`: another kind of object,
    /// an [`Array`], or items of another type.
    pub fn attach(name: &str) -> Result<Self, Error> {
        Ok(Self {
            items: Items::attach(name)?,
        })
    }

    /// The number of items (fixed when the array was made).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the array has no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of item `index` (Python's `a[i]`); `None` past the end.
    pub fn get(&self, index: usize) -> Option<T> {
        self.items.load(index)
    }

    /// Replaces item `index` (Python's `a[i] = x`).
    ///
    /// # Errors
    ///
    /// An [`IndexOutOfRange`](corun_core::ErrorKind::IndexOutOfRange) error
    /// (Python's `IndexError`) when `index` is past the end.
    pub fn set(&self, index: usize, item: T) -> Result<(), Error> {
        self.items.store(index, item)
    }

    /// A copy of all the items (Python's `a[:]`), item by item.
    pub fn to_vec(&self) -> Vec<T> {
        (0..self.len())
            .map(|i| self.items.load(i).expect("index below the length"))
            .collect()
    }

    /// Replaces all the items with `items` (Python's `a[:] = xs`), item by
    /// item.
    ///
    /// # Panics
    ///
    /// When `items` is not as long as the array, as
    /// [`slice::copy_from_slice`] does.
    pub fn copy_from_slice(&self, items: &[T]) {
        check_len(items.len(), self.len());
        for (i, &item) in items.iter().enumerate() {
            self.items.store(i, item).expect("index below the length");
        }
    }

    /// All the items, in place.
    ///
    /// # Safety
    ///
    /// No process or thread may write the items while the slice lives (for
    /// example: the workers that wrote them have finished, or wait for an
    /// answer).
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::RawArray;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let array = RawArray::from_slice(&[1u32, 2, 3])?;
    ///     // SAFETY: this handle is the only one, and it does not write.
    ///     let sum: u32 = unsafe { array.as_slice() }.iter().sum();
    ///     assert_eq!(sum, 6);
    ///     Ok(())
    /// }
    /// ```
    #[allow(unsafe_code)]
    pub unsafe fn as_slice(&self) -> &[T] {
        // SAFETY: the caller promises that nobody writes meanwhile.
        unsafe { self.items.as_slice() }
    }

    /// All the items, in place and mutable.
    ///
    /// # Safety
    ///
    /// No other process or thread may read or write the items while the
    /// slice lives, and no other slice of them may exist (in this process
    /// or another): for example, each worker has been given a separate
    /// array, or they all wait for this one to finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::RawArray;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let array = RawArray::from_slice(&[3u32, 1, 2])?;
    ///     // SAFETY: this handle is the only one, and lends one slice.
    ///     unsafe { array.as_mut_slice() }.sort();
    ///     assert_eq!(array.to_vec(), [1, 2, 3]);
    ///     Ok(())
    /// }
    /// ```
    #[allow(unsafe_code)]
    #[allow(clippy::mut_from_ref, reason = "the caller vouches for exclusivity")]
    pub unsafe fn as_mut_slice(&self) -> &mut [T] {
        // SAFETY: the caller promises exclusive access.
        unsafe { self.items.as_mut_slice() }
    }

    /// The name of the shared-memory segment the items live in: what
    /// [`attach`](Self::attach) takes.
    pub fn name(&self) -> &str {
        self.items.name()
    }
}

impl<'a, T> ArrayGuard<'a, T> {
    fn new(guard: ItemsGuard<'a, T>) -> Self {
        Self { guard }
    }
}

/// Panics as `copy_from_slice` does when the lengths differ.
fn check_len(source: usize, destination: usize) {
    assert_eq!(
        source, destination,
        "source slice length ({source}) does not match the array's length ({destination})"
    );
}

impl<T> Deref for ArrayGuard<'_, T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.guard.items()
    }
}

impl<T> DerefMut for ArrayGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.guard.items_mut()
    }
}

impl<T> Clone for Array<T> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
        }
    }
}

impl<T> Clone for RawArray<T> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
        }
    }
}

impl<T: Pod> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Array").field("items", &self.items).finish()
    }
}

impl<T: Pod> fmt::Debug for RawArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawArray")
            .field("items", &self.items)
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for ArrayGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ArrayGuard").field(&&**self).finish()
    }
}

/// Serialised as its segment's name: the receiving process attaches.
impl<T: Pod> Serialize for Array<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(serializer)
    }
}

impl<'de, T: Pod> Deserialize<'de> for Array<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self {
            items: Guarded::deserialize(deserializer)?,
        })
    }
}

/// Serialised as its segment's name: the receiving process attaches.
impl<T: Pod> Serialize for RawArray<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(serializer)
    }
}

impl<'de, T: Pod> Deserialize<'de> for RawArray<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self {
            items: Items::deserialize(deserializer)?,
        })
    }
}
