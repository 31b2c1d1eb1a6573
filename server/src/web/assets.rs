//! The site's static files and the compression of what the server sends.
//!
//! `/pkg/` holds the hydration bundle and the stylesheet. `.ci/build-site` gives them
//! content-hashed names and lists the current ones in `pkg/manifest.txt`; browsers keep hashed
//! files for a year (`immutable`), anything else under `/pkg/` is revalidated. A release build
//! also leaves `.br` and `.gz` files beside them, sent as the browser's `Accept-Encoding` allows.
//! Pages and JSON are compressed as they are sent (brotli or gzip).

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use std::path::Path;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::services::ServeDir;

/// The names of the current bundle, as the page's `<head>` links them.
#[derive(Clone, Debug, PartialEq)]
pub struct Assets {
    /// Leptos' `output_name`: the page loads `/pkg/<output_name>.js` and
    /// `/pkg/<output_name>_bg.wasm`.
    pub output_name: String,
    /// The stylesheet's path (`/pkg/promgen.<hash>.css`).
    pub css_href: String,
}

impl Assets {
    /// Reads `<site_root>/pkg/manifest.txt` (`output_name=…` and `css=…` lines). Without one
    /// (no site built, or one built before names were hashed) the unhashed names.
    pub fn read(site_root: &Path) -> Assets {
        let text = std::fs::read_to_string(site_root.join("pkg/manifest.txt")).unwrap_or_default();
        Assets::parse(&text)
    }

    fn parse(text: &str) -> Assets {
        let value = |key: &str| {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .find(|(k, _)| k.trim() == key)
                .map(|(_, v)| v.trim().to_string())
                // A name, never a path: the manifest sits with the files it names.
                .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
        };
        Assets {
            output_name: value("output_name").unwrap_or_else(|| "promgen".into()),
            css_href: format!("/pkg/{}", value("css").unwrap_or_else(|| "promgen.css".into())),
        }
    }
}

/// `/pkg/`: the files, precompressed variants preferred.
pub fn pkg(site_root: &Path) -> ServeDir {
    // Files only: a directory is 404, not a redirect (ServeDir's redirect of `/pkg/.` lost the
    // prefix).
    ServeDir::new(site_root.join("pkg")).precompressed_br().precompressed_gzip().append_index_html_on_directories(false)
}

/// Whether a file name carries a content hash (`promgen.0123456789abcdef.js`,
/// `promgen.0123456789abcdef_bg.wasm`).
fn hashed(name: &str) -> bool {
    name.split('.').nth(1).is_some_and(|h| {
        let h = h.strip_suffix("_bg").unwrap_or(h);
        h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// `Cache-Control` for `/pkg/`: a year for hashed names, revalidation for the rest.
pub async fn cache_control(req: Request, next: Next) -> Response {
    let name = req.uri().path().strip_prefix("/pkg/").map(|n| n.rsplit('/').next().unwrap_or(n).to_string());
    let mut res = next.run(req).await;
    if let Some(name) = name
        && res.status() == StatusCode::OK
    {
        let value = if hashed(&name) { "public, max-age=31536000, immutable" } else { "no-cache" };
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// Brotli or gzip for whatever the browser accepts, except what is compressed already
/// (images, the precompressed files, which carry `Content-Encoding`), a development wasm
/// (tens of MB, not worth the CPU per request) and websocket upgrades.
pub fn compression() -> CompressionLayer<impl Predicate> {
    let predicate = DefaultPredicate::new().and(NotForContentType::const_new("application/wasm")).and(
        |status: StatusCode, _: Version, _: &HeaderMap, _: &axum::http::Extensions| {
            status != StatusCode::SWITCHING_PROTOCOLS
        },
    );
    CompressionLayer::new().br(true).gzip(true).quality(CompressionLevel::Default).compress_when(predicate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_names_the_bundle() {
        let a = Assets::parse("output_name=promgen.0123456789abcdef\ncss=promgen.fedcba9876543210.css\n");
        assert_eq!(a.output_name, "promgen.0123456789abcdef");
        assert_eq!(a.css_href, "/pkg/promgen.fedcba9876543210.css");
        assert_eq!(Assets::parse(""), Assets { output_name: "promgen".into(), css_href: "/pkg/promgen.css".into() });
        // Never a path out of /pkg/.
        assert_eq!(Assets::parse("css=../../etc/passwd").css_href, "/pkg/promgen.css");
    }

    #[test]
    fn hashed_names_are_told_apart() {
        assert!(hashed("promgen.0123456789abcdef.js"));
        assert!(hashed("promgen.0123456789abcdef_bg.wasm"));
        assert!(hashed("promgen.0123456789abcdef.css"));
        assert!(!hashed("promgen.css"));
        assert!(!hashed("promgen_bg.wasm"));
        assert!(!hashed("manifest.txt"));
    }
}
