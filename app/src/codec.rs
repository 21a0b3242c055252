//! How resources carry their figures from the server's HTML to the browser: JSON, read the same
//! way server function answers are read.
//!
//! Leptos's default resource codec parses with `serde_json::from_str`, server functions with
//! `from_slice`; each reader instantiates every type's deserializer once more in the WASM. One
//! reader for both keeps one copy.
use codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};

/// JSON for [`leptos::prelude::Resource`], parsed through the same reader as server functions.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, Self::Error> {
        parse(text)
    }
}

/// Parses JSON text through the reader server function answers use.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_slice(text.as_bytes())
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
}
