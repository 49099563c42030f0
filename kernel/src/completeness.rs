//! `is_complete_request`: is a cell ready to run, does it need more lines, or can it never be
//! valid? Answered without the engine, by scanning brackets, strings, chars and comments.

use crate::split::{Segment, split_cell};

/// The answer to `is_complete_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// More input is needed; the indent to suggest for the next line.
    Incomplete(String),
    /// No continuation can make this valid (e.g. a closing bracket with no opener).
    Invalid,
}

/// Judge a whole cell: magic lines need balanced quotes; Rust pieces balanced delimiters.
pub fn judge(cell: &str) -> Completeness {
    let mut verdict = Completeness::Complete;
    for seg in split_cell(cell) {
        let v = match seg {
            Segment::Magic { cell: true, .. } | Segment::Help { .. } => Completeness::Complete,
            Segment::Magic { text, .. } => {
                if shell_words::split(&text).is_ok() {
                    Completeness::Complete
                } else {
                    Completeness::Incomplete(String::new())
                }
            }
            Segment::Code { code, .. } => judge_rust(&code),
        };
        match v {
            Completeness::Invalid => return Completeness::Invalid,
            Completeness::Incomplete(_) => verdict = v,
            Completeness::Complete => {}
        }
    }
    verdict
}

/// Scan Rust source: nested delimiters, string / raw string / byte string / char literals,
/// line and (nested) block comments, lifetimes.
pub fn judge_rust(src: &str) -> Completeness {
    let b: Vec<char> = src.chars().collect();
    let mut stack: Vec<char> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            '/' if b.get(i + 1) == Some(&'/') => {
                while i < b.len() && b[i] != '\n' {
                    i += 1;
                }
            }
            '/' if b.get(i + 1) == Some(&'*') => {
                let mut depth = 1;
                i += 2;
                while depth > 0 {
                    if i + 1 >= b.len() {
                        return Completeness::Incomplete(indent(stack.len()));
                    }
                    if b[i] == '/' && b[i + 1] == '*' {
                        depth += 1;
                        i += 2;
                    } else if b[i] == '*' && b[i + 1] == '/' {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            'r' | 'b' | 'c' if starts_raw_string(&b, i) => {
                // r"…", r#"…"#, br##"…"##
                let mut j = i + 1;
                if b[i] != 'r' {
                    j += 1; // the 'r' after b/c
                }
                let mut hashes = 0;
                while b.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                j += 1; // opening quote
                loop {
                    if j >= b.len() {
                        return Completeness::Incomplete(String::new());
                    }
                    if b[j] == '"' && (1..=hashes).all(|k| b.get(j + k) == Some(&'#')) {
                        i = j + hashes;
                        break;
                    }
                    j += 1;
                }
            }
            '"' => {
                let mut j = i + 1;
                loop {
                    match b.get(j) {
                        None => return Completeness::Incomplete(String::new()),
                        Some('\\') => j += 2,
                        Some('"') => break,
                        Some(_) => j += 1,
                    }
                }
                i = j;
            }
            '\'' => {
                // char literal ('a', '\n', '\u{1F600}') or lifetime/label ('a, 'static)
                if b.get(i + 1) == Some(&'\\') {
                    let mut j = i + 2;
                    while j < b.len() && b[j] != '\'' && b[j] != '\n' {
                        j += 1;
                    }
                    i = j;
                } else if b.get(i + 2) == Some(&'\'') {
                    i += 2;
                }
            }
            '(' | '[' | '{' => stack.push(c),
            ')' | ']' | '}' => {
                let open = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if stack.pop() != Some(open) {
                    return Completeness::Invalid;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if stack.is_empty() { Completeness::Complete } else { Completeness::Incomplete(indent(stack.len())) }
}

fn starts_raw_string(b: &[char], i: usize) -> bool {
    // an identifier ending in r/b/c is not a prefix (e.g. `bar"` can't happen, but `for"` might in macros)
    if i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_') {
        return false;
    }
    let mut j = i + 1;
    if b[i] != 'r' {
        if b.get(j) != Some(&'r') {
            return false;
        }
        j += 1;
    }
    while b.get(j) == Some(&'#') {
        j += 1;
    }
    b.get(j) == Some(&'"')
}

fn indent(depth: usize) -> String {
    "    ".repeat(depth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Completeness::*;

    #[test]
    fn complete_samples() {
        for s in [
            "1 + 1",
            "fn f() {}\nf()",
            "let s = \"}\";",
            "let c = '{';",
            "fn f<'a>(x: &'a str) {}",
            "%lsmagic",
            "let r = r#\"a \" { \"#;",
            "// {\n1",
            "/* { /* } */ */ 1",
            "%%file x\n{{{",
            "let b = b'(';",
            "let e = '\\'';",
        ] {
            assert_eq!(judge(s), Complete, "{s}");
        }
    }

    #[test]
    fn incomplete_samples_with_indent() {
        assert_eq!(judge("fn f() {"), Incomplete("    ".into()));
        assert_eq!(judge("fn f() {\n  if x {"), Incomplete("        ".into()));
        assert_eq!(judge("let s = \"abc"), Incomplete(String::new()));
        assert_eq!(judge("vec![1,"), Incomplete("    ".into()));
        assert_eq!(judge("/* open"), Incomplete(String::new()));
        assert_eq!(judge("let r = r##\"x\"#"), Incomplete(String::new()));
        assert_eq!(judge("%ipfs add \"a b"), Incomplete(String::new()));
    }

    #[test]
    fn invalid_samples() {
        assert_eq!(judge("fn f() }"), Invalid);
        assert_eq!(judge("let x = (1];"), Invalid);
        assert_eq!(judge(")"), Invalid);
        assert_eq!(judge("%env\n}"), Invalid);
    }
}
