//! Comm bookkeeping (`comm_open` / `comm_msg` / `comm_close` / `comm_info_request`) and the
//! kernel's own comm target, `kelp.kernel`.
//!
//! `kelp.kernel` answers small JSON requests from a frontend, even while a cell runs:
//! `{"request": "status"}` → `{"execution_state", "execution_count", "engine"}`,
//! `{"request": "lsmagic"}` → the `%lsmagic` JSON. Comms to unknown targets are closed at once,
//! as ipykernel does.

use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(crate) const KERNEL_TARGET: &str = "kelp.kernel";

#[derive(Debug, Default)]
pub(crate) struct Comms {
    open: BTreeMap<String, String>,
}

impl Comms {
    /// Register a comm the frontend opened; false if its target is unknown (close it).
    pub(crate) fn open(&mut self, comm_id: &str, target: &str) -> bool {
        if target != KERNEL_TARGET {
            return false;
        }
        self.open.insert(comm_id.to_string(), target.to_string());
        true
    }

    pub(crate) fn close(&mut self, comm_id: &str) {
        self.open.remove(comm_id);
    }

    pub(crate) fn target_of(&self, comm_id: &str) -> Option<&str> {
        self.open.get(comm_id).map(String::as_str)
    }

    /// `comm_info_reply.comms`, optionally only those of `target`.
    pub(crate) fn info(&self, target: Option<&str>) -> Value {
        let m: serde_json::Map<String, Value> = self
            .open
            .iter()
            .filter(|(_, t)| target.is_none_or(|x| x == t.as_str()))
            .map(|(id, t)| (id.clone(), json!({ "target_name": t })))
            .collect();
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_info_close() {
        let mut c = Comms::default();
        assert!(!c.open("x", "jupyter.widget"));
        assert!(c.open("a", KERNEL_TARGET));
        assert_eq!(c.info(None), json!({"a": {"target_name": KERNEL_TARGET}}));
        assert_eq!(c.info(Some("other")), json!({}));
        c.close("a");
        assert_eq!(c.info(None), json!({}));
    }
}
