//! Seeds rules into a fresh database, starts the real `promgen` binary on it and prints the
//! median time of `GET /api/v1/rules` over HTTP, freshly rendered and cached, at two sizes:
//! Promgen's measured installation (620 rules; Promgen takes 541 ms) and 10,000 rules of which
//! 2,000 override another.
//!
//!     cargo bench -p server --bench rules              # SQLite
//!     BENCH_DATABASE_URL=postgres://... cargo bench ...  # an empty PostgreSQL database

mod support;

use app::backend::{Actor, Backend, Db};
use serde_json::json;
use std::time::Instant;
use support::{Server, median, ms};

const SERVICES: usize = 200;
const RUNS: usize = 30;

/// A Promgen dump with `total` rules: a tenth on the site, the rest on services, and
/// `overrides` of them copies of site rules made by services.
fn dump(total: usize, overrides: usize) -> String {
    let mut objects =
        vec![json!({"model": "sites.site", "pk": 1, "fields": {"domain": "promgen.example.com", "name": "bench"}})];
    for s in 1..=SERVICES {
        objects.push(json!({"model": "promgen.service", "pk": s, "fields": {"name": format!("service-{s}")}}));
    }
    let own = total - overrides;
    let site_rules = (own / 10).max(1);
    let rule = |pk: usize, owner: (&str, usize), name: String, clause: String, parent: Option<usize>| {
        json!({"model": "promgen.rule", "pk": pk, "fields": {
            "content_type": ["promgen", owner.0], "object_id": owner.1, "name": name, "clause": clause,
            "duration": "5m", "enabled": true, "description": "",
            "labels": {"severity": "major"},
            "annotations": {"summary": "{{ $labels.instance }} of {{ $labels.job }} needs a look"},
            "parent": parent,
        }})
    };
    for pk in 1..=own {
        objects.push(if pk <= site_rules {
            rule(pk, ("site", 1), format!("SiteRule{pk}"), format!("up{{job=\"job-{pk}\",<exclude>}} == 0"), None)
        } else {
            let s = pk % SERVICES + 1;
            rule(
                pk,
                ("service", s),
                format!("ServiceRule{pk}"),
                format!("rate(http_requests_total{{job=\"job-{pk}\"}}[5m]) > 10"),
                None,
            )
        });
    }
    for i in 0..overrides {
        let (parent, s) = (i / 10 % site_rules + 1, i % SERVICES + 1);
        let clause = format!("up{{job=\"job-{parent}\",service=\"service-{s}\",<exclude>}} == 0");
        objects.push(rule(
            own + i + 1,
            ("service", s),
            format!("SiteRule{parent}_service_{s}_{i}"),
            clause,
            Some(parent),
        ));
    }
    serde_json::to_string(&objects).unwrap()
}

async fn measure(total: usize, overrides: usize, peer_ms: Option<f64>) -> anyhow::Result<()> {
    let (url, dir) = support::database(&format!("rules-{total}"))?;
    let backend = Backend::new(Db::connect(&url).await?);
    let started = Instant::now();
    backend
        .importer
        .import_promgen(&Actor::System, &[dump(total, overrides)])
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let seeded = started.elapsed();
    let server = Server::start(&url).await?;
    let client = reqwest::Client::new();
    let get = || async {
        let t = Instant::now();
        let body = client.get(format!("{}/api/v1/rules", server.base)).send().await?.bytes().await?;
        anyhow::Ok((t.elapsed(), body.len()))
    };
    let (mut fresh, mut cached, mut inproc, mut pure) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut size = 0;
    for _ in 0..RUNS {
        sqlx::query("UPDATE inventory_generation SET generation = generation + 1").execute(&backend.db.pool).await?;
        let (t, n) = get().await?;
        fresh.push(t);
        size = n;
    }
    for _ in 0..RUNS {
        cached.push(get().await?.0);
    }
    let (packed, site) =
        app::backend::rules::load_packed(&backend.db, &backend.site).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let rules = app::backend::rules::unpack_all(&packed, &site).map_err(|e| anyhow::anyhow!("{e}"))?;
    for _ in 0..RUNS {
        sqlx::query("UPDATE inventory_generation SET generation = generation + 1").execute(&backend.db.pool).await?;
        let t = Instant::now();
        backend.exports.rules(&Default::default(), &Default::default()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        inproc.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(app::rules::render::render(&rules, &site, |_| true));
        pure.push(t.elapsed());
    }
    let rss = server.peak_rss_mib();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);

    let (fresh, cached) = (median(fresh), median(cached));
    let versus = |t: f64| peer_ms.map(|p| format!("  (Promgen {p:.0} ms: {:.0}x)", p / t)).unwrap_or_default();
    println!(
        "GET /api/v1/rules, {total} rules of which {overrides} overrides ({:.1} MB; seeded in {seeded:.1?})",
        size as f64 / 1e6
    );
    println!("  rendered after a change: median {:.1} ms{}", ms(fresh), versus(ms(fresh)));
    println!("  unchanged rules:         median {:.2} ms{}", ms(cached), versus(ms(cached)));
    println!("  in-process, with query:  median {:.1} ms", ms(median(inproc)));
    println!("  rendering only:          median {:.1} ms (expansion + YAML, no database)", ms(median(pure)));
    println!("  server peak RSS: {rss:.0} MiB");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    measure(620, 62, Some(541.0)).await?;
    measure(10_000, 2_000, None).await
}
