//! `%c2d status | list | logs | stop | envs`.

use super::results::{EnvRow, Envs, LogShown, Logs};
use super::{C2dMagic, fail, remote, render};
use crate::Engine;
use crate::engine::read_from;
use kelp_magic::{MagicContext, MagicError, MagicResult, Output};
use serde_json::{Map, Value};
use std::time::Duration;

/// Largest log `%c2d logs` shows at once (larger ones: follow them with `-f`, or `%c2d result`).
const LOG_MAX: u64 = 64 << 20;

pub(crate) async fn status(
    magic: &C2dMagic,
    engine: &Engine,
    job: Option<&str>,
    ctx: &MagicContext,
) -> kelp_magic::Result<Output> {
    let rec = match job {
        Some(j) => engine.record(j).map_err(fail)?,
        None => engine.list().map_err(fail)?.pop().ok_or_else(|| {
            MagicError::failed("%c2d: no jobs yet (start one with %c2d start --dataset PATH --algorithm PATH)")
        })?,
    };
    let rec = if rec.remote.is_some() { remote::current(magic, engine, rec, ctx).await } else { rec };
    Ok(render::job_output(&rec))
}

pub(crate) async fn list(magic: &C2dMagic, engine: &Engine, ctx: &MagicContext) -> kelp_magic::Result<Output> {
    let mut jobs = engine.list().map_err(fail)?;
    for rec in jobs.iter_mut().filter(|r| r.remote.is_some() && !r.status.is_terminal()) {
        *rec = remote::current(magic, engine, rec.clone(), ctx).await;
    }
    Ok(render::list_output(&jobs))
}

/// `%c2d logs` of a remote job. The node hands out `algorithm.log` when the job has ended; with
/// `-f` on a running job, the log is followed live while the node streams it
/// (`computeStreamableLogs`), else each status change is shown; then the final log (what the
/// stream did not already show).
pub(crate) async fn remote_logs(
    magic: &C2dMagic,
    engine: &Engine,
    job: &str,
    follow: bool,
    ctx: &MagicContext,
) -> kelp_magic::Result<Output> {
    let rec = engine.record(job).map_err(fail)?;
    let rec = remote::current(magic, engine, rec, ctx).await;
    if rec.status.is_terminal() {
        remote::fetch_results(magic, engine, &rec.job_id, ctx).await?;
        let out = logs(engine, &rec.job_id, false, ctx).await?;
        if follow {
            ctx.print(out.plain().unwrap_or_default());
            let r = Logs {
                job_id: rec.job_id,
                status: rec.status.code(),
                log: out.plain().map(str::to_string),
                streamed: Some(false),
                shown: LogShown::Streamed,
            };
            return Ok(r.output());
        }
        return Ok(out);
    }
    if !follow {
        let text = format!(
            "job {} runs on {} ({}); its node hands out the log when it ends: %c2d logs {} -f follows it\n",
            &rec.job_id[..8],
            rec.remote.as_ref().map(|r| r.node_url.as_str()).unwrap_or(""),
            rec.status,
            &rec.job_id[..8]
        );
        let r = Logs {
            job_id: rec.job_id,
            status: rec.status.code(),
            log: None,
            streamed: None,
            shown: LogShown::Note(text),
        };
        return Ok(r.output());
    }
    let backend = remote::backend_for(magic, &rec)?;
    let rj = rec.remote.clone().ok_or_else(|| MagicError::failed("%c2d: not a remote job"))?;
    let id = rec.job_id.clone();
    let mut shown = String::new();
    let streamed = {
        let mut out = |piece: &str| {
            ctx.print(piece);
            shown.push_str(piece);
        };
        let follow = backend.follow_log(&rj, ctx, &mut out);
        tokio::select! {
            r = follow => r,
            _ = ctx.cancel.cancelled() => return Err(MagicError::Cancelled(format!("following the log of job {id} (the job goes on)"))),
        }
    };
    let streamed = match streamed {
        Ok(s) => s,
        Err(e) => {
            ctx.eprint(&format!("%c2d: the node stopped streaming the log ({e}); showing status changes\n"));
            false
        }
    };
    let rec = follow_status(backend.as_ref(), engine, &id, !streamed, ctx).await?;
    remote::fetch_results(magic, engine, &id, ctx).await?;
    let log = engine.result_file(&id, 0).ok().and_then(|(_, p)| crate::safefs::read_file(&p, LOG_MAX).ok());
    let log = String::from_utf8_lossy(&log.unwrap_or_default()).into_owned();
    // What the stream showed is the start of the final log; print only the rest.
    let rest = log.strip_prefix(shown.as_str()).unwrap_or(&log);
    if !shown.is_empty() && rest.len() == log.len() && !log.is_empty() {
        ctx.print("\n--- algorithm.log as the node kept it ---\n");
    }
    ctx.print(rest);
    let r = Logs {
        job_id: id,
        status: rec.status.code(),
        log: Some(log),
        streamed: Some(streamed),
        shown: LogShown::Streamed,
    };
    Ok(r.output())
}

/// Poll a remote job until it ends; with `announce`, print each status change as a line.
async fn follow_status(
    remote: &dyn crate::RemoteCompute,
    engine: &Engine,
    id: &str,
    announce: bool,
    ctx: &MagicContext,
) -> kelp_magic::Result<crate::JobRecord> {
    let mut last = None;
    let mut failures = 0;
    loop {
        let rec = match remote::refresh(remote, engine, id).await {
            Ok(r) => {
                failures = 0;
                r
            }
            Err(e) => {
                failures += 1;
                if failures > 30 {
                    return Err(MagicError::failed(format!(
                        "%c2d: lost the node while following job {}: {e}; ask again with %c2d logs {} -f",
                        &id[..8],
                        &id[..8]
                    )));
                }
                engine.record(id).map_err(fail)?
            }
        };
        if announce && last != Some(rec.status) {
            ctx.print(&format!("[job {}: {}]\n", &id[..8], rec.status));
            last = Some(rec.status);
        }
        if rec.status.is_terminal() {
            return Ok(rec);
        }
        tokio::select! {
            _ = ctx.cancel.cancelled() => return Err(MagicError::Cancelled(format!("following the log of job {id} (the job goes on)"))),
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// `%c2d envs`: the local engine's environments, then those of the selected network's node (when
/// the backend has one to ask); a node that does not answer is one warning line.
pub(crate) async fn envs(
    magic: &C2dMagic,
    engine: &Engine,
    network: Option<&str>,
    ctx: &MagicContext,
) -> kelp_magic::Result<Output> {
    let mut all: Vec<EnvRow> = Vec::new();
    for e in engine.environments() {
        let fields = match serde_json::to_value(e) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        all.push(EnvRow::new(fields, None, None));
    }
    if let Some(remote) = &magic.remote {
        match remote.environments(network, ctx).await {
            Ok(Some(r)) => {
                for v in r.environments {
                    if let Value::Object(m) = v {
                        all.push(EnvRow::new(m, Some(r.node_url.clone()), Some(r.network.clone())));
                    }
                }
            }
            Ok(None) => {}
            Err(e) => ctx.eprint(&format!(
                "%c2d envs: the compute node of {} did not answer ({e}); showing the local environments\n",
                network.unwrap_or("the session's network")
            )),
        }
    }
    Ok(Envs { environments: all }.output())
}

pub(crate) fn stop(engine: &Engine, job: &str) -> kelp_magic::Result<Output> {
    let before = engine.record(job).map_err(fail)?;
    let rec = engine.stop(&before.job_id).map_err(fail)?;
    Ok(render::stopped_output(&rec, before.status.is_terminal()))
}

/// Print the log (all of it, then with `follow` what is added until the job ends).
pub(crate) async fn logs(engine: &Engine, job: &str, follow: bool, ctx: &MagicContext) -> kelp_magic::Result<Output> {
    let rec = engine.record(job).map_err(fail)?;
    let id = rec.job_id.clone();
    let live = engine.log_path(&id).map_err(fail)?;
    let path = if rec.status.is_terminal() {
        engine.result_file(&id, 0).map(|r| r.1).unwrap_or(live.clone())
    } else {
        live.clone()
    };
    if !follow {
        let text = String::from_utf8_lossy(&crate::safefs::read_file(&path, LOG_MAX).unwrap_or_default()).into_owned();
        let r = Logs { job_id: id, status: rec.status.code(), log: Some(text), streamed: None, shown: LogShown::Log };
        return Ok(r.output());
    }
    let mut offset = 0u64;
    let mut all = String::new();
    loop {
        let rec = engine.record(&id).map_err(fail)?;
        let p = if rec.status.is_terminal() {
            engine.result_file(&id, 0).map(|r| r.1).unwrap_or(live.clone())
        } else {
            live.clone()
        };
        let chunk = read_from(&p, offset);
        if !chunk.is_empty() {
            offset += chunk.len() as u64;
            let s = String::from_utf8_lossy(&chunk).into_owned();
            ctx.print(&s);
            all.push_str(&s);
        }
        if rec.status.is_terminal() {
            let r = Logs {
                job_id: id,
                status: rec.status.code(),
                log: Some(all),
                streamed: None,
                shown: LogShown::Streamed,
            };
            return Ok(r.output());
        }
        tokio::select! {
            _ = ctx.cancel.cancelled() => return Err(MagicError::Cancelled(format!("following the log of job {id} (the job goes on)"))),
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}
