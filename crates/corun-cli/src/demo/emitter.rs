//! Event-driven programming in the seeds' picture: emitters fire events,
//! the event loop matches them to handlers, the handlers are called back.
//! Three applicants apply to a hiring committee and go on with their day
//! ("don't call us — we'll email you when we decide"); the committee
//! decides later, on the loop, and each decision is an event whose
//! handlers run then: the applicant's inbox, the committee's log, and HR,
//! an async handler that runs as a task on the loop.

use std::time::Duration;

use corun::asyncio::get_running_loop;
use corun::events::{LocalEmitter, once};

/// One decision of the committee: the payload of its events.
#[derive(Debug, Clone)]
struct Decision {
    applicant: &'static str,
    hired: bool,
}

/// Who applies, whether they get the job, and when the committee decides.
const APPLICANTS: [(&str, bool, u64); 3] =
    [("Alice", true, 10), ("Bob", false, 20), ("Carol", true, 30)];

pub(crate) fn run() -> anyhow::Result<()> {
    println!("Emitters fire events; the event loop runs the handlers when they do:\n");
    println!("  emitters             event loop                 handlers");
    println!("  committee --emit-->  timers, ready queue  -->   inbox, log, HR (a task)\n");
    println!("Three applicants apply to a hiring committee (an emitter) and go on with");
    println!("their day: \"don't call us, we'll email you when we decide\". Each leaves a");
    println!("handler (a callback) for its own `decided:<name>` event, and the committee");
    println!("decides later, on timers of the event loop.\n");

    corun::asyncio::run(async {
        let committee = LocalEmitter::<Decision>::new();
        committee.on("decided", |d| {
            let verdict = if d.hired { "hired" } else { "not this time" };
            println!("committee: decided on {} — {verdict}", d.applicant);
        });
        committee.on_async("decided", |d: Decision| async move {
            if d.hired {
                println!(
                    "  HR (a task on the loop): offer letter sent to {}",
                    d.applicant
                );
            }
        });
        for (name, _, _) in APPLICANTS {
            committee.once(format!("decided:{name}"), move |d: &Decision| {
                let mail = if d.hired {
                    "Congratulations, you're hired!"
                } else {
                    "Thank you for applying; we went another way."
                };
                println!("  {name}'s inbox: \"{mail}\"");
            });
            println!("{name} applies, leaves an email address, and goes back to work");
        }

        let event_loop = get_running_loop()?;
        for (applicant, hired, after_ms) in APPLICANTS {
            let committee = committee.clone();
            event_loop.call_later(Duration::from_millis(after_ms), move || {
                println!("[after {after_ms} ms] the committee meets about {applicant}");
                let decision = Decision { applicant, hired };
                // The committee's own event, then the applicant's.
                for event in ["decided".to_owned(), format!("decided:{applicant}")] {
                    if let Err(e) = committee.emit(&event, decision.clone()) {
                        println!("  could not emit {event}: {e}");
                    }
                }
            });
        }
        println!(
            "main: {} applications in, {} handlers waiting; the loop waits for the committee\n",
            APPLICANTS.len(),
            committee
                .event_names()
                .iter()
                .map(|n| committee.listener_count(n))
                .sum::<usize>()
        );

        // main itself awaits the last decision, as a future.
        let last = once(&committee, "decided:Carol").await?;
        committee.wait_for_complete().await;
        println!(
            "\nmain: awaited the last decision ({}) with once(), and HR's tasks with wait_for_complete()",
            last.applicant
        );
        println!(
            "main: handlers left: {:?} (the applicants' were `once`)",
            committee.event_names()
        );
        Ok::<(), corun::Error>(())
    })??;
    Ok(())
}
