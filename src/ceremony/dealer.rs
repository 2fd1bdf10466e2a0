//! Dealer split: one machine splits one Ed25519 key into n shares with FROST's trusted-dealer split
//! (`keys::split`, RFC 9591 appendix C) and deals each share, encrypted to its keyholder and signed by the
//! dealer, into a ceremony folder. The key is either imported from a stock minisign secret key (the group
//! keeps its key id, so the project's existing `minisign.pub` verifies the group's signatures) or
//! generated.
//!
//! The keyholders then run key generation's last two rounds unchanged (`ceremony::dkg`, which opens the
//! dealt share in place of rounds 1 and 2): each checks its share against the dealer's commitment and the
//! key the ceremony file names, confirms, and accepts; no share is usable before all n agree.
//!
//! Unlike key generation, the dealer's machine held the whole key: whoever controlled it then can sign
//! alone forever. The key exists here only in zeroizing memory and is dropped before the folder is
//! complete; the imported secret key file is the caller's to destroy.

use super::dkg::{names, DealtPayload, CEREMONY_FILE, KIND_DEALT, ROUND_DEALT};
use crate::card::Card;
use crate::error::{Error, Result};
use crate::formats::minisign::MinisignSecretKey;
use crate::group::ceremony::{Dealer, DkgCeremony, Origin};
use crate::identity::Identity;
use frost_ed25519 as frost;
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

/// The key a dealer splits.
pub enum KeySource {
    /// An existing minisign key, decrypted.
    Minisign(MinisignSecretKey),
    /// A fresh key, made here.
    Generate,
}

/// What `split` wrote.
#[derive(Debug)]
pub struct Dealt {
    /// The ceremony, as written to `ceremony.txt`.
    pub ceremony: DkgCeremony,
    /// The dealt share files, one per keyholder, in order.
    pub files: Vec<PathBuf>,
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::new(format!("internal error: {e}"))
}

/// Split `key` among `cards` with threshold `threshold`, dealt by `dealer`, into the folder `dir`.
///
/// Before: `dir` holds no ceremony and no dealt share (it is created if missing).
/// After: `dir` holds one `dealt-to-FPR.txt` per keyholder (its share, encrypted to it, signed by the
/// dealer) and, written last, `ceremony.txt` naming the dealer, the key and (imported) the minisign key
/// id. The key and the shares were only in zeroizing memory and are gone. On error nothing usable is left:
/// without `ceremony.txt` no keyholder joins.
pub fn split(
    dealer: &Identity,
    dir: &Path,
    label: Option<&str>,
    threshold: u16,
    cards: Vec<Card>,
    key: KeySource,
    allow_insecure: bool,
) -> Result<Dealt> {
    let (signing_key, minisign_key_id, expected) = match &key {
        KeySource::Minisign(k) => (signing_key_of_seed(&k.seed)?, Some(k.key_id), Some(k.public_key)),
        KeySource::Generate => (frost::SigningKey::new(&mut rand_core::OsRng), None, None),
    };
    drop(key);
    let group_key: [u8; 32] = frost::VerifyingKey::from(&signing_key)
        .serialize()
        .map_err(internal)?
        .try_into()
        .map_err(|_| internal("the key is not 32 bytes"))?;
    if expected.is_some_and(|pk| pk != group_key) {
        return Err(internal("the split key is not the imported key"));
    }
    let info = Dealer { card: dealer.card().clone(), group_key, minisign_key_id };
    let (c, text) = DkgCeremony::create(label, threshold, cards, Origin::Dealt(&info), allow_insecure)?;
    crate::fsx::ensure_dir(dir)?;
    refuse_used_folder(dir)?;
    let n = c.cards().len() as u16;
    let (shares, _) =
        frost::keys::split(&signing_key, n, threshold, frost::keys::IdentifierList::Default, &mut rand_core::OsRng)
            .map_err(|e| Error::new(format!("could not split the key: {e}")))?;
    drop(signing_key);
    let mut files = Vec::new();
    for (j, card) in c.cards().iter().enumerate() {
        let share = shares.get(&c.identifier(j)).ok_or_else(|| internal("a share is missing"))?;
        let hexed = Zeroizing::new(hex::encode(Zeroizing::new(share.serialize().map_err(internal)?)));
        let body = crate::secret::secret_json(&DealtPayload { share: hexed }).map_err(internal)?;
        let sealed =
            crate::exchange::message::seal(dealer, KIND_DEALT, c.digest(), ROUND_DEALT, Some(card), body.expose())?;
        let path = dir.join(names::dealt(card));
        create(&path, &sealed)?;
        files.push(path);
    }
    drop(shares);
    crate::failpoint("dealer-before-ceremony");
    create(&dir.join(CEREMONY_FILE), &text)?;
    Ok(Dealt { ceremony: c, files })
}

/// The FROST signing key of an Ed25519 seed: RFC 8032's secret scalar (SHA-512 of the seed, clamped),
/// reduced modulo the group order, which is the scalar the public key is made with.
fn signing_key_of_seed(seed: &[u8; 32]) -> Result<frost::SigningKey> {
    let mut scalar = ed25519_dalek::SigningKey::from_bytes(seed).to_scalar();
    let bytes = Zeroizing::new(scalar.to_bytes());
    scalar.zeroize();
    frost::SigningKey::deserialize(bytes.as_slice()).map_err(|_| Error::new("the imported key is not a usable key"))
}

/// A folder that already holds a ceremony or dealt shares is never dealt into again.
fn refuse_used_folder(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::file(dir, format!("cannot read the folder: {e}")))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == CEREMONY_FILE || name.starts_with("dealt-to-") {
            return Err(Error::file(
                dir,
                format!("already holds {}: a ceremony was started here", crate::text::escape(&name)),
            )
            .with_help("deal into a new, empty folder"));
        }
    }
    Ok(())
}

fn create(path: &Path, text: &str) -> Result<()> {
    if crate::fsx::atomic_create(path, text.as_bytes(), crate::fsx::PUBLIC_FILE)? {
        return Ok(());
    }
    Err(Error::file(path, "already exists").with_help("deal into a new, empty folder"))
}
