//! Fixtures shared by kelp's tests (dev-only, never published).
//!
//! This crate owns test support that more than one crate's tests need, so that none of it is
//! copied from file to file:
//! - [`free_port`] and [`serve`]: loopback ports and an axum router served on one;
//! - [`temp_home`]: an empty `$KELP_HOME`;
//! - [`jupyter`]: a real Jupyter server with kelp's JupyterLab extension, and its browser face;
//! - fakes of remote services kelp talks to but cannot run here, each following the service's
//!   published API and named as a fake: [`FakeLighthouse`] (Lighthouse's Kubo-style upload) and
//!   [`FakePinningService`] (the IPFS Pinning Service API v1).
//!
//! Running a magic line as a cell is kelp-magic's own `testing` feature (`kelp_magic::testing`).

/// A REAL Jupyter server from the project's `.venv` (with kelp_labextension loaded), shared by the
/// tests of one binary, and a browser-face client that plays the person in front of the wallet.
///
/// The server runs under a tiny `sh` watchdog reading our stdin: when the test binary exits (even
/// on a panic) the pipe closes, the watchdog stops the server and removes its scratch directory.
pub mod jupyter;

mod fake_lighthouse;
mod fake_pinning_service;
pub mod multipart;

pub use fake_lighthouse::FakeLighthouse;
pub use fake_pinning_service::FakePinningService;

/// A loopback TCP port free at the time of the call (the listener is closed before returning;
/// the caller hands the number to a process that binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding 127.0.0.1:0 for a free port")
        .port()
}

/// Serve `router` on a fresh loopback port: its `http://127.0.0.1:PORT` URL and the server task
/// (abort it, or let the runtime end, to stop the server).
pub async fn serve(router: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binding 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("the listener's address"));
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serving the test router");
    });
    (url, task)
}

/// An empty directory to use as `$KELP_HOME` (removed when dropped).
pub fn temp_home() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("kelp-home-").tempdir().expect("a temporary KELP_HOME")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_is_bindable_and_nonzero() {
        let p = free_port();
        assert_ne!(p, 0);
        std::net::TcpListener::bind(("127.0.0.1", p)).expect("the port was free");
    }

    #[test]
    fn temp_home_is_an_empty_dir_removed_on_drop() {
        let h = temp_home();
        let path = h.path().to_path_buf();
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0);
        drop(h);
        assert!(!path.exists());
    }
}
