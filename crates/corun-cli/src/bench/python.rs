//! Running a Python peer script in the same invocation.
//!
//! The scripts are embedded in the binary and fed to `python3 -` on stdin,
//! so `corun bench` works from any directory.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::Context;

/// Runs `script` with `args` under `python3` and parses the JSON object it
/// prints. `Ok(None)` with a reason when python3 is not installed.
pub(crate) fn run_script(
    script: &str,
    args: &[String],
) -> anyhow::Result<Result<serde_json::Value, String>> {
    let mut child = match Command::new("python3")
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
