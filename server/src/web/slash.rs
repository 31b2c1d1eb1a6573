//! Page addresses with a trailing slash, as Promgen writes them (`/project/1/`): the pages
//! answer without it (`/project/1`), and with it the router drew the page with a 404 status.
//! List pages by the plural people guess (`/alerts`): Promgen's are singular (`/alert`).
//! And the address a plain form post is sent back to, without an empty query.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Prefixes that are not pages: their own routers answer for slashes (REST v2 takes them).
const NOT_PAGES: [&str; 5] = ["/rest/", "/api/", "/pkg/", "/proxy/", "/ws"];

/// The list pages whose plural is asked for, and their address.
const PLURALS: [(&str, &str); 6] = [
    ("/alerts", "/alert"),
    ("/silences", "/silence"),
    ("/shards", "/shard"),
    ("/probes", "/probe"),
    ("/groups", "/group"),
    ("/users", "/user"),
];

/// A `GET` or `HEAD` of a page path ending in `/`, or of a list page's plural, is sent (308)
/// to the page's path, with its query. A path that would then start with `//`, or that holds
/// a `\` (browsers read `/\host` as `//host`: another host), is left to answer 404.
pub async fn without_trailing_slash(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let read = req.method() == Method::GET || req.method() == Method::HEAD;
    let slashed = path.len() > 1 && path.ends_with('/') && !NOT_PAGES.iter().any(|p| path.starts_with(p));
    let trimmed = path.trim_end_matches('/');
    let plural = PLURALS.iter().find(|(plural, _)| *plural == trimmed).map(|(_, page)| *page);
    if !read
        || !(slashed || plural.is_some())
        || trimmed.is_empty()
        || trimmed.starts_with("//")
        || trimmed.contains('\\')
    {
        return next.run(req).await;
    }
    let page = plural.unwrap_or(trimmed);
    let location = match req.uri().query() {
        Some(q) => format!("{page}?{q}"),
        None => page.to_string(),
    };
    (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, location)]).into_response()
}

/// A server function's redirect back to the page (a form posted without JavaScript) without
/// an empty query: server_fn takes an earlier refusal out of the page's address (`__path`,
/// `__err`) and leaves a `?` behind when nothing else was there, so every plain form post
/// landed on `/project/1?`.
pub async fn without_empty_query(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let location = res.headers().get(header::LOCATION).and_then(|l| l.to_str().ok());
    if res.status().is_redirection()
        && let Some(tidy) = location.and_then(|l| l.strip_suffix('?')).map(str::to_string)
        && let Ok(tidy) = axum::http::HeaderValue::from_str(&tidy)
    {
        res.headers_mut().insert(header::LOCATION, tidy);
    }
    res
}

/// Any other path under `/rest/`: 404 as JSON, in Django REST framework's words (the page
/// renderer answered it with an HTML page).
pub async fn rest_not_found() -> Response {
    super::rest::not_found()
}
