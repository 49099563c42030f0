//! `BrowserSigner`: the person's browser wallet (MetaMask or any EIP-1193 wallet) reached through
//! the JupyterLab relay of `kelp_labextension` ([`kelp_relay`]). The key never enters this process:
//! the kernel sends the transaction (as JSON) and a readable summary; the wallet shows the summary,
//! signs and broadcasts, and only the transaction hash or signature comes back.
//!
//! Every request pins the network's chain, so the browser asks the wallet to switch first, and
//! carries the chain's `wallet_addEthereumChain` parameters (EIP-3085: `chainId`, `chainName`,
//! `rpcUrls`, `nativeCurrency`; see [`add_chain_params`]) so that a wallet that lacks the chain
//! adds it with the network's real RPC URL (the devnet's port, not a default). While
//! waiting the cell shows kelp-relay's live "waiting for wallet approval" display; Reject gives
//! "rejected in wallet", an interrupt withdraws the request (its dialog closes in the browser).

use super::{NodeRequest, Signer, TxSummary};
use crate::error::{OceanError, Result};
use alloy::primitives::{Address, Signature, TxHash, TxKind, utils::format_ether};
use alloy::rpc::types::TransactionRequest;
use async_trait::async_trait;
use kelp_magic::MagicContext;
use kelp_relay::{RelayClient, RequestOptions, Summary};
use serde_json::{Map, Value, json};
use std::fmt;
use std::sync::Mutex;

/// A signer that asks the browser wallet through the relay.
pub struct BrowserSigner {
    relay: RelayClient,
    /// The cell's context: its output sink (waiting display) and cancel token.
    ctx: MagicContext,
    /// The network's name and chain, shown in every summary and pinned in every request.
    network: String,
    chain_id: u64,
    /// `wallet_addEthereumChain` parameters sent with every request naming the chain.
    add_chain: Option<Value>,
    account: Mutex<Option<Address>>,
}

impl fmt::Debug for BrowserSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrowserSigner")
            .field("relay", &self.relay)
            .field("network", &self.network)
            .field("chain_id", &self.chain_id)
            .field("add_chain", &self.add_chain.is_some())
            .finish()
    }
}

impl BrowserSigner {
    /// A signer asking through `relay` for transactions on `network` (chain `chain_id`, reached at
    /// `rpc_url`, which a wallet lacking the chain is given to add it); waiting displays and
    /// interrupts go through `ctx`.
    pub fn new(relay: RelayClient, ctx: &MagicContext, network: &str, chain_id: u64, rpc_url: &str) -> Self {
        BrowserSigner {
            relay,
            ctx: ctx.clone(),
            network: network.to_string(),
            chain_id,
            add_chain: add_chain_params(network, chain_id, rpc_url),
            account: Mutex::new(None),
        }
    }

    /// The relay this session can reach (`KELP_RELAY_URL`/`KELP_RELAY_SECRET`, or a live Jupyter
    /// server's relay file) when someone is there to answer: a browser reported a connected wallet
    /// or is listening for requests. `None` when there is no relay, it does not answer as a kelp
    /// relay, or no browser is around (a headless run: a local key signs instead).
    pub async fn discover(ctx: &MagicContext, network: &str, chain_id: u64, rpc_url: &str) -> Option<Self> {
        let relay = RelayClient::discover(&ctx.env).ok().flatten()?;
        let status = relay.status().await.ok()?;
        let connected = status.wallet.as_ref().is_some_and(|w| w.account.is_some());
        (connected || status.browser_listening()).then(|| Self::new(relay, ctx, network, chain_id, rpc_url))
    }

    /// The options of a request on this signer's chain: the chain, and how to add it.
    fn chain_options(&self) -> RequestOptions {
        let opts = RequestOptions::default().chain(self.chain_id);
        match &self.add_chain {
            Some(a) => opts.add_chain(a.clone()),
            None => opts,
        }
    }

    fn network_label(&self) -> String {
        format!("{} (chain {})", self.network, self.chain_id)
    }

    fn cached(&self) -> Option<Address> {
        *self.account.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Who asks, in words: this kernel and, when Jupyter names it, the notebook.
    fn requester(&self) -> String {
        match self.ctx.env.get("JPY_SESSION_NAME").filter(|n| !n.is_empty()) {
            Some(nb) => format!("kelp kernel for notebook {nb}"),
            None => format!("kelp kernel (process {})", std::process::id()),
        }
    }

    /// The rows every request shows: who asks, on which network, from which account.
    fn base_summary(&self, from: Address) -> Summary {
        Summary::new().requester(self.requester()).network(self.network_label()).from(from.to_string())
    }

    /// The summary the browser shows for `tx` sent from `from`: a plain transfer as
    /// From/To/Amount; a call as contract, method and named arguments; a deployment as such.
    fn summary(&self, tx: &TransactionRequest, s: &TxSummary, from: Address) -> Summary {
        let amount = format!("{} {}", trim_ether(&format_ether(s.value)), self.symbol());
        let plain = tx.input.input().is_none_or(|d| d.is_empty());
        let mut out = self.base_summary(from);
        out = match s.to {
            Some(to) if plain => out.title(format!("Send {amount} to {to}")).method(s.method.clone()).value(amount),
            Some(to) => {
                let mut o = out
                    .title(format!("Call {}.{} at {to}", s.contract, s.method))
                    .contract(format!("{} ({to})", s.contract))
                    .method(s.method.clone())
                    .args(args_json(&s.args));
                if !s.value.is_zero() {
                    o = o.value(amount);
                }
                o
            }
            None => out
                .title(format!("Deploy {}", s.contract))
                .contract(format!("deploy {}", s.contract))
                .args(args_json(&s.args)),
        };
        if let Some(step) = s.step {
            out = out.step(step.to_string());
        }
        if let Some(gas) = tx.gas {
            out = out.gas(gas.to_string());
        }
        out
    }

    /// The summary of a node request: what it authorises, with the hash only as a detail.
    fn node_summary(&self, hash: &[u8; 32], r: &NodeRequest, from: Address) -> Summary {
        let mut out = self.base_summary(from).title(r.describe()).method(format!("sign node request `{}`", r.command));
        if let Some(step) = r.step {
            out = out.step(step.to_string());
        }
        out.detail(format!("signs keccak256(account + nonce + command) = 0x{}", hex::encode(hash)))
    }

    /// The native currency's symbol on this chain.
    fn symbol(&self) -> String {
        self.add_chain
            .as_ref()
            .and_then(|a| a["nativeCurrency"]["symbol"].as_str().map(str::to_string))
            .unwrap_or_else(|| "ETH".into())
    }
}

fn args_json(args: &[(String, String)]) -> Value {
    Value::Object(args.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// `1.500000000000000000` → `1.5`, `2.000000000000000000` → `2`.
fn trim_ether(s: &str) -> String {
    match s.split_once('.') {
        Some((int, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") }
        }
        None => s.to_string(),
    }
}

/// The EIP-1193 transaction object (`0x` hex quantities) for `tx` sent from `from`.
pub fn tx_json(tx: &TransactionRequest, from: Address, chain_id: u64) -> Value {
    let mut o = Map::new();
    o.insert("from".into(), json!(from.to_string()));
    if let Some(TxKind::Call(to)) = tx.to {
        o.insert("to".into(), json!(to.to_string()));
    }
    o.insert("value".into(), json!(format!("{:#x}", tx.value.unwrap_or_default())));
    if let Some(data) = tx.input.input().filter(|d| !d.is_empty()) {
        o.insert("data".into(), json!(data.to_string()));
    }
    if let Some(gas) = tx.gas {
        o.insert("gas".into(), json!(format!("{gas:#x}")));
    }
    if let Some(n) = tx.nonce {
        o.insert("nonce".into(), json!(format!("{n:#x}")));
    }
    o.insert("chainId".into(), json!(format!("{chain_id:#x}")));
    Value::Object(o)
}

/// The devnet's name in wallets (the same as kelp-labextension's default `devnet.chainName`).
pub const DEVNET_CHAIN_NAME: &str = "kelp devnet";

/// The EIP-3085 `wallet_addEthereumChain` parameter object for `network` (chain `chain_id` at
/// `rpc_url`): `{"chainId": "0x…", "chainName", "rpcUrls": [rpc_url], "nativeCurrency": {"name",
/// "symbol", "decimals": 18}}`, the shape kelp-labextension passes to the wallet unchanged.
///
/// `None` when the URL might carry a credential, which must never travel in a request: it has a
/// user or password, a query or fragment, or (for a host other than loopback) a path, where
/// providers such as Infura and Alchemy put API keys. Such public chains are known to wallets
/// anyway; the devnet and kelp's default public endpoints are always described.
pub fn add_chain_params(network: &str, chain_id: u64, rpc_url: &str) -> Option<Value> {
    let url = reqwest::Url::parse(rpc_url).ok()?;
    let host = url.host_str()?;
    let loopback = host == "localhost"
        || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let plain = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && (loopback || url.path() == "/");
    if !plain {
        return None;
    }
    let name = match network {
        "devnet" => DEVNET_CHAIN_NAME.to_string(),
        n if n.contains("://") => format!("chain {chain_id}"),
        n => n.to_string(),
    };
    let (currency, symbol) = match chain_id {
        137 | 80002 => ("POL", "POL"),
        23294 => ("ROSE", "ROSE"),
        23295 => ("TEST", "TEST"),
        _ => ("Ether", "ETH"),
    };
    Some(json!({
        "chainId": format!("{chain_id:#x}"),
        "chainName": name,
        "rpcUrls": [rpc_url],
        "nativeCurrency": {"name": currency, "symbol": symbol, "decimals": 18},
    }))
}

fn parse_address(s: &str) -> Result<Address> {
    s.parse().map_err(|_| OceanError::Rpc(format!("the wallet reported `{s}` as its account, not an address")))
}

fn parse_signature(s: &str) -> Result<Signature> {
    s.parse().map_err(|_| OceanError::Rpc(format!("the wallet returned `{s}` as a signature, which is not one")))
}

#[async_trait]
impl Signer for BrowserSigner {
    /// The wallet's selected account: what the browser last reported, else `eth_requestAccounts`.
    async fn address(&self) -> Result<Address> {
        if let Some(a) = self.cached() {
            return Ok(a);
        }
        let reported = self.relay.status().await?.wallet.and_then(|w| w.account);
        let account = match reported {
            Some(a) => parse_address(&a)?,
            None => {
                let all = self.relay.request_accounts(&self.ctx).await?;
                parse_address(&all[0])?
            }
        };
        *self.account.lock().unwrap_or_else(|e| e.into_inner()) = Some(account);
        Ok(account)
    }

    /// The network's chain. When the browser reports the wallet on another chain, the wallet is
    /// asked to switch first (a switch request the person approves).
    async fn chain_id(&self) -> Result<u64> {
        let reported = self.relay.status().await?.wallet.and_then(|w| w.chain_id_u64());
        if let Some(id) = reported
            && id != self.chain_id
        {
            self.relay.switch_chain(self.chain_id, self.add_chain.clone(), &self.ctx).await?;
        }
        Ok(self.chain_id)
    }

    async fn send_transaction(&self, tx: TransactionRequest, summary: &TxSummary) -> Result<TxHash> {
        let from = self.address().await?;
        let body = tx_json(&tx, from, self.chain_id);
        let hash = self
            .relay
            .send_transaction(body, self.summary(&tx, summary, from), self.chain_options(), &self.ctx)
            .await?;
        hash.parse().map_err(|_| OceanError::Rpc(format!("the wallet returned `{hash}` as a transaction hash")))
    }

    async fn personal_sign(&self, message: &[u8]) -> Result<Signature> {
        let from = self.address().await?;
        let shown = match std::str::from_utf8(message) {
            Ok(text) => Value::String(text.to_string()),
            Err(_) => Value::String(format!("0x{}", hex::encode(message))),
        };
        let summary = self.base_summary(from).title("Sign a message").method("sign message").arg("message", shown);
        let hex_msg = format!("0x{}", hex::encode(message));
        let sig = self.relay.personal_sign(&hex_msg, &from.to_string(), summary, &self.ctx).await?;
        parse_signature(&sig)
    }

    async fn sign_typed_data(&self, typed_data: &Value) -> Result<Signature> {
        let from = self.address().await?;
        let summary = typed_summary(self.base_summary(from), typed_data);
        let sig = self.relay.sign_typed_data(&from.to_string(), typed_data.clone(), summary, &self.ctx).await?;
        parse_signature(&sig)
    }

    async fn sign_node_request(&self, hash: &[u8; 32], request: &NodeRequest) -> Result<Signature> {
        let from = self.address().await?;
        let hex_msg = format!("0x{}", hex::encode(hash));
        let summary = self.node_summary(hash, request, from);
        let sig = self.relay.personal_sign(&hex_msg, &from.to_string(), summary, &self.ctx).await?;
        parse_signature(&sig)
    }
}

/// Typed data shown as its fields: the domain (name, version, chain, contract), the primary type
/// and each message field with its value.
fn typed_summary(base: Summary, typed_data: &Value) -> Summary {
    let domain = &typed_data["domain"];
    let name = domain["name"].as_str().unwrap_or("an unnamed domain");
    let primary = typed_data["primaryType"].as_str().unwrap_or("data");
    let mut out = base.title(format!("Sign {primary} for {name}")).method("sign typed data (EIP-712)");
    let mut dom = Vec::new();
    for key in ["name", "version", "chainId", "verifyingContract"] {
        if let Some(v) = domain.get(key).filter(|v| !v.is_null()) {
            dom.push(format!("{key} {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())));
        }
    }
    if !dom.is_empty() {
        out = out.contract(dom.join(", "));
    }
    let mut args = Map::new();
    args.insert("type".into(), json!(primary));
    if let Some(fields) = typed_data["message"].as_object() {
        for (k, v) in fields {
            args.insert(k.clone(), v.as_str().map(|s| json!(s)).unwrap_or_else(|| json!(v.to_string())));
        }
    }
    out.args(Value::Object(args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::network::TransactionBuilder;
    use alloy::primitives::{Bytes, U256};
    use kelp_magic::{Config, RecordingSink};

    #[test]
    fn tx_and_summary_are_what_the_wallet_expects() {
        let to = Address::repeat_byte(0x11);
        let from = Address::repeat_byte(0x22);
        let tx = TransactionRequest::default()
            .with_to(to)
            .with_value(U256::from(1_500_000_000_000_000_000u128))
            .with_input(Bytes::from_static(&[0xa9, 0x05]))
            .with_gas_limit(21_000);
        let j = tx_json(&tx, from, 8996);
        assert_eq!(j["from"], from.to_string());
        assert_eq!(j["to"], to.to_string());
        assert_eq!(j["value"], "0x14d1120d7b160000");
        assert_eq!(j["data"], "0xa905");
        assert_eq!(j["gas"], "0x5208");
        assert_eq!(j["chainId"], "0x2324");
        assert!(j.get("nonce").is_none());

        let ctx = MagicContext::new("/", Config::at("/tmp"), RecordingSink::new());
        let relay = RelayClient::new("http://127.0.0.1:9/kelp/relay", "SeCrEt-1").unwrap();
        let s = BrowserSigner::new(relay, &ctx, "devnet", 8996, "http://127.0.0.1:23456");
        assert!(!format!("{s:?}").contains("SeCrEt-1"));
        let ts =
            TxSummary::call(8996, "datatoken DT1", to, "transfer").arg("amount", "2").value(U256::from(10u64.pow(18)));
        let sum = serde_json::to_value(s.summary(&tx, &ts, from)).unwrap();
        let who = format!("kelp kernel (process {})", std::process::id());
        assert_eq!(
            sum,
            json!({"title": format!("Call datatoken DT1.transfer at {to}"), "requester": who,
                   "network": "devnet (chain 8996)", "from": from.to_string(),
                   "contract": format!("datatoken DT1 ({to})"), "method": "transfer",
                   "args": {"amount": "2"}, "value": "1 ETH", "gas": "21000"})
        );
        // A plain transfer: From, To, the amount once, no empty contract call.
        let send = TransactionRequest::default().with_to(to).with_value(U256::from(1_500_000_000_000_000_000u128));
        let ts = TxSummary::call(8996, "account", to, "transfer ETH").value(U256::from(1_500_000_000_000_000_000u128));
        let sum = serde_json::to_value(s.summary(&send, &ts, from)).unwrap();
        assert_eq!(
            sum,
            json!({"title": format!("Send 1.5 ETH to {to}"), "requester": who, "network": "devnet (chain 8996)",
                   "from": from.to_string(), "method": "transfer ETH", "value": "1.5 ETH"})
        );
        let deploy =
            serde_json::to_value(s.summary(&TransactionRequest::default(), &TxSummary::deploy(1, "X"), from)).unwrap();
        assert_eq!((deploy["contract"].as_str(), deploy["title"].as_str()), (Some("deploy X"), Some("Deploy X")));
        assert!(deploy.get("gas").is_none());
        ctx.env.set("JPY_SESSION_NAME", Some("work/publish.ipynb".into()));
        let step = TxSummary { step: Some(super::super::Step { index: 2, total: 4 }), ..ts };
        let sum = serde_json::to_value(s.summary(&send, &step, from)).unwrap();
        assert_eq!(
            (sum["step"].as_str(), sum["requester"].as_str()),
            (Some("step 2 of 4"), Some("kelp kernel for notebook work/publish.ipynb"))
        );
    }

    #[test]
    fn node_requests_and_typed_data_read_as_words() {
        let ctx = MagicContext::new("/", Config::at("/tmp"), RecordingSink::new());
        let relay = RelayClient::new("http://127.0.0.1:9/kelp/relay", "s").unwrap();
        let s = BrowserSigner::new(relay, &ctx, "devnet", 8996, "http://127.0.0.1:23456");
        let from = Address::repeat_byte(0x22);
        let r = NodeRequest {
            node: "http://127.0.0.1:8001".into(),
            command: "encrypt".into(),
            nonce: 3,
            step: Some(super::super::Step { index: 2, total: 4 }),
        };
        let sum = serde_json::to_value(s.node_summary(&[0xab; 32], &r, from)).unwrap();
        assert_eq!(sum["title"], "Authorise Ocean node http://127.0.0.1:8001 to encrypt (nonce 3)");
        assert_eq!(sum["step"], "step 2 of 4");
        assert_eq!(sum["from"], from.to_string());
        assert!(sum["detail"].as_str().unwrap().ends_with(&format!("0x{}", "ab".repeat(32))));
        assert!(sum.get("args").is_none(), "the hash is a detail, not the message: {sum}");

        let typed = json!({"domain": {"name": "Ocean", "version": "1", "chainId": 8996},
                           "primaryType": "Order", "message": {"amount": "5", "nonce": 2}});
        let sum = serde_json::to_value(typed_summary(Summary::new(), &typed)).unwrap();
        assert_eq!(sum["title"], "Sign Order for Ocean");
        assert_eq!(sum["contract"], "name Ocean, version 1, chainId 8996");
        assert_eq!(sum["args"], json!({"type": "Order", "amount": "5", "nonce": "2"}));
    }

    #[test]
    fn requests_carry_the_networks_add_chain_parameters() {
        // The devnet on its own port: what kelp-labextension hands to wallet_addEthereumChain.
        let devnet = json!({"chainId": "0x2324", "chainName": "kelp devnet", "rpcUrls": ["http://127.0.0.1:23456"],
                            "nativeCurrency": {"name": "Ether", "symbol": "ETH", "decimals": 18}});
        assert_eq!(add_chain_params("devnet", 8996, "http://127.0.0.1:23456"), Some(devnet.clone()));
        let ctx = MagicContext::new("/", Config::at("/tmp"), RecordingSink::new());
        let relay = RelayClient::new("http://127.0.0.1:9/kelp/relay", "s").unwrap();
        let s = BrowserSigner::new(relay, &ctx, "devnet", 8996, "http://127.0.0.1:23456");
        let opts = s.chain_options();
        assert_eq!((opts.chain_id, opts.add_chain), (Some(8996), Some(devnet)));

        let sepolia = add_chain_params("sepolia", 11155111, "https://ethereum-sepolia-rpc.publicnode.com").unwrap();
        assert_eq!((sepolia["chainId"].as_str(), sepolia["chainName"].as_str()), (Some("0xaa36a7"), Some("sepolia")));
        let polygon = add_chain_params("polygon", 137, "https://polygon-rpc.com/").unwrap();
        assert_eq!(polygon["nativeCurrency"], json!({"name": "POL", "symbol": "POL", "decimals": 18}));
        let by_url = add_chain_params("http://localhost:8546", 1337, "http://localhost:8546").unwrap();
        assert_eq!((by_url["chainName"].as_str(), by_url["chainId"].as_str()), (Some("chain 1337"), Some("0x539")));
        // URLs that may hold an API key or a password are never put in a request.
        for url in [
            "https://sepolia.infura.io/v3/0123456789abcdef",
            "https://rpc.example.org/?apikey=x",
            "https://user:pw@rpc.example.org",
            "http://127.0.0.1:8545/?token=x",
            "ws://127.0.0.1:8545",
            "not a url",
        ] {
            assert_eq!(add_chain_params("n", 1, url), None, "{url}");
        }
        let relay = RelayClient::new("http://127.0.0.1:9/kelp/relay", "s").unwrap();
        let keyed =
            BrowserSigner::new(relay, &ctx, "sepolia", 11155111, "https://sepolia.infura.io/v3/0123456789abcdef");
        assert_eq!(keyed.chain_options().add_chain, None);
        assert!(!format!("{keyed:?}").contains("0123456789abcdef"));
    }
}
