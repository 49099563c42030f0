//! A per-caller request limit, answered as Ocean Node v3.1.0 answers it: past the limit within a
//! minute, 429 with `Content-Type: text/html; charset=utf-8` and the text "Rate limit exceeded.
//! Try again in 60 seconds." (transcripts `rate_limit_req_4`, `rate_limit_other_route`).
//!
//! Windows are fixed minutes per caller IP, starting with the caller's first request. Two
//! differences from Ocean Node, both deliberate: the limit guards only `fileInfo` (the one
//! unsigned route that makes the node fetch), so kelp's own polling of the other routes is never
//! throttled; and the key is the connection's peer address, never `X-Forwarded-For` — kelp's node
//! listens on 127.0.0.1 behind no proxy, so that header would only let a caller pick a fresh key
//! for each request.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Ocean Node's answer past the limit.
pub const LIMITED_BODY: &str = "Rate limit exceeded. Try again in 60 seconds.";

const WINDOW: Duration = Duration::from_secs(60);
/// Callers remembered before stale windows are dropped.
const PRUNE_AT: usize = 4096;

/// Counts requests per caller IP per minute.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimit {
    pub fn new(per_minute: u32) -> Self {
        RateLimit { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Count one request from `ip`; `false` when it is over the limit (answer it [`limited`]).
    pub fn allow(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if w.len() >= PRUNE_AT {
            w.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = w.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= self.per_minute
    }
}

/// The 429 answer.
pub fn limited() -> Response {
    (StatusCode::TOO_MANY_REQUESTS, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], LIMITED_BODY).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fourth_request_in_a_minute_is_refused_per_ip() {
        let rl = RateLimit::new(3);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(rl.allow(a));
        }
        assert!(!rl.allow(a), "the fourth");
        assert!(!rl.allow(a), "still limited on the fifth");
        assert!(rl.allow(b), "another caller has its own window");
        let r = limited();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
    }
}
