//! A PromQL parser for the rule editor and the server's save path.
//!
//! Hand-written rather than the `promql-parser` crate: that crate drops the position of a
//! syntax error (its `parse` answers only "invalid promql query") and brings an LR runtime,
//! `regex` and `chrono` into the browser bundle: 1.39 MB of wasm (482 KB gzipped) for a bare
//! `parse`, against 79 KB (44 KB) for this one, both built as the site is (opt-level z, LTO,
//! wasm-opt -Oz). This one reports every error with its byte span and checks types as
//! Prometheus does. On save the server also runs the real `promtool`, and the tests hold this
//! parser to promtool's verdicts.

mod ast;
pub mod dialect;
mod functions;
mod lexer;
mod parser;
pub mod regex;

pub use ast::*;
pub use dialect::{Dialect, Version};
pub use parser::{parse, parse_for};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Scalar,
    Vector,
    Matrix,
    String,
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        })
    }
}

/// A syntax or type error and the byte span it is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseError {
    pub start: usize,
    pub end: usize,
    pub message: String,
}

impl ParseError {
    pub fn new(start: usize, end: usize, message: impl Into<String>) -> Self {
        ParseError { start, end: end.max(start), message: message.into() }
    }

    /// 1-based line and column (in characters) of the error's start in `src`.
    pub fn line_col(&self, src: &str) -> (usize, usize) {
        let before = &src[..src.floor_char_boundary(self.start)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, col)
    }

    /// `line:col: message`, as Prometheus words its errors.
    pub fn describe(&self, src: &str) -> String {
        let (line, col) = self.line_col(src);
        format!("{line}:{col}: {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expressions Prometheus accepts (several from its own parser tests).
    pub const VALID: &[&str] = &[
        "up",
        "up == 0",
        "up{job=\"node\"}",
        "up{job=\"node\",}",
        "{__name__=~\"job:.*\"}",
        "up{service=\"a\",project!~\"b|c\"}",
        "rate(http_requests_total[5m])",
        "sum by (job) (rate(http_requests_total[5m]))",
        "sum(rate(http_requests_total[5m])) by (job)",
        "sum without (instance) (up)",
        "topk(3, sum by (app) (rate(x[1m])))",
        "count_values(\"version\", build_info)",
        "quantile(0.9, latency)",
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
        "predict_linear(node_filesystem_avail_bytes{mountpoint=\"/\"}[6h], 4 * 3600) < 0",
        "node_filesystem_free{service!~\"test-service|other-service\"} / node_filesystem_size{service!~\"test-service|other-service\"} < 0.20",
        "up{service=\"test-service\",project=\"test-project\",}",
        "a + b * c ^ d ^ e",
        "-a ^ 2",
        "a > bool 1",
        "1 > bool 2",
        "a / on(instance) group_left(job) b",
        "a * ignoring(code) group_right b",
        "a and on() b",
        "a or b unless c",
        "a atan2 b",
        "foo offset 5m",
        "foo offset -1h30m",
        "foo[5m] offset 1h",
        "foo @ 1609746000",
        "foo @ start()",
        "rate(foo[5m] @ end())",
        "max_over_time(rate(foo[1m])[1h:5m])",
        "max_over_time(rate(foo[1m])[1h:])",
        "min_over_time((a + b)[30m:1m] offset 5m)",
        "vector(1)",
        "time() - process_start_time_seconds > 3600",
        "scalar(sum(up))",
        "label_replace(up, \"host\", \"$1\", \"instance\", \"(.*):.*\")",
        "label_join(up, \"foo\", \",\", \"a\", \"b\", \"c\")",
        "round(x)",
        "round(x, 0.5)",
        "day_of_week()",
        "absent(up{job=\"x\"})",
        "clamp(x, 0, 1)",
        "SUM(up) BY (job)",
        "up AND down",
        "+5",
        "-Inf",
        "NaN",
        "0x1F",
        "1e-3",
        "\"a string\"",
        "(up)",
        "((up))",
        "up # a comment\n  == 0",
        "foo:bar:rate5m",
        "count by () (up)",
        "sum by (job,) (up)",
        "100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m]))) > 90",
        "up{on=\"x\", by=\"y\"}",
    ];

    /// Prometheus 3 syntax, which Debian's promtool (2.42) does not know yet.
    pub const VALID_PROMETHEUS_3: &[&str] = &[
        "sort_by_label(up, \"instance\", \"job\")",
        "{\"metric.with.dots\"}",
        "{\"metric.with.dots\", \"label.x\"=\"y\"}",
        "double_exponential_smoothing(x[1h], 0.5, 0.5)",
        "info(up)",
    ];

    /// Expressions Prometheus refuses, with where the error starts and a piece of its message.
    pub const INVALID: &[(&str, usize, &str)] = &[
        ("", 0, "no expression"),
        ("rate(up[5m]", 4, "unclosed left parenthesis"),
        ("(up", 0, "unclosed left parenthesis"),
        ("up{job=\"a\"", 0, "end of input inside braces"),
        ("up{job=}", 7, "expected string"),
        ("up{job \"a\"}", 7, "expected label matching operator"),
        ("up{job=\"a\" x=\"b\"}", 11, "expected \",\" or \"}\""),
        ("{}", 0, "at least one non-empty matcher"),
        ("{job=~\".*\"}", 0, "at least one non-empty matcher"),
        ("{job=\"\"}", 0, "at least one non-empty matcher"),
        ("up{__name__=\"x\"}", 0, "metric name must not be set twice"),
        ("rate(up)", 5, "expected type range vector"),
        ("rate(up[5m], 1)", 0, "expected 1 argument"),
        ("nosuchfunc(up)", 0, "unknown function"),
        ("sum(up[5m])", 4, "expected type instant vector in aggregation"),
        ("topk(up)", 0, "expected 2, got 1"),
        ("sum(1, up)", 0, "expected 1, got 2"),
        ("topk(\"x\", up)", 5, "expected type scalar"),
        ("1 > 2", 2, "must use BOOL"),
        ("a + bool b", 4, "bool modifier can only be used on comparison"),
        ("1 and up", 0, "set operator \"and\" not allowed"),
        ("a and on() group_left b", 11, "no grouping allowed"),
        ("1 + on(x) up", 4, "vector matching only allowed between instant vectors"),
        ("up[5m] + 1", 0, "only scalar and instant vector"),
        ("-up[5m]", 0, "unary expression only allowed"),
        ("(up)[5m]", 4, "ranges only allowed for vector selectors"),
        ("rate(up[5m])[5m]", 12, "ranges only allowed"),
        ("up[5m][1h:]", 0, "subquery is only allowed on instant vector"),
        ("up offset 5m offset 1m", 13, "offset may not be set multiple times"),
        ("sum(up) offset 5m", 8, "offset modifier must be preceded"),
        ("up offset 5m [5m]", 13, "no offset or @ modifiers allowed before range"),
        ("up[5x]", 3, "bad number or duration"),
        ("up[5]", 3, "expected duration"),
        ("up{job=~\"(a\"}", 9, "missing closing )"),
        ("up{job!~\"*\"}", 9, "missing argument to repetition operator"),
        ("up ==", 5, "unexpected end of input"),
        ("up )", 3, "unexpected \")\""),
        ("on", 0, "unexpected identifier"),
        ("up{job:x=\"a\"}", 3, "invalid label name"),
        ("sum by (job) up", 13, "expected \"(\""),
        ("sum by (job) (up) by (x)", 18, "grouping given twice"),
        ("foo @ bar", 6, "expected timestamp"),
        ("a / on(x) group_left(x) b", 10, "must not occur in ON and GROUP clause"),
        ("up{a=\"\\q\"}", 6, "unknown escape"),
        ("1 +", 3, "unexpected end of input"),
        ("label_join(up, \"a\")", 0, "expected at least 3 argument"),
        ("round(x, 1, 2)", 0, "expected at most 2 argument"),
    ];

    #[test]
    fn accepts_what_prometheus_accepts() {
        for src in VALID.iter().chain(VALID_PROMETHEUS_3) {
            if let Err(e) = parse(src) {
                panic!("{src:?} refused: {}", e.describe(src));
            }
        }
    }

    /// What a Prometheus of an older release would refuse is refused for it, saying which
    /// release (and flag) the construct needs; Debian's promtool (2.42) agrees.
    #[test]
    fn knows_which_release_reads_what() {
        use dialect::v;
        let old = Dialect::of(v(2, 42));
        for (src, says) in [
            ("info(up)", "info() needs Prometheus 2.55 or newer"),
            ("{\"metric.with.dots\"}", "a quoted metric or label name needs Prometheus 3.0"),
            ("sum by (\"job\") (up)", "a quoted metric or label name needs Prometheus 3.0"),
            ("sum without (\"job\") (up)", "a quoted metric or label name needs Prometheus 3.0"),
            ("up + on(\"job\") group_left(\"x\") down", "a quoted metric or label name needs Prometheus 3.0"),
            ("up{a=~\"(?<n>x)\"}", "(?<name>…) in a regular expression needs Prometheus 2.51"),
            ("limitk(2, up)", "limitk needs Prometheus 2.54"),
            ("double_exponential_smoothing(x[1h], 0.5, 0.5)", "needs Prometheus 3.0"),
            ("sort_by_label(up, \"instance\")", "needs Prometheus 2.49"),
        ] {
            let e = parse_for(src, old).unwrap_err();
            assert!(e.message.contains(says), "{src}: {}", e.message);
        }
        assert!(parse_for("holt_winters(x[1h], 0.5, 0.5)", old).is_ok());
        let three = Dialect::of(v(3, 0));
        let e = parse_for("holt_winters(x[1h], 0.5, 0.5)", three).unwrap_err();
        assert!(e.message.contains("removed in Prometheus 3.0"), "{}", e.message);
        let e = parse_for("sort_by_label(up, \"a\")", three).unwrap_err();
        assert!(e.message.contains("--enable-feature=promql-experimental-functions"), "{}", e.message);
        assert!(parse_for("sort_by_label(up, \"a\")", Dialect { experimental: true, ..three }).is_ok());
        assert!(parse_for("{\"metric.with.dots\"}", three).is_ok());
        assert!(parse_for("sum by (\"job\") (up) + on(\"job\") group_left(\"x\") down", three).is_ok());
        assert!(parse_for("first_over_time(x[5m])", Dialect::of(v(3, 14))).is_ok(), "stable since 3.14");
        for src in VALID_PROMETHEUS_3 {
            assert!(parse_for(src, old).is_err(), "{src} is 3.x syntax");
        }
    }

    #[test]
    fn refuses_what_prometheus_refuses_and_says_where() {
        for (src, at, msg) in INVALID {
            match parse(src) {
                Ok(_) => panic!("{src:?} accepted"),
                Err(e) => {
                    assert!(e.message.contains(msg), "{src:?}: {:?} does not say {msg:?}", e.message);
                    assert_eq!(e.start, *at, "{src:?}: {}", e.message);
                }
            }
        }
    }

    #[test]
    fn knows_precedence_and_types() {
        let e = parse("a + b * c").unwrap();
        let ExprKind::Binary { op: BinOp::Add, rhs, .. } = &e.kind else { panic!("{e:?}") };
        assert!(matches!(rhs.kind, ExprKind::Binary { op: BinOp::Mul, .. }));
        let e = parse("-a ^ b").unwrap();
        assert!(
            matches!(&e.kind, ExprKind::Unary { expr, .. } if matches!(expr.kind, ExprKind::Binary { op: BinOp::Pow, .. }))
        );
        let e = parse("a ^ b ^ c").unwrap();
        assert!(matches!(&e.kind, ExprKind::Binary { lhs, .. } if matches!(lhs.kind, ExprKind::Selector(_))));
        assert_eq!(parse("1 + 2").unwrap().value_type(), ValueType::Scalar);
        assert_eq!(parse("up[5m]").unwrap().value_type(), ValueType::Matrix);
        assert_eq!(parse("scalar(up) * 2").unwrap().value_type(), ValueType::Scalar);
        let names: Vec<_> = parse("a / on(x) b{c=\"d\"}[5m] offset 1m").ok().into_iter().collect();
        assert!(names.is_empty(), "a range inside a binary expression is a type error");
        let sel = parse("rate(a{b=\"c\"}[5m]) + d").unwrap();
        let names: Vec<_> = sel.selectors().iter().map(|s| s.name.clone().unwrap_or_default()).collect();
        assert_eq!(names, ["a", "d"]);
    }

    #[test]
    fn positions_are_lines_and_characters() {
        let src = "sum(\n  rate(up[5m]\n)";
        let e = parse(src).unwrap_err();
        assert_eq!(e.describe(src), "1:4: unclosed left parenthesis in aggregation");
        let src = "up{a=\"é\"} +\n  bogus(x)";
        assert_eq!(parse(src).unwrap_err().describe(src), "2:3: unknown function with name \"bogus\"");
    }

    /// The real promtool is the judge: it accepts every valid expression and refuses every
    /// invalid one, as this parser does.
    #[test]
    fn promtool_agrees() {
        let dir = std::env::temp_dir().join(format!("promgen-promql-oracle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let check = |name: &str, exprs: &[&str]| {
            let rules: Vec<String> = exprs
                .iter()
                .enumerate()
                .map(|(i, e)| format!("  - record: r{i}\n    expr: {}\n", serde_json::to_string(e).unwrap()))
                .collect();
            let file = dir.join(name);
            std::fs::write(&file, format!("groups:\n- name: g\n  rules:\n{}", rules.concat())).unwrap();
            std::process::Command::new("promtool")
                .args(["check", "rules"])
                .arg(&file)
                .output()
                .expect("promtool (Debian's prometheus package; .ci/setup installs it)")
        };
        let all = check("valid.yml", VALID);
        assert!(all.status.success(), "promtool refuses: {}", String::from_utf8_lossy(&all.stderr));
        for (i, src) in VALID_PROMETHEUS_3.iter().enumerate() {
            let out = check(&format!("new-{i}.yml"), &[src]);
            assert!(!out.status.success(), "promtool 2.42 accepts {src:?}, which needs a newer Prometheus");
        }
        for (i, (src, _, _)) in INVALID.iter().enumerate().filter(|(_, (src, _, _))| !src.is_empty()) {
            let out = check(&format!("invalid-{i}.yml"), &[src]);
            assert!(!out.status.success(), "promtool accepts {src:?}, which this parser refuses");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Runs `f` on a thread with 1 MiB of stack, as wasm32 gets in the browser by default.
    fn on_small_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new().stack_size(1 << 20).spawn(f).unwrap().join().unwrap();
    }

    /// However deep an expression nests, parsing, checking and dropping it uses a constant
    /// amount of stack: Prometheus has no nesting limit, and neither does this parser.
    #[test]
    fn deep_nesting_parses_on_a_small_stack() {
        on_small_stack(|| {
            let n = 100_000;
            for (open, close) in [("(", ")"), ("abs(", ")"), ("sum(", ")"), ("-", ""), ("max_over_time(", "[5m:])")] {
                let src = open.repeat(n) + "up" + &close.repeat(n);
                let e = parse(&src).unwrap_or_else(|e| panic!("{open}: {}", e.message));
                assert!(e.height() as usize > n, "{open}");
                assert!(!e.selectors().is_empty());
            }
            let src = "(".repeat(n) + "up" + &")".repeat(n - 1);
            assert_eq!(parse(&src).unwrap_err().message, "unclosed left parenthesis");
        });
    }

    /// `1+1+…+1` with a million terms: each operator folds in constant time (a node's type is
    /// worked out once, not by walking the chain below it), and the tree, a million levels
    /// high, is walked and dropped without recursion.
    #[test]
    fn a_million_term_chain_parses_in_linear_time_on_a_small_stack() {
        on_small_stack(|| {
            let src = vec!["1"; 1_000_000].join("+");
            let e = parse(&src).unwrap();
            assert_eq!((e.value_type(), e.height()), (ValueType::Scalar, 1_000_000));
            let src = vec!["up"; 1_000_000].join(" or ") + " > 1";
            assert_eq!(parse(&src).unwrap().selectors().len(), 1_000_000);
        });
    }
}
#[cfg(test)]
mod conformance;
