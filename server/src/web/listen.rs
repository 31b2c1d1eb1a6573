//! Serving the router's connections: HTTP/1.1 with upgrades (the live feed's WebSocket), at
//! most so many at once, each dropped when its client stalls, and a graceful stop that ends.
//!
//! Not `axum::serve`: it sets no timeout on a request's head and exposes no builder (axum
//! 0.8), so a client that opened connections and sent nothing, or half a request, held each
//! one for as long as it liked (slowloris). HTTP/1 only: hyper-util's HTTP/1-or-2 detection
//! waits without limit for the bytes that tell the two apart, which would hold a silent
//! connection the same way; browsers speak HTTP/2 to a TLS proxy in front, not to this
//! cleartext listener, and Alertmanager and Prometheus speak HTTP/1.1.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How long a stopping server waits for the requests under way before it cuts them.
const DRAIN: Duration = Duration::from_secs(30);

/// What connections may hold: see `--client-timeout` and `--max-connections`.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// How long a client may stall: take to send a request's head (from when the connection
    /// opens, and again after each response), or leave an answer unread. (A request's body
    /// is held to it too, between its parts: `limits::body`.)
    pub client_timeout: Duration,
    /// Connections served at once, WebSockets among them; the next waits in the listen queue
    /// until one ends.
    pub max_connections: usize,
}

impl ConnectionLimits {
    /// The limits `promgen serve` is given.
    pub fn of(args: &crate::cli::ServeArgs) -> Self {
        ConnectionLimits { client_timeout: args.client_timeout, max_connections: args.max_connections as usize }
    }
}

/// Serves `app` on `listener` until `stop` completes, then takes no new connection and waits
/// for the requests under way (a keep-alive connection closes after its current response),
/// at most 30 s or until a second SIGINT or SIGTERM. Handlers see the client's address as
/// axum's `ConnectInfo<SocketAddr>`.
pub async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits, stop: impl Future<Output = ()>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.client_timeout);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = accept(&listener, &slots) => accepted,
            () = &mut stop => break,
        };
        let Some((stream, peer, slot)) = accepted else { continue };
        let service = hyper::service::service_fn({
            let app = app.clone();
            move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(req.map(Body::new))
            }
        });
        // The slot goes with the socket: an upgraded connection (a WebSocket) keeps it.
        let io = TokioIo::new(Stalling::new(stream, limits.client_timeout).holding(slot));
        let conn = http.serve_connection(io, service).with_upgrades();
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
            // A client gone or stalled: nothing the server did wrong.
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    tokio::select! {
        () = connections.wait() => {}
        () = tokio::time::sleep(DRAIN) => {
            tracing::warn!(connections = connections.len(), "requests still under way after {DRAIN:?}: cut");
        }
        () = super::shutdown() => {
            tracing::warn!(connections = connections.len(), "asked again to stop: requests under way cut");
        }
    }
}

/// The next connection once a slot is free; `None` when accepting failed (one connection's
/// own trouble is skipped; anything else, such as running out of file descriptors, is logged
/// and waited out, so the loop does not spin).
async fn accept(
    listener: &TcpListener,
    slots: &Arc<tokio::sync::Semaphore>,
) -> Option<(TcpStream, std::net::SocketAddr, tokio::sync::OwnedSemaphorePermit)> {
    let slot = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
    match listener.accept().await {
        Ok((stream, peer)) => Some((stream, peer, slot)),
        Err(e) => {
            use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
            if !matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
                tracing::error!(error = %e, "cannot accept a connection; retrying in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            None
        }
    }
}

/// A connection whose writes fail once the client has read nothing for `timeout` (its
/// receive window stayed full): a client that never reads an answer does not hold the
/// connection and the answer's memory. Reads are the HTTP layer's to time (a long poll or a
/// WebSocket is rightly silent).
struct Stalling {
    stream: TcpStream,
    timeout: Duration,
    /// Armed while a write waits.
    stalled: Option<Pin<Box<Sleep>>>,
    /// The connection's place among `--max-connections`, given back when the socket closes.
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Stalling {
    fn new(stream: TcpStream, timeout: Duration) -> Self {
        Stalling { stream, timeout, stalled: None, _slot: None }
    }

    fn holding(self, slot: tokio::sync::OwnedSemaphorePermit) -> Self {
        Stalling { _slot: Some(slot), ..self }
    }

    /// `Pending` from a write: pending still, or the error once the wait has lasted too long.
    fn waiting<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let timeout = self.timeout;
        let stalled = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(stalled.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client read nothing for too long")))
    }

    /// A write's outcome: the wait is over.
    fn done<T>(&mut self, outcome: io::Result<T>) -> Poll<io::Result<T>> {
        self.stalled = None;
        Poll::Ready(outcome)
    }
}

impl AsyncRead for Stalling {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stalling {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.stream).poll_write(cx, buf) {
            Poll::Ready(outcome) => self.done(outcome),
            Poll::Pending => self.waiting(cx),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.stream).poll_write_vectored(cx, bufs) {
            Poll::Ready(outcome) => self.done(outcome),
            Poll::Pending => self.waiting(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.stream).poll_flush(cx) {
            Poll::Ready(outcome) => self.done(outcome),
            Poll::Pending => self.waiting(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A client that reads nothing: the server's writes fail after the timeout, instead of
    /// waiting for ever; one that reads gets everything.
    #[tokio::test]
    async fn a_write_to_a_client_that_reads_nothing_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let mut server = Stalling::new(stream, Duration::from_millis(200));
        let chunk = vec![0u8; 1 << 16];
        let wrote = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                if let Err(e) = server.write_all(&chunk).await {
                    return e;
                }
            }
        })
        .await
        .expect("the write gave up");
        assert_eq!(wrote.kind(), io::ErrorKind::TimedOut);
        drop(client);

        let mut client = TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let mut server = Stalling::new(stream, Duration::from_millis(200));
        let sent = tokio::spawn(async move {
            for _ in 0..200 {
                server.write_all(&chunk).await.unwrap();
            }
        });
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        sent.await.unwrap();
        assert_eq!(got.len(), 200 << 16);
    }
}
