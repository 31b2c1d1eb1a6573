//! Serving the router's connections: HTTP/1.1 with upgrades (the live feed's WebSocket), each
//! connection held to a header read timeout, and a graceful stop.
//!
//! Not `axum::serve`: it sets no timeout on reading a request's head and exposes no builder
//! (axum 0.8), so a client that opens connections and never finishes their headers (slowloris)
//! held each one for as long as it liked. HTTP/1 only: hyper-util's HTTP/1-or-2 detection
//! waits without limit for the bytes that tell the two apart, which would hold a silent
//! connection the same way; browsers speak HTTP/2 to a TLS proxy in front, not to this
//! cleartext listener, and Alertmanager and Prometheus speak HTTP/1.1.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// Serves `app` on `listener` until `stop` completes, then takes no new connection and waits
/// for the requests under way (a keep-alive connection closes after its current response).
///
/// A connection must send a request's whole head (request line and headers) within
/// `header_read_timeout` of being ready for one: when opened, and again after each response
/// (so an idle keep-alive connection is closed after it too). Handlers see the client's
/// address as axum's `ConnectInfo<SocketAddr>`.
pub async fn serve(listener: TcpListener, app: Router, header_read_timeout: Duration, stop: impl Future<Output = ()>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = hyper::service::service_fn({
            let app = app.clone();
            move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(req.map(Body::new))
            }
        });
        let conn = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
        let stopping = stopping.clone();
        connections.spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let served = tokio::select! {
                served = conn.as_mut() => served,
                () = stopping.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            // A client gone or too slow: nothing the server did wrong.
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    connections.wait().await;
}

/// A failed accept: one connection's own trouble is skipped; anything else (out of file
/// descriptors) is logged and waited out, so the loop does not spin.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
