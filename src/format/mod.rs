//! `rulec fmt`: one canonical layout for every file.
//!
//! The printer works from the AST, so formatting cannot change meaning: it reprints
//! exactly the tree the parser built, with the author's parentheses. Comments are
//! re-attached by position: each comment is printed before the first printed line
//! that comes after it in the source, or at the end of the line it trails. Items that
//! do not parse are copied through unchanged, so formatting never loses text.

pub(crate) mod expr;

use std::fmt::{self, Write as _};

use crate::source::Span;
use crate::syntax::ast::{
    self, HeaderKind, Item, ScheduleKind, StepKind, TriggerClause, TriggerKind,
};

pub use expr::{expr, string};
use expr::{DurationText, ExprText, StringText};

/// Lines longer than this are broken (one-liner rules, record literals).
const WIDTH: usize = 100;

/// Formats a parsed document. `source` is the text it was parsed from.
pub fn format_document(source: &str, document: &ast::Document) -> String {
    let mut printer = Printer {
        src: source,
        comments: &document.comments,
        next: 0,
        out: String::new(),
        indent: 0,
    };
    let mut previous: Option<(Span, bool)> = None;
    for item in &document.items {
        let span = item.span();
        if let Some((prev_span, prev_multi)) = previous {
            let gap = source.get(prev_span.hi()..span.lo()).unwrap_or("");
            let blank_in_source = gap.matches('\n').count() >= 2;
            if prev_multi || blank_in_source || !is_single_line_item(item) {
                printer.blank_line();
            }
        }
        let start_len = printer.out.len();
        printer.item(item);
        let multi = printer.out[start_len..].trim_end().contains('\n');
        previous = Some((span, multi));
    }
    printer.flush_before(usize::MAX);
    let mut out = printer.out;
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The canonical text of a rule without comments: the input of its version hash.
pub fn canonical_rule(rule: &ast::Rule) -> String {
    let mut printer = Printer {
        src: "",
        comments: &[],
        next: 0,
        out: String::new(),
        indent: 0,
    };
    // Header order carries no meaning, so it must not change the version.
    printer.rule_with(rule, true);
    printer.out
}

fn is_single_line_item(item: &Item) -> bool {
    match item {
        Item::Rule(rule) => one_liner(rule).is_some(),
        Item::List(list) => list.attrs.is_empty(),
        Item::Team(_) | Item::Action(_) => true,
        _ => false,
    }
}

/// The one-line form of a header-less, single-step rule, if it fits.
fn one_liner(rule: &ast::Rule) -> Option<String> {
    if !rule.headers.is_empty() || rule.steps.len() != 1 {
        return None;
    }
    let TriggerClause::When(when) = &rule.trigger else {
        return None;
    };
    let step = rule.steps.first()?;
    if matches!(
        step.kind,
        StepKind::If { .. } | StepKind::Route { .. } | StepKind::ForEach { .. }
    ) {
        return None;
    }
    let mut line = format!("when {}", when_head(when));
    if let Some(condition) = &when.condition {
        line.push(' ');
        line.push_str(condition_keyword(when));
        line.push(' ');
        let _ = write!(line, "{}", ExprText(condition));
    }
    line.push_str(" do ");
    line.push_str(&simple_step(step)?);
    (line.len() <= WIDTH && !line.contains('\n')).then_some(line)
}

struct Printer<'a> {
    src: &'a str,
    comments: &'a [Span],
    next: usize,
    out: String,
    indent: usize,
}

impl Printer<'_> {
    fn comment_text(&self, span: Span) -> &str {
        self.src.get(span.lo()..span.hi()).unwrap_or("#").trim_end()
    }

    /// Prints the comments that start before `pos` on lines of their own.
    fn flush_before(&mut self, pos: usize) {
        while let Some(&comment) = self.comments.get(self.next) {
            if comment.lo() >= pos {
                break;
            }
            self.next += 1;
            let text = self.comment_text(comment).to_string();
            self.push_indent();
            self.out.push_str(&text);
            self.out.push('\n');
            // Keep one blank line where the source had one after the comment.
            let after = self
                .src
                .get(comment.hi()..pos.min(self.src.len()))
                .unwrap_or("");
            let until_next = after
                .split_once(|c: char| !c.is_whitespace())
                .map_or(after, |(ws, _)| ws);
            if until_next.matches('\n').count() >= 2 && pos != usize::MAX {
                self.out.push('\n');
            }
        }
    }

    /// Whether only indentation precedes `comment` on its line.
    fn on_own_line(&self, comment: Span) -> bool {
        let before = self.src.get(..comment.lo()).unwrap_or("");
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        before[line_start..].trim().is_empty()
    }

    fn push_indent(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
    }

    fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Prints one line for the source text `span`: leading comments first, then the
    /// text, then comments that were written inside or right after that source text.
    fn line(&mut self, span: Span, text: &str) {
        self.flush_before(span.lo());
        self.push_indent();
        self.out.push_str(text);
        while let Some(&comment) = self.comments.get(self.next) {
            let inside = comment.lo() < span.hi();
            // A field's comma, a header's brace and `then` are not part of their spans,
            // but `a: 1, # why`, `object people { # why` and `if x then # why` trail the
            // line all the same: what lies between is what the line prints last.
            let trailing = self
                .src
                .get(span.hi()..comment.lo())
                .is_some_and(|between| {
                    !between.contains('\n') && squeeze(text).ends_with(&squeeze(between))
                });
            if !(inside || trailing) {
                break;
            }
            self.next += 1;
            let text = self.comment_text(comment).to_string();
            self.out.push_str("  ");
            self.out.push_str(&text);
        }
        self.out.push('\n');
    }

    /// `head {`, one attribute a line, `}`: objects and lists with attributes.
    fn attr_block(&mut self, head_span: Span, span: Span, head: &str, attrs: &[ast::AttrDecl]) {
        self.line(head_span, &format!("{head} {{"));
        self.indent += 1;
        for attr in attrs {
            let mut text = format!("{}: {}", attr.name.name, type_expr(&attr.ty));
            for flag in &attr.flags {
                text.push(' ');
                text.push_str(&flag.name);
            }
            self.line(attr.span, &text);
        }
        self.indent -= 1;
        self.line(Span::new(span.hi().saturating_sub(1), span.hi()), "}");
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Rule(rule) => self.rule(rule),
            Item::Object(decl) => self.attr_block(
                Span::new(decl.span.lo(), decl.name.span.hi()),
                decl.span,
                &format!("object {}", decl.name.name),
                &decl.attrs,
            ),
            Item::List(decl) if decl.attrs.is_empty() => self.line(
                decl.span,
                &format!("list {} of {}", StringText(&decl.name), decl.object.name),
            ),
            Item::List(decl) => self.attr_block(
                Span::new(decl.span.lo(), decl.object.span.hi()),
                decl.span,
                &format!("list {} of {}", StringText(&decl.name), decl.object.name),
                &decl.attrs,
            ),
            Item::Team(decl) => {
                let members: Vec<String> = decl.members.iter().map(string).collect();
                self.line(
                    decl.span,
                    &format!("team {} = [{}]", decl.name.name, members.join(", ")),
                );
            }
            Item::Webhook(decl) => {
                self.line(
                    Span::new(decl.span.lo(), decl.name.span.hi()),
                    &format!("webhook {} {{", decl.name.name),
                );
                self.indent += 1;
                for field in &decl.fields {
                    self.line(
                        field.span,
                        &format!("{}: {}", field.name.name, type_expr(&field.ty)),
                    );
                }
                self.indent -= 1;
                self.line(
                    Span::new(decl.span.hi().saturating_sub(1), decl.span.hi()),
                    "}",
                );
            }
            Item::Action(decl) => {
                let params: Vec<String> = decl
                    .params
                    .iter()
                    .map(|p| format!("{}: {}", p.name.name, type_expr(&p.ty)))
                    .collect();
                let mut text = format!("action {}({})", decl.name.name, params.join(", "));
                if decl.idempotent {
                    text.push_str(" idempotent");
                }
                self.line(decl.span, &text);
            }
            Item::Test(test) => {
                self.line(
                    Span::new(test.span.lo(), test.name.span.hi()),
                    &format!("test {}", StringText(&test.name)),
                );
                self.indent += 1;
                for clause in &test.clauses {
                    self.line(clause.span, &test_clause(clause));
                }
                self.indent -= 1;
            }
            Item::Error(span) => self.verbatim(*span),
        }
    }

    /// Copies `span` as written; its comments are part of it.
    fn verbatim(&mut self, span: Span) {
        self.flush_before(span.lo());
        self.out
            .push_str(self.src.get(span.lo()..span.hi()).unwrap_or(""));
        self.out.push('\n');
        while self
            .comments
            .get(self.next)
            .is_some_and(|c| c.lo() < span.hi())
        {
            self.next += 1;
        }
    }

    fn rule(&mut self, rule: &ast::Rule) {
        self.rule_with(rule, false);
    }

    fn rule_with(&mut self, rule: &ast::Rule, sort_headers: bool) {
        // A second `rule` header is an error (`duplicate-header`), and printed on a
        // line of its own it would start a new rule: leave the rule as written (the
        // canonical text, which has no source, prints every header).
        let second_rule_header = rule
            .headers
            .iter()
            .skip(1)
            .any(|h| matches!(h.kind, HeaderKind::Rule { .. }));
        if second_rule_header && !sort_headers {
            self.verbatim(rule.span);
            return;
        }
        // A comment on a line of its own needs the long form; one at the end of a line
        // trails the one-liner, where the next formatting would put it anyway.
        let has_own_line_comments = self
            .comments
            .get(self.next..)
            .unwrap_or(&[])
            .iter()
            .any(|c| c.lo() > rule.span.lo() && c.lo() < rule.span.hi() && self.on_own_line(*c));
        if !has_own_line_comments {
            if let Some(line) = one_liner(rule) {
                self.line(rule.span, &line);
                return;
            }
        }
        // Headers keep the author's order: any order is valid, and moving lines would
        // separate them from their comments.
        let base = self.indent;
        let mut headers: Vec<(&ast::Header, String)> = rule
            .headers
            .iter()
            .map(|h| (h, header_text(&h.kind)))
            .collect();
        if sort_headers {
            // By kind, then text, so swapping two `allow` lines keeps the version too.
            headers.sort_by(|(a, a_text), (b, b_text)| {
                (header_rank(&a.kind), a_text).cmp(&(header_rank(&b.kind), b_text))
            });
        }
        for (i, (header, text)) in headers.into_iter().enumerate() {
            self.line(header.span, &text);
            if i == 0 {
                self.indent = base + 1;
            }
        }
        self.body(rule);
        self.indent = base;
    }

    /// The trigger clause, `do` and the steps, one per line.
    fn body(&mut self, rule: &ast::Rule) {
        match &rule.trigger {
            TriggerClause::When(when) => {
                let head_end = when.trigger.span.hi();
                self.line(
                    Span::new(when.span.lo(), head_end),
                    &format!("when {}", when_head(when)),
                );
                if let Some(condition) = &when.condition {
                    self.indent += 1;
                    self.conjuncts(condition_keyword(when), condition);
                    self.indent -= 1;
                }
            }
            TriggerClause::Every(every) => {
                let mut text = schedule(&every.schedule);
                let mut end = every.schedule.span.hi();
                if let Some(zone) = &every.zone {
                    text.push_str(" in ");
                    let _ = write!(text, "{}", StringText(zone));
                    end = zone.span.hi();
                }
                self.line(Span::new(every.span.lo(), end), &text);
                if let Some(for_clause) = &every.for_clause {
                    let mut head = format!("for {}", for_clause.object.name);
                    match &for_clause.filter {
                        None => self.line(for_clause.object.span, &head),
                        Some(filter) => {
                            let parts = and_chain(filter);
                            if let Some((first, rest)) = parts.split_first() {
                                head.push_str(" where ");
                                let _ = write!(head, "{}", ExprText(first));
                                self.line(
                                    Span::new(for_clause.object.span.lo(), first.span.hi()),
                                    &head,
                                );
                                self.indent += 1;
                                for part in rest {
                                    self.line(part.span, &format!("and {}", ExprText(part)));
                                }
                                self.indent -= 1;
                            }
                        }
                    }
                }
            }
        }
        self.line(rule.do_span, "do");
        self.indent += 1;
        self.steps(&rule.steps);
        self.indent -= 1;
    }

    /// A condition as one line per top-level `and` operand; `keyword` starts the first.
    fn conjuncts(&mut self, keyword: &str, condition: &ast::Expr) {
        for (i, part) in and_chain(condition).into_iter().enumerate() {
            let keyword = if i == 0 { keyword } else { "and" };
            self.line(part.span, &format!("{keyword} {}", ExprText(part)));
        }
    }

    fn steps(&mut self, steps: &[ast::Step]) {
        for step in steps {
            self.step(step);
        }
    }

    fn step(&mut self, step: &ast::Step) {
        let suffix = modifiers(step);
        match &step.kind {
            StepKind::If {
                branches,
                otherwise,
            } => {
                for (i, branch) in branches.iter().enumerate() {
                    let keyword = if i == 0 { "if" } else { "else if" };
                    let start = if i == 0 {
                        step.span.lo()
                    } else {
                        branch.condition.span.lo()
                    };
                    self.line(
                        Span::new(start, branch.condition.span.hi()),
                        &format!("{keyword} {} then", ExprText(&branch.condition)),
                    );
                    self.indent += 1;
                    self.steps(&branch.steps);
                    self.indent -= 1;
                }
                if let Some(steps) = otherwise {
                    let at = steps.first().map_or(step.span.hi(), |s| s.span.lo());
                    self.line(Span::new(at, at), "else");
                    self.indent += 1;
                    self.steps(steps);
                    self.indent -= 1;
                }
                self.line(end_span(step), &format!("end{suffix}"));
            }
            StepKind::ForEach {
                binding,
                list,
                steps,
            } => {
                self.line(
                    Span::new(step.span.lo(), list.span.hi()),
                    &format!("for each {} in {} do", binding.name, ExprText(list)),
                );
                self.indent += 1;
                self.steps(steps);
                self.indent -= 1;
                self.line(end_span(step), &format!("end{suffix}"));
            }
            StepKind::Route { arms, otherwise } => {
                self.line(Span::new(step.span.lo(), step.span.lo() + 5), "route");
                self.indent += 1;
                for arm in arms {
                    self.arm(&expr(&arm.condition), arm.condition.span, &arm.steps);
                }
                if let Some(steps) = otherwise {
                    let at = steps.first().map_or(step.span.hi(), |s| s.span.lo());
                    self.arm("else", Span::new(at, at), steps);
                }
                self.indent -= 1;
                self.line(end_span(step), &format!("end{suffix}"));
            }
            StepKind::Create {
                object,
                fields,
                key,
                binding,
            } if simple_step(step).is_none_or(|s| s.len() + self.indent * 2 > WIDTH) => {
                self.line(
                    Span::new(step.span.lo(), object.span.hi()),
                    &format!("create {} {{", object.name),
                );
                self.fields(fields);
                let tail = format!(
                    "}}{}{}{suffix}",
                    key_text(key.as_ref()),
                    as_text(binding.as_ref())
                );
                self.line(end_of_fields(step, fields), &tail);
            }
            StepKind::Upsert {
                object,
                by,
                fields,
                binding,
            } if simple_step(step).is_none_or(|s| s.len() + self.indent * 2 > WIDTH) => {
                self.line(
                    Span::new(step.span.lo(), by.span.hi()),
                    &format!("upsert {} by {} {{", object.name, by.name),
                );
                self.fields(fields);
                let tail = format!("}}{}{suffix}", as_text(binding.as_ref()));
                self.line(end_of_fields(step, fields), &tail);
            }
            _ => {
                let text = simple_step(step).unwrap_or_default();
                self.line(step.span, &text);
            }
        }
    }

    fn fields(&mut self, fields: &[ast::MapEntry]) {
        self.indent += 1;
        let count = fields.len();
        for (i, field) in fields.iter().enumerate() {
            let comma = if i + 1 < count { "," } else { "" };
            self.line(
                field.key.span.cover(field.value.span),
                &format!("{}{comma}", map_entry(field)),
            );
        }
        self.indent -= 1;
    }

    fn arm(&mut self, head: &str, span: Span, steps: &[ast::Step]) {
        if let [only] = steps {
            if let Some(text) = simple_step(only) {
                let line = format!("{head} => {text}");
                if line.len() + self.indent * 2 <= WIDTH {
                    self.line(span.cover(only.span), &line);
                    return;
                }
            }
        }
        self.line(span, &format!("{head} =>"));
        self.indent += 1;
        self.steps(steps);
        self.indent -= 1;
    }
}

/// `text` without whitespace, to compare what a line prints with the source.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect()
}

fn end_span(step: &ast::Step) -> Span {
    Span::new(step.span.hi().saturating_sub(3), step.span.hi())
}

fn end_of_fields(step: &ast::Step, fields: &[ast::MapEntry]) -> Span {
    let start = fields.last().map_or(step.span.lo(), |f| f.value.span.hi());
    Span::new(start, step.span.hi())
}

/// `a and b and c` as `[a, b, c]`; anything else as itself.
fn and_chain(e: &ast::Expr) -> Vec<&ast::Expr> {
    match &e.kind {
        ast::ExprKind::Binary {
            op: ast::BinaryOp::And,
            lhs,
            rhs,
            ..
        } => {
            let mut parts = and_chain(lhs);
            parts.push(rhs);
            parts
        }
        _ => vec![e],
    }
}

/// `and` introduces a condition, except after `matches <filter>`, whose filter would
/// swallow an `and`: there the condition must start with `where`.
fn condition_keyword(when: &ast::WhenClause) -> &'static str {
    match when.trigger.kind {
        TriggerKind::Matches(_) => "where",
        _ => "and",
    }
}

fn header_rank(kind: &HeaderKind) -> u8 {
    match kind {
        HeaderKind::Rule { .. } => 0,
        HeaderKind::Owner(_) => 1,
        HeaderKind::Description(_) => 2,
        HeaderKind::On(_) => 3,
        HeaderKind::Status(_) => 4,
        HeaderKind::Limit { .. } => 5,
        HeaderKind::Coalesce(_) => 6,
        HeaderKind::Allow { .. } => 7,
    }
}

fn header_text(kind: &HeaderKind) -> String {
    match kind {
        HeaderKind::Rule { id, title } => match title {
            Some(t) => format!("rule {} {}", id.name, StringText(t)),
            None => format!("rule {}", id.name),
        },
        HeaderKind::Owner(s) => format!("owner {}", StringText(s)),
        HeaderKind::Description(s) => format!("description {}", StringText(s)),
        HeaderKind::On(o) => format!("on {}", o.name),
        HeaderKind::Status(s) => format!("status {}", s.name),
        HeaderKind::Limit { count, window } => {
            let window = if window.amount.value == 1.0 {
                window.unit.name(false).to_string()
            } else {
                expr::duration(window)
            };
            format!("limit {} per {window}", count.value)
        }
        HeaderKind::Coalesce(d) => format!("coalesce {}", DurationText(d)),
        HeaderKind::Allow { lint, reason } => match reason {
            Some(r) => format!("allow {} {}", lint.name, StringText(r)),
            None => format!("allow {}", lint.name),
        },
    }
}

/// `[<object>] <trigger>` of a `when` clause.
fn when_head(when: &ast::WhenClause) -> String {
    let trigger = trigger(&when.trigger);
    match &when.object {
        Some(object) => format!("{} {trigger}", object.name),
        None => trigger,
    }
}

fn trigger(t: &ast::Trigger) -> String {
    match &t.kind {
        TriggerKind::Created => "created".into(),
        TriggerKind::Updated => "updated".into(),
        TriggerKind::Deleted => "deleted".into(),
        TriggerKind::Merged => "merged".into(),
        TriggerKind::NoteCreated => "note created".into(),
        TriggerKind::CommentAdded => "comment added".into(),
        TriggerKind::TaskCreated => "task created".into(),
        TriggerKind::TaskCompleted => "task completed".into(),
        TriggerKind::CallRecorded => "call recorded".into(),
        TriggerKind::Changed {
            attr,
            from,
            to,
            list,
        } => {
            let mut s = format!("{} changed", attr.name);
            if let Some(from) = from {
                s.push_str(" from ");
                s.push_str(&values(from));
            }
            if let Some(to) = to {
                s.push_str(" to ");
                s.push_str(&values(to));
            }
            if let Some(list) = list {
                s.push_str(" in list ");
                let _ = write!(s, "{}", StringText(list));
            }
            s
        }
        TriggerKind::EntryChanged(l) => format!("entry changed in list {}", StringText(l)),
        TriggerKind::Matches(filter) => format!("matches {}", ExprText(filter)),
        TriggerKind::AddedToList(l) => format!("added to list {}", StringText(l)),
        TriggerKind::RemovedFromList(l) => format!("removed from list {}", StringText(l)),
        TriggerKind::Webhook(name) => format!("webhook {}", name.name),
        TriggerKind::Command(name) => format!("command {}", StringText(name)),
        TriggerKind::RuleFailed { rule, times } => match times {
            Some(n) => format!("rule {} failed {} times in a row", rule.name, n.value),
            None => format!("rule {} failed", rule.name),
        },
    }
}

fn values(v: &ast::Values) -> String {
    let bracketed = v.bracketed || v.items.len() != 1;
    let mut s = String::new();
    if bracketed {
        s.push('[');
    }
    for (i, item) in v.items.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{}", ExprText(item));
    }
    if bracketed {
        s.push(']');
    }
    s
}

fn schedule(s: &ast::Schedule) -> String {
    match &s.kind {
        ScheduleKind::Daily { days, at } => format!("every {} at {}", days.name, at.text),
        ScheduleKind::Interval(d) => format!("every {}", DurationText(d)),
        ScheduleKind::Monthly { day, at } => {
            format!("every month on day {} at {}", day.value, at.text)
        }
        ScheduleKind::Cron(c) => format!("every cron {}", StringText(c)),
    }
}

fn modifiers(step: &ast::Step) -> String {
    let mut s = String::new();
    if step.continue_on_error.is_some() {
        s.push_str(" on error continue");
    }
    if let Some(retry) = &step.retry {
        let _ = write!(s, " retry {}", retry.value);
    }
    s
}

/// ` key <expr>`, or nothing.
fn key_text(key: Option<&ast::Expr>) -> Suffix<'_, ast::Expr> {
    Suffix(" key ", key)
}

/// ` as <name>`, or nothing.
fn as_text(binding: Option<&ast::Ident>) -> Suffix<'_, ast::Ident> {
    Suffix(" as ", binding)
}

/// A keyword and what follows it, or nothing when there is nothing to follow it;
/// formatted in place.
struct Suffix<'a, T>(&'static str, Option<&'a T>);

impl fmt::Display for Suffix<'_, ast::Expr> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(e) => write!(f, "{}{}", self.0, ExprText(e)),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Suffix<'_, ast::Ident> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(name) => write!(f, "{}{}", self.0, name.name),
            None => Ok(()),
        }
    }
}

fn map_entry(entry: &ast::MapEntry) -> String {
    let mut s = String::new();
    write_map_entry(&mut s, entry);
    s
}

fn write_map_entry(s: &mut String, entry: &ast::MapEntry) {
    if entry.quoted || !expr::is_plain_ident(&entry.key.name) {
        let _ = expr::write_quoted(s, &entry.key.name);
    } else {
        s.push_str(&entry.key.name);
    }
    let _ = write!(s, ": {}", ExprText(&entry.value));
}

fn map_inline(fields: &[ast::MapEntry]) -> String {
    if fields.is_empty() {
        return "{}".into();
    }
    let mut s = String::from("{ ");
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        write_map_entry(&mut s, field);
    }
    s.push_str(" }");
    s
}

/// `company.csm`, or `csm` for the rule's own record.
fn place(target: Option<&ast::Expr>, attr: &ast::Ident) -> String {
    match target {
        Some(t) => format!("{}.{}", ExprText(t), attr.name),
        None => attr.name.clone(),
    }
}

/// `person ` in `add person to list …`; nothing for the rule's own record.
fn subject(target: Option<&ast::Expr>) -> String {
    target
        .map(|t| format!("{} ", ExprText(t)))
        .unwrap_or_default()
}

/// A step that prints on one line (everything but `if` and `route`).
fn simple_step(step: &ast::Step) -> Option<String> {
    let text = match &step.kind {
        StepKind::Set {
            target,
            attr,
            value,
            if_empty,
        } => {
            let mut s = format!("set {} = {}", place(target.as_ref(), attr), ExprText(value));
            if *if_empty {
                s.push_str(" if empty");
            }
            s
        }
        StepKind::Clear { target, attr } => format!("clear {}", place(target.as_ref(), attr)),
        StepKind::AddToList { target, list } => {
            format!(
                "add {}to list {}",
                subject(target.as_ref()),
                StringText(list)
            )
        }
        StepKind::RemoveFromList { target, list } => {
            format!(
                "remove {}from list {}",
                subject(target.as_ref()),
                StringText(list)
            )
        }
        StepKind::Slack { target, text, key } => {
            let mut s = match target {
                ast::SlackTarget::Channel(c) => format!("slack {}", StringText(c)),
                ast::SlackTarget::Dm(m) => format!("slack dm {}", ExprText(m)),
            };
            if let Some(t) = text {
                s.push(' ');
                let _ = write!(s, "{}", StringText(t));
            }
            let _ = write!(s, "{}", key_text(key.as_ref()));
            s
        }
        StepKind::Email { to, content, key } => {
            let mut s = match content {
                ast::EmailContent::Inline { subject, body } => format!(
                    "email {} subject {} body {}",
                    ExprText(to),
                    StringText(subject),
                    StringText(body)
                ),
                ast::EmailContent::Template(t) => {
                    format!("email {} template {}", ExprText(to), StringText(t))
                }
            };
            let _ = write!(s, "{}", key_text(key.as_ref()));
            s
        }
        StepKind::CreateTask {
            title,
            assignee,
            due,
            body,
            linked,
            key,
            binding,
        } => {
            let mut s = format!("create task {}", StringText(title));
            if let Some(a) = assignee {
                let _ = write!(s, " for {}", ExprText(a));
            }
            if let Some(d) = due {
                let _ = write!(s, " due {}", ExprText(d));
            }
            if let Some(b) = body {
                let _ = write!(s, " body {}", StringText(b));
            }
            if let Some(l) = linked {
                let _ = write!(s, " linked to {}", ExprText(l));
            }
            let _ = write!(s, "{}", key_text(key.as_ref()));
            let _ = write!(s, "{}", as_text(binding.as_ref()));
            s
        }
        StepKind::Create {
            object,
            fields,
            key,
            binding,
        } => format!(
            "create {} {}{}{}",
            object.name,
            map_inline(fields),
            key_text(key.as_ref()),
            as_text(binding.as_ref())
        ),
        StepKind::Find {
            all,
            object,
            filter,
            limit,
            binding,
        } => format!(
            "find {}{} where {}{} as {}",
            if *all { "all " } else { "" },
            object.name,
            ExprText(filter),
            limit
                .as_ref()
                .map(|l| format!(" limit {}", l.value))
                .unwrap_or_default(),
            binding.name
        ),
        StepKind::Upsert {
            object,
            by,
            fields,
            binding,
        } => format!(
            "upsert {} by {} {}{}",
            object.name,
            by.name,
            map_inline(fields),
            as_text(binding.as_ref())
        ),
        StepKind::Note {
            target,
            title,
            body,
        } => {
            let on = target
                .as_ref()
                .map(|t| format!("on {} ", ExprText(t)))
                .unwrap_or_default();
            match body {
                Some(b) => format!("note {on}{} {}", StringText(title), StringText(b)),
                None => format!("note {on}{}", StringText(title)),
            }
        }
        StepKind::Http {
            method,
            url,
            headers,
            body,
            key,
            binding,
        } => {
            let mut s = format!("http {} {}", method.name, StringText(url));
            if !headers.is_empty() {
                let _ = write!(s, " headers {}", map_inline(headers));
            }
            if let Some(b) = body {
                let _ = write!(s, " body {}", ExprText(b));
            }
            let _ = write!(s, "{}", key_text(key.as_ref()));
            let _ = write!(s, "{}", as_text(binding.as_ref()));
            s
        }
        StepKind::WaitFor(d) => format!("wait {}", ExprText(d)),
        StepKind::WaitUntil(t) => format!("wait until {}", ExprText(t)),
        StepKind::Ask {
            member,
            question,
            timeout,
            replace,
            binding,
        } => {
            let mut s = format!("ask {} {}", ExprText(member), StringText(question));
            if let Some(t) = timeout {
                let _ = write!(s, " timeout {}", ExprText(t));
            }
            if *replace {
                s.push_str(" replace");
            }
            let _ = write!(s, " as {}", binding.name);
            s
        }
        StepKind::Stop => "stop".into(),
        StepKind::Skip(reason) => match reason {
            Some(r) => format!("skip {}", StringText(r)),
            None => "skip".into(),
        },
        StepKind::Custom {
            name,
            args,
            key,
            binding,
        } => {
            let args: Vec<String> = args
                .iter()
                .map(|a| format!("{}: {}", a.name.name, ExprText(&a.value)))
                .collect();
            format!(
                "{}({}){}{}",
                name.name,
                args.join(", "),
                key_text(key.as_ref()),
                as_text(binding.as_ref())
            )
        }
        StepKind::If { .. } | StepKind::Route { .. } | StepKind::ForEach { .. } => return None,
    };
    let mut text = text;
    text.push_str(&modifiers(step));
    Some(text)
}

fn type_expr(t: &ast::TypeExpr) -> String {
    // One quoting style per list: bare names, unless one option needs quotes.
    let options = |opts: &[ast::Ident]| {
        let bare = opts.iter().all(|o| expr::is_plain_ident(&o.name));
        let items: Vec<String> = opts
            .iter()
            .map(|o| {
                if bare {
                    o.name.clone()
                } else {
                    format!("\"{}\"", o.name.replace('\\', "\\\\").replace('"', "\\\""))
                }
            })
            .collect();
        format!("[{}]", items.join(", "))
    };
    match &t.kind {
        ast::TypeExprKind::Named(n) => n.name.clone(),
        ast::TypeExprKind::List(inner) => format!("list of {}", type_expr(inner)),
        ast::TypeExprKind::Select(o) => format!("select {}", options(o)),
        ast::TypeExprKind::MultiSelect(o) => format!("select[] {}", options(o)),
        ast::TypeExprKind::Status(o) => format!("status {}", options(o)),
        ast::TypeExprKind::Record(o) => format!("record({})", o.name),
        ast::TypeExprKind::Currency(code) => format!("currency({})", code.name),
    }
}

fn test_clause(clause: &ast::TestClause) -> String {
    match &clause.kind {
        ast::TestClauseKind::Given {
            object,
            name,
            fields,
        } => {
            let named = name
                .as_ref()
                .map(|n| format!(" as {}", n.name))
                .unwrap_or_default();
            format!("given {}{named} {}", object.name, map_inline(fields))
        }
        ast::TestClauseKind::MockHttp { url, answer } => {
            format!("given http {} {}", StringText(url), ExprText(answer))
        }
        ast::TestClauseKind::MockAsk { answer } => format!("given ask {}", map_inline(answer)),
        ast::TestClauseKind::Redeliver => "redeliver".to_string(),
        ast::TestClauseKind::Event {
            object,
            trigger: t,
            fields,
        } => {
            let mut s = String::from("event ");
            if let Some(o) = object {
                s.push_str(&o.name);
                s.push(' ');
            }
            s.push_str(&trigger(t));
            if let Some(f) = fields {
                s.push(' ');
                s.push_str(&map_inline(f));
            }
            s
        }
        ast::TestClauseKind::Expect {
            negated,
            count,
            action,
            args,
        } => {
            let mut s = String::from("expect ");
            if *negated {
                s.push_str("no ");
            }
            if let Some(n) = count {
                let _ = write!(s, "{} ", n.value);
            }
            s.push_str(&action.name);
            for a in args {
                s.push(' ');
                let _ = write!(s, "{}", ExprText(a));
            }
            s
        }
    }
}
