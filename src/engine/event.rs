//! Events: the hydrated CRM events the engine consumes (engine.md, Events).
//!
//! An event is validated against the schema once, when it arrives; after that every
//! value is typed and slotted, so triggers and conditions never meet bad data. A bad
//! event is rejected on its own with the field and the type that was expected.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use super::record::{Layout, Layouts, Record};
use super::value::{from_json, parse_time, Val};
use crate::check::scope::{ACTOR_KINDS, EVENT_SOURCE};
use crate::schema::Schema;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `record.created`
    RecordCreated,
    /// `record.updated`
    RecordUpdated,
    /// `record.deleted`
    RecordDeleted,
    /// `record.merged`
    RecordMerged,
    /// `list-entry.created`
    ListEntryCreated,
    /// `list-entry.deleted`
    ListEntryDeleted,
    /// `note.created`
    NoteCreated,
    /// `comment.created`
    CommentCreated,
    /// `task.created`
    TaskCreated,
    /// `task.completed`
    TaskCompleted,
    /// `call-recording.created`
    CallRecorded,
    /// `webhook`
    Webhook,
}

impl EventKind {
    /// Every kind with its wire name.
    pub const ALL: [(EventKind, &'static str); 12] = [
        (EventKind::RecordCreated, "record.created"),
        (EventKind::RecordUpdated, "record.updated"),
        (EventKind::RecordDeleted, "record.deleted"),
        (EventKind::RecordMerged, "record.merged"),
        (EventKind::ListEntryCreated, "list-entry.created"),
        (EventKind::ListEntryDeleted, "list-entry.deleted"),
        (EventKind::NoteCreated, "note.created"),
        (EventKind::CommentCreated, "comment.created"),
        (EventKind::TaskCreated, "task.created"),
        (EventKind::TaskCompleted, "task.completed"),
        (EventKind::CallRecorded, "call-recording.created"),
        (EventKind::Webhook, "webhook"),
    ];

    /// The wire name (`record.updated`).
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .unwrap_or("webhook")
    }

    fn parse(name: &str) -> Option<EventKind> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// The field that carries the activity, for activity events.
    pub fn activity_field(self) -> Option<&'static str> {
        Some(match self {
            EventKind::NoteCreated => "note",
            EventKind::CommentCreated => "comment",
            EventKind::TaskCreated | EventKind::TaskCompleted => "task",
            EventKind::CallRecorded => "call",
            _ => return None,
        })
    }
}

/// Some attributes of a record: the ones an event carried.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Partial {
    /// Values by slot (empty where not carried).
    pub values: Record,
    /// The slots the event carried, ascending.
    pub present: Vec<u16>,
}

/// A validated event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Delivery-independent id: redelivery repeats it.
    pub id: Arc<str>,
    /// What happened.
    pub kind: EventKind,
    /// The object's index in the schema (record and activity events).
    pub object: Option<u16>,
    /// The record's id.
    pub record_id: Option<Arc<str>>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who caused it: a member's email or id, or `api`, `system`, `import`.
    pub actor: Val,
    /// `event.source` as an option index (`app`, `api`, `import`, `workflow`, `rule`).
    pub source: Val,
    /// The record's values after the event.
    pub record: Option<Partial>,
    /// Values before the event (only the changed ones, usually).
    pub old: Option<Partial>,
    /// The list of a list-entry event.
    pub list: Option<String>,
    /// The webhook's name.
    pub webhook: Option<String>,
    /// The webhook body.
    pub payload: Option<Arc<Json>>,
    /// The activity (`note`, `task`, …) of an activity event.
    pub activity: Option<Arc<Json>>,
    /// The event as it arrived, for durable waiting runs.
    pub raw: Arc<Json>,
}

/// Why an event was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError {
    /// The line in a JSONL stream (1-based), when read from one.
    pub line: Option<usize>,
    /// The event's id, when it had one.
    pub id: Option<String>,
    /// The offending field (`record.value`), empty for the whole line.
    pub field: String,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(id) = &self.id {
            write!(f, "event `{id}`: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for EventError {}

fn err(field: &str, message: impl Into<String>) -> EventError {
    EventError {
        line: None,
        id: None,
        field: field.to_string(),
        message: message.into(),
    }
}

/// Parses one line of a JSONL stream.
pub fn parse_line(
    text: &str,
    line: usize,
    schema: &Schema,
    layouts: &Layouts,
) -> Result<Event, EventError> {
    if text.len() > MAX_EVENT_BYTES {
        return Err(EventError {
            line: Some(line),
            id: None,
            field: String::new(),
            message: format!(
                "the line is {} bytes; an event is at most {} bytes (1 MiB)",
                text.len(),
                MAX_EVENT_BYTES
            ),
        });
    }
    let json: Json = serde_json::from_str(text).map_err(|e| EventError {
        line: Some(line),
        id: None,
        field: String::new(),
        message: format!("not valid JSON: {e}"),
    })?;
    parse(json, schema, layouts).map_err(|mut e| {
        e.line = Some(line);
        e
    })
}

/// Validates an event against the schema.
pub fn parse(json: Json, schema: &Schema, layouts: &Layouts) -> Result<Event, EventError> {
    match parse_fields(&json, schema, layouts) {
        Ok(mut event) => {
            event.raw = Arc::new(json);
            Ok(event)
        }
        Err(mut e) => {
            e.id = json.get("id").and_then(Json::as_str).map(str::to_string);
            Err(e)
        }
    }
}

fn text_field<'j>(map: &'j Map<String, Json>, field: &str) -> Result<Option<&'j str>, EventError> {
    match map.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(other) => Err(err(field, format!("expected text, found {other}"))),
    }
}

fn required<'j>(map: &'j Map<String, Json>, field: &str, why: &str) -> Result<&'j str, EventError> {
    match text_field(map, field)? {
        Some(text) if !text.trim().is_empty() => Ok(text),
        Some(_) => Err(err(field, format!("empty: {why}"))),
        None => Err(err(field, format!("missing: {why}"))),
    }
}

/// The longest event line read (1 MiB): Attio's largest records are a few kilobytes.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

fn parse_fields(json: &Json, schema: &Schema, layouts: &Layouts) -> Result<Event, EventError> {
    let Json::Object(map) = json else {
        return Err(err("", "an event must be a JSON object"));
    };
    let id = required(
        map,
        "id",
        "every event needs an id, so redelivery can be recognised",
    )?;
    let kind_name = required(map, "type", "say what happened, e.g. \"record.updated\"")?;
    let kind = EventKind::parse(kind_name).ok_or_else(|| {
        let names: Vec<&str> = EventKind::ALL.iter().map(|(_, n)| *n).collect();
        err(
            "type",
            format!(
                "unknown event type `{kind_name}`; expected {}",
                crate::schema::one_of(&names)
            ),
        )
    })?;
    let at = match text_field(map, "at")? {
        Some(text) => parse_time(text).filter(|t| {
            use chrono::Datelike;
            super::value::YEARS.contains(&t.year())
        }).ok_or_else(|| {
            err(
                "at",
                format!("expected an RFC 3339 timestamp between the years 1900 and 9999, such as \"2026-11-02T10:00:00Z\", found \"{text}\""),
            )
        })?,
        None => return Err(err("at", "missing: when did it happen? (RFC 3339 timestamp)")),
    };
    let source = match text_field(map, "source")? {
        None => Val::Empty,
        Some(name) => match EVENT_SOURCE.index_of(name) {
            Some(i) => Val::Option(i as u32),
            None => {
                return Err(err(
                    "source",
                    format!(
                        "unknown source `{name}`; expected {}",
                        crate::schema::one_of(&EVENT_SOURCE.options)
                    ),
                ))
            }
        },
    };
    let actor = parse_actor(map.get("actor"))?;

    let mut event = Event {
        id: Arc::from(id),
        kind,
        object: None,
        record_id: None,
        at,
        actor,
        source,
        record: None,
        old: None,
        list: None,
        webhook: None,
        payload: None,
        activity: None,
        raw: Arc::new(Json::Null),
    };

    if kind == EventKind::Webhook {
        let name = required(map, "name", "which declared webhook arrived")?;
        let Some(hook) = schema.webhook(name) else {
            let names: Vec<&str> = schema.webhooks.iter().map(|w| w.name.as_str()).collect();
            return Err(err(
                "name",
                format!(
                    "no webhook `{name}` is declared{}",
                    if names.is_empty() {
                        String::new()
                    } else {
                        format!("; declared: {}", crate::schema::quoted_list(&names))
                    }
                ),
            ));
        };
        let payload = map
            .get("payload")
            .cloned()
            .unwrap_or(Json::Object(Map::new()));
        let Json::Object(fields) = &payload else {
            return Err(err("payload", "expected a JSON object"));
        };
        for (field, ty) in &hook.payload.fields {
            if let Some(value) = fields.get(field) {
                from_json(value, ty).map_err(|m| {
                    err(
                        &format!("payload.{field}"),
                        format!("expected {}, found {}", m.expected, m.found),
                    )
                })?;
            }
        }
        event.webhook = Some(name.to_string());
        event.payload = Some(Arc::new(payload));
        return Ok(event);
    }

    let object_name = required(map, "object", "which object's record this is about")?;
    let object = layouts.index(object_name).ok_or_else(|| {
        let names: Vec<&str> = schema.objects.iter().map(|o| o.name.as_str()).collect();
        err(
            "object",
            format!(
                "unknown object `{object_name}`; the schema has {}",
                crate::schema::quoted_list(&names)
            ),
        )
    })?;
    let layout = &layouts.objects[object as usize];
    event.object = Some(object);
    event.record_id = Some(Arc::from(required(
        map,
        "record_id",
        "which record this is about",
    )?));
    event.record = partial(map, "record", layout)?;
    event.old = partial(map, "old", layout)?;
    if matches!(
        kind,
        EventKind::ListEntryCreated | EventKind::ListEntryDeleted
    ) {
        let list = required(map, "list", "which list the entry is in")?;
        if schema.list(list).is_none() {
            return Err(err("list", format!("no list \"{list}\" is declared")));
        }
        event.list = Some(list.to_string());
    }
    if let Some(field) = kind.activity_field() {
        match map.get(field) {
            Some(activity @ Json::Object(_)) => event.activity = Some(Arc::new(activity.clone())),
            None | Some(Json::Null) => {
                event.activity = Some(Arc::new(Json::Object(Map::new())));
            }
            Some(other) => {
                return Err(err(field, format!("expected a JSON object, found {other}")));
            }
        }
    }
    Ok(event)
}

fn parse_actor(actor: Option<&Json>) -> Result<Val, EventError> {
    let Some(actor) = actor else {
        return Ok(Val::Empty);
    };
    match actor {
        Json::Null => Ok(Val::Empty),
        Json::String(s) => Ok(Val::text(s)),
        Json::Object(map) => {
            let kind = map.get("type").and_then(Json::as_str).unwrap_or("");
            if ACTOR_KINDS.contains(&kind) {
                return Ok(Val::text(kind));
            }
            match ["email", "id"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Json::as_str))
            {
                Some(who) => Ok(Val::text(who)),
                None => Err(err(
                    "actor",
                    format!(
                        "expected {{\"type\": \"workspace-member\", \"id\": …}} or a type that is {}",
                        crate::schema::one_of(ACTOR_KINDS)
                    ),
                )),
            }
        }
        other => Err(err("actor", format!("expected an object, found {other}"))),
    }
}

fn partial(
    map: &Map<String, Json>,
    field: &str,
    layout: &Layout,
) -> Result<Option<Partial>, EventError> {
    let fields = match map.get(field) {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Object(fields)) => fields,
        Some(other) => return Err(err(field, format!("expected a JSON object, found {other}"))),
    };
    let mut values = layout.empty();
    let mut present = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        // Unknown attributes are the CRM's business (fields rules never read); they are
        // ignored rather than rejected so a schema that lags the CRM keeps working.
        let Some(slot) = layout.slot(name) else {
            continue;
        };
        let ty = &layout.types[slot as usize];
        values.0[slot as usize] = from_json(value, ty).map_err(|m| {
            err(
                &format!("{field}.{name}"),
                format!("expected {}, found {}", m.expected, m.found),
            )
        })?;
        present.push(slot);
    }
    present.sort_unstable();
    Ok(Some(Partial { values, present }))
}
