//! The CAR path of a fetch: `GET {gateway}/ipfs/{root}?format=car&dag-scope=…` read as a stream,
//! one section at a time (never the whole body in memory). Each block is hashed against its CID
//! and stored only if the walk wants it (the root, then the links of wanted blocks, as the scope
//! says); once nothing more is wanted the body is dropped. Whatever the CAR lacks is left to the
//! block-by-block walk that follows, so a short, broken or lying CAR costs one warning line.

use super::{FetchEvent, FetchReport, Gateways, Job, MAX_BLOCK, Want, wanted_links};
use crate::block::{SHA2_256, sha256_multihash};
use cid::Cid;
use futures::StreamExt;
use kelp_magic::CancelToken;
use std::collections::HashMap;

/// Bytes of blocks the walk did not ask for that a CAR may carry before it is abandoned.
const MAX_UNWANTED: u64 = 64 << 20;

/// Why a CAR stopped early.
pub(super) enum CarStop {
    /// Interrupted: the whole fetch stops.
    Cancelled,
    /// This gateway lied (bytes that do not match a CID): skip it from now on.
    Liar(String),
    /// Unreachable or silent: skip it from now on (the final error names it).
    Down(String),
    /// It answered without a CAR (e.g. 404): the block path asks it again, block by block.
    Http,
    /// The CAR is malformed or breaks a bound: one warning line, and it is skipped from now on.
    Unusable(String),
}

/// A body read in pieces, with the bytes not yet consumed.
struct Body<S> {
    stream: S,
    buf: Vec<u8>,
    pos: usize,
}

impl<B: AsRef<[u8]>, S: futures::Stream<Item = reqwest::Result<B>> + Unpin> Body<S> {
    /// Make `n` bytes available; `false` at a clean end of the body.
    async fn need(&mut self, n: usize, gw: &Gateways, cancel: &CancelToken) -> Result<bool, CarStop> {
        while self.buf.len() - self.pos < n {
            let next = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(CarStop::Cancelled),
                n = tokio::time::timeout(gw.timeout, self.stream.next()) => n,
            };
            match next {
                Err(_) => return Err(CarStop::Down(format!("no data within {} s", gw.timeout.as_secs_f32()))),
                Ok(None) => return Ok(false),
                Ok(Some(Err(e))) => return Err(CarStop::Down(super::short_error(&e, gw.timeout))),
                Ok(Some(Ok(chunk))) => {
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                    self.buf.extend_from_slice(chunk.as_ref());
                }
            }
        }
        Ok(true)
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        s
    }

    /// An unsigned varint; `None` at a clean end of the body.
    async fn uvarint(&mut self, gw: &Gateways, cancel: &CancelToken) -> Result<Option<u64>, CarStop> {
        let mut v = 0u64;
        for i in 0..10 {
            if !self.need(1, gw, cancel).await? {
                return if i == 0 { Ok(None) } else { Err(malformed("the body ends inside a length")) };
            }
            let b = self.take(1)[0];
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(Some(v));
            }
        }
        Err(malformed("a length runs past 10 bytes"))
    }

    async fn exact(&mut self, n: usize, gw: &Gateways, cancel: &CancelToken) -> Result<Vec<u8>, CarStop> {
        if !self.need(n, gw, cancel).await? {
            return Err(malformed("the body ends inside a section"));
        }
        Ok(self.take(n).to_vec())
    }
}

fn malformed(why: impl std::fmt::Display) -> CarStop {
    CarStop::Unusable(format!("malformed CAR: {why}"))
}

/// Read the CAR of `root` from gateway `gw_url`, storing every wanted, verified block.
pub(super) async fn fetch_car(
    gw: &Gateways,
    gw_url: &str,
    job: &Job<'_>,
    on: &mut (dyn FnMut(FetchEvent) + Send),
    report: &mut FetchReport,
) -> Result<(), CarStop> {
    let (store, root, scope, cancel) = (job.store, job.root, job.scope, job.cancel);
    let url = format!("{gw_url}/ipfs/{root}?format=car&{}", scope.query());
    let send = gw
        .client
        .get(&url)
        .header(reqwest::header::ACCEPT, "application/vnd.ipld.car; version=1; order=dfs; dups=n")
        .send();
    let resp = tokio::select! {
        biased;
        _ = cancel.cancelled() => return Err(CarStop::Cancelled),
        r = tokio::time::timeout(gw.timeout, send) => r,
    };
    let resp = match resp {
        Err(_) => return Err(CarStop::Down(format!("no answer within {} s", gw.timeout.as_secs_f32()))),
        Ok(Err(e)) => return Err(CarStop::Down(super::short_error(&e, gw.timeout))),
        Ok(Ok(r)) => r,
    };
    if !resp.status().is_success() {
        return Err(CarStop::Http);
    }
    let mut body = Body { stream: resp.bytes_stream(), buf: Vec::new(), pos: 0 };
    let hlen = body.uvarint(gw, cancel).await?.ok_or_else(|| malformed("empty body"))?;
    if hlen == 0 || hlen > 1 << 20 {
        return Err(malformed(format!("header of {hlen} bytes")));
    }
    let header = body.exact(hlen as usize, gw, cancel).await?;
    crate::car::parse_header(&header).map_err(|e| CarStop::Unusable(e.to_string()))?;
    // Wanted blocks by multihash: what is wanted of each (a block may sit at several places).
    let mut wanted: HashMap<Vec<u8>, Vec<Want>> = HashMap::from([(root.hash().to_bytes(), vec![Want::ROOT])]);
    let mut unwanted = 0u64;
    while !wanted.is_empty() {
        let Some(len) = body.uvarint(gw, cancel).await? else { break };
        if len == 0 || len > (MAX_BLOCK + 128) as u64 {
            return Err(CarStop::Unusable(format!(
                "a CAR section of {len} bytes: blocks of more than {} MiB are refused",
                MAX_BLOCK >> 20
            )));
        }
        let section = body.exact(len as usize, gw, cancel).await?;
        let n = crate::car::cid_len(&section).map_err(|e| CarStop::Unusable(e.to_string()))?;
        let cid = Cid::try_from(&section[..n]).map_err(|e| malformed(format!("bad CID: {e}")))?;
        let block = &section[n..];
        let Some(wants) = wanted.remove(&cid.hash().to_bytes()) else {
            unwanted += len;
            if unwanted > MAX_UNWANTED {
                return Err(CarStop::Unusable(format!("over {} MiB of blocks outside the DAG", MAX_UNWANTED >> 20)));
            }
            continue;
        };
        if cid.hash().code() != SHA2_256 || sha256_multihash(block) != *cid.hash() {
            return Err(CarStop::Liar(format!("its CAR holds bytes for {cid} that do not match the CID")));
        }
        if !store.has(&cid) {
            store.put(&cid, block).map_err(|e| CarStop::Unusable(e.to_string()))?;
            report.fetched_blocks += 1;
            report.fetched_bytes += block.len() as u64;
            on(FetchEvent::Block(block.len() as u64));
        }
        for want in wants {
            let links = wanted_links(&cid, block, scope, want).map_err(|e| CarStop::Unusable(e.to_string()))?;
            for (c, w) in links {
                let e = wanted.entry(c.hash().to_bytes()).or_default();
                if !e.contains(&w) {
                    e.push(w);
                }
            }
        }
    }
    Ok(())
}

/// The warning line a stopped CAR is worth, if any.
pub(super) fn warning(gw_url: &str, root: &Cid, stop: &CarStop) -> Option<String> {
    match stop {
        CarStop::Liar(why) => {
            Some(format!("warning: gateway {gw_url} lied about {root} ({why}): skipping that gateway"))
        }
        CarStop::Unusable(why) => {
            Some(format!("warning: gateway {gw_url} sent no usable CAR of {root} ({why}): skipping that gateway"))
        }
        CarStop::Cancelled | CarStop::Down(_) | CarStop::Http => None,
    }
}
