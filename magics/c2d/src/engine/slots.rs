//! The engine's run slots: how many jobs run at once, and the line of jobs waiting for one. A
//! job takes a free slot only when it is first in line, so jobs start in the order they were
//! launched (a later job never overtakes an earlier one).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

#[derive(Default)]
struct State {
    running: usize,
    waiting: VecDeque<String>,
}

/// Slots shared by the engine's runner threads.
#[derive(Default)]
pub(super) struct Slots {
    state: Mutex<State>,
    changed: Condvar,
}

impl Slots {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Jobs running now.
    pub(super) fn running(&self) -> usize {
        self.lock().running
    }

    /// Put a job at the end of the line (on the launching thread, so the line is launch order).
    pub(super) fn enqueue(&self, id: &str) {
        self.lock().waiting.push_back(id.to_string());
    }

    /// Take a job out of the line without running it.
    pub(super) fn dequeue(&self, id: &str) {
        self.lock().waiting.retain(|w| w != id);
        self.changed.notify_all();
    }

    /// Wait until `id` is first in line and fewer than `max` jobs run (or `stopped()`), then
    /// take a slot.
    pub(super) fn take(&self, id: &str, max: usize, stopped: &dyn Fn() -> bool) {
        let mut s = self.lock();
        while (s.running >= max || s.waiting.front().is_some_and(|w| w != id)) && !stopped() {
            s = self.changed.wait_timeout(s, Duration::from_millis(200)).unwrap_or_else(|e| e.into_inner()).0;
        }
        s.waiting.retain(|w| w != id);
        s.running += 1;
        drop(s);
        self.changed.notify_all();
    }

    /// Give a slot back.
    pub(super) fn release(&self) {
        let mut s = self.lock();
        s.running = s.running.saturating_sub(1);
        drop(s);
        self.changed.notify_all();
    }

    /// Wake the waiters (a stop was asked).
    pub(super) fn wake(&self) {
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_later_job_never_overtakes_an_earlier_one() {
        let slots = Arc::new(Slots::default());
        slots.enqueue("a");
        slots.enqueue("b");
        let order = Arc::new(Mutex::new(vec![]));
        // "b" asks first, but "a" is first in line: "b" must wait until "a" has its slot.
        let b = {
            let (slots, order) = (slots.clone(), order.clone());
            std::thread::spawn(move || {
                slots.take("b", 1, &|| false);
                order.lock().unwrap().push("b");
                slots.release();
            })
        };
        std::thread::yield_now();
        slots.take("a", 1, &|| false);
        order.lock().unwrap().push("a");
        slots.release();
        b.join().unwrap();
        assert_eq!(*order.lock().unwrap(), ["a", "b"]);
        assert_eq!(slots.running(), 0);
    }

    #[test]
    fn a_stopped_job_leaves_the_line() {
        let slots = Slots::default();
        slots.enqueue("a");
        slots.enqueue("b");
        slots.take("b", 1, &|| true);
        slots.release();
        slots.take("a", 1, &|| false);
        assert_eq!(slots.running(), 1);
    }
}
