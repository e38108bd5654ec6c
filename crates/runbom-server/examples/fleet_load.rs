//! The load generator of `bench/fleet/run`: a simulated fleet of `--instances` instances, each
//! heartbeating every `--period` seconds against one or more `runbom serve` processes on
//! 127.0.0.1, as the sender does: a digest heartbeat (`POST /api/v1/heartbeats`) while nothing
//! changed, a full report when something did (or when the server answers 409).
//!
//! Two phases, both bounded:
//! 1. **Seed**: one full report per instance (a real report of a real hook run, one session per
//!    instance), `--seed-concurrency` at a time; the answers' `state_digest`s are what the
//!    heartbeats carry. Its time and rate are printed.
//! 2. **Fleet**: for `--seconds`, an open-loop schedule (instance `i` beats at
//!    `i · period / instances` into each period, whether or not earlier requests have been
//!    answered), so a slow server shows as latency and missed beats rather than a slower
//!    generator. A beat is a change with the probability that gives `--changes-per-hour` of
//!    the instances changing each hour; a change is a full report (PyYAML 5.3 loaded as well,
//!    or dropped again). Latency is measured from the scheduled time (what a sender
//!    waits, queueing in this generator included) and from the send.
//!
//! With `--server-pid` (one per server, in the order of `--server`) it reads each server's CPU
//! time (`/proc/PID/stat`, user + system) over the fleet phase and its resident memory at the
//! end; with `--store-size` (a shell command printing the store's size in bytes) the store's
//! growth over the fleet phase, per instance-day. With `--webhook-listen ADDR` it serves a
//! webhook receiver there and prints how many deliveries it took.
//!
//! ```text
//! cargo run --release -p runbom-server --example fleet_load -- --server URL[,URL…] \
//!     --token TOKEN --report REPORT.json [--instances 100000] [--period 60] [--seconds 120] \
//!     [--changes-per-hour 0.01] [--seed-concurrency 32] [--in-flight 512] \
//!     [--server-pid PID[,PID…]] [--store-size CMD] [--webhook-listen ADDR] [--label NAME]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: a failed unwrap ends it, loudly

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Semaphore;

#[derive(Debug, Clone)]
struct Options {
    servers: Vec<String>,
    token: String,
    report: String,
    label: String,
    instances: usize,
    period: f64,
    seconds: f64,
    changes_per_hour: f64,
    seed_concurrency: usize,
    in_flight: usize,
    server_pids: Vec<u32>,
    store_size: Option<String>,
    webhook_listen: Option<String>,
}

fn options() -> Options {
    let mut o = Options {
        servers: Vec::new(),
        token: String::new(),
        report: String::new(),
        label: "fleet".into(),
        instances: 100_000,
        period: 60.0,
        seconds: 120.0,
        changes_per_hour: 0.01,
        seed_concurrency: 32,
        in_flight: 512,
        server_pids: Vec::new(),
        store_size: None,
        webhook_listen: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let [flag, value] = pair else {
            panic!("flags take a value: {pair:?}")
        };
        let number = || value.parse::<f64>().expect("a number");
        match flag.as_str() {
            "--server" => {
                o.servers = value
                    .split(',')
                    .map(|s| s.trim_end_matches('/').to_owned())
                    .collect();
            }
            "--token" => o.token.clone_from(value),
            "--report" => o.report.clone_from(value),
            "--label" => o.label.clone_from(value),
            "--instances" => o.instances = number() as usize,
            "--period" => o.period = number(),
            "--seconds" => o.seconds = number(),
            "--changes-per-hour" => o.changes_per_hour = number(),
            "--seed-concurrency" => o.seed_concurrency = number() as usize,
            "--in-flight" => o.in_flight = number() as usize,
            "--server-pid" => {
                o.server_pids = value
                    .split(',')
                    .map(|p| p.parse().expect("a pid"))
                    .collect();
            }
            "--store-size" => o.store_size = Some(value.clone()),
            "--webhook-listen" => o.webhook_listen = Some(value.clone()),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        !o.servers.is_empty() && !o.token.is_empty() && !o.report.is_empty(),
        "--server, --token and --report are required"
    );
    assert!(
        o.servers.iter().all(|s| s.starts_with("http://127.0.0.1:")),
        "the fleet bench only talks to 127.0.0.1"
    );
    assert!(o.instances > 0 && o.period > 0.0 && o.seconds > 0.0);
    o
}

/// The fleet: one report template (`@SID@`, `@RID@`, `@SEQ@`, `@HOST@`, `@PID@` to fill in) in
/// two states, and per instance its state and the digest the server gave it.
struct Fleet {
    run: String,
    steady: String,
    changed: String,
    /// Per instance: whether it is in the changed state, and its state digest.
    states: Vec<Mutex<(bool, String)>>,
    sequence: AtomicU64,
}

impl Fleet {
    fn new(base: &Value, instances: usize) -> Self {
        let mut report = base.clone();
        report["report_id"] = json!("@RID@");
        report["session_id"] = json!("@SID@");
        report["sequence"] = json!("@SEQ@");
        report["host"] = json!("@HOST@");
        report["complete"] = json!(false);
        if let Some(process) = report["processes"].get_mut(0) {
            process["pid"] = json!("@PID@");
        }
        let steady = template(&report);
        // The change: PyYAML 5.3 (affected by PYSEC-2021-142) loaded as well.
        let mut pyyaml = report["distributions"][0].clone();
        pyyaml["name"] = json!("PyYAML");
        pyyaml["normalized_name"] = json!("pyyaml");
        pyyaml["version"] = json!("5.3");
        pyyaml["purl"] = json!("pkg:pypi/pyyaml@5.3");
        pyyaml["requires_dist"] = json!([]);
        pyyaml["modules"] = json!([{"name": "yaml", "pids": [1]}]);
        report["distributions"].as_array_mut().unwrap().push(pyyaml);
        Fleet {
            run: format!("fleet-{}", std::process::id()),
            steady,
            changed: template(&report),
            states: (0..instances)
                .map(|_| Mutex::new((false, String::new())))
                .collect(),
            sequence: AtomicU64::new(0),
        }
    }

    fn session(&self, i: usize) -> String {
        format!("{}-{i}", self.run)
    }

    /// The full report of instance `i` in its current state.
    fn report(&self, i: usize, changed: bool) -> String {
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
        let text = if changed { &self.changed } else { &self.steady };
        text.replacen("@SID@", &self.session(i), 1)
            .replacen("@RID@", &format!("{}-{i}-{seq}", self.run), 1)
            .replacen("@SEQ@", &seq.to_string(), 1)
            .replacen("@HOST@", &format!("fleet-host-{}", i % 5000), 1)
            .replacen("@PID@", &(1000 + i % 60_000).to_string(), 1)
    }

    fn heartbeat(&self, i: usize, digest: &str) -> String {
        json!({
            "schema": "runbom.heartbeat/v1",
            "session_id": self.session(i),
            "state_digest": digest,
        })
        .to_string()
    }
}

fn template(report: &Value) -> String {
    report
        .to_string()
        .replace("\"@SEQ@\"", "@SEQ@")
        .replace("\"@PID@\"", "@PID@")
}

/// Sends instance `i`'s full report in `changed` state; remembers the digest the server gave.
async fn send_report(
    client: &reqwest::Client,
    server: &str,
    token: &str,
    fleet: &Fleet,
    i: usize,
    changed: bool,
) -> Result<(), String> {
    let answer = client
        .post(format!("{server}/api/v1/reports"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(fleet.report(i, changed))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = answer.status();
    let text = answer.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {text}"));
    }
    let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let digest = value["state_digest"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    *fleet.states[i].lock().unwrap() = (changed, digest);
    Ok(())
}

/// What one beat of the fleet phase came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Beat {
    /// 200 `known`.
    Known,
    /// A change: a full report.
    Change,
    /// 409: the server asked for the full report, which was sent.
    Asked,
    Failed,
}

#[derive(Default)]
struct Samples {
    /// (kind, from the scheduled time, from the send)
    beats: Vec<(Beat, Duration, Duration)>,
}

/// A splitmix64 of `x`: the deterministic coin of whether a beat is a change.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// CPU ticks (user + system) and resident bytes of a process.
fn process_usage(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (in parentheses, which may hold blanks).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |n: usize| {
        fields
            .get(n)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat, here 11 and 12 (state is field 3).
    let ticks = tick(11) + tick(12);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    (ticks, rss_kb * 1024)
}

fn store_size(command: &str) -> u64 {
    let out = std::process::Command::new("sh")
        .args(["-c", command])
        .output()
        .expect("the --store-size command");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("--store-size printed no number: {out:?}"))
}

fn clock_ticks_per_second() -> f64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse()
                .unwrap_or(100.0)
        });
    out.unwrap_or(100.0)
}

/// A webhook receiver that counts what it is sent (and answers 204).
async fn webhook_receiver(addr: String, count: Arc<AtomicU64>) {
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |body: axum::body::Bytes| {
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::Relaxed);
                eprintln!("webhook: {}", String::from_utf8_lossy(&body));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}

#[tokio::main]
async fn main() {
    let o = Arc::new(options());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let deliveries = Arc::new(AtomicU64::new(0));
    if let Some(addr) = o.webhook_listen.clone() {
        tokio::spawn(webhook_receiver(addr, deliveries.clone()));
    }
    let base: Value =
        serde_json::from_slice(&std::fs::read(&o.report).expect("the base report")).unwrap();
    let components = base["distributions"].as_array().map_or(0, Vec::len);
    let fleet = Arc::new(Fleet::new(&base, o.instances));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.in_flight.max(o.seed_concurrency))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    seed(&o, &fleet, &client, components).await;
    let before: Vec<(u64, u64)> = o.server_pids.iter().map(|&p| process_usage(p)).collect();
    let size_before = o.store_size.as_deref().map(store_size);
    let (samples, elapsed, late) = run_fleet(&o, &fleet, &client).await;
    let after: Vec<(u64, u64)> = o.server_pids.iter().map(|&p| process_usage(p)).collect();
    let size_after = o.store_size.as_deref().map(store_size);
    print_fleet(&o, &samples, elapsed, late);
    let known = samples.iter().filter(|s| s.0 == Beat::Known).count();
    let hz = clock_ticks_per_second();
    for (k, (pid, ((t0, _), (t1, rss)))) in o
        .server_pids
        .iter()
        .zip(before.iter().zip(&after))
        .enumerate()
    {
        let cpu = (t1 - t0) as f64 / hz;
        println!(
            "  server {k} (pid {pid}): CPU {cpu:.1} s over {:.0} s = {:.2} cores; RSS {:.0} MiB",
            elapsed.as_secs_f64(),
            cpu / elapsed.as_secs_f64(),
            *rss as f64 / 1048576.0
        );
    }
    if !o.server_pids.is_empty() {
        let ticks: u64 = before
            .iter()
            .zip(&after)
            .map(|((a, _), (b, _))| b - a)
            .sum();
        let cpu = ticks as f64 / hz;
        println!(
            "  servers together: {:.2} cores, {:.1} µs of server CPU per heartbeat answered known \
             (all requests of the phase counted)",
            cpu / elapsed.as_secs_f64(),
            1e6 * cpu / known.max(1) as f64
        );
    }
    if let (Some(a), Some(b)) = (size_before, size_after) {
        let days = elapsed.as_secs_f64() / 86400.0;
        let grown = b as f64 - a as f64;
        println!(
            "  store: {:.1} MiB before, {:.1} MiB after ({:+.0} KiB in {:.0} s): {:.0} bytes per \
             instance-day (all instances, changes included)",
            a as f64 / 1048576.0,
            b as f64 / 1048576.0,
            grown / 1024.0,
            elapsed.as_secs_f64(),
            grown / (o.instances as f64 * days)
        );
    }
    if o.webhook_listen.is_some() {
        // Deliveries of the last changes may still be on their way.
        tokio::time::sleep(Duration::from_secs(3)).await;
        println!(
            "  webhook deliveries received: {}",
            deliveries.load(Ordering::Relaxed)
        );
    }
}

/// Phase 1: one full report per instance.
async fn seed(o: &Arc<Options>, fleet: &Arc<Fleet>, client: &reqwest::Client, components: usize) {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for w in 0..o.seed_concurrency {
        let (o, fleet, client, next, failed) = (
            o.clone(),
            fleet.clone(),
            client.clone(),
            next.clone(),
            failed.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= o.instances {
                    break;
                }
                let server = &o.servers[(i + w) % o.servers.len()];
                if let Err(err) = send_report(&client, server, &o.token, &fleet, i, false).await {
                    failed.fetch_add(1, Ordering::Relaxed);
                    eprintln!("seed: {err}");
                }
                if i % 10_000 == 0 && i > 0 {
                    eprintln!(
                        "seed: {i} instances in {:.0} s",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{}: seeded {} instances ({} components each, {} failed) with full reports in {:.1} s: \
         {:.0} reports/s",
        o.label,
        o.instances,
        components,
        failed.load(Ordering::Relaxed),
        elapsed,
        o.instances as f64 / elapsed
    );
}

/// Phase 2: the open-loop schedule. Returns the samples, the phase's time and the beats that
/// could not be sent on time because `--in-flight` requests were waiting.
async fn run_fleet(
    o: &Arc<Options>,
    fleet: &Arc<Fleet>,
    client: &reqwest::Client,
) -> (Vec<(Beat, Duration, Duration)>, Duration, u64) {
    let samples = Arc::new(Mutex::new(Samples::default()));
    let slots = Arc::new(Semaphore::new(o.in_flight));
    let per_second = o.instances as f64 / o.period;
    // The probability of a beat being a change: changes_per_hour per instance and hour.
    let p_change = o.changes_per_hour * o.period / 3600.0;
    let threshold = (p_change * u64::MAX as f64) as u64;
    let start = Instant::now();
    let total = (o.seconds * per_second) as u64;
    let mut late = 0;
    let mut issued: u64 = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    while issued < total {
        tick.tick().await;
        let due = ((start.elapsed().as_secs_f64() * per_second) as u64).min(total);
        while issued < due {
            let n = issued;
            issued += 1;
            let scheduled = start + Duration::from_secs_f64(n as f64 / per_second);
            let i = (n % o.instances as u64) as usize;
            let change = mix(n) < threshold;
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                late += 1;
                continue;
            };
            let (o, fleet, client, samples) =
                (o.clone(), fleet.clone(), client.clone(), samples.clone());
            tokio::spawn(async move {
                let server = &o.servers[(n % o.servers.len() as u64) as usize];
                let sent = Instant::now();
                let kind = beat(&client, server, &o.token, &fleet, i, change).await;
                let done = Instant::now();
                samples.lock().unwrap().beats.push((
                    kind,
                    done.duration_since(scheduled),
                    done.duration_since(sent),
                ));
                drop(slot);
            });
        }
    }
    let _ = slots.acquire_many(o.in_flight as u32).await;
    let elapsed = start.elapsed();
    let beats = std::mem::take(&mut samples.lock().unwrap().beats);
    (beats, elapsed, late)
}

/// One beat of instance `i`: a heartbeat, or a full report when it changes or is asked for one.
async fn beat(
    client: &reqwest::Client,
    server: &str,
    token: &str,
    fleet: &Fleet,
    i: usize,
    change: bool,
) -> Beat {
    let (changed, digest) = fleet.states[i].lock().unwrap().clone();
    if change {
        return match send_report(client, server, token, fleet, i, !changed).await {
            Ok(()) => Beat::Change,
            Err(err) => {
                eprintln!("change: {err}");
                Beat::Failed
            }
        };
    }
    let answer = client
        .post(format!("{server}/api/v1/heartbeats"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(fleet.heartbeat(i, &digest))
        .send()
        .await;
    match answer {
        Ok(r) if r.status() == reqwest::StatusCode::OK => Beat::Known,
        Ok(r) if r.status() == reqwest::StatusCode::CONFLICT => {
            match send_report(client, server, token, fleet, i, changed).await {
                Ok(()) => Beat::Asked,
                Err(err) => {
                    eprintln!("asked: {err}");
                    Beat::Failed
                }
            }
        }
        Ok(r) => {
            eprintln!(
                "heartbeat: HTTP {}: {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
            Beat::Failed
        }
        Err(err) => {
            eprintln!("heartbeat: {err}");
            Beat::Failed
        }
    }
}

fn print_fleet(o: &Options, all: &[(Beat, Duration, Duration)], elapsed: Duration, late: u64) {
    let count = |kind| all.iter().filter(|s| s.0 == kind).count();
    let offered = o.instances as f64 / o.period;
    let secs = elapsed.as_secs_f64();
    println!(
        "{}: {} instances every {:.0} s over {} server(s) for {secs:.1} s: offered {offered:.0} \
         beats/s, held {:.0}/s ({} known, {} changes, {} full reports asked for, {} failed, \
         {late} not sent on time)",
        o.label,
        o.instances,
        o.period,
        o.servers.len(),
        (all.len() as u64 - count(Beat::Failed) as u64) as f64 / secs,
        count(Beat::Known),
        count(Beat::Change),
        count(Beat::Asked),
        count(Beat::Failed),
    );
    for (what, kinds) in [
        ("heartbeats", &[Beat::Known][..]),
        ("full reports", &[Beat::Change, Beat::Asked][..]),
    ] {
        let pick = |f: fn(&(Beat, Duration, Duration)) -> Duration| {
            let mut t: Vec<Duration> = all.iter().filter(|s| kinds.contains(&s.0)).map(f).collect();
            t.sort_unstable();
            t
        };
        let (scheduled, sent) = (pick(|s| s.1), pick(|s| s.2));
        if !sent.is_empty() {
            println!(
                "  {what}: p50 {:.1} ms, p99 {:.1} ms from the send; p50 {:.1} ms, p99 {:.1} ms \
                 from the scheduled time",
                ms(percentile(&sent, 50)),
                ms(percentile(&sent, 99)),
                ms(percentile(&scheduled, 50)),
                ms(percentile(&scheduled, 99)),
            );
        }
    }
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) * p) / 100]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
