//! Activities on records — notes, comments, tasks — as the engine's activity events
//! (`when note created`, `when comment added`, `when task created`, `when task
//! completed`): the activity read from Attio, its author or assignee a member's
//! email, and, for a note or comment, the record it is on read with it.

use serde_json::{json, Value as Json};

use super::inbox::Entry;
use super::worker::{actor, declared, with_record, Prepared};
use super::App;

/// `note.created` or `comment.created`: the note or comment, then its record.
pub(super) async fn note_or_comment(app: &App, entry: &Entry) -> Prepared {
    let event = &entry.event;
    let kind = event["event_type"].as_str().unwrap_or("");
    let (path, id, object_id, record_id) = match kind {
        "note.created" => (
            "notes",
            &event["id"]["note_id"],
            &event["parent_object_id"],
            &event["parent_record_id"],
        ),
        _ => (
            "comments",
            &event["id"]["comment_id"],
            &event["object_id"],
            &event["record_id"],
        ),
    };
    let (Some(id), Some(object_id), Some(record_id)) =
        (id.as_str(), object_id.as_str(), record_id.as_str())
    else {
        return Prepared::Done;
    };
    // An object no rule is about needs no read at all.
    let (slug, object) = match declared(app, object_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return Prepared::Done,
        Err(e) => return Prepared::Later(e),
    };
    let read = match app
        .targets
        .attio
        .get(&format!("/v2/{path}/{id}"), &format!("reading the {kind}"))
        .await
    {
        Ok(read) => read["data"].clone(),
        // Deleted since: nothing is left to tell.
        Err(e) if e.message.contains("404") => return Prepared::Done,
        Err(e) => return Prepared::Later(e),
    };
    let author = match kind {
        "note.created" => &read["created_by_actor"],
        _ => &read["author"],
    };
    let author = match member(app, author).await {
        Ok(author) => author,
        Err(e) => return Prepared::Later(e),
    };
    let body = read["content_plaintext"].clone();
    let (name, activity) = match kind {
        "note.created" => (
            "note",
            json!({ "id": id, "title": read["title"], "body": body, "author": author }),
        ),
        _ => (
            "comment",
            json!({ "id": id, "body": body, "author": author }),
        ),
    };
    let mut about = json!({
        // Made once: the id does not depend on the delivery.
        "id": format!("attio:{kind}:{id}"), "type": kind,
        "object": slug, "record_id": record_id, "at": event["received_at"],
    });
    about[name] = activity;
    with_record(app, entry, (&slug, object), record_id, about, false).await
}

/// `task.created`, or `task.updated` to completed (`task.completed`): one event for
/// each record the task is linked to that the schema knows.
pub(super) async fn task(app: &App, entry: &Entry) -> Prepared {
    let event = &entry.event;
    let Some(id) = event["id"]["task_id"].as_str() else {
        return Prepared::Done;
    };
    let read = match app
        .targets
        .attio
        .get(&format!("/v2/tasks/{id}"), "reading the task")
        .await
    {
        Ok(read) => read["data"].clone(),
        Err(e) if e.message.contains("404") => return Prepared::Done,
        Err(e) => return Prepared::Later(e),
    };
    let completed = read["is_completed"].as_bool() == Some(true);
    let kind = match (event["event_type"].as_str(), completed) {
        (Some("task.created"), _) => "task.created",
        (Some("task.updated"), true) => "task.completed",
        // Any other change of a task starts no rule.
        _ => return Prepared::Done,
    };
    let content = read["content_plaintext"].as_str().unwrap_or_default();
    // rulec writes a task as its title, a blank line and its body.
    let (title, body) = content.split_once("\n\n").unwrap_or((content, ""));
    let assignee = match read["assignees"].as_array().and_then(|a| a.first()) {
        Some(first) => match member(app, first).await {
            Ok(found) => found,
            Err(e) => return Prepared::Later(e),
        },
        None => Json::Null,
    };
    let task = json!({
        "id": id, "title": title, "body": body, "assignee": assignee,
        "due": read["deadline_at"], "completed": completed,
    });
    let (by, source) = match actor(app, &event["actor"]).await {
        Ok(found) => found,
        Err(e) => return Prepared::Later(e),
    };
    let mut events = Vec::new();
    for linked in read["linked_records"].as_array().into_iter().flatten() {
        let (Some(object_id), Some(record_id)) = (
            linked["target_object_id"].as_str(),
            linked["target_record_id"].as_str(),
        ) else {
            continue;
        };
        let slug = match declared(app, object_id).await {
            Ok(Some((slug, _))) => slug,
            Ok(None) => continue,
            Err(e) => return Prepared::Later(e),
        };
        let mut out = json!({
            // Made, and completed, once.
            "id": format!("attio:{kind}:{id}:{record_id}"), "type": kind,
            "object": slug, "record_id": record_id, "at": event["received_at"],
            "task": task, "actor": by,
        });
        if let Some(source) = source {
            out["source"] = json!(source);
        }
        events.push(out);
    }
    match events.is_empty() {
        true => Prepared::Done,
        false => Prepared::Events(events),
    }
}

/// The email of the workspace member an actor reference names (`null` for anyone
/// else: an API token, the system).
async fn member(app: &App, actor: &Json) -> Result<Json, super::attio::ApiError> {
    let is_member =
        actor["type"] == "workspace-member" || actor["referenced_actor_type"] == "workspace-member";
    let id = actor["id"]
        .as_str()
        .or(actor["referenced_actor_id"].as_str());
    match (is_member, id) {
        (true, Some(id)) => Ok(app
            .targets
            .attio
            .member_email(id)
            .await?
            .map_or(Json::Null, Json::String)),
        _ => Ok(Json::Null),
    }
}
