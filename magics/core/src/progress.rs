//! A progress bar shown through display/update_display, only for work that lasts.
//!
//! Nothing is shown for work that ends within `delay` (0.5 s by default), so quick operations
//! leave no flicker; after that the bar appears and is refreshed at most every 100 ms.

use crate::{MagicContext, Output, html_escape};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A live progress display. Counts are in `unit`s (bytes by default).
pub struct Progress {
    ctx: MagicContext,
    id: String,
    label: String,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last: Option<Instant>,
    delay: Duration,
    bytes: bool,
}

impl Progress {
    /// A byte-counting bar: `total` bytes if known.
    pub fn bytes(ctx: &MagicContext, label: impl Into<String>, total: Option<u64>) -> Self {
        Self::new(ctx, label, total, true)
    }

    /// A bar counting items (blocks, jobs, steps).
    pub fn items(ctx: &MagicContext, label: impl Into<String>, total: Option<u64>) -> Self {
        Self::new(ctx, label, total, false)
    }

    fn new(ctx: &MagicContext, label: impl Into<String>, total: Option<u64>, bytes: bool) -> Self {
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Progress {
            ctx: ctx.clone(),
            id: format!("kelp-progress-{}-{n}", std::process::id()),
            label: label.into(),
            total,
            done: 0,
            started: Instant::now(),
            last: None,
            delay: Duration::from_millis(500),
            bytes,
        }
    }

    /// Show from the first update on (tests, and work known to be long).
    pub fn immediate(mut self) -> Self {
        self.delay = Duration::ZERO;
        self
    }

    /// Change the label (e.g. the step of a multi-step operation).
    pub fn set_label(&mut self, label: impl Into<String>) {
        self.label = label.into();
        self.refresh(false);
    }

    pub fn inc(&mut self, n: u64) {
        self.set(self.done.saturating_add(n));
    }

    pub fn set(&mut self, done: u64) {
        self.done = done;
        self.refresh(false);
    }

    /// Whether the bar has been shown (work outlived the delay).
    pub fn shown(&self) -> bool {
        self.last.is_some()
    }

    /// Final state: if the bar was shown, it is replaced by `message`.
    pub fn finish(&mut self, message: &str) {
        if self.shown() {
            let out = Output::text(message.to_string()).with_html(format!("<span>{}</span>", html_escape(message)));
            self.ctx.sink.update_display(&out, &self.id);
        }
    }

    fn refresh(&mut self, force: bool) {
        let now = Instant::now();
        if now.duration_since(self.started) < self.delay && !force {
            return;
        }
        match self.last {
            None => {
                self.ctx.sink.display(&self.render(), Some(&self.id));
                self.last = Some(now);
            }
            Some(t) if force || now.duration_since(t) >= Duration::from_millis(100) => {
                self.ctx.sink.update_display(&self.render(), &self.id);
                self.last = Some(now);
            }
            Some(_) => {}
        }
    }

    fn amount(&self, n: u64) -> String {
        if self.bytes { human_bytes(n) } else { n.to_string() }
    }

    fn render(&self) -> Output {
        let secs = self.started.elapsed().as_secs_f64();
        let (bar, pct, html) = match self.total {
            Some(t) if t > 0 => {
                let frac = (self.done as f64 / t as f64).clamp(0.0, 1.0);
                let filled = (frac * 30.0).round() as usize;
                (
                    format!("[{}{}] {:>3.0}% ", "#".repeat(filled), "-".repeat(30 - filled), frac * 100.0),
                    format!("{} / {}", self.amount(self.done), self.amount(t)),
                    format!("<progress value=\"{}\" max=\"{}\"></progress>", self.done, t),
                )
            }
            _ => (String::new(), self.amount(self.done), "<progress></progress>".to_string()),
        };
        let rate = if self.bytes && secs > 0.0 {
            format!(" ({}/s)", human_bytes((self.done as f64 / secs) as u64))
        } else {
            String::new()
        };
        let text = format!("{} {bar}{pct}{rate}", self.label);
        let html = format!(
            "<div><span>{}</span> {html} <span>{}{}</span></div>",
            html_escape(&self.label),
            html_escape(&pct),
            html_escape(&rate)
        );
        Output::text(text).with_html(html)
    }
}

/// `1536` → `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, RecordingSink, SinkEvent};

    #[test]
    fn quick_work_shows_nothing() {
        let sink = RecordingSink::new();
        let ctx = MagicContext::new("/", Config::at("/h"), sink.clone());
        let mut p = Progress::bytes(&ctx, "adding", Some(100));
        p.set(100);
        p.finish("done");
        assert!(sink.events().is_empty());
    }

    #[test]
    fn shown_bar_displays_then_updates_same_id() {
        let sink = RecordingSink::new();
        let ctx = MagicContext::new("/", Config::at("/h"), sink.clone());
        let mut p = Progress::bytes(&ctx, "adding", Some(2048)).immediate();
        p.set(1024);
        p.finish("added");
        let ev = sink.events();
        let (first, id) = match &ev[0] {
            SinkEvent::Display(o, Some(id)) => (o.clone(), id.clone()),
            e => panic!("{e:?}"),
        };
        assert!(first.plain().unwrap().contains("50%"), "{:?}", first.plain());
        assert!(first.plain().unwrap().contains("1.0 KiB / 2.0 KiB"));
        assert!(matches!(&ev[1], SinkEvent::Update(o, i) if i == &id && o.plain() == Some("added")));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(10), "10 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(256 * 1024 * 1024), "256.0 MiB");
    }
}
