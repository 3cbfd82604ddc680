//! [`NdRange`]: a launch's global size and work-group size, checked
//! against the device before anything is enqueued.

use corun_core::Error;

use crate::device::Device;
use crate::error::invalid;

/// The work-items of a launch: a global size in one, two or three
/// dimensions, and optionally the work-group ("local") size (PyOpenCL's
/// `global_size` and `local_size`; with none, the driver picks).
///
/// A global size alone converts into an `NdRange`: `n`, `[x, y]`,
/// `[x, y, z]`.
///
/// ```
/// use corun::gpu::NdRange;
///
/// let range = NdRange::new([1024, 768]).local([16, 16]);
/// assert_eq!(range.global(), &[1024, 768]);
/// assert_eq!(range.local_size(), Some(&[16, 16][..]));
/// assert_eq!(NdRange::from(64).global(), &[64]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NdRange {
    global: Dims,
    local: Option<Dims>,
}

/// Sizes in up to three dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dims {
    sizes: [usize; 3],
    count: usize,
}

impl NdRange {
    /// A launch of `global` work-items, work-group size left to the
    /// driver.
    pub fn new(global: impl Into<Dims>) -> Self {
        Self {
            global: global.into(),
            local: None,
        }
    }

    /// This range with work-groups of `local` work-items (as many
    /// dimensions as the global size; each global size a multiple of it).
    pub fn local(mut self, local: impl Into<Dims>) -> Self {
        self.local = Some(local.into());
        self
    }

    /// The global size, one entry per dimension.
    pub fn global(&self) -> &[usize] {
        self.global.as_slice()
    }

    /// The work-group size, if one was given.
    pub fn local_size(&self) -> Option<&[usize]> {
        self.local.as_ref().map(Dims::as_slice)
    }

    /// The number of dimensions.
    pub fn dimensions(&self) -> usize {
        self.global.count
    }

    /// The work-group size's entries, if one was given, for the driver.
    pub(crate) fn local_dims(&self) -> Option<&[usize]> {
        self.local_size()
    }

    /// Checks the range against `device` and the kernel's own work-group
    /// limit (`kernel_group`, from `CL_KERNEL_WORK_GROUP_SIZE`).
    pub(crate) fn check(
        &self,
        device: &Device,
        kernel: &str,
        kernel_group: usize,
    ) -> Result<(), Error> {
        let global = self.global();
        let device_dims = device.max_work_item_sizes().len().max(1);
        if global.len() > device_dims {
            return Err(invalid(format!(
                "kernel `{kernel}`: {} dimensions, but {} has {device_dims}",
                global.len(),
                device.name()
            )));
        }
        if let Some(d) = global.iter().position(|&g| g == 0) {
            return Err(invalid(format!(
                "kernel `{kernel}`: the global work size is zero in dimension {d}"
            )));
        }
        let Some(local) = self.local_size() else {
            return Ok(());
        };
        if local.len() != global.len() {
            return Err(invalid(format!(
                "kernel `{kernel}`: the work-group size has {} dimensions, the global size {}",
                local.len(),
                global.len()
            )));
        }
        if let Some(d) = local.iter().position(|&l| l == 0) {
            return Err(invalid(format!(
                "kernel `{kernel}`: the work-group size is zero in dimension {d}"
            )));
        }
        for (d, (&l, &most)) in local.iter().zip(device.max_work_item_sizes()).enumerate() {
            if l > most {
                return Err(invalid(format!(
                    "kernel `{kernel}`: a work-group of {l} in dimension {d} is more than {} allows ({most})",
                    device.name()
                )));
            }
        }
        let group: usize = local
            .iter()
            .try_fold(1_usize, |p, &l| p.checked_mul(l))
            .unwrap_or(usize::MAX);
        let most = device.max_work_group_size().min(kernel_group.max(1));
        if group > most {
            return Err(invalid(format!(
                "kernel `{kernel}`: a work-group of {group} work-items is more than {} allows \
                 for this kernel ({most})",
                device.name()
            )));
        }
        for (d, (&g, &l)) in global.iter().zip(local).enumerate() {
            if g % l != 0 {
                return Err(invalid(format!(
                    "kernel `{kernel}`: the global work size {g} is not a multiple of the \
                     work-group size {l} in dimension {d}"
                )));
            }
        }
        Ok(())
    }
}

impl Dims {
    /// The sizes, one per dimension.
    pub fn as_slice(&self) -> &[usize] {
        &self.sizes[..self.count]
    }
}

impl From<usize> for Dims {
    fn from(n: usize) -> Self {
        Self {
            sizes: [n, 1, 1],
            count: 1,
        }
    }
}

impl From<[usize; 1]> for Dims {
    fn from([x]: [usize; 1]) -> Self {
        Self::from(x)
    }
}

impl From<[usize; 2]> for Dims {
    fn from([x, y]: [usize; 2]) -> Self {
        Self {
            sizes: [x, y, 1],
            count: 2,
        }
    }
}

impl From<[usize; 3]> for Dims {
    fn from(sizes: [usize; 3]) -> Self {
        Self { sizes, count: 3 }
    }
}

impl From<usize> for NdRange {
    fn from(global: usize) -> Self {
        Self::new(global)
    }
}

impl From<[usize; 1]> for NdRange {
    fn from(global: [usize; 1]) -> Self {
        Self::new(global)
    }
}

impl From<[usize; 2]> for NdRange {
    fn from(global: [usize; 2]) -> Self {
        Self::new(global)
    }
}

impl From<[usize; 3]> for NdRange {
    fn from(global: [usize; 3]) -> Self {
        Self::new(global)
    }
}
