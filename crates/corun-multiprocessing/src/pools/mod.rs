//! Pools of worker processes: the engine that feeds calls to workers,
//! replaces the ones that die or time out and reports every task
//! (`engine`), and the two faces Python gives it — `Pool` (`pool`, with
//! its `imap` iterator) and `ProcessPoolExecutor` (`process_pool`) —
//! configured by one builder (`settings`).

pub(crate) mod engine;
pub(crate) mod imap;
pub(crate) mod pool;
pub(crate) mod process_pool;
pub(crate) mod settings;
