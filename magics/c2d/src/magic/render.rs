//! How jobs look: the JSON a program reads (schema in the crate docs), plain text, HTML, and
//! the live status line shown while a job runs.

use crate::JobRecord;
use kelp_magic::{Output, html_escape};
use serde_json::{Value, json};
use std::path::Path;

/// The `application/json` form of a job (documented in the crate docs).
pub(crate) fn job_json(r: &JobRecord) -> Value {
    let s = &r.spec;
    json!({
        "jobId": r.job_id,
        "status": r.status.code(),
        "statusText": r.status_text,
        "finished": r.status.is_terminal(),
        "ok": r.status.is_terminal() && !r.status.is_failure(),
        "failure": r.failure,
        "exitCode": r.exit_code,
        "dateCreated": r.created,
        "dateStarted": r.started,
        "dateFinished": r.finished,
        "elapsed": (r.elapsed() * 1000.0).round() / 1000.0,
        "environment": r.environment,
        "datasets": s.datasets.iter().map(|d| json!({"id": d.id, "source": d.source})).collect::<Vec<_>>(),
        "algorithm": {"source": s.algorithm.source, "container": s.algorithm.container},
        "params": s.params,
        "resources": {"cpu": s.resources.cpu, "ram": s.resources.ram, "disk": s.resources.disk},
        "timeout": s.timeout_secs,
        "results": r.results,
        "limits": r.limits,
        "remote": r.remote,
    })
}

fn short(id: &str) -> &str {
    &id[..8.min(id.len())]
}

fn summary_line(r: &JobRecord) -> String {
    let why = r.failure.as_ref().map(|f| format!(" — {}", f.message)).unwrap_or_default();
    format!("job {}  {}  {:.1} s{why}", short(&r.job_id), r.status, r.elapsed())
}

/// A job as a cell result.
pub(crate) fn job_output(r: &JobRecord) -> Output {
    let mut text = format!("{}\n", summary_line(r));
    text.push_str(&format!("  id: {}\n", r.job_id));
    for d in &r.spec.datasets {
        text.push_str(&format!("  dataset {}: {}\n", d.id, d.source.clone().unwrap_or_default()));
    }
    text.push_str(&format!(
        "  algorithm: {} ({})\n",
        r.spec.algorithm.source.clone().unwrap_or_default(),
        r.spec.algorithm.container.entrypoint
    ));
    if let Some(rj) = &r.remote {
        text.push_str(&format!(
            "  runs on: {} ({}), node job {}, owner {}\n",
            rj.node_url, rj.backend, rj.job_id, rj.owner
        ));
    }
    for f in &r.results {
        text.push_str(&format!("  result {}: {} ({} bytes)\n", f.index, f.filename, f.filesize));
    }
    if r.status.is_terminal() && !r.status.is_failure() {
        text.push_str(&format!("  fetch the outputs: %c2d result {}\n", short(&r.job_id)));
    }
    let colour = if r.status.is_failure() {
        "#b00020"
    } else if r.status.is_terminal() {
        "#1b5e20"
    } else {
        "#555"
    };
    let html = format!(
        "<div><b>C2D job</b> <code>{}</code> <span style=\"color:{colour}\">{}</span> ({:.1} s){}</div>",
        html_escape(&r.job_id),
        html_escape(&r.status.to_string()),
        r.elapsed(),
        r.failure.as_ref().map(|f| format!("<div>{}</div>", html_escape(&f.message))).unwrap_or_default()
    );
    Output::text(text).with_html(html).with_json(job_json(r))
}

/// A job just started and not waited for: [`job_output`] with `hint` (how to follow it) as its
/// first line, in the result itself so that `kelp c2d start --json` prints the JSON alone on
/// stdout.
pub(crate) fn started_output(r: &JobRecord, hint: &str) -> Output {
    let out = job_output(r);
    let text = format!("{hint}\n{}", out.plain().unwrap_or_default());
    let html = out.data.get("text/html").and_then(|h| h.as_str()).unwrap_or_default();
    Output::text(text).with_html(format!("<div>{}</div>{html}", html_escape(hint))).with_json(job_json(r))
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
    if jobs.is_empty() {
        return Output::text("no C2D jobs yet\n").with_json(json!({"jobs": []}));
    }
    let mut text = String::new();
    let mut rows = String::new();
    for r in jobs {
        let algo = r.spec.algorithm.source.clone().unwrap_or_default();
        text.push_str(&format!(
            "{}  {:<3} {:<28} {:>7.1} s  {algo}\n",
            short(&r.job_id),
            r.status.code(),
            r.status_text,
            r.elapsed()
        ));
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{:.1} s</td><td>{}</td></tr>",
            html_escape(short(&r.job_id)),
            html_escape(&r.status.to_string()),
            r.elapsed(),
            html_escape(&algo)
        ));
    }
    let html = format!("<table><tr><th>job</th><th>status</th><th>time</th><th>algorithm</th></tr>{rows}</table>");
    Output::text(text).with_html(html).with_json(json!({"jobs": jobs.iter().map(job_json).collect::<Vec<_>>()}))
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
