//! The site's HTML escaping of template values, the same bytes as Tera's own.
//!
//! Tera's default escaper (`tera::escape_html`) walks the text a `char` at a time and pushes
//! each one into the output, and it runs on every string a page prints (titles, labels,
//! names, dates): about a twentieth of a full build's instructions. [`html`] finds the six
//! special bytes and copies the runs between them whole. All six are ASCII, so a run always
//! ends on a character boundary, and no byte of a multi-byte UTF-8 character is one of them.

/// `input` with `&`, `<`, `>`, `"`, `'` and `/` replaced by their entities, exactly as
/// `tera::escape_html` does (the OWASP set: `&amp;` `&lt;` `&gt;` `&quot;` `&#x27;` `&#x2F;`).
/// Given to `Tera::set_escape_fn` for the site's templates.
pub fn html(input: &str) -> String {
    let bytes = input.as_bytes();
    // Most values have nothing to escape: one pass to find out, then one copy.
    let Some(first) = bytes.iter().position(|&b| special(b)) else {
        return input.to_string();
    };
    let mut out = String::with_capacity(input.len() + input.len() / 4 + 8);
    out.push_str(&input[..first]);
    crate::output::markdown::replace_bytes(&mut out, &input[first..], |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'\'' => Some("&#x27;"),
        b'/' => Some("&#x2F;"),
        _ => None,
    });
    out
}

/// Whether `b` is one of the six bytes [`html`] replaces: all lie in `"`..=`>` (0x22-0x3E),
/// so one subtraction and a bit of a mask decide it (bit 0 is `"` itself).
#[inline(always)]
fn special(b: u8) -> bool {
    const MASK: u64 = 1
        | 1 << (b'&' - b'"')
        | 1 << (b'\'' - b'"')
        | 1 << (b'/' - b'"')
        | 1 << (b'<' - b'"')
        | 1 << (b'>' - b'"');
    let k = b.wrapping_sub(b'"');
    k < 64 && MASK >> k & 1 == 1
}

#[cfg(test)]
mod tests {
    use super::html;

    #[test]
    fn each_special_character_alone() {
        // The entities written by hand from Tera's documented table (tera::escape_html).
        for (c, e) in [
            ("&", "&amp;"),
            ("<", "&lt;"),
            (">", "&gt;"),
            ("\"", "&quot;"),
            ("'", "&#x27;"),
            ("/", "&#x2F;"),
        ] {
            assert_eq!(html(c), e, "{c}");
        }
    }

    #[test]
    fn text_without_special_characters_is_unchanged() {
        assert_eq!(html(""), "");
        assert_eq!(html("a"), "a");
        assert_eq!(
            html("Ticket SGM-2026-000123 · Impresora"),
            "Ticket SGM-2026-000123 · Impresora"
        );
        // Neighbours of the six in ASCII, and the bytes around the mask's ends.
        assert_eq!(
            html("!#$%()*+,-.0123456789:;=?@[\\]`{|}~"),
            "!#$%()*+,-.0123456789:;=?@[\\]`{|}~"
        );
        assert_eq!(html("\u{0}\u{1f}\u{7f} \t\n"), "\u{0}\u{1f}\u{7f} \t\n");
    }

    #[test]
    fn runs_between_and_around_special_characters() {
        assert_eq!(
            html("<a href=\"/x?a=1&b='2'\">Ir</a>"),
            "&lt;a href=&quot;&#x2F;x?a=1&amp;b=&#x27;2&#x27;&quot;&gt;Ir&lt;&#x2F;a&gt;"
        );
        assert_eq!(html("a&"), "a&amp;");
        assert_eq!(html("&a"), "&amp;a");
        assert_eq!(html("&&"), "&amp;&amp;");
        assert_eq!(html("2026/11/30"), "2026&#x2F;11&#x2F;30");
        // An entity already in the text is escaped again, as Tera does.
        assert_eq!(html("&amp;"), "&amp;amp;");
    }

    #[test]
    fn multibyte_utf8_next_to_special_characters() {
        assert_eq!(html("Año <ñ> «Bogotá»"), "Año &lt;ñ&gt; «Bogotá»");
        assert_eq!(html("€/m²"), "€&#x2F;m²");
        assert_eq!(html("日本'語'"), "日本&#x27;語&#x27;");
        assert_eq!(html("🦀&🦀"), "🦀&amp;🦀");
        // A character whose UTF-8 bytes include 0x22-0x3E only as continuation bits: none does
        // (continuation bytes are 0x80-0xBF), so these pass through whole.
        assert_eq!(html("\u{222}\u{83c}\u{f0026}"), "\u{222}\u{83c}\u{f0026}");
    }

    #[test]
    fn the_same_bytes_as_teras_own_escaper() {
        // Every string of up to 3 characters over an alphabet of the six, their ASCII
        // neighbours and multi-byte characters, against the escaper Tera uses by default.
        let alphabet = [
            '&', '<', '>', '"', '\'', '/', '!', '.', '=', '?', 'a', 'ñ', '€', '🦀',
        ];
        let mut n = 0;
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    for s in [format!("{a}"), format!("{a}{b}"), format!("{a}{b}{c}")] {
                        assert_eq!(html(&s), tera::escape_html(&s), "{s:?}");
                        n += 1;
                    }
                }
            }
        }
        assert_eq!(n, 3 * 14 * 14 * 14);
    }

    #[test]
    fn long_texts_the_same_as_teras_own_escaper() {
        // Texts of every length up to 300 over a mixed alphabet, specials at every offset (a
        // fixed pseudo-random sequence, no seed to vary).
        let alphabet: Vec<char> = "&<>\"'/ abcñ€🦀0123456789.:-".chars().collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..300 {
            for sparse in [false, true] {
                let s: String = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let k = (x % alphabet.len() as u64) as usize;
                        // Sparse: about one special in 30 characters.
                        if sparse && k < 6 && !x.is_multiple_of(7) {
                            'z'
                        } else {
                            alphabet[k]
                        }
                    })
                    .collect();
                assert_eq!(html(&s), tera::escape_html(&s), "{s:?}");
            }
        }
    }

    #[test]
    fn long_runs() {
        let plain = "abcdefghij".repeat(1000);
        assert_eq!(html(&plain), plain);
        let amps = "&".repeat(1000);
        assert_eq!(html(&amps), "&amp;".repeat(1000));
        let mixed = "ñ/".repeat(500);
        assert_eq!(html(&mixed), "ñ&#x2F;".repeat(500));
        let long_then_one = format!("{}<", "x".repeat(5000));
        assert_eq!(html(&long_then_one), format!("{}&lt;", "x".repeat(5000)));
    }
}
