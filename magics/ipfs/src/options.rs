//! Import options (`AddOptions`): Kubo's `ipfs add` defaults and the IPIP-0499 profiles.

use crate::IpfsError;

/// How a directory's size is estimated to decide whether it becomes a HAMT shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HamtEstimate {
    /// Legacy (Kubo `unixfs-v0-2015`): sum over links of name length + CID length.
    Links,
    /// `unixfs-v1-2025`: the encoded size of the basic directory block.
    Block,
}

/// Options of an import. `Default` is exactly Kubo's `ipfs add`: CIDv0, dag-pb leaves,
/// size-262144 chunks, 174 links per node, balanced layout, pin, no hidden files, no wrapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOptions {
    /// 0 or 1.
    pub cid_version: u8,
    /// `None`: implied by the CID version (v1 ⇒ raw leaves, as Kubo).
    pub raw_leaves: Option<bool>,
    /// Fixed chunk size in bytes (`--chunker size-N`).
    pub chunk_size: usize,
    /// Maximum links per file node.
    pub max_links: usize,
    /// Add directories (`-r`); without it a directory is an error, as in Kubo.
    pub recursive: bool,
    /// Include files and directories whose name starts with `.`.
    pub hidden: bool,
    /// Wrap the added entry in a directory named after it.
    pub wrap_with_directory: bool,
    /// Pin the root in the local store (default true, as Kubo).
    pub pin: bool,
    /// Optional pin name.
    pub pin_name: Option<String>,
    /// Compute the CID only; write no block.
    pub only_hash: bool,
    /// Directories whose estimated size exceeds this many bytes become HAMT shards.
    pub hamt_threshold: usize,
    pub hamt_estimate: HamtEstimate,
    /// HAMT fanout (256).
    pub hamt_fanout: usize,
}

impl Default for AddOptions {
    fn default() -> Self {
        AddOptions {
            cid_version: 0,
            raw_leaves: None,
            chunk_size: 262_144,
            max_links: 174,
            recursive: false,
            hidden: false,
            wrap_with_directory: false,
            pin: true,
            pin_name: None,
            only_hash: false,
            hamt_threshold: 262_144,
            hamt_estimate: HamtEstimate::Links,
            hamt_fanout: 256,
        }
    }
}

/// Names accepted by [`AddOptions::profile`].
pub const PROFILES: &[&str] = &["unixfs-v0-2015", "legacy-cid-v0", "unixfs-v1-2025"];

impl AddOptions {
    /// The options of an IPIP-0499 profile: `unixfs-v0-2015` (alias `legacy-cid-v0`) or
    /// `unixfs-v1-2025` (CIDv1, raw leaves, 1 MiB chunks, 1024 links, block-based HAMT estimate).
    pub fn profile(name: &str) -> Result<Self, IpfsError> {
        match name {
            "unixfs-v0-2015" | "legacy-cid-v0" => Ok(AddOptions::default()),
            "unixfs-v1-2025" => Ok(AddOptions {
                cid_version: 1,
                raw_leaves: Some(true),
                chunk_size: 1 << 20,
                max_links: 1024,
                hamt_estimate: HamtEstimate::Block,
                ..AddOptions::default()
            }),
            other => {
                Err(IpfsError::BadOption(format!("unknown profile {other:?}: use one of {}", PROFILES.join(", "))))
            }
        }
    }

    /// Whether leaves are raw blocks (explicit choice, else implied by CIDv1).
    pub fn leaves_are_raw(&self) -> bool {
        self.raw_leaves.unwrap_or(self.cid_version >= 1)
    }

    /// Set the chunker from Kubo's syntax; only `size-N` is supported.
    pub fn set_chunker(&mut self, spec: &str) -> Result<(), IpfsError> {
        self.chunk_size = parse_chunker(spec)?;
        Ok(())
    }

    /// Check the combination before any I/O.
    pub fn validate(&self) -> Result<(), IpfsError> {
        if self.cid_version > 1 {
            return Err(IpfsError::BadOption(format!("--cid-version {} is not valid: use 0 or 1", self.cid_version)));
        }
        if self.chunk_size == 0 || self.chunk_size > 1 << 22 {
            return Err(IpfsError::BadOption(format!(
                "chunk size {} is not valid: use size-N with 1 <= N <= 4194304",
                self.chunk_size
            )));
        }
        if self.max_links < 2 {
            return Err(IpfsError::BadOption("max links per node must be at least 2".into()));
        }
        Ok(())
    }

    /// The CID version of DAG-PB nodes. Raw leaves are always CIDv1 (raw blocks cannot be
    /// CIDv0), but as in Kubo `--raw-leaves` alone keeps the DAG-PB nodes at CIDv0.
    pub fn effective_cid_version(&self) -> u8 {
        self.cid_version
    }
}

/// `size-262144` → 262144.
pub fn parse_chunker(spec: &str) -> Result<usize, IpfsError> {
    let bad = || {
        IpfsError::BadOption(format!(
            "chunker {spec:?} is not supported: use size-N (e.g. size-262144); rabin and buzhash are not implemented"
        ))
    };
    let n = spec.strip_prefix("size-").ok_or_else(bad)?;
    let n: usize = n.parse().map_err(|_| bad())?;
    if n == 0 || n > 1 << 22 {
        return Err(IpfsError::BadOption(format!("chunk size {n} is not valid: use 1 <= N <= 4194304")));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kubos() {
        let o = AddOptions::default();
        assert_eq!((o.cid_version, o.chunk_size, o.max_links, o.pin), (0, 262_144, 174, true));
        assert!(!o.leaves_are_raw());
        assert_eq!(AddOptions::profile("legacy-cid-v0").unwrap(), o);
    }

    #[test]
    fn v1_2025_profile() {
        let o = AddOptions::profile("unixfs-v1-2025").unwrap();
        assert_eq!((o.cid_version, o.chunk_size, o.max_links), (1, 1 << 20, 1024));
        assert!(o.leaves_are_raw());
        assert!(AddOptions::profile("nope").unwrap_err().to_string().contains("unixfs-v1-2025"));
    }

    #[test]
    fn chunker_syntax() {
        assert_eq!(parse_chunker("size-1024").unwrap(), 1024);
        assert!(parse_chunker("rabin").is_err());
        assert!(parse_chunker("size-0").is_err());
        assert!(parse_chunker("size-x").is_err());
    }
}
