//! Order-preserving parallel map over independent work (items, rules).
//!
//! Plain scoped threads: each takes a contiguous slice, results are concatenated in
//! input order, so output never depends on scheduling. Small inputs stay on the
//! calling thread, where a thread start would cost more than it saves.

/// Below this many elements the work runs on the calling thread.
pub(crate) const MIN_PARALLEL: usize = 256;

/// `items.iter().map(f).collect()`, spread over the available cores.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let mut parts = map_parts(items, f);
    if parts.len() == 1 {
        return parts.pop().unwrap_or_default();
    }
    let mut out = Vec::with_capacity(items.len());
    for part in parts {
        out.extend(part);
    }
    out
}

/// [`map`]'s results as the consecutive runs the threads produced, for a caller that
/// only iterates them (`.into_iter().flatten()`): results of a large file are
/// megabytes, and concatenating them would copy every one once more.
pub fn map_parts<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<Vec<R>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads < 2 || items.len() < MIN_PARALLEL {
        return vec![items.iter().map(f).collect()];
    }
    let per_thread = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per_thread)
            .map(|slice| scope.spawn(move || slice.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .map(|handle| match handle.join() {
                Ok(part) => part,
                // A panic in `f` is a bug; surface it on the calling thread.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order() {
        let items: Vec<u32> = (0..10_000).collect();
        let doubled = super::map(&items, |x| x * 2);
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        let parts = super::map_parts(&items, |x| x * 2);
        assert_eq!(parts.concat(), doubled);
    }
}
