//! Arbitrary UTF-8 into every part of the engine that reads what users type: the lexer and
//! parser (in every dialect), the regex checker, `<exclude>` expansion and its offset map, the
//! editor's caret and error positions, the YAML shape check, durations and the validators.
//! Each answers with a value or an error, never a panic. (Property tests: `proptest`.)

use super::promql::{Dialect, Version, dialect::v, parse_for};
use super::{check_expr, exclude, preview};
use crate::model::{RuleKind, RuleOwner, ServiceId, validate};
use proptest::prelude::*;

/// Text that looks like PromQL often enough to get deep into the parser, with multi-byte
/// characters where byte offsets could land inside one.
fn promqlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("up".to_string()),
        Just("sum".to_string()),
        Just(" by (job) ".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[5m]".to_string()),
        Just("[1h:5m]".to_string()),
        Just(" offset 1m".to_string()),
        Just(" @ 100".to_string()),
        Just("=~\"(?é)\"".to_string()),
        Just("!~\"[日-a]+\"".to_string()),
        Just("job=\"é\"".to_string()),
        Just(",".to_string()),
        Just(" + ".to_string()),
        Just(" and on() group_left ".to_string()),
        Just("<exclude>".to_string()),
        Just("rate(".to_string()),
        Just("info(".to_string()),
        Just("\"\\u00e9\\x41\\'\"".to_string()),
        Just("`raw é`".to_string()),
        Just("# comment é\n".to_string()),
        Just("1e308".to_string()),
        Just("0x1F".to_string()),
        Just("😀".to_string()),
        Just("é".to_string()),
        Just("\n".to_string()),
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("{{- if ".to_string()),
        Just("{{ end -}}".to_string()),
        Just("$labels.x".to_string()),
        Just(" | humanize ".to_string()),
        Just("{{/* c */}}".to_string()),
        "[ -~]{0,3}",
        "\\PC{0,3}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![promqlish(), any::<String>(), "\\PC{0,40}"]
}

fn dialects() -> impl Strategy<Value = Dialect> {
    (prop_oneof![Just(Version::OLDEST), Just(v(2, 51)), Just(v(3, 0)), Just(Version::NEWEST)], any::<bool>())
        .prop_map(|(version, experimental)| Dialect { version, experimental })
}

fn owners() -> impl Strategy<Value = Vec<RuleOwner>> {
    prop::collection::vec("\\PC{0,12}", 0..4).prop_map(|names| {
        names.into_iter().enumerate().map(|(i, name)| RuleOwner::Service { id: ServiceId(i as i64), name }).collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn parsing_never_panics(src in any_text(), dialect in dialects()) {
        if let Err(e) = parse_for(&src, dialect) {
            // Every error points into the text and can be shown.
            prop_assert!(e.start <= src.len() && e.end <= src.len() + 1, "{e:?} in {} bytes", src.len());
            let _ = e.describe(&src);
        }
    }

    #[test]
    fn regex_checking_never_panics(re in any_text(), dialect in dialects()) {
        let _ = super::promql::parse_for(&format!("up{{a=~{re:?}}}"), dialect);
        let _ = super::promql::parse_for(&format!("up{{a!~`{re}`}}"), dialect);
    }

    #[test]
    fn expansion_and_its_offsets_never_panic(expr in any_text(), owners in owners(), pos in 0usize..400) {
        let expansion = exclude::expand(&expr, &owners);
        let _ = expansion.source_offset(pos);
        let checked = check_expr(RuleKind::Alert, &expr, &owners, Dialect::latest());
        if let Err(e) = checked {
            let _ = e.describe(&expr);
            let _ = preview::caret(&expr, &e);
        }
    }

    #[test]
    fn carets_never_panic(expr in any_text(), start in 0usize..300, len in 0usize..50) {
        let e = super::ExprError { start, end: start + len, message: String::new() };
        let (line, mark) = preview::caret(&expr, &e);
        prop_assert!(!line.contains('\n'));
        prop_assert!(mark.ends_with('^'));
        let _ = e.describe(&expr);
    }

    #[test]
    fn other_readers_never_panic(text in any_text()) {
        let _ = crate::model::duration::parse_duration(&text);
        if let Err(e) = super::template::check(&text, Dialect::latest()) {
            let _ = e.describe(&text);
        }
        let _ = validate::hostname("host", &text);
        let _ = validate::host_list("hosts", &text);
        let _ = validate::name("name", &text);
        let _ = validate::metrics_path("path", &text);
        let _ = validate::http_url("url", &text);
        let _ = crate::model::parse_label_filter(&text);
        #[cfg(feature = "ssr")]
        let _ = crate::backend::yaml::check_nesting(&text);
    }
}
