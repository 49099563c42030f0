//! kelp-c2d: compute-to-data. The algorithm travels to the data; only results come back.
//!
//! - [`spec`]: what a job asks for ([`JobSpec`]) and the parsers of the human forms;
//! - [`status`]: Ocean Node's status codes ([`Status`]);
//! - [`journal`]: the persistent, atomically written job journal (a restart loses no job);
//! - [`sandbox`]: the bubblewrap sandbox and how each limit is enforced;
//! - [`engine`]: the local engine ([`Engine`]) the `%c2d` magic and the Ocean local node call;
//! - [`ocean`]: Ocean Node's JSON shapes (`computeEnvironments`, compute job status);
//! - [`resolve`]: pluggable sources for datasets and algorithms (local paths);
//! - [`ipfs`]: IPFS CIDs as sources, read from kelp's block store ([`IpfsResolver`], built in);
//! - [`remote`]: the seam for jobs on a remote node ([`RemoteCompute`]; kelp-ocean implements
//!   it for Ocean DIDs and the kernel plugs it in with [`C2dMagic::with_remote`]).
//!
//! - `magic` (private): the `%c2d` magic, exported through [`magics`] and [`C2dMagic`].
//!
//! The library has no Ethereum and no Jupyter dependency.
//!
//! # Using the engine (the Ocean local node does this from its compute endpoints)
//! ```no_run
//! use kelp_c2d::{AlgorithmSpec, DatasetInput, Engine, JobSpec};
//! let engine = Engine::open("/tmp/kelp/c2d")?;
//! let envs = engine.environments();                 // GET computeEnvironments
//! let spec = JobSpec::new(vec![DatasetInput::path("data.csv")], AlgorithmSpec::path("algo.py"));
//! let id = engine.submit(spec)?;                    // POST compute / freeCompute
//! let job = engine.status(&id)?;                    // GET compute (Ocean's job shape)
//! let rec = engine.wait(&id, std::time::Duration::from_secs(60))?;
//! let (file, path) = engine.result_file(&id, 1)?;   // GET computeResult?index=1 → outputs.tar
//! engine.stop(&id)?;                                // PUT compute
//! # let _ = (envs, job, rec, file, path);
//! # Ok::<(), kelp_c2d::C2dError>(())
//! ```
//!
//! # `%c2d` JSON schemas (`application/json` of each subcommand)
//! Each result is a typed struct (`magic/results.rs`); its JSON Schema, generated from the type,
//! is `docs/schema/results/c2d.<name>.schema.json` (`c2d.job`, `c2d.start`, `c2d.stop`,
//! `c2d.list`, `c2d.logs`, `c2d.result`, `c2d.envs`).
//! - **job** (`start`, `status`, `stop`, and each entry of `list`):
//!   `{jobId, status (Ocean code), statusText, finished: bool, ok: bool,
//!   failure: null | {kind: "exit"|"timeout"|"memory"|"processes"|"output_size"|"stopped"|"runner_died"|"provisioning"|"sandbox", message},
//!   exitCode: int|null, dateCreated, dateStarted, dateFinished (unix seconds, float|null), elapsed (s),
//!   environment, datasets: [{id, source}], algorithm: {source, container: {entrypoint, image, tag, checksum?}},
//!   params: {…}, resources: {cpu, ram (bytes), disk (bytes)}, timeout (s),
//!   results: [{filename, filesize, type: "algorithmLog"|"output", index}], limits: [string],
//!   remote?: {backend: "ocean", jobId (the node's, opaque), nodeUrl, owner (consumer address),
//!   datasets: [DID], algorithm: DID, environment, options: {network?, account?, signer?},
//!   details?: {chainId, orders: [{did, serviceId, datatoken, acquired, orderTx}], …}}}`.
//!   `remote` is present only for jobs on a remote node; their `status`/`statusText` are the
//!   node's, `failure.kind` is `"remote"` when the node reports a failure, and `limits`/`exitCode`
//!   stay empty (the node enforces its own).
//! - **list**: `{jobs: [job…]}` oldest first.
//! - **envs**: `{environments: [ComputeEnvironment + {where: "local"|"node", node: URL|null,
//!   network?}]}` — Ocean Node's `computeEnvironments` entries (`id, description, consumerAddress,
//!   platform{architecture, os}, fees, storageExpiry, maxJobDuration, minJobDuration, resources[{id,
//!   total, max, min, inUse}], free{…}, runningJobs, runningFreeJobs`), the local engine's first
//!   (`where: "local"`, `node: null`), then, with a remote backend, those of the network's node as
//!   it sent them (`where: "node"`, `node`: its URL, `network`: the network's name). The node is the
//!   `--network` one, else the session's network's (the devnet's only when it already runs); a
//!   node that does not answer leaves one warning line on stderr and only the local entries.
//! - **logs**: `{jobId, status, log}` (with `-f`, the text streamed while following; for a
//!   remote job also `streamed: bool` — whether the node streamed the log live).
//! - **result**: `{jobId, status, statusText, folder, files: [relative path], log}`; the cell value
//!   is the folder as a `std::path::PathBuf`.
//!
//! Result indexes follow Ocean: 0 = `algorithm.log` (every ended job), 1 = `outputs.tar`
//! (jobs that did not exceed the output limit).
//!
//! # Sources and remote jobs
//! `--dataset`/`--algorithm` take a local path, an IPFS CID (`Qm…`, `bafy…`, `ipfs://…`, read
//! from `$KELP_HOME/ipfs`), or — with a remote backend — an Ocean DID. With DIDs (all sources
//! DIDs; mixing is refused) the job runs on the assets' Ocean node: `start` orders and starts
//! it (`--network`, `--account`, `--signer local|browser` choose who pays and signs), the job is
//! journaled with its `remote` handle and polled in the background (a restarted kernel resumes
//! polling), `status`/`list` ask the node, `result` downloads `algorithm.log` + `outputs.tar`
//! into `jobs/<id>/results/` and unpacks as for local jobs, `logs` shows the log once the node
//! hands it out, `logs -f` follows it live while the node streams it (Ocean Node's
//! `computeStreamableLogs`; status changes instead when it does not) and ends with the final
//! log, `stop` asks the node. Interrupting `--wait` stops the
//! waiting, not the (paid) job.

pub mod engine;
mod error;
pub mod ipfs;
pub mod journal;
pub mod ocean;
pub mod remote;
pub mod resolve;
pub mod safefs;
pub mod sandbox;
pub mod seccomp;
pub mod spec;
pub mod status;

pub use engine::{Engine, EngineConfig, LOCAL_ENV, local_jobs, wait_for_local_jobs};
pub use error::{C2dError, Result};
pub use ipfs::IpfsResolver;
pub use journal::{FailKind, Failure, JobRecord, ResultFile};
pub use ocean::{ComputeEnvironment, ComputeJob};
pub use remote::{
    RemoteCompute, RemoteEnvironments, RemoteJob, RemoteOptions, RemoteRequest, RemoteStarted, RemoteState,
};
pub use resolve::{PathResolver, Resolved, Resolvers, SourceResolver};
pub use spec::{
    AlgorithmSpec, Container, DatasetInput, JobSpec, ResourceRequest, Resources, parse_duration, parse_param,
    parse_size,
};
pub use status::Status;

mod magic;
pub use magic::C2dMagic;

/// The magics of this family, for the kernel's registry.
pub fn magics() -> Vec<std::sync::Arc<dyn kelp_magic::Magic>> {
    vec![std::sync::Arc::new(C2dMagic::new())]
}
