//! Byte offsets ⇄ LSP positions.
//!
//! The library stores byte offsets and owns the UTF-16 conversion
//! (`rulec::source::LineIndex`); this module picks the encoding negotiated with the
//! client (UTF-16 unless the client offers UTF-8) and adds the UTF-8 case on top of the
//! same line index, so there is still one line table per text.

use rulec::source::{LineIndex, Span};
use tower_lsp_server::ls_types::{Position, PositionEncodingKind, Range};

/// How columns are counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-16 code units: the protocol's default.
    #[default]
    Utf16,
    /// Bytes.
    Utf8,
}

impl Encoding {
    /// Picks UTF-8 when the client lists it, else UTF-16.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        match offered {
            Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    /// The protocol's name for it.
    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf16 => PositionEncodingKind::UTF16,
            Encoding::Utf8 => PositionEncodingKind::UTF8,
        }
    }
}

/// A text with its line table, converting in one encoding.
#[derive(Clone, Debug)]
pub struct Lines<'a> {
    text: &'a str,
    index: &'a LineIndex,
    encoding: Encoding,
}

impl<'a> Lines<'a> {
    /// Conversions for `text`, whose line table is `index`.
    pub fn new(text: &'a str, index: &'a LineIndex, encoding: Encoding) -> Lines<'a> {
        Lines {
            text,
            index,
            encoding,
        }
    }

    /// The text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// The position of a byte offset.
    pub fn position(&self, offset: usize) -> Position {
        let offset = self.clamp(offset);
        let (line, column) = self.index.utf16_position(self.text, offset);
        match self.encoding {
            Encoding::Utf16 => Position::new(line, column),
            Encoding::Utf8 => {
                let start = self.index.offset_of_utf16(self.text, line, 0);
                let column = u32::try_from(offset.saturating_sub(start)).unwrap_or(u32::MAX);
                Position::new(line, column)
            }
        }
    }

    /// The byte offset of a position; columns past the line end clamp to it, lines past
    /// the end clamp to the end of the text.
    pub fn offset(&self, position: Position) -> usize {
        match self.encoding {
            Encoding::Utf16 => {
                self.index
                    .offset_of_utf16(self.text, position.line, position.character)
            }
            Encoding::Utf8 => {
                let start = self.index.offset_of_utf16(self.text, position.line, 0);
                if start >= self.text.len() {
                    return self.text.len();
                }
                let rest = self.text.get(start..).unwrap_or("");
                let line_len = rest.find('\n').unwrap_or(rest.len());
                self.clamp(start + (position.character as usize).min(line_len))
            }
        }
    }

    /// The range of a span.
    pub fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.lo()), self.position(span.hi()))
    }

    /// The span of a range (start ≤ end).
    pub fn span(&self, range: Range) -> Span {
        let start = self.offset(range.start);
        let end = self.offset(range.end);
        Span::new(start.min(end), end.max(start))
    }

    /// The range of the whole text.
    pub fn whole(&self) -> Range {
        Range::new(Position::new(0, 0), self.position(self.text.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str, encoding: Encoding) -> (LineIndex, String, Encoding) {
        (LineIndex::new(text), text.to_string(), encoding)
    }

    #[test]
    fn utf16_counts_surrogate_pairs_and_utf8_counts_bytes() {
        let text = "slack \"🎉 x\"\nnext é";
        for (encoding, x_col, e_col) in [(Encoding::Utf16, 10, 5), (Encoding::Utf8, 12, 5)] {
            let (index, text, encoding) = lines(text, encoding);
            let l = Lines::new(&text, &index, encoding);
            let x = text.find('x').unwrap_or(0);
            assert_eq!(l.position(x), Position::new(0, x_col));
            assert_eq!(l.offset(Position::new(0, x_col)), x);
            let e = text.find('é').unwrap_or(0);
            assert_eq!(l.position(e), Position::new(1, e_col));
            assert_eq!(l.offset(l.position(text.len())), text.len());
            // Past the end of a line or the text: clamped, never a panic.
            assert_eq!(
                l.offset(Position::new(0, 999)),
                text.find('\n').unwrap_or(0)
            );
            assert_eq!(l.offset(Position::new(99, 0)), text.len());
        }
    }

    #[test]
    fn negotiation_prefers_utf8_only_when_offered() {
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
        let offered = [PositionEncodingKind::UTF16];
        assert_eq!(Encoding::negotiate(Some(&offered)), Encoding::Utf16);
        let offered = [PositionEncodingKind::UTF16, PositionEncodingKind::UTF8];
        assert_eq!(Encoding::negotiate(Some(&offered)), Encoding::Utf8);
    }
}
