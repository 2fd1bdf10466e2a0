//! OpenSSH: `ssh-ed25519` public keys, allowed_signers lines and SSHSIG signatures (PROTOCOL.sshsig).
//!
//! The group signs the SSHSIG "signed data" blob, which it builds itself from the artifact's SHA-256:
//! "SSHSIG" || string(namespace) || string("") || string("sha256") || string(SHA-256(file)).
//! It starts with the 6 bytes "SSHSIG", so it can never be mistaken for another format's message.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

const MAGIC: &[u8] = b"SSHSIG";
const KEY_TYPE: &[u8] = b"ssh-ed25519";
/// The hash algorithm frostsign uses in SSHSIG (ssh-keygen accepts sha256 and sha512).
pub const HASH: &str = "sha256";
const BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";
const END: &str = "-----END SSH SIGNATURE-----";

fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

fn key_blob(pk: &[u8; 32]) -> Vec<u8> {
    let mut b = Vec::new();
    string(&mut b, KEY_TYPE);
    string(&mut b, pk);
    b
}

/// The bytes the group signs for `namespace` ("file" or "git") and a SHA-256 digest.
pub fn signed_data(namespace: &str, sha256: &[u8; 32]) -> Vec<u8> {
    let mut m = MAGIC.to_vec();
    string(&mut m, namespace.as_bytes());
    string(&mut m, b"");
    string(&mut m, HASH.as_bytes());
    string(&mut m, sha256);
    m
}

/// `ssh-ed25519 AAAA... comment`.
pub fn public_key_line(pk: &[u8; 32], comment: &str) -> String {
    format!("ssh-ed25519 {} {comment}", B64.encode(key_blob(pk)))
}

/// An allowed_signers line for `ssh-keygen -Y verify` and git (`gpg.ssh.allowedSignersFile`).
pub fn allowed_signers_line(principal: &str, pk: &[u8; 32]) -> String {
    format!("{principal} namespaces=\"file,git\" ssh-ed25519 {}", B64.encode(key_blob(pk)))
}

/// The armored SSHSIG file for a signature made by `pk` over [`signed_data`].
pub fn armored_signature(pk: &[u8; 32], namespace: &str, sig: &[u8; 64]) -> String {
    let mut blob = MAGIC.to_vec();
    blob.extend_from_slice(&1u32.to_be_bytes());
    string(&mut blob, &key_blob(pk));
    string(&mut blob, namespace.as_bytes());
    string(&mut blob, b"");
    string(&mut blob, HASH.as_bytes());
    let mut sig_blob = Vec::new();
    string(&mut sig_blob, KEY_TYPE);
    string(&mut sig_blob, sig);
    string(&mut blob, &sig_blob);
    let b64 = B64.encode(blob);
    let mut out = format!("{BEGIN}\n");
    for chunk in b64.as_bytes().chunks(70) {
        out.extend(chunk.iter().map(|&b| char::from(b)));
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// A parsed SSHSIG signature (Ed25519 only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshSignature {
    /// The signer's public key.
    pub public_key: [u8; 32],
    /// The namespace.
    pub namespace: String,
    /// "sha256" or "sha512".
    pub hash: String,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn string(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// Is this text an armored SSH signature?
pub fn looks_like(text: &str) -> bool {
    text.trim_start().starts_with(BEGIN)
}

/// Parse an armored SSHSIG file.
pub fn parse_signature(text: &str) -> Result<SshSignature, String> {
    let body =
        text.trim().strip_prefix(BEGIN).and_then(|t| t.strip_suffix(END)).ok_or("missing SSH SIGNATURE armor")?;
    let b64: String = body.split_whitespace().collect();
    let blob = B64.decode(b64).map_err(|_| "invalid base64 in the SSH signature".to_string())?;
    let mut r = Reader(&blob);
    let bad = || "malformed SSH signature".to_string();
    if r.take(6) != Some(MAGIC) || r.u32() != Some(1) {
        return Err("not an SSHSIG version 1 signature".into());
    }
    let mut key = Reader(r.string().ok_or_else(bad)?);
    if key.string() != Some(KEY_TYPE) {
        return Err("only ssh-ed25519 signatures are supported".into());
    }
    let public_key: [u8; 32] = key.string().and_then(|k| k.try_into().ok()).ok_or_else(bad)?;
    let namespace = String::from_utf8(r.string().ok_or_else(bad)?.to_vec()).map_err(|_| bad())?;
    let _reserved = r.string().ok_or_else(bad)?;
    let hash = String::from_utf8(r.string().ok_or_else(bad)?.to_vec()).map_err(|_| bad())?;
    let mut sig = Reader(r.string().ok_or_else(bad)?);
    if sig.string() != Some(KEY_TYPE) {
        return Err("only ssh-ed25519 signatures are supported".into());
    }
    let signature: [u8; 64] = sig.string().and_then(|s| s.try_into().ok()).ok_or_else(bad)?;
    if !r.0.is_empty() || !sig.0.is_empty() || !key.0.is_empty() {
        return Err("unexpected data in the SSH signature".into());
    }
    if hash != "sha256" && hash != "sha512" {
        return Err(format!("unsupported SSHSIG hash algorithm `{}`", crate::text::escape(&hash)));
    }
    Ok(SshSignature { public_key, namespace, hash, signature })
}

/// Parse an `ssh-ed25519 AAAA...` key, alone or at the end of an allowed_signers line.
pub fn parse_public_key(text: &str) -> Option<[u8; 32]> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let mut words = line.split_whitespace();
    let b64 = loop {
        if words.next()? == "ssh-ed25519" {
            break words.next()?;
        }
    };
    let blob = B64.decode(b64).ok()?;
    let mut r = Reader(&blob);
    if r.string()? != KEY_TYPE {
        return None;
    }
    let pk = r.string()?.try_into().ok()?;
    r.0.is_empty().then_some(pk)
}

/// The signed-data blob for a parsed signature and the file's digest under its hash algorithm.
pub fn signed_data_for(sig: &SshSignature, digest: &[u8]) -> Vec<u8> {
    let mut m = MAGIC.to_vec();
    string(&mut m, sig.namespace.as_bytes());
    string(&mut m, b"");
    string(&mut m, sig.hash.as_bytes());
    string(&mut m, digest);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let pk = [3u8; 32];
        let s = armored_signature(&pk, "file", &[4u8; 64]);
        let p = parse_signature(&s).unwrap();
        assert_eq!(
            (p.public_key, p.namespace.as_str(), p.hash.as_str(), p.signature),
            (pk, "file", "sha256", [4u8; 64])
        );
        assert_eq!(signed_data_for(&p, &[5u8; 32]), signed_data("file", &[5u8; 32]));
        assert_eq!(parse_public_key(&public_key_line(&pk, "x")), Some(pk));
        assert_eq!(parse_public_key(&allowed_signers_line("me@x", &pk)), Some(pk));
        assert!(s.lines().all(|l| l.len() <= 70 || l.starts_with("-----")));
    }
}
