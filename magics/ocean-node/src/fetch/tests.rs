//! The fetch policy against real local HTTP servers (no network beyond loopback here).

use super::*;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A loopback server: `/data` (5 bytes), `/secret` (counts its hits), `/to-secret` (302 to
/// `http://127.0.0.1:P/secret`), `/to-data` (302 to `/data`), `/loop` (302 to itself),
/// `/big-length` (a Content-Length of 1 GiB), `/big-stream` (chunked, 3 MiB).
async fn server() -> (u16, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = l.local_addr().unwrap().port();
    let h = hits.clone();
    let app = axum::Router::new()
        .route("/data", get(|| async { "hello" }))
        .route(
            "/secret",
            get(move || {
                h.fetch_add(1, Ordering::SeqCst);
                async { "secret" }
            }),
        )
        .route(
            "/to-secret",
            get(move || async move { Redirect::temporary(&format!("http://127.0.0.1:{port}/secret")) }),
        )
        .route("/to-data", get(|| async { Redirect::temporary("/data") }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/big-length",
            get(|| async {
                // A lazily generated 1 GiB body that announces its length.
                static ZEROS: [u8; 65536] = [0; 65536];
                let chunks =
                    futures::stream::iter((0..16384).map(|_| Ok::<_, std::io::Error>(Bytes::from_static(&ZEROS))));
                let len = [(axum::http::header::CONTENT_LENGTH, "1073741824")];
                (StatusCode::OK, len, axum::body::Body::from_stream(chunks)).into_response()
            }),
        )
        .route(
            "/big-stream",
            get(|| async {
                let chunks =
                    futures::stream::iter((0..48).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![7u8; 65536]))));
                axum::body::Body::from_stream(chunks)
            }),
        );
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (port, hits)
}

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
    let (port, hits) = server().await;
    let p = FetchPolicy {
        test_only_unchecked_hosts: vec![("files.example".into(), ([127, 0, 0, 1], 0).into())],
        ..Default::default()
    };
    // The pretend-public host itself is fetched (so the refusal below is the redirect's).
    let ok = p.fetch_all(&format!("http://files.example:{port}/to-data")).await.unwrap();
    assert_eq!(ok, b"hello");
    let e = p.open(&format!("http://files.example:{port}/to-secret")).await.unwrap_err();
    assert!(matches!(e, FetchError::Refused { class: AddrClass::Loopback, .. }), "{e}");
    assert!(!e.to_string().contains("/secret"), "the error must not echo the path: {e}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the loopback target was reached");
    let e = p.open(&format!("http://files.example:{port}/loop")).await.unwrap_err();
    assert!(matches!(e, FetchError::TooManyRedirects(5)), "{e}");
}

#[tokio::test]
async fn bodies_are_capped_by_length_and_by_counting() {
    let (port, _) = server().await;
    let p = FetchPolicy { allow_loopback: true, max_bytes: 1024 * 1024, ..Default::default() };
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(p.fetch_all(&format!("{base}/data")).await.unwrap(), b"hello");
    assert!(matches!(p.open(&format!("{base}/big-length")).await, Err(FetchError::TooLarge(_))));
    let e = p.fetch_all(&format!("{base}/big-stream")).await.unwrap_err();
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
