//! The one error type a user sees, on the page and over HTTP: what is wrong, and for a form,
//! which field. It crosses the server-function boundary as JSON.

use crate::api::json_text::JsonTextEncoding;
use crate::model::validate::FieldError;
use serde::{Deserialize, Serialize};
use server_fn_codec::{FromServerFnError, ServerFnErrorErr};

// server_fn's names, re-exported by leptos.
mod server_fn_codec {
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Input that breaks a rule; `field` names the form field.
    #[error("{0}")]
    Invalid(FieldError),
    /// The input is fine but collides with what exists (a name already taken).
    #[error("{0}")]
    Conflict(FieldError),
    #[error("{0} not found")]
    NotFound(String),
    #[error("log in first")]
    Unauthenticated,
    /// A login with a username and password that do not match (which of the two is not said).
    #[error("wrong username or password")]
    WrongCredentials,
    #[error("you may not {0}")]
    Forbidden(String),
    /// Too many of these requests, from this caller or of this kind; try again after
    /// `retry_after` seconds.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// The server cannot do it now (busy, or the work took longer than its budget).
    #[error("{0}")]
    Unavailable(String),
    /// Something failed on our side: what failed, in words; the details are in the server's
    /// log, not here (see [`AppError::fault`]).
    #[error("{0}")]
    Internal(String),
    /// The call itself failed (network, encoding).
    #[error("request failed: {0}")]
    Request(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(FieldError::new(field, message))
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        AppError::Conflict(FieldError::new(field, message))
    }

    /// The same error about `to` when it is about `from`: for callers whose body names a field
    /// otherwise than the backend (REST v2's `shard` for `shard_id`).
    pub fn renamed(mut self, from: &str, to: &str) -> Self {
        if let AppError::Invalid(e) | AppError::Conflict(e) = &mut self
            && e.field == from
        {
            e.field = to.to_string();
        }
        self
    }

    /// The same error, but a [`AppError::NotFound`] is the input's mistake at `field` (a 400
    /// saying `message`): an id or a name a form or a body gives that names nothing is not a
    /// missing page.
    pub fn not_found_at(self, field: &str, message: impl FnOnce() -> String) -> Self {
        match self {
            AppError::NotFound(_) => AppError::invalid(field, message()),
            e => e,
        }
    }

    /// The form field this error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid(e) | AppError::Conflict(e) => Some(&e.field),
            AppError::WrongCredentials => Some("password"),
            _ => None,
        }
    }

    /// The HTTP status this error maps to at the edge.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::NotFound(_) => 404,
            AppError::Unauthenticated | AppError::WrongCredentials => 401,
            AppError::Forbidden(_) => 403,
            AppError::TooManyRequests { .. } => 429,
            AppError::Unavailable(_) => 503,
            AppError::Internal(_) | AppError::Request(_) => 500,
        }
    }
}

/// The most characters of a message an error carries to the caller. A message may quote what
/// was sent (a 70,000-character name came back whole); a rule's whole promtool report fits.
#[cfg(feature = "ssr")]
pub const MESSAGE_MAX: usize = 4000;

#[cfg(feature = "ssr")]
impl AppError {
    /// The same error with its words cut to [`MESSAGE_MAX`] characters ("…" marks the cut), its
    /// field's name to 100: what the server sends, in a body or a page's address.
    pub fn shortened(self) -> Self {
        use crate::model::shortened;
        let cut = |m: String| if m.chars().nth(MESSAGE_MAX).is_some() { shortened(&m, MESSAGE_MAX) } else { m };
        let field = |f: FieldError| FieldError { field: shortened(&f.field, 100), message: cut(f.message) };
        match self {
            AppError::Invalid(f) => AppError::Invalid(field(f)),
            AppError::Conflict(f) => AppError::Conflict(field(f)),
            AppError::NotFound(m) => AppError::NotFound(cut(m)),
            AppError::Forbidden(m) => AppError::Forbidden(cut(m)),
            AppError::TooManyRequests { message, retry_after } => {
                AppError::TooManyRequests { message: cut(message), retry_after }
            }
            AppError::Unavailable(m) => AppError::Unavailable(cut(m)),
            AppError::Internal(m) => AppError::Internal(cut(m)),
            AppError::Request(m) => AppError::Request(cut(m)),
            e @ (AppError::Unauthenticated | AppError::WrongCredentials) => e,
        }
    }

    /// A fault on the server's side: `detail` (an OS error, a path, a library's message) goes to
    /// the server's log; the caller reads that `what` failed (a 500).
    pub fn fault(what: &str, detail: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %detail, "{what} failed");
        AppError::Internal(format!("{what} failed; the server's log says why"))
    }
}

/// The query parameters a refusal travels in, back to the page of a form posted without
/// JavaScript (server_fn's `ServerFnUrlError`, and the server's signature of it): whatever
/// else builds an address (a login's `next`) leaves them out.
pub const ADDRESS_REFUSAL_PARAMS: [&str; 3] = ["__path", "__err", "__sig"];

/// `query` (URL-encoded) without the refusal parameters, compared by decoded name as the
/// router reads them (`%5F_err` is `__err`); `None` when it holds none.
pub fn without_address_refusal(query: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let refusal = |(k, _): &(String, String)| ADDRESS_REFUSAL_PARAMS.contains(&k.as_str());
    if !pairs.iter().any(refusal) {
        return None;
    }
    let kept = pairs.iter().filter(|p| !refusal(p));
    Some(form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish())
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(e)
    }
}

impl FromServerFnError for AppError {
    // As the answers (`crate::api::json_text`): one JSON reader in the wasm.
    type Encoder = JsonTextEncoding;

    /// Arguments that do not read (a missing or mistyped field) are the caller's mistake: 400.
    /// The rest is the call itself failing (the network, an unreadable answer).
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(why) => AppError::invalid("arguments", why),
            ServerFnErrorErr::MissingArg(name) => AppError::invalid(&name, crate::model::validate::REQUIRED),
            other => AppError::Request(other.to_string()),
        }
    }

    /// Cut first ([`AppError::shortened`]): every answer and refusal address of a server
    /// function carries a message of bounded size.
    #[cfg(feature = "ssr")]
    fn ser(&self) -> leptos::server_fn::Bytes {
        use leptos::server_fn::Encodes;
        let short = self.clone().shortened();
        Self::Encoder::encode(&short).unwrap_or_else(|e| {
            Self::Encoder::encode(&AppError::Internal(format!("the error could not be written: {e}")))
                .unwrap_or_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What people read carries no names from the code: fields as their forms label them,
    /// faults without internals.
    #[test]
    fn messages_read_as_sentences() {
        let cases = [
            (AppError::invalid("expr", "unexpected \")\""), "Expression: unexpected \")\""),
            (AppError::invalid("shard_id", "that shard is disabled"), "Shard: that shard is disabled"),
            (AppError::invalid("labels.severity", "is empty"), "Label severity: is empty"),
            (AppError::invalid("body_template", "fails"), "Body template: fails"),
            (AppError::invalid("password", "must be at least 8 characters"), "Password: must be at least 8 characters"),
            (AppError::conflict("name", "web is taken"), "Name: web is taken"),
            (AppError::WrongCredentials, "wrong username or password"),
            // About no one field: the message alone.
            (AppError::conflict("", "1 project is on shard main"), "1 project is on shard main"),
            (AppError::invalid("ends_at", "is in the past"), "End: is in the past"),
            (
                AppError::Internal("the database failed; the server's log says why".into()),
                "the database failed; the server's log says why",
            ),
        ];
        for (error, shown) in cases {
            assert_eq!(error.to_string(), shown);
        }
        // The field stays for forms and APIs.
        assert_eq!(AppError::WrongCredentials.field(), Some("password"));
        assert_eq!(AppError::invalid("shard_id", "x").field(), Some("shard_id"));
    }
}
