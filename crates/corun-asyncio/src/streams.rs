//! Streams: [`open_connection`], and the [`StreamReader`] / [`StreamWriter`]
//! halves of a connection (Python: `asyncio.open_connection`,
//! `asyncio.StreamReader`, `asyncio.StreamWriter`), over tokio's TCP.
//!
//! The reader keeps a buffer and reads from the socket only when a read
//! needs more bytes, so the socket itself applies back-pressure (Python
//! pauses its transport at twice the limit to the same end). The writer
//! sends what the socket takes at once and keeps the rest until
//! [`StreamWriter::drain`]; after [`StreamWriter::close`], a task of the
//! running loop sends what is left and shuts the connection's sending side
//! down, as Python's transport does in the background.
//!
//! Both halves implement tokio's `AsyncRead` / `AsyncWrite`, so code
//! written for tokio (an HTTP client, say) runs over them; join them into
//! one object with `tokio::io::join(reader, writer)`.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use corun_core::{Error, ErrorKind};

use crate::event_loop::running_loop;
use crate::task::Task;

/// The reader's default limit: the longest line or separated chunk it
/// looks through, 64 KiB (Python's `asyncio.streams._DEFAULT_LIMIT`).
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// How much a reader asks the socket for at a time.
const CHUNK: usize = 16 * 1024;

/// The reading half of a connection (Python: `asyncio.StreamReader`).
///
/// Each method reads from the connection only as much as it needs beyond
/// what is buffered. Every read is cancel-safe: a read dropped at its
/// await point (its task cancelled, a timeout) loses no bytes; they stay
/// in the buffer for the next read.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{StreamReader, run};
/// use tokio::io::AsyncWriteExt;
///
/// let lines = run(async {
///     let (mut peer, ours) = tokio::io::duplex(64);
///     let mut reader = StreamReader::new(ours);
///     peer.write_all(b"hello\nworld").await.unwrap();
///     drop(peer); // EOF
///     let first = reader.readline().await.unwrap();
///     let rest = reader.readline().await.unwrap();
///     (first, rest, reader.at_eof())
/// });
/// assert_eq!(lines.unwrap(), (b"hello\n".to_vec(), b"world".to_vec(), true));
/// ```
pub struct StreamReader {
    inner: Pin<Box<dyn AsyncRead + Send>>,
    /// Bytes read from the connection and not yet handed out: `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    /// A failed read met by `at_eof`, for the next read.
    error: Option<io::Error>,
    limit: usize,
}

/// The writing half of a connection (Python: `asyncio.StreamWriter`).
///
/// [`write`](Self::write) never waits: it sends what the socket takes now
/// and buffers the rest; [`drain`](Self::drain) waits until the buffer is
/// sent. [`close`](Self::close) then [`wait_closed`](Self::wait_closed)
/// ends the connection's sending side (the peer reads EOF). Dropping the
/// writer closes it too, sending at once what the socket takes.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{StreamWriter, run};
/// use tokio::io::AsyncReadExt;
///
/// let got = run(async {
///     let (ours, mut peer) = tokio::io::duplex(64);
///     let mut writer = StreamWriter::new(ours);
///     writer.write(b"ping").unwrap();
///     writer.drain().await.unwrap();
///     writer.close();
///     writer.wait_closed().await.unwrap();
///     let mut got = Vec::new();
///     peer.read_to_end(&mut got).await.unwrap();
///     got
/// });
/// assert_eq!(got.unwrap(), b"ping");
/// ```
pub struct StreamWriter {
    /// `None` once the sending side is shut down (or handed to the task
    /// that finishes a close).
    inner: Option<Pin<Box<dyn AsyncWrite + Send>>>,
    /// Written, not yet sent.
    buf: Vec<u8>,
    closing: bool,
    /// A send that failed in `write` or `close`, for the next `drain`.
    error: Option<io::Error>,
    /// The task finishing a `close` that found bytes still buffered.
    closer: Option<Task<Result<(), Error>>>,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
}

/// Why [`StreamReader::readexactly`] or [`StreamReader::readuntil`] gave
/// no chunk. `Incomplete` hands the bytes read before EOF back, so it is
/// an enum of its own; `into()` makes any variant a [`corun::Error`](Error).
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError {
    /// The connection ended first (Python: `IncompleteReadError`): the
    /// bytes read before EOF, taken out of the buffer, and how many were
    /// asked for (`None` for `readuntil`).
    Incomplete {
        /// What was read before EOF.
        partial: Vec<u8>,
        /// How many bytes `readexactly` wanted; `None` for `readuntil`.
        expected: Option<usize>,
    },
    /// The separator was not within the reader's limit (Python:
    /// `LimitOverrunError`); the bytes stay buffered.
    LimitOverrun {
        /// How many bytes were looked through (or precede the separator).
        consumed: usize,
    },
    /// The connection failed, or the separator was empty.
    Failed(Error),
}

impl StreamReader {
    /// A reader over any tokio reader, with the [`DEFAULT_LIMIT`] (Python:
    /// a `StreamReader` fed by a protocol).
    pub fn new(reader: impl AsyncRead + Send + 'static) -> Self {
        Self::with_limit(reader, DEFAULT_LIMIT)
    }

    /// A reader whose [`readline`](Self::readline) and
    /// [`readuntil`](Self::readuntil) look through at most `limit` bytes
    /// for their separator (Python: `StreamReader(limit=...)`).
    ///
    /// # Panics
    ///
    /// If `limit` is 0 (Python: `ValueError`).
    pub fn with_limit(reader: impl AsyncRead + Send + 'static, limit: usize) -> Self {
        assert!(limit > 0, "a StreamReader's limit must be positive");
        Self {
            inner: Box::pin(reader),
            buf: Vec::new(),
            pos: 0,
            eof: false,
            error: None,
            limit,
        }
    }

    /// The limit given at construction.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Up to `n` bytes: what is buffered, or, with nothing buffered, what
    /// the next read from the connection brings (Python: `read(n)`). At
    /// EOF, and for `n == 0`, an empty vector.
    ///
    /// ```
    /// use corun::asyncio::{StreamReader, run};
    ///
    /// let chunks = run(async {
    ///     let mut reader = StreamReader::new(&b"abcdef"[..]);
    ///     (reader.read(4).await.unwrap(), reader.read(4).await.unwrap(), reader.read(4).await.unwrap())
    /// });
    /// assert_eq!(chunks.unwrap(), (b"abcd".to_vec(), b"ef".to_vec(), Vec::new()));
    /// ```
    ///
    /// # Errors
    ///
    /// The connection's error ([`Io`](ErrorKind::Io), …).
    pub async fn read(&mut self, n: usize) -> Result<Vec<u8>, Error> {
        if n == 0 {
            return Ok(Vec::new());
        }
        if self.buffered() == 0 && !self.eof {
            self.fill().await?;
        }
        let take = n.min(self.buffered());
        Ok(self.take(take))
    }

    /// Everything up to EOF (Python: `read()`, `read(-1)`).
    ///
    /// # Errors
    ///
    /// The connection's error; the bytes read before it stay buffered.
    pub async fn read_to_end(&mut self) -> Result<Vec<u8>, Error> {
        while !self.eof {
            self.fill().await?;
        }
        Ok(self.take(self.buffered()))
    }

    /// One line, `\n` included; at EOF, what is left without one (empty at
    /// the end) (Python: `readline()`).
    ///
    /// # Errors
    ///
    /// [`InvalidArgument`](ErrorKind::InvalidArgument) when no `\n` comes
    /// within the limit (Python: `ValueError`); as Python, the line is
    /// dropped, up to and including its `\n` if that was already read. The
    /// connection's own error otherwise.
    pub async fn readline(&mut self) -> Result<Vec<u8>, Error> {
        match self.readuntil(b"\n").await {
            Ok(line) => Ok(line),
            Err(ReadError::Incomplete { partial, .. }) => Ok(partial),
            Err(ReadError::LimitOverrun { consumed }) => {
                let rest = &self.buf[self.pos..];
                if rest.get(consumed) == Some(&b'\n') {
                    self.pos += consumed + 1;
                } else {
                    self.buf.clear();
                    self.pos = 0;
                }
                Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "no end of line within the stream's limit of {} bytes",
                        self.limit
                    ),
                ))
            }
            Err(ReadError::Failed(error)) => Err(error),
        }
    }

    /// Exactly `n` bytes (Python: `readexactly(n)`); `n == 0` gives an
    /// empty vector at once.
    ///
    /// ```
    /// use corun::asyncio::{ReadError, StreamReader, run};
    ///
    /// let err = run(async {
    ///     let mut reader = StreamReader::new(&b"abc"[..]);
    ///     assert_eq!(reader.readexactly(2).await.unwrap(), b"ab");
    ///     reader.readexactly(2).await.unwrap_err()
    /// });
    /// match err.unwrap() {
    ///     ReadError::Incomplete { partial, expected } => {
    ///         assert_eq!((partial, expected), (b"c".to_vec(), Some(2)));
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ReadError::Incomplete`] with the bytes read when EOF comes first
    /// (they leave the buffer, as in Python); [`ReadError::Failed`] with
    /// the connection's error.
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        while self.buffered() < n {
            if self.eof {
                return Err(ReadError::Incomplete {
                    partial: self.take(self.buffered()),
                    expected: Some(n),
                });
            }
            self.fill().await.map_err(ReadError::Failed)?;
        }
        Ok(self.take(n))
    }

    /// The bytes up to and including `separator` (Python:
    /// `readuntil(separator)`).
    ///
    /// # Errors
    ///
    /// [`ReadError::Incomplete`] with everything buffered when EOF comes
    /// first (the buffer is emptied, as in Python);
    /// [`ReadError::LimitOverrun`] when the separator is not within the
    /// limit (the bytes stay buffered); [`ReadError::Failed`] with
    /// [`InvalidArgument`](ErrorKind::InvalidArgument) for an empty
    /// separator, or the connection's error.
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, ReadError> {
        if separator.is_empty() {
            return Err(ReadError::Failed(Error::new(
                ErrorKind::InvalidArgument,
                "the separator must not be empty",
            )));
        }
        let seplen = separator.len();
        // Where the search goes on from: what was searched can only hold
        // the separator's first `seplen - 1` bytes.
        let mut offset = 0;
        let found = loop {
            let rest = &self.buf[self.pos..];
            if rest.len() - offset >= seplen {
                if let Some(i) = find(&rest[offset..], separator) {
                    break offset + i;
                }
                offset = rest.len() + 1 - seplen;
                if offset > self.limit {
                    return Err(ReadError::LimitOverrun { consumed: offset });
                }
            }
            if self.eof {
                return Err(ReadError::Incomplete {
                    partial: self.take(self.buffered()),
                    expected: None,
                });
            }
            self.fill().await.map_err(ReadError::Failed)?;
        };
        if found > self.limit {
            return Err(ReadError::LimitOverrun { consumed: found });
        }
        Ok(self.take(found + seplen))
    }

    /// Whether the connection's end was reached and nothing is buffered
    /// (Python: `at_eof()`). With nothing buffered, it looks (without
    /// waiting) whether the connection already ended, as Python's reader
    /// knows everything that has arrived.
    pub fn at_eof(&mut self) -> bool {
        if self.buffered() == 0 && !self.eof && self.error.is_none() {
            if let Poll::Ready(Err(error)) = self.poll_fill(&mut Context::from_waker(Waker::noop()))
            {
                self.error = Some(error);
            }
        }
        self.eof && self.buffered() == 0
    }

    fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Takes `n` buffered bytes.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let chunk = self.buf[self.pos..self.pos + n].to_vec();
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        chunk
    }

    /// Reads once more from the connection into the buffer.
    async fn fill(&mut self) -> Result<(), Error> {
        if let Some(error) = self.error.take() {
            return Err(error.into());
        }
        poll_fn(|cx| self.poll_fill(cx)).await?;
        Ok(())
    }

    /// One read from the connection into the buffer; sets `eof` on 0.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + CHUNK, 0);
        let mut read = ReadBuf::new(&mut self.buf[start..]);
        let polled = self.inner.as_mut().poll_read(cx, &mut read);
        let n = read.filled().len();
        self.buf.truncate(start + n);
        ready!(polled)?;
        if n == 0 {
            self.eof = true;
        }
        Poll::Ready(Ok(()))
    }
}

impl StreamWriter {
    /// A writer over any tokio writer (Python: a `StreamWriter` on a
    /// transport); it knows no addresses.
    pub fn new(writer: impl AsyncWrite + Send + 'static) -> Self {
        Self {
            inner: Some(Box::pin(writer)),
            buf: Vec::new(),
            closing: false,
            error: None,
            closer: None,
            peer: None,
            local: None,
        }
    }

    /// Sends `data` as far as the socket takes it now and buffers the rest
    /// for [`drain`](Self::drain) (Python: `write(data)`). Never waits.
    ///
    /// # Errors
    ///
    /// [`InvalidState`](ErrorKind::InvalidState) after
    /// [`close`](Self::close): the bytes would never be sent (Python drops
    /// them with a logged warning). A failed send is not reported here but
    /// by the next `drain`.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.closing {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "cannot write to a StreamWriter after close()",
            ));
        }
        self.buf.extend_from_slice(data);
        self.send_now();
        Ok(())
    }

    /// Waits until everything written is sent (Python: `await drain()`).
    ///
    /// # Errors
    ///
    /// The connection's error, also one met by an earlier `write` (the
    /// peer closed it: [`Io`](ErrorKind::Io) with the operating system's
    /// error as source); [`InvalidState`](ErrorKind::InvalidState) if the
    /// writer was closed with bytes still to send.
    pub async fn drain(&mut self) -> Result<(), Error> {
        if let Some(error) = self.error.take() {
            return Err(error.into());
        }
        if self.inner.is_none() {
            return if self.buf.is_empty() {
                Ok(())
            } else {
                Err(Error::new(
                    ErrorKind::InvalidState,
                    "the StreamWriter is closed",
                ))
            };
        }
        poll_fn(|cx| self.poll_send(cx)).await?;
        Ok(())
    }

    /// Starts closing (Python: `close()`): no more writes; what is
    /// buffered is sent by a task of the running loop, then the sending
    /// side is shut down, so the peer reads EOF. Await
    /// [`wait_closed`](Self::wait_closed) to know it is done. Closing
    /// twice does nothing.
    pub fn close(&mut self) {
        if self.closing {
            return;
        }
        self.closing = true;
        self.send_now();
        let Some(mut inner) = self.inner.take() else {
            return;
        };
        if self.buf.is_empty() || self.error.is_some() {
            // Nothing to wait for: shut down now if the writer can at once
            // (a TCP half can), else dropping it ends the connection.
            let waker = Waker::noop();
            let _ = inner
                .as_mut()
                .poll_shutdown(&mut Context::from_waker(waker));
            self.buf.clear();
            return;
        }
        match running_loop() {
            Some(event_loop) => {
                let mut rest = std::mem::take(&mut self.buf);
                self.closer = Some(event_loop.create_task_named(
                    "StreamWriter.close",
                    async move {
                        use tokio::io::AsyncWriteExt;
                        inner.write_all(&rest).await?;
                        rest.clear();
                        inner.shutdown().await?;
                        Ok(())
                    },
                ));
            }
            // No loop to finish it on: `wait_closed` (or the drop) does.
            None => self.inner = Some(inner),
        }
    }

    /// Whether [`close`](Self::close) was called (Python: `is_closing()`).
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// Closes the writer if that was not asked yet, and waits until what
    /// was buffered is sent and the sending side shut down (Python: `await
    /// wait_closed()`, which would wait for somebody else's `close`).
    ///
    /// # Errors
    ///
    /// The connection's error, if sending the rest or shutting down failed.
    pub async fn wait_closed(&mut self) -> Result<(), Error> {
        self.close();
        if let Some(closer) = self.closer.take() {
            return closer.await?;
        }
        if let Some(error) = self.error.take() {
            self.inner = None;
            return Err(error.into());
        }
        if self.inner.is_some() {
            poll_fn(|cx| self.poll_send(cx)).await?;
            let mut inner = self.inner.take().expect("checked");
            poll_fn(|cx| inner.as_mut().poll_shutdown(cx)).await?;
        }
        Ok(())
    }

    /// The address of the other end (Python:
    /// `get_extra_info("peername")`); `None` for a writer that is not a
    /// socket.
    pub fn peername(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// This end's own address (Python: `get_extra_info("sockname")`).
    pub fn sockname(&self) -> Option<SocketAddr> {
        self.local
    }

    /// How many written bytes are not yet sent (Python:
    /// `transport.get_write_buffer_size()`).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Sends what the socket takes now, without waiting; a failure is kept
    /// for the next `drain`.
    fn send_now(&mut self) {
        if self.buf.is_empty() || self.inner.is_none() || self.error.is_some() {
            return;
        }
        let waker = Waker::noop();
        if let Poll::Ready(Err(error)) = self.poll_send(&mut Context::from_waker(waker)) {
            self.error = Some(error);
        }
    }

    /// Sends the buffer.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the StreamWriter is closed",
            )));
        };
        while !self.buf.is_empty() {
            let n = ready!(inner.as_mut().poll_write(cx, &self.buf))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.buf.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

/// Opens a TCP connection to `host:port` and returns its reader and writer
/// (Python: `asyncio.open_connection(host, port)`).
///
/// `host` is a name or an address; each address it resolves to is tried in
/// turn. As Python's transports, the socket sends small writes at once
/// (`TCP_NODELAY`). Works inside a `corun::asyncio` loop (or any tokio
/// runtime with I/O enabled).
///
/// ```
/// use corun::asyncio::{open_connection, run, start_server};
///
/// let reply = run(async {
///     let server = start_server(
///         |mut reader, mut writer| async move {
///             let line = reader.readline().await.unwrap();
///             writer.write(&line).unwrap();
///             writer.wait_closed().await.unwrap();
///         },
///         "127.0.0.1",
///         0,
///     )
///     .await
///     .unwrap();
///     let port = server.sockets()[0].port();
///     let (mut reader, mut writer) = open_connection("127.0.0.1", port).await.unwrap();
///     writer.write(b"echo\n").unwrap();
///     writer.drain().await.unwrap();
///     reader.read_to_end().await.unwrap()
/// });
/// assert_eq!(reply.unwrap(), b"echo\n");
/// ```
///
/// # Errors
///
/// [`Io`](ErrorKind::Io) when `host` does not resolve or no address takes
/// the connection (refused, unreachable), saying which; the operating
/// system's error is the source ([`Error::io_error`]).
pub async fn open_connection(host: &str, port: u16) -> Result<(StreamReader, StreamWriter), Error> {
    let addrs = resolve(host, port).await?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(split(stream)),
            Err(error) => last = Some((addr, error)),
        }
    }
    let (addr, error) = last.expect("resolve gives at least one address");
    Err(Error::new(
        ErrorKind::Io,
        format!("cannot connect to {host}:{port} ({addr}): {error}"),
    )
    .with_source(error))
}

/// The addresses `host:port` resolves to; at least one.
pub(crate) async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Error> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| {
            Error::new(
                ErrorKind::Io,
                format!("cannot resolve host {host:?}: {error}"),
            )
            .with_source(error)
        })?
        .collect();
    if addrs.is_empty() {
        return Err(Error::new(
            ErrorKind::Io,
            format!("host {host:?} resolves to no address"),
        ));
    }
    Ok(addrs)
}

/// A connected socket as a reader and a writer.
pub(crate) fn split(stream: TcpStream) -> (StreamReader, StreamWriter) {
    // Python's TCP transports set TCP_NODELAY; without it a small write
    // after a small write waits for the peer's delayed ACK (~40 ms).
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().ok();
    let local = stream.local_addr().ok();
    let (read, write) = stream.into_split();
    let mut writer = StreamWriter::new(write);
    writer.peer = peer;
    writer.local = local;
    (StreamReader::new(read), writer)
}

/// Where `needle` first starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl AsyncRead for StreamReader {
    /// Hands out what is buffered first, then reads the connection.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.buffered() > 0 {
            let n = this.buffered().min(out.remaining());
            out.put_slice(&this.buf[this.pos..this.pos + n]);
            this.take(n);
            return Poll::Ready(Ok(()));
        }
        if this.eof {
            return Poll::Ready(Ok(()));
        }
        let before = out.filled().len();
        ready!(this.inner.as_mut().poll_read(cx, out))?;
        if out.filled().len() == before && out.remaining() > 0 {
            this.eof = true;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for StreamWriter {
    /// Sends what `write` buffered first, then `data`.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.closing {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the StreamWriter is closed",
            )));
        }
        if let Some(error) = this.error.take() {
            return Poll::Ready(Err(error));
        }
        ready!(this.poll_send(cx))?;
        let inner = this.inner.as_mut().expect("open while not closing");
        inner.as_mut().poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.inner.is_none() {
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_send(cx))?;
        let inner = this.inner.as_mut().expect("checked");
        inner.as_mut().poll_flush(cx)
    }

    /// Sends what is buffered and shuts the sending side down.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.closing = true;
        if this.inner.is_none() {
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_send(cx))?;
        let inner = this.inner.as_mut().expect("checked");
        ready!(inner.as_mut().poll_shutdown(cx))?;
        this.inner = None;
        Poll::Ready(Ok(()))
    }
}

impl Drop for StreamWriter {
    /// Sends at once what the socket takes of the buffer; the rest is lost
    /// (await [`drain`](Self::drain) or
    /// [`wait_closed`](Self::wait_closed) to be sure).
    fn drop(&mut self) {
        self.send_now();
    }
}

impl From<ReadError> for Error {
    /// `Incomplete` is [`Closed`](ErrorKind::Closed) (Python's
    /// `IncompleteReadError` is an `EOFError`), `LimitOverrun`
    /// [`InvalidArgument`](ErrorKind::InvalidArgument); `Failed` is its
    /// error.
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Failed(error) => error,
            ReadError::Incomplete { .. } => Error::new(ErrorKind::Closed, error.to_string()),
            ReadError::LimitOverrun { .. } => {
                Error::new(ErrorKind::InvalidArgument, error.to_string())
            }
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Incomplete {
                partial,
                expected: Some(n),
            } => write!(
                f,
                "the connection ended after {} of {n} expected bytes",
                partial.len()
            ),
            ReadError::Incomplete {
                partial,
                expected: None,
            } => write!(
                f,
                "the connection ended after {} bytes, before the separator",
                partial.len()
            ),
            ReadError::LimitOverrun { consumed } => write!(
                f,
                "the separator is not within the stream's limit ({consumed} bytes looked through)"
            ),
            ReadError::Failed(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Failed(error) => Some(error),
            _ => None,
        }
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &self.buffered())
            .field("eof", &self.eof)
            .field("limit", &self.limit)
            .finish()
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter")
            .field("peer", &self.peer)
            .field("buffered", &self.buf.len())
            .field("closing", &self.closing)
            .finish()
    }
}
