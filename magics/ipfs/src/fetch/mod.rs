//! Verified retrieval from trustless HTTP gateways (the Trustless Gateway spec, IPIP-402): when a
//! DAG is not (wholly) in the local store, the blocks it lacks are fetched one by one as
//! `GET {gateway}/ipfs/{cid}?format=raw` (`Accept: application/vnd.ipld.raw`) from a list of
//! gateways tried in order, and EVERY block is hashed with its CID's multihash before it is
//! stored or followed. This module owns that walk, the gateway list and its bounds:
//!
//! - a gateway whose bytes do not match the CID is a liar: one warning line names it and it is
//!   skipped for the rest of the operation; a gateway that cannot be reached (or times out) is
//!   skipped too; a block no gateway serves is one error line naming each gateway and why;
//! - a block is at most [`MAX_BLOCK`] bytes (2 MiB, the spec's bound): a larger answer is
//!   refused while it streams, never held whole;
//! - every request has a timeout ([`TIMEOUT_ENV`], default 30 s) and the walk stops at the
//!   store's [`ReadLimits`](crate::exporter::ReadLimits) depth;
//! - blocks are stored as they verify (atomically, by the store), so an interrupted fetch
//!   resumes from what is held: only missing blocks are requested again;
//! - offline ([`OFFLINE_ENV`]=1 or `--offline`) never touches the network;
//! - delegated routers ([`ROUTERS_ENV`], submodule `routing`) may name more gateways for a root;
//! - with the network on ([`crate::net`]), each missing block is asked of the connected
//!   Bitswap peers first (bounded wait), then of the gateways; a root that arrives over Bitswap
//!   skips the CAR request.

mod car;
mod routing;
mod scope;

pub use routing::{ROUTERS_ENV, multiaddr_to_url};

use crate::IpfsError;
use crate::block::{SHA2_256, sha256_multihash};
use crate::store::Store;
use cid::Cid;
use futures::StreamExt;
use kelp_magic::CancelToken;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// Gateways to fetch from, comma-separated (overrides `%ipfs config gateways`).
pub const GATEWAYS_ENV: &str = "KELP_IPFS_GATEWAYS";
/// `1` (or `true`): never touch the network; read the local store only.
pub const OFFLINE_ENV: &str = "KELP_IPFS_OFFLINE";
/// Seconds one gateway request may take (default 30).
pub const TIMEOUT_ENV: &str = "KELP_IPFS_GATEWAY_TIMEOUT";
/// The public trustless gateways used when none is configured.
pub const DEFAULT_GATEWAYS: &[&str] = &["https://trustless-gateway.link", "https://dweb.link"];
/// Largest block accepted from a gateway or a Bitswap peer (the Trustless Gateway spec's bound).
pub use crate::block::MAX_BLOCK;
/// Requests in flight at once.
const CONCURRENCY: usize = 8;

pub use scope::Scope;
pub(crate) use scope::{Want, wanted_links};

/// What a fetch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// Blocks requested from gateways (and verified and stored).
    pub fetched_blocks: u64,
    pub fetched_bytes: u64,
    /// Blocks of the DAG that were already in the store.
    pub held_blocks: u64,
}

/// Something the caller may show while a fetch runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchEvent {
    /// A block of this many bytes was fetched, verified and stored.
    Block(u64),
    /// One line to show as a warning (a lying gateway).
    Warning(String),
}

/// A list of trustless gateways and the HTTP client that reaches them.
#[derive(Debug, Clone)]
pub struct Gateways {
    urls: Vec<String>,
    offline: bool,
    /// Ask for the whole DAG as one CAR first (else block by block only).
    car: bool,
    /// Delegated routers asked for more gateways holding a root ([`ROUTERS_ENV`]).
    routers: Vec<String>,
    timeout: Duration,
    client: reqwest::Client,
    /// The libp2p node asked first for each missing block, and how long to wait for one.
    net: Option<(std::sync::Arc<crate::net::Node>, Duration)>,
}

impl Gateways {
    /// Gateways at these base URLs (`http(s)://host[:port]`), tried in order.
    pub fn new(urls: Vec<String>) -> Result<Gateways, IpfsError> {
        for u in &urls {
            check_url(u)?;
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| IpfsError::Remote(format!("cannot start an HTTP client: {e}")))?;
        let urls = urls.into_iter().map(|u| u.trim_end_matches('/').to_string()).collect();
        Ok(Gateways {
            urls,
            offline: false,
            car: true,
            routers: Vec::new(),
            timeout: Duration::from_secs(30),
            client,
            net: None,
        })
    }

    /// Parse a comma-separated list of gateway URLs.
    pub fn parse_list(list: &str) -> Result<Vec<String>, IpfsError> {
        let urls: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_end_matches('/').to_string())
            .collect();
        if urls.is_empty() {
            return Err(IpfsError::BadOption(format!(
                "no gateway in {list:?}: give http(s) URLs separated by commas, e.g. {}",
                DEFAULT_GATEWAYS.join(",")
            )));
        }
        for u in &urls {
            check_url(u)?;
        }
        Ok(urls)
    }

    /// The gateways of an environment (`KELP_IPFS_GATEWAYS`, `KELP_IPFS_OFFLINE`,
    /// `KELP_IPFS_GATEWAY_TIMEOUT`), else `configured`, else [`DEFAULT_GATEWAYS`].
    pub fn from_env(get: impl Fn(&str) -> Option<String>, configured: &[String]) -> Result<Gateways, IpfsError> {
        let urls = match get(GATEWAYS_ENV).filter(|v| !v.trim().is_empty()) {
            Some(v) => Self::parse_list(&v)?,
            None if !configured.is_empty() => configured.to_vec(),
            None => DEFAULT_GATEWAYS.iter().map(|s| s.to_string()).collect(),
        };
        let offline = match get(OFFLINE_ENV).as_deref().map(str::trim) {
            None | Some("" | "0" | "false") => false,
            Some("1" | "true") => true,
            Some(v) => return Err(IpfsError::BadOption(format!("{OFFLINE_ENV}={v:?} is not valid: set it to 1 or 0"))),
        };
        let mut g = Gateways::new(urls)?.offline(offline);
        if let Some(v) = get(ROUTERS_ENV).filter(|v| !v.trim().is_empty()) {
            g = g.with_routers(Self::parse_list(&v)?)?;
        }
        if let Some(v) = get(TIMEOUT_ENV).filter(|v| !v.trim().is_empty()) {
            match v.trim().parse::<u64>() {
                Ok(s) if s > 0 => g = g.with_timeout(Duration::from_secs(s)),
                _ => {
                    return Err(IpfsError::BadOption(format!(
                        "{TIMEOUT_ENV}={v:?} is not valid: set it to a whole number of seconds above 0, e.g. 30"
                    )));
                }
            }
        }
        Ok(g)
    }

    /// Never touch the network when `offline`.
    pub fn offline(mut self, offline: bool) -> Gateways {
        self.offline |= offline;
        self
    }

    /// Also ask these delegated routers (`/routing/v1/providers/{cid}`) for gateways holding
    /// the root of a fetch.
    pub fn with_routers(mut self, routers: Vec<String>) -> Result<Gateways, IpfsError> {
        for r in &routers {
            check_url(r)?;
        }
        self.routers = routers.into_iter().map(|r| r.trim_end_matches('/').to_string()).collect();
        Ok(self)
    }

    /// Whether to ask for a CAR of a DAG whose root is missing before going block by block
    /// (default true).
    pub fn with_car(mut self, car: bool) -> Gateways {
        self.car = car;
        self
    }

    /// Each request's time limit (for a CAR: the wait for each piece of its body).
    pub fn with_timeout(mut self, timeout: Duration) -> Gateways {
        self.timeout = timeout;
        self
    }

    /// Ask this node's Bitswap peers for each missing block first, waiting at most `wait`.
    pub fn with_network(mut self, node: std::sync::Arc<crate::net::Node>, wait: Duration) -> Gateways {
        self.net = Some((node, wait));
        self
    }

    /// The gateways, in the order they are tried.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Make sure the blocks `scope` needs below `root` are in `store`, fetching (and verifying)
    /// the missing ones. Stops with [`IpfsError::Cancelled`] when `cancel` fires.
    pub async fn fetch(
        &self,
        store: &Store,
        root: &Cid,
        scope: Scope,
        cancel: &CancelToken,
        on: &mut (dyn FnMut(FetchEvent) + Send),
    ) -> Result<FetchReport, IpfsError> {
        let max_depth = store.limits().max_depth;
        // Each gateway of this fetch, and why it is skipped (if it is).
        let skipped: Mutex<Vec<(String, Option<String>)>> =
            Mutex::new(self.urls.iter().map(|u| (u.clone(), None)).collect());
        if !self.routers.is_empty() && !self.offline && !store.has(root) {
            let (found, warnings) = self.discover(root).await;
            warnings.into_iter().for_each(|w| on(FetchEvent::Warning(w)));
            let mut s = lock(&skipped);
            for u in found {
                if !s.iter().any(|(have, _)| *have == u) {
                    s.push((u, None));
                }
            }
        }
        let mut report = FetchReport::default();
        // Why the root did not come over Bitswap (so the walk does not wait for it twice).
        let mut root_failed: Option<String> = None;
        if let Some((node, wait)) = self.net.as_ref().filter(|_| !self.offline && !store.has(root)) {
            // The root from peers first: when it comes, the walk below asks peers for the rest
            // instead of a CAR from the gateways (the Bitswap failure, if any, is reported with
            // the gateways' when the walk cannot find the block either).
            match crate::net::verified_block(node, root, *wait).await {
                Ok(block) => {
                    store.put(root, &block)?;
                    report.fetched_blocks += 1;
                    report.fetched_bytes += block.len() as u64;
                    on(FetchEvent::Block(block.len() as u64));
                }
                Err(why) => root_failed = Some(why),
            }
        }
        if self.car && scope != Scope::Block && !self.offline && !store.has(root) {
            let job = Job { store, root, scope, cancel, skipped: &skipped };
            self.fetch_cars(&job, on, &mut report).await?;
        }
        let mut seen = HashSet::new();
        let mut pending: Vec<(Cid, usize, Want)> = vec![(*root, 0, Want::ROOT)];
        loop {
            let mut missing = Vec::new();
            while let Some((c, depth, want)) = pending.pop() {
                if !seen.insert((c.hash().to_bytes(), want)) {
                    continue;
                }
                if depth > max_depth {
                    return Err(store.limits().too_deep("block", &c));
                }
                match store.get_block(&c) {
                    Ok(b) => {
                        report.held_blocks += 1;
                        push_links(&mut pending, &c, &b, scope, want, depth)?;
                    }
                    Err(IpfsError::NotFound(_) | IpfsError::CorruptBlock(_)) => missing.push((c, depth, want)),
                    Err(e) => return Err(e),
                }
            }
            if missing.is_empty() {
                return Ok(report);
            }
            if self.offline {
                return Err(IpfsError::Unsupported(format!(
                    "block {} (under {root}) is not in the local store and kelp is offline: drop --offline / unset {OFFLINE_ENV} to fetch it from peers and gateways, or import it",
                    missing[0].0
                )));
            }
            let mut results = futures::stream::iter(missing)
                .map(|(c, depth, want)| {
                    let skipped = &skipped;
                    let known = root_failed.as_deref().filter(|_| c == *root);
                    async move { (c, depth, want, self.fetch_block(&c, skipped, known).await) }
                })
                .buffer_unordered(CONCURRENCY);
            loop {
                let next = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return Err(IpfsError::Cancelled(format!("fetching {root} from gateways"))),
                    n = results.next() => n,
                };
                let Some((c, depth, want, r)) = next else { break };
                let (block, warnings) = r;
                for w in warnings {
                    on(FetchEvent::Warning(w));
                }
                let block = block?;
                store.put(&c, &block)?;
                report.fetched_blocks += 1;
                report.fetched_bytes += block.len() as u64;
                on(FetchEvent::Block(block.len() as u64));
                push_links(&mut pending, &c, &block, scope, want, depth)?;
            }
        }
    }

    /// The DAG as one CAR from the first gateway that gives a usable one (liars are skipped);
    /// what it lacks is left to the block walk.
    async fn fetch_cars(
        &self,
        job: &Job<'_>,
        on: &mut (dyn FnMut(FetchEvent) + Send),
        report: &mut FetchReport,
    ) -> Result<(), IpfsError> {
        let (root, skipped) = (job.root, job.skipped);
        let urls: Vec<String> = lock(skipped).iter().map(|s| s.0.clone()).collect();
        for (i, gw) in urls.iter().enumerate() {
            if lock(skipped)[i].1.is_some() {
                continue;
            }
            let Err(stop) = car::fetch_car(self, gw, job, on, report).await else {
                return Ok(());
            };
            if let Some(w) = car::warning(gw, root, &stop) {
                on(FetchEvent::Warning(w));
            }
            match stop {
                car::CarStop::Cancelled => {
                    return Err(IpfsError::Cancelled(format!("fetching {root} from gateways")));
                }
                car::CarStop::Liar(why) | car::CarStop::Down(why) | car::CarStop::Unusable(why) => {
                    lock(skipped)[i].1 = Some(why)
                }
                car::CarStop::Http => return Ok(()),
            }
        }
        Ok(())
    }

    /// One verified block from the Bitswap peers (unless `bitswap_failed` already says why
    /// they could not give it) or the first gateway that has it; warnings about liars alongside.
    async fn fetch_block(
        &self,
        cid: &Cid,
        skipped: &Mutex<Vec<(String, Option<String>)>>,
        bitswap_failed: Option<&str>,
    ) -> (Result<Vec<u8>, IpfsError>, Vec<String>) {
        let mut warnings = Vec::new();
        if cid.hash().code() != SHA2_256 {
            let e = IpfsError::Unsupported(format!(
                "{cid} uses multihash 0x{:x}; kelp verifies sha2-256 blocks only",
                cid.hash().code()
            ));
            return (Err(e), warnings);
        }
        let mut tried = Vec::new();
        if let Some((node, wait)) = &self.net {
            let got = match bitswap_failed {
                Some(why) => Err(why.to_string()),
                None => crate::net::verified_block(node, cid, *wait).await,
            };
            match got {
                Ok(block) => return (Ok(block), warnings),
                Err(why) => tried.push(format!("Bitswap peers ({why})")),
            }
        }
        let urls: Vec<String> = lock(skipped).iter().map(|s| s.0.clone()).collect();
        for (i, gw) in urls.iter().enumerate() {
            let skip = lock(skipped)[i].1.clone();
            if let Some(why) = skip {
                tried.push(format!("{gw} ({why})"));
                continue;
            }
            match self.get_raw(gw, cid).await {
                Ok(body) if sha256_multihash(&body) == *cid.hash() => return (Ok(body), warnings),
                Ok(_) => {
                    let why = "it sent bytes that do not match the CID".to_string();
                    warnings.push(format!(
                        "warning: gateway {gw} sent bytes for {cid} that do not match its hash: skipping that gateway"
                    ));
                    lock(skipped)[i].1 = Some(why.clone());
                    tried.push(format!("{gw} ({why})"));
                }
                Err(Failure::Skip(why)) => {
                    lock(skipped)[i].1 = Some(why.clone());
                    tried.push(format!("{gw} ({why})"));
                }
                Err(Failure::Block(why)) => tried.push(format!("{gw} ({why})")),
            }
        }
        let tried = if tried.is_empty() {
            "no gateway (none is configured and no router named one)".to_string()
        } else {
            tried.join(", ")
        };
        let e = IpfsError::Remote(format!(
            "block {cid} could not be fetched: tried {tried}; check the CID, or set gateways with {GATEWAYS_ENV}=URL,… or %ipfs config gateways URL,…"
        ));
        (Err(e), warnings)
    }

    async fn get_raw(&self, gw: &str, cid: &Cid) -> Result<Vec<u8>, Failure> {
        let url = format!("{gw}/ipfs/{cid}?format=raw");
        let send =
            self.client.get(&url).header(reqwest::header::ACCEPT, "application/vnd.ipld.raw").timeout(self.timeout);
        let resp = send.send().await.map_err(|e| Failure::Skip(short_error(&e, self.timeout)))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Err(Failure::Block("not found".into()));
        }
        if !status.is_success() {
            return Err(Failure::Block(format!("HTTP {}", status.as_u16())));
        }
        let too_big = || Failure::Block(format!("sent more than {} MiB: refused", MAX_BLOCK >> 20));
        if resp.content_length().is_some_and(|n| n > MAX_BLOCK as u64) {
            return Err(too_big());
        }
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Failure::Skip(short_error(&e, self.timeout)))?;
            if body.len() + chunk.len() > MAX_BLOCK {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// One fetch: what it is after, and the gateways it has given up on (with why).
struct Job<'a> {
    store: &'a Store,
    root: &'a Cid,
    scope: Scope,
    cancel: &'a CancelToken,
    skipped: &'a Mutex<Vec<(String, Option<String>)>>,
}

/// Why one gateway did not give a block: skip it from now on, or only for this block.
enum Failure {
    Skip(String),
    Block(String),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn push_links(
    pending: &mut Vec<(Cid, usize, Want)>,
    cid: &Cid,
    block: &[u8],
    scope: Scope,
    want: Want,
    depth: usize,
) -> Result<(), IpfsError> {
    let links = wanted_links(cid, block, scope, want)?;
    pending.extend(links.into_iter().rev().map(|(c, f)| (c, depth + 1, f)));
    Ok(())
}

fn short_error(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", timeout.as_secs_f32())
    } else if e.is_connect() {
        "unreachable".into()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s = format!("{s}: {inner}");
            src = inner.source();
        }
        s
    }
}

fn check_url(u: &str) -> Result<(), IpfsError> {
    let ok = (u.starts_with("http://") || u.starts_with("https://"))
        && reqwest::Url::parse(u).is_ok_and(|p| p.host_str().is_some() && p.query().is_none());
    if ok {
        Ok(())
    } else {
        Err(IpfsError::BadOption(format!(
            "gateway {u:?} is not valid: use an http(s) URL such as {}",
            DEFAULT_GATEWAYS[0]
        )))
    }
}

/// [`Gateways::fetch`] for blocking callers (Rust cells, [`crate::read_cid`]): runs on its own
/// thread and runtime, so it works inside or outside an async runtime.
pub fn fetch_blocking(gateways: &Gateways, store: &Store, root: &Cid, scope: Scope) -> Result<FetchReport, IpfsError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(IpfsError::io("starting a runtime for the gateway fetch"))?;
            rt.block_on(gateways.fetch(store, root, scope, &CancelToken::new(), &mut |_| {}))
        })
        .join()
        .unwrap_or_else(|_| Err(IpfsError::Remote("the gateway fetch thread failed".into())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_lists() {
        assert_eq!(Gateways::parse_list("http://a:1/, https://b").unwrap(), vec!["http://a:1", "https://b"]);
        let e = Gateways::parse_list("ftp://x").unwrap_err().to_string();
        assert!(e.contains("ftp://x") && e.contains("http(s) URL"), "{e}");
        assert!(Gateways::parse_list(" , ").is_err());
        let env = |k: &str| (k == OFFLINE_ENV).then(|| "yes".to_string());
        assert!(Gateways::from_env(env, &[]).unwrap_err().to_string().contains(OFFLINE_ENV));
        let g = Gateways::from_env(|_| None, &[]).unwrap();
        assert_eq!(g.urls(), DEFAULT_GATEWAYS);
        assert!(!g.is_offline());
    }

    #[test]
    fn scopes() {
        assert_eq!(Scope::parse("entity"), Some(Scope::Entity));
        assert_eq!(Scope::parse("x"), None);
        assert_eq!(Scope::entity_bytes("5:*"), Some(Scope::Bytes { from: 5, to: None }));
        assert_eq!(Scope::entity_bytes("5:9").unwrap().query(), "dag-scope=entity&entity-bytes=5:9");
        assert_eq!(Scope::entity_bytes("9:5"), None);
        assert_eq!(Scope::entity_bytes("-5:*"), None);
    }
}
