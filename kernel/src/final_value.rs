//! Finding a cell's final expression (the value evcxr shows as the cell's result) and marking
//! the moment between evaluating it and showing it, so that displays printed while it is
//! evaluated stay displays (see [`crate::display`]).
//!
//! evcxr shows a final value by first compiling `(E).evcxr_display()` and, when that fails (any
//! type without its own `evcxr_display`, e.g. `1 + 1`), compiling the cell again with `{:?}`:
//! two compiles for most value cells. [`Show::Kelp`] shows the value in the same compile: a
//! trait local to the cell gives every `Debug` type an `evcxr_display` that prints what evcxr's
//! fallback would, and a type's own inherent `evcxr_display` still wins (Rust picks inherent
//! methods first). When that does not compile (a type that is not `Debug`, or a crate's trait
//! with its own `evcxr_display` in scope), [`crate::run_cell`] runs the cell again with
//! [`Show::Evcxr`], the plain marking, so the user sees evcxr's usual result or error.
//!
//! The rules follow evcxr's own reading of a cell: leading `:command`, `!shell`, `//` comment
//! and blank lines are not Rust; the rest is parsed as a function body, and a last statement
//! that is an expression without `;` is the value.

use crate::display::RESULT_MARKER;
use ra_ap_syntax::{AstNode, Edition, SourceFile, ast};

/// Names in the code [`Show::Kelp`] adds; a compile error naming one came from that code.
pub const SHOW_NAMES: [&str; 3] = ["__kelp_value", "__KelpShow", "evcxr_display"];

/// Who shows the final value (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// evcxr, after the marker (its own `evcxr_display` attempt and `{:?}` fallback).
    Evcxr,
    /// The cell itself, after the marker, in the same compile.
    Kelp,
}

/// Rewrite `code` so that its final expression `E` becomes
/// `match &(E) { v => { ::std::println!("KELP_RESULT_FOLLOWS"); v } }`: evaluated first, then the
/// marker, then evcxr shows the value (through the reference; the value is not moved). With
/// [`Show::Kelp`] the arm shows `*v` itself (module docs) and the statement ends with `;`, so
/// evcxr has no value to show. The marker is printed with std alone, so marking needs nothing
/// else in the session. `None` when the cell has no final expression or does not parse (then it
/// runs unchanged).
pub fn mark_final_value(code: &str, show: Show) -> Option<String> {
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
    let arm = match show {
        Show::Evcxr => "__kelp_value } }".to_string(),
        Show::Kelp => format!("{SHOW_ITEMS}\n(*__kelp_value).evcxr_display();\n}} }};"),
    };
    Some(format!(
        "{}match &({}) {{ __kelp_value => {{ ::std::println!(\"{RESULT_MARKER}\"); {arm}{}",
        &code[..from],
        &code[from..to],
        &code[to..]
    ))
}

/// The cell-local trait of [`Show::Kelp`]: `{:?}` in evcxr's text/plain display block, written
/// in one piece as evcxr's fallback writes it.
const SHOW_ITEMS: &str = "\ntrait __KelpShow { fn evcxr_display(&self); }\n\
    impl<T: ::std::fmt::Debug + ?::std::marker::Sized> __KelpShow for T { fn evcxr_display(&self) {\n\
    let _ = ::std::io::Write::write_all(&mut ::std::io::stdout().lock(), \
    ::std::format!(\"EVCXR_BEGIN_CONTENT text/plain\\n{:?}\\nEVCXR_END_CONTENT\\n\", self).as_bytes());\n\
    } }";

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
            mark_final_value(":dep x = \"1\"\n// c\nlet a = 1;\nshow(a);\na + 1 // sum\n", Show::Evcxr).unwrap(),
            format!(":dep x = \"1\"\n// c\nlet a = 1;\nshow(a);\nmatch &(a + 1) {{ __kelp_value => {WRAP} // sum\n")
        );
        assert_eq!(
            mark_final_value("for i in 0..2 { f(i) }", Show::Evcxr).unwrap(),
            format!("match &(for i in 0..2 {{ f(i) }}) {{ __kelp_value => {WRAP}")
        );
    }

    #[test]
    fn kelp_showing_ends_the_cell_with_a_statement_that_parses() {
        let code = mark_final_value("let a = 1;\na + 1 // sum\n", Show::Kelp).unwrap();
        assert!(code.starts_with("let a = 1;\nmatch &(a + 1) { __kelp_value => {"), "{code}");
        assert!(code.ends_with("} }; // sum\n"), "{code}");
        let marker = code.find(RESULT_MARKER).unwrap();
        assert!(marker < code.find("(*__kelp_value).evcxr_display();").unwrap(), "{code}");
        let parsed = SourceFile::parse(&format!("fn f(){{{code}}}"), Edition::Edition2024);
        assert!(parsed.errors().is_empty(), "{:?}\n{code}", parsed.errors());
        // A statement, not a value: evcxr has nothing left to show.
        let body = parsed.tree().syntax().children().next().and_then(ast::Fn::cast).unwrap().body().unwrap();
        assert!(body.stmt_list().unwrap().tail_expr().is_none(), "{code}");
    }

    #[test]
    fn no_value_or_no_parse_means_unchanged() {
        for code in ["let a = 1;", "f();", ":dep x", "", "fn g() {}", "let a = ;\na", "// only a comment"] {
            for show in [Show::Evcxr, Show::Kelp] {
                assert_eq!(mark_final_value(code, show), None, "{code}");
            }
        }
    }
}
