//! Paid compute on kelp's node through Ocean's Escrow, as Ocean Node v3.1.0 does it.
//!
//! When the chain has an Escrow (the devnet deploys one; `address.json` lists it as `Escrow`),
//! the node offers a second environment beside the engine's free one: the same sandbox, id
//! `<free id>-paid`, with `fees: {"<chainId>": [{feeToken: OCEAN, prices: [{id: "cpu", price}]}]}`
//! and no `free` block. Cost is Ocean Node's: `price × amount × ceil(seconds / 60)` per priced
//! resource, in fee-token units (18 decimals for OCEAN).
//!
//! - `initializeCompute` on it needs `payment: {chainId, token}` with `token` exactly the
//!   environment's `feeToken` text, and answers `payment: {escrowAddress, payee (the node),
//!   chainId, minLockSeconds (maxJobDuration + 3600), token, amount (wei, a string)}` for the
//!   resources asked (`payment.resources`, else the minimums) and `maxJobDuration`.
//! - `POST compute` on it checks, after the orders, that the payer's available Escrow funds cover
//!   the cost and that exactly one authorisation of this node allows the lock (Ocean Node's
//!   texts), then the node locks the cost (`createLock`, job id = sha256 of a random reference)
//!   and starts the job; a job the engine refuses gets its lock claimed for 0 (all refunded).
//! - When the job ends the node claims what it ran for (`claimLockAndWithdraw`: the run time
//!   clamped to [minJobDuration, maxJobDuration]; proof = the job as JSON); the rest of the lock
//!   goes back to the payer's available funds. Each paid job's payment is kept in
//!   `payments/<engine job id>.json` and shown as the job's `payment`.

use super::routes::{Answer, text};
use crate::compute::ComputeNode;
use crate::state::NodeState;
use alloy::network::TransactionBuilder;
use alloy::primitives::utils::parse_units;
use alloy::primitives::{Address, U256};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use axum::http::StatusCode;
use kelp_ocean_wire::contracts::IEscrow;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// OCEAN per CPU per minute on the paid environment.
pub const CPU_PRICE: u64 = 1;
/// Seconds after a job's longest run within which the node claims (Ocean Node's default
/// `claimDurationTimeout`); part of `minLockSeconds`.
pub const CLAIM_TIMEOUT: u64 = 3600;
const SUFFIX: &str = "-paid";

/// The paid twin of the engine's free environment `free`, or `None` without an Escrow.
pub fn environment(s: &NodeState, free: &Value) -> Option<Value> {
    s.config.addresses.escrow?;
    let mut env = free.clone();
    let map = env.as_object_mut()?;
    map.remove("free");
    map.insert("runningfreeJobs".into(), json!(0));
    map.insert("id".into(), json!(format!("{}{SUFFIX}", free["id"].as_str()?)));
    let fee = json!([{"feeToken": s.config.addresses.ocean.to_checksum(None), "prices": [{"id": "cpu", "price": CPU_PRICE}]}]);
    let mut fees = serde_json::Map::new();
    fees.insert(s.config.chain_id.to_string(), fee);
    map.insert("fees".into(), Value::Object(fees));
    map.insert(
        "description".into(),
        json!(format!(
            "{}; paid through Ocean's Escrow: {CPU_PRICE} OCEAN per CPU per minute",
            free["description"].as_str().unwrap_or("")
        )),
    );
    Some(env)
}

/// The engine environment a node environment runs in (the paid one is the free one's sandbox).
pub fn engine_environment(id: &str) -> &str {
    id.strip_suffix(SUFFIX).unwrap_or(id)
}

/// The cost in fee-token units of `resources` (`[{id, amount}]`) for `seconds` on `env`.
pub fn cost(env: &Value, chain_id: u64, resources: &Value, seconds: u64) -> f64 {
    let fee = &env["fees"][chain_id.to_string()][0]["prices"];
    let minutes = seconds.div_ceil(60) as f64;
    let price = |id: &str| {
        fee.as_array().and_then(|p| p.iter().find(|x| x["id"] == id)).and_then(|x| x["price"].as_f64()).unwrap_or(0.0)
    };
    resources
        .as_array()
        .map(|rs| rs.iter().map(|r| price(r["id"].as_str().unwrap_or("")) * r["amount"].as_f64().unwrap_or(0.0)).sum())
        .unwrap_or(0.0)
        * minutes
}

/// `amount` fee-token units (18 decimals) in wei.
pub fn to_wei(amount: f64) -> U256 {
    parse_units(&format!("{amount:.18}"), 18).map(Into::into).unwrap_or(U256::ZERO)
}

/// The job length a paid request asks for, within the environment's bounds.
pub fn job_seconds(env: &Value, asked: Option<u64>) -> u64 {
    let max = env["maxJobDuration"].as_u64().unwrap_or(3600);
    let min = env["minJobDuration"].as_u64().unwrap_or(1);
    asked.filter(|a| *a > 0 && *a <= max).unwrap_or(max).max(min)
}

/// The checked `payment: {chainId, token}` of a request on the paid `env`: the token as sent.
pub fn payment_token(env: &Value, body: &Value) -> Answer<Address> {
    let p = &body["payment"];
    let chain = p["chainId"].as_u64().or_else(|| p["chainId"].as_str().and_then(|c| c.parse().ok()));
    let (Some(chain), Some(token)) = (chain, p["token"].as_str()) else {
        return Err(text(StatusCode::BAD_REQUEST, "Invalid payment options"));
    };
    let accepted = env["fees"][chain.to_string()].as_array().is_some_and(|f| f.iter().any(|f| f["feeToken"] == token));
    if !accepted {
        return Err(text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("This compute env does not accept payments on chain: {chain} using token {token}"),
        ));
    }
    token.parse().map_err(|_| text(StatusCode::BAD_REQUEST, "Invalid payment options"))
}

/// `initializeCompute`'s `payment` answer for `resources` and `seconds`.
pub fn quote(s: &NodeState, env: &Value, token: &str, resources: &Value, seconds: u64) -> Answer<Value> {
    let escrow = s.config.addresses.escrow.ok_or_else(|| {
        text(StatusCode::INTERNAL_SERVER_ERROR, format!("Cannot handle payments on chainId: {}", s.config.chain_id))
    })?;
    let amount = to_wei(cost(env, s.config.chain_id, resources, seconds));
    Ok(json!({"escrowAddress": escrow.to_checksum(None), "payee": s.address().to_checksum(None),
        "chainId": s.config.chain_id, "minLockSeconds": seconds + CLAIM_TIMEOUT, "token": token,
        "amount": amount.to_string()}))
}

/// What the node keeps about a paid job (`payments/<engine job id>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub chain_id: u64,
    pub token: Address,
    pub payer: Address,
    /// The Escrow lock's job id: 0x + sha256 of a random reference.
    pub job_id_hash: String,
    pub locked: String,
    pub max_job_duration: u64,
    pub resources: Value,
    pub environment: String,
    pub lock_tx: String,
    #[serde(default)]
    pub claim_tx: Option<String>,
    /// What was claimed, in fee-token units.
    #[serde(default)]
    pub cost: f64,
}

impl Payment {
    /// The job's `payment` as Ocean Node lists it.
    pub fn public(&self) -> Value {
        json!({"chainId": self.chain_id, "token": self.token.to_checksum(None), "lockTx": self.lock_tx,
            "claimTx": self.claim_tx, "cancelTx": null, "cost": self.cost})
    }
}

async fn send<C: SolCall>(s: &NodeState, c: &ComputeNode, call: C, method: &str) -> Answer<String> {
    let escrow = s.config.addresses.escrow.unwrap_or_default();
    let _one_at_a_time = c.tx_lock.lock().await;
    let tx = TransactionRequest::default().with_to(escrow).with_input(call.abi_encode());
    let method = format!("Escrow.{method}");
    let hash = crate::chain::send(&s.config.key, &s.config.rpc_url, tx, &method, Duration::from_secs(30))
        .await
        .map_err(|e| text(StatusCode::BAD_REQUEST, e.to_string()))?;
    Ok(hash.to_string())
}

/// Check the payer's funds and authorisation as Ocean Node does, then lock `amount`.
pub async fn lock(
    s: &NodeState,
    c: &ComputeNode,
    token: Address,
    payer: Address,
    amount: U256,
    seconds: u64,
) -> Answer<(String, String)> {
    let escrow = IEscrow::new(s.config.addresses.escrow.unwrap_or_default(), &s.provider);
    let rpc = |e: alloy::contract::Error| text(StatusCode::INTERNAL_SERVER_ERROR, format!("Escrow: {e}"));
    let funds = escrow.getUserFunds(payer, token).call().await.map_err(rpc)?;
    if funds.available < amount {
        return Err(text(StatusCode::BAD_REQUEST, format!("User {payer} does not have enough funds")));
    }
    let me = s.address();
    let auths = escrow.getAuthorizations(token, payer, me).call().await.map_err(rpc)?;
    let [auth] = auths.as_slice() else {
        return Err(text(
            StatusCode::BAD_REQUEST,
            format!(
                "No escrow auths found for: chain={}, token={token}, payer={payer}, nodeAddress={me}. Found {} authorizations.",
                s.config.chain_id,
                auths.len()
            ),
        ));
    };
    let expiry = U256::from(seconds + CLAIM_TIMEOUT);
    if auth.currentLockedAmount + amount > auth.maxLockedAmount {
        return Err(text(StatusCode::BAD_REQUEST, "No valid escrow auths found(will go over limit)"));
    }
    if auth.maxLockSeconds < expiry {
        return Err(text(StatusCode::BAD_REQUEST, "No valid escrow auths found(maxLockSeconds too low)"));
    }
    if auth.currentLocks + U256::from(1) > auth.maxLockCounts {
        return Err(text(StatusCode::BAD_REQUEST, "No valid escrow auths found(too many active locks)"));
    }
    let reference = alloy::hex::encode(alloy::signers::local::PrivateKeySigner::random().to_bytes());
    let hash = format!("0x{}", alloy::hex::encode(kelp_ocean_wire::ddo::sha256(reference.as_bytes())));
    let job_id: U256 = hash.parse().map_err(|_| text(StatusCode::INTERNAL_SERVER_ERROR, "lock id"))?;
    let call = IEscrow::createLockCall { jobId: job_id, token, payer, amount, expiry };
    let tx = send(s, c, call, "createLock").await?;
    Ok((hash, tx))
}

/// Claim `amount` of a paid job's lock (0 refunds it all) and withdraw it to the node.
pub async fn claim(s: &NodeState, c: &ComputeNode, p: &Payment, amount: U256, proof: Vec<u8>) -> Answer<String> {
    let job_id: U256 = p.job_id_hash.parse().map_err(|_| text(StatusCode::INTERNAL_SERVER_ERROR, "lock id"))?;
    let call = IEscrow::claimLockAndWithdrawCall {
        jobId: job_id,
        token: p.token,
        payer: p.payer,
        amount,
        proof: proof.into(),
    };
    send(s, c, call, "claimLockAndWithdraw").await
}

/// Where a paid job's payment record lives.
fn record_path(c: &ComputeNode, engine_id: &str) -> std::path::PathBuf {
    c.inputs.with_file_name("payments").join(format!("{engine_id}.json"))
}

pub fn save(c: &ComputeNode, engine_id: &str, p: &Payment) {
    let path = record_path(c, engine_id);
    if let Ok(bytes) = serde_json::to_vec_pretty(p) {
        let _ = path.parent().map(std::fs::create_dir_all);
        let _ = kelp_c2d::journal::write_atomic(&path, &bytes);
    }
}

/// Engine ids of the paid jobs whose lock is not claimed yet.
pub fn unclaimed(c: &ComputeNode) -> Vec<String> {
    let dir = c.inputs.with_file_name("payments");
    std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json").map(str::to_string))
        .filter(|id| load(c, id).is_some_and(|p| p.claim_tx.is_none()))
        .collect()
}

pub fn load(c: &ComputeNode, engine_id: &str) -> Option<Payment> {
    serde_json::from_slice(&std::fs::read(record_path(c, engine_id)).ok()?).ok()
}

/// Once the job has ended, claim what it ran for (as Ocean Node's claim: run time clamped to the
/// environment's bounds, priced like the quote) and record the claim.
pub async fn settle(s: &NodeState, c: &ComputeNode, engine_id: &str, env: &Value) {
    let Some(mut p) = load(c, engine_id) else { return };
    if p.claim_tx.is_some() {
        return;
    }
    let Ok(rec) = c.engine.record(engine_id) else { return };
    let ran = match (rec.started, rec.finished) {
        (Some(a), Some(b)) if b > a => (b - a).ceil() as u64,
        _ => 0,
    };
    let min = env["minJobDuration"].as_u64().unwrap_or(1);
    let seconds = ran.min(p.max_job_duration).max(min);
    let cost = cost(env, p.chain_id, &p.resources, seconds);
    let proof =
        serde_json::to_vec(&super::routes::public_job(c, kelp_c2d::ComputeJob::from(&rec), None)).unwrap_or_default();
    match claim(s, c, &p, to_wei(cost), proof).await {
        Ok(tx) => {
            p.claim_tx = Some(tx);
            p.cost = cost;
            save(c, engine_id, &p);
        }
        Err(e) => eprintln!("kelp node: claiming the Escrow lock of job {engine_id} failed: {}", e.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Value {
        json!({"minJobDuration": 10, "maxJobDuration": 3600,
            "fees": {"8996": [{"feeToken": "0x00", "prices": [{"id": "cpu", "price": 1}, {"id": "ram", "price": 0.5}]}]}})
    }

    #[test]
    fn cost_is_price_times_amount_times_started_minutes() {
        let r = json!([{"id": "cpu", "amount": 2}, {"id": "ram", "amount": 1}, {"id": "disk", "amount": 1}]);
        assert_eq!(cost(&env(), 8996, &r, 300), 12.5);
        assert_eq!(cost(&env(), 8996, &r, 61), 5.0, "61 s are 2 started minutes");
        assert_eq!(cost(&env(), 1, &r, 300), 0.0, "no fees on that chain");
        assert_eq!(to_wei(1.5), U256::from(15u64) * U256::from(10u64).pow(U256::from(17)));
    }

    #[test]
    fn job_length_within_the_environment() {
        assert_eq!(job_seconds(&env(), None), 3600);
        assert_eq!(job_seconds(&env(), Some(0)), 3600);
        assert_eq!(job_seconds(&env(), Some(7200)), 3600);
        assert_eq!(job_seconds(&env(), Some(3)), 10);
        assert_eq!(job_seconds(&env(), Some(300)), 300);
        assert_eq!(engine_environment("kelp-local-bwrap-paid"), "kelp-local-bwrap");
        assert_eq!(engine_environment("kelp-local-bwrap"), "kelp-local-bwrap");
    }
}
