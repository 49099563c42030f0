//! The relay client against a REAL Jupyter server with kelp_labextension (from `.venv`); the test
//! plays the browser through the browser face with the Jupyter token while the client waits.
//! Run single-threaded (`-- --test-threads 1`): the tests share one server and its browser state.

use kelp_magic::testing::Cell;
use kelp_magic::{EnvVars, MagicError, RecordingSink, SinkEvent};
use kelp_relay::{Kind, RelayClient, RelayError, RelaySource, RequestOptions, Summary};
use kelp_testkit::jupyter::{Browser, server};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn client() -> RelayClient {
    let s = server();
    RelayClient::new(&s.relay_url, &s.relay_secret).unwrap()
}

/// A cell in `/` with a `$KELP_HOME` that does not exist (the relay client needs neither), and
/// its recording sink.
fn ctx() -> (Cell, Arc<RecordingSink>) {
    let cell = Cell::at(std::path::Path::new("/"), []).with_home("/nonexistent-kelp-home");
    let sink = cell.sink.clone();
    (cell, sink)
}

fn plain(o: &kelp_magic::Output) -> String {
    o.plain().unwrap_or_default().to_string()
}

/// Every display text (plain and JSON) the sink saw, for the no-secret checks.
fn shown(sink: &RecordingSink) -> String {
    format!("{:?}", sink.events())
}

/// Wait until the relay no longer counts a browser as listening (the last listing is > 5 s old).
async fn browser_quiet(c: &RelayClient) {
    let started = Instant::now();
    while c.status().await.unwrap().browser_listening() {
        assert!(started.elapsed() < Duration::from_secs(15), "a browser still counts as listening");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

const HASH: &str = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060";

#[tokio::test]
async fn approve_returns_the_wallet_result_and_the_display_follows() {
    let c = client();
    let browser = Browser::new(server());
    let (ctx, sink) = ctx();
    let add = json!({"chainId": "0x2324", "chainName": "kelp devnet", "rpcUrls": ["http://127.0.0.1:8545"],
                     "nativeCurrency": {"name": "Ether", "symbol": "ETH", "decimals": 18}});
    let person = {
        let browser = browser.clone();
        let add = add.clone();
        tokio::spawn(async move {
            let req = browser.wait_for("createNftWithErc20").await;
            assert_eq!(req["kind"], "eth_sendTransaction");
            assert_eq!(req["params"], json!([{"to": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "value": "0x0"}]));
            assert_eq!(
                req["summary"],
                json!({"network": "devnet (chain 8996)", "contract": "ERC721Factory 0xabc", "method": "createNftWithErc20",
                       "args": {"name": "Data NFT", "symbol": "DN1"}, "value": "0 ETH", "gas": "≤ 1200000"})
            );
            assert_eq!(req["chain_id"], "0x2324");
            assert_eq!(req["add_chain"], add);
            browser.approve(req["id"].as_str().unwrap(), json!(HASH)).await;
        })
    };
    let summary = Summary::new()
        .network("devnet (chain 8996)")
        .contract("ERC721Factory 0xabc")
        .method("createNftWithErc20")
        .arg("name", "Data NFT")
        .arg("symbol", "DN1")
        .value("0 ETH")
        .gas("≤ 1200000");
    let tx = json!({"to": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "value": "0x0"});
    let hash =
        c.send_transaction(tx, summary, RequestOptions::default().chain(8996).add_chain(add), &ctx).await.unwrap();
    person.await.unwrap();
    assert_eq!(hash, HASH);
    let events = sink.events();
    let (first, id) = match &events[0] {
        SinkEvent::Display(o, Some(id)) => (o.clone(), id.clone()),
        e => panic!("first event should be the waiting display, got {e:?}"),
    };
    assert!(plain(&first).starts_with("waiting for wallet approval: ERC721Factory 0xabc · createNftWithErc20"));
    assert_eq!(first.json().unwrap()["state"], "waiting");
    match events.last().unwrap() {
        SinkEvent::Update(o, i) => {
            assert_eq!(i, &id);
            assert_eq!(o.json().unwrap()["state"], "approved");
            assert!(plain(o).starts_with("approved in wallet"));
        }
        e => panic!("last event should close the display, got {e:?}"),
    }
    // The relay forgot the request once the answer was collected.
    assert!(browser.list().await.iter().all(|r| r["summary"]["method"] != "createNftWithErc20"));
}

#[tokio::test]
async fn reject_reads_rejected_in_wallet() {
    let c = client();
    let browser = Browser::new(server());
    let (ctx, sink) = ctx();
    let person = tokio::spawn(async move {
        let req = browser.wait_for("reject-me").await;
        browser.reject(req["id"].as_str().unwrap()).await;
    });
    let err = c
        .personal_sign(
            "0x68656c6c6f",
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            Summary::new().method("reject-me"),
            &ctx,
        )
        .await
        .unwrap_err();
    person.await.unwrap();
    assert!(matches!(err, RelayError::Rejected), "{err:?}");
    assert_eq!(err.to_string(), "rejected in wallet");
    assert_eq!(MagicError::from(err).to_string(), "rejected in wallet");
    let SinkEvent::Update(last, _) = sink.events().last().unwrap().clone() else { panic!("no final update") };
    assert_eq!(last.json().unwrap()["state"], "rejected");
}

#[tokio::test]
async fn other_wallet_errors_carry_the_wallet_message() {
    let c = client();
    let browser = Browser::new(server());
    let person = tokio::spawn(async move {
        let req = browser.wait_for("poor").await;
        let body = json!({"error": {"code": -32603, "message": "insufficient funds for gas * price + value"}});
        assert_eq!(browser.answer(req["id"].as_str().unwrap(), body).await, 200);
    });
    let err = c
        .request(
            Kind::SendTransaction,
            json!([{}]),
            Summary::new().method("poor"),
            RequestOptions::default(),
            &Default::default(),
        )
        .await
        .unwrap_err();
    person.await.unwrap();
    assert!(matches!(err, RelayError::Wallet { code: Some(-32603), .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("the wallet refused: insufficient funds for gas * price + value (code -32603)")
    );
}

#[tokio::test]
async fn expiry_says_how_long_and_what_to_do() {
    let c = client();
    let (ctx, sink) = ctx();
    let opts = RequestOptions { poll_wait: 1, ..RequestOptions::default() }.expires_in(Duration::from_millis(1500));
    let started = Instant::now();
    let err =
        c.request_in(&ctx, Kind::PersonalSign, json!(["0x00", "0x00"]), Summary::new().method("late"), opts).await;
    let err = err.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(1400));
    assert!(matches!(err, RelayError::Expired { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("the signing request expired after 1.5 s: approve it sooner or"), "{text}");
    assert!(text.contains(&format!("{}/sign", server().relay_url)), "{text}");
    let SinkEvent::Update(last, _) = sink.events().last().unwrap().clone() else { panic!("no final update") };
    assert_eq!(last.json().unwrap()["state"], "expired");
}

#[tokio::test]
async fn interrupt_deletes_the_request_so_the_browser_drops_it() {
    let c = client();
    let browser = Browser::new(server());
    let (ctx, sink) = ctx();
    let cancel = ctx.cancel.clone();
    let seen = {
        let browser = browser.clone();
        tokio::spawn(async move {
            let req = browser.wait_for("interrupt-me").await;
            cancel.cancel();
            req["id"].as_str().unwrap().to_string()
        })
    };
    let err = c
        .request_in(
            &ctx,
            Kind::SignTypedDataV4,
            json!(["0x00", {}]),
            Summary::new().method("interrupt-me"),
            RequestOptions::default(),
        )
        .await
        .unwrap_err();
    let id = seen.await.unwrap();
    assert!(matches!(err, RelayError::Cancelled { late_result: None }), "{err:?}");
    assert!(matches!(MagicError::from(err), MagicError::Cancelled(_)));
    assert!(browser.list().await.iter().all(|r| r["id"] != id.as_str()), "the browser still lists it");
    // A late Approve is refused: the request is gone for good.
    let late = browser.answer(&id, json!({"result": "0x01"})).await;
    assert!(late == 404 || late == 409, "a late answer got HTTP {late}");
    let SinkEvent::Update(last, _) = sink.events().last().unwrap().clone() else { panic!("no final update") };
    assert_eq!(last.json().unwrap()["state"], "cancelled");
}

#[tokio::test]
async fn dropping_the_wait_also_withdraws_the_request() {
    let c = client();
    let browser = Browser::new(server());
    let never = kelp_magic::CancelToken::new();
    let waiting = c.request(
        Kind::PersonalSign,
        json!(["0x00", "0x00"]),
        Summary::new().method("dropped"),
        RequestOptions::default(),
        &never,
    );
    assert!(tokio::time::timeout(Duration::from_millis(1500), waiting).await.is_err());
    let started = Instant::now();
    while browser.list().await.iter().any(|r| r["summary"]["method"] == "dropped") {
        assert!(started.elapsed() < Duration::from_secs(10), "the dropped request is still pending in the browser");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn wrong_secret_is_one_clear_error_without_the_secret() {
    let s = server();
    let wrong = "not-the-relay-secret-0123456789";
    let c = RelayClient::new(&s.relay_url, wrong).unwrap();
    let err = c.status().await.unwrap_err();
    assert!(matches!(err, RelayError::WrongSecret { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with(&format!("the kelp relay at {} refused the relay secret", s.relay_url)), "{text}");
    let err = c
        .request(Kind::RequestAccounts, json!([]), Summary::new(), RequestOptions::default(), &Default::default())
        .await;
    assert!(matches!(err, Err(RelayError::WrongSecret { .. })));
    for t in [text, format!("{err:?}"), format!("{c:?}")] {
        assert!(!t.contains(wrong) && !t.contains(&s.relay_secret), "{t}");
    }
}

#[tokio::test]
async fn discovery_from_the_session_env_and_from_the_runtime_file() {
    let s = server();
    let env = EnvVars::default();
    env.set("KELP_RELAY_URL", Some(s.relay_url.clone()));
    env.set("KELP_RELAY_SECRET", Some(s.relay_secret.clone()));
    env.set("JUPYTER_RUNTIME_DIR", Some("/nonexistent".into()));
    let c = RelayClient::discover(&env).unwrap().expect("relay from env");
    assert_eq!(c.source(), &RelaySource::Env);
    assert_eq!(c.status().await.unwrap().relay, "kelp");

    env.set("KELP_RELAY_URL", None);
    env.set("KELP_RELAY_SECRET", None);
    env.set("JUPYTER_RUNTIME_DIR", Some(s.runtime_dir.to_string_lossy().into_owned()));
    let c = RelayClient::discover(&env).unwrap().expect("relay from the runtime file");
    assert_eq!(c.source(), &RelaySource::RuntimeFile(s.relay_file.clone()));
    assert_eq!(c.url(), s.relay_url);
    assert_eq!(c.status().await.unwrap().relay, "kelp");
    assert!(!format!("{c:?}").contains(&s.relay_secret));

    // Neither: no relay (the caller picks another signer).
    let empty = tempfile::tempdir().unwrap();
    env.set("JUPYTER_RUNTIME_DIR", Some(empty.path().to_string_lossy().into_owned()));
    assert!(RelayClient::discover(&env).unwrap().is_none());
}

#[tokio::test]
async fn status_reports_the_wallet_a_browser_connected() {
    let c = client();
    let browser = Browser::new(server());
    let account = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
    browser.report_wallet(json!({"account": account, "chain_id": "0x2324", "name": "Test Wallet"})).await;
    let st = c.status().await.unwrap();
    let w = st.wallet.expect("wallet reported");
    assert_eq!(w.account.as_deref(), Some(account));
    assert_eq!(w.chain_id_u64(), Some(8996));
    browser.report_wallet(json!({})).await;
    assert!(c.status().await.unwrap().wallet.is_none());
}

#[tokio::test]
async fn display_names_the_signing_page_when_no_browser_listens() {
    let c = client();
    browser_quiet(&c).await;
    let browser = Browser::new(server());
    let (ctx, sink) = ctx();
    let shown_yet = sink.clone();
    let person = tokio::spawn(async move {
        // Act only once the display is up: listing requests counts as a browser being there.
        while shown_yet.events().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let req = browser.wait_for("headless").await;
        browser.approve(req["id"].as_str().unwrap(), json!(format!("0x{}", "11".repeat(65)))).await;
    });
    let sig = c
        .personal_sign("0x6869", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", Summary::new().method("headless"), &ctx)
        .await;
    person.await.unwrap();
    assert_eq!(sig.unwrap(), format!("0x{}", "11".repeat(65)));
    let SinkEvent::Display(first, _) = sink.events()[0].clone() else { panic!("no display") };
    let sign_url = format!("{}/sign", server().relay_url);
    assert!(
        plain(&first).contains(&format!("no browser is listening: open JupyterLab or {sign_url}")),
        "{}",
        plain(&first)
    );
    assert_eq!(first.json().unwrap()["browser_listening"], false);
    assert_eq!(first.json().unwrap()["sign_url"], sign_url.as_str());
    assert!(first.data["text/html"].as_str().unwrap().contains(&format!("href=\"{sign_url}\"")));
}

#[tokio::test]
async fn display_points_to_jupyterlab_while_a_browser_watches() {
    let c = client();
    let browser = Browser::new(server());
    let rev = browser.revision().await;
    let watcher = {
        let browser = browser.clone();
        tokio::spawn(async move { browser.long_poll(rev, 20).await })
    };
    let started = Instant::now();
    while c.status().await.unwrap().browser.watching == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the long-poll never counted as watching");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (ctx, sink) = ctx();
    let person = {
        let browser = browser.clone();
        tokio::spawn(async move {
            let req = browser.wait_for("watched").await;
            browser.approve(req["id"].as_str().unwrap(), Value::Null).await;
        })
    };
    let r = c
        .request_in(
            &ctx,
            Kind::SwitchChain,
            json!([{"chainId": "0x2324"}]),
            Summary::new().method("watched"),
            RequestOptions::default(),
        )
        .await;
    person.await.unwrap();
    assert_eq!(r.unwrap(), Value::Null);
    assert_eq!(watcher.await.unwrap().0, 200);
    let SinkEvent::Display(first, _) = sink.events()[0].clone() else { panic!("no display") };
    assert!(
        plain(&first).contains("approve or reject it in the kelp wallet dialog in JupyterLab"),
        "{}",
        plain(&first)
    );
    assert!(!plain(&first).contains("/sign"));
    assert_eq!(first.json().unwrap()["browser_listening"], true);
}

#[tokio::test]
async fn typed_helpers_send_the_readme_shapes() {
    let c = client();
    let browser = Browser::new(server());
    let (ctx, _) = ctx();
    let addr = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
    let sig = format!("0x{}", "ab".repeat(65));

    let b = browser.clone();
    let s = sig.clone();
    let person = tokio::spawn(async move {
        let r = b.wait_for("sign typed").await;
        assert_eq!(r["kind"], "eth_signTypedData_v4");
        assert_eq!(r["params"][0], addr);
        assert_eq!(r["params"][1]["primaryType"], "Mail");
        b.approve(r["id"].as_str().unwrap(), json!(s)).await;
    });
    let typed = json!({"types": {"EIP712Domain": []}, "primaryType": "Mail", "domain": {}, "message": {}});
    assert_eq!(c.sign_typed_data(addr, typed, Summary::new().method("sign typed"), &ctx).await.unwrap(), sig);
    person.await.unwrap();

    let b = browser.clone();
    let person = tokio::spawn(async move {
        let r = b.wait_for("switch network").await;
        assert_eq!(r["kind"], "wallet_switchEthereumChain");
        assert_eq!(r["params"], json!([{"chainId": "0x2324"}]));
        assert_eq!(r["add_chain"]["chainName"], "kelp devnet");
        b.approve(r["id"].as_str().unwrap(), Value::Null).await;
    });
    c.switch_chain(8996, Some(json!({"chainId": "0x2324", "chainName": "kelp devnet"})), &ctx).await.unwrap();
    person.await.unwrap();

    let b = browser.clone();
    let person = tokio::spawn(async move {
        let r = b.wait_for("connect account").await;
        assert_eq!(r["kind"], "eth_requestAccounts");
        assert_eq!(r["params"], json!([]));
        b.approve(r["id"].as_str().unwrap(), json!([addr])).await;
    });
    assert_eq!(c.request_accounts(&ctx).await.unwrap(), vec![addr.to_string()]);
    person.await.unwrap();

    // A wallet answer of the wrong shape is a clear protocol error, not a bogus hash.
    let b = browser.clone();
    let person = tokio::spawn(async move {
        let r = b.wait_for("bad answer").await;
        b.approve(r["id"].as_str().unwrap(), json!("not a hash")).await;
    });
    let err = c.send_transaction(json!({}), Summary::new().method("bad answer"), RequestOptions::default(), &ctx).await;
    person.await.unwrap();
    assert!(matches!(err, Err(RelayError::Protocol(_))), "{err:?}");
}

#[tokio::test]
async fn no_error_display_or_debug_string_contains_the_secret() {
    let s = server();
    let c = client();
    let (ctx, sink) = ctx();
    let mut texts = vec![format!("{c:?}")];
    // The relay refuses a field that looks like a secret: its one-line message comes through.
    let err = c
        .request(
            Kind::SendTransaction,
            json!([{"private_key": "0x01"}]),
            Summary::new(),
            RequestOptions::default(),
            &Default::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RelayError::Refused { status: 400, .. }), "{err:?}");
    assert!(err.to_string().contains("looks like a secret"), "{err}");
    texts.push(format!("{err} {err:?}"));
    let err = c.state("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0).await.unwrap_err();
    assert!(matches!(err, RelayError::Gone));
    texts.push(format!("{err} {err:?}"));
    let opts = RequestOptions { poll_wait: 1, ..RequestOptions::default() }.expires_in(Duration::from_millis(300));
    let err = c.request_in(&ctx, Kind::PersonalSign, json!(["0x00", "0x00"]), Summary::new(), opts).await.unwrap_err();
    let line = format!("{err} {err:?}");
    texts.push(format!("{line} {}", MagicError::from(err)));
    let env = EnvVars::default();
    env.set("KELP_RELAY_URL", None);
    env.set("KELP_RELAY_SECRET", Some(s.relay_secret.clone()));
    let err = RelayClient::discover(&env).unwrap_err();
    texts.push(format!("{err} {err:?}"));
    texts.push(shown(&sink));
    for t in &texts {
        assert!(!t.contains(&s.relay_secret), "the relay secret leaked into: {t}");
        assert!(!c.leaks_secret(t));
    }
}

#[tokio::test]
async fn the_secret_never_reaches_the_server_log() {
    let s = server();
    let c = client();
    let browser = Browser::new(s);
    let person = tokio::spawn(async move {
        let req = browser.wait_for("logged").await;
        browser.reject(req["id"].as_str().unwrap()).await;
    });
    let never = kelp_magic::CancelToken::new();
    let opts = RequestOptions::default();
    let err =
        c.request(Kind::PersonalSign, json!(["0x00", "0x00"]), Summary::new().method("logged"), opts, &never).await;
    person.await.unwrap();
    assert!(matches!(err, Err(RelayError::Rejected)));
    // The access log records every kernel-face URL (so the check below can fail), never the secret.
    let started = Instant::now();
    let log = loop {
        let log = std::fs::read_to_string(&s.log).unwrap();
        if log.contains("/kelp/relay/kernel/requests") {
            break log;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the server log shows no kernel-face request");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!log.contains(&s.relay_secret), "the relay secret is in the server log");
}
