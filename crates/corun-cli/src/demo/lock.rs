//! The deposit / pay-bill example: first without a lock, where the two
//! threads' read-modify-write updates overwrite each other and the balance
//! drifts from 100; then under a `Lock`, where it ends at 100 every time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

use corun::threading::{Barrier, Lock, Thread};

const START: i64 = 100;
/// Updates per thread under the lock.
const TIMES: usize = 100_000;
/// Updates per thread in the race: many, so that the two loops overlap long
/// enough to lose updates on every run of a multi-core machine.
const RACE_TIMES: usize = 1_000_000;
const AMOUNT: i64 = 10;

pub(crate) fn run() -> anyhow::Result<()> {
    race()?;
    println!();
    locked()
}

/// `balance += amount` as Python runs it: read, add, write back, with
/// nothing stopping the other thread from writing in between. Each access
/// is atomic (no undefined behaviour), the update as a whole is not.
fn unlocked_add(balance: &AtomicI64, amount: i64) {
    let v = balance.load(Relaxed);
    balance.store(std::hint::black_box(v + amount), Relaxed);
}

/// Both threads without a lock, started together behind a `Barrier`.
fn race() -> anyhow::Result<()> {
    let balance = Arc::new(AtomicI64::new(START));
    let start = Arc::new(Barrier::new(2)?);
    println!("without a lock, starting balance: {START}");
    let spawn = |name: &str, amount: i64| {
        let balance = Arc::clone(&balance);
        let start = Arc::clone(&start);
        Thread::builder().name(name).spawn(move || {
            start.wait().expect("the barrier is never broken");
            for _ in 0..RACE_TIMES {
                unlocked_add(&balance, amount);
            }
        })
    };
    let deposit = spawn("deposit", AMOUNT)?;
    let pay_bill = spawn("pay_bill", -AMOUNT)?;
    deposit.join()?;
    pay_bill.join()?;
    let end = balance.load(Relaxed);
    println!("deposited and paid {AMOUNT} each, {RACE_TIMES} times, from two threads");
    println!("final balance: {end}");
    if end == START {
        println!("no update was lost this time; run again");
    } else {
        // A lost deposit and a lost payment cancel out in the balance, so
        // this is how many more of one kind were lost: a lower bound.
        let lost = (end - START).abs() / AMOUNT;
        println!("at least {lost} updates were lost: one thread read the balance, the other");
        println!("wrote it, and the first wrote back its stale sum");
    }
    Ok(())
}

/// Both threads again, each update under a `Lock`: the balance stays 100.
fn locked() -> anyhow::Result<()> {
    let balance = Arc::new(Lock::new(START));
    println!("with a Lock, starting balance: {START}");
    let deposit = {
        let balance = Arc::clone(&balance);
        Thread::builder().name("deposit").spawn(move || {
            for _ in 0..TIMES {
                *balance.acquire() += AMOUNT;
            }
        })?
    };
    let pay_bill = {
        let balance = Arc::clone(&balance);
        Thread::builder().name("pay_bill").spawn(move || {
            for _ in 0..TIMES {
                *balance.acquire() -= AMOUNT;
            }
        })?
    };
    deposit.join()?;
    pay_bill.join()?;
    let end = *balance.acquire();
    println!("deposited and paid {AMOUNT} each, {TIMES} times, from two threads");
    println!("final balance: {end}");
    anyhow::ensure!(
        end == START,
        "lost updates: balance is {end}, expected {START}"
    );
    Ok(())
}
