//! The live "waiting for wallet approval" display of a cell while the wallet is asked.
//!
//! Shown at once (a person is being asked, so even a short wait deserves a line), refreshed after
//! each long-poll with the time left, and replaced by the outcome at the end. When no browser is
//! listening it names the standalone signing page, for VS Code and headless runs.

use crate::RelayError;
use crate::error::fmt_secs;
use crate::types::{Kind, Summary};
use kelp_magic::{MagicContext, Output, html_escape};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct WaitDisplay {
    ctx: MagicContext,
    id: String,
    kind: Kind,
    headline: String,
    sign_url: String,
    listening: bool,
    started: Instant,
    expiry: f64,
}

impl WaitDisplay {
    pub(crate) fn show(
        ctx: &MagicContext,
        kind: Kind,
        summary: &Summary,
        sign_url: &str,
        listening: bool,
        expiry: f64,
    ) -> Self {
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let d = WaitDisplay {
            ctx: ctx.clone(),
            id: format!("kelp-relay-wait-{}-{n}", std::process::id()),
            kind,
            headline: summary.headline(kind),
            sign_url: sign_url.to_string(),
            listening,
            started: Instant::now(),
            expiry,
        };
        d.ctx.sink.display(&d.render(), Some(&d.id));
        d
    }

    pub(crate) fn update(&mut self, listening: bool) {
        self.listening = listening;
        self.ctx.sink.update_display(&self.render(), &self.id);
    }

    pub(crate) fn finish(self, outcome: &Result<serde_json::Value, RelayError>) {
        let (state, text) = match outcome {
            Ok(_) => ("approved", format!("approved in wallet: {}", self.headline)),
            Err(RelayError::Rejected) => ("rejected", format!("rejected in wallet: {}", self.headline)),
            Err(RelayError::Expired { .. }) => ("expired", format!("no answer from the wallet: {}", self.headline)),
            Err(RelayError::Cancelled { .. }) => ("cancelled", format!("signing request cancelled: {}", self.headline)),
            Err(_) => ("failed", format!("wallet request failed: {}", self.headline)),
        };
        let out = Output::text(text.clone())
            .with_html(format!("<div class=\"kelp-relay-wait\">{}</div>", html_escape(&text)))
            .with_json(json!({"state": state, "kind": self.kind.as_str(), "headline": self.headline}));
        self.ctx.sink.update_display(&out, &self.id);
    }

    fn render(&self) -> Output {
        let left = (self.expiry - self.started.elapsed().as_secs_f64()).max(0.0).round();
        let what = format!("waiting for wallet approval: {} ({})", self.headline, self.kind.describe());
        let time = format!("expires in {} s", fmt_secs(left));
        let text = if self.listening {
            format!("{what}: approve or reject it in the kelp wallet dialog in JupyterLab; {time}")
        } else {
            format!("{what}: no browser is listening: open JupyterLab or {} to approve it; {time}", self.sign_url)
        };
        let where_html = if self.listening {
            "approve or reject it in the kelp wallet dialog in JupyterLab".to_string()
        } else {
            let url = html_escape(&self.sign_url);
            format!(
                "no browser is listening: open JupyterLab or <a href=\"{url}\" target=\"_blank\" rel=\"noopener\">{url}</a> \
                 to approve it"
            )
        };
        let html = format!(
            "<div class=\"kelp-relay-wait\"><b>⏳ waiting for wallet approval</b>: {} ({})<br>{where_html}; {}</div>",
            html_escape(&self.headline),
            self.kind.describe(),
            html_escape(&time)
        );
        Output::text(text).with_html(html).with_json(json!({
            "state": "waiting",
            "kind": self.kind.as_str(),
            "headline": self.headline,
            "browser_listening": self.listening,
            "sign_url": self.sign_url,
            "expires_in": left,
        }))
    }
}
