//! Writing real-shaped customer emails for the `mesa inbox` tests: the encodings, charsets and
//! quoting styles of common mail programs, built byte by byte (no code of mesa's involved).

use std::path::Path;

/// Base64 (RFC 4648) with 76-character lines, as MIME writes it.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out.as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// Quoted-printable (RFC 2045) of bytes, soft line breaks at 76 characters.
pub fn quoted_printable(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut line = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            out.push_str("\r\n");
            line = 0;
            i += 2;
            continue;
        }
        let enc = if (b == b' ' || b == b'\t') || (33..=126).contains(&b) && b != b'=' {
            (b as char).to_string()
        } else {
            format!("={b:02X}")
        };
        if line + enc.len() > 75 {
            out.push_str("=\r\n");
            line = 0;
        }
        line += enc.len();
        out.push_str(&enc);
        i += 1;
    }
    out
}

/// Text in ISO-8859-1 (every character must be in Latin-1).
pub fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(c as u32).expect("Latin-1 character"))
        .collect()
}

/// Text in Windows-1252: Latin-1 plus the typographic characters Outlook writes.
pub fn cp1252(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '€' => 0x80,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            c => u8::try_from(c as u32).expect("Windows-1252 character"),
        })
        .collect()
}

/// CRLF line ends, as messages travel.
pub fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Writes a message into a Maildir's `new/` (creating `cur/`, `new/`, `tmp/`).
pub fn deliver(maildir: &Path, name: &str, bytes: &[u8]) {
    for d in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(d)).unwrap();
    }
    std::fs::write(maildir.join("new").join(name), bytes).unwrap();
}
