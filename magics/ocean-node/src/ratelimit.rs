//! Per-caller request limits, answered as Ocean Node v3.1.0 answers them: past the limit within
//! a minute, 429 with `Content-Type: text/html; charset=utf-8` and "Rate limit exceeded. Try
//! again in N seconds." (N: what is left of the caller's minute; transcripts `rate_limit_req_4`,
//! `rate_limit_other_route`).
//!
//! Windows are fixed minutes per caller, starting with the caller's first request; refused
//! requests do not count. Two limits:
//! - every route (Ocean Node's `requestValidator`): callers are keyed as Ocean Node keys them, by
//!   the `X-Forwarded-For` text when a request has one, else the peer address
//!   (`rate_limit_x_forwarded_for`); CORS preflights are answered before it and never count.
//!   [`super::fetch::FetchPolicy::requests_per_minute`], `KELP_NODE_RATE_LIMIT` (default 6000:
//!   Ocean Node's default is 30, and kelp's devnet node serves a kernel that polls it);
//! - `fileInfo` (the one unsigned route that makes the node fetch), keyed by the peer address
//!   only, so a made-up header cannot buy a fresh window for fetching:
//!   [`super::fetch::FetchPolicy::file_info_per_minute`].

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Callers remembered before stale windows are dropped.
const PRUNE_AT: usize = 4096;

/// Counts requests per caller per minute.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimit {
    pub fn new(per_minute: u32) -> Self {
        RateLimit { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Count one request from `ip`; `false` when it is over the limit (answer it [`limited`]).
    pub fn allow(&self, ip: IpAddr) -> bool {
        self.check(&ip.to_string()).is_ok()
    }

    /// Count one request from `caller`; past the limit, the seconds left of its minute (a
    /// refused request is not counted).
    pub fn check(&self, caller: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if w.len() >= PRUNE_AT {
            w.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = w.entry(caller.to_string()).or_insert((now, 0));
        let elapsed = now.duration_since(entry.0);
        if elapsed >= WINDOW {
            *entry = (now, 0);
        } else if entry.1 >= self.per_minute {
            return Err((WINDOW - elapsed).as_secs_f64().ceil() as u64);
        }
        entry.1 = entry.1.saturating_add(1);
        Ok(())
    }
}

/// The 429 answer, `wait` seconds before the caller's minute is over.
pub fn limited(wait: u64) -> Response {
    let text = format!("Rate limit exceeded. Try again in {wait} seconds.");
    (StatusCode::TOO_MANY_REQUESTS, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], text).into_response()
}

/// Who a request comes from, as Ocean Node keys its limit: the `X-Forwarded-For` text if the
/// request has one, else the peer's address (empty when unknown).
pub fn caller(headers: &axum::http::HeaderMap, peer: Option<std::net::SocketAddr>) -> String {
    match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(v) => v.to_string(),
        None => peer.map(|p| p.ip().to_string()).unwrap_or_default(),
    }
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
        assert_eq!(rl.check("10.9.8.7"), Ok(()), "a forwarded-for text is a caller of its own");
        let wait = rl.check(&a.to_string()).unwrap_err();
        assert!((59..=60).contains(&wait), "{wait}");
        let r = limited(60);
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let mut h = axum::http::HeaderMap::new();
        let peer: std::net::SocketAddr = "127.0.0.1:5".parse().unwrap();
        assert_eq!(caller(&h, Some(peer)), "127.0.0.1");
        h.insert("x-forwarded-for", "10.9.8.7".parse().unwrap());
        assert_eq!(caller(&h, Some(peer)), "10.9.8.7");
    }
}
