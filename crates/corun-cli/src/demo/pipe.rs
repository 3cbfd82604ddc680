//! Python's `Pipe` example: a child process sends `[42, None, 'hello']`
//! through its end and the parent receives it; then the two ends talk both
//! ways (the parent asks for squares, the child answers), and when the
//! child exits, the parent's next receive reports the closed end instead
//! of hanging.

use corun::ErrorKind;
use corun::multiprocessing::{Connection, Pipe, Process};

/// The child: the classic first message, then squares on request until the
/// parent sends 0.
fn child(conn: Connection) -> u32 {
    conn.send(&(42, None::<i32>, "hello"))
        .expect("the parent's end is open");
    let mut answered = 0;
    while let Ok(n) = conn.recv::<u64>() {
        if n == 0 {
            break;
        }
        conn.send(&(n, n * n)).expect("the parent's end is open");
        answered += 1;
    }
    answered
}

pub(crate) fn run() -> anyhow::Result<()> {
    let (parent, theirs) = Pipe::duplex()?;
    let process = Process::start(child, theirs)?;
    let first: (i32, Option<i32>, String) = parent.recv()?;
    println!("parent received {first:?} from pid {}", process.pid());
    anyhow::ensure!(
        first == (42, None, "hello".to_owned()),
        "wrong first message"
    );
    for n in 1..=5_u64 {
        parent.send(&n)?;
        let (asked, square): (u64, u64) = parent.recv()?;
        anyhow::ensure!(asked == n && square == n * n, "wrong answer for {n}");
        println!("  {n}² = {square}");
    }
    parent.send(&0_u64)?;
    let answered = process.join()?;
    println!("child answered {answered} requests and exited");
    match parent.recv::<u64>() {
        Err(e) if e.kind() == ErrorKind::Closed => {
            println!("parent's next recv: the other end is closed (Python: EOFError), no hang");
        }
        other => anyhow::bail!("expected the closed end, got {other:?}"),
    }
    Ok(())
}
