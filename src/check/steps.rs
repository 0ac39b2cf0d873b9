//! Checking the steps after `do`.

use crate::diagnostics::did_you_mean;
use crate::ir::{self, Action, AttrRef};
use crate::schema::{Object, Type};
use crate::syntax::ast::{self, EmailContent, MapEntry, SlackTarget, StepKind};

use super::rule::Checker;
use super::scope::{Binding, ANSWER, TASK};
use super::suggest_or_list;

/// Names that always mean something in a rule, so `as` may not take them.
pub const RESERVED_ROOTS: &[&str] = &[
    "event", "old", "payload", "failure", "record", "note", "comment", "task", "call",
];

const STEP_NAMES: &[&str] = &[
    "set", "clear", "add", "remove", "slack", "email", "create", "find", "upsert", "note", "http",
    "wait", "ask", "if", "route", "stop", "skip",
];

impl<'a> Checker<'a> {
    /// Checks a block of steps; `prefix` is the block's path (`""` at the top).
    pub(super) fn steps(&mut self, steps: &[ast::Step], prefix: &str) -> Vec<ir::Step> {
        let mut out = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            let path = if prefix.is_empty() {
                i.to_string()
            } else {
                format!("{prefix}.{i}")
            };
            if let Some(action) = self.step(&step.kind, &path) {
                out.push(ir::Step {
                    location: self.location(step.span),
                    path,
                    continue_on_error: step.continue_on_error.is_some(),
                    retry: step.retry.as_ref().map_or(0, |r| r.value),
                    action,
                });
            }
        }
        out
    }

    /// Steps in a branch: their bindings are visible only inside it.
    fn block(&mut self, steps: &[ast::Step], prefix: &str) -> Vec<ir::Step> {
        let mark = self.scope.bindings.len();
        let out = self.steps(steps, prefix);
        self.scope.bindings.truncate(mark);
        out
    }

    fn step(&mut self, kind: &StepKind, path: &str) -> Option<Action> {
        Some(match kind {
            StepKind::Set {
                target,
                attr,
                value,
                if_empty,
            } => {
                let what = format!("set {}", attr.name);
                let (target, object) = self.acted_on(target.as_ref(), &what, attr.span)?;
                let (attr_ref, ty) = self.writable(object, attr)?;
                let value = self.value_for(value, &ty, &format!("`{}`", attr.name));
                // An amount written to an attribute of another currency.
                let declared = object
                    .attribute(&attr.name)
                    .and_then(|a| a.currency.clone());
                if let (Some(code), Some((from, other))) = (declared, self.currency_of(&value)) {
                    if code != other {
                        self.error(
                            "type-mismatch",
                            format!("`{}` is in {code}, but `{from}` is in {other}", attr.name),
                            attr.span,
                            Some(format!(
                                "convert it first at the rate you use, e.g. `{from} * 1.08`"
                            )),
                        );
                    }
                }
                Action::Set {
                    target,
                    attr: attr_ref,
                    value,
                    if_empty: *if_empty,
                }
            }
            StepKind::Clear { target, attr } => {
                let what = format!("clear {}", attr.name);
                let (target, object) = self.acted_on(target.as_ref(), &what, attr.span)?;
                Action::Clear {
                    target,
                    attr: self.writable(object, attr)?.0,
                }
            }
            StepKind::AddToList { target, list } => {
                let (target, object) = self.acted_on(target.as_ref(), "add to list", list.span)?;
                let named = target.is_some();
                Action::AddToList {
                    target,
                    list: self.list(list, Some(object), named)?,
                }
            }
            StepKind::RemoveFromList { target, list } => {
                let (target, object) =
                    self.acted_on(target.as_ref(), "remove from list", list.span)?;
                let named = target.is_some();
                Action::RemoveFromList {
                    target,
                    list: self.list(list, Some(object), named)?,
                }
            }
            StepKind::Slack { target, text, key } => {
                let text = text.as_ref().map(|t| self.template(t));
                let key = key.as_ref().map(|k| self.expr(k, None));
                match target {
                    SlackTarget::Channel(channel) => {
                        let name = channel.plain().unwrap_or_default();
                        if !name.starts_with('#')
                            || name.len() < 2
                            || name.contains(char::is_whitespace)
                        {
                            self.error(
                                "invalid-value",
                                format!("`{}` is not a Slack channel", channel.lossy()),
                                channel.span,
                                Some("write the channel with its `#`, e.g. `slack \"#wins\"`; for a person use `slack dm <member>`".into()),
                            );
                            return None;
                        }
                        Action::SlackChannel {
                            channel: name,
                            text,
                            key,
                        }
                    }
                    SlackTarget::Dm(member) => Action::SlackDm {
                        member: self.value_for(member, &Type::Member, "`slack dm`"),
                        text,
                        key,
                    },
                }
            }
            StepKind::Email { to, content, key } => {
                let to = self.value_for(to, &Type::List(Box::new(Type::Email)), "`email`");
                let key = key.as_ref().map(|k| self.expr(k, None));
                match content {
                    EmailContent::Inline { subject, body } => Action::Email {
                        to,
                        subject: Some(self.template(subject)),
                        body: Some(self.template(body)),
                        template: None,
                        key,
                    },
                    EmailContent::Template(id) => Action::Email {
                        to,
                        subject: None,
                        body: None,
                        template: Some(self.plain(id, "a template id")?),
                        key,
                    },
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
            } => {
                // A task needs no record: one from a webhook rule stands alone.
                let target = match linked {
                    Some(linked) => self.target(linked, "create task")?,
                    None => None,
                };
                let title = self.template(title);
                let assignee = assignee
                    .as_ref()
                    .map(|a| self.value_for(a, &Type::Member, "`for`"));
                let due = due
                    .as_ref()
                    .map(|d| self.value_for(d, &Type::Timestamp, "`due`"));
                let body = body.as_ref().map(|b| self.template(b));
                let key = key.as_ref().map(|k| self.expr(k, None));
                self.bind(binding.as_ref(), Type::Struct(TASK.clone()));
                Action::CreateTask {
                    title,
                    assignee,
                    due,
                    body,
                    target,
                    key,
                    binding: binding.as_ref().map(|b| b.name.clone()),
                }
            }
            StepKind::Create {
                object,
                fields,
                key,
                binding,
            } => {
                let target = self.object(object)?;
                let fields = self.fields(target, fields);
                let key = key.as_ref().map(|k| self.expr(k, None));
                self.bind(binding.as_ref(), Type::Record(target.name.clone()));
                Action::Create {
                    object: target.name.clone(),
                    fields,
                    key,
                    binding: binding.as_ref().map(|b| b.name.clone()),
                }
            }
            StepKind::Find {
                all,
                object,
                filter,
                limit,
                binding,
            } => {
                let target = self.object(object)?;
                let outer = self.scope.candidate.replace(target);
                let filter = self.condition(filter);
                self.scope.candidate = outer;
                let found = Type::Record(target.name.clone());
                if let (Some(limit), false) = (limit, all) {
                    self.error(
                        "invalid-value",
                        "`limit` belongs to `find all`: `find` already returns one record",
                        limit.span,
                        Some(format!("write `find all {} where … limit {} as …` for a list, or drop the limit", object.name, limit.value)),
                    );
                }
                if limit.as_ref().is_some_and(|l| l.value == 0) {
                    self.error(
                        "invalid-value",
                        "`limit 0` finds nothing",
                        limit.as_ref().map_or(object.span, |l| l.span),
                        Some("give a limit of at least 1, or none".into()),
                    );
                }
                let ty = if *all {
                    Type::List(Box::new(found))
                } else {
                    found
                };
                self.bind(Some(binding), ty);
                Action::Find {
                    object: target.name.clone(),
                    filter,
                    binding: binding.name.clone(),
                    all: *all,
                    limit: limit.as_ref().filter(|_| *all).map(|l| l.value),
                }
            }
            StepKind::ForEach {
                binding,
                list: written,
                steps,
            } => {
                let list = self.expr(written, None);
                let item = match &list.ty {
                    Type::List(item) => (**item).clone(),
                    Type::Unknown => Type::Unknown,
                    other => {
                        let shown = crate::format::expr(written);
                        self.error(
                            "type-mismatch",
                            format!("`for each` walks a list, but `{shown}` is a {other}"),
                            written.span,
                            Some("walk the records of a `find all … as <name>`, or a list attribute such as `email_addresses`".into()),
                        );
                        Type::Unknown
                    }
                };
                let mark = self.scope.bindings.len();
                self.bind(Some(binding), item);
                let steps = self.steps(steps, &format!("{path}.each"));
                self.scope.bindings.truncate(mark);
                Action::ForEach {
                    binding: binding.name.clone(),
                    list,
                    steps,
                }
            }
            StepKind::Upsert {
                object,
                by,
                fields,
                binding,
            } => {
                let target = self.object(object)?;
                match target.attribute(&by.name) {
                    None => {
                        let help = suggest_or_list(
                            &by.name,
                            target
                                .attributes
                                .iter()
                                .filter(|a| a.unique)
                                .map(|a| a.name.as_str()),
                            "its unique attributes",
                        );
                        self.error(
                            "unknown-attribute",
                            format!("`{}` has no attribute `{}`", target.name, by.name),
                            by.span,
                            Some(help),
                        );
                    }
                    Some(attr) if !attr.unique => {
                        self.error(
                            "invalid-value",
                            format!("`{}.{}` is not unique, so it cannot identify a record", target.name, by.name),
                            by.span,
                            Some(format!("upsert by a unique attribute, or mark it `unique` in `object {} {{ … }}`", target.name)),
                        );
                    }
                    Some(_) if !fields.iter().any(|f| f.key.name == by.name) => {
                        self.error(
                            "missing-argument",
                            format!("the upsert matches on `{}` but gives it no value", by.name),
                            by.span,
                            Some(format!("add `{}: …` to the record", by.name)),
                        );
                    }
                    Some(_) => {}
                }
                let fields = self.fields(target, fields);
                self.bind(binding.as_ref(), Type::Record(target.name.clone()));
                Action::Upsert {
                    object: target.name.clone(),
                    by: by.name.clone(),
                    fields,
                    binding: binding.as_ref().map(|b| b.name.clone()),
                }
            }
            StepKind::Note {
                target,
                title,
                body,
            } => {
                let (target, _) = self.acted_on(target.as_ref(), "note", title.span)?;
                Action::Note {
                    target,
                    title: self.template(title),
                    body: body.as_ref().map(|b| self.template(b)),
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
                let url_text = url.lossy();
                if !(url_text.starts_with("https://") || url_text.starts_with("http://")) {
                    self.error(
                        "invalid-value",
                        format!("`{url_text}` is not an http(s) URL"),
                        url.span,
                        Some("start the URL with `https://`".into()),
                    );
                }
                self.secrets_allowed = true;
                let url = self.template(url);
                let headers = headers
                    .iter()
                    .map(|h| {
                        (
                            h.key.name.clone(),
                            self.value_for(&h.value, &Type::Text, "a header"),
                        )
                    })
                    .collect();
                let body = body.as_ref().map(|b| self.expr(b, None));
                self.secrets_allowed = false;
                let key = key.as_ref().map(|k| self.expr(k, None));
                self.bind(binding.as_ref(), Type::Json);
                Action::Http {
                    method: method.name.clone(),
                    url,
                    headers,
                    body,
                    key,
                    binding: binding.as_ref().map(|b| b.name.clone()),
                }
            }
            StepKind::WaitFor(duration) => Action::WaitFor {
                duration: self.value_for(duration, &Type::Duration, "`wait`"),
            },
            StepKind::WaitUntil(time) => Action::WaitUntil {
                time: self.value_for(time, &Type::Timestamp, "`wait until`"),
            },
            StepKind::Ask {
                member,
                question,
                timeout,
                replace,
                binding,
            } => {
                let member = self.value_for(member, &Type::Member, "`ask`");
                let question = self.template(question);
                let timeout = timeout
                    .as_ref()
                    .map(|t| self.value_for(t, &Type::Duration, "`timeout`"));
                self.bind(Some(binding), Type::Struct(ANSWER.clone()));
                Action::Ask {
                    member,
                    question,
                    timeout,
                    replace: *replace,
                    binding: binding.name.clone(),
                }
            }
            StepKind::If {
                branches,
                otherwise,
            } => {
                let branches = branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| ir::Branch {
                        condition: self.condition(&b.condition),
                        steps: self.block(&b.steps, &format!("{path}.if{i}")),
                    })
                    .collect();
                let otherwise = otherwise
                    .as_ref()
                    .map(|s| self.block(s, &format!("{path}.else")))
                    .unwrap_or_default();
                Action::If {
                    branches,
                    otherwise,
                }
            }
            StepKind::Route { arms, otherwise } => {
                let arms = arms
                    .iter()
                    .enumerate()
                    .map(|(i, b)| ir::Branch {
                        condition: self.condition(&b.condition),
                        steps: self.block(&b.steps, &format!("{path}.arm{i}")),
                    })
                    .collect();
                let otherwise = otherwise
                    .as_ref()
                    .map(|s| self.block(s, &format!("{path}.else")))
                    .unwrap_or_default();
                Action::Route { arms, otherwise }
            }
            StepKind::Stop => Action::Stop,
            StepKind::Skip(reason) => Action::Skip {
                reason: reason.as_ref().and_then(|r| self.plain(r, "a skip reason")),
            },
            StepKind::Custom {
                name,
                args,
                key,
                binding,
            } => {
                let schema = self.cx.schema;
                let Some(action) = schema.action(&name.name) else {
                    let mut names: Vec<&str> =
                        schema.actions.iter().map(|a| a.name.as_str()).collect();
                    names.extend(STEP_NAMES);
                    let help = did_you_mean(&name.name, names.iter().copied()).unwrap_or_else(|| {
                        format!("declare it with `action {}(param: type, …)` and register a handler in the host", name.name)
                    });
                    self.error(
                        "unknown-action",
                        format!("unknown action `{}`", name.name),
                        name.span,
                        Some(help),
                    );
                    return None;
                };
                let mut checked: Vec<(String, ir::Expr)> = Vec::new();
                for arg in args {
                    let Some((_, ty)) = action.params.iter().find(|(p, _)| *p == arg.name.name)
                    else {
                        let help = suggest_or_list(
                            &arg.name.name,
                            action.params.iter().map(|(p, _)| p.as_str()),
                            "its parameters",
                        );
                        self.error(
                            "invalid-argument",
                            format!("`{}` has no parameter `{}`", action.name, arg.name.name),
                            arg.name.span,
                            Some(help),
                        );
                        continue;
                    };
                    if checked.iter().any(|(n, _)| *n == arg.name.name) {
                        self.error(
                            "invalid-argument",
                            format!("`{}` is given twice", arg.name.name),
                            arg.name.span,
                            None,
                        );
                        continue;
                    }
                    self.secrets_allowed = true;
                    let value = self.expr(&arg.value, Some(ty));
                    self.secrets_allowed = false;
                    if !ty.accepts(&value.ty) {
                        self.error(
                            "invalid-argument",
                            format!(
                                "`{}` of `{}` expects {ty}, but this is {}",
                                arg.name.name, action.name, value.ty
                            ),
                            arg.value.span,
                            None,
                        );
                    }
                    checked.push((arg.name.name.clone(), value));
                }
                let missing: Vec<&str> = action
                    .params
                    .iter()
                    .map(|(p, _)| p.as_str())
                    .filter(|p| !args.iter().any(|a| a.name.name == *p))
                    .collect();
                if !missing.is_empty() {
                    self.error(
                        "missing-argument",
                        format!(
                            "`{}` needs {}",
                            action.name,
                            crate::schema::quoted_list(&missing)
                        ),
                        name.span,
                        Some(format!(
                            "add `{}: …`",
                            missing.first().copied().unwrap_or_default()
                        )),
                    );
                }
                // Declared order, so the handler sees arguments the same way every time.
                checked.sort_by_key(|(n, _)| action.params.iter().position(|(p, _)| p == n));
                let key = key.as_ref().map(|k| self.expr(k, None));
                self.bind(binding.as_ref(), Type::Json);
                Action::Custom {
                    name: action.name.clone(),
                    args: checked,
                    key,
                    binding: binding.as_ref().map(|b| b.name.clone()),
                }
            }
        })
    }

    /// The text of a string that must not contain `{{ }}` holes.
    fn plain(&mut self, s: &ast::StringLit, what: &str) -> Option<String> {
        let text = s.plain();
        if text.is_none() {
            self.error(
                "invalid-value",
                format!("{what} is fixed text and cannot contain `{{{{ }}}}`"),
                s.span,
                Some("run records and templates look it up by this exact text".into()),
            );
        }
        text
    }

    /// An attribute of the rule's record that a step may write.
    fn writable(&mut self, object: &Object, attr: &ast::Ident) -> Option<(AttrRef, Type)> {
        let Some(attribute) = object.attribute(&attr.name) else {
            self.unknown_attribute(object, attr);
            return None;
        };
        if attribute.readonly {
            self.error(
                "read-only-attribute",
                format!("`{}.{}` is read-only", object.name, attr.name),
                attr.span,
                Some("the CRM sets it; rules can read it but not write it".into()),
            );
            return None;
        }
        Some((
            AttrRef {
                object: object.name.clone(),
                attr: attr.name.clone(),
            },
            attribute.ty.clone(),
        ))
    }

    /// The record a step acts on and its object: the one it names (`company` in
    /// `set company.csm = …`), else the rule's own — an error when there is none.
    fn acted_on(
        &mut self,
        target: Option<&ast::Expr>,
        what: &str,
        span: crate::source::Span,
    ) -> Option<(Option<ir::Target>, &'a Object)> {
        if let Some(target) = target {
            let found = self.target(target, what)?;
            if let Some(found) = found {
                let object = self.cx.schema.object(&found.object)?;
                return Some((Some(found), object));
            }
        }
        let object = self.record_needed(&format!("`{what}`"), span)?;
        Some((None, object))
    }

    /// The record a step names; `None` when it names the rule's own (`record`).
    fn target(&mut self, target: &ast::Expr, what: &str) -> Option<Option<ir::Target>> {
        let record = self.expr(target, None);
        if let (ir::ExprKind::Read { root, path }, Some(own)) = (&record.kind, self.scope.object) {
            if *root == ir::Root::Record && path.is_empty() {
                let _ = own;
                return Some(None);
            }
        }
        match &record.ty {
            Type::Record(object) => Some(Some(ir::Target {
                object: object.clone(),
                record,
            })),
            // Reported where it was read.
            Type::Unknown => None,
            other => {
                let shown = crate::format::expr(target);
                self.error(
                    "type-mismatch",
                    format!("`{what}` acts on a record, but `{shown}` is a {other}"),
                    target.span,
                    Some("name a record: a reference such as `company`, a binding from `find`, `create` or `upsert`, or `record` for the rule's own".into()),
                );
                None
            }
        }
    }

    /// The rule's object, or an error saying that `what` needs one.
    fn record_needed(&mut self, what: &str, span: crate::source::Span) -> Option<&'a Object> {
        if let Some(object) = self.scope.object {
            return Some(object);
        }
        self.error(
            "missing-object",
            format!("{what} needs a record, but this rule has none"),
            span,
            Some("webhook rules and digests have no record: find, create or upsert one `as` a name and act on it (`note on person …`), or add `for <object>` to the schedule".into()),
        );
        None
    }

    /// The `{ attr: value }` of `create`/`upsert`, typed against `target`.
    fn fields(&mut self, target: &Object, fields: &[MapEntry]) -> Vec<(String, ir::Expr)> {
        let mut out: Vec<(String, ir::Expr)> = Vec::new();
        for field in fields {
            let Some(attribute) = target.attribute(&field.key.name) else {
                self.unknown_attribute(target, &field.key);
                continue;
            };
            if attribute.readonly {
                self.error(
                    "read-only-attribute",
                    format!("`{}.{}` is read-only", target.name, field.key.name),
                    field.key.span,
                    None,
                );
                continue;
            }
            if out.iter().any(|(n, _)| *n == field.key.name) {
                self.error(
                    "invalid-argument",
                    format!("`{}` is given twice", field.key.name),
                    field.key.span,
                    None,
                );
                continue;
            }
            let value = self.value_for(
                &field.value,
                &attribute.ty,
                &format!("`{}`", field.key.name),
            );
            out.push((field.key.name.clone(), value));
        }
        out
    }

    fn bind(&mut self, binding: Option<&ast::Ident>, ty: Type) {
        let Some(binding) = binding else { return };
        if let Some(previous) = self.scope.binding(&binding.name) {
            let span = previous.span;
            let d = crate::diagnostics::Diagnostic::error(
                self.cx.file,
                "duplicate-binding",
                format!("`{}` is already bound", binding.name),
                binding.span,
            )
            .with_related(span, "first bound here")
            .with_help("give each `as` its own name");
            self.diagnostics.push(d);
            return;
        }
        let shadows = self
            .scope
            .object
            .is_some_and(|o| o.attribute(&binding.name).is_some())
            || RESERVED_ROOTS.contains(&binding.name.as_str());
        if shadows {
            self.error(
                "duplicate-binding",
                format!("`{}` already means something in this rule", binding.name),
                binding.span,
                Some(format!(
                    "choose a name that is not an attribute of the record or one of {}",
                    crate::schema::quoted_list(RESERVED_ROOTS)
                )),
            );
            return;
        }
        self.scope.bindings.push(Binding {
            name: binding.name.clone(),
            ty,
            span: binding.span,
        });
    }
}
