//! Embedding the rulec engine in an integration service.
//!
//! `cargo run --example embed` checks a rule set, registers a Slack handler and a
//! custom `provision_laptop` action, feeds the engine a few CRM events (one of them
//! redelivered), answers an approval, and prints the run history; then runs the same
//! rules through the outbox, performing the effect on a thread of its own.

use std::error::Error;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use rulec::engine::{ActionKind, Engine, Handlers, ManualClock, MemoryStore, Outcome, RunRecord};
use rulec::workspace::analyze_text;

const RULES: &str = r##"
list "New hires" of people

object people {
  manager: member
}

action provision_laptop(person: text, os: select [macOS, Linux]) idempotent

rule big_wins "Big wins"
  when stage changed from Open to ClosedWon and value > 10000
  do slack "#wins" "{{name}} closed for {{value}}"

rule onboarding "New-hire laptop"
  when people added to list "New hires" and manager is set
  do
    ask manager "Approve a laptop for {{name}}?" timeout 3 days as approval
    if approval.approved then
      provision_laptop(person: name, os: macOS) retry 2
    else
      note "No laptop" "{{approval.answer}}"
    end
"##;

const EVENTS: &[&str] = &[
    r#"{"id":"evt-1","type":"record.updated","object":"deals","record_id":"d1","at":"2026-11-02T10:00:00Z","record":{"name":"Acme <!channel>","stage":"ClosedWon","value":25000},"old":{"stage":"Open"}}"#,
    // The webhook source retried: the same event again. No second Slack message.
    r#"{"id":"evt-1","type":"record.updated","object":"deals","record_id":"d1","at":"2026-11-02T10:00:00Z","record":{"name":"Acme <!channel>","stage":"ClosedWon","value":25000},"old":{"stage":"Open"}}"#,
    r#"{"id":"evt-2","type":"list-entry.created","object":"people","record_id":"p1","list":"New hires","at":"2026-11-02T10:05:00Z","record":{"name":"Ada","manager":"dana@acme.com"}}"#,
];

fn main() -> Result<(), Box<dyn Error>> {
    // 1. Check the rules. A real service would load files (`rulec::workspace`) or a
    //    compiled IR shipped by CI (`rulec compile`).
    //    A workspace with errors has no program: `program()` says how many there are,
    //    and the diagnostics say where.
    let analysis = analyze_text("service.rules", RULES);
    let program = analysis.program().inspect_err(|_| {
        for d in analysis
            .diagnostics
            .iter()
            .filter(|d| d.severity.as_str() == "error")
        {
            let at = d.start();
            eprintln!("{}:{}:{}: {}", d.file.name(), at.line, at.column, d.message);
        }
    })?;

    // 2. Handlers: how effects reach the outside world. Each gets typed arguments
    //    and an idempotency key to pass on to APIs that take one.
    let laptops = Arc::new(AtomicU32::new(0));
    let counter = laptops.clone();
    let handlers = Handlers::new()
        .on(ActionKind::Slack, |effect| {
            // Interpolated record values arrive escaped: `<!channel>` cannot ping.
            println!(
                "  -> slack {}: {}",
                effect.text("channel").unwrap_or("?"),
                effect.text("text").unwrap_or("")
            );
            Outcome::done()
        })
        .on(ActionKind::Ask, |effect| {
            // Post the question where the member will see it, and wait for the answer.
            println!(
                "  -> ask {}: {}",
                effect.text("member").unwrap_or("?"),
                effect.text("question").unwrap_or("")
            );
            Outcome::Defer
        })
        .action("provision_laptop", move |effect| {
            // The first call fails as a flaky API would; `retry 2` tries again.
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                return Outcome::retry("IT service unavailable (503)");
            }
            println!(
                "  -> laptop ({}) for {} [key {}]",
                effect.args["os"], effect.args["person"], effect.key
            );
            Outcome::Done(serde_json::json!({ "ticket": "IT-1042" }))
        })
        .otherwise(|effect| {
            println!(
                "  -> {} {}",
                effect.action,
                serde_json::Value::Object(effect.args.clone())
            );
            Outcome::done()
        });

    // 3. The engine: rules, handlers, a store (memory here; `SqliteStore::open` for
    //    durable state) and a clock (the system clock unless a test sets one).
    let clock = ManualClock::new("2026-11-02T10:00:00Z".parse()?);
    let mut engine = Engine::builder(program)
        .handlers(handlers)
        .store(MemoryStore::new())
        .clock(clock.clone())
        .build()?;

    // 4. Feed it events; an `ask` leaves its run waiting for an answer.
    let mut waiting = None;
    for event in EVENTS {
        for run in engine.handle_json(event)? {
            if run.status.as_str() == "waiting" {
                waiting = Some(run.run.clone());
            }
        }
    }

    // 5. The manager answers (from Slack, email, a UI …): the run continues.
    if let Some(run) = waiting {
        println!("answering {run}");
        engine.resume(&run, serde_json::json!({ "approved": true, "answer": "yes", "answered_by": "dana@acme.com" }))?;
    }

    // 6. Time moves on (a host calls `tick` on a timer); nothing else is due.
    clock.advance_to("2026-11-06T00:00:00Z".parse()?);
    engine.tick()?;

    println!("\nrun history:");
    for run in engine.history(20)? {
        print_run(&run);
    }

    outbox_host(analysis.program()?)
}

/// The same rules in a host that performs effects itself (a server): the engine puts
/// each effect in its outbox, committed with the state that led to it, and the host
/// takes them as data, performs them where it likes — another thread here — and
/// answers. A retryable failure would come back at its backoff time on a `tick`.
fn outbox_host(program: rulec::ir::Program) -> Result<(), Box<dyn Error>> {
    println!("\nthrough the outbox:");
    let mut engine = Engine::builder(program)
        .outbox()
        .clock(ManualClock::new("2026-11-02T10:00:00Z".parse()?))
        .build()?;
    engine.handle_json(EVENTS[0])?;
    for effect in engine.take_effects()? {
        println!(
            "  effect {} of run {} (rule {}, step {}, attempt {})",
            effect.action, effect.run, effect.rule, effect.step, effect.attempt
        );
        let key = effect.key.clone();
        let outcome = std::thread::spawn(move || {
            println!("  -> slack {}", effect.text("text").unwrap_or(""));
            Outcome::done()
        })
        .join()
        .map_err(|_| "the effect's thread panicked")?;
        for run in engine.complete(&key, outcome)? {
            print_run(&run);
        }
    }
    Ok(())
}

fn print_run(run: &RunRecord) {
    let on = run
        .record
        .as_deref()
        .map(|r| format!(" on {r}"))
        .unwrap_or_default();
    let reason = run
        .reason
        .as_deref()
        .map(|r| format!(" — {r}"))
        .unwrap_or_default();
    println!(
        "{}{on} (event {}): {}{reason}",
        run.rule,
        run.event,
        run.status.as_str()
    );
    for step in &run.steps {
        let attempts = if step.attempts > 1 {
            format!(" after {} attempts", step.attempts)
        } else {
            String::new()
        };
        println!(
            "  line {:<3} {:<17} {}{attempts}",
            step.line,
            step.action,
            step.status.as_str()
        );
    }
}
