//! REST v2 at LINE's scale: seeds 200 services and 2,000 projects (with farms and exporters),
//! starts the real `promgen` binary and prints the median time of `GET /rest/v2/projects` as a
//! site admin with a token: one page (Promgen's default of 10), every project at the largest
//! page size (two requests), and every page at the default size (200 requests); then the same
//! first page as a user who holds a role on 200 of the projects. Promgen's figures (commit
//! d2646e4, gunicorn with one sync worker, SQLite, DEBUG off, same machine) are printed beside.
//!
//!     cargo bench -p server --bench rest                 # SQLite
//!     BENCH_DATABASE_URL=postgres://... cargo bench ...  # an empty PostgreSQL database

mod support;

use app::backend::roles::Principal;
use app::backend::{Actor, Backend, Db};
use app::model::{Object, ProjectId, Role};
use std::time::{Duration, Instant};
use support::{Server, median, ms};

const SERVICES: usize = 200;
const PROJECTS: usize = 2_000;
const RUNS: usize = 30;

/// Follows `next` from `url` to the last page; the total time and the projects seen.
async fn all_pages(client: &reqwest::Client, url: String, token: &str) -> anyhow::Result<(Duration, usize)> {
    let t = Instant::now();
    let (mut next, mut seen) = (Some(url), 0);
    while let Some(url) = next {
        let page: serde_json::Value = client
            .get(&url)
            .header("authorization", format!("Token {token}"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        seen += page["results"].as_array().map_or(0, Vec::len);
        next = page["next"].as_str().map(str::to_string);
    }
    Ok((t.elapsed(), seen))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (url, dir) = support::database("rest")?;
    let backend = Backend::new(Db::connect(&url).await?);
    let started = Instant::now();
    support::seed_line(&backend, PROJECTS, SERVICES, 17, 2).await?;
    let (_, admin_key) = support::user_with_token(&backend, "bench-admin", true).await?;
    let (viewer, viewer_key) = support::user_with_token(&backend, "bench-viewer", false).await?;
    let ids: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM project ORDER BY id LIMIT 200").fetch_all(&backend.db.pool).await?;
    for (id,) in ids {
        backend
            .roles
            .grant(&Actor::System, Object::Project(ProjectId(id)), Principal::User(viewer.id), Role::Viewer)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    println!("seeded {PROJECTS} projects in {SERVICES} services in {:.1?}", started.elapsed());

    let server = Server::start(&url).await?;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let one = |key: String| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let t = Instant::now();
            client
                .get(format!("{base}/rest/v2/projects"))
                .header("authorization", format!("Token {key}"))
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            anyhow::Ok(t.elapsed())
        }
    };
    for _ in 0..3 {
        one(admin_key.clone()).await?;
    }
    let mut page = Vec::new();
    for _ in 0..RUNS {
        page.push(one(admin_key.clone()).await?);
    }
    let mut big = Vec::new();
    for _ in 0..10 {
        let (t, n) = all_pages(&client, format!("{base}/rest/v2/projects?page_size=1000"), &admin_key).await?;
        assert_eq!(n, PROJECTS);
        big.push(t);
    }
    let mut every = Vec::new();
    for _ in 0..3 {
        let (t, n) = all_pages(&client, format!("{base}/rest/v2/projects"), &admin_key).await?;
        assert_eq!(n, PROJECTS);
        every.push(t);
    }
    let mut mine = Vec::new();
    for _ in 0..RUNS {
        mine.push(one(viewer_key.clone()).await?);
    }
    let rss = server.peak_rss_mib();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);

    let versus = |ours: Duration, promgen: f64| {
        format!("median {:.1} ms  (Promgen {promgen} ms: {:.1}x)", ms(ours), promgen / ms(ours))
    };
    println!("GET /rest/v2/projects, {PROJECTS} projects, site admin by token:");
    println!("  one page (10):              {}", versus(median(page), 13.3));
    println!("  all, page_size=1000 (2):    {}", versus(median(big), 63.8));
    println!("  all, 200 pages of 10:       {}", versus(median(every), 3410.0));
    println!("  one page, Viewer of 200:    median {:.1} ms", ms(median(mine)));
    println!("server peak RSS: {rss:.0} MiB");
    Ok(())
}
