//! [`IndexError`]: an index past the end of a shared array.

use std::fmt;

/// An index past the end of an [`Array`](crate::Array) or
/// [`RawArray`](crate::RawArray): Python's `IndexError`.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::Array;
///
/// fn main() -> std::io::Result<()> {
///     corun::multiprocessing::init(); // the cleanup tracker is a re-run of this program
///     let array = Array::<u32>::new(3)?;
///     let e = array.set(3, 7).unwrap_err();
///     assert_eq!((e.index(), e.array_len()), (3, 3));
///     assert_eq!(e.to_string(), "index 3 out of range for an array of 3 items");
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexError {
    index: usize,
    len: usize,
}

impl IndexError {
    pub(crate) fn new(index: usize, len: usize) -> Self {
        Self { index, len }
    }

    /// The index asked for.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The number of items in the array.
    pub fn array_len(&self) -> usize {
        self.len
    }
}

impl fmt::Display for IndexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "index {} out of range for an array of {} items",
            self.index, self.len
        )
    }
}

impl std::error::Error for IndexError {}
