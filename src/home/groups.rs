//! The groups a home holds a share of: `HOME/groups/GFP.pub` (a copy of the group file, kept from key
//! generation, so a keyholder never has to trust a folder's copy) and `HOME/groups/GFP.share` (the FROST
//! key package, sealed under the home key). GFP is the compact group fingerprint.

use super::{Home, Unlocked, SHARE_PURPOSE};
use crate::error::{Error, Result};
use crate::fsx;
use crate::group::Group;
use crate::secret::SecretBytes;
use frost_ed25519 as frost;
use sha2::Digest;

/// The folder of group files and shares in a home.
pub const GROUPS_DIR: &str = "groups";
const GROUP_SUFFIX: &str = ".pub";
/// File name suffix of a sealed group share in [`GROUPS_DIR`].
pub const SHARE_SUFFIX: &str = ".share";
/// File name suffix, in [`GROUPS_DIR`], of the sealed SHA-256 of the group file this keyholder checked in
/// full when it stored it (see [`Unlocked::group`]).
const CHECKED_SUFFIX: &str = ".checked";
/// Purpose of a sealed group file digest (`groups/GFP.checked`), bound into its encryption.
/// The version in it names the checks a sealed digest lets a step skip: bump it when one of them changes
/// (a stricter signature or package check), so that digests sealed by an older frostsign fall back to the
/// full check instead of vouching for checks they never saw.
const CHECKED_PURPOSE: &str = "group-checked-v1";

/// Relative path of a group's public file copy in the home.
pub fn group_rel(gfp: &str) -> String {
    format!("{GROUPS_DIR}/{gfp}{GROUP_SUFFIX}")
}

/// Relative path of the sealed digest of the group file the home checked in full.
fn checked_rel(gfp: &str) -> String {
    format!("{GROUPS_DIR}/{gfp}{CHECKED_SUFFIX}")
}

/// Relative path of a group's share in the home.
pub fn share_rel(gfp: &str) -> String {
    format!("{GROUPS_DIR}/{gfp}{SHARE_SUFFIX}")
}

impl Home {
    /// The compact fingerprints of the groups whose file this home holds, sorted.
    pub fn group_fingerprints(&self) -> Result<Vec<String>> {
        let dir = self.path(GROUPS_DIR);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list", &dir, e)),
        };
        let mut out: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(GROUP_SUFFIX).map(str::to_string))
            .collect();
        out.sort();
        Ok(out)
    }

    /// The home's own copy of a group's file.
    pub fn group(&self, gfp: &str) -> Result<Group> {
        Group::load(&self.path(&group_rel(gfp)))
    }

    /// True if the home holds a share of the group (without opening it: no passphrase needed).
    pub fn has_share(&self, gfp: &str) -> bool {
        self.path(&share_rel(gfp)).exists()
    }

    /// Every group this home holds a share of (no passphrase needed), each by its compact fingerprint with
    /// its file or the reason it cannot be read: one damaged group file hides no other group.
    pub fn groups_with_share(&self) -> Result<Vec<(String, Result<Group>)>> {
        let mut out = Vec::new();
        for gfp in self.group_fingerprints()? {
            if self.has_share(&gfp) {
                let group = self.group(&gfp);
                out.push((gfp, group));
            }
        }
        Ok(out)
    }
}

impl Unlocked {
    /// Store a group's file and this keyholder's share of it.
    ///
    /// Before: `key_package` is this keyholder's serialized FROST key package of `group`, and every
    /// keyholder accepted `group`. After: the home holds both, 0600, the share sealed under the home key.
    pub fn store_share(&self, group: &Group, key_package: &SecretBytes) -> Result<()> {
        let gfp = group.fingerprint().compact();
        fsx::ensure_private_dir(&self.home().path(GROUPS_DIR))?;
        fsx::atomic_write(&self.home().path(&group_rel(&gfp)), group.text().as_bytes(), fsx::PRIVATE_FILE)?;
        self.keep_checked(group)?;
        self.write_secret(&share_rel(&gfp), SHARE_PURPOSE, &gfp, key_package)
    }

    /// Seal the SHA-256 of `group`'s text as the group file this keyholder checked in full.
    ///
    /// Before: `group` was parsed in this process by [`Group::parse`] (every check), or by
    /// [`Group::parse_known`] from a digest sealed here before, and it is the file the home keeps.
    fn keep_checked(&self, group: &Group) -> Result<()> {
        let gfp = group.fingerprint().compact();
        let digest: [u8; 32] = sha2::Sha256::digest(group.text().as_bytes()).into();
        self.write_secret(&checked_rel(&gfp), CHECKED_PURPOSE, &gfp, &SecretBytes::new(digest.to_vec()))
    }

    /// The home's own copy of a group's file, checked as [`Home::group`] does, except that a file whose
    /// bytes hash to the digest sealed when this keyholder stored it (after checking it in full) is not
    /// checked signature by signature again ([`Group::parse_known`]); a file changed in any byte since, or
    /// one without a readable sealed digest (a home restored from a backup), is checked in full.
    pub fn group(&self, gfp: &str) -> Result<Group> {
        let path = self.home().path(&group_rel(gfp));
        let text = fsx::read_text(&path, crate::group::MAX_GROUP_BYTES)?;
        let known = self
            .read_secret(&checked_rel(gfp), CHECKED_PURPOSE, gfp)
            .ok()
            .flatten()
            .and_then(|d| <[u8; 32]>::try_from(d.expose()).ok())
            .map(crate::group::CheckedDigest::sealed);
        Group::parse_known(&text, known.as_ref()).map_err(|e| {
            Error::file(&path, format!("not a valid frostsign group file: {e}"))
                .with_help("use the group.pub written by `frostsign dkg step`, as published by the group")
        })
    }

    /// Replace the home's copy of a group file with `group`, which must be the same group (the same core:
    /// frostsign 0.1's copy gains the members' acceptances).
    pub fn replace_group_copy(&self, group: &Group) -> Result<()> {
        let gfp = group.fingerprint().compact();
        let current = self.home().group(&gfp)?;
        if current.core_text() != group.core_text() {
            return Err(Error::new("internal error: a different group file for the same group"));
        }
        fsx::atomic_write(&self.home().path(&group_rel(&gfp)), group.text().as_bytes(), fsx::PRIVATE_FILE)?;
        self.keep_checked(group)
    }

    /// Keep a copy of a group's public file in the home without a share (a keyholder whose share is
    /// being rebuilt, on a new machine): written once, never over an existing copy.
    pub fn keep_group_file(&self, group: &Group) -> Result<()> {
        let gfp = group.fingerprint().compact();
        fsx::ensure_private_dir(&self.home().path(GROUPS_DIR))?;
        fsx::atomic_create(&self.home().path(&group_rel(&gfp)), group.text().as_bytes(), fsx::PRIVATE_FILE)?;
        Ok(())
    }

    /// Destroy this keyholder's share of a group (durably; nothing if it is already gone). The home keeps
    /// the group's file, which without a share is no longer listed as a group it can sign for.
    ///
    /// Before: a newer share of the same key, made by a refresh every member accepted, is stored.
    pub fn retire_share(&self, gfp: &str) -> Result<()> {
        self.remove_secret(&share_rel(gfp))
    }

    /// This keyholder's FROST key package for a group, checked against the group's key.
    pub fn load_share(&self, group: &Group) -> Result<frost::keys::KeyPackage> {
        let gfp = group.fingerprint().compact();
        let bytes = self.read_secret(&share_rel(&gfp), SHARE_PURPOSE, &gfp)?.ok_or_else(|| {
            Error::new(format!(
                "your home holds no share of the group {} ({})",
                group.display_name(),
                group.fingerprint()
            ))
            .with_help("check --home; `frostsign group list` shows the groups this home holds a share of")
        })?;
        let kp = frost::keys::KeyPackage::deserialize(bytes.expose())
            .map_err(|_| Error::new("damaged key share in the home"))?;
        // The group's key from its header (which a checked file's package agrees with): a signer's step
        // needs nothing else of the public key package.
        if kp.verifying_key().serialize().ok().as_deref() != Some(&group.key()[..]) {
            return Err(Error::new("the key share in the home does not belong to this group"));
        }
        Ok(kp)
    }
}
