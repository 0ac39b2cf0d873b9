//! The abstract syntax tree: what the author wrote, with a byte span on every node.
//!
//! The AST knows nothing of the schema: names are plain identifiers here and are
//! resolved by `check`. Every node keeps its span so diagnostics, hover and the
//! formatter can point at the exact text.

use crate::source::Span;

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The text of the name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// One parsed document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    /// The top-level items in source order; items that failed to parse are `Item::Error`.
    pub items: Vec<Item>,
    /// Every comment, in source order (the formatter re-attaches them).
    pub comments: Vec<Span>,
}

/// A top-level item: a rule, a declaration or a test block.
// Rules dominate every document, so boxing them would only add an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `rule …` / `when …` / `every …`.
    Rule(Rule),
    /// `object <name> { … }`.
    Object(ObjectDecl),
    /// `list "<name>" of <object>`.
    List(ListDecl),
    /// `team <name> = [ … ]`.
    Team(TeamDecl),
    /// `webhook <name> { … }`.
    Webhook(WebhookDecl),
    /// `action <name>(…) [idempotent]`.
    Action(ActionDecl),
    /// `test "<name>" …`.
    Test(TestBlock),
    /// An item that did not parse; its diagnostic was reported by the parser.
    Error(Span),
}

impl Item {
    /// The source span of the whole item.
    pub fn span(&self) -> Span {
        match self {
            Item::Rule(r) => r.span,
            Item::Object(o) => o.span,
            Item::List(l) => l.span,
            Item::Team(t) => t.span,
            Item::Webhook(w) => w.span,
            Item::Action(a) => a.span,
            Item::Test(t) => t.span,
            Item::Error(span) => *span,
        }
    }
}

/// A rule: headers, one trigger clause and its steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The whole rule.
    pub span: Span,
    /// Header lines in source order.
    pub headers: Vec<Header>,
    /// `when …` or `every …`.
    pub trigger: TriggerClause,
    /// The span of the `do` keyword.
    pub do_span: Span,
    /// The steps after `do`.
    pub steps: Vec<Step>,
}

impl Rule {
    /// The `rule <id>` header, if written.
    pub fn id_header(&self) -> Option<(&Ident, Option<&StringLit>)> {
        self.headers.iter().find_map(|h| match &h.kind {
            HeaderKind::Rule { id, title } => Some((id, title.as_ref())),
            _ => None,
        })
    }

    /// Where to point at the rule as a whole: its `rule` header, else its first
    /// header, else the start of its trigger.
    pub fn anchor(&self) -> Span {
        let id_header = self
            .headers
            .iter()
            .find(|h| matches!(h.kind, HeaderKind::Rule { .. }));
        if let Some(header) = id_header.or(self.headers.first()) {
            return header.span;
        }
        match &self.trigger {
            TriggerClause::When(when) => when.keyword,
            TriggerClause::Every(every) => every.schedule.span,
        }
    }

    /// The `on <object>` header, or the object of `when <object> <trigger>`.
    pub fn object(&self) -> Option<&Ident> {
        let from_header = self.headers.iter().find_map(|h| match &h.kind {
            HeaderKind::On(object) => Some(object),
            _ => None,
        });
        from_header.or(match &self.trigger {
            TriggerClause::When(when) => when.object.as_ref(),
            TriggerClause::Every(every) => every.for_clause.as_ref().map(|f| &f.object),
        })
    }
}

/// One header line.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The whole line.
    pub span: Span,
    /// What it says.
    pub kind: HeaderKind,
}

/// The header lines of language.md §2.
#[derive(Clone, Debug, PartialEq)]
pub enum HeaderKind {
    /// `rule <id> ["Title"]`.
    Rule {
        /// The stable id.
        id: Ident,
        /// The display title.
        title: Option<StringLit>,
    },
    /// `owner "<email>"`.
    Owner(StringLit),
    /// `description "<text>"`.
    Description(StringLit),
    /// `on <object>`.
    On(Ident),
    /// `status active|paused|draft|archived`.
    Status(Ident),
    /// `limit <n> per <window>`.
    Limit {
        /// At most this many runs …
        count: Integer,
        /// … per this window.
        window: Duration,
    },
    /// `coalesce <duration>`.
    Coalesce(Duration),
    /// `allow <lint> ["reason"]`.
    Allow {
        /// The lint name as written.
        lint: Ident,
        /// Why it is allowed.
        reason: Option<StringLit>,
    },
}

/// What starts a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum TriggerClause {
    /// An event trigger.
    When(WhenClause),
    /// A schedule.
    Every(EveryClause),
}

/// `when [<object>] <trigger> [and <condition>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct WhenClause {
    /// From `when` to the end of the condition.
    pub span: Span,
    /// The `when` keyword.
    pub keyword: Span,
    /// `when deals created`: the object written before the trigger.
    pub object: Option<Ident>,
    /// The trigger itself.
    pub trigger: Trigger,
    /// The condition after `and`/`where`.
    pub condition: Option<Expr>,
}

/// The trigger of a `when` clause.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    /// The trigger text (without the object prefix or condition).
    pub span: Span,
    /// Which trigger.
    pub kind: TriggerKind,
}

/// The triggers of language.md §3.
#[derive(Clone, Debug, PartialEq)]
pub enum TriggerKind {
    /// `created`.
    Created,
    /// `updated`.
    Updated,
    /// `deleted`.
    Deleted,
    /// `merged`.
    Merged,
    /// `<attr> changed [from <vals>] [to <vals>]`.
    Changed {
        /// The watched attribute.
        attr: Ident,
        /// `from` values.
        from: Option<Values>,
        /// `to` values.
        to: Option<Values>,
        /// `in list "<name>"`: the attribute is a list entry's.
        list: Option<StringLit>,
    },
    /// `entry changed in list "<name>"`: any attribute of an entry.
    EntryChanged(StringLit),
    /// `matches <filter>`.
    Matches(Expr),
    /// `added to list "<name>"`.
    AddedToList(StringLit),
    /// `removed from list "<name>"`.
    RemovedFromList(StringLit),
    /// `note created`.
    NoteCreated,
    /// `comment added`.
    CommentAdded,
    /// `task created`.
    TaskCreated,
    /// `task completed`.
    TaskCompleted,
    /// `call recorded`.
    CallRecorded,
    /// `webhook <name>`.
    Webhook(Ident),
    /// `command "<name>"`: run by a person on a record.
    Command(StringLit),
    /// `rule <id> failed [<n> times in a row]`.
    RuleFailed {
        /// The watched rule.
        rule: Ident,
        /// Consecutive failures needed (1 when not written).
        times: Option<Integer>,
    },
}

impl TriggerKind {
    /// The list a list trigger is about: `added to list`, `removed from list`,
    /// `entry changed in list`, `<attr> changed … in list`.
    pub fn list(&self) -> Option<&StringLit> {
        match self {
            TriggerKind::AddedToList(list)
            | TriggerKind::RemovedFromList(list)
            | TriggerKind::EntryChanged(list)
            | TriggerKind::Changed {
                list: Some(list), ..
            } => Some(list),
            _ => None,
        }
    }
}

/// `from`/`to` values: one value or a bracketed list.
#[derive(Clone, Debug, PartialEq)]
pub struct Values {
    /// The values as written.
    pub span: Span,
    /// True when written as `[a, b]`.
    pub bracketed: bool,
    /// Each value.
    pub items: Vec<Expr>,
}

/// `every …` schedules.
#[derive(Clone, Debug, PartialEq)]
pub struct EveryClause {
    /// The whole clause.
    pub span: Span,
    /// When it fires.
    pub schedule: Schedule,
    /// `in "<IANA zone>"`.
    pub zone: Option<StringLit>,
    /// `for <object> [where <filter>]`.
    pub for_clause: Option<ForClause>,
}

/// A schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// The schedule text.
    pub span: Span,
    /// Which kind.
    pub kind: ScheduleKind,
}

/// Schedule forms of language.md §3.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleKind {
    /// `every day|weekday|monday… at HH:MM`.
    Daily {
        /// `day`, `weekday` or a day name, as written.
        days: Ident,
        /// The time of day.
        at: TimeOfDay,
    },
    /// `every <n> minutes|hours`.
    Interval(Duration),
    /// `every month on day <d> at HH:MM`.
    Monthly {
        /// Day of month.
        day: Integer,
        /// The time of day.
        at: TimeOfDay,
    },
    /// `cron "<expr>"`.
    Cron(StringLit),
}

/// `HH:MM`.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeOfDay {
    /// As written.
    pub text: String,
    /// Where.
    pub span: Span,
}

/// `for <object> [where <filter>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ForClause {
    /// The object scanned.
    pub object: Ident,
    /// The filter.
    pub filter: Option<Expr>,
}

/// One step with its modifiers.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The step including modifiers.
    pub span: Span,
    /// The action.
    pub kind: StepKind,
    /// `on error continue`.
    pub continue_on_error: Option<Span>,
    /// `retry <n>`.
    pub retry: Option<Integer>,
}

impl Step {
    /// The blocks nested in this step: each `if`/`route` branch, then `else`; the
    /// body of a `for each`.
    pub fn blocks(&self) -> Vec<&[Step]> {
        match &self.kind {
            StepKind::ForEach { steps, .. } => vec![steps.as_slice()],
            StepKind::If {
                branches,
                otherwise,
            }
            | StepKind::Route {
                arms: branches,
                otherwise,
            } => branches
                .iter()
                .map(|b| b.steps.as_slice())
                .chain(otherwise.as_deref())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// An expression or a string written in a step.
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    /// An expression (conditions, values, keys, recipients).
    Expr(&'a Expr),
    /// A string literal (texts, titles, channels, URLs, list names).
    Str(&'a StringLit),
}

impl StepKind {
    /// The expressions and strings written in this step itself, in source order:
    /// `if`/`route` conditions are included, their nested steps are not (see
    /// [`Step::blocks`]). Map entries are given by their values.
    pub fn parts(&self) -> Vec<Part<'_>> {
        fn exprs<'a>(out: &mut Vec<Part<'a>>, es: &[Option<&'a Expr>]) {
            out.extend(es.iter().flatten().map(|e| Part::Expr(e)));
        }
        let mut out = Vec::new();
        match self {
            StepKind::Set { target, value, .. } => {
                exprs(&mut out, &[target.as_ref()]);
                out.push(Part::Expr(value));
            }
            StepKind::Clear { target, .. } => exprs(&mut out, &[target.as_ref()]),
            StepKind::Stop => {}
            StepKind::AddToList { target, list } | StepKind::RemoveFromList { target, list } => {
                exprs(&mut out, &[target.as_ref()]);
                out.push(Part::Str(list));
            }
            StepKind::Skip(reason) => out.extend(reason.as_ref().map(Part::Str)),
            StepKind::Slack { target, text, key } => {
                out.push(match target {
                    SlackTarget::Channel(s) => Part::Str(s),
                    SlackTarget::Dm(e) => Part::Expr(e),
                });
                out.extend(text.as_ref().map(Part::Str));
                exprs(&mut out, &[key.as_ref()]);
            }
            StepKind::Email { to, content, key } => {
                out.push(Part::Expr(to));
                match content {
                    EmailContent::Inline { subject, body } => {
                        out.extend([Part::Str(subject), Part::Str(body)])
                    }
                    EmailContent::Template(t) => out.push(Part::Str(t)),
                }
                exprs(&mut out, &[key.as_ref()]);
            }
            StepKind::CreateTask {
                title,
                assignee,
                due,
                body,
                linked,
                key,
                ..
            } => {
                out.push(Part::Str(title));
                exprs(&mut out, &[assignee.as_ref(), due.as_ref()]);
                out.extend(body.as_ref().map(Part::Str));
                exprs(&mut out, &[linked.as_ref(), key.as_ref()]);
            }
            StepKind::Create { fields, key, .. } => {
                out.extend(fields.iter().map(|f| Part::Expr(&f.value)));
                exprs(&mut out, &[key.as_ref()]);
            }
            StepKind::Find { filter, .. } => out.push(Part::Expr(filter)),
            StepKind::Upsert { fields, .. } => {
                out.extend(fields.iter().map(|f| Part::Expr(&f.value)))
            }
            StepKind::Note {
                target,
                title,
                body,
            } => {
                exprs(&mut out, &[target.as_ref()]);
                out.push(Part::Str(title));
                out.extend(body.as_ref().map(Part::Str));
            }
            StepKind::Http {
                url,
                headers,
                body,
                key,
                ..
            } => {
                out.push(Part::Str(url));
                out.extend(headers.iter().map(|h| Part::Expr(&h.value)));
                exprs(&mut out, &[body.as_ref(), key.as_ref()]);
            }
            StepKind::WaitFor(e) | StepKind::WaitUntil(e) => out.push(Part::Expr(e)),
            StepKind::Ask {
                member,
                question,
                timeout,
                ..
            } => {
                out.push(Part::Expr(member));
                out.push(Part::Str(question));
                exprs(&mut out, &[timeout.as_ref()]);
            }
            StepKind::If { branches, .. } | StepKind::Route { arms: branches, .. } => {
                out.extend(branches.iter().map(|b| Part::Expr(&b.condition)));
            }
            StepKind::ForEach { list, .. } => out.push(Part::Expr(list)),
            StepKind::Custom { args, key, .. } => {
                out.extend(args.iter().map(|a| Part::Expr(&a.value)));
                exprs(&mut out, &[key.as_ref()]);
            }
        }
        out
    }

    /// The record the step acts on when it names one (`company` in
    /// `set company.csm = …`, `person` in `add person to list …`); `None` for the
    /// rule's own record and for steps that act on no record.
    pub fn target(&self) -> Option<&Expr> {
        match self {
            StepKind::Set { target, .. }
            | StepKind::Clear { target, .. }
            | StepKind::AddToList { target, .. }
            | StepKind::RemoveFromList { target, .. }
            | StepKind::Note { target, .. }
            | StepKind::CreateTask { linked: target, .. } => target.as_ref(),
            _ => None,
        }
    }

    /// The name a step binds with `as`.
    pub fn binding(&self) -> Option<&Ident> {
        match self {
            StepKind::CreateTask { binding, .. }
            | StepKind::Create { binding, .. }
            | StepKind::Upsert { binding, .. }
            | StepKind::Http { binding, .. }
            | StepKind::Custom { binding, .. } => binding.as_ref(),
            StepKind::Find { binding, .. }
            | StepKind::Ask { binding, .. }
            | StepKind::ForEach { binding, .. } => Some(binding),
            _ => None,
        }
    }
}

/// Every step of a block, depth first, nested blocks included.
pub fn all_steps(steps: &[Step]) -> Vec<&Step> {
    let mut out = Vec::new();
    let mut stack: Vec<&Step> = steps.iter().rev().collect();
    while let Some(step) = stack.pop() {
        out.push(step);
        for block in step.blocks().into_iter().rev() {
            stack.extend(block.iter().rev());
        }
    }
    out
}

/// The actions of language.md §5.
#[derive(Clone, Debug, PartialEq)]
pub enum StepKind {
    /// `set [<record>.]<attr> = <expr> [if empty]`.
    Set {
        /// The record written when it is not the rule's own (`company` in
        /// `set company.csm = …`).
        target: Option<Expr>,
        /// The attribute written.
        attr: Ident,
        /// The new value.
        value: Expr,
        /// `if empty`.
        if_empty: bool,
    },
    /// `clear [<record>.]<attr>`.
    Clear {
        /// The record written when it is not the rule's own.
        target: Option<Expr>,
        /// The attribute emptied.
        attr: Ident,
    },
    /// `add [<record>] to list "<name>"`.
    AddToList {
        /// The record added when it is not the rule's own.
        target: Option<Expr>,
        /// The list.
        list: StringLit,
    },
    /// `remove [<record>] from list "<name>"`.
    RemoveFromList {
        /// The record removed when it is not the rule's own.
        target: Option<Expr>,
        /// The list.
        list: StringLit,
    },
    /// `slack "<#channel>" ["text"]` / `slack dm <member> ["text"]`.
    Slack {
        /// Channel or member.
        target: SlackTarget,
        /// The message.
        text: Option<StringLit>,
        /// `key <expr>`: one message per key, across runs.
        key: Option<Expr>,
    },
    /// `email <to> subject "…" body "…"` / `email <to> template "<id>"`.
    Email {
        /// Recipient.
        to: Expr,
        /// Subject and body, or a template.
        content: EmailContent,
        /// `key <expr>`: one email per key, across runs.
        key: Option<Expr>,
    },
    /// `create task "<title>" …`.
    CreateTask {
        /// Title.
        title: StringLit,
        /// `for <member>`.
        assignee: Option<Expr>,
        /// `due <time>`.
        due: Option<Expr>,
        /// `body "<b>"`.
        body: Option<StringLit>,
        /// `linked to <record>`, when it is not the rule's own.
        linked: Option<Expr>,
        /// `key <expr>`.
        key: Option<Expr>,
        /// `as <name>`.
        binding: Option<Ident>,
    },
    /// `create <object> { … } [key <expr>] [as <name>]`.
    Create {
        /// The object created.
        object: Ident,
        /// Its attribute values.
        fields: Vec<MapEntry>,
        /// Idempotency key.
        key: Option<Expr>,
        /// `as <name>`.
        binding: Option<Ident>,
    },
    /// `find [all] <object> where <filter> [limit <n>] as <name>`.
    Find {
        /// `find all`: every match, as a list; else the first.
        all: bool,
        /// The object searched.
        object: Ident,
        /// The filter, in the scope of `object`.
        filter: Expr,
        /// `limit <n>`: at most this many (`find all`).
        limit: Option<Integer>,
        /// The binding.
        binding: Ident,
    },
    /// `for each <name> in <list> do <steps> end`.
    ForEach {
        /// The name each item is bound to.
        binding: Ident,
        /// The list walked.
        list: Expr,
        /// The steps run for each item.
        steps: Vec<Step>,
    },
    /// `upsert <object> by <attr> { … } [as <name>]`.
    Upsert {
        /// The object.
        object: Ident,
        /// The unique attribute matched on.
        by: Ident,
        /// Attribute values.
        fields: Vec<MapEntry>,
        /// `as <name>`.
        binding: Option<Ident>,
    },
    /// `note [on <record>] "<title>" ["<body>"]`.
    Note {
        /// The record noted on when it is not the rule's own.
        target: Option<Expr>,
        /// Title.
        title: StringLit,
        /// Body.
        body: Option<StringLit>,
    },
    /// `http <METHOD> "<url>" …`.
    Http {
        /// The method, upper case.
        method: Ident,
        /// The URL (templated).
        url: StringLit,
        /// `headers { … }`.
        headers: Vec<MapEntry>,
        /// `body <expr>`.
        body: Option<Expr>,
        /// `key <expr>`.
        key: Option<Expr>,
        /// `as <name>`.
        binding: Option<Ident>,
    },
    /// `wait <duration>`.
    WaitFor(Expr),
    /// `wait until <time>`.
    WaitUntil(Expr),
    /// `ask <member> "<question>" [timeout <duration>] as <name>`.
    Ask {
        /// Who is asked.
        member: Expr,
        /// The question.
        question: StringLit,
        /// How long to wait for an answer.
        timeout: Option<Expr>,
        /// `replace`: ends this rule's open question about the same record.
        replace: bool,
        /// The binding for the answer.
        binding: Ident,
    },
    /// `if … then … [else if …] [else …] end`.
    If {
        /// Each `if`/`else if` branch in order.
        branches: Vec<Branch>,
        /// The `else` steps.
        otherwise: Option<Vec<Step>>,
    },
    /// `route <cond> => <steps> … [else => <steps>] end`.
    Route {
        /// Arms in order; the first that holds runs.
        arms: Vec<Branch>,
        /// `else =>`.
        otherwise: Option<Vec<Step>>,
    },
    /// `stop`.
    Stop,
    /// `skip ["reason"]`.
    Skip(Option<StringLit>),
    /// `<name>(arg: expr, …)`.
    Custom {
        /// The registered action.
        name: Ident,
        /// Named arguments.
        args: Vec<NamedArg>,
        /// `key <expr>`.
        key: Option<Expr>,
        /// `as <name>`.
        binding: Option<Ident>,
    },
}

/// A condition with the steps it guards.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    /// The condition.
    pub condition: Expr,
    /// The steps.
    pub steps: Vec<Step>,
}

/// Where a Slack message goes.
#[derive(Clone, Debug, PartialEq)]
pub enum SlackTarget {
    /// `"#channel"`.
    Channel(StringLit),
    /// `dm <member>`.
    Dm(Expr),
}

/// The body of an email step.
#[derive(Clone, Debug, PartialEq)]
pub enum EmailContent {
    /// `subject "…" body "…"`.
    Inline {
        /// Subject line.
        subject: StringLit,
        /// Body.
        body: StringLit,
    },
    /// `template "<id>"`.
    Template(StringLit),
}

/// `name: expr` in a call of a custom action.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedArg {
    /// The parameter.
    pub name: Ident,
    /// The value.
    pub value: Expr,
}

/// `key: expr` in a `{ … }` map; the key may be quoted.
#[derive(Clone, Debug, PartialEq)]
pub struct MapEntry {
    /// The key.
    pub key: Ident,
    /// True when the key was written as a string.
    pub quoted: bool,
    /// The value.
    pub value: Expr,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// Where.
    pub span: Span,
    /// What.
    pub kind: ExprKind,
}

/// Expression forms of language.md §4.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number as written (`10_000`, `12.5`).
    Number(Number),
    /// A string, possibly with `{{ }}` holes.
    String(StringLit),
    /// `true` / `false`.
    Bool(bool),
    /// `empty`.
    Empty,
    /// `now`.
    Now,
    /// `today`.
    Today,
    /// `2026-01-31`.
    Date(String),
    /// `2026-01-31T09:00:00Z`.
    DateTime(String),
    /// `14 days`.
    Duration(Duration),
    /// `14 days ago`.
    Ago(Duration),
    /// `in 60 days`.
    FromNow(Duration),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `{ k: v }`.
    Map(Vec<MapEntry>),
    /// `a`, `company.name`, `event.source`.
    Path(Vec<Ident>),
    /// `lower(x)`.
    Call {
        /// Function name.
        name: Ident,
        /// Positional arguments.
        args: Vec<Expr>,
    },
    /// `not x`, `-x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `a op b`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Where the operator was written.
        op_span: Span,
        /// Left.
        lhs: Box<Expr>,
        /// Right.
        rhs: Box<Expr>,
    },
    /// `x is set` and friends.
    Test {
        /// Which test.
        op: TestOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `x in list "…"` / `x not in list "…"`.
    InList {
        /// The record.
        operand: Box<Expr>,
        /// The list.
        list: StringLit,
        /// `not in list`.
        negated: bool,
    },
    /// `( … )`, kept so the formatter keeps the author's grouping.
    Paren(Box<Expr>),
}

/// A number literal.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    /// As written.
    pub text: String,
    /// Its value.
    pub value: f64,
}

/// An integer literal (counts, days of month).
#[derive(Clone, Debug, PartialEq)]
pub struct Integer {
    /// Its value; `None` when it does not fit (reported by the parser).
    pub value: u32,
    /// Where.
    pub span: Span,
}

/// A duration literal like `14 days`.
#[derive(Clone, Debug, PartialEq)]
pub struct Duration {
    /// The amount as written.
    pub amount: Number,
    /// The unit.
    pub unit: TimeUnit,
    /// Where.
    pub span: Span,
}

impl Duration {
    /// The length in seconds (fractions rounded down).
    pub fn seconds(&self) -> i64 {
        let secs = self.amount.value * self.unit.seconds() as f64;
        if secs >= i64::MAX as f64 {
            i64::MAX
        } else {
            secs as i64
        }
    }
}

/// Units of durations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// s
    Second,
    /// min
    Minute,
    /// h
    Hour,
    /// d
    Day,
    /// 7 d
    Week,
}

impl TimeUnit {
    /// Seconds in one unit.
    pub fn seconds(self) -> i64 {
        match self {
            TimeUnit::Second => 1,
            TimeUnit::Minute => 60,
            TimeUnit::Hour => 3600,
            TimeUnit::Day => 86_400,
            TimeUnit::Week => 604_800,
        }
    }

    /// The canonical spelling for an amount.
    pub fn name(self, plural: bool) -> &'static str {
        match (self, plural) {
            (TimeUnit::Second, false) => "second",
            (TimeUnit::Second, true) => "seconds",
            (TimeUnit::Minute, false) => "minute",
            (TimeUnit::Minute, true) => "minutes",
            (TimeUnit::Hour, false) => "hour",
            (TimeUnit::Hour, true) => "hours",
            (TimeUnit::Day, false) => "day",
            (TimeUnit::Day, true) => "days",
            (TimeUnit::Week, false) => "week",
            (TimeUnit::Week, true) => "weeks",
        }
    }
}

/// A string literal: raw source text plus its parts.
#[derive(Clone, Debug, PartialEq)]
pub struct StringLit {
    /// Including the quotes.
    pub span: Span,
    /// Text and `{{ }}` holes in order.
    pub parts: Vec<StringPart>,
}

impl StringLit {
    /// The value when the string has no holes.
    pub fn plain(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                StringPart::Text { value, .. } => out.push_str(value),
                StringPart::Hole(_) => return None,
            }
        }
        Some(out)
    }

    /// The text with holes shown as `{{…}}`, for messages.
    pub fn lossy(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                StringPart::Text { value, .. } => out.push_str(value),
                StringPart::Hole(_) => out.push_str("{{…}}"),
            }
        }
        out
    }
}

/// A piece of a string literal.
#[derive(Clone, Debug, PartialEq)]
pub enum StringPart {
    /// Literal text.
    Text {
        /// As written (escapes kept), for the formatter.
        raw: String,
        /// With escapes resolved.
        value: String,
    },
    /// `{{ expr }}`.
    Hole(Expr),
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `not`.
    Not,
    /// `-`.
    Neg,
}

/// Infix operators.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `contains`
    Contains,
    /// `contains any [..]`: at least one of the list
    ContainsAny,
    /// `contains all [..]`: every one of the list
    ContainsAll,
    /// `starts with`
    StartsWith,
    /// `ends with`
    EndsWith,
    /// `before`
    Before,
    /// `after`
    After,
    /// `within last`
    WithinLast,
    /// `within next`
    WithinNext,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl BinaryOp {
    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Contains => "contains",
            BinaryOp::ContainsAny => "contains any",
            BinaryOp::ContainsAll => "contains all",
            BinaryOp::StartsWith => "starts with",
            BinaryOp::EndsWith => "ends with",
            BinaryOp::Before => "before",
            BinaryOp::After => "after",
            BinaryOp::WithinLast => "within last",
            BinaryOp::WithinNext => "within next",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }

    /// Binding strength: higher binds tighter. Matches the Pratt table in `lower`.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div => 6,
            _ => 4,
        }
    }
}

/// Postfix tests.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestOp {
    /// `is set`
    IsSet,
    /// `is not set`
    IsNotSet,
    /// `is empty`
    IsEmpty,
    /// `is not empty`
    IsNotEmpty,
}

impl TestOp {
    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TestOp::IsSet => "is set",
            TestOp::IsNotSet => "is not set",
            TestOp::IsEmpty => "is empty",
            TestOp::IsNotEmpty => "is not empty",
        }
    }

    /// True for the tests that hold when the value is present.
    pub fn wants_value(self) -> bool {
        matches!(self, TestOp::IsSet | TestOp::IsNotEmpty)
    }
}

/// `object <name> { … }`.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectDecl {
    /// Whole declaration.
    pub span: Span,
    /// Object name.
    pub name: Ident,
    /// Attributes.
    pub attrs: Vec<AttrDecl>,
}

/// `name: type [readonly] [unique] [required]`.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrDecl {
    /// Whole line.
    pub span: Span,
    /// Attribute name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
    /// `readonly`, `unique`, `required` as written.
    pub flags: Vec<Ident>,
}

/// A type as written in a declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    /// Where.
    pub span: Span,
    /// Which type.
    pub kind: TypeExprKind,
}

/// Type forms of language.md §6.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `text`, `number`, `member`, …
    Named(Ident),
    /// `list of <type>`.
    List(Box<TypeExpr>),
    /// `select [..]`.
    Select(Vec<Ident>),
    /// `select[] [..]`.
    MultiSelect(Vec<Ident>),
    /// `status [..]`.
    Status(Vec<Ident>),
    /// `record(<object>)`.
    Record(Ident),
    /// `currency(<ISO 4217 code>)`: an amount in one currency.
    Currency(Ident),
}

/// `list "<name>" of <object>`.
#[derive(Clone, Debug, PartialEq)]
pub struct ListDecl {
    /// Whole declaration.
    pub span: Span,
    /// The list name.
    pub name: StringLit,
    /// The object its entries are.
    pub object: Ident,
    /// The entries' own attributes (`{ stage: status [...] }`).
    pub attrs: Vec<AttrDecl>,
}

/// `team <name> = ["a@x", …]`.
#[derive(Clone, Debug, PartialEq)]
pub struct TeamDecl {
    /// Whole declaration.
    pub span: Span,
    /// Team name.
    pub name: Ident,
    /// Member emails.
    pub members: Vec<StringLit>,
}

/// `webhook <name> { field: type, … }`.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookDecl {
    /// Whole declaration.
    pub span: Span,
    /// Webhook name.
    pub name: Ident,
    /// Payload fields.
    pub fields: Vec<FieldDecl>,
}

/// `name: type` in a webhook or action declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    /// Whole field.
    pub span: Span,
    /// Name.
    pub name: Ident,
    /// Type.
    pub ty: TypeExpr,
}

/// `action <name>(param: type, …) [idempotent]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionDecl {
    /// Whole declaration.
    pub span: Span,
    /// Action name.
    pub name: Ident,
    /// Parameters.
    pub params: Vec<FieldDecl>,
    /// Whether the host guarantees the action is safe to repeat.
    pub idempotent: bool,
}

/// `test "<name>" given … event … expect …` (language.md §7).
#[derive(Clone, Debug, PartialEq)]
pub struct TestBlock {
    /// Whole block.
    pub span: Span,
    /// Test name.
    pub name: StringLit,
    /// Clauses in order.
    pub clauses: Vec<TestClause>,
}

/// A line of a test block.
#[derive(Clone, Debug, PartialEq)]
pub struct TestClause {
    /// Whole clause.
    pub span: Span,
    /// What it says.
    pub kind: TestClauseKind,
}

/// The lines of a test block.
#[derive(Clone, Debug, PartialEq)]
pub enum TestClauseKind {
    /// `given <object> [as <name>] { … }`.
    Given {
        /// Object of the record.
        object: Ident,
        /// `as <name>`: the record's id, for other records to refer to.
        name: Option<Ident>,
        /// Its values.
        fields: Vec<MapEntry>,
    },
    /// `event [<object>] <trigger> [{ … }]`.
    Event {
        /// Object, when written.
        object: Option<Ident>,
        /// The event, in trigger syntax.
        trigger: Trigger,
        /// Extra values (webhook payload, new record values).
        fields: Option<Vec<MapEntry>>,
    },
    /// `given http "<url>" <answer>`: `http` steps whose URL starts with `url` are
    /// answered `answer`.
    MockHttp {
        /// The URL's start.
        url: StringLit,
        /// The response body.
        answer: Expr,
    },
    /// `given ask { … }`: questions are answered at once, with these fields.
    MockAsk {
        /// The answer's fields (`approved`, `answer`, …).
        answer: Vec<MapEntry>,
    },
    /// `redeliver`: the last event again, with its id, as a webhook retry sends it.
    Redeliver,
    /// `expect [no | <n>] <action> ["arg" …]`.
    Expect {
        /// `expect no …`.
        negated: bool,
        /// `expect 2 …`: exactly this many.
        count: Option<Integer>,
        /// The action kind.
        action: Ident,
        /// Literal arguments to match.
        args: Vec<Expr>,
    },
}
