//! The errors of the relay client. Each `Display` is one line: what happened and what to do.
//!
//! No variant ever holds the relay secret: errors carry the relay URL (public, loopback), HTTP
//! statuses and the relay's own one-line messages (which never contain the secret either).

use kelp_magic::MagicError;

/// What went wrong talking to the relay or waiting for the wallet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// `KELP_RELAY_URL`/`KELP_RELAY_SECRET` (or a relay file) are unusable.
    #[error("{0}")]
    Config(String),
    /// The relay could not be reached at all (server stopped, wrong URL).
    #[error(
        "cannot reach the kelp relay at {url} ({reason}): is its Jupyter server still running? Restart the kernel from a running JupyterLab, or use a local key"
    )]
    Unreachable { url: String, reason: String },
    /// 403 on the kernel face: the secret does not belong to this server.
    #[error(
        "the kelp relay at {url} refused the relay secret: KELP_RELAY_SECRET is not this Jupyter server's; restart the kernel from that server (or fix the variable with %env)"
    )]
    WrongSecret { url: String },
    /// The server answered, but not as a kelp relay does (no extension, another service).
    #[error(
        "{url} is not a kelp relay ({reason}): install kelp-labextension into that Jupyter server (./install/run) or unset KELP_RELAY_URL"
    )]
    NotARelay { url: String, reason: String },
    /// The relay refused a call; `message` is its own one-line `{"error": …}`.
    #[error("the kelp relay refused the request (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    /// The request left the relay without an answer reaching the kernel (server restarted).
    #[error("the signing request is gone from the relay (was the Jupyter server restarted?): run the cell again")]
    Gone,
    /// The person pressed Reject (EIP-1193 code 4001).
    #[error("rejected in wallet")]
    Rejected,
    /// The wallet failed the call for another reason.
    #[error("the wallet refused: {message}{}: check the wallet (network, balance, account) and run the cell again", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Wallet { code: Option<i64>, message: String },
    /// Nobody answered before the request expired.
    #[error("the signing request expired after {} s: approve it sooner or give it more time (expiry), and make sure JupyterLab or {sign_url} is open", fmt_secs(*secs))]
    Expired { secs: f64, sign_url: String },
    /// The cell was interrupted; the request was deleted, so its dialog closed in the browser.
    #[error("{}", match late_result {
        None => "signing request cancelled; its dialog was closed in the browser".to_string(),
        Some(r) => format!("the wallet had already answered ({r}) when the cell was interrupted: check that result before retrying"),
    })]
    Cancelled { late_result: Option<String> },
    /// The relay or wallet answered something this client does not understand.
    #[error("unexpected answer from the kelp relay or wallet: {0}; update kelp and kelp-labextension together")]
    Protocol(String),
}

/// `2.0` → `2`, `1.5` → `1.5`.
pub(crate) fn fmt_secs(secs: f64) -> String {
    if (secs - secs.round()).abs() < 1e-6 { format!("{}", secs.round() as i64) } else { format!("{secs:.1}") }
}

impl From<RelayError> for MagicError {
    fn from(e: RelayError) -> Self {
        match e {
            RelayError::Cancelled { .. } => MagicError::Cancelled(e.to_string()),
            other => MagicError::failed(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_say_what_to_do() {
        let all = [
            RelayError::Config("KELP_RELAY_URL is set but KELP_RELAY_SECRET is not".into()),
            RelayError::Unreachable { url: "http://127.0.0.1:1/kelp/relay".into(), reason: "refused".into() },
            RelayError::WrongSecret { url: "http://x".into() },
            RelayError::NotARelay { url: "http://x".into(), reason: "HTTP 404".into() },
            RelayError::Refused { status: 400, message: "bad".into() },
            RelayError::Gone,
            RelayError::Rejected,
            RelayError::Wallet { code: Some(-32603), message: "insufficient funds".into() },
            RelayError::Expired { secs: 2.0, sign_url: "http://x/sign".into() },
            RelayError::Cancelled { late_result: None },
            RelayError::Protocol("x".into()),
        ];
        for e in &all {
            let s = e.to_string();
            assert!(!s.contains('\n'), "{s}");
            assert!(!s.is_empty());
        }
        assert_eq!(RelayError::Rejected.to_string(), "rejected in wallet");
        assert!(
            RelayError::Expired { secs: 2.0, sign_url: "u".into() }
                .to_string()
                .starts_with("the signing request expired after 2 s: approve it sooner or")
        );
        assert_eq!(
            RelayError::Wallet { code: Some(-32603), message: "insufficient funds".into() }.to_string(),
            "the wallet refused: insufficient funds (code -32603): check the wallet (network, balance, account) and run the cell again"
        );
    }

    #[test]
    fn cancelled_maps_to_magic_cancelled() {
        let m: MagicError = RelayError::Cancelled { late_result: None }.into();
        assert!(matches!(m, MagicError::Cancelled(_)));
        let m: MagicError = RelayError::Rejected.into();
        assert_eq!(m.to_string(), "rejected in wallet");
        assert_eq!(fmt_secs(1.5), "1.5");
        assert_eq!(fmt_secs(300.0), "300");
    }
}
