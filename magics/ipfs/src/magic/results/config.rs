//! `%ipfs config` and `%ipfs serve` results: the settings, the node, what was served.

use super::table;
use kelp_magic::{MagicResult, html_escape};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// A pinning service in `%ipfs config` (its token never shown).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct PinServiceShown {
    pub endpoint: String,
    /// `set` or `unset`.
    pub token: String,
}

/// The session's network node in `%ipfs config`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct NodeShown {
    pub peer_id: String,
    pub listen: Vec<String>,
    /// Peers connected now.
    pub connected: usize,
}

/// `%ipfs config` (every config subcommand shows the settings after the change).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Config {
    pub backend: String,
    pub kubo_url: String,
    pub gateway: String,
    /// The trustless gateways missing blocks are fetched from.
    pub gateways: Vec<String>,
    /// The store's folder.
    pub store: String,
    pub pin_services: BTreeMap<String, PinServiceShown>,
    pub network: bool,
    pub peers: Vec<String>,
    pub dht: bool,
    /// The network node, when it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeShown>,
}

impl Config {
    fn network_line(&self) -> String {
        match &self.node {
            Some(n) => format!("on: peer {} on {} ({} peer(s) connected)", n.peer_id, n.listen.join(", "), n.connected),
            None if self.network => "on".into(),
            None => "off".into(),
        }
    }
    fn on_off(b: bool) -> &'static str {
        if b { "on" } else { "off" }
    }
}

impl MagicResult for Config {
    const SCHEMA: &'static str = "ipfs.config";
    fn text(&self) -> String {
        let mut text = format!(
            "backend  {}\nkubo_url {}\ngateway  {}\ngateways {}\nstore    {}",
            self.backend,
            self.kubo_url,
            self.gateway,
            self.gateways.join(","),
            self.store
        );
        text.push_str(&format!(
            "\nnetwork  {}\npeers    {}\ndht      {}",
            self.network_line(),
            self.peers.join(","),
            Config::on_off(self.dht)
        ));
        for (k, v) in &self.pin_services {
            text.push_str(&format!("\npin:{k} {} (token {})", v.endpoint, v.token));
        }
        text
    }
    fn html(&self) -> Option<String> {
        Some(table(
            "%ipfs config",
            &[
                ("backend", html_escape(&self.backend)),
                ("kubo_url", html_escape(&self.kubo_url)),
                ("gateway", html_escape(&self.gateway)),
                ("gateways", html_escape(&self.gateways.join(", "))),
                ("store", html_escape(&self.store)),
                ("network", html_escape(&self.network_line())),
                ("peers", html_escape(&self.peers.join(", "))),
                ("dht", Config::on_off(self.dht).to_string()),
            ],
        ))
    }
}

/// `%ipfs serve --listen … --json`: the line printed when serving starts (not a cell result).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Serving {
    pub peer_id: String,
    pub listen: Vec<String>,
}

/// `%ipfs serve`, once interrupted.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub(crate) struct Serve {
    /// Always true (the result comes when serving stopped).
    pub stopped: bool,
    /// The trustless gateway's URL (`--gateway`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The Bitswap peer's id (`--listen`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// The Bitswap peer's addresses (`--listen`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<Vec<String>>,
}

impl MagicResult for Serve {
    const SCHEMA: &'static str = "ipfs.serve";
    fn text(&self) -> String {
        "stopped serving the IPFS store".into()
    }
    fn html(&self) -> Option<String> {
        let mut rows = Vec::new();
        if let Some(u) = &self.url {
            rows.push(("url", html_escape(u)));
        }
        if let Some(p) = &self.peer_id {
            rows.push(("peer id", html_escape(p)));
        }
        Some(table("%ipfs serve", &rows))
    }
}
