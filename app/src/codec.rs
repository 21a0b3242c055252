//! The dashboard's one wire format, JSON, for server functions, for resources carried in the
//! page's HTML and for the live stream's messages.
//!
//! The server reads and writes it with serde_json. The browser parses with its own `JSON.parse`
//! and walks the result with serde-wasm-bindgen: serde_json's reader is instantiated once per
//! type, and was the largest piece of the WASM bundle after Leptos itself.
use codee::{Decoder, Encoder};
use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt;

/// Why a value could not be written or read as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(String);

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CodecError {}

/// Parses JSON text into `T`.
#[cfg(not(target_arch = "wasm32"))]
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, CodecError> {
    serde_json::from_str(text).map_err(|e| CodecError(e.to_string()))
}

/// Parses JSON text into `T`.
#[cfg(target_arch = "wasm32")]
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, CodecError> {
    let value = js_sys::JSON::parse(text)
        .map_err(|e| CodecError(format!("invalid JSON: {}", js_message(&e))))?;
    serde_wasm_bindgen::from_value(value).map_err(|e| CodecError(e.to_string()))
}

/// Writes `value` as JSON text, figures' rows in the pages' short form
/// ([`crate::model::in_page_form`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn to_text<T: Serialize>(value: &T) -> Result<String, CodecError> {
    crate::model::in_page_form(|| serde_json::to_string(value))
        .map_err(|e| CodecError(e.to_string()))
}

/// Writes `value` as JSON text.
#[cfg(target_arch = "wasm32")]
pub fn to_text<T: Serialize>(value: &T) -> Result<String, CodecError> {
    // JSON-compatible: `None` as `null` and maps as objects, exactly as serde_json writes them.
    let value = value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| CodecError(e.to_string()))?;
    let text = js_sys::JSON::stringify(&value)
        .map_err(|e| CodecError(format!("cannot write JSON: {}", js_message(&e))))?;
    Ok(String::from(text))
}

#[cfg(target_arch = "wasm32")]
fn js_message(error: &wasm_bindgen::JsValue) -> String {
    js_sys::Error::from(error.clone()).message().into()
}

/// Server-function bodies (arguments and answers) in this module's JSON.
pub struct PageJsonEncoding;

impl ContentType for PageJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for PageJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for PageJsonEncoding {
    type Error = CodecError;

    fn encode(value: &T) -> Result<Bytes, CodecError> {
        to_text(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for PageJsonEncoding {
    type Error = CodecError;

    fn decode(bytes: Bytes) -> Result<T, CodecError> {
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| CodecError(format!("the answer is not UTF-8: {e}")))?;
        parse(text)
    }
}

/// A server function's arguments and answer as a JSON `POST` (`#[server(input = PageJson, output = PageJson)]`).
pub type PageJson = Post<PageJsonEncoding>;

/// JSON for [`leptos::prelude::Resource`]: the server writes a resource's value into the page,
/// the browser reads it back while hydrating.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = CodecError;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        to_text(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = CodecError;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, Self::Error> {
        parse(text)
    }
}

/// A resource whose value travels in the page as [`Json`].
pub type Loaded<T> = leptos::prelude::Resource<T, Json>;

/// `Resource::new` with the [`Json`] codec: `fetcher` runs for each value of `source`.
#[track_caller]
pub fn load<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Loaded::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_survive_the_trip_through_the_page() {
        let value: Result<Vec<(String, Option<f64>)>, String> = Ok(vec![
            ("Điện Bàn".into(), Some(90.34)),
            ("Hội An".into(), None),
        ]);
        let text = <Json as Encoder<_>>::encode(&value).unwrap();
        let back: Result<Vec<(String, Option<f64>)>, String> =
            <Json as Decoder<_>>::decode(&text).unwrap();
        assert_eq!(back, value);
        assert!(<Json as Decoder<Vec<u8>>>::decode("[1,").is_err());
    }

    #[test]
    fn server_function_bodies_are_plain_json() {
        let body = <PageJsonEncoding as Encodes<_>>::encode(&("Hội An", Some(1_i64), None::<f64>))
            .unwrap();
        assert_eq!(&body[..], "[\"Hội An\",1,null]".as_bytes());
        let back: (String, Option<i64>, Option<f64>) =
            <PageJsonEncoding as Decodes<_>>::decode(body).unwrap();
        assert_eq!(back, ("Hội An".to_string(), Some(1), None));
        let bad = <PageJsonEncoding as Decodes<(String,)>>::decode(Bytes::from_static(b"\xff"));
        assert!(bad.unwrap_err().to_string().contains("UTF-8"));
    }
}
