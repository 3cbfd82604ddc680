//! corun's one error type, as `corun::concurrent` names it: what happened
//! to a task, for every executor alike.

pub use corun_core::{Error, ErrorKind};
