//! `%ipfs car export|import` (CAR v1), and fetching a DAG from a Kubo node as a verified CAR.

use super::results::{CarExport, CarImport};
use super::{IpfsConfig, Target, blocking, fail, open_store};
use crate::kubo::Kubo;
use crate::{IpfsError, Store, car, parse_cid};
use clap::Subcommand;
use kelp_magic::{MagicContext, MagicError, MagicResult, Output, Progress, Result};
use std::io::Write;

#[derive(Subcommand, Debug)]
pub(crate) enum CarCmd {
    /// Write the DAG of a CID to a CAR v1 file (one root).
    Export {
        cid: String,
        /// Output .car file (must not exist).
        #[arg(short, long, value_name = "F.car")]
        output: String,
        /// Read the DAG from: local (default) or kubo[=URL] (its dag/export).
        #[arg(long, value_name = "local|kubo[=URL]")]
        to: Option<String>,
        /// Also compute the Filecoin piece CID (CommP) and padded piece size of the CAR.
        #[arg(long)]
        commp: bool,
    },
    /// Import a CAR v1 file (every block verified; complete roots pinned).
    Import {
        /// The .car file.
        path: String,
        /// Pin the roots (default true).
        #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
        pin: Option<bool>,
        /// Import into: local (default) or kubo[=URL] (its dag/import).
        #[arg(long, value_name = "local|kubo[=URL]")]
        to: Option<String>,
    },
}

/// Pull the DAG of `cid` from a Kubo node into the store (via dag/export, verified on import).
pub(crate) async fn fetch_from_kubo(store: &Store, cid: &cid::Cid, url: &str, ctx: &MagicContext) -> Result<()> {
    let kubo = Kubo::new(url).map_err(fail)?;
    let tmp = store.temp_path("fetch");
    let mut f = std::fs::File::create(&tmp).map_err(|e| fail(IpfsError::io("creating a temp file")(e)))?;
    let cid_s = cid.to_string();
    let r = tokio::select! {
        r = kubo.dag_export(&cid_s, &mut f) => r.map_err(fail),
        _ = ctx.cancel.cancelled() => Err(MagicError::Cancelled("fetching from Kubo".into())),
    };
    drop(f);
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let (s, t) = (store.clone(), tmp.clone());
    let res = blocking(move || {
        let mut rd = std::io::BufReader::new(std::fs::File::open(&t).map_err(IpfsError::io("reading the CAR"))?);
        car::import(&s, &mut rd, false, &mut |_| Ok(()))
    })
    .await;
    let _ = std::fs::remove_file(&tmp);
    res.map(|_| ())
}

pub(crate) async fn run(cmd: CarCmd, ctx: &MagicContext, cfg: &IpfsConfig) -> Result<Output> {
    match cmd {
        CarCmd::Export { cid, output, to, commp } => {
            let cid = parse_cid(&cid).map_err(fail)?;
            let out = ctx.resolve(&output);
            if out.exists() {
                return Err(fail(IpfsError::BadOption(format!("{} already exists: choose another -o", out.display()))));
            }
            let store = open_store(ctx)?;
            match Target::parse(to.as_deref(), cfg).map_err(fail)? {
                Target::Lighthouse => return Err(fail(super::lighthouse_add_only())),
                Target::Kubo(url) => fetch_from_kubo(&store, &cid, &url, ctx).await?,
                Target::Pin(n) => return Err(fail(super::not_a_source(&n))),
                Target::Local => {
                    super::remote::ensure(ctx, cfg, &store, &cid, crate::fetch::Scope::All, cfg.offline).await?
                }
            }
            let o = out.clone();
            let cancel = ctx.cancel.clone();
            let mut progress = Progress::bytes(ctx, format!("exporting {cid}"), None);
            let ((blocks, bytes), piece, mut progress) = blocking(move || {
                let tmp = store.temp_path("car");
                let r = (|| {
                    let f = std::fs::File::create(&tmp).map_err(IpfsError::path(&tmp))?;
                    let mut w = ProgressWriter {
                        inner: std::io::BufWriter::new(f),
                        progress: &mut progress,
                        cancel,
                        commp: commp.then(crate::commp::CommpWriter::new),
                    };
                    let r = car::export(&store, &cid, &mut w)?;
                    w.inner.flush().map_err(IpfsError::io("writing the CAR"))?;
                    let piece = w.commp.take().map(|c| c.finish());
                    drop(w);
                    std::fs::rename(&tmp, &o)
                        .or_else(|_| std::fs::copy(&tmp, &o).map(|_| ()))
                        .map_err(IpfsError::path(&o))?;
                    Ok((r, piece))
                })();
                let _ = std::fs::remove_file(&tmp);
                r.map(|(r, piece)| (r, piece, progress))
            })
            .await?;
            progress.finish(&format!("exported {cid}"));
            let r = CarExport {
                cid: cid.to_string(),
                path: out.display().to_string(),
                blocks,
                bytes,
                piece_cid: piece.as_ref().map(|p| p.cid.to_string()),
                piece_size: piece.as_ref().map(|p| p.padded_size),
                gateway: cfg.gateway.clone(),
            };
            Ok(r.output())
        }
        CarCmd::Import { path, pin, to } => {
            let p = ctx.resolve(&path);
            if !p.is_file() {
                return Err(MagicError::failed(format!(
                    "%ipfs car import: {} is not a file (check the path)",
                    p.display()
                )));
            }
            let pin = pin.unwrap_or(true);
            let (roots, complete, blocks, bytes) = match Target::parse(to.as_deref(), cfg).map_err(fail)? {
                Target::Lighthouse => return Err(fail(super::lighthouse_add_only())),
                Target::Local => {
                    let store = open_store(ctx)?;
                    let cancel = ctx.cancel.clone();
                    let pp = p.clone();
                    let r = blocking(move || {
                        let f = std::fs::File::open(&pp).map_err(IpfsError::path(&pp))?;
                        let mut rd = std::io::BufReader::new(f);
                        car::import(&store, &mut rd, pin, &mut |_| {
                            if cancel.is_cancelled() { Err(IpfsError::Cancelled("importing".into())) } else { Ok(()) }
                        })
                    })
                    .await?;
                    let s = |v: &[cid::Cid]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
                    (s(&r.roots), s(&r.complete_roots), r.blocks, r.bytes)
                }
                Target::Kubo(url) => {
                    let roots = Kubo::new(&url).map_err(fail)?.dag_import(&p).await.map_err(fail)?;
                    (roots.clone(), roots, 0, 0)
                }
                Target::Pin(n) => {
                    return Err(fail(IpfsError::BadOption(format!(
                        "pinning service {n:?} does not take CAR uploads: import locally, then %ipfs pin add CID --to pin:{n}"
                    ))));
                }
            };
            let r = CarImport {
                path: p.display().to_string(),
                roots,
                complete_roots: complete,
                blocks,
                bytes,
                pinned: pin,
                gateway: cfg.gateway.clone(),
            };
            Ok(r.output())
        }
    }
}

struct ProgressWriter<'a, W: Write> {
    inner: W,
    progress: &'a mut Progress,
    cancel: kelp_magic::CancelToken,
    commp: Option<crate::commp::CommpWriter>,
}

impl<W: Write> Write for ProgressWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other("interrupted"));
        }
        let n = self.inner.write(buf)?;
        if let Some(c) = &mut self.commp {
            c.write_all(&buf[..n])?;
        }
        self.progress.inc(n as u64);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
