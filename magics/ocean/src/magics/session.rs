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
            Ok(Arc::new(BrowserSigner::new(relay, ctx, &net.name, net.chain_id)))
        }
        Some(SignerChoice::Local) => local(ctx, net, account),
        None => {
            let configured = ctx.env.get(ENV_PRIVATE_KEY).is_some_and(|v| !v.is_empty())
                || account.is_some()
                || ctx.env.get(ENV_KEYSTORE).is_some_and(|v| !v.is_empty());
            if !configured && let Some(b) = BrowserSigner::discover(ctx, &net.name, net.chain_id).await {
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
