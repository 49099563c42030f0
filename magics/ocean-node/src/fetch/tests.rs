//! The fetch policy against a real local HTTP server (testing::origin; no network beyond loopback).

use super::*;
use crate::testing::{DATA_CSV, origin};
use std::sync::atomic::Ordering;

fn refused_class(r: Result<reqwest::Response, FetchError>) -> AddrClass {
    match r {
        Err(FetchError::Refused { class, .. }) => class,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn loopback_private_and_trick_spellings_are_refused_by_default() {
    let p = FetchPolicy::default();
    for (url, class) in [
        ("http://127.0.0.1:9/x", AddrClass::Loopback),
        ("http://127.1:9/x", AddrClass::Loopback),
        ("http://2130706433:9/x", AddrClass::Loopback),
        ("http://0177.0.0.1:9/x", AddrClass::Loopback),
        ("http://0x7f.0.0.1:9/x", AddrClass::Loopback),
        ("http://[::1]:9/x", AddrClass::Loopback),
        ("http://[::ffff:127.0.0.1]:9/x", AddrClass::Loopback),
        ("http://[::ffff:7f00:1]:9/x", AddrClass::Loopback),
        ("http://localhost:9/x", AddrClass::Loopback),
        ("http://0.0.0.0:9/x", AddrClass::Unspecified),
        ("http://0:9/x", AddrClass::Unspecified),
        ("http://10.1.2.3/x", AddrClass::Private),
        ("http://192.168.0.1/x", AddrClass::Private),
        ("http://169.254.169.254/latest/meta-data", AddrClass::LinkLocal),
        ("http://[::ffff:169.254.169.254]/", AddrClass::LinkLocal),
        ("http://[fd00::1]/", AddrClass::UniqueLocal),
        ("http://[fe80::1]/", AddrClass::LinkLocal),
        ("https://224.0.0.1/", AddrClass::Multicast),
    ] {
        assert_eq!(refused_class(p.open(url).await), class, "{url}");
    }
}

#[tokio::test]
async fn only_http_and_https_and_unsafe_urls_are_refused_like_ocean_node() {
    let p = FetchPolicy::default();
    assert!(matches!(p.open("file:///etc/passwd").await, Err(FetchError::Scheme(s)) if s == "file"));
    assert!(matches!(p.open("ftp://example.org/x").await, Err(FetchError::Scheme(_))));
    assert!(matches!(p.open("not a url").await, Err(FetchError::BadUrl)));
    let env = |k: &str| (k == ENV_UNSAFE_URLS).then(|| r#"["^https?://files\\.example/"]"#.to_string());
    let p = FetchPolicy::from_env(&env).unwrap();
    let e = p.open("https://files.example/a.csv").await.unwrap_err();
    assert!(matches!(e, FetchError::Unsafe) && e.to_string().starts_with("URL is marked as unsafe"), "{e}");
}

#[tokio::test]
async fn a_redirect_from_an_allowed_host_to_loopback_is_refused_before_it_is_fetched() {
    let (port, hits) = origin().await;
    let p = FetchPolicy {
        test_only_unchecked_hosts: vec![("files.example".into(), ([127, 0, 0, 1], 0).into())],
        ..Default::default()
    };
    // The pretend-public host itself is fetched (so the refusal below is the redirect's).
    let ok = p.fetch_all(&format!("http://files.example:{port}/to-data")).await.unwrap();
    assert_eq!(ok, DATA_CSV.as_bytes());
    let e = p.open(&format!("http://files.example:{port}/to-secret")).await.unwrap_err();
    assert!(matches!(e, FetchError::Refused { class: AddrClass::Loopback, .. }), "{e}");
    assert!(!e.to_string().contains("/secret"), "the error must not echo the path: {e}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the loopback target was reached");
    let e = p.open(&format!("http://files.example:{port}/loop")).await.unwrap_err();
    assert!(matches!(e, FetchError::TooManyRedirects(5)), "{e}");
}

#[tokio::test]
async fn bodies_are_capped_by_length_and_by_counting() {
    let (port, _) = origin().await;
    let p = FetchPolicy { allow_loopback: true, max_bytes: 1024 * 1024, ..Default::default() };
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(p.fetch_all(&format!("{base}/data.csv")).await.unwrap(), DATA_CSV.as_bytes());
    assert!(matches!(p.open(&format!("{base}/huge-announced")).await, Err(FetchError::TooLarge(_))));
    let e = p.fetch_all(&format!("{base}/huge")).await.unwrap_err();
    assert!(matches!(e, FetchError::TooLarge(n) if n == 1024 * 1024), "{e}");
    assert!(e.to_string().contains(ENV_MAX_FILE_BYTES), "{e}");
}

#[test]
fn settings_come_from_the_environment_and_bad_ones_name_the_variable() {
    let none = |_: &str| None;
    let p = FetchPolicy::from_env(&none).unwrap();
    assert!(!p.allow_loopback, "loopback must be refused unless asked");
    assert_eq!((p.max_bytes, p.unsafe_urls.len()), (DEFAULT_MAX_BYTES, 0));
    assert!(p.test_only_unchecked_hosts.is_empty());
    let set = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    };
    let p = FetchPolicy::from_env(&set(&[
        (ENV_ALLOW_LOOPBACK, "1"),
        (ENV_MAX_FILE_BYTES, "10"),
        (ENV_FILE_INFO_RATE, "3"),
    ]))
    .unwrap();
    assert!(p.allow_loopback);
    assert_eq!((p.max_bytes, p.file_info_per_minute), (10, 3));
    assert!(!FetchPolicy::from_env(&set(&[(ENV_ALLOW_LOOPBACK, "yes")])).unwrap().allow_loopback);
    for (pairs, var) in [
        (&[(ENV_MAX_FILE_BYTES, "lots")][..], ENV_MAX_FILE_BYTES),
        (&[(ENV_MAX_FILE_BYTES, "0")][..], ENV_MAX_FILE_BYTES),
        (&[(ENV_FILE_INFO_RATE, "-1")][..], ENV_FILE_INFO_RATE),
        (&[(ENV_UNSAFE_URLS, "^http://x")][..], ENV_UNSAFE_URLS),
        (&[(ENV_UNSAFE_URLS, "[\"(\"]")][..], ENV_UNSAFE_URLS),
    ] {
        let e = FetchPolicy::from_env(&set(pairs)).unwrap_err().to_string();
        assert!(e.contains(var) && !e.contains('\n'), "{e}");
    }
}
