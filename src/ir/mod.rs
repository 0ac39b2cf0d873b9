//! The checked, serializable intermediate representation.
//!
//! Everything here has been resolved and typed by `check`: attribute references name
//! their object, select and status values are option indices, constants are folded,
//! and every rule carries a stable id and a version hash. A runtime can load a
//! [`Program`] from JSON (`rulec compile`) and run it without ever parsing rule text.
//!
//! The IR knows no spans and no diagnostics: source locations travel as plain line and
//! column numbers, for run histories.

pub mod follow;
pub mod http;
pub mod visit;

use serde::{Deserialize, Serialize};

use crate::schema::{Schema, Type};
use crate::syntax::ast::{BinaryOp, TestOp};

/// The version of this IR format; bumped when a program written now would be read
/// wrongly by an older rulec (3: keys on messages, the workspace's zone, `command`
/// triggers, steps on other records, loops).
pub const FORMAT_VERSION: u32 = 4;

/// The oldest format this rulec still reads: what it added since is optional.
const OLDEST_READ: u32 = 2;

/// A compiled rule set with the schema it was checked against.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Program {
    /// [`FORMAT_VERSION`] at compile time.
    pub format: u32,
    /// The workspace schema.
    pub schema: Schema,
    /// The rules, in file order.
    pub rules: Vec<Rule>,
    /// The hosts `http` steps may call (`[http] allow` of the project's rulec.toml;
    /// see [`http::allowed`]). `None`: no allow-list, every host may be called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_allow: Option<Vec<String>>,
}

impl Program {
    /// Reads a program written by `rulec compile`, refusing one of another IR
    /// format or a damaged file with an error that says which and what to do.
    pub fn from_json(text: &str) -> Result<Program, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            format!("the file is not whole JSON ({e}): it was damaged or cut short; compile the rules again")
        })?;
        match value.get("format").and_then(serde_json::Value::as_u64) {
            Some(n) if (u64::from(OLDEST_READ)..=u64::from(FORMAT_VERSION)).contains(&n) => {}
            Some(n) => {
                return Err(format!(
                    "the rules were compiled to IR format {n}, and this rulec reads format {FORMAT_VERSION}: compile them again with this rulec"
                ))
            }
            None => {
                return Err(
                    "this is not a program written by `rulec compile` (it has no `format`)".into(),
                )
            }
        }
        serde_json::from_value(value).map_err(|e| {
            format!("the program does not read as IR format {FORMAT_VERSION} ({e}): it was edited or damaged; compile the rules again")
        })
    }
}

/// A 1-based line and column in a rule file.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
}

/// Whether a rule fires.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fires.
    Active,
    /// Temporarily off.
    Paused,
    /// Being written.
    Draft,
    /// Retired.
    Archived,
}

/// A checked rule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rule {
    /// Stable id: the `rule` header, or `<file stem>#<n>` for header-less rules.
    pub id: String,
    /// Hash of the rule's canonical text: formatting does not change it, any edit does.
    pub version: String,
    /// Hash of what the rule does (object, trigger, condition, steps; not its headers
    /// or layout): equal for rules that behave alike (the `duplicate-rule` lint).
    /// Computed by the checker for this process only, so not serialized.
    #[serde(skip)]
    pub behaviour: u64,
    /// Display title.
    pub title: Option<String>,
    /// Who answers for it.
    pub owner: Option<String>,
    /// Why it exists.
    pub description: Option<String>,
    /// The file it came from.
    pub file: String,
    /// Where it starts.
    pub location: Location,
    /// The object whose records trigger it (none for webhooks, digests and meta-rules).
    pub object: Option<String>,
    /// Whether it fires.
    pub status: Status,
    /// `limit n per window`.
    pub limit: Option<Limit>,
    /// `coalesce <duration>`, in seconds.
    pub coalesce_seconds: Option<i64>,
    /// Lints silenced for this rule.
    pub allow: Vec<String>,
    /// What starts it.
    pub trigger: Trigger,
    /// The condition after the trigger (or the `for … where` filter of a schedule).
    pub condition: Option<Expr>,
    /// What it does.
    pub steps: Vec<Step>,
    /// The workspace's time zone (`time_zone` in rulec.toml): what `today`,
    /// `next_business_day()` and dates are read in, and schedules without `in "…"`.
    /// UTC when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// A storm guard.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    /// At most this many runs …
    pub count: u32,
    /// … per this many seconds.
    pub window_seconds: i64,
}

/// A resolved attribute of an object.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
pub struct AttrRef {
    /// The object.
    pub object: String,
    /// The attribute.
    pub attr: String,
}

/// What starts a rule.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// A record was created.
    Created,
    /// Any attribute changed.
    Updated,
    /// A record was deleted.
    Deleted,
    /// A record was merged into another.
    Merged,
    /// An attribute's value changed; `empty` in `from`/`to` is [`Value::Empty`].
    Changed {
        /// The attribute.
        attr: AttrRef,
        /// Accepted old values (any when absent).
        from: Option<Vec<Value>>,
        /// Accepted new values (any when absent).
        to: Option<Vec<Value>>,
    },
    /// The record newly matches the filter (edge, not level).
    Matches {
        /// The filter.
        filter: Expr,
    },
    /// A list entry was created.
    AddedToList {
        /// The list.
        list: String,
    },
    /// A list entry was deleted.
    RemovedFromList {
        /// The list.
        list: String,
    },
    /// An entry's own attribute changed (`stage changed to Live in list "…"`), or
    /// any of them (`entry changed in list "…"`, `attr` absent). A new entry's
    /// values are a change from empty, as a new record's are.
    EntryChanged {
        /// The list.
        list: String,
        /// The entry attribute; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attr: Option<String>,
        /// Accepted old values (any when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Vec<Value>>,
        /// Accepted new values (any when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Vec<Value>>,
    },
    /// A note was created on a record.
    NoteCreated,
    /// A comment was added.
    CommentAdded,
    /// A task was created.
    TaskCreated,
    /// A task was completed.
    TaskCompleted,
    /// A call recording was created.
    CallRecorded,
    /// A person ran the command on a record (Attio's Record command).
    Command {
        /// The command's name, as people see it.
        name: String,
    },
    /// A declared webhook arrived.
    Webhook {
        /// The webhook.
        name: String,
    },
    /// Another rule failed `times` times in a row.
    RuleFailed {
        /// The watched rule's id.
        rule: String,
        /// Consecutive failures.
        times: u32,
    },
    /// A schedule.
    Schedule(Schedule),
}

/// When a scheduled rule runs.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// The timing.
    pub timing: Timing,
    /// IANA zone the timing is read in; empty for the rule's (the workspace's).
    pub zone: String,
    /// `for <object>`: run once per matching record (the filter is the rule's condition).
    pub for_object: Option<String>,
}

/// Timings of schedules.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
#[serde(tag = "every", rename_all = "snake_case")]
pub enum Timing {
    /// At a time of day on some days of the week.
    Daily {
        /// Days of the week, Monday = 0.
        weekdays: Vec<u8>,
        /// Hour 0–23.
        hour: u8,
        /// Minute 0–59.
        minute: u8,
    },
    /// Every n seconds.
    Interval {
        /// Period in seconds.
        seconds: i64,
    },
    /// At a time on a day of each month (clamped to the month's last day).
    Monthly {
        /// Day of month 1–31.
        day: u8,
        /// Hour.
        hour: u8,
        /// Minute.
        minute: u8,
    },
    /// A 5-field cron expression.
    Cron {
        /// The expression.
        expression: String,
    },
}

/// A constant value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum Value {
    /// No value.
    Empty,
    /// true/false.
    Bool(bool),
    /// A number or currency amount.
    Number(f64),
    /// Text (also emails, domains, members).
    Text(String),
    /// `YYYY-MM-DD`.
    Date(String),
    /// RFC 3339 instant.
    Timestamp(String),
    /// Seconds.
    Duration(i64),
    /// An option of a select or status set.
    Option {
        /// Position in the declared order.
        index: u32,
        /// The option's name.
        name: String,
    },
    /// A list.
    List(Vec<Value>),
}

impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Empty => {}
            Value::Bool(b) => b.hash(state),
            Value::Number(n) => n.to_bits().hash(state),
            Value::Text(s) | Value::Date(s) | Value::Timestamp(s) => s.hash(state),
            Value::Duration(d) => d.hash(state),
            Value::Option { index, name } => (index, name).hash(state),
            Value::List(items) => items.hash(state),
        }
    }
}

/// A typed expression.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    /// Its type.
    #[serde(rename = "type")]
    pub ty: Type,
    /// What it computes.
    #[serde(flatten)]
    pub kind: ExprKind,
}

/// Where a name's value comes from.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
#[serde(tag = "root", rename_all = "snake_case")]
pub enum Root {
    /// The triggering (or scanned) record.
    Record,
    /// The record's values before this event.
    Old,
    /// The event envelope (`id`, `actor`, `source`, `at`).
    Event,
    /// The webhook body.
    Payload,
    /// The activity of an activity trigger (`note`, `task`, …).
    Activity,
    /// The failing run of a `rule … failed` trigger.
    Failure,
    /// A record being searched by `find … where` (its attributes).
    Candidate,
    /// A name bound by an earlier step's `as`.
    Binding {
        /// The name.
        name: String,
    },
}

/// Built-in pure functions.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    /// `lower(text)`
    Lower,
    /// `upper(text)`
    Upper,
    /// `trim(text)`
    Trim,
    /// `capitalize(text)`
    Capitalize,
    /// `title_case(text)`: the first letter of every word upper-cased
    TitleCase,
    /// `url_encode(text)`: percent-encoded for a link's query or path
    UrlEncode,
    /// `member(text)`: a member named by their email address (an `ask`'s answer);
    /// anything else fails the step
    Member,
    /// `domain(email)`
    Domain,
    /// `len(text | list)`
    Len,
    /// `coalesce(a, b)`
    Coalesce,
    /// `days_between(a, b)`
    DaysBetween,
    /// `next_business_day([from])`
    NextBusinessDay,
    /// `round_robin(team)` — stateful: the engine keeps a cursor per team.
    RoundRobin,
    /// `secret("NAME")` — resolved by the host at run time, never logged.
    Secret,
    /// `first(list)`: the first item (a person's primary email address).
    First,
    /// `count(list)`: how many items are set.
    Count,
    /// `sum(list)` of numbers or amounts; empty items are left out.
    Sum,
    /// `avg(list)`: the mean of the items set; empty for none.
    Avg,
    /// `min(list)`: the least item set; empty for none.
    Min,
    /// `max(list)`: the greatest item set; empty for none.
    Max,
}

/// Expression forms.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ExprKind {
    /// A constant.
    Const {
        /// The value.
        value: Value,
    },
    /// A value read from a root through a path of fields (record references are
    /// followed: `company.name` is `[company, name]` on `Record`).
    Read {
        /// Where the path starts.
        root: Root,
        /// The fields, each with what the checker resolved it to.
        path: Vec<Field>,
    },
    /// The current time.
    Now,
    /// Today's date (in the schedule's zone, UTC otherwise).
    Today,
    /// `now` plus this many seconds (negative for `… ago`).
    Relative {
        /// Offset in seconds.
        seconds: i64,
    },
    /// A list built from expressions.
    List {
        /// Items.
        items: Vec<Expr>,
    },
    /// A JSON object built from expressions.
    Map {
        /// Entries in order.
        entries: Vec<(String, Expr)>,
    },
    /// A string with holes.
    Template {
        /// Pieces in order.
        parts: Vec<TemplatePart>,
    },
    /// A call of a built-in function.
    Call {
        /// Which function.
        function: Function,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `not x`.
    Not {
        /// Operand.
        operand: Box<Expr>,
    },
    /// `-x`.
    Neg {
        /// Operand.
        operand: Box<Expr>,
    },
    /// A binary operator.
    Binary {
        /// Operator.
        operator: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `is set`, `is empty`, …
    Test {
        /// Which test.
        test: TestOp,
        /// Operand.
        operand: Box<Expr>,
    },
    /// `x in list "…"`: whether a record has an entry in the list.
    InList {
        /// The record.
        operand: Box<Expr>,
        /// The list.
        list: String,
        /// `not in list`.
        negated: bool,
    },
}

/// One field of a read path as the checker resolved it, so no later stage looks a
/// name up again: the engine turns it into a slot or a key, lints read its type.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The name as written.
    pub name: String,
    /// The type of the value it reads.
    #[serde(rename = "type")]
    pub ty: Type,
    /// The object whose attribute this is; `None` for a field of a built-in or
    /// declared shape (`event.actor`, `payload.email`) or a key of JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_of: Option<String>,
}

impl Field {
    /// The attribute `name` of records of `object`, of type `ty`.
    pub fn attribute(object: &str, name: &str, ty: Type) -> Field {
        Field {
            name: name.to_string(),
            ty,
            attribute_of: Some(object.to_string()),
        }
    }
}

/// A path as written: its field names joined with dots.
pub fn dotted(path: &[Field]) -> String {
    join_dotted("", path.iter().map(|f| f.name.as_str()))
}

/// `prefix` followed by `names` joined with dots, in one allocation.
pub fn join_dotted<'a>(prefix: &str, names: impl Iterator<Item = &'a str> + Clone) -> String {
    let len = prefix.len() + names.clone().map(|n| n.len() + 1).sum::<usize>();
    let mut out = String::with_capacity(len);
    out.push_str(prefix);
    for (i, name) in names.enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(name);
    }
    out
}

/// A piece of a template string.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// An interpolated value.
    Hole(Expr),
}

/// A step with its source location and error policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Stable path of the step within the rule (`2`, `3.then.0`), part of idempotency keys.
    pub path: String,
    /// Where it is written.
    pub location: Location,
    /// `on error continue`.
    pub continue_on_error: bool,
    /// `retry n` (0 when not written).
    pub retry: u32,
    /// The action.
    pub action: Action,
}

/// Hashes what a step does; where it is written is left out.
impl std::hash::Hash for Step {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (&self.path, self.continue_on_error, self.retry, &self.action).hash(state);
    }
}

/// Actions of language.md §5.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Overwrite (or fill) an attribute of the record.
    Set {
        /// The record written when it is not the rule's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Target>,
        /// The attribute.
        attr: AttrRef,
        /// The new value.
        value: Expr,
        /// Only write when the attribute is empty.
        if_empty: bool,
    },
    /// Empty an attribute.
    Clear {
        /// The record written when it is not the rule's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Target>,
        /// The attribute.
        attr: AttrRef,
    },
    /// Add the record to a list.
    AddToList {
        /// The record added when it is not the rule's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Target>,
        /// The list.
        list: String,
    },
    /// Remove the record from a list.
    RemoveFromList {
        /// The record removed when it is not the rule's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Target>,
        /// The list.
        list: String,
    },
    /// Post to a Slack channel.
    SlackChannel {
        /// `#channel`.
        channel: String,
        /// Message (a default names the rule and links the record when absent).
        text: Option<Expr>,
        /// Idempotency key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<Expr>,
    },
    /// Direct-message a member on Slack.
    SlackDm {
        /// The member.
        member: Expr,
        /// Message.
        text: Option<Expr>,
        /// Idempotency key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<Expr>,
    },
    /// Send an email.
    Email {
        /// Recipient.
        to: Expr,
        /// Subject (inline emails).
        subject: Option<Expr>,
        /// Body (inline emails).
        body: Option<Expr>,
        /// Template id.
        template: Option<String>,
        /// Idempotency key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<Expr>,
    },
    /// Create a task linked to the record.
    CreateTask {
        /// Title.
        title: Expr,
        /// Assignee.
        assignee: Option<Expr>,
        /// Due time.
        due: Option<Expr>,
        /// Body.
        body: Option<Expr>,
        /// The record the task is linked to when it is not the rule's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Target>,
        /// Idempotency key.
        key: Option<Expr>,
        /// Binding.
        binding: Option<String>,
    },
    /// Create a record.
    Create {
        /// Object.
        object: String,
        /// Attribute values.
        fields: Vec<(String, Expr)>,
        /// Idempotency key.
        key: Option<Expr>,
        /// Binding.
        binding: Option<String>,
    },
    /// Look a record up; with `all`, every match as a list.
    Find {
        /// Object.
        object: String,
        /// Filter over the candidate's attributes.
        filter: Expr,
        /// Binding (may be empty).
        binding: String,
        /// `find all`: every match (up to `limit`), bound as a list of records.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        all: bool,
        /// `limit <n>` of `find all`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Run steps once for each item of a list, the item bound to a name.
    ForEach {
        /// The name bound to each item.
        binding: String,
        /// The list.
        list: Expr,
        /// The steps.
        steps: Vec<Step>,
    },
    /// Find by a unique attribute, else create.
    Upsert {
        /// Object.
        object: String,
        /// The unique attribute.
        by: String,
        /// Attribute values.
        fields: Vec<(String, Expr)>,
        /// Binding.
        binding: Option<String>,
    },
    /// An audit note on the record.
    Note {
        /// The record noted on when it is not the rule's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Target>,
        /// Title.
        title: Expr,
        /// Body.
        body: Option<Expr>,
    },
    /// Call an API.
    Http {
        /// Method.
        method: String,
        /// URL.
        url: Expr,
        /// Headers.
        headers: Vec<(String, Expr)>,
        /// Body.
        body: Option<Expr>,
        /// Idempotency key.
        key: Option<Expr>,
        /// Binding for the response body.
        binding: Option<String>,
    },
    /// Suspend for a duration.
    WaitFor {
        /// The duration.
        duration: Expr,
    },
    /// Suspend until a time.
    WaitUntil {
        /// The time.
        time: Expr,
    },
    /// Ask a member for approval.
    Ask {
        /// Who.
        member: Expr,
        /// The question.
        question: Expr,
        /// Timeout in seconds.
        timeout: Option<Expr>,
        /// Ends the rule's open question about the same record.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        replace: bool,
        /// Binding for the answer.
        binding: String,
    },
    /// Branch.
    If {
        /// `if`/`else if` branches in order.
        branches: Vec<Branch>,
        /// `else`.
        otherwise: Vec<Step>,
    },
    /// First-match routing.
    Route {
        /// Arms in order.
        arms: Vec<Branch>,
        /// `else =>`.
        otherwise: Vec<Step>,
    },
    /// End the run as completed.
    Stop,
    /// End the run as skipped.
    Skip {
        /// Why.
        reason: Option<String>,
    },
    /// A host-registered action.
    Custom {
        /// Action name.
        name: String,
        /// Arguments in declared order.
        args: Vec<(String, Expr)>,
        /// Idempotency key.
        key: Option<Expr>,
        /// Binding for its output.
        binding: Option<String>,
    },
}

impl Action {
    /// The name this step binds with `as`, if any.
    pub fn binding(&self) -> Option<&str> {
        match self {
            Action::CreateTask { binding, .. }
            | Action::Create { binding, .. }
            | Action::Upsert { binding, .. }
            | Action::Http { binding, .. }
            | Action::Custom { binding, .. } => binding.as_deref(),
            Action::Find { binding, .. }
            | Action::Ask { binding, .. }
            | Action::ForEach { binding, .. } => Some(binding),
            _ => None,
        }
    }
}

/// The record a step acts on when it is not the rule's own: a binding, a reference
/// (`company` in `set company.csm = …`), read when the step runs.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Its object.
    pub object: String,
    /// Its id: an expression of type `record(object)`.
    pub record: Expr,
}

impl Action {
    /// The blocks of steps nested in this one: each `if`/`route` branch, then the
    /// `else`; a `for each` body.
    pub fn blocks(&self) -> Vec<&[Step]> {
        match self {
            Action::If {
                branches,
                otherwise,
            }
            | Action::Route {
                arms: branches,
                otherwise,
            } => branches
                .iter()
                .map(|b| b.steps.as_slice())
                .chain([otherwise.as_slice()])
                .collect(),
            Action::ForEach { steps, .. } => vec![steps.as_slice()],
            _ => Vec::new(),
        }
    }

    /// The record the step acts on when it names one.
    pub fn target(&self) -> Option<&Target> {
        match self {
            Action::Set { target, .. }
            | Action::Clear { target, .. }
            | Action::AddToList { target, .. }
            | Action::RemoveFromList { target, .. }
            | Action::CreateTask { target, .. }
            | Action::Note { target, .. } => target.as_ref(),
            _ => None,
        }
    }
}

/// A guarded group of steps.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    /// The guard.
    pub condition: Expr,
    /// The steps.
    pub steps: Vec<Step>,
}

impl Expr {
    /// A constant of a type.
    pub fn constant(value: Value, ty: Type) -> Expr {
        Expr {
            ty,
            kind: ExprKind::Const { value },
        }
    }

    /// The constant value, if this expression is one.
    pub fn as_const(&self) -> Option<&Value> {
        match &self.kind {
            ExprKind::Const { value } => Some(value),
            _ => None,
        }
    }

    /// A read of the attribute `attr` of the rule's (or searched, or old) record of
    /// `object`, of type `ty`.
    pub fn attribute(root: Root, object: &str, attr: &str, ty: Type) -> Expr {
        Expr {
            ty: ty.clone(),
            kind: ExprKind::Read {
                root,
                path: vec![Field::attribute(object, attr, ty)],
            },
        }
    }

    /// The root and first field name of a read.
    pub fn read_head(&self) -> Option<(&Root, &str)> {
        match &self.kind {
            ExprKind::Read { root, path } => Some((root, path.first()?.name.as_str())),
            _ => None,
        }
    }
}
