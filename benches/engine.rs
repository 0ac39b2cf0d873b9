//! Engine benchmarks:
//! - `dispatch/<n>`: handling one event with n rules installed, of which a fixed
//!   five watch the changed attribute. Target: the 100,000-rule cost at most 2× the
//!   10-rule cost (an index by event type, object and attribute, not a scan).
//! - `condition`: trigger + condition of `stage changed from Open to ClosedWon and
//!   value > 10000` on a 10-attribute record, against a hand-written closure. The
//!   side-by-side with cel-interpreter, rhai and evalexpr lives in `benches/compare`
//!   (its own crate, so CI never builds those interpreters).
//!
//! End-to-end throughput of `rulec run` is measured on a generated stream; see
//! `benches/README.md`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may fail loudly

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rulec::check::Unit;
use rulec::engine::{Engine, Event, Handlers, ManualClock, MemoryStore};
use rulec::lint::LintConfig;
use rulec::source::SourceFile;
use rulec::workspace::analyze;

/// n rules: five on `deals.stage`, the rest spread over 100 objects × 100 attributes.
fn rules(n: usize) -> String {
    let mut out = String::new();
    let objects = 100.min(n / 100 + 1);
    for o in 0..objects {
        out.push_str(&format!("object o{o} {{\n"));
        for a in 0..100 {
            out.push_str(&format!("  a{a}: text\n"));
        }
        out.push_str("}\n");
    }
    for i in 0..n {
        if i < 5 {
            out.push_str(&format!(
                "rule watch{i}\n  when deals stage changed to ClosedWon and value > {}\n  do slack \"#wins\"\n",
                1_000_000 + i
            ));
        } else {
            let (o, a) = (i % objects, (i / objects) % 100);
            out.push_str(&format!(
                "rule r{i}\n  when o{o} a{a} changed to \"v{i}\" and a{} is set\n  do slack \"#c\"\n",
                (a + 1) % 100
            ));
        }
    }
    out
}

fn engine(n: usize) -> Engine {
    let text = rules(n);
    let unit = Unit::parse(SourceFile::new("bench.rules", text.as_str()));
    let analysis = analyze(vec![unit], &LintConfig::default());
    Engine::builder(analysis.program().expect("the bench rules check"))
        .handlers(Handlers::dry_run(Default::default()))
        .store(MemoryStore::with_history(0))
        .clock(ManualClock::new("2026-03-02T10:00:00Z".parse().unwrap()))
        .build()
        .unwrap()
}

fn events(engine: &Engine, count: usize) -> Vec<Event> {
    (0..count)
        .map(|i| {
            let (new, old) = if i % 2 == 0 { ("ClosedWon", "Open") } else { ("Open", "ClosedWon") };
            engine
                .parse_event(&format!(
                    r#"{{"id":"e{i}","type":"record.updated","object":"deals","record_id":"d{}","at":"2026-03-02T10:00:00Z","record":{{"name":"Acme","stage":"{new}","value":5000}},"old":{{"stage":"{old}"}}}}"#,
                    i % 1000
                ))
                .unwrap()
        })
        .collect()
}

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    for n in [10, 1_000, 10_000, 100_000] {
        let mut engine = engine(n);
        let templates = events(&engine, 64);
        let mut batch = 0;
        group.bench_function(n.to_string(), |b| {
            b.iter_batched(
                || {
                    batch += 1;
                    // Fresh ids each batch: a repeated id would be a redelivery.
                    templates
                        .iter()
                        .enumerate()
                        .map(|(i, e)| e.clone().with_id(&format!("b{batch}-{i}")))
                        .collect::<Vec<_>>()
                },
                |events| {
                    for event in events {
                        black_box(engine.handle(event).unwrap());
                    }
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn condition(c: &mut Criterion) {
    let rules = "object deals {\n  region: text\n}\nrule wins\n  when stage changed from Open to ClosedWon and value > 10000\n  do slack \"#wins\"\n";
    let unit = Unit::parse(SourceFile::new("bench.rules", rules));
    let program = analyze(vec![unit], &LintConfig::default())
        .program()
        .expect("the bench rules check");
    let mut engine = Engine::builder(program)
        .clock(ManualClock::new("2026-03-02T10:00:00Z".parse().unwrap()))
        .build()
        .unwrap();
    let rule = engine.rule_index("wins").unwrap();
    let values = |stage: &str| {
        serde_json::json!({
            "name": "Acme", "stage": stage, "value": 25000, "owner": "ana@acme.com",
            "company": "c1", "source": "Website", "close_date": "2026-03-31",
            "last_activity": "2026-03-01T09:00:00Z", "created_at": "2026-01-01T09:00:00Z",
            "region": "EMEA",
        })
    };
    let old = engine.record_from_json("deals", &values("Open")).unwrap();
    let new = engine
        .record_from_json("deals", &values("ClosedWon"))
        .unwrap();
    assert!(engine.evaluate(rule, &old, &new));

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
        Deal {
            stage: Stage::Open,
            value: 25000.0,
        },
        Deal {
            stage: Stage::ClosedWon,
            value: 25000.0,
        },
    );
    let closure = |o: &Deal, n: &Deal| {
        o.stage == Stage::Open && n.stage == Stage::ClosedWon && n.value > 10000.0
    };

    let mut group = c.benchmark_group("condition");
    group.bench_function("rulec", |b| {
        b.iter(|| engine.evaluate(black_box(rule), black_box(&old), black_box(&new)))
    });
    group.bench_function("closure", |b| {
        b.iter(|| closure(black_box(&o), black_box(&n)))
    });
    group.finish();
}

criterion_group!(benches, condition, dispatch);
criterion_main!(benches);
