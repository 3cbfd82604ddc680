//! Calls that travel: for executors that carry a process pool's calls to
//! other machines.
//!
//! A [`ProcessPoolExecutor`](crate::ProcessPoolExecutor) runs a plain
//! `fn(A) -> R` in a worker by sending it a [`Call`] — the function as an
//! offset in the binary, the argument in postcard — and reading back a
//! [`Reply`]. Both can travel as bytes, so that an executor can carry them
//! between machines that run the *same binary*:
//!
//! 1. the sending side encodes a call with [`Call::new`] and turns it into
//!    bytes with [`Call::to_bytes`] (a call that holds a
//!    [`Connection`](crate::Connection) or shared memory is refused: they
//!    exist only on its machine);
//! 2. the receiving side — a program of the same binary, found by its
//!    [`binary_fingerprint`] — reads the call with [`Call::from_bytes`],
//!    runs it in its own pool with
//!    [`ProcessPoolExecutor::submit_call`](crate::ProcessPoolExecutor::submit_call)
//!    (so that a crash or a time-out stays contained there, as on one
//!    machine), and sends back [`Reply::to_bytes`];
//! 3. the sending side reads the reply with [`Reply::from_bytes`] and
//!    turns it into the `R` (or the error) with [`Reply::decode`].
//!
//! Only an identical binary can run a call, since it names its code by
//! offsets: [`Call::from_bytes`] refuses calls from another binary, and
//! calls should come only from trusted peers (see there).
//!
//! ```standalone_crate
//! use corun::multiprocessing::ProcessPoolExecutor;
//! use corun::multiprocessing::remote::{Call, Reply, binary_fingerprint};
//!
//! fn shout(s: String) -> String {
//!     s.to_uppercase()
//! }
//!
//! corun::multiprocessing::init();
//! // The sending side picks workers by the binary they run.
//! let subject = format!("calls.{:016x}", binary_fingerprint());
//! let call = Call::new(shout, &"hi".to_owned()).unwrap().to_bytes().unwrap();
//!
//! // A worker of the same binary (here, this process) runs it.
//! let pool = ProcessPoolExecutor::builder().max_workers(1).build().unwrap();
//! let task = pool.submit_call(Call::from_bytes(call).unwrap()).unwrap();
//! let reply = task.result().unwrap().to_bytes();
//!
//! let answer: String = Reply::from_bytes(&reply).unwrap().decode().unwrap();
//! assert_eq!(answer, "HI");
//! assert!(subject.starts_with("calls."));
//! ```

pub use crate::crossing::binary::binary_fingerprint;
pub use crate::crossing::call::{Call, Reply};
