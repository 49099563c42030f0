//! kelp-kernel: the `kelp` binary's library.
//!
//! A thin front end on the magic libraries and the evcxr engine:
//! - [`transport`]: the five ZeroMQ channels (HMAC-signed) and message helpers;
//!   [`request`]: requests parsed into typed values;
//! - [`state`]: what one kernel's tasks share (counters, queue, interrupts, history, comms);
//! - [`server`]: the shell/control/stdin loops, kernel_info, comms, and the clean shutdown;
//! - [`execute`]: running cells (magics and Rust pieces) and replying;
//! - [`engine`]: evcxr on its own thread (or a warm spare); [`engine_io`]: what crosses an
//!   engine's boundary (events, errors, state, input prompts); [`run_cell`]: one Rust piece
//!   handed to evcxr; [`display`]: display blocks in order (the child's stdout filter);
//!   [`final_value`]: marking a cell's value; [`dep_cache`]: the `:dep` compile cache;
//!   [`split`]: cell splitting; [`completeness`]: is_complete; [`assist`]: completion and
//!   inspection;
//! - [`prelude`]: the `kelp::` crate every session gets (cached under `KELP_HOME`); [`cache_dir`]:
//!   the folders made once under `KELP_HOME` and shared by kernels;
//!   [`startup`]: where the engine's start-up time goes; [`std_src`]: std's sources as evcxr's
//!   rust-analyzer reads them (`RUST_SRC_PATH`, set at the start); [`warm`]: spare engines a restarted
//!   or second kernel takes (the pool, its protocol, the kernel side); [`spare`]: the spare's
//!   side (`kelp engine-serve`);
//! - [`install`]: kernelspec; [`cli`]: the command line; [`magics`]: the registry.
//! - [`records`]: provenance records of Rust pieces and the `metadata.kelp` of outputs (issue #14).
//!
//! Only [`main_entry`] and the child's output filter ([`install_child_filter`]) are public: the
//! binary is the interface (tests drive it over ZeroMQ), the modules are the crate's own.

mod assist;
mod cache_dir;
mod cli;
mod comms;
mod completeness;
mod dep_cache;
mod display;
mod engine;
mod engine_io;
mod execute;
mod final_value;
mod history;
mod install;
mod magics;
mod prelude;
mod records;
mod request;
mod run_cell;
mod server;
mod sink;
mod spare;
mod split;
mod startup;
mod state;
mod std_src;
mod sync;
mod transport;
mod warm;

pub use display::install_child_filter;

use clap::Parser;

/// The binary's entry point (after `evcxr::runtime_hook`).
pub fn main_entry() -> anyhow::Result<i32> {
    let cli = cli::Cli::parse();
    // While this is the only thread: std's sources for evcxr's rust-analyzer (std_src).
    if matches!(cli.cmd, cli::Cmd::Kernel { .. } | cli::Cmd::EngineServe)
        && let Some(link) = std_src::link_for_this_kernel(&kelp_magic::Config::from_env().home)
    {
        std_src::set_while_single_threaded(&link);
    }
    // Four workers: a frontend that subscribes to iopub late must still see every status
    // message, and a running cell must never starve the shell loop.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build()?;
    match cli.cmd {
        cli::Cmd::Kernel { connection_file } => {
            let served = rt.block_on(server::serve(connection_file));
            // What still runs (a magic blocked on the network, say) does not hold up the exit:
            // the shutdown already stopped the engine and flushed iopub.
            rt.shutdown_background();
            served?;
            Ok(0)
        }
        cli::Cmd::Install { user, sys_prefix, prefix, name } => {
            cli::install(user, sys_prefix, prefix, &name)?;
            Ok(0)
        }
        cli::Cmd::EngineServe => Ok(rt.block_on(spare::serve_spare())),
        cli::Cmd::Magic(argv) => Ok(rt.block_on(cli::run_magic(argv))),
    }
}
