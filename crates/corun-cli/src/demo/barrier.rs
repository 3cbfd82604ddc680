//! Two threads that work for different times and meet at a barrier twice.

use std::sync::Arc;
use std::time::Duration;

use corun::threading::{Barrier, Thread};

const ROUNDS: usize = 2;

pub(crate) fn run() -> anyhow::Result<()> {
    let barrier = Arc::new(
        Barrier::builder(2)
            .action(|| println!("-- both arrived: the barrier opens --"))
            .timeout(Duration::from_secs(10))
            .build()?,
    );
    let workers = [("P1", 50), ("P2", 150)].map(|(name, work_ms)| {
        let barrier = Arc::clone(&barrier);
        Thread::builder()
            .name(name)
            .spawn(move || -> Result<(), corun::threading::Error> {
                for round in 0..ROUNDS {
                    println!("{name} is running for {round}-th time");
                    std::thread::sleep(Duration::from_millis(work_ms));
                    println!("{name} is waiting at the barrier");
                    let index = barrier.wait()?;
                    println!("{name} passed the barrier (arrived {})", index + 1);
                }
                println!("{name} is finished");
                Ok(())
            })
    });
    for worker in workers {
        worker?.join()??;
    }
    Ok(())
}
