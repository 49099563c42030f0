//! `kelp`: the helpers every kelp session has.
//!
//! - showing things: [`display`], [`display_html`], [`clear_output`], [`table`], [`image`];
//! - asking the person at the notebook: [`input`], [`password`];
//! - data: [`read_rows`] (CSV or JSON, from a path or a CID), [`parse_csv`], [`parse_json`],
//!   [`read_bytes`]; [`ipfs`]: a CID as a path, bytes or a reader.
//!
//! These files are the source of a small crate the kernel gives each Rust session as a
//! dependency (see the kernel's `prelude` module); it uses only `std`, so it compiles in a
//! moment.

mod data;
pub mod ipfs;
mod json;

pub use data::{
    image, image_data, parse_csv, parse_json, read_bytes, read_rows, table, table_html, Error, Rows, TABLE_MAX_ROWS,
};

/// Show `data` as `mime` (e.g. "text/html") below the cell, now (evcxr's display protocol,
/// as crates that draw in notebooks print it).
pub fn display(mime: &str, data: &str) {
    use std::io::Write as _;
    let out = std::io::stdout();
    let mut out = out.lock();
    let _ = write!(out, "EVCXR_BEGIN_CONTENT {mime}\n{data}\nEVCXR_END_CONTENT\n");
    let _ = out.flush();
}
/// Show HTML below the cell, now.
pub fn display_html(html: &str) {
    display("text/html", html)
}
/// Clear the cell's output (with `wait`, when the next output arrives).
pub fn clear_output(wait: bool) {
    println!("KELP_CLEAR_OUTPUT {}", if wait { "wait" } else { "now" });
}
/// Ask the person at the notebook for a line of text (Jupyter's `input_request`); empty when
/// the frontend cannot answer (no stdin, e.g. `kelp` run from a shell).
pub fn input(prompt: &str) -> String {
    ask("EVCXR_INPUT_REQUEST", prompt)
}
/// Like [`input`], but the frontend hides what is typed (a password or passphrase).
pub fn password(prompt: &str) -> String {
    ask("EVCXR_INPUT_REQUEST_PASSWORD", prompt)
}
fn ask(request: &str, prompt: &str) -> String {
    use std::io::Write as _;
    // evcxr ends the prompt at the first ':' of the request line; keep the look of one.
    println!("{request}:{}", prompt.replace(':', "\u{2236}"));
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    line.trim_end_matches(['\r', '\n']).to_string()
}
/// Hand a value's text to the kernel (how `{var}` in a magic line is filled in).
pub fn value<T: std::fmt::Display + ?Sized>(v: &T) {
    println!("KELP_VALUE {}", v.to_string().replace('\\', "\\\\").replace('\n', "\\n"));
}
