//! The `Magic` trait and the parsed form of one invocation.

use crate::{MagicContext, MagicError, Output, Result};
use async_trait::async_trait;

/// Whether a magic is used as `%name` (line), `%%name` (cell) or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MagicKind {
    Line,
    Cell,
    LineCell,
}

impl MagicKind {
    pub fn is_line(self) -> bool {
        matches!(self, MagicKind::Line | MagicKind::LineCell)
    }
    pub fn is_cell(self) -> bool {
        matches!(self, MagicKind::Cell | MagicKind::LineCell)
    }
}

/// One magic. The contract:
/// - `command()` is the whole CLI definition (clap): `%name?`, `%lsmagic`, `%magic`, tab
///   completion and the `kelp <name>` shell front end are all generated from it, so a flag
///   exists in one place only;
/// - `run` parses `call.args` with [`parse_args`] first (plain data, no I/O), then does its
///   work, reporting progress through `ctx.sink` and checking `ctx.cancel` between steps;
/// - on error nothing is left half written (the family guarantees it), and the error's
///   `Display` is one line saying what was wrong and what to do;
/// - the returned [`Output`] is the cell's result; `Output::value` is what `let x = %name …`
///   binds.
#[async_trait]
pub trait Magic: Send + Sync {
    /// The name without `%`, e.g. `ipfs`.
    fn name(&self) -> &'static str;
    /// One line for `%lsmagic`.
    fn summary(&self) -> &'static str;
    fn kind(&self) -> MagicKind {
        MagicKind::Line
    }
    /// The clap definition, named after the magic.
    fn command(&self) -> clap::Command;
    /// Run one invocation.
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> Result<Output>;
}

/// One invocation of a magic, as split out of a cell (or a shell command line).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MagicCall {
    /// The magic's name, without `%`.
    pub name: String,
    /// The raw text after the name on the magic's line.
    pub line: String,
    /// `line` split like a shell would (quotes honoured).
    pub args: Vec<String>,
    /// The rest of the cell, for `%%name` cell magics.
    pub body: Option<String>,
    /// `let NAME = %magic …`: the Rust variable to bind the result to.
    pub bind: Option<String>,
}

impl MagicCall {
    /// Build a call from a magic's line without the `%` or `%%` (e.g. `ipfs add "my file.csv"`).
    pub fn from_line(text: &str, body: Option<String>) -> Result<MagicCall> {
        let text = text.trim();
        let (name, rest) = match text.find(char::is_whitespace) {
            Some(i) => (&text[..i], text[i..].trim()),
            None => (text, ""),
        };
        let args = shell_words::split(rest)
            .map_err(|e| MagicError::Usage(format!("%{name}: {e} in the arguments (check the quotes)")))?;
        Ok(MagicCall { name: name.to_string(), line: rest.to_string(), args, body, bind: None })
    }

    /// Build a call from argv already split (the `kelp <magic> <args…>` shell front end).
    pub fn from_argv(name: &str, args: Vec<String>) -> MagicCall {
        let line = shell_words::join(&args);
        MagicCall { name: name.to_string(), line, args, body: None, bind: None }
    }
}

/// Parse a call's arguments with a clap definition. `--help` comes back as
/// [`MagicError::Help`] holding the rendered help (front ends show it as output, not as an
/// error); a usage error is folded to one line that names the usage and `%name?`.
pub fn parse_args<T: clap::FromArgMatches>(cmd: clap::Command, call: &MagicCall) -> Result<T> {
    let name = cmd.get_name().to_string();
    let matches = parse_matches(cmd, call)?;
    T::from_arg_matches(&matches).map_err(|e| clap_error(&name, e))
}

/// Like [`parse_args`], for magics that read clap's `ArgMatches` directly.
pub fn parse_matches(cmd: clap::Command, call: &MagicCall) -> Result<clap::ArgMatches> {
    let name = cmd.get_name().to_string();
    let argv = std::iter::once(name.clone()).chain(call.args.iter().cloned());
    cmd.try_get_matches_from(argv).map_err(|e| clap_error(&name, e))
}

fn clap_error(name: &str, e: clap::Error) -> MagicError {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            MagicError::Help(e.render().to_string())
        }
        _ => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("").trim_start_matches("error: ").trim();
            let usage = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Usage: "))
                .map(|u| format!("; usage: %{u}"))
                .unwrap_or_default();
            MagicError::Usage(format!("%{name}: {first}{usage} (see %{name}? for help)"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

    #[derive(Parser, Debug)]
    #[command(name = "demo")]
    struct Demo {
        #[command(subcommand)]
        cmd: DemoCmd,
    }
    #[derive(Subcommand, Debug)]
    enum DemoCmd {
        /// Add a file.
        Add(AddArgs),
    }
    #[derive(Args, Debug)]
    struct AddArgs {
        path: String,
        #[arg(long, default_value_t = 0)]
        cid_version: u8,
    }

    fn call(line: &str) -> MagicCall {
        MagicCall::from_line(line, None).unwrap()
    }

    #[test]
    fn from_line_splits_quotes() {
        let c = call(r#"ipfs add "my file.csv" --pin"#);
        assert_eq!(c.name, "ipfs");
        assert_eq!(c.args, vec!["add", "my file.csv", "--pin"]);
        assert_eq!(c.line, r#"add "my file.csv" --pin"#);
    }

    #[test]
    fn unbalanced_quote_is_one_line_usage_error() {
        let e = MagicCall::from_line(r#"ipfs add "oops"#, None).unwrap_err();
        assert!(matches!(e, MagicError::Usage(_)));
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn parses_into_plain_data() {
        let d: Demo = parse_args(Demo::command(), &call("demo add x.csv --cid-version 1")).unwrap();
        let DemoCmd::Add(a) = d.cmd;
        assert_eq!((a.path.as_str(), a.cid_version), ("x.csv", 1));
        let _ = Demo::from_arg_matches; // the trait is what parse_args needs
    }

    #[test]
    fn usage_error_is_one_line_with_usage() {
        let e = parse_args::<Demo>(Demo::command(), &call("demo add x --bogus")).unwrap_err();
        let s = e.to_string();
        assert!(matches!(e, MagicError::Usage(_)));
        assert!(!s.contains('\n'), "{s}");
        assert!(s.contains("--bogus") && s.contains("usage: %demo add") && s.contains("%demo?"), "{s}");
    }

    #[test]
    fn help_is_not_an_error_kind() {
        let e = parse_args::<Demo>(Demo::command(), &call("demo add --help")).unwrap_err();
        match e {
            MagicError::Help(h) => assert!(h.contains("--cid-version")),
            other => panic!("expected help, got {other:?}"),
        }
    }
}
