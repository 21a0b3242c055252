//! Map projection: longitude/latitude to SVG coordinates fitted to a viewport, and SVG path text.

/// An equirectangular projection scaled by the cosine of the layer's middle latitude, which keeps
/// shapes true enough at a province's scale, fitted into a `width × height` box with a margin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Projection {
    scale: f64,
    x_stretch: f64,
    min_lon: f64,
    max_lat: f64,
    offset_x: f64,
    offset_y: f64,
}

/// A bounding box in longitude/latitude.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl Bounds {
    /// The box around every point, or `None` without points.
    pub fn of(points: impl IntoIterator<Item = (f64, f64)>) -> Option<Bounds> {
        points
            .into_iter()
            .fold(None, |b: Option<Bounds>, (lon, lat)| {
                Some(match b {
                    None => Bounds {
                        min_lon: lon,
                        min_lat: lat,
                        max_lon: lon,
                        max_lat: lat,
                    },
                    Some(b) => Bounds {
                        min_lon: b.min_lon.min(lon),
                        min_lat: b.min_lat.min(lat),
                        max_lon: b.max_lon.max(lon),
                        max_lat: b.max_lat.max(lat),
                    },
                })
            })
    }
}

impl Projection {
    /// Fits `bounds` into the box, centred, leaving `margin` on every side.
    pub fn fit(bounds: Bounds, width: f64, height: f64, margin: f64) -> Projection {
        let middle_lat = (bounds.min_lat + bounds.max_lat) / 2.0;
        let x_stretch = cos_degrees(middle_lat);
        let span_x = ((bounds.max_lon - bounds.min_lon) * x_stretch).max(1e-9);
        let span_y = (bounds.max_lat - bounds.min_lat).max(1e-9);
        let scale = ((width - 2.0 * margin) / span_x).min((height - 2.0 * margin) / span_y);
        Projection {
            scale,
            x_stretch,
            min_lon: bounds.min_lon,
            max_lat: bounds.max_lat,
            offset_x: (width - span_x * scale) / 2.0,
            offset_y: (height - span_y * scale) / 2.0,
        }
    }

    /// SVG coordinates (y grows downwards) of a longitude/latitude.
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            self.offset_x + (lon - self.min_lon) * self.x_stretch * self.scale,
            self.offset_y + (self.max_lat - lat) * self.scale,
        )
    }
}

/// SVG path data for polygons given as rings of longitude/latitude; rings are closed with `Z`.
/// Coordinates are rounded to 0.1 px (enough on screen) and written as short as SVG allows: each
/// ring's first point absolute, then every step from the point before (`l`, repeated implicitly),
/// without leading zeros or separators a sign or second decimal point makes needless. The map's
/// paths are most of a page's HTML and travel to phones: this is about 40% shorter than absolute
/// `L` commands. Steps are taken between the rounded points, so rounding never accumulates.
pub fn path_data<'a>(
    projection: &Projection,
    rings: impl IntoIterator<Item = &'a [(f64, f64)]>,
) -> String {
    let mut out = PathWriter::default();
    for ring in rings {
        let mut previous: Option<(i64, i64)> = None;
        for (lon, lat) in ring {
            let (x, y) = projection.project(*lon, *lat);
            let point = ((x * 10.0).round() as i64, (y * 10.0).round() as i64);
            match previous {
                None => {
                    out.command('M');
                    out.number(point.0);
                    out.number(point.1);
                }
                // Points that land on the same tenth of a pixel add nothing.
                Some(p) if p == point => continue,
                Some(p) => {
                    if !out.stepping {
                        out.command('l');
                        out.stepping = true;
                    }
                    out.number(point.0 - p.0);
                    out.number(point.1 - p.1);
                }
            }
            previous = Some(point);
        }
        if previous.is_some() {
            out.command('Z');
        }
    }
    out.text
}

/// Writes path data numbers (in tenths) with only the separators SVG needs.
#[derive(Default)]
struct PathWriter {
    text: String,
    /// Whether the last thing written is a number, and whether it has a decimal point.
    after_number: Option<bool>,
    /// Whether the current subpath's pairs already continue an `l`.
    stepping: bool,
}

impl PathWriter {
    fn command(&mut self, c: char) {
        self.text.push(c);
        self.after_number = None;
        self.stepping = false;
    }

    fn number(&mut self, tenths: i64) {
        let (whole, tenth) = ((tenths / 10).unsigned_abs(), (tenths % 10).unsigned_abs());
        let starts_with_dot = whole == 0 && tenth != 0;
        match self.after_number {
            // A sign, or a second decimal point, ends the number before.
            Some(_) if tenths < 0 => {}
            Some(true) if starts_with_dot => {}
            Some(_) => self.text.push(' '),
            None => {}
        }
        if tenths < 0 {
            self.text.push('-');
        }
        if !starts_with_dot {
            self.text.push_str(&whole.to_string());
        }
        if tenth != 0 {
            self.text.push('.');
            self.text.push(char::from(b'0' + tenth as u8));
        }
        self.after_number = Some(tenth != 0);
    }
}

/// Centre of a tile in an "odd-r" hexagon grid (odd rows shifted right by half a tile), for
/// tiles of circumradius `size`.
pub fn hex_centre(col: i32, row: i32, size: f64) -> (f64, f64) {
    let width = 3f64.sqrt() * size;
    let x = width * (f64::from(col) + if row.rem_euclid(2) == 1 { 0.5 } else { 0.0 });
    let y = 1.5 * size * f64::from(row);
    (x + width / 2.0, y + size)
}

/// Cosine and sine of a pointy-top hexagon's corners (at −30°, 30°, 90°…) as constants: computing
/// them would bring libm's trigonometry into the WASM.
const HEX_CORNERS: [(f64, f64); 6] = [
    (HALF_SQRT_3, -0.5),
    (HALF_SQRT_3, 0.5),
    (0.0, 1.0),
    (-HALF_SQRT_3, 0.5),
    (-HALF_SQRT_3, -0.5),
    (0.0, -1.0),
];
const HALF_SQRT_3: f64 = 0.866_025_403_784_438_6;

/// SVG path of a pointy-top hexagon around a centre.
pub fn hex_path(centre: (f64, f64), size: f64) -> String {
    let mut out = String::new();
    for (i, (cos, sin)) in HEX_CORNERS.into_iter().enumerate() {
        let (x, y) = (centre.0 + size * cos, centre.1 + size * sin);
        out.push_str(&format!(
            "{}{:.1} {:.1}",
            if i == 0 { 'M' } else { 'L' },
            x,
            y
        ));
    }
    out.push('Z');
    out
}

/// The cosine of an angle in degrees. In the browser it is JavaScript's `Math.cos`: Rust's own
/// (libm, with its argument reduction tables) would add 8 KB to the WASM for this one call.
fn cos_degrees(degrees: f64) -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Math::cos(degrees.to_radians())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        degrees.to_radians().cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_an() -> Bounds {
        Bounds {
            min_lon: 105.5,
            min_lat: 10.4,
            max_lon: 106.8,
            max_lat: 11.05,
        }
    }

    #[test]
    fn the_bounds_fill_the_box_and_stay_centred() {
        let p = Projection::fit(long_an(), 800.0, 600.0, 10.0);
        let (x0, y0) = p.project(105.5, 11.05);
        let (x1, y1) = p.project(106.8, 10.4);
        // The limiting side touches the margins; the other is centred.
        assert!(
            (x0 - 10.0).abs() < 1e-9 && (x1 - 790.0).abs() < 1e-9,
            "{x0} {x1}"
        );
        assert!(((y0 + y1) / 2.0 - 300.0).abs() < 1e-9);
        assert!(y0 < y1, "north is up");
    }

    #[test]
    fn longitudes_shrink_by_the_cosine_of_the_latitude() {
        let square = Bounds {
            min_lon: 104.0,
            min_lat: 59.0,
            max_lon: 106.0,
            max_lat: 61.0,
        };
        let p = Projection::fit(square, 1000.0, 1000.0, 0.0);
        let (x0, y0) = p.project(104.0, 61.0);
        let (x1, y1) = p.project(106.0, 59.0);
        let ratio = (x1 - x0) / (y1 - y0);
        assert!((ratio - 60f64.to_radians().cos()).abs() < 1e-9, "{ratio}");
    }

    /// The degree square (0, 0)–(1, 1) drawn in a `size` × `size` box.
    fn unit_square(size: f64) -> Projection {
        let bounds = Bounds {
            min_lon: 0.0,
            min_lat: 0.0,
            max_lon: 1.0,
            max_lat: 1.0,
        };
        Projection::fit(bounds, size, size, 0.0)
    }

    #[test]
    fn path_data_rounds_and_skips_repeated_points() {
        let p = unit_square(100.0);
        let ring = [
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 0.0000001),
            (1.0, 1.0),
            (0.0, 0.0),
        ];
        assert_eq!(path_data(&p, [&ring[..]]), "M0 100l100 0 0-100-100 100Z");
        assert_eq!(
            path_data(&p, [&[][..], &ring[..1]]),
            "M0 100Z",
            "an empty ring writes nothing"
        );
    }

    /// The points a path's data draws, in tenths of a pixel: absolute `M`, relative `l` pairs
    /// (repeated implicitly), `Z`. Numbers are split the way SVG's grammar splits them.
    fn points_drawn(d: &str) -> Vec<(i64, i64)> {
        let mut tokens = Vec::new();
        let mut number = String::new();
        let flush = |number: &mut String, tokens: &mut Vec<String>| {
            if !number.is_empty() {
                tokens.push(std::mem::take(number));
            }
        };
        for c in d.chars() {
            match c {
                'M' | 'l' | 'Z' => {
                    flush(&mut number, &mut tokens);
                    tokens.push(c.to_string());
                }
                ' ' => flush(&mut number, &mut tokens),
                '-' => {
                    flush(&mut number, &mut tokens);
                    number.push(c);
                }
                '.' if number.contains('.') => {
                    flush(&mut number, &mut tokens);
                    number.push(c);
                }
                _ => number.push(c),
            }
        }
        flush(&mut number, &mut tokens);
        let tenths = |t: &str| (t.parse::<f64>().unwrap() * 10.0).round() as i64;
        let (mut points, mut at, mut relative, mut i) = (Vec::new(), (0, 0), false, 0);
        while i < tokens.len() {
            match tokens[i].as_str() {
                "M" => relative = false,
                "l" => relative = true,
                "Z" => {}
                _ => {
                    let (x, y) = (tenths(&tokens[i]), tenths(&tokens[i + 1]));
                    at = if relative {
                        (at.0 + x, at.1 + y)
                    } else {
                        (x, y)
                    };
                    points.push(at);
                    i += 1;
                }
            }
            i += 1;
        }
        points
    }

    #[test]
    fn path_data_draws_every_rounded_point_exactly_with_short_steps() {
        let p = unit_square(1000.0);
        // A fixed pseudo-random walk: steps of every sign and size, many below a pixel.
        let mut q = 7_i64;
        let mut next = || {
            q = (q * 48271) % 2_147_483_647;
            (q % 20_001 - 10_000) as f64 / 1e6
        };
        let mut at = (0.5, 0.5);
        let rings: Vec<Vec<(f64, f64)>> = (0..3)
            .map(|_| {
                (0..400)
                    .map(|_| {
                        at = (at.0 + next(), at.1 + next());
                        at
                    })
                    .collect()
            })
            .collect();
        let d = path_data(&p, rings.iter().map(|r| r.as_slice()));
        let mut expected = Vec::new();
        for ring in &rings {
            let mut last = None;
            for &(lon, lat) in ring {
                let (x, y) = p.project(lon, lat);
                let point = ((x * 10.0).round() as i64, (y * 10.0).round() as i64);
                if last != Some(point) {
                    expected.push(point);
                    last = Some(point);
                }
            }
        }
        assert_eq!(points_drawn(&d), expected);
        assert!(
            d.contains("-.") && d.contains(" ."),
            "short forms are used: {}",
            &d[..200]
        );
    }

    #[test]
    fn odd_rows_of_hexagons_are_shifted_by_half_a_tile() {
        let size = 10.0;
        let width = 3f64.sqrt() * size;
        let (a, b) = (hex_centre(0, 0, size), hex_centre(0, 1, size));
        assert!((b.0 - a.0 - width / 2.0).abs() < 1e-9);
        assert!((b.1 - a.1 - 15.0).abs() < 1e-9);
        assert!(hex_path((0.0, 0.0), size).starts_with("M8.7 -5.0"));
    }

    #[test]
    fn hexagon_corners_are_sixty_degrees_apart_on_the_circle() {
        for (i, (cos, sin)) in HEX_CORNERS.into_iter().enumerate() {
            let angle = (60.0 * i as f64 - 30.0).to_radians();
            assert!((cos - angle.cos()).abs() < 1e-15, "corner {i}: cos {cos}");
            assert!((sin - angle.sin()).abs() < 1e-15, "corner {i}: sin {sin}");
        }
        assert!((cos_degrees(60.0) - 0.5).abs() < 1e-15);
    }
}
