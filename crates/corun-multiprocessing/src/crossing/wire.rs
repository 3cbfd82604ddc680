//! Frames on the socket between a parent and its worker:
//! `[payload length: u32 LE][kind: u8][payload]` (see the folder's docs).
//!
//! A frame is built whole in one buffer and written with one `send` (more
//! only when the socket buffer is full), and read through [`FrameReader`],
//! which keeps a partial frame across a time-out so the stream never loses
//! its place.

use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::net::{RecvFlags, SendAncillaryBuffer, SendFlags, recv, sendmsg};

pub(crate) use crate::crossing::fd_passing::send_all;
use crate::crossing::fd_passing::{self, FdQueue};

/// Bytes before the payload: its length (u32 LE) and the kind.
pub(crate) const HEADER_LEN: usize = 5;

/// The largest payload a frame may carry. Bigger values belong in shared
/// memory, not in a socket; a frame past this is refused with an error
/// (when built) or treated as a broken stream (when read).
pub(crate) const MAX_PAYLOAD: usize = 256 << 20;

/// The reader's buffer: most frames fit many times over, so one `read`
/// usually brings several pipelined frames at once.
const READ_BUFFER: usize = 64 << 10;

/// How long a reader polls the socket before it sleeps, when the previous
/// wait was this short too (see [`FrameReader`]). Waking a sleeping thread
/// through a socket costs 10–20 µs on a small VM; a short call answered
/// while its caller still polls costs a few.
pub(crate) const SPIN: Duration = Duration::from_micros(50);

/// What a frame carries. Parent-to-worker kinds have the high bit clear,
/// worker-to-parent kinds have it set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// Parent → worker, once after the handshake: a postcard `Setup`.
    Setup = 0x01,
    /// Parent → worker: a call (layout in `call.rs`).
    Call = 0x02,
    /// Parent → worker: finish the calls before this one, then exit 0.
    Shutdown = 0x03,
    /// Either way on a [`Connection`](crate::Connection) (never between a
    /// parent and its worker): one message.
    Message = 0x10,
    /// Worker → parent, first frame: a postcard `Hello`.
    Hello = 0x81,
    /// Worker → parent: set up, initializer done, serving calls.
    Ready = 0x82,
    /// Worker → parent: the initializer (or the setup) failed; UTF-8 reason.
    InitFailed = 0x83,
    /// Worker → parent: call id (u64 LE), then the postcard result.
    Returned = 0x84,
    /// Worker → parent: call id, then the UTF-8 panic message.
    Panicked = 0x85,
    /// Worker → parent: call id, then why (de)serialisation failed.
    Serialization = 0x86,
    /// Worker → parent: call id, then why the call was refused unrun.
    Rejected = 0x87,
    /// Worker → parent, empty: an allocation failed past the worker's
    /// memory limit, and the worker is aborting (sent by its `SIGABRT`
    /// handler; the end of the socket follows).
    OutOfMemory = 0x88,
}

/// A frame read by a [`FrameReader`]; the payload borrows its buffer.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub(crate) kind: Kind,
    pub(crate) payload: &'a [u8],
}

/// Why no frame was read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The deadline passed; a partial frame stays buffered.
    Timeout,
    /// The peer closed the socket (or it was reset), between frames or in
    /// the middle of one.
    Closed,
    /// The stream does not hold well-formed frames.
    Malformed(String),
    /// Any other error of the socket.
    Io(io::Error),
}

/// Reads frames from a stream socket with its own buffer, so that a read
/// that times out in the middle of a frame can be resumed.
///
/// When no frame is buffered, the reader polls the socket without sleeping
/// for up to its spin time before it blocks — but only while waits are
/// short: a wait that outlasted the spin turns polling off until a wait is
/// short again. A stream of quick calls is answered without the cost of
/// waking a sleeping process; long calls and idle workers burn no CPU.
#[derive(Debug)]
pub(crate) struct FrameReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// How long to poll without sleeping before a read blocks.
    spin: Duration,
    /// Whether the caller allows polling for the next read (see
    /// [`FrameReader::read_polling`]).
    polling_allowed: bool,
    /// Whether the last wait was short enough that polling would have
    /// caught it.
    spin_next: bool,
}

fn too_large(len: usize) -> String {
    format!(
        "a frame of {len} bytes exceeds the limit of {} MiB; move large data through shared memory",
        MAX_PAYLOAD >> 20
    )
}

/// Waits until `stream` has bytes (or end of stream) to read, or
/// `deadline` passes.
fn wait_readable(stream: &UnixStream, deadline: Instant) -> Result<(), ReadError> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = Timespec {
            tv_sec: left.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: left.subsec_nanos().into(),
        };
        let mut fds = [PollFd::new(stream, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => return Err(ReadError::Timeout),
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(ReadError::Io(e.into())),
        }
    }
}

impl Kind {
    fn from_u8(byte: u8) -> Option<Self> {
        Some(match byte {
            0x01 => Kind::Setup,
            0x02 => Kind::Call,
            0x03 => Kind::Shutdown,
            0x10 => Kind::Message,
            0x81 => Kind::Hello,
            0x82 => Kind::Ready,
            0x83 => Kind::InitFailed,
            0x84 => Kind::Returned,
            0x85 => Kind::Panicked,
            0x86 => Kind::Serialization,
            0x87 => Kind::Rejected,
            0x88 => Kind::OutOfMemory,
            _ => return None,
        })
    }
}

/// The kind and payload length a frame's header (its first
/// [`HEADER_LEN`] bytes) announces.
///
/// # Errors
///
/// Why it is not a header: an unknown kind, a length past
/// [`MAX_PAYLOAD`].
fn read_header(header: &[u8]) -> Result<(Kind, usize), String> {
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    if len > MAX_PAYLOAD {
        return Err(too_large(len));
    }
    let kind =
        Kind::from_u8(header[4]).ok_or_else(|| format!("unknown frame kind {:#04x}", header[4]))?;
    Ok((kind, len))
}

/// Reads `bytes` as exactly one whole frame (one that travelled outside a
/// socket, as a byte string).
///
/// # Errors
///
/// Why it is not one: shorter than a header, a header that is not one
/// (see [`read_header`]), a payload shorter or longer than announced.
pub(crate) fn parse(bytes: &[u8]) -> Result<Frame<'_>, String> {
    if bytes.len() < HEADER_LEN {
        return Err(format!(
            "{} bytes, too short for a frame's {HEADER_LEN}-byte header",
            bytes.len()
        ));
    }
    let (header, payload) = bytes.split_at(HEADER_LEN);
    let (kind, len) = read_header(header)?;
    if payload.len() != len {
        return Err(format!(
            "the header announces a payload of {len} bytes, but {} follow",
            payload.len()
        ));
    }
    Ok(Frame { kind, payload })
}

/// Clears `buf` and writes the header of a `kind` frame with a length to
/// be filled in by [`finish`].
pub(crate) fn begin(buf: &mut Vec<u8>, kind: Kind) {
    buf.clear();
    buf.extend_from_slice(&[0, 0, 0, 0, kind as u8]);
}

/// Fills in the payload length of a frame built after [`begin`].
///
/// # Errors
///
/// A message naming the size when the payload exceeds [`MAX_PAYLOAD`].
pub(crate) fn finish(buf: &mut [u8]) -> Result<(), String> {
    let len = checked_len(buf.len() - HEADER_LEN)?;
    buf[..4].copy_from_slice(&len.to_le_bytes());
    Ok(())
}

/// A payload length as the header's u32, if within [`MAX_PAYLOAD`].
fn checked_len(len: usize) -> Result<u32, String> {
    if len > MAX_PAYLOAD {
        return Err(too_large(len));
    }
    Ok(len as u32)
}

/// A whole frame: header, then `payload`.
pub(crate) fn frame(kind: Kind, payload: &[u8]) -> Result<Vec<u8>, String> {
    let mut buf = Vec::with_capacity(HEADER_LEN + payload.len());
    begin(&mut buf, kind);
    buf.extend_from_slice(payload);
    finish(&mut buf)?;
    Ok(buf)
}

/// A whole frame whose payload is `value` in postcard.
pub(crate) fn encode<T: serde::Serialize>(kind: Kind, value: &T) -> Result<Vec<u8>, String> {
    let mut buf = Vec::with_capacity(64);
    begin(&mut buf, kind);
    let mut buf = postcard::to_extend(value, buf).map_err(|e| e.to_string())?;
    finish(&mut buf)?;
    Ok(buf)
}

/// Writes all of `head` then all of `body`, with one `sendmsg` of both
/// when the socket has room (no copy of `body`), with `MSG_NOSIGNAL`.
pub(crate) fn send_parts(stream: &UnixStream, head: &[u8], body: &[u8]) -> io::Result<()> {
    let mut sent = 0;
    while sent < head.len() {
        let parts = [IoSlice::new(&head[sent..]), IoSlice::new(body)];
        match sendmsg(
            stream.as_fd(),
            &parts,
            &mut SendAncillaryBuffer::default(),
            SendFlags::NOSIGNAL,
        ) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    send_all(stream, &body[sent - head.len()..])
}

impl FrameReader {
    /// An empty reader that, when no frame is buffered, first polls the
    /// socket without sleeping for up to `spin` before it blocks.
    pub(crate) fn new(spin: Duration) -> Self {
        Self {
            buf: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
            spin,
            polling_allowed: true,
            spin_next: true,
        }
    }

    /// As [`read`](Self::read), polling before sleeping only if `polling`
    /// (and the last wait was short). A caller that knows the frame will
    /// be long in coming — a reply queued behind other calls — passes
    /// `false`, leaving the CPU to the process that must produce it.
    pub(crate) fn read_polling(
        &mut self,
        stream: &UnixStream,
        deadline: Option<Instant>,
        polling: bool,
    ) -> Result<Frame<'_>, ReadError> {
        self.polling_allowed = polling;
        self.read(stream, deadline)
    }

    /// The next frame from `stream`, waiting until `deadline` (`None`:
    /// forever) for it to arrive whole.
    pub(crate) fn read(
        &mut self,
        stream: &UnixStream,
        deadline: Option<Instant>,
    ) -> Result<Frame<'_>, ReadError> {
        self.read_from(stream, deadline, None)
    }

    /// As [`read`](Self::read), reading with `recvmsg` and queueing the
    /// descriptors that come with the bytes in `fds` (a worker's reader;
    /// see `fd_passing.rs`).
    pub(crate) fn read_receiving(
        &mut self,
        stream: &UnixStream,
        deadline: Option<Instant>,
        fds: &mut FdQueue,
    ) -> Result<Frame<'_>, ReadError> {
        self.read_from(stream, deadline, Some(fds))
    }

    /// Puts back the frame just returned by a read, whose payload is
    /// `payload_len` bytes long: the next read returns it again.
    pub(crate) fn unread(&mut self, payload_len: usize) {
        self.start -= HEADER_LEN + payload_len;
    }

    /// The bytes read from the socket and not yet returned in a frame.
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Puts `bytes` ahead of what the socket will bring (the buffered
    /// bytes of a reader this one continues); before any read.
    pub(crate) fn preload(&mut self, bytes: &[u8]) {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        let needed = self.end + bytes.len();
        if self.buf.len() < needed {
            self.buf.resize(needed, 0);
        }
        self.buf[self.end..needed].copy_from_slice(bytes);
        self.end = needed;
    }

    fn read_from(
        &mut self,
        stream: &UnixStream,
        deadline: Option<Instant>,
        mut fds: Option<&mut FdQueue>,
    ) -> Result<Frame<'_>, ReadError> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        loop {
            let available = self.end - self.start;
            let mut needed = HEADER_LEN;
            if available >= HEADER_LEN {
                let (kind, len) = read_header(&self.buf[self.start..self.start + HEADER_LEN])
                    .map_err(ReadError::Malformed)?;
                needed = HEADER_LEN + len;
                if available >= needed {
                    let payload = self.start + HEADER_LEN..self.start + needed;
                    self.start += needed;
                    return Ok(Frame {
                        kind,
                        payload: &self.buf[payload],
                    });
                }
            }
            self.make_room(needed);
            self.fill(stream, deadline, fds.as_deref_mut())?;
        }
    }

    /// Makes room after the buffered bytes for a frame of `needed` bytes
    /// in all: moves them to the front, and grows the buffer if needed.
    fn make_room(&mut self, needed: usize) {
        if self.buf.len() - self.start >= needed && self.end < self.buf.len() {
            return;
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.buf.len() < needed {
            self.buf.resize(needed, 0);
        }
    }

    /// Reads into the free end of the buffer: polling first (when the
    /// last wait was short), then one blocking `read` — after a `poll`
    /// when there is a deadline. Records whether this wait was short.
    fn fill(
        &mut self,
        stream: &UnixStream,
        deadline: Option<Instant>,
        mut fds: Option<&mut FdQueue>,
    ) -> Result<(), ReadError> {
        let waiting = Instant::now();
        let polling = self.polling_allowed && self.spin_next && !self.spin.is_zero();
        if polling && self.try_fill_spinning(stream, deadline, fds.as_deref_mut())? {
            return Ok(());
        }
        if let Some(deadline) = deadline {
            if let Err(e) = wait_readable(stream, deadline) {
                self.spin_next = waiting.elapsed() <= self.spin;
                return Err(e);
            }
        }
        loop {
            let free = &mut self.buf[self.end..];
            let read = match fds.as_deref_mut() {
                None => rustix::io::read(stream.as_fd(), free),
                Some(fds) => fd_passing::recv_with_fds(stream, free, RecvFlags::empty(), fds),
            };
            match read {
                Ok(0) => return Err(ReadError::Closed),
                Ok(n) => {
                    self.end += n;
                    self.spin_next = waiting.elapsed() <= self.spin;
                    return Ok(());
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::CONNRESET) => return Err(ReadError::Closed),
                Err(e) => return Err(ReadError::Io(e.into())),
            }
        }
    }

    /// Reads without blocking until bytes come, the spin time is over or
    /// the deadline passes; whether bytes came.
    fn try_fill_spinning(
        &mut self,
        stream: &UnixStream,
        deadline: Option<Instant>,
        mut fds: Option<&mut FdQueue>,
    ) -> Result<bool, ReadError> {
        let start = Instant::now();
        let mut until = start + self.spin;
        if let Some(deadline) = deadline {
            until = until.min(deadline);
        }
        loop {
            let free = &mut self.buf[self.end..];
            let read = match fds.as_deref_mut() {
                None => recv(stream.as_fd(), free, RecvFlags::DONTWAIT).map(|(_, n)| n),
                Some(fds) => fd_passing::recv_with_fds(stream, free, RecvFlags::DONTWAIT, fds),
            };
            match read {
                Ok(0) => return Err(ReadError::Closed),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::CONNRESET) => return Err(ReadError::Closed),
                Err(e) => return Err(ReadError::Io(e.into())),
            }
            if Instant::now() >= until {
                return Ok(false);
            }
            std::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (UnixStream, UnixStream) {
        UnixStream::pair().unwrap()
    }

    // Checks that frames written back to back come out one by one, with
    // their kinds and payloads, from a single buffered read.
    #[test]
    fn frames_round_trip_in_order() {
        let (a, b) = pair();
        let mut bytes = frame(Kind::Call, b"first").unwrap();
        bytes.extend(frame(Kind::Shutdown, b"").unwrap());
        bytes.extend(encode(Kind::Setup, &(7_u32, "x")).unwrap());
        send_all(&a, &bytes).unwrap();
        let mut reader = FrameReader::new(Duration::ZERO);
        let f = reader.read(&b, None).unwrap();
        assert_eq!((f.kind, f.payload), (Kind::Call, &b"first"[..]));
        let f = reader.read(&b, None).unwrap();
        assert_eq!((f.kind, f.payload.len()), (Kind::Shutdown, 0));
        let f = reader.read(&b, None).unwrap();
        assert_eq!(f.kind, Kind::Setup);
        let v: (u32, String) = postcard::from_bytes(f.payload).unwrap();
        assert_eq!(v, (7, "x".to_owned()));
    }

    // Checks that a read timing out in the middle of a frame keeps what it
    // has, so the next read returns the whole frame.
    #[test]
    fn timeout_mid_frame_loses_nothing() {
        let (a, b) = pair();
        let bytes = frame(Kind::Returned, &[9; 100]).unwrap();
        send_all(&a, &bytes[..50]).unwrap();
        let mut reader = FrameReader::new(Duration::ZERO);
        let soon = Instant::now() + Duration::from_millis(5);
        assert!(matches!(
            reader.read(&b, Some(soon)),
            Err(ReadError::Timeout)
        ));
        send_all(&a, &bytes[50..]).unwrap();
        let f = reader.read(&b, Some(Instant::now())).unwrap();
        assert_eq!((f.kind, f.payload), (Kind::Returned, &[9; 100][..]));
    }

    // Checks that a frame bigger than the reader's buffer grows it.
    #[test]
    fn large_frames_grow_the_buffer() {
        let (a, b) = pair();
        let payload = vec![3_u8; READ_BUFFER * 3 + 7];
        let writer = std::thread::spawn(move || {
            send_all(&a, &frame(Kind::Returned, &payload).unwrap()).unwrap();
            a
        });
        let mut reader = FrameReader::new(Duration::ZERO);
        let f = reader.read(&b, None).unwrap();
        assert_eq!(f.payload.len(), READ_BUFFER * 3 + 7);
        assert!(f.payload.iter().all(|&x| x == 3));
        drop(writer.join().unwrap());
        assert!(matches!(reader.read(&b, None), Err(ReadError::Closed)));
    }

    // Checks the size limit on both sides: building refuses, and a header
    // announcing too much is reported as a malformed stream.
    #[test]
    fn oversized_frames_are_refused() {
        assert_eq!(checked_len(MAX_PAYLOAD), Ok(MAX_PAYLOAD as u32));
        let err = checked_len(MAX_PAYLOAD + 1).unwrap_err();
        assert!(err.contains("exceeds the limit of 256 MiB"), "{err}");

        let (a, b) = pair();
        let mut header = ((MAX_PAYLOAD + 1) as u32).to_le_bytes().to_vec();
        header.push(Kind::Call as u8);
        send_all(&a, &header).unwrap();
        let mut reader = FrameReader::new(Duration::ZERO);
        assert!(matches!(
            reader.read(&b, None),
            Err(ReadError::Malformed(_))
        ));
    }

    // Checks that an unknown kind byte is a malformed stream, and that end
    // of stream in the middle of a frame is `Closed`.
    #[test]
    fn garbage_and_truncation() {
        let (a, b) = pair();
        send_all(&a, &[1, 0, 0, 0, 0x42, 0]).unwrap();
        let mut reader = FrameReader::new(Duration::ZERO);
        assert!(matches!(
            reader.read(&b, None),
            Err(ReadError::Malformed(_))
        ));

        let (a, b) = pair();
        send_all(&a, &frame(Kind::Call, b"abc").unwrap()[..6]).unwrap();
        drop(a);
        let mut reader = FrameReader::new(Duration::ZERO);
        assert!(matches!(reader.read(&b, None), Err(ReadError::Closed)));
    }

    // Checks the adaptive polling: a frame that comes while the reader
    // polls keeps it polling; a wait longer than the spin turns polling off
    // for the next read; a short wait turns it back on.
    #[test]
    fn polling_adapts_to_the_waits() {
        let (a, b) = pair();
        let mut reader = FrameReader::new(Duration::from_millis(20));
        send_all(&a, &frame(Kind::Ready, b"").unwrap()).unwrap();
        reader.read(&b, None).unwrap();
        assert!(reader.spin_next);
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(60));
            send_all(&a, &frame(Kind::Ready, b"").unwrap()).unwrap();
            a
        });
        reader.read(&b, None).unwrap();
        assert!(!reader.spin_next, "a 60 ms wait should stop the polling");
        let a = late.join().unwrap();
        send_all(&a, &frame(Kind::Ready, b"").unwrap()).unwrap();
        reader.read(&b, None).unwrap();
        assert!(reader.spin_next, "a short wait should restart the polling");
    }

    // Checks that a frame read from a byte string must be exactly one
    // whole frame with a known kind.
    #[test]
    fn parse_takes_exactly_one_frame() {
        let bytes = frame(Kind::Panicked, b"boom").unwrap();
        let f = parse(&bytes).unwrap();
        assert_eq!((f.kind, f.payload), (Kind::Panicked, &b"boom"[..]));
        for cut in 0..bytes.len() {
            assert!(parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let err = parse(&longer).unwrap_err();
        assert!(
            err.contains("announces a payload of 4 bytes, but 5"),
            "{err}"
        );
        let mut unknown = bytes;
        unknown[4] = 0x42;
        assert_eq!(parse(&unknown).unwrap_err(), "unknown frame kind 0x42");
        let mut huge = ((MAX_PAYLOAD + 1) as u32).to_le_bytes().to_vec();
        huge.push(Kind::Call as u8);
        assert!(parse(&huge).unwrap_err().contains("exceeds the limit"));
    }

    // Checks that writing to a socket whose peer is gone is an error, not
    // a SIGPIPE.
    #[test]
    fn sending_to_a_closed_peer_is_an_error() {
        let (a, b) = pair();
        drop(b);
        assert!(send_all(&a, b"hello").is_err());
    }
}
