//! `--timeline DIR`: every recorded mode of the seeds' workloads written
//! as an SVG timing diagram and a Chrome trace (JSON), named after the
//! experiment and the mode (`cpu-threads.svg`, `io-asyncio.json`) — the
//! classic pictures of a sequential, a threaded, a multi-process and an
//! event-loop run side by side.

use std::path::Path;

use anyhow::Context;

use super::workloads::Workload;

/// Writes `<stem>.svg` and `<stem>.json` for each recorded mode.
pub(crate) fn write_all(dir: &Path, workloads: &[Workload]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = 0;
    for mode in workloads.iter().flat_map(|w| &w.modes) {
        let Some(rec) = &mode.recorded else { continue };
        let svg = dir.join(format!("{}.svg", rec.stem));
        let json = dir.join(format!("{}.json", rec.stem));
        rec.timeline
            .write_svg(&svg, &rec.title)
            .with_context(|| format!("writing {}", svg.display()))?;
        rec.timeline
            .write_chrome_json(&json)
            .with_context(|| format!("writing {}", json.display()))?;
        written += 1;
    }
    eprintln!(
        "corun bench: wrote {written} timing diagram(s) (SVG and Chrome JSON) to {}",
        dir.display()
    );
    Ok(())
}
