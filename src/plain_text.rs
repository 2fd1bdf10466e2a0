//! [`PlainText`]: a human-readable field that a person approves or compares, checked once against the rules
//! of its kind ([`TextKind`]) when it is made, from the command line or from a file. Code that holds a
//! `PlainText` never checks it again, and cannot hold one that breaks its rules.

use crate::text::is_plain_text;
use std::fmt;

/// The kinds of human-readable fields, each with its rules. Every kind is plain text ([`is_plain_text`]:
/// no control, bidi, zero-width or separator character); every kind but a tag message is one line without
/// leading or trailing white space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// A keyholder's name on its card: 1 to 64 characters (the card also refuses a fingerprint-like name).
    KeyholderName,
    /// A group label: 1 to 100 characters.
    Label,
    /// A release comment (`--comment`): 1 to 1000 bytes; no tab, since minisign's trusted comment uses tabs.
    Comment,
    /// An OpenPGP user id, like `ACME releases <releases@example.org>`: 1 to 200 bytes.
    Uid,
    /// An artifact's file name: 1 to 255 bytes, no `/`, not `.` or `..`.
    ArtifactName,
    /// A git tag message: lines of plain text, not all blank, ending with a newline, no armor line.
    TagMessage,
}

impl TextKind {
    /// What the field is called in messages.
    pub fn what(self) -> &'static str {
        match self {
            TextKind::KeyholderName => "keyholder name",
            TextKind::Label => "label",
            TextKind::Comment => "comment",
            TextKind::Uid => "OpenPGP user id",
            TextKind::ArtifactName => "artifact name",
            TextKind::TagMessage => "tag message",
        }
    }

    /// The rule, said to the person who has to fix the text.
    pub fn rule(self) -> &'static str {
        match self {
            TextKind::KeyholderName => "use 1 to 64 printable characters, without leading or trailing spaces",
            TextKind::Label => "use 1 to 100 printable characters on one line",
            TextKind::Comment => "1 to 1000 bytes on one line, no tabs or control characters",
            TextKind::Uid => "use one line like `ACME releases <releases@example.org>`",
            TextKind::ArtifactName => "use a plain file name without `/` or control characters",
            TextKind::TagMessage => {
                "a non-empty text ending with a newline, without control, bidi, zero-width or separator characters"
            }
        }
    }

    /// True if `s` follows this kind's rules.
    fn allows(self, s: &str) -> bool {
        let line = |max_chars: usize, max_bytes: usize| {
            let n = s.chars().count();
            n >= 1 && n <= max_chars && s.len() <= max_bytes && is_plain_text(s) && s.trim() == s
        };
        match self {
            TextKind::KeyholderName => line(64, usize::MAX),
            TextKind::Label => line(100, usize::MAX),
            TextKind::Comment => line(usize::MAX, 1000),
            TextKind::Uid => line(usize::MAX, 200),
            TextKind::ArtifactName => line(usize::MAX, 255) && s != "." && s != ".." && !s.contains('/'),
            TextKind::TagMessage => {
                !s.trim().is_empty()
                    && s.ends_with('\n')
                    && !s.contains("-----BEGIN")
                    && s.split('\n').all(is_plain_text)
            }
        }
    }
}

/// Text of one [`TextKind`] that follows that kind's rules.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlainText(String);

/// Why a text is not a valid field of its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextError {
    /// The kind of field.
    pub kind: TextKind,
    /// The refused text, escaped for display (at most 80 characters).
    pub shown: String,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} `{}`: {}", self.kind.what(), self.shown, self.kind.rule())
    }
}

impl std::error::Error for TextError {}

impl From<TextError> for crate::error::Error {
    fn from(e: TextError) -> Self {
        crate::error::Error::new(e.to_string())
    }
}

impl PlainText {
    /// Check `s` against the rules of `kind`.
    pub fn new(kind: TextKind, s: &str) -> Result<PlainText, TextError> {
        if kind.allows(s) {
            Ok(PlainText(s.to_string()))
        } else {
            Err(TextError { kind, shown: crate::text::escape_max(s, 80) })
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for PlainText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PlainText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PlainText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for PlainText {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for PlainText {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for PlainText {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<PlainText> for String {
    fn eq(&self, other: &PlainText) -> bool {
        *self == other.0
    }
}

impl From<PlainText> for String {
    fn from(t: PlainText) -> String {
        t.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_keeps_its_own_rules() {
        let ok = |k, s: &str| PlainText::new(k, s).is_ok();
        for k in [TextKind::KeyholderName, TextKind::Label, TextKind::Comment, TextKind::Uid, TextKind::ArtifactName] {
            assert!(ok(k, "Zoë 1.0"), "{k:?}");
            for bad in ["", " x", "x ", "a\tb", "a\nb", "a\u{1b}[2Jb", "Alice \u{202e}", "a\u{200b}b", "a\u{2028}b"] {
                assert!(!ok(k, bad), "{k:?} {bad:?}");
            }
        }
        assert!(ok(TextKind::KeyholderName, &"x".repeat(64)) && !ok(TextKind::KeyholderName, &"x".repeat(65)));
        assert!(ok(TextKind::Label, &"é".repeat(100)) && !ok(TextKind::Label, &"x".repeat(101)));
        assert!(ok(TextKind::Comment, &"x".repeat(1000)) && !ok(TextKind::Comment, &"é".repeat(501)));
        assert!(ok(TextKind::Uid, &"x".repeat(200)) && !ok(TextKind::Uid, &"x".repeat(201)));
        for bad in [".", "..", "a/b", &"x".repeat(256)] {
            assert!(!ok(TextKind::ArtifactName, bad), "{bad:?}");
        }
        assert!(ok(TextKind::TagMessage, "Release 1.4\n\nWith notes.\n"));
        for bad in ["", "\n", "no newline", "a\u{202e}b\n", "x\n-----BEGIN SSH SIGNATURE-----\n", "a\rb\n"] {
            assert!(!ok(TextKind::TagMessage, bad), "{bad:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_field_shows_the_text_escaped_and_says_the_rule() {
        let e = PlainText::new(TextKind::Label, "evil\u{1b}[2J").unwrap_err();
        assert_eq!(e.to_string(), "invalid label `evil\\033[2J`: use 1 to 100 printable characters on one line");
    }
}
