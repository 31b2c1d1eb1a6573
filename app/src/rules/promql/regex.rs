//! Checks the RE2 syntax of `=~` and `!~` matcher values without a regex engine (the browser
//! bundle stays small), and works out whether a regex can match the empty string: Prometheus
//! anchors label regexes, so that decides whether a matcher selects series without the label.

/// What a valid regex can match, as far as the parser needs to know.
#[derive(Debug, PartialEq, Eq)]
pub struct RegexInfo {
    pub matches_empty: bool,
}

/// Validates `re`; the error is Go's message for the same mistake, with the byte offset in `re`.
pub fn check(re: &str) -> Result<RegexInfo, (usize, String)> {
    let mut p = Re { s: re.as_bytes(), src: re, pos: 0 };
    let nullable = p.alternation(0)?;
    if p.pos < p.s.len() {
        // Only an unmatched `)` stops the top level early.
        return Err((p.pos, "unexpected ): the regex has more ) than (".into()));
    }
    Ok(RegexInfo { matches_empty: nullable })
}

struct Re<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
}

type Res<T> = Result<T, (usize, String)>;

impl Re<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn err<T>(&self, at: usize, msg: impl Into<String>) -> Res<T> {
        Err((at, msg.into()))
    }

    /// `a|b|c`: can match empty if any branch can.
    fn alternation(&mut self, depth: usize) -> Res<bool> {
        if depth > 1000 {
            return self.err(self.pos, "expression nests too deeply");
        }
        let mut nullable = self.concatenation(depth)?;
        while self.peek() == Some(b'|') {
            self.pos += 1;
            nullable |= self.concatenation(depth)?;
        }
        Ok(nullable)
    }

    /// A run of repeated atoms: can match empty if all of them can.
    fn concatenation(&mut self, depth: usize) -> Res<bool> {
        let mut nullable = true;
        while let Some(c) = self.peek() {
            if c == b'|' || c == b')' {
                break;
            }
            // A run of plain characters at once (the names `<exclude>` joins); its last one
            // goes the normal way when a repetition follows it.
            let run = self.s[self.pos..].iter().take_while(|b| !b"\\.+*?()|[]{}^$".contains(b) && b.is_ascii()).count();
            let run = match self.s.get(self.pos + run) {
                Some(b'*' | b'+' | b'?' | b'{') => run.saturating_sub(1),
                _ => run,
            };
            if run > 0 {
                self.pos += run;
                nullable = false;
                continue;
            }
            let atom_start = self.pos;
            let mut atom = self.atom(depth)?;
            // Repetitions: `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each optionally lazy (`?`).
            let mut repeated = false;
            loop {
                let op_at = self.pos;
                let min = match self.peek() {
                    Some(b'*') | Some(b'?') => {
                        self.pos += 1;
                        Some(0)
                    }
                    Some(b'+') => {
                        self.pos += 1;
                        Some(1)
                    }
                    Some(b'{') => self.counted()?,
                    _ => None,
                };
                let Some(min) = min else { break };
                if repeated {
                    return self.err(
                        op_at,
                        format!("invalid nested repetition operator: {}", &self.src[atom_start..self.pos]),
                    );
                }
                if atom == Atom::Nothing {
                    return self.err(
                        op_at,
                        format!("missing argument to repetition operator: {}", &self.src[op_at..self.pos]),
                    );
                }
                if self.peek() == Some(b'?') {
                    self.pos += 1;
                }
                repeated = true;
                if min == 0 {
                    atom = Atom::Nullable;
                }
            }
            nullable &= atom.is_empty_match();
        }
        Ok(nullable)
    }

    /// `{n}`, `{n,}`, `{n,m}`: the minimum count.
    fn counted(&mut self) -> Res<Option<u32>> {
        let start = self.pos;
        let rest = &self.src[start + 1..];
        // Anything that is not a well-formed count is a literal `{`, as in RE2.
        let Some(close) = rest.find('}') else { return Ok(None) };
        let inner = &rest[..close];
        let (lo, hi) = match inner.split_once(',') {
            Some((lo, hi)) => (lo, Some(hi)),
            None => (inner, None),
        };
        let num =
            |t: &str| (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse::<u32>().ok()).flatten();
        let Some(min) = num(lo) else { return Ok(None) };
        let max = match hi {
            None => Some(min),
            Some("") => None,
            Some(h) => match num(h) {
                Some(m) => Some(m),
                None => return Ok(None),
            },
        };
        self.pos = start + 1 + close + 1;
        if min > 1000 || max.is_some_and(|m| m > 1000 || m < min) {
            return self.err(start, format!("invalid repeat count: {}", &self.src[start..self.pos]));
        }
        Ok(Some(min))
    }

    fn atom(&mut self, depth: usize) -> Res<Atom> {
        let start = self.pos;
        let c = self.peek().unwrap_or(0);
        match c {
            b'*' | b'+' | b'?' => self.err(start, format!("missing argument to repetition operator: {}", c as char)),
            b'{' if self.counted_ahead() => self.err(start, "missing argument to repetition operator: {"),
            b'^' | b'$' => {
                self.pos += 1;
                Ok(Atom::Nullable)
            }
            b'.' => {
                self.pos += 1;
                Ok(Atom::NonEmpty)
            }
            b'(' => self.group(depth),
            b'[' => {
                self.class()?;
                Ok(Atom::NonEmpty)
            }
            b'\\' => self.escape(false),
            _ => {
                let ch = self.src[self.pos..].chars().next().unwrap_or(' ');
                self.pos += ch.len_utf8();
                Ok(Atom::NonEmpty)
            }
        }
    }

    fn counted_ahead(&self) -> bool {
        let mut probe = Re { s: self.s, src: self.src, pos: self.pos };
        matches!(probe.counted(), Ok(Some(_)))
    }

    /// `(re)`, `(?:re)`, `(?P<name>re)`, `(?<name>re)`, `(?flags)`, `(?flags:re)`.
    fn group(&mut self, depth: usize) -> Res<Atom> {
        let open = self.pos;
        self.pos += 1;
        if self.peek() == Some(b'?') {
            self.pos += 1;
            let rest = &self.src[self.pos..];
            if rest.starts_with("P<") || rest.starts_with('<') {
                let skip = if rest.starts_with('P') { 2 } else { 1 };
                let Some(end) = rest.find('>') else {
                    return self.err(open, format!("invalid named capture: {}", &self.src[open..]));
                };
                let name = &rest[skip..end];
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return self.err(open, format!("invalid named capture: {}", &self.src[open..self.pos + end + 1]));
                }
                self.pos += end + 1;
            } else {
                // Flags: i, m, s, U, optionally negated, then `)` or `:`.
                let flags_start = self.pos;
                while self.peek().is_some_and(|c| matches!(c, b'i' | b'm' | b's' | b'U' | b'-')) {
                    self.pos += 1;
                }
                match self.peek() {
                    Some(b')') if self.pos > flags_start => {
                        self.pos += 1;
                        return Ok(Atom::Nothing);
                    }
                    Some(b':') => self.pos += 1,
                    _ => {
                        let end = (self.pos + 1).min(self.s.len());
                        return self.err(open, format!("invalid or unsupported Perl syntax: {}", &self.src[open..end]));
                    }
                }
            }
        }
        let nullable = self.alternation(depth + 1)?;
        if self.peek() != Some(b')') {
            return self.err(open, format!("missing closing ): {}", &self.src[open..]));
        }
        self.pos += 1;
        Ok(if nullable { Atom::Nullable } else { Atom::NonEmpty })
    }

    /// `[...]`: a set of characters, ranges, classes (`[:alpha:]`, `\d`, `\pL`).
    fn class(&mut self) -> Res<()> {
        let open = self.pos;
        self.pos += 1;
        if self.peek() == Some(b'^') {
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return self.err(open, format!("missing closing ]: {}", &self.src[open..]));
            };
            if c == b']' && !first {
                self.pos += 1;
                return Ok(());
            }
            first = false;
            if self.src[self.pos..].starts_with("[:")
                && let Some(end) = self.src[self.pos..].find(":]")
            {
                let name = self.src[self.pos + 2..self.pos + end].trim_start_matches('^');
                const POSIX: [&str; 14] = [
                    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space",
                    "upper", "word", "xdigit",
                ];
                if !POSIX.contains(&name) {
                    return self.err(
                        self.pos,
                        format!("invalid character class range: {}", &self.src[self.pos..self.pos + end + 2]),
                    );
                }
                self.pos += end + 2;
                continue;
            }
            let lo_at = self.pos;
            let lo = self.class_char()?;
            if self.peek() == Some(b'-') && self.s.get(self.pos + 1).is_some_and(|&c| c != b']') {
                self.pos += 1;
                let hi = self.class_char()?;
                if let (Some(lo), Some(hi)) = (lo, hi)
                    && hi < lo
                {
                    return self.err(lo_at, format!("invalid character class range: {}", &self.src[lo_at..self.pos]));
                }
            }
        }
    }

    /// One member of a class; `None` for a class escape like `\d` that is not a single char.
    fn class_char(&mut self) -> Res<Option<char>> {
        if self.peek() == Some(b'\\') {
            return Ok(match self.escape(true)? {
                Atom::Char(c) => Some(c),
                _ => None,
            });
        }
        let ch = self.src[self.pos..].chars().next().unwrap_or(' ');
        self.pos += ch.len_utf8();
        Ok(Some(ch))
    }

    /// `\d`, `\pL`, `\x41`, `\.`, `\Q...\E`, ...
    fn escape(&mut self, in_class: bool) -> Res<Atom> {
        let start = self.pos;
        self.pos += 1;
        let Some(c) = self.peek() else { return self.err(start, "trailing backslash at end of expression") };
        self.pos += 1;
        let bad = |re: &Self| re.err(start, format!("invalid escape sequence: {}", &re.src[start..re.pos]));
        match c {
            b'd' | b'D' | b's' | b'S' | b'w' | b'W' => Ok(Atom::NonEmpty),
            b'b' | b'B' | b'A' | b'z' if !in_class => Ok(Atom::Nullable),
            b'p' | b'P' => {
                if self.peek() == Some(b'{') {
                    match self.src[self.pos..].find('}') {
                        Some(end) if end > 1 => self.pos += end + 1,
                        _ => return self.err(start, format!("invalid character class range: {}", &self.src[start..])),
                    }
                } else if self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                    self.pos += 1;
                } else {
                    return bad(self);
                }
                Ok(Atom::NonEmpty)
            }
            b'Q' if !in_class => {
                let body_start = self.pos;
                let end = self.src[body_start..].find("\\E").map_or(self.s.len(), |e| body_start + e);
                self.pos = (end + 2).min(self.s.len());
                Ok(if end > body_start { Atom::NonEmpty } else { Atom::Nullable })
            }
            b'x' => {
                if self.peek() == Some(b'{') {
                    let Some(end) = self.src[self.pos..].find('}') else { return bad(self) };
                    let hex = &self.src[self.pos + 1..self.pos + end];
                    self.pos += end + 1;
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(c) => Ok(Atom::Char(c)),
                        None => bad(self),
                    }
                } else {
                    let hex = self.src.get(self.pos..self.pos + 2).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(v) if hex.len() == 2 => {
                            self.pos += 2;
                            Ok(Atom::Char(v as char))
                        }
                        _ => bad(self),
                    }
                }
            }
            b'0'..=b'7' => {
                // Up to three octal digits; \1-\9 back-references are not RE2.
                if c != b'0' && !in_class {
                    return bad(self);
                }
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                Ok(Atom::Char(char::from_u32(v).unwrap_or('\0')))
            }
            b'a' => Ok(Atom::Char('\u{7}')),
            b'f' => Ok(Atom::Char('\u{c}')),
            b't' => Ok(Atom::Char('\t')),
            b'n' => Ok(Atom::Char('\n')),
            b'r' => Ok(Atom::Char('\r')),
            b'v' => Ok(Atom::Char('\u{b}')),
            c if c.is_ascii_punctuation() => Ok(Atom::Char(c as char)),
            _ => bad(self),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Atom {
    /// Matches at least one character.
    NonEmpty,
    /// May match the empty string (anchors, `x*`, groups that can).
    Nullable,
    /// A flag group like `(?i)`: matches nothing and cannot be repeated.
    Nothing,
    /// A single escaped character (class ranges compare these).
    Char(char),
}

impl Atom {
    fn is_empty_match(self) -> bool {
        matches!(self, Atom::Nullable | Atom::Nothing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_re2_and_knows_what_matches_empty() {
        for (re, empty) in [
            ("", true),
            (".*", true),
            (".+", false),
            ("a|b", false),
            ("a|", true),
            ("(?i)foo", false),
            ("(?:a|b)?", true),
            ("[a-z0-9_]+", false),
            ("[[:alpha:]]", false),
            ("x{0,3}", true),
            ("x{2}", false),
            ("\\d+\\.\\d*", false),
            ("\\pL\\p{Greek}", false),
            ("a{,3}", false),
            ("test\\-service|other\\-service", false),
            ("^$", true),
            ("[]a]", false),
        ] {
            assert_eq!(check(re).map(|i| i.matches_empty), Ok(empty), "{re}");
        }
    }

    #[test]
    fn names_the_mistake_and_where() {
        for (re, at, msg) in [
            ("(ab", 0, "missing closing )"),
            ("ab)", 2, "unexpected )"),
            ("*a", 0, "missing argument to repetition operator"),
            ("a**", 2, "invalid nested repetition operator"),
            ("[a-", 0, "missing closing ]"),
            ("[z-a]", 1, "invalid character class range"),
            ("a\\", 1, "trailing backslash"),
            ("\\1", 0, "invalid escape sequence"),
            ("x{5,2}", 1, "invalid repeat count"),
            ("(?x)", 0, "invalid or unsupported Perl syntax"),
        ] {
            let (pos, m) = check(re).unwrap_err();
            assert_eq!(pos, at, "{re}: {m}");
            assert!(m.contains(msg), "{re}: {m}");
        }
    }
}
