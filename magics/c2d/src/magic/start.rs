//! `%c2d start`: parse the request into plain data, resolve the sources, submit, and with
//! `--wait` show the job's status live until it ends.

use super::{C2dMagic, StartArgs, fail, render};
use crate::{JobSpec, Resources, parse_duration, parse_param};
use kelp_magic::RustValue;
use kelp_magic::{MagicContext, MagicError, Output};
use serde_json::{Map, Value};
use std::time::{Duration, Instant};

/// A start request, parsed (no I/O yet).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StartPlan {
    pub datasets: Vec<String>,
    pub algorithm: String,
    pub params: Map<String, Value>,
    pub env: Option<String>,
    pub resources: Resources,
    pub timeout_secs: u64,
    pub entrypoint: Option<String>,
    pub wait: bool,
    /// Whether `--resources` was given (remote nodes apply their minimums otherwise).
    pub resources_given: bool,
    /// Network and signer for remote jobs.
    pub options: crate::RemoteOptions,
}

pub(crate) fn plan(a: &StartArgs) -> Result<StartPlan, MagicError> {
    let mut params = Map::new();
    for p in &a.params {
        let (k, v) = parse_param(p).map_err(fail)?;
        params.insert(k, v);
    }
    let resources = match &a.resources {
        Some(s) => Resources::parse(s).map_err(fail)?,
        None => Resources::default(),
    };
    Ok(StartPlan {
        datasets: a.datasets.clone(),
        algorithm: a.algorithm.clone(),
        params,
        env: a.env.clone(),
        resources,
        timeout_secs: parse_duration(&a.timeout).map_err(fail)?,
        entrypoint: a.entrypoint.clone(),
        wait: a.wait,
        resources_given: a.resources.is_some(),
        options: crate::RemoteOptions {
            network: a.remote.network.clone(),
            account: a.remote.account,
            signer: a.remote.signer.clone(),
        },
    })
}

pub(crate) async fn run(magic: &C2dMagic, plan: StartPlan, ctx: &MagicContext) -> kelp_magic::Result<Output> {
    let engine = magic.engine(ctx)?;
    let resolvers = magic.resolvers(ctx);
    let downloads = engine.dir().join("downloads");
    let mut datasets = vec![];
    for d in &plan.datasets {
        datasets.push(resolvers.dataset(d, &downloads).await.map_err(fail)?);
    }
    let mut algorithm = resolvers.algorithm(&plan.algorithm, &downloads).await.map_err(fail)?;
    if let Some(ep) = &plan.entrypoint {
        algorithm.container.entrypoint = ep.clone();
    }
    let mut spec = JobSpec::new(datasets, algorithm);
    spec.params = plan.params;
    spec.environment = plan.env;
    spec.resources = plan.resources;
    spec.timeout_secs = plan.timeout_secs;
    let id = engine.submit(spec).map_err(fail)?;
    if !plan.wait {
        let rec = engine.record(&id).map_err(fail)?;
        let hint = format!("started job {id}; follow it with %c2d status {} or %c2d logs {} -f", &id[..8], &id[..8]);
        return Ok(render::started_output(&rec, &hint).with_value(RustValue::string(&id)));
    }
    let started = Instant::now();
    let mut view = render::LiveView::new(&id);
    loop {
        let rec = engine.record(&id).map_err(fail)?;
        let live = render::live(&rec, &engine.log_path(&id).unwrap_or_default());
        view.show(ctx, &live, rec.status.is_terminal());
        if rec.status.is_terminal() {
            return Ok(render::job_output(&rec).with_value(RustValue::string(&id)));
        }
        tokio::select! {
            _ = ctx.cancel.cancelled() => {
                let _ = engine.stop(&id);
                return Err(MagicError::Cancelled(format!("waiting for job {id}; the job was stopped")));
            }
            _ = tokio::time::sleep(Duration::from_millis(if started.elapsed() < Duration::from_secs(2) { 20 } else { 200 })) => {}
        }
    }
}
