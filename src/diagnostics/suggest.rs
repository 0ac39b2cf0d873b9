//! "Did you mean …" from the names in scope.

/// `did you mean `x`?` for the closest candidate, if one is close enough to be a
/// likely typo (Damerau–Levenshtein distance at most a third of the name, case
/// differences counting as one).
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The closest candidate to `name` within the typo distance.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            let exact_case = strsim::damerau_levenshtein(name, c);
            let folded = strsim::damerau_levenshtein(&lower, &c.to_lowercase())
                + usize::from(exact_case != 0 && lower == c.to_lowercase());
            (exact_case.min(folded.max(1)), c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("Opn", ["Open", "Lead"]), Some("Open"));
        assert_eq!(
            closest("closedwon", ["ClosedWon", "ClosedLost"]),
            Some("ClosedWon")
        );
        assert_eq!(closest("xyz", ["Open", "Lead"]), None);
    }
}
