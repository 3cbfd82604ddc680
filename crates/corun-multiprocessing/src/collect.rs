//! Collecting what a serialisation meets on its way: the descriptors of the
//! `Connection`s and the segments of the shared objects in a worker's
//! argument (see `fd_passing.rs` and `shared_memory::keeping`), each in a
//! thread-local list that exists only while a call's argument is encoded.

use std::cell::RefCell;
use std::thread::LocalKey;

/// A thread-local list that is `Some` while a collection runs.
pub(crate) type List<X> = LocalKey<RefCell<Option<Vec<X>>>>;

/// Runs `serialise` with a fresh `list`; returns its result and what was
/// pushed to the list meanwhile. The previous list (of a collection this
/// one runs inside) is restored after, even if `serialise` panics.
pub(crate) fn collecting<T, X: 'static>(
    list: &'static List<X>,
    serialise: impl FnOnce() -> T,
) -> (T, Vec<X>) {
    /// Puts back the list that was there before.
    struct Restore<X: 'static> {
        list: &'static List<X>,
        previous: Option<Vec<X>>,
    }

    impl<X> Drop for Restore<X> {
        fn drop(&mut self) {
            let previous = self.previous.take();
            self.list.with(|l| *l.borrow_mut() = previous);
        }
    }

    let _restore = Restore {
        list,
        previous: list.with(|l| l.borrow_mut().replace(Vec::new())),
    };
    let value = serialise();
    let collected = list.with(|l| l.borrow_mut().take()).unwrap_or_default();
    (value, collected)
}
