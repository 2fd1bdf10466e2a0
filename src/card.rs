//! A keyholder's public card: name, identity keys and fingerprint, self-signed.
//!
//! Cards are what keyholders hand to each other (and to `dkg init`). The fingerprint is what two people
//! read out to each other over the phone to be sure they hold each other's real card.

use crate::error::{Error, Result};
use crate::plain_text::{PlainText, TextKind};
use crate::textdoc::{DocError, DocWriter, Document, Need, Spec};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// Largest card file accepted.
pub const MAX_CARD_BYTES: u64 = 4096;
/// Longest keyholder name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A 128-bit fingerprint of a keyholder's identity keys.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// SHA-256 over a domain string and both public keys, first 16 bytes.
    pub fn of_keys(signing: &[u8; 32], encryption: &[u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(b"frostsign card fingerprint v1\0");
        h.update(signing);
        h.update(encryption);
        let d = h.finalize();
        Fingerprint(d[..16].try_into().expect("16 bytes"))
    }

    /// Uppercase hex without spaces, as used in file headers and file names.
    pub fn compact(&self) -> String {
        hex::encode_upper(self.0)
    }

    /// Parse the compact form or the grouped form (spaces allowed, case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        let cleaned: String = s.chars().filter(|c| *c != ' ').collect();
        if cleaned.len() != 32 {
            return None;
        }
        let bytes = hex::decode(cleaned.to_ascii_lowercase()).ok()?;
        Some(Fingerprint(bytes.try_into().ok()?))
    }

    /// Parse strictly the compact form (for message headers, where one spelling is allowed).
    pub fn parse_compact(s: &str) -> Option<Self> {
        let ok = s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
        if ok {
            Self::parse(s)
        } else {
            None
        }
    }
}

/// Uppercase hex in groups of four digits, for reading aloud: `3F2A 9C1B 77E0 4D21 ...`.
pub fn grouped_hex(bytes: &[u8]) -> String {
    let hexs = hex::encode_upper(bytes);
    hexs.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).expect("hex is ASCII")).collect::<Vec<_>>().join(" ")
}

/// Grouped for reading aloud: `3F2A 9C1B 77E0 4D21 8A0B 11CD 92EF 0A1B`.
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&grouped_hex(&self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.compact())
    }
}

/// A weakness of the keyholder's home that its co-keyholders must see: a home made with a setting meant
/// for tests and demos says so on its card, so `dkg init` refuses the card unless told otherwise and every
/// keyholder sees the mark before joining.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsecureHome {
    /// `--insecure-fast-kdf`: the passphrase is stretched with the cheapest Argon2id setting.
    FastKdf,
    /// `--insecure-no-passphrase`: the home has no passphrase at all.
    NoPassphrase,
}

impl InsecureHome {
    /// The value of the card's `insecure-home` field.
    pub fn name(self) -> &'static str {
        match self {
            InsecureHome::FastKdf => "fast-kdf",
            InsecureHome::NoPassphrase => "no-passphrase",
        }
    }

    fn parse(s: &str) -> Option<InsecureHome> {
        [InsecureHome::FastKdf, InsecureHome::NoPassphrase].into_iter().find(|k| k.name() == s)
    }

    /// What people are shown next to the keyholder's name.
    pub fn warning(self) -> &'static str {
        match self {
            InsecureHome::FastKdf => "INSECURE test home: fast passphrase KDF (--insecure-fast-kdf)",
            InsecureHome::NoPassphrase => "INSECURE test home: no passphrase (--insecure-no-passphrase)",
        }
    }
}

/// A verified keyholder card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    name: PlainText,
    created: String,
    signing_key: [u8; 32],
    encryption_key: [u8; 32],
    fingerprint: Fingerprint,
    insecure: Option<InsecureHome>,
    text: String,
}

const SCHEMA: &[Spec] = &[
    Spec::line("name", Need::Required),
    Spec::line("created", Need::Required),
    Spec::line("signing-key", Need::Required),
    Spec::line("encryption-key", Need::Required),
    Spec::line("fingerprint", Need::Required),
    Spec::line("insecure-home", Need::Optional),
];

/// A keyholder name: plain text of [`TextKind::KeyholderName`], and not a fingerprint (options such as
/// `sign collect --without` take a name or a fingerprint, so a name that reads as someone's fingerprint
/// would make them ambiguous).
pub fn keyholder_name(name: &str) -> Result<PlainText> {
    let name = PlainText::new(TextKind::KeyholderName, name)?;
    if Fingerprint::parse(&name).is_some() {
        return Err(Error::new(format!("invalid keyholder name `{name}`: a name must not look like a fingerprint")));
    }
    Ok(name)
}

impl Card {
    /// Build and self-sign a card. `sign` signs with the identity's Ed25519 key; `insecure` marks a home
    /// made with a test setting.
    pub fn create(
        name: &str,
        created: i64,
        signing_key: [u8; 32],
        encryption_key: [u8; 32],
        insecure: Option<InsecureHome>,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Result<Card> {
        let name = keyholder_name(name)?;
        let fingerprint = Fingerprint::of_keys(&signing_key, &encryption_key);
        let mut w = DocWriter::new("card", 1)
            .field("name", &name)
            .field("created", crate::clock::format(created))
            .field("signing-key", hex::encode(signing_key))
            .field("encryption-key", hex::encode(encryption_key))
            .field("fingerprint", fingerprint);
        if let Some(k) = insecure {
            w = w.field("insecure-home", k.name());
        }
        let text = w.sign(sign)?;
        Card::parse(&text).map_err(|e| Error::new(format!("internal error: new card does not parse: {e}")))
    }

    /// Parse and verify a card: syntax, self-signature, and that the fingerprint matches the keys.
    pub fn parse(text: &str) -> std::result::Result<Card, DocError> {
        Self::parse_with(text, true)
    }

    /// [`Card::parse`] for the exact bytes of a card that passed it before, inside a ceremony file this
    /// keyholder checked in full (recognised by the SHA-256 of the whole file, see
    /// `DkgCeremony::parse_known`): every field is read and checked again, but not the Ed25519 key and
    /// self-signature, whose curve arithmetic is most of the cost of reading a 100-card ceremony file.
    pub(crate) fn parse_checked_before(text: &str) -> std::result::Result<Card, DocError> {
        Self::parse_with(text, false)
    }

    fn parse_with(text: &str, check_signature: bool) -> std::result::Result<Card, DocError> {
        let doc = Document::parse(text, "card", SCHEMA, true)?;
        let name = keyholder_name(doc.require("name")?)
            .map_err(|e| DocError::BadValue { key: "name".into(), reason: e.message().into() })?;
        let created = doc.require("created")?.to_string();
        if crate::clock::parse(&created).is_none() {
            return Err(DocError::BadValue {
                key: "created".into(),
                reason: "not a UTC time like 2026-01-31T12:00:00Z".into(),
            });
        }
        let signing_key: [u8; 32] = doc.hex("signing-key")?;
        let encryption_key: [u8; 32] = doc.hex("encryption-key")?;
        let fingerprint = Fingerprint::of_keys(&signing_key, &encryption_key);
        if doc.require("fingerprint")? != fingerprint.to_string() {
            return Err(DocError::BadValue {
                key: "fingerprint".into(),
                reason: "does not match the card's keys (edited card?)".into(),
            });
        }
        let insecure = match doc.get("insecure-home") {
            None => None,
            Some(v) => Some(InsecureHome::parse(v).ok_or_else(|| DocError::BadValue {
                key: "insecure-home".into(),
                reason: "expected `fast-kdf` or `no-passphrase`".into(),
            })?),
        };
        if check_signature {
            check_self_signature(&doc, text, &signing_key)?;
        }
        Ok(Card { name, created, signing_key, encryption_key, fingerprint, insecure, text: text.to_string() })
    }

    /// Read and verify a card file.
    pub fn load(path: &Path) -> Result<Card> {
        let text = crate::fsx::read_text(path, MAX_CARD_BYTES)?;
        Card::parse(&text).map_err(|e| {
            Error::file(path, format!("not a valid keyholder card: {e}")).with_help(
                "ask the keyholder for a fresh copy (`frostsign holder export`) and compare fingerprints by voice",
            )
        })
    }

    /// The keyholder's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When the identity was created.
    pub fn created(&self) -> &str {
        &self.created
    }

    /// Ed25519 key that signs this keyholder's messages.
    pub fn signing_key(&self) -> &[u8; 32] {
        &self.signing_key
    }

    /// X25519 key that private messages are encrypted to.
    pub fn encryption_key(&self) -> &[u8; 32] {
        &self.encryption_key
    }

    /// The fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The test setting the keyholder's home was made with, if any (cards made by frostsign 0.1 carry
    /// no mark, whatever their home).
    pub fn insecure(&self) -> Option<InsecureHome> {
        self.insecure
    }

    /// The exact card text (what is exported and embedded in ceremony files).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// "Name (FPR)" for messages.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.fingerprint)
    }

    /// Verify an Ed25519 signature by this keyholder.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        verify_once(&self.signing_key, message, signature)
    }
}

/// The card's signing key is a valid Ed25519 key and its self-signature verifies.
fn check_self_signature(doc: &Document, text: &str, signing_key: &[u8; 32]) -> std::result::Result<(), DocError> {
    VerifyingKey::from_bytes(signing_key).map_err(|_| DocError::BadValue {
        key: "signing-key".into(),
        reason: "not a valid Ed25519 public key".into(),
    })?;
    let sig = doc.signature().expect("signed schema");
    if !verify_once(signing_key, &text.as_bytes()[..doc.signed_len()], sig) {
        return Err(DocError::BadValue {
            key: "signature".into(),
            reason: "the self-signature does not verify: the card was altered after it was made".into(),
        });
    }
    Ok(())
}

/// Most (key, message, signature) triples this process remembers as verified (a 32-byte tag each).
const VERIFIED_MEMO_MAX: usize = 1 << 16;

/// The triples that passed [`verify_once`] in this process, by SHA-256(key || signature || message).
static VERIFIED: std::sync::Mutex<std::collections::BTreeSet<[u8; 32]>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Ed25519 `verify_strict` of `signature` by `key` over `message`, each distinct triple computed once per
/// process.
///
/// One ceremony step reads the same signed texts several times: the n cards in the ceremony file embedded
/// in every group file it parses, the confirmations and acceptances both in their own files and in
/// group.pub. Checking each again made a 100-keyholder step spend most of its time in curve arithmetic.
/// Only successes are remembered, under a collision-resistant hash of the whole triple (key and signature
/// have fixed lengths, so the concatenation is unambiguous): a triple that differs in any byte is verified
/// afresh, and a failure is never cached. The memo is bounded (cleared when full).
pub fn verify_once(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let tag: [u8; 32] = Sha256::new().chain_update(key).chain_update(signature).chain_update(message).finalize().into();
    let seen = |tag: &[u8; 32]| VERIFIED.lock().map(|m| m.contains(tag)).unwrap_or(false);
    if seen(&tag) {
        return true;
    }
    let ok = VerifyingKey::from_bytes(key)
        .and_then(|vk| vk.verify_strict(message, &Signature::from_bytes(signature)))
        .is_ok();
    if ok {
        if let Ok(mut m) = VERIFIED.lock() {
            if m.len() >= VERIFIED_MEMO_MAX {
                m.clear();
            }
            m.insert(tag);
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn card() -> Card {
        let sk = SigningKey::from_bytes(&[1u8; 32]);
        Card::create("Alice Example", 1_795_000_000, sk.verifying_key().to_bytes(), [2u8; 32], None, |m| {
            sk.sign(m).to_bytes()
        })
        .unwrap()
    }

    #[test]
    fn fingerprint_forms() {
        let fp = card().fingerprint();
        assert_eq!(fp.to_string().len(), 39);
        assert_eq!(Fingerprint::parse(&fp.to_string()), Some(fp));
        assert_eq!(Fingerprint::parse_compact(&fp.compact()), Some(fp));
        assert_eq!(Fingerprint::parse_compact(&fp.to_string()), None);
    }

    #[test]
    fn any_edit_is_rejected() {
        let c = card();
        let text = c.text();
        assert_eq!(Card::parse(text).unwrap(), c);
        let edited = text.replace("Alice Example", "Mallory Examp");
        assert!(Card::parse(&edited).is_err());
        for i in 0..text.len() {
            let mut b = text.as_bytes().to_vec();
            b[i] ^= 0x01;
            if let Ok(s) = String::from_utf8(b) {
                assert!(Card::parse(&s).is_err(), "flip at byte {i} accepted");
            }
        }
    }

    #[test]
    fn remembered_verifications_never_accept_another_triple() {
        let sk = SigningKey::from_bytes(&[3u8; 32]);
        let pk = sk.verifying_key().to_bytes();
        let sig = sk.sign(b"message one").to_bytes();
        for _ in 0..2 {
            // The second round answers from the memo: the same answers as verify_strict.
            assert!(verify_once(&pk, b"message one", &sig));
            assert!(!verify_once(&pk, b"message two", &sig));
            let mut other_sig = sig;
            other_sig[0] ^= 1;
            assert!(!verify_once(&pk, b"message one", &other_sig));
            let other_key = SigningKey::from_bytes(&[4u8; 32]).verifying_key().to_bytes();
            assert!(!verify_once(&other_key, b"message one", &sig));
        }
        // A failure is not remembered as one: after it, the valid triple still verifies.
        assert!(verify_once(&pk, b"message one", &sig));
    }

    #[test]
    fn names_are_checked() {
        assert!(keyholder_name("").is_err());
        assert!(keyholder_name(" x").is_err());
        assert!(keyholder_name("a\u{7}b").is_err());
        assert!(keyholder_name(&"x".repeat(65)).is_err());
        assert!(keyholder_name("Zoë").is_ok());
        // A name that reads as a fingerprint would make `--without NAME-OR-FINGERPRINT` ambiguous.
        assert!(keyholder_name("3F2A9C1B77E04D218A0B11CD92EF0A1B").is_err());
        assert!(keyholder_name("3F2A 9C1B 77E0 4D21 8A0B 11CD 92EF 0A1B").is_err());
        assert!(keyholder_name("Alice \u{202e}").is_err());
    }
}
