//! A Kubo RPC client (`/api/v0/*`, POST only): add (multipart, directories as
//! `application/x-directory` parts with `%2F`-encoded paths), cat, pin add/ls/rm, dag
//! export/import, version. Works with Kubo and with js-ipfs (which prints CIDv1 in base58 unless
//! asked for `cid-base=base32`, so we always ask).

use crate::IpfsError;
use crate::options::AddOptions;
use futures::StreamExt;
use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use std::path::Path;

/// Kubo's default RPC address.
pub const DEFAULT_URL: &str = "http://127.0.0.1:5001";

/// One NDJSON line of `/api/v0/add`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
pub struct AddLine {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Hash")]
    pub hash: String,
    #[serde(rename = "Size", default)]
    pub size: serde_json::Value,
}

/// A Kubo RPC endpoint (or a Kubo-style service such as Lighthouse, with a Bearer token).
#[derive(Clone)]
pub struct Kubo {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
    label: String,
}

impl std::fmt::Debug for Kubo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kubo").field("base", &self.base).field("label", &self.label).finish_non_exhaustive()
    }
}

impl Kubo {
    /// `url` like `http://127.0.0.1:5001` (a trailing `/api/v0` is accepted).
    pub fn new(url: &str) -> Result<Kubo, IpfsError> {
        let base = url.trim_end_matches('/').trim_end_matches("/api/v0").to_string();
        let parsed = reqwest::Url::parse(&base).map_err(|e| {
            IpfsError::BadOption(format!("Kubo URL {url:?} is not valid ({e}); use e.g. {DEFAULT_URL}"))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(IpfsError::BadOption(format!("Kubo URL {url:?} must start with http:// or https://")));
        }
        Ok(Kubo { base, http: reqwest::Client::new(), token: None, label: "Kubo RPC".into() })
    }

    /// A Kubo-style service that wants `Authorization: Bearer <token>` (the token is never shown).
    pub fn with_bearer(mut self, label: &str, token: &str) -> Self {
        self.token = Some(token.to_string());
        self.label = label.to_string();
        self
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    async fn post(
        &self,
        cmd: &str,
        query: &[(&str, String)],
        form: Option<Form>,
    ) -> Result<reqwest::Response, IpfsError> {
        let url = reqwest::Url::parse_with_params(&format!("{}/api/v0/{cmd}", self.base), query)
            .map_err(|e| IpfsError::BadOption(format!("Kubo URL {} is not valid: {e}", self.base)))?;
        let mut req = self.http.post(url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(f) = form {
            req = req.multipart(f);
        }
        let resp = req.send().await.map_err(|e| {
            let why = if e.is_connect() { "connection refused or host unreachable".to_string() } else { e.to_string() };
            IpfsError::Remote(format!(
                "{} at {} is not reachable ({why}): start the daemon or fix the URL",
                self.label, self.base
            ))
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        let msg = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("Message").and_then(|m| m.as_str()).map(str::to_string))
            .unwrap_or_else(|| body.chars().take(200).collect());
        let hint = if matches!(status.as_u16(), 401 | 403) && self.token.is_some() {
            "; the token was refused: check it"
        } else {
            ""
        };
        Err(IpfsError::Remote(format!(
            "{} {cmd} at {} failed with HTTP {status}: {}{hint}",
            self.label,
            self.base,
            msg.trim()
        )))
    }

    /// The daemon's version string.
    pub async fn version(&self) -> Result<String, IpfsError> {
        let v: serde_json::Value = self.post("version", &[], None).await?.json().await.map_err(bad_reply)?;
        Ok(v.get("Version").and_then(|x| x.as_str()).unwrap_or("?").to_string())
    }

    /// Add a file or directory with the daemon; returns its NDJSON lines (root last).
    pub async fn add_path(&self, path: &Path, opts: &AddOptions) -> Result<Vec<AddLine>, IpfsError> {
        let meta = std::fs::symlink_metadata(path).map_err(IpfsError::path(path))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
        let mut form = Form::new();
        if meta.is_dir() {
            if !opts.recursive {
                return Err(IpfsError::IsDirectory(path.to_path_buf()));
            }
            form = dir_parts(form, path, &name, opts.hidden).await?;
        } else {
            form = form.part("file", file_part(path, &name).await?);
        }
        let mut q = vec![
            ("cid-version", opts.effective_cid_version().to_string()),
            ("raw-leaves", opts.leaves_are_raw().to_string()),
            ("chunker", format!("size-{}", opts.chunk_size)),
            ("pin", opts.pin.to_string()),
            ("wrap-with-directory", opts.wrap_with_directory.to_string()),
            ("cid-base", if opts.effective_cid_version() == 0 { "base58btc" } else { "base32" }.to_string()),
            ("progress", "false".to_string()),
        ];
        if opts.max_links != 174 {
            q.push(("max-file-links", opts.max_links.to_string()));
        }
        if opts.only_hash {
            q.push(("only-hash", "true".into()));
        }
        let body = self.post("add", &q, Some(form)).await?.text().await.map_err(bad_reply)?;
        let mut lines = Vec::new();
        for l in body.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(l).map_err(|e| bad_reply(format!("{e}: {l}")))?;
            if let Some(m) = v.get("Message").and_then(|m| m.as_str()) {
                return Err(IpfsError::Remote(format!("Kubo RPC add failed: {m}")));
            }
            if v.get("Hash").is_some() {
                let mut line: AddLine = serde_json::from_value(v).map_err(bad_reply)?;
                line.hash = norm(&line.hash);
                lines.push(line);
            }
        }
        if lines.is_empty() {
            return Err(bad_reply("add returned no CID"));
        }
        Ok(lines)
    }

    /// `cat` a CID (optionally a byte range).
    pub async fn cat(&self, cid: &str, offset: u64, length: Option<u64>) -> Result<Vec<u8>, IpfsError> {
        let mut q = vec![("arg", cid.to_string())];
        if offset > 0 {
            q.push(("offset", offset.to_string()));
        }
        if let Some(l) = length {
            q.push(("length", l.to_string()));
        }
        let b = self.post("cat", &q, None).await?.bytes().await.map_err(bad_reply)?;
        Ok(b.to_vec())
    }

    /// `cat` streamed: the first `keep` bytes of the range and the range's total length, so a
    /// node that sends gigabytes costs `keep` bytes of memory.
    pub async fn cat_head(
        &self,
        cid: &str,
        offset: u64,
        length: Option<u64>,
        keep: usize,
    ) -> Result<(Vec<u8>, u64), IpfsError> {
        let mut q = vec![("arg", cid.to_string())];
        if offset > 0 {
            q.push(("offset", offset.to_string()));
        }
        if let Some(l) = length {
            q.push(("length", l.to_string()));
        }
        let mut stream = self.post("cat", &q, None).await?.bytes_stream();
        let (mut head, mut total) = (Vec::new(), 0u64);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(bad_reply)?;
            let room = keep.saturating_sub(head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..room]);
            total = total.saturating_add(chunk.len() as u64);
        }
        Ok((head, total))
    }

    /// Pin recursively.
    pub async fn pin_add(&self, cid: &str) -> Result<(), IpfsError> {
        self.post("pin/add", &[("arg", cid.to_string()), ("recursive", "true".into())], None).await?;
        Ok(())
    }

    /// Remove a pin.
    pub async fn pin_rm(&self, cid: &str) -> Result<(), IpfsError> {
        self.post("pin/rm", &[("arg", cid.to_string())], None).await?;
        Ok(())
    }

    /// Pinned CIDs with their type (`recursive`, `direct`, …).
    pub async fn pin_ls(&self, cid: Option<&str>) -> Result<Vec<(String, String)>, IpfsError> {
        let mut q = vec![("type", "recursive".to_string())];
        if let Some(c) = cid {
            q.push(("arg", c.to_string()));
        }
        let v: serde_json::Value = self.post("pin/ls", &q, None).await?.json().await.map_err(bad_reply)?;
        let keys = v.get("Keys").and_then(|k| k.as_object()).cloned().unwrap_or_default();
        Ok(keys
            .into_iter()
            .map(|(k, t)| (norm(&k), t.get("Type").and_then(|x| x.as_str()).unwrap_or("").to_string()))
            .collect())
    }

    /// `dag/export` of a root as CAR bytes, streamed into `w`; returns the bytes written.
    pub async fn dag_export(&self, cid: &str, w: &mut (dyn std::io::Write + Send)) -> Result<u64, IpfsError> {
        let resp = self.post("dag/export", &[("arg", cid.to_string())], None).await?;
        let mut stream = resp.bytes_stream();
        let mut n = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(bad_reply)?;
            w.write_all(&chunk).map_err(IpfsError::io("writing the CAR"))?;
            n += chunk.len() as u64;
        }
        Ok(n)
    }

    /// `dag/import` of a CAR file (roots pinned); returns the root CIDs the daemon reports.
    pub async fn dag_import(&self, car: &Path) -> Result<Vec<String>, IpfsError> {
        let form = Form::new().part("file", file_part(car, "import.car").await?);
        let body = self
            .post("dag/import", &[("pin-roots", "true".into())], Some(form))
            .await?
            .text()
            .await
            .map_err(bad_reply)?;
        let mut roots = Vec::new();
        for l in body.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(l).map_err(|e| bad_reply(format!("{e}: {l}")))?;
            if let Some(c) = v.pointer("/Root/Cid/~1").and_then(|c| c.as_str()) {
                roots.push(norm(c));
            }
        }
        Ok(roots)
    }
}

/// CIDs as Kubo prints them (js-ipfs prints CIDv1 in base58btc by default).
fn norm(s: &str) -> String {
    cid::Cid::try_from(s).map(|c| c.to_string()).unwrap_or_else(|_| s.to_string())
}

fn bad_reply(e: impl std::fmt::Display) -> IpfsError {
    IpfsError::Remote(format!("unexpected reply from the Kubo RPC: {e}"))
}

async fn file_part(path: &Path, name: &str) -> Result<Part, IpfsError> {
    let f = tokio::fs::File::open(path).await.map_err(IpfsError::path(path))?;
    let len = f.metadata().await.map_err(IpfsError::path(path))?.len();
    let stream = futures::stream::unfold(f, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 256 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<Vec<u8>, std::io::Error>(buf), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    Ok(Part::stream_with_length(reqwest::Body::wrap_stream(stream), len)
        .file_name(name.to_string())
        .mime_str("application/octet-stream")
        .expect("static mime"))
}

/// Parts for a directory tree: each directory before its contents, names sorted.
async fn dir_parts(mut form: Form, dir: &Path, rel: &str, hidden: bool) -> Result<Form, IpfsError> {
    let mut stack = vec![(dir.to_path_buf(), rel.to_string())];
    while let Some((d, r)) = stack.pop() {
        form = form.part(
            "file",
            Part::bytes(Vec::new()).file_name(r.clone()).mime_str("application/x-directory").expect("static mime"),
        );
        let mut names: Vec<String> = std::fs::read_dir(&d)
            .map_err(IpfsError::path(&d))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| hidden || !n.starts_with('.'))
            .collect();
        names.sort();
        let mut subdirs = Vec::new();
        for n in names {
            let p = d.join(&n);
            let meta = std::fs::symlink_metadata(&p).map_err(IpfsError::path(&p))?;
            if meta.is_dir() {
                subdirs.push((p, format!("{r}/{n}")));
            } else if meta.is_file() {
                form = form.part("file", file_part(&p, &format!("{r}/{n}")).await?);
            } else {
                return Err(IpfsError::Unsupported(format!(
                    "{}: only regular files and directories can be sent to a Kubo node",
                    p.display()
                )));
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(form)
}
