//! The OpenCL devices of this machine: [`devices`], [`default_device`],
//! and what each can do ([`Device`]).

use std::fmt;

use parking_lot::Mutex;

use opencl3::device::{
    CL_DEVICE_TYPE_ACCELERATOR, CL_DEVICE_TYPE_ALL, CL_DEVICE_TYPE_CPU, CL_DEVICE_TYPE_GPU,
    Device as ClDevice,
};
use opencl3::platform::get_platforms;
use opencl3::types::cl_device_id;

/// The environment variable that picks [`default_device`]: a device's
/// index in [`devices`] or a part of its name.
pub const DEVICE_ENV: &str = "CORUN_GPU_DEVICE";

/// What kind of processor an OpenCL device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceKind {
    /// A graphics processor.
    Gpu,
    /// The host's own processor, through an OpenCL CPU runtime such as
    /// PoCL.
    Cpu,
    /// A dedicated accelerator (an FPGA, a DSP).
    Accelerator,
    /// Anything else (a custom device).
    Other,
}

/// An OpenCL device and what it can do (PyOpenCL's `cl.Device`), as
/// [`devices`] found it.
///
/// Two `Device`s are equal when they name the same OpenCL device.
///
/// ```
/// for device in corun::gpu::devices() {
///     assert!(device.compute_units() >= 1);
///     assert!(!device.name().is_empty());
///     println!("{device}");
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Device {
    id: DeviceId,
    index: usize,
    name: String,
    kind: DeviceKind,
    platform: String,
    vendor: String,
    version: String,
    driver_version: String,
    compute_units: u32,
    global_memory: u64,
    max_alloc: u64,
    max_work_group_size: usize,
    max_work_item_sizes: Vec<usize>,
    fp64: bool,
    int64_atomics: bool,
}

/// A device's OpenCL id, which may cross threads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceId(pub(crate) cl_device_id);

// SAFETY: an OpenCL device id is an opaque handle owned by the runtime for
// the life of the process (root devices are never released); every OpenCL
// call that takes one is thread-safe (OpenCL 3.0 §A.2, "Multiple Host
// Threads").
#[allow(unsafe_code)]
unsafe impl Send for DeviceId {}
// SAFETY: as for `Send`: the handle is only ever passed to thread-safe
// OpenCL calls, never dereferenced here.
#[allow(unsafe_code)]
unsafe impl Sync for DeviceId {}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:p}", self.0)
    }
}

/// Every OpenCL device of every platform, in platform order (PyOpenCL:
/// `[d for p in cl.get_platforms() for d in p.get_devices()]`).
///
/// Never panics and never fails: with no OpenCL runtime on the machine
/// (no `libOpenCL.so.1`, which is loaded when this is first called), or
/// none that works, the list is empty. A platform or device that cannot
/// answer is left out.
///
/// ```
/// let devices = corun::gpu::devices();
/// for (i, device) in devices.iter().enumerate() {
///     assert_eq!(device.index(), i);
/// }
/// ```
pub fn devices() -> Vec<Device> {
    if !cl3::is_opencl_runtime_available() {
        return Vec::new();
    }
    // One enumeration at a time: PoCL initialises its devices during the
    // first clGetPlatformIDs, and a second thread that asks a device's name
    // meanwhile reads a half-made device and crashes.
    static ENUMERATING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = ENUMERATING.lock();
    let Ok(platforms) = get_platforms() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for platform in platforms {
        let platform_name = platform.name().unwrap_or_default();
        let Ok(ids) = platform.get_devices(CL_DEVICE_TYPE_ALL) else {
            continue; // CL_DEVICE_NOT_FOUND: a platform without devices
        };
        for id in ids {
            if let Some(device) = Device::query(id, found.len(), &platform_name) {
                found.push(device);
            }
        }
    }
    found
}

/// The device corun runs GPU work on when none is named: the one the
/// `CORUN_GPU_DEVICE` environment variable picks (its index in
/// [`devices`], or a case-insensitive part of its name), else the first
/// GPU, else the first OpenCL CPU device (such as PoCL), else any device;
/// `None` with no OpenCL device at all, or when `CORUN_GPU_DEVICE` names
/// none (`CORUN_GPU_DEVICE=none` asks for no device), which is where a
/// caller falls back to running on the CPU without OpenCL.
///
/// ```
/// use corun::gpu::{GpuExecutor, default_device};
///
/// if let Some(device) = default_device() {
///     let gpu = GpuExecutor::on(&device).unwrap();
///     assert_eq!(gpu.device(), &device);
/// }
/// ```
pub fn default_device() -> Option<Device> {
    let all = devices();
    match std::env::var(DEVICE_ENV) {
        Ok(wanted) if !wanted.trim().is_empty() => pick(all, wanted.trim()),
        _ => preferred(all),
    }
}

/// The device `wanted` names: an index, or a part of a name.
fn pick(all: Vec<Device>, wanted: &str) -> Option<Device> {
    if let Ok(index) = wanted.parse::<usize>() {
        return all.into_iter().nth(index);
    }
    let wanted = wanted.to_lowercase();
    all.into_iter()
        .find(|d| d.name.to_lowercase().contains(&wanted))
}

/// A GPU, else a CPU device, else anything.
fn preferred(all: Vec<Device>) -> Option<Device> {
    let rank = |d: &Device| match d.kind {
        DeviceKind::Gpu => 0,
        DeviceKind::Cpu => 1,
        _ => 2,
    };
    all.into_iter().min_by_key(rank) // the first of the best kind
}

impl Device {
    /// Reads a device's properties; `None` if it does not answer.
    fn query(id: cl_device_id, index: usize, platform: &str) -> Option<Self> {
        let device = ClDevice::new(id);
        let kind = device.dev_type().ok()?;
        let kind = if kind & CL_DEVICE_TYPE_GPU != 0 {
            DeviceKind::Gpu
        } else if kind & CL_DEVICE_TYPE_CPU != 0 {
            DeviceKind::Cpu
        } else if kind & CL_DEVICE_TYPE_ACCELERATOR != 0 {
            DeviceKind::Accelerator
        } else {
            DeviceKind::Other
        };
        let extensions = device.extensions().unwrap_or_default();
        let has = |ext: &str| extensions.split_whitespace().any(|e| e == ext);
        Some(Self {
            id: DeviceId(id),
            index,
            name: device.name().ok()?.trim().to_owned(),
            kind,
            platform: platform.trim().to_owned(),
            vendor: device.vendor().unwrap_or_default().trim().to_owned(),
            version: device.version().unwrap_or_default().trim().to_owned(),
            driver_version: device
                .driver_version()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            compute_units: device.max_compute_units().ok()?,
            global_memory: device.global_mem_size().ok()?,
            max_alloc: device.max_mem_alloc_size().ok()?,
            max_work_group_size: device.max_work_group_size().ok()?,
            max_work_item_sizes: device.max_work_item_sizes().ok()?,
            fp64: has("cl_khr_fp64") || device.double_fp_config().is_ok_and(|c| c != 0),
            int64_atomics: has("cl_khr_int64_base_atomics"),
        })
    }

    /// The device's position in [`devices`].
    pub fn index(&self) -> usize {
        self.index
    }

    /// The device's name, as its driver gives it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What kind of processor it is.
    pub fn kind(&self) -> DeviceKind {
        self.kind
    }

    /// The name of the OpenCL platform (the driver) it belongs to:
    /// "Portable Computing Language", "NVIDIA CUDA".
    pub fn platform(&self) -> &str {
        &self.platform
    }

    /// The device's vendor.
    pub fn vendor(&self) -> &str {
        &self.vendor
    }

    /// The OpenCL version the device supports ("OpenCL 3.0 …").
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The driver's version.
    pub fn driver_version(&self) -> &str {
        &self.driver_version
    }

    /// How many compute units (streaming multiprocessors, CPU cores) it
    /// has.
    pub fn compute_units(&self) -> u32 {
        self.compute_units
    }

    /// Its global memory, in bytes.
    pub fn global_memory(&self) -> u64 {
        self.global_memory
    }

    /// The largest single buffer it can allocate, in bytes.
    pub fn max_alloc(&self) -> u64 {
        self.max_alloc
    }

    /// The most work-items a work-group may have.
    pub fn max_work_group_size(&self) -> usize {
        self.max_work_group_size
    }

    /// The most work-items a work-group may have in each dimension.
    pub fn max_work_item_sizes(&self) -> &[usize] {
        &self.max_work_item_sizes
    }

    /// Whether kernels may use `double`.
    pub fn fp64(&self) -> bool {
        self.fp64
    }

    /// Whether kernels may use 64-bit atomics on global memory
    /// (`cl_khr_int64_base_atomics`).
    pub fn int64_atomics(&self) -> bool {
        self.int64_atomics
    }

    pub(crate) fn id(&self) -> DeviceId {
        self.id
    }
}

impl PartialEq for Device {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Device {}

impl fmt::Display for Device {
    /// `name (kind, platform)`, e.g. `NVIDIA H200 (GPU, NVIDIA CUDA)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            DeviceKind::Gpu => "GPU",
            DeviceKind::Cpu => "CPU",
            DeviceKind::Accelerator => "accelerator",
            DeviceKind::Other => "device",
        };
        write!(f, "{} ({kind}, {})", self.name, self.platform)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(index: usize, name: &str, kind: DeviceKind) -> Device {
        Device {
            id: DeviceId(std::ptr::without_provenance_mut(index + 1)),
            index,
            name: name.to_owned(),
            kind,
            platform: "test".to_owned(),
            vendor: String::new(),
            version: String::new(),
            driver_version: String::new(),
            compute_units: 1,
            global_memory: 1,
            max_alloc: 1,
            max_work_group_size: 1,
            max_work_item_sizes: vec![1],
            fp64: false,
            int64_atomics: false,
        }
    }

    fn three() -> Vec<Device> {
        vec![
            fake(0, "pthread-skylake", DeviceKind::Cpu),
            fake(1, "NVIDIA H200", DeviceKind::Gpu),
            fake(2, "Other GPU", DeviceKind::Gpu),
        ]
    }

    #[test]
    fn a_gpu_comes_first_then_a_cpu() {
        assert_eq!(preferred(three()).unwrap().index(), 1);
        assert_eq!(preferred(three()[..1].to_vec()).unwrap().index(), 0);
        assert!(preferred(Vec::new()).is_none());
    }

    #[test]
    fn the_variable_names_an_index_or_part_of_a_name() {
        assert_eq!(pick(three(), "0").unwrap().index(), 0);
        assert_eq!(pick(three(), "h200").unwrap().index(), 1);
        assert_eq!(pick(three(), "other").unwrap().index(), 2);
        assert!(pick(three(), "7").is_none());
        assert!(pick(three(), "none").is_none());
    }
}
