//! Case numbers that never collide offline.
//!
//! A case number is `YYMMDD-TTRRR`: the creation date in the desk's time zone, then five
//! Crockford base-32 characters (digits and capitals without I, L, O, U, so they survive being
//! read aloud): `TT` is the 84-second slice of the day the ticket was created in (1,024 slices a
//! day) and `RRR` is 15 random bits. Example: `261126-C4K7P`.
//!
//! Why: agents create tickets in separate clones without talking to each other, so no counter
//! can be shared. Two case numbers can only be equal if they were created on the same day, in
//! the same 84-second slice, *and* drew the same 15 random bits: for two tickets created in
//! the same slice on different laptops that is 1 in 32,768, and for a desk that opens 1,000
//! tickets a day spread over a working day, about one chance in 4 million a day. A clone never
//! reuses a number it can see (it draws again), and `mesa check` and the merge driver refuse a
//! duplicate if one ever arrives. Numbers sort by creation time (to the slice) because the
//! alphabet is in ASCII order, and at 12 characters they are short enough to dictate.

use chrono::{DateTime, TimeZone, Timelike};

/// Crockford's base-32 alphabet, in ASCII order.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Whether `id` has the shape of a case number.
pub fn is_valid(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 12
        && b[..6].iter().all(u8::is_ascii_digit)
        && b[6] == b'-'
        && b[7..].iter().all(|c| ALPHABET.contains(c))
}

/// A case number for a ticket created at `at` (already in the desk's time zone) with the
/// 15 random bits `random`.
pub fn case_number<Tz: TimeZone>(at: &DateTime<Tz>, random: u16) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let seconds = at.num_seconds_from_midnight() as usize;
    let slice = seconds * 1024 / 86_400;
    let r = random as usize & 0x7fff;
    let chars = [
        ALPHABET[slice / 32],
        ALPHABET[slice % 32],
        ALPHABET[r / 1024],
        ALPHABET[(r / 32) % 32],
        ALPHABET[r % 32],
    ];
    format!(
        "{}-{}",
        at.format("%y%m%d"),
        String::from_utf8_lossy(&chars)
    )
}

/// 15 random bits from the operating system.
pub fn random_bits() -> u16 {
    let mut buf = [0u8; 2];
    if getrandom::fill(&mut buf).is_err() {
        // No OS randomness: fall back to the clock's nanoseconds, still distinct per run.
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        return (n ^ (n >> 15)) as u16 & 0x7fff;
    }
    u16::from_le_bytes(buf) & 0x7fff
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn shape_and_order() {
        let tz = FixedOffset::west_opt(5 * 3600).unwrap();
        let a = tz.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let b = tz.with_ymd_and_hms(2026, 11, 26, 17, 30, 0).unwrap();
        let ia = case_number(&a, 0x7fff);
        let ib = case_number(&b, 0);
        assert!(is_valid(&ia), "{ia}");
        assert!(is_valid(&ib), "{ib}");
        assert!(ia < ib, "{ia} < {ib}");
        assert!(ia.starts_with("261126-"));
        assert!(!is_valid("261126-C4K7I"));
        assert!(!is_valid("2611-C4K7P"));
    }
}
