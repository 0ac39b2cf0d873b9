//! The worker: takes the inbox's events in arrival order, reads each record from
//! Attio once (a burst of updates to one record is read once), and feeds the engine
//! (serve.md §2).
//!
//! One worker, in order, keeps every record's events in order. The engine's `old` is
//! its own last snapshot of the record, so `changed from … to …` holds although Attio
//! sends ids only.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value as Json};

use super::attio::ApiError;
use super::inbox::Entry;
use super::{log, App};
use crate::engine::{EngineError, WriteMark};

/// The most events taken from the inbox at once.
const BATCH: usize = 200;

/// How long a record whose read Attio refused waits before it is read again.
const REFUSED_WAIT_SECONDS: i64 = 60;

/// How soon a record held for rulec's own writes is looked at again.
const WRITES_POLL: chrono::Duration = chrono::Duration::milliseconds(50);

/// An inbox event, made ready.
pub(super) enum Prepared {
    /// The engine's events, handed in together and in order.
    Events(Vec<Json>),
    /// Nothing to hand the engine.
    Done,
    /// Attio could not be read now.
    Later(ApiError),
}

/// Runs until `app.stopping` is set and the inbox holds nothing taken.
pub async fn run(app: Arc<App>) {
    let mut failures = 0u32;
    // Records whose read Attio refused (a 403: a scope missing), and when to try
    // again: they wait, alone, and the rest goes on.
    let mut refused: HashMap<String, chrono::DateTime<chrono::Utc>> = HashMap::new();
    loop {
        if app.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        // Records with a write of rulec's on its way are left in the inbox until it
        // is answered; reads from here on are checked against this mark.
        let (writing, mark) = writing(&app).await;
        let inbox = app.inbox.clone();
        let now = chrono::Utc::now();
        refused.retain(|_, at| *at > now);
        let mut skip = writing.clone();
        skip.extend(refused.keys().map(|record| record_id(record).to_string()));
        let entries = match tokio::task::spawn_blocking(move || inbox.waiting(BATCH, &skip)).await {
            Ok(Ok(entries)) => entries,
            Ok(Err(e)) => {
                log::error("inbox", &e);
                Vec::new()
            }
            Err(e) => {
                log::error("inbox", &e.to_string());
                Vec::new()
            }
        };
        if entries.is_empty() {
            // Held records are looked at again soon; otherwise wait for news.
            let wait = match writing.is_empty() && refused.is_empty() {
                true => Duration::from_millis(500),
                false => WRITES_POLL.to_std().unwrap_or_default(),
            };
            let _ = tokio::time::timeout(wait, app.arrived.notified()).await;
            continue;
        }
        let mut handled = Vec::new();
        let mut retry = None;
        // Records whose next event waits — for the debounce window, or for rulec's
        // own writes to the record to be answered — and when the first is due.
        let mut held: HashSet<&str> = HashSet::new();
        let mut due: Option<chrono::DateTime<chrono::Utc>> = None;
        if !writing.is_empty() {
            let at = now + WRITES_POLL;
            due = Some(due.map_or(at, |d| d.min(at)));
        }
        let mut ready = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            if held.contains(entry.record.as_str()) {
                continue;
            }
            if let Some(at) = debounced(entry, app.debounce).filter(|at| *at > now) {
                held.insert(&entry.record);
                due = Some(due.map_or(at, |d| d.min(at)));
                continue;
            }
            if superseded(&app, &entries, i) {
                handled.push(entry.seq);
                continue;
            }
            // Read from Attio side by side; handed to the engine in order below.
            let record = entry.record.as_str();
            let (app, entry) = (app.clone(), entry.clone());
            let seq = entry.seq;
            ready.push((
                seq,
                record,
                tokio::spawn(async move { prepare(&app, &entry).await }),
            ));
        }
        // The reads, in order; then the engine takes every event read, in one call
        // and one commit.
        let mut batch = Vec::with_capacity(ready.len());
        for (seq, record, task) in ready {
            if held.contains(record) {
                // An earlier event of the record was refused: this one waits with it.
                continue;
            }
            let prepared = match task.await {
                Ok(prepared) => prepared,
                Err(e) => Prepared::Later(ApiError {
                    message: format!("reading the event failed: {e}"),
                    retryable: true,
                    retry_after: None,
                }),
            };
            match prepared {
                Prepared::Events(events) => batch.push((seq, record, events)),
                Prepared::Done => handled.push(seq),
                // Refused (not a 429 or a 5xx): trying at once would be refused again,
                // and waiting for it would hold up every record.
                Prepared::Later(e) if !e.retryable => {
                    log::error(
                        "hydrate",
                        &format!("inbox event {seq} ({record}): {} — its record's events wait and are tried again in {REFUSED_WAIT_SECONDS} s; check the token's scopes", e.message),
                    );
                    refused.insert(
                        record.to_string(),
                        now + chrono::Duration::seconds(REFUSED_WAIT_SECONDS),
                    );
                    held.insert(record);
                }
                Prepared::Later(e) => {
                    retry = Some(e);
                    break;
                }
            }
        }
        match feed(&app, batch, mark).await {
            Ok(fed) => {
                for (seq, record, done) in fed {
                    if done {
                        handled.push(seq);
                    } else {
                        // Read while rulec's own write to the record was unanswered:
                        // read again after it, and the record's later events with it.
                        held.insert(record);
                        let at = now + WRITES_POLL;
                        due = Some(due.map_or(at, |d| d.min(at)));
                    }
                }
            }
            Err(e) => retry = Some(e),
        }
        let idle = handled.is_empty();
        let inbox = app.inbox.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || inbox.done(&handled)).await {
            log::error("inbox", &e);
        }
        if idle && retry.is_none() {
            if let Some(due) = due {
                // Everything here waits for a burst to end: sleep until the first is
                // due, or something new arrives.
                let wait = (due - now).to_std().unwrap_or_default();
                let _ = tokio::time::timeout(wait, app.arrived.notified()).await;
                continue;
            }
        }
        if let Some(e) = retry {
            // Attio is down or limiting: the event waits, and so do those after it,
            // so no record's events are taken out of order.
            failures += 1;
            let wait = e.retry_after.unwrap_or(1u64 << failures.min(5)).min(60);
            log::error(
                "hydrate",
                &format!("{} (trying again in {wait} s)", e.message),
            );
            let _ =
                tokio::time::timeout(Duration::from_secs(wait), wait_until_stopping(&app)).await;
        } else {
            failures = 0;
        }
    }
}

async fn wait_until_stopping(app: &App) {
    while !app.stopping.load(std::sync::atomic::Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// When an update may be read: `debounce` after it arrived, so that a burst of
/// updates to one record (an import, a sequence of edits) is read once, after it.
fn debounced(entry: &Entry, debounce: Duration) -> Option<chrono::DateTime<chrono::Utc>> {
    if debounce.is_zero() || entry.event["event_type"] != "record.updated" {
        return None;
    }
    let at = entry.event["received_at"].as_str()?;
    let at = chrono::DateTime::parse_from_rfc3339(at).ok()?;
    Some(at.with_timezone(&chrono::Utc) + chrono::Duration::from_std(debounce).ok()?)
}

/// An update read later in the same batch, for the same record and with nothing else
/// about it in between, makes this one's read redundant: one read, one diff.
/// An echo is never read, so it supersedes nothing: a person's edit made while
/// rulec wrote the record must still be read.
fn superseded(app: &App, entries: &[Entry], i: usize) -> bool {
    let entry = &entries[i];
    if entry.event["event_type"] != "record.updated" {
        return false;
    }
    for later in &entries[i + 1..] {
        if later.record == entry.record && !echo(app, &later.event) {
            return later.event["event_type"] == "record.updated";
        }
    }
    false
}

/// rulec's own write coming back (its actor is `[attio] token_actor_id`).
fn echo(app: &App, event: &Json) -> bool {
    let by = &event["actor"];
    by["type"] == "api-token"
        && app.token_actor_id.is_some()
        && by["id"].as_str() == app.token_actor_id.as_deref()
}

/// One event made ready for the engine: the record read, the engine's event built.
async fn prepare(app: &App, entry: &Entry) -> Prepared {
    // A rule webhook's delivery is the engine's event already.
    if let Some(event) = entry.event.get("rulec_event") {
        let mut event = event.clone();
        let name = event["name"].as_str().unwrap_or_default().to_string();
        event["id"] = json!(format!("webhook:{name}:{}", entry.seq));
        return Prepared::Events(vec![event]);
    }
    let event = &entry.event;
    // rulec's own write, coming back: the engine handled what it caused when the
    // write was done (as a follow-on event, with the cascade's depth). Handling the
    // echo too would start the cascade again, unbounded.
    if echo(app, event) {
        return Prepared::Done;
    }
    let kind = event["event_type"].as_str().unwrap_or("");
    match kind {
        "list-entry.created" | "list-entry.deleted" | "list-entry.updated" => {
            return list_entry(app, entry).await
        }
        "note.created" | "comment.created" => {
            return super::activity::note_or_comment(app, entry).await
        }
        "task.created" | "task.updated" => return super::activity::task(app, entry).await,
        "rulec.command" => return command(app, entry).await,
        _ => {}
    }
    let (Some(object_id), Some(record_id)) = (
        event["id"]["object_id"].as_str(),
        event["id"]["record_id"].as_str(),
    ) else {
        return Prepared::Done;
    };
    let (slug, object) = match declared(app, object_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return Prepared::Done,
        Err(e) => return Prepared::Later(e),
    };
    let mut out = json!({
        "type": kind, "object": slug, "record_id": record_id,
        "at": event["received_at"],
    });
    // A record is created and deleted once: those ids do not depend on the delivery,
    // so the same event delivered again under another key is recognised.
    out["id"] = match kind {
        "record.created" | "record.deleted" => json!(format!("attio:{kind}:{slug}:{record_id}")),
        _ => json!(format!("attio:{}", entry.seq)),
    };
    // A merge changes the record's values (an update, first), and is a merge of its
    // own for `when merged` rules, naming the record merged in.
    if kind == "record.merged" {
        out["type"] = json!("record.updated");
    }
    if kind != "record.deleted" {
        let values = match app.targets.attio.record(&slug, record_id).await {
            Ok(Some(values)) => values,
            // Gone since (a delete follows): nothing to diff.
            Ok(None) => return Prepared::Done,
            Err(e) => return Prepared::Later(e),
        };
        match app.targets.attio.to_event_values(&values, object).await {
            Ok(values) => out["record"] = Json::Object(values),
            Err(e) => return Prepared::Later(e),
        }
        match related(app, &slug, &out["record"]).await {
            Ok(related) if !related.is_empty() => out["related"] = Json::Array(related),
            Ok(_) => {}
            Err(e) => return Prepared::Later(e),
        }
        match lists(app, &slug, record_id).await {
            Ok(Some(lists)) => out["lists"] = json!(lists),
            Ok(None) => {}
            Err(e) => return Prepared::Later(e),
        }
    }
    match actor(app, &event["actor"]).await {
        Ok((actor, source)) => {
            out["actor"] = actor;
            if let Some(source) = source {
                out["source"] = json!(source);
            }
        }
        Err(e) => return Prepared::Later(e),
    }
    let mut events = vec![out];
    if kind == "record.merged" {
        let duplicate = event["duplicate_record_id"].as_str().unwrap_or_default();
        let mut merged = events[0].clone();
        merged["type"] = json!("record.merged");
        merged["id"] = json!(format!(
            "attio:record.merged:{slug}:{record_id}:{duplicate}"
        ));
        merged["duplicate_record_id"] = json!(duplicate);
        events.push(merged);
    }
    Prepared::Events(events)
}

/// A record put in or taken out of a list. The engine hears first of the record as
/// it is now — an update, so a change that came with it (an owner set as the record
/// was added) fires its `changed` rules here, not lost to a later read that finds
/// nothing new — then of the entry, which reads that record.
async fn list_entry(app: &App, entry: &Entry) -> Prepared {
    let event = &entry.event;
    let kind = event["event_type"].as_str().unwrap_or("");
    let (Some(list_id), Some(entry_id), Some(object_id), Some(record_id)) = (
        event["id"]["list_id"].as_str(),
        event["id"]["entry_id"].as_str(),
        event["parent_object_id"].as_str(),
        event["parent_record_id"].as_str(),
    ) else {
        return Prepared::Done;
    };
    let list = match app.targets.attio.list_name(list_id).await {
        Ok(Some(list)) => list,
        Ok(None) => return Prepared::Done,
        Err(e) => return Prepared::Later(e),
    };
    // No rule can be about a list the schema does not declare.
    if app.targets.schema.list(&list).is_none() {
        return Prepared::Done;
    }
    let (slug, object) = match declared(app, object_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return Prepared::Done,
        Err(e) => return Prepared::Later(e),
    };
    // An entry is made and removed once: those ids do not depend on the delivery. An
    // update is judged against the engine's memory of the entry, so a redelivered one
    // finds nothing changed.
    let id = match kind {
        "list-entry.updated" => format!("attio:{kind}:{list_id}:{entry_id}:{}", entry.seq),
        _ => format!("attio:{kind}:{list_id}:{entry_id}"),
    };
    let mut values = Map::new();
    values.insert("id".into(), json!(entry_id));
    let declared = app.targets.schema.list(&list);
    if kind != "list-entry.deleted" && declared.is_some_and(|l| !l.attributes.is_empty()) {
        let attributes = declared
            .map(|l| l.attributes.as_slice())
            .unwrap_or_default();
        match app.targets.attio.entry(list_id, entry_id).await {
            Ok(Some(read)) => match app.targets.attio.to_values(&read, attributes).await {
                Ok(read) => values.extend(read),
                Err(e) => return Prepared::Later(e),
            },
            // Gone since: its removal follows.
            Ok(None) if kind == "list-entry.updated" => return Prepared::Done,
            Ok(None) => {}
            Err(e) => return Prepared::Later(e),
        }
    }
    let out = json!({
        "id": id, "type": kind,
        "object": slug, "record_id": record_id, "list": list,
        "at": event["received_at"], "entry": values,
    });
    let gone_ok = kind == "list-entry.deleted";
    with_record(app, entry, (&slug, object), record_id, out, gone_ok).await
}

/// A command run on a record through the admin API (`POST /api/rules/{rule}/run`):
/// the record is read as for any of its events, then the command runs on it.
async fn command(app: &App, entry: &Entry) -> Prepared {
    let event = &entry.event;
    let (Some(slug), Some(record_id), Some(name)) = (
        event["object"].as_str(),
        event["record_id"].as_str(),
        event["name"].as_str(),
    ) else {
        return Prepared::Done;
    };
    let Some(object) = app.targets.schema.object(slug) else {
        return Prepared::Done;
    };
    let about = json!({
        // One run per request: a retried request is the inbox's to recognise (its
        // idempotency key), not the engine's.
        "id": format!("command:{}", entry.seq), "type": "command", "name": name,
        "object": slug, "record_id": record_id, "at": event["received_at"],
    });
    with_record(app, entry, (slug, object), record_id, about, false).await
}

/// The object a webhook names by id, as the schema declares it: its slug and its
/// declaration. `None` when Attio no longer has the object, or the schema does not
/// declare it (no rule can be about it).
pub(super) async fn declared<'a>(
    app: &'a App,
    object_id: &str,
) -> Result<Option<(String, &'a crate::schema::Object)>, ApiError> {
    let slug = match app.targets.attio.object_slug(object_id).await {
        Ok(slug) => slug,
        Err(e) if e.message.contains("404") => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(app
        .targets
        .schema
        .object(&slug)
        .map(|object| (slug, object)))
}

/// An event about something of a record's (an entry, a note): the engine hears
/// first of the record as it is now — an update, so a change that came with it (an
/// owner set as the record was added to a list) fires its `changed` rules here, not
/// lost to a later read that finds nothing new — then of `about`, which reads that
/// record. A record gone since is skipped, unless `gone_ok` (a removal is still
/// worth telling).
pub(super) async fn with_record(
    app: &App,
    entry: &Entry,
    (slug, object): (&str, &crate::schema::Object),
    record_id: &str,
    mut about: Json,
    gone_ok: bool,
) -> Prepared {
    let event = &entry.event;
    let (actor, source) = match actor(app, &event["actor"]).await {
        Ok(found) => found,
        Err(e) => return Prepared::Later(e),
    };
    let mut events = Vec::with_capacity(2);
    let values = match app.targets.attio.record(slug, record_id).await {
        Ok(values) => values,
        Err(e) => return Prepared::Later(e),
    };
    match values {
        Some(values) => {
            let values = match app.targets.attio.to_event_values(&values, object).await {
                Ok(values) => values,
                Err(e) => return Prepared::Later(e),
            };
            let mut update = json!({
                "id": format!("attio:{}", entry.seq), "type": "record.updated",
                "object": slug, "record_id": record_id, "at": event["received_at"],
                "record": values, "actor": actor,
            });
            match related(app, slug, &update["record"]).await {
                Ok(related) if !related.is_empty() => update["related"] = Json::Array(related),
                Ok(_) => {}
                Err(e) => return Prepared::Later(e),
            }
            match lists(app, slug, record_id).await {
                Ok(Some(lists)) => update["lists"] = json!(lists),
                Ok(None) => {}
                Err(e) => return Prepared::Later(e),
            }
            if let Some(source) = source {
                update["source"] = json!(source);
            }
            events.push(update);
        }
        // Gone with its entry: only a removal is left to tell.
        None if gone_ok => {}
        None => {
            // Asked for by a person: say why nothing ran.
            if about["type"] == "command" {
                log::error(
                    "command",
                    &format!(
                        "`{}` on {slug}/{record_id}: Attio has no such record; nothing ran",
                        about["name"].as_str().unwrap_or_default()
                    ),
                );
            }
            return Prepared::Done;
        }
    }
    about["actor"] = actor;
    if let Some(source) = source {
        about["source"] = json!(source);
    }
    events.push(about);
    Prepared::Events(events)
}

/// The ids of the records rulec's own writes are on their way to
/// ([`crate::engine::Engine::writes_unanswered`]), and a mark of now that reads
/// taken from here on are checked against.
/// The record id of an inbox entry's `object/record` (a task's `task/id`).
fn record_id(record: &str) -> &str {
    record.rsplit('/').next().unwrap_or(record)
}

async fn writing(app: &App) -> (HashSet<String>, WriteMark) {
    let answer = app
        .host
        .with(|engine| (engine.writes_unanswered(), engine.write_mark()))
        .await;
    match answer {
        Ok((records, mark)) => (records.into_iter().map(|(_, id)| id).collect(), mark),
        Err(_) => (HashSet::new(), WriteMark::default()),
    }
}

/// Hands the batch's events to the engine, in order, and commits once. An inbox
/// event whose record saw a write of rulec's handed out or answered since `mark`
/// (when its read began), or has one on its way now, is not handed in (nor are its
/// record's later events): the read may or may not hold that write, and the engine,
/// whose snapshot moves only with the answer, would take the difference for
/// someone's change.
/// Each inbox event with whether it was handled.
async fn feed<'a>(
    app: &App,
    batch: Vec<(i64, &'a str, Vec<Json>)>,
    mark: WriteMark,
) -> Result<Vec<(i64, &'a str, bool)>, ApiError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let work: Vec<(i64, String, String, Vec<String>)> = batch
        .iter()
        .map(|(seq, _, events)| {
            let first = events.first().cloned().unwrap_or_default();
            (
                *seq,
                first["object"].as_str().unwrap_or_default().to_string(),
                first["record_id"].as_str().unwrap_or_default().to_string(),
                events.iter().map(Json::to_string).collect(),
            )
        })
        .collect();
    let result = app
        .host
        .with(move |engine| {
            let mut runs = Vec::new();
            let mut refused = Vec::new();
            let mut fed = Vec::with_capacity(work.len());
            let mut stale: HashSet<(String, String)> = HashSet::new();
            for (seq, object, record, texts) in work {
                let key = (object, record);
                if stale.contains(&key) || engine.written_since(&key.0, &key.1, mark) {
                    stale.insert(key);
                    fed.push(false);
                    continue;
                }
                for text in &texts {
                    match engine.handle_json(text) {
                        Ok(more) => runs.extend(more),
                        // The event does not fit the schema (a value of the wrong
                        // type): it cannot be handled however often it is tried.
                        Err(EngineError::Event(e)) => {
                            refused.push(format!("inbox event {seq}: {e}"))
                        }
                        Err(e) => return Err(e),
                    }
                }
                fed.push(true);
            }
            engine.flush()?;
            Ok((fed, runs, refused))
        })
        .await;
    match result.and_then(|r| r) {
        Ok((fed, runs, refused)) => {
            app.ran(&runs);
            for e in refused {
                log::error("event", &e);
            }
            Ok(batch
                .into_iter()
                .zip(fed)
                .map(|((seq, record, _), done)| (seq, record, done))
                .collect())
        }
        // The store failed: the events stay in the inbox and are handled again.
        Err(e) => Err(ApiError {
            message: format!("the engine: {e}"),
            retryable: true,
            retry_after: None,
        }),
    }
}

/// The records the rules read through this record's references (`company.name` on a
/// deal), read now so the run sees them as they are.
async fn related(app: &App, object: &str, values: &Json) -> Result<Vec<Json>, ApiError> {
    let mut out = Vec::new();
    for (attribute, target) in app.references.get(object).into_iter().flatten() {
        let Some(id) = values[attribute.as_str()]
            .as_str()
            .filter(|id| !id.is_empty())
        else {
            continue;
        };
        let Some(declared) = app.targets.schema.object(target) else {
            continue;
        };
        // A reference to a record since deleted reads as empty, as in the CRM.
        let Some(record) = app.targets.attio.record(target, id).await? else {
            continue;
        };
        let record = app.targets.attio.to_event_values(&record, declared).await?;
        let mut read = json!({ "object": target, "id": id, "record": record });
        if let Some(lists) = lists(app, target, id).await? {
            read["lists"] = json!(lists);
        }
        out.push(read);
    }
    Ok(out)
}

/// The lists a record is in, read when a rule asks `in list` of its object's
/// records: what the engine heard of entries since it started cannot tell of one
/// made before.
async fn lists(app: &App, object: &str, id: &str) -> Result<Option<Vec<String>>, ApiError> {
    if !app.listed.contains(object) {
        return Ok(None);
    }
    app.targets.attio.record_lists(object, id).await.map(Some)
}

/// The objects whose records rules ask `in list` of.
pub fn listed(program: &crate::ir::Program) -> HashSet<String> {
    let mut out = HashSet::new();
    for rule in &program.rules {
        crate::ir::visit::exprs(rule, &mut |e| {
            if let crate::ir::ExprKind::InList { operand, .. } = &e.kind {
                if let crate::schema::Type::Record(object) = &operand.ty {
                    out.insert(object.clone());
                }
            }
        });
    }
    out
}

/// The reference attributes the rules read through, by object: `company.name` in a
/// rule on deals is `deals` → (`company`, `companies`). Read from every expression of
/// every rule; only the trigger record's references (one level) are followed. A
/// reference a step writes to (`set company.owner = … if empty`) counts too: the
/// engine compares with the record's values.
pub fn references(program: &crate::ir::Program) -> HashMap<String, Vec<(String, String)>> {
    use crate::ir::{ExprKind, Root};
    let mut found: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for rule in &program.rules {
        let written = written_targets(&rule.steps);
        // `company in list "…"` reads the company's lists, so the company is read.
        let mut asked: Vec<*const crate::ir::Expr> = Vec::new();
        crate::ir::visit::exprs(rule, &mut |e| {
            if let ExprKind::InList { operand, .. } = &e.kind {
                asked.push(operand.as_ref() as *const _);
            }
        });
        crate::ir::visit::exprs(rule, &mut |e| {
            let ExprKind::Read {
                root: Root::Record | Root::Old,
                path,
            } = &e.kind
            else {
                return;
            };
            let through = match path.as_slice() {
                [_, _, ..] => true,
                [_] => {
                    written.iter().any(|w| std::ptr::eq(*w, e)) || asked.contains(&(e as *const _))
                }
                [] => false,
            };
            if let (true, Some(first)) = (through, path.first()) {
                if let (Some(object), crate::schema::Type::Record(target)) =
                    (&first.attribute_of, &first.ty)
                {
                    let pair = (first.name.clone(), target.clone());
                    let pairs = found.entry(object.clone()).or_default();
                    if !pairs.contains(&pair) {
                        pairs.push(pair);
                    }
                }
            }
        });
    }
    found
}

/// The records `set`/`clear` steps name (`company` in `set company.owner = …`),
/// nested steps included.
fn written_targets(steps: &[crate::ir::Step]) -> Vec<&crate::ir::Expr> {
    use crate::ir::Action;
    crate::ir::visit::all_steps(steps)
        .into_iter()
        .filter_map(|step| match &step.action {
            Action::Set {
                target: Some(t), ..
            }
            | Action::Clear {
                target: Some(t), ..
            } => Some(&t.record),
            _ => None,
        })
        .collect()
}

/// The engine's `actor` and `event.source` for Attio's actor.
pub(super) async fn actor(
    app: &App,
    actor: &Json,
) -> Result<(Json, Option<&'static str>), ApiError> {
    let id = actor["id"].as_str().unwrap_or("");
    Ok(match actor["type"].as_str().unwrap_or("") {
        "workspace-member" => match app.targets.attio.member_email(id).await? {
            Some(email) => (json!(email), Some("app")),
            None => (json!({ "type": "api" }), Some("app")),
        },
        "api-token" => (json!({ "type": "api" }), Some("api")),
        "system" => (json!({ "type": "system" }), None),
        _ => (Json::Null, None),
    })
}
