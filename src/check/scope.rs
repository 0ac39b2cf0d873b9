//! What names mean inside a rule: the record's attributes, `old`, `event`, `payload`,
//! the activity of an activity trigger, `failure`, and `as` bindings.

use std::sync::{Arc, LazyLock};

use crate::schema::{Object, OptionSet, StructType, Type};
use crate::source::Span;

/// Options of `event.source`.
pub(crate) static EVENT_SOURCE: LazyLock<Arc<OptionSet>> = LazyLock::new(|| {
    Arc::new(OptionSet {
        owner: "event.source".to_string(),
        options: ["app", "api", "import", "workflow", "rule"]
            .map(String::from)
            .to_vec(),
    })
});

/// The non-member values of `event.actor`.
pub(crate) const ACTOR_KINDS: &[&str] = &["api", "system", "import"];

fn shape(name: &str, fields: &[(&str, Type)]) -> Arc<StructType> {
    Arc::new(StructType {
        name: name.to_string(),
        fields: fields
            .iter()
            .map(|(n, t)| ((*n).to_string(), t.clone()))
            .collect(),
    })
}

/// `event.*`.
pub(super) static EVENT: LazyLock<Arc<StructType>> = LazyLock::new(|| {
    shape(
        "event",
        &[
            ("id", Type::Text),
            ("actor", Type::Actor),
            ("source", Type::Select(EVENT_SOURCE.clone())),
            ("at", Type::Timestamp),
            ("duplicate", Type::Text),
        ],
    )
});

/// The shape of a task (trigger activity and `create task … as t`).
pub(crate) static TASK: LazyLock<Arc<StructType>> = LazyLock::new(|| {
    shape(
        "task",
        &[
            ("id", Type::Text),
            ("title", Type::Text),
            ("body", Type::Text),
            ("assignee", Type::Member),
            ("due", Type::Timestamp),
            ("completed", Type::Checkbox),
        ],
    )
});

static NOTE: LazyLock<Arc<StructType>> = LazyLock::new(|| {
    shape(
        "note",
        &[
            ("id", Type::Text),
            ("title", Type::Text),
            ("body", Type::Text),
            ("author", Type::Member),
        ],
    )
});

static COMMENT: LazyLock<Arc<StructType>> = LazyLock::new(|| {
    shape(
        "comment",
        &[
            ("id", Type::Text),
            ("body", Type::Text),
            ("author", Type::Member),
        ],
    )
});

static CALL: LazyLock<Arc<StructType>> = LazyLock::new(|| {
    shape(
        "call",
        &[
            ("id", Type::Text),
            ("title", Type::Text),
            ("duration", Type::Duration),
            ("recording_url", Type::Text),
        ],
    )
});

/// `failure.*` in `rule … failed` rules.
pub(crate) static FAILURE: LazyLock<Arc<StructType>> = LazyLock::new(|| {
    shape(
        "failure",
        &[
            ("rule", Type::Text),
            ("error", Type::Text),
            ("step", Type::Text),
            ("count", Type::Number),
        ],
    )
});

/// The answer bound by `ask … as <name>`.
pub(crate) static ANSWER: LazyLock<Arc<StructType>> = LazyLock::new(|| {
    shape(
        "answer",
        &[
            ("approved", Type::Checkbox),
            ("answer", Type::Text),
            ("answered_by", Type::Member),
            ("timed_out", Type::Checkbox),
        ],
    )
});

/// The activity name and shape in scope for an activity trigger.
pub(super) fn activity(
    kind: &crate::syntax::ast::TriggerKind,
) -> Option<(&'static str, Arc<StructType>)> {
    use crate::syntax::ast::TriggerKind as K;
    Some(match kind {
        K::NoteCreated => ("note", NOTE.clone()),
        K::CommentAdded => ("comment", COMMENT.clone()),
        K::TaskCreated | K::TaskCompleted => ("task", TASK.clone()),
        K::CallRecorded => ("call", CALL.clone()),
        _ => return None,
    })
}

/// `entry.` in a rule triggered by a list entry: its id and the list's attributes.
pub(super) fn entry(list: &crate::schema::List) -> Arc<StructType> {
    list.entry_shape()
}

/// A name bound by `as`.
#[derive(Clone, Debug)]
pub(super) struct Binding {
    pub name: String,
    pub ty: Type,
    pub span: Span,
}

/// The names visible at a point in a rule.
#[derive(Clone, Default)]
pub(super) struct Scope<'s> {
    /// The rule's object.
    pub object: Option<&'s Object>,
    /// `old.` is meaningful (event-triggered rules on a record).
    pub has_old: bool,
    /// `payload.` for webhook rules.
    pub payload: Option<Arc<StructType>>,
    /// `note.`/`task.`/… for activity triggers.
    pub activity: Option<(&'static str, Arc<StructType>)>,
    /// `failure.` for meta-rules.
    pub failure: bool,
    /// Inside `find <object> where …`: the searched object's attributes come first.
    pub candidate: Option<&'s Object>,
    /// `as` bindings so far.
    pub bindings: Vec<Binding>,
}

impl<'s> Scope<'s> {
    /// Every name a bare identifier could mean here, for suggestions.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for object in [self.candidate, self.object].into_iter().flatten() {
            names.extend(object.attributes.iter().map(|a| a.name.as_str()));
        }
        names.extend(self.bindings.iter().map(|b| b.name.as_str()));
        names.push("event");
        if self.has_old {
            names.push("old");
        }
        if self.payload.is_some() {
            names.push("payload");
        }
        if let Some((name, _)) = &self.activity {
            names.push(name);
        }
        if self.failure {
            names.push("failure");
        }
        names
    }

    /// The binding called `name`.
    pub fn binding(&self, name: &str) -> Option<&Binding> {
        self.bindings.iter().rev().find(|b| b.name == name)
    }
}
