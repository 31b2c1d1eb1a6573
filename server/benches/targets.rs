//! Seeds LINE's scale (200 services, 2,000 projects, 34,000 hosts, 4,000 exporters) into a fresh
//! database, starts the real `promgen` binary on it and prints the median time of
//! `GET /api/v1/targets` over HTTP, cached and freshly rendered, and the server's peak RSS.
//! Promgen itself takes 881 ms for the same request on the same kind of machine.
//!
//!     cargo bench -p server --bench targets              # SQLite
//!     BENCH_DATABASE_URL=postgres://... cargo bench ...  # an empty PostgreSQL database

mod support;

use app::backend::{Backend, Db};
use std::time::Instant;
use support::{Server, median, ms};

const SERVICES: usize = 200;
const PROJECTS: usize = 2_000;
const HOSTS_PER_FARM: usize = 17;
const EXPORTERS_PER_PROJECT: usize = 2;
const RUNS: usize = 30;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (url, dir) = support::database("targets")?;
    let backend = Backend::new(Db::connect(&url).await?);
    let started = Instant::now();
    support::seed_line(&backend, PROJECTS, SERVICES, HOSTS_PER_FARM, EXPORTERS_PER_PROJECT).await?;
    println!(
        "seeded {PROJECTS} projects, {} hosts, {} exporters in {:.1?}",
        PROJECTS * HOSTS_PER_FARM,
        PROJECTS * EXPORTERS_PER_PROJECT,
        started.elapsed()
    );

    let server = Server::start(&url).await?;
    let base = server.base.clone();
    let client = reqwest::Client::new();

    let get = || async {
        let t = Instant::now();
        let body = client.get(format!("{base}/api/v1/targets")).send().await?.bytes().await?;
        anyhow::Ok((t.elapsed(), body.len()))
    };
    // Freshly rendered: the inventory changes before every request.
    let mut fresh = Vec::new();
    let mut size = 0;
    for _ in 0..RUNS {
        sqlx::query("UPDATE inventory_generation SET generation = generation + 1").execute(&backend.db.pool).await?;
        let (t, n) = get().await?;
        fresh.push(t);
        size = n;
    }
    // The same rendering in-process, without HTTP: where the time goes.
    let mut inproc = Vec::new();
    for _ in 0..RUNS {
        sqlx::query("UPDATE inventory_generation SET generation = generation + 1").execute(&backend.db.pool).await?;
        let t = Instant::now();
        backend.exports.targets(&Default::default()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        inproc.push(t.elapsed());
    }
    // Unchanged inventory: served from the last rendering.
    let mut cached = Vec::new();
    for _ in 0..RUNS {
        cached.push(get().await?.0);
    }
    let rss = server.peak_rss_mib();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);

    let (fresh, cached) = (median(fresh), median(cached));
    println!("GET /api/v1/targets ({:.1} MB, {} entries)", size as f64 / 1e6, PROJECTS * EXPORTERS_PER_PROJECT);
    println!("  rendered after a change: median {:.1} ms  (Promgen 881 ms: {:.0}x)", ms(fresh), 881.0 / ms(fresh));
    println!("  unchanged inventory:     median {:.1} ms  ({:.0}x)", ms(cached), 881.0 / ms(cached));
    println!("  rendering in-process:    median {:.1} ms (queries + JSON, no HTTP)", ms(median(inproc)));
    println!("server peak RSS: {rss:.0} MiB (Promgen about 830 MiB across processes)");
    Ok(())
}
