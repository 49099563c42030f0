//! Finding the programs and files kelp-ocean runs on: the `anvil` binary and the Ocean
//! contract artifacts of npm `@oceanprotocol/contracts` (installed by `kelp devnet setup` or, in a
//! checkout, `install/setup.d/40-ocean.sh`; never copied into the repository), and reading
//! contract bytecode from those artifacts.
//!
//! Lookup order: the environment variable (`KELP_ANVIL`, `KELP_OCEAN_ARTIFACTS`), then
//! `$KELP_HOME/tools/chain/node_modules/…` (what `kelp devnet setup` writes), then
//! `install/.tools/chain/node_modules/…` above the running executable, the working directory and
//! this crate's source tree.

use crate::error::{OceanError, Result};
use alloy::primitives::Bytes;
use std::path::{Path, PathBuf};

/// Environment variable naming the anvil binary.
pub const ENV_ANVIL: &str = "KELP_ANVIL";
/// Environment variable naming the `@oceanprotocol/contracts` package directory (the one holding
/// `artifacts/` and `addresses/`).
pub const ENV_ARTIFACTS: &str = "KELP_OCEAN_ARTIFACTS";

/// anvil's path inside a chain-tools npm prefix.
pub const ANVIL_IN_CHAIN: &str = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";
/// The contracts package's path inside a chain-tools npm prefix.
pub const CONTRACTS_IN_CHAIN: &str = "node_modules/@oceanprotocol/contracts";
/// The chain-tools npm prefix inside a checkout.
const CHAIN_IN_REPO: &str = "install/.tools/chain";
const INSTALL_HINT: &str =
    "run `kelp devnet setup` (it installs anvil and the contracts from npm into $KELP_HOME/tools/chain)";

/// Where the chain tools are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    pub anvil: PathBuf,
    /// The `@oceanprotocol/contracts` package directory.
    pub contracts: PathBuf,
}

impl Tools {
    /// Locate anvil and the artifacts; `env` reads an environment variable.
    pub fn locate(env: impl Fn(&str) -> Option<String>) -> Result<Tools> {
        let anvil = find(&env, ENV_ANVIL, ANVIL_IN_CHAIN, |p| p.is_file()).ok_or_else(|| OceanError::Missing {
            what: "anvil".into(),
            hint: format!("set {ENV_ANVIL} or {INSTALL_HINT}"),
        })?;
        let contracts =
            find(&env, ENV_ARTIFACTS, CONTRACTS_IN_CHAIN, |p| p.join("artifacts").is_dir()).ok_or_else(|| {
                OceanError::Missing {
                    what: "Ocean contract artifacts".into(),
                    hint: format!("set {ENV_ARTIFACTS} to the @oceanprotocol/contracts directory or {INSTALL_HINT}"),
                }
            })?;
        Ok(Tools { anvil, contracts })
    }

    /// The npm package version of the contracts (from its package.json).
    pub fn contracts_version(&self) -> Result<String> {
        let path = self.contracts.join("package.json");
        let text = std::fs::read_to_string(&path).map_err(|e| OceanError::io(&path, e))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| OceanError::devnet(format!("{}: not JSON ({e})", path.display())))?;
        Ok(v["version"].as_str().unwrap_or("unknown").to_string())
    }

    /// Creation bytecode of an artifact, e.g. `pools/FactoryRouter.sol/FactoryRouter`.
    pub fn bytecode(&self, artifact: &str) -> Result<Bytes> {
        let path = self.contracts.join("artifacts/contracts").join(format!("{artifact}.json"));
        let text = std::fs::read_to_string(&path).map_err(|e| OceanError::io(&path, e))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| OceanError::devnet(format!("{}: not a contract artifact ({e})", path.display())))?;
        let hex = v["bytecode"].as_str().unwrap_or("");
        let bytes = alloy::hex::decode(hex)
            .map_err(|e| OceanError::devnet(format!("{}: bad bytecode ({e})", path.display())))?;
        if bytes.is_empty() {
            return Err(OceanError::devnet(format!("{}: empty bytecode (an interface?)", path.display())));
        }
        Ok(bytes.into())
    }

    /// Ocean's published `addresses/address.json` (networks by name).
    pub fn published_addresses(&self) -> Result<serde_json::Value> {
        let path = self.contracts.join("addresses/address.json");
        let text = std::fs::read_to_string(&path).map_err(|e| OceanError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| OceanError::devnet(format!("{}: not JSON ({e})", path.display())))
    }
}

fn find(env: &impl Fn(&str) -> Option<String>, var: &str, rel: &str, ok: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    if let Some(v) = env(var).filter(|v| !v.is_empty()) {
        // An explicit setting wins even when wrong: the error then names it.
        let p = PathBuf::from(v);
        return ok(&p).then_some(p);
    }
    chain_dirs(env).into_iter().map(|dir| dir.join(rel)).find(|p| ok(p))
}

/// Where `kelp devnet setup` installs under a kelp home: `HOME/tools/chain`.
pub fn chain_dir(home: &Path) -> PathBuf {
    home.join("tools").join("chain")
}

/// npm prefixes that may hold the chain tools: `$KELP_HOME/tools/chain`, then `install/.tools/chain`
/// under the ancestors of the executable and of the working directory, then under this crate's
/// source tree (development builds and tests).
fn chain_dirs(env: &impl Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let home = env("KELP_HOME").filter(|v| !v.is_empty()).map(PathBuf::from);
    let home = home.unwrap_or_else(|| kelp_magic::Config::from_env().home);
    let mut dirs = vec![chain_dir(&home)];
    dirs.extend(candidates_roots().into_iter().map(|root| root.join(CHAIN_IN_REPO)));
    dirs
}

/// Directories that may be the project root: ancestors of the executable and of the working
/// directory, then this crate's source tree.
fn candidates_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    roots.extend(Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().map(Path::to_path_buf));
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_env_that_points_nowhere_is_an_error_naming_the_variable() {
        let e = Tools::locate(|v| (v == ENV_ANVIL).then(|| "/nonexistent/anvil".to_string())).unwrap_err();
        let s = e.to_string();
        assert!(s.contains("anvil not found") && s.contains(ENV_ANVIL), "{s}");
        assert!(s.contains("kelp devnet setup"), "the error names the command that installs anvil: {s}");
    }

    #[test]
    fn tools_under_kelp_home_are_found_first() {
        let home = tempfile::tempdir().unwrap();
        let chain = chain_dir(home.path());
        std::fs::create_dir_all(chain.join(ANVIL_IN_CHAIN).parent().unwrap()).unwrap();
        std::fs::write(chain.join(ANVIL_IN_CHAIN), b"").unwrap();
        std::fs::create_dir_all(chain.join(CONTRACTS_IN_CHAIN).join("artifacts")).unwrap();
        let h = home.path().to_string_lossy().to_string();
        let t = Tools::locate(|v| (v == "KELP_HOME").then(|| h.clone())).unwrap();
        assert_eq!(t.anvil, chain.join(ANVIL_IN_CHAIN));
        assert_eq!(t.contracts, chain.join(CONTRACTS_IN_CHAIN));
    }
}
