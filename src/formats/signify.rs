//! signify: public keys and `-C` style signed checksum manifests.
//!
//! The group signs the manifest text itself, which frostsign builds from the SHA-256 digests the signer
//! computed: lines `SHA256 (NAME) = HEX`. It always starts with "SHA256 (", so it cannot be mistaken for
//! another format's message. Plain (whole-file) signify signatures are not offered: signing raw bytes would
//! let a 64-byte "artifact" double as a minisign message.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// A signify public key file; the key number is the group's minisign key id, so the same file works
/// for minisign too.
pub fn public_key_file(pk: &[u8; 32], key_id: &[u8; 8], comment: &str) -> String {
    let mut raw = b"Ed".to_vec();
    raw.extend_from_slice(key_id);
    raw.extend_from_slice(pk);
    format!("untrusted comment: {comment}\n{}\n", B64.encode(raw))
}

/// The manifest text for (name, SHA-256) pairs, in the given order.
pub fn manifest(entries: &[(&str, &[u8; 32])]) -> String {
    entries.iter().map(|(name, d)| format!("SHA256 ({name}) = {}\n", hex::encode(d))).collect()
}

/// The embedded-signature file (`signify -S -e` layout): comment, signature line, then the manifest.
pub fn signed_manifest(key_id: &[u8; 8], sig: &[u8; 64], comment: &str, manifest: &str) -> String {
    let mut raw = b"Ed".to_vec();
    raw.extend_from_slice(key_id);
    raw.extend_from_slice(sig);
    format!("untrusted comment: {comment}\n{}\n{manifest}", B64.encode(raw))
}

/// A parsed signed manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedManifest {
    /// Key number.
    pub key_id: [u8; 8],
    /// Signature over `manifest`.
    pub signature: [u8; 64],
    /// The manifest text.
    pub manifest: String,
}

/// Is this a signify signed manifest? (Second line a 74-byte "Ed" signature, then manifest lines.)
pub fn looks_like(text: &str) -> bool {
    parse_signed_manifest(text).is_ok()
}

/// Parse a signed manifest.
pub fn parse_signed_manifest(text: &str) -> Result<SignedManifest, String> {
    let (first, rest) = text.split_once('\n').ok_or("truncated signify file")?;
    if !first.starts_with("untrusted comment: ") {
        return Err("the first line is not `untrusted comment: ...`".into());
    }
    let (sig_line, manifest) = rest.split_once('\n').ok_or("truncated signify file")?;
    let raw = B64.decode(sig_line).map_err(|_| "the signature line is not base64".to_string())?;
    let raw: [u8; 74] = match <[u8; 74]>::try_from(raw) {
        Ok(raw) if raw[..2] == *b"Ed" => raw,
        _ => return Err("not a signify Ed25519 signature".into()),
    };
    if manifest.is_empty() || !manifest.starts_with("SHA256 (") {
        return Err("no SHA256 manifest follows the signature (frostsign only makes signed manifests)".into());
    }
    Ok(SignedManifest {
        key_id: std::array::from_fn(|i| raw[2 + i]),
        signature: std::array::from_fn(|i| raw[10 + i]),
        manifest: manifest.to_string(),
    })
}

/// Look up `name`'s SHA-256 in a manifest.
pub fn lookup(manifest: &str, name: &str) -> Option<[u8; 32]> {
    manifest.lines().find_map(|l| {
        let rest = l.strip_prefix("SHA256 (")?;
        let (n, h) = rest.rsplit_once(") = ")?;
        (n == name).then(|| crate::textdoc::parse_hex(h)).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip() {
        let m = manifest(&[("a.tar.gz", &[1u8; 32]), ("b (1).zip", &[2u8; 32])]);
        let text = signed_manifest(&[9u8; 8], &[7u8; 64], "x", &m);
        let p = parse_signed_manifest(&text).unwrap();
        assert_eq!(p.manifest, m);
        assert_eq!(lookup(&m, "b (1).zip"), Some([2u8; 32]));
        assert_eq!(lookup(&m, "c"), None);
        assert!(parse_signed_manifest("untrusted comment: x\nRWQ=\n").is_err());
    }
}
