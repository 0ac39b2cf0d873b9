//! Value types of attributes, payload fields and expressions.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The options of a select or status attribute, in declared order.
#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionSet {
    /// Whose options these are (`deals.stage`), for messages.
    pub owner: String,
    /// The options, in declared (pipeline) order.
    pub options: Vec<String>,
}

impl OptionSet {
    /// The index of an option, matched exactly.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.options.iter().position(|o| o == name)
    }
}

/// A record-like shape with named fields (`event`, `payload`, `task`, `ask` answers).
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
pub struct StructType {
    /// Its name in messages (`event`, `payload of typeform`).
    pub name: String,
    /// Fields in declared order.
    pub fields: Vec<(String, Type)>,
}

impl StructType {
    /// A field's type.
    pub fn field(&self, name: &str) -> Option<&Type> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

/// A value type.
#[derive(Clone, Debug, Hash, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "of", rename_all = "snake_case")]
pub enum Type {
    /// Free text.
    Text,
    /// A number.
    Number,
    /// Money; compares and adds with numbers.
    Currency,
    /// true/false.
    Checkbox,
    /// A calendar date.
    Date,
    /// An instant.
    Timestamp,
    /// A length of time.
    Duration,
    /// One option of a set.
    Select(Arc<OptionSet>),
    /// Several options of a set.
    MultiSelect(Arc<OptionSet>),
    /// One option of an ordered pipeline.
    Status(Arc<OptionSet>),
    /// A workspace member (written as an email address).
    Member,
    /// A reference to a record of an object.
    Record(String),
    /// An email address.
    Email,
    /// A domain name.
    Domain,
    /// A phone number.
    Phone,
    /// A list.
    List(Box<Type>),
    /// Unchecked JSON (HTTP responses, custom action outputs).
    Json,
    /// Who caused an event: a member, `api`, `system` or `import`.
    Actor,
    /// A fixed shape with named fields.
    Struct(Arc<StructType>),
    /// The literal `empty`; fits any type.
    Empty,
    /// A type that could not be determined because of an earlier error; fits anything
    /// so one mistake is reported once.
    Unknown,
}

impl Type {
    /// True for types compared as numbers.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Number | Type::Currency)
    }

    /// True for dates and timestamps.
    pub fn is_temporal(&self) -> bool {
        matches!(self, Type::Date | Type::Timestamp)
    }

    /// True for types whose values are text (email, domain and phone are text too).
    pub fn is_textual(&self) -> bool {
        matches!(self, Type::Text | Type::Email | Type::Domain | Type::Phone)
    }

    /// True for `Unknown`, `Empty` and `Json`, which fit anything.
    pub fn is_wild(&self) -> bool {
        matches!(self, Type::Unknown | Type::Empty | Type::Json)
    }

    /// The option set of a select, multi-select or status type.
    pub fn options(&self) -> Option<&Arc<OptionSet>> {
        match self {
            Type::Select(o) | Type::MultiSelect(o) | Type::Status(o) => Some(o),
            _ => None,
        }
    }

    /// Whether a value of type `value` may be stored where `self` is expected.
    pub fn accepts(&self, value: &Type) -> bool {
        if self.is_wild() || value.is_wild() {
            return true;
        }
        match (self, value) {
            (a, b) if a == b => true,
            (Type::Number | Type::Currency, Type::Number | Type::Currency) => true,
            (Type::Text, v) if v.is_textual() => true,
            (Type::Email | Type::Domain | Type::Phone, Type::Text) => true,
            (Type::Timestamp, Type::Date) | (Type::Date, Type::Timestamp) => true,
            (Type::Member, Type::Email) | (Type::Email, Type::Member) => true,
            (Type::Actor, Type::Member | Type::Email | Type::Text) => true,
            (Type::Select(a) | Type::Status(a), Type::Select(b) | Type::Status(b)) => a == b,
            (Type::MultiSelect(a), Type::Select(b)) => a == b,
            (Type::MultiSelect(a), Type::List(item)) => {
                matches!(item.as_ref(), Type::Select(b) if a == b)
            }
            (Type::List(a), Type::List(b)) => a.accepts(b),
            (Type::List(a), b) => a.accepts(b),
            _ => false,
        }
    }

    /// Whether two values can be compared for equality.
    pub fn comparable(&self, other: &Type) -> bool {
        self.accepts(other) || other.accepts(self)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Text => f.write_str("text"),
            Type::Number => f.write_str("number"),
            Type::Currency => f.write_str("currency"),
            Type::Checkbox => f.write_str("checkbox"),
            Type::Date => f.write_str("date"),
            Type::Timestamp => f.write_str("timestamp"),
            Type::Duration => f.write_str("duration"),
            Type::Select(o) => write!(f, "select of `{}`", o.owner),
            Type::MultiSelect(o) => write!(f, "multi-select of `{}`", o.owner),
            Type::Status(o) => write!(f, "status of `{}`", o.owner),
            Type::Member => f.write_str("member"),
            Type::Record(object) => write!(f, "record({object})"),
            Type::Email => f.write_str("email"),
            Type::Domain => f.write_str("domain"),
            Type::Phone => f.write_str("phone"),
            Type::List(inner) => write!(f, "list of {inner}"),
            Type::Json => f.write_str("json"),
            Type::Actor => f.write_str("actor"),
            Type::Struct(s) => f.write_str(&s.name),
            Type::Empty => f.write_str("empty"),
            Type::Unknown => f.write_str("unknown"),
        }
    }
}

/// The names of the built-in types, for declarations and suggestions.
pub const TYPE_NAMES: &[&str] = &[
    "text",
    "number",
    "currency",
    "checkbox",
    "date",
    "timestamp",
    "duration",
    "member",
    "email",
    "domain",
    "phone",
    "json",
];

/// The built-in type named `name`.
pub fn named_type(name: &str) -> Option<Type> {
    Some(match name {
        "text" => Type::Text,
        "number" => Type::Number,
        "currency" => Type::Currency,
        "checkbox" => Type::Checkbox,
        "date" => Type::Date,
        "timestamp" => Type::Timestamp,
        "duration" => Type::Duration,
        "member" => Type::Member,
        "email" => Type::Email,
        "domain" => Type::Domain,
        "phone" => Type::Phone,
        "json" => Type::Json,
        _ => return None,
    })
}
