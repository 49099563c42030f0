//! kelp-kernel: the `kelp` binary's library.
//!
//! A thin front end on the magic libraries and the evcxr engine:
//! - [`transport`]: the five ZeroMQ channels (HMAC-signed) and message helpers;
//! - [`server`]: shared kernel state; shell/control/stdin loops; kernel_info, history, comms;
//! - [`execute`]: running cells (magics and Rust pieces) and replying;
//! - [`engine`]: evcxr on its own thread; [`run_cell`]: one Rust piece handed to evcxr;
//!   [`display`]: display blocks in order (the child's stdout filter); [`final_value`]: marking
//!   a cell's value; [`dep_cache`]: the `:dep` compile cache; [`split`]: cell splitting;
//!   [`completeness`]: is_complete; [`assist`]: completion and inspection;
//! - [`prelude`]: the `kelp::` crate every session gets (cached under `KELP_HOME`);
//!   [`startup`]: where the engine's start-up time goes; [`warm`]: spare engines a restarted
//!   or second kernel takes;
//! - [`install`]: kernelspec; [`cli`]: the command line; [`magics`]: the registry.
//! - [`records`]: provenance records of Rust pieces and the `metadata.kelp` of outputs (issue #14).

pub mod assist;
pub mod cli;
pub mod comms;
pub mod completeness;
pub mod dep_cache;
pub mod display;
pub mod engine;
pub mod execute;
pub mod final_value;
pub mod history;
pub mod install;
pub mod magics;
pub mod prelude;
pub mod records;
pub mod run_cell;
pub mod server;
pub mod sink;
pub mod split;
pub mod startup;
pub mod transport;
pub mod warm;

use clap::Parser;

/// The binary's entry point (after `evcxr::runtime_hook`).
pub fn main_entry() -> anyhow::Result<i32> {
    let cli = cli::Cli::parse();
    // Four workers: a frontend that subscribes to iopub late must still see every status
    // message, and a running cell must never starve the shell loop.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build()?;
    match cli.cmd {
        cli::Cmd::Kernel { connection_file } => {
            rt.block_on(server::serve(connection_file))?;
            Ok(0)
        }
        cli::Cmd::Install { user, sys_prefix, prefix, name } => {
            cli::install(user, sys_prefix, prefix, &name)?;
            Ok(0)
        }
        cli::Cmd::EngineServe => Ok(rt.block_on(warm::serve_spare())),
        cli::Cmd::Magic(argv) => Ok(rt.block_on(cli::run_magic(argv))),
    }
}
