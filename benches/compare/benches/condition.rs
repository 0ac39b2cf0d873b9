//! `stage changed from Open to ClosedWon and value > 10000` on a 10-attribute deal,
//! each contender compiled once, evaluated against a record it already holds.
//! Target (issue 3): rulec within 10× of the closure, at least 15× faster than
//! cel-interpreter.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rulec::engine::{Engine, ManualClock};
use rulec::workspace::analyze_text;
use serde_json::json;

fn deal(stage: &str) -> serde_json::Value {
    json!({
        "name": "Acme", "stage": stage, "value": 25000, "owner": "ana@acme.com",
        "company": "c1", "source": "Website", "close_date": "2026-03-31",
        "last_activity": "2026-03-01T09:00:00Z", "created_at": "2026-01-01T09:00:00Z",
        "region": "EMEA",
    })
}

fn conditions(c: &mut Criterion) {
    let mut group = c.benchmark_group("condition");

    // rulec: the checked rule, evaluated by the engine on records it holds.
    let rules = "object deals {\n  region: text\n}\nrule wins\n  when stage changed from Open to ClosedWon and value > 10000\n  do slack \"#wins\"\n";
    let mut engine = Engine::builder(analyze_text("bench.rules", rules).program().expect("the rules check"))
        .clock(ManualClock::new("2026-03-02T10:00:00Z".parse().unwrap()))
        .build()
        .unwrap();
    let rule = engine.rule_index("wins").unwrap();
    let old = engine.record_from_json("deals", &deal("Open")).unwrap();
    let new = engine.record_from_json("deals", &deal("ClosedWon")).unwrap();
    assert!(engine.evaluate(rule, &old, &new));
    group.bench_function("rulec", |b| {
        b.iter(|| engine.evaluate(black_box(rule), black_box(&old), black_box(&new)))
    });

    // A hand-written closure over a typed struct: the floor.
    #[derive(PartialEq, Clone, Copy)]
    enum Stage {
        Open,
        ClosedWon,
    }
    struct Deal {
        stage: Stage,
        value: f64,
    }
    let (o, n) = (
        Deal { stage: Stage::Open, value: 25000.0 },
        Deal { stage: Stage::ClosedWon, value: 25000.0 },
    );
    let closure = |o: &Deal, n: &Deal| {
        o.stage != n.stage && o.stage == Stage::Open && n.stage == Stage::ClosedWon && n.value > 10000.0
    };
    assert!(closure(&o, &n));
    group.bench_function("closure", |b| b.iter(|| closure(black_box(&o), black_box(&n))));

    let expression = "old.stage != stage && old.stage == \"Open\" && stage == \"ClosedWon\" && value > 10000";

    // cel-interpreter: variables for the record's attributes and `old`.
    {
        use cel_interpreter::{Context, Program};
        let program = Program::compile(expression).unwrap();
        let mut context = Context::default();
        for (k, v) in deal("ClosedWon").as_object().unwrap() {
            context.add_variable(k.as_str(), v.clone()).unwrap();
        }
        context.add_variable("old", deal("Open")).unwrap();
        assert_eq!(program.execute(&context).unwrap(), true.into());
        group.bench_function("cel-interpreter", |b| {
            b.iter(|| program.execute(black_box(&context)).unwrap())
        });
    }

    // rhai: a compiled expression over a scope holding the record and `old`.
    {
        let rhai_engine = rhai::Engine::new();
        let ast = rhai_engine.compile_expression(expression).unwrap();
        let mut scope = rhai::Scope::new();
        for (k, v) in deal("ClosedWon").as_object().unwrap() {
            let value: rhai::Dynamic = rhai::serde::to_dynamic(v).unwrap();
            scope.push_dynamic(k.as_str(), value);
        }
        scope.push_dynamic("old", rhai::serde::to_dynamic(deal("Open")).unwrap());
        assert!(rhai_engine.eval_ast_with_scope::<bool>(&mut scope, &ast).unwrap());
        group.bench_function("rhai", |b| {
            b.iter(|| rhai_engine.eval_ast_with_scope::<bool>(black_box(&mut scope), &ast).unwrap())
        });
    }

    // evalexpr: a precompiled operator tree over a context of flat variables.
    {
        use evalexpr::{
            build_operator_tree, ContextWithMutableVariables, DefaultNumericTypes, HashMapContext,
            Value,
        };
        let flat = "old_stage != stage && old_stage == \"Open\" && stage == \"ClosedWon\" && value > 10000";
        let tree = build_operator_tree::<DefaultNumericTypes>(flat).unwrap();
        let mut context = HashMapContext::<DefaultNumericTypes>::new();
        for (k, v) in deal("ClosedWon").as_object().unwrap() {
            let value = match v {
                serde_json::Value::Number(n) => Value::Int(n.as_i64().unwrap()),
                other => Value::String(other.as_str().unwrap().to_string()),
            };
            context.set_value(k.clone(), value).unwrap();
        }
        context.set_value("old_stage".into(), Value::String("Open".into())).unwrap();
        assert!(tree.eval_boolean_with_context(&context).unwrap());
        group.bench_function("evalexpr", |b| {
            b.iter(|| tree.eval_boolean_with_context(black_box(&context)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, conditions);
criterion_main!(benches);
