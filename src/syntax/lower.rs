//! pest pairs to AST.
//!
//! The grammar has already accepted the item, so the shapes here are known; a shape
//! that does not match (which would be a grammar/lowering mismatch, not bad input)
//! degrades to an error node instead of panicking.

use std::cell::RefCell;
use std::sync::{Arc, LazyLock};

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::Rule;
use crate::diagnostics::Diagnostic;
use crate::source::{SourceFile, Span};

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    use Rule::*;
    // Loosest first; must agree with `BinaryOp::precedence`.
    PrattParser::new()
        .op(Op::infix(or_op, Assoc::Left))
        .op(Op::infix(and_op, Assoc::Left))
        .op(Op::prefix(not_op))
        .op(Op::infix(eq_op, Assoc::Left)
            | Op::infix(ne_op, Assoc::Left)
            | Op::infix(lt_op, Assoc::Left)
            | Op::infix(le_op, Assoc::Left)
            | Op::infix(gt_op, Assoc::Left)
            | Op::infix(ge_op, Assoc::Left)
            | Op::infix(in_op, Assoc::Left)
            | Op::infix(not_in_op, Assoc::Left)
            | Op::infix(contains_op, Assoc::Left)
            | Op::infix(contains_any_op, Assoc::Left)
            | Op::infix(contains_all_op, Assoc::Left)
            | Op::infix(starts_with_op, Assoc::Left)
            | Op::infix(ends_with_op, Assoc::Left)
            | Op::infix(before_op, Assoc::Left)
            | Op::infix(after_op, Assoc::Left)
            | Op::infix(within_last_op, Assoc::Left)
            | Op::infix(within_next_op, Assoc::Left)
            | Op::postfix(is_set_op)
            | Op::postfix(is_not_set_op)
            | Op::postfix(is_empty_op)
            | Op::postfix(is_not_empty_op)
            | Op::postfix(in_list_op)
            | Op::postfix(not_in_list_op))
        .op(Op::infix(add_op, Assoc::Left) | Op::infix(sub_op, Assoc::Left))
        .op(Op::infix(mul_op, Assoc::Left) | Op::infix(div_op, Assoc::Left))
        .op(Op::prefix(neg_op))
});

/// Operators one item may hold. Operator chains become trees as deep as they are
/// long, and every later stage walks them recursively; no real rule comes close.
pub const MAX_OPERATORS: usize = 1000;

struct Lower<'f> {
    file: &'f Arc<SourceFile>,
    /// Every comment of the document, in order.
    comments: &'f [Span],
    offset: usize,
    diagnostics: RefCell<Vec<Diagnostic>>,
    operators: std::cell::Cell<usize>,
}

/// Lowers one parsed item.
pub(super) fn item(
    file: &Arc<SourceFile>,
    comments: &[Span],
    pair: Pair<'_, Rule>,
    offset: usize,
) -> (Item, Vec<Diagnostic>) {
    let lower = Lower {
        file,
        comments,
        offset,
        diagnostics: RefCell::new(Vec::new()),
        operators: std::cell::Cell::new(0),
    };
    let span = lower.span(&pair);
    let item = match lower.item(pair) {
        Some(item) => item,
        None => {
            lower.unread(span, "item");
            Item::Error(span)
        }
    };
    let diagnostics = lower.diagnostics.into_inner();
    // An item with a syntax error is never compiled, even if it lowered.
    let item = if diagnostics.is_empty() {
        item
    } else {
        Item::Error(span)
    };
    (item, diagnostics)
}

type Lowered<T> = Option<T>;

/// Collecting into a vector no larger than the pairs it is read from. Most lists in a
/// rule hold one or two items, and `collect` reserves four for a list it cannot size:
/// over a large file that spare room was most of the syntax tree's memory.
trait Tight: Iterator + Sized {
    fn tight(self) -> Vec<Self::Item> {
        let mut out = Vec::with_capacity(self.size_hint().1.unwrap_or_default());
        out.extend(self);
        out
    }
}

impl<I: Iterator> Tight for I {}

impl<'f> Lower<'f> {
    /// Reports a shape the grammar accepted but lowering does not know: a bug in rulec,
    /// never the author's mistake, and never silent. Any diagnostic keeps the item from
    /// being compiled, so nothing half-read can run.
    fn unread(&self, span: Span, what: &str) {
        let mut diagnostics = self.diagnostics.borrow_mut();
        if diagnostics.is_empty() {
            diagnostics.push(
                Diagnostic::error(
                    self.file,
                    "internal-error",
                    format!("rulec could not read this {what}"),
                    span,
                )
                .with_help("the grammar accepted text the reader does not know; this is a bug in rulec, please report it with this file"),
            );
        }
    }

    /// The pair's span without the whitespace and comments pest consumes after it
    /// when an optional part that follows does not match.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(s.start() + self.offset, self.tight_end(pair) + self.offset)
    }

    /// Where the pair's text really ends: before trailing whitespace and comments.
    fn tight_end(&self, pair: &Pair<'_, Rule>) -> usize {
        let span = pair.as_span();
        let bytes = pair.get_input().as_bytes();
        let mut end = span.end();
        loop {
            while end > span.start() && bytes.get(end - 1).is_some_and(|b| b.is_ascii_whitespace())
            {
                end -= 1;
            }
            // Comments are known from the split; one may end exactly here.
            let absolute = end + self.offset;
            let text = self.file.text();
            let index = self.comments.partition_point(|c| c.lo() < absolute);
            let Some(comment) = index.checked_sub(1).and_then(|i| self.comments.get(i)) else {
                return end;
            };
            let comment_end = comment.lo()
                + text
                    .get(comment.lo()..comment.hi())
                    .unwrap_or("")
                    .trim_end()
                    .len();
            if comment_end != absolute || comment.lo() < span.start() + self.offset {
                return end;
            }
            end = comment.lo() - self.offset;
        }
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn error(&self, span: Span, message: impl Into<String>, help: &str) {
        let diagnostic =
            Diagnostic::error(self.file, "syntax-error", message, span).with_help(help);
        self.diagnostics.borrow_mut().push(diagnostic);
    }

    fn item(&self, pair: Pair<'_, Rule>) -> Lowered<Item> {
        Some(match pair.as_rule() {
            Rule::rule_item => Item::Rule(self.rule(pair)?),
            Rule::object_decl => Item::Object(self.object_decl(pair)?),
            Rule::list_decl => {
                let span = self.span(&pair);
                let mut inner = pair.into_inner();
                let name = self.string(next_of(&mut inner, Rule::string)?);
                let object = self.ident(next_of(&mut inner, Rule::ident)?);
                let attrs = self.attr_decls(inner);
                Item::List(ListDecl {
                    span,
                    name,
                    object,
                    attrs,
                })
            }
            Rule::team_decl => {
                let span = self.span(&pair);
                let mut inner = pair.into_inner();
                let name = self.ident(next_of(&mut inner, Rule::ident)?);
                let members = inner
                    .filter(|p| p.as_rule() == Rule::string)
                    .map(|p| self.string(p))
                    .tight();
                Item::Team(TeamDecl {
                    span,
                    name,
                    members,
                })
            }
            Rule::webhook_decl => {
                let span = self.span(&pair);
                let mut inner = pair.into_inner();
                let name = self.ident(next_of(&mut inner, Rule::ident)?);
                let fields = inner
                    .filter(|p| p.as_rule() == Rule::field_decl)
                    .filter_map(|p| self.part(p, "field", |p| self.field_decl(p)))
                    .tight();
                Item::Webhook(WebhookDecl { span, name, fields })
            }
            Rule::action_decl => {
                let span = self.span(&pair);
                let mut inner = pair.into_inner();
                let name = self.ident(next_of(&mut inner, Rule::call_name)?);
                let mut params = Vec::new();
                let mut idempotent = false;
                for p in inner {
                    match p.as_rule() {
                        Rule::field_decl => {
                            params.extend(self.part(p, "parameter", |p| self.field_decl(p)))
                        }
                        Rule::idempotent => idempotent = true,
                        _ => {}
                    }
                }
                Item::Action(ActionDecl {
                    span,
                    name,
                    params,
                    idempotent,
                })
            }
            Rule::test_block => Item::Test(self.test_block(pair)?),
            _ => return None,
        })
    }

    // ------------------------------------------------------------------ rules

    fn rule(&self, pair: Pair<'_, Rule>) -> Lowered<RuleItem> {
        let span = self.span(&pair);
        let pairs = pair.into_inner();
        // Every pair but the trigger clause and the `do` clause is a header.
        let mut headers = Vec::with_capacity(pairs.len().saturating_sub(2));
        let mut trigger = None;
        let mut do_span = Span::default();
        let mut steps = Vec::new();
        for p in pairs {
            match p.as_rule() {
                Rule::when_clause => trigger = Some(TriggerClause::When(self.when_clause(p)?)),
                Rule::every_clause => trigger = Some(TriggerClause::Every(self.every_clause(p)?)),
                Rule::do_clause => {
                    let mut inner = p.into_inner();
                    do_span = self.span(&inner.next()?);
                    steps = self.steps(inner);
                }
                _ => headers.push(self.header(p)?),
            }
        }
        Some(RuleItem {
            span,
            headers,
            trigger: trigger?,
            do_span,
            steps,
        })
    }

    fn header(&self, pair: Pair<'_, Rule>) -> Lowered<Header> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        inner.next(); // the keyword
        let kind = match rule {
            Rule::rule_header => HeaderKind::Rule {
                id: self.ident(inner.next()?),
                title: inner.next().map(|p| self.string(p)),
            },
            Rule::owner_header => HeaderKind::Owner(self.string(inner.next()?)),
            Rule::description_header => HeaderKind::Description(self.string(inner.next()?)),
            Rule::on_header => HeaderKind::On(self.ident(inner.next()?)),
            Rule::status_header => HeaderKind::Status(self.ident(inner.next()?)),
            Rule::limit_header => {
                let count = self.integer(inner.next()?);
                inner.next(); // per
                HeaderKind::Limit {
                    count,
                    window: self.window(inner.next()?)?,
                }
            }
            Rule::coalesce_header => HeaderKind::Coalesce(self.duration(inner.next()?)?),
            Rule::allow_header => HeaderKind::Allow {
                lint: self.ident(inner.next()?),
                reason: inner.next().map(|p| self.string(p)),
            },
            _ => return None,
        };
        Some(Header { span, kind })
    }

    fn when_clause(&self, pair: Pair<'_, Rule>) -> Lowered<WhenClause> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let keyword = self.span(&inner.next()?);
        let mut object = None;
        let mut trigger = None;
        let mut condition = None;
        for p in inner {
            match p.as_rule() {
                Rule::when_object => object = Some(self.ident(p.into_inner().next()?)),
                Rule::condition => condition = Some(self.expr(p.into_inner().nth(1)?)),
                _ => trigger = Some(self.trigger(p)?),
            }
        }
        Some(WhenClause {
            span,
            keyword,
            object,
            trigger: trigger?,
            condition,
        })
    }

    fn trigger(&self, pair: Pair<'_, Rule>) -> Lowered<Trigger> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        let kind = match rule {
            Rule::created => TriggerKind::Created,
            Rule::updated => TriggerKind::Updated,
            Rule::deleted => TriggerKind::Deleted,
            Rule::merged => TriggerKind::Merged,
            Rule::note_created => TriggerKind::NoteCreated,
            Rule::comment_added => TriggerKind::CommentAdded,
            Rule::task_created => TriggerKind::TaskCreated,
            Rule::task_completed => TriggerKind::TaskCompleted,
            Rule::call_recorded => TriggerKind::CallRecorded,
            Rule::changed_trigger => {
                let attr = self.ident(inner.next()?);
                let (mut from, mut to, mut list) = (None, None, None);
                for p in inner {
                    match p.as_rule() {
                        Rule::from_values => from = Some(self.values(p.into_inner().nth(1)?)?),
                        Rule::to_values => to = Some(self.values(p.into_inner().nth(1)?)?),
                        Rule::in_list => list = Some(self.string(p.into_inner().last()?)),
                        _ => {}
                    }
                }
                TriggerKind::Changed {
                    attr,
                    from,
                    to,
                    list,
                }
            }
            Rule::entry_changed => {
                TriggerKind::EntryChanged(self.string(inner.last()?.into_inner().last()?))
            }
            Rule::matches_trigger => TriggerKind::Matches(self.expr(inner.nth(1)?)),
            Rule::list_added => TriggerKind::AddedToList(self.string(inner.last()?)),
            Rule::list_removed => TriggerKind::RemovedFromList(self.string(inner.last()?)),
            Rule::webhook_trigger => TriggerKind::Webhook(self.ident(inner.nth(1)?)),
            Rule::command_trigger => TriggerKind::Command(self.string(inner.nth(1)?)),
            Rule::rule_failed => {
                let rule = self.ident(inner.nth(1)?);
                let times = inner
                    .find(|p| p.as_rule() == Rule::in_a_row)
                    .and_then(|p| p.into_inner().next())
                    .map(|p| self.integer(p));
                TriggerKind::RuleFailed { rule, times }
            }
            _ => return None,
        };
        Some(Trigger { span, kind })
    }

    fn values(&self, pair: Pair<'_, Rule>) -> Lowered<Values> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next()?;
        Some(match inner.as_rule() {
            Rule::value_list => Values {
                span,
                bracketed: true,
                items: inner
                    .into_inner()
                    .filter_map(|v| self.part(v, "value", |v| self.value(v)))
                    .tight(),
            },
            _ => Values {
                span,
                bracketed: false,
                items: vec![self.value(inner)?],
            },
        })
    }

    fn value(&self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next()?;
        let kind = match inner.as_rule() {
            Rule::kw_empty => ExprKind::Empty,
            Rule::ident => ExprKind::Path(vec![self.ident(inner)]),
            Rule::negative => {
                let number = inner.into_inner().next()?;
                let operand = Expr {
                    span: self.span(&number),
                    kind: ExprKind::Number(self.number(&number)),
                };
                ExprKind::Unary {
                    op: UnaryOp::Neg,
                    operand: Box::new(operand),
                }
            }
            _ => return Some(self.primary(inner)),
        };
        Some(Expr { span, kind })
    }

    fn every_clause(&self, pair: Pair<'_, Rule>) -> Lowered<EveryClause> {
        let span = self.span(&pair);
        let mut schedule = None;
        let mut zone = None;
        let mut for_clause = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::kw_every => {}
                Rule::time_zone => zone = Some(self.string(p.into_inner().nth(1)?)),
                Rule::for_clause => {
                    let mut inner = p.into_inner();
                    inner.next(); // for
                    let object = self.ident(inner.next()?);
                    inner.next(); // where
                    let filter = inner.next().map(|f| self.expr(f));
                    for_clause = Some(ForClause { object, filter });
                }
                _ => schedule = Some(self.schedule(p)?),
            }
        }
        Some(EveryClause {
            span,
            schedule: schedule?,
            zone,
            for_clause,
        })
    }

    fn schedule(&self, pair: Pair<'_, Rule>) -> Lowered<Schedule> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        let kind = match rule {
            Rule::cron_schedule => ScheduleKind::Cron(self.string(inner.nth(1)?)),
            Rule::interval_schedule => {
                let amount = inner.next()?;
                let unit = inner.next()?;
                ScheduleKind::Interval(Duration {
                    span,
                    amount: self.number(&amount),
                    unit: self.unit(&unit),
                })
            }
            Rule::monthly_schedule => {
                let day = inner.find(|p| p.as_rule() == Rule::integer)?;
                let at = inner.next()?;
                ScheduleKind::Monthly {
                    day: self.integer(day),
                    at: self.at_time(at)?,
                }
            }
            Rule::daily_schedule => ScheduleKind::Daily {
                days: self.ident(inner.next()?),
                at: self.at_time(inner.next()?)?,
            },
            _ => return None,
        };
        Some(Schedule { span, kind })
    }

    fn at_time(&self, pair: Pair<'_, Rule>) -> Lowered<TimeOfDay> {
        let time = pair.into_inner().nth(1)?;
        Some(TimeOfDay {
            text: time.as_str().to_string(),
            span: self.span(&time),
        })
    }

    // ------------------------------------------------------------------ steps

    /// Reads one part of a list (a step, a field, an option) with `read`; a part that
    /// cannot be read is reported, never dropped in silence.
    fn part<'i, T>(
        &self,
        pair: Pair<'i, Rule>,
        what: &str,
        read: impl FnOnce(Pair<'i, Rule>) -> Option<T>,
    ) -> Option<T> {
        let span = self.span(&pair);
        let part = read(pair);
        if part.is_none() {
            self.unread(span, what);
        }
        part
    }

    /// A record a step names (`person`, `deal.company`): a `path` pair, which the
    /// expression parser does not take on its own.
    fn path_expr(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let names = pair.into_inner().map(|p| self.ident(p)).tight();
        Expr {
            span,
            kind: ExprKind::Path(names),
        }
    }

    /// The place a `set` or `clear` writes: the attribute after the last dot, and the
    /// record before it when one is named (`company.csm`).
    fn place(&self, pair: Pair<'_, Rule>) -> Lowered<(Option<Expr>, Ident)> {
        let mut names: Vec<Ident> = pair.into_inner().map(|p| self.ident(p)).tight();
        let attr = names.pop()?;
        let target = names.first().map(|first| {
            let last = names.last().unwrap_or(first);
            Expr {
                span: Span::new(first.span.lo(), last.span.hi()),
                kind: ExprKind::Path(names.clone()),
            }
        });
        Some((target, attr))
    }

    fn steps(&self, pairs: Pairs<'_, Rule>) -> Vec<Step> {
        pairs
            .filter(|p| p.as_rule() == Rule::step)
            .filter_map(|p| self.part(p, "step", |p| self.step(p)))
            .tight()
    }

    fn step(&self, pair: Pair<'_, Rule>) -> Lowered<Step> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let body = inner.next()?;
        let mut step = Step {
            span,
            kind: self.step_kind(body)?,
            continue_on_error: None,
            retry: None,
        };
        for modifier in inner {
            match modifier.as_rule() {
                Rule::on_error_continue => step.continue_on_error = Some(self.span(&modifier)),
                Rule::retry => step.retry = Some(self.integer(modifier.into_inner().nth(1)?)),
                _ => {}
            }
        }
        Some(step)
    }

    fn step_kind(&self, pair: Pair<'_, Rule>) -> Lowered<StepKind> {
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        Some(match rule {
            Rule::set_step => {
                inner.next();
                let (target, attr) = self.place(inner.next()?)?;
                let value = self.expr(inner.next()?);
                StepKind::Set {
                    target,
                    attr,
                    value,
                    if_empty: inner.next().is_some(),
                }
            }
            Rule::clear_step => {
                let (target, attr) = self.place(inner.nth(1)?)?;
                StepKind::Clear { target, attr }
            }
            Rule::add_list_step | Rule::remove_list_step => {
                let target = inner
                    .clone()
                    .find(|p| p.as_rule() == Rule::path)
                    .map(|p| self.path_expr(p));
                let list = self.string(inner.last()?);
                match rule {
                    Rule::add_list_step => StepKind::AddToList { target, list },
                    _ => StepKind::RemoveFromList { target, list },
                }
            }
            Rule::slack_step => {
                inner.next();
                let target = inner.next()?;
                let target = match target.as_rule() {
                    Rule::slack_dm => SlackTarget::Dm(self.expr(target.into_inner().nth(1)?)),
                    _ => SlackTarget::Channel(self.string(target)),
                };
                let (mut text, mut key) = (None, None);
                for p in inner {
                    match p.as_rule() {
                        Rule::key_clause => key = Some(self.expr(p.into_inner().nth(1)?)),
                        _ => text = Some(self.string(p)),
                    }
                }
                StepKind::Slack { target, text, key }
            }
            Rule::email_step => {
                inner.next();
                let to = self.expr(inner.next()?);
                let content = inner.next()?;
                let content = match content.as_rule() {
                    Rule::email_template => {
                        EmailContent::Template(self.string(content.into_inner().nth(1)?))
                    }
                    _ => {
                        let mut c = content.into_inner();
                        let subject = self.string(c.nth(1)?);
                        let body = self.string(c.nth(1)?);
                        EmailContent::Inline { subject, body }
                    }
                };
                let key = match inner.next() {
                    Some(k) => Some(self.expr(k.into_inner().nth(1)?)),
                    None => None,
                };
                StepKind::Email { to, content, key }
            }
            Rule::create_task_step => {
                inner.next();
                inner.next();
                let title = self.string(inner.next()?);
                let (mut assignee, mut due, mut body, mut linked, mut key, mut binding) =
                    (None, None, None, None, None, None);
                for p in inner {
                    let rule = p.as_rule();
                    let value = p.into_inner().last()?;
                    match rule {
                        Rule::task_for => assignee = Some(self.expr(value)),
                        Rule::task_linked => linked = Some(self.path_expr(value)),
                        Rule::task_due => due = Some(self.expr(value)),
                        Rule::task_body => body = Some(self.string(value)),
                        Rule::key_clause => key = Some(self.expr(value)),
                        Rule::as_clause => binding = Some(self.ident(value)),
                        _ => {}
                    }
                }
                StepKind::CreateTask {
                    title,
                    assignee,
                    due,
                    body,
                    linked,
                    key,
                    binding,
                }
            }
            Rule::create_step => {
                inner.next();
                let object = self.ident(inner.next()?);
                let fields = self.map(inner.next()?);
                let (key, binding) = self.key_and_binding(inner);
                StepKind::Create {
                    object,
                    fields,
                    key,
                    binding,
                }
            }
            Rule::find_step => {
                inner.next();
                let mut next = inner.next()?;
                let all = next.as_rule() == Rule::find_all;
                if all {
                    next = inner.next()?;
                }
                let object = self.ident(next);
                inner.next();
                let filter = self.expr(inner.next()?);
                let mut next = inner.next()?;
                let mut limit = None;
                if next.as_rule() == Rule::find_limit {
                    limit = Some(self.integer(next.into_inner().nth(1)?));
                    next = inner.next()?;
                }
                let binding = self.ident(next.into_inner().nth(1)?);
                StepKind::Find {
                    all,
                    object,
                    filter,
                    limit,
                    binding,
                }
            }
            Rule::for_each_step => {
                let binding = self.ident(inner.nth(2)?);
                let list = self.expr(inner.nth(1)?);
                StepKind::ForEach {
                    binding,
                    list,
                    steps: self.steps(inner),
                }
            }
            Rule::upsert_step => {
                inner.next();
                let object = self.ident(inner.next()?);
                inner.next();
                let by = self.ident(inner.next()?);
                let fields = self.map(inner.next()?);
                let (_, binding) = self.key_and_binding(inner);
                StepKind::Upsert {
                    object,
                    by,
                    fields,
                    binding,
                }
            }
            Rule::note_step => {
                inner.next();
                let mut next = inner.next()?;
                let mut target = None;
                if next.as_rule() == Rule::note_on {
                    target = Some(self.path_expr(next.into_inner().nth(1)?));
                    next = inner.next()?;
                }
                StepKind::Note {
                    target,
                    title: self.string(next),
                    body: inner.next().map(|p| self.string(p)),
                }
            }
            Rule::http_step => {
                inner.next();
                let method = self.ident(inner.next()?);
                let url = self.string(inner.next()?);
                let (mut headers, mut body, mut key, mut binding) = (Vec::new(), None, None, None);
                for p in inner {
                    let rule = p.as_rule();
                    let value = p.into_inner().nth(1)?;
                    match rule {
                        Rule::http_headers => headers = self.map(value),
                        Rule::http_body => body = Some(self.expr(value)),
                        Rule::key_clause => key = Some(self.expr(value)),
                        Rule::as_clause => binding = Some(self.ident(value)),
                        _ => {}
                    }
                }
                StepKind::Http {
                    method,
                    url,
                    headers,
                    body,
                    key,
                    binding,
                }
            }
            Rule::wait_step => {
                let what = inner.nth(1)?;
                match what.as_rule() {
                    Rule::wait_until => StepKind::WaitUntil(self.expr(what.into_inner().nth(1)?)),
                    _ => StepKind::WaitFor(self.expr(what)),
                }
            }
            Rule::ask_step => {
                inner.next();
                let member = self.expr(inner.next()?);
                let question = self.string(inner.next()?);
                let mut timeout = None;
                let mut binding = None;
                let mut replace = false;
                for p in inner {
                    let rule = p.as_rule();
                    if rule == Rule::ask_replace {
                        replace = true;
                        continue;
                    }
                    let value = p.into_inner().nth(1)?;
                    match rule {
                        Rule::ask_timeout => timeout = Some(self.expr(value)),
                        _ => binding = Some(self.ident(value)),
                    }
                }
                StepKind::Ask {
                    member,
                    question,
                    timeout,
                    replace,
                    binding: binding?,
                }
            }
            Rule::if_step => {
                inner.next();
                let condition = self.expr(inner.next()?);
                inner.next(); // then
                let mut branches = vec![Branch {
                    condition,
                    steps: Vec::new(),
                }];
                let mut otherwise = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::step => {
                            if let Some(last) = branches.last_mut() {
                                last.steps.extend(self.step(p));
                            }
                        }
                        Rule::else_if => {
                            let mut e = p.into_inner();
                            let condition = self.expr(e.nth(2)?);
                            branches.push(Branch {
                                condition,
                                steps: self.steps(e),
                            });
                        }
                        Rule::else_block => otherwise = Some(self.steps(p.into_inner())),
                        _ => {}
                    }
                }
                StepKind::If {
                    branches,
                    otherwise,
                }
            }
            Rule::route_step => {
                let mut arms = Vec::new();
                let mut otherwise = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::route_arm => {
                            let mut a = p.into_inner();
                            let condition = self.expr(a.next()?);
                            arms.push(Branch {
                                condition,
                                steps: self.steps(a),
                            });
                        }
                        Rule::route_else => otherwise = Some(self.steps(p.into_inner())),
                        _ => {}
                    }
                }
                StepKind::Route { arms, otherwise }
            }
            Rule::stop_step => StepKind::Stop,
            Rule::skip_step => StepKind::Skip(inner.nth(1).map(|p| self.string(p))),
            Rule::custom_step => {
                let name = self.ident(inner.next()?);
                let mut args = Vec::new();
                let (mut key, mut binding) = (None, None);
                for p in inner {
                    match p.as_rule() {
                        Rule::named_arg => {
                            let mut a = p.into_inner();
                            let name = self.ident(a.next()?);
                            let value = self.expr(a.next()?);
                            args.push(NamedArg { name, value });
                        }
                        Rule::key_clause => key = Some(self.expr(p.into_inner().nth(1)?)),
                        Rule::as_clause => binding = Some(self.ident(p.into_inner().nth(1)?)),
                        _ => {}
                    }
                }
                StepKind::Custom {
                    name,
                    args,
                    key,
                    binding,
                }
            }
            _ => return None,
        })
    }

    fn key_and_binding(&self, pairs: Pairs<'_, Rule>) -> (Option<Expr>, Option<Ident>) {
        let (mut key, mut binding) = (None, None);
        for p in pairs {
            let rule = p.as_rule();
            let Some(value) = p.into_inner().nth(1) else {
                continue;
            };
            match rule {
                Rule::key_clause => key = Some(self.expr(value)),
                Rule::as_clause => binding = Some(self.ident(value)),
                _ => {}
            }
        }
        (key, binding)
    }

    fn map(&self, pair: Pair<'_, Rule>) -> Vec<MapEntry> {
        pair.into_inner()
            .filter_map(|entry| {
                self.part(entry, "entry", |entry| {
                    let mut e = entry.into_inner();
                    let key = e.next()?;
                    let value = self.expr(e.next()?);
                    let quoted = key.as_rule() == Rule::string;
                    let key = if quoted {
                        let s = self.string(key);
                        Ident {
                            name: s.plain().unwrap_or_else(|| s.lossy()),
                            span: s.span,
                        }
                    } else {
                        self.ident(key)
                    };
                    Some(MapEntry { key, quoted, value })
                })
            })
            .tight()
    }

    // ------------------------------------------------------------------ expressions

    fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let operators = pair
            .clone()
            .into_inner()
            .filter(|p| is_operator(p.as_rule()))
            .count();
        let total = self.operators.get() + operators;
        self.operators.set(total);
        if total > MAX_OPERATORS {
            if total - operators <= MAX_OPERATORS {
                self.error(
                    span,
                    format!("this rule has more than {MAX_OPERATORS} operators"),
                    "split it into several rules or simpler conditions",
                );
            }
            return Expr {
                span,
                kind: ExprKind::Empty,
            };
        }
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, operand| {
                let op_span = self.span(&op);
                let op = match op.as_rule() {
                    Rule::not_op => UnaryOp::Not,
                    Rule::neg_op => UnaryOp::Neg,
                    _ => {
                        self.unread(op_span, "operator");
                        UnaryOp::Neg
                    }
                };
                Expr {
                    span: op_span.cover(operand.span),
                    kind: ExprKind::Unary {
                        op,
                        operand: Box::new(operand),
                    },
                }
            })
            .map_postfix(|operand, op| {
                let op_span = self.span(&op);
                if matches!(op.as_rule(), Rule::in_list_op | Rule::not_in_list_op) {
                    let negated = op.as_rule() == Rule::not_in_list_op;
                    let list = op.into_inner().last().map(|p| self.string(p));
                    return match list {
                        Some(list) => Expr {
                            span: operand.span.cover(op_span),
                            kind: ExprKind::InList {
                                operand: Box::new(operand),
                                list,
                                negated,
                            },
                        },
                        None => {
                            self.unread(op_span, "operator");
                            operand
                        }
                    };
                }
                let op = match op.as_rule() {
                    Rule::is_set_op => TestOp::IsSet,
                    Rule::is_not_set_op => TestOp::IsNotSet,
                    Rule::is_empty_op => TestOp::IsEmpty,
                    Rule::is_not_empty_op => TestOp::IsNotEmpty,
                    _ => {
                        self.unread(op_span, "operator");
                        TestOp::IsNotEmpty
                    }
                };
                Expr {
                    span: operand.span.cover(op_span),
                    kind: ExprKind::Test {
                        op,
                        operand: Box::new(operand),
                    },
                }
            })
            .map_infix(|lhs, op, rhs| {
                let op_span = self.span(&op);
                let op = binary_op(op.as_rule()).unwrap_or_else(|| {
                    self.unread(op_span, "operator");
                    BinaryOp::Eq
                });
                Expr {
                    span: lhs.span.cover(rhs.span),
                    kind: ExprKind::Binary {
                        op,
                        op_span,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                }
            })
            .parse(pair.into_inner())
            .with_outer_span(span)
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::paren => match pair.into_inner().next() {
                Some(inner) => ExprKind::Paren(Box::new(self.expr(inner))),
                None => ExprKind::Empty,
            },
            Rule::list => ExprKind::List(pair.into_inner().map(|p| self.expr(p)).tight()),
            Rule::map => ExprKind::Map(self.map(pair)),
            Rule::string => ExprKind::String(self.string(pair)),
            Rule::datetime => ExprKind::DateTime(pair.as_str().to_string()),
            Rule::date => ExprKind::Date(pair.as_str().to_string()),
            Rule::relative_future => {
                match pair.into_inner().nth(1).and_then(|d| self.duration(d)) {
                    Some(d) => ExprKind::FromNow(d),
                    None => ExprKind::Empty,
                }
            }
            Rule::quantity => {
                let mut inner = pair.into_inner();
                let Some(number) = inner.next() else {
                    return Expr {
                        span,
                        kind: ExprKind::Empty,
                    };
                };
                let amount = self.number(&number);
                match inner.next() {
                    None => ExprKind::Number(amount),
                    Some(unit) => {
                        let duration = Duration {
                            amount,
                            unit: self.unit(&unit),
                            span: self.span(&number).cover(self.span(&unit)),
                        };
                        if inner.next().is_some() {
                            ExprKind::Ago(duration)
                        } else {
                            ExprKind::Duration(duration)
                        }
                    }
                }
            }
            Rule::bool => ExprKind::Bool(pair.as_str() == "true"),
            Rule::empty | Rule::kw_empty => ExprKind::Empty,
            Rule::now => ExprKind::Now,
            Rule::today => ExprKind::Today,
            Rule::call => {
                let mut inner = pair.into_inner();
                let name = match inner.next() {
                    Some(n) => self.ident(n),
                    None => {
                        return Expr {
                            span,
                            kind: ExprKind::Empty,
                        }
                    }
                };
                ExprKind::Call {
                    name,
                    args: inner.map(|p| self.expr(p)).tight(),
                }
            }
            Rule::path => ExprKind::Path(pair.into_inner().map(|p| self.ident(p)).tight()),
            Rule::ident => ExprKind::Path(vec![self.ident(pair)]),
            Rule::number => ExprKind::Number(self.number(&pair)),
            _ => {
                self.unread(span, "value");
                ExprKind::Empty
            }
        };
        Expr { span, kind }
    }

    fn string(&self, pair: Pair<'_, Rule>) -> StringLit {
        let span = self.span(&pair);
        let parts = pair
            .into_inner()
            .filter_map(|p| match p.as_rule() {
                Rule::string_text => Some(StringPart::Text {
                    raw: p.as_str().to_string(),
                    value: unescape(p.as_str()),
                }),
                Rule::interpolation => p
                    .into_inner()
                    .next()
                    .map(|e| StringPart::Hole(self.expr(e))),
                _ => None,
            })
            .tight();
        StringLit { span, parts }
    }

    fn number(&self, pair: &Pair<'_, Rule>) -> Number {
        let text = pair.as_str().to_string();
        let value = text
            .replace('_', "")
            .parse::<f64>()
            .unwrap_or(f64::INFINITY);
        if !value.is_finite() {
            self.error(
                self.span(pair),
                "this number is too large",
                "numbers go up to about 1.8e308",
            );
        }
        Number { text, value }
    }

    fn integer(&self, pair: Pair<'_, Rule>) -> Integer {
        let span = self.span(&pair);
        let value = match pair.as_str().replace('_', "").parse::<u32>() {
            Ok(v) => v,
            Err(_) => {
                self.error(
                    span,
                    "this number is too large",
                    "use a number below 4294967296",
                );
                u32::MAX
            }
        };
        Integer { value, span }
    }

    fn duration(&self, pair: Pair<'_, Rule>) -> Lowered<Duration> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let amount = self.number(&inner.next()?);
        let unit = self.unit(&inner.next()?);
        Some(Duration { amount, unit, span })
    }

    fn unit(&self, pair: &Pair<'_, Rule>) -> TimeUnit {
        time_unit(pair.as_str()).unwrap_or_else(|| {
            self.unread(self.span(pair), "unit of time");
            TimeUnit::Hour
        })
    }

    fn window(&self, pair: Pair<'_, Rule>) -> Lowered<Duration> {
        let span = self.span(&pair);
        let mut amount = Number {
            text: "1".to_string(),
            value: 1.0,
        };
        let mut unit = TimeUnit::Hour;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::integer => amount = self.number(&p),
                _ => unit = self.unit(&p),
            }
        }
        Some(Duration { amount, unit, span })
    }

    // ------------------------------------------------------------------ declarations

    fn object_decl(&self, pair: Pair<'_, Rule>) -> Lowered<ObjectDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(next_of(&mut inner, Rule::ident)?);
        let attrs = self.attr_decls(inner);
        Some(ObjectDecl { span, name, attrs })
    }

    fn attr_decls(&self, pairs: Pairs<'_, Rule>) -> Vec<AttrDecl> {
        pairs
            .filter(|p| p.as_rule() == Rule::attr_decl)
            .filter_map(|p| {
                self.part(p, "attribute", |p| {
                    let span = self.span(&p);
                    let mut a = p.into_inner();
                    let name = self.ident(a.next()?);
                    let ty = self.type_expr(a.next()?)?;
                    let flags = a.map(|f| self.ident(f)).tight();
                    Some(AttrDecl {
                        span,
                        name,
                        ty,
                        flags,
                    })
                })
            })
            .tight()
    }

    fn field_decl(&self, pair: Pair<'_, Rule>) -> Lowered<FieldDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next()?);
        let ty = self.type_expr(inner.next()?)?;
        Some(FieldDecl { span, name, ty })
    }

    fn type_expr(&self, pair: Pair<'_, Rule>) -> Lowered<TypeExpr> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next()?;
        let rule = inner.as_rule();
        let kind = match rule {
            Rule::ident => TypeExprKind::Named(self.ident(inner)),
            Rule::record_type => {
                let mut parts = inner.into_inner();
                let keyword = parts.next()?;
                let object = self.ident(parts.next()?);
                if keyword.as_rule() == Rule::kw_record {
                    TypeExprKind::Record(object)
                } else if keyword.as_str() == "currency" {
                    TypeExprKind::Currency(object)
                } else {
                    TypeExprKind::Named(self.ident(keyword))
                }
            }
            Rule::list_of => {
                TypeExprKind::List(Box::new(self.type_expr(inner.into_inner().nth(2)?)?))
            }
            Rule::select_type | Rule::multi_select | Rule::status_type => {
                let options = inner
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::options)?
                    .into_inner()
                    .filter_map(|o| {
                        self.part(o, "option", |o| {
                            let o = o.into_inner().next()?;
                            Some(if o.as_rule() == Rule::string {
                                let s = self.string(o);
                                Ident {
                                    name: s.plain().unwrap_or_else(|| s.lossy()),
                                    span: s.span,
                                }
                            } else {
                                self.ident(o)
                            })
                        })
                    })
                    .tight();
                match rule {
                    Rule::select_type => TypeExprKind::Select(options),
                    Rule::multi_select => TypeExprKind::MultiSelect(options),
                    _ => TypeExprKind::Status(options),
                }
            }
            _ => return None,
        };
        Some(TypeExpr { span, kind })
    }

    // ------------------------------------------------------------------ tests

    fn test_block(&self, pair: Pair<'_, Rule>) -> Lowered<TestBlock> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next();
        let name = self.string(inner.next()?);
        let mut clauses = Vec::new();
        for p in inner {
            let span = self.span(&p);
            let rule = p.as_rule();
            let mut c = p.into_inner();
            c.next(); // keyword
            let kind = match rule {
                Rule::test_given => {
                    let object = self.ident(c.next()?);
                    let mut next = c.next()?;
                    let mut name = None;
                    if next.as_rule() == Rule::kw_as {
                        name = Some(self.ident(c.next()?));
                        next = c.next()?;
                    }
                    TestClauseKind::Given {
                        object,
                        name,
                        fields: self.map(next),
                    }
                }
                Rule::test_mock => {
                    let mock = c.next()?;
                    let rule = mock.as_rule();
                    let mut m = mock.into_inner();
                    m.next(); // `http` / `ask`
                    match rule {
                        Rule::mock_http => TestClauseKind::MockHttp {
                            url: self.string(m.next()?),
                            answer: self.expr(m.next()?),
                        },
                        _ => TestClauseKind::MockAsk {
                            answer: self.map(m.next()?),
                        },
                    }
                }
                Rule::test_redeliver => TestClauseKind::Redeliver,
                Rule::test_event => {
                    let mut object = None;
                    let mut trigger = None;
                    let mut fields = None;
                    for e in c {
                        match e.as_rule() {
                            Rule::when_object => {
                                object = e.into_inner().next().map(|o| self.ident(o))
                            }
                            Rule::map => fields = Some(self.map(e)),
                            _ => trigger = self.trigger(e),
                        }
                    }
                    TestClauseKind::Event {
                        object,
                        trigger: trigger?,
                        fields,
                    }
                }
                Rule::test_expect => {
                    let mut negated = false;
                    let mut count = None;
                    let mut action = None;
                    let mut args = Vec::new();
                    for e in c {
                        match e.as_rule() {
                            Rule::expect_no => negated = true,
                            Rule::expect_count => {
                                count = Some(self.integer(e.into_inner().next()?))
                            }
                            Rule::ident => action = Some(self.ident(e)),
                            _ => args.push(self.primary(e)),
                        }
                    }
                    TestClauseKind::Expect {
                        negated,
                        count,
                        action: action?,
                        args,
                    }
                }
                _ => continue,
            };
            clauses.push(TestClause { span, kind });
        }
        Some(TestBlock {
            span,
            name,
            clauses,
        })
    }
}

type RuleItem = super::ast::Rule;

trait WithOuterSpan {
    fn with_outer_span(self, span: Span) -> Self;
}

impl WithOuterSpan for Expr {
    /// A bare operand keeps its own span; a compound expression spans its whole text.
    fn with_outer_span(mut self, span: Span) -> Expr {
        if matches!(
            self.kind,
            ExprKind::Binary { .. } | ExprKind::Unary { .. } | ExprKind::Test { .. }
        ) {
            self.span = span;
        }
        self
    }
}

fn next_of<'i>(pairs: &mut Pairs<'i, Rule>, rule: Rule) -> Option<Pair<'i, Rule>> {
    pairs.find(|p| p.as_rule() == rule)
}

fn is_operator(rule: Rule) -> bool {
    !matches!(
        rule,
        Rule::paren
            | Rule::list
            | Rule::map
            | Rule::string
            | Rule::datetime
            | Rule::date
            | Rule::relative_future
            | Rule::quantity
            | Rule::bool
            | Rule::empty
            | Rule::now
            | Rule::today
            | Rule::call
            | Rule::path
    )
}

fn binary_op(rule: Rule) -> Option<BinaryOp> {
    Some(match rule {
        Rule::or_op => BinaryOp::Or,
        Rule::and_op => BinaryOp::And,
        Rule::eq_op => BinaryOp::Eq,
        Rule::ne_op => BinaryOp::Ne,
        Rule::lt_op => BinaryOp::Lt,
        Rule::le_op => BinaryOp::Le,
        Rule::gt_op => BinaryOp::Gt,
        Rule::ge_op => BinaryOp::Ge,
        Rule::in_op => BinaryOp::In,
        Rule::not_in_op => BinaryOp::NotIn,
        Rule::contains_op => BinaryOp::Contains,
        Rule::contains_any_op => BinaryOp::ContainsAny,
        Rule::contains_all_op => BinaryOp::ContainsAll,
        Rule::starts_with_op => BinaryOp::StartsWith,
        Rule::ends_with_op => BinaryOp::EndsWith,
        Rule::before_op => BinaryOp::Before,
        Rule::after_op => BinaryOp::After,
        Rule::within_last_op => BinaryOp::WithinLast,
        Rule::within_next_op => BinaryOp::WithinNext,
        Rule::add_op => BinaryOp::Add,
        Rule::sub_op => BinaryOp::Sub,
        Rule::mul_op => BinaryOp::Mul,
        Rule::div_op => BinaryOp::Div,
        _ => return None,
    })
}

fn time_unit(text: &str) -> Option<TimeUnit> {
    Some(match text.trim_end_matches('s') {
        "second" => TimeUnit::Second,
        "minute" => TimeUnit::Minute,
        "hour" => TimeUnit::Hour,
        "day" => TimeUnit::Day,
        "week" => TimeUnit::Week,
        _ => return None,
    })
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use pest::Parser;

    use super::*;
    use crate::syntax::RulesParser;

    #[test]
    fn a_shape_the_reader_does_not_know_is_reported_not_dropped() {
        // An expression where an item belongs: the grammar never produces this, which
        // is exactly the mismatch that must not turn into a silent `Item::Error`.
        let text = "1 + 2";
        let file = SourceFile::new("t.rules", text);
        let pair = RulesParser::parse(Rule::expr, text)
            .unwrap()
            .next()
            .unwrap();
        let (lowered, diagnostics) = item(&file, &[], pair, 0);
        assert!(matches!(lowered, Item::Error(_)));
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code, "internal-error");
    }

    #[test]
    fn every_unit_of_time_the_grammar_takes_is_read() {
        for word in [
            "second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week",
            "weeks",
        ] {
            assert!(time_unit(word).is_some(), "{word}");
        }
        assert!(time_unit("fortnight").is_none());
    }
}
