//! The bubblewrap sandbox a local job runs in, and how each limit is enforced.
//!
//! Layout inside (as Ocean's containers have it): `/data/inputs/<id>/…` (datasets, read-only
//! binds of the original files, never copies) with `/data/inputs/algoCustomData.json`,
//! `/data/transformations/algorithm` (read-only), `/data/ddos` (read-only, one JSON per input),
//! writable `/data/outputs` and `/data/logs`, a size-capped tmpfs `/tmp`, read-only `/usr`
//! and a handful of `/etc` files. Nothing else of the host is visible (no home directory).
//!
//! No `/proc` is mounted: the mount table (`/proc/self/mountinfo`) would name the host path
//! behind every bind mount (the job folder, the datasets), and `statmount`/`listmount` are
//! denied by a seccomp filter for the same reason ([`crate::seccomp`]). The algorithm's stdout
//! and stderr go to a log the engine owns outside the sandbox's folders (an open handle passed
//! in); `/data/logs` is the algorithm's own scratch folder, never read back through a path.
//!
//! Isolation: every namespace is unshared (`--unshare-all`: no network — only a `lo` that is
//! down —, own pid/ipc/uts/cgroup namespaces), a user namespace with `--cap-drop ALL` and
//! `--disable-userns` (or, see below, uid 65534 with no capabilities), `--clearenv`,
//! `--new-session`, `--die-with-parent`.
//!
//! Limits:
//! - wall time: the engine kills bubblewrap (SIGKILL); its pid-1 child dies with it
//!   (`--die-with-parent`) and with it the whole pid namespace;
//! - memory: `RLIMIT_AS` (address space) = `ram`, set with util-linux `prlimit`; `/tmp` is a
//!   tmpfs capped at `min(ram, disk)`;
//! - processes: `RLIMIT_NPROC` when not root (the kernel counts per user namespace and user);
//!   root is exempt from `RLIMIT_NPROC`, so as root a pids cgroup (v1 or v2, when writable) caps
//!   the process count instead; as root without one, bubblewrap sets up the mounts without a
//!   user namespace and `setpriv` runs the algorithm as uid 65534 with no capabilities, where
//!   `RLIMIT_NPROC` holds (datasets must then be readable by others). The job's `limits` lines
//!   say which one applied ([`Identity`]);
//! - output size: `RLIMIT_FSIZE` = `disk` per file, and the engine polls the size of
//!   `/data/outputs` + `/data/logs` and kills the job past `disk` (status 42);
//! - cpu: `taskset` pins the job to `cpu` cores.

use crate::{C2dError, Resources, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Processes a job may have at once.
pub const MAX_PROCS: u64 = 64;

/// The path of `bwrap`, or a clear error saying how to install it.
pub fn bwrap_path() -> Result<PathBuf> {
    for p in ["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"] {
        if Path::new(p).is_file() {
            return Ok(PathBuf::from(p));
        }
    }
    Err(C2dError::Sandbox(
        "bubblewrap (bwrap) is not installed; run install/setup or apt-get install bubblewrap".into(),
    ))
}

/// Everything needed to start one sandbox.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Host folder holding `inputs/`, `transformations/`, `ddos/`, `outputs/`, `logs/`.
    pub job_dir: PathBuf,
    /// `(id, host path)` of each dataset.
    pub datasets: Vec<(String, PathBuf)>,
    /// The command inside the sandbox.
    pub argv: Vec<String>,
    /// Environment inside (over a cleared one).
    pub env: Vec<(String, String)>,
    pub resources: Resources,
    pub timeout: Duration,
    /// May a pids cgroup be used (when root)? Without one, root runs the algorithm as `nobody`.
    pub use_cgroups: bool,
}

/// Who runs the algorithm, which decides how the process limit is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Not root: a user namespace, `RLIMIT_NPROC`.
    User,
    /// Root with a pids cgroup: a user namespace, the cgroup caps processes.
    RootCgroup,
    /// Root without a pids cgroup: no user namespace; bubblewrap (root) sets up the mounts,
    /// then `setpriv` drops to uid/gid 65534 with no capabilities, where `RLIMIT_NPROC` holds.
    /// Datasets must then be readable by others.
    RootAsNobody,
}

/// The uid/gid the algorithm runs as in [`Identity::RootAsNobody`].
pub const NOBODY: u32 = 65534;

/// How a sandbox run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Exit code of the algorithm (128 + n when killed by signal n inside).
    Exited(i32),
    Timeout,
    OutputSize(u64),
    Stopped,
}

/// A started sandbox.
pub struct Running {
    child: Child,
    pub pid: u32,
    cgroup: Option<PathBuf>,
    pub limits: Vec<String>,
    started: Instant,
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// Number of processes this user has now (for a `RLIMIT_NPROC` that counts the user's other
/// processes too).
fn user_process_count() -> u64 {
    let me = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap_or(0);
    processes_owned_by(me)
}

/// Where this process may make pids cgroups: the v1 `pids` hierarchy, or v2 (unified).
fn cgroup_bases() -> Vec<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mut bases = vec![];
    for line in own.lines() {
        let mut it = line.splitn(3, ':');
        let (Some(_), Some(ctrls), Some(path)) = (it.next(), it.next(), it.next()) else { continue };
        let path = path.trim_start_matches('/');
        if ctrls.split(',').any(|c| c == "pids") {
            bases.push(Path::new("/sys/fs/cgroup/pids").join(path));
        } else if ctrls.is_empty() {
            bases.push(Path::new("/sys/fs/cgroup").join(path));
            bases.push(Path::new("/sys/fs/cgroup/unified").join(path));
        }
    }
    bases
}

/// Create a pids cgroup for a job, if this process may.
fn pids_cgroup(name: &str, max: u64) -> Option<PathBuf> {
    for base in cgroup_bases() {
        let dir = base.join(name);
        if std::fs::create_dir(&dir).is_err() {
            continue;
        }
        if std::fs::write(dir.join("pids.max"), max.to_string()).is_ok() {
            return Some(dir);
        }
        let _ = std::fs::remove_dir(&dir);
    }
    None
}

/// Kill what is left in a job's pids cgroup and remove it (for a job whose runner died).
pub fn release_cgroup(job_id: &str) {
    for base in cgroup_bases() {
        let dir = base.join(format!("kelp-c2d-{job_id}"));
        if dir.is_dir() {
            empty_and_remove(&dir);
        }
    }
}

fn empty_and_remove(cg: &Path) {
    for _ in 0..200 {
        let procs = std::fs::read_to_string(cg.join("cgroup.procs")).unwrap_or_default();
        if procs.trim().is_empty() {
            break;
        }
        for p in procs.split_whitespace() {
            let _ = Command::new("/bin/kill").args(["-KILL", p]).stderr(Stdio::null()).status();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = std::fs::remove_dir(cg);
}

fn etc_binds(args: &mut Vec<String>) {
    for f in [
        "/etc/ld.so.cache",
        "/etc/ld.so.conf",
        "/etc/ld.so.conf.d",
        "/etc/localtime",
        "/etc/passwd",
        "/etc/group",
        "/etc/nsswitch.conf",
        "/etc/alternatives",
        "/etc/python3",
        "/etc/python3.11",
    ] {
        if Path::new(f).exists() {
            args.extend(["--ro-bind".into(), f.into(), f.into()]);
        }
    }
}

fn push(args: &mut Vec<String>, items: &[&str]) {
    args.extend(items.iter().map(|s| s.to_string()));
}

/// The bubblewrap arguments (without the `bwrap` itself).
pub fn bwrap_args(plan: &Plan, who: Identity) -> Vec<String> {
    let jd = |p: &str| plan.job_dir.join(p).display().to_string();
    let mut a: Vec<String> = vec![];
    push(&mut a, &["--ro-bind", "/usr", "/usr", "--perms", "0755", "--dir", "/data"]);
    for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
        let host = Path::new("/").join(top);
        match std::fs::read_link(&host) {
            Ok(target) => a.extend(["--symlink".into(), target.display().to_string(), host.display().to_string()]),
            Err(_) if host.is_dir() => {
                a.extend(["--ro-bind".into(), host.display().to_string(), host.display().to_string()])
            }
            Err(_) => {}
        }
    }
    etc_binds(&mut a);
    a.extend(["--ro-bind".into(), jd("inputs"), "/data/inputs".into()]);
    for (id, src) in &plan.datasets {
        let dest = if src.is_dir() { format!("/data/inputs/{id}") } else { format!("/data/inputs/{id}/0") };
        a.extend(["--ro-bind".into(), src.display().to_string(), dest]);
    }
    a.extend(["--ro-bind".into(), jd("transformations"), "/data/transformations".into()]);
    a.extend(["--ro-bind".into(), jd("ddos"), "/data/ddos".into()]);
    a.extend(["--bind".into(), jd("outputs"), "/data/outputs".into()]);
    a.extend(["--bind".into(), jd("logs"), "/data/logs".into()]);
    let tmp = plan.resources.ram.min(plan.resources.disk);
    a.extend(["--perms".into(), "1777".into(), "--size".into(), tmp.to_string(), "--tmpfs".into(), "/tmp".into()]);
    push(&mut a, &["--dev", "/dev"]);
    if who == Identity::RootAsNobody {
        // No user namespace (uid 65534 must be a real, unprivileged uid); setpriv drops below.
        push(&mut a, &["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]);
    } else {
        push(&mut a, &["--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL"]);
    }
    push(&mut a, &["--die-with-parent", "--new-session", "--clearenv", "--hostname", "c2d"]);
    for (k, v) in &plan.env {
        a.extend(["--setenv".into(), k.clone(), v.clone()]);
    }
    push(&mut a, &["--chdir", "/data", "--"]);
    if who == Identity::RootAsNobody {
        let id = NOBODY.to_string();
        a.extend([
            "/usr/bin/setpriv".into(),
            format!("--reuid={id}"),
            format!("--regid={id}"),
            "--clear-groups".into(),
        ]);
        push(&mut a, &["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]);
    }
    a.extend(plan.argv.iter().cloned());
    a
}

/// Make the job folder usable by uid 65534: inputs, algorithm and descriptions readable,
/// outputs and logs owned by it; datasets must already be readable by others.
fn open_to_nobody(plan: &Plan) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for (id, src) in &plan.datasets {
        let mode = std::fs::metadata(src).map(|m| m.permissions().mode()).unwrap_or(0);
        let need = if src.is_dir() { 0o005 } else { 0o004 };
        if mode & need != need {
            return Err(C2dError::Sandbox(format!(
                "dataset {id} ({}) is not readable by others; as root without a pids cgroup the algorithm runs as nobody (chmod o+r it)",
                src.display()
            )));
        }
    }
    let chmod = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    let io = |e| C2dError::io("opening the job folder to uid 65534", e);
    for sub in ["inputs", "transformations", "ddos"] {
        let mut stack = vec![plan.job_dir.join(sub)];
        while let Some(d) = stack.pop() {
            chmod(&d, 0o755).map_err(io)?;
            for e in std::fs::read_dir(&d).map_err(io)?.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    chmod(&p, if sub == "transformations" { 0o755 } else { 0o644 }).map_err(io)?;
                }
            }
        }
    }
    chmod(&plan.job_dir, 0o755).map_err(io)?;
    for p in [plan.job_dir.join("outputs"), plan.job_dir.join("logs")] {
        std::os::unix::fs::chown(&p, Some(NOBODY), Some(NOBODY)).map_err(io)?;
    }
    Ok(())
}

fn processes_owned_by(uid: u32) -> u64 {
    std::fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())))
                .filter(|e| {
                    std::fs::metadata(e.path()).map(|m| std::os::unix::fs::MetadataExt::uid(&m) == uid).unwrap_or(false)
                })
                .count() as u64
        })
        .unwrap_or(0)
}

/// Only one sandbox is started at a time: the seccomp memfd is inheritable while it starts.
static SPAWNING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Start the sandbox; stdout and stderr go to `log` (appended; it must be a regular file with one
/// link, never a symlink, and should live outside the sandbox's folders).
pub fn spawn(plan: &Plan, name: &str, log: &Path) -> Result<Running> {
    let bwrap = bwrap_path()?;
    let r = plan.resources;
    let mut limits = vec![
        format!("time: {} s wall clock, then SIGKILL of the sandbox", plan.timeout.as_secs()),
        format!("memory: RLIMIT_AS {} bytes; /tmp tmpfs {} bytes", r.ram, r.ram.min(r.disk)),
        format!("outputs: RLIMIT_FSIZE {} bytes per file, {} bytes in all (polled)", r.disk, r.disk),
    ];
    let root = is_root();
    let cgroup = if root && plan.use_cgroups { pids_cgroup(&format!("kelp-c2d-{name}"), MAX_PROCS) } else { None };
    let who = match (root, &cgroup) {
        (false, _) => Identity::User,
        (true, Some(_)) => Identity::RootCgroup,
        (true, None) => Identity::RootAsNobody,
    };
    let nproc = match who {
        Identity::User => user_process_count() + MAX_PROCS,
        Identity::RootCgroup => MAX_PROCS,
        Identity::RootAsNobody => processes_owned_by(NOBODY) + MAX_PROCS,
    };
    limits.push(match (who, &cgroup) {
        (Identity::RootCgroup, Some(cg)) => format!("processes: pids cgroup {} (max {MAX_PROCS})", cg.display()),
        (Identity::RootAsNobody, _) => format!(
            "processes: RLIMIT_NPROC for uid {NOBODY} (root without a pids cgroup runs the algorithm as nobody)"
        ),
        _ => format!("processes: RLIMIT_NPROC in the user namespace ({MAX_PROCS} more than the user has)"),
    });
    if who == Identity::RootAsNobody {
        open_to_nobody(plan)?;
    }
    let cpus = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
    let use_cpus = r.cpu.min(cpus).max(1);
    limits.push(format!("cpu: pinned to {use_cpus} core(s) with taskset"));

    let logf = crate::safefs::open_append(log).map_err(|e| C2dError::io(format!("opening {}", log.display()), e))?;
    let logf2 = logf.try_clone().map_err(|e| C2dError::io("duplicating the log handle", e))?;

    let mut argv: Vec<String> = vec![];
    if let Some(cg) = &cgroup {
        argv.extend(["/bin/sh".into(), "-c".into(), "echo $$ > \"$0\" && exec \"$@\"".into()]);
        argv.push(cg.join("cgroup.procs").display().to_string());
    }
    argv.extend([
        "/usr/bin/prlimit".into(),
        format!("--as={}", r.ram),
        format!("--nproc={nproc}"),
        format!("--fsize={}", r.disk),
        "--core=0".into(),
        "--".into(),
        "/usr/bin/taskset".into(),
        "-c".into(),
        format!("0-{}", use_cpus - 1),
        bwrap.display().to_string(),
    ]);
    let _one_at_a_time = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
    let filter = crate::seccomp::program_fd()
        .map_err(|e| C2dError::Sandbox(format!("could not prepare the seccomp filter: {e}")))?;
    argv.extend(["--seccomp".into(), std::os::fd::AsRawFd::as_raw_fd(&filter).to_string()]);
    argv.extend(bwrap_args(plan, who));
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).stdin(Stdio::null()).stdout(logf).stderr(logf2).process_group(0);
    cmd.env_clear().env("PATH", "/usr/bin:/bin");
    let child = cmd.spawn().map_err(|e| {
        if let Some(cg) = &cgroup {
            let _ = std::fs::remove_dir(cg);
        }
        C2dError::Sandbox(format!("could not start {}: {e}", argv[0]))
    })?;
    drop(filter);
    let pid = child.id();
    Ok(Running { child, pid, cgroup, limits, started: Instant::now() })
}

use std::os::unix::process::CommandExt;

impl Running {
    /// Wait for the end, killing the sandbox on timeout, on outputs past `max_output` (the
    /// regular files under `watch` — folders walked without following links — plus `log`), or
    /// when `stop()` says so.
    pub fn watch(
        mut self,
        timeout: Duration,
        max_output: u64,
        watch_dirs: &[PathBuf],
        log: &Path,
        stop: &dyn Fn() -> bool,
    ) -> (Ending, bool) {
        let mut tick = 0u64;
        let ending = loop {
            match self.child.try_wait() {
                Ok(Some(st)) => break Ending::Exited(st.code().unwrap_or_else(|| 128 + st.signal_or(9))),
                Ok(None) => {}
                Err(_) => break Ending::Exited(-1),
            }
            if self.started.elapsed() >= timeout {
                self.kill();
                break Ending::Timeout;
            }
            if stop() {
                self.kill();
                break Ending::Stopped;
            }
            if tick.is_multiple_of(4) {
                let log_size = crate::safefs::open_read(log).and_then(|f| f.metadata()).map(|m| m.len()).unwrap_or(0);
                let size: u64 = watch_dirs.iter().map(|d| crate::safefs::tree_size(d)).sum::<u64>() + log_size;
                if size > max_output {
                    self.kill();
                    break Ending::OutputSize(size);
                }
            }
            tick += 1;
            std::thread::sleep(Duration::from_millis(if tick < 40 { 5 } else { 50 }));
        };
        let hit_pids = self.cleanup_cgroup();
        (ending, hit_pids)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ =
            Command::new("/bin/kill").args(["-KILL", "--", &format!("-{}", self.pid)]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }

    /// Remove the job's pids cgroup (after its processes are gone); whether the process limit
    /// was hit.
    fn cleanup_cgroup(&mut self) -> bool {
        let Some(cg) = self.cgroup.take() else { return false };
        let events = std::fs::read_to_string(cg.join("pids.events")).unwrap_or_default();
        let hit = events.split_whitespace().nth(1).is_some_and(|n| n != "0");
        empty_and_remove(&cg);
        hit
    }
}

trait SignalOr {
    fn signal_or(&self, d: i32) -> i32;
}
impl SignalOr for std::process::ExitStatus {
    fn signal_or(&self, d: i32) -> i32 {
        std::os::unix::process::ExitStatusExt::signal(self).unwrap_or(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_bind_inputs_read_only_and_outputs_writable() {
        let plan = Plan {
            job_dir: "/j".into(),
            datasets: vec![("d1".into(), "/no/such/file.csv".into())],
            argv: vec!["python3".into(), "/data/transformations/algorithm".into()],
            env: vec![("A".into(), "1".into())],
            resources: Resources::default(),
            timeout: Duration::from_secs(5),
            use_cgroups: true,
        };
        let nobody = bwrap_args(&plan, Identity::RootAsNobody).join(" ");
        assert!(nobody.contains("--unshare-net") && !nobody.contains("--unshare-user"), "{nobody}");
        assert!(nobody.contains("-- /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups"), "{nobody}");
        let a = bwrap_args(&plan, Identity::User).join(" ");
        assert!(a.contains("--ro-bind /j/inputs /data/inputs"), "{a}");
        assert!(a.contains("--ro-bind /no/such/file.csv /data/inputs/d1/0"), "{a}");
        assert!(a.contains("--bind /j/outputs /data/outputs") && a.contains("--bind /j/logs /data/logs"));
        assert!(a.contains("--unshare-all") && a.contains("--clearenv") && a.contains("--die-with-parent"));
        assert!(a.contains("--new-session") && a.contains("--cap-drop ALL"));
        assert!(!a.contains("--proc"), "no /proc: its mountinfo names host paths: {a}");
        assert!(!a.contains("/root") && !a.contains("--share-net"));
        assert!(a.ends_with("-- python3 /data/transformations/algorithm"), "{a}");
    }
}
