//! Which event a step causes when it is performed: one answer for the engine, which
//! delivers that event to the rules (engine.md, "Follow-on events"), and for the
//! `rule-cycle` lint, which follows the same edges statically. If the two asked
//! different questions, a loop the engine runs into could pass the lint.

use super::Action;

/// The event a performed action causes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    /// `record.updated` of the rule's record, with the attribute written (`set`,
    /// `clear`; the engine sends one event for all of a run's writes).
    Updated,
    /// `record.created` of a new record, each field a change from empty; an upsert
    /// that finds its record causes `record.updated` of the fields instead.
    Created,
    /// `note.created` on the rule's record.
    Note,
    /// `task.created` on the rule's record.
    Task,
    /// `list-entry.created` (added) or `list-entry.deleted` of the rule's record.
    ListEntry {
        /// Added, else removed.
        added: bool,
    },
}

impl Follow {
    /// The event's type on the wire; `created` says whether a `create` or `upsert`
    /// made a new record.
    pub fn event_type(self, created: bool) -> &'static str {
        match self {
            Follow::Updated => "record.updated",
            Follow::Created if created => "record.created",
            Follow::Created => "record.updated",
            Follow::Note => "note.created",
            Follow::Task => "task.created",
            Follow::ListEntry { added: true } => "list-entry.created",
            Follow::ListEntry { added: false } => "list-entry.deleted",
        }
    }
}

/// The event `action` causes when performed; `None` for actions that cause none
/// (messages, HTTP, waits, custom actions) and for `if`/`route`, whose own steps do.
pub fn follow(action: &Action) -> Option<Follow> {
    Some(match action {
        Action::Set { .. } | Action::Clear { .. } => Follow::Updated,
        Action::Create { .. } | Action::Upsert { .. } => Follow::Created,
        Action::Note { .. } => Follow::Note,
        Action::CreateTask { .. } => Follow::Task,
        Action::AddToList { .. } => Follow::ListEntry { added: true },
        Action::RemoveFromList { .. } => Follow::ListEntry { added: false },
        // Listed one by one, so a new action must say whether it causes an event.
        Action::SlackChannel { .. }
        | Action::SlackDm { .. }
        | Action::Email { .. }
        | Action::Find { .. }
        | Action::Http { .. }
        | Action::WaitFor { .. }
        | Action::WaitUntil { .. }
        | Action::Ask { .. }
        | Action::If { .. }
        | Action::ForEach { .. }
        | Action::Route { .. }
        | Action::Stop
        | Action::Skip { .. }
        | Action::Custom { .. } => return None,
    })
}
