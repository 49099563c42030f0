//! One libp2p node on its own thread and tokio runtime: TCP and QUIC transports, Noise, Yamux
//! (and Mplex on TCP, for peers of js-ipfs's era), Identify, Ping and Bitswap 1.2 (submodule `bitswap`) over kelp's store. The thread owns the
//! swarm and the wantlist; callers talk to it through a [`Node`] handle (commands on a channel,
//! answers on oneshots), so nothing a peer does ever runs on a cell's or the kernel's tasks.
//!
//! A block asked for with [`Node::get`] waits at most its timeout; it fails at once when no
//! peer is connected (after redialling the configured peers), when every connected peer has
//! answered DONT_HAVE, and as soon as the last peer disconnects. Blocks larger than
//! [`MAX_BLOCK`] are refused.
//!
//! With the DHT on (submodule `dht`), a block no connected peer sends soon (or that every one
//! says it lacks) is looked up on Kademlia, the providers found are dialled and get the
//! wantlist; and the roots given to [`Node::provide`] are announced.

// The DHT part of the swarm thread (a child module: it shares [`Run`]).
#[path = "dht.rs"]
mod dht;

use super::bitswap::{self, Inbound};
use super::inbound;
use super::message::Message;
use crate::IpfsError;
use crate::block::MAX_BLOCK;
use crate::store::Store;
use cid::Cid;
use libp2p::futures::StreamExt;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, SwarmBuilder, identify, kad, noise, ping, tcp, yamux};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long [`Node::start`] waits for its listeners and first dials.
const START_WAIT: Duration = Duration::from_secs(10);
/// Connections without traffic are kept this long (peers that fetch in bursts stay connected).
const IDLE: Duration = Duration::from_secs(600);

#[derive(NetworkBehaviour)]
struct Behaviour {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    streams: libp2p_stream::Behaviour,
    bitswap_in: inbound::Behaviour,
    kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
}

/// What a running node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub peer_id: PeerId,
    /// Where it listens, each ending in `/p2p/<peer id>`.
    pub listen: Vec<Multiaddr>,
    pub connected: Vec<PeerId>,
}

enum Cmd {
    Get { cid: Cid, timeout: Duration, reply: oneshot::Sender<Result<Vec<u8>, String>> },
    Dial(Vec<Multiaddr>),
    Info(oneshot::Sender<NodeInfo>),
    Provide(Vec<Cid>),
    Stop,
}

/// A handle on a running node (the thread stops when [`Node::stop`] is called or every
/// handle is dropped).
#[derive(Debug)]
pub struct Node {
    tx: mpsc::UnboundedSender<Cmd>,
    peer_id: PeerId,
    done: std::sync::Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    /// Warnings of the start (peers that could not be dialled), one line each.
    pub start_warnings: Vec<String>,
}

impl Node {
    /// Start a node serving `store`, listening on `listen` and dialling `peers`; returns once
    /// every listener has an address and every dial has connected or failed (at most 10 s).
    pub async fn start(store: Store, listen: Vec<Multiaddr>, peers: Vec<Multiaddr>) -> Result<Node, IpfsError> {
        Node::start_with(store, listen, peers, false).await
    }

    /// [`Node::start`], with a Kademlia DHT client/provider when `dht` (bootstrapped from the
    /// peers that speak `/ipfs/kad/1.0.0`).
    pub async fn start_with(
        store: Store,
        listen: Vec<Multiaddr>,
        peers: Vec<Multiaddr>,
        dht: bool,
    ) -> Result<Node, IpfsError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel::<Result<(PeerId, Vec<String>), IpfsError>>();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        // The swarm is built, and listens, on the node's own runtime: its sockets are driven
        // by that runtime alone, whatever the caller's does.
        std::thread::Builder::new()
            .name("kelp-ipfs-net".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt.block_on(async move {
                        match build_swarm(&listen, dht) {
                            Ok((swarm, incoming)) => {
                                Run::new(swarm, store, peers, listen.len(), dht).run(rx, incoming, ready_tx).await
                            }
                            Err(e) => drop(ready_tx.send(Err(e))),
                        }
                    }),
                    Err(e) => drop(ready_tx.send(Err(IpfsError::io("starting the IPFS network runtime")(e)))),
                }
                let _ = done_tx.send(());
            })
            .map_err(IpfsError::io("starting the IPFS network thread"))?;
        let (peer_id, start_warnings) = ready_rx
            .await
            .map_err(|_| IpfsError::Remote("the IPFS network thread stopped while starting".into()))??;
        Ok(Node { tx, peer_id, done: std::sync::Mutex::new(Some(done_rx)), start_warnings })
    }

    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The node's peer id, listen addresses and connected peers.
    pub async fn info(&self) -> Result<NodeInfo, IpfsError> {
        let (reply, rx) = oneshot::channel();
        self.send(Cmd::Info(reply))?;
        rx.await.map_err(|_| stopped())
    }

    /// Dial more peers (those already connected are skipped).
    pub fn dial(&self, peers: Vec<Multiaddr>) -> Result<(), IpfsError> {
        self.send(Cmd::Dial(peers))
    }

    /// One block from connected peers over Bitswap, waiting at most `timeout`; the error says
    /// why none came (no peer, every peer gone, nobody sent it in time, too large).
    pub async fn get(&self, cid: &Cid, timeout: Duration) -> Result<Vec<u8>, String> {
        let (reply, rx) = oneshot::channel();
        self.send(Cmd::Get { cid: *cid, timeout, reply }).map_err(|e| e.to_string())?;
        rx.await.map_err(|_| stopped().to_string())?
    }

    /// Announce on the DHT that this node provides `roots` (nothing when the DHT is off); they
    /// are announced again once the routing table gains its first peer.
    pub fn provide(&self, roots: Vec<Cid>) -> Result<(), IpfsError> {
        self.send(Cmd::Provide(roots))
    }

    /// Stop the node: connections are closed and the thread ends (waits at most 5 s).
    pub fn stop(&self) {
        let _ = self.tx.send(Cmd::Stop);
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(done) = done {
            let _ = done.recv_timeout(Duration::from_secs(5));
        }
    }

    fn send(&self, cmd: Cmd) -> Result<(), IpfsError> {
        self.tx.send(cmd).map_err(|_| stopped())
    }
}

fn stopped() -> IpfsError {
    IpfsError::Remote("the IPFS network node has stopped: turn it on again with %ipfs config network on".into())
}

fn build_swarm(listen: &[Multiaddr], dht: bool) -> Result<(Swarm<Behaviour>, Incoming), IpfsError> {
    let (bitswap_in, incoming) = inbound::Behaviour::new(bitswap::protocol());
    let err = |what: &str, e: &dyn std::fmt::Display| IpfsError::Remote(format!("cannot start the libp2p {what}: {e}"));
    let swarm = SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, (yamux_config, mplex_config))
        .map_err(|e| err("TCP transport", &e))?
        .with_quic()
        .with_behaviour(|key| Behaviour {
            identify: identify::Behaviour::new(
                identify::Config::new("/ipfs/id/1.0.0".into(), key.public())
                    .with_agent_version(format!("kelp/{}", env!("CARGO_PKG_VERSION"))),
            ),
            ping: ping::Behaviour::default(),
            streams: libp2p_stream::Behaviour::new(),
            bitswap_in,
            kad: Toggle::from(dht.then(|| dht::behaviour(key.public().to_peer_id()))),
        })
        .map_err(|e| err("behaviour", &e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE))
        .build();
    let mut swarm = swarm;
    for a in listen {
        swarm.listen_on(a.clone()).map_err(|e| {
            IpfsError::BadOption(format!("cannot listen on {a}: {e}; use e.g. /ip4/127.0.0.1/tcp/4001 or a free port"))
        })?;
    }
    Ok((swarm, incoming))
}

type Incoming = mpsc::UnboundedReceiver<inbound::NewStream>;

/// Yamux with fixed 256 KiB stream windows. The default (yamux 0.13) grows a stream's window
/// past 1 MiB while refusing any frame over 1 MiB, and js-yamux (Helia) sends a frame as large as
/// the window: a Helia peer sending a 1 MiB block then breaks the connection ("frame body is too
/// large"). Setting the stream limit selects yamux 0.12's fixed windows (same 512 streams).
fn yamux_config() -> yamux::Config {
    let mut c = yamux::Config::default();
    c.set_max_num_streams(512);
    c
}

/// Mplex (`/mplex/6.7.0`), offered after Yamux: the muxer of js-ipfs 0.66 (js-libp2p 0.42), which
/// has no Yamux. Up to 64 frames (mplex frames are at most 1 MiB) wait per stream for kelp to read
/// them; past that the stream is reset, never the whole connection blocked.
fn mplex_config() -> libp2p_mplex::Config {
    let mut c = libp2p_mplex::Config::new();
    c.set_max_num_streams(512).set_max_buffer_size(64);
    c.set_max_buffer_behaviour(libp2p_mplex::MaxBufferBehaviour::ResetStream);
    c
}

struct Pending {
    deadline: Instant,
    timeout: Duration,
    reply: oneshot::Sender<Result<Vec<u8>, String>>,
}

/// Everyone waiting for one block, and the peers that said they do not have it.
#[derive(Default)]
struct Wanted {
    waiters: Vec<Pending>,
    dont_have: HashSet<PeerId>,
    /// The DHT lookup of its providers: started (`Some`), and whether it has finished.
    lookup: Option<bool>,
}

/// The swarm thread's state.
struct Run {
    swarm: Swarm<Behaviour>,
    store: Store,
    control: libp2p_stream::Control,
    inbound: (mpsc::UnboundedSender<Inbound>, mpsc::UnboundedReceiver<Inbound>),
    peers: Vec<Multiaddr>,
    listeners_left: usize,
    dialing: HashMap<ConnectionId, Multiaddr>,
    dial_errors: Vec<String>,
    wanted: HashMap<Cid, Wanted>,
    /// Each connected peer's outbound message queue.
    senders: HashMap<PeerId, mpsc::UnboundedSender<Message>>,
    last_disconnect: Option<String>,
    /// The last peer that sent something malformed (named when a wait then fails).
    last_bad: Option<String>,
    dht: dht::State,
}

impl Run {
    fn new(swarm: Swarm<Behaviour>, store: Store, peers: Vec<Multiaddr>, listeners: usize, dht: bool) -> Run {
        let control = swarm.behaviour().streams.new_control();
        Run {
            swarm,
            store,
            control,
            inbound: mpsc::unbounded_channel(),
            peers,
            listeners_left: listeners,
            dialing: HashMap::new(),
            dial_errors: Vec::new(),
            wanted: HashMap::new(),
            senders: HashMap::new(),
            last_disconnect: None,
            last_bad: None,
            dht: dht::State::new(dht),
        }
    }

    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Cmd>,
        incoming: Incoming,
        ready: oneshot::Sender<Result<(PeerId, Vec<String>), IpfsError>>,
    ) {
        bitswap::accept(incoming, self.inbound.0.clone());
        self.dial(self.peers.clone());
        let start_by = tokio::time::Instant::now() + START_WAIT;
        while (self.listeners_left > 0 || !self.dialing.is_empty()) && tokio::time::Instant::now() < start_by {
            tokio::select! {
                ev = self.swarm.select_next_some() => self.on_event(ev),
                _ = tokio::time::sleep_until(start_by) => break,
            }
        }
        let _ = ready.send(Ok((*self.swarm.local_peer_id(), std::mem::take(&mut self.dial_errors))));
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None | Some(Cmd::Stop) => break,
                    Some(cmd) => self.on_cmd(cmd),
                },
                ev = self.swarm.select_next_some() => self.on_event(ev),
                Some((peer, msg)) = self.inbound.1.recv() => self.on_message(peer, msg),
                _ = tick.tick(), if !self.wanted.is_empty() => self.expire(),
            }
        }
        for (_, w) in self.wanted.drain() {
            for p in w.waiters {
                let _ = p.reply.send(Err("the IPFS network node was stopped".into()));
            }
        }
    }

    /// Queue `msg` for `peer` on its one long-lived outbound stream (a failed send is the
    /// peer's loss: its connection closing fails the waits).
    fn send(&mut self, peer: PeerId, msg: Message) {
        let control = &self.control;
        let tx = self.senders.entry(peer).or_insert_with(|| bitswap::sender(control.clone(), peer));
        if tx.send(msg).is_err() {
            self.senders.remove(&peer);
        }
    }

    fn connected(&self) -> Vec<PeerId> {
        self.swarm.connected_peers().copied().collect()
    }

    /// Fail every waiter of `cid` with `why` and tell the peers it is no longer wanted.
    fn finish(&mut self, cid: &Cid, r: Result<Vec<u8>, String>) {
        let Some(w) = self.wanted.remove(cid) else { return };
        for p in w.waiters {
            let _ = p.reply.send(r.clone());
        }
        for peer in self.connected() {
            self.send(peer, bitswap::wants([*cid], true, false));
        }
    }

    fn on_message(&mut self, peer: PeerId, msg: Result<Message, String>) {
        let msg = match msg {
            Ok(m) => m,
            Err(why) => {
                self.last_bad = Some(format!("peer {peer} sent {why}"));
                return;
            }
        };
        if !msg.wants.is_empty() {
            let store = self.store.clone();
            let control = &self.control;
            let tx = self.senders.entry(peer).or_insert_with(|| bitswap::sender(control.clone(), peer)).clone();
            tokio::spawn(bitswap::serve(store, tx, msg.wants));
        }
        for b in msg.blocks {
            let Some(cid) = b.cid.filter(|c| self.wanted.contains_key(c)) else { continue };
            let r = if b.data.len() > MAX_BLOCK {
                Err(format!(
                    "peer {peer} sent {} bytes for {cid}, over the {} MiB block limit: refused",
                    b.data.len(),
                    MAX_BLOCK >> 20
                ))
            } else {
                Ok(b.data)
            };
            self.finish(&cid, r);
        }
        let connected = self.connected();
        for (cid, has) in msg.presences {
            let Some(w) = self.wanted.get_mut(&cid).filter(|_| !has) else { continue };
            w.dont_have.insert(peer);
            if connected.iter().all(|p| w.dont_have.contains(p)) && self.dht.on {
                if w.lookup.is_none() {
                    self.lookup(cid);
                }
            } else if connected.iter().all(|p| w.dont_have.contains(p)) {
                let n = connected.len();
                self.finish(&cid, Err(format!("every connected peer ({n}) answered that it does not have it")));
            }
        }
    }

    fn dial(&mut self, peers: Vec<Multiaddr>) {
        let connected: HashSet<PeerId> = self.swarm.connected_peers().copied().collect();
        for addr in peers {
            let known = addr.iter().find_map(|p| match p {
                libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                _ => None,
            });
            if known.is_some_and(|id| connected.contains(&id)) || self.dialing.values().any(|a| *a == addr) {
                continue;
            }
            let opts = DialOpts::from(addr.clone());
            let id = opts.connection_id();
            match self.swarm.dial(opts) {
                Ok(()) => {
                    self.dialing.insert(id, addr);
                }
                Err(e) => self.dial_errors.push(format!("warning: cannot dial peer {addr}: {e}")),
            }
        }
    }

    fn on_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Get { cid, timeout, reply } => {
                if self.swarm.connected_peers().next().is_none() {
                    self.dial(self.peers.clone());
                    self.dial_errors.clear();
                }
                if self.swarm.connected_peers().next().is_none() && self.dialing.is_empty() {
                    let why = match &self.last_disconnect {
                        Some(d) => format!("no peer is connected ({d})"),
                        None => {
                            "no peer is connected: name peers with %ipfs config peers MULTIADDR,… or KELP_IPFS_PEERS"
                                .into()
                        }
                    };
                    let _ = reply.send(Err(why));
                    return;
                }
                let first = !self.wanted.contains_key(&cid);
                let w = self.wanted.entry(cid).or_default();
                w.waiters.push(Pending { deadline: Instant::now() + timeout, timeout, reply });
                if first {
                    for peer in self.connected() {
                        self.send(peer, bitswap::wants([cid], false, false));
                    }
                }
            }
            Cmd::Dial(peers) => {
                for p in &peers {
                    if !self.peers.contains(p) {
                        self.peers.push(p.clone());
                    }
                }
                self.dial(peers);
            }
            Cmd::Info(reply) => {
                let me = *self.swarm.local_peer_id();
                let listen =
                    self.swarm.listeners().map(|a| a.clone().with(libp2p::multiaddr::Protocol::P2p(me))).collect();
                let connected = self.swarm.connected_peers().copied().collect();
                let _ = reply.send(NodeInfo { peer_id: me, listen, connected });
            }
            Cmd::Provide(roots) => self.provide(roots),
            Cmd::Stop => {}
        }
    }

    fn on_event(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        match ev {
            SwarmEvent::NewListenAddr { address, .. } => {
                self.listeners_left = self.listeners_left.saturating_sub(1);
                if self.dht.on {
                    // Provider records carry these: peers that find kelp can dial it.
                    self.swarm.add_external_address(address);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })) => {
                self.on_identify(peer_id, info)
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(ev)) => self.on_kad(ev),
            SwarmEvent::ConnectionEstablished { connection_id, peer_id, num_established, .. } => {
                self.dialing.remove(&connection_id);
                // A new peer gets the whole wantlist.
                if num_established.get() == 1 && !self.wanted.is_empty() {
                    let all: Vec<Cid> = self.wanted.keys().copied().collect();
                    self.send(peer_id, bitswap::wants(all, false, true));
                }
            }
            SwarmEvent::OutgoingConnectionError { connection_id, error, .. } => {
                if let Some(addr) = self.dialing.remove(&connection_id) {
                    let line = format!("cannot reach peer {addr}: {}", one_line(&error));
                    self.dial_errors.push(format!("warning: {line}"));
                    self.last_disconnect = Some(line);
                }
                self.fail_if_alone();
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, cause, .. } => {
                self.senders.remove(&peer_id);
                let why = cause.map_or("closed".to_string(), |c| one_line(&c));
                self.last_disconnect = Some(format!("peer {peer_id} disconnected: {why}"));
                self.fail_if_alone();
            }
            _ => {}
        }
    }

    /// With no peer connected and none being dialled, nothing can arrive: fail every wait now.
    fn fail_if_alone(&mut self) {
        if self.swarm.connected_peers().next().is_some() || !self.dialing.is_empty() {
            return;
        }
        let why = self.last_disconnect.clone().unwrap_or_else(|| "every peer disconnected".into());
        for (_, w) in self.wanted.drain() {
            for p in w.waiters {
                let _ = p.reply.send(Err(why.clone()));
            }
        }
    }

    fn expire(&mut self) {
        let now = Instant::now();
        let peers = self.swarm.connected_peers().count();
        let bad = self.last_bad.as_ref().map_or(String::new(), |b| format!("; {b}"));
        let mut done = Vec::new();
        let mut look = Vec::new();
        for (cid, w) in self.wanted.iter_mut() {
            let asked = |p: &Pending| p.deadline.checked_sub(p.timeout).unwrap_or(now);
            if self.dht.on
                && w.lookup.is_none()
                && w.waiters.iter().any(|p| now.duration_since(asked(p)) >= dht::LOOKUP_AFTER)
            {
                look.push(*cid);
            }
            let (gone, keep): (Vec<Pending>, Vec<Pending>) =
                w.waiters.drain(..).partition(|p| p.deadline <= now || p.reply.is_closed());
            w.waiters = keep;
            for p in gone {
                let _ = p.reply.send(Err(format!(
                    "none of {peers} connected peer(s) sent it within {} s{bad}",
                    p.timeout.as_secs_f32()
                )));
            }
            if w.waiters.is_empty() {
                done.push(*cid);
            }
        }
        for cid in done {
            self.finish(&cid, Err(String::new()));
        }
        for cid in look {
            self.lookup(cid);
        }
    }
}

/// An error and its sources on one line.
fn one_line(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s = format!("{s}: {t}");
        }
        src = inner.source();
    }
    s.replace('\n', " ")
}
