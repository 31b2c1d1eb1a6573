//! Request limits. Bodies: the webhook has its own (`--max-webhook-bytes`, checked where it
//! reads the body); every other request body is held to `--max-request-bytes`, so no form,
//! server function or import can make the server buffer without end; and every body must
//! come on, each part within `--client-timeout` of the last (a body declared and never sent
//! held its connection and what was buffered of it), and the whole of it at [`MIN_RATE`]
//! once its first `--client-timeout` is spent (a byte dribbled within the stall limit held
//! the connection just as long). What handlers build from bodies is held to
//! `--max-body-memory`, a body reckoned at [`HANDLED`] times its size ([`Handling`]), and the
//! bytes of bodies under way to a quarter of it, a client to its share ([`BodyMemory`]).
//! Paths: no longer than a file system takes (the static files are looked up by path).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

/// The limits every request body is held to ([`body`]).
#[derive(Clone)]
pub struct BodyLimits {
    /// `--max-request-bytes` (the webhook has its own).
    pub request: usize,
    /// `--max-webhook-bytes`.
    pub webhook: usize,
    /// The longest wait for the next part of a body (`--client-timeout`).
    pub stall: std::time::Duration,
    /// The bytes of bodies of requests under way, server-wide and per client.
    pub memory: Arc<BodyMemory>,
    /// What handling bodies takes, server-wide.
    pub handling: Arc<Handling>,
    /// `--client-ip-header`, to tell clients apart.
    pub client_ip_header: Option<String>,
}

/// The share of `--max-body-memory` for the bytes of bodies themselves ([`BodyMemory`]); what
/// handlers build from them is reckoned in [`Handling`].
pub const BODIES_SHARE: usize = 4;

/// How many times its size a body is reckoned to take while its request is handled: the body
/// and what the handler builds from it. Measured by an attacker's review: a YAML rule import
/// up to 100 times (a list of events, then a tree of values), a webhook of many small alerts
/// 45 times, a server function's JSON (a tree of values, a form, serde_qs' own tree) 22.
pub const HANDLED: usize = 100;

impl BodyLimits {
    /// The limits `promgen serve` is given: bodies of a [`BODIES_SHARE`]th of
    /// `--max-body-memory` at once (at least one largest body), a client's share an eighth of
    /// that, or the largest body allowed if that is more; handling within the whole of it.
    pub fn of(args: &crate::cli::ServeArgs) -> Self {
        let largest = args.max_request_bytes.max(args.max_webhook_bytes);
        let bodies = (args.max_body_memory / BODIES_SHARE).max(largest);
        BodyLimits {
            request: args.max_request_bytes,
            webhook: args.max_webhook_bytes,
            stall: args.client_timeout,
            memory: Arc::new(BodyMemory::new(bodies, (bodies / 8).max(largest))),
            handling: Arc::new(Handling::new(args.max_body_memory)),
            client_ip_header: args.client_ip_header.clone(),
        }
    }
}

/// The memory for handling request bodies (`--max-body-memory`): a request with a body is
/// handled once its body, reckoned at [`HANDLED`] times its size (its declared length, else
/// the largest allowed), fits beside those being handled; until then its body is not read.
/// Counting bodies alone let 16 addresses' rule imports take 1.2 GB under a 256 MiB limit
/// (each parsed file 20 to 100 times its size). One request is reckoned at most three
/// quarters of the whole, so small requests (forms, webhooks) go on beside a large import,
/// and only one large request is handled at a time (which alone may take more than it is
/// reckoned at). A client (an address, an IPv6 /64) holds at most seven eighths, a large
/// request and an eighth beside it, so others keep an eighth: 42 slow bodies from one
/// address kept every other client's logins out. Calls without a login are not reckoned
/// ([`body_size`]).
pub struct Handling {
    /// Room taken in all and per client, a client's up to a large request and an eighth.
    ledger: BodyMemory,
    freed: tokio::sync::Notify,
}

/// Why [`Handling::room`] gave none: the client holds its share (429), or no room freed up
/// in time (503).
#[derive(Debug, PartialEq, Eq)]
pub enum NoRoom {
    Client,
    Busy,
}

impl Handling {
    /// `total` bytes of handling at once.
    pub fn new(total: usize) -> Self {
        Handling { ledger: BodyMemory::new(total, total / 4 * 3 + total / 8), freed: Default::default() }
    }

    /// Room for a body of `bytes` of `client`, waiting at most `wait` for it. A small request
    /// may pass a large one that waits: it fits where the large one does not yet.
    pub async fn room(
        self: &Arc<Self>,
        client: Option<std::net::IpAddr>,
        bytes: usize,
        wait: Duration,
    ) -> Result<Room, NoRoom> {
        let n = bytes.saturating_mul(HANDLED).min(self.ledger.total / 4 * 3);
        let until = tokio::time::Instant::now() + wait;
        loop {
            // Enabled before the check, so a room freed between the two is not missed.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            match self.ledger.take(client, n, 0) {
                Ok(()) => return Ok(Room { handling: self.clone(), client, n }),
                Err(Full { client: true }) => return Err(NoRoom::Client),
                Err(Full { client: false }) => {}
            }
            if tokio::time::timeout_at(until, freed).await.is_err() {
                return Err(NoRoom::Busy);
            }
        }
    }
}

/// A request's room in [`Handling`], given back when dropped.
pub struct Room {
    handling: Arc<Handling>,
    client: Option<std::net::IpAddr>,
    n: usize,
}

impl Drop for Room {
    fn drop(&mut self) {
        self.handling.ledger.give_back(self.client, self.n);
        self.handling.freed.notify_waiters();
    }
}

/// Bytes held by requests under way, server-wide and per client. As the bytes of request
/// bodies (a [`BODIES_SHARE`]th of `--max-body-memory`): every body is read whole before it
/// is handled, and one account could hold 256 bodies of 4 MB open at the minimum pace from
/// one address (1.1 GB). A body's bytes are counted as its parts come and given back when its
/// request has been answered: a handler keeps what it read while it waits for the CPU pool or
/// the database, so bodies read fast one after another held 700 MB when only their reading
/// counted. Also the ledger of [`Handling`].
pub struct BodyMemory {
    total: usize,
    per_client: usize,
    /// Bytes held in all, and per client (an address, an IPv6 /64; `None` for a request with
    /// no address, tests' own).
    held: std::sync::Mutex<(usize, std::collections::HashMap<Option<std::net::IpAddr>, usize>)>,
}

/// Why a body's next part was not taken: the server's bytes for bodies are taken
/// (`client: false`, 503), or the client's share is (`client: true`, 429).
#[derive(Debug)]
struct Full {
    client: bool,
}

impl std::fmt::Display for Full {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.client {
            true => write!(f, "this client holds its share of the memory for request bodies"),
            false => write!(f, "the memory for request bodies is taken"),
        }
    }
}

impl std::error::Error for Full {}

impl BodyMemory {
    /// `total` bytes of bodies at once, `per_client` of them for one client.
    pub fn new(total: usize, per_client: usize) -> Self {
        BodyMemory { total, per_client: per_client.min(total), held: Default::default() }
    }

    /// Takes `n` more bytes for a body of `client` that holds `own` already, or says whose
    /// limit it would pass. A client's share is passed only with its other bodies: one body
    /// alone is held to its size limit (413), which a frame may cross at the same time.
    fn take(&self, client: Option<std::net::IpAddr>, n: usize, own: usize) -> Result<(), Full> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let (all, clients) = &mut *held;
        let mine = clients.get(&client).copied().unwrap_or(0);
        if mine + n > self.per_client && mine > own {
            return Err(Full { client: true });
        }
        if *all + n > self.total {
            return Err(Full { client: false });
        }
        *all += n;
        clients.insert(client, mine + n);
        Ok(())
    }

    fn give_back(&self, client: Option<std::net::IpAddr>, n: usize) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let (all, clients) = &mut *held;
        *all = all.saturating_sub(n);
        if let Some(mine) = clients.get_mut(&client) {
            *mine = mine.saturating_sub(n);
            if *mine == 0 {
                clients.remove(&client);
            }
        }
    }
}

/// What one request's body holds of a [`BodyMemory`], shared by the body and its request
/// ([`body`]), given back when both are done.
struct Held {
    memory: Arc<BodyMemory>,
    client: Option<std::net::IpAddr>,
    bytes: std::sync::atomic::AtomicUsize,
}

impl Held {
    fn new(memory: Arc<BodyMemory>, client: Option<std::net::IpAddr>) -> Arc<Held> {
        Arc::new(Held { memory, client, bytes: Default::default() })
    }

    fn take(&self, n: usize) -> Result<(), Full> {
        self.memory.take(self.client, n, self.bytes.load(Ordering::Relaxed))?;
        self.bytes.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.memory.give_back(self.client, *self.bytes.get_mut());
    }
}

/// The slowest a request body may come once its first `--client-timeout` is spent, in bytes
/// a second: each [`MIN_RATE`] bytes received give it a second more, never more than
/// `--client-timeout` ahead (Apache's `mod_reqtimeout` default rate, `MinRate=500`). A phone
/// on a poor link sends thousands.
pub const MIN_RATE: u64 = 500;

/// 413 for a declared length above the limit; a body without one is cut off at the limit.
/// 408 for a body that stalls or comes slower than [`MIN_RATE`] (`Paced`); its connection is
/// closed. 429 or 503 for a body the memory for bodies cannot hold ([`BodyMemory`]), with
/// `Retry-After`. 400 for a body HTTP cannot read (a malformed chunk), where the handler
/// answered as for a fault of its own.
pub async fn body(State(limits): State<BodyLimits>, req: Request, next: Next) -> Response {
    const STALLED: u8 = 1;
    const SLOW: u8 = 2;
    const BROKEN: u8 = 3;
    const CLIENT_FULL: u8 = 4;
    const SERVER_FULL: u8 = 5;
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let client = app::backend::client::address(limits.client_ip_header.as_deref(), peer, req.headers())
        .map(app::backend::client::key);
    // Room to handle the body before any of it is read (and before its pace is counted).
    let _room = match body_size(&limits, &req) {
        0 => None,
        bytes => match limits.handling.room(client, bytes, limits.stall).await {
            Ok(room) => Some(room),
            Err(why) => {
                let (status, whose) = match why {
                    NoRoom::Client => {
                        (StatusCode::TOO_MANY_REQUESTS, "your address's other requests take its share of")
                    }
                    NoRoom::Busy => (StatusCode::SERVICE_UNAVAILABLE, "other requests' bodies take"),
                };
                let message =
                    format!("the request was not handled: {whose} the memory for handling bodies (--max-body-memory)");
                let headers = [(header::CONNECTION, "close"), (header::RETRY_AFTER, "1")];
                return (status, headers, message).into_response();
            }
        },
    };
    let (parts, body) = req.into_parts();
    // Kept here too until the answer is made: the handler holds what it read until then.
    let held = Held::new(limits.memory.clone(), client);
    let late = Arc::new(AtomicU8::new(0));
    let flag = late.clone();
    let timed = Paced::new(body, limits.stall).holding(held.clone()).map_err(move |e| {
        let why = match (e.downcast_ref::<Late>(), e.downcast_ref::<Full>()) {
            (Some(Late { stalled: true }), _) => STALLED,
            (Some(Late { stalled: false }), _) => SLOW,
            (_, Some(Full { client: true })) => CLIENT_FULL,
            (_, Some(Full { client: false })) => SERVER_FULL,
            _ => BROKEN,
        };
        flag.store(why, Ordering::Relaxed);
        axum::Error::new(e)
    });
    let req = Request::from_parts(parts, Body::new(timed));
    let res = limited(&limits, req, next).await;
    drop(held);
    let message = match late.load(Ordering::Relaxed) {
        STALLED => format!("the request body stalled: no part of it came for {:?} (--client-timeout)", limits.stall),
        SLOW => format!(
            "the request body came too slowly: under {MIN_RATE} bytes a second after its first {:?} (--client-timeout)",
            limits.stall
        ),
        why @ (CLIENT_FULL | SERVER_FULL) => {
            let (status, whose) = match why {
                CLIENT_FULL => (StatusCode::TOO_MANY_REQUESTS, "your address holds its share of"),
                _ => (StatusCode::SERVICE_UNAVAILABLE, "other requests hold"),
            };
            let message = format!("the request body was not read: {whose} the memory for bodies (--max-body-memory)");
            let headers = [(header::CONNECTION, "close"), (header::RETRY_AFTER, "1")];
            return (status, headers, message).into_response();
        }
        BROKEN if res.status().is_server_error() => {
            let message = "the request body could not be read: it is not valid HTTP (a malformed chunk?)";
            return (StatusCode::BAD_REQUEST, [(header::CONNECTION, "close")], message).into_response();
        }
        _ => return res,
    };
    (StatusCode::REQUEST_TIMEOUT, [(header::CONNECTION, "close")], message).into_response()
}

/// A request body past its due time: `stalled` when nothing came for the whole grace, else
/// it came slower than [`MIN_RATE`].
#[derive(Debug)]
struct Late {
    stalled: bool,
}

impl std::fmt::Display for Late {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.stalled {
            true => write!(f, "the request body stalled"),
            false => write!(f, "the request body came slower than {MIN_RATE} bytes a second"),
        }
    }
}

impl std::error::Error for Late {}

/// A body due in full by `grace` after its request began, plus a second for each
/// [`MIN_RATE`] bytes that came, but never more than `grace` ahead of now: a body sent fast
/// and then a byte at a time earns no hours of credit (4 MB would have earned 2.3 h, held in
/// memory). Past that, [`Late`]. A body that stops coming is late `grace` after its last part
/// at the latest, so this is its stall limit too.
struct Paced {
    inner: Body,
    /// The memory its parts take, when counted.
    held: Option<Arc<Held>>,
    grace: Duration,
    due: tokio::time::Instant,
    /// When the last part came (the request's start before any).
    last: tokio::time::Instant,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl Paced {
    fn new(inner: Body, grace: Duration) -> Self {
        let now = tokio::time::Instant::now();
        let due = now + grace;
        Paced { inner, held: None, grace, due, last: now, deadline: Box::pin(tokio::time::sleep_until(due)) }
    }

    /// Counts the body's parts in `held`'s memory; a part it cannot hold ends the body
    /// ([`Full`]).
    fn holding(mut self, held: Arc<Held>) -> Self {
        self.held = Some(held);
        self
    }
}

impl HttpBody for Paced {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
                let len = data.map_or(0, |d| d.len());
                if let Some(held) = this.held.as_ref()
                    && let Err(full) = held.take(len)
                {
                    return Poll::Ready(Some(Err(Box::new(full))));
                }
                let earned = Duration::from_secs_f64(len as f64 / MIN_RATE as f64);
                this.last = tokio::time::Instant::now();
                this.due = (this.due + earned).min(this.last + this.grace);
                this.deadline.as_mut().reset(this.due);
            }
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        ready!(this.deadline.as_mut().poll(cx));
        Poll::Ready(Some(Err(Box::new(Late { stalled: this.last.elapsed() >= this.grace }))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

async fn limited(limits: &BodyLimits, req: Request, next: Next) -> Response {
    if req.uri().path() == "/api/v1/alerts" {
        return next.run(req).await;
    }
    if declared_length(req.headers()).is_some_and(|n| n > limits.request) {
        return too_large(limits.request);
    }
    // A body without a declared length is cut off at the limit; the handler then fails to
    // read it, and the answer says why (413), whatever the handler made of it.
    let (parts, body) = req.into_parts();
    let cut = Arc::new(AtomicBool::new(false));
    let flag = cut.clone();
    let limited = http_body_util::Limited::new(body, limits.request).map_err(move |e| {
        if e.is::<http_body_util::LengthLimitError>() {
            flag.store(true, Ordering::Relaxed);
        }
        axum::Error::new(e)
    });
    let res = next.run(Request::from_parts(parts, Body::new(limited))).await;
    if cut.load(Ordering::Relaxed) {
        return too_large(limits.request);
    }
    res
}

/// The bytes a request's body is reckoned at before it is read: its declared length (at
/// most its limit), the limit when it comes in chunks, 0 without a body. Also 0 for a call
/// anyone may make and for a caller with neither a session cookie nor a token: their bodies
/// are read to 16 KiB at most, or refused unread ([`super::anonymous`]), and reckoning them
/// let one address's slow logins keep everyone's logins and webhooks waiting.
fn body_size(limits: &BodyLimits, req: &Request) -> usize {
    let headers = req.headers();
    let visitor = !headers.contains_key(header::COOKIE) && !headers.contains_key(header::AUTHORIZATION);
    if visitor || super::anonymous::PUBLIC.contains(&req.uri().path()) {
        return 0;
    }
    let limit = match req.uri().path() {
        "/api/v1/alerts" => limits.webhook,
        _ => limits.request,
    };
    match declared_length(req.headers()) {
        Some(n) => n.min(limit),
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => limit,
        None => 0,
    }
}

/// A body's declared length (`Content-Length`), if it gives a number.
fn declared_length(headers: &axum::http::HeaderMap) -> Option<usize> {
    headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok())
}

/// Why [`read_at_most`] did not read a body whole.
#[derive(Debug, PartialEq, Eq)]
pub enum Unread {
    /// Declared or found longer than the limit (413).
    TooLarge,
    /// Not readable as HTTP (a malformed chunk), or it stalled: a 400, which [`body`] makes a
    /// 408 for a stall.
    Broken,
}

/// A body of at most `limit` bytes, read whole (the webhook's, a visitor's call): a declared
/// length above it is refused before any of it is waited for.
pub async fn read_at_most(headers: &axum::http::HeaderMap, body: Body, limit: usize) -> Result<bytes::Bytes, Unread> {
    if declared_length(headers).is_some_and(|n| n > limit) {
        return Err(Unread::TooLarge);
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if e.into_inner().is::<http_body_util::LengthLimitError>() { Unread::TooLarge } else { Unread::Broken }
    })
}

fn too_large(limit: usize) -> Response {
    let message = format!("the request body is larger than {limit} bytes (--max-request-bytes)");
    (StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
}

/// The longest request path, in bytes: half of Linux's `PATH_MAX`, which the site root's
/// own path shares when a static file is looked up.
pub const MAX_PATH_BYTES: usize = 2048;
/// The longest segment of a request path, in bytes (a file name's limit, `NAME_MAX`).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// The methods some route of the server answers: pages and reads, server functions, REST v2.
pub const SERVED_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";

/// 414 for a path no page or file can have: longer than [`MAX_PATH_BYTES`], or with a segment
/// longer than [`MAX_SEGMENT_BYTES`]. Without this, the static files' lookup failed with "file
/// name too long", answered 500 and logged an error for what is the caller's mistake. A
/// request without a path (`CONNECT host:port`, which this server does not proxy) is a 405
/// with the methods the server does answer (`Allow`, as RFC 9110 asks of a 405): the page
/// renderer needs a path and panicked.
pub async fn path(req: Request, next: Next) -> Response {
    if req.uri().path_and_query().is_none() || req.method() == axum::http::Method::CONNECT {
        let message = format!("{} is not served here", req.method());
        let allow = [(axum::http::header::ALLOW, SERVED_METHODS)];
        return (StatusCode::METHOD_NOT_ALLOWED, allow, message).into_response();
    }
    let path = req.uri().path();
    if path.len() > MAX_PATH_BYTES || path.split('/').any(|s| s.len() > MAX_SEGMENT_BYTES) {
        let message = format!(
            "the request path is too long (at most {MAX_PATH_BYTES} bytes, {MAX_SEGMENT_BYTES} between slashes)"
        );
        return (StatusCode::URI_TOO_LONG, message).into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A body of `frames` parts of `size` bytes, one every `every`.
    fn dribbled(frames: usize, size: usize, every: Duration) -> Body {
        let parts = futures::stream::unfold(0, move |i| async move {
            (i < frames).then_some(())?;
            tokio::time::sleep(every).await;
            Some((Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; size])), i + 1))
        });
        Body::from_stream(parts)
    }

    /// Handling takes a body at [`HANDLED`] times its size: one large body at a time (three
    /// quarters of all at most), small ones beside it, a waiting large one in when room frees;
    /// a client's others only within an eighth beside it.
    #[tokio::test]
    async fn handling_takes_bodies_at_what_they_build() {
        let (a, b, c) = (Some([10, 0, 0, 1].into()), Some([10, 0, 0, 2].into()), Some([10, 0, 0, 3].into()));
        let h = Arc::new(Handling::new(800 * HANDLED));
        let big = h.room(a, 1_000_000, Duration::ZERO).await.expect("a large body alone");
        let again = h.room(b, 1_000_000, Duration::from_millis(50)).await;
        assert_eq!(again.err(), Some(NoRoom::Busy), "a second large one waits, then not");
        assert_eq!(h.room(a, 150, Duration::ZERO).await.err(), Some(NoRoom::Client), "the first client's share");
        h.room(a, 100, Duration::ZERO).await.expect("an eighth beside its large one");
        let small = h.room(b, 100, Duration::ZERO).await.expect("another's small one beside the large one");
        assert_eq!(h.room(c, 150, Duration::ZERO).await.err(), Some(NoRoom::Busy), "all taken");
        let waiting = tokio::spawn({
            let h = h.clone();
            async move { h.room(c, 1_000_000, Duration::from_secs(10)).await.is_ok() }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(big);
        assert!(waiting.await.unwrap(), "in once the first large one is done");
        drop(small);
        assert_eq!(h.ledger.held.lock().unwrap().0, 0, "every room given back");
        assert!(h.ledger.held.lock().unwrap().1.is_empty());
    }

    /// A client holds up to its share, everyone up to the total; bytes come back when a request
    /// is done with its body (the body and the request both dropped), also one cut short.
    #[tokio::test]
    async fn bodies_share_the_memory_for_bodies() {
        let memory = Arc::new(BodyMemory::new(100, 60));
        let (a, b, c) = (Some([192, 0, 2, 1].into()), Some([192, 0, 2, 2].into()), Some([192, 0, 2, 3].into()));
        let body = |client, size: usize| {
            Paced::new(Body::from(vec![b'x'; size]), Duration::from_secs(5)).holding(Held::new(memory.clone(), client))
        };
        let read = |paced: Paced| async move { paced.collect().await.map(|c| c.to_bytes().len()) };
        let held = || memory.held.lock().unwrap().0;
        // Read whole and dropped: given back.
        assert_eq!(read(body(a, 60)).await.unwrap(), 60);
        assert_eq!(held(), 0);
        // A body alone may pass its client's share (its size limit, a 413, is what holds it).
        assert_eq!(read(body(a, 70)).await.unwrap(), 70);
        let mut one = Box::pin(body(a, 50));
        // Holding 50 of its 60, the client's next 20 is refused; another client's is not.
        assert!(one.as_mut().frame().await.unwrap().is_ok());
        let refused = read(body(a, 20)).await.unwrap_err();
        assert!(matches!(refused.downcast_ref::<Full>(), Some(Full { client: true })), "{refused}");
        let mut two = Box::pin(body(b, 40));
        assert!(two.as_mut().frame().await.unwrap().is_ok());
        // 90 of 100 held: a third client's 20 passes everyone's.
        let refused = read(body(c, 20)).await.unwrap_err();
        assert!(matches!(refused.downcast_ref::<Full>(), Some(Full { client: false })), "{refused}");
        drop(one);
        drop(two);
        // A request keeps its body's bytes until it is answered, after the body is read.
        let request = Held::new(memory.clone(), c);
        let paced = Paced::new(Body::from(vec![b'x'; 60]), Duration::from_secs(5)).holding(request.clone());
        assert_eq!(read(paced).await.unwrap(), 60);
        assert_eq!(held(), 60);
        drop(request);
        assert_eq!(held(), 0);
        assert!(memory.held.lock().unwrap().1.is_empty(), "no client left counted");
    }

    /// A byte every 50 ms never stalls, but falls behind MIN_RATE once the first 200 ms are
    /// spent, and so does one sent fast and then dribbled; one that never comes stalls; a
    /// body that keeps up is read whole, however long it takes.
    #[tokio::test]
    async fn a_dribbled_body_is_cut_and_one_that_keeps_up_is_read() {
        let grace = Duration::from_millis(200);
        let slow = Paced::new(dribbled(100, 1, Duration::from_millis(50)), grace).collect().await;
        let late = slow.expect_err("cut");
        assert!(matches!(late.downcast_ref::<Late>(), Some(Late { stalled: false })), "{late}");
        // One that never comes stalled.
        let silent = Body::from_stream(futures::stream::pending::<Result<bytes::Bytes, axum::Error>>());
        let stalled = Paced::new(silent, grace).collect().await.expect_err("cut");
        assert!(matches!(stalled.downcast_ref::<Late>(), Some(Late { stalled: true })), "{stalled}");
        let fast = futures::stream::iter([Ok::<_, axum::Error>(bytes::Bytes::from(vec![b'x'; 1 << 20]))]);
        let then_slow = futures::StreamExt::chain(
            fast,
            http_body_util::BodyDataStream::new(dribbled(100, 1, Duration::from_millis(50))),
        );
        let started = tokio::time::Instant::now();
        let held = Paced::new(Body::from_stream(then_slow), grace).collect().await;
        assert!(held.expect_err("cut").is::<Late>());
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        let steady = Paced::new(dribbled(20, 1000, Duration::from_millis(50)), grace).collect().await;
        assert_eq!(steady.expect("read whole").to_bytes().len(), 20_000);
    }
}
