//! Dossier events as integrators send them, and the checks that need nothing but the event itself.
use crate::codes::ErrorCode;
use app::model::{Channel, Level};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

/// The longest `event_id`, `dossier_id`, `unit`, `procedure` or `agency` (codes), in characters
/// (the OpenAPI document's `maxLength`; a test holds the two equal).
pub const MAX_ID_LEN: usize = 128;
/// The longest `field` or `outcome` (names and words people read), in characters. Every text an
/// integrator sends ends up on dashboards, in lists and in printed reports: a megabyte-long
/// sector name would be stored once and drawn everywhere.
pub const MAX_NAME_LEN: usize = 200;
/// How far in the future an event's timestamp may lie (clock skew of the sending system).
pub const MAX_FUTURE_SKEW_SECONDS: i64 = 300;

/// One rejected line of a request, as the 422 body lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// 1-based NDJSON line or array position.
    pub line: u32,
    /// The field at fault; empty when the whole line is.
    pub field: String,
    #[schema(schema_with = line_code)]
    pub code: ErrorCode,
    pub message: String,
}

/// A line's code in the OpenAPI document: only the codes a line can carry.
fn line_code() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ErrorCode::LINE.iter().map(|c| c.as_str())))
        .description(Some(
            "Why the line was refused (the message says it for people).",
        ))
        .build()
}

impl LineError {
    pub fn new(line: u32, field: &str, code: ErrorCode, message: impl Into<String>) -> Self {
        LineError {
            line,
            field: field.to_string(),
            code,
            message: message.into(),
        }
    }
}

// The OpenAPI document's `Event`. [`parse_event`] reads the JSON object field by field (to
// report every problem of a line, each naming its field), so this type only describes what it
// reads; the doc comments are the document's descriptions.
/// A dossier event, one per NDJSON line or array element.
#[derive(utoipa::ToSchema)]
#[schema(as = Event)]
pub struct WireEvent {
    /// Unique per event; resending is a no-op.
    #[schema(max_length = 128)]
    pub event_id: String,
    #[schema(max_length = 128)]
    pub dossier_id: String,
    #[schema(rename = "type")]
    pub event_type: EventType,
    /// RFC 3339 with an offset; when the event happened; at most 5 minutes in the future.
    pub at: DateTime<FixedOffset>,
    /// received: the handling unit's code
    #[schema(max_length = 128)]
    pub unit: Option<String>,
    /// received: the level of the handling unit
    pub level: Option<Level>,
    /// received: procedure code (codes missing from the catalogue are accepted and listed as uncatalogued)
    #[schema(max_length = 128)]
    pub procedure: Option<String>,
    /// received: sector, e.g. Đất đai
    #[schema(max_length = 200)]
    pub field: Option<String>,
    /// received: how the dossier reached the office
    pub channel: Option<Channel>,
    /// received and due_changed: the due date; not before the reception
    pub due: Option<DateTime<FixedOffset>>,
    /// received: whether the procedure has a fee
    #[schema(default = false)]
    pub fee: Option<bool>,
    /// received: whether the fee was paid online (only with `fee`)
    #[schema(default = false)]
    pub paid_online: Option<bool>,
    /// received: the department's code
    #[schema(max_length = 128)]
    pub agency: Option<String>,
    /// resolved: optional outcome
    #[schema(max_length = 200)]
    pub outcome: Option<String>,
}

// The names of `EventKind::name`.
/// What happened to the dossier.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum EventType {
    Received,
    DueChanged,
    Resolved,
    Withdrawn,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reception {
    pub unit: String,
    pub level: Level,
    pub procedure: String,
    pub field: String,
    pub channel: Channel,
    pub due: DateTime<FixedOffset>,
    pub fee: bool,
    pub paid_online: bool,
    pub agency: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    Received(Reception),
    DueChanged { due: DateTime<FixedOffset> },
    Resolved { outcome: Option<String> },
    Withdrawn,
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Received(_) => "received",
            EventKind::DueChanged { .. } => "due_changed",
            EventKind::Resolved { .. } => "resolved",
            EventKind::Withdrawn => "withdrawn",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub event_id: String,
    pub dossier_id: String,
    pub at: DateTime<FixedOffset>,
    pub kind: EventKind,
}

impl Event {
    /// A stable hash of the event's meaning (instants compared as instants), used to tell a
    /// harmless resend from a conflicting reuse of an `event_id`.
    pub fn content_hash(&self) -> u64 {
        let mut s = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.event_id,
            self.dossier_id,
            self.kind.name(),
            self.at.timestamp_micros()
        );
        match &self.kind {
            EventKind::Received(r) => {
                s.push_str(&format!(
                    "\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
                    r.unit,
                    r.level.as_str(),
                    r.procedure,
                    r.field,
                    r.channel.as_str(),
                    r.due.timestamp_micros(),
                    r.fee,
                    r.paid_online,
                    r.agency.as_deref().unwrap_or("")
                ));
            }
            EventKind::DueChanged { due } => {
                s.push_str(&format!("\u{1f}{}", due.timestamp_micros()))
            }
            EventKind::Resolved { outcome } => {
                s.push_str(&format!("\u{1f}{}", outcome.as_deref().unwrap_or("")))
            }
            EventKind::Withdrawn => {}
        }
        xxhash_rust::xxh3::xxh3_64(s.as_bytes())
    }

    pub fn id_hash(&self) -> u64 {
        id_hash(&self.event_id)
    }
}

pub fn id_hash(event_id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(event_id.as_bytes())
}

/// Reads the fields of one JSON object, collecting every problem rather than stopping at the first.
struct Fields<'a> {
    line: u32,
    object: &'a Map<String, Value>,
    errors: Vec<LineError>,
}

impl<'a> Fields<'a> {
    fn error(&mut self, field: &str, code: ErrorCode, message: impl Into<String>) {
        self.errors
            .push(LineError::new(self.line, field, code, message));
    }

    fn string(&mut self, field: &str, required: bool) -> Option<String> {
        match self.object.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.error(
                        field,
                        ErrorCode::MissingField,
                        format!("'{field}' is required"),
                    );
                }
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.error(
                    field,
                    ErrorCode::InvalidValue,
                    format!("'{field}' must not be empty"),
                );
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.error(
                    field,
                    ErrorCode::InvalidType,
                    format!("'{field}' must be a string, got {}", json_type(other)),
                );
                None
            }
        }
    }

    fn id(&mut self, field: &str) -> Option<String> {
        self.text(field, true, MAX_ID_LEN)
    }

    /// A string of at most `max` characters.
    fn text(&mut self, field: &str, required: bool, max: usize) -> Option<String> {
        let s = self.string(field, required)?;
        let length = s.chars().count();
        if length > max {
            self.error(
                field,
                ErrorCode::TooLong,
                format!("'{field}' has {length} characters; at most {max} are allowed"),
            );
            return None;
        }
        Some(s)
    }

    fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                self.error(
                    field,
                    ErrorCode::InvalidType,
                    format!("'{field}' must be true or false, got {}", json_type(other)),
                );
                None
            }
        }
    }

    fn timestamp(&mut self, field: &str, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
        let s = self.string(field, true)?;
        match parse_timestamp(&s) {
            Ok(t) if !app::iso::in_range(app::indicators::local_date(&t)) => {
                // The same years as every other date that enters: due dates, rollups and
                // period arithmetic then never meet the calendar's ends.
                self.error(
                    field,
                    ErrorCode::TimestampOutOfRange,
                    format!(
                        "'{field}' ({s}) is outside the dates served ({}-01-01 to {}-12-31)",
                        app::iso::FIRST_YEAR,
                        app::iso::LAST_YEAR
                    ),
                );
                None
            }
            Ok(t) => {
                if (t.with_timezone(&Utc) - now).num_seconds() > MAX_FUTURE_SKEW_SECONDS
                    && field == "at"
                {
                    self.error(
                        field,
                        ErrorCode::TimestampInFuture,
                        format!("'{field}' ({s}) is more than 5 minutes in the future"),
                    );
                    return None;
                }
                Some(t)
            }
            Err(code) => {
                let message = if code == ErrorCode::TimestampWithoutOffset {
                    format!("'{field}' ({s}) has no UTC offset; write it like 2021-03-31T08:00:00+07:00")
                } else {
                    format!("'{field}' ({s}) is not an RFC 3339 timestamp like 2021-03-31T08:00:00+07:00")
                };
                self.error(field, code, message);
                None
            }
        }
    }

    fn parsed<T: std::str::FromStr<Err = String>>(&mut self, field: &str) -> Option<T> {
        let s = self.string(field, true)?;
        match s.parse() {
            Ok(v) => Some(v),
            Err(message) => {
                self.error(field, ErrorCode::InvalidValue, message);
                None
            }
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// RFC 3339 with an explicit offset; a timestamp without one is its own error.
pub fn parse_timestamp(s: &str) -> Result<DateTime<FixedOffset>, ErrorCode> {
    match DateTime::parse_from_rfc3339(s) {
        Ok(t) => Ok(t),
        Err(_) => {
            let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"));
            if naive.is_ok() {
                Err(ErrorCode::TimestampWithoutOffset)
            } else {
                Err(ErrorCode::InvalidTimestamp)
            }
        }
    }
}

/// Parses and checks one event object; `line` numbers the errors.
pub fn parse_event(line: u32, value: &Value, now: DateTime<Utc>) -> Result<Event, Vec<LineError>> {
    let Some(object) = value.as_object() else {
        return Err(vec![LineError::new(
            line,
            "",
            ErrorCode::InvalidType,
            format!("an event must be a JSON object, got {}", json_type(value)),
        )]);
    };
    let mut f = Fields {
        line,
        object,
        errors: Vec::new(),
    };
    let event_id = f.id("event_id");
    let dossier_id = f.id("dossier_id");
    let at = f.timestamp("at", now);
    let kind_name = f.string("type", true);
    let kind = match kind_name.as_deref() {
        Some("received") => {
            let unit = f.text("unit", true, MAX_ID_LEN);
            let level = f.parsed::<Level>("level");
            let procedure = f.text("procedure", true, MAX_ID_LEN);
            let field = f.text("field", true, MAX_NAME_LEN);
            let channel = f.parsed::<Channel>("channel");
            let due = f.timestamp("due", now);
            let errors_before_fee = f.errors.len();
            let fee = f.boolean("fee").unwrap_or(false);
            let fee_is_valid = f.errors.len() == errors_before_fee;
            let paid_online = f.boolean("paid_online").unwrap_or(false);
            let agency = f.text("agency", false, MAX_ID_LEN);
            if paid_online && !fee && fee_is_valid {
                f.error(
                    "paid_online",
                    ErrorCode::InvalidValue,
                    "'paid_online' is true but 'fee' is not",
                );
            }
            if let (Some(at), Some(due)) = (at, due) {
                if app::indicators::local_date(&due) < app::indicators::local_date(&at) {
                    f.error(
                        "due",
                        ErrorCode::DueBeforeReceived,
                        format!("'due' ({due}) is before the reception ('at' {at})"),
                    );
                }
            }
            match (unit, level, procedure, field, channel, due) {
                (
                    Some(unit),
                    Some(level),
                    Some(procedure),
                    Some(field),
                    Some(channel),
                    Some(due),
                ) => Some(EventKind::Received(Reception {
                    unit,
                    level,
                    procedure,
                    field,
                    channel,
                    due,
                    fee,
                    paid_online,
                    agency,
                })),
                _ => None,
            }
        }
        Some("due_changed") => f
            .timestamp("due", now)
            .map(|due| EventKind::DueChanged { due }),
        Some("resolved") => {
            let outcome = f.text("outcome", false, MAX_NAME_LEN);
            Some(EventKind::Resolved { outcome })
        }
        Some("withdrawn") => Some(EventKind::Withdrawn),
        Some(other) => {
            f.error(
                "type",
                ErrorCode::InvalidValue,
                format!(
                    "unknown type '{other}': expected received, due_changed, resolved or withdrawn"
                ),
            );
            None
        }
        None => None,
    };
    if !f.errors.is_empty() {
        return Err(f.errors);
    }
    match (event_id, dossier_id, at, kind) {
        (Some(event_id), Some(dossier_id), Some(at), Some(kind)) => Ok(Event {
            event_id,
            dossier_id,
            at,
            kind,
        }),
        _ => Err(vec![LineError::new(
            line,
            "",
            ErrorCode::InvalidValue,
            "the event is incomplete",
        )]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2021-04-01T00:00:00Z".parse().unwrap()
    }

    fn received() -> Value {
        json!({"event_id":"e1","dossier_id":"d1","type":"received","at":"2021-03-01T08:00:00+07:00",
               "unit":"502","level":"district","procedure":"P1","field":"Đất đai","channel":"online",
               "due":"2021-03-10T17:00:00+07:00","fee":true,"paid_online":true})
    }

    fn codes(v: &Value) -> Vec<(String, ErrorCode)> {
        parse_event(1, v, now())
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn a_complete_reception_parses() {
        let e = parse_event(1, &received(), now()).unwrap();
        assert!(
            matches!(e.kind, EventKind::Received(ref r) if r.unit == "502" && r.fee && r.paid_online)
        );
    }

    #[test]
    fn missing_and_mistyped_fields_are_each_reported() {
        let mut v = received();
        v.as_object_mut().unwrap().remove("unit");
        v["fee"] = json!("yes");
        let c = codes(&v);
        assert!(
            c.contains(&("unit".into(), ErrorCode::MissingField)),
            "{c:?}"
        );
        assert!(c.contains(&("fee".into(), ErrorCode::InvalidType)), "{c:?}");
    }

    #[test]
    fn timestamps_outside_the_years_2000_to_2099_are_refused_by_name() {
        let mut v = received();
        v["due"] = json!("9999-12-31T17:00:00+07:00");
        assert_eq!(
            codes(&v),
            vec![("due".into(), ErrorCode::TimestampOutOfRange)]
        );
        v["due"] = json!("2021-03-10T17:00:00+07:00");
        v["at"] = json!("1999-12-31T08:00:00+07:00");
        assert_eq!(
            codes(&v),
            vec![("at".into(), ErrorCode::TimestampOutOfRange)]
        );
    }

    #[test]
    fn timestamps_need_an_offset_and_must_not_be_in_the_future() {
        let mut v = received();
        v["at"] = json!("2021-03-01T08:00:00");
        assert_eq!(
            codes(&v),
            vec![("at".into(), ErrorCode::TimestampWithoutOffset)]
        );
        v["at"] = json!("2021-04-01T07:06:00+07:00"); // 6 minutes after now
        v["due"] = json!("2021-04-10T07:00:00+07:00");
        assert_eq!(codes(&v), vec![("at".into(), ErrorCode::TimestampInFuture)]);
        v["at"] = json!("2021-04-01T07:04:00+07:00"); // within the 5 minutes of skew
        assert!(parse_event(1, &v, now()).is_ok());
    }

    #[test]
    fn due_before_received_is_rejected_by_local_date() {
        let mut v = received();
        v["due"] = json!("2021-02-28T23:00:00+07:00");
        assert_eq!(
            codes(&v),
            vec![("due".into(), ErrorCode::DueBeforeReceived)]
        );
        // Same local day, earlier hour: allowed (due dates are compared as dates).
        v["due"] = json!("2021-03-01T07:00:00+07:00");
        assert!(parse_event(1, &v, now()).is_ok());
    }

    #[test]
    fn ids_longer_than_128_characters_are_rejected() {
        let mut v = received();
        v["dossier_id"] = json!("x".repeat(129));
        assert_eq!(codes(&v), vec![("dossier_id".into(), ErrorCode::TooLong)]);
    }

    #[test]
    fn unknown_types_and_enum_values_are_invalid_values() {
        let mut v = received();
        v["channel"] = json!("fax");
        assert_eq!(codes(&v), vec![("channel".into(), ErrorCode::InvalidValue)]);
        let v = json!({"event_id":"e","dossier_id":"d","type":"approved","at":"2021-03-01T08:00:00+07:00"});
        assert_eq!(codes(&v), vec![("type".into(), ErrorCode::InvalidValue)]);
    }

    #[test]
    fn content_hash_compares_instants_not_spellings() {
        let a = parse_event(1, &received(), now()).unwrap();
        let mut v = received();
        v["at"] = json!("2021-03-01T01:00:00Z");
        let b = parse_event(1, &v, now()).unwrap();
        assert_eq!(a.content_hash(), b.content_hash());
        v["procedure"] = json!("P2");
        let c = parse_event(1, &v, now()).unwrap();
        assert_ne!(a.content_hash(), c.content_hash());
    }
}
