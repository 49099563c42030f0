//! `LocalKeySigner`: a secp256k1 key held in this process — from an encrypted keystore file
//! (Web3 Secret Storage, scrypt) under `$KELP_HOME/ocean/keystore/`, from an environment
//! variable (CI), or one of anvil's well-known development keys on the devnet. The key never
//! leaves the struct: `Debug` shows the address only, errors never include it.

use super::{Signer, TxSummary};
use crate::error::{OceanError, Result};
use crate::rpc;
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Signature, TxHash};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::Signer as _;
use alloy::signers::local::PrivateKeySigner;
use async_trait::async_trait;
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable holding a hex private key, for CI runs (never printed).
pub const ENV_PRIVATE_KEY: &str = "KELP_PRIVATE_KEY";

/// Where a local key came from (shown to people instead of the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// Anvil's development account number N (public, well-known keys).
    DevAccount(usize),
    /// The environment variable named.
    Env(String),
    /// An encrypted keystore file.
    Keystore(PathBuf),
    /// A local Ocean node's own key (it signs its Escrow locks and claims).
    NodeKey,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::DevAccount(n) => write!(f, "devnet account #{n}"),
            KeySource::Env(v) => write!(f, "${v}"),
            KeySource::Keystore(p) => write!(f, "keystore {}", p.display()),
            KeySource::NodeKey => write!(f, "the node's key"),
        }
    }
}

/// A key held locally, sending through one RPC endpoint.
#[derive(Clone)]
pub struct LocalKeySigner {
    key: PrivateKeySigner,
    source: KeySource,
    rpc_url: String,
    chain_id: u64,
    provider: DynProvider,
}

impl fmt::Debug for LocalKeySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeySigner")
            .field("address", &self.key.address())
            .field("source", &self.source)
            .field("rpc_url", &self.rpc_url)
            .field("chain_id", &self.chain_id)
            .finish()
    }
}

/// Anvil's default mnemonic accounts 0..9 (public test keys, printed by anvil at start).
const ANVIL_KEYS: [&str; 10] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

impl LocalKeySigner {
    fn build(key: PrivateKeySigner, source: KeySource, rpc_url: &str, chain_id: u64) -> Result<Self> {
        let url = rpc::parse_url(rpc_url)?;
        // The nonce is asked of the chain for every transaction: other signers (another
        // kernel, a browser wallet) may use the same account between two of ours.
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .with_chain_id(chain_id)
            .wallet(EthereumWallet::from(key.clone()))
            .connect_http(url)
            .erased();
        let key = key.with_chain_id(Some(chain_id));
        Ok(LocalKeySigner { key, source, rpc_url: rpc_url.to_string(), chain_id, provider })
    }

    /// Anvil development account `n` (0..9).
    pub fn dev_account(n: usize, rpc_url: &str, chain_id: u64) -> Result<Self> {
        let hex = ANVIL_KEYS
            .get(n)
            .ok_or_else(|| OceanError::input(format!("devnet account #{n} does not exist (use 0..9)")))?;
        let key: PrivateKeySigner = hex.parse().map_err(|_| OceanError::devnet("bad built-in dev key"))?;
        Self::build(key, KeySource::DevAccount(n), rpc_url, chain_id)
    }

    /// A local Ocean node's own key (held in memory by the node process).
    pub fn from_node_key(key: PrivateKeySigner, rpc_url: &str, chain_id: u64) -> Result<Self> {
        Self::build(key, KeySource::NodeKey, rpc_url, chain_id)
    }

    /// The address of anvil development account `n`, without a connection.
    pub fn dev_address(n: usize) -> Option<Address> {
        ANVIL_KEYS.get(n).and_then(|k| k.parse::<PrivateKeySigner>().ok()).map(|k| k.address())
    }

    /// A hex private key from the environment variable `var` (value read by the caller).
    pub fn from_env_value(var: &str, value: &str, rpc_url: &str, chain_id: u64) -> Result<Self> {
        let key = parse_key(value).ok_or_else(|| {
            OceanError::input(format!("${var} is not a 32-byte hex private key (the value is not shown)"))
        })?;
        Self::build(key, KeySource::Env(var.to_string()), rpc_url, chain_id)
    }

    /// Unlock an encrypted keystore file. A keystore or keystore folder that others could read
    /// is made private first (file 0600, folder 0700), with a one-line notice on stderr.
    pub fn from_keystore(path: &Path, password: &str, rpc_url: &str, chain_id: u64) -> Result<Self> {
        if !path.is_file() {
            return Err(OceanError::input(format!(
                "keystore {} does not exist (create one with `%wallet create`)",
                path.display()
            )));
        }
        for notice in make_keystore_private(path)? {
            eprintln!("kelp: {notice}");
        }
        let key = PrivateKeySigner::decrypt_keystore(path, password).map_err(|_| {
            OceanError::input(format!("cannot unlock keystore {}: wrong password or damaged file", path.display()))
        })?;
        Self::build(key, KeySource::Keystore(path.to_path_buf()), rpc_url, chain_id)
    }

    /// Create a keystore file `dir/name.json` for `key` (a new random key when `None`),
    /// encrypted with `password`. Returns the file's path and the account address.
    ///
    /// The folder is made private (0700, created so); the file is created 0600 in a private
    /// temporary folder inside it, written there, and linked into place only when complete, so
    /// `name.json` never exists half-written or readable by others, and an existing one is never
    /// replaced.
    pub fn write_keystore(dir: &Path, name: &str, key_hex: Option<&str>, password: &str) -> Result<(PathBuf, Address)> {
        if password.is_empty() {
            return Err(OceanError::input("the keystore password is empty; set one"));
        }
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(OceanError::input(format!("bad keystore name `{name}`: use letters, digits, - and _")));
        }
        let path = dir.join(format!("{name}.json"));
        if path.exists() {
            return Err(OceanError::input(format!("keystore {} already exists; pick another name", path.display())));
        }
        let secret: [u8; 32] = match key_hex {
            Some(h) => parse_key(h)
                .ok_or_else(|| OceanError::input("the key to import is not a 32-byte hex private key"))?
                .to_bytes()
                .into(),
            None => PrivateKeySigner::random().to_bytes().into(),
        };
        if let Some(notice) = private_dir(dir)? {
            eprintln!("kelp: {notice}");
        }
        let tmp = TempDir::create(dir, name)?;
        let file_name = format!("{name}.json");
        let staged = tmp.0.join(&file_name);
        create_private_file(&staged)?;
        let mut rng = alloy::signers::k256::elliptic_curve::rand_core::OsRng;
        // Writes into the 0600 file created above (it opens it truncating, keeping its mode).
        let (signer, _) = PrivateKeySigner::encrypt_keystore(&tmp.0, &mut rng, secret, password, Some(&file_name))
            .map_err(|e| OceanError::devnet(format!("cannot write keystore in {}: {e}", dir.display())))?;
        std::fs::hard_link(&staged, &path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                OceanError::input(format!("keystore {} already exists; pick another name", path.display()))
            }
            _ => OceanError::io(&path, e),
        })?;
        Ok((path, signer.address()))
    }

    /// Where the key came from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The account address (no I/O).
    pub fn account(&self) -> Address {
        self.key.address()
    }
}

/// Make an existing keystore and its folder private (file 0600, folder 0700). Returns one notice
/// per mode changed.
pub fn make_keystore_private(path: &Path) -> Result<Vec<String>> {
    let mut notices = Vec::new();
    if let Some(dir) = path.parent() {
        notices.extend(tighten(dir, 0o700)?);
    }
    notices.extend(tighten(path, 0o600)?);
    Ok(notices)
}

/// Create `dir` (its parents as usual) as a private folder, or tighten an existing one to 0700.
fn private_dir(dir: &Path) -> Result<Option<String>> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| OceanError::io(parent, e))?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => tighten(dir, 0o700),
        Err(e) => Err(OceanError::io(dir, e)),
    }
}

/// Remove group and other permissions beyond `mode`; a notice when something changed.
fn tighten(path: &Path, mode: u32) -> Result<Option<String>> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path).map_err(|e| OceanError::io(path, e))?.permissions().mode() & 0o777;
    if current & !mode == 0 {
        return Ok(None);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| OceanError::io(path, e))?;
    Ok(Some(format!("{} was open to others (mode {current:o}); made it {mode:o}", path.display())))
}

fn create_private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| OceanError::io(path, e))
}

/// A private (0700) staging folder inside the keystore folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn create(dir: &Path, name: &str) -> Result<TempDir> {
        use std::os::unix::fs::DirBuilderExt;
        let nonce: u64 = rand_u64();
        let path = dir.join(format!(".{name}.tmp-{}-{nonce:016x}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&path).map_err(|e| OceanError::io(&path, e))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_u64() -> u64 {
    use alloy::signers::k256::elliptic_curve::rand_core::RngCore;
    alloy::signers::k256::elliptic_curve::rand_core::OsRng.next_u64()
}

fn parse_key(s: &str) -> Option<PrivateKeySigner> {
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.len() != 64 {
        return None;
    }
    s.parse().ok()
}

#[async_trait]
impl Signer for LocalKeySigner {
    async fn address(&self) -> Result<Address> {
        Ok(self.key.address())
    }

    async fn chain_id(&self) -> Result<u64> {
        Ok(self.chain_id)
    }

    async fn send_transaction(&self, tx: TransactionRequest, summary: &TxSummary) -> Result<TxHash> {
        if summary.chain_id != self.chain_id {
            return Err(OceanError::WrongChain { expected: summary.chain_id, got: self.chain_id });
        }
        let tx = tx.with_from(self.key.address()).with_chain_id(self.chain_id);
        let pending = self
            .provider
            .send_transaction(tx)
            .await
            .map_err(|e| rpc::decode_rpc_error(&e, &summary.method, &self.rpc_url))?;
        Ok(*pending.tx_hash())
    }

    async fn personal_sign(&self, message: &[u8]) -> Result<Signature> {
        self.key.sign_message(message).await.map_err(|e| OceanError::Rejected(format!("local signing failed: {e}")))
    }

    async fn sign_typed_data(&self, typed_data: &serde_json::Value) -> Result<Signature> {
        let typed: alloy::dyn_abi::TypedData = serde_json::from_value(typed_data.clone())
            .map_err(|e| OceanError::input(format!("not EIP-712 typed data: {e}")))?;
        self.key
            .sign_dynamic_typed_data(&typed)
            .await
            .map_err(|e| OceanError::Rejected(format!("local signing failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{address, keccak256};

    const RPC: &str = "http://127.0.0.1:1";

    #[test]
    fn dev_accounts_match_anvils_addresses() {
        assert_eq!(LocalKeySigner::dev_address(0), Some(address!("f39fd6e51aad88f6f4ce6ab8827279cfffb92266")));
        assert_eq!(LocalKeySigner::dev_address(1), Some(address!("70997970c51812dc3a010c7d01b50e0d17dc79c8")));
        assert_eq!(LocalKeySigner::dev_address(10), None);
    }

    #[tokio::test]
    async fn personal_sign_recovers_to_the_address_and_debug_hides_the_key() {
        let s = LocalKeySigner::dev_account(1, RPC, 8996).unwrap();
        let msg = keccak256(b"0x70997970c51812dc3a010c7d01b50e0d17dc79c81download");
        let sig = s.personal_sign(msg.as_slice()).await.unwrap();
        assert_eq!(sig.recover_address_from_msg(msg.as_slice()).unwrap(), s.address().await.unwrap());
        let dbg = format!("{s:?}");
        assert!(dbg.contains("70997970") && !dbg.contains(ANVIL_KEYS[1]), "{dbg}");
    }

    #[tokio::test]
    async fn typed_data_signature_recovers() {
        let s = LocalKeySigner::dev_account(2, RPC, 8996).unwrap();
        let doc = serde_json::json!({
            "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
                      "Mail": [{"name": "contents", "type": "string"}]},
            "primaryType": "Mail",
            "domain": {"name": "kelp", "chainId": 8996},
            "message": {"contents": "hello"}
        });
        let sig = s.sign_typed_data(&doc).await.unwrap();
        let typed: alloy::dyn_abi::TypedData = serde_json::from_value(doc).unwrap();
        let hash = typed.eip712_signing_hash().unwrap();
        assert_eq!(sig.recover_address_from_prehash(&hash).unwrap(), s.account());
        let bad = s.sign_typed_data(&serde_json::json!({"x": 1})).await.unwrap_err();
        assert!(bad.to_string().contains("EIP-712"), "{bad}");
    }

    #[test]
    fn keystore_round_trip_and_wrong_password() {
        let dir = tempfile::tempdir().unwrap();
        let key = ANVIL_KEYS[3];
        let (path, addr) = LocalKeySigner::write_keystore(dir.path(), "main", Some(key), "pw").unwrap();
        assert_eq!(Some(addr), LocalKeySigner::dev_address(3));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(key), "keystore holds the key in clear");
        let s = LocalKeySigner::from_keystore(&path, "pw", RPC, 8996).unwrap();
        assert_eq!(s.account(), addr);
        let e = LocalKeySigner::from_keystore(&path, "nope", RPC, 8996).unwrap_err().to_string();
        assert!(e.contains("wrong password"), "{e}");
        let e = LocalKeySigner::write_keystore(dir.path(), "main", None, "pw").unwrap_err().to_string();
        assert!(e.contains("already exists"), "{e}");
    }

    #[test]
    fn env_key_errors_never_echo_the_value() {
        let e = LocalKeySigner::from_env_value(ENV_PRIVATE_KEY, "0xdeadbeefsecret", RPC, 1).unwrap_err().to_string();
        assert!(e.contains(ENV_PRIVATE_KEY) && !e.contains("deadbeef"), "{e}");
        let s = LocalKeySigner::from_env_value(ENV_PRIVATE_KEY, &format!("0x{}", ANVIL_KEYS[0]), RPC, 1).unwrap();
        assert_eq!(Some(s.account()), LocalKeySigner::dev_address(0));
    }

    #[tokio::test]
    async fn wrong_chain_is_refused_before_sending() {
        let s = LocalKeySigner::dev_account(0, RPC, 8996).unwrap();
        let summary = TxSummary::call(1, "X", Address::ZERO, "f");
        let e = s.send_transaction(TransactionRequest::default(), &summary).await.unwrap_err();
        assert!(matches!(e, OceanError::WrongChain { expected: 1, got: 8996 }), "{e}");
    }
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_keystore_is_0600_in_a_0700_folder_and_nothing_else_is_left() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("ocean").join("keystore");
        let (path, _) = LocalKeySigner::write_keystore(&dir, "main", Some(ANVIL_KEYS[4]), "pw").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700);
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("main.json")], "staging folder left behind");
    }

    #[test]
    fn an_existing_open_folder_is_tightened_on_create_and_an_open_keystore_on_load() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("keystore");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (path, addr) = LocalKeySigner::write_keystore(&dir, "old", Some(ANVIL_KEYS[5]), "pw").unwrap();
        assert_eq!(mode(&dir), 0o700);
        // A keystore written by an older kelp (or copied in): world-readable in an open folder.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let notices = make_keystore_private(&path).unwrap();
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert!(notices[0].contains("755") && notices[1].contains("644"), "{notices:?}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let s = LocalKeySigner::from_keystore(&path, "pw", RPC, 8996).unwrap();
        assert_eq!(s.account(), addr);
        assert_eq!((mode(&path), mode(&dir)), (0o600, 0o700));
        assert!(make_keystore_private(&path).unwrap().is_empty(), "already private: nothing to say");
    }
}
