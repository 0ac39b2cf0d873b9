//! `POST /webhooks/attio`: verify, parse, commit to the inbox, answer — no Attio call
//! on the request path (serve.md §2).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonBody;
use hmac::{Hmac, Mac};
use serde_json::{json, Value as Json};
use sha2::Sha256;

use super::App;

/// The event types the worker acts on; others are acknowledged and not stored.
const RECORD_EVENTS: [&str; 4] = [
    "record.created",
    "record.updated",
    "record.deleted",
    "record.merged",
];

/// A record put in or taken out of a list (`when added to list "…"`), or its entry
/// changed (`when stage changed … in list "…"`).
const LIST_EVENTS: [&str; 3] = [
    "list-entry.created",
    "list-entry.deleted",
    "list-entry.updated",
];

/// A task made, or changed (`when task completed` is a change to completed).
const TASK_EVENTS: [&str; 2] = ["task.created", "task.updated"];

/// A refusal: the status and a message saying what was wrong and what to do.
fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, JsonBody(json!({ "error": message.into() }))).into_response()
}

/// Whether `signature` (hex) is the HMAC-SHA256 of `body` under `secret`, compared in
/// constant time.
pub fn signed(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Ok(expected) = hex::decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The events of a delivery worth storing, each with the record it is about; or what
/// is wrong with the body.
pub fn events(body: &[u8], received_at: &str) -> Result<Vec<(String, Json)>, String> {
    let delivery: Json =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let events = delivery
        .get("events")
        .and_then(Json::as_array)
        .ok_or("the body has no `events` list")?;
    let mut out = Vec::new();
    for (n, event) in events.iter().enumerate() {
        let kind = event
            .get("event_type")
            .and_then(Json::as_str)
            .ok_or_else(|| format!("events[{n}] has no `event_type`"))?;
        let field = |path: &[&str]| {
            path.iter()
                .fold(event, |at, key| &at[*key])
                .as_str()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| format!("events[{n}] ({kind}) has no `{}`", path.join(".")))
        };
        // Kept by the record it is about — an entry by its parent record — so a
        // record's events, of either kind, are handled in order.
        let record = if RECORD_EVENTS.contains(&kind) {
            format!(
                "{}/{}",
                field(&["id", "object_id"])?,
                field(&["id", "record_id"])?
            )
        } else if LIST_EVENTS.contains(&kind) {
            field(&["id", "list_id"])?;
            field(&["id", "entry_id"])?;
            format!(
                "{}/{}",
                field(&["parent_object_id"])?,
                field(&["parent_record_id"])?
            )
        } else if kind == "note.created" {
            field(&["id", "note_id"])?;
            format!(
                "{}/{}",
                field(&["parent_object_id"])?,
                field(&["parent_record_id"])?
            )
        } else if kind == "comment.created" {
            field(&["id", "comment_id"])?;
            match (field(&["object_id"]), field(&["record_id"])) {
                (Ok(object), Ok(record)) => format!("{object}/{record}"),
                // On a list entry only: no record a rule is about.
                _ => continue,
            }
        } else if TASK_EVENTS.contains(&kind) {
            // A task may be linked to several records: its events keep their order
            // by the task.
            format!("task/{}", field(&["id", "task_id"])?)
        } else {
            continue;
        };
        let mut stored = event.clone();
        stored["received_at"] = json!(received_at);
        out.push((record, stored));
    }
    Ok(out)
}

/// `POST /webhooks/attio`.
pub async fn attio(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let response = take(&app, &headers, body).await;
    if !response.status().is_success() {
        app.metrics.webhook("refused", 0);
    }
    response
}

async fn take(app: &Arc<App>, headers: &HeaderMap, body: Bytes) -> Response {
    let Some(signature) = headers
        .get("attio-signature")
        .or_else(|| headers.get("x-attio-signature"))
        .and_then(|v| v.to_str().ok())
    else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "the `Attio-Signature` header is missing: deliveries must be signed with the webhook's secret",
        );
    };
    if !signed(app.webhook_secret.reveal().as_bytes(), &body, signature) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "the signature does not match the body: check that ATTIO_WEBHOOK_SECRET is this webhook's secret",
        );
    }
    let now = chrono::Utc::now();
    let events = match events(&body, &now.to_rfc3339()) {
        Ok(events) => events,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
    };
    store(app, delivery_key(headers, ""), events, now).await
}

/// The delivery's `Idempotency-Key`, in the namespace of its route (one sender's keys
/// cannot shadow another's).
fn delivery_key(headers: &HeaderMap, scope: &str) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|key| format!("{scope}{key}"))
}

/// Commits a delivery's events to the inbox (nothing, for a key seen before).
pub(super) async fn store(
    app: &Arc<App>,
    key: Option<String>,
    events: Vec<(String, Json)>,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    let inbox = app.inbox.clone();
    let count = events.len();
    let stored =
        tokio::task::spawn_blocking(move || inbox.accept(key.as_deref(), &events, now.timestamp()))
            .await;
    match stored {
        Ok(Ok(true)) => {
            app.arrived.notify_one();
            app.metrics.webhook("accepted", count as u64);
            (StatusCode::OK, JsonBody(json!({ "accepted": count }))).into_response()
        }
        Ok(Ok(false)) => {
            app.metrics.webhook("duplicate", 0);
            let body = json!({ "accepted": 0, "duplicate": true });
            (StatusCode::OK, JsonBody(body)).into_response()
        }
        Ok(Err(e)) => {
            super::log::error("inbox", &e);
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the inbox cannot be written; Attio will deliver again",
            )
        }
        Err(e) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the inbox task failed: {e}"),
        ),
    }
}

/// `POST /webhooks/{name}`: a webhook the rules declare (`webhook typeform { … }`).
pub async fn rule(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let response = take_rule(&app, &name, &headers, body).await;
    if !response.status().is_success() {
        app.metrics.webhook("refused", 0);
    }
    response
}

async fn take_rule(app: &Arc<App>, name: &str, headers: &HeaderMap, body: Bytes) -> Response {
    if app.targets.schema.webhook(name).is_none() {
        let declared: Vec<&str> = app
            .targets
            .schema
            .webhooks
            .iter()
            .map(|w| w.name.as_str())
            .collect();
        return refuse(
            StatusCode::NOT_FOUND,
            format!(
                "the rules declare no webhook `{name}`{}",
                match declared.is_empty() {
                    true => String::new(),
                    false => format!(" (they declare {})", declared.join(", ")),
                }
            ),
        );
    }
    if let Some((header, secret)) = app.rule_hooks.get(name) {
        let Some(signature) = headers.get(header.as_str()).and_then(|v| v.to_str().ok()) else {
            return refuse(
                StatusCode::UNAUTHORIZED,
                format!("the `{header}` header is missing: deliveries to this webhook must be signed with its secret ([webhooks.{name}] in rulec.toml)"),
            );
        };
        let signature = signature.trim().trim_start_matches("sha256=");
        if !signed(secret.reveal().as_bytes(), &body, signature) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                format!(
                    "the signature does not match the body: check the secret of [webhooks.{name}]"
                ),
            );
        }
    }
    let payload: Json = match serde_json::from_slice(&body) {
        Ok(payload @ Json::Object(_)) => payload,
        Ok(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "the body must be a JSON object: the webhook's payload",
            )
        }
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("the body is not JSON: {e}"),
            )
        }
    };
    let now = chrono::Utc::now();
    let event =
        json!({ "id": "delivery", "type": "webhook", "name": name, "at": now, "payload": payload });
    // Checked against the declaration now, so what cannot run is refused, not stored.
    let text = event.to_string();
    match app
        .host
        .with(move |engine| engine.parse_line(&text, 1).map(|_| ()))
        .await
    {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("`{}`: {}", e.field, e.message),
            )
        }
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
    let stored = json!({ "rulec_event": event, "received_at": now.to_rfc3339() });
    let key = delivery_key(headers, &format!("webhook/{name}:"));
    store(app, key, vec![(format!("webhook/{name}"), stored)], now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_secret_signs_a_body() {
        let body = br#"{"events":[]}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec").unwrap();
        mac.update(body);
        let good = hex::encode(mac.finalize().into_bytes());
        assert!(signed(b"whsec", body, &good));
        assert!(!signed(b"other", body, &good));
        assert!(!signed(b"whsec", br#"{"events":[1]}"#, &good));
        assert!(!signed(b"whsec", body, "not hex"));
        assert!(!signed(b"whsec", body, ""));
    }

    #[test]
    fn a_delivery_keeps_its_record_events_and_names_what_is_missing() {
        let body = br#"{"webhook_id":"w","events":[
            {"event_type":"record.updated","id":{"object_id":"o1","record_id":"r1"},"actor":{"type":"system"}},
            {"event_type":"call-recording.created","id":{"call_recording_id":"c1"}},
            {"event_type":"comment.created","id":{"comment_id":"c2"},"list_id":"l1","entry_id":"e1"},
            {"event_type":"task.updated","id":{"task_id":"t1"}}]}"#;
        let events = events(body, "2026-12-01T00:00:00Z").unwrap();
        // The recording and the comment on a list entry alone are not kept; a task
        // is kept by itself.
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].0, "o1/r1");
        assert_eq!(events[1].0, "task/t1");
        assert_eq!(events[0].1["received_at"], "2026-12-01T00:00:00Z");
        let missing = super::events(
            br#"{"events":[{"event_type":"record.created","id":{"object_id":"o1"}}]}"#,
            "",
        )
        .unwrap_err();
        assert!(
            missing.contains("events[0] (record.created) has no `id.record_id`"),
            "{missing}"
        );
        let entry = super::events(
            br#"{"events":[{"event_type":"list-entry.created","id":{"list_id":"l1","entry_id":"e1"},"parent_object_id":"o1","parent_record_id":"r1"}]}"#,
            "",
        )
        .unwrap();
        assert_eq!(entry[0].0, "o1/r1", "an entry goes with its parent record");
        let missing = super::events(
            br#"{"events":[{"event_type":"list-entry.deleted","id":{"list_id":"l1","entry_id":"e1"},"parent_object_id":"o1"}]}"#,
            "",
        )
        .unwrap_err();
        assert!(missing.contains("has no `parent_record_id`"), "{missing}");
        assert!(super::events(b"nope", "").unwrap_err().contains("not JSON"));
        assert!(super::events(b"{}", "")
            .unwrap_err()
            .contains("no `events` list"));
    }
}
