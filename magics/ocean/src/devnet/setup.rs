//! `kelp devnet setup`: installs the devnet's chain tools — anvil and the Ocean v4 contract
//! artifacts, the npm package specs of `chain-npm.txt` (the one place their versions are named;
//! the repository's install/setup.d/40-ocean.sh reads the same file) — from the npm registry into
//! `$KELP_HOME/tools/chain`, where [`crate::tools::Tools::locate`] finds them without a checkout.
//!
//! Idempotent: a stamp file records the spec list, so a second run only checks. Needs `npm` on
//! PATH (or `$KELP_NPM`); without it the error names npm, this command, and the two variables
//! that point kelp at tools installed some other way.

use crate::error::{OceanError, Result};
use crate::tools::{ANVIL_IN_CHAIN, CONTRACTS_IN_CHAIN, ENV_ANVIL, ENV_ARTIFACTS};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The chain tools' npm specs file, compiled in.
const CHAIN_NPM: &str = include_str!("chain-npm.txt");
/// Environment variable naming the npm program to run.
pub const ENV_NPM: &str = "KELP_NPM";

/// The npm package specs of the chain tools (`name@version`), in file order.
pub fn specs() -> Vec<&'static str> {
    CHAIN_NPM.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

/// The version the specs pin for `package` (e.g. `@oceanprotocol/contracts`).
pub fn pinned_version(package: &str) -> Option<&'static str> {
    specs().into_iter().find_map(|s| s.strip_prefix(package)?.strip_prefix('@'))
}

pub use crate::tools::chain_dir;

/// What a setup did (the result of `kelp devnet setup`, also as JSON with `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetupReport {
    /// The npm prefix the tools are in.
    pub dir: PathBuf,
    pub anvil: PathBuf,
    /// The `@oceanprotocol/contracts` package directory.
    pub contracts: PathBuf,
    pub specs: Vec<String>,
    /// False when the same specs were already installed (nothing was fetched).
    pub installed: bool,
}

impl SetupReport {
    /// The one-paragraph text form.
    pub fn text(&self) -> String {
        let what = if self.installed { "installed" } else { "already installed" };
        format!(
            "devnet tools {what} in {}: {}\nanvil: {}\ncontracts: {}",
            self.dir.display(),
            self.specs.join(" "),
            self.anvil.display(),
            self.contracts.display()
        )
    }
}

/// Install the chain tools under `home` (`$KELP_HOME`) unless the same specs already are;
/// `env` reads an environment variable (`KELP_NPM`, `PATH`).
pub fn setup(home: &Path, env: impl Fn(&str) -> Option<String>) -> Result<SetupReport> {
    let dir = chain_dir(home);
    let specs = specs();
    let want = specs.join("\n");
    let stamp = dir.join(".kelp-chain-stamp");
    let anvil = dir.join(ANVIL_IN_CHAIN);
    let contracts = dir.join(CONTRACTS_IN_CHAIN);
    let present = || anvil.is_file() && contracts.join("artifacts").is_dir();
    let report = |installed| SetupReport {
        dir: dir.clone(),
        anvil: anvil.clone(),
        contracts: contracts.clone(),
        specs: specs.iter().map(|s| s.to_string()).collect(),
        installed,
    };
    if present() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == want) {
        return Ok(report(false));
    }
    let npm = find_npm(&env).ok_or_else(|| OceanError::Missing {
        what: "npm".into(),
        hint: format!(
            "`kelp devnet setup` fetches {} from the npm registry with npm: install Node.js (npm), \
             or set {ENV_ANVIL} and {ENV_ARTIFACTS} to tools installed another way",
            specs.join(" ")
        ),
    })?;
    std::fs::create_dir_all(&dir).map_err(|e| OceanError::io(&dir, e))?;
    let manifest = dir.join("package.json");
    if !manifest.is_file() {
        let text = r#"{"name":"kelp-chain-tools","version":"0.0.0","private":true}"#;
        std::fs::write(&manifest, text).map_err(|e| OceanError::io(&manifest, e))?;
    }
    let out = Command::new(&npm)
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
        .arg(&dir)
        .args(&specs)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| OceanError::devnet(format!("could not run {}: {e}", npm.display())))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        return Err(OceanError::devnet(format!(
            "npm install of {} into {} failed ({}): {last}; check the network and run `kelp devnet setup` again",
            specs.join(" "),
            dir.display(),
            out.status
        )));
    }
    if !present() {
        return Err(OceanError::devnet(format!(
            "npm installed {} into {} but {} or {}/artifacts is missing; remove {} and run `kelp devnet setup` again",
            specs.join(" "),
            dir.display(),
            anvil.display(),
            contracts.display(),
            dir.display()
        )));
    }
    std::fs::write(&stamp, &want).map_err(|e| OceanError::io(&stamp, e))?;
    Ok(report(true))
}

/// `$KELP_NPM` if set, else the first `npm` on `$PATH`.
fn find_npm(env: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(p) = env(ENV_NPM).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = env("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("npm")).find(|p| p.is_file())
}

/// `kelp devnet setup [--json]`'s output for the arguments after `setup`: the text (or JSON) to
/// print, or the error line.
pub fn cli(args: &[String], json: bool, home: &Path) -> std::result::Result<String, String> {
    match args.first().map(String::as_str) {
        None => {}
        Some("-h" | "--help") => return Ok(HELP.to_string()),
        Some(other) => return Err(format!("unexpected argument '{other}' for `kelp devnet setup`; see --help")),
    }
    let report = setup(home, |v| std::env::var(v).ok()).map_err(|e| e.to_string())?;
    Ok(if json { serde_json::to_string_pretty(&report).unwrap_or_default() } else { report.text() })
}

const HELP: &str = "Install the devnet's chain tools (anvil and the Ocean contract artifacts) from the npm registry
into $KELP_HOME/tools/chain, where `%devnet up` finds them. Needs npm (Node.js) on PATH or $KELP_NPM.
Idempotent: a second run only checks.

Usage: kelp devnet setup [--json]
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_anvil_and_the_contracts_once_each() {
        let s = specs();
        assert_eq!(s.iter().filter(|s| s.starts_with("@foundry-rs/anvil-linux-amd64@")).count(), 1, "{s:?}");
        assert_eq!(s.iter().filter(|s| s.starts_with("@oceanprotocol/contracts@")).count(), 1, "{s:?}");
        assert!(s.iter().all(|s| !s.contains("cast")), "cast is not a devnet tool: {s:?}");
        assert_eq!(pinned_version("@oceanprotocol/contracts"), Some("2.6.0"));
    }

    #[test]
    fn without_npm_the_error_is_one_line_naming_npm_and_the_variables() {
        let home = tempfile::tempdir().unwrap();
        let empty = tempfile::tempdir().unwrap();
        let path = empty.path().to_string_lossy().to_string();
        let e = setup(home.path(), |v| (v == "PATH").then(|| path.clone())).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.starts_with("npm not found"), "{e}");
        assert!(e.contains(ENV_ANVIL) && e.contains(ENV_ARTIFACTS) && e.contains("@oceanprotocol/contracts@"), "{e}");
        assert!(!chain_dir(home.path()).exists(), "nothing is written when npm is missing");
    }

    #[test]
    fn installed_specs_are_only_checked() {
        let home = tempfile::tempdir().unwrap();
        let dir = chain_dir(home.path());
        std::fs::create_dir_all(dir.join(ANVIL_IN_CHAIN).parent().unwrap()).unwrap();
        std::fs::write(dir.join(ANVIL_IN_CHAIN), b"").unwrap();
        std::fs::create_dir_all(dir.join(CONTRACTS_IN_CHAIN).join("artifacts")).unwrap();
        std::fs::write(dir.join(".kelp-chain-stamp"), specs().join("\n")).unwrap();
        // No npm anywhere: a second run must not need it.
        let r = setup(home.path(), |_| None).unwrap();
        assert!(!r.installed);
        assert_eq!(r.anvil, dir.join(ANVIL_IN_CHAIN));
        // A changed spec list (another stamp) needs npm again.
        std::fs::write(dir.join(".kelp-chain-stamp"), "@oceanprotocol/contracts@0.0.1").unwrap();
        assert!(setup(home.path(), |_| None).unwrap_err().to_string().starts_with("npm not found"));
    }

    #[test]
    fn cli_rejects_unknown_arguments_and_prints_help() {
        let home = tempfile::tempdir().unwrap();
        assert!(cli(&["--help".into()], false, home.path()).unwrap().contains("kelp devnet setup [--json]"));
        let e = cli(&["--fast".into()], false, home.path()).unwrap_err();
        assert!(e.contains("'--fast'"), "{e}");
    }
}
