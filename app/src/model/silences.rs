//! Alertmanager silences as Promgen-rs shows and makes them. The shapes are Alertmanager API
//! v2's `matcher` and `gettableSilence` (`api/v2/openapi.yaml`; reference section 2.1); the
//! text users type is the matcher syntax of amtool and Alertmanager's own UI:
//! `service="web", instance=~"db-.*"`.

use crate::rules::promql::{Dialect, regex};
use serde::{Deserialize, Serialize};

/// The longest matcher text taken, in bytes.
pub const MAX_MATCHERS_TEXT: usize = 8 * 1024;
/// The most matchers one silence may have.
pub const MAX_MATCHERS: usize = 64;

/// One matcher of a silence: `name`, `value` and Alertmanager's two flags.
/// (isRegex, isEqual): (false, true) `=`, (false, false) `!=`, (true, true) `=~`, (true, false)
/// `!~`; regexes are anchored at both ends, as Alertmanager does.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub is_regex: bool,
    #[serde(default = "is_equal_default")]
    pub is_equal: bool,
}

fn is_equal_default() -> bool {
    true
}

impl Matcher {
    /// `name="value"`.
    pub fn equal(name: &str, value: &str) -> Matcher {
        Matcher { name: name.into(), value: value.into(), is_regex: false, is_equal: true }
    }

    /// `=`, `!=`, `=~` or `!~`.
    pub fn operator(&self) -> &'static str {
        match (self.is_regex, self.is_equal) {
            (false, true) => "=",
            (false, false) => "!=",
            (true, true) => "=~",
            (true, false) => "!~",
        }
    }

    /// Whether an alert without this label (or with it empty) is matched. Alertmanager refuses
    /// a silence whose matchers all do: it would silence every alert. `None` for a regex that
    /// is not valid.
    pub fn matches_empty(&self) -> Option<bool> {
        let empty_matches_value = if self.is_regex {
            regex::check(&self.value, Dialect::latest()).ok()?.matches_empty
        } else {
            self.value.is_empty()
        };
        Some(empty_matches_value == self.is_equal)
    }
}

impl std::fmt::Display for Matcher {
    /// amtool's form: `name="value"`, the value quoted with `\`, `"` and new lines escaped.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}\"", self.name, self.operator())?;
        for c in self.value.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '"' => f.write_str("\\\"")?,
                '\n' => f.write_str("\\n")?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

/// The matchers as one line of amtool's syntax, separated by `, `.
pub fn format_matchers(matchers: &[Matcher]) -> String {
    matchers.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", ")
}

/// Reads matchers written as amtool and Alertmanager's UI write them: `name OP value`, OP one of
/// `=`, `!=`, `=~`, `!~`, the value in double quotes (`\"`, `\\`, `\n` escaped) or bare up to a
/// comma or a space; matchers separated by commas and/or spaces, optionally inside `{…}`.
/// The error names the first mistake and where it is (a character offset).
pub fn parse_matchers(text: &str) -> Result<Vec<Matcher>, String> {
    if text.len() > MAX_MATCHERS_TEXT {
        return Err(format!("at most {MAX_MATCHERS_TEXT} bytes of matchers"));
    }
    let mut s = text.trim();
    if let Some(inner) = s.strip_prefix('{') {
        s = inner.strip_suffix('}').ok_or("a { needs its closing }")?;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let skip_separators = |i: &mut usize| {
        while *i < chars.len() && (chars[*i] == ',' || chars[*i].is_whitespace()) {
            *i += 1;
        }
    };
    skip_separators(&mut i);
    while i < chars.len() {
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        if name.is_empty() {
            return Err(format!("a label name was expected at character {}", start + 1));
        }
        crate::model::label_name("matchers", &name).map_err(|e| e.message)?;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let (is_regex, is_equal, len) = if rest.starts_with("=~") {
            (true, true, 2)
        } else if rest.starts_with("!~") {
            (true, false, 2)
        } else if rest.starts_with("!=") {
            (false, false, 2)
        } else if rest.starts_with('=') {
            (false, true, 1)
        } else {
            return Err(format!(
                "the matcher {name} needs an operator (=, !=, =~ or !~) and a value, e.g. {name}=\"value\""
            ));
        };
        i += len;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        let mut value = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("the value of {name} has no closing \"")),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        match chars.get(i + 1) {
                            Some('n') => value.push('\n'),
                            Some(c @ ('"' | '\\')) => value.push(*c),
                            Some(c) => {
                                value.push('\\');
                                value.push(*c);
                            }
                            None => return Err(format!("the value of {name} has no closing \"")),
                        }
                        i += 2;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && chars[i] != ',' && !chars[i].is_whitespace() {
                value.push(chars[i]);
                i += 1;
            }
        }
        if i < chars.len() && chars[i] != ',' && !chars[i].is_whitespace() {
            return Err(format!("a comma or a space was expected after the value of {name}"));
        }
        out.push(Matcher { name, value, is_regex, is_equal });
        if out.len() > MAX_MATCHERS {
            return Err(format!("at most {MAX_MATCHERS} matchers"));
        }
        skip_separators(&mut i);
    }
    Ok(out)
}

/// Checks matchers as Alertmanager would, with clearer words: at least one, valid label names
/// and regexes, and at least one that needs a value (else every alert would be silenced).
pub fn check_matchers(matchers: &[Matcher]) -> Result<(), String> {
    if matchers.is_empty() {
        return Err("Missing matchers for silence.".into());
    }
    if matchers.len() > MAX_MATCHERS {
        return Err(format!("at most {MAX_MATCHERS} matchers"));
    }
    let mut all_match_empty = true;
    for m in matchers {
        crate::model::label_name("matchers", &m.name).map_err(|e| e.message)?;
        if m.is_regex
            && let Err((at, why)) = regex::check(&m.value, Dialect::latest())
        {
            return Err(format!("the regex of {} is not valid at byte {at}: {why}", m.name));
        }
        all_match_empty &= m.matches_empty().unwrap_or(true);
    }
    if all_match_empty {
        return Err(format!(
            "the matchers {} would match every alert (each matcher also matches alerts without the label): \
             add one that needs a value, e.g. service=\"web\"",
            format_matchers(matchers)
        ));
    }
    Ok(())
}

/// Where a silence stands, as Alertmanager says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    Active,
    Pending,
    Expired,
}

impl SilenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
            SilenceState::Expired => "expired",
        }
    }
}

/// A silence as Alertmanager holds it (`gettableSilence`), merged across the configured
/// Alertmanagers: `alertmanagers` lists those that hold it. Times are RFC 3339, as sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: String,
    pub ends_at: String,
    pub updated_at: String,
    pub created_by: String,
    pub comment: String,
    pub state: SilenceState,
    pub alertmanagers: Vec<String>,
    /// Whether the viewer may expire it (they may edit every service and project it affects).
    pub may_expire: bool,
}

/// The shortest silence, in ms: a shorter one could end before Alertmanager has it ("end time
/// can't be in the past"). Checked as typed and by the server.
pub const MIN_SILENCE_MS: u64 = 60_000;
/// What is said of a shorter one.
pub const TOO_SHORT: &str = "a silence must last at least 1m";

/// The silences of every configured Alertmanager, and what went wrong asking them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SilenceList {
    /// No Alertmanager is configured (`--alertmanager-url`).
    pub unconfigured: bool,
    pub silences: Vec<Silence>,
    /// One line per Alertmanager that did not answer, naming it.
    pub warnings: Vec<String>,
    /// The caller may make silences: Editor or Admin on some service or project, or a site
    /// admin. The form is disabled with the reason when not.
    #[serde(default)]
    pub may_silence: bool,
}

/// What the silence form sends: matchers in amtool's syntax, and a duration (`2h`, `1h30m`)
/// or a start and an end (RFC 3339, or `YYYY-MM-DDTHH:MM` as a browser's datetime field sends
/// it, read as UTC).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SilenceDraft {
    pub matchers: String,
    #[serde(default)]
    pub duration: String,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    #[serde(default)]
    pub comment: String,
}

/// What making a silence did: the id each Alertmanager gave it, and those that refused; what
/// it matches (amtool's syntax) and its window (RFC 3339, UTC), for the page to say.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SilenceMade {
    pub ids: Vec<String>,
    pub warnings: Vec<String>,
    #[serde(default)]
    pub matchers: String,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
}

/// An alert Alertmanager holds now (`gettableAlert`), merged across Alertmanagers by fingerprint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeldAlert {
    pub fingerprint: String,
    pub labels: crate::model::LabelMap,
    pub annotations: crate::model::LabelMap,
    pub starts_at: String,
    /// `active`, `suppressed` or `unprocessed`.
    pub state: String,
    pub silenced_by: Vec<String>,
    pub generator_url: String,
}

/// The alerts every configured Alertmanager holds now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HeldAlerts {
    pub unconfigured: bool,
    pub alerts: Vec<HeldAlert>,
    pub warnings: Vec<String>,
    /// Whether the reader may silence anything (Editor or Admin somewhere): a Viewer gets no
    /// Silence buttons.
    #[serde(default)]
    pub may_silence: bool,
}

/// The matchers that silence alert `alertname` (if not empty) with these `service` and
/// `project` labels (those not empty): what the mute buttons of pages prefill.
pub fn owner_matchers(alertname: &str, service: &str, project: &str) -> Vec<Matcher> {
    [("alertname", alertname), ("service", service), ("project", project)]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| Matcher::equal(k, v))
        .collect()
}

/// The matcher of every alert of `host`, whatever its port: Promgen's `instance="host:[0-9]*"`.
pub fn host_matcher(host: &str) -> Matcher {
    Matcher {
        name: "instance".into(),
        value: format!("{}:[0-9]*", crate::rules::exclude::regex_escape(host)),
        is_regex: true,
        is_equal: true,
    }
}

/// The link to the silence form prefilled with `matchers` (a mute button's target).
pub fn silence_link(matchers: &[Matcher]) -> String {
    let text = format_matchers(matchers);
    let query: String = form_urlencoded::Serializer::new(String::new()).append_pair("matchers", &text).finish();
    format!("/silence?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, op: &str, value: &str) -> Matcher {
        let (is_regex, is_equal) = match op {
            "=" => (false, true),
            "!=" => (false, false),
            "=~" => (true, true),
            _ => (true, false),
        };
        Matcher { name: name.into(), value: value.into(), is_regex, is_equal }
    }

    #[test]
    fn reads_amtool_syntax() {
        assert_eq!(
            parse_matchers(r#"{service="web", instance=~"db-.*" job!=node,x!~"a\"b"}"#).unwrap(),
            vec![m("service", "=", "web"), m("instance", "=~", "db-.*"), m("job", "!=", "node"), m("x", "!~", "a\"b")]
        );
        assert_eq!(parse_matchers("service = web").unwrap(), vec![m("service", "=", "web")]);
        assert_eq!(parse_matchers("  ").unwrap(), vec![]);
    }

    #[test]
    fn names_the_mistake() {
        assert!(parse_matchers("9x=1").unwrap_err().contains("not a label name"));
        assert!(parse_matchers("service").unwrap_err().contains("needs an operator"));
        assert!(parse_matchers("service=\"web").unwrap_err().contains("no closing"));
        assert!(parse_matchers("{service=\"web\"").unwrap_err().contains("closing }"));
        assert!(parse_matchers(&"a=b ".repeat(MAX_MATCHERS + 1)).unwrap_err().contains("at most"));
        assert!(parse_matchers(&"a".repeat(MAX_MATCHERS_TEXT + 1)).is_err());
    }

    #[test]
    fn round_trips_through_display() {
        let ms = vec![m("a", "=", "x\"y\\z\nw"), m("b", "!~", "c|d")];
        assert_eq!(parse_matchers(&format_matchers(&ms)).unwrap(), ms);
    }

    #[test]
    fn refuses_what_would_silence_everything() {
        assert!(check_matchers(&[]).unwrap_err().contains("Missing matchers"));
        for all in [
            vec![m("service", "=~", ".*")],
            vec![m("service", "!=", "web")],
            vec![m("service", "=", "")],
            vec![m("a", "!~", "x"), m("b", "=~", "(y|)")],
        ] {
            assert!(check_matchers(&all).unwrap_err().contains("would match every alert"), "{all:?}");
        }
        assert!(check_matchers(&[m("service", "=", "web"), m("job", "!=", "x")]).is_ok());
        assert!(check_matchers(&[m("service", "=~", ".+")]).is_ok());
        assert!(check_matchers(&[m("service", "!~", ".*")]).is_ok());
        assert!(check_matchers(&[m("service", "=~", "(")]).unwrap_err().contains("not valid"));
    }

    /// A page shows a message as a sentence (its first letter capitalised): none starts with
    /// a label name, whose case matters ("Service=~" named another label).
    #[test]
    fn messages_keep_label_names_as_typed() {
        let shown = |e: String| crate::model::sentence(&e);
        assert!(shown(check_matchers(&[m("service", "=~", ".*")]).unwrap_err()).contains(" service=~\".*\" "));
        assert!(shown(check_matchers(&[m("service", "=~", "(")]).unwrap_err()).contains("regex of service "));
        assert!(shown(parse_matchers("service").unwrap_err()).starts_with("The matcher service needs"));
    }

    #[test]
    fn links_carry_the_matchers() {
        let link = silence_link(&[m("service", "=", "a b&c")]);
        assert_eq!(link, "/silence?matchers=service%3D%22a+b%26c%22");
    }
}
