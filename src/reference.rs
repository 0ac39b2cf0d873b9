//! The language reference (`docs/language.md`), built in, so tools can quote the
//! section that explains a word: the language server's hover does, offline and always
//! matching the version that checks the rules.

/// The text of `docs/language.md`.
pub const LANGUAGE: &str = include_str!("../docs/language.md");

/// Where the reference lives in the repository, for "see …" lines.
pub const LANGUAGE_PATH: &str = "docs/language.md";

/// One section of the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// Its heading, without the `#`s (`` `changed` ``).
    pub title: &'static str,
    /// The heading of the chapter (`##`) it is in; its own title for a chapter.
    pub chapter: &'static str,
    /// Its text, up to the next heading of any level.
    pub body: &'static str,
}

impl Section {
    /// "4. Triggers › `changed`", or the chapter's title alone.
    pub fn path(&self) -> String {
        if self.chapter == self.title {
            self.title.to_string()
        } else {
            format!("{} › {}", self.chapter, self.title)
        }
    }

    /// The section's first paragraph of prose (not a code block, table or list), as
    /// Markdown: what a hover shows before pointing to the whole section. A paragraph
    /// that ends in a colon brings the list it introduces.
    pub fn summary(&self) -> String {
        let blocks = blocks(self.body);
        let Some(first) = blocks.iter().position(|b| is_prose(b)) else {
            return String::new();
        };
        let mut out = blocks[first].join(" ");
        if out.ends_with(':') {
            match blocks.get(first + 1).filter(|b| is_list(b)) {
                Some(list) => {
                    out.push('\n');
                    out.push_str(&list.join("\n"));
                }
                // What it introduced is an example, which a hover leaves out.
                None => {
                    out.pop();
                    out.push('.');
                }
            }
        }
        out
    }
}

/// The blocks of Markdown text between blank lines, code blocks left out.
fn blocks(text: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_code = !in_code;
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if in_code {
            continue;
        }
        if trimmed.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(trimmed);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn is_list(block: &[&str]) -> bool {
    block
        .first()
        .is_some_and(|l| l.starts_with("- ") || l.starts_with("* ") || l.starts_with("1. "))
}

fn is_prose(block: &[&str]) -> bool {
    block
        .first()
        .is_some_and(|l| !(l.starts_with('|') || l.starts_with('>') || l.starts_with('#')))
        && !is_list(block)
}

/// Every section of the reference, in order. Lines inside fenced code blocks are never
/// headings (the examples' `# error:` comments are not). Split once, on first use.
pub fn sections() -> &'static [Section] {
    static SECTIONS: std::sync::LazyLock<Vec<Section>> = std::sync::LazyLock::new(split);
    &SECTIONS
}

fn split() -> Vec<Section> {
    let mut out = Vec::new();
    let mut chapter = "";
    // The section being read: its title, its chapter, where its text starts.
    let mut open: Option<(&'static str, &'static str, usize)> = None;
    let mut in_code = false;
    let mut offset = 0;
    let mut close = |open: Option<(&'static str, &'static str, usize)>, end: usize| {
        if let Some((title, chapter, start)) = open {
            let body = LANGUAGE.get(start..end).unwrap_or("");
            out.push(Section {
                title,
                chapter,
                body,
            });
        }
    };
    for line in LANGUAGE.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code || !line.starts_with('#') {
            continue;
        }
        let level = line.bytes().take_while(|&b| b == b'#').count();
        let Some(title) = line.get(level..).map(str::trim) else {
            continue;
        };
        close(open.take(), start);
        if level == 2 {
            chapter = title;
        }
        if level >= 2 {
            open = Some((
                title,
                if chapter.is_empty() { title } else { chapter },
                offset,
            ));
        }
    }
    close(open, LANGUAGE.len());
    out
}

/// The section headed `title` (without the `#`s).
pub fn section(title: &str) -> Option<Section> {
    sections().iter().find(|s| s.title == title).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_have_their_chapter_and_skip_code() {
        let changed = section("`changed`").expect("the `changed` section");
        assert_eq!(changed.chapter, "4. Triggers");
        assert_eq!(changed.path(), "4. Triggers › `changed`");
        let triggers = section("4. Triggers").expect("the chapter");
        assert_eq!(triggers.path(), "4. Triggers");
        let summary = triggers.summary();
        assert!(
            summary.starts_with("After `when` comes exactly one trigger"),
            "{summary}"
        );
        assert!(!summary.contains("```"));
        // `# error: …` lines of examples are code, not headings.
        assert!(sections().iter().all(|s| !s.title.starts_with("error:")));
    }
}
