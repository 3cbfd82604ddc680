//! The deposit / pay-bill example: without the lock, updates are lost.

use std::sync::Arc;

use corun::threading::{Lock, Thread};

const START: i64 = 100;
const TIMES: usize = 100_000;
const AMOUNT: i64 = 10;

pub(crate) fn run() -> anyhow::Result<()> {
    let balance = Arc::new(Lock::new(START));
    println!("starting balance: {START}");
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
