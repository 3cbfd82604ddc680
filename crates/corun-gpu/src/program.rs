//! [`Program`]s built from OpenCL C source, their [`Kernel`]s, and the
//! arguments a kernel takes ([`KernelArg`]).

use std::ffi::{CString, c_void};
use std::fmt;
use std::sync::Arc;

use bytemuck::Pod;
use opencl3::error_codes::CL_BUILD_PROGRAM_FAILURE;
use opencl3::kernel::Kernel as ClKernel;
use opencl3::program::Program as ClProgram;
use opencl3::types::{cl_kernel, cl_mem, cl_uint};

use corun_core::{Error, ErrorKind};

use crate::buffer::Buffer;
use crate::error::{cl_error, invalid};
use crate::executor::GpuExecutor;
use crate::range::NdRange;
use crate::shared::{Core, Finish, Keep, What};

/// A program for an executor's device, built from OpenCL C source
/// (PyOpenCL's `cl.Program(ctx, src).build()`).
///
/// ```
/// use corun::gpu::{GpuExecutor, Program};
///
/// if let Ok(gpu) = GpuExecutor::new() {
///     let program = Program::build(&gpu, "__kernel void twice(__global int *x) {
///         x[get_global_id(0)] *= 2;
///     }").unwrap();
///     assert_eq!(program.kernel_names(), ["twice"]);
///
///     let err = Program::build(&gpu, "__kernel void broken( { }").unwrap_err();
///     assert_eq!(err.kind(), corun::ErrorKind::Build); // its message has the build log
/// }
/// ```
pub struct Program {
    program: ClProgram,
    core: Arc<Core>,
    kernel_names: Vec<String>,
}

/// A kernel of a [`Program`] with its arguments (PyOpenCL's `cl.Kernel`
/// and `set_args`), launched by [`GpuExecutor::launch`].
///
/// Set each argument with [`set_arg`](Self::set_arg) — a `&Buffer<T>`, a
/// scalar (`u32`, `f32`, … or any [`Pod`] value through [`Scalar`]), or
/// [`Local`] memory — then launch it as many times as needed: a launch
/// takes the arguments set at that moment, so setting one afterwards
/// changes later launches only. A kernel keeps the buffers set on it
/// alive.
pub struct Kernel {
    kernel: ClKernel,
    core: Arc<Core>,
    name: Arc<str>,
    /// What each argument keeps alive; `None` while it is not set.
    args: Vec<Option<Arg>>,
    /// The kernel's own work-group limit on the device.
    work_group_size: usize,
}

/// What a set argument holds on to.
#[derive(Clone)]
enum Arg {
    Value,
    Memory(Keep),
}

/// Something that can be a kernel's argument: a `&`[`Buffer`], an OpenCL
/// scalar (`i8` … `u64`, `f32`, `f64`), a [`Scalar`] of any other
/// [`Pod`] type (a struct, a vector type), or [`Local`] memory.
///
/// Sealed: corun knows how to hand each to the driver.
pub trait KernelArg: sealed::Sealed {}

/// A [`Pod`] value passed by value to a kernel, for types other than the
/// plain scalars (a `#[repr(C)]` struct matching one in the kernel, a
/// `[f32; 4]` for a `float4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scalar<T>(pub T);

/// A `__local` argument: `bytes` of work-group memory, given no value
/// (PyOpenCL's `cl.LocalMemory(bytes)`).
///
/// ```
/// let local = corun::gpu::Local::of::<f32>(256);
/// assert_eq!(local.bytes(), 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Local {
    bytes: usize,
}

mod sealed {
    use super::*;

    /// How an argument reaches `clSetKernelArg`.
    #[allow(missing_debug_implementations)]
    pub enum Raw<'a> {
        /// Bytes, copied by the driver.
        Value(&'a [u8]),
        /// A memory object, what keeps it alive, and the executor it
        /// belongs to (its shared state's address).
        Memory(cl_mem, Arc<dyn Send + Sync>, *const ()),
        /// Local memory of so many bytes.
        Local(usize),
    }

    pub trait Sealed {
        fn raw(&self) -> Raw<'_>;
    }
}

use sealed::Raw;

impl Program {
    /// Builds `source` for the executor's device.
    ///
    /// # Errors
    ///
    /// [`Build`](ErrorKind::Build) when the source does not compile, with
    /// the compiler's log in the message;
    /// [`ShutDown`](ErrorKind::ShutDown) after the executor's shutdown; a
    /// [`Device`](ErrorKind::Device) error when the driver fails
    /// otherwise.
    pub fn build(gpu: &GpuExecutor, source: &str) -> Result<Self, Error> {
        Self::build_with_options(gpu, source, "")
    }

    /// Builds `source` with compiler options (`-D N=64
    /// -cl-fast-relaxed-math`, PyOpenCL's `build(options)`).
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build); [`InvalidArgument`](ErrorKind::InvalidArgument)
    /// for options with a NUL byte. Options the compiler rejects are a
    /// [`Build`](ErrorKind::Build) error.
    pub fn build_with_options(
        gpu: &GpuExecutor,
        source: &str,
        options: &str,
    ) -> Result<Self, Error> {
        let core = gpu.core();
        if !core.is_open() {
            return Err(Error::shut_down());
        }
        if options.contains('\0') {
            return Err(invalid("build options must not contain a NUL byte"));
        }
        let device = &core.device;
        let mut program = ClProgram::create_from_source(&core.context, source)
            .map_err(|e| cl_error(format!("creating a program on {device}"), e.0))?;
        if let Err(e) = program.build(&[device.id().0], options) {
            let log = program.get_build_log(device.id().0).unwrap_or_default();
            let log = log.trim();
            let kind = if e.0 == CL_BUILD_PROGRAM_FAILURE
                || e.0 == opencl3::error_codes::CL_INVALID_BUILD_OPTIONS
            {
                ErrorKind::Build
            } else {
                ErrorKind::Device
            };
            let mut message = format!(
                "the OpenCL program did not build for {device}: {}",
                crate::error::describe(e.0)
            );
            if !log.is_empty() {
                message.push_str("\nbuild log:\n");
                message.push_str(log);
            }
            return Err(Error::new(kind, message));
        }
        let kernel_names = program
            .kernel_names()
            .split(';')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Self {
            program,
            core: Arc::clone(core),
            kernel_names,
        })
    }

    /// The names of the program's kernels.
    pub fn kernel_names(&self) -> Vec<&str> {
        self.kernel_names.iter().map(String::as_str).collect()
    }

    /// The kernel called `name`, with no argument set.
    ///
    /// # Errors
    ///
    /// [`NotFound`](ErrorKind::NotFound) when the program has no such
    /// kernel (the message lists those it has);
    /// [`InvalidArgument`](ErrorKind::InvalidArgument) for a name with a
    /// NUL byte.
    pub fn kernel(&self, name: &str) -> Result<Kernel, Error> {
        if CString::new(name).is_err() {
            return Err(invalid("a kernel name must not contain a NUL byte"));
        }
        if !self.kernel_names.iter().any(|n| n == name) {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "the program has no kernel `{name}` (it has: {})",
                    self.kernel_names.join(", ")
                ),
            ));
        }
        let kernel = ClKernel::create(&self.program, name)
            .map_err(|e| cl_error(format!("creating kernel `{name}`"), e.0))?;
        let count = kernel
            .num_args()
            .map_err(|e| cl_error(format!("reading kernel `{name}`'s arguments"), e.0))?;
        let work_group_size = kernel
            .get_work_group_size(self.core.device.id().0)
            .unwrap_or(self.core.device.max_work_group_size());
        Ok(Kernel {
            kernel,
            core: Arc::clone(&self.core),
            name: name.into(),
            args: vec![None; count as usize],
            work_group_size,
        })
    }
}

impl Kernel {
    /// The kernel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many arguments it takes.
    pub fn num_args(&self) -> usize {
        self.args.len()
    }

    /// The largest work-group this kernel can run in on its device
    /// (`CL_KERNEL_WORK_GROUP_SIZE`), at most the device's.
    pub fn work_group_size(&self) -> usize {
        self.work_group_size
    }

    /// Sets argument `index` to `arg`; returns the kernel, to chain the
    /// next (PyOpenCL: `kernel.set_arg(index, arg)`).
    ///
    /// # Errors
    ///
    /// [`InvalidArgument`](ErrorKind::InvalidArgument) for an index past
    /// the kernel's arguments, a value of the wrong size, or a buffer of
    /// another executor.
    ///
    /// ```
    /// use corun::gpu::{GpuExecutor, Local};
    ///
    /// if let Ok(gpu) = GpuExecutor::new() {
    ///     let program = gpu.program("__kernel void scale(__global float *x, float by,
    ///                                                     __local float *scratch) {
    ///         x[get_global_id(0)] *= by;
    ///     }").unwrap();
    ///     let x = gpu.buffer_from(&[1.0_f32, 2.0]).unwrap();
    ///     let mut scale = program.kernel("scale").unwrap();
    ///     scale.set_arg(0, &x).unwrap().set_arg(1, 3.0_f32).unwrap();
    ///     scale.set_arg(2, Local::of::<f32>(2)).unwrap();
    ///     assert!(scale.set_arg(3, 1_u32).unwrap_err().is_invalid_argument());
    ///     gpu.launch(&scale, 2).unwrap().result().unwrap();
    ///     assert_eq!(x.read().unwrap().result().unwrap(), [3.0, 6.0]);
    /// }
    /// ```
    pub fn set_arg(&mut self, index: usize, arg: impl KernelArg) -> Result<&mut Self, Error> {
        if index >= self.args.len() {
            return Err(invalid(format!(
                "kernel `{}` takes {} arguments; there is no argument {index}",
                self.name,
                self.args.len()
            )));
        }
        let what = || format!("setting argument {index} of kernel `{}`", self.name);
        let kernel = self.kernel.get();
        let keep = match arg.raw() {
            Raw::Value(bytes) => {
                set(kernel, index, bytes.len(), bytes.as_ptr().cast())
                    .map_err(|c| cl_error(what(), c))?;
                Arg::Value
            }
            Raw::Local(bytes) => {
                if bytes == 0 {
                    return Err(invalid(format!("{}: local memory of zero bytes", what())));
                }
                set(kernel, index, bytes, std::ptr::null()).map_err(|c| cl_error(what(), c))?;
                Arg::Value
            }
            Raw::Memory(handle, mem, owner) => {
                if owner != Arc::as_ptr(&self.core).cast::<()>() {
                    return Err(invalid(format!(
                        "{}: the buffer belongs to another GpuExecutor",
                        what()
                    )));
                }
                set(
                    kernel,
                    index,
                    size_of::<cl_mem>(),
                    (&raw const handle).cast(),
                )
                .map_err(|c| cl_error(what(), c))?;
                Arg::Memory(mem)
            }
        };
        self.args[index] = Some(keep);
        Ok(self)
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// Enqueues the kernel over `range` with the arguments set now.
    pub(crate) fn enqueue(
        &self,
        core: &Core,
        range: &NdRange,
        finish: Finish,
    ) -> Result<(), Error> {
        if let Some(missing) = self.args.iter().position(Option::is_none) {
            return Err(invalid(format!(
                "argument {missing} of kernel `{}` is not set",
                self.name
            )));
        }
        range.check(&core.device, &self.name, self.work_group_size)?;
        let keep: Vec<Keep> = self
            .args
            .iter()
            .filter_map(|a| match a {
                Some(Arg::Memory(m)) => Some(Arc::clone(m)),
                _ => None,
            })
            .collect();
        let kernel = self.kernel.get();
        let dims = range.dimensions() as cl_uint;
        let global = range.global().as_ptr();
        let local = range
            .local_dims()
            .map_or(std::ptr::null(), <[usize]>::as_ptr);
        core.submit(
            What::Kernel(Arc::clone(&self.name)),
            keep,
            |queue| {
                // SAFETY: `kernel` is this kernel, every argument set;
                // `global` (and `local`, when not null) point at `dims`
                // sizes that live through the call; no offsets, no wait
                // list.
                #[allow(unsafe_code)]
                unsafe {
                    cl3::command_queue::enqueue_nd_range_kernel(
                        queue,
                        kernel,
                        dims,
                        std::ptr::null(),
                        global,
                        local,
                        0,
                        std::ptr::null(),
                    )
                }
            },
            finish,
        )
    }
}

/// `clSetKernelArg`.
fn set(kernel: cl_kernel, index: usize, size: usize, value: *const c_void) -> Result<(), i32> {
    let index = cl_uint::try_from(index).map_err(|_| opencl3::error_codes::CL_INVALID_ARG_INDEX)?;
    // SAFETY: `value` is null (local memory) or points at `size` readable
    // bytes, which the driver copies before returning; the kernel is only
    // set through `&mut Kernel`, so no other thread sets its arguments at
    // the same time (clSetKernelArg is the one OpenCL call that is not
    // thread-safe on the same kernel).
    #[allow(unsafe_code)]
    unsafe {
        cl3::kernel::set_kernel_arg(kernel, index, size, value)
    }
}

impl Local {
    /// `bytes` bytes of local memory.
    pub fn bytes_of(bytes: usize) -> Self {
        Self { bytes }
    }

    /// Room for `len` elements of `T`.
    pub fn of<T>(len: usize) -> Self {
        Self {
            bytes: len.saturating_mul(size_of::<T>()),
        }
    }

    /// Its size in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl<T: Pod> sealed::Sealed for Scalar<T> {
    fn raw(&self) -> Raw<'_> {
        Raw::Value(bytemuck::bytes_of(&self.0))
    }
}

impl<T: Pod> KernelArg for Scalar<T> {}

impl sealed::Sealed for Local {
    fn raw(&self) -> Raw<'_> {
        Raw::Local(self.bytes)
    }
}

impl KernelArg for Local {}

impl<T> sealed::Sealed for &Buffer<T> {
    fn raw(&self) -> Raw<'_> {
        Raw::Memory(
            self.mem().0,
            Arc::clone(self.mem()) as Keep,
            Arc::as_ptr(self.core()).cast::<()>(),
        )
    }
}

impl<T> KernelArg for &Buffer<T> {}

macro_rules! scalar_args {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {
            fn raw(&self) -> Raw<'_> {
                Raw::Value(bytemuck::bytes_of(self))
            }
        }

        impl KernelArg for $t {}
    )*};
}

scalar_args!(i8, u8, i16, u16, i32, u32, i64, u64, f32, f64);

// SAFETY: the kernel's one call that is not thread-safe, clSetKernelArg,
// is only made through `&mut Kernel`; enqueueing it and reading its info
// through `&Kernel` are thread-safe OpenCL calls (OpenCL 3.0 §A.2).
#[allow(unsafe_code)]
unsafe impl Sync for Kernel {}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("kernels", &self.kernel_names)
            .field("device", &self.core.device.name())
            .finish()
    }
}

impl fmt::Debug for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<bool> = self.args.iter().map(Option::is_some).collect();
        f.debug_struct("Kernel")
            .field("name", &self.name)
            .field("args_set", &set)
            .finish()
    }
}
