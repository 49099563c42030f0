//! Paid compute through Ocean's Escrow on the real devnet (anvil + the Ocean contracts from npm,
//! Escrow included + the node process with its bubblewrap engine), driven through `%c2d` as the
//! kernel registers it. Needs bubblewrap (install/setup.d/50-c2d.sh): fails, never skips.

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use kelp_magic::Magic;
use kelp_magic::testing::Cell;
use kelp_ocean::compute::escrow::{self, Quote};
use kelp_ocean::contracts::{IERC20, IEscrow, IRouter};
use kelp_ocean::error::OceanError;
use kelp_ocean::journal::Journal;
use kelp_ocean::network::{Network, Resolver};
use kelp_ocean::publish::{self, AssetType, ComputeOptions};
use kelp_ocean::signer::{LocalKeySigner, Signer, TxSummary};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common;
use common::{Cleanup, serve};

const DATA: &[u8] = b"name,secret\nalice,SECRET-1\nbob,SECRET-2\n";
/// Counts the dataset's lines into outputs/lines.txt.
const COUNT: &[u8] =
    b"set -e\nf=$(ls -d /data/inputs/did:op:*/0 | head -n 1)\nwc -l < \"$f\" | tr -d ' ' > /data/outputs/lines.txt\n";
const OCEAN: u64 = 1_000_000_000_000_000_000;

use common::shell_spec as spec;

/// A wallet that refuses every `approve` (and signs anything else with its key).
#[derive(Debug)]
struct RefusesApprove(LocalKeySigner);

#[async_trait::async_trait]
impl Signer for RefusesApprove {
    async fn address(&self) -> kelp_ocean::error::Result<Address> {
        self.0.address().await
    }
    async fn chain_id(&self) -> kelp_ocean::error::Result<u64> {
        self.0.chain_id().await
    }
    async fn send_transaction(
        &self,
        tx: TransactionRequest,
        summary: &TxSummary,
    ) -> kelp_ocean::error::Result<alloy::primitives::TxHash> {
        if summary.method == "approve" {
            return Err(OceanError::Rejected("User rejected the request.".into()));
        }
        self.0.send_transaction(tx, summary).await
    }
    async fn personal_sign(&self, message: &[u8]) -> kelp_ocean::error::Result<alloy::primitives::Signature> {
        self.0.personal_sign(message).await
    }
    async fn sign_typed_data(&self, typed: &Value) -> kelp_ocean::error::Result<alloy::primitives::Signature> {
        self.0.sign_typed_data(typed).await
    }
}

async fn nonce(net: &Network, a: Address) -> u64 {
    net.provider.get_transaction_count(a).await.unwrap()
}

async fn ocean_of(net: &Network, a: Address) -> U256 {
    IERC20::new(net.addresses.ocean, &net.provider).balanceOf(a).call().await.unwrap()
}

#[tokio::test]
async fn paid_environment_pays_through_escrow_and_bad_inputs_send_nothing() {
    kelp_c2d::sandbox::bwrap_path().expect("bubblewrap is required: run install/setup (setup.d/50-c2d.sh)");
    let home = tempfile::tempdir().unwrap();
    let ocean_dir = home.path().join("ocean");
    let _cleanup = Cleanup(kelp_ocean::devnet::DevnetPaths::new(&ocean_dir));
    let port = kelp_ocean::devnet::process::free_port().unwrap();
    let ctx =
        Cell::at(home.path(), [Arc::new(kelp_ocean::compute::c2d_magic()) as Arc<dyn Magic>]).with_home(home.path());
    common::set_devnet_env(&ctx, port);
    let env = ctx.env.clone();
    let lookup = move |v: &str| env.get(v);
    let net = Resolver { ocean_dir: &ocean_dir, env: &lookup }.resolve(None).await.expect("devnet starts");

    // Escrow is deployed from the npm artifacts and listed in address.json like Ocean's own.
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(ocean_dir.join("address.json")).unwrap()).unwrap();
    let escrow_addr: Address =
        raw["development"]["Escrow"].as_str().expect("address.json lists Escrow").parse().unwrap();
    assert_eq!(net.addresses.escrow, Some(escrow_addr));
    assert!(!net.provider.get_code_at(escrow_addr).await.unwrap().is_empty(), "no contract at Escrow");
    let esc = IEscrow::new(escrow_addr, &net.provider);

    let files = serve(vec![("data.csv", DATA), ("count.sh", COUNT)]).await;
    let journal = Journal::new(&ocean_dir);
    let publisher = LocalKeySigner::dev_account(0, &net.rpc_url, net.chain_id).unwrap();
    let mut quiet = |_: &str| {};
    let algo = publish::publish(
        &net,
        &publisher,
        &spec("Counter", AssetType::Algorithm, format!("{files}/count.sh")),
        &journal,
        &mut quiet,
    )
    .await
    .unwrap();
    let trust = ComputeOptions { trusted_algorithms: vec![algo.did.clone()], ..ComputeOptions::default() };
    let data = spec("Secret rows", AssetType::Dataset, format!("{files}/data.csv"));
    let ds = publish::publish_with(&net, &publisher, &data, Some(&trust), &journal, &mut quiet).await.unwrap();

    // %c2d envs: the node's free environment and its paid twin, priced in OCEAN.
    let out = ctx.run("c2d envs").await.unwrap();
    let envs = out.json().unwrap()["environments"].as_array().unwrap().clone();
    let paid = envs
        .iter()
        .find(|e| e["price"] == "cpu 1 OCEAN/min")
        .unwrap_or_else(|| panic!("no paid environment: {envs:?}"))
        .clone();
    let paid_id = paid["id"].as_str().unwrap().to_string();
    let node: Address = paid["consumerAddress"].as_str().unwrap().parse().unwrap();
    assert_eq!(paid["fees"][net.chain_id.to_string()][0]["feeToken"], net.addresses.ocean.to_checksum(None));
    assert!(envs.iter().any(|e| e["where"] == "node" && e["price"] == "free"), "{envs:?}");

    // Not enough OCEAN: account 3 keeps half an OCEAN; one line, and no transaction at all.
    let poor = LocalKeySigner::dev_account(3, &net.rpc_url, net.chain_id).unwrap();
    let poor_addr = poor.account();
    let keep = U256::from(OCEAN / 2);
    let give = IERC20::transferCall { to: publisher.account(), amount: ocean_of(&net, poor_addr).await - keep };
    let tx = TransactionRequest::default().with_to(net.addresses.ocean).with_input(give.abi_encode());
    let s = TxSummary::call(net.chain_id, "OCEAN", net.addresses.ocean, "transfer");
    kelp_ocean::chain::transact(&poor, &net.provider, tx, &s, Duration::from_secs(30)).await.unwrap();
    let before = nonce(&net, poor_addr).await;
    let line =
        format!("c2d start --dataset {} --algorithm {} --env {paid_id} --account 3 --timeout 5m", ds.did, algo.did);
    let err = ctx.run(&line).await.unwrap_err().to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("up to 5 OCEAN") && err.contains("has 0.5 OCEAN") && err.contains("pick a free environment"),
        "{err}"
    );
    assert_eq!(nonce(&net, poor_addr).await, before, "a transaction was sent");

    // The escrow allowance refused in the wallet: one line, nothing sent, nothing deposited.
    let refuser = RefusesApprove(LocalKeySigner::dev_account(2, &net.rpc_url, net.chain_id).unwrap());
    let who = refuser.0.account();
    let quote = Quote {
        escrow: escrow_addr,
        payee: node,
        token: net.addresses.ocean,
        amount: U256::from(5 * OCEAN),
        min_lock_seconds: 3900,
    };
    let before = nonce(&net, who).await;
    let e = escrow::prepare(&net, &refuser, &quote, &mut |_| {}).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, OceanError::Rejected(_)), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("the escrow allowance was refused in the wallet") && text.contains("no datatoken was ordered"),
        "{text}"
    );
    assert_eq!(nonce(&net, who).await, before, "a transaction was sent");
    assert_eq!(esc.getUserFunds(who, net.addresses.ocean).call().await.unwrap().available, U256::ZERO);

    // A paid job: 5 minutes asked → 5 OCEAN deposited and locked; it runs under a minute, so the
    // node claims 1 OCEAN (less the OPC fee it passes on) and 4 OCEAN stay the payer's in Escrow.
    let payer = LocalKeySigner::dev_account(1, &net.rpc_url, net.chain_id).unwrap().account();
    let (wallet_before, node_before) = (ocean_of(&net, payer).await, ocean_of(&net, node).await);
    let line = format!(
        "c2d start --dataset {} --algorithm {} --env {paid_id} --account 1 --timeout 5m --wait",
        ds.did, algo.did
    );
    let out = ctx.run(&line).await.unwrap();
    let j = out.json().unwrap().clone();
    assert_eq!((j["status"].as_u64(), j["ok"].as_bool()), (Some(70), Some(true)), "{j}");
    assert_eq!(wallet_before - ocean_of(&net, payer).await, U256::from(5 * OCEAN), "the deposit");
    let deadline = Instant::now() + Duration::from_secs(60);
    let funds = loop {
        let f = esc.getUserFunds(payer, net.addresses.ocean).call().await.unwrap();
        if f.locked.is_zero() || Instant::now() > deadline {
            break f;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((funds.available, funds.locked), (U256::from(4 * OCEAN), U256::ZERO), "claimed 1 OCEAN of 5");
    let fee = IRouter::new(net.addresses.router, &net.provider).getOPCFee(net.addresses.ocean).call().await.unwrap();
    let claimed = U256::from(OCEAN);
    let payout = claimed - claimed * fee / U256::from(OCEAN);
    assert_eq!(ocean_of(&net, node).await - node_before, payout, "the node's claim, withdrawn");
    let auths = esc.getAuthorizations(net.addresses.ocean, payer, node).call().await.unwrap();
    assert_eq!((auths.len(), auths[0].currentLocks), (1, U256::ZERO));
    assert!(esc.getLocks(Address::ZERO, Address::ZERO, node).call().await.unwrap().is_empty(), "a lock remains");

    // Free environments keep working: the first (free) environment, no Escrow movement.
    let line = format!("c2d start --dataset {} --algorithm {} --account 1 --wait", ds.did, algo.did);
    let out = ctx.run(&line).await.unwrap();
    assert_eq!(out.json().unwrap()["status"].as_u64(), Some(70));
    assert_eq!(esc.getUserFunds(payer, net.addresses.ocean).call().await.unwrap().available, U256::from(4 * OCEAN));
}
