//! The magics of the Ocean family — `%devnet`, `%publish`, `%ocean`, `%wallet`, a module each —
//! and what they share: their typed results ([`results`]), progress display, IPFS adds
//! ([`crate::session`] picks network and signer).

pub mod devnet;
pub mod ocean;
pub mod publish;
pub mod record;
pub mod results;
pub mod wallet;

use kelp_magic::{MagicContext, Progress};
use std::future::Future;
use std::time::{Duration, Instant};

/// Run `fut` while a progress line shows `label` and the seconds elapsed (shown only if the
/// work outlasts the progress delay).
pub async fn with_progress<T>(ctx: &MagicContext, label: &str, fut: impl Future<Output = T>) -> T {
    let mut p = Progress::items(ctx, label.to_string(), None);
    let start = Instant::now();
    tokio::pin!(fut);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            out = &mut fut => {
                p.finish(&format!("{label}: done in {:.1}s", start.elapsed().as_secs_f64()));
                return out;
            }
            _ = tick.tick() => p.set_label(format!("{label} ({:.0}s)", start.elapsed().as_secs_f64())),
        }
    }
}

/// Add a local file or directory to kelp's IPFS block store (under `$KELP_HOME`); its CID.
pub async fn ipfs_add(ctx: &MagicContext, path: &std::path::Path) -> Result<String, crate::OceanError> {
    with_progress(ctx, "adding to IPFS", crate::ipfs::add_path(&ctx.config.home, path)).await
}
