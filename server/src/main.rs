//! The `promgen` binary: parses the command line, then either serves or runs one verb. Run as
//! `promgen sandbox-render`, it is the child that renders a user's template within limits
//! (`app::backend::sandbox`), before any runtime or logging starts.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some(app::backend::sandbox::VERB) {
        std::process::exit(app::backend::sandbox::serve_child());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(server::commands::run(server::cli::Cli::parse()))
}
