//! The node's nonces: the last nonce each address used in a signed request (the signature itself
//! is checked with [`kelp_ocean_wire::auth::verify_request`]).

use std::collections::HashMap;
use std::sync::Mutex;

/// The last nonce each address used (in memory: a restarted node accepts any nonce > 0 again,
/// as a fresh Ocean Node does). Keyed by the exact address text a request carries, as Ocean
/// Node keys its store: a lowercase address has its own counter.
#[derive(Debug, Default)]
pub struct Nonces(Mutex<HashMap<String, u64>>);

impl Nonces {
    /// The last nonce used by the address written as `address` (0 if none).
    pub fn current(&self, address: &str) -> u64 {
        *self.lock().get(address).unwrap_or(&0)
    }
    /// Accept `nonce` if it is greater than the stored one, and store it.
    pub fn consume(&self, address: &str, nonce: u64) -> bool {
        let mut m = self.lock();
        let cur = m.entry(address.to_string()).or_insert(0);
        if nonce > *cur {
            *cur = nonce;
            true
        } else {
            false
        }
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_must_increase() {
        let n = Nonces::default();
        let a = "0xAbC";
        assert_eq!(n.current(a), 0);
        assert!(n.consume(a, 1));
        assert!(!n.consume(a, 1));
        assert!(n.consume(a, 5));
        assert_eq!(n.current(a), 5);
        assert_eq!(n.current("0xabc"), 0, "another spelling of the address has its own counter");
    }
}
