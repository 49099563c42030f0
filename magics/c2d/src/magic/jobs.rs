//! `%c2d status | list | logs | stop | envs`.

use super::{C2dMagic, fail, remote, render};
use crate::Engine;
use kelp_magic::{MagicContext, MagicError, Output, html_escape};
use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

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

/// `%c2d logs` of a remote job: the node hands out `algorithm.log` when the job has ended;
/// with `-f`, wait for that (showing the status) and print it.
pub(crate) async fn remote_logs(
    magic: &C2dMagic,
    engine: &Engine,
    job: &str,
    follow: bool,
    ctx: &MagicContext,
) -> kelp_magic::Result<Output> {
    let rec = engine.record(job).map_err(fail)?;
    let mut rec = remote::current(magic, engine, rec, ctx).await;
    if !rec.status.is_terminal() {
        if !follow {
            let text = format!(
                "job {} runs on {} ({}); its node hands out the log when it ends: %c2d logs {} -f waits for it\n",
                &rec.job_id[..8],
                rec.remote.as_ref().map(|r| r.node_url.as_str()).unwrap_or(""),
                rec.status,
                &rec.job_id[..8]
            );
            let json = serde_json::json!({ "jobId": rec.job_id, "status": rec.status.code(), "log": null });
            return Ok(Output::text(text).with_json(json));
        }
        let backend = remote::backend_for(magic, &rec)?;
        rec = remote::wait(backend.as_ref(), engine, &rec.job_id, ctx).await?;
    }
    remote::fetch_results(magic, engine, &rec.job_id, ctx).await?;
    let out = logs(engine, &rec.job_id, false, ctx).await?;
    if follow {
        ctx.print(out.plain().unwrap_or_default());
        let json = serde_json::json!({ "jobId": rec.job_id, "status": rec.status.code(), "log": out.plain() });
        return Ok(Output::empty().with_json(json));
    }
    Ok(out)
}

pub(crate) fn envs(engine: &Engine) -> kelp_magic::Result<Output> {
    let envs = engine.environments();
    let mut text = String::new();
    let mut rows = String::new();
    for e in &envs {
        let res: Vec<String> = e
            .resources
            .iter()
            .map(|r| if r.id == "cpu" { format!("cpu {}", r.max) } else { format!("{} {:.1} GB", r.id, r.max) })
            .collect();
        text.push_str(&format!("{}  {}  max {} s  {}\n", e.id, res.join(", "), e.max_job_duration, e.description));
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{} s</td><td>{}</td></tr>",
            html_escape(&e.id),
            html_escape(&res.join(", ")),
            e.max_job_duration,
            html_escape(&e.description)
        ));
    }
    let html = format!(
        "<table><tr><th>id</th><th>resources (max)</th><th>max duration</th><th>description</th></tr>{rows}</table>"
    );
    let json = serde_json::json!({ "environments": envs });
    Ok(Output::text(text).with_html(html).with_json(json))
}

pub(crate) fn stop(engine: &Engine, job: &str) -> kelp_magic::Result<Output> {
    let before = engine.record(job).map_err(fail)?;
    let rec = engine.stop(&before.job_id).map_err(fail)?;
    let out = render::job_output(&rec);
    if before.status.is_terminal() {
        let text = format!("job {} had already ended ({})\n", rec.job_id, rec.status);
        return Ok(out.with_text(text));
    }
    Ok(out)
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
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let json = serde_json::json!({ "jobId": id, "status": rec.status.code(), "log": text });
        return Ok(Output::text(text.clone()).with_html(format!("<pre>{}</pre>", html_escape(&text))).with_json(json));
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
            let json = serde_json::json!({ "jobId": id, "status": rec.status.code(), "log": all });
            return Ok(Output::empty().with_json(json));
        }
        tokio::select! {
            _ = ctx.cancel.cancelled() => return Err(MagicError::Cancelled(format!("following the log of job {id} (the job goes on)"))),
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

fn read_from(p: &std::path::Path, offset: u64) -> Vec<u8> {
    let mut buf = vec![];
    if let Ok(mut f) = std::fs::File::open(p)
        && f.seek(SeekFrom::Start(offset)).is_ok()
    {
        let _ = f.read_to_end(&mut buf);
    }
    buf
}
