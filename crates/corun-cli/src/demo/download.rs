//! The classic I/O-bound example: download pages from a slow web server
//! (a local one that answers each after 50 ms), one by one, then on a
//! `ThreadPoolExecutor`, then as `corun::asyncio` tasks on one thread, with
//! the times. Waiting is what takes the time, so threads help as far as
//! there are threads, and one event loop waits for every page at once.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use corun::concurrent::{Executor, ThreadPoolExecutor};

use crate::pages::{LATENCY, PageServer, fetch_asyncio, fetch_blocking};

const PAGES: usize = 20;
const THREADS: usize = 5;

pub(crate) fn run() -> anyhow::Result<()> {
    let server = PageServer::start()?;
    let port = server.port();
    println!(
        "a web server answers each page ({} …) after {LATENCY:?}; fetching {PAGES} pages",
        server.url(0)
    );
    let agent = ureq::Agent::new_with_defaults();

    let start = Instant::now();
    for n in 0..PAGES {
        fetch_blocking(&agent, port, n)?;
    }
    let sequential = start.elapsed();
    println!(
        "sequential:             {:>6.0} ms  (one page after the other)",
        ms(sequential)
    );

    let start = Instant::now();
    let pool = ThreadPoolExecutor::builder().max_workers(THREADS).build()?;
    let a = agent.clone();
    let bytes: usize = pool
        .map(move |n| fetch_blocking(&a, port, n), 0..PAGES)
        .map(|r| r?)
        .sum::<anyhow::Result<usize>>()?;
    pool.shutdown(true, false);
    let threaded = start.elapsed();
    println!(
        "ThreadPoolExecutor({THREADS}):  {:>6.0} ms  ({THREADS} pages at a time, {bytes} bytes)",
        ms(threaded)
    );

    let start = Instant::now();
    let arrivals = Rc::new(RefCell::new(Vec::new()));
    let log = arrivals.clone();
    corun::asyncio::run(async move {
        let tasks: Vec<_> = (0..PAGES)
            .map(|n| {
                let log = log.clone();
                corun::asyncio::create_task(async move {
                    let len = fetch_asyncio(port, n).await?;
                    log.borrow_mut().push((n, start.elapsed()));
                    anyhow::Ok(len)
                })
            })
            .collect();
        println!("asyncio: {PAGES} tasks started on one thread; each waits for its page");
        for task in tasks {
            task.await??;
        }
        anyhow::Ok(())
    })??;
    let looped = start.elapsed();
    let arrivals = arrivals.borrow();
    let shown: Vec<String> = arrivals
        .iter()
        .take(5)
        .map(|(n, at)| format!("page {n} at {:.0} ms", ms(*at)))
        .collect();
    println!("  pages arrived: {}, …", shown.join(", "));
    println!(
        "asyncio (one thread):   {:>6.0} ms  (all {PAGES} pages at once)",
        ms(looped)
    );
    println!(
        "speedups over sequential: threads {:.1}×, asyncio {:.1}×",
        sequential.as_secs_f64() / threaded.as_secs_f64(),
        sequential.as_secs_f64() / looped.as_secs_f64()
    );
    Ok(())
}

/// A duration in milliseconds, for printing.
fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
