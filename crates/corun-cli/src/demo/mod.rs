//! `corun demo`: one small program per primitive, each the Rust version of
//! a classic Python example.

mod barrier;
mod condition;
mod crash;
mod download;
mod emitter;
mod event;
mod event_loop;
mod gpu;
mod lock;
mod pipe;
mod pool;
mod process;
mod process_queue;
mod queue;
mod reactive;
mod shared_memory;
mod value_lock;

use crate::cli::Demo;

pub(crate) fn run(demo: Demo) -> anyhow::Result<()> {
    match demo {
        Demo::Lock => lock::run(),
        Demo::Barrier => barrier::run(),
        Demo::Event => event::run(),
        Demo::Condition => condition::run(),
        Demo::Queue => queue::run(),
        Demo::Pool => pool::run(),
        Demo::Process => process::run(),
        Demo::Crash => crash::run(),
        Demo::Pipe => pipe::run(),
        Demo::ProcessQueue => process_queue::run(),
        Demo::SharedMemory => shared_memory::run(),
        Demo::ValueLock => value_lock::run(),
        Demo::EventLoop => event_loop::run(),
        Demo::Download => download::run(),
        Demo::Emitter => emitter::run(),
        Demo::Reactive => reactive::run(),
        Demo::Gpu => gpu::run(),
    }
}
