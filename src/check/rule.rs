//! Checking one rule: headers, object, trigger, condition, then steps.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::ir::{self, Location, Timing};
use crate::schema::{quoted_list, Object, Schema, Type};
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{self, HeaderKind, ScheduleKind, TriggerClause, TriggerKind};

use super::infer::{self, Inference};
use super::scope::{self, Scope};
use super::suggest_or_list;

/// What every rule check shares.
pub(super) struct Context<'a> {
    pub schema: &'a Schema,
    pub file: &'a Arc<SourceFile>,
    /// Every rule id in the workspace, for `rule … failed`.
    pub rule_ids: &'a [&'a str],
}

/// The state of checking one rule.
pub(super) struct Checker<'a> {
    pub cx: &'a Context<'a>,
    pub diagnostics: &'a mut Vec<Diagnostic>,
    pub scope: Scope<'a>,
    /// True while checking where a `secret(…)` may go (http steps, custom actions).
    pub secrets_allowed: bool,
}

impl<'a> Checker<'a> {
    pub(super) fn error(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        help: Option<String>,
    ) {
        let mut d = Diagnostic::error(self.cx.file, code, message, span);
        if let Some(help) = help {
            d = d.with_help(help);
        }
        self.diagnostics.push(d);
    }

    pub(super) fn location(&self, span: Span) -> Location {
        let at = self.cx.file.line_col(span.lo());
        Location {
            line: at.line,
            column: at.column,
        }
    }

    /// Looks up an object by name, reporting it when unknown.
    pub(super) fn object(&mut self, name: &ast::Ident) -> Option<&'a Object> {
        let schema = self.cx.schema;
        match schema.object(&name.name) {
            Some(o) => Some(o),
            None => {
                let help = suggest_or_list(
                    &name.name,
                    schema.objects.iter().map(|o| o.name.as_str()),
                    "objects",
                );
                self.error(
                    "unknown-object",
                    format!("unknown object `{}`", name.name),
                    name.span,
                    Some(help),
                );
                None
            }
        }
    }

    /// Reports `name` as no attribute of `object`, suggesting the closest one.
    pub(super) fn unknown_attribute(&mut self, object: &Object, name: &ast::Ident) {
        let help = suggest_or_list(
            &name.name,
            object.attributes.iter().map(|a| a.name.as_str()),
            "its attributes",
        );
        self.error(
            "unknown-attribute",
            format!("`{}` has no attribute `{}`", object.name, name.name),
            name.span,
            Some(help),
        );
    }

    /// Looks up a list by its (plain) name, reporting it when unknown or when it holds
    /// records of another object than `holder`'s (the record added, or the rule's).
    pub(super) fn list(
        &mut self,
        name: &ast::StringLit,
        holder: Option<&Object>,
        named: bool,
    ) -> Option<String> {
        let schema = self.cx.schema;
        let Some(text) = name.plain() else {
            self.error(
                "invalid-value",
                "a list name cannot contain `{{ }}`",
                name.span,
                None,
            );
            return None;
        };
        let Some(list) = schema.list(&text) else {
            let help = did_you_mean(&text, schema.lists.iter().map(|l| l.name.as_str()))
                .unwrap_or_else(|| format!("declare it with `list \"{text}\" of <object>`"));
            self.error(
                "unknown-list",
                format!("unknown list `{text}`"),
                name.span,
                Some(help),
            );
            return None;
        };
        if let Some(object) = holder {
            if object.name != list.object {
                let whose = if named {
                    "the record named is one of"
                } else {
                    "this rule is on"
                };
                self.error(
                    "type-mismatch",
                    format!(
                        "list `{text}` holds {}, but {whose} {}",
                        list.object, object.name
                    ),
                    name.span,
                    None,
                );
            }
        }
        Some(text)
    }
}

/// Checks one rule; `None` when it cannot be compiled (its errors are reported).
pub(super) fn check_rule(
    cx: &Context<'_>,
    rule: &ast::Rule,
    id: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ir::Rule> {
    let mut checker = Checker {
        cx,
        diagnostics,
        scope: Scope::default(),
        secrets_allowed: false,
    };
    let headers = checker.headers(rule);
    let object = checker.rule_object(rule)?;
    checker.scope.object = object;

    let (trigger, condition) = match &rule.trigger {
        TriggerClause::When(when) => checker.when_clause(when)?,
        TriggerClause::Every(every) => checker.every_clause(every)?,
    };
    let steps = checker.steps(&rule.steps, "");
    let behaviour = behaviour_hash(
        object.map(|o| o.name.as_str()),
        &trigger,
        condition.as_ref(),
        &steps,
    );
    let file = cx.file.name().to_string();
    let location = checker.location(rule.span);
    Some(ir::Rule {
        id: id.to_string(),
        // Only a program to run needs it: `Checked::program` computes it.
        version: String::new(),
        behaviour,
        title: headers.title,
        owner: headers.owner,
        description: headers.description,
        file,
        location,
        object: object.map(|o| o.name.clone()),
        status: headers.status,
        limit: headers.limit,
        coalesce_seconds: headers.coalesce,
        allow: headers.allow,
        trigger,
        condition,
        steps,
        // The workspace's, set with the rest of rulec.toml (`workspace::analyze`).
        zone: None,
    })
}

/// A short hash of the rule's canonical text: reformatting keeps it, any real edit
/// changes it (and with it every idempotency key the rule derives).
pub(super) fn version_hash(rule: &ast::Rule) -> String {
    short_hash(&crate::format::canonical_rule(rule))
}

/// A hash of what the checked rule does — object, trigger, condition and steps, with
/// options and numbers resolved and step locations left out — so rules that differ
/// only in ids, headers, layout or spelling (`10_000`, `"ClosedWon"`) hash alike.
fn behaviour_hash(
    object: Option<&str>,
    trigger: &ir::Trigger,
    condition: Option<&ir::Expr>,
    steps: &[ir::Step],
) -> u64 {
    use std::hash::{Hash, Hasher};
    // Never stored and confirmed structurally where it matters (`duplicate-rule`), so a
    // fast hash rather than a keyed one.
    let mut hasher = rustc_hash::FxHasher::default();
    (object, trigger, condition, steps).hash(&mut hasher);
    hasher.finish()
}

/// Whether `text` was already parsed as a valid cron expression on this thread. Rules of
/// a workspace share a few schedules, and building croner's tables again for each rule
/// took 2% of checking the 10,000-rule benchmark file.
fn known_valid_cron(text: &str) -> bool {
    use std::cell::RefCell;
    /// Enough for every distinct schedule of a real workspace.
    const KEEP: usize = 64;
    thread_local! {
        static VALID: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }
    VALID.with_borrow_mut(|valid| {
        if valid.iter().any(|v| v == text) {
            return true;
        }
        if text.parse::<croner::Cron>().is_err() {
            return false;
        }
        if valid.len() == KEEP {
            valid.remove(0);
        }
        valid.push(text.to_string());
        true
    })
}

fn short_hash(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(16);
    for b in digest.iter().take(8) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

struct Headers {
    title: Option<String>,
    owner: Option<String>,
    description: Option<String>,
    status: ir::Status,
    limit: Option<ir::Limit>,
    coalesce: Option<i64>,
    allow: Vec<String>,
}

impl<'a> Checker<'a> {
    fn headers(&mut self, rule: &ast::Rule) -> Headers {
        let mut out = Headers {
            title: None,
            owner: None,
            description: None,
            status: ir::Status::Active,
            limit: None,
            coalesce: None,
            allow: Vec::new(),
        };
        let mut seen: Vec<(&'static str, Span)> = Vec::new();
        for header in &rule.headers {
            let name = header_name(&header.kind);
            if name != "allow" {
                if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                    let d = Diagnostic::error(
                        self.cx.file,
                        "duplicate-header",
                        format!("`{name}` is written twice"),
                        header.span,
                    )
                    .with_related(*first, "first written here")
                    .with_help("keep one");
                    self.diagnostics.push(d);
                    continue;
                }
                seen.push((name, header.span));
            }
            match &header.kind {
                HeaderKind::Rule { title, .. } => out.title = title.as_ref().map(|t| t.lossy()),
                HeaderKind::Owner(owner) => {
                    let text = owner.lossy();
                    if !text.contains('@') {
                        self.error(
                            "invalid-value",
                            format!("owner `{text}` is not an email address"),
                            owner.span,
                            Some("name the person who answers for this rule, e.g. `owner \"revops@acme.com\"`".into()),
                        );
                    }
                    out.owner = Some(text);
                }
                HeaderKind::Description(d) => out.description = Some(d.lossy()),
                HeaderKind::On(_) => {}
                HeaderKind::Status(status) => {
                    out.status = match status.name.as_str() {
                        "active" => ir::Status::Active,
                        "paused" => ir::Status::Paused,
                        "draft" => ir::Status::Draft,
                        "archived" => ir::Status::Archived,
                        other => {
                            let help = suggest_or_list(
                                other,
                                ["active", "paused", "draft", "archived"],
                                "statuses",
                            );
                            self.error(
                                "invalid-value",
                                format!("unknown status `{other}`"),
                                status.span,
                                Some(help),
                            );
                            ir::Status::Active
                        }
                    }
                }
                HeaderKind::Limit { count, window } => {
                    if count.value == 0 {
                        self.error(
                            "invalid-value",
                            "a limit of 0 runs never runs the rule",
                            count.span,
                            Some("use `status paused` to turn a rule off".into()),
                        );
                    }
                    let seconds = window.seconds();
                    if seconds < 1 {
                        self.error(
                            "invalid-value",
                            "the limit window must be at least a second",
                            window.span,
                            None,
                        );
                    }
                    out.limit = Some(ir::Limit {
                        count: count.value,
                        window_seconds: seconds,
                    });
                }
                HeaderKind::Coalesce(duration) => {
                    let seconds = duration.seconds();
                    if seconds < 1 {
                        self.error(
                            "invalid-value",
                            "the coalesce window must be at least a second",
                            duration.span,
                            None,
                        );
                    }
                    out.coalesce = Some(seconds);
                }
                HeaderKind::Allow { lint, .. } => out.allow.push(lint.name.clone()),
            }
        }
        out
    }

    /// The rule's object: `on`, `when <object>`, `for <object>`, or inferred.
    fn rule_object(&mut self, rule: &ast::Rule) -> Option<Option<&'a Object>> {
        let schema = self.cx.schema;
        let explicit: Vec<&ast::Ident> = rule
            .headers
            .iter()
            .filter_map(|h| match &h.kind {
                HeaderKind::On(o) => Some(o),
                _ => None,
            })
            .chain(match &rule.trigger {
                TriggerClause::When(when) => when.object.as_ref(),
                TriggerClause::Every(every) => every.for_clause.as_ref().map(|f| &f.object),
            })
            .collect();
        if let Some(first) = explicit.first() {
            if let Some(other) = explicit.iter().find(|o| o.name != first.name) {
                self.error(
                    "type-mismatch",
                    format!(
                        "this rule names two objects, `{}` and `{}`",
                        first.name, other.name
                    ),
                    other.span,
                    Some("keep one".into()),
                );
                return None;
            }
            if infer::needs_record(&rule.trigger) == Some(false) {
                self.error(
                    "invalid-value",
                    format!("this trigger has no record, so `{}` does not apply", first.name),
                    first.span,
                    Some("webhook rules read `payload.`, meta-rules read `failure.`, and digests without `for` run once per tick".into()),
                );
                return None;
            }
            return match schema.object(&first.name) {
                Some(o) => Some(Some(o)),
                None => {
                    let help = suggest_or_list(
                        &first.name,
                        schema.objects.iter().map(|o| o.name.as_str()),
                        "objects",
                    );
                    self.error(
                        "unknown-object",
                        format!("unknown object `{}`", first.name),
                        first.span,
                        Some(help),
                    );
                    None
                }
            };
        }
        let trigger_span = match &rule.trigger {
            TriggerClause::When(when) => when.trigger.span,
            TriggerClause::Every(every) => every.schedule.span,
        };
        match infer::infer(schema, rule) {
            Inference::Object(o) => Some(Some(o)),
            Inference::None => Some(None),
            Inference::Ambiguous(objects, names) => {
                let message = format!(
                    "cannot tell which object this rule is on: {} {} on {}",
                    quoted_list(&names),
                    if names.len() == 1 { "is" } else { "are" },
                    quoted_list(&objects)
                );
                self.error(
                    "ambiguous-object",
                    message,
                    trigger_span,
                    Some(infer::ambiguous_help(&objects)),
                );
                None
            }
            Inference::Conflict(names) => {
                self.error(
                    "ambiguous-object",
                    format!("no object has all of {}", quoted_list(&names)),
                    trigger_span,
                    Some("add `on <object>` to say which object the rule is on".into()),
                );
                None
            }
            Inference::NoEvidence => {
                self.error(
                    "ambiguous-object",
                    "cannot tell which object this rule is on",
                    trigger_span,
                    Some(format!(
                        "write `when <object> …` or add `on <object>`; objects are {}",
                        quoted_list(
                            &schema
                                .objects
                                .iter()
                                .map(|o| o.name.as_str())
                                .collect::<Vec<_>>()
                        )
                    )),
                );
                None
            }
        }
    }

    fn when_clause(&mut self, when: &ast::WhenClause) -> Option<(ir::Trigger, Option<ir::Expr>)> {
        let kind = &when.trigger.kind;
        self.scope.has_old = self.scope.object.is_some();
        self.scope.activity = scope::activity(kind).or_else(|| {
            let list = self.cx.schema.list(&kind.list()?.plain()?)?;
            Some(("entry", scope::entry(list)))
        });
        let trigger = match kind {
            TriggerKind::Created => ir::Trigger::Created,
            TriggerKind::Updated => ir::Trigger::Updated,
            TriggerKind::Deleted => ir::Trigger::Deleted,
            TriggerKind::Merged => ir::Trigger::Merged,
            TriggerKind::NoteCreated => ir::Trigger::NoteCreated,
            TriggerKind::CommentAdded => ir::Trigger::CommentAdded,
            TriggerKind::TaskCreated => ir::Trigger::TaskCreated,
            TriggerKind::TaskCompleted => ir::Trigger::TaskCompleted,
            TriggerKind::CallRecorded => ir::Trigger::CallRecorded,
            TriggerKind::Changed {
                attr,
                from,
                to,
                list: None,
            } => self.changed(attr, from.as_ref(), to.as_ref())?,
            TriggerKind::Changed {
                attr,
                from,
                to,
                list: Some(name),
            } => {
                let list = self.list(name, self.scope.object, false)?;
                self.entry_changed(list, attr, from.as_ref(), to.as_ref())?
            }
            TriggerKind::EntryChanged(name) => ir::Trigger::EntryChanged {
                list: self.list(name, self.scope.object, false)?,
                attr: None,
                from: None,
                to: None,
            },
            TriggerKind::Matches(filter) => ir::Trigger::Matches {
                filter: self.condition(filter),
            },
            TriggerKind::AddedToList(name) => ir::Trigger::AddedToList {
                list: self.list(name, self.scope.object, false)?,
            },
            TriggerKind::RemovedFromList(name) => ir::Trigger::RemovedFromList {
                list: self.list(name, self.scope.object, false)?,
            },
            TriggerKind::Webhook(name) => {
                let schema = self.cx.schema;
                let Some(webhook) = schema.webhook(&name.name) else {
                    let help =
                        did_you_mean(&name.name, schema.webhooks.iter().map(|w| w.name.as_str()))
                            .unwrap_or_else(|| {
                                format!(
                                    "declare it with `webhook {} {{ field: type, … }}`",
                                    name.name
                                )
                            });
                    self.error(
                        "unknown-webhook",
                        format!("unknown webhook `{}`", name.name),
                        name.span,
                        Some(help),
                    );
                    return None;
                };
                self.scope.payload = Some(webhook.payload.clone());
                ir::Trigger::Webhook {
                    name: name.name.clone(),
                }
            }
            TriggerKind::Command(name) => {
                let text = name.plain().unwrap_or_default();
                if text.trim().is_empty() {
                    self.error(
                        "invalid-value",
                        "a command needs a name people will see, without `{{ }}`",
                        name.span,
                        Some("e.g. `when command \"Enrich now\"`".into()),
                    );
                    return None;
                }
                ir::Trigger::Command { name: text }
            }
            TriggerKind::RuleFailed { rule, times } => {
                if !self.cx.rule_ids.contains(&rule.name.as_str()) {
                    let help =
                        suggest_or_list(&rule.name, self.cx.rule_ids.iter().copied(), "rule ids");
                    self.error(
                        "unknown-rule",
                        format!("no rule has the id `{}`", rule.name),
                        rule.span,
                        Some(help),
                    );
                }
                let times = times.as_ref().map_or(1, |t| t.value);
                if times == 0 {
                    self.error(
                        "invalid-value",
                        "a rule must fail at least once to trigger this",
                        when.trigger.span,
                        None,
                    );
                }
                self.scope.failure = true;
                ir::Trigger::RuleFailed {
                    rule: rule.name.clone(),
                    times,
                }
            }
        };
        let condition = when.condition.as_ref().map(|c| self.condition(c));
        Some((trigger, condition))
    }

    fn changed(
        &mut self,
        attr: &ast::Ident,
        from: Option<&ast::Values>,
        to: Option<&ast::Values>,
    ) -> Option<ir::Trigger> {
        let object = self.scope.object?;
        let Some(attribute) = object.attribute(&attr.name) else {
            self.unknown_attribute(object, attr);
            return None;
        };
        let ty = attribute.ty.clone();
        let from = from.map(|v| self.constants(v, &ty));
        let to = to.map(|v| self.constants(v, &ty));
        Some(ir::Trigger::Changed {
            attr: ir::AttrRef {
                object: object.name.clone(),
                attr: attr.name.clone(),
            },
            from,
            to,
        })
    }

    /// `<attr> changed … in list "…"`: the attribute is the list's, not the record's.
    fn entry_changed(
        &mut self,
        list: String,
        attr: &ast::Ident,
        from: Option<&ast::Values>,
        to: Option<&ast::Values>,
    ) -> Option<ir::Trigger> {
        let declared = self.cx.schema.list(&list)?;
        let Some(attribute) = declared.attribute(&attr.name) else {
            let help = if declared.attributes.is_empty() {
                format!(
                    "declare the entries' attributes: `list \"{list}\" of {} {{ {}: … }}`",
                    declared.object, attr.name
                )
            } else {
                suggest_or_list(
                    &attr.name,
                    declared.attributes.iter().map(|a| a.name.as_str()),
                    "its entries' attributes",
                )
            };
            self.error(
                "unknown-attribute",
                format!("entries of list `{list}` have no attribute `{}`", attr.name),
                attr.span,
                Some(help),
            );
            return None;
        };
        let ty = attribute.ty.clone();
        let from = from.map(|v| self.constants(v, &ty));
        let to = to.map(|v| self.constants(v, &ty));
        Some(ir::Trigger::EntryChanged {
            list,
            attr: Some(attr.name.clone()),
            from,
            to,
        })
    }

    /// `from`/`to` values: constants of the attribute's type.
    fn constants(&mut self, values: &ast::Values, ty: &Type) -> Vec<ir::Value> {
        let mut out = Vec::new();
        for value in &values.items {
            let checked = self.expr(value, Some(ty));
            if !ty.accepts(&checked.ty) {
                self.error(
                    "type-mismatch",
                    format!("this attribute is {ty}, but this value is {}", checked.ty),
                    value.span,
                    None,
                );
                continue;
            }
            match checked.as_const() {
                Some(v) => out.push(v.clone()),
                None => self.error(
                    "invalid-value",
                    "`from` and `to` take fixed values",
                    value.span,
                    Some("compare with other attributes in the condition after `and`".into()),
                ),
            }
        }
        out
    }

    fn every_clause(
        &mut self,
        every: &ast::EveryClause,
    ) -> Option<(ir::Trigger, Option<ir::Expr>)> {
        let timing = self.timing(&every.schedule)?;
        let zone = match &every.zone {
            // Empty: the workspace's zone (rulec.toml's `time_zone`), else UTC.
            None => String::new(),
            Some(zone) => {
                let name = zone.lossy();
                if name.parse::<chrono_tz::Tz>().is_err() {
                    let help = did_you_mean(&name, chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()))
                        .unwrap_or_else(|| "use an IANA time zone name such as `America/New_York` or `Europe/Berlin`".into());
                    self.error(
                        "invalid-value",
                        format!("unknown time zone `{name}`"),
                        zone.span,
                        Some(help),
                    );
                }
                name
            }
        };
        let condition = every
            .for_clause
            .as_ref()
            .and_then(|f| f.filter.as_ref())
            .map(|filter| self.condition(filter));
        Some((
            ir::Trigger::Schedule(ir::Schedule {
                timing,
                zone,
                for_object: self.scope.object.map(|o| o.name.clone()),
            }),
            condition,
        ))
    }

    fn timing(&mut self, schedule: &ast::Schedule) -> Option<Timing> {
        Some(match &schedule.kind {
            ScheduleKind::Daily { days, at } => {
                let weekdays: Vec<u8> = match days.name.as_str() {
                    "day" => (0..7).collect(),
                    "weekday" => (0..5).collect(),
                    other => match DAY_NAMES
                        .iter()
                        .position(|d| *d == other.trim_end_matches('s'))
                    {
                        Some(i) => vec![u8::try_from(i).unwrap_or(0)],
                        None => {
                            let mut names = vec!["day", "weekday"];
                            names.extend(DAY_NAMES);
                            let help = suggest_or_list(other, names.iter().copied(), "schedules");
                            self.error(
                                "invalid-schedule",
                                format!("`every {other}` is not a schedule"),
                                days.span,
                                Some(help),
                            );
                            return None;
                        }
                    },
                };
                let (hour, minute) = self.time_of_day(at)?;
                Timing::Daily {
                    weekdays,
                    hour,
                    minute,
                }
            }
            ScheduleKind::Interval(duration) => {
                let seconds = duration.seconds();
                if seconds < 60 {
                    self.error(
                        "invalid-schedule",
                        "schedules run at most once a minute",
                        duration.span,
                        Some("use `every 1 minute` or longer".into()),
                    );
                    return None;
                }
                Timing::Interval { seconds }
            }
            ScheduleKind::Monthly { day, at } => {
                if !(1..=31).contains(&day.value) {
                    self.error(
                        "invalid-schedule",
                        "a day of the month is 1 to 31",
                        day.span,
                        None,
                    );
                    return None;
                }
                let (hour, minute) = self.time_of_day(at)?;
                Timing::Monthly {
                    day: u8::try_from(day.value).unwrap_or(1),
                    hour,
                    minute,
                }
            }
            ScheduleKind::Cron(expression) => {
                let text = expression.lossy();
                let fields = text.split_whitespace().count();
                let parsed = if fields == 5 && known_valid_cron(&text) {
                    Ok(())
                } else {
                    text.parse::<croner::Cron>().map(|_| ())
                };
                if fields != 5 || parsed.is_err() {
                    let why = match parsed {
                        Err(e) if fields == 5 => format!(": {e}"),
                        _ => String::new(),
                    };
                    self.error(
                        "invalid-schedule",
                        format!("`{text}` is not a 5-field cron expression{why}"),
                        expression.span,
                        Some("fields are minute, hour, day of month, month, day of week: `0 9 * * 1-5`".into()),
                    );
                    return None;
                }
                Timing::Cron { expression: text }
            }
        })
    }

    fn time_of_day(&mut self, at: &ast::TimeOfDay) -> Option<(u8, u8)> {
        let (h, m) = at.text.split_once(':')?;
        let hour: u8 = h.parse().ok()?;
        let minute: u8 = m.parse().ok()?;
        if hour > 23 || minute > 59 {
            self.error(
                "invalid-schedule",
                format!("`{}` is not a time of day", at.text),
                at.span,
                Some("use 24-hour time from `00:00` to `23:59`".into()),
            );
            return None;
        }
        Some((hour, minute))
    }
}

const DAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn header_name(kind: &HeaderKind) -> &'static str {
    match kind {
        HeaderKind::Rule { .. } => "rule",
        HeaderKind::Owner(_) => "owner",
        HeaderKind::Description(_) => "description",
        HeaderKind::On(_) => "on",
        HeaderKind::Status(_) => "status",
        HeaderKind::Limit { .. } => "limit",
        HeaderKind::Coalesce(_) => "coalesce",
        HeaderKind::Allow { .. } => "allow",
    }
}
