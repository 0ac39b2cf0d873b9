//! Engine invariants on generated event streams:
//! - redelivery, any number of times and in any order, produces no effect twice: the
//!   set of effects equals that of one clean, ordered delivery;
//! - evaluation never panics, whatever well-typed (or ill-typed) values arrive.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use rulec::check::Unit;
use rulec::engine::{Effect, Engine, Handlers, ManualClock, MemoryStore};
use rulec::ir::Program;
use rulec::lint::LintConfig;
use rulec::schema::types::Type;
use rulec::source::SourceFile;
use rulec::workspace::{analyze, analyze_text};
use serde_json::{json, Value as Json};

/// Rules whose effects depend only on the event that triggers them, so any delivery
/// order must give the same effects (order-dependent features — `limit`,
/// `coalesce`, `if empty` — are left out on purpose).
const RULES: &str = r##"
rule won
  when stage changed from Open to ClosedWon and value > 1000
  do
    slack "#wins" "{{name}} won {{value}}"
    create task "Kickoff {{name}}" key event.id

rule lost
  when stage changed to ClosedLost and value > 0
  do
    set source = Referral
    note "lost" "{{name}} lost at {{value}}"

rule big
  when deals matches value >= 50000 and stage != ClosedLost
  do http POST "https://hooks.example.com/big" body { name: name, value: value }

rule fresh
  when deals created and value > 0
  do create companies { name: "{{name}} Co" } key name
"##;

fn engine(program: Program, log: Arc<Mutex<Vec<Effect>>>) -> Engine {
    Engine::builder(program)
        .handlers(Handlers::dry_run(log))
        .store(MemoryStore::new())
        .clock(ManualClock::new("2026-03-02T12:00:00Z".parse().unwrap()))
        .build()
        .unwrap()
}

fn effects(program: Program, deliveries: &[String]) -> BTreeSet<String> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut engine = engine(program, log.clone());
    for line in deliveries {
        engine.handle_json(line).unwrap();
    }
    let set: BTreeSet<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|e| format!("{} {} {}", e.action, e.key, Json::Object(e.args.clone())))
        .collect();
    let count = log.lock().unwrap().len();
    assert_eq!(count, set.len(), "an effect was performed twice");
    set
}

const STAGES: [&str; 4] = ["Open", "Qualified", "ClosedWon", "ClosedLost"];
const VALUES: [i64; 4] = [0, 500, 5_000, 60_000];

/// One logical event: record, created?, stage and value before and after.
type Logical = (usize, bool, usize, usize, usize, usize);

fn logical() -> impl Strategy<Value = Logical> {
    (
        0..3usize,
        prop::bool::weighted(0.2),
        0..4usize,
        0..4usize,
        0..4usize,
        0..4usize,
    )
}

fn line(n: usize, (record, created, stage, old_stage, value, old_value): Logical) -> String {
    let mut event = json!({
        "id": format!("e{n}"),
        "type": if created { "record.created" } else { "record.updated" },
        "object": "deals",
        "record_id": format!("d{record}"),
        "at": format!("2026-03-02T10:{:02}:00Z", n % 60),
        "record": {
            "name": format!("Deal {record}"),
            "stage": STAGES[stage],
            "value": VALUES[value],
            "source": "Website",
        },
    });
    if !created {
        event["old"] = json!({ "stage": STAGES[old_stage], "value": VALUES[old_value] });
    }
    event.to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn redelivery_in_any_order_produces_no_new_effects(
        events in prop::collection::vec(logical(), 1..16),
        copies in prop::collection::vec(1..4usize, 16),
        order in prop::collection::vec(any::<u32>(), 48),
    ) {
        let program = analyze_text("p.rules", RULES).program().unwrap();
        let clean: Vec<String> = events.iter().enumerate().map(|(n, e)| line(n, *e)).collect();
        let mut deliveries: Vec<(u32, String)> = Vec::new();
        for (n, text) in clean.iter().enumerate() {
            for c in 0..copies[n % copies.len()] {
                deliveries.push((order[(n * 3 + c) % order.len()], text.clone()));
            }
        }
        deliveries.sort_by_key(|(k, _)| *k);
        let messy: Vec<String> = deliveries.into_iter().map(|(_, t)| t).collect();
        let expected = effects(program.clone(), &clean);
        let actual = effects(program, &messy);
        prop_assert_eq!(expected, actual);
    }
}

/// All example rule files, checked together.
fn examples_program() -> Program {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut units = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        units.push(Unit::parse(SourceFile::new(&name, text.as_str())));
    }
    analyze(units, &LintConfig::default()).program().unwrap()
}

const TEXTS: [&str; 6] = [
    "",
    "Acme",
    "{{name}}",
    "<!channel>",
    "Ünïcödé 🎉",
    "ClosedWon",
];

/// A value for a type, picked by `pick`: usually well-typed, sometimes empty or wrong.
fn value(ty: &Type, pick: u32) -> Json {
    match pick % 11 {
        0 => return Json::Null,
        1 => return json!(TEXTS[(pick / 11) as usize % TEXTS.len()]),
        _ => {}
    }
    let n = pick / 11;
    match ty {
        Type::Text | Type::Phone => json!(TEXTS[n as usize % TEXTS.len()]),
        Type::Number | Type::Currency => {
            json!([0.0, -1.5, 1e18, 10_000.0, 0.1, f64::MAX][n as usize % 6])
        }
        Type::Checkbox => json!(n % 2 == 0),
        Type::Date => json!(["2026-02-29", "2026-03-01", "1970-01-01"][n as usize % 3]),
        Type::Timestamp => json!(["2026-03-01T09:00:00Z", "1900-01-01T00:00:00Z"][n as usize % 2]),
        Type::Duration => json!([0, 60, -5, i64::MAX][n as usize % 4]),
        Type::Select(set) | Type::Status(set) => {
            json!(set.options.get(n as usize % set.options.len().max(1)))
        }
        Type::MultiSelect(set) => {
            json!(set.options.iter().take(n as usize % 3).collect::<Vec<_>>())
        }
        Type::Member | Type::Email => json!(["ana@acme.com", "not-an-email"][n as usize % 2]),
        Type::Domain => json!("acme.com"),
        Type::Record(_) => json!(format!("r{}", n % 3)),
        Type::List(inner) => json!([value(inner, n), value(inner, n / 3)]),
        _ => json!({"x": n}),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn evaluation_never_panics_on_any_event(
        picks in prop::collection::vec(any::<u32>(), 64),
        kinds in prop::collection::vec(0..4usize, 1..12),
    ) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut engine = engine(examples_program(), log);
        let objects: Vec<(String, Vec<(String, Type)>)> = engine
            .schema()
            .objects
            .iter()
            .map(|o| (o.name.clone(), o.attributes.iter().map(|a| (a.name.clone(), a.ty.clone())).collect()))
            .collect();
        for (n, kind) in kinds.iter().enumerate() {
            let (object, attributes) = &objects[picks[n] as usize % objects.len()];
            let mut record = serde_json::Map::new();
            let mut old = serde_json::Map::new();
            for (i, (name, ty)) in attributes.iter().enumerate() {
                let p = picks[(n * 7 + i) % picks.len()].wrapping_mul(2_654_435_761);
                if p % 3 != 0 {
                    record.insert(name.clone(), value(ty, p));
                }
                if p % 5 == 0 {
                    old.insert(name.clone(), value(ty, p / 7));
                }
            }
            let types = ["record.created", "record.updated", "record.deleted", "record.merged"];
            let event = json!({
                "id": format!("e{n}"), "type": types[*kind], "object": object,
                "record_id": format!("r{}", n % 3), "at": "2026-03-02T10:00:00Z",
                "record": record, "old": old,
            });
            // Rejected or run: either is fine; a panic or an engine error is not.
            let _ = engine.handle_json(&event.to_string());
            engine.tick().unwrap();
        }
    }
}
