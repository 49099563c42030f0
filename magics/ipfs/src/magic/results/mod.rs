//! The typed results of `%ipfs`: one struct per subcommand result, its JSON through serde
//! (schemas in docs/schema/results/ipfs.*.schema.json), its text and HTML rendered from it.
//! Fields only the renderings need (the gateway a link points at) are `#[serde(skip)]`.

mod add;
mod car;
mod config;
mod pin;
mod read;

pub(crate) use add::{Add, AddKubo, AddPin};
pub(crate) use car::{CarExport, CarImport};
pub(crate) use config::{Config, NodeShown, PinServiceShown, Serve, Serving};
pub(crate) use pin::{PinAdd, PinAddService, PinLs, PinRm, Pinned};
pub(crate) use read::{Cat, Gc, Get, Ls, StatResult};

#[cfg(test)]
use kelp_magic::ResultSchema;
use kelp_magic::html_escape;

/// The HTML of a result: a title and a two-column table of `rows` (values already HTML).
pub(crate) fn table(title: &str, rows: &[(&str, String)]) -> String {
    let mut html = format!("<div class=\"kelp-ipfs\"><b>{}</b><table>", html_escape(title));
    for (k, v) in rows {
        html.push_str(&format!("<tr><th style=\"text-align:left\">{}</th><td>{v}</td></tr>", html_escape(k)));
    }
    html.push_str("</table></div>");
    html
}

/// `<code>CID</code>` with a gateway link.
pub(crate) fn cid_html(cid: &str, gateway: &str) -> String {
    let c = html_escape(cid);
    format!("<code>{c}</code> (<a href=\"{}/ipfs/{c}\" target=\"_blank\">gateway</a>)", html_escape(gateway))
}

/// Every `%ipfs` result type's schema.
#[cfg(test)]
pub(crate) fn schemas() -> Vec<ResultSchema> {
    vec![
        ResultSchema::of::<Add>(),
        ResultSchema::of::<AddPin>(),
        ResultSchema::of::<AddKubo>(),
        ResultSchema::of::<Cat>(),
        ResultSchema::of::<Get>(),
        ResultSchema::of::<Ls>(),
        ResultSchema::of::<StatResult>(),
        ResultSchema::of::<Gc>(),
        ResultSchema::of::<PinAdd>(),
        ResultSchema::of::<PinAddService>(),
        ResultSchema::of::<PinRm>(),
        ResultSchema::of::<PinLs>(),
        ResultSchema::of::<CarExport>(),
        ResultSchema::of::<CarImport>(),
        ResultSchema::of::<Config>(),
        ResultSchema::of::<Serve>(),
    ]
}

#[cfg(test)]
mod tests {
    /// The committed schemas are the types' (KELP_UPDATE_SCHEMA=1 regenerates them).
    #[test]
    fn result_schemas_are_committed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/results");
        kelp_magic::testing::check_result_schemas(&dir, "ipfs", "kelp-ipfs", &super::schemas());
    }

    // Two renderings the integration tests cannot reach in a shared test process: the session's
    // network node is one per process, and only a real Kubo node lists Kubo pins (the js-ipfs
    // test checks their JSON). Snapshots in src/magic/results/snapshots/.

    #[test]
    fn config_with_the_network_node_running() {
        use super::{Config, NodeShown};
        use kelp_magic::MagicResult;
        let c = kelp_magic::testing::Cell::new([]);
        let r = Config {
            backend: "local".into(),
            kubo_url: "http://127.0.0.1:5001".into(),
            gateway: "https://ipfs.io".into(),
            gateways: vec!["https://trustless-gateway.link".into()],
            store: "/home/reef/.kelp/ipfs".into(),
            pin_services: Default::default(),
            network: true,
            peers: vec!["/ip4/10.0.0.2/tcp/4001/p2p/12D3KooWPeerPeerPeerPeerPeerPeerPeerPeerPeerPeerPe".into()],
            dht: true,
            node: Some(NodeShown {
                peer_id: "12D3KooWNodeNodeNodeNodeNodeNodeNodeNodeNodeNodeNo".into(),
                listen: vec!["/ip4/127.0.0.1/tcp/4001".into(), "/ip4/127.0.0.1/udp/4001/quic-v1".into()],
                connected: 1,
            }),
        };
        let out = r.output();
        assert!(out.plain().unwrap().contains("network  on: peer 12D3KooWNode"), "{out:?}");
        kelp_magic::assert_result_snapshot!("ipfs_config_network_on", &out, c);
    }

    #[test]
    fn pin_ls_of_a_kubo_node() {
        use super::{PinLs, Pinned};
        use kelp_magic::MagicResult;
        let c = kelp_magic::testing::Cell::new([]);
        let pins = vec![
            Pinned::Kubo { cid: "QmQRiXcmgocXXUZHXdndiE9LSKM45YJnCFsyjjPmg2p8MN".into(), ty: "recursive".into() },
            Pinned::Kubo { cid: "QmPnnvFkvSCmPvMdMtSNbXrFWQX5XYc4YkcVU4cujyyH8Z".into(), ty: "recursive".into() },
        ];
        let out = PinLs { pins }.output();
        assert_eq!(out.json().unwrap()["pins"][0]["type"], "recursive");
        kelp_magic::assert_result_snapshot!("ipfs_pin_ls_to_kubo", &out, c);
    }
}
