//! `holder backup` and `holder restore`: a keyholder's home in one encrypted, versioned text file.
//!
//! A backup holds exactly what rebuilds a keyholder: the card, `home-key.txt` (the home key wrapped under
//! the passphrase with Argon2id), `identity.txt` and, for every group, `groups/GFP.pub` and
//! `groups/GFP.share` (both secret files sealed under the home key). It never holds anything from
//! `state/` (signing nonces, signing journals, key generation state) nor the lock, so restoring a backup
//! can never bring back a nonce that was already used.
//!
//! The home's files are copied byte for byte, still encrypted: without the passphrase the backup reveals
//! no secret. A last field, sealed under the home key, holds the SHA-256 of every byte before it, so once
//! the passphrase is proved any edit (a group left out, a line changed) is detected.
//!
//! ```text
//! frostsign-backup: 1
//! name: Alice                          the card's name
//! fingerprint: BE11 1070 ...           the card's fingerprint, grouped
//! created: 2026-11-26T06:53:14Z        when the backup was written
//! card:                                block: card.txt
//! home-key:                            block: home-key.txt
//! identity:                            block: identity.txt
//! group:                               block, repeated: groups/GFP.pub, by group fingerprint
//! share:                               block, repeated: groups/GFP.share, same order
//! integrity:                           block: a secret file (purpose "backup", id the card's compact
//!                                        fingerprint) holding SHA-256 of every byte above this line
//! ```

use super::groups::{group_rel, share_rel, GROUPS_DIR, SHARE_SUFFIX};
use super::{vault, Home, Unlocked, CARD, HOME_KEY, IDENTITY, IDENTITY_PURPOSE, MAX_HOME_KEY_FILE};
use super::{PassphraseSource, Protection, MAX_SECRET_FILE, SHARE_PURPOSE};
use crate::card::Card;
use crate::error::{Error, Result};
use crate::fsx;
use crate::group::{Group, GroupFingerprint};
use crate::identity::Identity;
use crate::secret::{Passphrase, SecretBytes, SecretKey32};
use crate::textdoc::{DocWriter, Document, Need, Spec};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use frost_ed25519 as frost;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The document type: a backup starts with the line `frostsign-backup: 1`.
pub const DOC_TYPE: &str = "backup";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// Largest backup file accepted (a home with many groups fits easily).
pub const MAX_BACKUP_BYTES: u64 = 64 * 1024 * 1024;
/// The field sealed under the home key that covers every byte before it.
const INTEGRITY: &str = "integrity";
/// Purpose of the sealed integrity digest (distinct from every secret file of the home).
const INTEGRITY_PURPOSE: &str = "backup";

const SCHEMA: &[Spec] = &[
    Spec::line("name", Need::Required),
    Spec::line("fingerprint", Need::Required),
    Spec::line("created", Need::Required),
    Spec::block("card", Need::Required),
    Spec::block("home-key", Need::Required),
    Spec::block("identity", Need::Required),
    Spec::block("group", Need::Repeated),
    Spec::block("share", Need::Repeated),
    Spec::block(INTEGRITY, Need::Required),
];

/// What a backup holds: the keyholder's card and groups in the clear (all public), the rest sealed.
#[derive(Debug)]
pub struct Contents {
    /// The keyholder's card.
    pub card: Card,
    /// The groups the keyholder holds a share of, by group fingerprint.
    pub groups: Vec<Group>,
    /// The home key file (KDF cost and protection; the key itself is wrapped).
    pub key_file: vault::HomeKeyFile,
    home_key_text: String,
    identity_text: String,
    /// The sealed share of each group, in the order of `groups`.
    share_texts: Vec<String>,
}

/// Refuse if `out` exists (a file, a folder, even a dangling link): a backup never replaces anything.
pub fn refuse_existing(out: &Path) -> Result<()> {
    if std::fs::symlink_metadata(out).is_ok() {
        return Err(exists_error(out));
    }
    Ok(())
}

fn exists_error(out: &Path) -> Error {
    Error::file(out, "already exists; refusing to overwrite it")
        .with_help("give --out a new file name, or move the old file away first")
}

/// Write a backup of the unlocked home to the new file `out`.
///
/// Before: `u` is unlocked (the passphrase is proved) and the caller holds the home's lock.
/// After: `out` exists, mode 0600, written atomically, and holds the card, home key, identity and every
/// group's file and share; nothing from `state/`. An existing `out` is never replaced. Every share was
/// opened and checked against its group first, so a damaged home is never backed up silently.
pub fn write(u: &Unlocked, out: &Path) -> Result<Contents> {
    refuse_existing(out)?;
    let contents = Contents::read(u)?;
    let text = contents.encode(&u.key)?;
    if !fsx::atomic_create(out, text.as_bytes(), fsx::PRIVATE_FILE)? {
        return Err(exists_error(out));
    }
    Ok(contents)
}

/// Rebuild a home at `home` from the backup `file`, asking its passphrase from `source`.
///
/// Before: `home` holds no identity, and its folder is missing or empty.
/// After: the home holds the backup's card, identity, home key and groups, folders 0700 and files 0600,
/// `home-key.txt` written last (so a home exists only once all else is in place), and no `state/`.
/// Everything is read, parsed and proved with the passphrase (home key unwrapped, integrity, identity and
/// every share opened and checked against its group) before anything is written; any refusal writes
/// nothing.
pub fn restore(home: &Home, file: &Path, source: &PassphraseSource) -> Result<Contents> {
    check_target(home)?;
    let text = fsx::read_text(file, MAX_BACKUP_BYTES)?;
    let parsed = Parsed::parse(&text, file)?;
    parsed.prove(source, file)?;
    write_home(home, &parsed.contents)?;
    Ok(parsed.contents)
}

/// Read a backup's text as far as it goes without the passphrase: its syntax, the card, the home key file,
/// every group file and one share per group (the sealed parts are not opened). `restore` does this first;
/// the fuzz target `backup` (fuzz/) calls it on any text.
pub fn parse(text: &str, path: &Path) -> Result<Contents> {
    Parsed::parse(text, path).map(|p| p.contents)
}

impl Contents {
    /// Read the home's card, key file, identity and every group with a share.
    fn read(u: &Unlocked) -> Result<Contents> {
        let home = u.home();
        let card = u.identity().card().clone();
        let key_path = home.path(HOME_KEY);
        let home_key_text = fsx::read_text(&key_path, MAX_HOME_KEY_FILE)?;
        let key_file = vault::HomeKeyFile::parse(&home_key_text, &key_path)?;
        let identity_text = fsx::read_text(&home.path(IDENTITY), MAX_SECRET_FILE)?;
        let (mut groups, mut share_texts) = (Vec::new(), Vec::new());
        for gfp in share_fingerprints(u)? {
            let group_path = home.path(&group_rel(&gfp));
            let group = Group::load(&group_path)?;
            if group.fingerprint().compact() != gfp {
                return Err(Error::file(&group_path, "holds another group than its file name says (moved file?)"));
            }
            let share_path = home.path(&share_rel(&gfp));
            let share_text = fsx::read_text(&share_path, MAX_SECRET_FILE)?;
            let share = vault::open_secret(&u.key, SHARE_PURPOSE, &gfp, &share_text, &share_path)?;
            check_share(&group, &card, &share).map_err(|e| e.context(crate::text::path(&share_path)))?;
            groups.push(group);
            share_texts.push(share_text);
        }
        Ok(Contents { card, groups, key_file, home_key_text, identity_text, share_texts })
    }

    /// The backup document, its integrity field sealed under `key`.
    fn encode(&self, key: &SecretKey32) -> Result<String> {
        let mut w = DocWriter::new(DOC_TYPE, VERSION)
            .field("name", self.card.name())
            .field("fingerprint", self.card.fingerprint())
            .field("created", crate::clock::format(crate::clock::now()))
            .block("card", self.card.text().as_bytes())
            .block("home-key", self.home_key_text.as_bytes())
            .block("identity", self.identity_text.as_bytes());
        for g in &self.groups {
            w = w.block("group", g.text().as_bytes());
        }
        for s in &self.share_texts {
            w = w.block("share", s.as_bytes());
        }
        let digest = Sha256::digest(w.as_str().as_bytes());
        let seal = vault::seal_secret(key, INTEGRITY_PURPOSE, &self.card.fingerprint().compact(), &digest)?;
        Ok(w.block(INTEGRITY, seal.as_bytes()).finish()?)
    }
}

/// Compact fingerprints of the groups whose share is in the home, sorted. Other files are not ours.
fn share_fingerprints(u: &Unlocked) -> Result<Vec<String>> {
    Ok(u.file_names(GROUPS_DIR)?
        .into_iter()
        .filter_map(|name| name.strip_suffix(SHARE_SUFFIX).map(str::to_string))
        .filter(|gfp| GroupFingerprint::parse(gfp).is_some_and(|g| g.compact() == *gfp))
        .collect())
}

/// Check that `share` is `card`'s FROST key package of `group`: what `load_share` accepts (the group's
/// key), and also the keyholder's identifier and its verifying share as the group file lists it.
fn check_share(group: &Group, card: &Card, share: &SecretBytes) -> Result<()> {
    let wrong = || {
        Error::new(format!(
            "the key share is not {}'s share of the group {} ({})",
            card.name(),
            group.display_name(),
            group.fingerprint()
        ))
    };
    let kp = frost::keys::KeyPackage::deserialize(share.expose()).map_err(|_| wrong())?;
    let me = group.member_index(card.fingerprint()).ok_or_else(wrong)?;
    let id = group.identifier(me);
    let listed = group.package()?.verifying_shares().get(&id);
    if kp.verifying_key() != group.package()?.verifying_key()
        || *kp.identifier() != id
        || listed != Some(kp.verifying_share())
    {
        return Err(wrong());
    }
    Ok(())
}

/// The target of a restore: no identity, and a missing or empty folder.
fn check_target(home: &Home) -> Result<()> {
    if home.exists() {
        return Err(home.already_exists());
    }
    let root = home.root();
    match std::fs::read_dir(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("open folder", root, e)),
        Ok(mut entries) => match entries.next() {
            Some(_) => Err(not_empty(root)),
            None => Ok(()),
        },
    }
}

fn not_empty(root: &Path) -> Error {
    Error::new(format!(
        "`{}` is not empty; a backup is restored only into a new or empty folder",
        crate::text::path(root)
    ))
    .with_help("give --home a folder that does not exist yet (it is created); nothing was written")
}

/// A backup parsed and checked as far as it can be without the passphrase.
struct Parsed {
    contents: Contents,
    /// SHA-256 of every byte before the integrity line.
    covered: [u8; 32],
    integrity_text: String,
}

fn damaged(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::file(path, format!("not a valid frostsign backup: {reason}")).with_help(
        "give the file `frostsign holder backup` wrote; if it was damaged, use another copy; nothing was written",
    )
}

fn altered(path: &Path, what: &str) -> Error {
    Error::file(path, format!("the backup was altered or damaged after it was made: {what}"))
        .with_help("use another copy of your backup; nothing was written")
}

impl Parsed {
    fn parse(text: &str, path: &Path) -> Result<Parsed> {
        let doc = Document::parse(text, DOC_TYPE, SCHEMA, false).map_err(|e| damaged(path, e))?;
        let as_text = |key: &str, bytes: Vec<u8>| {
            String::from_utf8(bytes).map_err(|_| damaged(path, format!("field `{key}` is not text")))
        };
        let block = |key: &str| as_text(key, doc.block(key).map_err(|e| damaged(path, e))?);
        let blocks = |key: &str| -> Result<Vec<String>> {
            let list = doc.blocks(key);
            let decode = |b: &&str| B64.decode(b).map_err(|_| damaged(path, format!("field `{key}`: invalid base64")));
            list.iter().map(|b| as_text(key, decode(b)?)).collect()
        };
        let card = Card::parse(&block("card")?).map_err(|e| damaged(path, format!("the card: {e}")))?;
        if doc.get("name") != Some(card.name())
            || doc.get("fingerprint") != Some(card.fingerprint().to_string().as_str())
        {
            return Err(damaged(path, "the name or fingerprint line differs from the card inside (edited?)"));
        }
        if doc.get("created").and_then(crate::clock::parse).is_none() {
            return Err(damaged(path, "field `created`: not a UTC time"));
        }
        let home_key_text = block("home-key")?;
        let key_file =
            vault::HomeKeyFile::parse(&home_key_text, Path::new("home-key")).map_err(|e| damaged(path, e.message()))?;
        let groups = blocks("group")?
            .iter()
            .map(|t| Group::parse(t).map_err(|e| damaged(path, format!("a group file: {e}"))))
            .collect::<Result<Vec<Group>>>()?;
        let share_texts = blocks("share")?;
        check_groups(&groups, &share_texts, path)?;
        let Some(end) = text.find(&format!("\n{INTEGRITY}:\n")) else {
            return Err(damaged(path, format!("no `{INTEGRITY}` line")));
        };
        let contents =
            Contents { card, groups, key_file, home_key_text, identity_text: block("identity")?, share_texts };
        Ok(Parsed {
            contents,
            covered: Sha256::digest(&text.as_bytes()[..=end]).into(),
            integrity_text: block(INTEGRITY)?,
        })
    }

    /// Prove the passphrase: unwrap the home key, check the integrity digest, open the identity and every
    /// share and check each against the card and its group. Reads the passphrase once from `source`.
    fn prove(&self, source: &PassphraseSource, path: &Path) -> Result<()> {
        let c = &self.contents;
        let passphrase = match c.key_file.protection {
            Protection::InsecureNoPassphrase => Passphrase::new(String::new()),
            Protection::Passphrase => source.read(&format!("the backup {}", crate::text::path(path)))?,
        };
        let key = c.key_file.unwrap(&passphrase, path).map_err(|_| {
            Error::file(path, "wrong passphrase for this backup (or the backup was altered)").with_help(
                "give the passphrase the home had when the backup was made (--passphrase-file, or type it again); nothing was written",
            )
        })?;
        let fpr = c.card.fingerprint().compact();
        let digest = vault::open_secret(&key, INTEGRITY_PURPOSE, &fpr, &self.integrity_text, Path::new(INTEGRITY))
            .map_err(|_| altered(path, "its integrity seal does not open"))?;
        if digest.expose() != self.covered {
            return Err(altered(path, "its content differs from what was sealed"));
        }
        let secret = vault::open_secret(&key, IDENTITY_PURPOSE, &fpr, &c.identity_text, Path::new(IDENTITY))
            .map_err(|_| altered(path, "the identity does not open"))?;
        Identity::from_secret_bytes(&secret, c.card.clone()).map_err(|e| altered(path, e.message()))?;
        for (group, text) in c.groups.iter().zip(&c.share_texts) {
            let gfp = group.fingerprint().compact();
            let share = vault::open_secret(&key, SHARE_PURPOSE, &gfp, text, Path::new(SHARE_PURPOSE))
                .map_err(|_| altered(path, &format!("the share of group {} does not open", group.fingerprint())))?;
            check_share(group, &c.card, &share).map_err(|e| altered(path, e.message()))?;
        }
        Ok(())
    }
}

/// One share per group, no group twice.
fn check_groups(groups: &[Group], shares: &[String], path: &Path) -> Result<()> {
    if groups.len() != shares.len() {
        return Err(damaged(path, format!("{} group files but {} shares", groups.len(), shares.len())));
    }
    for (i, g) in groups.iter().enumerate() {
        if groups[..i].iter().any(|h| h.fingerprint() == g.fingerprint()) {
            return Err(damaged(path, format!("the group {} is listed twice", g.fingerprint())));
        }
    }
    Ok(())
}

/// The files a restore writes, relative to the home, with their text; `home-key.txt` is not among them
/// (it is written last, and only if no other home appeared meanwhile).
fn home_files(c: &Contents) -> Vec<(String, &str)> {
    let mut files = vec![(CARD.to_string(), c.card.text()), (IDENTITY.to_string(), c.identity_text.as_str())];
    for (g, share) in c.groups.iter().zip(&c.share_texts) {
        let gfp = g.fingerprint().compact();
        files.push((group_rel(&gfp), g.text()));
        files.push((share_rel(&gfp), share.as_str()));
    }
    files
}

/// Write the home: folder 0700, files 0600, atomically, `home-key.txt` last. On a failure half-way (a
/// full disk), the files written are removed again, so the folder can be used for another attempt.
fn write_home(home: &Home, c: &Contents) -> Result<()> {
    let created_root = !home.root().exists();
    fsx::ensure_private_dir(home.root())?;
    let _lock = home.lock()?;
    let mut written: Vec<PathBuf> = Vec::new();
    let result = (|| {
        // Under the lock: nothing but the lock file may be here (another restore may have raced us).
        check_target_locked(home)?;
        for (rel, text) in home_files(c) {
            let path = home.path(&rel);
            if let Some(parent) = path.parent() {
                fsx::ensure_private_dir(parent)?;
            }
            fsx::atomic_write(&path, text.as_bytes(), fsx::PRIVATE_FILE)?;
            written.push(path);
        }
        if !fsx::atomic_create(&home.path(HOME_KEY), c.home_key_text.as_bytes(), fsx::PRIVATE_FILE)? {
            return Err(home.already_exists());
        }
        Ok(())
    })();
    if result.is_err() {
        undo(home, &written, created_root);
    }
    result
}

fn check_target_locked(home: &Home) -> Result<()> {
    if home.exists() {
        return Err(home.already_exists());
    }
    let root = home.root();
    let entries = std::fs::read_dir(root).map_err(|e| Error::io("open folder", root, e))?;
    if entries.flatten().any(|e| e.file_name() != super::LOCK) {
        return Err(not_empty(root));
    }
    Ok(())
}

/// Best effort: remove what a failed restore wrote, and the folder if it made it.
fn undo(home: &Home, written: &[PathBuf], created_root: bool) {
    for p in written {
        let _ = fsx::remove_durably(p);
    }
    let _ = std::fs::remove_dir(home.path(GROUPS_DIR));
    if created_root {
        let _ = std::fs::remove_file(home.path(super::LOCK));
        let _ = std::fs::remove_dir(home.root());
    }
}
