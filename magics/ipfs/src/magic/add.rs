//! `%ipfs add`: import into the embedded store (default) or a Kubo node (`--to kubo[=URL]`).

use super::results::{Add, AddKubo, AddPin};
use super::{IpfsConfig, Target, blocking, fail, open_store};
use crate::kubo::Kubo;
use crate::pinsvc::PinRequest;
use crate::{AddOptions, IpfsError};
use clap::Args;
use kelp_magic::{MagicContext, MagicError, MagicResult, Output, Progress, Result, RustValue};

#[derive(Args, Debug)]
pub(crate) struct AddArgs {
    /// File or directory to add.
    pub path: String,
    /// Add a directory and everything below it.
    #[arg(short, long)]
    pub recursive: bool,
    /// CID version (0 or 1); 1 implies raw leaves unless --raw-leaves=false.
    #[arg(long, value_name = "0|1")]
    pub cid_version: Option<u8>,
    /// Store leaves as raw blocks (--raw-leaves=false to keep dag-pb leaves with CIDv1).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub raw_leaves: Option<bool>,
    /// Chunker: size-N (default size-262144).
    #[arg(long, short = 's', value_name = "size-N")]
    pub chunker: Option<String>,
    /// IPIP-0499 profile: unixfs-v0-2015 (Kubo default) or unixfs-v1-2025.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Wrap the entry in a directory named after it.
    #[arg(short = 'w', long)]
    pub wrap_with_directory: bool,
    /// Include files and directories whose name starts with a dot.
    #[arg(short = 'H', long)]
    pub hidden: bool,
    /// Pin the result (default true; --pin=false to skip).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub pin: Option<bool>,
    /// A name for the pin.
    #[arg(long, value_name = "NAME")]
    pub pin_name: Option<String>,
    /// Only compute the CID; store nothing.
    #[arg(short = 'n', long)]
    pub only_hash: bool,
    /// Encrypt the file client-side (ChaCha20-Poly1305); the key is kept in the local store.
    #[arg(long)]
    pub encrypt: bool,
    /// With --encrypt: also show the key's share string (once) so others can decrypt.
    #[arg(long, requires = "encrypt")]
    pub show_key: bool,
    /// Where to add: local (default, the embedded store), kubo[=URL], or pin:NAME (local add, then a pin request to that Pinning Service API endpoint).
    #[arg(long, value_name = "local|kubo[=URL]")]
    pub to: Option<String>,
}

/// Plain options from the arguments (no I/O).
pub(crate) fn options(a: &AddArgs) -> std::result::Result<AddOptions, IpfsError> {
    let mut o = match &a.profile {
        Some(p) => AddOptions::profile(p)?,
        None => AddOptions::default(),
    };
    if let Some(v) = a.cid_version {
        o.cid_version = v;
        if a.profile.is_none() {
            o.raw_leaves = None;
        }
    }
    if a.raw_leaves.is_some() {
        o.raw_leaves = a.raw_leaves;
    }
    if let Some(c) = &a.chunker {
        o.set_chunker(c)?;
    }
    o.recursive = a.recursive;
    o.hidden = a.hidden;
    o.wrap_with_directory = a.wrap_with_directory;
    o.pin = a.pin.unwrap_or(true);
    o.pin_name = a.pin_name.clone();
    o.only_hash = a.only_hash;
    o.validate()?;
    Ok(o)
}

fn dir_size(p: &std::path::Path, hidden: bool) -> u64 {
    let Ok(m) = std::fs::symlink_metadata(p) else { return 0 };
    if m.is_file() {
        return m.len();
    }
    if !m.is_dir() {
        return 0;
    }
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .filter(|e| hidden || !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| dir_size(&e.path(), hidden))
                .sum()
        })
        .unwrap_or(0)
}

pub(crate) async fn run(a: AddArgs, ctx: &MagicContext, cfg: &IpfsConfig) -> Result<Output> {
    let opts = options(&a).map_err(fail)?;
    let target = Target::parse(a.to.as_deref(), cfg).map_err(fail)?;
    let path = ctx.resolve(&a.path);
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(MagicError::failed(format!("%ipfs add: {} does not exist (check the path)", path.display())));
    }
    if path.is_dir() && !opts.recursive {
        return Err(fail(IpfsError::IsDirectory(path)));
    }
    if a.encrypt {
        if !path.is_file() {
            return Err(fail(IpfsError::BadOption(format!(
                "--encrypt works on one file and {} is not a regular file: archive the directory first (e.g. tar)",
                path.display()
            ))));
        }
        if matches!(target, Target::Kubo(_) | Target::Lighthouse) {
            return Err(fail(IpfsError::BadOption(
                "--encrypt works with --to local or --to pin:NAME; for a Kubo node add locally, then car export / import".into(),
            )));
        }
    }
    let enc = a.encrypt.then_some(a.show_key);
    match target {
        Target::Local => {
            let added = add_local(path, opts, enc, ctx, cfg).await?;
            Ok(added.output().with_value(RustValue::string(&added.cid)))
        }
        Target::Kubo(url) => {
            let kubo = Kubo::new(&url).map_err(fail)?;
            add_kubo(path, opts, kubo, "kubo", ctx, cfg).await
        }
        Target::Lighthouse => {
            let lh = super::lighthouse(ctx)?;
            add_kubo(path, opts, lh, "lighthouse", ctx, cfg).await
        }
        Target::Pin(name) => {
            let svc = super::pin_service(&name, cfg, ctx)?;
            let pin_name = opts.pin_name.clone();
            let mut local = add_local(path, opts, enc, ctx, cfg).await?;
            let req = PinRequest {
                cid: local.cid.clone(),
                name: pin_name.or_else(|| Some(local.name.clone()).filter(|n| !n.is_empty())),
                origins: Vec::new(),
                meta: Default::default(),
            };
            let st = tokio::select! {
                r = svc.add(&req) => r.map_err(fail)?,
                _ = ctx.cancel.cancelled() => return Err(MagicError::Cancelled("requesting the pin".into())),
            };
            local.backend = "pin".into();
            let cid = local.cid.clone();
            let r = AddPin { local, service: name, requestid: st.requestid, status: st.status };
            Ok(r.output().with_value(RustValue::string(&cid)))
        }
    }
}

/// `encrypt`: `None` = plain; `Some(show_key)` = encrypt (and show the share string).
async fn add_local(
    path: std::path::PathBuf,
    opts: AddOptions,
    encrypt: Option<bool>,
    ctx: &MagicContext,
    cfg: &IpfsConfig,
) -> Result<Add> {
    let store = open_store(ctx)?;
    let store_dir = store.dir().to_path_buf();
    let key = encrypt.map(|_| crate::crypt::ContentKey::random());
    let k = key.clone();
    let total = dir_size(&path, opts.hidden);
    let mut progress = Progress::bytes(ctx, format!("adding {}", path.display()), Some(total));
    let cancel = ctx.cancel.clone();
    let o = opts.clone();
    let (added, mut progress) = blocking(move || {
        let mut observe = |n: u64| {
            progress.inc(n);
            if cancel.is_cancelled() { Err(IpfsError::Cancelled("adding".into())) } else { Ok(()) }
        };
        let r = match &k {
            None => store.add_path_with(&path, &o, &mut observe),
            Some(key) => {
                let f = std::fs::File::open(&path).map_err(IpfsError::path(&path))?;
                let mut rd = crate::crypt::EncryptReader::new(std::io::BufReader::new(f), key);
                let mut a = store.add_reader_with(&mut rd, &o, &mut observe)?;
                a.name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if let Some(e) = a.entries.last_mut() {
                    e.path = a.name.clone();
                }
                if !o.only_hash {
                    crate::crypt::save_key(&store_dir, &a.cid.to_string(), key)?;
                }
                Ok(a)
            }
        };
        r.map(|a| (a, progress))
    })
    .await?;
    progress.finish(&format!("added {}", added.cid));
    if !opts.only_hash {
        super::remote::provide(ctx, cfg, &[added.cid]).await;
    }
    let cid = added.cid.to_string();
    Ok(Add {
        gateway_url: format!("{}/ipfs/{cid}", cfg.gateway),
        cid,
        name: added.name,
        encrypted: key.is_some(),
        size: added.size,
        tsize: added.tsize,
        blocks: added.blocks,
        pinned: added.pinned,
        backend: "local".into(),
        only_hash: opts.only_hash,
        cid_version: opts.effective_cid_version(),
        raw_leaves: opts.leaves_are_raw(),
        chunker: format!("size-{}", opts.chunk_size),
        max_links: opts.max_links,
        entries: added.entries,
        key: key.filter(|_| encrypt == Some(true)).map(|k| k.share_string()),
        gateway: cfg.gateway.clone(),
    })
}

async fn add_kubo(
    path: std::path::PathBuf,
    opts: AddOptions,
    kubo: Kubo,
    backend: &str,
    ctx: &MagicContext,
    cfg: &IpfsConfig,
) -> Result<Output> {
    let url = kubo.url().to_string();
    let lines = tokio::select! {
        r = kubo.add_path(&path, &opts) => r.map_err(fail)?,
        _ = ctx.cancel.cancelled() => return Err(MagicError::Cancelled("adding to Kubo".into())),
    };
    let root = lines.last().expect("add_path returns at least one line").clone();
    let (p, o) = (path.clone(), opts.clone());
    let local = blocking(move || crate::cid_of_path(&p, &o)).await?.to_string();
    if local != root.hash {
        ctx.eprint(&format!(
            "warning: the node at {url} computed {} but Kubo's rules give {local} (the node uses other import settings)\n",
            root.hash
        ));
    }
    let r = AddKubo {
        cid: root.hash.clone(),
        name: root.name,
        size: root.size,
        backend: backend.to_string(),
        url,
        matches_local: local == root.hash,
        local_cid: local,
        pinned: opts.pin,
        gateway_url: format!("{}/ipfs/{}", cfg.gateway, root.hash),
        entries: lines,
        gateway: cfg.gateway.clone(),
    };
    Ok(r.output().with_value(RustValue::string(&root.hash)))
}
