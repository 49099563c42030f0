//! `ipfs_fetch STORE_DIR GATEWAY_URL CID OUT [--raw] [--peer MULTIADDR]`: fetch a DAG, verified,
//! from a trustless gateway into a store (as one CAR, or block by block with `--raw`), or over
//! Bitswap from the peer at MULTIADDR (`--peer`: a libp2p node is started, the gateway is then
//! only the fallback), write it to OUT and print `blocks bytes seconds sha256-of-OUT` (used by
//! bench/fetch.sh; seconds include the node's start and dial).

use sha2::{Digest, Sha256};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [store, gateway, cid, out] = match args.get(..4) {
        Some([a, b, c, d]) => [a, b, c, d],
        _ => return Err("usage: ipfs_fetch STORE_DIR GATEWAY_URL CID OUT [--raw] [--peer MULTIADDR]".into()),
    };
    let store = kelp_ipfs::Store::open(std::path::Path::new(store))?;
    let cid = kelp_ipfs::parse_cid(cid)?;
    let mut gw = kelp_ipfs::fetch::Gateways::new(vec![gateway.clone()])?.with_car(!args.iter().any(|a| a == "--raw"));
    let start = std::time::Instant::now();
    let peer = args.iter().position(|a| a == "--peer").and_then(|i| args.get(i + 1));
    let mut node = None;
    if let Some(peer) = peer {
        let peers = kelp_ipfs::net::parse_multiaddrs(peer, "peer")?;
        let n = std::sync::Arc::new(kelp_ipfs::net::Node::start(store.clone(), Vec::new(), peers).await?);
        gw = gw.with_network(n.clone(), std::time::Duration::from_secs(30));
        node = Some(n);
    }
    let cancel = kelp_magic::CancelToken::new();
    let r = gw.fetch(&store, &cid, kelp_ipfs::fetch::Scope::All, &cancel, &mut |_| {}).await?;
    store.get(&cid, std::path::Path::new(out))?;
    let secs = start.elapsed().as_secs_f64();
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(out)?, &mut hasher)?;
    let sha = hex::encode(hasher.finalize());
    println!("{} {} {secs:.3} {sha}", r.fetched_blocks, r.fetched_bytes);
    if let Some(n) = node {
        n.stop();
    }
    Ok(())
}
