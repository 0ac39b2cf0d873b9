//! `POST /callbacks/{effect}`: a custom action that deferred its work reports how it
//! went. The request it was sent carries the callback's URL and a token made for that
//! one effect; the callback sends the token back as `Authorization: Bearer …` and
//! `{"output": …}` (done) or `{"error": "…"}` (failed).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::App;
use crate::engine::EngineError;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// The handler.
pub async fn settle(
    State(app): State<Arc<App>>,
    Path(effect): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !app.targets.outbound.callback_allowed(&effect, token) {
        return error(
            StatusCode::UNAUTHORIZED,
            "send `Authorization: Bearer <callback.token>`, the token the action's request carried",
        );
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not JSON: {e}"),
            )
        }
    };
    let result = match (body.get("output"), body.get("error")) {
        (_, Some(Value::String(message))) => Err(message.clone()),
        (Some(output), None) => Ok(output.clone()),
        _ => return error(
            StatusCode::BAD_REQUEST,
            "send `{\"output\": …}` when the work is done or `{\"error\": \"…\"}` when it failed",
        ),
    };
    match app.host.settle(effect.clone(), result).await {
        Ok(runs) => {
            app.ran(&runs);
            Json(json!({ "settled": effect })).into_response()
        }
        Err(EngineError::NotPending(_)) => error(
            StatusCode::CONFLICT,
            format!(
                "no run waits on effect `{effect}`: it was answered already, or never deferred"
            ),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
