//! `rulec serve --sync-webhooks`: Attio's webhook subscriptions, kept to exactly the
//! record events the loaded rules need (serve.md §2), so Attio sends nothing rulec
//! would only throw away — a CSV import touching an attribute no rule watches costs
//! no delivery.
//!
//! Per activity the rules watch: `note.created`, `comment.created`, `task.created`
//! or `task.updated` (a task's completion), unfiltered. Per list the rules watch:
//! `list-entry.created` or `list-entry.deleted` of that list. Per object the rules
//! trigger on: `record.created` (the engine's first snapshot of a record, the `old`
//! of its first change), `record.deleted`, `record.merged`, and `record.updated` —
//! filtered to the watched attributes when every update-driven rule on the object
//! names them (`changed stage`, `matches stage = Won`) and reads no `old.x`, since
//! then no other change can start a run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{json, Value as Json};

use super::attio::Attio;
use super::config::Secret;
use super::log;
use crate::ir::{visit, ExprKind, Program, Root, Trigger};

/// One subscription the rules need.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Need {
    /// Attio's event type, `record.updated`.
    pub event_type: &'static str,
    /// The object's slug.
    pub object: String,
    /// For an update: the one attribute it is about (`None`: any).
    pub attribute: Option<String>,
    /// For a list entry: the list (as rules name it); the event is filtered on it,
    /// not on the object.
    pub list: Option<String>,
}

/// What the rules on one object need to hear of.
#[derive(Default)]
struct Wants {
    /// Any update may start a run.
    every_update: bool,
    /// Updates of these attributes may.
    attributes: BTreeSet<String>,
}

/// The subscriptions `program` needs, sorted.
pub fn needs(program: &Program) -> Vec<Need> {
    let mut objects: BTreeMap<String, Wants> = BTreeMap::new();
    let mut out = Vec::new();
    for rule in &program.rules {
        let object = rule.object.clone().unwrap_or_default();
        let activity = match &rule.trigger {
            Trigger::NoteCreated => Some("note.created"),
            Trigger::CommentAdded => Some("comment.created"),
            Trigger::TaskCreated => Some("task.created"),
            Trigger::TaskCompleted => Some("task.updated"),
            _ => None,
        };
        if let Some(event_type) = activity {
            // Taken whatever they are on (a task names its records only when read).
            out.push(Need {
                event_type,
                object: String::new(),
                attribute: None,
                list: None,
            });
            continue;
        }
        // `in list "…"` is answered from the list's entries coming and going.
        visit::exprs(rule, &mut |e| {
            if let ExprKind::InList { list, .. } = &e.kind {
                let holder = program.schema.list(list).map(|l| l.object.clone());
                for event_type in ["list-entry.created", "list-entry.deleted"] {
                    out.push(Need {
                        event_type,
                        object: holder.clone().unwrap_or_default(),
                        attribute: None,
                        list: Some(list.clone()),
                    });
                }
            }
        });
        let (event_type, list) = match &rule.trigger {
            Trigger::AddedToList { list } => ("list-entry.created", list),
            Trigger::RemovedFromList { list } => ("list-entry.deleted", list),
            Trigger::EntryChanged { list, .. } => {
                // A new entry's values are a change from empty (`stage changed to
                // Live` fires for an entry added at Live), and hearing of it is also
                // how its first update has a before to compare with.
                out.push(Need {
                    event_type: "list-entry.created",
                    object: object.clone(),
                    attribute: None,
                    list: Some(list.clone()),
                });
                ("list-entry.updated", list)
            }
            _ => ("", &String::new()),
        };
        if !event_type.is_empty() {
            out.push(Need {
                event_type,
                object: object.clone(),
                attribute: None,
                list: Some(list.clone()),
            });
            continue;
        }
        if object.is_empty() {
            continue;
        }
        let wants = match &rule.trigger {
            Trigger::Created | Trigger::Deleted | Trigger::Merged => {
                objects.entry(object.clone()).or_default()
            }
            Trigger::Updated => {
                let wants = objects.entry(object.clone()).or_default();
                wants.every_update = true;
                wants
            }
            Trigger::Changed { attr, .. } => {
                let wants = objects.entry(object.clone()).or_default();
                wants.attributes.insert(attr.attr.clone());
                wants
            }
            Trigger::Matches { filter } => {
                let wants = objects.entry(object.clone()).or_default();
                let mut read = BTreeSet::new();
                visit::expr(filter, &mut |e| {
                    if let ExprKind::Read {
                        root: Root::Record | Root::Old,
                        path,
                    } = &e.kind
                    {
                        if let Some(first) = path.first() {
                            read.insert(first.name.clone());
                        }
                    }
                });
                match read.is_empty() {
                    true => wants.every_update = true,
                    false => wants.attributes.extend(read),
                }
                wants
            }
            // Activities were taken above; call recordings are not taken by serve yet
            // (see `unreceivable`); webhooks, schedules and meta-rules need no Attio
            // subscription.
            _ => continue,
        };
        // `old.x` of an attribute no trigger watches is only right if rulec hears
        // of every change of the record.
        visit::exprs(rule, &mut |e| {
            if let ExprKind::Read {
                root: Root::Old, ..
            } = &e.kind
            {
                wants.every_update = true;
            }
        });
    }
    for (object, wants) in objects {
        for event_type in ["record.created", "record.deleted", "record.merged"] {
            out.push(Need {
                event_type,
                object: object.clone(),
                attribute: None,
                list: None,
            });
        }
        if wants.every_update {
            out.push(Need {
                event_type: "record.updated",
                object: object.clone(),
                attribute: None,
                list: None,
            });
        } else {
            out.extend(wants.attributes.into_iter().map(|attribute| Need {
                event_type: "record.updated",
                object: object.clone(),
                attribute: Some(attribute),
                list: None,
            }));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Rules whose trigger `rulec serve` cannot receive yet (call recordings), with
/// what it is: they are loaded, and never start a run from Attio.
pub fn unreceivable(program: &Program) -> Vec<(String, &'static str)> {
    program
        .rules
        .iter()
        .filter_map(|rule| {
            let what = match &rule.trigger {
                Trigger::CallRecorded => "a call recording",
                _ => return None,
            };
            Some((rule.id.clone(), what))
        })
        .collect()
}

/// Where the webhook's secret is written when `--sync-webhooks` creates it.
pub struct SecretFile<'a> {
    /// The file (`KEY=value`, as systemd's `EnvironmentFile=` and `docker --env-file`
    /// read it).
    pub path: &'a Path,
    /// The variable named by `[attio] webhook_secret_env`.
    pub variable: &'a str,
}

/// Makes the webhook at `target` subscribe to exactly `needs`: updates it when it
/// exists, creates it when it does not (writing its new secret to `file`, the one
/// place Attio's answer shows it). The secret to verify deliveries with.
pub async fn sync(
    attio: &Attio,
    needs: &[Need],
    target: &str,
    secret: Option<Secret>,
    file: SecretFile<'_>,
) -> Result<Secret, String> {
    let subscriptions = subscriptions(attio, needs).await?;
    let listed = attio
        .get("/v2/webhooks", "listing the webhooks")
        .await
        .map_err(|e| e.message)?;
    let ours: Vec<&Json> = listed["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|hook| hook["target_url"].as_str() == Some(target))
        .collect();
    let summary = json!({ "target": target, "subscriptions": subscriptions.len() });
    if let Some(hook) = ours.first() {
        let Some(secret) = secret else {
            return Err(format!(
                "{} is not set: export the signing secret of the Attio webhook that targets {target} (Attio shows it once, when it is created; if it is lost, delete that webhook and start again with --sync-webhooks to have a new one created)",
                file.variable
            ));
        };
        let Some(id) = hook["id"]["webhook_id"]
            .as_str()
            .filter(|id| !id.is_empty())
        else {
            return Err(format!(
                "Attio listed a webhook for {target} without its id"
            ));
        };
        if same(&hook["subscriptions"], &subscriptions) {
            log::info("webhook subscriptions up to date", summary);
        } else {
            attio
                .send(
                    reqwest::Method::PATCH,
                    &format!("/v2/webhooks/{id}"),
                    &json!({ "data": { "subscriptions": subscriptions } }),
                    "updating the webhook",
                )
                .await
                .map_err(|e| e.message)?;
            log::info("webhook subscriptions updated", summary);
        }
        if ours.len() > 1 {
            log::warn(
                "several webhooks",
                json!(format!("{} Attio webhooks target {target}; only the first was updated: delete the others in Attio, or each event is delivered more than once", ours.len())),
            );
        }
        return Ok(secret);
    }
    if file.path.exists() {
        return Err(format!(
            "no Attio webhook targets {target}, and {} is there from an earlier one: delete that webhook in Attio and the file, or load the file into the environment if the webhook is still there (its URL may differ from [serve] public_url)",
            file.path.display()
        ));
    }
    if secret.is_some() {
        return Err(format!(
            "{} is set, but no Attio webhook targets {target}: if [serve] public_url changed, change the webhook's URL in Attio; to have rulec create a new webhook, unset {}",
            file.variable, file.variable
        ));
    }
    let created = attio
        .send(
            reqwest::Method::POST,
            "/v2/webhooks",
            &json!({ "data": { "target_url": target, "subscriptions": subscriptions } }),
            "creating the webhook",
        )
        .await
        .map_err(|e| e.message)?;
    let Some(secret) = created["data"]["secret"].as_str().filter(|s| !s.is_empty()) else {
        return Err("Attio created the webhook but sent no signing secret with it".into());
    };
    write_secret(&file, secret)?;
    log::info(
        "webhook created",
        json!({ "target": target, "subscriptions": subscriptions.len(), "secret_file": file.path.display().to_string(), "detail": format!("its signing secret is in {} and nowhere else: load that file into the environment of rulec serve (systemd EnvironmentFile=, docker --env-file) before its next start", file.path.display()) }),
    );
    Ok(Secret::new(secret.to_string()))
}

/// Attio's subscriptions for `needs`: objects and attributes named by id, as
/// Attio's filters take them.
async fn subscriptions(attio: &Attio, needs: &[Need]) -> Result<Vec<Json>, String> {
    let mut object_ids: BTreeMap<&str, String> = BTreeMap::new();
    let mut out = Vec::with_capacity(needs.len());
    for need in needs {
        if need.object.is_empty() && need.list.is_none() {
            out.push(json!({ "event_type": need.event_type, "filter": null }));
            continue;
        }
        if let Some(list) = &need.list {
            let id = attio
                .list_id(list)
                .await
                .map_err(|e| format!("{} (list \"{list}\")", e.message))?
                .ok_or_else(|| format!("the workspace has no list \"{list}\" that rules name: rulec schema pull shows the lists it has"))?;
            out.push(json!({ "event_type": need.event_type, "filter": { "$and": [
                { "field": "id.list_id", "operator": "equals", "value": id },
            ] } }));
            continue;
        }
        if !object_ids.contains_key(need.object.as_str()) {
            let object = attio
                .get(
                    &format!("/v2/objects/{}", need.object),
                    "reading the object",
                )
                .await
                .map_err(|e| format!("{} (object `{}`)", e.message, need.object))?;
            let id = object["data"]["id"]["object_id"]
                .as_str()
                .ok_or_else(|| format!("Attio's object `{}` has no id", need.object))?;
            object_ids.insert(&need.object, id.to_string());
        }
        let mut filter = vec![json!({
            "field": "id.object_id", "operator": "equals", "value": object_ids[need.object.as_str()],
        })];
        if let Some(attribute) = &need.attribute {
            let read = attio
                .get(
                    &format!("/v2/objects/{}/attributes/{attribute}", need.object),
                    "reading the attribute",
                )
                .await
                .map_err(|e| format!("{} (`{}.{attribute}`)", e.message, need.object))?;
            let id = read["data"]["id"]["attribute_id"].as_str().ok_or_else(|| {
                format!("Attio's attribute `{}.{attribute}` has no id", need.object)
            })?;
            filter.push(json!({ "field": "id.attribute_id", "operator": "equals", "value": id }));
        }
        out.push(json!({ "event_type": need.event_type, "filter": { "$and": filter } }));
    }
    Ok(out)
}

/// Whether Attio's subscriptions are `wanted`, in any order.
fn same(have: &Json, wanted: &[Json]) -> bool {
    let have: BTreeSet<String> = have
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| json!({ "event_type": s["event_type"], "filter": s["filter"] }).to_string())
        .collect();
    let wanted: BTreeSet<String> = wanted.iter().map(Json::to_string).collect();
    have == wanted
}

/// Writes `VARIABLE=secret` to a new file only its owner can read.
fn write_secret(file: &SecretFile<'_>, secret: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(file.path).map_err(|e| {
        format!(
            "cannot write the new webhook's secret to {}: {e} (the webhook was created in Attio: delete it there, fix this, and start again)",
            file.path.display()
        )
    })?;
    writeln!(out, "{}={secret}", file.variable)
        .and_then(|()| out.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", file.path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(text: &str) -> Program {
        crate::workspace::analyze_text("rules.rules", text)
            .program()
            .unwrap()
    }

    fn updates(needs: &[Need], object: &str) -> Vec<Option<String>> {
        needs
            .iter()
            .filter(|n| n.event_type == "record.updated" && n.object == object)
            .map(|n| n.attribute.clone())
            .collect()
    }

    #[test]
    fn updates_are_narrowed_to_the_watched_attributes_only_when_that_is_sound() {
        let needs = needs(&program(
            "rule a when stage changed to ClosedWon do slack \"#wins\"\n\
             rule b when matches value > 1000 and stage = Open do slack \"#big\"\n\
             rule c when people created do slack \"#people\"\n\
             rule d when companies updated do slack \"#companies\"\n",
        ));
        assert_eq!(
            updates(&needs, "deals"),
            [Some("stage".to_string()), Some("value".to_string())]
        );
        assert!(updates(&needs, "people").is_empty());
        assert_eq!(updates(&needs, "companies"), [None]);
        for object in ["deals", "people", "companies"] {
            let kinds: Vec<&str> = needs
                .iter()
                .filter(|n| n.object == object && n.event_type != "record.updated")
                .map(|n| n.event_type)
                .collect();
            assert_eq!(
                kinds,
                ["record.created", "record.deleted", "record.merged"],
                "{object}"
            );
        }
        let needs = super::needs(&program(
            "list \"Inbound\" of people\nrule e when added to list \"Inbound\" do slack \"#in\"\n",
        ));
        assert_eq!(
            needs,
            [Need {
                event_type: "list-entry.created",
                object: "people".into(),
                attribute: None,
                list: Some("Inbound".into()),
            }]
        );
        let needs = super::needs(&program(
            "rule n on deals when note created do slack \"#n\"\nrule t when task completed do slack \"#t\"\n",
        ));
        let kinds: Vec<(&str, &str)> = needs
            .iter()
            .map(|n| (n.event_type, n.object.as_str()))
            .collect();
        assert_eq!(kinds, [("note.created", ""), ("task.updated", "")]);
        // Reading `old.value` needs every change of the record.
        let needs = super::needs(&program(
            "rule a when stage changed to ClosedWon and old.value < value do slack \"#wins\"\n",
        ));
        assert_eq!(updates(&needs, "deals"), [None]);
        // An entry's own changes, and the entries `in list` reads.
        let needs = super::needs(&program(
            "list \"Onboarding\" of companies { stage: status [A, B] }\nlist \"Key\" of companies\n\
             rule s when stage changed to B in list \"Onboarding\" and record not in list \"Key\" do stop\n",
        ));
        let lists: Vec<(&str, Option<&str>)> = needs
            .iter()
            .filter(|n| n.list.is_some())
            .map(|n| (n.event_type, n.list.as_deref()))
            .collect();
        assert_eq!(
            lists,
            [
                ("list-entry.created", Some("Key")),
                ("list-entry.created", Some("Onboarding")),
                ("list-entry.deleted", Some("Key")),
                ("list-entry.updated", Some("Onboarding")),
            ]
        );
    }

    #[test]
    fn subscriptions_compare_whatever_their_order() {
        let a = json!({"event_type": "record.created", "filter": {"$and": [{"field": "id.object_id", "operator": "equals", "value": "o1"}]}});
        let b = json!({"event_type": "record.updated", "filter": {"$and": [{"field": "id.object_id", "operator": "equals", "value": "o1"}]}});
        assert!(same(
            &json!([b.clone(), a.clone()]),
            &[a.clone(), b.clone()]
        ));
        assert!(!same(&json!([a.clone()]), &[a, b]));
    }
}
