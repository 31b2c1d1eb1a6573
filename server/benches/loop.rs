//! The Prometheus loop at LINE's scale (200 services, 2,000 projects, 34,000 hosts, 4,000
//! exporters over 4 shards): the real `promgen` binary, a real Prometheus (Debian's) fed by the
//! real `promgen agent`, and two figures:
//!
//! - from a change made through the server functions (a host added, a site rule changed) to
//!   Prometheus having it (the target discovered from the agent's file; the rule loaded after
//!   the agent's reload), median and max over the runs;
//! - the query proxy's overhead: `/api/v1/query` through Promgen-rs against the same query
//!   sent to Prometheus directly, medians and p95.
//!
//!     cargo bench -p server --bench loop

mod support;

use app::backend::{Backend, Db};
use std::time::{Duration, Instant};
use support::{Server, median, ms, quantile};

const SERVICES: usize = 200;
const PROJECTS: usize = 2_000;
const HOSTS_PER_FARM: usize = 17;
const EXPORTERS_PER_PROJECT: usize = 2;
const CHANGES: usize = 8;
const QUERIES: usize = 200;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (url, dir) = support::database("loop")?;
    let backend = Backend::new(Db::connect(&url).await?);
    support::seed_line(&backend, PROJECTS, SERVICES, HOSTS_PER_FARM, EXPORTERS_PER_PROJECT).await?;
    let (_, key) = support::user_with_token(&backend, "bench-admin", true).await?;
    let server = Server::start(&url).await?;
    let base = server.base.clone();

    // Prometheus keeps shard-0's files (8,500 hosts, 17,000 targets), scrapes only project-0's
    // (the others are names that do not resolve) and reads the agent's rule file.
    let prom_port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let prom = format!("http://127.0.0.1:{prom_port}");
    std::fs::write(dir.join("targets.json"), "[]")?;
    std::fs::write(dir.join("promgen.rules.yml"), "groups: []\n")?;
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global: {{scrape_interval: 1m, evaluation_interval: 1m}}\nrule_files: ['{rules}']\nscrape_configs:\n\
             - job_name: promgen\n  file_sd_configs:\n  - files: ['{targets}']\n  relabel_configs:\n  \
             - source_labels: [project]\n    regex: project-0\n    action: keep\n",
            rules = dir.join("promgen.rules.yml").display(),
            targets = dir.join("targets.json").display(),
        ),
    )?;
    let _prometheus = Child(
        std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .args(["--web.enable-lifecycle", "--log.level=error"])
            .spawn()?,
    );
    let _agent = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_promgen"))
            .args(["agent", "--server-url", &base, "--shard", "shard-0", "--prometheus-url", &prom])
            .arg("--targets")
            .arg(dir.join("targets.json"))
            .arg("--rules")
            .arg(dir.join("promgen.rules.yml"))
            .env("PROMGEN_AGENT_TOKEN", &key)
            .env("RUST_LOG", "error")
            .spawn()?,
    );
    let client = reqwest::Client::new();
    let json = |url: String| {
        let client = client.clone();
        async move { anyhow::Ok(client.get(url).send().await?.json::<serde_json::Value>().await?) }
    };
    wait("Prometheus to discover project-0's targets", || async {
        let t = json(format!("{prom}/api/v1/targets")).await?;
        Ok(t["data"]["activeTargets"].as_array().is_some_and(|a| a.len() == HOSTS_PER_FARM * EXPORTERS_PER_PROJECT))
    })
    .await?;

    let call = |name: &'static str, fields: Vec<(&'static str, String)>| {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        async move {
            let res = client
                .post(format!("{base}/api/{name}"))
                .header("Authorization", format!("Token {key}"))
                .header("Accept", "application/json")
                .form(&fields)
                .send()
                .await?;
            anyhow::ensure!(res.status().is_success(), "{name}: {} {}", res.status(), res.text().await?);
            anyhow::Ok(res.json::<serde_json::Value>().await?)
        }
    };

    // A host added to project-0's farm, until Prometheus scrapes it.
    let (farm,): (i64,) =
        sqlx::query_as("SELECT f.id FROM farm f JOIN project p ON p.id = f.project_id WHERE p.name = 'project-0'")
            .fetch_one(&backend.db.pool)
            .await?;
    let mut targets = Vec::new();
    for i in 0..CHANGES {
        let host = format!("added-{i}.example.com");
        let t = Instant::now();
        call("add_hosts", vec![("farm_id", farm.to_string()), ("hosts", host.clone())]).await?;
        wait("the new target", || async {
            Ok(json(format!("{prom}/api/v1/targets")).await?.to_string().contains(&host))
        })
        .await?;
        targets.push(t.elapsed());
    }

    // A site rule changed, until Prometheus evaluates the new version.
    let site = call("owner_rules", vec![("owner_kind", "site".into()), ("owner_id", "1".into())]).await?;
    let rule = site["own"].as_array().and_then(|r| r.iter().find(|r| r["name"] == "InstanceDown")).cloned();
    let rule = rule.ok_or_else(|| anyhow::anyhow!("no InstanceDown site rule"))?;
    let mut rules = Vec::new();
    for i in 0..CHANGES {
        let duration = format!("{}m", 10 + i);
        let t = Instant::now();
        call(
            "save_rule",
            vec![
                ("id", rule["id"].to_string()),
                ("owner_kind", "site".into()),
                ("owner_id", "1".into()),
                ("kind", "alert".into()),
                ("name", "InstanceDown".into()),
                ("expr", rule["expr"].as_str().unwrap_or_default().into()),
                ("duration", duration.clone()),
                ("enabled", "on".into()),
            ],
        )
        .await?;
        let seconds = (10 + i as u64) * 60;
        wait("the changed rule", || async {
            let r = json(format!("{prom}/api/v1/rules")).await?;
            Ok(r["data"]["groups"].as_array().is_some_and(|g| {
                g.iter()
                    .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
                    .any(|r| r["name"] == "InstanceDown" && r["duration"].as_u64() == Some(seconds))
            }))
        })
        .await?;
        rules.push(t.elapsed());
    }
    println!(
        "change -> Prometheus has it, over {CHANGES} changes at LINE's scale (shard-0: {} targets in its file):",
        PROJECTS / 4 * HOSTS_PER_FARM * EXPORTERS_PER_PROJECT
    );
    println!(
        "  a host added -> scraped target: median {:.0} ms, max {:.0} ms",
        ms(median(targets.clone())),
        ms(*targets.iter().max().unwrap())
    );
    println!(
        "  a rule changed -> loaded (promtool check, reload): median {:.0} ms, max {:.0} ms",
        ms(median(rules.clone())),
        ms(*rules.iter().max().unwrap())
    );

    // The proxy's overhead: shard-0 proxied to this Prometheus, the same query both ways.
    sqlx::query("UPDATE shard SET proxy = CASE WHEN name = 'shard-0' THEN 1 ELSE 0 END, url = $1")
        .bind(&prom)
        .execute(&backend.db.pool)
        .await?;
    let timed = |url: String, auth: bool| {
        let (client, key) = (client.clone(), key.clone());
        async move {
            let mut req = client.get(url).query(&[("query", "up")]);
            if auth {
                req = req.header("Authorization", format!("Token {key}"));
            }
            let t = Instant::now();
            let body = req.send().await?.bytes().await?;
            anyhow::ensure!(
                body.starts_with(b"{\"status\":\"success\"") || body.windows(9).any(|w| w == b"\"success\""),
                "{}",
                String::from_utf8_lossy(&body)
            );
            anyhow::Ok(t.elapsed())
        }
    };
    let (mut direct, mut proxied) = (Vec::new(), Vec::new());
    for _ in 0..QUERIES {
        direct.push(timed(format!("{prom}/api/v1/query"), false).await?);
        proxied.push(timed(format!("{base}/api/v1/query"), true).await?);
    }
    direct.sort();
    proxied.sort();
    let (d50, p50) = (median(direct.clone()), median(proxied.clone()));
    println!(
        "query `up` ({} series), {QUERIES} each: direct median {:.2} ms p95 {:.2} ms; through the proxy median {:.2} ms p95 {:.2} ms ({:+.2} ms, x{:.2})",
        HOSTS_PER_FARM * EXPORTERS_PER_PROJECT,
        ms(d50),
        ms(quantile(&direct, 0.95)),
        ms(p50),
        ms(quantile(&proxied, 0.95)),
        ms(p50) - ms(d50),
        ms(p50) / ms(d50),
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait<F, Fut>(what: &str, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    for _ in 0..1200 {
        if check().await.unwrap_or(false) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("waited 60 s for {what}")
}
