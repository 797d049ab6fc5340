//! A recording HTTP/1.1 proxy: forwards every request to one upstream and keeps a copy
//! of what was asked (method, path, body).
//!
//! It exists so that a test can assert exactly what reached the identity server:
//! Sydent itself logs only "Lookup of N threepid(s)", never the hashes. Plain threads and
//! blocking sockets keep it independent of the async runtime of the client under test.
//! It understands what HTTP clients send to an API (`Content-Length` or chunked bodies,
//! keep-alive); it is not a general-purpose proxy.
//!
//! It can also stand in for a homeserver that misbehaves the way real ones do ([`Fault`]):
//! a missing endpoint (an older server without sliding sync), rate limiting (429 with
//! `Retry-After`), an overloaded worker (503). The rest of the traffic still reaches the
//! real server behind it.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use crate::{Error, Result};

/// One request as it arrived at the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query, e.g. `/_matrix/identity/v2/lookup`.
    pub path: String,
    /// The request body, byte for byte.
    pub body: Vec<u8>,
    /// The upstream's status code (0 if the upstream could not be reached), or the
    /// injected fault's.
    pub status: u16,
    /// Answered by a [`Fault`], not forwarded.
    pub injected: bool,
    /// When the request arrived (to check how clients space their retries).
    pub at: std::time::Instant,
}

/// An answer the proxy gives instead of forwarding, to requests whose path contains
/// [`Fault::path_contains`].
#[derive(Debug, Clone)]
pub struct Fault {
    /// Requests whose path (with query) contains this are answered by the fault.
    pub path_contains: String,
    /// Only requests with this method (`None`: any).
    pub method: Option<String>,
    /// The status code.
    pub status: u16,
    /// Extra headers (`Retry-After`, …).
    pub headers: Vec<(String, String)>,
    /// The body (a Matrix error is JSON: `{"errcode": …, "error": …}`).
    pub body: String,
    /// How many requests it answers before it is used up; `None`: until cleared.
    pub times: Option<usize>,
}

impl Fault {
    /// A fault answering every request whose path contains `path_contains`.
    pub fn new(path_contains: &str, status: u16, body: &str) -> Fault {
        Fault {
            path_contains: path_contains.to_owned(),
            method: None,
            status,
            headers: Vec::new(),
            body: body.to_owned(),
            times: None,
        }
    }

    /// Only for requests with this method.
    pub fn method(mut self, method: &str) -> Fault {
        self.method = Some(method.to_owned());
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Fault {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Answers only the next `n` matching requests.
    pub fn times(mut self, n: usize) -> Fault {
        self.times = Some(n);
        self
    }

    fn matches(&self, req: &Request) -> bool {
        req.path.contains(&self.path_contains)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&req.method))
    }
}

impl Recorded {
    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The running proxy; stops accepting when dropped.
#[derive(Debug)]
pub struct RecordingProxy {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
    faults: Arc<Mutex<Vec<Fault>>>,
    stop: Arc<AtomicBool>,
}

impl RecordingProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://host:port`).
    pub fn start(upstream: &str) -> Result<RecordingProxy> {
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Io("proxy bind".into(), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Io("proxy bind".into(), e))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let upstream = upstream.trim_end_matches('/').to_owned();
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(120))
            .build();
        let faults = Arc::new(Mutex::new(Vec::<Fault>::new()));
        let (log2, stop2, faults2) = (log.clone(), stop.clone(), faults.clone());
        std::thread::Builder::new()
            .name("recording-proxy".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (agent, log, upstream) = (agent.clone(), log2.clone(), upstream.clone());
                    let faults = faults2.clone();
                    let _ = std::thread::Builder::new()
                        .name("recording-proxy-conn".into())
                        .spawn(move || serve(conn, &agent, &upstream, &log, &faults));
                }
            })
            .map_err(|e| Error::Io("proxy thread".into(), e))?;
        Ok(RecordingProxy {
            addr,
            log,
            faults,
            stop,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A copy of every request so far, in arrival order.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Forgets the requests recorded so far.
    pub fn clear(&self) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Answers matching requests with `fault` from now on (the first matching fault of
    /// those injected wins).
    pub fn inject(&self, fault: Fault) {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(fault);
    }

    /// Forwards everything again.
    pub fn clear_faults(&self) {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Hop-by-hop headers and those the proxy sets itself.
fn skipped(name: &str) -> bool {
    [
        "host",
        "connection",
        "keep-alive",
        "content-length",
        "transfer-encoding",
        "proxy-connection",
        "upgrade",
        "te",
        "trailer",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// Serves one client connection until it closes (or idles for a minute).
fn serve(
    conn: TcpStream,
    agent: &ureq::Agent,
    upstream: &str,
    log: &Mutex<Vec<Recorded>>,
    faults: &Mutex<Vec<Fault>>,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    while let Ok(Some(req)) = read_request(&mut reader) {
        let at = std::time::Instant::now();
        let fault = take_fault(faults, &req);
        let injected = fault.is_some();
        let (status, reason, headers, body) = match fault {
            Some(f) => (
                f.status,
                "Injected".to_owned(),
                f.headers
                    .into_iter()
                    .chain([("Content-Type".to_owned(), "application/json".to_owned())])
                    .collect(),
                f.body.into_bytes(),
            ),
            None => forward(agent, upstream, &req),
        };
        log.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Recorded {
                method: req.method.clone(),
                path: req.path.clone(),
                body: req.body,
                status,
                injected,
                at,
            });
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\n",
            if status == 0 { 502 } else { status }
        );
        for (k, v) in headers.iter().filter(|(k, _)| !skipped(k)) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        if out.write_all(head.as_bytes()).is_err() || out.write_all(&body).is_err() {
            return;
        }
        let _ = out.flush();
        if req.close {
            return;
        }
    }
}

/// The first fault matching `req`, counted down (and removed when used up).
fn take_fault(faults: &Mutex<Vec<Fault>>, req: &Request) -> Option<Fault> {
    let mut faults = faults.lock().unwrap_or_else(|p| p.into_inner());
    let i = faults.iter().position(|f| f.matches(req))?;
    let fault = faults[i].clone();
    if let Some(n) = &mut faults[i].times {
        if *n <= 1 {
            faults.remove(i);
        } else {
            *n -= 1;
        }
    }
    Some(fault)
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    close: bool,
}

fn read_line(r: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

fn bad(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.to_owned())
}

/// Reads one request; `Ok(None)` when the client closed the connection.
fn read_request(r: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let Some(line) = read_line(r)? else {
        return Ok(None);
    };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("bad request line"));
    };
    let mut headers = Vec::new();
    loop {
        let line = read_line(r)?.ok_or_else(|| bad("eof in headers"))?;
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').ok_or_else(|| bad("bad header"))?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let size = read_line(r)?.ok_or_else(|| bad("eof in chunk"))?;
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                // Trailers until the empty line.
                while read_line(r)?.is_some_and(|l| !l.is_empty()) {}
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..])?;
            read_line(r)?;
        }
    } else if let Some(n) = header("content-length") {
        let n: usize = n.parse().map_err(|_| bad("bad content-length"))?;
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    }
    let close = header("connection").is_some_and(|v| v.contains("close"))
        || version.eq_ignore_ascii_case("HTTP/1.0");
    Ok(Some(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        headers,
        body,
        close,
    }))
}

type Answer = (u16, String, Vec<(String, String)>, Vec<u8>);

/// Sends the request upstream; any upstream status (also 4xx/5xx) is passed through.
fn forward(agent: &ureq::Agent, upstream: &str, req: &Request) -> Answer {
    let mut call = agent.request(&req.method, &format!("{upstream}{}", req.path));
    for (k, v) in req.headers.iter().filter(|(k, _)| !skipped(k)) {
        call = call.set(k, v);
    }
    let resp = match call.send_bytes(&req.body) {
        Ok(resp) | Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => {
            return (
                0,
                "Bad Gateway".into(),
                Vec::new(),
                format!("proxy: {e}").into_bytes(),
            );
        }
    };
    let status = resp.status();
    let reason = resp.status_text().to_owned();
    let headers = resp
        .headers_names()
        .into_iter()
        .flat_map(|name| {
            resp.all(&name)
                .into_iter()
                .map(|v| (name.clone(), v.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut body = Vec::new();
    let _ = resp.into_reader().take(64 << 20).read_to_end(&mut body);
    (status, reason, headers, body)
}
