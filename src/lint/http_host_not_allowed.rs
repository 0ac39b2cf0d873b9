//! `http-host-not-allowed`: an `http` step to a host outside the configured allow-list.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::ir::http;
use crate::syntax::ast::{StepKind, StringLit, StringPart};

pub(super) const LINT: Lint = Lint {
    name: "http-host-not-allowed",
    default: Level::Error,
    summary: "an `http` step calls a host outside the `[http] allow` list of rulec.toml",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# http-host-not-allowed

## What it does
When `rulec.toml` sets an allow-list of hosts,

```toml
[http]
allow = ["api.stripe.com", "*.example.com"]
```

flags every `http` step (in `if` and `route` branches too) whose URL calls a host not
on it. An entry matches the host exactly (ignoring case); an entry `*.example.com`
matches every host ending in `.example.com`. The host is read from the URL's fixed
text: a URL whose host is built from a `{{ }}` hole cannot be checked, and is flagged
too. Without an allow-list this lint does nothing.

The list is part of the checked program (`rulec compile` writes it into the IR), and
the engine enforces it again on every call, on the URL as rendered: a host outside
the list fails the step (`` `evil.com` is not in the `[http] allow` list … ``) and no
request is made. The list is read from the `rulec.toml` of the rule files' project,
wherever `rulec` is run from.

## Why is this bad?
An `http` step can POST anything the rule can read — names, emails, deal values — to
any server, with whatever credentials its headers carry. A typo in a host, a test
endpoint left in, or a copied rule pointing at someone else's server sends customer
data and API tokens outside the company, on every run, without anyone noticing. An
allow-list makes every new destination a reviewed change to `rulec.toml` rather than
a line in a rule.

## Example
With `[http] allow = ["api.stripe.com"]` in `rulec.toml`, this calls a host that is
not on the list:

```rules
rule charge_won
  owner "billing@acme.com"
  description "Creates the invoice for each won deal"
  on deals
  when stage changed to ClosedWon
  do
    http POST "https://api.stripe-billing.net/v1/invoices" headers { Authorization: "Bearer {{secret("STRIPE_KEY")}}" } body { deal: event.id, amount: value } key event.id
```

## Use instead
```rules
rule charge_won
  owner "billing@acme.com"
  description "Creates the invoice for each won deal"
  on deals
  when stage changed to ClosedWon
  do
    http POST "https://api.stripe.com/v1/invoices" headers { Authorization: "Bearer {{secret("STRIPE_KEY")}}" } body { deal: event.id, amount: value } key event.id
```

## Fix
Call a host on the list. If the new host is trusted, add it to `[http] allow` in
`rulec.toml`, where the change is reviewed. If the host comes from a `{{ }}` hole,
write it as fixed text and keep holes for the path and query:
`"https://api.example.com/{{path}}"`. There is no automatic fix.

## When to allow
Almost never: extend the allow-list instead, so every rule sees the same policy. A
rule that must call a host chosen at run time (a customer's own webhook URL stored on
the record) can say why:
`allow http-host-not-allowed "calls each customer's registered webhook"` — the engine
still refuses, at run time, every rendered URL whose host is not on the list.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let Some(allow) = cx.config.http_allow.as_ref() else {
        return;
    };
    let urls = crate::syntax::ast::all_steps(&cx.ast.steps)
        .into_iter()
        .filter_map(|step| match &step.kind {
            StepKind::Http { url, .. } => Some(url),
            _ => None,
        });
    let rule = &cx.ir.id;
    for url in urls {
        match host(url) {
            Host::Fixed(host) if !http::allowed(&host, allow) => {
                let host = if host.is_empty() { "(no host)".to_string() } else { host };
                let listed: Vec<String> = allow.iter().map(|h| format!("`{}`", h.trim())).collect();
                let help = if listed.is_empty() {
                    format!("`[http] allow` in rulec.toml is empty, so no host is allowed; if `{host}` is trusted, add `\"{host}\"` to it")
                } else {
                    format!(
                        "allowed hosts: {}; if `{host}` is trusted, add `\"{host}\"` to `[http] allow` in rulec.toml",
                        listed.join(", ")
                    )
                };
                out.push(
                    Finding::new(
                        url.span,
                        format!("rule `{rule}` calls `{host}`, which is not in the `[http] allow` list; call an allowed host or add it to rulec.toml"),
                    )
                    .help(help),
                );
            }
            Host::Fixed(_) | Host::Unknown => {}
            Host::Templated => out.push(
                Finding::new(
                    url.span,
                    format!("in rule `{rule}`, the host of this URL is not fixed text, so it cannot be checked against the allow-list"),
                )
                .help("write the host as text, as in `\"https://api.example.com/{{path}}\"`, and keep `{{ }}` holes for the path and query"),
            ),
        }
    }
}

/// What can be said about a URL's host.
enum Host {
    /// Written out in full, lowercased.
    Fixed(String),
    /// A `{{ }}` hole comes before the host ends.
    Templated,
    /// No `scheme://` to read a host from (the checker reports such URLs).
    Unknown,
}

fn host(url: &StringLit) -> Host {
    // Only the text before the first hole is known before run time.
    let mut prefix = String::new();
    let mut templated = false;
    for part in &url.parts {
        match part {
            StringPart::Text { value, .. } => prefix.push_str(value),
            StringPart::Hole(_) => {
                templated = true;
                break;
            }
        }
    }
    let Some((_, rest)) = prefix.split_once("://") else {
        return if templated {
            Host::Templated
        } else {
            Host::Unknown
        };
    };
    // Without the end of the authority in sight, a hole could still add `user:pw@` or
    // change the host, so nothing before it can be trusted to be the host.
    let authority = match http::authority_end(rest) {
        Some(end) => rest.get(..end).unwrap_or(rest),
        None if templated => return Host::Templated,
        None => rest,
    };
    Host::Fixed(http::authority_host(authority))
}
