//! Every signature format `verify` reads: `verify_file` on the fuzzed file (the dispatch by content and
//! name), and each parser alone (minisign `.minisig`, SSHSIG, OpenPGP detached signatures, signify signed
//! manifests and their lookup) followed by its check against the example group's key.
#![no_main]
use frostsign::formats::{minisign::MinisignSignature, openpgp, signify, ssh};
use frostsign::verify::{check_manifest, check_minisign, check_openpgp, check_ssh, verify_file, TrustedKey};
use frostsign_fuzz::{example_group, text};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A private folder holding the artifact; the fuzzed signature is written beside it under several names.
fn dir() -> &'static PathBuf {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("frostsign-fuzz-verify-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("hello-frostsign.txt"), include_bytes!("../../keys-example/hello-frostsign.txt"))
            .unwrap();
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let g = example_group();
    let key = TrustedKey { key: *g.key(), key_id: Some(*g.minisign_key_id()), group: None };
    let artifact = dir().join("hello-frostsign.txt");
    for name in ["x.minisig", "x.asc", "x.sig"] {
        let sig = dir().join(name);
        std::fs::write(&sig, data).unwrap();
        let _ = verify_file(&key, &artifact, &sig);
        let _ = verify_file(&TrustedKey { key_id: None, ..key.clone() }, &artifact, &sig);
    }
    let Some(text) = text(data) else { return };
    if let Ok(s) = MinisignSignature::parse(text) {
        let _ = check_minisign(g.key(), &s.key_id, &[0; 64], &s);
    }
    if let Ok(s) = ssh::parse_signature(text) {
        let _ = check_ssh(g.key(), "file", &[0; 32], &s);
        let _ = ssh::signed_data_for(&s, &[0; 64]);
    }
    if let Ok(s) = openpgp::parse_signature(text) {
        let _ = check_openpgp(g.key(), &[0; 32], &s);
        let _ = s.trailer();
    }
    if let Ok(m) = signify::parse_signed_manifest(text) {
        let _ = check_manifest(g.key(), &m.key_id, &m);
        let _ = signify::lookup(&m.manifest, "hello-frostsign.txt");
    }
    let _ = (ssh::looks_like(text), openpgp::looks_like(text), signify::looks_like(text));
});
