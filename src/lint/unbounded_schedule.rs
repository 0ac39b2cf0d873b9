//! `unbounded-schedule`: a schedule that notifies people more often than hourly.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::ir;
use crate::syntax::ast::{Step, StepKind, TriggerClause};

pub(super) const LINT: Lint = Lint {
    name: "unbounded-schedule",
    default: Level::Warning,
    summary: "a schedule that runs more often than hourly and notifies people",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# unbounded-schedule

## What it does
Flags a scheduled rule that runs more often than once an hour and whose steps — in
`if` and `route` branches too — notify people: `slack` (a channel or a DM), `email`,
`create task` or `ask`.

"More often than once an hour" means `every <n> minutes` (or seconds) below one hour,
or a cron expression whose minute field is anything but a single number (`*`, `*/15`,
`0,30`, `0-30`). A rule with `limit 1 per hour` (or a longer window) is left alone:
it cannot run more than once an hour.

## Why is this bad?
A schedule is for digests and audits ("every Monday at 9 AM, post the pipeline
summary"). Every 5 minutes is 288 runs a day, and with `for <object>` each run
messages every matching record's owner again. The channel becomes unreadable, reps
mute it, and the one message that mattered is lost in the noise — the same failure as
a rule that fires on every stage change.

## Example
```rules
rule stuck_deals
  owner "revops@acme.com"
  description "Nudges owners of quiet open deals"
  every 15 minutes
  for deals where stage = Open and last_activity before 14 days ago and owner is set
  do
    slack dm owner "{{name}} has had no activity for 14 days"
```

## Use instead
Nudge once a day:

```rules
rule stuck_deals
  owner "revops@acme.com"
  description "Nudges owners of quiet open deals, once each weekday morning"
  every weekday at 09:00 in "America/New_York"
  for deals where stage = Open and last_activity before 14 days ago and owner is set
  do
    slack dm owner "{{name}} has had no activity for 14 days"
```

## Fix
Run the rule daily (`every weekday at 09:00`) or at most hourly (`every 1 hour`), and
send one digest rather than one message per tick. If the rule must look often but
speak rarely, let the frequent rule write an attribute (`set`) and a daily rule report
on it. There is no automatic fix: the right rhythm is a team decision.

## When to allow
When the people notified really need minute-level news and expect it, for example an
on-call channel fed by a rule whose filter matches rarely:
`allow unbounded-schedule "on-call channel, matches a few times a month"`.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let (TriggerClause::Every(every), ir::Trigger::Schedule(schedule)) =
        (&cx.ast.trigger, &cx.ir.trigger)
    else {
        return;
    };
    let Some(rhythm) = more_than_hourly(&schedule.timing) else {
        return;
    };
    // `limit 1 per hour` (or longer) bounds the runs whatever the schedule says.
    if cx
        .ir
        .limit
        .is_some_and(|l| l.count <= 1 && l.window_seconds >= 3600)
    {
        return;
    }
    let Some((step, what)) = first_notification(&cx.ast.steps) else {
        return;
    };
    let rule = &cx.ir.id;
    out.push(
        Finding::new(
            every.schedule.span,
            format!("rule `{rule}` runs {rhythm} and {what}; schedule it hourly or daily, or send a digest"),
        )
        .help("people mute what pings them several times an hour: use `every day at 09:00` (or `every 1 hour` at most) and send one digest of what matched")
        .related(step.span, "notifies people on each run"),
    );
}

/// How often the timing runs, in words, when that is more often than once an hour.
fn more_than_hourly(timing: &ir::Timing) -> Option<String> {
    match timing {
        ir::Timing::Interval { seconds } if *seconds < 3600 => Some(interval(*seconds)),
        ir::Timing::Cron { expression } => {
            let minute = expression.split_whitespace().next()?;
            // A single minute fires at most once per hour, whatever the other fields.
            let single = minute.bytes().all(|b| b.is_ascii_digit())
                && minute.parse::<u8>().is_ok_and(|m| m <= 59);
            if single {
                None
            } else {
                Some(format!("on `{expression}` (more than once an hour)"))
            }
        }
        _ => None,
    }
}

fn interval(seconds: i64) -> String {
    if seconds % 60 != 0 {
        return format!("every {seconds} seconds");
    }
    match seconds / 60 {
        1 => "every minute".to_string(),
        minutes => format!("every {minutes} minutes"),
    }
}

/// The first step, at any depth, that messages or assigns work to people.
fn first_notification(steps: &[Step]) -> Option<(&Step, &'static str)> {
    for step in steps {
        let found = match &step.kind {
            StepKind::Slack { .. } => Some((step, "posts to Slack")),
            StepKind::Email { .. } => Some((step, "sends email")),
            StepKind::CreateTask { .. } => Some((step, "creates tasks")),
            StepKind::Ask { .. } => Some((step, "asks people for approval")),
            StepKind::ForEach { steps, .. } => first_notification(steps),
            StepKind::If {
                branches,
                otherwise,
            }
            | StepKind::Route {
                arms: branches,
                otherwise,
            } => branches
                .iter()
                .find_map(|b| first_notification(&b.steps))
                .or_else(|| otherwise.as_deref().and_then(first_notification)),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}
