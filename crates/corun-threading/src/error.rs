//! corun's one error type, as `corun::threading` names it.

pub use corun_core::{Error, ErrorKind};
