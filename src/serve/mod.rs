//! `rulec serve`: the rules run against a live Attio workspace (serve.md). Feature
//! `serve`; nothing else in the library depends on it.
//!
//! ```text
//! Attio ──POST /webhooks/attio──▶ ingest ──▶ inbox (SQLite) ──▶ worker ──GET record──▶ Attio
//!                                                                 │
//!                                                    engine (AsyncHost: outbox, host reads)
//!                                                                 │ effects as tasks
//!                                              perform ──▶ Slack, Attio writes and queries
//! ```
//!
//! The request path only verifies and commits; the worker reads records and feeds the
//! engine in order; effects leave through the engine's outbox, so each is committed
//! before it is attempted and answered once.

mod activity;
mod admin;
pub mod attio;
mod callback;
pub mod config;
mod email;
mod inbox;
mod ingest;
mod limits;
mod log;
mod metrics;
mod outbound;
mod perform;
pub mod pull;
mod reconcile;
mod slack;
pub mod subscriptions;
mod worker;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Notify;

use crate::engine::{AsyncHost, Engine, SqliteStore};
use crate::ir::Program;
use config::{Secret, Settings};
use metrics::Metrics;
use perform::Targets;

/// What the server's parts share.
pub(crate) struct App {
    inbox: Arc<inbox::Inbox>,
    host: AsyncHost,
    targets: Arc<Targets>,
    webhook_secret: Secret,
    /// `RULEC_ADMIN_TOKEN`: the admin API is off without it.
    admin_token: Option<Secret>,
    token_actor_id: Option<String>,
    /// The reference attributes rules read through, by object (see
    /// [`worker::references`]).
    references: std::collections::HashMap<String, Vec<(String, String)>>,
    /// The objects whose records rules ask `in list` of ([`worker::listed`]).
    listed: std::collections::HashSet<String>,
    /// The `command` rules: rule id → (object, command name).
    commands: std::collections::HashMap<String, (String, String)>,
    /// How long an update waits for more updates of its record (`[serve] debounce_ms`).
    debounce: Duration,
    /// Rule webhooks that must be signed: the header and the secret, by name.
    rule_hooks: std::collections::BTreeMap<String, (String, Secret)>,
    /// New events are in the inbox.
    arrived: Notify,
    /// Shutting down: the worker stops taking events.
    stopping: AtomicBool,
    metrics: Arc<Metrics>,
}

impl App {
    /// Runs that went on: logged and counted.
    fn ran(&self, runs: &[crate::engine::RunRecord]) {
        runs.iter().for_each(log::run);
        self.metrics.runs(runs);
    }
}

/// Runs the server until SIGTERM or Ctrl-C: listens on `listen`, prints
/// `listening on http://ADDR` once it accepts connections, and on the signal stops
/// taking webhooks, lets effects in flight finish, commits and returns. With
/// `sync_webhooks`, first makes Attio's webhook subscriptions what the rules need
/// ([`subscriptions::sync`]).
pub async fn run(
    program: Program,
    settings: Settings,
    listen: &str,
    sync_webhooks: bool,
) -> Result<(), String> {
    let secret_variable = &settings.file.attio.webhook_secret_env;
    if sync_webhooks && settings.file.serve.public_url.is_none() {
        return Err("--sync-webhooks needs [serve] public_url in rulec.toml: the address Attio reaches this server at (e.g. \"https://rulec.acme.com\"); the address it listens on is not one Attio can reach".into());
    }
    if !sync_webhooks && settings.webhook_secret.is_none() {
        return Err(format!(
            "{secret_variable} is not set: export the Attio webhook's signing secret in it (the variable is named by rulec.toml), or start with --sync-webhooks to have rulec create the webhook"
        ));
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
    let store = SqliteStore::open(&settings.state).map_err(|e| e.to_string())?;
    let schema = program.schema.clone();
    let allow = program.http_allow.clone();
    let references = worker::references(&program);
    let listed = worker::listed(&program);
    let commands = program
        .rules
        .iter()
        .filter_map(|rule| match (&rule.trigger, &rule.object) {
            (crate::ir::Trigger::Command { name }, Some(object)) => {
                Some((rule.id.clone(), (object.clone(), name.clone())))
            }
            _ => None,
        })
        .collect();
    let needs = subscriptions::needs(&program);
    let unreceivable = subscriptions::unreceivable(&program);
    let engine = Engine::builder(program)
        .outbox()
        .host_reads()
        .park_after(settings.file.serve.attempts)
        .store(store)
        .build()
        .map_err(|e| e.to_string())?;
    // What the last process had handed out and not heard back about, or was to try
    // again: each may have happened, and is looked for before it is performed again.
    let mut uncertain = std::collections::HashSet::new();
    for state in [
        crate::engine::EffectState::InFlight,
        crate::engine::EffectState::Retrying,
    ] {
        let entries = engine.outbox_in(state).map_err(|e| e.to_string())?;
        uncertain.extend(entries.into_iter().map(|(key, _)| key));
    }
    let inbox_path = settings.state.with_extension("inbox.db");
    let inbox = Arc::new(inbox::Inbox::open(&inbox_path)?);
    let serve = &settings.file.serve;
    let timeout = Duration::from_millis(serve.timeout_ms);
    let public_url = serve
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let actions = settings
        .file
        .actions
        .iter()
        .map(|(name, action)| {
            let target = outbound::Action {
                url: action.url.clone(),
                secret: settings.action_secrets.get(name).cloned(),
            };
            (name.clone(), target)
        })
        .collect();
    let attio = attio::Attio::new(
        &settings.file.attio.api_url,
        settings.attio_token.clone(),
        timeout,
    )
    .limited(
        settings.file.attio.reads_per_second,
        settings.file.attio.writes_per_second,
    );
    for (rule, what) in unreceivable {
        log::warn(
            "trigger not received",
            serde_json::json!({ "rule": rule, "detail": format!("rule `{rule}` starts on {what}, which rulec serve does not take from Attio yet: it will not run") }),
        );
    }
    let webhook_secret = match sync_webhooks {
        true => {
            let file = settings
                .state
                .parent()
                .unwrap_or(std::path::Path::new(""))
                .join("rulec-webhook.env");
            subscriptions::sync(
                &attio,
                &needs,
                &format!("{}/webhooks/attio", public_url.trim_end_matches('/')),
                settings.webhook_secret.clone(),
                subscriptions::SecretFile {
                    path: &file,
                    variable: secret_variable,
                },
            )
            .await?
        }
        false => settings
            .webhook_secret
            .clone()
            .ok_or_else(|| format!("{secret_variable} is not set"))?,
    };
    let metrics = Arc::new(Metrics::default());
    let targets = Arc::new(Targets {
        metrics: metrics.clone(),
        attio,
        slack: slack::Slack::new(
            &settings.file.slack.api_url,
            settings.slack_token.clone(),
            timeout,
        )
        .limited(settings.file.slack.per_channel_per_second),
        mail: email::Mailer::new(
            &settings.file.email,
            settings.smtp_password.as_ref(),
            timeout,
        ),
        outbound: outbound::Outbound::new(
            allow,
            actions,
            &public_url,
            webhook_secret.clone(),
            timeout,
        ),
        schema,
        uncertain: std::sync::Mutex::new(uncertain),
    });
    let performer = targets.clone();
    let (host, mut background) = AsyncHost::start(engine, move |effect| {
        perform::perform(performer.clone(), effect)
    });
    let counted = metrics.clone();
    tokio::spawn(async move {
        while let Some(result) = background.recv().await {
            match result {
                Ok(runs) => {
                    runs.iter().for_each(log::run);
                    counted.runs(&runs);
                }
                Err(e) => log::error("engine", &e.to_string()),
            }
        }
    });
    let rule_hooks = settings
        .webhook_secrets
        .iter()
        .filter_map(|(name, secret)| {
            let header = settings
                .file
                .webhooks
                .get(name)?
                .header
                .to_ascii_lowercase();
            Some((name.clone(), (header, secret.clone())))
        })
        .collect();
    if settings.file.attio.token_actor_id.is_none() {
        log::warn(
            "no token_actor_id",
            serde_json::json!("set [attio] token_actor_id to the actor id of ATTIO_API_TOKEN: without it rulec cannot tell its own writes coming back from anyone else's, and a rule that writes what another watches runs again on each echo"),
        );
    }
    for hook in &targets.schema.webhooks {
        if !settings.webhook_secrets.contains_key(&hook.name) {
            log::warn(
                "unsigned webhook",
                serde_json::json!({ "webhook": hook.name, "detail": format!("POST /webhooks/{} takes unsigned deliveries: set [webhooks.{}] secret_env to require a signature", hook.name, hook.name) }),
            );
        }
    }
    let app = Arc::new(App {
        inbox,
        host,
        targets,
        webhook_secret,
        admin_token: settings.admin_token.clone(),
        token_actor_id: settings.file.attio.token_actor_id.clone(),
        rule_hooks,
        debounce: Duration::from_millis(settings.file.serve.debounce_ms),
        references,
        listed,
        commands,
        arrived: Notify::new(),
        stopping: AtomicBool::new(false),
        metrics,
    });
    let worker = tokio::spawn(worker::run(app.clone()));

    let router = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(scrape))
        .route("/webhooks/attio", post(ingest::attio))
        .route("/webhooks/{name}", post(ingest::rule))
        .route("/callbacks/{effect}", post(callback::settle))
        .merge(admin::routes())
        .layer(DefaultBodyLimit::max(settings.file.serve.max_body_bytes))
        .with_state(app.clone());
    // The handlers are in place before the world is told where to connect: a
    // SIGTERM right after start drains like any other.
    let shutdown = shutdown_signal()?;
    println!("listening on http://{addr}");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| format!("the server failed: {e}"))?;

    log::info(
        "draining",
        serde_json::json!({ "inbox": app.inbox.lag().unwrap_or(-1) }),
    );
    app.stopping.store(true, Ordering::SeqCst);
    let _ = worker.await;
    app.host.drain().await.map_err(|e| e.to_string())?;
    log::info("stopped", serde_json::json!({}));
    Ok(())
}

/// `GET /metrics`.
async fn scrape(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
) -> impl axum::response::IntoResponse {
    let parked = app
        .host
        .with(|engine| {
            engine
                .outbox_in(crate::engine::EffectState::Parked)
                .map(|p| p.len())
        })
        .await;
    let parked = match parked {
        Ok(Ok(n)) => n as i64,
        _ => -1,
    };
    let inbox = app.inbox.lag().unwrap_or(-1);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(inbox, parked),
    )
}

/// SIGTERM (what systemd and container runtimes send) or Ctrl-C: the handlers are
/// installed now, and the future ends at the first of the two.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let listen =
            |kind: SignalKind| signal(kind).map_err(|e| format!("cannot listen for signals: {e}"));
        let mut term = listen(SignalKind::terminate())?;
        let mut interrupt = listen(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = interrupt.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
