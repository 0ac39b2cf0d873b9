//! Effects that may have happened already (serve.md §3): an effect in flight when
//! the last process stopped (killed, the machine lost), or one whose earlier attempt
//! failed without an answer (a timeout, a 5xx after the target acted). Before such
//! an effect is performed again, it is looked for at its target, and found, it is
//! done — so a crash does not post a message, note or task twice.
//!
//! | effect | looked for as |
//! |---|---|
//! | slack, slack dm | a message in the channel, since the effect was queued, whose metadata holds its key |
//! | note | a note on the record, since then, with its title and text |
//! | create task | a task linked to the record, since then, with its text |
//!
//! Writes, upserts and list entries are idempotent and are simply done again;
//! creates, email and custom actions cannot be looked for (docs/serve.md says so).

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value as Json};

use super::attio::ApiError;
use super::perform::{task_content, Targets};
use crate::engine::{Effect, Request};

/// How far before the effect's queueing a match may be dated: the target's clock
/// and ours disagree by this much at most (both keep NTP time). Kept short: an
/// older note of the same text (the same rule, an earlier run) must not count.
const SKEW: Duration = Duration::seconds(30);

/// Whether `effect` may have reached its target before.
pub fn uncertain(targets: &Targets, effect: &Effect) -> bool {
    targets
        .uncertain
        .lock()
        .is_ok_and(|keys| keys.contains(&effect.key))
}

/// Notes what an attempt showed: an answer that says nothing of whether the target
/// acted (a timeout, a dropped connection, a 5xx) makes the effect uncertain; a
/// clear answer — done, or refused — makes it certain again; a 429 changes nothing.
pub fn attempted(targets: &Targets, effect: &Effect, outcome: &Result<Option<Json>, ApiError>) {
    let Ok(mut keys) = targets.uncertain.lock() else {
        return;
    };
    match outcome {
        // Asked to wait — by the target or by the look for an earlier attempt —
        // tells nothing new: an earlier doubt stays.
        Err(e) if throttled(e) => {}
        Err(e) if e.retryable => {
            keys.insert(effect.key.clone());
        }
        _ => {
            keys.remove(&effect.key);
        }
    }
}

/// A target that asked to be called later did nothing.
fn throttled(e: &ApiError) -> bool {
    e.message.contains("429") || e.message.contains("ratelimited")
}

/// The answer an earlier attempt of `effect` got, when it is found at the target;
/// `None` when it did not happen (or cannot be looked for).
pub async fn earlier(targets: &Targets, effect: &Effect) -> Result<Option<Json>, ApiError> {
    let since = effect.queued.unwrap_or_else(Utc::now) - SKEW;
    match effect.request() {
        Request::Slack { channel, .. } => {
            let found = targets.slack.posted(channel, &effect.key, since).await?;
            Ok(found.then_some(Json::Null))
        }
        Request::SlackDm { member, .. } => {
            let channel = targets.slack.dm_channel(member).await?;
            let found = targets.slack.posted(&channel, &effect.key, since).await?;
            Ok(found.then_some(Json::Null))
        }
        Request::Note { title, body } => {
            let Some((object, id)) = &effect.record else {
                return Ok(None);
            };
            let notes = targets.attio.attached("notes", object, id).await?;
            let body = body.unwrap_or("");
            Ok(first_since(&notes, since, |note| {
                note["title"] == title && note["content_plaintext"] == body
            })
            .map(|note| json!({ "id": note["id"]["note_id"] })))
        }
        Request::Task { title, body, .. } => {
            let Some((object, id)) = &effect.record else {
                return Ok(None);
            };
            let tasks = targets.attio.attached("tasks", object, id).await?;
            let content = task_content(title, body);
            Ok(first_since(&tasks, since, |task| {
                task["content_plaintext"] == content.as_str()
            })
            .map(|task| json!({ "id": task["id"]["task_id"] })))
        }
        _ => Ok(None),
    }
}

/// The first of `items` created at or after `since` that `matches`.
fn first_since(
    items: &[Json],
    since: DateTime<Utc>,
    matches: impl Fn(&Json) -> bool,
) -> Option<&Json> {
    items.iter().find(|item| {
        let created = item["created_at"]
            .as_str()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok());
        created.is_some_and(|at| at >= since) && matches(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_match_made_since_the_effect_was_queued_counts() {
        let since: DateTime<Utc> = "2026-12-04T10:00:00Z".parse().unwrap();
        let notes = [
            json!({"title": "Won", "content_plaintext": "Acme", "created_at": "2026-12-04T09:00:00Z"}),
            json!({"title": "Won", "content_plaintext": "Globex", "created_at": "2026-12-04T10:01:00Z"}),
        ];
        let won = |what: &'static str| {
            move |n: &Json| n["title"] == "Won" && n["content_plaintext"] == what
        };
        assert!(first_since(&notes, since, won("Acme")).is_none(), "too old");
        assert_eq!(
            first_since(&notes, since, won("Globex")).unwrap()["content_plaintext"],
            "Globex"
        );
        assert!(first_since(&notes, since, won("Initech")).is_none());
    }
}
