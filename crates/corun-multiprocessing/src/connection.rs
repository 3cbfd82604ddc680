//! [`Pipe`] and [`Connection`]: Python's `multiprocessing.Pipe()` and the
//! two connected ends it returns, which can be passed to worker processes
//! (the docs are on [`Connection`]).

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use corun_core::{Error, ErrorKind};
use parking_lot::{Mutex, MutexGuard};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::crossing::fd_passing;
use crate::crossing::wire::{self, FrameReader, HEADER_LEN, Kind, MAX_PAYLOAD, ReadError};
use corun_core::deadline::deadline;

/// Messages up to this size are copied behind their header and sent with
/// one `send`; larger ones are sent from where they are, with one
/// `sendmsg` of the header and the bytes.
const COPY_BELOW: usize = 4 << 10;

/// A send buffer that grew past this (a large message) is freed after use.
const KEEP_BUFFER: usize = 1 << 20;

/// Why a receiving end refuses to send, and the other way round.
const ONLY_RECEIVES: &str = "this end of a one-way pipe only receives";
const ONLY_SENDS: &str = "this end of a one-way pipe only sends";

/// Makes connected pairs of [`Connection`]s: Python's
/// `multiprocessing.Pipe`. A namespace; it has no values.
///
/// A [`Pipe::duplex`] is a Unix socket pair: each end sends and receives.
/// A [`Pipe::one_way`] returns `(reader, writer)`, as Python's
/// `Pipe(duplex=False)`. See [`Connection`] for what the ends do, and how
/// to give one to a worker process.
#[derive(Debug)]
pub enum Pipe {}

/// One end of a [`Pipe`]: Python's `multiprocessing.connection.Connection`.
///
/// A [`Pipe::duplex`] is a Unix socket pair: each end sends and receives.
/// A [`Pipe::one_way`] returns `(reader, writer)`, as Python's
/// `Pipe(duplex=False)`. An end sends serde values ([`Connection::send`],
/// postcard-encoded) or raw bytes ([`Connection::send_bytes`]); each is
/// one message, which the other end receives whole.
///
/// # Passing an end to a worker
///
/// A `Connection` is an argument like any other:
/// [`Process::start(f, conn)`](crate::Process::start),
/// [`Pool::apply`](crate::Pool::apply),
/// [`ProcessPoolExecutor`](crate::ProcessPoolExecutor)'s `submit`, alone or
/// inside a tuple, a struct, a `Vec`. Its file descriptor travels beside
/// the call (`SCM_RIGHTS`; see the `crossing` module's docs). Messages this
/// end had already read from the socket, and not yet returned, go along.
/// A call may carry at most 253 `Connection`s.
///
/// Only an argument can carry one: a `Connection` inside a worker's
/// result, inside a message on another `Connection`, or in any other
/// serialisation refuses to serialise, with an error saying so (the task
/// then fails with a serialisation error; nothing panics).
///
/// # The other end closed
///
/// As in Python, an end whose peer is closed — every copy of it: the
/// handle here, and the copies in workers, which close when the worker's
/// function drops its argument or the worker exits, even by `SIGKILL` —
/// returns a [`Closed`](ErrorKind::Closed) error from `recv` once the messages that
/// arrived before are read (Python's `EOFError`), and from `send` (Python's
/// `BrokenPipeError`). Nothing hangs, and no `SIGPIPE` is raised. A pool
/// keeps its copy of an argument's `Connection` until the task is done (so
/// that it can re-send the call if the worker dies before running it).
///
/// # Beyond Python
///
/// A `Connection` is `Send + Sync`: `send` and `recv` may be called from
/// several threads at once, and each takes its own lock, so whole messages
/// go out and come in one at a time (in Python, concurrent sends can
/// interleave and corrupt the stream). A value that does
/// not serialise is an error from `send` and nothing is written; a message
/// that does not decode as the type asked is a
/// [`Serialization`](ErrorKind::Serialization) error (the message is
/// consumed).
///
/// # Examples
///
/// Within one process:
///
/// ```
/// use corun::multiprocessing::Pipe;
///
/// let (a, b) = Pipe::duplex().unwrap();
/// a.send(&("hello", 42_u32)).unwrap();
/// assert_eq!(b.recv::<(String, u32)>().unwrap(), ("hello".to_owned(), 42));
/// b.send_bytes(b"raw").unwrap();
/// assert_eq!(a.recv_bytes().unwrap(), b"raw");
/// ```
///
/// With a worker process (a program that starts processes calls
/// [`init`](crate::init) first):
///
/// ```standalone_crate
/// use corun::ErrorKind;
/// use corun::multiprocessing::{Connection, Pipe, Process};
///
/// fn doubler(conn: Connection) {
///     // Answers until the parent closes its end.
///     while let Ok(n) = conn.recv::<u64>() {
///         conn.send(&(2 * n)).unwrap();
///     }
/// }
///
/// corun::multiprocessing::init();
/// let (ours, theirs) = Pipe::duplex().unwrap();
/// let p = Process::start(doubler, theirs).unwrap();
/// for n in 1..=3_u64 {
///     ours.send(&n).unwrap();
///     assert_eq!(ours.recv::<u64>().unwrap(), 2 * n);
/// }
/// ours.close();
/// p.join().unwrap();
///
/// // The other end gone (the process exited): receiving says so.
/// let (ours, theirs) = Pipe::duplex().unwrap();
/// Process::start(drop::<Connection>, theirs).unwrap().join().unwrap();
/// assert_eq!(ours.recv::<u64>().unwrap_err().kind(), ErrorKind::Closed);
/// ```
pub struct Connection {
    stream: UnixStream,
    readable: bool,
    writable: bool,
    /// Held while a message is received (or polled for).
    reader: Mutex<FrameReader>,
    /// Held while a message is encoded and written; its reused buffer.
    writer: Mutex<Vec<u8>>,
}

impl Pipe {
    /// A connected pair whose ends both send and receive: Python's
    /// `Pipe()` (a Unix socket pair).
    ///
    /// # Errors
    ///
    /// An [`Io`](ErrorKind::Io) error when the socket pair cannot be made (out of
    /// descriptors).
    ///
    /// ```
    /// let (a, b) = corun::multiprocessing::Pipe::duplex().unwrap();
    /// a.send(&1_u8).unwrap();
    /// b.send(&2_u8).unwrap();
    /// assert_eq!((a.recv::<u8>().unwrap(), b.recv::<u8>().unwrap()), (2, 1));
    /// ```
    pub fn duplex() -> Result<(Connection, Connection), Error> {
        let (a, b) = UnixStream::pair().map_err(Error::from)?;
        Ok((
            Connection::new(a, true, true),
            Connection::new(b, true, true),
        ))
    }

    /// A connected pair `(reader, writer)`: the writer only sends, the
    /// reader only receives — Python's `Pipe(duplex=False)`.
    ///
    /// # Errors
    ///
    /// As [`duplex`](Self::duplex).
    ///
    /// ```
    /// use corun::multiprocessing::Pipe;
    ///
    /// let (reader, writer) = Pipe::one_way().unwrap();
    /// writer.send(&"one way").unwrap();
    /// assert_eq!(reader.recv::<String>().unwrap(), "one way");
    /// assert!(reader.send(&0).unwrap_err().is_invalid_argument());
    /// assert!(!writer.readable() && writer.writable());
    /// ```
    pub fn one_way() -> Result<(Connection, Connection), Error> {
        let (a, b) = UnixStream::pair().map_err(Error::from)?;
        Ok((
            Connection::new(a, true, false),
            Connection::new(b, false, true),
        ))
    }
}

impl Connection {
    fn new(stream: UnixStream, readable: bool, writable: bool) -> Self {
        Self {
            stream,
            readable,
            writable,
            reader: Mutex::new(FrameReader::new(wire::SPIN)),
            writer: Mutex::new(Vec::new()),
        }
    }

    /// Sends `value`, postcard-encoded, as one message (Python's `send`).
    ///
    /// # Errors
    ///
    /// [`Serialization`](ErrorKind::Serialization) when `value` does not
    /// serialise (a `Connection` in it, say), [`InvalidArgument`](ErrorKind::InvalidArgument)
    /// past 256 MiB — nothing is sent; [`Closed`](ErrorKind::Closed) when
    /// the other end is closed; [`InvalidArgument`](ErrorKind::InvalidArgument) on a one-way
    /// pipe's reader.
    ///
    /// ```
    /// let (a, b) = corun::multiprocessing::Pipe::duplex().unwrap();
    /// a.send(&vec![1, 2, 3]).unwrap();
    /// a.send("a str").unwrap();
    /// assert_eq!(b.recv::<Vec<i32>>().unwrap(), [1, 2, 3]);
    /// assert_eq!(b.recv::<String>().unwrap(), "a str");
    /// ```
    pub fn send<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        self.check(self.writable, ONLY_RECEIVES)?;
        let mut buf = self.writer.lock();
        wire::begin(&mut buf, Kind::Message);
        *buf = fd_passing::encoding(|| postcard::to_extend(value, std::mem::take(&mut *buf)))
            .map_err(|e| Error::serialization(format!("cannot encode the message: {e}")))?;
        let len = buf.len() - HEADER_LEN;
        let sent = match wire::finish(&mut buf) {
            Ok(()) => wire::send_all(&self.stream, &buf).map_err(write_error),
            Err(_) => Err(too_large(len)),
        };
        if buf.capacity() > KEEP_BUFFER {
            *buf = Vec::new();
        }
        sent
    }

    /// Sends `bytes` as one message (Python's `send_bytes`), without
    /// encoding them.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send), less the serialisation.
    ///
    /// ```
    /// let (a, b) = corun::multiprocessing::Pipe::duplex().unwrap();
    /// a.send_bytes(b"abc").unwrap();
    /// a.send_bytes(b"").unwrap();
    /// assert_eq!(b.recv_bytes().unwrap(), b"abc");
    /// assert_eq!(b.recv_bytes().unwrap(), b"");
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), Error> {
        self.check(self.writable, ONLY_RECEIVES)?;
        if bytes.len() > MAX_PAYLOAD {
            return Err(too_large(bytes.len()));
        }
        let mut header = [0; HEADER_LEN];
        header[..4].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
        header[4] = Kind::Message as u8;
        let mut buf = self.writer.lock();
        let sent = if bytes.len() < COPY_BELOW {
            buf.clear();
            buf.extend_from_slice(&header);
            buf.extend_from_slice(bytes);
            wire::send_all(&self.stream, &buf)
        } else {
            wire::send_parts(&self.stream, &header, bytes)
        };
        sent.map_err(write_error)
    }

    /// Receives the next message as a `T`, waiting for it (Python's
    /// `recv`).
    ///
    /// # Errors
    ///
    /// [`Closed`](ErrorKind::Closed) when no message is left and the other
    /// end is closed; [`Serialization`](ErrorKind::Serialization) when the message
    /// does not decode as a `T` (it is consumed);
    /// [`InvalidArgument`](ErrorKind::InvalidArgument) on a one-way pipe's writer.
    ///
    /// ```
    /// use corun::ErrorKind;
    /// use corun::multiprocessing::Pipe;
    ///
    /// let (a, b) = Pipe::duplex().unwrap();
    /// a.send(&7_u16).unwrap();
    /// drop(a);
    /// assert_eq!(b.recv::<u16>().unwrap(), 7);
    /// assert_eq!(b.recv::<u16>().unwrap_err().kind(), ErrorKind::Closed);
    /// ```
    pub fn recv<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.recv_until(None)
    }

    /// As [`recv`](Self::recv), waiting at most `timeout`
    /// (a [`Timeout`](ErrorKind::Timeout) after; a message partly received
    /// stays for the next receive).
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv), and [`Timeout`](ErrorKind::Timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use corun::multiprocessing::Pipe;
    ///
    /// let (a, _b) = Pipe::duplex().unwrap();
    /// let waited = a.recv_timeout::<u8>(Duration::from_millis(10));
    /// assert!(waited.unwrap_err().is_timeout());
    /// ```
    pub fn recv_timeout<T: DeserializeOwned>(&self, timeout: Duration) -> Result<T, Error> {
        self.recv_until(deadline(Some(timeout)))
    }

    /// Receives the next message's bytes (Python's `recv_bytes`).
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv), less the decoding.
    pub fn recv_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut reader = self.lock_reader(None)?;
        let payload = self.read(&mut reader, None)?;
        Ok(payload.to_vec())
    }

    /// Receives the next message into the start of `buf`; its length
    /// (Python's `recv_bytes_into`).
    ///
    /// # Errors
    ///
    /// [`InvalidArgument`](ErrorKind::InvalidArgument), saying the message's length, when `buf`
    /// is shorter: then nothing is consumed, and the next receive returns
    /// the same message (Python consumes it and puts it in the
    /// exception). Otherwise as [`recv_bytes`](Self::recv_bytes).
    ///
    /// ```
    /// use corun::multiprocessing::Pipe;
    ///
    /// let (a, b) = Pipe::duplex().unwrap();
    /// a.send_bytes(b"0123456789").unwrap();
    /// let mut small = [0; 4];
    /// let err = b.recv_bytes_into(&mut small).unwrap_err();
    /// assert!(err.is_invalid_argument());
    /// assert!(err.to_string().contains("needs 10 bytes"));
    /// let mut big = [0; 16];
    /// assert_eq!(b.recv_bytes_into(&mut big).unwrap(), 10);
    /// assert_eq!(&big[..10], b"0123456789");
    /// ```
    pub fn recv_bytes_into(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut reader = self.lock_reader(None)?;
        let payload = self.read(&mut reader, None)?;
        let len = payload.len();
        if len > buf.len() {
            reader.unread(len);
            return Err(too_short(len));
        }
        buf[..len].copy_from_slice(payload);
        Ok(len)
    }

    /// Whether a receive would return at once: a whole message is here,
    /// or the other end is closed (Python's `poll`). Waits up to `timeout`
    /// for that: `None` waits as long as it takes, `Some(Duration::ZERO)`
    /// only looks.
    ///
    /// # Errors
    ///
    /// [`InvalidArgument`](ErrorKind::InvalidArgument) on a one-way pipe's writer;
    /// [`Io`](ErrorKind::Io) when the socket fails.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (a, b) = corun::multiprocessing::Pipe::duplex().unwrap();
    /// assert!(!b.poll(Some(Duration::ZERO)).unwrap());
    /// a.send(&1).unwrap();
    /// assert!(b.poll(None).unwrap());
    /// assert!(b.poll(Some(Duration::ZERO)).unwrap());
    /// assert_eq!(b.recv::<i32>().unwrap(), 1);
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        let deadline = deadline(timeout);
        let mut reader = match self.lock_reader(deadline) {
            Ok(reader) => reader,
            Err(e) if e.kind() == ErrorKind::Timeout => return Ok(false),
            Err(e) => return Err(e),
        };
        match self.read(&mut reader, deadline) {
            Ok(payload) => {
                let len = payload.len();
                reader.unread(len);
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::Closed => Ok(true),
            Err(e) if e.kind() == ErrorKind::Timeout => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether this end receives (`false` for a one-way pipe's writer).
    pub fn readable(&self) -> bool {
        self.readable
    }

    /// Whether this end sends (`false` for a one-way pipe's reader).
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Closes this end (Python's `close`); dropping it does the same.
    /// Copies passed to workers stay open until they are dropped there.
    pub fn close(self) {
        drop(self);
    }

    fn check(&self, allowed: bool, why: &'static str) -> Result<(), Error> {
        if allowed {
            Ok(())
        } else {
            Err(Error::invalid_argument(why))
        }
    }

    fn recv_until<T: DeserializeOwned>(&self, deadline: Option<Instant>) -> Result<T, Error> {
        let mut reader = self.lock_reader(deadline)?;
        let payload = self.read(&mut reader, deadline)?;
        let (value, rest) = postcard::take_from_bytes(payload)
            .map_err(|e| Error::serialization(format!("cannot decode the message: {e}")))?;
        if !rest.is_empty() {
            return Err(Error::serialization(format!(
                "cannot decode the message: {} bytes left over (not a {})",
                rest.len(),
                std::any::type_name::<T>()
            )));
        }
        Ok(value)
    }

    /// The reader, once this end may receive and the lock is free (by
    /// `deadline`).
    fn lock_reader(&self, deadline: Option<Instant>) -> Result<MutexGuard<'_, FrameReader>, Error> {
        self.check(self.readable, ONLY_SENDS)?;
        match deadline {
            None => Ok(self.reader.lock()),
            Some(deadline) => self.reader.try_lock_until(deadline).ok_or_else(timed_out),
        }
    }

    /// The next message's payload, read through `reader`.
    fn read<'r>(
        &self,
        reader: &'r mut FrameReader,
        deadline: Option<Instant>,
    ) -> Result<&'r [u8], Error> {
        let frame = reader.read(&self.stream, deadline).map_err(read_error)?;
        if frame.kind != Kind::Message {
            return Err(Error::from(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a {:?} frame where a message was expected", frame.kind),
            )));
        }
        Ok(frame.payload)
    }
}

/// A receive's failure as corun's error.
fn read_error(e: ReadError) -> Error {
    match e {
        ReadError::Timeout => timed_out(),
        ReadError::Closed => closed(),
        ReadError::Malformed(why) => Error::from(io::Error::new(io::ErrorKind::InvalidData, why)),
        ReadError::Io(e) => Error::from(e),
    }
}

/// A send's failure as corun's error: a peer gone is [`closed`].
fn write_error(e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => closed(),
        _ => Error::from(e),
    }
}

/// The other end is closed, every copy of it (Python's `EOFError` from a
/// receive, `BrokenPipeError` from a send).
fn closed() -> Error {
    Error::new(
        ErrorKind::Closed,
        "the other end of the connection is closed",
    )
}

/// No message came within the time-out.
fn timed_out() -> Error {
    Error::new(ErrorKind::Timeout, "timed out waiting for a message")
}

/// A message past [`MAX_PAYLOAD`]; nothing was sent.
fn too_large(len: usize) -> Error {
    Error::invalid_argument(format!(
        "a message of {len} bytes exceeds the limit of {} MiB",
        MAX_PAYLOAD >> 20
    ))
}

/// A buffer shorter than the message (Python's `BufferTooShort`).
fn too_short(needed: usize) -> Error {
    Error::invalid_argument(format!(
        "the buffer is too short for the message, which needs {needed} bytes"
    ))
}

/// How a `Connection` is written in a call's argument: its descriptor's
/// index among the call's, its direction, and the bytes it had read and
/// not yet returned.
#[derive(Serialize, Deserialize)]
struct Passed<'a> {
    fd: u32,
    readable: bool,
    writable: bool,
    buffered: Cow<'a, [u8]>,
}

impl Serialize for Connection {
    /// Succeeds only inside a call's argument (see [`Connection`]); the
    /// call carries a duplicate of the descriptor.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fd = fd_passing::offer(self.stream.as_fd()).map_err(fd_passing::refuse)?;
        let Some(reader) = self.reader.try_lock() else {
            return Err(fd_passing::refuse(
                "a Connection cannot be passed while another thread receives on it".to_owned(),
            ));
        };
        Passed {
            fd,
            readable: self.readable,
            writable: self.writable,
            buffered: Cow::Borrowed(reader.buffered()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Connection {
    /// Succeeds only while a worker decodes its call's argument.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let passed = Passed::deserialize(deserializer)?;
        let fd = fd_passing::claim(passed.fd).map_err(D::Error::custom)?;
        let connection = Connection::new(UnixStream::from(fd), passed.readable, passed.writable);
        connection.reader.lock().preload(&passed.buffered);
        Ok(connection)
    }
}

impl AsFd for Connection {
    /// The socket (Python's `fileno()`), to wait on it with others.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("socket", &self.stream.as_fd())
            .field("readable", &self.readable)
            .field("writable", &self.writable)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Checks that a message is not split by the buffered reader when the
    // receiving end already read part of the next one.
    #[test]
    fn messages_back_to_back() {
        let (a, b) = Pipe::duplex().unwrap();
        for i in 0..100_u32 {
            a.send(&i).unwrap();
        }
        for i in 0..100_u32 {
            assert_eq!(b.recv::<u32>().unwrap(), i);
        }
    }

    // Checks that a wrong type is a serialisation error that consumes the
    // message, and trailing bytes count as a wrong type.
    #[test]
    fn wrong_type_is_a_serialization_error() {
        let (a, b) = Pipe::duplex().unwrap();
        a.send("hello").unwrap();
        a.send(&1_u8).unwrap();
        let err = b.recv::<u32>().unwrap_err();
        assert!(err.is_serialization() && err.to_string().contains("left over"));
        assert_eq!(b.recv::<u8>().unwrap(), 1);
    }

    // Checks that bytes large enough to go without a copy arrive whole.
    #[test]
    fn large_bytes_are_sent_in_place() {
        let (a, b) = Pipe::duplex().unwrap();
        let payload: Vec<u8> = (0..1_000_000_u32).map(|i| i as u8).collect();
        let sent = payload.clone();
        let writer = std::thread::spawn(move || a.send_bytes(&sent).unwrap());
        assert_eq!(b.recv_bytes().unwrap(), payload);
        writer.join().unwrap();
    }

    // Checks that a Connection outside a call's argument refuses to
    // serialise, and does not deserialise either.
    #[test]
    fn not_serialisable_outside_an_argument() {
        let (a, _b) = Pipe::duplex().unwrap();
        assert!(postcard::to_stdvec(&a).is_err());
        let (a2, _b2) = Pipe::duplex().unwrap();
        let err = a.send(&a2).unwrap_err();
        assert!(
            err.to_string().contains("can only be passed to a worker"),
            "{err}"
        );
        let bytes = postcard::to_stdvec(&(0_u32, true, true, Vec::<u8>::new())).unwrap();
        assert!(postcard::from_bytes::<Connection>(&bytes).is_err());
    }

    // Checks that a Connection passed on keeps the messages it had
    // buffered.
    #[test]
    fn buffered_messages_go_along() {
        let (a, b) = Pipe::duplex().unwrap();
        a.send(&1_u8).unwrap();
        a.send(&2_u8).unwrap();
        assert!(b.poll(None).unwrap());
        let (bytes, fds) = fd_passing::capturing(|| postcard::to_stdvec(&b).unwrap());
        drop(b);
        fd_passing::install(fds);
        let b: Connection = postcard::from_bytes(&bytes).unwrap();
        fd_passing::discard();
        assert_eq!(b.recv::<u8>().unwrap(), 1);
        assert_eq!(b.recv::<u8>().unwrap(), 2);
        drop(a);
        assert_eq!(b.recv::<u8>().unwrap_err().kind(), ErrorKind::Closed);
    }

    // Checks the conversion into the crate's error.
}
