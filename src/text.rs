//! Text that people read: which characters a signed, human-readable field may hold, and how text that
//! came from outside (a file, a folder listing, a signature) is shown on a terminal.
//!
//! One rule for the whole tool:
//! - a field that a person approves or compares (names, labels, comments, user ids, tag messages,
//!   artifact names) is *plain text*: no control characters and no character that changes how text looks
//!   without being seen (bidi controls and isolates, zero-width characters, line and paragraph
//!   separators, fillers, tag characters, variation selectors);
//! - any text that came from outside is shown through [`escape`] (or at least [`neutralize`], which the
//!   CLI applies to everything it writes), so it can never move the cursor, clear the screen, reorder
//!   what is displayed or hide a character: `ESC` is shown as `\033`, U+202E as `\u{202e}`.

use std::fmt::Write as _;

/// True for characters that change how text is displayed without being visible themselves: Unicode's
/// format characters (Cf: bidi embeddings, overrides and isolates, zero-width space/joiners, word joiner,
/// invisible operators, the byte order mark, interlinear annotations, tag characters), the line and
/// paragraph separators (Zl, Zp), the Hangul and Khmer fillers, the combining grapheme joiner and the
/// variation selectors.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
        | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}')
}

/// True if `c` may appear in plain text: not a control character (Cc) and not [`is_invisible`].
pub fn is_plain_char(c: char) -> bool {
    !c.is_control() && !is_invisible(c)
}

/// True for text a person can read unambiguously: every character is [`is_plain_char`]. Two plain
/// strings that look the same on a screen are the same string (up to confusable letters, which no
/// character rule can catch).
pub fn is_plain_text(s: &str) -> bool {
    s.chars().all(is_plain_char)
}

/// True for one line of plain text with no leading or trailing white space, 1 to `max_chars` characters:
/// the rule for every one-line field a person reads (names, labels, comments, user ids).
pub fn is_plain_line(s: &str, max_chars: usize) -> bool {
    let n = s.chars().count();
    n >= 1 && n <= max_chars && is_plain_text(s) && s.trim() == s
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        // C0 controls and DEL as three octal digits, like ssh-keygen and vis(3): ESC is `\033`.
        '\0'..='\u{1F}' | '\u{7F}' => {
            let _ = write!(out, "\\{:03o}", c as u32);
        }
        // C1 controls and invisible characters by code point: U+202E is `\u{202e}`.
        _ => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Outside text made safe and unambiguous to print: every control character (including newline and tab)
/// and every invisible character is escaped, and so is the backslash itself (`\\`), so the escaped form
/// of two different strings always differs.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if is_plain_char(c) {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    out
}

/// A path made safe to show: [`escape`] of its display form (a file name planted in a folder, or an
/// artifact name from a release archive, may hold newlines or escape sequences).
pub fn path(p: &std::path::Path) -> String {
    escape(&p.display().to_string())
}

/// [`escape`], cut after `max` characters of the original (an ellipsis marks the cut): for text that can
/// be long, such as the reason in a complaint.
pub fn escape_max(s: &str, max: usize) -> String {
    let cut: String = s.chars().take(max).collect();
    let mut out = escape(&cut);
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// What the CLI applies to every byte it writes to a terminal: like [`escape`], but the newline and the
/// tab are kept (they shape the tool's own output) and backslashes are left alone (text that was already
/// escaped stays as it is). Whatever reaches this point, no escape sequence, no C1 control and no
/// invisible character gets through.
pub fn neutralize(s: &str) -> std::borrow::Cow<'_, str> {
    let keep = |c: char| c == '\n' || c == '\t' || is_plain_char(c);
    if s.chars().all(keep) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if keep(c) {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// JSON text made safe for a terminal while staying valid JSON with the same meaning: serde_json writes
/// C1 controls, DEL and invisible characters raw inside strings; they become `\uXXXX` escapes (surrogate
/// pairs above U+FFFF). Only strings can hold such characters, so replacing them anywhere is correct.
pub fn json_safe(json: &str) -> std::borrow::Cow<'_, str> {
    let risky = |c: char| (c.is_control() && c != '\n') || is_invisible(c);
    if !json.chars().any(risky) {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if risky(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{:04x}", u);
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_refuses_every_class_of_hidden_character() {
        assert!(is_plain_text("Zoë Ünal, 李 <zoe@example.org>"));
        for bad in [
            "a\u{1b}[2Jb", // ESC: clear screen
            "a\u{9b}31mb", // C1 CSI
            "Mallory\u{202E}ecilA",
            "Al\u{2067}ice\u{2069}",
            "Al\u{200B}ice", // zero-width space
            "Al\u{2060}ice", // word joiner
            "line\u{2028}break",
            "para\u{2029}break",
            "bom\u{FEFF}",
            "fill\u{3164}er",
            "tag\u{E0041}",
            "vs\u{FE0F}",
            "a\nb",
            "a\tb",
        ] {
            assert!(!is_plain_text(bad), "{bad:?} accepted");
        }
        assert!(is_plain_line("Alice", 64));
        assert!(!is_plain_line(" Alice", 64));
        assert!(!is_plain_line("", 64));
        assert!(!is_plain_line("abc", 2));
    }

    #[test]
    fn escape_shows_hidden_characters_like_ssh_keygen() {
        assert_eq!(escape("ok"), "ok");
        assert_eq!(escape("\u{1b}[2J"), "\\033[2J");
        assert_eq!(escape("a\nb\tc\rd"), "a\\012b\\011c\\015d");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape("\u{9b}"), "\\u{9b}");
        assert_eq!(escape("\u{E0041}"), "\\u{e0041}");
        // The backslash is escaped too, so a literal `\033` cannot pass for an escaped ESC.
        assert_eq!(escape("\\033"), "\\\\033");
        assert_ne!(escape("\\033"), escape("\u{1b}"));
        assert_eq!(escape_max("abcdef", 3), "abc…");
        assert_eq!(escape_max("abc", 3), "abc");
    }

    #[test]
    fn neutralize_keeps_layout_and_already_escaped_text() {
        assert_eq!(neutralize("a\n\tb"), "a\n\tb");
        assert_eq!(neutralize("Signature verified\u{1b}[1A\u{1b}[2K"), "Signature verified\\033[1A\\033[2K");
        assert_eq!(neutralize(&escape("\u{202e}x")), escape("\u{202e}x"));
        assert_eq!(neutralize("\u{2028}"), "\\u{2028}");
    }

    #[test]
    fn json_safe_keeps_json_valid_and_equal() {
        let v = serde_json::json!({ "name": "Mal\u{202e}lory\u{9b}\u{7f}\u{E0041}", "n": 1 });
        let raw = serde_json::to_string(&v).unwrap();
        let safe = json_safe(&raw);
        assert!(safe.chars().all(|c| c.is_ascii_graphic() || c == ' ' || c == '\n'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v);
    }
}
