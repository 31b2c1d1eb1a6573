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
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    check_nesting(text)?;
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

/// Refuses YAML nested deeper than [`MAX_NESTING`], in one pass over the text. Quoted scalars
/// and comments are skipped; block scalars (`|`, `>`) count as nested by their indentation,
/// which is never deep in real files.
pub fn check_nesting(text: &str) -> Result<(), String> {
    let too_deep = |line: usize| {
        Err(format!(
            "line {line}: the YAML nests more than {MAX_NESTING} levels deep (a Prometheus rule file nests five)"
        ))
    };
    let mut flow = 0usize;
    // Indentations of the open block collections.
    let mut indents: Vec<usize> = Vec::new();
    let mut quote: Option<u8> = None;
    for (n, line) in text.lines().enumerate() {
        let bytes = line.as_bytes();
        let mut i = 0;
        if quote.is_none() && flow == 0 {
            let indent = bytes.iter().take_while(|&&b| b == b' ').count();
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
            }
            i = indent;
        }
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(b'\'') if b == b'\'' => {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 1;
                    } else {
                        quote = None;
                    }
                }
                Some(b'"') if b == b'\\' => i += 1,
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None => match b {
                    b'\'' | b'"' => quote = Some(b),
                    b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => break,
                    b'[' | b'{' => {
                        flow += 1;
                        if flow + indents.len() > MAX_NESTING {
                            return too_deep(n + 1);
                        }
                    }
                    b']' | b'}' => flow = flow.saturating_sub(1),
                    _ => {}
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
}
