//! The devices OpenCL lists, the default device, and what a machine with
//! no usable device gets (run in a child process with OpenCL's ICD
//! loader pointed at an empty vendor folder, or `CORUN_GPU_DEVICE=none`).

mod common;

use std::process::Command;

use corun::ErrorKind;
use corun::gpu::{DeviceKind, GpuExecutor, default_device, devices};

/// Set in the child processes, which run one test of this file.
const CHILD_ENV: &str = "CORUN_GPU_TEST_CHILD";

#[test]
fn devices_are_listed_with_their_properties() {
    let Some(default) = common::device() else {
        return;
    };
    let all = devices();
    assert!(all.contains(&default));
    for (i, device) in all.iter().enumerate() {
        assert_eq!(device.index(), i);
        assert!(!device.name().is_empty());
        assert!(!device.platform().is_empty());
        assert!(device.compute_units() >= 1);
        assert!(device.global_memory() > 0);
        assert!(device.max_alloc() > 0 && device.max_alloc() <= device.global_memory());
        assert!(device.max_work_group_size() >= 1);
        assert!(!device.max_work_item_sizes().is_empty());
        println!(
            "{i}: {device} — {} compute units, {} MiB, work-groups of {}, fp64 {}, int64 atomics {}, {}",
            device.compute_units(),
            device.global_memory() >> 20,
            device.max_work_group_size(),
            device.fp64(),
            device.int64_atomics(),
            device.version(),
        );
    }
    if !all.iter().any(|d| d.kind() == DeviceKind::Gpu)
        && std::env::var(corun::gpu::DEVICE_ENV).is_err()
    {
        assert_ne!(default.kind(), DeviceKind::Gpu);
    }
}

#[test]
fn the_device_variable_picks_by_index_or_name() {
    let Some(_) = common::device() else { return };
    let all = devices();
    let last = all.last().unwrap();
    let by_index = child(
        "picked_device",
        &[("CORUN_GPU_DEVICE", &last.index().to_string())],
    );
    assert!(
        by_index.contains(&format!("picked {}", last.index())),
        "{by_index}"
    );
    let part = &last.name()[..last.name().len().min(6)].to_uppercase();
    let by_name = child("picked_device", &[("CORUN_GPU_DEVICE", part)]);
    assert!(by_name.contains("picked "), "{by_name}");
}

#[test]
fn no_device_gives_none_and_a_clear_error() {
    let out = child("no_device_child", &[("CORUN_GPU_DEVICE", "none")]);
    assert!(
        out.contains("names no OpenCL device")
            || out.contains("no OpenCL runtime")
            || out.contains("lists no device"),
        "{out}"
    );
    let empty = std::env::temp_dir().join(format!("corun-gpu-no-vendors-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = child(
        "no_device_child",
        &[("OCL_ICD_VENDORS", empty.to_str().unwrap())],
    );
    std::fs::remove_dir(&empty).unwrap();
    assert!(
        out.contains("lists no device") || out.contains("no OpenCL runtime"),
        "{out}"
    );
}

/// Runs `test` of this file in a child process with `env`; its output.
fn child(test: &str, env: &[(&str, &str)]) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child {test} failed: {text}");
    text
}

#[test]
fn picked_device() {
    if std::env::var(CHILD_ENV).is_err() {
        return; // run by the_device_variable_picks_by_index_or_name
    }
    println!("picked {}", default_device().unwrap().index());
}

#[test]
fn no_device_child() {
    if std::env::var(CHILD_ENV).is_err() {
        return; // run by no_device_gives_none_and_a_clear_error
    }
    assert!(default_device().is_none());
    let err = GpuExecutor::new().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoDevice);
    println!("error: {err}");
}
