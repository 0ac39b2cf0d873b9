//! Engine behaviour through the public embedding API: what a host sees.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use rulec::diagnostics::Severity;
use rulec::engine::{
    ActionKind, Clock, Effect, Engine, EngineError, Handlers, ManualClock, MemoryStore, Outcome,
    RunStatus, SqliteStore, StepStatus, Store,
};
use rulec::ir::Program;
use rulec::workspace::analyze_text;

fn program(rules: &str) -> Program {
    let analysis = analyze_text("t.rules", rules);
    let errors: Vec<_> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    analysis.program().unwrap()
}

fn clock(at: &str) -> ManualClock {
    ManualClock::new(at.parse().unwrap())
}

fn build(
    rules: &str,
    handlers: Handlers,
    store: impl Store + 'static,
    clock: &ManualClock,
) -> Engine {
    Engine::builder(program(rules))
        .handlers(handlers)
        .store(store)
        .clock(clock.clone())
        .secrets(|name| (name == "API_TOKEN").then(|| "tok-9f8e7d".to_string()))
        .build()
        .unwrap()
}

fn dry(rules: &str, at: &str) -> (Engine, ManualClock, Arc<Mutex<Vec<Effect>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let clock = clock(at);
    let engine = build(
        rules,
        Handlers::dry_run(log.clone()),
        MemoryStore::new(),
        &clock,
    );
    (engine, clock, log)
}

fn created(id: &str, record: &str, fields: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"record.created","object":"deals","record_id":"{record}","at":"2026-03-02T10:00:00Z","record":{fields}}}"#
    )
}

const WAIT_THEN_SLACK: &str = r##"rule w
  when stage changed to ClosedWon
  do
    slack "#wins" "now"
    wait 2 days
    slack "#wins" "later"
"##;

#[test]
fn a_wait_resumes_when_its_time_has_come_and_not_before() {
    let (mut engine, clock, log) = dry(WAIT_THEN_SLACK, "2026-03-02T10:00:00Z");
    let runs = engine
        .handle_json(&created("e1", "d1", r#"{"name":"A","stage":"ClosedWon"}"#))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Waiting);
    assert_eq!(engine.waiting().unwrap().len(), 1);
    assert_eq!(
        engine.next_due().unwrap(),
        Some("2026-03-04T10:00:00Z".parse().unwrap())
    );
    clock.advance_to("2026-03-03T10:00:00Z".parse().unwrap());
    assert!(engine.tick().unwrap().is_empty());
    clock.advance_to("2026-03-04T10:00:00Z".parse().unwrap());
    let resumed = engine.tick().unwrap();
    assert_eq!(resumed.len(), 1, "{resumed:?}");
    assert_eq!(resumed[0].status, RunStatus::Completed);
    let texts: Vec<_> = log
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.text("text").unwrap().to_string())
        .collect();
    assert_eq!(texts, ["now", "later"]);
    assert!(engine.waiting().unwrap().is_empty());
}

#[test]
fn an_answered_ask_continues_down_the_branch_the_answer_picks() {
    let rules = r##"rule discount
  when stage changed to Negotiation
  do
    ask owner "Discount for {{name}}?" timeout 2 days as decision
    if decision.approved then
      slack "#deals" "approved by {{decision.answered_by}}: {{decision.answer}}"
    else
      slack "#deals" "declined"
    end
"##;
    let (mut engine, _clock, log) = dry(rules, "2026-03-02T10:00:00Z");
    let runs = engine
        .handle_json(&created(
            "e1",
            "d1",
            r#"{"name":"A","stage":"Negotiation","owner":"ana@acme.com"}"#,
        ))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Waiting);
    let run = runs[0].run.clone();
    let done = engine
        .resume(&run, serde_json::json!({"approved": true, "answer": "10% max", "answered_by": "bo@acme.com"}))
        .unwrap();
    assert_eq!(done[0].status, RunStatus::Completed);
    let last = log
        .lock()
        .unwrap()
        .last()
        .unwrap()
        .text("text")
        .unwrap()
        .to_string();
    assert_eq!(last, "approved by bo@acme.com: 10% max");
    // A second answer finds nothing waiting.
    assert!(engine
        .resume(&run, serde_json::json!({"approved": false}))
        .is_err());
}

#[test]
fn a_custom_action_gets_typed_arguments_and_retries_only_retryable_errors() {
    let rules = r##"action pagerduty(severity: select [low, high], summary: text, count: number) idempotent

rule page
  when stage changed to ClosedLost and value > 0
  do
    pagerduty(severity: high, summary: "{{name}} lost", count: value) retry 3
"##;
    let calls = Arc::new(AtomicU32::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (c, s) = (calls.clone(), seen.clone());
    let handlers = Handlers::new().action("pagerduty", move |effect| {
        s.lock().unwrap().push(effect.args.clone());
        match c.fetch_add(1, Ordering::SeqCst) {
            0 => Outcome::retry("503 from PagerDuty"),
            _ => Outcome::done(),
        }
    });
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = build(rules, handlers, MemoryStore::new(), &clock);
    let runs = engine
        .handle_json(&created(
            "e1",
            "d1",
            r#"{"name":"A","stage":"ClosedLost","value":1200}"#,
        ))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Completed, "{runs:?}");
    assert_eq!(runs[0].steps[0].attempts, 2);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let args = seen.lock().unwrap()[0].clone();
    assert_eq!(args["severity"], "high");
    assert_eq!(args["summary"], "A lost");
    assert_eq!(args["count"], 1200);

    // A permanent error is not retried, and fails the run.
    let handlers = Handlers::new().action("pagerduty", |_| Outcome::fail("401 unauthorised"));
    let mut engine = build(rules, handlers, MemoryStore::new(), &clock);
    let runs = engine
        .handle_json(&created(
            "e1",
            "d1",
            r#"{"name":"A","stage":"ClosedLost","value":1200}"#,
        ))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert_eq!(runs[0].steps[0].attempts, 1);
    assert!(runs[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("401 unauthorised"));
}

#[test]
fn on_error_continue_logs_the_error_and_goes_on() {
    let rules = r##"rule notify
  when stage changed to ClosedWon and value > 0
  do
    http POST "https://hooks.example.com/won" body { name: name } on error continue
    slack "#wins" "{{name}}"
"##;
    let sent = Arc::new(AtomicU32::new(0));
    let s = sent.clone();
    let handlers = Handlers::new()
        .on(ActionKind::Http, |_| Outcome::fail("connection refused"))
        .on(ActionKind::Slack, move |_| {
            s.fetch_add(1, Ordering::SeqCst);
            Outcome::done()
        });
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = build(rules, handlers, MemoryStore::new(), &clock);
    let runs = engine
        .handle_json(&created(
            "e1",
            "d1",
            r#"{"name":"A","stage":"ClosedWon","value":5}"#,
        ))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Completed);
    assert_eq!(runs[0].steps[0].status, StepStatus::Continued);
    assert_eq!(
        runs[0].steps[0].error.as_deref(),
        Some("connection refused")
    );
    assert_eq!(sent.load(Ordering::SeqCst), 1);
}

#[test]
fn a_panicking_handler_fails_its_step_and_the_engine_goes_on() {
    let rules = r##"rule notify
  when stage changed to ClosedWon and value > 0
  do slack "#wins" "{{name}}"
"##;
    let handlers = Handlers::new().on(ActionKind::Slack, |_| panic!("handler bug"));
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = build(rules, handlers, MemoryStore::new(), &clock);
    let runs = engine
        .handle_json(&created(
            "e1",
            "d1",
            r#"{"name":"A","stage":"ClosedWon","value":5}"#,
        ))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Failed);
    let runs = engine
        .handle_json(&created(
            "e2",
            "d2",
            r#"{"name":"B","stage":"ClosedWon","value":5}"#,
        ))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Failed);
}

#[test]
fn secrets_reach_the_handler_but_never_the_run_record() {
    let rules = r##"rule sync
  when stage changed to ClosedWon and value > 0
  do http POST "https://api.example.com/sync" headers { Authorization: "Bearer {{secret("API_TOKEN")}}" } body { name: name }
"##;
    let seen = Arc::new(Mutex::new(String::new()));
    let s = seen.clone();
    let handlers = Handlers::new().on(ActionKind::Http, move |effect| {
        *s.lock().unwrap() = effect.args["headers"]["Authorization"]
            .as_str()
            .unwrap()
            .to_string();
        // A careless API echoes the credential back in its error.
        Outcome::fail("rejected token Bearer tok-9f8e7d")
    });
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = build(rules, handlers, MemoryStore::new(), &clock);
    let runs = engine
        .handle_json(&created(
            "e1",
            "d1",
            r#"{"name":"A","stage":"ClosedWon","value":5}"#,
        ))
        .unwrap();
    assert_eq!(seen.lock().unwrap().as_str(), "Bearer tok-9f8e7d");
    let json = serde_json::to_string(&runs).unwrap();
    assert!(!json.contains("tok-9f8e7d"), "{json}");
    let history = serde_json::to_string(&engine.history(10).unwrap()).unwrap();
    assert!(!history.contains("tok-9f8e7d"), "{history}");
}

#[test]
fn round_robin_rotates_fairly_and_remembers_its_cursor_across_restarts() {
    let rules = r##"team sdr = ["ana@acme.com", "bo@acme.com", "cy@acme.com"]

rule assign
  when deals created and value > 0
  do set owner = round_robin(sdr)
"##;
    let dir = tempdir();
    let path = dir.join("state.db");
    let clock = clock("2026-03-02T10:00:00Z");
    let mut owners = Vec::new();
    for batch in 0..2 {
        let mut engine = build(
            rules,
            Handlers::dry_run(Default::default()),
            SqliteStore::open(&path).unwrap(),
            &clock,
        );
        for i in 0..3 {
            let id = format!("e{batch}{i}");
            let runs = engine
                .handle_json(&created(&id, &id, r#"{"name":"A","value":5}"#))
                .unwrap();
            owners.push(
                runs[0].steps[0].input.as_ref().unwrap()["value"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        engine.flush().unwrap();
    }
    assert_eq!(
        owners,
        [
            "ana@acme.com",
            "bo@acme.com",
            "cy@acme.com",
            "ana@acme.com",
            "bo@acme.com",
            "cy@acme.com"
        ]
    );
}

#[test]
fn a_waiting_run_survives_a_restart_on_the_same_file_and_nothing_repeats() {
    let dir = tempdir();
    let path = dir.join("state.db");
    let clock = clock("2026-03-02T10:00:00Z");
    let first = Arc::new(Mutex::new(Vec::new()));
    {
        let mut engine = build(
            WAIT_THEN_SLACK,
            Handlers::dry_run(first.clone()),
            SqliteStore::open(&path).unwrap(),
            &clock,
        );
        let runs = engine
            .handle_json(&created("e1", "d1", r#"{"name":"A","stage":"ClosedWon"}"#))
            .unwrap();
        assert_eq!(runs[0].status, RunStatus::Waiting);
        engine.flush().unwrap();
    }
    let second = Arc::new(Mutex::new(Vec::new()));
    let mut engine = build(
        WAIT_THEN_SLACK,
        Handlers::dry_run(second.clone()),
        SqliteStore::open(&path).unwrap(),
        &clock,
    );
    // The same event again, after the restart: recognised.
    let again = engine
        .handle_json(&created("e1", "d1", r#"{"name":"A","stage":"ClosedWon"}"#))
        .unwrap();
    assert!(
        again.iter().all(|r| r.status == RunStatus::Suppressed),
        "{again:?}"
    );
    clock.advance_to("2026-03-05T00:00:00Z".parse().unwrap());
    let resumed = engine.tick().unwrap();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].status, RunStatus::Completed);
    assert_eq!(first.lock().unwrap().len(), 1);
    let after: Vec<_> = second
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.text("text").unwrap().to_string())
        .collect();
    assert_eq!(after, ["later"]);
}

#[test]
fn a_deferred_effect_waits_for_the_host_to_resume_it() {
    let rules = r##"action provision(person: text)

rule onboard
  when deals created and value > 0
  do
    provision(person: name) as laptop
    note "laptop" "ticket {{laptop.ticket}}"
"##;
    let notes = Arc::new(Mutex::new(Vec::new()));
    let n = notes.clone();
    let handlers =
        Handlers::new()
            .action("provision", |_| Outcome::Defer)
            .on(ActionKind::Note, move |e| {
                n.lock().unwrap().push(e.text("body").unwrap().to_string());
                Outcome::done()
            });
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = build(rules, handlers, MemoryStore::new(), &clock);
    let runs = engine
        .handle_json(&created("e1", "d1", r#"{"name":"A","value":5}"#))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Waiting);
    let done = engine
        .resume(&runs[0].run, serde_json::json!({"ticket": "IT-42"}))
        .unwrap();
    assert_eq!(done[0].status, RunStatus::Completed);
    assert_eq!(notes.lock().unwrap().as_slice(), ["ticket IT-42"]);
}

#[test]
fn a_deferred_effect_is_settled_by_its_key_with_an_output_or_an_error() {
    let rules = r##"action provision(person: text)

rule onboard
  when deals created and value > 0
  do
    provision(person: name) as laptop
    note "laptop" "ticket {{laptop.ticket}}"

rule lenient
  when deals created and value < 0
  do
    provision(person: name) on error continue
    note "laptop" "went on"
"##;
    let keys = Arc::new(Mutex::new(Vec::new()));
    let notes = Arc::new(Mutex::new(Vec::new()));
    let (k, n) = (keys.clone(), notes.clone());
    let handlers = Handlers::new()
        .action("provision", move |e| {
            k.lock().unwrap().push(e.key.clone());
            Outcome::Defer
        })
        .on(ActionKind::Note, move |e| {
            n.lock().unwrap().push(e.text("body").unwrap().to_string());
            Outcome::done()
        });
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = build(rules, handlers, MemoryStore::new(), &clock);
    for (event, record, value) in [("e1", "d1", 5), ("e2", "d2", 6), ("e3", "d3", -1)] {
        let runs = engine
            .handle_json(&created(
                event,
                record,
                &format!(r#"{{"name":"A","value":{value}}}"#),
            ))
            .unwrap();
        assert!(
            runs.iter().any(|r| r.status == RunStatus::Waiting),
            "{runs:?}"
        );
    }
    let keys = keys.lock().unwrap().clone();
    let done = engine
        .settle(&keys[0], Ok(serde_json::json!({"ticket": "IT-42"})))
        .unwrap();
    assert_eq!(done[0].status, RunStatus::Completed);
    assert!(matches!(
        engine.settle(&keys[0], Ok(serde_json::json!({}))),
        Err(EngineError::NotPending(_))
    ));
    let failed = engine.settle(&keys[1], Err("no stock".into())).unwrap();
    assert_eq!(failed[0].status, RunStatus::Failed);
    let reason = failed[0].reason.as_deref().unwrap();
    assert!(
        reason.contains("provision") && reason.contains("no stock"),
        "{reason}"
    );
    let went_on = engine.settle(&keys[2], Err("no stock".into())).unwrap();
    assert_eq!(went_on[0].status, RunStatus::Completed);
    assert_eq!(went_on[0].steps[0].status, StepStatus::Continued);
    assert_eq!(
        notes.lock().unwrap().as_slice(),
        ["ticket IT-42", "went on"]
    );
}

#[test]
fn a_paused_rule_starts_no_runs_until_it_is_unpaused_across_restarts() {
    let rules = r##"rule onboard
  when deals created and value > 0
  do note "hello" "{{name}}"
"##;
    let path = tempdir().join("state.db");
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = build(
        rules,
        Handlers::dry_run(Arc::default()),
        SqliteStore::open(&path).unwrap(),
        &clock,
    );
    assert!(matches!(
        engine.pause("nope"),
        Err(EngineError::UnknownRule(_))
    ));
    engine.pause("onboard").unwrap();
    let runs = engine
        .handle_json(&created("e1", "d1", r#"{"name":"A","value":5}"#))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Suppressed);
    assert_eq!(runs[0].reason.as_deref(), Some("paused by an operator"));
    drop(engine);

    let mut engine = build(
        rules,
        Handlers::dry_run(Arc::default()),
        SqliteStore::open(&path).unwrap(),
        &clock,
    );
    assert!(engine.paused().contains("onboard"));
    engine.unpause("onboard").unwrap();
    let runs = engine
        .handle_json(&created("e2", "d2", r#"{"name":"B","value":5}"#))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Completed);
}

#[test]
fn a_waiting_run_goes_on_with_the_rule_version_it_started_on() {
    let version = |text: &str| {
        format!(
            "rule nudge\n  when deals created and value > 0\n  do\n    wait 1 day\n    slack \"#deals\" \"{text}\"\n"
        )
    };
    let path = tempdir().join("state.db");
    let clock = clock("2026-03-02T10:00:00Z");
    let sent = Arc::new(Mutex::new(Vec::new()));
    let texts = |log: &Arc<Mutex<Vec<Effect>>>| -> Vec<String> {
        log.lock()
            .unwrap()
            .iter()
            .map(|e| e.text("text").unwrap().to_string())
            .collect()
    };
    let first = version("started on v1");
    let mut engine = build(
        &first,
        Handlers::dry_run(sent.clone()),
        SqliteStore::open(&path).unwrap(),
        &clock,
    );
    let runs = engine
        .handle_json(&created("e1", "d1", r#"{"name":"A","value":5}"#))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Waiting);
    engine.flush().unwrap();
    drop(engine);

    // The rule is edited while the run waits; a new run starts on the new version.
    let second = version("started on v2");
    let mut engine = build(
        &second,
        Handlers::dry_run(sent.clone()),
        SqliteStore::open(&path).unwrap(),
        &clock,
    );
    engine
        .handle_json(&created("e2", "d2", r#"{"name":"B","value":5}"#))
        .unwrap();
    engine.flush().unwrap();
    drop(engine);

    // And removed before either is due: both still go on, each as it started.
    let mut engine = build(
        "",
        Handlers::dry_run(sent.clone()),
        SqliteStore::open(&path).unwrap(),
        &clock,
    );
    clock.advance_to("2026-03-03T11:00:00Z".parse().unwrap());
    let resumed = engine.tick().unwrap();
    assert_eq!(resumed.len(), 2, "{resumed:?}");
    assert!(
        resumed.iter().all(|r| r.status == RunStatus::Completed),
        "{resumed:?}"
    );
    let mut said = texts(&sent);
    said.sort();
    assert_eq!(said, ["started on v1", "started on v2"]);
}

#[test]
fn records_an_event_brings_along_are_read_through_references() {
    let rules = r##"rule acme_deals
  when deals created and company.name = "Acme"
  do slack "#acme" "{{name}} at {{company.name}}"
"##;
    let (mut engine, _clock, log) = dry(rules, "2026-03-02T10:00:00Z");
    let event = |id: &str, related: &str| {
        format!(
            r#"{{"id":"{id}","type":"record.created","object":"deals","record_id":"d-{id}","at":"2026-03-02T10:00:00Z","record":{{"name":"Big","company":"c1"}}{related}}}"#
        )
    };
    let alone = engine.handle_json(&event("e1", "")).unwrap();
    assert_eq!(
        alone[0].status,
        RunStatus::Skipped,
        "the company is unknown"
    );
    let brought = r#","related":[{"object":"companies","id":"c1","record":{"name":"Acme"}}]"#;
    let runs = engine.handle_json(&event("e2", brought)).unwrap();
    assert_eq!(runs[0].status, RunStatus::Completed, "{runs:?}");
    assert_eq!(log.lock().unwrap()[0].text("text"), Some("Big at Acme"));
    let wrong = r#","related":[{"object":"companies","id":"c1","record":{"name":5}}]"#;
    let error = engine
        .handle_json(&event("e3", wrong))
        .unwrap_err()
        .to_string();
    assert!(error.contains("related[0].record.name"), "{error}");
}

fn tempdir() -> std::path::PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rulec-engine-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn an_unset_secret_fails_its_step_by_name() {
    let rules = r##"rule sync
  when stage changed to ClosedWon and value > 0
  do http POST "https://api.example.com/sync" headers { Authorization: secret("MISSING_TOKEN") }
"##;
    let (mut engine, _clock, log) = dry(rules, "2026-03-02T10:00:00Z");
    let runs = engine
        .handle_json(&created(
            "e1",
            "d1",
            r#"{"name":"A","stage":"ClosedWon","value":5}"#,
        ))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Failed);
    let error = runs[0].steps[0].error.as_deref().unwrap();
    assert_eq!(error, "`secret(\"MISSING_TOKEN\")` is not set");
    assert!(log.lock().unwrap().is_empty(), "nothing was sent");
}

#[test]
fn a_workspace_with_errors_has_no_program_to_run() {
    let analysis = analyze_text(
        "t.rules",
        "rule ok\n  when stage changed to ClosedWon do slack \"#wins\"\n\nrule broken\n  when stage changed to Opn do slack \"#wins\"\n",
    );
    // The rule that checks is compiled, the broken one is not: running the rest would
    // silently run less than the file says.
    assert_eq!(analysis.checked.rules.len(), 1);
    assert!(analysis.checked.has_errors());
    let error = analysis.program().unwrap_err();
    assert_eq!(error.errors, 1);
    assert!(analysis.checked.program(&analysis.units).is_err());
    assert!(error.to_string().contains("1 error"), "{error}");
}

/// A store whose reads of one object fail, as a disk or a network store can — all of
/// them, or (`scans_only`) only loading the whole table.
struct FailingReads {
    inner: MemoryStore,
    object: &'static str,
    scans_only: bool,
}

impl Store for FailingReads {
    fn record(
        &self,
        object: &str,
        id: &str,
    ) -> Result<Option<Arc<rulec::engine::Snapshot>>, rulec::engine::StoreError> {
        if object == self.object && !self.scans_only {
            return Err(rulec::engine::StoreError("disk read failed".into()));
        }
        self.inner.record(object, id)
    }
    fn index(
        &mut self,
        object: &str,
        attributes: &[&str],
    ) -> Result<(), rulec::engine::StoreError> {
        self.inner.index(object, attributes)
    }
    fn find(
        &self,
        object: &str,
        attribute: &str,
        key: &str,
    ) -> Result<Vec<String>, rulec::engine::StoreError> {
        self.inner.find(object, attribute, key)
    }
    fn put_record(
        &mut self,
        object: &str,
        id: &str,
        snapshot: Arc<rulec::engine::Snapshot>,
    ) -> Result<(), rulec::engine::StoreError> {
        self.inner.put_record(object, id, snapshot)
    }
    fn remove_record(&mut self, object: &str, id: &str) -> Result<(), rulec::engine::StoreError> {
        self.inner.remove_record(object, id)
    }
    fn records(
        &self,
        object: &str,
    ) -> Result<Vec<(String, Arc<rulec::engine::Snapshot>)>, rulec::engine::StoreError> {
        if object == self.object {
            return Err(rulec::engine::StoreError("the whole table was read".into()));
        }
        self.inner.records(object)
    }
    fn get(
        &self,
        space: rulec::engine::Space,
        key: &str,
    ) -> Result<Option<serde_json::Value>, rulec::engine::StoreError> {
        self.inner.get(space, key)
    }
    fn put(
        &mut self,
        space: rulec::engine::Space,
        key: &str,
        value: serde_json::Value,
    ) -> Result<(), rulec::engine::StoreError> {
        self.inner.put(space, key, value)
    }
    fn remove(
        &mut self,
        space: rulec::engine::Space,
        key: &str,
    ) -> Result<(), rulec::engine::StoreError> {
        self.inner.remove(space, key)
    }
    fn scan(
        &self,
        space: rulec::engine::Space,
    ) -> Result<Vec<(String, serde_json::Value)>, rulec::engine::StoreError> {
        self.inner.scan(space)
    }
    fn append_run(
        &mut self,
        run: &rulec::engine::RunRecord,
    ) -> Result<(), rulec::engine::StoreError> {
        self.inner.append_run(run)
    }
    fn history(
        &self,
        limit: usize,
    ) -> Result<Vec<rulec::engine::RunRecord>, rulec::engine::StoreError> {
        self.inner.history(limit)
    }
    fn commit(&mut self) -> Result<(), rulec::engine::StoreError> {
        self.inner.commit()
    }
}

#[test]
fn a_store_that_cannot_read_a_referenced_record_stops_the_run_before_the_message() {
    let rules = r##"rule wins
  when stage changed to ClosedWon and value > 0
  do slack "#wins" "{{name}} at {{company.name}}"
"##;
    let log = Arc::new(Mutex::new(Vec::new()));
    let clock = clock("2026-03-02T10:00:00Z");
    let store = FailingReads {
        inner: MemoryStore::new(),
        object: "companies",
        scans_only: false,
    };
    let mut engine = build(rules, Handlers::dry_run(log.clone()), store, &clock);
    let result = engine.handle_json(&created(
        "e1",
        "d1",
        r#"{"name":"A","stage":"ClosedWon","value":5,"company":"co1"}"#,
    ));
    let error = result.unwrap_err().to_string();
    assert!(error.contains("disk read failed"), "{error}");
    assert!(
        log.lock().unwrap().is_empty(),
        "no message with a blank company name went out"
    );
}

/// A `find` whose filter has `attr = value` reads the records the store's index
/// names, not the whole table — and still finds the first match in id order, the one
/// a walk over every record finds.
#[test]
fn a_find_by_an_attribute_reads_only_the_records_the_index_names() {
    let rules = r##"rule link
  on deals
  when created
  do
    find companies where companies.name = record.name and companies.tier = SMB as c
    slack "#deals" "{{c.name}} {{c.domains}}"
"##;
    let rules = format!("object companies {{\n  tier: select [Enterprise, SMB]\n}}\n{rules}");
    let log = Arc::new(Mutex::new(Vec::new()));
    let clock = clock("2026-03-02T10:00:00Z");
    let store = FailingReads {
        inner: MemoryStore::new(),
        object: "companies",
        scans_only: true,
    };
    let mut engine = build(&rules, Handlers::dry_run(log.clone()), store, &clock);
    for (id, name, tier, domain) in [
        ("c3", "Acme", "SMB", "third.com"),
        ("c1", "Acme", "Enterprise", "first.com"),
        ("c2", "acme", "SMB", "second.com"),
        ("c4", "Beta", "SMB", "beta.com"),
    ] {
        engine
            .load_record(
                "companies",
                id,
                &serde_json::json!({"name": name, "tier": tier, "domains": [domain]}),
            )
            .unwrap();
    }
    let runs = engine
        .handle_json(&created("e1", "d1", r#"{"name":"Acme"}"#))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Completed, "{runs:?}");
    let sent = log.lock().unwrap();
    // c1 has the name but not the tier; c2's name differs in case; c3 is the match.
    assert_eq!(sent[0].text("text"), Some("Acme third.com"), "{sent:?}");
}

#[test]
fn a_damaged_waiting_run_is_reported_not_skipped() {
    let rules =
        "rule later\n  when deals created and value > 0\n  do\n    wait 1 hour\n    slack \"#x\"\n";
    let (mut engine, _clock, _log) = dry(rules, "2026-03-02T10:00:00Z");
    let mut store = MemoryStore::new();
    store
        .put(
            rulec::engine::Space::Runs,
            "later@e0",
            serde_json::json!({"not": "a run"}),
        )
        .unwrap();
    let clock = clock("2026-03-02T10:00:00Z");
    let mut damaged = build(rules, Handlers::dry_run(Default::default()), store, &clock);
    let error = damaged.tick().unwrap_err().to_string();
    assert!(error.contains("damaged waiting run `later@e0`"), "{error}");
    // A healthy engine ticks fine.
    engine.tick().unwrap();
}

#[test]
fn a_hand_edited_program_with_a_bad_date_does_not_load() {
    let program = program(
        "rule soon\n  when deals created and close_date before 2026-03-01 do slack \"#x\"\n",
    );
    let json = serde_json::to_string(&program)
        .unwrap()
        .replace("2026-03-01", "2026-02-30");
    let edited: Program = serde_json::from_str(&json).unwrap();
    let error = Engine::builder(edited).build().err().unwrap().to_string();
    assert!(
        error.contains("`2026-02-30` is not a calendar date"),
        "{error}"
    );
}

#[test]
fn schedules_and_time_arithmetic_at_the_ends_of_time_never_panic() {
    let rules = r##"rule every_minute
  every 1 minutes
  do slack "#tick"

rule ny
  every weekday at 09:00 in "America/New_York"
  do slack "#ny"

rule tokyo
  every month on day 31 at 23:59 in "Asia/Tokyo"
  do slack "#tokyo"

rule later
  when deals created and value > 0
  do
    wait 100000 weeks
    set close_date = today + 100000 weeks
"##;
    for at in [
        chrono::DateTime::<chrono::Utc>::MIN_UTC,
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
    ] {
        let clock = ManualClock::new(at);
        let mut engine = build(
            rules,
            Handlers::dry_run(Default::default()),
            MemoryStore::new(),
            &clock,
        );
        engine.tick().unwrap();
        engine.next_due().unwrap();
        engine.tick().unwrap();
    }
}

#[test]
fn a_template_that_would_render_past_the_bound_fails_its_step() {
    let holes = "{{name}}".repeat(100);
    let rules = format!(
        "rule big\n  when stage changed to ClosedWon and value > 0\n  do note \"big\" \"{holes}\"\n"
    );
    let (mut engine, _clock, log) = dry(&rules, "2026-03-02T10:00:00Z");
    let name = "x".repeat(20_000);
    let runs = engine
        .handle_json(&created(
            "e1",
            "d1",
            &format!(r#"{{"name":"{name}","stage":"ClosedWon","value":5}}"#),
        ))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Failed);
    let error = runs[0].steps[0].error.as_deref().unwrap();
    assert!(error.contains("over 1 MiB"), "{error}");
    assert!(
        log.lock().unwrap().is_empty(),
        "nothing that large was sent"
    );
}

/// Every file of the state database (the file, its WAL and its effect journal), as
/// one lowercased text: what someone with a copy of it can read.
fn state_files_text(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        text.push_str(&String::from_utf8_lossy(&bytes).to_lowercase());
    }
    text
}

#[test]
fn values_derived_from_a_secret_never_reach_the_state_database_or_the_run_record() {
    let rules = r##"action provision(token: text, tokens: list of text, config: json)

rule sync
  when stage changed to ClosedWon and value > 0
  do
    http POST "https://api.example.com/sync/{{lower(trim(secret("VAULT")))}}" headers { A: lower(secret("VAULT")), B: upper(secret("VAULT")), C: capitalize(trim(secret("VAULT"))), D: title_case(secret("VAULT")), E: trim(secret("VAULT")), F: domain(secret("VAULT")) } body { tokens: [lower(secret("VAULT")), name], auth: { token: upper(trim(secret("VAULT"))) }, size: len(secret("VAULT")) } on error continue
    provision(token: capitalize(trim(secret("VAULT"))), tokens: [title_case(secret("VAULT"))], config: { nested: { host: domain(secret("VAULT")) } }) on error continue
    wait 1 day
    slack "#ops" "synced {{name}}"
"##;
    const VAULT: &str = " Ada.Token@Vault-9F8E.Example ";
    let sent = Arc::new(Mutex::new(Vec::new()));
    let (http, custom) = (sent.clone(), sent.clone());
    // A careless API echoes everything it was sent back in its error.
    let echo = |effect: &Effect| serde_json::to_string(&effect.args).unwrap();
    let handlers = Handlers::dry_run(Default::default())
        .on(ActionKind::Http, move |effect| {
            http.lock().unwrap().push(effect.args.clone());
            Outcome::fail(format!("rejected {}", echo(effect)))
        })
        .action("provision", move |effect| {
            custom.lock().unwrap().push(effect.args.clone());
            Outcome::retry(format!("busy with {}", echo(effect)))
        });
    let dir = tempdir();
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = Engine::builder(program(rules))
        .handlers(handlers)
        .store(SqliteStore::open(&dir.join("state.db")).unwrap())
        .clock(clock.clone())
        .secrets(|name| (name == "VAULT").then(|| VAULT.to_string()))
        .build()
        .unwrap();
    let runs = engine
        .handle_json(&created(
            "e1",
            "d1",
            r#"{"name":"Zanzibar","stage":"ClosedWon","value":5}"#,
        ))
        .unwrap();

    // The handlers get the real values, in the shapes written.
    let sent = sent.lock().unwrap();
    let (http, custom) = (&sent[0], &sent[1]);
    let headers = &http["headers"];
    assert_eq!(headers["A"], " ada.token@vault-9f8e.example ");
    assert_eq!(headers["B"], " ADA.TOKEN@VAULT-9F8E.EXAMPLE ");
    assert_eq!(headers["C"], "Ada.Token@Vault-9F8E.Example");
    assert_eq!(headers["E"], "Ada.Token@Vault-9F8E.Example");
    assert_eq!(headers["F"], "vault-9f8e.example");
    assert_eq!(
        http["url"],
        "https://api.example.com/sync/ada.token@vault-9f8e.example"
    );
    assert_eq!(
        http["body"],
        serde_json::json!({
            "tokens": [" ada.token@vault-9f8e.example ", "Zanzibar"],
            "auth": { "token": "ADA.TOKEN@VAULT-9F8E.EXAMPLE" },
            "size": 30,
        })
    );
    assert_eq!(
        custom["tokens"],
        serde_json::json!([" Ada.Token@Vault-9F8E.Example "])
    );
    assert_eq!(
        custom["config"],
        serde_json::json!({ "nested": { "host": "vault-9f8e.example" } })
    );

    // Run records show `***` for each, errors included, and keep the shapes.
    assert_eq!(runs[0].status, RunStatus::Waiting);
    let record = serde_json::to_string(&runs).unwrap().to_lowercase();
    for derived in ["ada.token", "vault-9f8e"] {
        assert!(!record.contains(derived), "{derived} in {record}");
    }
    let input = runs[0].steps[0].input.as_ref().unwrap();
    assert_eq!(input["headers"]["F"], "***");
    assert_eq!(input["url"], "https://api.example.com/sync/***");
    assert_eq!(input["body"]["auth"], serde_json::json!({ "token": "***" }));
    assert_eq!(
        input["body"]["tokens"],
        serde_json::json!(["***", "Zanzibar"])
    );
    let error = runs[0].steps[0].error.as_deref().unwrap();
    assert!(error.starts_with("rejected {"), "{error}");
    assert!(error.contains(r#""F":"***""#), "{error}");

    // Neither the journal of performed effects nor the database, with its stored
    // waiting run and history, holds any form of the secret.
    let assert_no_secret = |moment: &str| {
        let state = state_files_text(&dir);
        for derived in ["ada.token", "vault-9f8e"] {
            assert!(!state.contains(derived), "{derived} in the state {moment}");
        }
        state
    };
    assert_no_secret("before the commit");
    engine.flush().unwrap();
    let state = assert_no_secret("after the commit");
    assert!(state.contains("zanzibar"), "the state is stored as text");
    assert_eq!(engine.waiting().unwrap().len(), 1);
    drop(engine);
    assert_no_secret("after closing");
}

/// Writes a store has taken but not yet made durable, replayed at a "restart".
#[derive(Clone)]
enum Write {
    Record(String, String, Option<Arc<rulec::engine::Snapshot>>),
    Value(rulec::engine::Space, String, Option<serde_json::Value>),
    Run(Box<rulec::engine::RunRecord>),
}

/// What survives `kill -9`: committed writes and effects journaled since.
#[derive(Default)]
struct Disk {
    committed: Vec<Write>,
    journal: Vec<(String, serde_json::Value)>,
    /// Effects to keep before the process "dies"; `None`: it never does.
    crash_after: Option<usize>,
    dead: bool,
}

/// A store with the durability contract of [`Store::effect_done`] and nothing more:
/// once the process is dead, nothing reaches the disk, and the handlers refuse.
struct Crashing {
    live: MemoryStore,
    pending: Vec<Write>,
    disk: Arc<Mutex<Disk>>,
}

impl Crashing {
    fn new(disk: Arc<Mutex<Disk>>) -> Crashing {
        Crashing {
            live: MemoryStore::new(),
            pending: Vec::new(),
            disk,
        }
    }

    /// The store a restarted process opens: the disk, replayed.
    fn restart(disk: Arc<Mutex<Disk>>) -> Crashing {
        let mut live = MemoryStore::new();
        {
            let mut d = disk.lock().unwrap();
            for write in d.committed.clone() {
                apply(&mut live, write);
            }
            for (key, value) in d.journal.clone() {
                live.put(rulec::engine::Space::Effects, &key, value)
                    .unwrap();
            }
            d.crash_after = None;
            d.dead = false;
        }
        Crashing {
            live,
            pending: Vec::new(),
            disk,
        }
    }

    fn take(&mut self, write: Write) -> Result<(), rulec::engine::StoreError> {
        if !self.disk.lock().unwrap().dead {
            self.pending.push(write.clone());
        }
        apply(&mut self.live, write);
        Ok(())
    }
}

fn apply(store: &mut MemoryStore, write: Write) {
    match write {
        Write::Record(o, id, Some(s)) => store.put_record(&o, &id, s).unwrap(),
        Write::Record(o, id, None) => store.remove_record(&o, &id).unwrap(),
        Write::Value(space, k, Some(v)) => store.put(space, &k, v).unwrap(),
        Write::Value(space, k, None) => store.remove(space, &k).unwrap(),
        Write::Run(run) => store.append_run(&run).unwrap(),
    }
}

impl Store for Crashing {
    fn record(
        &self,
        object: &str,
        id: &str,
    ) -> Result<Option<Arc<rulec::engine::Snapshot>>, rulec::engine::StoreError> {
        self.live.record(object, id)
    }
    fn put_record(
        &mut self,
        object: &str,
        id: &str,
        snapshot: Arc<rulec::engine::Snapshot>,
    ) -> Result<(), rulec::engine::StoreError> {
        self.take(Write::Record(object.into(), id.into(), Some(snapshot)))
    }
    fn remove_record(&mut self, object: &str, id: &str) -> Result<(), rulec::engine::StoreError> {
        self.take(Write::Record(object.into(), id.into(), None))
    }
    fn records(
        &self,
        object: &str,
    ) -> Result<Vec<(String, Arc<rulec::engine::Snapshot>)>, rulec::engine::StoreError> {
        self.live.records(object)
    }
    fn get(
        &self,
        space: rulec::engine::Space,
        key: &str,
    ) -> Result<Option<serde_json::Value>, rulec::engine::StoreError> {
        self.live.get(space, key)
    }
    fn put(
        &mut self,
        space: rulec::engine::Space,
        key: &str,
        value: serde_json::Value,
    ) -> Result<(), rulec::engine::StoreError> {
        self.take(Write::Value(space, key.into(), Some(value)))
    }
    fn remove(
        &mut self,
        space: rulec::engine::Space,
        key: &str,
    ) -> Result<(), rulec::engine::StoreError> {
        self.take(Write::Value(space, key.into(), None))
    }
    fn scan(
        &self,
        space: rulec::engine::Space,
    ) -> Result<Vec<(String, serde_json::Value)>, rulec::engine::StoreError> {
        self.live.scan(space)
    }
    fn append_run(
        &mut self,
        run: &rulec::engine::RunRecord,
    ) -> Result<(), rulec::engine::StoreError> {
        self.take(Write::Run(Box::new(run.clone())))
    }
    fn history(
        &self,
        limit: usize,
    ) -> Result<Vec<rulec::engine::RunRecord>, rulec::engine::StoreError> {
        self.live.history(limit)
    }
    fn commit(&mut self) -> Result<(), rulec::engine::StoreError> {
        let mut disk = self.disk.lock().unwrap();
        if !disk.dead {
            disk.committed.append(&mut self.pending);
            disk.journal.clear();
        }
        Ok(())
    }
    fn effect_done(
        &mut self,
        key: &str,
        output: &serde_json::Value,
    ) -> Result<(), rulec::engine::StoreError> {
        self.live
            .put(rulec::engine::Space::Effects, key, output.clone())?;
        let mut disk = self.disk.lock().unwrap();
        if !disk.dead {
            disk.journal.push((key.to_string(), output.clone()));
            if let Some(n) = &mut disk.crash_after {
                *n -= 1;
                disk.dead = *n == 0;
            }
        }
        Ok(())
    }
    fn batch(&self) -> usize {
        // Like SQLite's batches: most writes are not durable when the process dies.
        1_000
    }
}

const CRASH_RULES: &str = r##"webhook signup {
  domain: domain
  who: text
}

rule intake
  when webhook signup and payload.domain is set
  do
    upsert companies by domains { domains: [payload.domain], name: payload.who } as up
    create deals { name: "{{payload.who}} deal", value: 500, company: up } as deal
    slack "#signups" "{{up.name}} signed up, deal {{deal}}"

rule new_company
  when companies created
  do
    note "welcome" "{{name}} is new"
    create task "Call {{name}}" key name

rule big_deal
  when deals created and value > 100
  do
    ask "ana@acme.com" "Approve {{name}}?" as decision
    slack "#deals" "asked"
"##;

const CRASH_EVENTS: [&str; 4] = [
    r#"{"id":"w1","type":"webhook","name":"signup","at":"2026-03-02T10:00:00Z","payload":{"domain":"acme.com","who":"Acme"}}"#,
    r#"{"id":"w2","type":"webhook","name":"signup","at":"2026-03-02T10:01:00Z","payload":{"domain":"acme.com","who":"Acme"}}"#,
    r#"{"id":"w3","type":"webhook","name":"signup","at":"2026-03-02T10:02:00Z","payload":{"domain":"globex.com","who":"Globex"}}"#,
    r#"{"id":"w4","type":"webhook","name":"signup","at":"2026-03-02T10:03:00Z","payload":{"domain":"acme.com","who":"Acme"}}"#,
];

/// Effects performed, as `action key`; a dead process performs nothing.
fn crash_handlers(disk: Arc<Mutex<Disk>>, log: Arc<Mutex<Vec<String>>>) -> Handlers {
    Handlers::new().otherwise(move |effect| {
        if disk.lock().unwrap().dead {
            return Outcome::fail("the process is dead");
        }
        log.lock()
            .unwrap()
            .push(format!("{} {}", effect.action, effect.key));
        rulec::engine::dry_run_answer(effect)
    })
}

fn crash_run(disk: &Arc<Mutex<Disk>>, store: Crashing, log: &Arc<Mutex<Vec<String>>>) {
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = build(
        CRASH_RULES,
        crash_handlers(disk.clone(), log.clone()),
        store,
        &clock,
    );
    for event in CRASH_EVENTS {
        engine.handle_json(event).unwrap();
    }
}

#[test]
fn a_crash_after_any_effect_loses_nothing_and_repeats_nothing() {
    let disk = Arc::new(Mutex::new(Disk::default()));
    let clean = Arc::new(Mutex::new(Vec::new()));
    crash_run(&disk, Crashing::new(disk.clone()), &clean);
    let mut clean = clean.lock().unwrap().clone();
    assert!(clean.iter().any(|e| e.starts_with("note ")), "{clean:?}");
    assert_eq!(
        clean.iter().filter(|e| e.starts_with("ask ")).count(),
        4,
        "{clean:?}"
    );
    clean.sort();
    for crash_after in 1..=clean.len() {
        let disk = Arc::new(Mutex::new(Disk {
            crash_after: Some(crash_after),
            ..Disk::default()
        }));
        let log = Arc::new(Mutex::new(Vec::new()));
        crash_run(&disk, Crashing::new(disk.clone()), &log);
        assert!(disk.lock().unwrap().dead);
        // The host delivers again every event it had not seen flushed: all of them.
        crash_run(&disk, Crashing::restart(disk.clone()), &log);
        let mut union = log.lock().unwrap().clone();
        union.sort();
        assert_eq!(union, clean, "killed after effect {crash_after}");
    }
}

/// Where an outbox host dies: after taking its `n`-th effect, before performing it
/// (the entry was committed); or after performing it, before answering.
#[derive(Clone, Copy, Debug)]
enum Death {
    BeforeEffect(usize),
    BeforeAnswer(usize),
}

/// An outbox host over [`Crashing`]: takes effects, performs them against a target
/// that remembers what it did (`target`: key → answer), answers them. After a
/// restart it reconciles each effect the outbox says was in flight with the target
/// before performing anything. Returns the keys it took but never answered.
fn outbox_host_run(
    disk: &Arc<Mutex<Disk>>,
    store: Crashing,
    target: &Arc<Mutex<Vec<(String, String)>>>,
    death: Option<Death>,
) -> Vec<String> {
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = Engine::builder(program(CRASH_RULES))
        .outbox()
        .store(store)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut taken = 0;
    let mut unanswered = Vec::new();
    for event in CRASH_EVENTS {
        engine.handle_json(event).unwrap();
        loop {
            let effects = engine.take_effects().unwrap();
            if effects.is_empty() {
                break;
            }
            // Taken as a batch: all of it is in flight until answered.
            let mut batch: Vec<String> = effects.iter().map(|e| e.key.clone()).collect();
            for effect in effects {
                taken += 1;
                if matches!(death, Some(Death::BeforeEffect(n)) if n == taken) {
                    disk.lock().unwrap().dead = true;
                    unanswered.append(&mut batch);
                    unanswered.sort();
                    return unanswered;
                }
                let done = target.lock().unwrap().iter().any(|(k, _)| *k == effect.key);
                if !done {
                    target
                        .lock()
                        .unwrap()
                        .push((effect.key.clone(), effect.action.clone()));
                }
                if matches!(death, Some(Death::BeforeAnswer(n)) if n == taken) {
                    disk.lock().unwrap().dead = true;
                    unanswered.append(&mut batch);
                    unanswered.sort();
                    return unanswered;
                }
                let answer = rulec::engine::dry_run_answer(&effect);
                engine.complete(&effect.key, answer).unwrap();
                batch.retain(|k| *k != effect.key);
            }
        }
    }
    unanswered
}

#[test]
fn an_outbox_host_killed_before_or_after_an_effect_finds_it_in_flight_and_repeats_none() {
    let clean_disk = Arc::new(Mutex::new(Disk::default()));
    let clean = Arc::new(Mutex::new(Vec::new()));
    outbox_host_run(&clean_disk, Crashing::new(clean_disk.clone()), &clean, None);
    let mut clean = clean.lock().unwrap().clone();
    clean.sort();
    // The same effects as the inline handlers perform.
    let inline = Arc::new(Mutex::new(Vec::new()));
    crash_run(&clean_disk, Crashing::new(clean_disk.clone()), &inline);
    let mut inline: Vec<String> = inline.lock().unwrap().clone();
    inline.sort();
    let outbox: Vec<String> = clean.iter().map(|(k, a)| format!("{a} {k}")).collect();
    let mut outbox = outbox;
    outbox.sort();
    assert_eq!(outbox, inline);

    for n in 1..=clean.len() {
        for death in [Death::BeforeEffect(n), Death::BeforeAnswer(n)] {
            let disk = Arc::new(Mutex::new(Disk::default()));
            let target = Arc::new(Mutex::new(Vec::new()));
            let unanswered =
                outbox_host_run(&disk, Crashing::new(disk.clone()), &target, Some(death));
            // After the restart, the outbox says which effect was in flight.
            let restarted = Crashing::restart(disk.clone());
            let engine = Engine::builder(program(CRASH_RULES))
                .outbox()
                .store(restarted)
                .build()
                .unwrap();
            let in_flight: Vec<String> = engine
                .outbox()
                .unwrap()
                .into_iter()
                .filter(|(_, e)| e.state == rulec::engine::EffectState::InFlight)
                .map(|(k, _)| k)
                .collect();
            assert!(!in_flight.is_empty(), "{death:?}");
            assert_eq!(in_flight, unanswered, "{death:?}");
            drop(engine);
            // The host goes on, delivering every event again.
            outbox_host_run(&disk, Crashing::restart(disk.clone()), &target, None);
            let mut performed = target.lock().unwrap().clone();
            performed.sort();
            assert_eq!(performed, clean, "{death:?}");
        }
    }
}

#[test]
fn a_state_database_that_lost_commits_is_refused_not_trusted() {
    let dir = tempdir();
    let path = dir.join("state.db");
    let mut store = SqliteStore::open(&path).unwrap();
    store.effect_done("k", &serde_json::json!(null)).unwrap();
    drop(store);
    let mut store = SqliteStore::open(&path).unwrap();
    for n in 0..3 {
        store
            .effect_done(&format!("k{n}"), &serde_json::json!({ "done": n }))
            .unwrap();
        store.commit().unwrap();
    }
    // A copy taken without its `-wal` file: as if the WAL had been deleted after a
    // kill, the database is back before the commits its journal already counts.
    let copy = dir.join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    std::fs::copy(dir.join("state.db-effects"), dir.join("copy.db-effects")).unwrap();
    let error = SqliteStore::open(&copy).unwrap_err().to_string();
    assert!(error.contains("its journal starts after 4"), "{error}");
    assert!(error.contains("the database lost commits"), "{error}");
    assert!(error.contains("copy.db"), "{error}");
    drop(store);
    // Closed cleanly, the file is whole and opens.
    SqliteStore::open(&path).unwrap();
}

#[test]
fn deliveries_and_effects_are_forgotten_after_the_retention_window_but_explicit_keys_are_not() {
    let rules = r##"rule w
  when deals created
  do
    slack "#wins" "won {{name}}"
    create task "Call {{name}}" key name
"##;
    let dir = tempdir();
    let log = Arc::new(Mutex::new(Vec::new()));
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = Engine::builder(program(rules))
        .handlers(Handlers::dry_run(log.clone()))
        .store(SqliteStore::open(&dir.join("state.db")).unwrap())
        .clock(clock.clone())
        .retention(7 * 24 * 3600)
        .build()
        .unwrap();
    let event = created("e1", "d1", r#"{"name":"A"}"#);
    engine.handle_json(&event).unwrap();
    // Within the window a redelivery is recognised.
    clock.advance_to("2026-03-08T10:00:00Z".parse().unwrap());
    engine.prune().unwrap();
    let again = engine.handle_json(&event).unwrap();
    assert_eq!(again[0].status, RunStatus::Suppressed);
    assert_eq!(engine.history(100).unwrap().len(), 1);
    // Past it, the marker, the message's key and the old history are gone, so the
    // event runs again; the task's explicit key is remembered for good.
    clock.advance_to("2026-03-20T10:00:00Z".parse().unwrap());
    engine.prune().unwrap();
    assert!(engine.history(100).unwrap().is_empty());
    let late = engine.handle_json(&event).unwrap();
    assert_eq!(late[0].status, RunStatus::Completed);
    let steps: Vec<StepStatus> = late[0].steps.iter().map(|s| s.status).collect();
    assert_eq!(steps, [StepStatus::Done, StepStatus::AlreadyDone]);
    let actions: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.action.clone())
        .collect();
    assert_eq!(actions, ["slack", "create_task", "slack"]);
}

#[test]
fn a_tick_resumes_exactly_the_runs_that_are_due_among_many_waiting() {
    let rules =
        "rule later\n  when deals created and value > 0\n  do\n    wait 1 hour\n    slack \"#x\" \"{{name}}\"\n";
    let dir = tempdir();
    let log = Arc::new(Mutex::new(Vec::new()));
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = build(
        rules,
        Handlers::dry_run(log.clone()),
        SqliteStore::open(&dir.join("state.db")).unwrap(),
        &clock,
    );
    let start: chrono::DateTime<chrono::Utc> = "2026-03-02T10:00:00Z".parse().unwrap();
    for n in 1..=300 {
        clock.advance_to(start + chrono::Duration::seconds(n));
        let fields = format!(r#"{{"name":"D{n}","value":{n}}}"#);
        let event = created(&format!("e{n}"), &format!("d{n}"), &fields);
        engine.handle_json(&event).unwrap();
    }
    assert_eq!(
        engine.next_due().unwrap(),
        Some("2026-03-02T11:00:01Z".parse().unwrap())
    );
    clock.advance_to("2026-03-02T11:00:10.5Z".parse().unwrap());
    let resumed = engine.tick().unwrap();
    assert_eq!(resumed.len(), 10);
    engine.flush().unwrap();
    drop(engine);
    // After a restart the rest are still found by their due times.
    let mut engine = build(
        rules,
        Handlers::dry_run(log.clone()),
        SqliteStore::open(&dir.join("state.db")).unwrap(),
        &clock,
    );
    assert_eq!(
        engine.next_due().unwrap(),
        Some("2026-03-02T11:00:11Z".parse().unwrap())
    );
    clock.advance_to("2026-03-02T16:00:00Z".parse().unwrap());
    assert_eq!(engine.tick().unwrap().len(), 290);
    assert_eq!(engine.next_due().unwrap(), None);
    assert_eq!(log.lock().unwrap().len(), 300);
}

// The outbox: effects as data, performed by the host.

const UPSERT_THEN_HTTP: &str = r##"rule intake
  when deals created and value > 0
  do
    upsert companies by domains { name: "{{name}} Co", domains: ["{{lower(name)}}.com"] } as org
    http POST "https://api.example.com/sync" headers { Authorization: "Bearer {{secret("API_TOKEN")}}" } body { name: name, org: org } retry 2
"##;

/// Feeds [`UPSERT_THEN_HTTP`] its event, answers the upsert, returns the `http` effect.
fn up_to_the_http_step(engine: &mut Engine) -> Effect {
    engine
        .handle_json(&created("e1", "d1", r#"{"name":"Acme","value":5}"#))
        .unwrap();
    let upsert = engine.take_effects().unwrap().remove(0);
    engine
        .complete(&upsert.key, Outcome::Done(serde_json::json!({"id": "c-1"})))
        .unwrap();
    engine.take_effects().unwrap().remove(0)
}

/// What the `http` step of [`UPSERT_THEN_HTTP`] sends: its authorisation and org.
fn sent(effect: &Effect) -> (String, String) {
    (
        effect.args["headers"]["Authorization"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        effect.args["body"]["org"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

fn outbox_engine(rules: &str, store: impl Store + 'static, clock: &ManualClock) -> Engine {
    Engine::builder(program(rules))
        .outbox()
        .store(store)
        .clock(clock.clone())
        .secrets(|name| (name == "API_TOKEN").then(|| "tok-9f8e7d".to_string()))
        .build()
        .unwrap()
}

#[test]
fn the_outbox_hands_each_effect_to_the_host_and_the_run_goes_on_with_its_answer() {
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = outbox_engine(UPSERT_THEN_HTTP, MemoryStore::new(), &clock);
    let runs = engine
        .handle_json(&created("e1", "d1", r#"{"name":"Acme","value":5}"#))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Waiting);
    assert_eq!(
        runs[0].reason.as_deref(),
        Some("waiting for `upsert` to be performed")
    );
    let effects = engine.take_effects().unwrap();
    let [upsert] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(
        (
            upsert.action.as_str(),
            upsert.rule.as_str(),
            upsert.step.as_str()
        ),
        ("upsert", "intake", "0")
    );
    assert_eq!(upsert.run, runs[0].run);
    assert_eq!(upsert.version, runs[0].version);
    assert_eq!(upsert.attempt, 1);
    // Taken: in flight, and not handed out twice.
    let outbox = engine.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].1.state, rulec::engine::EffectState::InFlight);
    assert!(engine.take_effects().unwrap().is_empty());

    let runs = engine
        .complete(&upsert.key, Outcome::Done(serde_json::json!({"id": "c-1"})))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Waiting, "{runs:?}");
    let effects = engine.take_effects().unwrap();
    let [http] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    // The binding from the first answer, the secret resolved for the host only.
    assert_eq!(sent(http), ("Bearer tok-9f8e7d".into(), "c-1".into()));
    assert_eq!(http.step, "1");
    let entry = &engine.outbox().unwrap()[0].1;
    assert!(!entry.input.to_string().contains("tok-9f8e7d"), "{entry:?}");

    let runs = engine.complete(&http.key, Outcome::done()).unwrap();
    let done = runs.iter().find(|r| r.rule == "intake").unwrap();
    assert_eq!(done.status, RunStatus::Completed, "{runs:?}");
    assert_eq!(done.effects.len(), 2);
    assert!(engine.outbox().unwrap().is_empty());
    // A second answer changes nothing.
    assert!(matches!(
        engine.complete(&http.key, Outcome::done()),
        Err(rulec::engine::EngineError::NotPending(_))
    ));
    assert!(engine.take_effects().unwrap().is_empty());
}

#[test]
fn a_write_waiting_for_its_retry_holds_its_record_across_a_restart() {
    let rules = "rule bump when stage changed to ClosedWon do set value = 1 retry 3\n";
    let dir = tempdir();
    let path = dir.join("state.db");
    let clock = clock("2026-03-02T10:00:00Z");
    let deal = ("deals".to_string(), "d1".to_string());
    {
        let mut engine = outbox_engine(rules, SqliteStore::open(&path).unwrap(), &clock);
        engine
            .handle_json(&created("e1", "d1", r#"{"stage":"ClosedWon"}"#))
            .unwrap();
        let effects = engine.take_effects().unwrap();
        assert_eq!(engine.writes_unanswered(), std::slice::from_ref(&deal));
        engine
            .complete(&effects[0].key, Outcome::retry("timed out"))
            .unwrap();
        assert_eq!(
            engine.writes_unanswered(),
            std::slice::from_ref(&deal),
            "a retry is still on its way"
        );
        engine.flush().unwrap();
    }
    let mut engine = outbox_engine(rules, SqliteStore::open(&path).unwrap(), &clock);
    assert!(engine.take_effects().unwrap().is_empty(), "not due yet");
    assert_eq!(engine.writes_unanswered(), [deal]);
}

#[test]
fn a_retryable_failure_in_the_outbox_comes_back_at_its_backoff_time_not_at_once() {
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = outbox_engine(UPSERT_THEN_HTTP, MemoryStore::new(), &clock);
    let http = up_to_the_http_step(&mut engine);

    let runs = engine
        .complete(&http.key, Outcome::retry("503 from the API"))
        .unwrap();
    assert!(
        runs[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("waiting to try `http` again at"),
        "{runs:?}"
    );
    let entry = engine.outbox().unwrap().remove(0).1;
    assert_eq!(entry.state, rulec::engine::EffectState::Retrying);
    assert_eq!(entry.attempt, 2);
    let retrying = engine
        .outbox_in(rulec::engine::EffectState::Retrying)
        .unwrap();
    assert_eq!(retrying, vec![(http.key.clone(), entry.clone())]);
    assert!(engine
        .outbox_in(rulec::engine::EffectState::InFlight)
        .unwrap()
        .is_empty());
    assert_eq!(entry.error.as_deref(), Some("503 from the API"));
    let due = entry.due.unwrap();
    let wait = (due - clock.now()).num_seconds();
    assert!((5..=10).contains(&wait), "first backoff {wait}s");
    // Not before its time, and an answer to the failed attempt is not taken twice.
    assert!(engine.complete(&http.key, Outcome::done()).is_err());
    engine.tick().unwrap();
    assert!(engine.take_effects().unwrap().is_empty());

    clock.set(due);
    engine.tick().unwrap();
    let again = engine.take_effects().unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].key.as_str(), again[0].attempt),
        (http.key.as_str(), 2)
    );
    // The target's Retry-After wins over the backoff.
    engine
        .complete(&http.key, Outcome::retry_after("429", 120))
        .unwrap();
    let entry = engine.outbox().unwrap().remove(0).1;
    assert_eq!((entry.due.unwrap() - due).num_seconds(), 120);

    clock.set(entry.due.unwrap());
    engine.tick().unwrap();
    let third = engine.take_effects().unwrap();
    assert_eq!(third[0].attempt, 3);
    // `retry 2`: the third attempt was the last.
    let runs = engine
        .complete(&http.key, Outcome::retry("503 from the API"))
        .unwrap();
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert!(runs[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("503 from the API"));
    assert_eq!(runs[0].steps[1].attempts, 3);
    assert!(engine.outbox().unwrap().is_empty());
}

#[test]
fn after_a_restart_the_outbox_hands_out_again_what_was_pending_or_in_flight() {
    let dir = tempdir();
    let path = dir.join("state.db");
    let clock = clock("2026-03-02T10:00:00Z");
    let key = {
        let mut engine = outbox_engine(UPSERT_THEN_HTTP, SqliteStore::open(&path).unwrap(), &clock);
        let http = up_to_the_http_step(&mut engine);
        // The process dies with the message in flight.
        http.key
    };
    let text = state_files_text(&dir);
    assert!(
        !text.contains("tok-9f8e7d"),
        "a secret reached the state files"
    );

    let mut engine = outbox_engine(UPSERT_THEN_HTTP, SqliteStore::open(&path).unwrap(), &clock);
    let outbox = engine.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].0, key);
    assert_eq!(outbox[0].1.state, rulec::engine::EffectState::InFlight);
    // "What was in flight?" is a query on the state (SQLite answers it from an index,
    // named in the query: a store whose index could not serve it fails here).
    use rulec::engine::EffectState::{InFlight, Pending, Retrying};
    assert_eq!(engine.outbox_in(InFlight).unwrap(), outbox);
    assert!(engine.outbox_in(Pending).unwrap().is_empty());
    assert!(engine.outbox_in(Retrying).unwrap().is_empty());
    // Redelivery of the event adds nothing to the outbox.
    engine
        .handle_json(&created("e1", "d1", r#"{"name":"Acme","value":5}"#))
        .unwrap();
    let effects = engine.take_effects().unwrap();
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(effects[0].key, key);
    assert_eq!(
        sent(&effects[0]),
        ("Bearer tok-9f8e7d".into(), "c-1".into())
    );
    let runs = engine.complete(&key, Outcome::done()).unwrap();
    assert_eq!(runs[0].status, RunStatus::Completed, "{runs:?}");
    assert!(engine.take_effects().unwrap().is_empty());
    assert!(engine.outbox().unwrap().is_empty());
}

#[test]
fn an_outbox_ask_is_answered_like_an_inline_one() {
    let rules = r##"rule approve
  when deals created and value > 0
  do
    ask "ana@acme.com" "Approve {{name}}?" as approval
    if approval.approved then
      slack "#deals" "approved"
    end
"##;
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = outbox_engine(rules, MemoryStore::new(), &clock);
    let runs = engine
        .handle_json(&created("e1", "d1", r#"{"name":"Acme","value":5}"#))
        .unwrap();
    let ask = engine.take_effects().unwrap().remove(0);
    assert_eq!(ask.action, "ask");
    // The request is out; the run waits for the person's answer.
    let waiting = engine.complete(&ask.key, Outcome::Defer).unwrap();
    assert_eq!(waiting[0].reason.as_deref(), Some("waiting for an answer"));
    assert!(engine.outbox().unwrap().is_empty());
    engine
        .resume(
            &runs[0].run,
            serde_json::json!({"approved": true, "answer": null}),
        )
        .unwrap();
    let slack = engine.take_effects().unwrap();
    assert_eq!(slack[0].text("text"), Some("approved"));
}

#[test]
fn an_engine_can_move_to_another_thread_and_its_errors_say_why() {
    fn send<T: Send>() {}
    send::<Engine>();
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = outbox_engine(UPSERT_THEN_HTTP, MemoryStore::new(), &clock);
    let error = engine
        .handle_json(r#"{"id":"e1","type":"record.created"}"#)
        .unwrap_err();
    let source = std::error::Error::source(&error).expect("an event error has a source");
    assert_eq!(source.to_string(), error.to_string());
}

#[test]
fn the_sqlite_store_reads_its_own_writes_before_a_commit_and_only_commits_survive() {
    use rulec::engine::{Record, Snapshot, Val};
    let snapshot = |domain: &str| {
        Arc::new(Snapshot {
            at: None,
            names: vec![Arc::<str>::from("name"), Arc::from("domains")].into(),
            values: Record(vec![
                Val::text("Acme"),
                Val::List(vec![Val::text(domain)].into()),
            ]),
        })
    };
    let dir = tempdir();
    let path = dir.join("state.db");
    {
        let mut store = SqliteStore::open(&path).unwrap();
        store.index("companies", &["domains"]).unwrap();
        store
            .put_record("companies", "c1", snapshot("acme.com"))
            .unwrap();
        store.commit().unwrap();
        // A write not yet committed is what reads, lookups and scans see…
        store
            .put_record("companies", "c1", snapshot("acme.io"))
            .unwrap();
        assert_eq!(
            store.record("companies", "c1").unwrap(),
            Some(snapshot("acme.io"))
        );
        assert_eq!(
            store.find("companies", "domains", "acme.io").unwrap(),
            ["c1"]
        );
        assert!(store
            .find("companies", "domains", "acme.com")
            .unwrap()
            .is_empty());
        assert_eq!(
            store.records("companies").unwrap()[0].1,
            snapshot("acme.io")
        );
        // …and dies with the process if no commit follows.
    }
    let mut store = SqliteStore::open(&path).unwrap();
    store.index("companies", &["domains"]).unwrap();
    assert_eq!(
        store.record("companies", "c1").unwrap(),
        Some(snapshot("acme.com"))
    );
    assert_eq!(
        store.find("companies", "domains", "acme.com").unwrap(),
        ["c1"]
    );
    store
        .put_record("companies", "c1", snapshot("acme.io"))
        .unwrap();
    store.commit().unwrap();
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.record("companies", "c1").unwrap(),
        Some(snapshot("acme.io"))
    );
}

#[test]
fn every_effect_is_handed_out_as_a_typed_request() {
    use rulec::engine::Request;
    let rules = r##"action pagerduty(severity: select [low, high], summary: text)

rule everything
  when deals created and value > 0
  do
    set stage = Qualified
    slack "#deals" "new {{name}}"
    slack dm owner "yours: {{name}}"
    email "ana@acme.com" subject "New deal" body "{{name}}"
    create task "Call {{name}}" for owner due next_business_day()
    note "Created" "{{name}} came in"
    add to list "Sales SDR"
    http POST "https://hooks.example.com/deals" body { name: name }
    create companies { name: "{{name}} Co" }
    upsert companies by domains { domains: ["acme.com"], name: "Acme" }
    pagerduty(severity: high, summary: "{{name}}")
    ask owner "Discount for {{name}}?" as approval
"##;
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = outbox_engine(
        &format!("list \"Sales SDR\" of deals\n\n{rules}"),
        MemoryStore::new(),
        &clock,
    );
    engine
        .handle_json(&created(
            "e1",
            "d1",
            r#"{"name":"Acme","value":5,"stage":"Lead","owner":"bo@acme.com"}"#,
        ))
        .unwrap();
    let mut seen = Vec::new();
    loop {
        let effects = engine.take_effects().unwrap();
        if effects.is_empty() {
            break;
        }
        for effect in effects {
            seen.push(match effect.request() {
                Request::Set {
                    attribute, value, ..
                } => format!("set {attribute}={value}"),
                Request::Slack { channel, text } => format!("slack {channel}: {text}"),
                Request::SlackDm { member, text } => format!("dm {member}: {text}"),
                Request::Email { to, subject, .. } => format!("email {to}: {subject:?}"),
                Request::Task {
                    title,
                    assignee,
                    due,
                    ..
                } => {
                    format!("task {title} for {assignee:?} due {}", due.is_some())
                }
                Request::Note { title, body } => format!("note {title}: {body:?}"),
                Request::List { list, added } => format!("list {list} {added}"),
                Request::Http {
                    method, url, body, ..
                } => {
                    format!("http {method} {url} {}", body.unwrap())
                }
                Request::Create { object, fields } => format!("create {object} {fields:?}"),
                Request::Upsert { object, by, .. } => format!("upsert {object} by {by}"),
                Request::Custom { name, args } => format!("{name} {}", args["severity"]),
                Request::Ask { member, question } => format!("ask {member}: {question}"),
                other => format!("{other:?}"),
            });
            let answer = rulec::engine::dry_run_answer(&effect);
            engine.complete(&effect.key, answer).unwrap();
        }
    }
    assert_eq!(
        seen,
        [
            "set stage=\"Qualified\"",
            "slack #deals: new Acme",
            "dm bo@acme.com: yours: Acme",
            "email ana@acme.com: Some(\"New deal\")",
            "task Call Acme for Some(\"bo@acme.com\") due true",
            "note Created: Some(\"Acme came in\")",
            "list Sales SDR true",
            "http POST https://hooks.example.com/deals {\"name\":\"Acme\"}",
            "create companies {\"name\": String(\"Acme Co\")}",
            "upsert companies by domains",
            "pagerduty \"high\"",
            "ask bo@acme.com: Discount for Acme?",
        ]
    );
}

/// `rule-cycle` and the engine ask one function which event a step causes
/// (`rulec::ir::follow`): every loop the lint reports through a write, a note, a task
/// or a list is one the engine runs into and stops — and once allowed, the engine
/// really does deliver those events to the rules.
#[test]
fn every_loop_rule_cycle_reports_is_one_the_engine_runs_into() {
    let loops = [
        ("bump", "on deals\n  when value changed and value < 1000000\n  do set value = value + 1\n", "record.updated"),
        ("noted", "on deals\n  when note created\n  do note \"seen a note\"\n", "note.created"),
        ("tasked", "on deals\n  when task created\n  do create task \"follow up\" for \"ana@acme.com\"\n", "task.created"),
        ("hot_in", "on deals\n  when added to list \"Hot\"\n  do remove from list \"Hot\"\n\nrule hot_out\n  on deals\n  when removed from list \"Hot\"\n  do add to list \"Hot\"\n", "list-entry"),
    ];
    for (name, body, caused) in loops {
        let rules = format!("list \"Hot\" of deals\n\nrule {name}\n  {body}");
        let lint = analyze_text("t.rules", &rules);
        assert!(
            lint.diagnostics.iter().any(|d| d.code == "rule-cycle"),
            "{name}: the lint misses the loop"
        );
        let allowed = rules.replace("\n  on deals", "\n  allow rule-cycle\n  on deals");
        let (mut engine, _, _) = dry(&allowed, "2026-03-02T10:00:00Z");
        let start = match caused {
            "note.created" => r#"{"id":"e1","type":"note.created","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","note":{}}"#.to_string(),
            "task.created" => r#"{"id":"e1","type":"task.created","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","task":{}}"#.to_string(),
            "list-entry" => r#"{"id":"e1","type":"list-entry.created","object":"deals","record_id":"d1","list":"Hot","at":"2026-03-02T10:00:00Z"}"#.to_string(),
            _ => r#"{"id":"e1","type":"record.updated","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","record":{"value":1},"old":{"value":0}}"#.to_string(),
        };
        let runs = engine.handle_json(&start).unwrap();
        assert!(
            runs.len() > 2,
            "{name}: the engine did not follow its own events: {runs:?}"
        );
        assert!(
            runs.iter().any(|r| r
                .reason
                .as_deref()
                .is_some_and(|why| why.contains("cascade stopped"))),
            "{name}: the loop was not stopped: {runs:?}"
        );
    }
}

const FIND_THEN_SLACK: &str = r##"object companies {
  tier: select [Enterprise, SMB]
}
rule link
  on deals
  when created
  do
    find companies where companies.name = record.name and companies.tier = SMB as c
    wait 1 hour
    slack "#deals" "{{c.name}} {{c.domains}}"
"##;

#[test]
fn with_host_reads_a_find_asks_the_host_filters_its_answer_and_the_run_reads_what_it_returned() {
    let clock = clock("2026-03-02T10:00:00Z");
    let dir = tempdir();
    let state = dir.join("state.db");
    let engine = |clock: &ManualClock| {
        Engine::builder(program(FIND_THEN_SLACK))
            .outbox()
            .host_reads()
            .store(SqliteStore::open(&state).unwrap())
            .clock(clock.clone())
            .build()
            .unwrap()
    };
    let mut first = engine(&clock);
    // A company the engine saw: the host's answer, not this snapshot, is what counts.
    first
        .load_record(
            "companies",
            "c3",
            &serde_json::json!({"name": "Acme", "tier": "SMB", "domains": ["stale.com"]}),
        )
        .unwrap();
    let runs = first
        .handle_json(&created("e1", "d1", r#"{"name":"Acme"}"#))
        .unwrap();
    assert_eq!(
        runs[0].reason.as_deref(),
        Some("waiting for `find` to be performed")
    );
    let effects = first.take_effects().unwrap();
    let [find] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(find.kind(), Some(ActionKind::Find));
    assert_eq!(
        find.request(),
        rulec::engine::Request::Find {
            object: "companies",
            equals: Some(
                &serde_json::json!({"name": "Acme"})
                    .as_object()
                    .unwrap()
                    .clone()
            ),
        }
    );
    // The host narrows by name only (and returns ids out of order): the engine applies
    // the rest of the filter and takes the first match by id.
    let answer = serde_json::json!({"records": [
        {"id": "c4", "values": {"name": "Acme", "tier": "SMB", "domains": ["fourth.com"]}},
        {"id": "c1", "values": {"name": "Acme", "tier": "Enterprise", "domains": ["first.com"]}},
        {"id": "c3", "values": {"name": "Acme", "tier": "SMB", "domains": ["third.com"]}},
    ]});
    let runs = first.complete(&find.key, Outcome::Done(answer)).unwrap();
    assert_eq!(runs[0].status, RunStatus::Waiting, "{runs:?}");
    let step = &runs[0].steps[0];
    assert_eq!(step.output, Some(serde_json::json!({"id": "c3"})));
    first.flush().unwrap();
    drop(first);

    // Restarted, an hour later: the run still reads the record the host returned.
    clock.advance_to("2026-03-02T11:00:01Z".parse().unwrap());
    let mut second = engine(&clock);
    second.tick().unwrap();
    let effects = second.take_effects().unwrap();
    let [slack] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(slack.text("text"), Some("Acme third.com"));
}

#[test]
fn a_host_answer_to_find_that_is_not_records_fails_the_step_by_name_and_none_is_empty() {
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = Engine::builder(program(FIND_THEN_SLACK))
        .outbox()
        .host_reads()
        .clock(clock.clone())
        .build()
        .unwrap();
    for (n, (answer, error)) in [
        (
            serde_json::json!({"rows": []}),
            Some("has no `records` list"),
        ),
        (
            serde_json::json!({"records": [{"values": {}}]}),
            Some("records[0]: `id` is missing"),
        ),
        (
            serde_json::json!({"records": [{"id": "c1", "values": {"tier": 7}}]}),
            Some("records[0]: field `values.tier`"),
        ),
        (serde_json::json!({"records": []}), None),
    ]
    .into_iter()
    .enumerate()
    {
        engine
            .handle_json(&created(
                &format!("e{n}"),
                &format!("d{n}"),
                r#"{"name":"Acme"}"#,
            ))
            .unwrap();
        let find = engine.take_effects().unwrap().remove(0);
        let runs = engine.complete(&find.key, Outcome::Done(answer)).unwrap();
        let step = &runs[0].steps[0];
        match error {
            Some(error) => {
                assert_eq!(runs[0].status, RunStatus::Failed, "{runs:?}");
                assert!(
                    step.error.as_deref().unwrap_or("").contains(error),
                    "{step:?}"
                );
            }
            None => {
                // Nothing found: the binding is empty, the run goes on to its wait.
                assert_eq!(runs[0].status, RunStatus::Waiting, "{runs:?}");
                assert_eq!(step.output, Some(serde_json::json!({"id": null})));
            }
        }
    }
}

const DAILY_BIG_DEALS: &str = r##"rule big
  every day at 09:00
  for deals where value > 100
  do
    slack "#big" "{{name}}"
"##;

#[test]
fn with_host_reads_a_schedule_asks_the_host_for_its_records_retries_the_read_and_runs_each_match_once(
) {
    let clock = clock("2026-03-02T08:59:00Z");
    let mut engine = Engine::builder(program(DAILY_BIG_DEALS))
        .outbox()
        .host_reads()
        .clock(clock.clone())
        .build()
        .unwrap();
    // A deal the engine saw: the host's answer, not the store, decides who is scanned.
    engine
        .load_record(
            "deals",
            "d0",
            &serde_json::json!({"name": "Seen", "value": 500}),
        )
        .unwrap();
    engine.tick().unwrap();
    clock.advance_to("2026-03-02T09:00:30Z".parse().unwrap());
    let runs = engine.tick().unwrap();
    assert_eq!(
        runs[0].reason.as_deref(),
        Some("waiting for `scan` to be performed")
    );
    let effects = engine.take_effects().unwrap();
    let [scan] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(
        scan.request(),
        rulec::engine::Request::Scan { object: "deals" }
    );
    assert_eq!(scan.kind(), Some(ActionKind::Scan));

    // The CRM is busy: the read comes back at its backoff time, not at once.
    engine
        .complete(&scan.key, Outcome::retry_after("429 Too Many Requests", 30))
        .unwrap();
    assert!(engine.take_effects().unwrap().is_empty());
    clock.advance_to("2026-03-02T09:01:01Z".parse().unwrap());
    engine.tick().unwrap();
    let effects = engine.take_effects().unwrap();
    let [scan] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(scan.attempt, 2);
    let answer = serde_json::json!({"records": [
        {"id": "d2", "values": {"name": "Small", "value": 50}},
        {"id": "d1", "values": {"name": "Big", "value": 5000}},
        {"id": "d3", "values": {"name": "Huge", "value": 90000}},
    ]});
    let runs = engine.complete(&scan.key, Outcome::Done(answer)).unwrap();
    let scan_run = runs.iter().find(|r| r.record.is_none()).unwrap();
    assert_eq!(scan_run.status, RunStatus::Completed, "{runs:?}");
    assert_eq!(
        scan_run.steps[0].output,
        Some(serde_json::json!({"records": 3}))
    );
    let mut messages: Vec<String> = engine
        .take_effects()
        .unwrap()
        .iter()
        .map(|e| e.text("text").unwrap_or("").to_string())
        .collect();
    messages.sort();
    assert_eq!(messages, ["Big", "Huge"]);
    // The same occurrence again (a "run now" lands on a new one): nothing repeats.
    engine.tick().unwrap();
    assert!(engine.take_effects().unwrap().is_empty());
}

const SLACK_THEN_HTTP: &str = r##"rule notify
  when deals created
  do
    slack "#deals" "{{name}}"
    http POST "https://hooks.example.com/deal" body { name: name } retry 3
"##;

/// Polls `done` every 10 ms for up to 10 s of real time.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn the_async_host_performs_effects_concurrently_retries_on_its_own_ticks_and_drains() {
    use rulec::engine::AsyncHost;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let clock = clock("2026-03-02T10:00:00Z");
        let engine = outbox_engine(SLACK_THEN_HTTP, MemoryStore::new(), &clock);
        let running = Arc::new(AtomicU32::new(0));
        let peak = Arc::new(AtomicU32::new(0));
        let performed = Arc::new(Mutex::new(Vec::<(String, u32)>::new()));
        let (r, p, log) = (running.clone(), peak.clone(), performed.clone());
        let (host, mut background) = AsyncHost::start(engine, move |effect: Effect| {
            let (running, peak, log) = (r.clone(), p.clone(), log.clone());
            async move {
                let name = effect
                    .text("text")
                    .or(effect.args.get("body").and_then(|b| b["name"].as_str()))
                    .unwrap_or("")
                    .to_string();
                log.lock()
                    .unwrap()
                    .push((format!("{} {name}", effect.action), effect.attempt));
                if effect.action == "slack" {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    // Held until the other message is being sent too (or 2 s pass, as
                    // they would with one effect at a time).
                    for _ in 0..200 {
                        if peak.load(Ordering::SeqCst) >= 2 {
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                    running.fetch_sub(1, Ordering::SeqCst);
                }
                match (effect.action.as_str(), name.as_str(), effect.attempt) {
                    ("http", "Acme", 1) => Outcome::retry_after("503 Service Unavailable", 5),
                    ("http", "Bolt", _) => panic!("a bug in the host's effect code"),
                    _ => Outcome::done(),
                }
            }
        });
        for (n, name) in ["Acme", "Bolt"].iter().enumerate() {
            let runs = host
                .handle_json(created(
                    &format!("e{n}"),
                    &format!("d{n}"),
                    &format!(r#"{{"name":"{name}"}}"#),
                ))
                .await
                .unwrap();
            assert_eq!(runs[0].status, RunStatus::Waiting, "{runs:?}");
        }
        let seen = |log: &Arc<Mutex<Vec<(String, u32)>>>, what: &str, attempt: u32| {
            log.lock()
                .unwrap()
                .iter()
                .any(|(w, a)| w == what && *a == attempt)
        };
        eventually("both http calls", || {
            seen(&performed, "http Acme", 1) && seen(&performed, "http Bolt", 1)
        })
        .await;
        // The two messages were sent at once, not one after the other.
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        // Acme's call waits for its retry time; the host ticks on its own once the
        // clock reaches it.
        assert!(!seen(&performed, "http Acme", 2));
        // Once the engine has taken the answer (the retry's due time counts from it).
        for _ in 0..1000 {
            let retrying = host
                .with(|e| {
                    e.outbox_in(rulec::engine::EffectState::Retrying)
                        .unwrap()
                        .len()
                })
                .await
                .unwrap();
            if retrying == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        clock.advance_to("2026-03-02T10:00:06Z".parse().unwrap());
        eventually("the retry", || seen(&performed, "http Acme", 2)).await;

        let mut finished = Vec::new();
        eventually("both runs to end", || {
            while let Ok(result) = background.try_recv() {
                let runs = result.unwrap().into_iter();
                finished.extend(runs.filter(|r| r.status != RunStatus::Waiting));
            }
            finished.len() == 2
        })
        .await;
        finished.sort_by(|a, b| a.record.cmp(&b.record));
        assert_eq!(finished[0].status, RunStatus::Completed, "{finished:?}");
        // A panicking effect fails its step; the host and the other runs go on.
        assert_eq!(finished[1].status, RunStatus::Failed, "{finished:?}");
        assert!(
            finished[1]
                .reason
                .as_deref()
                .unwrap_or("")
                .contains("task failed"),
            "{finished:?}"
        );

        let engine = host.drain().await.unwrap();
        assert!(engine.outbox().unwrap().is_empty());
        assert!(matches!(
            host.tick().await,
            Err(rulec::engine::EngineError::Stopped)
        ));
    });
}

#[test]
fn with_parking_a_failing_effect_is_retried_then_parked_until_an_operator_retries_or_drops_it() {
    use rulec::engine::EffectState;
    let rules = "rule w\n  when deals created\n  do slack \"#x\" \"{{name}}\"\n";
    let clock = clock("2026-03-02T10:00:00Z");
    let mut engine = Engine::builder(program(rules))
        .outbox()
        .park_after(3)
        .clock(clock.clone())
        .build()
        .unwrap();
    for (n, name) in ["Acme", "Bolt"].iter().enumerate() {
        engine
            .handle_json(&created(
                &format!("e{n}"),
                &format!("d{n}"),
                &format!(r#"{{"name":"{name}"}}"#),
            ))
            .unwrap();
    }
    let mut at = clock.now();
    // Both fail three times although the step has no `retry`: then they park.
    for attempt in 1..=3 {
        let effects = engine.take_effects().unwrap();
        assert_eq!(effects.len(), 2, "attempt {attempt}: {effects:?}");
        for effect in effects {
            assert_eq!(effect.attempt, attempt);
            engine
                .complete(&effect.key, Outcome::retry("503 from Slack"))
                .unwrap();
        }
        at += chrono::Duration::hours(2);
        clock.advance_to(at);
        engine.tick().unwrap();
    }
    assert!(engine.take_effects().unwrap().is_empty());
    let parked = engine.outbox_in(EffectState::Parked).unwrap();
    assert_eq!(parked.len(), 2);
    assert_eq!(parked[0].1.error.as_deref(), Some("503 from Slack"));
    // Days later they are still there, and still not handed out.
    clock.advance_to(at + chrono::Duration::days(3));
    engine.tick().unwrap();
    assert!(engine.take_effects().unwrap().is_empty());

    let (first, second) = (&parked[0].0, &parked[1].0);
    engine.retry_parked(first).unwrap();
    let effects = engine.take_effects().unwrap();
    let [again] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(again.attempt, 4);
    let runs = engine.complete(&again.key, Outcome::done()).unwrap();
    assert_eq!(runs[0].status, RunStatus::Completed, "{runs:?}");

    let runs = engine.drop_parked(second).unwrap();
    assert_eq!(runs[0].status, RunStatus::Failed, "{runs:?}");
    assert!(
        runs[0]
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("dropped by an operator after 3 attempts: 503 from Slack"),
        "{runs:?}"
    );
    assert!(engine.outbox().unwrap().is_empty());
    assert!(matches!(
        engine.drop_parked(second),
        Err(rulec::engine::EngineError::NotPending(_))
    ));
}
