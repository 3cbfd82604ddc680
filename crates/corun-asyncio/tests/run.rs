//! `run` closes its loop, cancels what was left, and leaves no thread
//! behind. One test in this file, so no other test's threads come and go
//! while it counts them.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use corun::asyncio::{create_task, get_running_loop, run, sleep};

/// Sets a flag when dropped.
struct Guard(Rc<Cell<bool>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[cfg(target_os = "linux")]
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

// Ports CPython test_runners.py `test_asyncio_run_cancels_hanging_tasks`:
// asyncio.run cancels the tasks main left behind, their cleanup runs, and
// the loop ends closed. Beyond Python: no thread is left (the loop runs on
// the caller's thread, tokio's current-thread runtime adds none).
#[test]
fn run_cancels_leftovers_closes_the_loop_and_leaves_no_thread() {
    #[cfg(target_os = "linux")]
    let before = threads();
    let cleaned = Rc::new(Cell::new(false));
    let c = cleaned.clone();
    let (event_loop, answer) = run(async move {
        let _left = create_task(async move {
            let _guard = Guard(c);
            sleep(Duration::from_secs(3600)).await;
        });
        sleep(Duration::ZERO).await;
        (get_running_loop().unwrap(), 42)
    })
    .unwrap();
    assert_eq!(answer, 42);
    assert!(event_loop.is_closed());
    assert!(
        cleaned.get(),
        "the leftover task was cancelled and cleaned up"
    );
    #[cfg(target_os = "linux")]
    assert_eq!(threads(), before);
}
