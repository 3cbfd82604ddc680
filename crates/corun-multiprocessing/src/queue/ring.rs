//! The ring of bytes that holds a queue's items, one record each:
//!
//! ```text
//! [len: u32 LE][len bytes of postcard][padding to 4 bytes]
//! [u32::MAX - 1][len: u64 LE][len bytes of postcard][padding]   (len ≥ 2³² − 2)
//! ```
//!
//! A record never wraps around the end of the ring: when one does not fit
//! before the end, a wrap marker (`len == u32::MAX`) fills the rest and the
//! record starts at offset 0. When the queue is empty the next record starts
//! at 0 again.
//!
//! A ring without room for a record grows ([`Ring::grow`]) to at least
//! twice its size, and enough for the record wherever the others lie.
//!
//! This file is the arithmetic only, over a [`Ring`] position that the
//! caller publishes once the record's bytes are written (`state.rs`).

use std::fmt;
use std::io;

/// Record sizes and offsets are multiples of this.
const ALIGN: u64 = 4;
/// The length word before each record.
const HEADER: u64 = 4;
/// The length word and the 64-bit length before a long record.
const LONG_HEADER: u64 = 12;
/// The length word of a wrap marker.
const WRAP: u32 = u32::MAX;
/// The length word of a long record, whose length follows as a `u64`.
const LONG: u32 = u32::MAX - 1;
/// A grown ring's size is a multiple of this.
const GROWN_ALIGN: u64 = 4096;
/// The smallest ring accepted, in bytes.
pub(super) const MIN_SIZE: usize = 16;

/// Where a ring's records are: byte offsets and counts, all below its
/// size. Plain numbers, copied out of shared memory and published back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Ring {
    /// Offset of the oldest record (or of the wrap marker before it).
    pub(super) head: u64,
    /// Offset where the next record goes.
    pub(super) tail: u64,
    /// Bytes from `head` up to `tail`, wrap padding included: tells a full
    /// ring from an empty one when `head == tail`.
    pub(super) used: u64,
    /// Records in the ring.
    pub(super) count: u64,
}

/// The bytes a ring lives in.
pub(super) trait Bytes {
    /// The ring's size, a multiple of 4.
    fn size(&self) -> u64;
    /// Copies `buf.len()` bytes at `at` into `buf`.
    fn read(&self, at: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Copies `data` to `at`.
    fn write(&self, at: u64, data: &[u8]) -> io::Result<()>;
    /// Copies the `len` bytes at `from` to `to`.
    fn copy(&self, from: u64, to: u64, len: u64) -> io::Result<()>;
}

/// The ring's bytes do not hold well-formed records: only memory written
/// by something other than a queue can do this.
#[derive(Debug)]
pub(super) struct Malformed(pub(super) String);

impl Ring {
    /// Appends a record holding `payload`, if there is room now; returns
    /// whether it did. `halfway` runs when half of the payload is written
    /// (a hook for fault-injection tests). `self` changes only on success,
    /// and the bytes written before then are outside the records.
    pub(super) fn push(
        &mut self,
        bytes: &impl Bytes,
        payload: &[u8],
        halfway: impl FnOnce(),
    ) -> Result<bool, Malformed> {
        let size = bytes.size();
        let Some(record) = record_size(payload.len()).filter(|&r| r <= size) else {
            return Ok(false);
        };
        let mut next = *self;
        if next.count == 0 {
            // Nothing to keep: start over at 0, where the largest records fit.
            next = Self::default();
        }
        next.check(size)?;
        let before_end = size - next.tail;
        let skip = if record <= before_end { 0 } else { before_end };
        if next.used + skip + record > size {
            return Ok(false);
        }
        if skip > 0 {
            bytes
                .write(next.tail, &WRAP.to_le_bytes())
                .map_err(malformed)?;
            next.tail = 0;
        }
        let at = next.tail;
        let (first, second) = payload.split_at(payload.len() / 2);
        let (header, header_len) = header(payload.len() as u64);
        bytes.write(at, &header[..header_len]).map_err(malformed)?;
        let start = at + header_len as u64;
        bytes.write(start, first).map_err(malformed)?;
        halfway();
        bytes
            .write(start + first.len() as u64, second)
            .map_err(malformed)?;
        next.tail = wrap(at + record, size);
        next.used += skip + record;
        next.count += 1;
        *self = next;
        Ok(true)
    }

    /// Takes the oldest record's payload out. The ring must hold one.
    pub(super) fn pop(&mut self, bytes: &impl Bytes) -> Result<Vec<u8>, Malformed> {
        let size = bytes.size();
        let mut next = *self;
        next.check(size)?;
        if next.count == 0 {
            return Err(Malformed("no record to take".to_owned()));
        }
        let mut len = read_len(bytes, next.head)?;
        if len == WRAP {
            let skip = size - next.head;
            if next.head == 0 || skip > next.used {
                return Err(Malformed(format!("misplaced wrap marker at {}", next.head)));
            }
            next.used -= skip;
            next.head = 0;
            len = read_len(bytes, 0)?;
        }
        let (header, len) = if len == LONG {
            let mut word = [0; 8];
            bytes
                .read(next.head + HEADER, &mut word)
                .map_err(malformed)?;
            (LONG_HEADER, u64::from_le_bytes(word))
        } else {
            (HEADER, u64::from(len))
        };
        let record = framed(header, len)
            .filter(|&r| r <= size - next.head && r <= next.used)
            .ok_or_else(|| {
                Malformed(format!(
                    "record of {len} bytes at {} does not fit",
                    next.head
                ))
            })?;
        // It fits in the ring, which is in memory: its length is a usize.
        let mut payload = vec![0; len as usize];
        bytes
            .read(next.head + header, &mut payload)
            .map_err(malformed)?;
        next.head = wrap(next.head + record, size);
        next.used -= record;
        next.count -= 1;
        *self = next;
        Ok(payload)
    }

    /// Makes the records of a ring of `old` bytes, the first `old` bytes of
    /// `bytes`, those of the ring `bytes`, at least twice as large. When
    /// they wrap, the part from `head` to the old end moves to the new end,
    /// beyond the old size — where a copy cut short harms nothing — and the
    /// part from 0 to `tail` stays; a wrap marker keeps its meaning, "go on
    /// at 0". `self` changes only on success.
    pub(super) fn grow(&mut self, bytes: &impl Bytes, old: u64) -> Result<(), Malformed> {
        let size = bytes.size();
        let mut next = *self;
        next.check(old)?;
        if size / 2 < old {
            return Err(Malformed(format!(
                "a ring of {old} bytes cannot grow to {size} in place"
            )));
        }
        if next.count == 0 {
            next = Self::default();
        } else if next.tail <= next.head {
            let moved = size - old;
            bytes
                .copy(next.head, next.head + moved, old - next.head)
                .map_err(malformed)?;
            next.head += moved;
        }
        *self = next;
        Ok(())
    }

    /// Checks that the offsets are inside a ring of `size` bytes.
    fn check(&self, size: u64) -> Result<(), Malformed> {
        let aligned = |x: u64| x < size && x % ALIGN == 0;
        if aligned(self.head) && aligned(self.tail) && self.used <= size {
            Ok(())
        } else {
            Err(Malformed(format!(
                "position {self:?} is outside a ring of {size} bytes"
            )))
        }
    }
}

/// The bytes a record of `payload` bytes takes in the ring; `None` past
/// what a `u64` counts.
fn record_size(payload: usize) -> Option<u64> {
    let len = u64::try_from(payload).ok()?;
    framed(header(len).1 as u64, len)
}

/// The bytes a record takes: its header, `len` bytes and padding.
fn framed(header: u64, len: u64) -> Option<u64> {
    header.checked_add(len)?.checked_next_multiple_of(ALIGN)
}

/// The header of a record of `len` bytes, in the first `.1` bytes of `.0`:
/// its length word, and for a long record the length as a `u64`.
fn header(len: u64) -> ([u8; LONG_HEADER as usize], usize) {
    let mut header = [0; LONG_HEADER as usize];
    match u32::try_from(len) {
        Ok(short) if short < LONG => {
            header[..4].copy_from_slice(&short.to_le_bytes());
            (header, HEADER as usize)
        }
        _ => {
            header[..4].copy_from_slice(&LONG.to_le_bytes());
            header[4..].copy_from_slice(&len.to_le_bytes());
            (header, LONG_HEADER as usize)
        }
    }
}

/// The size a ring of `size` bytes grows to when a record of `payload`
/// bytes finds no room in it: twice as large, or more if the record needs
/// it, so that it fits wherever the other records lie (with `n` bytes in
/// use, a grown ring has `size + record − n` free at the end, or after
/// the records that stay at its start). `None` past what a `u64` counts.
pub(super) fn grown_size(size: u64, payload: usize) -> Option<u64> {
    grown_to_multiple(size, payload, GROWN_ALIGN)
}

/// [`grown_size`], rounded up to a multiple of `align` (a multiple of 4).
fn grown_to_multiple(size: u64, payload: usize, align: u64) -> Option<u64> {
    let needed = size.checked_add(record_size(payload)?)?;
    size.checked_mul(2)?
        .max(needed)
        .checked_next_multiple_of(align)
}

/// The size of a ring asked to be `asked` bytes: a multiple of 8, at least
/// [`MIN_SIZE`].
pub(super) fn size_for(asked: usize) -> io::Result<usize> {
    asked
        .max(MIN_SIZE)
        .checked_next_multiple_of(8)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "ring size too large"))
}

fn wrap(offset: u64, size: u64) -> u64 {
    if offset == size { 0 } else { offset }
}

fn read_len(bytes: &impl Bytes, at: u64) -> Result<u32, Malformed> {
    let mut word = [0; 4];
    bytes.read(at, &mut word).map_err(malformed)?;
    Ok(u32::from_le_bytes(word))
}

fn malformed(e: io::Error) -> Malformed {
    Malformed(e.to_string())
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the queue's memory holds malformed records: {}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::*;

    struct Memory(RefCell<Vec<u8>>);

    impl Memory {
        fn new(size: usize) -> Self {
            Self(RefCell::new(vec![0xAA; size]))
        }
    }

    impl Bytes for Memory {
        fn size(&self) -> u64 {
            self.0.borrow().len() as u64
        }

        fn read(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
            let at = at as usize;
            buf.copy_from_slice(&self.0.borrow()[at..at + buf.len()]);
            Ok(())
        }

        fn write(&self, at: u64, data: &[u8]) -> io::Result<()> {
            let at = at as usize;
            self.0.borrow_mut()[at..at + data.len()].copy_from_slice(data);
            Ok(())
        }

        fn copy(&self, from: u64, to: u64, len: u64) -> io::Result<()> {
            let (from, to) = (from as usize, to as usize);
            self.0
                .borrow_mut()
                .copy_within(from..from + len as usize, to);
            Ok(())
        }
    }

    impl Memory {
        /// The same bytes, followed by fresh ones up to `size`: the segment
        /// grown.
        fn grown(&self, size: u64) -> Self {
            let mut bytes = self.0.borrow().clone();
            bytes.resize(size as usize, 0xBB);
            Self(RefCell::new(bytes))
        }
    }

    fn push(ring: &mut Ring, memory: &Memory, payload: &[u8]) -> bool {
        ring.push(memory, payload, || {}).unwrap()
    }

    #[test]
    fn records_come_out_in_order() {
        let memory = Memory::new(64);
        let mut ring = Ring::default();
        for item in [&b"a"[..], b"", b"hello", b"12345678"] {
            assert!(push(&mut ring, &memory, item));
        }
        assert_eq!(ring.count, 4);
        assert_eq!(ring.used, 8 + 4 + 12 + 12);
        assert_eq!(ring.pop(&memory).unwrap(), b"a");
        assert_eq!(ring.pop(&memory).unwrap(), b"");
        assert_eq!(ring.pop(&memory).unwrap(), b"hello");
        assert_eq!(ring.pop(&memory).unwrap(), b"12345678");
        assert_eq!(ring.count, 0);
        assert_eq!(ring.used, 0);
    }

    #[test]
    fn a_full_ring_refuses_and_changes_nothing() {
        let memory = Memory::new(16);
        let mut ring = Ring::default();
        assert!(push(&mut ring, &memory, b"1234"));
        assert!(push(&mut ring, &memory, b"5678"));
        let before = ring;
        assert!(!push(&mut ring, &memory, b""));
        assert_eq!(ring, before);
        assert_eq!(ring.head, ring.tail, "full: head meets tail");
        assert_eq!(ring.used, 16);
    }

    #[test]
    fn a_record_that_does_not_fit_before_the_end_wraps() {
        let memory = Memory::new(32);
        let mut ring = Ring::default();
        assert!(push(&mut ring, &memory, &[1; 12])); // 16 bytes at 0
        assert!(push(&mut ring, &memory, &[2; 4])); // 8 bytes at 16
        assert_eq!(ring.pop(&memory).unwrap(), [1; 12]);
        // 12 bytes are needed, 8 are left before the end: wrap to 0.
        assert!(push(&mut ring, &memory, &[3; 8]));
        assert_eq!(ring.tail, 12);
        assert_eq!(ring.used, 8 + 8 + 12);
        assert_eq!(ring.pop(&memory).unwrap(), [2; 4]);
        assert_eq!(ring.pop(&memory).unwrap(), [3; 8]);
        assert_eq!((ring.count, ring.used), (0, 0));
    }

    #[test]
    fn an_empty_ring_starts_over_so_a_record_of_its_whole_size_fits() {
        let memory = Memory::new(32);
        let mut ring = Ring::default();
        assert!(push(&mut ring, &memory, &[1; 4]));
        assert_eq!(ring.pop(&memory).unwrap(), [1; 4]);
        assert!(push(&mut ring, &memory, &[2; 28]));
        assert_eq!(ring.pop(&memory).unwrap(), [2; 28]);
        assert!(!push(&mut ring, &memory, &[3; 29]), "larger than the ring");
    }

    #[test]
    fn a_wrapped_ring_grows_moving_only_bytes_beyond_its_old_size() {
        let memory = Memory::new(32);
        let mut ring = Ring::default();
        assert!(push(&mut ring, &memory, &[1; 12])); // 16 bytes at 0
        assert!(push(&mut ring, &memory, &[2; 4])); // 8 bytes at 16
        assert_eq!(ring.pop(&memory).unwrap(), [1; 12]);
        assert!(push(&mut ring, &memory, &[3; 8])); // wrap marker at 24, 12 at 0
        assert!(!push(&mut ring, &memory, &[4; 8]), "full");
        let old_bytes = memory.0.borrow().clone();
        let grown = memory.grown(64);
        let before = ring;
        ring.grow(&grown, 32).unwrap();
        assert_eq!(
            &grown.0.borrow()[..32],
            &old_bytes[..],
            "the old ring is untouched"
        );
        assert_eq!(
            (ring.head, ring.tail),
            (48, 12),
            "the part at the end moved"
        );
        assert_eq!((ring.used, ring.count), (before.used, before.count));
        assert!(push(&mut ring, &grown, &[4; 8]));
        assert!(push(&mut ring, &grown, &[5; 20]));
        assert_eq!(ring.pop(&grown).unwrap(), [2; 4]);
        assert_eq!(ring.pop(&grown).unwrap(), [3; 8]);
        assert_eq!(ring.pop(&grown).unwrap(), [4; 8]);
        assert_eq!(ring.pop(&grown).unwrap(), [5; 20]);
        assert_eq!(ring.count, 0);
    }

    #[test]
    fn a_ring_grows_only_to_twice_its_size_or_more() {
        let memory = Memory::new(32);
        let mut ring = Ring::default();
        assert!(push(&mut ring, &memory, &[1; 4]));
        assert!(ring.grow(&memory.grown(48), 32).is_err());
        assert_eq!(ring.count, 1, "unchanged");
        assert_eq!(grown_size(1 << 20, 10), Some(2 << 20));
        assert_eq!(grown_size(1 << 20, 3 << 20), Some((4 << 20) + 4096));
        assert_eq!(grown_size(24, 0), Some(4096));
        assert_eq!(grown_size(u64::MAX / 2 + 1, 0), None);
    }

    #[test]
    fn a_long_record_carries_its_length_in_a_u64() {
        let memory = Memory::new(64);
        memory.write(0, &LONG.to_le_bytes()).unwrap();
        memory.write(4, &5_u64.to_le_bytes()).unwrap();
        memory.write(12, b"hello").unwrap();
        let mut ring = Ring {
            head: 0,
            tail: 20,
            used: 20,
            count: 1,
        };
        assert_eq!(ring.pop(&memory).unwrap(), b"hello");
        assert_eq!(ring.head, 20);
        assert_eq!(header(u64::from(LONG) - 1).1, 4);
        assert_eq!(header(u64::from(LONG)).1, 12);
        assert_eq!(record_size(5), Some(12));
        assert_eq!(framed(LONG_HEADER, 1 << 33), Some(12 + (1 << 33)));
    }

    #[test]
    fn growing_rings_of_any_size_behave_like_a_deque() {
        // As below, with records up to twice the first ring's size: a push
        // without room grows the ring, which starts over when it empties.
        let mut memory = Memory::new(64);
        let mut ring = Ring::default();
        let mut model = VecDeque::new();
        let mut seed = 0x1234_5678_u32;
        let (mut grown, mut moved) = (0, 0);
        for step in 0..20_000_u32 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            // As many pops as pushes: the queue empties now and then.
            if seed % 2 == 0 && !model.is_empty() {
                let got = ring.pop(&memory).unwrap();
                assert_eq!(got, model.pop_front().unwrap(), "step {step}");
                if model.is_empty() {
                    memory = Memory::new(64);
                    ring = Ring::default();
                }
            } else {
                let len = if (seed >> 4) % 5 == 0 {
                    (seed >> 8) % 129
                } else {
                    (seed >> 8) % 13
                };
                let payload = vec![step as u8; len as usize];
                if !push(&mut ring, &memory, &payload) {
                    let old = memory.size();
                    let size = grown_to_multiple(old, payload.len(), ALIGN).unwrap();
                    memory = memory.grown(size);
                    if ring.count > 0 && ring.tail <= ring.head {
                        moved += 1;
                    }
                    ring.grow(&memory, old).unwrap();
                    grown += 1;
                    assert!(push(&mut ring, &memory, &payload), "step {step}");
                }
                model.push_back(payload);
            }
            assert_eq!(ring.count as usize, model.len());
        }
        assert!(
            grown > 50 && moved > 20,
            "grew {grown} times, {moved} wrapped"
        );
    }

    #[test]
    fn many_sizes_behave_like_a_deque() {
        // A deterministic mix of pushes and pops against VecDeque.
        let memory = Memory::new(200);
        let mut ring = Ring::default();
        let mut model = VecDeque::new();
        let mut seed = 0x2545_f491_u32;
        for step in 0..20_000_u32 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            if seed % 3 == 0 && !model.is_empty() {
                let got = ring.pop(&memory).unwrap();
                assert_eq!(got, model.pop_front().unwrap(), "step {step}");
            } else {
                let payload = vec![step as u8; (seed % 61) as usize];
                if push(&mut ring, &memory, &payload) {
                    model.push_back(payload);
                } else {
                    assert!(!model.is_empty(), "an empty ring refused {}", payload.len());
                }
            }
            assert_eq!(ring.count as usize, model.len());
        }
    }

    #[test]
    fn malformed_records_are_reported_not_trusted() {
        let memory = Memory::new(32);
        let mut ring = Ring::default();
        assert!(push(&mut ring, &memory, b"ok"));
        memory.write(0, &1000_u32.to_le_bytes()).unwrap();
        assert!(ring.pop(&memory).is_err());
        let mut outside = Ring { head: 40, ..ring };
        assert!(outside.pop(&memory).is_err());
        let mut wrap_at_zero = ring;
        memory.write(0, &WRAP.to_le_bytes()).unwrap();
        assert!(wrap_at_zero.pop(&memory).is_err());
    }

    #[test]
    fn ring_sizes_are_rounded() {
        assert_eq!(size_for(0).unwrap(), MIN_SIZE);
        assert_eq!(size_for(17).unwrap(), 24);
        assert_eq!(size_for(1 << 20).unwrap(), 1 << 20);
        assert!(size_for(usize::MAX).is_err());
    }
}
