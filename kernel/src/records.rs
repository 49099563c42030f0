//! Provenance in the kernel (issue #14): the record of each Rust piece (the sha256 of its
//! source, the session variables it uses, the names it defines, CID literals it reads), the
//! `{var}`s a magic line used, and the `metadata` (`{"kelp": record}`) of the outputs that carry
//! a record. Every record also goes to the session log `%provenance` shows.
//!
//! Which variables a Rust piece "uses" is found by name: an identifier of its source that an
//! earlier piece bound (`let x = %magic …`) or defined (`let x` in Rust). A field or method
//! of the same name counts too: the graph may show an extra edge, never miss one.

use kelp_magic::{Item, Record, looks_like_cid};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Variables of this session defined by earlier pieces.
static KNOWN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn known() -> std::sync::MutexGuard<'static, BTreeSet<String>> {
    KNOWN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The record of a Rust piece about to run.
pub fn rust(source: &str) -> Record {
    let mut r = Record::rust(source);
    let words: BTreeSet<&str> = identifiers(source).collect();
    {
        let known = known();
        r.uses = words.iter().filter(|w| known.contains(**w)).map(|w| w.to_string()).collect();
    }
    r.defines = let_names(source);
    for lit in string_literals(source) {
        if looks_like_cid(lit) {
            r = r.read(Item::cid(lit.trim_start_matches("/ipfs/")));
        }
    }
    r
}

/// After the piece ran: each string literal of its source naming a file below `cwd` that was
/// modified since `started` is recorded as written, with its sha256.
pub fn finish(r: &mut Record, source: &str, cwd: &std::path::Path, started: std::time::SystemTime) {
    for lit in string_literals(source) {
        if lit.is_empty() || lit.contains('\n') {
            continue;
        }
        let p = cwd.join(lit);
        let fresh = std::fs::metadata(&p).and_then(|m| m.modified()).is_ok_and(|t| t >= started);
        if fresh && p.is_file() {
            let item = Item::file(cwd, std::path::Path::new(lit));
            if !r.writes.contains(&item) {
                r.writes.push(item);
            }
        }
    }
}

/// Note what a piece's record bound or defined, for the pieces after it; log it for
/// `%provenance` under cell `count`.
pub fn ran(count: i64, r: &Record) {
    let mut k = known();
    k.extend(r.binds.iter().cloned());
    k.extend(r.defines.iter().cloned());
    drop(k);
    kelp_provenance::session().push(count.max(0) as usize, r.clone());
}

/// An output's `metadata`: `{"kelp": record}` when it has one.
pub fn metadata(r: Option<&Record>) -> Value {
    match r {
        Some(r) => json!({ "kelp": r.to_json() }),
        None => json!({}),
    }
}

fn identifiers(src: &str) -> impl Iterator<Item = &str> {
    src.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_'))
}

/// `let NAME`, `let mut NAME` (simple bindings; patterns are not followed).
fn let_names(src: &str) -> Vec<String> {
    let words: Vec<&str> = src.split_whitespace().collect();
    let mut out = vec![];
    for (i, w) in words.iter().enumerate() {
        if *w != "let" {
            continue;
        }
        let mut name = words.get(i + 1).copied().unwrap_or("");
        if name == "mut" {
            name = words.get(i + 2).copied().unwrap_or("");
        }
        let name: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !name.is_empty() && name != "_" && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The contents of `"…"` literals (escapes not decoded; enough to spot CIDs).
fn string_literals(src: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut rest = src;
    while let Some(i) = rest.find('"') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('"') else { break };
        out.push(&after[..j]);
        rest = &after[j + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_records_hash_uses_defines_and_cids() {
        let cid = "QmPnnvFkvSCmPvMdMtSNbXrFWQX5XYc4YkcVU4cujyyH8Z";
        known().insert("data_cid_test".into());
        let src = format!(
            "let rows = kelp::read_rows(&data_cid_test).unwrap();\nlet mut n = 1; let b = kelp::ipfs::bytes(\"{cid}\");"
        );
        let r = rust(&src);
        assert_eq!(r.source_sha256.as_deref(), Some(kelp_magic::sha256_hex(src.as_bytes()).as_str()));
        assert_eq!(r.uses, vec!["data_cid_test".to_string()]);
        assert_eq!(r.defines, vec!["rows", "n", "b"]);
        assert_eq!(r.reads, vec![Item::cid(cid)]);
        assert_eq!(metadata(Some(&r))["kelp"]["kind"], "rust");
        assert_eq!(metadata(None), json!({}));
    }

    #[test]
    fn files_a_piece_wrote_are_recorded_with_their_hash() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("old.txt"), "x").unwrap();
        let started = std::time::SystemTime::now() + std::time::Duration::from_millis(1);
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(d.path().join("new.json"), "{}").unwrap();
        let src = "let a = std::fs::read(\"old.txt\"); std::fs::write(\"new.json\", \"{}\");";
        let mut r = rust(src);
        finish(&mut r, src, d.path(), started);
        assert_eq!(r.writes, vec![Item::Path { path: "new.json".into(), sha256: Some(kelp_magic::sha256_hex(b"{}")) }]);
    }
}
