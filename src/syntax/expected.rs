//! Turns pest's "expected one of these rules" into words a rule author understands.
//!
//! pest reports grammar rule names; users must never see them. Each rule maps to a
//! phrase, phrases are deduplicated in a fixed order of usefulness, and the message
//! names the token after which the parser got stuck.

use std::sync::Arc;

use pest::error::{Error, ErrorVariant, InputLocation};

use super::Rule;
use crate::diagnostics::{closest, Diagnostic, Edit, Fix, Safety};
use crate::source::{SourceFile, Span};

/// A syntax diagnostic for a failed item parse. `offset` is where the item's text starts.
pub(super) fn syntax_error(
    file: &Arc<SourceFile>,
    offset: usize,
    text: &str,
    error: &Error<Rule>,
) -> Diagnostic {
    if let Some(open) = unclosed_string(text) {
        return Diagnostic::error(
            file,
            "syntax-error",
            "this string is never closed",
            Span::new(offset + open, offset + open + 1),
        )
        .with_label("opens here")
        .with_help("add the closing `\"`; a string may span lines, but not into the next item");
    }
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut phrases: Vec<&'static str> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| phrase(*r)).collect()
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    phrases.sort_by_key(|p| PHRASES.iter().position(|q| q == p).unwrap_or(usize::MAX));
    phrases.dedup();
    // `when <object> <trigger>` makes pest also expect a name; the trigger is the point.
    if phrases.first() == Some(&PHRASES[0]) {
        phrases.retain(|p| *p != PHRASES[7]);
    }
    // Names, strings and numbers are all values; say "a value" once.
    if phrases.contains(&PHRASES[5]) {
        phrases.retain(|p| ![PHRASES[7], PHRASES[8], PHRASES[9]].contains(p));
    }
    phrases.truncate(4);

    let found = token_at(text, pos);
    let after = previous_token(text, pos);
    if let Some(near) = near_miss(text, pos, found, after) {
        return near.diagnostic(file, offset);
    }
    if let Some(typo) = keyword_typo(text, pos, found, after, &phrases) {
        return typo.diagnostic(file, offset);
    }
    let expected = match phrases.as_slice() {
        [] => "something else".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    };
    let mut message = format!("expected {expected}");
    if let Some(after) = after {
        message.push_str(&format!(" after `{after}`"));
    }
    let label = match found {
        Some(found) => format!("found `{found}`"),
        None => "the rule ends here".to_string(),
    };
    let width = found.map_or(0, str::len);
    let span = Span::new(offset + pos, offset + pos + width);
    let mut diagnostic = Diagnostic::error(file, "syntax-error", message, span).with_label(label);
    if let Some(help) = help_for(&phrases, found) {
        diagnostic = diagnostic.with_help(help);
    }
    diagnostic
}

/// Phrases in the order they are listed when several are expected.
const PHRASES: &[&str] = &[
    "a trigger such as `created` or `stage changed`",
    "a schedule such as `day at 09:00` or `15 minutes`",
    "`do`",
    "a step such as `set`, `slack` or `create task`",
    "`and <condition>`",
    "a value",
    "an operator",
    "a name",
    "a string in double quotes",
    "a whole number",
    "a duration such as `10 minutes`",
    "a time such as `09:00`",
    "`from` or `to`",
    "`then`",
    "`end`",
    "`=>`",
    "`=`",
    "`:`",
    "`,`",
    "`)`",
    "`]`",
    "`}`",
    "`\"`",
    "`}}`",
    "a type such as `text` or `select [a, b]`",
    "`when` or `every`",
    "a header such as `owner`, `on` or `limit`",
    "the end of the item",
];

fn phrase(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    let p = match rule {
        created | updated | deleted | merged | changed_trigger | matches_trigger | list_added
        | list_removed | note_created | comment_added | task_created | task_completed
        | call_recorded | webhook_trigger | rule_failed | kw_created | kw_updated | kw_deleted
        | kw_merged | kw_matches | kw_added | kw_removed | kw_webhook => PHRASES[0],
        cron_schedule | interval_schedule | monthly_schedule | daily_schedule | kw_cron
        | kw_month => PHRASES[1],
        kw_do | do_clause => PHRASES[2],
        step | set_step | clear_step | add_list_step | remove_list_step | slack_step
        | email_step | create_task_step | create_step | find_step | upsert_step | note_step
        | http_step | wait_step | ask_step | if_step | route_step | stop_step | skip_step
        | custom_step | kw_set | kw_clear | kw_add | kw_remove | kw_slack | kw_email
        | kw_create | kw_find | kw_upsert | kw_http | kw_wait | kw_ask | kw_route | kw_stop
        | kw_skip => PHRASES[3],
        condition => PHRASES[4],
        expr | paren | list | map | datetime | date | relative_future | quantity | bool | empty
        | now | today | call | path | value | values | value_list | not_op | neg_op | kw_empty => {
            PHRASES[5]
        }
        or_op | and_op | eq_op | ne_op | le_op | ge_op | lt_op | gt_op | not_in_op | in_op
        | contains_op | contains_any_op | contains_all_op | starts_with_op | ends_with_op
        | before_op | after_op | within_last_op | within_next_op | add_op | sub_op | mul_op
        | div_op | is_set_op | is_empty_op | is_not_set_op | is_not_empty_op => PHRASES[6],
        ident | call_name | when_object | lint_name => PHRASES[7],
        string => PHRASES[8],
        integer | number => PHRASES[9],
        duration | time_unit | window => PHRASES[10],
        time_of_day | at_time | kw_at => PHRASES[11],
        from_values | to_values | kw_from | kw_to => PHRASES[12],
        kw_then => PHRASES[13],
        kw_end => PHRASES[14],
        type_expr | list_of | multi_select | select_type | status_type | record_type => PHRASES[24],
        kw_when | kw_every | when_clause | every_clause => PHRASES[25],
        rule_header | owner_header | description_header | on_header | status_header
        | limit_header | coalesce_header | allow_header => PHRASES[26],
        EOI => PHRASES[27],
        _ => return None,
    };
    Some(p)
}

fn help_for(phrases: &[&str], found: Option<&str>) -> Option<String> {
    if found.is_some_and(|f| f.starts_with('\'')) {
        return Some("strings use double quotes: `\"like this\"`".to_string());
    }
    let first = phrases.first()?;
    let help = if *first == PHRASES[0] {
        "a rule reads `when <trigger> [and <condition>] do <steps>`; triggers are `created`, `updated`, `deleted`, `merged`, `<attribute> changed [from …] [to …]`, `matches <filter>`, `added to list \"…\"`, `webhook <name>` and more"
    } else if *first == PHRASES[2] {
        "every rule ends with `do` and its steps, e.g. `do slack \"#channel\"`"
    } else if *first == PHRASES[3] {
        "steps are `set`, `clear`, `add to list`, `remove from list`, `slack`, `email`, `create`, `find`, `upsert`, `note`, `http`, `wait`, `ask`, `if`, `route`, `stop`, `skip` or a declared action"
    } else if *first == PHRASES[1] {
        "schedules read `every day at 09:00`, `every weekday at …`, `every monday at …`, `every 15 minutes`, `every month on day 1 at …` or `cron \"0 9 * * 1\"`"
    } else {
        return None;
    };
    Some(help.to_string())
}

/// The token starting at `pos`, for "found `x`".
fn token_at(text: &str, pos: usize) -> Option<&str> {
    let rest = text.get(pos..)?;
    let first = rest.chars().next()?;
    let len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len())
    } else if first == '"' {
        rest[1..].find('"').map_or(rest.len(), |p| p + 2).min(40)
    } else {
        first.len_utf8()
    };
    let token = rest.get(..len).unwrap_or(rest);
    Some(token)
}

/// The last word or symbol before `pos`, skipping whitespace and comments.
fn previous_token(text: &str, pos: usize) -> Option<&str> {
    let before = text.get(..pos)?;
    // Drop comments: only the code part of each line counts.
    let mut line_end = before.len();
    loop {
        let line_start = before[..line_end].rfind('\n').map_or(0, |p| p + 1);
        let line = &before[line_start..line_end];
        let code = strip_comment(line).trim_end();
        if !code.is_empty() {
            let last = code
                .char_indices()
                .rev()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
                .map_or(0, |(i, c)| i + c.len_utf8());
            let word = &code[last..];
            if !word.is_empty() {
                return Some(word);
            }
            let sym = code.chars().last()?;
            return code.get(code.len() - sym.len_utf8()..);
        }
        if line_start == 0 {
            return None;
        }
        line_end = line_start - 1;
    }
}

fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Keywords a misspelt word is compared with, by what they are.
const TRIGGER_WORDS: &[&str] = &[
    "created",
    "updated",
    "deleted",
    "merged",
    "changed",
    "matches",
    "added",
    "removed",
    "recorded",
    "completed",
    "webhook",
    "failed",
];
const STEP_WORDS: &[&str] = &[
    "set", "clear", "slack", "email", "create", "find", "upsert", "note", "http", "wait", "ask",
    "if", "route", "stop", "skip",
];
const OTHER_WORDS: &[&str] = &[
    "when",
    "every",
    "do",
    "then",
    "else",
    "end",
    "from",
    "to",
    "and",
    "or",
    "not",
    "contains",
    "starts",
    "ends",
    "with",
    "before",
    "after",
    "within",
    "last",
    "next",
    "empty",
    "today",
    "now",
    "where",
    "owner",
    "description",
    "status",
    "limit",
    "coalesce",
    "allow",
    "list",
    "task",
    "subject",
    "body",
    "template",
    "due",
    "key",
    "timeout",
    "retry",
];

/// A word that is one typo away from a keyword where the parser got stuck.
struct Typo {
    span: Span,
    word: String,
    keyword: &'static str,
}

impl Typo {
    fn diagnostic(&self, file: &Arc<SourceFile>, offset: usize) -> Diagnostic {
        let what = if TRIGGER_WORDS.contains(&self.keyword) {
            format!("a trigger such as `{}`", self.keyword)
        } else if STEP_WORDS.contains(&self.keyword) {
            format!("a step such as `{}`", self.keyword)
        } else {
            format!("`{}`", self.keyword)
        };
        let span = self.span.shift(offset);
        Diagnostic::error(
            file,
            "syntax-error",
            format!("expected {what}, found `{}`", self.word),
            span,
        )
        .with_label("not a keyword")
        .with_help(format!("did you mean `{}`?", self.keyword))
        .with_fix(Fix {
            title: format!("replace `{}` with `{}`", self.word, self.keyword),
            safety: Safety::Safe,
            edits: vec![Edit {
                span,
                replacement: self.keyword.to_string(),
            }],
        })
    }
}

/// The misspelt keyword to blame: the token where parsing stopped when it is close to
/// a keyword of what was expected, or else — when pest could say nothing useful — the
/// word just before it (`stage chaged to …` stops at `to`).
fn keyword_typo(
    text: &str,
    pos: usize,
    found: Option<&str>,
    after: Option<&str>,
    phrases: &[&str],
) -> Option<Typo> {
    let all = || {
        TRIGGER_WORDS
            .iter()
            .chain(STEP_WORDS)
            .chain(OTHER_WORDS)
            .copied()
    };
    let is_word = |w: &str| w.chars().next().is_some_and(|c| c.is_alphabetic()) && w.len() > 2;
    let expected: &[&str] = match phrases.first() {
        Some(p) if *p == PHRASES[0] => TRIGGER_WORDS,
        Some(p) if *p == PHRASES[3] => STEP_WORDS,
        _ => &[],
    };
    if let Some(word) = found.filter(|w| is_word(w) && !all().any(|k| k == *w)) {
        if let Some(keyword) = closest(word, expected.iter().copied()) {
            return Some(Typo {
                span: Span::new(pos, pos + word.len()),
                word: word.to_string(),
                keyword,
            });
        }
    }
    if !phrases.is_empty() {
        return None;
    }
    let word = after.filter(|w| is_word(w) && !all().any(|k| k == *w))?;
    let keyword = closest(word, all())?;
    let start = text.get(..pos)?.rfind(word)?;
    Some(Typo {
        span: Span::new(start, start + word.len()),
        word: word.to_string(),
        keyword,
    })
}

/// A form users write from other languages or from Attio's own words, close to one of
/// ours: what to write instead.
struct NearMiss {
    span: Span,
    message: String,
    help: String,
    /// A safe edit of `span`, when there is one.
    replacement: Option<String>,
}

impl NearMiss {
    fn diagnostic(&self, file: &Arc<SourceFile>, offset: usize) -> Diagnostic {
        let span = self.span.shift(offset);
        let mut d = Diagnostic::error(file, "syntax-error", self.message.clone(), span)
            .with_help(self.help.clone());
        if let Some(replacement) = &self.replacement {
            d = d.with_fix(Fix {
                title: format!("write `{}`", replacement.trim()),
                safety: Safety::Safe,
                edits: vec![Edit {
                    span,
                    replacement: replacement.clone(),
                }],
            });
        }
        d
    }
}

/// The near miss at `pos`, where parsing stopped, if it is one we know. `found` is
/// the token there, `after` the one before it.
fn near_miss(text: &str, pos: usize, found: Option<&str>, after: Option<&str>) -> Option<NearMiss> {
    let found = found?;
    let word_at = |at: usize| -> &str {
        let rest = text.get(at..).unwrap_or("");
        let n = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        &rest[..n]
    };
    // `email_addresses[0]`: the name, then a bracket glued to it.
    let name = word_at(pos);
    if !name.is_empty()
        && text
            .get(pos + name.len()..)
            .is_some_and(|r| r.starts_with('['))
    {
        let open = pos + name.len();
        let end = text[open..].find(']').map_or(open + 1, |e| open + e + 1);
        return Some(NearMiss {
            span: Span::new(open, end),
            message: "lists are not indexed with `[…]`".to_string(),
            help: format!("`first({name})` is the first item (of `email_addresses`: a person's primary address); `for each x in {name} do … end` walks them all"),
            replacement: None,
        });
    }
    // `contains any of [a, b]`: `of` was read as a name.
    if let (Some(head), "[") = (text[..pos].trim_end().strip_suffix("of"), found) {
        let head = head.trim_end();
        if head.ends_with("contains any") || head.ends_with("contains all") {
            return Some(NearMiss {
                span: Span::new(text[..pos].trim_end().len() - 2, pos),
                message: "`contains any` and `contains all` take the list directly, without `of`"
                    .to_string(),
                help: "write `tags contains any [vip, partner]`".to_string(),
                replacement: Some(String::new()),
            });
        }
    }
    // `entry changed in "Onboarding"`: the list's name without `list`.
    if after == Some("in") && found.starts_with('"') && text[..pos].contains("changed") {
        return Some(NearMiss {
            span: Span::new(pos, pos + found.len()),
            message: "a list is named with `list`: `in list \"…\"`".to_string(),
            help: format!("write `in list {found}`"),
            replacement: Some(format!("list {found}")),
        });
    }
    // `when entry updated in list "…"`: read as an object `entry` and `updated`.
    if found == "in" && after == Some("updated") {
        if let Some(head) = text[..pos].trim_end().strip_suffix("updated") {
            if head.trim_end().ends_with("entry") {
                return Some(NearMiss {
                    span: Span::new(head.len(), head.len() + "updated".len()),
                    message: "an entry's trigger is `entry changed`, not `entry updated`"
                        .to_string(),
                    help: "write `when entry changed in list \"Onboarding\"`".to_string(),
                    replacement: Some("changed".to_string()),
                });
            }
        }
    }
    // `when list entry updated`: Attio's words for a list-entry trigger.
    if let Some(head) = text[..pos].trim_end().strip_suffix("entry") {
        if let Some(start) = head.trim_end().strip_suffix("list").map(str::len) {
            return Some(NearMiss {
                span: Span::new(start, pos + found.len()),
                message: "a change to a list entry is written `entry changed in list \"…\"`".to_string(),
                help: "write `when entry changed in list \"Onboarding\"`, or watch one of the entry's attributes: `when stage changed to Live in list \"Onboarding\"`".to_string(),
                replacement: None,
            });
        }
        // `when entry updated in list "…"`: the record's word for the entry's trigger.
        if found == "updated" && (head.is_empty() || head.ends_with(char::is_whitespace)) {
            return Some(NearMiss {
                span: Span::new(pos, pos + found.len()),
                message: "an entry's trigger is `entry changed`, not `entry updated`".to_string(),
                help: "write `when entry changed in list \"Onboarding\"`".to_string(),
                replacement: Some("changed".to_string()),
            });
        }
    }
    // `for deal in deals do`: the loop without `each`.
    if let (Some(head), false) = (text[..pos].trim_end().strip_suffix("for"), found == "each") {
        let rest = text[pos + found.len()..].trim_start();
        if (rest.starts_with("in ") || rest.starts_with("in\t")) && after == Some("for") {
            let start = head.len();
            return Some(NearMiss {
                span: Span::new(start, start + 3),
                message: "a loop is written `for each <name> in <list> do … end`".to_string(),
                help: "add `each`: `for each deal in open_deals do … end`".to_string(),
                replacement: Some("for each".to_string()),
            });
        }
    }
    None
}

/// Where a string that is never closed opens, if the item has one. Comments and
/// `{{ }}` holes (which may hold strings of their own) are understood.
fn unclosed_string(text: &str) -> Option<usize> {
    // Each open string's start; a hole inside a string counts as code.
    let mut strings: Vec<usize> = Vec::new();
    let mut holes = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let in_string = strings.len() > holes;
        match bytes[i] {
            b'\\' if in_string => i += 1,
            b'"' if in_string => {
                strings.pop();
            }
            b'"' => strings.push(i),
            b'{' if in_string && bytes.get(i + 1) == Some(&b'{') => {
                holes += 1;
                i += 1;
            }
            b'}' if !in_string && holes > 0 && bytes.get(i + 1) == Some(&b'}') => {
                holes -= 1;
                i += 1;
            }
            b'#' if !in_string => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    strings.first().copied()
}
