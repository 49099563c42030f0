//! The one table of magics. `%lsmagic`, `%magic`, `%name?`, tab completion and the shell
//! front end all read it, so a magic registered here is everywhere at once.

use crate::{Magic, MagicCall, MagicContext, MagicError, MagicKind, MagicResult, Output, Result, html_escape};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Candidates for the word being completed; `start` is the byte offset in the completed text
/// where the replacement begins (the cursor is the end of the text).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completion {
    pub start: usize,
    pub matches: Vec<String>,
}

/// The registered magics, plus the two that describe the others (`%lsmagic`, `%magic`).
#[derive(Clone, Default)]
pub struct Registry {
    magics: Vec<Arc<dyn Magic>>,
}

const LSMAGIC: (&str, &str) = ("lsmagic", "List the available magics.");
const MAGIC: (&str, &str) = ("magic", "Show the help of every magic.");

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a magic; a later one with the same name replaces the earlier.
    pub fn register(&mut self, m: Arc<dyn Magic>) -> &mut Self {
        self.magics.retain(|x| x.name() != m.name());
        self.magics.push(m);
        self
    }

    pub fn with(mut self, m: impl Magic + 'static) -> Self {
        self.register(Arc::new(m));
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Magic>> {
        self.magics.iter().find(|m| m.name() == name)
    }

    /// Every name, registry built-ins included, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.magics.iter().map(|m| m.name()).collect();
        v.extend([LSMAGIC.0, MAGIC.0]);
        v.sort_unstable();
        v
    }

    /// The known name closest to `name`, if any is close enough to be a likely typo.
    pub fn closest(&self, name: &str) -> Option<String> {
        let mut best: Option<(f64, &str)> = None;
        for n in self.names() {
            let score = if n.starts_with(name) || name.starts_with(n) { 0.9 } else { strsim::jaro_winkler(name, n) };
            if score >= 0.7 && best.is_none_or(|(s, _)| score > s) {
                best = Some((score, n));
            }
        }
        best.map(|(_, n)| n.to_string())
    }

    /// `%name?`: the full help of one magic, generated from its clap definition.
    pub fn help(&self, name: &str) -> Result<String> {
        match name {
            "lsmagic" => Ok(format!("%lsmagic — {}\n\nUsage: %lsmagic\n", LSMAGIC.1)),
            "magic" => Ok(format!("%magic — {}\n\nUsage: %magic\n", MAGIC.1)),
            _ => {
                let m = self.get(name).ok_or_else(|| self.unknown(name))?;
                let prefix = if m.kind() == MagicKind::Cell { "%%" } else { "%" };
                let mut cmd = m.command().bin_name(format!("{prefix}{}", m.name()));
                Ok(format!("{prefix}{} — {}\n\n{}", m.name(), m.summary(), cmd.render_long_help()))
            }
        }
    }

    fn unknown(&self, name: &str) -> MagicError {
        MagicError::Unknown { name: name.to_string(), suggestion: self.closest(name) }
    }

    /// `%lsmagic`: names and summaries as text, HTML and JSON
    /// (`{"line": {name: summary}, "cell": {name: summary}}`, IPython's shape).
    pub fn lsmagic(&self) -> Output {
        let mut r = Lsmagic::default();
        for m in &self.magics {
            if m.kind().is_line() {
                r.line.insert(m.name().into(), m.summary().into());
            }
            if m.kind().is_cell() {
                r.cell.insert(m.name().into(), m.summary().into());
            }
        }
        r.line.insert(LSMAGIC.0.into(), LSMAGIC.1.into());
        r.line.insert(MAGIC.0.into(), MAGIC.1.into());
        r.output()
    }

    /// `%magic`: every magic's help, one after another.
    pub fn all_help(&self) -> Output {
        let text =
            self.names().into_iter().filter_map(|n| self.help(n).ok()).collect::<Vec<_>>().join("\n────────\n\n");
        Output::text(text)
    }

    /// Run one call: the registry built-ins, else the named magic; unknown names get the
    /// closest known one in the error. `cell` says whether it came as `%%name`.
    pub async fn run(&self, call: MagicCall, cell: bool, ctx: &MagicContext) -> Result<Output> {
        match call.name.as_str() {
            "lsmagic" => return Ok(self.lsmagic()),
            "magic" => return Ok(self.all_help()),
            _ => {}
        }
        let m = self.get(&call.name).ok_or_else(|| self.unknown(&call.name))?;
        if cell && !m.kind().is_cell() {
            return Err(MagicError::Usage(format!(
                "%{0} is a line magic: write it as %{0} on its own line, not %%{0}",
                call.name
            )));
        }
        if !cell && !m.kind().is_line() {
            return Err(MagicError::Usage(format!(
                "%%{0} is a cell magic: put %%{0} … on the first line of the cell",
                call.name
            )));
        }
        let (prefix, name, line) = (if cell { "%%" } else { "%" }, call.name.clone(), call.line.clone());
        let (body, bind) = (call.body.clone(), call.bind.clone());
        let mut out = m.run(call, ctx).await?;
        // The family filled reads and writes; the call itself is known here.
        if let Some(r) = out.record.take() {
            let mut r = r.with_call(prefix, &name, &line, body.as_deref());
            r.binds = bind;
            out.record = Some(r);
        }
        Ok(out)
    }

    /// Complete the magic line `text` (cursor at its end), e.g. `%ip`, `%ipfs a`, `%ipfs add --ci`.
    /// Returns `None` when `text` is not a magic line. Paths are completed against `cwd`.
    pub fn complete(&self, text: &str, cwd: &Path) -> Option<Completion> {
        let trimmed = text.trim_start();
        let lead = text.len() - trimmed.len();
        let (pct, rest) =
            if let Some(r) = trimmed.strip_prefix("%%") { ("%%", r) } else { ("%", trimmed.strip_prefix('%')?) };
        // Still on the name?
        if !rest.contains(char::is_whitespace) {
            let matches = self
                .names()
                .into_iter()
                .filter(|n| n.starts_with(rest))
                .filter(|n| match self.get(n) {
                    Some(m) if pct == "%%" => m.kind().is_cell(),
                    Some(m) => m.kind().is_line(),
                    None => pct == "%",
                })
                .map(|n| format!("{pct}{n}"))
                .collect();
            return Some(Completion { start: lead, matches });
        }
        let name = rest.split_whitespace().next()?;
        let m = self.get(name)?;
        let words_start = lead + pct.len() + name.len();
        let args = &text[words_start..];
        let (done, partial) = match args.rfind(char::is_whitespace) {
            Some(i) => (&args[..i], &args[i + 1..]),
            None => ("", args),
        };
        let start = text.len() - partial.len();
        let mut cmd = m.command();
        for w in done.split_whitespace() {
            if let Some(sub) = cmd.find_subcommand(w) {
                cmd = sub.clone();
            }
        }
        let mut matches: Vec<String> = if partial.starts_with('-') {
            cmd.get_arguments()
                .filter(|a| !a.is_hide_set())
                .flat_map(|a| {
                    let mut v: Vec<String> = a
                        .get_long_and_visible_aliases()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|l| format!("--{l}"))
                        .collect();
                    if let Some(s) = a.get_short() {
                        v.push(format!("-{s}"));
                    }
                    v
                })
                .chain(["--help".to_string()])
                .filter(|f| f.starts_with(partial))
                .collect()
        } else {
            let subs: Vec<String> = cmd
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .flat_map(|s| {
                    std::iter::once(s.get_name().to_string()).chain(s.get_visible_aliases().map(str::to_string))
                })
                .filter(|s| s.starts_with(partial))
                .collect();
            if subs.is_empty() && cmd.get_positionals().next().is_some() { complete_path(partial, cwd) } else { subs }
        };
        matches.sort();
        matches.dedup();
        Some(Completion { start, matches })
    }
}

fn complete_path(partial: &str, cwd: &Path) -> Vec<String> {
    let (dir_part, file_part) = match partial.rfind('/') {
        Some(i) => (&partial[..=i], &partial[i + 1..]),
        None => ("", partial),
    };
    let dir = if dir_part.is_empty() {
        cwd.to_path_buf()
    } else if Path::new(dir_part).is_absolute() {
        dir_part.into()
    } else {
        cwd.join(dir_part)
    };
    let Ok(rd) = std::fs::read_dir(dir) else { return vec![] };
    let mut out: Vec<String> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(file_part) || (name.starts_with('.') && !file_part.starts_with('.')) {
                return None;
            }
            let slash = if e.file_type().is_ok_and(|t| t.is_dir()) { "/" } else { "" };
            Some(format!("{dir_part}{name}{slash}"))
        })
        .collect();
    out.sort();
    out
}

/// `%lsmagic`: every magic's summary (IPython's shape).
#[derive(Debug, Default, Serialize, JsonSchema)]
pub(crate) struct Lsmagic {
    /// Line magics: name (without `%`) to summary.
    pub line: BTreeMap<String, String>,
    /// Cell magics: name (without `%%`) to summary.
    pub cell: BTreeMap<String, String>,
}

impl MagicResult for Lsmagic {
    const SCHEMA: &'static str = "lsmagic.list";
    fn text(&self) -> String {
        let width = self.line.keys().chain(self.cell.keys()).map(|k| k.len()).max().unwrap_or(0) + 3;
        let mut text = String::from("Line magics:\n");
        for (k, v) in &self.line {
            text += &format!("  {:<width$}{v}\n", format!("%{k}"));
        }
        text += "Cell magics:\n";
        for (k, v) in &self.cell {
            text += &format!("  {:<width$}{v}\n", format!("%%{k}"));
        }
        text + "Type %name? for the help of one magic.\n"
    }
    fn html(&self) -> Option<String> {
        let mut html = String::from("<table><tr><th>magic</th><th>what it does</th></tr>");
        let rows = self.line.iter().map(|(k, v)| ("%", k, v)).chain(self.cell.iter().map(|(k, v)| ("%%", k, v)));
        for (prefix, k, v) in rows {
            html += &format!("<tr><td><code>{prefix}{}</code></td><td>{}</td></tr>", html_escape(k), html_escape(v));
        }
        Some(html + "</table>")
    }
}

#[cfg(test)]
mod tests;
