//! A fault-injecting SMTP sink for tests: plain `std::net`, one thread per connection, speaking
//! just enough SMTP for a client to deliver, and breaking the connection on demand at the
//! points where a client can lose or duplicate a message.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// What to do to one mail transaction (consumed in order, one per MAIL command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Behave.
    None,
    /// Close the connection instead of answering MAIL.
    DropAfterMail,
    /// Close the connection instead of answering DATA.
    DropAfterDataCommand,
    /// Answer DATA with 354, then close before reading the message.
    DropAfter354,
    /// Read the whole message (up to the final dot), then close without answering.
    DropAfterBody,
    /// Read the whole message, then answer 451 (temporary failure: not accepted).
    TempFailBody,
    /// Answer RCPT with 550.
    RejectRcpt,
}

/// A message whose final dot the sink read.
#[derive(Debug, Clone)]
pub struct Received {
    pub data: String,
    /// The sink answered 250 (the client knows it was delivered).
    pub acknowledged: bool,
    /// The sink refused it after reading it (4xx): not delivered.
    pub refused: bool,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.data, name)
    }
    /// Counts as delivered: the server has it and did not refuse it, answered or not.
    pub fn delivered(&self) -> bool {
        !self.refused
    }
}

/// A header's unfolded value from a raw message.
pub fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let mut value: Option<String> = None;
    for line in head.split("\r\n") {
        if let Some(v) = value.as_mut() {
            if line.starts_with(' ') || line.starts_with('\t') {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_string());
            }
        }
    }
    value
}

pub struct Sink {
    pub port: u16,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    received: Arc<Mutex<Vec<Received>>>,
    connections: Arc<Mutex<usize>>,
}

impl Sink {
    /// Listens on a free loopback port; `faults` apply to the first transactions in order.
    pub fn start(faults: &[Fault]) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let faults = Arc::new(Mutex::new(faults.iter().copied().collect::<VecDeque<_>>()));
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (f, r, c) = (faults.clone(), received.clone(), connections.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                *c.lock().unwrap() += 1;
                let (f, r) = (f.clone(), r.clone());
                thread::spawn(move || {
                    let _ = serve(stream, &f, &r);
                });
            }
        });
        Sink {
            port,
            faults,
            received,
            connections,
        }
    }

    pub fn push_faults(&self, faults: &[Fault]) {
        self.faults.lock().unwrap().extend(faults.iter().copied());
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Messages the server has (delivered or possibly delivered).
    pub fn delivered(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|m| m.delivered())
            .collect()
    }

    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

fn serve(
    stream: TcpStream,
    faults: &Mutex<VecDeque<Fault>>,
    received: &Mutex<Vec<Received>>,
) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let drop_conn = |out: &TcpStream| {
        let _ = out.shutdown(Shutdown::Both);
    };
    out.write_all(b"220 sink.test ESMTP fault sink\r\n")?;
    let mut fault = Fault::None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        if cmd.starts_with("EHLO") {
            out.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 PIPELINING\r\n")?;
        } else if cmd.starts_with("HELO") {
            out.write_all(b"250 sink.test\r\n")?;
        } else if cmd.starts_with("MAIL FROM:") {
            fault = faults.lock().unwrap().pop_front().unwrap_or(Fault::None);
            if fault == Fault::DropAfterMail {
                drop_conn(&out);
                return Ok(());
            }
            out.write_all(b"250 OK\r\n")?;
        } else if cmd.starts_with("RCPT TO:") {
            if fault == Fault::RejectRcpt {
                out.write_all(b"550 no such user\r\n")?;
            } else {
                out.write_all(b"250 OK\r\n")?;
            }
        } else if cmd == "DATA" {
            if fault == Fault::DropAfterDataCommand {
                drop_conn(&out);
                return Ok(());
            }
            out.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
            if fault == Fault::DropAfter354 {
                drop_conn(&out);
                return Ok(());
            }
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l)? == 0 {
                    // Client went away mid-message: nothing received.
                    return Ok(());
                }
                if l == ".\r\n" {
                    break;
                }
                let l = l.strip_prefix('.').map(str::to_string).unwrap_or(l);
                data.push_str(&l);
            }
            let mut msg = Received {
                data,
                acknowledged: false,
                refused: false,
            };
            match fault {
                Fault::DropAfterBody => {
                    received.lock().unwrap().push(msg);
                    drop_conn(&out);
                    return Ok(());
                }
                Fault::TempFailBody => {
                    msg.refused = true;
                    received.lock().unwrap().push(msg);
                    out.write_all(b"451 try again later\r\n")?;
                }
                _ => {
                    msg.acknowledged = true;
                    let mut all = received.lock().unwrap();
                    all.push(msg);
                    // Postfix's wording, with the sink's own queue id.
                    let reply = format!("250 2.0.0 Ok: queued as SINK{}\r\n", all.len());
                    drop(all);
                    out.write_all(reply.as_bytes())?;
                }
            }
            fault = Fault::None;
        } else if cmd == "RSET" || cmd == "NOOP" {
            out.write_all(b"250 OK\r\n")?;
        } else if cmd == "QUIT" {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"500 unknown command\r\n")?;
        }
    }
}

/// Decodes a quoted-printable body (soft line breaks and `=XX`) as UTF-8.
pub fn quoted_printable_decode(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
