//! `rulec run`: replay a JSONL event stream through the engine with dry-run handlers
//! and print the run history.

use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{checked_program, CliResult, Global, Inputs};
use crate::engine::{
    dry_run_answer, Clock, Engine, EngineError, Handlers, ManualClock, MemoryStore, RunRecord,
    RunStatus, SqliteStore,
};

/// A failpoint for crash-recovery tests: abort the process instead of performing the
/// effect after this many (a kill between two steps of a run).
const ABORT_AFTER_EFFECTS: &str = "RULEC_FAILPOINT_ABORT_AFTER_EFFECTS";

/// For crash tests: append `action key` to this file for every handler call, one
/// unbuffered write each, so a `kill -9` loses no line of what was performed.
const EFFECT_LOG: &str = "RULEC_FAILPOINT_EFFECT_LOG";

#[derive(clap::Args, Debug)]
pub(super) struct RunArgs {
    #[command(flatten)]
    inputs: Inputs,
    /// The events, one JSON object per line (`-` for standard input).
    #[arg(long)]
    events: PathBuf,
    /// Keep state in this SQLite file (created if missing), so a later run goes on
    /// where this one stopped. Without it, state lives in memory.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Open a `--state` file whose effect journal is damaged or missing, with what can
    /// be read. Effects recorded only in the lost part may be performed again.
    #[arg(long, requires = "state")]
    accept_damaged_state: bool,
    /// Refuse events dated more than this many days ahead of the stream's own time
    /// (the latest event so far): a wrong year would move schedules and records past
    /// every later event. 0 turns the check off.
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    clock_window: u32,
    /// How many days of stream time delivered events, the effects they caused and the
    /// run history are remembered: an event delivered again after that runs again,
    /// and an event older than that is refused. Effects with an explicit `key` are
    /// remembered for good.
    #[arg(long, value_name = "DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    retention: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RunFormat::Human)]
    format: RunFormat,
    /// After the stream, move time on to this instant (RFC 3339) and run what is due:
    /// waits, schedules, coalesce windows.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
enum RunFormat {
    Human,
    Json,
}

#[derive(Default)]
struct Tally {
    events: usize,
    rejected: usize,
    effects: usize,
    by_status: [usize; 5],
    /// Runs counted as waiting, with the effects counted for them so far: a resumed
    /// run's record repeats them and replaces its waiting count.
    waiting: rustc_hash::FxHashMap<String, usize>,
}

impl Tally {
    fn add(&mut self, record: &RunRecord) {
        if let Some(counted) = self.waiting.remove(&record.run) {
            self.by_status[RunStatus::Waiting as usize] -= 1;
            self.effects -= counted;
        }
        self.effects += record.effects.len();
        self.by_status[record.status as usize] += 1;
        if record.status == RunStatus::Waiting {
            self.waiting
                .insert(record.run.clone(), record.effects.len());
        }
    }

    fn line(&self) -> String {
        let runs: usize = self.by_status.iter().sum();
        let names = ["completed", "skipped", "failed", "waiting", "suppressed"];
        let parts: Vec<String> = names
            .iter()
            .zip(self.by_status)
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{n} {name}"))
            .collect();
        let mut line = format!(
            "replayed {} event{}: {runs} run{}",
            self.events,
            plural(self.events),
            plural(runs)
        );
        if !parts.is_empty() {
            line.push_str(&format!(" ({})", parts.join(", ")));
        }
        line.push_str(&format!(
            ", {} effect{}",
            self.effects,
            plural(self.effects)
        ));
        if self.rejected > 0 {
            line.push_str(&format!(
                "; {} event{} rejected",
                self.rejected,
                plural(self.rejected)
            ));
        }
        line
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(super) fn run(args: RunArgs, global: Global) -> CliResult {
    let program = match checked_program(&args.inputs, "run", global)? {
        Ok(program) => program,
        Err(code) => return Ok(code),
    };
    let until = match &args.until {
        Some(text) => Some(text.parse::<DateTime<Utc>>().map_err(|_| {
            format!("--until: `{text}` is not an RFC 3339 time such as 2026-11-03T09:00:00Z")
        })?),
        None => None,
    };
    let clock = ManualClock::new(DateTime::<Utc>::MIN_UTC);
    let builder = Engine::builder(program)
        .handlers(dry_run_handlers())
        .clock(clock.clone())
        .clock_window(i64::from(args.clock_window) * 86_400)
        .retention(i64::from(args.retention) * 86_400)
        .secrets(|name| {
            std::env::var(name)
                .ok()
                .or_else(|| Some(format!("<secret {name}>")))
        });
    let builder = match &args.state {
        Some(path) if args.accept_damaged_state => {
            let (store, damage) =
                SqliteStore::open_accepting_damage(path).map_err(|e| e.to_string())?;
            for what in damage {
                eprintln!(
                    "warning: {}: {what}; effects recorded there may run again",
                    path.display()
                );
            }
            builder.store(store)
        }
        Some(path) => builder.store(SqliteStore::open(path).map_err(|e| e.to_string())?),
        // Replays print every record as they go; the memory store keeps none.
        None => builder.store(MemoryStore::with_history(0)),
    };
    let mut engine = builder.build().map_err(|e| e.to_string())?;

    let (reader, size): (Box<dyn BufRead>, u64) = if args.events.as_os_str() == "-" {
        (Box::new(BufReader::new(std::io::stdin())), 0)
    } else {
        let file = std::fs::File::open(&args.events)
            .map_err(|e| format!("{}: {e}", args.events.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(BufReader::with_capacity(1 << 16, file)), size)
    };
    let progress = progress_bar(size).filter(|_| !global.quiet);
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut tally = Tally::default();
    let print =
        |records: Vec<RunRecord>, tally: &mut Tally, out: &mut dyn Write| -> Result<(), String> {
            for record in records {
                tally.add(&record);
                let text = match args.format {
                    RunFormat::Json => {
                        serde_json::to_string(&record).map_err(|e| e.to_string())? + "\n"
                    }
                    RunFormat::Human => human(&record),
                };
                if let Err(e) = out.write_all(text.as_bytes()) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return Ok(());
                    }
                    return Err(e.to_string());
                }
            }
            Ok(())
        };

    let mut read = 0u64;
    let mut reader = reader;
    let mut bytes = Vec::new();
    for n in 0.. {
        bytes.clear();
        let got = reader
            .read_until(b'\n', &mut bytes)
            .map_err(|e| format!("{}: {e}", args.events.display()))?;
        if got == 0 {
            break;
        }
        read += got as u64;
        // One line that is not UTF-8 is one rejected event; the stream goes on.
        let line = match std::str::from_utf8(&bytes) {
            Ok(line) => line.trim_end_matches(['\n', '\r']),
            Err(e) => {
                tally.events += 1;
                tally.rejected += 1;
                let message = format!(
                    "rejected: line {}: not valid UTF-8 (byte {})",
                    n + 1,
                    e.valid_up_to() + 1
                );
                match &progress {
                    Some(bar) => bar.println(message),
                    None => eprintln!("{message}"),
                }
                continue;
            }
        };
        if n % 4096 == 0 {
            if let Some(bar) = &progress {
                bar.set_position(read);
            }
        }
        if line.trim().is_empty() {
            continue;
        }
        tally.events += 1;
        let event = match engine.parse_line(line, n + 1) {
            Ok(event) => event,
            Err(e) => {
                tally.rejected += 1;
                let message = format!("rejected: {e}");
                match &progress {
                    Some(bar) => bar.println(message),
                    None => eprintln!("{message}"),
                }
                continue;
            }
        };
        match engine.admit(&event) {
            Ok(()) => {}
            Err(EngineError::Event(mut e)) => {
                e.line = Some(n + 1);
                tally.rejected += 1;
                let hint = if e.message.contains("ahead of it") {
                    " (see --clock-window)"
                } else {
                    ""
                };
                let message = format!("rejected: {e}{hint}");
                match &progress {
                    Some(bar) => bar.println(message),
                    None => eprintln!("{message}"),
                }
                continue;
            }
            Err(e) => return Err(e.to_string()),
        }
        advance(&mut engine, &clock, event.at, &mut |due| {
            print(due, &mut tally, &mut out)
        })?;
        let records = engine.handle(event).map_err(|e| e.to_string())?;
        print(records, &mut tally, &mut out)?;
    }
    let end = until.unwrap_or_else(|| clock.now());
    advance(&mut engine, &clock, end, &mut |due| {
        print(due, &mut tally, &mut out)
    })?;
    engine.flush().map_err(|e| e.to_string())?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let _ = out.flush();
    if !global.quiet {
        eprintln!("{}", tally.line());
    }
    let failed = tally.by_status[RunStatus::Failed as usize] > 0;
    Ok(if failed || tally.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Moves the clock to `target` through every instant something falls due on the way,
/// so a replay runs each wait, timeout and schedule at its own time, as a live engine
/// would, rather than all of them late at the next event.
fn advance(
    engine: &mut Engine,
    clock: &ManualClock,
    target: DateTime<Utc>,
    emit: &mut dyn FnMut(Vec<RunRecord>) -> Result<(), String>,
) -> Result<(), String> {
    // Each batch goes out as it is made: a long jump runs many schedules, and
    // holding them all would take memory in proportion to the jump.
    loop {
        let due = engine.next_due().map_err(|e| e.to_string())?;
        match due {
            Some(at) if at <= target => {
                clock.advance_to(at);
                emit(engine.tick().map_err(|e| e.to_string())?)?;
                // Work that stays due after its tick would loop forever.
                let next = engine.next_due().map_err(|e| e.to_string())?;
                if next.is_some_and(|n| n <= clock.now()) {
                    break;
                }
            }
            _ => break,
        }
    }
    clock.advance_to(target);
    emit(engine.tick().map_err(|e| e.to_string())?)
}

fn dry_run_handlers() -> Handlers {
    let abort_after: Option<usize> = std::env::var(ABORT_AFTER_EFFECTS)
        .ok()
        .and_then(|v| v.parse().ok());
    let performed = Arc::new(AtomicUsize::new(0));
    let log = std::env::var_os(EFFECT_LOG).and_then(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    let log = log.map(std::sync::Mutex::new);
    Handlers::new().otherwise(move |effect| {
        if abort_after.is_some_and(|limit| performed.load(Ordering::SeqCst) >= limit) {
            std::process::abort();
        }
        performed.fetch_add(1, Ordering::SeqCst);
        if let Some(Ok(mut file)) = log.as_ref().map(|l| l.lock()) {
            let line = format!("{} {}\n", effect.action, effect.key);
            if file.write_all(line.as_bytes()).is_err() {
                std::process::abort();
            }
        }
        dry_run_answer(effect)
    })
}

fn progress_bar(size: u64) -> Option<indicatif::ProgressBar> {
    if size < (1 << 20) || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(size);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} replaying events {bar:40} {bytes}/{total_bytes} ({eta})",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// A run record as a run history reads.
pub(crate) fn human(record: &RunRecord) -> String {
    let mut out = format!("{} ", record.rule);
    if let (Some(object), Some(id)) = (&record.object, &record.record) {
        out.push_str(&format!("on {object}/{id} "));
    }
    out.push_str(&format!(
        "(event {}): {}",
        record.event,
        record.status.as_str()
    ));
    if let Some(reason) = &record.reason {
        out.push_str(&format!(" — {reason}"));
    }
    out.push('\n');
    for step in &record.steps {
        out.push_str(&format!(
            "  line {:<4} {:<16} {:<12}",
            step.line,
            step.action,
            step.status.as_str()
        ));
        if let Some(serde_json::Value::Object(input)) = &step.input {
            let shown: Vec<String> = input.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!(" {}", shown.join(" ")));
        }
        if step.attempts > 1 {
            out.push_str(&format!(" ({} attempts)", step.attempts));
        }
        if let Some(error) = &step.error {
            out.push_str(&format!(" error: {error}"));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}
