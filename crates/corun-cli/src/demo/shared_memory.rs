//! Python's `shared_memory` example: the parent creates a block, writes
//! into it, and a child process attaches to the same memory by name,
//! reads what the parent wrote and writes its answer in place. The block
//! lives in `/dev/shm` while a handle is open and is removed with the last
//! one — also when processes crash, and never while another still uses it
//! (Python's gh-82300).

use std::path::Path;

use corun::multiprocessing::{Process, SharedMemory};

/// The child: reads the greeting at offset 0, writes it in upper case and
/// its pid at offset 64.
fn child(block: SharedMemory) -> String {
    let mut greeting = [0; 5];
    block.read_at(0, &mut greeting).expect("inside the block");
    let upper = greeting.to_ascii_uppercase();
    block.write_at(64, &upper).expect("inside the block");
    block
        .write_at(72, &std::process::id().to_le_bytes())
        .expect("inside the block");
    String::from_utf8_lossy(&greeting).into_owned()
}

pub(crate) fn run() -> anyhow::Result<()> {
    let block = SharedMemory::create(4096)?;
    let path = Path::new("/dev/shm").join(block.name());
    println!(
        "created {} ({} bytes); {} exists: {}",
        block.name(),
        block.size(),
        path.display(),
        path.exists()
    );
    block.write_at(0, b"hello")?;
    let process = Process::start(child, block.clone())?;
    let pid = process.pid();
    let seen = process.join()?;
    let mut upper = [0; 5];
    block.read_at(64, &mut upper)?;
    let mut written_by = [0; 4];
    block.read_at(72, &mut written_by)?;
    println!(
        "child {pid} read {seen:?} and wrote {:?}",
        String::from_utf8_lossy(&upper)
    );
    anyhow::ensure!(&upper == b"HELLO", "the child's write is not visible");
    anyhow::ensure!(
        u32::from_le_bytes(written_by) == pid,
        "wrong pid in the block"
    );
    println!(
        "the child has exited; the block is still there: {}",
        path.exists()
    );
    anyhow::ensure!(path.exists(), "the block vanished while in use");
    drop(block);
    println!(
        "last handle dropped; {} exists: {}",
        path.display(),
        path.exists()
    );
    anyhow::ensure!(!path.exists(), "the block outlived its last handle");
    Ok(())
}
