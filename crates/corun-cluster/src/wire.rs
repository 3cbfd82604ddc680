//! What travels through the server: the subjects tasks and results are
//! published on, the headers they carry, and a task's outcome.
//!
//! A task message is a process pool's call, as bytes
//! ([`Call::to_bytes`](corun_multiprocessing::remote::Call::to_bytes)), on
//! the subject `corun.task.<queue>.<fingerprint>`: only workers of the
//! identical binary consume it. Its headers name the task and the subject
//! to answer on. The result message carries the worker's reply, or the
//! error that ended the task there, under the same task name.

use std::time::Duration;

use async_nats::HeaderMap;
use corun_concurrent::{Error, ErrorKind};

/// The task's name, `<client>.<number>`, on a task and on its result.
pub(crate) const TASK: &str = "Corun-Task";
/// The subject a task's result goes to.
pub(crate) const REPLY_TO: &str = "Corun-Reply";
/// On a result: `reply` (the payload is the worker's reply) or an error
/// kind (the payload is the error's message).
pub(crate) const OUTCOME: &str = "Corun-Outcome";
/// On a task: its deadline on the worker, in milliseconds.
pub(crate) const TIMEOUT: &str = "Corun-Timeout";
/// On a task or a result too large for one message: the name of the
/// object in the stream's object store that holds the payload.
pub(crate) const OBJECT: &str = "Corun-Object";
/// A claim's value when the executor took its task back first.
pub(crate) const CANCELLED: &str = "cancelled";
/// JetStream's de-duplication header: a publish retried within the
/// stream's duplicate window is stored once.
pub(crate) const MSG_ID: &str = "Nats-Msg-Id";

/// The subject of a queue's tasks for one binary.
pub(crate) fn task_subject(queue: &str, fingerprint: u64) -> String {
    format!("corun.task.{queue}.{fingerprint:016x}")
}

/// The subject every task of every queue and binary falls under.
pub(crate) const TASKS: &str = "corun.task.>";

/// The subject of one client's results.
pub(crate) fn result_subject(client: &str) -> String {
    format!("corun.result.{client}")
}

/// The subject every result falls under.
pub(crate) const RESULTS: &str = "corun.result.>";

/// The durable consumer the workers of one binary share on a queue.
pub(crate) fn consumer_name(queue: &str, fingerprint: u64) -> String {
    format!("workers-{queue}-{fingerprint:016x}")
}

/// The first two parts of a live worker's key, `<queue>.<binary>`; the
/// third names the worker.
pub(crate) fn worker_prefix(queue: &str, fingerprint: u64) -> String {
    format!("{queue}.{fingerprint:016x}")
}

/// The name of the object holding task `task`'s argument (`"task"`) or
/// result (`"result"`).
pub(crate) fn object_name(what: &str, task: &str) -> String {
    format!("{what}.{task}")
}

/// Whether `name` may stand in a subject token and a consumer name: ASCII
/// letters, digits, `-` and `_`.
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The headers of a task message: its name, where to answer, its
/// deadline, and the object holding its argument when it is large.
pub(crate) fn task_headers(
    task: &str,
    reply_to: &str,
    timeout: Option<Duration>,
    object: Option<&str>,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(TASK, task);
    headers.insert(REPLY_TO, reply_to);
    headers.insert(MSG_ID, task);
    if let Some(limit) = timeout {
        headers.insert(TIMEOUT, limit.as_millis().to_string().as_str());
    }
    if let Some(name) = object {
        headers.insert(OBJECT, name);
    }
    headers
}

/// A task's deadline, from its headers.
pub(crate) fn timeout(headers: Option<&HeaderMap>) -> Option<Duration> {
    header(headers, TIMEOUT)?
        .parse()
        .ok()
        .map(Duration::from_millis)
}

/// How a task ended on a worker, as carried back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The process pool's reply (a value, or the function's own failure).
    Reply(Vec<u8>),
    /// The task could not run to a reply there: its worker process died,
    /// it ran past its deadline, the call did not decode.
    Failed { kind: ErrorKind, message: String },
}

impl Outcome {
    /// The result message's headers and payload for task `task`.
    pub(crate) fn to_message(&self, task: &str) -> (HeaderMap, Vec<u8>) {
        let mut headers = HeaderMap::new();
        headers.insert(TASK, task);
        // A result published again (the task redelivered) is stored once.
        headers.insert(MSG_ID, format!("result.{task}").as_str());
        match self {
            Outcome::Reply(bytes) => {
                headers.insert(OUTCOME, "reply");
                (headers, bytes.clone())
            }
            Outcome::Failed { kind, message } => {
                headers.insert(OUTCOME, kind_name(*kind));
                (headers, message.clone().into_bytes())
            }
        }
    }

    /// A result message read back; `None` for a message that is none.
    pub(crate) fn from_message(headers: Option<&HeaderMap>, payload: &[u8]) -> Option<Self> {
        let outcome = headers?.get(OUTCOME)?.as_str();
        Some(if outcome == "reply" {
            Outcome::Reply(payload.to_vec())
        } else {
            Outcome::Failed {
                kind: kind_from_name(outcome),
                message: String::from_utf8_lossy(payload).into_owned(),
            }
        })
    }

    /// The failure as corun's error (for [`Outcome::Failed`]).
    pub(crate) fn error(kind: ErrorKind, message: String) -> Error {
        Error::new(kind, message)
    }
}

/// The kinds a task can end with on a worker, by name; anything else is
/// carried as `remote`.
const KINDS: [(ErrorKind, &str); 7] = [
    (ErrorKind::WorkerDied, "worker-died"),
    (ErrorKind::TaskTimeout, "task-timeout"),
    (ErrorKind::Serialization, "serialization"),
    (ErrorKind::Panicked, "panicked"),
    (ErrorKind::Cancelled, "cancelled"),
    (ErrorKind::Broken, "broken"),
    (ErrorKind::Remote, "remote"),
];

fn kind_name(kind: ErrorKind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("remote", |(_, name)| name)
}

fn kind_from_name(name: &str) -> ErrorKind {
    KINDS
        .iter()
        .find(|(_, n)| *n == name)
        .map_or(ErrorKind::Remote, |(kind, _)| *kind)
}

/// The header's value, if the message has it.
pub(crate) fn header<'a>(headers: Option<&'a HeaderMap>, name: &str) -> Option<&'a str> {
    Some(headers?.get(name)?.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_go_there_and_back() {
        for outcome in [
            Outcome::Reply(vec![1, 2, 3]),
            Outcome::Failed {
                kind: ErrorKind::WorkerDied,
                message: "killed by SIGKILL".into(),
            },
        ] {
            let (headers, payload) = outcome.to_message("c1.7");
            assert_eq!(header(Some(&headers), TASK), Some("c1.7"));
            assert_eq!(header(Some(&headers), MSG_ID), Some("result.c1.7"));
            assert_eq!(
                Outcome::from_message(Some(&headers), &payload),
                Some(outcome)
            );
        }
        assert_eq!(Outcome::from_message(None, b""), None);
    }

    #[test]
    fn unknown_kinds_arrive_as_remote() {
        assert_eq!(kind_from_name("something-new"), ErrorKind::Remote);
        assert_eq!(kind_name(ErrorKind::Deadlock), "remote");
        for (kind, name) in KINDS {
            assert_eq!(kind_from_name(kind_name(kind)), kind, "{name}");
        }
    }

    #[test]
    fn subjects_name_the_queue_and_the_binary() {
        assert_eq!(
            task_subject("default", 0xab),
            "corun.task.default.00000000000000ab"
        );
        assert_eq!(consumer_name("q", 1), "workers-q-0000000000000001");
        assert_eq!(result_subject("c9"), "corun.result.c9");
        assert!(is_token("my_queue-2") && !is_token("a.b") && !is_token("") && !is_token("a b"));
    }
}
