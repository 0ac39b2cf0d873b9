//! Reading an event line in one pass, straight into slotted records.
//!
//! Building a `serde_json::Value` of every event and then reading the record out of it
//! was the largest cost of a replay: a tree node per attribute, freed again at once.
//! Here the top-level fields are read as before, but `record` and `old` go straight
//! into [`Partial`]s through the object's [`Layout`], and the line itself is kept as
//! the event's raw form (parsed again only for a run that waits).
//!
//! It is a fast path, not a second decoder: on anything unusual — the JSON is not
//! valid, a key appears twice, a value does not fit its attribute, `record` comes
//! before `object` — it gives up, and [`event::parse_line`]'s full path reads the line
//! and says exactly what is wrong. So every error is the full path's, and a property
//! test holds the two to the same event wherever this one answers.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value as Json};

use super::event::{self, Event, Partial, Partials, Raw, Repeated, Strict};
use super::record::{Layout, Layouts};
use super::value::from_json;
use crate::schema::Schema;

/// The event on `text`, or `None` when the full path must read it.
pub(super) fn event(text: &str, schema: &Schema, layouts: &Layouts) -> Option<Event> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let (map, partials) = Top { layouts }.deserialize(&mut reader).ok()?;
    reader.end().ok()?;
    let mut event = event::parse_map(&map, schema, layouts, Some(partials)).ok()?;
    event.raw = Raw::Text(Arc::from(text));
    Some(event)
}

/// Any reason to leave the line to the full path; the message is never shown.
fn give_up<E: serde::de::Error>() -> E {
    E::custom("left to the full path")
}

/// The event object: its fields as JSON, but `record` and `old` as partial records.
struct Top<'l> {
    layouts: &'l Layouts,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = (Map<String, Json>, Partials);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = (Map<String, Json>, Partials);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut repeated = Repeated::default();
        let mut fields = Map::new();
        let (mut record, mut old) = (None, None);
        while let Some(Key(key)) = access.next_key_seed(Key(Cow::Borrowed("")))? {
            let into = match key.as_ref() {
                "record" => &mut record,
                "old" => &mut old,
                _ => {
                    let value = access.next_value_seed(Strict::inner(&mut repeated))?;
                    if fields.insert(key.into_owned(), value).is_some() {
                        return Err(give_up());
                    }
                    continue;
                }
            };
            // The attributes are read through the object's layout: it must come first
            // (it does, in Attio's events and in rulec's own).
            let layout = match fields.get("object") {
                Some(Json::String(object)) => self.layouts.get(object),
                _ => None,
            };
            let (Some(layout), None) = (layout, into.as_ref()) else {
                return Err(give_up());
            };
            *into = Some(access.next_value_seed(Attributes {
                layout,
                repeated: &mut repeated,
            })?);
        }
        Ok((fields, (record.flatten(), old.flatten())))
    }
}

/// A key, borrowed from the line when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> DeserializeSeed<'de> for Key<'de> {
    type Value = Key<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'de> {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(v.to_string())))
    }
}

/// `record` or `old`: `null`, or an object of attribute values.
struct Attributes<'a> {
    layout: &'a Layout,
    repeated: &'a mut Repeated,
}

impl<'de> DeserializeSeed<'de> for Attributes<'_> {
    type Value = Option<Partial>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Attributes<'_> {
    type Value = Option<Partial>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of attribute values")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let layout = self.layout;
        let mut values = layout.empty();
        let mut present = Vec::new();
        // Attributes the schema does not have are ignored, as the full path does, but
        // a repeated one is still refused there.
        let mut unknown: Vec<Cow<'de, str>> = Vec::new();
        while let Some(Key(name)) = access.next_key_seed(Key(Cow::Borrowed("")))? {
            let value = access.next_value_seed(Strict::inner(&mut *self.repeated))?;
            match layout.slot(&name) {
                Some(slot) if !present.contains(&slot) => {
                    let ty = &layout.types[slot as usize];
                    values.0[slot as usize] = from_json(&value, ty).map_err(|_| give_up())?;
                    present.push(slot);
                }
                None if !unknown.contains(&name) => unknown.push(name),
                _ => return Err(give_up()),
            }
        }
        present.sort_unstable();
        Ok(Some(Partial { values, present }))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use crate::engine::event::{decode, parse};
    use crate::engine::Engine;
    use crate::workspace::analyze_text;

    const RULES: &str = "object things {\n  stage: status [Open, Won]\n  tags: select[] [a, b]\n  count: number\n  day: date\n  seen: timestamp\n  flag: checkbox\n  owner: member\n}\nrule r\n  on things\n  when created\n  do slack \"#x\"\n";

    fn engine() -> Engine {
        let program = analyze_text("t.rules", RULES).program().unwrap();
        Engine::builder(program).build().unwrap()
    }

    /// Values of every shape, fitting their attribute or not.
    fn value() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            Just(json!(null)),
            Just(json!("Open")),
            Just(json!("Nope")),
            Just(json!(["a", "b"])),
            Just(json!(["a", "a"])),
            (-5i64..5).prop_map(|n| json!(n)),
            Just(json!(2.5)),
            Just(json!("2026-03-02")),
            Just(json!("2026-03-02T10:00:00Z")),
            Just(json!(true)),
            Just(json!({"email": "ana@acme.com"})),
            Just(json!(["ana@acme.com"])),
            Just(json!({"amount": 3})),
        ]
    }

    fn attributes() -> impl Strategy<Value = Vec<(String, serde_json::Value)>> {
        let name = prop_oneof![
            Just("stage"),
            Just("tags"),
            Just("count"),
            Just("day"),
            Just("seen"),
            Just("flag"),
            Just("owner"),
            Just("unknown"),
            Just("st\\u0061ge"),
        ];
        proptest::collection::vec((name.prop_map(str::to_string), value()), 0..6)
    }

    /// An event line written by hand, so keys can repeat and come in any order.
    fn line() -> impl Strategy<Value = String> {
        let kind = prop_oneof![
            Just("record.created"),
            Just("record.updated"),
            Just("webhook")
        ];
        (
            kind,
            attributes(),
            proptest::option::of(attributes()),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(kind, record, old, object_last, repeat_id)| {
                let object = r#""object":"things","record_id":"t1""#;
                let map = |attrs: &[(String, serde_json::Value)]| {
                    let fields: Vec<String> =
                        attrs.iter().map(|(k, v)| format!(r#""{k}":{v}"#)).collect();
                    format!("{{{}}}", fields.join(","))
                };
                let mut fields = vec![
                    r#""id":"e1""#.to_string(),
                    format!(r#""type":"{kind}""#),
                    r#""at":"2026-03-02T10:00:00Z""#.to_string(),
                ];
                if !object_last {
                    fields.push(object.to_string());
                }
                fields.push(format!(r#""record":{}"#, map(&record)));
                if let Some(old) = &old {
                    fields.push(format!(r#""old":{}"#, map(old)));
                }
                if object_last {
                    fields.push(object.to_string());
                }
                if repeat_id {
                    fields.push(r#""id":"e2""#.to_string());
                }
                format!("{{{}}}", fields.join(","))
            })
    }

    proptest! {
        /// Wherever the one-pass reader answers, it gives the event the full path
        /// gives; where the full path refuses a line, it never answers.
        #[test]
        fn the_one_pass_reader_agrees_with_the_full_path(line in line()) {
            let engine = engine();
            let fast = super::event(&line, &engine.schema, &engine.layouts);
            let full = decode(&line).and_then(|json| parse(json, &engine.schema, &engine.layouts));
            match (fast, full) {
                (Some(fast), Ok(full)) => prop_assert_eq!(fast, full),
                (Some(fast), Err(e)) => prop_assert!(false, "{line}: read {fast:?}, but {e}"),
                (None, _) => {}
            }
        }
    }

    #[test]
    fn ordinary_events_take_the_one_pass_path() {
        let engine = engine();
        let line = r#"{"id":"e1","type":"record.updated","object":"things","record_id":"t1","at":"2026-03-02T10:00:00Z","record":{"stage":"Won","count":3,"tags":["a"],"unknown":{"x":1}},"old":{"stage":"Open"}}"#;
        let event = super::event(line, &engine.schema, &engine.layouts).unwrap();
        assert_eq!(event.record.as_ref().map(|r| r.present.len()), Some(3));
        assert_eq!(
            event.raw.json(),
            serde_json::from_str::<serde_json::Value>(line).unwrap()
        );
        // Attributes before the object are left to the full path, which reads them.
        let late = r#"{"id":"e1","type":"record.created","record":{"count":3},"object":"things","record_id":"t1","at":"2026-03-02T10:00:00Z"}"#;
        assert!(super::event(late, &engine.schema, &engine.layouts).is_none());
        assert!(engine.parse_event(late).is_ok());
    }
}
