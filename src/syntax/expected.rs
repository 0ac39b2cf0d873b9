//! Turns pest's "expected one of these rules" into words a rule author understands.
//!
//! pest reports grammar rule names; users must never see them. Each rule maps to a
//! phrase, phrases are deduplicated in a fixed order of usefulness, and the message
//! names the token after which the parser got stuck.

use std::sync::Arc;

use pest::error::{Error, ErrorVariant, InputLocation};

use super::Rule;
use crate::diagnostics::Diagnostic;
use crate::source::{SourceFile, Span};

/// A syntax diagnostic for a failed item parse. `offset` is where the item's text starts.
pub(super) fn syntax_error(
    file: &Arc<SourceFile>,
    offset: usize,
    text: &str,
    error: &Error<Rule>,
) -> Diagnostic {
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
        | contains_op | starts_with_op | ends_with_op | before_op | after_op | within_last_op
        | within_next_op | add_op | sub_op | mul_op | div_op | is_set_op | is_empty_op
        | is_not_set_op | is_not_empty_op => PHRASES[6],
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
