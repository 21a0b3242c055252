//! Numbers and dates written the way each language expects (vi: "90,34%", "31/03/2021").
use crate::i18n::Lang;
use chrono::NaiveDate;

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
        Lang::Vi => d.format("%d/%m/%Y").to_string(),
        Lang::En => d.format("%Y-%m-%d").to_string(),
    }
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
    fn rate_changes_are_signed_points() {
        assert_eq!(rate_change(Lang::Vi, Some(0.012)), "+1,20");
        assert_eq!(rate_change(Lang::En, Some(-0.0035)), "−0.35");
    }
}
