//! `group.pub`: everything public about a FROST group, and what users verify with. Self-authenticating:
//! it embeds the ceremony description and every member's signed confirmation of the key.
//!
//! Written by key generation, byte-identical for every keyholder (it holds nothing that differs between
//! them: no local time, no local path). Holds the FROST public key package, t and n, the members' cards in
//! identifier order, the ceremony that made it, the group fingerprint and the minisign public key line.

use crate::card::Card;
pub mod ceremony;
pub mod membership;
pub mod openpgp;
pub(crate) mod own;
pub mod rotation;

use crate::error::{Error, Result};
use crate::exchange::message::{self, Expect};
use crate::formats::minisign;
use crate::plain_text::PlainText;
use crate::textdoc::{DocError, DocWriter, Document, Need, Spec};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ceremony::{AcceptPayload, ConfirmPayload, DkgCeremony, KIND_ACCEPT, KIND_CONFIRM};
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
    /// SHA-256 over a domain string, the group key and the digest of the ceremony that made it, first 16
    /// bytes. Covering the ceremony binds the fingerprint to the members, threshold and label too: a
    /// group file that reuses the real key with invented members has another fingerprint.
    pub fn of(group_key: &[u8; 32], ceremony: &[u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(b"frostsign group fingerprint v2\0");
        h.update(group_key);
        h.update(ceremony);
        let digest: [u8; 32] = h.finalize().into();
        GroupFingerprint(std::array::from_fn(|i| digest[i]))
    }

    /// Uppercase hex, no spaces (file names, headers).
    pub fn compact(&self) -> String {
        hex::encode_upper(self.0)
    }

    /// Parse the compact form only: exactly 32 uppercase hex digits.
    pub fn parse_compact(s: &str) -> Option<Self> {
        let ok = s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
        ok.then(|| Self::parse(s)).flatten()
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
        f.write_str(&crate::card::grouped_hex(&self.0))
    }
}

/// The public key packages decoded in this process, by SHA-256 of their bytes (oldest first, at most
/// [`PARSED_MAX`]).
static PACKAGES: std::sync::Mutex<Vec<([u8; 32], frost::keys::PublicKeyPackage)>> = std::sync::Mutex::new(Vec::new());

/// Decode a FROST public key package, each distinct byte string once per process: decoding checks each of
/// its n points (a scalar multiplication each), and the texts of one group (without acceptances, with them,
/// the folder's copy) all carry the same package. Only frost's checked decodings are remembered here.
pub(crate) fn public_key_package(bytes: &[u8]) -> Option<frost::keys::PublicKeyPackage> {
    let tag = sha256(bytes);
    let remembered = PACKAGES.lock().ok().and_then(|m| m.iter().find(|(t, _)| *t == tag).map(|(_, p)| p.clone()));
    if remembered.is_some() {
        return remembered;
    }
    let package = frost::keys::PublicKeyPackage::deserialize(bytes).ok()?;
    if let Ok(mut m) = PACKAGES.lock() {
        if m.len() >= PARSED_MAX {
            m.remove(0);
        }
        m.push((tag, package.clone()));
    }
    Some(package)
}

/// Whether a decoded public key package agrees with its group file's header: the group key, the
/// threshold, and exactly the ceremony's identifiers. `Err` says what differs.
fn package_agrees(
    package: &frost::keys::PublicKeyPackage,
    key: &[u8; 32],
    threshold: u16,
    ids: &[frost::Identifier],
) -> std::result::Result<(), &'static str> {
    if package.verifying_key().serialize().ok().as_deref() != Some(key.as_slice()) {
        return Err("its group key differs from `group-key`");
    }
    if package.min_signers() != Some(threshold) || package.verifying_shares().len() != ids.len() {
        return Err("its threshold or size differs from the header");
    }
    if ids.iter().any(|id| !package.verifying_shares().contains_key(id)) {
        return Err("its members are not the ceremony's identifiers");
    }
    Ok(())
}

/// How many parsed group files [`Group::parse`] remembers.
const PARSED_MAX: usize = 8;

/// The group files parsed in this process, by SHA-256 of their exact text (oldest first).
static PARSED: std::sync::Mutex<Vec<([u8; 32], Group)>> = std::sync::Mutex::new(Vec::new());

/// The SHA-256 of a text this keyholder checked in full before, vouched for by where it came from (its
/// sealed home or state, or this process having built or checked the text). [`Group::parse_known`] and
/// [`DkgCeremony::parse_known`] skip the embedded signature checks of a text whose bytes hash to it, so
/// the digest of anything read from a ceremony folder or another unchecked place must never become one.
/// It is made only inside the crate: from a sealed record ([`CheckedDigest::sealed`],
/// [`CheckedDigest::of_sealed_text`]) or from a checked [`Group`] ([`Group::core_digest`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckedDigest([u8; 32]);

impl CheckedDigest {
    /// A digest read from this keyholder's sealed home or state (authenticated encryption under its home
    /// key), written there after the text it names was checked in full.
    pub(crate) fn sealed(digest: [u8; 32]) -> CheckedDigest {
        CheckedDigest(digest)
    }

    /// The digest of `text`, read from this keyholder's sealed state, where it was written after being
    /// checked in full.
    pub(crate) fn of_sealed_text(text: &[u8]) -> CheckedDigest {
        CheckedDigest(sha256(text))
    }

    /// The digest.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A parsed and checked group file.
#[derive(Clone, Debug)]
pub struct Group {
    label: Option<PlainText>,
    ceremony: [u8; 32],
    /// The id of the ceremony that made the group (its `ceremony.txt`'s `id`).
    ceremony_id: [u8; 16],
    threshold: u16,
    members: Vec<Card>,
    /// Each member's FROST identifier number, in member order.
    ids: Vec<u16>,
    refresh: Option<ceremony::Refresh>,
    repaired: bool,
    /// The public key package, decoded (with frost's checks of every point) when the file is checked, or
    /// on first use for a text this keyholder checked in full before (see [`Group::parse_known`]).
    package: std::sync::OnceLock<frost::keys::PublicKeyPackage>,
    package_bytes: Vec<u8>,
    key: [u8; 32],
    minisign_key_id: [u8; 8],
    dealer: Option<Card>,
    confirmations: Vec<String>,
    acceptances: Vec<String>,
    /// 1 for a new group; a renewal's is the renewed group's plus one.
    version: u32,
    /// The renewal's place in the membership history (`None` for version 1).
    lineage: Option<ceremony::Lineage>,
    /// The group key's signature of this version's membership statement (`frostsign group approve`).
    approval: Option<[u8; 64]>,
    core_len: usize,
    /// Length of the text without the approval.
    unapproved_len: usize,
    text: String,
}

const SCHEMA: &[Spec] = &[
    Spec::line("label", Need::Optional),
    Spec::line("fingerprint", Need::Required),
    Spec::line("version", Need::Optional),
    Spec::line("threshold", Need::Required),
    Spec::line("members", Need::Required),
    Spec::line("group-key", Need::Required),
    Spec::line("minisign-key-id", Need::Required),
    Spec::line("minisign-public-key", Need::Required),
    Spec::line("ceremony", Need::Required),
    Spec::line("member", Need::Repeated),
    Spec::block("public-key-package", Need::Required),
    Spec::block("ceremony-file", Need::Required),
    Spec::block("confirmation", Need::Repeated),
    Spec::block("acceptance", Need::Repeated),
    Spec::block("approval", Need::Optional),
];

/// The line that starts the acceptances; everything before it (and before the approval) is the group
/// file's core.
const ACCEPTANCE_LINE: &str = "\nacceptance:\n";
/// The line that starts the approval, which comes last.
const APPROVAL_LINE: &str = "\napproval:\n";

/// The FROST identifier numbered `id`. Before: `id` is nonzero: every identifier frostsign uses comes
/// from a ceremony file, whose reader accepts only 1..=255 (a position + 1, or a refresh's numbers), so
/// no input reaches this with 0.
pub fn frost_identifier(id: u16) -> frost::Identifier {
    frost::Identifier::try_from(id).expect("identifiers are nonzero")
}

/// A group file frostsign writes must be one it can read back ([`Group::load`] reads at most
/// [`MAX_GROUP_BYTES`]). Every part of it is canonical (payloads in one form, blocks wrapped one way), so
/// only a ceremony far larger than [`MAX_MEMBERS`] allows could reach this.
fn check_size(text: &str) -> Result<()> {
    if text.len() as u64 > MAX_GROUP_BYTES {
        return Err(Error::new(format!(
            "the group file would be {} bytes, more than the {MAX_GROUP_BYTES} a group file may hold",
            text.len()
        )));
    }
    Ok(())
}

/// The minisign key id of the group `ceremony` made with `key`: an imported key keeps its own id, a
/// generated key's is derived from the key.
fn minisign_key_id(ceremony: &DkgCeremony, key: &[u8; 32]) -> [u8; 8] {
    ceremony.minisign_key_id().unwrap_or_else(|| minisign::key_id(key))
}

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

impl Group {
    /// Build the group file after key generation. Deterministic in its inputs.
    ///
    /// Before: `confirmations` are the n confirmation files of `ceremony`, in member order, all agreeing
    /// on `package`. After: the file embeds the ceremony description and those signed confirmations, so
    /// anyone can check that every member vouched for this exact key, package, label and member list.
    pub fn build(
        ceremony: &DkgCeremony,
        confirmations: &[&str],
        package: &frost::keys::PublicKeyPackage,
    ) -> Result<Group> {
        let internal = |e: &dyn fmt::Display| Error::new(format!("internal error: {e}"));
        let key: [u8; 32] = package
            .verifying_key()
            .serialize()
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| internal(&"group key"))?;
        let mut w = DocWriter::new("group", 1);
        if let Some(l) = ceremony.label() {
            w = w.field("label", l);
        }
        w = w.field("fingerprint", GroupFingerprint::of(&key, ceremony.digest()));
        if let Some(l) = ceremony.lineage() {
            w = w.field("version", l.version);
        }
        w = w
            .field("threshold", ceremony.threshold())
            .field("members", ceremony.cards().len())
            .field("group-key", hex::encode(key))
            .field("minisign-key-id", minisign::key_id_display(&minisign_key_id(ceremony, &key)))
            .field("minisign-public-key", minisign::public_key_line(&minisign_key_id(ceremony, &key), &key))
            .field("ceremony", hex::encode(ceremony.digest()));
        for (id, c) in ceremony.identifier_numbers().iter().zip(ceremony.cards()) {
            w = w.field("member", format!("{id} {} {}", c.fingerprint().compact(), c.name()));
        }
        let pkp = package.serialize().map_err(|e| internal(&e))?;
        w = w.block("public-key-package", &pkp).block("ceremony-file", ceremony.text().as_bytes());
        for c in confirmations {
            w = w.block("confirmation", c.as_bytes());
        }
        let text = w.finish()?;
        check_size(&text)?;
        // Checked in full, except that the package block is `package` itself (its bytes are those just
        // written), which is not decoded again: it is this keyholder's own computation.
        let tag = sha256(text.as_bytes());
        let group = Self::parse_checked(&text, &tag, None, Some(package))
            .map_err(|e| internal(&format!("new group file does not parse: {e}")))?;
        Self::remember(tag, &group);
        Ok(group)
    }

    /// The SHA-256 of this group file's core (everything before the acceptances), which was checked in
    /// full when this `Group` was made: what [`Group::parse_known`] may trust in a text carrying this core.
    pub fn core_digest(&self) -> CheckedDigest {
        CheckedDigest(sha256(self.core_text().as_bytes()))
    }

    /// The same group file with the members' acceptances of its core appended, in member order: the proof,
    /// carried by the file itself, that every member accepted exactly this group.
    ///
    /// Before: `acceptances` are n acceptance files of this group's ceremony, one per member in member
    /// order, each naming the SHA-256 of this file's core. After: the returned file parses and its core is
    /// this file's core.
    pub fn with_acceptances(&self, acceptances: &[&str]) -> Result<Group> {
        let mut w = crate::textdoc::DocWriter::continuing(self.core_text());
        for a in acceptances {
            w = w.block("acceptance", a.as_bytes());
        }
        let text = w.finish()?;
        check_size(&text)?;
        // The core is this group's, which was checked (every `Group` is): only the acceptances are new.
        Group::parse_known(&text, Some(&self.core_digest()))
            .map_err(|e| Error::new(format!("internal error: the accepted group file does not parse: {e}")))
    }

    /// Parse and check a group file.
    ///
    /// Checks: the key package matches the key, t and n; the embedded ceremony file hashes to `ceremony`
    /// and agrees with label, threshold and members; each of the n embedded confirmations is signed by its
    /// member and vouches for this group key and this exact public key package; and, when the file carries
    /// acceptances (files made by frostsign 0.1 do not), there are n, each signed by its member and naming
    /// the SHA-256 of the file's core (everything before the first acceptance).
    ///
    /// A text that parsed before in this process is not checked again (one key generation step reads the
    /// same group file from the folder, the home and its own result several times; each check costs n
    /// point validations and up to 3n signature checks): the result is remembered by the SHA-256 of the
    /// exact text, for the last few texts.
    pub fn parse(text: &str) -> std::result::Result<Group, DocError> {
        Self::parse_known(text, None)
    }

    /// [`Group::parse`] of a group file this keyholder checked in full before: `known` is the SHA-256 of
    /// what it checked, as its own sealed state records it (the file it stored with its share), or of a
    /// core it checked (built, or read from its sealed key generation state). A text whose bytes hash to
    /// `known` is parsed and checked again except for the Ed25519 signatures it embeds (the cards'
    /// self-signatures, the n confirmations and n acceptances: most of the cost of a signing step at 100
    /// keyholders); a text whose core (everything before the acceptances) hashes to `known` is checked in
    /// full except for the signatures inside that core and the decoding of its public key package, which
    /// lies in the core (its acceptances are checked; [`Group::package`] decodes on demand); any other text,
    /// however small the change, is checked in full, as [`Group::parse`] does.
    pub fn parse_known(text: &str, known: Option<&CheckedDigest>) -> std::result::Result<Group, DocError> {
        let tag = sha256(text.as_bytes());
        let remembered = PARSED.lock().ok().and_then(|m| m.iter().find(|(t, _)| *t == tag).map(|(_, g)| g.clone()));
        if let Some(group) = remembered {
            return Ok(group);
        }
        let group = Self::parse_checked(text, &tag, known.map(CheckedDigest::bytes), None)?;
        Self::remember(tag, &group);
        Ok(group)
    }

    /// Remember a checked group file by the SHA-256 of its text (see [`Group::parse`]).
    fn remember(tag: [u8; 32], group: &Group) {
        if let Ok(mut m) = PARSED.lock() {
            if m.len() >= PARSED_MAX {
                m.remove(0);
            }
            m.push((tag, group.clone()));
        }
    }

    /// [`Group::parse`] of `text`, whose SHA-256 is `tag`: every check done, except the signatures inside
    /// what `known` names as checked in full by this keyholder before (see [`Group::parse_known`]), and the
    /// decoding of the public key package when that is the core (or the whole text), or when `built` is
    /// the package the text's block was serialized from ([`Group::build`]).
    fn parse_checked(
        text: &str,
        tag: &[u8; 32],
        known: Option<&[u8; 32]>,
        built: Option<&frost::keys::PublicKeyPackage>,
    ) -> std::result::Result<Group, DocError> {
        let unapproved_len = text.find(APPROVAL_LINE).map(|i| i + 1).unwrap_or(text.len());
        let core_len = text[..unapproved_len].find(ACCEPTANCE_LINE).map(|i| i + 1).unwrap_or(unapproved_len);
        let core_digest = sha256(&text.as_bytes()[..core_len]);
        // What this keyholder checked before: the whole text (every signature in it), or its core.
        let whole_checked = known == Some(tag);
        let checked_before = whole_checked || known == Some(&core_digest);
        let doc = Document::parse(text, "group", SCHEMA, false)?;
        let bad = |key: &str, reason: &str| DocError::BadValue { key: key.into(), reason: reason.into() };
        let label = doc.get("label").map(str::to_string);
        let threshold: u16 = doc.number("threshold")?;
        let n: usize = doc.number("members")?;
        if !(2..=MAX_MEMBERS).contains(&n) || threshold < 2 || threshold as usize > n {
            return Err(bad("threshold", "need 2 <= threshold <= members <= 255"));
        }
        let key: [u8; 32] = doc.hex("group-key")?;
        let ceremony_digest: [u8; 32] = doc.hex("ceremony")?;
        if doc.require("fingerprint")? != GroupFingerprint::of(&key, &ceremony_digest).to_string() {
            return Err(bad("fingerprint", "does not match the group key and ceremony"));
        }
        // The ceremony that made the key: its hash, label, threshold and member list.
        let ceremony_bytes = doc.block("ceremony-file")?;
        if sha256(&ceremony_bytes) != ceremony_digest {
            return Err(bad("ceremony-file", "does not hash to the `ceremony` field"));
        }
        let ceremony_text = String::from_utf8(ceremony_bytes).map_err(|_| bad("ceremony-file", "not UTF-8"))?;
        // The embedded ceremony file is part of the text checked before (its digest was compared just above).
        let vouched = checked_before.then_some(CheckedDigest(ceremony_digest));
        let ceremony = DkgCeremony::parse_known(&ceremony_text, vouched.as_ref())
            .map_err(|e| bad("ceremony-file", &e.to_string()))?;
        if ceremony.dealer().is_some_and(|d| d.group_key != key) {
            return Err(bad("group-key", "is not the key the dealer split (the ceremony's dealt-key)"));
        }
        let key_id = minisign_key_id(&ceremony, &key);
        if doc.require("minisign-public-key")? != minisign::public_key_line(&key_id, &key)
            || doc.require("minisign-key-id")? != minisign::key_id_display(&key_id)
        {
            return Err(bad("minisign-public-key", "does not match the group key and its minisign key id"));
        }
        if ceremony.label() != label.as_deref() || ceremony.threshold() != threshold || ceremony.cards().len() != n {
            return Err(bad("label", "label, threshold or member count differ from the ceremony that made the key"));
        }
        if ceremony.renews().is_some_and(|(_, k)| *k != key) {
            return Err(bad("group-key", "is not the key of the group the ceremony renewed"));
        }
        let members = ceremony.cards().to_vec();
        let member_lines = doc.get_all("member");
        let ids = ceremony.identifier_numbers();
        if member_lines.len() != n
            || member_lines
                .iter()
                .zip(members.iter().zip(ids))
                .any(|(line, (c, id))| *line != format!("{id} {} {}", c.fingerprint().compact(), c.name()))
        {
            return Err(bad("member", "the member lines differ from the ceremony's participants"));
        }
        let pkp_bytes = doc.block("public-key-package")?;
        let package = std::sync::OnceLock::new();
        // A text whose core was checked before (the package block is in the core: the schema puts it
        // before every acceptance, once): its package was decoded then, each point checked, and agreed
        // with the header. Decoding it again cost n+1 subgroup checks per read of a completed group file
        // (a signer needs only the group key, which the header carries; `package()` decodes on demand).
        if !checked_before {
            let decoded = match built {
                Some(p) => p.clone(),
                None => public_key_package(&pkp_bytes)
                    .ok_or_else(|| bad("public-key-package", "not a FROST Ed25519 public key package"))?,
            };
            package_agrees(&decoded, &key, threshold, &ceremony.identifiers())
                .map_err(|why| bad("public-key-package", why))?;
            let _ = package.set(decoded);
        }
        let confirmations = check_confirmations(&doc, &ceremony, &key, &sha256(&pkp_bytes), checked_before)?;
        let acceptances = check_acceptances(&doc, &ceremony, &core_digest, whole_checked)?;
        let lineage = ceremony.lineage().cloned();
        let version = lineage.as_ref().map_or(1, |l| l.version);
        let version_line = doc.get("version").map(|v| v.parse::<u32>().ok().filter(|n| n.to_string() == v));
        if version_line != lineage.as_ref().map(|l| Some(l.version)) {
            return Err(bad("version", "differs from the version of the ceremony that made the group"));
        }
        Group {
            // The same text as the ceremony's label (compared above), which was checked as a label.
            label: ceremony.label_text().cloned(),
            ceremony: ceremony_digest,
            ceremony_id: *ceremony.id(),
            threshold,
            members,
            ids: ceremony.identifier_numbers().to_vec(),
            refresh: ceremony.refresh().cloned(),
            repaired: ceremony.repair().is_some(),
            package,
            package_bytes: pkp_bytes,
            key,
            minisign_key_id: key_id,
            dealer: ceremony.dealer().map(|d| d.card.clone()),
            confirmations,
            acceptances,
            version,
            lineage,
            approval: None,
            core_len,
            unapproved_len,
            text: text.to_string(),
        }
        .with_checked_approval(&doc)
    }

    /// Read and check the `approval` block: only from version 2 on, and only the group key's signature of
    /// this version's membership statement.
    fn with_checked_approval(mut self, doc: &Document) -> std::result::Result<Group, DocError> {
        let bad = |reason: &str| DocError::BadValue { key: "approval".into(), reason: reason.into() };
        if doc.blocks("approval").is_empty() {
            return Ok(self);
        }
        if self.version < 2 {
            return Err(bad("version 1 of a group is not approved by a statement: it is the trust anchor"));
        }
        let sig: [u8; 64] = doc.block("approval")?.try_into().map_err(|_| bad("expected a 64-byte signature"))?;
        if !membership::is_signed(&self.key, &self.statement(), &sig) {
            return Err(bad("is not the group key's signature of this version's membership statement"));
        }
        self.approval = Some(sig);
        Ok(self)
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
        self.label.as_ref().map(PlainText::to_string).unwrap_or_else(|| format!("group {}", self.fingerprint()))
    }

    /// The ceremony that made this group.
    pub fn ceremony(&self) -> &[u8; 32] {
        &self.ceremony
    }

    /// The id of the ceremony that made this group (names a keyholder's working state for it).
    pub fn ceremony_id(&self) -> &[u8; 16] {
        &self.ceremony_id
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
    pub fn package(&self) -> Result<&frost::keys::PublicKeyPackage> {
        if let Some(p) = self.package.get() {
            return Ok(p);
        }
        // It decoded when the file was checked in full; it can still fail here if a newer frostsign (another
        // frost-ed25519) reads a file whose check it trusts from the sealed digest: an error, never a panic.
        let p = public_key_package(&self.package_bytes).ok_or_else(|| {
            Error::new(format!("the public key package of the group {} does not decode", self.fingerprint()))
                .with_help("this frostsign reads the package differently from the one that checked it: use that version, or ask the group for its group.pub again")
        })?;
        // As when it was checked (no scalar multiplication): the trusted digest vouches for these bytes.
        let ids: Vec<frost::Identifier> = (0..self.ids.len()).map(|i| self.identifier(i)).collect();
        package_agrees(&p, &self.key, self.threshold, &ids).map_err(|why| {
            Error::new(format!("the public key package of the group {}: {why}", self.fingerprint()))
                .with_help("ask the group for its group.pub again")
        })?;
        Ok(self.package.get_or_init(|| p))
    }

    /// The group's minisign key id (minisign and signify files carry it).
    pub fn minisign_key_id(&self) -> &[u8; 8] {
        &self.minisign_key_id
    }

    /// The dealer's card, when the group was made by splitting one key (`dealer split`).
    pub fn dealer(&self) -> Option<&Card> {
        self.dealer.as_ref()
    }

    /// The group's Ed25519 public key.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The group fingerprint.
    pub fn fingerprint(&self) -> GroupFingerprint {
        GroupFingerprint::of(&self.key, &self.ceremony)
    }

    /// The exact file text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The members' signed confirmations of the key, in member order, as embedded in the file.
    pub fn confirmations(&self) -> &[String] {
        &self.confirmations
    }

    /// The members' signed acceptances of the file's core, in member order (none in a 0.1 file).
    pub fn acceptances(&self) -> &[String] {
        &self.acceptances
    }

    /// The version: 1 for a new group, one more for each refresh or repair.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// This version's membership statement (docs/formats.md 6.10), computed from the file.
    pub fn statement(&self) -> String {
        let members: Vec<String> = self
            .members
            .iter()
            .zip(&self.ids)
            .map(|(c, id)| format!("{id} {} {}", c.fingerprint().compact(), c.name()))
            .collect();
        membership::Statement::text_of(&membership::Facts {
            group_key: &self.key,
            version: self.version,
            fingerprint: &self.fingerprint().compact(),
            threshold: self.threshold,
            members: &members,
            previous: self.lineage.as_ref().map(|l| &l.previous),
        })
    }

    /// The group's signature of this version's statement, when the group approved it.
    pub fn approval(&self) -> Option<&[u8; 64]> {
        self.approval.as_ref()
    }

    /// The approved statements from version 2 up to this one (this one when approved), in order; each
    /// was checked on parse.
    pub fn history(&self) -> Vec<membership::Approved> {
        let mut out = self.lineage.as_ref().map(|l| l.history.clone()).unwrap_or_default();
        if let (Some(sig), Ok(statement)) = (self.approval, membership::Statement::parse(&self.statement())) {
            out.push(membership::Approved { statement, signature: sig });
        }
        out
    }

    /// The same group file approved by `signature` (the group key's signature of [`Group::statement`]),
    /// replacing any approval it had.
    ///
    /// Before: `self.version() >= 2`. After: the returned file parses and is approved.
    pub fn with_approval(&self, signature: &[u8; 64]) -> Result<Group> {
        let text = DocWriter::continuing(&self.text[..self.unapproved_len]).block("approval", signature).finish()?;
        check_size(&text)?;
        Group::parse(&text).map_err(|e| Error::new(format!("the approved group file does not parse: {e}")))
    }

    /// The file's core: everything but the acceptances. Its SHA-256 is what every member accepts, and two
    /// files of one group have the same core whether or not they carry the acceptances.
    pub fn core_text(&self) -> &str {
        &self.text[..self.core_len]
    }

    /// Member index of a keyholder fingerprint.
    pub fn member_index(&self, fp: crate::card::Fingerprint) -> Option<usize> {
        self.members.iter().position(|c| c.fingerprint() == fp)
    }

    /// The FROST identifier of the member at position `i` (1..n for a group made by key generation; a
    /// refreshed group keeps its members' identifiers).
    ///
    /// Before: `i < self.members().len()`.
    pub fn identifier(&self, i: usize) -> frost::Identifier {
        frost_identifier(self.ids[i])
    }

    /// The verifying share (public image of the share) of identifier `id`, a member's or a new one's:
    /// interpolated in the exponent (Lagrange) from the first t members' verifying shares, which every
    /// member confirmed. Equivalent to evaluating the group's VSS commitment at `id`, which a group file
    /// does not need to carry: first every other member's verifying share is checked to lie on the same
    /// degree t-1 polynomial.
    pub fn verifying_share_of(&self, id: frost::Identifier) -> Result<frost::keys::VerifyingShare> {
        type Ed = frost::Ed25519Sha512;
        let inconsistent =
            || Error::new("the group's verifying shares do not lie on one polynomial: a damaged group file");
        let shares = self.package()?.verifying_shares();
        let ids: Vec<frost::Identifier> = (0..self.ids.len()).map(|i| self.identifier(i)).collect();
        let (basis, rest) = ids.split_at(self.threshold as usize);
        let basis: std::collections::BTreeSet<frost::Identifier> = basis.iter().copied().collect();
        let interpolate = |x: frost::Identifier| -> Result<frost_core::Element<Ed>> {
            let mut sum = <frost::Ed25519Group as frost_core::Group>::identity();
            for xi in &basis {
                let l = frost_core::compute_lagrange_coefficient(&basis, Some(x), *xi).map_err(|_| inconsistent())?;
                sum += shares.get(xi).ok_or_else(inconsistent)?.to_element() * l;
            }
            Ok(sum)
        };
        for other in rest {
            if interpolate(*other)? != shares.get(other).ok_or_else(inconsistent)?.to_element() {
                return Err(inconsistent());
            }
        }
        // The same polynomial at zero is the group key: the shares belong to this key.
        let mut at_zero = <frost::Ed25519Group as frost_core::Group>::identity();
        for xi in &basis {
            let l = frost_core::compute_lagrange_coefficient(&basis, None, *xi).map_err(|_| inconsistent())?;
            at_zero += shares.get(xi).ok_or_else(inconsistent)?.to_element() * l;
        }
        if at_zero != self.package()?.verifying_key().to_element() {
            return Err(inconsistent());
        }
        Ok(frost::keys::VerifyingShare::new(interpolate(id)?))
    }

    /// Each member's identifier number, in member order.
    pub fn identifier_numbers(&self) -> &[u16] {
        &self.ids
    }

    /// Position of the member with FROST identifier `id`.
    pub fn position_of(&self, id: &frost::Identifier) -> Option<usize> {
        (0..self.ids.len()).find(|&i| self.identifier(i) == *id)
    }

    /// True when a share repair or enrolment made this group file.
    pub fn repaired(&self) -> bool {
        self.repaired
    }

    /// The refresh that made this group's shares, when it is a refresh of another group.
    pub fn refresh(&self) -> Option<&ceremony::Refresh> {
        self.refresh.as_ref()
    }
}

/// How a payload embedded in a group file is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spelling {
    /// Only in frostsign's one form (acceptances, which exist since this version).
    Canonical,
    /// Any JSON spelling, as frostsign 0.1 read it: a 0.1 group file may embed a confirmation another
    /// program spelled differently, and must keep loading. New ceremonies refuse such a confirmation in
    /// round 3, so no new group file embeds one.
    Lenient,
}

/// The blocks under `key`: exactly one message per member, in member order, each opening as `kind` of
/// `round` for this ceremony and signed by that member, with a payload of type `T`. Returns each
/// member's (name, message text, payload).
fn member_messages<'c, T: serde::de::DeserializeOwned + serde::Serialize>(
    doc: &Document,
    ceremony: &'c DkgCeremony,
    (key, kind, round): (&str, &str, &str),
    spelling: Spelling,
    checked_before: bool,
) -> std::result::Result<Vec<(&'c str, String, T)>, DocError> {
    let bad = |reason: String| DocError::BadValue { key: key.into(), reason };
    let blocks = doc.blocks(key);
    if blocks.len() != ceremony.cards().len() {
        return Err(bad(format!("{} {key} blocks for {} members", blocks.len(), ceremony.cards().len())));
    }
    let expect = Expect { kind, ceremony: ceremony.digest(), round, private: false };
    let mut out = Vec::with_capacity(blocks.len());
    for (i, b64) in blocks.iter().enumerate() {
        let who = ceremony.cards()[i].name();
        let text = B64
            .decode(b64)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .ok_or_else(|| bad("not UTF-8 base64".into()))?;
        let opened = if checked_before {
            message::open_checked_before(&text, Path::new(key), &expect, ceremony.cards())
        } else {
            message::open(&text, Path::new(key), &expect, ceremony.cards(), None)
        };
        let opened = opened.map_err(|e| bad(format!("{who}'s {key}: {}", e.message())))?;
        if opened.sender != i {
            return Err(bad(format!("{key} {} is not signed by {who}", i + 1)));
        }
        let payload: Option<T> = match spelling {
            Spelling::Canonical => opened.decode().ok(),
            Spelling::Lenient => serde_json::from_slice(opened.payload.expose()).ok(),
        };
        let payload = payload.ok_or_else(|| bad(format!("{who}'s {key} is malformed")))?;
        out.push((who, text, payload));
    }
    Ok(out)
}

/// The acceptances, if any: one per member, each naming `core`, the SHA-256 of the file's core. Returns
/// their texts, in member order.
fn check_acceptances(
    doc: &Document,
    ceremony: &DkgCeremony,
    core: &[u8; 32],
    checked_before: bool,
) -> std::result::Result<Vec<String>, DocError> {
    if doc.blocks("acceptance").is_empty() {
        return Ok(Vec::new());
    }
    let mut texts = Vec::new();
    for (who, text, p) in member_messages::<AcceptPayload>(
        doc,
        ceremony,
        ("acceptance", KIND_ACCEPT, "4"),
        Spelling::Canonical,
        checked_before,
    )? {
        if p.group_file != *core {
            return Err(DocError::BadValue {
                key: "acceptance".into(),
                reason: format!("{who} did not accept this group file"),
            });
        }
        texts.push(text);
    }
    Ok(texts)
}

/// Every member's signed confirmation must vouch for this key and package, with one common transcript.
/// Returns the confirmation texts, in member order.
fn check_confirmations(
    doc: &Document,
    ceremony: &DkgCeremony,
    key: &[u8; 32],
    pkp_hash: &[u8; 32],
    checked_before: bool,
) -> std::result::Result<Vec<String>, DocError> {
    let bad = |reason: String| DocError::BadValue { key: "confirmation".into(), reason };
    let mut transcript = None;
    let mut texts = Vec::new();
    for (who, text, p) in member_messages::<ConfirmPayload>(
        doc,
        ceremony,
        ("confirmation", KIND_CONFIRM, "3"),
        Spelling::Lenient,
        checked_before,
    )? {
        if p.group_key != *key || p.public_key_package != *pkp_hash {
            return Err(bad(format!("{who} did not confirm this group key and public key package")));
        }
        if *transcript.get_or_insert(p.transcript) != p.transcript {
            return Err(bad(format!("{who} confirmed a different transcript")));
        }
        texts.push(text);
    }
    Ok(texts)
}

pub use openpgp::OpenPgpIdentity;
