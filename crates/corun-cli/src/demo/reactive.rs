//! A stream of sensor readings on the event loop, composed with operators
//! (RxPY's classic example): `debounce` keeps the last reading of each
//! burst, `buffer_with_count` groups them in threes, and `scan` keeps a
//! moving average; one `Subject` feeds all three, and the loop's timers
//! drive the debounce.

use std::collections::VecDeque;
use std::time::Duration;

use corun::asyncio::{EventLoop, sleep};
use corun::reactive::{EventLoopScheduler, Subject};

/// The readings, in bursts: a sensor that reports several values quickly,
/// then goes quiet.
const BURSTS: [&[f64]; 3] = [
    &[20.1, 20.4, 20.9],
    &[21.7, 22.0],
    &[22.3, 22.1, 21.8, 21.5],
];
/// Quiet time between bursts.
const PAUSE: Duration = Duration::from_millis(60);
/// How long the stream must be quiet before `debounce` lets the last
/// reading through.
const SETTLE: Duration = Duration::from_millis(20);
/// The moving average's window.
const WINDOW: usize = 3;

pub(crate) fn run() -> anyhow::Result<()> {
    println!("One Subject of readings, three pipelines on the event loop:");
    println!("  debounce({SETTLE:?})     → the settled value of each burst (a loop timer)");
    println!("  buffer_with_count(3) → readings in threes");
    println!("  scan                 → the moving average of the last {WINDOW}\n");

    let event_loop = EventLoop::new()?;
    let scheduler = EventLoopScheduler::new(&event_loop);
    let readings = Subject::<f64>::new();
    let source = readings.observable();

    let settled = source
        .debounce(SETTLE, scheduler)
        .subscribe(|t| println!("  debounce: settled at {t:.1}"));
    let batches = source
        .buffer_with_count(3)
        .subscribe(|batch| println!("  buffer:   {batch:?}"));
    let averages = source
        .scan(VecDeque::new(), |mut last, t| {
            if last.len() == WINDOW {
                last.pop_front();
            }
            last.push_back(t);
            last
        })
        .map(|last| last.iter().sum::<f64>() / last.len() as f64)
        .subscribe(|avg| println!("  scan:     moving average {avg:.2}"));

    let sensor = readings.clone();
    let main = event_loop.create_task(async move {
        for (i, burst) in BURSTS.iter().enumerate() {
            println!("burst {}:", i + 1);
            for &t in *burst {
                println!("reading {t:.1}");
                sensor.on_next(t);
                sleep(Duration::ZERO).await; // a quick succession, no timer due
            }
            sleep(PAUSE).await; // quiet: the debounce timer fires meanwhile
        }
        sensor.on_completed();
        println!("sensor done: every pipeline completes");
    });
    event_loop.run_until_complete(main)??;
    for subscription in [settled, batches, averages] {
        subscription.dispose();
    }
    event_loop.close()?;
    Ok(())
}
