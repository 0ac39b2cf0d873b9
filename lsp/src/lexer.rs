//! A small tokenizer over the whole text, aware of strings, `{{ }}` holes and
//! comments. It never fails, whatever the text; semantic tokens and completion use it
//! where the AST is missing (a half-typed rule does not parse).

use rulec::source::Span;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `# …` to the end of the line.
    Comment,
    /// A piece of a string literal (quotes included; holes are separate tokens).
    Str,
    /// A number.
    Number,
    /// An identifier or keyword.
    Word,
    /// `{{` or `}}` around a hole.
    HoleBrace,
    /// Any other character(s).
    Punct,
}

/// A token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What.
    pub kind: Kind,
    /// Where.
    pub span: Span,
    /// True for tokens inside a `{{ }}` hole.
    pub in_hole: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Code,
    Str,
    Hole,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where the end of a text is: in code, in a string (which opened at the offset
/// given), in a `{{ }}` hole, or in a comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Code.
    Code,
    /// Inside a string that opened at this offset.
    Str(usize),
    /// Inside a `{{ }}` hole of a string.
    Hole,
    /// Inside a comment.
    Comment,
}

/// Tokens of `text`, in order.
pub fn lex(text: &str) -> Vec<Token> {
    lex_with_end(text).0
}

/// Tokens of `text` and where its end is (for completion at the end of a prefix).
pub fn lex_with_end(text: &str) -> (Vec<Token>, End) {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut modes = vec![Mode::Code];
    let mut i = 0;
    let mut str_start = 0;
    let push = |out: &mut Vec<Token>, kind, start: usize, end: usize, in_hole| {
        if end > start {
            out.push(Token {
                kind,
                span: Span::new(start, end),
                in_hole,
            });
        }
    };
    while i < bytes.len() {
        let mode = modes.last().copied().unwrap_or(Mode::Code);
        let in_hole = modes.contains(&Mode::Hole);
        let b = bytes.get(i).copied().unwrap_or(0);
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        if mode == Mode::Str {
            match b {
                b'\\' => i += 2,
                b'"' => {
                    push(&mut out, Kind::Str, str_start, i + 1, in_hole);
                    modes.pop();
                    i += 1;
                }
                b'{' if next == b'{' => {
                    push(&mut out, Kind::Str, str_start, i, in_hole);
                    push(&mut out, Kind::HoleBrace, i, i + 2, true);
                    modes.push(Mode::Hole);
                    i += 2;
                }
                _ => i += 1,
            }
            if i >= bytes.len() && modes.last() == Some(&Mode::Str) {
                push(&mut out, Kind::Str, str_start, bytes.len(), in_hole);
            }
            continue;
        }
        match b {
            b if b.is_ascii_whitespace() => i += 1,
            b'#' => {
                let end = text
                    .get(i..)
                    .and_then(|rest| rest.find('\n'))
                    .map_or(bytes.len(), |n| i + n);
                push(&mut out, Kind::Comment, i, end, in_hole);
                i = end;
            }
            b'"' => {
                modes.push(Mode::Str);
                str_start = i;
                i += 1;
                if i >= bytes.len() {
                    push(&mut out, Kind::Str, str_start, i, in_hole);
                }
            }
            b'}' if next == b'}' && mode == Mode::Hole => {
                push(&mut out, Kind::HoleBrace, i, i + 2, true);
                modes.pop();
                i += 2;
                str_start = i;
            }
            b if b.is_ascii_digit() => {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == b'_' || *c == b'.')
                {
                    i += 1;
                }
                push(&mut out, Kind::Number, start, i, in_hole);
            }
            b if is_word(b) => {
                let start = i;
                while bytes.get(i).copied().is_some_and(is_word) {
                    i += 1;
                }
                push(&mut out, Kind::Word, start, i, in_hole);
            }
            _ => {
                let start = i;
                i += 1;
                while i < bytes.len() && !text.is_char_boundary(i) {
                    i += 1;
                }
                push(&mut out, Kind::Punct, start, i, in_hole);
            }
        }
    }
    let end = match modes.last() {
        Some(Mode::Str) => End::Str(str_start),
        Some(Mode::Hole) => End::Hole,
        _ if out
            .last()
            .is_some_and(|t| t.kind == Kind::Comment && t.span.hi() == bytes.len()) =>
        {
            End::Comment
        }
        _ => End::Code,
    };
    (out, end)
}

/// The identifier (letters, digits, `_`, and `-` when `dashes`) around `offset`.
pub fn word_at(text: &str, offset: usize, dashes: bool) -> Option<Span> {
    let bytes = text.as_bytes();
    let ok = |b: u8| is_word(b) || (dashes && b == b'-');
    let offset = offset.min(bytes.len());
    let mut start = offset;
    while start > 0 && bytes.get(start - 1).copied().is_some_and(ok) {
        start -= 1;
    }
    let mut end = offset;
    while bytes.get(end).copied().is_some_and(ok) {
        end += 1;
    }
    (end > start).then(|| Span::new(start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_holes_and_comments() {
        let text = "slack \"#wins\" \"{{name}} won\" # done";
        let kinds: Vec<(Kind, &str)> = lex(text)
            .iter()
            .map(|t| (t.kind, text.get(t.span.lo()..t.span.hi()).unwrap_or("")))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Word, "slack"),
                (Kind::Str, "\"#wins\""),
                (Kind::Str, "\""),
                (Kind::HoleBrace, "{{"),
                (Kind::Word, "name"),
                (Kind::HoleBrace, "}}"),
                (Kind::Str, " won\""),
                (Kind::Comment, "# done"),
            ]
        );
    }

    #[test]
    fn never_panics_on_odd_text() {
        for text in ["\"", "\"{{", "\"{{ \"x", "é\"\\", "{{}}", "#", "\"\\"] {
            let _ = lex(text);
        }
    }
}
