//! ISO 8601 dates and times read by hand, for the values the browser receives.
//!
//! chrono's `FromStr` goes through its general format parser, about 12 KB of the WASM. Writing
//! stays with chrono's `Serialize`, so the format on the wire does not change. Fields use these
//! with `#[serde(deserialize_with = "…")]`.
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::de::Error;
use serde::{Deserialize, Deserializer};

/// The first year a date may name, wherever a date enters (query strings, server functions,
/// ingest, CSV import, the command line). One-stop records start well after it.
pub const FIRST_YEAR: i32 = 2000;
/// The last year a date may name. Keeping dates far from chrono's limits (±262,143) means no
/// period arithmetic on an accepted date can overflow.
pub const LAST_YEAR: i32 = 2099;

/// Whether `d` lies in the years every date must lie in.
pub fn in_range(d: NaiveDate) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&chrono::Datelike::year(&d))
}

/// A calendar date written exactly `YYYY-MM-DD` (four-digit year, no sign). The format only:
/// a date that enters from outside goes through [`check_date`] or [`crate::model::Period::new`],
/// which also hold it to the years in range.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    NaiveDate::from_ymd_opt(year as i32, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// The gate for a date from outside: exactly `YYYY-MM-DD`, in the years
/// [`FIRST_YEAR`]..=[`LAST_YEAR`], with a message for people when it is not.
pub fn check_date(s: &str) -> Result<NaiveDate, String> {
    parse_date(s).filter(|d| in_range(*d)).ok_or_else(|| {
        format!(
            "'{}' is not a date YYYY-MM-DD from {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31",
            s.chars().take(40).collect::<String>()
        )
    })
}

/// A time in RFC 3339: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of a second, then `Z` or an
/// offset `±HH:MM`.
pub fn parse_date_time(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = parse_date(s.get(..10)?)?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let mut rest = &b[19..];
    let mut nanos = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        // Nanoseconds: the first nine digits, scaled; further digits are below the resolution.
        let kept = len.min(9);
        nanos = digits(&fraction[..kept])? * 10u32.pow(9 - kept as u32);
        rest = &fraction[len..];
    }
    let offset_minutes = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let minutes = (digits(&[*h1, *h2])? * 60 + digits(&[*m1, *m2])?) as i64;
            if *sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    let local = date.and_time(NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?);
    let utc = local.checked_sub_signed(TimeDelta::try_minutes(offset_minutes)?)?;
    Some(utc.and_utc())
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

fn not_a_date<E: Error>(s: &str) -> E {
    E::custom(format!(
        "invalid date '{}': expected YYYY-MM-DD",
        s.chars().take(40).collect::<String>()
    ))
}

fn not_a_time<E: Error>(s: &str) -> E {
    E::custom(format!(
        "invalid time '{s}': expected RFC 3339, e.g. 2021-03-31T14:05:00Z"
    ))
}

/// `deserialize_with` for a `NaiveDate`.
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = String::deserialize(d)?;
    parse_date(&s).ok_or_else(|| not_a_date(&s))
}

/// `deserialize_with` for an `Option<NaiveDate>` (with `#[serde(default)]`).
pub fn option_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| parse_date(&s).ok_or_else(|| not_a_date(&s)))
        .transpose()
}

/// `deserialize_with` for a `Vec<NaiveDate>`.
pub fn dates<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NaiveDate>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| parse_date(s).ok_or_else(|| not_a_date(s)))
        .collect()
}

/// `deserialize_with` for an `Option<DateTime<Utc>>` (with `#[serde(default)]`).
pub fn option_date_time<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| parse_date_time(&s).ok_or_else(|| not_a_time(&s)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_chrono_reads_them() {
        for s in ["2021-03-31", "2024-02-29", "0001-01-01", "9999-12-31"] {
            assert_eq!(parse_date(s), s.parse().ok(), "{s}");
        }
        for bad in [
            "+262142-12-01",
            "+2021-03-31",
            "-2021-03-31",
            "2021-02-29",
            "2021-13-01",
            "2021-3-31",
            "21-03-31",
            "2021/03/31",
            "2021-03-3x",
            "",
            "2021-03-31 ",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(parse_date("2021-0\u{e9}-1"), None);
    }

    #[test]
    fn a_date_from_outside_lies_in_the_years_2000_to_2099() {
        assert!(check_date("2000-01-01").is_ok() && check_date("2099-12-31").is_ok());
        for bad in [
            "1999-12-31",
            "2100-01-01",
            "0000-01-01",
            "9999-12-31",
            "+262142-12-01",
        ] {
            assert!(check_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_refused_date_is_named_with_the_range_it_must_lie_in() {
        let e = check_date("+262142-12-01").unwrap_err();
        assert!(
            e.contains("'+262142-12-01'") && e.contains("2000-01-01 to 2099-12-31"),
            "{e}"
        );
        // A long value is cut in the message, so an error never echoes a megabyte back.
        assert!(check_date(&"9".repeat(10_000)).unwrap_err().len() < 120);
    }

    #[test]
    fn times_read_as_chrono_reads_what_it_writes() {
        let written = [
            "2021-03-31T17:30:00Z",
            "2026-12-01T23:26:19.123Z",
            "2026-12-01T23:26:19.123456789Z",
            "2026-12-01T23:26:19.1234567891Z",
            "2021-04-01T00:00:00+07:00",
            "2021-03-31T10:00:00-02:30",
            "2021-03-31 17:30:00z",
        ];
        for s in written {
            let chrono: DateTime<Utc> = s.parse().unwrap();
            assert_eq!(parse_date_time(s), Some(chrono), "{s}");
        }
        let written = DateTime::from_timestamp(1_764_631_579, 123_456_789).unwrap();
        let json = serde_json::to_string(&written).unwrap();
        assert_eq!(parse_date_time(json.trim_matches('"')), Some(written));
        for bad in [
            "2021-03-31T17:30:00",
            "2021-03-31T25:00:00Z",
            "2021-03-31T17:30:00.Z",
            "2021-03-31T17:30:00+0700",
            "2021-03-31X17:30:00Z",
            "2021-03-31",
        ] {
            assert_eq!(parse_date_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn fields_name_what_they_expected() {
        #[derive(Deserialize, Debug)]
        struct Row {
            #[serde(deserialize_with = "date")]
            day: NaiveDate,
            #[serde(default, deserialize_with = "option_date")]
            until: Option<NaiveDate>,
            #[serde(deserialize_with = "dates")]
            months: Vec<NaiveDate>,
            #[serde(default, deserialize_with = "option_date_time")]
            at: Option<DateTime<Utc>>,
        }
        let row: Row =
            serde_json::from_str(r#"{"day":"2021-03-31","months":["2021-01-01"],"at":null}"#)
                .unwrap();
        assert_eq!(row.day, NaiveDate::from_ymd_opt(2021, 3, 31).unwrap());
        assert_eq!((row.until, row.at, row.months.len()), (None, None, 1));
        let e = serde_json::from_str::<Row>(r#"{"day":"31/03/2021","months":[]}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("invalid date '31/03/2021': expected YYYY-MM-DD"),
            "{e}"
        );
        let e = serde_json::from_str::<Row>(r#"{"day":"2021-03-31","months":[],"at":"now"}"#)
            .unwrap_err();
        assert!(e.to_string().contains("invalid time 'now'"), "{e}");
    }
}
