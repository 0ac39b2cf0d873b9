//! `GET /metrics`: the Prometheus text format (serve.md §4) — events in, runs by
//! status, effects by outcome, answers asking to wait, and, read when scraped, the
//! inbox's lag and the parked effects. No label holds a record value or a secret.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::engine::RunRecord;

type Labels = Vec<(&'static str, String)>;

/// The server's counters.
pub struct Metrics {
    registry: Registry,
    webhooks: Family<Labels, Counter>,
    events: Counter,
    runs: Family<Labels, Counter>,
    effects: Family<Labels, Counter>,
    throttled: Family<Labels, Counter>,
    inbox: Gauge,
    parked: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("rulec");
        let webhooks = Family::<Labels, Counter>::default();
        let events = Counter::default();
        let runs = Family::<Labels, Counter>::default();
        let effects = Family::<Labels, Counter>::default();
        let throttled = Family::<Labels, Counter>::default();
        let inbox = Gauge::default();
        let parked = Gauge::default();
        registry.register(
            "webhooks",
            "Webhook deliveries, by how they were answered",
            webhooks.clone(),
        );
        registry.register(
            "events",
            "Record events committed to the inbox",
            events.clone(),
        );
        registry.register("runs", "Runs, by the status they reached", runs.clone());
        registry.register(
            "effects",
            "Effect attempts, by action and outcome",
            effects.clone(),
        );
        registry.register(
            "throttled",
            "Answers asking to wait (429, or Retry-After), by action",
            throttled.clone(),
        );
        registry.register(
            "inbox_lag",
            "Events in the inbox not yet handed to the engine",
            inbox.clone(),
        );
        registry.register(
            "parked_effects",
            "Effects parked for an operator",
            parked.clone(),
        );
        Metrics {
            registry,
            webhooks,
            events,
            runs,
            effects,
            throttled,
            inbox,
            parked,
        }
    }
}

impl Metrics {
    /// A delivery answered with `status` (`accepted`, `duplicate`, `refused`).
    pub fn webhook(&self, status: &str, events: u64) {
        self.webhooks
            .get_or_create(&vec![("status", status.to_string())])
            .inc();
        self.events.inc_by(events);
    }

    /// Runs as they reached a status.
    pub fn runs(&self, runs: &[RunRecord]) {
        for run in runs {
            let status = serde_json::to_value(run.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            self.runs.get_or_create(&vec![("status", status)]).inc();
        }
    }

    /// One attempt of an effect: `done`, `deferred`, `retry` or `failed`.
    pub fn effect(&self, action: &str, outcome: &str, throttled: bool) {
        let action = action.to_string();
        self.effects
            .get_or_create(&vec![
                ("action", action.clone()),
                ("outcome", outcome.into()),
            ])
            .inc();
        if throttled {
            self.throttled
                .get_or_create(&vec![("action", action)])
                .inc();
        }
    }

    /// The text format, with the gauges read now.
    pub fn render(&self, inbox: i64, parked: i64) -> String {
        self.inbox.set(inbox);
        self.parked.set(parked);
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}
