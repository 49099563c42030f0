//! Compute-to-data as a consumer: [`OceanRemote`] is kelp-c2d's [`RemoteCompute`] for Ocean DIDs,
//! so `%c2d start --dataset did:op:… --algorithm did:op:…` runs the algorithm on the dataset's
//! Ocean node (the local devnet node, or any Ocean Node v3).
//!
//! Start (REFERENCE §4.4, §4.7): look both DIDs up on the node; take the dataset's `compute`
//! service and the algorithm's `compute`/`access` service; check the dataset trusts the
//! algorithm (the node checks again); `initializeCompute` for the provider fees; get one
//! datatoken of each and `startOrder` with those fees ([`crate::consume::order`]); then the signed
//! `POST compute`. Status is polled unsigned; results and stop are signed as the consumer, who
//! is chosen as for `%ocean get` (`--network`, `--account`, `--signer`), and journaled with the
//! job so a restarted kernel signs as the same account.
//!
//! `%c2d envs` lists the environments of the network's node (the devnet's only when it already
//! runs, unless `--network` names it); `%c2d logs -f` follows a running job's log through the
//! node's `computeStreamableLogs` (signed `getComputeStreamableLogs`).
//!
//! On a paid environment (one with `fees` for the chain; `%c2d envs` shows its price), the
//! `initializeCompute` answer's `payment` is made lockable through Ocean's Escrow before any
//! order ([`escrow`]: deposit, authorise the node), and `POST compute` carries `payment`.
//!
//! - [`client`]: the HTTP client of the compute routes.
//! - [`results`]: results in kelp's numbering whatever the node's order; Docker log frames
//!   made plain text.
//! - [`trust`]: the node's verdict on a dataset trusting an algorithm.

pub mod client;
pub mod escrow;
pub mod results;
pub mod trust;

use crate::consume;
use crate::error::{OceanError, one_line};
use crate::network::Network;
use crate::provider::{NodeClient, wire};
use crate::session::{self, SignerChoice};
use crate::signer::Signer;
use alloy::primitives::Address;
use async_trait::async_trait;
use client::ComputeClient;
use kelp_c2d::{
    C2dError, Container, RemoteCompute, RemoteEnvironments, RemoteJob, RemoteOptions, RemoteRequest, RemoteStarted,
    RemoteState, Status,
};
use kelp_magic::MagicContext;
use kelp_ocean_wire::fees::ProviderFee;
use serde_json::{Map, Value, json};
use std::path::Path;
use std::sync::Arc;

/// The Ocean backend of `%c2d` for `did:op:` sources.
#[derive(Debug, Default, Clone)]
pub struct OceanRemote;

fn remote_err(e: OceanError) -> C2dError {
    C2dError::Remote(one_line(&e.to_string()))
}

fn input(msg: String) -> C2dError {
    C2dError::Remote(msg)
}

/// An asset's service picked for the job.
struct Picked {
    did: String,
    ddo: Value,
    service_id: String,
    index: usize,
}

fn check_did(did: &str) -> Result<(), C2dError> {
    let hex = did.strip_prefix("did:op:").unwrap_or("");
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(input(format!("`{did}` is not an Ocean DID (did:op: + 64 hex digits)")))
    }
}

/// The first service of `ddo` whose type is one of `types` (in that order of preference).
fn service(ddo: &Value, types: &[&str]) -> Option<(String, usize)> {
    let services = ddo["services"].as_array()?;
    types.iter().find_map(|t| {
        services.iter().position(|s| s["type"] == *t).map(|i| {
            let id = match &services[i]["id"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => i.to_string(),
            };
            (id, i)
        })
    })
}

/// The algorithm's files checksum as the node computes it: the sha256s `fileInfo` reports for
/// the files of its service, concatenated (a file read as 0 bytes is refused).
/// The algorithm's files checksum, asked at `own` (its service's node: the only one that can
/// decrypt its files), else at the network's node when `own` does not answer.
async fn algo_files_checksum(
    network: &NodeClient,
    own: &NodeClient,
    did: &str,
    service_id: &str,
) -> crate::error::Result<String> {
    let listed = match own.file_checksums(did, service_id).await {
        Err(e) if own.url() != network.url() && consume::unreachable(&e) => {
            network.file_checksums(did, service_id).await?
        }
        r => r?,
    };
    Ok(crate::ddo::files_checksum(&listed))
}

/// `initializeCompute`'s `payment`: the chain as a number, and the environment's fee token for
/// that chain exactly as the environment spells it (Ocean Node compares the text); the
/// network's OCEAN when the environment lists no fee for the chain (a free local engine).
pub fn payment(env: &Value, chain_id: u64, ocean: Address) -> Value {
    let token = env["fees"][chain_id.to_string()]
        .as_array()
        .and_then(|f| f.iter().find_map(|f| f["feeToken"].as_str().map(str::to_string)))
        .unwrap_or_else(|| ocean.to_checksum(None));
    json!({"chainId": chain_id, "token": token})
}

/// The `initializeCompute` body: `datasets` and `algorithm` as `(did, serviceId)`.
pub fn initialize_body(
    datasets: &[(&str, &str)],
    algorithm: (&str, &str),
    environment: &str,
    payment: Value,
    consumer: Address,
) -> Value {
    let item = |(did, sid): (&str, &str)| json!({"documentId": did, "serviceId": sid});
    json!({"datasets": datasets.iter().map(|d| item(*d)).collect::<Vec<_>>(), "algorithm": item(algorithm),
        "environment": environment, "payment": payment, "consumerAddress": consumer.to_checksum(None)})
}

/// The node's job as kelp-c2d's state.
pub fn state_of(job: &Value) -> Result<RemoteState, C2dError> {
    let code = wire::number(&job["status"]).unwrap_or(u64::MAX);
    let status = u16::try_from(code)
        .ok()
        .and_then(Status::from_code)
        .ok_or_else(|| input(format!("the node reports an unknown job status {}", job["status"])))?;
    let finished = match &job["dateFinished"] {
        Value::String(s) => s.parse::<f64>().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
    .filter(|f| *f > 0.0);
    // kelp's numbering: 0 = algorithm.log, 1 = outputs.tar, then the rest ([`results`]).
    let results = job["results"]
        .as_array()
        .map(|rs| results::in_kelp_order(rs).into_iter().map(|(f, _)| f).collect())
        .unwrap_or_default();
    Ok(RemoteState { status, status_text: job["statusText"].as_str().unwrap_or("").to_string(), finished, results })
}

/// Whom an order must be made out to, when the `initializeCompute` entry says: Ocean Node v3
/// names its compute environment's `consumerAddress` (itself) and checks the order against it;
/// `None` (the signer) when the entry names nobody (kelp's local node).
pub fn order_consumer(answer: &Value) -> Option<Address> {
    answer["consumerAddress"].as_str().and_then(|a| a.parse().ok())
}

/// Get a datatoken of `p` and order it with the fee from `answer` (its `initializeCompute`
/// entry); the order transaction and what to journal about it.
async fn order_one(
    net: &Network,
    signer: &dyn Signer,
    p: &Picked,
    answer: &Value,
    step: &mut (dyn FnMut(&str) + Send),
) -> Result<(alloy::primitives::TxHash, Value), C2dError> {
    let fee: ProviderFee = wire::provider_fee(&answer["providerFee"])
        .map_err(|e| input(format!("initializeCompute answered without a usable providerFee for {}: {e}", p.did)))?;
    let dt: Address = answer["datatoken"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| input(format!("initializeCompute answered without a datatoken for {}", p.did)))?;
    step(&format!("ordering {}…", &p.did[..16.min(p.did.len())]));
    let o = consume::order_for(net, signer, &p.did, p.index, dt, &fee, order_consumer(answer), step)
        .await
        .map_err(remote_err)?;
    let record = json!({"did": p.did, "serviceId": p.service_id, "datatoken": dt, "acquired": o.acquired,
        "paid": o.paid.map(|x| x.to_string()), "orderTx": o.order_tx});
    Ok((o.order_tx, record))
}

impl OceanRemote {
    async fn session(&self, opts: &RemoteOptions, ctx: &MagicContext) -> Result<(Network, Arc<dyn Signer>), C2dError> {
        let choice = match opts.signer.as_deref() {
            None => None,
            Some("local") => Some(SignerChoice::Local),
            Some("browser") => Some(SignerChoice::Browser),
            Some(other) => return Err(input(format!("--signer {other}: use local or browser"))),
        };
        let net = session::network(ctx, opts.network.as_deref()).await.map_err(remote_err)?;
        let signer = session::signer(ctx, &net, opts.account, choice).await.map_err(remote_err)?;
        Ok((net, signer))
    }

    /// The session a journaled job was started in: its flags, and the network it resolved to
    /// (so a later `%wallet switch` or restart does not send its requests elsewhere).
    async fn job_session(&self, job: &RemoteJob, ctx: &MagicContext) -> Result<Arc<dyn Signer>, C2dError> {
        let mut opts = job.options.clone();
        if opts.network.is_none() {
            opts.network = job.details.get("network").and_then(|n| n.as_str()).map(str::to_string);
        }
        Ok(self.session(&opts, ctx).await?.1)
    }

    async fn lookup(&self, node: &ComputeClient, net: &Network, did: &str) -> Result<Value, C2dError> {
        check_did(did)?;
        node.node()
            .ddo(did)
            .await
            .map_err(remote_err)?
            .ok_or_else(|| input(format!("no asset {did} on {}: check the DID or publish it with %publish", net.name)))
    }
}

#[async_trait]
impl RemoteCompute for OceanRemote {
    fn name(&self) -> &'static str {
        "ocean"
    }

    fn accepts(&self, source: &str) -> bool {
        source.starts_with("did:op:")
    }

    async fn start(
        &self,
        req: &RemoteRequest,
        ctx: &MagicContext,
        step: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> kelp_c2d::Result<RemoteStarted> {
        step("connecting");
        let (net, signer) = self.session(&req.options, ctx).await?;
        let url = net
            .node_url
            .clone()
            .ok_or_else(|| input(format!("no Ocean node for network {}: set $KELP_OCEAN_NODE_URL", net.name)))?;
        let node = ComputeClient::new(&url);
        let me = signer.address().await.map_err(remote_err)?;
        step("looking up the assets");
        let algo_ddo = self.lookup(&node, &net, &req.algorithm).await?;
        if algo_ddo["metadata"]["type"] != "algorithm" {
            return Err(input(format!(
                "{} is a {}, not an algorithm: publish the script with %publish FILE --type algorithm",
                req.algorithm,
                algo_ddo["metadata"]["type"].as_str().unwrap_or("?")
            )));
        }
        let (algo_sid, algo_index) = service(&algo_ddo, &["compute", "access"])
            .ok_or_else(|| input(format!("algorithm {} has no access or compute service", req.algorithm)))?;
        let algo_node = consume::provider_of(node.node(), &algo_ddo["services"][algo_index]).map_err(remote_err)?;
        let mut datasets = Vec::new();
        for did in &req.datasets {
            let ddo = self.lookup(&node, &net, did).await?;
            let (service_id, index) = service(&ddo, &["compute"]).ok_or_else(|| {
                input(format!(
                    "{did} is not offered for compute (no compute service): its publisher can publish it with %publish … --compute --trust {}",
                    req.algorithm
                ))
            })?;
            let algo = trust::Algorithm { did: &req.algorithm, ddo: &algo_ddo, service_id: &algo_sid };
            let files = || algo_files_checksum(node.node(), &algo_node, &req.algorithm, &algo_sid);
            if let trust::Verdict::Refused(why) =
                trust::verdict(&ddo["services"][index], &algo, files).await.map_err(remote_err)?
            {
                return Err(input(format!(
                    "algorithm {} is not trusted by dataset {did}: {why}; its publisher can republish the dataset with --trust {}",
                    req.algorithm, req.algorithm
                )));
            }
            datasets.push(Picked { did: did.clone(), ddo, service_id, index });
        }
        let algo = Picked { did: req.algorithm.clone(), ddo: algo_ddo, service_id: algo_sid, index: algo_index };
        // The job runs on the first dataset's own node (its compute service's serviceEndpoint,
        // as Ocean's clients send it): only that node can decrypt the dataset's files. The
        // network's node when the endpoint names it or does not answer.
        let (url, node, envs) = {
            let own = match datasets.first() {
                Some(first) => {
                    consume::provider_of(node.node(), &first.ddo["services"][first.index]).map_err(remote_err)?
                }
                None => node.node().clone(),
            };
            let moved = if own.url() != url {
                let there = ComputeClient::new(own.url());
                match there.environments(net.chain_id).await {
                    Ok(envs) => Some((own.url().to_string(), there, envs)),
                    Err(e) if consume::unreachable(&e) => None,
                    Err(e) => return Err(remote_err(e)),
                }
            } else {
                None
            };
            match moved {
                Some(m) => m,
                None => {
                    let envs = node.environments(net.chain_id).await.map_err(remote_err)?;
                    (url, node, envs)
                }
            }
        };
        let env = match &req.environment {
            Some(e) if envs.iter().any(|x| x["id"].as_str() == Some(e)) => e.clone(),
            Some(e) => {
                let ids: Vec<&str> = envs.iter().filter_map(|x| x["id"].as_str()).collect();
                return Err(input(format!("unknown compute environment {e} on {url} (it has: {})", ids.join(", "))));
            }
            None => envs
                .iter()
                .find_map(|x| x["id"].as_str().map(str::to_string))
                .ok_or_else(|| input(format!("the node at {url} offers no compute environment")))?,
        };
        step("initializing compute");
        let env_entry = envs.iter().find(|x| x["id"].as_str() == Some(env.as_str())).cloned().unwrap_or_default();
        let picked: Vec<(&str, &str)> = datasets.iter().map(|p| (p.did.as_str(), p.service_id.as_str())).collect();
        let mut pay = payment(&env_entry, net.chain_id, net.addresses.ocean);
        if let Some(r) = req.resources {
            pay["resources"] = r.to_ocean();
        }
        let mut body = initialize_body(&picked, (&algo.did, &algo.service_id), &env, pay.clone(), me);
        body["maxJobDuration"] = json!(req.timeout_secs);
        let init = node.initialize(&body).await.map_err(remote_err)?;
        // A paid environment: the node must be able to lock the job's cost before anything is ordered.
        let quote = escrow::quote(&init, net.addresses.escrow, &net.name).map_err(remote_err)?;
        let escrow_record = match &quote {
            Some(q) => Some(escrow::prepare(&net, signer.as_ref(), q, step).await.map_err(remote_err)?),
            None => None,
        };
        let mut orders = Vec::new();
        let mut items = Vec::new();
        for (i, p) in datasets.iter().enumerate() {
            let (tx, rec) = order_one(&net, signer.as_ref(), p, &init["datasets"][i], step).await?;
            items.push(json!({"documentId": p.did, "serviceId": p.service_id, "transferTxId": tx}));
            orders.push(rec);
        }
        let (algo_tx, rec) = order_one(&net, signer.as_ref(), &algo, &init["algorithm"], step).await?;
        orders.push(rec);
        step("starting the job");
        let mut algorithm = json!({"documentId": algo.did, "serviceId": algo.service_id, "transferTxId": algo_tx});
        if !req.params.is_empty() {
            algorithm["algocustomdata"] = Value::Object(req.params.clone());
        }
        let mut body = json!({"environment": env, "algorithm": algorithm, "datasets": items,
            "maxJobDuration": req.timeout_secs});
        if let Some(r) = req.resources {
            body["resources"] = r.to_ocean();
        }
        if quote.is_some() {
            body["payment"] = json!({"chainId": pay["chainId"], "token": pay["token"]});
        }
        let jobs = node.start(signer.as_ref(), &body).await.map_err(remote_err)?;
        let job = &jobs[0];
        let job_id = job["jobId"].as_str().ok_or_else(|| input("the node's job has no jobId".into()))?.to_string();
        let c = &algo.ddo["metadata"]["algorithm"]["container"];
        let field = |k: &str| c[k].as_str().unwrap_or("").to_string();
        let container = c.is_object().then(|| Container {
            entrypoint: field("entrypoint"),
            image: field("image"),
            tag: field("tag"),
            checksum: Some(field("checksum")).filter(|s| !s.is_empty()),
        });
        let mut details = Map::new();
        details.insert("chainId".into(), json!(net.chain_id));
        details.insert("network".into(), json!(net.name));
        details.insert("orders".into(), Value::Array(orders));
        if let Some(e) = escrow_record {
            details.insert("escrow".into(), e);
        }
        let handle = RemoteJob {
            backend: self.name().into(),
            job_id,
            node_url: url,
            owner: me.to_checksum(None),
            datasets: req.datasets.clone(),
            algorithm: req.algorithm.clone(),
            environment: env,
            options: req.options.clone(),
            details,
        };
        let state = state_of(job).unwrap_or(RemoteState {
            status: Status::JobStarted,
            status_text: String::new(),
            finished: None,
            results: vec![],
        });
        Ok(RemoteStarted { job: handle, container, state })
    }

    async fn status(&self, job: &RemoteJob) -> kelp_c2d::Result<RemoteState> {
        let owner: Address =
            job.owner.parse().map_err(|_| input(format!("journaled owner {} is not an address", job.owner)))?;
        let v = ComputeClient::new(&job.node_url).status(owner, &job.job_id).await.map_err(remote_err)?;
        state_of(&v)
    }

    async fn fetch(&self, job: &RemoteJob, index: usize, dest: &Path, ctx: &MagicContext) -> kelp_c2d::Result<u64> {
        let signer = self.job_session(job, ctx).await?;
        let client = ComputeClient::new(&job.node_url);
        // `index` is kelp's numbering; the node takes its own (Ocean Node lists image.log and
        // configuration.log first), read from its current list.
        let owner: Address =
            job.owner.parse().map_err(|_| input(format!("journaled owner {} is not an address", job.owner)))?;
        let listed = client.status(owner, &job.job_id).await.map_err(remote_err)?;
        let (file, node_index) = results::node_index(listed["results"].as_array().map_or(&[][..], |v| v), index)
            .ok_or_else(|| input(format!("the node lists no result {index} for job {}", job.job_id)))?;
        let n = client.result(signer.as_ref(), &job.job_id, node_index, dest).await.map_err(remote_err)?;
        if file.kind == "output" {
            // Ocean Node's outputs.tar holds `outputs/…`: the same folder as the sandbox's.
            return Ok(results::reroot_outputs(dest)
                .map_err(|e| input(format!("outputs.tar of job {}: {e}", job.job_id)))?
                .unwrap_or(n));
        }
        if file.kind != "algorithmLog" {
            return Ok(n);
        }
        // Ocean Node's algorithm.log is Docker's multiplexed stream: keep the text only.
        let raw = std::fs::read(dest).map_err(|e| C2dError::io(format!("reading {}", dest.display()), e))?;
        let text = results::plain(&raw);
        if text.len() != raw.len() {
            std::fs::write(dest, &text).map_err(|e| C2dError::io(format!("writing {}", dest.display()), e))?;
        }
        Ok(text.len() as u64)
    }

    async fn stop(&self, job: &RemoteJob, ctx: &MagicContext) -> kelp_c2d::Result<()> {
        let signer = self.job_session(job, ctx).await?;
        ComputeClient::new(&job.node_url).stop(signer.as_ref(), &job.job_id).await.map_err(remote_err)
    }

    /// The node of `--network`, else of the session's network; the default devnet only when it
    /// already runs (listing environments never starts it).
    async fn environments(
        &self,
        network: Option<&str>,
        ctx: &MagicContext,
    ) -> kelp_c2d::Result<Option<RemoteEnvironments>> {
        let chosen = network.map(str::to_string).or_else(|| ctx.env.get(session::ENV_NETWORK));
        if network.is_none() && matches!(chosen.as_deref(), None | Some("devnet" | "development")) {
            let paths = crate::devnet::DevnetPaths::new(ctx.config.dir("ocean"));
            if !crate::devnet::status(&paths).await.map_err(remote_err)?.running {
                return Ok(None);
            }
        }
        let net = session::network(ctx, chosen.as_deref()).await.map_err(remote_err)?;
        let url = net
            .node_url
            .clone()
            .ok_or_else(|| input(format!("no Ocean node for network {}: set $KELP_OCEAN_NODE_URL", net.name)))?;
        let mut environments = ComputeClient::new(&url).environments(net.chain_id).await.map_err(remote_err)?;
        for e in environments.iter_mut().filter(|e| e.is_object()) {
            e["price"] = json!(escrow::price_text(e, net.chain_id, net.addresses.ocean));
        }
        Ok(Some(RemoteEnvironments { network: net.name, node_url: url, environments }))
    }

    async fn follow_log(
        &self,
        job: &RemoteJob,
        ctx: &MagicContext,
        out: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> kelp_c2d::Result<bool> {
        let signer = self.job_session(job, ctx).await?;
        let client = ComputeClient::new(&job.node_url);
        let owner: Address =
            job.owner.parse().map_err(|_| input(format!("journaled owner {} is not an address", job.owner)))?;
        loop {
            if client.stream_logs(signer.as_ref(), &job.job_id, out).await.map_err(remote_err)? {
                return Ok(true);
            }
            // Ocean Node streams only while the algorithm runs (status 40) and answers 404
            // before: wait for the run while the image is pulled and the data provisioned.
            let state = state_of(&client.status(owner, &job.job_id).await.map_err(remote_err)?)?;
            if state.status.code() >= Status::RunningAlgorithm.code() || state.status.is_terminal() {
                return Ok(false);
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
}

/// The `%c2d` magic with Ocean DIDs (this backend) and IPFS CIDs as sources, for the kernel.
pub fn c2d_magic() -> kelp_c2d::C2dMagic {
    kelp_c2d::C2dMagic::new().with_remote(Arc::new(OceanRemote))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_go_to_the_address_initialize_compute_names() {
        let node: Address = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720".parse().unwrap();
        assert_eq!(
            order_consumer(&json!({"consumerAddress": node.to_checksum(None), "validOrder": false})),
            Some(node)
        );
        assert_eq!(order_consumer(&json!({"datatoken": "0x00"})), None);
        assert_eq!(order_consumer(&json!({"consumerAddress": "not an address"})), None);
    }

    #[test]
    fn services_by_type() {
        let ds = json!({"services": [{"id": "0", "type": "compute", "compute": {}}]});
        assert_eq!(service(&ds, &["access", "compute"]), Some(("0".into(), 0)));
        assert_eq!(service(&ds, &["access"]), None);
    }

    #[test]
    fn node_jobs_read_as_states() {
        let j = json!({"status": 70, "statusText": "Job finished", "dateFinished": "1700000000.5",
            "results": [{"filename": "algorithm.log", "filesize": 9, "type": "algorithmLog", "index": 0},
                        {"filename": "outputs.tar", "filesize": 10240, "type": "output", "index": 1}]});
        let s = state_of(&j).unwrap();
        assert_eq!((s.status, s.finished, s.results.len()), (Status::JobFinished, Some(1_700_000_000.5), 2));
        assert_eq!(s.results[1].filename, "outputs.tar");
        let running = state_of(&json!({"status": 40, "dateFinished": ""})).unwrap();
        assert_eq!((running.status, running.finished), (Status::RunningAlgorithm, None));
        assert!(state_of(&json!({"status": 99})).unwrap_err().to_string().contains("unknown job status 99"));
        assert!(check_did("did:op:12").is_err());
    }
}
