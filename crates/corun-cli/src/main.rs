//! The `corun` command: runs the classic concurrency experiments and demos.
//!
//! `main` only parses the command line and maps the outcome to an exit code;
//! the work lives in the `demo` and `bench` modules.

#![forbid(unsafe_code)]

mod bench;
mod cli;
mod demo;
mod workload;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
    }
}
