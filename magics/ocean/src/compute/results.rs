//! A job's results as a node lists them, read in kelp's order, and its logs as the node sends
//! them, made plain text.
//!
//! kelp numbers a job's results `0` = `algorithm.log`, `1` = `outputs.tar` (what `%c2d result`
//! and `%c2d logs` read), then whatever else the node lists. Ocean Node v3.1.0 lists four, in
//! its own order: `image.log` (0), `configuration.log` (1), `algorithm.log` (2), `outputs.tar`
//! (3) ([`in_kelp_order`] renumbers them; [`node_index`] maps back for `computeResult`).
//!
//! Its `algorithm.log`, and `computeStreamableLogs` while a job runs, are raw Docker
//! multiplexed frames: an 8-byte header (stream 0/1/2, three zero bytes, the payload length as
//! a big-endian u32) before every chunk the container wrote. [`Frames`] strips the headers;
//! text that does not start like a frame (kelp's own node) passes unchanged.
//!
//! Its `outputs.tar` holds `outputs/…` where kelp's sandbox tars the folder's contents (`./…`);
//! [`reroot_outputs`] makes the first the second, so `%c2d result` gives the same folder on both.

use kelp_c2d::ResultFile;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Where a result of `kind` goes in kelp's numbering (lower first).
fn rank(kind: &str) -> u8 {
    match kind {
        "algorithmLog" => 0,
        "output" => 1,
        _ => 2,
    }
}

/// The node's `results` list in kelp's order, each with its index in kelp's numbering and the
/// node's own index (the one `computeResult` takes).
pub fn in_kelp_order(results: &[Value]) -> Vec<(ResultFile, usize)> {
    let mut listed: Vec<(ResultFile, usize)> = results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let node_index = crate::provider::wire::number(&r["index"]).and_then(|n| usize::try_from(n).ok());
            let file = ResultFile {
                filename: r["filename"].as_str().unwrap_or("result").to_string(),
                filesize: crate::provider::wire::number(&r["filesize"]).unwrap_or(0),
                kind: r["type"].as_str().unwrap_or("output").to_string(),
                index: i,
            };
            (file, node_index.unwrap_or(i))
        })
        .collect();
    // Stable: results of the same rank keep the node's order. 0 and 1 stay free when the node
    // lists no log or no outputs (a job whose data provisioning failed has no outputs.tar).
    listed.sort_by_key(|(f, _)| rank(&f.kind));
    let (mut log, mut tar, mut next) = (false, false, 2);
    for (f, _) in listed.iter_mut() {
        f.index = match rank(&f.kind) {
            0 if !log => {
                log = true;
                0
            }
            1 if !tar => {
                tar = true;
                1
            }
            _ => {
                next += 1;
                next - 1
            }
        };
    }
    listed
}

/// The node's index of result `kelp_index` (kelp's numbering) in the node's `results` list.
pub fn node_index(results: &[Value], kelp_index: usize) -> Option<(ResultFile, usize)> {
    in_kelp_order(results).into_iter().find(|(f, _)| f.index == kelp_index)
}

/// Strips Docker's multiplexed-stream headers from a log as it arrives in pieces.
#[derive(Debug, Default)]
pub struct Frames {
    /// `None` until the first 8 bytes decide; then whether the stream is framed.
    framed: Option<bool>,
    pending: Vec<u8>,
    /// Payload bytes still due from the current frame.
    left: usize,
}

/// Whether `h` (8 bytes) is a Docker stream header.
fn is_header(h: &[u8]) -> bool {
    h.len() >= 8 && h[0] <= 2 && h[1..4] == [0, 0, 0]
}

impl Frames {
    /// The plain bytes among `bytes` (those that can be told apart yet).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(bytes);
        if self.framed.is_none() {
            if self.pending.len() < 8 {
                // A short log that cannot be a frame is plain text at once.
                if self.pending.first().is_some_and(|b| *b > 2) {
                    self.framed = Some(false);
                } else {
                    return vec![];
                }
            } else {
                self.framed = Some(is_header(&self.pending));
            }
        }
        if self.framed == Some(false) {
            return std::mem::take(&mut self.pending);
        }
        let mut out = Vec::with_capacity(self.pending.len());
        let mut at = 0;
        loop {
            if self.left > 0 {
                let n = self.left.min(self.pending.len() - at);
                out.extend_from_slice(&self.pending[at..at + n]);
                at += n;
                self.left -= n;
                if self.left > 0 {
                    break;
                }
            }
            let rest = &self.pending[at..];
            if rest.len() < 8 {
                break;
            }
            if !is_header(rest) {
                // Not a frame after all: the rest is passed on as it is.
                self.framed = Some(false);
                out.extend_from_slice(rest);
                at = self.pending.len();
                break;
            }
            self.left = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
            at += 8;
        }
        self.pending.drain(..at);
        out
    }

    /// What is left at the end of the stream (a cut-off header is kept as text).
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pending)
    }
}

/// `bytes` without Docker stream headers (unchanged when they are not framed).
pub fn plain(bytes: &[u8]) -> Vec<u8> {
    let mut f = Frames::default();
    let mut out = f.push(bytes);
    out.extend(f.finish());
    out
}

/// Runs `tar` with `args`; its stdout, or its first stderr line as the error.
fn tar(args: &[&std::ffi::OsStr]) -> Result<Vec<u8>, String> {
    let out = Command::new("tar").args(args).output().map_err(|e| format!("could not run tar: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("tar: {}", err.lines().next().unwrap_or("failed")));
    }
    Ok(out.stdout)
}

/// Re-roots an `outputs.tar` whose every entry is under `outputs/` (Ocean Node's) to the
/// folder's contents (`./…`, as kelp's sandbox writes it), in place. `Ok(None)`: left as it is
/// (another layout, or empty).
pub fn reroot_outputs(path: &Path) -> Result<Option<u64>, String> {
    let listing = tar(&["-tf".as_ref(), path.as_os_str()])?;
    let names: Vec<&str> = std::str::from_utf8(&listing).map_err(|_| "tar: names are not UTF-8")?.lines().collect();
    let under = |n: &str| n == "outputs" || n.starts_with("outputs/");
    if names.is_empty() || !names.iter().all(|n| under(n)) {
        return Ok(None);
    }
    let parent = path.parent().unwrap_or(Path::new("."));
    let tmp = parent.join(format!(".outputs-reroot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let new = parent.join(format!(".outputs-reroot-{}.tar", std::process::id()));
    let done = (|| {
        let t = tmp.as_os_str();
        tar(&[
            "-xf".as_ref(),
            path.as_os_str(),
            "--no-same-owner".as_ref(),
            "--no-same-permissions".as_ref(),
            "-C".as_ref(),
            t,
        ])?;
        let inner = tmp.join("outputs");
        let args: [&std::ffi::OsStr; 8] = [
            "-cf".as_ref(),
            new.as_os_str(),
            "--format=gnu".as_ref(),
            "--numeric-owner".as_ref(),
            "--owner=0".as_ref(),
            "--group=0".as_ref(),
            "-C".as_ref(),
            inner.as_os_str(),
        ];
        let mut all = args.to_vec();
        all.push(".".as_ref());
        tar(&all)?;
        std::fs::rename(&new, path).map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::metadata(path).map(|m| m.len()).map_err(|e| format!("{}: {e}", path.display()))
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_file(&new);
    done.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(stream: u8, payload: &str) -> Vec<u8> {
        let mut v = vec![stream, 0, 0, 0];
        v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        v.extend_from_slice(payload.as_bytes());
        v
    }

    /// The results list of a finished job on a real Ocean Node v3.1.0 (as it answered here).
    fn real_node_results() -> Vec<Value> {
        json!([
            {"filename": "image.log", "filesize": 447, "type": "imageLog", "index": 0},
            {"filename": "configuration.log", "filesize": 574, "type": "configurationLog", "index": 1},
            {"filename": "algorithm.log", "filesize": 465, "type": "algorithmLog", "index": 2},
            {"filename": "outputs.tar", "filesize": 2560, "type": "output", "index": 3}
        ])
        .as_array()
        .cloned()
        .unwrap()
    }

    #[test]
    fn a_real_nodes_results_read_in_kelps_order() {
        let r = in_kelp_order(&real_node_results());
        let names: Vec<_> = r.iter().map(|(f, n)| (f.index, f.filename.as_str(), *n)).collect();
        assert_eq!(
            names,
            [(0, "algorithm.log", 2), (1, "outputs.tar", 3), (2, "image.log", 0), (3, "configuration.log", 1)]
        );
        assert_eq!(node_index(&real_node_results(), 1).map(|(f, n)| (f.kind, n)), Some(("output".into(), 3)));
        assert_eq!(node_index(&real_node_results(), 4), None);
        // A job whose data provisioning failed (status 31 on a real node) has no outputs.tar:
        // nothing may be read as one.
        let failed: Vec<Value> = real_node_results().into_iter().filter(|r| r["type"] != "output").collect();
        let failed: Vec<_> = in_kelp_order(&failed).into_iter().map(|(f, n)| (f.index, f.filename, n)).collect();
        assert_eq!(
            failed,
            [(0, "algorithm.log".into(), 2), (2, "image.log".into(), 0), (3, "configuration.log".into(), 1)]
        );
        assert_eq!(node_index(&real_node_results()[..2], 1), None);
        // kelp's own node lists them in kelp's order already: nothing moves.
        let own = json!([{"filename": "algorithm.log", "filesize": 9, "type": "algorithmLog", "index": 0},
                         {"filename": "outputs.tar", "filesize": 10240, "type": "output", "index": 1}]);
        let own: Vec<_> = in_kelp_order(own.as_array().unwrap()).into_iter().map(|(f, n)| (f.index, n)).collect();
        assert_eq!(own, [(0, 0), (1, 1)]);
    }

    #[test]
    fn docker_frames_become_plain_text_in_any_pieces() {
        let mut all = frame(1, "tick 0\n");
        all.extend(frame(2, "warning\n"));
        all.extend(frame(1, "tick 1\n"));
        assert_eq!(plain(&all), b"tick 0\nwarning\ntick 1\n");
        for cut in 1..all.len() {
            let mut f = Frames::default();
            let mut out = f.push(&all[..cut]);
            out.extend(f.push(&all[cut..]));
            out.extend(f.finish());
            assert_eq!(out, b"tick 0\nwarning\ntick 1\n", "cut at {cut}");
        }
        // Byte by byte.
        let mut f = Frames::default();
        let out: Vec<u8> = all.iter().flat_map(|b| f.push(&[*b])).collect();
        assert_eq!(out, b"tick 0\nwarning\ntick 1\n");
    }

    fn listing(p: &Path) -> Vec<String> {
        let mut v: Vec<String> = String::from_utf8(tar(&["-tf".as_ref(), p.as_os_str()]).unwrap())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_real_nodes_outputs_tar_is_rerooted_like_the_sandboxes() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("src/outputs/sub")).unwrap();
        std::fs::write(d.path().join("src/outputs/result.txt"), "42\n").unwrap();
        std::fs::write(d.path().join("src/outputs/sub/more.txt"), "x").unwrap();
        // As the real node sent it: `outputs/`, `outputs/result.txt`.
        let t = d.path().join("outputs.tar");
        tar(&["-cf".as_ref(), t.as_os_str(), "-C".as_ref(), d.path().join("src").as_os_str(), "outputs".as_ref()])
            .unwrap();
        let size = reroot_outputs(&t).unwrap().unwrap();
        assert_eq!(size, std::fs::metadata(&t).unwrap().len());
        assert_eq!(listing(&t), ["./", "./result.txt", "./sub/", "./sub/more.txt"]);
        let out = d.path().join("out");
        std::fs::create_dir(&out).unwrap();
        tar(&["-xf".as_ref(), t.as_os_str(), "-C".as_ref(), out.as_os_str()]).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("result.txt")).unwrap(), "42\n");
        // kelp's own layout, and anything else, is left alone.
        let before = std::fs::read(&t).unwrap();
        assert_eq!(reroot_outputs(&t).unwrap(), None);
        assert_eq!(std::fs::read(&t).unwrap(), before);
        let mixed = d.path().join("mixed.tar");
        std::fs::write(d.path().join("src/other.txt"), "y").unwrap();
        tar(&[
            "-cf".as_ref(),
            mixed.as_os_str(),
            "-C".as_ref(),
            d.path().join("src").as_os_str(),
            "outputs".as_ref(),
            "other.txt".as_ref(),
        ])
        .unwrap();
        assert_eq!(reroot_outputs(&mixed).unwrap(), None);
        // Not a tar: one line, and the file stays.
        let bad = d.path().join("bad.tar");
        std::fs::write(&bad, "image.log text").unwrap();
        let e = reroot_outputs(&bad).unwrap_err();
        assert!(e.starts_with("tar: ") && !e.contains('\n'), "{e}");
        assert!(bad.exists());
        assert!(
            !d.path().read_dir().unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".outputs-reroot"))
        );
    }

    #[test]
    fn plain_logs_pass_unchanged() {
        assert_eq!(plain(b"algo ran\n"), b"algo ran\n");
        assert_eq!(plain(b"ok"), b"ok");
        assert_eq!(plain(b""), b"");
        let mut f = Frames::default();
        assert_eq!(f.push(b"a"), b"a");
        assert_eq!(f.push(&[1, 0, 0, 0]), [1, 0, 0, 0]);
    }
}
