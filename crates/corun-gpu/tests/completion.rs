//! Launches in flight complete as corun tasks, in either completion mode:
//! `wait`, `as_completed`, `.await` and done-callbacks see them as they
//! see any executor's tasks; `cancel` fails on an enqueued command.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use corun::concurrent::{ReturnWhen, Task, as_completed, wait};
use corun::gpu::{Buffer, Completion, GpuExecutor, Kernel, Program};

use common::{SPIN, gpu_with};

const IN_FLIGHT: usize = 64;

/// `spin` writing into a buffer of `n`, `spins` steps per work-item.
fn spin_kernel(gpu: &GpuExecutor, n: usize, spins: u32) -> (Kernel, Buffer<f32>) {
    let program = Program::build(gpu, SPIN).unwrap();
    let out = gpu.buffer::<f32>(n).unwrap();
    let mut spin = program.kernel("spin").unwrap();
    spin.set_arg(0, &out).unwrap().set_arg(1, spins).unwrap();
    (spin, out)
}

fn launches(gpu: &GpuExecutor, kernel: &Kernel) -> Vec<Task<()>> {
    (0..IN_FLIGHT)
        .map(|_| gpu.launch(kernel, 256).unwrap())
        .collect()
}

fn many_in_flight_complete_with_wait(completion: Completion) {
    let Some(gpu) = gpu_with(completion) else {
        return;
    };
    assert_eq!(gpu.completion(), completion);
    let (spin, _out) = spin_kernel(&gpu, 256, 2_000);
    let tasks = launches(&gpu, &spin);
    let done = wait(tasks, None, ReturnWhen::AllCompleted);
    assert_eq!(done.done.len(), IN_FLIGHT);
    assert!(done.not_done.is_empty());
    for task in done.done {
        task.result().unwrap();
    }
    gpu.finish().unwrap(); // the last task may be done before its entry is gone
    assert_eq!(gpu.in_flight(), 0);
}

fn many_in_flight_complete_with_as_completed(completion: Completion) {
    let Some(gpu) = gpu_with(completion) else {
        return;
    };
    let (spin, _out) = spin_kernel(&gpu, 256, 2_000);
    let mut tasks = launches(&gpu, &spin);
    let (_, out2) = spin_kernel(&gpu, 256, 0);
    // Reads among the launches: a mix of kinds in one as_completed.
    let reads: Vec<Task<Vec<f32>>> = (0..4).map(|_| out2.read().unwrap()).collect();
    tasks.extend(launches(&gpu, &spin));
    let mut seen = 0;
    for task in as_completed(tasks, None) {
        task.unwrap().result().unwrap();
        seen += 1;
    }
    assert_eq!(seen, 2 * IN_FLIGHT);
    for read in reads {
        assert_eq!(read.result().unwrap().len(), 256);
    }
}

fn many_in_flight_complete_when_awaited(completion: Completion) {
    let Some(gpu) = gpu_with(completion) else {
        return;
    };
    let (spin, out) = spin_kernel(&gpu, 256, 2_000);
    let tasks = launches(&gpu, &spin);
    let read = out.read().unwrap();
    let values = corun::asyncio::run(async move {
        for task in tasks {
            task.await.unwrap();
        }
        read.await.unwrap()
    })
    .unwrap();
    assert_eq!(values.len(), 256);
}

fn done_callbacks_run_once_each(completion: Completion) {
    let Some(gpu) = gpu_with(completion) else {
        return;
    };
    let (spin, _out) = spin_kernel(&gpu, 256, 2_000);
    let calls = Arc::new(AtomicUsize::new(0));
    let tasks = launches(&gpu, &spin);
    for task in &tasks {
        let calls = Arc::clone(&calls);
        task.add_done_callback(move |r| {
            r.unwrap();
            calls.fetch_add(1, Ordering::SeqCst);
        });
    }
    gpu.finish().unwrap(); // every task completed, callbacks run
    assert_eq!(calls.load(Ordering::SeqCst), IN_FLIGHT);
    assert!(tasks.iter().all(Task::done));
}

fn cancel_fails_once_enqueued(completion: Completion) {
    let Some(gpu) = gpu_with(completion) else {
        return;
    };
    let (spin, _out) = spin_kernel(&gpu, 1024, 200_000);
    let slow = gpu.launch(&spin, 1024).unwrap();
    let behind = gpu.launch(&spin, 1024).unwrap();
    // Enqueued: running to corun, whether the device has started it or
    // not (Python's Future.cancel on a running future).
    assert!(!behind.cancel());
    assert!(!slow.cancel());
    assert!(!slow.cancelled());
    slow.wait();
    assert!(!slow.cancel()); // finished
    slow.result().unwrap();
    behind.result().unwrap();
}

#[test]
fn callback_mode_64_in_flight_wait() {
    many_in_flight_complete_with_wait(Completion::Callback);
}

#[test]
fn wait_mode_64_in_flight_wait() {
    many_in_flight_complete_with_wait(Completion::Wait);
}

#[test]
fn callback_mode_64_in_flight_as_completed() {
    many_in_flight_complete_with_as_completed(Completion::Callback);
}

#[test]
fn wait_mode_64_in_flight_as_completed() {
    many_in_flight_complete_with_as_completed(Completion::Wait);
}

#[test]
fn callback_mode_64_in_flight_await() {
    many_in_flight_complete_when_awaited(Completion::Callback);
}

#[test]
fn wait_mode_64_in_flight_await() {
    many_in_flight_complete_when_awaited(Completion::Wait);
}

#[test]
fn callback_mode_done_callbacks() {
    done_callbacks_run_once_each(Completion::Callback);
}

#[test]
fn wait_mode_done_callbacks() {
    done_callbacks_run_once_each(Completion::Wait);
}

#[test]
fn callback_mode_cancel_fails_once_enqueued() {
    cancel_fails_once_enqueued(Completion::Callback);
}

#[test]
fn wait_mode_cancel_fails_once_enqueued() {
    cancel_fails_once_enqueued(Completion::Wait);
}

#[test]
fn launches_from_many_threads_share_one_executor() {
    let Some(gpu) = gpu_with(Completion::Callback) else {
        return;
    };
    let (spin, _out) = spin_kernel(&gpu, 256, 100);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let tasks = launches(&gpu, &spin);
                for task in tasks {
                    task.result().unwrap();
                }
            });
        }
    });
    gpu.finish().unwrap();
    assert_eq!(gpu.in_flight(), 0);
}

#[test]
fn a_recorder_sees_every_command_on_the_device_lane() {
    let Some(device) = common::device() else {
        return;
    };
    let recorder = corun::trace::Recorder::new();
    let gpu = GpuExecutor::builder()
        .device(device.clone())
        .recorder(recorder.clone())
        .build()
        .unwrap();
    let (spin, out) = spin_kernel(&gpu, 256, 100);
    let tasks = launches(&gpu, &spin);
    let read = out.read().unwrap();
    drop(gpu); // waits for them all
    for task in tasks {
        task.result().unwrap();
    }
    read.result().unwrap();
    let timeline = recorder.timeline();
    assert_eq!(timeline.tasks().len(), IN_FLIGHT + 1);
    let svg = timeline.to_svg("gpu");
    assert!(
        svg.contains("kernel `spin`") || svg.contains("spin"),
        "the launches are labelled"
    );
}
