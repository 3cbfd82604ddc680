//! [`start_server`] and [`Server`]: accepting TCP connections on the loop,
//! one task per connection (Python: `asyncio.start_server`,
//! `asyncio.Server`).
//!
//! Each listening socket has an accept task; each accepted connection gets
//! a task running the callback with its reader and writer. The server
//! keeps the connection tasks it started (until they are done), so
//! [`Server::wait_closed`] can wait for them and
//! [`Server::close_clients`] can cancel them. An accept task borrows its
//! socket only while it polls, so [`Server::close`] closes the sockets at
//! once, as Python's does: a connection attempt right after is refused.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};
use std::time::Duration;

use tokio::net::TcpListener;

use corun_core::{Error, ErrorKind};

use crate::event_loop::{EventLoop, get_running_loop};
use crate::exception::ExceptionContext;
use crate::sleep::sleep;
use crate::streams::{StreamReader, StreamWriter, resolve, split};
use crate::task::{AnyTask, Task};

/// How long accepting pauses after the system refused a connection for
/// want of resources (too many open files, say), as Python's
/// `ACCEPT_RETRY_DELAY`.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// What the server calls for each connection, its output boxed.
type Callback = Rc<dyn Fn(StreamReader, StreamWriter) -> Pin<Box<dyn Future<Output = ()>>>>;

/// A listening socket, shared by the server and its accept task; `close`
/// takes it out.
type Slot = Rc<RefCell<Option<TcpListener>>>;

/// A listening TCP server on the running loop (Python: `asyncio.Server`).
///
/// Made by [`start_server`] (already serving) or [`Server::bind`] (not
/// yet). Dropping it closes it, as [`close`](Self::close): it stops
/// accepting, while the connections already accepted go on.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{open_connection, run, start_server};
///
/// run(async {
///     let server = start_server(
///         |_reader, mut writer| async move {
///             writer.write(b"hello").unwrap();
///             writer.wait_closed().await.unwrap();
///         },
///         "127.0.0.1",
///         0,
///     )
///     .await
///     .unwrap();
///     let port = server.sockets()[0].port();
///     let (mut reader, _writer) = open_connection("127.0.0.1", port).await.unwrap();
///     assert_eq!(reader.read_to_end().await.unwrap(), b"hello");
///     server.close();
///     server.wait_closed().await;
///     assert!(!server.is_serving());
/// })
/// .unwrap();
/// ```
#[must_use = "dropping the server closes it"]
pub struct Server {
    shared: Rc<Shared>,
    /// The listening sockets, one slot each.
    listeners: Vec<Slot>,
    /// One per listening socket, once serving.
    acceptors: RefCell<Vec<Task<()>>>,
    addrs: Vec<SocketAddr>,
}

/// What the server and its accept tasks share.
struct Shared {
    event_loop: EventLoop,
    callback: Callback,
    /// Connection tasks not yet done, in the order they were accepted.
    clients: RefCell<BTreeMap<u64, AnyTask>>,
    next_client: Cell<u64>,
    closed: Cell<bool>,
    /// Waiting for `closed`: `serve_forever`, `wait_closed`.
    waiters: RefCell<Vec<Waker>>,
}

impl Server {
    /// Binds `host:port` without accepting yet (Python:
    /// `asyncio.start_server(cb, host, port, start_serving=False)`); start
    /// with [`start_serving`](Self::start_serving) or
    /// [`serve_forever`](Self::serve_forever). The system already queues
    /// connections (up to its backlog) meanwhile.
    ///
    /// # Errors
    ///
    /// As [`start_server`].
    pub async fn bind<F, Fut>(client_connected_cb: F, host: &str, port: u16) -> Result<Self, Error>
    where
        F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let event_loop = get_running_loop()?;
        let mut listeners = Vec::new();
        let mut addrs = Vec::new();
        for addr in resolve(host, port).await? {
            let listener = TcpListener::bind(addr).await.map_err(|error| {
                Error::new(
                    ErrorKind::from(error.kind()),
                    format!("cannot listen on {addr}: {error}"),
                )
                .with_source(error)
            })?;
            addrs.push(listener.local_addr()?);
            listeners.push(Rc::new(RefCell::new(Some(listener))));
        }
        let callback: Callback = Rc::new(move |reader, writer| {
            Box::pin(client_connected_cb(reader, writer)) as Pin<Box<dyn Future<Output = ()>>>
        });
        Ok(Self {
            shared: Rc::new(Shared {
                event_loop,
                callback,
                clients: RefCell::new(BTreeMap::new()),
                next_client: Cell::new(0),
                closed: Cell::new(false),
                waiters: RefCell::new(Vec::new()),
            }),
            listeners,
            acceptors: RefCell::new(Vec::new()),
            addrs,
        })
    }

    /// The addresses the server listens on, one per socket (Python:
    /// `[s.getsockname() for s in server.sockets]`); empty once closed.
    /// With port 0, this is where to learn the port the system chose.
    pub fn sockets(&self) -> Vec<SocketAddr> {
        if self.shared.closed.get() {
            Vec::new()
        } else {
            self.addrs.clone()
        }
    }

    /// The loop the server runs on (Python: `get_loop()`).
    pub fn get_loop(&self) -> &EventLoop {
        &self.shared.event_loop
    }

    /// Whether it accepts connections (Python: `is_serving()`).
    pub fn is_serving(&self) -> bool {
        !self.shared.closed.get() && !self.acceptors.borrow().is_empty()
    }

    /// Starts accepting, one task per listening socket (Python:
    /// `start_serving()`); does nothing if it already does.
    ///
    /// # Errors
    ///
    /// [`InvalidState`](ErrorKind::InvalidState) once the server is closed.
    pub fn start_serving(&self) -> Result<(), Error> {
        if self.shared.closed.get() {
            return Err(closed());
        }
        if !self.acceptors.borrow().is_empty() {
            return Ok(());
        }
        for (slot, addr) in self.listeners.iter().zip(&self.addrs) {
            let task = self.shared.event_loop.create_task_named(
                format!("accept on {addr}"),
                accept(Rc::clone(slot), Rc::downgrade(&self.shared)),
            );
            self.acceptors.borrow_mut().push(task);
        }
        Ok(())
    }

    /// Serves until the server is closed (Python: `serve_forever()`);
    /// returns `Ok` then, where Python raises `CancelledError`. If the
    /// waiting task is cancelled (or this future dropped), the server is
    /// closed, as in Python.
    ///
    /// # Errors
    ///
    /// [`InvalidState`](ErrorKind::InvalidState) if the server is closed
    /// already.
    pub async fn serve_forever(&self) -> Result<(), Error> {
        /// Closes the server if `serve_forever` is dropped while waiting.
        struct CloseOnDrop<'a>(&'a Server);
        impl Drop for CloseOnDrop<'_> {
            fn drop(&mut self) {
                self.0.close();
            }
        }
        self.start_serving()?;
        let guard = CloseOnDrop(self);
        self.shared.until_closed().await;
        drop(guard);
        Ok(())
    }

    /// Stops accepting and closes the listening sockets (Python:
    /// `close()`). Connections already accepted go on; see
    /// [`close_clients`](Self::close_clients). Closing twice does nothing.
    pub fn close(&self) {
        if self.shared.closed.replace(true) {
            return;
        }
        for slot in &self.listeners {
            let listener = slot.borrow_mut().take();
            drop(listener);
        }
        for acceptor in self.acceptors.borrow().iter() {
            acceptor.cancel();
        }
        let waiters = std::mem::take(&mut *self.shared.waiters.borrow_mut());
        for waiter in waiters {
            waiter.wake();
        }
    }

    /// Cancels the task of every connection still open, which drops its
    /// reader and writer and so closes the connection (Python 3.13:
    /// `close_clients()`).
    pub fn close_clients(&self) {
        let clients: Vec<AnyTask> = self.shared.clients.borrow().values().cloned().collect();
        for client in clients {
            client.cancel();
        }
    }

    /// Waits until the server is closed and every connection task it
    /// started is done (Python 3.12: `wait_closed()`); with the server not
    /// closed yet, that includes waiting for somebody to close it.
    pub async fn wait_closed(&self) {
        self.shared.until_closed().await;
        let acceptors: Vec<AnyTask> = self.acceptors.borrow().iter().map(Task::as_any).collect();
        for acceptor in acceptors {
            acceptor.wait_done().await;
        }
        // A done task leaves `clients` in its done-callback, a little later.
        loop {
            let pending = self
                .shared
                .clients
                .borrow()
                .values()
                .find(|c| !c.done())
                .cloned();
            match pending {
                Some(client) => client.wait_done().await,
                None => break,
            }
        }
    }
}

impl Shared {
    /// Completes once the server is closed.
    async fn until_closed(&self) {
        poll_fn(|cx| {
            if self.closed.get() {
                return Poll::Ready(());
            }
            let mut waiters = self.waiters.borrow_mut();
            if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                waiters.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await;
    }

    /// Starts the task of a new connection.
    fn connected(self: &Rc<Self>, stream: tokio::net::TcpStream) {
        let (reader, writer) = split(stream);
        let name = match writer.peername() {
            Some(peer) => format!("client {peer}"),
            None => "client".to_owned(),
        };
        let task = self
            .event_loop
            .create_task_named(name, (self.callback)(reader, writer));
        let id = self.next_client.get();
        self.next_client.set(id + 1);
        self.clients.borrow_mut().insert(id, task.as_any());
        let shared = Rc::downgrade(self);
        task.add_done_callback(move |task| {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            shared.clients.borrow_mut().remove(&id);
            // A callback that failed has nobody else to tell (Python:
            // "Unhandled exception in client_connected_cb").
            if let Ok(Some(error)) = task.exception() {
                shared.event_loop.call_exception_handler(
                    &ExceptionContext::new("Unhandled error in client_connected_cb")
                        .with_error(error)
                        .with_task(task.as_any()),
                );
            }
        });
    }
}

/// Accepts connections on the socket in `slot` until it is taken out (or
/// the task is cancelled).
async fn accept(slot: Slot, shared: Weak<Shared>) {
    loop {
        let accepted = poll_fn(|cx| match &*slot.borrow() {
            Some(listener) => listener.poll_accept(cx).map(Some),
            None => Poll::Ready(None),
        })
        .await;
        let (Some(accepted), Some(shared)) = (accepted, shared.upgrade()) else {
            return;
        };
        match accepted {
            Ok((stream, _)) => shared.connected(stream),
            Err(error) if transient(&error) => {}
            Err(error) => {
                shared.event_loop.call_exception_handler(
                    &ExceptionContext::new(format!(
                        "accepting a connection failed; accepting again in {} s",
                        ACCEPT_RETRY_DELAY.as_secs()
                    ))
                    .with_error(error.into()),
                );
                drop(shared);
                sleep(ACCEPT_RETRY_DELAY).await;
            }
        }
    }
}

/// Errors of one connection attempt, after which accepting goes on at once.
fn transient(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

fn closed() -> Error {
    Error::new(ErrorKind::InvalidState, "the server is closed")
}

/// Starts a TCP server on `host:port` that runs `client_connected_cb` as a
/// task of the running loop for each connection, with the connection's
/// reader and writer (Python: `asyncio.start_server(cb, host, port)`).
///
/// `host` may resolve to several addresses; the server listens on each.
/// Port 0 lets the system choose: [`Server::sockets`] tells which. A
/// callback that panics fails its own task only; the loop's exception
/// handler is told.
///
/// # Errors
///
/// [`InvalidState`](ErrorKind::InvalidState) outside a running loop;
/// [`Io`](ErrorKind::Io) when `host` does not resolve or a socket cannot
/// listen (the address is in use, say), with the system's error as source.
pub async fn start_server<F, Fut>(
    client_connected_cb: F,
    host: &str,
    port: u16,
) -> Result<Server, Error>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let server = Server::bind(client_connected_cb, host, port).await?;
    server.start_serving()?;
    Ok(server)
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("sockets", &self.addrs)
            .field("serving", &self.is_serving())
            .field("clients", &self.shared.clients.borrow().len())
            .finish()
    }
}
