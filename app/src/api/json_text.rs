//! The JSON encoding of every server function's answer and error: the same bytes as
//! server_fn's `Json` (`application/json`, serde_json), read the way a resource's hydration
//! data is read (`serde_json::from_str`). With server_fn's own `Json`, answers are read from
//! bytes (`from_slice`) and hydration data from text (`from_str`): serde then compiles every
//! answer type's reader twice into the browser's wasm, a tenth of its code.

use leptos::server_fn::codec::{Encoding, Post};
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{Serialize, de::DeserializeOwned};

/// JSON (`application/json`), written by serde_json and read from UTF-8 text; see the module.
pub struct JsonTextEncoding;

/// A server function's `output = JsonText`: JSON in a `POST` response, as server_fn's `Json`.
pub type JsonText = Post<JsonTextEncoding>;

impl ContentType for JsonTextEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonTextEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

/// Why an answer does not read: not UTF-8 (JSON is), or not the JSON expected.
#[derive(Debug, thiserror::Error)]
pub enum JsonTextError {
    #[error("the answer is not UTF-8: {0}")]
    NotText(#[from] std::str::Utf8Error),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

impl<T: DeserializeOwned> Decodes<T> for JsonTextEncoding {
    type Error = JsonTextError;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        Ok(serde_json::from_str(std::str::from_utf8(&bytes)?)?)
    }
}

// `Post<JsonTextEncoding>` is an `Encoding` through server_fn's blanket impl; checked here.
const _: fn() = || {
    fn encoding<E: Encoding>() {}
    encoding::<JsonText>();
};

#[cfg(test)]
mod tests {
    use super::*;

    /// What goes out is what server_fn's `Json` sends, and it reads back; bad input is an error
    /// naming what is wrong.
    #[test]
    fn answers_round_trip_as_plain_json() {
        let value = vec![("web".to_string(), 3u32)];
        let bytes = <JsonTextEncoding as Encodes<_>>::encode(&value).unwrap();
        assert_eq!(&bytes[..], br#"[["web",3]]"#);
        let back: Vec<(String, u32)> = JsonTextEncoding::decode(bytes).unwrap();
        assert_eq!(back, value);
        let bad = <JsonTextEncoding as Decodes<Vec<u32>>>::decode(Bytes::from_static(b"[1,")).unwrap_err();
        assert!(bad.to_string().contains("EOF"), "{bad}");
        let binary = <JsonTextEncoding as Decodes<Vec<u32>>>::decode(Bytes::from_static(b"\xff")).unwrap_err();
        assert!(binary.to_string().starts_with("the answer is not UTF-8"), "{binary}");
    }
}
