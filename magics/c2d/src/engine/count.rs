//! How many jobs this process runs (in any engine), so a short-lived front end can wait for them.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

static LOCAL_JOBS: (Mutex<i64>, Condvar) = (Mutex::new(0), Condvar::new());

pub(super) fn local_jobs_add(n: i64) {
    let mut c = LOCAL_JOBS.0.lock().unwrap_or_else(|e| e.into_inner());
    *c += n;
    LOCAL_JOBS.1.notify_all();
}

/// Jobs run by this process that have not ended (queued or running, in any engine).
pub fn local_jobs() -> usize {
    (*LOCAL_JOBS.0.lock().unwrap_or_else(|e| e.into_inner())).max(0) as usize
}

/// Block until this process's jobs have ended or `timeout` passes; how many are left. A job
/// runs in the process that submitted it and dies with it (then ends as failed), so a
/// short-lived front end (the `kelp c2d start` shell command) calls this before exiting.
pub fn wait_for_local_jobs(timeout: Duration) -> usize {
    let deadline = std::time::Instant::now() + timeout;
    let mut c = LOCAL_JOBS.0.lock().unwrap_or_else(|e| e.into_inner());
    while *c > 0 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        c = LOCAL_JOBS.1.wait_timeout(c, left).unwrap_or_else(|e| e.into_inner()).0;
    }
    (*c).max(0) as usize
}
