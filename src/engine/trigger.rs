//! When a record change fires a trigger: one judgement for the engine's intake and
//! for [`super::Engine::evaluate`] ("would this fire?"), so the two cannot disagree.

use super::compile::When;
use super::eval::{self, Node};
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
#[inline]
pub(super) fn fires_on_change<E>(
    when: &When,
    (old, new): (Option<&Record>, Option<&Record>),
    changed: impl Fn(u16) -> bool,
    any: impl FnOnce() -> bool,
    matched: impl FnOnce(&Node) -> Result<(bool, bool), E>,
) -> Result<Option<bool>, E> {
    Ok(Some(match when {
        When::Created | When::Deleted | When::Merged => true,
        When::Updated => any(),
        When::Changed { slot, from, to } => {
            let (Some(old), Some(new)) = (old, new) else {
                return Ok(Some(false));
            };
            changed(*slot) && accepts(from, old.get(*slot)) && accepts(to, new.get(*slot))
        }
        When::Matches { filter, .. } => {
            let (inside, before) = matched(filter)?;
            inside && !before
        }
        _ => return Ok(None),
    }))
}

/// Whether `value` is one of `values` (no list: any value).
#[inline]
fn accepts(values: &Option<Vec<Val>>, value: &Val) -> bool {
    values
        .as_ref()
        .is_none_or(|vs| vs.iter().any(|x| eval::equal(x, value)))
}
