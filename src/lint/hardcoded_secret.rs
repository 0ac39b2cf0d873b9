//! `hardcoded-secret`: a credential written into a rule instead of `secret("NAME")`.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::syntax::ast::{
    Expr, ExprKind, HeaderKind, MapEntry, Part, Rule, ScheduleKind, Step, StringLit, StringPart,
    TriggerClause, TriggerKind,
};

pub(super) const LINT: Lint = Lint {
    name: "hardcoded-secret",
    default: Level::Error,
    summary: "a token-looking literal is written in a rule instead of `secret(\"NAME\")`",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# hardcoded-secret

## What it does
Flags a string anywhere in a rule — headers, conditions, messages, `http` URLs,
headers and bodies, custom action arguments, strings inside `{{ }}` holes — whose
fixed text contains something that looks like a credential:

- Slack tokens (`xoxb-…`, `xoxp-…`, `xoxa-…`, `xoxr-…`, `xoxs-…`) and Slack incoming
  webhook URLs (`hooks.slack.com/services/T…/B…/…`);
- Stripe keys (`sk_live_…`, `rk_live_…`, `sk_test_…`);
- GitHub tokens (`ghp_…`, `gho_…`, `ghu_…`, `ghs_…`, `ghr_…`, `github_pat_…`);
- AWS access key ids (`AKIA…`, `ASIA…`);
- `Bearer …` or `Basic …` followed by a long random-looking value;
- URLs with a password in them (`https://user:password@host`).

Only fixed text counts: `"Bearer {{secret("ERP_TOKEN")}}"` is fine, and the name in
`secret("NAME")` is never read as a credential.

## Why is this bad?
Rules live in a repository, in compiled JSON and in run histories: a token written
into one is readable by everyone who can read those, and stays in version control
after it is removed. Careless API use "leaks tokens, double-writes records, and
spirals rate-limit costs". A hard-coded token also breaks quietly: when the Slack
token is rotated 90 days later, every rule that carries the old one fails silently —
three months of missed handoff notifications, tens of thousands in pipeline if even
5% of MQLs are dropped. A secret kept by the host is rotated in one place.

## Example
```rules
rule push_won
  owner "revops@acme.com"
  description "Sends each won deal to the ERP"
  on deals
  when stage changed to ClosedWon
  do
    http POST "https://erp.example.com/api/deals" headers { Authorization: "Bearer 9f86d081884c7d659a2feaa0c55ad015" } body { id: event.id } key event.id
```

## Use instead
```rules
rule push_won
  owner "revops@acme.com"
  description "Sends each won deal to the ERP"
  on deals
  when stage changed to ClosedWon
  do
    http POST "https://erp.example.com/api/deals" headers { Authorization: "Bearer {{secret("ERP_TOKEN")}}" } body { id: event.id } key event.id
```

## Fix
Store the value in the host's secret store under a name and write `secret("NAME")`
where it is used: in an `http` step's URL, headers or body (inside a `{{ }}` hole when
it is part of a string, as above) or in a custom action's argument. For a Slack
webhook URL, keep the fixed part and put the path in a secret:
`"https://hooks.slack.com/services/{{secret("SLACK_HOOK")}}"`. Then rotate the
credential: it has been committed. There is no automatic fix: the secret store is
outside the rule file.

## When to allow
When the value only looks like a credential — a documented public test key, or an
example string in a message — say so:
`allow hardcoded-secret "Stripe's published test key, used in the sandbox"`.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let mut strings = Vec::new();
    rule_strings(cx.ast, &mut strings);
    let rule = &cx.ir.id;
    for lit in strings {
        // Holes are run-time values; only text written in the file can leak.
        let found = lit.parts.iter().find_map(|part| match part {
            StringPart::Text { value, .. } => credential(value.as_bytes()),
            StringPart::Hole(_) => None,
        });
        if let Some(what) = found {
            out.push(
                Finding::new(
                    lit.span,
                    format!("rule `{rule}` contains {what}; store it as a secret and write `secret(\"NAME\")`"),
                )
                .help("move the value to the host's secret store and write `secret(\"NAME\")` where it is used (an `http` step's URL, headers or body, or a custom action's argument), then rotate it: it has been committed"),
            );
        }
    }
}

// ---- every string literal of a rule ----

fn rule_strings<'a>(rule: &'a Rule, out: &mut Vec<&'a StringLit>) {
    for header in &rule.headers {
        match &header.kind {
            HeaderKind::Rule { title: Some(s), .. }
            | HeaderKind::Allow {
                reason: Some(s), ..
            }
            | HeaderKind::Owner(s)
            | HeaderKind::Description(s) => lit_strings(s, out),
            _ => {}
        }
    }
    match &rule.trigger {
        TriggerClause::When(when) => {
            match &when.trigger.kind {
                TriggerKind::Changed { from, to, .. } => {
                    for values in [from, to].into_iter().flatten() {
                        for item in &values.items {
                            expr_strings(item, out);
                        }
                    }
                }
                TriggerKind::Matches(filter) => expr_strings(filter, out),
                TriggerKind::AddedToList(s) | TriggerKind::RemovedFromList(s) => {
                    lit_strings(s, out)
                }
                _ => {}
            }
            if let Some(condition) = &when.condition {
                expr_strings(condition, out);
            }
        }
        TriggerClause::Every(every) => {
            if let ScheduleKind::Cron(s) = &every.schedule.kind {
                lit_strings(s, out);
            }
            if let Some(zone) = &every.zone {
                lit_strings(zone, out);
            }
            if let Some(filter) = every.for_clause.as_ref().and_then(|f| f.filter.as_ref()) {
                expr_strings(filter, out);
            }
        }
    }
    step_strings(&rule.steps, out);
}

fn step_strings<'a>(steps: &'a [Step], out: &mut Vec<&'a StringLit>) {
    for step in crate::syntax::ast::all_steps(steps) {
        for part in step.kind.parts() {
            match part {
                Part::Expr(e) => expr_strings(e, out),
                Part::Str(s) => lit_strings(s, out),
            }
        }
    }
}

fn entry_strings<'a>(entries: &'a [MapEntry], out: &mut Vec<&'a StringLit>) {
    for entry in entries {
        expr_strings(&entry.value, out);
    }
}

fn lit_strings<'a>(s: &'a StringLit, out: &mut Vec<&'a StringLit>) {
    out.push(s);
    for part in &s.parts {
        if let StringPart::Hole(e) = part {
            expr_strings(e, out);
        }
    }
}

fn expr_strings<'a>(e: &'a Expr, out: &mut Vec<&'a StringLit>) {
    match &e.kind {
        ExprKind::String(s) => lit_strings(s, out),
        ExprKind::List(items) => {
            for item in items {
                expr_strings(item, out);
            }
        }
        ExprKind::Map(entries) => entry_strings(entries, out),
        // `secret("NAME")` holds the name of a secret, which is what we want written.
        ExprKind::Call { name, .. } if name.name == "secret" => {}
        ExprKind::Call { args, .. } => {
            for arg in args {
                expr_strings(arg, out);
            }
        }
        ExprKind::Unary { operand, .. }
        | ExprKind::Test { operand, .. }
        | ExprKind::InList { operand, .. }
        | ExprKind::Paren(operand) => expr_strings(operand, out),
        ExprKind::Binary { lhs, rhs, .. } => {
            expr_strings(lhs, out);
            expr_strings(rhs, out);
        }
        ExprKind::Number(_)
        | ExprKind::Bool(_)
        | ExprKind::Empty
        | ExprKind::Now
        | ExprKind::Today
        | ExprKind::Date(_)
        | ExprKind::DateTime(_)
        | ExprKind::Duration(_)
        | ExprKind::Ago(_)
        | ExprKind::FromNow(_)
        | ExprKind::Path(_) => {}
    }
}

// ---- recognising credentials ----

/// A credential recognised by its prefix and the characters that follow it.
struct Prefixed {
    prefixes: &'static [&'static str],
    /// At least this many characters of `class` after the prefix.
    min: usize,
    class: fn(u8) -> bool,
    what: &'static str,
}

const PREFIXED: &[Prefixed] = &[
    Prefixed {
        prefixes: &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"],
        min: 10,
        class: alnum_or_dash,
        what: "a Slack token",
    },
    Prefixed {
        prefixes: &["sk_live_", "rk_live_", "sk_test_"],
        min: 10,
        class: alnum,
        what: "a Stripe secret key",
    },
    Prefixed {
        prefixes: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        min: 20,
        class: alnum,
        what: "a GitHub token",
    },
    Prefixed {
        prefixes: &["github_pat_"],
        min: 20,
        class: alnum_or_underscore,
        what: "a GitHub token",
    },
];

/// What kind of credential the text contains, if any.
fn credential(text: &[u8]) -> Option<&'static str> {
    for token in PREFIXED {
        for prefix in token.prefixes {
            let prefix = prefix.as_bytes();
            let hit = occurrences(text, prefix, false).into_iter().any(|at| {
                starts_word(text, at) && run(text, at + prefix.len(), token.class) >= token.min
            });
            if hit {
                return Some(token.what);
            }
        }
    }
    if slack_webhook(text) {
        return Some("a Slack webhook URL");
    }
    if aws_key_id(text) {
        return Some("an AWS access key id");
    }
    if url_password(text) {
        return Some("a URL with a password in it");
    }
    for (scheme, what) in [
        (&b"bearer "[..], "a bearer token"),
        (&b"basic "[..], "basic-auth credentials"),
    ] {
        let hit = occurrences(text, scheme, true).into_iter().any(|at| {
            let start = at + scheme.len();
            let len = run(text, start, token_char);
            starts_word(text, at)
                && len >= 16
                && text.get(start..start + len).is_some_and(looks_random)
        });
        if hit {
            return Some(what);
        }
    }
    None
}

/// `hooks.slack.com/services/T…/B…/…`: whoever has the URL can post to the channel.
fn slack_webhook(text: &[u8]) -> bool {
    const HOST: &[u8] = b"hooks.slack.com/services/";
    occurrences(text, HOST, true).into_iter().any(|at| {
        let rest = text.get(at + HOST.len()..).unwrap_or_default();
        let mut segments = rest.splitn(3, |b| *b == b'/');
        let (Some(team), Some(bot), Some(key)) =
            (segments.next(), segments.next(), segments.next())
        else {
            return false;
        };
        let id = |segment: &[u8], first: u8| {
            segment.first() == Some(&first)
                && segment.len() >= 2
                && segment.iter().all(|b| alnum(*b))
        };
        id(team, b'T') && id(bot, b'B') && run(key, 0, alnum) >= 1
    })
}

/// `AKIA` or `ASIA` and exactly 16 upper-case letters or digits, as a whole word.
fn aws_key_id(text: &[u8]) -> bool {
    ["AKIA", "ASIA"].into_iter().any(|prefix| {
        occurrences(text, prefix.as_bytes(), false)
            .into_iter()
            .any(|at| {
                let start = at + prefix.len();
                let len = run(text, start, |b| {
                    b.is_ascii_uppercase() || b.is_ascii_digit()
                });
                starts_word(text, at)
                    && len == 16
                    && !text
                        .get(start + len)
                        .is_some_and(|b| b.is_ascii_alphanumeric())
            })
    })
}

/// `scheme://user:password@host`: a password in the authority of a URL.
fn url_password(text: &[u8]) -> bool {
    occurrences(text, b"://", false).into_iter().any(|at| {
        let has_scheme = at
            .checked_sub(1)
            .and_then(|i| text.get(i))
            .is_some_and(|b| b.is_ascii_alphanumeric());
        let rest = text.get(at + 3..).unwrap_or_default();
        let end = rest
            .iter()
            .position(|b| matches!(*b, b'/' | b'?' | b'#') || b.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let authority = rest.get(..end).unwrap_or_default();
        let Some(at_sign) = authority.iter().rposition(|b| *b == b'@') else {
            return false;
        };
        let userinfo = authority.get(..at_sign).unwrap_or_default();
        let host = authority.get(at_sign + 1..).unwrap_or_default();
        let Some(colon) = userinfo.iter().position(|b| *b == b':') else {
            return false;
        };
        let password = userinfo.get(colon + 1..).unwrap_or_default();
        // `${PASSWORD}`, `<password>`, `%s`, `***` are placeholders, not passwords.
        let real = password
            .first()
            .is_some_and(|b| !matches!(*b, b'$' | b'<' | b'{' | b'%' | b'*'));
        has_scheme && real && !host.is_empty()
    })
}

/// A value after `Bearer `/`Basic ` that changes character class often, as random
/// tokens do and words (`Basic onboarding/introduction`) do not.
fn looks_random(token: &[u8]) -> bool {
    let class = |b: u8| {
        if b.is_ascii_lowercase() {
            0
        } else if b.is_ascii_uppercase() {
            1
        } else if b.is_ascii_digit() {
            2
        } else {
            3
        }
    };
    let changes = token
        .iter()
        .zip(token.iter().skip(1))
        .filter(|(a, b)| class(**a) != class(**b))
        .count();
    changes * 4 >= token.len()
}

/// Start offsets of `needle` in `text`.
fn occurrences(text: &[u8], needle: &[u8], ignore_case: bool) -> Vec<usize> {
    let Some(&first) = needle.first() else {
        return Vec::new();
    };
    if text.len() < needle.len() {
        return Vec::new();
    }
    // The texts are short (a rule's strings): building a `memmem` searcher for each
    // would cost more than it saves, so look for the first byte and compare.
    if !ignore_case {
        return memchr::memchr_iter(first, text)
            .filter(|&at| text.get(at..at + needle.len()) == Some(needle))
            .collect();
    }
    memchr::memchr2_iter(first.to_ascii_lowercase(), first.to_ascii_uppercase(), text)
        .filter(|&at| {
            text.get(at..at + needle.len())
                .is_some_and(|window| window.eq_ignore_ascii_case(needle))
        })
        .collect()
}

/// True when nothing word-like comes right before `at` (`task_live_…` is not a key).
fn starts_word(text: &[u8], at: usize) -> bool {
    at.checked_sub(1)
        .and_then(|i| text.get(i))
        .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
}

/// How many bytes from `from` on are in `class`.
fn run(text: &[u8], from: usize, class: fn(u8) -> bool) -> usize {
    text.get(from..)
        .map_or(0, |rest| rest.iter().take_while(|b| class(**b)).count())
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn alnum_or_dash(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

fn alnum_or_underscore(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Characters of base64, base64url and RFC 6750 bearer tokens.
fn token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'+' | b'/' | b'=' | b'-')
}
