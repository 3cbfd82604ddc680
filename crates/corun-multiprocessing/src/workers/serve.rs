//! The worker's side: from [`init`](crate::init) finding the socket to
//! `exit`. One thread, one loop: read a frame, run the call, write the
//! reply — nothing else in the hot path.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};

use rustix::process::{Signal, getppid};

use crate::crossing::call::CallFrame;
use crate::crossing::claims::{Claim, Claims};
use crate::crossing::code_address::{self, CallFailure};
use crate::crossing::fd_passing::{self, FdQueue};
use crate::crossing::handshake::{Hello, Setup, Token};
use crate::crossing::wire::{self, FrameReader, Kind, ReadError};
use crate::workers::current::{self, ProcessInfo};
use crate::workers::memory_limit;

/// Serves the parent on `stream`, then exits the process: 0 when the
/// parent closes the socket or asks to shut down, 1 when an initializer
/// or a one-shot call failed, 2 on a protocol error (with a message).
pub(crate) fn run(stream: UnixStream, token: Token) -> ! {
    let code = match serve(&stream, &token) {
        Ok(code) => code,
        Err(why) => {
            eprintln!("corun worker {}: {why}", std::process::id());
            2
        }
    };
    drop(stream);
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    std::process::exit(code)
}

/// The worker's life; the exit code, or a protocol error. A socket that
/// fails while writing means the parent is gone: the worker just exits.
fn serve(stream: &UnixStream, token: &Token) -> Result<i32, String> {
    let null = File::open("/dev/null").map_err(|e| format!("cannot open /dev/null: {e}"))?;
    rustix::stdio::dup2_stdin(&null).map_err(|e| format!("cannot redirect stdin: {e}"))?;
    drop(null);

    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
        .map_err(|e| format!("cannot set the parent-death signal: {e}"))?;
    if getppid().map(|p| p.as_raw_pid()) != i32::try_from(token.parent_pid).ok() {
        // The parent died before the signal was set: nobody to serve.
        return Ok(0);
    }

    let hello = Hello::new(token).map_err(|e| format!("cannot stat the executable: {e}"))?;
    if wire::send_all(stream, &wire::encode(Kind::Hello, &hello)?).is_err() {
        return Ok(0);
    }

    let mut reader = FrameReader::new(crate::crossing::wire::SPIN);
    // Descriptors sent with calls (and with the setup, for the
    // initializer), until their call takes them.
    let mut fds = FdQueue::default();
    let setup: Setup = match reader.read_receiving(stream, None, &mut fds) {
        Ok(f) if f.kind == Kind::Setup => {
            postcard::from_bytes(f.payload).map_err(|e| format!("bad setup frame: {e}"))?
        }
        Ok(f) => return Err(format!("expected a setup frame, got {:?}", f.kind)),
        // Refused by the parent, or the parent went away.
        Err(ReadError::Closed) => return Ok(0),
        Err(e) => return Err(format!("reading the setup: {e:?}")),
    };
    current::set_worker(
        setup.name.clone(),
        ProcessInfo::new(setup.parent_name.clone(), token.parent_pid),
    );
    name_the_worker_in_panics(setup.name.clone());
    // The ring of claims came first, in a batch of its own.
    let claims = if setup.revocable {
        let fd = fds
            .take(1)
            .map_err(|why| format!("the ring of claims: {why}"))?;
        Some(Claims::attach(&fd[0]).map_err(|e| format!("cannot map the ring of claims: {e}"))?)
    } else {
        None
    };

    let mut out = Vec::with_capacity(4096);
    if let Err(why) = start_up(&setup, stream, &mut fds, &mut out) {
        let _ = send(stream, &wire::frame(Kind::InitFailed, why.as_bytes())?);
        return Ok(1);
    }
    if send(stream, &wire::frame(Kind::Ready, &[])?).is_err() {
        return Ok(0);
    }

    loop {
        let frame = match reader.read_receiving(stream, None, &mut fds) {
            Ok(frame) => frame,
            Err(ReadError::Closed) => return Ok(0),
            Err(e) => return Err(format!("reading a call: {e:?}")),
        };
        match frame.kind {
            Kind::Call => {
                let call = CallFrame::parse(frame.payload).ok_or("a call frame too short")?;
                if let Some(claims) = &claims {
                    if claims.claim(call.id)? == Claim::Skip {
                        // Taken back: no reply. Its descriptors are closed.
                        if call.fds > 0 {
                            drop(fds.take(call.fds));
                        }
                        continue;
                    }
                }
                let returned = dispatch(&call, &mut fds, &mut out);
                let code = i32::from(!returned);
                if send(stream, &out).is_err() {
                    return Ok(code);
                }
                if setup.one_shot {
                    return Ok(code);
                }
            }
            Kind::Shutdown => return Ok(0),
            other => return Err(format!("unexpected {other:?} frame")),
        }
    }
}

/// Writes `frame` to the parent, marked as a write in progress for the
/// memory limit's abort handler.
fn send(stream: &UnixStream, frame: &[u8]) -> io::Result<()> {
    memory_limit::writing(true);
    let sent = wire::send_all(stream, frame);
    memory_limit::writing(false);
    sent
}

/// Applies the memory limit and runs the initializer.
fn start_up(
    setup: &Setup,
    stream: &UnixStream,
    fds: &mut FdQueue,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    if let Some(limit) = setup.memory_limit {
        memory_limit::apply(limit, stream.as_fd())?;
    }
    if let Some(payload) = &setup.initializer {
        let call = CallFrame::parse(payload).ok_or("an initializer frame too short")?;
        execute(&call, fds, out).map_err(|(_, why)| format!("the initializer failed: {why}"))?;
    }
    Ok(())
}

/// Runs `call` and leaves its reply frame in `out`; whether it returned.
fn dispatch(call: &CallFrame<'_>, fds: &mut FdQueue, out: &mut Vec<u8>) -> bool {
    match execute(call, fds, out) {
        Ok(()) => true,
        Err((kind, message)) => {
            wire::begin(out, kind);
            out.extend_from_slice(&call.id.to_le_bytes());
            out.extend_from_slice(message.as_bytes());
            if wire::finish(out).is_err() {
                // A message over 256 MiB: say so instead.
                wire::begin(out, kind);
                out.extend_from_slice(&call.id.to_le_bytes());
                out.extend_from_slice(b"(message too long to send)");
                let _ = wire::finish(out);
            }
            false
        }
    }
}

/// Makes a panic message name this worker process: the default message
/// ("thread 'main' panicked at …") on the shared standard error would
/// otherwise read as if the parent had crashed.
fn name_the_worker_in_panics(name: String) {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("corun worker process {} ({name}):", std::process::id());
        report(info);
    }));
}

/// Runs `call`, catching its panic, with its descriptors (taken from
/// `fds`) installed for its argument's `Connection`s. On success `out`
/// holds the whole `Returned` frame; on failure the reply kind and its
/// message.
fn execute(
    call: &CallFrame<'_>,
    fds: &mut FdQueue,
    out: &mut Vec<u8>,
) -> Result<(), (Kind, String)> {
    if call.fds > 0 {
        let taken = fds.take(call.fds).map_err(|why| {
            (
                Kind::Serialization,
                format!("cannot decode the argument: {why}"),
            )
        })?;
        fd_passing::install(taken);
    }
    let ran = run_caught(call, out);
    if call.fds > 0 {
        // Whatever the argument did not claim (it failed to decode).
        fd_passing::discard();
    }
    ran
}

/// Runs `call`, catching its panic (see [`execute`]).
fn run_caught(call: &CallFrame<'_>, out: &mut Vec<u8>) -> Result<(), (Kind, String)> {
    wire::begin(out, Kind::Returned);
    out.extend_from_slice(&call.id.to_le_bytes());
    memory_limit::before_call();
    let ran = catch_unwind(AssertUnwindSafe(|| {
        code_address::run(
            call.trampoline,
            call.fingerprint,
            call.function,
            call.args,
            out,
        )
    }));
    match ran {
        Ok(Ok(())) => wire::finish(out)
            .map_err(|e| (Kind::Serialization, format!("cannot send the result: {e}"))),
        Ok(Err(CallFailure::TypeMismatch(m))) => Err((Kind::Rejected, m)),
        Ok(Err(CallFailure::Argument(m))) => Err((
            Kind::Serialization,
            format!("cannot decode the argument: {m}"),
        )),
        Ok(Err(CallFailure::Result(m))) => Err((
            Kind::Serialization,
            format!("cannot encode the result: {m}"),
        )),
        Err(payload) => Err((Kind::Panicked, corun_core::panic::message(&*payload))),
    }
}
