//! The classic first `multiprocessing` example: one `Process` per number,
//! each printing its pid and name (the worker's own view, from
//! `current_process()`), and the parent joining them all.

use corun::multiprocessing::{Process, current_process};

/// What each process runs: report where it runs, and square its number.
fn square(n: u64) -> String {
    let me = current_process();
    format!(
        "process {:<10} pid {:>7}: {n}² = {}",
        me.name(),
        me.pid(),
        n * n
    )
}

pub(crate) fn run() -> anyhow::Result<()> {
    let parent = current_process();
    println!("parent {} pid {}", parent.name(), parent.pid());
    let processes = (1..=5)
        .map(|n| {
            Process::builder()
                .name(format!("square-{n}"))
                .start(square, n)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for process in processes {
        let pid = process.pid();
        let line = process.join()?;
        anyhow::ensure!(
            line.contains(&format!("pid {pid:>7}")),
            "pid mismatch: {line}"
        );
        println!("{line}");
    }
    println!("all processes joined");
    Ok(())
}
