//! The serving side of warm engines ([`crate::warm`] owns the pool, its key and protocol, and
//! the kernel side): starting a spare once this kernel's engine is ready and idle
//! ([`keep_one_ready`]), and `kelp engine-serve` ([`serve_spare`]), the spare process that makes
//! a local [`Engine`] (prelude attached), offers it on the pool's socket and serves the one
//! kernel that takes it until that kernel's connection closes.

use crate::engine::Engine;
use crate::engine_io::{EngineState, ExecIo, InputAsk};
use crate::warm::{FromEngine, IDLE_VAR, ToEngine, enabled, lock_held, place, session_env, write_line};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long this kernel's engine must have been ready and idle before its spare starts: making
/// a spare takes seconds of CPU, which a kernel's first cells, sent as soon as it is ready,
/// should not share.
const SPARE_AFTER_IDLE: Duration = Duration::from_secs(2);

/// Once `engine` is ready and has been idle for [`SPARE_AFTER_IDLE`], start a spare for this
/// kernel's key unless one is there.
pub fn keep_one_ready(engine: Engine) {
    if !enabled() {
        return;
    }
    std::thread::spawn(move || {
        let tick = Duration::from_millis(100);
        let mut idle = Duration::ZERO;
        while idle < SPARE_AFTER_IDLE {
            std::thread::sleep(tick);
            match engine.state() {
                EngineState::Starting => {}
                EngineState::Ready if !engine.is_executing() => idle += tick,
                EngineState::Ready => idle = Duration::ZERO,
                EngineState::Failed(_) => return,
            }
        }
        if let Err(e) = spawn_spare() {
            eprintln!("kelp: no warm engine for the next kernel: {e}");
        }
    });
}

fn spawn_spare() -> Result<(), String> {
    let (dir, key) = place()?;
    if lock_held(&dir.join(format!("{key}.lock"))) {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{key}.log")))
        .map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("engine-serve").env_clear().envs(session_env());
    cmd.stdin(std::process::Stdio::null()).stdout(log.try_clone().map_err(|e| e.to_string())?).stderr(log);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().map_err(|e| format!("cannot start kelp engine-serve: {e}"))?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// `kelp engine-serve`: make an engine, offer it on the socket, serve the one kernel that takes
/// it. Returns the exit code.
pub async fn serve_spare() -> i32 {
    let (dir, key) = match place() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("kelp engine-serve: {e}");
            return 1;
        }
    };
    let lock = dir.join(format!("{key}.lock"));
    let mine = std::process::id().to_string();
    if lock_held(&lock) {
        return 0;
    }
    let _ = std::fs::remove_file(&lock);
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&lock) {
        Ok(mut f) => {
            let _ = f.write_all(mine.as_bytes());
        }
        Err(_) => return 0, // another spare took the lock first
    }
    let sock = dir.join(format!("{key}.sock"));
    let ours = |p: &Path| std::fs::read_to_string(p).is_ok_and(|s| s == mine);
    let cleanup = |listening: bool| {
        if listening {
            let _ = std::fs::remove_file(&sock);
        }
        if ours(&lock) {
            let _ = std::fs::remove_file(&lock);
        }
    };
    let engine = Engine::start_local(true);
    while engine.state() == EngineState::Starting {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if let EngineState::Failed(e) = engine.state() {
        eprintln!("kelp engine-serve: {e}");
        cleanup(false);
        return 1;
    }
    let tmp = dir.join(format!(".{key}.{mine}.sock"));
    let _ = std::fs::remove_file(&tmp);
    let listener = match UnixListener::bind(&tmp) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kelp engine-serve: cannot listen on {}: {e}", tmp.display());
            cleanup(false);
            return 1;
        }
    };
    let offered = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
        .and_then(|_| std::fs::rename(&tmp, &sock))
        .and_then(|_| listener.set_nonblocking(true));
    if let Err(e) = offered {
        eprintln!("kelp engine-serve: cannot offer {}: {e}", sock.display());
        let _ = std::fs::remove_file(&tmp);
        cleanup(false);
        return 1;
    }
    let idle = std::env::var(IDLE_VAR).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(600u64);
    let since = Instant::now();
    let stream = loop {
        match listener.accept() {
            Ok((s, _)) => match welcome(s, &key) {
                Some(s) => break s,
                None => continue,
            },
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => {
                eprintln!("kelp engine-serve: {e}");
                cleanup(true);
                return 1;
            }
        }
        if since.elapsed() > Duration::from_secs(idle) || !sock.exists() {
            cleanup(true);
            return 0;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Taken: no longer offered, and the next spare may start.
    cleanup(true);
    serve_kernel(engine, stream).await;
    0
}

/// Check a new connection's hello; the stream (blocking) if it is for this key.
fn welcome(s: UnixStream, key: &str) -> Option<UnixStream> {
    s.set_nonblocking(false).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut line = String::new();
    BufReader::new(s.try_clone().ok()?).read_line(&mut line).ok()?;
    match serde_json::from_str(&line) {
        Ok(ToEngine::Hello { key: k }) if k == key => {}
        _ => return None,
    }
    s.set_read_timeout(None).ok()?;
    let w = Mutex::new(s.try_clone().ok()?);
    write_line(&w, &FromEngine::Welcome).then_some(s)
}

/// Serve one kernel until its connection closes.
async fn serve_kernel(engine: Engine, stream: UnixStream) {
    let writer = Arc::new(Mutex::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    }));
    let answers: Arc<Mutex<HashMap<u64, std::sync::mpsc::Sender<String>>>> = Arc::default();
    let (lines_tx, mut lines) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(msg) = line.map_err(|_| ()).and_then(|l| serde_json::from_str::<ToEngine>(&l).map_err(|_| ()))
            else {
                break;
            };
            if lines_tx.send(msg).is_err() {
                break;
            }
        }
    });
    while let Some(msg) = lines.recv().await {
        let (engine, w) = (engine.clone(), writer.clone());
        match msg {
            ToEngine::Execute { id, code, input } => {
                let answers = answers.clone();
                tokio::spawn(async move { execute(engine, w, answers, id, code, input).await });
            }
            ToEngine::Complete { id, code, pos } => {
                tokio::spawn(async move {
                    let result = engine.complete(code, pos).await;
                    write_line(&w, &FromEngine::Completed { id, result });
                });
            }
            ToEngine::Hover { id, code, pos } => {
                tokio::spawn(async move {
                    let result = engine.hover(code, pos).await;
                    write_line(&w, &FromEngine::Hovered { id, result });
                });
            }
            ToEngine::Interrupt => {
                engine.interrupt();
            }
            ToEngine::Answer { id, text } => {
                if let Some(tx) = crate::sync::lock(&answers).remove(&id) {
                    let _ = tx.send(text);
                }
            }
            ToEngine::Hello { .. } => {}
        }
    }
}

async fn execute(
    engine: Engine,
    w: Arc<Mutex<UnixStream>>,
    answers: Arc<Mutex<HashMap<u64, std::sync::mpsc::Sender<String>>>>,
    id: u64,
    code: String,
    input: bool,
) {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let (input_tx, mut asks) = mpsc::unbounded_channel::<InputAsk>();
    let io = ExecIo { events: events_tx, input: input.then_some(input_tx) };
    let mut run = std::pin::pin!(engine.execute(code, io));
    let result = loop {
        tokio::select! {
            biased;
            Some(event) = events.recv() => { write_line(&w, &FromEngine::Event { id, event }); }
            Some(ask) = asks.recv() => {
                crate::sync::lock(&answers).insert(id, ask.answer);
                write_line(&w, &FromEngine::Ask { id, prompt: ask.prompt, password: ask.password });
            }
            result = &mut run => break result,
        }
    };
    while let Ok(event) = events.try_recv() {
        write_line(&w, &FromEngine::Event { id, event });
    }
    write_line(&w, &FromEngine::Executed { id, result });
}
