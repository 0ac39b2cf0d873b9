//! Folding ranges: items over several lines, `if`/`route` blocks, runs of comment lines.

use rulec::syntax::ast::{all_steps, Item, StepKind};
use tower_lsp_server::ls_types::{FoldingRange, FoldingRangeKind};

use crate::analysis::DocAnalysis;
use crate::position::Lines;

fn range(
    lines: &Lines<'_>,
    lo: usize,
    hi: usize,
    kind: Option<FoldingRangeKind>,
) -> Option<FoldingRange> {
    let start = lines.position(lo).line;
    // An item's span may end with the newline before the next item.
    let text = lines.text().get(lo..hi).unwrap_or("").trim_end();
    let end = lines.position(lo + text.len()).line;
    (end > start).then_some(FoldingRange {
        start_line: start,
        start_character: None,
        end_line: end,
        end_character: None,
        kind,
        collapsed_text: None,
    })
}

/// Every foldable range of the document.
pub fn folding_ranges(analysis: &DocAnalysis, lines: &Lines<'_>) -> Vec<FoldingRange> {
    let Some(document) = analysis.document() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in &document.items {
        let span = item.span();
        out.extend(range(
            lines,
            span.lo(),
            span.hi(),
            Some(FoldingRangeKind::Region),
        ));
        if let Item::Rule(rule) = item {
            for step in all_steps(&rule.steps) {
                if matches!(step.kind, StepKind::If { .. } | StepKind::Route { .. }) {
                    out.extend(range(lines, step.span.lo(), step.span.hi(), None));
                }
            }
        }
    }
    // Consecutive whole-line comments.
    let mut run: Option<(u32, u32)> = None;
    let flush = |run: Option<(u32, u32)>, out: &mut Vec<FoldingRange>| {
        if let Some((a, b)) = run {
            if b > a {
                out.push(FoldingRange {
                    start_line: a,
                    start_character: None,
                    end_line: b,
                    end_character: None,
                    kind: Some(FoldingRangeKind::Comment),
                    collapsed_text: None,
                });
            }
        }
    };
    for comment in &document.comments {
        let line = lines.position(comment.lo()).line;
        let line_start = lines.offset(tower_lsp_server::ls_types::Position::new(line, 0));
        let whole_line = lines
            .text()
            .get(line_start..comment.lo())
            .is_some_and(|before| before.trim().is_empty());
        if !whole_line {
            continue;
        }
        run = match run {
            Some((a, b)) if b + 1 == line => Some((a, line)),
            other => {
                flush(other, &mut out);
                Some((line, line))
            }
        };
    }
    flush(run, &mut out);
    out.sort_by_key(|r| (r.start_line, r.end_line));
    out.dedup_by_key(|r| (r.start_line, r.end_line));
    out
}
