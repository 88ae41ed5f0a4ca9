//! The police-report export: an incident's fields, its attachments with their checksums and
//! the plan's reminders, as a PDF and as plain text. Text is laid out here (greedy word wrap,
//! measured with the embedded font) and drawn with krilla.

use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use varn_core::incident::ExportSection;

/// DejaVu Sans (see `assets/DejaVu-LICENSE.txt`): embedded so every export looks the same.
static REGULAR: &[u8] = include_bytes!("assets/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("assets/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 595.0; // A4 in points
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.5;
const LINE: f32 = 15.0;

/// Why the PDF could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the PDF could not be made: {0}")]
pub struct ExportError(pub String);

struct Measure<'a>(ttf_parser::Face<'a>);

impl Measure<'_> {
    fn width(&self, text: &str, size: f32) -> f32 {
        let upem = self.0.units_per_em() as f32;
        text.chars()
            .map(|c| {
                self.0
                    .glyph_index(c)
                    .and_then(|g| self.0.glyph_hor_advance(g))
                    .unwrap_or(self.0.units_per_em() / 2) as f32
            })
            .sum::<f32>()
            * size
            / upem
    }

    /// Breaks a paragraph into lines no wider than `max` (words longer than a line are split).
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A single word wider than the line: split it.
            let mut part = String::new();
            for c in word.chars() {
                part.push(c);
                if self.width(&part, size) > max {
                    part.pop();
                    lines.push(std::mem::take(&mut part));
                    part.push(c);
                }
            }
            line = part;
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }
}

struct Glyphs {
    x: f32,
    y: f32,
    size: f32,
    bold: bool,
    text: String,
}

/// Lays the export out on A4 pages.
fn layout(
    title: &str,
    subtitle: &str,
    sections: &[ExportSection],
) -> Result<Vec<Vec<Glyphs>>, ExportError> {
    let regular =
        Measure(ttf_parser::Face::parse(REGULAR, 0).map_err(|e| ExportError(e.to_string()))?);
    let bold = Measure(ttf_parser::Face::parse(BOLD, 0).map_err(|e| ExportError(e.to_string()))?);
    let width = PAGE_W - 2.0 * MARGIN;
    let mut pages = vec![Vec::new()];
    let mut y = MARGIN;
    let put = |pages: &mut Vec<Vec<Glyphs>>,
               y: &mut f32,
               text: String,
               size: f32,
               is_bold: bool,
               advance: f32| {
        if *y + advance > PAGE_H - MARGIN {
            pages.push(Vec::new());
            *y = MARGIN;
        }
        *y += advance;
        if let Some(page) = pages.last_mut() {
            page.push(Glyphs {
                x: MARGIN,
                y: *y,
                size,
                bold: is_bold,
                text,
            });
        }
    };
    for line in bold.wrap(title, 18.0, width) {
        put(&mut pages, &mut y, line, 18.0, true, 24.0);
    }
    for line in regular.wrap(subtitle, 9.0, width) {
        put(&mut pages, &mut y, line, 9.0, false, 13.0);
    }
    for s in sections {
        y += 8.0;
        for line in bold.wrap(&s.heading, 12.5, width) {
            put(&mut pages, &mut y, line, 12.5, true, 19.0);
        }
        for para in &s.lines {
            for line in regular.wrap(para, BODY, width) {
                put(&mut pages, &mut y, line, BODY, false, LINE);
            }
        }
    }
    Ok(pages)
}

/// The export as a PDF.
pub fn pdf(
    title: &str,
    subtitle: &str,
    sections: &[ExportSection],
) -> Result<Vec<u8>, ExportError> {
    let pages = layout(title, subtitle, sections)?;
    let regular = Font::new(REGULAR.into(), 0)
        .ok_or_else(|| ExportError("the font could not be read".into()))?;
    let bold = Font::new(BOLD.into(), 0)
        .ok_or_else(|| ExportError("the font could not be read".into()))?;
    let mut doc = Document::new();
    doc.set_metadata(
        krilla::metadata::Metadata::new()
            .title(title.to_string())
            .creator("Värn".to_string()),
    );
    for glyphs in pages {
        let settings =
            PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| ExportError("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        for g in glyphs {
            let font = if g.bold {
                bold.clone()
            } else {
                regular.clone()
            };
            surface.draw_text(
                Point::from_xy(g.x, g.y),
                font,
                g.size,
                &g.text,
                false,
                TextDirection::Auto,
            );
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| ExportError(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_never_exceed_the_width_and_keep_every_word() {
        let m = Measure(ttf_parser::Face::parse(REGULAR, 0).unwrap());
        let text = "Han sa att han skulle komma till nästa möte och att vi skulle ångra oss. "
            .repeat(8)
            + &"a".repeat(200);
        let lines = m.wrap(&text, BODY, 300.0);
        assert!(lines.len() > 5);
        for l in &lines {
            assert!(m.width(l, BODY) <= 300.0, "{l}");
        }
        let joined: String = lines.concat().split_whitespace().collect();
        let original: String = text.split_whitespace().collect();
        assert_eq!(joined, original);
    }

    #[test]
    fn a_long_export_flows_onto_more_pages_and_is_a_pdf() {
        let sections = vec![ExportSection {
            heading: "Vad hände under".into(),
            lines: (0..120)
                .map(|i| format!("Rad {i}: åäö ÅÄÖ – detaljer om händelsen."))
                .collect(),
        }];
        let pages = layout("Händelserapport", "Skapad i Värn", &sections).unwrap();
        assert!(pages.len() >= 3);
        let bytes = pdf("Händelserapport", "Skapad i Värn", &sections).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
    }
}
