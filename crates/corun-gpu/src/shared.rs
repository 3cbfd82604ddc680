//! What an executor's handles share: the OpenCL context and queue, the
//! commands in flight, and the one completion thread that resolves their
//! tasks.
//!
//! # Completion
//!
//! Each enqueued command becomes a [`Pending`] entry under a token. In
//! [`Completion::Callback`] mode the command's event gets a `CL_COMPLETE`
//! callback that only sends `(token, status)` on a channel: drivers run
//! callbacks on their own threads, sometimes inline in `clSetEventCallback`
//! when the command is already done, and some deadlock or free the event
//! under a callback that does more (see the crate docs). In
//! [`Completion::Wait`] mode nothing is registered: the token itself is
//! sent, and the completion thread waits on the event with
//! `clWaitForEvents`. Either way the completion thread — one per executor,
//! never one per command — takes the entry out, completes its task (a
//! status below zero fails it), and drops the entry, which releases the
//! event and the buffers the command used.
//!
//! Shutting down sends `Stop`: the thread goes on until every entry is
//! resolved, then exits. A callback mode whose callbacks stop coming (a
//! driver that loses one) is caught there: after [`LOST_CALLBACK_GRACE`]
//! without a message, the thread finishes the queue and resolves what is
//! left by waiting on the events.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::event::{CL_COMPLETE, Event};
use opencl3::types::{cl_command_queue, cl_event, cl_int};
use parking_lot::{Condvar, Mutex};

use corun_concurrent::{Observer, Outcome, TaskId};
use corun_core::{Error, ErrorKind};

use crate::device::Device;
use crate::error::{cl_error, describe};
use crate::executor::Completion;

/// How long a shutting-down executor waits for a completion callback
/// before it stops trusting the driver's callbacks and waits on the events
/// itself.
const LOST_CALLBACK_GRACE: Duration = Duration::from_millis(500);

/// Completes a command's task with the command's outcome; the event is
/// there to read profiling times from.
pub(crate) type Finish = Box<dyn FnOnce(Result<(), Error>, &Event) + Send>;

/// Something a command uses that must live until it is done: a buffer's
/// memory, a read's host vector.
pub(crate) type Keep = Arc<dyn Send + Sync>;

/// The executor's shared state.
pub(crate) struct Core {
    pub(crate) queue: CommandQueue,
    pub(crate) context: Context,
    pub(crate) device: Device,
    pub(crate) completion: Completion,
    /// Told of every command: submitted and started at enqueue (on the
    /// device), finished when its task is completed.
    recorder: Option<Arc<dyn Observer>>,
    state: Mutex<State>,
    /// Notified when the last command in flight is resolved, and when the
    /// completion thread exits.
    changed: Condvar,
    sender: Sender<Msg>,
}

struct State {
    /// Whether the executor takes commands.
    open: bool,
    next_token: u64,
    pending: HashMap<u64, Pending>,
    /// Commands enqueued whose task is not completed yet (an entry taken
    /// out of `pending` counts until its task is completed).
    in_flight: usize,
    exited: bool,
}

/// A command in flight.
struct Pending {
    what: What,
    id: Option<TaskId>,
    event: Event,
    finish: Finish,
    _keep: Vec<Keep>,
}

/// What a command does, for its error message.
#[derive(Debug, Clone)]
pub(crate) enum What {
    Kernel(Arc<str>),
    Read,
    Write,
    Fill,
}

/// What the completion thread hears.
pub(crate) enum Msg {
    /// A callback: the command of `token` ended with `status`.
    Done { token: u64, status: cl_int },
    /// Wait on the event of `token` (wait mode, or a callback that could
    /// not be registered).
    Watch(u64),
    /// Exit once nothing is in flight.
    Stop,
}

/// What a completion callback owns: one per command, freed by the
/// callback.
struct CallbackData {
    token: u64,
    sender: Sender<Msg>,
}

impl Core {
    /// The shared state of a new executor, and the receiving end for its
    /// completion thread.
    pub(crate) fn new(
        device: Device,
        context: Context,
        queue: CommandQueue,
        completion: Completion,
        recorder: Option<Arc<dyn Observer>>,
    ) -> (Arc<Self>, Receiver<Msg>) {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let core = Arc::new(Self {
            queue,
            context,
            device,
            completion,
            recorder,
            state: Mutex::new(State {
                open: true,
                next_token: 0,
                pending: HashMap::new(),
                in_flight: 0,
                exited: false,
            }),
            changed: Condvar::new(),
            sender,
        });
        (core, receiver)
    }

    /// Enqueues a command with `enqueue` (given the raw queue; it returns
    /// the command's event), flushes the queue, and has the completion
    /// thread call `finish` when the command is done. `keep` lives until
    /// then.
    ///
    /// # Errors
    ///
    /// [`ShutDown`](ErrorKind::ShutDown) after shutdown; the OpenCL error
    /// of `enqueue` (and nothing enqueued).
    pub(crate) fn submit(
        &self,
        what: What,
        keep: Vec<Keep>,
        enqueue: impl FnOnce(cl_command_queue) -> Result<cl_event, cl_int>,
        finish: Finish,
    ) -> Result<(), Error> {
        let mut state = self.state.lock();
        if !state.open {
            return Err(Error::shut_down());
        }
        let event = Event::new(
            enqueue(self.queue.get())
                .map_err(|code| cl_error(format!("enqueueing {what}"), code))?,
        );
        // Commands start without waiting for a later flush or wait;
        // failing to flush is not failing the command, whose event says
        // how it ended.
        let _ = self.queue.flush();
        let token = state.next_token;
        state.next_token += 1;
        let raw = event.get();
        let id = self.recorder.as_ref().map(|recorder| {
            let id = recorder.submitted(what.to_string().into());
            recorder.started(id, Some(self.device.name().to_owned().into()));
            id
        });
        state.pending.insert(
            token,
            Pending {
                what,
                id,
                event,
                finish,
                _keep: keep,
            },
        );
        state.in_flight += 1;
        // Registered under the lock: a callback that fires at once (inline,
        // or on a driver thread) only sends, and its token is in the map.
        match self.completion {
            Completion::Callback if register_callback(raw, token, &self.sender) => {}
            _ => {
                let _ = self.sender.send(Msg::Watch(token));
            }
        }
        Ok(())
    }

    /// Stops taking commands; the completion thread exits once every
    /// command in flight is resolved. Returns whether this call closed it.
    pub(crate) fn close(&self) -> bool {
        let mut state = self.state.lock();
        let was_open = std::mem::replace(&mut state.open, false);
        if was_open {
            let _ = self.sender.send(Msg::Stop);
        }
        was_open
    }

    /// Whether the executor takes commands.
    pub(crate) fn is_open(&self) -> bool {
        self.state.lock().open
    }

    /// Waits until no command is in flight (every task completed).
    pub(crate) fn wait_idle(&self) {
        let mut state = self.state.lock();
        while state.in_flight > 0 && !state.exited {
            self.changed.wait(&mut state);
        }
    }

    /// Waits until the completion thread has exited.
    pub(crate) fn wait_exited(&self) {
        let mut state = self.state.lock();
        while !state.exited {
            self.changed.wait(&mut state);
        }
    }

    /// How many commands are in flight.
    pub(crate) fn in_flight(&self) -> usize {
        self.state.lock().in_flight
    }

    /// Resolves the command of `token`, which ended with `status`; a token
    /// resolved already (a late callback) is ignored.
    fn resolve(&self, token: u64, status: cl_int) {
        let Some(pending) = self.state.lock().pending.remove(&token) else {
            return;
        };
        let outcome = if status == CL_COMPLETE {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Device,
                format!(
                    "the device ended the {} abnormally: {}",
                    pending.what,
                    describe(status)
                ),
            ))
        };
        let Pending {
            event, finish, id, ..
        } = pending;
        if let (Some(recorder), Some(id)) = (&self.recorder, id) {
            let ended = if outcome.is_ok() {
                Outcome::Ok
            } else {
                Outcome::Failed
            };
            recorder.finished(id, ended);
        }
        finish(outcome, &event);
        drop(event); // released after its task is completed
        let mut state = self.state.lock();
        state.in_flight -= 1;
        if state.in_flight == 0 {
            self.changed.notify_all();
        }
    }

    /// Waits for the command of `token` to end, then resolves it.
    fn wait_and_resolve(&self, token: u64) {
        // Only this thread takes entries out, so the event stays valid
        // while it waits without the lock.
        let Some(raw) = self.state.lock().pending.get(&token).map(|p| p.event.get()) else {
            return;
        };
        // A failed command makes the wait fail too; its status says how.
        let _ = cl3::event::wait_for_events(&[raw]);
        let status = cl3::event::get_event_info(raw, cl3::event::CL_EVENT_COMMAND_EXECUTION_STATUS)
            .map_or_else(|code| code, cl_int::from);
        self.resolve(token, status);
    }

    /// Resolves every command still in flight by waiting on it: the
    /// driver's callbacks stopped coming.
    fn reap(&self) {
        let _ = self.queue.finish();
        let mut tokens: Vec<u64> = self.state.lock().pending.keys().copied().collect();
        tokens.sort_unstable();
        for token in tokens {
            self.wait_and_resolve(token);
        }
    }
}

/// The completion thread's loop: resolves commands as their events
/// complete, until it is told to stop and nothing is in flight.
pub(crate) fn run_completion(core: Arc<Core>, receiver: Receiver<Msg>) {
    let mut stopping = false;
    loop {
        if stopping && core.state.lock().pending.is_empty() {
            break;
        }
        let message = if stopping {
            match receiver.recv_timeout(LOST_CALLBACK_GRACE) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => {
                    core.reap();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match receiver.recv() {
                Ok(message) => message,
                Err(_) => break,
            }
        };
        match message {
            Msg::Done { token, status } => core.resolve(token, status),
            Msg::Watch(token) => core.wait_and_resolve(token),
            Msg::Stop => stopping = true,
        }
    }
    let mut state = core.state.lock();
    state.exited = true;
    core.changed.notify_all();
}

/// Registers the completion callback of `token` on `event`; `false` if
/// the driver refused it.
fn register_callback(event: cl_event, token: u64, sender: &Sender<Msg>) -> bool {
    let data = Box::into_raw(Box::new(CallbackData {
        token,
        sender: sender.clone(),
    }));
    match cl3::event::set_event_callback(event, CL_COMPLETE, on_complete, data.cast::<c_void>()) {
        Ok(()) => true,
        Err(_) => {
            // SAFETY: the driver refused the callback, so it will never
            // call it: this is the only owner of `data`, made by
            // `Box::into_raw` above.
            #[allow(unsafe_code)]
            drop(unsafe { Box::from_raw(data) });
            false
        }
    }
}

/// The completion callback: sends `(token, status)` and nothing else.
extern "C" fn on_complete(_event: cl_event, status: cl_int, user_data: *mut c_void) {
    // SAFETY: `user_data` is the `Box<CallbackData>` that
    // `register_callback` leaked for this one registration, and OpenCL
    // calls a registered callback exactly once (OpenCL 3.0,
    // clSetEventCallback), so this takes back sole ownership.
    #[allow(unsafe_code)]
    let data = unsafe { Box::from_raw(user_data.cast::<CallbackData>()) };
    let _ = data.sender.send(Msg::Done {
        token: data.token,
        status,
    });
}

impl std::fmt::Display for What {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Kernel(name) => write!(f, "kernel `{name}`"),
            Self::Read => f.write_str("buffer read"),
            Self::Write => f.write_str("buffer write"),
            Self::Fill => f.write_str("buffer fill"),
        }
    }
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("device", &self.device.name())
            .field("completion", &self.completion)
            .field("recorder", &self.recorder.is_some())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use corun_concurrent::{Executor, Task};

    use super::*;
    use crate::{GpuExecutor, default_device};

    /// An executor in `completion` mode; `None` (saying why) without an
    /// OpenCL device, a failure instead with `CORUN_REQUIRE_OPENCL=1`.
    fn gpu(completion: Completion) -> Option<GpuExecutor> {
        let Some(device) = default_device() else {
            assert_ne!(
                std::env::var("CORUN_REQUIRE_OPENCL").as_deref(),
                Ok("1"),
                "CORUN_REQUIRE_OPENCL=1, but there is no OpenCL device"
            );
            eprintln!("skipped: no OpenCL device");
            return None;
        };
        Some(
            GpuExecutor::builder()
                .device(device)
                .completion(completion)
                .build()
                .unwrap(),
        )
    }

    /// Submits a user event as a command; returns its task and the event,
    /// which the test ends with `clSetUserEventStatus`.
    fn user_command(gpu: &GpuExecutor) -> (Task<()>, cl_event) {
        let core = gpu.core();
        let (task, promise) = Task::pending();
        assert!(promise.start());
        let raw = Cell::new(std::ptr::null_mut());
        core.submit(
            What::Kernel("user".into()),
            Vec::new(),
            |_queue| {
                let event = cl3::event::create_user_event(core.context.get())?;
                raw.set(event);
                Ok(event)
            },
            Box::new(move |outcome, _event| promise.complete(outcome)),
        )
        .unwrap();
        (task, raw.get())
    }

    #[test]
    fn a_negative_status_fails_the_task() {
        let Some(gpu) = gpu(Completion::Wait) else {
            return;
        };
        let (task, event) = user_command(&gpu);
        assert!(task.running());
        cl3::event::set_user_event_status(event, -9999).unwrap();
        let err = task.result().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Device);
        assert!(
            err.to_string()
                .starts_with("the device ended the kernel `user` abnormally: "),
            "{err}"
        );
        assert!(err.to_string().ends_with("(-9999)"), "{err}");
    }

    #[test]
    fn a_callback_that_never_comes_is_caught_at_shutdown() {
        // PoCL calls no callback for a user event that failed (pocl#1430):
        // shutting down resolves the command by waiting on its event.
        let Some(gpu) = gpu(Completion::Callback) else {
            return;
        };
        let (task, event) = user_command(&gpu);
        let (fine, ok_event) = user_command(&gpu);
        cl3::event::set_user_event_status(ok_event, CL_COMPLETE).unwrap();
        fine.result().unwrap();
        cl3::event::set_user_event_status(event, -5).unwrap();
        gpu.shutdown(true, false);
        assert!(task.done());
        assert_eq!(task.result().unwrap_err().kind(), ErrorKind::Device);
        assert_eq!(gpu.in_flight(), 0);
    }
}
