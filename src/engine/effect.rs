//! Effects and the handlers a host registers for them (engine.md, Effects).
//!
//! Every action reaches the outside world through a handler: the engine computes the
//! arguments and an idempotency key, the handler does the work and answers
//! [`Outcome::Done`], [`Outcome::Defer`] or [`Outcome::Error`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

/// One effect for a handler to perform.
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    /// `slack`, `email`, `http`, `set`, `create`, … or a custom action's name.
    pub action: String,
    /// Typed arguments, with secrets resolved (never log these).
    pub args: Map<String, Json>,
    /// The idempotency key: stable across retries and redelivery. Pass it on to APIs
    /// that take one.
    pub key: String,
    /// The rule that caused it.
    pub rule: String,
    /// The rule's version (a hash of its text): which text the run follows.
    pub version: String,
    /// The run that waits for it.
    pub run: String,
    /// The step's position in the rule (`2`, `3.1.0` inside a branch).
    pub step: String,
    /// The record it concerns, when there is one: object and id.
    pub record: Option<(String, String)>,
    /// 1 for the first attempt, more on `retry`.
    pub attempt: u32,
    /// When it was first handed to the outbox (with [`crate::engine::Builder::outbox`];
    /// `None` inline): what a host reconciling an attempt that may have happened
    /// (after a crash, or a timeout) looks for, at the target, since.
    pub queued: Option<chrono::DateTime<chrono::Utc>>,
}

impl Effect {
    /// Which built-in action it is; `None` for a custom action (see `action`).
    pub fn kind(&self) -> Option<ActionKind> {
        ActionKind::of(&self.action)
    }

    /// A text argument.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.args.get(name).and_then(Json::as_str)
    }
}

/// What a handler answers.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// Done; the output is bound by `as` (HTTP response body, created record's id …).
    Done(Json),
    /// Not done yet: the run waits, durably, until the host calls `Engine::resume`.
    Defer,
    /// Failed; `retryable` errors are retried by `retry n`.
    Error {
        /// What went wrong (secrets are scrubbed before it is stored).
        message: String,
        /// Whether trying again may help.
        retryable: bool,
        /// When the target said to try again (a `Retry-After`), in seconds; in the
        /// outbox it replaces the engine's backoff.
        retry_after: Option<u64>,
    },
}

impl Outcome {
    /// Done with no output.
    pub fn done() -> Outcome {
        Outcome::Done(Json::Null)
    }

    /// A retryable error.
    pub fn retry(message: impl Into<String>) -> Outcome {
        Outcome::Error {
            message: message.into(),
            retryable: true,
            retry_after: None,
        }
    }

    /// A retryable error whose target said when to try again (`Retry-After`).
    pub fn retry_after(message: impl Into<String>, seconds: u64) -> Outcome {
        Outcome::Error {
            message: message.into(),
            retryable: true,
            retry_after: Some(seconds),
        }
    }

    /// An error retrying cannot fix.
    pub fn fail(message: impl Into<String>) -> Outcome {
        Outcome::Error {
            message: message.into(),
            retryable: false,
            retry_after: None,
        }
    }
}

/// What the store keeps under an effect's idempotency key, so that meeting the key
/// again — a redelivered event, a restart after a crash, a `key` shared by runs —
/// goes on exactly as the first answer did, without asking the handler again.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Kept {
    /// The handler deferred (an `ask` sent, a job started): the run waits for the
    /// answer; the request is not made twice.
    Deferred,
    /// Done: the output the run bound, and the event the effect caused (a created
    /// record, a note …), which is delivered again so rules that had not yet run on
    /// it still do.
    Done {
        /// The output as bound by `as`.
        output: Json,
        /// The follow-on event, if the effect causes one.
        follow: Option<Json>,
        /// When it was done (seconds), for keys the engine made: retention forgets
        /// them after the window. `None` for an explicit `key`, remembered for good.
        at: Option<i64>,
    },
}

/// The stored form of [`Kept::Done`]: one text, since a store may hold hundreds of
/// thousands of them and a JSON map costs a tree node (over 600 bytes) each.
/// `at` comes first, where retention reads it without parsing the rest
/// ([`super::store::entry_time`]).
#[derive(Serialize, Deserialize)]
struct DoneEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<i64>,
    done: Json,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    follow: Option<Json>,
}

impl Kept {
    /// The stored form.
    pub(super) fn to_json(&self) -> Json {
        match self {
            Kept::Deferred => serde_json::json!({ "deferred": true }),
            Kept::Done { output, follow, at } => {
                let entry = DoneEntry {
                    at: *at,
                    done: output.clone(),
                    follow: follow.clone(),
                };
                // Serializing JSON values cannot fail.
                Json::String(serde_json::to_string(&entry).unwrap_or_default())
            }
        }
    }

    /// Reads a stored entry: the text form, the map form written before it (with the
    /// follow-on event as text), or a bare output (state written before entries had
    /// a shape), which is a done effect with no follow-on event.
    pub(super) fn from_json(value: Json) -> Kept {
        match value {
            Json::String(text) if text.starts_with("{\"done\"") || text.starts_with("{\"at\"") => {
                match serde_json::from_str::<DoneEntry>(&text) {
                    Ok(entry) => Kept::Done {
                        output: entry.done,
                        follow: entry.follow,
                        at: entry.at,
                    },
                    Err(_) => Kept::Done {
                        output: Json::String(text),
                        follow: None,
                        at: None,
                    },
                }
            }
            Json::Object(entry)
                if entry.len() == 1 && entry.get("deferred") == Some(&Json::Bool(true)) =>
            {
                Kept::Deferred
            }
            Json::Object(mut entry)
                if entry.contains_key("done")
                    && entry
                        .keys()
                        .all(|k| k == "done" || k == "follow" || k == "at") =>
            {
                Kept::Done {
                    output: entry.remove("done").unwrap_or(Json::Null),
                    follow: entry.remove("follow").and_then(|f| match f {
                        Json::String(text) => serde_json::from_str(&text).ok(),
                        event => Some(event),
                    }),
                    at: entry.remove("at").and_then(|a| a.as_i64()),
                }
            }
            output => Kept::Done {
                output,
                follow: None,
                at: None,
            },
        }
    }
}

/// A function that performs effects.
pub type HandlerFn = dyn Fn(&Effect) -> Outcome + Send + Sync;

/// The built-in actions a host performs, for [`Handlers::on`]. Custom actions are
/// registered by their declared name with [`Handlers::action`]. New kinds will come
/// with the language, hence `#[non_exhaustive]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ActionKind {
    /// `slack "#channel" …` and `slack dm member …`.
    Slack,
    /// `email to …`.
    Email,
    /// `set attribute = …` on the run's record.
    Set,
    /// `clear attribute`.
    Clear,
    /// `create object { … }`.
    Create,
    /// `upsert object by attribute { … }`.
    Upsert,
    /// `create task …`.
    Task,
    /// `note …`.
    Note,
    /// `add to list "…"`.
    AddToList,
    /// `remove from list "…"`.
    RemoveFromList,
    /// `http …`.
    Http,
    /// `ask member "…"`: an approval (usually answered with [`Outcome::Defer`]).
    Ask,
    /// `find … where …` with [`crate::engine::Builder::host_reads`]: the records the
    /// host reads from the CRM ([`crate::engine::Request::Find`]).
    Find,
    /// A schedule `for <object>` with [`crate::engine::Builder::host_reads`]: the
    /// object's records at an occurrence ([`crate::engine::Request::Scan`]).
    Scan,
}

impl ActionKind {
    /// Every kind, with the action name an [`Effect`] carries for it.
    pub const ALL: [(ActionKind, &'static str); 14] = [
        (ActionKind::Slack, "slack"),
        (ActionKind::Email, "email"),
        (ActionKind::Set, "set"),
        (ActionKind::Clear, "clear"),
        (ActionKind::Create, "create"),
        (ActionKind::Upsert, "upsert"),
        (ActionKind::Task, "create_task"),
        (ActionKind::Note, "note"),
        (ActionKind::AddToList, "add_to_list"),
        (ActionKind::RemoveFromList, "remove_from_list"),
        (ActionKind::Http, "http"),
        (ActionKind::Ask, "ask"),
        (ActionKind::Find, "find"),
        (ActionKind::Scan, "scan"),
    ];

    /// The action name effects of this kind carry (`create_task`).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, n)| n)
    }

    /// The kind of a built-in action's name.
    pub fn of(action: &str) -> Option<ActionKind> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == action)
            .map(|(k, _)| *k)
    }

    /// Whether it writes to the CRM itself (what [`Handlers::records`] handles).
    pub fn writes_records(self) -> bool {
        !matches!(
            self,
            ActionKind::Slack
                | ActionKind::Email
                | ActionKind::Http
                | ActionKind::Ask
                | ActionKind::Find
                | ActionKind::Scan
        )
    }
}

/// What a handler is registered for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Target {
    Builtin(ActionKind),
    Custom(String),
}

/// The handlers a host registers: by kind for built-in actions, by declared name for
/// custom ones.
#[derive(Clone, Default)]
pub struct Handlers {
    by_target: HashMap<Target, Arc<HandlerFn>>,
    records: Option<Arc<HandlerFn>>,
    fallback: Option<Arc<HandlerFn>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self
            .by_target
            .keys()
            .map(|t| match t {
                Target::Builtin(kind) => kind.name(),
                Target::Custom(name) => name,
            })
            .collect();
        names.sort_unstable();
        f.debug_struct("Handlers")
            .field("actions", &names)
            .finish_non_exhaustive()
    }
}

impl Handlers {
    /// No handlers: every effect fails with "no handler".
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// Handles one kind of built-in action.
    pub fn on(
        mut self,
        kind: ActionKind,
        f: impl Fn(&Effect) -> Outcome + Send + Sync + 'static,
    ) -> Handlers {
        self.by_target.insert(Target::Builtin(kind), Arc::new(f));
        self
    }

    /// Handles the custom action declared as `action <name>(…)`.
    pub fn action(
        mut self,
        name: &str,
        f: impl Fn(&Effect) -> Outcome + Send + Sync + 'static,
    ) -> Handlers {
        self.by_target
            .insert(Target::Custom(name.to_string()), Arc::new(f));
        self
    }

    /// Handles the CRM writes ([`ActionKind::writes_records`]) not given their own
    /// handler.
    pub fn records(mut self, f: impl Fn(&Effect) -> Outcome + Send + Sync + 'static) -> Handlers {
        self.records = Some(Arc::new(f));
        self
    }

    /// Handles every action without a handler of its own.
    pub fn otherwise(mut self, f: impl Fn(&Effect) -> Outcome + Send + Sync + 'static) -> Handlers {
        self.fallback = Some(Arc::new(f));
        self
    }

    /// Dry-run handlers: every effect is recorded in `log` and succeeds; `ask`
    /// waits for an answer; `create`/`upsert`/tasks answer with an id from the key.
    pub fn dry_run(log: Arc<Mutex<Vec<Effect>>>) -> Handlers {
        Handlers::new().otherwise(move |effect| {
            if let Ok(mut log) = log.lock() {
                log.push(effect.clone());
            }
            dry_run_answer(effect)
        })
    }

    /// Runs the handler for an effect.
    pub fn call(&self, effect: &Effect) -> Outcome {
        let kind = effect.kind();
        let target = match kind {
            Some(kind) => Target::Builtin(kind),
            None => Target::Custom(effect.action.clone()),
        };
        let handler = self
            .by_target
            .get(&target)
            .or_else(|| {
                kind.filter(|k| k.writes_records())
                    .and(self.records.as_ref())
            })
            .or(self.fallback.as_ref());
        match handler {
            // A panicking handler fails its step, not the engine.
            Some(h) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h(effect)))
                .unwrap_or_else(|_| {
                    Outcome::fail(format!("the `{}` handler panicked", effect.action))
                }),
            None => Outcome::fail(match kind {
                Some(kind) => format!(
                    "no handler is registered for `{}`; register one with Handlers::on(ActionKind::{kind:?}, …)",
                    effect.action
                ),
                None => format!(
                    "no handler is registered for the action `{}`; register one with Handlers::action(\"{}\", …)",
                    effect.action, effect.action
                ),
            }),
        }
    }
}

/// What dry-run handlers answer.
///
/// Nothing leaves the machine. `http` calls answer an empty body, except calls to a
/// host under `.invalid` (a name reserved never to resolve), which fail as a real
/// call would: that is how a test or a replay exercises `retry`, `on error continue`
/// and `rule … failed` triggers.
pub fn dry_run_answer(effect: &Effect) -> Outcome {
    match effect.action.as_str() {
        "http" if effect.text("url").is_some_and(is_invalid_host) => {
            Outcome::retry("could not resolve the host (a `.invalid` host never resolves)")
        }
        "ask" => Outcome::Defer,
        // An upsert the engine matched to a known record updates that record.
        "upsert" if effect.text("id").is_some() => {
            Outcome::Done(serde_json::json!({ "id": effect.text("id") }))
        }
        "create" | "upsert" | "create_task" => {
            let short: String = effect.key.chars().take(12).collect();
            Outcome::Done(serde_json::json!({ "id": format!("dry-{short}") }))
        }
        "http" => Outcome::Done(Json::Object(Map::new())),
        _ => Outcome::done(),
    }
}

fn is_invalid_host(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("").trim_end_matches('.');
    host == "invalid" || host.ends_with(".invalid")
}

/// The idempotency key of an effect: (rule, version, event, step path, loop index).
pub fn idempotency_key(rule: &str, version: &str, event: &str, step: &str, index: u32) -> String {
    let mut h = Sha256::new();
    for part in [rule, version, event, step] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.update(index.to_le_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(32);
    for byte in &digest[..16] {
        use std::fmt::Write;
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Appends `text` (a value from data) to the Slack message `out` so that it cannot
/// ping `<!channel>`, mention someone or forge a link, whatever the rule's own text
/// around it: `&`, `<`, `>` are escaped; a value right after a literal `<` that would
/// start a control sequence (`!`, `@`, `#`) turns that `<` into text; and inside a
/// link's URL (`<https://…{{x}}|label>`) a `|` cannot move the label.
pub fn slack_escape(text: &str, out: &mut String) {
    let open = match (out.rfind('<'), out.rfind('>')) {
        (Some(lt), Some(gt)) if gt > lt => None,
        (lt, _) => lt,
    };
    if let Some(lt) = open {
        if lt + 1 == out.len() && text.starts_with(['!', '@', '#']) {
            out.truncate(lt);
            out.push_str("&lt;");
        }
    }
    let in_url = out
        .rfind('<')
        .is_some_and(|lt| open == Some(lt) && !out[lt..].contains('|'));
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' if in_url => out.push_str("%7C"),
            c => out.push(c),
        }
    }
}

/// Appends `text` (a value from data) to the URL `out`: in the path, query and
/// fragment every byte but the unreserved ones is percent-encoded, so a value cannot
/// climb to another path (`../../admin`) or add a query (`?delete=1`). A value that is
/// the scheme or host itself (`{{payload.url}}`) is left as it is; the host allow-list
/// judges it.
pub fn url_escape(text: &str, out: &mut String) {
    let after_authority = out
        .find("://")
        .is_some_and(|i| out[i + 3..].contains(['/', '?', '#']));
    if !after_authority {
        out.push_str(text);
        return;
    }
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            other => {
                use std::fmt::Write;
                let _ = write!(out, "%{other:02X}");
            }
        }
    }
}

/// An effect as run records show it: secrets redacted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EffectRecord {
    /// The action.
    pub action: String,
    /// Arguments, secrets shown as `***`.
    pub args: Map<String, Json>,
    /// The idempotency key.
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effect(action: &str) -> Effect {
        Effect {
            action: action.into(),
            args: Map::new(),
            key: "k".into(),
            rule: "r".into(),
            version: "v".into(),
            run: "run".into(),
            step: "0".into(),
            record: None,
            attempt: 1,
            queued: None,
        }
    }

    #[test]
    fn built_in_actions_are_handled_by_kind_and_custom_ones_by_name() {
        for (kind, name) in ActionKind::ALL {
            assert_eq!(ActionKind::of(name), Some(kind));
            assert_eq!(kind.name(), name);
        }
        let handlers = Handlers::new()
            .on(ActionKind::Slack, |_| Outcome::Done(Json::from("posted")))
            .action("slack", |_| Outcome::Done(Json::from("the custom one")))
            .action("pagerduty", |_| Outcome::Done(Json::from("paged")))
            .records(|_| Outcome::Done(Json::from("written")));
        assert_eq!(
            handlers.call(&effect("slack")),
            Outcome::Done(Json::from("posted"))
        );
        assert_eq!(
            handlers.call(&effect("pagerduty")),
            Outcome::Done(Json::from("paged"))
        );
        assert_eq!(
            handlers.call(&effect("create_task")),
            Outcome::Done(Json::from("written"))
        );
        let Outcome::Error { message, .. } = handlers.call(&effect("http")) else {
            panic!("an unhandled http call must fail");
        };
        assert!(
            message.contains("Handlers::on(ActionKind::Http"),
            "{message}"
        );
        let Outcome::Error { message, .. } = handlers.call(&effect("provision")) else {
            panic!("an unhandled custom action must fail");
        };
        assert!(
            message.contains("Handlers::action(\"provision\""),
            "{message}"
        );
    }

    #[test]
    fn keys_differ_by_every_part_and_are_stable() {
        let k = idempotency_key("r", "v1", "e1", "0", 0);
        assert_eq!(k, idempotency_key("r", "v1", "e1", "0", 0));
        assert_eq!(k.len(), 32);
        for other in [
            idempotency_key("r2", "v1", "e1", "0", 0),
            idempotency_key("r", "v2", "e1", "0", 0),
            idempotency_key("r", "v1", "e2", "0", 0),
            idempotency_key("r", "v1", "e1", "1", 0),
            idempotency_key("r", "v1", "e1", "0", 1),
            // Boundaries between parts matter: ("ab","c") is not ("a","bc").
            idempotency_key("rv", "1", "e1", "0", 0),
        ] {
            assert_ne!(k, other);
        }
    }

    #[test]
    fn slack_markup_in_data_is_escaped() {
        let mut out = String::new();
        slack_escape("<!channel> & <http://x|y>", &mut out);
        assert_eq!(out, "&lt;!channel&gt; &amp; &lt;http://x|y&gt;");
    }

    #[test]
    fn url_holes_are_encoded_past_the_host() {
        let mut out = String::from("https://api.example.com/companies/");
        url_escape("../../admin?delete=1#", &mut out);
        assert_eq!(
            out,
            "https://api.example.com/companies/..%2F..%2Fadmin%3Fdelete%3D1%23"
        );
        let mut out = String::new();
        url_escape("https://hooks.example.com/x", &mut out);
        assert_eq!(
            out, "https://hooks.example.com/x",
            "a whole URL is the host's to judge"
        );
    }

    #[test]
    fn a_value_cannot_finish_the_rules_own_markup() {
        // `<{{name}}>` with name = "!channel" must not ping the channel.
        let mut out = String::from("Hi <");
        slack_escape("!channel", &mut out);
        out.push('>');
        assert_eq!(out, "Hi &lt;!channel>");
        // A `|` in a URL hole cannot change the link's label.
        let mut out = String::from("<https://crm.example.com/");
        slack_escape("x|Click me", &mut out);
        out.push_str("|Acme>");
        assert_eq!(out, "<https://crm.example.com/x%7CClick me|Acme>");
        // After the label starts, `|` is text.
        let mut out = String::from("<https://x|");
        slack_escape("a|b", &mut out);
        assert_eq!(out, "<https://x|a|b");
    }

    #[test]
    fn a_kept_effect_reads_back_as_written_in_every_stored_form() {
        let kept = Kept::Done {
            output: serde_json::json!({"id": "c-1"}),
            follow: Some(serde_json::json!({"id": "e1>r", "type": "record.created"})),
            at: Some(1_772_445_600),
        };
        let stored = kept.to_json();
        assert!(stored.is_string(), "one text, not a map: {stored}");
        assert_eq!(
            super::super::store::entry_time(&stored),
            Some(1_772_445_600)
        );
        assert_eq!(Kept::from_json(stored), kept);
        let forever = Kept::Done {
            output: Json::Null,
            follow: None,
            at: None,
        };
        assert_eq!(super::super::store::entry_time(&forever.to_json()), None);
        assert_eq!(Kept::from_json(forever.to_json()), forever);
        // The map form written before, with the follow-on event as text.
        let map = serde_json::json!({"done": {"id": "c-1"}, "at": 1_772_445_600,
            "follow": "{\"id\":\"e1>r\",\"type\":\"record.created\"}"});
        assert_eq!(Kept::from_json(map), kept);
        // A bare output, older still; a string that is not an entry stays an output.
        assert_eq!(
            Kept::from_json(Json::String("{\"done\" is not JSON".into())),
            Kept::Done {
                output: Json::String("{\"done\" is not JSON".into()),
                follow: None,
                at: None
            }
        );
        assert_eq!(Kept::from_json(Kept::Deferred.to_json()), Kept::Deferred);
    }

    #[test]
    fn missing_handlers_and_panics_fail_the_step() {
        let effect = effect("slack");
        assert!(matches!(
            Handlers::new().call(&effect),
            Outcome::Error {
                retryable: false,
                ..
            }
        ));
        let panicky = Handlers::new().on(ActionKind::Slack, |_| panic!("boom"));
        assert!(matches!(panicky.call(&effect), Outcome::Error { .. }));
    }
}
