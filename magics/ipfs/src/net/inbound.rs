//! Inbound Bitswap streams, every one of them. Peers of the js-ipfs and go-bitswap lineage open a
//! new stream for each message and often several at once; `libp2p-stream`'s acceptor holds one
//! stream at a time and drops (resets) the others that a connection negotiates in the same poll,
//! losing their blocks and wants. This behaviour owns the inbound side of the Bitswap protocol
//! instead: each negotiated stream goes, with its peer, into an unbounded channel that the node
//! drains (kelp's outbound streams still go through `libp2p-stream`'s `Control`). How many streams
//! a peer may have open is bounded by the muxer (512 per connection).

use libp2p::core::transport::PortUse;
use libp2p::core::upgrade::{DeniedUpgrade, ReadyUpgrade};
use libp2p::core::{Endpoint, Multiaddr};
use libp2p::swarm::handler::{ConnectionEvent, FullyNegotiatedInbound};
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm, NetworkBehaviour,
    SubstreamProtocol, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{PeerId, Stream, StreamProtocol};
use std::convert::Infallible;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// A negotiated inbound stream of the protocol, and who opened it.
pub(crate) type NewStream = (PeerId, Stream);

/// Accepts every inbound stream of one protocol on every connection.
pub(crate) struct Behaviour {
    protocol: StreamProtocol,
    tx: mpsc::UnboundedSender<NewStream>,
}

impl Behaviour {
    pub(crate) fn new(protocol: StreamProtocol) -> (Behaviour, mpsc::UnboundedReceiver<NewStream>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Behaviour { protocol, tx }, rx)
    }

    fn handler(&self, peer: PeerId) -> Handler {
        Handler { peer, protocol: self.protocol.clone(), tx: self.tx.clone() }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = Handler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(peer))
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(peer))
    }

    fn on_swarm_event(&mut self, _: FromSwarm) {}

    fn on_connection_handler_event(&mut self, _: PeerId, _: ConnectionId, event: THandlerOutEvent<Self>) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

/// One connection's side: offers the protocol, hands each negotiated stream over, opens none.
pub(crate) struct Handler {
    peer: PeerId,
    protocol: StreamProtocol,
    tx: mpsc::UnboundedSender<NewStream>,
}

impl ConnectionHandler for Handler {
    type FromBehaviour = Infallible;
    type ToBehaviour = Infallible;
    type InboundProtocol = ReadyUpgrade<StreamProtocol>;
    type OutboundProtocol = DeniedUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol, Self::InboundOpenInfo> {
        SubstreamProtocol::new(ReadyUpgrade::new(self.protocol.clone()), ())
    }

    fn poll(
        &mut self,
        _: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, Self::OutboundOpenInfo, Self::ToBehaviour>> {
        Poll::Pending
    }

    fn on_behaviour_event(&mut self, event: Self::FromBehaviour) {
        match event {}
    }

    fn on_connection_event(&mut self, event: ConnectionEvent<Self::InboundProtocol, Self::OutboundProtocol>) {
        if let ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound { protocol: stream, .. }) = event {
            // The node gone: the stream is dropped (reset), as any stream of a stopping node.
            let _ = self.tx.send((self.peer, stream));
        }
    }
}
