//! The `corun` command: runs the classic concurrency experiments and demos.
//!
//! `main` turns worker processes over to `corun::multiprocessing`, parses
//! the command line and maps the outcome to an exit code; the work lives in
//! the `demo` and `bench` modules.

// Denied, not forbidden: `advise` needs two libc calls std lacks (`wait4`
// for the command's resource usage, `signal` to outlive Ctrl-C), allowed in
// their own small module, `advise::sys`, and nowhere else.
#![deny(unsafe_code)]

mod advise;
mod bench;
mod cli;
mod cluster;
mod demo;
mod gpu;
mod human;
mod pages;
mod sys;
mod workload;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // First: in a worker process started by a process pool, this serves
    // the pool and never returns.
    corun::multiprocessing::init();
    // Started with CORUN_CLUSTER_WORKER=nats://…, this serves the cluster.
    corun::cluster::worker_from_env();
    let cli = cli::Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("corun: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<()> {
    match cli.command {
        cli::Command::Bench(args) => bench::run(&args),
        cli::Command::Demo { demo } => demo::run(demo),
        cli::Command::Gpu => gpu::run(),
        cli::Command::Advise { command } => advise::run(&command),
        cli::Command::Cluster { action } => cluster::run(action),
    }
}
