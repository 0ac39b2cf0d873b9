#![no_main]
//! Arbitrary bytes as a JSONL event stream, each line decoded as `rulec run` decodes
//! it (`Engine::parse_line`, the public path the CLI takes), against a schema with an
//! attribute of every type and a webhook. Decoding must answer for every line — an
//! event or an `EventError` naming what is wrong — and never panic, loop or abort.
//! Lines that are not UTF-8 are skipped here, as `rulec run` rejects them before
//! decoding.

use libfuzzer_sys::fuzz_target;
use rulec::engine::Engine;

const SCHEMA: &str = r##"
object tickets {
  title: text
  priority: select [Low, High]
  tags: select[] [vip, partner, churn]
  stage: status [New, Open, Closed]
  points: number
  amount: currency
  urgent: checkbox
  due: date
  seen_at: timestamp
  wait: duration
  assignee: member
  account: record(companies)
  contact_email: email unique
  site: domain
  phone: phone
  notes: list of text
  extra: json
}

webhook typeform { email: email, name: text, score: number, tags: list of text }

when tickets created and urgent do slack "#support" "{{title}}"
"##;

fn engine() -> Engine {
    let program = rulec::workspace::analyze_text("fuzz.rules", SCHEMA)
        .program()
        .expect("the fuzz schema checks");
    Engine::builder(program).build().expect("an engine")
}

thread_local! {
    static ENGINE: Engine = engine();
}

fuzz_target!(|data: &[u8]| {
    ENGINE.with(|engine| {
        for (n, line) in data.split(|&b| b == b'\n').enumerate() {
            let Ok(line) = std::str::from_utf8(line) else {
                continue;
            };
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            match engine.parse_line(line, n + 1) {
                Ok(event) => drop(event),
                // What `rulec run` prints for a rejected line.
                Err(e) => drop(e.to_string()),
            }
        }
    });
});
