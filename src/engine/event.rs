//! Events: the hydrated CRM events the engine consumes (engine.md, Events).
//!
//! An event is validated against the schema once, when it arrives; after that every
//! value is typed and slotted, so triggers and conditions never meet bad data. A bad
//! event is rejected on its own with the field and the type that was expected.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value as Json};

use super::record::{Layout, Layouts, Record};
use super::value::{from_json, parse_time, Val};
use crate::check::scope::{ACTOR_KINDS, EVENT_SOURCE};
use crate::schema::Schema;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
    /// `list-entry.updated`: an entry's own attributes changed.
    ListEntryUpdated,
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
    /// `command`: a person ran a command on a record.
    Command,
}

impl EventKind {
    /// Every kind with its wire name.
    pub const ALL: [(EventKind, &'static str); 14] = [
        (EventKind::RecordCreated, "record.created"),
        (EventKind::RecordUpdated, "record.updated"),
        (EventKind::RecordDeleted, "record.deleted"),
        (EventKind::RecordMerged, "record.merged"),
        (EventKind::ListEntryCreated, "list-entry.created"),
        (EventKind::ListEntryDeleted, "list-entry.deleted"),
        (EventKind::ListEntryUpdated, "list-entry.updated"),
        (EventKind::NoteCreated, "note.created"),
        (EventKind::CommentCreated, "comment.created"),
        (EventKind::TaskCreated, "task.created"),
        (EventKind::TaskCompleted, "task.completed"),
        (EventKind::CallRecorded, "call-recording.created"),
        (EventKind::Webhook, "webhook"),
        (EventKind::Command, "command"),
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

/// The entry a list-entry event is about.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryEvent {
    /// The list's index in the schema.
    pub(crate) list: u16,
    /// The entry's id (`entry.id`); without one the engine keeps no memory of it.
    pub(crate) id: Option<Arc<str>>,
    /// Its values after the event, as carried.
    pub(crate) values: Option<Partial>,
    /// Its values before (`entry_old`), usually only the changed ones.
    pub(crate) old: Option<Partial>,
}

/// A validated event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Delivery-independent id: redelivery repeats it.
    pub(crate) id: Arc<str>,
    /// What happened.
    pub(crate) kind: EventKind,
    /// The object's index in the schema (record and activity events).
    pub(crate) object: Option<u16>,
    /// The record's id.
    pub(crate) record_id: Option<Arc<str>>,
    /// When it happened.
    pub(crate) at: DateTime<Utc>,
    /// Who caused it: a member's email or id, or `api`, `system`, `import`.
    pub(crate) actor: Val,
    /// `event.source` as an option index (`app`, `api`, `import`, `workflow`, `rule`).
    pub(crate) source: Val,
    /// The record's values after the event.
    pub(crate) record: Option<Partial>,
    /// Values before the event (only the changed ones, usually).
    pub(crate) old: Option<Partial>,
    /// The list of a list-entry event.
    pub(crate) list: Option<String>,
    /// The entry of a list-entry event.
    pub(crate) entry: Option<EntryEvent>,
    /// `lists`: every list the record has an entry in, as the host read it.
    pub(crate) lists: Option<Vec<String>>,
    /// The same of records brought along (`related[].lists`): object, id, lists.
    pub(crate) related_lists: Vec<(String, String, Vec<String>)>,
    /// The webhook's name.
    pub(crate) webhook: Option<String>,
    /// The command's name, of a command event.
    pub(crate) command: Option<String>,
    /// The record merged into this one, of a merge event.
    pub(crate) duplicate: Option<String>,
    /// `"partial": true`: the event's `record` is only what changed, not the record;
    /// no snapshot is started from it.
    pub(crate) partial: bool,
    /// The webhook body.
    pub(crate) payload: Option<Arc<Json>>,
    /// The activity (`note`, `task`, …) of an activity event.
    pub(crate) activity: Option<Arc<Json>>,
    /// Records the event brought along (`related`): what its rules read through a
    /// reference (`company.name` on a deal), as a host read them with the event.
    pub(crate) related: Vec<super::exec::Found>,
    /// The event as it arrived, for durable waiting runs.
    pub(crate) raw: Raw,
}

impl Event {
    /// Its delivery-independent id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What happened.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The record's id (record, list and activity events).
    pub fn record_id(&self) -> Option<&str> {
        self.record_id.as_deref()
    }

    /// The entry as the engine knows it now (`entry.` in the event's runs), kept
    /// with the event as it arrived so a run that waits reads the same.
    pub(crate) fn set_entry(&mut self, entry: Json) {
        self.raw = Raw::Json(Arc::new(match self.raw.json() {
            Json::Object(mut map) => {
                map.insert("entry".into(), entry.clone());
                map.remove("entry_old");
                Json::Object(map)
            }
            other => other,
        }));
        self.activity = Some(Arc::new(entry));
    }

    /// The same change under another id: for tests and benchmarks that feed one
    /// change many times without it being a redelivery.
    pub fn with_id(mut self, id: &str) -> Event {
        self.id = Arc::from(id);
        self.raw = Raw::Json(Arc::new(match self.raw.json() {
            Json::Object(mut map) => {
                map.insert("id".into(), Json::String(id.into()));
                Json::Object(map)
            }
            other => other,
        }));
        self
    }
}

/// An event as it arrived: the line it was read from, or the JSON the engine built
/// (follow-on events). Kept as text where it can be, because only a run that waits
/// ever needs it as JSON, and a tree of every event costs more than reading it.
#[derive(Clone, Debug)]
pub(crate) enum Raw {
    /// A line that [`decode`] accepts.
    Text(Arc<str>),
    /// JSON.
    Json(Arc<Json>),
}

impl Raw {
    /// As JSON.
    pub(crate) fn json(&self) -> Json {
        match self {
            // The line was read once already: it is valid JSON.
            Raw::Text(text) => decode(text).unwrap_or(Json::Null),
            Raw::Json(json) => json.as_ref().clone(),
        }
    }
}

/// Two events are the same if they carry the same JSON, however each was kept.
impl PartialEq for Raw {
    fn eq(&self, other: &Raw) -> bool {
        match (self, other) {
            (Raw::Text(a), Raw::Text(b)) => a == b,
            (Raw::Json(a), Raw::Json(b)) => a == b,
            _ => self.json() == other.json(),
        }
    }
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
    parse_text(text, schema, layouts).map_err(|mut e| {
        e.line = Some(line);
        e
    })
}

/// Reads and validates the JSON text of one event: in one pass when it can
/// ([`super::decode`]), else through a JSON value, which also says what is wrong.
pub fn parse_text(text: &str, schema: &Schema, layouts: &Layouts) -> Result<Event, EventError> {
    if let Some(event) = super::decode::event(text, schema, layouts) {
        return Ok(event);
    }
    parse(decode(text)?, schema, layouts)
}

/// Reads the JSON of one event, refusing a key that appears twice in any object (`{"id":
/// "e1", "id": "e2"}`): JSON readers disagree on which of the two counts (serde_json
/// keeps the last, others the first), so a CRM, a proxy and the engine could each see
/// a different event. The error names the key's path (`record.stage`).
///
/// The check is made while the value is built (one map lookup per key, as building
/// it costs anyway), not by reading the text twice.
pub fn decode(text: &str) -> Result<Json, EventError> {
    let mut repeated = Repeated::default();
    let mut reader = serde_json::Deserializer::from_str(text);
    let json = Strict {
        repeated: &mut repeated,
        top: true,
    }
    .deserialize(&mut reader)
    .and_then(|json| reader.end().map(|()| json));
    json.map_err(|e| match repeated.path {
        Some(path) => EventError {
            line: None,
            // Read before the repeated key, or else (only on this error path) from the
            // whole line, as a lenient reader sees it.
            id: repeated.id.or_else(|| {
                let json = serde_json::from_str::<Json>(text).ok()?;
                json.get("id")?.as_str().map(str::to_string)
            }),
            field: path
                .iter()
                .rev()
                .enumerate()
                .fold(String::new(), |mut field, (n, part)| {
                    match part {
                        Step::Key(key) if n == 0 => field.push_str(key),
                        Step::Key(key) => {
                            field.push('.');
                            field.push_str(key);
                        }
                        Step::Index(i) => field.push_str(&format!("[{i}]")),
                    }
                    field
                }),
            message: "appears twice (JSON readers disagree on which one counts)".into(),
        },
        None => EventError {
            line: None,
            id: None,
            field: String::new(),
            message: format!("not valid JSON: {e}"),
        },
    })
}

/// A repeated key found by [`Strict`]: its path, innermost first (each enclosing
/// object or array adds its part as the error unwinds, so a line without one costs
/// nothing), and the event's id when it was read before.
#[derive(Default)]
pub(super) struct Repeated {
    path: Option<Vec<Step>>,
    id: Option<String>,
}

/// One part of a path into the JSON.
enum Step {
    Key(String),
    Index(usize),
}

/// Builds a `serde_json::Value` exactly as `serde_json::from_str` does, except that a
/// key repeated in an object is an error (recorded in [`Repeated`]).
pub(super) struct Strict<'r> {
    repeated: &'r mut Repeated,
    /// The event object itself (where the id is).
    top: bool,
}

impl<'r> Strict<'r> {
    /// A reader of a value inside the event (not the event object itself).
    pub(super) fn inner(repeated: &'r mut Repeated) -> Strict<'r> {
        Strict {
            repeated,
            top: false,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let repeated = self.repeated;
        let mut items = Vec::new();
        loop {
            let inner = Strict {
                repeated: &mut *repeated,
                top: false,
            };
            match seq.next_element_seed(inner) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Json::Array(items)),
                Err(e) => {
                    if let Some(path) = &mut repeated.path {
                        path.push(Step::Index(items.len()));
                    }
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let (repeated, top) = (self.repeated, self.top);
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let inner = Strict {
                repeated: &mut *repeated,
                top: false,
            };
            let failed = match map.next_value_seed(inner) {
                Ok(value) => match fields.entry(key) {
                    Entry::Vacant(slot) => {
                        slot.insert(value);
                        continue;
                    }
                    Entry::Occupied(slot) => {
                        repeated.path = Some(vec![Step::Key(slot.key().clone())]);
                        A::Error::custom(format_args!("the key `{}` appears twice", slot.key()))
                    }
                },
                Err(e) => {
                    if let Some(path) = &mut repeated.path {
                        path.push(Step::Key(key));
                    }
                    e
                }
            };
            if top && repeated.path.is_some() {
                repeated.id = fields.get("id").and_then(Json::as_str).map(str::to_string);
            }
            return Err(failed);
        }
        Ok(Json::Object(fields))
    }
}

/// Validates an event against the schema.
pub fn parse(json: Json, schema: &Schema, layouts: &Layouts) -> Result<Event, EventError> {
    match parse_fields(&json, schema, layouts) {
        Ok(mut event) => {
            event.raw = Raw::Json(Arc::new(json));
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
    parse_map(map, schema, layouts, None)
}

/// The values of `record` and `old`, read already (by [`super::decode`]) and so
/// missing from the map.
pub(super) type Partials = (Option<Partial>, Option<Partial>);

/// Validates the fields of an event; `partials` are its `record` and `old` when they
/// were read straight into slots.
pub(super) fn parse_map(
    map: &Map<String, Json>,
    schema: &Schema,
    layouts: &Layouts,
    partials: Option<Partials>,
) -> Result<Event, EventError> {
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
        entry: None,
        lists: None,
        related_lists: Vec::new(),
        webhook: None,
        command: None,
        duplicate: None,
        partial: map.get("partial").and_then(Json::as_bool).unwrap_or(false),
        payload: None,
        activity: None,
        related: Vec::new(),
        raw: Raw::Json(Arc::new(Json::Null)),
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
    (event.record, event.old) = match partials {
        Some(read) => read,
        None => (
            partial(map, "record", layout)?,
            partial(map, "old", layout)?,
        ),
    };
    if let Some(related) = map.get("related") {
        event.related = parse_related(related, layouts)?;
        for (n, item) in related.as_array().into_iter().flatten().enumerate() {
            if let Some(lists) = list_names(item.get("lists"), &format!("related[{n}].lists"))? {
                let text = |k: &str| item[k].as_str().unwrap_or_default().to_string();
                event
                    .related_lists
                    .push((text("object"), text("id"), lists));
            }
        }
    }
    if matches!(
        kind,
        EventKind::ListEntryCreated | EventKind::ListEntryDeleted | EventKind::ListEntryUpdated
    ) {
        let list = required(map, "list", "which list the entry is in")?;
        let Some(index) = schema.lists.iter().position(|l| l.name == list) else {
            return Err(err("list", format!("no list \"{list}\" is declared")));
        };
        if schema.lists[index].object != object_name {
            return Err(err(
                "list",
                format!(
                    "list \"{list}\" holds {}, not {object_name}",
                    schema.lists[index].object
                ),
            ));
        }
        event.list = Some(list.to_string());
        let layout = &layouts.lists[index];
        let id = match map.get("entry").and_then(|e| e.get("id")) {
            None | Some(Json::Null) => None,
            Some(Json::String(id)) => Some(Arc::from(id.as_str())),
            Some(other) => {
                return Err(err(
                    "entry.id",
                    format!("expected the entry's id, found {other}"),
                ))
            }
        };
        if id.is_none() && kind == EventKind::ListEntryUpdated {
            return Err(err(
                "entry.id",
                "an entry update names its entry: `\"entry\": {\"id\": …}`",
            ));
        }
        event.entry = Some(EntryEvent {
            list: index as u16,
            id,
            values: partial(map, "entry", layout)?,
            old: partial(map, "entry_old", layout)?,
        });
        event.activity = Some(Arc::new(match map.get("entry") {
            Some(entry @ Json::Object(_)) => entry.clone(),
            _ => Json::Object(Map::new()),
        }));
    }
    event.lists = list_names(map.get("lists"), "lists")?;
    if kind == EventKind::RecordMerged {
        event.duplicate = match map.get("duplicate_record_id") {
            None | Some(Json::Null) => None,
            Some(Json::String(id)) => Some(id.clone()),
            Some(other) => {
                return Err(err(
                    "duplicate_record_id",
                    format!("expected the merged record's id, found {other}"),
                ))
            }
        };
    }
    if kind == EventKind::Command {
        let name = required(map, "name", "which command was run")?;
        event.command = Some(name.to_string());
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

/// `"related": [{"object": "companies", "id": "c1", "record": {…}}, …]`, each record's
/// values checked as an event's `record` is.
/// `lists`: the names of the lists a record is in.
fn list_names(value: Option<&Json>, field: &str) -> Result<Option<Vec<String>>, EventError> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err(field, format!("expected list names, found {item}")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(err(
            field,
            format!("expected the names of the lists the record is in, found {other}"),
        )),
    }
}

fn parse_related(related: &Json, layouts: &Layouts) -> Result<Vec<super::exec::Found>, EventError> {
    let Json::Array(items) = related else {
        return Err(err("related", "expected a list of records"));
    };
    let mut out = Vec::with_capacity(items.len());
    for (n, item) in items.iter().enumerate() {
        let field = format!("related[{n}]");
        let Json::Object(map) = item else {
            return Err(err(
                &field,
                "expected {\"object\": …, \"id\": …, \"record\": {…}}",
            ));
        };
        let text = |name: &str| {
            map.get(name)
                .and_then(Json::as_str)
                .ok_or_else(|| err(&format!("{field}.{name}"), "expected a string"))
        };
        let object_name = text("object")?;
        let object = layouts.index(object_name).ok_or_else(|| {
            err(
                &format!("{field}.object"),
                format!("unknown object `{object_name}`"),
            )
        })?;
        let id = text("id")?.to_string();
        let layout = &layouts.objects[object as usize];
        let mut values = layout.empty();
        let read = partial(map, "record", layout).map_err(|mut e| {
            e.field = format!("{field}.{}", e.field);
            e
        })?;
        if let Some(read) = read {
            for slot in &read.present {
                values.0[*slot as usize] = read.values.get(*slot).clone();
            }
        }
        out.push(super::exec::Found {
            object,
            id,
            values: values.0,
        });
    }
    Ok(out)
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

pub(super) fn partial(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_agrees_with_serde_json_on_every_value() {
        for text in [
            r#"{"id":"e1","n":[1,-2,3.5,1e300,18446744073709551615,-9223372036854775808],"t":"\u00e9\n","b":[true,false,null],"o":{"a":{"b":{}}},"e":[]}"#,
            r#"  [ {"a":1}, {"a":1} ]  "#,
            r#""text""#,
            "0",
            "null",
        ] {
            let ours = decode(text).unwrap();
            let theirs: Json = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn a_repeated_key_is_named_by_its_path() {
        for (text, field, id) in [
            (r#"{"id":"e1","id":"e2"}"#, "id", Some("e1")),
            (
                r#"{"id":"e1","record":{"stage":"A","name":"x","stage":"B"}}"#,
                "record.stage",
                Some("e1"),
            ),
            (
                r#"{"record":{"stage":"A","stage":"B"},"id":"e1"}"#,
                "record.stage",
                Some("e1"),
            ),
            (
                r#"{"record":{"stage":"A","stage":"B"},"id":7}"#,
                "record.stage",
                None,
            ),
            (
                r#"{"id":"e1","payload":{"items":[{"sku":1},{"sku":2,"sku":3}]}}"#,
                "payload.items[1].sku",
                Some("e1"),
            ),
            (r#"[{"a":[[{"b":1,"b":1}]]}]"#, "[0].a[0][0].b", None),
        ] {
            let e = decode(text).unwrap_err();
            assert_eq!(e.field, field, "{text}");
            assert_eq!(e.id.as_deref(), id, "{text}");
            assert!(e.message.contains("appears twice"), "{}", e.message);
        }
    }

    #[test]
    fn other_json_errors_are_reported_as_before() {
        for text in [
            "",
            "{",
            r#"{"a":1} x"#,
            r#"{"a":1,}"#,
            "[1,2",
            r#"{"a":1e999}"#,
        ] {
            let e = decode(text).unwrap_err();
            let theirs = serde_json::from_str::<Json>(text).unwrap_err();
            assert_eq!(e.field, "");
            assert_eq!(e.message, format!("not valid JSON: {theirs}"), "{text}");
        }
    }
}
