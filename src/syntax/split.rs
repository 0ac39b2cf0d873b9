//! Splits a document into top-level items before pest sees it.
//!
//! A cheap scan that understands strings, `{{ }}` holes and comments finds the lines
//! where a new item starts, so each item is parsed on its own: one broken rule leaves
//! the others parsed, and an editor can reparse just the item that changed. The same
//! scan measures bracket nesting, so pathological input is refused before the
//! recursive-descent parser could overflow its stack.

use crate::source::Span;

/// Deeper nesting than this is refused (no real rule comes close).
pub const MAX_NESTING: usize = 64;

/// A top-level item's text range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The item's bytes, from its first token to just before the next item.
    pub span: Span,
    /// Where nesting first went deeper than [`MAX_NESTING`], if it did.
    pub too_deep: Option<usize>,
}

/// The result of a split.
#[derive(Debug, Default)]
pub struct Split {
    /// Items in order. Whitespace- and comment-only stretches are not items.
    pub chunks: Vec<Chunk>,
    /// Every comment's span.
    pub comments: Vec<Span>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Code,
    Str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    /// A rule whose trigger has not been seen yet: header keywords continue it.
    RuleHeader,
    /// A rule past its trigger, or any other item: header keywords start a new one.
    Other,
}

/// Words that always start an item at the start of a line.
const ITEM_WORDS: &[&str] = &[
    "rule", "object", "list", "team", "webhook", "action", "test",
];

/// Words that start a rule (or continue one still in its header).
const HEADER_WORDS: &[&str] = &[
    "when",
    "every",
    "cron",
    "on",
    "owner",
    "description",
    "status",
    "limit",
    "coalesce",
    "allow",
];

/// Splits `text` into items.
pub fn split(text: &str) -> Split {
    let bytes = text.as_bytes();
    let mut out = Split::default();
    let mut modes: Vec<Mode> = vec![Mode::Code];
    let mut depth = 0usize;
    let mut current: Option<(usize, ItemKind, Option<usize>)> = None;
    let mut content_seen = false;
    let mut at_line_start = true;
    let mut blocks = 0usize;
    let mut last_word = "";
    let mut i = 0;

    while i < bytes.len() {
        let b = bytes[i];
        let mode = *modes.last().unwrap_or(&Mode::Code);
        if mode == Mode::Str {
            match b {
                b'\\' => i += 2,
                b'"' => {
                    modes.pop();
                    i += 1;
                }
                b'{' if bytes.get(i + 1) == Some(&b'{') => {
                    modes.push(Mode::Code);
                    depth += 1;
                    note_depth(&mut current, depth, i);
                    i += 2;
                }
                b'\n' => {
                    i += 1;
                    // Strings may span lines, but not into the next item: a line that
                    // starts one (`rule x`, `test "…"`) means the quote was never closed.
                    let word = word_at(bytes, i);
                    if ITEM_WORDS.contains(&word) && starts_item(bytes, i, word, None) {
                        modes.truncate(1);
                        depth = 0;
                        at_line_start = true;
                    }
                }
                _ => i += 1,
            }
            continue;
        }
        match b {
            b'\n' => {
                at_line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                let end = memchr_newline(bytes, i);
                out.comments.push(Span::new(i, end));
                i = end;
                continue;
            }
            _ => {}
        }
        let line_start = std::mem::replace(&mut at_line_start, false);
        if line_start && modes.len() == 1 {
            let column0 = i == 0 || bytes[i - 1] == b'\n';
            if depth == 0 || column0 {
                let word = word_at(bytes, i);
                if starts_item(bytes, i, word, current.map(|c| c.1)) {
                    if let Some((start, _, too_deep)) = current.take() {
                        out.chunks
                            .push(chunk(text, &out.comments, start, i, too_deep));
                    } else if content_seen {
                        // Stray text before the first item is an item of its own, so
                        // its error does not swallow the item after it.
                        let start = first_content(text, &out.comments);
                        out.chunks.push(chunk(text, &out.comments, start, i, None));
                    }
                    depth = 0;
                    blocks = 0;
                    let kind = if HEADER_WORDS.contains(&word)
                        && !matches!(word, "when" | "every" | "cron")
                        || word == "rule"
                    {
                        ItemKind::RuleHeader
                    } else {
                        ItemKind::Other
                    };
                    current = Some((i, kind, None));
                }
            }
        }
        if current.is_none() {
            content_seen = true;
        }
        match b {
            b'"' => {
                modes.push(Mode::Str);
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                note_depth(&mut current, depth, i);
                i += 1;
            }
            b'}' if modes.len() > 1 && bytes.get(i + 1) == Some(&b'}') => {
                modes.pop();
                depth = depth.saturating_sub(1);
                i += 2;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let word = word_at(bytes, i);
                if modes.len() == 1 && depth == 0 && matches!(word, "when" | "every" | "cron") {
                    if let Some(c) = current.as_mut() {
                        c.1 = ItemKind::Other;
                    }
                }
                // `if … end`, `route … end` and `for each … end` nest like brackets
                // (`else if` and `set x = y if empty` open nothing).
                let opens = match word {
                    "route" => true,
                    "each" => last_word == "for",
                    "if" => {
                        last_word != "else"
                            && word_at(bytes, skip_blanks_and_newlines(bytes, i + 2)) != "empty"
                    }
                    _ => false,
                };
                if opens {
                    blocks += 1;
                    note_depth(&mut current, depth + blocks, i);
                } else if word == "end" {
                    blocks = blocks.saturating_sub(1);
                }
                last_word = word;
                i += word.len().max(1);
            }
            _ => i += 1,
        }
    }
    if let Some((start, _, too_deep)) = current {
        out.chunks
            .push(chunk(text, &out.comments, start, text.len(), too_deep));
    } else if content_seen {
        let start = first_content(text, &out.comments);
        out.chunks
            .push(chunk(text, &out.comments, start, text.len(), None));
    }
    out
}

fn note_depth(current: &mut Option<(usize, ItemKind, Option<usize>)>, depth: usize, at: usize) {
    if depth > MAX_NESTING {
        if let Some(c) = current.as_mut() {
            c.2.get_or_insert(at);
        }
    }
}

/// A chunk with trailing whitespace and whole-line comments trimmed off, so comments
/// between two items belong to neither item's span. Only comments the scan found are
/// trimmed (a `#` inside a string is text); a comment after code on the same line
/// stays with the code.
fn chunk(
    text: &str,
    comments: &[Span],
    start: usize,
    end: usize,
    too_deep: Option<usize>,
) -> Chunk {
    let trimmed_end = |end: usize| start + text.get(start..end).unwrap_or("").trim_end().len();
    let mut end = trimmed_end(end);
    for comment in comments.iter().rev() {
        if comment.lo() >= end {
            continue;
        }
        let comment_end = comment.lo()
            + text
                .get(comment.lo()..comment.hi())
                .unwrap_or("")
                .trim_end()
                .len();
        if comment.lo() < start || comment_end != end {
            break;
        }
        let line_start = text
            .get(..comment.lo())
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |p| p + 1);
        let own_line = line_start > start
            && text
                .get(line_start..comment.lo())
                .is_some_and(|s| s.trim().is_empty());
        if !own_line {
            break;
        }
        end = trimmed_end(line_start);
    }
    Chunk {
        span: Span::new(start, end),
        too_deep,
    }
}

fn first_content(text: &str, comments: &[Span]) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
        } else if let Some(c) = comments.iter().find(|c| c.lo() == i) {
            i = c.hi();
        } else {
            return i;
        }
    }
    0
}

fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

fn word_at(bytes: &[u8], at: usize) -> &str {
    let end = bytes[at..]
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .map_or(bytes.len(), |p| at + p);
    std::str::from_utf8(&bytes[at..end]).unwrap_or("")
}

/// The first non-blank byte after `at` (skipping spaces and tabs only).
fn next_token(bytes: &[u8], at: usize) -> Option<u8> {
    bytes[at..]
        .iter()
        .copied()
        .find(|b| *b != b' ' && *b != b'\t')
}

fn starts_item(bytes: &[u8], at: usize, word: &str, current: Option<ItemKind>) -> bool {
    if word.is_empty() {
        return false;
    }
    let after = at + word.len();
    if ITEM_WORDS.contains(&word) {
        // `rule` must be followed by a name; `list "x" of` / `test "x"` by a string.
        return match word {
            "list" | "test" => next_token(bytes, after) == Some(b'"'),
            _ => next_token(bytes, after).is_some_and(|b| b.is_ascii_alphabetic() || b == b'_'),
        };
    }
    if !HEADER_WORDS.contains(&word) {
        return false;
    }
    // A header word only starts an item when its argument looks right, so a condition
    // line such as `owner is set` never splits a rule.
    let next_word = word_at(bytes, skip_blanks(bytes, after));
    let shaped = match word {
        "when" | "every" => true,
        "cron" | "owner" | "description" => next_token(bytes, after) == Some(b'"'),
        "on" => !next_word.is_empty() && next_word != "error",
        "status" => matches!(next_word, "active" | "paused" | "draft" | "archived"),
        "limit" | "coalesce" => next_token(bytes, after).is_some_and(|b| b.is_ascii_digit()),
        "allow" => next_token(bytes, after).is_some_and(|b| b.is_ascii_lowercase()),
        _ => false,
    };
    shaped && current != Some(ItemKind::RuleHeader)
}

fn skip_blanks_and_newlines(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at].is_ascii_whitespace() {
        at += 1;
    }
    at
}

fn skip_blanks(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && (bytes[at] == b' ' || bytes[at] == b'\t') {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<&str> {
        split(text)
            .chunks
            .iter()
            .map(|c| &text[c.span.lo()..c.span.hi()])
            .collect()
    }

    #[test]
    fn one_liners_are_separate_items() {
        let text = "when created do stop\nwhen updated do stop\n";
        assert_eq!(
            items(text),
            ["when created do stop", "when updated do stop"]
        );
    }

    #[test]
    fn header_lines_stay_with_their_rule() {
        let text = "rule a\n  on deals\n  owner \"x@y.z\"\n  when created\n  do stop\non people\nwhen created do stop";
        let got = items(text);
        assert_eq!(got.len(), 2);
        assert!(got[1].starts_with("on people"));
    }

    #[test]
    fn conditions_and_strings_do_not_split() {
        let text =
            "when created\n and owner is set\n do email owner subject \"x\" body \"\n  rule y\nthanks\"";
        assert_eq!(items(text).len(), 1);
    }

    #[test]
    fn a_string_never_runs_into_the_next_item() {
        // An unclosed quote: the next rule is still a rule of its own.
        let text = "when created do slack \"#a\n\nrule y\n  when updated do stop";
        let got = items(text);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[1].starts_with("rule y"));
    }

    #[test]
    fn comments_between_items_belong_to_neither() {
        let text = "when created do stop # end\n\n# about b\nwhen updated do stop";
        assert_eq!(
            items(text),
            ["when created do stop # end", "when updated do stop"]
        );
        assert_eq!(split(text).comments.len(), 2);
    }

    #[test]
    fn nested_if_blocks_count_as_nesting() {
        let text = format!(
            "on deals when created and value > 1 do {} stop {}",
            "if true then ".repeat(100),
            "end ".repeat(100)
        );
        assert!(split(&text).chunks[0].too_deep.is_some());
        let fine = "on deals when created and value > 1 do set name = \"x\" if empty if true then stop else if false then stop end";
        assert!(split(fine).chunks[0].too_deep.is_none());
    }

    #[test]
    fn deep_nesting_is_measured() {
        let text = format!(
            "when matches {}x{} do stop",
            "(".repeat(100),
            ")".repeat(100)
        );
        assert!(split(&text).chunks[0].too_deep.is_some());
    }
}
