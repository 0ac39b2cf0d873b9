//! Performing the outbox's effects against the real targets (serve.md §3): each
//! request by kind, each answer mapped to an [`Outcome`] the engine understands —
//! done with the output a step binds, retry (with the target's `Retry-After`), or
//! fail.

use std::sync::Arc;

use serde_json::{json, Map, Value as Json};

use super::attio::{to_attio, ApiError, Attio};
use super::email::Mailer;
use super::log;
use super::outbound::Outbound;
use super::slack::Slack;
use crate::engine::{Effect, Outcome, Request};
use crate::schema::Schema;

/// The targets effects go to.
pub struct Targets {
    /// The workspace.
    pub attio: Attio,
    /// Slack.
    pub slack: Slack,
    /// SMTP.
    pub mail: Mailer,
    /// `http` steps and custom actions.
    pub outbound: Outbound,
    /// Counted attempts.
    pub metrics: Arc<super::metrics::Metrics>,
    /// The schema rules were checked against (attribute types for writes).
    pub schema: Schema,
    /// Keys of the effects that may have happened without rulec hearing so: in
    /// flight (or waiting to be retried) when the last process stopped, or whose
    /// last attempt ended without a clear answer (a timeout, a 5xx). Each is looked
    /// for before it is performed again ([`super::reconcile`]).
    pub uncertain: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl From<ApiError> for Outcome {
    fn from(e: ApiError) -> Outcome {
        match (e.retryable, e.retry_after) {
            (true, Some(seconds)) => Outcome::retry_after(e.message, seconds),
            (true, None) => Outcome::retry(e.message),
            (false, _) => Outcome::fail(e.message),
        }
    }
}

/// Performs one effect.
pub async fn perform(targets: Arc<Targets>, effect: Effect) -> Outcome {
    let outcome = match effect.request() {
        Request::Ask { member, question } => {
            ask(&targets, member, question, &effect).await;
            Ok(None)
        }
        Request::Custom { name, args } => {
            targets
                .outbound
                .custom(name, args, effect.record.as_ref(), &effect.key)
                .await
        }
        _ if super::reconcile::uncertain(&targets, &effect) => {
            match super::reconcile::earlier(&targets, &effect).await {
                Ok(Some(output)) => {
                    targets.metrics.effect(&effect.action, "done", false);
                    log::effect(&effect.action, &effect.key, effect.attempt, "found done");
                    return Outcome::Done(output);
                }
                Ok(None) => now(&targets, &effect).await.map(Some),
                Err(e) if e.retryable => Err(e),
                // Cannot be looked for (a scope missing): performed again, and said so,
                // rather than never performed.
                Err(e) => {
                    log::error(
                        "reconcile",
                        &format!(
                            "{} {}: could not look for an earlier attempt, so it is made again: {}",
                            effect.action, effect.key, e.message
                        ),
                    );
                    now(&targets, &effect).await.map(Some)
                }
            }
        }
        _ => now(&targets, &effect).await.map(Some),
    };
    super::reconcile::attempted(&targets, &effect, &outcome);
    let (shown, outcome) = match outcome {
        Ok(Some(output)) => ("done".to_string(), Outcome::Done(output)),
        // Handed to someone else (a person, an action's job): the run waits.
        Ok(None) => ("deferred".to_string(), Outcome::Defer),
        Err(e) => (e.message.clone(), Outcome::from(e)),
    };
    let (counted, throttled) = match &outcome {
        Outcome::Done(_) => ("done", false),
        Outcome::Defer => ("deferred", false),
        Outcome::Error {
            retryable: true,
            retry_after,
            ..
        } => ("retry", retry_after.is_some()),
        Outcome::Error { .. } => ("failed", false),
    };
    targets.metrics.effect(&effect.action, counted, throttled);
    log::effect(&effect.action, &effect.key, effect.attempt, &shown);
    outcome
}

/// Performs an effect that is over when its call is.
async fn now(targets: &Targets, effect: &Effect) -> Result<Json, ApiError> {
    match effect.request() {
        Request::Email {
            to,
            subject,
            body,
            template,
        } => match (body, template) {
            (None, Some(template)) => Err(ApiError {
                message: format!("rulec serve does not render named email templates (`{template}`): give the email a subject and a body"),
                retryable: false,
                retry_after: None,
            }),
            _ => targets
                .mail
                .send(to, subject.unwrap_or(""), body.unwrap_or(""), &effect.key)
                .await
                .map(|_| Json::Null),
        },
        Request::Http {
            method,
            url,
            headers,
            body,
        } => targets
            .outbound
            .http(method, url, headers, body, &effect.key)
            .await
            .map_err(|mut e| {
                // A header may hold a secret, and a receiver may echo it back.
                for value in headers.into_iter().flat_map(|h| h.values()) {
                    if let Some(text) = value.as_str().filter(|t| t.len() >= 4) {
                        e.message = e.message.replace(text, "***");
                    }
                }
                e
            }),
        Request::Slack { channel, text } => targets
            .slack
            .post(channel, text, &effect.key)
            .await
            .map(|_| Json::Null),
        Request::SlackDm { member, text } => targets
            .slack
            .dm(member, text, &effect.key)
            .await
            .map(|_| Json::Null),
        Request::Set {
            object,
            record,
            attribute,
            value,
        } => {
            let ty = targets
                .schema
                .object(object)
                .and_then(|o| o.attribute(attribute))
                .map(|a| a.ty.clone());
            match ty {
                Some(ty) => {
                    let mut values = Map::new();
                    values.insert(attribute.to_string(), to_attio(value, &ty));
                    targets
                        .attio
                        .write(object, record, values)
                        .await
                        .map(|_| Json::Null)
                }
                None => Err(ApiError {
                    message: format!("`{object}.{attribute}` is not in the schema"),
                    retryable: false,
                    retry_after: None,
                }),
            }
        }
        Request::Create { object, fields } => match values(targets, object, fields) {
            Ok(values) => targets
                .attio
                .create(object, values)
                .await
                .map(|id| json!({ "id": id })),
            Err(e) => Err(e),
        },
        Request::Upsert {
            object, by, fields, ..
        } => match values(targets, object, fields) {
            Ok(values) => targets
                .attio
                .upsert(object, by, values)
                .await
                .map(|id| json!({ "id": id })),
            Err(e) => Err(e),
        },
        Request::Task {
            title,
            assignee,
            due,
            body,
        } => {
            let content = task_content(title, body);
            let mut task = json!({
                "content": content, "format": "plaintext", "is_completed": false,
                "deadline_at": due.cloned().unwrap_or(Json::Null),
                "linked_records": [], "assignees": [],
            });
            if let Some((object, id)) = &effect.record {
                task["linked_records"] =
                    json!([{ "target_object": object, "target_record_id": id }]);
            }
            if let Some(email) = assignee.filter(|a| !a.is_empty()) {
                task["assignees"] = json!([{ "workspace_member_email_address": email }]);
            }
            targets.attio.task(task).await.map(|id| json!({ "id": id }))
        }
        Request::Note { title, body } => match &effect.record {
            Some((object, id)) => targets
                .attio
                .note(object, id, title, body.unwrap_or(""))
                .await
                .map(|id| json!({ "id": id })),
            None => Err(no_record("note")),
        },
        Request::List { list, added } => {
            let Some((object, id)) = &effect.record else {
                return Err(no_record("list"));
            };
            // Rules name a list as Attio shows it; its API takes the list's id.
            let Some(list) = targets.attio.list_id(list).await? else {
                return Err(ApiError {
                    message: format!("the workspace has no list \"{list}\" (rulec schema pull shows the lists it has)"),
                    retryable: false,
                    retry_after: None,
                });
            };
            match added {
                true => targets.attio.list_add(&list, object, id).await,
                false => targets.attio.list_remove(&list, id).await,
            }
            .map(|_| Json::Null)
        }
        Request::Find { object, equals } => {
            read(targets, object, equals.cloned().unwrap_or_default()).await
        }
        Request::Scan { object } => read(targets, object, Map::new()).await,
        _ => Err(ApiError {
            message: format!("`{}` is not performed by rulec serve", effect.action),
            retryable: false,
            retry_after: None,
        }),
    }
}

/// An approval: the member hears of it in Slack when Slack is set up, and answers
/// through the admin API (`POST /api/runs/{run}/answer`). The run waits either way:
/// a message that cannot be sent is logged, the approval stays listed.
async fn ask(targets: &Targets, member: &str, question: &str, effect: &Effect) {
    if !targets.slack.configured() {
        return;
    }
    let text = format!(
        "Approval needed: {question}\n(run `{}`; answer it with rulec's admin API)",
        effect.run
    );
    if let Err(e) = targets.slack.dm(member, &text, &effect.key).await {
        log::error(
            "approval",
            &format!("could not tell {member}: {}", e.message),
        );
    }
}

/// A task's text: its title, and its body below it.
pub(super) fn task_content(title: &str, body: Option<&str>) -> String {
    match body {
        Some(body) if !body.is_empty() => format!("{title}\n\n{body}"),
        _ => title.to_string(),
    }
}

/// A step that needs the run's record, in a run that has none (a schedule without
/// `for`).
fn no_record(what: &str) -> ApiError {
    ApiError {
        message: format!("a {what} needs a record, and this run has none"),
        retryable: false,
        retry_after: None,
    }
}

/// A record's fields, each as Attio takes its attribute's type.
fn values(
    targets: &Targets,
    object: &str,
    fields: &Map<String, Json>,
) -> Result<Map<String, Json>, ApiError> {
    let declared = targets.schema.object(object).ok_or_else(|| ApiError {
        message: format!("`{object}` is not in the schema"),
        retryable: false,
        retry_after: None,
    })?;
    Ok(fields
        .iter()
        .map(|(name, value)| {
            let value = match declared.attribute(name) {
                Some(attribute) => to_attio(value, &attribute.ty),
                None => value.clone(),
            };
            (name.clone(), value)
        })
        .collect())
}

/// The records of `object` matching `equals`, as the engine takes a read's answer.
async fn read(
    targets: &Targets,
    object: &str,
    equals: Map<String, Json>,
) -> Result<Json, ApiError> {
    let Some(declared) = targets.schema.object(object) else {
        return Err(ApiError {
            message: format!("`{object}` is not in the schema"),
            retryable: false,
            retry_after: None,
        });
    };
    let filter: Map<String, Json> = equals
        .into_iter()
        .map(|(name, value)| {
            let ty = declared.attribute(&name).map(|a| a.ty.clone());
            let value = match (ty, &value) {
                // Attio's filter shorthand takes plain values; references by id.
                (Some(crate::schema::Type::Record(_)), Json::String(id)) => {
                    json!({ "target_record_id": id })
                }
                _ => value,
            };
            (name, value)
        })
        .collect();
    let mut records = Vec::new();
    for (id, values) in targets.attio.query(object, &filter).await? {
        let values = targets.attio.to_event_values(&values, declared).await?;
        records.push(json!({ "id": id, "values": values }));
    }
    Ok(json!({ "records": records }))
}
