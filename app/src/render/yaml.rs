//! A YAML writer that writes what PyYAML's `safe_dump(default_flow_style=False,
//! allow_unicode=True)` writes, byte for byte: sorted keys, block style, indentless sequences
//! under keys, the same choice between plain, single- and double-quoted scalars, and long
//! scalars folded at 80 columns. Promgen renders its rule files this way, so a file moved
//! over from Promgen diffs clean.

/// A YAML document: strings, mappings and sequences are all a rule file needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Yaml {
    Str(String),
    /// Entries are written sorted by key, as PyYAML sorts them.
    Map(Vec<(String, Yaml)>),
    Seq(Vec<Yaml>),
}

impl Yaml {
    pub fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }
}

/// The document as PyYAML writes it (Prometheus rule files, Promgen's bytes).
pub fn to_string(doc: &Yaml) -> String {
    write(doc, false)
}

/// The document for Kubernetes (kubectl, go-yaml): PyYAML's output, but also quoting what
/// other YAML readers take for a boolean or a number (`y`, `n`, `1e3`, `0o17`), so a label
/// value reaches the cluster as the string it is.
pub fn to_string_for_kubernetes(doc: &Yaml) -> String {
    write(doc, true)
}

fn write(doc: &Yaml, kubernetes: bool) -> String {
    let mut e = Emitter { out: String::new(), column: 0, whitespace: true, indention: true, kubernetes };
    e.node(doc, None, false);
    e.write_indent(0);
    e.out
}

const BEST_INDENT: usize = 2;
const BEST_WIDTH: usize = 80;

struct Emitter {
    out: String,
    column: usize,
    /// The last thing written was whitespace (or nothing).
    whitespace: bool,
    /// Only indentation has been written on the current line.
    indention: bool,
    /// Quote for YAML 1.1 and go-yaml readers too.
    kubernetes: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_space_or_break(c: char) -> bool {
    matches!(c, '\0' | ' ' | '\t' | '\r') || is_break(c)
}

impl Emitter {
    fn write(&mut self, s: &str) {
        self.column += s.chars().count();
        self.out.push_str(s);
    }

    fn write_chars<T: Sym>(&mut self, chars: &[T]) {
        self.column += chars.len();
        T::push_to(chars, &mut self.out);
    }

    fn line_break(&mut self, data: Option<char>) {
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
        self.out.push(data.unwrap_or('\n'));
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.line_break(None);
        }
        if self.column < indent {
            self.whitespace = true;
            for _ in self.column..indent {
                self.out.push(' ');
            }
            self.column = indent;
        }
    }

    fn indicator(&mut self, indicator: &str, need_whitespace: bool, whitespace: bool, indention: bool) {
        if need_whitespace && !self.whitespace {
            self.out.push(' ');
            self.column += 1;
        }
        self.write(indicator);
        self.whitespace = whitespace;
        self.indention = self.indention && indention;
    }

    /// `indent` is the indentation of the enclosing collection (`None` at the root).
    fn node(&mut self, node: &Yaml, indent: Option<usize>, mapping_value: bool) {
        match node {
            Yaml::Str(s) => {
                let scalar_indent = indent.map_or(0, |i| i + BEST_INDENT);
                self.scalar(s, scalar_indent, false);
            }
            Yaml::Map(entries) if entries.is_empty() => {
                self.indicator("{", true, true, false);
                self.indicator("}", false, false, false);
            }
            Yaml::Seq(items) if items.is_empty() => {
                self.indicator("[", true, true, false);
                self.indicator("]", false, false, false);
            }
            Yaml::Map(entries) => {
                let indent = indent.map_or(0, |i| i + BEST_INDENT);
                // Sorted, as PyYAML; entries built in order need no sorting.
                let mut sorted: Vec<&(String, Yaml)> = Vec::new();
                let in_order = entries.windows(2).all(|w| w[0].0 <= w[1].0);
                if !in_order {
                    sorted.extend(entries);
                    sorted.sort_by(|a, b| a.0.cmp(&b.0));
                }
                let entries: Box<dyn Iterator<Item = &(String, Yaml)>> =
                    if in_order { Box::new(entries.iter()) } else { Box::new(sorted.into_iter()) };
                for (key, value) in entries {
                    self.write_indent(indent);
                    self.scalar(key, indent + BEST_INDENT, true);
                    self.indicator(":", false, false, false);
                    self.node(value, Some(indent), true);
                }
            }
            Yaml::Seq(items) => {
                // A sequence under a mapping key is not indented further.
                let indentless = mapping_value && !self.indention;
                let indent = match indent {
                    None => 0,
                    Some(i) if indentless => i,
                    Some(i) => i + BEST_INDENT,
                };
                for item in items {
                    self.write_indent(indent);
                    self.indicator("-", true, false, true);
                    self.node(item, Some(indent), false);
                }
            }
        }
    }

    /// Writes a scalar; its characters are decoded once and shared by the analysis and the
    /// writer (a rule's expansion can be tens of KB, rendered at every keystroke).
    fn scalar(&mut self, scalar: &str, indent: usize, simple_key: bool) {
        let other_type = resolves_to_other_type(scalar) || self.kubernetes && other_readers_take_for_other_type(scalar);
        let implicit = !other_type;
        if implicit && is_plain_word(scalar) {
            // Most scalars of a rule file (names, durations, label values, links): a plain
            // word, which PyYAML writes as it is.
            if !self.whitespace {
                self.write(" ");
            }
            self.whitespace = false;
            self.indention = false;
            self.column += scalar.len();
            self.out.push_str(scalar);
            return;
        }
        let split = !simple_key;
        let plain = |a: &Analysis| implicit && !(simple_key && (a.empty || a.multiline)) && a.allow_block_plain;
        // ASCII, the usual case, is analysed and written straight from its bytes.
        if scalar.is_ascii() {
            let bytes = scalar.as_bytes();
            let a = analyze(bytes);
            if plain(&a) {
                return self.plain(bytes, indent, split);
            }
            if a.allow_single_quoted && !(simple_key && a.multiline) {
                return self.single_quoted(bytes, indent, split);
            }
        }
        let chars: Vec<char> = scalar.chars().collect();
        let text = chars.as_slice();
        let a = analyze(text);
        if plain(&a) {
            self.plain(text, indent, split);
        } else if a.allow_single_quoted && !(simple_key && a.multiline) {
            self.single_quoted(text, indent, split);
        } else {
            self.double_quoted(text, indent, split);
        }
    }

    fn plain<T: Sym>(&mut self, chars: &[T], indent: usize, split: bool) {
        if chars.is_empty() {
            return;
        }
        if !self.whitespace {
            self.write(" ");
        }
        self.whitespace = false;
        self.indention = false;
        // Words as they are; a single space past the width folds the line (a plain scalar
        // has no line breaks and no leading or trailing spaces).
        let n = chars.len();
        let mut at = 0;
        while at < n {
            let word_end = chars[at..].iter().position(|&c| c.into() == ' ').map_or(n, |p| at + p);
            self.write_chars(&chars[at..word_end]);
            let spaces_end = chars[word_end..].iter().position(|&c| c.into() != ' ').map_or(n, |p| word_end + p);
            if spaces_end == word_end + 1 && self.column > BEST_WIDTH && split {
                self.write_indent(indent);
                self.whitespace = false;
                self.indention = false;
            } else {
                self.write_chars(&chars[word_end..spaces_end]);
            }
            at = spaces_end;
        }
    }

    fn single_quoted<T: Sym>(&mut self, chars: &[T], indent: usize, split: bool) {
        self.indicator("'", true, false, false);
        let (mut spaces, mut breaks, mut start) = (false, false, 0);
        for end in 0..=chars.len() {
            let ch: Option<char> = chars.get(end).map(|&c| c.into());
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > BEST_WIDTH && split && start != 0 && end != chars.len() {
                        self.write_indent(indent);
                    } else {
                        self.write_chars(&chars[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if ch.is_none_or(|c| !is_break(c)) {
                    if chars[start].into() == '\n' {
                        self.line_break(None);
                    }
                    for &br in &chars[start..end] {
                        let br: char = br.into();
                        self.line_break(if br == '\n' { None } else { Some(br) });
                    }
                    self.write_indent(indent);
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || is_break(c) || c == '\'') && start < end {
                self.write_chars(&chars[start..end]);
                start = end;
            }
            if ch == Some('\'') {
                self.write("''");
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
        }
        self.indicator("'", false, false, false);
    }

    fn double_quoted(&mut self, chars: &[char], indent: usize, split: bool) {
        self.indicator("\"", true, false, false);
        let mut start = 0;
        for end in 0..=chars.len() {
            let ch = chars.get(end).copied();
            let needs_escape = |c: char| {
                matches!(c, '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}')
                    || !(('\u{20}'..='\u{7E}').contains(&c)
                        || ('\u{A0}'..='\u{D7FF}').contains(&c)
                        || ('\u{E000}'..='\u{FFFD}').contains(&c))
            };
            if ch.is_none_or(needs_escape) {
                if start < end {
                    self.write_chars(&chars[start..end]);
                    start = end;
                }
                if let Some(c) = ch {
                    let esc = match c {
                        '\0' => "\\0".to_string(),
                        '\u{7}' => "\\a".into(),
                        '\u{8}' => "\\b".into(),
                        '\t' => "\\t".into(),
                        '\n' => "\\n".into(),
                        '\u{b}' => "\\v".into(),
                        '\u{c}' => "\\f".into(),
                        '\r' => "\\r".into(),
                        '\u{1b}' => "\\e".into(),
                        '"' => "\\\"".into(),
                        '\\' => "\\\\".into(),
                        '\u{85}' => "\\N".into(),
                        '\u{A0}' => "\\_".into(),
                        '\u{2028}' => "\\L".into(),
                        '\u{2029}' => "\\P".into(),
                        c if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
                        c if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
                        c => format!("\\U{:08X}", c as u32),
                    };
                    self.write(&esc);
                    start = end + 1;
                }
            }
            if 0 < end
                && end + 1 < chars.len()
                && (ch == Some(' ') || start >= end)
                && self.column as isize + end as isize - start as isize > BEST_WIDTH as isize
                && split
            {
                let mut data: String = chars[start.min(end)..end].iter().collect();
                data.push('\\');
                if start < end {
                    start = end;
                }
                self.write(&data);
                self.write_indent(indent);
                self.whitespace = false;
                self.indention = false;
                if chars[start] == ' ' {
                    self.write("\\");
                }
            }
        }
        self.indicator("\"", false, false, false);
    }
}

/// A character of a scalar: a byte of an ASCII scalar, or a decoded `char`.
trait Sym: Copy + Into<char> {
    fn push_to(run: &[Self], out: &mut String);
}

impl Sym for u8 {
    fn push_to(run: &[u8], out: &mut String) {
        // Runs of an ASCII scalar are ASCII.
        out.push_str(std::str::from_utf8(run).unwrap_or_default());
    }
}

impl Sym for char {
    fn push_to(run: &[char], out: &mut String) {
        out.extend(run);
    }
}

/// What a scalar's characters allow, as PyYAML's `analyze_scalar` decides it.
struct Analysis {
    empty: bool,
    multiline: bool,
    allow_block_plain: bool,
    allow_single_quoted: bool,
}

fn analyze<T: Sym>(chars: &[T]) -> Analysis {
    if chars.is_empty() {
        return Analysis { empty: true, multiline: false, allow_block_plain: true, allow_single_quoted: true };
    }
    let n = chars.len();
    let starts_with_three = |p: char| n >= 3 && chars[..3].iter().all(|&c| c.into() == p);
    let mut block_indicators = starts_with_three('-') || starts_with_three('.');
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) = (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    // PyYAML carries these from character to character; they are the neighbours' whitespace.
    let followed_by_whitespace = |i: usize| i + 1 >= n || is_space_or_break(chars[i + 1].into());
    let preceded_by_whitespace = |i: usize| i == 0 || is_space_or_break(chars[i - 1].into());
    for (i, &c) in chars.iter().enumerate() {
        let ch: char = c.into();
        // Past the first character, printable ASCII other than space, `:` and `#` changes
        // nothing but the run of spaces or breaks; long expressions are almost all of it.
        if i > 0 && ('!'..='~').contains(&ch) && ch != ':' && ch != '#' {
            previous_space = false;
            previous_break = false;
            continue;
        }
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                block_indicators = true;
            }
            if (ch == '?' || ch == ':' || ch == '-') && followed_by_whitespace(i) {
                block_indicators = true;
            }
        } else if (ch == ':' && followed_by_whitespace(i)) || (ch == '#' && preceded_by_whitespace(i)) {
            block_indicators = true;
        }
        if is_break(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || ('\u{20}'..='\u{7E}').contains(&ch)) {
            let printable = (ch == '\u{85}'
                || ('\u{A0}'..='\u{D7FF}').contains(&ch)
                || ('\u{E000}'..='\u{FFFD}').contains(&ch)
                || ('\u{10000}'..'\u{10FFFF}').contains(&ch))
                && ch != '\u{FEFF}';
            if !printable {
                special = true;
            }
        }
        if ch == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == n - 1;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(ch) {
            leading_break |= i == 0;
            trailing_break |= i == n - 1;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
    }
    let mut allow_block_plain = true;
    let mut allow_single_quoted = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        allow_block_plain = false;
    }
    if break_space {
        allow_block_plain = false;
        allow_single_quoted = false;
    }
    if space_break || special {
        allow_block_plain = false;
        allow_single_quoted = false;
    }
    if line_breaks || block_indicators {
        allow_block_plain = false;
    }
    Analysis { empty: false, multiline: line_breaks, allow_block_plain, allow_single_quoted }
}

/// Printable ASCII without spaces that PyYAML's analysis lets through as a plain scalar: no
/// indicator first, no `:` last (a `:` before the end of a word is fine, `#` too).
fn is_plain_word(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().all(|c| (b'!'..=b'~').contains(c))
        && !b"#,[]{}&*!|>'\"%@`?:-.".contains(&b[0])
        && b[b.len() - 1] != b':'
}

/// Whether a plain scalar with this text would read back as something other than a string
/// (PyYAML's implicit resolvers: null, bool, int, float, timestamp, merge, value).
fn resolves_to_other_type(s: &str) -> bool {
    const WORDS: [&str; 23] = [
        "", "~", "null", "Null", "NULL", "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    // As PyYAML, the number and date resolvers only for what can start one.
    let numeric = s.starts_with(|c: char| c.is_ascii_digit() || "-+.".contains(c));
    WORDS.contains(&s) || s == "<<" || s == "=" || (numeric && (is_int(s) || is_float(s) || is_timestamp(s)))
}

/// Plain scalars that PyYAML reads as strings but YAML 1.1 (`y`, `n`) or go-yaml and YAML 1.2
/// readers (`1e3`, `.5`, `0o17`) do not.
fn other_readers_take_for_other_type(s: &str) -> bool {
    if matches!(s, "y" | "Y" | "n" | "N") {
        return true;
    }
    let u = unsigned(s);
    if let Some(octal) = u.strip_prefix("0o") {
        return !octal.is_empty() && octal.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    // go-yaml's float: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
    let (mantissa, exponent) = match u.find(['e', 'E']) {
        Some(i) => (&u[..i], Some(&u[i + 1..])),
        None => (u, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

fn digits_underscores(s: &str, digit: impl Fn(char) -> bool) -> bool {
    s.chars().all(|c| digit(c) || c == '_')
}

/// `[-+]?` stripped.
fn unsigned(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

/// `(?::[0-5]?[0-9])+` — base 60 parts after the first.
fn sexagesimal_tail(parts: &[&str]) -> bool {
    !parts.is_empty()
        && parts.iter().all(|p| {
            let b = p.as_bytes();
            match b.len() {
                1 => b[0].is_ascii_digit(),
                2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
                _ => false,
            }
        })
}

fn is_int(s: &str) -> bool {
    let u = unsigned(s);
    if let Some(b) = u.strip_prefix("0b") {
        return !b.is_empty() && digits_underscores(b, |c| c == '0' || c == '1');
    }
    if let Some(h) = u.strip_prefix("0x") {
        return !h.is_empty() && digits_underscores(h, |c| c.is_ascii_hexdigit());
    }
    if let Some(o) = u.strip_prefix('0') {
        return o.is_empty() || digits_underscores(o, |c| ('0'..='7').contains(&c));
    }
    let parts: Vec<&str> = u.split(':').collect();
    let first = parts[0];
    let decimal =
        first.starts_with(|c: char| ('1'..='9').contains(&c)) && digits_underscores(first, |c| c.is_ascii_digit());
    decimal && (parts.len() == 1 || sexagesimal_tail(&parts[1..]))
}

fn is_float(s: &str) -> bool {
    if let Some(rest) = unsigned(s).strip_prefix('.')
        && matches!(rest, "inf" | "Inf" | "INF")
    {
        return true;
    }
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`
    let u = unsigned(s);
    if let Some((whole, frac)) = u.split_once('.')
        && whole.contains(':')
    {
        let parts: Vec<&str> = whole.split(':').collect();
        return parts[0].starts_with(|c: char| c.is_ascii_digit())
            && digits_underscores(parts[0], |c| c.is_ascii_digit())
            && sexagesimal_tail(&parts[1..])
            && digits_underscores(frac, |c| c.is_ascii_digit());
    }
    // `[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?` or `\.[0-9][0-9_]*([eE][-+][0-9]+)?` (no sign)
    let (mantissa, exp) = match u.find(['e', 'E']) {
        Some(i) => (&u[..i], Some(&u[i + 1..])),
        None => (u, None),
    };
    if let Some(e) = exp {
        let Some(digits) = e.strip_prefix(['-', '+']) else { return false };
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    let Some((whole, frac)) = mantissa.split_once('.') else { return false };
    if whole.is_empty() {
        // The leading-dot form takes no sign.
        return u.len() == s.len()
            && frac.starts_with(|c: char| c.is_ascii_digit())
            && digits_underscores(frac, |c| c.is_ascii_digit());
    }
    whole.starts_with(|c: char| c.is_ascii_digit())
        && digits_underscores(whole, |c| c.is_ascii_digit())
        && digits_underscores(frac, |c| c.is_ascii_digit())
}

/// `YYYY-MM-DD` or a date with a time (`2001-12-14t21:59:43.10-05:00`, `2001-12-14 21:59:43`).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    if b.len() == 10 && (0..4).all(d) && b[4] == b'-' && d(5) && d(6) && b[7] == b'-' && d(8) && d(9) {
        return true;
    }
    // The long form: YYYY-M?M-D?D([Tt]|[ \t]+)H?H:MM:SS(.f*)?([ \t]*(Z|[-+]H?H(:MM)?))?
    let mut i = 0;
    let n = |want_min: usize, want_max: usize, i: &mut usize| -> bool {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < want_max {
            *i += 1;
        }
        *i - start >= want_min
    };
    let lit = |c: u8, i: &mut usize| -> bool {
        if b.get(*i) == Some(&c) {
            *i += 1;
            true
        } else {
            false
        }
    };
    if !(n(4, 4, &mut i) && lit(b'-', &mut i) && n(1, 2, &mut i) && lit(b'-', &mut i) && n(1, 2, &mut i)) {
        return false;
    }
    if matches!(b.get(i), Some(b'T' | b't')) {
        i += 1;
    } else {
        let start = i;
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if !(n(1, 2, &mut i) && lit(b':', &mut i) && n(2, 2, &mut i) && lit(b':', &mut i) && n(2, 2, &mut i)) {
        return false;
    }
    if lit(b'.', &mut i) {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if i == b.len() {
        return true;
    }
    if lit(b'Z', &mut i) {
        return i == b.len();
    }
    if !(lit(b'-', &mut i) || lit(b'+', &mut i)) || !n(1, 2, &mut i) {
        return false;
    }
    if lit(b':', &mut i) && !n(2, 2, &mut i) {
        return false;
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, Yaml)]) -> Yaml {
        Yaml::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn quotes_what_would_read_back_as_another_type() {
        for (value, written) in [
            ("5m", "5m"),
            ("up == 0", "up == 0"),
            ("0.20", "'0.20'"),
            ("1", "'1'"),
            ("1e3", "1e3"),
            ("true", "'true'"),
            ("on", "'on'"),
            ("", "''"),
            ("~", "'~'"),
            ("2022-06-06", "'2022-06-06'"),
            ("1:30", "'1:30'"),
            ("0x1F", "'0x1F'"),
            ("010", "'010'"),
            (".5", "'.5'"),
            ("-.inf", "'-.inf'"),
            ("{__name__=~\".*_up\"} == 0", "'{__name__=~\".*_up\"} == 0'"),
            ("it's", "it's"),
            ("'quoted'", "'''quoted'''"),
            ("a: b", "'a: b'"),
            ("a #b", "'a #b'"),
            ("a#b", "a#b"),
            ("- x", "'- x'"),
            (" lead", "' lead'"),
            ("tab\there", "\"tab\\there\""),
            ("test-service » test-project", "test-service » test-project"),
            ("Disk {{ $labels.instance }}", "Disk {{ $labels.instance }}"),
        ] {
            assert_eq!(to_string(&map(&[("k", Yaml::str(value))])), format!("k: {written}\n"), "{value:?}");
        }
    }

    /// For Kubernetes, what YAML 1.1 (`y`, `n`) and go-yaml (`1e3`) read as booleans or numbers
    /// is quoted too; PyYAML's output is left as Promgen's.
    #[test]
    fn kubernetes_readers_get_strings() {
        for (value, pyyaml, kubernetes) in [
            ("n", "n", "'n'"),
            ("Y", "Y", "'Y'"),
            ("yes", "'yes'", "'yes'"),
            ("1e3", "1e3", "'1e3'"),
            (".5", "'.5'", "'.5'"),
            ("5.", "'5.'", "'5.'"),
            ("0o17", "0o17", "'0o17'"),
            ("1.10", "'1.10'", "'1.10'"),
            ("critical", "critical", "critical"),
            ("e3", "e3", "e3"),
            ("1.2.3", "1.2.3", "1.2.3"),
        ] {
            let doc = map(&[("severity", Yaml::str(value))]);
            assert_eq!(to_string(&doc), format!("severity: {pyyaml}\n"), "{value}");
            assert_eq!(to_string_for_kubernetes(&doc), format!("severity: {kubernetes}\n"), "{value}");
        }
    }

    #[test]
    fn block_layout_as_pyyaml() {
        let doc = map(&[(
            "groups",
            Yaml::Seq(vec![map(&[
                ("name", Yaml::str("g")),
                ("rules", Yaml::Seq(vec![map(&[("labels", Yaml::Map(vec![])), ("alert", Yaml::str("A"))])])),
            ])]),
        )]);
        assert_eq!(to_string(&doc), "groups:\n- name: g\n  rules:\n  - alert: A\n    labels: {}\n");
        assert_eq!(to_string(&map(&[("groups", Yaml::Seq(vec![]))])), "groups: []\n");
    }

    #[test]
    fn folds_long_scalars_at_80_columns() {
        let expr = "node_filesystem_free{service!~\"test-service|other-service\"} / node_filesystem_size{service!~\"test-service|other-service\"} < 0.20";
        let doc = map(&[("rules", Yaml::Seq(vec![map(&[("expr", Yaml::str(expr))])]))]);
        assert_eq!(
            to_string(&doc),
            "rules:\n- expr: node_filesystem_free{service!~\"test-service|other-service\"} / node_filesystem_size{service!~\"test-service|other-service\"}\n    < 0.20\n"
        );
        // Multi-line text is quoted; a folded single-quoted line break reads back as one.
        let doc = map(&[("k", Yaml::str("sum(\nrate(x[5m]))"))]);
        assert_eq!(to_string(&doc), "k: 'sum(\n\n  rate(x[5m]))'\n");
        // Indented lines can only be double-quoted.
        let doc = map(&[("k", Yaml::str("sum(\n  x)"))]);
        assert_eq!(to_string(&doc), "k: \"sum(\\n  x)\"\n");
    }
}
