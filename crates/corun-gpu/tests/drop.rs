//! Dropping an executor with launches in flight waits for them and
//! leaves no thread behind. One test in its own process, so that no other
//! test's executor starts or ends threads meanwhile.

mod common;

use corun::gpu::{Completion, Program};

use common::{SPIN, gpu_with};

/// The threads of this process now, by id: two listings that agree,
/// because a listing of `/proc/self/task` can skip a live thread while
/// another exits.
fn threads() -> Vec<String> {
    let read = || {
        let mut ids: Vec<String> = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .flatten()
            .map(|t| t.file_name().to_string_lossy().into_owned())
            .collect();
        ids.sort();
        ids
    };
    let mut last = read();
    loop {
        let next = read();
        if next == last {
            return next;
        }
        last = next;
    }
}

fn named(ids: &[String], prefix: &str) -> usize {
    ids.iter()
        .filter(|id| {
            std::fs::read_to_string(format!("/proc/self/task/{id}/comm"))
                .is_ok_and(|c| c.starts_with(prefix))
        })
        .count()
}

#[test]
fn dropping_with_launches_pending_waits_and_leaves_no_thread() {
    for completion in [Completion::Callback, Completion::Wait] {
        // A first executor brings up the driver's own threads, which stay.
        let Some(warm) = gpu_with(completion) else {
            return;
        };
        let program = Program::build(&warm, SPIN).unwrap();
        drop(program);
        drop(warm);
        let before = threads();
        assert_eq!(named(&before, "corun-gpu"), 0);

        let gpu = gpu_with(completion).unwrap();
        // A new thread names itself once it runs: wait for that.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while named(&threads(), "corun-gpu") == 0 && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(named(&threads(), "corun-gpu"), 1, "one completion thread");
        let program = Program::build(&gpu, SPIN).unwrap();
        let out = gpu.buffer::<f32>(1024).unwrap();
        let mut spin = program.kernel("spin").unwrap();
        spin.set_arg(0, &out)
            .unwrap()
            .set_arg(1, 20_000_u32)
            .unwrap();
        let tasks: Vec<_> = (0..32).map(|_| gpu.launch(&spin, 1024).unwrap()).collect();
        let read = out.read().unwrap();
        if gpu.device().kind() == corun::gpu::DeviceKind::Cpu {
            // Seconds of work on a CPU device; a GPU may be done already.
            assert!(gpu.in_flight() > 0, "nothing left in flight to drop with");
        }
        drop(gpu); // with launches pending: waits for them

        for task in tasks {
            assert!(
                task.done(),
                "{completion:?}: dropped before its launch completed"
            );
            task.result().unwrap();
        }
        assert_eq!(read.result().unwrap().len(), 1024);
        let after = threads();
        assert_eq!(
            named(&after, "corun-gpu"),
            0,
            "{completion:?}: the completion thread is gone"
        );
        assert_eq!(
            after, before,
            "{completion:?}: the same threads as before the executor"
        );
        // The buffer and kernel outlive the executor, refusing work.
        assert!(out.read().unwrap_err().is_shutdown());
        drop((spin, out, program));
    }
}
