//! Displays printed by user code while a cell runs, in order with its stdout.
//!
//! Crates that draw in notebooks print evcxr's display protocol (`EVCXR_BEGIN_CONTENT <mime>`,
//! the content, `EVCXR_END_CONTENT`). evcxr itself reads every such block from the child's
//! stdout into the cell's one final MIME bundle, so two figures would merge into one result.
//! This module owns the fix, in two halves:
//!
//! - in the child process (the kelp binary relaunched by evcxr to run user code),
//!   [`install_child_filter`] puts a pipe in front of stdout and a thread that rewrites each
//!   complete block into one `KELP_DISPLAY <mime> <escaped content>` line, which evcxr passes
//!   on as ordinary stdout and the kernel turns into a `display_data` at that point of the
//!   output. Only blocks printed after `KELP_RESULT_FOLLOWS` (the cell's value being shown, see
//!   [`mark_final_value`]) go to evcxr unchanged and become the `execute_result`. A block with
//!   no end marker (or one cut by a panic or the end of the cell) comes out as text;
//! - in the kernel, [`mark_final_value`] wraps the cell's final expression so that the marker is
//!   printed after the expression is evaluated and before evcxr shows its value, and
//!   [`decode`] reads the filter's lines back.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};

/// Printed (by the `kelp` prelude) after the cell's final expression is evaluated.
pub const RESULT_MARKER: &str = "KELP_RESULT_FOLLOWS";
const BEGIN: &str = "EVCXR_BEGIN_CONTENT";
const END: &str = "EVCXR_END_CONTENT";
/// evcxr's runtime prints this after each cell; evcxr's generated code prints the other on panic.
const COMPLETE: &str = "EVCXR_EXECUTION_COMPLETE";
/// Written by the child's filter to its stderr when an execution completes: every line the cell
/// wrote to stderr is before it, so the engine knows it has them all.
pub const STDERR_SYNC: &str = "KELP_STDERR_SYNC";
/// Written to stdout before evcxr's completion line (not for evcxr's start-up evaluation): the
/// child ran code, so a [`STDERR_SYNC`] follows on stderr.
pub const RAN: &str = "KELP_RAN";
const PANIC: &str = "EVCXR_PANIC_NOTIFICATION";
/// Lines evcxr's parent acts on at once (an input prompt waits for its answer; the others are
/// printed by evcxr's own code after the cell): never held inside an unfinished block.
const PROMPTS: [&str; 3] = ["EVCXR_INPUT_REQUEST", "EVCXR_VARIABLE_CHANGED_TYPE:", "EVCXR_ERROR_OCCURRED"];
const DISPLAY_PREFIX: &str = "KELP_DISPLAY ";
const TEXT_PREFIX: &str = "KELP_TEXT ";
/// A block bigger than this is shown as text rather than held in memory any longer.
const MAX_BLOCK_BYTES: usize = 256 << 20;

/// A line of the child's stdout, as the kernel reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Display {
        mime: String,
        data: String,
    },
    /// A line of text the filter escaped (it looked like protocol).
    Text(String),
    /// The final-value marker, when no filter consumed it.
    ResultMarker,
    /// The cell's `?` returned an error (written before evcxr's own notice, which evcxr eats).
    UserError,
}

/// Written by the filter just before evcxr's `?`-error notice.
pub const USER_ERROR: &str = "KELP_USER_ERROR";
const USER_ERROR_OCCURRED: &str = "EVCXR_ERROR_OCCURRED";

/// Read one of the filter's lines; `None` for an ordinary line.
pub fn decode(line: &str) -> Option<Line> {
    if let Some(rest) = line.strip_prefix(DISPLAY_PREFIX) {
        let (mime, data) = rest.split_once(' ').unwrap_or((rest, ""));
        return Some(Line::Display { mime: mime.to_string(), data: unescape(data) });
    }
    if let Some(rest) = line.strip_prefix(TEXT_PREFIX) {
        return Some(Line::Text(unescape(rest)));
    }
    match line {
        RESULT_MARKER => Some(Line::ResultMarker),
        USER_ERROR => Some(Line::UserError),
        _ => None,
    }
}

/// One line for any text: `\` `\n` `\r` escaped, and evcxr's block marker broken up so that
/// evcxr (which looks for it anywhere in a line) passes the line on.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.replace(BEGIN, "EVCXR\\_BEGIN_CONTENT")
}

/// Undo [`escape`] (and `kelp::value`'s escaping, a subset of it).
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// The mime type of a block's first line, if `line` starts one.
fn block_start(line: &str) -> Option<&str> {
    let mime = line.strip_prefix(BEGIN)?.strip_prefix(' ')?.split(' ').next()?;
    (!mime.is_empty()).then_some(mime)
}

/// A line evcxr's parent reads as part of its protocol (see [`PROMPTS`]).
fn is_protocol(line: &str) -> bool {
    line == COMPLETE || line == PANIC || PROMPTS.iter().any(|p| line.starts_with(p))
}

struct Block {
    first: String,
    mime: String,
    lines: Vec<String>,
    bytes: usize,
}

/// The child's stdout rewriter, one line at a time; `out` gets the lines evcxr will read.
pub struct Filter {
    block: Option<Block>,
    /// Blocks go to evcxr (the cell's value) rather than out as displays.
    result: bool,
    /// In the child: mark each completion on stderr and stdout ([`STDERR_SYNC`], [`RAN`]).
    sync: bool,
    /// The first completion (evcxr's start-up evaluation) has passed.
    started: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Self::new()
    }
}

impl Filter {
    /// Blocks pass through to evcxr until the child's first `EVCXR_EXECUTION_COMPLETE`: while
    /// evcxr starts, it evaluates `42` and then waits until everything the child printed is
    /// read, by a reader that only exists once it has started; a display line there would never
    /// be read. (A child evcxr restarts after an interrupt or a crash does the same for the
    /// first cell it runs: that cell's displays go into its result, as in plain evcxr.)
    pub fn new() -> Filter {
        Filter { block: None, result: true, sync: false, started: false }
    }

    /// The child's filter: also marks each completion ([`STDERR_SYNC`], [`RAN`]).
    pub fn in_child() -> Filter {
        Filter { sync: true, ..Filter::new() }
    }

    /// Handle one line (without its newline); write what evcxr should read to `out`.
    pub fn line(&mut self, line: String, out: &mut impl Write) -> std::io::Result<()> {
        if let Some(b) = &mut self.block {
            if line == END {
                let b = self.block.take().expect("checked");
                return self.emit(b, out);
            }
            let cut = is_protocol(&line) || block_start(&line).is_some();
            if !cut && b.bytes + line.len() < MAX_BLOCK_BYTES {
                b.bytes += line.len() + 1;
                b.lines.push(line);
                return Ok(());
            }
            let b = self.block.take().expect("checked");
            self.as_text(b, out)?;
            if !cut {
                return self.text(line, out);
            }
        }
        if line == RESULT_MARKER {
            self.result = true;
            return Ok(());
        }
        if line == COMPLETE {
            self.result = false;
            if self.sync {
                // stderr is unbuffered: the cell's lines are already in the pipe, before this.
                eprintln!("{STDERR_SYNC}");
                // Not while evcxr starts: nobody reads its stdout yet (see `new`).
                if self.started {
                    writeln!(out, "{RAN}")?;
                }
            }
            self.started = true;
        }
        if line == USER_ERROR_OCCURRED {
            writeln!(out, "{USER_ERROR}")?;
        }
        if let Some(mime) = block_start(&line) {
            let mime = mime.to_string();
            self.block = Some(Block { first: line, mime, lines: vec![], bytes: 0 });
            return Ok(());
        }
        self.text(line, out)
    }

    fn text(&self, line: String, out: &mut impl Write) -> std::io::Result<()> {
        if line.contains(BEGIN)
            || line.starts_with(DISPLAY_PREFIX)
            || line.starts_with(TEXT_PREFIX)
            || line == USER_ERROR
            || line == RESULT_MARKER
        {
            writeln!(out, "{TEXT_PREFIX}{}", escape(&line))
        } else {
            writeln!(out, "{line}")
        }
    }

    fn as_text(&self, b: Block, out: &mut impl Write) -> std::io::Result<()> {
        self.text(b.first, out)?;
        b.lines.into_iter().try_for_each(|l| self.text(l, out))
    }

    fn emit(&self, b: Block, out: &mut impl Write) -> std::io::Result<()> {
        if self.result {
            writeln!(out, "{}", b.first)?;
            b.lines.iter().try_for_each(|l| writeln!(out, "{l}"))?;
            return writeln!(out, "{END}");
        }
        write!(out, "{DISPLAY_PREFIX}{} ", b.mime)?;
        for (i, l) in b.lines.iter().enumerate() {
            if i > 0 {
                out.write_all(b"\\n")?;
            }
            out.write_all(escape(l).as_bytes())?;
        }
        out.write_all(b"\n")
    }
}

/// Run `input` through a [`Filter`] into `out` until `input` ends, flushing whenever no more
/// input is waiting (so output appears as it is printed).
pub fn pump<R: Read>(mut input: BufReader<R>, out: impl Write, mut filter: Filter) -> std::io::Result<()> {
    let mut out = BufWriter::new(out);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return out.flush();
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        filter.line(String::from_utf8_lossy(&buf).into_owned(), &mut out)?;
        // What is already read has been handled: flush before waiting for more.
        if input.buffer().is_empty() {
            out.flush()?;
        }
    }
}

/// In evcxr's child process (the kelp binary with `EVCXR_IS_RUNTIME` set), route stdout through
/// a [`Filter`] thread. Does nothing in any other process. Must run before anything else prints.
pub fn install_child_filter() {
    if std::env::var_os("EVCXR_IS_RUNTIME").is_none() {
        return;
    }
    if let Err(e) = try_install() {
        eprintln!("kelp: displays printed by cells will merge into the cell's result ({e})");
    }
}

fn try_install() -> std::io::Result<()> {
    use std::os::fd::AsFd;
    let real = std::io::stdout().as_fd().try_clone_to_owned()?;
    let (reader, writer) = std::io::pipe()?;
    rustix::stdio::dup2_stdout(&writer)?;
    drop(writer);
    std::thread::Builder::new().name("kelp-stdout".into()).spawn(move || {
        let out = std::fs::File::from(real);
        let _ = pump(BufReader::with_capacity(1 << 16, reader), out, Filter::in_child());
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filter's output for `lines`, from the child's start.
    fn run_from_start(lines: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        pump(BufReader::new(format!("{}\n", lines.join("\n")).as_bytes()), &mut out, Filter::new()).unwrap();
        String::from_utf8(out).unwrap().lines().map(str::to_string).collect()
    }

    /// The filter's output for `lines` printed after evcxr's start-up evaluation.
    fn run(lines: &[&str]) -> Vec<String> {
        let out = run_from_start(&[&[COMPLETE], lines].concat());
        assert_eq!(out[0], COMPLETE);
        out[1..].to_vec()
    }

    #[test]
    fn blocks_become_display_lines_and_the_value_stays_with_evcxr() {
        let out = run_from_start(&[
            // evcxr's start-up evaluation: its value goes to evcxr.
            "EVCXR_BEGIN_CONTENT text/plain",
            "42",
            "EVCXR_END_CONTENT",
            COMPLETE,
            "a",
            "EVCXR_BEGIN_CONTENT text/html",
            "<b>1</b>",
            "x\\y EVCXR_BEGIN_CONTENT q",
            "EVCXR_END_CONTENT",
            "b",
            "KELP_RESULT_FOLLOWS",
            "EVCXR_BEGIN_CONTENT text/plain",
            "42",
            "EVCXR_END_CONTENT",
            "EVCXR_EXECUTION_COMPLETE",
            "EVCXR_BEGIN_CONTENT image/svg+xml",
            "<svg/>",
            "EVCXR_END_CONTENT",
        ]);
        assert_eq!(out[..4], ["EVCXR_BEGIN_CONTENT text/plain", "42", "EVCXR_END_CONTENT", COMPLETE]);
        let out = &out[4..];
        assert_eq!(out[0], "a");
        assert_eq!(
            decode(&out[1]),
            Some(Line::Display { mime: "text/html".into(), data: "<b>1</b>\nx\\y EVCXR_BEGIN_CONTENT q".into() })
        );
        assert!(!out[1].contains(BEGIN), "evcxr would swallow {}", out[1]);
        assert_eq!(out[2..7], ["b", "EVCXR_BEGIN_CONTENT text/plain", "42", "EVCXR_END_CONTENT", COMPLETE]);
        // After the cell, blocks are displays again.
        assert_eq!(decode(&out[7]), Some(Line::Display { mime: "image/svg+xml".into(), data: "<svg/>".into() }));
        assert_eq!(out.len(), 8);
    }

    #[test]
    fn the_childs_filter_marks_completions_after_the_first() {
        let mut out = Vec::new();
        let input = format!("{COMPLETE}\nhi\n{COMPLETE}\n");
        pump(BufReader::new(input.as_bytes()), &mut out, Filter::in_child()).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("{COMPLETE}\nhi\n{RAN}\n{COMPLETE}\n"));
    }

    #[test]
    fn a_block_without_end_is_text() {
        let out = run(&["EVCXR_BEGIN_CONTENT text/html", "<p>", "EVCXR_EXECUTION_COMPLETE"]);
        assert_eq!(decode(&out[0]), Some(Line::Text("EVCXR_BEGIN_CONTENT text/html".into())));
        assert_eq!(out[1..], ["<p>", COMPLETE]);
        // A new block cuts an unfinished one; a panic does too.
        let out = run(&["EVCXR_BEGIN_CONTENT a/b", "1", "EVCXR_BEGIN_CONTENT c/d", "2", "EVCXR_END_CONTENT"]);
        assert_eq!(decode(&out[0]), Some(Line::Text("EVCXR_BEGIN_CONTENT a/b".into())));
        assert_eq!(out[1], "1");
        assert_eq!(decode(&out[2]), Some(Line::Display { mime: "c/d".into(), data: "2".into() }));
        let out = run(&["EVCXR_BEGIN_CONTENT a/b", "EVCXR_PANIC_NOTIFICATION"]);
        assert_eq!(out[1], PANIC);
    }

    #[test]
    fn a_question_mark_error_is_announced_before_evcxrs_notice() {
        let out = run(&["x", USER_ERROR_OCCURRED, USER_ERROR]);
        assert_eq!(out[..3], ["x", USER_ERROR, USER_ERROR_OCCURRED]);
        // The user printing the kernel's word is text, not an error.
        assert_eq!(decode(&out[3]), Some(Line::Text(USER_ERROR.into())));
        assert_eq!(decode(&out[1]), Some(Line::UserError));
    }

    #[test]
    fn look_alike_lines_survive_as_text() {
        let out = run(&["KELP_DISPLAY text/html <i>", "EVCXR_BEGIN_CONTENT ", "say EVCXR_BEGIN_CONTENT x/y"]);
        let back: Vec<Line> = out.iter().map(|l| decode(l).unwrap()).collect();
        assert_eq!(
            back,
            [
                Line::Text("KELP_DISPLAY text/html <i>".into()),
                Line::Text("EVCXR_BEGIN_CONTENT ".into()),
                Line::Text("say EVCXR_BEGIN_CONTENT x/y".into())
            ]
        );
        assert_eq!(unescape(&escape("a\\b\r\nc")), "a\\b\r\nc");
    }
}
