//! Runtime values, and their conversion from and to event JSON.
//!
//! The checker has already typed every expression, so the evaluator never has to ask
//! what a value is; but event JSON arrives untyped, so conversion takes the declared
//! type and says precisely what it expected when the data does not fit.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::schema::Type;

/// A value while rules run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum Val {
    /// No value.
    Empty,
    /// A checkbox.
    Bool(bool),
    /// A number or currency amount.
    Number(f64),
    /// Text, emails, domains, phones, members and record ids.
    Text(Arc<str>),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant.
    Time(DateTime<Utc>),
    /// Seconds.
    Duration(i64),
    /// An option of a select or status attribute, by position.
    Option(u32),
    /// The options of a multi-select, by position.
    Options(Arc<[u32]>),
    /// A list.
    List(Arc<[Val]>),
    /// Unchecked JSON (HTTP responses, custom action outputs, activities).
    Json(Arc<Json>),
    /// Text that holds a resolved secret: its redacted form is all that is ever stored
    /// or shown.
    Secret(Arc<Secret>),
}

/// A resolved secret, or a value built from one: text around it (`"Bearer {{…}}"`), a
/// record or list holding it, a function's result (`lower(secret(…))`).
#[derive(Clone, PartialEq)]
pub struct Secret {
    /// What logs, run records and stores show: `***` where a secret is
    /// (`"Bearer ***"`, `{"token": "***"}`), or `***` for a value computed from one.
    pub redacted: Json,
    /// The real value, handed to the handler and nowhere else (never itself a secret).
    pub value: Val,
}

impl Secret {
    /// A value computed from a secret: every bit of it may be the secret, so it shows
    /// as `***`.
    pub fn hidden(value: Val) -> Secret {
        Secret {
            redacted: Json::String("***".to_string()),
            value,
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted)
    }
}

/// A secret serializes as its redacted form, so no store ever holds the value.
impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.redacted.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let redacted = Json::deserialize(deserializer)?;
        let value = match &redacted {
            Json::String(text) => Val::text(text),
            other => Val::Json(Arc::new(other.clone())),
        };
        Ok(Secret { redacted, value })
    }
}

impl Val {
    /// Text from a string slice.
    pub fn text(s: &str) -> Val {
        Val::Text(Arc::from(s))
    }

    /// True for the empty value, empty text and empty lists: what `is empty` sees.
    pub fn is_empty(&self) -> bool {
        match self {
            Val::Empty => true,
            Val::Text(s) => s.is_empty(),
            Val::List(items) => items.is_empty(),
            Val::Options(items) => items.is_empty(),
            Val::Json(json) => json.is_null(),
            _ => false,
        }
    }

    /// The text of a textual value (the real text of a secret).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Val::Text(s) => Some(s),
            Val::Secret(s) => s.value.as_text(),
            _ => None,
        }
    }

    /// The value itself, or a secret's real value: what comparisons and functions
    /// compute with.
    pub fn revealed(&self) -> &Val {
        match self {
            Val::Secret(s) => &s.value,
            other => other,
        }
    }

    /// Whether a secret is in it (itself, or an item of a list): such a value is shown
    /// only redacted.
    pub fn holds_secret(&self) -> bool {
        match self {
            Val::Secret(_) => true,
            Val::List(items) => items.iter().any(Val::holds_secret),
            _ => false,
        }
    }

    /// The instant of a timestamp, or of midnight UTC on a date.
    pub fn as_time(&self) -> Option<DateTime<Utc>> {
        match self {
            Val::Time(t) => Some(*t),
            Val::Date(d) => Some(d.and_time(NaiveTime::MIN).and_utc()),
            _ => None,
        }
    }
}

/// Why a JSON value does not fit a type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// What was expected, in words (`a number`, `one of Lead, Open, …`).
    pub expected: String,
    /// What arrived (`"abc"`, `true`).
    pub found: String,
}

fn mismatch(expected: impl Into<String>, found: &Json) -> Mismatch {
    let mut shown = found.to_string();
    if shown.len() > 60 {
        let cut = (0..=57)
            .rev()
            .find(|&i| shown.is_char_boundary(i))
            .unwrap_or(0);
        shown.truncate(cut);
        shown.push('…');
    }
    Mismatch {
        expected: expected.into(),
        found: shown,
    }
}

/// Reads a timestamp: RFC 3339, or a date meaning midnight UTC.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
}

/// `t` moved by `seconds`, or `None` past the ends of time (chrono panics there).
pub fn shift(t: DateTime<Utc>, seconds: i64) -> Option<DateTime<Utc>> {
    chrono::Duration::try_seconds(seconds).and_then(|d| t.checked_add_signed(d))
}

/// The date it is at `t` in `zone`, or `None` where that date is past the ends of
/// chrono's range (`DateTime::date_naive` panics there: `MIN_UTC` in a zone west of
/// Greenwich, `MAX_UTC` east of it).
pub fn local_date(t: DateTime<Utc>, zone: &chrono_tz::Tz) -> Option<NaiveDate> {
    use chrono::{Offset, TimeZone};
    let offset = zone.offset_from_utc_datetime(&t.naive_utc()).fix();
    t.naive_utc()
        .checked_add_offset(offset)
        .map(|local| local.date())
}

/// A number of seconds that is whole and fits.
fn whole_seconds(n: f64) -> Option<i64> {
    (n.fract() == 0.0 && n.abs() < 1e15).then_some(n as i64)
}

/// Numbers from events are below this in magnitude: `1.79e308` is no CRM value, and
/// would print as 309 digits in a message.
pub const MAX_NUMBER: f64 = 1e15;

/// Dates and times from events fall in these years: year 0000 or 99999 is a typo.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// Converts event JSON to a value of `ty`; `null` is empty for every type.
pub fn from_json(json: &Json, ty: &Type) -> Result<Val, Mismatch> {
    if json.is_null() {
        return Ok(Val::Empty);
    }
    match ty {
        Type::Text | Type::Email | Type::Domain | Type::Phone | Type::Member | Type::Actor => {
            match json {
                Json::String(s) => Ok(Val::text(s)),
                // Attio-style member and email objects carry the address in a field.
                Json::Object(map) => match ["email", "email_address", "id"]
                    .iter()
                    .find_map(|k| map.get(*k).and_then(Json::as_str))
                {
                    Some(s) => Ok(Val::text(s)),
                    None => Err(mismatch("text", json)),
                },
                _ => Err(mismatch("text", json)),
            }
        }
        Type::Number | Type::Currency => {
            let n = match json {
                Json::Number(n) => n.as_f64(),
                Json::Object(map) => match map.get("amount").or_else(|| map.get("value")) {
                    Some(Json::Number(n)) => n.as_f64(),
                    _ => None,
                },
                _ => None,
            };
            match n {
                Some(n) if n.abs() < MAX_NUMBER => Ok(Val::Number(n)),
                Some(_) => Err(mismatch("a number below 10^15 (a CRM amount)", json)),
                None => Err(mismatch("a number", json)),
            }
        }
        Type::Checkbox => json
            .as_bool()
            .map(Val::Bool)
            .ok_or_else(|| mismatch("true or false", json)),
        Type::Date => match json.as_str().and_then(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .or_else(|| parse_time(s).map(|t| t.date_naive()))
        }) {
            Some(d) if YEARS.contains(&d.year()) => Ok(Val::Date(d)),
            Some(_) => Err(mismatch("a date between the years 1900 and 9999", json)),
            None => Err(mismatch("a date such as \"2026-01-31\"", json)),
        },
        Type::Timestamp => match json.as_str().and_then(parse_time) {
            Some(t) if YEARS.contains(&t.year()) => Ok(Val::Time(t)),
            Some(_) => Err(mismatch("a time between the years 1900 and 9999", json)),
            None => Err(mismatch(
                "an RFC 3339 timestamp such as \"2026-01-31T09:00:00Z\"",
                json,
            )),
        },
        // Seconds, in events and test blocks alike; `2700.0` is `2700`.
        Type::Duration => match json.as_i64().or_else(|| whole_seconds(json.as_f64()?)) {
            Some(seconds) => Ok(Val::Duration(seconds)),
            None => Err(mismatch("a duration in seconds", json)),
        },
        Type::Select(set) | Type::Status(set) => {
            let name = match json {
                Json::String(s) => Some(s.as_str()),
                Json::Object(map) => map.get("title").and_then(Json::as_str),
                _ => None,
            };
            match name.and_then(|n| set.index_of(n)) {
                Some(i) => Ok(Val::Option(i as u32)),
                None => Err(mismatch(crate::schema::one_of(&set.options), json)),
            }
        }
        Type::MultiSelect(set) => {
            let items = json
                .as_array()
                .ok_or_else(|| mismatch("a list of options", json))?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match from_json(item, &Type::Select(set.clone()))? {
                    Val::Option(i) => out.push(i),
                    _ => return Err(mismatch("an option", item)),
                }
            }
            Ok(Val::Options(out.into()))
        }
        Type::Record(_) => match json {
            Json::String(id) => Ok(Val::text(id)),
            Json::Object(map) => match map.get("id").or_else(|| map.get("record_id")) {
                Some(Json::String(id)) => Ok(Val::text(id)),
                _ => Err(mismatch("a record id", json)),
            },
            _ => Err(mismatch("a record id", json)),
        },
        Type::List(inner) => {
            let items = match json {
                Json::Array(items) => items.as_slice(),
                // A single value where a list is declared is a list of one.
                single => std::slice::from_ref(single),
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(from_json(item, inner)?);
            }
            Ok(Val::List(out.into()))
        }
        Type::Json | Type::Struct(_) | Type::Unknown | Type::Empty => {
            Ok(Val::Json(Arc::new(json.clone())))
        }
    }
}

/// Converts a value to JSON for handlers and run records, naming options by `ty`.
/// Secrets become their real text when `reveal` is set, `***` otherwise.
pub fn to_json(val: &Val, ty: &Type, reveal: bool) -> Json {
    match val {
        Val::Empty => Json::Null,
        Val::Bool(b) => Json::Bool(*b),
        Val::Number(n) => serde_json::Number::from_f64(*n)
            .map(|n| {
                // Whole amounts print as integers: 25000, not 25000.0.
                if n.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                {
                    Json::from(n.as_f64().unwrap_or(0.0) as i64)
                } else {
                    Json::Number(n)
                }
            })
            .unwrap_or(Json::Null),
        Val::Text(s) => Json::String(s.to_string()),
        Val::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
        Val::Time(t) => Json::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        Val::Duration(s) => Json::from(*s),
        Val::Option(i) => match ty.options() {
            Some(set) => set
                .options
                .get(*i as usize)
                .map(|o| Json::String(o.clone()))
                .unwrap_or(Json::Null),
            None => Json::from(*i),
        },
        Val::Options(items) => Json::Array(
            items
                .iter()
                .map(|i| to_json(&Val::Option(*i), ty, reveal))
                .collect(),
        ),
        Val::List(items) => {
            let inner = match ty {
                Type::List(inner) => inner.as_ref(),
                other => other,
            };
            Json::Array(items.iter().map(|v| to_json(v, inner, reveal)).collect())
        }
        Val::Json(json) => json.as_ref().clone(),
        Val::Secret(s) if reveal => to_json(&s.value, ty, true),
        Val::Secret(s) => s.redacted.clone(),
    }
}

/// Text for templates: how a value reads inside `"{{value}}"` (a secret's real text).
pub fn display(val: &Val, ty: &Type, out: &mut String) {
    show(val, ty, out, true);
}

/// [`display`] as logs and run records may show it: secrets as `***`.
pub fn display_redacted(val: &Val, ty: &Type, out: &mut String) {
    show(val, ty, out, false);
}

fn show(val: &Val, ty: &Type, out: &mut String, reveal: bool) {
    use std::fmt::Write;
    match val {
        Val::Empty => {}
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Number(n) => {
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                let _ = write!(out, "{}", *n as i64);
            } else {
                let _ = write!(out, "{n}");
            }
        }
        Val::Text(s) => out.push_str(s),
        Val::Secret(s) if reveal => show(&s.value, ty, out, true),
        Val::Secret(s) => match &s.redacted {
            Json::String(text) => out.push_str(text),
            other => out.push_str(&other.to_string()),
        },
        Val::Date(d) => {
            let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        }
        Val::Time(t) => out.push_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        Val::Duration(s) => out.push_str(&describe_duration(*s)),
        Val::Option(_) | Val::Options(_) | Val::List(_) => match to_json(val, ty, reveal) {
            Json::String(s) => out.push_str(&s),
            Json::Array(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|j| match j {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                out.push_str(&parts.join(", "));
            }
            other => out.push_str(&other.to_string()),
        },
        Val::Json(json) => match json.as_ref() {
            Json::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        },
    }
}

/// `90061` → `1 day 1 hour 1 minute 1 second`, for templates and waiting runs.
pub fn describe_duration(seconds: i64) -> String {
    const UNITS: [(i64, &str); 5] = [
        (604_800, "week"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    if seconds == 0 {
        return "0 seconds".to_string();
    }
    let mut rest = seconds.unsigned_abs() as i64;
    let mut parts = Vec::new();
    for (size, name) in UNITS {
        let n = rest / size;
        if n > 0 {
            parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
            rest -= n * size;
        }
    }
    let text = parts.join(" ");
    if seconds < 0 {
        format!("-{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::OptionSet;
    use serde_json::json;

    fn stage() -> Type {
        Type::Status(Arc::new(OptionSet {
            owner: "deals.stage".into(),
            options: vec!["Open".into(), "ClosedWon".into()],
        }))
    }

    #[test]
    fn options_convert_by_name_and_back() {
        let v = from_json(&json!("ClosedWon"), &stage()).unwrap();
        assert_eq!(v, Val::Option(1));
        assert_eq!(to_json(&v, &stage(), false), json!("ClosedWon"));
    }

    #[test]
    fn a_wrong_option_says_which_were_expected() {
        let e = from_json(&json!("Won"), &stage()).unwrap_err();
        assert_eq!(e.expected, "one of `Open` or `ClosedWon`");
        assert_eq!(e.found, "\"Won\"");
    }

    #[test]
    fn null_is_empty_for_every_type() {
        assert_eq!(from_json(&Json::Null, &Type::Number).unwrap(), Val::Empty);
        assert!(Val::Empty.is_empty());
    }

    #[test]
    fn secrets_serialize_redacted() {
        let s = Val::Secret(Arc::new(Secret {
            redacted: json!("Bearer ***"),
            value: Val::text("Bearer sk_live_1"),
        }));
        let text = serde_json::to_string(&s).unwrap();
        assert!(!text.contains("sk_live"), "{text}");
        assert_eq!(to_json(&s, &Type::Text, false), json!("Bearer ***"));
    }

    #[test]
    fn whole_numbers_print_without_a_fraction() {
        let mut out = String::new();
        display(&Val::Number(25000.0), &Type::Currency, &mut out);
        assert_eq!(out, "25000");
        assert_eq!(
            to_json(&Val::Number(12.5), &Type::Number, false),
            json!(12.5)
        );
        assert_eq!(describe_duration(90061), "1 day 1 hour 1 minute 1 second");
    }
}
