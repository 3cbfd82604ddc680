//! Python's two-producer `Queue` example: one process puts the squares of
//! 0..5, another their cubes, both into one `multiprocessing.Queue`; the
//! parent joins both and then prints all ten values. Python users learn to
//! drain a queue before joining its producers, or the join can hang; here a
//! `put` returns only once the item is in shared memory, so joining first
//! is safe and no item is lost.

use corun::multiprocessing::{Process, Queue};

const NUMBERS: std::ops::Range<u64> = 0..5;

fn squares(queue: Queue<(String, u64)>) {
    for n in NUMBERS {
        queue
            .put((format!("{n}²"), n * n))
            .expect("the queue is open");
    }
}

fn cubes(queue: Queue<(String, u64)>) {
    for n in NUMBERS {
        queue
            .put((format!("{n}³"), n * n * n))
            .expect("the queue is open");
    }
}

pub(crate) fn run() -> anyhow::Result<()> {
    let queue = Queue::new()?;
    let square = Process::builder()
        .name("square")
        .start(squares, queue.clone())?;
    let cube = Process::builder()
        .name("cube")
        .start(cubes, queue.clone())?;
    square.join()?;
    cube.join()?;
    println!(
        "both producers joined; {} values in the queue:",
        queue.qsize()
    );
    let mut values = Vec::new();
    while let Ok((label, value)) = queue.try_get() {
        println!("  {label} = {value}");
        values.push(value);
    }
    values.sort_unstable();
    let mut expected: Vec<u64> = NUMBERS.flat_map(|n| [n * n, n * n * n]).collect();
    expected.sort_unstable();
    anyhow::ensure!(
        values == expected,
        "the values {values:?} are not {expected:?}"
    );
    println!("all ten values arrived");
    Ok(())
}
