//! Streams: an echo server, the reader's line / exact / separator reads
//! and their edge cases (ported from CPython's
//! Lib/test/test_asyncio/test_streams.py, each test naming its source),
//! EOF, errors for refused connections and unknown hosts, and servers that
//! close without leaving a task behind.
//!
//! CPython's tests feed a `StreamReader` by hand (`feed_data`,
//! `feed_eof`); here the same bytes come through `tokio::io::duplex`,
//! whose other end the test writes and drops.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use corun::ErrorKind;
use corun::asyncio::{
    ReadError, Server, StreamReader, StreamWriter, all_tasks, create_task, open_connection, run,
    sleep, start_server,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// A reader over a pipe whose other end already holds `data`, and that
/// other end (drop it for EOF).
async fn fed(data: &[u8], limit: usize) -> (StreamReader, DuplexStream) {
    let (mut peer, ours) = tokio::io::duplex(1 << 16);
    peer.write_all(data).await.unwrap();
    (StreamReader::with_limit(ours, limit), peer)
}

/// A reader over `data` followed by EOF.
async fn fed_eof(data: &[u8], limit: usize) -> StreamReader {
    let (reader, peer) = fed(data, limit).await;
    drop(peer);
    reader
}

/// A server answering each line with the same line, until EOF.
async fn echo_server() -> (Server, u16) {
    let server = start_server(
        |mut reader, mut writer| async move {
            loop {
                let line = reader.readline().await.unwrap();
                if line.is_empty() {
                    break;
                }
                writer.write(&line).unwrap();
                writer.drain().await.unwrap();
            }
            writer.wait_closed().await.unwrap();
        },
        "127.0.0.1",
        0,
    )
    .await
    .unwrap();
    let port = server.sockets()[0].port();
    (server, port)
}

// CPython test_streams.py `test_start_server` and `test_open_connection`:
// clients write a line to an echo server and read it back.
#[test]
fn echo_server_answers_several_clients() {
    run(async {
        let (server, port) = echo_server().await;
        let clients: Vec<_> = (0..5)
            .map(|i| {
                create_task(async move {
                    let (mut reader, mut writer) = open_connection("127.0.0.1", port).await?;
                    let mut got = Vec::new();
                    for j in 0..3 {
                        writer.write(format!("client {i} line {j}\n").as_bytes())?;
                        writer.drain().await?;
                        got.push(reader.readline().await?);
                    }
                    writer.close();
                    writer.wait_closed().await?;
                    assert!(reader.read_to_end().await?.is_empty());
                    assert!(reader.at_eof());
                    Ok::<_, corun::Error>(got)
                })
            })
            .collect();
        for (i, client) in clients.into_iter().enumerate() {
            let lines = client.await.unwrap().unwrap();
            let expected: Vec<Vec<u8>> = (0..3)
                .map(|j| format!("client {i} line {j}\n").into_bytes())
                .collect();
            assert_eq!(lines, expected);
        }
        server.close();
        server.wait_closed().await;
    })
    .unwrap();
}

// CPython test_streams.py `test_get_extra_info` (for `peername`): each end
// knows the other's address.
#[test]
fn writers_know_both_addresses() {
    let seen: Rc<RefCell<Option<(SocketAddr, SocketAddr)>>> = Rc::default();
    let s = seen.clone();
    run(async move {
        let server = start_server(
            move |_reader, writer| {
                *s.borrow_mut() = Some((writer.sockname().unwrap(), writer.peername().unwrap()));
                async {}
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let addr = server.sockets()[0];
        assert_eq!(addr.ip().to_string(), "127.0.0.1");
        let (mut reader, writer) = open_connection("127.0.0.1", addr.port()).await.unwrap();
        assert_eq!(writer.peername(), Some(addr));
        // The server's task drops its writer: EOF here.
        assert!(reader.read_to_end().await.unwrap().is_empty());
        let (server_end, client_seen_by_server) = seen.borrow().unwrap();
        assert_eq!(server_end, addr);
        assert_eq!(Some(client_seen_by_server), writer.sockname());
    })
    .unwrap();
}

// CPython test_streams.py `test_readline`: a line spread over several
// chunks; what follows stays buffered.
#[test]
fn readline_joins_chunks_and_keeps_the_rest() {
    run(async {
        let (mut peer, ours) = tokio::io::duplex(1 << 16);
        let mut reader = StreamReader::new(ours);
        let feeder = create_task(async move {
            for chunk in [&b"chunk1 "[..], b"chunk2 ", b"chunk3 \n", b" chunk4"] {
                peer.write_all(chunk).await.unwrap();
                sleep(Duration::ZERO).await; // separate reads
            }
        });
        assert_eq!(reader.readline().await.unwrap(), b"chunk1 chunk2 chunk3 \n");
        feeder.await.unwrap();
        assert_eq!(reader.read_to_end().await.unwrap(), b" chunk4");
    })
    .unwrap();
}

// CPython test_streams.py `test_readline_eof` and `test_readline_empty_eof`:
// at EOF, readline gives what is left without a newline, then nothing.
#[test]
fn readline_at_eof_gives_the_partial_line_then_nothing() {
    run(async {
        let mut reader = fed_eof(b"some data", 100).await;
        assert_eq!(reader.readline().await.unwrap(), b"some data");
        assert!(reader.at_eof());
        assert_eq!(reader.readline().await.unwrap(), b"");
        let mut empty = fed_eof(b"", 100).await;
        assert_eq!(empty.readline().await.unwrap(), b"");
    })
    .unwrap();
}

// CPython test_streams.py `test_readline_limit`: a line longer than the
// limit is an error; a newline already read is dropped with it, the next
// line survives; without one, the buffer is dropped.
#[test]
fn readline_past_the_limit_is_an_error_and_drops_the_line() {
    run(async {
        let mut reader = fed_eof(b"chunk1chunk2\nchunk3\n", 7).await;
        let err = reader.readline().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("limit of 7 bytes"), "{err}");
        assert_eq!(reader.readline().await.unwrap(), b"chunk3\n");

        let mut reader = fed_eof(b"chunk1chunk2chunk3\n", 7).await;
        assert!(reader.readline().await.is_err());
        assert!(reader.at_eof());

        let mut reader = fed_eof(b"chunk1chunk2chunk3", 7).await;
        assert!(reader.readline().await.is_err());
        assert_eq!(reader.read_to_end().await.unwrap(), b"");
    })
    .unwrap();
}

// CPython test_streams.py `test_readexactly_zero_or_less` and
// `test_readexactly`: zero bytes at once; otherwise exactly n, across chunks.
#[test]
fn readexactly_reads_exactly_n() {
    run(async {
        let data = b"chunk1chunk2chunk3";
        let (mut reader, peer) = fed(data, 100).await;
        assert_eq!(reader.readexactly(0).await.unwrap(), b"");
        assert_eq!(reader.readexactly(12).await.unwrap(), b"chunk1chunk2");
        drop(peer);
        assert_eq!(reader.readexactly(6).await.unwrap(), b"chunk3");
        assert!(reader.at_eof());
    })
    .unwrap();
}

// CPython test_streams.py `test_readexactly_eof`: EOF first is an
// incomplete read carrying the bytes read, which leave the buffer.
#[test]
fn readexactly_at_eof_hands_back_the_partial_bytes() {
    run(async {
        let mut reader = fed_eof(b"chunk", 100).await;
        match reader.readexactly(10).await {
            Err(ReadError::Incomplete { partial, expected }) => {
                assert_eq!(partial, b"chunk");
                assert_eq!(expected, Some(10));
            }
            other => panic!("expected an incomplete read, got {other:?}"),
        }
        assert!(reader.at_eof());
        let mut reader = fed_eof(b"chunk", 100).await;
        let err: corun::Error = reader.readexactly(10).await.unwrap_err().into();
        assert_eq!(err.kind(), ErrorKind::Closed);
        assert_eq!(
            err.to_string(),
            "the connection ended after 5 of 10 expected bytes"
        );
    })
    .unwrap();
}

// CPython test_streams.py `test_readuntil_separator`: an empty separator
// is refused.
#[test]
fn readuntil_refuses_an_empty_separator() {
    run(async {
        let mut reader = fed_eof(b"data", 100).await;
        match reader.readuntil(b"").await {
            Err(ReadError::Failed(err)) => assert_eq!(err.kind(), ErrorKind::InvalidArgument),
            other => panic!("expected an error, got {other:?}"),
        }
        assert_eq!(reader.read_to_end().await.unwrap(), b"data");
    })
    .unwrap();
}

// CPython test_streams.py `test_readuntil_multi_chunks_1`: a separator
// that arrives split over several reads is still found.
#[test]
fn readuntil_finds_a_separator_split_over_reads() {
    run(async {
        let (mut peer, ours) = tokio::io::duplex(1 << 16);
        let mut reader = StreamReader::new(ours);
        let feeder = create_task(async move {
            for chunk in [&b"QWEaa"[..], b"XYaa", b"a", b"tail"] {
                peer.write_all(chunk).await.unwrap();
                sleep(Duration::ZERO).await;
            }
        });
        assert_eq!(reader.readuntil(b"aaa").await.unwrap(), b"QWEaaXYaaa");
        feeder.await.unwrap();
        assert_eq!(reader.read_to_end().await.unwrap(), b"tail");

        let mut reader = fed_eof(b"AAxAAAyAAA", 100).await;
        assert_eq!(reader.readuntil(b"AAA").await.unwrap(), b"AAxAAA");
        assert_eq!(reader.readuntil(b"AAA").await.unwrap(), b"yAAA");
        assert!(reader.at_eof());
    })
    .unwrap();
}

// CPython test_streams.py `test_readuntil_eof`: EOF before the separator
// hands back everything buffered, with no expected length.
#[test]
fn readuntil_at_eof_hands_back_everything() {
    run(async {
        let mut reader = fed_eof(b"some dataAA", 100).await;
        match reader.readuntil(b"AAA").await {
            Err(ReadError::Incomplete { partial, expected }) => {
                assert_eq!(partial, b"some dataAA");
                assert_eq!(expected, None);
            }
            other => panic!("expected an incomplete read, got {other:?}"),
        }
        assert!(reader.at_eof());
    })
    .unwrap();
}

// CPython test_streams.py `test_readuntil_limit_found_sep`: a separator
// beyond the limit, not found or found, is an overrun that keeps the bytes.
#[test]
fn readuntil_past_the_limit_keeps_the_bytes() {
    run(async {
        let mut reader = fed_eof(b"some dataAA", 3).await;
        match reader.readuntil(b"AAA").await {
            Err(ReadError::LimitOverrun { consumed }) => assert_eq!(consumed, 9),
            other => panic!("expected an overrun, got {other:?}"),
        }
        assert_eq!(reader.read_to_end().await.unwrap(), b"some dataAA");

        let mut reader = fed_eof(b"some dataAAA", 3).await;
        match reader.readuntil(b"AAA").await {
            Err(ReadError::LimitOverrun { consumed }) => assert_eq!(consumed, 9),
            other => panic!("expected an overrun, got {other:?}"),
        }
        assert_eq!(reader.read(100).await.unwrap(), b"some dataAAA");
    })
    .unwrap();
}

// CPython test_streams.py `test_read_zero`, `test_read`, `test_read_eof`,
// `test_read_until_eof` and `test_at_eof`.
#[test]
fn read_gives_what_is_there_and_nothing_at_eof() {
    run(async {
        let (mut reader, mut peer) = fed(b"chunk1\nchunk2", 100).await;
        assert_eq!(reader.read(0).await.unwrap(), b"");
        assert_eq!(reader.read(3).await.unwrap(), b"chu");
        assert!(!reader.at_eof());
        assert_eq!(reader.readline().await.unwrap(), b"nk1\n");
        assert!(!reader.at_eof());
        peer.write_all(b"\nchunk3").await.unwrap();
        drop(peer);
        assert_eq!(reader.read_to_end().await.unwrap(), b"chunk2\nchunk3");
        assert!(reader.at_eof());
        assert_eq!(reader.read(10).await.unwrap(), b"");
    })
    .unwrap();
}

// Beyond CPython: a read dropped at its await point (here by a timeout)
// loses none of the bytes it had read.
#[test]
fn a_cancelled_read_loses_no_bytes() {
    run(async {
        let (mut reader, mut peer) = fed(b"12345", 100).await;
        let waited = tokio::time::timeout(Duration::from_millis(5), reader.readexactly(10)).await;
        assert!(waited.is_err(), "only 5 of 10 bytes were sent");
        peer.write_all(b"67890").await.unwrap();
        assert_eq!(reader.readexactly(10).await.unwrap(), b"1234567890");
    })
    .unwrap();
}

// CPython test_streams.py `test_open_connection_error` (a refused
// connection): a clear error naming the address, with the system's error.
#[test]
fn a_refused_connection_is_an_io_error() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = open_connection("127.0.0.1", port).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert_eq!(
            err.io_error().map(std::io::Error::kind),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("cannot connect to 127.0.0.1:{port}")),
            "{message}"
        );
    })
    .unwrap();
}

#[test]
fn an_unknown_host_is_an_io_error() {
    run(async {
        // `.invalid` never resolves (RFC 2606).
        let err = open_connection("no-such-host.invalid", 80)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(
            err.to_string()
                .starts_with("cannot resolve host \"no-such-host.invalid\""),
            "{err}"
        );
    })
    .unwrap();
}

// CPython test_streams.py `test_drain_raises`: once the peer is gone,
// drain reports the connection's error instead of waiting.
#[test]
fn drain_fails_once_the_peer_is_gone() {
    run(async {
        let outcome: Rc<RefCell<Option<corun::Error>>> = Rc::default();
        let o = outcome.clone();
        let server = start_server(
            move |mut reader, mut writer| {
                let o = o.clone();
                async move {
                    // Wait for the client to hang up, then keep writing.
                    assert!(reader.read_to_end().await.unwrap().is_empty());
                    for _ in 0..1000 {
                        writer.write(&[b'x'; 65536]).unwrap();
                        if let Err(err) = writer.drain().await {
                            *o.borrow_mut() = Some(err);
                            return;
                        }
                    }
                }
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let (reader, writer) = open_connection("127.0.0.1", server.sockets()[0].port())
            .await
            .unwrap();
        drop((reader, writer));
        server.close();
        server.wait_closed().await;
        let err = outcome.borrow_mut().take().expect("drain failed");
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.io_error().is_some(), "{err:?}");
    })
    .unwrap();
}

// Beyond CPython (which drops such bytes with a warning): writing after
// close is an error.
#[test]
fn writing_after_close_is_an_error() {
    run(async {
        let (ours, mut peer) = tokio::io::duplex(1 << 16);
        let mut writer = StreamWriter::new(ours);
        writer.write(b"before").unwrap();
        assert!(!writer.is_closing());
        writer.close();
        assert!(writer.is_closing());
        let err = writer.write(b"after").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidState);
        writer.wait_closed().await.unwrap();
        let mut got = Vec::new();
        peer.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"before");
    })
    .unwrap();
}

// What the socket cannot take at once is sent after close, by the loop,
// whether or not anybody waits for it (Python's transport does the same).
#[test]
fn close_sends_what_is_still_buffered() {
    const SIZE: usize = 4 << 20;
    run(async {
        let received = Rc::new(Cell::new(0));
        let r = received.clone();
        let server = start_server(
            move |mut reader, _writer| {
                let r = r.clone();
                async move { r.set(reader.read_to_end().await.unwrap().len()) }
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let port = server.sockets()[0].port();
        for wait in [true, false] {
            let (_reader, mut writer) = open_connection("127.0.0.1", port).await.unwrap();
            writer.write(&vec![7; SIZE]).unwrap();
            assert!(writer.buffered() > 0, "4 MiB do not fit a socket buffer");
            writer.close();
            if wait {
                writer.wait_closed().await.unwrap();
            } else {
                drop(writer);
            }
        }
        server.close();
        server.wait_closed().await;
        assert_eq!(received.get(), SIZE);
    })
    .unwrap();
}

// Both halves work as tokio's AsyncRead / AsyncWrite (what an HTTP client
// runs over), the reader handing out what it buffered first.
#[test]
fn halves_are_tokio_readers_and_writers() {
    run(async {
        let (_server, port) = echo_server().await;
        let (mut reader, mut writer) = open_connection("127.0.0.1", port).await.unwrap();
        writer.write(b"first\n").unwrap();
        AsyncWriteExt::write_all(&mut writer, b"second\nthird\n")
            .await
            .unwrap();
        AsyncWriteExt::flush(&mut writer).await.unwrap();
        assert_eq!(reader.readuntil(b"\n").await.unwrap(), b"first\n");
        let mut rest = vec![0; 13];
        AsyncReadExt::read_exact(&mut reader, &mut rest)
            .await
            .unwrap();
        assert_eq!(rest, b"second\nthird\n");
        AsyncWriteExt::shutdown(&mut writer).await.unwrap();
        assert!(writer.is_closing());
        let mut tail = Vec::new();
        AsyncReadExt::read_to_end(&mut reader, &mut tail)
            .await
            .unwrap();
        assert!(tail.is_empty());
        assert!(reader.at_eof());
    })
    .unwrap();
}

// CPython test_server.py `test_start_server_1` (start_serving=False):
// a bound server accepts nothing until it starts serving.
#[test]
fn a_bound_server_serves_once_started() {
    run(async {
        let server = Server::bind(
            |_reader, mut writer| async move {
                writer.write(b"hi").unwrap();
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        assert!(!server.is_serving());
        let port = server.sockets()[0].port();
        // The system queues the connection; nobody answers it yet.
        let (mut reader, _writer) = open_connection("127.0.0.1", port).await.unwrap();
        server.start_serving().unwrap();
        server.start_serving().unwrap(); // does nothing more
        assert!(server.is_serving());
        assert_eq!(reader.read_to_end().await.unwrap(), b"hi");
    })
    .unwrap();
}

// CPython test_server.py `test_wait_closed_basic` and 3.13's
// `close_clients`: closing stops accepting, wait_closed waits for the
// connections, and nothing of the server is left behind.
#[test]
fn a_closed_server_leaves_no_task_behind() {
    run(async {
        let finished = Rc::new(Cell::new(0));
        let f = finished.clone();
        let server = start_server(
            move |mut reader, _writer| {
                let f = f.clone();
                async move {
                    // Each waits for a line that never comes.
                    let _ = reader.readline().await;
                    f.set(f.get() + 1);
                }
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let port = server.sockets()[0].port();
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(open_connection("127.0.0.1", port).await.unwrap());
        }
        // Every connection has its task (plus the accept task and this one).
        while all_tasks().len() < 5 {
            sleep(Duration::ZERO).await;
        }
        server.close();
        assert!(!server.is_serving());
        assert!(server.sockets().is_empty());
        let refused = open_connection("127.0.0.1", port).await.unwrap_err();
        assert_eq!(
            refused.io_error().map(std::io::Error::kind),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
        server.close_clients();
        server.wait_closed().await;
        assert_eq!(finished.get(), 0, "the connection tasks were cancelled");
        assert_eq!(all_tasks().len(), 1, "only this task is left");
        // The clients see their connections end.
        for (mut reader, _writer) in clients {
            assert!(reader.read_to_end().await.unwrap().is_empty());
        }
    })
    .unwrap();
}

// wait_closed waits for connections still running after close.
#[test]
fn wait_closed_waits_for_open_connections() {
    run(async {
        let (server, port) = echo_server().await;
        let (mut reader, mut writer) = open_connection("127.0.0.1", port).await.unwrap();
        writer.write(b"ping\n").unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"ping\n");
        server.close();
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        let waiter = create_task(async move {
            server.wait_closed().await;
            d.set(true);
        });
        for _ in 0..10 {
            sleep(Duration::ZERO).await;
        }
        assert!(!done.get(), "the echo connection is still open");
        writer.close();
        writer.wait_closed().await.unwrap();
        waiter.await.unwrap();
        assert!(done.get());
    })
    .unwrap();
}

// CPython test_server.py `test_serve_forever` (cancelling serve_forever
// closes the server), and corun's close ending it with Ok.
#[test]
fn serve_forever_ends_with_the_server() {
    run(async {
        let server = Rc::new(
            Server::bind(|_r, _w| async {}, "127.0.0.1", 0)
                .await
                .unwrap(),
        );
        let s = server.clone();
        let serving = create_task(async move { s.serve_forever().await });
        sleep(Duration::ZERO).await;
        assert!(server.is_serving());
        serving.cancel();
        assert!(serving.await.unwrap_err().is_cancelled());
        assert!(!server.is_serving());
        assert_eq!(
            server.serve_forever().await.unwrap_err().kind(),
            ErrorKind::InvalidState
        );

        let server = Rc::new(
            Server::bind(|_r, _w| async {}, "127.0.0.1", 0)
                .await
                .unwrap(),
        );
        let s = server.clone();
        let serving = create_task(async move { s.serve_forever().await });
        sleep(Duration::ZERO).await;
        server.close();
        serving.await.unwrap().unwrap();
    })
    .unwrap();
}

// A callback that panics fails its own connection only: the exception
// handler is told, and the server goes on.
#[test]
fn a_panicking_callback_is_reported_and_the_server_goes_on() {
    let reported = Rc::new(RefCell::new(Vec::new()));
    let r = reported.clone();
    run(async move {
        corun::asyncio::get_running_loop()
            .unwrap()
            .set_exception_handler(move |context| {
                r.borrow_mut().push((
                    context.message().to_owned(),
                    context
                        .error()
                        .and_then(|e| e.panic_message().map(str::to_owned)),
                ));
            });
        let server = start_server(
            |mut reader, mut writer| async move {
                let line = reader.readline().await.unwrap();
                if line == b"boom\n" {
                    panic!("bad request");
                }
                writer.write(&line).unwrap();
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let port = server.sockets()[0].port();
        for line in [&b"boom\n"[..], b"fine\n"] {
            let (mut reader, mut writer) = open_connection("127.0.0.1", port).await.unwrap();
            writer.write(line).unwrap();
            writer.drain().await.unwrap();
            let answer = reader.read_to_end().await.unwrap();
            assert_eq!(answer, if line == b"boom\n" { &b""[..] } else { line });
        }
        server.close();
        server.wait_closed().await;
    })
    .unwrap();
    assert_eq!(
        *reported.borrow(),
        [(
            "Unhandled error in client_connected_cb".to_owned(),
            Some("bad request".to_owned())
        )]
    );
}

#[test]
fn start_server_needs_a_running_loop() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = runtime
        .block_on(start_server(|_r, _w| async {}, "127.0.0.1", 0))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
}
