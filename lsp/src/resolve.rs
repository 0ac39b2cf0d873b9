//! What the names in a document refer to: the one walk over the AST that hover, go to
//! definition and semantic tokens share.
//!
//! Every name written in an item becomes a [`Name`]: its span and what it means
//! (an object, an attribute, an option, a list, a binding, …). Resolution follows the
//! language's scope rules closely enough for an editor (`as` bindings, `find` scopes,
//! paths through `record(…)` attributes); the checker stays the judge of correctness.

use rulec::schema::{Object, Schema, Type};
use rulec::source::Span;
use rulec::syntax::ast::{
    self, Expr, ExprKind, Item, Part, StepKind, StringLit, StringPart, TriggerClause, TriggerKind,
    TypeExpr, TypeExprKind,
};

use crate::analysis::DocAnalysis;

/// What a name means.
#[derive(Clone, Debug, PartialEq)]
pub enum Meaning {
    /// An object (`deals`).
    Object(String),
    /// An attribute of an object.
    Attribute {
        /// The object.
        object: String,
        /// The attribute.
        attr: String,
    },
    /// A field of a built-in or payload shape (`event.source`, `payload.email`).
    Field {
        /// The shape (`event`, `payload of typeform`).
        shape: String,
        /// The field.
        field: String,
        /// Its type, when known.
        ty: Option<Type>,
    },
    /// A built-in name (`event`, `old`, `record`, `payload`, `failure`, `note`, …).
    Builtin(String),
    /// An option of a select or status attribute.
    Option {
        /// `deals.stage`.
        owner: String,
        /// The option.
        name: String,
    },
    /// A list (by its name).
    List(String),
    /// A team.
    Team(String),
    /// A webhook.
    Webhook(String),
    /// A custom action.
    Action(String),
    /// A rule, by id (`rule … failed`).
    Rule(String),
    /// An `as` binding, with where it is bound and what it holds.
    Binding {
        /// The name.
        name: String,
        /// The `as <name>` span.
        declared: Span,
        /// What it holds, when it is a record.
        object: Option<String>,
    },
    /// A function (`lower`, `round_robin`).
    Function(String),
    /// A lint name (`allow <lint>`).
    Lint(String),
    /// A parameter of a custom action.
    Param {
        /// The action.
        action: String,
        /// The parameter.
        name: String,
    },
}

/// A name written in the document.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    /// Where.
    pub span: Span,
    /// What it means.
    pub meaning: Meaning,
    /// True where the name is declared (not used).
    pub declaration: bool,
}

/// The object a rule item is on: the checker's answer when the rule checked, else the
/// `on`/`when <object>`/`for <object>` it names, else the object that has the most of
/// the attribute names it uses.
pub fn rule_object<'s>(
    analysis: &'s DocAnalysis,
    item: usize,
    rule: &ast::Rule,
) -> Option<&'s Object> {
    let schema = analysis.schema();
    if let Some(name) = analysis
        .checked_rule(item)
        .and_then(|r| r.object.as_deref())
    {
        return schema.object(name);
    }
    if let Some(ident) = rule.object() {
        return schema.object(&ident.name);
    }
    let text = analysis
        .text()
        .get(rule.span.lo()..rule.span.hi())
        .unwrap_or("");
    guess_object(schema, text)
}

/// The object a rule's text is most likely on (for items that do not parse).
pub fn guess_object<'s>(schema: &'s Schema, text: &str) -> Option<&'s Object> {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    for pair in words.windows(2) {
        if let [lead, name] = pair {
            if matches!(*lead, "on" | "when" | "for") {
                if let Some(object) = schema.object(name) {
                    return Some(object);
                }
            }
        }
    }
    let score = |o: &Object| {
        words
            .iter()
            .filter(|w| o.attribute(w).is_some() && o.attributes.len() > 1)
            .count()
    };
    let best = schema.objects.iter().map(score).max().unwrap_or(0);
    if best == 0 {
        return None;
    }
    let mut winners = schema.objects.iter().filter(|o| score(o) == best);
    let first = winners.next();
    match winners.next() {
        None => first,
        Some(_) => None,
    }
}

struct Walker<'a> {
    schema: &'a Schema,
    object: Option<&'a Object>,
    payload: Option<String>,
    activity: Option<&'static str>,
    /// `entry.` in a rule a list entry triggers: the entry's shape.
    entry: Option<std::sync::Arc<rulec::schema::StructType>>,
    bindings: Vec<(String, Span, Option<String>)>,
    find: Option<&'a Object>,
    out: Vec<Name>,
}

impl<'a> Walker<'a> {
    fn push(&mut self, span: Span, meaning: Meaning) {
        self.out.push(Name {
            span,
            meaning,
            declaration: false,
        });
    }

    fn declare(&mut self, span: Span, meaning: Meaning) {
        self.out.push(Name {
            span,
            meaning,
            declaration: true,
        });
    }

    fn object_name(&mut self, ident: &ast::Ident) {
        if self.schema.object(&ident.name).is_some() {
            self.push(ident.span, Meaning::Object(ident.name.clone()));
        }
    }

    fn attr_of(&mut self, object: Option<&Object>, ident: &ast::Ident) {
        if let Some(object) = object {
            if object.attribute(&ident.name).is_some() {
                self.push(
                    ident.span,
                    Meaning::Attribute {
                        object: object.name.clone(),
                        attr: ident.name.clone(),
                    },
                );
            }
        }
    }

    fn list_name(&mut self, s: &StringLit) {
        if let Some(name) = s.plain() {
            if self.schema.list(&name).is_some() {
                self.push(s.span, Meaning::List(name));
            }
        }
    }

    fn string(&mut self, s: &StringLit) {
        for part in &s.parts {
            if let StringPart::Hole(e) = part {
                self.expr(e);
            }
        }
    }

    /// Resolves an option name against every option set of the rule's object.
    fn option(&mut self, ident: &ast::Ident) -> bool {
        let Some(object) = self.find.or(self.object) else {
            return false;
        };
        for attr in &object.attributes {
            let options = match &attr.ty {
                Type::List(inner) => inner.options(),
                ty => ty.options(),
            };
            if let Some(set) = options {
                if set.index_of(&ident.name).is_some() {
                    self.push(
                        ident.span,
                        Meaning::Option {
                            owner: set.owner.clone(),
                            name: ident.name.clone(),
                        },
                    );
                    return true;
                }
            }
        }
        false
    }

    fn path(&mut self, idents: &[ast::Ident]) {
        let Some((head, rest)) = idents.split_first() else {
            return;
        };
        let schema = self.schema;
        // The type the next segment is looked up in.
        let mut current: Option<Type> = None;
        let mut shape_name = String::new();
        if let Some(object) = self.find.filter(|o| o.attribute(&head.name).is_some()) {
            self.attr_of(Some(object), head);
            current = object.attribute(&head.name).map(|a| a.ty.clone());
        } else if let Some((_, declared, object)) = self
            .bindings
            .iter()
            .rev()
            .find(|(n, _, _)| *n == head.name)
            .cloned()
        {
            self.push(
                head.span,
                Meaning::Binding {
                    name: head.name.clone(),
                    declared,
                    object: object.clone(),
                },
            );
            current = object.map(Type::Record);
        } else if let Some(attr) = self.object.and_then(|o| o.attribute(&head.name)) {
            current = Some(attr.ty.clone());
            let object = self.object;
            self.attr_of(object, head);
        } else if matches!(head.name.as_str(), "old" | "record") && self.object.is_some() {
            self.push(head.span, Meaning::Builtin(head.name.clone()));
            current = self.object.map(|o| Type::Record(o.name.clone()));
        } else if head.name == "event"
            || head.name == "failure"
            || Some(head.name.as_str()) == self.activity
        {
            self.push(head.span, Meaning::Builtin(head.name.clone()));
            shape_name = head.name.clone();
        } else if head.name == "entry" && self.entry.is_some() {
            self.push(head.span, Meaning::Builtin(head.name.clone()));
            current = self.entry.clone().map(Type::Struct);
        } else if head.name == "payload" && self.payload.is_some() {
            self.push(head.span, Meaning::Builtin(head.name.clone()));
            if let Some(webhook) = self.payload.as_deref().and_then(|w| schema.webhook(w)) {
                current = Some(Type::Struct(webhook.payload.clone()));
            }
        } else if rest.is_empty() && self.schema.team(&head.name).is_some() {
            self.push(head.span, Meaning::Team(head.name.clone()));
        } else if rest.is_empty() && self.option(head) {
            // A bare option name (`stage = Open`): recorded by `option`.
        } else if let Some(object) = self.schema.object(&head.name) {
            // `<object>.<attr>` inside `find <object> where …`.
            current = Some(Type::Record(object.name.clone()));
            self.push(head.span, Meaning::Object(object.name.clone()));
        }
        for ident in rest {
            match current.take() {
                Some(Type::Record(name)) => {
                    let object = schema.object(&name);
                    let attr = object.and_then(|o| o.attribute(&ident.name));
                    current = attr.map(|a| a.ty.clone());
                    self.attr_of(object, ident);
                }
                Some(Type::Struct(shape)) => {
                    let ty = shape.field(&ident.name).cloned();
                    if ty.is_some() {
                        self.push(
                            ident.span,
                            Meaning::Field {
                                shape: shape.name.clone(),
                                field: ident.name.clone(),
                                ty: ty.clone(),
                            },
                        );
                    }
                    current = ty;
                }
                _ if !shape_name.is_empty() => {
                    self.push(
                        ident.span,
                        Meaning::Field {
                            shape: std::mem::take(&mut shape_name),
                            field: ident.name.clone(),
                            ty: None,
                        },
                    );
                }
                _ => {}
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::String(s) => self.string(s),
            ExprKind::List(items) => items.iter().for_each(|e| self.expr(e)),
            ExprKind::Map(entries) => entries.iter().for_each(|m| self.expr(&m.value)),
            ExprKind::Path(idents) => self.path(idents),
            ExprKind::Call { name, args } => {
                self.push(name.span, Meaning::Function(name.name.clone()));
                for arg in args {
                    self.expr(arg);
                }
            }
            ExprKind::Unary { operand, .. } | ExprKind::Test { operand, .. } => self.expr(operand),
            ExprKind::InList { operand, list, .. } => {
                self.expr(operand);
                self.list_name(list);
            }
            ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Binary { lhs, rhs, .. } => {
                // `company.tags contains any [vip]`, `"Open" = stage`: the values are
                // options of the attribute on the other side.
                let typed = |e: &Expr| match &e.kind {
                    ExprKind::Path(idents) => self.path_type(idents),
                    _ => None,
                };
                match (typed(lhs), typed(rhs)) {
                    (Some(ty), _)
                        if ty.options().is_some()
                            || matches!(&ty, Type::List(i) if i.options().is_some()) =>
                    {
                        self.expr(lhs);
                        self.option_values(&ty, std::slice::from_ref(rhs.as_ref()));
                    }
                    (_, Some(ty)) if ty.options().is_some() => {
                        self.option_values(&ty, std::slice::from_ref(lhs.as_ref()));
                        self.expr(rhs);
                    }
                    _ => {
                        self.expr(lhs);
                        self.expr(rhs);
                    }
                }
            }
            _ => {}
        }
    }

    /// The type a path reads (`stage`, `company.tags`, `deal.stage` of a binding).
    fn path_type(&self, idents: &[ast::Ident]) -> Option<Type> {
        let (first, rest) = idents.split_first()?;
        let mut ty = match first.name.as_str() {
            "record" | "old" => Type::Record(self.object?.name.clone()),
            name => match self.bindings.iter().rev().find(|(n, _, _)| n == name) {
                Some((_, _, object)) => Type::Record(object.clone()?),
                None => self.find.or(self.object)?.attribute(name)?.ty.clone(),
            },
        };
        for segment in rest {
            ty = match ty {
                Type::Record(object) => self
                    .schema
                    .object(&object)?
                    .attribute(&segment.name)?
                    .ty
                    .clone(),
                _ => return None,
            };
        }
        Some(ty)
    }

    fn binding_object(&self, kind: &StepKind) -> Option<String> {
        match kind {
            StepKind::Create { object, .. }
            | StepKind::Find { object, .. }
            | StepKind::Upsert { object, .. } => Some(object.name.clone()),
            // `for each deal in open_deals`: the records of the `find all` walked.
            StepKind::ForEach { list, .. } => match &list.kind {
                ExprKind::Path(names) if names.len() == 1 => self
                    .bindings
                    .iter()
                    .rev()
                    .find(|(n, _, _)| *n == names[0].name)
                    .and_then(|(_, _, object)| object.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    fn steps(&mut self, steps: &[ast::Step]) {
        for step in steps {
            self.step(step);
        }
    }

    fn fields(&mut self, object: &ast::Ident, fields: &[ast::MapEntry]) {
        self.object_name(object);
        let target = self.schema.object(&object.name);
        self.values_of(target, fields);
    }

    /// Fields of a record of `object` (`{ stage: Open }`): the attributes, and the
    /// options their values name.
    fn values_of(&mut self, object: Option<&Object>, fields: &[ast::MapEntry]) {
        for field in fields {
            self.attr_of(object, &field.key);
            let ty = object
                .and_then(|o| o.attribute(&field.key.name))
                .map(|a| a.ty.clone());
            match ty {
                Some(ty) => self.option_values(&ty, std::slice::from_ref(&field.value)),
                None => self.expr(&field.value),
            }
        }
    }

    /// Values written for an attribute of type `ty`: an option of it (bare or quoted,
    /// alone or in a list) is that option; anything else an expression.
    fn option_values(&mut self, ty: &Type, values: &[ast::Expr]) {
        let set = match ty {
            Type::List(inner) => inner.options(),
            other => other.options(),
        };
        for value in values {
            let items: Vec<&ast::Expr> = match &value.kind {
                ExprKind::List(items) => items.iter().collect(),
                _ => vec![value],
            };
            for item in items {
                let named = match &item.kind {
                    ExprKind::Path(names) if names.len() == 1 => {
                        Some((names[0].name.clone(), names[0].span))
                    }
                    ExprKind::String(s) => s.plain().map(|p| (p, s.span)),
                    _ => None,
                };
                match (set, named) {
                    (Some(set), Some((name, span))) if set.index_of(&name).is_some() => {
                        self.push(
                            span,
                            Meaning::Option {
                                owner: set.owner.clone(),
                                name,
                            },
                        );
                    }
                    _ => self.expr(item),
                }
            }
        }
    }

    /// A test's `event` line: its trigger's names and its fields, on `object`.
    fn test_event(
        &mut self,
        object: Option<&Object>,
        trigger: &ast::Trigger,
        fields: &[ast::MapEntry],
    ) {
        match &trigger.kind {
            TriggerKind::Changed {
                attr,
                from,
                to,
                list: None,
            } => {
                self.attr_of(object, attr);
                if let Some(ty) = object
                    .and_then(|o| o.attribute(&attr.name))
                    .map(|a| a.ty.clone())
                {
                    for values in [from, to].into_iter().flatten() {
                        self.option_values(&ty, &values.items);
                    }
                }
            }
            TriggerKind::Changed { list: Some(l), .. }
            | TriggerKind::AddedToList(l)
            | TriggerKind::RemovedFromList(l)
            | TriggerKind::EntryChanged(l) => {
                self.list_name(l);
                return;
            }
            TriggerKind::Webhook(name) if self.schema.webhook(&name.name).is_some() => {
                self.push(name.span, Meaning::Webhook(name.name.clone()));
                return;
            }
            _ => {}
        }
        if scope_activity(&trigger.kind) {
            return;
        }
        self.values_of(object, fields);
    }

    fn step(&mut self, step: &ast::Step) {
        match &step.kind {
            StepKind::Set {
                target: None, attr, ..
            }
            | StepKind::Clear { target: None, attr } => {
                let object = self.object;
                self.attr_of(object, attr);
            }
            // `company.csm`: the attribute is the named record's, resolved as a path.
            StepKind::Set {
                target: Some(target),
                attr,
                ..
            }
            | StepKind::Clear {
                target: Some(target),
                attr,
            } => {
                if let ExprKind::Path(names) = &target.kind {
                    let mut place = names.clone();
                    place.push(attr.clone());
                    self.path(&place);
                }
            }
            StepKind::AddToList { list, .. } | StepKind::RemoveFromList { list, .. } => {
                self.list_name(list)
            }
            StepKind::Create { object, fields, .. } => self.fields(object, fields),
            StepKind::Upsert {
                object, by, fields, ..
            } => {
                self.fields(object, fields);
                let target = self.schema.object(&object.name);
                self.attr_of(target, by);
            }
            StepKind::Find { object, .. } => self.object_name(object),
            StepKind::Custom { name, args, .. } if self.schema.action(&name.name).is_some() => {
                self.push(name.span, Meaning::Action(name.name.clone()));
                for arg in args {
                    self.push(
                        arg.name.span,
                        Meaning::Param {
                            action: name.name.clone(),
                            name: arg.name.name.clone(),
                        },
                    );
                }
            }
            _ => {}
        }
        let find = match &step.kind {
            StepKind::Find { object, .. } => self.schema.object(&object.name),
            _ => None,
        };
        let inner = find.or(self.find);
        let outer = std::mem::replace(&mut self.find, inner);
        // The record a `set`/`clear` names was resolved with its attribute above.
        let written = match &step.kind {
            StepKind::Set { target, .. } | StepKind::Clear { target, .. } => target.as_ref(),
            _ => None,
        };
        for part in step.kind.parts() {
            match part {
                Part::Expr(e) if written.is_some_and(|w| std::ptr::eq(w, e)) => {}
                Part::Expr(e) => self.expr(e),
                Part::Str(s) => self.string(s),
            }
        }
        self.find = outer;
        if let Some(binding) = step.kind.binding() {
            let object = self.binding_object(&step.kind);
            self.declare(
                binding.span,
                Meaning::Binding {
                    name: binding.name.clone(),
                    declared: binding.span,
                    object: object.clone(),
                },
            );
            self.bindings
                .push((binding.name.clone(), binding.span, object));
        }
        match &step.kind {
            StepKind::If {
                branches,
                otherwise,
            }
            | StepKind::Route {
                arms: branches,
                otherwise,
            } => {
                for branch in branches {
                    self.steps(&branch.steps);
                }
                if let Some(steps) = otherwise {
                    self.steps(steps);
                }
            }
            StepKind::ForEach { steps, .. } => self.steps(steps),
            _ => {}
        }
    }

    fn rule(&mut self, rule: &ast::Rule) {
        for header in &rule.headers {
            match &header.kind {
                ast::HeaderKind::On(object) => self.object_name(object),
                ast::HeaderKind::Rule { id, .. } => {
                    self.declare(id.span, Meaning::Rule(id.name.clone()))
                }
                ast::HeaderKind::Allow { lint, .. } => {
                    self.push(lint.span, Meaning::Lint(lint.name.clone()))
                }
                _ => {}
            }
        }
        match &rule.trigger {
            TriggerClause::When(when) => {
                if let Some(object) = &when.object {
                    self.object_name(object);
                }
                match &when.trigger.kind {
                    TriggerKind::Changed {
                        attr,
                        from,
                        to,
                        list,
                    } => {
                        // An entry's attribute is the list's, not the record's.
                        match list {
                            Some(list) => self.list_name(list),
                            None => self.attr_of(self.object, attr),
                        }
                        for values in [from, to].into_iter().flatten() {
                            for v in &values.items {
                                self.expr(v);
                            }
                        }
                    }
                    TriggerKind::Matches(e) => self.expr(e),
                    TriggerKind::AddedToList(s)
                    | TriggerKind::RemovedFromList(s)
                    | TriggerKind::EntryChanged(s) => self.list_name(s),
                    TriggerKind::Webhook(name) if self.schema.webhook(&name.name).is_some() => {
                        self.push(name.span, Meaning::Webhook(name.name.clone()));
                    }
                    TriggerKind::RuleFailed { rule, .. } => {
                        self.push(rule.span, Meaning::Rule(rule.name.clone()))
                    }
                    _ => {}
                }
                if let Some(condition) = &when.condition {
                    self.expr(condition);
                }
            }
            TriggerClause::Every(every) => {
                if let Some(for_clause) = &every.for_clause {
                    self.object_name(&for_clause.object);
                    if let Some(filter) = &for_clause.filter {
                        self.expr(filter);
                    }
                }
            }
        }
        self.steps(&rule.steps);
    }

    /// The options a `select`/`status` declaration lists, as declarations of them.
    fn declare_options(&mut self, owner: &str, ty: &TypeExpr) {
        match &ty.kind {
            TypeExprKind::Select(options)
            | TypeExprKind::MultiSelect(options)
            | TypeExprKind::Status(options) => {
                for option in options {
                    self.declare(
                        option.span,
                        Meaning::Option {
                            owner: owner.to_string(),
                            name: option.name.clone(),
                        },
                    );
                }
            }
            TypeExprKind::List(inner) => self.declare_options(owner, inner),
            _ => {}
        }
    }

    fn type_expr(&mut self, ty: &TypeExpr) {
        match &ty.kind {
            TypeExprKind::Record(object) => self.object_name(object),
            TypeExprKind::List(inner) => self.type_expr(inner),
            _ => {}
        }
    }
}

/// Every name in item `index` of the analysed document.
pub fn item_names(analysis: &DocAnalysis, index: usize, item: &Item) -> Vec<Name> {
    let schema = analysis.schema();
    let mut w = Walker {
        schema,
        object: None,
        payload: None,
        activity: None,
        entry: None,
        bindings: Vec::new(),
        find: None,
        out: Vec::new(),
    };
    match item {
        Item::Rule(rule) => {
            w.object = rule_object(analysis, index, rule);
            if let TriggerClause::When(when) = &rule.trigger {
                w.activity = match when.trigger.kind {
                    TriggerKind::NoteCreated => Some("note"),
                    TriggerKind::CommentAdded => Some("comment"),
                    TriggerKind::TaskCreated | TriggerKind::TaskCompleted => Some("task"),
                    TriggerKind::CallRecorded => Some("call"),
                    _ => None,
                };
                if let TriggerKind::Webhook(name) = &when.trigger.kind {
                    w.payload = Some(name.name.clone());
                }
                w.entry = when
                    .trigger
                    .kind
                    .list()
                    .and_then(|l| schema.list(&l.plain()?))
                    .map(|l| l.entry_shape());
            }
            w.rule(rule);
        }
        Item::Object(decl) => {
            w.declare(decl.name.span, Meaning::Object(decl.name.name.clone()));
            for attr in &decl.attrs {
                w.declare(
                    attr.name.span,
                    Meaning::Attribute {
                        object: decl.name.name.clone(),
                        attr: attr.name.name.clone(),
                    },
                );
                w.type_expr(&attr.ty);
                w.declare_options(&format!("{}.{}", decl.name.name, attr.name.name), &attr.ty);
            }
        }
        Item::List(decl) => {
            if let Some(name) = decl.name.plain() {
                w.declare(decl.name.span, Meaning::List(name));
            }
            w.object_name(&decl.object);
        }
        Item::Team(decl) => w.declare(decl.name.span, Meaning::Team(decl.name.name.clone())),
        Item::Webhook(decl) => {
            w.declare(decl.name.span, Meaning::Webhook(decl.name.name.clone()));
            let payload = schema.webhook(&decl.name.name).map(|w| w.payload.clone());
            for field in &decl.fields {
                w.declare(
                    field.name.span,
                    Meaning::Field {
                        shape: format!("payload of {}", decl.name.name),
                        field: field.name.name.clone(),
                        ty: payload
                            .as_ref()
                            .and_then(|p| p.field(&field.name.name).cloned()),
                    },
                );
                w.type_expr(&field.ty);
            }
        }
        Item::Action(decl) => {
            w.declare(decl.name.span, Meaning::Action(decl.name.name.clone()));
            for param in &decl.params {
                w.declare(
                    param.name.span,
                    Meaning::Param {
                        action: decl.name.name.clone(),
                        name: param.name.name.clone(),
                    },
                );
                w.type_expr(&param.ty);
            }
        }
        Item::Test(test) => {
            // An event without an object is about the last record given.
            let mut last: Option<&Object> = None;
            for clause in &test.clauses {
                match &clause.kind {
                    ast::TestClauseKind::Given { object, fields, .. } => {
                        w.fields(object, fields);
                        last = schema.object(&object.name).or(last);
                    }
                    ast::TestClauseKind::Event {
                        object,
                        trigger,
                        fields,
                    } => {
                        if let Some(o) = object {
                            w.object_name(o);
                        }
                        let about = object
                            .as_ref()
                            .and_then(|o| schema.object(&o.name))
                            .or(last);
                        w.test_event(about, trigger, fields.as_deref().unwrap_or_default());
                    }
                    _ => {}
                }
            }
        }
        Item::Error(_) => {}
    }
    w.out
}

/// The innermost name at `offset` (a cursor at the end of a name is on it).
pub fn name_at(analysis: &DocAnalysis, offset: usize) -> Option<Name> {
    let (index, item) = analysis.item_at(offset)?;
    item_names(analysis, index, item)
        .into_iter()
        .filter(|n| n.span.lo() <= offset && offset <= n.span.hi())
        .min_by_key(|n| n.span.len())
}

/// Where the rule `id` is declared in the document's folder: the unit and the span of
/// its `rule` header's id, or, for a generated id (`wins#1`), of the rule's first line.
/// The document is searched first.
pub fn rule_by_id(analysis: &DocAnalysis, id: &str) -> Option<(usize, Span)> {
    let units = &analysis.analysis().units;
    let order =
        std::iter::once(analysis.unit).chain((0..units.len()).filter(|&u| u != analysis.unit));
    for u in order {
        let Some(unit) = units.get(u) else {
            continue;
        };
        let found = unit
            .parsed
            .document
            .items
            .iter()
            .find_map(|item| match item {
                Item::Rule(rule) => rule
                    .id_header()
                    .map(|(ident, _)| ident)
                    .filter(|i| i.name == id)
                    .map(|i| i.span),
                _ => None,
            });
        if let Some(span) = found {
            return Some((u, span));
        }
    }
    // A generated id belongs to a rule that checked.
    let checked = &analysis.analysis().checked;
    let i = checked.rules.iter().position(|r| r.id == id)?;
    let source = checked.sources.get(i)?;
    let unit = units.get(source.unit)?;
    let item = unit.parsed.document.items.get(source.item)?;
    let span = item.span();
    let text = unit.file.text();
    let line_end = text
        .get(span.lo()..span.hi())
        .and_then(|t| t.find('\n'))
        .map_or(span.hi(), |n| span.lo() + n);
    Some((source.unit, Span::new(span.lo(), line_end)))
}

/// Whether a test event's fields are an activity's (`note created { title: … }`), not
/// the record's.
fn scope_activity(kind: &TriggerKind) -> bool {
    matches!(
        kind,
        TriggerKind::NoteCreated
            | TriggerKind::CommentAdded
            | TriggerKind::TaskCreated
            | TriggerKind::TaskCompleted
            | TriggerKind::CallRecorded
    )
}
