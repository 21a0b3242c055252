//! The error type of the server-function layer: a stable code and a message for people.
use crate::codec::PageJsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    /// Machine-readable, stable: `bad_request`, `store_unavailable`, `internal`, `transport`…
    pub code: String,
    pub message: String,
}

/// What a page learns of an internal failure. Its detail (a database's message, a panic's) is
/// for the server's log only; the server puts the request id into this message when the error
/// goes out over HTTP.
pub const INTERNAL_MESSAGE: &str = "an internal error occurred; the server's log has the details";

impl AppError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        AppError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// An internal failure, told without its detail (see [`INTERNAL_MESSAGE`]).
    pub fn internal() -> Self {
        AppError::new("internal", INTERNAL_MESSAGE)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = PageJsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let code = match &value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => "bad_request",
            ServerFnErrorErr::Request(_) => "transport",
            ServerFnErrorErr::Deserialization(_) | ServerFnErrorErr::Serialization(_) => "encoding",
            _ => "internal",
        };
        AppError::new(code, value.to_string())
    }
}
