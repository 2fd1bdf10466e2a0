//! Rotation to a new key: the statement an old group and a new group both sign.
//!
//! A refresh cannot change the key or the threshold, and does not help once t shares may be compromised.
//! Then the group makes a new key (a new key generation, with any threshold and members) and *rotates*:
//! the old group signs a rotation statement naming the new key, the reason and the date, and the new group
//! countersigns it, each with an ordinary signing session in minisign's format. A user who trusts the old
//! key accepts signatures of the new key only with both signatures (`verify --follow-rotation`), and a
//! minisign user can check both by hand: the statement is plain text, its signatures are `.minisig` files.
//!
//! The statement is a text document (`frostsign-rotation: 1`); what is signed is the file itself, as
//! minisign signs any file (BLAKE2b-512 of its bytes, and a trusted comment).

use super::Group;
use crate::error::Result;
use crate::formats::minisign;
use crate::plain_text::{PlainText, TextKind};
use crate::textdoc::{DocError, DocWriter, Document, Need, Spec};

/// The statement's file name in a rotation folder and where it is published.
pub const STATEMENT_FILE: &str = "rotation.txt";

/// Largest statement read (a new group of 255 members fits comfortably).
pub const MAX_STATEMENT_BYTES: u64 = 64 * 1024;

/// Which group signs a rotation statement: the old one (it hands over) or the new one (it takes over).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The group whose key users trust now.
    Old,
    /// The group whose key they are to trust next.
    New,
}

/// The trusted comment of a rotation signature: reserved for rotations (a release's trusted comment starts
/// with `timestamp:`), so a release signature of the statement's bytes never counts as a rotation signature.
pub fn trusted_comment(role: Role, group: &str) -> String {
    format!("frostsign-rotation:{}\tgroup:{group}", role.name())
}

impl Role {
    /// `old` or `new`, as in the request and the signature file names.
    pub fn name(self) -> &'static str {
        match self {
            Role::Old => "old",
            Role::New => "new",
        }
    }

    /// Parse [`Role::name`].
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Old, Role::New].into_iter().find(|r| r.name() == s)
    }

    /// The signature file of this role beside the statement `STATEMENT`: `STATEMENT.old.minisig` or
    /// `STATEMENT.new.minisig`.
    pub fn signature_name(self, statement: &str) -> String {
        format!("{statement}.{}.minisig", self.name())
    }
}

const SCHEMA: &[Spec] = &[
    Spec::line("old-group", Need::Required),
    Spec::line("old-key", Need::Required),
    Spec::line("old-minisign-public-key", Need::Required),
    Spec::line("new-group", Need::Required),
    Spec::line("new-key", Need::Required),
    Spec::line("new-minisign-public-key", Need::Required),
    Spec::line("new-threshold", Need::Required),
    Spec::line("new-member", Need::Repeated),
    Spec::line("reason", Need::Required),
    Spec::line("date", Need::Required),
];

/// One side of a rotation: a group's compact fingerprint, key and minisign key id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    /// Compact group fingerprint.
    pub group: String,
    /// The Ed25519 key.
    pub key: [u8; 32],
    /// The minisign key id its signatures carry.
    pub key_id: [u8; 8],
}

/// A parsed rotation statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// The group handing over.
    pub old: Side,
    /// The group taking over.
    pub new: Side,
    /// The new group's threshold.
    pub new_threshold: u16,
    /// The new group's members, as its `member` lines (`ID FPR NAME`).
    pub new_members: Vec<String>,
    /// Why (plain text, one line).
    pub reason: PlainText,
    /// When the statement was made (Unix seconds).
    pub date: i64,
    /// The exact text: what both groups sign.
    pub text: String,
}

fn side(g: &Group) -> Side {
    Side { group: g.fingerprint().compact(), key: *g.key(), key_id: *g.minisign_key_id() }
}

impl Rotation {
    /// The statement that `old` rotates to `new` for `reason`, made at `date`.
    ///
    /// Refuses the same key on both sides (that is a refresh, not a rotation).
    pub fn create(old: &Group, new: &Group, reason: &str, date: i64) -> Result<Rotation> {
        if old.key() == new.key() {
            return Err(crate::error::Error::new("the old and the new group hold the same key: nothing to rotate")
                .with_help("a rotation is to a new key made by `dkg init`/`dkg step`; to change who holds the same key, use `share refresh` or `share repair`"));
        }
        let reason = PlainText::new(TextKind::Comment, reason)?;
        let (o, n) = (side(old), side(new));
        let mut w = DocWriter::new("rotation", 1)
            .field("old-group", &o.group)
            .field("old-key", hex::encode(o.key))
            .field("old-minisign-public-key", minisign::public_key_line(&o.key_id, &o.key))
            .field("new-group", &n.group)
            .field("new-key", hex::encode(n.key))
            .field("new-minisign-public-key", minisign::public_key_line(&n.key_id, &n.key))
            .field("new-threshold", new.threshold());
        for (id, c) in new.identifier_numbers().iter().zip(new.members()) {
            w = w.field("new-member", format!("{id} {} {}", c.fingerprint().compact(), c.name()));
        }
        let text = w.field("reason", &reason).field("date", crate::clock::format(date)).finish()?;
        Rotation::parse(&text).map_err(|e| crate::error::Error::new(format!("internal error: {e}")))
    }

    /// Parse and check a statement: every field in its form, the key lines matching the keys.
    pub fn parse(text: &str) -> std::result::Result<Rotation, DocError> {
        let doc = Document::parse(text, "rotation", SCHEMA, false)?;
        let bad = |key: &str, reason: &str| DocError::BadValue { key: key.into(), reason: reason.into() };
        let side_of = |prefix: &str| -> std::result::Result<Side, DocError> {
            let gk = format!("{prefix}-group");
            let group = doc.require(&gk)?.to_string();
            if super::GroupFingerprint::parse_compact(&group).is_none() {
                return Err(bad(&gk, "not a compact group fingerprint"));
            }
            let key: [u8; 32] = doc.hex(&format!("{prefix}-key"))?;
            let lk = format!("{prefix}-minisign-public-key");
            let (key_id, line_key) =
                minisign::parse_public_key(doc.require(&lk)?).ok_or_else(|| bad(&lk, "not a minisign public key"))?;
            if line_key != key || minisign::public_key_line(&key_id, &key) != doc.require(&lk)? {
                return Err(bad(&lk, "does not hold the key beside it"));
            }
            Ok(Side { group, key, key_id })
        };
        let (old, new) = (side_of("old")?, side_of("new")?);
        if old.key == new.key {
            return Err(bad("new-key", "is the old key"));
        }
        let new_members: Vec<String> = doc.get_all("new-member").into_iter().map(str::to_string).collect();
        let new_threshold: u16 = doc.number("new-threshold")?;
        if new_threshold < 2 || new_threshold as usize > new_members.len() {
            return Err(bad("new-threshold", "need 2 <= threshold <= members"));
        }
        if !new_members.iter().all(|m| crate::group::ceremony::is_member_line(m)) {
            return Err(bad("new-member", "expected `ID FPR NAME`"));
        }
        let reason =
            PlainText::new(TextKind::Comment, doc.require("reason")?).map_err(|e| bad("reason", &e.to_string()))?;
        let date = crate::clock::parse(doc.require("date")?).ok_or_else(|| bad("date", "not a UTC time"))?;
        Ok(Rotation { old, new, new_threshold, new_members, reason, date, text: text.to_string() })
    }

    /// The side of `role`.
    pub fn side(&self, role: Role) -> &Side {
        match role {
            Role::Old => &self.old,
            Role::New => &self.new,
        }
    }

    /// Why `group` is not the group of `role` in this statement (key, fingerprint, and for the new group
    /// its threshold and members), if it is not.
    pub fn mismatch(&self, role: Role, group: &Group) -> Option<String> {
        let s = self.side(role);
        if s.key != *group.key() || s.group != group.fingerprint().compact() || s.key_id != *group.minisign_key_id() {
            return Some(format!("its {} group is not this group", role.name()));
        }
        let members: Vec<String> = group
            .identifier_numbers()
            .iter()
            .zip(group.members())
            .map(|(id, c)| format!("{id} {} {}", c.fingerprint().compact(), c.name()))
            .collect();
        (role == Role::New && (self.new_threshold != group.threshold() || self.new_members != members))
            .then(|| "it names other members or another threshold for the new group".to_string())
    }
}
