//! The site's static files and the compression of what the server sends.
//!
//! `/pkg/` holds the hydration bundle and the stylesheet. `.ci/build-site` writes each build of
//! the bundle (the main JS and wasm, the wasm chunks of the lazily loaded pages, their loader
//! and Leptos' split manifest) into a directory named for the hash of its contents,
//! `pkg/<16 hex>/`, and the stylesheet as `pkg/promgen.<16 hex>.css`; `pkg/manifest.txt` names
//! the current ones. Browsers keep hashed files for a year (`immutable`); anything else under
//! `/pkg/` is revalidated. A release build also leaves `.br` and `.gz` files beside them, sent
//! as the browser's `Accept-Encoding` allows. Pages and JSON are compressed as they are sent
//! (brotli or gzip).

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::path::Path;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::services::ServeDir;

/// Where the current bundle is, as the page's `<head>` links it.
#[derive(Clone, Debug, PartialEq)]
pub struct Assets {
    /// Leptos' `site_pkg_dir`, relative to the site root: the page loads
    /// `/<pkg_dir>/promgen.js` and `/<pkg_dir>/promgen_bg.wasm`.
    pub pkg_dir: String,
    /// The chunks of each group of pages (`<pkg_dir>/chunks.json`), for the pages' `Link`
    /// preload headers.
    pub chunks: app::chunks::ChunkManifest,
    /// The stylesheet's path (`/pkg/promgen.<hash>.css`).
    pub css_href: String,
}

impl Assets {
    /// Reads `<site_root>/pkg/manifest.txt` (`pkg_dir=pkg/<hash>` and `css=promgen.<hash>.css`
    /// lines). Without one (no site built) the unhashed names: `pkg/promgen.js` and
    /// `pkg/promgen.css`.
    pub fn read(site_root: &Path) -> Assets {
        let text = std::fs::read_to_string(site_root.join("pkg/manifest.txt")).unwrap_or_default();
        let mut assets = Assets::parse(&text);
        assets.chunks =
            app::chunks::ChunkManifest::parse(&format!("/{}", assets.pkg_dir), &assets.chunks_json(site_root));
        assets
    }

    /// The splitter's manifest of the bundle (`<pkg_dir>/chunks.json`: group → chunk names);
    /// empty when there is none.
    pub fn chunks_json(&self, site_root: &Path) -> String {
        std::fs::read_to_string(site_root.join(&self.pkg_dir).join("chunks.json")).unwrap_or_default()
    }

    fn parse(text: &str) -> Assets {
        let value = |key: &str| {
            text.lines().filter_map(|l| l.split_once('=')).find(|(k, _)| k.trim() == key).map(|(_, v)| v.trim())
        };
        // A name, never a path: the manifest sits with the files it names.
        let css =
            value("css").filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)));
        // `pkg/<hash>` and nothing else.
        let build = value("pkg_dir").and_then(|v| v.strip_prefix("pkg/")).filter(|h| is_hash(h));
        Assets {
            pkg_dir: build.map_or_else(|| "pkg".into(), |h| format!("pkg/{h}")),
            css_href: format!("/pkg/{}", css.unwrap_or("promgen.css")),
            chunks: Default::default(),
        }
    }
}

/// The output name Leptos' `HydrationScripts` links inside the bundle's directory.
pub const OUTPUT_NAME: &str = "promgen";

/// `/docs/…`: Swagger UI's files (`.ci/build-site`), precompressed variants preferred: its
/// 1.7 MB bundle compressed on each request took a quarter of a second of CPU each.
pub fn docs(site_root: &Path) -> ServeDir {
    ServeDir::new(site_root).precompressed_br().precompressed_gzip().append_index_html_on_directories(false)
}

/// `/pkg/`: the files, precompressed variants preferred.
pub fn pkg(site_root: &Path) -> ServeDir {
    // Files only: a directory is 404, not a redirect (ServeDir's redirect of `/pkg/.` lost the
    // prefix).
    ServeDir::new(site_root.join("pkg")).precompressed_br().precompressed_gzip().append_index_html_on_directories(false)
}

/// The answer to a method other than GET and HEAD where only files and pages are read (the
/// site root's files, unknown paths): 405 with `Allow`.
pub fn reads_only() -> Response {
    let why = "only GET and HEAD are answered here: files and pages are read, not changed";
    (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")], why).into_response()
}

/// Sixteen hex digits: the content hashes `.ci/build-site` names things with.
fn is_hash(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether a path under `/pkg/` is content-hashed: anything in a build's directory
/// (`0123456789abcdef/promgen_bg.wasm`) or a hashed stylesheet (`promgen.0123456789abcdef.css`).
fn hashed(path: &str) -> bool {
    match path.split_once('/') {
        Some((dir, rest)) => is_hash(dir) && !rest.is_empty(),
        None => path.split('.').nth(1).is_some_and(is_hash),
    }
}

/// `Cache-Control` for `/pkg/`: a year for hashed names, revalidation for the rest; and
/// `Vary: Accept-Encoding`, since the precompressed copies make the answer depend on it.
pub async fn cache_control(req: Request, next: Next) -> Response {
    let name = req.uri().path().strip_prefix("/pkg/").map(str::to_string);
    let mut res = next.run(req).await;
    if let Some(name) = name
        && res.status() == StatusCode::OK
    {
        let value = if hashed(&name) { "public, max-age=31536000, immutable" } else { "no-cache" };
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
        // The file sent depends on Accept-Encoding (the precompressed copies): caches must key
        // on it, or a shared one keeps brotli for a year for clients that cannot read it.
        let varies =
            res.headers().get_all(header::VARY).iter().any(|v| {
                v.to_str().is_ok_and(|v| v.split(',').any(|f| f.trim().eq_ignore_ascii_case("accept-encoding")))
            });
        if !varies {
            res.headers_mut().append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    res
}

/// Brotli or gzip for whatever the browser accepts, except what is compressed already
/// (images, the precompressed files, which carry `Content-Encoding`), a development wasm or
/// pack of chunks (`application/octet-stream`; megabytes, not worth the CPU per request) and
/// websocket upgrades.
pub fn compression() -> CompressionLayer<impl Predicate> {
    let predicate = DefaultPredicate::new()
        .and(NotForContentType::const_new("application/wasm"))
        .and(NotForContentType::const_new("application/octet-stream"))
        .and(|status: StatusCode, _: Version, _: &HeaderMap, _: &axum::http::Extensions| {
            status != StatusCode::SWITCHING_PROTOCOLS
        });
    CompressionLayer::new().br(true).gzip(true).quality(CompressionLevel::Default).compress_when(predicate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_names_the_bundle() {
        let a = Assets::parse("pkg_dir=pkg/0123456789abcdef\ncss=promgen.fedcba9876543210.css\n");
        assert_eq!(a.pkg_dir, "pkg/0123456789abcdef");
        assert_eq!(a.css_href, "/pkg/promgen.fedcba9876543210.css");
        assert_eq!(
            Assets::parse(""),
            Assets { pkg_dir: "pkg".into(), css_href: "/pkg/promgen.css".into(), chunks: Default::default() }
        );
        // Never a path out of /pkg/.
        assert_eq!(Assets::parse("css=../../etc/passwd").css_href, "/pkg/promgen.css");
        assert_eq!(Assets::parse("pkg_dir=pkg/../../etc").pkg_dir, "pkg");
        assert_eq!(Assets::parse("pkg_dir=/etc").pkg_dir, "pkg");
    }

    #[test]
    fn hashed_names_are_told_apart() {
        assert!(hashed("0123456789abcdef/promgen.js"));
        assert!(hashed("0123456789abcdef/promgen_bg.wasm.br"));
        assert!(hashed("0123456789abcdef/__wasm_split.______________________.js"));
        assert!(hashed("promgen.0123456789abcdef.css"));
        assert!(!hashed("0123456789abcdef/"));
        assert!(!hashed("promgen.css"));
        assert!(!hashed("promgen_bg.wasm"));
        assert!(!hashed("manifest.txt"));
        assert!(!hashed("notahash/promgen.js"));
    }
}
