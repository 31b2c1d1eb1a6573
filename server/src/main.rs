//! The `promgen` binary: parses the command line, then either serves or runs one verb. Run as
//! `promgen sandbox-render`, it is the child that renders a user's template within limits
//! (`app::backend::sandbox`), before any runtime or logging starts.

use clap::Parser;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // What went wrong in words, one line per setting that is wrong; never a stack trace
        // (`RUST_BACKTRACE` or not): the causes, outermost first, joined by ": ".
        Err(e) => {
            eprintln!("promgen: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some(app::backend::sandbox::VERB) {
        std::process::exit(app::backend::sandbox::serve_child());
    }
    let cli = server::cli::Cli::parse();
    // tower-sessions warns of every unknown or malformed session cookie ("possibly suspicious
    // activity"): a stale cookie, or anyone's made-up one, was a warning on every request.
    // Such a request is served as a visitor's; only the store's errors are worth a line,
    // whatever RUST_LOG says, unless it names tower-sessions itself.
    let wanted = std::env::var("RUST_LOG").ok().filter(|v| !v.trim().is_empty());
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into());
    if !wanted.is_some_and(|v| v.contains("tower_sessions")) {
        for quiet in ["tower_sessions=error", "tower_sessions_core=error"] {
            filter = filter.add_directive(quiet.parse().expect("a valid directive"));
        }
    }
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        server::cli::LogFormat::Text => logs.init(),
        // Every line an object; a request's lines carry its spans, the outermost `request`
        // with `request_id`, method and path.
        server::cli::LogFormat::Json => logs.json().with_current_span(false).with_span_list(true).init(),
    }
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(server::commands::run(cli))
}
