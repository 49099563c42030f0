//! Kernel-side client of kelp's JupyterLab signing relay (`labextension/`, ARCHITECTURE.md Seam 3).
//!
//! A cell that needs a signature asks the person's browser wallet (MetaMask or any EIP-1193
//! wallet) through the relay that the `kelp_labextension` server extension runs inside the Jupyter
//! server. The key never leaves the wallet: the kernel receives only the wallet's answer.
//!
//! This crate owns the kernel face of that relay and nothing else: discovery, the HTTP calls, the
//! wait loop with its live display, cancellation, and the errors. It has no Ethereum types; the
//! `BrowserSigner` of kelp-ocean turns its `0x` strings into typed values.
//!
//! ```no_run
//! # async fn f(ctx: &kelp_magic::MagicContext) -> Result<(), kelp_relay::RelayError> {
//! use kelp_relay::{RelayClient, RequestOptions, Summary};
//! let Some(relay) = RelayClient::discover(&ctx.env)? else { return Ok(()) }; // no relay: another signer
//! let status = relay.status().await?;                                         // 403 → WrongSecret
//! let tx = serde_json::json!({"to": "0x7099…79c8", "value": "0xde0b6b3a7640000"});
//! let summary = Summary::new().network("devnet (chain 8996)").method("transfer").value("1 ETH");
//! let hash = relay.send_transaction(tx, summary, RequestOptions::default().chain(8996), ctx).await?;
//! # let _ = (status, hash); Ok(()) }
//! ```
//!
//! # Finding the relay ([`RelayClient::discover`])
//!
//! 1. `KELP_RELAY_URL` + `KELP_RELAY_SECRET` from the session environment ([`kelp_magic::EnvVars`],
//!    so `%env` can set them); the Jupyter server exports both to the kernels it starts. Only one
//!    of the two set is an error.
//! 2. Else the newest `kelp-relay-<pid>.json` = `{"url": …, "secret": …, "pid": …}` in the Jupyter
//!    runtime directory ([`runtime_dir`], what `jupyter --runtime-dir` prints) whose server
//!    process is still alive (for kernels not started by that server: nbclient, `jupyter console`).
//! 3. Else `None`.
//!
//! # The JSON exchanged (kernel face; paths relative to `KELP_RELAY_URL`)
//!
//! Every call sends the header `X-Kelp-Relay-Secret: <secret>`; the secret is never put in a URL,
//! an error, a log line or `Debug` output. A `403` means a wrong secret ([`RelayError::WrongSecret`]).
//!
//! - `GET /kernel/status` → `{"relay": "kelp", "pending": n, "wallet": null | {"account", "chain_id",
//!   "name", "updated_at"}, "browser": {"watching": n, "last_seen": null | unix}}` ([`RelayStatus`]).
//! - `POST /kernel/requests` with
//!   `{"kind", "params": [...], "summary": {"title", "requester", "step", "network", "from",
//!   "contract", "method", "args", "value", "gas", "detail"}, "chain_id": "0x…"?, "add_chain": {…}?, "expires_in": seconds?}` → `201 {"id", "state":
//!   "pending", "expires_at"}` ([`Kind`] gives `kind`, [`Summary`] the summary, [`RequestOptions`]
//!   the rest). Params per kind: `eth_sendTransaction` `[tx]`; `personal_sign` `["0x<hex>",
//!   "<address>"]`; `eth_signTypedData_v4` `["<address>", <typed data>]`;
//!   `wallet_switchEthereumChain` `[{"chainId": "0x…"}]`; `eth_requestAccounts` `[]`.
//! - `GET /kernel/requests/<id>?wait=25` → `{"id", "state": "pending" | "answered" | "expired" |
//!   "cancelled", "expires_at", "result"? , "error"?: {"code", "message"}}` ([`RequestState`]); a
//!   final state is delivered once (the next read is `404`, [`RelayError::Gone`]).
//! - `DELETE /kernel/requests/<id>` → `200 {"id", "state": "cancelled"}`, `409` when no longer pending.
//!
//! Outcomes of [`RelayClient::request`]: `result` → `Ok(value)`; `error.code == 4001` →
//! [`RelayError::Rejected`] ("rejected in wallet"); another error → [`RelayError::Wallet`];
//! `expired` → [`RelayError::Expired`]; the cancel token fired → the request is deleted (its dialog
//! closes in the browser) and [`RelayError::Cancelled`]. Dropping the waiting future also deletes it.
//!
//! # The waiting display ([`RelayClient::request_in`])
//!
//! While waiting, the cell shows one display (updated in place after each long-poll) whose
//! `application/json` is
//! `{"state": "waiting", "kind": "<EIP-1193 method>", "headline": "<contract · method>",
//! "browser_listening": bool, "sign_url": "<KELP_RELAY_URL>/sign", "expires_in": seconds}`;
//! `text/plain` says "waiting for wallet approval: …" and, when no browser is listening, names the
//! signing page. At the end it becomes `{"state": "approved" | "rejected" | "expired" |
//! "cancelled" | "failed", "kind", "headline"}`.

mod client;
mod discover;
mod error;
mod types;
mod wait;

pub use client::{Created, RelayClient};
pub use discover::{RelaySource, runtime_dir};
pub use error::RelayError;
pub use types::{BrowserPresence, Kind, RelayStatus, RequestOptions, RequestState, Summary, WalletInfo};

/// The header that carries the relay secret (the only place it ever travels).
pub const SECRET_HEADER: &str = "X-Kelp-Relay-Secret";
