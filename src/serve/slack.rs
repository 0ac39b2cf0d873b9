//! Slack's Web API: `chat.postMessage`, and a DM through `users.lookupByEmail` and
//! `conversations.open`.

use serde_json::{json, Value as Json};

use super::attio::{answer, ApiError};
use super::config::Secret;
use super::limits::RatePerKey;

/// A client of one Slack workspace.
pub struct Slack {
    http: reqwest::Client,
    base: String,
    token: Option<Secret>,
    channels: RatePerKey,
}

impl Slack {
    /// A client for the API at `base` (`https://slack.com/api`).
    pub fn new(base: &str, token: Option<Secret>, timeout: std::time::Duration) -> Slack {
        Slack {
            http: super::attio::client(timeout),
            base: base.trim_end_matches('/').to_string(),
            token,
            channels: RatePerKey::per_second(0),
        }
    }

    /// Limits messages to `n` a second per channel (0: none).
    pub fn limited(mut self, n: u32) -> Slack {
        self.channels = RatePerKey::per_second(n);
        self
    }

    /// Whether a bot token is set.
    pub fn configured(&self) -> bool {
        self.token.is_some()
    }

    async fn call(&self, method: &str, body: Json) -> Result<Json, ApiError> {
        let Some(token) = &self.token else {
            return Err(ApiError {
                message: "SLACK_BOT_TOKEN is not set: rulec serve cannot post to Slack".into(),
                retryable: false,
                retry_after: None,
            });
        };
        let response = self
            .http
            .post(format!("{}/{method}", self.base))
            .bearer_auth(token.reveal())
            .json(&body)
            .send()
            .await;
        let body = answer(response, method).await?;
        if body["ok"].as_bool() == Some(true) {
            return Ok(body);
        }
        let error = body["error"]
            .as_str()
            .unwrap_or("unknown error")
            .to_string();
        Err(ApiError {
            retryable: matches!(
                error.as_str(),
                "ratelimited" | "internal_error" | "fatal_error" | "service_unavailable"
            ),
            message: format!("{method}: {error}"),
            retry_after: None,
        })
    }

    /// Posts `text` to `channel`; the effect's key travels in the message's metadata,
    /// so a message can be matched to the effect that sent it.
    pub async fn post(&self, channel: &str, text: &str, key: &str) -> Result<Json, ApiError> {
        self.channels.wait(channel).await;
        self.call(
            "chat.postMessage",
            json!({
                "channel": channel, "text": text,
                "metadata": { "event_type": "rulec_effect", "event_payload": { "key": key } },
            }),
        )
        .await
    }

    /// Sends `text` to the member with `email` directly.
    pub async fn dm(&self, email: &str, text: &str, key: &str) -> Result<Json, ApiError> {
        let user = self
            .call("users.lookupByEmail", json!({ "email": email }))
            .await?;
        let id = user["user"]["id"].as_str().unwrap_or_default().to_string();
        let channel = self
            .call("conversations.open", json!({ "users": id }))
            .await?;
        let channel = channel["channel"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.post(&channel, text, key).await
    }
}
