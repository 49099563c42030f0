//! How one Rust piece of a cell is handed to evcxr, on the engine thread: kelp's own cache
//! commands among its leading lines (`:cache`, `:cache N`, `:clear_cache`) are answered by
//! [`crate::dep_cache`] and taken out; its final expression is marked ([`crate::final_value`])
//! so that displays printed while it runs stay displays; after a `:dep` the compile cache is
//! kept within its cap.

use crate::dep_cache::{DepCache, DepCacheError};

/// The session's `:dep` cache from kelp's home and `KELP_DEP_CACHE_MB`, pointed at by evcxr's
/// builds; on a bad value, one line in the kernel's log and no cache.
pub fn setup_cache(ctx: &mut evcxr::CommandContext) -> Option<DepCache> {
    let home = kelp_magic::Config::from_env().home;
    let cap = std::env::var(crate::dep_cache::CAP_VAR).ok();
    let cache =
        DepCache::new(&home, cap.as_deref()).map_err(|e| eprintln!("kelp: {e}; the :dep compile cache is off")).ok()?;
    if let Err(e) = ctx.execute(&cache.setup_commands()) {
        eprintln!("kelp: the :dep compile cache could not be set up: {e}");
    }
    let _ = cache.trim();
    Some(cache)
}

/// Run `code` in evcxr as described in the module docs. The answers to cache commands come
/// first in the result's `text/plain`.
pub fn run(
    ctx: &mut evcxr::CommandContext,
    mut cache: Option<&mut DepCache>,
    code: &str,
    callbacks: &mut evcxr::EvalCallbacks<'_>,
) -> Result<evcxr::EvalOutputs, evcxr::Error> {
    let (code, answers) = match cache.as_deref_mut() {
        Some(c) => take_cache_commands(c, ctx, code).map_err(|e| evcxr::Error::Message(e.to_string()))?,
        None => (code.to_string(), vec![]),
    };
    let code = crate::final_value::mark_final_value(&code).unwrap_or(code);
    let run = if !answers.is_empty() && code.trim().is_empty() {
        Ok(evcxr::EvalOutputs::new())
    } else {
        ctx.execute_with_callbacks(&code, callbacks)
    };
    if let Some(c) = cache.filter(|_| code.contains(":dep")) {
        let _ = c.trim();
    }
    let mut out = run?;
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
    let head = crate::final_value::rust_start(code).unwrap_or(code.len());
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
