//! Cross-site request forgery guard: a browser request that changes something must come from
//! a page of ours. Browsers send `Origin` (and `Sec-Fetch-Site`) with such requests; the
//! origin's scheme, host and port must be this server's own (the request's `Host`, over http,
//! or https when `--secure-cookies` is set or the proxy says `X-Forwarded-Proto: https`) or
//! one of `--allowed-origins`. `Origin: null` (sandboxed frames, some redirects, `data:`
//! pages) is refused. Without `Origin`, a `Referer` (older browsers) must be a page of ours.
//! Requests without any of these headers (curl, Alertmanager, scripts) are not from a browser
//! page and pass; they authenticate by token.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The origins, besides the server's own, whose pages may send changes.
pub struct AllowedOrigins {
    origins: Vec<Origin>,
    /// Users reach the server over https (behind a proxy): its own origin is https.
    https: bool,
}

/// A serialized origin, parsed: scheme, host and port (the scheme's default made explicit).
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// `scheme://host[:port]`, as browsers send it (no path); `None` for `null` and anything
    /// else that is not an http(s) origin.
    fn parse(text: &str) -> Option<Origin> {
        let url = url::Url::parse(text.trim()).ok()?;
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return None;
        }
        Origin::of(&url)
    }

    /// The origin of a page's address (a `Referer`): its scheme, host and port.
    fn of_page(address: &str) -> Option<Origin> {
        Origin::of(&url::Url::parse(address.trim()).ok()?)
    }

    /// The scheme, host and port of an http(s) `url`.
    fn of(url: &url::Url) -> Option<Origin> {
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        Some(Origin {
            scheme: url.scheme().to_string(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }

    /// The origin of a request to this server: `scheme` and its `Host` header.
    fn of_host(scheme: &str, host: &str) -> Option<Origin> {
        Origin::parse(&format!("{scheme}://{host}"))
    }
}

impl AllowedOrigins {
    pub fn new(origins: &[String], https: bool) -> Self {
        AllowedOrigins { origins: origins.iter().filter_map(|o| Origin::parse(o)).collect(), https }
    }
}

/// Whether a request may change something: from a page of ours, or not from a browser page.
pub fn same_origin(headers: &HeaderMap, allowed: &AllowedOrigins) -> bool {
    let text = |name| headers.get(name).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
    let site = text("sec-fetch-site");
    let ours = |origin: &Origin| {
        let forwarded_https = text("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
        let scheme = if allowed.https || forwarded_https { "https" } else { "http" };
        let own = text(header::HOST.as_str()).and_then(|h| Origin::of_host(scheme, h));
        own.as_ref() == Some(origin) || allowed.origins.contains(origin)
    };
    match text(header::ORIGIN.as_str()) {
        // No Origin: a browser says where the request comes from in Sec-Fetch-Site, if at
        // all, or else in a Referer (older browsers), which must then be a page of ours;
        // without any of them it is not a browser page.
        None => {
            matches!(site, None | Some("same-origin") | Some("none"))
                && text(header::REFERER.as_str()).is_none_or(|r| Origin::of_page(r).is_some_and(|o| ours(&o)))
        }
        Some(origin) => Origin::parse(origin).is_some_and(|o| ours(&o)),
    }
}

pub async fn check(State(allowed): State<Arc<AllowedOrigins>>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) || same_origin(req.headers(), &allowed) {
        next.run(req).await
    } else {
        (StatusCode::FORBIDDEN, "cross-site request refused: the Origin does not match this server").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn compares_scheme_host_and_port() {
        let allowed = AllowedOrigins::new(&["https://promgen.example.com".into()], false);
        let ok = |pairs: &[(&'static str, &str)]| same_origin(&headers(pairs), &allowed);
        assert!(ok(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")]));
        assert!(ok(&[("host", "promgen.local"), ("origin", "http://promgen.local:80")]), "default port");
        assert!(!ok(&[("host", "127.0.0.1:3000"), ("origin", "https://127.0.0.1:3000")]), "scheme differs");
        assert!(!ok(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3001")]), "port differs");
        assert!(!ok(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")]));
        assert!(ok(&[("host", "10.0.0.1"), ("origin", "https://promgen.example.com:443")]), "configured");
        assert!(!ok(&[("host", "10.0.0.1"), ("origin", "http://promgen.example.com")]), "configured is https");
        assert!(ok(&[("host", "p.example"), ("origin", "https://p.example"), ("x-forwarded-proto", "https")]));
        assert!(!ok(&[("host", "127.0.0.1:3000"), ("origin", "null")]), "null is refused");
        assert!(!ok(&[("origin", "null"), ("sec-fetch-site", "same-origin")]), "null is refused");
        assert!(!ok(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000/x")]));
        assert!(ok(&[]), "not a browser");
        assert!(ok(&[("sec-fetch-site", "same-origin")]));
        assert!(!ok(&[("sec-fetch-site", "cross-site")]));
        // No Origin, but a Referer (older browsers): it must be a page of ours.
        assert!(ok(&[("host", "127.0.0.1:3000"), ("referer", "http://127.0.0.1:3000/project/1")]));
        assert!(!ok(&[("host", "127.0.0.1:3000"), ("referer", "https://evil.example/")]), "foreign referer");
        assert!(!ok(&[("host", "127.0.0.1:3000"), ("referer", "not a url")]), "unreadable referer");
    }
}
