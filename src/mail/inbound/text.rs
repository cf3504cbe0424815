//! What the customer actually wrote: the reply without the quoted history and the signature,
//! and whether its first line is one of the answers the desk's emails ask for.
//!
//! Simple rules, chosen from what the common mail programs write:
//! - quoted lines (`>`) are dropped, so an answer written between quoted lines stays;
//! - everything from an attribution line is cut: Gmail and Apple Mail's `El lun, 2 nov 2026 a
//!   las 10:00, Mesa <soporte@...> escribió:` (also split over two lines) and `On ... wrote:`;
//! - everything from an Outlook header block is cut: `De:` / `From:` followed within a few
//!   lines by `Enviado:` / `Sent:` / `Fecha:` / `Date:`, and the separators Outlook puts before
//!   it (`-----Mensaje original-----`, `-----Original Message-----`, a line of underscores);
//! - everything from a signature delimiter (`-- `) or a mobile footer (`Enviado desde mi ...`,
//!   `Sent from my ...`) is cut.

use crate::rules::workflow::Answer;

/// The reply's own text: quoted history and signature removed, trailing blank lines trimmed.
pub fn strip_reply(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        let t = line.trim();
        if t.starts_with('>') {
            i += 1;
            continue;
        }
        if is_signature(line) || is_separator(t) || is_attribution(t) {
            break;
        }
        if let Some(next) = lines.get(i + 1) {
            let joined = format!("{t} {}", next.trim());
            if is_attribution(&joined) && !t.is_empty() && starts_attribution(t) {
                break;
            }
        }
        if is_header_block(&lines[i..]) {
            break;
        }
        kept.push(line);
        i += 1;
    }
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    while kept.first().is_some_and(|l| l.trim().is_empty()) {
        kept.remove(0);
    }
    kept.join("\n")
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn starts_attribution(t: &str) -> bool {
    let l = lower(t);
    l.starts_with("el ") || l.starts_with("on ") || l.starts_with("le ")
}

/// `El ... escribió:` / `On ... wrote:` (one line).
fn is_attribution(t: &str) -> bool {
    let l = lower(t.trim());
    starts_attribution(&l)
        && (l.ends_with("escribió:") || l.ends_with("escribio:") || l.ends_with("wrote:"))
}

fn is_signature(line: &str) -> bool {
    let t = line.trim_end_matches(['\r']);
    if t == "-- " || t == "--" {
        return true;
    }
    let l = lower(t.trim());
    l.starts_with("enviado desde mi ")
        || l.starts_with("sent from my ")
        || l.starts_with("enviado desde outlook")
        || l.starts_with("obtener outlook para")
        || l.starts_with("get outlook for")
}

fn is_separator(t: &str) -> bool {
    let l = lower(t);
    let dashed = l.trim_matches('-').trim();
    (l.starts_with("-----")
        && matches!(
            dashed,
            "mensaje original" | "original message" | "mensaje reenviado" | "forwarded message"
        ))
        || (t.len() >= 20 && t.chars().all(|c| c == '_'))
}

/// `De: ...` followed within four lines by `Enviado: ...` (Outlook's quoted header block).
fn is_header_block(rest: &[&str]) -> bool {
    let first = lower(rest[0].trim());
    let field = |l: &str, names: &[&str]| {
        names
            .iter()
            .any(|n| l.starts_with(n) && l[n.len()..].trim_start().starts_with(':'))
    };
    if !field(&first, &["de", "from"]) {
        return false;
    }
    rest.iter()
        .skip(1)
        .take(4)
        .any(|l| field(&lower(l.trim()), &["enviado", "sent", "fecha", "date"]))
}

/// The words that answer each question, in the language of the desk's emails.
#[derive(Debug, Clone)]
pub struct AnswerWords {
    pub words: Vec<(Answer, String)>,
}

impl AnswerWords {
    /// From a message catalog's `inbox.answer.*` keys.
    pub fn from_catalog(cat: &crate::model::i18n::Catalog) -> AnswerWords {
        AnswerWords {
            words: Answer::ALL
                .iter()
                .map(|a| (*a, cat.get(&format!("inbox.answer.{}", a.as_str()))))
                .collect(),
        }
    }

    pub fn word(&self, a: Answer) -> &str {
        self.words
            .iter()
            .find(|(x, _)| *x == a)
            .map_or("", |(_, w)| w.as_str())
    }
}

/// Upper case, accents removed, inner spaces collapsed: how first lines are compared.
fn norm(s: &str) -> String {
    let folded = crate::model::text::fold(s).to_uppercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The answer the reply's first line gives, among those `expected`, with the reason a
/// rejection needs. An answer is only taken when unambiguous: the first non-blank line is the
/// word alone (punctuation around it allowed), or for a rejection the word then `:` or `-`
/// and the reason on that line (the following lines are the reason when the word stands
/// alone). A rejection
/// without any reason is not an answer.
pub fn find_answer(
    text: &str,
    expected: &[Answer],
    words: &AnswerWords,
) -> Option<(Answer, Option<String>)> {
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let first = lines.next()?.trim();
    let rest: String = lines.collect::<Vec<_>>().join("\n").trim().to_string();
    let bare = first.trim_matches(|c: char| ".!¡¿?,;:*_\"'«»“”".contains(c) || c.is_whitespace());
    let n = norm(bare);
    // Longest word first, so that "NO ACEPTO" is never read as "ACEPTO".
    let mut candidates: Vec<&(Answer, String)> = words
        .words
        .iter()
        .filter(|(a, w)| expected.contains(a) && !w.trim().is_empty())
        .collect();
    candidates.sort_by_key(|(_, w)| std::cmp::Reverse(w.len()));
    for (answer, word) in candidates {
        let w = norm(word);
        if n == w {
            if answer.needs_reason() {
                if rest.is_empty() {
                    return None;
                }
                return Some((*answer, Some(rest)));
            }
            return Some((*answer, None));
        }
        if answer.needs_reason() && n.starts_with(&w) {
            // The reason after "RECHAZO:" / "RECHAZO -", in the customer's own words.
            let after = first_after_word(first, word.trim());
            // The reason is that line; the whole message stays on the case beside the step.
            if let Some(reason) = after {
                return Some((*answer, Some(reason.to_string())));
            }
        }
    }
    None
}

/// The text after `word` at the start of `line` when a `:` or `-` separates them.
fn first_after_word<'a>(line: &'a str, word: &str) -> Option<&'a str> {
    let chars = word.chars().count();
    let byte = line
        .char_indices()
        .nth(chars)
        .map_or(line.len(), |(i, _)| i);
    if norm(&line[..byte]) != norm(word) {
        return None;
    }
    let after = line[byte..].trim_start();
    let after = after
        .strip_prefix(':')
        .or_else(|| after.strip_prefix('-'))
        .or_else(|| after.strip_prefix('–'))?;
    let after = after.trim();
    (!after.is_empty()).then_some(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> AnswerWords {
        AnswerWords {
            words: vec![
                (Answer::Accept, "ACEPTO".into()),
                (Answer::Decline, "NO ACEPTO".into()),
                (Answer::Confirm, "CONFIRMO".into()),
                (Answer::Reject, "RECHAZO".into()),
            ],
        }
    }

    #[test]
    fn gmail_attribution_split_over_two_lines() {
        let t = "Sigue fallando.\n\nEl lun, 2 nov 2026 a las 10:05, Mesa de Servicio SGM (<\nsoporte@sgm.com.co>) escribió:\n\n> Estimado";
        // The attribution's second line ends with "escribió:"; the first line starts with "El".
        assert_eq!(strip_reply(t), "Sigue fallando.");
    }

    #[test]
    fn outlook_block_and_signature() {
        let t = "Confirmo.\r\n\r\nSaludos,\r\nMarcela\r\n\r\n________________________________\r\nDe: Mesa de Servicio SGM <soporte@sgm.com.co>\r\nEnviado: lunes, 2 de noviembre de 2026 10:05\r\nPara: Marcela\r\nAsunto: [Caso X]\r\n";
        assert_eq!(strip_reply(t), "Confirmo.\n\nSaludos,\nMarcela");
        let t2 = "Gracias\n-- \nMarcela Rincón\nCoordinadora";
        assert_eq!(strip_reply(t2), "Gracias");
        let t3 = "ok\n\nDe: Mesa <a@b>\nFecha: hoy\n";
        assert_eq!(strip_reply(t3), "ok");
    }

    #[test]
    fn answers_are_unambiguous_only() {
        let w = words();
        let approval = [Answer::Accept, Answer::Decline];
        let solution = [Answer::Confirm, Answer::Reject];
        assert_eq!(
            find_answer("Acepto.\n", &approval, &w),
            Some((Answer::Accept, None))
        );
        assert_eq!(
            find_answer("NO ACEPTO", &approval, &w),
            Some((Answer::Decline, None))
        );
        assert_eq!(find_answer("Acepto pero...", &approval, &w), None);
        assert_eq!(find_answer("CONFIRMO", &approval, &w), None);
        assert_eq!(
            find_answer("rechazo: sigue sin imprimir", &solution, &w),
            Some((Answer::Reject, Some("sigue sin imprimir".into())))
        );
        assert_eq!(
            find_answer("RECHAZO\nel reporte sale vacío", &solution, &w),
            Some((Answer::Reject, Some("el reporte sale vacío".into())))
        );
        assert_eq!(find_answer("RECHAZO", &solution, &w), None);
        assert_eq!(find_answer("Rechazo la idea de", &solution, &w), None);
    }
}
