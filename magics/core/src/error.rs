//! The error every magic returns: one line a person can act on.

/// What went wrong running a magic. `Display` is a single line: what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MagicError {
    /// The arguments did not parse; the text already names the magic and points to `%name?`.
    #[error("{0}")]
    Usage(String),
    /// No magic of that name; `suggestion` is the closest known one.
    #[error("unknown magic %{name}{}", suggestion.as_ref().map(|s| format!(": did you mean %{s}?")).unwrap_or_else(|| ": run %lsmagic to list them".into()))]
    Unknown { name: String, suggestion: Option<String> },
    /// The run was interrupted by the user; nothing was left half written.
    #[error("interrupted: {0}")]
    Cancelled(String),
    /// `--help` was asked for: the rendered help, shown as output rather than as an error.
    #[error("{0}")]
    Help(String),
    /// The magic ran and failed; the message says what to do.
    #[error("{0}")]
    Failed(String),
}

impl MagicError {
    /// A failure with a message (one line; newlines are folded).
    pub fn failed(msg: impl std::fmt::Display) -> Self {
        MagicError::Failed(one_line(&msg.to_string()))
    }
}

/// Fold a message onto one line, so that an error never spills a wall of text into a cell.
pub(crate) fn one_line(s: &str) -> String {
    let parts: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_folds_lines() {
        let e = MagicError::failed("bad thing\n\n  try again\n");
        assert_eq!(e.to_string(), "bad thing try again");
    }

    #[test]
    fn unknown_names_suggestion() {
        let e = MagicError::Unknown { name: "ipf".into(), suggestion: Some("ipfs".into()) };
        assert_eq!(e.to_string(), "unknown magic %ipf: did you mean %ipfs?");
        let e = MagicError::Unknown { name: "zz".into(), suggestion: None };
        assert!(e.to_string().contains("%lsmagic"));
    }
}
