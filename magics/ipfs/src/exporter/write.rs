//! `get`: writing a file, symlink or directory tree to a path that must not exist yet.
//!
//! Everything is written under a fresh temporary sibling of the output and renamed into place
//! only when complete (removed on any error). Inside it nothing is ever opened through an
//! existing name: directories are made with `mkdir` (fails if the name exists), files with
//! `O_CREAT|O_EXCL` (`create_new`, which also refuses a symlink, dangling or not), symlinks
//! with `symlink` (fails if the name exists). Entry names must be one plain path component
//! (no `/`, NUL, `.`, `..` or empty name), and a directory with two entries of the same name
//! is refused before anything of it is written. So a DAG cannot make `get` write outside `-o`,
//! even through a symlink it created itself. Directory nesting is walked with an explicit
//! stack, bounded by [`ReadLimits::max_depth`](super::ReadLimits).

use super::{Decoded, Kind, decode, ls, read_file, stat};
use crate::IpfsError;
use crate::importer::Observer;
use crate::store::Store;
use cid::Cid;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write the file or directory at `cid` to `out` (which must not exist). Written under a
/// temporary name next to `out` and renamed when complete; removed on any error.
pub fn get(store: &Store, cid: &Cid, out: &Path, observe: &mut Observer<'_>) -> Result<(), IpfsError> {
    if out.symlink_metadata().is_ok() {
        return Err(IpfsError::BadOption(format!(
            "{} already exists: choose another output path or remove it",
            out.display()
        )));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(IpfsError::BadOption(format!("directory {} does not exist: create it first", parent.display())));
    }
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = parent.join(format!(".{name}.kelp-partial-{:08x}", rand::random::<u32>()));
    let r =
        write_tree(store, cid, &tmp, observe).and_then(|()| std::fs::rename(&tmp, out).map_err(IpfsError::path(out)));
    if r.is_err() {
        // `tmp` is ours (created exclusively below); never follow a link out of it.
        let is_dir = tmp.symlink_metadata().is_ok_and(|m| m.is_dir());
        let _ = if is_dir { std::fs::remove_dir_all(&tmp) } else { std::fs::remove_file(&tmp) };
    }
    r
}

/// Whether `name` can be written as one entry of a directory: a single, plain path component.
fn check_name(dir: &Cid, name: &str) -> Result<(), IpfsError> {
    let why = if name.is_empty() {
        "an empty name"
    } else if name == "." || name == ".." {
        "a name that points outside the directory"
    } else if name.contains('/') {
        "a name with '/'"
    } else if name.contains('\0') {
        "a name with a NUL byte"
    } else {
        return Ok(());
    };
    Err(IpfsError::Corrupt(format!("directory {dir} has an entry with {why} ({name:?}); nothing was written")))
}

/// Write the node at `cid` to `path`, then every directory below it, depth-first.
fn write_tree(store: &Store, cid: &Cid, path: &Path, observe: &mut Observer<'_>) -> Result<(), IpfsError> {
    let max_depth = store.limits().max_depth;
    let mut stack: Vec<(Cid, PathBuf, usize)> = vec![(*cid, path.to_path_buf(), 0)];
    while let Some((c, p, depth)) = stack.pop() {
        let kind = stat(store, &c)?.kind;
        if kind != Kind::Directory {
            write_leaf(store, &c, kind, &p, observe)?;
            continue;
        }
        if depth > max_depth {
            return Err(store.limits().too_deep("directory", cid));
        }
        let entries = ls(store, &c)?;
        for e in &entries {
            check_name(&c, &e.name)?;
        }
        // `ls` sorts by name, so two entries with one name are neighbours.
        if let Some(w) = entries.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(IpfsError::Corrupt(format!(
                "directory {c} has two entries named {:?}; nothing was written",
                w[0].name
            )));
        }
        std::fs::create_dir(&p).map_err(IpfsError::path(&p))?;
        for e in entries.into_iter().rev() {
            let child = crate::parse_cid(&e.cid)?;
            stack.push((child, p.join(&e.name), depth + 1));
        }
    }
    Ok(())
}

/// Write a file or symlink at `path`, which must not exist (never opened through a link).
fn write_leaf(store: &Store, cid: &Cid, kind: Kind, path: &Path, observe: &mut Observer<'_>) -> Result<(), IpfsError> {
    if kind == Kind::Symlink {
        let Decoded::Pb(_, d, _) = decode(store, cid)? else {
            return Err(IpfsError::Corrupt(format!("{cid}: symlink is not dag-pb")));
        };
        let target = String::from_utf8_lossy(&d.data.unwrap_or_default()).into_owned();
        #[cfg(unix)]
        return std::os::unix::fs::symlink(&target, path).map_err(IpfsError::path(path));
        #[cfg(not(unix))]
        return Err(IpfsError::Unsupported(format!("symlink {target} cannot be created on this system")));
    }
    let f = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(IpfsError::path(path))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    read_file(store, cid, 0, None, &mut w, observe)?;
    w.flush().map_err(IpfsError::path(path))
}
