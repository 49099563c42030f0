//! `complete_request` and `inspect_request`: magic lines are answered from the registry, Rust
//! from the engine (rust-analyzer inside evcxr). Jupyter counts cursor positions in Unicode
//! code points; Rust strings are indexed in bytes, so positions are converted both ways.

use crate::request::CodeAt;
use crate::state::Kernel;
use serde_json::{Value, json};

fn byte_offset(s: &str, cp: usize) -> usize {
    s.char_indices().nth(cp).map(|(b, _)| b).unwrap_or(s.len())
}

fn cp_offset(s: &str, byte: usize) -> usize {
    s[..byte.min(s.len())].chars().count()
}

/// The line containing byte `pos`: (start byte, text up to pos, whole line).
fn line_at(code: &str, pos: usize) -> (usize, &str, &str) {
    let start = code[..pos].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = code[pos..].find('\n').map(|i| pos + i).unwrap_or(code.len());
    (start, &code[start..pos], &code[start..end])
}

/// Blank out magic lines (same length) so rust-analyzer sees only Rust, at the same offsets.
fn rust_only(code: &str) -> String {
    code.split('\n')
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with('%') && t[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '%' || c == '_') {
                " ".repeat(l.len())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) async fn complete(k: &Kernel, at: &CodeAt) -> Value {
    let code = at.code.as_str();
    let cursor_cp = at.cursor_pos.unwrap_or(code.chars().count());
    let pos = byte_offset(code, cursor_cp);
    let (line_start, before, _) = line_at(code, pos);
    if let Some(comp) = k.registry().complete(before, k.cwd()) {
        return json!({
            "status": "ok",
            "matches": comp.matches,
            "cursor_start": cp_offset(code, line_start + comp.start),
            "cursor_end": cursor_cp,
            "metadata": {},
        });
    }
    let (matches, start, end) = match k.engine().complete(rust_only(code), pos).await {
        Some((m, s, e)) => (m, cp_offset(code, s), cp_offset(code, e)),
        None => (vec![], cursor_cp, cursor_cp),
    };
    json!({"status": "ok", "matches": matches, "cursor_start": start, "cursor_end": end, "metadata": {}})
}

pub(crate) async fn inspect(k: &Kernel, at: &CodeAt) -> Value {
    let code = at.code.as_str();
    let cursor_cp = at.cursor_pos.unwrap_or(code.chars().count());
    let pos = byte_offset(code, cursor_cp);
    let (_, _, line) = line_at(code, pos);
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix("%%").or_else(|| t.strip_prefix('%')) {
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-').collect();
        return match k.registry().help(&name) {
            Ok(help) => json!({"status": "ok", "found": true, "data": {"text/plain": help}, "metadata": {}}),
            Err(_) => json!({"status": "ok", "found": false, "data": {}, "metadata": {}}),
        };
    }
    match k.engine().hover(rust_only(code), pos).await {
        Some((plain, html)) if !plain.trim().is_empty() && !plain.contains("No documentation found") => {
            json!({"status": "ok", "found": true, "data": {"text/plain": plain, "text/html": html}, "metadata": {}})
        }
        _ => json!({"status": "ok", "found": false, "data": {}, "metadata": {}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip_over_multibyte() {
        let s = "é%ipf";
        assert_eq!(byte_offset(s, 1), 2);
        assert_eq!(cp_offset(s, 2), 1);
        assert_eq!(byte_offset(s, 99), s.len());
    }

    #[test]
    fn line_at_finds_current_line() {
        let code = "let x = 1;\n%ipfs a\nx";
        let pos = code.find(" a").unwrap() + 2;
        let (start, before, line) = line_at(code, pos);
        assert_eq!((start, before, line), (11, "%ipfs a", "%ipfs a"));
    }

    #[test]
    fn magic_lines_are_blanked_for_rust() {
        let s = rust_only("%env X=1\nlet y = 10 % 3;\n%%file");
        assert_eq!(s, "        \nlet y = 10 % 3;\n      ");
    }
}
