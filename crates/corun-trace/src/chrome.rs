//! Export to the Chrome trace event format (Perfetto, `chrome://tracing`).
//!
//! The format is documented in "Trace Event Format" (Google, 2016): a JSON
//! object whose `traceEvents` array holds, here, `"M"` metadata events that
//! name process 1 and each worker lane (`tid` = the lane's index in
//! [`Timeline::workers`]), then one `"X"` complete event per started task.

use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::timeline::Timeline;
use crate::units::nanos;

/// A duration as microseconds with three decimals (exact to the ns).
struct Micros(Duration);

/// A string as a JSON string literal, quotes included.
struct JsonStr<'a>(&'a str);

/// The document, written as it is displayed.
struct Document<'a>(&'a Timeline);

impl Timeline {
    /// The timeline in the Chrome trace event format, which Perfetto and
    /// `chrome://tracing` open: one `"X"` complete event per started task
    /// (`ts`/`dur` in microseconds, `pid` 1, `tid` = lane index, `name` =
    /// label, `args` with `id`, `outcome` and `queue_wait_us`), plus `"M"`
    /// metadata events naming each lane. A task still running lasts until
    /// the timeline's [`end`](Self::end), with outcome `"running"`; tasks
    /// that never started are left out.
    ///
    /// ```
    /// use corun::trace::{Outcome, Recorder};
    ///
    /// let rec = Recorder::new();
    /// let id = rec.submitted("fetch \"a\"");
    /// rec.started_on(id, "pid 42");
    /// rec.finished(id, Outcome::Ok);
    /// let json = rec.timeline().to_chrome_json();
    /// assert!(json.contains(r#""ph":"X""#));
    /// assert!(json.contains(r#""name":"fetch \"a\"""#));
    /// assert!(json.contains(r#""args":{"name":"pid 42"}"#));
    /// ```
    #[must_use]
    pub fn to_chrome_json(&self) -> String {
        Document(self).to_string()
    }
}

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = nanos(self.0);
        write!(f, "{}.{:03}", ns / 1000, ns % 1000)
    }
}

impl fmt::Display for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

impl fmt::Display for Document<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let timeline = self.0;
        f.write_str("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n")?;
        f.write_str(r#"{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"corun"}}"#)?;
        for (tid, lane) in timeline.workers().iter().enumerate() {
            write!(
                f,
                ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{tid},\"args\":{{\"name\":{}}}}}",
                JsonStr(lane)
            )?;
            write!(
                f,
                ",\n{{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":{tid},\"args\":{{\"sort_index\":{tid}}}}}"
            )?;
        }
        let lanes = timeline.lane_indices();
        for task in timeline.tasks() {
            let (Some(started), Some(worker)) = (task.started, task.worker.as_deref()) else {
                continue;
            };
            let tid = lanes.get(worker).copied().unwrap_or_default();
            let end = task.finished.unwrap_or(timeline.end().max(started));
            let outcome = task.outcome.as_ref().map_or("running", |o| o.as_str());
            write!(
                f,
                ",\n{{\"name\":{},\"cat\":\"task\",\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":1,\"tid\":{tid},\"args\":{{\"id\":{},\"outcome\":\"{outcome}\",\"queue_wait_us\":{}}}}}",
                JsonStr(&task.label),
                Micros(started),
                Micros(end.saturating_sub(started)),
                task.id.as_u64(),
                Micros(started.saturating_sub(task.submitted)),
            )?;
        }
        f.write_str("\n]}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_are_exact() {
        assert_eq!(
            Micros(Duration::from_nanos(1_234_567)).to_string(),
            "1234.567"
        );
        assert_eq!(Micros(Duration::from_nanos(5)).to_string(), "0.005");
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(
            JsonStr("a\"b\\c\nd\u{1}é").to_string(),
            r#""a\"b\\c\nd\u0001é""#
        );
    }
}
