//! The journal of publishes in progress (`$KELP_HOME/ocean/journal.json`), so that a publish
//! interrupted at any point (crash, kill, interrupt) resumes on retry instead of creating a
//! second asset. An entry is written before each transaction and after each step.

use crate::error::Result;
use crate::fsutil;
use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where a publish got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The factory transaction may or may not have been sent.
    Creating,
    /// NFT and datatoken exist; metadata not yet set.
    Created,
    /// `setMetaData` mined; waiting for the node to index.
    MetadataSet,
    /// Indexed: finished.
    Done,
}

/// A transaction kelp sent for a publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxRecord {
    pub label: String,
    pub hash: B256,
    #[serde(default)]
    pub gas: Option<u64>,
}

/// One publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    pub stage: Stage,
    pub chain_id: u64,
    pub publisher: Address,
    /// Block number before the first transaction (where recovery searches for events).
    pub from_block: u64,
    /// That block's hash: an entry whose block is no longer on the chain (devnet reset, lost
    /// snapshot) is stale (see [`crate::publish::stale`]).
    #[serde(default)]
    pub from_block_hash: Option<B256>,
    /// RFC 3339 creation time written into the DDO (stable across retries).
    pub created: String,
    pub nft_symbol: String,
    pub dt_symbol: String,
    #[serde(default)]
    pub nft: Option<Address>,
    #[serde(default)]
    pub datatoken: Option<Address>,
    #[serde(default)]
    pub exchange_id: Option<B256>,
    #[serde(default)]
    pub did: Option<String>,
    #[serde(default)]
    pub txs: Vec<TxRecord>,
    /// The account's next nonce just before the factory transaction was sent.
    #[serde(default)]
    pub nonce: Option<u64>,
}

/// The journal file.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    pub fn new(ocean_dir: &std::path::Path) -> Self {
        Journal { path: ocean_dir.join("journal.json") }
    }

    fn load(&self) -> Result<BTreeMap<String, Entry>> {
        Ok(fsutil::read_json(&self.path)?.unwrap_or_default())
    }

    pub fn get(&self, key: &str) -> Result<Option<Entry>> {
        Ok(self.load()?.remove(key))
    }

    /// Write (insert or replace) an entry, atomically.
    pub fn put(&self, e: &Entry) -> Result<()> {
        let mut all = self.load()?;
        all.insert(e.key.clone(), e.clone());
        fsutil::write_json(&self.path, &all)
    }

    /// All entries (for `%ocean assets --mine` and diagnostics).
    pub fn entries(&self) -> Result<Vec<Entry>> {
        Ok(self.load()?.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_reopen_and_replace() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path());
        assert_eq!(j.get("k").unwrap(), None);
        let mut e = Entry {
            key: "k".into(),
            stage: Stage::Creating,
            chain_id: 8996,
            publisher: Address::repeat_byte(1),
            from_block: 7,
            from_block_hash: None,
            created: "2026-01-01T00:00:00Z".into(),
            nft_symbol: "KELP-1".into(),
            dt_symbol: "DT-1".into(),
            nft: None,
            datatoken: None,
            exchange_id: None,
            did: None,
            txs: vec![],
            nonce: None,
        };
        j.put(&e).unwrap();
        e.stage = Stage::Created;
        Journal::new(dir.path()).put(&e).unwrap();
        assert_eq!(Journal::new(dir.path()).get("k").unwrap().unwrap().stage, Stage::Created);
        assert_eq!(j.entries().unwrap().len(), 1);
    }
}
