//! Deciding whether a condition can ever hold, or always holds.
//!
//! Comparisons of one attribute with constants split that attribute's values into a
//! few regions: for `value > 10 and value < 5`, the regions below 5, 5, between 5 and
//! 10, 10, above 10, and empty. Within a region every comparison has the same outcome,
//! so evaluating the condition once per combination of regions decides it exactly.
//! Anything else (two attributes compared, functions, `contains`) becomes an opaque
//! true/false atom; treating atoms as independent only adds combinations, so a verdict
//! of "never" or "always" stays sound. Large spaces are not explored (no verdict).
//!
//! Empty values follow the language: a comparison with an empty value is false, except
//! `!=` and `not in`, which are true; `is set` / `is empty` test it.

use std::collections::BTreeMap;

use crate::ir::{Expr, ExprKind, Root, Value};
use crate::schema::Type;
use crate::syntax::ast::BinaryOp;

/// Combinations explored at most.
const MAX_COMBINATIONS: usize = 1 << 14;

/// What is known about a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No record satisfies it.
    Never,
    /// Every record whose compared attributes are set satisfies it.
    Always,
    /// Some records do and some do not, or the space was too large to tell.
    Depends,
}

/// A value one variable can take in one region.
#[derive(Clone, Debug, PartialEq)]
enum Sample {
    Empty,
    Number(f64),
    Text(String),
    /// Any text none of the constants equal.
    OtherText,
    Bool(bool),
    Option(u32),
}

/// A point a variable is compared with.
#[derive(Clone, Debug, PartialEq)]
enum Point {
    Number(f64),
    Text(String),
    Bool(bool),
    Option(u32),
}

/// A variable: an attribute read, with the constants it is compared to.
#[derive(Default)]
struct Variable {
    points: Vec<Point>,
    /// Options of a select/status attribute, so every option is a region.
    options: Option<u32>,
    /// Values are whole numbers (dates in days, times in seconds).
    integral: bool,
    compared: bool,
}

/// What the trigger guarantees whenever the condition is evaluated: `stage changed
/// to ClosedWon` means `stage` is `ClosedWon` now (and `old.stage` is one of the
/// `from` values).
pub fn trigger_facts(rule: &crate::ir::Rule, schema: &crate::schema::Schema) -> Vec<Expr> {
    let crate::ir::Trigger::Changed { attr, from, to } = &rule.trigger else {
        return Vec::new();
    };
    let Some(ty) = schema
        .object(&attr.object)
        .and_then(|o| o.attribute(&attr.attr))
        .map(|a| a.ty.clone())
    else {
        return Vec::new();
    };
    let fact = |root: Root, values: &[Value]| Expr {
        ty: Type::Checkbox,
        kind: ExprKind::Binary {
            operator: BinaryOp::In,
            lhs: Box::new(Expr::attribute(root, &attr.object, &attr.attr, ty.clone())),
            rhs: Box::new(Expr::constant(
                Value::List(values.to_vec()),
                Type::List(Box::new(ty.clone())),
            )),
        },
    };
    let mut facts = Vec::new();
    // `empty` in from/to is not a point; leave such sides unconstrained.
    if let Some(to) = to.as_ref().filter(|v| !v.contains(&Value::Empty)) {
        facts.push(fact(Root::Record, to));
    }
    if let Some(from) = from.as_ref().filter(|v| !v.contains(&Value::Empty)) {
        facts.push(fact(Root::Old, from));
    }
    facts
}

/// The verdict on `condition`, given extra facts that hold whenever it is evaluated
/// (e.g. the trigger's `changed to` values), which are and-ed in.
pub fn decide(condition: &Expr, facts: &[Expr]) -> Verdict {
    decide_in(condition, facts)
}

/// [`decide`] with the facts borrowed (a branch's context is its ancestors'
/// conditions, not copies of them).
pub fn decide_refs(condition: &Expr, facts: &[&Expr]) -> Verdict {
    decide_in(condition, facts)
}

fn decide_in<F: std::borrow::Borrow<Expr>>(condition: &Expr, facts: &[F]) -> Verdict {
    let mut space = Space::default();
    space.collect(condition);
    for fact in facts {
        space.collect(fact.borrow());
    }
    let Some(domains) = space.domains() else {
        return Verdict::Depends;
    };
    let mut total: usize = 1;
    for d in &domains {
        total = total.saturating_mul(d.len().max(1));
    }
    total = total.saturating_mul(
        1usize
            .checked_shl(space.atoms.len() as u32)
            .unwrap_or(usize::MAX),
    );
    if total > MAX_COMBINATIONS {
        return Verdict::Depends;
    }
    let compiled = space.compile(condition);
    let compiled_facts: Vec<Node> = facts.iter().map(|f| space.compile(f.borrow())).collect();
    let mut any_true = false;
    let mut all_true = true;
    let mut index = vec![0usize; domains.len()];
    loop {
        for atoms in 0..(1usize << space.atoms.len()) {
            let assignment = Assignment {
                domains: &domains,
                index: &index,
                atoms,
            };
            let facts_hold = compiled_facts
                .iter()
                .all(|f| assignment.eval(f) == Some(true));
            if !facts_hold {
                continue;
            }
            let holds = assignment.eval(&compiled) == Some(true);
            any_true |= holds;
            // "Always" is judged on records whose compared attributes are set: a
            // condition that only filters out empty values is still unconditioned.
            let all_set = space
                .variables
                .values()
                .zip(&index)
                .zip(&domains)
                .all(|((v, i), d)| !v.compared || d.get(*i) != Some(&Sample::Empty));
            if all_set && !holds {
                all_true = false;
            }
        }
        if !advance(&mut index, &domains) {
            break;
        }
    }
    if !any_true {
        Verdict::Never
    } else if all_true {
        Verdict::Always
    } else {
        Verdict::Depends
    }
}

fn advance(index: &mut [usize], domains: &[Vec<Sample>]) -> bool {
    for (i, d) in index.iter_mut().zip(domains) {
        *i += 1;
        if *i < d.len() {
            return true;
        }
        *i = 0;
    }
    false
}

#[derive(Default)]
struct Space<'e> {
    variables: BTreeMap<String, Variable>,
    /// Opaque sub-expressions; structurally equal ones are one atom.
    atoms: Vec<&'e Expr>,
    /// Each opaque node (by address) → its atom: evaluation looks atoms up per
    /// combination, so it must not serialize again.
    atom_of: rustc_hash::FxHashMap<usize, usize>,
}

/// The key of an attribute read that this analysis understands.
fn variable(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Read { root, path }
            if matches!(
                root,
                Root::Record | Root::Old | Root::Candidate | Root::Event
            ) =>
        {
            let prefix = match root {
                Root::Old => "old.",
                Root::Event => "event.",
                Root::Candidate => "candidate.",
                _ => "",
            };
            Some(crate::ir::join_dotted(
                prefix,
                path.iter().map(|f| f.name.as_str()),
            ))
        }
        _ => None,
    }
}

fn point(value: &Value) -> Option<Point> {
    Some(match value {
        Value::Number(n) => Point::Number(*n),
        Value::Text(t) => Point::Text(t.clone()),
        Value::Bool(b) => Point::Bool(*b),
        Value::Option { index, .. } => Point::Option(*index),
        Value::Date(d) => Point::Number(day_number(d)?),
        Value::Timestamp(t) => {
            Point::Number(chrono::DateTime::parse_from_rfc3339(t).ok()?.timestamp() as f64)
        }
        Value::Duration(s) => Point::Number(*s as f64),
        Value::Empty | Value::List(_) => return None,
    })
}

fn day_number(date: &str) -> Option<f64> {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    Some((d - epoch).num_days() as f64)
}

fn is_comparison(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::In
            | BinaryOp::NotIn
            | BinaryOp::Before
            | BinaryOp::After
    )
}

impl<'e> Space<'e> {
    fn var(&mut self, key: String, ty: &Type) -> &mut Variable {
        let v = self.variables.entry(key).or_default();
        if let Some(set) = ty.options() {
            v.options = Some(u32::try_from(set.options.len()).unwrap_or(u32::MAX));
        }
        v.integral |= matches!(ty, Type::Date | Type::Timestamp);
        v
    }

    fn atom(&mut self, e: &'e Expr) {
        let index = match self.atoms.iter().position(|a| same_atom(a, e)) {
            Some(i) => i,
            None => {
                self.atoms.push(e);
                self.atoms.len() - 1
            }
        };
        self.atom_of.insert(e as *const Expr as usize, index);
    }

    fn collect(&mut self, e: &'e Expr) {
        match &e.kind {
            ExprKind::Const { .. } => {}
            ExprKind::Not { operand } => self.collect(operand),
            ExprKind::Binary {
                operator: BinaryOp::And | BinaryOp::Or,
                lhs,
                rhs,
            } => {
                self.collect(lhs);
                self.collect(rhs);
            }
            ExprKind::Binary { operator, lhs, rhs } if is_comparison(*operator) => {
                let (var_side, const_side) = match (variable(lhs), variable(rhs)) {
                    (Some(k), None) => ((k, &lhs.ty), rhs),
                    (None, Some(k)) => ((k, &rhs.ty), lhs),
                    _ => return self.atom(e),
                };
                // Regions model one value per attribute; a multi-select or list holds
                // several at once (`tags = [a, b]`), so its comparisons stay opaque.
                if matches!(var_side.1, Type::MultiSelect(_) | Type::List(_)) {
                    return self.atom(e);
                }
                let points: Option<Vec<Point>> = match const_side.as_const() {
                    Some(Value::List(items))
                        if matches!(operator, BinaryOp::In | BinaryOp::NotIn) =>
                    {
                        items.iter().map(point).collect()
                    }
                    Some(v) if !matches!(operator, BinaryOp::In | BinaryOp::NotIn) => {
                        point(v).map(|p| vec![p])
                    }
                    _ => None,
                };
                let Some(points) = points else {
                    return self.atom(e);
                };
                let ty = var_side.1.clone();
                let v = self.var(var_side.0, &ty);
                v.compared = true;
                v.integral |= matches!(ty, Type::Date);
                for p in points {
                    if !v.points.contains(&p) {
                        v.points.push(p);
                    }
                }
            }
            ExprKind::Test { operand, .. } => match variable(operand) {
                Some(key) => {
                    let ty = operand.ty.clone();
                    self.var(key, &ty);
                }
                None => self.atom(e),
            },
            _ => self.atom(e),
        }
    }

    /// The regions of each variable, in `variables` order; `None` when a variable
    /// mixes kinds of constants (e.g. numbers and text) and cannot be split.
    fn domains(&self) -> Option<Vec<Vec<Sample>>> {
        self.variables.values().map(domain).collect()
    }
}

fn domain(v: &Variable) -> Option<Vec<Sample>> {
    let mut out = vec![Sample::Empty];
    if let Some(count) = v.options {
        out.extend((0..count).map(Sample::Option));
        return Some(out);
    }
    let all = |f: fn(&Point) -> bool| v.points.iter().all(f);
    if v.points.is_empty() {
        // Only tested with `is set`: one set value stands for all.
        out.push(Sample::OtherText);
    } else if all(|p| matches!(p, Point::Number(_))) {
        let mut xs: Vec<f64> = v
            .points
            .iter()
            .filter_map(|p| match p {
                Point::Number(n) => Some(*n),
                _ => None,
            })
            .collect();
        xs.sort_by(|a, b| a.total_cmp(b));
        xs.dedup();
        let (first, last) = (xs.first().copied()?, xs.last().copied()?);
        // Outside samples step by at least the magnitude: `1e300 + 1` is `1e300`.
        out.push(Sample::Number(first - (1.0 + first.abs())));
        for pair in xs.windows(2) {
            let (a, b) = (pair.first().copied()?, pair.get(1).copied()?);
            out.push(Sample::Number(a));
            let mid = if v.integral {
                (a + 1.0).min(b)
            } else {
                (a + b) / 2.0
            };
            if mid > a && mid < b {
                out.push(Sample::Number(mid));
            }
        }
        out.push(Sample::Number(last));
        out.push(Sample::Number(last + (1.0 + last.abs())));
    } else if all(|p| matches!(p, Point::Text(_))) {
        for p in &v.points {
            if let Point::Text(t) = p {
                out.push(Sample::Text(t.clone()));
            }
        }
        out.push(Sample::OtherText);
    } else if all(|p| matches!(p, Point::Bool(_))) {
        out.extend([Sample::Bool(false), Sample::Bool(true)]);
    } else if all(|p| matches!(p, Point::Option(_))) {
        let max = v
            .points
            .iter()
            .filter_map(|p| match p {
                Point::Option(i) => Some(*i),
                _ => None,
            })
            .max()?;
        out.extend((0..=max + 1).map(Sample::Option));
    } else {
        return None;
    }
    Some(out)
}

/// A condition compiled against a space, so evaluating one combination neither
/// allocates nor searches.
enum Node {
    Const(bool),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Compare {
        var: usize,
        op: BinaryOp,
        points: Vec<Point>,
    },
    IsSet {
        var: usize,
        wants_value: bool,
    },
    Atom(usize),
    /// Not a condition this space models.
    Unknown,
}

impl Space<'_> {
    fn var_index(&self, key: &str) -> Option<usize> {
        self.variables.keys().position(|k| k == key)
    }

    fn atom_node(&self, e: &Expr) -> Node {
        match self.atom_of.get(&(e as *const Expr as usize)) {
            Some(&i) => Node::Atom(i),
            None => Node::Unknown,
        }
    }

    fn compile(&self, e: &Expr) -> Node {
        match &e.kind {
            // `x not in list "L"` is the negation of the atom `x in list "L"`.
            ExprKind::InList { negated: true, .. } => Node::Not(Box::new(self.atom_node(e))),
            ExprKind::Const {
                value: Value::Bool(b),
            } => Node::Const(*b),
            ExprKind::Const { .. } => Node::Const(false),
            ExprKind::Not { operand } => Node::Not(Box::new(self.compile(operand))),
            ExprKind::Binary {
                operator: BinaryOp::And,
                lhs,
                rhs,
            } => Node::And(Box::new(self.compile(lhs)), Box::new(self.compile(rhs))),
            ExprKind::Binary {
                operator: BinaryOp::Or,
                lhs,
                rhs,
            } => Node::Or(Box::new(self.compile(lhs)), Box::new(self.compile(rhs))),
            ExprKind::Binary { operator, lhs, rhs } if is_comparison(*operator) => {
                let (key, constant, flipped) = match (variable(lhs), variable(rhs)) {
                    (Some(k), None) => (k, rhs, false),
                    (None, Some(k)) => (k, lhs, true),
                    _ => return self.atom_node(e),
                };
                let Some(var) = self.var_index(&key) else {
                    return self.atom_node(e);
                };
                let points: Vec<Point> = match constant.as_const() {
                    Some(Value::List(items)) => items.iter().filter_map(point).collect(),
                    Some(v) => match point(v) {
                        Some(p) => vec![p],
                        None => return self.atom_node(e),
                    },
                    None => return self.atom_node(e),
                };
                let op = if flipped { flip(*operator) } else { *operator };
                Node::Compare { var, op, points }
            }
            ExprKind::Test { test, operand } => {
                match variable(operand).and_then(|k| self.var_index(&k)) {
                    Some(var) => Node::IsSet {
                        var,
                        wants_value: test.wants_value(),
                    },
                    None => self.atom_node(e),
                }
            }
            _ => self.atom_node(e),
        }
    }
}

struct Assignment<'a> {
    domains: &'a [Vec<Sample>],
    index: &'a [usize],
    atoms: usize,
}

impl Assignment<'_> {
    fn sample(&self, var: usize) -> Option<&Sample> {
        self.domains.get(var)?.get(*self.index.get(var)?)
    }

    /// Evaluates a compiled condition; `None` when part of it is not modelled.
    fn eval(&self, node: &Node) -> Option<bool> {
        match node {
            Node::Const(b) => Some(*b),
            Node::Not(inner) => self.eval(inner).map(|b| !b),
            Node::And(l, r) => Some(self.eval(l)? && self.eval(r)?),
            Node::Or(l, r) => Some(self.eval(l)? || self.eval(r)?),
            Node::Compare { var, op, points } => Some(compare(self.sample(*var)?, *op, points)),
            Node::IsSet { var, wants_value } => {
                let empty = *self.sample(*var)? == Sample::Empty;
                Some(if *wants_value { !empty } else { empty })
            }
            Node::Atom(i) => Some(self.atoms & (1 << i) != 0),
            Node::Unknown => None,
        }
    }
}

fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Before => BinaryOp::After,
        BinaryOp::After => BinaryOp::Before,
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
    }
}

/// `sample op points` with the language's empty-value rules.
fn compare(sample: &Sample, op: BinaryOp, points: &[Point]) -> bool {
    let equal = |p: &Point| match (sample, p) {
        (Sample::Number(a), Point::Number(b)) => a == b,
        (Sample::Text(a), Point::Text(b)) => a == b,
        (Sample::Bool(a), Point::Bool(b)) => a == b,
        (Sample::Option(a), Point::Option(b)) => a == b,
        _ => false,
    };
    if *sample == Sample::Empty {
        return matches!(op, BinaryOp::Ne | BinaryOp::NotIn);
    }
    let order = |p: &Point| match (sample, p) {
        (Sample::Number(a), Point::Number(b)) => a.partial_cmp(b),
        (Sample::Option(a), Point::Option(b)) => Some(a.cmp(b)),
        _ => None,
    };
    let first = points.first();
    match op {
        BinaryOp::Eq => first.is_some_and(equal),
        BinaryOp::Ne => !first.is_some_and(equal),
        BinaryOp::In => points.iter().any(equal),
        BinaryOp::NotIn => !points.iter().any(equal),
        BinaryOp::Lt | BinaryOp::Before => first.and_then(order).is_some_and(|o| o.is_lt()),
        BinaryOp::Le => first.and_then(order).is_some_and(|o| o.is_le()),
        BinaryOp::Gt | BinaryOp::After => first.and_then(order).is_some_and(|o| o.is_gt()),
        BinaryOp::Ge => first.and_then(order).is_some_and(|o| o.is_ge()),
        _ => false,
    }
}

/// Whether two conditions are one atom: equal, or `x in list "L"` and `x not in
/// list "L"` (one atom, the second negated).
fn same_atom(a: &Expr, b: &Expr) -> bool {
    match (&a.kind, &b.kind) {
        (
            ExprKind::InList {
                operand: x,
                list: l,
                ..
            },
            ExprKind::InList {
                operand: y,
                list: m,
                ..
            },
        ) => x == y && l == m,
        _ => a == b,
    }
}
