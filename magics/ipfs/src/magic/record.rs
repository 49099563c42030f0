//! The provenance record of an `%ipfs` result (issue #14): what the call read (CIDs, files
//! with their sha256) and wrote (CIDs, files), taken from its arguments and its JSON result.
//! Settings, listings of pins and `serve` record nothing.

use super::{Cli, Cmd, car::CarCmd, pin::PinCmd};
use clap::CommandFactory;
use kelp_magic::{Item, MagicCall, MagicContext, Output, Record, parse_args};
use serde_json::Value;
use std::path::Path;

/// The record of `out` (a [`kelp_magic::RecordFn`]), when the subcommand read or wrote something.
pub(crate) fn record(call: &MagicCall, ctx: &MagicContext, out: &Output) -> Option<Record> {
    let cli: Cli = parse_args(Cli::command(), call).ok()?;
    let j = out.json()?;
    let s = |k: &str| j.get(k).and_then(Value::as_str).map(str::to_string);
    let file = |p: &str| Item::file(&ctx.cwd, Path::new(p));
    let r = Record::magic();
    Some(match cli.cmd {
        Cmd::Add(a) => r.read(file(&a.path)).wrote(Item::cid(s("cid")?)),
        Cmd::Cat(_) | Cmd::Ls(_) | Cmd::Stat(_) => r.read(Item::cid(s("cid")?)),
        Cmd::Get(_) => r.read(Item::cid(s("cid")?)).wrote(file(&s("path")?)),
        Cmd::Car(CarCmd::Export { .. }) => r.read(Item::cid(s("cid")?)).wrote(file(&s("path")?)),
        Cmd::Car(CarCmd::Import { path, .. }) => {
            let roots = j.get("roots").and_then(Value::as_array).cloned().unwrap_or_default();
            roots.iter().filter_map(Value::as_str).fold(r.read(file(&path)), |r, c| r.wrote(Item::cid(c)))
        }
        Cmd::Pin(PinCmd::Add { .. }) => r.read(Item::cid(s("cid")?)),
        _ => return None,
    })
}
