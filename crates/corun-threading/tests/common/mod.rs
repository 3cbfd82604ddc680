//! Helpers shared by the integration tests: polling with a deadline, timing
//! checks and the blocked-thread probe, from `corun-test-support`.

#![allow(unused_imports)]

pub(crate) use corun_test_support::{DEADLINE, Probe, assert_timeout, poll_until};
