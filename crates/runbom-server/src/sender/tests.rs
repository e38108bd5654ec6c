//! The sender against a scripted HTTP responder on 127.0.0.1: direct delivery, spooling while
//! the server fails, re-sending the spool oldest first, refusals kept out of the spool, a
//! bounded close, and digest heartbeats (known, a full report asked for, a server without them).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::sync::Mutex;

use flate2::read::GzDecoder;

use super::*;

/// Answers each report `POST` with the next scripted status (the last one repeats) and keeps
/// the report ids it answered 2xx; answers heartbeats with their own status (404 at first, as a
/// server older than heartbeats) and keeps their bodies.
struct Responder {
    url: String,
    script: Arc<Mutex<VecDeque<u16>>>,
    taken: Arc<Mutex<Vec<String>>>,
    heartbeat_status: Arc<Mutex<u16>>,
    heartbeats: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Responder {
    fn start(script: &[u16]) -> Responder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let taken = Arc::new(Mutex::new(Vec::new()));
        let heartbeat_status = Arc::new(Mutex::new(404));
        let heartbeats = Arc::new(Mutex::new(Vec::new()));
        let (s, t) = (script.clone(), taken.clone());
        let (hs, hb) = (heartbeat_status.clone(), heartbeats.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap_or(0);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                if request_line.contains("/api/v1/heartbeats") {
                    hb.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap());
                    let status = *hs.lock().unwrap();
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                    );
                    let _ = std::io::Write::write_all(&mut stream, answer.as_bytes());
                    continue;
                }
                let status = {
                    let mut script = s.lock().unwrap();
                    if script.len() > 1 {
                        script.pop_front().unwrap()
                    } else {
                        script[0]
                    }
                };
                if (200..300).contains(&status) {
                    let mut json = Vec::new();
                    GzDecoder::new(&body[..]).read_to_end(&mut json).unwrap();
                    let report: serde_json::Value = serde_json::from_slice(&json).unwrap();
                    t.lock()
                        .unwrap()
                        .push(report["report_id"].as_str().unwrap().to_owned());
                }
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                     content-length: 16\r\nconnection: close\r\n\r\n{{\"error\":\"nope\"}}"
                );
                let _ = std::io::Write::write_all(&mut stream, answer.as_bytes());
            }
        });
        Responder {
            url,
            script,
            taken,
            heartbeat_status,
            heartbeats,
        }
    }

    fn answer_heartbeats(&self, status: u16) {
        *self.heartbeat_status.lock().unwrap() = status;
    }

    fn heartbeats(&self) -> Vec<serde_json::Value> {
        self.heartbeats.lock().unwrap().clone()
    }

    fn answer_from_now_on(&self, status: u16) {
        *self.script.lock().unwrap() = VecDeque::from([status]);
    }

    fn taken(&self) -> Vec<String> {
        self.taken.lock().unwrap().clone()
    }
}

fn report(id: &str) -> RuntimeReport {
    serde_json::from_value(serde_json::json!({
        "schema": "runbom.runtime-report/v1", "report_id": id, "session_id": "s",
        "host": "h", "started_at": "2026-01-01T00:00:00Z", "reported_at": "2026-01-01T00:00:00Z",
        "command": [], "interpreter": { "executable": "/usr/bin/python3",
        "implementation": "cpython", "version": "3.11.2", "prefix": "/usr" },
        "processes": [], "distributions": [], "stdlib_modules": [], "unowned_modules": [],
    }))
    .unwrap()
}

fn config(server: &str, spool: &Path) -> SenderConfig {
    SenderConfig {
        spool_root: spool.to_owned(),
        exit_wait: Duration::from_millis(400),
        first_retry: Duration::from_millis(20),
        max_retry: Duration::from_millis(50),
        ..SenderConfig::new(server, "token")
    }
}

fn collect() -> (NoticeFn, Arc<Mutex<Vec<String>>>) {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let kept = notices.clone();
    let notify: NoticeFn = Box::new(move |n| kept.lock().unwrap().push(n.to_string()));
    (notify, notices)
}

#[test]
fn reports_go_straight_to_a_server_that_answers() {
    let server = Responder::start(&[201]);
    let spool = tempfile::tempdir().unwrap();
    let (notify, notices) = collect();
    let sender = ReportSender::start(config(&server.url, spool.path()), notify).unwrap();
    sender.send(&report("a"));
    sender.send(&report("b"));
    let summary = sender.close();
    assert_eq!(server.taken(), ["a", "b"]);
    assert_eq!(summary.spooled, 0);
    assert!(notices.lock().unwrap().is_empty());
}

#[test]
fn server_errors_spool_reports_that_are_resent_oldest_first_by_the_next_process() {
    let server = Responder::start(&[503]);
    let spool = tempfile::tempdir().unwrap();
    let (notify, notices) = collect();
    let sender = ReportSender::start(config(&server.url, spool.path()), notify).unwrap();
    for id in ["a", "b", "c"] {
        sender.send(&report(id));
    }
    let summary = sender.close();
    assert_eq!(summary.spooled, 3);
    assert!(server.taken().is_empty());
    assert!(
        notices.lock().unwrap()[0].contains("HTTP 503"),
        "{notices:?}"
    );

    server.answer_from_now_on(201);
    let (notify, notices) = collect();
    let next = ReportSender::start(config(&server.url, spool.path()), notify).unwrap();
    next.send(&report("d"));
    let summary = next.close();
    assert_eq!(server.taken(), ["a", "b", "c", "d"]);
    assert_eq!(summary.spooled, 0);
    assert!(
        notices
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.contains("re-sent")),
        "{notices:?}"
    );
}

#[test]
fn a_server_that_comes_back_gets_the_spool_from_the_same_process() {
    let server = Responder::start(&[503, 503, 201]);
    let spool = tempfile::tempdir().unwrap();
    let (notify, _) = collect();
    let mut config = config(&server.url, spool.path());
    config.exit_wait = Duration::from_secs(20);
    let sender = ReportSender::start(config, notify).unwrap();
    sender.send(&report("a"));
    sender.send(&report("b"));
    let summary = sender.close();
    assert_eq!(server.taken(), ["a", "b"]);
    assert_eq!(summary.spooled, 0);
}

#[test]
fn refused_reports_are_not_retried_nor_spooled() {
    let server = Responder::start(&[403]);
    let spool = tempfile::tempdir().unwrap();
    let (notify, notices) = collect();
    let sender = ReportSender::start(config(&server.url, spool.path()), notify).unwrap();
    sender.send(&report("a"));
    let summary = sender.close();
    assert_eq!(summary.spooled, 0);
    let notices = notices.lock().unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("`a`") && notices[0].contains("403") && notices[0].contains("nope"),
        "{}",
        notices[0]
    );
}

#[test]
fn an_unreachable_server_costs_a_bounded_close_and_keeps_the_reports() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let spool = tempfile::tempdir().unwrap();
    let (notify, _) = collect();
    let sender = ReportSender::start(config(&url, spool.path()), notify).unwrap();
    sender.send(&report("a"));
    let summary = sender.close();
    assert_eq!(summary.spooled, 1);
}

/// `report(id)` with the module `yaml` of PyYAML loaded: another state.
fn changed(id: &str) -> RuntimeReport {
    let mut report = report(id);
    report.distributions = serde_json::from_value(serde_json::json!([{
        "name": "PyYAML", "normalized_name": "pyyaml", "version": "6.0",
        "purl": "pkg:pypi/pyyaml@6.0", "location": "/site", "size": 1,
        "modules": [{ "name": "yaml", "pids": [1] }],
    }]))
    .unwrap();
    report
}

#[test]
fn an_unchanged_report_goes_out_as_a_heartbeat_of_the_taken_state() {
    let server = Responder::start(&[201]);
    server.answer_heartbeats(200);
    let spool = tempfile::tempdir().unwrap();
    let (notify, notices) = collect();
    let sender = ReportSender::start(config(&server.url, spool.path()), notify).unwrap();
    sender.send(&report("a"));
    sender.send(&report("b"));
    sender.send(&report("c"));
    sender.send(&changed("d"));
    sender.send(&changed("e"));
    let mut last = changed("f");
    last.complete = true;
    sender.send(&last);
    sender.close();
    assert_eq!(
        server.taken(),
        ["a", "d", "f"],
        "full: the first, a change, the last"
    );
    let beats = server.heartbeats();
    assert_eq!(beats.len(), 3, "{beats:?}");
    let digest = runbom_store::state_digest(&report("a"));
    assert_eq!(beats[0]["schema"], HEARTBEAT_SCHEMA);
    assert_eq!(beats[0]["session_id"], "s");
    assert_eq!(beats[0]["state_digest"], digest.as_str());
    assert_ne!(beats[2]["state_digest"], digest.as_str());
    assert!(notices.lock().unwrap().is_empty());
}

#[test]
fn a_server_that_asks_for_the_full_report_gets_it_at_once() {
    let server = Responder::start(&[201]);
    server.answer_heartbeats(409);
    let spool = tempfile::tempdir().unwrap();
    let (notify, _) = collect();
    let sender = ReportSender::start(config(&server.url, spool.path()), notify).unwrap();
    for id in ["a", "b", "c"] {
        sender.send(&report(id));
    }
    sender.close();
    assert_eq!(server.taken(), ["a", "b", "c"]);
    assert_eq!(
        server.heartbeats().len(),
        2,
        "each heartbeat was tried first"
    );
}

#[test]
fn a_server_without_heartbeats_gets_full_reports_from_then_on() {
    let server = Responder::start(&[201]);
    let spool = tempfile::tempdir().unwrap();
    let (notify, _) = collect();
    let sender = ReportSender::start(config(&server.url, spool.path()), notify).unwrap();
    for id in ["a", "b", "c", "d"] {
        sender.send(&report(id));
    }
    sender.close();
    assert_eq!(server.taken(), ["a", "b", "c", "d"]);
    assert_eq!(server.heartbeats().len(), 1, "asked once (404), then never");
}

#[test]
fn a_heartbeat_the_server_cannot_take_is_spooled_as_its_full_report() {
    let server = Responder::start(&[201]);
    server.answer_heartbeats(503);
    let spool = tempfile::tempdir().unwrap();
    let (notify, _) = collect();
    let sender = ReportSender::start(config(&server.url, spool.path()), notify).unwrap();
    sender.send(&report("a"));
    sender.send(&report("b"));
    let summary = sender.close();
    // `b` went to the spool and was re-sent in full once the server answered reports again.
    assert_eq!(server.taken(), ["a", "b"]);
    assert_eq!(summary.spooled, 0);
}
