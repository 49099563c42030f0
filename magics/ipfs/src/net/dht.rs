//! The node's Kademlia DHT (`/ipfs/kad/1.0.0`, libp2p-kad), when `%ipfs config dht on` or
//! `KELP_IPFS_DHT=1`: a child of the swarm thread (`node`), so it only runs on that thread.
//!
//! - bootstrap: a peer whose Identify lists the Kademlia protocol goes into the routing table
//!   with the addresses it listens on, and the first one starts a bootstrap;
//! - find: a wanted block that every connected peer says it lacks, or that none sent within
//!   [`LOOKUP_AFTER`], has its providers looked up (keyed by the multihash, as Kubo and Helia
//!   do); each provider found is dialled while the lookup still knows its addresses, and a new
//!   connection gets the whole wantlist (Bitswap then fetches, and the fetch verifies);
//! - provide: roots given to `Node::provide` are announced to the closest peers, with the
//!   node's listen addresses as its external addresses; announced again when the routing table
//!   gains its first peer.
//!
//! Every query is bounded by the DHT's query timeout; a wait for a block stays bounded by its
//! own timeout (`KELP_IPFS_NETWORK_TIMEOUT`) whatever the DHT does.

use super::{Behaviour, Run};
use cid::Cid;
use libp2p::kad::{self, GetProvidersOk, QueryResult};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{PeerId, StreamProtocol, identify};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// The IPFS DHT's protocol.
pub(super) const PROTOCOL: StreamProtocol = StreamProtocol::new("/ipfs/kad/1.0.0");
/// How long a wanted block waits for connected peers before its providers are looked up.
pub(super) const LOOKUP_AFTER: Duration = Duration::from_secs(1);
/// The longest a DHT query runs.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// The Kademlia behaviour of a node with the DHT on: server mode (it answers the queries of
/// the peers it is connected to), records in memory.
pub(super) fn behaviour(me: PeerId) -> kad::Behaviour<kad::store::MemoryStore> {
    let mut cfg = kad::Config::new(PROTOCOL);
    cfg.set_query_timeout(QUERY_TIMEOUT);
    let mut k = kad::Behaviour::with_config(me, kad::store::MemoryStore::new(me), cfg);
    k.set_mode(Some(kad::Mode::Server));
    k
}

/// What the swarm thread keeps for the DHT.
#[derive(Default)]
pub(super) struct State {
    pub(super) on: bool,
    /// Provider lookups running, by the CID they are for.
    lookups: HashMap<kad::QueryId, Cid>,
    /// Roots this node provides (announced again on the first routing-table peer).
    provided: HashSet<Cid>,
    bootstrapped: bool,
}

impl State {
    pub(super) fn new(on: bool) -> State {
        State { on, ..State::default() }
    }
}

fn key(cid: &Cid) -> kad::RecordKey {
    kad::RecordKey::new(&cid.hash().to_bytes())
}

impl Run {
    fn kad(&mut self) -> Option<&mut kad::Behaviour<kad::store::MemoryStore>> {
        let b: &mut Behaviour = self.swarm.behaviour_mut();
        b.kad.as_mut()
    }

    /// Look up the providers of `cid` (once per wanted CID).
    pub(super) fn lookup(&mut self, cid: Cid) {
        let Some(w) = self.wanted.get_mut(&cid) else { return };
        w.lookup = Some(false);
        let Some(kad) = self.kad() else { return };
        let id = kad.get_providers(key(&cid));
        self.dht.lookups.insert(id, cid);
    }

    pub(super) fn provide(&mut self, roots: Vec<Cid>) {
        for cid in roots {
            self.dht.provided.insert(cid);
            if let Some(kad) = self.kad() {
                // The local record store is in memory and unbounded for providers we add.
                let _ = kad.start_providing(key(&cid));
            }
        }
    }

    pub(super) fn on_identify(&mut self, peer: PeerId, info: identify::Info) {
        if !self.dht.on || !info.protocols.contains(&PROTOCOL) {
            return;
        }
        let first = !self.dht.bootstrapped;
        self.dht.bootstrapped = true;
        let Some(kad) = self.kad() else { return };
        for a in info.listen_addrs {
            kad.add_address(&peer, a);
        }
        if first {
            let _ = kad.bootstrap();
            let provided: Vec<Cid> = self.dht.provided.iter().copied().collect();
            self.provide(provided);
        }
    }

    pub(super) fn on_kad(&mut self, ev: kad::Event) {
        let kad::Event::OutboundQueryProgressed { id, result: QueryResult::GetProviders(r), step, .. } = ev else {
            return;
        };
        let Some(cid) = self.dht.lookups.get(&id).copied() else { return };
        if let Ok(GetProvidersOk::FoundProviders { providers, .. }) = &r {
            let me = *self.swarm.local_peer_id();
            let connected: HashSet<PeerId> = self.swarm.connected_peers().copied().collect();
            for p in providers.iter().filter(|p| **p != me && !connected.contains(p)) {
                // Dialled now, while the query still holds the addresses the DHT gave.
                let opts = DialOpts::peer_id(*p).build();
                let conn = opts.connection_id();
                if self.swarm.dial(opts).is_ok() {
                    let addr = libp2p::Multiaddr::empty().with(libp2p::multiaddr::Protocol::P2p(*p));
                    self.dialing.insert(conn, addr);
                }
            }
        }
        let done = step.last || !matches!(r, Ok(GetProvidersOk::FoundProviders { .. }));
        if !done {
            return;
        }
        self.dht.lookups.remove(&id);
        if let Some(kad) = self.kad()
            && let Some(mut q) = kad.query_mut(&id)
        {
            q.finish();
        }
        let connected: Vec<PeerId> = self.connected();
        let Some(w) = self.wanted.get_mut(&cid) else { return };
        w.lookup = Some(true);
        let dialing = !self.dialing.is_empty();
        if !dialing && !connected.is_empty() && connected.iter().all(|p| w.dont_have.contains(p)) {
            let n = connected.len();
            self.finish(
                &cid,
                Err(format!(
                    "every connected peer ({n}) answered that it does not have it, and the DHT found no other provider"
                )),
            );
        }
    }
}
