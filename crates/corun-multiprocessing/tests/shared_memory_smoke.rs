//! Smoke tests of the shared-memory foundation: segments, the tracker and a
//! robust lock across processes.

use std::time::Duration;

use corun_multiprocessing::{Lock, Process, SharedMemory};

corun_multiprocessing::enable_test_workers!();

fn in_dev_shm(name: &str) -> bool {
    std::path::Path::new("/dev/shm").join(name).exists()
}

fn write_pid(block: SharedMemory) -> u32 {
    let pid = std::process::id();
    block.write_at(0, &pid.to_le_bytes()).unwrap();
    pid
}

fn die_holding(lock: Lock) {
    let _held = lock.acquire().unwrap();
    std::process::abort();
}

#[test]
fn a_worker_writes_into_a_segment_and_the_last_drop_removes_it() {
    let block = SharedMemory::create(100).unwrap();
    let name = block.name().to_owned();
    assert!(in_dev_shm(&name));
    let pid = Process::start(write_pid, block.clone())
        .unwrap()
        .join()
        .unwrap();
    let mut bytes = [0; 4];
    block.read_at(0, &mut bytes).unwrap();
    assert_eq!(u32::from_le_bytes(bytes), pid);
    let other = SharedMemory::attach(&name).unwrap();
    drop(block);
    assert!(in_dev_shm(&name), "a handle is still open");
    drop(other);
    assert!(!in_dev_shm(&name));
}

#[test]
fn a_lock_whose_holder_died_is_recovered() {
    let lock = Lock::new().unwrap();
    let p = Process::start(die_holding, lock.clone()).unwrap();
    assert!(p.join().is_err());
    let died = lock.acquire_timeout(Duration::from_secs(5)).unwrap_err();
    assert!(!died.is_timeout(), "{died}");
    let guard = died.into_guard().unwrap();
    drop(guard);
    let again = lock.acquire().expect("consistent again");
    drop(again);
}
