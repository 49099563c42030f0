//! Consuming an asset (REFERENCE §4.4): get one datatoken (dispenser, or buy from the fixed-rate
//! exchange after approving the base token), `startOrder` with the node's signed provider fee,
//! then download with a signed request that proves the order.

use crate::chain;
use crate::contracts::{ConsumeMarketFee, IDispenser, IERC20, IERC20Template, IFixedRateExchange};
use crate::error::{OceanError, Result};
use crate::journal::TxRecord;
use crate::network::Network;
use crate::provider::NodeClient;
use crate::signer::{Signer, TxSummary};
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256, utils::format_ether};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use serde::Serialize;
use std::time::Duration;

const TX_TIMEOUT: Duration = Duration::from_secs(120);
/// One datatoken (18 decimals).
pub const ONE: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

/// What `get` did.
#[derive(Debug, Clone, Serialize)]
pub struct Got {
    pub did: String,
    pub bytes: Vec<u8>,
    /// The CID of an `ipfs` file; the bytes were checked against it.
    pub cid: Option<String>,
    pub datatoken: Address,
    /// `dispenser`, `fixed-rate` or `held` (the consumer already had a datatoken).
    pub acquired: &'static str,
    /// Base-token amount paid (wei), for fixed-rate purchases.
    pub paid: Option<U256>,
    pub order_tx: alloy::primitives::TxHash,
    pub txs: Vec<TxRecord>,
}

pub(crate) async fn send<C: SolCall>(
    net: &Network,
    signer: &dyn Signer,
    to: Address,
    call: C,
    summary: TxSummary,
    txs: &mut Vec<TxRecord>,
) -> Result<()> {
    let tx = TransactionRequest::default().with_to(to).with_input(call.abi_encode());
    let r = chain::transact(signer, &net.provider, tx, &summary, TX_TIMEOUT).await?;
    txs.push(TxRecord { label: summary.method.clone(), hash: r.transaction_hash, gas: Some(r.gas_used) });
    Ok(())
}

/// Get file `file_index` of `did`'s access service as `signer`.
pub async fn get(
    net: &Network,
    signer: &dyn Signer,
    did: &str,
    file_index: usize,
    step: &mut (dyn FnMut(&str) + Send),
) -> Result<Got> {
    let node = NodeClient::of(net)?;
    let node_url = node.url().to_string();
    let me = signer.address().await?;
    let ddo = node
        .ddo(did)
        .await?
        .ok_or_else(|| OceanError::input(format!("{did} is not known to the node at {node_url}")))?;
    let services = ddo["services"].as_array().cloned().unwrap_or_default();
    let svc = services.iter().find(|s| s["type"] == "access").cloned().ok_or_else(|| {
        if services.iter().any(|s| s["type"] == "compute") {
            OceanError::input(compute_only(did))
        } else {
            OceanError::input(format!("{did} has no access service"))
        }
    })?;
    let service_id = svc["id"].as_str().unwrap_or("0").to_string();
    let service_index =
        ddo["services"].as_array().and_then(|s| s.iter().position(|x| x["id"] == svc["id"])).unwrap_or(0);
    let dt: Address = svc["datatokenAddress"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| OceanError::input("the DDO's service has no datatoken"))?;
    // The service's own provider: only the node that encrypted the files can decrypt them.
    let mut provider = provider_of(&node, &svc)?;
    let init = match provider.initialize(did, &service_id, me).await {
        Err(e) if provider.url() != node.url() && unreachable(&e) => {
            // A stale endpoint (e.g. the devnet's node on an earlier port): ask the network's node.
            provider = node.clone();
            provider.initialize(did, &service_id, me).await?
        }
        r => r?,
    };
    let o = order(net, signer, did, service_index, dt, &init.provider_fee, step).await?;
    let order_tx = o.order_tx;
    step("downloading");
    let (bytes, cid) = provider.download(signer, did, &service_id, order_tx, file_index).await?;
    if let Some(c) = &cid
        && !crate::ipfs::bytes_match_cid(&bytes, c)
    {
        let url = provider.url().to_string();
        return Err(OceanError::Node { url, reason: format!("the downloaded bytes do not hash to {c}") });
    }
    Ok(Got {
        did: did.to_string(),
        bytes,
        cid,
        datatoken: dt,
        acquired: o.acquired,
        paid: o.paid,
        order_tx,
        txs: o.txs,
    })
}

/// The node serving `svc` (its `serviceEndpoint`, as Ocean's own clients take it): the one
/// that encrypted its files, so the only one that can decrypt them. `node` (the network's node,
/// where the DDO was found) when the endpoint is missing or names it.
pub fn provider_of(node: &NodeClient, svc: &serde_json::Value) -> Result<NodeClient> {
    let Some(endpoint) = svc["serviceEndpoint"].as_str().map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(node.clone());
    };
    let url = reqwest::Url::parse(endpoint)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| {
            OceanError::input(format!(
                "the asset's serviceEndpoint `{}` is not an http(s) URL; its publisher must fix the DDO",
                crate::error::one_line(&endpoint.chars().take(200).collect::<String>())
            ))
        })?;
    let same = |a: &str| a.trim_end_matches('/').eq_ignore_ascii_case(node.url().trim_end_matches('/'));
    if same(url.as_str()) || same(endpoint) {
        return Ok(node.clone());
    }
    Ok(NodeClient::new(endpoint))
}

/// Whether `e` says a node did not answer at all.
pub(crate) fn unreachable(e: &OceanError) -> bool {
    matches!(e, OceanError::Node { reason, .. } if reason.starts_with("not reachable"))
}

/// What `order` did.
#[derive(Debug, Clone, Serialize)]
pub struct Ordered {
    pub datatoken: Address,
    /// `dispenser`, `fixed-rate` or `held` (the consumer already had a datatoken).
    pub acquired: &'static str,
    /// Base-token amount paid (wei), for fixed-rate purchases.
    pub paid: Option<U256>,
    /// The `startOrder` transaction: the `transferTxId` the node checks.
    pub order_tx: alloy::primitives::TxHash,
    pub txs: Vec<TxRecord>,
}

/// Get one datatoken `dt` of `did` (held, dispenser, or bought from its fixed-rate exchange) and
/// `startOrder` service `service_index` with the node's `provider_fee` (from `initialize` or
/// `initializeCompute`). The order transaction is the `transferTxId` of download and compute.
pub async fn order(
    net: &Network,
    signer: &dyn Signer,
    did: &str,
    service_index: usize,
    dt: Address,
    provider_fee: &kelp_ocean_wire::fees::ProviderFee,
    step: &mut (dyn FnMut(&str) + Send),
) -> Result<Ordered> {
    order_for(net, signer, did, service_index, dt, provider_fee, None, step).await
}

/// As [`order`], with the order made out to `consumer` (default: the signer). Ocean Node's paid
/// compute checks orders made out to the compute environment's `consumerAddress` (the node
/// itself), which its `initializeCompute` answer names.
#[allow(clippy::too_many_arguments)]
pub async fn order_for(
    net: &Network,
    signer: &dyn Signer,
    did: &str,
    service_index: usize,
    dt: Address,
    provider_fee: &kelp_ocean_wire::fees::ProviderFee,
    consumer: Option<Address>,
    step: &mut (dyn FnMut(&str) + Send),
) -> Result<Ordered> {
    let me = signer.address().await?;
    let consumer = consumer.unwrap_or(me);
    let token = IERC20Template::new(dt, &net.provider);
    let rpc_err = |e: alloy::contract::Error| OceanError::Rpc(e.to_string());
    let mut txs = Vec::new();
    let mut paid = None;
    let balance = token.balanceOf(me).call().await.map_err(rpc_err)?;
    let acquired = if balance >= ONE {
        "held"
    } else if let Some(dispenser) = token.getDispensers().call().await.map_err(rpc_err)?.first().copied() {
        step("getting a datatoken from the dispenser");
        let summary =
            TxSummary::call(net.chain_id, "Dispenser", dispenser, "dispense").arg("datatoken", dt).arg("amount", "1");
        send(
            net,
            signer,
            dispenser,
            IDispenser::dispenseCall { datatoken: dt, amount: ONE, destination: me },
            summary,
            &mut txs,
        )
        .await?;
        "dispenser"
    } else if let Some(fre) = token.getFixedRates().call().await.map_err(rpc_err)?.first().cloned() {
        step("buying a datatoken");
        let ex = IFixedRateExchange::new(fre.contractAddress, &net.provider);
        let quote = ex.calcBaseInGivenOutDT(fre.id, ONE, U256::ZERO).call().await.map_err(rpc_err)?;
        let cost = quote.baseTokenAmount;
        let base = net.addresses.ocean;
        let have = IERC20::new(base, &net.provider).balanceOf(me).call().await.map_err(rpc_err)?;
        if have < cost {
            return Err(OceanError::NoFunds(format!(
                "the datatoken costs {} OCEAN, the account {me} has {}",
                format_ether(cost),
                format_ether(have)
            )));
        }
        let s = TxSummary::call(net.chain_id, "OCEAN", base, "approve")
            .arg("spender", fre.contractAddress)
            .arg("amount", format!("{} OCEAN", format_ether(cost)));
        send(net, signer, base, IERC20::approveCall { spender: fre.contractAddress, amount: cost }, s, &mut txs)
            .await?;
        let s = TxSummary::call(net.chain_id, "FixedRateExchange", fre.contractAddress, "buyDT")
            .arg("datatokens", "1")
            .arg("max OCEAN", format_ether(cost));
        let call = IFixedRateExchange::buyDTCall {
            exchangeId: fre.id,
            datatokenAmount: ONE,
            maxBaseTokenAmount: cost,
            consumeMarketAddress: Address::ZERO,
            consumeMarketSwapFeeAmount: U256::ZERO,
        };
        send(net, signer, fre.contractAddress, call, s, &mut txs).await?;
        paid = Some(cost);
        "fixed-rate"
    } else {
        return Err(OceanError::input(format!(
            "{did} has no dispenser or exchange; ask the publisher for a datatoken"
        )));
    };
    step("ordering");
    let fee = provider_fee.to_contract()?;
    let s = TxSummary::call(net.chain_id, format!("datatoken {dt}"), dt, "startOrder")
        .arg("consumer", consumer)
        .arg("serviceIndex", service_index)
        .arg("providerFee", format!("{} wei", fee.providerFeeAmount));
    let call = IERC20Template::startOrderCall {
        consumer,
        serviceIndex: U256::from(service_index),
        _providerFee: fee,
        _consumeMarketFee: ConsumeMarketFee {
            consumeMarketFeeAddress: Address::ZERO,
            consumeMarketFeeToken: Address::ZERO,
            consumeMarketFeeAmount: U256::ZERO,
        },
    };
    send(net, signer, dt, call, s, &mut txs).await?;
    let order_tx = txs.last().map(|t| t.hash).unwrap_or_default();
    Ok(Ordered { datatoken: dt, acquired, paid, order_tx, txs })
}

/// The one line `get` answers for a compute-only dataset.
pub fn compute_only(did: &str) -> String {
    format!(
        "{did} is compute-only: run an algorithm on it with %c2d start --dataset {did} --algorithm ALGO_DID (its bytes are never downloadable)"
    )
}

/// What `collect` did.
#[derive(Debug, Clone, Serialize)]
pub struct Collected {
    pub datatoken: Address,
    /// Base-token amount moved from the exchange to the datatoken's payment collector (wei).
    pub amount: U256,
    pub to: Address,
    pub tx: Option<alloy::primitives::TxHash>,
}

/// Move the base tokens a fixed-rate exchange holds for `did` to the datatoken's payment
/// collector (the publisher by default). Anyone may call it; the tokens go to the collector.
pub async fn collect(net: &Network, signer: &dyn Signer, dt: Address) -> Result<Collected> {
    let token = IERC20Template::new(dt, &net.provider);
    let rpc_err = |e: alloy::contract::Error| OceanError::Rpc(e.to_string());
    let to = token.getPaymentCollector().call().await.map_err(rpc_err)?;
    let Some(fre) = token.getFixedRates().call().await.map_err(rpc_err)?.first().cloned() else {
        return Err(OceanError::input("this asset has no fixed-rate exchange: nothing to collect"));
    };
    let ex = IFixedRateExchange::new(fre.contractAddress, &net.provider);
    let amount = ex.getExchange(fre.id).call().await.map_err(rpc_err)?.btBalance;
    if amount.is_zero() {
        return Ok(Collected { datatoken: dt, amount, to, tx: None });
    }
    let s = TxSummary::call(net.chain_id, "FixedRateExchange", fre.contractAddress, "collectBT")
        .arg("amount", format!("{} OCEAN", format_ether(amount)))
        .arg("to", to);
    let mut txs = Vec::new();
    send(
        net,
        signer,
        fre.contractAddress,
        IFixedRateExchange::collectBTCall { exchangeId: fre.id, amount },
        s,
        &mut txs,
    )
    .await?;
    Ok(Collected { datatoken: dt, amount, to, tx: txs.first().map(|t| t.hash) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Found on a real Ocean Node, published through kelp's own devnet node: its files can only
    /// be decrypted by the node named in the service (the real node answered 500 "Failed to
    /// decrypt" when kelp asked it instead).
    #[test]
    fn the_services_own_node_serves_it() {
        let node = NodeClient::new("http://127.0.0.1:8001/");
        let other = json!({"type": "access", "serviceEndpoint": "http://127.0.0.1:21918"});
        assert_eq!(provider_of(&node, &other).unwrap().url(), "http://127.0.0.1:21918");
        for same in [
            json!({"serviceEndpoint": "http://127.0.0.1:8001"}),
            json!({"serviceEndpoint": "HTTP://127.0.0.1:8001/"}),
            json!({}),
        ] {
            assert_eq!(provider_of(&node, &same).unwrap().url(), "http://127.0.0.1:8001", "{same}");
        }
        for bad in ["file:///etc/passwd", "not a url", "javascript:alert(1)\nx"] {
            let e = provider_of(&node, &json!({"serviceEndpoint": bad})).unwrap_err().to_string();
            assert!(e.contains("serviceEndpoint") && e.contains("not an http(s) URL") && !e.contains('\n'), "{e}");
        }
        assert!(unreachable(&OceanError::Node { url: "u".into(), reason: "not reachable (x): refused".into() }));
        assert!(!unreachable(&OceanError::Node { url: "u".into(), reason: "HTTP 500: Failed to decrypt".into() }));
    }
}
