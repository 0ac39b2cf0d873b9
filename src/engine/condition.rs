//! Conditions compiled to closures.
//!
//! Most conditions are `and`s and `or`s of an attribute compared with a constant
//! (`value > 10000`, `stage = ClosedWon`, `owner is set`). Walking [`Node`]s for them
//! costs a dispatch on the node, one on each value and one on the operator; here each
//! comparison becomes a closure that knows its slot, its operator and its constant's
//! type, so the common case is a load and one compare. Any other shape, and any value
//! the fast path does not expect (empty, a secret, JSON), goes to [`eval::holds`] on
//! the original node, so the answer is the tree-walker's by construction — a property
//! test holds the two together.

use std::cmp::Ordering;
use std::fmt;

use super::eval::{self, Node, Scope, World};
use super::value::Val;
use crate::syntax::ast::BinaryOp;

type Test = Box<dyn Fn(&Scope, &mut dyn World) -> bool + Send + Sync>;

/// A compiled condition, with the node it was compiled from.
pub struct Condition {
    node: Node,
    test: Test,
}

impl Condition {
    /// Compiles `node`.
    pub fn new(node: Node) -> Condition {
        Condition {
            test: compile(&node),
            node,
        }
    }

    /// Whether the condition holds: what [`eval::holds`] answers for the node.
    #[inline]
    pub fn holds(&self, scope: &Scope, world: &mut dyn World) -> bool {
        (self.test)(scope, world)
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

fn compile(node: &Node) -> Test {
    match node {
        Node::And(pair) => {
            let (a, b) = (compile(&pair.0), compile(&pair.1));
            Box::new(move |s, w| a(s, w) && b(s, w))
        }
        Node::Or(pair) => {
            let (a, b) = (compile(&pair.0), compile(&pair.1));
            Box::new(move |s, w| a(s, w) || b(s, w))
        }
        Node::Binary(op, pair) => match comparison(*op) {
            Some(cmp) => compare(cmp, &pair.0, &pair.1, node),
            None => walk(node),
        },
        Node::Test(op, operand) => match attribute(operand) {
            Some(side) => {
                let wants = op.wants_value();
                Box::new(move |s, _| side.read(s).is_empty() != wants)
            }
            None => walk(node),
        },
        Node::Const(Val::Bool(b)) => {
            let b = *b;
            Box::new(move |_, _| b)
        }
        _ => walk(node),
    }
}

/// The tree-walker, for what has no closure of its own.
fn walk(node: &Node) -> Test {
    let node = node.clone();
    Box::new(move |s, w| eval::holds(&node, s, w))
}

/// `attribute op constant` (either way round) with a number or an option constant;
/// anything else walks.
fn compare(cmp: Cmp, l: &Node, r: &Node, node: &Node) -> Test {
    let (side, constant, cmp) = match (attribute(l), attribute(r), l, r) {
        (Some(side), None, _, Node::Const(c)) => (side, c, cmp),
        (None, Some(side), Node::Const(c), _) => (side, c, cmp.flipped()),
        _ => return walk(node),
    };
    let constant = match *constant {
        Val::Number(n) => Constant::Number(n),
        Val::Option(o) => Constant::Option(o),
        _ => return walk(node),
    };
    // One closure per operator and side, so neither is decided again at each call.
    macro_rules! each {
        ($($op:ident),*) => {
            match (cmp, side) {
                $(
                    (Cmp::$op, Side::New(slot)) => {
                        specialised::<{ Cmp::$op as u8 }, false>(slot, constant, node.clone())
                    }
                    (Cmp::$op, Side::Old(slot)) => {
                        specialised::<{ Cmp::$op as u8 }, true>(slot, constant, node.clone())
                    }
                )*
            }
        };
    }
    each!(Eq, Ne, Lt, Le, Gt, Ge)
}

/// The constants comparisons have fast paths for.
#[derive(Clone, Copy)]
enum Constant {
    Number(f64),
    Option(u32),
}

fn specialised<const OP: u8, const OLD: bool>(
    slot: u16,
    constant: Constant,
    fallback: Node,
) -> Test {
    let side = if OLD {
        Side::Old(slot)
    } else {
        Side::New(slot)
    };
    match constant {
        Constant::Number(n) => Box::new(move |s, w| match side.read(s) {
            Val::Number(x) => answer(OP, x.partial_cmp(&n)),
            _ => eval::holds(&fallback, s, w),
        }),
        Constant::Option(o) => Box::new(move |s, w| match side.read(s) {
            Val::Option(x) => answer(OP, Some(x.cmp(&o))),
            _ => eval::holds(&fallback, s, w),
        }),
    }
}

/// Which record an attribute is read from.
#[derive(Clone, Copy)]
enum Side {
    New(u16),
    Old(u16),
}

impl Side {
    #[inline(always)]
    fn read<'s>(self, scope: &Scope<'s>) -> &'s Val {
        static EMPTY: Val = Val::Empty;
        let (record, slot) = match self {
            Side::New(slot) => (scope.record, slot),
            Side::Old(slot) => (scope.old, slot),
        };
        record.map_or(&EMPTY, |r| r.get(slot))
    }
}

fn attribute(node: &Node) -> Option<Side> {
    match node {
        Node::Slot(slot) => Some(Side::New(*slot)),
        Node::OldSlot(slot) => Some(Side::Old(*slot)),
        _ => None,
    }
}

/// The six comparisons. Equality of two numbers or two options is their order being
/// `Equal`, as [`eval::equal`] has it.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

fn comparison(op: BinaryOp) -> Option<Cmp> {
    Some(match op {
        BinaryOp::Eq => Cmp::Eq,
        BinaryOp::Ne => Cmp::Ne,
        BinaryOp::Lt => Cmp::Lt,
        BinaryOp::Le => Cmp::Le,
        BinaryOp::Gt => Cmp::Gt,
        BinaryOp::Ge => Cmp::Ge,
        _ => return None,
    })
}

impl Cmp {
    /// `c op x` as `x op' c`.
    fn flipped(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            same => same,
        }
    }
}

/// What comparison `op` (a [`Cmp`] as `u8`; a constant where it is called, so the
/// match folds away) answers for an ordering. Unordered values (NaN) are unequal and
/// neither less nor greater.
#[inline(always)]
fn answer(op: u8, order: Option<Ordering>) -> bool {
    use Ordering::{Equal, Greater, Less};
    const EQ: u8 = Cmp::Eq as u8;
    const NE: u8 = Cmp::Ne as u8;
    const LT: u8 = Cmp::Lt as u8;
    const LE: u8 = Cmp::Le as u8;
    const GT: u8 = Cmp::Gt as u8;
    match op {
        EQ => order == Some(Equal),
        NE => order != Some(Equal),
        LT => order == Some(Less),
        LE => matches!(order, Some(Less | Equal)),
        GT => order == Some(Greater),
        _ => matches!(order, Some(Greater | Equal)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::engine::eval::NoWorld;
    use crate::engine::record::Record;
    use crate::engine::value::Secret;
    use crate::syntax::ast::TestOp;

    fn value() -> impl Strategy<Value = Val> {
        prop_oneof![
            Just(Val::Empty),
            (-3.0..3.0f64).prop_map(|n| Val::Number(n.round())),
            Just(Val::Number(f64::NAN)),
            (0..3u32).prop_map(Val::Option),
            Just(Val::text("1")),
            Just(Val::Json(Arc::new(serde_json::json!(1.0)))),
            Just(Val::Secret(Arc::new(Secret::hidden(Val::Number(1.0))))),
            any::<bool>().prop_map(Val::Bool),
        ]
    }

    fn node() -> impl Strategy<Value = Node> {
        let op = prop_oneof![
            Just(BinaryOp::Eq),
            Just(BinaryOp::Ne),
            Just(BinaryOp::Lt),
            Just(BinaryOp::Le),
            Just(BinaryOp::Gt),
            Just(BinaryOp::Ge),
            Just(BinaryOp::Contains),
        ];
        let leaf = prop_oneof![
            (0..3u16).prop_map(Node::Slot),
            (0..3u16).prop_map(Node::OldSlot),
            value().prop_map(Node::Const),
        ];
        let test = prop_oneof![Just(TestOp::IsSet), Just(TestOp::IsEmpty)];
        let comparison = prop_oneof![
            (op, leaf.clone(), leaf.clone())
                .prop_map(|(op, l, r)| Node::Binary(op, Box::new((l, r)))),
            (test, leaf.clone()).prop_map(|(t, n)| Node::Test(t, Box::new(n))),
            leaf,
        ];
        comparison.prop_recursive(3, 12, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|p| Node::And(Box::new(p))),
                (inner.clone(), inner.clone()).prop_map(|p| Node::Or(Box::new(p))),
                inner.prop_map(|n| Node::Not(Box::new(n))),
            ]
        })
    }

    proptest! {
        /// The closures answer what the tree-walker answers, for every value the fast
        /// paths do not expect as well as those they do.
        #[test]
        fn compiled_conditions_agree_with_the_tree_walker(
            node in node(),
            new in proptest::collection::vec(value(), 3),
            old in proptest::collection::vec(value(), 3),
        ) {
            let (new, old) = (Record(new), Record(old));
            let scope = Scope { record: Some(&new), old: Some(&old), ..Scope::new(chrono::Utc::now()) };
            let compiled = Condition::new(node.clone());
            prop_assert_eq!(
                compiled.holds(&scope, &mut NoWorld),
                eval::holds(&node, &scope, &mut NoWorld),
                "{:?}", node
            );
        }
    }
}
