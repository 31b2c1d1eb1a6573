//! Validators of what users type, shared by the forms (as you type) and the server (on save).
//! Each returns the cleaned value or a [`FieldError`] naming the field and what is wrong.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::num::IntErrorKind;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError { field: field.to_string(), message: message.into() }
    }
}

/// What people read: the field as its form labels it, then the message
/// (`Expression: unexpected ")"`), never the field's name in code; the message alone when it
/// is about no one field (an empty `field`).
impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            return write!(f, "{}", self.message);
        }
        write!(f, "{}: {}", field_label(&self.field), self.message)
    }
}

/// A form field's name in code as its form labels it: `expr` → "Expression", `shard_id` →
/// "Shard", `labels.severity` → "Label severity"; others with their words spaced and the first
/// capitalised (`body_template` → "Body template").
pub fn field_label(field: &str) -> String {
    let known = match field {
        "expr" => "Expression",
        "duration" => "For",
        "current" => "Current password",
        "password" => "Password",
        "subject_template" => "Subject template",
        "body_template" => "Body template",
        "owner_kind" => "Owner",
        "shard_id" => "Shard",
        "probe_id" => "Probe",
        "prometheus_version" => "Prometheus version",
        "url" => "URL",
        "arguments" => "The request",
        "rules" => "Rule file",
        // a silence's window
        "starts_at" => "Start",
        "ends_at" => "End",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    if let Some(name) = field.strip_prefix("labels.") {
        return format!("Label {name}");
    }
    if let Some(name) = field.strip_prefix("annotations.") {
        return format!("Annotation {name}");
    }
    let words = field.trim_end_matches("_id").replace('_', " ");
    if words.is_empty() { "Input".to_string() } else { super::sentence(&words) }
}

pub type Checked<T> = Result<T, FieldError>;

const MAX_NAME: usize = 128;

/// How many bad entries of a list one message names; the rest are counted.
const SHOWN_ERRORS: usize = 20;

/// Longest descriptions (services, projects, rules), in characters.
pub const MAX_DESCRIPTION: usize = 4_000;
/// Longest notifier message template, in characters.
pub const MAX_TEMPLATE: usize = 16_000;
/// Longest rule expression as typed (before `<exclude>` expands), in characters.
pub const MAX_EXPR: usize = 32_000;
/// Most labels, and most annotations, of one rule.
pub const MAX_LABELS: usize = 64;
/// Longest label or annotation value, in characters.
pub const MAX_LABEL_VALUE: usize = 16_000;
/// Longest URL (notifiers, blackbox targets, shards), in characters.
pub const MAX_URL: usize = 2_048;

/// A URL with its password (`https://user:secret@host`) masked, for those who may not see it.
pub fn mask_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_string(),
    }
}

/// The message of a field left empty that must not be: "Name: is required". REST v2 says it in
/// Django REST framework's words instead ("This field may not be blank.").
pub const REQUIRED: &str = "is required";

/// The longest search query (the header's box, `/search?q=`), in characters.
pub const QUERY_MAX_CHARS: usize = 200;

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The most characters a new password may have (a passphrase fits; hashing is work per byte).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A new password: [`MIN_PASSWORD_CHARS`] to [`MAX_PASSWORD_CHARS`] characters (counted as
/// characters, not bytes), checked as it is typed and on save.
pub fn new_password(field: &str, value: &str) -> Checked<()> {
    match value.chars().count() {
        n if n < MIN_PASSWORD_CHARS => {
            Err(FieldError::new(field, format!("must be at least {MIN_PASSWORD_CHARS} characters")))
        }
        n if n > MAX_PASSWORD_CHARS => {
            Err(FieldError::new(field, format!("may be at most {MAX_PASSWORD_CHARS} characters")))
        }
        _ => Ok(()),
    }
}

/// Characters that change how the text around them reads without being seen: the controls
/// that embed, override or isolate a direction (U+202A–U+202E, U+2066–U+2069; "node\u{202E}abc"
/// reads "nodecba", and the cell's next words reverse too). Refused in every text.
pub(crate) fn reorders(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// [`reorders`], and the invisible marks (zero-width space and joiners, the direction marks,
/// the word joiner and invisible operators, the byte-order mark): refused in identifiers (a job,
/// a path, a URL, a rule's name), where "node" and "node\u{200B}" would be two that look one.
/// Free text keeps the marks: right-to-left and emoji text uses them.
fn invisible(c: char) -> bool {
    reorders(c) || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// The refusal of an identifier holding an [`invisible`] character, naming it.
pub fn no_invisible(field: &str, v: &str) -> Checked<()> {
    match v.chars().find(|&c| invisible(c)) {
        Some(c) => Err(FieldError::new(
            field,
            format!("may not contain invisible or text-direction characters like U+{:04X}", c as u32),
        )),
        None => Ok(()),
    }
}

/// Free text (a description, a template, an expression) of at most `max` characters,
/// trimmed, its line breaks as LF ([`lf_line_breaks`]), without the direction controls that
/// [`reorders`] names.
pub fn text(field: &str, value: &str, max: usize) -> Checked<String> {
    let v = value.trim();
    if let Some(c) = v.chars().find(|&c| reorders(c)) {
        return Err(FieldError::new(field, format!("may not contain text-direction controls like U+{:04X}", c as u32)));
    }
    // Bytes bound characters from above: only long texts are counted.
    if v.len() > max && v.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters (this is {})", v.chars().count()),
        ));
    }
    Ok(lf_line_breaks(v))
}

/// A one-line text (a group's or a token's name, an alias) of at most `max` characters:
/// [`text`] without line breaks, tabs or other control characters, which would make one
/// entry read as two in the audit log and in lists.
pub fn line(field: &str, value: &str, max: usize) -> Checked<String> {
    let v = text(field, value, max)?;
    // Unicode's line and paragraph separators break lines too; a zero-width space or word
    // joiner makes two names that read as one.
    let breaks =
        |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}');
    if let Some(c) = v.chars().find(|&c| breaks(c)) {
        return Err(FieldError::new(field, format!("must be one line, without control characters like {c:?}")));
    }
    Ok(v)
}

/// `text` with every CRLF and lone CR as LF. A plain form sends a textarea's line breaks as
/// CRLF (HTML's form encoding), a page's script LF, a script of a user's own (REST v2, server
/// functions) what it has: stored as sent, a rule saved without JavaScript and edited with it
/// had its line breaks rewritten (a change in its history that changed nothing), and a CR went
/// into Prometheus' rule files and notifications. Every free text goes through here, whatever
/// the entry point; passwords do not (a password is its bytes).
pub fn lf_line_breaks(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Names of services, projects, shards and farms become Prometheus label values and routing
/// keys. Promgen's rule (`^[\w][- \w]+$`): a letter, digit or `_`, then at least one more of
/// those, `-` or space.
pub fn name(field: &str, value: &str) -> Checked<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, REQUIRED));
    }
    if v.chars().count() > MAX_NAME {
        return Err(FieldError::new(field, format!("must be at most {MAX_NAME} characters")));
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut chars = v.chars();
    let first = chars.next().unwrap_or(' ');
    if !word(first) {
        return Err(FieldError::new(field, "must start with a letter, a digit or _"));
    }
    if v.chars().count() < 2 {
        return Err(FieldError::new(field, "must be at least 2 characters"));
    }
    if let Some(bad) = chars.find(|&c| !(word(c) || c == '-' || c == ' ')) {
        return Err(FieldError::new(field, format!("may contain only letters, digits, _, - and spaces, not {bad:?}")));
    }
    Ok(v.to_string())
}

/// A host as Prometheus will dial it: an IPv4 or IPv6 address, or a host name / FQDN (a
/// trailing dot is fine). No port, scheme, path or `_`.
pub fn hostname(field: &str, value: &str) -> Checked<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, REQUIRED));
    }
    if v.parse::<IpAddr>().is_ok() {
        return Ok(v.to_string());
    }
    // `[2001:db8::10]`, as an IPv6 address is written beside a port: kept without brackets.
    if let Some(inner) = v.strip_prefix('[').and_then(|r| r.strip_suffix(']'))
        && inner.parse::<std::net::Ipv6Addr>().is_ok()
    {
        return Ok(inner.to_string());
    }
    let bad = |why: &str| Err(FieldError::new(field, format!("{v:?} is not a valid host name: {why}")));
    if v.contains("://") {
        return bad("leave out the scheme");
    }
    if v.contains('/') {
        return bad("leave out the path");
    }
    if v.contains(':') {
        return bad("leave out the port; the exporter sets it");
    }
    let bare = v.strip_suffix('.').unwrap_or(v);
    if bare.len() > 253 {
        return bad("longer than 253 characters");
    }
    for label in bare.split('.') {
        if label.is_empty() {
            return bad("empty label between dots");
        }
        if label.len() > 63 {
            return bad("a label is longer than 63 characters");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label starts or ends with -");
        }
        if let Some(c) = label.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
            return bad(&format!("{c:?} is not allowed"));
        }
    }
    Ok(v.to_string())
}

/// `host:port` as Prometheus dials it: an IPv6 address in brackets (`[2001:db8::10]:9100`),
/// as Go's `net.JoinHostPort` writes it; Prometheus refuses the bare form ("too many colons").
pub fn host_port(host: &str, port: impl std::fmt::Display) -> String {
    if host.contains(':') && !host.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// Splits a pasted list of hosts (newlines, commas or spaces), validates each and drops
/// repeats, keeping the order given. Every bad entry is named in one message.
pub fn host_list(field: &str, value: &str) -> Checked<Vec<String>> {
    let mut hosts: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut errors = Vec::new();
    let mut bad = 0;
    for raw in value.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
        match hostname(field, raw) {
            Ok(h) => {
                if seen.insert(h.clone()) {
                    hosts.push(h);
                }
            }
            Err(e) => {
                bad += 1;
                if errors.len() < SHOWN_ERRORS {
                    errors.push(e.message);
                }
            }
        }
    }
    if bad > errors.len() {
        errors.push(format!("and {} more", bad - errors.len()));
    }
    if !errors.is_empty() {
        return Err(FieldError::new(field, errors.join("; ")));
    }
    if hosts.is_empty() {
        return Err(FieldError::new(field, "give at least one host"));
    }
    Ok(hosts)
}

pub fn port(field: &str, value: i64) -> Checked<i64> {
    if (1..=65535).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(field, format!("a port is 1 to 65535, not {value}")))
    }
}

/// Parses a port typed into a form: a number too large for any port is out of its range too.
pub fn port_text(field: &str, value: &str) -> Checked<i64> {
    match value.trim().parse::<i64>() {
        Err(e) if matches!(e.kind(), IntErrorKind::PosOverflow | IntErrorKind::NegOverflow) => {
            Err(FieldError::new(field, format!("a port is 1 to 65535, not {}", quoted_short(value.trim()))))
        }
        _ => port(field, number_text(field, value)?),
    }
}

/// A whole number typed into a form's text field: empty is "required", not `"" is not a
/// number`.
pub fn number_text(field: &str, value: &str) -> Checked<i64> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, REQUIRED));
    }
    v.parse::<i64>().map_err(|e| {
        let message = match e.kind() {
            IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "too large a number",
            _ => "not a whole number",
        };
        FieldError::new(field, format!("{message}: {}", quoted_short(v)))
    })
}

/// What was typed, quoted, in a message: its first 40 characters (a message goes back in a
/// page's address without the wasm, and a megabyte typed made an address browsers refuse).
fn quoted_short(typed: &str) -> String {
    const SHOWN: usize = 40;
    let shown = super::shortened(typed, SHOWN);
    match shown.strip_suffix('…') {
        Some(cut) => format!("{cut:?}…"),
        None => format!("{shown:?}"),
    }
}

/// A job name: it becomes the `job` label of every series the exporter yields.
pub fn job(field: &str, value: &str) -> Checked<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, REQUIRED));
    }
    if v.len() > MAX_NAME {
        return Err(FieldError::new(field, format!("must be at most {MAX_NAME} characters")));
    }
    if v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(FieldError::new(field, "may not contain spaces or control characters"));
    }
    no_invisible(field, v)?;
    Ok(v.to_string())
}

/// An exporter's metrics path, cleaned as Promgen does: query parameters are decoded, blank
/// values dropped and repeats of the same value merged; two different values for one key are
/// refused (Prometheus' `params` would need a list). Empty stays empty (`/metrics`).
pub fn metrics_path(field: &str, value: &str) -> Checked<String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    if !v.starts_with('/') {
        return Err(FieldError::new(field, "must start with /"));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(field, "may not contain control characters"));
    }
    no_invisible(field, v)?;
    if v.len() > MAX_NAME {
        return Err(FieldError::new(field, format!("must be at most {MAX_NAME} characters")));
    }
    let (path, query) = v.split_once('?').unwrap_or((v, ""));
    let params = query_params(query);
    let mut kept: Vec<(String, String)> = Vec::new();
    for (key, val) in params {
        match kept.iter().find(|(k, _)| *k == key) {
            Some((_, existing)) if *existing == val => {}
            Some(_) => {
                return Err(FieldError::new(field, "List values are currently not supported for query parameters."));
            }
            None => kept.push((key, val)),
        }
    }
    if kept.is_empty() {
        return Ok(path.to_string());
    }
    let query: Vec<String> = kept.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok(format!("{path}?{}", query.join("&")))
}

/// Query parameters as Python's `parse_qs` reads them: decoded, blank values dropped, in order.
pub fn query_params(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// An http(s) URL with a host: shard APIs and blackbox targets.
/// An `http(s)` URL of at most 256 characters (a blackbox target).
pub fn http_url(field: &str, value: &str) -> Checked<String> {
    let v = value.trim();
    // The scheme is case-insensitive (RFC 3986): `HTTP://` is written `http://`.
    let (scheme, rest) = v.split_once("://").unwrap_or(("", v));
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(FieldError::new(field, "must be an http:// or https:// URL"));
    }
    let v = &format!("{scheme}://{rest}");
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(FieldError::new(field, "must name a host"));
    }
    no_invisible(field, v)?;
    if v.len() > 256 {
        return Err(FieldError::new(field, "must be at most 256 characters"));
    }
    Ok(v.to_string())
}

/// A probe module name, as in the blackbox exporter's configuration.
pub fn module(field: &str, value: &str) -> Checked<String> {
    job(field, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_a_floor_and_a_ceiling() {
        assert!(new_password("p", "seven77").is_err());
        assert!(new_password("p", "eight888").is_ok());
        assert!(new_password("p", &"é".repeat(MAX_PASSWORD_CHARS)).is_ok());
        assert!(new_password("p", &"é".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }

    #[test]
    fn invisible_and_reordering_characters_are_refused() {
        // A job, a path and a URL that read as another (the reviewer's "node\u{202E}abc").
        assert!(job("job", "node\u{202E}abc").unwrap_err().message.contains("U+202E"));
        assert!(job("job", "node\u{200B}").unwrap_err().message.contains("U+200B"));
        assert!(metrics_path("path", "/metrics\u{2067}x").is_err());
        assert!(http_url("url", "http://example.com/\u{202E}abc").unwrap_err().message.contains("U+202E"));
        assert_eq!(job("job", "node").unwrap(), "node");
        // A one-line text refuses line breaks and other controls; free text keeps them.
        assert!(line("name", "grp\nfake", 150).is_err());
        assert!(line("name", "tab\there", 150).is_err());
        assert!(line("name", "x\u{2028}Revoked token", 150).is_err());
        assert!(line("name", "a\u{200B}b", 150).is_err());
        assert_eq!(line("name", "  Site Reliability ", 150).unwrap(), "Site Reliability");
        assert!(text("description", "two\nlines", 150).is_ok());
        // Free text refuses the controls that reorder, keeps the marks right-to-left text uses.
        assert!(text("description", "web \u{202E}tneserp", 100).unwrap_err().message.contains("U+202E"));
        assert_eq!(
            text("description", "\u{05E9}\u{05DC}\u{05D5}\u{05DD}\u{200F} web", 100).unwrap(),
            "\u{05E9}\u{05DC}\u{05D5}\u{05DD}\u{200F} web"
        );
    }

    #[test]
    fn names_follow_promgen() {
        assert_eq!(name("name", " web api ").unwrap(), "web api");
        assert!(name("name", "a").is_err());
        assert!(name("name", "-abc").is_err());
        assert!(name("name", "ab/c").unwrap_err().message.contains("'/'"));
        assert!(name("name", "日本語").is_ok());
    }

    #[test]
    fn hostnames() {
        for ok in ["example.com", "EXAMPLE.com.", "host-1", "127.0.0.1", "::1", "fe80::1", "a.b.c"] {
            assert!(hostname("hosts", ok).is_ok(), "{ok}");
        }
        for bad in ["ex_ample.com", "example.com:9100", "http://example.com", "example.com/x", "-a.com", "a..b", ""] {
            assert!(hostname("hosts", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_lists_split_dedupe_and_name_every_bad_entry() {
        assert_eq!(host_list("hosts", "a.com, b.com\nc.com a.com").unwrap(), ["a.com", "b.com", "c.com"]);
        let err = host_list("hosts", "a.com bad_1 bad_2").unwrap_err();
        assert!(err.message.contains("bad_1") && err.message.contains("bad_2"));
        assert!(host_list("hosts", " , ").is_err());
    }

    /// A paste of 100,000 hosts is checked in linear time (repeats found by hashing), and a
    /// paste of 100,000 bad ones names twenty and counts the rest.
    #[test]
    fn large_host_lists_are_linear_and_their_errors_short() {
        let many: String = (0..100_000).map(|i| format!("host-{i}.example.com\n")).collect();
        assert_eq!(host_list("hosts", &(many.clone() + &many)).unwrap().len(), 100_000);
        let bad: String = (0..100_000).map(|i| format!("bad_{i} ")).collect();
        let err = host_list("hosts", &bad).unwrap_err();
        assert!(err.message.ends_with("; and 99980 more"), "{}", &err.message[err.message.len() - 40..]);
        assert!(err.message.len() < 2_000);
    }

    #[test]
    fn metrics_path_cleaning_matches_promgen() {
        assert_eq!(metrics_path("path", "/metrics?param=value&param&param=").unwrap(), "/metrics?param=value");
        assert_eq!(metrics_path("path", "/metrics?a=1&a=1&b=2").unwrap(), "/metrics?a=1&b=2");
        assert_eq!(metrics_path("path", "/probe?").unwrap(), "/probe");
        assert_eq!(metrics_path("path", "").unwrap(), "");
        assert!(metrics_path("path", "/m?a=1&a=2").unwrap_err().message.contains("List values"));
        assert!(metrics_path("path", "metrics").is_err());
    }

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(mask_url_password("https://u:secret@p.example:9090/x"), "https://u:***@p.example:9090/x");
        assert_eq!(mask_url_password("https://p.example/a@b"), "https://p.example/a@b");
        assert_eq!(mask_url_password("http://p.example"), "http://p.example");
    }

    #[test]
    fn ipv6_hosts_meet_ports_in_brackets() {
        assert_eq!(hostname("h", "2001:db8::10").unwrap(), "2001:db8::10");
        assert_eq!(hostname("h", "[2001:db8::10]").unwrap(), "2001:db8::10");
        assert!(hostname("h", "[not-an-address]").is_err());
        assert_eq!(host_port("2001:db8::10", 9100), "[2001:db8::10]:9100");
        assert_eq!(host_port("10.0.0.1", 9100), "10.0.0.1:9100");
        assert_eq!(host_port("db.example.com", "9100"), "db.example.com:9100");
    }

    #[test]
    fn ports_and_urls() {
        // Messages start with words, not what was typed (a page capitalises its first letter).
        assert_eq!(port("port", 0).unwrap_err().message, "a port is 1 to 65535, not 0");
        assert!(port_text("port", "9100").is_ok());
        assert!(port_text("port", "x").is_err());
        // Every number typed as text: empty is required (a shard's capacity read '"" is not a number').
        assert_eq!(number_text("samples", " ").unwrap_err().message, "is required");
        assert_eq!(number_text("samples", "abc").unwrap_err().message, "not a whole number: \"abc\"");
        assert_eq!(port_text("port", "").unwrap_err().message, "is required");
        // Too large is not "not a whole number"; what was typed is quoted short.
        assert_eq!(
            port_text("port", "99999999999999999999").unwrap_err().message,
            "a port is 1 to 65535, not \"99999999999999999999\""
        );
        assert_eq!(
            number_text("samples", "-99999999999999999999").unwrap_err().message,
            "too large a number: \"-99999999999999999999\""
        );
        let long = "x".repeat(1_000_000);
        assert_eq!(
            number_text("samples", &long).unwrap_err().message,
            format!("not a whole number: {:?}…", "x".repeat(40))
        );
    }

    /// What a plain form sends is what the page's script sends: one kind of line break.
    #[test]
    fn line_breaks_become_lf() {
        assert_eq!(lf_line_breaks("up\r\n== 0"), "up\n== 0");
        assert_eq!(lf_line_breaks("x\ry\r"), "x\ny\n");
        assert_eq!(lf_line_breaks("x\r\ny\rz"), "x\ny\nz");
        assert_eq!(lf_line_breaks("x\r\r\ny"), "x\n\ny");
        assert_eq!(lf_line_breaks("up\n== 0"), "up\n== 0");
        // An escaped line break in the text is text.
        assert_eq!(lf_line_breaks("100%0D"), "100%0D");
        assert_eq!(text("description", " a\r\nb ", 10).unwrap(), "a\nb");
        assert!(http_url("url", "https://example.com/health").is_ok());
        assert!(http_url("url", "ftp://example.com").is_err());
        assert!(http_url("url", "http://").is_err());
        assert_eq!(http_url("url", " HTTP://A.example/x ").unwrap(), "http://A.example/x");
    }
}
