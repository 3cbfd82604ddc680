//! Python's `multiprocessing.sharedctypes`: typed values and arrays of plain old data in shared memory, with or without a process-shared lock.
//!
//!
//! `Value<T>`, `Array<T>` (locked) and `RawValue<T>`, `RawArray<T>` (not) are
//! each one shared object (`shm/shared_object.rs`) whose tail holds the items,
//! `T: bytemuck::Pod`; `shared_items.rs` holds all their unsafe code.
//!
//! ```text
//! segment:  header (kind: value | rawvalue | array | rawarray)
//!           state:  item size, item alignment, FNV-1a hash of type_name::<T>(),
//!                   number of items, name of the lock's segment (locked kinds)
//!           tail:   the items, 64-byte aligned
//! ```
//!
//! A handle travels as its segment's name. Attaching checks the kind and the
//! item type, and a locked kind attaches to the lock whose name its state
//! records (a `Lock` of its own, in a second segment, made with it), so a
//! process cannot reach a value or an array as anything but what its creator
//! made, nor pair it with another lock.
//!
//! - Locked kinds: every access holds the lock. The guard lends `&T` /
//!   `&mut T` (`&[T]` / `&mut [T]`) in place; the lock is not re-entrant, so
//!   a thread never holds two guards of one lock. A holder that dies makes
//!   the next `lock` return `OwnerDied` with the guard (the robust mutex);
//!   `load`, `store`, `get`, `set`, … take the guard either way.
//! - Raw kinds: no lock, no references. Each item is copied with atomic
//!   loads (acquire) and stores (release) of the widest word its alignment
//!   allows, the same words in every process since `T` is checked, so an
//!   item of one word is never torn and racing copies are not undefined
//!   behaviour; a larger item may be seen half-written, as in Python.
//!   `RawArray::as_slice` / `as_mut_slice` lend the items in place to a
//!   caller that vouches (unsafe) that nobody writes, or touches, meanwhile.
//!

pub(crate) mod array;
#[allow(unsafe_code)]
pub(crate) mod shared_items;
pub(crate) mod value;
