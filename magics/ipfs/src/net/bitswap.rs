//! Bitswap 1.2 on libp2p streams: reading messages from peers (inbound streams come from the
//! `inbound` behaviour), answering their wants from kelp's store, and sending kelp's own wants
//! (outbound streams from `libp2p-stream`). Messages are varint-length-prefixed protobufs; kelp
//! writes its messages to a peer on one long-lived outbound stream (as boxo does; a stream per
//! message would pile up on peers that keep inbound streams open), replaced by a new one every
//! [`ROTATE_AFTER`] bytes (Mplex peers reset a stream they have not read enough of); it reads any
//! number per inbound stream, reads at most [`MAX_MESSAGE`] bytes per message, and cuts its
//! answers into messages of at most [`SEND_BATCH`] bytes of blocks (peers refuse over 4 MiB).
//!
//! The node's loop (submodule `node`) keeps the wantlist; the tasks here only move bytes.

use super::message::{MAX_MESSAGE, Message, PROTOCOL, Payload, Want};
use crate::store::Store;
use cid::Cid;
use futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::{PeerId, Stream, StreamProtocol};
use libp2p_stream::Control;
use tokio::sync::mpsc;

/// Blocks per answer message stay under this many bytes (a single larger block goes alone).
pub(crate) const SEND_BATCH: usize = 1 << 20;
/// Bytes written on one outbound stream before kelp closes it and opens the next. Mplex has no
/// flow control and js-mplex (js-ipfs 0.66) resets a stream holding over 4 MiB its reader has not
/// taken yet; a peer that reads slowly then loses every block sent after that. Helia and boxo
/// read each stream to its end, so a closed stream costs them nothing.
pub(crate) const ROTATE_AFTER: usize = 2 << 20;
/// Wants of one message answered at most (Helia and boxo keep 1024 per peer).
const MAX_WANTS: usize = 1024;

/// What a reader task tells the node's loop: a message, or why a peer's stream was dropped.
pub(crate) type Inbound = (PeerId, Result<Message, String>);

pub(crate) fn protocol() -> StreamProtocol {
    StreamProtocol::new(PROTOCOL)
}

/// Read the messages of every inbound Bitswap stream (from [`super::inbound`]) into `tx`, one
/// task per stream (runs until the node stops).
pub(crate) fn accept(
    mut incoming: mpsc::UnboundedReceiver<super::inbound::NewStream>,
    tx: mpsc::UnboundedSender<Inbound>,
) {
    tokio::spawn(async move {
        while let Some((peer, stream)) = incoming.recv().await {
            tokio::spawn(read_messages(peer, stream, tx.clone()));
        }
    });
}

async fn read_messages(peer: PeerId, mut stream: Stream, tx: mpsc::UnboundedSender<Inbound>) {
    loop {
        let len = match read_varint(&mut stream).await {
            Ok(Some(n)) => n,
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send((peer, Err(e)));
                return;
            }
        };
        if len > MAX_MESSAGE as u64 {
            let _ = tx.send((peer, Err(format!("a {len}-byte message, over the {} MiB limit", MAX_MESSAGE >> 20))));
            return;
        }
        let mut buf = vec![0u8; len as usize];
        if let Err(e) = stream.read_exact(&mut buf).await {
            let _ = tx.send((peer, Err(format!("a message cut short ({e})"))));
            return;
        }
        let msg = Message::decode(&buf).map_err(|e| format!("a malformed message ({e})"));
        let bad = msg.is_err();
        if tx.send((peer, msg)).is_err() || bad {
            return;
        }
    }
}

/// A varint length prefix; `None` at a clean end of stream.
async fn read_varint(stream: &mut Stream) -> Result<Option<u64>, String> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let mut b = [0u8; 1];
        match stream.read(&mut b).await {
            Ok(0) if i == 0 => return Ok(None),
            Ok(0) => return Err("a message cut short".into()),
            Ok(_) => {}
            Err(_) if i == 0 => return Ok(None),
            Err(e) => return Err(format!("a message cut short ({e})")),
        }
        v |= u64::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            return Ok(Some(v));
        }
    }
    Err("an overlong length prefix".into())
}

/// A queue of messages to `peer`, written in order on one outbound stream (opened on the first
/// message, reopened once if it breaks, and closed for a new one once [`ROTATE_AFTER`] bytes went
/// through it; the task ends when the queue is dropped or the peer cannot be reached).
pub(crate) fn sender(mut control: Control, peer: PeerId) -> mpsc::UnboundedSender<Message> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        let mut stream: Option<Stream> = None;
        let mut written = 0usize;
        while let Some(msg) = rx.recv().await {
            let frame = msg.frame();
            let mut sent = false;
            for _ in 0..2 {
                if stream.is_none() {
                    stream = control.open_stream(peer, protocol()).await.ok();
                    written = 0;
                }
                let Some(s) = stream.as_mut() else { break };
                if s.write_all(&frame).await.is_ok() && s.flush().await.is_ok() {
                    sent = true;
                    written += frame.len();
                    break;
                }
                stream = None;
            }
            if !sent {
                return;
            }
            if written >= ROTATE_AFTER
                && let Some(mut s) = stream.take()
            {
                let _ = s.close().await;
            }
        }
        if let Some(mut s) = stream {
            let _ = s.close().await;
        }
    });
    tx
}

/// Answer a peer's wants from the store: blocks for want-block, HAVE for want-have, DONT_HAVE
/// when asked for; cancels are dropped (answers go out at once).
pub(crate) async fn serve(store: Store, tx: mpsc::UnboundedSender<Message>, wants: Vec<Want>) {
    let mut msg = Message::default();
    let mut bytes = 0usize;
    for w in wants.into_iter().filter(|w| !w.cancel).take(MAX_WANTS) {
        let (s, cid) = (store.clone(), w.cid);
        let block = tokio::task::spawn_blocking(move || s.get_block(&cid).ok()).await.ok().flatten();
        match block {
            Some(_) if w.have => msg.presences.push((w.cid, true)),
            Some(data) => {
                if bytes > 0 && bytes + data.len() > SEND_BATCH {
                    if tx.send(std::mem::take(&mut msg)).is_err() {
                        return;
                    }
                    bytes = 0;
                }
                bytes += data.len();
                msg.blocks.push(Payload { cid: Some(w.cid), data });
            }
            None if w.send_dont_have => msg.presences.push((w.cid, false)),
            None => {}
        }
    }
    if !msg.is_empty() {
        let _ = tx.send(msg);
    }
}

/// A want-block for each CID (or their cancels), asking for DONT_HAVE answers.
pub(crate) fn wants(cids: impl IntoIterator<Item = Cid>, cancel: bool, full: bool) -> Message {
    let wants = cids.into_iter().map(|cid| Want { cid, cancel, have: false, send_dont_have: !cancel }).collect();
    Message { wants, full, ..Message::default() }
}
