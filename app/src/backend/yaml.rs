//! Reading YAML that users send (rule files, Promgen exports), with its shape checked first.
//!
//! The YAML library (serde_yaml over libyaml) reads a whole document into events before
//! deserializing, and its flow parser is quadratic in nesting depth: 200 KB of `[[[[…` took
//! 21 s of CPU. A linear scan refuses deep nesting before the library sees the text, so what a
//! user sends costs time in proportion to its size.

/// Deepest nesting of flow collections (`[`, `{`) and of block collections (indentation and
/// `- ` entries) taken; Prometheus rule files nest five levels.
pub const MAX_NESTING: usize = 64;

/// Parses `text` as YAML into `T` once [`check_nesting`] passed; the error says what is wrong.
/// A byte order mark is skipped, and only the first document counts (as Prometheus reads a
/// rule file: `kubectl` and helm output end with `---`).
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    check_nesting(text)?;
    let text = without_bom(text);
    match serde_yaml::Deserializer::from_str(text).next() {
        Some(first) => T::deserialize(first).map_err(|e| e.to_string()),
        None => serde_yaml::from_str(text).map_err(|e| e.to_string()),
    }
}

/// `text` without a leading byte order mark (files saved on Windows start with one).
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Whether YAML allows `c` in a document (YAML 1.2, 5.1: printable characters; go-yaml
/// refuses the others as "control characters are not allowed").
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{85}' | ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

/// Refuses YAML nested deeper than [`MAX_NESTING`], and anchors and aliases, in one pass over
/// the text. A quote opens a quoted scalar only where a scalar starts (`it's` is plain), a
/// comment starts only after whitespace, and a block scalar's lines (`|`, `>`) are text.
/// Anchors and aliases are refused: the library expands each alias where it stands, so a few
/// kilobytes of them make gigabytes (and a rule file has no use for them).
pub fn check_nesting(text: &str) -> Result<(), String> {
    let text = without_bom(text);
    if let Some((n, line)) = text.lines().enumerate().find(|(_, l)| !l.chars().all(printable)) {
        let c = line.chars().find(|c| !printable(*c)).unwrap_or_default();
        return Err(format!(
            "line {}: the YAML holds the control character U+{:04X}, which YAML does not allow",
            n + 1,
            c as u32
        ));
    }
    let too_deep = |line: usize| {
        Err(format!(
            "line {line}: the YAML nests more than {MAX_NESTING} levels deep (a Prometheus rule file nests five)"
        ))
    };
    let mut flow = 0usize;
    // Indentations of the open block collections.
    let mut indents: Vec<usize> = Vec::new();
    let mut quote: Option<u8> = None;
    // The indentation of the node whose block scalar (`|`, `>`) the next lines may belong to.
    let mut block_scalar: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let bytes = line.as_bytes();
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        let blank = line[indent..].trim().is_empty();
        if let Some(parent) = block_scalar {
            if blank || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let mut i = 0;
        // Whether a node (a scalar, a collection, an alias) may start at `i`.
        let mut node_start = true;
        if quote.is_none() && flow == 0 {
            let rest = &line[indent..];
            if !(rest.is_empty() || rest.starts_with('#')) {
                while indents.last().is_some_and(|&open| open >= indent) {
                    indents.pop();
                }
                indents.push(indent);
                // `- - - x` opens a sequence per dash on one line.
                let mut at = indent;
                while bytes.get(at) == Some(&b'-') && matches!(bytes.get(at + 1), Some(b' ') | None) {
                    at += 2;
                    indents.push(at);
                    if indents.len() > MAX_NESTING {
                        return too_deep(n + 1);
                    }
                }
                if indents.len() > MAX_NESTING {
                    return too_deep(n + 1);
                }
                i = at.min(bytes.len());
            } else {
                i = indent;
            }
        }
        while i < bytes.len() {
            let b = bytes[i];
            let next = bytes.get(i + 1).copied();
            let spaced = next.is_none_or(|c| c == b' ' || c == b'\t');
            match quote {
                Some(b'\'') if b == b'\'' => {
                    if next == Some(b'\'') {
                        i += 1;
                    } else {
                        quote = None;
                    }
                }
                Some(b'"') if b == b'\\' => i += 1,
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None => match b {
                    b' ' | b'\t' => {}
                    b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => break,
                    b'\'' | b'"' if node_start => {
                        quote = Some(b);
                        node_start = false;
                    }
                    b'&' | b'*' if node_start && !spaced => {
                        return Err(format!("line {}: YAML anchors and aliases are not accepted", n + 1));
                    }
                    b'|' | b'>' if node_start && flow == 0 => {
                        block_scalar = Some(indent);
                        break;
                    }
                    b'[' | b'{' if node_start || flow > 0 => {
                        flow += 1;
                        node_start = true;
                        if flow + indents.len() > MAX_NESTING {
                            return too_deep(n + 1);
                        }
                    }
                    b']' | b'}' if flow > 0 => {
                        flow -= 1;
                        node_start = false;
                    }
                    b',' if flow > 0 => node_start = true,
                    b':' if spaced || flow > 0 => node_start = true,
                    b'-' | b'?' if node_start && spaced => {}
                    // A tag (`!!str`) comes before the node it tags.
                    b'!' if node_start => {
                        while i + 1 < bytes.len() && !matches!(bytes[i + 1], b' ' | b'\t') {
                            i += 1;
                        }
                    }
                    _ => node_start = false,
                },
            }
            i += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_files_pass_and_deep_ones_are_refused_quickly() {
        let rules = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up{a=\"[[[[\"} == 0 # [[[[\n    labels: {severity: page}\n";
        assert!(check_nesting(rules).is_ok());
        assert!(from_str::<serde_yaml::Value>(rules).is_ok());
        let deep_flow = "[".repeat(100_000);
        assert!(check_nesting(&deep_flow).unwrap_err().contains("more than 64 levels"));
        let deep_block: String = (0..200).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        assert!(check_nesting(&deep_block).unwrap_err().starts_with("line 65:"));
        let dashes = "- ".repeat(100) + "x";
        assert!(check_nesting(&dashes).is_err());
        let quoted = format!("a: '{}'\nb: \"{}\"\n", "[".repeat(1000), "{\\\"".repeat(1000));
        assert!(check_nesting(&quoted).is_ok());
    }

    /// A quote inside a plain scalar opens nothing: the brackets after it count.
    #[test]
    fn quotes_open_only_where_a_scalar_starts() {
        let sneaky = format!("a: [x'y, {}{}]\n", "[".repeat(100), "]".repeat(100));
        assert!(check_nesting(&sneaky).unwrap_err().contains("more than 64 levels"));
        assert!(check_nesting("summary: it's {{ $value }} [x]\nb: \"a'b\"\n").is_ok());
        let block = format!("a: |\n  {}\n  'x\nb: 1\n", "[".repeat(1000));
        assert!(check_nesting(&block).is_ok(), "a block scalar's lines are text");
        assert!(check_nesting(&format!("{}\nb: 1\n", block)).is_ok());
    }

    /// Anchors and aliases are refused: each alias expands where it stands.
    #[test]
    fn anchors_and_aliases_are_refused() {
        let bomb = format!("a: &a [{}]\nb: [{}]\n", vec!["x"; 1000].join(","), vec!["*a"; 1000].join(","));
        assert!(check_nesting(&bomb).unwrap_err().contains("anchors and aliases are not accepted"));
        assert!(check_nesting("a: &x 1\n").is_err());
        assert!(check_nesting("- *x\n").is_err());
        assert!(check_nesting("<<: *base\n").is_err());
        assert!(check_nesting("expr: up * 2 & 3\nb: a&b\n").is_ok(), "inside a scalar they are text");
        assert!(check_nesting("expr: '*x'\n").is_ok());
    }
}
