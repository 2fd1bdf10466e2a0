//! Backup files (`holder restore`): `backup::parse`, everything `restore` checks before it asks for the
//! passphrase (syntax, the card, the home key file, every group file, group and share counts); the home
//! key file alone (`HomeKeyFile::parse`); and sealed secret files (`vault::open_secret`, the `identity`,
//! `share` and `integrity` blocks of a backup) under a fixed home key, with the round trip
//! `seal_secret` -> `open_secret`.
#![no_main]
use frostsign::home::{backup, vault};
use frostsign::secret::SecretKey32;
use frostsign_fuzz::text;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let key = SecretKey32::new([5; 32]);
    if let Some((&purpose, payload)) = data.split_first() {
        let purpose = ["identity", "share", "backup"][purpose as usize % 3];
        let sealed = vault::seal_secret(&key, purpose, "id", payload).expect("seal");
        let opened = vault::open_secret(&key, purpose, "id", &sealed, Path::new("s")).expect("open what was sealed");
        assert_eq!(opened.expose(), payload);
        assert!(vault::open_secret(&key, purpose, "other", &sealed, Path::new("s")).is_err());
    }
    let Some(text) = text(data) else { return };
    let path = Path::new("backup.txt");
    if let Ok(c) = backup::parse(text, path) {
        let _ = (c.card.fingerprint(), c.groups.len(), c.key_file.cost);
    }
    let _ = vault::HomeKeyFile::parse(text, path);
    for purpose in ["identity", "share", "backup"] {
        let _ = vault::open_secret(&key, purpose, "id", text, path);
    }
});
