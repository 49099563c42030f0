//! The files around a job run: laying out the job folder before (inputs, algorithm,
//! `algoCustomData.json`), reading why it failed after, and collecting `outputs.tar` +
//! `algorithm.log`.
//!
//! The job's log ([`live_log`]) lives in the job folder itself, which is never bound into the
//! sandbox: the algorithm writes it only through the stdout/stderr handle it was given, and
//! cannot swap it for a link. Every read, append and copy still goes through [`crate::safefs`]
//! (no symlink followed, regular files only), and the outputs are walked without following
//! links, dropping whatever is not a regular file or folder before they are archived.

use crate::journal::{FailKind, Failure, JobRecord, ResultFile, write_atomic};
use crate::safefs::{self, Entry, Keep};
use crate::{Status, sandbox};
use std::path::{Path, PathBuf};

/// Bytes the engine's own notes may add to a log beyond the algorithm's output limit.
const NOTES_ALLOWANCE: u64 = 1 << 20;

/// The log the algorithm's stdout/stderr and the engine's notes go to: `<job>/algorithm.log`,
/// outside every folder the sandbox sees.
pub(crate) fn live_log(job_dir: &Path) -> PathBuf {
    job_dir.join("algorithm.log")
}

/// Why the algorithm exited non-zero: signal 25 (SIGXFSZ) is the per-file output limit; the
/// memory and process limits are read from the log's last lines (and the pids cgroup).
pub(super) fn classify_exit(code: i32, log: &Path, hit_pids: bool, r: &crate::Resources) -> (Status, Failure) {
    const SIGXFSZ: i32 = 25;
    if code == 128 + SIGXFSZ {
        let m = format!("killed: an output file reached the limit of {} bytes", r.disk);
        return (Status::DiskQuotaExceeded, Failure { kind: FailKind::OutputSize, message: m });
    }
    let text = safefs::read_tail(log, 64 * 1024);
    if text.contains("File too large") {
        let m = format!("failed: an output file reached the limit of {} bytes (exit code {code})", r.disk);
        return (Status::DiskQuotaExceeded, Failure { kind: FailKind::OutputSize, message: m });
    }
    let mem = ["MemoryError", "Cannot allocate memory", "memory allocation of", "std::bad_alloc", "Out of memory"];
    let procs = ["Resource temporarily unavailable", "Cannot fork", "BlockingIOError", "fork: retry"];
    let f = if mem.iter().any(|m| text.contains(m)) {
        Failure {
            kind: FailKind::Memory,
            message: format!("failed: the memory limit of {} bytes was hit (exit code {code})", r.ram),
        }
    } else if hit_pids || procs.iter().any(|m| text.contains(m)) {
        Failure {
            kind: FailKind::Processes,
            message: format!("failed: the process limit of {} was hit (exit code {code})", sandbox::MAX_PROCS),
        }
    } else if code > 128 {
        Failure { kind: FailKind::Exit, message: format!("failed: the algorithm was killed by signal {}", code - 128) }
    } else {
        Failure { kind: FailKind::Exit, message: format!("failed: the algorithm exited with code {code}") }
    };
    (Status::AlgorithmFailed, f)
}

/// Append an engine line (`[kelp-c2d] …`) to a job's log.
pub(super) fn append_note(log: &Path, msg: &str) {
    let _ = safefs::append(log, format!("[kelp-c2d] {msg}\n").as_bytes());
}

/// A dataset's or algorithm's source as the sandbox may see it: DIDs, CIDs and URLs as they
/// are, a local path only by its file name (the algorithm learns no host path).
pub(super) fn shown_source(source: &str) -> String {
    let p = Path::new(source);
    if source.contains('/') && p.exists() {
        return p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    }
    source.to_string()
}

/// Lay out the job folder: inputs (algoCustomData.json + mount points), ddos, the algorithm,
/// outputs and logs.
pub(super) fn provision(rec: &JobRecord, dir: &Path) -> std::result::Result<(), (Status, String)> {
    let vol = |e: std::io::Error| (Status::VolumeCreationFailed, format!("could not prepare the job folder: {e}"));
    for sub in ["inputs", "transformations", "ddos", "outputs", "logs", "results"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(vol)?;
    }
    safefs::open_append(&live_log(dir)).map_err(vol)?;
    let params = serde_json::to_vec_pretty(&rec.spec.params).unwrap_or_else(|_| b"{}".to_vec());
    write_atomic(&dir.join("inputs").join("algoCustomData.json"), &params)
        .map_err(|e| (Status::VolumeCreationFailed, e.to_string()))?;
    for d in &rec.spec.datasets {
        let data_fail = |what: String| (Status::DataProvisioningFailed, what);
        let meta = std::fs::metadata(&d.path)
            .map_err(|e| data_fail(format!("dataset {} is not readable: {e}", d.path.display())))?;
        let mount = dir.join("inputs").join(&d.id);
        std::fs::create_dir_all(&mount).map_err(vol)?;
        if meta.is_file() {
            std::fs::File::create(mount.join("0")).map_err(vol)?;
        }
        let ddo = serde_json::json!({
            "id": d.id, "source": d.source.as_deref().map(shown_source), "name": d.path.file_name().map(|n| n.to_string_lossy().to_string()),
            "size": meta.len(), "kind": if meta.is_dir() { "folder" } else { "file" },
        });
        let bytes = serde_json::to_vec_pretty(&ddo).unwrap_or_default();
        write_atomic(&dir.join("ddos").join(&d.id), &bytes)
            .map_err(|e| (Status::VolumeCreationFailed, e.to_string()))?;
    }
    let algo = dir.join("transformations").join("algorithm");
    let algo_fail = |e: std::io::Error| {
        (
            Status::AlgorithmProvisioningFailed,
            format!("algorithm {} could not be copied: {e}", rec.spec.algorithm.path.display()),
        )
    };
    std::fs::copy(&rec.spec.algorithm.path, &algo).map_err(algo_fail)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&algo, std::fs::Permissions::from_mode(0o755)).map_err(algo_fail)?;
    Ok(())
}

/// Remove from the (ended job's) outputs everything that is not a regular file or a folder:
/// symlinks (removed, their targets untouched), FIFOs, sockets, devices, folders nested too
/// deep. Returns the relative paths removed.
fn prune_outputs(outputs: &Path) -> Vec<String> {
    let mut removed = vec![];
    let _ = safefs::walk(outputs, &mut |rel, e| match e {
        Entry::Special => {
            removed.push(rel.display().to_string());
            Keep::Remove
        }
        _ => Keep::Yes,
    });
    removed
}

/// `results/algorithm.log` (index 0, a copy of [`live_log`]) and, when `tar`,
/// `results/outputs.tar` (index 1) made from the outputs folder after [`prune_outputs`]: only
/// regular files and folders. `max_log` bounds the log copied. The outputs folder is emptied.
pub(super) fn collect_results(dir: &Path, tar: bool, max_log: u64) -> std::result::Result<Vec<ResultFile>, String> {
    let results = dir.join("results");
    std::fs::create_dir_all(&results).map_err(|e| format!("could not create {}: {e}", results.display()))?;
    let mut out = vec![];
    let log_src = live_log(dir);
    let log_dst = results.join("algorithm.log");
    let outputs = dir.join("outputs");
    if tar && outputs.is_dir() {
        let removed = prune_outputs(&outputs);
        if !removed.is_empty() {
            let list = removed.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
            let more = if removed.len() > 10 { format!(" and {} more", removed.len() - 10) } else { String::new() };
            append_note(&log_src, &format!("left out of outputs.tar (not regular files or folders): {list}{more}"));
        }
    }
    match safefs::copy_file(&log_src, &log_dst, max_log.saturating_add(NOTES_ALLOWANCE)) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(&log_dst, b"").map_err(|e| format!("could not write the log: {e}"))?;
        }
        Err(e) => return Err(format!("could not copy the log: {e}")),
    }
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    out.push(ResultFile {
        filename: "algorithm.log".into(),
        filesize: size(&log_dst),
        kind: "algorithmLog".into(),
        index: 0,
    });
    if tar && outputs.is_dir() {
        let tar_path = results.join("outputs.tar");
        let tmp = results.join(".outputs.tar.tmp");
        let st = std::process::Command::new("tar")
            .arg("-cf")
            .arg(&tmp)
            .args(["--format=gnu", "--numeric-owner", "--owner=0", "--group=0", "-C"])
            .arg(&outputs)
            .arg(".")
            .stderr(std::process::Stdio::piped())
            .output()
            .map_err(|e| format!("could not run tar: {e}"))?;
        if !st.status.success() {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("tar of the outputs failed: {}", String::from_utf8_lossy(&st.stderr).trim()));
        }
        std::fs::rename(&tmp, &tar_path).map_err(|e| format!("could not store outputs.tar: {e}"))?;
        out.push(ResultFile {
            filename: "outputs.tar".into(),
            filesize: size(&tar_path),
            kind: "output".into(),
            index: 1,
        });
    }
    let _ = std::fs::remove_dir_all(&outputs);
    Ok(out)
}
