//! The `kelp` command line: `kelp kernel` (what kernel.json launches), `kelp install`,
//! `kelp devnet setup` (the devnet's chain tools from npm), `kelp devnet node` (the devnet's
//! Ocean node, kelp-ocean-node, which `%devnet up` starts), and the shell front end that runs
//! any magic: `kelp ipfs add data.csv` ≡ `%ipfs add data.csv`
//! (`--json` prints the result's JSON form; a cell magic reads its body from stdin).

use anyhow::Result;
use clap::{Parser, Subcommand};
use kelp_magic::{Config, MagicCall, MagicContext, MagicError, Output, OutputSink, Stream};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "kelp",
    version,
    about = "A Rust Jupyter kernel with magics for IPFS, Ocean Protocol and compute-to-data."
)]
#[command(after_help = "Any magic runs from the shell too: `kelp lsmagic` lists them, `kelp ipfs --help` shows one.")]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Serve a kernel (started by Jupyter through kernel.json).
    Kernel {
        #[arg(long, short = 'f', value_name = "FILE")]
        connection_file: PathBuf,
    },
    /// Install the "Rust (kelp)" kernelspec.
    Install {
        /// Into the user's Jupyter data dir (the default).
        #[arg(long, conflicts_with_all = ["sys_prefix", "prefix"])]
        user: bool,
        /// Into the current Python environment (VIRTUAL_ENV or python3's sys.prefix).
        #[arg(long, conflicts_with = "prefix")]
        sys_prefix: bool,
        /// Into PREFIX/share/jupyter/kernels.
        #[arg(long, value_name = "PREFIX")]
        prefix: Option<PathBuf>,
        /// Kernelspec name.
        #[arg(long, default_value = "kelp")]
        name: String,
    },
    /// A spare Rust engine for the next kernel (started by a kernel when KELP_WARM_ENGINE=1).
    #[command(hide = true)]
    EngineServe,
    /// Run a magic: `kelp <magic> [args…] [--json]`.
    #[command(external_subcommand)]
    Magic(Vec<String>),
}

pub fn install(user: bool, sys_prefix: bool, prefix: Option<PathBuf>, name: &str) -> Result<()> {
    let _ = user;
    let target = match (sys_prefix, prefix) {
        (_, Some(p)) => crate::install::Target::Prefix(p),
        (true, None) => crate::install::Target::SysPrefix,
        _ => crate::install::Target::User,
    };
    let dir = crate::install::install(&target, name)?;
    println!("installed kernelspec {name} in {}", dir.display());
    println!(
        "%devnet's anvil and Ocean contracts: `kelp devnet setup`; the JupyterLab extension: `pip install` its wheel"
    );
    Ok(())
}

/// A terminal: stream text as is; displays (progress) on stderr, redrawn in place on a TTY.
struct Terminal {
    tty: bool,
}

impl OutputSink for Terminal {
    fn stream(&self, stream: Stream, text: &str) {
        let _ = match stream {
            Stream::Stdout => std::io::stdout().write_all(text.as_bytes()),
            Stream::Stderr => std::io::stderr().write_all(text.as_bytes()),
        };
    }
    fn display(&self, output: &Output, _id: Option<&str>) {
        if let Some(t) = output.plain() {
            if self.tty { eprint!("\r\x1b[2K{t}") } else { eprintln!("{t}") }
        }
    }
    fn update_display(&self, output: &Output, id: &str) {
        self.display(output, Some(id));
    }
    fn clear_output(&self, _wait: bool) {}
}

/// Run `argv` (magic name first) as a magic; the process exit code.
pub async fn run_magic(mut argv: Vec<String>) -> i32 {
    let json = argv.iter().any(|a| a == "--json");
    argv.retain(|a| a != "--json");
    let name = argv.remove(0);
    if name == "devnet" && argv.first().is_some_and(|a| a == "setup") {
        return devnet_setup(&argv[1..], json);
    }
    if name == "devnet" && argv.first().is_some_and(|a| a == "node") {
        return devnet_node(&argv[1..]).await;
    }
    let registry = crate::magics::registry();
    let tty = std::io::stderr().is_terminal();
    let cell = registry.get(&name).is_some_and(|m| m.kind() == kelp_magic::MagicKind::Cell);
    let mut call = MagicCall::from_argv(&name, argv);
    if cell {
        let mut body = String::new();
        let _ = std::io::stdin().read_to_string(&mut body);
        call.body = Some(body);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let ctx = MagicContext::new(cwd, Config::from_env(), Arc::new(Terminal { tty }));
    let cancel = ctx.cancel.clone();
    let run = registry.run(call, cell, &ctx);
    let result = tokio::select! {
        r = run => r,
        _ = tokio::signal::ctrl_c() => { cancel.cancel(); Err(MagicError::Cancelled(format!("kelp {name}"))) }
    };
    if tty {
        eprint!("\r\x1b[2K");
    }
    // A local compute job runs in the process that started it: let it finish before exiting.
    let pending = kelp_c2d::local_jobs();
    if pending > 0 {
        eprintln!("kelp: waiting for {pending} compute job(s) to finish (Ctrl-C leaves them failed)");
        let wait =
            tokio::task::spawn_blocking(|| kelp_c2d::wait_for_local_jobs(std::time::Duration::from_secs(86_400)));
        tokio::select! {
            _ = wait => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    match result {
        Ok(out) => {
            if json {
                let v = out.json().cloned().unwrap_or_else(|| serde_json::json!({"text": out.plain()}));
                print_out(&format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default()));
            } else if let Some(t) = out.plain() {
                print_out(&format!("{}\n", t.trim_end()));
            }
            0
        }
        Err(MagicError::Help(h)) => {
            print_out(&h);
            0
        }
        Err(e) => {
            eprintln!("kelp: error: {e}");
            match e {
                MagicError::Usage(_) | MagicError::Unknown { .. } => 2,
                _ => 1,
            }
        }
    }
}

/// `kelp devnet node --port P --rpc URL`: the devnet's Ocean node (kelp-ocean-node) in this process,
/// which `%devnet up` starts in the background from the `kelp` binary.
async fn devnet_node(args: &[String]) -> i32 {
    match kelp_ocean_node::serve::cli(args).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("kelp: error: {e}");
            1
        }
    }
}

/// `kelp devnet setup`: the devnet's chain tools from npm into `$KELP_HOME/tools/chain`.
fn devnet_setup(args: &[String], json: bool) -> i32 {
    match kelp_ocean::devnet::setup::cli(args, json, &Config::from_env().home) {
        Ok(out) => {
            print_out(&format!("{}\n", out.trim_end()));
            0
        }
        Err(e) => {
            eprintln!("kelp: error: {e}");
            1
        }
    }
}

/// Write a result to stdout. A reader that went away (`kelp … | head`) is not an error: the
/// rest is dropped quietly, where `print!` would panic.
fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
