//! The iterator behind `Pool::imap` and `Pool::imap_unordered`: the
//! executors' shared [`Window`] over chunks of the input.

use std::fmt;
use std::marker::PhantomData;

use corun_concurrent::{Error, Submitter, Task, Window};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::pools::engine::Engine;
use crate::workers::worker::Call;

/// Chunks in flight (not done) per worker process: enough that the pool's
/// queue never runs dry between the consumer's wake-ups, so the workers
/// keep their pipelines of short calls full, as when every chunk is
/// submitted at once (as `Executor::map` does).
const WINDOW_PER_PROCESS: usize = 256;

/// Results of [`Pool::imap`](crate::Pool::imap) (input order) or
/// [`Pool::imap_unordered`](crate::Pool::imap_unordered) (completion order).
///
/// Items are read from the input as results are taken, with at most a
/// window of chunks in flight. After the first error the iterator yields
/// it and ends; chunks not started are cancelled, as they are when the
/// iterator is dropped. An item that cannot be submitted (it does not
/// serialise, or the pool was closed) is such an error at its place: the
/// results of the items before it come first.
#[must_use = "the tasks are cancelled when the iterator is dropped"]
pub struct Imap<'p, A, R, I> {
    window: Window<Chunks<I>, SubmitChunk<'p, A, R>, Vec<R>>,
    /// The results of the chunk being yielded.
    ready: std::vec::IntoIter<R>,
}

/// The input, `size` items at a time.
struct Chunks<I> {
    items: I,
    size: usize,
}

/// Submits one chunk to the pool's engine as one call.
struct SubmitChunk<'p, A, R> {
    engine: &'p Engine,
    f: fn(A) -> R,
    submitted: u64,
    takes: PhantomData<fn(A)>,
}

impl<'p, A, R, I> Imap<'p, A, R, I>
where
    A: Serialize + DeserializeOwned + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
    I: Iterator<Item = A>,
{
    pub(crate) fn new(
        engine: &'p Engine,
        f: fn(A) -> R,
        inputs: I,
        chunksize: usize,
        ordered: bool,
    ) -> Self {
        let chunks = Chunks {
            items: inputs,
            size: chunksize,
        };
        let submit = SubmitChunk {
            engine,
            f,
            submitted: 0,
            takes: PhantomData,
        };
        let size = engine.processes().saturating_mul(WINDOW_PER_PROCESS);
        let window = if ordered {
            Window::ordered(chunks, size, submit, None)
        } else {
            Window::unordered(chunks, size, submit, None)
        };
        Self {
            window,
            ready: Vec::new().into_iter(),
        }
    }
}

impl<I: Iterator> Iterator for Chunks<I> {
    type Item = Vec<I::Item>;

    fn next(&mut self) -> Option<Self::Item> {
        let chunk: Vec<I::Item> = self.items.by_ref().take(self.size).collect();
        (!chunk.is_empty()).then_some(chunk)
    }
}

impl<A, R> Submitter<Vec<A>> for SubmitChunk<'_, A, R>
where
    A: Serialize + DeserializeOwned + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
{
    type Output = Vec<R>;

    fn submit(&mut self, chunk: Vec<A>) -> Result<Task<Vec<R>>, Error> {
        let n = self.submitted;
        let task = self
            .engine
            .submit::<Vec<R>>(Call::batch(self.f, &chunk)?, || format!("imap chunk {n}"))?;
        self.submitted += 1;
        Ok(task)
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
            match self.window.next()? {
                Ok(chunk) => self.ready = chunk.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl<A, R, I> fmt::Debug for Imap<'_, A, R, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Imap")
            .field("window", &self.window)
            .field("ready", &self.ready.len())
            .finish()
    }
}
