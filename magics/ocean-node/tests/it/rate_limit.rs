//! kelp's node limits requests on every route the way Ocean Node v3.1.0 does, checked against
//! the transcripts' `rate_limit_*` records (recorded with the limit lowered to 3 per minute): the
//! node (in this process, its real router, no chain needed) gets the same limit and the records'
//! requests in their order, and answers each with the recorded status, content type and body.
//! Then: a CORS preflight is answered and never counted, and `fileInfo`'s own limit stays keyed
//! by the peer address whatever `X-Forwarded-For` says.

use kelp_ocean_node::fetch::FetchPolicy;
use serde_json::Value;

use kelp_ocean_node::testing::load;
use kelp_ocean_node::testing::{file_info, node_with_urls};

const RECORDS: [&str; 7] = [
    "rate_limit_req_1",
    "rate_limit_req_2",
    "rate_limit_req_3",
    "rate_limit_req_4",
    "rate_limit_req_5",
    "rate_limit_other_route",
    "rate_limit_x_forwarded_for",
];

#[tokio::test]
async fn every_route_is_limited_per_caller_as_ocean_node_answers() {
    let policy = FetchPolicy { requests_per_minute: 3, ..FetchPolicy::default() };
    let (_node, base) = node_with_urls(policy, &[]).await;
    let http = reqwest::Client::new();
    let all = load();
    for name in RECORDS {
        let r = all.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no record {name}"));
        let q = &r.request;
        let query: Vec<(String, String)> = q["query"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        let mut req = http.get(format!("{base}{}", q["path"].as_str().unwrap())).query(&query);
        for (k, v) in q["headers"].as_object().cloned().unwrap_or_default() {
            req = req.header(k.as_str(), v.as_str().unwrap_or_default());
        }
        let res = req.send().await.unwrap();
        let want = &r.response;
        assert_eq!(res.status().as_u16() as u64, want["status"].as_u64().unwrap(), "{name}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert_eq!(Some(ct.as_str()), want["headers"]["content-type"].as_str(), "{name}");
        let text = res.text().await.unwrap();
        match &want["body"] {
            Value::String(s) => assert_eq!(&text, s, "{name}"),
            body => assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), *body, "{name}"),
        }
    }
    // A preflight is answered before the limit and is not a request of the caller's.
    let pre = http.request(reqwest::Method::OPTIONS, format!("{base}/api/services/nonce")).send().await.unwrap();
    assert_eq!(pre.status().as_u16(), 204);
}

#[tokio::test]
async fn file_info_keeps_its_own_limit_by_peer_address() {
    let policy = FetchPolicy { file_info_per_minute: 1, ..FetchPolicy::default() };
    let (_node, base) = node_with_urls(policy, &["http://192.0.2.1/x".to_string()]).await;
    // The first fileInfo counts (refused for its private address, as any fetch would be).
    let (status, _, body) = file_info(&base).await;
    assert_ne!(status, 429, "{body}");
    // A fresh X-Forwarded-For is a fresh caller for the route limit, not for fileInfo's.
    let res = reqwest::Client::new()
        .post(format!("{base}/api/services/fileInfo"))
        .header("x-forwarded-for", "10.9.8.7")
        .json(&serde_json::json!({"did": "did:op:test", "serviceId": "0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert_eq!(res.text().await.unwrap(), "Rate limit exceeded. Try again in 60 seconds.");
}
