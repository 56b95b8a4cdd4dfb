//! A tiny HTTP/1.1 server on 127.0.0.1 (random port) for the tests: serves fixture bytes
//! (honouring `Range: bytes=N-` when asked), or answers with a status, closes the
//! connection, or cuts a transfer in the middle. Logs every request.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// How the server answers one path.
#[derive(Debug, Clone)]
pub enum Route {
    /// 200 with the bytes, or 206 with the rest when a `Range: bytes=N-` comes.
    File(Vec<u8>),
    /// Like `File` but ignores `Range` (always 200 with everything).
    FileNoRange(Vec<u8>),
    /// This status with an empty body.
    Status(u16),
    /// Closes the connection without answering.
    Close,
    /// 200 without a length, then zeros sent as fast as the client takes them, forever.
    Endless,
    /// 200 without a length, then `chunk` bytes every `every_ms` milliseconds, forever.
    Trickle {
        /// Bytes per burst.
        chunk: usize,
        /// Pause between bursts.
        every_ms: u64,
    },
    /// The first request gets the full headers but only `after` bytes, then the connection
    /// is cut; later requests are served as `then`.
    CutOnce {
        /// Bytes sent before the cut.
        after: usize,
        /// How the path is served afterwards.
        then: Box<Route>,
    },
}

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// The request path.
    pub path: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
}

/// A running test server; it lives until the test process exits.
pub struct Server {
    port: u16,
    log: Arc<Mutex<Vec<Logged>>>,
}

impl Server {
    /// Starts serving `routes` (path -> route); unknown paths get 404.
    pub fn start(routes: Vec<(&str, Route)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let routes: HashMap<String, Route> = routes.into_iter().map(|(p, r)| (p.to_string(), r)).collect();
        let routes = Arc::new(Mutex::new(routes));
        let log = Arc::new(Mutex::new(Vec::new()));
        let log2 = Arc::clone(&log);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let routes = Arc::clone(&routes);
                let log = Arc::clone(&log2);
                thread::spawn(move || handle(stream, &routes, &log));
            }
        });
        Server { port, log }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }
}

/// Serves one connection (one request; every answer closes the connection).
fn handle(mut stream: TcpStream, routes: &Mutex<HashMap<String, Route>>, log: &Mutex<Vec<Logged>>) {
    let Some((path, range)) = read_head(&mut stream) else {
        return;
    };
    log.lock().unwrap().push(Logged {
        path: path.clone(),
        range: range.clone(),
    });
    let route = {
        let mut routes = routes.lock().unwrap();
        let route = routes.get(&path).cloned();
        if let Some(Route::CutOnce { then, .. }) = &route {
            routes.insert(path.clone(), (**then).clone());
        }
        route
    };
    let offset = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    match route {
        None => respond(&mut stream, 404, &[], b""),
        Some(Route::Status(code)) => respond(&mut stream, code, &[], b""),
        Some(Route::Close) => {}
        Some(Route::File(body)) => match offset {
            Some(n) if n < body.len() => {
                let range = format!("Content-Range: bytes {n}-{}/{}", body.len() - 1, body.len());
                respond(&mut stream, 206, &[range], &body[n..]);
            }
            Some(_) => respond(&mut stream, 416, &[], b""),
            None => respond(&mut stream, 200, &[], &body),
        },
        Some(Route::FileNoRange(body)) => respond(&mut stream, 200, &[], &body),
        Some(Route::Endless) => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let zeros = vec![0u8; 1 << 16];
            while stream.write_all(&zeros).is_ok() {}
        }
        Some(Route::Trickle { chunk, every_ms }) => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let bytes = vec![1u8; chunk];
            while stream.write_all(&bytes).and_then(|()| stream.flush()).is_ok() {
                thread::sleep(std::time::Duration::from_millis(every_ms));
            }
        }
        Some(Route::CutOnce { after, then }) => {
            let body = match *then {
                Route::File(b) | Route::FileNoRange(b) => b,
                _ => Vec::new(),
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..after.min(body.len())]);
            let _ = stream.flush();
        }
    }
}

/// Reads a request head; returns the path and the `Range` header.
fn read_head(stream: &mut TcpStream) -> Option<(String, Option<String>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_string();
    let range = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("range"))
        .map(|(_, v)| v.trim().to_string());
    Some((path, range))
}

/// Writes a complete response and closes.
fn respond(stream: &mut TcpStream, code: u16, headers: &[String], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}
