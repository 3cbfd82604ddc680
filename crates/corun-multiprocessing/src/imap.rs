//! The iterator behind [`Pool::imap`] and [`Pool::imap_unordered`].

use std::collections::{HashMap, VecDeque};
use std::fmt;

use corun_concurrent::{Error, Task};
use crossbeam_channel::{Receiver, Sender};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::pool::Pool;
use crate::worker::Call;

/// Chunks in flight per worker process: enough to keep each worker's
/// pipeline full while results are taken.
const WINDOW_PER_PROCESS: usize = 8;

/// Results of [`Pool::imap`] (input order) or [`Pool::imap_unordered`]
/// (completion order).
///
/// Items are read from the input as results are taken, with at most a
/// window of chunks in flight. After the first error the iterator yields
/// it and ends; chunks not started are cancelled, as they are when the
/// iterator is dropped. An item that cannot be submitted (it does not
/// serialise, or the pool was closed) is such an error at its place: the
/// results of the items before it come first.
#[must_use = "the tasks are cancelled when the iterator is dropped"]
pub struct Imap<'p, A, R, I> {
    pool: &'p Pool,
    f: fn(A) -> R,
    inputs: I,
    chunksize: usize,
    window: usize,
    /// Input order: chunks in submission order.
    ordered: Option<VecDeque<Task<Vec<R>>>>,
    /// Completion order: chunks by number, and the numbers as they finish.
    unordered: Option<Unordered<R>>,
    /// The results of the chunk being yielded.
    ready: std::vec::IntoIter<R>,
    submitted: u64,
    exhausted: bool,
    /// Why a chunk could not be submitted; yielded once the chunks
    /// submitted before it are.
    failure: Option<Error>,
    ended: bool,
}

struct Unordered<R> {
    tasks: HashMap<u64, Task<Vec<R>>>,
    done_tx: Sender<u64>,
    done_rx: Receiver<u64>,
}

impl<'p, A, R, I> Imap<'p, A, R, I>
where
    A: Serialize + DeserializeOwned + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
    I: Iterator<Item = A>,
{
    pub(crate) fn new(
        pool: &'p Pool,
        f: fn(A) -> R,
        inputs: I,
        chunksize: usize,
        ordered: bool,
    ) -> Self {
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        Self {
            pool,
            f,
            inputs,
            chunksize,
            window: pool.processes().saturating_mul(WINDOW_PER_PROCESS).max(1),
            ordered: ordered.then(VecDeque::new),
            unordered: (!ordered).then(|| Unordered {
                tasks: HashMap::new(),
                done_tx,
                done_rx,
            }),
            ready: Vec::new().into_iter(),
            submitted: 0,
            exhausted: false,
            failure: None,
            ended: false,
        }
    }

    fn in_flight(&self) -> usize {
        match (&self.ordered, &self.unordered) {
            (Some(queue), _) => queue.len(),
            (None, Some(u)) => u.tasks.len(),
            (None, None) => 0,
        }
    }

    /// Submits chunks until the window is full or the input ends; a chunk
    /// that cannot be submitted ends the input, and its error waits in
    /// `failure`.
    fn top_up(&mut self) {
        while !self.exhausted && self.in_flight() < self.window {
            let chunk: Vec<A> = self.inputs.by_ref().take(self.chunksize).collect();
            if chunk.is_empty() {
                self.exhausted = true;
                break;
            }
            let n = self.submitted;
            let submitted = self.pool.check_running().and_then(|()| {
                self.pool
                    .engine()
                    .submit::<Vec<R>>(Call::batch(self.f, &chunk)?, || format!("imap chunk {n}"))
            });
            let task = match submitted {
                Ok(task) => task,
                Err(e) => {
                    self.failure = Some(e);
                    self.exhausted = true;
                    break;
                }
            };
            self.submitted += 1;
            if let Some(queue) = &mut self.ordered {
                queue.push_back(task);
            } else if let Some(u) = &mut self.unordered {
                let done = u.done_tx.clone();
                task.add_done_callback(move |_| {
                    let _ = done.send(n);
                });
                u.tasks.insert(n, task);
            }
        }
    }

    /// The next finished chunk's results, `None` when all are taken.
    fn next_chunk(&mut self) -> Option<Result<Vec<R>, Error>> {
        if let Some(queue) = &mut self.ordered {
            return queue.pop_front().map(Task::result);
        }
        let u = self.unordered.as_mut()?;
        if u.tasks.is_empty() {
            return None;
        }
        let n = u.done_rx.recv().ok()?;
        u.tasks.remove(&n).map(Task::result)
    }
}

impl<A, R, I> Iterator for Imap<'_, A, R, I>
where
    A: Serialize + DeserializeOwned + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
    I: Iterator<Item = A>,
{
    type Item = Result<R, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.ready.next() {
                return Some(Ok(item));
            }
            if self.ended {
                return None;
            }
            self.top_up();
            match self.next_chunk() {
                Some(Ok(chunk)) => self.ready = chunk.into_iter(),
                None => {
                    self.ended = true;
                    return self.failure.take().map(Err);
                }
                Some(Err(e)) => {
                    self.ended = true;
                    self.cancel_rest();
                    return Some(Err(e));
                }
            }
        }
    }
}

impl<A, R, I> Imap<'_, A, R, I> {
    /// Cancels the chunks in flight that have not started.
    fn cancel_rest(&mut self) {
        if let Some(queue) = &mut self.ordered {
            for task in queue.drain(..) {
                task.cancel();
            }
        }
        if let Some(u) = &mut self.unordered {
            for (_, task) in u.tasks.drain() {
                task.cancel();
            }
        }
    }
}

impl<A, R, I> Drop for Imap<'_, A, R, I> {
    fn drop(&mut self) {
        self.cancel_rest();
    }
}

impl<A, R, I> fmt::Debug for Imap<'_, A, R, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Imap")
            .field("ordered", &self.ordered.is_some())
            .field("chunksize", &self.chunksize)
            .field("submitted", &self.submitted)
            .field("exhausted", &self.exhausted)
            .finish()
    }
}
