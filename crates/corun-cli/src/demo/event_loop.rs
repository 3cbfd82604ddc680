//! Cooperative tasks taking turns on one event loop: each prints a step and
//! gives up control with `sleep(0)`; one sleeps on a timer meanwhile. The
//! loop's recorder shows afterwards which steps it ran, in which order.

use std::time::{Duration, Instant};

use corun::asyncio::{EventLoop, Task, create_task_named, sleep};
use corun::trace::Recorder;

/// Steps per turn-taking task.
const STEPS: usize = 3;
/// How long the sleeper waits on its timer.
const NAP: Duration = Duration::from_millis(20);

pub(crate) fn run() -> anyhow::Result<()> {
    println!("Tasks A, B and C each print a step, then `sleep(0)`: that hands control");
    println!("back to the loop, which runs the next ready task, first come first served.");
    println!("The sleeper awaits `sleep({NAP:?})`: a timer, during which the others run.\n");

    let event_loop = EventLoop::new()?;
    let rec = Recorder::new();
    event_loop.set_recorder(rec.clone());
    let main = event_loop.create_task_named("main", async {
        let sleeper = create_task_named("sleeper", async {
            println!("sleeper: going to sleep for {NAP:?}");
            let start = Instant::now();
            sleep(NAP).await;
            println!(
                "sleeper: woke after {:.1} ms — the loop had nothing ready, so it waited for this timer",
                start.elapsed().as_secs_f64() * 1e3
            );
        });
        let workers: Vec<Task<()>> = ["A", "B", "C"]
            .into_iter()
            .map(|name| {
                create_task_named(name, async move {
                    for step in 1..=STEPS {
                        println!("{name}: step {step} of {STEPS}");
                        if step < STEPS {
                            sleep(Duration::ZERO).await;
                        }
                    }
                })
            })
            .collect();
        sleeper.await?;
        for worker in workers {
            worker.await?;
        }
        Ok::<(), corun::Error>(())
    });
    let lp = event_loop.clone();
    main.add_done_callback(move |_| lp.stop());
    event_loop.run_forever()?;
    main.result()??;
    event_loop.close()?;

    let mut steps = rec.timeline().tasks().to_vec();
    steps.retain(|s| s.started.is_some());
    steps.sort_by_key(|s| s.started);
    let order: Vec<&str> = steps.iter().map(|s| s.label.as_ref()).collect();
    println!(
        "\nThe loop ran {} task steps, one at a time on one thread:",
        order.len()
    );
    println!("  {}", order.join(" → "));
    println!("main starts the others and waits; each `sleep(0)` sends a task to the back");
    println!("of the ready queue, so A, B and C alternate; the sleeper's timer fires last.");
    Ok(())
}
