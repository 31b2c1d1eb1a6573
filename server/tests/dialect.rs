//! Rules are checked for the Prometheus that loads them: the oldest release among the enabled
//! shards (set by hand, or read from the shard's Prometheus), else the site's default. A
//! construct a release does not know is refused with the release it needs.

mod common;
use app::backend::Backend;
use app::model::*;
use app::rules::promql::{Dialect, Version, dialect::v};

fn rule(name: &str, expr: &str) -> RuleInput {
    RuleInput {
        kind: RuleKind::Alert,
        name: name.into(),
        expr: expr.into(),
        duration: String::new(),
        enabled: true,
        description: String::new(),
        labels: Default::default(),
        annotations: Default::default(),
    }
}

on_both_databases!(rules_meet_the_oldest_prometheus_that_loads_them, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let site = b.rules.owner(OwnerKind::Site, 1).await.unwrap();

    // No shard says which Prometheus it runs: the site's default, 2.42.
    let (d, source) = b.rules.dialect().await.unwrap();
    assert_eq!((d, source.contains("site's default")), (Dialect::of(v(2, 42)), true), "{source}");
    let err = b.rules.create(&admin, &site, rule("Info", "info(up) > 0")).await.unwrap_err();
    assert_eq!(err.field(), Some("expr"));
    assert!(err.to_string().contains("info() needs Prometheus 2.55 or newer"), "{err}");
    let err = b.rules.import_file(&admin, "alert: Sorted\nexpr: sort_by_label(up, \"a\") > 0\n", Some(&site)).await;
    assert!(err.unwrap_err().to_string().contains("needs Prometheus 2.49"));

    // The site runs 3.1: quoted names pass, experimental functions need the flag.
    b.site.set_prometheus_version(&admin, "3.1").await.unwrap();
    assert!(b.rules.create(&admin, &site, rule("Dots", "{\"metric.with.dots\"} > 0")).await.is_ok());
    let err = b.rules.create(&admin, &site, rule("Info", "info(up) > 0")).await.unwrap_err();
    assert!(err.to_string().contains("--enable-feature=promql-experimental-functions"), "{err}");
    assert!(b.site.set_prometheus_version(&admin, "1.8").await.is_err());
    assert!(b.site.set_prometheus_version(&common::user(&b, "dev").await, "3.1").await.is_err());

    // A shard of Debian's Prometheus (2.42) reports its release; it is the oldest that loads
    // the rule file, whatever the site says.
    let prom = common::Prometheus::start(&[("service", "web")]).await;
    b.inventory.create_shard(&admin, ShardInput::new("debian", &prom.url)).await.unwrap();
    let newer = ShardInput { prometheus_version: Some("3.2".into()), ..ShardInput::new("newer", "http://127.0.0.1:9") };
    b.inventory.create_shard(&admin, newer).await.unwrap();
    let down = common::free_port();
    // Its URL holds a password: the error every reader of shards sees must not.
    let with_password = format!("http://prom:s3cret@127.0.0.1:{down}");
    b.inventory.create_shard(&admin, ShardInput::new("down", &with_password)).await.unwrap();
    assert_eq!(b.rules.detect_versions().await.unwrap(), 1);
    let shards = b.inventory.shards(&admin).await.unwrap();
    let by_name = |n: &str| shards.iter().find(|s| s.shard.name == n).unwrap().shard.clone();
    assert_eq!(by_name("debian").detected_version.as_deref(), Some("2.42"));
    let error = by_name("down").detect_error.unwrap_or_default();
    assert!(error.contains("unreachable") && error.contains("prom:***@") && !error.contains("s3cret"), "{error}");
    let (d, source) = b.rules.dialect().await.unwrap();
    assert_eq!(d, Dialect::of(v(2, 42)));
    assert_eq!(source, "Prometheus 2.42 of shard debian, the oldest");
    let err = b.rules.create(&admin, &site, rule("Dots2", "{\"metric.with.dots\"} > 0")).await.unwrap_err();
    assert!(err.to_string().contains("needs Prometheus 3.0"), "{err}");
    // The editor gets the same dialect, to check as one types.
    let ctx = b.rules.new_context(&admin, site.clone()).await.unwrap();
    assert_eq!((ctx.dialect.version, ctx.dialect_source.as_str()), (Version::OLDEST, source.as_str()));
});

// A template Go would not parse is refused at save, naming the annotation, also on a server
// without promtool; the editor's preview says the same.
on_both_databases!(templates_are_checked_without_promtool, |b: Backend| async move {
    let settings = app::backend::Settings { promtool: Some("/nonexistent/promtool".into()), ..Default::default() };
    let b = Backend::with_settings(b.db.clone(), &settings).unwrap();
    assert!(b.rules.promtool().version().is_none());
    let admin = common::admin(&b).await;
    let site = b.rules.owner(OwnerKind::Site, 1).await.unwrap();
    let mut input = rule("Down", "up == 0");
    input.annotations.insert("summary".into(), "{{$label.foo}} is down".into());
    let err = b.rules.create(&admin, &site, input.clone()).await.unwrap_err();
    assert_eq!(err.field(), Some("annotations.summary"));
    assert!(err.to_string().contains("Annotation summary: 1:3: undefined variable \"$label\""), "{err}");
    input.annotations.insert("summary".into(), "{{ $labels.instance }} is down".into());
    assert!(b.rules.create(&admin, &site, input).await.is_ok());
    let import = "groups:\n- name: g\n  rules:\n  - alert: B\n    expr: up\n    labels:\n      team: '{{ if 1 }}'\n";
    let err = b.rules.import_file(&admin, import, Some(&site)).await.unwrap_err();
    assert!(err.to_string().contains("Label team: 1:4: unexpected EOF"), "{err}");
});

// The served rule file always loads: group names are unique (a site whose domain is a
// service's name), and a rule Prometheus would refuse (one that came in with a Promgen export)
// is left out and reported, while the rest is served.
on_both_databases!(the_served_rule_file_always_loads, |b: Backend| async move {
    let admin = common::admin(&b).await;
    b.site.update(&admin, "web", "http").await.unwrap();
    let site = b.rules.owner(OwnerKind::Site, 1).await.unwrap();
    let s = b
        .inventory
        .create_service(&admin, ServiceInput { name: "web".into(), description: String::new() })
        .await
        .unwrap();
    let service = b.rules.owner(OwnerKind::Service, s.id.0).await.unwrap();
    b.rules.create(&admin, &site, rule("SiteRule", "up == 0")).await.unwrap();
    b.rules.create(&admin, &service, rule("ServiceRule", "up == 0")).await.unwrap();
    // What an import of Promgen's data can hold: rules never checked.
    sqlx::query(
        "INSERT INTO rule (kind, name, expr, duration, enabled, description, labels, annotations, service_id) \
         VALUES ('alert', 'Broken', 'up ==', '', 1, '', '{}', '{\"summary\": \"{{$label.x}}\"}', $1)",
    )
    .bind(s.id.0)
    .execute(&b.db.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE inventory_generation SET generation = generation + 1").execute(&b.db.pool).await.unwrap();
    let file = b.exports.rules(&Default::default(), &Default::default()).await.unwrap();
    let file = std::str::from_utf8(&file).unwrap().to_string();
    assert!(file.contains("- name: web\n") && file.contains("- name: web (service "), "{file}");
    assert!(file.contains("SiteRule") && file.contains("ServiceRule") && !file.contains("Broken"), "{file}");
    // One per database: both runs go at once in one process (they shared one, and promtool
    // read a file the other run was writing).
    let dir = std::env::temp_dir().join(format!("promgen-rulefile-{}-{:?}", std::process::id(), b.db.dialect));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rules.yml"), &file).unwrap();
    let out =
        std::process::Command::new("promtool").args(["check", "rules"]).arg(dir.join("rules.yml")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let problems = b.exports.rule_file_problems();
    assert_eq!(problems.left_out.len(), 1);
    assert_eq!(problems.left_out[0].1, "Broken");
    assert!(problems.left_out[0].2.contains("unexpected end of input"), "{:?}", problems.left_out);
    assert!(problems.refused.is_none() && problems.serving_since.is_some());
    let broken = problems.left_out[0].0;
    let detail = b.rules.detail(&admin, broken).await.unwrap();
    assert!(detail.left_out.is_some_and(|why| why.contains("expr")));
    let app = common::router(&b);
    let (_, metrics) = common::get(&app, "/metrics").await;
    assert!(metrics.contains("promgen_rule_file_rules_left_out 1\n"), "{metrics}");
    let _ = std::fs::remove_dir_all(&dir);
});

/// `promgen check-rules FILE…` on `files` (name, text) with `args`: exit code and stdout.
fn check_rules(files: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("promgen-check-rules-{}-{}", std::process::id(), common::free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let paths: Vec<_> = files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promgen"))
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .arg("check-rules")
        .args(args)
        .args(&paths)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout).replace(&format!("{}/", dir.display()), "");
    (out.status.code().unwrap_or(-1), stdout)
}

const GOOD: &str = "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 5m\n    \
                    annotations:\n      summary: '{{ $labels.instance }} is down'\n";
const DOTS: &str = "groups:\n- name: g\n  rules:\n  - alert: Dots\n    expr: '{\"metric.with.dots\"} > 0'\n";

on_both_databases!(check_rules_gives_the_editors_verdict_on_files, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let bad = "groups:\n- name: g\n  rules:\n  - alert: Bad\n    expr: up ==\n  - alert: Worse\n    expr: up\n    \
               annotations:\n      summary: '{{$label.foo}}'\n- name: g\n  rules: []\n";
    // No database and no version: the oldest release known. One line per fault, exit 1.
    let (code, out) = check_rules(&[("good.yml", GOOD), ("bad.yml", bad), ("dots.yml", DOTS)], &[]);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("bad.yml: 5:11: group \"g\", rule 1 (Bad): Expression: "), "{out}");
    assert_eq!(
        lines[1],
        "bad.yml: 9:16: group \"g\", rule 2 (Worse): Annotation summary: 1:3: undefined variable \"$label\""
    );
    assert_eq!(lines[2], "bad.yml: 10:9: group name \"g\" is repeated (first at line 2)");
    assert!(lines[3].starts_with("dots.yml: 5:11: ") && lines[3].contains("needs Prometheus 3.0"), "{out}");
    assert_eq!(check_rules(&[("good.yml", GOOD)], &[]), (0, String::new()));
    assert_eq!(check_rules(&[("dots.yml", DOTS)], &["--prometheus-version", "3.1"]).0, 0);
    let (code, out) = check_rules(&[("missing.yml", GOOD)], &["--prometheus-version", "two"]);
    assert_eq!((code, out), (1, String::new()));

    // With the database, the site's Prometheus decides.
    let url = b.db.url.clone();
    assert_eq!(check_rules(&[("dots.yml", DOTS)], &["--database-url", &url]).0, 1);
    b.site.set_prometheus_version(&admin, "3.1").await.unwrap();
    assert_eq!(check_rules(&[("dots.yml", DOTS)], &["--database-url", &url]), (0, String::new()));
});

/// Where promtool is installed (Debian's, 2.42), check-rules for 2.42 agrees with it on what
/// loads and what does not. (check-rules is stricter on result types: promtool loads an alert
/// whose expression is a string, which then fails at every evaluation; the editor refuses it.)
#[test]
fn check_rules_agrees_with_promtool() {
    let Ok(version) = std::process::Command::new("promtool").arg("--version").output() else {
        eprintln!("promtool is not installed: nothing to compare with");
        return;
    };
    let version = String::from_utf8_lossy(&version.stdout).to_string();
    if !version.contains("version 2.42") {
        eprintln!("promtool is not 2.42 ({version}): nothing to compare with");
        return;
    }
    let cases = [
        ("good", GOOD),
        ("dots", DOTS),
        ("syntax", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up ==\n"),
        ("repeated", "groups:\n- name: g\n  rules: []\n- name: g\n  rules: []\n"),
        ("unknown", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    severity: page\n"),
        (
            "template",
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      s: '{{ $label.x }}'\n",
        ),
        ("record-for", "groups:\n- name: g\n  rules:\n  - record: a:b\n    expr: up\n    for: 5m\n"),
        ("keep", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    keep_firing_for: 5m\n"),
        ("offset", "groups:\n- name: g\n  query_offset: 1m\n  rules: []\n"),
    ];
    for (name, text) in cases {
        let dir = std::env::temp_dir().join(format!("promgen-promtool-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("rules.yml");
        std::fs::write(&file, text).unwrap();
        let promtool = std::process::Command::new("promtool").args(["check", "rules"]).arg(&file).output().unwrap();
        let ours = check_rules(&[("rules.yml", text)], &["--prometheus-version", "2.42"]);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            ours.0 == 0,
            promtool.status.success(),
            "{name}: promtool says {}{}, check-rules says {}",
            String::from_utf8_lossy(&promtool.stdout),
            String::from_utf8_lossy(&promtool.stderr),
            ours.1
        );
    }
}
