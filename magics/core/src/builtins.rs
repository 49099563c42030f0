//! Two small built-ins that prove the seam, with IPython's meaning: `%env` and `%%file`, and
//! their typed results (schemas `env.list`, `env.get`, `env.set`, `file.write`).

use crate::{
    Magic, MagicCall, MagicContext, MagicError, MagicKind, MagicResult, Output, Result, html_escape, parse_matches,
};
use async_trait::async_trait;
use clap::{Arg, ArgAction, Command};
use schemars::JsonSchema;
use serde::Serialize;
use std::io::Write;

/// Names whose values are never shown: credentials must not land in a notebook.
fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSPHRASE", "MNEMONIC", "CREDENTIAL", "AUTH"].iter().any(|w| n.contains(w))
}

fn shown(name: &str, value: &str) -> String {
    if is_secret(name) { "<hidden>".to_string() } else { value.to_string() }
}

/// `%env`: list, get or set environment variables for this session (IPython's `%env`).
/// Values of variables that look like credentials are shown as `<hidden>`.
pub struct EnvMagic;

#[async_trait]
impl Magic for EnvMagic {
    fn name(&self) -> &'static str {
        "env"
    }
    fn summary(&self) -> &'static str {
        "List, get or set environment variables (%env, %env NAME, %env NAME=value)."
    }
    fn command(&self) -> Command {
        Command::new("env")
            .about("List all variables, show one, or set one for this session (magics and the processes they start see it).")
            .arg(Arg::new("assignment").num_args(0..).action(ArgAction::Append).value_name("NAME[=VALUE]|NAME VALUE"))
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> Result<Output> {
        let m = parse_matches(self.command(), &call)?;
        let words: Vec<String> = m.get_many::<String>("assignment").map(|v| v.cloned().collect()).unwrap_or_default();
        match words.as_slice() {
            [] => {
                let vars = ctx.env.all().iter().map(|(k, v)| (k.clone(), shown(k, v))).collect();
                Ok(EnvList { vars }.output())
            }
            [one] if !one.contains('=') => match ctx.env.get(one) {
                Some(v) => {
                    let out = EnvVar { name: one.clone(), value: shown(one, &v) }.output();
                    // `let v = %env NAME` binds the value; credentials are not copied into Rust source.
                    Ok(if is_secret(one) { out } else { out.with_value(crate::RustValue::string(&v)) })
                }
                None => Err(MagicError::failed(format!(
                    "environment variable {one} is not set; set it with %env {one}=value"
                ))),
            },
            [assign] => {
                let (k, v) = assign.split_once('=').expect("checked above");
                set(ctx, k, v)
            }
            [k, v] if !k.contains('=') => set(ctx, k, v),
            _ => Err(MagicError::Usage(
                "%env: expected %env, %env NAME, %env NAME=value or %env NAME value (quote values with spaces)".into(),
            )),
        }
    }
}

fn set(ctx: &MagicContext, name: &str, value: &str) -> Result<Output> {
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(MagicError::Usage(format!("%env: {name:?} is not a variable name; use %env NAME=value")));
    }
    ctx.env.set(name, Some(value.to_string()));
    Ok(EnvSet { name: name.to_string(), value: shown(name, value), set: true }.output())
}

/// `%env`: every variable of the session (`{NAME: value}`; credentials `<hidden>`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct EnvList {
    pub vars: std::collections::BTreeMap<String, String>,
}

impl MagicResult for EnvList {
    const SCHEMA: &'static str = "env.list";
    fn text(&self) -> String {
        self.vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    }
}

/// `%env NAME`: one variable.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct EnvVar {
    /// The variable's name.
    pub name: String,
    /// Its value (`<hidden>` for a name that looks like a credential).
    pub value: String,
}

impl MagicResult for EnvVar {
    const SCHEMA: &'static str = "env.get";
    fn text(&self) -> String {
        self.value.clone()
    }
}

/// `%env NAME=value`: a variable set for this session.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct EnvSet {
    /// The variable's name.
    pub name: String,
    /// The value set (`<hidden>` for a name that looks like a credential).
    pub value: String,
    /// Always true.
    pub set: bool,
}

impl MagicResult for EnvSet {
    const SCHEMA: &'static str = "env.set";
    fn text(&self) -> String {
        format!("env: {}={}", self.name, self.value)
    }
}

/// `%%file PATH`: the file written.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct FileWritten {
    /// The file's absolute path.
    pub path: String,
    /// Bytes of the cell body written (or appended).
    pub bytes: usize,
    /// Whether the body was appended (`-a`).
    pub append: bool,
    /// How it was written: `Writing`, `Overwriting` or `Appending to`.
    #[serde(skip)]
    pub verb: &'static str,
    /// The path as the cell named it.
    #[serde(skip)]
    pub rel: String,
}

impl MagicResult for FileWritten {
    const SCHEMA: &'static str = "file.write";
    fn text(&self) -> String {
        format!("{} {}", self.verb, self.rel)
    }
    fn html(&self) -> Option<String> {
        Some(format!("{} <code>{}</code>", self.verb, html_escape(&self.rel)))
    }
}

/// `%%file [-a] PATH`: write (or append) the rest of the cell to a file (IPython's
/// `%%writefile`). The write is atomic: a failed write leaves the old file as it was.
pub struct FileMagic;

#[async_trait]
impl Magic for FileMagic {
    fn name(&self) -> &'static str {
        "file"
    }
    fn summary(&self) -> &'static str {
        "Write the cell's body to a file (-a appends)."
    }
    fn kind(&self) -> MagicKind {
        MagicKind::Cell
    }
    fn command(&self) -> Command {
        Command::new("file")
            .about("Write the rest of the cell to PATH, relative to the notebook's directory.")
            .arg(
                Arg::new("append")
                    .short('a')
                    .long("append")
                    .action(ArgAction::SetTrue)
                    .help("Append instead of overwriting"),
            )
            .arg(Arg::new("path").required(true).value_name("PATH"))
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> Result<Output> {
        let m = parse_matches(self.command(), &call)?;
        let rel = m.get_one::<String>("path").expect("required").clone();
        let append = m.get_flag("append");
        let path = ctx.resolve(&rel);
        let body = call.body.unwrap_or_default();
        let existed = path.exists();
        let fail = |e: std::io::Error| MagicError::failed(format!("%%file: cannot write {}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        if append {
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(fail)?;
            f.write_all(body.as_bytes()).map_err(fail)?;
        } else {
            let dir = path.parent().unwrap_or(std::path::Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
            tmp.write_all(body.as_bytes()).map_err(fail)?;
            tmp.persist(&path).map_err(|e| fail(e.error))?;
        }
        let verb = match (append, existed) {
            (true, _) => "Appending to",
            (false, true) => "Overwriting",
            (false, false) => "Writing",
        };
        let written = FileWritten { path: path.to_string_lossy().into_owned(), bytes: body.len(), append, verb, rel };
        Ok(written.output().with_value(crate::RustValue::path(&path)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, RecordingSink};

    fn ctx(dir: &std::path::Path) -> MagicContext {
        MagicContext::new(dir, Config::at(dir.join("home")), RecordingSink::new())
    }

    #[tokio::test]
    async fn env_set_get_and_hide_secrets() {
        let d = tempfile::tempdir().unwrap();
        let c = ctx(d.path());
        let out = EnvMagic.run(MagicCall::from_line("env KELP_X=42", None).unwrap(), &c).await.unwrap();
        assert_eq!(out.plain(), Some("env: KELP_X=42"));
        let out = EnvMagic.run(MagicCall::from_line("env KELP_X", None).unwrap(), &c).await.unwrap();
        assert_eq!(out.plain(), Some("42"));
        let out = EnvMagic.run(MagicCall::from_line("env KELP_PIN_TOKEN s3cr3t", None).unwrap(), &c).await.unwrap();
        assert!(!format!("{:?}", out.data).contains("s3cr3t"));
        assert_eq!(c.env.get("KELP_PIN_TOKEN").as_deref(), Some("s3cr3t"));
        let all = EnvMagic.run(MagicCall::from_line("env", None).unwrap(), &c).await.unwrap();
        assert!(all.plain().unwrap().contains("KELP_X=42\n"));
        assert!(!all.plain().unwrap().contains("s3cr3t"));
        let e = EnvMagic.run(MagicCall::from_line("env KELP_NOT_SET_ANYWHERE", None).unwrap(), &c).await.unwrap_err();
        assert!(e.to_string().contains("is not set"));
    }

    #[tokio::test]
    async fn file_writes_appends_and_reports() {
        let d = tempfile::tempdir().unwrap();
        let c = ctx(d.path());
        let call = |l: &str, b: &str| MagicCall::from_line(l, Some(b.to_string())).unwrap();
        let o = FileMagic.run(call("file sub/a.txt", "one\n"), &c).await.unwrap();
        assert_eq!(o.plain(), Some("Writing sub/a.txt"));
        let o = FileMagic.run(call("file -a sub/a.txt", "two\n"), &c).await.unwrap();
        assert_eq!(o.plain(), Some("Appending to sub/a.txt"));
        assert_eq!(std::fs::read_to_string(d.path().join("sub/a.txt")).unwrap(), "one\ntwo\n");
        let o = FileMagic.run(call("file sub/a.txt", "three\n"), &c).await.unwrap();
        assert_eq!(o.plain(), Some("Overwriting sub/a.txt"));
        assert_eq!(std::fs::read_to_string(d.path().join("sub/a.txt")).unwrap(), "three\n");
        assert!(o.value.unwrap().expr.contains("sub/a.txt"));
        let e = FileMagic.run(call("file", "x"), &c).await.unwrap_err();
        assert!(matches!(e, MagicError::Usage(_)), "{e:?}");
    }
}
