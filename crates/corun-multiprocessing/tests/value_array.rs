//! `Value`, `RawValue`, `Array` and `RawArray`: shared plain old data,
//! changed by worker processes — ported from CPython's
//! `Lib/test/_test_multiprocessing.py` (`_TestValue`, `_TestArray`) where
//! it has the same test — plus counting under the lock, holders that die
//! holding it, structs, and type checks on attach. Each test checks that
//! it leaves nothing behind.

mod common;

use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::Duration;

use bytemuck::{Pod, Zeroable};
use common::{Gate, isolated, wait_at_gate};
use corun_multiprocessing::{
    AcquireError, Array, ArrayGuard, Process, RawArray, RawValue, Value, ValueGuard,
};
use corun_test_support::DEADLINE;
use serde::{Deserialize, Serialize};

corun_multiprocessing::enable_test_workers!();

fn in_dev_shm(name: &str) -> bool {
    Path::new("/dev/shm").join(name).exists()
}

// --- Value and RawValue -------------------------------------------------

type Values = (Value<i32>, Value<f64>, Value<i16>, Value<i64>, Value<u8>);
type RawValues = (
    RawValue<i32>,
    RawValue<f64>,
    RawValue<i16>,
    RawValue<i64>,
    RawValue<u8>,
);

/// `_TestValue.codes_values`: typecode, first value, value the child sets.
const FIRST: (i32, f64, i16, i64, u8) = (4343, 3.625, -232, 1 << 33, b'x');
const SECOND: (i32, f64, i16, i64, u8) = (24234, -4.25, 234, 1 << 34, b'y');

fn store_second((a, b, c, d, e): Values) {
    a.store(SECOND.0);
    b.store(SECOND.1);
    c.store(SECOND.2);
    d.store(SECOND.3);
    e.store(SECOND.4);
}

fn store_second_raw((a, b, c, d, e): RawValues) {
    a.store(SECOND.0);
    b.store(SECOND.1);
    c.store(SECOND.2);
    d.store(SECOND.3);
    e.store(SECOND.4);
}

// Ported from _TestValue.test_value: values made here, changed by a child.
#[test]
fn a_child_changes_values() {
    isolated(|| {
        let values: Values = (
            Value::new(FIRST.0).unwrap(),
            Value::new(FIRST.1).unwrap(),
            Value::new(FIRST.2).unwrap(),
            Value::new(FIRST.3).unwrap(),
            Value::new(FIRST.4).unwrap(),
        );
        let (a, b, c, d, e) = &values;
        assert_eq!((a.load(), b.load(), c.load(), d.load(), e.load()), FIRST);
        Process::start(store_second, values.clone())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!((a.load(), b.load(), c.load(), d.load(), e.load()), SECOND);
    });
}

// Ported from _TestValue.test_rawvalue: the same, with no locks.
#[test]
fn a_child_changes_raw_values() {
    isolated(|| {
        let values: RawValues = (
            RawValue::new(FIRST.0).unwrap(),
            RawValue::new(FIRST.1).unwrap(),
            RawValue::new(FIRST.2).unwrap(),
            RawValue::new(FIRST.3).unwrap(),
            RawValue::new(FIRST.4).unwrap(),
        );
        let (a, b, c, d, e) = &values;
        assert_eq!((a.load(), b.load(), c.load(), d.load(), e.load()), FIRST);
        Process::start(store_second_raw, values.clone())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!((a.load(), b.load(), c.load(), d.load(), e.load()), SECOND);
    });
}

// Ported from _TestValue.test_getobj_getlock: a value has a lock of its
// own; an unlocked one has none (no `get_lock` method: a compile-time
// check, in `RawValue`'s docs), and neither can be attached as the other.
// Python's `get_obj()` and `lock=` argument have no twin (see `Value`).
#[test]
fn a_value_has_a_lock_and_a_raw_value_has_none() {
    isolated(|| {
        let v1 = Value::new(5i32).unwrap();
        let v2 = Value::new(5i32).unwrap();
        assert_ne!(v1.get_lock().name(), v2.get_lock().name());
        assert_eq!(v1.clone().get_lock().name(), v1.get_lock().name());
        {
            let _held = v1.get_lock().acquire().unwrap();
            assert!(v1.try_lock().unwrap_err().is_timeout());
            assert_eq!(*v2.try_lock().unwrap(), 5, "another value, another lock");
        }
        assert_eq!(*v1.try_lock().unwrap(), 5);

        let raw = RawValue::new(5i32).unwrap();
        let refused = Value::<i32>::attach(raw.name()).unwrap_err();
        assert_eq!(
            refused.kind(),
            corun::ErrorKind::InvalidArgument,
            "{refused}"
        );
        let refused = RawValue::<i32>::attach(v1.name()).unwrap_err();
        assert_eq!(
            refused.kind(),
            corun::ErrorKind::InvalidArgument,
            "{refused}"
        );
    });
}

fn count_to_500(counter: Value<u64>) {
    for _ in 0..500 {
        *counter.lock().expect("no holder died") += 1;
    }
}

// Two processes do `v.value += 1` under the lock 500 times each: no update
// is lost.
#[test]
fn two_processes_count_under_the_lock() {
    isolated(|| {
        let counter = Value::new(0u64).unwrap();
        let a = Process::start(count_to_500, counter.clone()).unwrap();
        let b = Process::start(count_to_500, counter.clone()).unwrap();
        count_to_500(counter.clone());
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(counter.load(), 1500);
        assert!(!counter.get_lock().locked());
    });
}

fn write_then_abort(value: Value<u64>) {
    let mut held = value.lock().expect("no holder died");
    *held = 42;
    std::process::abort();
}

// A process that aborts holding a value's lock: the next `lock` gets the
// lock, an `OwnerDied` naming the dead process, and the value as it was
// left; after that the lock is clean again and other processes go on.
#[test]
fn a_holder_that_aborts_leaves_owner_died_and_the_value() {
    isolated(|| {
        let value = Value::new(0u64).unwrap();
        let p = Process::start(write_then_abort, value.clone()).unwrap();
        let pid = p.pid();
        let err = p.join().unwrap_err();
        assert!(err.to_string().contains("abort") || err.to_string().contains("signal"));

        let died = value.lock().unwrap_err();
        assert_eq!(died.pid(), pid);
        let mut guard = died.into_guard();
        assert_eq!(*guard, 42);
        *guard += 1;
        drop(guard);

        Process::start(count_to_500, value.clone())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(*value.lock().expect("consistent again"), 543);
    });
}

fn hold_at_gate((array, gate): (Array<u32>, String)) {
    let mut items = array.lock().expect("no holder died");
    items[0] = 1; // half an update: the second item is never written
    wait_at_gate(&gate);
    items[1] = 1;
}

// A process killed (SIGKILL) in the middle of an update under an array's
// lock: while it lives the lock is held, then the next `lock_timeout`
// gets `OwnerDied` with the half-done update, and the other methods go on.
#[test]
fn a_holder_killed_mid_update_leaves_owner_died_and_the_items() {
    isolated(|| {
        let array = Array::<u32>::new(2).unwrap();
        let gate = Gate::new();
        let p = Process::start(hold_at_gate, (array.clone(), gate.path())).unwrap();
        let at_gate = gate.hold();
        assert!(array.try_lock().unwrap_err().is_timeout());
        assert!(
            array
                .lock_timeout(Duration::from_millis(10))
                .unwrap_err()
                .is_timeout()
        );
        p.kill();
        assert!(p.join().is_err());
        drop(at_gate);

        let died = match array.lock_timeout(DEADLINE) {
            Err(AcquireError::OwnerDied(died)) => died,
            other => panic!("expected OwnerDied, got {other:?}"),
        };
        let mut items = died.into_guard();
        assert_eq!(*items, [1, 0]);
        items[1] = 1; // repaired
        drop(items);
        assert_eq!(array.to_vec(), [1, 1]);
        array.set(0, 5).unwrap();
        assert_eq!(array.get(0), Some(5));
    });
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable, Serialize, Deserialize)]
struct Particle {
    position: [f64; 3],
    mass: f32,
    id: u32,
}

fn step((particle, dt): (Value<Particle>, f64)) -> Particle {
    particle.update(|p| {
        for x in &mut p.position {
            *x += dt;
        }
        p.id += 1;
        *p
    })
}

// A `#[repr(C)]` struct deriving `Pod` crosses to a worker and back.
#[test]
fn a_struct_round_trips_through_a_worker() {
    isolated(|| {
        let start = Particle {
            position: [1.0, 2.0, 3.0],
            mass: 0.5,
            id: 7,
        };
        let particle = Value::new(start).unwrap();
        let seen = Process::start(step, (particle.clone(), 0.25))
            .unwrap()
            .join()
            .unwrap();
        let expected = Particle {
            position: [1.25, 2.25, 3.25],
            mass: 0.5,
            id: 8,
        };
        assert_eq!(seen, expected);
        assert_eq!(particle.load(), expected);
        let raw = RawArray::from_slice(&[start, expected]).unwrap();
        assert_eq!(raw.to_vec(), [start, expected]);
    });
}

fn attach_value_as_f32(name: String) -> String {
    match Value::<f32>::attach(&name) {
        Ok(_) => "attached".to_owned(),
        Err(e) => format!("{:?}: {e}", e.kind()),
    }
}

// Attaching checks the kind of object and the item type: its size, its
// alignment, and its name (u32 and f32 agree on the first two).
#[test]
fn attaching_as_another_type_is_refused() {
    isolated(|| {
        let value = Value::new(1u32).unwrap();
        let refused = |e: corun::Error| {
            assert_eq!(e.kind(), corun::ErrorKind::InvalidArgument, "{e}");
            e.to_string()
        };
        let why = refused(Value::<f32>::attach(value.name()).unwrap_err());
        assert!(why.contains("f32"), "{why}");
        refused(Value::<u64>::attach(value.name()).unwrap_err());
        refused(Value::<[u8; 4]>::attach(value.name()).unwrap_err());
        refused(Array::<u32>::attach(value.name()).unwrap_err());
        assert_eq!(Value::<u32>::attach(value.name()).unwrap().load(), 1);

        let answer = Process::start(attach_value_as_f32, value.name().to_owned())
            .unwrap()
            .join()
            .unwrap();
        assert!(answer.starts_with("InvalidArgument"), "{answer}");

        let array = RawArray::<u16>::new(4).unwrap();
        refused(RawArray::<i16>::attach(array.name()).unwrap_err());
        refused(RawArray::<[u8; 2]>::attach(array.name()).unwrap_err());
        refused(RawValue::<u16>::attach(array.name()).unwrap_err());
        refused(Array::<u16>::attach(array.name()).unwrap_err());
        assert_eq!(RawArray::<u16>::attach(array.name()).unwrap().len(), 4);

        let gone = Value::<u32>::attach("corun-no-such-value").unwrap_err();
        assert_eq!(gone.kind(), corun::ErrorKind::NotFound);
    });
}

// A value's segment and its lock's go away with the last handle.
#[test]
fn the_last_handle_removes_the_segments() {
    isolated(|| {
        let value = Value::new(3i8).unwrap();
        let names = [value.name().to_owned(), value.get_lock().name().to_owned()];
        let other = Value::<i8>::attach(&names[0]).unwrap();
        drop(value);
        assert!(names.iter().all(|n| in_dev_shm(n)), "a handle is open");
        assert_eq!(other.load(), 3);
        drop(other);
        assert!(!names.iter().any(|n| in_dev_shm(n)));

        let array = RawArray::<u8>::new(3).unwrap();
        let name = array.name().to_owned();
        drop(array);
        assert!(!in_dev_shm(&name));
    });
}

// --- Array and RawArray -------------------------------------------------

const SEQ: [i32; 10] = [680, 626, 934, 821, 150, 233, 548, 982, 714, 831];

/// `_TestArray.f`: running sums in place.
fn prefix_sums(seq: &mut [i32]) {
    for i in 1..seq.len() {
        seq[i] += seq[i - 1];
    }
}

fn prefix_sums_locked(array: Array<i32>) {
    prefix_sums(&mut array.lock().expect("no holder died"));
}

fn prefix_sums_raw(array: RawArray<i32>) {
    for i in 1..array.len() {
        let sum = array.get(i).unwrap() + array.get(i - 1).unwrap();
        array.set(i, sum).unwrap();
    }
}

// Ported from _TestArray.test_array: indexing, slices, and a child that
// computes running sums in the shared array.
#[test]
fn a_child_changes_an_array() {
    isolated(|| {
        let mut seq = SEQ;
        let array = Array::from_slice(&seq).unwrap();
        assert_eq!(array.len(), seq.len());
        assert_eq!(array.get(3), Some(seq[3]));
        assert_eq!(array.lock().unwrap()[2..7], seq[2..7]);

        array.lock().unwrap()[4..8].copy_from_slice(&[1, 2, 3, 4]);
        seq[4..8].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(array.to_vec(), seq);

        prefix_sums(&mut seq);
        Process::start(prefix_sums_locked, array.clone())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(array.to_vec(), seq);
    });
}

// Ported from _TestArray.test_rawarray: the same, with no lock.
#[test]
#[allow(
    unsafe_code,
    reason = "the raw array's slices, with nobody else using it"
)]
fn a_child_changes_a_raw_array() {
    isolated(|| {
        let mut seq = SEQ;
        let array = RawArray::from_slice(&seq).unwrap();
        assert_eq!(array.len(), seq.len());
        assert_eq!(array.get(3), Some(seq[3]));
        // SAFETY: nobody writes while the slice lives.
        assert_eq!(unsafe { array.as_slice() }[2..7], seq[2..7]);

        // SAFETY: this process alone uses the array meanwhile.
        let items = unsafe { array.as_mut_slice() };
        items[4..8].copy_from_slice(&[1, 2, 3, 4]);
        seq[4..8].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(array.to_vec(), seq);

        prefix_sums(&mut seq);
        Process::start(prefix_sums_raw, array.clone())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(array.to_vec(), seq);
    });
}

// Ported from _TestArray.test_array_from_size: a new array is zeroed
// (bpo-11675), each of three times.
#[test]
fn an_array_made_by_size_is_zeroed() {
    isolated(|| {
        let ten: Vec<i32> = (0..10).collect();
        for _ in 0..3 {
            let array = Array::<i32>::new(10).unwrap();
            assert_eq!(array.len(), 10);
            assert_eq!(array.to_vec(), [0; 10]);
            array.copy_from_slice(&ten);
            assert_eq!(array.to_vec(), ten);

            let raw = RawArray::<i32>::new(10).unwrap();
            assert_eq!(raw.to_vec(), [0; 10]);
            raw.copy_from_slice(&ten);
            assert_eq!(raw.to_vec(), ten);
        }
    });
}

// Ported from _TestArray.test_getobj_getlock_obj: an array has a lock of
// its own; an unlocked one has none (no `lock` method: a compile-time
// check, in `RawArray`'s docs), and neither can be attached as the other.
#[test]
fn an_array_has_a_lock_and_a_raw_array_has_none() {
    isolated(|| {
        let a1 = Array::from_slice(&(0..10).collect::<Vec<i32>>()).unwrap();
        let a2 = Array::<i32>::new(10).unwrap();
        assert_ne!(a1.get_lock().name(), a2.get_lock().name());
        {
            let _held = a1.get_lock().acquire().unwrap();
            assert!(a1.try_lock().unwrap_err().is_timeout());
            assert!(a2.try_lock().is_ok(), "another array, another lock");
        }
        let raw = RawArray::from_slice(&(0..10).collect::<Vec<i32>>()).unwrap();
        let refused = Array::<i32>::attach(raw.name()).unwrap_err();
        assert_eq!(refused.kind(), corun::ErrorKind::InvalidArgument);
        let refused = RawArray::<i32>::attach(a1.name()).unwrap_err();
        assert_eq!(refused.kind(), corun::ErrorKind::InvalidArgument);
    });
}

// Indexes past the end: `get` gives `None`, `set` an `IndexOutOfRange` error (as
// Python's `IndexError`), and a slice of the wrong length a panic (as
// `copy_from_slice`); an empty array works.
#[test]
fn indexes_past_the_end_are_refused() {
    isolated(|| {
        let array = Array::<u8>::new(3).unwrap();
        let raw = RawArray::<u8>::new(3).unwrap();
        assert_eq!(array.get(3), None);
        assert_eq!(raw.get(3), None);
        let e = array.set(3, 1).unwrap_err();
        assert_eq!(e.kind(), corun::ErrorKind::IndexOutOfRange);
        assert_eq!(
            e.to_string(),
            "index 3 out of range for an array of 3 items"
        );
        let e = raw.set(usize::MAX, 1).unwrap_err();
        assert_eq!(e.kind(), corun::ErrorKind::IndexOutOfRange);
        assert_eq!(array.to_vec(), [0; 3]);

        let wrong = catch_unwind(AssertUnwindSafe(|| array.copy_from_slice(&[1, 2])));
        assert!(wrong.is_err());
        assert!(!array.get_lock().locked(), "the lock was not taken");
        assert!(catch_unwind(AssertUnwindSafe(|| raw.copy_from_slice(&[1; 4]))).is_err());

        let empty = Array::<u64>::new(0).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.to_vec(), [0_u64; 0]);
        assert!(empty.lock().unwrap().is_empty());
        let empty = RawArray::<u64>::from_slice(&[]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(RawArray::<u64>::attach(empty.name()).unwrap().len(), 0);
    });
}

fn assert_send_sync<T: Send + Sync>() {}
fn assert_debug<T: Debug>() {}

// Handles can be shared between threads; guards stay in the thread that
// locked; everything is `Debug`.
#[test]
fn handles_are_send_sync_and_debug() {
    assert_send_sync::<Value<u64>>();
    assert_send_sync::<RawValue<u64>>();
    assert_send_sync::<Array<Particle>>();
    assert_send_sync::<RawArray<Particle>>();
    assert_debug::<Value<u64>>();
    assert_debug::<RawValue<u64>>();
    assert_debug::<Array<u64>>();
    assert_debug::<RawArray<u64>>();
    assert_debug::<ValueGuard<'static, u64>>();
    assert_debug::<ArrayGuard<'static, u64>>();
}
