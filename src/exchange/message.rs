//! Sealing and opening exchanged files ("messages").
//!
//! Every file a keyholder sends is a `frostsign-message` document: kind, ceremony id, round, sender,
//! optional recipient, encryption, payload, and the sender's Ed25519 signature over every byte before the
//! signature line. A private payload is encrypted to the recipient with HPKE (RFC 9180) in auth mode:
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305, with the message header as associated data.
//! See docs/formats.md for the byte-exact description.

use crate::card::{Card, Fingerprint};
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::secret::SecretBytes;
use crate::textdoc::{DocError, DocWriter, Document, Need, Spec};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use std::path::Path;

/// Largest message file accepted.
pub const MAX_MESSAGE_BYTES: u64 = 8 * 1024 * 1024;

/// The HPKE suite name written in the `encryption` field.
pub const HPKE_SUITE: &str = "hpke-auth-x25519-sha256-chacha20poly1305";
const HPKE_INFO: &[u8] = b"frostsign message v1";

const SCHEMA: &[Spec] = &[
    Spec::line("kind", Need::Required),
    Spec::line("ceremony", Need::Required),
    Spec::line("round", Need::Required),
    Spec::line("from", Need::Required),
    Spec::line("to", Need::Optional),
    Spec::line("encryption", Need::Required),
    Spec::block("payload", Need::Required),
];

/// What the reader expects of a message.
#[derive(Clone, Copy, Debug)]
pub struct Expect<'a> {
    /// The kind (a token, `[a-z0-9-]`, chosen by the ceremony that reads it: the exchange layer knows
    /// no ceremony's kinds, it only checks that the file is the kind its reader expects).
    pub kind: &'a str,
    /// The ceremony (or signing session) id.
    pub ceremony: &'a [u8; 32],
    /// The round.
    pub round: &'a str,
    /// Whether the message must be private (encrypted to a recipient) or public.
    pub private: bool,
}

/// A successfully opened message.
#[derive(Debug)]
pub struct Opened {
    /// Index of the sender in the `known` list given to [`open`].
    pub sender: usize,
    /// Recipient, for private messages.
    pub recipient: Option<Fingerprint>,
    /// The payload (decrypted if it was private).
    pub payload: Payload,
}

/// A message's payload: a private one (decrypted) is a secret; a public one is what the folder shows
/// anyone, kept in ordinary memory (locking its pages cost two system calls per message, and a step at
/// 100 keyholders opens hundreds of public messages).
#[derive(Debug)]
pub enum Payload {
    /// The payload of a public message, as the file carries it.
    Public(Vec<u8>),
    /// The decrypted payload of a private message: locked in memory, zeroized on drop.
    Private(SecretBytes),
}

impl Payload {
    /// The payload's bytes (for a private one, see [`SecretBytes::expose`]).
    pub fn expose(&self) -> &[u8] {
        match self {
            Payload::Public(bytes) => bytes,
            Payload::Private(secret) => secret.expose(),
        }
    }
}

impl Opened {
    /// Decode the payload as `T`, accepting only the one spelling frostsign writes (compact serde JSON).
    ///
    /// A signed payload then has exactly one text for one meaning: a sender cannot pad a file that others
    /// embed (a confirmation or acceptance in group.pub) until it breaks a size limit, nor make two texts of
    /// one decision look like equivocation. Before: the signature was checked by [`open`]. After: `Ok` only
    /// if re-serializing the value gives back every byte of the payload.
    pub fn decode<T: serde::de::DeserializeOwned + serde::Serialize>(&self) -> std::result::Result<T, String> {
        decode_payload(self.payload.expose())
    }
}

/// [`Opened::decode`] for a payload already taken out of its message.
pub fn decode_payload<T: serde::de::DeserializeOwned + serde::Serialize>(
    payload: &[u8],
) -> std::result::Result<T, String> {
    let value: T = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    // Compare while re-serializing, without building a copy: a private payload holds a secret share.
    let mut same = SameBytes { rest: payload, differs: false };
    serde_json::to_writer(&mut same, &value).map_err(|e| e.to_string())?;
    if same.differs || !same.rest.is_empty() {
        return Err("it is not written in frostsign's one form (compact JSON, fields in order, no padding)".into());
    }
    Ok(value)
}

/// An `io::Write` that only checks that what is written is a prefix of `rest`.
struct SameBytes<'a> {
    rest: &'a [u8],
    differs: bool,
}

impl std::io::Write for SameBytes<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.rest.strip_prefix(buf) {
            Some(rest) if !self.differs => self.rest = rest,
            _ => self.differs = true,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A kind or round token: 1 to 32 of `[a-z0-9-]`.
fn check_token(round: &str) -> bool {
    !round.is_empty()
        && round.len() <= 32
        && round.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn hpke_seal(from: &Identity, to: &Card, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let sk_s = <X25519HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(from.encryption_secret().expose())
        .map_err(|_| Error::new("invalid identity encryption key"))?;
    // The card's key: an Identity's keys match its card (checked when it is loaded), and deriving it
    // again cost a scalar multiplication per sealed message (n-1 in a round 2).
    let pk_s = <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(from.card().encryption_key())
        .map_err(|_| Error::new("invalid identity encryption key"))?;
    let pk_r = <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(to.encryption_key())
        .map_err(|_| Error::new(format!("{}'s card has an invalid encryption key", to.name())))?;
    let (enc, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256, _>(
        &OpModeS::Auth((sk_s, pk_s)),
        &pk_r,
        HPKE_INFO,
        plaintext,
        aad,
        &mut rand_core::OsRng,
    )
    .map_err(|e| Error::new(format!("encryption failed: {e}")))?;
    let mut out = enc.to_bytes().to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

fn hpke_open(me: &Identity, from: &Card, aad: &[u8], sealed: &[u8]) -> Option<SecretBytes> {
    if sealed.len() < 32 {
        return None;
    }
    let sk_r = <X25519HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(me.encryption_secret().expose()).ok()?;
    let pk_s = <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(from.encryption_key()).ok()?;
    let enc = <X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(&sealed[..32]).ok()?;
    hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
        &OpModeR::Auth(pk_s),
        &sk_r,
        &enc,
        HPKE_INFO,
        &sealed[32..],
        aad,
    )
    .ok()
    .map(SecretBytes::new)
}

/// Seal a message from `from`: sign it, and encrypt the payload to `to` if given.
///
/// Before: `kind` and `round` are short tokens (`[a-z0-9-]`, at most 32 bytes).
/// After: the returned text opens with [`open`] for the same kind, ceremony and round, by anyone knowing
/// `from`'s card (public) or only by `to` (private).
pub fn seal(
    from: &Identity,
    kind: &str,
    ceremony: &[u8; 32],
    round: &str,
    to: Option<&Card>,
    payload: &[u8],
) -> Result<String> {
    if !check_token(kind) || !check_token(round) {
        return Err(Error::new(format!("internal error: cannot seal a `{kind}` message for round `{round}`")));
    }
    let mut w = DocWriter::new("message", 1)
        .field("kind", kind)
        .field("ceremony", hex::encode(ceremony))
        .field("round", round)
        .field("from", from.card().fingerprint().compact());
    if let Some(to) = to {
        w = w.field("to", to.fingerprint().compact());
    }
    let w = w.field("encryption", if to.is_some() { HPKE_SUITE } else { "none" });
    let body = match to {
        Some(to) => hpke_seal(from, to, w.as_str().as_bytes(), payload)?,
        None => payload.to_vec(),
    };
    Ok(w.block("payload", &body).sign(|m| from.sign(m))?)
}

/// Open a message read from `path`.
///
/// Checks, in order: syntax and version; the sender is one of `known` (by fingerprint); the sender's
/// signature over the header and payload; the kind is known and the one expected; ceremony; round; the
/// recipient is `me` (private) or absent (public); decryption. Each failure is an error naming `path`
/// and the reason. Nothing is returned unless every check passed.
pub fn open(text: &str, path: &Path, expect: &Expect<'_>, known: &[Card], me: Option<&Identity>) -> Result<Opened> {
    open_with(text, path, expect, known, me, true)
}

/// [`open`] of a public message whose exact bytes were opened with every check before, by this keyholder
/// (inside a group file whose SHA-256 its own sealed state records as checked in full): every check but
/// the sender's signature. Only `group::Group::parse_known` calls it, for such a file.
pub(crate) fn open_checked_before(text: &str, path: &Path, expect: &Expect<'_>, known: &[Card]) -> Result<Opened> {
    open_with(text, path, expect, known, None, false)
}

fn open_with(
    text: &str,
    path: &Path,
    expect: &Expect<'_>,
    known: &[Card],
    me: Option<&Identity>,
    check_signature: bool,
) -> Result<Opened> {
    let fail = |reason: String| Error::file(path, reason);
    let doc = Document::parse(text, "message", SCHEMA, true).map_err(|e| match e {
        DocError::NotThisType { .. } | DocError::Empty => fail(format!("not a frostsign message: {e}")),
        _ => fail(format!("malformed message: {e}"))
            .with_help("the file was truncated or edited; ask the sender to send it again"),
    })?;
    let from = doc.get("from").unwrap_or_default();
    let sender = Fingerprint::parse_compact(from)
        .and_then(|fp| known.iter().position(|c| c.fingerprint() == fp))
        .ok_or_else(|| {
            fail(format!(
                "signed by an unknown sender `{}`, who is not a participant of this ceremony",
                crate::text::escape_max(from, 64)
            ))
            .with_help("only files from the keyholders listed in the ceremony are accepted; remove this file")
        })?;
    let card = &known[sender];
    // `Document::parse` with `signed: true` refuses a document without a signature line.
    let Some(signature) = doc.signature() else { return Err(fail("malformed message: it is not signed".into())) };
    if check_signature && !card.verify(&text.as_bytes()[..doc.signed_len()], signature) {
        return Err(fail(format!(
            "the signature of {} does not verify: the file was altered after it was signed",
            card.label()
        ))
        .with_help("ask the sender for a fresh copy of the file"));
    }
    let kind = doc.get("kind").unwrap_or_default();
    let from = card.label();
    if !check_token(kind) {
        return Err(fail(format!("malformed message kind `{}` from {from}", crate::text::escape_max(kind, 40))));
    }
    if kind != expect.kind {
        return Err(fail(format!(
            "is a `{kind}` message from {from}, expected `{}` (another step's file, or made by another frostsign version?)",
            expect.kind
        )));
    }
    let ceremony = doc.hex::<32>("ceremony").map_err(|e| fail(e.to_string()))?;
    if &ceremony != expect.ceremony {
        return Err(fail(format!(
            "from {from}, belongs to another ceremony ({}), not this one ({})",
            hex::encode(&ceremony[..8]),
            hex::encode(&expect.ceremony[..8])
        ))
        .with_help("a file was copied from another ceremony folder, or the ceremony file changed; remove it"));
    }
    let round = doc.get("round").unwrap_or_default();
    if round != expect.round {
        return Err(fail(format!(
            "from {from}, is for round `{}`, expected round `{}`",
            crate::text::escape_max(round, 40),
            expect.round
        )));
    }
    let recipient = doc
        .get("to")
        .map(|t| Fingerprint::parse_compact(t).ok_or_else(|| fail("malformed recipient".into())))
        .transpose()?;
    let encryption = doc.get("encryption").unwrap_or_default();
    let payload = doc.block("payload").map_err(|e| fail(e.to_string()))?;
    let payload = match (expect.private, recipient) {
        (false, None) if encryption == "none" => Payload::Public(payload),
        (true, Some(to)) if encryption == HPKE_SUITE => {
            let me = me.ok_or_else(|| fail("is a private message; only its recipient can open it".into()))?;
            if to != me.card().fingerprint() {
                let name =
                    known.iter().find(|c| c.fingerprint() == to).map(|c| c.label()).unwrap_or_else(|| to.to_string());
                return Err(fail(format!("is addressed to {name}, not to you ({})", me.card().label())));
            }
            let aad_end = text.find("payload:\n").ok_or_else(|| fail("no payload".into()))?;
            Payload::Private(
                hpke_open(me, card, &text.as_bytes()[..aad_end], &payload)
                    .ok_or_else(|| fail(format!("could not decrypt the message from {}", card.label())))?,
            )
        }
        _ => return Err(fail(format!("wrong recipient or encryption for a `{kind}` message"))),
    };
    Ok(Opened { sender, recipient, payload })
}

/// Who signed a message, and for which ceremony, whatever ceremony that is: for status displays that
/// explain why a participant's file does not belong here. The signature must verify.
pub fn signer_and_ceremony(text: &str, known: &[Card]) -> Option<(usize, [u8; 32])> {
    let doc = Document::parse(text, "message", SCHEMA, true).ok()?;
    let fp = Fingerprint::parse_compact(doc.get("from")?)?;
    let sender = known.iter().position(|c| c.fingerprint() == fp)?;
    if !known[sender].verify(&text.as_bytes()[..doc.signed_len()], doc.signature()?) {
        return None;
    }
    Some((sender, doc.hex::<32>("ceremony").ok()?))
}

/// Read the recipient of a private message without opening it (for status displays). Returns the
/// sender and recipient fingerprints if the file parses, belongs to `ceremony` and the sender's signature
/// verifies.
pub fn peek(text: &str, known: &[Card], ceremony: &[u8; 32]) -> Option<(usize, Option<Fingerprint>, String, String)> {
    let doc = Document::parse(text, "message", SCHEMA, true).ok()?;
    if doc.hex::<32>("ceremony").ok()? != *ceremony {
        return None;
    }
    let fp = Fingerprint::parse_compact(doc.get("from")?)?;
    let sender = known.iter().position(|c| c.fingerprint() == fp)?;
    if !known[sender].verify(&text.as_bytes()[..doc.signed_len()], doc.signature()?) {
        return None;
    }
    let to = doc.get("to").and_then(Fingerprint::parse_compact);
    Some((sender, to, doc.get("kind")?.to_string(), doc.get("round")?.to_string()))
}
