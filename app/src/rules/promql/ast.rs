//! The parsed expression: enough structure to type-check it and to point at its parts.

use super::ValueType;
use super::functions::Function;

#[derive(Debug)]
pub struct Expr {
    pub kind: ExprKind,
    /// Byte span in the source.
    pub start: usize,
    pub end: usize,
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
    /// The type the expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match &self.kind {
            ExprKind::Number(_) => ValueType::Scalar,
            ExprKind::String(_) => ValueType::String,
            ExprKind::Selector(_) | ExprKind::Aggregate { .. } => ValueType::Vector,
            ExprKind::Matrix { .. } | ExprKind::Subquery { .. } => ValueType::Matrix,
            ExprKind::Call { func, .. } => func.returns,
            ExprKind::Unary { expr, .. } | ExprKind::Paren(expr) => expr.value_type(),
            ExprKind::Binary { lhs, rhs, .. } => {
                if lhs.value_type() == ValueType::Scalar && rhs.value_type() == ValueType::Scalar {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
        }
    }

    /// Every vector selector in the expression, in source order.
    pub fn selectors(&self) -> Vec<&VectorSelector> {
        let mut out = Vec::new();
        self.walk(&mut |e| match &e.kind {
            ExprKind::Selector(vs) | ExprKind::Matrix { selector: vs, .. } => out.push(vs),
            _ => {}
        });
        out
    }

    fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Expr)) {
        visit(self);
        match &self.kind {
            ExprKind::Subquery { expr, .. } | ExprKind::Unary { expr, .. } | ExprKind::Paren(expr) => expr.walk(visit),
            ExprKind::Call { args, .. } => args.iter().for_each(|a| a.walk(visit)),
            ExprKind::Aggregate { param, expr, .. } => {
                if let Some(p) = param {
                    p.walk(visit);
                }
                expr.walk(visit);
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk(visit);
                rhs.walk(visit);
            }
            _ => {}
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
