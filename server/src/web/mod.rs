//! The HTTP server: wiring in one place. Config -> backend -> router -> listener.

mod agent;
mod anonymous;
mod assets;
mod errors;
mod feed;
mod headers;
mod health;
mod limits;
pub mod listen;
mod metrics;
mod openapi;
mod origin;
mod packs;
mod payload;
mod prometheus;
mod query;
mod refusal_links;
mod request_id;
mod rest;
mod silences;
mod slash;
mod sso;
mod webhook;

use crate::cli::ServeArgs;
use app::backend::Backend;
use app::backend::auth::DbSessionStore;
use axum::Router;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use std::time::Duration;
use tower_sessions::{Expiry, SessionManagerLayer};

#[derive(Clone)]
pub struct AppState {
    pub backend: Backend,
    pub leptos: LeptosOptions,
    pub origins: Arc<origin::AllowedOrigins>,
    /// The largest webhook body taken.
    pub webhook_limit: usize,
    /// The OpenAPI document (`/rest/v2/schema`), made once.
    pub openapi: Arc<serde_json::Value>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// The app's routes, generated once per process: generating them sets a process-wide flag
/// that leaves any resource first polled meanwhile pending for ever (leptos issue #4773), so
/// a router built while another serves a page (the tests build many) must not generate again.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::app::App)).clone()
}

use app::backend::auth::sessions::SESSION_DAYS;

/// Builds the whole router. Tests call this with their own backend.
pub fn router(backend: Backend, args: &ServeArgs) -> Router {
    let assets = assets::Assets::read(&args.site_root);
    let leptos = LeptosOptions::builder()
        .output_name(assets::OUTPUT_NAME)
        .site_root(args.site_root.to_string_lossy().to_string())
        .site_pkg_dir(assets.pkg_dir.clone())
        .site_addr(args.listen)
        .build();
    let origins = Arc::new(origin::AllowedOrigins::new(&args.allowed_origins, args.secure_cookies));
    // REST v2, Prometheus' files and the webhook, routed and documented by the same
    // declarations.
    let external = rest::ExternalUrl::of(&backend);
    let (documented, api) = rest::routes()
        .layer(axum::middleware::from_fn_with_state(external.clone(), rest::external_url))
        .layer(axum::middleware::map_response(rest::json_refusals))
        .merge(prometheus::routes())
        .merge(silences::routes())
        .merge(query::routes())
        .merge(agent::routes())
        .merge(health::routes())
        .split_for_parts();
    let state = AppState {
        backend: backend.clone(),
        leptos: leptos.clone(),
        origins: origins.clone(),
        webhook_limit: args.max_webhook_bytes,
        openapi: Arc::new(openapi::document(api)),
    };
    let routes = route_list();
    let sessions = SessionManagerLayer::new(DbSessionStore::new(backend.db.clone()))
        .with_name("promgen_session")
        .with_secure(args.secure_cookies)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(SESSION_DAYS)));
    let context = {
        let backend = backend.clone();
        let css = app::app::StylesheetHref(assets.css_href.clone());
        let chunks = assets.chunks.clone();
        move || {
            provide_context(backend.clone());
            provide_context(css.clone());
            provide_context(chunks.clone());
            // The page's nonce is the one the security middleware puts in its policy.
            headers::provide_page_nonce();
        }
    };

    Router::new()
        .merge(documented)
        .merge(rest::v1_routes().layer(axum::middleware::from_fn_with_state(external, rest::external_url)))
        .route("/api/v1/config", axum::routing::get(prometheus::config))
        .route("/rest/v2/schema", axum::routing::get(openapi::schema))
        .route("/docs", axum::routing::get(openapi::docs))
        .route("/rest/v2/docs", axum::routing::get(openapi::docs))
        .route("/rest/{*rest}", axum::routing::any(slash::rest_not_found))
        .route("/ws", axum::routing::get(feed::connect))
        .route("/login/sso/{id}", axum::routing::get(sso::start))
        .route("/login/sso/{id}/callback", axum::routing::get(sso::callback))
        .route("/alert/{id}/payload", axum::routing::get(payload::payload))
        .route("/metrics", axum::routing::get(metrics::metrics))
        .route(
            app::backend::csp::REPORT_PATH,
            axum::routing::post(headers::csp_report).layer(axum::extract::DefaultBodyLimit::max(headers::REPORT_LIMIT)),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let leptos = leptos.clone();
            move || app::app::shell(leptos.clone())
        })
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::timed))
        .route_layer(axum::middleware::from_fn(slash::without_empty_query))
        .route_layer(axum::middleware::from_fn_with_state(refusal_links::RefusalKey::new(), refusal_links::signed))
        .route_layer(axum::middleware::from_fn(errors::server_fn_status))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), anonymous::require_login))
        .nest_service("/pkg", assets::pkg(&args.site_root))
        .route_service("/docs/{*file}", assets::docs(&args.site_root))
        .layer(axum::middleware::from_fn_with_state(
            packs::Packs::new(
                &args.site_root,
                &assets.pkg_dir,
                &assets.chunks_json(&args.site_root),
                backend.cpu.clone(),
                args.client_ip_header.clone(),
            ),
            packs::later_pack,
        ))
        .fallback({
            let files = leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, app::app::shell);
            // Files and the 404 page are read, nothing else: Leptos' handler served a file to a
            // POST.
            move |uri, state, req: axum::extract::Request| {
                let files = files.clone();
                async move {
                    match *req.method() {
                        axum::http::Method::GET | axum::http::Method::HEAD => files(uri, state, req).await,
                        _ => assets::reads_only(),
                    }
                }
            }
        })
        .layer(axum::middleware::from_fn(assets::cache_control))
        .layer(axum::middleware::from_fn_with_state(origins, origin::check))
        // One body limit, ours (axum's default of 2 MB would cut server functions short).
        .layer(axum::middleware::from_fn_with_state(limits::BodyLimits::of(args), limits::body))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(slash::without_trailing_slash))
        .layer(axum::middleware::from_fn(limits::path))
        .layer(axum::middleware::from_fn(touch_session))
        .layer(sessions)
        .layer(axum::middleware::from_fn(headers::security))
        .layer(assets::compression())
        .layer(axum::middleware::from_fn(request_id::tag))
        .with_state(state)
}

/// Keeps a signed-in session in use alive ([`app::backend::auth::sessions::touch`]); static
/// files do not read the session.
async fn touch_session(
    session: tower_sessions::Session,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !req.uri().path().starts_with("/pkg/") {
        app::backend::auth::sessions::touch(&session).await;
    }
    next.run(req).await
}

pub async fn serve(backend: Backend, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(first) =
        backend.auth.bootstrap_admin(args.admin_password.clone()).await.map_err(|e| anyhow::anyhow!("{e}"))?
    {
        // Log lines (JSON with --log-format json), so log collectors read them too.
        match first.generated_password {
            Some(password) => tracing::warn!(
                user = %first.username,
                password = %password,
                "created the first user; its password is shown once: change it with `promgen set-password {}`",
                first.username
            ),
            None => {
                tracing::info!(user = %first.username, "created the first user with the password given (--admin-password, PROMGEN_ADMIN_PASSWORD)")
            }
        }
    }
    match backend.rules.install_default_pack().await {
        Ok(0) => {}
        Ok(n) => tracing::info!("installed {n} default site rules (instance down, CPU, memory, disk)"),
        Err(e) => tracing::warn!(error = %e, "cannot install the default site rules"),
    }
    match backend.rules.promtool().path() {
        Some(p) => tracing::info!(
            promtool = %p.display(),
            version = ?backend.rules.promtool().version().map(|v| v.to_string()),
            "rule changes for this release of Prometheus are also checked with promtool"
        ),
        None => tracing::info!("no promtool found: rule changes are checked by Promgen's own parser only"),
    }
    if !args.site_root.join("pkg").is_dir() {
        tracing::warn!(
            site_root = %args.site_root.display(),
            "no compiled site here: pages render but stay static; build it with .ci/build-site or set PROMGEN_SITE_ROOT"
        );
    }
    let supervisor = backend.supervisor.clone();
    spawn_workers(&backend).await;
    let app = router(backend, &args);
    open_file_limit(args.max_connections);
    let listener = listen::bind(args.listen)?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    // Stopping: take no new connections and finish the requests under way, then let the
    // background work finish what it has started (deliveries on the wire, queued alerts).
    // Long polls (agents waiting on changes) end at the signal, not after their timeout.
    let stop = supervisor.stop();
    listen::serve(listener, app, listen::ConnectionLimits::of(&args), async move {
        shutdown().await;
        stop.cancel();
    })
    .await;
    if supervisor.shutdown(SHUTDOWN_GRACE).await {
        tracing::info!("stopped");
    }
    Ok(())
}

/// Raises the process's open-file limit to the system's (each connection is a file; under
/// systemd the soft limit is 1,024 against `--max-connections`' 4,096: past it accepting
/// failed once a second), and warns when even that is under `max_connections`.
fn open_file_limit(max_connections: u32) {
    // Files besides connections: the database, the site's files, Prometheus and Alertmanager.
    const OTHERS: u64 = 256;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < u64::from(max_connections) + OTHERS => tracing::warn!(
            limit,
            max_connections,
            "the open-file limit (ulimit -n) is under --max-connections: connections past it fail; lower --max-connections or raise the limit"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
}

/// How long a stopping server waits for its background work (a delivery takes at most
/// `--notify-timeout`).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The background work, owned by the backend's supervisor: the outbox dispatcher, the heartbeat
/// watch, pruning, shard versions, expired sessions and login attempts, and (PostgreSQL) the
/// listener that brings other replicas' events to this one's browsers. (The alert writer
/// starts with the first delivery, under the same supervisor.)
async fn spawn_workers(backend: &Backend) {
    let supervisor = &backend.supervisor;
    supervisor.spawn("outbox dispatcher", backend.dispatcher().run(supervisor.stop()));
    backend.events.listen(backend.db.url.clone(), supervisor).await;
    let b = backend.clone();
    supervisor.periodically("heartbeat watch", Duration::from_secs(15), move || {
        let b = b.clone();
        async move {
            if let Err(e) = b.alerts.check_heartbeat().await {
                tracing::warn!(error = %e, "cannot check the heartbeat");
            }
        }
    });
    let b = backend.clone();
    supervisor.periodically("alert pruning", Duration::from_secs(3600), move || {
        let b = b.clone();
        async move {
            if let Err(e) = b.alerts.prune(&app::backend::Actor::System).await {
                tracing::warn!(error = %e, "cannot prune old alerts");
            }
        }
    });
    let rules = backend.rules.clone();
    supervisor.periodically("shard versions", Duration::from_secs(600), move || {
        let rules = rules.clone();
        async move {
            if let Err(e) = rules.detect_versions().await {
                tracing::warn!(error = %e, "cannot ask the shards which Prometheus they run");
            }
        }
    });
    let auth = backend.auth.clone();
    supervisor.periodically("login attempts", Duration::from_secs(60), move || {
        auth.forget_idle_attempts();
        std::future::ready(())
    });
    let store = DbSessionStore::new(backend.db.clone());
    supervisor.periodically("expired sessions", Duration::from_secs(3600), move || {
        let store = store.clone();
        async move {
            use tower_sessions::session_store::ExpiredDeletion;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "cannot delete expired sessions");
            }
        }
    });
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
