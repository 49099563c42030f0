//! IPFS Pinning Service API v1.0.0 client (ipfs/pinning-services-api-spec): `POST /pins`,
//! `GET /pins`, `GET /pins/{requestid}`, `DELETE /pins/{requestid}`, Bearer auth.
//!
//! Services are named; each needs an endpoint and a token, from the environment
//! (`KELP_PIN_<NAME>_ENDPOINT`, `KELP_PIN_<NAME>_TOKEN`, NAME upper-cased with `-` → `_`) or
//! from `%ipfs config set pin.<name>.endpoint|token …`. The token is sent only in the
//! `Authorization` header and is never printed, logged or put in an error.

use crate::IpfsError;
use serde::{Deserialize, Serialize};

/// `Pin` object of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinRequest {
    pub cid: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub meta: serde_json::Map<String, serde_json::Value>,
}

/// `PinStatus` object of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinStatus {
    pub requestid: String,
    /// queued | pinning | pinned | failed
    pub status: String,
    pub created: String,
    pub pin: PinRequest,
    #[serde(default)]
    pub delegates: Vec<String>,
    #[serde(default)]
    pub info: serde_json::Map<String, serde_json::Value>,
}

/// `PinResults` object of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinResults {
    pub count: u64,
    pub results: Vec<PinStatus>,
}

/// A configured remote pinning service.
#[derive(Clone)]
pub struct PinService {
    pub name: String,
    pub endpoint: String,
    token: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for PinService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinService").field("name", &self.name).field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

/// `my-svc` → `MY_SVC` (for environment variable names).
pub fn env_key(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

impl PinService {
    pub fn new(name: &str, endpoint: &str, token: &str) -> Result<PinService, IpfsError> {
        let endpoint = endpoint.trim_end_matches('/').to_string();
        let ok = reqwest::Url::parse(&endpoint).map(|u| matches!(u.scheme(), "http" | "https")).unwrap_or(false);
        if !ok {
            return Err(IpfsError::BadOption(format!(
                "pinning service {name:?}: endpoint {endpoint:?} is not an http(s) URL"
            )));
        }
        if token.is_empty() {
            return Err(IpfsError::BadOption(format!(
                "pinning service {name:?} has no token: set KELP_PIN_{}_TOKEN or %ipfs config set pin.{name}.token …",
                env_key(name)
            )));
        }
        Ok(PinService { name: name.to_string(), endpoint, token: token.to_string(), http: reqwest::Client::new() })
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response, IpfsError> {
        let resp = req.bearer_auth(&self.token).send().await.map_err(|e| {
            let why =
                if e.is_connect() { "connection refused or host unreachable".to_string() } else { without_url(&e) };
            IpfsError::Remote(format!("pinning service {} at {} is not reachable ({why})", self.name, self.endpoint))
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        let reason = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                let e = v.get("error")?;
                let r = e.get("reason").and_then(|x| x.as_str()).unwrap_or("");
                let d = e.get("details").and_then(|x| x.as_str()).unwrap_or("");
                Some(if d.is_empty() { r.to_string() } else { format!("{r}: {d}") })
            })
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
        let hint = match status.as_u16() {
            401 | 403 => format!(
                "; the token was refused: check KELP_PIN_{}_TOKEN or pin.{}.token",
                env_key(&self.name),
                self.name
            ),
            404 => "; no such pin request".to_string(),
            409 => "; the account has insufficient funds".to_string(),
            _ => String::new(),
        };
        Err(IpfsError::Remote(format!(
            "pinning service {} {what} failed (HTTP {}): {reason}{hint}",
            self.name,
            status.as_u16()
        )))
    }

    /// `POST /pins`.
    pub async fn add(&self, pin: &PinRequest) -> Result<PinStatus, IpfsError> {
        let r = self.send(self.http.post(format!("{}/pins", self.endpoint)).json(pin), "add").await?;
        r.json().await.map_err(|e| {
            IpfsError::Remote(format!("pinning service {}: bad reply to add: {}", self.name, without_url(&e)))
        })
    }

    /// `GET /pins/{requestid}`.
    pub async fn status(&self, requestid: &str) -> Result<PinStatus, IpfsError> {
        let url = format!("{}/pins/{}", self.endpoint, urlencode(requestid));
        let r = self.send(self.http.get(url), "status").await?;
        r.json().await.map_err(|e| {
            IpfsError::Remote(format!("pinning service {}: bad reply to status: {}", self.name, without_url(&e)))
        })
    }

    /// `GET /pins?cid=…&status=queued,pinning,pinned,failed`.
    pub async fn list(&self, cid: Option<&str>) -> Result<PinResults, IpfsError> {
        let mut q = vec![("status", "queued,pinning,pinned,failed".to_string()), ("limit", "1000".to_string())];
        if let Some(c) = cid {
            q.push(("cid", c.to_string()));
        }
        let url = reqwest::Url::parse_with_params(&format!("{}/pins", self.endpoint), &q)
            .map_err(|e| IpfsError::BadOption(format!("pinning service {}: {e}", self.name)))?;
        let r = self.send(self.http.get(url), "list").await?;
        r.json().await.map_err(|e| {
            IpfsError::Remote(format!("pinning service {}: bad reply to list: {}", self.name, without_url(&e)))
        })
    }

    /// `DELETE /pins/{requestid}`.
    pub async fn remove(&self, requestid: &str) -> Result<(), IpfsError> {
        let url = format!("{}/pins/{}", self.endpoint, urlencode(requestid));
        self.send(self.http.delete(url), "remove").await?;
        Ok(())
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A reqwest error's text without its URL (URLs may carry query data).
fn without_url(e: &reqwest::Error) -> String {
    e.to_string().split(" for url").next().unwrap_or("").to_string()
}
