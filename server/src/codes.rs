//! Every error code the server answers with, API errors and refused ingest lines alike, in one enum.
//!
//! One type rather than string literals spread over the handlers and the store: a code cannot be
//! misspelt, `match`es over it are checked for completeness, and the OpenAPI document lists the
//! codes from this enum's schema, so it names every code an integrator can meet and no other.
//! (The dashboard's server functions answer with `app::error::AppError`, whose codes the browser
//! reads; they are not part of the HTTP API and stay in the `app` crate, which cannot name this.)
use std::fmt;

/// The `code` of an error answer (`{status, code, message}`) or of a refused ingest line: stable
/// snake_case words for programs to branch on; the `message` beside it is for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: a query parameter or a body field is wrong; the answer's `field` names it.
    BadRequest,
    /// 401: no session and no token, a token that is not valid, or a wrong username or password
    /// at sign-in (the same answer for both).
    Unauthorized,
    /// 403: signed in or holding a token, but not allowed this (another unit's dossiers, a
    /// non-admin on the admin routes, a token without the right for the route or the unit).
    Forbidden,
    /// 404: no such route, unit, dossier or boundary layer.
    NotFound,
    /// 405: the route exists, not with this method (answered by the router).
    MethodNotAllowed,
    /// 413: a body, an NDJSON line, a JSON array's element or an event count over the limits.
    PayloadTooLarge,
    /// 415: a body in a content type the route does not read.
    UnsupportedMediaType,
    /// 422: a body the router's extractors could not read (not from our handlers).
    Unprocessable,
    /// 429: over a rate limit (sign-in, ingest, live streams per client); `Retry-After` says
    /// when to try again.
    RateLimited,
    /// 503: the store cannot be read now.
    StoreUnavailable,
    /// 503: the server is at a capacity limit (the live views it watches or the streams it
    /// holds); `Retry-After` says when to try again.
    Busy,
    /// 503: the store cannot write its files (a full disk, for instance); reads still work and
    /// nothing of the request was stored; `Retry-After` says when to resend.
    StoreUnwritable,
    /// 500: something went wrong on the server's side; the answer names only the request id.
    Internal,
    /// Any other error status of an answer that did not come from the API's handlers.
    Error,
    /// 422 for an ingest request: some lines are refused, `errors` lists every one; nothing from
    /// the request was stored.
    InvalidEvents,
    /// 409 for an ingest request whose only problem is this, and the code of each such line:
    /// an `event_id` already received with different content.
    EventIdConflict,
    /// An ingest line that is not JSON.
    InvalidJson,
    /// A row of an imported CSV file that cannot be read (`server import` only).
    InvalidCsv,
    /// An ingest line's field of the wrong JSON type (or a line that is not an object).
    InvalidType,
    /// A field the event's type requires is absent or null.
    MissingField,
    /// A field's value is not one of those allowed (an empty string, an unknown type, level or
    /// channel, `paid_online` without `fee`), or the event is incomplete.
    InvalidValue,
    /// An `event_id` or `dossier_id` longer than 128 characters.
    TooLong,
    /// A timestamp that is not RFC 3339.
    InvalidTimestamp,
    /// A timestamp without its UTC offset.
    TimestampWithoutOffset,
    /// An `at` more than 5 minutes in the future.
    TimestampInFuture,
    /// A timestamp outside the years served (2000 to 2099).
    TimestampOutOfRange,
    /// A reception's `unit` that is no unit code of either era.
    UnknownUnit,
    /// A reception's `unit` of the other era than its date's (an old code after the 2025 reform,
    /// or a code of today before it); the message says what to send instead.
    UnitNotInForce,
    /// A reception's `level` other than its unit's.
    LevelMismatch,
    /// A due date before the reception (compared as local dates).
    DueBeforeReceived,
    /// An event for a dossier with no `received` event, stored or earlier in the request.
    UnknownDossier,
    /// A second `received` event for a dossier.
    DuplicateReceived,
    /// A `resolved` event for a dossier already resolved.
    AlreadyResolved,
    /// A `resolved` event for a withdrawn dossier.
    AlreadyWithdrawn,
    /// A `withdrawn` event for a dossier already resolved or withdrawn.
    AlreadyClosed,
    /// An event dated before its dossier's reception.
    BeforeReceived,
    /// An event outside the token's units; such lines are refused with a 403 that lists them.
    OutsideScope,
}

impl ErrorCode {
    /// Every code, in declaration order. The tests hold it to the enum: the OpenAPI document's
    /// schema of this type, derived from its variants, must list exactly these.
    pub const ALL: [ErrorCode; 37] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Unprocessable,
        ErrorCode::RateLimited,
        ErrorCode::StoreUnavailable,
        ErrorCode::Busy,
        ErrorCode::StoreUnwritable,
        ErrorCode::Internal,
        ErrorCode::Error,
        ErrorCode::InvalidEvents,
        ErrorCode::EventIdConflict,
        ErrorCode::InvalidJson,
        ErrorCode::InvalidCsv,
        ErrorCode::InvalidType,
        ErrorCode::MissingField,
        ErrorCode::InvalidValue,
        ErrorCode::TooLong,
        ErrorCode::InvalidTimestamp,
        ErrorCode::TimestampWithoutOffset,
        ErrorCode::TimestampInFuture,
        ErrorCode::TimestampOutOfRange,
        ErrorCode::UnknownUnit,
        ErrorCode::UnitNotInForce,
        ErrorCode::LevelMismatch,
        ErrorCode::DueBeforeReceived,
        ErrorCode::UnknownDossier,
        ErrorCode::DuplicateReceived,
        ErrorCode::AlreadyResolved,
        ErrorCode::AlreadyWithdrawn,
        ErrorCode::AlreadyClosed,
        ErrorCode::BeforeReceived,
        ErrorCode::OutsideScope,
    ];

    /// The codes a refused ingest line can carry (the 422 body's `errors[].code`), as the OpenAPI
    /// document lists them for a line; the others answer a whole request. They are `ALL`'s last,
    /// from `EventIdConflict` on (`ALL` keeps them together at its end for this).
    pub const LINE: &'static [ErrorCode] = Self::ALL.split_at(Self::FIRST_LINE_CODE).1;

    /// Where the line codes start in `ALL`.
    const FIRST_LINE_CODE: usize = 15;

    /// The code as it is written in JSON (the tests hold serde's spelling to this).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::Unprocessable => "unprocessable",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::Busy => "busy",
            ErrorCode::StoreUnwritable => "store_unwritable",
            ErrorCode::Internal => "internal",
            ErrorCode::Error => "error",
            ErrorCode::InvalidEvents => "invalid_events",
            ErrorCode::EventIdConflict => "event_id_conflict",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidCsv => "invalid_csv",
            ErrorCode::InvalidType => "invalid_type",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::TooLong => "too_long",
            ErrorCode::InvalidTimestamp => "invalid_timestamp",
            ErrorCode::TimestampWithoutOffset => "timestamp_without_offset",
            ErrorCode::TimestampInFuture => "timestamp_in_future",
            ErrorCode::TimestampOutOfRange => "timestamp_out_of_range",
            ErrorCode::UnknownUnit => "unknown_unit",
            ErrorCode::UnitNotInForce => "unit_not_in_force",
            ErrorCode::LevelMismatch => "level_mismatch",
            ErrorCode::DueBeforeReceived => "due_before_received",
            ErrorCode::UnknownDossier => "unknown_dossier",
            ErrorCode::DuplicateReceived => "duplicate_received",
            ErrorCode::AlreadyResolved => "already_resolved",
            ErrorCode::AlreadyWithdrawn => "already_withdrawn",
            ErrorCode::AlreadyClosed => "already_closed",
            ErrorCode::BeforeReceived => "before_received",
            ErrorCode::OutsideScope => "outside_scope",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn the_line_codes_are_all_s_tail_from_event_id_conflict_on() {
        assert_eq!(ErrorCode::LINE.first(), Some(&ErrorCode::EventIdConflict));
        assert_eq!(ErrorCode::LINE.last(), Some(&ErrorCode::OutsideScope));
        assert_eq!(ErrorCode::LINE.len(), 22);
    }

    #[test]
    fn every_code_is_written_in_json_as_its_str() {
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str()),
                "{code:?}"
            );
            assert_eq!(code.to_string(), code.as_str());
        }
    }

    #[test]
    fn no_two_codes_are_written_alike() {
        let mut written: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        written.sort_unstable();
        written.dedup();
        assert_eq!(written.len(), ErrorCode::ALL.len());
    }
}
