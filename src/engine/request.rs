//! What an effect asks for, typed: the view of [`Effect::args`] a host matches on to
//! perform it (serve.md §3), instead of looking arguments up by name.

use serde_json::{Map, Value as Json};

use super::effect::Effect;

/// One effect's request, by kind. Borrowed from the [`Effect`]; text arguments a
/// rule left out are `None`. New kinds will be added, hence `#[non_exhaustive]`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Request<'a> {
    /// `slack "#channel" "text"`.
    Slack {
        /// The channel, as written (`#wins`).
        channel: &'a str,
        /// The message, record values escaped.
        text: &'a str,
    },
    /// `slack dm member "text"`.
    SlackDm {
        /// The member's email.
        member: &'a str,
        /// The message, record values escaped.
        text: &'a str,
    },
    /// `email to …`.
    Email {
        /// The recipients: one, or the list the rule wrote.
        to: Recipients<'a>,
        /// The subject (one line).
        subject: Option<&'a str>,
        /// The body.
        body: Option<&'a str>,
        /// A named template, when the rule uses one.
        template: Option<&'a str>,
    },
    /// `set attribute = value` (or `clear attribute`: `value` is `null`) on the
    /// run's record.
    Set {
        /// The record's object.
        object: &'a str,
        /// The record's id.
        record: &'a str,
        /// The attribute.
        attribute: &'a str,
        /// The new value, typed as the attribute.
        value: &'a Json,
    },
    /// `create object { … }`.
    Create {
        /// The object.
        object: &'a str,
        /// The new record's values.
        fields: &'a Map<String, Json>,
    },
    /// `upsert object by attribute { … }`.
    Upsert {
        /// The object.
        object: &'a str,
        /// The unique attribute to match on (Attio's `matching_attribute`).
        by: &'a str,
        /// The record's values.
        fields: &'a Map<String, Json>,
        /// The id of the record the engine knows to match, if any.
        id: Option<&'a str>,
    },
    /// `create task …`, linked to the run's record ([`Effect::record`]).
    Task {
        /// The task's title.
        title: &'a str,
        /// Who it is for.
        assignee: Option<&'a str>,
        /// When it is due.
        due: Option<&'a Json>,
        /// More text.
        body: Option<&'a str>,
    },
    /// `note "title" "body"` on the run's record.
    Note {
        /// The note's title.
        title: &'a str,
        /// Its text.
        body: Option<&'a str>,
    },
    /// `add to list` / `remove from list`, for the run's record.
    List {
        /// The list's name.
        list: &'a str,
        /// Added; else removed.
        added: bool,
    },
    /// `http METHOD "url" …`.
    Http {
        /// `GET`, `POST`, …
        method: &'a str,
        /// The URL, holes after the host percent-encoded.
        url: &'a str,
        /// Headers, if any.
        headers: Option<&'a Map<String, Json>>,
        /// The body, if any.
        body: Option<&'a Json>,
    },
    /// `ask member "question"`: an approval request (answered later with
    /// `Engine::resume`, so a host defers it).
    Ask {
        /// Who is asked.
        member: &'a str,
        /// The question.
        question: &'a str,
    },
    /// `find object where …`, asked of the host with
    /// [`crate::engine::Builder::host_reads`]. The host answers
    /// `Outcome::Done({"records": [{"id": "…", "values": {…}}, …]})` with the
    /// object's records, values as in an event's `record`. `equals` narrows the query
    /// (a conjunct `attribute = value` of the filter); the engine tests the whole
    /// filter on every record returned, so a host may return more than matches — but
    /// not fewer.
    Find {
        /// The object searched.
        object: &'a str,
        /// Attribute values every match has, if the filter names one.
        equals: Option<&'a Map<String, Json>>,
    },
    /// The records of a schedule `for object [where …]` at an occurrence, asked of
    /// the host with [`crate::engine::Builder::host_reads`]. Answered as
    /// [`Request::Find`] is; the engine applies the `where` filter and starts one run
    /// per record that passes it.
    Scan {
        /// The object.
        object: &'a str,
    },
    /// A custom action declared with `action name(…)`.
    Custom {
        /// Its declared name.
        name: &'a str,
        /// Its arguments, typed as declared.
        args: &'a Map<String, Json>,
    },
}

/// An email's recipients (`email owner …` or `email [owner, "finance@acme.com"] …`);
/// shown joined with `, `.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recipients<'a>(&'a Json);

impl<'a> Recipients<'a> {
    /// Each address, empty ones left out.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> {
        let all: &'a [Json] = match self.0 {
            Json::Array(items) => items,
            one => std::slice::from_ref(one),
        };
        all.iter()
            .filter_map(Json::as_str)
            .filter(|a| !a.is_empty())
    }
}

impl std::fmt::Display for Recipients<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, address) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(address)?;
        }
        Ok(())
    }
}

impl Effect {
    /// What this effect asks for, typed.
    pub fn request(&self) -> Request<'_> {
        let text = |name: &str| self.text(name);
        let map = |name: &str| self.args.get(name).and_then(Json::as_object);
        let empty = "";
        match self.action.as_str() {
            "slack" => match text("member") {
                Some(member) => Request::SlackDm {
                    member,
                    text: text("text").unwrap_or(empty),
                },
                None => Request::Slack {
                    channel: text("channel").unwrap_or(empty),
                    text: text("text").unwrap_or(empty),
                },
            },
            "email" => Request::Email {
                to: Recipients(self.args.get("to").unwrap_or(&Json::Null)),
                subject: text("subject"),
                body: text("body"),
                template: text("template"),
            },
            "set" | "clear" => Request::Set {
                object: text("object").unwrap_or(empty),
                record: text("record").unwrap_or(empty),
                attribute: text("attribute").unwrap_or(empty),
                value: self.args.get("value").unwrap_or(&Json::Null),
            },
            "create" => match map("fields") {
                Some(fields) => Request::Create {
                    object: text("object").unwrap_or(empty),
                    fields,
                },
                None => self.custom(),
            },
            "upsert" => match map("fields") {
                Some(fields) => Request::Upsert {
                    object: text("object").unwrap_or(empty),
                    by: text("by").unwrap_or(empty),
                    fields,
                    id: text("id"),
                },
                None => self.custom(),
            },
            "create_task" => Request::Task {
                title: text("title").unwrap_or(empty),
                assignee: text("assignee"),
                due: self.args.get("due"),
                body: text("body"),
            },
            "note" => Request::Note {
                title: text("title").unwrap_or(empty),
                body: text("body"),
            },
            "add_to_list" | "remove_from_list" => Request::List {
                list: text("list").unwrap_or(empty),
                added: self.action == "add_to_list",
            },
            "http" => Request::Http {
                method: text("method").unwrap_or("GET"),
                url: text("url").unwrap_or(empty),
                headers: map("headers"),
                body: self.args.get("body"),
            },
            "ask" => Request::Ask {
                member: text("member").unwrap_or(empty),
                question: text("question").unwrap_or(empty),
            },
            "find" => Request::Find {
                object: text("object").unwrap_or(empty),
                equals: map("equals"),
            },
            "scan" => Request::Scan {
                object: text("object").unwrap_or(empty),
            },
            _ => self.custom(),
        }
    }

    fn custom(&self) -> Request<'_> {
        Request::Custom {
            name: &self.action,
            args: &self.args,
        }
    }
}
