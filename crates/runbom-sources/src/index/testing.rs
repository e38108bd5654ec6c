//! A package index on 127.0.0.1 for tests: serves fixed bodies by path with an `ETag`, answers
//! `If-None-Match` with 304, and records each request's path and status. A test may change a
//! route or take the whole index down (503) while it runs. Stops when dropped.
//! Enabled by the `testing` feature.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

/// One served file.
#[derive(Debug, Clone)]
pub struct Route {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// The running server.
#[derive(Debug)]
pub struct IndexServer {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    down: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<(String, u16)>>>,
    thread: Option<JoinHandle<()>>,
}

impl IndexServer {
    /// Serves `routes` (path -> body) on a free port of 127.0.0.1.
    pub fn start(routes: HashMap<String, Route>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let routes = Arc::new(Mutex::new(routes));
        let down = Arc::new(AtomicBool::new(false));
        let thread = {
            let (stop, log) = (Arc::clone(&stop), Arc::clone(&log));
            let (routes, down) = (Arc::clone(&routes), Arc::clone(&down));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let answered = answer(stream, &routes, down.load(Ordering::SeqCst));
                        if let (Some(entry), Ok(mut log)) = (answered, log.lock()) {
                            log.push(entry);
                        }
                    }
                }
            })
        };
        Ok(Self {
            address,
            stop,
            routes,
            down,
            log,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// Serves `route` at `path` from now on (a new body gets a new `ETag`).
    pub fn set_route(&self, path: &str, route: Route) {
        if let Ok(mut routes) = self.routes.lock() {
            routes.insert(path.to_owned(), route);
        }
    }

    /// While `down`, every request is answered `503 Service Unavailable`.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Every request so far: (path, status).
    pub fn requests(&self) -> Vec<(String, u16)> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for IndexServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(
    stream: TcpStream,
    routes: &Mutex<HashMap<String, Route>>,
    down: bool,
) -> Option<(String, u16)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let path = request_line.split_whitespace().nth(1)?.to_owned();
    let mut if_none_match = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("if-none-match")
        {
            if_none_match = Some(value.trim().to_owned());
        }
    }
    let mut stream = stream;
    if down {
        write_response(&mut stream, "503 Service Unavailable", &[], b"down");
        return Some((path, 503));
    }
    let route = routes.lock().ok()?.get(&path).cloned();
    let status = match route {
        None => {
            write_response(&mut stream, "404 Not Found", &[], b"not found");
            404
        }
        Some(route) => {
            let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&route.body))[..16]);
            if if_none_match.as_deref() == Some(etag.as_str()) {
                write_response(&mut stream, "304 Not Modified", &[("ETag", &etag)], b"");
                304
            } else {
                write_response(
                    &mut stream,
                    "200 OK",
                    &[("ETag", &etag), ("Content-Type", &route.content_type)],
                    &route.body,
                );
                200
            }
        }
    };
    Some((path, status))
}

fn write_response(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body));
}
