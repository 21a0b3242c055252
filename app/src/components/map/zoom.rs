//! The map's zoom and pan: scale and offset, kept so that the map always covers its box.
use super::{HEIGHT, WIDTH};

/// Zoom and pan of the map: SVG coordinates are `map * scale + offset`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub scale: f64,
    pub offset: (f64, f64),
}

impl Default for View {
    fn default() -> Self {
        View {
            scale: 1.0,
            offset: (0.0, 0.0),
        }
    }
}

impl View {
    pub const MAX_SCALE: f64 = 24.0;

    /// Zooms by `factor` keeping the point `at` (SVG coordinates) where it is.
    pub fn zoomed(self, factor: f64, at: (f64, f64)) -> View {
        let scale = (self.scale * factor).clamp(1.0, Self::MAX_SCALE);
        let k = scale / self.scale;
        View {
            scale,
            offset: (
                at.0 - (at.0 - self.offset.0) * k,
                at.1 - (at.1 - self.offset.1) * k,
            ),
        }
        .clamped()
    }

    pub fn panned(self, by: (f64, f64)) -> View {
        View {
            offset: (self.offset.0 + by.0, self.offset.1 + by.1),
            ..self
        }
        .clamped()
    }

    /// Keeps the map covering the box: it cannot be dragged out of sight.
    fn clamped(self) -> View {
        let lo = (WIDTH * (1.0 - self.scale), HEIGHT * (1.0 - self.scale));
        View {
            offset: (
                self.offset.0.clamp(lo.0, 0.0),
                self.offset.1.clamp(lo.1, 0.0),
            ),
            ..self
        }
    }

    pub fn apply(&self, p: (f64, f64)) -> (f64, f64) {
        (
            p.0 * self.scale + self.offset.0,
            p.1 * self.scale + self.offset.1,
        )
    }

    pub fn transform(&self) -> String {
        format!(
            "translate({:.2} {:.2}) scale({:.4})",
            self.offset.0, self.offset.1, self.scale
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_point_under_the_pointer_and_the_map_in_the_box() {
        let at = (200.0, 100.0);
        let v = View::default().zoomed(2.0, at);
        assert_eq!(v.scale, 2.0);
        let back = ((at.0 - v.offset.0) / v.scale, (at.1 - v.offset.1) / v.scale);
        assert!((back.0 - at.0).abs() < 1e-9 && (back.1 - at.1).abs() < 1e-9);
        // Never smaller than the whole map, never larger than the limit.
        assert_eq!(View::default().zoomed(0.1, at), View::default());
        assert_eq!(v.zoomed(1000.0, at).scale, View::MAX_SCALE);
        // Panning stops at the edges.
        let far = v.panned((1e6, 1e6));
        assert_eq!(far.offset, (0.0, 0.0));
        let other_way = v.panned((-1e6, -1e6));
        assert_eq!(other_way.offset, (-WIDTH, -HEIGHT));
    }
}
