//! The pushes of [`super::push_local_cid`], one per kind of remote: a Kubo node (one CAR,
//! `dag/import`), a pinning service (IPFS Pinning Service API v1: it fetches from kelp's own
//! IPFS node) and the Lighthouse onramp (a Kubo-style upload of the file's bytes). Each returns
//! only once the remote holds the CID, or fails in one line; none sends a transaction.

use crate::error::{OceanError, Result};
use kelp_ipfs::kubo::Kubo;
use kelp_ipfs::net::{NetSettings, Node};
use kelp_ipfs::pinsvc::{PinRequest, PinService};
use kelp_ipfs::{Cid, IpfsConfig, Store};
use kelp_magic::EnvVars;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a pinning service may take to pin (seconds); default [`PIN_WAIT`].
pub const PIN_WAIT_ENV: &str = "KELP_PUBLISH_PIN_TIMEOUT";
const PIN_WAIT: Duration = Duration::from_secs(600);

fn input(s: String) -> OceanError {
    OceanError::input(s)
}

/// The DAG of `root` as one CAR imported into the Kubo node at `url` (its root pinned).
pub(super) async fn to_kubo(url: &str, store: &Store, root: &Cid, home: &Path) -> Result<()> {
    let kubo = Kubo::new(url).map_err(|e| input(format!("Kubo {url}: {e}")))?;
    // The CAR waits beside the store while Kubo reads it, and is removed after.
    let path = home.join(format!(".kelp-push-{}-{root}.car", std::process::id()));
    let (out, store, r) = (path.clone(), store.clone(), *root);
    tokio::task::spawn_blocking(move || -> Result<()> {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&out).map_err(|e| OceanError::io(&out, e))?);
        kelp_ipfs::car::export(&store, &r, &mut w).map_err(|e| input(format!("exporting {r}: {e}")))?;
        std::io::Write::flush(&mut w).map_err(|e| OceanError::io(&out, e))
    })
    .await
    .map_err(|e| input(format!("exporting {root}: {e}")))??;
    let imported = kubo.dag_import(&path).await;
    let _ = std::fs::remove_file(&path);
    let roots = imported
        .map_err(|e| input(format!("pushing {root} to Kubo {url}: {e}; check that it runs, or publish a URL")))?;
    if !roots.is_empty() && !roots.iter().any(|c| kelp_ipfs::parse_cid(c).is_ok_and(|c| c == *root)) {
        return Err(input(format!("Kubo {url} imported {roots:?}, not {root}")));
    }
    Ok(())
}

/// The pinning service `name` of `%ipfs`: `KELP_PIN_<NAME>_ENDPOINT` / `_TOKEN` first, then
/// `%ipfs config set pin.NAME.endpoint|token`.
pub(super) fn pin_service(name: &str, cfg: &IpfsConfig, env: &EnvVars) -> Result<PinService> {
    let key = kelp_ipfs::pinsvc::env_key(name);
    let saved = cfg.pin_services.get(name);
    let endpoint = env
        .get(&format!("KELP_PIN_{key}_ENDPOINT"))
        .filter(|e| !e.is_empty())
        .or_else(|| saved.map(|s| s.endpoint.clone()).filter(|e| !e.is_empty()))
        .ok_or_else(|| {
            input(format!(
                "pinning service {name:?} is not configured: %ipfs config set pin.{name}.endpoint URL (and pin.{name}.token TOKEN), or set KELP_PIN_{key}_ENDPOINT and KELP_PIN_{key}_TOKEN"
            ))
        })?;
    let token = env
        .get(&format!("KELP_PIN_{key}_TOKEN"))
        .filter(|t| !t.is_empty())
        .or_else(|| saved.and_then(|s| s.token.clone()))
        .unwrap_or_default();
    PinService::new(name, &endpoint, &token).map_err(|e| input(e.to_string()))
}

/// Ask the pinning service to pin `root`, serving its blocks from kelp's IPFS node while the
/// service fetches them: the session's node when it runs, else one started for this push (on
/// `%ipfs config listen` / `KELP_IPFS_LISTEN`, dialling the configured peers). The request names
/// the node's addresses as `origins`, and the node dials the `delegates` the service answers
/// with (so a service can fetch from a node behind NAT). Waits until the service says `pinned`
/// ([`PIN_WAIT_ENV`]); `failed` or no answer in time is one line.
pub(super) async fn to_pin_service(
    svc: &PinService,
    store: &Store,
    root: &Cid,
    cfg: &IpfsConfig,
    env: &EnvVars,
) -> Result<()> {
    let settings = NetSettings::from_env(|k| env.get(k), true, &cfg.peers, &cfg.listen)
        .map_err(|e| input(format!("kelp's IPFS node: {e}")))?;
    let wait = match env.get(PIN_WAIT_ENV).filter(|v| !v.is_empty()) {
        None => PIN_WAIT,
        Some(v) => Duration::from_secs(v.parse().map_err(|_| {
            input(format!("{PIN_WAIT_ENV}={v:?} is not a number of seconds (e.g. {PIN_WAIT_ENV}=600)"))
        })?),
    };
    let (node, own) = match kelp_ipfs::net::running() {
        Some(n) => (n, false),
        None => {
            let n = Node::start(store.clone(), settings.listen.clone(), settings.peers.clone())
                .await
                .map_err(|e| input(format!("starting kelp's IPFS node to serve {root} to {}: {e}", svc.name)))?;
            (Arc::new(n), true)
        }
    };
    let pinned = pin_from(svc, &node, root, wait).await;
    if own {
        let n = node.clone();
        let _ = tokio::task::spawn_blocking(move || n.stop()).await;
    }
    pinned
}

async fn pin_from(svc: &PinService, node: &Node, root: &Cid, wait: Duration) -> Result<()> {
    let info = node.info().await.map_err(|e| input(format!("kelp's IPFS node: {e}")))?;
    let origins: Vec<String> = info.listen.iter().map(|a| a.to_string()).collect();
    let req = PinRequest { cid: root.to_string(), name: None, origins: origins.clone(), meta: Default::default() };
    let mut st = svc.add(&req).await.map_err(|e| input(e.to_string()))?;
    // The service's own peers: connecting to them lets it fetch over that connection.
    let delegates: Vec<_> =
        st.delegates.iter().filter_map(|d| kelp_ipfs::net::parse_multiaddrs(d, "delegate").ok()).flatten().collect();
    if !delegates.is_empty() {
        node.dial(delegates).map_err(|e| input(format!("kelp's IPFS node: {e}")))?;
    }
    let started = Instant::now();
    let served = if origins.is_empty() { "nowhere".to_string() } else { origins.join(", ") };
    let how = "make kelp's IPFS node reachable from it (%ipfs config set listen /ip4/0.0.0.0/tcp/4001 on a public address) or push to a Kubo node (--push-to kubo=URL); nothing was sent";
    loop {
        match st.status.as_str() {
            "pinned" => return Ok(()),
            "failed" => {
                return Err(input(format!(
                    "pinning service {} could not pin {root} (status failed; it was served from {served}): {how}",
                    svc.name
                )));
            }
            _ => {}
        }
        if started.elapsed() >= wait {
            return Err(input(format!(
                "pinning service {} has not pinned {root} after {} s (status {}; served from {served}): {how}",
                svc.name,
                wait.as_secs(),
                st.status
            )));
        }
        let pause = if started.elapsed() < Duration::from_secs(5) { 200 } else { 2000 };
        tokio::time::sleep(Duration::from_millis(pause)).await;
        st = svc.status(&st.requestid).await.map_err(|e| input(e.to_string()))?;
    }
}

/// Upload the file `root` to Lighthouse with the import settings that give `root` (Kubo's
/// defaults for CIDv0 or CIDv1); the CID Lighthouse answers must be `root`. The file is written
/// beside the store for the upload (streamed, never whole in memory) and removed after.
pub(super) async fn to_lighthouse(lh: &Kubo, store: &Store, root: &Cid, home: &Path) -> Result<()> {
    let path = home.join(format!(".kelp-push-{}-{root}", std::process::id()));
    let (s, r, out) = (store.clone(), *root, path.clone());
    let opts = tokio::task::spawn_blocking(move || -> Result<Option<kelp_ipfs::AddOptions>> {
        s.get(&r, &out).map_err(|e| input(format!("reading {r} from the IPFS store: {e}")))?;
        if !out.is_file() {
            return Err(input(format!(
                "Lighthouse takes one file and {r} is a directory: push it to Kubo or a pinning service (--push-to)"
            )));
        }
        Ok(crate::ipfs::import_options_of_path(&out, &r.to_string()))
    })
    .await
    .map_err(|e| input(format!("reading {root}: {e}")))
    .and_then(|r| r);
    let upload = async {
        let opts = opts?.ok_or_else(|| {
            input(format!(
                "{root} was not made with settings Lighthouse reproduces (Kubo's defaults for CIDv0 or CIDv1): push it to Kubo or a pinning service (--push-to)"
            ))
        })?;
        let lines = lh.add_path(&path, &opts).await.map_err(|e| input(format!("pushing {root} to Lighthouse: {e}")))?;
        let got = lines.last().map(|l| l.hash.clone()).unwrap_or_default();
        if kelp_ipfs::parse_cid(&got).ok() != Some(*root) {
            return Err(input(format!(
                "Lighthouse stored the file as {got}, not {root}: push it to Kubo or a pinning service"
            )));
        }
        Ok(())
    };
    let done = upload.await;
    let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
    done
}
