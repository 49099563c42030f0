//! `kelp`: see the library crate. evcxr relaunches this binary as the child process that runs
//! user code and as rustc's wrapper, so its hook must run first, before anything else.

fn main() -> anyhow::Result<()> {
    // In the child that runs user code: displays printed by cells are rewritten on the way out.
    kelp_kernel::install_child_filter();
    evcxr::runtime_hook();
    let code = kelp_kernel::main_entry()?;
    std::process::exit(code);
}
