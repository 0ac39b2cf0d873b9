//! Engine invariants on generated event streams:
//! - redelivery, any number of times and in any order, produces no effect twice: the
//!   set of effects equals that of one clean, ordered delivery;
//! - so does the outbox: answering effects in any order, late or twice gives the
//!   effects the inline handlers give;
//! - evaluation never panics, whatever well-typed (or ill-typed) values arrive;
//! - nor does time: no events, one event, events and ticks at the ends of chrono's
//!   range, with every example's schedules loaded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use rulec::check::Unit;
use rulec::engine::{Effect, Engine, Handlers, ManualClock, MemoryStore, RunStatus};
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

list "Winners" of companies

rule won_company
  when stage changed from Open to ClosedWon and company is set
  do
    note on company "{{name}} won"
    add company to list "Winners"
    create task "Thank {{name}}" linked to company

rule won_twice
  when stage changed to ClosedWon and value > 1000
  do
    for each c in [company, company] do
      note on c "{{name}} won"
    end

rule company_noted
  when companies note created
  do slack "#accounts" "a note on {{record}}"
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
            "company": format!("c{}", record % 2),
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

/// The effects of `deliveries` through an outbox engine whose host takes effects
/// after every event, answers them with the dry-run answer in the order `order`
/// picks, leaves some for later events, and answers some twice.
fn outbox_effects(program: Program, deliveries: &[String], order: &[u32]) -> BTreeSet<String> {
    let mut engine = Engine::builder(program)
        .outbox()
        .store(MemoryStore::new())
        .clock(ManualClock::new("2026-03-02T12:00:00Z".parse().unwrap()))
        .build()
        .unwrap();
    let mut performed: Vec<String> = Vec::new();
    let mut held: Vec<Effect> = Vec::new();
    let mut picks = order.iter().cycle();
    let mut answer = |engine: &mut Engine, held: &mut Vec<Effect>, all: bool| {
        held.extend(engine.take_effects().unwrap());
        while !held.is_empty() {
            let pick = *picks.next().unwrap();
            if !all && pick % 3 == 0 {
                return; // late: answered after the next event
            }
            let effect = held.remove(pick as usize % held.len());
            performed.push(format!(
                "{} {} {}",
                effect.action,
                effect.key,
                Json::Object(effect.args.clone())
            ));
            let outcome = rulec::engine::dry_run_answer(&effect);
            engine.complete(&effect.key, outcome.clone()).unwrap();
            if pick % 5 == 0 {
                // Answered twice: refused, and nothing happens.
                assert!(engine.complete(&effect.key, outcome).is_err());
            }
            held.extend(engine.take_effects().unwrap());
        }
    };
    for line in deliveries {
        engine.handle_json(line).unwrap();
        answer(&mut engine, &mut held, false);
    }
    answer(&mut engine, &mut held, true);
    assert!(engine.outbox().unwrap().is_empty());
    let set: BTreeSet<String> = performed.iter().cloned().collect();
    assert_eq!(performed.len(), set.len(), "an effect was performed twice");
    set
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn outbox_answers_in_any_order_late_or_twice_give_the_inline_effects(
        events in prop::collection::vec(logical(), 1..16),
        copies in prop::collection::vec(1..3usize, 16),
        order in prop::collection::vec(any::<u32>(), 1..48),
    ) {
        let program = analyze_text("p.rules", RULES).program().unwrap();
        let clean: Vec<String> = events.iter().enumerate().map(|(n, e)| line(n, *e)).collect();
        let redelivered: Vec<String> = clean
            .iter()
            .enumerate()
            .flat_map(|(n, text)| std::iter::repeat_n(text.clone(), copies[n % copies.len()]))
            .collect();
        let inline = effects(program.clone(), &clean);
        let outbox = outbox_effects(program, &redelivered, &order);
        prop_assert_eq!(inline, outbox);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// "Would this fire?" (`Engine::evaluate`) and what fires on an update that says
    /// what the record was are one judgement.
    #[test]
    fn evaluate_agrees_with_what_fires(event in logical()) {
        let program = analyze_text("p.rules", RULES).program().unwrap();
        let (record, _, stage, old_stage, value, old_value) = event;
        let text = line(0, (record, false, stage, old_stage, value, old_value));
        let json: Json = serde_json::from_str(&text).unwrap();
        let mut old = json["record"].clone();
        for (k, v) in json["old"].as_object().unwrap() {
            old[k] = v.clone();
        }
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut engine = engine(program.clone(), log);
        let old_record = engine.record_from_json("deals", &old).unwrap();
        let new_record = engine.record_from_json("deals", &json["record"]).unwrap();
        let mut predicted: Vec<String> = Vec::new();
        // `fresh` is a `created` rule: an update never fires it, and `evaluate` answers
        // for the event its trigger names.
        for rule in ["won", "lost", "big", "won_company", "won_twice"] {
            let index = engine.rule_index(rule).unwrap();
            if engine.evaluate(index, &old_record, &new_record) {
                predicted.push(rule.to_string());
            }
        }
        let runs = engine.handle_json(&text).unwrap();
        let mut fired: Vec<String> = runs
            .iter()
            .filter(|r| r.status != RunStatus::Skipped && r.depth == 0)
            .map(|r| r.rule.clone())
            .filter(|r| r != "fresh")
            .collect();
        fired.sort();
        fired.dedup();
        predicted.sort();
        prop_assert_eq!(predicted, fired);
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

/// Instants at and near the ends of chrono's range, at the ends of the years the event
/// decoder accepts (1900–9999), and random ones anywhere in between.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let year: i64 = 365 * 24 * 3600;
    prop_oneof![
        Just(min),
        Just(max),
        Just(at("1900-01-01T00:00:00Z")),
        Just(at("9999-12-31T23:59:59Z")),
        Just(at("2026-03-02T10:00:00Z")),
        // Within a year of either end, where a few weeks of arithmetic overflow.
        (0..year).prop_map(move |s| min + TimeDelta::seconds(s)),
        (0..year).prop_map(move |s| max - TimeDelta::seconds(s)),
        (at("1900-01-01T00:00:00Z").timestamp()..=at("9999-12-31T23:59:59Z").timestamp())
            .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
        (min.timestamp()..=max.timestamp()).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
    ]
}

/// An event of a kind some example rule reacts to, dated `at` (rejected when `at` is
/// outside what the decoder accepts: a rejection is a fine answer too).
fn dated_event(n: usize, kind: usize, at: DateTime<Utc>) -> String {
    let id = format!("t{n}");
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let event = match kind % 5 {
        0 => json!({
            "id": id, "type": "record.updated", "object": "deals", "record_id": "d1", "at": at,
            "record": {"name": "Acme", "stage": "ClosedWon", "value": 50_000, "owner": "ana@acme.com",
                       "last_activity": at},
            "old": {"stage": "Open"},
        }),
        1 => json!({
            "id": id, "type": "record.updated", "object": "people", "record_id": "p1", "at": at,
            "record": {"name": "Ada", "email_addresses": ["ada@example.com"], "lifecycle": "MQL",
                       "manager": "dana@acme.com", "start_date": "2026-04-01"},
            "old": {"lifecycle": "Lead"},
        }),
        2 => json!({
            "id": id, "type": "list-entry.created", "object": "people", "record_id": "p1", "at": at,
            "list": "New hires",
            "record": {"name": "Ada", "manager": "dana@acme.com", "start_date": "2026-04-01"},
        }),
        3 => json!({
            "id": id, "type": "record.created", "object": "companies", "record_id": "c1", "at": at,
            "record": {"name": "Acme", "csm": "eli@acme.com", "contract_end": "2026-05-01"},
        }),
        _ => json!({
            "id": id, "type": "webhook", "name": "typeform", "at": at,
            "payload": {"email": "ada@example.com", "name": "Ada", "message": "hi"},
        }),
    };
    event.to_string()
}

/// Every call answers: `Ok`, or an error that says something.
fn answered<T, E: std::fmt::Display>(
    call: &str,
    result: Result<T, E>,
) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        prop_assert!(
            !e.to_string().trim().is_empty(),
            "{call}: an error without a message"
        );
    }
    Ok(())
}

/// What a test does to the engine: move the clock and tick, or deliver an event.
#[derive(Clone, Debug)]
enum Step {
    Tick(DateTime<Utc>),
    Event(usize, DateTime<Utc>),
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// With every example's rules (and so their schedules, in New York and London
    /// time) loaded: no events at all then a tick, one event, and events and ticks at
    /// the edges of chrono's range never panic, and every call answers.
    #[test]
    fn time_at_the_edges_of_the_calendar_never_panics(
        start in instant(),
        steps in prop::collection::vec(
            prop_oneof![
                instant().prop_map(Step::Tick),
                (0..5usize, instant()).prop_map(|(k, at)| Step::Event(k, at)),
            ],
            0..6,
        ),
    ) {
        let program = examples_program();
        let clock = ManualClock::new(start);
        let mut engine = Engine::builder(program)
            .handlers(Handlers::dry_run(Arc::new(Mutex::new(Vec::new()))))
            .store(MemoryStore::new())
            .clock(clock.clone())
            .build()
            .unwrap();
        // No events at all, then a tick (and what the host asks next).
        answered("tick", engine.tick())?;
        answered("next_due", engine.next_due())?;
        for (n, step) in steps.into_iter().enumerate() {
            match step {
                Step::Tick(at) => clock.set(at),
                Step::Event(kind, at) => {
                    answered("handle_json", engine.handle_json(&dated_event(n, kind, at)))?;
                }
            }
            answered("tick", engine.tick())?;
            if let Ok(Some(due)) = engine.next_due() {
                // Where a host's timer would take it next.
                clock.set(due);
                answered("tick at next_due", engine.tick())?;
            }
            // "Run now", at whatever the clock says.
            let rule = ["stuck_deals", "renewal_reminder"][n % 2];
            answered("fire", engine.fire(rule))?;
        }
    }
}

/// What the property above first found: `today` in a schedule's zone (London, west of
/// Greenwich at chrono's first instant) panicked in chrono when run at either end of
/// its range.
#[test]
fn today_at_the_ends_of_time_is_empty_not_a_panic() {
    for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        let clock = ManualClock::new(at);
        let mut engine = Engine::builder(examples_program())
            .handlers(Handlers::dry_run(Arc::new(Mutex::new(Vec::new()))))
            .store(MemoryStore::new())
            .clock(clock)
            .build()
            .unwrap();
        engine.tick().unwrap();
        for rule in ["renewal_reminder", "stuck_deals"] {
            engine.fire(rule).unwrap();
        }
    }
}
