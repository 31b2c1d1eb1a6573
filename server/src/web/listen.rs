//! Serving the router's connections: HTTP/1.1 with upgrades (the live feed's WebSocket), at
//! most so many at once and so many from one client, each dropped when its client stalls, and
//! a graceful stop that ends.
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

use super::limits::MIN_RATE;

/// How long a stopping server waits for the requests under way before it cuts them.
const DRAIN: Duration = Duration::from_secs(30);

/// The most a connection buffers of what it reads: a request's head must fit (431 above).
const HEAD_BYTES: usize = 64 * 1024;

/// Connections the kernel holds for accepting: a burst above the default 128 was dropped
/// (each client then retried a second later).
const BACKLOG: u32 = 1024;

/// The most of an answer the kernel holds unsent for a connection (`TCP_NOTSENT_LOWAT`):
/// a write waits until the client has taken about this much, not a third of a send buffer
/// that grows to megabytes, so a slow client is seen to read and is not cut as stalled
/// (20 KB/s was), and a connection holds less kernel memory.
const UNSENT: u32 = 16 * 1024;

/// A listener on `addr` with a backlog of [`BACKLOG`].
pub fn bind(addr: std::net::SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// What connections may hold: see `--client-timeout`, `--max-connections` and
/// `--max-client-connections`.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// How long a client may stall: take to send a request's head (from when the connection
    /// opens, and again after each response), or leave an answer unread. (A request's body
    /// is held to it too, between its parts: `limits::body`.)
    pub client_timeout: Duration,
    /// Connections served at once, WebSockets among them; the next waits in the listen queue
    /// until one ends.
    pub max_connections: usize,
    /// Connections one client address (an IPv6 /64) may hold at once, so that one client
    /// cannot take all of `max_connections`; `None`: no such limit (behind a proxy, every
    /// connection comes from it).
    pub max_client_connections: Option<usize>,
}

impl ConnectionLimits {
    /// The limits `promgen serve` is given.
    pub fn of(args: &crate::cli::ServeArgs) -> Self {
        let per_client = (args.max_client_connections > 0 && args.client_ip_header.is_none())
            .then_some(args.max_client_connections as usize);
        ConnectionLimits {
            client_timeout: args.client_timeout,
            max_connections: args.max_connections as usize,
            max_client_connections: per_client,
        }
    }
}

/// Serves `app` on `listener` until `stop` completes, then takes no new connection and waits
/// for the requests under way (a keep-alive connection closes after its current response),
/// at most 30 s or until a second SIGINT or SIGTERM. Handlers see the client's address as
/// axum's `ConnectInfo<SocketAddr>`.
pub async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits, stop: impl Future<Output = ()>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    // A request's head in at most 64 KB (hyper's default buffer is 400 KB: 4,000 unfinished
    // heads held 1.6 GB).
    http.timer(TokioTimer::new()).header_read_timeout(limits.client_timeout).max_buf_size(HEAD_BYTES);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let clients = limits.max_client_connections.map(|max| Arc::new(Clients::new(max)));
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = accept(&listener, &slots) => accepted,
            () = &mut stop => break,
        };
        let Some((stream, peer, slot)) = accepted else { continue };
        if let Err(e) = socket2::SockRef::from(&stream).set_tcp_notsent_lowat(UNSENT) {
            tracing::debug!(%peer, error = %e, "cannot set TCP_NOTSENT_LOWAT");
        }
        let client = match &clients {
            Some(clients) => match clients.admit(peer.ip()) {
                Some(client) => Some(client),
                None => {
                    turn_away(stream);
                    continue;
                }
            },
            None => None,
        };
        let service = hyper::service::service_fn({
            let app = app.clone();
            move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(req.map(Body::new))
            }
        });
        // The slots go with the socket: an upgraded connection (a WebSocket) keeps them.
        let io = TokioIo::new(Stalling::new(stream, limits.client_timeout).holding(slot, client));
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

/// Closes a connection over its client's share, answering 429 first if the socket takes the
/// answer at once (a client that reads nothing holds nothing).
fn turn_away(stream: TcpStream) {
    const WHY: &str = "too many connections from your address (--max-client-connections)\n";
    let answer = format!(
        "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nContent-Length: {}\r\n\r\n{WHY}",
        WHY.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// The connections each client address holds, against `--max-client-connections`.
struct Clients {
    max: usize,
    /// Warnings logged a minute, at most.
    warnings: governor::DefaultDirectRateLimiter,
    /// Per client: connections held, and whether its refusal was logged (once until it holds
    /// none, so a client knocking in a loop does not flood the log).
    held: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (usize, bool)>>,
}

impl Clients {
    fn new(max: usize) -> Self {
        let minute = governor::Quota::per_minute(std::num::NonZeroU32::new(10).expect("not zero"));
        Clients { max, warnings: governor::RateLimiter::direct(minute), held: Default::default() }
    }

    /// A place for one more connection of `ip`, given back when it drops; `None` when the
    /// client holds its share.
    fn admit(self: &Arc<Self>, ip: std::net::IpAddr) -> Option<ClientSlot> {
        let client = app::backend::client::key(ip);
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let (count, warned) = held.entry(client).or_default();
        if *count >= self.max {
            // Once per client while it holds its share, and a few a minute in all: a client
            // that lets go and fills it again, or many clients, do not fill the log.
            if !*warned {
                *warned = true;
                if self.warnings.check().is_ok() {
                    tracing::warn!(%client, held = *count, "a client holds --max-client-connections: turning its next away");
                }
            }
            return None;
        }
        *count += 1;
        Some(ClientSlot { clients: self.clone(), client })
    }
}

/// One connection's place in its client's share.
struct ClientSlot {
    clients: Arc<Clients>,
    client: std::net::IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut held = self.clients.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((count, _)) = held.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.client);
            }
        }
    }
}

/// A connection whose writes fail once the client falls behind [`MIN_RATE`]: writes may wait
/// for the client as long as `credit` lasts, which each wait spends and each [`MIN_RATE`]
/// bytes taken after a wait earn a second back, never above `timeout` (so a client cannot
/// save credit reading fast, then hold the answer reading a byte at a time). A client that
/// never reads an answer, or reads it a few bytes at a time, does not hold the connection and
/// the answer's memory. Reads are the HTTP layer's to time (a long poll or a WebSocket is
/// rightly silent).
struct Stalling<S = TcpStream> {
    stream: S,
    timeout: Duration,
    /// Armed while a write waits.
    stalled: Option<Pin<Box<Sleep>>>,
    /// When the write under way began to wait.
    blocked_since: Option<tokio::time::Instant>,
    /// How much longer writes may wait, in all.
    credit: Duration,
    /// Whether a write has waited yet: what filled the buffers before says nothing of the
    /// client's pace.
    paced: bool,
    /// The connection's place among `--max-connections`, given back when the socket closes.
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
    /// Its place in its client's share (`--max-client-connections`), likewise.
    _client: Option<ClientSlot>,
}

impl<S> Stalling<S> {
    fn new(stream: S, timeout: Duration) -> Self {
        Stalling {
            stream,
            timeout,
            stalled: None,
            blocked_since: None,
            credit: timeout,
            paced: false,
            _slot: None,
            _client: None,
        }
    }

    fn holding(self, slot: tokio::sync::OwnedSemaphorePermit, client: Option<ClientSlot>) -> Self {
        Stalling { _slot: Some(slot), _client: client, ..self }
    }

    /// `Pending` from a write: pending still, or the error once the wait has lasted too long.
    fn waiting<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if self.stalled.is_none() {
            self.blocked_since = Some(tokio::time::Instant::now());
            self.paced = true;
            self.stalled = Some(Box::pin(tokio::time::sleep(self.credit)));
        }
        ready!(self.stalled.as_mut().expect("armed above").as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client read too slowly")))
    }

    /// A write's outcome: the wait is over.
    fn done(&mut self, outcome: io::Result<usize>) -> Poll<io::Result<usize>> {
        self.stalled = None;
        if let Some(since) = self.blocked_since.take() {
            self.credit = self.credit.saturating_sub(since.elapsed());
        }
        if let Ok(n) = outcome
            && self.paced
        {
            let earned = Duration::from_secs_f64(n as f64 / MIN_RATE as f64);
            self.credit = (self.credit + earned).min(self.timeout);
        }
        Poll::Ready(outcome)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Stalling<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Stalling<S> {
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
            Poll::Ready(outcome) => self.done(outcome.map(|()| 0)).map_ok(drop),
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

    /// A client's share: counted per IPv4 address or IPv6 /64, given back as connections end.
    #[test]
    fn a_client_holds_its_share_and_no_more() {
        let clients = Arc::new(Clients::new(2));
        let one: std::net::IpAddr = "192.0.2.1".parse().unwrap();
        let a = clients.admit(one).unwrap();
        let _b = clients.admit(one).unwrap();
        assert!(clients.admit(one).is_none());
        // The same address written as IPv4-mapped IPv6 is the same client.
        assert!(clients.admit("::ffff:192.0.2.1".parse().unwrap()).is_none());
        // Another client is not kept out.
        let _c = clients.admit("192.0.2.2".parse().unwrap()).unwrap();
        drop(a);
        let _d = clients.admit(one).unwrap();
        // One IPv6 host's /64 is one client; the next /64 another.
        let _e = clients.admit("2001:db8::1".parse().unwrap()).unwrap();
        let _f = clients.admit("2001:db8::ffff:2".parse().unwrap()).unwrap();
        assert!(clients.admit("2001:db8:0:0:8000::3".parse().unwrap()).is_none());
        let _g = clients.admit("2001:db8:0:1::1".parse().unwrap()).unwrap();
        drop((_b, _d));
        // Clients that hold nothing are forgotten.
        assert!(!clients.held.lock().unwrap().contains_key(&one));
    }

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

    /// A client that reads a little at a time, never long enough apart to stall, is cut once
    /// it falls behind MIN_RATE; one that keeps up reads on (a 1 KB pipe, read 10 bytes every
    /// 50 ms, then 100).
    #[tokio::test]
    async fn a_client_that_reads_slower_than_min_rate_is_cut() {
        async fn reading(every_50ms: usize) -> (io::Result<()>, Duration) {
            let (server, mut client) = tokio::io::duplex(1024);
            let mut server = Stalling::new(server, Duration::from_millis(300));
            let started = tokio::time::Instant::now();
            let reader = tokio::spawn(async move {
                let mut buf = vec![0u8; every_50ms];
                while client.read_exact(&mut buf).await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            });
            let wrote =
                tokio::time::timeout(Duration::from_secs(2), server.write_all(&[0u8; 1 << 20])).await.unwrap_or(Ok(()));
            reader.abort();
            (wrote, started.elapsed())
        }
        let (slow, after) = reading(10).await;
        assert_eq!(slow.expect_err("cut").kind(), io::ErrorKind::TimedOut);
        assert!(after < Duration::from_secs(2), "{after:?}");
        let (steady, after) = reading(100).await;
        steady.expect("not cut");
        assert!(after >= Duration::from_secs(2), "{after:?}");
    }
}
