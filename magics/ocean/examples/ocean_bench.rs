//! Ocean bench on the real devnet: devnet cold and warm start, publish (free and fixed price)
//! wall time, transactions and gas, and consume time. Prints figures; asserts nothing about speed.
//! Run through `install/bench` (install/bench.d/40-ocean.sh).

use kelp_ocean::devnet::{self, DevnetPaths, UpOptions, process};
use kelp_ocean::journal::Journal;
use kelp_ocean::network::Resolver;
use kelp_ocean::publish::{self, AssetType, FileRef, Price, PublishSpec};
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
    let node = kelp_ocean::node::serve::node_command(&|v| std::env::var(v).ok())?;
    let opts = UpOptions { port, fresh: false, node: Some(node.clone()) };

    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for i in 0..runs {
        let r = devnet::reset(&paths, &tools, &opts).await?;
        cold.push(r.elapsed.as_secs_f64());
        if i == 0 {
            let deploy_gas: u64 = r.gas.iter().map(|(_, g)| g).sum();
            println!("cold deploy: {} transactions, {} gas", r.gas.len(), deploy_gas);
        }
        devnet::down(&paths, true).await?;
        let w = devnet::up(&paths, &tools, &opts).await?;
        assert_eq!(w.start, "warm");
        warm.push(w.elapsed.as_secs_f64());
        if i + 1 < runs {
            devnet::down(&paths, false).await?;
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
    let publisher = LocalKeySigner::dev_account(0, &net.rpc_url, net.chain_id)?;
    let consumer = LocalKeySigner::dev_account(1, &net.rpc_url, net.chain_id)?;
    let file = home.path().join("bench.csv");
    std::fs::write(&file, "x,y\n".repeat(1000))?;
    let cid = kelp_ocean::ipfs::add_path(home.path(), &file).await?;
    let mut quiet = |_: &str| {};
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
            let spec = PublishSpec {
                name: format!("bench {label} {i}"),
                kind: AssetType::Dataset,
                price: price.clone(),
                file: FileRef::Ipfs { hash: cid.clone() },
                description: None,
                license: None,
                tags: vec![],
                container: None,
                salt: None,
            };
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
        println!(
            "consume {label}: {} — {get_txs} transactions, {get_gas} gas (get datatoken + startOrder + download)",
            stats(&t_get)
        );
    }
    devnet::down(&paths, false).await?;
    Ok(())
}

fn stats(v: &[f64]) -> String {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    format!("median {:.3}s (min {:.3}s, max {:.3}s, n={})", s[s.len() / 2], s[0], s[s.len() - 1], s.len())
}
