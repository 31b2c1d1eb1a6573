//! The live feed over a real socket: `/ws` refuses anonymous visitors and other sites' pages,
//! pushes each event of a posted alert as it happens, and replays what a reconnecting browser
//! missed, once.

mod common;
use app::backend::{Actor, Backend};
use app::model::FeedMessage;
use common::fixture;
use futures::StreamExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Error, Message, client::IntoClientRequest, http::HeaderValue};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The router the binary serves, on a real port, by the binary's listener (its WebSocket
/// upgrades are the feed's).
async fn serve(b: &Backend) -> String {
    common::serve(b).await.to_string()
}

/// Logs `ops` in over HTTP; the session cookie.
async fn login(addr: &str) -> String {
    login_as(addr, "ops").await
}

async fn login_as(addr: &str, user: &str) -> String {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = client
        .post(format!("http://{addr}{}", <app::api::auth::Login as leptos::server_fn::ServerFn>::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={user}&password=password-of-test"))
        .send()
        .await
        .unwrap();
    let cookie = res.headers().get("set-cookie").expect("a session cookie").to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

async fn connect(addr: &str, cookie: Option<&str>, origin: Option<&str>, since: i64) -> Result<Socket, Error> {
    let mut req = format!("ws://{addr}/ws?since={since}").into_client_request().unwrap();
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", HeaderValue::from_str(c).unwrap());
    }
    if let Some(o) = origin {
        req.headers_mut().insert("origin", HeaderValue::from_str(o).unwrap());
    }
    tokio_tungstenite::connect_async(req).await.map(|(s, _)| s)
}

fn refused_with(r: Result<Socket, Error>) -> u16 {
    match r {
        Err(Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("refused otherwise: {e}"),
        Ok(_) => panic!("the feed accepted"),
    }
}

/// The next `n` event kinds on the socket, with their ids.
async fn events(ws: &mut Socket, n: usize) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    while out.len() < n {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("an event in time");
        if let Message::Text(text) = m.unwrap().unwrap() {
            match serde_json::from_str::<FeedMessage>(&text).unwrap() {
                FeedMessage::Event { event, alert } => {
                    assert_eq!(event.alert_id, alert.id);
                    out.push((event.id, event.kind));
                }
                FeedMessage::Reload => panic!("no reload expected"),
            }
        }
    }
    out
}

/// No more events arrive for a moment (pings may).
async fn quiet(ws: &mut Socket) {
    let until = tokio::time::Instant::now() + Duration::from_millis(300);
    while let Ok(next) = tokio::time::timeout_at(until, ws.next()).await {
        let m = next.expect("the socket stays open").unwrap();
        assert!(!matches!(m, Message::Text(_)), "unexpected message: {m:?}");
    }
}

on_both_databases!(the_feed_checks_who_asks_and_pushes_and_replays_events, |b: Backend| async move {
    b.auth.create_user(&Actor::System, "ops", "password-of-test", true).await.unwrap();
    let (_, key) = b.auth.create_token(&Actor::System, "ops", "alertmanager").await.unwrap();
    // On PostgreSQL events reach browsers through LISTEN, as on every replica.
    b.events.listen(b.db.url.clone(), &b.supervisor).await;
    let addr = serve(&b).await;

    // Anonymous visitors and other sites' pages are refused before the upgrade.
    assert_eq!(refused_with(connect(&addr, None, None, 0).await), 401);
    let cookie = login(&addr).await;
    assert_eq!(refused_with(connect(&addr, Some(&cookie), Some("http://evil.example"), 0).await), 403);

    // A page of ours (its own host, or a configured origin) gets the events as they happen.
    let mut ws = connect(&addr, Some(&cookie), Some(&format!("http://{addr}")), 0).await.unwrap();
    let mut other = connect(&addr, Some(&cookie), Some("https://promgen.example.com"), 0).await.unwrap();
    // A user without a role on the alert's service or project gets none of its events.
    b.auth.create_user(&Actor::System, "stranger", "password-of-test", false).await.unwrap();
    let stranger = login_as(&addr, "stranger").await;
    let mut outsider = connect(&addr, Some(&stranger), None, 0).await.unwrap();
    let post = |body: String| {
        let (addr, key) = (addr.clone(), key.clone());
        async move {
            let res = reqwest::Client::new()
                .post(format!("http://{addr}/api/v1/alerts"))
                .header("authorization", format!("Token {key}"))
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 202);
        }
    };
    post(fixture("alertmanager.json")).await;
    let firing = events(&mut ws, 2).await;
    assert_eq!(firing.iter().map(|(_, k)| k.as_str()).collect::<Vec<_>>(), ["received", "routed"]);
    assert_eq!(events(&mut other, 2).await, firing);
    quiet(&mut outsider).await;
    let mut replayed = connect(&addr, Some(&stranger), None, 0).await.unwrap();
    quiet(&mut replayed).await;

    let resolved = fixture("alertmanager.json").replace("\"firing\"", "\"resolved\"");
    post(resolved).await;
    let later = events(&mut ws, 3).await;
    assert_eq!(later.iter().map(|(_, k)| k.as_str()).collect::<Vec<_>>(), ["received", "routed", "resolved"]);
    quiet(&mut ws).await;

    // A browser coming back after the first event gets the rest, once, then the live ones.
    ws.close(None).await.unwrap();
    let mut back = connect(&addr, Some(&cookie), None, firing[0].0).await.unwrap();
    let missed = events(&mut back, 4).await;
    assert_eq!(missed, [&firing[1..], &later[..]].concat());
    quiet(&mut back).await;
});
