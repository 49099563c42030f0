//! Splitting a cell into magic calls and Rust code, before evcxr sees anything.
//!
//! Rules (IPython's, adapted to Rust):
//! - a first line `%%name args` makes the whole cell one cell magic; the rest is its body;
//! - otherwise a line whose first non-blank text is `%name` is a line magic, and
//!   `let VAR = %name args` is a line magic whose result is bound to the Rust variable `VAR`;
//! - `%name?` / `%name??` asks for the magic's help;
//! - every other line is Rust (including evcxr's `:dep`-style commands), kept in order, with
//!   consecutive Rust lines grouped into one piece.
//!
//! A `%` followed by a space or digit is Rust's remainder operator, not a magic.

/// One piece of a cell, in order. `line` is the 0-based line of the piece in the cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// `%name args` or `%%name args` + body. `text` is everything after the `%`/`%%`.
    Magic { text: String, body: Option<String>, cell: bool, bind: Option<String>, line: usize },
    /// `%name?`: show the help of `name`.
    Help { name: String, line: usize },
    /// Rust code for the engine.
    Code { code: String, line: usize },
}

/// Whether `s` (trimmed) starts a magic: `%` or `%%` then an identifier character.
fn magic_text(s: &str) -> Option<(&str, bool)> {
    let (rest, cell) = if let Some(r) = s.strip_prefix("%%") { (r, true) } else { (s.strip_prefix('%')?, false) };
    let first = rest.chars().next()?;
    (first.is_ascii_alphabetic() || first == '_').then_some((rest, cell))
}

/// `let NAME = %…` → (NAME, the text from `%`).
fn binding(s: &str) -> Option<(String, &str)> {
    let rest = s.strip_prefix("let")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("mut ").map(str::trim_start).unwrap_or(rest);
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    let (name, after) = rest.split_at(end);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let after = after.strip_suffix(';').map(str::trim_end).unwrap_or(after);
    magic_text(after).filter(|(_, cell)| !cell).map(|_| (name.to_string(), after))
}

fn help_name(text: &str) -> Option<String> {
    let name = text.trim_end().trim_end_matches('?');
    (text.trim_end().ends_with('?') && !name.is_empty() && !name.contains(char::is_whitespace))
        .then(|| name.to_string())
}

/// Split a cell into its pieces.
pub fn split_cell(cell: &str) -> Vec<Segment> {
    let lines: Vec<&str> = cell.split('\n').collect();
    let first = lines.iter().position(|l| !l.trim().is_empty());
    if let Some(i) = first {
        let head = lines[i].trim();
        if let Some((text, true)) = magic_text(head) {
            if let Some(name) = help_name(text) {
                return vec![Segment::Help { name, line: i }];
            }
            let body = lines[i + 1..].join("\n");
            return vec![Segment::Magic {
                text: text.trim_end().to_string(),
                body: Some(body),
                cell: true,
                bind: None,
                line: i,
            }];
        }
    }
    let mut out = Vec::new();
    let mut code: Vec<&str> = Vec::new();
    let mut code_start = 0;
    let flush = |code: &mut Vec<&str>, start: usize, out: &mut Vec<Segment>| {
        if code.iter().any(|l| !l.trim().is_empty()) {
            out.push(Segment::Code { code: code.join("\n"), line: start });
        }
        code.clear();
    };
    for (i, raw) in lines.iter().enumerate() {
        let t = raw.trim();
        let (text, bind) = if let Some((text, false)) = magic_text(t) {
            (Some(text), None)
        } else if let Some((name, after)) = binding(t) {
            (magic_text(after).map(|(x, _)| x), Some(name))
        } else {
            (None, None)
        };
        match text {
            Some(text) => {
                flush(&mut code, code_start, &mut out);
                if let (Some(name), None) = (help_name(text), &bind) {
                    out.push(Segment::Help { name, line: i });
                } else {
                    out.push(Segment::Magic {
                        text: text.trim_end().to_string(),
                        body: None,
                        cell: false,
                        bind,
                        line: i,
                    });
                }
            }
            None => {
                if code.is_empty() {
                    code_start = i;
                }
                code.push(raw);
            }
        }
    }
    flush(&mut code, code_start, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn magic(text: &str, line: usize) -> Segment {
        Segment::Magic { text: text.into(), body: None, cell: false, bind: None, line }
    }

    #[test]
    fn pure_rust_is_one_piece() {
        assert_eq!(split_cell("let x = 1;\nx + 1"), vec![Segment::Code { code: "let x = 1;\nx + 1".into(), line: 0 }]);
    }

    #[test]
    fn magics_and_code_interleave_in_order() {
        let s = split_cell("%env A=1\nlet x = 2;\n  %ipfs add 'a b.csv'\nx");
        assert_eq!(
            s,
            vec![
                magic("env A=1", 0),
                Segment::Code { code: "let x = 2;".into(), line: 1 },
                magic("ipfs add 'a b.csv'", 2),
                Segment::Code { code: "x".into(), line: 3 },
            ]
        );
    }

    #[test]
    fn cell_magic_takes_the_whole_cell() {
        let s = split_cell("\n%%file out.txt\nline 1\n%not a magic here\n");
        assert_eq!(
            s,
            vec![Segment::Magic {
                text: "file out.txt".into(),
                body: Some("line 1\n%not a magic here\n".into()),
                cell: true,
                bind: None,
                line: 1
            }]
        );
    }

    #[test]
    fn let_binding_of_a_magic() {
        let s = split_cell("let cid = %ipfs add data.csv;\nlet mut p = %%file x");
        assert_eq!(
            s[0],
            Segment::Magic {
                text: "ipfs add data.csv".into(),
                body: None,
                cell: false,
                bind: Some("cid".into()),
                line: 0
            }
        );
        // a cell magic cannot be bound: that line stays Rust (and rustc will say why)
        assert!(matches!(&s[1], Segment::Code { .. }));
    }

    #[test]
    fn help_requests() {
        assert_eq!(split_cell("%ipfs?"), vec![Segment::Help { name: "ipfs".into(), line: 0 }]);
        assert_eq!(split_cell("%%file??"), vec![Segment::Help { name: "file".into(), line: 0 }]);
        assert_eq!(split_cell("%lsmagic?\n"), vec![Segment::Help { name: "lsmagic".into(), line: 0 }]);
    }

    #[test]
    fn remainder_operator_is_rust() {
        let s = split_cell("let x = 10\n    % 3;\nlet y = x %2;");
        assert_eq!(s.len(), 1);
        assert!(matches!(&s[0], Segment::Code { .. }));
    }

    #[test]
    fn blank_code_between_magics_is_dropped() {
        let s = split_cell("%lsmagic\n\n   \n%env");
        assert_eq!(s, vec![magic("lsmagic", 0), magic("env", 3)]);
    }
}
