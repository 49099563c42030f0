//! Shared by the integration tests: kill a test devnet's processes even when a test panics.

use kelp_ocean::devnet::{DevnetPaths, DevnetState};

/// Kills whatever `devnet.json` records (anvil, the node) when dropped.
pub struct Cleanup(pub DevnetPaths);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(t) = std::fs::read_to_string(self.0.state_file())
            && let Ok(s) = serde_json::from_str::<DevnetState>(&t)
        {
            for pid in std::iter::once(s.anvil_pid).chain(s.node_pid) {
                let _ = std::process::Command::new("kill").arg("-9").arg(pid.to_string()).status();
            }
        }
    }
}
