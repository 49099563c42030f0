//! The `%wallet` results: `show` (the account and its balances), `send` (a transfer), `switch`
//! (the session's network) and `create` / `import` (a keystore written).

use super::pre;
use alloy::primitives::{Address, B256};
use kelp_magic::{MagicResult, redact};
use schemars::JsonSchema;
use serde::Serialize;
use std::path::PathBuf;

/// A token balance in `%wallet show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TokenBalance {
    /// The token's symbol (`?` when it has none).
    pub symbol: String,
    #[schemars(with = "String")]
    pub address: Address,
    /// Whole tokens (18 decimals), e.g. `"1.5"`.
    pub balance: String,
}

/// `%wallet` / `%wallet show [--token ADDR]…` (the value bound is the address).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Show {
    /// The signing account.
    #[schemars(with = "String")]
    pub address: Address,
    /// The network's name, or its RPC URL (secrets removed).
    pub network: String,
    pub chain_id: u64,
    /// ETH, in whole ether (`"10000.0"`).
    pub eth: String,
    /// OCEAN first, then each `--token`.
    pub tokens: Vec<TokenBalance>,
}

impl Show {
    /// `network` is redacted ([`kelp_magic::redact`]): a URL's password or key stays out.
    pub fn new(address: Address, network: &str, chain_id: u64, eth: String, tokens: Vec<TokenBalance>) -> Show {
        Show { address, network: redact(network), chain_id, eth, tokens }
    }
}

impl MagicResult for Show {
    const SCHEMA: &'static str = "wallet.show";
    fn text(&self) -> String {
        let lines: String = self.tokens.iter().map(|t| format!("\n{} {}", t.balance, t.symbol)).collect();
        format!("{} on {} (chain {})\n{} ETH{lines}", self.address, self.network, self.chain_id, self.eth)
    }
    fn html(&self) -> Option<String> {
        Some(pre(&self.text()))
    }
}

/// `%wallet send TO AMOUNT [--token T]`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Sent {
    #[schemars(with = "String")]
    pub to: Address,
    /// As given (whole units, e.g. `"1.5"`).
    pub amount: String,
    /// As given: `ETH`, `OCEAN` or a token address.
    pub token: String,
    #[schemars(with = "String")]
    pub tx: B256,
    pub gas: u64,
}

impl MagicResult for Sent {
    const SCHEMA: &'static str = "wallet.send";
    fn text(&self) -> String {
        format!("sent {} {} to {} (tx {}, gas {})", self.amount, self.token, self.to, self.tx, self.gas)
    }
    fn html(&self) -> Option<String> {
        Some(pre(&self.text()))
    }
}

/// `%wallet switch NETWORK`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Switch {
    /// The network's name, or its RPC URL (secrets removed).
    pub network: String,
    pub chain_id: u64,
    /// The RPC URL (secrets removed: a `user:password@` and key-like query values).
    pub rpc_url: String,
}

impl Switch {
    /// `network` and `rpc_url` are redacted ([`kelp_magic::redact`]).
    pub fn new(network: &str, chain_id: u64, rpc_url: &str) -> Switch {
        Switch { network: redact(network), chain_id, rpc_url: redact(rpc_url) }
    }
}

impl MagicResult for Switch {
    const SCHEMA: &'static str = "wallet.switch";
    fn text(&self) -> String {
        format!("network: {} (chain {}, {})", self.network, self.chain_id, self.rpc_url)
    }
    fn html(&self) -> Option<String> {
        Some(pre(&self.text()))
    }
}

/// `%wallet create NAME` and `%wallet import NAME` (the value bound is the address).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Keystore {
    /// The keystore's name.
    pub name: String,
    /// Its file (encrypted; the key is never shown).
    pub path: PathBuf,
    /// The account it holds.
    #[schemars(with = "String")]
    pub address: Address,
}

impl MagicResult for Keystore {
    const SCHEMA: &'static str = "wallet.keystore";
    fn text(&self) -> String {
        format!("keystore {} for {}; this session now signs with it", self.path.display(), self.address)
    }
    fn html(&self) -> Option<String> {
        Some(pre(&self.text()))
    }
}
