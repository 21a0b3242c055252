//! Which unit names the map shows: better-ranked units first, none overlapping a label kept.
use super::shapes::DrawnUnit;

/// The short name shown on the map ("Huyện Bắc Trà My" → "Bắc Trà My").
pub(super) fn short_name(name: &str) -> &str {
    [
        "Thành phố ",
        "Thị xã ",
        "Thị trấn ",
        "Huyện ",
        "Quận ",
        "Phường ",
        "Xã ",
        "Tỉnh ",
    ]
    .iter()
    .find_map(|prefix| name.strip_prefix(prefix))
    .unwrap_or(name)
}

/// Which labels to show: better-ranked first, skipping any whose box would overlap one kept.
/// Kept boxes are bucketed in a grid so that layers of thousands of units stay fast.
pub fn visible_labels(units: &[DrawnUnit], font_px: f64) -> Vec<bool> {
    type Box2 = (f64, f64, f64, f64);
    let boxes: Vec<Box2> = units
        .iter()
        .map(|u| {
            let w = short_name(&u.name).chars().count() as f64 * font_px * 0.55;
            (
                u.label.0 - w / 2.0,
                u.label.1 - font_px / 2.0,
                u.label.0 + w / 2.0,
                u.label.1 + font_px / 2.0,
            )
        })
        .collect();
    if boxes.is_empty() {
        return Vec::new();
    }
    // A dense grid over the labels' extent (at most 128 cells a side, however small the font).
    let (x_min, y_min, x_max, y_max) = boxes.iter().fold(boxes[0], |(x0, y0, x1, y1), b| {
        (x0.min(b.0), y0.min(b.1), x1.max(b.2), y1.max(b.3))
    });
    let extent = (x_max - x_min).max(y_max - y_min);
    let cell = (font_px * 6.0).max(extent / 128.0).max(1e-6);
    let columns = ((x_max - x_min) / cell).floor() as usize + 1;
    let rows = ((y_max - y_min) / cell).floor() as usize + 1;
    let cells = move |b: &Box2| {
        let at = |v: f64, min: f64, count: usize| {
            (((v - min) / cell).floor().max(0.0) as usize).min(count - 1)
        };
        let (x0, y0) = (at(b.0, x_min, columns), at(b.1, y_min, rows));
        let (x1, y1) = (at(b.2, x_min, columns), at(b.3, y_min, rows));
        (x0..=x1).flat_map(move |x| (y0..=y1).map(move |y| y * columns + x))
    };
    let order = crate::order::stable_order(units.len(), &|a, b| {
        (units[a].rank.unwrap_or(u32::MAX), a).cmp(&(units[b].rank.unwrap_or(u32::MAX), b))
    });
    let mut shown = vec![false; units.len()];
    let mut grid: Vec<Vec<usize>> = vec![Vec::new(); columns * rows];
    for i in order {
        let b = boxes[i];
        let overlaps = cells(&b).any(|c| {
            grid[c].iter().any(|&k| {
                let k = boxes[k];
                !(b.2 < k.0 || k.2 < b.0 || b.3 < k.1 || k.3 < b.1)
            })
        });
        if !overlaps {
            for c in cells(&b) {
                grid[c].push(i);
            }
            shown[i] = true;
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_labels_keep_the_better_ranked_unit() {
        let unit = |name: &str, x: f64, rank: u32| DrawnUnit {
            code: name.into(),
            name: name.into(),
            path: String::new(),
            label: (x, 100.0),
            value: None,
            class: None,
            rank: Some(rank),
            received: 0,
            resolved: 0,
        };
        let units = [
            unit("Bắc Trà My", 100.0, 2),
            unit("Tam Kỳ", 110.0, 1),
            unit("Hội An", 400.0, 3),
        ];
        assert_eq!(visible_labels(&units, 11.0), [false, true, true]);
    }

    #[test]
    fn short_names_drop_the_kind_of_unit() {
        assert_eq!(short_name("Thành phố Tam Kỳ"), "Tam Kỳ");
    }

    #[test]
    fn labels_of_many_units_never_overlap() {
        let units: Vec<DrawnUnit> = (0..2_000)
            .map(|i| DrawnUnit {
                code: i.to_string(),
                name: format!("Xã {i}"),
                path: String::new(),
                label: (f64::from(i % 50) * 13.0, f64::from(i / 50) * 13.0),
                value: None,
                class: None,
                rank: None,
                received: 0,
                resolved: 0,
            })
            .collect();
        let shown = visible_labels(&units, 11.0);
        let kept: Vec<&DrawnUnit> = units
            .iter()
            .zip(&shown)
            .filter(|(_, s)| **s)
            .map(|(u, _)| u)
            .collect();
        assert!(!kept.is_empty() && kept.len() < units.len());
        for (i, a) in kept.iter().enumerate() {
            for b in &kept[i + 1..] {
                let wa = short_name(&a.name).chars().count() as f64 * 11.0 * 0.55;
                let wb = short_name(&b.name).chars().count() as f64 * 11.0 * 0.55;
                let apart_x = (a.label.0 - b.label.0).abs() > (wa + wb) / 2.0;
                let apart_y = (a.label.1 - b.label.1).abs() > 11.0;
                assert!(apart_x || apart_y, "{} and {} overlap", a.code, b.code);
            }
        }
        // Zoomed in (smaller font in map units), more labels fit.
        let zoomed = visible_labels(&units, 11.0 / 4.0)
            .iter()
            .filter(|s| **s)
            .count();
        assert!(zoomed > kept.len());
    }
}
