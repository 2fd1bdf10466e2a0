//! Membership history: each version of a group after the first is approved by the group itself.
//!
//! A refresh or a repair keeps the group key but changes who holds it, so it makes a new group file with
//! the next version number. The group approves that version by signing its *membership statement* (the
//! key, the version, the threshold, the members and the SHA-256 of the previous version's statement) in an
//! ordinary signing session: t keyholders, one Ed25519 signature by the group key. A user who trusts an
//! older version can then accept a newer one by checking the chain of statements between them with the
//! key it already trusts (`frostsign group update`), without trusting the folder it came from.
//!
//! Version 1 (key generation, dealt group) is the trust anchor: its statement is computed from its file
//! and never signed. A statement is computed from its group file byte for byte, so one text exists per
//! version.

use crate::textdoc::{DocError, DocWriter, Document, Need, Spec};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

/// What the group signs: this context, then the statement text. No release format's signed message
/// starts with it (minisign and OpenPGP sign 64- or 32-byte digests, SSHSIG starts with `SSHSIG`, a signify
/// manifest with `SHA256 (`), so a membership approval never doubles as a release signature, nor the reverse.
pub const CONTEXT: &[u8] = b"frostsign membership statement v1\0";

/// The document type of a statement.
const DOC_TYPE: &str = "membership";

const SCHEMA: &[Spec] = &[
    Spec::line("group-key", Need::Required),
    Spec::line("version", Need::Required),
    Spec::line("fingerprint", Need::Required),
    Spec::line("threshold", Need::Required),
    Spec::line("member", Need::Repeated),
    Spec::line("previous", Need::Optional),
];

/// The highest version a group may reach (a bound for parsing, far above any real history).
pub const MAX_VERSION: u32 = 10_000;

/// A parsed membership statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The group key, the same in every version.
    pub group_key: [u8; 32],
    /// 1 for key generation, one more for every refresh or repair.
    pub version: u32,
    /// The fingerprint of this version's group file (compact).
    pub fingerprint: String,
    /// t.
    pub threshold: u16,
    /// The members, as the group file's `member` lines (`ID FPR NAME`).
    pub members: Vec<String>,
    /// SHA-256 of the previous version's statement (from version 2 on).
    pub previous: Option<[u8; 32]>,
    /// The exact text.
    pub text: String,
}

/// What a group file's statement is made from.
pub struct Facts<'a> {
    /// The group key.
    pub group_key: &'a [u8; 32],
    /// The version.
    pub version: u32,
    /// The compact group fingerprint.
    pub fingerprint: &'a str,
    /// t.
    pub threshold: u16,
    /// The `member` lines.
    pub members: &'a [String],
    /// SHA-256 of the previous version's statement.
    pub previous: Option<&'a [u8; 32]>,
}

/// SHA-256 of a statement's text: what the next version's `previous` names.
pub fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The message the group signs to approve a statement.
pub fn message(text: &str) -> Vec<u8> {
    [CONTEXT, text.as_bytes()].concat()
}

/// True if `sig` is the group key's signature of the statement `text`.
pub fn is_signed(key: &[u8; 32], text: &str, sig: &[u8; 64]) -> bool {
    VerifyingKey::from_bytes(key).and_then(|vk| vk.verify_strict(&message(text), &Signature::from_bytes(sig))).is_ok()
}

impl Statement {
    /// The statement of a group file. Deterministic: the same facts give the same bytes.
    pub fn text_of(f: &Facts<'_>) -> String {
        let mut w = DocWriter::new(DOC_TYPE, 1)
            .field("group-key", hex::encode(f.group_key))
            .field("version", f.version)
            .field("fingerprint", f.fingerprint)
            .field("threshold", f.threshold);
        for m in f.members {
            w = w.field("member", m);
        }
        if let Some(p) = f.previous {
            w = w.field("previous", hex::encode(p));
        }
        // Member lines were checked as plain text where they came from, so the writer cannot fail; if it ever
        // did, the text names this group and does not parse as a statement: nothing can approve it, and no
        // two groups share it.
        w.finish().unwrap_or_else(|_| format!("unwritable membership statement of group {}\n", f.fingerprint))
    }

    /// Parse a statement (from a ceremony file's history).
    pub fn parse(text: &str) -> Result<Statement, DocError> {
        let doc = Document::parse(text, DOC_TYPE, SCHEMA, false)?;
        let bad = |key: &str, reason: &str| DocError::BadValue { key: key.into(), reason: reason.into() };
        let version: u32 = doc.number("version")?;
        if !(1..=MAX_VERSION).contains(&version) {
            return Err(bad("version", "not a version number"));
        }
        let previous = match doc.get("previous") {
            Some(_) => Some(doc.hex("previous")?),
            None => None,
        };
        if previous.is_some() != (version >= 2) {
            return Err(bad("previous", "every version after the first names the previous one, and only those"));
        }
        let fingerprint = doc.require("fingerprint")?.to_string();
        if crate::group::GroupFingerprint::parse_compact(&fingerprint).is_none() {
            return Err(bad("fingerprint", "not a group fingerprint"));
        }
        // Member lines are shown to people (`group update`, a signer's summary): each in its one spelling.
        let members: Vec<String> = doc.get_all("member").into_iter().map(str::to_string).collect();
        if !members.iter().all(|m| crate::group::ceremony::is_member_line(m)) {
            return Err(bad("member", "expected `ID FPR NAME`"));
        }
        Ok(Statement {
            group_key: doc.hex("group-key")?,
            version,
            fingerprint,
            threshold: doc.number("threshold")?,
            members,
            previous,
            text: text.to_string(),
        })
    }
}

/// One approved version: its statement and the group's signature of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approved {
    /// The statement.
    pub statement: Statement,
    /// The group key's signature of [`message`]`(statement.text)`.
    pub signature: [u8; 64],
}

/// Why a chain of statements is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // variant fields are the versions concerned
pub enum ChainError {
    /// A statement is for another key: another group signed it, or it belongs to another group.
    OtherGroup { version: u32 },
    /// The signature does not verify: not made by t keyholders of this group.
    NotSigned { version: u32 },
    /// A version is missing or out of order.
    Skipped { expected: u32, found: u32 },
    /// A statement does not name the one before it.
    Broken { version: u32 },
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainError::OtherGroup { version } => {
                write!(f, "the statement of version {version} is about another group key")
            }
            ChainError::NotSigned { version } => write!(
                f,
                "the statement of version {version} is not signed by the group key (not approved by t keyholders of this group)"
            ),
            ChainError::Skipped { expected, found } => {
                write!(f, "the history skips from version {} to version {found}", expected - 1)
            }
            ChainError::Broken { version } => {
                write!(f, "the statement of version {version} does not name the statement before it")
            }
        }
    }
}

/// Check a chain of approved statements for `key`: consecutive versions from `first`, each signed by the
/// group key and each naming the one before it; the first names `previous` when given.
///
/// Before: nothing (any input). After `Ok`: every statement was approved by the holders of `key` and the
/// chain continues `previous` without a gap.
pub fn check_chain(
    key: &[u8; 32],
    first: u32,
    previous: Option<&[u8; 32]>,
    chain: &[Approved],
) -> Result<(), ChainError> {
    let mut prev = previous.copied();
    for (expected, a) in (first..).zip(chain) {
        let s = &a.statement;
        if s.group_key != *key {
            return Err(ChainError::OtherGroup { version: s.version });
        }
        if s.version != expected {
            return Err(ChainError::Skipped { expected, found: s.version });
        }
        if !is_signed(key, &s.text, &a.signature) {
            return Err(ChainError::NotSigned { version: s.version });
        }
        if prev.is_some_and(|p| s.previous != Some(p)) {
            return Err(ChainError::Broken { version: s.version });
        }
        prev = Some(digest(&s.text));
    }
    Ok(())
}

/// What `group update` found: the versions from the trusted file to the new one, each approved.
#[derive(Clone, Debug)]
pub struct Update {
    /// The version trusted so far.
    pub from: u32,
    /// The new version.
    pub to: u32,
    /// The approved statements of versions `from + 1` to `to`, in order (empty when already current).
    pub steps: Vec<Statement>,
}

/// Why a newer group file is not accepted in place of a trusted one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // variant fields are the versions concerned
pub enum UpdateRefused {
    /// The new file holds another key.
    OtherKey,
    /// The new file is an older version.
    Older { new: u32, trusted: u32 },
    /// Another file of the same version.
    Fork { version: u32 },
    /// The new version is not approved by the group.
    NotApproved { version: u32 },
    /// The new version lacks its members' acceptances.
    NotAccepted { version: u32 },
    /// The chain from the trusted version to the new one does not hold.
    Chain(ChainError),
}

impl std::fmt::Display for UpdateRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateRefused::OtherKey => f.write_str("it holds another group key than the group file you trust"),
            UpdateRefused::Older { new, trusted } => {
                write!(f, "it is version {new}, older than the version {trusted} you trust")
            }
            UpdateRefused::Fork { version } => {
                write!(f, "it is another file of version {version}, the version you trust: the history forked")
            }
            UpdateRefused::NotApproved { version } => {
                write!(f, "its version {version} is not approved by the group: its membership statement is missing")
            }
            UpdateRefused::NotAccepted { version } => {
                write!(f, "its version {version} carries no acceptances: not the file the group published")
            }
            UpdateRefused::Chain(e) => write!(f, "{e}"),
        }
    }
}

/// Check that `new` may replace the trusted `old`: the same key, a later or equal version, approved, and
/// a chain of approved statements from `old`'s statement to `new`'s without a gap, every one signed by
/// the key `old` holds. Nothing from the folder `new` came from is trusted: only `old` and signatures.
pub fn check_update(old: &super::Group, new: &super::Group) -> Result<Update, UpdateRefused> {
    if new.key() != old.key() {
        return Err(UpdateRefused::OtherKey);
    }
    let (from, to) = (old.version(), new.version());
    if to < from {
        return Err(UpdateRefused::Older { new: to, trusted: from });
    }
    if to == from {
        return match new.statement() == old.statement() {
            true => Ok(Update { from, to, steps: Vec::new() }),
            false => Err(UpdateRefused::Fork { version: to }),
        };
    }
    if new.approval().is_none() {
        return Err(UpdateRefused::NotApproved { version: to });
    }
    // A renewed version always carries every member's acceptance (frostsign 0.1, which wrote files
    // without them, made no renewals): a copy stripped of them is not the file the group published.
    if new.acceptances().is_empty() {
        return Err(UpdateRefused::NotAccepted { version: to });
    }
    let history = new.history();
    // The history holds versions 2..=to, in order (checked on parse); keep those after `from`.
    let later: Vec<Approved> = history.into_iter().filter(|a| a.statement.version > from).collect();
    check_chain(old.key(), from + 1, Some(&digest(&old.statement())), &later).map_err(UpdateRefused::Chain)?;
    if later.last().map(|a| a.statement.version) != Some(to) {
        return Err(UpdateRefused::NotApproved { version: to });
    }
    Ok(Update { from, to, steps: later.into_iter().map(|a| a.statement).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn approved(k: &SigningKey, version: u32, previous: Option<[u8; 32]>) -> Approved {
        let members = vec![format!("1 {} Alice", "A".repeat(32)), format!("2 {} Bob", "B".repeat(32))];
        let text = Statement::text_of(&Facts {
            group_key: k.verifying_key().as_bytes(),
            version,
            fingerprint: &"C".repeat(32),
            threshold: 2,
            members: &members,
            previous: previous.as_ref(),
        });
        let signature = k.sign(&message(&text)).to_bytes();
        Approved { statement: Statement::parse(&text).unwrap(), signature }
    }

    /// A chain of versions 2..=last for `k`, starting after `anchor`.
    fn chain(k: &SigningKey, anchor: [u8; 32], last: u32) -> Vec<Approved> {
        let mut out: Vec<Approved> = Vec::new();
        for v in 2..=last {
            let prev = out.last().map(|a| digest(&a.statement.text)).unwrap_or(anchor);
            out.push(approved(k, v, Some(prev)));
        }
        out
    }

    #[test]
    fn a_statement_reads_back_and_its_text_is_canonical() {
        let a = approved(&key(1), 2, Some([7; 32]));
        assert_eq!(a.statement.version, 2);
        assert_eq!(a.statement.previous, Some([7; 32]));
        assert!(a.statement.text.starts_with("frostsign-membership: 1\ngroup-key: "), "{}", a.statement.text);
        // Version 1 names no previous; later versions must.
        let v1 = approved(&key(1), 1, None);
        assert_eq!(v1.statement.previous, None);
        let no_prev = a.statement.text.replace(&format!("previous: {}\n", hex::encode([7u8; 32])), "");
        assert!(matches!(Statement::parse(&no_prev), Err(DocError::BadValue { key, .. }) if key == "previous"));
        // A member line is shown to people: only `ID FPR NAME` in its one spelling.
        for bad in ["1 XYZ Alice", "0 {fp} Alice", "1 {fp} Al\u{202e}ice", "1  {fp} Alice"] {
            let line = bad.replace("{fp}", &"A".repeat(32));
            let text = a.statement.text.replacen(&a.statement.members[0], &line, 1);
            assert!(
                matches!(Statement::parse(&text), Err(DocError::BadValue { key, .. }) if key == "member"),
                "{line:?}"
            );
        }
    }

    #[test]
    fn no_release_format_signs_a_message_that_starts_like_a_membership_approval() {
        // minisign and OpenPGP sign 64- and 32-byte digests, shorter than the context itself; SSHSIG's
        // signed data starts with `SSHSIG`, a signify manifest with `SHA256 (`: none starts with CONTEXT.
        let m = message(&approved(&key(1), 2, Some([7; 32])).statement.text);
        assert!(m.len() > 64 && m.starts_with(CONTEXT));
        for other in [&b"SSHSIG"[..], b"SHA256 (", b"frostsign-rotation: 1"] {
            assert!(!CONTEXT.starts_with(&other[..other.len().min(CONTEXT.len())]));
        }
        assert!(CONTEXT.len() > 32 && CONTEXT.contains(&0));
    }

    #[test]
    fn a_whole_chain_is_accepted_and_each_defect_is_named() {
        let k = key(1);
        let anchor = [9; 32];
        let good = chain(&k, anchor, 4);
        let pk = k.verifying_key().to_bytes();
        assert_eq!(check_chain(&pk, 2, Some(&anchor), &good), Ok(()));
        // A version left out.
        let skipped = vec![good[0].clone(), good[2].clone()];
        assert_eq!(check_chain(&pk, 2, Some(&anchor), &skipped), Err(ChainError::Skipped { expected: 3, found: 4 }));
        // Another anchor: the chain does not continue the version the user trusts.
        assert_eq!(check_chain(&pk, 2, Some(&[8; 32]), &good), Err(ChainError::Broken { version: 2 }));
        // Signed by another key (fewer than t of this group cannot make the group's signature).
        let mut forged = good.clone();
        forged[1].signature = key(2).sign(&message(&forged[1].statement.text)).to_bytes();
        assert_eq!(check_chain(&pk, 2, Some(&anchor), &forged), Err(ChainError::NotSigned { version: 3 }));
        // Another group's chain.
        let other = chain(&key(3), anchor, 3);
        assert_eq!(check_chain(&pk, 2, Some(&anchor), &other), Err(ChainError::OtherGroup { version: 2 }));
        // The signed text without the context is not an approval.
        let mut raw = good.clone();
        raw[0].signature = k.sign(raw[0].statement.text.as_bytes()).to_bytes();
        assert_eq!(check_chain(&pk, 2, Some(&anchor), &raw), Err(ChainError::NotSigned { version: 2 }));
    }
}
