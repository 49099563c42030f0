//! `BrowserSigner` against real parts: a real Jupyter server from `.venv` with kelp_labextension's
//! relay (started as kelp-relay's own tests do; this test fails, never skips, when `.venv` or the
//! extension is missing) and the real devnet (anvil + the Ocean contracts from npm). The test plays
//! the browser with its injected EIP-1193 provider: it reads the requests on the relay's browser
//! face (authenticated with the server token), checks the summary the person would see, and
//! forwards approved calls to anvil from the requested account (anvil's dev accounts are
//! unlocked), posting the wallet's answer back.

use alloy::primitives::{Address, U256, utils::parse_ether};
use alloy::providers::Provider;
use kelp_magic::testing::Cell;
use kelp_ocean::contracts::IERC20;
use kelp_ocean::devnet::DevnetPaths;
use kelp_ocean::signer::{BrowserSigner, LocalKeySigner, Signer};
use kelp_ocean::{chain, magics};
use serde_json::{Value, json};
use std::sync::Arc;

use crate::common;
use common::Cleanup;

use kelp_testkit::jupyter as relay;
use relay::Browser;

/// The injected provider's side: run one EIP-1193 call on anvil as an unlocked account.
async fn anvil_rpc(rpc: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let r: Value = reqwest::Client::new().post(rpc).json(&body).send().await.unwrap().json().await.unwrap();
    assert!(r.get("error").is_none(), "anvil refused {method}: {r}");
    r["result"].clone()
}

struct Session {
    cell: Cell,
    rpc: String,
    browser: Browser,
}

impl Session {
    /// Run `%wallet <line>` in the background, as a cell does while the person looks at the dialog.
    fn run(&self, line: &str) -> tokio::task::JoinHandle<kelp_magic::Result<kelp_magic::Output>> {
        let (cell, line) = (self.cell.clone(), line.to_string());
        tokio::spawn(async move { cell.run(&line).await })
    }

    /// Approve a pending `eth_sendTransaction` the way the wallet does: send it on the chain.
    async fn approve_tx(&self, req: &Value) -> String {
        assert_eq!(req["kind"], "eth_sendTransaction");
        let mut tx = req["params"][0].clone();
        tx.as_object_mut().unwrap().remove("chainId");
        let hash = anvil_rpc(&self.rpc, "eth_sendTransaction", json!([tx])).await;
        self.browser.approve(req["id"].as_str().unwrap(), hash.clone()).await;
        hash.as_str().unwrap().to_string()
    }
}

async fn eth(rpc: &str, who: Address) -> U256 {
    chain::connect(rpc).unwrap().get_balance(who).await.unwrap()
}

#[tokio::test]
async fn wallet_send_through_the_browser_wallet_approve_reject_auto_and_local() {
    let (_turn, server) = relay::exclusive().await;
    let browser = Browser::new(server);
    kelp_ocean::tools::Tools::locate(|v| std::env::var(v).ok())
        .expect("anvil and the Ocean artifacts must be installed (./install/setup)");
    let home = tempfile::tempdir().unwrap();
    let _cleanup = Cleanup(DevnetPaths::new(home.path().join("ocean")));
    let ctx = Cell::at(home.path(), magics()).with_home(home.path());
    let port = kelp_ocean::devnet::process::free_port().unwrap();
    ctx.env.set(kelp_ocean::magics::devnet::ENV_PORT, Some(port.to_string()));
    ctx.env.set(kelp_ocean::devnet::node::ENV_NODE, Some(common::node_bin()));
    for v in ["KELP_PRIVATE_KEY", "KELP_KEYSTORE", "KELP_NETWORK"] {
        ctx.env.set(v, None);
    }
    ctx.env.set("KELP_RELAY_URL", Some(server.relay_url.clone()));
    ctx.env.set("KELP_RELAY_SECRET", Some(server.relay_secret.clone()));
    let up = ctx.ok("devnet up").await;
    let rpc = up.json().unwrap()["rpc_url"].as_str().unwrap().to_string();
    let s = Session { cell: ctx.clone(), rpc: rpc.clone(), browser: browser.clone() };
    let me = LocalKeySigner::dev_address(1).unwrap();
    let to = LocalKeySigner::dev_address(2).unwrap();
    let me_s = me.to_string().to_lowercase();

    // 0. No flag, relay present but no browser has ever looked at it (a headless run): the
    //    devnet's account #0 signs and no request reaches the relay.
    let zero = LocalKeySigner::dev_address(0).unwrap();
    let zero_before = eth(&rpc, zero).await;
    let cell = tokio::time::timeout(std::time::Duration::from_secs(60), s.run(&format!("wallet send {to} 1")));
    cell.await.expect("the local key signs without waiting for a browser").unwrap().unwrap();
    assert!(eth(&rpc, zero).await < zero_before);
    assert!(browser.list().await.is_empty());

    // 1. --signer browser, no wallet reported yet: the kernel asks for the account first; the
    //    person then rejects the transfer. Nothing is sent.
    let before = eth(&rpc, to).await;
    let cell = s.run(&format!("wallet send {to} 1.5 --signer browser"));
    let req = browser.wait_for("connect account").await;
    assert_eq!(req["kind"], "eth_requestAccounts");
    browser.approve(req["id"].as_str().unwrap(), json!([me_s])).await;
    let req = browser.wait_for("transfer ETH").await;
    // A plain transfer reads as From/To/Amount: the amount once, in ETH, no contract call.
    assert_eq!(req["summary"]["network"], "devnet (chain 8996)");
    assert_eq!(req["summary"]["title"], format!("Send 1.5 ETH to {to}"));
    assert_eq!(req["summary"]["from"].as_str().unwrap().to_lowercase(), me_s);
    assert_eq!(req["summary"]["value"], "1.5 ETH");
    assert!(req["summary"].get("contract").is_none() && req["summary"].get("args").is_none(), "{req}");
    assert!(req["summary"]["requester"].as_str().unwrap().starts_with("kelp kernel"), "{req}");
    assert_eq!(req["chain_id"], "0x2324");
    // A wallet that lacks the devnet adds it with the devnet's real RPC URL (its own free port,
    // not JupyterLab's default 127.0.0.1:8545), in the shape wallet_addEthereumChain takes.
    assert_ne!(rpc, "http://127.0.0.1:8545");
    assert_eq!(
        req["add_chain"],
        json!({"chainId": "0x2324", "chainName": "kelp devnet", "rpcUrls": [rpc],
               "nativeCurrency": {"name": "Ether", "symbol": "ETH", "decimals": 18}})
    );
    assert_eq!(req["params"][0]["from"].as_str().unwrap().to_lowercase(), me_s);
    assert_eq!(req["params"][0]["value"], "0x14d1120d7b160000");
    browser.reject(req["id"].as_str().unwrap()).await;
    let e = cell.await.unwrap().unwrap_err();
    assert_eq!(e.to_string(), "rejected in wallet");
    assert_eq!(eth(&rpc, to).await, before);
    // The cell showed the live waiting display, which ended as rejected.
    let shown = format!("{:?}", s.cell.events());
    assert!(shown.contains("waiting for wallet approval"), "{shown}");
    assert!(!shown.contains(&server.relay_secret) && !shown.contains(&server.token));

    // 2. No --signer and no local key: the relay found through the Jupyter runtime directory (a
    //    kernel the server did not start) is chosen; the wallet reported its account, so no
    //    connect request. Approve: a mined transfer with status 1.
    ctx.env.set("KELP_RELAY_URL", None);
    ctx.env.set("KELP_RELAY_SECRET", None);
    ctx.env.set("JUPYTER_RUNTIME_DIR", Some(server.runtime_dir.display().to_string()));
    browser.report_wallet(json!({"account": me_s, "chain_id": "0x2324", "name": "Test Wallet"})).await;
    let cell = s.run(&format!("wallet send {to} 1.5"));
    let req = browser.wait_for("transfer ETH").await;
    assert_eq!(req["params"][0]["to"].as_str().unwrap().to_lowercase(), to.to_string().to_lowercase());
    assert_eq!(req["add_chain"]["rpcUrls"], json!([rpc]), "{req}");
    let hash = s.approve_tx(&req).await;
    let out = cell.await.unwrap().unwrap();
    assert_eq!(out.json().unwrap()["tx"], hash);
    let p = chain::connect(&rpc).unwrap();
    let receipt = p.get_transaction_receipt(hash.parse().unwrap()).await.unwrap().expect("mined");
    assert!(receipt.status());
    assert_eq!(receipt.from, me);
    assert_eq!(eth(&rpc, to).await, before + parse_ether("1.5").unwrap());

    // 3. A token transfer: the person sees the OCEAN contract, `transfer` and its arguments.
    let ocean: Address = kelp_ocean::addresses::read_entry(
        &DevnetPaths::new(home.path().join("ocean")).address_file(),
        kelp_ocean::addresses::DEVNET_NAME,
    )
    .unwrap()
    .ocean;
    let tok = IERC20::new(ocean, &p);
    let ocean_before = tok.balanceOf(to).call().await.unwrap();
    let cell = s.run(&format!("wallet send {to} 2 --token OCEAN --signer browser"));
    let req = browser.wait_for("transfer").await;
    assert_eq!(req["summary"]["contract"], format!("OCEAN ({ocean})"));
    assert_eq!(req["summary"]["args"], json!({"to": to.to_string(), "amount": "2"}));
    assert_eq!(req["summary"]["title"], format!("Call OCEAN.transfer at {ocean}"));
    assert!(req["summary"].get("value").is_none(), "no ETH is sent with a token transfer: {req}");
    assert!(req["params"][0]["data"].as_str().unwrap().starts_with("0xa9059cbb"), "{req}");
    s.approve_tx(&req).await;
    cell.await.unwrap().unwrap();
    assert_eq!(tok.balanceOf(to).call().await.unwrap(), ocean_before + parse_ether("2").unwrap());

    // 4. --signer local with the relay present: the devnet's account #0 signs, the browser sees nothing.
    let zero_before = eth(&rpc, zero).await;
    let out = s.run(&format!("wallet send {to} 1 --signer local")).await.unwrap().unwrap();
    assert!(out.json().unwrap()["tx"].is_string());
    assert!(eth(&rpc, zero).await < zero_before);
    assert!(browser.list().await.is_empty());

    // 5. The Signer directly: personal_sign through the wallet recovers to the wallet's account.
    let signer = BrowserSigner::discover(&ctx, "devnet", 8996, &rpc).await.expect("relay discovered");
    assert_eq!(signer.address().await.unwrap(), me);
    assert_eq!(signer.chain_id().await.unwrap(), 8996);
    assert!(browser.list().await.is_empty(), "no switch while the wallet is on the devnet");
    // The wallet moves to mainnet: the signer asks it to switch back, adding the devnet if needed.
    browser.report_wallet(json!({"account": me_s, "chain_id": "0x1", "name": "Test Wallet"})).await;
    let signer = Arc::new(signer);
    let switching = tokio::spawn({
        let signer = signer.clone();
        async move { signer.chain_id().await }
    });
    let req = browser.wait_for("switch network").await;
    assert_eq!((&req["kind"], &req["params"]), (&json!("wallet_switchEthereumChain"), &json!([{"chainId": "0x2324"}])));
    assert_eq!((&req["add_chain"]["chainId"], &req["add_chain"]["rpcUrls"]), (&json!("0x2324"), &json!([rpc])));
    browser.approve(req["id"].as_str().unwrap(), Value::Null).await;
    assert_eq!(switching.await.unwrap().unwrap(), 8996);
    browser.report_wallet(json!({"account": me_s, "chain_id": "0x2324", "name": "Test Wallet"})).await;
    let msg = b"kelp says hello";
    let sign = tokio::spawn(async move { signer.personal_sign(msg).await });
    let req = browser.wait_for("sign message").await;
    assert_eq!(req["summary"]["args"]["message"], "kelp says hello");
    let sig = anvil_rpc(&rpc, "personal_sign", req["params"].clone()).await;
    browser.approve(req["id"].as_str().unwrap(), sig).await;
    let sig = sign.await.unwrap().unwrap();
    assert_eq!(sig.recover_address_from_msg(msg).unwrap(), me);

    // 6. Interrupting the cell withdraws the request: the dialog disappears from the browser.
    let interrupted = ctx.next();
    let token = interrupted.cancel.clone();
    let line = format!("wallet send {to} 1 --signer browser");
    let cell = tokio::spawn(async move { interrupted.run(&line).await });
    browser.wait_for("transfer ETH").await;
    token.cancel();
    let e = cell.await.unwrap().unwrap_err();
    assert!(matches!(e, kelp_magic::MagicError::Cancelled(_)), "{e}");
    assert!(browser.list().await.is_empty());

    // 7. --signer browser without any relay: one clear line saying what to do.
    ctx.env.set("JUPYTER_RUNTIME_DIR", Some(home.path().display().to_string()));
    let e = s.run(&format!("wallet send {to} 1 --signer browser")).await.unwrap().unwrap_err().to_string();
    assert!(e.starts_with("--signer browser needs the kelp relay") && !e.contains('\n'), "{e}");

    // 8. %publish --signer browser: every transaction and the node's signed request go through
    //    the wallet, each with its summary; the asset is published from the wallet's account.
    ctx.env.set("JUPYTER_RUNTIME_DIR", Some(server.runtime_dir.display().to_string()));
    let app = axum::Router::new().route("/data.csv", axum::routing::get(|| async { "a,b\n1,2\n" }));
    let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let file_url = format!("http://{}/data.csv", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let line = format!("publish {file_url} --name 'Wallet table' --signer browser");
    let a = kelp_ocean::addresses::read_entry(
        &DevnetPaths::new(home.path().join("ocean")).address_file(),
        kelp_ocean::addresses::DEVNET_NAME,
    )
    .unwrap();
    let factory = kelp_ocean::contracts::IERC721Factory::new(a.erc721_factory, &p);
    let nfts = factory.getCurrentNFTCount().call().await.unwrap();

    // 8a. The person rejects the metadata transaction (step 4 of 4): the cell says the NFT exists
    //     and the metadata is pending, and how to finish; it does not claim `published`.
    let (stop, wallet_side) = wallet_answers(&browser, &rpc, Some("setMetaData"));
    let run = ctx.run(&line);
    let e = tokio::time::timeout(std::time::Duration::from_secs(180), run).await.expect("publish ended").unwrap_err();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let first = wallet_side.await.unwrap();
    let e = e.to_string();
    assert!(e.starts_with("NFT created (0x") && e.contains("metadata pending"), "{e}");
    assert!(e.contains("rejected in wallet") && e.contains("run the cell again to finish"), "{e}");
    assert!(!e.contains('\n') && !e.contains("published"), "{e}");
    assert_eq!(factory.getCurrentNFTCount().call().await.unwrap(), nfts + U256::from(1));
    let steps: Vec<&str> = first.iter().map(|r| r["summary"]["step"].as_str().unwrap_or("")).collect();
    assert_eq!(steps, ["step 1 of 4", "step 2 of 4", "step 3 of 4", "step 4 of 4"], "{first:?}");
    for (r, i) in first.iter().zip(1..) {
        assert!(r["summary"]["from"].as_str().unwrap().eq_ignore_ascii_case(&me_s), "{r}");
        if r["kind"] == "personal_sign" {
            // A node request says what it authorises; the hash is only a detail.
            let title = r["summary"]["title"].as_str().unwrap();
            let node = title.strip_prefix("Authorise Ocean node http://").expect(title);
            assert!(node.contains(" to encrypt (nonce ") && title.ends_with(')'), "{title}");
            let hash = r["params"][0].as_str().unwrap();
            assert!(r["summary"]["detail"].as_str().unwrap().ends_with(hash), "{r}");
            assert!(r["summary"].get("args").is_none(), "{r}");
            assert!(i == 2 || i == 3, "the node requests are steps 2 and 3: {r}");
        }
    }

    // 8b. Running the cell again resumes the journal: steps 2–4 (re-encrypt, setMetaData), the same
    //     NFT, no second one.
    let (stop, wallet_side) = wallet_answers(&browser, &rpc, None);
    let out = tokio::time::timeout(std::time::Duration::from_secs(180), ctx.run(&line))
        .await
        .expect("publish finished")
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = wallet_side.await.unwrap();
    assert_eq!(factory.getCurrentNFTCount().call().await.unwrap(), nfts + U256::from(1), "no second NFT");
    let steps: Vec<&str> = seen.iter().map(|r| r["summary"]["step"].as_str().unwrap_or("")).collect();
    assert_eq!(steps, ["step 2 of 4", "step 3 of 4", "step 4 of 4"], "{seen:?}");
    let seen: Vec<Value> = first.into_iter().chain(seen).collect();
    let j = out.json().unwrap();
    let nft = j["nft"].as_str().unwrap().to_lowercase();
    assert!(e.to_lowercase().contains(&nft), "the same NFT finished: {e} / {j}");
    assert!(j["did"].as_str().unwrap().starts_with("did:op:"), "{j}");
    for tx in seen.iter().filter(|r| r["kind"] == "eth_sendTransaction") {
        assert_eq!(tx["add_chain"]["rpcUrls"], json!([rpc]), "{tx}");
    }
    let create = seen
        .iter()
        .find(|r| r["summary"]["contract"].as_str().unwrap_or("").starts_with("ERC721Factory ("))
        .expect("the browser saw the ERC721Factory call");
    assert_eq!(create["kind"], "eth_sendTransaction");
    assert_eq!(create["summary"]["args"]["name"], "Wallet table", "{create}");
    assert!(seen.iter().any(|r| r["kind"] == "personal_sign"), "the node request is signed in the wallet");
    for t in j["txs"].as_array().unwrap() {
        let hash = t["hash"].as_str().unwrap().parse().unwrap();
        let receipt = p.get_transaction_receipt(hash).await.unwrap().expect("mined");
        assert!(receipt.status() && receipt.from == me, "{t}");
    }
    // Rejected setMetaData is not a transaction: factory + setMetaData were mined.
    assert_eq!(
        seen.iter().filter(|r| r["kind"] == "eth_sendTransaction").count(),
        j["txs"].as_array().unwrap().len() + 1
    );

    ctx.ok("devnet down --no-save").await;
}

/// The wallet's side while a publish runs: approves every request on anvil (the dev accounts are
/// unlocked), except one whose summary method is `reject`, which the person rejects. Set the flag
/// to stop; the task returns the requests seen, in order.
fn wallet_answers(
    browser: &Browser,
    rpc: &str,
    reject: Option<&'static str>,
) -> (Arc<std::sync::atomic::AtomicBool>, tokio::task::JoinHandle<Vec<Value>>) {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (browser, rpc, flag) = (browser.clone(), rpc.to_string(), stop.clone());
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            for r in browser.list().await {
                let id = r["id"].as_str().unwrap().to_string();
                if reject.is_some_and(|m| r["summary"]["method"] == m) {
                    browser.reject(&id).await;
                    seen.push(r);
                    continue;
                }
                let method = r["kind"].as_str().unwrap().to_string();
                let mut params = r["params"].clone();
                if method == "eth_sendTransaction" {
                    params[0].as_object_mut().unwrap().remove("chainId");
                }
                let result = anvil_rpc(&rpc, &method, params).await;
                browser.approve(&id, result).await;
                seen.push(r);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        seen
    });
    (stop, task)
}
