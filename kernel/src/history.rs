//! This session's input history, for `history_request` (tail, range, search).
//!
//! Entries are `[session, line, input]` (or `[session, line, [input, output]]` with
//! `output: true`). The session number is 1; a request for session 0 or a negative one means
//! this session too, as IPython's relative numbering does.

use serde_json::{Value, json};

const SESSION: i64 = 1;

/// A `history_request`: which entries, and whether with their outputs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistoryQuery {
    pub(crate) output: bool,
    pub(crate) access: Access,
}

/// `hist_access_type` with its fields.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Access {
    /// The last `n` (default 10).
    Tail {
        n: Option<usize>,
    },
    /// Lines `start..stop` of `session` (0 or negative: this one).
    Range {
        session: i64,
        start: i64,
        stop: Option<i64>,
    },
    /// Inputs matching a glob; `unique` keeps each input's last occurrence; then the last `n`.
    Search {
        pattern: String,
        unique: bool,
        n: Option<usize>,
    },
    Unknown,
}

#[derive(Debug, Default)]
pub(crate) struct History {
    entries: Vec<(i64, String, Option<String>)>,
}

impl History {
    /// Record a cell (its execution count and input); the output is filled in later.
    pub(crate) fn push(&mut self, line: i64, input: &str) {
        self.entries.push((line, input.to_string(), None));
    }

    /// Attach the text/plain result of the cell with execution count `line`.
    pub(crate) fn set_output(&mut self, line: i64, output: &str) {
        if let Some(e) = self.entries.iter_mut().rev().find(|e| e.0 == line) {
            e.2 = Some(output.to_string());
        }
    }

    fn row(&self, e: &(i64, String, Option<String>), output: bool) -> Value {
        if output { json!([SESSION, e.0, [e.1, e.2]]) } else { json!([SESSION, e.0, e.1]) }
    }

    /// Answer a `history_request`.
    pub(crate) fn query(&self, q: &HistoryQuery) -> Vec<Value> {
        let output = q.output;
        match &q.access {
            Access::Tail { n } => {
                let n = n.unwrap_or(10);
                let skip = self.entries.len().saturating_sub(n);
                self.entries[skip..].iter().map(|e| self.row(e, output)).collect()
            }
            Access::Range { session, start, stop } => {
                if *session > 0 && *session != SESSION {
                    return vec![];
                }
                self.entries
                    .iter()
                    .filter(|e| e.0 >= *start && stop.is_none_or(|s| e.0 < s))
                    .map(|e| self.row(e, output))
                    .collect()
            }
            Access::Search { pattern, unique, n } => {
                let mut hits: Vec<&(i64, String, Option<String>)> =
                    self.entries.iter().filter(|e| glob_match(pattern, &e.1)).collect();
                if *unique {
                    // keep the last occurrence of each input, in chronological order
                    let mut seen = std::collections::HashSet::new();
                    let mut kept: Vec<_> = hits.into_iter().rev().filter(|e| seen.insert(e.1.clone())).collect();
                    kept.reverse();
                    hits = kept;
                }
                if let Some(n) = n {
                    let skip = hits.len().saturating_sub(*n);
                    hits = hits.split_off(skip);
                }
                hits.into_iter().map(|e| self.row(e, output)).collect()
            }
            Access::Unknown => vec![],
        }
    }
}

/// Shell-style glob: `*` any run, `?` one character, everything else literal.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h() -> History {
        let mut h = History::default();
        for (i, c) in ["a = 1", "6*7", "b", "6*7", "6*7"].iter().enumerate() {
            h.push(i as i64 + 1, c);
        }
        h.set_output(2, "42");
        h
    }

    #[test]
    fn tail_returns_last_n_in_order() {
        let r = h().query(&HistoryQuery { output: false, access: Access::Tail { n: Some(2) } });
        assert_eq!(r, vec![json!([1, 4, "6*7"]), json!([1, 5, "6*7"])]);
    }

    #[test]
    fn output_rows_pair_input_and_output() {
        let r =
            h().query(&HistoryQuery { output: true, access: Access::Range { session: 1, start: 2, stop: Some(3) } });
        assert_eq!(r, vec![json!([1, 2, ["6*7", "42"]])]);
    }

    #[test]
    fn search_glob_unique_and_n() {
        let q = |pattern: &str, unique: bool, n: Option<usize>| {
            let access = Access::Search { pattern: pattern.into(), unique, n };
            h().query(&HistoryQuery { output: false, access }).len()
        };
        assert_eq!(q("6*", false, None), 3);
        assert_eq!(q("6*", true, None), 1);
        assert_eq!(q("*", false, Some(2)), 2);
        assert_eq!(q("zz*", false, None), 0);
    }

    #[test]
    fn globs() {
        assert!(glob_match("6*", "6*7"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("*b*", "abc"));
        assert!(glob_match("6*7", "6*7"));
        assert!(!glob_match("6*8", "6*7"));
    }
}
