//! The JSON admin API (serve.md §4), behind `Authorization: Bearer
//! $RULEC_ADMIN_TOKEN`: without the variable set every route answers 403.
//!
//! - `GET /api/runs?rule=&record=&status=&limit=`: the run history, newest last;
//! - `GET /api/runs/{run}`: one run as it stands, with what it waits for;
//! - `GET /api/rules`, `POST /api/rules/{rule}/pause`, `…/resume`;
//! - `POST /api/rules/{rule}/run` with `{"record_id": "…"}`: runs a `command` rule;
//! - `GET /api/approvals`: runs waiting for an answer;
//! - `POST /api/runs/{run}/answer` with the answer as JSON;
//! - `GET /api/effects/parked`, `POST /api/effects/{key}/retry`, `…/drop`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::App;
use crate::engine::{EffectState, Engine, EngineError, RunRecord, RunStatus, Waiting};

/// The routes, for the server to mount.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/runs", get(runs))
        .route("/api/runs/{run}", get(one_run))
        .route("/api/rules", get(rules))
        .route("/api/rules/{rule}/pause", post(pause))
        .route("/api/rules/{rule}/resume", post(resume))
        .route("/api/rules/{rule}/run", post(run_command))
        .route("/api/approvals", get(approvals))
        .route("/api/runs/{run}/answer", post(answer))
        .route("/api/effects/parked", get(parked))
        .route("/api/effects/{key}/retry", post(retry))
        .route("/api/effects/{key}/drop", post(drop_effect))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// `None` when the request may go on; the refusal otherwise.
fn refused(app: &App, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = &app.admin_token else {
        return Some(error(
            StatusCode::FORBIDDEN,
            "the admin API is off: set RULEC_ADMIN_TOKEN to turn it on",
        ));
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Constant-time, as for webhook signatures.
    let same = given.len() == token.reveal().len()
        && given
            .bytes()
            .zip(token.reveal().bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    (!same).then(|| {
        error(
            StatusCode::UNAUTHORIZED,
            "send `Authorization: Bearer <RULEC_ADMIN_TOKEN>`",
        )
    })
}

fn engine_error(e: EngineError) -> Response {
    match e {
        EngineError::NotPending(_) | EngineError::NotWaiting(_) | EngineError::UnknownRule(_) => {
            error(StatusCode::NOT_FOUND, e.to_string())
        }
        other => error(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    }
}

async fn runs(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refusal) = refused(&app, &headers) {
        return refusal;
    }
    let limit = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100usize)
        .min(10_000);
    let result = app.host.with(move |engine| engine.history(100_000)).await;
    match result {
        Ok(Ok(history)) => {
            let status = q.get("status").map(String::as_str);
            let picked: Vec<_> = history
                .into_iter()
                .filter(|r| q.get("rule").is_none_or(|rule| &r.rule == rule))
                .filter(|r| {
                    q.get("record")
                        .is_none_or(|id| r.record.as_ref() == Some(id))
                })
                .filter(|r| status.is_none_or(|s| status_name(r.status) == s))
                .collect();
            let skip = picked.len().saturating_sub(limit);
            Json(json!(picked[skip..])).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => engine_error(e),
    }
}

async fn one_run(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(run): Path<String>,
) -> Response {
    if let Some(refusal) = refused(&app, &headers) {
        return refusal;
    }
    let wanted = run.clone();
    let result = app
        .host
        .with(move |engine| {
            let last = engine
                .history(100_000)?
                .into_iter()
                .rev()
                .find(|r| r.run == wanted);
            let waiting = engine
                .waiting()?
                .into_iter()
                .find(|s| s.record.run == wanted)
                .map(|s| s.waiting);
            Ok::<_, crate::engine::StoreError>((last, waiting))
        })
        .await;
    match result {
        Ok(Ok((Some(record), waiting))) => {
            let mut body = json!(record);
            body["waiting"] = json!(waiting);
            Json(body).into_response()
        }
        Ok(Ok((None, _))) => error(StatusCode::NOT_FOUND, format!("no run `{run}` is recorded")),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => engine_error(e),
    }
}

async fn rules(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refused(&app, &headers) {
        return refusal;
    }
    let result = app
        .host
        .with(|engine| {
            let paused = engine.paused();
            engine
                .rules()
                .map(|rule| {
                    let status = if paused.contains(&rule.id) {
                        json!("paused")
                    } else {
                        json!(rule.status)
                    };
                    json!({
                        "id": rule.id, "version": rule.version, "title": rule.title,
                        "file": rule.file, "object": rule.object, "status": status,
                    })
                })
                .collect::<Vec<_>>()
        })
        .await;
    match result {
        Ok(rules) => Json(json!(rules)).into_response(),
        Err(e) => engine_error(e),
    }
}

async fn pause(state: State<Arc<App>>, headers: HeaderMap, rule: Path<String>) -> Response {
    on_rule(state, headers, rule, true).await
}

async fn resume(state: State<Arc<App>>, headers: HeaderMap, rule: Path<String>) -> Response {
    on_rule(state, headers, rule, false).await
}

/// Runs a `when command "…"` rule on a record, as Attio's Record command does. The
/// request goes through the inbox like a webhook's event — the record is read from
/// Attio first — and an `Idempotency-Key` header makes a retried request run once.
async fn run_command(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(rule): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refusal) = refused(&app, &headers) {
        return refusal;
    }
    let Some((object, name)) = app.commands.get(&rule).cloned() else {
        let mut known: Vec<&str> = app.commands.keys().map(String::as_str).collect();
        known.sort_unstable();
        let which = if known.is_empty() {
            "no rule has `when command \"…\"`".to_string()
        } else {
            format!(
                "the command rules are {}",
                crate::schema::quoted_list(&known)
            )
        };
        return error(
            StatusCode::NOT_FOUND,
            format!("rule `{rule}` is not a command: {which}"),
        );
    };
    let record_id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("record_id")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|id| !id.trim().is_empty());
    let Some(record_id) = record_id else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("expected a JSON body {{\"record_id\": \"…\"}}: the {object} record to run `{name}` on"),
        );
    };
    let now = chrono::Utc::now();
    let event = json!({
        "event_type": "rulec.command", "name": name, "object": object,
        "record_id": record_id, "rule": rule, "actor": { "type": "api-token" },
        "received_at": now.to_rfc3339(),
    });
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|key| format!("command/{rule}:{key}"));
    super::log::info("command", json!({ "rule": rule, "record": record_id }));
    super::ingest::store(
        &app,
        key,
        vec![(format!("{object}/{record_id}"), event)],
        now,
    )
    .await
}

/// Pauses or resumes a rule; answers its id and whether it is paused now.
async fn on_rule(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(rule): Path<String>,
    paused: bool,
) -> Response {
    if let Some(refusal) = refused(&app, &headers) {
        return refusal;
    }
    let id = rule.clone();
    let result = app
        .host
        .with(move |engine| match paused {
            true => engine.pause(&id),
            false => engine.unpause(&id),
        })
        .await
        .and_then(|r| r);
    match result {
        Ok(()) => {
            super::log::info("rule", json!({ "rule": rule, "paused": paused }));
            Json(json!({ "rule": rule, "paused": paused })).into_response()
        }
        Err(e) => engine_error(e),
    }
}

fn status_name(status: RunStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

async fn approvals(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refused(&app, &headers) {
        return refusal;
    }
    let result = app.host.with(|engine| engine.waiting()).await;
    match result {
        Ok(Ok(waiting)) => {
            let asks: Vec<Value> = waiting
                .into_iter()
                .filter(|s| matches!(s.waiting, Waiting::Answer { .. }))
                .map(|s| json!({ "run": s.record.run, "rule": s.record.rule, "record": s.record.record, "steps": s.record.steps }))
                .collect();
            Json(json!(asks)).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => engine_error(e),
    }
}

async fn answer(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(run): Path<String>,
    Json(answer): Json<Value>,
) -> Response {
    if let Some(refusal) = refused(&app, &headers) {
        return refusal;
    }
    match app.host.resume(run, answer).await {
        Ok(runs) => Json(json!(runs)).into_response(),
        Err(e) => engine_error(e),
    }
}

async fn parked(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refused(&app, &headers) {
        return refusal;
    }
    match app
        .host
        .with(|engine| engine.outbox_in(EffectState::Parked))
        .await
    {
        Ok(Ok(entries)) => {
            let entries: Vec<Value> = entries
                .into_iter()
                .map(|(key, entry)| json!({ "key": key, "entry": entry }))
                .collect();
            Json(json!(entries)).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => engine_error(e),
    }
}

async fn retry(state: State<Arc<App>>, headers: HeaderMap, key: Path<String>) -> Response {
    on_parked(state, headers, key, Engine::retry_parked).await
}

async fn drop_effect(state: State<Arc<App>>, headers: HeaderMap, key: Path<String>) -> Response {
    on_parked(state, headers, key, Engine::drop_parked).await
}

/// An operator's decision on a parked effect: the runs as they went on.
async fn on_parked(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    decide: fn(&mut Engine, &str) -> Result<Vec<RunRecord>, EngineError>,
) -> Response {
    if let Some(refusal) = refused(&app, &headers) {
        return refusal;
    }
    match app
        .host
        .with(move |engine| decide(engine, &key))
        .await
        .and_then(|r| r)
    {
        Ok(runs) => Json(json!(runs)).into_response(),
        Err(e) => engine_error(e),
    }
}
