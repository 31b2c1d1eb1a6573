//! Promgen's pagination (`PromgenPagination`): `?page_number=` (from 1) and `?page_size=`
//! (default 10, at most 1,000); the answer is `{"count", "next", "previous", "results"}` with
//! absolute links to the neighbouring pages, or `null`.

use app::error::AppError;
use axum::http::{HeaderMap, Uri};
use serde::{Deserialize, Serialize};

/// The default and the largest page.
pub const DEFAULT_SIZE: usize = 10;
pub const MAX_SIZE: usize = 1000;

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub page_number: Option<String>,
    pub page_size: Option<String>,
}

#[derive(Serialize)]
pub struct Page<T> {
    pub count: usize,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

impl<T> Page<T> {
    /// The same page with each item turned by `f`: lists are cut first and only the page's
    /// items are made into their answers.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            count: self.count,
            next: self.next,
            previous: self.previous,
            results: self.results.into_iter().map(f).collect(),
        }
    }
}

/// Django's boolean filter (`?enabled=true`): `true`/`True`/`1` and `false`/`False`/`0`.
pub fn boolean(field: &str, text: Option<&str>) -> Result<Option<bool>, AppError> {
    match text {
        None => Ok(None),
        Some("true" | "True" | "1") => Ok(Some(true)),
        Some("false" | "False" | "0") => Ok(Some(false)),
        Some(other) => Err(AppError::invalid(field, format!("{other:?} is not true or false"))),
    }
}

/// `items` cut to the page the query asks for. A page past the end is 404 ("Invalid page."),
/// as in Django REST framework ("page 4 not found"); a size that is not a number is the default.
pub fn paginate<T>(items: Vec<T>, q: &PageQuery, uri: &Uri, headers: &HeaderMap) -> Result<Page<T>, AppError> {
    let count = items.len();
    let at = PageAt::of(count, q)?;
    let results = items.into_iter().skip(at.offset()).take(at.size).collect();
    Ok(at.page(count, results, uri, headers))
}

/// The page a query asks for of a list of `count` items, for lists cut where they are stored
/// (a `LIMIT`/`OFFSET` of [`PageAt::size`] after [`PageAt::offset`]).
pub struct PageAt {
    /// From 1.
    pub number: usize,
    pub size: usize,
}

impl PageAt {
    /// The page `q` asks for: errors as [`paginate`]'s.
    pub fn of(count: usize, q: &PageQuery) -> Result<Self, AppError> {
        let size = q
            .page_size
            .as_deref()
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .map_or(DEFAULT_SIZE, |n| n.min(MAX_SIZE));
        let pages = count.div_ceil(size).max(1);
        let number = match q.page_number.as_deref() {
            None | Some("") => 1,
            Some("last") => pages,
            Some(n) => {
                n.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(|| AppError::NotFound(format!("page {n}")))?
            }
        };
        if number > pages {
            return Err(AppError::NotFound(format!("page {number}")));
        }
        Ok(PageAt { number, size })
    }

    /// How many items come before the page.
    pub fn offset(&self) -> usize {
        (self.number - 1) * self.size
    }

    /// The answer: `results` (the page's items) of `count`, with the links to the pages beside.
    pub fn page<T>(&self, count: usize, results: Vec<T>, uri: &Uri, headers: &HeaderMap) -> Page<T> {
        let pages = count.div_ceil(self.size).max(1);
        let link = |n: usize| link(uri, headers, n);
        Page {
            count,
            next: (self.number < pages).then(|| link(self.number + 1)),
            previous: (self.number > 1).then(|| link(self.number - 1)),
            results,
        }
    }
}

/// This request's URL on page `n` (other query parameters kept).
fn link(uri: &Uri, headers: &HeaderMap, n: usize) -> String {
    let mut query: Vec<(String, String)> = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k != "page_number")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    query.push(("page_number".into(), n.to_string()));
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
    super::absolute(headers, &format!("{}?{query}", uri.path()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    fn page(n: usize, q: (&str, &str)) -> Result<Page<usize>, AppError> {
        let uri: Uri = format!("/rest/v2/x?page_number={}&page_size={}&name=a", q.0, q.1).parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "promgen.example.com".parse().unwrap());
        let q = PageQuery { page_number: Some(q.0.into()), page_size: Some(q.1.into()) };
        paginate((0..n).collect(), &q, &uri, &headers)
    }

    #[test]
    fn pages_as_promgen() {
        let p = page(25, ("2", "10")).unwrap();
        assert_eq!((p.count, p.results.len(), p.results[0]), (25, 10, 10));
        assert_eq!(p.next.as_deref(), Some("http://promgen.example.com/rest/v2/x?page_size=10&name=a&page_number=3"));
        assert_eq!(
            p.previous.as_deref(),
            Some("http://promgen.example.com/rest/v2/x?page_size=10&name=a&page_number=1")
        );
        let last = page(25, ("last", "10")).unwrap();
        assert_eq!((last.results.len(), last.next), (5, None));
        assert!(page(25, ("4", "10")).is_err());
        assert!(page(25, ("0", "10")).is_err());
        assert_eq!(page(0, ("1", "10")).unwrap().count, 0, "an empty list has one empty page");
        assert_eq!(page(2000, ("1", "5000")).unwrap().results.len(), MAX_SIZE);
    }
}
