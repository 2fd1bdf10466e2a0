//! Every key form `verify` takes: `--key-line` text (`load_key_line`: minisign/signify lines, ssh-ed25519
//! keys, allowed_signers lines) and `--key FILE` (`load_key_file`: group.pub, minisign, signify, ssh,
//! OpenPGP armored keys), and each key parser alone.
#![no_main]
use frostsign::formats::{minisign, openpgp, ssh};
use frostsign::verify::{load_key_file, load_key_line, looks_like_key_text};
use frostsign_fuzz::text;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn file() -> &'static PathBuf {
    static F: OnceLock<PathBuf> = OnceLock::new();
    F.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("frostsign-fuzz-key-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join("key.pub")
    })
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(file(), data).unwrap();
    if let Ok(k) = load_key_file(file()) {
        if let Some(g) = &k.group {
            assert_eq!(g.key(), &k.key);
        }
    }
    let Some(text) = text(data) else { return };
    let _ = looks_like_key_text(text);
    if let Ok(k) = load_key_line(text) {
        assert!(looks_like_key_text(text.trim()), "a key line that loads reads as a key");
        assert!(k.group.is_none());
    }
    let _ = (minisign::parse_public_key(text), ssh::parse_public_key(text), openpgp::parse_public_key(text));
});
