//! Stock minisign secret key files (`dealer split --import-minisign`): `secret_key_is_encrypted` and
//! `parse_secret_key` without a password on any text, and with a password only when the file's scrypt
//! limits are small (opslimit <= 2^17, memlimit <= 4 MiB): the parser itself caps memory at minisign's
//! 1 GiB, which is a refusal test (tests/suite/dealer.rs), not something to run per fuzz input.
#![no_main]
use base64::Engine;
use frostsign::formats::minisign::{parse_secret_key, secret_key_is_encrypted};
use frostsign_fuzz::text;
use libfuzzer_sys::fuzz_target;

/// opslimit and memlimit of the key line, when it decodes to a minisign secret key's 158 bytes.
fn limits(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().nth(1)?;
    let raw = base64::engine::general_purpose::STANDARD.decode(line.trim()).ok()?;
    let word = |at: usize| u64::from_le_bytes(raw[at..at + 8].try_into().unwrap());
    (raw.len() == 158).then(|| (word(38), word(46)))
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let encrypted = secret_key_is_encrypted(text);
    let plain = parse_secret_key(text, None);
    if let Ok(k) = &plain {
        assert_eq!(encrypted, Ok(false));
        let derived = ed25519_dalek::SigningKey::from_bytes(&k.seed).verifying_key().to_bytes();
        assert_eq!(derived, k.public_key);
    }
    if encrypted == Ok(true) {
        assert!(plain.is_err(), "an encrypted key never opens without its password");
        if let Some((ops, mem)) = limits(text) {
            if ops <= 1 << 17 && mem <= 4 << 20 {
                for pw in [&b"light"[..], b"", b"pw123"] {
                    let _ = parse_secret_key(text, Some(pw));
                }
            }
        }
    }
});
