//! [`Buffer<T>`]: typed device memory whose reads and writes are tasks.

use std::ffi::c_void;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use bytemuck::Pod;
use opencl3::memory::{CL_MEM_COPY_HOST_PTR, CL_MEM_READ_WRITE};
use opencl3::types::{CL_NON_BLOCKING, cl_mem, cl_mem_flags};

use corun_concurrent::Task;
use corun_core::Error;

use crate::error::{cl_error, invalid};
use crate::shared::{Core, Finish, Keep, What};

/// A buffer of `len` elements of `T` in a device's memory (PyOpenCL's
/// `cl.Buffer`, typed as `pyopencl.array` is), made by
/// [`GpuExecutor::buffer`](crate::GpuExecutor::buffer) or
/// [`buffer_from`](crate::GpuExecutor::buffer_from).
///
/// [`write`](Self::write), [`read`](Self::read) and [`fill`](Self::fill)
/// enqueue a transfer on the executor's in-order queue and return its
/// task at once: a read enqueued after a launch gives what the kernel
/// wrote. The memory lives as long as the buffer, a kernel it is set on,
/// or a command that uses it.
///
/// ```
/// use corun::gpu::GpuExecutor;
///
/// if let Ok(gpu) = GpuExecutor::new() {
///     let buffer = gpu.buffer::<u32>(4).unwrap();
///     assert_eq!(buffer.read().unwrap().result().unwrap(), [0, 0, 0, 0]);
///     let _ = buffer.write(&[1, 2, 3, 4]).unwrap(); // the read comes after it all the same
///     assert_eq!(buffer.read().unwrap().result().unwrap(), [1, 2, 3, 4]);
/// }
/// ```
pub struct Buffer<T> {
    mem: Arc<Mem>,
    len: usize,
    core: Arc<Core>,
    /// The buffer holds no `T`, only device memory: it is `Send` and
    /// `Sync` whatever `T` is.
    _type: PhantomData<fn() -> T>,
}

/// An OpenCL memory object, released when the last user lets it go.
pub(crate) struct Mem(pub(crate) cl_mem);

// SAFETY: a `cl_mem` is a handle to a runtime-owned, reference-counted
// object; every OpenCL call that takes one is thread-safe (OpenCL 3.0
// §A.2), and the handle is never dereferenced here.
#[allow(unsafe_code)]
unsafe impl Send for Mem {}
// SAFETY: as for `Send`.
#[allow(unsafe_code)]
unsafe impl Sync for Mem {}

impl Drop for Mem {
    fn drop(&mut self) {
        // SAFETY: this `Mem` holds the one reference corun took when it
        // made the object; commands still using it hold their own, so the
        // runtime frees it only after them (clReleaseMemObject).
        #[allow(unsafe_code)]
        let _ = unsafe { cl3::memory::release_mem_object(self.0) };
    }
}

impl<T: Pod + Send> Buffer<T> {
    /// A buffer of `len` zeroed elements.
    pub(crate) fn zeroed(core: &Arc<Core>, len: usize) -> Result<Self, Error> {
        let buffer = Self::create(core, len, CL_MEM_READ_WRITE, std::ptr::null_mut())?;
        let zero = 0_u8;
        let bytes = len * size_of::<T>();
        // SAFETY: the pattern is one readable byte, which the driver copies
        // before the call returns; the range is the buffer's own bytes.
        #[allow(unsafe_code)]
        let event = unsafe {
            cl3::command_queue::enqueue_fill_buffer(
                core.queue.get(),
                buffer.mem.0,
                (&raw const zero).cast::<c_void>(),
                1,
                0,
                bytes,
                0,
                std::ptr::null(),
            )
        }
        .map_err(|code| cl_error("zeroing a new buffer", code))?;
        let event = opencl3::event::Event::new(event);
        event
            .wait()
            .map_err(|e| cl_error("zeroing a new buffer", e.0))?;
        Ok(buffer)
    }

    /// A buffer holding a copy of `data`.
    pub(crate) fn from_slice(core: &Arc<Core>, data: &[T]) -> Result<Self, Error> {
        let host = data.as_ptr().cast::<c_void>().cast_mut();
        Self::create(
            core,
            data.len(),
            CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
            host,
        )
    }

    fn create(
        core: &Arc<Core>,
        len: usize,
        flags: cl_mem_flags,
        host: *mut c_void,
    ) -> Result<Self, Error> {
        if !core.is_open() {
            return Err(Error::shut_down());
        }
        let size = size_of::<T>();
        if size == 0 {
            return Err(invalid("a buffer of a zero-sized type holds nothing"));
        }
        if len == 0 {
            return Err(invalid("a buffer needs at least one element"));
        }
        let bytes = len
            .checked_mul(size)
            .filter(|&b| b as u64 <= core.device.max_alloc())
            .ok_or_else(|| {
                invalid(format!(
                    "a buffer of {len} elements of {size} bytes is more than {} can allocate at once \
                     ({} bytes)",
                    core.device.name(),
                    core.device.max_alloc()
                ))
            })?;
        // SAFETY: `host` is null (no host memory named) or, with
        // CL_MEM_COPY_HOST_PTR, points at `len` readable elements of `T`
        // — `bytes` bytes — which the driver copies before returning.
        #[allow(unsafe_code)]
        let mem = unsafe { cl3::memory::create_buffer(core.context.get(), flags, bytes, host) }
            .map_err(|code| {
                cl_error(format!("allocating {bytes} bytes on {}", core.device), code)
            })?;
        Ok(Self {
            mem: Arc::new(Mem(mem)),
            len,
            core: Arc::clone(core),
            _type: PhantomData,
        })
    }

    /// Copies `data` (exactly [`len`](Self::len) elements) into the
    /// buffer, after the commands enqueued before (PyOpenCL:
    /// `cl.enqueue_copy(queue, buf, data)`). `data` is copied first, so it
    /// may change as soon as this returns.
    ///
    /// # Errors
    ///
    /// [`InvalidArgument`](corun_core::ErrorKind::InvalidArgument) when
    /// `data` is not `len` elements long;
    /// [`ShutDown`](corun_core::ErrorKind::ShutDown) after the executor's
    /// shutdown; a [`Device`](corun_core::ErrorKind::Device) error if the
    /// driver refuses the transfer.
    ///
    /// ```
    /// use corun::gpu::GpuExecutor;
    ///
    /// if let Ok(gpu) = GpuExecutor::new() {
    ///     let buffer = gpu.buffer::<f32>(3).unwrap();
    ///     let err = buffer.write(&[1.0, 2.0]).unwrap_err();
    ///     assert!(err.is_invalid_argument());
    ///     assert_eq!(err.to_string(), "a write of 2 elements into a buffer of 3");
    /// }
    /// ```
    pub fn write(&self, data: &[T]) -> Result<Task<()>, Error> {
        if data.len() != self.len {
            return Err(invalid(format!(
                "a write of {} elements into a buffer of {}",
                data.len(),
                self.len
            )));
        }
        let host: Vec<T> = data.to_vec();
        let ptr = host.as_ptr().cast::<c_void>();
        let (task, promise) = Task::pending();
        let started = promise.start();
        debug_assert!(started, "nobody else has the task yet");
        let finish: Finish = Box::new(move |outcome, _event| {
            drop(host); // the driver has read it
            promise.complete(outcome);
        });
        let mem = self.mem.0;
        let bytes = self.bytes();
        self.core.submit(
            What::Write,
            vec![self.keep()],
            |queue| {
                // SAFETY: `ptr` points at `bytes` readable bytes of `host`,
                // which the command's `finish` owns, and which is dropped
                // only once the command is done.
                #[allow(unsafe_code)]
                unsafe {
                    cl3::command_queue::enqueue_write_buffer(
                        queue,
                        mem,
                        CL_NON_BLOCKING,
                        0,
                        bytes,
                        ptr,
                        0,
                        std::ptr::null(),
                    )
                }
            },
            finish,
        )?;
        Ok(task)
    }

    /// Copies the buffer into a new vector, after the commands enqueued
    /// before (PyOpenCL: `cl.enqueue_copy(queue, out, buf)`).
    ///
    /// # Errors
    ///
    /// [`ShutDown`](corun_core::ErrorKind::ShutDown) after the executor's
    /// shutdown; a [`Device`](corun_core::ErrorKind::Device) error if the
    /// driver refuses the transfer.
    pub fn read(&self) -> Result<Task<Vec<T>>, Error> {
        let len = self.len;
        let mut host: Vec<T> = Vec::with_capacity(len);
        let ptr = host.as_mut_ptr().cast::<c_void>();
        let (task, promise) = Task::pending();
        let started = promise.start();
        debug_assert!(started, "nobody else has the task yet");
        let finish: Finish = Box::new(move |outcome, _event| {
            promise.complete(outcome.map(|()| {
                // SAFETY: the read completed (CL_COMPLETE), so the driver
                // wrote all `len` elements into the capacity; any bytes
                // are a valid `T: Pod`.
                #[allow(unsafe_code)]
                unsafe {
                    host.set_len(len);
                }
                host
            }));
        });
        let mem = self.mem.0;
        let bytes = self.bytes();
        self.core.submit(
            What::Read,
            vec![self.keep()],
            |queue| {
                // SAFETY: `ptr` points at the capacity of `host` — `bytes`
                // writable bytes — which the command's `finish` owns and
                // does not touch before the command is done.
                #[allow(unsafe_code)]
                unsafe {
                    cl3::command_queue::enqueue_read_buffer(
                        queue,
                        mem,
                        CL_NON_BLOCKING,
                        0,
                        bytes,
                        ptr,
                        0,
                        std::ptr::null(),
                    )
                }
            },
            finish,
        )?;
        Ok(task)
    }

    /// Sets every element to `value` on the device (PyOpenCL:
    /// `cl.enqueue_fill_buffer`).
    ///
    /// # Errors
    ///
    /// [`InvalidArgument`](corun_core::ErrorKind::InvalidArgument) when
    /// `T`'s size is not a power of two up to 128 bytes (OpenCL's rule for
    /// fill patterns); otherwise as [`write`](Self::write).
    ///
    /// ```
    /// use corun::gpu::GpuExecutor;
    ///
    /// if let Ok(gpu) = GpuExecutor::new() {
    ///     let buffer = gpu.buffer::<i64>(3).unwrap();
    ///     buffer.fill(-7).unwrap().result().unwrap();
    ///     assert_eq!(buffer.read().unwrap().result().unwrap(), [-7, -7, -7]);
    /// }
    /// ```
    pub fn fill(&self, value: T) -> Result<Task<()>, Error> {
        let size = size_of::<T>();
        if !size.is_power_of_two() || size > 128 {
            return Err(invalid(format!(
                "a fill pattern of {size} bytes: OpenCL fills with 1, 2, 4, … or 128 bytes"
            )));
        }
        let (task, promise) = Task::pending();
        let started = promise.start();
        debug_assert!(started, "nobody else has the task yet");
        let finish: Finish = Box::new(move |outcome, _event| promise.complete(outcome));
        let mem = self.mem.0;
        let bytes = self.bytes();
        self.core.submit(
            What::Fill,
            vec![self.keep()],
            |queue| {
                // SAFETY: the pattern is `value`, `size` readable bytes,
                // which the driver copies before the call returns; the
                // range is the buffer's own bytes, a multiple of `size`.
                #[allow(unsafe_code)]
                unsafe {
                    cl3::command_queue::enqueue_fill_buffer(
                        queue,
                        mem,
                        (&raw const value).cast::<c_void>(),
                        size,
                        0,
                        bytes,
                        0,
                        std::ptr::null(),
                    )
                }
            },
            finish,
        )?;
        Ok(task)
    }
}

impl<T> Buffer<T> {
    /// How many elements the buffer holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none (never: a buffer has at least one element).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Its size in bytes.
    pub fn bytes(&self) -> usize {
        self.len * size_of::<T>()
    }

    /// The memory object, for a kernel argument.
    pub(crate) fn mem(&self) -> &Arc<Mem> {
        &self.mem
    }

    /// The executor this buffer belongs to.
    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// What a command that uses this buffer keeps alive.
    fn keep(&self) -> Keep {
        Arc::clone(&self.mem) as Keep
    }
}

impl<T> fmt::Debug for Buffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("type", &std::any::type_name::<T>())
            .field("len", &self.len)
            .field("device", &self.core.device.name())
            .finish()
    }
}
