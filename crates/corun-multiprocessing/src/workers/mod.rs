//! A worker's life: the parent's handle on it (`worker`), the worker's own side from `init` to `exit` (`init`, `serve`), who it is (`current`), and Python's `Process` on top.
//!
//! A worker is this executable run again. This note describes what the parent
//! (`worker.rs`) and the worker (`init.rs`, `serve.rs`) say to each other;
//! `crossing/code_address.rs` explains why the same executable is required.
//!
//! # Memory limit
//!
//! `memory_limit(bytes)` (pools, `Process`) caps what a worker may allocate
//! beyond what it holds when it gets its setup (`memory_limit.rs`):
//!
//! - **What is counted.** The worker reads its `VmData` (`/proc/self/status`)
//!   and sets the soft `RLIMIT_DATA` to `VmData + bytes` (never above a lower
//!   limit it inherited). `VmData` is every private writable mapping: the
//!   `brk` heap, anonymous `mmap`s, the writable part of the allocator's
//!   arenas, the stacks of threads other than the main one, the writable data
//!   of the program and its libraries. Since Linux 4.7 the kernel checks it in
//!   `mmap`, `mremap`, `brk` and `mprotect`, so every way malloc grows fails
//!   past the limit: small allocations (arena growth) and large ones (their
//!   own `mmap`), counted when mapped, written or not. Not counted: shared
//!   mappings (`SharedMemory`, queues, values, locks), read-only and
//!   executable mappings, the main thread's stack (`RLIMIT_STACK`'s), kernel
//!   memory. What the allocator had mapped and not handed out before the
//!   limit is set (about 100 KiB) can be used on top of `bytes`. The
//!   initializer runs after the limit is set: what it keeps counts. Memory a
//!   task frees stays mapped for the next task or goes back to the kernel;
//!   either way it is not counted twice.
//! - **Why not `RLIMIT_AS`** (used before): it counts address space, checked
//!   only when a mapping is made. glibc reserves each thread arena (64 MiB,
//!   `PROT_NONE`) and makes it writable with `mprotect` as it grows, which
//!   `RLIMIT_AS` never sees; in a test binary the worker runs on a thread
//!   whose arena was reserved before the limit, and 32 MiB of small
//!   allocations went through a 1 MiB limit. An absolute limit also has to
//!   leave room for what the worker already maps (2.4 MiB of `VmData`, 70 MiB
//!   of address space in a test binary), hence the relative one. No `mallopt`
//!   (`M_ARENA_MAX`, `M_MMAP_THRESHOLD`) is needed once every path is
//!   checked. Kernels before 4.7 only held `brk` to `RLIMIT_DATA`; the setup
//!   fails there (`InitFailed`, so the spawn fails with the reason).
//! - **How a failure is reported.** malloc returns null, Rust's
//!   `handle_alloc_error` prints `memory allocation of N bytes failed` and
//!   aborts. The worker's `SIGABRT` handler (installed with the limit, reset
//!   on delivery) sends an `OutOfMemory` frame when `errno` is `ENOMEM` —
//!   set by the failed `mmap`/`brk`/`mprotect` and malloc; the worker clears
//!   `errno` before each call so an older failure does not count — unless the
//!   worker is writing a frame at that moment. The parent's `recv_reply`
//!   records the frame and reads on to the end of the socket;
//!   `Worker::describe_end` then says "ran out of memory (an allocation
//!   failed past its memory limit of N bytes) and aborted (SIGABRT)". A
//!   worker that aborts under a limit without the frame is described as
//!   aborted under its memory limit, with a pointer to its standard error.
//!   The frame can be missing when `RUST_BACKTRACE` makes the standard
//!   library print a backtrace before it aborts and that succeeds: resolving
//!   symbols makes system calls that fail (missing debug files) and reset
//!   `errno`. It succeeds only with room left, i.e. after one large
//!   allocation past the limit; after small ones the backtrace itself runs
//!   out of memory and `errno` stays `ENOMEM`. Stable Rust has no
//!   allocation-error hook (`set_alloc_error_hook` is nightly), and a library
//!   cannot set the program's global allocator, so `errno` is the evidence.
//!
//! # The end
//!
//! The worker exits 0 on end of stream or `Shutdown`; 1 after a failed
//! initializer or a failed one-shot call (a `Process`); 2 on a protocol error
//! (with a message on stderr). The parent reaps it: `Worker::drop` kills and
//! waits, a `Process` handle waits (or kills a daemon). If the parent process
//! dies, the kernel kills the worker.
//!

pub(crate) mod current;
pub(crate) mod init;
#[allow(unsafe_code)]
pub(crate) mod memory_limit;
pub(crate) mod process;
pub(crate) mod serve;
// `pub` items that only the test hooks reach.
#[cfg_attr(not(feature = "__test-hooks"), allow(unreachable_pub, dead_code))]
pub(crate) mod worker;
