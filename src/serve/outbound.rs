//! Calls the rules make to the world: `http` steps and custom actions (serve.md §3).
//!
//! Each carries `Idempotency-Key: <effect key>`, so a receiver that honours it does
//! the work once however often a retry repeats the call. The `[http] allow` list is
//! checked again here, on the URL as sent and on every redirect: the engine checked
//! the rendered URL, and this is the last point before a request leaves.

use std::collections::BTreeMap;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value as Json};
use sha2::Sha256;

use super::attio::{answer, ApiError};
use super::config::Secret;
use crate::ir::http::{allowed, http_host};

/// Where custom actions go and how their callbacks are recognised.
pub struct Outbound {
    http: reqwest::Client,
    allow: Option<Vec<String>>,
    actions: BTreeMap<String, Action>,
    /// `public_url` + `/callbacks/`.
    callbacks: String,
    /// Signs callback tokens (derived from the webhook secret; never sent itself).
    callback_key: Secret,
}

/// One custom action's target.
pub struct Action {
    /// Where it is POSTed.
    pub url: String,
    /// What the request is signed with, if anything.
    pub secret: Option<Secret>,
}

fn failed(message: String) -> ApiError {
    ApiError {
        message,
        retryable: false,
        retry_after: None,
    }
}

/// Why `url` may not be called under `allow`, if it may not.
fn refused(url: &str, allow: &[String]) -> Option<String> {
    match http_host(url) {
        Some(host) if allowed(&host, allow) => None,
        Some(host) => Some(format!(
            "`{host}` is not in the `[http] allow` list of rulec.toml; the request was not sent"
        )),
        None => Some("the URL is not an http(s) URL; the request was not sent".into()),
    }
}

impl Outbound {
    /// Calls to the world with `timeout` each, under the program's `[http] allow`
    /// list; callbacks at `public_url`.
    pub fn new(
        allow: Option<Vec<String>>,
        actions: BTreeMap<String, Action>,
        public_url: &str,
        callback_key: Secret,
        timeout: Duration,
    ) -> Outbound {
        let list = allow.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                return attempt.error("more than 5 redirects");
            }
            match list
                .as_deref()
                .and_then(|l| refused(attempt.url().as_str(), l))
            {
                Some(why) => attempt.error(format!("redirected: {why}")),
                None => attempt.follow(),
            }
        });
        Outbound {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .redirect(policy)
                .build()
                .unwrap_or_default(),
            allow,
            actions,
            callbacks: format!("{}/callbacks/", public_url.trim_end_matches('/')),
            callback_key,
        }
    }

    /// An `http` step: the response body (JSON, or text) on a 2xx answer.
    pub async fn http(
        &self,
        method: &str,
        url: &str,
        headers: Option<&Map<String, Json>>,
        body: Option<&Json>,
        key: &str,
    ) -> Result<Json, ApiError> {
        if let Some(why) = self.allow.as_deref().and_then(|allow| refused(url, allow)) {
            return Err(failed(why));
        }
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| failed(format!("`{method}` is not an HTTP method")))?;
        let what = format!("{method} {}", http_host(url).unwrap_or_default());
        let mut request = self
            .http
            .request(method, url)
            .header("idempotency-key", key);
        for (name, value) in headers.into_iter().flatten() {
            let value = match value {
                Json::String(text) => text.clone(),
                other => other.to_string(),
            };
            request = request.header(name.as_str(), value);
        }
        if let Some(body) = body.filter(|b| !b.is_null()) {
            request = request.json(body);
        }
        let response = request.send().await;
        if let Err(e) = &response {
            if e.is_redirect() {
                // Refused by the policy above, which says why: trying again won't help.
                let why = std::error::Error::source(e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "a redirect was refused".into());
                return Err(failed(format!("{what}: {why}")));
            }
        }
        answer(response, &what).await
    }

    /// A custom action: `Ok(None)` when the receiver deferred it (it answers `202`,
    /// or `{"deferred": true}`) and will call back; else its answer's `output` (or
    /// the whole answer).
    pub async fn custom(
        &self,
        name: &str,
        args: &Map<String, Json>,
        record: Option<&(String, String)>,
        key: &str,
    ) -> Result<Option<Json>, ApiError> {
        let Some(action) = self.actions.get(name) else {
            return Err(failed(format!(
                "the action `{name}` has no `[actions.{name}] url` in rulec.toml: rulec serve does not know where to send it"
            )));
        };
        let body = json!({
            "action": name,
            "key": key,
            "uniqueExecutionId": key,
            "args": args,
            "record": record.map(|(object, id)| json!({ "object": object, "id": id })),
            "callback": { "url": format!("{}{key}", self.callbacks), "token": self.callback_token(key) },
        });
        let body = body.to_string();
        let mut request = self
            .http
            .post(&action.url)
            .header("content-type", "application/json")
            .header("idempotency-key", key);
        if let Some(secret) = &action.secret {
            request = request.header("rulec-signature", sign(secret, &body));
        }
        let response = request.body(body).send().await;
        if let Ok(r) = &response {
            if r.status() == reqwest::StatusCode::ACCEPTED {
                return Ok(None);
            }
        }
        let answer = answer(response, &format!("the `{name}` action")).await?;
        if answer.get("deferred") == Some(&Json::Bool(true)) {
            return Ok(None);
        }
        Ok(Some(match answer {
            Json::Object(mut fields) if fields.contains_key("output") => {
                fields.remove("output").unwrap_or(Json::Null)
            }
            other => other,
        }))
    }

    /// The token a deferred action's callback for `key` must carry.
    pub fn callback_token(&self, key: &str) -> String {
        sign(&self.callback_key, &format!("rulec-callback:{key}"))
    }

    /// Whether `token` is the callback token of `key` (in constant time).
    pub fn callback_allowed(&self, key: &str, token: &str) -> bool {
        let Ok(token) = hex::decode(token) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.callback_key.reveal().as_bytes())
        else {
            return false;
        };
        mac.update(format!("rulec-callback:{key}").as_bytes());
        mac.verify_slice(&token).is_ok()
    }
}

/// Hex HMAC-SHA256 of `text` under `secret`.
fn sign(secret: &Secret, text: &str) -> String {
    match Hmac::<Sha256>::new_from_slice(secret.reveal().as_bytes()) {
        Ok(mut mac) => {
            mac.update(text.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}
