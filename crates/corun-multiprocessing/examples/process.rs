//! Python's first `multiprocessing` example, in Rust: start a process,
//! join it, get its result.
//!
//! ```text
//! cargo run -p corun-multiprocessing --example process
//! ```

use corun_multiprocessing::{Process, current_process, parent_process};

fn greet(name: String) -> String {
    let parent = parent_process().map_or(0, |p| p.pid());
    format!(
        "hello {name}, from {} (pid {}, parent {parent})",
        current_process().name(),
        std::process::id(),
    )
}

fn main() {
    // First thing in main: in a worker, this serves the parent and exits.
    corun_multiprocessing::init();

    let p = Process::builder()
        .name("greeter")
        .start(greet, "bob".to_owned())
        .unwrap();
    println!("started {} (pid {})", p.name(), p.pid());
    println!("{}", p.join().unwrap());
}
