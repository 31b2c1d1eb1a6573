//! The rule test (spec 6.8) against a real Prometheus: how many series would fire, the routing
//! problems Promgen warns about, and clear messages when a shard's Prometheus is down or slow.
//! Only editors of the rule's owner may run it, and no series comes back.

mod common;
use app::backend::{Actor, Backend, Settings};
use app::model::*;
use std::time::Duration;

async fn project_on(b: &Backend, shard: &str, url: &str, service: &str, project: &str) -> (RuleOwner, RuleOwner) {
    let shard = b.inventory.create_shard(&Actor::System, ShardInput::new(shard, url)).await.unwrap();
    let s = b
        .inventory
        .create_service(&Actor::System, ServiceInput { name: service.into(), description: String::new() })
        .await
        .unwrap();
    let input = ProjectInput { name: project.into(), description: String::new(), shard_id: shard.id };
    let p = b.inventory.create_project(&Actor::System, s.id, input).await.unwrap();
    (b.rules.owner(OwnerKind::Service, s.id.0).await.unwrap(), b.rules.owner(OwnerKind::Project, p.id.0).await.unwrap())
}

on_both_databases!(the_rule_test_asks_the_owners_prometheus, |b: Backend| async move {
    let prom = common::Prometheus::start(&[("service", "web"), ("project", "frontend")]).await;
    let (web, frontend) = project_on(&b, "main", &prom.url, "web", "frontend").await;
    let admin = common::admin(&b).await;

    // Wait for Prometheus' first scrape of itself.
    let mut test = None;
    for _ in 0..100 {
        let t = b.rules.test(&admin, None, &frontend, RuleKind::Alert, "up{<exclude>} == 1").await.unwrap();
        if t.firing > 0 {
            test = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let t = test.expect("Prometheus scraped itself within 20 s");
    assert_eq!(t.expr, "up{} == 1");
    assert_eq!(t.firing, 1);
    assert_eq!(t.shards[0].result, Ok(1));
    // Counts and verdicts only: no series, no labels, no values.
    let answer = serde_json::to_value(&t).unwrap();
    assert_eq!(answer.as_object().unwrap().keys().collect::<Vec<_>>(), ["expr", "firing", "problems", "shards"]);
    assert!(!answer.to_string().contains("frontend"), "{answer}");
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    let quiet = b.rules.test(&admin, None, &web, RuleKind::Alert, "up{<exclude>} == 0").await.unwrap();
    assert_eq!((quiet.firing, quiet.shards[0].result.clone()), (0, Ok(0)));

    // Series another service's rule would raise alerts for, and series nobody can be told about.
    let (api, _) = project_on(&b, "other", &prom.url, "api", "backend").await;
    let t = b.rules.test(&admin, None, &api, RuleKind::Alert, "up == 1").await.unwrap();
    assert!(
        t.problems.iter().any(|p| p.contains("Unrelated service labels found. Expected: api. Found: web.")),
        "{:?}",
        t.problems
    );
    // A site rule's alerts are routed by the series' labels; a service's rule gives its alerts
    // the service's (the test said they could not be routed).
    let site = b.rules.owner(app::model::OwnerKind::Site, 1).await.unwrap();
    let t = b.rules.test(&admin, None, &site, RuleKind::Alert, "vector(1)").await.unwrap();
    assert!(t.problems.iter().any(|p| p.contains("neither a service nor a project label")), "{:?}", t.problems);
    let t = b.rules.test(&admin, None, &api, RuleKind::Alert, "vector(1)").await.unwrap();
    assert!(!t.problems.iter().any(|p| p.contains("neither a service nor a project label")), "{:?}", t.problems);

    // Prometheus' own errors can quote other series' labels: only their kind comes back.
    let t =
        b.rules.test(&admin, None, &api, RuleKind::Alert, "prometheus_http_requests_total * on() up").await.unwrap();
    let err = t.shards[0].result.clone().unwrap_err();
    assert!(err.ends_with("could not run the query (execution error)"), "{err}");
    assert!(!err.contains("handler"), "{err}");
    // Label values that name nothing registered here are counted, not told.
    let t = b
        .rules
        .test(&admin, None, &api, RuleKind::Alert, "label_replace(up, \"service\", \"sk_live_$1\", \"job\", \"(.*)\")")
        .await
        .unwrap();
    let said = t.problems.join(" ");
    assert!(said.contains("1 value that names no service registered here") && !said.contains("sk_live"), "{said}");

    // A bad expression never reaches Prometheus.
    let err = b.rules.test(&admin, None, &api, RuleKind::Alert, "up ==").await.unwrap_err();
    assert_eq!(err.to_string(), "Expression: 1:6: unexpected end of input");
    assert!(matches!(
        b.rules.test(&Actor::Anonymous, None, &api, RuleKind::Alert, "up").await,
        Err(app::error::AppError::Unauthenticated)
    ));
    // Someone who may not edit the owner's rules may not run its test (nor the site's).
    let other = common::user(&b, "mallory").await;
    for owner in [&api, &b.rules.owner(OwnerKind::Site, 1).await.unwrap()] {
        let err = b.rules.test(&other, None, owner, RuleKind::Alert, "up").await.unwrap_err();
        assert_eq!(err.status(), 403, "{err}");
    }
});

on_both_databases!(a_down_or_slow_prometheus_is_named_not_waited_for, |b: Backend| async move {
    let closed = format!("http://127.0.0.1:{}", common::free_port());
    let (_, down) = project_on(&b, "down", &closed, "web", "frontend").await;
    // A server that takes the connection and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((conn, _)) = silent.accept().await {
            open.push(conn);
        }
    });
    let (_, slow) = project_on(&b, "slow", &silent_url, "api", "backend").await;
    let impatient = Backend::with_settings(
        b.db.clone(),
        &Settings { query_timeout: Duration::from_secs(1), ..Settings::default() },
    )
    .unwrap();
    let admin = common::admin(&b).await;

    let t = impatient.rules.test(&admin, None, &down, RuleKind::Alert, "up").await.unwrap();
    let err = t.shards[0].result.clone().unwrap_err();
    assert!(err.starts_with(&format!("Prometheus at {closed} is unreachable")), "{err}");
    // The server never answers: only the deadline ends this.
    let t = impatient.rules.test(&admin, None, &slow, RuleKind::Alert, "up").await.unwrap();
    assert_eq!(t.shards[0].result, Err(format!("Prometheus at {silent_url} did not answer in time")));
    held.abort();
});
