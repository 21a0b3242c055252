//! Choropleth classes: fixed thresholds, quantiles or natural breaks, and the colour of each class.
use crate::model::Indicator;

/// How a map's values are cut into classes.
#[derive(Clone, Debug, PartialEq)]
pub enum Method {
    /// Upper-exclusive class limits, ascending: `[0.90, 0.95]` gives `< 90%`, `90–95%`, `≥ 95%`.
    Thresholds(Vec<f64>),
    /// Classes holding (nearly) the same number of units.
    Quantiles(u8),
    /// Jenks natural breaks: classes that keep similar values together.
    NaturalBreaks(u8),
}

impl Method {
    /// Around the 95% action threshold provinces use for on-time rates.
    pub fn default_thresholds() -> Method {
        Method::thresholds_for(Indicator::OnTimeRate)
    }

    /// Fixed thresholds that suit `indicator`'s range (on-time rates: around the 95% threshold).
    pub fn thresholds_for(indicator: Indicator) -> Method {
        Method::Thresholds(match indicator {
            Indicator::OnTimeRate => vec![0.85, 0.90, 0.95, 0.98],
            Indicator::LateRateInclPending => vec![0.02, 0.05, 0.10, 0.15],
            Indicator::OnlineRate | Indicator::OnlinePaymentRate => vec![0.25, 0.50, 0.75, 0.90],
            Indicator::AvgDays => vec![2.0, 5.0, 10.0, 15.0],
        })
    }

    /// The method a URL names: `thresholds` (with `limits`, in percent for rates and days for
    /// `avg_days`; the indicator's defaults without), `quantiles` or `jenks`, five classes.
    pub fn from_url(
        name: Option<&str>,
        limits: Option<&str>,
        indicator: Indicator,
    ) -> Result<Method, String> {
        match name.unwrap_or("thresholds") {
            "thresholds" => match limits.filter(|l| !l.trim().is_empty()) {
                None => Ok(Method::thresholds_for(indicator)),
                Some(list) => {
                    let scale = if indicator.is_rate() { 100.0 } else { 1.0 };
                    let limits = list
                        .split(',')
                        .map(|v| {
                            crate::format::parse_decimal(v.trim())
                                .map(|v| v / scale)
                                .ok_or_else(|| {
                                    format!("limits: '{v}' is not a plain decimal such as 95 or 92.5 (no exponent, at most 15 digits)")
                                })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    if limits.len() > 6 {
                        return Err("limits: at most 6 (7 classes)".into());
                    }
                    Ok(Method::Thresholds(limits))
                }
            },
            "quantiles" => Ok(Method::Quantiles(5)),
            "jenks" => Ok(Method::NaturalBreaks(5)),
            other => Err(format!(
                "classes: '{other}' is not a classification (thresholds, quantiles or jenks)"
            )),
        }
    }

    /// The URL name of the method.
    pub fn url_name(&self) -> &'static str {
        match self {
            Method::Thresholds(_) => "thresholds",
            Method::Quantiles(_) => "quantiles",
            Method::NaturalBreaks(_) => "jenks",
        }
    }
}

/// Class limits: a value `v` is in the first class whose limit is greater than `v`, or the last.
#[derive(Clone, Debug, PartialEq)]
pub struct Classes {
    pub limits: Vec<f64>,
}

impl Classes {
    pub fn count(&self) -> usize {
        self.limits.len() + 1
    }

    /// The class of a value; `None` (no data) has no class.
    pub fn class_of(&self, value: Option<f64>) -> Option<usize> {
        let v = value.filter(|v| v.is_finite())?;
        Some(self.limits.iter().take_while(|limit| v >= **limit).count())
    }

    /// How many of `values` fall in each class (the legend's counts).
    pub fn histogram(&self, values: &[Option<f64>]) -> Vec<u32> {
        let mut counts = vec![0u32; self.count()];
        for class in values.iter().filter_map(|v| self.class_of(*v)) {
            counts[class] += 1;
        }
        counts
    }
}

/// Cuts the values (units without data left out) into classes by `method`.
pub fn classify(values: &[Option<f64>], method: &Method) -> Classes {
    let mut sorted: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    sorted.sort_by(f64::total_cmp);
    let limits = match method {
        Method::Thresholds(limits) => {
            let mut limits = limits.clone();
            limits.sort_by(f64::total_cmp);
            limits.dedup();
            limits
        }
        Method::Quantiles(k) => quantile_limits(&sorted, usize::from(*k)),
        Method::NaturalBreaks(k) => jenks_limits(&sorted, usize::from(*k)),
    };
    Classes { limits }
}

fn quantile_limits(sorted: &[f64], k: usize) -> Vec<f64> {
    let n = sorted.len();
    if n == 0 || k < 2 {
        return Vec::new();
    }
    let mut limits = Vec::with_capacity(k - 1);
    let mut floor = sorted[0];
    for i in 1..k {
        // Ties: move up to the next larger value, so no class is empty and no limit repeats.
        let mut at = i * n / k;
        while at < n && sorted[at] <= floor {
            at += 1;
        }
        if at == n {
            break;
        }
        floor = sorted[at];
        limits.push(floor);
    }
    limits
}

/// Largest input the exact algorithm (quadratic) runs on; larger inputs are sampled evenly.
const JENKS_MAX_VALUES: usize = 1_000;

fn jenks_limits(sorted: &[f64], k: usize) -> Vec<f64> {
    let sample: Vec<f64> = if sorted.len() > JENKS_MAX_VALUES {
        (0..JENKS_MAX_VALUES)
            .map(|i| sorted[i * (sorted.len() - 1) / (JENKS_MAX_VALUES - 1)])
            .collect()
    } else {
        sorted.to_vec()
    };
    let n = sample.len();
    let k = k.min(n);
    if k < 2 {
        return Vec::new();
    }
    // Prefix sums make each candidate class's squared deviation O(1).
    let mut sum = vec![0.0; n + 1];
    let mut sum_sq = vec![0.0; n + 1];
    for (i, v) in sample.iter().enumerate() {
        sum[i + 1] = sum[i] + v;
        sum_sq[i + 1] = sum_sq[i] + v * v;
    }
    let deviation = |from: usize, to: usize| {
        // Values from..to (exclusive).
        let count = (to - from) as f64;
        let s = sum[to] - sum[from];
        (sum_sq[to] - sum_sq[from]) - s * s / count
    };
    // cost[c][i]: best total deviation of the first i values in c + 1 classes; start[c][i]: where
    // the last of those classes begins.
    let mut cost = vec![vec![f64::INFINITY; n + 1]; k];
    let mut start = vec![vec![0usize; n + 1]; k];
    for (i, slot) in cost[0].iter_mut().enumerate().skip(1) {
        *slot = deviation(0, i);
    }
    for c in 1..k {
        for i in (c + 1)..=n {
            for j in c..i {
                let candidate = cost[c - 1][j] + deviation(j, i);
                if candidate < cost[c][i] {
                    cost[c][i] = candidate;
                    start[c][i] = j;
                }
            }
        }
    }
    let mut limits = Vec::with_capacity(k - 1);
    let mut end = n;
    for c in (1..k).rev() {
        let j = start[c][end];
        limits.push(sample[j]);
        end = j;
    }
    limits.reverse();
    limits.dedup();
    limits
}

/// ColorBrewer's RdYlBu (colour-blind safe), from the worst class to the best, for 2 to 7 classes.
const PALETTES: [&[&str]; 6] = [
    &["#fc8d59", "#91bfdb"],
    &["#fc8d59", "#ffffbf", "#91bfdb"],
    &["#d7191c", "#fdae61", "#abd9e9", "#2c7bb6"],
    &["#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6"],
    &[
        "#d73027", "#fc8d59", "#fee090", "#e0f3f8", "#91bfdb", "#4575b4",
    ],
    &[
        "#d73027", "#fc8d59", "#fee090", "#ffffbf", "#e0f3f8", "#91bfdb", "#4575b4",
    ],
];

/// The fill of each of `count` classes (at most 7; one class is drawn in the middle colour).
pub fn palette(count: usize) -> Vec<&'static str> {
    match count {
        0 => Vec::new(),
        1 => vec!["#ffffbf"],
        n => PALETTES[n.min(7) - 2].to_vec(),
    }
}

/// [`palette`] oriented for `indicator`: red always marks the worse end.
pub fn palette_for(count: usize, indicator: Indicator) -> Vec<&'static str> {
    let mut colours = palette(count);
    if !indicator.higher_is_better() {
        colours.reverse();
    }
    colours
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(values: &[f64]) -> Vec<Option<f64>> {
        values.iter().map(|v| Some(*v)).collect()
    }

    #[test]
    fn thresholds_put_a_limit_value_in_the_upper_class() {
        let classes = classify(&[], &Method::Thresholds(vec![0.95, 0.90]));
        assert_eq!(classes.limits, [0.90, 0.95]);
        assert_eq!(classes.class_of(Some(0.8934)), Some(0));
        assert_eq!(classes.class_of(Some(0.90)), Some(1));
        assert_eq!(classes.class_of(Some(0.95)), Some(2));
        assert_eq!(classes.class_of(Some(1.0)), Some(2));
        assert_eq!(classes.class_of(None), None);
        assert_eq!(classes.class_of(Some(f64::NAN)), None);
    }

    #[test]
    fn quantiles_split_units_evenly() {
        let values = some(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        let classes = classify(&values, &Method::Quantiles(4));
        assert_eq!(classes.limits, [3.0, 5.0, 7.0]);
        assert_eq!(classes.histogram(&values), [2, 2, 2, 2]);
        // Ties never produce an empty class or a repeated limit.
        let tied = some(&[1.0, 1.0, 1.0, 1.0, 2.0]);
        assert_eq!(classify(&tied, &Method::Quantiles(4)).limits, [2.0]);
        assert_eq!(
            classify(&[None, None], &Method::Quantiles(4)).limits,
            Vec::<f64>::new()
        );
    }

    #[test]
    fn natural_breaks_find_the_gaps() {
        let values = some(&[0.70, 0.71, 0.72, 0.88, 0.89, 0.90, 0.97, 0.98, 0.99]);
        let classes = classify(&values, &Method::NaturalBreaks(3));
        assert_eq!(classes.limits, [0.88, 0.97]);
        assert_eq!(classes.histogram(&values), [3, 3, 3]);
        // No more classes than distinct values.
        assert_eq!(
            classify(&some(&[0.5]), &Method::NaturalBreaks(5)).limits,
            Vec::<f64>::new()
        );
    }

    #[test]
    fn natural_breaks_on_many_values_stay_sorted_and_within_range() {
        let values: Vec<Option<f64>> = (0..5_000)
            .map(|i| Some(((i * 7919) % 5_000) as f64 / 5_000.0))
            .collect();
        let limits = classify(&values, &Method::NaturalBreaks(5)).limits;
        assert_eq!(limits.len(), 4);
        assert!(limits.windows(2).all(|w| w[0] < w[1]), "{limits:?}");
        assert!(limits.iter().all(|l| (0.0..1.0).contains(l)));
    }

    #[test]
    fn palettes_have_one_colour_per_class() {
        for n in 0..=7 {
            assert_eq!(palette(n).len(), n);
        }
        assert_eq!(palette(9).len(), 7);
    }

    #[test]
    fn urls_name_the_method_and_limits_read_in_the_indicator_unit() {
        let on_time = Indicator::OnTimeRate;
        assert_eq!(
            Method::from_url(None, None, on_time),
            Ok(Method::default_thresholds())
        );
        assert_eq!(
            Method::from_url(Some("thresholds"), Some("90, 95"), on_time),
            Ok(Method::Thresholds(vec![0.90, 0.95]))
        );
        assert_eq!(
            Method::from_url(Some("thresholds"), Some("5,10"), Indicator::AvgDays),
            Ok(Method::Thresholds(vec![5.0, 10.0]))
        );
        assert_eq!(
            Method::from_url(Some("jenks"), None, on_time),
            Ok(Method::NaturalBreaks(5))
        );
        assert!(Method::from_url(Some("quantiles"), None, on_time)
            .is_ok_and(|m| m.url_name() == "quantiles"));
        assert!(Method::from_url(Some("thresholds"), Some("9x"), on_time)
            .unwrap_err()
            .starts_with("limits"));
        assert!(Method::from_url(Some("equal"), None, on_time)
            .unwrap_err()
            .starts_with("classes"));
        // Lower is better for late rates: red goes to the high end.
        assert_eq!(
            palette_for(3, Indicator::LateRateInclPending)[2],
            palette(3)[0]
        );
    }
}
