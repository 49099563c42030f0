//! How jobs look: the typed results a job becomes ([`results`](super::results): JSON, text and
//! HTML from one value), and the live status line shown while a job runs.

use super::results::{Job, JobList, Started, Stopped, summary_line};
use crate::JobRecord;
use kelp_magic::{MagicResult, Output, html_escape};
use std::path::Path;

/// A job as a cell result.
pub(crate) fn job_output(r: &JobRecord) -> Output {
    Job::of(r).output()
}

/// A job just started and not waited for, with `hint` (how to follow it) as its first line.
pub(crate) fn started_output(r: &JobRecord, hint: &str) -> Output {
    Started { job: Job::of(r), hint: hint.to_string() }.output()
}

/// A job after `%c2d stop`; `already_ended` when it had ended before.
pub(crate) fn stopped_output(r: &JobRecord, already_ended: bool) -> Output {
    Stopped { job: Job::of(r), already_ended }.output()
}

/// The live display while waiting: status, time, and the log's last line.
pub(crate) fn live(r: &JobRecord, log: &Path) -> Output {
    let tail = crate::safefs::read_tail(log, 4096);
    let last = tail
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.chars().take(160).collect::<String>())
        .unwrap_or_default();
    let text = if last.is_empty() { summary_line(r) } else { format!("{}  | {last}", summary_line(r)) };
    let html = format!("<div><code>{}</code></div>", html_escape(&text));
    Output::text(text).with_html(html)
}

/// The job list.
pub(crate) fn list_output(jobs: &[JobRecord]) -> Output {
    JobList { jobs: jobs.iter().map(Job::of).collect() }.output()
}

/// The live status display of a job being waited for: shown once the job outlasts a moment,
/// refreshed when its text changes, left on the final state.
pub(crate) struct LiveView {
    id: String,
    started: std::time::Instant,
    shown: bool,
    last: String,
}

impl LiveView {
    pub(crate) fn new(job_id: &str) -> Self {
        LiveView {
            id: format!("kelp-c2d-{job_id}"),
            started: std::time::Instant::now(),
            shown: false,
            last: String::new(),
        }
    }

    /// Show `live` (the job's state now); `ended` gives the final update.
    pub(crate) fn show(&mut self, ctx: &kelp_magic::MagicContext, live: &Output, ended: bool) {
        if ended {
            if self.shown {
                ctx.sink.update_display(live, &self.id);
            }
            return;
        }
        if self.started.elapsed() < std::time::Duration::from_millis(300) {
            return;
        }
        let text = live.plain().unwrap_or_default().to_string();
        if !self.shown {
            ctx.sink.display(live, Some(&self.id));
            self.shown = true;
        } else if text != self.last {
            ctx.sink.update_display(live, &self.id);
        }
        self.last = text;
    }
}
