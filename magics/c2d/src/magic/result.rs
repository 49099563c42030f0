//! `%c2d result JOB [-o DIR]`: unpack `outputs.tar` and `algorithm.log` into a local folder,
//! atomically (a temporary folder renamed into place), keeping only regular files and folders.
//! The folder is the cell's value, so the next Rust cell can read it.

use super::fail;
use super::results::Fetched;
use crate::Engine;
use kelp_magic::{MagicContext, MagicError, MagicResult, Output, RustValue};
use std::path::{Path, PathBuf};

const MARKER: &str = ".kelp-c2d-job";

pub(crate) fn fetch(engine: &Engine, job: &str, out: Option<&Path>, ctx: &MagicContext) -> kelp_magic::Result<Output> {
    let rec = engine.record(job).map_err(fail)?;
    let id = rec.job_id.clone();
    let (_, log) = engine.result_file(&id, 0).map_err(fail)?;
    let tar = engine.result_file(&id, 1).ok().map(|r| r.1);
    let dest = match out {
        Some(p) => ctx.resolve(p),
        None => ctx.cwd.join("c2d-results").join(&id),
    };
    let err = |what: &str, e: std::io::Error| MagicError::failed(format!("%c2d: {what} {}: {e}", dest.display()));
    if dest.exists() {
        let ours = std::fs::read_to_string(dest.join(MARKER)).is_ok_and(|m| m.trim() == id);
        let empty = std::fs::read_dir(&dest).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !ours && !empty {
            return Err(MagicError::failed(format!(
                "%c2d: folder {} exists and holds other files; remove it or choose another with -o DIR",
                dest.display()
            )));
        }
    }
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| err("cannot create the parent of", e))?;
    let tmp = parent.join(format!(
        ".{}.partial-{}",
        dest.file_name().and_then(|n| n.to_str()).unwrap_or("c2d"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| err("cannot create a folder next to", e))?;
    let filled = fill(&tmp, &log, tar.as_deref(), &id);
    if let Err(msg) = filled {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(MagicError::failed(format!("%c2d: could not unpack the results of job {id}: {msg}")));
    }
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| err("cannot replace", e))?;
    }
    std::fs::rename(&tmp, &dest).map_err(|e| err("cannot move the results to", e))?;
    let r = Fetched {
        status: rec.status.code(),
        status_text: rec.status_text,
        folder: dest.display().to_string(),
        files: list_files(&dest),
        log: dest.join("algorithm.log").display().to_string(),
        status_line: rec.status.to_string(),
        job_id: id,
    };
    Ok(r.output().with_value(RustValue::path(&dest)))
}

fn fill(tmp: &Path, log: &Path, tar: Option<&Path>, id: &str) -> Result<(), String> {
    if let Some(tar) = tar {
        let out = std::process::Command::new("tar")
            .arg("-xf")
            .arg(tar)
            .args(["--no-same-owner", "--no-same-permissions", "-C"])
            .arg(tmp)
            .output()
            .map_err(|e| format!("could not run tar: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        remove_specials(tmp);
    }
    crate::safefs::copy_file(log, &tmp.join("algorithm.log"), u64::MAX).map_err(|e| e.to_string())?;
    std::fs::write(tmp.join(MARKER), format!("{id}\n")).map_err(|e| e.to_string())?;
    Ok(())
}

/// Drop symlinks and special files an algorithm may have put in its outputs.
fn remove_specials(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        match p.symlink_metadata() {
            Ok(m) if m.is_dir() => remove_specials(&p),
            Ok(m) if m.is_file() => {}
            _ => {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
}

/// Files under `dir`, relative, sorted (without the marker).
fn list_files(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir)
                && rel != Path::new(MARKER)
            {
                out.push(rel.display().to_string());
            }
        }
    }
    out.sort();
    out
}
