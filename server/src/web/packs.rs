//! A later page's wasm chunks in one file, less those the browser has already.
//!
//! A first page's chunks come in its group's pack, `pkg/<build>/pack_<group>.bin`, written and
//! precompressed by `.ci/build-site` (see `app::chunks`). A page reached later needs only the
//! chunks of its group that no earlier page brought: from a project page to a service page 9 of
//! 237 (29 KB brotli where the whole pack is 199 KB). The chunk loader asks for those as
//! `pack_<group>.bin?have=<what it has>`, and this module answers with a pack of the rest, in
//! the same format (one line of JSON, `[["chunk_3", <bytes>], …]`, then the chunks' bytes),
//! compressed as the browser's `Accept-Encoding` allows, on the server's pool for CPU-heavy
//! work. Anything else under `/pkg/` is left to the static files. A pack of another build (a
//! tab left open across a deploy, whose files are gone) is then a 404, and the loader fetches
//! its chunks one by one. A request whose pack of the rest would not be much smaller than the
//! whole (compressed here less well than the build does), that would wait behind others (see
//! [`QUEUE_MAX`]) or that the pool cannot take within its budget gets the whole pack,
//! precompressed, which the loader takes as well.
//!
//! `have` lists chunk files by name without `.wasm`, separated by `.`: a number `N` or a range
//! `N-M` stands for `chunk_N` … `chunk_M`; any other name (`split_users`) for itself.
//!
//! `&with=<group>.<group>…` adds other groups' chunks to the pack: a first page asks for its
//! sections' (`app::components::deferred`) this way, all in one pack once its own has arrived,
//! so a pack `with` others is of sections only (`section_…`). Such a pack is made here (no file
//! of the build holds it).
//! Library choices: `brotli` and `flate2` (the compressors tower-http uses) and `quick_cache`
//! for the packs made.

use app::error::AppError;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

/// Chunk names a `have` may list at most (a build has a few hundred chunks).
const HAVE_MAX_NAMES: usize = 2000;
/// Groups a `with` may add at most (a page has a handful of sections).
const WITH_MAX_GROUPS: usize = 16;
/// Bytes of compressed packs kept, for the next browser that asks for the same.
const CACHE_BYTES: u64 = 64 << 20;
/// Brotli's quality for packs made per request: 6 takes 0.05 to 0.2 s for a megabyte of wasm
/// and is 15% larger than the build's 11, which takes 2 s.
const BROTLI_QUALITY: u32 = 6;
/// A pack of the chunks the tab lacks is made only when its chunks are at most this share of
/// the group's (in bytes): above it the whole pack, compressed better at build time, is about as
/// small (a reviewer found later packs 7% larger than the whole).
const LATER_PACK_MAX_SHARE: f64 = 0.8;
/// Requests that may wait for a pack to be made (or for the same pack made for another); more
/// get the whole pack at once. Packs are made one at a time, and a queue of forty stalled every
/// tab's next page for 13 s.
const QUEUE_MAX: usize = 4;
/// The wasm one client (an IPv4 address, an IPv6 /64) may have made into packs a minute, a
/// burst of as much, as a multiple of the build's chunks (2.3 MB in a release build): a browser
/// has a pack made for each kind of page it reaches first (tens of kilobytes each) and one of a
/// first page's sections (at most half the build), and anyone may ask for made-up combinations
/// at about 0.4 s of CPU a megabyte (a reviewer's pack of every group of a development build,
/// 15.8 MB, took 6.5 s). Past it a client gets the whole pack, or a 429 for a pack with other
/// groups (its loader then fetches their chunks one by one, precompressed).
const MADE_PER_MINUTE: u64 = 4;
/// The wasm all clients may have made into packs a minute, as a multiple of the build's: many
/// addresses together keep at most about a third of a core busy.
const ALL_MADE_PER_MINUTE: u64 = 16;
/// The unit the limits above count in: 64 KiB of wasm.
const MADE_UNIT: u64 = 64 << 10;
/// Clients the limit remembers before it forgets those whose limits have filled up again.
const CLIENTS_KEPT: usize = 4096;

/// The current build's chunks per group, and the packs made of them.
#[derive(Clone)]
pub struct Packs {
    inner: Arc<Inner>,
}

struct Inner {
    /// `pkg/<hash>` under the site root, as `/pkg/<hash>/` is served.
    build: String,
    /// Where the build's files are.
    dir: PathBuf,
    /// Group → its chunk file names (`chunk_3`), the splitter's manifest (`chunks.json`).
    groups: HashMap<String, Vec<String>>,
    /// Chunk → its size in bytes (uncompressed), read once.
    sizes: HashMap<String, u64>,
    cache: quick_cache::sync::Cache<(String, Encoding), Bytes, PackWeight>,
    /// Where packs are made: the server's pool for CPU-heavy work (`--cpu-budget`), off the
    /// async workers.
    cpu: app::backend::cpu::Cpu,
    /// One pack made at a time (of the pool's one thread per core): a request costs up to
    /// 0.2 s of CPU and anyone may ask. The work finishes (and is kept) when the browser that
    /// asked has gone.
    making: Semaphore,
    /// Requests waiting for a pack to be made (counted where they start to wait, until their
    /// task ends).
    queued: AtomicUsize,
    /// `--client-ip-header`, for whom a pack is made.
    client_ip_header: Option<String>,
    /// Wasm made into packs per client ([`MADE_PER_MINUTE`]) and in all, in [`MADE_UNIT`]s.
    made_for: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    made: governor::DefaultDirectRateLimiter,
}

#[derive(Clone)]
struct PackWeight;

impl quick_cache::Weighter<(String, Encoding), Bytes> for PackWeight {
    fn weight(&self, _: &(String, Encoding), pack: &Bytes) -> u64 {
        pack.len() as u64 + 1
    }
}

/// How a pack is sent: the first of brotli and gzip that `Accept-Encoding` allows.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// From an `Accept-Encoding` value (`gzip, deflate, br;q=0.9`), as RFC 9110 §12.5.3 has
    /// it: the coding with the highest weight (brotli on a tie), a coding's own entry before
    /// `*`, `q=0` refusing it; as the precompressed static files are chosen.
    fn accepted(value: &str) -> Encoding {
        let entries: Vec<(String, f32)> = value
            .split(',')
            .filter_map(|entry| {
                let mut parts = entry.split(';');
                let coding = parts.next()?.trim().to_ascii_lowercase();
                let q = parts
                    .filter_map(|p| p.split_once('=').filter(|(k, _)| k.trim().eq_ignore_ascii_case("q")))
                    .map(|(_, v)| v.trim().parse::<f32>().unwrap_or(0.0))
                    .next()
                    .unwrap_or(1.0);
                (!coding.is_empty()).then_some((coding, q))
            })
            .collect();
        let weight = |name: &str| {
            let own = entries.iter().find(|(c, _)| c == name);
            own.or_else(|| entries.iter().find(|(c, _)| c == "*")).map_or(0.0, |(_, q)| *q)
        };
        let (br, gzip) = (weight("br"), weight("gzip"));
        if br > 0.0 && br >= gzip {
            Encoding::Brotli
        } else if gzip > 0.0 {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }
}

impl Packs {
    /// The packs of the build `pkg_dir` (`pkg/<hash>`) under `site_root`, its groups from the
    /// splitter's manifest `chunks_json` (group → chunk names); an unreadable manifest gives
    /// no groups (every pack then comes from the static files). Packs are made on `cpu`, of at
    /// most [`MADE_PER_MINUTE`] times the build's wasm a minute for a client (its address read
    /// as `client_ip_header`, `--client-ip-header`, says) and [`ALL_MADE_PER_MINUTE`] in all.
    pub fn new(
        site_root: &std::path::Path,
        pkg_dir: &str,
        chunks_json: &str,
        cpu: app::backend::cpu::Cpu,
        client_ip_header: Option<String>,
    ) -> Packs {
        Packs::limited(site_root, pkg_dir, chunks_json, cpu, client_ip_header, None)
    }

    /// As [`Packs::new`], with a client's limit of `made_per_minute` units when given.
    fn limited(
        site_root: &std::path::Path,
        pkg_dir: &str,
        chunks_json: &str,
        cpu: app::backend::cpu::Cpu,
        client_ip_header: Option<String>,
        made_per_minute: Option<u32>,
    ) -> Packs {
        let groups: HashMap<String, Vec<String>> = serde_json::from_str(chunks_json).unwrap_or_default();
        let dir = site_root.join(pkg_dir);
        let sizes: HashMap<String, u64> = groups
            .values()
            .flatten()
            .filter_map(|c| Some((c.clone(), std::fs::metadata(dir.join(format!("{c}.wasm"))).ok()?.len())))
            .collect();
        let build = sizes.values().sum::<u64>().div_ceil(MADE_UNIT).max(1);
        let units = |times: u64| u32::try_from(build * times).unwrap_or(u32::MAX);
        let made_per_minute = made_per_minute.unwrap_or(units(MADE_PER_MINUTE));
        Packs {
            inner: Arc::new(Inner {
                build: pkg_dir.to_string(),
                dir,
                groups,
                sizes,
                cache: quick_cache::sync::Cache::with_weighter(256, CACHE_BYTES, PackWeight),
                cpu,
                making: Semaphore::new(1),
                queued: AtomicUsize::new(0),
                client_ip_header,
                made_for: governor::RateLimiter::keyed(per_minute(made_per_minute)),
                made: governor::RateLimiter::direct(per_minute(units(ALL_MADE_PER_MINUTE).max(made_per_minute))),
            }),
        }
    }
}

/// Middleware before the static files: answers `GET /pkg/<build>/pack_<group>.bin?have=…`
/// (and `HEAD`) for the current build and a known group with the group's chunks the browser
/// lacks (see the module's doc); 400 for a `have` it cannot read. Anything else goes on, as do
/// requests the whole pack serves better (see the module's doc).
pub async fn later_pack(State(packs): State<Packs>, req: Request, next: Next) -> Response {
    let Some((group, have, with)) = pack_request(&packs.inner, &req) else {
        return next.run(req).await;
    };
    let have = match Have::parse(have) {
        Ok(have) => have,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("have: {e}")).into_response(),
    };
    let inner = &packs.inner;
    let with = match with.map(|w| with_groups(inner, group, w)).transpose() {
        Ok(with) => with.unwrap_or_default(),
        Err(e) => return (StatusCode::BAD_REQUEST, format!("with: {e}")).into_response(),
    };
    let all = &inner.groups[group];
    // Each chunk once, in the groups' order (a set: groups share most of their chunks).
    let mut seen = std::collections::HashSet::new();
    let chunks: Vec<String> = all
        .iter()
        .chain(with.iter().flat_map(|g| &inner.groups[*g]))
        .filter(|c| !have.covers(c) && seen.insert(c.as_str()))
        .cloned()
        .collect();
    let bytes = |names: &[String]| names.iter().map(|c| inner.sizes.get(c).copied().unwrap_or(0)).sum::<u64>();
    if with.is_empty() && bytes(&chunks) as f64 > LATER_PACK_MAX_SHARE * bytes(all) as f64 {
        return next.run(req).await;
    }
    let encoding = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map_or(Encoding::Identity, Encoding::accepted);
    let key = (chunks.join("."), encoding);
    let pack = match inner.cache.get(&key) {
        Some(pack) => pack,
        None => {
            if !inner.may_make_for(&req, bytes(&chunks)) {
                if with.is_empty() {
                    return next.run(req).await;
                }
                let why = "too many packs made for your address; fetch the chunks one by one";
                return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "15")], why).into_response();
            }
            if inner.queued.fetch_add(1, Ordering::SeqCst) >= QUEUE_MAX {
                inner.queued.fetch_sub(1, Ordering::SeqCst);
                return next.run(req).await;
            }
            let made = tokio::spawn(make_and_keep(packs.clone(), key, chunks)).await;
            match made {
                Ok(Ok(pack)) => pack,
                // The pool was busy past its budget: the whole pack is ready.
                Ok(Err(e)) if e.status() == 503 => return next.run(req).await,
                Ok(Err(e)) => {
                    // A chunk of the current build that cannot be read: the site directory
                    // changed under the server.
                    tracing::error!(error = %e, group, "cannot make a pack of chunks");
                    return (StatusCode::INTERNAL_SERVER_ERROR, "the chunks cannot be read").into_response();
                }
                Err(e) => {
                    tracing::error!(error = %e, group, "making a pack of chunks failed");
                    return (StatusCode::INTERNAL_SERVER_ERROR, "the chunks cannot be read").into_response();
                }
            }
        }
    };
    let mut res = pack.into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    if let Some(coding) = encoding.header() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    res
}

impl Inner {
    /// Takes `bytes` of the wasm the request's client may have made into packs
    /// ([`MADE_PER_MINUTE`]), and of all clients' ([`ALL_MADE_PER_MINUTE`]); a request without an
    /// address (tests' own) counts in all only. A pack larger than a minute's is never made.
    fn may_make_for(&self, req: &Request, bytes: u64) -> bool {
        let units = std::num::NonZeroU32::new(bytes.div_ceil(MADE_UNIT).clamp(1, u32::MAX as u64) as u32)
            .unwrap_or(std::num::NonZeroU32::MIN);
        let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        if let Some(ip) = app::backend::client::address(self.client_ip_header.as_deref(), peer, req.headers()) {
            if self.made_for.len() > CLIENTS_KEPT {
                self.made_for.retain_recent();
            }
            if !matches!(self.made_for.check_key_n(&app::backend::client::key(ip), units), Ok(Ok(()))) {
                return false;
            }
        }
        matches!(self.made.check_n(units), Ok(Ok(())))
    }
}

fn per_minute(units: u32) -> governor::Quota {
    governor::Quota::per_minute(std::num::NonZeroU32::new(units).unwrap_or(std::num::NonZeroU32::MIN))
}

/// Makes the pack of `chunks` compressed as `key` says and keeps it, in a task of its own: a
/// browser that goes away leaves it to finish, and the next that asks gets it from the cache.
async fn make_and_keep(packs: Packs, key: (String, Encoding), chunks: Vec<String>) -> Result<Bytes, AppError> {
    let inner = packs.inner.clone();
    let made = inner
        .cache
        .get_or_insert_async(&key, async {
            let _one = inner.making.acquire().await.map_err(|e| AppError::Internal(e.to_string()))?;
            let (dir, encoding) = (inner.dir.clone(), key.1);
            inner
                .cpu
                .run("making a pack of chunks", move || make_pack(&dir, &chunks, encoding))
                .await?
                .map_err(|e| AppError::Internal(e.to_string()))
        })
        .await;
    inner.queued.fetch_sub(1, Ordering::SeqCst);
    made
}

/// The group, the `have` value and the `with` value (if any) of a request for a later pack of
/// the current build.
fn pack_request<'r>(inner: &Inner, req: &'r Request) -> Option<(&'r str, &'r str, Option<&'r str>)> {
    if req.method() != axum::http::Method::GET && req.method() != axum::http::Method::HEAD {
        return None;
    }
    let file = req.uri().path().strip_prefix('/')?.strip_prefix(inner.build.as_str())?.strip_prefix('/')?;
    let group = file.strip_prefix("pack_")?.strip_suffix(".bin")?;
    if !inner.groups.contains_key(group) {
        return None;
    }
    let query = req.uri().query()?;
    let have = query.split('&').find_map(|p| p.strip_prefix("have="))?;
    let with = query.split('&').find_map(|p| p.strip_prefix("with="));
    Some((group, have, with))
}

/// The groups a `with` names (`section_rules.section_members`) to add to `group`'s pack, each a
/// section of the build as `group` must be (a page's sections come so, nothing else: a pack
/// of every page's code took 6.5 s of CPU); errors name the first that is not.
fn with_groups<'w>(inner: &Inner, group: &str, with: &'w str) -> Result<Vec<&'w str>, String> {
    let groups: Vec<&str> = with.split('.').filter(|g| !g.is_empty()).collect();
    if groups.len() > WITH_MAX_GROUPS {
        return Err(format!("more than {WITH_MAX_GROUPS} groups"));
    }
    if let Some(unknown) = groups.iter().find(|g| !inner.groups.contains_key(**g)) {
        return Err(format!("{:?} is not a group of this build", shorten(unknown)));
    }
    match std::iter::once(group).chain(groups.iter().copied()).find(|g| !g.starts_with("section_")) {
        Some(page) => Err(format!("{:?} is not a section: only sections come with others", shorten(page))),
        None => Ok(groups),
    }
}

/// The chunks a browser has, as `have` lists them.
#[derive(Debug, Default, PartialEq)]
struct Have<'a> {
    /// `chunk_N` for N in these ranges (both ends included).
    numbered: Vec<(u32, u32)>,
    /// Other names, as they are.
    named: Vec<&'a str>,
}

impl<'a> Have<'a> {
    /// Errors name the first part that is not a number, a range or a file name.
    fn parse(value: &'a str) -> Result<Have<'a>, String> {
        let mut have = Have::default();
        for (i, part) in value.split('.').filter(|p| !p.is_empty()).enumerate() {
            if i == HAVE_MAX_NAMES {
                return Err(format!("more than {HAVE_MAX_NAMES} names"));
            }
            let number = |s: &str| s.parse::<u32>().ok().filter(|_| s.bytes().all(|b| b.is_ascii_digit()));
            if let Some((from, to)) = part.split_once('-') {
                match (number(from), number(to)) {
                    (Some(from), Some(to)) if from <= to => have.numbered.push((from, to)),
                    _ => return Err(format!("{:?} is not a range of chunk numbers", shorten(part))),
                }
            } else if part.bytes().all(|b| b.is_ascii_digit()) {
                let n = number(part).ok_or_else(|| format!("{:?} is not a chunk number", shorten(part)))?;
                have.numbered.push((n, n));
            } else if part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                have.named.push(part);
            } else {
                return Err(format!("{:?} is not a chunk's name", shorten(part)));
            }
        }
        Ok(have)
    }

    fn covers(&self, chunk: &str) -> bool {
        match chunk.strip_prefix("chunk_").and_then(|n| n.parse::<u32>().ok()) {
            Some(n) if self.numbered.iter().any(|&(from, to)| (from..=to).contains(&n)) => true,
            _ => self.named.contains(&chunk),
        }
    }
}

/// At most 40 characters of what a caller sent, for an error message.
fn shorten(s: &str) -> String {
    app::model::shortened(s, 40)
}

/// The pack of `chunks` (files `<name>.wasm` in `dir`), compressed as `encoding` says.
fn make_pack(dir: &std::path::Path, chunks: &[String], encoding: Encoding) -> std::io::Result<Bytes> {
    let mut index = Vec::with_capacity(chunks.len());
    let mut body = Vec::new();
    for name in chunks {
        let bytes = std::fs::read(dir.join(format!("{name}.wasm")))?;
        index.push((name.as_str(), bytes.len()));
        body.extend_from_slice(&bytes);
    }
    let mut pack = serde_json::to_vec(&index).map_err(std::io::Error::other)?;
    pack.push(b'\n');
    pack.extend_from_slice(&body);
    Ok(Bytes::from(match encoding {
        Encoding::Identity => pack,
        Encoding::Brotli => {
            let mut out = brotli::CompressorWriter::new(Vec::new(), 1 << 16, BROTLI_QUALITY, 22);
            out.write_all(&pack)?;
            out.into_inner()
        }
        Encoding::Gzip => {
            // Level 6 (gzip's own default): 9 took half as long again for under 1% less (zlib on
            // a development build's sections, 9 MB: 0.83 s against 1.2 s).
            let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            out.write_all(&pack)?;
            out.finish()?
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn have_reads_numbers_ranges_and_names() {
        let have = Have::parse("3.5-7.split_users").unwrap();
        assert!(have.covers("chunk_3") && have.covers("chunk_5") && have.covers("chunk_7"));
        assert!(!have.covers("chunk_4") && !have.covers("chunk_8") && !have.covers("chunk_30"));
        assert!(have.covers("split_users") && !have.covers("split_user"));
        assert_eq!(Have::parse("").unwrap(), Have::default());
        assert_eq!(Have::parse("7-5").unwrap_err(), "\"7-5\" is not a range of chunk numbers");
        assert_eq!(Have::parse("1.+2").unwrap_err(), "\"+2\" is not a chunk's name");
        assert_eq!(Have::parse("../etc").unwrap_err(), "\"/etc\" is not a chunk's name");
        assert!(Have::parse(&"1.".repeat(HAVE_MAX_NAMES + 1)).unwrap_err().starts_with("more than"));
        assert_eq!(Have::parse("4294967296").unwrap_err(), "\"4294967296\" is not a chunk number");
        assert!(Have::parse("chunk_5").unwrap().covers("chunk_5"));
        // A huge range is two numbers, not a list.
        assert!(Have::parse("0-4294967295").unwrap().covers("chunk_123456"));
    }

    #[test]
    fn accept_encoding_picks_brotli_then_gzip() {
        assert_eq!(Encoding::accepted("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(Encoding::accepted("gzip;q=1, br;q=0"), Encoding::Gzip);
        assert_eq!(Encoding::accepted("identity"), Encoding::Identity);
        assert_eq!(Encoding::accepted("*"), Encoding::Brotli);
        assert_eq!(Encoding::accepted("BR;q=0.5"), Encoding::Brotli);
        // A coding's own entry before `*`; `Q` as `q`; the higher weight first (a reviewer's).
        assert_eq!(Encoding::accepted("br;q=0, *"), Encoding::Gzip);
        assert_eq!(Encoding::accepted("br;Q=0, gzip"), Encoding::Gzip);
        assert_eq!(Encoding::accepted("gzip;q=0.9, br;q=0.1"), Encoding::Gzip);
        assert_eq!(Encoding::accepted("br;q=0, gzip;q=0"), Encoding::Identity);
        assert_eq!(Encoding::accepted("br;q=nonsense, gzip"), Encoding::Gzip);
    }

    /// A build of three chunks in a directory of the test's own.
    fn site(test: &str) -> Packs {
        limited_site(test, None)
    }

    fn limited_site(test: &str, made_per_minute: Option<u32>) -> Packs {
        let dir = std::env::temp_dir().join(format!("promgen-packs-{test}-{}", std::process::id()));
        // Left by a run that failed.
        let _ = std::fs::remove_dir_all(&dir);
        let build = dir.join("pkg/0123456789abcdef");
        std::fs::create_dir_all(&build).unwrap();
        for (name, bytes) in [
            ("chunk_1", &b"\0asm-one"[..]),
            ("chunk_2", b"\0asm-two"),
            ("split_users", b"\0asm-users"),
            ("split_section_members", b"\0asm-members"),
            ("split_section_rules", b"\0asm-rules"),
        ] {
            std::fs::write(build.join(format!("{name}.wasm")), bytes).unwrap();
        }
        let json = r#"{"users": ["chunk_1", "chunk_2", "split_users"], "section_members": ["chunk_2", "split_section_members"],
            "section_rules": ["chunk_1", "split_section_rules"]}"#;
        let cpu = app::backend::cpu::Cpu::default();
        Packs::limited(&dir, "pkg/0123456789abcdef", json, cpu, None, made_per_minute)
    }

    async fn get(packs: &Packs, uri: &str, accept: &str) -> (StatusCode, Option<String>, Vec<u8>) {
        get_from(packs, uri, accept, None).await
    }

    /// As [`get`], from `peer` (a connection's address) when given.
    async fn get_from(
        packs: &Packs,
        uri: &str,
        accept: &str,
        peer: Option<&str>,
    ) -> (StatusCode, Option<String>, Vec<u8>) {
        use tower::ServiceExt;
        let app = axum::Router::new()
            .fallback(|| async { (StatusCode::IM_A_TEAPOT, "static") })
            .layer(axum::middleware::from_fn_with_state(packs.clone(), later_pack));
        let mut req =
            Request::get(uri).header(header::ACCEPT_ENCODING, accept).body(axum::body::Body::empty()).unwrap();
        if let Some(peer) = peer {
            let peer: std::net::SocketAddr = peer.parse().unwrap();
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        }
        let res = app.oneshot(req).await.unwrap();
        let status = res.status();
        let coding = res.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap().to_string());
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec();
        (status, coding, body)
    }

    #[tokio::test]
    async fn a_later_pack_holds_what_the_browser_lacks() {
        let packs = site("later");
        let (status, coding, body) = get(&packs, "/pkg/0123456789abcdef/pack_users.bin?have=1.9-12", "identity").await;
        assert_eq!((status, coding), (StatusCode::OK, None));
        assert_eq!(body, b"[[\"chunk_2\",8],[\"split_users\",10]]\n\0asm-two\0asm-users");

        let (status, coding, body) = get(&packs, "/pkg/0123456789abcdef/pack_users.bin?have=1", "gzip, br").await;
        assert_eq!((status, coding.as_deref()), (StatusCode::OK, Some("br")));
        let mut plain = Vec::new();
        brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut plain).unwrap();
        assert!(plain.starts_with(b"[[\"chunk_2\",8],"));

        let (_, coding, body) = get(&packs, "/pkg/0123456789abcdef/pack_users.bin?have=1-2.split_users", "gzip").await;
        assert_eq!(coding.as_deref(), Some("gzip"));
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut plain).unwrap();
        assert_eq!(plain, b"[]\n");
        packs.remove_site();
    }

    #[tokio::test]
    async fn a_pack_may_hold_other_groups_chunks_too() {
        let packs = site("with");
        // A first page's sections, once its own pack is in: theirs, each chunk once, less what
        // the page brought; always made (no file holds it), even when little is left out.
        let uri = "/pkg/0123456789abcdef/pack_section_members.bin?have=2&with=section_rules";
        let (status, _, body) = get(&packs, uri, "identity").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            b"[[\"split_section_members\",12],[\"chunk_1\",8],[\"split_section_rules\",10]]\n\0asm-members\0asm-one\0asm-rules"
        );
        for (with, why) in [
            ("nobody", "with: \"nobody\" is not a group of this build"),
            ("section_rules.x%2F", "with: \"x%2F\" is not a group of this build"),
            // Pages' code comes in their own packs: made here only a section's.
            ("section_rules.users", "with: \"users\" is not a section: only sections come with others"),
        ] {
            let uri = format!("/pkg/0123456789abcdef/pack_section_members.bin?have=1&with={with}");
            let (status, _, body) = get(&packs, &uri, "br").await;
            assert_eq!((status, String::from_utf8(body).unwrap().as_str()), (StatusCode::BAD_REQUEST, why));
        }
        let uri = "/pkg/0123456789abcdef/pack_users.bin?have=1&with=section_rules";
        let (status, _, body) = get(&packs, uri, "br").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "with: \"users\" is not a section: only sections come with others"
        );
        let many = vec!["section_rules"; WITH_MAX_GROUPS + 1].join(".");
        let uri = format!("/pkg/0123456789abcdef/pack_section_members.bin?have=1&with={many}");
        assert_eq!(get(&packs, &uri, "br").await.0, StatusCode::BAD_REQUEST);
        packs.remove_site();
    }

    #[tokio::test]
    async fn other_requests_go_to_the_static_files() {
        let packs = site("static");
        for uri in [
            // The build's own pack, precompressed; also when the browser has too little of it
            // for a pack of the rest to be much smaller (none of it here).
            "/pkg/0123456789abcdef/pack_users.bin",
            "/pkg/0123456789abcdef/pack_users.bin?have=",
            "/pkg/0123456789abcdef/pack_users.bin?have=7.split_home",
            // Another build, an unknown group, another file.
            "/pkg/fedcba9876543210/pack_users.bin?have=1",
            "/pkg/0123456789abcdef/pack_nobody.bin?have=1",
            "/pkg/0123456789abcdef/chunk_1.wasm?have=1",
        ] {
            assert_eq!(get(&packs, uri, "br").await.0, StatusCode::IM_A_TEAPOT, "{uri}");
        }
        let (status, _, body) = get(&packs, "/pkg/0123456789abcdef/pack_users.bin?have=1.%3Cscript%3E", "br").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(String::from_utf8(body).unwrap(), "have: \"%3Cscript%3E\" is not a chunk's name");
        packs.remove_site();
    }

    #[tokio::test]
    async fn a_client_has_only_so_many_packs_made() {
        let packs = limited_site("per-client", Some(2));
        let later = "/pkg/0123456789abcdef/pack_users.bin?have=1";
        let sections = "/pkg/0123456789abcdef/pack_section_members.bin?have=2&with=section_rules";
        let a = Some("192.0.2.1:4000");
        assert_eq!(get_from(&packs, later, "br", a).await.0, StatusCode::OK);
        assert_eq!(get_from(&packs, later, "gzip", a).await.0, StatusCode::OK);
        // Made already: from the cache, not counted.
        assert_eq!(get_from(&packs, later, "br", a).await.0, StatusCode::OK);
        // A third to be made: the whole pack; with other groups, a 429 (the loader then
        // fetches the chunks one by one).
        assert_eq!(get_from(&packs, later, "identity", a).await.0, StatusCode::IM_A_TEAPOT);
        let (status, _, body) = get_from(&packs, sections, "br", a).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(String::from_utf8(body).unwrap().starts_with("too many packs made for your address"));
        // Another address of the same IPv6 /64 is the same client; another client is served.
        let v6 = |n: u8| format!("[2001:db8::{n}]:4000");
        assert_eq!(get_from(&packs, sections, "gzip", Some(&v6(1))).await.0, StatusCode::OK);
        assert_eq!(get_from(&packs, sections, "identity", Some(&v6(2))).await.0, StatusCode::OK);
        let (status, _, _) = get_from(&packs, "/pkg/0123456789abcdef/pack_users.bin?have=2", "br", Some(&v6(3))).await;
        assert_eq!(status, StatusCode::IM_A_TEAPOT);
        assert_eq!(get_from(&packs, sections, "br", Some("192.0.2.2:4000")).await.0, StatusCode::OK);
        packs.remove_site();
    }

    impl Packs {
        fn remove_site(&self) {
            std::fs::remove_dir_all(self.inner.dir.parent().unwrap().parent().unwrap()).unwrap();
        }
    }
}
