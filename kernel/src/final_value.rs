//! Finding a cell's final expression (the value evcxr shows as the cell's result) and marking
//! the moment between evaluating it and showing it, so that displays printed while it is
//! evaluated stay displays (see [`crate::display`]).
//!
//! The rules follow evcxr's own reading of a cell: leading `:command`, `!shell`, `//` comment
//! and blank lines are not Rust; the rest is parsed as a function body, and a last statement
//! that is an expression without `;` is the value.

use crate::display::RESULT_MARKER;
use ra_ap_syntax::{AstNode, Edition, SourceFile, ast};

/// Rewrite `code` so that its final expression `E` becomes
/// `match &(E) { v => { ::std::println!("KELP_RESULT_FOLLOWS"); v } }`: evaluated first, then the
/// marker, then evcxr shows the value (through the reference; the value is not moved). The marker
/// is printed with std alone, so marking needs nothing else in the session. `None` when the cell
/// has no final expression or does not parse (then it runs unchanged).
pub fn mark_final_value(code: &str) -> Option<String> {
    let start = rust_start(code)?;
    let rust = &code[start..];
    const HEAD: &str = "fn f(){";
    let parsed = SourceFile::parse(&format!("{HEAD}{rust}\n}}"), Edition::Edition2024);
    if !parsed.errors().is_empty() {
        return None;
    }
    let body = parsed.tree().syntax().children().next().and_then(ast::Fn::cast)?.body()?.stmt_list()?;
    let last = body.syntax().children().last()?;
    if !ast::Expr::can_cast(last.kind()) {
        return None;
    }
    let range = last.text_range();
    let from = usize::from(range.start()).checked_sub(HEAD.len())?;
    let to = usize::from(range.end()).checked_sub(HEAD.len())?;
    if to > rust.len() || from >= to {
        return None;
    }
    let (from, to) = (start + from, start + to);
    Some(format!(
        "{}match &({}) {{ __kelp_value => {{ ::std::println!(\"{RESULT_MARKER}\"); __kelp_value }} }}{}",
        &code[..from],
        &code[from..to],
        &code[to..]
    ))
}

/// Byte offset of the first line evcxr reads as Rust (`None`: only commands and comments).
pub fn rust_start(code: &str) -> Option<usize> {
    let mut offset = 0;
    for line in code.split_inclusive('\n') {
        let l = line.trim_end_matches(['\n', '\r']);
        let command = l.starts_with('!') || l.trim_start_matches(' ').starts_with(':');
        if !(command || l.starts_with("//") || l.trim().is_empty()) {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRAP: &str = "{ ::std::println!(\"KELP_RESULT_FOLLOWS\"); __kelp_value } }";

    #[test]
    fn the_last_expression_is_wrapped() {
        assert_eq!(
            mark_final_value(":dep x = \"1\"\n// c\nlet a = 1;\nshow(a);\na + 1 // sum\n").unwrap(),
            format!(":dep x = \"1\"\n// c\nlet a = 1;\nshow(a);\nmatch &(a + 1) {{ __kelp_value => {WRAP} // sum\n")
        );
        assert_eq!(
            mark_final_value("for i in 0..2 { f(i) }").unwrap(),
            format!("match &(for i in 0..2 {{ f(i) }}) {{ __kelp_value => {WRAP}")
        );
    }

    #[test]
    fn no_value_or_no_parse_means_unchanged() {
        for code in ["let a = 1;", "f();", ":dep x", "", "fn g() {}", "let a = ;\na", "// only a comment"] {
            assert_eq!(mark_final_value(code), None, "{code}");
        }
    }
}
