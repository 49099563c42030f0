//! Paying for a job on a paid compute environment through Ocean's Escrow, as the consumer.
//!
//! `initializeCompute` on a paid environment answers `payment: {escrowAddress, payee, chainId,
//! minLockSeconds, token, amount}` (Ocean Node v3.1.0; `amount` in wei, the most the job may
//! cost). Before any order, [`prepare`] makes sure the node can lock that amount: the Escrow
//! must be the one the network's `address.json` lists (a node cannot name another contract to
//! be paid through); the account's OCEAN in its wallet plus what it already has available in
//! Escrow must cover the amount, else one line and no transaction. Then, only as far as needed:
//! `approve` the Escrow for the missing part, `deposit` it, and `authorize` the node (payee) for
//! this lock on top of its current ones (max locked amount, lock seconds and lock count). The
//! node locks the amount when the job starts and claims what the job ran for when it ends; the
//! rest stays in the account's Escrow funds.

use crate::contracts::{IERC20, IEscrow};
use crate::error::{OceanError, Result};
use crate::network::Network;
use crate::signer::{Signer, TxSummary};
use alloy::primitives::{Address, U256};
use alloy::sol_types::SolCall;
use serde_json::{Value, json};

/// What the node asks to be able to lock for one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub escrow: Address,
    pub payee: Address,
    pub token: Address,
    /// The most the job may cost (wei of `token`).
    pub amount: U256,
    pub min_lock_seconds: u64,
}

fn number(v: &Value) -> Option<U256> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().map(U256::from),
        _ => None,
    }
}

/// The `payment` of an `initializeCompute` answer (`None`: nothing to pay), checked against the
/// network: its Escrow must be `known`, the one network `network` lists.
pub fn quote(answer: &Value, known: Option<Address>, network: &str) -> Result<Option<Quote>> {
    let p = &answer["payment"];
    if !p.is_object() {
        return Ok(None);
    }
    let bad = |what: &str| OceanError::input(format!("the node's initializeCompute payment has no usable {what}"));
    let amount = number(&p["amount"]).ok_or_else(|| bad("amount"))?;
    if amount.is_zero() {
        return Ok(None);
    }
    let addr = |k: &str| p[k].as_str().and_then(|a| a.parse::<Address>().ok()).ok_or_else(|| bad(k));
    let escrow = addr("escrowAddress")?;
    match known {
        Some(known) if known == escrow => {}
        known => {
            return Err(OceanError::input(format!(
                "the node asks to be paid through {escrow}, but network {} lists {} as Ocean's Escrow: refusing to send OCEAN there",
                network,
                known.map(|k| k.to_string()).unwrap_or_else(|| "no Escrow".into())
            )));
        }
    }
    let min_lock_seconds =
        number(&p["minLockSeconds"]).and_then(|n| u64::try_from(n).ok()).ok_or_else(|| bad("minLockSeconds"))?;
    Ok(Some(Quote { escrow, payee: addr("payee")?, token: addr("token")?, amount, min_lock_seconds }))
}

async fn send<C: SolCall>(
    net: &Network,
    signer: &dyn Signer,
    to: Address,
    call: C,
    summary: TxSummary,
) -> Result<String> {
    let mut txs = Vec::new();
    crate::consume::send(net, signer, to, call, summary, &mut txs).await?;
    Ok(txs.first().map(|t| t.hash.to_string()).unwrap_or_default())
}

/// Make sure the node can lock `q.amount` of the signer's funds (see the module docs); returns
/// what was done, for the job's journal record.
pub async fn prepare(
    net: &Network,
    signer: &dyn Signer,
    q: &Quote,
    step: &mut (dyn FnMut(&str) + Send),
) -> Result<Value> {
    let me = signer.address().await?;
    let rpc = |e: alloy::contract::Error| OceanError::Rpc(e.to_string());
    let escrow = IEscrow::new(q.escrow, &net.provider);
    let token = IERC20::new(q.token, &net.provider);
    let available = escrow.getUserFunds(me, q.token).call().await.map_err(rpc)?.available;
    let need = q.amount.saturating_sub(available);
    let wallet = token.balanceOf(me).call().await.map_err(rpc)?;
    if wallet < need {
        return Err(OceanError::NoFunds(format!(
            "the paid environment may cost up to {} OCEAN for this job (locked in Escrow until it ends); account {me} has {} OCEAN and {} in Escrow: add OCEAN or pick a free environment (%c2d envs)",
            ocean(q.amount),
            ocean(wallet),
            ocean(available)
        )));
    }
    let auths = escrow.getAuthorizations(q.token, me, q.payee).call().await.map_err(rpc)?;
    let (locked, locks, max_amount, max_secs, max_counts) = match auths.first() {
        Some(a) => (a.currentLockedAmount, a.currentLocks, a.maxLockedAmount, a.maxLockSeconds, a.maxLockCounts),
        None => (U256::ZERO, U256::ZERO, U256::ZERO, U256::ZERO, U256::ZERO),
    };
    let want = (locked + q.amount, U256::from(q.min_lock_seconds), locks + U256::from(1));
    let authorised = !auths.is_empty() && max_amount >= want.0 && max_secs >= want.1 && max_counts >= want.2;
    let mut txs = Vec::new();
    if !need.is_zero() {
        let allowance = token.allowance(me, q.escrow).call().await.map_err(rpc)?;
        if allowance < need {
            step("allowing the Escrow to take OCEAN");
            let s = TxSummary::call(net.chain_id, "OCEAN", q.token, "approve")
                .arg("spender", format!("Escrow {}", q.escrow))
                .arg("amount", format!("{} OCEAN", ocean(need)));
            let call = IERC20::approveCall { spender: q.escrow, amount: need };
            txs.push(send(net, signer, q.token, call, s).await.map_err(refused("the escrow allowance"))?);
        }
        step("depositing OCEAN into the Escrow");
        let s = TxSummary::call(net.chain_id, "Escrow", q.escrow, "deposit")
            .arg("amount", format!("{} OCEAN", ocean(need)));
        txs.push(
            send(net, signer, q.escrow, IEscrow::depositCall { token: q.token, amount: need }, s)
                .await
                .map_err(refused("the Escrow deposit"))?,
        );
    }
    if !authorised {
        step("authorising the node to lock the job's cost");
        let (amount, secs, counts) = (want.0.max(max_amount), want.1.max(max_secs), want.2.max(max_counts));
        let s = TxSummary::call(net.chain_id, "Escrow", q.escrow, "authorize")
            .arg("payee (the compute node)", q.payee)
            .arg("max locked", format!("{} OCEAN", ocean(amount)))
            .arg("max lock seconds", secs)
            .arg("max locks", counts);
        let call = IEscrow::authorizeCall {
            token: q.token,
            payee: q.payee,
            maxLockedAmount: amount,
            maxLockSeconds: secs,
            maxLockCounts: counts,
        };
        txs.push(send(net, signer, q.escrow, call, s).await.map_err(refused("the Escrow authorisation"))?);
    }
    Ok(json!({"escrow": q.escrow, "payee": q.payee, "token": q.token, "maxAmount": q.amount.to_string(),
        "deposited": need.to_string(), "txs": txs}))
}

/// `wei` as OCEAN for people: `5`, `0.5`.
pub fn ocean(wei: U256) -> String {
    let text = alloy::primitives::utils::format_ether(wei);
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

/// A wallet refusal during the Escrow steps says what was refused and that nothing was ordered.
fn refused(what: &'static str) -> impl Fn(OceanError) -> OceanError {
    move |e| match e {
        OceanError::Rejected(why) => OceanError::Rejected(format!(
            "{what} was refused in the wallet ({why}); no datatoken was ordered and no job started: run %c2d start again and approve it, or pick a free environment (%c2d envs)"
        )),
        other => other,
    }
}

/// `%c2d envs`' price of an environment on `chain_id`: `cpu 1 OCEAN/min, …`, or `free`.
pub fn price_text(env: &Value, chain_id: u64, ocean: Address) -> String {
    let Some(fees) = env["fees"][chain_id.to_string()].as_array().filter(|f| !f.is_empty()) else {
        return "free".into();
    };
    let parts: Vec<String> = fees
        .iter()
        .flat_map(|f| {
            let token = f["feeToken"].as_str().unwrap_or("?");
            let name = if token.parse::<Address>().is_ok_and(|t| t == ocean) {
                "OCEAN".to_string()
            } else {
                token.to_string()
            };
            f["prices"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |p| format!("{} {} {name}/min", p["id"].as_str().unwrap_or("?"), p["price"]))
        })
        .collect();
    if parts.is_empty() {
        return "free".into();
    }
    // Ocean Node v3 environments may offer a free tier beside their prices.
    match env["free"].as_object() {
        Some(free) => match crate::provider::wire::number(&free.get("maxJobDuration").cloned().unwrap_or_default()) {
            Some(max) => format!("{}; free tier up to {max} s", parts.join(", ")),
            None => format!("{}; free tier", parts.join(", ")),
        },
        None => parts.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_through_the_networks_escrow() {
        let escrow = Address::repeat_byte(7);
        let answer = json!({"payment": {"escrowAddress": escrow.to_checksum(None), "payee": Address::repeat_byte(9),
            "chainId": 8996, "minLockSeconds": 4200, "token": Address::repeat_byte(1), "amount": "10000000000000000000"}});
        let q = quote(&answer, Some(escrow), "devnet").unwrap().unwrap();
        assert_eq!(
            (q.amount, q.min_lock_seconds, q.payee),
            (U256::from(10u64).pow(U256::from(19)), 4200, Address::repeat_byte(9))
        );
        let e = quote(&answer, Some(Address::repeat_byte(8)), "devnet").unwrap_err().to_string();
        assert!(e.contains("refusing to send OCEAN there"), "{e}");
        assert!(quote(&answer, None, "x").unwrap_err().to_string().contains("lists no Escrow"));
        assert_eq!(quote(&json!({"datasets": []}), Some(escrow), "devnet").unwrap(), None);
        let free = json!({"payment": {"escrowAddress": escrow, "amount": "0"}});
        assert_eq!(quote(&free, Some(escrow), "devnet").unwrap(), None);
    }

    #[test]
    fn prices_name_ocean_and_free_environments() {
        let ocean: Address = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512".parse().unwrap();
        let env = json!({"fees": {"8996": [{"feeToken": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
            "prices": [{"id": "cpu", "price": 1}, {"id": "ram", "price": 0.5}]}]}});
        assert_eq!(price_text(&env, 8996, ocean), "cpu 1 OCEAN/min, ram 0.5 OCEAN/min");
        assert_eq!(price_text(&env, 1, ocean), "free");
        // A real Ocean Node v3.1.0 environment with prices and a free tier (`%c2d envs` showed only the price).
        let both = json!({"fees": {"8996": [{"feeToken": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
            "prices": [{"id": "cpu", "price": 1}]}]}, "free": {"maxJobDuration": 600, "minJobDuration": 1}});
        assert_eq!(price_text(&both, 8996, ocean), "cpu 1 OCEAN/min; free tier up to 600 s");
        assert_eq!(price_text(&json!({"fees": {}}), 8996, ocean), "free");
        assert_eq!(
            (
                super::ocean(U256::from(5u64) * U256::from(10u64).pow(U256::from(18))),
                super::ocean(U256::from(5u64) * U256::from(10u64).pow(U256::from(17)))
            ),
            ("5".into(), "0.5".into())
        );
    }
}
