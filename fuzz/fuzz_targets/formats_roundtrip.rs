//! Round trip of every signature and key writer with its parser, for any field values: minisign
//! signatures and public keys, SSHSIG signatures, ssh public keys and allowed_signers lines, OpenPGP
//! signatures and public keys, signify public keys and signed manifests (and `lookup` of each entry).
//! Whatever a writer writes, its parser (and `verify --key-line`) reads back the same values.
#![no_main]
use frostsign::formats::{minisign, openpgp, signify, ssh};
use frostsign::verify::load_key_line;
use libfuzzer_sys::fuzz_target;

fn take<const N: usize>(data: &mut &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = data.len().min(N);
    out[..n].copy_from_slice(&data[..n]);
    *data = &data[n..];
    out
}

fuzz_target!(|data: &[u8]| {
    let mut d = data;
    let (pk, id, sig, sig2, digest) =
        (take::<32>(&mut d), take::<8>(&mut d), take::<64>(&mut d), take::<64>(&mut d), take::<32>(&mut d));
    let time = u32::from_be_bytes(take::<4>(&mut d));
    let rest = String::from_utf8_lossy(d);
    let mut parts = rest.split('\u{1}');
    let (s1, s2, s3) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));

    // minisign
    let file = minisign::public_key_file(&id, &pk);
    assert_eq!(minisign::parse_public_key(&file), Some((id, pk)));
    let line = minisign::public_key_line(&id, &pk);
    let k = load_key_line(&line).expect("a minisign key line loads");
    assert_eq!((k.key, k.key_id), (pk, Some(id)));
    if minisign::check_trusted_comment(s1).is_ok() && !s2.contains('\n') && !s2.contains('\r') {
        let m = minisign::MinisignSignature {
            key_id: id,
            signature: sig,
            trusted_comment: s1.into(),
            global_signature: sig2,
        };
        let text = m.encode(s2);
        if !s1.ends_with('\r') {
            assert_eq!(minisign::MinisignSignature::parse(&text), Ok(m));
        }
    }

    // SSH
    let armored = ssh::armored_signature(&pk, s1, &sig);
    let p = ssh::parse_signature(&armored).expect("an SSHSIG frostsign wrote parses");
    assert_eq!((p.public_key, p.namespace.as_str(), p.hash.as_str(), p.signature), (pk, s1, "sha256", sig));
    if !s2.contains('\n') {
        assert_eq!(ssh::parse_public_key(&ssh::public_key_line(&pk, s2)), Some(pk));
    }
    if !s2.is_empty() && !s2.chars().any(|c| c.is_whitespace() || c == '#') {
        let line = ssh::allowed_signers_line(s2, &pk);
        assert_eq!(ssh::parse_public_key(&line), Some(pk));
        assert_eq!(load_key_line(&line).expect("an allowed_signers line loads").key, pk);
    }

    // OpenPGP
    let key = openpgp::PgpKey { pk, created: time };
    let text = key.armored_signature(time, &digest, &sig);
    let p = openpgp::parse_signature(&text).expect("an OpenPGP signature frostsign wrote parses");
    assert_eq!(p.trailer(), key.file_trailer(time));
    assert_eq!(p.left16, [digest[0], digest[1]]);
    assert_eq!(p.signature, sig);
    assert_eq!(openpgp::parse_public_key(&key.armored_public_key(s1, time, &sig)), Some(pk));

    // signify
    let names: Vec<&str> = s3.split('\u{2}').collect();
    if !s2.contains('\n') && names.iter().all(|n| !n.contains('\n') && !n.contains('\r')) {
        assert_eq!(minisign::parse_public_key(&signify::public_key_file(&pk, &id, s2)), Some((id, pk)));
        let digests: Vec<[u8; 32]> = (0..names.len()).map(|i| [i as u8; 32]).collect();
        let entries: Vec<(&str, &[u8; 32])> = names.iter().copied().zip(digests.iter()).collect();
        let manifest = signify::manifest(&entries);
        let text = signify::signed_manifest(&id, &sig, s2, &manifest);
        let p = signify::parse_signed_manifest(&text).expect("a signed manifest frostsign wrote parses");
        assert_eq!((p.key_id, p.signature, p.manifest.as_str()), (id, sig, manifest.as_str()));
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) || n.contains(") = ") {
                continue;
            }
            assert_eq!(signify::lookup(&manifest, n), Some(digests[i]), "lookup of {n:?}");
        }
    }
});
