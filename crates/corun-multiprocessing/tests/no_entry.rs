//! A test file that starts a process without `enable_test_workers!()`: the
//! worker runs no test and exits, and the error names the missing macro.

use corun_multiprocessing::Process;

fn double(x: u32) -> u32 {
    x * 2
}

// Checks the error a forgotten `enable_test_workers!()` gives.
#[test]
fn forgetting_the_macro_is_a_clear_error() {
    let err = Process::start(double, 1).unwrap_err();
    assert_eq!(err.kind(), corun::ErrorKind::ProcessStart, "{err}");
    assert!(err.to_string().contains("before the handshake"), "{err}");
    assert!(err.to_string().contains("enable_test_workers!()"), "{err}");
}
