//! What each verb does: connect, call one backend function, print the outcome.

use crate::cli::{Cli, Command, ExportArgs};
use anyhow::Context;
use app::backend::alerts::AlertSettings;
use app::backend::auth::LoginSettings;
use app::backend::notify::dispatch::DispatchSettings;
use app::backend::notify::senders::SendSettings;
use app::backend::{Actor, Backend, Db, Settings};
use app::error::AppError;
use std::path::{Path, PathBuf};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // Checking files needs no database (CI jobs have none) unless it says the version.
    if let Some(Command::CheckRules { files, prometheus_version }) = &cli.command {
        return check_rules(&cli.database_url, files, prometheus_version.as_deref()).await;
    }
    // The agent runs beside Prometheus, far from the database.
    if let Some(Command::Agent(args)) = &cli.command {
        let promtool = app::backend::rules::promtool::Promtool::locate(cli.promtool.as_deref());
        return crate::agent::run(args.clone(), promtool).await;
    }
    let db = Db::connect(&cli.database_url).await.with_context(|| format!("database {}", redact(&cli.database_url)))?;
    let a = &cli.alerting;
    let serve = match &cli.command {
        Some(Command::Serve(args)) => args,
        _ => &cli.serve,
    };
    let settings = Settings {
        promtool: cli.promtool.clone(),
        query_timeout: std::time::Duration::from_secs(cli.query_timeout.max(1)),
        send: SendSettings {
            smtp_url: a.smtp_url.clone(),
            smtp_from: a.smtp_from.clone(),
            pagerduty_url: a.pagerduty_url.clone(),
            timeout: a.notify_timeout,
            allow_private: a.notifier_allow_private,
            proxy: a.notifier_proxy.clone(),
        },
        alerts: AlertSettings {
            dedupe_window: a.alert_dedupe_window,
            ignore: a.alert_ignore.clone(),
            heartbeat_alertname: a.heartbeat_alertname.clone(),
            heartbeat_timeout: a.heartbeat_timeout,
            retention: a.alert_retention,
        },
        dispatch: DispatchSettings {
            max_attempts: a.notify_max_attempts.max(1),
            backoff: a.notify_backoff,
            ..Default::default()
        },
        cpu_budget: serve.cpu_budget,
        max_hosts_per_farm: serve.max_hosts_per_farm,
        login: LoginSettings {
            per_account: serve.login_limit_account,
            per_address: serve.login_limit_address,
            concurrent_hashes: 0,
            client_ip_header: serve.client_ip_header.clone(),
        },
        // Users' templates render in a child of this very binary (`promgen sandbox-render`).
        sandbox: std::env::current_exe().ok(),
        sign_in: sign_in_settings(serve)?,
        alertmanagers: cli.alertmanager_urls.clone(),
    };
    let backend = Backend::with_settings(db, &settings).map_err(|e| anyhow::anyhow!(e))?;
    let operator = Actor::System;
    match cli.command {
        None => crate::web::serve(backend, cli.serve).await,
        Some(Command::Serve(args)) => crate::web::serve(backend, *args).await,
        Some(Command::ImportPromgen { files }) => {
            let texts = files.iter().map(read).collect::<anyhow::Result<Vec<_>>>()?;
            let report = backend.importer.import_promgen(&operator, &texts).await.map_err(user_error)?;
            print!("{report}");
            Ok(())
        }
        Some(Command::Import { file, shard }) => {
            let report = backend
                .importer
                .import_file_sd(&operator, &read(&file)?, shard.as_deref())
                .await
                .map_err(user_error)?;
            print!("{report}");
            Ok(())
        }
        Some(Command::RegisterServer { shard, host, port }) => {
            use app::backend::inventory::Registered;
            match backend.inventory.register_server(&operator, &shard, &host, port).await.map_err(user_error)? {
                Registered::Created { shard_created } => {
                    if shard_created {
                        println!("Created shard {shard}");
                    }
                    println!("Created {host}:{port} on {shard}");
                }
                Registered::Moved { from } => println!("Moved {host}:{port} from {from} to {shard}"),
                Registered::Unchanged => println!("{host}:{port} is on {shard} already"),
            }
            Ok(())
        }
        Some(Command::Targets(args)) => {
            let body = backend.exports.targets(&Default::default()).await.map_err(user_error)?;
            export(&body, &args).await
        }
        Some(Command::Urls(args)) => {
            let body = backend.exports.urls(&Default::default()).await.map_err(user_error)?;
            export(&body, &args).await
        }
        Some(Command::Rules(args)) => {
            let body = backend.exports.rules(&Default::default(), &Default::default()).await.map_err(user_error)?;
            // Prometheus keeps its old rules when a reload fails; never hand it a bad file.
            // The local promtool speaks for the local Prometheus: its own release's language.
            let promtool = backend.rules.promtool();
            let dialect = promtool.version().map(app::rules::promql::Dialect::of).unwrap_or_default();
            promtool.check("rules", &String::from_utf8_lossy(&body), dialect).await.map_err(user_error)?;
            export(&body, &args).await
        }
        Some(Command::CreateUser { username, superuser, password }) => {
            let shown = password.is_none();
            let password = password.unwrap_or_else(app::backend::auth::random_password);
            backend.auth.create_user(&operator, &username, &password, superuser).await.map_err(user_error)?;
            println!("Created user {username}");
            if shown {
                println!("Password: {password}");
            }
            Ok(())
        }
        Some(Command::CreateToken { username, name }) => {
            let (info, key) = backend.auth.create_token(&operator, &username, &name).await.map_err(user_error)?;
            println!("Created token {} for {username}", info.id);
            println!("{key}");
            eprintln!(
                "It is shown once. Alertmanager: http_config: {{authorization: {{type: Token, credentials: <key>}}}}"
            );
            Ok(())
        }
        Some(Command::RevokeToken { id }) => {
            backend.auth.revoke_token(&operator, app::model::TokenId(id)).await.map_err(user_error)?;
            println!("Revoked token {id}");
            Ok(())
        }
        Some(Command::GrantAlerts { username, revoke }) => {
            backend.auth.grant_alerts(&operator, &username, !revoke).await.map_err(user_error)?;
            println!("{username} may {}post alerts", if revoke { "no longer " } else { "" });
            Ok(())
        }
        Some(Command::AlertsPrune) => {
            let n = backend.alerts.prune(&operator).await.map_err(user_error)?;
            println!("Deleted {}", app::model::counted(n as i64, "alert"));
            Ok(())
        }
        Some(Command::SetPassword { username, password }) => {
            let shown = password.is_none();
            let password = password.unwrap_or_else(app::backend::auth::random_password);
            backend.auth.set_password(&operator, &username, &password).await.map_err(user_error)?;
            println!("Password of {username} set");
            if shown {
                println!("Password: {password}");
            }
            Ok(())
        }
        Some(Command::CheckRules { files, prometheus_version }) => {
            check_rules(&cli.database_url, &files, prometheus_version.as_deref()).await
        }
        Some(Command::Agent(_)) => unreachable!("the agent is started above, without a database"),
    }
}

/// `promgen check-rules`: the dialect from `--prometheus-version`, else from the database when
/// there is one, else the oldest release known; every file checked, every fault printed to
/// stdout as `FILE: line:col: message`; an error (exit 1) when any file has a fault.
async fn check_rules(database_url: &str, files: &[PathBuf], version: Option<&str>) -> anyhow::Result<()> {
    use app::rules::promql::{Dialect, Version};
    let (dialect, source) = match version {
        Some(text) => {
            let version = Version::parse(text)
                .with_context(|| format!("--prometheus-version {text:?} is not a version like 2.42 or 3.5"))?;
            let (checked, note) = version.known();
            (Dialect::of(checked), format!("Prometheus {version}, as asked{note}"))
        }
        None if database_exists(database_url) => {
            let asked = async {
                let db = Db::connect(database_url).await.map_err(|e| e.to_string())?;
                app::backend::rules::dialect::of(&db).await.map_err(|e| e.to_string())
            };
            // A CI job may see a DATABASE_URL it cannot reach: the verdict does not need it.
            match tokio::time::timeout(std::time::Duration::from_secs(5), asked).await {
                Ok(Ok(found)) => found,
                Ok(Err(e)) => oldest(format!("the database {} did not answer: {e}", redact(database_url))),
                Err(_) => oldest(format!("the database {} did not answer within 5 s", redact(database_url))),
            }
        }
        None => oldest("no database to ask".into()),
    };
    eprintln!("checking for {source}");
    let mut bad = 0;
    for file in files {
        let text = match read(file) {
            Ok(text) => text,
            Err(e) => {
                println!("{}: {e:#}", file.display());
                bad += 1;
                continue;
            }
        };
        let verdict =
            tokio::task::spawn_blocking(move || app::backend::rules::check::check_file(&text, dialect)).await?;
        for fault in &verdict.faults {
            println!("{}: {fault}", file.display());
        }
        if verdict.faults.is_empty() {
            eprintln!("{}: {}, valid", file.display(), app::model::counted(verdict.rules as i64, "rule"));
        } else {
            bad += 1;
        }
    }
    if bad > 0 {
        // A verdict, not a failure of the program: said plainly, exit 1 as promtool does.
        eprintln!("{bad} of {} rule files are not valid", files.len());
        std::process::exit(1);
    }
    Ok(())
}

/// The dialect of the oldest release known, and why it was taken.
fn oldest(why: String) -> (app::rules::promql::Dialect, String) {
    use app::rules::promql::{Dialect, Version};
    (Dialect::of(Version::OLDEST), format!("Prometheus {} ({why})", Version::OLDEST))
}

/// Whether the database is there to ask (a SQLite file that exists, or any other server).
fn database_exists(url: &str) -> bool {
    match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        Some(path) => Path::new(path.split('?').next().unwrap_or_default()).exists(),
        None => true,
    }
}

fn read(path: impl AsRef<Path>) -> anyhow::Result<String> {
    let path = path.as_ref();
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn user_error(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Hides a password in a database URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Writes atomically (temp file, then rename) so Prometheus never reads half a file.
async fn export(body: &[u8], args: &ExportArgs) -> anyhow::Result<()> {
    let Some(file) = &args.file else {
        println!("{}", String::from_utf8_lossy(body));
        return Ok(());
    };
    let tmp = file.with_extension("promgen-tmp");
    std::fs::write(&tmp, body).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, file).with_context(|| format!("cannot replace {}", file.display()))?;
    if args.reload {
        let url = format!("{}/-/reload", args.prometheus_url.trim_end_matches('/'));
        let res = reqwest::Client::new().post(&url).send().await.with_context(|| format!("reload {url}"))?;
        anyhow::ensure!(res.status().is_success(), "reload {url}: {}", res.status());
    }
    Ok(())
}

/// The identity providers file (if any) read and checked: every wrong setting on its own line.
pub fn sign_in_settings(serve: &crate::cli::ServeArgs) -> anyhow::Result<app::backend::auth::sso::SignInSettings> {
    let providers = match &serve.sign_in_providers {
        Some(path) => {
            let text = read(path)?;
            app::backend::auth::sso::config::parse(&text, |var| std::env::var(var).ok())
                .map_err(|e| anyhow::anyhow!("{}:\n{e}", path.display()))?
        }
        None => Vec::new(),
    };
    Ok(app::backend::auth::sso::SignInSettings {
        providers,
        local_accounts: serve.local_accounts,
        external_url: serve.external_url.clone(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("sqlite://data/promgen.db"), "sqlite://data/promgen.db");
    }
}
