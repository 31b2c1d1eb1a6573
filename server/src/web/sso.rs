//! Sign-in through identity providers: `GET /login/sso/{id}?next=/project/7` sends the
//! browser to the provider with a new flow kept in its session; the provider sends it back to
//! `GET /login/sso/{id}/callback`, where the flow is taken out of the session (a replayed
//! answer finds none), checked and finished, and the user lands on `next`.
//!
//! Refusals are a small page with the status (400 a stale or foreign answer, 401 a provider's
//! refusal or a token that does not hold, 409 a username taken by another account, 502 a
//! provider that did not answer) and a link back to the login page.

use super::AppState;
use app::backend::auth::sessions;
use app::backend::auth::sso::{Callback, FLOW_KEY, Flow, SignInError};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::net::SocketAddr;

#[derive(serde::Deserialize)]
pub struct Start {
    next: Option<String>,
}

pub async fn start(
    State(s): State<AppState>,
    session: tower_sessions::Session,
    Path(id): Path<String>,
    Query(q): Query<Start>,
) -> Response {
    match s.backend.sign_in.start(&id, q.next.as_deref()).await {
        Ok((url, flow)) => {
            // A browser that is not signed in keeps this session only as long as a sign-in
            // may take: abandoned flows do not pile up for the sessions' two weeks.
            if matches!(session.get::<i64>(app::backend::auth::SESSION_USER_KEY).await, Ok(None)) {
                session.set_expiry(Some(tower_sessions::Expiry::OnInactivity(time::Duration::minutes(15))));
            }
            keep(&session, flow, url).await
        }
        Err(e) => refusal(&e),
    }
}

async fn keep(session: &tower_sessions::Session, flow: Flow, url: url::Url) -> Response {
    match session.insert(FLOW_KEY, flow).await {
        Ok(()) => see_other(url.as_str()),
        Err(e) => {
            tracing::error!(error = %e, "cannot keep a sign-in in the session");
            refusal(&SignInError { status: 500, message: "the session could not be written".into() })
        }
    }
}

pub async fn callback(
    State(s): State<AppState>,
    request: axum::http::request::Parts,
    session: tower_sessions::Session,
    Path(id): Path<String>,
    Query(answer): Query<Callback>,
) -> Response {
    // Taken out whatever happens next: one answer per flow.
    let flow: Option<Flow> = session.remove(FLOW_KEY).await.ok().flatten();
    let next = flow.as_ref().map(|f| f.next().to_string()).unwrap_or_else(|| "/".into());
    match s.backend.sign_in.finish(&id, flow, answer).await {
        Ok(user) => {
            let agent = sessions::user_agent(&request.headers);
            let peer = request.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
            let address = s.backend.auth.client_address(peer, &request.headers);
            let via = s.backend.sign_in.name_of(&id).unwrap_or_default();
            match sessions::begin(&session, user.id, &via, agent.as_deref(), address).await {
                Ok(()) => {
                    tracing::info!(user = %user.username, provider = %id, "signed in");
                    see_other(&next)
                }
                Err(e) => refusal(&SignInError { status: 500, message: e.to_string() }),
            }
        }
        Err(e) => refusal(&e),
    }
}

fn see_other(to: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    res
}

fn refusal(e: &SignInError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in refused · Promgen</title>\
         <link rel=\"stylesheet\" href=\"/pkg/promgen.css\"></head><body><main><section class=\"card narrow\">\
         <h1>Sign-in refused</h1><p class=\"error\" role=\"alert\">{}</p><p><a href=\"/login\">Back to the login page</a></p>\
         </section></main></body></html>",
        escape(&e.message)
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}

/// Text as HTML text (the message may carry a username from the provider).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusals_escape_what_they_quote() {
        assert_eq!(super::escape("<b x='1'>&\""), "&lt;b x=&#39;1&#39;&gt;&amp;&quot;");
    }
}
