//! Numbers and dates written the way each language expects (vi: "90,34%", "31/03/2021").
use crate::i18n::Lang;
// Dates are written by hand: chrono's `format` brings its whole strftime parser into the WASM.
use chrono::{Datelike, NaiveDate, Timelike};

/// An integer with the language's thousands separator: vi "14.428", en "14,428".
pub fn count(lang: Lang, n: u64) -> String {
    let sep = match lang {
        Lang::Vi => '.',
        Lang::En => ',',
    };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// A decimal with `decimals` places and the language's decimal mark.
pub fn decimal(lang: Lang, value: f64, decimals: usize) -> String {
    let s = format!("{value:.decimals$}");
    match lang {
        Lang::Vi => s.replace('.', ","),
        Lang::En => s,
    }
}

/// Reads a plain decimal ("95", "92.5", "-0.25"), as `str::parse::<f64>` reads it, to the same
/// bits; `None` for anything else (exponents, `inf`, `NaN`, more than 15 significant digits, a
/// fraction of more than 22 places).
///
/// Why not `str::parse`: its reader carries a 10 KB table of powers of five into the WASM, most
/// of what the embed's bundle was over its size target by. A decimal of at most 15 digits is its
/// integer (exact in an `f64`) divided by a power of ten (exact up to 10^22), and IEEE division
/// rounds that quotient correctly, as the parser does: the same value, with no table.
pub fn parse_decimal(text: &str) -> Option<f64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    // Zeros ending the fraction change nothing ("92.50" is 92.5) and are not counted.
    let fraction = fraction.trim_end_matches('0');
    let mut mantissa: u64 = 0;
    let mut significant = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        if mantissa > 0 || b != b'0' {
            significant += 1;
        }
        if significant > 15 {
            return None;
        }
        mantissa = mantissa * 10 + u64::from(b - b'0');
    }
    // Up to 10^22 every power of ten is exact in an f64; 15 digits in all bound the fraction's
    // significant ones, but not its leading zeros.
    let scale = POWERS_OF_TEN.get(fraction.len())?;
    let value = mantissa as f64 / scale;
    Some(if negative { -value } else { value })
}

/// 10^0 … 10^22, each exact in an `f64`.
const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A fraction 0..1 as a percentage with two decimals; "–" when there is no value.
pub fn rate(lang: Lang, value: Option<f64>) -> String {
    match value {
        Some(v) => format!("{}%", decimal(lang, v * 100.0, 2)),
        None => "–".to_string(),
    }
}

/// A change of rate in percentage points, always signed: "+1,20" / "−0.35".
pub fn rate_change(lang: Lang, delta: Option<f64>) -> String {
    match delta {
        Some(d) => {
            let sign = if d < 0.0 { "−" } else { "+" };
            format!("{sign}{}", decimal(lang, (d * 100.0).abs(), 2))
        }
        None => "–".to_string(),
    }
}

/// A date: vi "31/03/2021", en "2021-03-31".
pub fn date(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::Vi => format!("{:02}/{:02}/{}", d.day(), d.month(), d.year()),
        Lang::En => format!("{}-{:02}-{:02}", d.year(), d.month(), d.day()),
    }
}

/// A month: vi "03/2021", en "2021-03".
pub fn month(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::Vi => format!("{:02}/{}", d.month(), d.year()),
        Lang::En => format!("{}-{:02}", d.year(), d.month()),
    }
}

/// A date and time in Vietnam's local time: vi "31/03/2021 14:05", en "2021-03-31 14:05".
pub fn date_time(lang: Lang, t: chrono::DateTime<chrono::Utc>) -> String {
    let local = t.with_timezone(&crate::indicators::vietnam_offset());
    format!(
        "{} {:02}:{:02}",
        date(lang, local.date_naive()),
        local.hour(),
        local.minute()
    )
}

/// The time of day in Vietnam, the same in both languages: "14:03:21".
pub fn time_of_day(t: chrono::DateTime<chrono::Utc>) -> String {
    let local = t.with_timezone(&crate::indicators::vietnam_offset());
    format!(
        "{:02}:{:02}:{:02}",
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// A number for a CSV cell: a dot as decimal mark whatever the language, so that every
/// spreadsheet reads it as a number.
pub fn csv_decimal(value: Option<f64>, decimals: usize) -> String {
    value.map_or(String::new(), |v| format!("{v:.decimals$}"))
}

/// A CSV cell, quoted when it holds a separator, a quote or a line break.
pub fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A CSV document as spreadsheet programs open it correctly: UTF-8 with a byte-order mark,
/// CRLF line ends.
pub fn csv(rows: &[Vec<String>]) -> String {
    let mut out = String::from("\u{feff}");
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_use_the_language_decimal_mark() {
        assert_eq!(rate(Lang::Vi, Some(0.903_4)), "90,34%");
        assert_eq!(rate(Lang::En, Some(0.903_4)), "90.34%");
        assert_eq!(rate(Lang::En, None), "–");
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(Lang::Vi, 14_428), "14.428");
        assert_eq!(count(Lang::En, 854_654), "854,654");
        assert_eq!(count(Lang::En, 999), "999");
        assert_eq!(count(Lang::Vi, 0), "0");
        assert_eq!(count(Lang::Vi, 1_000_000), "1.000.000");
    }

    #[test]
    fn dates_follow_the_language() {
        let d: NaiveDate = "2021-03-31".parse().unwrap();
        assert_eq!(date(Lang::Vi, d), "31/03/2021");
        assert_eq!(date(Lang::En, d), "2021-03-31");
    }

    #[test]
    fn months_and_times_follow_the_language() {
        let d: NaiveDate = "2021-03-31".parse().unwrap();
        assert_eq!(month(Lang::Vi, d), "03/2021");
        assert_eq!(month(Lang::En, d), "2021-03");
        // 17:30 UTC is 00:30 the next day in Vietnam.
        let t = chrono::DateTime::parse_from_rfc3339("2021-03-31T17:30:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(date_time(Lang::Vi, t), "01/04/2021 00:30");
        assert_eq!(date_time(Lang::En, t), "2021-04-01 00:30");
    }

    #[test]
    fn csv_has_a_bom_quotes_what_needs_it_and_uses_dot_decimals() {
        let doc = csv(&[
            vec!["Đơn vị".into(), "Tỷ lệ".into()],
            vec!["Huyện \"A\", B".into(), csv_decimal(Some(90.3412), 2)],
        ]);
        assert!(doc.starts_with('\u{feff}'));
        assert_eq!(
            doc.trim_start_matches('\u{feff}'),
            "Đơn vị,Tỷ lệ\r\n\"Huyện \"\"A\"\", B\",90.34\r\n"
        );
        assert_eq!(csv_decimal(None, 2), "");
    }

    #[test]
    fn plain_decimals_read_to_the_same_bits_as_the_standard_parser() {
        for text in [
            "95",
            "92.5",
            "0.1",
            "-0.25",
            "+7",
            "007.50",
            ".5",
            "5.",
            "0",
            "-0",
            "98.765",
            "123456789012345",
            "0.000000000000000000001",
            "999999999999999",
            "1.7976931348623",
            "92.500000000000000000000000",
            ".000",
            "-5.0",
        ] {
            let ours = parse_decimal(text).unwrap_or_else(|| panic!("{text} not read"));
            let std: f64 = text.parse().unwrap();
            assert_eq!(ours.to_bits(), std.to_bits(), "{text}");
        }
        // Many decimals of a few digits each, as limits are written.
        for n in 0..200_000u32 {
            for text in [
                format!("{}.{:02}", n / 100, n % 100),
                format!("{}.{}", n % 1000, n),
            ] {
                let std: f64 = text.parse().unwrap();
                assert_eq!(
                    parse_decimal(&text).map(f64::to_bits),
                    Some(std.to_bits()),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn what_is_not_a_plain_decimal_reads_as_nothing() {
        for text in [
            "",
            "-",
            ".",
            "+.",
            "9x",
            "1e3",
            "inf",
            "NaN",
            "1.2.3",
            " 5",
            "5 ",
            "١",
            "1,5",
            "1234567890123456",
            "0.00000000000000000000001",
        ] {
            assert_eq!(parse_decimal(text), None, "{text}");
        }
    }

    #[test]
    fn rate_changes_are_signed_points() {
        assert_eq!(rate_change(Lang::Vi, Some(0.012)), "+1,20");
        assert_eq!(rate_change(Lang::En, Some(-0.0035)), "−0.35");
    }
}
