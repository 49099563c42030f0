//! Bounds on walking a DAG that may be hostile ([`ReadLimits`], set by [`MAX_DEPTH_ENV`]). A
//! [`Store`](crate::Store) handle carries them, so every reader of that handle (the exporter,
//! the fetch walk, the gateway) observes the same ones. Re-exported by [`crate::exporter`].

use crate::IpfsError;
use cid::Cid;

/// The environment variable (also `%env`) that sets [`ReadLimits::max_depth`].
pub const MAX_DEPTH_ENV: &str = "KELP_IPFS_MAX_DEPTH";

/// Bounds on walking a DAG that may be hostile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Most levels of nesting followed below a root: links of a file DAG, or directories
    /// inside directories on `get`. Files Kubo makes are under 10 levels deep.
    pub max_depth: usize,
}

impl ReadLimits {
    /// The default [`ReadLimits::max_depth`].
    pub const DEFAULT_MAX_DEPTH: usize = 1024;

    /// Limits from the value of [`MAX_DEPTH_ENV`] (`None`: the defaults).
    pub fn from_env_value(value: Option<&str>) -> Result<Self, IpfsError> {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(Self::default());
        };
        match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(ReadLimits { max_depth: n }),
            _ => Err(IpfsError::BadOption(format!(
                "{MAX_DEPTH_ENV}={v:?} is not valid: set it to a whole number of levels above 0, e.g. {}",
                Self::DEFAULT_MAX_DEPTH
            ))),
        }
    }

    pub(crate) fn too_deep(&self, what: &str, cid: &Cid) -> IpfsError {
        IpfsError::Unsupported(format!(
            "{what} {cid} is nested deeper than {} levels (a hostile or broken DAG?); \
             to read it anyway raise {MAX_DEPTH_ENV} (%env {MAX_DEPTH_ENV}=N)",
            self.max_depth
        ))
    }
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits { max_depth: Self::DEFAULT_MAX_DEPTH }
    }
}
