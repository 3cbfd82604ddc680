//! `corun gpu`: the OpenCL devices `corun::gpu` sees, what each can do,
//! and which one it runs on when none is named.

use std::io::Write;

use corun::gpu::{DEVICE_ENV, Device, DeviceKind, default_device, devices};

pub(crate) fn run() -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let all = devices();
    let chosen = default_device();
    let env = std::env::var(DEVICE_ENV).ok();
    if all.is_empty() {
        writeln!(out, "no OpenCL device (corun's CPU fallback is used)")?;
        return Ok(());
    }
    for device in &all {
        write_device(&mut out, device)?;
    }
    let why = match env.as_deref().map(str::trim) {
        Some(wanted) if !wanted.is_empty() => format!("{DEVICE_ENV}={wanted}"),
        _ => format!("{DEVICE_ENV} unset: the first GPU, else the first CPU device"),
    };
    match chosen {
        Some(device) => writeln!(
            out,
            "default device: [{}] {} ({why})",
            device.index(),
            device.name()
        )?,
        None => writeln!(
            out,
            "default device: none ({why}); corun's CPU fallback is used"
        )?,
    }
    Ok(())
}

/// One device: a heading line, then its figures indented.
fn write_device(out: &mut impl Write, device: &Device) -> std::io::Result<()> {
    writeln!(out, "[{}] {}", device.index(), device.name())?;
    writeln!(out, "    kind:                {}", kind(device.kind()))?;
    writeln!(out, "    platform:            {}", device.platform())?;
    writeln!(out, "    version:             {}", device.version())?;
    writeln!(out, "    compute units:       {}", device.compute_units())?;
    writeln!(
        out,
        "    global memory:       {}",
        crate::human::bytes(device.global_memory())
    )?;
    writeln!(
        out,
        "    max work-group size: {}",
        device.max_work_group_size()
    )?;
    writeln!(out, "    fp64:                {}", yes_no(device.fp64()))?;
    writeln!(
        out,
        "    int64 atomics:       {}",
        yes_no(device.int64_atomics())
    )
}

fn kind(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Gpu => "GPU",
        DeviceKind::Cpu => "CPU",
        DeviceKind::Accelerator => "accelerator",
        _ => "other",
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
