//! Run records (the run history admins read) and the durable state of unfinished runs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::effect::EffectRecord;
use super::value::Val;

/// How a run ended (or where it stands).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RunStatus {
    /// Every step ran (or `stop`).
    Completed,
    /// The condition was false, or `skip`.
    Skipped,
    /// A step failed.
    Failed,
    /// Suspended: `wait`, `ask`, or a handler's `defer`.
    Waiting,
    /// Not run: `rate-limit`, `duplicate` or `inactive`.
    Suppressed,
}

impl RunStatus {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Completed => "completed",
            RunStatus::Skipped => "skipped",
            RunStatus::Failed => "failed",
            RunStatus::Waiting => "waiting",
            RunStatus::Suppressed => "suppressed",
        }
    }
}

/// What happened at one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StepStatus {
    /// The effect was done.
    Done,
    /// The effect had been done before (same idempotency key): not repeated.
    AlreadyDone,
    /// A write that would not change the value, or `if empty` on a set attribute.
    Unchanged,
    /// The run waits here.
    Waiting,
    /// The step failed and failed the run.
    Failed,
    /// The step failed; `on error continue` let the run go on.
    Continued,
    /// A branch was taken (or none).
    Branched,
    /// `stop`.
    Stopped,
    /// `skip`.
    Skipped,
}

impl StepStatus {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Done => "done",
            StepStatus::AlreadyDone => "already_done",
            StepStatus::Unchanged => "unchanged",
            StepStatus::Waiting => "waiting",
            StepStatus::Failed => "failed",
            StepStatus::Continued => "continued",
            StepStatus::Branched => "branched",
            StepStatus::Stopped => "stopped",
            StepStatus::Skipped => "skipped",
        }
    }
}

/// One line of a run's log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepLog {
    /// The step's path in the rule (`0`, `2.then.1`).
    pub path: String,
    /// 1-based line of the step in its file.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What the step is (`slack`, `set`, `wait`, `if`).
    pub action: String,
    /// What happened.
    pub status: StepStatus,
    /// The step's inputs (secrets redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Json>,
    /// Its output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Json>,
    /// Its error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Handler calls made (more than 1 after retries).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    /// Time spent, in microseconds.
    pub duration_us: u64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One run of one rule: the JSON contract of `rulec run --format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The rule's id.
    pub rule: String,
    /// The rule's version hash.
    pub version: String,
    /// The event that started it (`schedule@…` for schedules).
    pub event: String,
    /// The record's object.
    pub object: Option<String>,
    /// The record's id.
    pub record: Option<String>,
    /// The outcome.
    pub status: RunStatus,
    /// Why it was skipped, failed, is waiting or was suppressed.
    pub reason: Option<String>,
    /// The effects it caused, in order (secrets redacted).
    pub effects: Vec<EffectRecord>,
    /// Every step that ran.
    pub steps: Vec<StepLog>,
    /// The run's id (for `Engine::resume`).
    pub run: String,
    /// When the run was last advanced.
    pub at: DateTime<Utc>,
    /// How many rule writes led to the event (0 for outside events).
    pub depth: u32,
}

/// What an unfinished run waits for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Waiting {
    /// `wait`: a time.
    Time {
        /// When to go on.
        until: DateTime<Utc>,
    },
    /// A handler's `defer` or an `ask`: `Engine::resume`, or the timeout.
    Answer {
        /// The waiting step's effect key.
        key: String,
        /// Binding index for the answer.
        binding: Option<u16>,
        /// `ask … timeout`: when to go on without an answer.
        timeout: Option<DateTime<Utc>>,
        /// The step's log index, to complete on resume.
        log: usize,
    },
    /// An effect in the outbox ([`super::Builder::outbox`]): the host performs it and
    /// answers with `Engine::complete`; a retry waits for its due time.
    Effect {
        /// The effect's idempotency key, which is also its id in the outbox.
        key: String,
        /// Binding index for the effect's output.
        binding: Option<u16>,
        /// When a retry is due (`None`: waiting for the host's answer).
        due: Option<DateTime<Utc>>,
        /// The step's log index, replaced when the step runs again.
        log: usize,
    },
}

/// An unfinished run, stored in [`super::store::Space::Runs`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The record so far.
    pub record: RunRecord,
    /// The event as it arrived (absent for schedules).
    pub event: Option<Json>,
    /// `failure.` of a meta-rule.
    pub failure: Option<Json>,
    /// `as` bindings.
    pub bindings: Vec<Val>,
    /// Where to go on: the next step's position (indices, with branch arms).
    pub(crate) pc: Vec<u32>,
    /// What it waits for.
    pub waiting: Waiting,
    /// Rules whose writes led here.
    pub chain: Vec<String>,
    /// The zone-less reference time of a schedule run.
    pub occurrence: Option<DateTime<Utc>>,
    /// The record (and its values before the event) as the run saw them, kept while
    /// it waits for an outbox effect: it goes on with what it had, as it would have
    /// with an inline answer. After a `wait` or an `ask` the record is read afresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<(Vec<Val>, Option<Vec<Val>>)>,
    /// Records its `find` steps read through the host, read again by later steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) read: Vec<super::exec::Found>,
    /// A schedule's scan run (its one step is the rule's scan, not its steps).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) scan: bool,
}

impl RunState {
    /// When the run is due without outside help.
    pub fn due(&self) -> Option<DateTime<Utc>> {
        match &self.waiting {
            Waiting::Time { until } => Some(*until),
            Waiting::Answer { timeout, .. } => *timeout,
            Waiting::Effect { due, .. } => *due,
        }
    }
}
