//! `current_process`, `parent_process`, `cpu_count`: what a process knows
//! about itself.

use std::sync::OnceLock;

/// The name Python gives the process that was not started by
/// `multiprocessing`.
const MAIN_PROCESS: &str = "MainProcess";

/// A process's name and pid, as [`current_process`] and [`parent_process`]
/// report them (Python's `Process.name` and `Process.pid`).
///
/// ```
/// let me = corun::multiprocessing::current_process();
/// assert_eq!(me.pid(), std::process::id());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProcessInfo {
    name: String,
    pid: u32,
}

/// Set once in a worker, before it runs any user code.
#[derive(Debug)]
struct WorkerIdentity {
    name: String,
    parent: ProcessInfo,
}

static WORKER: OnceLock<WorkerIdentity> = OnceLock::new();

/// This process (Python's `multiprocessing.current_process()`): named
/// `"MainProcess"`, or in a worker the name its parent gave it.
///
/// ```
/// use corun::multiprocessing::current_process;
///
/// assert_eq!(current_process().name(), "MainProcess");
/// ```
pub fn current_process() -> ProcessInfo {
    ProcessInfo {
        name: WORKER
            .get()
            .map_or(MAIN_PROCESS, |w| w.name.as_str())
            .to_owned(),
        pid: std::process::id(),
    }
}

/// The process that started this one, in a worker; `None` in a process
/// not started by corun (Python's `multiprocessing.parent_process()`).
///
/// ```
/// assert_eq!(corun::multiprocessing::parent_process(), None);
/// ```
pub fn parent_process() -> Option<ProcessInfo> {
    WORKER.get().map(|w| w.parent.clone())
}

/// How many processes can run in parallel here: the CPUs this process may
/// use, after affinity masks and cgroup quotas (Python's `cpu_count()`
/// counts all CPUs of the machine; this is its `process_cpu_count()`),
/// and at least 1.
///
/// ```
/// assert!(corun::multiprocessing::cpu_count() >= 1);
/// ```
pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Records who this worker is; called once by the worker loop.
pub(crate) fn set_worker(name: String, parent: ProcessInfo) {
    let _ = WORKER.set(WorkerIdentity { name, parent });
}

impl ProcessInfo {
    /// A process's name and pid.
    pub(crate) fn new(name: String, pid: u32) -> Self {
        Self { name, pid }
    }

    /// The process's name (Python's `name`).
    ///
    /// ```
    /// assert_eq!(corun::multiprocessing::current_process().name(), "MainProcess");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process's id (Python's `pid` and `ident`).
    ///
    /// ```
    /// assert_eq!(corun::multiprocessing::current_process().pid(), std::process::id());
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }
}
