//! Evaluating one rule against one change, without running anything: for hosts that
//! preview rules ("would this fire?") and for benchmarks of the evaluator itself.

use serde_json::Value as Json;

use super::compile::Compiled;
use super::eval::{NoWorld, Now, Scope, World};
use super::event;
use super::record::Record;
use super::trigger;
use super::{Engine, EngineError};

impl Engine {
    /// The position of rule `id` in the engine, for [`Engine::evaluate`].
    pub fn rule_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// A record of `object` with the given attribute values (JSON as in events),
    /// checked against the schema like an event's.
    pub fn record_from_json(&self, object: &str, values: &Json) -> Result<Record, EngineError> {
        let json = serde_json::json!({
            "id": "probe", "type": "record.updated", "object": object, "record_id": "probe",
            "at": self.clock.now(), "record": values,
        });
        let event = event::parse(json, &self.schema, &self.layouts)?;
        let layout = &self.layouts.objects[event.object.unwrap_or(0) as usize];
        let mut record = layout.empty();
        if let Some(partial) = &event.record {
            for slot in &partial.present {
                record.0[*slot as usize] = partial.values.get(*slot).clone();
            }
        }
        Ok(record)
    }

    /// Whether rule number `rule` would fire for a record changing from `old` to
    /// `new`: its trigger and condition only — no `limit`, duplicate check or
    /// effects. Triggers that need more than a record change (lists, activities,
    /// webhooks, schedules, failures) answer `false`.
    pub fn evaluate(&mut self, rule: usize, old: &Record, new: &Record) -> bool {
        let Some(compiled) = self.rules.get(rule) else {
            return false;
        };
        // Most conditions read only the record: no store access to set up for them,
        // and a lean path for the benchmark of the evaluator itself.
        if compiled.probe_is_local {
            let now = Now::Clock(self.clock.as_ref());
            return judge(compiled, now, old, new, &mut NoWorld);
        }
        self.evaluate_with_world(rule, old, new)
    }

    #[inline(never)]
    fn evaluate_with_world(&mut self, rule: usize, old: &Record, new: &Record) -> bool {
        // The rules are shared, so a rule stays borrowed while the store is lent out.
        let rules = self.rules.clone();
        let clock = self.clock.clone();
        let mut env = self.env();
        judge(&rules[rule], Now::Clock(clock.as_ref()), old, new, &mut env)
    }
}

/// The trigger, then the condition, of `rule` for a change from `old` to `new`.
#[inline(always)]
fn judge(rule: &Compiled, now: Now, old: &Record, new: &Record, world: &mut dyn World) -> bool {
    let changed = |slot: u16| trigger::differs(old.get(slot), new.get(slot));
    let any = || old != new;
    let records = (Some(old), Some(new));
    let current = scope(rule.zone, now, new, Some(old));
    let fired = trigger::fires_on_change(&rule.trigger, records, changed, any, |filter| {
        Ok::<_, std::convert::Infallible>((
            filter.holds(&current, world),
            filter.holds(&scope(rule.zone, now, old, None), world),
        ))
    });
    matches!(fired, Ok(Some(true)))
        && rule
            .condition
            .as_ref()
            .is_none_or(|c| c.holds(&current, world))
}

fn scope<'a>(
    zone: chrono_tz::Tz,
    now: Now<'a>,
    record: &'a Record,
    old: Option<&'a Record>,
) -> Scope<'a> {
    Scope {
        record: Some(record),
        // Probes test conditions on values; `record` alone compares ids, unknown here.
        record_id: None,
        old,
        event: None,
        failure: None,
        candidate: None,
        bindings: &[],
        now,
        zone,
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Engine, ManualClock};
    use crate::workspace::analyze_text;
    use serde_json::json;

    #[test]
    fn evaluate_applies_trigger_and_condition() {
        let rules =
            "when stage changed from Open to ClosedWon and value > 10000 do slack \"#wins\"\n";
        let program = analyze_text("t.rules", rules).program().unwrap();
        let clock = ManualClock::new("2026-03-02T10:00:00Z".parse().unwrap());
        let mut engine = Engine::builder(program).clock(clock).build().unwrap();
        let rule = engine.rule_index(&engine_rule_id(&engine)).unwrap();
        let open = engine
            .record_from_json("deals", &json!({"stage": "Open", "value": 20000}))
            .unwrap();
        let won = engine
            .record_from_json("deals", &json!({"stage": "ClosedWon", "value": 20000}))
            .unwrap();
        let small = engine
            .record_from_json("deals", &json!({"stage": "ClosedWon", "value": 20}))
            .unwrap();
        assert!(engine.evaluate(rule, &open, &won));
        assert!(!engine.evaluate(rule, &won, &won));
        assert!(!engine.evaluate(rule, &open, &small));
        assert!(!engine.evaluate(rule, &won, &open));
    }

    #[test]
    fn conditions_through_references_still_read_the_store() {
        let rules = "when stage changed to ClosedWon and company is set and company.name = \"Acme\" do slack \"#wins\"\n";
        let program = analyze_text("t.rules", rules).program().unwrap();
        let clock = ManualClock::new("2026-03-02T10:00:00Z".parse().unwrap());
        let mut engine = Engine::builder(program).clock(clock).build().unwrap();
        let rule = engine.rule_index(&engine_rule_id(&engine)).unwrap();
        assert!(!engine.rules[rule].probe_is_local);
        engine
            .load_record("companies", "c1", &json!({"name": "Acme"}))
            .unwrap();
        let open = engine
            .record_from_json("deals", &json!({"stage": "Open", "company": "c1"}))
            .unwrap();
        let won = engine
            .record_from_json("deals", &json!({"stage": "ClosedWon", "company": "c1"}))
            .unwrap();
        assert!(engine.evaluate(rule, &open, &won));
    }

    fn engine_rule_id(engine: &Engine) -> String {
        engine.rules[0].ir.id.clone()
    }
}
