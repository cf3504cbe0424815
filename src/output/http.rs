//! The HTTP/1.1 front of `mesa serve`: just what a local preview needs (GET and HEAD, one
//! request per connection), with the limits a listening socket needs so that no client can
//! hold it: a deadline for the request head, a cap on its size, and a cap on connections
//! served at once. Past the caps a client gets 408, 431 or 503 and the connection closes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time a client has to send its whole request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line and headers) read.
pub const MAX_HEAD: usize = 16 * 1024;
/// Connections served at once; more are answered 503 and closed.
pub const MAX_CONNECTIONS: usize = 64;
/// Time a response may take to be written to a slow client.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// One request: its method and target, and the connection to answer on.
pub struct Request {
    pub method: String,
    pub url: String,
    head: bool,
    stream: TcpStream,
}

impl Request {
    /// Writes the response and closes the connection. A HEAD request gets the headers only.
    pub fn respond(mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) {
        let _ = write_response(&mut self.stream, status, headers, body, self.head);
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn write_response(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        // A value with a line break would end the header: such a header is dropped.
        if value.contains(['\r', '\n']) || name.contains(['\r', '\n', ':']) {
            continue;
        }
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(out.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// Why a request head could not be read.
enum HeadError {
    Timeout,
    TooLarge,
    Bad,
    Gone,
}

/// Reads the request head within [`HEAD_TIMEOUT`] and [`MAX_HEAD`]; the deadline is for the
/// whole head, so a client sending a byte every few seconds does not keep it open.
fn read_head(stream: &mut TcpStream) -> Result<(String, String), HeadError> {
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = find_end(&buf) {
            buf.truncate(end);
            break;
        }
        if buf.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HeadError::Timeout);
        }
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(&mut chunk) {
            Ok(0) => return Err(HeadError::Gone),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(HeadError::Timeout)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(HeadError::Gone),
        }
    }
    if buf.len() > MAX_HEAD {
        return Err(HeadError::TooLarge);
    }
    let line_end = buf.iter().position(|b| *b == b'\n').unwrap_or(buf.len());
    let line = String::from_utf8_lossy(&buf[..line_end]);
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Bad);
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || target.is_empty() {
        return Err(HeadError::Bad);
    }
    Ok((method.to_string(), target.to_string()))
}

/// End of the head (`\r\n\r\n` or a bare `\n\n`), if it has arrived.
fn find_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = buf.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A listening server: accepts connections on its own thread and hands each request to
/// `handler` on a thread per connection, within [`MAX_CONNECTIONS`].
pub struct Listener {
    stop: Arc<AtomicBool>,
    pub addr: std::net::SocketAddr,
}

impl Listener {
    pub fn start(
        listener: TcpListener,
        handler: Arc<dyn Fn(Request) + Send + Sync>,
    ) -> std::io::Result<Listener> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let active = Arc::new(AtomicUsize::new(0));
        let stopping = Arc::clone(&stop);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = conn else { continue };
                let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
                if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    active.fetch_sub(1, Ordering::SeqCst);
                    let _ = write_response(&mut stream, 503, &[("Retry-After", "1")], b"", false);
                    continue;
                }
                // The slot is released when the connection's thread ends, or at once when the
                // thread cannot be started (the closure holding it is dropped).
                let slot = Slot(Arc::clone(&active));
                let handler = Arc::clone(&handler);
                let _ = std::thread::Builder::new().spawn(move || {
                    let _slot = slot;
                    serve_one(stream, &*handler);
                });
            }
        });
        Ok(Listener { stop, addr })
    }

    /// Stops accepting connections.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// One of the [`MAX_CONNECTIONS`] places, given back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn serve_one(mut stream: TcpStream, handler: &(dyn Fn(Request) + Send + Sync)) {
    // Head and body go out in two writes: without Nagle the body does not wait for the
    // client's delayed acknowledgement of the head (issue 13's 40 ms).
    let _ = stream.set_nodelay(true);
    match read_head(&mut stream) {
        Ok((method, url)) => {
            let head = method == "HEAD";
            handler(Request {
                method,
                url,
                head,
                stream,
            });
        }
        Err(HeadError::Timeout) => {
            let _ = write_response(&mut stream, 408, &[], b"", false);
        }
        Err(HeadError::TooLarge) => {
            let _ = write_response(&mut stream, 431, &[], b"", false);
        }
        Err(HeadError::Bad) => {
            let _ = write_response(&mut stream, 400, &[], b"", false);
        }
        Err(HeadError::Gone) => {}
    }
}
