//! Source text, spans and the one place where byte offsets become positions.
//!
//! Every layer stores byte offsets. People read 1-based lines and columns counted in
//! Unicode scalar values; editors read 0-based lines and UTF-16 (or UTF-8) columns. Both
//! conversions live here so they cannot drift apart.

use std::sync::Arc;

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: clamp_u32(start),
            end: clamp_u32(end.max(start)),
        }
    }

    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The span moved right by `offset` bytes.
    pub fn shift(self, offset: usize) -> Span {
        Span::new(self.start as usize + offset, self.end as usize + offset)
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// True for an empty span.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The start as a `usize`.
    pub fn lo(self) -> usize {
        self.start as usize
    }

    /// The end as a `usize`.
    pub fn hi(self) -> usize {
        self.end as usize
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A file being checked: its display name, its text and a line index.
#[derive(Debug)]
pub struct SourceFile {
    name: String,
    text: Arc<str>,
    lines: LineIndex,
}

impl SourceFile {
    /// A source file from its display name (usually a relative path) and text.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Arc<SourceFile> {
        let text = text.into();
        let lines = LineIndex::new(&text);
        Arc::new(SourceFile {
            name: name.into(),
            text,
            lines,
        })
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The shared text.
    pub fn shared_text(&self) -> Arc<str> {
        self.text.clone()
    }

    /// The text of a span (empty when the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.lo()..span.hi()).unwrap_or("")
    }

    /// The file stem, for generated rule ids (`wins.rules` → `wins`).
    pub fn stem(&self) -> &str {
        let base = self.name.rsplit(['/', '\\']).next().unwrap_or(&self.name);
        base.strip_suffix(".rules").unwrap_or(base)
    }

    /// Line and column of a byte offset, for people.
    pub fn line_col(&self, offset: usize) -> LineCol {
        self.lines.line_col(&self.text, offset)
    }

    /// The whole lines around `lo..hi`, with `before` lines before and `after` lines
    /// after: the 0-based number of the first line and the byte range. Found through
    /// the line index, so a snippet near the end of a large file costs no more than
    /// one near its start.
    pub fn window(
        &self,
        lo: usize,
        hi: usize,
        before: usize,
        after: usize,
    ) -> (usize, usize, usize) {
        let (first, _) = self.lines.line_of(lo.min(self.text.len()));
        let (last, _) = self.lines.line_of(hi.min(self.text.len()));
        let first = first.saturating_sub(before);
        let start = self.lines.starts.get(first).copied().unwrap_or(0) as usize;
        let end = self
            .lines
            .starts
            .get(last + after + 1)
            .map_or(self.text.len(), |&s| s as usize);
        (first, start, end.max(start))
    }

    /// Line and UTF-16 column of a byte offset, for editors.
    pub fn utf16_position(&self, offset: usize) -> (u32, u32) {
        self.lines.utf16_position(&self.text, offset)
    }

    /// The byte offset of an editor position (0-based line, UTF-16 column).
    pub fn offset_of_utf16(&self, line: u32, column: u32) -> usize {
        self.lines.offset_of_utf16(&self.text, line, column)
    }
}

/// A 1-based line and a 1-based column counted in Unicode scalar values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LineCol {
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
}

/// Line start offsets of a text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    /// Index the line starts of `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| clamp_u32(i + 1)),
        );
        LineIndex { starts }
    }

    fn line_of(&self, offset: usize) -> (usize, usize) {
        let offset = clamp_u32(offset);
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0) as usize;
        (line, start)
    }

    fn clamp_offset(text: &str, offset: usize) -> usize {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = Self::clamp_offset(text, offset);
        let (line, start) = self.line_of(offset);
        let column = text.get(start..offset).map_or(0, |s| s.chars().count());
        LineCol {
            line: clamp_u32(line + 1),
            column: clamp_u32(column + 1),
        }
    }

    /// 0-based line and UTF-16 column of a byte offset.
    pub fn utf16_position(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = Self::clamp_offset(text, offset);
        let (line, start) = self.line_of(offset);
        let column: usize = text
            .get(start..offset)
            .map_or(0, |s| s.chars().map(char::len_utf16).sum());
        (clamp_u32(line), clamp_u32(column))
    }

    /// The byte offset of a 0-based line and UTF-16 column, clamped to the line.
    pub fn offset_of_utf16(&self, text: &str, line: u32, column: u32) -> usize {
        let Some(&start) = self.starts.get(line as usize) else {
            return text.len();
        };
        let start = start as usize;
        let line_text = text.get(start..).unwrap_or("");
        let mut units = 0usize;
        for (i, ch) in line_text.char_indices() {
            if units >= column as usize || ch == '\n' {
                return start + i;
            }
            units += ch.len_utf16();
        }
        text.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_for_people_and_utf16_for_editors() {
        let text = "slack \"🎉 {{x}}\"\nnext";
        let file = SourceFile::new("a.rules", text);
        let x = text.find('x').unwrap_or(0);
        assert_eq!(
            file.line_col(x),
            LineCol {
                line: 1,
                column: 12
            }
        );
        assert_eq!(file.utf16_position(x), (0, 12));
        assert_eq!(file.offset_of_utf16(0, 12), x);
        let next = text.find("next").unwrap_or(0);
        assert_eq!(file.line_col(next), LineCol { line: 2, column: 1 });
    }

    #[test]
    fn offsets_inside_a_character_do_not_panic() {
        let file = SourceFile::new("a.rules", "é");
        assert_eq!(file.line_col(1), LineCol { line: 1, column: 1 });
        assert_eq!(file.line_col(99), LineCol { line: 1, column: 2 });
    }
}
