//! Small file helpers: atomic writes (nothing half written), private files for secrets.

use crate::error::{OceanError, Result};
use std::path::Path;

/// Write `bytes` to `path` via a temporary file in the same directory and a rename, creating
/// the parent directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| OceanError::io(dir, e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| OceanError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| OceanError::io(path, e))
}

/// Read a JSON file; `Ok(None)` when it does not exist.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| OceanError::devnet(format!("{}: unreadable ({e}); delete it to start over", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(OceanError::io(path, e)),
    }
}

/// Write a value as pretty JSON, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| OceanError::devnet(e.to_string()))?;
    write_atomic(path, text.as_bytes())
}
