//! `server import FILE`: NDJSON events or a one-stop system's CSV export, through the same checks
//! as the HTTP API. Atomic unless `--skip-invalid`.
use super::event::{parse_event, Event, LineError};
use super::service::{self, IngestError};
use crate::codes::ErrorCode;
use crate::scope::Scope;
use crate::store::served::ServedStore;
use crate::store::StoreFailure;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The columns a CSV export may carry (header names, any order; unknown columns are refused).
pub const CSV_COLUMNS: [&str; 14] = [
    "event_id",
    "dossier_id",
    "type",
    "at",
    "unit",
    "level",
    "procedure",
    "field",
    "channel",
    "due",
    "fee",
    "paid_online",
    "agency",
    "outcome",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Ndjson,
    Csv,
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "ndjson" | "jsonl" | "json" => Some(Format::Ndjson),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct ImportReport {
    pub lines: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub skipped: u64,
    /// The first errors, in line order.
    pub errors: Vec<LineError>,
    pub error_count: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Format(String),
    #[error("{} invalid line(s); nothing was imported (use --skip-invalid to import the valid lines)", .0.error_count)]
    Invalid(ImportReport),
    #[error("store: {0}")]
    Store(#[from] StoreFailure),
    #[error("{0}")]
    Ingest(IngestError),
}

const KEEP_ERRORS: usize = 20;

/// `dd/mm/yyyy [HH:MM[:SS]]` as local time (UTC+07:00), or RFC 3339 as it is.
pub fn normalise_timestamp(s: &str) -> String {
    let s = s.trim();
    let formats = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"];
    for f in formats {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return format!("{}+07:00", t.format("%Y-%m-%dT%H:%M:%S"));
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%d/%m/%Y") {
        return format!("{}T00:00:00+07:00", d.format("%Y-%m-%d"));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return format!("{}T00:00:00+07:00", d.format("%Y-%m-%d"));
    }
    s.to_string()
}

fn csv_value(column: &str, raw: &str) -> Value {
    let raw = raw.trim();
    match column {
        "fee" | "paid_online" => match raw.to_lowercase().as_str() {
            "true" | "1" | "yes" | "có" | "x" => Value::Bool(true),
            "false" | "0" | "no" | "không" | "" => Value::Bool(false),
            _ => Value::String(raw.to_string()),
        },
        "at" | "due" => Value::String(normalise_timestamp(raw)),
        _ => Value::String(raw.to_string()),
    }
}

/// Each line with its number: a checked event, or why it is not one.
type ParsedLines = Vec<(u32, Result<Event, Vec<LineError>>)>;

/// Reads the file into `(line, parsed event or errors)`.
fn read_lines(
    path: &Path,
    format: Format,
    progress: &mut dyn FnMut(u64),
) -> Result<ParsedLines, ImportError> {
    let read_error = |source| ImportError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(read_error)?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let now: DateTime<Utc> = Utc::now();
    let mut out = Vec::new();
    match format {
        Format::Ndjson => {
            for (i, line) in BufReader::new(body).lines().enumerate() {
                let line_no = i as u32 + 1;
                let line = line
                    .map_err(|e| ImportError::Format(format!("line {line_no}: not UTF-8 ({e})")))?;
                if line.trim().is_empty() {
                    continue;
                }
                let parsed = serde_json::from_str::<Value>(line.trim_end_matches('\r'))
                    .map_err(|e| {
                        vec![LineError::new(
                            line_no,
                            "",
                            ErrorCode::InvalidJson,
                            format!("not JSON: {e}"),
                        )]
                    })
                    .and_then(|v| parse_event(line_no, &v, now));
                out.push((line_no, parsed));
                if line_no.is_multiple_of(100_000) {
                    progress(u64::from(line_no));
                }
            }
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(body);
            let headers = reader
                .headers()
                .map_err(|e| ImportError::Format(format!("cannot read the CSV header: {e}")))?
                .clone();
            for h in &headers {
                if !CSV_COLUMNS.contains(&h.trim()) {
                    return Err(ImportError::Format(format!(
                        "unknown CSV column '{h}'; the columns are: {}",
                        CSV_COLUMNS.join(", ")
                    )));
                }
            }
            for (i, record) in reader.records().enumerate() {
                let line_no = i as u32 + 2;
                let parsed = match record {
                    Err(e) => Err(vec![LineError::new(
                        line_no,
                        "",
                        ErrorCode::InvalidCsv,
                        e.to_string(),
                    )]),
                    Ok(record) => {
                        let mut object = Map::new();
                        for (h, v) in headers.iter().zip(record.iter()) {
                            let h = h.trim();
                            if !v.trim().is_empty() || h == "fee" || h == "paid_online" {
                                object.insert(h.to_string(), csv_value(h, v));
                            }
                        }
                        parse_event(line_no, &Value::Object(object), now)
                    }
                };
                out.push((line_no, parsed));
                if line_no.is_multiple_of(100_000) {
                    progress(u64::from(line_no));
                }
            }
        }
    }
    Ok(out)
}

fn note_errors(report: &mut ImportReport, errors: &[LineError]) {
    report.error_count += errors.len() as u64;
    for e in errors {
        if report.errors.len() < KEEP_ERRORS {
            report.errors.push(e.clone());
        }
    }
}

/// Imports a file. Atomic: either every line is stored or none (then `Invalid` lists why).
pub fn import(
    store: &dyn ServedStore,
    path: &Path,
    format: Format,
    skip_invalid: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    let lines = read_lines(path, format, &mut |n| progress(&format!("read {n} lines")))?;
    report.lines = lines.len() as u64;
    let mut events = Vec::with_capacity(lines.len());
    for (line, parsed) in lines {
        match parsed {
            Ok(e) => events.push((line, e)),
            Err(errors) => note_errors(&mut report, &errors),
        }
    }
    if !skip_invalid {
        if report.error_count > 0 {
            // Report the store-level problems of the well-formed lines as well.
            if let Ok(more) = service::problems(store, &events, &Scope::Everything) {
                note_errors(&mut report, &more);
            }
            report.errors.sort_by_key(|e| e.line);
            return Err(ImportError::Invalid(report));
        }
        progress(&format!(
            "checking and storing {} events in one transaction",
            events.len()
        ));
        return match service::store_batch(store, events, &Scope::Everything) {
            Ok(o) => {
                report.accepted = o.accepted;
                report.duplicates = o.duplicates;
                Ok(report)
            }
            Err(IngestError::Rejected(errors) | IngestError::OutOfScope(errors)) => {
                note_errors(&mut report, &errors);
                Err(ImportError::Invalid(report))
            }
            Err(IngestError::Store(e)) => Err(e.into()),
            // Neither comes from a blocking store call.
            Err(e @ (IngestError::Empty | IngestError::Task(_))) => Err(ImportError::Ingest(e)),
        };
    }
    report.skipped = report.error_count;
    for (n, chunk) in events.chunks(10_000).enumerate() {
        let mut batch: Vec<(u32, Event)> = chunk.to_vec();
        // Drop what the store refuses and retry: a refused reception also refuses its dossier's later events.
        loop {
            match service::store_batch(store, batch.clone(), &Scope::Everything) {
                Ok(o) => {
                    report.accepted += o.accepted;
                    report.duplicates += o.duplicates;
                    break;
                }
                Err(IngestError::Rejected(errors) | IngestError::OutOfScope(errors)) => {
                    note_errors(&mut report, &errors);
                    report.skipped += errors.len() as u64;
                    let bad: std::collections::HashSet<u32> =
                        errors.iter().map(|e| e.line).collect();
                    batch.retain(|(line, _)| !bad.contains(line));
                }
                Err(IngestError::Store(e)) => return Err(e.into()),
                Err(e @ (IngestError::Empty | IngestError::Task(_))) => {
                    return Err(ImportError::Ingest(e))
                }
            }
        }
        progress(&format!(
            "stored {} of {} events",
            ((n + 1) * 10_000).min(events.len()),
            events.len()
        ));
    }
    report.errors.sort_by_key(|e| e.line);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_dates_are_read_as_local_time() {
        assert_eq!(
            normalise_timestamp("31/03/2021 16:45"),
            "2021-03-31T16:45:00+07:00"
        );
        assert_eq!(
            normalise_timestamp("01/04/2021"),
            "2021-04-01T00:00:00+07:00"
        );
        assert_eq!(
            normalise_timestamp("2021-04-01"),
            "2021-04-01T00:00:00+07:00"
        );
        assert_eq!(
            normalise_timestamp("2021-04-01T08:00:00Z"),
            "2021-04-01T08:00:00Z"
        );
    }

    #[test]
    fn csv_booleans_accept_common_spellings() {
        assert_eq!(csv_value("fee", "Có"), Value::Bool(true));
        assert_eq!(csv_value("fee", ""), Value::Bool(false));
        assert_eq!(csv_value("paid_online", "1"), Value::Bool(true));
        assert_eq!(csv_value("fee", "maybe"), Value::String("maybe".into()));
    }
}
