//! What `%publish`, `%ocean` and `%wallet` share: picking the network and the signer for a call.
//!
//! Network: `--network`, else `$KELP_NETWORK` (what `%wallet switch` sets for the session), else
//! the devnet (started on first use). Signer: `--signer browser` asks the browser wallet through
//! the JupyterLab relay ([`BrowserSigner`]); `--signer local` or no flag, first match:
//! `$KELP_PRIVATE_KEY` (CI); `--account N` on the devnet (anvil's public dev keys); `$KELP_KEYSTORE`
//! (a keystore name under `$KELP_HOME/ocean/keystore`, unlocked with `$KELP_KEYSTORE_PASSWORD`);
//! then, with no flag only, the browser wallet when a relay answers and a browser is there (a
//! wallet connected or a browser listening); on the devnet, account #0.

use crate::error::{OceanError, Result};
use crate::network::{Network, Resolver};
use crate::signer::{BrowserSigner, ENV_PRIVATE_KEY, LocalKeySigner, Signer};
use kelp_magic::MagicContext;
use std::sync::Arc;

/// Session variable holding the default network.
pub const ENV_NETWORK: &str = "KELP_NETWORK";
/// Keystore name to sign with.
pub const ENV_KEYSTORE: &str = "KELP_KEYSTORE";
/// Password of that keystore (never printed).
pub const ENV_KEYSTORE_PASSWORD: &str = "KELP_KEYSTORE_PASSWORD";

/// The keystore directory.
pub fn keystore_dir(ctx: &MagicContext) -> std::path::PathBuf {
    ctx.config.dir("ocean").join("keystore")
}

/// Resolve the network for a call.
pub async fn network(ctx: &MagicContext, flag: Option<&str>) -> Result<Network> {
    let env = ctx.env.clone();
    let lookup = move |v: &str| env.get(v);
    let ocean_dir = ctx.config.dir("ocean");
    let chosen = flag.map(str::to_string).or_else(|| ctx.env.get(ENV_NETWORK));
    Resolver { ocean_dir: &ocean_dir, env: &lookup }.resolve(chosen.as_deref()).await
}

/// The flags every chain-touching magic takes (`%ocean`, `%wallet`; `%publish` can flatten it
/// too): which network, and who signs. Global, so they go before or after the subcommand.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionArgs {
    /// devnet (default), an Ocean network name, or an RPC URL.
    #[arg(long, global = true)]
    pub network: Option<String>,
    /// Devnet test account to act as (0..9).
    #[arg(long, global = true)]
    pub account: Option<usize>,
    /// Who signs: `local` (keystore, $KELP_PRIVATE_KEY, --account) or `browser` (the wallet in
    /// JupyterLab, through kelp-labextension's relay). Default: a configured local key, else the
    /// browser when the relay answers and a wallet is connected, else the devnet's account #0.
    #[arg(long, value_enum, global = true)]
    pub signer: Option<SignerChoice>,
}

impl SessionArgs {
    /// The network these flags (or the session) choose; see [`network`].
    pub async fn network(&self, ctx: &MagicContext) -> Result<Network> {
        network(ctx, self.network.as_deref()).await
    }

    /// The signer these flags choose on `net`; see [`signer`].
    pub async fn signer(&self, ctx: &MagicContext, net: &Network) -> Result<Arc<dyn Signer>> {
        signer(ctx, net, self.account, self.signer).await
    }
}

/// `--signer`: who signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignerChoice {
    /// A local key: $KELP_PRIVATE_KEY, --account, $KELP_KEYSTORE, or the devnet's account #0.
    Local,
    /// The browser wallet (MetaMask…) through the JupyterLab relay of kelp-labextension.
    Browser,
}

/// Pick the signer for a call on `net`: `choice` forces one kind, `None` picks (see module docs).
pub async fn signer(
    ctx: &MagicContext,
    net: &Network,
    account: Option<usize>,
    choice: Option<SignerChoice>,
) -> Result<Arc<dyn Signer>> {
    match choice {
        Some(SignerChoice::Browser) => {
            if account.is_some() {
                return Err(OceanError::input("--account picks a local devnet key; drop it with --signer browser"));
            }
            let relay = kelp_relay::RelayClient::discover(&ctx.env)?.ok_or_else(|| {
                OceanError::input(
                    "--signer browser needs the kelp relay: open the notebook in JupyterLab with kelp-labextension \
                     (./install/run), or set KELP_RELAY_URL and KELP_RELAY_SECRET",
                )
            })?;
            relay.status().await?;
            Ok(Arc::new(BrowserSigner::new(relay, ctx, &net.name, net.chain_id, &net.rpc_url)))
        }
        Some(SignerChoice::Local) => local(ctx, net, account),
        None => {
            let configured = ctx.env.get(ENV_PRIVATE_KEY).is_some_and(|v| !v.is_empty())
                || account.is_some()
                || ctx.env.get(ENV_KEYSTORE).is_some_and(|v| !v.is_empty());
            if !configured && let Some(b) = BrowserSigner::discover(ctx, &net.name, net.chain_id, &net.rpc_url).await {
                return Ok(Arc::new(b));
            }
            local(ctx, net, account)
        }
    }
}

/// The local key for a call on `net`.
fn local(ctx: &MagicContext, net: &Network, account: Option<usize>) -> Result<Arc<dyn Signer>> {
    if let Some(key) = ctx.env.get(ENV_PRIVATE_KEY).filter(|v| !v.is_empty()) {
        return Ok(Arc::new(LocalKeySigner::from_env_value(ENV_PRIVATE_KEY, &key, &net.rpc_url, net.chain_id)?));
    }
    let devnet = net.name == "devnet";
    if let Some(n) = account {
        if !devnet {
            return Err(OceanError::input("--account picks a devnet test account; on other networks use a keystore"));
        }
        return Ok(Arc::new(LocalKeySigner::dev_account(n, &net.rpc_url, net.chain_id)?));
    }
    if let Some(name) = ctx.env.get(ENV_KEYSTORE).filter(|v| !v.is_empty()) {
        let password = ctx.env.get(ENV_KEYSTORE_PASSWORD).unwrap_or_default();
        let path = keystore_dir(ctx).join(format!("{name}.json"));
        return Ok(Arc::new(LocalKeySigner::from_keystore(&path, &password, &net.rpc_url, net.chain_id)?));
    }
    if devnet {
        return Ok(Arc::new(LocalKeySigner::dev_account(0, &net.rpc_url, net.chain_id)?));
    }
    Err(OceanError::input(format!(
        "no signer for {}: set ${ENV_KEYSTORE} (see `%wallet create`) or ${ENV_PRIVATE_KEY}",
        net.name
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Parser, Subcommand};

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        cmd: Cmd,
        #[command(flatten)]
        session: SessionArgs,
    }

    #[derive(Subcommand, Debug)]
    enum Cmd {
        Show { did: String },
    }

    #[test]
    fn session_flags_parse_before_or_after_the_subcommand() {
        let after =
            Cli::try_parse_from(["x", "show", "d", "--network", "sepolia", "--account", "3", "--signer", "local"])
                .unwrap();
        let before =
            Cli::try_parse_from(["x", "--network", "sepolia", "--account", "3", "--signer", "local", "show", "d"])
                .unwrap();
        let want = SessionArgs { network: Some("sepolia".into()), account: Some(3), signer: Some(SignerChoice::Local) };
        assert_eq!((after.session, before.session), (want.clone(), want));
        assert!(matches!(after.cmd, Cmd::Show { did } if did == "d"));
        assert_eq!(Cli::try_parse_from(["x", "show", "d"]).unwrap().session, SessionArgs::default());
        let e = Cli::try_parse_from(["x", "show", "d", "--signer", "carrier-pigeon"]).unwrap_err().to_string();
        assert!(e.contains("carrier-pigeon") && e.contains("browser"), "{e}");
    }
}
