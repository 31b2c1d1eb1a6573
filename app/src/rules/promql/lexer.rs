//! Splits a PromQL expression into tokens with their byte spans, as Prometheus' lexer does:
//! numbers, durations, strings (with Go escapes), identifiers, operators and `#` comments.

use super::ParseError;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A metric name, label name, function name or keyword; keywords are told apart by the
    /// parser, case-insensitively, as Prometheus does.
    Ident(String),
    Number(f64),
    /// A duration literal such as `5m` (milliseconds), as written.
    Duration(u64),
    Str(String),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    At,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    /// `=`, only for label matchers.
    Assign,
    Eql,
    Neq,
    Lte,
    Lss,
    Gte,
    Gtr,
    EqlRegex,
    NeqRegex,
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("identifier {s:?}"),
            Tok::Number(_) => "number".into(),
            Tok::Duration(_) => "duration".into(),
            Tok::Str(_) => "string".into(),
            Tok::Eof => "end of input".into(),
            other => format!("\"{}\"", other.symbol()),
        }
    }

    pub fn symbol(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::At => "@",
            Tok::Add => "+",
            Tok::Sub => "-",
            Tok::Mul => "*",
            Tok::Div => "/",
            Tok::Mod => "%",
            Tok::Pow => "^",
            Tok::Assign => "=",
            Tok::Eql => "==",
            Tok::Neq => "!=",
            Tok::Lte => "<=",
            Tok::Lss => "<",
            Tok::Gte => ">=",
            Tok::Gtr => ">",
            Tok::EqlRegex => "=~",
            Tok::NeqRegex => "!~",
            _ => "",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    // Go decodes bytes that are not UTF-8 as U+FFFD, and Prometheus' lexer refuses that rune
    // wherever it meets it (a rule file carries it literally).
    if let Some(at) = src.find('\u{FFFD}') {
        return Err(ParseError::new(at, at + '\u{FFFD}'.len_utf8(), "invalid UTF-8 rune"));
    }
    let mut lx = Lexer { src, bytes: src.as_bytes(), pos: 0, out: Vec::new(), in_brackets: false, in_braces: false };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    out: Vec<Token>,
    /// Inside `[...]` a colon separates a subquery's range from its step; elsewhere it may
    /// start a metric name (`:requests:rate5m`).
    in_brackets: bool,
    /// Inside `{...}` every word is a label name: `nan` and `inf` are no numbers there.
    in_braces: bool,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token { tok, start, end: self.pos });
    }

    fn run(&mut self) -> Result<(), ParseError> {
        while let Some(c) = self.peek(0) {
            let start = self.pos;
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'#' => {
                    while self.peek(0).is_some_and(|c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                b'"' | b'\'' => {
                    let s = self.quoted(c)?;
                    self.push(Tok::Str(s), start);
                }
                b'`' => {
                    self.pos += 1;
                    let body_start = self.pos;
                    while self.peek(0).is_some_and(|c| c != b'`') {
                        self.pos += 1;
                    }
                    if self.peek(0).is_none() {
                        return Err(ParseError::new(start, self.pos, "unterminated raw string"));
                    }
                    let s = self.src[body_start..self.pos].to_string();
                    self.pos += 1;
                    self.push(Tok::Str(s), start);
                }
                b'0'..=b'9' => self.number_or_duration()?,
                b'.' if self.peek(1).is_some_and(|c| c.is_ascii_digit()) => self.number_or_duration()?,
                b':' if self.in_brackets => {
                    self.pos += 1;
                    self.push(Tok::Colon, start);
                }
                c if is_ident_start(c) => {
                    while self.peek(0).is_some_and(is_ident_char) {
                        self.pos += 1;
                    }
                    let word = &self.src[start..self.pos];
                    let tok = match word.to_ascii_lowercase().as_str() {
                        "inf" if !self.in_braces => Tok::Number(f64::INFINITY),
                        "nan" if !self.in_braces => Tok::Number(f64::NAN),
                        _ => Tok::Ident(word.to_string()),
                    };
                    self.push(tok, start);
                }
                _ => {
                    let (tok, len) = match (c, self.peek(1)) {
                        (b'=', Some(b'=')) => (Tok::Eql, 2),
                        (b'=', Some(b'~')) => (Tok::EqlRegex, 2),
                        (b'!', Some(b'=')) => (Tok::Neq, 2),
                        (b'!', Some(b'~')) => (Tok::NeqRegex, 2),
                        (b'<', Some(b'=')) => (Tok::Lte, 2),
                        (b'>', Some(b'=')) => (Tok::Gte, 2),
                        (b'=', _) => (Tok::Assign, 1),
                        (b'<', _) => (Tok::Lss, 1),
                        (b'>', _) => (Tok::Gtr, 1),
                        (b'(', _) => (Tok::LParen, 1),
                        (b')', _) => (Tok::RParen, 1),
                        (b'{', _) => (Tok::LBrace, 1),
                        (b'}', _) => (Tok::RBrace, 1),
                        (b'[', _) => (Tok::LBracket, 1),
                        (b']', _) => (Tok::RBracket, 1),
                        (b',', _) => (Tok::Comma, 1),
                        (b':', _) => (Tok::Colon, 1),
                        (b'@', _) => (Tok::At, 1),
                        (b'+', _) => (Tok::Add, 1),
                        (b'-', _) => (Tok::Sub, 1),
                        (b'*', _) => (Tok::Mul, 1),
                        (b'/', _) => (Tok::Div, 1),
                        (b'%', _) => (Tok::Mod, 1),
                        (b'^', _) => (Tok::Pow, 1),
                        (b'!', _) => {
                            return Err(ParseError::new(start, start + 1, "unexpected character after \"!\""));
                        }
                        _ => {
                            let ch = self.src[start..].chars().next().unwrap_or(' ');
                            return Err(ParseError::new(
                                start,
                                start + ch.len_utf8(),
                                format!("unexpected character {ch:?}"),
                            ));
                        }
                    };
                    self.pos += len;
                    match tok {
                        Tok::LBracket => self.in_brackets = true,
                        Tok::RBracket => self.in_brackets = false,
                        Tok::LBrace => self.in_braces = true,
                        Tok::RBrace => self.in_braces = false,
                        _ => {}
                    }
                    self.push(tok, start);
                }
            }
        }
        let end = self.pos;
        self.out.push(Token { tok: Tok::Eof, start: end, end });
        Ok(())
    }

    /// A number (decimal, exponent, hex) or a duration (`5m`, `1h30m`), told apart by what
    /// follows the digits.
    fn number_or_duration(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        while self.peek(0).is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_') {
            // An exponent's sign belongs to the number: 1e-3.
            let c = self.bytes[self.pos];
            self.pos += 1;
            if (c == b'e' || c == b'E')
                && matches!(self.peek(0), Some(b'+' | b'-'))
                && !self.src[start..self.pos].starts_with("0x")
            {
                self.pos += 1;
            }
        }
        let text = &self.src[start..self.pos];
        let tok = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            // Go's ParseInt(s, 0, 64): a hex literal must fit an int64.
            i64::from_str_radix(hex, 16).ok().map(|v| Tok::Number(v as f64))
        } else if text.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
            match text.parse::<f64>() {
                // Go's ParseFloat: a literal beyond the largest float is out of range.
                Ok(v) if v.is_infinite() => {
                    return Err(ParseError::new(
                        start,
                        self.pos,
                        format!("error parsing number: {text:?} is out of the range of a float"),
                    ));
                }
                parsed => parsed.ok().map(Tok::Number),
            }
        } else {
            crate::model::duration::parse_duration(text).ok().map(Tok::Duration)
        };
        match tok {
            Some(tok) => {
                self.push(tok, start);
                Ok(())
            }
            None => Err(ParseError::new(start, self.pos, format!("bad number or duration syntax: {text:?}"))),
        }
    }

    /// A `"..."` or `'...'` string with Go's escapes.
    fn quoted(&mut self, quote: u8) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                return Err(ParseError::new(start, self.pos, "unterminated quoted string"));
            };
            match c {
                b'\n' => return Err(ParseError::new(start, self.pos, "unterminated quoted string")),
                c if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let esc_start = self.pos;
                    self.pos += 1;
                    let Some(e) = self.peek(0) else {
                        return Err(ParseError::new(esc_start, self.pos, "escape sequence not terminated"));
                    };
                    self.pos += 1;
                    let simple = match e {
                        b'a' => Some('\u{7}'),
                        b'b' => Some('\u{8}'),
                        b'f' => Some('\u{c}'),
                        b'n' => Some('\n'),
                        b'r' => Some('\r'),
                        b't' => Some('\t'),
                        b'v' => Some('\u{b}'),
                        b'\\' => Some('\\'),
                        b'"' if quote == b'"' => Some('"'),
                        b'\'' if quote == b'\'' => Some('\''),
                        _ => None,
                    };
                    if let Some(ch) = simple {
                        out.push(ch);
                        continue;
                    }
                    let digits = |n: usize, radix: u32, lx: &mut Self| -> Result<u32, ParseError> {
                        let from = lx.pos;
                        let text = lx.src.get(from..from + n).unwrap_or("");
                        if text.len() != n || !text.chars().all(|c| c.is_digit(radix)) {
                            return Err(ParseError::new(esc_start, from + text.len(), "invalid escape sequence"));
                        }
                        lx.pos += n;
                        Ok(u32::from_str_radix(text, radix).unwrap_or(0))
                    };
                    let code = match e {
                        b'x' => digits(2, 16, self)?,
                        b'u' => digits(4, 16, self)?,
                        b'U' => digits(8, 16, self)?,
                        b'0'..=b'7' => {
                            self.pos -= 1;
                            let v = digits(3, 8, self)?;
                            if v > 255 {
                                return Err(ParseError::new(esc_start, self.pos, "octal escape value above 255"));
                            }
                            v
                        }
                        _ => {
                            let ch = self.src[esc_start + 1..].chars().next().unwrap_or(' ');
                            return Err(ParseError::new(
                                esc_start,
                                esc_start + 1 + ch.len_utf8(),
                                format!("unknown escape sequence \\{ch}"),
                            ));
                        }
                    };
                    match char::from_u32(code) {
                        Some(ch) => out.push(ch),
                        None => return Err(ParseError::new(esc_start, self.pos, "escape is not a valid character")),
                    }
                }
                _ => {
                    // Copy the run up to the next quote, escape or line end at once: an
                    // expanded `<exclude>` makes strings of tens of KB.
                    let run = self.bytes[self.pos..].iter().position(|&b| b == quote || b == b'\\' || b == b'\n');
                    let end = run.map_or(self.bytes.len(), |i| self.pos + i);
                    out.push_str(&self.src[self.pos..end]);
                    self.pos = end;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_numbers_durations_and_strings() {
        assert_eq!(
            toks("1e-3 0x1F .5 5m"),
            [Tok::Number(0.001), Tok::Number(31.0), Tok::Number(0.5), Tok::Duration(300_000), Tok::Eof]
        );
        assert_eq!(
            toks(r#""a\"b\n" 'c' `d\e`"#),
            [Tok::Str("a\"b\n".into()), Tok::Str("c".into()), Tok::Str("d\\e".into()), Tok::Eof]
        );
        assert_eq!(
            toks("a!~b # comment\n=~"),
            [Tok::Ident("a".into()), Tok::NeqRegex, Tok::Ident("b".into()), Tok::EqlRegex, Tok::Eof]
        );
        assert!(matches!(toks("Inf")[0], Tok::Number(v) if v.is_infinite()));
    }

    #[test]
    fn reports_where_lexing_fails() {
        let e = tokenize("up{a=\"b}").unwrap_err();
        assert_eq!((e.start, e.message.as_str()), (5, "unterminated quoted string"));
        assert_eq!(tokenize("5x").unwrap_err().message, "bad number or duration syntax: \"5x\"");
        assert_eq!(tokenize("a ! b").unwrap_err().start, 2);
        assert!(tokenize("\"\\q\"").unwrap_err().message.contains("unknown escape"));
    }
}
