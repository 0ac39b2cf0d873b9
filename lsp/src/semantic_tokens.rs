//! Semantic tokens (full document): keywords, strings, numbers and comments from the
//! lexer; objects, attributes, options, lists, teams, bindings, functions and lints
//! from name resolution.

use std::collections::HashMap;

use tower_lsp_server::ls_types::{
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokens, SemanticTokensLegend,
};

use crate::analysis::DocAnalysis;
use crate::lexer::{self, Kind};
use crate::position::Lines;
use crate::resolve::{self, Meaning};

/// Token types, in legend order.
pub const TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::CLASS,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::EVENT,
    SemanticTokenType::PARAMETER,
];

const KEYWORD: u32 = 0;
const CLASS: u32 = 1;
const PROPERTY: u32 = 2;
const ENUM_MEMBER: u32 = 3;
const STRING: u32 = 4;
const NUMBER: u32 = 5;
const COMMENT: u32 = 6;
const OPERATOR: u32 = 7;
const FUNCTION: u32 = 8;
const VARIABLE: u32 = 9;
const EVENT: u32 = 10;
const PARAMETER: u32 = 11;

/// Modifier bit 0: where the name is declared.
const DECLARATION: u32 = 1;

/// The legend announced in `initialize`.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.to_vec(),
        token_modifiers: vec![SemanticTokenModifier::DECLARATION],
    }
}

/// Words that are keywords wherever they are not a name.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "contains",
    "starts",
    "ends",
    "with",
    "before",
    "after",
    "within",
    "true",
    "false",
    "empty",
    "now",
    "today",
    "do",
    "then",
    "else",
    "end",
    "if",
    "when",
    "every",
    "where",
    "as",
    "ago",
    "rule",
    "object",
    "list",
    "team",
    "webhook",
    "action",
    "test",
    "owner",
    "description",
    "on",
    "status",
    "limit",
    "per",
    "coalesce",
    "allow",
    "created",
    "updated",
    "deleted",
    "merged",
    "changed",
    "from",
    "to",
    "matches",
    "added",
    "removed",
    "note",
    "comment",
    "task",
    "completed",
    "call",
    "recorded",
    "failed",
    "times",
    "row",
    "at",
    "for",
    "each",
    "all",
    "cron",
    "set",
    "clear",
    "add",
    "remove",
    "slack",
    "dm",
    "email",
    "subject",
    "body",
    "template",
    "create",
    "due",
    "linked",
    "key",
    "find",
    "upsert",
    "by",
    "http",
    "headers",
    "wait",
    "until",
    "ask",
    "timeout",
    "route",
    "stop",
    "skip",
    "error",
    "continue",
    "retry",
    "of",
    "record",
    "select",
    "readonly",
    "unique",
    "required",
    "idempotent",
    "given",
    "redeliver",
    "command",
    "event",
    "expect",
    "no",
    "last",
    "next",
    "day",
    "days",
    "weekday",
    "hour",
    "hours",
    "minute",
    "minutes",
    "second",
    "seconds",
    "week",
    "weeks",
    "month",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "active",
    "paused",
    "draft",
    "archived",
    "GET",
    "POST",
    "PUT",
    "PATCH",
    "DELETE",
];

fn classify(meaning: &Meaning) -> u32 {
    match meaning {
        Meaning::Object(_) => CLASS,
        Meaning::Attribute { .. } | Meaning::Field { .. } => PROPERTY,
        Meaning::Option { .. } => ENUM_MEMBER,
        Meaning::Builtin(_) | Meaning::Binding { .. } | Meaning::Team(_) | Meaning::Rule(_) => {
            VARIABLE
        }
        Meaning::List(_) => STRING,
        Meaning::Webhook(_) => EVENT,
        Meaning::Action(_) | Meaning::Function(_) => FUNCTION,
        Meaning::Param { .. } => PARAMETER,
        Meaning::Lint(_) => KEYWORD,
    }
}

/// Every token of the document, delta-encoded.
pub fn semantic_tokens(analysis: &DocAnalysis, lines: &Lines<'_>) -> SemanticTokens {
    let text = analysis.text();
    let mut names: HashMap<(u32, u32), (u32, bool)> = HashMap::new();
    if let Some(document) = analysis.document() {
        for (index, item) in document.items.iter().enumerate() {
            for name in resolve::item_names(analysis, index, item) {
                names.insert(
                    (name.span.start, name.span.end),
                    (classify(&name.meaning), name.declaration),
                );
            }
        }
    }
    let mut absolute: Vec<(u32, u32, u32, u32, u32)> = Vec::new();
    for token in lexer::lex(text) {
        let (ty, declaration) = match token.kind {
            Kind::Comment => (COMMENT, false),
            Kind::Str => (STRING, false),
            Kind::Number => (NUMBER, false),
            Kind::HoleBrace => (OPERATOR, false),
            Kind::Punct => continue,
            Kind::Word => match names.get(&(token.span.start, token.span.end)) {
                Some(&(ty, declaration)) => (ty, declaration),
                None => {
                    let word = text.get(token.span.lo()..token.span.hi()).unwrap_or("");
                    if KEYWORDS.contains(&word) {
                        (KEYWORD, false)
                    } else {
                        continue;
                    }
                }
            },
        };
        let modifiers = if declaration { DECLARATION } else { 0 };
        // One token per line: strings and comments may span lines.
        let mut start = token.span.lo();
        let end = token.span.hi();
        while start < end {
            let piece_end = text
                .get(start..end)
                .and_then(|s| s.find('\n'))
                .map_or(end, |n| start + n);
            let a = lines.position(start);
            let b = lines.position(piece_end);
            if b.character > a.character {
                absolute.push((
                    a.line,
                    a.character,
                    b.character - a.character,
                    ty,
                    modifiers,
                ));
            }
            start = piece_end + 1;
        }
    }
    let mut data = Vec::with_capacity(absolute.len());
    let (mut line, mut col) = (0, 0);
    for (l, c, length, ty, modifiers) in absolute {
        let delta_line = l - line;
        let delta_start = if delta_line == 0 { c - col } else { c };
        data.push(SemanticToken {
            delta_line,
            delta_start,
            length,
            token_type: ty,
            token_modifiers_bitset: modifiers,
        });
        line = l;
        col = c;
    }
    SemanticTokens {
        result_id: None,
        data,
    }
}
