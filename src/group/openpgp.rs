//! The group's OpenPGP identity (`group.openpgp`): made once by a certification session, kept beside
//! `group.pub` so every later export of the group's OpenPGP key is byte-identical.

use super::{Group, GroupFingerprint};
use crate::error::{Error, Result};
use crate::textdoc::{DocError, DocWriter, Document, Need, Spec};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::path::Path;

/// The group's OpenPGP identity: the key's creation time, the user id and the group's self-certification.
/// Kept in `group.openpgp` beside `group.pub` (made once, by a certification session), so every later
/// export of the OpenPGP key is byte-identical.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenPgpIdentity {
    /// The group it belongs to.
    pub group: GroupFingerprint,
    /// The key (group key and creation time).
    pub key: crate::formats::openpgp::PgpKey,
    /// The certified user id.
    pub uid: String,
    /// The group's signature over the certification digest (made at the key's creation time).
    pub certification: [u8; 64],
}

const OPENPGP_SCHEMA: &[Spec] = &[
    Spec::line("group", Need::Required),
    Spec::line("group-key", Need::Required),
    Spec::line("key-created", Need::Required),
    Spec::line("fingerprint", Need::Required),
    Spec::line("uid", Need::Required),
    Spec::line("certification", Need::Required),
];

impl OpenPgpIdentity {
    /// Where it lives for a given group file: same folder and stem, extension `.openpgp`.
    pub fn path_for(group_path: &Path) -> std::path::PathBuf {
        group_path.with_extension("openpgp")
    }

    /// Encode as a `frostsign-openpgp-key` document (refused if the user id cannot be written on one line).
    pub fn encode(&self) -> Result<String> {
        DocWriter::new("openpgp-key", 1)
            .field("group", self.group.compact())
            .field("group-key", hex::encode(self.key.pk))
            .field("key-created", crate::clock::format(self.key.created as i64))
            .field("fingerprint", hex::encode_upper(self.key.fingerprint()))
            .field("uid", &self.uid)
            .field("certification", B64.encode(self.certification))
            .finish()
            .map_err(Error::from)
    }

    /// Parse and check against `group`: same key, and the certification verifies under the group key.
    pub fn parse(text: &str, group: &Group) -> std::result::Result<OpenPgpIdentity, DocError> {
        let bad = |key: &str, reason: &str| DocError::BadValue { key: key.into(), reason: reason.into() };
        let doc = Document::parse(text, "openpgp-key", OPENPGP_SCHEMA, false)?;
        let pk: [u8; 32] = doc.hex("group-key")?;
        if &pk != group.key() || doc.require("group")? != group.fingerprint().compact() {
            return Err(bad("group-key", "this OpenPGP key belongs to another group"));
        }
        let created = crate::clock::parse(doc.require("key-created")?)
            .and_then(|t| u32::try_from(t).ok())
            .ok_or_else(|| bad("key-created", "not a UTC time"))?;
        let key = crate::formats::openpgp::PgpKey { pk, created };
        if doc.require("fingerprint")? != hex::encode_upper(key.fingerprint()) {
            return Err(bad("fingerprint", "does not match the key"));
        }
        let uid = doc.require("uid")?.to_string();
        let certification: [u8; 64] = B64
            .decode(doc.require("certification")?)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("certification", "not a base64 Ed25519 signature"))?;
        let digest = key.certification_digest(&uid, created);
        let ok = ed25519_dalek::VerifyingKey::from_bytes(&pk)
            .and_then(|vk| vk.verify_strict(&digest, &ed25519_dalek::Signature::from_bytes(&certification)))
            .is_ok();
        if !ok {
            return Err(bad("certification", "is not the group's signature of this key and user id"));
        }
        Ok(OpenPgpIdentity { group: group.fingerprint(), key, uid, certification })
    }

    /// Load `group.openpgp` beside `group_path`, if present.
    pub fn load_beside(group_path: &Path, group: &Group) -> Result<Option<OpenPgpIdentity>> {
        let path = Self::path_for(group_path);
        if !path.exists() {
            return Ok(None);
        }
        let text = crate::fsx::read_text(&path, 64 * 1024)?;
        OpenPgpIdentity::parse(&text, group)
            .map(Some)
            .map_err(|e| Error::file(&path, format!("not a valid group OpenPGP key file: {e}")))
    }

    /// The armored OpenPGP public key (deterministic).
    pub fn armored_public_key(&self) -> String {
        self.key.armored_public_key(&self.uid, self.key.created, &self.certification)
    }
}
