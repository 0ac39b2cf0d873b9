//! Soundness of `unsatisfiable-condition` and `always-true-condition` against brute
//! force: when the analysis says "never", no generated record satisfies the
//! condition; when it says "always", every generated record whose compared attributes
//! are set does. The evaluator below is written independently of the analysis.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::HashMap;

use proptest::prelude::*;
use rulec::ir::{Expr, ExprKind, Function, Root, Value};
use rulec::lint::condition_space::{decide, Verdict};
use rulec::syntax::ast::{BinaryOp, TestOp};
use rulec::workspace::analyze_text;

const SCHEMA: &str = "object deals {\n  flag: checkbox\n  tier: select [Gold, Silver, Bronze]\n  tags: select[] [vip, partner, churn]\n}\nlist \"Key\" of deals\nlist \"Watch\" of deals\n";

#[derive(Clone, Debug, PartialEq)]
enum V {
    Empty,
    Num(f64),
    Text(String),
    Bool(bool),
    Opt(u32),
    /// A multi-select's options, as a set.
    Opts(Vec<u32>),
    Date(String),
}

fn atom() -> impl Strategy<Value = String> {
    let num = prop::sample::select(vec!["0", "5", "10", "15"]);
    let cmp = prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">="]);
    let stage = prop::sample::select(vec!["Lead", "Open", "Qualified", "ClosedWon", "ClosedLost"]);
    let date = prop::sample::select(vec!["2026-01-01", "2026-01-02", "2026-01-05"]);
    prop_oneof![
        (cmp.clone(), num).prop_map(|(c, n)| format!("value {c} {n}")),
        (cmp, stage.clone()).prop_map(|(c, s)| format!("stage {c} {s}")),
        (stage.clone(), stage).prop_map(|(a, b)| format!("stage in [{a}, {b}]")),
        prop::sample::select(vec!["Gold", "Silver"]).prop_map(|t| format!("tier != {t}")),
        prop::sample::select(vec!["\"a\"", "\"b\""]).prop_map(|t| format!("name = {t}")),
        Just("name not in [\"a\", \"b\"]".to_string()),
        prop::sample::select(vec!["true", "false"]).prop_map(|b| format!("flag = {b}")),
        (prop::sample::select(vec!["before", "after"]), date)
            .prop_map(|(o, d)| format!("close_date {o} {d}")),
        prop::sample::select(vec!["value is set", "stage is empty", "tier is not set"])
            .prop_map(String::from),
        prop::sample::select(vec![
            "tags contains vip",
            "tags contains any [vip, partner]",
            "tags contains all [vip, partner]",
            "tags contains all [churn]",
            "tags = [partner, vip]",
            "tags != [vip]",
            "tags is set",
        ])
        .prop_map(String::from),
        (
            prop::sample::select(vec!["=", "<", ">="]),
            prop::sample::select(vec!["0", "1", "2"])
        )
            .prop_map(|(c, n)| format!("count(tags) {c} {n}")),
        prop::sample::select(vec![
            "record in list \"Key\"",
            "record not in list \"Key\"",
            "record in list \"Watch\"",
            "record not in list \"Watch\"",
        ])
        .prop_map(String::from),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    atom().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn record() -> impl Strategy<Value = HashMap<&'static str, V>> {
    let value = prop_oneof![
        Just(V::Empty),
        prop::sample::select(vec![-1.0, 0.0, 4.0, 5.0, 6.0, 7.5, 10.0, 12.0, 15.0, 16.0])
            .prop_map(V::Num)
    ];
    let stage = prop_oneof![Just(V::Empty), (0u32..7).prop_map(V::Opt)];
    let tier = prop_oneof![Just(V::Empty), (0u32..3).prop_map(V::Opt)];
    let name = prop_oneof![
        Just(V::Empty),
        prop::sample::select(vec!["a", "b", "c"]).prop_map(|s| V::Text(s.into()))
    ];
    let flag = prop_oneof![Just(V::Empty), any::<bool>().prop_map(V::Bool)];
    let date = prop_oneof![
        Just(V::Empty),
        prop::sample::select(vec![
            "2025-12-31",
            "2026-01-01",
            "2026-01-02",
            "2026-01-03",
            "2026-01-05",
            "2026-02-01"
        ])
        .prop_map(|d| V::Date(d.into()))
    ];
    let tags = prop::collection::btree_set(0u32..3, 0..=3).prop_map(|set| {
        if set.is_empty() {
            V::Empty
        } else {
            V::Opts(set.into_iter().collect())
        }
    });
    let lists = (any::<bool>(), any::<bool>());
    (value, stage, tier, name, flag, date, tags, lists).prop_map(
        |(value, stage, tier, name, flag, date, tags, (key, watch))| {
            HashMap::from([
                // Membership, as `in list` reads it: never empty.
                ("#Key", V::Bool(key)),
                ("#Watch", V::Bool(watch)),
                ("value", value),
                ("stage", stage),
                ("tier", tier),
                ("name", name),
                ("flag", flag),
                ("close_date", date),
                ("tags", tags),
            ])
        },
    )
}

fn constant(v: &Value) -> V {
    match v {
        Value::Number(n) => V::Num(*n),
        Value::Text(t) => V::Text(t.clone()),
        Value::Bool(b) => V::Bool(*b),
        Value::Option { index, .. } => V::Opt(*index),
        Value::Date(d) => V::Date(d.clone()),
        _ => V::Empty,
    }
}

fn read(e: &Expr, record: &HashMap<&'static str, V>) -> Option<V> {
    match &e.kind {
        ExprKind::Read {
            root: Root::Record,
            path,
        } => record.get(path.first()?.name.as_str()).cloned(),
        // `count(tags)`: how many options are set; never empty.
        ExprKind::Call {
            function: Function::Count,
            args,
        } => Some(V::Num(match read(args.first()?, record)? {
            V::Opts(options) => options.len() as f64,
            _ => 0.0,
        })),
        _ => None,
    }
}

fn order(a: &V, b: &V) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (V::Num(x), V::Num(y)) => x.partial_cmp(y),
        (V::Opt(x), V::Opt(y)) => Some(x.cmp(y)),
        (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The language's semantics, written out directly.
fn eval(e: &Expr, record: &HashMap<&'static str, V>) -> bool {
    match &e.kind {
        ExprKind::Const {
            value: Value::Bool(b),
        } => *b,
        ExprKind::Not { operand } => !eval(operand, record),
        ExprKind::InList { list, negated, .. } => {
            let inside = record.get(format!("#{list}").as_str()) == Some(&V::Bool(true));
            inside != *negated
        }
        ExprKind::Binary {
            operator: BinaryOp::And,
            lhs,
            rhs,
        } => eval(lhs, record) && eval(rhs, record),
        ExprKind::Binary {
            operator: BinaryOp::Or,
            lhs,
            rhs,
        } => eval(lhs, record) || eval(rhs, record),
        ExprKind::Test { test, operand } => {
            let empty = read(operand, record).is_none_or(|v| v == V::Empty);
            match test {
                TestOp::IsSet | TestOp::IsNotEmpty => !empty,
                TestOp::IsEmpty | TestOp::IsNotSet => empty,
            }
        }
        ExprKind::Binary { operator, lhs, rhs } => {
            let value = read(lhs, record).unwrap_or(V::Empty);
            let Some(c) = rhs.as_const() else {
                panic!("unexpected operand {rhs:?}")
            };
            if value == V::Empty {
                return matches!(operator, BinaryOp::Ne | BinaryOp::NotIn);
            }
            let list: Vec<V> = match c {
                Value::List(items) => items.iter().map(constant).collect(),
                other => vec![constant(other)],
            };
            let first = &list[0];
            if let V::Opts(have) = &value {
                let has = |v: &V| matches!(v, V::Opt(o) if have.contains(o));
                let mut wanted: Vec<u32> = list
                    .iter()
                    .filter_map(|v| match v {
                        V::Opt(o) => Some(*o),
                        _ => None,
                    })
                    .collect();
                wanted.sort_unstable();
                wanted.dedup();
                return match operator {
                    BinaryOp::Contains => has(first),
                    BinaryOp::ContainsAny => list.iter().any(has),
                    BinaryOp::ContainsAll => list.iter().all(has),
                    BinaryOp::Eq => *have == wanted,
                    BinaryOp::Ne => *have != wanted,
                    other => panic!("unexpected operator {other:?} on a multi-select"),
                };
            }
            match operator {
                BinaryOp::Eq => value == *first,
                BinaryOp::Ne => value != *first,
                BinaryOp::In => list.contains(&value),
                BinaryOp::NotIn => !list.contains(&value),
                BinaryOp::Lt | BinaryOp::Before => order(&value, first).is_some_and(|o| o.is_lt()),
                BinaryOp::Le => order(&value, first).is_some_and(|o| o.is_le()),
                BinaryOp::Gt | BinaryOp::After => order(&value, first).is_some_and(|o| o.is_gt()),
                BinaryOp::Ge => order(&value, first).is_some_and(|o| o.is_ge()),
                other => panic!("unexpected operator {other:?}"),
            }
        }
        other => panic!("unexpected expression {other:?}"),
    }
}

/// Attributes compared (not merely tested) in the condition.
fn compared(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Not { operand } => compared(operand, out),
        ExprKind::Binary {
            operator: BinaryOp::And | BinaryOp::Or,
            lhs,
            rhs,
        } => {
            compared(lhs, out);
            compared(rhs, out);
        }
        ExprKind::Binary { lhs, .. } => {
            if let ExprKind::Read { path, .. } = &lhs.kind {
                out.push(path[0].name.clone());
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn verdicts_agree_with_brute_force(cond in condition(), records in prop::collection::vec(record(), 200)) {
        let text = format!("{SCHEMA}on deals when updated and {cond} do stop\n");
        let analysis = analyze_text("p.rules", &text);
        let rule = analysis.checked.rules.first();
        prop_assume!(rule.is_some());
        let condition = rule.unwrap().condition.clone().unwrap();
        let verdict = decide(&condition, &[]);
        let mut attrs = Vec::new();
        compared(&condition, &mut attrs);
        for r in &records {
            let holds = eval(&condition, r);
            match verdict {
                Verdict::Never => prop_assert!(!holds, "said never, but {r:?} satisfies {cond}"),
                Verdict::Always => {
                    let all_set = attrs.iter().all(|a| r.get(a.as_str()) != Some(&V::Empty));
                    prop_assert!(!all_set || holds, "said always, but {r:?} fails {cond}");
                }
                Verdict::Depends => {}
            }
        }
    }
}

#[test]
fn the_catalog_examples_are_decided() {
    let verdict = |cond: &str| {
        let analysis = analyze_text(
            "p.rules",
            &format!("on deals when updated and {cond} do stop\n"),
        );
        decide(analysis.checked.rules[0].condition.as_ref().unwrap(), &[])
    };
    assert_eq!(verdict("value > 10 and value < 5"), Verdict::Never);
    assert_eq!(
        verdict("stage = Open and stage = ClosedLost"),
        Verdict::Never
    );
    assert_eq!(verdict("value > 5 or value <= 5"), Verdict::Always);
    assert_eq!(verdict("stage >= Lead"), Verdict::Always);
    assert_eq!(verdict("value > 5 and value < 10"), Verdict::Depends);
    let with_lists = |cond: &str| {
        let analysis = analyze_text(
            "p.rules",
            &format!("list \"Key\" of deals\non deals when updated and {cond} do stop\n"),
        );
        decide(analysis.checked.rules[0].condition.as_ref().unwrap(), &[])
    };
    assert_eq!(
        with_lists("record in list \"Key\" and record not in list \"Key\""),
        Verdict::Never
    );
    assert_eq!(
        with_lists("record in list \"Key\" or not (record in list \"Key\")"),
        Verdict::Always
    );
}
