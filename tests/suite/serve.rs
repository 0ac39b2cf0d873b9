//! `rulec serve` end to end: the real binary between a fake Attio and a fake Slack on
//! 127.0.0.1, fed signed webhooks; what the fakes received is the proof.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "whsec-test-0123456789";
const ATTIO_TOKEN: &str = "attio-token-abcdef";
const SLACK_TOKEN: &str = "xoxb-slack-token-123";
const HOOK_SECRET: &str = "typeform-secret-42";

/// What the fakes hold and what they were sent.
#[derive(Default)]
struct Fakes {
    /// `(object slug, record id)` → Attio's values.
    records: HashMap<(String, String), Value>,
    /// Every call: `METHOD path body`.
    calls: Vec<String>,
    /// Messages Slack accepted: `(channel, text)`.
    messages: Vec<(String, String)>,
    /// Authorization headers seen.
    auth: Vec<String>,
    /// Calls to the rules' own endpoints: `(path, Idempotency-Key, body)`.
    hooks: Vec<(String, String, Value)>,
    /// Emails the fake SMTP server took: the whole message as sent.
    mails: Vec<String>,
    /// The fakes' port.
    port: u16,
    /// The server a record write is echoed to, as Attio's webhook would.
    echo: Option<String>,
    /// Attio's webhooks (as `GET /v2/webhooks` lists them).
    webhooks: Vec<Value>,
    /// How long a record write is answered after it is applied (a slow Attio).
    patch_delay: Duration,
    /// The metadata key of each message in `messages`.
    keys: Vec<String>,
    /// Notes and tasks, as Attio would list them.
    attached: Vec<Value>,
    /// How long a message, note or task is answered after it is taken.
    answer_delay: Duration,
    /// Answers to give instead of the real ones, in turn, by `METHOD path`: a status
    /// and a `Retry-After`.
    script: HashMap<String, Vec<(u16, Option<String>)>>,
    /// Notes, comments and tasks as Attio answers them one by one, by path
    /// (`/v2/notes/n9`).
    activities: HashMap<String, Value>,
    /// List entries' values, by `(list id, entry id)`.
    entries: HashMap<(String, String), Value>,
    /// The list ids each record has an entry in, by `(object slug, record id)`.
    memberships: HashMap<(String, String), Vec<String>>,
}

/// `GET /v2/notes/{id}`, `/v2/comments/{id}`, `/v2/tasks/{id}`.
async fn activity(State(s): State<Shared>, uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path().to_string();
    let mut f = s.lock().unwrap();
    f.calls.push(format!("GET {path}"));
    match f.activities.get(&path) {
        Some(data) => Json(json!({ "data": data })).into_response(),
        None => (
            axum::http::StatusCode::NOT_FOUND,
            Json(json!({"message": "not found"})),
        )
            .into_response(),
    }
}

/// Gives the next scripted answer for the call, if one is left (recorded as
/// `SCRIPTED <status> METHOD path`); otherwise lets the call through.
async fn scripted(
    State(s): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let call = format!("{} {}", request.method(), request.uri().path());
    let answer = {
        let mut f = s.lock().unwrap();
        let answer = f
            .script
            .get_mut(&call)
            .filter(|left| !left.is_empty())
            .map(|left| left.remove(0));
        if let Some((status, _)) = &answer {
            f.calls.push(format!("SCRIPTED {status} {call}"));
        }
        answer
    };
    match answer {
        Some((status, retry_after)) => {
            let status = axum::http::StatusCode::from_u16(status).unwrap();
            let mut response = (
                status,
                Json(json!({"ok": false, "error": "scripted", "message": "scripted answer"})),
            )
                .into_response();
            if let Some(after) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", after.parse().unwrap());
            }
            response
        }
        None => next.run(request).await,
    }
}

/// The signing secret the fake Attio gives a webhook it creates.
const CREATED_SECRET: &str = "whsec-from-attio-777";

/// The fake workspace's attributes of `object`, as `GET …/attributes` lists them.
fn attributes(object: &str) -> Value {
    let attribute = |slug: &str, kind: &str, extra: Value| {
        let mut a = json!({
            "id": {"object_id": format!("obj-{object}"), "attribute_id": format!("a-{slug}")},
            "api_slug": slug, "title": slug, "type": kind, "is_multiselect": false,
            "is_unique": false, "is_writable": true, "is_archived": false,
            "config": {"record_reference": {"allowed_object_ids": null}},
        });
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    json!({"data": match object {
        "deals" => vec![
            attribute("name", "text", json!({})),
            attribute("stage", "status", json!({})),
            attribute("value", "currency", json!({})),
            attribute("company", "record-reference", json!({"config": {"record_reference": {"allowed_object_ids": ["obj-companies"]}}})),
            attribute("owner", "actor-reference", json!({})),
            attribute("created_at", "timestamp", json!({"is_writable": false})),
            attribute("legacy_score", "number", json!({"is_archived": true})),
            attribute("2fa", "checkbox", json!({})),
        ],
        "companies" => vec![
            attribute("name", "text", json!({})),
            attribute("domains", "domain", json!({"is_multiselect": true, "is_unique": true})),
            attribute("tier", "select", json!({})),
        ],
        _ => vec![],
    }})
}

/// The options of a status or select of the fake workspace.
fn options(attribute: &str) -> Value {
    let titles: &[(&str, bool)] = match attribute {
        "stage" => &[
            ("Lead", false),
            ("In Progress", false),
            ("Old", true),
            ("Closed Won", false),
            ("Closed Lost", false),
        ],
        "tier" => &[("Enterprise", false), ("SMB", false)],
        _ => &[],
    };
    json!({"data": titles.iter().map(|(t, archived)| json!({"title": t, "is_archived": archived})).collect::<Vec<_>>()})
}

/// `POST /v2/webhooks`: the webhook, created, with its secret shown once.
async fn create_webhook(State(s): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    let mut f = s.lock().unwrap();
    f.calls.push(format!("POST /v2/webhooks {body}"));
    let mut hook = body["data"].clone();
    hook["id"] = json!({"webhook_id": format!("wh-{}", f.webhooks.len() + 1)});
    hook["status"] = json!("active");
    f.webhooks.push(hook.clone());
    hook["secret"] = json!(CREATED_SECRET);
    Json(json!({ "data": hook }))
}

/// `PATCH /v2/webhooks/{id}`: new subscriptions.
async fn update_webhook(
    State(s): State<Shared>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut f = s.lock().unwrap();
    f.calls.push(format!("PATCH /v2/webhooks/{id} {body}"));
    let hook = f
        .webhooks
        .iter_mut()
        .find(|h| h["id"]["webhook_id"] == id.as_str())
        .unwrap();
    hook["subscriptions"] = body["data"]["subscriptions"].clone();
    Json(json!({ "data": hook.clone() }))
}

/// `POST /v2/notes` or `/v2/tasks`: recorded and kept (listed by [`attached`]), then
/// answered after `answer_delay`.
async fn attach(s: &Shared, what: &str, parent: &str, body: Value) -> Json<Value> {
    let (id, delay) = {
        let mut f = s.lock().unwrap();
        f.calls.push(format!("POST /v2/{what} {body}"));
        let record = match parent {
            "parent_record_id" => body["data"]["parent_record_id"].clone(),
            _ => body["data"]["linked_records"][0]["target_record_id"].clone(),
        };
        let n = f.attached.len() + 1;
        let id = format!("{}{n}", &what[..1]);
        let mut kept = json!({
            "kind": what, "record": record, "title": body["data"]["title"],
            "content_plaintext": body["data"]["content"],
            "created_at": chrono::Utc::now().to_rfc3339(),
        });
        let id_key = if what == "notes" {
            "note_id"
        } else {
            "task_id"
        };
        kept["id"] = json!({ id_key: id });
        f.attached.push(kept);
        (id, f.answer_delay)
    };
    tokio::time::sleep(delay).await;
    let id_key = if what == "notes" {
        "note_id"
    } else {
        "task_id"
    };
    Json(json!({"data": {"id": { id_key: id }}}))
}

/// `GET /v2/notes?parent_record_id=…` or `/v2/tasks?linked_record_id=…`.
async fn attached(
    State(s): State<Shared>,
    uri: axum::http::Uri,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Json<Value> {
    let what = if uri.path().ends_with("notes") {
        "notes"
    } else {
        "tasks"
    };
    let record = query
        .get("parent_record_id")
        .or(query.get("linked_record_id"))
        .cloned()
        .unwrap_or_default();
    // Attio's own names for the filter, and a page size: anything else is refused.
    let scoped = ["parent_object", "linked_object"]
        .iter()
        .any(|k| query.contains_key(*k));
    if !scoped || !query.contains_key("limit") {
        return Json(json!({"status_code": 400, "message": format!("bad query {query:?}")}));
    }
    let f = s.lock().unwrap();
    let items: Vec<Value> = f
        .attached
        .iter()
        .filter(|a| a["kind"] == what && a["record"] == record.as_str())
        .cloned()
        .collect();
    Json(json!({ "data": items }))
}

/// A record write, applied; echoed to the server as Attio does, as a signed
/// `record.updated` whose actor is rulec's own token.
async fn patch_record(
    State(s): State<Shared>,
    Path((object, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Json<Value> {
    // A slow Attio takes `patch_delay` to apply the write, and as long again to
    // answer it.
    let delay = {
        let mut f = s.lock().unwrap();
        f.calls
            .push(format!("PATCH /v2/objects/{object}/records/{id} {body}"));
        f.patch_delay
    };
    tokio::time::sleep(delay).await;
    let echo = {
        let mut f = s.lock().unwrap();
        let record = f
            .records
            .entry((object.clone(), id.clone()))
            .or_insert(json!({}));
        for (attribute, value) in body["data"]["values"].as_object().unwrap() {
            record[attribute] = json!([{"attribute_type": "currency", "currency_value": value, "currency_code": "USD"}]);
        }
        f.echo.clone()
    };
    tokio::time::sleep(delay).await;
    if let Some(server) = echo {
        let event = json!({"webhook_id": "w1", "events": [{
            "event_type": "record.updated",
            "id": {"workspace_id": "ws", "object_id": "obj-deals", "record_id": id, "attribute_id": "a-value"},
            "actor": {"type": "api-token", "id": "tok-rulec"},
        }]})
        .to_string();
        tokio::spawn(async move {
            let _ = reqwest::Client::new()
                .post(format!("{server}/webhooks/attio"))
                .header("attio-signature", sign(&event))
                .body(event)
                .send()
                .await;
        });
    }
    Json(json!({"data": {"id": {"record_id": id}}}))
}

/// The rules' HTTP endpoint and the custom action's receiver: records the call; the
/// action defers (202), the endpoint answers a body the rule binds.
async fn hook(
    State(s): State<Shared>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let path = uri.path().to_string();
    s.lock().unwrap().hooks.push((path.clone(), key, body));
    if path == "/actions/provision" {
        return axum::http::StatusCode::ACCEPTED.into_response();
    }
    Json(json!({"erp_id": "E-7"})).into_response()
}

/// A fake SMTP server: takes every message, keeps it whole.
async fn smtp(shared: Shared) -> u16 {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let shared = shared.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = tokio::io::BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(message) = data.as_mut() {
                        if line == "." {
                            shared.lock().unwrap().mails.push(data.take().unwrap());
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

type Shared = Arc<Mutex<Fakes>>;

fn deal(name: &str, stage: &str, value: f64) -> Value {
    json!({
        "name": [{"attribute_type": "text", "value": name}],
        "stage": [{"attribute_type": "status", "status": {"title": stage}}],
        "value": [{"attribute_type": "currency", "currency_value": value, "currency_code": "USD"}],
        "owner": [{"attribute_type": "actor-reference", "referenced_actor_type": "workspace-member", "referenced_actor_id": "m1"}],
    })
}

async fn fakes(shared: Shared) -> String {
    let router = Router::new()
        .route(
            "/v2/objects",
            get(|| async {
                Json(json!({"data": [
                    {"api_slug": "deals", "id": {"object_id": "obj-deals"}},
                    {"api_slug": "companies", "id": {"object_id": "obj-companies"}},
                ]}))
            }),
        )
        .route(
            "/v2/objects/{object}",
            get(|Path(object): Path<String>| async move {
                let slug = object.strip_prefix("obj-").unwrap_or(&object);
                Json(json!({"data": {"api_slug": slug, "id": {"object_id": format!("obj-{slug}")}}}))
            }),
        )
        .route(
            "/v2/objects/{object}/attributes",
            get(|Path(object): Path<String>| async move { Json(attributes(&object)) }),
        )
        .route(
            "/v2/objects/{object}/attributes/{attribute}",
            get(|Path((object, attribute)): Path<(String, String)>| async move {
                let all = attributes(&object);
                let found = all["data"].as_array().unwrap().iter().find(|a| a["api_slug"] == attribute.as_str()).cloned();
                Json(json!({ "data": found }))
            }),
        )
        .route(
            "/v2/objects/{object}/attributes/{attribute}/{which}",
            get(|Path((_, attribute, _)): Path<(String, String, String)>| async move {
                Json(options(&attribute))
            }),
        )
        .route(
            "/v2/lists",
            get(|| async {
                Json(json!({"data": [
                    {"name": "Key accounts", "api_slug": "key_accounts", "id": {"list_id": "l-key"}, "parent_object": ["companies"]},
                    {"name": "Onboarding", "api_slug": "onboarding", "id": {"list_id": "l-onb"}, "parent_object": ["companies"]},
                    {"name": "Strategic", "api_slug": "strategic", "id": {"list_id": "l-strat"}, "parent_object": ["companies"]},
                ]}))
            }),
        )
        .route(
            "/v2/workspace_members",
            get(|| async {
                Json(json!({"data": [
                    {"email_address": "ana@acme.com", "access_level": "admin"},
                    {"email_address": "gone@acme.com", "access_level": "suspended"},
                ]}))
            }),
        )
        .route(
            "/v2/webhooks",
            get(|State(s): State<Shared>| async move {
                Json(json!({ "data": s.lock().unwrap().webhooks.clone() }))
            })
            .post(create_webhook),
        )
        .route("/v2/webhooks/{id}", axum::routing::patch(update_webhook))
        .route(
            "/v2/objects/{object}/records/{id}",
            get(
                |State(s): State<Shared>,
                 Path((object, id)): Path<(String, String)>,
                 headers: axum::http::HeaderMap| async move {
                    let mut f = s.lock().unwrap();
                    f.calls
                        .push(format!("GET /v2/objects/{object}/records/{id}"));
                    f.auth.push(
                        headers
                            .get("authorization")
                            .map(|v| v.to_str().unwrap().to_string())
                            .unwrap_or_default(),
                    );
                    match f.records.get(&(object.clone(), id.clone())) {
                        Some(values) => (
                            axum::http::StatusCode::OK,
                            Json(json!({"data": {"id": {"record_id": id}, "values": values}})),
                        ),
                        None => (
                            axum::http::StatusCode::NOT_FOUND,
                            Json(json!({"message": "not found"})),
                        ),
                    }
                },
            )
            .patch(patch_record),
        )
        .route(
            "/v2/workspace_members/{id}",
            get(|Path(id): Path<String>| async move {
                Json(json!({"data": {"email_address": if id == "m1" { "ana@acme.com" } else { "" }}}))
            }),
        )
        .route(
            "/v2/notes",
            get(attached).post(|State(s): State<Shared>, Json(body): Json<Value>| async move {
                attach(&s, "notes", "parent_record_id", body).await
            }),
        )
        .route(
            "/v2/tasks",
            get(attached).post(|State(s): State<Shared>, Json(body): Json<Value>| async move {
                attach(&s, "tasks", "linked_records", body).await
            }),
        )
        .route(
            "/chat.postMessage",
            post(
                |State(s): State<Shared>, Json(body): Json<Value>| async move {
                    let delay = {
                        let mut f = s.lock().unwrap();
                        f.calls.push(format!("POST /chat.postMessage {body}"));
                        f.messages.push((
                            body["channel"].as_str().unwrap_or("").to_string(),
                            body["text"].as_str().unwrap_or("").to_string(),
                        ));
                        let key = body["metadata"]["event_payload"]["key"].as_str().unwrap_or("");
                        f.keys.push(key.to_string());
                        f.answer_delay
                    };
                    tokio::time::sleep(delay).await;
                    Json(json!({"ok": true}))
                },
            ),
        )
        .route(
            "/conversations.list",
            get(|| async {
                Json(json!({"ok": true, "channels": [{"id": "C-wins", "name": "wins"}], "response_metadata": {"next_cursor": ""}}))
            }),
        )
        .route(
            "/conversations.history",
            get(
                |State(s): State<Shared>,
                 axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>| async move {
                    if !query.contains_key("oldest") || query.get("include_all_metadata").map(String::as_str) != Some("true") {
                        return Json(json!({"ok": false, "error": "invalid_arguments"}));
                    }
                    let f = s.lock().unwrap();
                    let wanted = query.get("channel").cloned().unwrap_or_default();
                    let named = wanted.replacen("C-", "#", 1);
                    let messages: Vec<Value> = f
                        .messages
                        .iter()
                        .zip(&f.keys)
                        .filter(|((channel, _), _)| *channel == wanted || *channel == named)
                        .map(|((_, text), key)| json!({"text": text, "metadata": {"event_type": "rulec_effect", "event_payload": {"key": key}}}))
                        .collect();
                    Json(json!({"ok": true, "messages": messages, "response_metadata": {"next_cursor": ""}}))
                },
            ),
        )
        .route(
            "/users.lookupByEmail",
            post(|Json(body): Json<Value>| async move {
                let found = body["email"] == "ana@acme.com";
                Json(json!({"ok": found, "user": {"id": "U-ana"}, "error": "users_not_found"}))
            }),
        )
        .route(
            "/conversations.open",
            post(|| async { Json(json!({"ok": true, "channel": {"id": "D-ana"}})) }),
        )
        .route(
            "/v2/lists/{list}/entries",
            axum::routing::put(
                |State(s): State<Shared>, Path(list): Path<String>, Json(body): Json<Value>| async move {
                    s.lock().unwrap().calls.push(format!("PUT /v2/lists/{list}/entries {body}"));
                    Json(json!({"data": {"id": {"list_id": list, "entry_id": "e-put"}}}))
                },
            ),
        )
        .route(
            "/v2/lists/{list}/attributes",
            get(|Path(list): Path<String>| async move {
                let data = if list == "l-onb" {
                    json!([{"api_slug": "stage", "type": "status", "is_multiselect": false, "is_unique": false, "is_writable": true}])
                } else {
                    json!([])
                };
                Json(json!({ "data": data }))
            }),
        )
        .route(
            "/v2/lists/{list}/attributes/{attribute}/{which}",
            get(|Path((_, attribute, _)): Path<(String, String, String)>| async move {
                Json(options(&attribute))
            }),
        )
        .route(
            "/v2/lists/{list}/entries/{entry}",
            get(|State(s): State<Shared>, Path((list, entry)): Path<(String, String)>| async move {
                let mut f = s.lock().unwrap();
                f.calls.push(format!("GET /v2/lists/{list}/entries/{entry}"));
                match f.entries.get(&(list.clone(), entry.clone())) {
                    Some(values) => (
                        axum::http::StatusCode::OK,
                        Json(json!({"data": {"id": {"list_id": list, "entry_id": entry}, "entry_values": values}})),
                    ),
                    None => (axum::http::StatusCode::NOT_FOUND, Json(json!({"message": "not found"}))),
                }
            }),
        )
        .route(
            "/v2/objects/{object}/records/{id}/entries",
            get(|State(s): State<Shared>, Path((object, id)): Path<(String, String)>| async move {
                let mut f = s.lock().unwrap();
                f.calls.push(format!("GET /v2/objects/{object}/records/{id}/entries"));
                let lists = f.memberships.get(&(object, id)).cloned().unwrap_or_default();
                let data: Vec<Value> = lists
                    .iter()
                    .map(|l| json!({"list_id": l, "list_api_slug": l, "entry_id": format!("{l}-entry"), "created_at": "2026-01-01T00:00:00Z"}))
                    .collect();
                Json(json!({ "data": data }))
            }),
        )
        .route("/v2/notes/{id}", get(activity))
        .route("/v2/comments/{id}", get(activity))
        .route("/v2/tasks/{id}", get(activity))
        .route("/hook", post(hook))
        .route("/actions/provision", post(hook))
        .route(
            "/redirect",
            get(|State(s): State<Shared>| async move {
                s.lock().unwrap().calls.push("GET /redirect".into());
                // Off the allow list: the server must not follow it.
                let port = s.lock().unwrap().port;
                axum::response::Redirect::temporary(&format!("http://localhost:{port}/hook"))
            }),
        )
        .layer(axum::middleware::from_fn_with_state(shared.clone(), scripted))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    shared.lock().unwrap().port = listener.local_addr().unwrap().port();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

const RULES: &str = r##"rule wins
  when stage changed from Open to ClosedWon and value > 10000
  do
    slack "#wins" "{{name}} won"
    note "Celebrated" "Posted to #wins"
    create task "Kick off {{name}}" for owner due next_business_day()
"##;

fn project(name: &str, fakes: &str) -> PathBuf {
    project_with(name, fakes, RULES, "")
}

/// A project with `rules`, and `extra` appended to its `rulec.toml`.
fn project_with(name: &str, fakes: &str, rules: &str, extra: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rulec-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("wins.rules"), rules).unwrap();
    std::fs::write(
        dir.join("rulec.toml"),
        format!(
            "[serve]\nstate = \"state.db\"\nmax_body_bytes = 4096\ntimeout_ms = 3000\ndebounce_ms = 1000\n\n[attio]\napi_url = \"{fakes}\"\n\n[slack]\napi_url = \"{fakes}\"\n{extra}"
        ),
    )
    .unwrap();
    dir
}

/// The server, started; its address once it said it listens.
struct Server {
    child: Child,
    url: String,
    logs: Arc<Mutex<String>>,
}

const ADMIN_TOKEN: &str = "admin-token-987654";

fn start(dir: &std::path::Path, admin: bool) -> Server {
    start_on(dir, admin, ".")
}

/// The server on `rules`: a folder of rule files, or the program `rulec compile` wrote.
fn start_on(dir: &std::path::Path, admin: bool, rules: &str) -> Server {
    launch(dir, admin, &[rules], Some(SECRET))
}

/// `rulec serve ARGS --listen 127.0.0.1:0`, with the webhook secret `secret` (unset
/// when `None`).
fn launch(dir: &std::path::Path, admin: bool, args: &[&str], secret: Option<&str>) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rulec"));
    if admin {
        command.env("RULEC_ADMIN_TOKEN", ADMIN_TOKEN);
    }
    match secret {
        Some(secret) => command.env("ATTIO_WEBHOOK_SECRET", secret),
        None => command.env_remove("ATTIO_WEBHOOK_SECRET"),
    };
    let mut child = command
        .current_dir(dir)
        .arg("serve")
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .env("ATTIO_API_TOKEN", ATTIO_TOKEN)
        .env("SLACK_BOT_TOKEN", SLACK_TOKEN)
        .env("TYPEFORM_SECRET", HOOK_SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let logs = Arc::new(Mutex::new(String::new()));
    let sink = logs.clone();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut logs = sink.lock().unwrap();
            logs.push_str(&line);
            logs.push('\n');
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| {
            panic!(
                "unexpected first line {line:?}; logs: {}",
                logs.lock().unwrap()
            )
        })
        .to_string();
    Server { child, url, logs }
}

fn sign(body: &str) -> String {
    sign_with(SECRET, body)
}

fn sign_with(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn delivery(kind: &str, record: &str) -> String {
    json!({"webhook_id": "w1", "events": [{
        "event_type": kind,
        "id": {"workspace_id": "ws", "object_id": "obj-deals", "record_id": record, "attribute_id": "a-stage"},
        "actor": {"type": "system"},
    }]})
    .to_string()
}

async fn send(
    client: &reqwest::Client,
    server: &Server,
    body: &str,
    signature: Option<&str>,
    key: &str,
) -> (u16, Value) {
    let mut request = client
        .post(format!("{}/webhooks/attio", server.url))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_string());
    if let Some(signature) = signature {
        request = request.header("attio-signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A GET of the admin API with the admin token: the JSON answer.
async fn admin_get(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(url)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn eventually(server: &Server, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "timed out waiting for {what}; the server logged:\n{}",
        server.logs.lock().unwrap()
    );
}

#[test]
fn a_signed_change_posts_once_and_forged_redelivered_or_malformed_webhooks_post_nothing() {
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project("once", &url);
        let mut server = start(&dir, true);
        let client = reqwest::Client::new();
        assert_eq!(
            client
                .get(format!("{}/healthz", server.url))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );

        shared
            .lock()
            .unwrap()
            .records
            .insert(("deals".into(), "d1".into()), deal("Acme", "Open", 25000.0));
        let created = delivery("record.created", "d1");
        let (status, _) = send(&client, &server, &created, Some(&sign(&created)), "k1").await;
        assert_eq!(status, 200);
        let reads = |s: &Shared| {
            s.lock()
                .unwrap()
                .calls
                .iter()
                .filter(|c| c.starts_with("GET /v2/objects/deals/records/d1"))
                .count()
        };
        eventually(&server, "the created record to be read", || {
            reads(&shared) == 1
        })
        .await;

        // The deal is won in Attio; the webhook names only the record.
        shared.lock().unwrap().records.insert(
            ("deals".into(), "d1".into()),
            deal("Acme", "ClosedWon", 25000.0),
        );
        let updated = delivery("record.updated", "d1");
        let (status, body) = send(&client, &server, &updated, Some(&sign(&updated)), "k2").await;
        assert_eq!((status, body["accepted"].clone()), (200, json!(1)));
        eventually(&server, "the message", || {
            !shared.lock().unwrap().messages.is_empty()
        })
        .await;
        assert_eq!(
            shared.lock().unwrap().messages,
            [("#wins".to_string(), "Acme won".to_string())]
        );
        // Then the note and the task, on the record, for its owner (a member id in
        // Attio, an email to the rules).
        let posted = |s: &Shared, path: &str| -> Vec<Value> {
            s.lock()
                .unwrap()
                .calls
                .iter()
                .filter_map(|c| c.strip_prefix(&format!("POST {path} ")))
                .map(|body| serde_json::from_str(body).unwrap())
                .collect()
        };
        eventually(&server, "the task", || {
            !posted(&shared, "/v2/tasks").is_empty()
        })
        .await;
        let notes = posted(&shared, "/v2/notes");
        assert_eq!(notes.len(), 1);
        assert_eq!(
            (
                &notes[0]["data"]["parent_record_id"],
                &notes[0]["data"]["title"]
            ),
            (&json!("d1"), &json!("Celebrated"))
        );
        let task = &posted(&shared, "/v2/tasks")[0]["data"];
        assert_eq!(task["content"], "Kick off Acme");
        assert_eq!(
            task["assignees"][0]["workspace_member_email_address"],
            "ana@acme.com"
        );
        assert_eq!(task["linked_records"][0]["target_record_id"], "d1");

        // Redelivered under the same key: nothing stored. Under a new key: read
        // again, nothing changed, nothing posted.
        let (status, body) = send(&client, &server, &updated, Some(&sign(&updated)), "k2").await;
        assert_eq!((status, body["duplicate"].clone()), (200, json!(true)));
        let (status, _) = send(&client, &server, &updated, Some(&sign(&updated)), "k3").await;
        assert_eq!(status, 200);
        eventually(&server, "the redelivery to be read", || reads(&shared) == 3).await;

        // Refused, each with a clear 4xx, and nothing stored.
        let (status, body) = send(
            &client,
            &server,
            &updated,
            Some(&sign("something else")),
            "k4",
        )
        .await;
        assert_eq!(status, 401, "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("signature does not match"),
            "{body}"
        );
        let (status, body) = send(&client, &server, &updated, None, "k5").await;
        assert_eq!(status, 401, "{body}");
        let garbage = "{not json";
        let (status, body) = send(&client, &server, garbage, Some(&sign(garbage)), "k6").await;
        assert_eq!(status, 400, "{body}");
        let huge = format!("{{\"events\": [], \"pad\": \"{}\"}}", "x".repeat(8192));
        let (status, _) = send(&client, &server, &huge, Some(&sign(&huge)), "k7").await;
        assert_eq!(status, 413);

        tokio::time::sleep(Duration::from_millis(300)).await;
        {
            let fakes = shared.lock().unwrap();
            assert_eq!(fakes.messages.len(), 1, "{:?}", fakes.calls);
            let writes = fakes
                .calls
                .iter()
                .filter(|c| c.starts_with("POST /v2/"))
                .count();
            assert_eq!(
                writes, 2,
                "one note and one task, none twice: {:?}",
                fakes.calls
            );
            let record_reads = fakes
                .calls
                .iter()
                .filter(|c| c.starts_with("GET /v2/objects/deals/records/"))
                .count();
            assert_eq!(
                record_reads, 3,
                "nothing refused was read: {:?}",
                fakes.calls
            );
            assert!(fakes
                .auth
                .iter()
                .all(|a| a == &format!("Bearer {ATTIO_TOKEN}")));
        }

        // A burst of updates to one record (an import, a run of edits) is read once,
        // after it.
        for key in ["b1", "b2", "b3"] {
            let (status, _) = send(&client, &server, &updated, Some(&sign(&updated)), key).await;
            assert_eq!(status, 200);
        }
        eventually(&server, "the burst to be read", || reads(&shared) == 4).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(reads(&shared), 4, "one read for the burst");

        // The admin API: the run, for the admin token only.
        let api = format!("{}/api/runs?rule=wins&status=completed", server.url);
        let status = client.get(&api).send().await.unwrap().status();
        assert_eq!(status, 401);
        let runs: Value = admin_get(&client, &api).await;
        assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
        assert_eq!(runs[0]["record"], "d1");
        assert_eq!(runs[0]["effects"].as_array().unwrap().len(), 3, "{runs}");

        // SIGTERM: drains and exits 0; no secret was ever logged.
        stop(&mut server);
        let logs = server.logs.lock().unwrap().clone();
        for secret in [SECRET, ATTIO_TOKEN, SLACK_TOKEN, ADMIN_TOKEN] {
            assert!(!logs.contains(secret), "a secret in the logs: {logs}");
        }
        assert!(logs.contains("\"msg\":\"run\""), "{logs}");

        // Started again on the same state, without an admin token: the API is off,
        // and nothing is performed again.
        let mut again = start(&dir, false);
        let status = client
            .get(format!("{}/api/runs", again.url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 403);
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop(&mut again);
        assert_eq!(shared.lock().unwrap().messages.len(), 1);
    });
}

#[test]
fn email_http_and_a_deferred_custom_action_are_performed_once_each() {
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let smtp_port = smtp(shared.clone()).await;
        let port = shared.lock().unwrap().port;
        let rules = format!(
            r##"action provision(person: text)

rule welcome
  when deals created
  do
    email owner subject "New deal {{{{name}}}}" body "Look at {{{{name}}}}"
    http POST "http://127.0.0.1:{port}/hook" body {{ name: name }} as erp
    http GET "http://127.0.0.1:{port}/redirect" on error continue
    provision(person: name) as laptop
    note "Provisioned" "ticket {{{{laptop.ticket}}}}, erp {{{{erp.erp_id}}}}, for {{{{company.name}}}}"
"##
        );
        let extra = format!(
            "\n[http]\nallow = [\"127.0.0.1\"]\n\n[email]\nsmtp_url = \"smtp://127.0.0.1:{smtp_port}\"\nfrom = \"automation@acme.com\"\n\n[actions.provision]\nurl = \"{url}/actions/provision\"\n"
        );
        let dir = project_with("effects", &url, &rules, &extra);
        // Checked and compiled once, as CI would; the artefact is what runs.
        let compiled = Command::new(env!("CARGO_BIN_EXE_rulec"))
            .current_dir(&dir)
            .args(["compile", "wins.rules", "-o", "rules.json"])
            .status()
            .unwrap();
        assert!(compiled.success());
        let mut server = start_on(&dir, true, "rules.json");
        let client = reqwest::Client::new();
        {
            let mut f = shared.lock().unwrap();
            let mut globex = deal("Globex", "Open", 500.0);
            globex["company"] = json!([{"attribute_type": "record-reference", "target_object": "companies", "target_record_id": "c1"}]);
            f.records.insert(("deals".into(), "d9".into()), globex);
            f.records.insert(
                ("companies".into(), "c1".into()),
                json!({"name": [{"attribute_type": "text", "value": "Globex Corp"}]}),
            );
        }
        let created = delivery("record.created", "d9");
        let (status, _) = send(&client, &server, &created, Some(&sign(&created)), "e1").await;
        assert_eq!(status, 200);

        eventually(&server, "the custom action", || {
            shared
                .lock()
                .unwrap()
                .hooks
                .iter()
                .any(|(path, ..)| path == "/actions/provision")
        })
        .await;
        let (mails, hooks) = {
            let f = shared.lock().unwrap();
            (f.mails.clone(), f.hooks.clone())
        };
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert!(mails[0].contains("Subject: New deal Globex"), "{}", mails[0]);
        assert!(mails[0].contains("To: ana@acme.com"), "{}", mails[0]);
        assert!(mails[0].contains("Message-ID: <"), "{}", mails[0]);
        // The endpoint once, never the host the redirect pointed off the list to.
        assert_eq!(hooks.len(), 2, "{hooks:?}");
        let (path, erp_key, body) = &hooks[0];
        assert_eq!((path.as_str(), body), ("/hook", &json!({"name": "Globex"})));
        assert!(!erp_key.is_empty());
        let (_, action_key, request) = &hooks[1];
        assert_eq!(request["args"], json!({"person": "Globex"}));
        assert_eq!(&request["key"], action_key);
        assert_eq!(request["record"], json!({"object": "deals", "id": "d9"}));

        // The action's job calls back: a wrong token is refused, the right one goes on.
        let callback = request["callback"]["url"].as_str().unwrap().to_string();
        let token = request["callback"]["token"].as_str().unwrap().to_string();
        let answer = json!({"output": {"ticket": "IT-9"}});
        let refused = client
            .post(&callback)
            .bearer_auth("0000")
            .json(&answer)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
        assert!(shared.lock().unwrap().calls.iter().all(|c| !c.starts_with("POST /v2/notes")));
        let settled = client
            .post(&callback)
            .bearer_auth(&token)
            .json(&answer)
            .send()
            .await
            .unwrap();
        assert_eq!(settled.status(), 200);
        let notes = || {
            shared
                .lock()
                .unwrap()
                .calls
                .iter()
                .filter(|c| c.starts_with("POST /v2/notes"))
                .cloned()
                .collect::<Vec<_>>()
        };
        eventually(&server, "the note", || !notes().is_empty()).await;
        // `company.name`: the deal's company, read from Attio with the event.
        assert!(
            notes()[0].contains("ticket IT-9, erp E-7, for Globex Corp"),
            "{:?}",
            notes()
        );
        let again = client
            .post(&callback)
            .bearer_auth(&token)
            .json(&answer)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 409);

        let runs: Value = admin_get(&client, &format!("{}/api/runs?rule=welcome", server.url)).await;
        let steps = &runs.as_array().unwrap().last().unwrap()["steps"];
        let redirect = &steps[2];
        assert_eq!(redirect["status"], "continued", "{steps}");
        assert!(
            redirect["error"].as_str().unwrap().contains("allow"),
            "{redirect}"
        );

        // What an operator's Prometheus scrapes.
        let metrics = client
            .get(format!("{}/metrics", server.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for line in [
            "rulec_webhooks_total{status=\"accepted\"} 1",
            "rulec_events_total 1",
            "rulec_effects_total{action=\"email\",outcome=\"done\"} 1",
            "rulec_effects_total{action=\"provision\",outcome=\"deferred\"} 1",
            "rulec_parked_effects 0",
            "rulec_inbox_lag 0",
        ] {
            assert!(metrics.lines().any(|l| l == line), "no `{line}` in:\n{metrics}");
        }

        // Paused, the rule runs on nothing; resumed, on what comes next.
        let admin = |path: &str| {
            client
                .post(format!("{}{path}", server.url))
                .bearer_auth(ADMIN_TOKEN)
                .send()
        };
        assert_eq!(admin("/api/rules/nope/pause").await.unwrap().status(), 404);
        assert_eq!(admin("/api/rules/welcome/pause").await.unwrap().status(), 200);
        let rules: Value = admin_get(&client, &format!("{}/api/rules", server.url)).await;
        assert_eq!(rules[0]["status"], "paused", "{rules}");
        for (record, key) in [("d10", "e2"), ("d11", "e3")] {
            shared
                .lock()
                .unwrap()
                .records
                .insert(("deals".into(), record.into()), deal("Initech", "Open", 10.0));
            let created = delivery("record.created", record);
            let (status, _) = send(&client, &server, &created, Some(&sign(&created)), key).await;
            assert_eq!(status, 200);
            let run = format!("{}/api/runs/welcome@attio:record.created:deals:{record}", server.url);
            if record == "d10" {
                let mut seen = Value::Null;
                for _ in 0..200 {
                    let response = client.get(&run).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
                    if response.status() == 200 {
                        seen = response.json().await.unwrap();
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                assert_eq!(seen["reason"], "paused by an operator", "{seen}");
                assert_eq!(admin("/api/rules/welcome/resume").await.unwrap().status(), 200);
            }
        }
        eventually(&server, "the email after resuming", || {
            shared.lock().unwrap().mails.len() == 2
        })
        .await;

        stop(&mut server);
        let f = shared.lock().unwrap();
        assert_eq!(f.mails.len(), 2, "nothing twice, nothing while paused");
        assert!(f.mails[1].contains("Subject: New deal Initech"));
    });
}

#[test]
fn a_rule_webhook_is_taken_signed_and_checked_against_its_declaration() {
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let rules = r##"webhook typeform { email: email, name: text }

rule intake
  when webhook typeform
  do slack "#leads" "{{payload.name}} <{{payload.email}}>"
"##;
        let extra = "\n[webhooks.typeform]\nsecret_env = \"TYPEFORM_SECRET\"\nheader = \"Typeform-Signature\"\n";
        let dir = project_with("hooks", &url, rules, extra);
        let mut server = start(&dir, false);
        let client = reqwest::Client::new();
        let post = |path: &str, body: &str, signature: Option<String>, key: &str| {
            let mut request = client
                .post(format!("{}{path}", server.url))
                .header("idempotency-key", key)
                .body(body.to_string());
            if let Some(signature) = signature {
                request = request.header("typeform-signature", signature);
            }
            request.send()
        };
        let signed = |body: &str| {
            let mut mac = Hmac::<Sha256>::new_from_slice(HOOK_SECRET.as_bytes()).unwrap();
            mac.update(body.as_bytes());
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        };
        // A value that would ping the channel if it went out as written.
        let good = r#"{"email": "lee@initech.com", "name": "<!channel> Lee"}"#;
        let refusals = [
            ("/webhooks/typeform", good, None, 401, "header is missing"),
            ("/webhooks/typeform", good, Some("sha256=00".to_string()), 401, "does not match"),
            ("/webhooks/jotform", good, Some(signed(good)), 404, "declare no webhook `jotform` (they declare typeform)"),
            ("/webhooks/typeform", "[1]", Some(signed("[1]")), 400, "JSON object"),
        ];
        for (path, body, signature, status, says) in refusals {
            let response = post(path, body, signature, "r").await.unwrap();
            assert_eq!(response.status().as_u16(), status, "{path} {body}");
            let error: Value = response.json().await.unwrap();
            assert!(error["error"].as_str().unwrap().contains(says), "{error}");
        }
        let wrong = r#"{"email": 5, "name": "Lee"}"#;
        let response = post("/webhooks/typeform", wrong, Some(signed(wrong)), "w").await.unwrap();
        assert_eq!(response.status(), 400);
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].as_str().unwrap().contains("payload.email"), "{error}");

        for _ in 0..2 {
            let response = post("/webhooks/typeform", good, Some(signed(good)), "k1").await.unwrap();
            assert_eq!(response.status(), 200);
        }
        eventually(&server, "the message", || !shared.lock().unwrap().messages.is_empty()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop(&mut server);
        assert_eq!(
            shared.lock().unwrap().messages,
            [(
                "#leads".to_string(),
                "&lt;!channel&gt; Lee <lee@initech.com>".to_string()
            )],
            "once, for the one delivery taken, the payload's markup escaped"
        );
    });
}

#[test]
fn a_rule_feeding_itself_through_attio_is_bounded_exactly_as_in_a_replay() {
    // The checker refuses such a loop unless told it is meant: then the cascade
    // limit is what bounds it.
    let rules = "rule bump\n  allow rule-cycle \"bounded by the cascade limit\"\n  when value changed\n  do set value = value + 1\n";
    // The replay: the same rules, the same change, no Attio.
    let dir = project_with("loop", "http://127.0.0.1:9", rules, "");
    std::fs::write(
        dir.join("events.jsonl"),
        r#"{"id":"e1","type":"record.updated","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","record":{"name":"Loop","value":2},"old":{"value":1}}"#,
    )
    .unwrap();
    let replay = Command::new(env!("CARGO_BIN_EXE_rulec"))
        .current_dir(&dir)
        .args(["run", ".", "--events", "events.jsonl", "--format", "json"])
        .output()
        .unwrap();
    let records: Vec<Value> = String::from_utf8_lossy(&replay.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let replayed_writes: usize = records
        .iter()
        .map(|r| r["effects"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(
        records.iter().any(|r| r["reason"]
            .as_str()
            .is_some_and(|r| r.contains("cascade stopped"))),
        "{records:?}"
    );

    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let extra = "";
        let dir = project_with("loop-live", &url, rules, extra);
        let toml = std::fs::read_to_string(dir.join("rulec.toml")).unwrap();
        // Each echo read at once, mid-cascade (no debounce window to hide it in).
        let toml = toml
            .replace("[attio]\n", "[attio]\ntoken_actor_id = \"tok-rulec\"\n")
            .replace("debounce_ms = 1000", "debounce_ms = 0");
        std::fs::write(dir.join("rulec.toml"), toml).unwrap();
        let mut server = start(&dir, false);
        shared.lock().unwrap().echo = Some(server.url.clone());
        let client = reqwest::Client::new();
        shared
            .lock()
            .unwrap()
            .records
            .insert(("deals".into(), "d1".into()), deal("Loop", "Open", 1.0));
        let created = delivery("record.created", "d1");
        send(&client, &server, &created, Some(&sign(&created)), "c1").await;
        shared
            .lock()
            .unwrap()
            .records
            .insert(("deals".into(), "d1".into()), deal("Loop", "Open", 2.0));
        let updated = delivery("record.updated", "d1");
        send(&client, &server, &updated, Some(&sign(&updated)), "u1").await;
        eventually(&server, "the cascade", || {
            calls_to(&shared, "PATCH") >= replayed_writes
        })
        .await;
        // The echoes of those writes arrive and are read: nothing starts again.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        stop(&mut server);
        assert_eq!(
            calls_to(&shared, "PATCH"),
            replayed_writes,
            "as many writes as the replay made, none more: {:?}",
            shared.lock().unwrap().calls
        );
    });
}

#[test]
fn an_approval_is_asked_in_a_dm_and_answered_through_the_api() {
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let rules = r##"rule approve
  when deals created
  do
    ask owner "Approve {{name}}?" as approval
    note "Answered" "{{approval.answer}}"
"##;
        let dir = project_with("ask", &url, rules, "");
        let mut server = start(&dir, true);
        let client = reqwest::Client::new();
        shared
            .lock()
            .unwrap()
            .records
            .insert(("deals".into(), "d1".into()), deal("Acme", "Open", 10.0));
        let created = delivery("record.created", "d1");
        send(&client, &server, &created, Some(&sign(&created)), "a1").await;
        eventually(&server, "the DM", || {
            !shared.lock().unwrap().messages.is_empty()
        })
        .await;
        let (channel, text) = shared.lock().unwrap().messages[0].clone();
        assert_eq!(channel, "D-ana", "the owner's DM");
        assert!(text.contains("Approval needed: Approve Acme?"), "{text}");

        let approvals = admin_get(&client, &format!("{}/api/approvals", server.url)).await;
        let run = approvals[0]["run"].as_str().unwrap().to_string();
        let answered = client
            .post(format!("{}/api/runs/{run}/answer", server.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"approved": true, "answer": "go ahead"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answered.status(), 200);
        let note = || {
            shared
                .lock()
                .unwrap()
                .calls
                .iter()
                .find(|c| c.starts_with("POST /v2/notes"))
                .cloned()
        };
        eventually(&server, "the note", || note().is_some()).await;
        assert!(note().unwrap().contains("go ahead"), "{:?}", note());
        stop(&mut server);
        assert_eq!(shared.lock().unwrap().messages.len(), 1, "asked once");
    });
}

#[test]
fn a_record_read_while_rulecs_own_write_is_unanswered_is_read_again_after_it() {
    // `bump` writes value; `audit` watches that change. Attio applies the write at
    // once and answers it late; an edit of the record arrives in between.
    let rules = "rule bump when stage changed to ClosedWon do set value = value + 1\n\
                 rule audit when value changed from [100, 101] to [100, 101] do note \"Value\" \"{{old.value}} to {{value}}\"\n";
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project_with("stale", &url, rules, "");
        let toml = std::fs::read_to_string(dir.join("rulec.toml")).unwrap();
        std::fs::write(
            dir.join("rulec.toml"),
            toml.replace("debounce_ms = 1000", "debounce_ms = 0"),
        )
        .unwrap();
        let mut server = start(&dir, false);
        let client = reqwest::Client::new();
        shared
            .lock()
            .unwrap()
            .records
            .insert(("deals".into(), "d1".into()), deal("Acme", "Open", 100.0));
        let created = delivery("record.created", "d1");
        send(&client, &server, &created, Some(&sign(&created)), "c1").await;
        eventually(&server, "the created record to be read", || {
            calls_to(&shared, "GET /v2/objects/deals/records/d1") == 1
        })
        .await;
        {
            let mut f = shared.lock().unwrap();
            f.records.insert(
                ("deals".into(), "d1".into()),
                deal("Acme", "ClosedWon", 100.0),
            );
            f.patch_delay = Duration::from_millis(700);
        }
        let won = delivery("record.updated", "d1");
        send(&client, &server, &won, Some(&sign(&won)), "u1").await;
        eventually(&server, "the write to be applied", || {
            calls_to(&shared, "PATCH /v2/objects/deals/records/d1") == 1
        })
        .await;
        // Someone edits the deal while the write is on its way: before Attio has
        // applied it, and after, before it has answered.
        let edited = delivery("record.updated", "d1");
        send(&client, &server, &edited, Some(&sign(&edited)), "u2").await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        send(&client, &server, &edited, Some(&sign(&edited)), "u3").await;
        eventually(&server, "the edits to be read", || {
            calls_to(&shared, "GET /v2/objects/deals/records/d1") >= 3
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop(&mut server);
        assert_eq!(
            calls_to(&shared, "POST /v2/notes"),
            1,
            "the write is one change, noted once: {:?}",
            shared.lock().unwrap().calls
        );
    });
}

#[test]
fn killed_at_random_points_of_a_stream_and_restarted_it_performs_every_effect_once() {
    let rules = "rule big\n  when deals created and value > 10000\n  do\n    slack \"#wins\" \"{{name}} won\"\n    note \"Won\" \"{{name}}\"\n    create task \"Call {{name}}\" for owner\n";
    const DEALS: usize = 12;
    // Where the kills fall is drawn afresh each run; the seed is in every message.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut state = seed;
    let mut draw = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project_with("crash", &url, rules, "per_channel_per_second = 0\n");
        {
            let mut f = shared.lock().unwrap();
            // Each message, note and task is taken at once and answered late, so a
            // kill often falls between the two.
            f.answer_delay = Duration::from_millis(150);
            for i in 0..DEALS {
                f.records.insert(
                    ("deals".into(), format!("d{i}")),
                    deal(&format!("Deal {i}"), "Open", 20000.0),
                );
            }
        }
        let mut server = start(&dir, false);
        let client = reqwest::Client::new();
        let mut kills = 0;
        for i in 0..DEALS {
            let body = delivery("record.created", &format!("d{i}"));
            // Attio delivers until it is answered 200.
            loop {
                let sent = client
                    .post(format!("{}/webhooks/attio", server.url))
                    .header("idempotency-key", format!("k{i}"))
                    .header("attio-signature", sign(&body))
                    .body(body.clone())
                    .send()
                    .await;
                if sent.is_ok_and(|r| r.status() == 200) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // Attio may deliver an earlier event again, under a new key.
            if draw(4) == 0 {
                let again = delivery("record.created", &format!("d{}", draw(i as u64 + 1)));
                let _ = client
                    .post(format!("{}/webhooks/attio", server.url))
                    .header("idempotency-key", format!("again-{i}"))
                    .header("attio-signature", sign(&again))
                    .body(again)
                    .send()
                    .await;
            }
            if i == 1 {
                // The first kill, outright, while a note is taken and not answered.
                let taken = |s: &Shared| s.lock().unwrap().attached.len();
                eventually(&server, "a note or task taken", || taken(&shared) >= 1).await;
                server.child.kill().unwrap();
                server.child.wait().unwrap();
                kills += 1;
                server = start(&dir, false);
            } else if draw(3) == 0 {
                tokio::time::sleep(Duration::from_millis(draw(500))).await;
                // Killed outright, or stopped as systemd stops it (which drains).
                if draw(2) == 0 {
                    server.child.kill().unwrap();
                    server.child.wait().unwrap();
                } else {
                    stop(&mut server);
                }
                kills += 1;
                server = start(&dir, false);
            }
        }
        let count = |s: &Shared| {
            let f = s.lock().unwrap();
            let notes = f.attached.iter().filter(|a| a["kind"] == "notes").count();
            let tasks = f.attached.iter().filter(|a| a["kind"] == "tasks").count();
            (f.messages.len(), notes, tasks)
        };
        eventually(&server, "every deal's effects", || {
            let (messages, notes, tasks) = count(&shared);
            messages >= DEALS && notes >= DEALS && tasks >= DEALS
        })
        .await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        stop(&mut server);
        let f = shared.lock().unwrap();
        for i in 0..DEALS {
            let name = format!("Deal {i}");
            let messages = f
                .messages
                .iter()
                .filter(|(_, t)| *t == format!("{name} won"))
                .count();
            let notes = f
                .attached
                .iter()
                .filter(|a| a["kind"] == "notes" && a["content_plaintext"] == name.as_str())
                .count();
            let tasks = f
                .attached
                .iter()
                .filter(|a| {
                    a["kind"] == "tasks"
                        && a["content_plaintext"] == format!("Call {name}").as_str()
                })
                .count();
            assert_eq!(
                (messages, notes, tasks),
                (1, 1, 1),
                "{name}, after {kills} kills (seed {seed}): {:?}",
                f.calls
            );
        }
    });
}

#[test]
fn a_record_put_in_a_list_runs_its_rules_once_and_list_steps_name_the_list_by_id() {
    let rules = "object companies { tier: select [Enterprise, SMB] }\n\
                 list \"Key accounts\" of companies\n\
                 rule key when added to list \"Key accounts\" and tier = Enterprise do slack \"#key\" \"{{name}} is a key account\"\n\
                 rule gone when removed from list \"Key accounts\" do slack \"#key\" \"{{name}} left\"\n\
                 rule keep when companies updated and tier = Enterprise do add to list \"Key accounts\"\n";
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project_with("lists", &url, rules, "per_channel_per_second = 0\n");
        let company = |name: &str| {
            json!({
                "name": [{"attribute_type": "text", "value": name}],
                "tier": [{"attribute_type": "select", "option": {"title": "Enterprise"}}],
            })
        };
        shared
            .lock()
            .unwrap()
            .records
            .insert(("companies".into(), "c1".into()), company("Globex"));
        let mut server = start(&dir, false);
        let client = reqwest::Client::new();
        let entry = |kind: &str| {
            json!({"webhook_id": "w1", "events": [{
                "event_type": kind,
                "id": {"workspace_id": "ws", "list_id": "l-key", "entry_id": "e1"},
                "parent_object_id": "obj-companies", "parent_record_id": "c1",
                "actor": {"type": "workspace-member", "id": "m1"},
            }]})
            .to_string()
        };
        let messages = |s: &Shared| -> Vec<String> {
            s.lock().unwrap().messages.iter().map(|(_, t)| t.clone()).collect()
        };
        let added = entry("list-entry.created");
        let (status, _) = send(&client, &server, &added, Some(&sign(&added)), "l1").await;
        assert_eq!(status, 200);
        eventually(&server, "the key account message", || {
            !messages(&shared).is_empty()
        })
        .await;
        // The same entry delivered again, under a new key: read, and nothing new.
        send(&client, &server, &added, Some(&sign(&added)), "l2").await;
        let removed = entry("list-entry.deleted");
        send(&client, &server, &removed, Some(&sign(&removed)), "l3").await;
        eventually(&server, "the removal", || messages(&shared).len() >= 2).await;

        // Renamed while Enterprise: `keep` puts it back, by the list's id, and that
        // entry runs `key` again.
        shared
            .lock()
            .unwrap()
            .records
            .insert(("companies".into(), "c1".into()), company("Globex Corp"));
        let renamed = json!({"webhook_id": "w1", "events": [{
            "event_type": "record.updated",
            "id": {"workspace_id": "ws", "object_id": "obj-companies", "record_id": "c1", "attribute_id": "a-name"},
            "actor": {"type": "system"},
        }]})
        .to_string();
        send(&client, &server, &renamed, Some(&sign(&renamed)), "u1").await;
        eventually(&server, "the entry put back", || messages(&shared).len() >= 3).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop(&mut server);
        assert_eq!(
            messages(&shared),
            [
                "Globex is a key account",
                "Globex left",
                "Globex Corp is a key account"
            ]
        );
        let puts: Vec<String> = shared
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.starts_with("PUT /v2/lists/"))
            .cloned()
            .collect();
        assert_eq!(puts.len(), 1, "{puts:?}");
        assert!(
            puts[0].starts_with("PUT /v2/lists/l-key/entries ") && puts[0].contains("\"parent_record_id\":\"c1\""),
            "{puts:?}"
        );
    });
}

#[test]
fn an_entry_stage_change_runs_its_rule_once_and_in_list_reads_attio() {
    let rules = "object companies { tier: select [Enterprise, SMB] }\n\
                 list \"Onboarding\" of companies { stage: status [Kickoff, Setup, Live] }\n\
                 list \"Strategic\" of companies\n\
                 rule live when stage changed to Live in list \"Onboarding\" do slack \"#cs\" \"{{name}} is live ({{entry.stage}})\"\n\
                 rule strategic on companies when tier changed and record in list \"Strategic\" do slack \"#cs\" \"{{name}} is strategic\"\n";
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project_with("entries", &url, rules, "per_channel_per_second = 0\n");
        let company = |tier: &str| {
            json!({
                "name": [{"attribute_type": "text", "value": "Globex"}],
                "tier": [{"attribute_type": "select", "option": {"title": tier}}],
            })
        };
        let stage = |title: &str| json!({"stage": [{"attribute_type": "status", "status": {"title": title}}]});
        {
            let mut f = shared.lock().unwrap();
            f.records
                .insert(("companies".into(), "c1".into()), company("Enterprise"));
            f.entries.insert(("l-onb".into(), "e1".into()), stage("Setup"));
        }
        let mut server = start(&dir, false);
        let client = reqwest::Client::new();
        let updated = json!({"webhook_id": "w1", "events": [{
            "event_type": "list-entry.updated",
            "id": {"workspace_id": "ws", "list_id": "l-onb", "entry_id": "e1", "attribute_id": "a-stage"},
            "parent_object_id": "obj-companies", "parent_record_id": "c1",
            "actor": {"type": "workspace-member", "id": "m1"},
        }]})
        .to_string();
        let messages = |s: &Shared| -> Vec<String> {
            s.lock().unwrap().messages.iter().map(|(_, t)| t.clone()).collect()
        };
        let reads = |s: &Shared| {
            s.lock().unwrap().calls.iter().filter(|c| c.starts_with("GET /v2/lists/l-onb/entries/e1")).count()
        };
        // First heard of at Setup: what it was before is unknown, so nothing changed.
        send(&client, &server, &updated, Some(&sign(&updated)), "u1").await;
        eventually(&server, "the entry read", || reads(&shared) >= 1).await;
        shared.lock().unwrap().entries.insert(("l-onb".into(), "e1".into()), stage("Live"));
        send(&client, &server, &updated, Some(&sign(&updated)), "u2").await;
        eventually(&server, "the live message", || !messages(&shared).is_empty()).await;
        // The same change delivered again: read, and nothing new.
        send(&client, &server, &updated, Some(&sign(&updated)), "u3").await;
        eventually(&server, "the third read", || reads(&shared) >= 3).await;

        // `in list` asks Attio which lists the record is in.
        {
            let mut f = shared.lock().unwrap();
            f.records.insert(("companies".into(), "c1".into()), company("SMB"));
            f.memberships.insert(("companies".into(), "c1".into()), vec!["l-strat".into()]);
        }
        let tier = json!({"webhook_id": "w1", "events": [{
            "event_type": "record.updated",
            "id": {"workspace_id": "ws", "object_id": "obj-companies", "record_id": "c1", "attribute_id": "a-tier"},
            "actor": {"type": "workspace-member", "id": "m1"},
        }]})
        .to_string();
        send(&client, &server, &tier, Some(&sign(&tier)), "t1").await;
        eventually(&server, "the strategic message", || messages(&shared).len() >= 2).await;
        // Out of the list now: the next tier change is quiet.
        {
            let mut f = shared.lock().unwrap();
            f.records.insert(("companies".into(), "c1".into()), company("Enterprise"));
            f.memberships.insert(("companies".into(), "c1".into()), Vec::new());
        }
        send(&client, &server, &tier, Some(&sign(&tier)), "t2").await;
        eventually(&server, "the membership read again", || {
            shared.lock().unwrap().calls.iter().filter(|c| c.ends_with("/records/c1/entries")).count() >= 2
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop(&mut server);
        assert_eq!(messages(&shared), ["Globex is live (Live)", "Globex is strategic"]);
    });
}

#[test]
fn throttled_failing_and_refusing_targets_are_waited_for_retried_or_failed_visibly() {
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project("errors", &url);
        {
            let mut f = shared.lock().unwrap();
            f.records
                .insert(("deals".into(), "d1".into()), deal("Acme", "Open", 25000.0));
            // Attio limits the first read (its Retry-After is an HTTP date) and fails
            // the next; Slack limits the first message (seconds); the note is refused.
            let soon = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc2822();
            f.script.insert(
                "GET /v2/objects/deals/records/d1".into(),
                vec![(429, Some(soon)), (503, None)],
            );
            f.script.insert(
                "POST /chat.postMessage".into(),
                vec![(429, Some("1".into()))],
            );
            f.script.insert("POST /v2/notes".into(), vec![(401, None)]);
            // Another deal's read is refused outright (a scope missing): it waits
            // alone, and holds up nothing else.
            f.script.insert(
                "GET /v2/objects/deals/records/d2".into(),
                vec![(403, None), (403, None)],
            );
        }
        let mut server = start(&dir, true);
        let client = reqwest::Client::new();
        let refused = delivery("record.created", "d2");
        send(&client, &server, &refused, Some(&sign(&refused)), "r1").await;
        let created = delivery("record.created", "d1");
        let (status, _) = send(&client, &server, &created, Some(&sign(&created)), "c1").await;
        assert_eq!(status, 200, "taken whatever Attio says later");
        let reads = |s: &Shared| {
            s.lock()
                .unwrap()
                .calls
                .iter()
                .filter(|c| c.ends_with("GET /v2/objects/deals/records/d1"))
                .count()
        };
        eventually(&server, "the read to get through", || reads(&shared) == 3).await;
        shared.lock().unwrap().records.insert(
            ("deals".into(), "d1".into()),
            deal("Acme", "ClosedWon", 25000.0),
        );
        let won = delivery("record.updated", "d1");
        send(&client, &server, &won, Some(&sign(&won)), "u1").await;
        let runs = format!("{}/api/runs?rule=wins", server.url);
        let started = Instant::now();
        let last = loop {
            let listed = admin_get(&client, &runs).await;
            let last = listed.as_array().and_then(|l| l.last()).cloned();
            if let Some(last) = last.filter(|r| r["status"] != "waiting") {
                break last;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no run ended; logs: {}",
                server.logs.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(last["status"], "failed", "{last}");
        let metrics = client
            .get(format!("{}/metrics", server.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("rulec_throttled_total{action=\"slack\"} 1"),
            "{metrics}"
        );
        assert!(
            last["reason"].as_str().unwrap().contains("401"),
            "the refusal says what Attio said: {last}"
        );
        stop(&mut server);
        let f = shared.lock().unwrap();
        // The message once, after waiting; no note, and no task after the failed step.
        assert_eq!(f.messages, [("#wins".to_string(), "Acme won".to_string())]);
        let count = |prefix: &str| f.calls.iter().filter(|c| c.starts_with(prefix)).count();
        assert_eq!(count("SCRIPTED 429 POST /chat.postMessage"), 1);
        assert_eq!(
            count("SCRIPTED 401 POST /v2/notes"),
            1,
            "refused once, not retried"
        );
        assert_eq!(count("POST /v2/notes"), 0);
        assert_eq!(count("POST /v2/tasks"), 0);
        let logs = server.logs.lock().unwrap();
        assert!(
            logs.contains("trying again in"),
            "the read's wait is logged"
        );
        assert!(
            logs.contains("obj-deals/d2") && logs.contains("check the token's scopes"),
            "the refused read is logged with what to do: {logs}"
        );
    });
}

#[test]
fn a_batched_delivery_and_a_record_s_events_out_of_order_run_each_rule_once() {
    let rules = "rule new when deals created and value > 10000 do slack \"#new\" \"{{name}}\"\n\
                 rule won when stage changed to ClosedWon do slack \"#won\" \"{{name}} won\"\n";
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project_with("batched", &url, rules, "per_channel_per_second = 0\n");
        {
            let mut f = shared.lock().unwrap();
            for (id, stage, value) in [("d1", "Open", 20000.0), ("d2", "Open", 30000.0), ("d3", "ClosedWon", 40000.0)] {
                f.records.insert(("deals".into(), id.into()), deal(&format!("Deal {id}"), stage, value));
            }
        }
        let mut server = start(&dir, false);
        let client = reqwest::Client::new();
        let event = |kind: &str, record: &str| {
            json!({
                "event_type": kind,
                "id": {"workspace_id": "ws", "object_id": "obj-deals", "record_id": record},
                "actor": {"type": "system"},
            })
        };
        // Two creations and a call recording in one delivery: both records' rules
        // run; the recording is acknowledged and not kept.
        let batched = json!({"webhook_id": "w1", "events": [
            event("record.created", "d1"),
            {"event_type": "call-recording.created", "id": {"workspace_id": "ws", "meeting_id": "m1", "call_recording_id": "r1"}},
            event("record.created", "d2"),
        ]})
        .to_string();
        let (status, body) = send(&client, &server, &batched, Some(&sign(&batched)), "b1").await;
        assert_eq!((status, body["accepted"].clone()), (200, json!(2)));
        // d3's update is delivered before its creation.
        let updated = json!({"webhook_id": "w1", "events": [event("record.updated", "d3")]}).to_string();
        let created = json!({"webhook_id": "w1", "events": [event("record.created", "d3")]}).to_string();
        send(&client, &server, &updated, Some(&sign(&updated)), "o1").await;
        send(&client, &server, &created, Some(&sign(&created)), "o2").await;
        let messages = |s: &Shared| {
            let mut m: Vec<String> = s
                .lock()
                .unwrap()
                .messages
                .iter()
                .map(|(c, t)| format!("{c} {t}"))
                .collect();
            m.sort();
            m
        };
        eventually(&server, "every message", || messages(&shared).len() >= 4).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop(&mut server);
        // A record created won counts as won (a change from empty), once.
        assert_eq!(
            messages(&shared),
            ["#new Deal d1", "#new Deal d2", "#new Deal d3", "#won Deal d3 won"]
        );
    });
}

#[test]
fn steps_on_a_deal_s_company_write_note_link_and_list_that_company_once() {
    let rules = "list \"Key accounts\" of companies\n\
                 rule win on deals when created and company is set do\n\
                 \x20 set company.owner = owner if empty\n\
                 \x20 note on company \"Won {{name}}\"\n\
                 \x20 create task \"Kickoff {{company.name}}\" linked to company\n\
                 \x20 add company to list \"Key accounts\"\n";
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project_with("other-records", &url, rules, "per_channel_per_second = 0\n");
        {
            let mut f = shared.lock().unwrap();
            let mut won = deal("Acme", "Open", 5000.0);
            won["company"] = json!([{"attribute_type": "record-reference", "target_object": "companies", "target_record_id": "c1"}]);
            f.records.insert(("deals".into(), "d1".into()), won);
            f.records.insert(
                ("companies".into(), "c1".into()),
                json!({"name": [{"attribute_type": "text", "value": "Globex"}]}),
            );
        }
        let mut server = start(&dir, false);
        let client = reqwest::Client::new();
        let created = delivery("record.created", "d1");
        let (status, _) = send(&client, &server, &created, Some(&sign(&created)), "k1").await;
        assert_eq!(status, 200);
        eventually(&server, "the list entry", || {
            calls_to(&shared, "PUT /v2/lists/") == 1
        })
        .await;
        // The same creation delivered again under a new key: nothing new.
        send(&client, &server, &created, Some(&sign(&created)), "k2").await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        stop(&mut server);
        let f = shared.lock().unwrap();
        let writes: Vec<&String> = f.calls.iter().filter(|c| c.starts_with("PATCH ")).collect();
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert!(writes[0].starts_with("PATCH /v2/objects/companies/records/c1 "), "{writes:?}");
        assert!(writes[0].contains("\"owner\""), "{writes:?}");
        let notes: Vec<&Value> = f.attached.iter().filter(|a| a["kind"] == "notes").collect();
        let tasks: Vec<&Value> = f.attached.iter().filter(|a| a["kind"] == "tasks").collect();
        assert_eq!(notes.len(), 1, "{:?}", f.attached);
        assert_eq!(notes[0]["record"], "c1");
        assert_eq!(notes[0]["title"], "Won Acme");
        assert_eq!(tasks.len(), 1, "{:?}", f.attached);
        assert_eq!(tasks[0]["record"], "c1");
        assert_eq!(tasks[0]["content_plaintext"], "Kickoff Globex");
        let puts: Vec<&String> = f.calls.iter().filter(|c| c.starts_with("PUT /v2/lists/")).collect();
        assert!(puts[0].contains("\"parent_record_id\":\"c1\""), "{puts:?}");
        assert!(puts[0].contains("\"parent_object\":\"companies\""), "{puts:?}");
    });
}

#[test]
fn a_command_run_through_the_api_runs_its_rule_on_the_record_read_fresh() {
    let rules = "rule enrich on deals when command \"Enrich now\" do slack \"#deals\" \"enrich {{name}} ({{record.id}})\"\n\
                 rule plain on deals when created and value > 0 do stop\n";
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project_with("command", &url, rules, "per_channel_per_second = 0\n");
        shared
            .lock()
            .unwrap()
            .records
            .insert(("deals".into(), "d1".into()), deal("Acme", "Open", 5000.0));
        let mut server = start(&dir, true);
        let client = reqwest::Client::new();
        let run = |rule: &str, body: &str, key: Option<&str>, token: Option<&str>| {
            let mut request = client
                .post(format!("{}/api/rules/{rule}/run", server.url))
                .body(body.to_string());
            if let Some(key) = key {
                request = request.header("idempotency-key", key);
            }
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            }
        };
        let body = r#"{"record_id": "d1"}"#;
        let (status, _) = run("enrich", body, None, None).await;
        assert!(status == 401 || status == 403, "{status}");
        let (status, text) = run("enrich", "{}", None, Some(ADMIN_TOKEN)).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("record_id"), "{text}");
        let (status, text) = run("plain", body, None, Some(ADMIN_TOKEN)).await;
        assert_eq!(status, 404, "{text}");
        assert!(text.contains("`enrich`"), "{text}");
        let messages = |s: &Shared| -> Vec<String> {
            s.lock()
                .unwrap()
                .messages
                .iter()
                .map(|(_, t)| t.clone())
                .collect()
        };
        let (status, text) = run("enrich", body, Some("click-1"), Some(ADMIN_TOKEN)).await;
        assert_eq!(status, 200, "{text}");
        eventually(&server, "the command's message", || {
            !messages(&shared).is_empty()
        })
        .await;
        // The same request retried: once. Run again by a person: again.
        run("enrich", body, Some("click-1"), Some(ADMIN_TOKEN)).await;
        shared.lock().unwrap().records.insert(
            ("deals".into(), "d1".into()),
            deal("Acme Corp", "Open", 5000.0),
        );
        run("enrich", body, Some("click-2"), Some(ADMIN_TOKEN)).await;
        eventually(&server, "the second run", || messages(&shared).len() >= 2).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop(&mut server);
        assert_eq!(
            messages(&shared),
            ["enrich Acme (d1)", "enrich Acme Corp (d1)"]
        );
    });
}

#[test]
fn a_merge_runs_merged_rules_once_with_the_record_merged_in() {
    let rules = "rule m on deals when merged do slack \"#deals\" \"{{name}} absorbed {{event.duplicate}}\"\n";
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project_with("merged", &url, rules, "per_channel_per_second = 0\n");
        shared
            .lock()
            .unwrap()
            .records
            .insert(("deals".into(), "d1".into()), deal("Acme", "Open", 5000.0));
        let mut server = start(&dir, false);
        let client = reqwest::Client::new();
        let merged = json!({"webhook_id": "w1", "events": [{
            "event_type": "record.merged",
            "id": {"workspace_id": "ws", "object_id": "obj-deals", "record_id": "d1"},
            "duplicate_object_id": "obj-deals", "duplicate_record_id": "d9",
            "actor": {"type": "system"},
        }]})
        .to_string();
        let (status, _) = send(&client, &server, &merged, Some(&sign(&merged)), "m1").await;
        assert_eq!(status, 200);
        let messages = |s: &Shared| -> Vec<String> {
            s.lock()
                .unwrap()
                .messages
                .iter()
                .map(|(_, t)| t.clone())
                .collect()
        };
        eventually(&server, "the merge's message", || {
            !messages(&shared).is_empty()
        })
        .await;
        // The same merge delivered again under another key: nothing new.
        send(&client, &server, &merged, Some(&sign(&merged)), "m2").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        stop(&mut server);
        assert_eq!(messages(&shared), ["Acme absorbed d9"]);
    });
}

#[test]
fn notes_comments_and_completed_tasks_start_their_rules_once() {
    let rules = "rule pricing on deals when note created and note.body contains \"pricing\" do slack \"#desk\" \"{{note.title}} by {{note.author}} on {{name}}\"\n\
                 rule urgent on deals when comment added and comment.body contains \"urgent\" do slack \"#desk\" \"Urgent on {{name}}: {{comment.body}}\"\n\
                 rule done on deals when task completed do slack \"#desk\" \"Done: {{task.title}} for {{task.assignee}}\"\n";
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project_with("activity", &url, rules, "per_channel_per_second = 0\n");
        {
            let mut f = shared.lock().unwrap();
            f.records
                .insert(("deals".into(), "d1".into()), deal("Acme", "Open", 5000.0));
            let member = json!({"type": "workspace-member", "id": "m1"});
            f.activities.insert(
                "/v2/notes/n9".into(),
                json!({"title": "Call", "content_plaintext": "they ask about pricing", "created_by_actor": member}),
            );
            f.activities.insert(
                "/v2/comments/c9".into(),
                json!({"content_plaintext": "urgent: call back", "author": member}),
            );
            f.activities.insert(
                "/v2/tasks/t9".into(),
                json!({
                    "content_plaintext": "Send contract\n\nthe long version", "is_completed": false,
                    "deadline_at": null,
                    "linked_records": [{"target_object_id": "obj-deals", "target_record_id": "d1"}],
                    "assignees": [{"referenced_actor_type": "workspace-member", "referenced_actor_id": "m1"}],
                }),
            );
        }
        let mut server = start(&dir, false);
        let client = reqwest::Client::new();
        let deliver = |event: Value, key: &'static str| {
            let client = client.clone();
            let url = server.url.clone();
            async move {
                let body = json!({"webhook_id": "w1", "events": [event]}).to_string();
                let response = client
                    .post(format!("{url}/webhooks/attio"))
                    .header("idempotency-key", key)
                    .header("attio-signature", sign(&body))
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
            }
        };
        let actor = json!({"type": "workspace-member", "id": "m1"});
        let note = json!({"event_type": "note.created", "id": {"workspace_id": "ws", "note_id": "n9"},
            "parent_object_id": "obj-deals", "parent_record_id": "d1", "actor": actor});
        let comment = json!({"event_type": "comment.created",
            "id": {"workspace_id": "ws", "thread_id": "th1", "comment_id": "c9"},
            "object_id": "obj-deals", "record_id": "d1", "actor": actor});
        let task = json!({"event_type": "task.updated", "id": {"workspace_id": "ws", "task_id": "t9"}, "actor": actor});
        deliver(note.clone(), "a1").await;
        deliver(comment, "a2").await;
        // A change to the task that is not its completion starts nothing.
        deliver(task.clone(), "a3").await;
        let messages = |s: &Shared| -> Vec<String> {
            s.lock().unwrap().messages.iter().map(|(_, t)| t.clone()).collect()
        };
        let task_reads = |s: &Shared| {
            s.lock()
                .unwrap()
                .calls
                .iter()
                .filter(|c| *c == "GET /v2/tasks/t9")
                .count()
        };
        eventually(&server, "the note, the comment and the task read", || {
            messages(&shared).len() >= 2 && task_reads(&shared) == 1
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(messages(&shared).len(), 2, "an open task's change starts nothing");
        shared.lock().unwrap().activities.get_mut("/v2/tasks/t9").unwrap()["is_completed"] = json!(true);
        deliver(task.clone(), "a4").await;
        // Delivered again under new keys: nothing runs twice.
        deliver(task, "a5").await;
        deliver(note, "a6").await;
        eventually(&server, "the task message", || messages(&shared).len() >= 3).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        stop(&mut server);
        // Each once. The note's and the comment's messages are effects of two runs,
        // performed side by side: either may reach Slack first.
        let mut sent = messages(&shared);
        sent.sort();
        assert_eq!(
            sent,
            [
                "Call by ana@acme.com on Acme",
                "Done: Send contract for ana@acme.com",
                "Urgent on Acme: urgent: call back",
            ]
        );
    });
}

/// How many calls the fakes took that start with `prefix` (`POST /v2/notes`).
fn calls_to(s: &Shared, prefix: &str) -> usize {
    s.lock()
        .unwrap()
        .calls
        .iter()
        .filter(|c| c.starts_with(prefix))
        .count()
}

/// The runtime each test's fakes and client run on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// SIGTERM, then the exit code, which must be 0.
fn stop(server: &mut Server) {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = wait(&mut server.child, Duration::from_secs(20));
    assert_eq!(status, Some(0), "logs: {}", server.logs.lock().unwrap());
}

fn wait(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

/// `rulec` in `dir` with `args`, the Attio token set and nothing else: its exit
/// code, standard output and standard error.
fn rulec(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rulec"))
        .current_dir(dir)
        .args(args)
        .env("ATTIO_API_TOKEN", ATTIO_TOKEN)
        .env_remove("ATTIO_WEBHOOK_SECRET")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn schema_pull_writes_the_workspace_and_check_holds_the_rules_to_it() {
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project("pull", &url);
        let pull = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || rulec(&dir, &["schema", "pull"])
        });
        let (code, stdout, stderr) = pull.await.unwrap();
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert!(
            stdout.contains("2 objects, 10 attributes, 3 lists, 1 members"),
            "{stdout}"
        );
        assert!(stdout.contains("schema = \"schema/workspace.rules\""), "{stdout}");
        assert!(stderr.contains("deals.2fa"), "what was left out: {stderr}");
        let pulled = std::fs::read_to_string(dir.join("schema/workspace.rules")).unwrap();
        for line in [
            "stage: status [\"Lead\", \"In Progress\", \"Closed Won\", \"Closed Lost\"]",
            "company: record(companies)",
            "owner: member",
            "created_at: timestamp readonly",
            "domains: list of domain unique",
            "tier: select [Enterprise, SMB]",
            "list \"Key accounts\" of companies",
            "list \"Onboarding\" of companies {\n  stage: status [\"Lead\", \"In Progress\", \"Closed Won\", \"Closed Lost\"]\n}",
            "team workspace_members = [\"ana@acme.com\"]",
        ] {
            assert!(pulled.contains(line), "{line} in:\n{pulled}");
        }
        for gone in ["Old", "legacy_score", "gone@acme.com"] {
            assert!(!pulled.contains(gone), "{gone} in:\n{pulled}");
        }
        assert!(pulled.contains("# not declared: deals.2fa"), "{pulled}");
        let (code, stdout, _) = rulec(&dir, &["fmt", "--check", "schema"]);
        assert_eq!(code, Some(0), "already formatted: {stdout}");

        // Named in rulec.toml, it is what the rules are checked against: the
        // prelude's `Open` and `ClosedWon` are not this workspace's stages.
        let toml = std::fs::read_to_string(dir.join("rulec.toml")).unwrap();
        std::fs::write(
            dir.join("rulec.toml"),
            format!("schema = \"schema/workspace.rules\"\n{toml}"),
        )
        .unwrap();
        let (code, stdout, _) = rulec(&dir, &["check", ".", "--color", "never"]);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(stdout.contains("Closed Won"), "a suggestion: {stdout}");
        std::fs::write(
            dir.join("wins.rules"),
            "rule wins\n  owner \"ana@acme.com\"\n  when stage changed from \"In Progress\" to \"Closed Won\" and value > 10000\n  do slack \"#wins\" \"{{name}} won\"\n",
        )
        .unwrap();
        let (code, stdout, _) = rulec(&dir, &["check", ".", "--deny", "warnings"]);
        assert_eq!(code, Some(0), "{stdout}");

        // Without the token: a clear error, nothing written.
        let output = Command::new(env!("CARGO_BIN_EXE_rulec"))
            .current_dir(&dir)
            .args(["schema", "pull", "-o", "other.rules"])
            .env_remove("ATTIO_API_TOKEN")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains("ATTIO_API_TOKEN is not set"));
        assert!(!dir.join("other.rules").exists());
    });
}

#[test]
fn sync_webhooks_creates_the_webhook_then_keeps_its_subscriptions_to_what_the_rules_need() {
    runtime().block_on(async {
        let shared: Shared = Arc::default();
        let url = fakes(shared.clone()).await;
        let dir = project("sync", &url);
        let toml = std::fs::read_to_string(dir.join("rulec.toml")).unwrap();
        std::fs::write(
            dir.join("rulec.toml"),
            toml.replace(
                "[serve]\n",
                "[serve]\npublic_url = \"http://127.0.0.1:8787\"\n",
            ),
        )
        .unwrap();
        let target = "http://127.0.0.1:8787/webhooks/attio";

        // No secret and no --sync-webhooks: refused, saying how to go on.
        let (code, _, stderr) = rulec(&dir, &["serve", ".", "--listen", "127.0.0.1:0"]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("--sync-webhooks"), "{stderr}");

        // First start: the webhook is created for the rule's events only.
        let mut server = launch(&dir, false, &[".", "--sync-webhooks"], None);
        let created: Vec<Value> = shared
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter_map(|c| c.strip_prefix("POST /v2/webhooks "))
            .map(|b| serde_json::from_str(b).unwrap())
            .collect();
        assert_eq!(created.len(), 1);
        assert_eq!(created[0]["data"]["target_url"], target);
        let subscriptions = |hook: &Value| -> Vec<String> {
            let mut out: Vec<String> = hook["subscriptions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let values: Vec<&str> = s["filter"]["$and"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f["value"].as_str().unwrap())
                        .collect();
                    format!("{} {}", s["event_type"].as_str().unwrap(), values.join(" "))
                })
                .collect();
            out.sort();
            out
        };
        assert_eq!(
            subscriptions(&created[0]["data"]),
            [
                "record.created obj-deals",
                "record.deleted obj-deals",
                "record.merged obj-deals",
                "record.updated obj-deals a-stage",
            ]
        );
        // Its secret is in the env file, for the owner only, and in no log line;
        // the running server already verifies with it.
        let env_file = dir.join("rulec-webhook.env");
        assert_eq!(
            std::fs::read_to_string(&env_file).unwrap(),
            format!("ATTIO_WEBHOOK_SECRET={CREATED_SECRET}\n")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&env_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let client = reqwest::Client::new();
        let body = delivery("record.created", "d9");
        let (status, _) = send(
            &client,
            &server,
            &body,
            Some(&sign_with(CREATED_SECRET, &body)),
            "s1",
        )
        .await;
        assert_eq!(status, 200);
        let (status, _) = send(&client, &server, &body, Some(&sign(&body)), "s2").await;
        assert_eq!(status, 401, "the old secret signs nothing now");
        stop(&mut server);
        assert!(!server.logs.lock().unwrap().contains(CREATED_SECRET));

        // A rule on companies' updates: the webhook is updated, not created again.
        std::fs::write(
            dir.join("companies.rules"),
            "rule tiers when companies updated and tier = Enterprise do slack \"#enterprise\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("workspace.rules"),
            "object companies { tier: select [Enterprise, SMB] }\n",
        )
        .unwrap();
        let mut server = launch(&dir, false, &[".", "--sync-webhooks"], Some(CREATED_SECRET));
        stop(&mut server);
        let hooks = shared.lock().unwrap().webhooks.clone();
        assert_eq!(hooks.len(), 1, "{hooks:?}");
        assert_eq!(
            subscriptions(&hooks[0]),
            [
                "record.created obj-companies",
                "record.created obj-deals",
                "record.deleted obj-companies",
                "record.deleted obj-deals",
                "record.merged obj-companies",
                "record.merged obj-deals",
                "record.updated obj-companies",
                "record.updated obj-deals a-stage",
            ]
        );
        // Started again on the same rules: nothing to change.
        let mut server = launch(&dir, false, &[".", "--sync-webhooks"], Some(CREATED_SECRET));
        stop(&mut server);
        let changes = |s: &Shared| {
            s.lock()
                .unwrap()
                .calls
                .iter()
                .filter(|c| c.contains("/v2/webhooks"))
                .count()
        };
        assert_eq!(changes(&shared), 2, "one create, one update");
        assert!(server
            .logs
            .lock()
            .unwrap()
            .contains("webhook subscriptions up to date"));
    });
}
