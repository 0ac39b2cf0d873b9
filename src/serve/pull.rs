//! `rulec schema pull`: the workspace's data model, read from Attio's API and
//! written as declarations (language.md §10), so `rulec check` checks the rules
//! against the real workspace rather than the prelude's guess at it.
//!
//! Every Attio attribute type maps to the schema type hydration reads it as
//! ([`super::attio::Attio::to_event_values`]), so a rule that checks against the
//! pulled schema reads, at run time, values of the type it was checked with.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value as Json;

use super::attio::{ApiError, Attio};
use crate::format::expr::is_plain_ident;

/// What a pull found, written out.
#[derive(Debug)]
pub struct Pulled {
    /// The declarations file.
    pub text: String,
    /// Objects declared.
    pub objects: usize,
    /// Attributes declared.
    pub attributes: usize,
    /// Lists declared.
    pub lists: usize,
    /// Active members put in the `workspace_members` team.
    pub members: usize,
    /// What could not be declared, and why (also written into the file as comments).
    pub skipped: Vec<String>,
}

/// A list as Attio describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PulledList {
    /// Its name, as rules write it.
    pub name: String,
    /// Its parent object's slug.
    pub parent: String,
    /// Its entries' attributes.
    pub attributes: Vec<AttributeModel>,
}

/// One attribute as Attio describes it, with its options or statuses read.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeModel {
    /// `api_slug`.
    pub slug: String,
    /// Attio's `type` (`text`, `status`, `record-reference`, …).
    pub kind: String,
    /// `is_multiselect`.
    pub many: bool,
    /// `is_unique`.
    pub unique: bool,
    /// `is_writable`.
    pub writable: bool,
    /// The titles of the active options or statuses, in Attio's order.
    pub options: Vec<String>,
    /// For a record reference: the slugs of the objects it may point at.
    pub targets: Vec<String>,
    /// For a currency: its default ISO 4217 code.
    pub currency: Option<String>,
}

/// Reads the workspace's objects, attributes (with options and statuses), lists and
/// members, and writes them as declarations.
pub async fn pull(attio: &Attio, source: &str) -> Result<Pulled, ApiError> {
    let objects = attio.get("/v2/objects", "listing the objects").await?;
    let objects = data(&objects);
    // Record references name their targets by id or by slug.
    let mut slugs: HashMap<String, String> = HashMap::new();
    for object in objects {
        if let Some(slug) = object["api_slug"].as_str() {
            slugs.insert(slug.to_string(), slug.to_string());
            if let Some(id) = object["id"]["object_id"].as_str() {
                slugs.insert(id.to_string(), slug.to_string());
            }
        }
    }
    let mut model = Vec::new();
    for object in objects {
        let Some(slug) = object["api_slug"].as_str() else {
            continue;
        };
        let attributes = attributes_at(attio, &format!("/v2/objects/{slug}"), &slugs).await?;
        model.push((slug.to_string(), attributes));
    }
    let lists = attio.get("/v2/lists", "listing the lists").await?;
    let mut pulled_lists = Vec::new();
    for list in data(&lists) {
        let Some(name) = list["name"].as_str() else {
            continue;
        };
        // Attio names the parent by slug, in an array (one parent a list).
        let parent = match &list["parent_object"] {
            Json::Array(parents) => parents.first().and_then(Json::as_str),
            Json::String(parent) => Some(parent.as_str()),
            _ => None,
        };
        let Some(parent) = parent else { continue };
        let parent = slugs.get(parent).map_or(parent, String::as_str);
        // The entries' own attributes (a pipeline's stage).
        let attributes = match list["id"]["list_id"].as_str() {
            Some(id) => attributes_at(attio, &format!("/v2/lists/{id}"), &slugs).await?,
            None => Vec::new(),
        };
        pulled_lists.push(PulledList {
            name: name.to_string(),
            parent: parent.to_string(),
            attributes,
        });
    }
    let lists = pulled_lists;
    let members = attio
        .get("/v2/workspace_members", "listing the members")
        .await?;
    let members: Vec<String> = data(&members)
        .iter()
        .filter(|m| m["access_level"].as_str() != Some("suspended"))
        .filter_map(|m| m["email_address"].as_str().map(str::to_string))
        .filter(|email| !email.is_empty())
        .collect();
    Ok(render(source, &model, &lists, &members))
}

/// The attributes Attio lists at `{base}/attributes` (an object's or a list's), with
/// their options or statuses read.
async fn attributes_at(
    attio: &Attio,
    base: &str,
    slugs: &HashMap<String, String>,
) -> Result<Vec<AttributeModel>, ApiError> {
    let listed = attio
        .get(&format!("{base}/attributes"), "listing the attributes")
        .await?;
    let mut attributes = Vec::new();
    for attribute in data(&listed) {
        if attribute["is_archived"].as_bool() == Some(true) {
            continue;
        }
        let Some(name) = attribute["api_slug"].as_str() else {
            continue;
        };
        let kind = attribute["type"].as_str().unwrap_or("").to_string();
        let options = match kind.as_str() {
            "status" | "select" => {
                let which = if kind == "status" {
                    "statuses"
                } else {
                    "options"
                };
                let listed = attio
                    .get(
                        &format!("{base}/attributes/{name}/{which}"),
                        "listing the options",
                    )
                    .await?;
                data(&listed)
                    .iter()
                    .filter(|o| o["is_archived"].as_bool() != Some(true))
                    .filter_map(|o| o["title"].as_str().map(str::to_string))
                    .collect()
            }
            _ => Vec::new(),
        };
        let targets = attribute["config"]["record_reference"]["allowed_object_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .map(|t| slugs.get(t).cloned().unwrap_or_else(|| t.to_string()))
            .collect();
        attributes.push(AttributeModel {
            slug: name.to_string(),
            kind,
            many: attribute["is_multiselect"].as_bool() == Some(true),
            unique: attribute["is_unique"].as_bool() == Some(true),
            writable: attribute["is_writable"].as_bool() != Some(false),
            options,
            targets,
            currency: attribute["config"]["currency"]["default_currency_code"]
                .as_str()
                .map(str::to_string),
        });
    }
    Ok(attributes)
}

/// The `data` array of an answer (nothing when the answer has none).
fn data(answer: &Json) -> &[Json] {
    answer["data"].as_array().map_or(&[], Vec::as_slice)
}

/// The declarations file for a workspace's model.
pub fn render(
    source: &str,
    objects: &[(String, Vec<AttributeModel>)],
    lists: &[PulledList],
    members: &[String],
) -> Pulled {
    let mut text = format!(
        "# The Attio workspace's data model, written by `rulec schema pull` from {source}.\n\
         # Pull again after changing the data model: edits here are overwritten.\n"
    );
    let mut pulled = Pulled {
        text: String::new(),
        objects: 0,
        attributes: 0,
        lists: 0,
        members: 0,
        skipped: Vec::new(),
    };
    let declared: Vec<&str> = objects
        .iter()
        .map(|(slug, _)| slug.as_str())
        .filter(|slug| is_plain_ident(slug))
        .collect();
    for (object, attributes) in objects {
        if !is_plain_ident(object) {
            pulled.skipped.push(format!(
                "object `{object}`: its slug is not a name rules can use"
            ));
            continue;
        }
        pulled.objects += 1;
        // What is left out is said above the block, where `rulec fmt` keeps it.
        let mut block = format!("object {object} {{\n");
        text.push('\n');
        for attribute in attributes {
            match declare(attribute, &declared) {
                Ok(line) => {
                    pulled.attributes += 1;
                    let _ = writeln!(block, "  {line}");
                }
                Err(why) => {
                    let skipped = format!("{object}.{}: {why}", attribute.slug);
                    let _ = writeln!(text, "# not declared: {skipped}");
                    pulled.skipped.push(skipped);
                }
            }
        }
        text.push_str(&block);
        text.push_str("}\n");
    }
    if !lists.is_empty() {
        text.push('\n');
    }
    for list in lists {
        let (name, parent) = (&list.name, &list.parent);
        if !declared.contains(&parent.as_str()) {
            pulled.skipped.push(format!(
                "list \"{name}\": its object `{parent}` is not declared"
            ));
            continue;
        }
        pulled.lists += 1;
        let mut lines = Vec::new();
        for attribute in &list.attributes {
            match declare(attribute, &declared) {
                Ok(line) => {
                    pulled.attributes += 1;
                    lines.push(line);
                }
                Err(why) => {
                    let skipped = format!("\"{name}\".{}: {why}", attribute.slug);
                    let _ = writeln!(text, "# not declared: {skipped}");
                    pulled.skipped.push(skipped);
                }
            }
        }
        // `rulec fmt` sets a block apart from its neighbours with a blank line.
        if (!lines.is_empty() || text.ends_with("}\n")) && !text.ends_with("\n\n") {
            text.push('\n');
        }
        if lines.is_empty() {
            let _ = writeln!(text, "list {} of {parent}", quoted(name));
        } else {
            let _ = writeln!(text, "list {} of {parent} {{", quoted(name));
            for line in lines {
                let _ = writeln!(text, "  {line}");
            }
            text.push_str("}\n");
        }
    }
    if !members.is_empty() {
        pulled.members = members.len();
        let emails: Vec<String> = members.iter().map(|m| quoted(m)).collect();
        let _ = writeln!(
            text,
            "\n# Every active member of the workspace, for `round_robin(workspace_members)`.\nteam workspace_members = [{}]",
            emails.join(", ")
        );
    }
    pulled.text = text;
    pulled
}

/// One attribute's declaration (`stage: status [Open, Won] readonly`), or why it has
/// none.
fn declare(attribute: &AttributeModel, objects: &[&str]) -> Result<String, String> {
    if !is_plain_ident(&attribute.slug) {
        return Err("its slug is not a name rules can use".into());
    }
    let options = || {
        if attribute.options.is_empty() {
            return Err("it has no active options".to_string());
        }
        // All bare or all quoted, as `rulec fmt` writes them.
        let bare = attribute.options.iter().all(|o| is_plain_ident(o));
        let written: Vec<String> = attribute
            .options
            .iter()
            .map(|o| if bare { o.clone() } else { quoted(o) })
            .collect();
        Ok(format!("[{}]", written.join(", ")))
    };
    let element = match attribute.kind.as_str() {
        "text" | "personal-name" => "text".to_string(),
        "number" | "rating" => "number".to_string(),
        "checkbox" => "checkbox".into(),
        "currency" => match &attribute.currency {
            Some(code) if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) => {
                format!("currency({code})")
            }
            _ => "currency".into(),
        },
        "date" => "date".into(),
        "timestamp" => "timestamp".into(),
        "actor-reference" => "member".into(),
        "email-address" => "email".into(),
        "domain" => "domain".into(),
        "phone-number" => "phone".into(),
        "status" => format!("status {}", options()?),
        "select" if attribute.many => format!("select[] {}", options()?),
        "select" => format!("select {}", options()?),
        "record-reference" => match attribute.targets.as_slice() {
            [target] if objects.contains(&target.as_str()) => format!("record({target})"),
            // A reference to one of several objects has no single type: its target
            // id is still readable as JSON.
            _ => "json".into(),
        },
        // Location, interaction and types Attio adds later: readable whole.
        _ => "json".into(),
    };
    let ty = if attribute.many && !matches!(attribute.kind.as_str(), "select" | "json") {
        if element == "json" {
            element
        } else {
            format!("list of {element}")
        }
    } else {
        element
    };
    let mut line = format!("{}: {ty}", attribute.slug);
    if attribute.unique {
        line.push_str(" unique");
    }
    if !attribute.writable {
        line.push_str(" readonly");
    }
    Ok(line)
}

/// A string literal.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(slug: &str, kind: &str) -> AttributeModel {
        AttributeModel {
            slug: slug.into(),
            kind: kind.into(),
            many: false,
            unique: false,
            writable: true,
            options: Vec::new(),
            targets: Vec::new(),
            currency: None,
        }
    }

    #[test]
    fn every_attio_type_is_declared_as_hydration_reads_it() {
        let objects = ["deals", "companies"];
        let cases = [
            (attribute("name", "personal-name"), Ok("name: text")),
            (attribute("rating", "rating"), Ok("rating: number")),
            (attribute("amount", "currency"), Ok("amount: currency")),
            (
                AttributeModel {
                    currency: Some("EUR".into()),
                    ..attribute("value", "currency")
                },
                Ok("value: currency(EUR)"),
            ),
            (
                AttributeModel {
                    options: vec!["Open".into(), "Closed Won".into(), "end".into()],
                    ..attribute("stage", "status")
                },
                Ok("stage: status [\"Open\", \"Closed Won\", \"end\"]"),
            ),
            (
                AttributeModel {
                    many: true,
                    options: vec!["vip".into()],
                    ..attribute("tags", "select")
                },
                Ok("tags: select[] [vip]"),
            ),
            (
                AttributeModel {
                    targets: vec!["companies".into()],
                    ..attribute("company", "record-reference")
                },
                Ok("company: record(companies)"),
            ),
            (
                AttributeModel {
                    many: true,
                    targets: vec!["deals".into()],
                    ..attribute("deals", "record-reference")
                },
                Ok("deals: list of record(deals)"),
            ),
            (
                AttributeModel {
                    targets: vec!["people".into(), "companies".into()],
                    ..attribute("anything", "record-reference")
                },
                Ok("anything: json"),
            ),
            (
                AttributeModel {
                    many: true,
                    unique: true,
                    writable: true,
                    ..attribute("email_addresses", "email-address")
                },
                Ok("email_addresses: list of email unique"),
            ),
            (
                AttributeModel {
                    writable: false,
                    ..attribute("created_at", "timestamp")
                },
                Ok("created_at: timestamp readonly"),
            ),
            (attribute("owner", "actor-reference"), Ok("owner: member")),
            (
                attribute("primary_location", "location"),
                Ok("primary_location: json"),
            ),
            (
                attribute("stage", "status"),
                Err("it has no active options".to_string()),
            ),
            (
                attribute("2fa", "text"),
                Err("its slug is not a name rules can use".to_string()),
            ),
        ];
        for (attribute, expected) in cases {
            let got = declare(&attribute, &objects);
            assert_eq!(got, expected.map(str::to_string), "{attribute:?}");
        }
    }

    #[test]
    fn the_file_checks_and_says_what_it_left_out() {
        let objects = vec![
            (
                "deals".to_string(),
                vec![
                    AttributeModel {
                        options: vec!["Lead".into(), "Won \"big\"".into()],
                        ..attribute("stage", "status")
                    },
                    attribute("2fa", "text"),
                ],
            ),
            (
                "tickets".to_string(),
                vec![AttributeModel {
                    targets: vec!["deals".into()],
                    ..attribute("deal", "record-reference")
                }],
            ),
        ];
        let list = |name: &str, parent: &str, attributes| PulledList {
            name: name.to_string(),
            parent: parent.to_string(),
            attributes,
        };
        let lists = vec![
            list("Sales {SDR}", "deals", Vec::new()),
            list("Orphans", "gone", Vec::new()),
            list(
                "Pipeline",
                "deals",
                vec![AttributeModel {
                    options: vec!["Kickoff".into(), "Live".into()],
                    ..attribute("phase", "status")
                }],
            ),
        ];
        let pulled = render("a test", &objects, &lists, &["ana@acme.com".into()]);
        assert_eq!(
            (
                pulled.objects,
                pulled.attributes,
                pulled.lists,
                pulled.members
            ),
            (2, 3, 2, 1)
        );
        assert_eq!(pulled.skipped.len(), 2, "{:?}", pulled.skipped);
        let analysis = crate::workspace::analyze_text("workspace.rules", &pulled.text);
        let formatted =
            crate::format::format_document(&pulled.text, &analysis.units[0].parsed.document);
        assert_eq!(formatted, pulled.text, "`rulec fmt --check` passes it");
        assert!(
            analysis.diagnostics.is_empty(),
            "{}\n{:?}",
            pulled.text,
            analysis.diagnostics
        );
        let schema = &analysis.program().unwrap().schema;
        let phase = schema.list("Pipeline").unwrap().attribute("phase");
        assert!(phase.is_some(), "{}", pulled.text);
        let stage = schema.object("deals").unwrap().attribute("stage").unwrap();
        assert_eq!(
            stage.ty.to_string(),
            "status of `deals.stage`",
            "{}",
            pulled.text
        );
        assert!(schema.list("Sales {SDR}").is_some(), "{}", pulled.text);
        assert_eq!(
            schema.team("workspace_members").unwrap().members,
            ["ana@acme.com"]
        );
    }
}
