//! Background processes that outlive one CLI call (anvil, the local node): started in their own
//! process group with output to a log file, found again by pid, stopped with SIGTERM.

use crate::error::{OceanError, Result};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Start `cmd` detached: own process group (an interrupt of the kernel does not reach it),
/// stdin closed, stdout+stderr appended to `log`. Returns the pid. The child is reaped by a
/// background thread if it exits while this process lives.
pub fn spawn_detached(mut cmd: Command, log: &Path) -> Result<u32> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| OceanError::io(dir, e))?;
    }
    let out = std::fs::OpenOptions::new().create(true).append(true).open(log).map_err(|e| OceanError::io(log, e))?;
    let err = out.try_clone().map_err(|e| OceanError::io(log, e))?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
    let program = cmd.get_program().to_string_lossy().to_string();
    let mut child = cmd.spawn().map_err(|e| OceanError::devnet(format!("cannot start {program}: {e}")))?;
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(pid)
}

/// Whether `pid` is a live (not zombie) process.
pub fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat.rsplit_once(')').map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])).unwrap_or(false),
        Err(_) => false,
    }
}

/// Whether `pid` runs a program whose command line contains `needle` (guards against a pid
/// recycled by an unrelated process).
pub fn runs(pid: u32, needle: &str) -> bool {
    is_alive(pid)
        && std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains(needle))
            .unwrap_or(false)
}

/// Stop `pid` (SIGTERM, then SIGKILL after `grace`). Succeeds if it is gone.
pub async fn terminate(pid: u32, grace: Duration) -> Result<()> {
    if !is_alive(pid) {
        return Ok(());
    }
    signal(pid, "TERM");
    let start = Instant::now();
    while is_alive(pid) {
        if start.elapsed() > grace {
            signal(pid, "KILL");
            tokio::time::sleep(Duration::from_millis(100)).await;
            if is_alive(pid) {
                return Err(OceanError::devnet(format!("process {pid} does not stop; kill it by hand")));
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).stderr(Stdio::null()).status();
}

/// Whether nothing listens on 127.0.0.1:`port`.
pub fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A port the OS says is free now (tests, the local node).
pub fn free_port() -> Result<u16> {
    let l =
        std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| OceanError::devnet(format!("no free port: {e}")))?;
    l.local_addr().map(|a| a.port()).map_err(|e| OceanError::devnet(format!("no free port: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spawned_process_outlives_the_call_and_terminates() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("sleep.log");
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let pid = spawn_detached(cmd, &log).unwrap();
        // Until the child has exec'd, /proc shows the parent's command line.
        let start = Instant::now();
        while !runs(pid, "sleep") && start.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(is_alive(pid) && runs(pid, "sleep") && !runs(pid, "anvil"));
        terminate(pid, Duration::from_secs(2)).await.unwrap();
        // The reaper thread collects it; give it a moment.
        let start = Instant::now();
        while is_alive(pid) && start.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!is_alive(pid));
    }

    #[test]
    fn port_checks() {
        let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(!port_free(port));
        drop(l);
        assert!(port_free(free_port().unwrap()));
    }
}
