//! Parses tokens into an [`Expr`] and checks types as Prometheus' `checkAST` does: operands of
//! operators, arguments of functions and aggregations, ranges, subqueries and modifiers.
//! Precedence, lowest first: `or`; `and unless`; comparisons; `+ -`; `* / % atan2`; `^`
//! (right-associative). A unary sign binds like `*`, so `-a^b` is `-(a^b)`.
//!
//! The parser keeps what is open (parentheses, calls, aggregations, signs, operators waiting
//! for their right-hand side) on a stack of its own instead of the call stack: however deep an
//! expression nests, parsing uses a constant amount of the thread's stack, in the browser (1 MiB)
//! as on the server. Nodes know their type and height when made, and dropping or walking a tree
//! never recurses, so no input shapes the stack.

use super::ast::*;
use super::dialect::{Availability, Dialect, v};
use super::functions::{self, Aggregation, Function};
use super::lexer::{Tok, Token, tokenize};
use super::{ParseError, ValueType, regex};

/// Parses `src` as the newest Prometheus this parser knows reads it (experimental functions
/// enabled).
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    parse_for(src, Dialect::latest())
}

/// Parses `src` as a Prometheus of `dialect` reads it: constructs it does not know are errors
/// that say which release they need.
pub fn parse_for(src: &str, dialect: Dialect) -> Result<Expr, ParseError> {
    let toks = tokenize(src)?;
    let mut p = Parser { toks, i: 0, dialect };
    if p.peek() == &Tok::Eof {
        return Err(ParseError::new(0, src.len(), "no expression found in input"));
    }
    p.run()
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
    dialect: Dialect,
}

/// What is open while the parser reads on.
enum Frame {
    /// `(` waiting for its expression and `)`.
    Paren { open: Token },
    /// A function's `(`, with the arguments read so far.
    Call { func: &'static Function, name: Token, open: Token, args: Vec<Expr> },
    /// An aggregation's `(`, with the arguments read so far and a grouping given before them.
    Aggregate { agg: &'static Aggregation, name: Token, open: Token, args: Vec<Expr>, grouping: Option<Grouping> },
    /// A sign waiting for its operand.
    Sign { tok: Token },
    /// `lhs op` waiting for its right-hand side.
    Binary { lhs: Expr, op: BinOp, prec: u8, tok: Token, modifiers: Modifiers },
}

impl Frame {
    /// What an unexpected token after an expression inside this frame is reported with.
    fn context(&self) -> &'static str {
        match self {
            Frame::Paren { .. } => "in parenthesized expression, expected \")\"",
            Frame::Call { .. } => "in function call, expected \",\" or \")\"",
            Frame::Aggregate { .. } => "in aggregation, expected \",\" or \")\"",
            Frame::Sign { .. } | Frame::Binary { .. } => "",
        }
    }

    fn unclosed(&self) -> ParseError {
        match self {
            Frame::Paren { open } => ParseError::new(open.start, open.end, "unclosed left parenthesis"),
            Frame::Call { open, .. } => {
                ParseError::new(open.start, open.end, "unclosed left parenthesis in function call")
            }
            Frame::Aggregate { open, .. } => {
                ParseError::new(open.start, open.end, "unclosed left parenthesis in aggregation")
            }
            Frame::Sign { tok } | Frame::Binary { tok, .. } => {
                ParseError::new(tok.start, tok.end, "unexpected end of input")
            }
        }
    }
}
const PREC_POW: u8 = 6;

fn binop(tok: &Tok) -> Option<(BinOp, u8)> {
    Some(match tok {
        Tok::Add => (BinOp::Add, 4),
        Tok::Sub => (BinOp::Sub, 4),
        Tok::Mul => (BinOp::Mul, 5),
        Tok::Div => (BinOp::Div, 5),
        Tok::Mod => (BinOp::Mod, 5),
        Tok::Pow => (BinOp::Pow, PREC_POW),
        Tok::Eql => (BinOp::Eql, 3),
        Tok::Neq => (BinOp::Neq, 3),
        Tok::Lte => (BinOp::Lte, 3),
        Tok::Lss => (BinOp::Lss, 3),
        Tok::Gte => (BinOp::Gte, 3),
        Tok::Gtr => (BinOp::Gtr, 3),
        Tok::Ident(w) => match w.to_ascii_lowercase().as_str() {
            "or" => (BinOp::Or, 1),
            "and" => (BinOp::And, 2),
            "unless" => (BinOp::Unless, 2),
            "atan2" => (BinOp::Atan2, 5),
            _ => return None,
        },
        _ => return None,
    })
}

/// `{"metric.name"}` and `{"label.name"="v"}`: UTF-8 names, on by default since 3.0.
const QUOTED_NAMES: Availability = Availability { since: v(3, 0), stable_since: Some(v(3, 0)), removed_in: None };

/// Words that cannot name a metric where an expression starts (select one as
/// `{__name__="on"}`). Prometheus' grammar lets the other keywords (`and`, `or`, `unless`,
/// `by`, `without`, `offset`, the aggregations) name metrics there.
const KEYWORDS: [&str; 6] = ["atan2", "on", "ignoring", "group_left", "group_right", "bool"];

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.i].tok
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.toks[(self.i + ahead).min(self.toks.len() - 1)].tok
    }

    fn token(&self) -> &Token {
        &self.toks[self.i]
    }

    fn advance(&mut self) -> Token {
        let t = self.toks[self.i].clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn is_keyword(&self, word: &str) -> bool {
        self.keyword_at(0, word)
    }

    fn keyword_at(&self, ahead: usize, word: &str) -> bool {
        matches!(self.peek_at(ahead), Tok::Ident(w) if w.eq_ignore_ascii_case(word))
    }

    fn prev_end(&self) -> usize {
        if self.i == 0 { 0 } else { self.toks[self.i - 1].end }
    }

    /// "unexpected X" at the current token, with what was expected if known.
    fn unexpected(&self, context: &str) -> ParseError {
        let t = self.token();
        let what = t.tok.describe();
        let msg =
            if context.is_empty() { format!("unexpected {what}") } else { format!("unexpected {what} {context}") };
        ParseError::new(t.start, t.end.max(t.start + 1), msg)
    }

    fn expect(&mut self, tok: Tok, context: &str) -> Result<Token, ParseError> {
        if *self.peek() == tok { Ok(self.advance()) } else { Err(self.unexpected(context)) }
    }

    /// The whole expression: operands and operators in turn, with what is open on `stack`.
    fn run(&mut self) -> Result<Expr, ParseError> {
        let mut stack: Vec<Frame> = Vec::new();
        'operand: loop {
            // Signs and openings, until an operand is complete.
            let mut e = loop {
                let t = self.token().clone();
                match &t.tok {
                    Tok::Add | Tok::Sub => {
                        self.advance();
                        stack.push(Frame::Sign { tok: t });
                    }
                    Tok::LParen => {
                        self.advance();
                        stack.push(Frame::Paren { open: t });
                    }
                    // An aggregation's name is a metric name unless `(`, `by` or `without`
                    // follows (`foo * sum`, `count{job="a"}`).
                    Tok::Ident(word)
                        if functions::aggregation(word).is_some()
                            && (*self.peek_at(1) == Tok::LParen
                                || self.keyword_at(1, "by")
                                || self.keyword_at(1, "without")) =>
                    {
                        let frame = self.open_aggregation(&t)?;
                        if *self.peek() == Tok::RParen {
                            let close = self.advance();
                            break self.close(frame, None, &close)?;
                        }
                        stack.push(frame);
                    }
                    Tok::Ident(word) if *self.peek_at(1) == Tok::LParen => {
                        let Some(func) = functions::lookup(word) else {
                            return Err(ParseError::new(
                                t.start,
                                t.end,
                                format!("unknown function with name {word:?}"),
                            ));
                        };
                        self.dialect
                            .allows(&format!("{}()", func.name), func.availability())
                            .map_err(|e| ParseError::new(t.start, t.end, e))?;
                        self.advance();
                        let open = self.advance();
                        let frame = Frame::Call { func, name: t, open, args: Vec::new() };
                        if *self.peek() == Tok::RParen {
                            let close = self.advance();
                            break self.close(frame, None, &close)?;
                        }
                        stack.push(frame);
                    }
                    _ => break self.primary()?,
                }
            };
            // Modifiers and operators after it, and the closings of what it ends.
            loop {
                e = self.postfix(e)?;
                if let Some((op, prec)) = binop(self.peek()) {
                    e = reduce(&mut stack, e, Some((op, prec)))?;
                    let tok = self.advance();
                    let modifiers = self.binary_modifiers(op)?;
                    stack.push(Frame::Binary { lhs: e, op, prec, tok, modifiers });
                    continue 'operand;
                }
                e = reduce(&mut stack, e, None)?;
                match (self.peek(), stack.last()) {
                    (Tok::RParen, Some(Frame::Paren { .. } | Frame::Call { .. } | Frame::Aggregate { .. })) => {
                        let close = self.advance();
                        let frame = stack.pop().expect("matched above");
                        e = self.close(frame, Some(e), &close)?;
                    }
                    (Tok::Comma, Some(Frame::Call { .. } | Frame::Aggregate { .. })) => {
                        self.advance();
                        if let Some(Frame::Call { args, .. } | Frame::Aggregate { args, .. }) = stack.last_mut() {
                            args.push(e);
                        }
                        if *self.peek() != Tok::RParen {
                            continue 'operand;
                        }
                        // A trailing comma closes the list.
                        let close = self.advance();
                        let frame = stack.pop().expect("matched above");
                        e = self.close(frame, None, &close)?;
                    }
                    (Tok::Eof, Some(frame)) => return Err(frame.unclosed()),
                    (Tok::Eof, None) => return Ok(e),
                    (_, frame) => return Err(self.unexpected(frame.map_or("", Frame::context))),
                }
            }
        }
    }

    /// An aggregation's name, a grouping before its arguments, and its `(`.
    fn open_aggregation(&mut self, name: &Token) -> Result<Frame, ParseError> {
        let Tok::Ident(word) = &name.tok else { unreachable!("called on an identifier") };
        let agg = functions::aggregation(word).expect("called on an aggregation");
        self.dialect.allows(agg.op, agg.availability).map_err(|e| ParseError::new(name.start, name.end, e))?;
        self.advance();
        let mut grouping = None;
        if self.is_keyword("by") || self.is_keyword("without") {
            let without = self.is_keyword("without");
            self.advance();
            grouping = Some(Grouping { without, labels: self.label_list()? });
        }
        if *self.peek() != Tok::LParen {
            return Err(self.unexpected("in aggregation, expected \"(\""));
        }
        let open = self.advance();
        Ok(Frame::Aggregate { agg, name: name.clone(), open, args: Vec::new(), grouping })
    }

    /// Closes a parenthesis, call or aggregation at `close`; `last` is the expression before it
    /// (none after a trailing comma or for `f()`).
    fn close(&mut self, frame: Frame, last: Option<Expr>, close: &Token) -> Result<Expr, ParseError> {
        match frame {
            Frame::Paren { open } => {
                let inner = last.expect("a parenthesis closes after an expression");
                node(ExprKind::Paren(Box::new(inner)), open.start, close.end)
            }
            Frame::Call { func, name, mut args, .. } => {
                args.extend(last);
                call(func, &name, args, close.end)
            }
            Frame::Aggregate { agg, name, mut args, grouping, .. } => {
                args.extend(last);
                let grouping = if self.is_keyword("by") || self.is_keyword("without") {
                    let kw = self.token().clone();
                    let without = self.is_keyword("without");
                    self.advance();
                    let labels = self.label_list()?;
                    if grouping.is_some() {
                        return Err(ParseError::new(kw.start, self.prev_end(), "grouping given twice in aggregation"));
                    }
                    Some(Grouping { without, labels })
                } else {
                    grouping
                };
                aggregation(agg.op, agg.param, &name, args, grouping, self.prev_end())
            }
            Frame::Sign { .. } | Frame::Binary { .. } => unreachable!("only groups are closed"),
        }
    }
    fn binary_modifiers(&mut self, op: BinOp) -> Result<Modifiers, ParseError> {
        let mut m = Modifiers::default();
        if self.is_keyword("bool") {
            let t = self.advance();
            if !op.is_comparison() {
                return Err(ParseError::new(t.start, t.end, "bool modifier can only be used on comparison operators"));
            }
            m.return_bool = true;
        }
        if self.is_keyword("on") || self.is_keyword("ignoring") {
            let on = self.is_keyword("on");
            let t = self.advance();
            let labels = self.label_list()?;
            m.matching = Some(VectorMatching { on, labels, group: None, span: (t.start, self.prev_end()) });
        }
        if (self.is_keyword("group_left") || self.is_keyword("group_right")) && m.matching.is_none() {
            return Err(self.unexpected("in binary expression: group_left and group_right follow on() or ignoring()"));
        }
        if self.is_keyword("group_left") || self.is_keyword("group_right") {
            let left = self.is_keyword("group_left");
            let t = self.advance();
            if op.is_set() {
                return Err(ParseError::new(
                    t.start,
                    t.end,
                    format!("no grouping allowed for \"{}\" operation", op.symbol()),
                ));
            }
            let include = if *self.peek() == Tok::LParen { self.label_list()? } else { Vec::new() };
            let Some(matching) = m.matching.as_mut() else { unreachable!("checked above") };
            if matching.on
                && let Some(dup) = include.iter().find(|l| matching.labels.contains(l))
            {
                return Err(ParseError::new(
                    t.start,
                    self.prev_end(),
                    format!("label \"{dup}\" must not occur in ON and GROUP clause at once"),
                ));
            }
            matching.group = Some(Group { left, include });
            matching.span.1 = self.prev_end();
        }
        Ok(m)
    }

    /// Ranges, subqueries, `offset` and `@` after an operand.
    fn postfix(&mut self, mut e: Expr) -> Result<Expr, ParseError> {
        loop {
            match self.peek() {
                Tok::LBracket => e = self.range_or_subquery(e)?,
                Tok::At => e = self.at_modifier(e)?,
                _ if self.is_keyword("offset") => e = self.offset_modifier(e)?,
                _ => return Ok(e),
            }
        }
    }

    /// A number, a string or a vector selector (or a word that cannot start an expression).
    fn primary(&mut self) -> Result<Expr, ParseError> {
        let t = self.token().clone();
        match &t.tok {
            Tok::Number(v) => {
                self.advance();
                node(ExprKind::Number(*v), t.start, t.end)
            }
            Tok::Str(s) => {
                self.advance();
                node(ExprKind::String(s.clone()), t.start, t.end)
            }
            Tok::LBrace => self.selector(None, t.start),
            Tok::Ident(word) if !KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) => {
                self.advance();
                self.selector(Some(word.clone()), t.start)
            }
            _ => Err(self.unexpected("")),
        }
    }

    /// `name{matchers}`, `name` or `{matchers}`; the cursor is at `{` or after the name.
    fn selector(&mut self, name: Option<String>, start: usize) -> Result<Expr, ParseError> {
        let mut name = name;
        let mut matchers = Vec::new();
        if *self.peek() == Tok::LBrace {
            self.advance();
            loop {
                if *self.peek() == Tok::RBrace {
                    break;
                }
                let label_tok = self.advance();
                if let Tok::Str(_) = label_tok.tok {
                    self.dialect
                        .allows("a quoted metric or label name", QUOTED_NAMES)
                        .map_err(|e| ParseError::new(label_tok.start, label_tok.end, e))?;
                }
                let label = match &label_tok.tok {
                    Tok::Ident(l) if !l.contains(':') => l.clone(),
                    // Prometheus 3: `{"metric.name"}` and `{"label.name"="v"}`.
                    Tok::Str(s) if matches!(self.peek(), Tok::Comma | Tok::RBrace) => {
                        if name.replace(s.clone()).is_some() {
                            return Err(ParseError::new(
                                label_tok.start,
                                label_tok.end,
                                "metric name must not be set twice",
                            ));
                        }
                        if *self.peek() == Tok::Comma {
                            self.advance();
                        }
                        continue;
                    }
                    Tok::Str(s) => s.clone(),
                    Tok::Ident(l) => {
                        return Err(ParseError::new(
                            label_tok.start,
                            label_tok.end,
                            format!("invalid label name {l:?}"),
                        ));
                    }
                    _ => {
                        self.i -= 1;
                        return Err(self.unexpected("in label matching, expected label name"));
                    }
                };
                let op = match self.peek() {
                    Tok::Assign => MatchOp::Equal,
                    Tok::Neq => MatchOp::NotEqual,
                    Tok::EqlRegex => MatchOp::Regex,
                    Tok::NeqRegex => MatchOp::NotRegex,
                    _ => return Err(self.unexpected("in label matching, expected label matching operator")),
                };
                self.advance();
                let value_tok = self.advance();
                let Tok::Str(value) = value_tok.tok else {
                    self.i -= 1;
                    return Err(self.unexpected("in label matching, expected string"));
                };
                let matches_empty = match op {
                    MatchOp::Equal => value.is_empty(),
                    MatchOp::NotEqual => !value.is_empty(),
                    MatchOp::Regex | MatchOp::NotRegex => {
                        let info = regex::check(&value, self.dialect).map_err(|(at, msg)| {
                            // Point into the string; escapes make this approximate.
                            let pos = (value_tok.start + 1 + at).min(value_tok.end.saturating_sub(1));
                            ParseError::new(
                                pos,
                                pos + 1,
                                format!("invalid regular expression in matcher for {label:?}: {msg}"),
                            )
                        })?;
                        info.matches_empty == (op == MatchOp::Regex)
                    }
                };
                matchers.push(Matcher { label, op, value, matches_empty });
                match self.peek() {
                    Tok::Comma => {
                        self.advance();
                    }
                    Tok::RBrace => {}
                    Tok::Eof => {
                        return Err(ParseError::new(start, self.prev_end(), "unexpected end of input inside braces"));
                    }
                    _ => return Err(self.unexpected("in label matching, expected \",\" or \"}\"")),
                }
            }
            self.advance();
        }
        let end = self.prev_end();
        if let Some(n) = &name
            && let Some(m) = matchers.iter().find(|m| m.label == "__name__")
        {
            return Err(ParseError::new(
                start,
                end,
                format!("metric name must not be set twice: {n:?} or {:?}", m.value),
            ));
        }
        if name.is_none() && matchers.iter().all(|m| m.matches_empty) {
            return Err(ParseError::new(start, end, "vector selector must contain at least one non-empty matcher"));
        }
        node(ExprKind::Selector(VectorSelector { name, matchers, offset: None, at: false }), start, end)
    }

    /// `( label, label, ... )` after by/without/on/ignoring/group_x.
    fn label_list(&mut self) -> Result<Vec<String>, ParseError> {
        self.expect(Tok::LParen, "in grouping opts, expected \"(\"")?;
        let mut labels = Vec::new();
        loop {
            match self.peek().clone() {
                Tok::RParen => {
                    self.advance();
                    return Ok(labels);
                }
                Tok::Ident(l) if !l.contains(':') => labels.push(l),
                Tok::Str(l) => {
                    // Prometheus 3: `sum by ("label.name")`, `on("a")`, `group_left("b")`.
                    let t = self.token();
                    self.dialect
                        .allows("a quoted metric or label name", QUOTED_NAMES)
                        .map_err(|e| ParseError::new(t.start, t.end, e))?;
                    labels.push(l)
                }
                _ => return Err(self.unexpected("in grouping opts, expected label")),
            }
            self.advance();
            match self.peek() {
                Tok::Comma => {
                    self.advance();
                }
                Tok::RParen => {}
                _ => return Err(self.unexpected("in grouping opts, expected \",\" or \")\"")),
            }
        }
    }

    /// `[5m]` after a selector, or `[1h:5m]` / `[1h:]` after any instant vector.
    fn range_or_subquery(&mut self, mut base: Expr) -> Result<Expr, ParseError> {
        let open = self.advance();
        let range = self.duration("in range or subquery, expected duration")?;
        if *self.peek() == Tok::Colon {
            self.advance();
            let step = if matches!(self.peek(), Tok::Duration(_)) { Some(self.duration("")?) } else { None };
            let close = self.expect(Tok::RBracket, "in subquery, expected \"]\"")?;
            let got = base.value_type();
            if got != ValueType::Vector {
                return Err(ParseError::new(
                    base.start,
                    close.end,
                    format!("subquery is only allowed on instant vector, got {got}"),
                ));
            }
            let start = base.start;
            return node(
                ExprKind::Subquery { expr: Box::new(base), range, step, offset: None, at: false },
                start,
                close.end,
            );
        }
        let close = self.expect(Tok::RBracket, "in range, expected \"]\" or \":\"")?;
        let start = base.start;
        match base.take_kind() {
            ExprKind::Selector(vs) if vs.offset.is_some() || vs.at => {
                Err(ParseError::new(open.start, close.end, "no offset or @ modifiers allowed before range"))
            }
            ExprKind::Selector(vs) => node(ExprKind::Matrix { selector: vs, range }, start, close.end),
            _ => Err(ParseError::new(open.start, close.end, "ranges only allowed for vector selectors")),
        }
    }

    /// A duration of a range, subquery or offset: more than zero, as Prometheus wants it.
    fn duration(&mut self, context: &str) -> Result<u64, ParseError> {
        match *self.peek() {
            Tok::Duration(0) => {
                let t = self.advance();
                Err(ParseError::new(t.start, t.end, "duration must be greater than 0"))
            }
            Tok::Duration(ms) => {
                self.advance();
                Ok(ms)
            }
            _ => Err(self.unexpected(context)),
        }
    }

    fn offset_modifier(&mut self, mut e: Expr) -> Result<Expr, ParseError> {
        let kw = self.advance();
        let negative = if *self.peek() == Tok::Sub {
            self.advance();
            true
        } else {
            false
        };
        let ms = self.duration("in offset, expected duration")? as i64;
        let value = if negative { -ms } else { ms };
        let end = self.prev_end();
        let slot = match &mut e.kind {
            ExprKind::Selector(vs) => &mut vs.offset,
            ExprKind::Matrix { selector, .. } => &mut selector.offset,
            ExprKind::Subquery { offset, .. } => offset,
            _ => {
                return Err(ParseError::new(
                    kw.start,
                    end,
                    "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                ));
            }
        };
        if slot.replace(value).is_some() {
            return Err(ParseError::new(kw.start, end, "offset may not be set multiple times"));
        }
        e.end = end;
        Ok(e)
    }

    fn at_modifier(&mut self, mut e: Expr) -> Result<Expr, ParseError> {
        let at = self.advance();
        // A timestamp in seconds, as Prometheus keeps it: milliseconds in an int64.
        let in_bounds = |ts: f64| ts.is_finite() && (ts * 1000.0).abs() < 9.223_372_036_854_776e18;
        let out_of_bounds = |ts: f64, end: usize| {
            let shown = if ts.is_nan() {
                "NaN".to_string()
            } else if ts.is_infinite() {
                if ts > 0.0 { "+Inf".into() } else { "-Inf".into() }
            } else {
                format!("{ts:.6}")
            };
            ParseError::new(at.start, end, format!("timestamp out of bounds for @ modifier: {shown}"))
        };
        match self.peek().clone() {
            Tok::Number(ts) => {
                let t = self.advance();
                if !in_bounds(ts) {
                    return Err(out_of_bounds(ts, t.end));
                }
            }
            Tok::Sub | Tok::Add if matches!(self.peek_at(1), Tok::Number(_)) => {
                let negative = *self.peek() == Tok::Sub;
                self.advance();
                let t = self.advance();
                let Tok::Number(ts) = t.tok else { unreachable!("matched above") };
                let ts = if negative { -ts } else { ts };
                if !in_bounds(ts) {
                    return Err(out_of_bounds(ts, t.end));
                }
            }
            Tok::Ident(w) if (w.eq_ignore_ascii_case("start") || w.eq_ignore_ascii_case("end")) => {
                self.advance();
                self.expect(Tok::LParen, "in @, expected \"(\"")?;
                self.expect(Tok::RParen, "in @, expected \")\"")?;
            }
            _ => return Err(self.unexpected("in @, expected timestamp, start() or end()")),
        }
        let end = self.prev_end();
        let slot = match &mut e.kind {
            ExprKind::Selector(vs) => &mut vs.at,
            ExprKind::Matrix { selector, .. } => &mut selector.at,
            ExprKind::Subquery { at, .. } => at,
            _ => {
                return Err(ParseError::new(
                    at.start,
                    end,
                    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                ));
            }
        };
        if std::mem::replace(slot, true) {
            return Err(ParseError::new(at.start, end, "@ <timestamp> may not be set multiple times"));
        }
        e.end = end;
        Ok(e)
    }
}

#[derive(Default)]
struct Modifiers {
    return_bool: bool,
    matching: Option<VectorMatching>,
}

/// Folds the operators and signs waiting on `stack` into `e`: all of them down to the nearest
/// open group when `next` is `None`, else those that bind tighter than `next` (or as tight,
/// left-associative).
fn reduce(stack: &mut Vec<Frame>, mut e: Expr, next: Option<(BinOp, u8)>) -> Result<Expr, ParseError> {
    loop {
        let folds = match (stack.last(), next) {
            (Some(Frame::Binary { .. }), None) | (Some(Frame::Sign { .. }), None) => true,
            (Some(Frame::Binary { prec, .. }), Some((op, p))) => *prec > p || (*prec == p && op != BinOp::Pow),
            // A sign's operand takes only `^` along.
            (Some(Frame::Sign { .. }), Some((_, p))) => p < PREC_POW,
            _ => false,
        };
        if !folds {
            return Ok(e);
        }
        e = match stack.pop() {
            Some(Frame::Binary { lhs, op, tok, modifiers, .. }) => binary(op, &tok, lhs, e, modifiers)?,
            Some(Frame::Sign { tok }) => sign(&tok, e)?,
            _ => unreachable!("checked above"),
        };
    }
}

/// `-e` or `+e`.
fn sign(t: &Token, operand: Expr) -> Result<Expr, ParseError> {
    let ty = operand.value_type();
    if !matches!(ty, ValueType::Scalar | ValueType::Vector) {
        return Err(ParseError::new(
            t.start,
            operand.end,
            format!("unary expression only allowed on expressions of type scalar or instant vector, got {ty}"),
        ));
    }
    let end = operand.end;
    node(ExprKind::Unary { negative: t.tok == Tok::Sub, expr: Box::new(operand) }, t.start, end)
}

/// A call of `func` with `args`, checked against its signature.
fn call(func: &'static Function, t: &Token, args: Vec<Expr>, end: usize) -> Result<Expr, ParseError> {
    let name = func.name;
    let n = args.len();
    let declared = func.args.len();
    // As Prometheus' checkAST counts them.
    let least = declared.saturating_sub(1);
    let count_error = match func.variadic {
        0 if n != declared => Some(format!("expected {declared} argument(s) in call to {name:?}, got {n}")),
        0 => None,
        _ if n < least => Some(format!("expected at least {least} argument(s) in call to {name:?}, got {n}")),
        more if more > 0 && n > least + more as usize => {
            Some(format!("expected at most {} argument(s) in call to {name:?}, got {n}", least + more as usize))
        }
        _ => None,
    };
    if let Some(msg) = count_error {
        return Err(ParseError::new(t.start, end, msg));
    }
    for (i, arg) in args.iter().enumerate() {
        let want = func.args[i.min(declared.saturating_sub(1))];
        let got = arg.value_type();
        if got != want {
            return Err(ParseError::new(
                arg.start,
                arg.end,
                format!("expected type {want} in call to function {name:?}, got {got}"),
            ));
        }
    }
    node(ExprKind::Call { func, args }, t.start, end)
}

/// An aggregation `op` with `args`, checked: a parameter of type `param` where it takes one,
/// then an instant vector.
fn aggregation(
    op: &'static str,
    param: Option<ValueType>,
    t: &Token,
    args: Vec<Expr>,
    grouping: Option<Grouping>,
    end: usize,
) -> Result<Expr, ParseError> {
    let want = if param.is_some() { 2 } else { 1 };
    if args.len() != want {
        return Err(ParseError::new(
            t.start,
            end,
            format!("wrong number of arguments for aggregate expression provided, expected {want}, got {}", args.len()),
        ));
    }
    let mut args = args.into_iter();
    let param_expr = match param {
        Some(ty) => {
            let p = args.next().expect("counted");
            let got = p.value_type();
            if got != ty {
                return Err(ParseError::new(
                    p.start,
                    p.end,
                    format!("expected type {ty} in aggregation parameter, got {got}"),
                ));
            }
            Some(Box::new(p))
        }
        None => None,
    };
    let inner = args.next().expect("counted");
    let got = inner.value_type();
    if got != ValueType::Vector {
        return Err(ParseError::new(
            inner.start,
            inner.end,
            format!("expected type instant vector in aggregation expression, got {got}"),
        ));
    }
    node(ExprKind::Aggregate { op, param: param_expr, expr: Box::new(inner), grouping }, t.start, end)
}

/// Builds a binary expression after checking its operand types.
fn binary(op: BinOp, op_tok: &Token, lhs: Expr, rhs: Expr, m: Modifiers) -> Result<Expr, ParseError> {
    let (lt, rt) = (lhs.value_type(), rhs.value_type());
    let whole = (lhs.start, rhs.end);
    let err = |msg: String| Err(ParseError::new(whole.0, whole.1, msg));
    for ty in [lt, rt] {
        if !matches!(ty, ValueType::Scalar | ValueType::Vector) {
            return err(format!("binary expression must contain only scalar and instant vector types, got {ty}"));
        }
    }
    let scalars = lt == ValueType::Scalar && rt == ValueType::Scalar;
    if op.is_comparison() && !m.return_bool && scalars {
        return Err(ParseError::new(op_tok.start, op_tok.end, "comparisons between scalars must use BOOL modifier"));
    }
    if op.is_set() && (lt == ValueType::Scalar || rt == ValueType::Scalar) {
        return err(format!("set operator \"{}\" not allowed in binary scalar expression", op.symbol()));
    }
    if let Some(matching) = &m.matching
        && (lt == ValueType::Scalar || rt == ValueType::Scalar)
    {
        return Err(ParseError::new(
            matching.span.0,
            matching.span.1,
            "vector matching only allowed between instant vectors",
        ));
    }
    node(
        ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            return_bool: m.return_bool,
            matching: m.matching,
        },
        whole.0,
        whole.1,
    )
}

fn node(kind: ExprKind, start: usize, end: usize) -> Result<Expr, ParseError> {
    Ok(Expr::new(kind, start, end))
}
