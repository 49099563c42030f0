//! `kelp`: see the library crate. evcxr relaunches this binary as the child process that runs
//! user code and as rustc's wrapper, so its hook must run first, before anything else.

fn main() -> anyhow::Result<()> {
    evcxr::runtime_hook();
    let code = kelp_kernel::main_entry()?;
    std::process::exit(code);
}
