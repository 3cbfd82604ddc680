//! Running a Python peer script in the same invocation.
//!
//! The scripts are embedded in the binary and fed to `python3 -` on stdin,
//! so `corun bench` works from any directory.
//!
//! # Where the peers' packages are found
//!
//! Some scripts time a package from PyPI when it is importable (pyee for
//! `emit`, reactivex for reactive streams) and fall back to the standard
//! library, saying so, when not. Besides python3's own `site-packages`,
//! the scripts import from, in this order:
//!
//! 1. the folders listed in `CORUN_PYTHON_PATH` (separated as in `PATH`);
//! 2. `target/python-peers`: the folder `python-peers` beside the build's
//!    profile folder of the running binary (`target/release/corun` →
//!    `target/python-peers`), where `.ci/run` installs the peers with
//!    `python3 -m pip install --target target/python-peers …`; do the same
//!    by hand to have them locally;
//! 3. whatever `PYTHONPATH` already holds.

use std::env;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::Context;

/// Runs `script` with `args` under `python3` and parses the JSON object it
/// prints. `Ok(None)` with a reason when python3 is not installed.
pub(crate) fn run_script(
    script: &str,
    args: &[String],
) -> anyhow::Result<Result<serde_json::Value, String>> {
    let mut command = Command::new("python3");
    if let Some(path) = python_path(
        env::var_os(PYTHON_PATH_VAR),
        peers_dir(),
        env::var_os("PYTHONPATH"),
    ) {
        command.env("PYTHONPATH", path);
    }
    let mut child = match command
        .arg("-")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Err("python3 not found".to_owned()));
        }
        Err(e) => return Err(e).context("starting python3"),
    };
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(script.as_bytes())
        .context("sending the script to python3")?;
    let output = child.wait_with_output().context("waiting for python3")?;
    anyhow::ensure!(
        output.status.success(),
        "python peer failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "python peer printed no JSON: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    Ok(Ok(value))
}

/// Extra folders of Python packages for the peer scripts.
pub(crate) const PYTHON_PATH_VAR: &str = "CORUN_PYTHON_PATH";

/// The folder, beside the profile folder, where `.ci/run` installs the
/// peers' packages.
pub(crate) const PEERS_DIR: &str = "python-peers";

/// `target/python-peers` for a binary in `target/<profile>/` (or in
/// `target/<profile>/deps/`), when it exists.
fn peers_dir() -> Option<PathBuf> {
    let exe = env::current_exe().ok()?;
    let mut profile = exe.parent()?;
    if profile.ends_with("deps") {
        profile = profile.parent()?;
    }
    let peers = profile.parent()?.join(PEERS_DIR);
    peers.is_dir().then_some(peers)
}

/// The `PYTHONPATH` of the peer scripts: `extra` (from
/// [`PYTHON_PATH_VAR`]), then `peers`, then `existing`; `None` when all
/// are empty.
fn python_path(
    extra: Option<OsString>,
    peers: Option<PathBuf>,
    existing: Option<OsString>,
) -> Option<OsString> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    dirs.extend(extra.iter().flat_map(env::split_paths));
    dirs.extend(peers);
    dirs.extend(existing.iter().flat_map(env::split_paths));
    dirs.retain(|dir| !dir.as_os_str().is_empty());
    if dirs.is_empty() {
        return None;
    }
    env::join_paths(dirs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_path_puts_the_extra_folders_then_the_peers_then_the_rest() {
        let joined = |dirs: &[&str]| env::join_paths(dirs).unwrap();
        assert_eq!(python_path(None, None, None), None);
        assert_eq!(
            python_path(Some(OsString::new()), None, Some(OsString::new())),
            None
        );
        assert_eq!(
            python_path(
                Some(joined(&["/a", "/b"])),
                Some(PathBuf::from("/target/python-peers")),
                Some(joined(&["/c"])),
            ),
            Some(joined(&["/a", "/b", "/target/python-peers", "/c"]))
        );
        assert_eq!(
            python_path(None, Some(PathBuf::from("/p")), None),
            Some(joined(&["/p"]))
        );
    }
}
