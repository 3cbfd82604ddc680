//! `Chunks`: an append-only list that grows by fixed-size chunks.
//!
//! A `Vec` that doubles copies everything it holds at each growth, and a
//! recorder's log grows while its owner holds the log's lock: a copy of
//! megabytes would stall a worker mid-task. Chunks never move what they
//! hold, and chunks of one size are reused by the allocator once a merge
//! frees them.

use std::iter::Flatten;
use std::vec;

/// Bytes per chunk (below the allocator's threshold for mapping fresh
/// memory, so freed chunks are reused).
const CHUNK_BYTES: usize = 32 * 1024;

/// An append-only list kept in chunks of about [`CHUNK_BYTES`].
#[derive(Debug)]
pub(crate) struct Chunks<T> {
    /// Full chunks, oldest first.
    full: Vec<Vec<T>>,
    /// The chunk being filled (it starts small and doubles up to a chunk).
    current: Vec<T>,
}

impl<T> Chunks<T> {
    /// Items per chunk.
    const LEN: usize = if size_of::<T>() == 0 {
        usize::MAX
    } else {
        let len = CHUNK_BYTES / size_of::<T>();
        if len == 0 { 1 } else { len }
    };

    /// Appends `item`.
    pub(crate) fn push(&mut self, item: T) {
        if self.current.len() >= Self::LEN {
            let full = std::mem::replace(&mut self.current, Vec::with_capacity(Self::LEN));
            self.full.push(full);
        }
        self.current.push(item);
    }

    /// How many items are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.full.iter().map(Vec::len).sum::<usize>() + self.current.len()
    }
}

impl<T> Default for Chunks<T> {
    fn default() -> Self {
        Self {
            full: Vec::new(),
            current: Vec::new(),
        }
    }
}

impl<T> IntoIterator for Chunks<T> {
    type Item = T;
    type IntoIter = std::iter::Chain<Flatten<vec::IntoIter<Vec<T>>>, vec::IntoIter<T>>;

    /// The items in the order they were pushed.
    fn into_iter(self) -> Self::IntoIter {
        self.full.into_iter().flatten().chain(self.current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_across_chunks() {
        let mut chunks = Chunks::default();
        let n = Chunks::<u64>::LEN * 2 + 7;
        for i in 0..n {
            chunks.push(i);
        }
        assert_eq!(chunks.len(), n);
        assert_eq!(chunks.full.len(), 2);
        assert!(chunks.full.iter().all(|c| c.len() == Chunks::<u64>::LEN));
        assert!(chunks.into_iter().eq(0..n));
    }

    #[test]
    fn empty_and_zero_sized() {
        assert_eq!(Chunks::<u8>::default().into_iter().count(), 0);
        let mut units = Chunks::default();
        for _ in 0..10 {
            units.push(());
        }
        assert_eq!(units.into_iter().count(), 10);
    }
}
