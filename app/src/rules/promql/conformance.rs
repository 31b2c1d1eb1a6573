//! Prometheus 2.42's own parser cases (`parse_test.go`, `lex_test.go` and the examples of its
//! documentation), each with the verdict of promtool 2.42 (Debian's): this parser must agree on
//! every one. The file is `fixtures/conformance/prometheus-2.42-parser.jsonl` (see its README).

use super::dialect::{Dialect, v};
use super::parse_for;

#[derive(serde::Deserialize)]
struct Case {
    input: String,
    promtool: String,
    promtool_error: Option<String>,
    source: String,
}

fn cases() -> Vec<Case> {
    include_str!("../../../fixtures/conformance/prometheus-2.42-parser.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a case"))
        .collect()
}

#[test]
fn agrees_with_promtool_on_every_case() {
    let cases = cases();
    assert_eq!(cases.len(), 470);
    let mut disagree = Vec::new();
    for c in &cases {
        let ours = parse_for(&c.input, Dialect::of(v(2, 42)));
        let accepted = c.promtool == "accept";
        if ours.is_ok() != accepted {
            let shown: String = c.input.chars().take(120).collect();
            disagree.push(format!(
                "{shown:?} ({}): promtool {}{}, this parser {}",
                c.source,
                c.promtool,
                c.promtool_error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default(),
                match &ours {
                    Ok(_) => "accepts".to_string(),
                    Err(e) => format!("refuses ({})", e.message),
                }
            ));
        }
    }
    assert!(disagree.is_empty(), "{} disagreements:\n{}", disagree.len(), disagree.join("\n"));
}
