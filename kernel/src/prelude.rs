//! The `kelp` prelude crate: the helpers every Rust session has (`kelp::display`,
//! `kelp::input`, …), and how a session gets them.
//!
//! Its source is `kernel/prelude/` (std only). The helpers are a small crate the session
//! depends on (`:dep`), not code in the session: evcxr compiles a dependency once, while items
//! defined in cells are compiled again with every later cell (measured: ~30 ms more per cell).

/// The prelude crate's `src/lib.rs`.
const PRELUDE: &str = include_str!("../prelude/lib.rs");

/// The prelude crate, written to a folder of this process's for the session's `:dep`; removed
/// when the engine ends.
pub struct PreludeCrate(std::path::PathBuf);

impl PreludeCrate {
    pub fn write() -> std::io::Result<PreludeCrate> {
        let tmp = std::env::temp_dir();
        // Folders of kernels that ended without cleaning up (killed): their pid is gone.
        for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let pid = name.to_str().and_then(|n| n.strip_prefix("kelp-prelude-"));
            if pid.is_some_and(|p| !std::path::Path::new("/proc").join(p).exists()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = tmp.join(format!("kelp-prelude-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src"))?;
        let manifest =
            "[package]\nname = \"kelp\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[lib]\npath = \"src/lib.rs\"\n";
        std::fs::write(dir.join("Cargo.toml"), manifest)?;
        std::fs::write(dir.join("src").join("lib.rs"), PRELUDE)?;
        Ok(PreludeCrate(dir))
    }

    /// The `:dep` line (a TOML basic string holds the path).
    pub fn dep_line(&self) -> String {
        let path = self.0.to_string_lossy().replace('\\', "\\\\").replace('"', "\\\"");
        format!(":dep kelp = {{ path = \"{path}\" }}")
    }
}

impl Drop for PreludeCrate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
