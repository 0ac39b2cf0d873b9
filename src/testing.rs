//! `test` blocks (language.md §7): scenarios run through the real engine with dry-run
//! handlers, so a test sees exactly the effects production would cause.
//!
//! Each test gets a fresh engine over every rule of the workspace: `given` puts a
//! record in the engine's memory, each `event` is turned into the CRM event its
//! trigger syntax describes, and `expect` lines are matched against the effects
//! (and runs) that followed. Time stands still at [`TEST_TIME`]. A test without an
//! `event` exercises the scheduled rules: each runs once, at its first `expect`, as if
//! its occurrence had come.

use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value as Json};

use crate::check::test_block::{literal, literal_map};
use crate::engine::{Effect, Engine, Handlers, ManualClock, MemoryStore, RunRecord, RunStatus};
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{self, TestClauseKind, TriggerKind};
use crate::workspace::Analysis;

/// The instant tests run at: a Monday morning, so `weekday` schedules and
/// `next_business_day` read naturally.
pub const TEST_TIME: &str = "2026-01-05T10:00:00Z";

/// The id of the record a test's `given` describes.
pub const TEST_RECORD: &str = "test-record";

/// One test's outcome.
#[derive(Clone, Debug)]
pub struct TestResult {
    /// The file.
    pub file: Arc<SourceFile>,
    /// The test's name.
    pub name: String,
    /// The `test` block.
    pub span: Span,
    /// `None` when it passed; otherwise why not.
    pub failure: Option<String>,
}

impl TestResult {
    /// True when every expectation held.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Runs every test block of a checked workspace (which must have no errors).
pub fn run(analysis: &Analysis) -> Vec<TestResult> {
    run_matching(analysis, |_, _| true)
}

/// Runs the test block of `file` that holds `offset`, only (the editor's "run test"
/// lens).
pub fn run_at(analysis: &Analysis, file: &str, offset: usize) -> Option<TestResult> {
    run_matching(analysis, |f, span| {
        f.name() == file && span.lo() <= offset && offset < span.hi()
    })
    .pop()
}

fn run_matching(
    analysis: &Analysis,
    wanted: impl Fn(&SourceFile, Span) -> bool,
) -> Vec<TestResult> {
    let mut program = None;
    let mut results = Vec::new();
    for unit in &analysis.units {
        for item in &unit.parsed.document.items {
            let ast::Item::Test(test) = item else {
                continue;
            };
            if !wanted(&unit.file, test.span) {
                continue;
            }
            let program = program.get_or_insert_with(|| analysis.program());
            let failure = match program {
                Ok(program) => run_one(program, &unit.file, test).err(),
                Err(e) => Some(e.to_string()),
            };
            results.push(TestResult {
                file: unit.file.clone(),
                name: test.name.plain().unwrap_or_default(),
                span: test.span,
                failure,
            });
        }
    }
    results
}

fn run_one(
    program: &crate::ir::Program,
    file: &SourceFile,
    test: &ast::TestBlock,
) -> Result<(), String> {
    let log: Arc<Mutex<Vec<Effect>>> = Arc::default();
    let clock = ManualClock::new(TEST_TIME.parse().map_err(|_| "bad test time".to_string())?);
    let mocks = Mocks::of(test).map_err(|e| e.to_string())?;
    let mut engine = Engine::builder(program.clone())
        .handlers(mocks.handlers(log.clone()))
        .store(MemoryStore::new())
        .clock(clock)
        .secrets(|name| Some(format!("test-secret-{name}")))
        .build()
        .map_err(|e| e.to_string())?;
    let at = |span: Span| {
        let p = file.line_col(span.lo());
        format!("line {}", p.line)
    };

    // The records given, in order: object, id and values.
    let mut givens: Vec<(String, String, Map<String, Json>)> = Vec::new();
    let mut last_event: Option<String> = None;
    let mut runs: Vec<RunRecord> = Vec::new();
    let mut events = 0;
    let mut scheduled = false;
    // The list entries the test's events have made, by `<list>:<record>`.
    let mut entries = std::collections::HashSet::new();
    for clause in &test.clauses {
        match &clause.kind {
            TestClauseKind::Given {
                object,
                name,
                fields,
            } => {
                let values =
                    literal_map(fields).map_err(|e| format!("{}: {e}", at(clause.span)))?;
                let id = name.as_ref().map_or(TEST_RECORD, |n| n.name.as_str());
                engine
                    .load_record(&object.name, id, &Json::Object(values.clone()))
                    .map_err(|e| format!("{}: `given`: {e}", at(clause.span)))?;
                givens.push((object.name.clone(), id.to_string(), values));
            }
            TestClauseKind::MockHttp { .. } | TestClauseKind::MockAsk { .. } => {}
            TestClauseKind::Redeliver => {
                let Some(text) = &last_event else {
                    return Err(format!(
                        "{}: `redeliver` needs an `event` before it",
                        at(clause.span)
                    ));
                };
                let handled = engine
                    .handle_json(text)
                    .map_err(|e| format!("{}: the event is not valid: {e}", at(clause.span)))?;
                runs.extend(handled);
                runs.extend(engine.tick().map_err(|e| e.to_string())?);
            }
            TestClauseKind::Event {
                object,
                trigger,
                fields,
            } => {
                events += 1;
                let extra = match fields {
                    Some(f) => literal_map(f).map_err(|e| format!("{}: {e}", at(clause.span)))?,
                    None => Map::new(),
                };
                let object = object
                    .as_ref()
                    .map(|o| o.name.clone())
                    .or_else(|| givens.last().map(|g| g.0.clone()));
                // The event is about the last record given of its object.
                let about = givens.iter().rev().find(|g| Some(&g.0) == object.as_ref());
                let json = event_json(
                    events,
                    object.as_deref(),
                    about.map_or(TEST_RECORD, |g| g.1.as_str()),
                    about.map(|g| &g.2),
                    trigger,
                    extra,
                    &mut entries,
                )
                .map_err(|e| format!("{}: {e}", at(clause.span)))?;
                let text = json.to_string();
                last_event = Some(text.clone());
                let handled = engine
                    .handle_json(&text)
                    .map_err(|e| format!("{}: the event is not valid: {e}", at(clause.span)))?;
                runs.extend(handled);
                // Whatever the event set going in time (none: the clock stands still).
                runs.extend(engine.tick().map_err(|e| e.to_string())?);
                let object = object.unwrap_or_default();
                if let Some((_, _, values)) = givens.iter_mut().rev().find(|g| g.0 == object) {
                    // Later events see the record as this one left it.
                    if let Some(Json::Object(record)) = json.get("record") {
                        values.extend(record.clone());
                    }
                }
            }
            TestClauseKind::Expect {
                negated,
                count,
                action,
                args,
            } => {
                if events == 0 && !scheduled {
                    // No event: the scheduled rules run once, now, over the records
                    // given — how a test exercises `every …` rules.
                    scheduled = true;
                    for rule in &program.rules {
                        if matches!(rule.trigger, crate::ir::Trigger::Schedule(_)) {
                            let fired = engine
                                .fire(&rule.id)
                                .map_err(|e| format!("{}: {e}", at(clause.span)))?;
                            runs.extend(fired);
                        }
                    }
                }
                let wanted = args
                    .iter()
                    .map(literal)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("{}: {e}", at(clause.span)))?;
                let effects = log.lock().map(|l| l.clone()).unwrap_or_default();
                let found = matching(&action.name, &wanted, &effects, &runs);
                if let Some(n) = count {
                    if found != n.value as usize {
                        let what = describe(&action.name, &wanted);
                        let seen = summary(&effects, &runs);
                        return Err(format!(
                            "{}: expected {} {what}, but there were {found}\n{seen}",
                            at(clause.span),
                            n.value
                        ));
                    }
                    continue;
                }
                if (found > 0) == *negated {
                    let what = describe(&action.name, &wanted);
                    let seen = summary(&effects, &runs);
                    return Err(if *negated {
                        format!(
                            "{}: expected no {what}, but there was one\n{seen}",
                            at(clause.span)
                        )
                    } else {
                        format!(
                            "{}: expected {what}, but there was none\n{seen}",
                            at(clause.span)
                        )
                    });
                }
            }
        }
    }
    Ok(())
}

fn describe(action: &str, args: &[Json]) -> String {
    let mut out = format!("`{action}`");
    if !args.is_empty() {
        let shown: Vec<String> = args.iter().map(Json::to_string).collect();
        out.push_str(&format!(" with {}", shown.join(" and ")));
    }
    out
}

fn summary(effects: &[Effect], runs: &[RunRecord]) -> String {
    let mut out = String::new();
    if runs.is_empty() {
        out.push_str("  no rule ran\n");
    }
    for run in runs {
        out.push_str(&format!(
            "  run {} on {}: {}{}\n",
            run.rule,
            run.record.as_deref().unwrap_or("-"),
            run.status.as_str(),
            run.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ));
    }
    for effect in effects {
        out.push_str(&format!(
            "  effect {} {}\n",
            effect.action,
            Json::Object(effect.args.clone())
        ));
    }
    out.trim_end().to_string()
}

/// How many effects (or runs) answer an `expect` line.
fn matching(action: &str, wanted: &[Json], effects: &[Effect], runs: &[RunRecord]) -> usize {
    let status = match action {
        "run" => Some(RunStatus::Completed),
        "skip" => Some(RunStatus::Skipped),
        "stop" => Some(RunStatus::Completed),
        "wait" => Some(RunStatus::Waiting),
        "fail" => Some(RunStatus::Failed),
        _ => None,
    };
    if let Some(status) = status {
        return runs
            .iter()
            .filter(|r| {
                r.status == status
                    && wanted.iter().all(|w| match w {
                        Json::String(s) => {
                            r.rule == *s
                                || r.reason.as_deref().is_some_and(|x| x.contains(s.as_str()))
                        }
                        _ => false,
                    })
            })
            .count();
    }
    let single = [action];
    let names: &[&str] = match action {
        "task" => &["create_task"],
        "list" => &["add_to_list", "remove_from_list"],
        "set" => &["set", "clear"],
        _ => &single,
    };
    effects
        .iter()
        .filter(|e| names.contains(&e.action.as_str()))
        .filter(|e| {
            wanted
                .iter()
                .all(|w| arg_matches(&Json::Object(e.args.clone()), w))
        })
        .count()
}

/// What a test's `given http` and `given ask` lines answer.
#[derive(Clone, Default)]
struct Mocks {
    /// URL starts and their answers, longest start first.
    http: Vec<(String, Json)>,
    /// The answer to every question.
    ask: Option<Json>,
}

impl Mocks {
    fn of(test: &ast::TestBlock) -> Result<Mocks, String> {
        let mut mocks = Mocks::default();
        for clause in &test.clauses {
            match &clause.kind {
                TestClauseKind::MockHttp { url, answer } => {
                    mocks.http.push((url.lossy(), literal(answer)?));
                }
                TestClauseKind::MockAsk { answer } => {
                    mocks.ask = Some(Json::Object(literal_map(answer)?))
                }
                _ => {}
            }
        }
        mocks
            .http
            .sort_by_key(|(url, _)| std::cmp::Reverse(url.len()));
        Ok(mocks)
    }

    /// Dry-run handlers that log every effect, and answer mocked calls and questions.
    fn handlers(self, log: Arc<Mutex<Vec<Effect>>>) -> Handlers {
        Handlers::new().otherwise(move |effect| {
            if let Ok(mut log) = log.lock() {
                log.push(effect.clone());
            }
            match effect.action.as_str() {
                "http" => {
                    let url = effect.text("url").unwrap_or_default();
                    match self
                        .http
                        .iter()
                        .find(|(start, _)| url.starts_with(start.as_str()))
                    {
                        Some((_, answer)) => crate::engine::Outcome::Done(answer.clone()),
                        None => crate::engine::dry_run_answer(effect),
                    }
                }
                "ask" => match &self.ask {
                    Some(answer) => crate::engine::Outcome::Done(answer.clone()),
                    None => crate::engine::dry_run_answer(effect),
                },
                _ => crate::engine::dry_run_answer(effect),
            }
        })
    }
}

/// An expected literal matches an argument equal to it, or text containing it, at
/// any depth of the effect's arguments.
fn arg_matches(value: &Json, wanted: &Json) -> bool {
    match value {
        Json::Object(map) => map.values().any(|v| arg_matches(v, wanted)),
        Json::Array(items) => items.iter().any(|v| arg_matches(v, wanted)),
        Json::String(s) => match wanted {
            Json::String(w) => s == w || s.contains(w.as_str()),
            _ => false,
        },
        Json::Number(n) => wanted.as_f64().is_some_and(|w| n.as_f64() == Some(w)),
        other => other == wanted,
    }
}

/// The CRM event a test's `event` line describes.
fn event_json(
    n: usize,
    object: Option<&str>,
    id: &str,
    given: Option<&Map<String, Json>>,
    trigger: &ast::Trigger,
    extra: Map<String, Json>,
    entries: &mut std::collections::HashSet<String>,
) -> Result<Json, String> {
    let mut event = json!({
        "id": format!("test-event-{n}"),
        "at": TEST_TIME,
        "source": "app",
        "actor": { "type": "workspace-member", "id": "tester@example.com" },
    });
    let record_event = |kind: &str,
                        record: Map<String, Json>,
                        old: Option<Map<String, Json>>|
     -> Result<Json, String> {
        let object =
            object.ok_or("say which object: `event deals created`, or start with `given`")?;
        let mut e = event.clone();
        e["type"] = json!(kind);
        e["object"] = json!(object);
        e["record_id"] = json!(id);
        e["record"] = Json::Object(record);
        if let Some(old) = old {
            e["old"] = Json::Object(old);
        }
        Ok(e)
    };
    let before = |fields: &Map<String, Json>| -> Map<String, Json> {
        fields
            .keys()
            .map(|k| {
                (
                    k.clone(),
                    given.and_then(|g| g.get(k)).cloned().unwrap_or(Json::Null),
                )
            })
            .collect()
    };
    let mut record: Map<String, Json> = given.cloned().unwrap_or_default();
    match &trigger.kind {
        TriggerKind::Created => {
            record.extend(extra);
            record_event("record.created", record, None)
        }
        TriggerKind::Updated => {
            let old = before(&extra);
            record.extend(extra);
            record_event("record.updated", record, Some(old))
        }
        TriggerKind::Deleted => record_event("record.deleted", record, None),
        TriggerKind::Merged => record_event("record.merged", record, None),
        TriggerKind::EntryChanged(list) | TriggerKind::Changed {
            list: Some(list), ..
        } => {
            let mut entry = extra;
            let mut old = Map::new();
            let list = list.plain().unwrap_or_default();
            let entry_id = format!("{list}:{id}");
            // An entry the test has not shown before changes from empty; one it has is
            // compared with what the engine knows of it, unless `from` says.
            let first = entries.insert(entry_id.clone());
            if first {
                old.extend(entry.keys().map(|k| (k.clone(), Json::Null)));
            }
            if let TriggerKind::Changed { attr, from, to, .. } = &trigger.kind {
                let one = |v: &Option<ast::Values>| -> Result<Option<Json>, String> {
                    match v.as_ref().and_then(|v| v.items.first()) {
                        Some(e) => literal(e).map(Some),
                        None => Ok(None),
                    }
                };
                let Some(new) = one(to)?.or_else(|| entry.get(&attr.name).cloned()) else {
                    return Err(format!("say what `{}` changed to: `{} changed to <value> in list …`", attr.name, attr.name));
                };
                match one(from)? {
                    Some(before) => {
                        old.insert(attr.name.clone(), before);
                    }
                    None if first => {
                        old.insert(attr.name.clone(), Json::Null);
                    }
                    None => {}
                }
                entry.insert(attr.name.clone(), new);
            }
            entry.insert("id".into(), json!(entry_id));
            let mut e = record_event("list-entry.updated", record, None)?;
            e["list"] = json!(list);
            e["entry"] = Json::Object(entry);
            if !old.is_empty() {
                e["entry_old"] = Json::Object(old);
            }
            Ok(e)
        }
        TriggerKind::Changed { attr, from, to, .. } => {
            let one = |v: &Option<ast::Values>| -> Result<Option<Json>, String> {
                match v.as_ref().and_then(|v| v.items.first()) {
                    Some(e) => literal(e).map(Some),
                    None => Ok(None),
                }
            };
            let new = one(to)?.or_else(|| extra.get(&attr.name).cloned());
            let Some(new) = new else {
                return Err(format!("say what `{}` changed to: `{} changed to <value>`", attr.name, attr.name));
            };
            let mut old = before(&extra);
            let old_value = match one(from)? {
                Some(v) => v,
                None => given.and_then(|g| g.get(&attr.name)).cloned().unwrap_or(Json::Null),
            };
            old.insert(attr.name.clone(), old_value);
            record.extend(extra);
            record.insert(attr.name.clone(), new);
            record_event("record.updated", record, Some(old))
        }
        TriggerKind::AddedToList(list) | TriggerKind::RemovedFromList(list) => {
            let kind = if matches!(trigger.kind, TriggerKind::AddedToList(_)) {
                "list-entry.created"
            } else {
                "list-entry.deleted"
            };
            let mut e = record_event(kind, record, None)?;
            let list = list.plain().unwrap_or_default();
            let mut entry = extra;
            let entry_id = format!("{list}:{id}");
            if kind == "list-entry.created" {
                entries.insert(entry_id.clone());
            } else {
                entries.remove(&entry_id);
            }
            entry.insert("id".into(), json!(entry_id));
            e["list"] = json!(list);
            e["entry"] = Json::Object(entry);
            Ok(e)
        }
        TriggerKind::NoteCreated
        | TriggerKind::CommentAdded
        | TriggerKind::TaskCreated
        | TriggerKind::TaskCompleted
        | TriggerKind::CallRecorded => {
            let (kind, field) = match trigger.kind {
                TriggerKind::NoteCreated => ("note.created", "note"),
                TriggerKind::CommentAdded => ("comment.created", "comment"),
                TriggerKind::TaskCreated => ("task.created", "task"),
                TriggerKind::TaskCompleted => ("task.completed", "task"),
                _ => ("call-recording.created", "call"),
            };
            let mut e = record_event(kind, record, None)?;
            e[field] = Json::Object(extra);
            Ok(e)
        }
        TriggerKind::Command(name) => {
            let mut e = record_event("command", record, None)?;
            e["name"] = json!(name.plain().unwrap_or_default());
            Ok(e)
        }
        TriggerKind::Webhook(name) => {
            event["type"] = json!("webhook");
            event["name"] = json!(name.name);
            event["payload"] = Json::Object(extra);
            Ok(event)
        }
        TriggerKind::Matches(_) => Err(
            "a `matches` event cannot be simulated; write the change that makes the record match, e.g. `event stage changed to Qualified`".into(),
        ),
        TriggerKind::RuleFailed { .. } => Err(
            "`rule … failed` cannot be simulated as an event; make the watched rule fail instead".into(),
        ),
    }
}
