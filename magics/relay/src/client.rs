//! The HTTP client of the relay's kernel face and the wait-for-the-wallet loop.
//!
//! Every call carries the secret in the `X-Kelp-Relay-Secret` header (marked sensitive, so even
//! reqwest's own debug output hides it) and nowhere else.

use crate::discover::{self, Found, RelaySource};
use crate::types::{Kind, RelayStatus, RequestOptions, RequestState, Summary};
use crate::wait::WaitDisplay;
use crate::{RelayError, SECRET_HEADER};
use kelp_magic::{CancelToken, EnvVars, MagicContext};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Default expiry of a request, as the relay applies it.
const DEFAULT_EXPIRY: f64 = 300.0;

/// A client of one relay's kernel face. Cheap to clone. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct RelayClient {
    url: String,
    secret: String,
    source: RelaySource,
    http: reqwest::Client,
}

impl std::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayClient")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("source", &self.source)
            .finish()
    }
}

/// A request the relay accepted (`201` of `POST /kernel/requests`).
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub id: String,
    /// Unix seconds.
    pub expires_at: f64,
}

impl RelayClient {
    /// A client for the relay at `url` (`KELP_RELAY_URL`, e.g. `http://127.0.0.1:8888/kelp/relay`).
    pub fn new(url: &str, secret: &str) -> Result<Self, RelayError> {
        Self::build(Found { url: url.to_string(), secret: secret.to_string(), source: RelaySource::Explicit })
    }

    /// Find the relay this kernel should use: `KELP_RELAY_URL` + `KELP_RELAY_SECRET` from the
    /// session environment, else the newest `kelp-relay-*.json` of a live server in the Jupyter
    /// runtime directory, else `None` (no relay: use another signer). Nothing is contacted yet;
    /// call [`RelayClient::status`] to check the relay is there.
    pub fn discover(env: &EnvVars) -> Result<Option<Self>, RelayError> {
        discover::find(env)?.map(Self::build).transpose()
    }

    fn build(found: Found) -> Result<Self, RelayError> {
        let url = found.url.trim().trim_end_matches('/').to_string();
        let from = match &found.source {
            RelaySource::Env => "KELP_RELAY_URL".to_string(),
            RelaySource::RuntimeFile(p) => p.display().to_string(),
            RelaySource::Explicit => "the relay URL".to_string(),
        };
        let parsed = reqwest::Url::parse(&url).map_err(|e| {
            RelayError::Config(format!(
                "{from} holds no valid URL ({e}): expected e.g. http://127.0.0.1:8888/kelp/relay"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() || !parsed.username().is_empty() {
            return Err(RelayError::Config(format!(
                "{from} must be a plain http(s) URL without query or user (e.g. http://127.0.0.1:8888/kelp/relay), got {url}"
            )));
        }
        let mut secret_value = HeaderValue::from_str(found.secret.trim()).map_err(|_| {
            RelayError::Config(format!(
                "the relay secret from {} holds characters a header cannot carry: restart the Jupyter server to make a new one",
                if found.source == RelaySource::Env { "KELP_RELAY_SECRET" } else { from.as_str() }
            ))
        })?;
        secret_value.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(SECRET_HEADER, secret_value);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .map_err(|e| RelayError::Config(format!("cannot set up the HTTP client ({e}): check the TLS setup")))?;
        Ok(RelayClient { url, secret: found.secret.trim().to_string(), source: found.source, http })
    }

    /// The relay's base URL (`KELP_RELAY_URL`, no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The standalone signing page, for frontends without the Lab extension (VS Code, headless).
    pub fn sign_page_url(&self) -> String {
        format!("{}/sign", self.url)
    }

    /// Where the URL and secret came from.
    pub fn source(&self) -> &RelaySource {
        &self.source
    }

    /// Whether `text` contains this client's secret (for callers that scrub their own output).
    pub fn leaks_secret(&self, text: &str) -> bool {
        !self.secret.is_empty() && text.contains(&self.secret)
    }

    /// One call to the kernel face; returns the status and the JSON body (or `Null`).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<(StatusCode, Value), RelayError> {
        let mut req = self.http.request(method, format!("{}{path}", self.url)).timeout(timeout);
        if let Some(body) = body {
            req = req.json(body);
        }
        let unreachable = |e: reqwest::Error| RelayError::Unreachable {
            url: self.url.clone(),
            reason: if e.is_timeout() { "timed out".to_string() } else { one_line(&e.without_url()) },
        };
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        let text = resp.text().await.map_err(unreachable)?;
        if status == StatusCode::FORBIDDEN {
            return Err(RelayError::WrongSecret { url: self.url.clone() });
        }
        let value =
            if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
        Ok((status, value))
    }

    fn refused(status: StatusCode, body: &Value) -> RelayError {
        let message = body.get("error").and_then(Value::as_str).unwrap_or("(no message)");
        RelayError::Refused { status: status.as_u16(), message: one_line(&message) }
    }

    /// `GET /kernel/status`: is the relay there, which wallet did a browser report, is a browser
    /// listening.
    pub async fn status(&self) -> Result<RelayStatus, RelayError> {
        let (status, body) = self.call(Method::GET, "/kernel/status", None, Duration::from_secs(15)).await?;
        if status != StatusCode::OK {
            return Err(RelayError::NotARelay { url: self.url.clone(), reason: format!("HTTP {}", status.as_u16()) });
        }
        match serde_json::from_value::<RelayStatus>(body) {
            Ok(s) if s.relay == "kelp" => Ok(s),
            _ => {
                Err(RelayError::NotARelay { url: self.url.clone(), reason: "its status is not a kelp relay's".into() })
            }
        }
    }

    /// `POST /kernel/requests`: make a request (nobody waits for it yet).
    pub async fn create(
        &self,
        kind: Kind,
        params: Value,
        summary: &Summary,
        opts: &RequestOptions,
    ) -> Result<Created, RelayError> {
        let params = match params {
            Value::Null => json!([]),
            Value::Array(a) => Value::Array(a),
            other => json!([other]),
        };
        let mut body = json!({"kind": kind.as_str(), "params": params, "summary": summary});
        if let Some(c) = opts.chain_id {
            body["chain_id"] = json!(format!("{c:#x}"));
        }
        if let Some(a) = &opts.add_chain {
            body["add_chain"] = a.clone();
        }
        if let Some(d) = opts.expires_in {
            body["expires_in"] = json!(d.as_secs_f64());
        }
        let (status, reply) = self.call(Method::POST, "/kernel/requests", Some(&body), Duration::from_secs(30)).await?;
        if status != StatusCode::CREATED {
            return Err(Self::refused(status, &reply));
        }
        match (reply.get("id").and_then(Value::as_str), reply.get("expires_at").and_then(Value::as_f64)) {
            (Some(id), Some(expires_at)) => Ok(Created { id: id.to_string(), expires_at }),
            _ => Err(RelayError::Protocol("a created request without id or expires_at".into())),
        }
    }

    /// `GET /kernel/requests/<id>?wait=<s>`: the request's state, held up to `wait` seconds while
    /// it is pending. A non-pending state is final: the relay forgets the request once read.
    pub async fn state(&self, id: &str, wait: u32) -> Result<RequestState, RelayError> {
        let wait = wait.min(30);
        let path = format!("/kernel/requests/{id}?wait={wait}");
        let (status, body) = self.call(Method::GET, &path, None, Duration::from_secs(u64::from(wait) + 20)).await?;
        match status {
            StatusCode::OK => RequestState::from_reply(&body).map_err(RelayError::Protocol),
            StatusCode::NOT_FOUND => Err(RelayError::Gone),
            _ => Err(Self::refused(status, &body)),
        }
    }

    /// `DELETE /kernel/requests/<id>`: withdraw a pending request (its dialog closes). `Ok(false)`
    /// when it was no longer pending (answered or expired meanwhile).
    pub async fn cancel(&self, id: &str) -> Result<bool, RelayError> {
        let path = format!("/kernel/requests/{id}");
        let (status, body) = self.call(Method::DELETE, &path, None, Duration::from_secs(10)).await?;
        match status {
            StatusCode::OK => Ok(true),
            StatusCode::CONFLICT => Ok(false),
            StatusCode::NOT_FOUND => Err(RelayError::Gone),
            _ => Err(Self::refused(status, &body)),
        }
    }

    /// Ask the wallet to run `kind` with `params` and wait for its answer: the wallet's result
    /// (tx hash, signature, `null`, addresses). `cancel` withdraws the request (DELETE) and
    /// returns [`RelayError::Cancelled`]. No display: see [`RelayClient::request_in`].
    pub async fn request(
        &self,
        kind: Kind,
        params: Value,
        summary: Summary,
        opts: RequestOptions,
        cancel: &CancelToken,
    ) -> Result<Value, RelayError> {
        self.run(kind, params, summary, opts, cancel, None).await
    }

    /// [`RelayClient::request`] inside a running magic: shows a live "waiting for wallet approval"
    /// display in the cell (naming the signing page when no browser is listening) and stops when
    /// the cell is interrupted (`ctx.cancel`).
    pub async fn request_in(
        &self,
        ctx: &MagicContext,
        kind: Kind,
        params: Value,
        summary: Summary,
        opts: RequestOptions,
    ) -> Result<Value, RelayError> {
        self.run(kind, params, summary, opts, &ctx.cancel, Some(ctx)).await
    }

    async fn run(
        &self,
        kind: Kind,
        params: Value,
        summary: Summary,
        opts: RequestOptions,
        cancel: &CancelToken,
        ctx: Option<&MagicContext>,
    ) -> Result<Value, RelayError> {
        if cancel.is_cancelled() {
            return Err(RelayError::Cancelled { late_result: None });
        }
        let expiry = opts.expires_in.map(|d| d.as_secs_f64()).unwrap_or(DEFAULT_EXPIRY);
        // A browser's long-poll ends when a request appears, so ask before making ours.
        let mut listening = match ctx {
            Some(_) => self.status().await?.browser_listening(),
            None => true,
        };
        let created = self.create(kind, params, &summary, &opts).await?;
        let mut guard = CancelOnDrop { client: Some(self.clone()), id: created.id.clone() };
        let mut display =
            ctx.map(|ctx| WaitDisplay::show(ctx, kind, &summary, &self.sign_page_url(), listening, expiry));
        let outcome = loop {
            let poll = self.state(&created.id, opts.poll_wait.clamp(1, 30));
            let state = tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    guard.client = None;
                    break Err(self.withdraw(&created.id).await);
                }
                state = poll => state,
            };
            match state {
                Ok(RequestState::Pending) => {
                    if !listening && let Ok(s) = self.status().await {
                        listening = s.browser_listening();
                    }
                    if let Some(d) = display.as_mut() {
                        d.update(listening);
                    }
                }
                Ok(RequestState::Approved(v)) => break Ok(v),
                Ok(RequestState::Refused { code: Some(4001), .. }) => break Err(RelayError::Rejected),
                Ok(RequestState::Refused { code, message }) => break Err(RelayError::Wallet { code, message }),
                Ok(RequestState::Expired) => {
                    break Err(RelayError::Expired { secs: expiry, sign_url: self.sign_page_url() });
                }
                Ok(RequestState::Cancelled) => break Err(RelayError::Cancelled { late_result: None }),
                Err(e) => break Err(e),
            }
        };
        // A final state was read (or the request is gone): nothing to withdraw. After a failed
        // poll the request may still be pending, so the guard deletes it (best effort) on drop.
        if !matches!(
            outcome,
            Err(RelayError::Unreachable { .. } | RelayError::Refused { .. } | RelayError::Protocol(_))
        ) {
            guard.client = None;
        }
        drop(guard);
        if let Some(d) = display {
            d.finish(&outcome);
        }
        outcome
    }

    /// The cell was interrupted: delete the request; if the wallet answered just before, say so.
    async fn withdraw(&self, id: &str) -> RelayError {
        match self.cancel(id).await {
            Ok(false) => match self.state(id, 0).await {
                Ok(RequestState::Approved(v)) => {
                    let shown = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                    RelayError::Cancelled { late_result: Some(shown) }
                }
                _ => RelayError::Cancelled { late_result: None },
            },
            _ => RelayError::Cancelled { late_result: None },
        }
    }

    // ---- typed helpers for signers ---------------------------------------------------------------

    /// `eth_sendTransaction` of `tx` (a JSON transaction object: `to`, `data`, `value`, `gas`,
    /// `from`… as `0x` hex strings; the browser fills `from` with the connected account when
    /// absent). Returns the transaction hash (`0x` + 64 hex).
    pub async fn send_transaction(
        &self,
        tx: Value,
        summary: Summary,
        opts: RequestOptions,
        ctx: &MagicContext,
    ) -> Result<String, RelayError> {
        let v = self.request_in(ctx, Kind::SendTransaction, json!([tx]), summary, opts).await?;
        hex_result(&v, Some(32), "transaction hash")
    }

    /// `personal_sign` of `message_hex` (`0x` + the message bytes in hex) by `address`. Returns the
    /// 65-byte signature as `0x` hex.
    pub async fn personal_sign(
        &self,
        message_hex: &str,
        address: &str,
        summary: Summary,
        ctx: &MagicContext,
    ) -> Result<String, RelayError> {
        self.signature(ctx, Kind::PersonalSign, json!([message_hex, address]), summary).await
    }

    /// `eth_signTypedData_v4` of `typed_data` (the EIP-712 JSON document) by `address`. Returns
    /// the 65-byte signature as `0x` hex.
    pub async fn sign_typed_data(
        &self,
        address: &str,
        typed_data: Value,
        summary: Summary,
        ctx: &MagicContext,
    ) -> Result<String, RelayError> {
        self.signature(ctx, Kind::SignTypedDataV4, json!([address, typed_data]), summary).await
    }

    async fn signature(
        &self,
        ctx: &MagicContext,
        kind: Kind,
        params: Value,
        summary: Summary,
    ) -> Result<String, RelayError> {
        let v = self.request_in(ctx, kind, params, summary, RequestOptions::default()).await?;
        hex_result(&v, Some(65), "signature")
    }

    /// `wallet_switchEthereumChain` to `chain_id`, adding the chain with `add_chain` (a
    /// `wallet_addEthereumChain` object) when the wallet does not know it.
    pub async fn switch_chain(
        &self,
        chain_id: u64,
        add_chain: Option<Value>,
        ctx: &MagicContext,
    ) -> Result<(), RelayError> {
        let params = json!([{"chainId": format!("{chain_id:#x}")}]);
        let summary = Summary::new().network(format!("chain {chain_id}")).method("switch network");
        let opts = RequestOptions { add_chain, ..RequestOptions::default() };
        self.request_in(ctx, Kind::SwitchChain, params, summary, opts).await?;
        Ok(())
    }

    /// `eth_requestAccounts`: the addresses the wallet shares (first = the selected account).
    pub async fn request_accounts(&self, ctx: &MagicContext) -> Result<Vec<String>, RelayError> {
        let summary = Summary::new().method("connect account");
        let v = self.request_in(ctx, Kind::RequestAccounts, json!([]), summary, RequestOptions::default()).await?;
        let accounts: Option<Vec<String>> =
            v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect());
        match accounts {
            Some(a) if !a.is_empty() && a.iter().all(|x| is_hex(x, Some(20))) => Ok(a),
            _ => Err(RelayError::Protocol(format!("eth_requestAccounts answered {}", truncate(&v.to_string())))),
        }
    }
}

/// Withdraws the request if the waiting future is dropped (the kernel may drop a magic's future
/// instead of cancelling its token): the dialog must not outlive the cell.
struct CancelOnDrop {
    client: Option<RelayClient>,
    id: String,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let (Some(client), Ok(rt)) = (self.client.take(), tokio::runtime::Handle::try_current()) else { return };
        let id = std::mem::take(&mut self.id);
        rt.spawn(async move {
            let _ = client.cancel(&id).await;
        });
    }
}

fn is_hex(s: &str, bytes: Option<usize>) -> bool {
    let Some(h) = s.strip_prefix("0x") else { return false };
    h.chars().all(|c| c.is_ascii_hexdigit()) && bytes.is_none_or(|n| h.len() == 2 * n)
}

fn hex_result(v: &Value, bytes: Option<usize>, what: &str) -> Result<String, RelayError> {
    match v.as_str() {
        Some(s) if is_hex(s, bytes) => Ok(s.to_string()),
        _ => Err(RelayError::Protocol(format!("the wallet returned {} as the {what}", truncate(&v.to_string())))),
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 80 { format!("{}…", s.chars().take(80).collect::<String>()) } else { s.to_string() }
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    let mut s = e.to_string();
    // reqwest chains its causes with ": "; that is one line already, only newlines need folding.
    s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret_and_urls_are_checked() {
        let c = RelayClient::new("http://127.0.0.1:9/kelp/relay/", "SeCrEt-123").unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("SeCrEt-123"), "{dbg}");
        assert!(dbg.contains("<redacted>"));
        assert_eq!(c.url(), "http://127.0.0.1:9/kelp/relay");
        assert_eq!(c.sign_page_url(), "http://127.0.0.1:9/kelp/relay/sign");
        assert!(c.leaks_secret("x SeCrEt-123 y"));
        for bad in ["ftp://x/kelp/relay", "not a url", "http://u:p@127.0.0.1/kelp/relay", "http://h/r?secret=1"] {
            let e = RelayClient::new(bad, "SeCrEt-123").unwrap_err();
            assert!(matches!(e, RelayError::Config(_)), "{bad}: {e}");
            assert!(!e.to_string().contains("SeCrEt-123"));
        }
        let e = RelayClient::new("http://127.0.0.1:9/kelp/relay", "bad\nsecret").unwrap_err();
        assert!(!e.to_string().contains("bad\nsecret") && !e.to_string().contains("secret\n"));
    }

    #[test]
    fn hex_results_are_checked() {
        assert!(hex_result(&json!(format!("0x{}", "ab".repeat(32))), Some(32), "hash").is_ok());
        assert!(hex_result(&json!("0x12"), Some(32), "hash").is_err());
        assert!(hex_result(&json!(null), Some(65), "signature").is_err());
        assert!(!is_hex("12", None));
    }

    #[tokio::test]
    async fn unreachable_relay_is_one_clear_line() {
        // Port 9 (discard) is not listened on here; the connection is refused at once.
        let c = RelayClient::new("http://127.0.0.1:9/kelp/relay", "SeCrEt-123").unwrap();
        let e = c.status().await.unwrap_err();
        let s = e.to_string();
        assert!(matches!(e, RelayError::Unreachable { .. }), "{s}");
        assert!(s.starts_with("cannot reach the kelp relay at http://127.0.0.1:9/kelp/relay"), "{s}");
        assert!(!s.contains("SeCrEt-123") && !s.contains('\n'));
    }
}
