//! The plain data exchanged with the relay: request kinds, the human summary, options, the relay's
//! status and a request's state. Field names match the relay's JSON exactly (see the crate docs).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// The EIP-1193 method the wallet is asked to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `eth_sendTransaction`: params `[tx]`; result: the transaction hash.
    SendTransaction,
    /// `personal_sign`: params `["0x<hex message>", "<address>"]`; result: a `0x` signature.
    PersonalSign,
    /// `eth_signTypedData_v4`: params `["<address>", <typed data>]`; result: a `0x` signature.
    SignTypedDataV4,
    /// `wallet_switchEthereumChain`: params `[{"chainId": "0x…"}]`; result: `null`.
    SwitchChain,
    /// `eth_requestAccounts`: params `[]`; result: an array of addresses.
    RequestAccounts,
}

impl Kind {
    /// Every kind the relay accepts.
    pub const ALL: [Kind; 5] =
        [Kind::SendTransaction, Kind::PersonalSign, Kind::SignTypedDataV4, Kind::SwitchChain, Kind::RequestAccounts];

    /// The EIP-1193 method name, as sent in `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SendTransaction => "eth_sendTransaction",
            Kind::PersonalSign => "personal_sign",
            Kind::SignTypedDataV4 => "eth_signTypedData_v4",
            Kind::SwitchChain => "wallet_switchEthereumChain",
            Kind::RequestAccounts => "eth_requestAccounts",
        }
    }

    /// What the person is asked to do, for the waiting display.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::SendTransaction => "send a transaction",
            Kind::PersonalSign => "sign a message",
            Kind::SignTypedDataV4 => "sign typed data",
            Kind::SwitchChain => "switch network",
            Kind::RequestAccounts => "connect an account",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the person sees before approving: the relay allows exactly these keys. Values are any
/// JSON; strings display best (`args` is usually an object of argument name → readable value).
/// `title` says in one sentence what Approve does ("Send 1.5 ETH to 0x…", "Authorise Ocean node
/// URL to encrypt (nonce 3)"); `from` is the signing account; `requester` who asks (kernel and
/// notebook); `step` where this request sits in a longer operation ("step 2 of 4: …"); `detail`
/// what is signed, for those who check (a hash), shown below the readable rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

impl Summary {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn title(mut self, v: impl Into<Value>) -> Self {
        self.title = Some(v.into());
        self
    }
    pub fn requester(mut self, v: impl Into<Value>) -> Self {
        self.requester = Some(v.into());
        self
    }
    pub fn step(mut self, v: impl Into<Value>) -> Self {
        self.step = Some(v.into());
        self
    }
    pub fn from(mut self, v: impl Into<Value>) -> Self {
        self.from = Some(v.into());
        self
    }
    pub fn detail(mut self, v: impl Into<Value>) -> Self {
        self.detail = Some(v.into());
        self
    }
    pub fn network(mut self, v: impl Into<Value>) -> Self {
        self.network = Some(v.into());
        self
    }
    pub fn contract(mut self, v: impl Into<Value>) -> Self {
        self.contract = Some(v.into());
        self
    }
    pub fn method(mut self, v: impl Into<Value>) -> Self {
        self.method = Some(v.into());
        self
    }
    /// Add one named argument (kept in call order in a JSON object).
    pub fn arg(mut self, name: &str, v: impl Into<Value>) -> Self {
        let mut map = match self.args.take() {
            Some(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        map.insert(name.to_string(), v.into());
        self.args = Some(Value::Object(map));
        self
    }
    /// Replace all arguments with a JSON value.
    pub fn args(mut self, v: Value) -> Self {
        self.args = Some(v);
        self
    }
    pub fn value(mut self, v: impl Into<Value>) -> Self {
        self.value = Some(v.into());
        self
    }
    pub fn gas(mut self, v: impl Into<Value>) -> Self {
        self.gas = Some(v.into());
        self
    }

    /// One line for the waiting display: the title, else `contract.method`, else the kind.
    pub(crate) fn headline(&self, kind: Kind) -> String {
        let text = |v: &Option<Value>| match v {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        };
        if let Some(t) = text(&self.title) {
            return match text(&self.step) {
                Some(step) => format!("{step}: {t}"),
                None => t,
            };
        }
        match (text(&self.contract), text(&self.method)) {
            (Some(c), Some(m)) => format!("{c} · {m}"),
            (None, Some(m)) => m,
            (Some(c), None) => c,
            (None, None) => kind.describe().to_string(),
        }
    }
}

/// Per-request options. `Default`: no chain constraint, the relay's 300 s expiry, 25 s long-polls.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestOptions {
    /// The chain the wallet must be on (the browser asks it to switch first).
    pub chain_id: Option<u64>,
    /// A `wallet_addEthereumChain` parameter object, used when the wallet does not know the chain.
    pub add_chain: Option<Value>,
    /// How long the person has to answer (the relay allows up to an hour); `None` = 300 s.
    pub expires_in: Option<Duration>,
    /// Seconds each long-poll is held by the relay (1–30).
    pub poll_wait: u32,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions { chain_id: None, add_chain: None, expires_in: None, poll_wait: 25 }
    }
}

impl RequestOptions {
    pub fn chain(mut self, chain_id: u64) -> Self {
        self.chain_id = Some(chain_id);
        self
    }
    pub fn add_chain(mut self, params: Value) -> Self {
        self.add_chain = Some(params);
        self
    }
    pub fn expires_in(mut self, d: Duration) -> Self {
        self.expires_in = Some(d);
        self
    }
}

/// `GET /kernel/status`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RelayStatus {
    /// Always `"kelp"`.
    pub relay: String,
    /// Requests waiting for an answer (all kernels).
    pub pending: u64,
    /// What a browser last reported about its wallet.
    pub wallet: Option<WalletInfo>,
    pub browser: BrowserPresence,
}

/// The connected wallet a browser reported (`PUT /wallet`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct WalletInfo {
    pub account: Option<String>,
    /// Lower-case `0x` hex.
    pub chain_id: Option<String>,
    pub name: Option<String>,
    pub updated_at: Option<f64>,
}

impl WalletInfo {
    /// The chain id as a number.
    pub fn chain_id_u64(&self) -> Option<u64> {
        self.chain_id.as_deref().and_then(|c| u64::from_str_radix(c.trim_start_matches("0x"), 16).ok())
    }
}

/// Whether a browser is listening for requests.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct BrowserPresence {
    /// Browsers long-polling the request list right now.
    pub watching: u64,
    /// Unix seconds when a browser last listed requests.
    pub last_seen: Option<f64>,
}

impl RelayStatus {
    /// A browser is there: one is long-polling now, or one listed requests in the last 5 s (it is
    /// between two polls).
    pub fn browser_listening(&self) -> bool {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64());
        self.browser.watching > 0 || matches!((self.browser.last_seen, now), (Some(seen), Ok(now)) if now - seen < 5.0)
    }
}

/// Where a request stands (`GET /kernel/requests/<id>`).
#[derive(Debug, Clone, PartialEq)]
pub enum RequestState {
    Pending,
    /// The wallet returned `result`.
    Approved(Value),
    /// The wallet (or the person) refused.
    Refused {
        code: Option<i64>,
        message: String,
    },
    Expired,
    Cancelled,
}

impl RequestState {
    /// Decode the relay's reply body.
    pub(crate) fn from_reply(v: &Value) -> Result<Self, String> {
        match v.get("state").and_then(Value::as_str) {
            Some("pending") => Ok(RequestState::Pending),
            Some("expired") => Ok(RequestState::Expired),
            Some("cancelled") => Ok(RequestState::Cancelled),
            Some("answered") => match (v.get("result"), v.get("error")) {
                (_, Some(err)) if !err.is_null() => Ok(RequestState::Refused {
                    code: err.get("code").and_then(Value::as_i64),
                    message: err.get("message").and_then(Value::as_str).unwrap_or("(no message)").to_string(),
                }),
                (Some(result), _) => Ok(RequestState::Approved(result.clone())),
                _ => Err("an answered request with neither result nor error".into()),
            },
            other => Err(format!("request state {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_serializes_only_set_keys_in_relay_shape() {
        let s = Summary::new().network("devnet (chain 8996)").method("transfer").arg("to", "0xab").arg("amount", 1);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"network": "devnet (chain 8996)", "method": "transfer", "args": {"to": "0xab", "amount": 1}})
        );
        assert_eq!(s.headline(Kind::SendTransaction), "transfer");
        assert_eq!(Summary::new().headline(Kind::PersonalSign), "sign a message");
        let node = Summary::new()
            .title("Authorise Ocean node http://127.0.0.1:8001 to encrypt (nonce 3)")
            .step("step 2 of 4")
            .from("0xab")
            .detail("keccak256 0x12");
        let v = serde_json::to_value(&node).unwrap();
        assert_eq!(v["title"], "Authorise Ocean node http://127.0.0.1:8001 to encrypt (nonce 3)");
        assert_eq!(
            (v["step"].as_str(), v["from"].as_str(), v["detail"].as_str()),
            (Some("step 2 of 4"), Some("0xab"), Some("keccak256 0x12"))
        );
        assert_eq!(
            node.headline(Kind::PersonalSign),
            "step 2 of 4: Authorise Ocean node http://127.0.0.1:8001 to encrypt (nonce 3)"
        );
    }

    #[test]
    fn states_decode() {
        assert_eq!(RequestState::from_reply(&json!({"state": "pending"})).unwrap(), RequestState::Pending);
        assert_eq!(
            RequestState::from_reply(&json!({"state": "answered", "result": null})).unwrap(),
            RequestState::Approved(Value::Null)
        );
        assert_eq!(
            RequestState::from_reply(
                &json!({"state": "answered", "error": {"code": 4001, "message": "rejected in wallet"}})
            )
            .unwrap(),
            RequestState::Refused { code: Some(4001), message: "rejected in wallet".into() }
        );
        assert!(RequestState::from_reply(&json!({"state": "weird"})).is_err());
        assert!(RequestState::from_reply(&json!({"state": "answered"})).is_err());
    }

    #[test]
    fn kinds_and_wallet_chain() {
        let names: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "eth_sendTransaction",
                "personal_sign",
                "eth_signTypedData_v4",
                "wallet_switchEthereumChain",
                "eth_requestAccounts"
            ]
        );
        let w = WalletInfo { account: None, chain_id: Some("0x2324".into()), name: None, updated_at: None };
        assert_eq!(w.chain_id_u64(), Some(8996));
    }
}
