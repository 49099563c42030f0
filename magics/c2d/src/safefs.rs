//! Host-side access to job files that never follows anything an algorithm could have planted.
//!
//! An algorithm controls the contents of the folders bound writable into its sandbox
//! (`outputs/`, `logs/`): it can put symlinks, FIFOs or hard links there. Whatever the engine (or
//! the node serving a job's results) reads, appends to or walks goes through this module:
//!
//! - the last component is opened relative to a handle on its parent folder with `O_NOFOLLOW`
//!   (a symlink fails to open, `ELOOP`) and `O_NONBLOCK` (a FIFO does not block the opener);
//! - what was opened is checked on the open handle (`fstat`, no path is looked at twice, so no
//!   time-of-check/time-of-use race): it must be a regular file with one link, else it is refused;
//! - reads are bounded;
//! - folder walks open each sub-folder relative to its parent with `O_NOFOLLOW | O_DIRECTORY`
//!   and look at entries with `AT_SYMLINK_NOFOLLOW`.
//!
//! The parent folders passed in are the engine's own (the job folder, `results/`), which no
//! algorithm can reach; only the last component is under suspicion.

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// Largest piece [`read_from`] returns at once (followers call it again for the rest).
pub const MAX_CHUNK: u64 = 16 << 20;

/// Deepest folder nesting [`walk`] descends into.
pub const MAX_DEPTH: usize = 64;

fn refused(path: &Path, why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{} refused: {why}", path.display()))
}

fn split(path: &Path) -> io::Result<(&Path, &std::ffi::OsStr)> {
    let name = path.file_name().ok_or_else(|| refused(path, "no file name"))?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Ok((parent, name))
}

/// A handle on a folder (the folder itself must not be a symlink).
pub fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::open(path, flags, Mode::empty())?)
}

/// Check an open handle: a regular file with exactly one link.
fn check_regular(fd: OwnedFd, path: &Path) -> io::Result<File> {
    let st = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(refused(path, "not a regular file"));
    }
    if st.st_nlink != 1 {
        return Err(refused(path, "the file has more than one link"));
    }
    Ok(File::from(fd))
}

/// Open `name` in the folder `dir` for reading: no symlink, regular file, one link.
fn open_read_at(dir: impl AsFd, name: &std::ffi::OsStr, shown: &Path) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty()).map_err(|e| match e {
        rustix::io::Errno::LOOP => refused(shown, "it is a symbolic link"),
        e => e.into(),
    })?;
    check_regular(fd, shown)
}

/// Open `path` for reading: its last component must be a regular file with one link, never a
/// symlink, FIFO, device or folder.
pub fn open_read(path: &Path) -> io::Result<File> {
    let (parent, name) = split(path)?;
    open_read_at(open_dir(parent)?, name, path)
}

/// Open (creating it, mode 0600) `path` for appending, under the same rules as [`open_read`].
pub fn open_append(path: &Path) -> io::Result<File> {
    let (parent, name) = split(path)?;
    let flags = OFlags::WRONLY
        | OFlags::APPEND
        | OFlags::CREATE
        | OFlags::NOFOLLOW
        | OFlags::NONBLOCK
        | OFlags::NOCTTY
        | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(open_dir(parent)?, name, flags, Mode::from_raw_mode(0o600)).map_err(|e| match e {
        rustix::io::Errno::LOOP => refused(path, "it is a symbolic link"),
        e => e.into(),
    })?;
    check_regular(fd, path)
}

/// The whole of `path` (see [`open_read`]), refused when it is larger than `max` bytes.
pub fn read_file(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let f = open_read(path)?;
    let len = f.metadata()?.len();
    if len > max {
        return Err(refused(path, &format!("it holds {len} bytes, more than the {max} allowed")));
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(max).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The bytes of `path` from `offset` on, at most [`MAX_CHUNK`] of them (empty when it is missing,
/// shorter, or refused): how followers read a log that is still growing.
pub fn read_from(path: &Path, offset: u64) -> Vec<u8> {
    let mut buf = vec![];
    if let Ok(mut f) = open_read(path)
        && f.seek(SeekFrom::Start(offset)).is_ok()
    {
        let _ = f.take(MAX_CHUNK).read_to_end(&mut buf);
    }
    buf
}

/// The last `max` bytes of `path` as text (empty when missing or refused).
pub fn read_tail(path: &Path, max: u64) -> String {
    let Ok(mut f) = open_read(path) else { return String::new() };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(max)));
    let mut buf = vec![];
    let _ = f.take(max).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Append `bytes` to `path` (see [`open_append`]).
pub fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    open_append(path)?.write_all(bytes)
}

/// Copy `src` (see [`open_read`]) to a new file `dst` (an existing `dst` is replaced, never
/// followed), refusing sources over `max` bytes. Returns the bytes copied.
pub fn copy_file(src: &Path, dst: &Path, max: u64) -> io::Result<u64> {
    let from = open_read(src)?;
    let len = from.metadata()?.len();
    if len > max {
        return Err(refused(src, &format!("it holds {len} bytes, more than the {max} allowed")));
    }
    match std::fs::remove_file(dst) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut to = std::fs::OpenOptions::new().write(true).create_new(true).open(dst)?;
    let n = io::copy(&mut from.take(max), &mut to)?;
    to.flush()?;
    Ok(n)
}

/// What [`walk`] saw of one entry.
pub enum Entry {
    /// A folder (walked into, unless deeper than [`MAX_DEPTH`]).
    Dir,
    /// A regular file and its size.
    File(u64),
    /// Anything else: symlink, FIFO, socket, device.
    Special,
}

/// What the visitor of [`walk`] wants done with an entry.
#[derive(PartialEq, Eq)]
pub enum Keep {
    Yes,
    /// Unlink it (a folder: with everything in it). A symlink is removed, never its target.
    Remove,
}

/// Walk the tree under `root` without following any symlink, calling `visit(relative path,
/// entry, depth)` for each entry. Folders deeper than [`MAX_DEPTH`] are reported as
/// [`Entry::Special`]. Unreadable entries are skipped.
pub fn walk(root: &Path, visit: &mut dyn FnMut(&Path, &Entry) -> Keep) -> io::Result<()> {
    let top = open_dir(root)?;
    walk_fd(top, Path::new(""), 0, visit);
    Ok(())
}

fn walk_fd(dir: OwnedFd, rel: &Path, depth: usize, visit: &mut dyn FnMut(&Path, &Entry) -> Keep) {
    let Ok(entries) = Dir::read_from(&dir) else { return };
    let names: Vec<std::ffi::CString> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    for name in names {
        let Ok(st) = rustix::fs::statat(&dir, name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW) else { continue };
        let os: &std::ffi::OsStr = std::os::unix::ffi::OsStrExt::from_bytes(name.as_bytes());
        let path = rel.join(os);
        let kind = FileType::from_raw_mode(st.st_mode);
        let entry = match kind {
            FileType::Directory if depth < MAX_DEPTH => Entry::Dir,
            FileType::RegularFile => Entry::File(st.st_size.max(0) as u64),
            _ => Entry::Special,
        };
        let is_dir = kind == FileType::Directory;
        if visit(&path, &entry) == Keep::Remove {
            remove_at(&dir, &name, is_dir);
            continue;
        }
        if matches!(entry, Entry::Dir) {
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            if let Ok(sub) = rustix::fs::openat(&dir, name.as_c_str(), flags, Mode::empty()) {
                walk_fd(sub, &path, depth + 1, visit);
            }
        }
    }
}

/// Remove one entry of `dir`; a folder with everything in it (its entries by handle, never
/// following a symlink).
fn remove_at(dir: &OwnedFd, name: &std::ffi::CStr, is_dir: bool) {
    if !is_dir {
        let _ = rustix::fs::unlinkat(dir, name, AtFlags::empty());
        return;
    }
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if let Ok(sub) = rustix::fs::openat(dir, name, flags, Mode::empty())
        && let Ok(entries) = Dir::read_from(&sub)
    {
        let names: Vec<(std::ffi::CString, bool)> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_bytes() != b"." && e.file_name().to_bytes() != b"..")
            .map(|e| (e.file_name().to_owned(), e.file_type() == FileType::Directory))
            .collect();
        for (n, d) in names {
            remove_at(&sub, &n, d);
        }
    }
    let _ = rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR);
}

/// Total bytes of regular files under `dir`, never following a symlink (0 when unreadable).
pub fn tree_size(dir: &Path) -> u64 {
    let mut total = 0;
    let _ = walk(dir, &mut |_, e| {
        if let Entry::File(n) = e {
            total += n;
        }
        Keep::Yes
    });
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_fifos_and_hard_links_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let secret = t.path().join("secret");
        std::fs::write(&secret, "TOP-SECRET").unwrap();
        symlink(&secret, t.path().join("link")).unwrap();
        std::fs::hard_link(&secret, t.path().join("hard")).unwrap();
        let fifo = std::process::Command::new("mkfifo").arg(t.path().join("fifo")).status().unwrap();
        assert!(fifo.success());
        std::fs::create_dir(t.path().join("dir")).unwrap();
        for name in ["link", "hard", "fifo", "dir"] {
            let p = t.path().join(name);
            assert!(open_read(&p).is_err(), "{name} was opened");
            assert!(read_from(&p, 0).is_empty(), "{name} was read");
            assert!(read_tail(&p, 100).is_empty(), "{name} was read");
            assert!(copy_file(&p, &t.path().join("copy"), 1 << 20).is_err(), "{name} was copied");
        }
        assert!(append(&t.path().join("link"), b"x").is_err());
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "TOP-SECRET");
        let err = open_read(&t.path().join("link")).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
    }

    #[test]
    fn regular_files_are_read_appended_and_copied_within_bounds() {
        let t = tempfile::tempdir().unwrap();
        let log = t.path().join("log");
        append(&log, b"one\n").unwrap();
        append(&log, b"two\n").unwrap();
        assert_eq!(read_from(&log, 4), b"two\n");
        assert_eq!(read_tail(&log, 4), "two\n");
        assert_eq!(read_file(&log, 8).unwrap(), b"one\ntwo\n");
        assert!(read_file(&log, 7).is_err());
        let dst = t.path().join("dst");
        symlink("/nonexistent-target", &dst).unwrap();
        assert_eq!(copy_file(&log, &dst, 100).unwrap(), 8);
        assert!(std::fs::symlink_metadata(&dst).unwrap().is_file(), "the link at dst was replaced");
        assert!(copy_file(&log, &dst, 7).is_err());
    }

    #[test]
    fn walk_never_follows_and_removes_links_not_targets() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep"), [0u8; 1000]).unwrap();
        let root = t.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a"), [0u8; 10]).unwrap();
        symlink(&outside, root.join("dirlink")).unwrap();
        symlink(outside.join("keep"), root.join("sub/filelink")).unwrap();
        assert_eq!(tree_size(&root), 10);
        let mut seen = vec![];
        walk(&root, &mut |p, e| {
            seen.push(p.display().to_string());
            if matches!(e, Entry::Special) { Keep::Remove } else { Keep::Yes }
        })
        .unwrap();
        seen.sort();
        assert_eq!(seen, ["dirlink", "sub", "sub/a", "sub/filelink"]);
        assert!(std::fs::symlink_metadata(root.join("dirlink")).is_err());
        assert!(std::fs::symlink_metadata(root.join("sub/filelink")).is_err());
        assert_eq!(std::fs::read(outside.join("keep")).unwrap().len(), 1000);
        assert!(walk(&root.join("sub/a"), &mut |_, _| Keep::Yes).is_err(), "a file is not a folder");
    }
}
