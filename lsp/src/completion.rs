//! Completion that knows where the cursor is.
//!
//! The rule being typed rarely parses, so the context comes from the tokens before the
//! cursor (the lexer) and the names from the last analysis (the schema: objects,
//! attributes, options, lists, teams, webhooks, actions). The contexts:
//!
//! - start of an item or a header line: item keywords and headers;
//! - after `on`, `for`, `create`, `find`, `upsert`, `of`, `record(`: objects;
//! - after `when [<object>]`: triggers and attributes (for `<attr> changed`);
//! - after `to`/`from` of `changed`, `=`, `!=`, `in [`: the attribute's options;
//! - inside `list "…"`: lists; after `round_robin(`: teams; after `webhook`: webhooks;
//!   after `allow`: lints;
//! - after `do`/`then`/`else`/`=>` or at the start of a step line: actions, with their
//!   arguments, and custom actions;
//! - after `<path>.`: attributes through `record(…)`, `event.`, `payload.`, bindings;
//! - elsewhere in a condition or inside `{{ }}`: names in scope, functions, operators.

use rulec::schema::{Object, Schema, Type};
use rulec::syntax::split;
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, Documentation, InsertTextFormat, MarkupContent, MarkupKind,
    Position,
};

use crate::analysis::DocAnalysis;
use crate::hover::type_text;
use crate::keywords::{self, Keyword, ACTIONS, FUNCTIONS, HEADERS, ITEMS, OPERATORS, TRIGGERS};
use crate::lexer::{self, End, Kind, Token};
use crate::position::Lines;
use crate::resolve::guess_object;

/// What the cursor is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Context {
    /// Nothing to offer (a comment, a plain string).
    Nothing,
    /// The start of an item (or a header line).
    ItemStart,
    /// An object name.
    Object,
    /// After `when` or `when <object>`.
    Trigger,
    /// Options of `<object>.<attr>`.
    Options(String, String),
    /// A list name inside quotes.
    List,
    /// A team name.
    Team,
    /// A webhook name.
    Webhook,
    /// A lint name.
    Lint,
    /// The id of a rule to watch (`when rule <id> failed`).
    RuleId,
    /// A step.
    Step,
    /// An attribute of the rule's object (after `set`, `clear`).
    Attribute,
    /// After `<path>.`: the fields of what the path names.
    Member(Vec<String>),
    /// Names in scope, functions and operators.
    Expression,
}

struct Cursor<'a> {
    text: &'a str,
    /// Tokens of the current item before the cursor (the word being typed excluded),
    /// outside holes unless the cursor is in one.
    tokens: Vec<Token>,
    end: End,
    /// Where the word being typed starts.
    word_start: usize,
}

impl Cursor<'_> {
    fn word(&self, t: &Token) -> &str {
        self.text.get(t.span.lo()..t.span.hi()).unwrap_or("")
    }

    /// The n-th significant token before the cursor (0 = the last).
    fn back(&self, n: usize) -> Option<&str> {
        let t = self.tokens.iter().rev().nth(n)?;
        Some(self.word(t))
    }

    fn has_word(&self, word: &str) -> bool {
        self.tokens
            .iter()
            .any(|t| t.kind == Kind::Word && !t.in_hole && self.word(t) == word)
    }

    fn at_line_start(&self) -> bool {
        let before = self.text.get(..self.word_start).unwrap_or("");
        let line = before.rsplit('\n').next().unwrap_or("");
        line.trim().is_empty()
    }
}

/// The context at `offset` in `text`.
pub fn context_at(text: &str, offset: usize) -> (Context, usize) {
    let offset = offset.min(text.len());
    let chunks = split::split(text.get(..offset).unwrap_or("")).chunks;
    let item_start = chunks.last().map_or(0, |c| c.span.lo());
    let prefix = text.get(item_start..offset).unwrap_or("");
    let (mut tokens, end) = lexer::lex_with_end(prefix);
    let end = match end {
        End::Str(start) => End::Str(start + item_start),
        other => other,
    };
    for t in &mut tokens {
        t.span = t.span.shift(item_start);
    }
    let mut word_start = offset;
    if let Some(last) = tokens.last() {
        if last.kind == Kind::Word && last.span.hi() == offset {
            word_start = last.span.lo();
            tokens.pop();
        }
    }
    let cursor = Cursor {
        text,
        tokens,
        end,
        word_start,
    };
    (classify(&cursor), item_start)
}

fn classify(c: &Cursor<'_>) -> Context {
    match c.end {
        End::Comment => return Context::Nothing,
        End::Str(start) => {
            let before: Vec<&str> = c
                .tokens
                .iter()
                .filter(|t| t.span.hi() <= start)
                .rev()
                .take(1)
                .map(|t| c.word(t))
                .collect();
            return if before.first() == Some(&"list") {
                Context::List
            } else {
                Context::Nothing
            };
        }
        End::Hole => {
            let tokens: Vec<&Token> = c.tokens.iter().filter(|t| t.in_hole).collect();
            if let Some(path) = member_path(c, &tokens) {
                return Context::Member(path);
            }
            return Context::Expression;
        }
        End::Code => {}
    }
    let tokens: Vec<&Token> = c
        .tokens
        .iter()
        .filter(|t| !t.in_hole && t.kind != Kind::Comment)
        .collect();
    if let Some(path) = member_path(c, &tokens) {
        return Context::Member(path);
    }
    let last = c.back(0).unwrap_or("");
    let second = c.back(1).unwrap_or("");
    let first_word = tokens.first().map(|t| c.word(t)).unwrap_or("");
    let in_rule = !matches!(
        first_word,
        "object" | "list" | "team" | "webhook" | "action" | "test"
    );
    let past_trigger = c.has_word("when") || c.has_word("every") || c.has_word("cron");
    let past_do = c.has_word("do");
    if tokens.is_empty() {
        return Context::ItemStart;
    }
    match (second, last) {
        (_, "allow") => return Context::Lint,
        ("when", "rule") => return Context::RuleId,
        ("round_robin", "(") => return Context::Team,
        ("record", "(") => return Context::Object,
        (_, "on" | "for" | "create" | "find" | "upsert" | "of") if last != "on" || !past_do => {
            return Context::Object
        }
        (_, "webhook") if in_rule => return Context::Webhook,
        (_, "when") => return Context::Trigger,
        ("when", _) if c.word_start > 0 && is_object_word(last) => return Context::Trigger,
        (_, "set" | "clear") if past_do => return Context::Attribute,
        (_, "do" | "then" | "else" | "=>") => return Context::Step,
        _ => {}
    }
    if let Some((object, attr)) = options_target(c, &tokens) {
        return Context::Options(object, attr);
    }
    if !in_rule {
        return if c.at_line_start() {
            Context::ItemStart
        } else {
            Context::Nothing
        };
    }
    if c.at_line_start() {
        // Steps are indented; a word at the margin starts the next item.
        let at_margin =
            c.word_start == 0 || c.text.as_bytes().get(c.word_start - 1) == Some(&b'\n');
        if past_do && !at_margin {
            return Context::Step;
        }
        if at_margin && (past_do || !past_trigger) {
            return Context::ItemStart;
        }
        if !past_trigger {
            return Context::ItemStart;
        }
    }
    Context::Expression
}

/// Whether a word could name an object (the schema is not known here, so any
/// identifier qualifies; completion then offers triggers either way).
fn is_object_word(word: &str) -> bool {
    word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !word.is_empty()
}

/// `a.b.` before the cursor: the path's names.
fn member_path(c: &Cursor<'_>, tokens: &[&Token]) -> Option<Vec<String>> {
    let mut rev = tokens.iter().rev();
    let dot = rev.next()?;
    if c.word(dot) != "." || dot.span.hi() != c.word_start {
        return None;
    }
    let mut path = Vec::new();
    let mut expect_word = true;
    let mut prev_lo = dot.span.lo();
    for t in rev {
        if t.span.hi() != prev_lo {
            break;
        }
        let w = c.word(t);
        if expect_word && t.kind == Kind::Word {
            path.push(w.to_string());
        } else if !expect_word && w == "." {
        } else {
            break;
        }
        expect_word = !expect_word;
        prev_lo = t.span.lo();
    }
    path.reverse();
    (!path.is_empty()).then_some(path)
}

/// After `=`, `!=`, `in [`, or `changed [from|to]`: the attribute whose options fit.
/// The object is not known here; it is returned empty and filled in by the caller.
fn options_target(c: &Cursor<'_>, tokens: &[&Token]) -> Option<(String, String)> {
    let mut i = tokens.len();
    // Skip a list being written: `in [Open, Qua|`.
    while i > 0 {
        let w = c.word(tokens.get(i - 1)?);
        if w == ","
            || w == "["
            || (tokens.get(i - 1)?.kind == Kind::Word
                && w != "in"
                && w != "to"
                && w != "from"
                && w != "not")
        {
            if w == "[" || w == "," {
                i -= 1;
                continue;
            }
            // An option already written in the list.
            let prev = c.word(tokens.get(i.checked_sub(2)?)?);
            if prev == "," || prev == "[" {
                i -= 1;
                continue;
            }
            return None;
        }
        break;
    }
    let op = c.word(tokens.get(i.checked_sub(1)?)?);
    let before = |n: usize| tokens.get(i.checked_sub(n)?).map(|t| c.word(t));
    match op {
        "=" | "!=" | "in" => {
            // `stage = `, `stage != `, `stage in `, `stage not in `.
            let mut k = 2;
            if op == "in" && before(2) == Some("not") {
                k = 3;
            }
            let attr = before(k)?;
            if attr == "=" || attr == "!" {
                return None;
            }
            // `set stage = ` is an assignment: options fit there too.
            Some((String::new(), attr.to_string()))
        }
        "to" | "from" => {
            // `<attr> changed [from <vals>] to`.
            let changed = tokens[..i].iter().rposition(|t| c.word(t) == "changed")?;
            let attr = c.word(tokens.get(changed.checked_sub(1)?)?);
            Some((String::new(), attr.to_string()))
        }
        _ => None,
    }
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        ..CompletionItem::default()
    }
}

fn snippet(k: &Keyword, kind: CompletionItemKind) -> CompletionItem {
    CompletionItem {
        label: k.word.to_string(),
        kind: Some(kind),
        documentation: Some(Documentation::MarkupContent(MarkupContent {
            kind: MarkupKind::Markdown,
            value: k.doc.to_string(),
        })),
        insert_text: Some(k.snippet.to_string()),
        insert_text_format: Some(InsertTextFormat::SNIPPET),
        ..CompletionItem::default()
    }
}

fn attributes(object: &Object, out: &mut Vec<CompletionItem>) {
    for a in &object.attributes {
        out.push(item(
            &a.name,
            CompletionItemKind::FIELD,
            Some(format!("{}.{}: {}", object.name, a.name, type_text(&a.ty))),
        ));
    }
}

fn options(ty: &Type, out: &mut Vec<CompletionItem>) {
    let set = match ty {
        Type::List(inner) => inner.options(),
        ty => ty.options(),
    };
    if let Some(set) = set {
        for (i, o) in set.options.iter().enumerate() {
            let bare = o.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && o.chars().next().is_some_and(|c| !c.is_ascii_digit());
            let mut it = item(
                o,
                CompletionItemKind::ENUM_MEMBER,
                Some(format!(
                    "{} ({} of {})",
                    set.owner,
                    i + 1,
                    set.options.len()
                )),
            );
            // Pipeline order, not alphabetical.
            it.sort_text = Some(format!("{i:04}"));
            if !bare {
                it.insert_text = Some(format!("\"{o}\""));
            }
            out.push(it);
        }
    }
}

/// The binding `name` in the item text: the object of the `find`/`create`/`upsert` it
/// was bound by, or the shape of `ask`/`create task`.
fn binding_type(schema: &Schema, tokens: &[Token], text: &str, name: &str) -> Option<Type> {
    let word = |t: &Token| text.get(t.span.lo()..t.span.hi()).unwrap_or("");
    let at = tokens
        .windows(2)
        .rposition(|w| matches!(w, [a, b] if word(a) == "as" && word(b) == name))?;
    let step = tokens
        .get(..at)?
        .iter()
        .rposition(|t| matches!(word(t), "find" | "create" | "upsert" | "ask" | "http"))?;
    let verb = word(tokens.get(step)?);
    let next = word(tokens.get(step + 1)?);
    match verb {
        "find" | "upsert" | "create" if next != "task" => {
            schema.object(next).map(|o| Type::Record(o.name.clone()))
        }
        _ => None,
    }
}

/// Completions at `position` of the analysed text.
pub fn completion(
    analysis: &DocAnalysis,
    lines: &Lines<'_>,
    position: Position,
) -> Vec<CompletionItem> {
    let (context, _) = context_at(lines.text(), lines.offset(position));
    if context == Context::RuleId {
        return rule_ids(analysis);
    }
    complete(analysis.schema(), lines, position)
}

/// The rules `rule <id> failed` can watch: those with a `rule <id>` header, in every
/// file checked with the document.
fn rule_ids(analysis: &DocAnalysis) -> Vec<CompletionItem> {
    let mut out: Vec<CompletionItem> = analysis
        .analysis()
        .checked
        .rules
        .iter()
        .filter(|r| !r.id.contains('#'))
        .map(|r| {
            item(
                &r.id,
                CompletionItemKind::FUNCTION,
                r.title.clone().or_else(|| r.description.clone()),
            )
        })
        .collect();
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out.dedup_by(|a, b| a.label == b.label);
    out
}

/// Completions at `position` of the text `lines` holds, with the names of `schema`.
/// The schema may come from an analysis of an earlier version of the text: while a
/// rule is typed the declarations rarely change, and completion must not wait for a
/// whole large document to be checked again.
pub fn complete(schema: &Schema, lines: &Lines<'_>, position: Position) -> Vec<CompletionItem> {
    let text = lines.text();
    let offset = lines.offset(position);
    let (context, item_start) = context_at(text, offset);
    let item_text = text.get(item_start..offset).unwrap_or("");
    let object = guess_object(schema, item_text);
    let mut out = Vec::new();
    let scope_names = |out: &mut Vec<CompletionItem>| {
        match object {
            Some(o) => attributes(o, out),
            None => {
                for o in &schema.objects {
                    attributes(o, out);
                }
            }
        }
        for (name, _) in keywords::SHAPES.iter().take(1) {
            out.push(item(
                name,
                CompletionItemKind::VARIABLE,
                keywords::builtin_doc(name).map(str::to_string),
            ));
        }
        if entry_list(schema, item_text).is_some() {
            out.push(item(
                "entry",
                CompletionItemKind::VARIABLE,
                keywords::builtin_doc("entry").map(str::to_string),
            ));
        }
        for name in [
            "old", "payload", "failure", "note", "comment", "task", "call",
        ] {
            if name == "old" && object.is_none() {
                continue;
            }
            if item_text.contains(match name {
                "payload" => "webhook",
                "failure" => "failed",
                "old" => "",
                other => other,
            }) {
                out.push(item(
                    name,
                    CompletionItemKind::VARIABLE,
                    keywords::builtin_doc(name).map(str::to_string),
                ));
            }
        }
        let tokens = lexer::lex(item_text);
        for w in tokens.windows(2) {
            if let [a, b] = w {
                if item_text.get(a.span.lo()..a.span.hi()) == Some("as") {
                    if let Some(name) = item_text.get(b.span.lo()..b.span.hi()) {
                        out.push(item(
                            name,
                            CompletionItemKind::VARIABLE,
                            Some("bound with `as`".into()),
                        ));
                    }
                }
            }
        }
    };
    match context {
        Context::Nothing => {}
        Context::ItemStart => {
            for k in ITEMS {
                out.push(snippet(k, CompletionItemKind::KEYWORD));
            }
            for k in HEADERS {
                out.push(snippet(k, CompletionItemKind::KEYWORD));
            }
        }
        Context::Object => {
            for o in &schema.objects {
                out.push(item(
                    &o.name,
                    CompletionItemKind::CLASS,
                    Some(format!("object ({} attributes)", o.attributes.len())),
                ));
            }
        }
        Context::Trigger => {
            // `when <object> |`: the object is written, the trigger follows.
            let object_written = lexer::lex(item_text)
                .last()
                .and_then(|t| item_text.get(t.span.lo()..t.span.hi()))
                .is_some_and(|w| {
                    schema.object(w).is_some() && item_text.ends_with(char::is_whitespace)
                });
            for o in schema.objects.iter().filter(|_| !object_written) {
                out.push(item(
                    &o.name,
                    CompletionItemKind::CLASS,
                    Some("object".into()),
                ));
            }
            for k in TRIGGERS {
                out.push(snippet(k, CompletionItemKind::EVENT));
            }
            if let Some(o) = object {
                for a in &o.attributes {
                    let mut it = item(
                        &format!("{} changed", a.name),
                        CompletionItemKind::EVENT,
                        Some(type_text(&a.ty)),
                    );
                    it.insert_text = Some(format!("{} changed", a.name));
                    out.push(it);
                }
            }
        }
        Context::Options(_, attr) => {
            let owner = object
                .and_then(|o| o.attribute(&attr))
                .or_else(|| schema.objects.iter().find_map(|o| o.attribute(&attr)));
            if let Some(a) = owner {
                options(&a.ty, &mut out);
            }
            if attr == "source" && item_text.contains("event.source") {
                for o in ["app", "api", "import", "workflow", "rule"] {
                    out.push(item(
                        o,
                        CompletionItemKind::ENUM_MEMBER,
                        Some("event.source".into()),
                    ));
                }
            }
            if out.is_empty() {
                scope_names(&mut out);
            }
        }
        Context::List => {
            for l in &schema.lists {
                out.push(item(
                    &l.name,
                    CompletionItemKind::VALUE,
                    Some(format!("list of {}", l.object)),
                ));
            }
        }
        Context::Team => {
            for t in &schema.teams {
                out.push(item(
                    &t.name,
                    CompletionItemKind::CONSTANT,
                    Some(t.members.join(", ")),
                ));
            }
        }
        Context::Webhook => {
            for w in &schema.webhooks {
                let fields: Vec<&str> = w.payload.fields.iter().map(|(n, _)| n.as_str()).collect();
                out.push(item(
                    &w.name,
                    CompletionItemKind::EVENT,
                    Some(format!("payload {{ {} }}", fields.join(", "))),
                ));
            }
        }
        // Rule ids need the analysis: `completion` answers them.
        Context::RuleId => {}
        Context::Lint => {
            for l in rulec::lint::LINTS {
                let mut it = item(
                    l.name,
                    CompletionItemKind::KEYWORD,
                    Some(l.summary.to_string()),
                );
                it.insert_text = Some(format!("{} \"${{1:reason}}\"", l.name));
                it.insert_text_format = Some(InsertTextFormat::SNIPPET);
                out.push(it);
            }
        }
        Context::Step => {
            for k in ACTIONS {
                out.push(snippet(k, CompletionItemKind::FUNCTION));
            }
            for a in &schema.actions {
                let params: Vec<String> = a
                    .params
                    .iter()
                    .enumerate()
                    .map(|(i, (n, _))| format!("{n}: ${{{}}}", i + 1))
                    .collect();
                let detail: Vec<String> =
                    a.params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
                let mut it = item(
                    &a.name,
                    CompletionItemKind::FUNCTION,
                    Some(format!(
                        "{}({}){}",
                        a.name,
                        detail.join(", "),
                        if a.idempotent { " idempotent" } else { "" }
                    )),
                );
                it.insert_text = Some(format!("{}({})", a.name, params.join(", ")));
                it.insert_text_format = Some(InsertTextFormat::SNIPPET);
                out.push(it);
            }
        }
        Context::Attribute => match object {
            Some(o) => attributes(o, &mut out),
            None => scope_names(&mut out),
        },
        Context::Member(path) => {
            let tokens = lexer::lex(item_text);
            let mut names = path.iter();
            let head = names.next().map(String::as_str).unwrap_or("");
            let mut current: Option<Type> = None;
            let mut shape: Option<&str> = None;
            if let Some(ty) = binding_type(schema, &tokens, item_text, head) {
                current = Some(ty);
            } else if let Some(a) = object.and_then(|o| o.attribute(head)) {
                current = Some(a.ty.clone());
            } else if matches!(head, "old" | "record") {
                current = object.map(|o| Type::Record(o.name.clone()));
            } else if head == "entry" {
                current = entry_list(schema, item_text).map(|l| Type::Struct(l.entry_shape()));
            } else if head == "payload" {
                let word = |t: &Token| item_text.get(t.span.lo()..t.span.hi()).unwrap_or("");
                let webhook = tokens
                    .windows(2)
                    .find(|w| matches!(w, [a, _] if word(a) == "webhook"))
                    .and_then(|w| w.get(1))
                    .and_then(|t| schema.webhook(word(t)));
                current = webhook.map(|w| Type::Struct(w.payload.clone()));
            } else if let Some(o) = schema.object(head) {
                current = Some(Type::Record(o.name.clone()));
            } else {
                shape = keywords::SHAPES
                    .iter()
                    .find(|(n, _)| *n == head)
                    .map(|(n, _)| *n);
            }
            for name in names {
                current = match current {
                    Some(Type::Record(o)) => schema
                        .object(&o)
                        .and_then(|o| o.attribute(name))
                        .map(|a| a.ty.clone()),
                    Some(Type::Struct(s)) => s.field(name).cloned(),
                    _ => None,
                };
                shape = None;
            }
            match (current, shape) {
                (Some(Type::Record(o)), _) => {
                    if let Some(o) = schema.object(&o) {
                        attributes(o, &mut out);
                    }
                }
                (Some(Type::Struct(s)), _) => {
                    for (n, t) in &s.fields {
                        out.push(item(n, CompletionItemKind::FIELD, Some(type_text(t))));
                    }
                }
                (_, Some(shape)) => {
                    if let Some((_, fields)) = keywords::SHAPES.iter().find(|(n, _)| *n == shape) {
                        for f in *fields {
                            let ty = keywords::shape_field_type(shape, f)
                                .map(|t| format!(": {t}"))
                                .unwrap_or_default();
                            out.push(item(
                                f,
                                CompletionItemKind::FIELD,
                                Some(format!("{shape}.{f}{ty}")),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        Context::Expression => {
            scope_names(&mut out);
            for k in FUNCTIONS {
                out.push(snippet(k, CompletionItemKind::FUNCTION));
            }
            for k in OPERATORS {
                out.push(snippet(k, CompletionItemKind::OPERATOR));
            }
            if !item_text.contains(" do") && !item_text.contains("\ndo") {
                out.push(snippet(
                    &Keyword {
                        word: "do",
                        snippet: "do\n  ",
                        doc: "`do`: the steps follow",
                    },
                    CompletionItemKind::KEYWORD,
                ));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|i| seen.insert(i.label.clone()));
    out
}

/// The list whose entry triggers the rule being written (`added to list "X"`,
/// `… in list "X"` in its trigger), as far as the text before the cursor says.
fn entry_list<'s>(schema: &'s Schema, item_text: &str) -> Option<&'s rulec::schema::List> {
    let trigger = item_text.split(" do").next()?;
    let after_when = trigger.split_once("when")?.1;
    let head = after_when.split(" and ").next()?;
    let name = head.split_once("list \"")?.1.split('"').next()?;
    let triggered = ["added to list", "removed from list", " in list"]
        .iter()
        .any(|form| head.contains(form));
    triggered.then(|| schema.list(name)).flatten()
}

/// The same items for a client without snippet support: each snippet becomes the plain
/// text it would insert with its placeholders' defaults (`${1:reason}` → `reason`,
/// bare tab stops dropped).
pub fn without_snippets(items: Vec<CompletionItem>) -> Vec<CompletionItem> {
    items
        .into_iter()
        .map(|mut item| {
            if item.insert_text_format == Some(InsertTextFormat::SNIPPET) {
                item.insert_text = item.insert_text.as_deref().map(plain);
                item.insert_text_format = Some(InsertTextFormat::PLAIN_TEXT);
            }
            item
        })
        .collect()
}

fn plain(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len());
    let mut rest = snippet;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').unwrap_or(body.len());
            let inner = &body[..end];
            if let Some((_, default)) = inner.split_once(':') {
                out.push_str(default);
            }
            rest = body.get(end + 1..).unwrap_or("");
        } else {
            let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits == 0 {
                out.push('$');
            }
            rest = &after[digits..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod plain_text_tests {
    use super::plain;

    #[test]
    fn snippets_become_their_defaults() {
        assert_eq!(plain("allow-x \"${1:reason}\""), "allow-x \"reason\"");
        assert_eq!(
            plain("pagerduty(severity: ${1}, summary: ${2})$0"),
            "pagerduty(severity: , summary: )"
        );
        assert_eq!(plain("a $ b"), "a $ b");
        assert_eq!(
            plain("slack \"${1:#channel}\" \"${2:text}\""),
            "slack \"#channel\" \"text\""
        );
    }
}
