use super::*;
use crate::{Config, EnvMagic, FileMagic, RecordingSink};
use async_trait::async_trait;
use clap::{Arg, Command};

struct Fake;
#[async_trait]
impl Magic for Fake {
    fn name(&self) -> &'static str {
        "ipfs"
    }
    fn summary(&self) -> &'static str {
        "Content addressing."
    }
    fn command(&self) -> Command {
        Command::new("ipfs")
            .subcommand(
                Command::new("add")
                    .arg(Arg::new("path"))
                    .arg(Arg::new("cid-version").long("cid-version"))
                    .arg(Arg::new("chunker").long("chunker")),
            )
            .subcommand(Command::new("cat").arg(Arg::new("cid")))
    }
    async fn run(&self, call: MagicCall, _ctx: &MagicContext) -> Result<Output> {
        Ok(Output::text(call.args.join(",")))
    }
}

fn reg() -> Registry {
    Registry::new().with(Fake).with(EnvMagic).with(FileMagic)
}

#[test]
fn closest_name_for_typos() {
    let r = reg();
    assert_eq!(r.closest("ipf").as_deref(), Some("ipfs"));
    assert_eq!(r.closest("lsmagc").as_deref(), Some("lsmagic"));
    assert_eq!(r.closest("qqqqqq"), None);
}

#[test]
fn lsmagic_lists_line_and_cell() {
    let o = reg().lsmagic();
    let j = o.json().unwrap();
    assert_eq!(j["line"]["ipfs"], "Content addressing.");
    assert!(j["cell"].get("file").is_some());
    assert!(j["line"].get("file").is_none(), "file is cell-only");
    assert!(o.plain().unwrap().contains("%%file"));
}

#[test]
fn help_is_generated_from_clap() {
    let h = reg().help("ipfs").unwrap();
    assert!(h.starts_with("%ipfs — Content addressing."), "{h}");
    assert!(h.contains("add") && h.contains("cat"), "{h}");
    assert!(matches!(reg().help("nope"), Err(MagicError::Unknown { .. })));
}

#[test]
fn completes_names_subcommands_and_flags() {
    let r = reg();
    let cwd = Path::new("/");
    let c = r.complete("%ipf", cwd).unwrap();
    assert_eq!((c.start, c.matches.clone()), (0, vec!["%ipfs".to_string()]));
    let c = r.complete("%ipfs a", cwd).unwrap();
    assert_eq!((c.start, c.matches.clone()), (6, vec!["add".to_string()]));
    let c = r.complete("%ipfs add --c", cwd).unwrap();
    assert_eq!(c.matches, vec!["--chunker", "--cid-version"]);
    assert_eq!(c.start, 10);
    let c = r.complete("%%fi", cwd).unwrap();
    assert_eq!(c.matches, vec!["%%file"]);
    assert!(r.complete("let x = 1", cwd).is_none());
}

#[test]
fn completes_paths_for_positionals() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("data.csv"), "x").unwrap();
    std::fs::create_dir(d.path().join("dir")).unwrap();
    let c = reg().complete("%ipfs add da", d.path()).unwrap();
    assert_eq!(c.matches, vec!["data.csv"]);
    let c = reg().complete("%ipfs add d", d.path()).unwrap();
    assert_eq!(c.matches, vec!["data.csv", "dir/"]);
}

#[tokio::test]
async fn run_dispatches_and_checks_kind() {
    let r = reg();
    let ctx = MagicContext::new("/", Config::at("/h"), RecordingSink::new());
    let out = r.run(MagicCall::from_line("ipfs add x", None).unwrap(), false, &ctx).await.unwrap();
    assert_eq!(out.plain(), Some("add,x"));
    let e = r.run(MagicCall::from_line("ipfs add x", None).unwrap(), true, &ctx).await.unwrap_err();
    assert!(e.to_string().contains("line magic"));
    let e = r.run(MagicCall::from_line("ipf", None).unwrap(), false, &ctx).await.unwrap_err();
    assert_eq!(e.to_string(), "unknown magic %ipf: did you mean %ipfs?");
    let o = r.run(MagicCall::from_line("lsmagic", None).unwrap(), false, &ctx).await.unwrap();
    assert!(o.plain().unwrap().contains("%lsmagic"));
}
