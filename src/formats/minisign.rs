//! minisign: public key, prehashed ("ED") signatures and the trusted comment.
//!
//! Layouts (verified with minisign 0.11 and the minisign-verify crate, see docs/formats.md):
//! - public key: `untrusted comment: ...` / base64("Ed" || key_id[8] || pk[32])
//! - signature:  `untrusted comment: ...` / base64("ED" || key_id[8] || sig1[64]) /
//!   `trusted comment: TC` / base64(global_sig[64])
//!   where sig1 signs BLAKE2b-512(file) and global_sig signs sig1 || TC.

use crate::error::{Error, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Longest trusted comment minisign accepts (measured: minisign 0.11 reads up to 8173 bytes).
pub const MAX_TRUSTED_COMMENT: usize = 8000;

/// The 8-byte key id, derived deterministically from the group key (no secret key file holds a random one).
pub fn key_id(group_key: &[u8; 32]) -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(b"frostsign minisign key id v1\0");
    h.update(group_key);
    let digest: [u8; 32] = h.finalize().into();
    std::array::from_fn(|i| digest[i])
}

/// The key id as minisign displays it: the 8 bytes read as a little-endian u64, uppercase hex.
pub fn key_id_display(id: &[u8; 8]) -> String {
    format!("{:016X}", u64::from_le_bytes(*id))
}

/// The base64 line of a minisign public key.
pub fn public_key_line(group_key: &[u8; 32]) -> String {
    let mut raw = Vec::with_capacity(42);
    raw.extend_from_slice(b"Ed");
    raw.extend_from_slice(&key_id(group_key));
    raw.extend_from_slice(group_key);
    B64.encode(raw)
}

/// A complete minisign public key file (two lines).
pub fn public_key_file(group_key: &[u8; 32]) -> String {
    format!(
        "untrusted comment: minisign public key {}\n{}\n",
        key_id_display(&key_id(group_key)),
        public_key_line(group_key)
    )
}

/// Parse a minisign public key: either the bare base64 line or a file whose second line is it.
pub fn parse_public_key(text: &str) -> Option<([u8; 8], [u8; 32])> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))?;
    let raw = B64.decode(line).ok()?;
    if raw.len() != 42 || &raw[..2] != b"Ed" {
        return None;
    }
    Some((raw[2..10].try_into().ok()?, raw[10..].try_into().ok()?))
}

/// A parsed .minisig file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinisignSignature {
    /// Key id the signature claims.
    pub key_id: [u8; 8],
    /// The signature over BLAKE2b-512(file).
    pub signature: [u8; 64],
    /// The trusted comment (without the `trusted comment: ` prefix).
    pub trusted_comment: String,
    /// The global signature over signature || trusted comment.
    pub global_signature: [u8; 64],
}

/// The second message of a minisign signature: sig1 || trusted comment.
pub fn global_message(signature: &[u8; 64], trusted_comment: &str) -> Vec<u8> {
    let mut m = signature.to_vec();
    m.extend_from_slice(trusted_comment.as_bytes());
    m
}

/// Check a trusted comment can be written on one line and read back by minisign.
pub fn check_trusted_comment(tc: &str) -> Result<()> {
    if tc.len() > MAX_TRUSTED_COMMENT || tc.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Error::new(format!(
            "invalid trusted comment: at most {MAX_TRUSTED_COMMENT} bytes on one line, no control characters but tabs"
        )));
    }
    Ok(())
}

impl MinisignSignature {
    /// Encode as a .minisig file.
    pub fn encode(&self, untrusted_comment: &str) -> String {
        let mut raw = Vec::with_capacity(74);
        raw.extend_from_slice(b"ED");
        raw.extend_from_slice(&self.key_id);
        raw.extend_from_slice(&self.signature);
        format!(
            "untrusted comment: {untrusted_comment}\n{}\ntrusted comment: {}\n{}\n",
            B64.encode(raw),
            self.trusted_comment,
            B64.encode(self.global_signature)
        )
    }

    /// Parse a .minisig file (prehashed "ED" only; legacy whole-file "Ed" is refused).
    pub fn parse(text: &str) -> std::result::Result<MinisignSignature, String> {
        let mut lines = text.split('\n');
        let mut next =
            |what: &str| lines.next().map(|l| l.strip_suffix('\r').unwrap_or(l)).ok_or(format!("missing {what} line"));
        let uc = next("untrusted comment")?;
        if !uc.starts_with("untrusted comment:") {
            return Err("the first line is not `untrusted comment: ...`".into());
        }
        let sig_line = next("signature")?;
        let raw = B64.decode(sig_line.trim()).map_err(|_| "the signature line is not base64".to_string())?;
        if raw.len() != 74 {
            return Err("the signature line has the wrong length".into());
        }
        match &raw[..2] {
            b"ED" => {}
            b"Ed" => {
                return Err(
                    "legacy (non-prehashed) minisign signature; frostsign only makes and checks prehashed ones".into()
                )
            }
            _ => return Err("unknown signature algorithm".into()),
        }
        let tc_line = next("trusted comment")?;
        let trusted_comment = tc_line
            .strip_prefix("trusted comment: ")
            .ok_or("the third line is not `trusted comment: ...`")?
            .to_string();
        let gsig = B64
            .decode(next("global signature")?.trim())
            .map_err(|_| "the global signature is not base64".to_string())?;
        let rest: String = lines.collect::<Vec<_>>().join("\n");
        if !rest.trim().is_empty() {
            return Err("unexpected data after the global signature".into());
        }
        Ok(MinisignSignature {
            key_id: std::array::from_fn(|i| raw[2 + i]),
            signature: std::array::from_fn(|i| raw[10 + i]),
            trusted_comment,
            global_signature: gsig.try_into().map_err(|_| "the global signature has the wrong length".to_string())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_round_trip() {
        let pk = [7u8; 32];
        let file = public_key_file(&pk);
        assert_eq!(parse_public_key(&file), Some((key_id(&pk), pk)));
        assert_eq!(parse_public_key(&public_key_line(&pk)), Some((key_id(&pk), pk)));
        assert!(file.starts_with("untrusted comment: minisign public key "));
    }

    #[test]
    fn signature_round_trip() {
        let s = MinisignSignature {
            key_id: [1; 8],
            signature: [2; 64],
            trusted_comment: "timestamp:1\tfile:x".into(),
            global_signature: [3; 64],
        };
        let text = s.encode("signature from frostsign");
        assert_eq!(MinisignSignature::parse(&text).unwrap(), s);
        assert!(MinisignSignature::parse("garbage").is_err());
        assert!(MinisignSignature::parse(&format!("{text}junk\n")).is_err());
    }
}
