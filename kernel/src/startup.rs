//! Where the engine's start-up time goes: evcxr's context, the prelude (made on its own
//! thread, then attached), and the first cells with evcxr's own phases (compile, execution).
//!
//! The kernel's log gets one line when the engine is ready. With `KELP_STARTUP_LOG=FILE` the
//! same figures, and those of the first [`CELLS_LOGGED`] cells, are written to FILE as one JSON
//! object (rewritten as they come; `./install/bench kernel` prints them).

use std::time::{Duration, Instant};

/// The variable naming the file the figures go to.
pub const LOG_VAR: &str = "KELP_STARTUP_LOG";

/// How many cells have their times logged.
pub const CELLS_LOGGED: usize = 2;

/// The figures of one engine start, in seconds.
pub struct Log {
    started: Instant,
    figures: serde_json::Map<String, serde_json::Value>,
    cells: usize,
    file: Option<std::path::PathBuf>,
}

impl Default for Log {
    fn default() -> Self {
        Self::new()
    }
}

impl Log {
    pub fn new() -> Log {
        let file = std::env::var_os(LOG_VAR).filter(|v| !v.is_empty()).map(Into::into);
        Log { started: Instant::now(), figures: serde_json::Map::new(), cells: 0, file }
    }

    /// A step that took `d`.
    pub fn step(&mut self, name: &str, d: Duration) {
        self.figures.insert(name.into(), d.as_secs_f64().into());
    }

    /// A fact about this start (e.g. where rust-analyzer reads std from).
    pub fn fact(&mut self, name: &str, value: &str) {
        self.figures.insert(name.into(), value.into());
    }

    /// evcxr's phases of one execution (e.g. `Final compile`, `Execution`), under `prefix`.
    pub fn phases(&mut self, prefix: &str, out: &evcxr::EvalOutputs) {
        for p in &out.phases {
            let key = format!("{prefix}.{}", p.name.to_lowercase().replace(' ', "_"));
            self.figures.insert(key, p.duration.as_secs_f64().into());
        }
    }

    /// The prelude thread's times (making the folder, building its rlib) and, if it made one,
    /// whether the folder was cached and holds the rlib.
    pub fn prepared(&mut self, prepare: Duration, rlib_build: Option<Duration>, found: Option<(bool, bool)>) {
        self.step("prelude_prepare", prepare);
        if let Some(d) = rlib_build {
            self.step("prelude_rlib_build", d);
        }
        if let Some((cached, prebuilt)) = found {
            self.figures.insert("prelude_cached".into(), cached.into());
            self.figures.insert("prelude_prebuilt".into(), prebuilt.into());
        }
    }

    /// The engine is ready for cells (the prelude may be attached later: [`Log::attached`]).
    pub fn ready(&mut self) {
        self.step("engine_ready", self.started.elapsed());
        let f = |k: &str| self.figures.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
        let prelude = match self.figures.contains_key("prelude_attach") {
            true => format!("prelude attached in {:.2} s", f("prelude_attach")),
            false => "prelude attached when first needed or idle".into(),
        };
        eprintln!(
            "kelp: Rust engine ready in {:.2} s (evcxr {:.2} s, {prelude})",
            f("engine_ready"),
            f("evcxr_context")
        );
        self.write();
    }

    /// The prelude was attached: when (since the start), after how many cells.
    pub fn attached(&mut self) {
        self.step("prelude_attached_at", self.started.elapsed());
        self.figures.insert("prelude_attached_after_cells".into(), self.cells.into());
        self.write();
    }

    /// A warm engine was taken (in `d`) instead of starting one: ready at once.
    pub fn warm(&mut self, d: Duration) {
        self.figures.insert("warm_engine".into(), true.into());
        self.step("warm_engine_take", d);
        self.step("engine_ready", self.started.elapsed());
        eprintln!("kelp: Rust engine ready in {:.3} s (a warm engine, taken over its socket)", d.as_secs_f64());
        self.write();
    }

    /// A cell ran (in `d`, with evcxr's phases when it compiled).
    pub fn cell(&mut self, result: &Result<evcxr::EvalOutputs, evcxr::Error>, d: Duration) {
        self.cells += 1;
        if self.cells > CELLS_LOGGED {
            return;
        }
        let name = format!("cell{}", self.cells);
        self.step(&name, d);
        if let Ok(out) = result {
            self.phases(&name, out);
        }
        self.write();
    }

    fn write(&self) {
        let Some(file) = &self.file else { return };
        let text = serde_json::Value::Object(self.figures.clone()).to_string();
        if let Err(e) = std::fs::write(file, text) {
            eprintln!("kelp: cannot write {LOG_VAR} file {}: {e}", file.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_written_as_one_json_object() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.json");
        let mut log = Log { file: Some(file.clone()), ..Log::new() };
        log.step("evcxr_context", Duration::from_millis(1500));
        log.step("cell1", Duration::from_millis(250));
        log.ready();
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(v["evcxr_context"], 1.5);
        assert_eq!(v["cell1"], 0.25);
        assert!(v["engine_ready"].as_f64().is_some());
    }
}
