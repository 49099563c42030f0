//! Publish and consume on the real devnet (anvil + Ocean contracts from npm + the local node
//! process): free and fixed-price assets, through the library and through the magics.
//! Interrupted and killed publishes, and the other bad inputs, are in bad_inputs.rs.

use alloy::primitives::{Address, U256, utils::parse_ether};
use alloy::rpc::types::TransactionRequest;
use kelp_ocean::contracts::{IERC20, IERC721Template};
use kelp_ocean::devnet::DevnetPaths;
use kelp_ocean::journal::Journal;
use kelp_ocean::network::{Network, Resolver};
use kelp_ocean::publish::{self, Price};
use kelp_ocean::signer::{LocalKeySigner, TxSummary};
use kelp_ocean::{OceanError, consume, ddo};

use crate::common;
use common::{Cleanup, env_for, nft_count, serve, url_dataset as spec};

async fn ocean_of(net: &Network, who: Address) -> U256 {
    IERC20::new(net.addresses.ocean, &net.provider).balanceOf(who).call().await.unwrap()
}

#[tokio::test]
async fn publish_and_consume_free_and_priced_and_resume_after_a_crash() {
    let home = tempfile::tempdir().unwrap();
    let ocean_dir = home.path().join("ocean");
    let _cleanup = Cleanup(DevnetPaths::new(&ocean_dir));
    let port = kelp_ocean::devnet::process::free_port().unwrap();
    let env = env_for(port);
    let net = Resolver { ocean_dir: &ocean_dir, env: &env }.resolve(None).await.expect("devnet starts on first use");
    assert_eq!((net.name.as_str(), net.chain_id), ("devnet", 8996));
    let journal = Journal::new(&ocean_dir);
    const DATA: &[u8] = b"a,b\n1,2\n3,4\n";
    let url = format!("{}/data.csv", serve(vec![("data.csv", DATA)]).await);
    let publisher = LocalKeySigner::dev_account(0, &net.rpc_url, 8996).unwrap();
    let mut quiet = |_: &str| {};

    // Free asset: one factory transaction + setMetaData, DID rule, names on chain, indexed DDO.
    let before = nft_count(&net).await;
    let p =
        publish::publish(&net, &publisher, &spec("Free table", Price::Free, &url), &journal, &mut quiet).await.unwrap();
    assert_eq!(nft_count(&net).await, before + U256::from(1));
    assert_eq!(p.did, ddo::did(p.nft, 8996));
    assert_eq!(p.txs.len(), 2);
    assert!(p.gas_total > 500_000, "gas {}", p.gas_total);
    let nft = IERC721Template::new(p.nft, &net.provider);
    assert_eq!(nft.name().call().await.unwrap(), "Free table");
    let meta = nft.getMetaData().call().await.unwrap();
    assert!(meta._3, "hasMetadata");
    assert_eq!(p.ddo["metadata"]["name"], "Free table");
    assert_eq!(p.ddo["services"][0]["datatokenAddress"].as_str().unwrap().parse::<Address>().unwrap(), p.datatoken);

    // A second account consumes it through the dispenser.
    let consumer = LocalKeySigner::dev_account(1, &net.rpc_url, 8996).unwrap();
    let got = consume::get(&net, &consumer, &p.did, 0, &mut quiet).await.unwrap();
    assert_eq!(got.bytes, DATA);
    assert_eq!(got.acquired, "dispenser");

    // The same publish again is found in the journal: nothing is sent.
    let again =
        publish::publish(&net, &publisher, &spec("Free table", Price::Free, &url), &journal, &mut quiet).await.unwrap();
    assert!(again.already);
    assert_eq!((again.did.as_str(), nft_count(&net).await), (p.did.as_str(), before + U256::from(1)));

    // Fixed price: 3 OCEAN. Account #2 buys; OCEAN leaves the buyer and reaches the publisher side.
    let priced =
        spec("Priced table", Price::Fixed { amount: parse_ether("3").unwrap(), token: net.addresses.ocean }, &url);
    let p2 = publish::publish(&net, &publisher, &priced, &journal, &mut quiet).await.unwrap();
    assert!(p2.exchange_id.is_some());
    let buyer = LocalKeySigner::dev_account(2, &net.rpc_url, 8996).unwrap();
    let buyer_before = ocean_of(&net, buyer.account()).await;
    let pub_before = ocean_of(&net, publisher.account()).await;
    let got = consume::get(&net, &buyer, &p2.did, 0, &mut quiet).await.unwrap();
    assert_eq!((got.bytes.as_slice(), got.acquired), (DATA, "fixed-rate"));
    let paid = got.paid.unwrap();
    assert!(paid >= parse_ether("3").unwrap(), "paid {paid}");
    assert_eq!(ocean_of(&net, buyer.account()).await, buyer_before - paid);
    // The exchange holds the payment until collected; collecting moves it to the publisher.
    assert_eq!(ocean_of(&net, publisher.account()).await, pub_before);
    let c = consume::collect(&net, &buyer, p2.datatoken).await.unwrap();
    assert_eq!(c.to, publisher.account());
    assert!(c.amount >= parse_ether("3").unwrap() && c.amount <= paid, "collected {}", c.amount);
    assert_eq!(ocean_of(&net, publisher.account()).await, pub_before + c.amount);

    // Errors decoded for people: a revert reason, an account without ETH, a node that is down.
    let init = kelp_ocean::provider::NodeClient::new(net.node_url.as_deref().unwrap())
        .initialize(&p.did, "0", consumer.account())
        .await
        .unwrap();
    // The consumer holds a datatoken again (dispensed), so only the forged fee can fail.
    let d = kelp_ocean::contracts::IDispenser::dispenseCall {
        datatoken: p.datatoken,
        amount: parse_ether("1").unwrap(),
        destination: consumer.account(),
    };
    let tx = TransactionRequest::default()
        .to(net.addresses.dispenser)
        .input(alloy::sol_types::SolCall::abi_encode(&d).into());
    let summary = TxSummary::call(8996, "Dispenser", net.addresses.dispenser, "dispense");
    kelp_ocean::chain::transact(&consumer, &net.provider, tx, &summary, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let stranger = alloy::signers::local::PrivateKeySigner::random();
    let self_signed = kelp_ocean_node::fees::sign_fee(
        &stranger,
        net.addresses.ocean,
        U256::ZERO,
        b"{}",
        init.provider_fee.valid_until,
    )
    .await
    .unwrap();
    // Claiming the node's address with someone else's signature: the contract refuses.
    let mut forged = self_signed.clone();
    forged.provider_fee_address = init.provider_fee.provider_fee_address;
    let call = kelp_ocean::contracts::IERC20Template::startOrderCall {
        consumer: consumer.account(),
        serviceIndex: U256::ZERO,
        _providerFee: forged.to_contract().unwrap(),
        _consumeMarketFee: kelp_ocean::contracts::ConsumeMarketFee {
            consumeMarketFeeAddress: Address::ZERO,
            consumeMarketFeeToken: Address::ZERO,
            consumeMarketFeeAmount: U256::ZERO,
        },
    };
    let tx = TransactionRequest::default().to(p.datatoken).input(alloy::sol_types::SolCall::abi_encode(&call).into());
    let summary = TxSummary::call(8996, "datatoken", p.datatoken, "startOrder");
    let e = kelp_ocean::chain::transact(&consumer, &net.provider, tx, &summary, std::time::Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(&e, OceanError::Reverted { reason, .. } if reason.contains("Invalid provider fee")), "{e}");
    // A fee signed by its own (stranger) address is accepted on chain, but the node refuses to
    // serve an order that does not carry its own fee (Ocean Node's 500 "ERROR checking fees").
    let mut call = call;
    call._providerFee = self_signed.to_contract().unwrap();
    let tx = TransactionRequest::default().to(p.datatoken).input(alloy::sol_types::SolCall::abi_encode(&call).into());
    let r = kelp_ocean::chain::transact(&consumer, &net.provider, tx, &summary, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let node = kelp_ocean::provider::NodeClient::new(net.node_url.as_deref().unwrap());
    let e = node.download(&consumer, &p.did, "0", r.transaction_hash, 0).await.unwrap_err().to_string();
    assert!(e.contains("HTTP 500") && e.contains("ERROR checking fees"), "{e}");
    let broke_key = format!("0x{}", alloy::hex::encode(alloy::signers::local::PrivateKeySigner::random().to_bytes()));
    let broke = LocalKeySigner::from_env_value("KELP_PRIVATE_KEY", &broke_key, &net.rpc_url, 8996).unwrap();
    let e =
        publish::publish(&net, &broke, &spec("No money", Price::Free, &url), &journal, &mut quiet).await.unwrap_err();
    assert!(matches!(e, OceanError::NoFunds(_)), "{e}");
    let dead = format!("http://127.0.0.1:{}", kelp_ocean::devnet::process::free_port().unwrap());
    let e = kelp_ocean::provider::NodeClient::new(&dead).root().await.unwrap_err().to_string();
    assert!(e.contains("not reachable") && !e.contains('\n'), "{e}");

    // The magics on the same devnet: %publish, %ocean get / show / assets / price, %wallet.
    let ctx = common::devnet_cell(home.path(), port);
    let out = ctx.run(&format!("publish {url} --name 'Magic table' --tags a,b")).await.unwrap();
    let did = out.json().unwrap()["did"].as_str().unwrap().to_string();
    assert_eq!(out.value.as_ref().unwrap().expr, format!("String::from({did:?})"));
    let got = ctx.run(&format!("ocean get {did} -o got.csv --account 3")).await.unwrap();
    assert_eq!(std::fs::read(home.path().join("got.csv")).unwrap(), DATA);
    assert_eq!(got.json().unwrap()["size"], DATA.len());
    // A local file: added to IPFS by %publish, served from the block store by the node, and
    // the consumer's bytes hash to the published CID.
    std::fs::write(home.path().join("table.csv"), DATA).unwrap();
    let out = ctx.run("publish table.csv --name 'IPFS table' --price 1.5").await.unwrap();
    let j = out.json().unwrap().clone();
    let cid = j["file"]["hash"].as_str().unwrap().to_string();
    assert_eq!(j["file"]["type"], "ipfs");
    assert!(cid.starts_with("Qm"), "{cid}");
    let got = ctx.run(&format!("ocean get {} -o ipfs.csv --account 4", j["did"].as_str().unwrap())).await.unwrap();
    let g = got.json().unwrap();
    assert_eq!(
        (g["cid"].as_str(), &g["cid_verified"], &g["acquired"]),
        (Some(cid.as_str()), &serde_json::json!(true), &serde_json::json!("fixed-rate"))
    );
    assert_eq!(std::fs::read(home.path().join("ipfs.csv")).unwrap(), DATA);
    assert!(kelp_ocean::ipfs::bytes_match_cid(&std::fs::read(home.path().join("ipfs.csv")).unwrap(), &cid));
    let show = ctx.run(&format!("ocean show {did}")).await.unwrap();
    assert_eq!(show.json().unwrap()["metadata"]["tags"], serde_json::json!(["a", "b"]));
    // A saved notebook with kelp records: its inputs and outputs go into the asset's metadata,
    // on chain and in the node's DDO; --inputs-of attaches them to another file (a result).
    let record = serde_json::json!({"format": 1, "kelp": "0.1.0", "kind": "magic", "magic": "%ipfs cat x",
        "reads": [{"type": "cid", "cid": cid}, {"type": "path", "path": "/home/ada/raw.csv", "sha256": "ab12"}],
        "writes": [{"type": "cid", "cid": "bafkreiresult"}]});
    let nb = serde_json::json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code",
        "execution_count": 1, "metadata": {}, "source": "%ipfs cat x", "outputs": [{"output_type": "display_data",
        "data": {"text/plain": "x"}, "metadata": {"kelp": record}}]}]});
    std::fs::write(home.path().join("paper.ipynb"), serde_json::to_vec(&nb).unwrap()).unwrap();
    let out = ctx.run("publish paper.ipynb --name 'Paper notebook'").await.unwrap();
    assert!(out.plain().unwrap().contains("lineage of paper.ipynb: 2 input(s), 1 output(s)"), "{:?}", out.plain());
    let paper_did = out.json().unwrap()["did"].as_str().unwrap().to_string();
    let show = ctx.run(&format!("ocean show {paper_did}")).await.unwrap();
    let lineage = show.json().unwrap()["metadata"]["additionalInformation"]["kelp"].clone();
    assert_eq!(lineage["notebook"], "paper.ipynb");
    assert_eq!(
        lineage["inputs"],
        serde_json::json!([{"type": "cid", "cid": cid}, {"type": "file", "name": "raw.csv", "sha256": "ab12"}])
    );
    assert_eq!(lineage["outputs"], serde_json::json!([{"type": "cid", "cid": "bafkreiresult"}]));
    let out = ctx.run(&format!("publish {url} --name 'Result table' --inputs-of paper.ipynb")).await.unwrap();
    assert_eq!(out.json().unwrap()["lineage"]["inputs"][0]["cid"], cid.as_str());
    // A notebook with no records named by --inputs-of: one line, nothing sent.
    std::fs::write(home.path().join("bare.ipynb"), br#"{"nbformat": 4, "cells": []}"#).unwrap();
    let before = common::nft_count(&net).await;
    let e = ctx.run(&format!("publish {url} --name Bare --inputs-of bare.ipynb")).await.unwrap_err().to_string();
    assert!(e.contains("holds no kelp records") && !e.contains('\n'), "{e}");
    assert_eq!(common::nft_count(&net).await, before, "no NFT for a refused publish");
    let found = ctx.run("ocean assets --text magic").await.unwrap();
    assert_eq!(found.json().unwrap()["assets"].as_array().unwrap().len(), 1);
    // The order of `ocean get` above is counted, as Ocean Node counts OrderStarted (its
    // indexer follows the chain every 200 ms).
    let mut orders = serde_json::Value::Null;
    for _ in 0..50 {
        let found = ctx.run("ocean assets --text magic").await.unwrap();
        orders = found.json().unwrap()["assets"][0]["orders"].clone();
        if orders == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(orders, 1, "one order of 'Magic table'");
    let owner = found.json().unwrap()["assets"][0]["owner"].as_str().unwrap().to_string();
    let theirs = ctx.run(&format!("ocean assets --text magic --owner {owner}")).await.unwrap();
    assert_eq!(theirs.json().unwrap()["assets"][0]["did"], did.as_str());
    let nobody = ctx.run(&format!("ocean assets --owner {}", Address::repeat_byte(7))).await.unwrap();
    assert_eq!(nobody.json().unwrap()["assets"], serde_json::json!([]));
    let e = ctx.run("ocean assets --owner 0x12").await.unwrap_err().to_string();
    assert!(e.contains("--owner 0x12: not an address") && !e.contains('\n'), "{e}");
    let price = ctx.run(&format!("ocean price {}", p2.did)).await.unwrap();
    assert_eq!(price.json().unwrap()["pricing"], "fixed");
    // %wallet: a keystore made from a key, used for the session; sends of OCEAN and ETH move
    // the balances; an algorithm carries its container metadata.
    ctx.env.set("KELP_KEYSTORE_PASSWORD", Some("correct horse".into()));
    let e = ctx.run("wallet import mine").await.unwrap_err().to_string();
    assert!(e.contains("KELP_IMPORT_KEY"), "{e}");
    ctx.env.set("KELP_IMPORT_KEY", Some("0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a".into()));
    let made = ctx.run("wallet import mine").await.unwrap();
    let four = LocalKeySigner::dev_address(4).unwrap();
    assert_eq!(made.json().unwrap()["address"].as_str().unwrap().parse::<Address>().unwrap(), four);
    assert!(!made.plain().unwrap().contains("47e179ec"));
    let six = LocalKeySigner::dev_address(6).unwrap();
    let ocean6 = ocean_of(&net, six).await;
    let sent = ctx.run(&format!("wallet send {six} 2.5 --token OCEAN")).await.unwrap();
    assert!(sent.json().unwrap()["gas"].as_u64().unwrap() > 21_000);
    assert_eq!(ocean_of(&net, six).await, ocean6 + parse_ether("2.5").unwrap());
    let eth6 = alloy::providers::Provider::get_balance(&net.provider, six).await.unwrap();
    ctx.run(&format!("wallet send {six} 1")).await.unwrap();
    assert_eq!(
        alloy::providers::Provider::get_balance(&net.provider, six).await.unwrap(),
        eth6 + parse_ether("1").unwrap()
    );
    let shown = ctx.run("wallet").await.unwrap();
    assert_eq!(shown.json().unwrap()["address"].as_str().unwrap().parse::<Address>().unwrap(), four);
    let e = ctx.run(&format!("wallet send {six} 99999999 --token OCEAN")).await.unwrap_err().to_string();
    assert!(e.contains("insufficient funds"), "{e}");
    let e = ctx.run(&format!("wallet send {six} lots")).await.unwrap_err().to_string();
    assert!(e.contains("bad amount"), "{e}");
    ctx.env.set("KELP_KEYSTORE", None);
    let algo = ctx.run(&format!("publish {url} --name Algo --type algorithm --image-tag 3.12-slim")).await.unwrap();
    let algo_did = algo.json().unwrap()["did"].as_str().unwrap().to_string();
    let show = ctx.run(&format!("ocean show {algo_did}")).await.unwrap();
    let m = &show.json().unwrap()["metadata"];
    assert_eq!(
        (m["type"].as_str(), m["algorithm"]["container"]["tag"].as_str()),
        (Some("algorithm"), Some("3.12-slim"))
    );
    let sw = ctx.run("wallet switch devnet").await.unwrap();
    assert_eq!(sw.json().unwrap()["chain_id"], 8996);
    let w = ctx.run("wallet --account 3").await.unwrap();
    assert_eq!(
        w.json().unwrap()["address"].as_str().unwrap().parse::<Address>().unwrap(),
        LocalKeySigner::dev_address(3).unwrap()
    );

    // Bad inputs: one line each.
    for (line, want) in [
        ("publish nothing-here.csv --name x", "no such file"),
        (&format!("publish {url} --name x --price -2") as &str, "bad price"),
        ("ocean get did:op:xyz", "not an Ocean DID"),
        (&format!("publish {url} --name y --network atlantis") as &str, "unknown network"),
        (&format!("ocean get did:op:{}", "0".repeat(64)), "not known to the node"),
    ] {
        let e = ctx.run(line).await.unwrap_err().to_string();
        assert!(e.contains(want) && !e.contains('\n'), "{line}: {e}");
    }
}
