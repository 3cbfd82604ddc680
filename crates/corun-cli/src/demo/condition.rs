//! A producer and a consumer share a bounded buffer guarded by a Condition.

use std::collections::VecDeque;
use std::sync::Arc;

use corun::threading::{Condition, Thread};

const CAPACITY: usize = 3;
const ITEMS: u32 = 10;

struct Buffer {
    items: VecDeque<u32>,
    done: bool,
}

pub(crate) fn run() -> anyhow::Result<()> {
    let buffer = Arc::new(Condition::new(Buffer {
        items: VecDeque::new(),
        done: false,
    }));
    let producer = {
        let buffer = Arc::clone(&buffer);
        Thread::builder().name("producer").spawn(move || {
            for item in 1..=ITEMS {
                let mut guard = buffer.acquire();
                guard.wait_for(|b| b.items.len() < CAPACITY);
                guard.items.push_back(item);
                println!(
                    "producer: made {item:>2} (buffer holds {})",
                    guard.items.len()
                );
                guard.notify_all();
            }
            let mut guard = buffer.acquire();
            guard.done = true;
            guard.notify_all();
        })?
    };
    let consumer = {
        let buffer = Arc::clone(&buffer);
        Thread::builder().name("consumer").spawn(move || {
            let mut total = 0;
            loop {
                let mut guard = buffer.acquire();
                guard.wait_for(|b| !b.items.is_empty() || b.done);
                let Some(item) = guard.items.pop_front() else {
                    return total;
                };
                guard.notify_all();
                drop(guard);
                println!("consumer: used {item:>2}");
                total += item;
            }
        })?
    };
    producer.join()?;
    let total = consumer.join()?;
    println!("consumer used every item: sum {total}");
    anyhow::ensure!(total == (1..=ITEMS).sum::<u32>(), "items were lost");
    Ok(())
}
