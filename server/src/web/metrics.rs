//! `GET /metrics` (anonymous, as Promgen's) and the middleware that times every request.

use super::AppState;
use app::backend::metrics::Gauges;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn metrics(State(s): State<AppState>) -> Response {
    let b = &s.backend;
    let (queued, oldest, failed) = b.alerts.outbox_stats().await.unwrap_or_default();
    let heartbeat = b
        .alerts
        .heartbeat_last_seen()
        .await
        .ok()
        .flatten()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.timestamp_millis() as f64 / 1000.0);
    let rule_file = b.exports.rule_file_problems();
    let gauges = Gauges {
        outbox_queued: queued,
        outbox_oldest_seconds: oldest,
        outbox_failed: failed,
        websocket_clients: b.events.subscribers(),
        heartbeat_last_seen: heartbeat,
        rule_file_left_out: rule_file.left_out.len(),
        rule_file_refused: rule_file.refused.is_some(),
    };
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], b.metrics.render(&gauges)).into_response()
}

/// Times each request under its method and route (pages and assets share one label). Both
/// labels come from fixed sets: a method is any client's word (`FOO /` makes a 405), and each
/// new label value would be series kept for ever.
pub async fn timed(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "other".to_string(), |p| p.as_str().to_string());
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    s.backend.metrics.request(method, &route, started.elapsed().as_secs_f64());
    res
}

/// The method's label: the methods of HTTP's own registry that a server sees, else `other`.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_of_the_clients_own_is_other() {
        assert_eq!(method_label(&axum::http::Method::GET), "GET");
        assert_eq!(method_label(&axum::http::Method::from_bytes(b"NOSUCHMETHODXYZ").unwrap()), "other");
    }
}
