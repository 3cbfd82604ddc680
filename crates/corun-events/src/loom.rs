//! Where the hazard pointers get their atomics and mutex.
//!
//! Under `--cfg corun_loom` these are loom's model-checked mocks, so
//! `tests/loom_hazard.rs` can explore every interleaving of readers and
//! writers; otherwise they are std's atomics and parking_lot's mutex, as
//! before, at no extra cost.

#[cfg(not(corun_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

#[cfg(corun_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

/// The mutex of the retired list.
#[cfg(not(corun_loom))]
pub(crate) type Mutex<T> = parking_lot::Mutex<T>;

/// The mutex of the retired list: loom's, with parking_lot's shape (no
/// poisoning).
#[cfg(corun_loom)]
#[derive(Debug)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(corun_loom)]
impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(loom::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Nothing outside the model. Under loom, a sequentially consistent fence.
///
/// Loom treats `SeqCst` loads, stores and read-modify-writes as `AcqRel`
/// (a documented limitation: it does not model their single total order),
/// so on its own it would let a reader's slot store and a writer's scan
/// miss each other — which the real `SeqCst` accesses forbid. Where the
/// protocol relies on that order (between a reader's slot store and its
/// check of the published pointer; between a writer's swap and its scan
/// of the slots) the model adds a `SeqCst` fence, which loom does model.
#[inline(always)]
pub(crate) fn seq_cst_order() {
    #[cfg(corun_loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
}
