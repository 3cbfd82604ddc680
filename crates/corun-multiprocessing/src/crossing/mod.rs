//! How a call crosses the process boundary: the handshake that checks both sides run the same code, the frames on the socket, the descriptors that travel with a call, and the call itself (a code offset and a postcard argument).
//!
//! # Handshake
//!
//! ```text
//! worker                                   parent
//!   Hello {protocol, nonce, pid,   ──▶      check_hello: same protocol, same
//!          exe identity, layout}            nonce and pid, same (dev, ino,
//!                                           size, mtime) of /proc/self/exe,
//!                                           same offset of a function from the
//!                                           anchor — else kill, reap, error
//!                                  ◀──    Setup {name, parent name,
//!                                           memory limit, initializer,
//!                                           one-shot, revocable}
//!                                           (+ the ring of claims)
//!   memory limit (RLIMIT_DATA, see
//!   `workers`), run the initializer
//!   (caught panic)
//!   Ready | InitFailed(reason)     ──▶      spawn returns the Worker | an error
//! ```
//!
//! A program that is not a corun worker exits (error: "exited with code N
//! before the handshake", naming the `init()` rule), or stays silent (error
//! after the handshake time-out, 30 s by default), or writes garbage (refused
//! as malformed). Only after `Ready` does the parent send calls.
//!
//! # Frames
//!
//! ```text
//! [payload length: u32 LE][kind: u8][payload]        payload ≤ 256 MiB
//! ```
//!
//! | kind | dir | payload |
//! |------|-----|---------|
//! | `0x01` Setup | → worker | postcard `Setup` |
//! | `0x02` Call | → worker | id, trampoline offset, function offset, type fingerprint (4 × u64 LE), number of descriptors sent with it (u8), postcard argument |
//! | `0x03` Shutdown | → worker | empty: answer the calls before it, exit 0 |
//! | `0x81` Hello | → parent | postcard `Hello` |
//! | `0x82` Ready | → parent | empty |
//! | `0x83` InitFailed | → parent | UTF-8 reason |
//! | `0x84` Returned | → parent | call id (u64 LE), postcard result |
//! | `0x85` Panicked | → parent | call id, UTF-8 panic message |
//! | `0x86` Serialization | → parent | call id, UTF-8 reason (argument or result did not cross) |
//! | `0x87` Rejected | → parent | call id, UTF-8 reason (fingerprint mismatch; nothing ran) |
//! | `0x88` OutOfMemory | → parent | empty: an allocation failed past the memory limit, the worker is aborting (see `workers`) |
//! | `0x10` Message | either way, on a `Pipe` only | a `Connection`'s message (postcard value or raw bytes) |
//!
//! Each frame is built whole in one buffer (a `Call` carries its frame from
//! `Call::new` on) and written with one `send(MSG_NOSIGNAL)` (a `sendmsg` for
//! a call with descriptors, see below). Frames are read
//! through a buffer that keeps a partial frame across a time-out. Calls may be
//! pipelined; replies come in call order (a call taken back gets none, see
//! below).
//!
//! The worker answers each call on its one thread: read, run (panics caught),
//! write. Before a read blocks, a reader (either side) polls the socket
//! without sleeping for up to 50 µs, as long as its previous wait was that
//! short: back-to-back calls then cost a few microseconds instead of two
//! process wake-ups, while long calls and idle workers do not burn CPU.
//!
//! # Descriptors
//!
//! A `Connection` in a call's argument (a `Pipe` end passed to a worker) goes
//! as a file descriptor beside the call's frame (`fd_passing.rs`):
//!
//! - `Call::new` encodes the argument inside a capture context (a
//!   thread-local list); each `Connection` serialises as its index in that
//!   list, where it put a duplicate of its descriptor, with its direction and
//!   the bytes it had read and not yet returned. The call keeps the list (at
//!   most 253, Linux's `SCM_MAX_FD`; more is a serialisation error), and the
//!   frame's descriptor count says how many. Outside a capture, a
//!   `Connection` refuses to serialise (a result, a message, plain postcard).
//! - The parent writes a call with descriptors with one `sendmsg` carrying
//!   them as `SCM_RIGHTS`, in a write of its own: the frames before it are
//!   written first, never merged with it. Calls without descriptors are
//!   batched and written as before. The setup frame carries the
//!   initializer's descriptors the same way.
//! - The worker reads with `recvmsg` (`MSG_CMSG_CLOEXEC`) and queues each
//!   batch of descriptors it gets. Linux delivers a batch with the first byte
//!   of the segment it was sent with and ends a read after that segment, so
//!   batches come one per call, in call order, before the call's frame is
//!   whole. A call with a non-zero count takes the next batch (one with
//!   fewer descriptors than the count, as after `MSG_CTRUNC`, fails that
//!   call with a serialisation error) and installs it in a thread-local
//!   while it runs; each `Connection` in the argument claims its index.
//!   What the argument did not claim is closed after the call.
//!
//! The parent keeps its duplicates until the call is dropped: at once for a
//! `Process`, when the task is done for a pool (which may have to re-send the
//! call to a new worker), for the pool's life for an initializer.
//!
//! # Calls taken back
//!
//! A pool's workers are *revocable* (`Setup.revocable`): the parent may take
//! back a call it wrote ahead, behind the one the worker runs, until the
//! worker begins it — to cancel its task, or to give it to an idle worker.
//! They share a ring of 64 words (`claims.rs`), a `memfd` the parent sends
//! with the setup frame: with its first byte, in a write of its own, so that
//! it is the first batch of descriptors, before the initializer's.
//!
//! - The parent stores `id << 2 | offered` in word `id % 64` before writing
//!   the call. Ids are consecutive, and at most 32 calls are in a worker at
//!   once, so a word is reused only after the worker read its previous call.
//! - The worker, before running a call, swaps its word from *offered* to
//!   *claimed*; if it finds *revoked* instead, it skips the call (closing its
//!   descriptors) and sends no reply. Any other value is a protocol error.
//! - The parent takes a call back by swapping *offered* to *revoked*; if the
//!   swap fails, the worker has begun it.

pub(crate) mod binary;
pub(crate) mod call;
#[allow(unsafe_code)]
pub(crate) mod claims;
#[allow(unsafe_code)]
pub(crate) mod code_address;
pub(crate) mod fd_passing;
pub(crate) mod handshake;
pub(crate) mod wire;
