//! Background processes that outlive one CLI call (anvil, the local node): started in their own
//! process group with output to a log file, found again by pid, stopped with SIGTERM.

use crate::error::{OceanError, Result};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
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

/// Whether `pid` is a live process: some thread of it is not a zombie (a multithreaded program's
/// main thread can be a zombie while its other threads still hold its sockets).
pub fn is_alive(pid: u32) -> bool {
    let live = |stat: &str| stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']));
    match std::fs::read_dir(format!("/proc/{pid}/task")) {
        Ok(tasks) => tasks.flatten().any(|t| std::fs::read_to_string(t.path().join("stat")).is_ok_and(|st| live(&st))),
        Err(_) => false,
    }
}

/// Wait until nothing listens on 127.0.0.1:`port` (a stopped server's socket is closed).
pub async fn wait_port_free(port: u16, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    while !port_free(port) {
        if start.elapsed() > timeout {
            return Err(OceanError::devnet(format!("port {port} is still in use after stopping its server")));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
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

/// A free port below Linux's ephemeral range (32768–60999), so that outgoing connections, which
/// take ephemeral ports, cannot grab it between a devnet's `down` and its next `up`.
pub fn free_port() -> Result<u16> {
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mut x = (seed as u64) ^ ((std::process::id() as u64) << 32) ^ NEXT.fetch_add(0x9E37_79B9, Ordering::Relaxed);
    for _ in 0..200 {
        // xorshift: spread tries over 20000..32000.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let port = 20_000 + (x % 12_000) as u16;
        if port_free(port) {
            return Ok(port);
        }
    }
    Err(OceanError::devnet("no free port in 20000..32000"))
}

static NEXT: AtomicU64 = AtomicU64::new(1);

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
        let p = free_port().unwrap();
        assert!(port_free(p) && (20_000..32_000).contains(&p), "{p}");
    }
}
