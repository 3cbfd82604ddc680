//! OpenCL error codes as corun's one [`Error`].

use corun_core::{Error, ErrorKind};
use opencl3::error_codes::{
    CL_INVALID_ARG_INDEX, CL_INVALID_ARG_SIZE, CL_INVALID_ARG_VALUE, CL_INVALID_BUFFER_SIZE,
    CL_INVALID_GLOBAL_OFFSET, CL_INVALID_GLOBAL_WORK_SIZE, CL_INVALID_KERNEL_ARGS,
    CL_INVALID_KERNEL_NAME, CL_INVALID_MEM_OBJECT, CL_INVALID_VALUE, CL_INVALID_WORK_DIMENSION,
    CL_INVALID_WORK_GROUP_SIZE, CL_INVALID_WORK_ITEM_SIZE, ClError,
};
use opencl3::types::cl_int;

/// The error of an OpenCL call that returned `code` while doing `what`
/// ("enqueueing kernel `add`"): an out-of-range argument is
/// [`InvalidArgument`](ErrorKind::InvalidArgument), an unknown kernel name
/// [`NotFound`](ErrorKind::NotFound), anything else
/// [`Device`](ErrorKind::Device).
pub(crate) fn cl_error(what: impl std::fmt::Display, code: cl_int) -> Error {
    let kind = match code {
        CL_INVALID_ARG_INDEX
        | CL_INVALID_ARG_SIZE
        | CL_INVALID_ARG_VALUE
        | CL_INVALID_BUFFER_SIZE
        | CL_INVALID_GLOBAL_OFFSET
        | CL_INVALID_GLOBAL_WORK_SIZE
        | CL_INVALID_KERNEL_ARGS
        | CL_INVALID_MEM_OBJECT
        | CL_INVALID_VALUE
        | CL_INVALID_WORK_DIMENSION
        | CL_INVALID_WORK_GROUP_SIZE
        | CL_INVALID_WORK_ITEM_SIZE => ErrorKind::InvalidArgument,
        CL_INVALID_KERNEL_NAME => ErrorKind::NotFound,
        _ => ErrorKind::Device,
    };
    Error::new(kind, format!("{what}: OpenCL error {}", describe(code)))
}

/// `CL_OUT_OF_RESOURCES (-5)`.
pub(crate) fn describe(code: cl_int) -> String {
    format!("{} ({code})", ClError(code))
}

/// An [`InvalidArgument`](ErrorKind::InvalidArgument) error saying `why`.
pub(crate) fn invalid(why: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, why.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_kinds_with_their_names() {
        let e = cl_error("enqueueing kernel `add`", CL_INVALID_WORK_GROUP_SIZE);
        assert!(e.is_invalid_argument());
        assert_eq!(
            e.to_string(),
            "enqueueing kernel `add`: OpenCL error CL_INVALID_WORK_GROUP_SIZE (-54)"
        );
        assert_eq!(cl_error("x", -5).kind(), ErrorKind::Device);
        assert_eq!(
            cl_error("x", CL_INVALID_KERNEL_NAME).kind(),
            ErrorKind::NotFound
        );
    }
}
