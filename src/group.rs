//! `group.pub`: everything public about a FROST group, and what users verify with.
//!
//! Written by key generation, byte-identical for every keyholder (it holds nothing that differs between
//! them: no local time, no local path). Holds the FROST public key package, t and n, the members' cards in
//! identifier order, the ceremony that made it, the group fingerprint and the minisign public key line.

use crate::card::Card;
use crate::error::{Error, Result};
use crate::formats::minisign;
use crate::textdoc::{DocError, DocWriter, Document, Need};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use frost_ed25519 as frost;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// Largest group file accepted (255 members' cards fit comfortably).
pub const MAX_GROUP_BYTES: u64 = 1024 * 1024;
/// Largest group size frostsign supports.
pub const MAX_MEMBERS: usize = 255;

/// A 128-bit fingerprint of the group key, shown like a keyholder fingerprint.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct GroupFingerprint([u8; 16]);

impl GroupFingerprint {
    /// SHA-256 over a domain string and the group key, first 16 bytes.
    pub fn of(group_key: &[u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(b"frostsign group fingerprint v1\0");
        h.update(group_key);
        GroupFingerprint(h.finalize()[..16].try_into().expect("16"))
    }

    /// Uppercase hex, no spaces (file names, headers).
    pub fn compact(&self) -> String {
        hex::encode_upper(self.0)
    }

    /// Parse grouped or compact form.
    pub fn parse(s: &str) -> Option<Self> {
        let c: String = s.chars().filter(|c| *c != ' ').collect();
        let b = hex::decode(c.to_ascii_lowercase()).ok()?;
        Some(GroupFingerprint(b.try_into().ok()?))
    }
}

impl fmt::Display for GroupFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.compact();
        let groups: Vec<&str> = (0..8).map(|i| &h[i * 4..i * 4 + 4]).collect();
        f.write_str(&groups.join(" "))
    }
}

/// A parsed and checked group file.
#[derive(Clone, Debug)]
pub struct Group {
    label: Option<String>,
    ceremony: [u8; 32],
    threshold: u16,
    members: Vec<Card>,
    package: frost::keys::PublicKeyPackage,
    key: [u8; 32],
    text: String,
}

const SCHEMA: &[(&str, Need)] = &[
    ("label", Need::Optional),
    ("fingerprint", Need::Required),
    ("threshold", Need::Required),
    ("members", Need::Required),
    ("group-key", Need::Required),
    ("minisign-key-id", Need::Required),
    ("minisign-public-key", Need::Required),
    ("ceremony", Need::Required),
    ("member", Need::Repeated),
    ("card", Need::Repeated),
    ("public-key-package", Need::Required),
];

/// The FROST identifier of the member at 0-based position `index`.
pub fn identifier(index: usize) -> frost::Identifier {
    frost::Identifier::try_from(index as u16 + 1).expect("1..=255 is a valid identifier")
}

/// Index of a FROST identifier among members 1..=n.
pub fn index_of(id: &frost::Identifier, n: usize) -> Option<usize> {
    (0..n).find(|i| identifier(*i) == *id)
}

impl Group {
    /// Build the group file after key generation. Deterministic in its inputs.
    pub fn build(
        label: Option<&str>,
        ceremony: &[u8; 32],
        threshold: u16,
        members: &[Card],
        package: &frost::keys::PublicKeyPackage,
    ) -> Result<Group> {
        let key: [u8; 32] = package
            .verifying_key()
            .serialize()
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| Error::new("internal error: group key does not serialize"))?;
        let mut w = DocWriter::new("group", 1);
        if let Some(l) = label {
            w = w.field("label", l);
        }
        w = w
            .field("fingerprint", GroupFingerprint::of(&key))
            .field("threshold", threshold)
            .field("members", members.len())
            .field("group-key", hex::encode(key))
            .field("minisign-key-id", minisign::key_id_display(&minisign::key_id(&key)))
            .field("minisign-public-key", minisign::public_key_line(&key))
            .field("ceremony", hex::encode(ceremony));
        for (i, c) in members.iter().enumerate() {
            w = w.field("member", format!("{} {} {}", i + 1, c.fingerprint().compact(), c.name()));
        }
        for c in members {
            w = w.block("card", c.text().as_bytes());
        }
        let pkp = package.serialize().map_err(|e| Error::new(format!("internal error: {e}")))?;
        let text = w.block("public-key-package", &pkp).finish();
        Group::parse(&text).map_err(|e| Error::new(format!("internal error: new group file does not parse: {e}")))
    }

    /// Parse and check a group file: every card verifies, the package matches the key, t and n.
    pub fn parse(text: &str) -> std::result::Result<Group, DocError> {
        let doc = Document::parse(text, "group", SCHEMA, false)?;
        let bad = |key: &str, reason: &str| DocError::BadValue { key: key.into(), reason: reason.into() };
        let label = doc.get("label").map(str::to_string);
        let threshold: u16 = doc.require("threshold")?.parse().map_err(|_| bad("threshold", "not a number"))?;
        let n: usize = doc.require("members")?.parse().map_err(|_| bad("members", "not a number"))?;
        if !(2..=MAX_MEMBERS).contains(&n) || threshold < 2 || threshold as usize > n {
            return Err(bad("threshold", "need 2 <= threshold <= members <= 255"));
        }
        let key: [u8; 32] = doc.hex("group-key")?;
        let ceremony: [u8; 32] = doc.hex("ceremony")?;
        if doc.require("fingerprint")? != GroupFingerprint::of(&key).to_string() {
            return Err(bad("fingerprint", "does not match the group key"));
        }
        if doc.require("minisign-public-key")? != minisign::public_key_line(&key)
            || doc.require("minisign-key-id")? != minisign::key_id_display(&minisign::key_id(&key))
        {
            return Err(bad("minisign-public-key", "does not match the group key"));
        }
        let member_lines = doc.get_all("member");
        let cards_b64: Vec<&str> = doc.get_all("card");
        if member_lines.len() != n || cards_b64.len() != n {
            return Err(bad("member", "the number of members and cards does not match `members`"));
        }
        let mut members = Vec::with_capacity(n);
        for (i, (line, b64)) in member_lines.iter().zip(&cards_b64).enumerate() {
            let raw = B64.decode(b64).map_err(|_| bad("card", "invalid base64"))?;
            let card_text = String::from_utf8(raw).map_err(|_| bad("card", "not UTF-8"))?;
            let card = Card::parse(&card_text).map_err(|e| bad("card", &format!("member {}: {e}", i + 1)))?;
            if *line != format!("{} {} {}", i + 1, card.fingerprint().compact(), card.name()) {
                return Err(bad("member", &format!("line for member {} does not match its card", i + 1)));
            }
            members.push(card);
        }
        let pkp_bytes = doc.block("public-key-package")?;
        let package = frost::keys::PublicKeyPackage::deserialize(&pkp_bytes)
            .map_err(|_| bad("public-key-package", "not a FROST Ed25519 public key package"))?;
        let pkp_key = package.verifying_key().serialize().map_err(|_| bad("public-key-package", "bad key"))?;
        if pkp_key != key {
            return Err(bad("public-key-package", "its group key differs from `group-key`"));
        }
        if package.min_signers() != Some(threshold) || package.verifying_shares().len() != n {
            return Err(bad("public-key-package", "its threshold or size differs from the header"));
        }
        if (0..n).any(|i| !package.verifying_shares().contains_key(&identifier(i))) {
            return Err(bad("public-key-package", "member identifiers are not 1..n"));
        }
        Ok(Group { label, ceremony, threshold, members, package, key, text: text.to_string() })
    }

    /// Load and check a group file.
    pub fn load(path: &Path) -> Result<Group> {
        let text = crate::fsx::read_text(path, MAX_GROUP_BYTES)?;
        Group::parse(&text).map_err(|e| {
            Error::file(path, format!("not a valid frostsign group file: {e}"))
                .with_help("use the group.pub written by `frostsign dkg step`, as published by the group")
        })
    }

    /// The label, if any.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// A label for display: the label or the fingerprint.
    pub fn display_name(&self) -> String {
        self.label.clone().unwrap_or_else(|| format!("group {}", self.fingerprint()))
    }

    /// The ceremony that made this group.
    pub fn ceremony(&self) -> &[u8; 32] {
        &self.ceremony
    }

    /// t.
    pub fn threshold(&self) -> u16 {
        self.threshold
    }

    /// The members' cards, in identifier order (member i has identifier i+1).
    pub fn members(&self) -> &[Card] {
        &self.members
    }

    /// The FROST public key package.
    pub fn package(&self) -> &frost::keys::PublicKeyPackage {
        &self.package
    }

    /// The group's Ed25519 public key.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The group fingerprint.
    pub fn fingerprint(&self) -> GroupFingerprint {
        GroupFingerprint::of(&self.key)
    }

    /// The exact file text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Member index of a keyholder fingerprint.
    pub fn member_index(&self, fp: crate::card::Fingerprint) -> Option<usize> {
        self.members.iter().position(|c| c.fingerprint() == fp)
    }
}
