//! Locking that survives a panicked holder: the kernel's mutexes guard plain bookkeeping, which
//! stays usable after a task panicked while holding one.

/// Lock `m`, taking the data even if a holder panicked.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
