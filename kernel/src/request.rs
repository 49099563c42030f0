//! Requests the kernel answers, parsed once from a message's JSON content into typed values, so
//! handlers read fields, not JSON.
//!
//! Parsing is as lenient as the messaging spec's clients are varied: a missing or mistyped field
//! takes the spec's default (`store_history: true`, `hist_access_type: "tail"`, …) instead of
//! failing the whole request, the way the handlers read them before. (jupyter-protocol's own
//! content structs reject some messages real clients send, such as a search `history_request`
//! with `n: null`, so they are not used for parsing.)

use crate::history::{Access, HistoryQuery};
use crate::transport::content_json;
use jupyter_protocol::JupyterMessage;
use serde_json::Value;

/// An `execute_request`'s content.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Execute {
    pub(crate) code: String,
    pub(crate) silent: bool,
    store_history: bool,
    pub(crate) stop_on_error: bool,
    pub(crate) allow_stdin: bool,
}

impl Execute {
    /// A silent cell never stores history (and takes no new execution count).
    pub(crate) fn stores_history(&self) -> bool {
        self.store_history && !self.silent
    }
}

/// Code and a cursor position in Unicode code points (complete, inspect); none means the end.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CodeAt {
    pub(crate) code: String,
    pub(crate) cursor_pos: Option<usize>,
}

/// One request from the shell, control or stdin channel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Request {
    KernelInfo,
    Execute(Execute),
    IsComplete {
        code: String,
    },
    Complete(CodeAt),
    Inspect(CodeAt),
    History(HistoryQuery),
    CommInfo {
        target_name: Option<String>,
    },
    CommOpen {
        comm_id: String,
        target_name: String,
    },
    CommMsg {
        comm_id: String,
        data: Value,
    },
    CommClose {
        comm_id: String,
    },
    Shutdown {
        restart: bool,
    },
    Interrupt,
    Debug,
    InputReply {
        value: String,
    },
    /// A message type the kernel has no handler for.
    Other(String),
}

fn text(c: &Value, key: &str, default: &str) -> String {
    c[key].as_str().unwrap_or(default).to_string()
}

fn flag(c: &Value, key: &str, default: bool) -> bool {
    c[key].as_bool().unwrap_or(default)
}

fn count(c: &Value, key: &str) -> Option<usize> {
    c[key].as_u64().map(|n| n as usize)
}

impl Request {
    /// The request `msg` carries.
    pub(crate) fn parse(msg: &JupyterMessage) -> Request {
        Request::from_content(msg.message_type(), &content_json(msg))
    }

    fn from_content(msg_type: &str, c: &Value) -> Request {
        match msg_type {
            "kernel_info_request" => Request::KernelInfo,
            "execute_request" => Request::Execute(Execute {
                code: text(c, "code", ""),
                silent: flag(c, "silent", false),
                store_history: flag(c, "store_history", true),
                stop_on_error: flag(c, "stop_on_error", true),
                allow_stdin: flag(c, "allow_stdin", false),
            }),
            "is_complete_request" => Request::IsComplete { code: text(c, "code", "") },
            "complete_request" => Request::Complete(code_at(c)),
            "inspect_request" => Request::Inspect(code_at(c)),
            "history_request" => Request::History(history_query(c)),
            "comm_info_request" => Request::CommInfo { target_name: c["target_name"].as_str().map(str::to_string) },
            "comm_open" => {
                Request::CommOpen { comm_id: text(c, "comm_id", ""), target_name: text(c, "target_name", "") }
            }
            "comm_msg" => Request::CommMsg { comm_id: text(c, "comm_id", ""), data: c["data"].clone() },
            "comm_close" => Request::CommClose { comm_id: text(c, "comm_id", "") },
            "shutdown_request" => Request::Shutdown { restart: flag(c, "restart", false) },
            "interrupt_request" => Request::Interrupt,
            "debug_request" => Request::Debug,
            "input_reply" => Request::InputReply { value: text(c, "value", "") },
            other => Request::Other(other.to_string()),
        }
    }
}

fn code_at(c: &Value) -> CodeAt {
    CodeAt { code: text(c, "code", ""), cursor_pos: count(c, "cursor_pos") }
}

fn history_query(c: &Value) -> HistoryQuery {
    let access = match c["hist_access_type"].as_str().unwrap_or("tail") {
        "tail" => Access::Tail { n: count(c, "n") },
        "range" => Access::Range {
            session: c["session"].as_i64().unwrap_or(0),
            start: c["start"].as_i64().unwrap_or(1),
            stop: c["stop"].as_i64(),
        },
        "search" => {
            Access::Search { pattern: text(c, "pattern", "*"), unique: flag(c, "unique", false), n: count(c, "n") }
        }
        _ => Access::Unknown,
    };
    HistoryQuery { output: flag(c, "output", false), access }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn execute_defaults_and_silent_cells() {
        let Request::Execute(e) = Request::from_content("execute_request", &json!({"code": "1"})) else { panic!() };
        assert_eq!((e.code.as_str(), e.silent, e.stop_on_error, e.allow_stdin), ("1", false, true, false));
        assert!(e.stores_history());
        let c = json!({"code": 5, "silent": true, "store_history": true, "allow_stdin": "yes"});
        let Request::Execute(e) = Request::from_content("execute_request", &c) else { panic!() };
        assert_eq!(e.code, "", "a mistyped field takes its default");
        assert!(!e.stores_history() && !e.allow_stdin);
    }

    #[test]
    fn history_requests_as_clients_send_them() {
        // jupyter_client's search request carries n: null.
        let c = json!({"hist_access_type": "search", "pattern": "6*", "n": null, "unique": true, "output": true});
        let want =
            HistoryQuery { output: true, access: Access::Search { pattern: "6*".into(), unique: true, n: None } };
        assert_eq!(Request::from_content("history_request", &c), Request::History(want));
        let want = HistoryQuery { output: false, access: Access::Tail { n: None } };
        assert_eq!(Request::from_content("history_request", &json!({})), Request::History(want));
        let c = json!({"hist_access_type": "range", "session": 1, "start": 2, "stop": 3});
        let want = HistoryQuery { output: false, access: Access::Range { session: 1, start: 2, stop: Some(3) } };
        assert_eq!(Request::from_content("history_request", &c), Request::History(want));
    }

    #[test]
    fn comms_cursor_and_unknown_types() {
        let c = json!({"comm_id": "a", "data": {"request": "status"}});
        assert_eq!(
            Request::from_content("comm_msg", &c),
            Request::CommMsg { comm_id: "a".into(), data: json!({"request": "status"}) }
        );
        assert_eq!(
            Request::from_content("complete_request", &json!({"code": "ab", "cursor_pos": -1})),
            Request::Complete(CodeAt { code: "ab".into(), cursor_pos: None })
        );
        assert_eq!(Request::from_content("comm_info_request", &json!({})), Request::CommInfo { target_name: None });
        assert_eq!(
            Request::from_content("shutdown_request", &json!({"restart": true})),
            Request::Shutdown { restart: true }
        );
        assert_eq!(Request::from_content("usage_request", &json!({})), Request::Other("usage_request".into()));
    }
}
