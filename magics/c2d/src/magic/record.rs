//! Provenance records of `%c2d` results (issue #14): `start` read its datasets and algorithm
//! (files with sha256, CIDs, DIDs) and made a job; `result` read that job and wrote its output
//! files (with sha256; the algorithm's log, which holds timings, is left out). Jobs on a remote
//! Ocean node are marked uncheckable offline. Status, logs, lists and stop record nothing.

use super::{Cli, Cmd};
use clap::CommandFactory;
use kelp_magic::{Item, MagicCall, MagicContext, Output, Record, parse_args, source_item};
use serde_json::Value;
use std::path::Path;

/// The record of `out` (a [`kelp_magic::RecordFn`]), when the subcommand read or wrote something.
pub(crate) fn record(call: &MagicCall, ctx: &MagicContext, out: &Output) -> Option<Record> {
    let cli: Cli = parse_args(Cli::command(), call).ok()?;
    let j = out.json()?;
    let job = j["jobId"].as_str()?.to_string();
    match cli.cmd {
        Cmd::Start(a) => {
            let r =
                a.datasets.iter().chain([&a.algorithm]).fold(Record::magic(), |r, s| r.read(source_item(&ctx.cwd, s)));
            let r = r.wrote(Item::C2dJob { job_id: job, result_cids: vec![] });
            Some(if j["remote"].is_null() { r } else { r.uncheckable("the job ran on a remote Ocean node") })
        }
        Cmd::Result(_) => {
            let folder = Path::new(j["folder"].as_str()?);
            let files = j["files"].as_array().into_iter().flatten().filter_map(Value::as_str);
            let r = Record::magic().read(Item::C2dJob { job_id: job, result_cids: vec![] });
            Some(files.filter(|f| !f.ends_with(".log")).fold(r, |r, f| r.wrote(Item::file(&ctx.cwd, &folder.join(f)))))
        }
        _ => None,
    }
}
