//! [`Value`] and [`RawValue`]: Python's `multiprocessing.Value` and
//! `RawValue`, one item of plain old data in shared memory.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use bytemuck::Pod;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::sharedctypes::shared_items::{Guarded, Init, Items, ItemsGuard, RAW_VALUE, VALUE};
use crate::synchronize::{AcquireError, Lock, OwnerDied};
use corun_core::Error;

/// One value of type `T` in shared memory, guarded by a process-shared
/// [`Lock`]: Python's `multiprocessing.Value`.
///
/// `T` is plain old data ([`bytemuck::Pod`]): integers, floats, arrays of
/// them, and `#[repr(C)]` structs of them that derive `Pod` and `Zeroable`
/// (bytemuck's `derive` feature). Clone the handle, or pass it to a worker
/// as (part of) an argument, and every copy is the same value: it travels
/// as the name of its segment, and attaching checks that the segment holds
/// a `Value` of the same `T` (size, alignment and type name).
///
/// | Python                                     | corun                                         |
/// |--------------------------------------------|-----------------------------------------------|
/// | `Value('i', 5)`                            | [`Value::<i32>::new(5)`](Value::new)          |
/// | `v.value`, `v.value = x`                   | [`load`](Value::load), [`store`](Value::store) (each takes the lock) |
/// | `with v.get_lock(): v.value += 1`          | [`*v.lock()? += 1`](Value::lock), [`v.update(\|x\| *x += 1)`](Value::update) |
/// | `v.get_lock()`                             | [`get_lock`](Value::get_lock)                 |
/// | `Value('i', 5, lock=False)`, `RawValue('i', 5)` | [`RawValue::new(5)`](RawValue::new)      |
///
/// The guard that [`lock`](Self::lock) returns is the Rust form of
/// `with v.get_lock():`: it lends `&mut T` while it holds the lock. The
/// lock is not re-entrant (Python's default is an `RLock`): while a thread
/// holds it, through a guard or through [`get_lock`](Self::get_lock), that
/// thread's `load`, `store`, `update` or `lock` of the same value waits
/// forever.
///
/// When a process dies holding the lock (killed by any signal, even
/// SIGKILL), the next `lock` takes it with an [`OwnerDied`] error that
/// carries the guard, and the value is as the dead process left it.
/// [`load`](Self::load), [`store`](Self::store) and
/// [`update`](Self::update) go on without a word in that case: use `lock`
/// where a half-done update matters.
///
/// Python's `get_obj()` (the unlocked object under the lock) has no twin:
/// a write that skips the lock could race a guard's `&mut T`. A value is
/// made locked ([`Value`]) or not ([`RawValue`]), and attaching checks
/// which.
///
/// # Examples
///
/// Two processes count under the lock:
///
/// ```standalone_crate
/// use corun::multiprocessing::{Process, Value};
///
/// fn count(counter: Value<u64>) {
///     for _ in 0..100 {
///         *counter.lock().expect("no holder died") += 1;
///     }
/// }
///
/// corun::multiprocessing::init(); // workers stop here: see `init`
/// let counter = Value::new(0u64).unwrap();
/// let a = Process::start(count, counter.clone()).unwrap();
/// let b = Process::start(count, counter.clone()).unwrap();
/// a.join().unwrap();
/// b.join().unwrap();
/// assert_eq!(counter.load(), 200);
/// ```
///
/// A struct of your own, deriving bytemuck's `Pod` and `Zeroable`:
///
/// ```
/// use bytemuck::{Pod, Zeroable};
/// use corun::multiprocessing::Value;
///
/// #[repr(C)]
/// #[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
/// struct Point {
///     x: f64,
///     y: f64,
/// }
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init(); // the cleanup tracker is a re-run of this program
///     let p = Value::new(Point { x: 1.0, y: 2.0 })?;
///     p.update(|p| p.x += 10.0);
///     assert_eq!(p.load(), Point { x: 11.0, y: 2.0 });
///     Ok(())
/// }
/// ```
pub struct Value<T> {
    items: Guarded<T, VALUE>,
}

/// Holds a [`Value`]'s lock and lends its `T`; dropping it releases the
/// lock. Not `Send`: the thread that locked releases.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::Value;
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let v = Value::new([1u8, 2, 3])?;
///     {
///         let mut held = v.lock().expect("no holder died");
///         held[0] = 9;
///         assert!(v.get_lock().locked());
///     }
///     assert_eq!(v.load(), [9, 2, 3]);
///     Ok(())
/// }
/// ```
#[must_use = "the lock is released when the guard is dropped"]
pub struct ValueGuard<'a, T> {
    guard: ItemsGuard<'a, T>,
}

/// One value of type `T` in shared memory, with no lock: Python's
/// `RawValue`, or `Value(…, lock=False)`.
///
/// [`load`](Self::load) and [`store`](Self::store) copy the value with
/// atomic loads and stores of the widest machine word `T`'s alignment
/// allows: a `T` of one word (an `i32`, a `u64`, an `f64`) is never seen
/// half-written, and a store is visible to a load that sees it along with
/// everything its process wrote before (release and acquire). A larger
/// `T` may be seen torn, with some words from one store and some from
/// another, as in Python; use a [`Value`] when that matters.
///
/// There is no lock to get:
///
/// ```compile_fail,E0599
/// # fn main() -> Result<(), corun::Error> {
/// let raw = corun::multiprocessing::RawValue::new(1u32)?;
/// raw.get_lock();
/// # Ok(())
/// # }
/// ```
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::RawValue;
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init(); // the cleanup tracker is a re-run of this program
///     let flag = RawValue::new(0u32)?;
///     let same = RawValue::<u32>::attach(flag.name())?; // as a worker would
///     same.store(1);
///     assert_eq!(flag.load(), 1);
///     Ok(())
/// }
/// ```
pub struct RawValue<T> {
    items: Items<T, RAW_VALUE>,
}

impl<T: Pod> Value<T> {
    /// A new value, `initial`, in a shared-memory segment of its own, with
    /// a new lock (in another).
    ///
    /// # Errors
    ///
    /// When a segment cannot be created (see
    /// [`SharedMemory::create`](crate::SharedMemory::create)).
    pub fn new(initial: T) -> Result<Self, Error> {
        Ok(Self {
            items: Guarded::create(Init::Copy(&[initial]))?,
        })
    }

    /// Attaches to the value in segment `name` (what passing a `Value` to
    /// a worker does), and to its lock.
    ///
    /// # Errors
    ///
    /// `NotFound` when there is no such segment; `InvalidArgument` when it
    /// holds something other than a `Value<T>`: another kind of object, a
    /// [`RawValue`], or a value of another type.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Value;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let v = Value::new(7u32)?;
    ///     assert_eq!(Value::<u32>::attach(v.name())?.load(), 7);
    ///     let wrong = Value::<f32>::attach(v.name()).unwrap_err();
    ///     assert_eq!(wrong.kind(), corun::ErrorKind::InvalidArgument);
    ///     Ok(())
    /// }
    /// ```
    pub fn attach(name: &str) -> Result<Self, Error> {
        Ok(Self {
            items: Guarded::attach(name)?,
        })
    }

    /// A copy of the value, taken under the lock (Python's `v.value`).
    ///
    /// Waits forever if this thread holds the lock.
    pub fn load(&self) -> T {
        *self.lock().unwrap_or_else(OwnerDied::into_guard)
    }

    /// Replaces the value, under the lock (Python's `v.value = x`).
    ///
    /// Waits forever if this thread holds the lock.
    pub fn store(&self, value: T) {
        *self.lock().unwrap_or_else(OwnerDied::into_guard) = value;
    }

    /// Runs `f` on the value under the lock, and returns what it returns:
    /// a read-modify-write that no other process interleaves with.
    ///
    /// Waits forever if this thread holds the lock. If `f` panics, the
    /// lock is released and the value keeps what `f` wrote.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Value;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let v = Value::new(41i64)?;
    ///     let was = v.update(|x| std::mem::replace(x, *x + 1));
    ///     assert_eq!((was, v.load()), (41, 42));
    ///     Ok(())
    /// }
    /// ```
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.lock().unwrap_or_else(OwnerDied::into_guard))
    }

    /// Takes the lock, waiting as long as it takes, and lends the value.
    ///
    /// # Errors
    ///
    /// [`OwnerDied`], carrying the guard, when the previous holder died
    /// holding the lock: the value is as it left it.
    pub fn lock(&self) -> Result<ValueGuard<'_, T>, OwnerDied<ValueGuard<'_, T>>> {
        self.items
            .lock()
            .map(ValueGuard::new)
            .map_err(|died| died.map(ValueGuard::new))
    }

    /// Takes the lock if it is free now.
    ///
    /// # Errors
    ///
    /// [`AcquireError::Timeout`] when it is held;
    /// [`AcquireError::OwnerDied`] as for [`lock`](Self::lock).
    pub fn try_lock(&self) -> Result<ValueGuard<'_, T>, AcquireError<ValueGuard<'_, T>>> {
        self.items
            .try_lock()
            .map(ValueGuard::new)
            .map_err(|e| e.map(ValueGuard::new))
    }

    /// Takes the lock, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As [`try_lock`](Self::try_lock), once `timeout` has passed.
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> Result<ValueGuard<'_, T>, AcquireError<ValueGuard<'_, T>>> {
        self.items
            .lock_timeout(timeout)
            .map(ValueGuard::new)
            .map_err(|e| e.map(ValueGuard::new))
    }

    /// The lock that guards the value (Python's `get_lock()`).
    ///
    /// Holding it does not lend the value; [`lock`](Self::lock) does both.
    pub fn get_lock(&self) -> &Lock {
        self.items.get_lock()
    }

    /// The name of the shared-memory segment the value lives in: what
    /// [`attach`](Self::attach) takes.
    pub fn name(&self) -> &str {
        self.items.name()
    }
}

impl<'a, T> ValueGuard<'a, T> {
    fn new(guard: ItemsGuard<'a, T>) -> Self {
        Self { guard }
    }
}

impl<T: Pod> RawValue<T> {
    /// A new value, `initial`, in a shared-memory segment of its own.
    ///
    /// # Errors
    ///
    /// When the segment cannot be created (see
    /// [`SharedMemory::create`](crate::SharedMemory::create)).
    pub fn new(initial: T) -> Result<Self, Error> {
        Ok(Self {
            items: Items::create(Init::Copy(&[initial]))?,
        })
    }

    /// Attaches to the value in segment `name` (what passing a `RawValue`
    /// to a worker does).
    ///
    /// # Errors
    ///
    /// `NotFound` when there is no such segment; `InvalidArgument` when it
    /// holds something other than a `RawValue<T>`: another kind of object,
    /// a [`Value`], or a value of another type.
    pub fn attach(name: &str) -> Result<Self, Error> {
        Ok(Self {
            items: Items::attach(name)?,
        })
    }

    /// A copy of the value (Python's `v.value`): word by word, see the
    /// type's docs.
    pub fn load(&self) -> T {
        self.items.load(0).expect("a value holds one item")
    }

    /// Replaces the value (Python's `v.value = x`): word by word, see the
    /// type's docs.
    pub fn store(&self, value: T) {
        self.items.store(0, value).expect("a value holds one item");
    }

    /// The name of the shared-memory segment the value lives in: what
    /// [`attach`](Self::attach) takes.
    pub fn name(&self) -> &str {
        self.items.name()
    }
}

impl<T> Deref for ValueGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard.items()[0]
    }
}

impl<T> DerefMut for ValueGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard.items_mut()[0]
    }
}

impl<T> Clone for Value<T> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
        }
    }
}

impl<T> Clone for RawValue<T> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
        }
    }
}

impl<T: Pod> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value").field("items", &self.items).finish()
    }
}

impl<T: Pod> fmt::Debug for RawValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawValue")
            .field("items", &self.items)
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for ValueGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ValueGuard").field(&**self).finish()
    }
}

/// Serialised as its segment's name: the receiving process attaches.
impl<T: Pod> Serialize for Value<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(serializer)
    }
}

impl<'de, T: Pod> Deserialize<'de> for Value<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self {
            items: Guarded::deserialize(deserializer)?,
        })
    }
}

/// Serialised as its segment's name: the receiving process attaches.
impl<T: Pod> Serialize for RawValue<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(serializer)
    }
}

impl<'de, T: Pod> Deserialize<'de> for RawValue<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self {
            items: Items::deserialize(deserializer)?,
        })
    }
}
