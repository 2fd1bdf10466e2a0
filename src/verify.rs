//! Verification of finished signatures. Needs no home and no secret: only a public key.
//!
//! Exit semantics (stable, for CI): a signature that does not verify, or was made by another key, is an
//! [`ExitKind::Invalid`] error (exit 1); unreadable or malformed input is a refusal (exit 2).

use crate::error::{Error, ExitKind, Result};
use crate::formats::minisign::{self, MinisignSignature};
use crate::group::Group;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Serialize;
use std::path::Path;

/// A public key to verify with.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    /// Ed25519 public key.
    pub key: [u8; 32],
    /// minisign key id.
    pub key_id: [u8; 8],
    /// The group file, when the key came from one.
    pub group: Option<Group>,
}

/// Largest signature file read.
const MAX_SIG_BYTES: u64 = 64 * 1024;

/// Load a key: a `group.pub`, a minisign public key file, or (if no such file exists) a minisign public key
/// line given directly.
pub fn load_key(spec: &str) -> Result<TrustedKey> {
    let path = Path::new(spec);
    let text = if path.exists() {
        crate::fsx::read_text(path, crate::group::MAX_GROUP_BYTES)?
    } else if minisign::parse_public_key(spec).is_some() {
        spec.to_string()
    } else {
        return Err(Error::io("read", path, std::io::Error::from(std::io::ErrorKind::NotFound)));
    };
    if text.starts_with("frostsign-group: ") {
        let group =
            Group::parse(&text).map_err(|e| Error::file(path, format!("not a valid frostsign group file: {e}")))?;
        return Ok(TrustedKey { key: *group.key(), key_id: minisign::key_id(group.key()), group: Some(group) });
    }
    let (key_id, key) = minisign::parse_public_key(&text).ok_or_else(|| {
        Error::file(path, "is neither a frostsign group.pub nor a minisign public key").with_help(
            "give the group's group.pub, or its minisign public key (`frostsign group show --key group.pub` prints it)",
        )
    })?;
    Ok(TrustedKey { key, key_id, group: None })
}

/// Check a minisign signature over a file whose BLAKE2b-512 is `blake2b`.
pub fn check_minisign(key: &[u8; 32], key_id: &[u8; 8], blake2b: &[u8; 64], sig: &MinisignSignature) -> Result<()> {
    if sig.key_id != *key_id {
        return Err(Error::invalid(format!(
            "the signature was made by another key (key id {}; this key is {})",
            minisign::key_id_display(&sig.key_id),
            minisign::key_id_display(key_id)
        )));
    }
    let vk = VerifyingKey::from_bytes(key).map_err(|_| Error::new("the public key is not a valid Ed25519 key"))?;
    if vk.verify_strict(blake2b, &Signature::from_bytes(&sig.signature)).is_err() {
        return Err(Error::invalid("signature verification failed: the file or its signature was altered"));
    }
    let global = minisign::global_message(&sig.signature, &sig.trusted_comment);
    if vk.verify_strict(&global, &Signature::from_bytes(&sig.global_signature)).is_err() {
        return Err(Error::invalid("the trusted comment's signature does not verify: the comment was altered"));
    }
    Ok(())
}

/// The outcome of verifying one file, for `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct Verified {
    /// True when both minisign signatures verify with the key.
    pub valid: bool,
    /// The key id as minisign shows it.
    pub key_id: String,
    /// The trusted comment (only when valid).
    pub trusted_comment: Option<String>,
    /// The artifact.
    pub file: String,
    /// Why it is not valid, if not.
    pub error: Option<String>,
}

/// Verify `artifact` against the minisign signature in `sig_path` (streaming, constant memory).
pub fn verify_minisign_file(key: &TrustedKey, artifact: &Path, sig_path: &Path) -> Result<String> {
    let text = crate::fsx::read_text(sig_path, MAX_SIG_BYTES)?;
    let sig = MinisignSignature::parse(&text).map_err(|e| {
        Error::file(sig_path, format!("not a valid minisign signature: {e}")).with_kind(ExitKind::Refused)
    })?;
    let digest = crate::digest::blake2b_file(artifact)?;
    check_minisign(&key.key, &key.key_id, &digest, &sig).map_err(|e| e.context(artifact.display()))?;
    Ok(sig.trusted_comment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn minisign_checks_both_signatures_and_key_id() {
        let sk = SigningKey::from_bytes(&[5u8; 32]);
        let pk = sk.verifying_key().to_bytes();
        let id = minisign::key_id(&pk);
        let digest = [9u8; 64];
        let sig1 = sk.sign(&digest).to_bytes();
        let tc = "timestamp:1\tfile:x".to_string();
        let g = sk.sign(&minisign::global_message(&sig1, &tc)).to_bytes();
        let sig = MinisignSignature { key_id: id, signature: sig1, trusted_comment: tc, global_signature: g };
        assert!(check_minisign(&pk, &id, &digest, &sig).is_ok());
        let mut bad = sig.clone();
        bad.trusted_comment.push('!');
        assert_eq!(check_minisign(&pk, &id, &digest, &bad).unwrap_err().kind(), ExitKind::Invalid);
        assert_eq!(check_minisign(&pk, &id, &[8u8; 64], &sig).unwrap_err().kind(), ExitKind::Invalid);
        assert_eq!(check_minisign(&pk, &[0; 8], &digest, &sig).unwrap_err().kind(), ExitKind::Invalid);
    }
}
