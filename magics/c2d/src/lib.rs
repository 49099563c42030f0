//! kelp-c2d: compute-to-data. The algorithm travels to the data; only results come back.
//!
//! - [`spec`]: what a job asks for ([`JobSpec`]) and the parsers of the human forms;
//! - [`status`]: Ocean Node's status codes ([`Status`]);
//! - [`journal`]: the persistent, atomically written job journal (a restart loses no job);
//! - [`sandbox`]: the bubblewrap sandbox and how each limit is enforced;
//! - [`engine`]: the local engine ([`Engine`]) the `%c2d` magic and the Ocean local node call;
//! - [`ocean`]: Ocean Node's JSON shapes (`computeEnvironments`, compute job status);
//! - [`resolve`]: pluggable sources for datasets and algorithms (paths; CIDs/DIDs later).
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
//! - **job** (`start`, `status`, `stop`, and each entry of `list`):
//!   `{jobId, status (Ocean code), statusText, finished: bool, ok: bool,
//!   failure: null | {kind: "exit"|"timeout"|"memory"|"processes"|"output_size"|"stopped"|"runner_died"|"provisioning"|"sandbox", message},
//!   exitCode: int|null, dateCreated, dateStarted, dateFinished (unix seconds, float|null), elapsed (s),
//!   environment, datasets: [{id, source}], algorithm: {source, container: {entrypoint, image, tag, checksum?}},
//!   params: {…}, resources: {cpu, ram (bytes), disk (bytes)}, timeout (s),
//!   results: [{filename, filesize, type: "algorithmLog"|"output", index}], limits: [string]}`
//! - **list**: `{jobs: [job…]}` oldest first.
//! - **envs**: `{environments: [ComputeEnvironment]}` — Ocean Node's `computeEnvironments` entries
//!   (`id, description, consumerAddress, platform{architecture, os}, fees, storageExpiry, maxJobDuration,
//!   minJobDuration, resources[{id, total, max, min, inUse}], free{…}, runningJobs, runningFreeJobs`).
//! - **logs**: `{jobId, status, log}` (with `-f`, the text streamed while following).
//! - **result**: `{jobId, status, statusText, folder, files: [relative path], log}`; the cell value
//!   is the folder as a `std::path::PathBuf`.
//!
//! Result indexes follow Ocean: 0 = `algorithm.log` (every ended job), 1 = `outputs.tar`
//! (jobs that did not exceed the output limit).

pub mod engine;
mod error;
pub mod journal;
pub mod ocean;
pub mod resolve;
pub mod sandbox;
pub mod spec;
pub mod status;

pub use engine::{Engine, EngineConfig, LOCAL_ENV, local_jobs, wait_for_local_jobs};
pub use error::{C2dError, Result};
pub use journal::{FailKind, Failure, JobRecord, ResultFile};
pub use ocean::{ComputeEnvironment, ComputeJob};
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
