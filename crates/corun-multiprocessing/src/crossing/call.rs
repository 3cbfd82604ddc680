//! `Call` and `Reply`: one function call to a worker, and its answer.
//!
//! A call frame's payload is `[id][trampoline][function][fingerprint]`
//! (four u64 LE), the number of file descriptors sent with the call (one
//! byte; see `fd_passing.rs`), then the postcard argument. A reply frame's payload
//! is the call's id (u64 LE) followed by the postcard result (`Returned`) or
//! a UTF-8 message (`Panicked`, `Serialization`, `Rejected`).

use std::fmt;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use corun_concurrent::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::crossing::code_address;
use crate::crossing::fd_passing;
use crate::crossing::wire::{self, Frame, HEADER_LEN, Kind};
use crate::shm::shared_memory::{self, SharedMemory};

/// The fixed part of a call's payload: four u64s, and the count of its
/// file descriptors.
const CALL_FIELDS: usize = 33;

/// Where the count of file descriptors sits in a call's payload.
const FDS_FIELD: usize = 32;

/// A call of a plain function `fn(A) -> R` with an argument, encoded and
/// ready to send to a [`Worker`](crate::workers::worker::Worker).
///
/// The call holds its whole frame, so sending it is one write. Its id (0
/// unless set) comes back in the [`Reply`]; a pool numbers its calls to
/// match replies with tasks. An argument that holds
/// [`Connection`](crate::Connection)s makes a call that also holds
/// duplicates of their descriptors, sent along with it (clones of the call
/// share them; they close when the last clone is dropped).
///
/// ```
/// use corun::multiprocessing::test_hooks::Call;
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
    /// use corun::multiprocessing::test_hooks::Call;
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
    /// use corun::multiprocessing::test_hooks::Call;
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
    /// # use corun::multiprocessing::test_hooks::Call;
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
    /// # use corun::multiprocessing::test_hooks::Call;
    /// # fn id(x: u8) -> u8 { x }
    /// assert_eq!(Call::new(id, &1).unwrap().with_id(3).id(), 3);
    /// ```
    pub fn with_id(mut self, id: u64) -> Self {
        self.set_id(id);
        self
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
    /// use corun::multiprocessing::test_hooks::Reply;
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
    /// use corun::multiprocessing::test_hooks::Reply;
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
}
