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

/// An answer whose reading is left to the code that shows it: its JSON text as it came, typed.
/// On the wire it is `T`'s JSON (a script calling the server function sees no difference); in
/// the browser, serde's reader for `T` is then compiled into the chunk of the section that
/// calls [`RawJson::read`] (`components::deferred`), not into its page's, which holds the data
/// (`components::Held`) but does not read it.
pub struct RawJson<T> {
    json: Box<serde_json::value::RawValue>,
    of: std::marker::PhantomData<fn() -> T>,
}

impl<T: Serialize> RawJson<T> {
    /// `value` as JSON; a value serde cannot write is a fault (500).
    pub fn new(value: &T) -> Result<Self, crate::error::AppError> {
        serde_json::value::to_raw_value(value)
            .map(|json| RawJson { json, of: std::marker::PhantomData })
            .map_err(|e| crate::error::AppError::Internal(format!("writing an answer: {e}")))
    }
}

impl<T: DeserializeOwned> RawJson<T> {
    /// The value; JSON that is not a `T` (a server of another build) is a fault (500).
    pub fn read(&self) -> Result<T, crate::error::AppError> {
        self.parse()
    }
}

impl<T> RawJson<T> {
    /// The same JSON, of no type in particular: one resource type then holds the data of every
    /// section (`components::Held`), whose code is in the bundle once, not once per type.
    pub fn untyped(self) -> RawJson<()> {
        RawJson { json: self.json, of: std::marker::PhantomData }
    }

    fn parse<U: DeserializeOwned>(&self) -> Result<U, crate::error::AppError> {
        serde_json::from_str(self.json.get())
            .map_err(|e| crate::error::AppError::Internal(format!("reading an answer: {e}")))
    }
}

impl RawJson<()> {
    /// The value, read as a `T`; as [`RawJson::read`].
    pub fn read_as<T: DeserializeOwned>(&self) -> Result<T, crate::error::AppError> {
        self.parse()
    }
}

impl<T> Clone for RawJson<T> {
    fn clone(&self) -> Self {
        RawJson { json: self.json.clone(), of: std::marker::PhantomData }
    }
}

impl<T> std::fmt::Debug for RawJson<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.json.get())
    }
}

impl<T> Serialize for RawJson<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(s)
    }
}

impl<'de, T> serde::Deserialize<'de> for RawJson<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<serde_json::value::RawValue>::deserialize(d).map(|json| RawJson { json, of: std::marker::PhantomData })
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

    /// A `RawJson<T>` answer is `T`'s JSON on the wire (and in a page's hydration data), kept
    /// as it came until read; JSON of another shape is a fault when read, not before.
    #[test]
    fn raw_answers_are_the_same_json_read_later() {
        let value = vec![("web".to_string(), 3u32)];
        let raw = RawJson::new(&value).unwrap();
        let bytes = <JsonTextEncoding as Encodes<_>>::encode(&raw).unwrap();
        assert_eq!(&bytes[..], br#"[["web",3]]"#);
        let back: RawJson<Vec<(String, u32)>> = JsonTextEncoding::decode(bytes).unwrap();
        assert_eq!(back.read().unwrap(), value);
        assert_eq!(serde_json::to_string(&Ok::<_, ()>(back.clone())).unwrap(), r#"{"Ok":[["web",3]]}"#);
        let other: RawJson<Vec<u32>> = serde_json::from_str(r#"{"a": 1}"#).unwrap();
        let e = other.read().unwrap_err();
        assert!(matches!(e, crate::error::AppError::Internal(ref m) if m.starts_with("reading an answer")), "{e:?}");
        assert!(serde_json::from_str::<RawJson<Vec<u32>>>("[1,").is_err());
    }
}
