//! kelp-ipfs: Kubo-identical content addressing with an embedded block store, and the `%ipfs`
//! magic (`kelp ipfs …` from a shell).
//!
//! # Modules
//! - [`importer`]: the UnixFS importer (fixed-size chunker, Kubo's balanced layout, basic and
//!   [`hamt`]-sharded directories, symlinks), streaming in constant memory;
//! - [`pb`]: the DAG-PB and UnixFS protobuf encoding it relies on;
//! - [`store`]: the persistent block store under `$KELP_HOME/ipfs` (atomic writes, pins, gc);
//! - [`api`]: the blocking API other crates call ([`Store::add_path`], [`Store::cat`], …);
//! - [`exporter`]: reading files and directories back, verifying every block's hash;
//! - [`car`]: CAR v1 export and import; [`kubo`]: a Kubo RPC client (`--to kubo[=URL]`);
//! - [`fetch`]: verified retrieval of what the store lacks from trustless HTTP gateways
//!   (IPIP-402): a streamed CAR first, then block by block, every block hashed before it is
//!   stored; [`gateway`]: the store served as a trustless gateway (`kelp ipfs serve --gateway`);
//! - [`net`]: kelp as an IPFS peer (libp2p + Bitswap 1.2; off by default): serves the store and
//!   fetches missing blocks from connected peers (`%ipfs config network on`, `serve --listen`).
//!
//! # Library use (Ocean, C2D, Rust cells)
//! ```no_run
//! use kelp_ipfs::{AddOptions, Store};
//! let store = Store::open(std::path::Path::new("/tmp/kelp-home/ipfs"))?;
//! let added = store.add_path(std::path::Path::new("data.csv"), &AddOptions::default())?;
//! assert!(added.cid.to_string().starts_with("Qm"));
//! let bytes = store.cat(&added.cid)?;
//! store.get(&added.cid, std::path::Path::new("copy.csv"))?;
//! # Ok::<(), kelp_ipfs::IpfsError>(())
//! ```
//! The calls block; async callers wrap them in `tokio::task::spawn_blocking`.
//!
//! **From a Rust cell**: `let cid = %ipfs add data.csv` binds the CID as a `String`; then
//! `:dep kelp-ipfs = { path = "<kelp checkout>/magics/ipfs" }` and
//! `let bytes = kelp_ipfs::read_cid(&cid)?;` reads it from the same store (`$KELP_HOME/ipfs`).
//! Alternatively `let p = %ipfs get CID -o data.bin` binds a `PathBuf` to read with `std::fs`.
//!
//! # Options and profiles
//! [`AddOptions::default()`] is Kubo's `ipfs add`: CIDv0, dag-pb leaves, `size-262144`, 174
//! links, balanced, pinned. `--cid-version 1` implies raw leaves (`--raw-leaves=false` keeps
//! dag-pb leaves). Profiles (IPIP-0499): `unixfs-v0-2015` (= defaults, alias `legacy-cid-v0`) and
//! `unixfs-v1-2025` (CIDv1, raw leaves, 1 MiB chunks, 1024 links, block-size HAMT estimate).
//! Directories become HAMT shards (fanout 256, murmur3-x64-64) when the estimate exceeds
//! 256 KiB (link-based in the legacy profile), as in current Kubo/boxo.
//!
//! # How Kubo-identical is it
//! Tests reproduce, from the same inputs: every column of the public vectors (CIDv0, CIDv1,
//! CIDv1 with dag-pb leaves; files and a directory; `tests/vectors.rs`, 256 MiB in the bench),
//! CIDs from Kubo's own test suite (small files, chunker, `--raw-leaves` with CIDv0, directories
//! in all flavours, HAMT-sharded directories in v0 and v1; `tests/kubo_sharness.rs`,
//! `tests/vectors.rs`), and a real js-ipfs 0.66.1 daemon's answers (`tests/jsipfs.rs`: files,
//! directories, `-w`, the unixfs-v1-2025 profile, a 1001-entry directory).
//!
//! # `%ipfs` results: `application/json` schemas
//! Every subcommand returns `text/plain`, `text/html` (with a gateway link for CIDs) and the
//! JSON below (stable; nbclient/papermill and `kelp ipfs … --json` read it). CIDv1 are base32.
//! Each result is a typed struct (`magic/results.rs`); its JSON Schema, generated from the type,
//! is `docs/schema/results/ipfs.<subcommand>.schema.json` (`ipfs.add`, `ipfs.add.to-pin`,
//! `ipfs.add.to-kubo`, `ipfs.pin.ls`, …).
//!
//! - `add PATH [-r] [--cid-version 0|1] [--raw-leaves[=BOOL]] [--chunker size-N] [--profile P]
//!   [-w] [-H] [--pin[=BOOL]] [--pin-name N] [-n] [--encrypt [--show-key]]
//!   [--to local|kubo[=URL]|pin:NAME]` — value bound by `let x = %ipfs add …`: the root CID as
//!   `String`.
//!   - local: `{"cid", "name", "encrypted", "key"? (only with --show-key), "size" (content
//!     bytes; ciphertext bytes when encrypted), "tsize" (DAG bytes, Kubo's Size),
//!     "blocks", "pinned", "backend": "local", "only_hash", "cid_version", "raw_leaves",
//!     "chunker": "size-N", "max_links", "gateway_url", "entries": [{"path", "cid", "size",
//!     "tsize", "is_dir"}] (root last)}`
//!   - kubo: `{"cid", "name", "size", "backend": "kubo", "url", "local_cid", "matches_local",
//!     "pinned", "gateway_url", "entries": [{"Name", "Hash", "Size"}]}`
//!   - `--to pin:NAME` (local add, then `POST /pins` to that Pinning Service API v1 endpoint):
//!     the local fields with `"backend": "pin"`, plus `"service", "requestid", "status"`
//!   - `--to lighthouse` (Filecoin onramp: Lighthouse's Kubo-style `/api/v0/add`, API key from
//!     `%env KELP_LIGHTHOUSE_TOKEN=…`, URL from `KELP_LIGHTHOUSE_URL`, default the public node):
//!     the kubo fields with `"backend": "lighthouse"`
//! - `cat CID [--offset N] [--length N] [--to …]` → `{"cid", "offset", "length" (bytes in the
//!   requested range, from the file's recorded size), "utf8", "text" (string or null; at most
//!   1 MiB), "truncated"}`; value: the text as `String` when it is UTF-8. Only the shown bytes
//!   are read (from the local store): memory stays bounded whatever size a DAG claims.
//! - `get CID -o PATH [--to …] [--decrypt [--key-env VAR]]` → `{"cid", "path", "kind":
//!   "file"|"directory"|"symlink", "size" (as stored), "decrypted"}`; value: the path as
//!   `PathBuf`.
//! - `ls CID` → `{"cid", "entries": [{"name", "cid", "tsize", "kind", "size"}]}`
//! - `stat CID` → `{"cid", "kind", "size", "block_size", "cumulative_size", "links", "hamt"}`
//! - `pin add CID [--name N] [--to …]` → `{"cid", "pinned", "name"}` (`--to pin:NAME` adds
//!   `"service", "requestid", "status"`); `pin rm CID` → `{"cid", "removed"}`; `pin ls` →
//!   `{"pins": [{"cid", "name", "created", "size", "cumulative_size", "kind"}]}` (sizes in bytes
//!   from the pinned root in the store, `null` when it cannot be read) (`--to kubo`: `[{"cid", "type"}]`; `--to pin:NAME`:
//!   `[{"cid", "name", "status", "requestid", "created"}]`)
//! - `car export CID -o F.car [--commp]` → `{"cid", "path", "blocks", "bytes"}` plus, with
//!   `--commp`, `"piece_cid"` (Filecoin CommP of the CAR, `baga6ea4seaq…`, see [`commp`]) and
//!   `"piece_size"` (padded piece size); `car import F.car
//!   [--pin[=BOOL]]` → `{"path", "roots", "complete_roots", "blocks", "bytes", "pinned"}`
//! - `gc` → `{"removed_blocks", "removed_bytes", "kept_blocks"}`
//! - cat, get, ls, stat and car export first fetch what the store lacks (the whole DAG; for ls
//!   the directory and its entries' root blocks; for stat the root block) from the trustless
//!   gateways of `KELP_IPFS_GATEWAYS` / `%ipfs config gateways URL,…` (default
//!   [`fetch::DEFAULT_GATEWAYS`]), plus any a delegated router of `KELP_IPFS_ROUTERS` names;
//!   `--offline` or `KELP_IPFS_OFFLINE=1` never touches the network
//! - with the network on (`%ipfs config network on`, `KELP_IPFS_NETWORK=1`), those reads ask
//!   the connected Bitswap peers (`%ipfs config peers MULTIADDR,…`, `KELP_IPFS_PEERS`) for each
//!   missing block first, waiting at most `KELP_IPFS_NETWORK_TIMEOUT` s (see [`net`]); with
//!   the DHT on too (`%ipfs config dht on`, `KELP_IPFS_DHT=1`) a block no connected peer has is
//!   looked up on Kademlia and its providers dialled, and `add` / `pin add` announce their roots
//! - `serve --gateway ADDR [--allow-remote]` serves the store (see [`gateway`]) and/or
//!   `serve --listen MULTIADDR [--json]` serves it over Bitswap until interrupted → `{"url"?,
//!   "peer_id"?, "listen"?, "stopped"}`; with `--listen` it first prints the peer id and listen
//!   addresses (one JSON line `{"peer_id", "listen"}` with `--json`)
//! - `config show` / `config set KEY VALUE` (keys `backend` = local|kubo|kubo=URL,
//!   `kubo_url`, `gateway`, `gateways`, `network` = on|off, `peers`, `listen`,
//!   `dht` = on|off, `pin.NAME.endpoint`, `pin.NAME.token`; `config gateways URL[,URL…]|default` = `config set
//!   gateways …`, likewise `config network on|off`, `config peers MULTIADDR,…|none`, `config
//!   listen MULTIADDR,…|default`) → `{"backend", "kubo_url", "gateway", "gateways", "store",
//!   "pin_services": {NAME: {"endpoint", "token": "set"|"unset"}}, "network", "peers", "dht", "node"?:
//!   {"peer_id", "listen", "connected"}}` (`node` when the network is on: it is started then)
//!
//! # Encryption (`add --encrypt`, `get --decrypt`)
//! See [`crypt`]: ChaCha20-Poly1305, streamed in 64 KiB segments; a fresh key per add, kept in
//! `$KELP_HOME/ipfs/keys/<cid>.key` (0600); `--show-key` prints its share string once;
//! elsewhere, `%env K=kelp-key-v1:…` then `get CID -o P --decrypt --key-env K`. A wrong key or
//! altered data fails and leaves no output file.
//!
//! # Remote pinning (`--to pin:NAME`)
//! Credentials come from the session environment (`%env KELP_PIN_<NAME>_ENDPOINT=…`,
//! `KELP_PIN_<NAME>_TOKEN`, NAME upper-cased, `-` → `_`) or the config (file mode 0600); the
//! token travels only in the `Authorization: Bearer` header and is never shown. The service must
//! be able to fetch the content (e.g. also `--to kubo` on a node it can reach, or kelp's own
//! Bitswap peer with `%ipfs config network on` when the service can dial it).
//!
//! Errors are one line (what was wrong, what to do); an interrupted add or get leaves nothing
//! half written (no pin, no partial output; stray blocks are removed by `gc`).
//!
//! # Untrusted DAGs
//! A CAR or a Kubo node may hand over any DAG. Reading one ([`exporter`]) never recurses on the
//! thread's stack and stops with a one-line error past `KELP_IPFS_MAX_DEPTH` levels (default
//! 1024; [`exporter::ReadLimits`]); HAMT shards may nest only as deep as their hash allows;
//! `get` writes only inside `-o`, creating every name exclusively (no symlink is ever followed,
//! duplicate or path-like entry names are refused); `cat` reads only what it shows. The CAR,
//! DAG-PB/UnixFS and HAMT decoders and the exporter are fuzzed (`examples/fuzz.rs`).

pub mod api;
mod block;
pub mod car;
pub mod commp;
pub mod crypt;
mod error;
pub mod exporter;
pub mod fetch;
pub mod gateway;
pub mod hamt;
pub mod importer;
pub mod kubo;
mod limits;
mod magic;
pub mod net;
pub mod options;
pub mod pb;
pub mod pinsvc;
pub mod store;

pub use api::{Added, AddedEntry, cid_of_bytes, cid_of_path};
pub use cid::Cid;
pub use error::{IpfsError, parse_cid};
pub use magic::{IpfsConfig, IpfsMagic};
pub use options::{AddOptions, HamtEstimate};
pub use store::{Pin, Store};

/// The `%ipfs` magic, for the kernel's registry.
pub fn magics() -> Vec<std::sync::Arc<dyn kelp_magic::Magic>> {
    vec![std::sync::Arc::new(IpfsMagic)]
}

/// Read the bytes of a file CID from kelp's store (`$KELP_HOME/ipfs`, the one `%ipfs` uses);
/// every block is verified. For Rust cells: `kelp_ipfs::read_cid(&cid)?`.
///
/// Blocks missing from the store are fetched, verified, from the trustless gateways of
/// `KELP_IPFS_GATEWAYS` (else `%ipfs config gateways`, else [`fetch::DEFAULT_GATEWAYS`]) unless
/// `KELP_IPFS_OFFLINE=1`.
pub fn read_cid(cid: &str) -> Result<Vec<u8>, IpfsError> {
    let config = kelp_magic::Config::from_env();
    let store = Store::open_default(&config)?;
    let cid = parse_cid(cid)?;
    let saved = IpfsConfig::load(&config.dir("ipfs"))?;
    let gateways = fetch::Gateways::from_env(|k| std::env::var(k).ok(), &saved.gateways)?;
    fetch::fetch_blocking(&gateways, &store, &cid, fetch::Scope::All)?;
    store.cat(&cid)
}
