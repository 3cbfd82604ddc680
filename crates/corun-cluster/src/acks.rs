//! Acknowledgements sent together: a message to acknowledge waits up to
//! [`DELAY`] for others, and they all go in one write.
//!
//! The server's cost is per wake-up more than per message: on a small
//! machine, one acknowledgement per result read costs the server about as
//! much as the result itself. Sent together, they cost it one read. A
//! result not yet acknowledged stays stored: nothing is lost if the
//! executor goes meanwhile. (Workers acknowledge each task at once: one
//! that dies after it answered should not have its task run again.)

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::Message;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// How long an acknowledgement waits for others.
pub(crate) const DELAY: Duration = Duration::from_millis(20);
/// How many wait at most.
const BATCH: usize = 256;

/// Messages waiting to be acknowledged, and the task that acknowledges
/// them.
#[derive(Default)]
pub(crate) struct Acks {
    waiting: Mutex<Vec<Message>>,
    /// Wakes the sender: the first message waits, or a batch is full.
    wake: Notify,
}

impl Acks {
    /// Acknowledgements for the runtime this is called in: the sending
    /// task runs as long as the returned handle is held.
    pub(crate) fn start() -> Arc<Self> {
        let acks = Arc::new(Self::default());
        tokio::spawn(Arc::clone(&acks).send());
        acks
    }

    /// Acknowledges `message` soon.
    pub(crate) fn push(&self, message: Message) {
        let mut waiting = self.waiting.lock();
        waiting.push(message);
        if waiting.len() == 1 || waiting.len() >= BATCH {
            self.wake.notify_one();
        }
    }

    /// Acknowledges every message waiting now.
    pub(crate) async fn flush(&self) {
        let batch = std::mem::take(&mut *self.waiting.lock());
        for message in batch {
            let _ = message.ack().await;
        }
    }

    /// Sends the acknowledgements as they come, [`DELAY`] after the first
    /// of a batch, or at once for a full batch.
    async fn send(self: Arc<Self>) {
        loop {
            self.wake.notified().await;
            let full = self.waiting.lock().len() >= BATCH;
            if !full {
                let _ = tokio::time::timeout(DELAY, async {
                    loop {
                        self.wake.notified().await;
                        if self.waiting.lock().len() >= BATCH {
                            return;
                        }
                    }
                })
                .await;
            }
            self.flush().await;
        }
    }
}
