//! PromQL's functions and their signatures (Prometheus 2.x and 3.x), so a call with the wrong
//! number or kind of arguments is reported as Prometheus reports it.

use super::ValueType::{self, Matrix, Scalar, String as Str, Vector};

#[derive(Debug)]
pub struct Function {
    pub name: &'static str,
    pub args: &'static [ValueType],
    /// How many trailing arguments may be left out (0 when all are required); `None` when the
    /// last argument repeats any number of times.
    pub optional: Option<usize>,
    pub returns: ValueType,
}

const fn f(name: &'static str, args: &'static [ValueType], returns: ValueType) -> Function {
    Function { name, args, optional: Some(0), returns }
}

const fn opt(name: &'static str, args: &'static [ValueType], optional: usize) -> Function {
    Function { name, args, optional: Some(optional), returns: Vector }
}

const fn many(name: &'static str, args: &'static [ValueType]) -> Function {
    Function { name, args, optional: None, returns: Vector }
}

const V: &[ValueType] = &[Vector];
const M: &[ValueType] = &[Matrix];

static FUNCTIONS: &[Function] = &[
    f("abs", V, Vector),
    f("absent", V, Vector),
    f("absent_over_time", M, Vector),
    f("acos", V, Vector),
    f("acosh", V, Vector),
    f("asin", V, Vector),
    f("asinh", V, Vector),
    f("atan", V, Vector),
    f("atanh", V, Vector),
    f("avg_over_time", M, Vector),
    f("ceil", V, Vector),
    f("changes", M, Vector),
    f("clamp", &[Vector, Scalar, Scalar], Vector),
    f("clamp_max", &[Vector, Scalar], Vector),
    f("clamp_min", &[Vector, Scalar], Vector),
    f("cos", V, Vector),
    f("cosh", V, Vector),
    f("count_over_time", M, Vector),
    opt("day_of_month", V, 1),
    opt("day_of_week", V, 1),
    opt("day_of_year", V, 1),
    opt("days_in_month", V, 1),
    f("deg", V, Vector),
    f("delta", M, Vector),
    f("deriv", M, Vector),
    f("double_exponential_smoothing", &[Matrix, Scalar, Scalar], Vector),
    f("exp", V, Vector),
    f("floor", V, Vector),
    f("histogram_avg", V, Vector),
    f("histogram_count", V, Vector),
    f("histogram_fraction", &[Scalar, Scalar, Vector], Vector),
    f("histogram_quantile", &[Scalar, Vector], Vector),
    f("histogram_stddev", V, Vector),
    f("histogram_stdvar", V, Vector),
    f("histogram_sum", V, Vector),
    f("holt_winters", &[Matrix, Scalar, Scalar], Vector),
    opt("hour", V, 1),
    f("idelta", M, Vector),
    f("increase", M, Vector),
    opt("info", &[Vector, Vector], 1),
    f("irate", M, Vector),
    many("label_join", &[Vector, Str, Str, Str]),
    f("label_replace", &[Vector, Str, Str, Str, Str], Vector),
    f("last_over_time", M, Vector),
    f("ln", V, Vector),
    f("log10", V, Vector),
    f("log2", V, Vector),
    f("mad_over_time", M, Vector),
    f("max_over_time", M, Vector),
    f("min_over_time", M, Vector),
    opt("minute", V, 1),
    opt("month", V, 1),
    f("pi", &[], Scalar),
    f("predict_linear", &[Matrix, Scalar], Vector),
    f("present_over_time", M, Vector),
    f("quantile_over_time", &[Scalar, Matrix], Vector),
    f("rad", V, Vector),
    f("rate", M, Vector),
    f("resets", M, Vector),
    opt("round", &[Vector, Scalar], 1),
    f("scalar", V, Scalar),
    f("sgn", V, Vector),
    f("sin", V, Vector),
    f("sinh", V, Vector),
    f("sort", V, Vector),
    many("sort_by_label", &[Vector, Str]),
    many("sort_by_label_desc", &[Vector, Str]),
    f("sort_desc", V, Vector),
    f("sqrt", V, Vector),
    f("stddev_over_time", M, Vector),
    f("stdvar_over_time", M, Vector),
    f("sum_over_time", M, Vector),
    f("tan", V, Vector),
    f("tanh", V, Vector),
    f("time", &[], Scalar),
    f("timestamp", V, Vector),
    f("vector", &[Scalar], Vector),
    opt("year", V, 1),
];

pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// An aggregation operator by name (any case), with the type of the parameter it takes before
/// the vector, if any.
pub fn aggregation(name: &str) -> Option<(&'static str, Option<ValueType>)> {
    const OPS: [(&str, Option<ValueType>); 14] = [
        ("sum", None),
        ("avg", None),
        ("count", None),
        ("min", None),
        ("max", None),
        ("group", None),
        ("stddev", None),
        ("stdvar", None),
        ("topk", Some(Scalar)),
        ("bottomk", Some(Scalar)),
        ("quantile", Some(Scalar)),
        ("count_values", Some(Str)),
        ("limitk", Some(Scalar)),
        ("limit_ratio", Some(Scalar)),
    ];
    let lower = name.to_ascii_lowercase();
    OPS.iter().find(|(op, _)| *op == lower).copied()
}
