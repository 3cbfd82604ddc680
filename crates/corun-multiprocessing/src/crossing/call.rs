//! `Call` and `Reply`: one function call to a worker, and its answer.
//!
//! A call frame's payload is `[id][trampoline][function][fingerprint]`
//! (four u64 LE), the number of file descriptors sent with the call (one
//! byte; see `fd_passing.rs`), then the postcard argument. A reply frame's payload
//! is the call's id (u64 LE) followed by the postcard result (`Returned`) or
//! a UTF-8 message (`Panicked`, `Serialization`, `Rejected`).
//!
//! # As bytes, to other machines
//!
//! A reply travels as its frame. A call travels as its frame behind a
//! prefix of 20 bytes, checked before anything else is read:
//!
//! ```text
//! [magic "CRN1"][binary fingerprint: u64 LE][checksum: u64 LE][call frame]
//! ```
//!
//! The binary fingerprint is the sender's (see `binary.rs`): a call's
//! offsets mean something only in an identical binary. The checksum,
//! FNV-1a over the fingerprint's bytes and the frame, catches a call
//! damaged on the way, which could otherwise name code that is not a
//! trampoline. A call with descriptors or shared-memory segments does not
//! travel: they exist only on this machine.

use std::fmt;
use std::hash::Hasher;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use corun_concurrent::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::crossing::binary::binary_fingerprint;
use crate::crossing::code_address::{self, Fnv1a};
use crate::crossing::fd_passing;
use crate::crossing::wire::{self, Frame, HEADER_LEN, Kind};
use crate::shm::shared_memory::{self, SharedMemory};

/// The fixed part of a call's payload: four u64s, and the count of its
/// file descriptors.
const CALL_FIELDS: usize = 33;

/// Where the count of file descriptors sits in a call's payload.
const FDS_FIELD: usize = 32;

/// The first bytes of a call as bytes ([`Call::to_bytes`]): "CRN" and the
/// format's version.
const MAGIC: [u8; 4] = *b"CRN1";

/// The bytes before a call's frame in [`Call::to_bytes`]: the magic, the
/// binary fingerprint and the checksum.
const PREFIX_LEN: usize = MAGIC.len() + 16;

/// A call of a plain function `fn(A) -> R` with an argument, encoded and
/// ready to send to a worker process.
///
/// The call holds its whole frame, so sending it is one write. Its id (0
/// unless set) comes back in the [`Reply`]; a pool numbers its calls to
/// match replies with tasks (and gives a call run with
/// [`submit_call`](crate::ProcessPoolExecutor::submit_call) its own id
/// back). An argument that holds
/// [`Connection`](crate::Connection)s makes a call that also holds
/// duplicates of their descriptors, sent along with it (clones of the call
/// share them; they close when the last clone is dropped).
///
/// A call can also travel as bytes ([`to_bytes`](Call::to_bytes),
/// [`from_bytes`](Call::from_bytes)) to a process of the same binary on
/// another machine, which runs it with
/// [`ProcessPoolExecutor::submit_call`](crate::ProcessPoolExecutor::submit_call).
///
/// ```
/// use corun::multiprocessing::remote::Call;
///
/// fn square(x: u64) -> u64 { x * x }
///
/// let call = Call::new(square, &7).unwrap().with_id(12);
/// assert_eq!(call.id(), 12);
/// ```
#[must_use = "a call does nothing until sent to a worker"]
#[derive(Clone)]
pub struct Call {
    frame: Vec<u8>,
    /// The descriptors sent with the call; `None` for none.
    fds: Option<Arc<[OwnedFd]>>,
    /// Handles to the shared-memory segments the argument names, so they
    /// outlive the caller's handles until the worker has attached (see
    /// `shared_memory::keeping`); `None` for none.
    _kept: Option<Arc<[SharedMemory]>>,
    /// This call's own deadline, in place of the pool's `task_timeout`.
    timeout: Option<Duration>,
}

/// A call as the worker reads it.
#[derive(Debug)]
pub(crate) struct CallFrame<'a> {
    pub(crate) id: u64,
    pub(crate) trampoline: u64,
    pub(crate) function: u64,
    pub(crate) fingerprint: u64,
    /// How many descriptors were sent with the call.
    pub(crate) fds: usize,
    pub(crate) args: &'a [u8],
}

/// A worker's answer to one [`Call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The function returned; its postcard-encoded result.
    Returned {
        /// The call's id.
        id: u64,
        /// The result, to [`decode`](Reply::decode).
        bytes: Vec<u8>,
    },
    /// The function panicked; the panic message. The worker goes on.
    Panicked {
        /// The call's id.
        id: u64,
        /// The panic's message.
        message: String,
    },
    /// The argument could not be decoded, or the result encoded (or it
    /// exceeded the frame limit). The worker goes on.
    Serialization {
        /// The call's id.
        id: u64,
        /// What serde or the frame limit said.
        message: String,
    },
    /// The call was refused unrun: its type fingerprint did not match its
    /// trampoline's (a bug in the caller). The worker goes on.
    Rejected {
        /// The call's id.
        id: u64,
        /// Why.
        message: String,
    },
}

fn read_u64(bytes: &[u8]) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(b)
}

impl Call {
    /// Encodes a call of `f(arg)`.
    ///
    /// # Errors
    ///
    /// [`Error::is_serialization`] when `arg` cannot be encoded with
    /// postcard (a `Serialize` impl that fails, a type that needs a
    /// self-describing format such as `#[serde(flatten)]`), is larger
    /// than a frame may be (256 MiB), or holds more than 253
    /// [`Connection`](crate::Connection)s.
    ///
    /// ```
    /// use corun::multiprocessing::remote::Call;
    ///
    /// fn len(s: String) -> usize { s.len() }
    ///
    /// assert_eq!(Call::new(len, &"abc".to_owned()).unwrap().id(), 0);
    /// ```
    pub fn new<A, R>(f: fn(A) -> R, arg: &A) -> Result<Self, Error>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + 'static,
    {
        Self::encode(code_address::single::<A, R>(f), arg)
    }

    /// Encodes one call of `f` on each of `items`, answered with all the
    /// results as a `Vec<R>` in order: a chunk of `Pool::map`. A panic on
    /// any item fails the whole call.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// ```
    /// use corun::multiprocessing::remote::Call;
    ///
    /// fn inc(x: u32) -> u32 { x + 1 }
    ///
    /// assert!(Call::batch(inc, &[1, 2, 3]).is_ok());
    /// ```
    pub fn batch<A, R>(f: fn(A) -> R, items: &[A]) -> Result<Self, Error>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + 'static,
    {
        Self::encode(code_address::batch::<A, R>(f), items)
    }

    /// Encodes one call of the two-argument `f` on each pair of `items`,
    /// answered with a `Vec<R>`: a chunk of `Pool::starmap`.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn star_batch<A, B, R>(f: fn(A, B) -> R, items: &[(A, B)]) -> Result<Self, Error>
    where
        A: Serialize + DeserializeOwned + 'static,
        B: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + 'static,
    {
        Self::encode(code_address::star_batch::<A, B, R>(f), items)
    }

    /// Builds the frame of a call to `target` with the argument `arg`.
    fn encode<T: Serialize + ?Sized>(target: code_address::Target, arg: &T) -> Result<Self, Error> {
        // The argument's in-memory size bounds its encoding for plain data
        // (varints are never longer), so large batches are not copied over
        // and over as the buffer grows.
        let guess = std::mem::size_of_val(arg).min(wire::MAX_PAYLOAD);
        let mut frame = Vec::with_capacity(HEADER_LEN + CALL_FIELDS + 16 + guess);
        wire::begin(&mut frame, Kind::Call);
        for field in [0, target.trampoline, target.function, target.fingerprint] {
            frame.extend_from_slice(&field.to_le_bytes());
        }
        frame.push(0); // the descriptors, counted below
        let ((encoded, fds), kept) = shared_memory::keeping(|| {
            fd_passing::capturing(|| fd_passing::encoding(|| postcard::to_extend(arg, frame)))
        });
        let mut frame = encoded
            .map_err(|e| Error::serialization(format!("cannot encode the argument: {e}")))?;
        wire::finish(&mut frame)
            .map_err(|e| Error::serialization(format!("cannot send the argument: {e}")))?;
        let fds = if fds.is_empty() {
            None
        } else {
            // At most `MAX_FDS` (253), which `offer` enforces.
            frame[HEADER_LEN + FDS_FIELD] = fds.len() as u8;
            Some(Arc::from(fds))
        };
        let kept = (!kept.is_empty()).then(|| Arc::from(kept));
        Ok(Self {
            frame,
            fds,
            _kept: kept,
            timeout: None,
        })
    }

    /// What keeps the segments the argument names alive (see
    /// `shared_memory::keeping`), to hold after the call itself is gone.
    pub(crate) fn kept(&self) -> Option<Arc<[SharedMemory]>> {
        self._kept.clone()
    }

    /// The call's id.
    ///
    /// ```
    /// # use corun::multiprocessing::remote::Call;
    /// # fn id(x: u8) -> u8 { x }
    /// let mut call = Call::new(id, &1).unwrap();
    /// call.set_id(5);
    /// assert_eq!(call.id(), 5);
    /// ```
    pub fn id(&self) -> u64 {
        read_u64(&self.frame[HEADER_LEN..])
    }

    /// Sets the id that comes back in the call's [`Reply`].
    pub fn set_id(&mut self, id: u64) {
        self.frame[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&id.to_le_bytes());
    }

    /// The call with its id set to `id`.
    ///
    /// ```
    /// # use corun::multiprocessing::remote::Call;
    /// # fn id(x: u8) -> u8 { x }
    /// assert_eq!(Call::new(id, &1).unwrap().with_id(3).id(), 3);
    /// ```
    pub fn with_id(mut self, id: u64) -> Self {
        self.set_id(id);
        self
    }

    /// The call with a deadline of its own, counted from when its worker
    /// starts it, in place of the pool's
    /// [`task_timeout`](crate::WorkerPoolBuilder::task_timeout): past it,
    /// the worker is killed and replaced and the call fails with a
    /// time-out. It stays on this machine: [`to_bytes`](Self::to_bytes)
    /// does not carry it.
    ///
    /// ```
    /// use corun::multiprocessing::remote::Call;
    /// use std::time::Duration;
    ///
    /// fn id(x: u8) -> u8 { x }
    ///
    /// let call = Call::new(id, &1).unwrap().with_timeout(Duration::from_secs(2));
    /// assert_eq!(call.timeout(), Some(Duration::from_secs(2)));
    /// ```
    pub fn with_timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// The call's own deadline, if it has one.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The call as bytes, to carry to a process of the same binary on
    /// another machine: its frame, behind this binary's
    /// [`binary_fingerprint`](crate::remote::binary_fingerprint) and a
    /// checksum. Read back with [`from_bytes`](Self::from_bytes).
    ///
    /// # Errors
    ///
    /// [`Error::is_serialization`] when the argument holds a
    /// [`Connection`](crate::Connection) (its file descriptor cannot leave
    /// this machine) or names shared memory (a
    /// [`SharedMemory`](crate::SharedMemory), or what lives in one: a
    /// `Value`, `Array`, `Queue`, lock…), which exists only on this
    /// machine.
    ///
    /// ```
    /// use corun::multiprocessing::remote::Call;
    ///
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// let bytes = Call::new(square, &7).unwrap().with_id(3).to_bytes().unwrap();
    /// assert_eq!(Call::from_bytes(bytes).unwrap().id(), 3);
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        if !self.fds().is_empty() {
            return Err(Error::serialization(format!(
                "cannot send this call to another machine: its argument holds {} \
                 Connection descriptor(s), which only cross to workers on this machine",
                self.fds().len()
            )));
        }
        if let Some(kept) = &self._kept {
            return Err(Error::serialization(format!(
                "cannot send this call to another machine: its argument names {} \
                 shared-memory segment(s) (a SharedMemory, Value, Array, Queue or lock), \
                 which exist only on this machine",
                kept.len()
            )));
        }
        let binary = binary_fingerprint();
        let mut bytes = Vec::with_capacity(PREFIX_LEN + self.frame.len());
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&binary.to_le_bytes());
        bytes.extend_from_slice(&checksum(binary, &self.frame).to_le_bytes());
        bytes.extend_from_slice(&self.frame);
        Ok(bytes)
    }

    /// Reads a call made by [`to_bytes`](Self::to_bytes), to run in this
    /// process's pool with
    /// [`ProcessPoolExecutor::submit_call`](crate::ProcessPoolExecutor::submit_call).
    ///
    /// The bytes are checked before anything else: they must come from
    /// this very binary (the same
    /// [`binary_fingerprint`](crate::remote::binary_fingerprint)), be
    /// intact (the checksum) and hold one whole call frame without
    /// descriptors. Arbitrary bytes give an error, never a panic.
    ///
    /// A call names the code it runs by offsets in the binary, so accept
    /// calls only from peers you trust, over an authenticated transport:
    /// the checks catch another binary and damage on the way, not a call
    /// forged on purpose (as Python's `pickle` runs what it is given).
    ///
    /// # Errors
    ///
    /// [`Error::is_serialization`], saying what is wrong: not a call, made
    /// by a different binary, damaged, truncated.
    ///
    /// ```
    /// use corun::multiprocessing::remote::Call;
    ///
    /// let err = Call::from_bytes(b"not a call".to_vec()).unwrap_err();
    /// assert!(err.is_serialization());
    /// ```
    pub fn from_bytes(mut bytes: Vec<u8>) -> Result<Call, Error> {
        let refuse = |why: String| Error::serialization(format!("not a corun call: {why}"));
        if bytes.len() < PREFIX_LEN {
            return Err(refuse(format!(
                "{} bytes, shorter than the {PREFIX_LEN}-byte prefix",
                bytes.len()
            )));
        }
        if bytes[..MAGIC.len()] != MAGIC {
            return Err(refuse("it does not begin with the magic bytes".to_owned()));
        }
        let binary = read_u64(&bytes[MAGIC.len()..]);
        if binary != binary_fingerprint() {
            return Err(Error::serialization(format!(
                "cannot run this call: it was made by a different binary (fingerprint \
                 {binary:016x}, this one's is {:016x}); only an identical binary may run it",
                binary_fingerprint()
            )));
        }
        let frame = &bytes[PREFIX_LEN..];
        if read_u64(&bytes[MAGIC.len() + 8..]) != checksum(binary, frame) {
            return Err(refuse(
                "its checksum does not match (damaged or truncated)".to_owned(),
            ));
        }
        let parsed = wire::parse(frame).map_err(refuse)?;
        if parsed.kind != Kind::Call {
            return Err(refuse(format!("a {:?} frame", parsed.kind)));
        }
        let call = CallFrame::parse(parsed.payload)
            .ok_or_else(|| refuse("a call frame too short".to_owned()))?;
        if call.fds != 0 {
            return Err(refuse(format!(
                "a call frame that expects {} file descriptor(s)",
                call.fds
            )));
        }
        bytes.drain(..PREFIX_LEN);
        Ok(Call {
            frame: bytes,
            fds: None,
            _kept: None,
            timeout: None,
        })
    }

    /// The whole frame, header included.
    pub(crate) fn frame(&self) -> &[u8] {
        &self.frame
    }

    /// The frame's payload, as the worker will read it.
    pub(crate) fn payload(&self) -> &[u8] {
        &self.frame[HEADER_LEN..]
    }

    /// The descriptors to send with the frame (empty for most calls).
    pub(crate) fn fds(&self) -> &[OwnedFd] {
        self.fds.as_deref().unwrap_or_default()
    }

    /// The descriptors to send with the frame, shared.
    pub(crate) fn shared_fds(&self) -> Option<Arc<[OwnedFd]>> {
        self.fds.clone()
    }
}

/// The checksum of a call as bytes: FNV-1a over the binary fingerprint
/// (LE) and the frame.
fn checksum(binary: u64, frame: &[u8]) -> u64 {
    let mut hash = Fnv1a::default();
    hash.write(&binary.to_le_bytes());
    hash.write(frame);
    hash.finish()
}

impl<'a> CallFrame<'a> {
    /// Reads a call's payload; `None` if it is too short to be one.
    pub(crate) fn parse(payload: &'a [u8]) -> Option<Self> {
        if payload.len() < CALL_FIELDS {
            return None;
        }
        Some(Self {
            id: read_u64(payload),
            trampoline: read_u64(&payload[8..]),
            function: read_u64(&payload[16..]),
            fingerprint: read_u64(&payload[24..]),
            fds: payload[FDS_FIELD].into(),
            args: &payload[CALL_FIELDS..],
        })
    }
}

impl Reply {
    /// The id of the call this answers.
    ///
    /// ```
    /// use corun::multiprocessing::remote::Reply;
    /// let r = Reply::Panicked { id: 4, message: "boom".into() };
    /// assert_eq!(r.id(), 4);
    /// ```
    pub fn id(&self) -> u64 {
        match self {
            Reply::Returned { id, .. }
            | Reply::Panicked { id, .. }
            | Reply::Serialization { id, .. }
            | Reply::Rejected { id, .. } => *id,
        }
    }

    /// Sets the id of the call this answers.
    pub(crate) fn set_id(&mut self, to: u64) {
        match self {
            Reply::Returned { id, .. }
            | Reply::Panicked { id, .. }
            | Reply::Serialization { id, .. }
            | Reply::Rejected { id, .. } => *id = to,
        }
    }

    /// The reply as bytes, to carry back to the machine that sent the
    /// call: the frame a worker writes (`[payload length: u32 LE][kind:
    /// u8][call id: u64 LE][result or message]`). Read back with
    /// [`from_bytes`](Self::from_bytes).
    ///
    /// A result or message over 256 MiB (more than a worker ever sends)
    /// makes bytes that do not read back.
    ///
    /// ```
    /// use corun::multiprocessing::remote::Reply;
    ///
    /// let reply = Reply::Returned { id: 2, bytes: vec![42] };
    /// assert_eq!(Reply::from_bytes(&reply.to_bytes()).unwrap(), reply);
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let (kind, id, body) = match self {
            Reply::Returned { id, bytes } => (Kind::Returned, id, &bytes[..]),
            Reply::Panicked { id, message } => (Kind::Panicked, id, message.as_bytes()),
            Reply::Serialization { id, message } => (Kind::Serialization, id, message.as_bytes()),
            Reply::Rejected { id, message } => (Kind::Rejected, id, message.as_bytes()),
        };
        let mut bytes = Vec::with_capacity(HEADER_LEN + 8 + body.len());
        wire::begin(&mut bytes, kind);
        bytes.extend_from_slice(&id.to_le_bytes());
        bytes.extend_from_slice(body);
        if wire::finish(&mut bytes).is_err() {
            // Past the limit: a length that `from_bytes` refuses.
            bytes[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        }
        bytes
    }

    /// Reads a reply made by [`to_bytes`](Self::to_bytes). Arbitrary bytes
    /// give an error, never a panic; a message that is not UTF-8 is read
    /// with replacement characters.
    ///
    /// # Errors
    ///
    /// [`Error::is_serialization`] when `bytes` are not exactly one reply
    /// frame: too short, an unknown or non-reply kind, a length that does
    /// not match.
    ///
    /// ```
    /// use corun::multiprocessing::remote::Reply;
    ///
    /// assert!(Reply::from_bytes(&[1, 2, 3]).unwrap_err().is_serialization());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Reply, Error> {
        wire::parse(bytes)
            .and_then(|frame| Reply::from_frame(&frame))
            .map_err(|why| Error::serialization(format!("not a corun reply: {why}")))
    }

    /// The call's result as an `R`, or its failure as an [`Error`].
    ///
    /// # Errors
    ///
    /// [`Error::is_panic`] (with the panic message) when the function
    /// panicked; [`Error::is_remote`] when the call was rejected; [`Error::is_serialization`] when
    /// the argument or result did not cross, including when `bytes` do not
    /// decode as an `R`.
    ///
    /// ```
    /// use corun::multiprocessing::remote::Reply;
    ///
    /// let ok = Reply::Returned { id: 0, bytes: vec![42] };
    /// assert_eq!(ok.decode::<u8>().unwrap(), 42);
    /// let err = Reply::Panicked { id: 0, message: "boom".into() }.decode::<u8>().unwrap_err();
    /// assert_eq!(err.panic_message(), Some("boom"));
    /// ```
    pub fn decode<R: DeserializeOwned>(self) -> Result<R, Error> {
        match self {
            Reply::Returned { bytes, .. } => postcard::from_bytes(&bytes)
                .map_err(|e| Error::serialization(format!("cannot decode the result: {e}"))),
            Reply::Panicked { message, .. } => Err(Error::panic(message)),
            Reply::Serialization { message, .. } => Err(Error::serialization(message)),
            Reply::Rejected { message, .. } => Err(Error::remote(message)),
        }
    }

    /// Reads a reply frame.
    ///
    /// # Errors
    ///
    /// Why the frame is not a reply, for a protocol error.
    pub(crate) fn from_frame(frame: &Frame<'_>) -> Result<Self, String> {
        let payload = frame.payload;
        if payload.len() < 8 {
            return Err(format!("a {:?} frame too short for a reply", frame.kind));
        }
        let id = read_u64(payload);
        let rest = &payload[8..];
        let text = || String::from_utf8_lossy(rest).into_owned();
        Ok(match frame.kind {
            Kind::Returned => Reply::Returned {
                id,
                bytes: rest.to_vec(),
            },
            Kind::Panicked => Reply::Panicked {
                id,
                message: text(),
            },
            Kind::Serialization => Reply::Serialization {
                id,
                message: text(),
            },
            Kind::Rejected => Reply::Rejected {
                id,
                message: text(),
            },
            other => return Err(format!("a {other:?} frame where a reply was expected")),
        })
    }
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("id", &self.id())
            .field("frame_len", &self.frame.len())
            .field("fds", &self.fds().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use serde::ser::Error as _;

    use super::*;

    fn add((a, b): (i32, i32)) -> i32 {
        a + b
    }

    #[derive(Debug)]
    struct Refuses;

    impl Serialize for Refuses {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("this value refuses to be serialised"))
        }
    }

    impl<'de> serde::Deserialize<'de> for Refuses {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Ok(Refuses)
        }
    }

    fn take(_: Refuses) {}

    // Checks that a call's frame parses back into the fields the worker
    // needs, with the argument intact.
    #[test]
    fn call_frame_parses_back() {
        let call = Call::new(add, &(2, 3)).unwrap().with_id(77);
        let parsed = CallFrame::parse(call.payload()).unwrap();
        assert_eq!(parsed.id, 77);
        assert_eq!(
            parsed.trampoline,
            code_address::trampoline_offset::<(i32, i32), i32>()
        );
        assert_eq!(parsed.function, code_address::function_offset(add));
        assert_eq!(
            parsed.fingerprint,
            code_address::fingerprint::<(i32, i32), i32>()
        );
        assert_eq!(
            postcard::from_bytes::<(i32, i32)>(parsed.args).unwrap(),
            (2, 3)
        );
        assert_eq!(parsed.fds, 0);
        assert!(call.fds().is_empty());
        assert!(CallFrame::parse(&call.payload()[..32]).is_none());
    }

    // Checks that an argument that cannot be serialised is an error before
    // anything is sent.
    #[test]
    fn unserialisable_argument_is_an_error() {
        let err = Call::new(take, &Refuses).unwrap_err();
        assert!(err.is_serialization());
        assert!(
            err.to_string().contains("cannot encode the argument"),
            "{err}"
        );
    }

    // Checks how each reply kind turns into a value or an error.
    #[test]
    fn replies_decode() {
        let bytes = postcard::to_stdvec(&5_i32).unwrap();
        assert_eq!(Reply::Returned { id: 1, bytes }.decode::<i32>().unwrap(), 5);
        let e = Reply::Returned {
            id: 1,
            bytes: vec![],
        }
        .decode::<i32>()
        .unwrap_err();
        assert!(e.is_serialization());
        let e = Reply::Serialization {
            id: 1,
            message: "m".into(),
        }
        .decode::<i32>()
        .unwrap_err();
        assert!(e.is_serialization());
        let e = Reply::Rejected {
            id: 1,
            message: "m".into(),
        }
        .decode::<i32>()
        .unwrap_err();
        assert!(e.is_remote());
        let e = Reply::Panicked {
            id: 1,
            message: "m".into(),
        }
        .decode::<i32>()
        .unwrap_err();
        assert_eq!(e.panic_message(), Some("m"));
    }

    // Checks reading reply frames, and refusing frames that are not one.
    #[test]
    fn reply_frames() {
        let mut payload = 9_u64.to_le_bytes().to_vec();
        payload.extend_from_slice(b"boom");
        let frame = Frame {
            kind: Kind::Panicked,
            payload: &payload,
        };
        assert_eq!(
            Reply::from_frame(&frame).unwrap(),
            Reply::Panicked {
                id: 9,
                message: "boom".into()
            }
        );
        let frame = Frame {
            kind: Kind::Ready,
            payload: &payload,
        };
        assert!(Reply::from_frame(&frame).is_err());
        let frame = Frame {
            kind: Kind::Returned,
            payload: &payload[..3],
        };
        assert!(Reply::from_frame(&frame).is_err());
    }

    // Checks that a call read back from its bytes is the same frame, id
    // included, and that a reply of each kind reads back as itself.
    #[test]
    fn calls_and_replies_round_trip_as_bytes() {
        let call = Call::new(add, &(2, 3)).unwrap().with_id(41);
        let back = Call::from_bytes(call.to_bytes().unwrap()).unwrap();
        assert_eq!(back.frame(), call.frame());
        assert_eq!(back.id(), 41);
        assert!(back.fds().is_empty() && back.kept().is_none());
        for reply in [
            Reply::Returned {
                id: 1,
                bytes: vec![0, 255, 7],
            },
            Reply::Returned {
                id: u64::MAX,
                bytes: vec![],
            },
            Reply::Panicked {
                id: 2,
                message: "boom ✓".into(),
            },
            Reply::Serialization {
                id: 3,
                message: "bad".into(),
            },
            Reply::Rejected {
                id: 4,
                message: String::new(),
            },
        ] {
            let bytes = reply.to_bytes();
            let frame = wire::parse(&bytes).unwrap();
            assert_eq!(Reply::from_frame(&frame).unwrap(), reply);
            assert_eq!(Reply::from_bytes(&bytes).unwrap(), reply);
        }
    }

    // Checks that each way a call's bytes can be wrong is refused, with a
    // serialisation error that says which.
    #[test]
    fn bad_call_bytes_are_refused() {
        let good = Call::new(add, &(2, 3)).unwrap().to_bytes().unwrap();
        let refused = |bytes: Vec<u8>| {
            let err = Call::from_bytes(bytes).unwrap_err();
            assert!(err.is_serialization(), "{err}");
            err.to_string()
        };
        for cut in 0..good.len() {
            refused(good[..cut].to_vec());
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(refused(longer).contains("checksum"));
        assert!(refused(b"CRN2".iter().chain(&good[4..]).copied().collect()).contains("magic"));

        let mut other_binary = good.clone();
        other_binary[4] ^= 1;
        let err = refused(other_binary);
        assert!(err.contains("different binary"), "{err}");

        for at in PREFIX_LEN + 8..good.len() {
            let mut flipped = good.clone();
            flipped[at] ^= 0x10;
            assert!(refused(flipped).contains("checksum"), "byte {at}");
        }

        // Well-formed prefixes around frames that are not plain calls.
        let wrap = |frame: &[u8]| {
            let binary = binary_fingerprint();
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&binary.to_le_bytes());
            bytes.extend_from_slice(&checksum(binary, frame).to_le_bytes());
            bytes.extend_from_slice(frame);
            bytes
        };
        let frame = &good[PREFIX_LEN..];
        assert!(Call::from_bytes(wrap(frame)).is_ok());
        let mut with_fds = frame.to_vec();
        with_fds[HEADER_LEN + FDS_FIELD] = 1;
        assert!(refused(wrap(&with_fds)).contains("file descriptor"));
        let reply = Reply::Returned {
            id: 0,
            bytes: vec![0; 40],
        };
        assert!(refused(wrap(&reply.to_bytes())).contains("Returned frame"));
        let short = wire::frame(Kind::Call, &[0; CALL_FIELDS - 1]).unwrap();
        assert!(refused(wrap(&short)).contains("too short"));
        let mut lying = frame.to_vec();
        lying[0] += 1;
        assert!(refused(wrap(&lying)).contains("announces"));
    }

    // Checks that random and truncated buffers never make `from_bytes`
    // panic (a small deterministic fuzz: xorshift bytes, and every prefix
    // of real frames with random tails).
    #[test]
    fn random_bytes_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let call = Call::new(add, &(2, 3)).unwrap().to_bytes().unwrap();
        let reply = Reply::Panicked {
            id: 9,
            message: "boom".into(),
        }
        .to_bytes();
        for round in 0..4000 {
            let len = (next() % 96) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if round % 2 == 0 {
                // A real head and a random tail, so the parsers get past
                // their first checks.
                let real = if round % 4 == 0 { &call } else { &reply };
                let keep = (next() as usize) % (real.len() + 1);
                bytes.splice(0..0, real[..keep].iter().copied());
                bytes.truncate(keep + len % 8);
            }
            let _ = Reply::from_bytes(&bytes);
            assert!(Call::from_bytes(bytes).is_err() || round % 4 == 0);
        }
    }

    // Checks that a reply past the frame limit makes bytes that are
    // refused rather than misread.
    #[test]
    fn oversized_reply_does_not_read_back() {
        let reply = Reply::Returned {
            id: 0,
            bytes: vec![0; wire::MAX_PAYLOAD],
        };
        let err = Reply::from_bytes(&reply.to_bytes()).unwrap_err();
        assert!(err.to_string().contains("exceeds the limit"), "{err}");
    }
}
