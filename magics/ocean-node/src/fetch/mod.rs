//! How the node fetches `url` files (for `fileInfo`, `download` and compute inputs): the policy
//! that keeps a published URL from reaching the node's own network (server-side request
//! forgery), and the size cap that keeps a huge answer from filling its memory.
//!
//! For every hop (the URL, then each redirect, at most [`FetchPolicy::max_redirects`]):
//! - only `http` and `https`;
//! - a URL matching one of [`FetchPolicy::unsafe_urls`] is refused with Ocean Node's words
//!   "URL is marked as unsafe" (Ocean Node's `UNSAFE_URLS`: regexes tested on the whole URL);
//! - the host is resolved once and every address it resolves to must be allowed by
//!   [`addr::allowed`] (public; loopback only when [`FetchPolicy::allow_loopback`]); the
//!   connection then goes to that exact address (reqwest's `resolve` override, no proxy), so a
//!   second DNS answer cannot swap in a private address;
//! - redirects are never followed by the HTTP client: each `Location` is checked as a new hop.
//!
//! Bodies are streamed: a `Content-Length` above [`FetchPolicy::max_bytes`] is refused before
//! reading, and the bytes are counted as they arrive, so a lying or absent length stops at the
//! cap ([`capped`]). Error messages name the host, never the path or query (a URL's secret parts
//! stay in the encrypted DDO).
//!
//! Settings come from the node's environment ([`FetchPolicy::from_env`]); the default refuses
//! loopback. `kelp devnet up` starts its node with `KELP_NODE_ALLOW_LOOPBACK=1` (unless that
//! variable is already set), because devnet assets are served from this machine.

pub mod addr;

use addr::AddrClass;
use axum::body::Bytes;
use futures::{Stream, StreamExt};
use regex::Regex;
use reqwest::Url;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// `1` lets the node fetch from loopback addresses (the devnet's node); anything else, or unset,
/// refuses them.
pub const ENV_ALLOW_LOOPBACK: &str = kelp_ocean_wire::layout::ENV_NODE_ALLOW_LOOPBACK;
/// Largest file the node fetches, in bytes.
pub const ENV_MAX_FILE_BYTES: &str = "KELP_NODE_MAX_FILE_BYTES";
/// A JSON list of regexes; a URL matching one is refused (Ocean Node's `UNSAFE_URLS`).
pub const ENV_UNSAFE_URLS: &str = "KELP_NODE_UNSAFE_URLS";
/// `fileInfo` requests allowed per caller IP per minute.
pub const ENV_FILE_INFO_RATE: &str = "KELP_NODE_FILEINFO_RATE_LIMIT";
/// Requests per caller per minute on every route.
pub const ENV_RATE_LIMIT: &str = "KELP_NODE_RATE_LIMIT";

/// Default [`FetchPolicy::max_bytes`]: 256 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// What the node may fetch.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Fetch from loopback addresses too (a devnet node whose files are served on this machine).
    pub allow_loopback: bool,
    /// Largest body read, in bytes.
    pub max_bytes: u64,
    /// URLs matching one of these are refused.
    pub unsafe_urls: Vec<Regex>,
    /// Redirects followed (each re-checked).
    pub max_redirects: usize,
    /// `fileInfo` requests per caller IP per minute.
    pub file_info_per_minute: u32,
    /// Requests per caller per minute on every route (Ocean Node's `rateLimit`).
    pub requests_per_minute: u32,
    /// TEST ONLY: hosts resolved to the given address **without** the address check, so a test
    /// can stand a local server in for a public host. Only settable in process (never from the
    /// environment); empty in every node kelp starts.
    pub test_only_unchecked_hosts: Vec<(String, SocketAddr)>,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow_loopback: false,
            max_bytes: DEFAULT_MAX_BYTES,
            unsafe_urls: Vec::new(),
            max_redirects: 5,
            file_info_per_minute: 60,
            requests_per_minute: 6000,
            test_only_unchecked_hosts: Vec::new(),
        }
    }
}

/// Why a URL file was not fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Setting(String),
    #[error("the url file's URL is not a valid URL")]
    BadUrl,
    #[error("the url file's URL uses `{0}`; this node fetches only http and https")]
    Scheme(String),
    #[error("URL is marked as unsafe (it matches the node's {ENV_UNSAFE_URLS})")]
    Unsafe,
    #[error(
        "the url file's host {host} is a {class} address; this node fetches only public addresses (a devnet node allows loopback with {ENV_ALLOW_LOOPBACK}=1)"
    )]
    Refused { host: String, class: AddrClass },
    #[error("the url file's host {host} does not resolve: {reason}")]
    Resolve { host: String, reason: String },
    #[error("the url file redirects more than {0} times")]
    TooManyRedirects(usize),
    #[error("the url file is larger than this node's limit of {0} bytes ({ENV_MAX_FILE_BYTES})")]
    TooLarge(u64),
    #[error("the url file's host {host} answered: {reason}")]
    Upstream { host: String, reason: String },
}

impl FetchPolicy {
    /// Read the policy from the node's environment ([`ENV_ALLOW_LOOPBACK`], [`ENV_MAX_FILE_BYTES`],
    /// [`ENV_UNSAFE_URLS`], [`ENV_FILE_INFO_RATE`], [`ENV_RATE_LIMIT`]); a bad value is one error naming the variable.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<FetchPolicy, FetchError> {
        let mut p =
            FetchPolicy { allow_loopback: env(ENV_ALLOW_LOOPBACK).as_deref() == Some("1"), ..Default::default() };
        let number = |name: &str| -> Result<Option<u64>, FetchError> {
            env(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| {
                    v.trim().parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        FetchError::Setting(format!("${name} is `{v}`; set it to a whole number above 0 or unset it"))
                    })
                })
                .transpose()
        };
        if let Some(n) = number(ENV_MAX_FILE_BYTES)? {
            p.max_bytes = n;
        }
        if let Some(n) = number(ENV_FILE_INFO_RATE)? {
            p.file_info_per_minute = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(n) = number(ENV_RATE_LIMIT)? {
            p.requests_per_minute = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(v) = env(ENV_UNSAFE_URLS).filter(|v| !v.trim().is_empty()) {
            let bad = |why: String| FetchError::Setting(format!("${ENV_UNSAFE_URLS}: {why}"));
            let list: Vec<String> = serde_json::from_str(&v)
                .map_err(|_| bad("not a JSON list of regexes, e.g. [\"^https?://internal\\\\.\"]".into()))?;
            p.unsafe_urls = list
                .iter()
                .map(|r| Regex::new(r).map_err(|e| bad(format!("`{r}` is not a regex: {}", one_line(&e.to_string())))))
                .collect::<Result<_, _>>()?;
        }
        Ok(p)
    }

    /// Check one hop and build the client that connects to exactly the address checked.
    async fn client_for(&self, url: &Url) -> Result<reqwest::Client, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme(url.scheme().to_string()));
        }
        if self.unsafe_urls.iter().any(|r| r.is_match(url.as_str())) {
            return Err(FetchError::Unsafe);
        }
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(30));
        let port = url.port_or_known_default().unwrap_or(80);
        let builder = match url.host() {
            None => return Err(FetchError::BadUrl),
            Some(url::Host::Ipv4(ip)) => {
                self.check(&ip.to_string(), IpAddr::V4(ip))?;
                builder
            }
            Some(url::Host::Ipv6(ip)) => {
                self.check(&ip.to_string(), IpAddr::V6(ip))?;
                builder
            }
            Some(url::Host::Domain(host)) => {
                let pinned = match self.test_only_unchecked_hosts.iter().find(|(h, _)| h == host) {
                    Some((_, addr)) => *addr,
                    None => self.resolve(host, port).await?,
                };
                builder.resolve(host, pinned)
            }
        };
        builder.build().map_err(|e| FetchError::Setting(format!("cannot build the HTTP client: {e}")))
    }

    fn check(&self, host: &str, ip: IpAddr) -> Result<(), FetchError> {
        let class = addr::classify(ip);
        if addr::allowed(class, self.allow_loopback) {
            Ok(())
        } else {
            Err(FetchError::Refused { host: host.to_string(), class })
        }
    }

    /// Resolve `host`; every address must be allowed. Returns the one to connect to.
    async fn resolve(&self, host: &str, port: u16) -> Result<SocketAddr, FetchError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| FetchError::Resolve { host: host.to_string(), reason: one_line(&e.to_string()) })?
            .collect();
        for a in &addrs {
            self.check(host, a.ip())?;
        }
        addrs.first().copied().ok_or_else(|| FetchError::Resolve { host: host.into(), reason: "no addresses".into() })
    }

    /// GET `url` under this policy: the successful answer, its body not read yet.
    pub async fn open(&self, url: &str) -> Result<reqwest::Response, FetchError> {
        let mut url = Url::parse(url).map_err(|_| FetchError::BadUrl)?;
        for _ in 0..=self.max_redirects {
            let host = url.host_str().unwrap_or_default().to_string();
            let client = self.client_for(&url).await?;
            let upstream = |reason: String| FetchError::Upstream { host: host.clone(), reason };
            let resp = client.get(url.clone()).send().await.map_err(|e| upstream(reqwest_reason(e)))?;
            let status = resp.status();
            if status.is_redirection() {
                let loc = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| upstream(format!("HTTP {status} without a Location")))?;
                url = url.join(loc).map_err(|_| FetchError::BadUrl)?;
                continue;
            }
            if !status.is_success() {
                return Err(upstream(format!("HTTP {status}")));
            }
            if resp.content_length().is_some_and(|n| n > self.max_bytes) {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            return Ok(resp);
        }
        Err(FetchError::TooManyRedirects(self.max_redirects))
    }

    /// GET `url` and read the whole body (at most [`FetchPolicy::max_bytes`]).
    pub async fn fetch_all(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let resp = self.open(url).await?;
        let mut out = Vec::new();
        let mut body = std::pin::pin!(capped(resp, self.max_bytes));
        while let Some(chunk) = body.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }
}

/// The body of `resp` as a stream of chunks that ends with [`FetchError::TooLarge`] once more
/// than `max` bytes have arrived.
pub fn capped(resp: reqwest::Response, max: u64) -> impl Stream<Item = Result<Bytes, FetchError>> + Send {
    let host = resp.url().host_str().unwrap_or_default().to_string();
    let state = (resp.bytes_stream().boxed(), 0u64, false);
    futures::stream::unfold(state, move |(mut inner, seen, done)| {
        let host = host.clone();
        async move {
            if done {
                return None;
            }
            match inner.next().await {
                None => None,
                Some(Err(e)) => {
                    Some((Err(FetchError::Upstream { host, reason: reqwest_reason(e) }), (inner, seen, true)))
                }
                Some(Ok(chunk)) => {
                    let seen = seen.saturating_add(chunk.len() as u64);
                    if seen > max {
                        Some((Err(FetchError::TooLarge(max)), (inner, seen, true)))
                    } else {
                        Some((Ok(chunk), (inner, seen, false)))
                    }
                }
            }
        }
    })
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// A reqwest error and its sources on one line, without the URL (its path and query may be
/// secret).
fn reqwest_reason(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut parts = vec![e.to_string()];
    let mut cur = std::error::Error::source(&e);
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    one_line(&parts.join(": "))
}

#[cfg(test)]
mod tests;
