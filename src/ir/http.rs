//! The `[http] allow` list of `rulec.toml`: which hosts `http` steps may call.
//!
//! The list travels in the [`Program`](super::Program), so wherever the program runs
//! it carries its policy. The lint `http-host-not-allowed` judges each URL as written;
//! the engine judges it again as rendered, since a `{{ }}` hole may put any host in it.
//! Both read hosts with the functions here, so they cannot disagree.

/// Where the authority of `rest` (a URL after `scheme://`) ends: at `/`, `?` or `#`,
/// and at `\`, which URL parsers read as `/` in http(s) URLs — so
/// `https://evil.com\@api.stripe.com` goes to `evil.com`.
pub fn authority_end(rest: &str) -> Option<usize> {
    rest.find(['/', '\\', '?', '#'])
}

/// The host of an authority (`user:pw@host:port`, `[::1]:8080`), lowercased, without
/// a trailing dot. Empty when there is none (`https:///evil.com`): some clients would
/// skip the empty part and call what follows, so an empty host is never allowed.
pub fn authority_host(authority: &str) -> String {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or(v6, |(h, _)| h),
        None => host_port.split_once(':').map_or(host_port, |(h, _)| h),
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The host an `http(s)` URL calls, read as URL parsers read it: tabs and line breaks
/// anywhere are dropped and spaces and control characters at the ends trimmed, as
/// they do. `None` when the text is not an `http://` or `https://` URL (`https:evil.com`
/// and `ftp://…` included), so nothing can hide its host behind an odd spelling.
pub fn http_host(url: &str) -> Option<String> {
    let url: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let (scheme, rest) = url.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
        return None;
    }
    let authority = authority_end(rest).map_or(rest, |end| rest.get(..end).unwrap_or(rest));
    Some(authority_host(authority))
}

/// Whether `host` (as [`authority_host`] reads it) is on the list: an entry matches the
/// host exactly, ignoring case; `*.example.com` matches every host ending in
/// `.example.com` (not `example.com` itself).
pub fn allowed(host: &str, allow: &[String]) -> bool {
    !host.is_empty()
        && allow.iter().any(|entry| {
            let entry = entry
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim_end_matches('.')
                .to_ascii_lowercase();
            match entry.strip_prefix("*.") {
                Some(domain) => host
                    .strip_suffix(domain)
                    .and_then(|sub| sub.strip_suffix('.'))
                    .is_some_and(|sub| !sub.is_empty()),
                None => host == entry,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn hosts_are_read_as_url_parsers_read_them() {
        let host = |url| http_host(url).unwrap_or_else(|| "(none)".into());
        assert_eq!(
            host("https://user:pw@API.Stripe.com.:443/x"),
            "api.stripe.com"
        );
        assert_eq!(host("https://evil.com\\@api.stripe.com/"), "evil.com");
        assert_eq!(host("https://[::1]:8080/x"), "::1");
        assert_eq!(host(" https://api.stri\npe.com/x "), "api.stripe.com");
        assert_eq!(host("https:///evil.com"), "");
        // Not an http(s) URL: no host to trust, even with one further on.
        assert_eq!(
            host("https:evil.com/?next=https://api.stripe.com/"),
            "(none)"
        );
        assert_eq!(host("ftp://api.stripe.com/"), "(none)");
        assert_eq!(host("evil.com"), "(none)");
    }

    #[test]
    fn entries_match_exactly_or_by_a_wildcard_subdomain() {
        let allow = list(&["api.stripe.com", "*.example.com"]);
        assert!(allowed("api.stripe.com", &allow));
        assert!(allowed("hooks.example.com", &allow));
        assert!(!allowed("example.com", &allow));
        assert!(!allowed("evilexample.com", &allow));
        assert!(!allowed("api.stripe.com.evil.com", &allow));
        assert!(!allowed("", &list(&[""])));
    }
}
