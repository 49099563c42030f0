//! Delegated routing (the HTTP Routing V1 API, IPIP-337): `GET {router}/routing/v1/providers/{cid}`
//! names peers holding a CID; those that speak `transport-ipfs-gateway-http` at an http(s)
//! multiaddr become extra trustless gateways for one fetch. Routers are not trusted for content:
//! whatever the gateways they name send is verified like any other gateway's.

use super::Gateways;
use cid::Cid;

/// Delegated routers to ask for providers, comma-separated (none by default).
pub const ROUTERS_ENV: &str = "KELP_IPFS_ROUTERS";

/// Most providers taken from one router answer.
const MAX_PROVIDERS: usize = 16;

/// `http(s)://host:port` of a multiaddr such as `/ip4/1.2.3.4/tcp/8080/http`,
/// `/dns4/example.com/tcp/443/https` or `/dns/example.com/tcp/443/tls/http`; `None` otherwise.
pub fn multiaddr_to_url(addr: &str) -> Option<String> {
    let parts: Vec<&str> = addr.strip_prefix('/')?.split('/').collect();
    let (host, rest) = match parts.as_slice() {
        ["ip4", a, rest @ ..] => (a.parse::<std::net::Ipv4Addr>().ok()?.to_string(), rest),
        ["ip6", a, rest @ ..] => (format!("[{}]", a.parse::<std::net::Ipv6Addr>().ok()?), rest),
        ["dns" | "dns4" | "dns6", h, rest @ ..]
            if !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') =>
        {
            (h.to_string(), rest)
        }
        _ => return None,
    };
    let (port, scheme) = match rest {
        ["tcp", p, "http"] => (p.parse::<u16>().ok()?, "http"),
        ["tcp", p, "https"] | ["tcp", p, "tls", "http"] => (p.parse::<u16>().ok()?, "https"),
        _ => return None,
    };
    Some(format!("{scheme}://{host}:{port}"))
}

impl Gateways {
    /// Gateways the routers name for `cid`, and one warning line per router that failed.
    pub(super) async fn discover(&self, cid: &Cid) -> (Vec<String>, Vec<String>) {
        let (mut found, mut warnings) = (Vec::new(), Vec::new());
        for router in &self.routers {
            match self.providers(router, cid).await {
                Ok(urls) => {
                    for u in urls {
                        if !found.contains(&u) {
                            found.push(u);
                        }
                    }
                }
                Err(why) => warnings.push(format!("warning: router {router} gave no providers of {cid} ({why})")),
            }
        }
        (found, warnings)
    }

    async fn providers(&self, router: &str, cid: &Cid) -> Result<Vec<String>, String> {
        let url = format!("{router}/routing/v1/providers/{cid}");
        let send = self.client.get(&url).header(reqwest::header::ACCEPT, "application/json").timeout(self.timeout);
        let resp = send.send().await.map_err(|e| super::short_error(&e, self.timeout))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status().as_u16()));
        }
        if resp.content_length().is_some_and(|n| n > 1 << 20) {
            return Err("an answer over 1 MiB".into());
        }
        let body: serde_json::Value = resp.json().await.map_err(|e| format!("not JSON: {e}"))?;
        let providers = body.get("Providers").and_then(|p| p.as_array()).cloned().unwrap_or_default();
        let mut urls = Vec::new();
        for p in providers {
            let speaks_http = p
                .get("Protocols")
                .and_then(|x| x.as_array())
                .is_some_and(|ps| ps.iter().any(|x| x.as_str() == Some("transport-ipfs-gateway-http")));
            if !speaks_http {
                continue;
            }
            let addrs = p.get("Addrs").and_then(|a| a.as_array()).cloned().unwrap_or_default();
            for u in addrs.iter().filter_map(|a| a.as_str()).filter_map(multiaddr_to_url) {
                if !urls.contains(&u) && urls.len() < MAX_PROVIDERS {
                    urls.push(u);
                }
            }
        }
        Ok(urls)
    }
}

#[cfg(test)]
mod tests {
    use super::multiaddr_to_url;

    #[test]
    fn gateway_multiaddrs() {
        assert_eq!(multiaddr_to_url("/ip4/127.0.0.1/tcp/8080/http").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(multiaddr_to_url("/dns4/gw.example/tcp/443/https").as_deref(), Some("https://gw.example:443"));
        assert_eq!(multiaddr_to_url("/dns/gw.example/tcp/443/tls/http").as_deref(), Some("https://gw.example:443"));
        assert_eq!(multiaddr_to_url("/ip6/::1/tcp/80/http").as_deref(), Some("http://[::1]:80"));
        for bad in
            ["/ip4/1.2.3.4/tcp/4001", "/ip4/1.2.3.4/udp/1/quic-v1", "/dns4/a@b/tcp/1/http", "", "/ip4/x/tcp/1/http"]
        {
            assert_eq!(multiaddr_to_url(bad), None, "{bad}");
        }
    }
}
