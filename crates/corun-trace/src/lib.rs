//! Timelines of executor tasks: when each was submitted, started and
//! finished, on which worker, and how it ended; exported as Chrome trace
//! JSON (Perfetto, `chrome://tracing`), as an SVG timing diagram, or as a
//! summary table.
//!
//! Executors (the thread pool, later the process pool and event loop) hold
//! an `Option<Recorder>`: without one they pay nothing, with one each event
//! costs a clock read and a push to a per-thread buffer (see
//! `benches/record.rs`).
//!
//! | In Python you would …                                    | corun-trace                                   |
//! |----------------------------------------------------------|-----------------------------------------------|
//! | log `time.perf_counter()` around `executor.submit(f)`     | [`Recorder::submitted`] → [`TaskId`]          |
//! | … at the top of `f`, with `threading.current_thread().name` | [`Recorder::started`]                       |
//! | … with `os.getpid()` in a `ProcessPoolExecutor` worker    | [`Recorder::started_on`]`(id, "pid 1234")`   |
//! | … in a `Future.add_done_callback`, noting `exception()`   | [`Recorder::finished`]`(id, `[`Outcome`]`)`  |
//! | collect the log                                           | [`Recorder::timeline`] → [`Timeline`]         |
//! | `viztracer` / `json.dump` a Chrome trace                  | [`Timeline::to_chrome_json`], [`Timeline::write_chrome_json`] |
//! | draw the sequential / threads / processes bar chart       | [`Timeline::to_svg`], [`Timeline::write_svg`] |
//! | compute utilisation and queue-wait percentiles            | [`Timeline::summary`] → [`Summary`]           |
//!
//! # Examples
//!
//! ```
//! use corun::trace::{Outcome, Recorder};
//!
//! let rec = Recorder::new();
//! let ids: Vec<_> = (0..4).map(|i| rec.submitted(format!("job {i}"))).collect();
//! std::thread::scope(|s| {
//!     for (w, pair) in ids.chunks(2).enumerate() {
//!         let rec = rec.clone();
//!         std::thread::Builder::new()
//!             .name(format!("worker-{w}"))
//!             .spawn_scoped(s, move || {
//!                 for &id in pair {
//!                     rec.started(id);
//!                     rec.finished(id, Outcome::Ok);
//!                 }
//!             })
//!             .unwrap();
//!     }
//! });
//!
//! let timeline = rec.timeline();
//! assert_eq!(timeline.tasks().len(), 4);
//! assert_eq!(timeline.workers().len(), 2);
//! assert!(timeline.tasks().iter().all(|t| t.outcome == Some(Outcome::Ok)));
//!
//! let summary = timeline.summary();
//! assert_eq!(summary.workers.iter().map(|w| w.tasks).sum::<usize>(), 4);
//! let svg = timeline.to_svg("two workers");
//! assert_eq!(svg.matches("<rect").count(), 4);
//! assert!(timeline.to_chrome_json().contains(r#""name":"worker-1""#));
//! ```

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod buffer;
mod chrome;
mod chunks;
mod merge;
mod outcome;
mod recorder;
mod summary;
mod svg;
mod task;
mod timeline;
mod units;

pub use outcome::Outcome;
pub use recorder::Recorder;
pub use summary::{Summary, WorkerSummary};
pub use task::{TaskId, TaskRecord};
pub use timeline::Timeline;
