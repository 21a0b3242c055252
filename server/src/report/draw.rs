//! The report's drawing: pages laid out first as lists of shapes and text (so a section can
//! flow onto the next page), then written as PDF by krilla with DejaVu Sans embedded (subset),
//! whose glyphs cover every Vietnamese letter with its diacritics.
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke, StrokeDash};
use krilla::text::{Font, TextDirection};
use std::sync::OnceLock;

/// A4 portrait, in points.
pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;
pub const MARGIN: f32 = 40.0;
/// Where the footer starts: content stays above it.
pub const CONTENT_BOTTOM: f32 = PAGE_HEIGHT - 52.0;

pub const INK: &str = "#1f2933";
pub const MUTED: &str = "#616e7c";
pub const RULE: &str = "#cbd2d9";
pub const ALERT: &str = "#c62828";
pub const NO_DATA: &str = "#e4e7eb";

/// The two weights of DejaVu Sans: krilla's fonts to draw with, and rustybuzz faces to measure
/// text with the same shaping krilla applies (so right-aligned numbers and shortened names fit).
pub struct Fonts {
    regular: Font,
    bold: Font,
    regular_face: rustybuzz::Face<'static>,
    bold_face: rustybuzz::Face<'static>,
}

/// The fonts, parsed once per process (they are compiled into the binary).
pub fn fonts() -> Option<&'static Fonts> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let (regular, bold) = (dejavu::sans::regular(), dejavu::sans::bold());
            Some(Fonts {
                regular: Font::new(regular.into(), 0)?,
                bold: Font::new(bold.into(), 0)?,
                regular_face: rustybuzz::Face::from_slice(regular, 0)?,
                bold_face: rustybuzz::Face::from_slice(bold, 0)?,
            })
        })
        .as_ref()
}

impl Fonts {
    /// The width of `text` set at `size` points.
    pub fn width(&self, bold: bool, size: f32, text: &str) -> f32 {
        let face = if bold {
            &self.bold_face
        } else {
            &self.regular_face
        };
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        let glyphs = rustybuzz::shape(face, &[], buffer);
        let units: i64 = glyphs
            .glyph_positions()
            .iter()
            .map(|p| i64::from(p.x_advance))
            .sum();
        units as f32 * size / f32::from(face.units_per_em() as u16)
    }

    /// `text`, shortened with "…" to fit `width`. Names come from ingested events and may be
    /// long: the text is first cut to what could ever fit a page line, then the cut point is
    /// found by bisection (a few shapings, not one per character).
    pub fn fit(&self, bold: bool, size: f32, text: &str, width: f32) -> String {
        /// More characters than fit the widest line at the smallest size used.
        const MOST: usize = 300;
        let chars: Vec<char> = text.chars().take(MOST + 1).collect();
        if chars.len() <= MOST && self.width(bold, size, text) <= width {
            return text.to_string();
        }
        let shortened = |n: usize| -> String {
            let kept: String = chars[..n].iter().collect();
            format!("{}…", kept.trim_end())
        };
        // The longest prefix (of at most MOST characters) that fits with the ellipsis.
        let (mut fits, mut fails) = (0usize, chars.len().min(MOST) + 1);
        while fails - fits > 1 {
            let middle = (fits + fails) / 2;
            if self.width(bold, size, &shortened(middle)) <= width {
                fits = middle;
            } else {
                fails = middle;
            }
        }
        shortened(fits)
    }
}

/// Where a text's x coordinate is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Align {
    Left,
    Right,
    Centre,
}

/// One thing drawn on a page; coordinates in points from the page's top left, y downwards.
#[derive(Clone, Debug)]
pub enum Shape {
    Text {
        x: f32,
        /// The baseline.
        y: f32,
        size: f32,
        bold: bool,
        colour: &'static str,
        align: Align,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
    },
    Line {
        points: Vec<(f32, f32)>,
        colour: &'static str,
        width: f32,
        dashed: bool,
    },
    /// Rings filled together (even-odd, so holes stay open) and outlined.
    Polygon {
        rings: Vec<Vec<(f32, f32)>>,
        fill: &'static str,
        stroke: &'static str,
    },
}

/// Pages being laid out, with a cursor that moves down the current one.
pub struct Layout {
    pub fonts: &'static Fonts,
    pub pages: Vec<Vec<Shape>>,
    /// The next free line's top on the current page.
    pub y: f32,
}

impl Layout {
    pub fn new(fonts: &'static Fonts) -> Layout {
        Layout {
            fonts,
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Starts a new page unless `height` still fits on this one.
    pub fn ensure(&mut self, height: f32) {
        if self.y + height > CONTENT_BOTTOM && self.y > MARGIN {
            self.new_page();
        }
    }

    pub fn push(&mut self, shape: Shape) {
        if let Some(page) = self.pages.last_mut() {
            page.push(shape);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        colour: &'static str,
        align: Align,
        text: impl Into<String>,
    ) {
        self.push(Shape::Text {
            x,
            y,
            size,
            bold,
            colour,
            align,
            text: text.into(),
        });
    }

    /// A line of text at the cursor, which then moves below it.
    pub fn line(&mut self, size: f32, bold: bool, colour: &'static str, text: impl Into<String>) {
        self.ensure(size * 1.5);
        let baseline = self.y + size;
        self.text(MARGIN, baseline, size, bold, colour, Align::Left, text);
        self.y += size * 1.5;
    }

    /// Text at the cursor, wrapped at word breaks to the content width.
    pub fn paragraph(&mut self, size: f32, colour: &'static str, text: &str) {
        let width = PAGE_WIDTH - 2.0 * MARGIN;
        let mut line = String::new();
        for word in text.split_whitespace() {
            let longer = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && self.fonts.width(false, size, &longer) > width {
                let full = std::mem::replace(&mut line, word.to_string());
                self.line(size, false, colour, full);
            } else {
                line = longer;
            }
        }
        if !line.is_empty() {
            let last = self.fonts.fit(false, size, &line, width);
            self.line(size, false, colour, last);
        }
    }

    /// A section heading, kept on the page with `following` points of what comes under it.
    pub fn heading(&mut self, text: impl Into<String>, following: f32) {
        self.y += 8.0;
        self.ensure(22.0 + following);
        self.line(12.0, true, INK, text);
        self.rule();
    }

    /// A thin rule across the content width at the cursor.
    pub fn rule(&mut self) {
        let y = self.y - 2.0;
        self.push(Shape::Line {
            points: vec![(MARGIN, y), (PAGE_WIDTH - MARGIN, y)],
            colour: RULE,
            width: 0.5,
            dashed: false,
        });
        self.y += 2.0;
    }
}

fn colour(hex: &str) -> rgb::Color {
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|c| u8::from_str_radix(c, 16).ok())
            .unwrap_or(0)
    };
    rgb::Color::new(channel(1), channel(3), channel(5))
}

fn fill(hex: &str, rule: FillRule) -> Fill {
    Fill {
        paint: colour(hex).into(),
        opacity: NormalizedF32::ONE,
        rule,
    }
}

/// Writes the laid-out pages as a PDF, each with `footer(page, pages)` at its foot.
pub fn render(
    layout: Layout,
    title: &str,
    language: &str,
    footer: &dyn Fn(usize, usize) -> String,
) -> Result<Vec<u8>, String> {
    let fonts = layout.fonts;
    let mut document = krilla::Document::new();
    document.set_metadata(
        krilla::metadata::Metadata::new()
            .title(title.to_string())
            .language(language.to_string())
            .creator(crate::report::CREATOR.to_string()),
    );
    let count = layout.pages.len();
    let settings =
        PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or("the page size is not valid")?;
    for (index, mut shapes) in layout.pages.into_iter().enumerate() {
        shapes.push(Shape::Line {
            points: vec![
                (MARGIN, PAGE_HEIGHT - 40.0),
                (PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 40.0),
            ],
            colour: RULE,
            width: 0.5,
            dashed: false,
        });
        shapes.push(Shape::Text {
            x: MARGIN,
            y: PAGE_HEIGHT - 28.0,
            size: 7.5,
            bold: false,
            colour: MUTED,
            align: Align::Left,
            text: footer(index + 1, count),
        });
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        for shape in shapes {
            draw(&mut surface, fonts, shape);
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| format!("the PDF could not be written: {e:?}"))
}

fn draw(surface: &mut krilla::surface::Surface<'_>, fonts: &Fonts, shape: Shape) {
    match shape {
        Shape::Text {
            x,
            y,
            size,
            bold,
            colour: c,
            align,
            text,
        } => {
            let width = fonts.width(bold, size, &text);
            let x = match align {
                Align::Left => x,
                Align::Right => x - width,
                Align::Centre => x - width / 2.0,
            };
            let font = if bold { &fonts.bold } else { &fonts.regular };
            surface.set_stroke(None);
            surface.set_fill(Some(fill(c, FillRule::NonZero)));
            surface.draw_text(
                Point::from_xy(x, y),
                font.clone(),
                size,
                &text,
                false,
                TextDirection::Auto,
            );
        }
        Shape::Rect {
            x,
            y,
            w,
            h,
            fill: f,
            stroke,
        } => {
            let Some(rect) = Rect::from_xywh(x, y, w.max(0.01), h.max(0.01)) else {
                return;
            };
            let mut builder = PathBuilder::new();
            builder.push_rect(rect);
            let Some(path) = builder.finish() else {
                return;
            };
            surface.set_fill(f.map(|f| fill(f, FillRule::NonZero)));
            surface.set_stroke(stroke.map(|s| Stroke {
                paint: colour(s).into(),
                width: 0.5,
                ..Stroke::default()
            }));
            surface.draw_path(&path);
        }
        Shape::Line {
            points,
            colour: c,
            width,
            dashed,
        } => {
            let mut builder = PathBuilder::new();
            for (i, (x, y)) in points.into_iter().enumerate() {
                if i == 0 {
                    builder.move_to(x, y);
                } else {
                    builder.line_to(x, y);
                }
            }
            let Some(path) = builder.finish() else {
                return;
            };
            surface.set_fill(None);
            surface.set_stroke(Some(Stroke {
                paint: colour(c).into(),
                width,
                dash: dashed.then(|| StrokeDash {
                    array: vec![3.0, 2.0],
                    offset: 0.0,
                }),
                ..Stroke::default()
            }));
            surface.draw_path(&path);
        }
        Shape::Polygon {
            rings,
            fill: f,
            stroke,
        } => {
            let mut builder = PathBuilder::new();
            for ring in rings.into_iter().filter(|r| r.len() >= 3) {
                for (i, (x, y)) in ring.into_iter().enumerate() {
                    if i == 0 {
                        builder.move_to(x, y);
                    } else {
                        builder.line_to(x, y);
                    }
                }
                builder.close();
            }
            let Some(path) = builder.finish() else {
                return;
            };
            surface.set_fill(Some(fill(f, FillRule::EvenOdd)));
            surface.set_stroke(Some(Stroke {
                paint: colour(stroke).into(),
                width: 0.3,
                ..Stroke::default()
            }));
            surface.draw_path(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_too_long_for_its_column_is_shortened_to_fit_even_when_it_is_enormous() {
        let fonts = fonts().expect("the embedded fonts read");
        let name = "Cấp giấy chứng nhận quyền sử dụng đất ".repeat(3_000);
        let fitted = fonts.fit(false, 7.5, &name, 200.0);
        assert!(fitted.ends_with('…') && fitted.starts_with("Cấp giấy"));
        assert!(fonts.width(false, 7.5, &fitted) <= 200.0);
        assert_eq!(fonts.fit(false, 7.5, "Đất đai", 200.0), "Đất đai");
    }
}
