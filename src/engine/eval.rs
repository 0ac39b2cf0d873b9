//! Evaluation of compiled expressions.
//!
//! Total by construction: the checker typed every expression, so a value of the wrong
//! shape can only be empty data, and empty data makes comparisons false (language.md
//! §4, "Empty values") instead of failing. Nothing here allocates for the common
//! conditions over numbers and options.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde_json::Value as Json;

use super::clock::Clock;
use super::event::Event;
use super::record::Record;
use super::value::{display, display_redacted, from_json, local_date, shift, Secret, Val};
use crate::ir::Function;
use crate::schema::Type;
use crate::syntax::ast::{BinaryOp, TestOp};

/// A compiled expression: names resolved to slots, paths to lookups.
#[derive(Clone, Debug)]
pub enum Node {
    /// A constant.
    Const(Val),
    /// An attribute of the rule's record.
    Slot(u16),
    /// An attribute's value before the event.
    OldSlot(u16),
    /// A longer path.
    Path(Box<Path>),
    /// The id of the rule's record (`record` as a value).
    RecordId,
    /// `event.id`
    EventId,
    /// `event.actor`
    EventActor,
    /// `event.source`
    EventSource,
    /// `event.duplicate`: the record merged into this one (`merged` events).
    EventDuplicate,
    /// `event.at`
    EventAt,
    /// `now`
    Now,
    /// `today`
    Today,
    /// `now` plus seconds.
    Relative(i64),
    /// A list.
    List(Box<[Node]>),
    /// A JSON object.
    Map(Box<[(String, Node, Type)]>),
    /// A template string.
    Template(Box<[Piece]>),
    /// A built-in function.
    Call(Function, Box<[(Node, Type)]>),
    /// `not`
    Not(Box<Node>),
    /// unary `-`
    Neg(Box<Node>),
    /// `and`, short-circuit.
    And(Box<(Node, Node)>),
    /// `or`, short-circuit.
    Or(Box<(Node, Node)>),
    /// Every other binary operator.
    Binary(BinaryOp, Box<(Node, Node)>),
    /// `is set`, `is empty`, …
    Test(TestOp, Box<Node>),
    /// `x in list "…"`: whether the record has an entry in the list.
    InList {
        /// The record (its id).
        record: Box<Node>,
        /// The list.
        list: Arc<str>,
        /// `not in list`.
        negated: bool,
    },
}

impl Node {
    /// Whether evaluating it may ask the [`World`] (reference paths, stateful or
    /// secret functions); the rest needs only the scope.
    pub fn needs_world(&self) -> bool {
        match self {
            Node::Path(_) | Node::Call(..) | Node::InList { .. } => true,
            Node::List(items) => items.iter().any(Node::needs_world),
            Node::Map(entries) => entries.iter().any(|(_, n, _)| n.needs_world()),
            Node::Template(pieces) => pieces
                .iter()
                .any(|p| matches!(p, Piece::Hole(n, _) if n.needs_world())),
            Node::Not(n) | Node::Neg(n) | Node::Test(_, n) => n.needs_world(),
            Node::And(pair) | Node::Or(pair) | Node::Binary(_, pair) => {
                pair.0.needs_world() || pair.1.needs_world()
            }
            _ => false,
        }
    }
}

/// A piece of a template.
#[derive(Clone, Debug)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A hole with the type its value is shown as.
    Hole(Node, Type),
}

/// A path through records, references and JSON.
#[derive(Clone, Debug)]
pub struct Path {
    /// Where it starts.
    pub root: PathRoot,
    /// The steps.
    pub steps: Vec<PathStep>,
}

/// Path roots.
#[derive(Clone, Copy, Debug)]
pub enum PathRoot {
    /// The rule's record.
    Record,
    /// Its old values.
    Old,
    /// The record `find … where` is testing.
    Candidate,
    /// An `as` binding, by index.
    Binding(u16),
    /// The webhook body.
    Payload,
    /// The activity of an activity trigger.
    Activity,
    /// The failing run of a meta-rule.
    Failure,
}

/// One step of a path.
#[derive(Clone, Debug)]
pub enum PathStep {
    /// Read a slot of the record at hand.
    Attr(u16),
    /// The value is a record id of `object`: read `slot` of that record.
    Deref {
        /// Object index.
        object: u16,
        /// Slot in that object.
        slot: u16,
    },
    /// Read a JSON field, typed.
    Field(String, Type),
}

/// What evaluation may ask of the engine: other records, secrets, cursors.
pub trait World {
    /// The current values of a record the engine knows.
    fn lookup(&mut self, object: u16, id: &str) -> Option<Record>;
    /// A secret's value; `None` when the host does not have it.
    fn secret(&mut self, name: &str) -> Option<String>;
    /// The next member of a team, fairly.
    fn round_robin(&mut self, team: &str) -> Val;
    /// The step cannot go on with a value it computed (`member("whoever")`): it fails
    /// with `message`.
    fn refuse(&mut self, _message: String) {}
    /// Whether a record has an entry in a list, as far as the engine knows.
    fn member(&mut self, _list: &str, _id: &str) -> bool {
        false
    }
    /// A template grew past [`MAX_TEXT`] (its text was cut there).
    fn too_long(&mut self) {}
    /// A text computed from a secret (`lower(secret("TOKEN"))`): to be scrubbed from
    /// error messages as the secret itself is.
    fn derived(&mut self, _text: &str) {}
}

/// The most text one template renders (1 MiB): a hundred thousand holes over a large
/// value must fail its step, not exhaust the host's memory.
pub const MAX_TEXT: usize = 1 << 20;

/// A world with no records, secrets or teams (conditions that need none).
pub struct NoWorld;

impl World for NoWorld {
    fn lookup(&mut self, _: u16, _: &str) -> Option<Record> {
        None
    }
    fn secret(&mut self, _: &str) -> Option<String> {
        None
    }
    fn round_robin(&mut self, _: &str) -> Val {
        Val::Empty
    }
}

/// The names in scope for one evaluation.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// The rule's record, current values.
    pub record: Option<&'a Record>,
    /// The rule's record's id.
    pub record_id: Option<&'a str>,
    /// Values before the event.
    pub old: Option<&'a Record>,
    /// The event.
    pub event: Option<&'a Event>,
    /// The failing run (`failure.`).
    pub failure: Option<&'a Json>,
    /// The record a `find` is testing.
    pub candidate: Option<&'a Record>,
    /// `as` bindings by index.
    pub bindings: &'a [Val],
    /// The current time.
    pub now: Now<'a>,
    /// The zone `today` is read in.
    pub zone: Tz,
}

/// The instant an evaluation happens at, read from the clock or turned into a
/// date-time only when an expression asks: most conditions never do, and reading and
/// converting the time costs more than the rest of a typical condition.
#[derive(Clone, Copy)]
pub enum Now<'a> {
    /// A fixed instant, in microseconds since the Unix epoch.
    At(i64),
    /// Whatever the clock says when asked.
    Clock(&'a dyn Clock),
}

impl Now<'_> {
    /// As a date-time.
    pub fn get(self) -> DateTime<Utc> {
        match self {
            Now::At(micros) => DateTime::from_timestamp_micros(micros).unwrap_or_default(),
            Now::Clock(clock) => clock.now(),
        }
    }
}

impl From<DateTime<Utc>> for Now<'_> {
    fn from(at: DateTime<Utc>) -> Self {
        Now::At(at.timestamp_micros())
    }
}

impl<'a> Scope<'a> {
    /// A scope over a record and its old values.
    pub fn new(now: impl Into<Now<'a>>) -> Scope<'a> {
        Scope {
            record: None,
            record_id: None,
            old: None,
            event: None,
            failure: None,
            candidate: None,
            bindings: &[],
            now: now.into(),
            zone: Tz::UTC,
        }
    }
}

/// Evaluates a condition: only `true` is true.
pub fn holds(node: &Node, scope: &Scope, world: &mut dyn World) -> bool {
    use std::cmp::Ordering::{Greater, Less};
    use BinaryOp as B;
    // Conditions are mostly `and`s of comparisons: answer those without building
    // intermediate values.
    match node {
        Node::And(pair) => holds(&pair.0, scope, world) && holds(&pair.1, scope, world),
        Node::Or(pair) => holds(&pair.0, scope, world) || holds(&pair.1, scope, world),
        Node::Binary(op @ (B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge), pair) => {
            let l = operand(&pair.0, scope, world);
            let r = operand(&pair.1, scope, world);
            // A comparison's answer is a checkbox, not the secret: compare the real values.
            let (l, r) = (l.revealed(), r.revealed());
            let (l, r) = in_zone(l, r, scope.zone);
            let (l, r) = (l.as_ref(), r.as_ref());
            match op {
                B::Eq => equal(l, r),
                B::Ne => !equal(l, r),
                _ => order(l, r).is_some_and(|o| match op {
                    B::Lt => o == Less,
                    B::Le => o != Greater,
                    B::Gt => o == Greater,
                    _ => o != Less,
                }),
            }
        }
        _ => matches!(eval(node, scope, world), Val::Bool(true)),
    }
}

/// Evaluates an expression.
pub fn eval(node: &Node, scope: &Scope, world: &mut dyn World) -> Val {
    match node {
        Node::Const(v) => v.clone(),
        Node::Slot(slot) => scope
            .record
            .map(|r| r.get(*slot).clone())
            .unwrap_or(Val::Empty),
        Node::OldSlot(slot) => scope
            .old
            .map(|r| r.get(*slot).clone())
            .unwrap_or(Val::Empty),
        Node::Path(path) => eval_path(path, scope, world),
        Node::RecordId => scope.record_id.map(Val::text).unwrap_or(Val::Empty),
        Node::EventId => scope
            .event
            .map(|e| Val::Text(e.id.clone()))
            .unwrap_or(Val::Empty),
        Node::EventActor => scope.event.map(|e| e.actor.clone()).unwrap_or(Val::Empty),
        Node::EventSource => scope.event.map(|e| e.source.clone()).unwrap_or(Val::Empty),
        Node::EventAt => scope.event.map(|e| Val::Time(e.at)).unwrap_or(Val::Empty),
        Node::EventDuplicate => scope
            .event
            .and_then(|e| e.duplicate.as_deref())
            .map(Val::text)
            .unwrap_or(Val::Empty),
        Node::Now => Val::Time(scope.now.get()),
        Node::Today => local_date(scope.now.get(), &scope.zone)
            .map(Val::Date)
            .unwrap_or(Val::Empty),
        Node::Relative(seconds) => shift(scope.now.get(), *seconds)
            .map(Val::Time)
            .unwrap_or(Val::Empty),
        Node::List(items) => Val::List(items.iter().map(|n| eval(n, scope, world)).collect()),
        Node::Map(entries) => {
            let mut map = serde_json::Map::new();
            let mut secret = false;
            let mut redacted = serde_json::Map::new();
            for (key, node, ty) in entries.iter() {
                let v = eval(node, scope, world);
                secret |= v.holds_secret();
                map.insert(key.clone(), super::value::to_json(&v, ty, true));
                redacted.insert(key.clone(), super::value::to_json(&v, ty, false));
            }
            let real = Val::Json(Arc::new(Json::Object(map)));
            if secret {
                // Redacted field by field, however deep: `{"auth": {"token": "***"}}`.
                Val::Secret(Arc::new(Secret {
                    redacted: Json::Object(redacted),
                    value: real,
                }))
            } else {
                real
            }
        }
        Node::Template(pieces) => template(pieces, scope, world, None),
        Node::Call(function, args) => call(*function, args, scope, world),
        Node::Not(operand) => match eval(operand, scope, world) {
            Val::Bool(b) => Val::Bool(!b),
            _ => Val::Bool(true),
        },
        Node::Neg(operand) => {
            let v = eval(operand, scope, world);
            let negated = match v.revealed() {
                Val::Number(n) => Val::Number(-n),
                Val::Duration(d) => Val::Duration(-d),
                _ => Val::Empty,
            };
            match v {
                Val::Secret(_) => derived(negated, world),
                _ => negated,
            }
        }
        Node::And(pair) => Val::Bool(holds(&pair.0, scope, world) && holds(&pair.1, scope, world)),
        Node::Or(pair) => Val::Bool(holds(&pair.0, scope, world) || holds(&pair.1, scope, world)),
        Node::Binary(op, pair) => {
            let l = operand(&pair.0, scope, world);
            let r = operand(&pair.1, scope, world);
            match (l.as_ref(), r.as_ref()) {
                (Val::Secret(_), _) | (_, Val::Secret(_)) => {
                    match binary(*op, l.revealed(), r.revealed(), scope.now) {
                        // A comparison's answer is not the secret; `secret + "x"` is.
                        answer @ Val::Bool(_) => answer,
                        computed => derived(computed, world),
                    }
                }
                _ if matches!(
                    op,
                    BinaryOp::Eq
                        | BinaryOp::Ne
                        | BinaryOp::Lt
                        | BinaryOp::Le
                        | BinaryOp::Gt
                        | BinaryOp::Ge
                        | BinaryOp::Before
                        | BinaryOp::After
                        | BinaryOp::WithinLast
                        | BinaryOp::WithinNext
                ) =>
                {
                    let (l, r) = in_zone(&l, &r, scope.zone);
                    binary(*op, &l, &r, scope.now)
                }
                _ => binary(*op, &l, &r, scope.now),
            }
        }
        Node::Test(op, operand) => {
            let empty = eval(operand, scope, world).is_empty();
            Val::Bool(if op.wants_value() { !empty } else { empty })
        }
        Node::InList {
            record,
            list,
            negated,
        } => {
            let inside = match eval(record, scope, world).as_text() {
                Some(id) => world.member(list, id),
                None => false,
            };
            Val::Bool(inside != *negated)
        }
    }
}

static EMPTY: Val = Val::Empty;

/// An operand of a comparison: attributes and constants are borrowed, not cloned,
/// because most conditions compare exactly those.
fn operand<'s>(node: &'s Node, scope: &'s Scope, world: &mut dyn World) -> Cow<'s, Val> {
    match node {
        Node::Const(v) => Cow::Borrowed(v),
        Node::Slot(slot) => Cow::Borrowed(scope.record.map_or(&EMPTY, |r| r.get(*slot))),
        Node::OldSlot(slot) => Cow::Borrowed(scope.old.map_or(&EMPTY, |r| r.get(*slot))),
        _ => Cow::Owned(eval(node, scope, world)),
    }
}

/// Builds a template's text; `escape` rewrites interpolated values (Slack's `<`, `>`
/// and `&`) so record data cannot become markup.
pub fn template(
    pieces: &[Piece],
    scope: &Scope,
    world: &mut dyn World,
    escape: Option<fn(&str, &mut String)>,
) -> Val {
    let mut out = String::new();
    let mut redacted: Option<String> = None;
    for piece in pieces {
        if out.len() > MAX_TEXT {
            world.too_long();
            break;
        }
        match piece {
            Piece::Text(text) => {
                out.push_str(text);
                if let Some(r) = &mut redacted {
                    r.push_str(text);
                }
            }
            Piece::Hole(node, ty) => {
                let value = eval(node, scope, world);
                if value.holds_secret() {
                    // From here on the text holds a secret: keep a redacted twin.
                    let r = redacted.get_or_insert_with(|| out.clone());
                    display_redacted(&value, ty, r);
                    display(&value, ty, &mut out);
                    continue;
                }
                let mut shown = String::new();
                display(&value, ty, &mut shown);
                match escape {
                    Some(escape) => {
                        let start = out.len();
                        escape(&shown, &mut out);
                        if let Some(r) = &mut redacted {
                            r.push_str(&out[start..]);
                        }
                    }
                    None => {
                        out.push_str(&shown);
                        if let Some(r) = &mut redacted {
                            r.push_str(&shown);
                        }
                    }
                }
            }
        }
    }
    match redacted {
        Some(redacted) => Val::Secret(Arc::new(Secret {
            redacted: Json::String(redacted),
            value: Val::Text(Arc::from(out)),
        })),
        None => Val::Text(Arc::from(out)),
    }
}

fn eval_path(path: &Path, scope: &Scope, world: &mut dyn World) -> Val {
    let mut steps = path.steps.iter();
    let mut current = match path.root {
        PathRoot::Record | PathRoot::Old | PathRoot::Candidate => {
            let record = match path.root {
                PathRoot::Record => scope.record,
                PathRoot::Old => scope.old,
                _ => scope.candidate,
            };
            match (record, steps.next()) {
                (Some(record), Some(PathStep::Attr(slot))) => record.get(*slot).clone(),
                _ => return Val::Empty,
            }
        }
        PathRoot::Binding(i) => scope
            .bindings
            .get(i as usize)
            .cloned()
            .unwrap_or(Val::Empty),
        PathRoot::Payload => scope
            .event
            .and_then(|e| e.payload.clone())
            .map(Val::Json)
            .unwrap_or(Val::Empty),
        PathRoot::Activity => scope
            .event
            .and_then(|e| e.activity.clone())
            .map(Val::Json)
            .unwrap_or(Val::Empty),
        PathRoot::Failure => scope
            .failure
            .map(|f| Val::Json(Arc::new(f.clone())))
            .unwrap_or(Val::Empty),
    };
    for step in steps {
        current = match step {
            PathStep::Attr(_) => Val::Empty,
            PathStep::Deref { object, slot } => match &current {
                // Through a list of records (`open_deals.value`): each one's, as one list.
                Val::List(ids) => {
                    let mut out = Vec::new();
                    for id in ids.iter().filter_map(Val::as_text) {
                        match world.lookup(*object, id).map(|r| r.get(*slot).clone()) {
                            Some(Val::List(inner)) => out.extend(inner.iter().cloned()),
                            Some(Val::Empty) | None => {}
                            Some(one) => out.push(one),
                        }
                    }
                    Val::List(out.into())
                }
                _ => match current.as_text() {
                    Some(id) => world
                        .lookup(*object, id)
                        .map(|r| r.get(*slot).clone())
                        .unwrap_or(Val::Empty),
                    None => Val::Empty,
                },
            },
            PathStep::Field(name, ty) => match &current {
                Val::Json(json) => json
                    .get(name)
                    .and_then(|v| from_json(v, ty).ok())
                    .unwrap_or(Val::Empty),
                _ => Val::Empty,
            },
        };
        if matches!(current, Val::Empty) {
            break;
        }
    }
    current
}

/// One plain address, `user@host.tld`: no spaces, names or second addresses.
fn is_email(text: &str) -> bool {
    let Some((user, host)) = text.split_once('@') else {
        return false;
    };
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || "._%+-'".contains(c))
    };
    plain(user)
        && plain(host)
        && host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
}

/// Every byte but the unreserved ones (RFC 3986) percent-encoded, for a value put in
/// a link written in a message (`https://x.com/search?q={{url_encode(name)}}`).
fn url_encode(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            other => {
                let _ = write!(out, "%{other:02X}");
            }
        }
    }
    out
}

/// `ada lovelace-byron` → `Ada Lovelace-Byron`: every letter after a non-letter is
/// upper-cased; the rest is kept as written (`McDonald` stays).
fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric() && c != '\'';
    }
    out
}

/// A function's result: computed from the real values of its arguments, and a secret
/// itself when any argument it read was one.
fn call(function: Function, args: &[(Node, Type)], scope: &Scope, world: &mut dyn World) -> Val {
    let mut secret = false;
    let result = compute(function, args, scope, &mut *world, &mut secret);
    if secret {
        derived(result, world)
    } else {
        result
    }
}

/// A value computed from a secret is a secret: shown as `***`, and its text scrubbed
/// from error messages as the secret's own is. Empty stays empty (`domain(…)` of a
/// secret without `@`): nothing of the secret is in it.
fn derived(value: Val, world: &mut dyn World) -> Val {
    if value.is_empty() || matches!(value, Val::Secret(_)) {
        return value;
    }
    let mut text = String::new();
    display(&value, &Type::Text, &mut text);
    world.derived(&text);
    Val::Secret(Arc::new(Secret::hidden(value)))
}

/// The function itself, on its arguments' real values; `secret` is set when it read a
/// secret.
fn compute(
    function: Function,
    args: &[(Node, Type)],
    scope: &Scope,
    world: &mut dyn World,
    secret: &mut bool,
) -> Val {
    let mut arg = |i: usize| match args.get(i).map(|(n, _)| eval(n, scope, world)) {
        Some(Val::Secret(s)) => {
            *secret = true;
            s.value.clone()
        }
        Some(v) => v,
        None => Val::Empty,
    };
    let text_map = |v: Val, f: &dyn Fn(&str) -> String| match v.as_text() {
        Some(s) => Val::Text(Arc::from(f(s))),
        None => Val::Empty,
    };
    match function {
        Function::Lower => text_map(arg(0), &|s| s.to_lowercase()),
        Function::Upper => text_map(arg(0), &|s| s.to_uppercase()),
        Function::Trim => text_map(arg(0), &|s| s.trim().to_string()),
        Function::Capitalize => text_map(arg(0), &|s| {
            let mut chars = s.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        }),
        Function::TitleCase => text_map(arg(0), &title_case),
        Function::UrlEncode => text_map(arg(0), &url_encode),
        Function::Member => {
            let given = arg(0);
            let text = given.as_text().map(str::trim).unwrap_or_default();
            if is_email(text) {
                Val::text(text)
            } else {
                world.refuse(if text.is_empty() {
                    "no member was named (the answer is empty)".to_string()
                } else {
                    format!("\"{text}\" is not a member's email address")
                });
                Val::Empty
            }
        }
        Function::Domain => {
            let address = match arg(0) {
                Val::List(items) => items.first().cloned().unwrap_or(Val::Empty),
                one => one,
            };
            match address.as_text().and_then(|s| s.trim().rsplit_once('@')) {
                Some((_, domain)) if !domain.is_empty() => Val::text(&domain.to_lowercase()),
                _ => Val::Empty,
            }
        }
        Function::First => match arg(0) {
            Val::List(items) => items.first().cloned().unwrap_or(Val::Empty),
            _ => Val::Empty,
        },
        Function::Len => match arg(0) {
            Val::Text(s) => Val::Number(s.chars().count() as f64),
            Val::List(items) => Val::Number(items.len() as f64),
            Val::Options(items) => Val::Number(items.len() as f64),
            Val::Empty => Val::Number(0.0),
            _ => Val::Empty,
        },
        Function::Coalesce => {
            let first = arg(0);
            if first.is_empty() {
                arg(1)
            } else {
                first
            }
        }
        Function::DaysBetween => match (arg(0).as_time(), arg(1).as_time()) {
            (Some(a), Some(b)) => Val::Number((b - a).num_days() as f64),
            _ => Val::Empty,
        },
        Function::NextBusinessDay => {
            let from = if args.is_empty() {
                local_date(scope.now.get(), &scope.zone)
            } else {
                match arg(0) {
                    Val::Date(d) => Some(d),
                    Val::Time(t) => local_date(t, &scope.zone),
                    _ => None,
                }
            };
            from.map(next_business_day)
                .map(Val::Date)
                .unwrap_or(Val::Empty)
        }
        Function::RoundRobin => match &args.first() {
            Some((Node::Const(Val::Text(team)), _)) => world.round_robin(team),
            _ => Val::Empty,
        },
        Function::Secret => match &args.first() {
            Some((Node::Const(Val::Text(name)), _)) => match world.secret(name) {
                Some(value) => Val::Secret(Arc::new(Secret::hidden(Val::text(&value)))),
                None => Val::Empty,
            },
            _ => Val::Empty,
        },
        Function::Count | Function::Sum | Function::Avg | Function::Min | Function::Max => {
            aggregate(function, &arg(0))
        }
    }
}

/// `count`, `sum`, `avg`, `min`, `max` over a list's items that are set: an empty
/// item (a deal without a value) counts as no item, as in a spreadsheet.
fn aggregate(function: Function, list: &Val) -> Val {
    let set: Vec<Val> = items(list).filter(|v| !v.is_empty()).collect();
    let numbers = || {
        set.iter().filter_map(|v| match v {
            Val::Number(n) => Some(*n),
            Val::Json(j) => j.as_f64(),
            _ => None,
        })
    };
    match function {
        Function::Count => Val::Number(set.len() as f64),
        Function::Sum => Val::Number(numbers().sum()),
        Function::Avg => match numbers().count() {
            0 => Val::Empty,
            n => Val::Number(numbers().sum::<f64>() / n as f64),
        },
        _ => {
            let want = if function == Function::Min {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            };
            let mut best: Option<&Val> = None;
            for v in &set {
                match best {
                    Some(b) if order(v, b) != Some(want) => {}
                    _ => best = Some(v),
                }
            }
            best.cloned().unwrap_or(Val::Empty)
        }
    }
}

fn next_business_day(from: NaiveDate) -> NaiveDate {
    let mut day = from;
    loop {
        day = day.succ_opt().unwrap_or(day);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            return day;
        }
    }
}

/// Equality as rules see it: empty equals only empty.
pub fn equal(l: &Val, r: &Val) -> bool {
    match (l, r) {
        (Val::Empty, Val::Empty) => true,
        (Val::Empty, _) | (_, Val::Empty) => false,
        (Val::Number(a), Val::Number(b)) => a == b,
        (Val::Option(a), Val::Option(b)) => a == b,
        (Val::Bool(a), Val::Bool(b)) => a == b,
        (Val::Duration(a), Val::Duration(b)) => a == b,
        (Val::Date(a), Val::Date(b)) => a == b,
        (Val::Options(a), Val::Option(b)) | (Val::Option(b), Val::Options(a)) => {
            a.len() == 1 && a[0] == *b
        }
        // A multi-select is a set: the same options in any order are equal.
        (Val::Options(_), Val::Options(_) | Val::List(_)) | (Val::List(_), Val::Options(_)) => {
            let set = |v: &Val| {
                let mut options = items(v)
                    .map(|i| match i {
                        Val::Option(o) => Some(o),
                        _ => None,
                    })
                    .collect::<Option<Vec<u32>>>()?;
                options.sort_unstable();
                options.dedup();
                Some(options)
            };
            matches!((set(l), set(r)), (Some(a), Some(b)) if a == b)
        }
        (Val::List(a), Val::List(b)) => {
            a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| equal(x, y))
        }
        (Val::Json(a), Val::Json(b)) => a == b,
        (Val::Json(j), other) | (other, Val::Json(j)) => match (j.as_ref(), other) {
            (Json::String(s), v) => v.as_text() == Some(s.as_str()),
            (Json::Number(n), Val::Number(b)) => n.as_f64() == Some(*b),
            (Json::Bool(a), Val::Bool(b)) => a == b,
            _ => false,
        },
        _ => match (l.as_time(), r.as_time()) {
            (Some(a), Some(b)) if !matches!((l, r), (Val::Text(_), _) | (_, Val::Text(_))) => {
                a == b
            }
            _ => match (l.as_text(), r.as_text()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        },
    }
}

#[inline]
/// A date met with a time is the start of that day where the rule lives (the
/// workspace's or the schedule's zone), not UTC midnight: `close_date < now` turns
/// true at local midnight.
fn in_zone<'v>(l: &'v Val, r: &'v Val, zone: Tz) -> (Cow<'v, Val>, Cow<'v, Val>) {
    let start = |d: &NaiveDate| {
        Cow::Owned(Val::Time(super::schedule::instant(
            zone,
            d.and_time(chrono::NaiveTime::MIN),
        )))
    };
    match (l, r) {
        (Val::Date(d), Val::Time(_) | Val::Duration(_)) if zone != Tz::UTC => {
            (start(d), Cow::Borrowed(r))
        }
        (Val::Time(_), Val::Date(d)) if zone != Tz::UTC => (Cow::Borrowed(l), start(d)),
        _ => (Cow::Borrowed(l), Cow::Borrowed(r)),
    }
}

fn order(l: &Val, r: &Val) -> Option<std::cmp::Ordering> {
    match (l, r) {
        (Val::Number(a), Val::Number(b)) => a.partial_cmp(b),
        (Val::Option(a), Val::Option(b)) => Some(a.cmp(b)),
        (Val::Duration(a), Val::Duration(b)) => Some(a.cmp(b)),
        (Val::Json(j), Val::Number(b)) => j.as_f64().and_then(|a| a.partial_cmp(b)),
        (Val::Number(a), Val::Json(j)) => j.as_f64().and_then(|b| a.partial_cmp(&b)),
        _ => match (l.as_time(), r.as_time()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => None,
        },
    }
}

/// The values of a list (a multi-select's options one by one); one value is a list of one.
fn items(list: &Val) -> impl Iterator<Item = Val> + '_ {
    let (list, options, one): (&[Val], &[u32], Option<&Val>) = match list {
        Val::List(items) => (items, &[], None),
        Val::Options(options) => (&[], options, None),
        Val::Empty => (&[], &[], None),
        other => (&[], &[], Some(other)),
    };
    list.iter()
        .cloned()
        .chain(options.iter().map(|o| Val::Option(*o)))
        .chain(one.cloned())
}

fn contains(l: &Val, r: &Val) -> bool {
    match (l, r) {
        (_, Val::Empty) | (Val::Empty, _) => false,
        (Val::List(items), item) => items.iter().any(|x| equal(x, item)),
        (Val::Options(items), Val::Option(o)) => items.contains(o),
        _ => match (l.as_text(), r.as_text()) {
            (Some(a), Some(b)) => a.contains(b),
            _ => false,
        },
    }
}

/// `l op r` for every operator but `and`/`or`.
pub fn binary<'a>(op: BinaryOp, l: &Val, r: &Val, now: impl Into<Now<'a>>) -> Val {
    use std::cmp::Ordering::*;
    use BinaryOp as B;
    let cmp =
        |accept: &[std::cmp::Ordering]| Val::Bool(order(l, r).is_some_and(|o| accept.contains(&o)));
    match op {
        B::And => Val::Bool(matches!((l, r), (Val::Bool(true), Val::Bool(true)))),
        B::Or => Val::Bool(matches!(l, Val::Bool(true)) || matches!(r, Val::Bool(true))),
        B::Eq => Val::Bool(equal(l, r)),
        B::Ne => Val::Bool(!equal(l, r)),
        B::Lt | B::Before => cmp(&[Less]),
        B::Le => cmp(&[Less, Equal]),
        B::Gt | B::After => cmp(&[Greater]),
        B::Ge => cmp(&[Greater, Equal]),
        B::In => Val::Bool(!matches!(l, Val::Empty) && contains(r, l)),
        B::NotIn => Val::Bool(matches!(l, Val::Empty) || !contains(r, l)),
        B::Contains => Val::Bool(contains(l, r)),
        B::ContainsAny => Val::Bool(items(r).any(|item| contains(l, &item))),
        B::ContainsAll => Val::Bool({
            let mut wanted = items(r).peekable();
            wanted.peek().is_some() && wanted.all(|item| contains(l, &item))
        }),
        B::StartsWith | B::EndsWith => Val::Bool(match (l.as_text(), r.as_text()) {
            (Some(a), Some(b)) if op == B::StartsWith => a.starts_with(b),
            (Some(a), Some(b)) => a.ends_with(b),
            _ => false,
        }),
        B::WithinLast | B::WithinNext => match (l.as_time(), r) {
            (Some(t), Val::Duration(d)) => {
                let now = now.into().get();
                // A window past the ends of time reaches to them.
                Val::Bool(if op == B::WithinLast {
                    shift(now, d.saturating_neg()).is_none_or(|from| t >= from) && t <= now
                } else {
                    t >= now && shift(now, *d).is_none_or(|to| t <= to)
                })
            }
            _ => Val::Bool(false),
        },
        B::Add | B::Sub | B::Mul | B::Div => arithmetic(op, l, r),
    }
}

fn arithmetic(op: BinaryOp, l: &Val, r: &Val) -> Val {
    use BinaryOp as B;
    match (op, l, r) {
        (B::Add, Val::Number(a), Val::Number(b)) => Val::Number(a + b),
        (B::Sub, Val::Number(a), Val::Number(b)) => Val::Number(a - b),
        (B::Mul, Val::Number(a), Val::Number(b)) => Val::Number(a * b),
        (B::Div, Val::Number(a), Val::Number(b)) if *b != 0.0 => Val::Number(a / b),
        (B::Add, Val::Duration(a), Val::Duration(b)) => Val::Duration(a.saturating_add(*b)),
        (B::Sub, Val::Duration(a), Val::Duration(b)) => Val::Duration(a.saturating_sub(*b)),
        (B::Mul, Val::Duration(d), Val::Number(n)) | (B::Mul, Val::Number(n), Val::Duration(d)) => {
            Val::Duration((*d as f64 * n) as i64)
        }
        (B::Div, Val::Duration(d), Val::Number(n)) if *n != 0.0 => {
            Val::Duration((*d as f64 / n) as i64)
        }
        (B::Add | B::Sub, Val::Date(date), Val::Duration(d)) => {
            let d = if op == B::Add { *d } else { d.saturating_neg() };
            Duration::try_seconds(d)
                .and_then(|d| date.checked_add_signed(d))
                .map(Val::Date)
                .unwrap_or(Val::Empty)
        }
        (B::Add | B::Sub, Val::Time(t), Val::Duration(d)) => {
            let d = if op == B::Add { *d } else { d.saturating_neg() };
            shift(*t, d).map(Val::Time).unwrap_or(Val::Empty)
        }
        (B::Add, Val::Duration(_), Val::Time(_) | Val::Date(_)) => arithmetic(op, r, l),
        (B::Sub, a, b) if a.as_time().is_some() && b.as_time().is_some() => {
            match (a.as_time(), b.as_time()) {
                (Some(a), Some(b)) => Val::Duration((a - b).num_seconds()),
                _ => Val::Empty,
            }
        }
        (B::Add, a, b) => match (a.as_text(), b.as_text()) {
            (Some(x), Some(y)) => Val::Text(Arc::from(format!("{x}{y}"))),
            _ => Val::Empty,
        },
        _ => Val::Empty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        super::super::value::parse_time("2026-11-02T10:00:00Z").unwrap()
    }

    #[test]
    fn empty_makes_comparisons_false_but_not_inequality() {
        let e = Val::Empty;
        let n = Val::Number(5.0);
        assert_eq!(binary(BinaryOp::Gt, &e, &n, now()), Val::Bool(false));
        assert_eq!(binary(BinaryOp::Lt, &e, &n, now()), Val::Bool(false));
        assert_eq!(binary(BinaryOp::Eq, &e, &n, now()), Val::Bool(false));
        assert_eq!(binary(BinaryOp::Ne, &e, &n, now()), Val::Bool(true));
        assert_eq!(
            binary(
                BinaryOp::NotIn,
                &e,
                &Val::List(Arc::new([n.clone()])),
                now()
            ),
            Val::Bool(true)
        );
        assert_eq!(
            binary(BinaryOp::Eq, &e, &Val::Empty, now()),
            Val::Bool(true)
        );
    }

    #[test]
    fn within_last_is_a_window_ending_now() {
        let day = Val::Duration(86_400);
        let hour_ago = Val::Time(now() - Duration::hours(1));
        let week_ago = Val::Time(now() - Duration::days(7));
        assert_eq!(
            binary(BinaryOp::WithinLast, &hour_ago, &day, now()),
            Val::Bool(true)
        );
        assert_eq!(
            binary(BinaryOp::WithinLast, &week_ago, &day, now()),
            Val::Bool(false)
        );
        assert_eq!(
            binary(BinaryOp::WithinNext, &hour_ago, &day, now()),
            Val::Bool(false)
        );
    }

    #[test]
    fn dates_compare_with_timestamps() {
        let date = Val::Date(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert_eq!(
            binary(BinaryOp::Before, &date, &Val::Time(now()), now()),
            Val::Bool(true)
        );
    }

    #[test]
    fn business_days_skip_weekends() {
        let friday = NaiveDate::from_ymd_opt(2026, 11, 6).unwrap();
        assert_eq!(
            next_business_day(friday),
            NaiveDate::from_ymd_opt(2026, 11, 9).unwrap()
        );
    }
}
