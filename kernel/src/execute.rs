//! Running cells: split into magic calls and Rust pieces, run them in order, publish what they
//! produce, and reply. The last piece's value is the cell's `execute_result`; values of earlier
//! pieces are shown as `display_data`. The first error stops the cell (and, with
//! `stop_on_error`, aborts cells queued behind it). Cells queued before an interrupt are
//! aborted too.

use crate::engine_io::{EngineError, EngineEvent, ExecIo, InputAsk};
use crate::request::Execute;
use crate::split::{Segment, split_cell};
use crate::state::{Kernel, Queued};
use jupyter_protocol::JupyterMessage;
use kelp_magic::{CancelToken, MagicCall, MagicError, Output};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Why a cell stopped: becomes the `error` message and the error reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CellError {
    pub(crate) ename: String,
    pub(crate) evalue: String,
    pub(crate) traceback: Vec<String>,
}

impl CellError {
    pub(crate) fn new(ename: &str, evalue: impl Into<String>) -> Self {
        let evalue = evalue.into();
        CellError { ename: ename.into(), traceback: vec![format!("\x1b[0;31m{ename}\x1b[0m: {evalue}")], evalue }
    }

    /// The iopub `error` message's content.
    pub(crate) fn iopub_content(&self) -> Value {
        json!({"ename": self.ename, "evalue": self.evalue, "traceback": self.traceback})
    }

    /// The `execute_reply` content of a cell that failed with this error.
    pub(crate) fn reply_content(&self, count: i64) -> Value {
        json!({"status": "error", "execution_count": count, "ename": self.ename, "evalue": self.evalue,
            "traceback": self.traceback, "payload": [], "user_expressions": {}})
    }
}

struct Cell<'a> {
    k: &'a Kernel,
    parent: &'a JupyterMessage,
    count: i64,
    allow_stdin: bool,
    /// The cell's cancel token: interrupts cancel it, its magics watch it.
    cancel: CancelToken,
    payload: Vec<Value>,
    result_text: Option<String>,
    /// Values handed over by `kelp::value` while filling in `{var}`.
    values: Vec<String>,
    /// The provenance record of the Rust piece running now: its displays carry it too.
    record: Option<kelp_magic::Record>,
}

/// Execute requests, one at a time, in arrival order; those queued before an interrupt are
/// aborted. Stops taking cells when the kernel shuts down.
pub(crate) async fn executor(k: Arc<Kernel>, mut rx: mpsc::UnboundedReceiver<Queued>) {
    while let Some(q) = rx.recv().await {
        if k.is_stopping() {
            return;
        }
        if !k.take(&q) {
            abort(&k, &q.msg).await;
            continue;
        }
        let failed_and_stop = run_request(&k, &q.msg, &q.request).await;
        if failed_and_stop {
            // Cells queued behind a failed one are not run (as in IPython).
            while let Ok(next) = rx.try_recv() {
                k.take(&next);
                abort(&k, &next.msg).await;
            }
        }
    }
}

/// Answer a queued execute_request that will not run.
async fn abort(k: &Kernel, msg: &JupyterMessage) {
    let count = k.execution_count();
    k.answer_at_once(msg, "execute_reply", json!({"status": "aborted", "execution_count": count}), None).await;
}

/// Run one execute_request; returns true if it failed and asked to stop on error.
async fn run_request(k: &Kernel, msg: &JupyterMessage, req: &Execute) -> bool {
    k.iopub().status(msg, "busy");
    let started = k.begin(req);
    let count = started.count;
    if !req.silent {
        k.iopub().send(msg, "execute_input", json!({"code": req.code, "execution_count": count}));
    }
    let mut cell = Cell {
        k,
        parent: msg,
        count,
        allow_stdin: req.allow_stdin,
        cancel: started.cancel,
        payload: vec![],
        result_text: None,
        values: vec![],
        record: None,
    };
    let outcome = cell.run(&req.code).await;
    k.end(count, cell.result_text.as_deref());
    let failed = outcome.is_err();
    match outcome {
        Ok(()) => {
            let reply =
                json!({"status": "ok", "execution_count": count, "payload": cell.payload, "user_expressions": {}});
            k.shell().reply(msg, "execute_reply", reply).await;
        }
        Err(e) => {
            k.iopub().send(msg, "error", e.iopub_content());
            k.shell().reply(msg, "execute_reply", e.reply_content(count)).await;
        }
    }
    k.iopub().status(msg, "idle");
    failed && req.stop_on_error
}

impl Cell<'_> {
    async fn run(&mut self, code: &str) -> Result<(), CellError> {
        let pieces = split_cell(code);
        let n = pieces.len();
        for (i, piece) in pieces.into_iter().enumerate() {
            let last = i + 1 == n;
            match piece {
                Segment::Help { name, .. } => {
                    let help =
                        self.k.registry().help(&name).map_err(|e| CellError::new("MagicError", e.to_string()))?;
                    self.payload.push(json!({"source": "page", "data": {"text/plain": help}, "start": 0}));
                }
                Segment::Magic { text, body, cell, bind, .. } => {
                    let out = self.magic(&text, body, cell, bind).await?;
                    if let Some(r) = &out.record {
                        crate::records::ran(self.count, r);
                    }
                    self.show(&out, last);
                }
                Segment::Code { code, .. } => {
                    let mut record = crate::records::rust(&code);
                    self.record = Some(record.clone());
                    let started = std::time::SystemTime::now();
                    let source = code.clone();
                    let bundle = self.rust(code).await;
                    self.record = None;
                    let bundle = bundle?;
                    crate::records::finish(&mut record, &source, self.k.cwd(), started);
                    crate::records::ran(self.count, &record);
                    let mut out = Output::empty().with_record(record);
                    for (mime, data) in bundle {
                        let v = mime_value(&mime, data);
                        out = out.with_mime(&mime, v);
                    }
                    self.show(&out, last);
                }
            }
        }
        Ok(())
    }

    /// Publish a piece's value: the cell's result if it is the last piece, else a display.
    fn show(&mut self, out: &Output, last: bool) {
        if out.is_empty() {
            return;
        }
        if last {
            self.result_text = out.plain().map(str::to_string);
            let meta = crate::records::metadata(out.record.as_ref());
            let c = json!({"execution_count": self.count, "data": out.to_mime_map(), "metadata": meta});
            self.k.iopub().send(self.parent, "execute_result", c);
        } else {
            let mut c = crate::sink::display_content(out, None);
            c["metadata"] = crate::records::metadata(out.record.as_ref());
            self.k.iopub().send(self.parent, "display_data", c);
        }
    }

    async fn magic(
        &mut self,
        text: &str,
        body: Option<String>,
        cell: bool,
        bind: Option<String>,
    ) -> Result<Output, CellError> {
        let uses: Vec<String> =
            placeholders(text).into_iter().filter_map(|p| if let Piece::Var(v) = p { Some(v) } else { None }).collect();
        let text = self.expand(text).await?;
        let mut call = MagicCall::from_line(&text, body).map_err(magic_error)?;
        call.bind = bind.clone();
        let name = call.name.clone();
        let ctx = self.k.magic_context(self.parent, self.cancel.clone());
        let mut out = match self.k.registry().run(call, cell, &ctx).await {
            Ok(out) => out,
            Err(MagicError::Help(text)) => return Ok(Output::text(text)),
            Err(e) => return Err(magic_error(e)),
        };
        if let Some(var) = bind {
            let Some(v) = &out.value else {
                return Err(CellError::new(
                    "MagicError",
                    format!("%{name} has no value to bind to `{var}`; drop the `let {var} =`"),
                ));
            };
            self.rust(format!("let {var}: {} = {};", v.ty, v.expr)).await?;
        }
        if let Some(r) = out.record.as_mut() {
            r.uses = uses;
        }
        Ok(out)
    }

    async fn rust(&mut self, code: String) -> Result<BTreeMap<String, String>, CellError> {
        let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<EngineEvent>();
        let (in_tx, mut in_rx) = mpsc::unbounded_channel::<InputAsk>();
        let io = ExecIo { events: ev_tx, input: self.allow_stdin.then_some(in_tx) };
        let engine = self.k.engine().clone();
        let mut run = std::pin::pin!(engine.execute(code, io));
        let result = loop {
            tokio::select! {
                r = &mut run => break r,
                Some(ev) = ev_rx.recv() => self.event(ev),
                Some(ask) = in_rx.recv() => self.ask(ask).await,
            }
        };
        while let Ok(ev) = ev_rx.try_recv() {
            self.event(ev);
        }
        result.map_err(|e| self.engine_error(e))
    }

    /// Fill in `{var}` placeholders of a magic line with the Display text of Rust variables.
    async fn expand(&mut self, text: &str) -> Result<String, CellError> {
        let pieces = placeholders(text);
        if !pieces.iter().any(|p| matches!(p, Piece::Var(_))) {
            return Ok(text.to_string());
        }
        let mut out = String::new();
        for p in pieces {
            match p {
                Piece::Text(t) => out.push_str(&t),
                Piece::Var(name) => {
                    self.values.clear();
                    let not_a_var = || {
                        CellError::new(
                            "UsageError",
                            format!(
                                "{{{name}}} in a magic line must name a Rust variable of this session (write {{{{ for a literal brace)"
                            ),
                        )
                    };
                    self.rust(format!("kelp::value(&{name});")).await.map_err(|_| not_a_var())?;
                    out.push_str(&self.values.pop().ok_or_else(not_a_var)?);
                }
            }
        }
        Ok(out)
    }

    fn event(&mut self, ev: EngineEvent) {
        let (iopub, p) = (self.k.iopub(), self.parent);
        match ev {
            EngineEvent::Stdout(t) => iopub.send(p, "stream", json!({"name": "stdout", "text": t})),
            EngineEvent::Stderr(t) => iopub.send(p, "stream", json!({"name": "stderr", "text": t})),
            EngineEvent::Display { mime, data } => {
                let data = mime_value(&mime, data);
                let meta = crate::records::metadata(self.record.as_ref());
                iopub.send(p, "display_data", json!({"data": {mime: data}, "metadata": meta}))
            }
            EngineEvent::ClearOutput { wait } => iopub.send(p, "clear_output", json!({"wait": wait})),
            EngineEvent::Value(v) => self.values.push(v),
        }
    }

    async fn ask(&self, ask: InputAsk) {
        self.k.await_input(ask.answer);
        let req = crate::transport::child(
            self.parent,
            "input_request",
            json!({"prompt": ask.prompt, "password": ask.password}),
        );
        self.k.stdin().send(req).await;
    }

    fn engine_error(&self, e: EngineError) -> CellError {
        match e {
            EngineError::Compile(errors) => {
                let evalue = errors
                    .first()
                    .and_then(|e| e.lines().find(|l| !l.trim().is_empty()))
                    .unwrap_or("compilation failed")
                    .trim()
                    .to_string();
                let traceback = errors.iter().flat_map(|e| e.lines().map(str::to_string)).collect();
                CellError { ename: "CompilationError".into(), evalue, traceback }
            }
            EngineError::Died(m) if self.k.was_interrupted() => CellError::new(
                "Interrupted",
                format!("the Rust process was stopped and restarted, so all variables were lost ({m})"),
            ),
            EngineError::Died(m) => CellError::new(
                "EngineRestarted",
                format!(
                    "the Rust process died ({m}); it was restarted and all variables were lost; magics are unaffected"
                ),
            ),
            EngineError::Panic(report) => {
                // header line, message lines, then optionally "stack backtrace:" and frames
                let mut lines = report.lines();
                let head = lines.next().unwrap_or("").trim_end_matches(':').to_string();
                let rest: Vec<&str> = lines.collect();
                let split = rest.iter().position(|l| l.starts_with("stack backtrace:")).unwrap_or(rest.len());
                let evalue = rest[..split].join(" ").trim().to_string();
                let mut traceback = vec![format!("\x1b[0;31mPanic\x1b[0m: {evalue}"), head];
                traceback.extend(rest[split..].iter().map(|l| l.to_string()));
                traceback.push("variables defined in this cell were dropped; earlier ones are kept".into());
                CellError { ename: "Panic".into(), evalue, traceback }
            }
            EngineError::Runtime(m) => CellError::new("RuntimeError", m),
            EngineError::Unavailable(m) => {
                CellError::new("EngineUnavailable", format!("{m}; magics (%lsmagic) still work"))
            }
        }
    }
}

/// A MIME bundle entry as Jupyter wants it: JSON types as JSON (when they parse), others as text.
fn mime_value(mime: &str, data: String) -> Value {
    if mime.ends_with("json") {
        serde_json::from_str(&data).unwrap_or(Value::String(data))
    } else {
        Value::String(data)
    }
}

/// A magic line cut at its `{var}` placeholders.
#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    Var(String),
}

/// `{ident}` is a placeholder; `{{`/`}}` are literal braces; any other brace (JSON in an
/// argument, say) is kept as written.
fn placeholders(text: &str) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![];
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if (c == '{' || c == '}') && chars.get(i + 1) == Some(&c) {
            lit.push(c);
            i += 2;
            continue;
        }
        if c == '{' {
            let end = chars[i + 1..].iter().position(|&x| !(x.is_alphanumeric() || x == '_')).map(|p| i + 1 + p);
            if let Some(e) = end.filter(|&e| e > i + 1 && chars[e] == '}' && !chars[i + 1].is_ascii_digit()) {
                if !lit.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut lit)));
                }
                out.push(Piece::Var(chars[i + 1..e].iter().collect()));
                i = e + 1;
                continue;
            }
        }
        lit.push(c);
        i += 1;
    }
    if !lit.is_empty() {
        out.push(Piece::Text(lit));
    }
    out
}

fn magic_error(e: MagicError) -> CellError {
    let ename = match e {
        MagicError::Usage(_) => "UsageError",
        MagicError::Unknown { .. } => "UnknownMagic",
        MagicError::Cancelled(_) => "Interrupted",
        _ => "MagicError",
    };
    CellError::new(ename, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_literal_braces() {
        assert_eq!(
            placeholders("c2d result {job} -o out"),
            vec![Piece::Text("c2d result ".into()), Piece::Var("job".into()), Piece::Text(" -o out".into())]
        );
        assert_eq!(placeholders("x {{y}} {1} {\"a\":1}"), vec![Piece::Text("x {y} {1} {\"a\":1}".into())]);
        assert_eq!(placeholders("{a}{b_2}"), vec![Piece::Var("a".into()), Piece::Var("b_2".into())]);
    }
}
