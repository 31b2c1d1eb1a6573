//! The parsed expression: enough structure to type-check it and to point at its parts.

use super::ValueType;
use super::functions::Function;

#[derive(Debug)]
pub struct Expr {
    pub kind: ExprKind,
    /// Byte span in the source.
    pub start: usize,
    pub end: usize,
    /// Worked out once, when the node is made: asking a node for its type never walks the
    /// tree below it (a chain `1+1+…+1` would make that quadratic).
    ty: ValueType,
    /// Levels of nodes from here down, this one included; the parser refuses trees higher
    /// than its limit, so every walk over a parsed tree (and dropping it) is bounded.
    height: u32,
}

#[derive(Debug)]
pub enum ExprKind {
    Number(f64),
    String(String),
    Selector(VectorSelector),
    Matrix { selector: VectorSelector, range: u64 },
    Subquery { expr: Box<Expr>, range: u64, step: Option<u64>, offset: Option<i64>, at: bool },
    Call { func: &'static Function, args: Vec<Expr> },
    Aggregate { op: &'static str, param: Option<Box<Expr>>, expr: Box<Expr>, grouping: Option<Grouping> },
    Unary { negative: bool, expr: Box<Expr> },
    Binary { op: BinOp, lhs: Box<Expr>, rhs: Box<Expr>, return_bool: bool, matching: Option<VectorMatching> },
    Paren(Box<Expr>),
}

impl Expr {
    /// A node over `kind`, whose children are already made: its type and height come from
    /// theirs, in constant time (but for a call's arguments).
    pub(super) fn new(kind: ExprKind, start: usize, end: usize) -> Expr {
        let (ty, below) = match &kind {
            ExprKind::Number(_) => (ValueType::Scalar, 0),
            ExprKind::String(_) => (ValueType::String, 0),
            ExprKind::Selector(_) => (ValueType::Vector, 0),
            ExprKind::Matrix { .. } => (ValueType::Matrix, 0),
            ExprKind::Subquery { expr, .. } => (ValueType::Matrix, expr.height),
            ExprKind::Aggregate { param, expr, .. } => {
                (ValueType::Vector, expr.height.max(param.as_ref().map_or(0, |p| p.height)))
            }
            ExprKind::Call { func, args } => (func.returns, args.iter().map(|a| a.height).max().unwrap_or(0)),
            ExprKind::Unary { expr, .. } | ExprKind::Paren(expr) => (expr.ty, expr.height),
            ExprKind::Binary { lhs, rhs, .. } => {
                let ty = if lhs.ty == ValueType::Scalar && rhs.ty == ValueType::Scalar {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                };
                (ty, lhs.height.max(rhs.height))
            }
        };
        Expr { kind, start, end, ty, height: below + 1 }
    }

    /// The type the expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        self.ty
    }

    /// Levels of nodes from this one down (a selector is 1, `a + b` is 2).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Every vector selector in the expression, in source order.
    pub fn selectors(&self) -> Vec<&VectorSelector> {
        let mut out = Vec::new();
        self.walk(|e| match &e.kind {
            ExprKind::Selector(vs) | ExprKind::Matrix { selector: vs, .. } => out.push(vs),
            _ => {}
        });
        out
    }

    /// Visits every node, parents before children and children in source order, with a
    /// stack on the heap (trees may be as high as they are long).
    pub fn walk<'a>(&'a self, mut visit: impl FnMut(&'a Expr)) {
        let mut todo: Vec<&'a Expr> = vec![self];
        while let Some(e) = todo.pop() {
            visit(e);
            let before = todo.len();
            e.kind.children(|c| todo.push(c));
            todo[before..].reverse();
        }
    }

    /// Moves the node's kind out, leaving a leaf (`Expr` has a `Drop`, so fields cannot be
    /// moved out of it directly).
    pub(super) fn take_kind(&mut self) -> ExprKind {
        self.height = 1;
        std::mem::replace(&mut self.kind, ExprKind::Number(0.0))
    }
}

impl ExprKind {
    /// Calls `f` on each child, in source order.
    fn children<'a>(&'a self, mut f: impl FnMut(&'a Expr)) {
        match self {
            ExprKind::Subquery { expr, .. } | ExprKind::Unary { expr, .. } | ExprKind::Paren(expr) => f(expr),
            ExprKind::Call { args, .. } => args.iter().for_each(f),
            ExprKind::Aggregate { param, expr, .. } => {
                if let Some(p) = param {
                    f(p);
                }
                f(expr);
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                f(lhs);
                f(rhs);
            }
            ExprKind::Number(_) | ExprKind::String(_) | ExprKind::Selector(_) | ExprKind::Matrix { .. } => {}
        }
    }

    /// Moves the children out onto `out`, leaving leaves in their place.
    fn take_children(&mut self, out: &mut Vec<Expr>) {
        let mut take = |e: &mut Expr| {
            out.push(std::mem::replace(
                e,
                Expr { kind: ExprKind::Number(0.0), start: 0, end: 0, ty: ValueType::Scalar, height: 1 },
            ));
        };
        match self {
            ExprKind::Subquery { expr, .. } | ExprKind::Unary { expr, .. } | ExprKind::Paren(expr) => take(expr),
            ExprKind::Call { args, .. } => out.append(args),
            ExprKind::Aggregate { param, expr, .. } => {
                if let Some(p) = param {
                    take(p);
                }
                take(expr);
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                take(lhs);
                take(rhs);
            }
            ExprKind::Number(_) | ExprKind::String(_) | ExprKind::Selector(_) | ExprKind::Matrix { .. } => {}
        }
    }
}

/// Dropping a high tree the default way recurses once per level; this takes the children apart
/// on the heap instead.
impl Drop for Expr {
    fn drop(&mut self) {
        if self.height <= 2 {
            return;
        }
        let mut todo = Vec::new();
        self.kind.take_children(&mut todo);
        while let Some(mut e) = todo.pop() {
            e.kind.take_children(&mut todo);
            e.height = 1;
        }
    }
}

#[derive(Debug)]
pub struct VectorSelector {
    pub name: Option<String>,
    pub matchers: Vec<Matcher>,
    /// Milliseconds; negative looks ahead.
    pub offset: Option<i64>,
    pub at: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
    /// Whether the matcher also selects series that lack the label.
    pub matches_empty: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

#[derive(Debug)]
pub struct Grouping {
    pub without: bool,
    pub labels: Vec<String>,
}

#[derive(Debug)]
pub struct VectorMatching {
    /// `on(...)`; otherwise `ignoring(...)` (also when only a group modifier was given).
    pub on: bool,
    pub labels: Vec<String>,
    pub group: Option<Group>,
    pub(super) span: (usize, usize),
}

#[derive(Debug)]
pub struct Group {
    pub left: bool,
    pub include: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eql,
    Neq,
    Lte,
    Lss,
    Gte,
    Gtr,
    And,
    Or,
    Unless,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eql | BinOp::Neq | BinOp::Lte | BinOp::Lss | BinOp::Gte | BinOp::Gtr)
    }

    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Atan2 => "atan2",
            BinOp::Eql => "==",
            BinOp::Neq => "!=",
            BinOp::Lte => "<=",
            BinOp::Lss => "<",
            BinOp::Gte => ">=",
            BinOp::Gtr => ">",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Unless => "unless",
        }
    }
}
