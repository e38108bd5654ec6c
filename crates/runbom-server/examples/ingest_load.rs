//! The load generator of `bench/ingest/run`: simulated instances post runtime reports to a
//! running `runbom serve` as hooks do (gzip, an app token), bounded in count and time, and the
//! rate and latencies are printed.
//!
//! Every instance's reports start from one real report (a `runbom run --report` of a real
//! program), grown or cut to `--components` distributions and varied per instance (session,
//! host, pid, some versions). Each instance's first report is new to the server; after that most
//! are heartbeats (the same components again) and every `--change-every`-th loads one more module
//! or drops it again.
//!
//! ```text
//! cargo run --release -p runbom-server --example ingest_load -- --server URL --token TOKEN \
//!     --report REPORT.json [--label NAME] [--instances 200] [--components 200] \
//!     [--reports 20000] [--seconds 30] [--concurrency 32] [--change-every 10]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: a failed unwrap ends it, loudly

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

#[derive(Debug)]
struct Options {
    server: String,
    token: String,
    report: String,
    label: String,
    instances: usize,
    components: usize,
    reports: u64,
    seconds: u64,
    concurrency: usize,
    change_every: u64,
}

fn options() -> Options {
    let mut o = Options {
        server: String::new(),
        token: String::new(),
        report: String::new(),
        label: "server".into(),
        instances: 200,
        components: 200,
        reports: 20_000,
        seconds: 30,
        concurrency: 32,
        change_every: 10,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let [flag, value] = pair else {
            panic!("flags take a value: {pair:?}")
        };
        let number = || value.parse::<u64>().expect("a number");
        match flag.as_str() {
            "--server" => o.server = value.trim_end_matches('/').to_owned(),
            "--token" => o.token.clone_from(value),
            "--report" => o.report.clone_from(value),
            "--label" => o.label.clone_from(value),
            "--instances" => o.instances = number() as usize,
            "--components" => o.components = number() as usize,
            "--reports" => o.reports = number(),
            "--seconds" => o.seconds = number(),
            "--concurrency" => o.concurrency = number() as usize,
            "--change-every" => o.change_every = number().max(1),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        !o.server.is_empty() && !o.token.is_empty() && !o.report.is_empty(),
        "--server, --token and --report are required"
    );
    o
}

/// One simulated instance: its report as JSON text with `@RID@` and `@SEQ@` to fill in, and the
/// same with one more module loaded (a change).
struct Instance {
    steady: String,
    changed: String,
    next: AtomicU64,
}

impl Instance {
    /// The gzip body of this instance's report number `seq` (instance `i`).
    fn body(&self, i: usize, seq: u64, change_every: u64) -> Vec<u8> {
        // Every `change_every` reports the instance loads one more module, or drops it again:
        // one report in `change_every` changes something.
        let text = if (seq / change_every) % 2 == 1 {
            &self.changed
        } else {
            &self.steady
        };
        gzip(
            &text
                .replacen("@RID@", &format!("{}-{i}-{seq}", std::process::id()), 1)
                .replacen("@SEQ@", &seq.to_string(), 1),
        )
    }
}

/// The bodies of each instance's first reports, gzipped before the clock starts so that the
/// bench measures the server, not the client's compression (which shares the machine's cores).
/// Instances are served round-robin, so each gets about `reports / instances`; the margin covers
/// workers that cycle faster, and a report past it is compressed on the spot.
fn prebuilt_bodies(all: &[Instance], o: &Options) -> Vec<Vec<Vec<u8>>> {
    let per_instance = (o.reports as usize).div_ceil(all.len().max(1)) * 3 / 2 + 1;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = all.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = all
            .chunks(chunk)
            .enumerate()
            .map(|(c, instances)| {
                scope.spawn(move || {
                    instances
                        .iter()
                        .enumerate()
                        .map(|(k, instance)| {
                            (0..per_instance as u64)
                                .map(|seq| instance.body(c * chunk + k, seq, o.change_every))
                                .collect::<Vec<_>>()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().unwrap())
            .collect()
    })
}

fn instances(base: &Value, o: &Options, run: &str) -> Vec<Instance> {
    let real = base["distributions"].as_array().expect("distributions");
    assert!(!real.is_empty(), "the base report lists no distribution");
    (0..o.instances)
        .map(|i| {
            let mut report = base.clone();
            let distributions: Vec<Value> = (0..o.components)
                .map(|k| component(&real[k % real.len()], k / real.len(), i, k))
                .collect();
            report["distributions"] = Value::Array(distributions);
            report["report_id"] = json!("@RID@");
            report["sequence"] = json!("@SEQ@");
            report["session_id"] = json!(format!("{run}-{i}"));
            report["host"] = json!(format!("bench-host-{}", i % 50));
            report["complete"] = json!(false);
            if let Some(process) = report["processes"].get_mut(0) {
                process["pid"] = json!(10_000 + i);
            }
            let steady = template(&report);
            let first = &mut report["distributions"][0]["modules"];
            let mut modules = first.as_array().cloned().unwrap_or_default();
            modules.push(json!({"name": format!("bench_extra_{i}"), "pids": [10_000 + i]}));
            *first = Value::Array(modules);
            Instance {
                steady,
                changed: template(&report),
                next: AtomicU64::new(0),
            }
        })
        .collect()
}

/// A real distribution; copies past the real ones get a derived name, and some versions differ
/// per instance (as releases drift across a fleet).
fn component(real: &Value, copy: usize, instance: usize, k: usize) -> Value {
    let mut d = real.clone();
    let mut name = d["normalized_name"].as_str().unwrap_or("dist").to_owned();
    if copy > 0 {
        name = format!("{name}-copy{copy}");
        d["name"] = json!(name);
        d["normalized_name"] = json!(name);
    }
    let mut version = d["version"].as_str().unwrap_or("1.0").to_owned();
    if (instance + k).is_multiple_of(17) {
        version = format!("{version}.post{}", instance % 3);
    }
    d["purl"] = json!(format!("pkg:pypi/{name}@{version}"));
    d["version"] = json!(version);
    d
}

fn template(report: &Value) -> String {
    report.to_string().replace("\"@SEQ@\"", "@SEQ@")
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    New,
    Changed,
    Heartbeat,
}

#[derive(Default)]
struct Tally {
    latencies: Vec<(Kind, Duration)>,
    failures: u64,
}

#[tokio::main]
async fn main() {
    let o = Arc::new(options());
    let base: Value =
        serde_json::from_slice(&std::fs::read(&o.report).expect("the base report")).unwrap();
    let run = format!("bench-{}", std::process::id());
    let all = Arc::new(instances(&base, &o, &run));
    let prepared = Instant::now();
    let bodies = Arc::new(prebuilt_bodies(&all, &o));
    let size: usize = bodies.iter().flatten().map(Vec::len).sum();
    let count: usize = bodies.iter().map(Vec::len).sum();
    println!(
        "{}: {count} gzip bodies prepared in {:.1} s (mean {} bytes)",
        o.label,
        prepared.elapsed().as_secs_f64(),
        size / count.max(1)
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.concurrency)
        .build()
        .unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(o.seconds);
    let mut workers = Vec::new();
    for w in 0..o.concurrency {
        let (o, all, client, sent) = (o.clone(), all.clone(), client.clone(), sent.clone());
        let bodies = bodies.clone();
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mine: Vec<usize> = (w..all.len()).step_by(o.concurrency).collect();
            'outer: while !mine.is_empty() {
                for &i in &mine {
                    if Instant::now() >= deadline
                        || sent.fetch_add(1, Ordering::Relaxed) >= o.reports
                    {
                        break 'outer;
                    }
                    let instance = &all[i];
                    let seq = instance.next.fetch_add(1, Ordering::Relaxed);
                    let kind = match seq {
                        0 => Kind::New,
                        s if s % o.change_every == 0 => Kind::Changed,
                        _ => Kind::Heartbeat,
                    };
                    let body = match bodies[i].get(seq as usize) {
                        Some(body) => body.clone(),
                        None => instance.body(i, seq, o.change_every),
                    };
                    let began = Instant::now();
                    let answer = client
                        .post(format!("{}/api/v1/reports", o.server))
                        .bearer_auth(&o.token)
                        .header("content-type", "application/json")
                        .header("content-encoding", "gzip")
                        .body(body)
                        .send()
                        .await;
                    match answer {
                        Ok(r) if r.status().is_success() => {
                            tally.latencies.push((kind, began.elapsed()));
                        }
                        Ok(r) => {
                            tally.failures += 1;
                            eprintln!(
                                "HTTP {}: {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                        Err(err) => {
                            tally.failures += 1;
                            eprintln!("{err}");
                        }
                    }
                }
            }
            tally
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for worker in workers {
        let tally = worker.await.unwrap();
        latencies.extend(tally.latencies);
        failures += tally.failures;
    }
    let elapsed = start.elapsed();
    print_summary(&o, &latencies, failures, elapsed);
}

fn print_summary(o: &Options, all: &[(Kind, Duration)], failures: u64, elapsed: Duration) {
    let count = |kind| all.iter().filter(|(k, _)| *k == kind).count();
    let mut times: Vec<Duration> = all.iter().map(|(_, d)| *d).collect();
    times.sort_unstable();
    let rate = all.len() as f64 / elapsed.as_secs_f64();
    println!(
        "{}: {} reports of {} components ({} new instances, {} changed, {} heartbeats; {} failed) \
         in {:.2} s with {} connections: {:.0} reports/s, p50 {:.1} ms, p99 {:.1} ms",
        o.label,
        all.len(),
        o.components,
        count(Kind::New),
        count(Kind::Changed),
        count(Kind::Heartbeat),
        failures,
        elapsed.as_secs_f64(),
        o.concurrency,
        rate,
        ms(percentile(&times, 50)),
        ms(percentile(&times, 99)),
    );
    for kind in [Kind::New, Kind::Changed, Kind::Heartbeat] {
        let mut times: Vec<Duration> = all
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, d)| *d)
            .collect();
        times.sort_unstable();
        if !times.is_empty() {
            println!(
                "  {kind:?}: p50 {:.1} ms, p99 {:.1} ms",
                ms(percentile(&times, 50)),
                ms(percentile(&times, 99))
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
