//! Finding the relay: the session environment first, then the newest live relay file in the
//! Jupyter runtime directory (computed as `jupyter --runtime-dir` would print it, without Python).

use crate::RelayError;
use kelp_magic::EnvVars;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Where a relay's URL and secret came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelaySource {
    /// `KELP_RELAY_URL` + `KELP_RELAY_SECRET` (inherited from the Jupyter server, or `%env`).
    Env,
    /// A `kelp-relay-<pid>.json` file in the Jupyter runtime directory.
    RuntimeFile(PathBuf),
    /// Given directly to [`crate::RelayClient::new`].
    Explicit,
}

/// What discovery found: a URL and a secret (not yet checked against the server).
pub(crate) struct Found {
    pub url: String,
    pub secret: String,
    pub source: RelaySource,
}

/// `{"url": …, "secret": …, "pid": …}` as the server extension writes it.
#[derive(Deserialize)]
struct RelayFile {
    url: String,
    secret: String,
    pid: Option<u32>,
}

pub(crate) fn find(env: &EnvVars) -> Result<Option<Found>, RelayError> {
    let url = env.get("KELP_RELAY_URL").filter(|v| !v.trim().is_empty());
    let secret = env.get("KELP_RELAY_SECRET").filter(|v| !v.trim().is_empty());
    match (url, secret) {
        (Some(url), Some(secret)) => return Ok(Some(Found { url, secret, source: RelaySource::Env })),
        (Some(_), None) => {
            return Err(RelayError::Config(
                "KELP_RELAY_URL is set but KELP_RELAY_SECRET is not: start the kernel from a JupyterLab with \
                 kelp-labextension, or set both with %env (or unset KELP_RELAY_URL)"
                    .into(),
            ));
        }
        (None, Some(_)) => {
            return Err(RelayError::Config(
                "KELP_RELAY_SECRET is set but KELP_RELAY_URL is not: set both with %env, or unset KELP_RELAY_SECRET"
                    .into(),
            ));
        }
        (None, None) => {}
    }
    let Some(dir) = runtime_dir(env) else { return Ok(None) };
    newest_live_file(&dir)
}

/// The Jupyter runtime directory, as `jupyter --runtime-dir` computes it (jupyter_core 5):
/// `$JUPYTER_RUNTIME_DIR`, else `<data dir>/runtime` where the data dir is `$JUPYTER_DATA_DIR`,
/// else per platform: Linux/BSD `${XDG_DATA_HOME:-~/.local/share}/jupyter`; macOS
/// `~/Library/Jupyter` (`~/Library/Application Support/jupyter` with `JUPYTER_PLATFORM_DIRS`);
/// Windows `%APPDATA%\jupyter` (`%LOCALAPPDATA%\jupyter` with `JUPYTER_PLATFORM_DIRS`).
pub fn runtime_dir(env: &EnvVars) -> Option<PathBuf> {
    let set = |k: &str| env.get(k).filter(|v| !v.is_empty());
    if let Some(d) = set("JUPYTER_RUNTIME_DIR") {
        return Some(PathBuf::from(d));
    }
    Some(data_dir(env)?.join("runtime"))
}

fn data_dir(env: &EnvVars) -> Option<PathBuf> {
    let set = |k: &str| env.get(k).filter(|v| !v.is_empty());
    if let Some(d) = set("JUPYTER_DATA_DIR") {
        return Some(PathBuf::from(d));
    }
    let platform_dirs = set("JUPYTER_PLATFORM_DIRS")
        .is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "no" | "n" | "false" | "off" | "0" | "0.0"));
    let home = set("HOME").map(PathBuf::from).or_else(dirs::home_dir);
    if cfg!(target_os = "macos") {
        let home = home?;
        return Some(if platform_dirs {
            home.join("Library/Application Support/jupyter")
        } else {
            home.join("Library/Jupyter")
        });
    }
    if cfg!(windows) {
        let var = if platform_dirs { "LOCALAPPDATA" } else { "APPDATA" };
        return set(var).map(|d| PathBuf::from(d).join("jupyter"));
    }
    let xdg = set("XDG_DATA_HOME").map(PathBuf::from).or_else(|| home.map(|h| h.join(".local/share")))?;
    Some(xdg.join("jupyter"))
}

/// The newest (by modification time) `kelp-relay-*.json` in `dir` whose server process is alive.
/// Unreadable or malformed files are skipped: they may be half written by a starting server.
pub(crate) fn newest_live_file(dir: &Path) -> Result<Option<Found>, RelayError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(RelayError::Config(format!(
                "cannot list the Jupyter runtime directory {} ({e}): fix its permissions or set JUPYTER_RUNTIME_DIR",
                dir.display()
            )));
        }
    };
    let mut best: Option<(SystemTime, Found)> = None;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with("kelp-relay-") && name.ends_with(".json")) {
            continue;
        }
        let path = entry.path();
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(file) = serde_json::from_str::<RelayFile>(&text) else { continue };
        if file.pid.is_some_and(|pid| !pid_alive(pid)) {
            continue;
        }
        let mtime = entry.metadata().and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
        if best.as_ref().is_none_or(|(t, _)| mtime > *t) {
            let found = Found { url: file.url, secret: file.secret, source: RelaySource::RuntimeFile(path) };
            best = Some((mtime, found));
        }
    }
    Ok(best.map(|(_, f)| f))
}

/// Whether process `pid` exists. Known on Linux (`/proc`); elsewhere assumed alive, and a dead
/// server shows up as [`RelayError::Unreachable`] on the first call.
fn pid_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") { Path::new("/proc").join(pid.to_string()).exists() } else { true }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, Option<&str>)]) -> EnvVars {
        let env = EnvVars::default();
        for var in [
            "KELP_RELAY_URL",
            "KELP_RELAY_SECRET",
            "JUPYTER_RUNTIME_DIR",
            "JUPYTER_DATA_DIR",
            "JUPYTER_PLATFORM_DIRS",
            "XDG_DATA_HOME",
        ] {
            env.set(var, None);
        }
        for (k, v) in pairs {
            env.set(k, v.map(str::to_string));
        }
        env
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn runtime_dir_follows_jupyter_core() {
        assert_eq!(runtime_dir(&env(&[("JUPYTER_RUNTIME_DIR", Some("/r"))])), Some(PathBuf::from("/r")));
        assert_eq!(runtime_dir(&env(&[("JUPYTER_DATA_DIR", Some("/d"))])), Some(PathBuf::from("/d/runtime")));
        assert_eq!(
            runtime_dir(&env(&[("XDG_DATA_HOME", Some("/x")), ("HOME", Some("/h"))])),
            Some(PathBuf::from("/x/jupyter/runtime"))
        );
        assert_eq!(
            runtime_dir(&env(&[("HOME", Some("/h")), ("JUPYTER_PLATFORM_DIRS", Some("1"))])),
            Some(PathBuf::from("/h/.local/share/jupyter/runtime"))
        );
        // An empty value counts as unset, as in jupyter_core.
        assert_eq!(
            runtime_dir(&env(&[("JUPYTER_RUNTIME_DIR", Some("")), ("HOME", Some("/h"))])),
            Some(PathBuf::from("/h/.local/share/jupyter/runtime"))
        );
    }

    #[test]
    fn half_configured_env_is_one_clear_error() {
        let e = find(&env(&[("KELP_RELAY_URL", Some("http://127.0.0.1:1/kelp/relay"))])).err().unwrap();
        assert!(e.to_string().contains("KELP_RELAY_SECRET is not"), "{e}");
        let e = find(&env(&[("KELP_RELAY_SECRET", Some("s3cr3t-value"))])).err().unwrap();
        assert!(!e.to_string().contains("s3cr3t-value"));
    }

    #[test]
    fn no_runtime_files_means_no_relay() {
        let dir = tempfile::tempdir().unwrap();
        let e = env(&[("JUPYTER_RUNTIME_DIR", Some(dir.path().to_str().unwrap()))]);
        assert!(find(&e).unwrap().is_none());
        let gone = dir.path().join("missing");
        let e = env(&[("JUPYTER_RUNTIME_DIR", Some(gone.to_str().unwrap()))]);
        assert!(find(&e).unwrap().is_none());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn newest_live_file_wins_and_dead_or_broken_ones_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, body: String| {
            std::fs::write(dir.path().join(name), body).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let me = std::process::id();
        write("kelp-relay-1.json", format!(r#"{{"url": "http://old", "secret": "a", "pid": {me}}}"#));
        write("kelp-relay-2.json", r#"{"url": "http://live", "secret": "b", "pid": 1}"#.to_string());
        // Newer, but their servers are gone or the file is half written.
        write("kelp-relay-3.json", r#"{"url": "http://dead", "secret": "c", "pid": 4194303}"#.to_string());
        write("kelp-relay-4.json", r#"{"url": "http://ha"#.to_string());
        write("jpserver-5.json", r#"{"url": "http://jp", "secret": "d", "pid": 1}"#.to_string());
        let found = newest_live_file(dir.path()).unwrap().unwrap();
        assert_eq!(found.url, "http://live");
        assert_eq!(found.source, RelaySource::RuntimeFile(dir.path().join("kelp-relay-2.json")));
    }
}
