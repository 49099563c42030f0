//! The `%devnet` results (also `kelp devnet … --json`): `up` and `reset` (the devnet started),
//! `down` (stopped, state saved or not) and `status`.

use super::{AddressBook, span};
use crate::addresses::{DEVNET_NAME, OceanAddresses};
use crate::devnet::{DevnetPaths, DownReport, Status as DevnetStatus, UpReport};
use kelp_magic::{MagicResult, html_escape};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// How `up` got the devnet running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Start {
    /// Deployed the Ocean contracts now.
    Cold,
    /// Restored the snapshot of the last `down`.
    Warm,
    /// It was already up.
    Running,
}

impl Start {
    /// Of [`UpReport::start`] (`cold`, `warm` or `running`).
    fn of(s: &str) -> Start {
        match s {
            "cold" => Start::Cold,
            "warm" => Start::Warm,
            _ => Start::Running,
        }
    }
}

/// `%devnet up` and `%devnet reset` (the value bound is the RPC URL).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Up {
    /// Always `development` (the name ocean.py gives chain 8996).
    pub network: String,
    /// Always true.
    pub running: bool,
    pub start: Start,
    /// Milliseconds `up` took.
    pub elapsed_ms: u64,
    pub rpc_url: String,
    pub chain_id: u64,
    pub anvil_pid: u32,
    /// kelp's Ocean node, once started.
    pub node_pid: Option<u32>,
    pub node_url: Option<String>,
    /// The devnet's `address.json`.
    pub address_file: PathBuf,
    /// Its entry in `address.json`.
    #[schemars(with = "AddressBook")]
    pub addresses: OceanAddresses,
    /// Gas per deploy step (cold starts only; else empty).
    pub deploy_gas: BTreeMap<String, u64>,
    /// How long `up` took (render only; `elapsed_ms` in the JSON).
    #[serde(skip)]
    pub elapsed: Duration,
}

impl Up {
    /// The result of `up` (or `reset`) as `r` reports it.
    pub fn of(paths: &DevnetPaths, r: &UpReport) -> Up {
        let s = &r.state;
        Up {
            network: DEVNET_NAME.to_string(),
            running: true,
            start: Start::of(r.start),
            elapsed_ms: r.elapsed.as_millis() as u64,
            rpc_url: s.rpc_url.clone(),
            chain_id: s.chain_id,
            anvil_pid: s.anvil_pid,
            node_pid: s.node_pid,
            node_url: s.node_url.clone(),
            address_file: paths.address_file(),
            addresses: r.addresses.clone(),
            deploy_gas: r.gas.iter().cloned().collect(),
            elapsed: r.elapsed,
        }
    }

    fn how(&self) -> &'static str {
        match self.start {
            Start::Cold => "deployed the Ocean contracts",
            Start::Warm => "restored the snapshot",
            Start::Running => "already running",
        }
    }
}

impl MagicResult for Up {
    const SCHEMA: &'static str = "devnet.up";
    fn text(&self) -> String {
        format!(
            "devnet up at {} (chain {}, {}, {:.2}s)\nERC721Factory {}\nOCEAN {}\naddresses: {}",
            self.rpc_url,
            self.chain_id,
            self.how(),
            self.elapsed.as_secs_f64(),
            self.addresses.erc721_factory,
            self.addresses.ocean,
            self.address_file.display()
        )
    }
    fn html(&self) -> Option<String> {
        Some(format!(
            "<div><b>devnet</b> up at <code>{}</code> (chain {}, {}, {:.2}s)<br>ERC721Factory <code>{}</code></div>",
            html_escape(&self.rpc_url),
            self.chain_id,
            self.how(),
            self.elapsed.as_secs_f64(),
            self.addresses.erc721_factory
        ))
    }
}

/// `%devnet down [--no-save]`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Down {
    /// Always false.
    pub running: bool,
    /// A devnet was running and has been stopped.
    pub was_running: bool,
    /// Its chain state was saved for the next `up`.
    pub saved: bool,
    /// `--no-save` was given (render only).
    #[serde(skip)]
    pub no_save: bool,
}

impl Down {
    /// The result of `down` as `r` reports it.
    pub fn of(r: &DownReport, no_save: bool) -> Down {
        Down { running: false, was_running: r.was_running, saved: r.saved, no_save }
    }
}

impl MagicResult for Down {
    const SCHEMA: &'static str = "devnet.down";
    fn text(&self) -> String {
        match (self.was_running, self.saved) {
            (false, _) => "devnet was not running".to_string(),
            (true, true) => "devnet stopped; state saved for the next `devnet up`".to_string(),
            (true, false) if self.no_save => "devnet stopped; state not saved".to_string(),
            (true, false) => "devnet stopped; state not saved (no snapshot fingerprint recorded)".to_string(),
        }
    }
    fn html(&self) -> Option<String> {
        Some(span(&self.text()))
    }
}

/// `%devnet status` (the value bound is the RPC URL when it runs). The fields of the recorded
/// devnet are null when none is recorded.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Status {
    /// Always `development`.
    pub network: String,
    /// Its anvil answers.
    pub running: bool,
    pub rpc_url: Option<String>,
    pub chain_id: Option<u64>,
    /// The latest block, when it runs.
    pub block: Option<u64>,
    pub anvil_pid: Option<u32>,
    pub node_url: Option<String>,
    /// The devnet's `address.json`.
    pub address_file: PathBuf,
    /// Its entry in `address.json`, when there is one.
    #[schemars(with = "Option<AddressBook>")]
    pub addresses: Option<OceanAddresses>,
}

impl Status {
    /// The result of `status` as `st` sees it.
    pub fn of(paths: &DevnetPaths, st: &DevnetStatus) -> Status {
        let s = st.state.as_ref();
        Status {
            network: DEVNET_NAME.to_string(),
            running: st.running,
            rpc_url: s.map(|s| s.rpc_url.clone()),
            chain_id: s.map(|s| s.chain_id),
            block: st.block,
            anvil_pid: s.map(|s| s.anvil_pid),
            node_url: s.and_then(|s| s.node_url.clone()),
            address_file: paths.address_file(),
            addresses: st.addresses.clone(),
        }
    }

    /// The RPC URL when the devnet runs (the value bound).
    pub fn running_url(&self) -> Option<&str> {
        self.rpc_url.as_deref().filter(|_| self.running)
    }
}

impl MagicResult for Status {
    const SCHEMA: &'static str = "devnet.status";
    fn text(&self) -> String {
        match (&self.rpc_url, self.running) {
            (Some(url), true) => format!(
                "devnet running at {url} (chain {}, block {})",
                self.chain_id.unwrap_or_default(),
                self.block.map(|b| b.to_string()).unwrap_or_else(|| "?".into())
            ),
            (Some(_), false) => "devnet not running (its anvil has exited); start it with `%devnet up`".into(),
            (None, _) => "devnet not running; start it with `%devnet up`".into(),
        }
    }
    fn html(&self) -> Option<String> {
        Some(span(&self.text()))
    }
}
