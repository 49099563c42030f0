//! The real `kelp` binary over ZeroMQ: replies, iopub sequences, concurrency while a cell
//! runs, signature checking, and recovery from panics and interrupts.

mod common;

use common::*;
use jupyter_zmq_client::{create_client_shell_connection_with_identity, peer_identity_for_session};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn kernel_info_and_magic_cells() {
    let mut k = Kernel::start().await;
    let id = k.send(msg("kernel_info_request", json!({}))).await;
    let r = content(&k.reply(&id).await);
    assert_eq!(r["implementation"], "kelp");
    assert_eq!(r["language_info"]["name"], "rust");
    assert_eq!(r["protocol_version"], "5.3");

    let (reply, io) = k.execute("%lsmagic").await;
    assert_eq!(reply["status"], "ok");
    let types: Vec<&str> = io.iter().map(|m| m.message_type()).collect();
    assert_eq!(types.first(), Some(&"status"));
    assert_eq!(types.get(1), Some(&"execute_input"));
    let data = first_data(&io, "execute_result").expect("execute_result");
    assert!(data["text/plain"].as_str().unwrap().contains("%env"));
    assert!(data["application/json"]["cell"]["file"].is_string());

    // an earlier piece's value is a display, the last one the result
    let (_, io) = k.execute("%env KELP_A=1\n%env KELP_A").await;
    assert_eq!(first_data(&io, "display_data").unwrap()["text/plain"], "env: KELP_A=1");
    assert_eq!(first_data(&io, "execute_result").unwrap()["text/plain"], "1");

    // an unknown magic names the closest one, and the kernel goes on
    let (reply, io) = k.execute("%lsmagc").await;
    assert_eq!(reply["status"], "error");
    assert!(reply["evalue"].as_str().unwrap().contains("did you mean %lsmagic?"), "{reply}");
    assert_eq!(io.iter().filter(|m| m.message_type() == "error").count(), 1);

    // %%file writes relative to the kernel's working directory
    let (reply, _) = k.execute("%%file notes/a.txt\nhello\n").await;
    assert_eq!(reply["status"], "ok");
    assert_eq!(std::fs::read_to_string(k.work_dir().join("notes/a.txt")).unwrap(), "hello\n");
}

#[tokio::test]
async fn bad_signature_is_dropped_and_logged() {
    let mut k = Kernel::start().await;
    let mut forged_info = k.info.clone();
    forged_info.key = "not-the-key".into();
    let forger_session = uuid::Uuid::new_v4().to_string();
    let identity = peer_identity_for_session(&forger_session).unwrap();
    let mut forger =
        create_client_shell_connection_with_identity(&forged_info, &forger_session, identity).await.unwrap();
    let forged = msg("kernel_info_request", json!({}));
    let forged_id = forged.header.msg_id.clone();
    forger.send(forged).await.unwrap();
    // no reply to the forged request…
    assert!(tokio::time::timeout(Duration::from_secs(2), forger.read()).await.is_err());
    // …but the kernel still answers correctly signed ones
    let id = k.send(msg("kernel_info_request", json!({}))).await;
    let r = k.reply(&id).await;
    assert_eq!(content(&r)["status"], "ok");
    assert_ne!(parent_id(&r), forged_id);
    assert!(k.stderr_text().contains("invalid signature"), "stderr: {}", k.stderr_text());
}

#[tokio::test]
async fn shell_answers_while_a_cell_runs_then_panic_recovers() {
    let mut k = Kernel::start().await;
    let exec_id = k.send(execute_request("std::thread::sleep(std::time::Duration::from_secs(4)); 7")).await;
    // wait until the cell is really running (execute_input published)
    loop {
        let m = tokio::time::timeout(T, k.iopub.read()).await.unwrap().unwrap();
        let is_input = parent_id(&m) == exec_id && m.message_type() == "execute_input";
        k.seen.push(m);
        if is_input {
            break;
        }
    }
    let info_id = k.send(msg("kernel_info_request", json!({}))).await;
    let comm_id = uuid::Uuid::new_v4().to_string();
    k.send(msg("comm_open", json!({"comm_id": comm_id, "target_name": "kelp.kernel", "data": {}}))).await;
    let status_id = k.send(msg("comm_msg", json!({"comm_id": comm_id, "data": {"request": "status"}}))).await;
    // the kernel_info reply comes before the execute reply
    let first = tokio::time::timeout(T, k.shell.read()).await.unwrap().unwrap();
    assert_eq!(parent_id(&first), info_id, "kernel_info must be answered while the cell runs");
    let comm_io = k.wait_idle(&status_id).await;
    let answer = comm_io.iter().find(|m| m.message_type() == "comm_msg").expect("comm reply");
    assert_eq!(content(answer)["data"]["execution_state"], "busy");
    let reply = k.reply(&exec_id).await;
    assert_eq!(content(&reply)["status"], "ok");
    let io = k.wait_idle(&exec_id).await;
    assert_eq!(first_data(&io, "execute_result").unwrap()["text/plain"], "7");

    let (reply, io) = k.execute("panic!(\"boom\");").await;
    assert_eq!(reply["status"], "error", "{reply}");
    assert_eq!(io.iter().filter(|m| m.message_type() == "error").count(), 1);
    let (reply, io) = k.execute("1 + 1").await;
    assert_eq!(reply["status"], "ok", "{reply}");
    assert_eq!(first_data(&io, "execute_result").unwrap()["text/plain"], "2");
}

#[tokio::test]
async fn rust_state_output_binding_and_interrupt() {
    let mut k = Kernel::start().await;
    let (reply, io) = k.execute("let x = 40;\nprintln!(\"hello, world\");\nx + 2").await;
    assert_eq!(reply["status"], "ok", "{reply}");
    assert!(stream(&io, "stdout").contains("hello, world"));
    assert_eq!(first_data(&io, "execute_result").unwrap()["text/plain"], "42");

    // a magic's value bound to a Rust variable, used by the next cell
    let (reply, _) = k.execute("%env KELP_WORD=kelp\nlet w = %env KELP_WORD").await;
    assert_eq!(reply["status"], "ok", "{reply}");
    let (_, io) = k.execute("w.len() + x as usize").await;
    assert_eq!(first_data(&io, "execute_result").unwrap()["text/plain"], "44");

    // `{var}` in a magic line is the Display text of a Rust variable; `{{` is a literal brace
    let (reply, io) = k.execute("%env KELP_FROM_RUST={w}-{{x}}\n%env KELP_FROM_RUST").await;
    assert_eq!(reply["status"], "ok", "{reply}");
    assert_eq!(first_data(&io, "execute_result").unwrap()["text/plain"], "kelp-{x}");
    let (reply, _) = k.execute("%env KELP_X={no_such_variable}").await;
    assert_eq!(reply["ename"], "UsageError", "{reply}");
    assert!(reply["evalue"].as_str().unwrap().contains("{no_such_variable}"), "{reply}");

    // display helpers from the prelude
    let (_, io) = k.execute("kelp::display_html(\"<b>hi</b>\");").await;
    assert_eq!(first_data(&io, "display_data").unwrap()["text/html"], "<b>hi</b>");

    // a compile error is one error and the kernel goes on
    let (reply, _) = k.execute("let y: u8 = \"no\";").await;
    assert_eq!(reply["ename"], "CompilationError", "{reply}");

    // interrupt a long cell: an error that says the variables were lost, then the kernel works
    let id = k.send(execute_request("std::thread::sleep(std::time::Duration::from_secs(60));")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    k.control.send(msg("interrupt_request", json!({}))).await.unwrap();
    let reply = content(&k.reply(&id).await);
    k.wait_idle(&id).await;
    assert_eq!(reply["status"], "error");
    assert_eq!(reply["ename"], "Interrupted", "{reply}");
    assert!(reply["evalue"].as_str().unwrap().contains("variables were lost"));
    let (reply, io) = k.execute("3 * 3").await;
    assert_eq!(reply["status"], "ok", "{reply}");
    assert_eq!(first_data(&io, "execute_result").unwrap()["text/plain"], "9");
}

/// `kelp … | head`: a reader that goes away before kelp writes is not a panic (exit 0, no
/// "panicked" on stderr); print! would panic with "failed printing to stdout".
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kelp"))
        .args(["ipfs", "--help"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?} {stderr}", out.status);
}
