//! The classic shared-counter example: two processes add and subtract 5 a
//! hundred times each on a shared `Value` that starts at 500. With the
//! lock the result is 500 every time; without it (a `RawValue`, read and
//! written back with no lock) the two processes overwrite each other's
//! updates and the total drifts.

use corun::multiprocessing::{Process, RawArray, RawValue, Value};

/// Passes per process: 100 as in the Python example for the locked run;
/// the unlocked run needs many more, packed closely, to show lost updates
/// on every run rather than now and then.
const LOCKED_PASSES: i64 = 100;
const UNLOCKED_PASSES: i64 = 5_000_000;

fn add_locked(total: Value<i64>) {
    for _ in 0..LOCKED_PASSES {
        std::thread::sleep(std::time::Duration::from_micros(200));
        total.update(|t| *t += 5);
    }
}

fn sub_locked(total: Value<i64>) {
    for _ in 0..LOCKED_PASSES {
        std::thread::sleep(std::time::Duration::from_micros(200));
        total.update(|t| *t -= 5);
    }
}

/// Slot of the start gate each unlocked worker sets when it is ready; the
/// parent sets [`GO`] once both are, so the two loops really overlap (a
/// process starts in about a millisecond, longer than either loop takes).
const GO: usize = 2;

fn wait_for_go(gate: &RawArray<u32>, me: usize) {
    gate.set(me, 1).expect("inside the gate");
    while gate.get(GO) != Some(1) {
        std::hint::spin_loop();
    }
}

fn add_unlocked((total, gate): (RawValue<i64>, RawArray<u32>)) {
    wait_for_go(&gate, 0);
    for _ in 0..UNLOCKED_PASSES {
        let t = total.load();
        total.store(t + 5);
    }
}

fn sub_unlocked((total, gate): (RawValue<i64>, RawArray<u32>)) {
    wait_for_go(&gate, 1);
    for _ in 0..UNLOCKED_PASSES {
        let t = total.load();
        total.store(t - 5);
    }
}

pub(crate) fn run() -> anyhow::Result<()> {
    for run in 1..=3 {
        let total = Value::new(500_i64)?;
        let adder = Process::start(add_locked, total.clone())?;
        let subtractor = Process::start(sub_locked, total.clone())?;
        adder.join()?;
        subtractor.join()?;
        let result = total.load();
        println!("with the lock, run {run}: {result}");
        anyhow::ensure!(result == 500, "an update was lost under the lock");
    }
    for run in 1..=3 {
        let total = RawValue::new(500_i64)?;
        let gate = RawArray::<u32>::new(3)?;
        let adder = Process::start(add_unlocked, (total.clone(), gate.clone()))?;
        let subtractor = Process::start(sub_unlocked, (total.clone(), gate.clone()))?;
        while gate.get(0) != Some(1) || gate.get(1) != Some(1) {
            std::thread::yield_now();
        }
        gate.set(GO, 1)?;
        adder.join()?;
        subtractor.join()?;
        let result = total.load();
        let verdict = if result == 500 {
            "(no update lost this time)".to_owned()
        } else {
            format!("({} lost updates)", (result - 500).abs() / 5)
        };
        println!("without a lock, run {run}: {result} {verdict}");
    }
    Ok(())
}
