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
//! The library has no Ethereum and no Jupyter dependency.

pub mod engine;
mod error;
pub mod journal;
pub mod ocean;
pub mod resolve;
pub mod sandbox;
pub mod spec;
pub mod status;

pub use engine::{Engine, EngineConfig, LOCAL_ENV};
pub use error::{C2dError, Result};
pub use journal::{FailKind, Failure, JobRecord, ResultFile};
pub use ocean::{ComputeEnvironment, ComputeJob};
pub use resolve::{PathResolver, Resolved, Resolvers, SourceResolver};
pub use spec::{AlgorithmSpec, Container, DatasetInput, JobSpec, Resources, parse_duration, parse_param, parse_size};
pub use status::Status;
