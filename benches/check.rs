//! `rulec check` throughput on a generated 10,000-rule file in which every trigger,
//! schedule and action appears. Target: at least 15 MB/s for parse + check + lint.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a benchmark may fail loudly

// The same allocator as the `rulec` binary, so the numbers are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rulec::check::{self, Unit};
use rulec::lint::LintConfig;
use rulec::source::SourceFile;
use rulec::workspace;

const DECLARATIONS: &str = r#"
object people {
  lifecycle: status [Lead, MQL, SQL, Customer]
  tags: select[] [vip, partner, churn_risk]
  score: number
  manager: member
}
list "Sales SDR" of people
team sdr = ["ana@acme.com", "bo@acme.com"]
webhook typeform { email: email, name: text, company: text, message: text, form_id: text }
action pagerduty(severity: select [low, high], summary: text) idempotent
"#;

/// Rule bodies; `{i}` becomes the rule's number so every rule is distinct.
const TEMPLATES: &[&str] = &[
    "rule r{i}\n  owner \"revops@acme.com\"\n  description \"Generated rule {i}\"\n  on people\n  limit 100 per hour\n  when created and event.source != import and score > {i}\n  do set owner = round_robin(sdr) if empty\n",
    "rule r{i}\n  owner \"revops@acme.com\"\n  description \"Generated rule {i}\"\n  on deals\n  when updated where value >= {i} and old.value < {i}\n  do note \"Crossed\" \"Was {{old.value}}, now {{value}}\"\n",
    "on deals when deleted and value > {i} do slack \"#pipeline\" \"{{name}} was deleted by {{event.actor}}\"\n",
    "on companies when merged and employee_count > {i} do slack \"#data\"\n",
    "when deals stage changed from [Open, Qualified] to [ClosedWon, ClosedLost] and value > {i} do clear close_date\n",
    "when matches stage >= Proposal and value > {i} and close_date within next 30 days do slack dm owner \"Close {{name}} soon\"\n",
    "when added to list \"Sales SDR\" and owner is not set and score > {i} do set owner = round_robin(sdr)\n",
    "when removed from list \"Sales SDR\" and lifecycle != Customer and score < {i} do remove from list \"Sales SDR\"\n",
    "on deals when note created and note.body contains \"churn {i}\" do slack \"#risk\" \"{{note.title}} on {{name}}\"\n",
    "on deals when comment added and comment.body starts with \"!{i}\" do slack \"#urgent\" \"{{comment.body}}\"\n",
    "on people when task completed and task.title ends with \"{i}\" do set lifecycle = SQL\n",
    "on deals when call recorded and call.duration > {i} minutes do slack \"#calls\" \"{{call.title}}\"\n",
    "rule r{i}\n  owner \"revops@acme.com\"\n  description \"Generated rule {i}\"\n  every weekday at 09:00 in \"America/New_York\"\n  for deals where stage = Open and last_activity before {i} days ago\n  do slack dm owner \"{{name}} is quiet\"\n",
    "rule r{i}\n  owner \"revops@acme.com\"\n  description \"Generated rule {i}\"\n  every cron \"0 9 * * 1-5\"\n  for people where tags contains vip or score * 2 > {i}\n  do email owner template \"vip-checkin\"\n",
    "rule r{i}\n  owner \"revops@acme.com\"\n  description \"Generated rule {i}\"\n  when webhook typeform where payload.email is set\n  do\n    upsert companies by domains {{ domains: [domain(payload.email)], name: payload.company }} as account\n    upsert people by email_addresses {{ email_addresses: [payload.email], name: capitalize(trim(payload.name)), company: account }} as person\n    create task \"Follow up {i}\" for round_robin(sdr) due next_business_day() key payload.email\n    http POST \"https://hooks.example.com/intake\" headers {{ Authorization: secret(\"TOKEN\") }} body {{ email: payload.email }} key payload.email as response retry 3\n",
    "rule r{i}\n  owner \"revops@acme.com\"\n  description \"Generated rule {i}\"\n  on deals\n  when stage changed to Negotiation and value > {i}\n  do\n    ask owner \"Discount for {{name}}?\" timeout 2 days as approval\n    if approval.approved then\n      set stage = Proposal\n      wait 1 day\n    else if approval.answer = \"later\" then\n      stop\n    else\n      slack dm owner \"declined\" on error continue\n    end\n    route\n      value > {i} => create deals {{ name: \"{{name}} follow-on\", value: 0, stage: Lead }} key event.id as deal\n      else => skip \"small\"\n    end\n",
    "when rule r0 failed 3 times in a row do pagerduty(severity: high, summary: \"{{failure.rule}} {i}\")\n",
    "rule r{i}\n  owner \"revops@acme.com\"\n  description \"Generated rule {i}\"\n  on deals\n  when stage changed to ClosedWon and value > {i}\n  do\n    find companies where name = \"x{i}\" as account\n    wait until close_date - 7 days\n    email [owner, \"finance@acme.com\"] subject \"Won: {{name}}\" body \"{{account.name}}\"\n",
];

fn generate(rules: usize) -> String {
    let mut text = String::from(DECLARATIONS);
    for i in 0..rules {
        let template = TEMPLATES[i % TEMPLATES.len()];
        text.push('\n');
        // Templates double `{{`/`}}` only where they mean a literal brace in a map.
        let body = template.replace("{i}", &i.to_string());
        let body = if template.contains("{{ ") {
            body.replace("{{ ", "{ ").replace(" }}", " }")
        } else {
            body
        };
        text.push_str(&body);
    }
    text
}

fn bench(c: &mut Criterion) {
    stats();
    let text = generate(10_000);
    let file = SourceFile::new("bench.rules", text.clone());
    let analysis = workspace::analyze(vec![Unit::parse(file.clone())], &LintConfig::default());
    assert_eq!(
        analysis.checked.rules.len(),
        10_000,
        "{:?}",
        analysis.diagnostics.first()
    );
    assert!(
        analysis
            .diagnostics
            .iter()
            .all(|d| d.severity < rulec::diagnostics::Severity::Error),
        "{:?}",
        analysis
            .diagnostics
            .iter()
            .find(|d| d.severity == rulec::diagnostics::Severity::Error)
    );

    let mut group = c.benchmark_group("check-10k-rules");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(20);
    group.bench_function("split", |b| b.iter(|| rulec::syntax::split::split(&text)));
    group.bench_function("pest", |b| b.iter(|| rulec::syntax::pest_tokens(&text)));
    // Results are dropped outside the timing, as `rulec check` exits without freeing them.
    group.bench_function("parse", |b| {
        b.iter_with_large_drop(|| rulec::syntax::parse(&file))
    });
    group.bench_function("parse+check", |b| {
        b.iter_with_large_drop(|| {
            let units = [Unit::parse(file.clone())];
            let checked = check::check(&units);
            (units, checked)
        })
    });
    let mut quiet = LintConfig::default();
    for lint in ["missing-owner", "missing-description"] {
        quiet
            .levels
            .insert(lint.to_string(), rulec::lint::Level::Allow);
    }
    group.bench_function("parse+check+lint (ownership lints off)", |b| {
        b.iter_with_large_drop(|| workspace::analyze(vec![Unit::parse(file.clone())], &quiet))
    });
    group.bench_function("parse+check+lint", |b| {
        b.iter_with_large_drop(|| {
            workspace::analyze(vec![Unit::parse(file.clone())], &LintConfig::default())
        })
    });
    group.finish();
}

/// Rendering every diagnostic of the 10,000-rule file (3,334 warnings and the hints):
/// the human report must stay within 2× of JSON, whatever the file's size.
fn render(c: &mut Criterion) {
    let file = SourceFile::new("bench.rules", generate(10_000));
    let analysis = workspace::analyze(vec![Unit::parse(file)], &LintConfig::default());
    let diagnostics = &analysis.diagnostics;
    let summary = rulec::diagnostics::Summary::of(1, diagnostics);
    let mut group = c.benchmark_group("render-10k-rules");
    group.sample_size(10);
    group.bench_function("json", |b| {
        b.iter(|| rulec::diagnostics::render_json(diagnostics, summary))
    });
    group.bench_function("human", |b| {
        b.iter(|| rulec::diagnostics::render_human(diagnostics, false))
    });
    group.finish();
}

criterion_group!(benches, bench, render);
criterion_main!(benches);

/// Prints the input size and pest's pair count, for reading the throughput figures.
fn stats() {
    let text = generate(10_000);
    let tokens = rulec::syntax::pest_tokens(&text);
    eprintln!("bytes {} pairs {}", text.len(), tokens);
}
