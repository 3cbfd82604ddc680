//! The I/O-bound workload of the `io` experiment and the `download` demo:
//! a local HTTP server that answers each page after a fixed latency, and
//! the clients that fetch its pages.
//!
//! HTTP is spoken by well-kept crates only: hyper 1 (with hyper-util's
//! tokio adapter) for the server and the async clients, ureq for the
//! blocking client. ureq is small, synchronous (no async runtime hidden in
//! each worker thread, as hyper would need to block) and widely used, so a
//! thread's fetch is an ordinary blocking call, as `urllib` is in Python.
//!
//! Every response says `Connection: close`, so every client, Rust or
//! Python, opens one connection per page: no mode gains from keeping
//! connections alive, and the experiment counts what the seeds' example
//! does (a connection, a request, a wait, a response).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{Connection, handshake};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;

/// How long the server waits before answering each request.
pub(crate) const LATENCY: Duration = Duration::from_millis(50);

/// The server's accept queue. `TcpListener::bind` asks for 128 (as std
/// does); 200 clients connecting at once overflow that, and each dropped
/// connection attempt costs its client a 1 s SYN retransmit.
const BACKLOG: u32 = 1024;

/// The body of page `n`: about 1 KiB, different for each page. Python's
/// peer builds the same text to check what it fetched.
pub(crate) fn page_body(n: usize) -> String {
    format!(
        "<html><body><h1>page {n}</h1>{}</body></html>\n",
        "lorem ipsum ".repeat(80)
    )
}

/// An HTTP server on 127.0.0.1 (a port the system chose) that answers
/// `GET /page/N` with [`page_body`]`(N)` after [`LATENCY`], on a tokio
/// runtime of its own (two worker threads, as a remote server would not
/// share the client's one thread: with one, 200 pages at once took ~3 ms
/// longer here); it stops when dropped.
#[derive(Debug)]
pub(crate) struct PageServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl PageServer {
    /// Binds the server and starts serving.
    pub(crate) fn start() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("page-server")
            .enable_all()
            .build()
            .context("building the page server's runtime")?;
        let listener = runtime
            .block_on(async {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
                socket.listen(BACKLOG)
            })
            .context("binding the page server to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("page-server".to_owned())
            .spawn(move || {
                runtime.spawn(async move {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(
                            hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service_fn(answer)),
                        );
                    }
                });
                // Dropping the runtime after the stop ends every task.
                let _ = runtime.block_on(stopped);
            })
            .context("starting the page server's thread")?;
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The URL of page `n`.
    pub(crate) fn url(&self, n: usize) -> String {
        page_url(self.port(), n)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The URL of page `n` on the server at `port`.
pub(crate) fn page_url(port: u16, n: usize) -> String {
    format!("http://127.0.0.1:{port}/page/{n}")
}

/// The server's answer: the page after [`LATENCY`], or 404.
async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    tokio::time::sleep(LATENCY).await;
    let page = request
        .uri()
        .path()
        .strip_prefix("/page/")
        .and_then(|n| n.parse::<usize>().ok());
    let (status, body) = match page {
        Some(n) => (StatusCode::OK, page_body(n)),
        None => (StatusCode::NOT_FOUND, "no such page\n".to_owned()),
    };
    let response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html")
        .header(header::CONNECTION, "close")
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response");
    Ok(response)
}

/// Fetches page `n` with a blocking client: one connection, one request.
/// Returns the body's length; a body other than the page is an error.
pub(crate) fn fetch_blocking(agent: &ureq::Agent, port: u16, n: usize) -> anyhow::Result<usize> {
    let url = page_url(port, n);
    let mut response = agent
        .get(&url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    let body = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("reading {url}"))?;
    check(n, &body)
}

/// [`fetch_blocking`] with an agent of its own, returning what a process
/// pool can carry back: the body's length, or the error's text.
pub(crate) fn fetch_in_process((port, n): (u16, usize)) -> Result<usize, String> {
    fetch_blocking(&ureq::Agent::new_with_defaults(), port, n).map_err(|e| format!("{e:#}"))
}

/// Fetches page `n` over `io`, a connection already open to the server,
/// with hyper's HTTP/1 client; `drive` runs the connection's future (it
/// must be polled while the request is under way: a task on the caller's
/// runtime). Returns the body's length.
pub(crate) async fn fetch_over<T, D>(io: T, port: u16, n: usize, drive: D) -> anyhow::Result<usize>
where
    T: AsyncRead + AsyncWrite + Unpin + 'static,
    D: FnOnce(Connection<TokioIo<T>, Empty<Bytes>>),
{
    let (mut sender, connection) = handshake(TokioIo::new(io))
        .await
        .context("HTTP handshake")?;
    drive(connection);
    let request = Request::get(format!("/page/{n}"))
        .header(header::HOST, format!("127.0.0.1:{port}"))
        .body(Empty::<Bytes>::new())
        .expect("a valid request");
    let response = sender
        .send_request(request)
        .await
        .with_context(|| format!("GET /page/{n}"))?;
    anyhow::ensure!(
        response.status() == StatusCode::OK,
        "GET /page/{n}: {}",
        response.status()
    );
    let body = response
        .into_body()
        .collect()
        .await
        .with_context(|| format!("reading /page/{n}"))?
        .to_bytes();
    check(n, std::str::from_utf8(&body).context("a page is UTF-8")?)
}

/// Fetches page `n` on a tokio runtime: a `TcpStream` (with `TCP_NODELAY`,
/// as corun's streams) and hyper, the connection driven by `tokio::spawn`.
pub(crate) async fn fetch_tokio(port: u16, n: usize) -> anyhow::Result<usize> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .context("connecting to the page server")?;
    stream.set_nodelay(true)?;
    fetch_over(stream, port, n, |connection| {
        tokio::spawn(connection);
    })
    .await
}

/// Fetches page `n` on the running `corun::asyncio` loop: corun's
/// `open_connection`, its reader and writer joined into one tokio stream
/// for hyper, the connection driven by a task of the loop.
pub(crate) async fn fetch_asyncio(port: u16, n: usize) -> anyhow::Result<usize> {
    let (reader, writer) = corun::asyncio::open_connection("127.0.0.1", port).await?;
    fetch_over(tokio::io::join(reader, writer), port, n, |connection| {
        drop(corun::asyncio::create_task(connection));
    })
    .await
}

/// The body's length if it is page `n`.
fn check(n: usize, body: &str) -> anyhow::Result<usize> {
    anyhow::ensure!(
        body == page_body(n),
        "page {n} came back wrong: {body:.80?}"
    );
    Ok(body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_fetches_the_right_page() {
        let server = PageServer::start().unwrap();
        let port = server.port();
        let agent = ureq::Agent::new_with_defaults();
        let len = fetch_blocking(&agent, port, 3).unwrap();
        assert_eq!(len, page_body(3).len());
        assert_eq!(fetch_in_process((port, 4)), Ok(page_body(4).len()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(
            runtime.block_on(fetch_tokio(port, 5)).unwrap(),
            page_body(5).len()
        );
        drop(runtime);
        let got = corun::asyncio::run(fetch_asyncio(port, 6))
            .unwrap()
            .unwrap();
        assert_eq!(got, page_body(6).len());
        assert!(server.url(7).ends_with("/page/7"));
    }

    #[test]
    fn a_missing_page_is_an_error() {
        let server = PageServer::start().unwrap();
        let agent = ureq::Agent::new_with_defaults();
        let err = agent
            .get(&format!("http://127.0.0.1:{}/nope", server.port()))
            .call();
        assert!(err.is_err());
    }
}
