//! The side channel that carries file descriptors with a call, so that a
//! [`Connection`](crate::Connection) can be a worker's argument (see
//! the folder's docs, "Descriptors").
//!
//! - In the parent, [`Call`](crate::workers::worker::Call) serialises its argument
//!   inside [`capturing`]: a `Connection` met on the way hands a duplicate
//!   of its descriptor to [`offer`] and serialises as its index in the
//!   call's list. The call keeps the list, and its frame says how many.
//! - [`send_with_fds`] writes such a call with one `sendmsg` carrying the
//!   descriptors as `SCM_RIGHTS`, in a write of its own: the kernel then
//!   hands them over with the call's first byte.
//! - The worker reads with [`recv_with_fds`], which queues every batch of
//!   descriptors in an [`FdQueue`]. Linux ends a `recvmsg` after a segment
//!   that carried descriptors, so each batch is one call's, in call order;
//!   a call that says it has some takes the next batch, and
//!   [`install`]s it while its argument is decoded, where a `Connection`
//!   [`claim`]s its descriptor by index. What no `Connection` claimed is
//!   closed by [`discard`].
//!
//! Outside [`capturing`] (a result, a message on a `Connection`, plain
//! `postcard::to_vec`) a `Connection` refuses to serialise, with
//! [`NOT_AN_ARGUMENT`]. postcard drops the message of a custom error, so
//! [`refuse`] also notes it for [`encoding`], which the crate's encoders
//! go through, to report.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, recvmsg, send, sendmsg,
};

/// The most descriptors one call may carry: Linux's `SCM_MAX_FD`.
pub(crate) const MAX_FDS: usize = 253;

/// Why a `Connection` refuses to serialise outside a call's argument.
pub(crate) const NOT_AN_ARGUMENT: &str = "a Connection can only be passed to a worker as an \
     argument (of Process::start, Pool::apply, ProcessPoolExecutor::submit...), not inside a \
     result, a message or another serialisation";

/// Why a `Connection` refuses to deserialise outside a call's argument.
const NOT_RECEIVED: &str = "a Connection can only be received as a worker's argument";

thread_local! {
    /// The descriptors of the call being encoded on this thread, while one
    /// is.
    static OUTGOING: RefCell<Option<Vec<OwnedFd>>> = const { RefCell::new(None) };
    /// The descriptors of the call whose argument is being decoded on this
    /// thread, while one is; a claimed one leaves `None` behind.
    static INCOMING: RefCell<Option<Vec<Option<OwnedFd>>>> = const { RefCell::new(None) };
    /// Why a `Connection` last refused to serialise on this thread.
    static REFUSAL: Cell<Option<String>> = const { Cell::new(None) };
}

/// A serde error saying `why`, noted for [`encoding`] (postcard keeps no
/// message of its own).
pub(crate) fn refuse<E: serde::ser::Error>(why: String) -> E {
    let error = E::custom(&why);
    REFUSAL.with(|r| r.set(Some(why)));
    error
}

/// Runs a postcard `encode`; its error as a message, which is why a
/// `Connection` refused when that is what failed.
pub(crate) fn encoding<T>(encode: impl FnOnce() -> postcard::Result<T>) -> Result<T, String> {
    REFUSAL.with(Cell::take);
    encode().map_err(|e| match (e, REFUSAL.with(Cell::take)) {
        (postcard::Error::SerdeSerCustom, Some(why)) => why,
        (e, _) => e.to_string(),
    })
}

/// One batch of descriptors as `recvmsg` delivered it: those of one call.
#[derive(Debug)]
struct Batch {
    fds: Vec<OwnedFd>,
    /// The kernel dropped some (`MSG_CTRUNC`: this process is out of
    /// descriptors).
    truncated: bool,
}

/// The batches of descriptors received and not yet taken by a call, in
/// the order they came.
#[derive(Debug, Default)]
pub(crate) struct FdQueue(VecDeque<Batch>);

impl FdQueue {
    /// Takes the next batch, which must hold `count` descriptors.
    ///
    /// # Errors
    ///
    /// A message for the call's serialisation error when fewer arrived
    /// (the batch is then closed).
    pub(crate) fn take(&mut self, count: usize) -> Result<Vec<OwnedFd>, String> {
        match self.0.pop_front() {
            Some(batch) if !batch.truncated && batch.fds.len() == count => Ok(batch.fds),
            Some(batch) => Err(format!(
                "only {} of the call's {count} file descriptors arrived (is the worker out of \
                 descriptors?)",
                batch.fds.len()
            )),
            None => Err(format!(
                "the call's {count} file descriptors did not arrive"
            )),
        }
    }

    /// How many batches wait.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Runs `serialise` with a fresh list for the descriptors of
/// `Connection`s it meets; returns its result and the list. The previous
/// list (of an encoding this one runs inside) is restored after, even if
/// `serialise` panics.
pub(crate) fn capturing<T>(serialise: impl FnOnce() -> T) -> (T, Vec<OwnedFd>) {
    crate::collect::collecting(&OUTGOING, serialise)
}

/// Adds a duplicate of `fd` (close-on-exec) to the call being encoded;
/// its index in the call's list.
///
/// # Errors
///
/// [`NOT_AN_ARGUMENT`] outside [`capturing`]; a message when the call
/// already carries [`MAX_FDS`] descriptors or `fd` cannot be duplicated.
pub(crate) fn offer(fd: BorrowedFd<'_>) -> Result<u32, String> {
    OUTGOING.with(|o| {
        let mut outgoing = o.borrow_mut();
        let Some(fds) = outgoing.as_mut() else {
            return Err(NOT_AN_ARGUMENT.to_owned());
        };
        if fds.len() >= MAX_FDS {
            return Err(format!(
                "a call can carry at most {MAX_FDS} Connections (file descriptors)"
            ));
        }
        let dup = fd
            .try_clone_to_owned()
            .map_err(|e| format!("cannot duplicate a Connection's descriptor: {e}"))?;
        fds.push(dup);
        Ok((fds.len() - 1) as u32)
    })
}

/// Makes `fds` the descriptors that `Connection`s decoded on this thread
/// claim, until [`discard`].
pub(crate) fn install(fds: Vec<OwnedFd>) {
    let fds = fds.into_iter().map(Some).collect();
    INCOMING.with(|i| *i.borrow_mut() = Some(fds));
}

/// Closes the installed descriptors that no `Connection` claimed.
pub(crate) fn discard() {
    let unclaimed = INCOMING.with(|i| i.borrow_mut().take());
    drop(unclaimed);
}

/// Takes the installed descriptor at `index`.
///
/// # Errors
///
/// A message outside an argument's decoding, or for an index out of range
/// or already claimed.
pub(crate) fn claim(index: u32) -> Result<OwnedFd, String> {
    INCOMING.with(|i| {
        let mut incoming = i.borrow_mut();
        let Some(fds) = incoming.as_mut() else {
            return Err(NOT_RECEIVED.to_owned());
        };
        fds.get_mut(index as usize)
            .and_then(Option::take)
            .ok_or_else(|| format!("the call carries no file descriptor #{index} (or it is taken)"))
    })
}

/// Writes all of `bytes`, the first part with one `sendmsg` that carries
/// `fds` (`SCM_RIGHTS`), all with `MSG_NOSIGNAL`. Without `fds`, as
/// [`send_all`].
///
/// # Errors
///
/// When the socket fails; `InvalidInput` for more than [`MAX_FDS`].
pub(crate) fn send_with_fds(stream: &UnixStream, bytes: &[u8], fds: &[OwnedFd]) -> io::Result<()> {
    if fds.is_empty() {
        return send_all(stream, bytes);
    }
    if fds.len() > MAX_FDS || bytes.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "cannot send {} file descriptors with {} bytes",
                fds.len(),
                bytes.len()
            ),
        ));
    }
    let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(AsFd::as_fd).collect();
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(borrowed.len()))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(&borrowed)) {
        return Err(io::Error::other("the descriptors do not fit their buffer"));
    }
    loop {
        match sendmsg(
            stream.as_fd(),
            &[IoSlice::new(bytes)],
            &mut control,
            SendFlags::NOSIGNAL,
        ) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            // The descriptors went with the first byte; the rest is data.
            Ok(n) => return send_all(stream, &bytes[n..]),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// One `recvmsg` into `buf` (flags as given, plus close-on-exec for the
/// descriptors); a batch of descriptors that came with the bytes goes to
/// the back of `queue`. The number of bytes read.
///
/// # Errors
///
/// As `recvmsg`.
pub(crate) fn recv_with_fds(
    stream: &UnixStream,
    buf: &mut [u8],
    flags: RecvFlags,
    queue: &mut FdQueue,
) -> rustix::io::Result<usize> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let msg = recvmsg(
        stream.as_fd(),
        &mut [IoSliceMut::new(buf)],
        &mut control,
        flags | RecvFlags::CMSG_CLOEXEC,
    )?;
    let truncated = msg.flags.contains(ReturnFlags::CTRUNC);
    let mut fds = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    if truncated || !fds.is_empty() {
        queue.0.push_back(Batch { fds, truncated });
    }
    Ok(msg.bytes)
}

/// Writes all of `bytes`, with `MSG_NOSIGNAL` so that a dead peer is an
/// `EPIPE` error rather than a `SIGPIPE` that would kill this process.
pub(crate) fn send_all(stream: &UnixStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match send(stream.as_fd(), bytes, SendFlags::NOSIGNAL) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    // Checks that descriptors offered while capturing are listed in order,
    // and that outside a capture the offer is refused.
    #[test]
    fn capturing_collects_offers() {
        let (a, _b) = UnixStream::pair().unwrap();
        assert_eq!(offer(a.as_fd()).unwrap_err(), NOT_AN_ARGUMENT);
        let (indices, fds) = capturing(|| (offer(a.as_fd()), offer(a.as_fd())));
        assert_eq!((indices.0.unwrap(), indices.1.unwrap()), (0, 1));
        assert_eq!(fds.len(), 2);
        assert!(offer(a.as_fd()).is_err(), "the capture ended");
    }

    // Checks that a capture inside a capture keeps the lists apart.
    #[test]
    fn nested_captures_are_separate() {
        let (a, _b) = UnixStream::pair().unwrap();
        let ((inner, after), outer) = capturing(|| {
            offer(a.as_fd()).unwrap();
            let inner = capturing(|| offer(a.as_fd()).unwrap()).1;
            (inner, offer(a.as_fd()).unwrap())
        });
        assert_eq!((inner.len(), outer.len(), after), (1, 2, 1));
    }

    // Checks the limit of descriptors per call.
    #[test]
    fn at_most_253_per_call() {
        let (a, _b) = UnixStream::pair().unwrap();
        let (last, fds) = capturing(|| {
            for _ in 0..MAX_FDS {
                offer(a.as_fd()).unwrap();
            }
            offer(a.as_fd())
        });
        assert!(last.unwrap_err().contains("at most 253"));
        assert_eq!(fds.len(), MAX_FDS);
    }

    // Checks that installed descriptors are claimed once each, and that
    // claiming outside an installation is refused.
    #[test]
    fn claims_take_each_once() {
        let (a, _b) = UnixStream::pair().unwrap();
        assert!(claim(0).is_err());
        install(vec![a.as_fd().try_clone_to_owned().unwrap()]);
        assert!(claim(0).is_ok());
        assert!(claim(0).is_err());
        assert!(claim(1).is_err());
        discard();
        assert!(claim(0).is_err());
    }

    // Checks that descriptors sent with bytes arrive as one batch, and
    // that the received descriptor is the same socket.
    #[test]
    fn descriptors_cross_a_socket() {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut c, d) = UnixStream::pair().unwrap();
        send_with_fds(&a, b"xy", &[OwnedFd::from(d)]).unwrap();
        let mut queue = FdQueue::default();
        let mut buf = [0; 8];
        let n = recv_with_fds(&b, &mut buf, RecvFlags::empty(), &mut queue).unwrap();
        assert_eq!(&buf[..n], b"xy");
        assert_eq!(queue.len(), 1);
        let mut received = UnixStream::from(queue.take(1).unwrap().pop().unwrap());
        c.write_all(b"hi").unwrap();
        let mut got = [0; 2];
        received.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hi");
        assert!(queue.take(1).unwrap_err().contains("did not arrive"));
    }

    // Checks that a batch of the wrong size is refused (and closed).
    #[test]
    fn wrong_count_is_an_error() {
        let (a, b) = UnixStream::pair().unwrap();
        let (_c, d) = UnixStream::pair().unwrap();
        send_with_fds(&a, b"z", &[OwnedFd::from(d)]).unwrap();
        let mut queue = FdQueue::default();
        recv_with_fds(&b, &mut [0; 4], RecvFlags::empty(), &mut queue).unwrap();
        assert!(queue.take(2).unwrap_err().contains("only 1 of"));
    }
}
