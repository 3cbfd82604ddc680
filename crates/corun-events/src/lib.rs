//! Node's and pyee's event emitters, in Rust, on the corun event loop.
//!
//! | Node `events` / pyee                              | corun                                         |
//! |---------------------------------------------------|-----------------------------------------------|
//! | `new EventEmitter()`, `pyee.EventEmitter()`       | [`EventEmitter::new`] (any thread), [`LocalEmitter::new`] (one thread) |
//! | `ee.on(name, f)`, `addListener`, `@ee.on(name)`   | [`on`](EventEmitter::on), [`add_listener`](EventEmitter::add_listener) → [`ListenerId`] |
//! | `prependListener`, `once`, `prependOnceListener`  | the same names, snake case                    |
//! | `off(name, f)`, `removeListener(name, f)`         | [`off(id)`](EventEmitter::off), [`remove_listener(name, id)`](EventEmitter::remove_listener) |
//! | `removeAllListeners([name])`                      | [`remove_all_listeners(Option<&str>)`](EventEmitter::remove_all_listeners) |
//! | `listenerCount`, `listeners`, `eventNames`        | [`listener_count`](EventEmitter::listener_count), [`listeners`](EventEmitter::listeners) (ids), [`event_names`](EventEmitter::event_names) |
//! | `setMaxListeners(n)`, `getMaxListeners()`         | [`set_max_listeners`](EventEmitter::set_max_listeners), [`get_max_listeners`](EventEmitter::get_max_listeners); the warning: [`MaxListenersWarning`], [`set_warning_handler`](EventEmitter::set_warning_handler) |
//! | `emit(name, ...args)` → `bool`                    | [`emit(name, payload)`](EventEmitter::emit) → `Result<bool, Error>` |
//! | `on('error', f)`, `emit('error', err)`            | [`on_error`](EventEmitter::on_error), [`emit_error`](EventEmitter::emit_error) |
//! | `on('newListener', f)`, `on('removeListener', f)` | [`on_new_listener`](EventEmitter::on_new_listener), [`on_remove_listener`](EventEmitter::on_remove_listener) |
//! | pyee `AsyncIOEventEmitter` coroutine handlers     | [`on_async`](EventEmitter::on_async), [`once_async`](EventEmitter::once_async) |
//! | pyee `wait_for_complete()`, `complete`            | [`wait_for_complete`](EventEmitter::wait_for_complete), [`complete`](EventEmitter::complete) |
//! | `await events.once(ee, name)`                     | [`once(&ee, name)`](once()).await             |
//! | `for await (x of events.on(ee, name))`            | [`on(&ee, name)`](on()): a `Stream`           |
//! | `loop.call_soon(ee.emit, name, x)`                | [`emit_soon`](EventEmitter::emit_soon), [`emit_soon_threadsafe`](EventEmitter::emit_soon_threadsafe) |
//!
//! Payloads are ordinary Rust values, one type per emitter (`P`; an enum
//! for several kinds of event), no serialisation: listeners take `&P`,
//! async listeners and the `once`/`on` futures an owned clone. Event names
//! are strings: `&'static str` literals, or `String`s built at run time.
//!
//! The rules of an emit are Node's: synchronous, in the order listeners
//! were added, over a snapshot of the list taken as the emit starts (the
//! lists are copy-on-write, so the snapshot is a pointer), and no lock
//! held while a listener runs — listeners may add or remove listeners, or
//! emit, without deadlock. An [`EventEmitter`]'s emit takes no lock at
//! all: it reads a published copy of the lists, kept alive by a hazard
//! pointer (one store per emit, no reference count), and a listener
//! removed meanwhile is dropped once the last emit running it ends. A `once` listener runs once even when threads
//! race to emit. `error` is an event of its own type, [`corun::Error`]:
//! emitting it with nobody listening returns the error, as Node throws it.
//!
//! Beyond Node and pyee: a listener that panics (throws) is caught, the
//! listeners after it still run, and its panic reaches `error` (or the
//! caller, as `Err`, when nobody listens there) — Node lets one throwing
//! listener stop the rest; an async listener's failure (a panic, or the
//! `Err` it returns) reaches `error` too, or else the loop's exception
//! handler, never a silent "unhandled rejection".
//!
//! ```
//! use corun::events::EventEmitter;
//! use std::sync::{Arc, Mutex};
//!
//! let log = Arc::new(Mutex::new(Vec::new()));
//! let emitter = EventEmitter::new();
//! let l = log.clone();
//! emitter.on("data", move |x: &u32| l.lock().unwrap().push(*x));
//! let l = log.clone();
//! emitter.on_error(move |e| l.lock().unwrap().push(e.panic_message().unwrap().len() as u32));
//! emitter.on("data", |x| assert!(*x < 2, "too big"));
//! emitter.emit("data", 1).unwrap();
//! emitter.emit("data", 2).unwrap(); // the panic went to `error`
//! assert_eq!(*log.lock().unwrap(), [1, 2, "too big".len() as u32]);
//! ```
//!
//! [`corun::Error`]: corun_core::Error

#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod hazard;
mod local;
mod loom;
mod stream;
mod sync;
mod table;

pub use corun_core::{Error, ErrorKind};
pub use local::LocalEmitter;
pub use stream::{DEFAULT_STREAM_CAPACITY, EventStream, Once, Source, on, on_with_capacity, once};
pub use sync::EventEmitter;

/// The hazard pointers under model check (`tests/loom_hazard.rs`); built
/// only under `--cfg corun_loom`.
#[cfg(corun_loom)]
#[doc(hidden)]
pub use hazard::model as hazard_model;
pub use table::{
    DEFAULT_MAX_LISTENERS, ERROR, EventName, ListenerId, ListenerOutput, MaxListenersWarning,
    NEW_LISTENER, REMOVE_LISTENER, WaitForComplete,
};
