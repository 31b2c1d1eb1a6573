//! Checks the RE2 syntax of `=~` and `!~` matcher values without a regex engine (the browser
//! bundle stays small), and works out whether a regex can match the empty string: Prometheus
//! anchors label regexes, so that decides whether a matcher selects series without the label.

use super::dialect::{Availability, Dialect, v};

/// What a valid regex can match, as far as the parser needs to know.
#[derive(Debug, PartialEq, Eq)]
pub struct RegexInfo {
    pub matches_empty: bool,
}

/// Go's limit on how deeply a regex nests (`regexp/syntax`'s `maxHeight`, since Go 1.19.2):
/// deeper ones are refused, by Prometheus too.
const MAX_NESTING: usize = 1000;

/// Validates `re`; the error is Go's message for the same mistake, with the byte offset in `re`.
/// Groups are kept on a stack of this function's own, so nesting never deepens the call stack.
pub fn check(re: &str, dialect: Dialect) -> Result<RegexInfo, (usize, String)> {
    let mut p = Re { s: re.as_bytes(), src: re, pos: 0, dialect };
    let mut open: Vec<Group> = Vec::new();
    let mut cur = Group { open: 0, alternatives: false, branch: true };
    while let Some(c) = p.peek() {
        match c {
            b'|' => {
                p.pos += 1;
                cur.alternatives |= cur.branch;
                cur.branch = true;
            }
            b')' => {
                let Some(outer) = open.pop() else {
                    return Err((p.pos, "unexpected ): the regex has more ) than (".into()));
                };
                p.pos += 1;
                let atom = if cur.nullable() { Atom::Nullable } else { Atom::NonEmpty };
                let atom_start = cur.open;
                cur = outer;
                cur.branch &= p.repetitions(atom, atom_start)?.is_empty_match();
            }
            b'(' => {
                let group_start = p.pos;
                if p.group_prefix()? {
                    // A flag group `(?i)`: it matches nothing and cannot be repeated.
                    cur.branch &= p.repetitions(Atom::Nothing, group_start)?.is_empty_match();
                    continue;
                }
                if open.len() >= MAX_NESTING {
                    return Err((group_start, "expression nests too deeply".into()));
                }
                open.push(cur);
                cur = Group { open: group_start, alternatives: false, branch: true };
            }
            _ => {
                // A run of plain characters at once (the names `<exclude>` joins); its last
                // one goes the normal way when a repetition follows it.
                let run = p.s[p.pos..].iter().take_while(|b| !b"\\.+*?()|[]{}^$".contains(b) && b.is_ascii()).count();
                let run = match p.s.get(p.pos + run) {
                    Some(b'*' | b'+' | b'?' | b'{') => run.saturating_sub(1),
                    _ => run,
                };
                if run > 0 {
                    p.pos += run;
                    cur.branch = false;
                    continue;
                }
                let atom_start = p.pos;
                let atom = p.atom()?;
                cur.branch &= p.repetitions(atom, atom_start)?.is_empty_match();
            }
        }
    }
    if !open.is_empty() {
        // The innermost group is the one left open.
        return Err((cur.open, format!("missing closing ): {}", &re[cur.open..])));
    }
    Ok(RegexInfo { matches_empty: cur.nullable() })
}

/// An open group: where it starts, whether an earlier alternative can match empty, and whether
/// the current one can so far.
#[derive(Clone, Copy)]
struct Group {
    open: usize,
    alternatives: bool,
    branch: bool,
}

impl Group {
    fn nullable(&self) -> bool {
        self.alternatives || self.branch
    }
}

struct Re<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
    /// Go's regexp learned `(?<name>…)` in Go 1.22, which Prometheus 2.51 was the first built
    /// with.
    dialect: Dialect,
}

const NAMED_GROUPS: Availability = Availability { since: v(2, 51), stable_since: Some(v(2, 51)), removed_in: None };

type Res<T> = Result<T, (usize, String)>;

impl Re<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn err<T>(&self, at: usize, msg: impl Into<String>) -> Res<T> {
        Err((at, msg.into()))
    }

    /// Repetitions after an atom: `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each optionally lazy
    /// (`?`); at most one. Returns what the repeated atom can match.
    fn repetitions(&mut self, mut atom: Atom, atom_start: usize) -> Res<Atom> {
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
            let Some(min) = min else { return Ok(atom) };
            if repeated {
                return self
                    .err(op_at, format!("invalid nested repetition operator: {}", &self.src[atom_start..self.pos]));
            }
            if atom == Atom::Nothing {
                return self
                    .err(op_at, format!("missing argument to repetition operator: {}", &self.src[op_at..self.pos]));
            }
            if self.peek() == Some(b'?') {
                self.pos += 1;
            }
            repeated = true;
            if min == 0 {
                atom = Atom::Nullable;
            }
        }
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

    /// One atom that is not a group.
    fn atom(&mut self) -> Res<Atom> {
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
        let mut probe = Re { s: self.s, src: self.src, pos: self.pos, dialect: self.dialect };
        matches!(probe.counted(), Ok(Some(_)))
    }

    /// The start of a group: `(`, `(?:`, `(?P<name>`, `(?<name>`, `(?flags:`, or a whole flag
    /// group `(?flags)`, for which it returns true.
    fn group_prefix(&mut self) -> Res<bool> {
        let open = self.pos;
        self.pos += 1;
        if self.peek() != Some(b'?') {
            return Ok(false);
        }
        self.pos += 1;
        let rest = &self.src[self.pos..];
        if rest.starts_with("P<") || rest.starts_with('<') {
            let skip = if rest.starts_with('P') { 2 } else { 1 };
            if skip == 1 {
                self.dialect.allows("(?<name>…) in a regular expression", NAMED_GROUPS).map_err(|e| (open, e))?;
            }
            let Some(end) = rest.find('>') else {
                return self.err(open, format!("invalid named capture: {}", &self.src[open..]));
            };
            let name = &rest[skip..end];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return self.err(open, format!("invalid named capture: {}", &self.src[open..self.pos + end + 1]));
            }
            self.pos += end + 1;
            return Ok(false);
        }
        // Flags: i, m, s, U, optionally negated, then `)` or `:`.
        let flags_start = self.pos;
        while self.peek().is_some_and(|c| matches!(c, b'i' | b'm' | b's' | b'U' | b'-')) {
            self.pos += 1;
        }
        match self.peek() {
            Some(b')') if self.pos > flags_start => {
                self.pos += 1;
                Ok(true)
            }
            Some(b':') => {
                self.pos += 1;
                Ok(false)
            }
            _ => {
                let next = self.src[self.pos..].chars().next().map_or(0, char::len_utf8);
                self.err(open, format!("invalid or unsupported Perl syntax: {}", &self.src[open..self.pos + next]))
            }
        }
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
        // The escaped character whole: a multi-byte one is no escape RE2 knows.
        self.pos += self.src[self.pos..].chars().next().map_or(1, char::len_utf8);
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
            assert_eq!(check(re, Dialect::latest()).map(|i| i.matches_empty), Ok(empty), "{re}");
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
            // Error texts are cut at character boundaries, not inside `é`.
            ("(?é)", 0, "invalid or unsupported Perl syntax: (?é"),
            ("a\\é", 1, "invalid escape sequence: \\é"),
            ("a(b(c)", 1, "missing closing ): (b(c)"),
            ("(((a)))(", 7, "missing closing )"),
        ] {
            let (pos, m) = check(re, Dialect::latest()).unwrap_err();
            assert_eq!(pos, at, "{re}: {m}");
            assert!(m.contains(msg), "{re}: {m}");
        }
    }

    fn check_latest(re: &str) -> Result<RegexInfo, (usize, String)> {
        check(re, Dialect::latest())
    }

    /// Go refuses regexes nested deeper than 1000; up to that, checking uses a constant amount
    /// of stack (here 1 MiB, as the browser's).
    #[test]
    fn nesting_is_bounded_as_go_bounds_it() {
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                let nested = |n: usize| "(".repeat(n) + "a" + &")".repeat(n);
                assert_eq!(check_latest(&nested(MAX_NESTING)), Ok(RegexInfo { matches_empty: false }));
                assert_eq!(check_latest(&nested(MAX_NESTING + 1)).unwrap_err().1, "expression nests too deeply");
                assert!(check_latest(&"(".repeat(1_000_000)).is_err());
                assert_eq!(check_latest(&"(?:a*)".repeat(100_000)), Ok(RegexInfo { matches_empty: true }));
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
