//! `%wallet [show|send|switch|create|import]`: the signing account, its balances, transfers,
//! the session's network, and encrypted keystores.

use super::results::wallet::{Keystore, Sent, Show, Switch, TokenBalance};
use crate::chain;
use crate::contracts::IERC20;
use crate::error::OceanError;
use crate::session::{self, ENV_KEYSTORE, ENV_KEYSTORE_PASSWORD, ENV_NETWORK, SessionArgs};
use crate::signer::{LocalKeySigner, TxSummary};
use alloy::network::TransactionBuilder;
use alloy::primitives::{
    Address, U256,
    utils::{format_ether, parse_ether},
};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use async_trait::async_trait;
use clap::{CommandFactory, Parser, Subcommand};
use kelp_magic::{Magic, MagicCall, MagicContext, MagicResult, Output, Result, RustValue, parse_args};
use std::time::Duration;

/// Environment variable with the hex key `%wallet import` encrypts (never printed).
pub const ENV_IMPORT_KEY: &str = "KELP_IMPORT_KEY";

#[derive(Parser, Debug)]
#[command(name = "wallet", about = "The signing account: balances, transfers, network, keystores")]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    session: SessionArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Address, chain, ETH and OCEAN balances (and any --token).
    Show {
        /// Extra ERC-20 token addresses to show balances of.
        #[arg(long)]
        token: Vec<Address>,
    },
    /// Send ETH or tokens.
    Send {
        to: Address,
        /// Amount in whole units (18 decimals), e.g. 1.5.
        amount: String,
        /// ETH (default), OCEAN, or a token address.
        #[arg(long, default_value = "ETH")]
        token: String,
    },
    /// Use NETWORK for the rest of the session.
    Switch { name: String },
    /// Create a new key in an encrypted keystore (password from $KELP_KEYSTORE_PASSWORD).
    Create { name: String },
    /// Encrypt the key in $KELP_IMPORT_KEY into a keystore (password from $KELP_KEYSTORE_PASSWORD).
    Import { name: String },
}

/// The `%wallet` magic.
#[derive(Debug, Default)]
pub struct WalletMagic;

#[async_trait]
impl Magic for WalletMagic {
    fn name(&self) -> &'static str {
        "wallet"
    }
    fn summary(&self) -> &'static str {
        "signing account: balances, send, switch network, keystores"
    }
    fn command(&self) -> clap::Command {
        Cli::command()
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> Result<Output> {
        let cli: Cli = parse_args(self.command(), &call)?;
        match cli.cmd.unwrap_or(Cmd::Show { token: vec![] }) {
            Cmd::Create { name } => keystore(ctx, &name, None),
            Cmd::Import { name } => {
                let key = ctx.env.get(ENV_IMPORT_KEY).filter(|k| !k.is_empty()).ok_or_else(|| {
                    OceanError::input(format!("set ${ENV_IMPORT_KEY} to the hex key to import (it is never shown)"))
                })?;
                keystore(ctx, &name, Some(&key))
            }
            Cmd::Switch { name } => {
                let net = session::network(ctx, Some(&name)).await?;
                ctx.env.set(ENV_NETWORK, Some(name.clone()));
                Ok(Switch::new(&net.name, net.chain_id, &net.rpc_url).output())
            }
            Cmd::Show { token } => {
                let net = cli.session.network(ctx).await?;
                let signer = cli.session.signer(ctx, &net).await?;
                let me = signer.address().await?;
                let eth = net
                    .provider
                    .get_balance(me)
                    .await
                    .map_err(|e| chain::decode_rpc_error(&e, "eth_getBalance", &net.rpc_url))?;
                let mut tokens = vec![TokenBalance {
                    symbol: "OCEAN".into(),
                    address: net.addresses.ocean,
                    balance: format_ether(balance(&net, net.addresses.ocean, me).await?),
                }];
                for t in token {
                    let symbol = IERC20::new(t, &net.provider).symbol().call().await.unwrap_or_else(|_| "?".into());
                    tokens.push(TokenBalance {
                        symbol,
                        address: t,
                        balance: format_ether(balance(&net, t, me).await?),
                    });
                }
                let r = Show::new(me, &net.name, net.chain_id, format_ether(eth), tokens);
                Ok(r.output().with_value(RustValue::string(&me.to_string())))
            }
            Cmd::Send { to, amount, token } => {
                let wei = parse_ether(&amount)
                    .map_err(|_| OceanError::input(format!("bad amount `{amount}`: use a number like 1.5")))?;
                if wei.is_zero() {
                    return Err(OceanError::input("the amount is 0; nothing to send").into());
                }
                let net = cli.session.network(ctx).await?;
                let signer = cli.session.signer(ctx, &net).await?;
                let (tx, summary) = if token.eq_ignore_ascii_case("eth") {
                    (
                        TransactionRequest::default().with_to(to).with_value(wei),
                        TxSummary::call(net.chain_id, "account", to, "transfer ETH").value(wei),
                    )
                } else {
                    let addr = if token.eq_ignore_ascii_case("ocean") {
                        net.addresses.ocean
                    } else {
                        token
                            .parse()
                            .map_err(|_| OceanError::input(format!("bad token `{token}`: ETH, OCEAN or an address")))?
                    };
                    let have = balance(&net, addr, signer.address().await?).await?;
                    if have < wei {
                        return Err(OceanError::NoFunds(format!(
                            "sending {amount} needs {amount}, the account has {}",
                            format_ether(have)
                        ))
                        .into());
                    }
                    let call = IERC20::transferCall { to, amount: wei };
                    (
                        TransactionRequest::default().with_to(addr).with_input(call.abi_encode()),
                        TxSummary::call(net.chain_id, token.clone(), addr, "transfer")
                            .arg("to", to)
                            .arg("amount", &amount),
                    )
                };
                let r = chain::transact(signer.as_ref(), &net.provider, tx, &summary, Duration::from_secs(120)).await?;
                Ok(Sent { to, amount, token, tx: r.transaction_hash, gas: r.gas_used }.output())
            }
        }
    }
}

async fn balance(net: &crate::network::Network, token: Address, who: Address) -> std::result::Result<U256, OceanError> {
    IERC20::new(token, &net.provider)
        .balanceOf(who)
        .call()
        .await
        .map_err(|e| OceanError::Rpc(format!("balanceOf: {e}")))
}

fn keystore(ctx: &MagicContext, name: &str, key: Option<&str>) -> Result<Output> {
    let password = ctx.env.get(ENV_KEYSTORE_PASSWORD).filter(|p| !p.is_empty()).ok_or_else(|| {
        OceanError::input(format!(
            "set ${ENV_KEYSTORE_PASSWORD} first (e.g. %env {ENV_KEYSTORE_PASSWORD}=…); it is never shown"
        ))
    })?;
    let (path, address) = LocalKeySigner::write_keystore(&session::keystore_dir(ctx), name, key, &password)?;
    ctx.env.set(ENV_KEYSTORE, Some(name.to_string()));
    Ok(Keystore { name: name.to_string(), path, address }.output().with_value(RustValue::string(&address.to_string())))
}
