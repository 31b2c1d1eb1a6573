//! The HTTP edge, through the same router the binary serves: Prometheus-facing files, server
//! functions that refuse anonymous and cross-site callers, login sessions.

mod common;
use app::backend::Backend;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{form, router, send};
use leptos::server_fn::ServerFn;

async fn login(app: &Router, b: &Backend) -> String {
    common::login(app, b, "ops", true).await
}

on_both_databases!(prometheus_files_are_anonymous_json, |b: Backend| async move {
    let app = router(&b);
    for path in ["/api/v1/targets", "/api/v1/config", "/api/v1/urls", "/api/v1/targets?service=x&project=y"] {
        let (status, headers, body) = send(&app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(body, "[]");
    }
});

on_both_databases!(server_functions_refuse_anonymous_and_cross_site_changes, |b: Backend| async move {
    let app = router(&b);
    let create = app::api::inventory::CreateService::PATH;

    let (status, _, body) = send(&app, form(create, "name=web&description=", None, None)).await;
    assert!(!status.is_success(), "{status}");
    assert!(body.contains("Unauthenticated"), "{body}");
    assert_eq!(common::count(&b, "service").await, 0);

    let cookie = login(&app, &b).await;
    let (status, _, body) =
        send(&app, form(create, "name=web&description=", Some(&cookie), Some("http://evil.example"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(common::count(&b, "service").await, 0);

    let (status, _, body) =
        send(&app, form(create, "name=web&description=", Some(&cookie), Some("http://127.0.0.1:3000"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) =
        send(&app, form(create, "name=api&description=", Some(&cookie), Some("https://promgen.example.com"))).await;
    assert_eq!(status, StatusCode::OK, "a configured public origin is allowed");
    assert_eq!(common::count(&b, "service").await, 2);

    let (status, _, body) = send(&app, form(create, "name=web&description=", Some(&cookie), None)).await;
    assert!(!status.is_success());
    assert!(body.contains("exists already"), "{body}");

    // Logging out ends the session for good.
    let (status, _, _) = send(&app, form(app::api::auth::Logout::PATH, "", Some(&cookie), None)).await;
    assert!(status.is_success() || status.is_redirection());
    let (_, _, body) = send(&app, form(create, "name=db&description=", Some(&cookie), None)).await;
    assert!(body.contains("Unauthenticated"), "{body}");
});

// A plain form sends a textarea's line breaks as CRLF, the page's script as LF: both are stored
// as LF (a rule saved without JavaScript and edited with it had its line breaks rewritten),
// also from a script's JSON; an escaped percent sign before "0D" stays text.
on_both_databases!(server_functions_store_one_kind_of_line_break, |b: Backend| async move {
    let app = router(&b);
    let cookie = login(&app, &b).await;
    let create = app::api::inventory::CreateService::PATH;
    let (status, _, body) =
        send(&app, form(create, "name=web&description=one%0D%0Atwo%0Dthree+100%250D", Some(&cookie), None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let json = Request::post(create)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, &cookie)
        .body(Body::from(r#"{"name": "api", "description": "a\r\nb"}"#))
        .unwrap();
    let (status, _, body) = send(&app, json).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Whatever type it declares: a server function reads any body as a form.
    let mut plain = form(create, "name=db&description=x%0D%0Ay", Some(&cookie), None);
    plain.headers_mut().insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
    let (status, _, body) = send(&app, plain).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let actor = common::admin(&b).await;
    let mut described: Vec<String> =
        b.inventory.services(&actor).await.unwrap().into_iter().map(|s| s.service.description).collect();
    described.sort();
    assert_eq!(described, ["a\nb", "one\ntwo\nthree 100%0D", "x\ny"]);
    // A password is its bytes: one holding a CR (set from a file with CRLF endings) logs in.
    b.auth.create_user(&app::backend::Actor::System, "crlf", "pass\rword-123456", false).await.unwrap();
    let login = form(app::api::auth::Login::PATH, "username=crlf&password=pass%0Dword-123456", None, None);
    let (status, _, body) = send(&app, login).await;
    assert_eq!(status, StatusCode::OK, "{body}");
});

// A form posted without JavaScript is sent back to its page: without an empty query (every
// plain post landed on `/?`), and with a refusal in the address for the page to show.
on_both_databases!(plain_form_posts_go_back_to_their_page, |b: Backend| async move {
    let app = router(&b);
    let cookie = login(&app, &b).await;
    let plain = |body: &str, referer: &str| {
        let mut req = form(app::api::inventory::CreateService::PATH, body, Some(&cookie), None);
        req.headers_mut().insert(header::ACCEPT, "text/html".parse().unwrap());
        req.headers_mut().insert(header::REFERER, referer.parse().unwrap());
        req
    };
    // Back to the page's path on this site (server_fn answers the `Referer`, which a script
    // may point anywhere).
    let (status, headers, _) = send(&app, plain("name=web&description=", "http://127.0.0.1:3000/")).await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(headers[header::LOCATION], "/");
    let mut foreign = plain("name=web2&description=", "https://evil.example/x?y=1");
    foreign.headers_mut().insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
    let (status, headers, _) = send(&app, foreign).await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(headers[header::LOCATION], "/x?y=1");
    let (status, headers, _) = send(&app, plain("name=web&description=", "http://127.0.0.1:3000/?tab=1")).await;
    assert!(status.is_redirection(), "{status}");
    let location = headers[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with("/?tab=1&__path="), "{location}");
    assert!(location.contains("&__err="), "{location}");
    // The refusal is signed; the page it goes back to shows it, to this session only.
    assert!(location.contains("&__sig="), "{location}");
    let page = |path: &str, cookie: Option<&str>| {
        let mut req = Request::get(path).header(header::ACCEPT, "text/html");
        if let Some(cookie) = cookie {
            req = req.header(header::COOKIE, cookie);
        }
        req.body(Body::empty()).unwrap()
    };
    let back = location;
    let (status, _, body) = send(&app, page(back, Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("exists already"), "the refusal is shown: {body}");
    let someone_else = common::login(&app, &b, "dev", false).await;
    let (status, headers, _) = send(&app, page(back, Some(&someone_else))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "another session's refusal");
    assert_eq!(headers[header::LOCATION], "/?tab=1");
    // A refusal in a link nobody signed (or signed for another error, or hidden behind an
    // encoded name, or repeated after a genuine one) is not shown: the address is sent on
    // without it, what else it asked kept.
    let forged = app::error::AppError::Invalid(app::model::validate::FieldError::new("", "Call 555-0100 now"));
    let err = leptos::server_fn::error::ServerFnUrlError::new("/api/create_service", forged)
        .to_url("http://127.0.0.1:3000/?tab=1")
        .unwrap();
    let crafted = format!("{}?{}", err.path(), err.query().unwrap());
    let forged_err = crafted.split("&__err=").nth(1).unwrap().to_string();
    let sig = location.split("&__sig=").nth(1).unwrap();
    for link in [
        crafted.clone(),
        format!("{crafted}&__sig={sig}"),
        format!("{crafted}&__sig=00"),
        crafted.replace("__err", "%5F%5Ferr"),
        crafted.replace("__err", "%5F_err"),
        format!("{back}&__err={forged_err}"),
    ] {
        let (status, headers, _) = send(&app, page(&link, Some(&cookie))).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{link}");
        assert_eq!(headers[header::LOCATION], "/?tab=1", "{link}");
    }
    // A refusal already in the page's address is not signed with the new one.
    let (_, headers, _) = send(&app, plain("name=web&description=", &format!("http://127.0.0.1:3000{crafted}"))).await;
    let again = headers[header::LOCATION].to_str().unwrap();
    assert_eq!(again.matches("__err=").count(), 1, "{again}");
    assert!(!again.contains(&forged_err), "{again}");
    // A visitor's refused login (no session yet) comes back to the login page, shown.
    let mut visitor = form(app::api::auth::Login::PATH, "username=nobody&password=wrong-password", None, None);
    visitor.headers_mut().insert(header::ACCEPT, "text/html".parse().unwrap());
    visitor.headers_mut().insert(header::REFERER, "http://127.0.0.1:3000/login".parse().unwrap());
    let (status, headers, _) = send(&app, visitor).await;
    assert!(status.is_redirection(), "{status}");
    let back = headers[header::LOCATION].to_str().unwrap().trim_start_matches("http://127.0.0.1:3000").to_string();
    assert!(back.contains("&__sig="), "{back}");
    let set = headers.get(header::SET_COOKIE).map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string());
    let (status, _, body) = send(&app, page(&back, set.as_deref())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.to_lowercase().contains("wrong"), "{body}");
    // A visitor's refusal in words a visitor chose (an argument error names the repeated
    // field) is not signed: it would show on anyone's login page.
    let mut chosen = form(
        app::api::auth::Login::PATH,
        "username=x&password=y&Your+password+expired=1&Your+password+expired=2",
        None,
        None,
    );
    chosen.headers_mut().insert(header::ACCEPT, "text/html".parse().unwrap());
    chosen.headers_mut().insert(header::REFERER, "http://127.0.0.1:3000/login".parse().unwrap());
    let (status, headers, _) = send(&app, chosen).await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(headers[header::LOCATION], "/login");
    // A query that only mentions the names is left alone.
    let (status, _, _) = send(&app, page("/search?q=__err", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
});

on_both_databases!(pages_render_on_the_server, |b: Backend| async move {
    let app = router(&b);
    let page = |path: &str| Request::get(path).header(header::ACCEPT, "text/html").body(Body::empty()).unwrap();
    let (status, headers, _) = send(&app, page("/")).await;
    assert!(status.is_redirection(), "anonymous visitors go to the login page: {status}");
    assert_eq!(headers[header::LOCATION], "/login");
    let (status, _, body) = send(&app, page("/login")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<h1>Log in</h1>") && body.contains("/pkg/promgen.js"), "{body}");
});

on_both_databases!(static_files_are_cached_by_hash_and_everything_is_compressed, |b: Backend| async move {
    // A site as .ci/build-site --release leaves it: hashed names, a manifest, precompressed files.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let root = std::env::temp_dir().join(format!("promgen-site-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    let (code, css) = ("0123456789abcdef", "fedcba9876543210");
    std::fs::create_dir_all(root.join(format!("pkg/{code}"))).unwrap();
    std::fs::write(root.join("pkg/manifest.txt"), format!("pkg_dir=pkg/{code}\ncss=promgen.{css}.css\n")).unwrap();
    std::fs::write(root.join(format!("pkg/{code}/promgen.js")), "export default function(){}\n".repeat(50)).unwrap();
    std::fs::write(root.join(format!("pkg/{code}/promgen.js.br")), b"brotli bytes").unwrap();
    std::fs::write(root.join(format!("pkg/promgen.{css}.css")), "body{}\n").unwrap();
    std::fs::write(root.join("pkg/promgen.css"), "body{}\n").unwrap();
    let app = server::web::router(b.clone(), &common::serve_args(&["--site-root", root.to_str().unwrap()]));
    let get = |path: &str, encoding: Option<&str>| {
        let mut req = Request::get(path);
        if let Some(e) = encoding {
            req = req.header(header::ACCEPT_ENCODING, e);
        }
        req.body(Body::empty()).unwrap()
    };

    // Hashed: a year, immutable; the brotli file when the browser takes brotli.
    let (status, headers, body) = send(&app, get(&format!("/pkg/{code}/promgen.js"), Some("gzip, br"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(body, "brotli bytes");
    assert!(
        headers.get_all(header::VARY).iter().any(|v| v.to_str().unwrap().contains("accept-encoding")),
        "{headers:?}"
    );
    // Unhashed: revalidated every time.
    let (status, headers, _) = send(&app, get("/pkg/promgen.css", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");

    // The page links the hashed names.
    let (status, _, html) = send(&app, get("/login", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("/pkg/promgen.{css}.css")), "{html}");
    assert!(html.contains(&format!("/pkg/{code}/promgen.js")), "{html}");
    assert!(html.contains(&format!("/pkg/{code}/promgen_bg.wasm")), "{html}");
    // Pages are kept by no cache: Back after logging out asks the server again.
    let (_, headers, _) = send(&app, get("/login", None)).await;
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");
    // Pages and JSON are compressed as the browser asks.
    let (_, headers, _) = send(&app, get("/login", Some("br"))).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    let (_, headers, _) = send(&app, get("/login", Some("gzip"))).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");

    // The site root's files and unknown paths are read, not posted to (Leptos' file handler
    // served a file to a POST).
    std::fs::write(root.join("favicon.svg"), "<svg/>").unwrap();
    assert_eq!(send(&app, get("/favicon.svg", None)).await.0, StatusCode::OK);
    for path in ["/favicon.svg", "/no-such-page", &format!("/pkg/{code}/promgen.js")] {
        let (status, headers, body) = send(&app, common::form(path, "x=1", None, Some("http://127.0.0.1:3000"))).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{path}: {body}");
        assert!(headers[header::ALLOW].to_str().unwrap().contains("GET"), "{path}: {headers:?}");
    }
    std::fs::remove_dir_all(&root).ok();
});

on_both_databases!(rest_links_use_the_external_url, |b: Backend| async move {
    for i in 0..3 {
        let input = app::model::ServiceInput { name: format!("svc-{i}"), description: String::new() };
        b.inventory.create_service(&app::backend::Actor::System, input).await.unwrap();
    }
    let mut cookie = None;
    // Without --external-url, Django's shape (the request's host); with it, the site's address.
    // A client's own x-promgen-external-url is dropped either way.
    for (external, base) in
        [(None, "http://127.0.0.1:3000"), (Some("https://promgen.example.com/p/"), "https://promgen.example.com/p")]
    {
        let mut settings = app::backend::Settings::default();
        settings.sign_in.external_url = external.map(|u| url::Url::parse(u).unwrap());
        let b = Backend::with_settings(b.db.clone(), &settings).unwrap();
        let app = router(&b);
        if cookie.is_none() {
            cookie = Some(common::login(&app, &b, "ops", true).await);
        }
        let req = Request::get("/rest/v2/services?page_size=1")
            .header(header::HOST, "127.0.0.1:3000")
            .header("x-promgen-external-url", "https://evil.example")
            .header(header::COOKIE, cookie.as_deref().unwrap())
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(&app, req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let next = common::json(&body)["next"].as_str().unwrap().to_string();
        assert_eq!(next, format!("{base}/rest/v2/services?page_size=1&page_number=2"), "{body}");
    }
});

on_both_databases!(the_audit_log_pages_keep_their_filter, |b: Backend| async move {
    use app::model::ServiceInput;
    let app = router(&b);
    let cookie = login(&app, &b).await;
    let admin = common::admin(&b).await;
    let input = |n: i64| ServiceInput { name: "web".into(), description: format!("take {n}") };
    let s = b.inventory.create_service(&admin, input(0)).await.unwrap();
    // One page (50 entries) and more, of this service alone; another's entry beside them.
    for n in 1..=app::backend::audit::PAGE_SIZE {
        b.inventory.update_service(&admin, s.id, input(n)).await.unwrap();
    }
    // Saved again with no change: nothing changed, nothing is recorded.
    let entries = common::count(&b, "audit").await;
    b.inventory.update_service(&admin, s.id, input(app::backend::audit::PAGE_SIZE)).await.unwrap();
    assert_eq!(common::count(&b, "audit").await, entries);
    b.inventory.create_service(&admin, ServiceInput { name: "api".into(), description: String::new() }).await.unwrap();
    let sid = s.id.0;
    let (status, _, first) = common::page(&app, &format!("/audit?type=service&id={sid}"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let older = format!("href=\"/audit?page=2&amp;type=service&amp;id={sid}\"");
    assert!(first.contains(&older) && !first.contains(">Newer<"), "{first}");
    assert!(!first.contains("Created service api"), "the filter holds");
    let (_, _, second) = common::page(&app, &format!("/audit?page=2&type=service&id={sid}"), &cookie).await;
    let newer = format!("href=\"/audit?page=1&amp;type=service&amp;id={sid}\"");
    assert!(second.contains(&newer) && !second.contains(">Older<"), "{second}");
    assert!(second.contains("Created service web"), "{second}");
});
