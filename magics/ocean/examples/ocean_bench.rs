//! Ocean bench on the real devnet: devnet cold and warm start, publish (free and fixed price)
//! wall time, transactions and gas, and consume time — and, on the same devnet in the same run,
//! ocean.py's create + setMetaData for the same kind of asset (`tests/crosscheck/bench_oceanpy.py`
//! run with `$KELP_OCEANPY`, the python of install/.tools/oceanpy), printed side by side.
//! Prints figures; asserts nothing about speed. Run through `install/bench ocean`
//! (install/bench.d/40-ocean.sh).
//!
//! ## Why a publish is two transactions
//!
//! kelp sends `ERC721Factory.createNftWithErc20WithDispenser` (free) or
//! `…WithFixedRate` (priced) — data NFT + datatoken + pricing in one transaction — then
//! `ERC721Template.setMetaData` on the new NFT. Checked against the ABI of
//! `@oceanprotocol/contracts` 2.6.0 (`ERC721Factory`): no factory function takes both a datatoken
//! and metadata. `createNftWithMetaData(NftCreateData, MetaData)` creates the NFT and sets its
//! metadata in one transaction, but creates no datatoken and no pricing; those would then need
//! `createERC20` on the NFT (and the dispenser/exchange with it), i.e. still two transactions, and
//! the DDO — whose access service names the datatoken and whose encrypted files object carries
//! `datatokenAddress` and `nftAddress` — would have to be written before the datatoken exists.
//! The DID itself (sha256 of the NFT address + chain id) is only known once the NFT address is.
//! So two transactions is the minimum the contracts allow, the same count as ocean.py's
//! `create_bundled` (one factory call + `setMetaData`). A one-transaction publish would need
//! something outside Ocean's contracts: predicting the clone addresses from the factory's nonce
//! and batching both calls from the publisher's account (e.g. an EIP-7702 batch delegation),
//! which breaks whenever another publish lands first.
//!
//! Gas: ocean.py's publish costs ~0.6 M gas more than kelp's for the same transactions, mostly
//! because its default `tokenURI` is a ~800-byte `data:application/json;base64,…` (an SVG image)
//! stored in the NFT, where kelp leaves the tokenURI empty; its lzma'd DDO (flags 3) is smaller
//! calldata than the plain encrypted one (flags 2) but lzma documents are not indexed by the kelp
//! node (see the `indexed` rows).

use kelp_ocean::devnet::{self, DevnetPaths, UpOptions, process};
use kelp_ocean::journal::Journal;
use kelp_ocean::network::Resolver;
use kelp_ocean::publish::{self, FileRef, Price, PublishSpec};
use kelp_ocean::signer::LocalKeySigner;
use kelp_ocean::tools::Tools;
use std::time::Instant;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let home = tempfile::tempdir()?;
    let ocean_dir = home.path().join("ocean");
    let paths = DevnetPaths::new(&ocean_dir);
    let tools = Tools::locate(|v| std::env::var(v).ok())?;
    let port = process::free_port()?;
    let node = kelp_ocean::devnet::node::node_command(&|v| std::env::var(v).ok())?;
    let opts = UpOptions { port, fresh: false, node: Some(node.clone()) };
    let result = bench(runs, home.path(), &paths, &tools, &opts).await;
    // Whatever happened, leave no anvil or node behind.
    devnet::down(&paths, false).await?;
    result
}

async fn bench(
    runs: usize,
    home: &std::path::Path,
    paths: &DevnetPaths,
    tools: &Tools,
    opts: &UpOptions,
) -> anyhow::Result<()> {
    let (port, node) = (opts.port, opts.node.clone().ok_or_else(|| anyhow::anyhow!("no node command"))?);
    let ocean_dir = paths.ocean_dir.clone();
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for i in 0..runs {
        let r = devnet::reset(paths, tools, opts).await?;
        cold.push(r.elapsed.as_secs_f64());
        if i == 0 {
            let deploy_gas: u64 = r.gas.iter().map(|(_, g)| g).sum();
            println!("cold deploy: {} transactions, {} gas", r.gas.len(), deploy_gas);
        }
        devnet::down(paths, true).await?;
        let w = devnet::up(paths, tools, opts).await?;
        assert_eq!(w.start, "warm");
        warm.push(w.elapsed.as_secs_f64());
        if i + 1 < runs {
            devnet::down(paths, false).await?;
        }
    }
    println!("devnet cold start (anvil + deploy + node): {}", stats(&cold));
    println!("devnet warm start (anvil + snapshot + node): {}", stats(&warm));

    let env = move |v: &str| match v {
        "KELP_DEVNET_PORT" => Some(port.to_string()),
        "KELP_OCEAN_NODE" => Some(node.0.display().to_string()),
        o => std::env::var(o).ok(),
    };
    let net = Resolver { ocean_dir: &ocean_dir, env: &env }.resolve(None).await?;
    let journal = Journal::new(&ocean_dir);
    let paths = paths.clone();
    let publisher = LocalKeySigner::dev_account(0, &net.rpc_url, net.chain_id)?;
    let consumer = LocalKeySigner::dev_account(1, &net.rpc_url, net.chain_id)?;
    let file = home.join("bench.csv");
    std::fs::write(&file, "x,y\n".repeat(1000))?;
    let cid = kelp_ocean::ipfs::add_path(home, &file).await?;
    let mut quiet = |_: &str| {};
    let mut table: Vec<Row> = Vec::new();
    for (label, price) in [
        ("free", Price::Free),
        (
            "fixed 2 OCEAN",
            Price::Fixed { amount: alloy::primitives::utils::parse_ether("2")?, token: net.addresses.ocean },
        ),
    ] {
        let (mut t_pub, mut t_get) = (Vec::new(), Vec::new());
        let (mut txs, mut gas, mut get_txs, mut get_gas) = (0, 0, 0, 0);
        for i in 0..runs {
            let spec =
                PublishSpec::dataset(format!("bench {label} {i}"), FileRef::Ipfs { hash: cid.clone() }, price.clone());
            let t = Instant::now();
            let p = publish::publish(&net, &publisher, &spec, &journal, &mut quiet).await?;
            t_pub.push(t.elapsed().as_secs_f64());
            (txs, gas) = (p.txs.len(), p.gas_total);
            let t = Instant::now();
            let g = kelp_ocean::consume::get(&net, &consumer, &p.did, 0, &mut quiet).await?;
            t_get.push(t.elapsed().as_secs_f64());
            (get_txs, get_gas) = (g.txs.len(), g.txs.iter().filter_map(|t| t.gas).sum::<u64>());
        }
        println!("publish {label}: {} — {txs} transactions, {gas} gas (create + setMetaData, indexed)", stats(&t_pub));
        table.push(Row {
            who: "kelp".into(),
            label: label.into(),
            wall: t_pub.clone(),
            txs,
            gas,
            flags: 2,
            until: "indexed by the node",
        });
        println!(
            "consume {label}: {} — {get_txs} transactions, {get_gas} gas (get datatoken + startOrder + download)",
            stats(&t_get)
        );
    }
    match std::env::var("KELP_OCEANPY").ok().filter(|v| !v.is_empty()) {
        Some(python) => {
            let st = kelp_ocean::devnet::status(&paths).await?;
            let node_url =
                st.state.and_then(|s| s.node_url).ok_or_else(|| anyhow::anyhow!("the devnet has no node"))?;
            table.extend(oceanpy_rows(&python, &net.rpc_url, &paths, &node_url, &cid, runs)?);
        }
        None => println!("(ocean.py column skipped: set KELP_OCEANPY to install/.tools/oceanpy/bin/python)"),
    }
    print_table(&table, runs);
    Ok(())
}

/// One line of the side-by-side publish table.
struct Row {
    who: String,
    label: String,
    wall: Vec<f64>,
    txs: usize,
    gas: u64,
    /// The `setMetaData` flags byte: 2 = encrypted, 3 = lzma + encrypted.
    flags: u64,
    until: &'static str,
}

/// Run ocean.py's bench on the same devnet and read its JSON.
fn oceanpy_rows(
    python: &str,
    rpc: &str,
    paths: &DevnetPaths,
    node_url: &str,
    cid: &str,
    runs: usize,
) -> anyhow::Result<Vec<Row>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/crosscheck/bench_oceanpy.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args(["--rpc", rpc, "--node", node_url, "--cid", cid, "--runs", &runs.to_string()])
        .arg("--address-file")
        .arg(paths.address_file())
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        anyhow::bail!("{script} failed ({})", out.status);
    }
    // The JSON is the last line (ocean.py may print its own lines before).
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    let j: serde_json::Value = serde_json::from_str(last)?;
    let rows = j["rows"].as_array().ok_or_else(|| anyhow::anyhow!("{script}: no rows"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let indexed = r["mode"] == "indexed";
            Row {
                who: format!("ocean.py ({})", r["mode"].as_str().unwrap_or("?")),
                label: r["label"].as_str().unwrap_or("?").to_string(),
                wall: r["wall_s"].as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default(),
                txs: r["txs"].as_u64().unwrap_or(0) as usize,
                gas: r["gas"].as_u64().unwrap_or(0),
                flags: r["flags"].as_u64().unwrap_or(0),
                until: if indexed { "indexed by the node" } else { "setMetaData mined" },
            }
        })
        .collect())
}

fn print_table(rows: &[Row], runs: usize) {
    println!("\npublish on the same devnet (median wall time of {runs}; txs and gas of one publish)");
    println!("{:<20} {:<14} {:>9} {:>4} {:>10} {:>6}  until", "", "asset", "wall", "txs", "gas", "flags");
    for r in rows {
        let mut w = r.wall.clone();
        w.sort_by(|a, b| a.total_cmp(b));
        let median = w.get(w.len() / 2).copied().unwrap_or(f64::NAN);
        println!(
            "{:<20} {:<14} {:>8.3}s {:>4} {:>10} {:>6}  {}",
            r.who, r.label, median, r.txs, r.gas, r.flags, r.until
        );
    }
}

fn stats(v: &[f64]) -> String {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    format!("median {:.3}s (min {:.3}s, max {:.3}s, n={})", s[s.len() / 2], s[0], s[s.len() - 1], s.len())
}
