//! `mesa serve` against clients that would hold it: a request head that never ends, one that
//! is too big, too many connections at once; and a non-loopback bind, which needs `--public`
//! or `--allow-remote` and says what it exposes. (Path traversal: tests/serve.rs.)

mod common;

use common::serve::{raw_request, sample_desk, Serve};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn a_request_head_that_never_ends_gets_408_within_the_deadline() {
    let (_tmp, desk) = sample_desk();
    let serve = Serve::start(&desk, &[]);
    let mut s = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let started = Instant::now();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let waited = started.elapsed();
    assert!(
        String::from_utf8_lossy(&raw).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    assert!(waited < Duration::from_secs(30), "closed after {waited:?}");
    // The server still answers.
    assert_eq!(serve.get("/").status, 200);
}

#[test]
fn an_oversized_head_gets_431_and_too_many_connections_get_503() {
    let (_tmp, desk) = sample_desk();
    let serve = Serve::start(&desk, &[]);
    let mut big = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..2000 {
        big.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "a".repeat(20)).as_bytes());
    }
    big.extend_from_slice(b"\r\n");
    let r = raw_request(serve.port, &big);
    assert_eq!(r.status, 431);

    // 64 idle connections take every place; the next one is turned away at once.
    let idle: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(("127.0.0.1", serve.port)).unwrap())
        .collect();
    // Wait until the server has counted them all: a fresh connection gets 503.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = raw_request(
            serve.port,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        if r.status == 503 {
            break;
        }
        assert!(Instant::now() < deadline, "never refused: {}", r.status);
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(20);
    while serve.get("/").status != 200 {
        assert!(Instant::now() < deadline, "places never came back");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_non_loopback_bind_needs_public_or_allow_remote() {
    let (_tmp, desk) = sample_desk();
    let out = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(&desk)
        .args(["serve", "--port", "0", "--bind", "0.0.0.0"])
        .env("MESA_LANG", "en")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--public") && err.contains("--allow-remote"),
        "{err}"
    );
    assert!(err.contains("tickets"), "says what it would expose: {err}");
    // With --public it serves the public build (and says so on stderr).
    let serve = Serve::start(&desk, &["--bind", "0.0.0.0", "--public"]);
    assert_eq!(serve.get("/").status, 200);
    assert_eq!(
        serve.get("/tickets/").status,
        404,
        "no tickets in the public build"
    );
}
