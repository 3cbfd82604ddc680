//! `once` as a future and `on` as a Stream (Node's
//! test-event-on-async-iterator.js and test-events-once.js): payloads in
//! order, an `error` that rejects, the full buffer's policy, listeners
//! removed when dropped.

use std::future::poll_fn;
use std::pin::Pin;

use corun::ErrorKind;
use corun::asyncio::run;
use corun::events::{EventEmitter, LocalEmitter, on, on_with_capacity, once};
use futures_core::Stream;

async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// test-events-once.js (onceError): an `error` emitted first rejects the
/// future, and is handled (the emit_error succeeds).
#[test]
fn once_rejects_on_error() {
    run(async {
        let ee = LocalEmitter::<u32>::new();
        let next = once(&ee, "myevent");
        assert_eq!(ee.listener_count("error"), 1);
        assert!(
            ee.emit_error(corun::Error::new(ErrorKind::InvalidArgument, "kaboom"))
                .unwrap()
        );
        let err = next.await.unwrap_err();
        assert_eq!(err.to_string(), "kaboom");
        assert_eq!(ee.listener_count("error"), 0);
        assert_eq!(ee.listener_count("myevent"), 0);
    })
    .unwrap();
}

/// test-events-once.js (onceAnEvent, and a dropped future leaves nothing).
#[test]
fn once_resolves_and_drop_removes_listeners() {
    run(async {
        let ee = EventEmitter::<(u32, &'static str)>::new();
        let next = once(&ee, "myevent");
        ee.emit("myevent", (42, "x")).unwrap();
        assert_eq!(next.await.unwrap(), (42, "x"));
        assert!(ee.event_names().is_empty());
        drop(once(&ee, "other"));
        assert!(ee.event_names().is_empty());
    })
    .unwrap();
}

/// test-event-on-async-iterator.js (basic, error): buffered payloads come
/// first, then the error, then the end.
#[test]
fn stream_yields_in_order_then_error_then_ends() {
    run(async {
        let ee = LocalEmitter::<&'static str>::new();
        let mut events = on(&ee, "foo");
        ee.emit("foo", "bar").unwrap();
        ee.emit("foo", "baz").unwrap();
        ee.emit_error(corun::Error::new(ErrorKind::InvalidArgument, "boom"))
            .unwrap();
        ee.emit("foo", "after the error").unwrap();
        assert_eq!(next(&mut events).await.unwrap().unwrap(), "bar");
        assert_eq!(next(&mut events).await.unwrap().unwrap(), "baz");
        assert_eq!(
            next(&mut events).await.unwrap().unwrap_err().to_string(),
            "boom"
        );
        assert!(next(&mut events).await.is_none());
        assert!(ee.event_names().is_empty(), "the stream stopped listening");
    })
    .unwrap();
}

/// A full buffer drops its oldest payloads, counted; the emits never wait.
#[test]
fn stream_full_buffer_drops_oldest() {
    run(async {
        let ee = EventEmitter::<u32>::new();
        let mut events = on_with_capacity(&ee, "n", 2);
        for n in 1..=5 {
            ee.emit("n", n).unwrap();
        }
        assert_eq!(events.dropped(), 3);
        assert_eq!(next(&mut events).await.unwrap().unwrap(), 4);
        assert_eq!(next(&mut events).await.unwrap().unwrap(), 5);
        events.close();
        assert!(next(&mut events).await.is_none());
        assert_eq!(ee.listener_count("n"), 0);
    })
    .unwrap();
}
