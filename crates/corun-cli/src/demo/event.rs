//! A worker waits for an event; the main thread sets it after some work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use corun::threading::{Event, Thread};

pub(crate) fn run() -> anyhow::Result<()> {
    let ready = Arc::new(Event::new());
    let waiter = {
        let ready = Arc::clone(&ready);
        Thread::builder().name("waiter").spawn(move || {
            let start = Instant::now();
            let mut checks = 0;
            while !ready.wait_timeout(Duration::from_millis(40)) {
                checks += 1;
                println!("waiter: not set yet ({checks} check(s)), waiting again");
            }
            println!("waiter: event set after {:?}, going on", start.elapsed());
        })?
    };
    println!("main: preparing data");
    std::thread::sleep(Duration::from_millis(100));
    println!("main: data ready, setting the event");
    ready.set();
    waiter.join()?;
    ready.clear();
    println!("main: event cleared, is_set = {}", ready.is_set());
    Ok(())
}
