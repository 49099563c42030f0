//! Where the Helia test scripts (tests/helia/*.mjs) run: a temporary directory holding a copy of
//! each next to a link to the npm packages install/setup.d/30-ipfs.sh puts in
//! install/.tools/helia (ES modules resolve `node_modules` from the script's own directory).

use std::path::{Path, PathBuf};

/// The Helia packages: `KELP_HELIA_MODULES`, else install/.tools/helia/node_modules.
pub fn modules() -> PathBuf {
    std::env::var_os("KELP_HELIA_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../install/.tools/helia/node_modules"))
}

/// A fresh directory with every tests/helia script and `node_modules`.
pub fn script_dir() -> tempfile::TempDir {
    let m = modules();
    assert!(m.join("helia").is_dir(), "Helia is not installed at {}: run ./install/setup", m.display());
    let d = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&m, d.path().join("node_modules")).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helia");
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "mjs") {
            std::fs::copy(&p, d.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    d
}

/// Start `node SCRIPT` with `env` in a fresh [`script_dir`]; its first stdout line, as JSON, is
/// what the script says it serves. The directory must outlive the process.
pub fn start(script: &str, env: &[(&str, &str)]) -> (std::process::Child, serde_json::Value, tempfile::TempDir) {
    use std::io::BufRead;
    let dir = script_dir();
    let mut cmd = std::process::Command::new("node");
    cmd.arg(script).current_dir(dir.path()).stdout(std::process::Stdio::piped());
    cmd.stderr(std::process::Stdio::inherit()).envs(env.iter().copied());
    let mut child = cmd.spawn().expect("node runs");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{script} said {line:?}: {e}"));
    (child, info, dir)
}
