//! `%ipfs cat`, `get`, `ls`, `stat` and `gc`: reading from the store (or a Kubo node for cat/get).

use super::results::{Cat, Gc, Get, Ls, StatResult};
use super::{IpfsConfig, Target, blocking, fail, open_store, remote};
use crate::fetch::Scope;
use crate::kubo::Kubo;
use crate::{IpfsError, exporter, parse_cid};
use clap::Args;
use kelp_magic::{MagicContext, MagicError, MagicResult, Output, Progress, Result, RustValue};

/// Bytes of text shown in a cell at most (the JSON carries the same cut).
const SHOW_MAX: usize = 1 << 20;

#[derive(Args, Debug)]
pub(crate) struct CatArgs {
    /// CID of a file (Qm…, bafy…, /ipfs/CID).
    pub cid: String,
    /// Start at this byte.
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Read at most this many bytes.
    #[arg(long)]
    pub length: Option<u64>,
    /// Read from: local (default) or kubo[=URL].
    #[arg(long, value_name = "local|kubo[=URL]")]
    pub to: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct GetArgs {
    /// CID of a file or directory.
    pub cid: String,
    /// Output path (must not exist yet).
    #[arg(short, long, value_name = "PATH")]
    pub output: String,
    /// Read from: local (default) or kubo[=URL] (the node's CAR is verified and imported first).
    #[arg(long, value_name = "local|kubo[=URL]")]
    pub to: Option<String>,
    /// Decrypt a file added with --encrypt (key from the local store, or --key-env).
    #[arg(long)]
    pub decrypt: bool,
    /// Name of an environment variable (see %env) holding the key's share string.
    #[arg(long, value_name = "VAR", requires = "decrypt")]
    pub key_env: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct CidArg {
    /// A CID.
    pub cid: String,
}

pub(crate) async fn cat(a: CatArgs, ctx: &MagicContext, cfg: &IpfsConfig) -> Result<Output> {
    let cid = parse_cid(&a.cid).map_err(fail)?;
    // (bytes to show, length of the requested range)
    let (bytes, length) = match Target::parse(a.to.as_deref(), cfg).map_err(fail)? {
        Target::Lighthouse => return Err(fail(super::lighthouse_add_only())),
        Target::Local => {
            let store = open_store(ctx)?;
            // Only the blocks of the shown range are fetched (entity-bytes).
            let shown = a.length.unwrap_or(u64::MAX).min(SHOW_MAX as u64);
            let scope = match shown {
                0 => Scope::Block,
                n => Scope::Bytes { from: a.offset, to: a.offset.checked_add(n - 1) },
            };
            remote::ensure(ctx, cfg, &store, &cid, scope, cfg.offline).await?;
            let cancel = ctx.cancel.clone();
            let (off, len) = (a.offset, a.length);
            blocking(move || {
                // Only what is shown is read: the range's length comes from the file's recorded
                // size, so a DAG claiming gigabytes costs a megabyte of memory.
                let recorded = exporter::stat(&store, &cid)?.size.saturating_sub(off);
                let mut out = Vec::new();
                let mut observe =
                    |_| if cancel.is_cancelled() { Err(IpfsError::Cancelled("reading".into())) } else { Ok(()) };
                let want = len.unwrap_or(u64::MAX).min(SHOW_MAX as u64);
                store.cat_to(&cid, off, Some(want), &mut out, &mut observe)?;
                let length = len.unwrap_or(u64::MAX).min(recorded).max(out.len() as u64);
                Ok((out, length))
            })
            .await?
        }
        Target::Kubo(url) => {
            let kubo = Kubo::new(&url).map_err(fail)?;
            let cid_s = cid.to_string();
            tokio::select! {
                r = kubo.cat_head(&cid_s, a.offset, a.length, SHOW_MAX) => r.map_err(fail)?,
                _ = ctx.cancel.cancelled() => return Err(MagicError::Cancelled("reading from Kubo".into())),
            }
        }
        Target::Pin(n) => return Err(fail(super::not_a_source(&n))),
    };
    let shown = &bytes[..bytes.len().min(SHOW_MAX)];
    let text = std::str::from_utf8(shown).ok().map(str::to_string);
    let r = Cat {
        cid: cid.to_string(),
        offset: a.offset,
        length,
        utf8: text.is_some(),
        truncated: length > shown.len() as u64,
        text,
    };
    let value = r.text.as_deref().map(RustValue::string);
    let out = r.output();
    Ok(match value {
        Some(v) => out.with_value(v),
        None => out,
    })
}

pub(crate) async fn get(a: GetArgs, ctx: &MagicContext, cfg: &IpfsConfig) -> Result<Output> {
    let cid = parse_cid(&a.cid).map_err(fail)?;
    let out = ctx.resolve(&a.output);
    let store = open_store(ctx)?;
    let target = Target::parse(a.to.as_deref(), cfg).map_err(fail)?;
    match &target {
        Target::Lighthouse => return Err(fail(super::lighthouse_add_only())),
        Target::Kubo(url) => super::car::fetch_from_kubo(&store, &cid, url, ctx).await?,
        Target::Pin(n) => return Err(fail(super::not_a_source(n))),
        Target::Local => remote::ensure(ctx, cfg, &store, &cid, Scope::All, cfg.offline).await?,
    }
    let (c, o, s) = (cid, out.clone(), store.clone());
    let st = blocking(move || exporter::stat(&s, &c)).await?;
    let key = if a.decrypt {
        let k = match &a.key_env {
            Some(var) => {
                let v = ctx.env.get(var).ok_or_else(|| {
                    fail(IpfsError::BadOption(format!(
                        "environment variable {var} is not set: %env {var}=kelp-key-v1:…"
                    )))
                })?;
                crate::crypt::ContentKey::from_share_string(&v).map_err(fail)?
            }
            None => crate::crypt::load_key(store.dir(), &cid.to_string()).map_err(fail)?,
        };
        if st.kind != exporter::Kind::File {
            return Err(fail(IpfsError::BadOption(format!(
                "{cid} is not a file: only files added with --encrypt can be decrypted"
            ))));
        }
        Some(k)
    } else {
        None
    };
    let mut progress = Progress::bytes(ctx, format!("getting {cid}"), Some(st.size));
    let cancel = ctx.cancel.clone();
    let mut progress = blocking(move || {
        let mut observe = |n: u64| {
            progress.inc(n);
            if cancel.is_cancelled() { Err(IpfsError::Cancelled("getting".into())) } else { Ok(()) }
        };
        match key {
            None => store.get_with(&c, &o, &mut observe)?,
            Some(k) => get_decrypted(&store, &c, &o, &k, &mut observe)?,
        }
        Ok(progress)
    })
    .await?;
    progress.finish(&format!("saved {cid}"));
    let r = Get {
        cid: cid.to_string(),
        path: out.display().to_string(),
        kind: st.kind,
        size: st.size,
        decrypted: a.decrypt,
        gateway: cfg.gateway.clone(),
    };
    Ok(r.output().with_value(RustValue::path(&out)))
}

/// Decrypt the file at `cid` into `out` (temp sibling, renamed when complete and authentic).
fn get_decrypted(
    store: &crate::Store,
    cid: &cid::Cid,
    out: &std::path::Path,
    key: &crate::crypt::ContentKey,
    observe: &mut crate::importer::Observer<'_>,
) -> std::result::Result<(), IpfsError> {
    if out.symlink_metadata().is_ok() {
        return Err(IpfsError::BadOption(format!(
            "{} already exists: choose another output path or remove it",
            out.display()
        )));
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = parent.join(format!(".{name}.kelp-partial-{:08x}", rand::random::<u32>()));
    let r = (|| {
        let f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(IpfsError::path(&tmp))?;
        let mut w = crate::crypt::DecryptWriter::new(std::io::BufWriter::new(f), key);
        store.cat_to(cid, 0, None, &mut w, observe).map_err(|e| match e {
            IpfsError::Io { source, .. } if source.kind() == std::io::ErrorKind::InvalidData => {
                IpfsError::BadOption(format!("{cid}: {source}"))
            }
            e => e,
        })?;
        let mut inner = w.finish().map_err(|e| IpfsError::BadOption(format!("{cid}: {e}")))?;
        std::io::Write::flush(&mut inner).map_err(IpfsError::path(&tmp))?;
        std::fs::rename(&tmp, out).map_err(IpfsError::path(out))
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

pub(crate) async fn ls(a: CidArg, ctx: &MagicContext, cfg: &IpfsConfig) -> Result<Output> {
    let cid = parse_cid(&a.cid).map_err(fail)?;
    let store = open_store(ctx)?;
    // Entries' root blocks only add kind and size: with the directory itself held, a failed
    // fetch of them is a warning and the listing goes on (raw entries show their link size).
    if let Err(e) = remote::ensure(ctx, cfg, &store, &cid, Scope::Entity, cfg.offline).await {
        if !store.has(&cid) || matches!(e, kelp_magic::MagicError::Cancelled(_)) {
            return Err(e);
        }
        ctx.eprint(&format!("warning: {e}; listing what the store holds\n"));
    }
    let entries = blocking(move || exporter::ls(&store, &cid)).await?;
    Ok(Ls { cid: cid.to_string(), entries, gateway: cfg.gateway.clone() }.output())
}

pub(crate) async fn stat(a: CidArg, ctx: &MagicContext, cfg: &IpfsConfig) -> Result<Output> {
    let cid = parse_cid(&a.cid).map_err(fail)?;
    let store = open_store(ctx)?;
    remote::ensure(ctx, cfg, &store, &cid, Scope::Block, cfg.offline).await?;
    let stat = blocking(move || exporter::stat(&store, &cid)).await?;
    Ok(StatResult { stat, gateway: cfg.gateway.clone() }.output())
}

pub(crate) async fn gc(ctx: &MagicContext) -> Result<Output> {
    let store = open_store(ctx)?;
    let r = blocking(move || store.gc()).await?;
    Ok(Gc(r).output())
}
