//! Verification of finished signatures. Needs no home and no secret: only a public key.
//!
//! Exit semantics (stable, for CI): a signature that does not verify, or was made by another key, is an
//! [`ExitKind::Invalid`] error (exit 1); unreadable or malformed input is a refusal (exit 2).
//!
//! Key forms accepted: a frostsign `group.pub`, a minisign or signify public key (file or line), an
//! `ssh-ed25519` key or allowed_signers line, an armored OpenPGP public key. Signature formats are detected
//! from the signature file: minisign, SSHSIG (namespace `file`), OpenPGP detached, signify signed manifest.

use crate::error::{Error, ExitKind, Result};
use crate::formats::minisign::{self, MinisignSignature};
use crate::formats::openpgp::{self, PgpSignature};
use crate::formats::signify::{self, SignedManifest};
use crate::formats::ssh::{self, SshSignature};
use crate::group::rotation::{self, Rotation};
use crate::group::Group;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A public key to verify with.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    /// Ed25519 public key.
    pub key: [u8; 32],
    /// minisign / signify key id, when the key form carries one (group.pub, minisign, signify). An ssh
    /// or OpenPGP key has none: a minisign or signify signature's own key id is then not compared (it is
    /// only a hint; the signature decides), so a group that kept an imported minisign key id verifies too.
    pub key_id: Option<[u8; 8]>,
    /// The group file, when the key came from one.
    pub group: Option<Group>,
}

/// Largest signature file read.
const MAX_SIG_BYTES: u64 = 1024 * 1024;

fn key_from_text(text: &str) -> Option<(Option<[u8; 8]>, [u8; 32])> {
    if let Some((id, key)) = minisign::parse_public_key(text) {
        return Some((Some(id), key));
    }
    let pk = ssh::parse_public_key(text).or_else(|| openpgp::parse_public_key(text))?;
    Some((None, pk))
}

/// True if `value` reads as a public key rather than a file name: a key frostsign can parse, or the
/// beginning of one (a minisign or signify base64 line, an `ssh-ed25519` key, an armor header).
pub fn looks_like_key_text(value: &str) -> bool {
    let b64 = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
    key_from_text(value).is_some()
        || (value.starts_with("RW") && value.len() >= 40 && b64(value))
        || value.starts_with("ssh-ed25519 ")
        || value.contains(" ssh-ed25519 ")
        || value.starts_with("untrusted comment:")
        || value.contains("-----BEGIN")
}

/// Load a key from a file (`verify --key FILE`): group.pub or an exported key file.
///
/// A value that looks like a key itself is refused before the file system is touched: frostsign 0.1
/// read such a value as a key line, unless a file of that name existed, so a release archive that plants
/// a file named like the project's key line (its `/` become folders) could substitute its own key. A key
/// given as text goes through [`load_key_line`], which never opens a file.
pub fn load_key_file(path: &Path) -> Result<TrustedKey> {
    let spec = path.as_os_str().to_string_lossy();
    if looks_like_key_text(&spec) {
        return Err(Error::new("`--key` takes the path of a key file, but this value looks like a public key itself")
            .with_note("frostsign 0.1 also accepted a key line after --key; it is never read as a file name now")
            .with_help("give the key itself with `--key-line 'RW...'`, or the path of group.pub or an exported key file with --key"));
    }
    let text = crate::fsx::read_text(path, crate::group::MAX_GROUP_BYTES)?;
    key_from_file_text(&text, path)
}

/// Load a key given as text (`verify --key-line TEXT`): a minisign or signify public key line, an
/// `ssh-ed25519` key or an allowed_signers line. Never opens a file.
pub fn load_key_line(line: &str) -> Result<TrustedKey> {
    let parsed = if line.contains('\n') { None } else { key_from_text(line.trim()) };
    let (key_id, key) = parsed.ok_or_else(|| {
        Error::new("the value of `--key-line` is not a public key line frostsign knows")
            .with_help("give a minisign or signify public key line (`RW...`), an `ssh-ed25519 AAAA...` key or an allowed_signers line; for group.pub or a key file use --key FILE")
    })?;
    Ok(TrustedKey { key, key_id, group: None })
}

fn key_from_file_text(text: &str, path: &Path) -> Result<TrustedKey> {
    if text.starts_with("frostsign-group: ") {
        let group =
            Group::parse(text).map_err(|e| Error::file(path, format!("not a valid frostsign group file: {e}")))?;
        return Ok(TrustedKey { key: *group.key(), key_id: Some(*group.minisign_key_id()), group: Some(group) });
    }
    let (key_id, key) = key_from_text(text).ok_or_else(|| {
        Error::file(path, "is not a public key frostsign knows (group.pub, minisign, signify, ssh-ed25519, OpenPGP)")
            .with_help("give the group's group.pub, or a key made by `frostsign group export`")
    })?;
    Ok(TrustedKey { key, key_id, group: None })
}

fn ed25519_ok(key: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
    VerifyingKey::from_bytes(key).and_then(|vk| vk.verify_strict(message, &Signature::from_bytes(sig))).is_ok()
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
    if !ed25519_ok(key, blake2b, &sig.signature) {
        return Err(Error::invalid("signature verification failed: the file or its signature was altered"));
    }
    if !ed25519_ok(key, &minisign::global_message(&sig.signature, &sig.trusted_comment), &sig.global_signature) {
        return Err(Error::invalid("the trusted comment's signature does not verify: the comment was altered"));
    }
    Ok(())
}

/// Check an SSHSIG signature for `namespace` over a file with the given digest (under `sig.hash`).
pub fn check_ssh(key: &[u8; 32], namespace: &str, digest: &[u8], sig: &SshSignature) -> Result<()> {
    if sig.public_key != *key {
        return Err(Error::invalid("the SSH signature was made by another key"));
    }
    if sig.namespace != namespace {
        return Err(Error::invalid(format!(
            "the SSH signature is for the namespace `{}`, not `{namespace}`",
            crate::text::escape(&sig.namespace)
        )));
    }
    if !ed25519_ok(key, &ssh::signed_data_for(sig, digest), &sig.signature) {
        return Err(Error::invalid("signature verification failed: the file or its signature was altered"));
    }
    Ok(())
}

/// Check an OpenPGP binary-document signature whose hashed digest (SHA-256 of file || trailer) is `digest`.
pub fn check_openpgp(key: &[u8; 32], digest: &[u8; 32], sig: &PgpSignature) -> Result<()> {
    if sig.sig_type != 0 || sig.hash_algo != 8 {
        return Err(Error::new("only binary-document OpenPGP signatures with SHA-256 are supported"));
    }
    if sig.left16 != digest[..2] || !ed25519_ok(key, digest, &sig.signature) {
        return Err(Error::invalid(
            "signature verification failed: the file or its signature was altered, or another key made it",
        ));
    }
    Ok(())
}

/// Check a signify signed manifest's signature.
pub fn check_manifest(key: &[u8; 32], key_id: &[u8; 8], sm: &SignedManifest) -> Result<()> {
    if sm.key_id != *key_id {
        return Err(Error::invalid(format!(
            "the manifest was signed by another key (key number {}; this key is {})",
            minisign::key_id_display(&sm.key_id),
            minisign::key_id_display(key_id)
        )));
    }
    if !ed25519_ok(key, sm.manifest.as_bytes(), &sm.signature) {
        return Err(Error::invalid("the manifest's signature does not verify: the manifest was altered"));
    }
    Ok(())
}

/// The outcome of verifying one file, for `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct Verified {
    /// True when the signature verifies with the key.
    pub valid: bool,
    /// The signature format.
    pub format: Option<&'static str>,
    /// The key id as minisign shows it.
    pub key_id: String,
    /// The trusted comment (minisign only, when valid).
    pub trusted_comment: Option<String>,
    /// The artifact.
    pub file: String,
    /// The signature file.
    pub signature: Option<String>,
    /// Why it is not valid, if not.
    pub error: Option<String>,
    /// The rotations followed to reach the key that verified, oldest first, as `OLD-GROUP -> NEW-GROUP`
    /// (compact fingerprints; absent when none was followed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rotations: Vec<String>,
}

/// What a successful verification learned.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Format name.
    pub format: &'static str,
    /// minisign's trusted comment.
    pub trusted_comment: Option<String>,
    /// A human line about what was checked.
    pub detail: String,
    /// The key id the signature carries (minisign, signify), which it was checked under.
    pub key_id: Option<[u8; 8]>,
}

/// The signature file to use when none is given: the first of ARTIFACT.minisig, .sig, .asc that exists,
/// else SHA256.sig beside the artifact.
pub fn default_signature(artifact: &Path) -> Result<PathBuf> {
    let with = |ext: &str| {
        let mut s = artifact.as_os_str().to_owned();
        s.push(ext);
        PathBuf::from(s)
    };
    let candidates = [with(".minisig"), with(".sig"), with(".asc"), artifact.with_file_name("SHA256.sig")];
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        Error::new(format!("no signature found for `{}`", crate::text::path(artifact)))
            .with_note(format!(
                "looked for {}",
                candidates.iter().map(|p| crate::text::path(p).to_string()).collect::<Vec<_>>().join(", ")
            ))
            .with_help("give the signature file with --sig")
    })
}

/// Verify `artifact` against the signature in `sig_path`, detecting its format (streaming, constant memory).
pub fn verify_file(key: &TrustedKey, artifact: &Path, sig_path: &Path) -> Result<Outcome> {
    let text = crate::fsx::read_text(sig_path, MAX_SIG_BYTES)?;
    let malformed =
        |what: &str, e: String| Error::file(sig_path, format!("not a valid {what}: {e}")).with_kind(ExitKind::Refused);
    let ctx = |e: Error| e.context(crate::text::path(artifact));
    if ssh::looks_like(&text) {
        let sig = ssh::parse_signature(&text).map_err(|e| malformed("SSH signature", e))?;
        let digest = crate::digest::sha2_file(artifact, sig.hash == "sha512")?;
        check_ssh(&key.key, "file", &digest, &sig).map_err(ctx)?;
        return Ok(Outcome {
            format: "ssh",
            trusted_comment: None,
            detail: format!("SSH signature (namespace file, {})", crate::text::escape(&sig.hash)),
            key_id: None,
        });
    }
    if openpgp::looks_like(&text) {
        let sig = openpgp::parse_signature(&text).map_err(|e| malformed("OpenPGP signature", e))?;
        let digest = crate::digest::sha256_with_trailer(artifact, &sig.trailer())?;
        check_openpgp(&key.key, &digest, &sig).map_err(ctx)?;
        let detail = "OpenPGP signature (SHA-256)".into();
        return Ok(Outcome { format: "openpgp", trusted_comment: None, detail, key_id: None });
    }
    if text.starts_with("untrusted comment:") && text.lines().nth(2).is_some_and(|l| l.starts_with("trusted comment: "))
    {
        let sig = MinisignSignature::parse(&text).map_err(|e| malformed("minisign signature", e))?;
        let digest = crate::digest::blake2b_file(artifact)?;
        check_minisign(&key.key, key.key_id.as_ref().unwrap_or(&sig.key_id), &digest, &sig).map_err(ctx)?;
        return Ok(Outcome {
            format: "minisign",
            // Tabs separate minisign's fields and are shown as minisign shows them; the rest is escaped.
            detail: format!(
                "Trusted comment: {}",
                sig.trusted_comment.split('\t').map(crate::text::escape).collect::<Vec<_>>().join("\t")
            ),
            trusted_comment: Some(sig.trusted_comment),
            key_id: Some(sig.key_id),
        });
    }
    if signify::looks_like(&text) {
        let sm = signify::parse_signed_manifest(&text).map_err(|e| malformed("signify manifest", e))?;
        check_manifest(&key.key, key.key_id.as_ref().unwrap_or(&sm.key_id), &sm)
            .map_err(|e| e.context(crate::text::path(sig_path)))?;
        let name = artifact.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let listed = signify::lookup(&sm.manifest, &name).ok_or_else(|| {
            Error::invalid(format!(
                "`{}` is not listed in the signed manifest `{}`",
                crate::text::escape(&name),
                crate::text::path(sig_path)
            ))
        })?;
        let digest = crate::digest::sha2_file(artifact, false)?;
        if digest[..] != listed[..] {
            return Err(Error::invalid(format!(
                "{}: its SHA-256 differs from the signed manifest",
                crate::text::path(artifact)
            )));
        }
        return Ok(Outcome {
            format: "signify-manifest",
            trusted_comment: None,
            detail: format!("listed in the signed manifest as {}", hex::encode(listed)),
            key_id: Some(sm.key_id),
        });
    }
    // Not recognisable by content: let the file name say what it should have been.
    let name = sig_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if text.starts_with("untrusted comment:") || name.ends_with(".minisig") {
        let e = MinisignSignature::parse(&text).err().unwrap_or_else(|| "unrecognised layout".into());
        return Err(malformed("minisign signature", e));
    }
    if name.ends_with(".asc") {
        return Err(malformed("OpenPGP signature", openpgp::parse_signature(&text).err().unwrap_or_default()));
    }
    Err(Error::file(sig_path, "is not a signature frostsign knows (minisign, SSH, OpenPGP, signify manifest)"))
}

/// Follow a rotation: from the key the user trusts to the key its group rotated to, given the statement
/// `statement` and its two signatures beside it (`STATEMENT.old.minisig` by the trusted key,
/// `STATEMENT.new.minisig` by the new key; docs/formats.md, section 10). Returns the new key to verify
/// with, and the statement.
///
/// A statement that is not from the trusted key, or that lacks either valid signature, is refused as
/// invalid (exit 1): nothing but the trusted key and the two signatures decides.
pub fn follow_rotation(trusted: &TrustedKey, statement: &Path) -> Result<(TrustedKey, Rotation)> {
    let text = crate::fsx::read_text(statement, rotation::MAX_STATEMENT_BYTES)?;
    let r = Rotation::parse(&text).map_err(|e| {
        Error::invalid(format!("`{}` is not a valid rotation statement: {e}", crate::text::path(statement)))
    })?;
    if r.old.key != trusted.key {
        return Err(Error::invalid(format!(
            "the rotation statement `{}` hands over from another key ({}), not the key you trust",
            crate::text::path(statement),
            hex::encode(r.old.key)
        ))
        .with_help("give the rotation statements in order, starting from the key you trust"));
    }
    let digest = crate::digest::hash_bytes(text.as_bytes()).blake2b;
    for role in [rotation::Role::Old, rotation::Role::New] {
        let side = r.side(role);
        let name =
            role.signature_name(&statement.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        let path = statement.with_file_name(&name);
        let who = match role {
            rotation::Role::Old => "the old key (the group handing over)",
            rotation::Role::New => "the new key (the group taking over)",
        };
        if !path.is_file() {
            return Err(Error::invalid(format!(
                "the rotation statement has no signature by {who}: `{}` is missing",
                crate::text::path(&path)
            ))
            .with_help("a rotation counts only when both groups signed it; ask the group for both .minisig files"));
        }
        let sig_text = crate::fsx::read_text(&path, MAX_SIG_BYTES)?;
        let sig = MinisignSignature::parse(&sig_text)
            .map_err(|e| Error::invalid(format!("`{}` is not a minisign signature: {e}", crate::text::path(&path))))?;
        // Only a rotation session writes this trusted comment: a release signature of the same bytes (its
        // comment starts with `timestamp:`) is not a rotation signature.
        if sig.trusted_comment != rotation::trusted_comment(role, &side.group) {
            return Err(Error::invalid(format!(
                "`{}` is not a rotation signature (its trusted comment is not `{}`)",
                crate::text::path(&path),
                rotation::trusted_comment(role, &side.group).replace('\t', " ")
            ))
            .with_help(
                "a rotation counts only with the signatures of the two rotation sessions `group rotate` opened",
            ));
        }
        check_minisign(&side.key, &side.key_id, &digest, &sig).map_err(|e| {
            Error::invalid(format!("the rotation statement is not signed by {who}: {}", e.message()))
                .context(crate::text::path(&path))
        })?;
    }
    let key = TrustedKey { key: r.new.key, key_id: Some(r.new.key_id), group: None };
    Ok((key, r))
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
