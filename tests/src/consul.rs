//! A Consul agent double: a real HTTP/1.1 server on `127.0.0.1:0` that answers the
//! agent API the way Consul does, records every request, and can be told to misbehave.
//!
//! **Why a double.** No real Consul agent can be installed on the machines these tests
//! run on: Debian bookworm has no `consul` candidate (`apt-cache policy consul`:
//! "Candidate: (none)"), and PyPI and npm only carry clients and wrappers, not the agent.
//! So this double reproduces what the registration path depends on, following Consul's
//! agent HTTP API documentation ("Service - Agent HTTP API",
//! <https://developer.hashicorp.com/consul/api-docs/agent/service>) and its source,
//! `agent/agent_endpoint.go` / `structs/check_type.go`:
//!
//! | request | answer |
//! |---|---|
//! | `PUT /v1/agent/service/register` | 200, empty body; the service is stored under `ID` (default `Name`), replacing one with the same id |
//! | … body not a JSON object, wrong field types, bad Go duration | 400 `Request decode failed: …` |
//! | … no `Name` | 400 `Missing service name` |
//! | … `Address` `0.0.0.0` / `::` | 400 `Invalid service address` |
//! | … HTTP/TCP check without `Interval`, `Interval` with `TTL`, neither | 400 `Invalid check: …` |
//! | … bad check `Status` | 400 `Status for checks must 'passing', 'warning', 'critical'` |
//! | `PUT /v1/agent/service/deregister/<id>` | 200, empty body; unknown id: 404 `Unknown service ID "<id>". Ensure that the service ID is passed, not the service name.` |
//! | another method on those two | 405 with `Allow: OPTIONS,PUT` (`OPTIONS`: 200 with it) |
//! | ACLs on ([`ConsulDouble::start_with_acl`]), token missing | 403 `Permission denied: …` |
//! | ACLs on, wrong token | 403 `ACL not found` |
//! | `GET /v1/agent/services` | the services keyed by id (key `Service`, not `Name`); with ACLs on and no token, `{}` |
//! | `GET /v1/agent/self` | a minimal `Config`/`Member` document |
//! | `GET /prometheus/http_sd` (not Consul) | Prometheus `http_sd_configs` JSON of the registered services |
//! | any other path | 404 `Invalid URL path: not a recognized HTTP API endpoint` |
//!
//! The token is read from `X-Consul-Token`, `Authorization: Bearer` or `?token=`.
//! Every response has `Content-Length` and `X-Consul-Default-Acl-Policy`; connections are
//! kept alive unless the client sends `Connection: close`. Keys in the register body are
//! matched case-insensitively (Go's `encoding/json`), with Consul's snake_case aliases for
//! the check fields. Known simplification: the token is checked before the service exists
//! on deregistration (Consul may answer 404 first for the anonymous token).
//!
//! Faults ([`ConsulDouble::inject`]) apply per [`Endpoint`]: a fixed answer, a delay,
//! or silence (the request is read and never answered), for the timeout tests. Requests
//! are recorded before any fault applies.
//!
//! Dropping the double stops its threads; the join is bounded (connection threads poll
//! the stop flag every 20 ms).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

/// How often blocked threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// How long `drop` waits for the threads before leaving them detached.
const JOIN_BOUND: Duration = Duration::from_secs(2);
/// Requests larger than this are refused (413), as a bound on test memory.
const MAX_REQUEST: usize = 1024 * 1024;

/// The endpoints faults can be injected on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/v1/agent/service/register`.
    Register,
    /// `/v1/agent/service/deregister/<id>`.
    Deregister,
    /// `/v1/agent/services`.
    Services,
    /// `/prometheus/http_sd`.
    HttpSd,
}

/// A misbehaviour of one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status and body (text/plain) without looking at the request.
    Status(u16, String),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Read the request and never answer; the connection stays open until the client
    /// closes it or the double stops.
    Silent,
    /// Tell the gate the request arrived, wait until it is released (or the double
    /// stops), then answer normally.
    Hold(Gate),
}

/// Where a test sees a [`Fault::Hold`] request arrive and lets it through.
#[derive(Clone, Debug, Default)]
pub struct Gate(Arc<(Mutex<GateState>, Condvar)>);

#[derive(Debug, Default)]
struct GateState {
    arrived: usize,
    released: bool,
}

impl Gate {
    /// A closed gate that has seen no request.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, GateState> {
        self.0.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `limit` for a held request to arrive; whether one did.
    #[must_use]
    pub fn wait_arrived(&self, limit: Duration) -> bool {
        let state = self.state();
        let (state, _) = self
            .0
            .1
            .wait_timeout_while(state, limit, |state| state.arrived == 0)
            .unwrap_or_else(PoisonError::into_inner);
        state.arrived > 0
    }

    /// Lets every held request (and any later one) through.
    pub fn release(&self) {
        self.state().released = true;
        self.0.1.notify_all();
    }

    /// Records an arrival and waits for the release, checking `stopping` every
    /// [`POLL`].
    fn hold(&self, stopping: impl Fn() -> bool) {
        let mut state = self.state();
        state.arrived += 1;
        self.0.1.notify_all();
        while !state.released && !stopping() {
            state = self
                .0
                .1
                .wait_timeout(state, POLL)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl PartialEq for Gate {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Gate {}

/// One request as the double received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method.
    pub method: String,
    /// The request target: path and query, still percent-encoded.
    pub target: String,
    /// The headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A service as the double stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// `ID` (defaults to the name).
    pub id: String,
    /// `Name`.
    pub name: String,
    /// `Tags` (`null` becomes empty).
    pub tags: Vec<String>,
    /// `Address` (may be empty).
    pub address: String,
    /// `Port`.
    pub port: u16,
    /// `Meta`.
    pub meta: BTreeMap<String, String>,
    /// The `Check`, if one was given.
    pub check: Option<Check>,
}

/// A service's check as the double stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// `HTTP`, empty when not an HTTP check.
    pub http: String,
    /// `Interval`, parsed.
    pub interval: Option<Duration>,
    /// `Timeout`, parsed.
    pub timeout: Option<Duration>,
    /// `DeregisterCriticalServiceAfter`, parsed.
    pub deregister_critical_after: Option<Duration>,
    /// `TLSSkipVerify` (`tls_skip_verify`), false when absent.
    pub tls_skip_verify: bool,
}

#[derive(Default)]
struct State {
    services: BTreeMap<String, Service>,
    requests: Vec<RecordedRequest>,
    faults: HashMap<Endpoint, Fault>,
}

struct Shared {
    state: Mutex<State>,
    acl_token: Option<String>,
    stop: AtomicBool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not hide what was recorded.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn stopping(&self) -> bool {
        // Relaxed: the flag carries no data; threads only need to see it eventually.
        self.stop.load(Ordering::Relaxed)
    }
}

/// The running double. See the [module docs](self).
pub struct ConsulDouble {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl ConsulDouble {
    /// Starts a double with ACLs off.
    ///
    /// # Errors
    ///
    /// When `127.0.0.1:0` cannot be bound.
    pub fn start() -> io::Result<ConsulDouble> {
        ConsulDouble::spawn(None)
    }

    /// Starts a double whose ACL system accepts only `token` (default policy `deny`).
    ///
    /// # Errors
    ///
    /// When `127.0.0.1:0` cannot be bound.
    pub fn start_with_acl(token: &str) -> io::Result<ConsulDouble> {
        ConsulDouble::spawn(Some(token.to_owned()))
    }

    fn spawn(acl_token: Option<String>) -> io::Result<ConsulDouble> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            acl_token,
            stop: AtomicBool::new(false),
        });
        let acceptor = thread::Builder::new()
            .name("consul-double".to_owned())
            .spawn({
                let shared = Arc::clone(&shared);
                move || accept_loop(&listener, &shared)
            })?;
        Ok(ConsulDouble {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, as `CONSUL_HTTP_ADDR` would hold it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of the Prometheus `http_sd_configs` endpoint.
    pub fn http_sd_url(&self) -> String {
        format!("http://{}/prometheus/http_sd", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// The registered services, by id.
    pub fn services(&self) -> BTreeMap<String, Service> {
        self.shared.state().services.clone()
    }

    /// Makes `endpoint` misbehave until [`ConsulDouble::clear_faults`].
    pub fn inject(&self, endpoint: Endpoint, fault: Fault) {
        self.shared.state().faults.insert(endpoint, fault);
    }

    /// Makes every endpoint behave again.
    pub fn clear_faults(&self) {
        self.shared.state().faults.clear();
    }
}

impl Drop for ConsulDouble {
    fn drop(&mut self) {
        // Relaxed: see `Shared::stopping`.
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(acceptor) = self.acceptor.take() {
            join_bounded(acceptor, Instant::now() + JOIN_BOUND);
        }
    }
}

fn join_bounded(handle: JoinHandle<()>, deadline: Instant) {
    while !handle.is_finished() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    if handle.is_finished() {
        // A panic in a connection thread already failed the test's assertion on the
        // answer it did not send; nothing to add here.
        let _ = handle.join();
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(shared);
                if let Ok(handle) = thread::Builder::new()
                    .name("consul-double-conn".to_owned())
                    .spawn(move || serve_connection(stream, &shared))
                {
                    connections.push(handle);
                }
                connections.retain(|c| !c.is_finished());
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => thread::sleep(POLL / 4),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => thread::sleep(POLL),
        }
    }
    let deadline = Instant::now() + JOIN_BOUND;
    for connection in connections {
        join_bounded(connection, deadline);
    }
}

/// What reading one request produced.
enum Incoming {
    Request(RecordedRequest),
    /// The peer closed (or the double stops) between requests.
    Closed,
    /// Unparseable: answer 400 and close.
    Bad(String),
    TooLarge,
}

fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    if stream.set_read_timeout(Some(POLL)).is_err() {
        return;
    }
    let mut buffer = Vec::new();
    loop {
        let request = match read_request(&mut stream, &mut buffer, shared) {
            Incoming::Request(request) => request,
            Incoming::Closed => return,
            Incoming::Bad(reason) => {
                let _ = write_response(&mut stream, &Answer::text(400, &reason), true);
                return;
            }
            Incoming::TooLarge => {
                let _ = write_response(&mut stream, &Answer::text(413, "Request too large"), true);
                return;
            }
        };
        let close = request
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let endpoint = endpoint_of(request.path());
        let fault = {
            let mut state = shared.state();
            state.requests.push(request.clone());
            endpoint.and_then(|e| state.faults.get(&e).cloned())
        };
        let answer = match fault {
            Some(Fault::Status(status, body)) => Answer::text(status, &body),
            Some(Fault::Silent) => {
                // Hold the connection open, unanswered, until the client gives up.
                let mut sink = [0u8; 512];
                while !shared.stopping() {
                    match stream.read(&mut sink) {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(e) if is_timeout(&e) => {}
                        Err(_) => return,
                    }
                }
                return;
            }
            Some(Fault::Hold(gate)) => {
                gate.hold(|| shared.stopping());
                if shared.stopping() {
                    return;
                }
                handle(&request, shared)
            }
            Some(Fault::Delay(delay)) => {
                let until = Instant::now() + delay;
                while Instant::now() < until {
                    if shared.stopping() {
                        return;
                    }
                    thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
                }
                handle(&request, shared)
            }
            None => handle(&request, shared),
        };
        if write_response(&mut stream, &answer, close).is_err() || close {
            let _ = stream.shutdown(Shutdown::Write);
            return;
        }
    }
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>, shared: &Shared) -> Incoming {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = match std::str::from_utf8(&buffer[..end]) {
                Ok(head) => head.to_owned(),
                Err(_) => return Incoming::Bad("Request head is not UTF-8".to_owned()),
            };
            let mut lines = head.split("\r\n");
            let line = lines.next().unwrap_or_default();
            let mut parts = line.split(' ');
            let (Some(method), Some(target), Some(version), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Incoming::Bad(format!("Malformed request line {line:?}"));
            };
            if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
                return Incoming::Bad(format!("Malformed request line {line:?}"));
            }
            let mut headers = Vec::new();
            for line in lines {
                let Some((name, value)) = line.split_once(':') else {
                    return Incoming::Bad(format!("Malformed header line {line:?}"));
                };
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
            let header = |n: &str| {
                headers
                    .iter()
                    .find(|(h, _): &&(String, String)| h.eq_ignore_ascii_case(n))
                    .map(|(_, v)| v.clone())
            };
            if header("transfer-encoding").is_some() {
                return Incoming::Bad(
                    "Chunked request bodies are not supported by the double".to_owned(),
                );
            }
            let length = match header("content-length").map(|v| v.parse::<usize>()) {
                None => 0,
                Some(Ok(n)) if n <= MAX_REQUEST => n,
                Some(Ok(_)) => return Incoming::TooLarge,
                Some(Err(_)) => return Incoming::Bad("Invalid Content-Length".to_owned()),
            };
            while buffer.len() < end + 4 + length {
                match stream.read(&mut chunk) {
                    Ok(0) => return Incoming::Closed,
                    Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    Err(e) if is_timeout(&e) && !shared.stopping() => {}
                    Err(_) => return Incoming::Closed,
                }
            }
            let body = buffer[end + 4..end + 4 + length].to_vec();
            buffer.drain(..end + 4 + length);
            return Incoming::Request(RecordedRequest {
                method: method.to_owned(),
                target: target.to_owned(),
                headers,
                body,
            });
        }
        if buffer.len() > MAX_REQUEST {
            return Incoming::TooLarge;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Incoming::Closed,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) => {
                if shared.stopping() {
                    return Incoming::Closed;
                }
            }
            Err(_) => return Incoming::Closed,
        }
    }
}

struct Answer {
    status: u16,
    content_type: &'static str,
    extra: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn text(status: u16, body: &str) -> Answer {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            extra: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn empty() -> Answer {
        Answer::text(200, "")
    }

    fn json(value: &Value) -> Answer {
        Answer {
            status: 200,
            content_type: "application/json",
            extra: Vec::new(),
            body: value.to_string().into_bytes(),
        }
    }

    fn method_not_allowed(method: &str) -> Answer {
        let mut answer = if method == "OPTIONS" {
            Answer::empty()
        } else {
            Answer::text(405, &format!("method {method} not allowed"))
        };
        answer.extra.push(("Allow", "OPTIONS,PUT".to_owned()));
        answer
    }
}

fn write_response(stream: &mut TcpStream, answer: &Answer, close: bool) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nVary: Accept-Encoding\r\nX-Consul-Default-Acl-Policy: allow\r\n",
        answer.status,
        reason(answer.status),
        answer.content_type,
    );
    for (name, value) in &answer.extra {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\n\r\n", answer.body.len());
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&answer.body);
    stream.write_all(&bytes)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

const REGISTER: &str = "/v1/agent/service/register";
const DEREGISTER: &str = "/v1/agent/service/deregister/";

fn endpoint_of(path: &str) -> Option<Endpoint> {
    match path {
        REGISTER => Some(Endpoint::Register),
        "/v1/agent/services" => Some(Endpoint::Services),
        "/prometheus/http_sd" => Some(Endpoint::HttpSd),
        p if p.starts_with(DEREGISTER) => Some(Endpoint::Deregister),
        _ => None,
    }
}

/// The token a request carries, as Consul reads it.
fn token_of(request: &RecordedRequest) -> Option<String> {
    if let Some(token) = request.header("x-consul-token") {
        return Some(token.to_owned());
    }
    if let Some(bearer) = request
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_owned());
    }
    let query = request.target.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(percent_decode)
}

enum Acl {
    Allowed,
    Anonymous,
    Unknown,
}

fn acl(request: &RecordedRequest, shared: &Shared) -> Acl {
    let Some(expected) = &shared.acl_token else {
        return Acl::Allowed;
    };
    match token_of(request).filter(|t| !t.is_empty()) {
        None => Acl::Anonymous,
        Some(token) if token == *expected => Acl::Allowed,
        Some(_) => Acl::Unknown,
    }
}

fn permission_denied(resource: &str) -> Answer {
    Answer::text(
        403,
        &format!(
            "Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' \
             lacks permission 'service:write' on {resource:?}"
        ),
    )
}

fn handle(request: &RecordedRequest, shared: &Shared) -> Answer {
    let path = request.path();
    match endpoint_of(path) {
        Some(Endpoint::Register) if request.method != "PUT" => {
            Answer::method_not_allowed(&request.method)
        }
        Some(Endpoint::Register) => register(request, shared),
        Some(Endpoint::Deregister) if request.method != "PUT" => {
            Answer::method_not_allowed(&request.method)
        }
        Some(Endpoint::Deregister) => {
            deregister(&percent_decode(&path[DEREGISTER.len()..]), request, shared)
        }
        Some(Endpoint::Services) if request.method == "GET" => match acl(request, shared) {
            Acl::Unknown => Answer::text(403, "ACL not found"),
            // With default policy deny, the anonymous token sees nothing.
            Acl::Anonymous => Answer::json(&json!({})),
            Acl::Allowed => Answer::json(&services_json(&shared.state().services)),
        },
        Some(Endpoint::HttpSd) if request.method == "GET" => {
            Answer::json(&http_sd_json(&shared.state().services))
        }
        _ if path == "/v1/agent/self" && request.method == "GET" => Answer::json(&json!({
            "Config": {"Datacenter": "dc1", "NodeName": "torchlight-double"},
            "Member": {"Addr": "127.0.0.1"},
        })),
        Some(_) => Answer::text(405, &format!("method {} not allowed", request.method)),
        None => Answer::text(404, "Invalid URL path: not a recognized HTTP API endpoint"),
    }
}

fn register(request: &RecordedRequest, shared: &Shared) -> Answer {
    let service = match decode_service(&request.body) {
        Ok(service) => service,
        Err(Invalid(message)) => return Answer::text(400, &message),
    };
    match acl(request, shared) {
        Acl::Allowed => {}
        Acl::Anonymous => return permission_denied(&service.name),
        Acl::Unknown => return Answer::text(403, "ACL not found"),
    }
    shared.state().services.insert(service.id.clone(), service);
    Answer::empty()
}

fn deregister(id: &str, request: &RecordedRequest, shared: &Shared) -> Answer {
    if id.contains('\n') {
        return Answer::text(400, "Invalid service ID: contains a newline");
    }
    let mut state = shared.state();
    match acl(request, shared) {
        Acl::Allowed => {}
        Acl::Anonymous => {
            let name = state.services.get(id).map_or(id, |s| s.name.as_str());
            return permission_denied(name);
        }
        Acl::Unknown => return Answer::text(403, "ACL not found"),
    }
    match state.services.remove(id) {
        Some(_) => Answer::empty(),
        None => Answer::text(
            404,
            &format!(
                "Unknown service ID {id:?}. Ensure that the service ID is passed, not the service name."
            ),
        ),
    }
}

/// A 400 answer's body.
struct Invalid(String);

fn decode_failed(reason: impl std::fmt::Display) -> Invalid {
    Invalid(format!("Request decode failed: {reason}"))
}

/// Looks a key up as Go's `encoding/json` does (case-insensitively), also under Consul's
/// snake_case alias.
fn field<'v>(object: &'v Map<String, Value>, name: &str, alias: Option<&str>) -> Option<&'v Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name) || alias.is_some_and(|a| k.as_str() == a))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn string_field(
    object: &Map<String, Value>,
    name: &str,
    alias: Option<&str>,
) -> Result<String, Invalid> {
    match field(object, name, alias) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(decode_failed(format!(
            "json: cannot unmarshal {} into Go struct field .{name} of type string",
            json_type(other)
        ))),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn duration_field(
    object: &Map<String, Value>,
    name: &str,
    alias: &str,
) -> Result<Option<Duration>, Invalid> {
    match field(object, name, Some(alias)) {
        None => Ok(None),
        Some(Value::String(s)) => parse_go_duration(s).map(Some).map_err(decode_failed),
        // A JSON number is nanoseconds.
        Some(Value::Number(n)) => match n.as_u64() {
            Some(nanos) => Ok(Some(Duration::from_nanos(nanos))),
            None => Err(decode_failed(format!("invalid duration {n}"))),
        },
        Some(other) => Err(decode_failed(format!(
            "json: cannot unmarshal {} into a duration",
            json_type(other)
        ))),
    }
}

fn decode_service(body: &[u8]) -> Result<Service, Invalid> {
    let value: Value = serde_json::from_slice(body).map_err(decode_failed)?;
    let Value::Object(object) = value else {
        return Err(decode_failed(format!(
            "json: cannot unmarshal {} into Go value of type structs.ServiceDefinition",
            json_type(&value)
        )));
    };
    let name = string_field(&object, "Name", None)?;
    let id = string_field(&object, "ID", None)?;
    let address = string_field(&object, "Address", None)?;
    let tags = match field(&object, "Tags", None) {
        None => Vec::new(),
        Some(Value::Array(tags)) => tags
            .iter()
            .map(|t| match t {
                Value::String(s) => Ok(s.clone()),
                other => Err(decode_failed(format!(
                    "json: cannot unmarshal {} into Go struct field .Tags of type string",
                    json_type(other)
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(decode_failed(format!(
                "json: cannot unmarshal {} into Go struct field .Tags of type []string",
                json_type(other)
            )));
        }
    };
    let port =
        match field(&object, "Port", None) {
            None => 0,
            Some(Value::Number(n)) => n.as_u64().and_then(|p| u16::try_from(p).ok()).ok_or_else(
                || {
                    decode_failed(format!(
                        "json: cannot unmarshal number {n} into Go struct field .Port of type int"
                    ))
                },
            )?,
            Some(other) => {
                return Err(decode_failed(format!(
                    "json: cannot unmarshal {} into Go struct field .Port of type int",
                    json_type(other)
                )));
            }
        };
    let meta = match field(&object, "Meta", None) {
        None => BTreeMap::new(),
        Some(Value::Object(meta)) => meta
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(decode_failed(format!(
                    "json: cannot unmarshal {} into Go struct field .Meta of type string",
                    json_type(other)
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(decode_failed(format!(
                "json: cannot unmarshal {} into Go struct field .Meta of type map[string]string",
                json_type(other)
            )));
        }
    };
    // Durations are decoded (and their syntax checked) before any validation, as in
    // Consul, where a decode hook parses them.
    let check = match field(&object, "Check", None) {
        None => None,
        Some(Value::Object(check)) => Some(decode_check(check)?),
        Some(other) => {
            return Err(decode_failed(format!(
                "json: cannot unmarshal {} into Go struct field .Check of type structs.CheckType",
                json_type(other)
            )));
        }
    };

    if name.is_empty() {
        return Err(Invalid("Missing service name".to_owned()));
    }
    let bare = address.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified()) {
        return Err(Invalid("Invalid service address".to_owned()));
    }
    if let Some((check, kind)) = &check {
        validate_check(check, kind)?;
    }
    Ok(Service {
        id: if id.is_empty() { name.clone() } else { id },
        name,
        tags,
        address,
        port,
        meta,
        check: check.map(|(check, _)| check),
    })
}

/// What `CheckType.Validate` needs beyond the stored fields.
struct CheckKind {
    interval_based: bool,
    ttl: Option<Duration>,
    status: String,
}

fn decode_check(object: &Map<String, Value>) -> Result<(Check, CheckKind), Invalid> {
    let http = string_field(object, "HTTP", None)?;
    let tcp = string_field(object, "TCP", None)?;
    let udp = string_field(object, "UDP", None)?;
    let grpc = string_field(object, "GRPC", None)?;
    let h2ping = string_field(object, "H2PING", Some("h2ping"))?;
    let args = field(object, "Args", Some("args")).is_some()
        || field(object, "ScriptArgs", Some("script_args")).is_some();
    let interval = duration_field(object, "Interval", "interval")?;
    let timeout = duration_field(object, "Timeout", "timeout")?;
    let ttl = duration_field(object, "TTL", "ttl")?;
    let deregister_critical_after = duration_field(
        object,
        "DeregisterCriticalServiceAfter",
        "deregister_critical_service_after",
    )?;
    let status = string_field(object, "Status", None)?;
    let tls_skip_verify = match field(object, "TLSSkipVerify", Some("tls_skip_verify")) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(skip)) => *skip,
        Some(other) => {
            return Err(decode_failed(format!(
                "json: cannot unmarshal {} into Go struct field .TLSSkipVerify of type bool",
                json_type(other)
            )));
        }
    };
    let interval_based = !http.is_empty()
        || !tcp.is_empty()
        || !udp.is_empty()
        || !grpc.is_empty()
        || !h2ping.is_empty()
        || args;
    Ok((
        Check {
            http,
            interval,
            timeout,
            deregister_critical_after,
            tls_skip_verify,
        },
        CheckKind {
            interval_based,
            ttl,
            status,
        },
    ))
}

fn validate_check(check: &Check, kind: &CheckKind) -> Result<(), Invalid> {
    let invalid = |m: &str| Err(Invalid(format!("Invalid check: {m}")));
    if !kind.status.is_empty()
        && !["passing", "warning", "critical"].contains(&kind.status.as_str())
    {
        return Err(Invalid(
            "Status for checks must 'passing', 'warning', 'critical'".to_owned(),
        ));
    }
    let interval = check.interval.filter(|d| !d.is_zero());
    let ttl = kind.ttl.filter(|d| !d.is_zero());
    if interval.is_some() && ttl.is_some() {
        return invalid("Interval and TTL cannot both be specified");
    }
    if kind.interval_based && interval.is_none() {
        return invalid(
            "Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks",
        );
    }
    if !kind.interval_based && ttl.is_none() {
        return invalid("TTL must be > 0 for TTL checks");
    }
    Ok(())
}

/// Go's `time.ParseDuration`, with its error messages (non-negative durations only:
/// Consul's fields are).
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    let invalid = || format!("time: invalid duration {s:?}");
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        let value: f64 = number.parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "" => return Err(format!("time: missing unit in duration {s:?}")),
            "ns" => 1e0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            other => return Err(format!("time: unknown unit {other:?} in duration {s:?}")),
        };
        total += value * scale;
    }
    if total > 9.223_372_036_854_776e18 {
        return Err(invalid());
    }
    // Truncation to whole nanoseconds, as Go does.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(Duration::from_nanos(total as u64))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn services_json(services: &BTreeMap<String, Service>) -> Value {
    let mut out = Map::new();
    for (id, s) in services {
        out.insert(
            id.clone(),
            json!({
                "ID": s.id,
                "Service": s.name,
                "Tags": s.tags,
                "Meta": s.meta,
                "Port": s.port,
                "Address": s.address,
                "Weights": {"Passing": 1, "Warning": 1},
                "EnableTagOverride": false,
                "Datacenter": "dc1",
            }),
        );
    }
    Value::Object(out)
}

/// Prometheus `http_sd_configs`: one target group per service, with the labels
/// Prometheus's Consul discovery would set.
fn http_sd_json(services: &BTreeMap<String, Service>) -> Value {
    let groups: Vec<Value> = services
        .values()
        .map(|s| {
            let host = if s.address.is_empty() {
                "127.0.0.1"
            } else {
                &s.address
            };
            let target = if host.contains(':') {
                format!("[{host}]:{}", s.port)
            } else {
                format!("{host}:{}", s.port)
            };
            let mut labels = Map::new();
            let mut label = |k: String, v: String| {
                labels.insert(k, Value::String(v));
            };
            label("__meta_consul_service".to_owned(), s.name.clone());
            label("__meta_consul_service_id".to_owned(), s.id.clone());
            label(
                "__meta_consul_service_address".to_owned(),
                s.address.clone(),
            );
            label("__meta_consul_service_port".to_owned(), s.port.to_string());
            label("__meta_consul_dc".to_owned(), "dc1".to_owned());
            label(
                "__meta_consul_tags".to_owned(),
                format!(",{},", s.tags.join(",")),
            );
            for (k, v) in &s.meta {
                label(
                    format!("__meta_consul_service_metadata_{}", sanitize_label(k)),
                    v.clone(),
                );
            }
            json!({"targets": [target], "labels": labels})
        })
        .collect();
    Value::Array(groups)
}

/// Prometheus's `strutil.SanitizeLabelName`: every character outside `[a-zA-Z0-9_]`
/// becomes `_`.
fn sanitize_label(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
