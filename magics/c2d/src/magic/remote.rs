//! Jobs on a remote node (`%c2d start --dataset did:op:… --algorithm did:op:…`): start through
//! the session's [`RemoteCompute`], journal, keep the record current (a background poller per
//! running job, resumed when a restarted kernel first opens the journal), and bring the results
//! home into `jobs/<id>/results/` so `result` and `logs` work as for local jobs.

use super::start::StartPlan;
use super::{C2dMagic, fail, render};
use crate::{
    AlgorithmSpec, C2dError, Container, DatasetInput, Engine, JobRecord, JobSpec, RemoteCompute, RemoteRequest,
};
use kelp_magic::{MagicContext, MagicError, Output, Progress, RustValue};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Serialises load → apply → save of remote records within this process.
static JOURNAL_LOCK: Mutex<()> = Mutex::new(());

/// The jobs this process is polling in the background.
pub(crate) type Pollers = Arc<Mutex<HashSet<String>>>;

/// The backend that owns `rec`, or a clear error.
pub(crate) fn backend_for(magic: &C2dMagic, rec: &JobRecord) -> Result<Arc<dyn RemoteCompute>, MagicError> {
    let rj = rec.remote.as_ref().ok_or_else(|| MagicError::failed("%c2d: not a remote job"))?;
    match &magic.remote {
        Some(r) if r.name() == rj.backend => Ok(r.clone()),
        _ => Err(fail(C2dError::NoRemote(rec.job_id.clone(), rj.backend.clone()))),
    }
}

/// Ask the node once and journal what changed; returns the record as it is now.
pub(crate) async fn refresh(remote: &dyn RemoteCompute, engine: &Engine, id: &str) -> crate::Result<JobRecord> {
    let rec = engine.record(id)?;
    let Some(rj) = rec.remote.clone().filter(|_| !rec.status.is_terminal()) else { return Ok(rec) };
    let st = remote.status(&rj).await?;
    let _guard = JOURNAL_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut rec = engine.record(id)?;
    if rec.apply_remote(&st) {
        engine.save_record(&rec)?;
    }
    Ok(rec)
}

/// Poll `id` in the background until it ends (the kernel's runtime keeps it going between cells).
pub(crate) fn spawn_poller(remote: Arc<dyn RemoteCompute>, engine: Engine, id: String, pollers: Pollers) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    if !pollers.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone()) {
        return;
    }
    tokio::spawn(async move {
        let mut pause = Duration::from_secs(1);
        loop {
            tokio::time::sleep(pause).await;
            match refresh(remote.as_ref(), &engine, &id).await {
                Ok(rec) if rec.status.is_terminal() => break,
                Ok(_) => pause = Duration::from_secs(2),
                Err(C2dError::UnknownJob(_)) => break,
                // The node may be down for a while; the job is journaled, keep asking, less often.
                Err(_) => pause = (pause * 2).min(Duration::from_secs(30)),
            }
        }
        pollers.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    });
}

/// Resume polling every remote job that had not ended (after a kernel restart).
pub(crate) fn resume(magic: &C2dMagic, engine: &Engine) {
    let Some(remote) = magic.remote.clone() else { return };
    for rec in engine.list().unwrap_or_default() {
        if rec.remote.as_ref().is_some_and(|r| r.backend == remote.name()) && !rec.status.is_terminal() {
            spawn_poller(remote.clone(), engine.clone(), rec.job_id, magic.pollers.clone());
        }
    }
}

/// Whether a start request goes to the remote backend (all its sources are remote ones).
pub(crate) fn wants_remote(magic: &C2dMagic, plan: &StartPlan) -> Result<bool, MagicError> {
    let sources: Vec<&String> = plan.datasets.iter().chain(std::iter::once(&plan.algorithm)).collect();
    let remote_ok = |s: &str| magic.remote.as_ref().is_some_and(|r| r.accepts(s));
    // Sources no backend takes go to the local resolvers (which name what they cannot handle).
    if !sources.iter().any(|s| remote_ok(s)) {
        return Ok(false);
    }
    let remote = sources.iter().find(|s| remote_ok(s)).map(|s| s.to_string()).unwrap_or_default();
    if let Some(local) = sources.iter().find(|s| !remote_ok(s)) {
        return Err(fail(C2dError::MixedSources(remote, local.to_string())));
    }
    if plan.entrypoint.is_some() {
        return Err(MagicError::Usage(
            "%c2d: --entrypoint is for local jobs; a published algorithm's container comes from its DDO".into(),
        ));
    }
    Ok(true)
}

/// `%c2d start` on the remote node.
pub(crate) async fn start(magic: &C2dMagic, plan: StartPlan, ctx: &MagicContext) -> kelp_magic::Result<Output> {
    let remote = magic.remote.clone().ok_or_else(|| MagicError::failed("%c2d: no remote compute backend"))?;
    let engine = magic.engine(ctx)?;
    let req = RemoteRequest {
        datasets: plan.datasets.clone(),
        algorithm: plan.algorithm.clone(),
        params: plan.params.clone(),
        environment: plan.env.clone(),
        resources: plan.resources_given.then_some(plan.resources),
        timeout_secs: plan.timeout_secs,
        options: plan.options.clone(),
    };
    let mut progress = Progress::items(ctx, "starting the job on the node", None);
    let mut n = 0;
    let mut step = |label: &str| {
        n += 1;
        progress.set_label(format!("c2d: {label}"));
        progress.set(n);
    };
    let started = remote.start(&req, ctx, &mut step).await.map_err(fail)?;
    progress.finish("started on the node");
    let mut spec = JobSpec::new(
        req.datasets
            .iter()
            .map(|d| DatasetInput { id: d.clone(), path: PathBuf::new(), source: Some(d.clone()) })
            .collect(),
        AlgorithmSpec {
            path: PathBuf::new(),
            container: started.container.clone().unwrap_or_else(|| Container {
                entrypoint: String::new(),
                image: String::new(),
                tag: String::new(),
                checksum: None,
            }),
            source: Some(req.algorithm.clone()),
        },
    );
    spec.params = plan.params;
    spec.resources = plan.resources;
    spec.timeout_secs = plan.timeout_secs;
    spec.environment = Some(started.job.environment.clone());
    spec.owner = started.job.owner.clone();
    let id = engine.record_remote(spec, &started).map_err(fail)?;
    spawn_poller(remote.clone(), engine.clone(), id.clone(), magic.pollers.clone());
    if !plan.wait {
        let rec = engine.record(&id).map_err(fail)?;
        let hint = format!(
            "started job {id} on {}; follow it with %c2d status {} (results: %c2d result {})",
            started.job.node_url,
            &id[..8],
            &id[..8]
        );
        return Ok(render::started_output(&rec, &hint).with_value(RustValue::string(&id)));
    }
    let rec = wait(remote.as_ref(), &engine, &id, ctx).await?;
    Ok(render::job_output(&rec).with_value(RustValue::string(&id)))
}

/// Wait for a remote job to end, showing its status live. An interrupt stops the waiting, not
/// the job (it was paid for; `%c2d stop` stops it).
pub(crate) async fn wait(
    remote: &dyn RemoteCompute,
    engine: &Engine,
    id: &str,
    ctx: &MagicContext,
) -> kelp_magic::Result<JobRecord> {
    let started = Instant::now();
    let mut view = render::LiveView::new(id);
    let mut last_ok = Instant::now();
    let nowhere = Path::new("");
    loop {
        let rec = match refresh(remote, engine, id).await {
            Ok(r) => {
                last_ok = Instant::now();
                r
            }
            Err(e) if last_ok.elapsed() > Duration::from_secs(60) => {
                return Err(MagicError::failed(format!(
                    "%c2d: lost the node while waiting for job {}: {e}; the job is journaled, ask again with %c2d status {}",
                    &id[..8],
                    &id[..8]
                )));
            }
            Err(_) => engine.record(id).map_err(fail)?,
        };
        view.show(ctx, &render::live(&rec, nowhere), rec.status.is_terminal());
        if rec.status.is_terminal() {
            return Ok(rec);
        }
        let pause = if started.elapsed() < Duration::from_secs(5) { 250 } else { 1000 };
        tokio::select! {
            _ = ctx.cancel.cancelled() => {
                return Err(MagicError::Cancelled(format!(
                    "waiting for job {id} (it goes on on the node: %c2d status {}, or %c2d stop {})", &id[..8], &id[..8]
                )));
            }
            _ = tokio::time::sleep(Duration::from_millis(pause)) => {}
        }
    }
}

/// The record, refreshed from the node when it has not ended (a node that does not answer is
/// reported on stderr and the journaled state is used).
pub(crate) async fn current(magic: &C2dMagic, engine: &Engine, rec: JobRecord, ctx: &MagicContext) -> JobRecord {
    if rec.status.is_terminal() {
        return rec;
    }
    let Ok(remote) = backend_for(magic, &rec) else { return rec };
    match refresh(remote.as_ref(), engine, &rec.job_id).await {
        Ok(r) => r,
        Err(e) => {
            ctx.eprint(&format!(
                "%c2d: could not ask the node about job {} ({e}); showing its last known state\n",
                &rec.job_id[..8]
            ));
            rec
        }
    }
}

/// Download the results the node lists for an ended job into `jobs/<id>/results/` (once).
pub(crate) async fn fetch_results(
    magic: &C2dMagic,
    engine: &Engine,
    id: &str,
    ctx: &MagicContext,
) -> kelp_magic::Result<JobRecord> {
    let rec = engine.record(id).map_err(fail)?;
    let remote = backend_for(magic, &rec)?;
    let rec = current(magic, engine, rec, ctx).await;
    if !rec.status.is_terminal() {
        return Err(fail(C2dError::NotFinished { id: rec.job_id.clone(), status: rec.status.to_string() }));
    }
    let rj = rec.remote.clone().ok_or_else(|| MagicError::failed("%c2d: not a remote job"))?;
    let dir = engine.job_dir(&rec.job_id).map_err(fail)?.join("results");
    std::fs::create_dir_all(&dir).map_err(|e| fail(C2dError::io(format!("creating {}", dir.display()), e)))?;
    let missing: Vec<_> = rec.results.iter().filter(|r| !dir.join(safe_name(&r.filename)).is_file()).cloned().collect();
    if missing.is_empty() {
        return Ok(rec);
    }
    let mut progress = Progress::items(ctx, "downloading results", Some(missing.len() as u64));
    for r in &missing {
        progress.set_label(format!("downloading {}", r.filename));
        let dest = dir.join(safe_name(&r.filename));
        let tmp = dir.join(format!(".{}.partial", safe_name(&r.filename)));
        let got = tokio::select! {
            g = remote.fetch(&rj, r.index, &tmp, ctx) => g,
            _ = ctx.cancel.cancelled() => {
                let _ = std::fs::remove_file(&tmp);
                return Err(MagicError::Cancelled(format!("downloading the results of job {}", &id[..8.min(id.len())])));
            }
        };
        if let Err(e) = got {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(e));
        }
        std::fs::rename(&tmp, &dest).map_err(|e| fail(C2dError::io(format!("writing {}", dest.display()), e)))?;
        progress.inc(1);
    }
    progress.finish("results downloaded");
    // The journal names each result by the file it is kept in.
    let _guard = JOURNAL_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut rec = engine.record(id).map_err(fail)?;
    let mut changed = false;
    for r in rec.results.iter_mut() {
        let name = safe_name(&r.filename);
        if name != r.filename {
            r.filename = name;
            changed = true;
        }
        if let Ok(m) = std::fs::metadata(dir.join(&r.filename))
            && m.len() != r.filesize
        {
            r.filesize = m.len();
            changed = true;
        }
    }
    if changed {
        engine.save_record(&rec).map_err(fail)?;
    }
    Ok(rec)
}

/// `%c2d stop` for a remote job: ask the node, then show the state it reports.
pub(crate) async fn stop(
    magic: &C2dMagic,
    engine: &Engine,
    rec: JobRecord,
    ctx: &MagicContext,
) -> kelp_magic::Result<Output> {
    let remote = backend_for(magic, &rec)?;
    let rec = current(magic, engine, rec, ctx).await;
    if rec.status.is_terminal() {
        return Ok(render::stopped_output(&rec, true));
    }
    let rj = rec.remote.clone().ok_or_else(|| MagicError::failed("%c2d: not a remote job"))?;
    remote.stop(&rj, ctx).await.map_err(fail)?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = refresh(remote.as_ref(), engine, &rec.job_id).await.map_err(fail)?;
        if now.status.is_terminal() || Instant::now() >= deadline {
            return Ok(render::stopped_output(&now, false));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A result file name the node gave, reduced to one safe path component.
fn safe_name(name: &str) -> String {
    let base = Path::new(name).file_name().and_then(|n| n.to_str()).unwrap_or("");
    crate::engine::safe_component(base, "._-", "result")
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn result_names_stay_in_their_folder() {
        assert_eq!(safe_name("outputs.tar"), "outputs.tar");
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name(".."), "result");
        assert_eq!(safe_name("a b.log"), "a_b.log");
    }
}
