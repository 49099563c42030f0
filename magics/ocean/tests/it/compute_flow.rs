//! `%c2d start --dataset DID --algorithm DID` end to end on the real devnet (anvil + the Ocean
//! contracts from npm + the local node process running kelp-c2d's bubblewrap engine): the
//! `%c2d` magic with kelp-ocean's Ocean backend, as the kernel registers it. Needs bubblewrap
//! (install/setup.d/50-c2d.sh); fails, never skips, without it.

use kelp_magic::testing::Cell;
use kelp_magic::{Magic, MagicError, Output};
use kelp_ocean::devnet::{DevnetPaths, DevnetState};
use kelp_ocean::journal::Journal;
use kelp_ocean::network::Resolver;
use kelp_ocean::publish::{self, AssetType, ComputeOptions, Price, PublishSpec};
use kelp_ocean::signer::LocalKeySigner;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common;
use common::{Cleanup, serve};

const DATA: &[u8] =
    b"name,x,y\nSECRET-ROW-a81f,1,3.1\nSECRET-ROW-b27c,2,5.0\nSECRET-ROW-c3d9,3,6.9\nSECRET-ROW-d4e0,4,9.1\n";
/// Fits y = a*x + b on the dataset and writes only the weights and metrics.
const TRAIN: &[u8] = br#"import json, os, time
p = json.load(open('/data/inputs/algoCustomData.json')) if os.path.exists('/data/inputs/algoCustomData.json') else {}
time.sleep(float(p.get('sleep', 0)))
d = json.loads(os.environ['DIDS'])[0]
rows = [l.split(',') for l in open(f'/data/inputs/{d}/0').read().split('\n')[1:] if l]
xs = [float(r[1]) for r in rows]; ys = [float(r[2]) for r in rows]
n = len(xs); mx = sum(xs) / n; my = sum(ys) / n
a = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
b = my - a * mx
mse = sum((a * x + b - y) ** 2 for x, y in zip(xs, ys)) / n
json.dump({'a': a, 'b': b}, open('/data/outputs/weights.json', 'w'))
json.dump({'rows': n, 'mse': mse, 'tag': p.get('tag')}, open('/data/outputs/metrics.json', 'w'))
print('trained on', n, 'rows')
"#;
/// Would copy the dataset out if a dataset trusted it.
const LEAK: &[u8] =
    b"import shutil, glob\nshutil.copy(glob.glob('/data/inputs/did:op:*/0')[0], '/data/outputs/stolen.csv')\n";

fn spec(name: &str, kind: AssetType, url: String, price: Price) -> PublishSpec {
    PublishSpec { price, ..common::python_spec(name, kind, url) }
}

/// A notebook's cells with `%c2d` wired to the Ocean remote (a fresh one is a restarted kernel:
/// a new `%c2d` over the same folder and journal).
struct Session {
    cell: Cell,
}

impl Session {
    fn new(dir: &Path, port: u16) -> Session {
        let cell = Cell::at(dir, [Arc::new(kelp_ocean::compute::c2d_magic()) as Arc<dyn Magic>]).with_home(dir);
        common::set_devnet_env(&cell, port);
        Session { cell }
    }
    async fn run(&self, line: &str) -> Result<Output, MagicError> {
        self.cell.run(line).await
    }
}

fn json_file(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[tokio::test]
async fn c2d_on_ocean_dids_trusted_untrusted_unknown_node_down_and_restart() {
    kelp_c2d::sandbox::bwrap_path().expect("bubblewrap is required: run install/setup (setup.d/50-c2d.sh)");
    let home = tempfile::tempdir().unwrap();
    let ocean_dir = home.path().join("ocean");
    let _cleanup = Cleanup(DevnetPaths::new(&ocean_dir));
    let port = kelp_ocean::devnet::process::free_port().unwrap();
    let s = Session::new(home.path(), port);
    let env = s.cell.env.clone();
    let lookup = move |v: &str| env.get(v);
    let net = Resolver { ocean_dir: &ocean_dir, env: &lookup }.resolve(None).await.expect("devnet starts");
    let files = serve(vec![("data.csv", DATA), ("train.py", TRAIN), ("leak.py", LEAK)]).await;
    let journal = Journal::new(&ocean_dir);
    let publisher = LocalKeySigner::dev_account(0, &net.rpc_url, net.chain_id).unwrap();
    let mut quiet = |_: &str| {};

    // The publisher: a training algorithm, a leaking one, a compute-only dataset trusting the first.
    let train = spec("Linear trainer", AssetType::Algorithm, format!("{files}/train.py"), Price::Free);
    let algo = publish::publish(&net, &publisher, &train, &journal, &mut quiet).await.unwrap();
    let leak = spec("Leaker", AssetType::Algorithm, format!("{files}/leak.py"), Price::Free);
    let leaker = publish::publish(&net, &publisher, &leak, &journal, &mut quiet).await.unwrap();
    let trust = ComputeOptions { trusted_algorithms: vec![algo.did.clone()], ..ComputeOptions::default() };
    let data = spec("Private points", AssetType::Dataset, format!("{files}/data.csv"), Price::Free);
    let ds = publish::publish_with(&net, &publisher, &data, Some(&trust), &journal, &mut quiet).await.unwrap();

    // The consumer (account 1) through %c2d, as the kernel registers it.
    let line = format!("c2d start --dataset {} --algorithm {} --param tag=run1 --account 1 --wait", ds.did, algo.did);
    let out = s.run(&line).await.unwrap();
    let j = out.json().unwrap().clone();
    assert_eq!((j["status"].as_u64(), j["ok"].as_bool()), (Some(70), Some(true)), "{j}");
    assert_eq!(j["remote"]["backend"], "ocean");
    let consumer = LocalKeySigner::dev_address(1).unwrap().to_checksum(None);
    assert_eq!(j["remote"]["owner"], consumer.as_str());
    assert_eq!(j["remote"]["details"]["orders"].as_array().unwrap().len(), 2, "dataset and algorithm ordered");
    assert_eq!(j["algorithm"]["container"]["entrypoint"], "python3 $ALGO");
    let id = j["jobId"].as_str().unwrap().to_string();
    let r = s.run(&format!("c2d result {}", &id[..8])).await.unwrap();
    let folder = PathBuf::from(r.json().unwrap()["folder"].as_str().unwrap());
    let metrics = json_file(&folder.join("metrics.json"));
    assert_eq!((metrics["rows"].as_u64(), metrics["tag"].as_str()), (Some(4), Some("run1")), "{metrics}");
    let w = json_file(&folder.join("weights.json"));
    assert!((w["a"].as_f64().unwrap() - 1.99).abs() < 1e-9, "{w}");
    assert!(std::fs::read_to_string(folder.join("algorithm.log")).unwrap().contains("trained on 4 rows"));
    for f in common::files_under(&folder) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(10).any(|w| w == b"SECRET-ROW"), "{} holds dataset bytes", f.display());
    }

    // Refusals: one line each, and no job journaled for them.
    let unknown = format!("did:op:{}", "ab".repeat(32));
    for (line, want) in [
        (format!("c2d start --dataset {} --algorithm {} --account 1", ds.did, leaker.did), "is not trusted by dataset"),
        (format!("c2d start --dataset {unknown} --algorithm {}", algo.did), "no asset did:op:abab"),
        (format!("c2d start --dataset {} --algorithm {}", algo.did, algo.did), "not offered for compute"),
    ] {
        let e = s.run(&line).await.unwrap_err().to_string();
        assert!(e.contains(want) && !e.contains('\n'), "{line}: {e}");
    }
    // A priced dataset and a consumer with no OCEAN: one line, before any job.
    let priced = publish::publish_with(
        &net,
        &publisher,
        &{
            let mut p = spec("Priced points", AssetType::Dataset, format!("{files}/data.csv"), Price::Free);
            p.price = Price::Fixed {
                amount: alloy::primitives::U256::from(3u64) * kelp_ocean::consume::ONE,
                token: net.addresses.ocean,
            };
            p
        },
        Some(&trust),
        &journal,
        &mut quiet,
    )
    .await
    .unwrap();
    let broke = Session::new(home.path(), port);
    let key = format!("0x{}", alloy::hex::encode(alloy::signers::local::PrivateKeySigner::random().to_bytes()));
    broke.cell.env.set("KELP_PRIVATE_KEY", Some(key.clone()));
    let e = broke.run(&format!("c2d start --dataset {} --algorithm {}", priced.did, algo.did)).await.unwrap_err();
    let e = e.to_string();
    assert!(e.contains("insufficient funds") && e.contains("OCEAN") && !e.contains('\n'), "{e}");
    assert!(!e.contains(key.trim_start_matches("0x")), "the key never shows");
    let l = s.run("c2d list").await.unwrap();
    assert_eq!(l.json().unwrap()["jobs"].as_array().unwrap().len(), 1);

    // Node down: a network whose node does not answer.
    let dead = format!("http://127.0.0.1:{}", kelp_ocean::devnet::process::free_port().unwrap());
    let down = Session::new(home.path(), port);
    down.cell.env.set("KELP_OCEAN_NODE_URL", Some(dead.clone()));
    down.cell.env.set("KELP_PRIVATE_KEY", Some(key));
    let line = format!("c2d start --dataset {} --algorithm {} --network {}", ds.did, algo.did, net.rpc_url);
    let e = down.run(&line).await.unwrap_err().to_string();
    assert!(e.contains(&dead) && e.contains("not reachable") && !e.contains('\n'), "{e}");

    // A job started, then a new magic (a restarted kernel) finds it, follows it, gets its result.
    let line =
        format!("c2d start --dataset {} --algorithm {} --param sleep=2 --param tag=run2 --account 1", ds.did, algo.did);
    let out = s.run(&line).await.unwrap();
    let id2 = out.json().unwrap()["jobId"].as_str().unwrap().to_string();
    assert!(!out.json().unwrap()["finished"].as_bool().unwrap());
    drop(s);
    let restarted = Session::new(home.path(), port);
    let t = Instant::now();
    let done = loop {
        let st = restarted.run(&format!("c2d status {}", &id2[..8])).await.unwrap();
        let st = st.json().unwrap().clone();
        if st["finished"] == true || t.elapsed() > Duration::from_secs(90) {
            break st;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(done["status"], 70, "{done}");
    let r = restarted.run(&format!("c2d result {} -o run2", &id2[..8])).await.unwrap();
    assert_eq!(r.json().unwrap()["folder"].as_str().unwrap(), home.path().join("run2").to_str().unwrap());
    assert_eq!(json_file(&home.path().join("run2/metrics.json"))["tag"], "run2");
    let logs = restarted.run(&format!("c2d logs {}", &id2[..8])).await.unwrap();
    assert!(logs.plain().unwrap().contains("trained on 4 rows"));

    // Stop: the node ends a running job on request; the journal shows it ended as failed.
    let line = format!("c2d start --dataset {} --algorithm {} --param sleep=60 --account 1", ds.did, algo.did);
    let id3 = restarted.run(&line).await.unwrap().json().unwrap()["jobId"].as_str().unwrap().to_string();
    let stopped = restarted.run(&format!("c2d stop {}", &id3[..8])).await.unwrap();
    let st = stopped.json().unwrap();
    assert_eq!((st["status"].as_u64(), st["ok"].as_bool()), (Some(41), Some(false)), "{st}");
    assert!(st["elapsed"].as_f64().unwrap() < 30.0, "{st}");

    // The devnet's processes go with the test.
    let state: DevnetState =
        serde_json::from_str(&std::fs::read_to_string(DevnetPaths::new(&ocean_dir).state_file()).unwrap()).unwrap();
    assert!(state.node_pid.is_some());
}
