//! How one Rust piece of a cell is handed to evcxr, on the engine thread: kelp's own cache
//! commands among its leading lines (`:cache`, `:cache N`, `:clear_cache`) are answered by
//! [`crate::dep_cache`] and taken out; its final expression is marked ([`crate::final_value`])
//! so that displays printed while it runs stay displays, and shown by the cell itself in the same
//! compile ([`Show::Kelp`]) unless the session changed evcxr's value format (`:fmt`, `:types`) or
//! that code does not compile for this value (then the cell runs again, shown by evcxr); after a
//! `:dep` the compile cache is kept within its cap.

use crate::dep_cache::{DepCache, DepCacheError};
use crate::final_value::{SHOW_NAMES, Show, mark_final_value, rust_start};

/// What one engine's cells have set that changes how values are shown, and what its
/// rust-analyzer was not given.
#[derive(Debug, Default)]
pub struct Session {
    /// `:fmt` or `:types` was used: evcxr's own showing follows them, so it shows every value.
    evcxr_formats: bool,
    /// rust-analyzer reads std without `core::arch` ([`crate::std_src`]).
    arch_left_out: bool,
}

/// evcxr's error for a variable whose type rust-analyzer could not tell.
const UNKNOWN_TYPE: &str = "Couldn't automatically determine type of variable";

impl Session {
    pub fn new(arch_left_out: bool) -> Session {
        Session { arch_left_out, ..Session::default() }
    }

    /// evcxr's unknown-type error, with what to do when the cell uses `core::arch`.
    fn explain(&self, code: &str, e: evcxr::Error) -> evcxr::Error {
        let simd = ["arch::", "_mm", "__m"].iter().any(|w| code.contains(w));
        match e {
            evcxr::Error::Message(m) if self.arch_left_out && simd && m.contains(UNKNOWN_TYPE) => {
                evcxr::Error::Message(format!(
                    "{m}\nkelp gives rust-analyzer std without core::arch (the SIMD intrinsics) for a faster start: \
                     write the variable's type (e.g. `let v: __m256 = ...`), or start the kernel with {}=1.",
                    crate::std_src::ARCH_VAR
                ))
            }
            e => e,
        }
    }

    /// Who shows the value of a cell with this code, noting its format commands first.
    fn show_for(&mut self, code: &str) -> Show {
        let head = rust_start(code).unwrap_or(code.len());
        let formats = |l: &str| {
            let l = l.trim_start();
            [":fmt", ":types"].iter().any(|c| l.strip_prefix(c).is_some_and(|r| r.is_empty() || r.starts_with(' ')))
        };
        if code[..head].lines().any(formats) {
            self.evcxr_formats = true;
        }
        if self.evcxr_formats { Show::Evcxr } else { Show::Kelp }
    }
}

/// Whether a compile error came from the code [`Show::Kelp`] added.
fn from_kelp_show(e: &evcxr::Error) -> bool {
    let evcxr::Error::CompilationErrors(errors) = e else { return false };
    // The message, not the rendered text: that quotes the source line, which holds the added
    // names even when the error is in the user's own expression.
    errors.iter().any(|e| e.code() == Some("E0034") || SHOW_NAMES.iter().any(|n| e.message().contains(n)))
}

/// The session's `:dep` cache from kelp's home and `KELP_DEP_CACHE_MB` (evcxr's builds are
/// pointed at it before the first `:dep`, [`DepCache::setup_for`]); on a bad value, one line in
/// the kernel's log and no cache.
pub fn setup_cache() -> Option<DepCache> {
    let home = kelp_magic::Config::from_env().home;
    let cap = std::env::var(crate::dep_cache::CAP_VAR).ok();
    let cache =
        DepCache::new(&home, cap.as_deref()).map_err(|e| eprintln!("kelp: {e}; the :dep compile cache is off")).ok()?;
    let _ = cache.trim();
    Some(cache)
}

/// Run `code` in evcxr as described in the module docs, with kelp's own command lines `first`
/// in front of it (see [`crate::prelude::Pending::attach_if_needed`]). The answers to cache
/// commands come first in the result's `text/plain`.
pub fn run(
    ctx: &mut evcxr::CommandContext,
    session: &mut Session,
    mut cache: Option<&mut DepCache>,
    code: &str,
    first: Option<&str>,
    callbacks: &mut evcxr::EvalCallbacks<'_>,
) -> Result<evcxr::EvalOutputs, evcxr::Error> {
    let (code, answers) = match cache.as_deref_mut() {
        Some(c) => take_cache_commands(c, ctx, code).map_err(|e| evcxr::Error::Message(e.to_string()))?,
        None => (code.to_string(), vec![]),
    };
    if let Some(setup) = cache.as_deref_mut().and_then(|c| c.setup_for(&code))
        && let Err(e) = ctx.execute(&setup)
    {
        eprintln!("kelp: the :dep compile cache could not be set up: {e}");
    }
    let show = session.show_for(&code);
    let code = match first {
        Some(first) => format!("{first}\n{code}"),
        None => code,
    };
    let marked = mark_final_value(&code, show);
    let run = if !answers.is_empty() && code.trim().is_empty() {
        Ok(evcxr::EvalOutputs::new())
    } else {
        match ctx.execute_with_callbacks(marked.as_deref().unwrap_or(&code), callbacks) {
            Err(e) if marked.is_some() && show == Show::Kelp && from_kelp_show(&e) => {
                let plain = mark_final_value(&code, Show::Evcxr).unwrap_or_else(|| code.clone());
                ctx.execute_with_callbacks(&plain, callbacks)
            }
            r => r,
        }
    };
    if let Some(c) = cache.filter(|_| code.contains(":dep")) {
        let _ = c.trim();
    }
    let mut out = run.map_err(|e| session.explain(&code, e))?;
    if !answers.is_empty() {
        let mut text = answers.join("\n");
        if let Some(t) = out.content_by_mime_type.remove("text/plain") {
            text = format!("{text}\n{t}");
        }
        out.content_by_mime_type.insert("text/plain".into(), text);
    }
    Ok(out)
}

/// Take `:cache`/`:clear_cache` lines (among the cell's leading commands) out of `code` and
/// answer them; returns the rest of the code and the answers.
fn take_cache_commands(
    cache: &mut DepCache,
    ctx: &mut evcxr::CommandContext,
    code: &str,
) -> Result<(String, Vec<String>), DepCacheError> {
    let head = rust_start(code).unwrap_or(code.len());
    let (mut rest, mut answers) = (String::new(), vec![]);
    for line in code[..head].split_inclusive('\n') {
        let Some(answer) = cache.command(line) else {
            rest.push_str(line);
            continue;
        };
        let (text, then) = answer?;
        if let Some(Err(e)) = then.map(|c| ctx.execute(&c)) {
            answers.push(format!("evcxr did not take the cache setting: {e}"));
        }
        answers.push(text);
    }
    rest.push_str(&code[head..]);
    Ok((rest, answers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_simd_type_says_what_to_do_only_when_core_arch_was_left_out() {
        let unknown = || evcxr::Error::Message(format!("{UNKNOWN_TYPE} `v`.\nPlease give it an explicit type."));
        let cell = "use std::arch::x86_64::*;\nlet v = unsafe { _mm_set1_epi32(7) };";
        let said = Session::new(true).explain(cell, unknown()).to_string();
        assert!(said.contains("KELP_STD_ARCH=1") && said.contains("let v: __m256"), "{said}");
        for (session, code) in [(Session::new(false), cell), (Session::new(true), "let v = f();")] {
            let said = session.explain(code, unknown()).to_string();
            assert!(!said.contains("KELP_STD_ARCH"), "{said}");
        }
    }

    #[test]
    fn format_commands_hand_showing_to_evcxr_for_the_rest_of_the_session() {
        let mut s = Session::default();
        assert_eq!(s.show_for("1 + 1"), Show::Kelp);
        assert_eq!(s.show_for(":format_is_not_a_command\n1"), Show::Kelp);
        assert_eq!(s.show_for("let fmt = 1;\n// :fmt in a comment is not a command\nfmt"), Show::Kelp);
        assert_eq!(s.show_for(":fmt {:#?}\nvec![1]"), Show::Evcxr);
        assert_eq!(s.show_for("1 + 1"), Show::Evcxr);
        let mut s = Session::default();
        assert_eq!(s.show_for(" :types\n"), Show::Evcxr);
    }
}
