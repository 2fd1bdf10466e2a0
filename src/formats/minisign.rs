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

/// The 8-byte key id of a group made by key generation, derived deterministically from the group key (no
/// secret key file holds a random one). A group that imported a minisign key keeps that key's id instead
/// (`Group::minisign_key_id`).
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
pub fn public_key_line(key_id: &[u8; 8], group_key: &[u8; 32]) -> String {
    let mut raw = Vec::with_capacity(42);
    raw.extend_from_slice(b"Ed");
    raw.extend_from_slice(key_id);
    raw.extend_from_slice(group_key);
    B64.encode(raw)
}

/// A complete minisign public key file (two lines).
pub fn public_key_file(key_id: &[u8; 8], group_key: &[u8; 32]) -> String {
    format!(
        "untrusted comment: minisign public key {}\n{}\n",
        key_id_display(key_id),
        public_key_line(key_id, group_key)
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

/// A stock minisign secret key file (`minisign -G`), decrypted: only for `dealer split --import-minisign`.
///
/// Layout (minisign 0.11, checked against files it made): `untrusted comment: ...` / base64 of
/// "Ed" || kdf ("Sc" for scrypt, or two zero bytes) || "B2" || salt[32] || opslimit (u64 LE) ||
/// memlimit (u64 LE) || keynum_sk[104], where keynum_sk = key_id[8] || seed[32] || pk[32] || checksum[32],
/// XORed with 104 bytes of scrypt(password, salt) when encrypted, and checksum = BLAKE2b-256("Ed" ||
/// key_id || seed || pk) (all zero in keys made unencrypted with `-W`).
pub struct MinisignSecretKey {
    /// The key id the project's minisign.pub carries.
    pub key_id: [u8; 8],
    /// The Ed25519 seed (RFC 8032 private key).
    pub seed: zeroize::Zeroizing<[u8; 32]>,
    /// The public key.
    pub public_key: [u8; 32],
}

/// Bytes of a decoded minisign secret key.
const SECRET_KEY_BYTES: usize = 158;
/// Offset of keynum_sk (key id, seed, public key, checksum) in it.
const KEYNUM_SK_AT: usize = 54;
/// Its length.
const KEYNUM_SK_BYTES: usize = 104;
/// The scrypt KDF tag.
const KDF_SCRYPT: [u8; 2] = *b"Sc";
/// The tag of an unencrypted key.
const KDF_NONE: [u8; 2] = [0, 0];
/// The checksum algorithm tag (BLAKE2b-256).
const CHECKSUM_BLAKE2B: [u8; 2] = *b"B2";
/// The most memory a key's scrypt parameters may ask for: what minisign itself uses (libsodium's
/// "sensitive" limit, 1 GiB). A file asking for more is refused rather than allowed to exhaust memory.
const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
/// The most scrypt work (N * p) a key's parameters may ask for: minisign's own (N = 2^20, p = 1). scrypt
/// also allocates p * 128 * r bytes at once, so without this bound a file with a tiny N and p = 2^27 asks
/// for 128 GiB (and a file with N = 2^20 and p = 2^15 for days of work) while passing the memory check.
const MAX_SCRYPT_WORK: u128 = 1 << 20;

/// Whether a minisign secret key file is encrypted (needs its password). Errors say what is wrong.
pub fn secret_key_is_encrypted(text: &str) -> std::result::Result<bool, String> {
    let raw = decode_secret_key(text)?;
    Ok(raw[2..4] == KDF_SCRYPT)
}

/// Decode and, when encrypted, decrypt a minisign secret key file with `password`; checks the checksum
/// and that the seed makes the public key the file carries.
pub fn parse_secret_key(text: &str, password: Option<&[u8]>) -> std::result::Result<MinisignSecretKey, String> {
    let raw = decode_secret_key(text)?;
    let mut keynum = zeroize::Zeroizing::new([0u8; KEYNUM_SK_BYTES]);
    keynum.copy_from_slice(&raw[KEYNUM_SK_AT..]);
    let kdf = [raw[2], raw[3]];
    if kdf == KDF_SCRYPT {
        let password = password.ok_or("the key is encrypted: its password is needed")?;
        let stream = scrypt_stream(password, &raw)?;
        keynum.iter_mut().zip(stream.iter()).for_each(|(k, s)| *k ^= s);
    } else if kdf != KDF_NONE {
        return Err("the key uses a key derivation minisign does not make (not scrypt, not unencrypted)".into());
    }
    let (key_id, rest) = keynum.split_at(8);
    let (seed_and_pk, checksum) = rest.split_at(64);
    let mut h = blake2::Blake2b::<blake2::digest::consts::U32>::new();
    blake2::Digest::update(&mut h, b"Ed");
    blake2::Digest::update(&mut h, key_id);
    blake2::Digest::update(&mut h, seed_and_pk);
    let expected: [u8; 32] = blake2::Digest::finalize(h).into();
    let unchecked = kdf == KDF_NONE && checksum.iter().all(|&b| b == 0);
    if checksum != expected && !unchecked {
        return Err(if kdf == KDF_SCRYPT {
            "wrong password (or the key file is damaged: its checksum does not match)".into()
        } else {
            "the key file is damaged: its checksum does not match".into()
        });
    }
    let seed = zeroize::Zeroizing::new(std::array::from_fn::<u8, 32, _>(|i| seed_and_pk[i]));
    let public_key: [u8; 32] = std::array::from_fn(|i| seed_and_pk[32 + i]);
    let derived = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    if derived.to_bytes() != public_key {
        return Err("the key file is damaged: its secret key does not make its public key".into());
    }
    Ok(MinisignSecretKey { key_id: std::array::from_fn(|i| key_id[i]), seed, public_key })
}

/// The decoded bytes of a secret key file, with its fixed tags checked.
fn decode_secret_key(text: &str) -> std::result::Result<zeroize::Zeroizing<Vec<u8>>, String> {
    let mut lines = text.lines();
    let comment = lines.next().unwrap_or_default();
    if !comment.starts_with("untrusted comment: ") {
        return Err("the first line is not `untrusted comment: ...`: not a minisign secret key file".into());
    }
    let line = lines.next().ok_or("truncated: the key line is missing")?;
    if lines.any(|l| !l.trim().is_empty()) {
        return Err("unexpected lines after the key line".into());
    }
    let raw = zeroize::Zeroizing::new(B64.decode(line.trim()).map_err(|_| "the key line is not base64".to_string())?);
    if raw.len() != SECRET_KEY_BYTES || raw[..2] != *b"Ed" || raw[4..6] != CHECKSUM_BLAKE2B {
        return Err("not a minisign Ed25519 secret key (wrong length or algorithm)".into());
    }
    Ok(raw)
}

/// 104 bytes of scrypt(password, salt) with the parameters libsodium derives from the key's opslimit and
/// memlimit (`crypto_pwhash_scryptsalsa208sha256`'s pickparams, which minisign uses).
fn scrypt_stream(
    password: &[u8],
    raw: &[u8],
) -> std::result::Result<zeroize::Zeroizing<[u8; KEYNUM_SK_BYTES]>, String> {
    let word = |at: usize| u64::from_le_bytes(std::array::from_fn(|i| raw[at + i]));
    let (salt, opslimit, memlimit) = (&raw[6..38], word(38), word(46));
    let (log_n, r, p) = scrypt_params(opslimit, memlimit);
    if (128 * u128::from(r)) << log_n > u128::from(MAX_SCRYPT_MEMORY) || p == 0 {
        return Err(format!(
            "the key's scrypt parameters ask for more than the {} MiB minisign uses",
            MAX_SCRYPT_MEMORY >> 20
        ));
    }
    if u128::from(p) << log_n > MAX_SCRYPT_WORK {
        return Err(format!(
            "the key's scrypt parameters ask for more work than minisign's own (N * p = 2^{log_n} * {p}, above 2^20)"
        ));
    }
    // The `len` argument only matters to the PHC string API; `scrypt()` fills `out` whatever its length.
    let params = scrypt::Params::new(log_n, r, p, scrypt::Params::RECOMMENDED_LEN)
        .map_err(|_| "the key's scrypt parameters are invalid".to_string())?;
    let mut out = zeroize::Zeroizing::new([0u8; KEYNUM_SK_BYTES]);
    scrypt::scrypt(password, salt, &params, out.as_mut()).map_err(|_| "scrypt failed".to_string())?;
    Ok(out)
}

/// libsodium's scrypt parameter choice for (opslimit, memlimit): (log2 N, r, p).
fn scrypt_params(opslimit: u64, memlimit: u64) -> (u8, u32, u32) {
    let opslimit = opslimit.max(32768);
    let r: u32 = 8;
    let smallest_log_n_above = |max_n: u64| (1u8..63).find(|&l| (1u64 << l) > max_n / 2).unwrap_or(63);
    if opslimit < memlimit / 32 {
        (smallest_log_n_above(opslimit / (u64::from(r) * 4)), r, 1)
    } else {
        let log_n = smallest_log_n_above(memlimit / (u64::from(r) * 128));
        let max_rp = ((opslimit / 4) >> log_n).min(0x3fff_ffff);
        (log_n, r, (max_rp / u64::from(r)) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_round_trip() {
        let pk = [7u8; 32];
        let file = public_key_file(&key_id(&pk), &pk);
        assert_eq!(parse_public_key(&file), Some((key_id(&pk), pk)));
        assert_eq!(parse_public_key(&public_key_line(&[3; 8], &pk)), Some(([3; 8], pk)));
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

    #[test]
    fn libsodium_scrypt_parameters_for_minisigns_limits() {
        // minisign's OPSLIMIT/MEMLIMIT_SENSITIVE: N = 2^20, r = 8, p = 1 (1 GiB).
        assert_eq!(scrypt_params(33_554_432, 1_073_741_824), (20, 8, 1));
        // The interactive limits: N = 2^14.
        assert_eq!(scrypt_params(524_288, 16_777_216), (14, 8, 1));
    }

    #[test]
    fn stock_minisign_secret_keys_decode_and_a_wrong_password_is_named() {
        let public = |t: &str| parse_public_key(t).unwrap();
        let plain = parse_secret_key(include_str!("../../tests/data/minisign/plain.key"), None).unwrap();
        assert_eq!((plain.key_id, plain.public_key), public(include_str!("../../tests/data/minisign/plain.pub")));
        let enc = include_str!("../../tests/data/minisign/enc.key");
        assert_eq!(
            (
                secret_key_is_encrypted(enc),
                secret_key_is_encrypted(include_str!("../../tests/data/minisign/plain.key"))
            ),
            (Ok(true), Ok(false))
        );
        let k = parse_secret_key(enc, Some(b"pw123")).unwrap();
        assert_eq!((k.key_id, k.public_key), public(include_str!("../../tests/data/minisign/enc.pub")));
        // The same key as plain.key, encrypted with the light parameters: right and wrong passwords.
        let light = include_str!("../../tests/data/minisign/light.key");
        assert_eq!(parse_secret_key(light, Some(b"light")).unwrap().public_key, plain.public_key);
        let wrong = parse_secret_key(light, Some(b"lighT")).err().unwrap();
        assert_eq!(wrong, "wrong password (or the key file is damaged: its checksum does not match)");
        assert_eq!(parse_secret_key(enc, None).err().unwrap(), "the key is encrypted: its password is needed");
    }

    #[test]
    fn a_damaged_or_foreign_secret_key_is_refused_with_its_reason() {
        let plain = include_str!("../../tests/data/minisign/plain.key");
        let line = plain.lines().nth(1).unwrap();
        let mut raw = B64.decode(line).unwrap();
        raw[KEYNUM_SK_AT + 8] ^= 1; // one bit of the seed
        let damaged = format!("untrusted comment: x\n{}\n", B64.encode(&raw));
        assert_eq!(
            parse_secret_key(&damaged, None).err().unwrap(),
            "the key file is damaged: its secret key does not make its public key"
        );
        for (text, why) in [
            ("", "the first line is not `untrusted comment: ...`: not a minisign secret key file"),
            ("untrusted comment: x\n", "truncated: the key line is missing"),
            ("untrusted comment: x\n!!\n", "the key line is not base64"),
            ("untrusted comment: x\nRWQ=\n", "not a minisign Ed25519 secret key (wrong length or algorithm)"),
        ] {
            assert_eq!(parse_secret_key(text, None).err().unwrap(), why, "{text:?}");
        }
        // Parameters asking for more memory than minisign uses are refused before any scrypt runs.
        let enc = include_str!("../../tests/data/minisign/enc.key");
        let mut raw = B64.decode(enc.lines().nth(1).unwrap()).unwrap();
        raw[46..54].copy_from_slice(&(1u64 << 40).to_le_bytes());
        raw[38..46].copy_from_slice(&(1u64 << 40).to_le_bytes());
        let greedy = format!("untrusted comment: x\n{}\n", B64.encode(&raw));
        assert!(parse_secret_key(&greedy, Some(b"pw123")).err().unwrap().contains("more than the 1024 MiB"));
    }

    #[test]
    fn parameters_asking_for_huge_p_are_refused_before_any_scrypt_runs() {
        // (opslimit, memlimit) -> libsodium's (log2 N, r, p): a tiny N passes the memory check on N alone,
        // but scrypt allocates p * 128 * r bytes up front (p = 2^27 - 1: 128 GiB), and N = 2^20 with p = 2^15
        // costs 2^15 times minisign's own work. Both must be refused without running scrypt.
        let cases = [((1u64 << 40, 0u64), (1u8, 8u32, 134_217_727u32)), ((1 << 40, 1 << 30), (20, 8, 32_768))];
        let enc = include_str!("../../tests/data/minisign/enc.key");
        for ((ops, mem), params) in cases {
            assert_eq!(scrypt_params(ops, mem), params);
            let mut raw = B64.decode(enc.lines().nth(1).unwrap()).unwrap();
            raw[38..46].copy_from_slice(&ops.to_le_bytes());
            raw[46..54].copy_from_slice(&mem.to_le_bytes());
            let greedy = format!("untrusted comment: x\n{}\n", B64.encode(&raw));
            let why = parse_secret_key(&greedy, Some(b"pw123")).err().unwrap();
            assert!(why.contains("more work than minisign's own"), "{params:?}: {why}");
        }
    }
}
