//! The one syntax of every file frostsign writes: small, versioned, line-oriented UTF-8 text.
//!
//! ```text
//! frostsign-message: 1              <- magic line: "frostsign-<type>: <version>"
//! kind: dkg-round1                  <- fields "key: value", in the order the type defines
//! payload:                          <- a block field: empty value, then continuation lines,
//!  eyJ2ZXJzaW9uIjoxLCJwYWNrYWdlIj      each starting with exactly one space
//! signature: 3q2+7w...              <- optional, always last: Ed25519 over every byte above it
//! ```
//!
//! Rules (docs/formats.md is the normative description): LF line ends only; no control characters; keys
//! are `[a-z0-9-]+`; each key appears at most once and only where the type's schema allows; nothing may
//! follow the signature line. Parsing is strict so that one byte changed anywhere is either rejected or
//! caught by the signature.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::fmt;

/// Width of base64 continuation lines (without the leading space).
const BLOCK_WIDTH: usize = 64;

/// Why a document could not be parsed. Displayed after the file name by callers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // variant fields are named for what they hold
pub enum DocError {
    /// The file is empty.
    Empty,
    /// The first line is not the expected magic line.
    NotThisType { expected: String, found: String },
    /// The version number is not one this build reads.
    UnsupportedVersion { kind: String, found: String },
    /// A syntax problem on a given line (1-based).
    Syntax { line: usize, reason: String },
    /// A required field is missing.
    Missing(String),
    /// A field is present that the schema does not allow there.
    Unexpected { line: usize, key: String },
    /// A field's value is not valid for that field.
    BadValue { key: String, reason: String },
    /// Bytes follow the signature line.
    TrailingData,
    /// The file does not end with a newline (usually truncated).
    Truncated,
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocError::Empty => write!(f, "the file is empty"),
            DocError::NotThisType { expected, found } => write!(f, "this is not a {expected} file ({found})"),
            DocError::UnsupportedVersion { kind, found } => {
                write!(f, "unsupported {kind} format version `{found}` (this frostsign reads version 1)")
            }
            DocError::Syntax { line, reason } => write!(f, "line {line}: {reason}"),
            DocError::Missing(key) => write!(f, "the required field `{key}` is missing (truncated or edited file?)"),
            DocError::Unexpected { line, key } => write!(f, "line {line}: unexpected field `{key}`"),
            DocError::BadValue { key, reason } => write!(f, "field `{key}`: {reason}"),
            DocError::TrailingData => write!(f, "unexpected data after the signature line"),
            DocError::Truncated => write!(f, "the file does not end with a newline (truncated?)"),
        }
    }
}

/// Whether a field must be present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Must be present.
    Required,
    /// May be absent.
    Optional,
    /// May appear any number of times (consecutively).
    Repeated,
}

/// How a field is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `key: value`, on one line.
    Line,
    /// `key:`, then the base64 of binary data on continuation lines.
    Block,
}

/// One field of a document type's schema: its key, how often it appears and how it is written. A schema
/// lists its fields in the order the type writes them; a field in another shape than its schema says is
/// refused when the document is parsed, so every document has one byte form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The field's key.
    pub key: &'static str,
    /// How often it appears.
    pub need: Need,
    /// How it is written.
    pub shape: Shape,
}

impl Spec {
    /// A one-line field.
    pub const fn line(key: &'static str, need: Need) -> Spec {
        Spec { key, need, shape: Shape::Line }
    }

    /// A base64 block field.
    pub const fn block(key: &'static str, need: Need) -> Spec {
        Spec { key, need, shape: Shape::Block }
    }
}

/// One field of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The key.
    pub key: String,
    /// One-line value, or the joined continuation lines of a block (without their leading spaces).
    pub value: String,
    /// True if written as a block.
    pub block: bool,
}

/// A parsed document.
#[derive(Clone, Debug)]
pub struct Document {
    fields: Vec<Field>,
    signature: Option<[u8; 64]>,
    signed_len: usize,
}

/// Writes a document in canonical form. A value that cannot be written (a one-line field holding a
/// control character or spaces at either end) is not written: [`DocWriter::finish`] and
/// [`DocWriter::sign`] then return the error, so input can never make a writer panic.
pub struct DocWriter {
    out: String,
    error: Option<DocError>,
}

/// A document that could not be written is refused like bad input (exit 2), naming the field.
impl From<DocError> for crate::error::Error {
    fn from(e: DocError) -> Self {
        crate::error::Error::new(format!("cannot write this file: {e}"))
    }
}

/// The byte offset of the first control character (Unicode's Cc: U+0000 to U+001F and U+007F to U+009F)
/// that is not a line feed: `text.find(|c| c.is_control() && c != '\n')`, read byte by byte, as files
/// of 10,000 lines are (UTF-8 writes U+0080 to U+009F as C2 80 to C2 9F, and C2 is never a continuation
/// byte).
fn first_control_but_lf(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    b.iter().enumerate().position(|(i, &x)| {
        (x < 0x20 && x != b'\n') || x == 0x7f || (x == 0xc2 && b.get(i + 1).is_some_and(|y| (0x80..=0x9f).contains(y)))
    })
}

fn check_line_value(v: &str) -> bool {
    !v.is_empty() && !v.chars().any(|c| c.is_control()) && v.trim() == v
}

#[cfg(test)]
mod strict_tests {
    use super::*;

    #[test]
    fn numbers_and_text_are_canonical() {
        assert_eq!(parse_decimal::<u32>("0"), Some(0));
        assert_eq!(parse_decimal::<u32>("12"), Some(12));
        for bad in ["", "+2", "03", "-1", " 2", "2 ", "1e3"] {
            assert_eq!(parse_decimal::<u32>(bad), None, "{bad:?}");
        }
        assert!(is_plain_text("Zoë Ünal"));
        assert!(!is_plain_text("Mallory\u{202E}ecilA"));
        assert!(!is_plain_text("Al\u{200B}ice"));
    }

    #[test]
    fn control_characters_are_found_byte_by_byte_as_char_by_char() {
        let reference = |t: &str| t.find(|c: char| c.is_control() && c != '\n');
        let samples =
            ["", "plain\n", "a\tb", "x\u{7f}", "é\u{85}z", "\u{9f}", "\u{a0}\u{80}", "ÂÂ\u{c2}\n\r", "\u{2028}ok"];
        for t in samples {
            assert_eq!(first_control_but_lf(t), reference(t), "{t:?}");
        }
        for c in (0..0x3000u32).filter_map(char::from_u32) {
            let t = format!("ab{c}Ą{c}");
            assert_eq!(first_control_but_lf(&t), reference(&t), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn blocks_must_be_wrapped_canonically() {
        let text = DocWriter::new("t", 1).block("b", &[1u8; 100]).finish().unwrap();
        let schema = [Spec::block("b", Need::Required)];
        assert!(Document::parse(&text, "t", &schema, false).is_ok());
        let lines: Vec<&str> = text.lines().collect();
        // Re-wrap the same base64 at 32 columns: same data, not canonical.
        let joined: String = lines[2..].iter().map(|l| &l[1..]).collect();
        let mut rewrapped = format!("{}\n{}\n", lines[0], lines[1]);
        for chunk in joined.as_bytes().chunks(32) {
            rewrapped.push_str(&format!(" {}\n", std::str::from_utf8(chunk).unwrap()));
        }
        assert!(Document::parse(&rewrapped, "t", &schema, false).is_err());
        // A one-line field is not accepted where a block is expected, nor a block where a value is.
        let line = "frostsign-t: 1\nb: AQID\n";
        let refused = DocError::BadValue { key: "b".into(), reason: "expected a base64 block".into() };
        assert_eq!(Document::parse(line, "t", &schema, false).unwrap_err(), refused);
        let lines = [Spec::line("b", Need::Required)];
        let refused = DocError::BadValue { key: "b".into(), reason: "expected a one-line value".into() };
        assert_eq!(Document::parse(&text, "t", &lines, false).unwrap_err(), refused);
    }
}

impl DocWriter {
    /// Start a document of the given type and version.
    pub fn new(doc_type: &str, version: u32) -> Self {
        DocWriter { out: format!("frostsign-{doc_type}: {version}\n"), error: None }
    }

    /// Continue a document whose canonical text so far is `text` (e.g. to append blocks to a file's core).
    pub fn continuing(text: &str) -> Self {
        DocWriter { out: text.to_string(), error: None }
    }

    /// Add a one-line field; a value that cannot be written on one line is remembered as the error.
    pub fn field(mut self, key: &str, value: impl fmt::Display) -> Self {
        let v = value.to_string();
        if self.error.is_none() && !check_line_value(&v) {
            self.error = Some(DocError::BadValue {
                key: key.into(),
                reason: "cannot be written on one line (empty, control characters, or spaces at either end)".into(),
            });
        }
        if self.error.is_none() {
            self.out.push_str(&format!("{key}: {v}\n"));
        }
        self
    }

    /// Add binary data as a base64 block. Empty data cannot be written (a block with no continuation line
    /// reads as a field with no value), so it is remembered as the error, like a bad one-line value.
    pub fn block(mut self, key: &str, data: &[u8]) -> Self {
        if data.is_empty() {
            if self.error.is_none() {
                self.error = Some(DocError::BadValue {
                    key: key.into(),
                    reason: "is empty: a block holds at least one byte".into(),
                });
            }
            return self;
        }
        let enc = B64.encode(data);
        self.out.reserve(key.len() + 2 + enc.len() + 2 * enc.len().div_ceil(BLOCK_WIDTH));
        self.out.push_str(key);
        self.out.push_str(":\n");
        // Base64 is ASCII: every index is a character boundary.
        for start in (0..enc.len()).step_by(BLOCK_WIDTH) {
            self.out.push(' ');
            self.out.push_str(&enc[start..enc.len().min(start + BLOCK_WIDTH)]);
            self.out.push('\n');
        }
        self
    }

    /// The text so far (what a signature covers).
    pub fn as_str(&self) -> &str {
        &self.out
    }

    /// Finish without a signature.
    pub fn finish(self) -> Result<String, DocError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }

    /// Finish with a signature over every byte written so far (nothing is signed if a field was bad).
    pub fn sign(self, sign: impl FnOnce(&[u8]) -> [u8; 64]) -> Result<String, DocError> {
        let mut out = self.finish()?;
        let sig = sign(out.as_bytes());
        out.push_str(&format!("signature: {}\n", B64.encode(sig)));
        Ok(out)
    }
}

fn is_key(k: &str) -> bool {
    !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Document {
    /// Parse `text` as a document of `doc_type`, version 1, whose fields follow `schema` in order.
    ///
    /// `signed`: whether a final `signature:` line is required (true) or forbidden (false).
    pub fn parse(text: &str, doc_type: &str, schema: &[Spec], signed: bool) -> Result<Document, DocError> {
        if text.is_empty() {
            return Err(DocError::Empty);
        }
        if let Some(pos) = first_control_but_lf(text) {
            let line = text[..pos].matches('\n').count() + 1;
            let reason = if text.as_bytes()[pos] == b'\r' {
                "carriage return (CR) found; frostsign files use LF line ends only (convert with dos2unix)".to_string()
            } else {
                "control character found".to_string()
            };
            return Err(DocError::Syntax { line, reason });
        }
        if !text.ends_with('\n') {
            return Err(DocError::Truncated);
        }
        let lines: Vec<&str> = text[..text.len() - 1].split('\n').collect();
        let magic = format!("frostsign-{doc_type}: ");
        let first = lines[0];
        let Some(version) = first.strip_prefix(&magic) else {
            // Say what it is only if it is one of ours: never echo a stranger's content, which could be a
            // secret the file was made to point at.
            let found = match first.strip_prefix("frostsign-").and_then(|r| r.split_once(": ")) {
                Some((t, _))
                    if !t.is_empty() && t.len() <= 32 && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') =>
                {
                    format!("it is a frostsign {t} file")
                }
                _ => "it does not start with a frostsign header".to_string(),
            };
            return Err(DocError::NotThisType { expected: format!("frostsign {doc_type}"), found });
        };
        if version != "1" {
            return Err(DocError::UnsupportedVersion {
                kind: doc_type.into(),
                found: crate::text::escape_max(version, 20),
            });
        }

        let mut fields: Vec<(usize, Field)> = Vec::new();
        let mut signature = None;
        let mut signed_len = text.len();
        let mut offset = first.len() + 1;
        let mut i = 1;
        while i < lines.len() {
            let line = lines[i];
            let line_no = i + 1;
            if let Some(sig) = line.strip_prefix("signature: ") {
                if !signed {
                    return Err(DocError::Unexpected { line: line_no, key: "signature".into() });
                }
                if i != lines.len() - 1 {
                    return Err(DocError::TrailingData);
                }
                let bytes = B64.decode(sig).ok().and_then(|b| <[u8; 64]>::try_from(b).ok()).ok_or_else(|| {
                    DocError::BadValue { key: "signature".into(), reason: "not a base64 Ed25519 signature".into() }
                })?;
                signature = Some(bytes);
                signed_len = offset;
                break;
            }
            let Some((key, value)) = line.split_once(':') else {
                return Err(DocError::Syntax { line: line_no, reason: "expected `key: value`".into() });
            };
            if !is_key(key) {
                return Err(DocError::Syntax {
                    line: line_no,
                    reason: format!("invalid field name `{}`", crate::text::escape_max(key, 40)),
                });
            }
            offset += line.len() + 1;
            i += 1;
            if value.is_empty() {
                // A block: continuation lines, each starting with exactly one space.
                let mut joined = String::new();
                let mut last_width = BLOCK_WIDTH;
                while i < lines.len() {
                    let Some(cont) = lines[i].strip_prefix(' ') else { break };
                    // Canonical wrapping: every line but the last holds exactly BLOCK_WIDTH characters.
                    if cont.is_empty() || cont.starts_with(' ') || cont.len() > BLOCK_WIDTH || last_width != BLOCK_WIDTH
                    {
                        return Err(DocError::Syntax { line: i + 1, reason: "malformed continuation line".into() });
                    }
                    last_width = cont.len();
                    joined.push_str(cont);
                    offset += lines[i].len() + 1;
                    i += 1;
                }
                if joined.is_empty() {
                    return Err(DocError::Syntax { line: line_no, reason: format!("field `{key}` has no value") });
                }
                fields.push((line_no, Field { key: key.into(), value: joined, block: true }));
            } else {
                let Some(v) = value.strip_prefix(' ').filter(|v| check_line_value(v)) else {
                    return Err(DocError::Syntax {
                        line: line_no,
                        reason: format!("field `{key}` must be written `{key}: value`"),
                    });
                };
                fields.push((line_no, Field { key: key.into(), value: v.into(), block: false }));
            }
        }
        if signed && signature.is_none() {
            return Err(DocError::Missing("signature".into()));
        }
        check_schema(&fields, schema)?;
        Ok(Document { fields: fields.into_iter().map(|(_, f)| f).collect(), signature, signed_len })
    }

    /// The signature, if the document is signed.
    pub fn signature(&self) -> Option<&[u8; 64]> {
        self.signature.as_ref()
    }

    /// The byte length of the signed part (everything before the signature line).
    pub fn signed_len(&self) -> usize {
        self.signed_len
    }

    /// The value of the one-line field `key` (the schema guarantees presence for required keys). A block
    /// is not a value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.key == key && !f.block).map(|f| f.value.as_str())
    }

    /// All values of a repeated one-line field, in order.
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.fields.iter().filter(|f| f.key == key && !f.block).map(|f| f.value.as_str()).collect()
    }

    /// The base64 text of every block of a repeated block field, in order.
    pub fn blocks(&self, key: &str) -> Vec<&str> {
        self.fields.iter().filter(|f| f.key == key && f.block).map(|f| f.value.as_str()).collect()
    }

    /// A required one-line field holding a canonical decimal number.
    pub fn number<T: std::str::FromStr>(&self, key: &str) -> Result<T, DocError> {
        parse_decimal(self.require(key)?)
            .ok_or_else(|| DocError::BadValue { key: key.into(), reason: "not a number (digits only)".into() })
    }

    /// The value of a required key.
    pub fn require(&self, key: &str) -> Result<&str, DocError> {
        self.get(key).ok_or_else(|| DocError::Missing(key.into()))
    }

    /// A required block field decoded from base64.
    pub fn block(&self, key: &str) -> Result<Vec<u8>, DocError> {
        let f = self.fields.iter().find(|f| f.key == key).ok_or_else(|| DocError::Missing(key.into()))?;
        if !f.block {
            return Err(DocError::BadValue { key: key.into(), reason: "expected a base64 block".into() });
        }
        B64.decode(&f.value).map_err(|_| DocError::BadValue { key: key.into(), reason: "invalid base64".into() })
    }

    /// A required field holding exactly `N` bytes of lowercase hex.
    pub fn hex<const N: usize>(&self, key: &str) -> Result<[u8; N], DocError> {
        parse_hex(self.require(key)?).ok_or_else(|| DocError::BadValue {
            key: key.into(),
            reason: format!("expected {} lowercase hex digits", 2 * N),
        })
    }
}

/// Parse a decimal number written canonically: digits only, no sign, no leading zero (except "0").
pub fn parse_decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical {
        s.parse().ok()
    } else {
        None
    }
}

pub use crate::text::is_plain_text;

/// Make text from an untrusted file safe to print: see [`crate::text::escape_max`].
pub fn printable(s: &str, max: usize) -> String {
    crate::text::escape_max(s, max)
}

/// Parse exactly `N` bytes of lowercase hex.
pub fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let v = hex::decode(s).ok()?;
    v.try_into().ok()
}

fn check_schema(fields: &[(usize, Field)], schema: &[Spec]) -> Result<(), DocError> {
    let mut s = 0;
    let mut seen_current = false;
    for (line, f) in fields {
        loop {
            let Some(&Spec { key, need, shape }) = schema.get(s) else {
                return Err(DocError::Unexpected { line: *line, key: f.key.clone() });
            };
            if key == f.key {
                if seen_current && need != Need::Repeated {
                    return Err(DocError::Unexpected { line: *line, key: f.key.clone() });
                }
                check_shape(f, shape)?;
                seen_current = true;
                break;
            }
            if !seen_current && need == Need::Required {
                // The required key is absent; decide between "missing" and "unexpected".
                return Err(if schema.iter().any(|spec| spec.key == f.key) {
                    DocError::Missing(key.into())
                } else {
                    DocError::Unexpected { line: *line, key: f.key.clone() }
                });
            }
            s += 1;
            seen_current = false;
        }
    }
    let remaining = if seen_current { s + 1 } else { s };
    if let Some(spec) = schema[remaining.min(schema.len())..].iter().find(|spec| spec.need == Need::Required) {
        return Err(DocError::Missing(spec.key.into()));
    }
    Ok(())
}

/// A field written in the shape its schema gives it, or the refusal that says which shape was expected.
fn check_shape(f: &Field, shape: Shape) -> Result<(), DocError> {
    let reason = match (shape, f.block) {
        (Shape::Line, true) => "expected a one-line value",
        (Shape::Block, false) => "expected a base64 block",
        _ => return Ok(()),
    };
    Err(DocError::BadValue { key: f.key.clone(), reason: reason.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Need::*;

    const SCHEMA: &[Spec] = &[
        Spec::line("kind", Required),
        Spec::line("to", Optional),
        Spec::line("item", Repeated),
        Spec::block("payload", Required),
    ];

    fn sample() -> String {
        DocWriter::new("test", 1)
            .field("kind", "demo")
            .field("item", "a")
            .field("item", "b")
            .block("payload", &[7u8; 100])
            .sign(|_| [9u8; 64])
            .unwrap()
    }

    #[test]
    fn a_value_that_cannot_be_one_line_is_an_error_not_a_panic() {
        for bad in [" Name <a@b>", "trailing ", "two\nlines", "", "bell\u{7}"] {
            let w = DocWriter::new("t", 1).field("tagger", bad).field("next", "ok");
            assert!(matches!(w.finish(), Err(DocError::BadValue { key, .. }) if key == "tagger"), "{bad:?}");
        }
        let signed = DocWriter::new("t", 1).field("x", " y").sign(|_| panic!("nothing is signed"));
        assert!(signed.is_err());
    }

    #[test]
    fn round_trip() {
        let text = sample();
        let d = Document::parse(&text, "test", SCHEMA, true).unwrap();
        assert_eq!(d.get("kind"), Some("demo"));
        assert_eq!(d.get("to"), None);
        assert_eq!(d.get_all("item"), vec!["a", "b"]);
        assert_eq!(d.block("payload").unwrap(), vec![7u8; 100]);
        assert_eq!(d.signature(), Some(&[9u8; 64]));
        assert!(text[..d.signed_len()].ends_with(" \n") || text[..d.signed_len()].ends_with('\n'));
        assert!(!text[..d.signed_len()].contains("signature:"));
    }

    #[test]
    fn rejects_what_it_must() {
        let text = sample();
        let p = |t: &str| Document::parse(t, "test", SCHEMA, true).unwrap_err();
        assert_eq!(p(""), DocError::Empty);
        assert!(matches!(
            p(&text.replace("frostsign-test: 1", "frostsign-test: 2")),
            DocError::UnsupportedVersion { .. }
        ));
        assert!(matches!(p(&text.replace("frostsign-test", "frostsign-other")), DocError::NotThisType { .. }));
        assert_eq!(p(&format!("{text}junk\n")), DocError::TrailingData);
        assert_eq!(p(&text[..text.len() - 1]), DocError::Truncated);
        assert!(matches!(p(&text.replace('\n', "\r\n")), DocError::Syntax { .. }));
        assert!(matches!(p(&text.replace("kind: demo\n", "kind: demo\nextra: 1\n")), DocError::Unexpected { .. }));
        assert!(matches!(p(&text.replace("kind: demo\n", "")), DocError::Missing(_)));
        assert!(matches!(p(&text.replace("kind: demo\n", "kind: demo\nkind: demo\n")), DocError::Unexpected { .. }));
        // truncated before the signature line
        let cut = &text[..text.find("signature").unwrap()];
        assert_eq!(p(cut), DocError::Missing("signature".into()));
    }
}
