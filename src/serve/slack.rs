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

    /// The bot token, or the error every call without one gets.
    fn token(&self) -> Result<&Secret, ApiError> {
        self.token.as_ref().ok_or_else(|| ApiError {
            message: "SLACK_BOT_TOKEN is not set: rulec serve cannot use Slack".into(),
            retryable: false,
            retry_after: None,
        })
    }

    async fn call(&self, method: &str, body: Json) -> Result<Json, ApiError> {
        let token = self.token()?;
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
        let channel = self.dm_channel(email).await?;
        self.post(&channel, text, key).await
    }

    /// The id of the direct conversation with the member with `email`.
    pub async fn dm_channel(&self, email: &str) -> Result<String, ApiError> {
        let user = self
            .call("users.lookupByEmail", json!({ "email": email }))
            .await?;
        let id = user["user"]["id"].as_str().unwrap_or_default().to_string();
        let channel = self
            .call("conversations.open", json!({ "users": id }))
            .await?;
        Ok(channel["channel"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// A read method, its arguments in the query.
    async fn read(&self, method: &str, query: &[(&str, String)]) -> Result<Json, ApiError> {
        let token = self.token()?;
        let response = self
            .http
            .get(format!("{}/{method}", self.base))
            .bearer_auth(token.reveal())
            .query(query)
            .send()
            .await;
        let body = answer(response, method).await?;
        match body["ok"].as_bool() {
            Some(true) => Ok(body),
            _ => Err(ApiError {
                message: format!(
                    "{method}: {}",
                    body["error"].as_str().unwrap_or("unknown error")
                ),
                retryable: body["error"] == "ratelimited",
                retry_after: None,
            }),
        }
    }

    /// Whether a message carrying `key` in its metadata was posted to `channel` (`#name`
    /// or an id) since `since`: how an attempt that may have happened is recognised.
    pub async fn posted(
        &self,
        channel: &str,
        key: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, ApiError> {
        let Some(id) = self.channel_id(channel).await? else {
            super::log::warn(
                "reconcile",
                serde_json::json!(format!("cannot look for an earlier message in {channel}: the bot sees no such channel (channels:read), so the message is sent again")),
            );
            return Ok(false);
        };
        let mut cursor = String::new();
        // A page of 200, and no more than 10: a channel that busy in the window is
        // searched as far as that, then the message is posted again.
        for _ in 0..10 {
            let mut query = vec![
                ("channel", id.clone()),
                ("oldest", since.timestamp().to_string()),
                ("include_all_metadata", "true".to_string()),
                ("limit", "200".to_string()),
            ];
            if !cursor.is_empty() {
                query.push(("cursor", cursor.clone()));
            }
            let page = self.read("conversations.history", &query).await?;
            let found = page["messages"].as_array().into_iter().flatten().any(|m| {
                m["metadata"]["event_type"] == "rulec_effect"
                    && m["metadata"]["event_payload"]["key"] == key
            });
            if found {
                return Ok(true);
            }
            cursor = page["response_metadata"]["next_cursor"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if cursor.is_empty() {
                return Ok(false);
            }
        }
        Ok(false)
    }

    /// The id of a channel given as `#name` (anything else is an id already).
    async fn channel_id(&self, channel: &str) -> Result<Option<String>, ApiError> {
        let Some(name) = channel.strip_prefix('#') else {
            return Ok(Some(channel.to_string()));
        };
        let mut cursor = String::new();
        // At most 20 pages of 1,000: a workspace with more channels is searched that
        // far (the message is then sent again, and the log says so).
        for _ in 0..20 {
            let mut query = vec![
                ("types", "public_channel,private_channel".to_string()),
                ("exclude_archived", "true".to_string()),
                ("limit", "1000".to_string()),
            ];
            if !cursor.is_empty() {
                query.push(("cursor", cursor.clone()));
            }
            let page = self.read("conversations.list", &query).await?;
            let found = page["channels"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["name"] == name)
                .and_then(|c| c["id"].as_str());
            if let Some(id) = found {
                return Ok(Some(id.to_string()));
            }
            cursor = page["response_metadata"]["next_cursor"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if cursor.is_empty() {
                return Ok(None);
            }
        }
        Ok(None)
    }
}
