//! `rulec serve` under load, the real binary on 127.0.0.1 between instant fakes of
//! Attio and Slack: webhooks accepted per second (1 KB bodies into the SQLite inbox),
//! and events per second end to end (webhook → Attio read → engine → Slack), with the
//! latency from webhook to message at p50 and p99 (printed once, before criterion's
//! figures).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a bench may fail loudly

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "whsec-bench-0123456789";

/// What the fake Slack saw: how many messages, and when each record's arrived.
#[derive(Default)]
struct Seen {
    messages: AtomicUsize,
    arrived: Mutex<Vec<(String, Instant)>>,
}

async fn fakes(seen: Arc<Seen>) -> String {
    let router = Router::new()
        .route(
            "/v2/objects/{object}",
            get(|Path(object): Path<String>| async move {
                let slug = if object == "obj-deals" { "deals" } else { "elsewhere" };
                Json(json!({"data": {"api_slug": slug}}))
            }),
        )
        .route(
            "/v2/objects/{object}/records/{id}",
            get(|Path((_, id)): Path<(String, String)>| async move {
                Json(json!({"data": {"id": {"record_id": id}, "values": {
                    "name": [{"attribute_type": "text", "value": id}],
                    "value": [{"attribute_type": "currency", "currency_value": 25000, "currency_code": "USD"}],
                }}}))
            }),
        )
        .route(
            "/chat.postMessage",
            post(|State(seen): State<Arc<Seen>>, Json(body): Json<Value>| async move {
                seen.messages.fetch_add(1, Ordering::SeqCst);
                let text = body["text"].as_str().unwrap_or("").to_string();
                seen.arrived.lock().unwrap().push((text, Instant::now()));
                Json(json!({"ok": true}))
            }),
        )
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(fakes: &str) -> Server {
    let dir = std::env::temp_dir().join(format!("rulec-bench-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("wins.rules"),
        "rule wins\n  when deals created\n  do slack \"#wins\" \"{{name}}\"\n",
    )
    .unwrap();
    // No rate limits and no debounce: the pipeline's own pace is what is measured.
    std::fs::write(
        dir.join("rulec.toml"),
        format!(
            "[serve]\nstate = \"state.db\"\ndebounce_ms = 0\n\n[attio]\napi_url = \"{fakes}\"\nreads_per_second = 0\nwrites_per_second = 0\n\n[slack]\napi_url = \"{fakes}\"\nper_channel_per_second = 0\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rulec"))
        .current_dir(&dir)
        .args(["serve", ".", "--listen", "127.0.0.1:0"])
        .env("ATTIO_API_TOKEN", "attio-bench-token")
        .env("ATTIO_WEBHOOK_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", "xoxb-bench-token")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    Server { child, url }
}

fn sign(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A delivery of one event, padded to about 1 KB as Attio's are.
fn delivery(kind: &str, object: &str, record: &str) -> String {
    json!({"webhook_id": "w1", "events": [{
        "event_type": kind,
        "id": {"workspace_id": "ws", "object_id": object, "record_id": record},
        "actor": {"type": "system"},
    }], "pad": "x".repeat(800)})
    .to_string()
}

/// Sends every body, 32 at a time; each must be taken. When each went, by tag.
async fn send_all(
    client: &reqwest::Client,
    url: &str,
    bodies: Vec<(String, String)>,
) -> Vec<(String, Instant)> {
    let bodies = Arc::new(Mutex::new(bodies));
    let sent = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (client, url, bodies) = (client.clone(), url.to_string(), bodies.clone());
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let Some((tag, body)) = bodies.lock().unwrap().pop() else {
                    return;
                };
                sent.lock().unwrap().push((tag, Instant::now()));
                let response = client
                    .post(format!("{url}/webhooks/attio"))
                    .header("attio-signature", sign(&body))
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    sent
}

/// Deliveries of `kind` for records `ids` of `object`, tagged with the id.
fn deliveries(
    kind: &str,
    object: &str,
    ids: impl Iterator<Item = String>,
) -> Vec<(String, String)> {
    ids.map(|id| (id.clone(), delivery(kind, object, &id)))
        .collect()
}

fn serve(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let seen: Arc<Seen> = Arc::default();
    let fakes = runtime.block_on(fakes(seen.clone()));
    let server = start(&fakes);
    let client = reqwest::Client::new();
    let next = AtomicUsize::new(0);
    let fresh = |n: usize| {
        let start = next.fetch_add(n, Ordering::SeqCst);
        start..start + n
    };

    // Latency, once: 1,000 deals created, each one message, from its webhook.
    let ids: Vec<String> = fresh(1000).map(|i| format!("d{i}")).collect();
    let bodies = deliveries("record.created", "obj-deals", ids.iter().cloned());
    let started = Instant::now();
    let sent = runtime.block_on(send_all(&client, &server.url, bodies));
    let accepted = started.elapsed();
    while seen.messages.load(Ordering::SeqCst) < ids.len() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let total = started.elapsed();
    let arrived: std::collections::HashMap<String, Instant> =
        seen.arrived.lock().unwrap().iter().cloned().collect();
    let mut latencies: Vec<Duration> = sent
        .iter()
        .map(|(id, at)| arrived[id].duration_since(*at))
        .collect();
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    eprintln!(
        "1,000 deals created in a burst: taken in {accepted:?}, all posted in {total:?} \
         ({:.0} events/s end to end); webhook → message p50 {:?}, p99 {:?}",
        ids.len() as f64 / total.as_secs_f64(),
        at(0.50),
        at(0.99)
    );

    let mut group = c.benchmark_group("serve");
    group.sample_size(10);
    const N: usize = 500;
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("webhooks accepted (1 KB, SQLite inbox)", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                // An object no rule is about: stored, then dropped by the worker.
                let ids = fresh(N).map(|i| format!("o{i}"));
                let bodies = deliveries("record.updated", "obj-other", ids);
                let started = Instant::now();
                runtime.block_on(send_all(&client, &server.url, bodies));
                spent += started.elapsed();
            }
            spent
        })
    });
    group.bench_function("events end to end (webhook to Slack)", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let ids = fresh(N).map(|i| format!("d{i}"));
                let bodies = deliveries("record.created", "obj-deals", ids);
                let want = seen.messages.load(Ordering::SeqCst) + N;
                let started = Instant::now();
                runtime.block_on(send_all(&client, &server.url, bodies));
                while seen.messages.load(Ordering::SeqCst) < want {
                    std::thread::sleep(Duration::from_millis(1));
                }
                spent += started.elapsed();
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, serve);
criterion_main!(benches);
