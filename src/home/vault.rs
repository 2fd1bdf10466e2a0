//! Encryption at rest for a keyholder's home.
//!
//! Standard constructions only:
//! - The passphrase is stretched with Argon2id (RFC 9106) and a random 32-byte salt into a key-encryption
//!   key, which wraps a random 32-byte *home key* with ChaCha20-Poly1305 (RFC 8439). The KDF cost is chosen
//!   when the home is created and recorded in the home key file.
//! - Every secret file in the home is encrypted with the home key, ChaCha20-Poly1305, a fresh random
//!   96-bit nonce, and the file's header (type, purpose, id) as associated data, so a secret file cannot be
//!   swapped for another one without detection.
//!
//! One KDF run per command, whatever the number of secret files it touches.

use crate::error::{Error, Result};
use crate::secret::{Passphrase, SecretBytes, SecretKey32};
use crate::textdoc::{DocWriter, Document, Need, Spec};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand_core::{OsRng, RngCore};
use std::path::Path;
use zeroize::Zeroizing;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub passes: u32,
    /// Degree of parallelism.
    pub lanes: u32,
}

impl KdfCost {
    /// The default: 256 MiB, 3 passes (about a second on a laptop core).
    pub const DEFAULT: KdfCost = KdfCost { memory_kib: 256 * 1024, passes: 3, lanes: 1 };
    /// INSECURE, for tests and demos only: the minimum Argon2id accepts.
    pub const INSECURE_FAST: KdfCost = KdfCost { memory_kib: 64, passes: 1, lanes: 1 };
    /// Below this memory cost a home is reported as insecure whenever it is used.
    pub const SECURE_FLOOR_KIB: u32 = 64 * 1024;
    /// Largest cost we agree to run (protects against a file that asks for absurd memory).
    pub const MAX_KIB: u32 = 4 * 1024 * 1024;

    /// True if this cost is below the secure floor.
    pub fn is_insecure(&self) -> bool {
        self.memory_kib < Self::SECURE_FLOOR_KIB
    }
}

/// How the home key file describes its own protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// A real passphrase, with the KDF cost recorded.
    Passphrase,
    /// `--insecure-no-passphrase`: the empty passphrase. For tests and demos only.
    InsecureNoPassphrase,
}

/// The parsed home key file (public parameters and the wrapped key).
#[derive(Clone, Debug)]
pub struct HomeKeyFile {
    /// KDF cost.
    pub cost: KdfCost,
    /// Passphrase or not.
    pub protection: Protection,
    salt: [u8; 32],
    nonce: [u8; 12],
    wrapped: Vec<u8>,
    aad: String,
}

const HOME_KEY_SCHEMA: &[Spec] = &[
    Spec::line("kdf", Need::Required),
    Spec::line("kdf-memory-kib", Need::Required),
    Spec::line("kdf-passes", Need::Required),
    Spec::line("kdf-lanes", Need::Required),
    Spec::line("kdf-salt", Need::Required),
    Spec::line("protection", Need::Required),
    Spec::line("cipher", Need::Required),
    Spec::line("nonce", Need::Required),
    Spec::block("wrapped-key", Need::Required),
];

const CIPHER: &str = "chacha20poly1305";

fn derive_kek(passphrase: &Passphrase, salt: &[u8; 32], cost: KdfCost) -> Result<SecretKey32> {
    let params = argon2::Params::new(cost.memory_kib, cost.passes, cost.lanes, Some(32))
        .map_err(|e| Error::new(format!("invalid KDF parameters: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.expose().as_bytes(), salt, &mut *out)
        .map_err(|e| Error::new(format!("key derivation failed: {e}")))?;
    Ok(SecretKey32::new(*out))
}

fn header_text(cost: KdfCost, protection: Protection, salt: &[u8; 32], nonce: &[u8; 12]) -> DocWriter {
    DocWriter::new("home-key", 1)
        .field("kdf", "argon2id")
        .field("kdf-memory-kib", cost.memory_kib)
        .field("kdf-passes", cost.passes)
        .field("kdf-lanes", cost.lanes)
        .field("kdf-salt", hex::encode(salt))
        .field(
            "protection",
            match protection {
                Protection::Passphrase => "passphrase",
                Protection::InsecureNoPassphrase => "insecure-no-passphrase",
            },
        )
        .field("cipher", CIPHER)
        .field("nonce", hex::encode(nonce))
}

/// Create a new home key file text, wrapping `home_key` under `passphrase`.
pub fn wrap_home_key(
    home_key: &SecretKey32,
    passphrase: &Passphrase,
    cost: KdfCost,
    protection: Protection,
) -> Result<String> {
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    let kek = derive_kek(passphrase, &salt, cost)?;
    let header = header_text(cost, protection, &salt, &nonce);
    let aad = header.as_str().to_string();
    let cipher = ChaCha20Poly1305::new(Key::from_slice(kek.expose()));
    let wrapped = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: home_key.expose(), aad: aad.as_bytes() })
        .map_err(|_| Error::new("encryption failed"))?;
    Ok(header.block("wrapped-key", &wrapped).finish()?)
}

impl HomeKeyFile {
    /// Parse a home key file.
    pub fn parse(text: &str, path: &Path) -> Result<HomeKeyFile> {
        let bad = |reason: String| {
            Error::file(path, format!("damaged home key file: {reason}")).with_help(
                "restore your home from its backup into a new folder: `frostsign --home NEW holder restore FILE`",
            )
        };
        let doc = Document::parse(text, "home-key", HOME_KEY_SCHEMA, false).map_err(|e| bad(e.to_string()))?;
        let num = |k: &str| -> Result<u32> { doc.number(k).map_err(|e| bad(e.to_string())) };
        if doc.get("kdf") != Some("argon2id") || doc.get("cipher") != Some(CIPHER) {
            return Err(bad("unknown kdf or cipher".into()));
        }
        let cost = KdfCost { memory_kib: num("kdf-memory-kib")?, passes: num("kdf-passes")?, lanes: num("kdf-lanes")? };
        if cost.memory_kib > KdfCost::MAX_KIB
            || cost.passes > 64
            || cost.lanes > 64
            || cost.passes == 0
            || cost.lanes == 0
        {
            return Err(bad("KDF cost outside the range this tool accepts".into()));
        }
        let protection = match doc.get("protection") {
            Some("passphrase") => Protection::Passphrase,
            Some("insecure-no-passphrase") => Protection::InsecureNoPassphrase,
            _ => return Err(bad("unknown protection".into())),
        };
        let salt = doc.hex::<32>("kdf-salt").map_err(|e| bad(e.to_string()))?;
        let nonce = doc.hex::<12>("nonce").map_err(|e| bad(e.to_string()))?;
        let wrapped = doc.block("wrapped-key").map_err(|e| bad(e.to_string()))?;
        let aad = text[..text.find("wrapped-key:\n").ok_or_else(|| bad("no wrapped key".into()))?].to_string();
        Ok(HomeKeyFile { cost, protection, salt, nonce, wrapped, aad })
    }

    /// Unwrap the home key with `passphrase`. A wrong passphrase gives a clear error.
    pub fn unwrap(&self, passphrase: &Passphrase, path: &Path) -> Result<SecretKey32> {
        let kek = derive_kek(passphrase, &self.salt, self.cost)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(kek.expose()));
        let key = cipher
            .decrypt(Nonce::from_slice(&self.nonce), Payload { msg: &self.wrapped, aad: self.aad.as_bytes() })
            .map_err(|_| {
                Error::new(format!("wrong passphrase for the home whose key file is `{}`", crate::text::path(path)))
                    .with_note("(or the key file was altered)")
                    .with_help("check --passphrase-file / FROSTSIGN_PASSPHRASE_FILE, or type the passphrase again")
            })?;
        let key = Zeroizing::new(key);
        SecretKey32::from_slice(&key).ok_or_else(|| Error::file(path, "damaged home key file: wrong key length"))
    }
}

const SECRET_SCHEMA: &[Spec] = &[
    Spec::line("purpose", Need::Required),
    Spec::line("id", Need::Required),
    Spec::line("cipher", Need::Required),
    Spec::line("nonce", Need::Required),
    Spec::block("data", Need::Required),
];

/// Encrypt a secret file body under the home key, bound to `purpose` and `id`.
pub fn seal_secret(home_key: &SecretKey32, purpose: &str, id: &str, plaintext: &[u8]) -> Result<String> {
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut nonce);
    let header = DocWriter::new("secret", 1)
        .field("purpose", purpose)
        .field("id", id)
        .field("cipher", CIPHER)
        .field("nonce", hex::encode(nonce));
    let cipher = ChaCha20Poly1305::new(Key::from_slice(home_key.expose()));
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: header.as_str().as_bytes() })
        .map_err(|_| Error::new("encryption failed"))?;
    Ok(header.block("data", &ct).finish()?)
}

/// Decrypt a secret file made by [`seal_secret`], checking it is the expected purpose and id.
pub fn open_secret(home_key: &SecretKey32, purpose: &str, id: &str, text: &str, path: &Path) -> Result<SecretBytes> {
    let damaged = |reason: String| {
        Error::file(path, format!("damaged secret file: {reason}")).with_help(
            "restore your home from its backup into a new folder (`frostsign --home NEW holder restore FILE`), \
             which never brings back ceremony state; never copy old files back into state/ (an old nonce file \
             could make you sign twice with one nonce): abandon that session instead",
        )
    };
    let doc = Document::parse(text, "secret", SECRET_SCHEMA, false).map_err(|e| damaged(e.to_string()))?;
    if doc.get("purpose") != Some(purpose) || doc.get("id") != Some(id) {
        return Err(damaged(format!(
            "it holds `{}` `{}`, expected `{purpose}` `{id}` (moved or swapped file?)",
            doc.get("purpose").unwrap_or(""),
            doc.get("id").unwrap_or("")
        )));
    }
    if doc.get("cipher") != Some(CIPHER) {
        return Err(damaged("unknown cipher".into()));
    }
    let nonce = doc.hex::<12>("nonce").map_err(|e| damaged(e.to_string()))?;
    let ct = doc.block("data").map_err(|e| damaged(e.to_string()))?;
    let aad = &text[..text.find("data:\n").ok_or_else(|| damaged("no data".into()))?];
    let cipher = ChaCha20Poly1305::new(Key::from_slice(home_key.expose()));
    let pt = cipher
        .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad: aad.as_bytes() })
        .map_err(|_| damaged("authentication failed: it was altered, or belongs to another home".into()))?;
    Ok(SecretBytes::new(pt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_and_unwrap() {
        let key = SecretKey32::random();
        let pass = Passphrase::new("pw".into());
        let text = wrap_home_key(&key, &pass, KdfCost::INSECURE_FAST, Protection::Passphrase).unwrap();
        let p = Path::new("home-key.txt");
        let f = HomeKeyFile::parse(&text, p).unwrap();
        assert_eq!(f.unwrap(&pass, p).unwrap().expose(), key.expose());
        let e = f.unwrap(&Passphrase::new("nope".into()), p).unwrap_err();
        assert!(e.to_string().contains("wrong passphrase"));
        // Lowering the recorded cost is detected (the header is authenticated).
        let edited = text.replace("kdf-passes: 1", "kdf-passes: 2");
        assert!(HomeKeyFile::parse(&edited, p).unwrap().unwrap(&pass, p).is_err());
    }

    #[test]
    fn secret_files_are_bound_to_purpose_and_id() {
        let key = SecretKey32::random();
        let text = seal_secret(&key, "share", "abc", b"top secret").unwrap();
        assert!(!text.contains("top secret"));
        let p = Path::new("x");
        assert_eq!(open_secret(&key, "share", "abc", &text, p).unwrap().expose(), b"top secret");
        assert!(open_secret(&key, "share", "abd", &text, p).is_err());
        assert!(open_secret(&SecretKey32::random(), "share", "abc", &text, p).is_err());
        let swapped = text.replace("id: abc", "id: abd");
        assert!(open_secret(&key, "share", "abd", &swapped, p).is_err());
    }
}
