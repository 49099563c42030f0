//! Routing the child's output lines of one execution: stdout and stderr (two pipes, each read
//! by a forwarder thread) become [`EngineEvent`]s for the execution's target, while panic
//! reports, `?` errors and kelp's markers ([`crate::display`]) are kept for the cell's result.
//! The engine ([`super`]) drains both routers when an execution ends.

use crate::engine_io::EngineEvent;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// What one output stream of the child has shown of the current execution.
pub(super) struct LineRouter {
    pub(super) target: Option<mpsc::UnboundedSender<EngineEvent>>,
    /// stderr: the report of a panic of the cell's own (main) thread, being read.
    panic: Option<Vec<String>>,
    /// stderr: a finished panic report of the current execution.
    panicked: Option<String>,
    /// stderr: blank lines held back until the next line says whether a panic report follows.
    blank: usize,
    /// stdout: the cell's `?` returned an error (evcxr printed it to stderr).
    user_error: bool,
    /// stderr: the execution's last lines, the text of such an error.
    recent: std::collections::VecDeque<(std::time::Instant, String)>,
    /// stdout: the child ran code in this execution ([`crate::display::RAN`]).
    pub(super) ran: bool,
    /// stderr: the child's end-of-execution mark arrived ([`crate::display::STDERR_SYNC`]).
    pub(super) synced: bool,
}

/// How many of an execution's last stderr lines are kept for a `?` error's text.
const RECENT_LINES: usize = 20;

impl LineRouter {
    pub(super) fn new() -> Self {
        LineRouter {
            target: None,
            panic: None,
            panicked: None,
            blank: 0,
            user_error: false,
            recent: Default::default(),
            ran: false,
            synced: false,
        }
    }

    /// stderr lines: a panic report is kept for the cell's error, not streamed. User code
    /// runs in a `dlopen`ed library with its own copy of std, so every thread of it reports as
    /// `'<unnamed>'`: any panic report during a cell is taken as the cell's panic.
    fn stderr(&mut self, line: String) {
        if line == crate::display::STDERR_SYNC {
            self.synced = true;
            return;
        }
        if let Some(buf) = &mut self.panic {
            if line.starts_with("note: ") && line.contains("RUST_BACKTRACE") {
                self.panicked = Some(buf.join("\n"));
                self.panic = None;
            } else {
                buf.push(line);
            }
            return;
        }
        if is_panic_header(&line) {
            self.blank = 0;
            self.panic = Some(vec![line]);
            return;
        }
        if line.trim().is_empty() {
            self.blank += 1;
            return;
        }
        if self.recent.len() == RECENT_LINES {
            self.recent.pop_front();
        }
        self.recent.push_back((std::time::Instant::now(), line.clone()));
        let text = "\n".repeat(std::mem::take(&mut self.blank)) + &line + "\n";
        if let Some(t) = &self.target {
            let _ = t.send(EngineEvent::Stderr(text));
        }
    }

    /// End of an execution: held blank lines go out (they were not a panic's).
    fn flush_blank(&mut self) {
        let n = std::mem::take(&mut self.blank);
        if let (true, Some(t)) = (n > 0, &self.target) {
            let _ = t.send(EngineEvent::Stderr("\n".repeat(n)));
        }
    }
}

impl LineRouter {
    fn stdout(&mut self, line: String) {
        if line == crate::display::RAN {
            self.ran = true;
            return;
        }
        let ev = if let Some(l) = crate::display::decode(&line) {
            match l {
                crate::display::Line::Display { mime, data } => Some(EngineEvent::Display { mime, data }),
                crate::display::Line::Text(t) => Some(EngineEvent::Stdout(t + "\n")),
                crate::display::Line::ResultMarker => None,
                crate::display::Line::UserError => {
                    self.user_error = true;
                    None
                }
            }
        } else if let Some(v) = line.strip_prefix("KELP_VALUE ") {
            Some(EngineEvent::Value(crate::display::unescape(v)))
        } else if let Some(arg) = line.strip_prefix("KELP_CLEAR_OUTPUT") {
            Some(EngineEvent::ClearOutput { wait: arg.trim() == "wait" })
        } else {
            Some(EngineEvent::Stdout(line + "\n"))
        };
        if let (Some(ev), Some(t)) = (ev, &self.target) {
            let _ = t.send(ev);
        }
    }
}

/// After an execution (both routers drained): the text of the error the cell's `?` returned,
/// if it did. Resets both routers for the next execution.
pub(super) fn take_user_error(out: &Mutex<LineRouter>, err: &Mutex<LineRouter>) -> Option<String> {
    let failed = std::mem::take(&mut out.lock().unwrap_or_else(|e| e.into_inner()).user_error);
    let recent = std::mem::take(&mut err.lock().unwrap_or_else(|e| e.into_inner()).recent);
    failed.then(|| user_error_text(recent.into()))
}

/// evcxr prints a `?` error with one `eprintln!` as the cell's last stderr output: the last
/// lines that arrived together (within 100 ms of the last one) are its text.
fn user_error_text(recent: Vec<(std::time::Instant, String)>) -> String {
    let Some(last) = recent.last().map(|r| r.0) else { return "the cell's `?` returned an error".into() };
    let from = recent.iter().position(|(t, _)| last.duration_since(*t) <= Duration::from_millis(100)).unwrap_or(0);
    recent[from..].iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join("\n")
}

/// `thread '<name>' panicked at …` or `thread '<name>' (<tid>) panicked at …`.
fn is_panic_header(line: &str) -> bool {
    line.starts_with("thread '") && (line.contains("' panicked at ") || line.contains(") panicked at "))
}

/// Forward lines from `rx` through `router` until the channel closes. Lines are taken from the
/// channel only while the lock is held (waiting for the next one does not hold it), so whoever
/// takes the lock sees every earlier line handled, without waiting out a poll.
pub(super) fn forward(rx: crossbeam_channel::Receiver<String>, router: Arc<Mutex<LineRouter>>, stderr: bool) {
    loop {
        let mut waiting = crossbeam_channel::Select::new();
        waiting.recv(&rx);
        waiting.ready();
        let mut r = router.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match rx.try_recv() {
                Ok(line) => route(&mut r, line, stderr),
                Err(crossbeam_channel::TryRecvError::Empty) => break,
                Err(crossbeam_channel::TryRecvError::Disconnected) => return,
            }
        }
    }
}

fn route(r: &mut LineRouter, line: String, stderr: bool) {
    if stderr { r.stderr(line) } else { r.stdout(line) }
}

/// The longest wait for the child's stderr mark after it ran code (a loaded machine).
pub(super) const STDERR_WAIT: Duration = Duration::from_secs(2);

/// The child ran code: wait (at most `within`) until its stderr mark is routed, so all the cell's
/// stderr lines (a pipe of their own) are in before the reply.
pub(super) fn wait_for_stderr(
    rx: &crossbeam_channel::Receiver<String>,
    router: &Mutex<LineRouter>,
    within: Duration,
) -> bool {
    let end = std::time::Instant::now() + within;
    loop {
        {
            let mut r = router.lock().unwrap_or_else(|e| e.into_inner());
            while let Ok(line) = rx.try_recv() {
                route(&mut r, line, true);
            }
            if r.synced {
                return true;
            }
        }
        if std::time::Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Take the router (waiting out a line in flight), handle what is still queued, and detach it
/// from the finished execution. Returns the report of a panic of the cell, if there was one.
pub(super) fn drain(
    rx: &crossbeam_channel::Receiver<String>,
    router: &Mutex<LineRouter>,
    stderr: bool,
) -> Option<String> {
    let mut r = router.lock().unwrap_or_else(|e| e.into_inner());
    while let Ok(line) = rx.try_recv() {
        route(&mut r, line, stderr);
    }
    r.flush_blank();
    r.target = None;
    if let Some(buf) = r.panic.take() {
        r.panicked = Some(buf.join("\n"));
    }
    r.panicked.take()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_turns_markers_into_events() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut r = LineRouter::new();
        r.target = Some(tx);
        for l in ["hi", "KELP_DISPLAY text/html <b>x</b>\\n<i>y</i>", "KELP_RESULT_FOLLOWS", "KELP_CLEAR_OUTPUT wait"] {
            r.stdout(l.to_string());
        }
        assert_eq!(rx.try_recv().unwrap(), EngineEvent::Stdout("hi\n".into()));
        assert_eq!(
            rx.try_recv().unwrap(),
            EngineEvent::Display { mime: "text/html".into(), data: "<b>x</b>\n<i>y</i>".into() }
        );
        assert_eq!(rx.try_recv().unwrap(), EngineEvent::ClearOutput { wait: true });
        assert!(rx.try_recv().is_err());
        r.stdout(r"KELP_VALUE a\\b\nc".to_string());
        assert_eq!(rx.try_recv().unwrap(), EngineEvent::Value("a\\b\nc".into()));
    }

    #[test]
    fn a_question_mark_error_is_the_cells_error_with_its_last_stderr_lines() {
        let (out, err) = (Mutex::new(LineRouter::new()), Mutex::new(LineRouter::new()));
        err.lock().unwrap().stderr("progress 1".into());
        assert_eq!(take_user_error(&out, &err), None);
        let old = std::time::Instant::now() - Duration::from_secs(2);
        let lines = vec![(old, "progress 2".to_string()), (std::time::Instant::now(), "no file".into())];
        assert_eq!(user_error_text(lines), "no file");
        err.lock().unwrap().stderr("Error: bad".into());
        err.lock().unwrap().stderr("caused by: x".into());
        out.lock().unwrap().stdout("KELP_USER_ERROR".into());
        assert_eq!(take_user_error(&out, &err).unwrap(), "Error: bad\ncaused by: x");
        // Reset for the next execution.
        assert_eq!(take_user_error(&out, &err), None);
    }

    #[test]
    fn drain_sees_every_line_the_forwarder_took_in_order() {
        let (lines, rx) = crossbeam_channel::unbounded();
        let router = Arc::new(Mutex::new(LineRouter::new()));
        let (tx, mut events) = mpsc::unbounded_channel();
        router.lock().unwrap().target = Some(tx);
        let (r, rx2) = (router.clone(), rx.clone());
        std::thread::spawn(move || forward(rx2, r, false));
        for i in 0..2000 {
            lines.send(format!("line {i}")).unwrap();
        }
        drain(&rx, &router, false);
        for i in 0..2000 {
            assert_eq!(events.try_recv().unwrap(), EngineEvent::Stdout(format!("line {i}\n")));
        }
        assert!(router.lock().unwrap().target.is_none());
    }

    #[test]
    fn the_stderr_mark_waits_for_a_late_line_and_is_not_shown() {
        let (lines, rx) = crossbeam_channel::unbounded();
        let router = Arc::new(Mutex::new(LineRouter::new()));
        let (tx, mut events) = mpsc::unbounded_channel();
        router.lock().unwrap().target = Some(tx);
        let late = lines.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            late.send("some error".to_string()).unwrap();
            late.send(crate::display::STDERR_SYNC.to_string()).unwrap();
        });
        assert!(wait_for_stderr(&rx, &router, Duration::from_secs(5)));
        drain(&rx, &router, true);
        assert_eq!(events.try_recv().unwrap(), EngineEvent::Stderr("some error\n".into()));
        assert!(events.try_recv().is_err(), "the mark itself is not output");
        router.lock().unwrap().synced = false; // no mark: give up after the wait
        assert!(!wait_for_stderr(&rx, &router, Duration::from_millis(20)));
        drop(lines);
    }

    #[test]
    fn main_thread_panic_is_kept_for_the_error() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut r = LineRouter::new();
        r.target = Some(tx);
        for l in [
            "warn",
            "",
            "thread '<unnamed>' (20290) panicked at src/lib.rs:3:5:",
            "boom",
            "stack backtrace:",
            "  0: f",
            "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
            "after",
        ] {
            r.stderr(l.to_string());
        }
        assert_eq!(rx.try_recv().unwrap(), EngineEvent::Stderr("warn\n".into()));
        assert_eq!(rx.try_recv().unwrap(), EngineEvent::Stderr("after\n".into()));
        let report = r.panicked.clone().unwrap();
        assert!(report.starts_with("thread '<unnamed>' (20290) panicked at src/lib.rs:3:5:\nboom\nstack backtrace:"));
        assert!(is_panic_header("thread 'main' panicked at a.rs:1:1:"));
        assert!(!is_panic_header("the thread panicked"));
    }
}
