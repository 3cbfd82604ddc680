//! Worker processes from the test binary, and the NATS server of
//! `corun_test_support::nats`.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};

pub(crate) use corun_test_support::nats::{NatsServer, free_port};

/// Worker processes: this test binary, running only the test named
/// `entry`, with `CORUN_CLUSTER_WORKER` set to `url`.
pub(crate) struct Workers {
    children: Vec<Child>,
}

impl Workers {
    pub(crate) fn start(url: &str, entry: &str, count: usize) -> Self {
        Self::start_with(url, entry, count, None)
    }

    /// `count` workers running `processes` tasks at once each (default:
    /// the CPUs).
    pub(crate) fn start_with(
        url: &str,
        entry: &str,
        count: usize,
        processes: Option<usize>,
    ) -> Self {
        let exe = std::env::current_exe().expect("the test binary");
        let children = (0..count)
            .map(|_| {
                let mut command = Command::new(&exe);
                if let Some(n) = processes {
                    command.env(corun_cluster::PROCESSES_ENV, n.to_string());
                }
                command
                    .args([
                        entry,
                        "--exact",
                        "--ignored",
                        "--nocapture",
                        "--test-threads",
                        "1",
                    ])
                    .env(corun_cluster::WORKER_ENV, url)
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("a worker starts")
            })
            .collect();
        Self { children }
    }

    pub(crate) fn pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::id).collect()
    }

    /// SIGKILLs the worker with process id `pid` (its local pool's
    /// processes die with it).
    pub(crate) fn kill(&mut self, pid: u32) {
        let child = self
            .children
            .iter_mut()
            .find(|c| c.id() == pid)
            .expect("one of these workers");
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Sends `signal` (`STOP`, `CONT`, …) to process `pid`.
pub(crate) fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid}");
}

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
