//! Records as the engine holds them: one slot per attribute, in schema order.
//!
//! Conditions read attributes by slot, never by name, which is what makes evaluating
//! a condition cost nanoseconds. Snapshots carry their attribute names so a store can
//! persist them by name and a schema change never misreads a slot.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::value::Val;
use crate::schema::{Schema, Type};

/// The attributes of one object, in slot order.
#[derive(Debug)]
pub struct Layout {
    /// The object.
    pub object: String,
    /// Attribute names, by slot.
    pub names: Arc<[Arc<str>]>,
    /// Attribute types, by slot.
    pub types: Vec<Type>,
    slots: HashMap<String, u16>,
}

impl Layout {
    /// The slot of an attribute.
    pub fn slot(&self, name: &str) -> Option<u16> {
        self.slots.get(name).copied()
    }

    /// An all-empty record of this object.
    pub fn empty(&self) -> Record {
        Record(vec![Val::Empty; self.names.len()])
    }
}

impl Layout {
    fn new(object: String, attributes: &[crate::schema::Attribute]) -> Layout {
        Layout {
            object,
            names: attributes
                .iter()
                .map(|a| Arc::from(a.name.as_str()))
                .collect::<Vec<_>>()
                .into(),
            types: attributes.iter().map(|a| a.ty.clone()).collect(),
            slots: attributes
                .iter()
                .enumerate()
                .map(|(s, a)| (a.name.clone(), s as u16))
                .collect(),
        }
    }
}

/// Every object's layout, indexed by object position in the schema, and every
/// list's entries'.
#[derive(Debug)]
pub struct Layouts {
    /// Layouts by object index.
    pub objects: Vec<Layout>,
    /// The entries of each list, by list index; their `object` is `list:<name>`, the
    /// name their snapshots are stored under.
    pub lists: Vec<Layout>,
    by_name: HashMap<String, u16>,
}

impl Layouts {
    /// Layouts for every object and list of a schema.
    pub fn new(schema: &Schema) -> Layouts {
        let mut objects = Vec::new();
        let mut by_name = HashMap::new();
        for (i, object) in schema.objects.iter().enumerate() {
            objects.push(Layout::new(object.name.clone(), &object.attributes));
            by_name.insert(object.name.clone(), i as u16);
        }
        let lists = schema
            .lists
            .iter()
            .map(|l| Layout::new(format!("list:{}", l.name), &l.attributes))
            .collect();
        Layouts {
            objects,
            lists,
            by_name,
        }
    }

    /// The index of an object.
    pub fn index(&self, object: &str) -> Option<u16> {
        self.by_name.get(object).copied()
    }

    /// The layout of an object.
    pub fn get(&self, object: &str) -> Option<&Layout> {
        self.index(object).map(|i| &self.objects[i as usize])
    }
}

/// A record's values by slot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record(pub Vec<Val>);

impl Record {
    /// The value in a slot (empty past the end, so a stale layout reads empty).
    #[inline]
    pub fn get(&self, slot: u16) -> &Val {
        static EMPTY: Val = Val::Empty;
        self.0.get(slot as usize).unwrap_or(&EMPTY)
    }
}

/// What the engine remembers of a record between events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When the values were current (the event time that brought them); an older
    /// event arriving late does not overwrite newer values.
    pub at: Option<DateTime<Utc>>,
    /// Attribute names, by slot.
    pub names: Arc<[Arc<str>]>,
    /// Values, by slot.
    #[serde(with = "values_serde")]
    pub values: Record,
}

impl Snapshot {
    /// The values re-slotted to `layout` (a no-op unless the schema changed).
    pub fn aligned(&self, layout: &Layout) -> Record {
        if Arc::ptr_eq(&self.names, &layout.names) || self.names == layout.names {
            return self.values.clone();
        }
        let mut record = layout.empty();
        for (name, value) in self.names.iter().zip(&self.values.0) {
            if let Some(slot) = layout.slot(name) {
                record.0[slot as usize] = value.clone();
            }
        }
        record
    }
}

mod values_serde {
    use super::{Record, Val};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(record: &Record, s: S) -> Result<S::Ok, S::Error> {
        record.0.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Record, D::Error> {
        Ok(Record(Vec::<Val>::deserialize(d)?))
    }
}
