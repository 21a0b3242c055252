//! Exact integer shares: totals split by weights so the parts add up to the total, to the unit.
use super::rng::Rng;

/// Splits `total` in proportion to `weights` (largest-remainder method). Zero weights get 0.
pub fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().filter(|w| **w > 0.0).sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if sum <= 0.0 {
        let mut out = vec![0; weights.len()];
        out[0] = total;
        return out;
    }
    let quotas: Vec<f64> = weights
        .iter()
        .map(|w| {
            if *w > 0.0 {
                total as f64 * w / sum
            } else {
                0.0
            }
        })
        .collect();
    let mut out: Vec<u64> = quotas.iter().map(|q| q.floor() as u64).collect();
    let assigned: u64 = out.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).filter(|&i| weights[i] > 0.0).collect();
    order.sort_by(|&a, &b| {
        let ra = quotas[a] - quotas[a].floor();
        let rb = quotas[b] - quotas[b].floor();
        rb.partial_cmp(&ra)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    for &i in order
        .iter()
        .cycle()
        .take(total.saturating_sub(assigned) as usize)
    {
        out[i] += 1;
    }
    out
}

/// Picks exactly `k` of `n` items, item i with weight `weight(i)` (weighted sampling without
/// replacement, Efraimidis–Spirakis). Returns a mask.
pub fn choose_weighted(
    n: usize,
    k: usize,
    rng: &mut Rng,
    weight: impl Fn(usize) -> f64,
) -> Vec<bool> {
    let k = k.min(n);
    let mut keys: Vec<(f64, usize)> = (0..n)
        .map(|i| {
            let w = weight(i).max(1e-9);
            let u = rng.unit().max(1e-300);
            (u.ln() / w, i)
        })
        .collect();
    // Largest keys win: ln(u)/w is closest to 0 for heavy items.
    keys.select_nth_unstable_by(k.saturating_sub(1).min(n.saturating_sub(1)), |a, b| {
        b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut mask = vec![false; n];
    for &(_, i) in keys.iter().take(k) {
        mask[i] = true;
    }
    mask
}

/// The resolved count that makes `on_time / resolved` round to `rate` at 4 decimals (2 in percent).
pub fn resolved_for_rate(on_time: u64, rate: f64) -> Option<u64> {
    let centre = (on_time as f64 / rate).round() as i64;
    (centre - 5..=centre + 5)
        .filter(|r| *r >= on_time as i64 && *r > 0)
        .map(|r| r as u64)
        .find(|r| ((on_time as f64 / *r as f64) * 10_000.0).round() == (rate * 10_000.0).round())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportioned_parts_add_up_exactly() {
        let parts = apportion(854_654, &[0.22, 0.54, 0.24]);
        assert_eq!(parts.iter().sum::<u64>(), 854_654);
        let parts = apportion(7, &[1.0, 1.0, 1.0]);
        assert_eq!(parts.iter().sum::<u64>(), 7);
        assert!(parts.iter().all(|p| *p == 2 || *p == 3));
        assert_eq!(apportion(5, &[0.0, 2.0]), vec![0, 5]);
    }

    #[test]
    fn weighted_choice_picks_exactly_k_and_favours_heavy_items() {
        let mut rng = Rng::new(1);
        let mask = choose_weighted(1000, 100, &mut rng, |i| if i < 100 { 50.0 } else { 1.0 });
        assert_eq!(mask.iter().filter(|m| **m).count(), 100);
        assert!(mask[..100].iter().filter(|m| **m).count() > 60);
    }

    #[test]
    fn the_resolved_count_reproduces_the_published_rates() {
        let r = resolved_for_rate(12_903, 0.9034).unwrap();
        assert_eq!(format!("{:.2}", 12_903.0 / r as f64 * 100.0), "90.34");
        let r = resolved_for_rate(29_278, 0.8879).unwrap();
        assert_eq!(format!("{:.2}", 29_278.0 / r as f64 * 100.0), "88.79");
    }
}
