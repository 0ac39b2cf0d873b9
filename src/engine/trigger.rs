//! When a record change fires a trigger: one judgement for the engine's intake and
//! for [`super::Engine::evaluate`] ("would this fire?"), so the two cannot disagree.

use super::compile::When;
use super::condition::Condition;
use super::eval;
use super::record::Record;
use super::value::Val;

/// Whether `when` fires for a record going from `old` to `new`: `Some(answer)` for
/// the triggers a record change decides, `None` for the others (lists, activities,
/// webhooks, schedules, failures), which the caller judges from its event.
/// `changed(slot)` says whether an attribute changed and `any()` whether any did (each
/// caller knows that its own way: the event's diff, two records). A `matches`
/// trigger fires on the edge into its filter; `matched` answers whether the record is
/// inside it now and whether it was before (from the event's `old` or the engine's
/// stored memory of the record). Generic, so it compiles into each caller's hot path.
#[inline(always)]
pub(super) fn fires_on_change<E>(
    when: &When,
    (old, new): (Option<&Record>, Option<&Record>),
    changed: impl Fn(u16) -> bool,
    any: impl FnOnce() -> bool,
    matched: impl FnOnce(&Condition) -> Result<(bool, bool), E>,
) -> Result<Option<bool>, E> {
    Ok(Some(match when {
        When::Created | When::Deleted | When::Merged => true,
        When::Updated => any(),
        When::Changed { slot, from, to } => {
            let (Some(old), Some(new)) = (old, new) else {
                return Ok(Some(false));
            };
            changed(*slot) && from.accepts(old.get(*slot)) && to.accepts(new.get(*slot))
        }
        When::Matches { filter, .. } => {
            let (inside, before) = matched(filter)?;
            inside && !before
        }
        _ => return Ok(None),
    }))
}

/// The values a `changed from … to …` accepts, with the common single option apart.
#[derive(Debug)]
pub(super) enum Accept {
    /// No list: any value.
    Any,
    /// One option (`from Open`).
    Option(u32),
    /// Any of these.
    Values(Box<[Val]>),
}

impl Accept {
    /// From the trigger's list (`None`: any value).
    pub(super) fn new(values: Option<Vec<Val>>) -> Accept {
        match values.as_deref() {
            None => Accept::Any,
            Some([Val::Option(o)]) => Accept::Option(*o),
            Some(_) => Accept::Values(values.unwrap_or_default().into()),
        }
    }

    /// Whether `value` is accepted: equal, as [`eval::equal`] has it, to one of them.
    #[inline(always)]
    pub(super) fn accepts(&self, value: &Val) -> bool {
        match self {
            Accept::Any => true,
            // What `equal` answers for an option and anything else.
            Accept::Option(o) => match value {
                Val::Option(x) => x == o,
                Val::Options(xs) => xs.len() == 1 && xs[0] == *o,
                _ => false,
            },
            Accept::Values(values) => values.iter().any(|x| eval::equal(x, value)),
        }
    }
}

/// `a != b`, answering two options or two numbers (what `changed` triggers mostly
/// watch) without the derived comparison's dispatch on every variant.
#[inline]
pub(super) fn differs(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Option(x), Val::Option(y)) => x != y,
        (Val::Number(x), Val::Number(y)) => x != y,
        _ => a != b,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;

    fn value() -> impl Strategy<Value = Val> {
        prop_oneof![
            Just(Val::Empty),
            (0..3u32).prop_map(Val::Option),
            proptest::collection::vec(0..3u32, 0..3).prop_map(|o| Val::Options(o.into())),
            (0..3u32).prop_map(|n| Val::Number(n.into())),
            Just(Val::text("Open")),
            Just(Val::Json(Arc::new(serde_json::json!("Open")))),
        ]
    }

    proptest! {
        /// A trigger's list accepts what `equal` finds in it, the single-option fast
        /// path included.
        #[test]
        fn accept_is_equality_with_one_of_the_values(
            values in proptest::option::of(proptest::collection::vec(value(), 0..3)),
            v in value(),
        ) {
            let expected = values.as_ref().is_none_or(|vs| vs.iter().any(|x| eval::equal(x, &v)));
            prop_assert_eq!(Accept::new(values).accepts(&v), expected);
        }

        #[test]
        fn differs_is_inequality(a in value(), b in value()) {
            prop_assert_eq!(differs(&a, &b), a != b);
        }
    }
}
